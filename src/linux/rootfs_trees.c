/* Mount sources prepared with the host's identity (see husk_rootfs_trees in rootfs.h): a
 * helper that joins the init's mount namespace clones them there (open_tree), so that each
 * clone is a copy of the namespace's own mount, with the flags the kernel locked when that
 * namespace was made for the container's user namespace (a clone of the host's mount would
 * let the container's root remount away a read-only or nosuid it inherited). */
#include "rootfs_internal.h"
#include "husk/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int husk_clone_tree(int dirfd, const char *path, bool rec, const struct husk_config *c, struct husk_err *err)
{
    int tree = (int)syscall(SYS_open_tree, dirfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
    if (tree < 0)
        return husk_err_set(err, errno, "clone `%s`", path);
    /* As a bind made by the init once its root is rslave (or rprivate) would be: a slave of
     * its mount, never a peer through which the container's mounts reach the host. */
    const char *rp = c->linux_.rootfs_propagation;
    bool private = rp && (strcmp(rp, "private") == 0 || strcmp(rp, "rprivate") == 0);
    struct mount_attr attr = {.propagation = private ? MS_PRIVATE : MS_SLAVE};
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
        int e = errno;
        close(tree);
        return husk_err_set(err, e, "make the clone of `%s` a %s mount", path, private ? "private" : "slave");
    }
    return tree;
}

/* Clones mount m's source; with idmap, the clone gets its mapping. */
static int mount_tree(const struct husk_config *c, const struct husk_mount *m, const struct husk_mount_flags *f,
                      const char *bundle, struct husk_err *err)
{
    char buf[8192];
    const char *src = husk_bind_source(m, bundle, buf, sizeof buf);
    int tree = husk_clone_tree(AT_FDCWD, src, f->rec || f->ridmap, c, err);
    if (tree < 0)
        return husk_err_wrap(err, "mount `%s` on `%s`", m->source, m->destination);
    if (!f->idmap)
        return tree;
    const struct husk_idmaps *u = m->uid_mappings.n ? &m->uid_mappings : &c->linux_.uid_mappings;
    const struct husk_idmaps *g = m->gid_mappings.n ? &m->gid_mappings : &c->linux_.gid_mappings;
    int ns = -1;
    if (!u->n || !g->n)
        husk_err_set(err, 0, "mount `%s`: idmap needs uidMappings and gidMappings", m->destination);
    else
        ns = husk_idmap_userns(u, g, err);
    if (ns < 0) {
        close(tree);
        return -1;
    }
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)ns};
    int rc = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (f->ridmap ? AT_RECURSIVE : 0), &attr, sizeof attr);
    int e = errno;
    close(ns);
    if (rc < 0) {
        close(tree);
        return husk_err_set(err, e, "mount `%s`: idmap `%s` (does its filesystem support idmapped mounts?)",
                            m->destination, src);
    }
    return tree;
}

static bool has_userns(const struct husk_config *c)
{
    return husk_config_namespace(c, CLONE_NEWUSER) != NULL;
}

/* A bind whose source the init cannot be trusted to reach (user namespace) or idmap. */
static bool wants_tree(const struct husk_config *c, const struct husk_mount *m, bool *idmap)
{
    bool bind = m->type && strcmp(m->type, "bind") == 0;
    *idmap = false;
    for (size_t k = 0; k < m->options.n; k++) {
        const char *o = m->options.v[k];
        bind |= strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0;
        *idmap |= strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0;
    }
    /* idmap without a bind is refused by the init with its own message */
    return bind && (*idmap || has_userns(c));
}

/* CAP_SYS_ADMIN in our own user namespace: what open_tree, fsopen and setns into the init's
 * mount namespace ask of us. */
static bool may_clone(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2] = {{0}};
    return syscall(SYS_capget, &h, d) == 0 && (d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32)));
}

size_t husk_rootfs_tree_slots(const struct husk_config *c)
{
    /* Only into a mount namespace of the init's own, still the copy of ours: a joined one is
     * someone else's, where husk's identity must not resolve paths. */
    const struct husk_namespace *mnt = husk_config_namespace(c, CLONE_NEWNS);
    if (!mnt || mnt->path)
        return 0;
    bool userns = has_userns(c), any = userns, idmap;
    for (size_t i = 0; !any && i < c->n_mounts; i++)
        any = wants_tree(c, &c->mounts[i], &idmap);
    /* Rootless, husk's identity reaches no more than the container's and may not clone
     * mounts or join the init's namespace: the init binds by path as before. */
    return any && may_clone() ? c->n_mounts + (userns ? husk_device_tree_count(c) : 0) : 0;
}

struct tree_job {
    const struct husk_config *c;
    const char *bundle;
    int nsfd, *out, rc;
    struct husk_err *err;
};

/* The helper: shares husk's memory and fd table (the clones land in both), not its
 * filesystem context, which setns changes. */
static int tree_helper(void *arg)
{
    struct tree_job *j = arg;
    const struct husk_config *c = j->c;
    j->rc = -1;
    if (setns(j->nsfd, CLONE_NEWNS) < 0) {
        husk_err_set(j->err, errno, "join the container's mount namespace");
        _exit(1);
    }
    for (size_t i = 0; i < c->n_mounts; i++) {
        const struct husk_mount *m = &c->mounts[i];
        bool idmap;
        if (!wants_tree(c, m, &idmap))
            continue;
        struct husk_mount_flags f;
        if (husk_mount_flags_parse(&m->options, &f, j->err) < 0) {
            husk_err_wrap(j->err, "mount `%s`", m->destination);
            _exit(1);
        }
        if ((j->out[i] = mount_tree(c, m, &f, j->bundle, j->err)) < 0)
            _exit(1);
    }
    if (has_userns(c) && husk_device_trees(c, j->out + c->n_mounts, j->err) < 0)
        _exit(1);
    j->rc = 0;
    _exit(0);
}

int husk_rootfs_trees(const struct husk_config *c, const char *bundle, pid_t init, int *out, struct husk_err *err)
{
    size_t n = husk_rootfs_tree_slots(c);
    for (size_t i = 0; i < n; i++)
        out[i] = -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)init);
    struct tree_job j = {.c = c, .bundle = bundle, .out = out, .rc = -1, .err = err};
    if ((j.nsfd = husk_open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return husk_err_set(err, errno, "open `%s`", path);
    static char stack[128 * 1024] __attribute__((aligned(16)));
    pid_t pid = clone(tree_helper, stack + sizeof stack, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &j);
    int e = errno;
    close(j.nsfd);
    if (pid < 0)
        return husk_err_set(err, e, "clone the mount helper");
    waitpid(pid, NULL, 0);
    return j.rc;
}
