#ifndef HUSK_CGROUP_INTERNAL_H
#define HUSK_CGROUP_INTERNAL_H

#include "husk/cgroup.h"
#include "husk/dbus.h"

/* systemd's manager on the bus (cgroup_systemd.c, cgroup_systemd_user.c) */
#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
/* runc waits as long for its unit's job */
#define JOB_TIMEOUT_MS 30000
/* Rootless (cgroup_systemd_user.c): a connection to the user's manager on the user bus, and
 * the manager's own cgroup, below which its units are ("" for the root). */
int husk_systemd_user_open(struct husk_dbus *c, struct husk_err *err);
int husk_systemd_user_base(char *out, size_t n, struct husk_err *err);

int husk_cg_write(const struct husk_cgroup_dir *d, const char *file, const char *value, struct husk_err *err);
/* A fresh v1 cpuset cgroup has empty cpus/mems: copy the parent's so tasks can join. */
void husk_cgroup_cpuset_inherit(const struct husk_cgroup_dir *d);

/* The rules every container gets after linux.resources.devices (so they win: the last match
 * decides), as runc adds them and engines' default containers rely on: mknod of any char or
 * block node (it still takes CAP_MKNOD, and using the node takes a rule of its own), the
 * runtime-linux.md "Default Devices", /dev/pts nodes, /dev/ptmx and /dev/net/tun. Not /dev/console
 * (5:1): the container's console is a pty, and runc leaves the host's console out too. */
struct husk_dev_implicit { char type; int major, minor; const char *access; };
static const struct husk_dev_implicit husk_dev_implicit_rules[] = {
    {'c', -1, -1, "m"},   {'b', -1, -1, "m"},
    {'c', 1, 3, "rwm"},   {'c', 1, 5, "rwm"},    {'c', 1, 7, "rwm"}, {'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"},
    {'c', 5, 0, "rwm"},   {'c', 5, 2, "rwm"},    {'c', 136, -1, "rwm"},
    {'c', 10, 200, "rwm"},
};

/* Loads and attaches the device filter program for the config's rules (cgroup v2). */
int husk_devfilter_attach(const char *cgroup_dir, const struct husk_config *c, struct husk_err *err);

#endif
