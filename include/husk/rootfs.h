/* The container's filesystem: mounts, devices, pivot_root, masked and readonly paths
 * (config.md "Root", "Mounts"; config-linux.md "Devices", "Masked/Readonly Paths"). */
#ifndef HUSK_ROOTFS_H
#define HUSK_ROOTFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "husk/config.h"
#include "husk/err.h"

struct husk_rootfs_opts {
    const char *rootfs;     /* absolute, canonical */
    const char *bundle;     /* relative bind sources resolve against it */
    bool userns;            /* in a new user namespace: bind devices instead of mknod */
    bool cgroupns;          /* a new cgroup namespace */
    const char *cgroup2_dir; /* the container's cgroup2 directory (absolute), or NULL */
    const int *mount_trees; /* per mount: its source as create cloned it (husk_rootfs_trees), or -1 */
    const int *dev_trees;   /* per device (husk_rootfs_trees), or NULL */
};

/* What a container in a user namespace cannot reach or make as its own root, and idmapped
 * mounts, are prepared by `create` with the host's identity once the init exists: detached
 * mounts (open_tree), cloned by a helper inside the init's mount namespace and sent to the
 * init (SYNC_TREE), which attaches them (move_mount) on targets it resolves in its rootfs.
 * Slots (husk_rootfs_tree_slots, 0 when the container needs none: no cost for a plain run):
 * per mount, a clone of its bind source when the container has a user namespace (a source
 * below a directory only the host's root may enter still mounts, as with runc and crun) and of
 * every idmapped mount's, idmapped (MOUNT_ATTR_IDMAP needs a process privileged over the
 * filesystem: the host's root); then, with a user namespace, where mknod is not allowed, per
 * device (the default devices, then linux.devices), its node: the host's at that path when it
 * is that device (runc binds it too), else one made in a detached tmpfs of husk's own with the
 * configured mode and owner, so that the device exists in the container (config-linux.md
 * "Devices"). -1 in the slots that need nothing. */
size_t husk_rootfs_tree_slots(const struct husk_config *c);
int husk_rootfs_trees(const struct husk_config *c, const char *bundle, pid_t init, int *out, struct husk_err *err);

/* A user namespace holding these mappings (for MOUNT_ATTR_IDMAP). Made by `create` in the
 * host's pid namespace, where /proc/PID/uid_map of the helper is reachable. */
int husk_idmap_userns(const struct husk_idmaps *uids, const struct husk_idmaps *gids, struct husk_err *err);
/* Writes /proc/PID/uid_map or gid_map (`file`) from m; "user namespace FILE: ..." errors. */
int husk_write_idmap(pid_t pid, const char *file, const struct husk_idmaps *m, struct husk_err *err);

/* Before pivot_root: propagation, rootfs bind, every mount, /dev. */
int husk_rootfs_prepare(const struct husk_config *c, const struct husk_rootfs_opts *o, struct husk_err *err);
/* pivot_root into rootfs (or MS_MOVE + chroot when no_pivot); c for its rootfsPropagation. */
int husk_rootfs_pivot(const struct husk_config *c, const char *rootfs, bool no_pivot, struct husk_err *err);
/* After pivot_root: sysctl, masked/readonly paths, root.readonly, rootfsPropagation. */
int husk_rootfs_finalize(const struct husk_config *c, struct husk_err *err);

/* Mount options → flags. Exposed for unit tests. */
struct husk_mount_flags {
    unsigned long flags, clear;   /* MS_* to set, MS_* the options cleared explicitly */
    unsigned long propagation;    /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (+MS_REC) */
    bool bind, rec;
    bool idmap, ridmap;           /* idmapped bind mount (recursive with ridmap) */
    bool tmpcopyup;               /* tmpfs starts with the directory it covers */
    unsigned long long rattr_set, rattr_clr;   /* MOUNT_ATTR_* of rro, rnosuid, ... (AT_RECURSIVE) */
    char data[4096];              /* filesystem-specific options, comma separated */
};
int husk_mount_flags_parse(const struct husk_strv *options, struct husk_mount_flags *out, struct husk_err *err);
/* A propagation option ("rslave", ...) as MS_* flags (MS_REC for r*), 0 for any other name. */
unsigned long husk_mount_propagation_lookup(const char *name);
/* One mount(2) flag option ("nosuid", "rw", ...): its MS_* flag and whether it clears it. */
bool husk_mount_flag_lookup(const char *name, unsigned long *flag, bool *clears);
/* Every mount option husk understands (for `features`); returns the count. */
size_t husk_mount_option_names(const char **out, size_t max);

/* Opens `path` inside `rootfd`, never leaving it (RESOLVE_IN_ROOT), creating missing
 * directories (and the last component as a file when `file`). Returns an O_PATH fd. */
int husk_mkpath_in_root(int rootfd, const char *path, bool file, struct husk_err *err);
/* The same, and the path it reached with every symlink expanded, into `resolved`. */
int husk_resolve_in_root(int rootfd, const char *path, bool file, char resolved[4096], struct husk_err *err);
/* The directory `path` inside rootfd opened for reading (made if missing), as resolved by
 * husk_mkpath_in_root. */
int husk_opendir_in_root(int rootfd, const char *path, struct husk_err *err);

#endif
