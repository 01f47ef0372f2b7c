#ifndef HUSK_ROOTFS_INTERNAL_H
#define HUSK_ROOTFS_INTERNAL_H

#include "husk/cleanup.h"
#include "husk/rootfs.h"

/* "/proc/self/fd/N": mount(2) and friends reach an O_PATH fd through it. */
struct fdpath { char s[40]; };
struct fdpath husk_fdpath(int fd);

/* openat2 of path inside rootfd (RESOLVE_IN_ROOT), O_CLOEXEC added: _resolve refuses any
 * symlink on the way (a path that should have none left: one now means a race), _in_root
 * follows them, within the root. Raw results (-1 and errno). */
int husk_openat2_resolve(int rootfd, const char *path, int flags);
int husk_openat2_in_root(int rootfd, const char *path, int flags);
/* `path` without ".", ".." or repeated slashes, ".." stopping at "/" (as RESOLVE_IN_ROOT does) */
void husk_clean_path(const char *path, char *out, size_t n);

int husk_rootfs_devices(const struct husk_config *c, const struct husk_rootfs_opts *o, int rootfd,
                        struct husk_err *err);
int husk_mount_cgroup(const struct husk_mount *m, const struct husk_mount_flags *f, int target_fd,
                      const struct husk_rootfs_opts *o, int rootfd, struct husk_err *err);

int husk_mount_rattrs(int target_fd, const struct husk_mount_flags *f, const char *dest, struct husk_err *err);
/* A bind mount's source path: a relative one is the bundle's. */
const char *husk_bind_source(const struct husk_mount *m, const char *bundle, char *buf, size_t n);
/* A detached copy (open_tree) of path (recursive with `rec`), a slave of its mount as a bind
 * made in the container's rslave namespace would be (private with rootfsPropagation private). */
int husk_clone_tree(int dirfd, const char *path, bool rec, const struct husk_config *c, struct husk_err *err);
/* The device slots of husk_rootfs_trees (rootfs_dev.c). */
size_t husk_device_tree_count(const struct husk_config *c);
int husk_device_trees(const struct husk_config *c, int *out, struct husk_err *err);
int husk_copy_tree(int from, int to, struct husk_err *err);
/* sysfs where a new one may not be mounted (a user namespace that does not own the network
 * namespace): the host's /sys bound recursively, with flags (ro, nosuid, nodev, noexec) on
 * every mount of the tree. */
int husk_mount_sysfs_bind(int rootfd, const char *dest, unsigned long flags, struct husk_err *err);


#endif
