/* Shared by the init and exec: the container process's final setup. */
#ifndef HUSK_PROCESS_INTERNAL_H
#define HUSK_PROCESS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "husk/config.h"

/* rlimits, oom score, personality, LSM, scheduling, umask, fds (keeping stdio, the
 * preserved range and `keep`), seccomp without no_new_privs, user, cwd, caps, HOME. */
/* A seccomp notify fd goes to the husk process on `sync` (SYNC_SECCOMP), which hands it to
 * the listener. */
/* Creates a missing process.cwd (the init only, as runc does). */
int husk_proc_make_cwd(const char *cwd, struct husk_err *err);
/* process.oomScoreAdj on this process (husk_proc_prepare does it unless it was done). */
int husk_proc_oom_score(const struct husk_process *p, struct husk_err *err);
int husk_proc_prepare(struct husk_process *proc, const struct husk_config *c, struct husk_arena *ar, bool userns,
                      const int *keep, size_t nkeep, int preserve_fds, int sync, struct husk_err *err);
/* Closes every fd but stdio, the preserved range 3..3+preserve_fds-1 and `keep`. */
int husk_proc_close_fds(const int *keep, size_t nkeep, int preserve_fds, struct husk_err *err);
/* HOME from /etc/passwd (by uid; "/" when not found) unless env has it: the last step of
 * husk_proc_prepare, on its own for the unit tests. -1 when out of memory. */
int husk_proc_set_home(struct husk_process *p, struct husk_arena *ar);
/* The program's path through the container's PATH, as execvp would find it; the error is
 * runc's `exec: "prog": ...`. */
int husk_proc_resolve(const struct husk_process *proc, char *exe, size_t n, struct husk_err *err);
/* no_new_privs, seccomp, then the exec trampoline (`trampoline`, husk_trampoline_memfd)
 * execs `resolved` (or the program resolved now). Returns only on failure; a failure of the
 * program's own execve comes from the trampoline over `sync` as SYNC_EXEC_FAILED, exit code
 * `status`. */
int husk_proc_exec(struct husk_process *proc, const struct husk_config *c, const char *resolved, int sync,
                   int trampoline, int status, struct husk_err *err);
/* sched_setaffinity from a "0-3,7" list (execCPUAffinity). */
int husk_set_affinity(const char *list, const char *what, struct husk_err *err);
/* Terminal: --console-socket is connected by husk itself (create, exec), with its own
 * identity, before any namespace is entered; then the process opens a pty in the container's
 * devpts (husk_proc_pty_open), sends its master there and makes the peer its stdio and
 * controlling terminal (husk_proc_pty_stdio). husk_proc_console does both (exec); the init
 * binds the peer on its /dev/console in between (init.c), which no other process does. */
int husk_proc_connect_console(const char *path, struct husk_err *err);
int husk_proc_pty_open(const struct husk_process *p, int *master, int *slave, struct husk_err *err);
int husk_proc_pty_stdio(int sock, int master, int slave, struct husk_err *err);
int husk_proc_console(int sock, const struct husk_process *p, struct husk_err *err);

#endif
