/* /dev inside the container (runtime-linux.md "Default Devices", "Dev symbolic links";
 * config-linux.md "Devices") and the cgroup filesystem mount. */
#include "rootfs_internal.h"
#include "husk/cgroup.h"
#include "husk/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/mount.h>
#include <unistd.h>

/* What every node is made with: the root, an open /dev for the usual /dev/NAME without a path
 * walk, and who we are (a node is ours when made; chown only to someone else). */
struct devctx {
    int rootfd, devdir;
    bool userns;
    uid_t euid;
    gid_t egid;
};

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* chmod of an O_PATH fd: fchmodat2 on it (Linux 6.6), else through its /proc/self/fd link, which
 * names that inode whatever happens to the path (before pivot_root: the host's /proc). */
static int fchmod_path_fd(int fd, mode_t mode)
{
    if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
        return -1;
    struct fdpath p = husk_fdpath(fd);
    return chmod(p.s, mode);
}

/* mknod's owner is ours: a chown only for someone else. husk_rootfs_devices runs with umask 0,
 * so only bits mknod ignores need a chmod. Both go through an fd of the node just made, checked
 * to be it: on a /dev shared with others (a bind of a host directory) the name can be swapped
 * for a symlink between mknod and chmod, which a chmod by name would follow to any file,
 * making it setuid (an fd never follows). */
static int own_and_mode(const struct devctx *x, int dfd, const char *name, mode_t type, dev_t dev, mode_t perm,
                        uid_t uid, gid_t gid, struct husk_err *err, const char *path)
{
    bool chown_it = uid != x->euid || gid != x->egid, chmod_it = perm & 07000;
    if (!chown_it && !chmod_it)
        return 0;
    AUTOCLOSE int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0)
        return husk_err_set(err, errno, "open the node `%s` just made", path);
    if ((sb.st_mode & S_IFMT) != type || (type != S_IFIFO && sb.st_rdev != dev))
        return husk_err_set(err, 0, "`%s` was replaced while husk made it", path);
    if (chown_it && fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
        return husk_err_set(err, errno, "set the owner of `%s`", path);
    if (chmod_it && fchmod_path_fd(fd, perm) < 0)
        return husk_err_set(err, errno, "set the mode of `%s`", path);
    return 0;
}

static int make_node(int dfd, const char *name, mode_t mode, dev_t dev)
{
    if (mknodat(dfd, name, mode, dev) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    /* replace what the image ships at that path */
    if (unlinkat(dfd, name, 0) < 0)
        return -1;
    return mknodat(dfd, name, mode, dev);
}

/* tree: the node as create prepared it (husk_device_trees), or -1 */
static int make_device(const struct devctx *x, const char *path, mode_t type, unsigned major, unsigned minor,
                       mode_t perm, uid_t uid, gid_t gid, int tree, struct husk_err *err)
{
    bool userns = x->userns;
    const char *rel = path;
    while (*rel == '/')
        rel++;
    /* Parent directories, resolved inside the root. */
    char parent[4096];
    snprintf(parent, sizeof parent, "/%s", rel);
    char *slash = strrchr(parent, '/');
    const char *name = slash + 1;
    char namebuf[256];
    snprintf(namebuf, sizeof namebuf, "%s", name);
    if (slash == parent)
        parent[1] = '\0';
    else
        *slash = '\0';
    AUTOCLOSE int own_dfd = -1;
    int dfd = x->devdir;
    if (strcmp(parent, "/dev") != 0) {
        AUTOCLOSE int pfd = husk_mkpath_in_root(x->rootfd, parent, false, err);
        if (pfd < 0)
            return -1;
        /* O_PATH fds cannot be used for mknodat; reopen the directory. */
        dfd = own_dfd = openat(pfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0)
            return husk_err_set(err, errno, "open parent of `%s`", path);
    }
    if (!userns && type != S_IFIFO) {
        if (make_node(dfd, namebuf, type | perm, makedev(major, minor)) < 0) {
            if (errno != EPERM)
                return husk_err_set(err, errno, "mknod `%s`", path);
            userns = true;   /* no CAP_MKNOD here: fall back to a bind mount */
        } else if (own_and_mode(x, dfd, namebuf, type, makedev(major, minor), perm, uid, gid, err, path) < 0) {
            return -1;
        }
    }
    if (type == S_IFIFO) {
        if (make_node(dfd, namebuf, S_IFIFO | perm, 0) < 0)
            return husk_err_set(err, errno, "mkfifo `%s`", path);
        return own_and_mode(x, dfd, namebuf, S_IFIFO, 0, perm, uid, gid, err, path);
    }
    if (userns) {
        unlinkat(dfd, namebuf, 0);
        /* exclusively: a FIFO planted meanwhile would block the open */
        int f = openat(dfd, namebuf, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (f < 0)
            return husk_err_set(err, errno, "create `%s`", path);
        close(f);
        char host[4096];
        snprintf(host, sizeof host, "/%s", rel);
        AUTOCLOSE int tfd = openat(dfd, namebuf, O_PATH | O_CLOEXEC | O_NOFOLLOW);
        struct fdpath t = husk_fdpath(tfd);
        if (tfd >= 0 && tree >= 0) {
            if (syscall(SYS_move_mount, tree, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return husk_err_set(err, errno, "attach device `%s`", path);
        } else if (tfd < 0 || mount(host, t.s, NULL, MS_BIND, NULL) < 0) {
            return husk_err_set(err, errno, "bind mount device `%s`", path);
        }
    }
    return 0;
}

static const struct { const char *path; unsigned major, minor; } default_devices[] = {
    {"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

#define N_DEFAULT (sizeof default_devices / sizeof *default_devices)

static bool configured(const struct husk_config *c, const char *path)
{
    for (size_t i = 0; i < c->linux_.n_devices; i++)
        if (strcmp(c->linux_.devices[i].path, path) == 0)
            return true;
    return false;
}

static int make_devices(const struct husk_config *c, const struct husk_rootfs_opts *o, int rootfd,
                        struct husk_err *err)
{
    AUTOCLOSE int dfd = husk_opendir_in_root(rootfd, "/dev", err);
    if (dfd < 0)
        return husk_err_wrap(err, "make the devices");
    const struct devctx x = {.rootfd = rootfd, .devdir = dfd, .userns = o->userns, .euid = geteuid(), .egid = getegid()};
    for (size_t i = 0; i < sizeof default_devices / sizeof *default_devices; i++) {
        if (configured(c, default_devices[i].path))
            continue;
        if (make_device(&x, default_devices[i].path, S_IFCHR, default_devices[i].major, default_devices[i].minor,
                        0666, 0, 0, o->dev_trees ? o->dev_trees[i] : -1, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < c->linux_.n_devices; i++) {
        const struct husk_device *d = &c->linux_.devices[i];
        mode_t type = d->type[0] == 'b' ? S_IFBLK : d->type[0] == 'p' ? S_IFIFO : S_IFCHR;
        mode_t perm = d->file_mode.set ? (mode_t)(d->file_mode.v & 07777) : 0666;
        if (make_device(&x, d->path, type, (unsigned)d->major, (unsigned)d->minor, perm,
                        d->uid.set ? (uid_t)d->uid.v : 0, d->gid.set ? (gid_t)d->gid.v : 0,
                        o->dev_trees ? o->dev_trees[N_DEFAULT + i] : -1, err) < 0)
            return -1;
    }
    static const char *const links[][2] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"},
    };
    for (size_t i = 0; i < sizeof links / sizeof *links; i++)
        if (symlinkat(links[i][0], dfd, links[i][1]) < 0 && errno != EEXIST)
            return husk_err_set(err, errno, "symlink /dev/%s", links[i][1]);
    /* Not in runtime-linux.md "Dev symbolic links": runc's addition, and only where the kernel
     * has /proc/kcore (CONFIG_PROC_KCORE), else it would dangle. Still the host's /proc here
     * (before pivot_root), as runc checks it. */
    if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dfd, "core") < 0 && errno != EEXIST)
        return husk_err_set(err, errno, "symlink /dev/core");
    struct stat sb;
    /* With a devpts instance, /dev/ptmx must be its ptmx (runtime-linux.md). */
    if (fstatat(dfd, "pts/ptmx", &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        /* an image's own /dev/ptmx is replaced; a fresh /dev has none (no unlink to fail) */
        int rc = symlinkat("pts/ptmx", dfd, "ptmx");
        if (rc < 0 && errno == EEXIST && unlinkat(dfd, "ptmx", 0) == 0)
            rc = symlinkat("pts/ptmx", dfd, "ptmx");
        if (rc < 0)
            return husk_err_set(err, errno, "symlink /dev/ptmx");
    }
    return 0;
}

size_t husk_device_tree_count(const struct husk_config *c)
{
    return N_DEFAULT + c->linux_.n_devices;
}

/* A container id as the host's, through the container's mappings; unmapped (or no mappings:
 * a joined user namespace) it stays as it is. */
static unsigned host_id(const struct husk_idmaps *m, unsigned id)
{
    for (size_t i = 0; i < m->n; i++)
        if (id >= m->v[i].container_id && id - m->v[i].container_id < m->v[i].size)
            return m->v[i].host_id + (id - m->v[i].container_id);
    return id;
}

/* A tmpfs of husk's own that is mounted nowhere: the nodes made in it work (its superblock is
 * the host's, not the container's, whose mounts never give devices), and nothing of the host
 * changes. */
static int detached_tmpfs(struct husk_err *err)
{
    AUTOCLOSE int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
        syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return husk_err_set(err, errno, "a tmpfs for the device nodes");
    int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    if (mnt < 0)
        return husk_err_set(err, errno, "a tmpfs for the device nodes");
    return mnt;
}

/* The host's node at `path` when it is the device (runc binds it too), else one made in our
 * tmpfs (*tmp, made on first use). */
static int device_tree(const struct husk_config *c, const char *path, mode_t type, dev_t dev, mode_t perm,
                       unsigned uid, unsigned gid, int *tmp, unsigned *seq, struct husk_err *err)
{
    struct stat sb;
    struct husk_err none;
    int tree = husk_clone_tree(AT_FDCWD, path, false, c, &none);
    if (tree >= 0 && fstat(tree, &sb) == 0 && (sb.st_mode & S_IFMT) == type && sb.st_rdev == dev)
        return tree;
    if (tree >= 0)
        close(tree);
    if (*tmp < 0 && (*tmp = detached_tmpfs(err)) < 0)
        return husk_err_wrap(err, "device `%s`", path);
    char name[16];
    snprintf(name, sizeof name, "%u", (*seq)++);
    /* nobody else reaches a tmpfs mounted nowhere: by name is safe here */
    if (mknodat(*tmp, name, type | perm, dev) < 0 || fchmodat(*tmp, name, perm, 0) < 0 ||
        fchownat(*tmp, name, host_id(&c->linux_.uid_mappings, uid), host_id(&c->linux_.gid_mappings, gid),
                 AT_SYMLINK_NOFOLLOW) < 0)
        return husk_err_set(err, errno, "device `%s`: make its node", path);
    /* EINVAL: a kernel that cannot clone from a detached mount (before ~6.15) */
    tree = husk_clone_tree(*tmp, name, false, c, err);
    return tree < 0 ? husk_err_wrap(err, "device `%s`, which the host lacks: its node", path) : tree;
}

int husk_device_trees(const struct husk_config *c, int *out, struct husk_err *err)
{
    size_t n = husk_device_tree_count(c);
    for (size_t i = 0; i < n; i++)
        out[i] = -1;
    AUTOCLOSE int tmp = -1;
    unsigned seq = 0;
    for (size_t i = 0; i < N_DEFAULT; i++) {
        if (configured(c, default_devices[i].path))
            continue;
        out[i] = device_tree(c, default_devices[i].path, S_IFCHR,
                             makedev(default_devices[i].major, default_devices[i].minor), 0666, 0, 0, &tmp, &seq, err);
        if (out[i] < 0)
            return -1;
    }
    for (size_t i = 0; i < c->linux_.n_devices; i++) {
        const struct husk_device *d = &c->linux_.devices[i];
        if (d->type[0] == 'p')
            continue;
        mode_t perm = d->file_mode.set ? (mode_t)(d->file_mode.v & 07777) : 0666;
        out[N_DEFAULT + i] = device_tree(c, d->path, d->type[0] == 'b' ? S_IFBLK : S_IFCHR,
                                         makedev((unsigned)d->major, (unsigned)d->minor), perm,
                                         d->uid.set ? (unsigned)d->uid.v : 0, d->gid.set ? (unsigned)d->gid.v : 0,
                                         &tmp, &seq, err);
        if (out[N_DEFAULT + i] < 0)
            return -1;
    }
    return 0;
}

int husk_rootfs_devices(const struct husk_config *c, const struct husk_rootfs_opts *o, int rootfd,
                        struct husk_err *err)
{
    /* modes exactly as configured, without a chmod per node */
    mode_t mask = umask(0);
    int rc = make_devices(c, o, rootfd, err);
    umask(mask);
    return rc;
}

/* cgroup mounts: on a v2 host the cgroup2 hierarchy itself; on v1/hybrid hosts a tmpfs
 * holding one mount per hierarchy, as runc and Docker present it. */

/* Whether the kernel takes option `opt` ("key" or "key=value") for a mount of the fs context
 * `fs` (fsopen). The context is never created, so nothing is applied: cgroup options are
 * the whole hierarchy's, which a container must not change on the host. 0, or the errno with
 * the kernel's reason in `why`. */
static int cgroup_opt_refused(int fs, const char *opt, char *why, size_t n)
{
    char key[256];
    snprintf(key, sizeof key, "%s", opt);
    char *value = strchr(key, '=');
    if (value)
        *value++ = '\0';
    if (syscall(SYS_fsconfig, fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0) == 0)
        return 0;
    int e = errno;
    /* the fs context's log: "e cgroup2: Unknown parameter 'x'" */
    ssize_t r = read(fs, why, n - 1);
    why[r > 2 ? r : 0] = '\0';
    if (r > 2) {
        memmove(why, why + 2, (size_t)r - 1);
        why[strcspn(why, "\n")] = '\0';
    }
    return e;
}

/* Filesystem options of a cgroup mount (config.md "Mounts": they are the filesystem's, not
 * the runtime's): each must be one the kernel takes for some hierarchy the mount shows, else
 * create fails, not drops it. The options cgroup2 takes go into `v2data` for a fresh cgroup2
 * mount (in a cgroup namespace the kernel checks them there but leaves the hierarchy's flags
 * alone); binds and v1 hierarchies, which exist already, cannot take any. */
static int cgroup_opts(const char *data, bool v1, bool v2, char *v2data, size_t n, const char *dest,
                       struct husk_err *err)
{
    v2data[0] = '\0';
    if (!data[0])
        return 0;
    AUTOCLOSE int fs1 = v1 ? (int)syscall(SYS_fsopen, "cgroup", FSOPEN_CLOEXEC) : -1;
    AUTOCLOSE int fs2 = v2 ? (int)syscall(SYS_fsopen, "cgroup2", FSOPEN_CLOEXEC) : -1;
    if ((v1 && fs1 < 0) || (v2 && fs2 < 0))
        return husk_err_set(err, errno, "mount `%s`: check its cgroup options", dest);
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", data);
    size_t used = 0;
    for (char *save = NULL, *o = strtok_r(buf, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        char why[256] = "";
        int e2 = v2 ? cgroup_opt_refused(fs2, o, why, sizeof why) : EINVAL;
        int e1 = v1 ? cgroup_opt_refused(fs1, o, why, sizeof why) : EINVAL;
        if (e1 && e2)
            return husk_err_set(err, e2 == EINVAL ? e1 : e2, "mount `%s`: cgroup option \"%s\"%s%s", dest, o,
                                why[0] ? ": " : "", why);
        if (!e2 && used + strlen(o) + 2 < n)
            used += (size_t)snprintf(v2data + used, n - used, "%s%s", used ? "," : "", o);
    }
    return 0;
}

/* One hierarchy at dest: a fresh mount inside a cgroup namespace, else a bind of the init's
 * own cgroup there (it is in its cgroups by now; `self` is its /proc/self/cgroup read now, not
 * a copy from before the move), so the container never sees its parents, their siblings or
 * the hierarchy's release_agent, as runc shows it on v1. */
static int mount_hierarchy(const struct husk_cgroup_mount *h, const char *dest, int dest_fd, unsigned long mf,
                           const char *v2data, const struct husk_rootfs_opts *o, const char *self, int rootfd,
                           struct husk_err *err)
{
    /* dest_fd: dest as the caller resolved it, or -1 */
    AUTOCLOSE int dfd = dest_fd < 0 ? husk_mkpath_in_root(rootfd, dest, false, err) : -1;
    if (dest_fd < 0 && dfd < 0)
        return -1;
    struct fdpath d = husk_fdpath(dest_fd < 0 ? dfd : dest_fd);
    char own[4096], src[8400];
    if (o->cgroupns) {
        if (mount("cgroup", d.s, h->v2 ? "cgroup2" : "cgroup", mf, h->v2 ? (v2data[0] ? v2data : NULL) : h->ctrls) == 0)
            return 0;
        /* EBUSY: this very cgroup2 is mounted right here already (/sys bound from the host with
         * rbind, as with the host's network namespace), and the kernel will not stack a
         * filesystem on its own root. Bind the container's cgroup instead: what the fresh
         * mount would have shown (runc's fallback). */
        /* Rootless, the same where the user namespace does not own the cgroup2 superblock;
         * without a cgroup of its own (none writable) the init is still in create's. */
        int e = errno;
        if (!(e == EBUSY && h->v2 && (o->cgroup2_dir || husk_cgroup_own("", own, sizeof own) == 0)))
            return husk_err_set(err, e, "mount cgroup `%s` on `%s`%s%s%s", h->v2 ? "cgroup2" : h->ctrls, dest,
                                h->v2 && v2data[0] ? " with options \"" : "", h->v2 ? v2data : "",
                                h->v2 && v2data[0] ? "\"" : "");
        if (o->cgroup2_dir)
            snprintf(src, sizeof src, "%s", o->cgroup2_dir);
        else
            snprintf(src, sizeof src, "%s%s", h->mountpoint, own);
    } else {
        /* never the root instead: an init not listed in a hierarchy is an error */
        if (husk_cgroup_lookup(self, h->v2 ? "" : h->ctrls, own, sizeof own) < 0)
            return husk_err_set(err, 0, "cgroup `%s`: the container's cgroup in it is not in /proc/self/cgroup",
                                h->mountpoint);
        snprintf(src, sizeof src, "%s%s", h->mountpoint, own);
    }
    if (mount(src, d.s, NULL, MS_BIND | MS_REC, NULL) < 0)
        return husk_err_set(err, errno, "bind cgroup `%s` on `%s`", src, dest);
    /* remount the new mount, not the directory under it */
    AUTOCLOSE int top = husk_mkpath_in_root(rootfd, dest, false, err);
    if (top < 0)
        return -1;
    struct fdpath tp = husk_fdpath(top);
    if (mount(NULL, tp.s, NULL, MS_BIND | MS_REMOUNT | mf, NULL) < 0)
        return husk_err_set(err, errno, "remount cgroup `%s` on `%s`", src, dest);
    return 0;
}

/* Everything but a fresh cgroup2 in a cgroup namespace: v1 and hybrid trees, binds of the
 * init's own cgroups, option checks (out of line: its 12 KiB of buffers stay off the init's
 * stack in the usual case, where every page first written is a copy-on-write fault). */
__attribute__((noinline)) static int mount_cgroup_tree(const struct husk_mount *m, const struct husk_mount_flags *f,
                                                       int target_fd, const struct husk_rootfs_opts *o, int rootfd,
                                                       const struct husk_cgroup_mount *hs, int n, struct husk_err *err)
{
    unsigned long flags = (f->flags & ~(MS_RDONLY | MS_REMOUNT | MS_BIND | MS_REC)) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    bool ro = f->flags & MS_RDONLY;
    unsigned long mf = flags | (ro ? MS_RDONLY : 0);
    const size_t self_len = 8192;
    AUTOFREE char *self = malloc(self_len);
    if (!self)
        return husk_err_set(err, ENOMEM, "mount `%s`", m->destination);
    self[0] = '\0';
    if (!o->cgroupns && husk_read_file("/proc/self/cgroup", self, self_len) < 0)
        return husk_err_set(err, errno, "read /proc/self/cgroup");
    bool pure_v2 = n == 1 && hs[0].v2 && strcmp(hs[0].mountpoint, "/sys/fs/cgroup") == 0;
    char v2data[4096];
    v2data[0] = '\0';
    if (pure_v2 && o->cgroupns)
        snprintf(v2data, sizeof v2data, "%s", f->data);   /* the mount itself is the kernel's check */
    else {
        bool v1 = false, v2 = false;
        for (int i = 0; i < n; i++)
            *(hs[i].v2 ? &v2 : &v1) = true;
        if (cgroup_opts(f->data, v1, v2, v2data, sizeof v2data, m->destination, err) < 0)
            return -1;
    }
    if (pure_v2)
        return mount_hierarchy(&hs[0], m->destination, target_fd, mf, v2data, o, self, rootfd, err);

    struct fdpath t = husk_fdpath(target_fd);
    if (mount("tmpfs", t.s, "tmpfs", flags, "mode=755") < 0)
        return husk_err_set(err, errno, "mount tmpfs for cgroups on `%s`", m->destination);
    for (int i = 0; i < n; i++) {
        const char *name = hs[i].mountpoint + strlen("/sys/fs/cgroup");
        if (name[0] != '/' || !name[1] || strchr(name + 1, '/'))
            continue;
        char dest[4200];
        snprintf(dest, sizeof dest, "%s%s", m->destination, name);
        if (mount_hierarchy(&hs[i], dest, -1, mf, v2data, o, self, rootfd, err) < 0)
            return -1;
    }
    if (ro) {
        /* target_fd names the directory under the tmpfs: reopen on top of it */
        AUTOCLOSE int top = husk_mkpath_in_root(rootfd, m->destination, false, err);
        if (top < 0)
            return -1;
        struct fdpath tp = husk_fdpath(top);
        if (mount(NULL, tp.s, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, NULL) < 0)
            return husk_err_set(err, errno, "make `%s` read-only", m->destination);
    }
    return 0;
}

int husk_mount_cgroup(const struct husk_mount *m, const struct husk_mount_flags *f, int target_fd,
                      const struct husk_rootfs_opts *o, int rootfd, struct husk_err *err)
{
    /* the 67 KiB table on the heap */
    int n;
    AUTOFREE struct husk_cgroup_mount *hs = husk_cgroup_mounts_alloc(&n, err);
    if (!hs)
        return -1;
    bool pure_v2 = n == 1 && hs[0].v2 && strcmp(hs[0].mountpoint, "/sys/fs/cgroup") == 0;
    if (pure_v2 && o->cgroupns) {
        /* the usual case: a fresh cgroup2, its options the kernel's to check; a refusal
         * (EBUSY where the host's /sys is bound) goes the long way, which tries it again */
        unsigned long mf = (f->flags & ~(MS_REMOUNT | MS_BIND | MS_REC)) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
        struct fdpath t = husk_fdpath(target_fd);
        if (mount("cgroup", t.s, "cgroup2", mf, f->data[0] ? f->data : NULL) == 0)
            return 0;
    }
    return mount_cgroup_tree(m, f, target_fd, o, rootfd, hs, n, err);
}
