/* The mount features beyond mount(2): recursive attributes (mount_setattr), idmapped bind
 * mounts, and tmpfs copy-up. */
#include "rootfs_internal.h"
#include "husk/fileio.h"
#include "husk/procfs.h"
#include "husk/cleanup.h"
#include "husk/rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int husk_mount_rattrs(int target_fd, const struct husk_mount_flags *f, const char *dest, struct husk_err *err)
{
    if (!f->rattr_set && !f->rattr_clr)
        return 0;
    struct mount_attr attr = {.attr_set = f->rattr_set, .attr_clr = f->rattr_clr};
    if (syscall(SYS_mount_setattr, target_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        return husk_err_set(err, errno, "set recursive mount attributes on `%s`", dest);
    return 0;
}

/* Rootless maps beyond our own id, through the setuid helper of the uidmap package (as podman
 * does): it checks them against /etc/subuid or /etc/subgid and writes them for us. */
static int write_idmap_helper(pid_t pid, const char *file, const struct husk_idmaps *m, struct husk_err *err)
{
    const char *helper = file[0] == 'u' ? "newuidmap" : "newgidmap";
    size_t argc = 2 + 3 * m->n + 1;
    AUTOFREE char **argv = calloc(argc, sizeof *argv);
    AUTOFREE char *nums = malloc(m->n * 3 * 12 + 12);
    if (!argv || !nums)
        return husk_err_set(err, ENOMEM, "user namespace %s", file);
    char *p = nums;
    size_t k = 0;
    argv[k++] = (char *)helper;
    argv[k++] = p;
    p += sprintf(p, "%d", pid) + 1;
    for (size_t i = 0; i < m->n; i++) {
        unsigned v[3] = {m->v[i].container_id, m->v[i].host_id, m->v[i].size};
        for (int j = 0; j < 3; j++) {
            argv[k++] = p;
            p += sprintf(p, "%u", v[j]) + 1;
        }
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return husk_err_set(err, errno, "user namespace %s: pipe", file);
    pid_t c = fork();
    if (c == 0) {
        /* its complaints go to our error, not to the container's stdio */
        dup2(fds[1], STDERR_FILENO);
        dup2(fds[1], STDOUT_FILENO);
        execvp(helper, argv);
        dprintf(fds[1], "%s", strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    if (c < 0) {
        close(fds[0]);
        return husk_err_set(err, errno, "user namespace %s: fork %s", file, helper);
    }
    char out[512];
    ssize_t n, got = 0;
    while (got < (ssize_t)sizeof out - 1 && (n = read(fds[0], out + got, sizeof out - 1 - got)) > 0)
        got += n;
    close(fds[0]);
    out[got > 0 ? got : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    int status;
    while (waitpid(c, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return husk_err_set(err, 0, "user namespace %s: rootless, a map other than of one's own id needs %s "
                                    "(the uidmap package): %s", file, helper, out);
    return husk_err_set(err, 0, "user namespace %s: %s failed (are the ids in /etc/sub%cid?): %s", file, helper,
                        file[0], out);
}

int husk_write_idmap(pid_t pid, const char *file, const struct husk_idmaps *m, struct husk_err *err)
{
    char buf[4096];
    size_t off = 0;
    for (size_t i = 0; i < m->n; i++) {
        int n = snprintf(buf + off, sizeof buf - off, "%u %u %u\n", m->v[i].container_id, m->v[i].host_id,
                         m->v[i].size);
        if (n < 0 || (size_t)n >= sizeof buf - off)
            return husk_err_set(err, 0, "too many %s entries", file);
        off += n;
    }
    if (husk_procfs_write(pid, file, buf, strlen(buf), err) == 0)
        return 0;
    /* Without CAP_SETUID/CAP_SETGID over our own user namespace (user_namespaces(7)): one
     * line mapping our own id, and for gid_map setgroups denied first (else a process of the
     * container could drop a group that denies it access). Anything else takes the helper. */
    if (err->code != EPERM || !husk_rootless())
        return husk_err_wrap(err, "user namespace %s", file);
    bool gid = file[0] == 'g';
    bool own = m->n == 1 && m->v[0].size == 1 && m->v[0].host_id == (gid ? getegid() : geteuid());
    if (own && gid) {
        husk_err_clear(err);
        if (husk_procfs_write(pid, "setgroups", "deny", 4, err) < 0 ||
            husk_procfs_write(pid, file, buf, strlen(buf), err) < 0)
            return husk_err_wrap(err, "user namespace %s", file);
        return 0;
    }
    husk_err_clear(err);
    return write_idmap_helper(pid, file, m, err);
}

/* A user namespace holding the mappings, for MOUNT_ATTR_IDMAP: a child parks in it while
 * we open /proc/CHILD/ns/user. */
int husk_idmap_userns(const struct husk_idmaps *uids, const struct husk_idmaps *gids, struct husk_err *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return husk_err_set(err, errno, "idmapped mount: pipe");
    struct clone_args ca = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
    pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0) {
        char c;
        close(p[1]);
        (void)!read(p[0], &c, 1);
        _exit(0);
    }
    close(p[0]);
    int fd = -1;
    if (pid < 0) {
        husk_err_set(err, errno, "idmapped mount: clone a user namespace");
    } else if (husk_write_idmap(pid, "uid_map", uids, err) < 0 || husk_write_idmap(pid, "gid_map", gids, err) < 0) {
        husk_err_wrap(err, "idmapped mount");
    } else {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
        if ((fd = husk_open(path, O_RDONLY | O_CLOEXEC)) < 0)
            husk_err_set(err, errno, "idmapped mount: open `%s`", path);
    }
    close(p[1]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return fd;
}

/* Copies the tree under `from` into `to` (both directory fds), keeping modes and owners. */
int husk_copy_tree(int from, int to, struct husk_err *err)
{
    int dup_from = dup(from);
    DIR *d = dup_from >= 0 ? fdopendir(dup_from) : NULL;
    if (!d) {
        if (dup_from >= 0)
            close(dup_from);
        return husk_err_set(err, errno, "tmpcopyup: read directory");
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, ".."))
            continue;
        struct stat sb;
        if (fstatat(from, n, &sb, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            if (mkdirat(to, n, sb.st_mode & 07777) < 0 && errno != EEXIST) {
                rc = husk_err_set(err, errno, "tmpcopyup: mkdir `%s`", n);
                break;
            }
            int s = openat(from, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int t = openat(to, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (s < 0 || t < 0)
                rc = husk_err_set(err, errno, "tmpcopyup: open `%s`", n);
            else
                rc = husk_copy_tree(s, t, err);
            if (s >= 0)
                close(s);
            if (t >= 0)
                close(t);
        } else if (S_ISLNK(sb.st_mode)) {
            char target[4096];
            ssize_t l = readlinkat(from, n, target, sizeof target - 1);
            if (l >= 0) {
                target[l] = '\0';
                if (symlinkat(target, to, n) < 0 && errno != EEXIST)
                    rc = husk_err_set(err, errno, "tmpcopyup: symlink `%s`", n);
            }
        } else if (S_ISREG(sb.st_mode)) {
            int s = openat(from, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            int t = openat(to, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, sb.st_mode & 07777);
            if (s < 0 || t < 0) {
                rc = husk_err_set(err, errno, "tmpcopyup: copy `%s`", n);
            } else {
                char buf[65536];
                ssize_t r;
                while ((r = read(s, buf, sizeof buf)) > 0)
                    if (write(t, buf, r) != r) {
                        rc = husk_err_set(err, errno, "tmpcopyup: write `%s`", n);
                        break;
                    }
            }
            if (s >= 0)
                close(s);
            if (t >= 0)
                close(t);
        } else if (mknodat(to, n, sb.st_mode, sb.st_rdev) < 0 && errno != EEXIST) {
            rc = husk_err_set(err, errno, "tmpcopyup: mknod `%s`", n);
        }
        if (rc == 0) {
            (void)!fchownat(to, n, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW);
            if (!S_ISLNK(sb.st_mode))
                (void)!fchmodat(to, n, sb.st_mode & 07777, 0);
        }
    }
    closedir(d);
    return rc;
}

int husk_mount_sysfs_bind(int rootfd, const char *dest, unsigned long flags, struct husk_err *err)
{
    AUTOCLOSE int tfd = husk_mkpath_in_root(rootfd, dest, false, err);
    if (tfd < 0)
        return -1;
    char target[64];
    snprintf(target, sizeof target, "/proc/self/fd/%d", tfd);
    if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) < 0)
        return husk_err_set(err, errno, "mount `%s`: sysfs cannot be mounted here (a user namespace without its "
                                        "own network namespace), and binding the host's /sys failed", dest);
    /* the flags on every mount of the tree, a submount being as writable as its parent;
     * setting (never clearing) keeps what the kernel locked */
    AUTOCLOSE int top = husk_mkpath_in_root(rootfd, dest, false, err);
    struct mount_attr attr = {.attr_set = (flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) |
                                          (flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
                                          (flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0) |
                                          (flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0)};
    if (top < 0)
        return -1;
    if (attr.attr_set && syscall(SYS_mount_setattr, top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        return husk_err_set(err, errno, "mount `%s`: set the options of the bound /sys", dest);
    return 0;
}
