/* Shared by the operations on an existing container: ops.c (start, delete), ops_control.c
 * (kill, pause, update), ops_query.c (state, list, ps, events). */
#ifndef HUSK_OPS_INTERNAL_H
#define HUSK_OPS_INTERNAL_H

#include <sys/types.h>

#include "husk/err.h"
#include "husk/state.h"

static inline void husk_ops_state_freep(struct husk_state *st)
{
    husk_state_free(st);
}
#define AUTOSTATE __attribute__((cleanup(husk_ops_state_freep)))

/* Opens, locks and loads a container. Returns the dirfd. */
int husk_ops_open(const char *root, const char *id, struct husk_state *st, struct husk_err *err);

/* Every process in the container's pid namespace, found through /proc: only for a namespace
 * of its own (a shared one holds the host's or other containers' processes). fn is called
 * with each; returns how many, or -1. */
int husk_ops_each_ns_pid(const struct husk_state *st, void (*fn)(pid_t, void *), void *ctx);

/* The reason a command that needs the container's cgroups has none: rootless husk runs a
 * container without them where it may not make any. Returns -1. */
int husk_ops_no_cgroup(struct husk_err *err, const char *what, const char *id);

#endif
