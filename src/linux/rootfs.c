/* Mounts and pivot_root (config.md "Mounts", config-linux.md "Rootfs Mount Propagation"). */
#include "rootfs_internal.h"
#include "husk/fileio.h"
#include "husk/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

static int set_propagation(const char *target, unsigned long prop, struct husk_err *err)
{
    if (prop && mount(NULL, target, NULL, prop, NULL) < 0)
        return husk_err_set(err, errno, "set propagation of `%s`", target);
    return 0;
}

/* Flags the kernel locks on a mount made in a less privileged namespace: a read-only
 * remount must keep them or it fails with EPERM. */
static unsigned long locked_flags(const char *path)
{
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs(path, &sv) < 0)
        return 0;
    if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
    if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
    return f;
}

/* 1 for a directory, 0 for anything else, -1 (errno set) when it cannot be reached */
static int source_kind(const char *src, int tree)
{
    struct stat sb;
    if ((tree >= 0 ? fstat(tree, &sb) : stat(src, &sb)) < 0)
        return -1;
    return S_ISDIR(sb.st_mode);
}

const char *husk_bind_source(const struct husk_mount *m, const char *bundle, char *buf, size_t n)
{
    const char *type = m->type && *m->type && strcmp(m->type, "bind") ? m->type : NULL;
    const char *src = m->source ? m->source : (type ? type : "none");
    if (src[0] == '/')
        return src;
    snprintf(buf, n, "%s/%s", bundle, src);
    return buf;
}

