/* `exec`'s command line, made into what exec.c spawns (exec_opts.c). */
#ifndef HUSK_EXEC_INTERNAL_H
#define HUSK_EXEC_INTERNAL_H

#include "husk/cgroup.h"
#include "husk/config.h"
#include "husk/container.h"

/* The process: --process FILE, or the container's process with ARGS and the flags. */
int husk_exec_build_process(const struct husk_exec_opts *o, const struct husk_config *cfg, struct husk_arena *a,
                            struct husk_process *p, struct husk_err *err);
/* `exec --cgroup [CTRL[,CTRL]:]SUB`: cg's directories moved to SUB where it applies. */
int husk_exec_sub_cgroups(const struct husk_exec_opts *o, struct husk_cgroup *cg, struct husk_err *err);

#endif
