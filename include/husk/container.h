/* Container lifecycle operations (runtime.md "Operations"). */
#ifndef HUSK_CONTAINER_H
#define HUSK_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "husk/err.h"

/* Foreground stdio through pipes: where our fd 0, 1 or 2 is a file, directory or block device,
 * the container gets a pipe that we relay, since reopening /proc/self/fd/N would give it more
 * than the fd (read access to a file opened for appending, the tree around a directory).
 * Pipes, sockets and character devices (ttys, /dev/null) are passed as they are. */
struct husk_stdio_relay {
    int child[3];       /* the container's ends, -1 where it gets our fd as is */
    int ours[3];        /* our ends: the write end for stdin, read ends for stdout and stderr */
};

struct husk_create_opts {
    const char *root, *id, *bundle, *pid_file, *console_socket;
    bool no_pivot, no_new_keyring;
    bool no_cgroups;    /* --cgroup-manager disabled: the container gets none */
    int preserve_fds;
    bool keep_child;    /* `run`: the init stays our child so we can wait for it */
    int console_fd;     /* a connected socket that receives the pty master, or -1 */
    int *console_back;  /* `run`: with a terminal and no console_fd, our end of a pair made for it */
    bool start;         /* `run`: start the init right away, over the sync socket (no start.sock) */
    struct husk_stdio_relay *relay;   /* `run` in the foreground: opened unless the process has a terminal */
    bool systemd_cgroup;    /* --systemd-cgroup: the cgroup is a systemd scope */
    struct husk_run_kept *kept;     /* `run` that deletes at the end: filled on success */
};

/* What a successful create hands to the delete that ends `run`: the state directory
 * (unlocked) and the state and cgroups it wrote, so that the delete need not read them back. */
struct husk_run_kept {
    int dirfd;
    struct husk_state *st;
    struct husk_cgroup *cg;
};

/* Returns the init's pid (> 0) or -1. */
pid_t husk_container_create(const struct husk_create_opts *o, struct husk_err *err);
int husk_container_start(const char *root, const char *id, struct husk_err *err);
int husk_container_kill(const char *root, const char *id, int sig, bool all, struct husk_err *err);
/* Returns 0; with force a missing container is not an error. */
int husk_container_delete(const char *root, const char *id, bool force, struct husk_err *err);
/* delete --force after `run` reaped the container's init, pid `reaped`, with what create
 * kept (freed and closed here). */
int husk_container_delete_kept(const char *root, const char *id, pid_t reaped, struct husk_run_kept *k,
                               struct husk_err *err);
/* Allocated state JSON (runtime.md "State"). */
char *husk_container_state(const char *root, const char *id, struct husk_err *err);
/* Allocated JSON array of every container's state, or a table. */
char *husk_container_list(const char *root, bool json, bool quiet, struct husk_err *err);

int husk_container_pause(const char *root, const char *id, bool pause, struct husk_err *err);
/* Host pids of the container's processes (allocated). */
pid_t *husk_container_pids(const char *root, const char *id, size_t *n, struct husk_err *err);

/* `events`: with stats, one {"type":"stats",...} line; otherwise a line every interval
 * seconds and an {"type":"oom"} line per OOM kill, until the container stops. */
int husk_container_events(const char *root, const char *id, bool stats_once, int interval, struct husk_err *err);

/* `update`: applies a linux.resources JSON object to a running container's cgroups. */
int husk_container_update(const char *root, const char *id, const char *resources_json, struct husk_err *err);

struct husk_exec_opts {
    const char *root, *id;
    const char *process_file;       /* --process FILE ("-" for stdin) */
    char **args;                    /* ARGS… when no --process */
    int n_args;
    const char *cwd, *user, *console_socket, *pid_file, *apparmor, *label;
    const char *env[64];
    int n_env;
    const char *caps[64];
    int n_caps;
    const char *additional_gids;    /* "5,10" */
    const char *cgroups[16];        /* --cgroup [CTRL[,CTRL]:]SUB (runc 1.1): a sub-cgroup to run in */
    int n_cgroups;
    bool tty, detach, no_new_privs;
    int preserve_fds;
};

/* Runs a process in a running container (runc's `exec`). Returns its exit code when
 * in the foreground (128+N when killed by signal N), 0 when detached, -1 on error. */
int husk_container_exec(const struct husk_exec_opts *o, struct husk_err *err);

/* `run` with a terminal and no console socket: relays between the pty master and our own
 * stdio (raw mode, window size) until the process `pid` exits; returns its wait status. */
int husk_console_relay(int master, pid_t pid, int *status);
/* Waits for pid (our child), forwarding TERM, INT, HUP, QUIT, USR1, USR2 and WINCH to it,
 * relaying the pty when master >= 0, or the stdio pipes of relay (may be NULL). Returns the
 * exit code, 128+N when killed by signal N; *reaped (if not NULL) says whether pid was reaped. */
int husk_wait_forwarding(pid_t pid, int master, struct husk_stdio_relay *relay, bool *reaped);

/* Pipes for those of our fds 0-2 that need them (all -1 when none does). */
int husk_stdio_relay_open(struct husk_stdio_relay *r, struct husk_err *err);
/* In the container's process: its ends become its fds 0-2. */
int husk_stdio_relay_use(const struct husk_stdio_relay *r);
/* Ours once the container's process has its copies; then all. */
void husk_stdio_relay_close_child(struct husk_stdio_relay *r);
void husk_stdio_relay_close(struct husk_stdio_relay *r);

#endif