static bool on_procfs_fd(int fd)
{
    struct statfs sf;
    return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

/* CVE-2019-16884: a mount (an image's "volume") whose destination is in /proc puts ordinary
 * files where husk later writes the process's LSM label, oomScoreAdj and sysctls, which then
 * land in them (CVE-2025-52881) and are never applied. Only procfs goes on /proc, and below
 * it only binds over the few files lxcfs emulates (runc 1.1's list) or binds of procfs itself.
 * `resolved` is the destination with the rootfs's symlinks expanded inside it (an image's
 * /data -> /proc/1 is /proc/1 here, before or after /proc is mounted); a target already on a
 * procfs mount (under a proc mounted elsewhere) counts as inside too. */
static int check_proc_mount(const struct husk_mount *m, const char *type, bool bind, const char *src, int tree,
                            const char *resolved, int tfd, struct husk_err *err)
{
    if (type && strcmp(type, "proc") == 0)
        return 0;
    bool at = strcmp(resolved, "/proc") == 0, below = strncmp(resolved, "/proc/", 6) == 0;
    if (!at && !below && !on_procfs_fd(tfd))
        return 0;
    struct statfs sf;
    if (bind && (tree >= 0 ? fstatfs(tree, &sf) : statfs(src, &sf)) == 0 && sf.f_type == PROC_SUPER_MAGIC)
        return 0;
    static const char *const lxcfs[] = {
        "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
        "/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
    };
    for (size_t i = 0; bind && below && i < sizeof lxcfs / sizeof *lxcfs; i++)
        if (strcmp(resolved, lxcfs[i]) == 0)
            return 0;
    if (at)
        return husk_err_set(err, 0, "mount `%s`: only procfs may be mounted on /proc (a %s there would stand in "
                                    "for the kernel's files)", m->destination, bind ? "bind" : type ? type : "mount");
    return husk_err_set(err, 0, "mount `%s`: its destination `%s` is inside /proc, where only procfs may be mounted "
                                "(and binds over the files lxcfs emulates)", m->destination, resolved);
}

/* proc and sysfs on a symlink could be pointed anywhere: refuse. The usual destination has
 * no symlink at all: that one open is both the check and the target (what
 * husk_resolve_in_root's first call would return), left in *tfd with `resolved` filled. */
static int kernel_fs_target(const struct husk_mount *m, int rootfd, int *tfd, char resolved[4096],
                            struct husk_err *err)
{
    struct stat sb;
    *tfd = husk_openat2_resolve(rootfd, m->destination, O_PATH | O_DIRECTORY);
    if (*tfd >= 0) {
        husk_clean_path(m->destination, resolved, 4096);
        return 0;
    }
    /* not there, not a directory, or not without a symlink: what is it? */
    AUTOCLOSE int l = husk_openat2_in_root(rootfd, m->destination, O_PATH | O_NOFOLLOW);
    if (l >= 0 && fstat(l, &sb) == 0 && !S_ISDIR(sb.st_mode))
        return husk_err_set(err, 0, "mount `%s`: destination is not a directory", m->destination);
    return 0;
}

/* A tmpfs keeps the mode of the directory it covers unless mode= is given, as runc and crun do
 * (engines mount tmpfs on image directories such as /tmp or /run and rely on it); on a
 * directory husk makes, the tmpfs default (1777) stays. */
static void tmpfs_keep_mode(const struct husk_mount *m, struct husk_mount_flags *f, int rootfd)
{
    if (strncmp(f->data, "mode=", 5) == 0 || strstr(f->data, ",mode="))
        return;
    AUTOCLOSE int pre = husk_openat2_in_root(rootfd, m->destination, O_PATH);
    struct stat sb;
    size_t used = strlen(f->data);
    if (pre >= 0 && fstat(pre, &sb) == 0 && S_ISDIR(sb.st_mode))
        snprintf(f->data + used, sizeof f->data - used, "%smode=%o", used ? "," : "",
                 (unsigned)(sb.st_mode & 07777));
}

/* A bind: the source's clone attached (tree), or bound by path; then the options that a
 * bind cannot take at once, by a remount of the new mount. */
static int mount_bind(const struct husk_mount *m, const struct husk_mount_flags *f, int tree, const char *src,
                      bool file, int tfd, int rootfd, struct husk_err *err)
{
    struct fdpath target = husk_fdpath(tfd);
    if (tree >= 0 && syscall(SYS_move_mount, tree, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return husk_err_set(err, errno, "mount `%s` on `%s`: attach its copy of `%s`", m->source, m->destination, src);
    if (tree < 0 && mount(src, target.s, NULL, MS_BIND | (f->rec ? MS_REC : 0), NULL) < 0)
        return husk_err_set(err, errno, "bind mount `%s` on `%s`", src, m->destination);
    unsigned long want = f->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (!want && !f->clear)
        return 0;
    /* The target fd still names the dir under the new mount; reopen it on top. */
    AUTOCLOSE int top = husk_mkpath_in_root(rootfd, m->destination, file, err);
    if (top < 0)
        return -1;
    target = husk_fdpath(top);
    unsigned long keep = locked_flags(target.s) & ~f->clear;
    if (mount(NULL, target.s, NULL, MS_BIND | MS_REMOUNT | want | keep, NULL) < 0)
        return husk_err_set(err, errno, "remount `%s` with its options", m->destination);
    return 0;
}

/* A new filesystem of `type` (tmpfs with tmpcopyup: the directory it covers copied in). */
static int mount_fs(const struct husk_mount *m, const struct husk_mount_flags *f, const char *type, const char *src,
                    int tfd, const struct husk_rootfs_opts *o, int rootfd, struct husk_err *err)
{
    struct fdpath target = husk_fdpath(tfd);
    unsigned long flags = f->flags & ~MS_REMOUNT;
    const char *data = f->data[0] ? f->data : NULL;
    AUTOCLOSE int under = -1;
    if (f->tmpcopyup) {
        if (!type || strcmp(type, "tmpfs"))
            return husk_err_set(err, 0, "mount `%s`: tmpcopyup applies to tmpfs only", m->destination);
        under = openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (under < 0)
            return husk_err_set(err, errno, "mount `%s`: open the directory to copy up", m->destination);
    }
    if (mount(src, target.s, type, flags, data) < 0) {
        int e = errno;
        if (e == EPERM && o->userns && type && !strcmp(type, "sysfs"))
            return husk_mount_sysfs_bind(rootfd, m->destination, flags, err);
        /* mqueue/devpts refuse some data options in nested namespaces; retry bare. */
        if (!(e == EINVAL && data && mount(src, target.s, type, flags, NULL) == 0))
            return husk_err_set(err, e, "mount `%s` (type %s) on `%s`", src, type ? type : "none", m->destination);
    }
    if (under < 0)
        return 0;
    AUTOCLOSE int top = husk_mkpath_in_root(rootfd, m->destination, false, err);
    AUTOCLOSE int topdir = top < 0 ? -1 : openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (topdir < 0 || husk_copy_tree(under, topdir, err) < 0)
        return husk_err_wrap(err, "mount `%s`", m->destination);
    return 0;
}

/* What applies to the mount once it is there: recursive attributes, then propagation. */
static int mount_finish(const struct husk_mount *m, const struct husk_mount_flags *f, bool file, int rootfd,
                        struct husk_err *err)
{
    if (f->rattr_set || f->rattr_clr) {
        AUTOCLOSE int top = husk_mkpath_in_root(rootfd, m->destination, file, err);
        if (top < 0 || husk_mount_rattrs(top, f, m->destination, err) < 0)
            return -1;
    }
    if (!f->propagation)
        return 0;
    AUTOCLOSE int top = husk_mkpath_in_root(rootfd, m->destination, file, err);
    if (top < 0)
        return -1;
    struct fdpath target = husk_fdpath(top);
    if (set_propagation(target.s, f->propagation, err) < 0)
        return husk_err_wrap(err, "mount `%s`", m->destination);
    return 0;
}

/* tree: the source as create cloned it (husk_mount_trees), attached instead of a bind by
 * path, or -1 */
static int do_mount(const struct husk_mount *m, int tree,
                    const struct husk_rootfs_opts *o, int rootfd, struct husk_err *err)
{
    struct husk_mount_flags f;
    if (husk_mount_flags_parse(&m->options, &f, err) < 0)
        return husk_err_wrap(err, "mount `%s`", m->destination);
    const char *type = m->type && *m->type ? m->type : NULL;
    if (type && strcmp(type, "bind") == 0) {
        f.bind = true;
        type = NULL;
    }
    /* binds only, on the heap: 8 KiB more of stack would push every call below onto pages
     * of their own (each a fault in the init) */
    const size_t srclen = 8192;
    AUTOFREE char *srcbuf = f.bind ? malloc(srclen) : NULL;
    if (f.bind && !srcbuf)
        return husk_err_set(err, ENOMEM, "mount `%s`", m->destination);
    const char *src = m->source ? m->source : (type ? type : "none");
    if (f.bind)
        src = husk_bind_source(m, o->bundle, srcbuf, srclen);
    int kind = f.bind ? source_kind(src, tree) : 1;
    if (f.bind && tree < 0 && kind < 0)
        return husk_err_set(err, errno, "mount `%s` on `%s`: source `%s`", m->source, m->destination, src);
    bool file = kind != 1;
    char resolved[4096];
    AUTOCLOSE int tfd = -1;
    if (type && (strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0) &&
        kernel_fs_target(m, rootfd, &tfd, resolved, err) < 0)
        return -1;
    if (type && strcmp(type, "tmpfs") == 0)
        tmpfs_keep_mode(m, &f, rootfd);
    if (tfd < 0 && (tfd = husk_resolve_in_root(rootfd, m->destination, file, resolved, err)) < 0)
        return husk_err_wrap(err, "mount `%s`", m->destination);
    if (check_proc_mount(m, type, f.bind, src, tree, resolved, tfd, err) < 0)
        return -1;
    if (type && strcmp(type, "cgroup") == 0)
        return husk_mount_cgroup(m, &f, tfd, o, rootfd, err);
    if (f.idmap && !f.bind)
        return husk_err_set(err, 0, "mount `%s`: idmap applies to bind mounts only", m->destination);
    if (f.bind && f.idmap && tree < 0)
        return husk_err_set(err, 0, "mount `%s`: idmapped mounts need a new mount namespace", m->destination);
    int rc = f.bind ? mount_bind(m, &f, tree, src, file, tfd, rootfd, err)
                    : mount_fs(m, &f, type, src, tfd, o, rootfd, err);
    if (rc < 0)
        return -1;
    return mount_finish(m, &f, file, rootfd, err);
}

/* linux.rootfsPropagation as MS_* flags, 0 when unset (validate.c checked the name). */
static unsigned long rootfs_propagation(const struct husk_config *c)
{
    const char *rp = c->linux_.rootfs_propagation;
    return rp && *rp ? husk_mount_propagation_lookup(rp) : 0;
}

/* What "/" of the new mount namespace (still the host's tree) is made before anything is
 * mounted. runc applies rootfsPropagation here, so "shared", "slave" or "private" (not
 * recursive) leave the host's shared mounts peers of the host: a bind of one of them, made
 * rshared, carries mounts made in the container back to the host (Docker's and podman's
 * bind-propagation=rshared, for which Docker sends rootfsPropagation "shared"). Unbindable
 * concerns the container's rootfs (husk_rootfs_finalize): on the host's tree it would refuse
 * the rootfs bind and every bind mount, so the host side is made private instead. */
static unsigned long host_propagation(const struct husk_config *c)
{
    unsigned long p = rootfs_propagation(c);
    if (!p)
        return MS_SLAVE | MS_REC;   /* runtime-linux.md's default: host events flow in only */
    if (p & MS_UNBINDABLE)
        return MS_PRIVATE | (p & MS_REC);
    return p;
}

/* Whether host_propagation left mounts that still propagate to the host. */
static bool host_peers_left(unsigned long p)
{
    return p != (MS_SLAVE | MS_REC) && p != (MS_PRIVATE | MS_REC);
}

/* The mount holding the rootfs directory is made private (slave for a slave rootfs): a shared
 * parent would carry the rootfs bind to its peers, on the host, and pivot_root refuses a new
 * root whose parent is shared. mount(2) says EINVAL for a path that is not a mount point:
 * climb until one is. */
static int rootfs_parent_unshared(const char *rootfs, unsigned long p, struct husk_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", rootfs);
    unsigned long flag = p & MS_SLAVE ? MS_SLAVE : MS_PRIVATE;
    for (;;) {
        if (mount(NULL, path, NULL, flag, NULL) == 0)
            return 0;
        if (errno != EINVAL || strcmp(path, "/") == 0)
            return husk_err_set(err, errno, "make `%s`, the mount holding the rootfs, %s", path,
                                flag == MS_SLAVE ? "slave" : "private");
        char *slash = strrchr(path, '/');
        if (slash == path)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

int husk_rootfs_prepare(const struct husk_config *c, const struct husk_rootfs_opts *o, struct husk_err *err)
{
    unsigned long prop = host_propagation(c);
    if (mount(NULL, "/", NULL, prop, NULL) < 0)
        return husk_err_set(err, errno, "make `/` %s (rootfsPropagation)",
                            rootfs_propagation(c) ? c->linux_.rootfs_propagation : "rslave");
    if (host_peers_left(prop) && rootfs_parent_unshared(o->rootfs, prop, err) < 0)
        return -1;
    /* pivot_root needs the new root to be a mount point. */
    if (mount(o->rootfs, o->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return husk_err_set(err, errno, "bind mount rootfs `%s`", o->rootfs);
    AUTOCLOSE int rootfd = husk_open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return husk_err_set(err, errno, "open rootfs `%s`", o->rootfs);
    /* runtime-linux.md: the container gets its own /dev, never the bundle's directory. */
    bool have_dev = false;
    for (size_t i = 0; i < c->n_mounts; i++)
        have_dev |= strcmp(c->mounts[i].destination, "/dev") == 0;
    if (!have_dev) {
        static char *dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
        struct husk_mount dev = {.destination = "/dev", .type = "tmpfs", .source = "tmpfs",
                                 .options = {dev_opts, 4}};
        if (do_mount(&dev, -1, o, rootfd, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < c->n_mounts; i++)
        if (do_mount(&c->mounts[i], o->mount_trees ? o->mount_trees[i] : -1, o, rootfd, err) < 0)
            return -1;
    return husk_rootfs_devices(c, o, rootfd, err);
}

int husk_rootfs_pivot(const struct husk_config *c, const char *rootfs, bool no_pivot, struct husk_err *err)
{
    /* the /proc at hand is about to change */
    husk_procfs_close();
    if (chdir(rootfs) < 0)
        return husk_err_set(err, errno, "chdir to rootfs `%s`", rootfs);
    if (no_pivot) {
        if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
            return husk_err_set(err, errno, "move rootfs to `/`");
        if (chroot(".") < 0)
            return husk_err_set(err, errno, "chroot into rootfs");
        if (chdir("/") < 0)
            return husk_err_set(err, errno, "chdir to `/`");
        return 0;
    }
    /* pivot_root(".", ".") stacks the old root on the new one; detach it at once. By default
     * it is already rslave or rprivate (husk_rootfs_prepare), so nothing propagates to the
     * host. Otherwise its shared mounts would carry the detach to the host's peers: make it
     * rslave first, through an fd of it (after pivot_root "." names the new root, not the old
     * one stacked on it). */
    AUTOCLOSE int oldroot = -1;
    if (host_peers_left(host_propagation(c)) && (oldroot = husk_open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return husk_err_set(err, errno, "open the old root");
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return husk_err_set(err, errno, "pivot_root into `%s`", rootfs);
    if (oldroot >= 0 && (fchdir(oldroot) < 0 || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0))
        return husk_err_set(err, errno, "make the old root rslave");
    if (umount2(".", MNT_DETACH) < 0)
        return husk_err_set(err, errno, "detach old root");
    if (chdir("/") < 0)
        return husk_err_set(err, errno, "chdir to `/`");
    return 0;
}

static int write_sysctl(const char *key, const char *value, struct husk_err *err)
{
    char path[512];
    int n = snprintf(path, sizeof path, "sys/");
    for (const char *k = key; *k && n < (int)sizeof path - 1; k++)
        path[n++] = *k == '.' ? '/' : *k;
    path[n] = '\0';
    if (strstr(key, ".."))
        return husk_err_set(err, 0, "sysctl \"%s\": invalid name", key);
    int fd = husk_procfs_open(HUSK_PROC_ROOT, path, O_WRONLY, err);
    if (fd < 0)
        return husk_err_wrap(err, "sysctl \"%s\"", key);
    ssize_t w = write(fd, value, strlen(value));
    int e = errno;
    close(fd);
    if (w < 0)
        return husk_err_set(err, e, "sysctl \"%s\" = \"%s\"", key, value);
    return 0;
}

/* What masks files: husk's /dev/null, checked to be the null device. A name can be swapped
 * for a symlink to a file of the attacker's choice, which a bind would then expose (writable)
 * on every masked path (CVE-2025-31133); an fd that is char 1:3 cannot be anything else. */
static int open_devnull(struct husk_err *err)
{
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/dev/null", &how, sizeof how);
    if (fd < 0)
        return husk_err_set(err, errno, "open `/dev/null` to mask paths with");
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISCHR(sb.st_mode) || sb.st_rdev != makedev(1, 3)) {
        close(fd);
        return husk_err_set(err, 0, "`/dev/null` is not the null device (char 1:3): paths cannot be masked with it");
    }
    return fd;
}

static int mask_path(const char *p, int *devnull, struct husk_err *err)
{
    struct stat sb;
    if (lstat(p, &sb) < 0)
        return 0;   /* config-linux.md: only paths that exist are masked */
    if (S_ISDIR(sb.st_mode)) {
        if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k") < 0)
            return husk_err_set(err, errno, "mask `%s`", p);
        return 0;
    }
    if (*devnull < 0 && (*devnull = open_devnull(err)) < 0)
        return husk_err_wrap(err, "mask `%s`", p);
    /* a bind of the fd itself: a copy of its mount, attached on the path */
    AUTOCLOSE int tree = (int)syscall(SYS_open_tree, *devnull, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0)
        return husk_err_set(err, errno, "mask `%s`: clone `/dev/null`", p);
    /* ENOENT: the path went away since lstat, nothing left to mask */
    if (syscall(SYS_move_mount, tree, "", AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0 &&
        errno != ENOENT)
        return husk_err_set(err, errno, "mask `%s`", p);
    return 0;
}

/* The mount at p read-only, nothing else of it changed. mount_setattr sets just that flag
 * (one syscall); a remount must restate the flags the kernel locks (statvfs: two more), so
 * it is the fallback where mount_setattr is missing or filtered. */
static int remount_readonly(const char *p)
{
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (syscall(SYS_mount_setattr, AT_FDCWD, p, 0, &attr, sizeof attr) == 0)
        return 0;
    unsigned long keep = locked_flags(p);
    return mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL);
}

static int readonly_path(const char *p, struct husk_err *err)
{
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
        if (errno == ENOENT)
            return 0;
        return husk_err_set(err, errno, "make `%s` read-only", p);
    }
    if (remount_readonly(p) < 0)
        return husk_err_set(err, errno, "make `%s` read-only", p);
    return 0;
}

int husk_rootfs_finalize(const struct husk_config *c, struct husk_err *err)
{
    const struct husk_linux *l = &c->linux_;
    for (size_t i = 0; i < l->n_sysctl; i++)
        if (write_sysctl(l->sysctl[i].key, l->sysctl[i].value, err) < 0)
            return -1;
    for (size_t i = 0; i < l->readonly_paths.n; i++)
        if (readonly_path(l->readonly_paths.v[i], err) < 0)
            return -1;
    AUTOCLOSE int devnull = -1;
    for (size_t i = 0; i < l->masked_paths.n; i++)
        if (mask_path(l->masked_paths.v[i], &devnull, err) < 0)
            return -1;
    if (c->root_readonly && remount_readonly("/") < 0)
        return husk_err_set(err, errno, "make the root filesystem read-only");
    /* config-linux.md "Rootfs Mount Propagation": a shared rootfs is a new peer group, an
     * unbindable one cannot be bound. Private or slave it is already: the rootfs bind took
     * that from the mount holding it (husk_rootfs_prepare), as with runc. */
    unsigned long rp = rootfs_propagation(c);
    if ((rp & (MS_SHARED | MS_UNBINDABLE)) && set_propagation("/", rp, err) < 0)
        return husk_err_wrap(err, "rootfsPropagation \"%s\"", l->rootfs_propagation);
    return 0;
}
