/* The container state store: one directory per container under --root
 * (runtime.md "State"). */
#ifndef HUSK_STATE_H
#define HUSK_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "husk/config.h"
#include "husk/err.h"

enum husk_status { HUSK_CREATING, HUSK_CREATED, HUSK_RUNNING, HUSK_PAUSED, HUSK_STOPPED };

/* husk_state_load's err->code when the directory has no state.json (a create at work or dead) */
#define HUSK_ENOSTATE (-2)

/* Small fields first, then the strings by how much of them is usually written: each page
 * of the struct that is touched at all is a page fault. */
struct husk_state {
    pid_t pid;
    unsigned long long start_time;  /* /proc/PID/stat field 22: guards against pid reuse */
    unsigned flags;         /* HUSK_STATE_*: what later commands need from config.json */
    struct husk_kv *annotations;
    size_t n_annotations;
    struct husk_arena arena;
    char created[64];       /* RFC 3339, UTC */
    char owner[64];
    char id[1025];
    char bundle[4096];
    char rootfs[4096];
    char cgroup[16384];     /* husk_cgroup_serialize() of the container's cgroups */
};

/* So `start`, `kill` and `delete` parse the saved config.json only when they need it. */
#define HUSK_STATE_POSTSTART 1u     /* poststart hooks */
#define HUSK_STATE_POSTSTOP 2u      /* poststop hooks */
#define HUSK_STATE_NOTIFY 4u        /* a seccomp listener to hand the notify fd to */
#define HUSK_STATE_OWN_PIDNS 8u     /* a new pid namespace: kill --all needs no /proc scan */
#define HUSK_STATE_NO_PROCESS 16u   /* config.json has no process: `start` refuses it */

/* Initialises a state without touching its ~26 KiB of string buffers (page faults are
 * costly). husk_state_load needs an initialised state and may be called on it again. */
void husk_state_reset(struct husk_state *st);

/* IDs: 1..1024 chars of [A-Za-z0-9_.+-], not starting with '.' or '-'. */
int husk_id_validate(const char *id, struct husk_err *err);
const char *husk_status_name(enum husk_status s);

/* Creates root (0700) and the container's directory; EEXIST → "already exists". Returns dirfd. */
int husk_state_create_dir(const char *root, const char *id, struct husk_err *err);
/* <root>-cache/NAME, a cache shared by the containers under root: beside the root, whose
 * every entry other runtimes' `list` reads as a container. Both levels are made 0700 and must
 * be owned by us and writable by no one else (O_NOFOLLOW). Returns a directory fd, or -1 when
 * it cannot be had or is not private: a cache is never required. */
int husk_state_cache_dir(const char *root, const char *name);
/* Opens the container's dir; ENOENT → "container \"ID\" does not exist". Returns dirfd. */
int husk_state_open_dir(const char *root, const char *id, struct husk_err *err);
/* Exclusive flock on the container dir: serializes commands on one container. */
int husk_state_lock(int dirfd, struct husk_err *err);
/* The intent record, written before anything that needs cleaning up exists: the creating
 * mark, holding the cgroups create is about to make (husk_cgroup_serialize of the plan). */
int husk_state_mark_creating(int dirfd, const char *cgroups, struct husk_err *err);
/* Whether a husk command holds the container's lock (a create at work), without waiting. */
bool husk_state_creator_alive(int dirfd);
int husk_state_save(int dirfd, const struct husk_state *st, struct husk_err *err);
int husk_state_load(int dirfd, const char *id, struct husk_state *st, struct husk_err *err);
/* The document husk_state_load read (buf[n] is NUL), into a loaded-from-scratch state. */
int husk_state_parse(const char *buf, size_t n, const char *id, struct husk_state *st, struct husk_err *err);
void husk_state_free(struct husk_state *st);
int husk_state_remove(const char *root, const char *id, struct husk_err *err);
/* The same, with the container's directory open already (dirfd: its own fd, kept open). */
int husk_state_remove_at(const char *root, const char *id, int dirfd, struct husk_err *err);

/* Status from the live process (and the start socket's presence). */
enum husk_status husk_state_status(int dirfd, const struct husk_state *st);
/* Start time of a process, 0 if it does not exist or is a zombie. */
unsigned long long husk_proc_start_time(pid_t pid);

/* `state` output: the runtime.md document plus runc's rootfs/created/owner. */
char *husk_state_json(const struct husk_state *st, enum husk_status status, int indent);

/* --pid-file: the pid, written to a temporary file and renamed into place (engines read it
 * as soon as it exists). */
int husk_write_pid_file(const char *path, pid_t pid, struct husk_err *err);

/* Name of the socket the created init waits on until `start`. */
#define HUSK_START_SOCK "start.sock"
#define HUSK_STATE_FILE "state.json"
/* Present while husk has the container paused: `state` then asks the freezer. */
#define HUSK_PAUSED_MARK "paused"
/* Written by create before it makes any cgroup, holding their plan; removed once the init is
 * ready. With the state saved: status "creating"; without: the record of a create that has not
 * finished (or died), which delete reads to remove what it made. */
#define HUSK_CREATING_MARK "creating"
#define HUSK_CONFIG_COPY "config.json"
/* Present once an `exec` gave a process CAP_SYS_PTRACE that config.json does not: every
 * later exec runs from a sealed copy of husk (include/husk/exeseal.h). */
#define HUSK_PTRACE_MARK "ptrace"

#endif
