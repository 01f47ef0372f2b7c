/* Control groups (config-linux.md "Control groups"): placement, resources, removal, on
 * pure v2, hybrid (v1 controllers + cgroup2 at /sys/fs/cgroup/unified) and v1 hosts. */
#ifndef HUSK_CGROUP_H
#define HUSK_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "husk/config.h"
#include "husk/err.h"

#define HUSK_CG_MAX 16

struct husk_cgroup_dir {
    char path[PATH_MAX];    /* absolute directory, e.g. /sys/fs/cgroup/pids/a/b */
    char ctrls[128];        /* "pids", "cpu,cpuacct", "name=systemd", "" for cgroup2 */
    int created;            /* how many trailing path components husk made; -N: a plan, at most N */
    bool v2;
};

/* A mounted hierarchy under /sys/fs/cgroup. */
struct husk_cgroup_mount {
    char mountpoint[PATH_MAX];
    char ctrls[128];        /* as /proc/self/cgroup names them; "" for cgroup2 */
    bool v2;
};

/* cgroup v2's device filter: the eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) for res's
 * device rules and the implicit ones after them, into out; returns its length, -1 past max. */
struct bpf_insn;
int husk_devfilter_build(const struct husk_resources *res, struct bpf_insn *out, int max);

/* The visible hierarchies (ones hidden by a later mount are left out). Returns the count. */
int husk_cgroup_mounts(struct husk_cgroup_mount *m, int max);
/* The same into a malloc'd array of HUSK_CG_MAX (67 KiB: on the heap, not deepening the
 * stack of everything called after it); NULL with err set on failure. */
struct husk_cgroup_mount *husk_cgroup_mounts_alloc(int *n, struct husk_err *err);
/* husk's own cgroup in the hierarchy with these controllers ("" = cgroup2), from
 * /proc/self/cgroup as first read by this process (and copied into its clones): never for a
 * process that has moved since, such as the container's init. */
int husk_cgroup_own(const char *ctrls, char *out, size_t n);
/* The cgroup for these controllers in table, a /proc/PID/cgroup text. */
int husk_cgroup_lookup(const char *table, const char *ctrls, char *out, size_t n);

struct husk_cgroup {
    int n;
    /* Hierarchies a rootless husk could not write (husk_cgroup_make left them out): a
     * resource that needs one of them names that in its error. */
    int skipped;
    bool disabled;      /* --cgroup-manager disabled: none at all */
    char unit[256];     /* the systemd driver's scope ("" with cgroupfs) */
    char slice[256];    /* its slice, while it is made */
    struct husk_cgroup_dir dirs[HUSK_CG_MAX];
};

/* Makes the container's cgroup in every hierarchy (absolute cgroupsPath: from the root;
 * relative or absent: below husk's own cgroup). */
int husk_cgroup_create(const struct husk_config *c, const char *id, struct husk_cgroup *cg, struct husk_err *err);
/* husk_cgroup_create in two steps, so that what a create is about to make can be recorded
 * first: plan fills in the directories (created = -N: at most N components to make),
 * make creates them (created = how many it made; on failure only what it made is removed). */
int husk_cgroup_plan(const struct husk_config *c, const char *id, struct husk_cgroup *cg, struct husk_err *err);
/* Rootless, make leaves out a hierarchy where the cgroup cannot be made for lack of
 * permission (runc does the same): the container runs without it (cg->skipped counts them). */
int husk_cgroup_make(struct husk_cgroup *cg, struct husk_err *err);
/* Writes linux.resources; a resource no hierarchy can enforce is an error. */
int husk_cgroup_apply(const struct husk_cgroup *cg, const struct husk_config *c, struct husk_err *err);
/* An fd of the container's cgroup2 directory for clone3(CLONE_INTO_CGROUP), or -1. */
int husk_cgroup_v2_fd(const struct husk_cgroup *cg);
/* Moves pid into every hierarchy (skipping cgroup2 when clone3 already placed it). */
int husk_cgroup_enter(const struct husk_cgroup *cg, pid_t pid, bool skip_v2, struct husk_err *err);
/* Signals every process in the container's cgroups. Returns how many were signalled. */
int husk_cgroup_signal_all(const struct husk_cgroup *cg, int sig);
/* Removes the cgroups husk made, waiting up to timeout_ms for their processes to leave. A
 * planned directory (created < 0) is removed if it exists, its parents only while each
 * removal succeeds. */
