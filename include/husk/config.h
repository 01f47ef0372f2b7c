/* The typed model of an OCI runtime spec v1.3.0 config.json (Linux parts). */
#ifndef HUSK_CONFIG_H
#define HUSK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "husk/arena.h"
#include "husk/err.h"

/* Optional scalars: the spec distinguishes "absent" from zero. */
struct husk_opt_i64 { bool set; int64_t v; };
struct husk_opt_u64 { bool set; uint64_t v; };
struct husk_opt_bool { bool set; bool v; };

struct husk_kv { char *key, *value; };
struct husk_strv { char **v; size_t n; };

struct husk_hook {
    char *path;
    struct husk_strv args, env;
    struct husk_opt_i64 timeout;
};
struct husk_hooks_list { struct husk_hook *v; size_t n; };

struct husk_idmap { uint32_t container_id, host_id, size; };
struct husk_idmaps { struct husk_idmap *v; size_t n; };

struct husk_mount {
    char *destination, *type, *source;
    struct husk_strv options;
    struct husk_idmaps uid_mappings, gid_mappings;
};

struct husk_rlimit { char *type; int resource; uint64_t soft, hard; };

struct husk_caps { struct husk_strv bounding, effective, inheritable, permitted, ambient; bool set; };

struct husk_sched {
    bool set;
    char *policy;
    int32_t nice, priority;
    struct husk_strv flags;
    uint64_t runtime, deadline, period;
};

struct husk_process {
    bool terminal;
    struct { bool set; unsigned height, width; } console_size;
    uid_t uid;
    gid_t gid;
    struct husk_opt_u64 umask;
    gid_t *additional_gids;
    size_t n_additional_gids;
    char *username;
    struct husk_strv args, env;
    char *command_line;
    char *cwd;
    struct husk_caps caps;
    struct husk_rlimit *rlimits;
    size_t n_rlimits;
    bool no_new_privileges;
    char *apparmor_profile, *selinux_label;
    struct husk_opt_i64 oom_score_adj;
    struct { bool set; char *class_; int32_t priority; } io_priority;
    struct husk_sched scheduler;
    char *exec_cpu_initial, *exec_cpu_final;
};

struct husk_namespace { int type; char *path; };   /* type: CLONE_NEW* */

struct husk_device {
    char *path, *type;
    int64_t major, minor;
    struct husk_opt_u64 file_mode;
    struct husk_opt_u64 uid, gid;
};

struct husk_dev_rule {
    bool allow;
    char *type, *access;
    struct husk_opt_i64 major, minor;
};

struct husk_weight_dev { int64_t major, minor; struct husk_opt_u64 weight, leaf_weight; };
struct husk_throttle_dev { int64_t major, minor; uint64_t rate; };
struct husk_hugepage { char *page_size; uint64_t limit; };
struct husk_netprio { char *name; uint32_t priority; };
struct husk_rdma { char *device; struct husk_opt_u64 hca_handles, hca_objects; };

struct husk_resources {
    bool set;
    struct husk_dev_rule *devices; size_t n_devices;
    struct {
        bool set;
        struct husk_opt_i64 limit, reservation, swap, kernel, kernel_tcp;
        struct husk_opt_u64 swappiness;
        struct husk_opt_bool disable_oom_killer, use_hierarchy, check_before_update;
    } memory;
    struct {
        bool set;
        struct husk_opt_u64 shares, period, realtime_period, burst;
        struct husk_opt_i64 quota, realtime_runtime, idle;
        char *cpus, *mems;
    } cpu;
    struct { bool set; struct husk_opt_i64 limit; } pids;
    struct {
        bool set;
        struct husk_opt_u64 weight, leaf_weight;
        struct husk_weight_dev *weight_devices; size_t n_weight_devices;
        struct husk_throttle_dev *throttle[4]; size_t n_throttle[4];  /* read bps, write bps, read iops, write iops */
    } block_io;
    struct husk_hugepage *hugepages; size_t n_hugepages;
    struct { bool set; struct husk_opt_u64 class_id; struct husk_netprio *priorities; size_t n_priorities; } network;
    struct husk_rdma *rdma; size_t n_rdma;
    struct husk_kv *unified; size_t n_unified;
};

