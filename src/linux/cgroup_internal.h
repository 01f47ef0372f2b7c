#ifndef HUSK_CGROUP_INTERNAL_H
#define HUSK_CGROUP_INTERNAL_H

#include "husk/cgroup.h"

int husk_cg_write(const struct husk_cgroup_dir *d, const char *file, const char *value, struct husk_err *err);
/* A fresh v1 cpuset cgroup has empty cpus/mems: copy the parent's so tasks can join. */
void husk_cgroup_cpuset_inherit(const struct husk_cgroup_dir *d);

/* Loads and attaches the device filter program for the config's rules (cgroup v2). */
int husk_devfilter_attach(const char *cgroup_dir, const struct husk_config *c, struct husk_err *err);

#endif
