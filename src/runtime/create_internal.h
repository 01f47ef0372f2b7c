/* What `create`'s steps share (create.c: the lifecycle; create_spawn.c: the init's spawn and
 * what husk does to it from outside). */
#ifndef HUSK_CREATE_INTERNAL_H
#define HUSK_CREATE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "husk/cgroup.h"
#include "husk/config.h"
#include "husk/container.h"
#include "husk/state.h"
#include "init_internal.h"

/* One create, from the bundle to the committed init. create_release undoes what a failed
 * create acquired, and closes and frees what a successful one no longer needs. */
struct create_ctx {
    struct husk_create_opts o;  /* the caller's, with LISTEN_FDS' preserve_fds and the console */
    char bundle[PATH_MAX], cfgpath[PATH_MAX + 16], rootfs[PATH_MAX];
    struct husk_config *cfg;
    /* The state's and the cgroups' fixed-size buffers (~30 and ~68 KiB), on the heap: on the
     * stack they pushed every call below create onto pages of their own, each a page fault
     * (only what is written is touched). Two blocks, each small enough for the allocator to
     * keep when freed: the delete that ends `run` takes the same two sizes and gets them back
     * with their pages in (one block of both was mapped and unmapped afresh each time). */
    struct husk_state *st;
    struct husk_cgroup *cg;
    int dirfd;          /* the state directory, locked (flock) until create returns */
    int listen_fd;      /* start.sock (create without start), the init's copy until the clone */
    int console;        /* the connected --console-socket, the init's copy until the clone */
    int sv[2];          /* the sync pair: [0] ours, [1] the init's until the clone */
    int own_netns;      /* our network namespace, to come back to after `lo` up (or -1) */
    char *hook_state;   /* the state document the hooks see */
    int *trees;         /* husk_rootfs_trees' slots */
    size_t n_trees;
    pid_t pid;          /* the init's */
    bool own_child;     /* the init is our child (not the intermediate's): we reap it */
    bool in_v2;         /* the clone placed the init in the cgroup2 directory already */
    bool cg_made;       /* a failure removes the cgroups (or stops the systemd unit) */
    bool late_limits;   /* linux.resources written after the go (create_limits) */
    bool relay;         /* run's stdio pipes replace the init's */
    bool init_hooks;    /* createContainer/startContainer hooks: the init needs the state early */
    unsigned long flags;    /* the namespaces the clone creates */
    bool joins;             /* namespaces joined by path: the init is spawned via an intermediate */
    struct init_args a;
};

/* Hooks that run before the start and see the container as the init left it at the go
 * (prestart and createRuntime in husk, createContainer in the init): with them, what could
 * be done from outside while the init builds is done before, as runc orders it. */
static inline bool create_hooks_before_start(const struct husk_config *cfg)
{
    return cfg->hooks[HUSK_HOOK_PRESTART].n || cfg->hooks[HUSK_HOOK_CREATE_RUNTIME].n ||
           cfg->hooks[HUSK_HOOK_CREATE_CONTAINER].n;
}

/* create_spawn.c, in this order: */
/* Socket activation (LISTEN_FDS) into the process's env and --preserve-fds. */
int create_socket_activation(struct create_ctx *c, struct husk_err *err);
/* The init's fds above the preserved range, the console socket connected, the tree slots,
 * the namespace flags and the init's arguments. */
int create_init_fds(struct create_ctx *c, struct husk_err *err);
/* The clone (via an intermediate when namespaces are joined); closes the init's copies. */
int create_spawn(struct create_ctx *c, struct husk_err *err);
/* From outside, while the init waits for GO: cgroups, id maps, mount trees. */
int create_configure(struct create_ctx *c, struct husk_err *err);
/* GO with the state document, then the exec trampoline and `lo` up from outside. */
int create_go(struct create_ctx *c, struct husk_err *err);
/* systemd's job for a scope the init was cloned into, and then the cgroup files. */
int create_cgroup_finish(struct create_ctx *c, struct husk_err *err);

#endif