int husk_cgroup_destroy(const struct husk_cgroup *cg, int timeout_ms, struct husk_err *err);

/* Freezes (pause) or thaws (resume) every process: cgroup.freeze on v2, else the v1
 * freezer; waits until the kernel reports the new state. */
int husk_cgroup_freeze(const struct husk_cgroup *cg, bool freeze, struct husk_err *err);
bool husk_cgroup_frozen(const struct husk_cgroup *cg);
/* Host pids in the container's cgroup (allocated, *n set). */
pid_t *husk_cgroup_pids(const struct husk_cgroup *cg, size_t *n);

/* `events`: runc's stats object ({"cpu":..,"memory":..,"pids":..}) and the OOM-kill count. */
struct husk_jsonw;
void husk_cgroup_stats(const struct husk_cgroup *cg, struct husk_jsonw *w);
long long husk_cgroup_oom_kills(const struct husk_cgroup *cg);

/* For the state file: one "created:ctrls:path" line per directory. */
int husk_cgroup_serialize(const struct husk_cgroup *cg, char *out, size_t n);
int husk_cgroup_parse(const char *s, struct husk_cgroup *cg);

/* The systemd driver (--systemd-cgroup, cgroup_systemd.c): the container's cgroup is the
 * transient unit PREFIX-NAME.scope in SLICE (cgroupsPath "SLICE:PREFIX:NAME"), made by systemd
 * over D-Bus. plan_systemd fills in the unit and where its directories will be; start makes
 * the unit with pid in it (the init, waiting to be released) and waits for the job (when
 * systemd refuses, cg is emptied: nothing to undo); the directories systemd does not make,
 * and the files, are husk_cgroup_make's and _apply's. */
int husk_cgroup_plan_systemd(const struct husk_config *c, const char *id, struct husk_cgroup *cg, struct husk_err *err);
int husk_cgroup_systemd_start(struct husk_cgroup *cg, const struct husk_config *c, const char *id, pid_t pid,
                              struct husk_err *err);
/* The start overlapped with the init's setup (pure cgroup2, the system manager): premake
 * makes the scope's directory and returns it open for clone3(CLONE_INTO_CGROUP), or -1
 * where the start above applies; start_send queues StartTransientUnit without waiting;
 * start_wait reads its answer and job (nothing pending: 0). An error answer empties cg but
 * for a directory husk made, which husk_cgroup_destroy removes. */
int husk_cgroup_systemd_premake(struct husk_cgroup *cg);
int husk_cgroup_systemd_start_send(struct husk_cgroup *cg, const struct husk_config *c, const char *id, pid_t pid,
                                   struct husk_err *err);
int husk_cgroup_systemd_start_wait(struct husk_cgroup *cg, struct husk_err *err);
/* `update`: the new resources as unit properties (SetUnitProperties). */
int husk_cgroup_systemd_set(const struct husk_cgroup *cg, const struct husk_config *c, struct husk_err *err);
/* StopUnit and ResetFailedUnit: no unit left (husk_cgroup_destroy calls it). */
int husk_cgroup_systemd_stop(const struct husk_cgroup *cg, struct husk_err *err);
/* systemd's version number from its Version string ("252.19-1~deb12u1", "v255"); -1. */
int husk_systemd_version(const char *s);
/* Has the manager move pid into the unit (AttachProcessesToUnit): rootless, where husk may
 * not move it itself. */
int husk_cgroup_systemd_attach(const struct husk_cgroup *cg, pid_t pid, struct husk_err *err);
/* Whether --systemd-cgroup talks to the user's manager (user@UID.service on the user bus:
 * rootless) rather than the system instance. */
bool husk_systemd_user(void);
/* "a-b.slice" → "/a.slice/a-b.slice" (systemd.slice(5)); "-.slice" → "". */
int husk_systemd_expand_slice(const char *slice, char *out, size_t n, struct husk_err *err);

/* cpu.shares → cpu.weight, as runc converts it. */
unsigned long long husk_cgroup_shares_to_weight(unsigned long long shares);

#endif
