/* Between `create` (parent) and the container's init (child). */
#ifndef HUSK_INIT_INTERNAL_H
#define HUSK_INIT_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "husk/config.h"
#include "husk/container.h"
#include "husk/state.h"
#include "../trampoline/trampoline_abi.h"

enum sync_msg {
    SYNC_GO = 1,        /* parent → init: id maps are written */
    /* then, after READY, one byte: "C" (create: the state is durable) or "S" (run: start) */
    SYNC_HOOKS,         /* init → parent: mounts done, run prestart/createRuntime */
    SYNC_HOOKS_DONE,    /* parent → init */
    SYNC_READY,         /* init → parent: created, waiting for start */
    SYNC_ERROR,         /* init → parent: message follows */
    SYNC_PID,           /* intermediate → parent: the init's pid */
    SYNC_SECCOMP,       /* → the husk process: the seccomp notify fd, for the listener */
    SYNC_TRAMPOLINE_FD, /* create → init, after GO: the sealed exec trampoline (exeseal.h) */
    SYNC_TREE,          /* create → init, before GO: a mount of husk_rootfs_trees, value its slot */
    /* exec trampoline → husk: the program's execve failed (trampoline_abi.h); sync_recv
     * turns it into SYNC_ERROR with the message husk_proc_exec would have given */
    SYNC_EXEC_FAILED = HUSK_SYNC_EXEC_FAILED,
};

struct sync_packet {
    int type;
    int value;
    char msg[2048];
    int fd;             /* received with SCM_RIGHTS, -1 if none; not on the wire */
};

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
};

int sync_send(int fd, int type, int value, const char *msg);
int sync_send_fd(int sock, int type, int value, int fd);
int sync_recv(int fd, struct sync_packet *p);   /* 0 on EOF, 1 on a packet, -1 on error */
/* Sends a seccomp notify fd to config-linux.md's listenerPath with the container process
 * state, then closes it. */
int husk_seccomp_forward(const struct husk_config *c, int notify_fd, pid_t pid, const char *state_json,
                         struct husk_err *err);

/* `start` once the init listens on fd: sends it the go (unless `sent`: `run` may have queued
 * it already), waits for its exec, runs poststart hooks (reading the config saved in dirfd
 * when the state says there are any). */
/* -1 on error; HUSK_START_POSTSTART_FAILED when a poststart hook failed and the container was
 * stopped (the caller destroys it). */
#define HUSK_START_POSTSTART_FAILED (-2)
int husk_start_over(int fd, int dirfd, const struct husk_state *st, bool sent, struct husk_err *err);

/* Builds linux.seccomp's program before the clone (create, exec), through the cache of built
 * programs beside root: libseccomp takes ~1.5 ms for a Docker-sized profile, the child then
 * only loads the result. */
int husk_seccomp_prepare(struct husk_config *cfg, const char *root, struct husk_err *err);

/* The container's init. Never returns. */
__attribute__((noreturn)) void husk_init_main(struct init_args *a);

#endif