struct husk_syscall_arg { uint32_t index; uint64_t value, value_two; char *op; };
struct husk_syscall {
    struct husk_strv names;
    char *action;
    struct husk_opt_u64 errno_ret;
    struct husk_syscall_arg *args; size_t n_args;
};
struct husk_seccomp {
    bool set;
    char *default_action;
    struct husk_opt_u64 default_errno_ret;
    struct husk_strv architectures, flags;
    char *listener_path, *listener_metadata;
    struct husk_syscall *syscalls; size_t n_syscalls;
    /* not parsed: the BPF program husk_seccomp_compile() made (struct sock_filter[]) */
    void *prog; unsigned short prog_len; unsigned prog_flags;
};

struct husk_time_offset { char *clock; int64_t secs; uint32_t nanosecs; };

struct husk_linux {
    struct husk_namespace *namespaces; size_t n_namespaces;
    struct husk_idmaps uid_mappings, gid_mappings;
    struct husk_time_offset *time_offsets; size_t n_time_offsets;
    struct husk_device *devices; size_t n_devices;
    char *cgroups_path;
    struct husk_resources resources;
    struct husk_kv *sysctl; size_t n_sysctl;
    struct husk_seccomp seccomp;
    char *rootfs_propagation;
    struct husk_strv masked_paths, readonly_paths;
    char *mount_label;
    struct { bool set; char *clos_id, *l3_cache_schema, *mem_bw_schema; struct husk_strv schemata; bool enable_monitoring; } intel_rdt;
    struct { bool set; char *mode, *nodes; struct husk_strv flags; } memory_policy;
    struct { bool set; char *domain; struct husk_strv flags; } personality;
    struct husk_kv *net_devices; size_t n_net_devices;   /* key: host name, value: name in container (may be NULL) */
};

struct husk_config {
    struct husk_arena arena;
    char *oci_version;
    char *root_path;     /* as written */
    bool root_readonly;
    struct husk_mount *mounts; size_t n_mounts;
    bool has_process;
    struct husk_process process;
    char *hostname, *domainname;
    struct husk_hooks_list hooks[6];
    struct husk_kv *annotations; size_t n_annotations;
    bool has_linux;
    struct husk_linux linux_;
};

enum husk_hook_kind {
    HUSK_HOOK_PRESTART, HUSK_HOOK_CREATE_RUNTIME, HUSK_HOOK_CREATE_CONTAINER,
    HUSK_HOOK_START_CONTAINER, HUSK_HOOK_POSTSTART, HUSK_HOOK_POSTSTOP,
};
extern const char *const husk_hook_names[6];

/* Parses JSON text; `name` names the source in messages ("config.json").
 * Returns NULL and fills err on failure. */
struct husk_config *husk_config_parse(const char *text, size_t len, const char *name, struct husk_err *err);
struct husk_config *husk_config_load(const char *path, struct husk_err *err);
void husk_config_free(struct husk_config *c);
/* Semantic checks beyond types (config.md/config-linux.md MUSTs). */
int husk_config_validate(const struct husk_config *c, struct husk_err *err);
/* Parses a process.json as given to `exec --process`. */
int husk_process_parse(const char *text, size_t len, const char *name, struct husk_arena *a,
                       struct husk_process *p, struct husk_err *err);

/* Namespace helpers. */
int husk_ns_type_from_name(const char *name);     /* CLONE_NEW* or -1 */
const char *husk_ns_name(int type);               /* spec name ("pid", "network", ...) */
const char *husk_ns_proc_name(int type);          /* /proc/PID/ns/<x> */
const struct husk_namespace *husk_config_namespace(const struct husk_config *c, int type);
int husk_rlimit_from_name(const char *name);      /* RLIMIT_* or -1 */

/* `husk features`: the features document (allocated). */
char *husk_features_json(void);

/* `husk spec`: writes the default config to the named file. */
int husk_spec_write(const char *path, bool rootless, struct husk_err *err);

#endif
