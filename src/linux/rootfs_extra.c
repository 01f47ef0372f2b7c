/* The mount features beyond mount(2): recursive attributes (mount_setattr), idmapped bind
 * mounts, and tmpfs copy-up. */
#include "rootfs_internal.h"
#include "husk/fileio.h"
#include "husk/procfs.h"

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
    if (husk_procfs_write(pid, file, buf, strlen(buf), err) < 0)
        return husk_err_wrap(err, "user namespace %s", file);
    return 0;
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
