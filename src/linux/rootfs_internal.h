#ifndef HUSK_ROOTFS_INTERNAL_H
#define HUSK_ROOTFS_INTERNAL_H

#include "husk/cleanup.h"
#include "husk/rootfs.h"

/* "/proc/self/fd/N": mount(2) and friends reach an O_PATH fd through it. */
struct fdpath { char s[40]; };
struct fdpath husk_fdpath(int fd);

int husk_rootfs_devices(const struct husk_config *c, const struct husk_rootfs_opts *o, int rootfd,
                        struct husk_err *err);
int husk_mount_cgroup(const struct husk_mount *m, const struct husk_mount_flags *f, int target_fd,
                      const struct husk_rootfs_opts *o, int rootfd, struct husk_err *err);

int husk_mount_rattrs(int target_fd, const struct husk_mount_flags *f, const char *dest, struct husk_err *err);
int husk_mount_idmapped(const char *src, int target_fd, const struct husk_mount_flags *f, int userns_fd,
                        const char *dest, struct husk_err *err);
int husk_copy_tree(int from, int to, struct husk_err *err);


#endif
