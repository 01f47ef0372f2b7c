/* Between `create` (parent) and the container's init (child). */
#ifndef HUSK_INIT_INTERNAL_H
#define HUSK_INIT_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "husk/config.h"
#include "husk/container.h"
#include "husk/state.h"
#include "sync.h"

struct init_args {
    const struct husk_config *cfg;
    const char *rootfs, *bundle, *id, *state_json;
    int sync_fd;        /* SOCK_SEQPACKET to the parent */
    int parent_fd;      /* the parent's end, closed in the child: its EOF tells of create's death */
    int state_fd;       /* the locked state directory, closed by the intermediate (the init
                           closes all of create's fds it does not use) */
    int listen_fd;      /* start.sock, accepted at `start` */
    int preserve_fds;
    int console_fd;     /* the connected console socket (--console-socket, run's pair), or -1 */
    const char *cgroup2_dir;    /* see husk_rootfs_opts */
    int *trees;         /* the slots of husk_rootfs_trees (all -1 here), filled from SYNC_TREE */
    size_t n_trees;
    const struct husk_stdio_relay *relay;   /* the pipes that replace our stdio, or NULL */
    bool no_pivot;
    bool no_new_keyring;
    bool new_userns;
    bool maps_by_owner;      /* rootless, new_userns: our id maps are written by a process that
                                opens /proc/PID as our owner (create, newuidmap) */
    bool via_intermediate;   /* our parent exits at once: no parent-death signal */
    bool lo_by_parent;       /* create brings our `lo` up from outside while we build */
};


/* The container's init. Never returns. */
__attribute__((noreturn)) void husk_init_main(struct init_args *a);

#endif
