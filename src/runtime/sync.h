/* The sync protocol between a husk process (create, exec, start) and the process it set
 * up (the container's init, exec's intermediate and process, the exec trampoline): packet
 * types, their framing on a SOCK_SEQPACKET pair, and fd passing. Nothing else. */
#ifndef HUSK_SYNC_H
#define HUSK_SYNC_H

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

int sync_send(int fd, int type, int value, const char *msg);
int sync_send_fd(int sock, int type, int value, int fd);
int sync_recv(int fd, struct sync_packet *p);   /* 0 on EOF, 1 on a packet, -1 on error */

#endif
