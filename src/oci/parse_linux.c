/* config.json `.linux` → struct husk_linux (config-linux.md). */
#include "parse_internal.h"

#include <string.h>

static int ns_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_namespace *ns = elem;
    char *type = NULL, p[PATHMAX];
    int r = pc_str(c, v, "type", path, &type);
    pc_join(p, path, "type");
    if (r < 0)
        return -1;
    if (r == 0)
        return pc_fail(c, p, "required property is missing");
    ns->type = husk_ns_type_from_name(type);
    if (ns->type < 0)
        return pc_fail(c, p, "unknown namespace type \"%s\"", type);
    return pc_str(c, v, "path", path, &ns->path) < 0 ? -1 : 0;
}

static int time_offsets(struct pctx *c, yajl_val lin, struct husk_linux *l)
{
    yajl_val o = NULL;
    char p[PATHMAX];
    int r = pc_object(c, lin, "timeOffsets", ".linux", &o);
    if (r <= 0)
        return r;
    size_t n = o->u.object.len;
    l->time_offsets = husk_arena_alloc(c->a, (n + 1) * sizeof *l->time_offsets);
    for (size_t i = 0; i < n; i++) {
        const char *clock = o->u.object.keys[i];
        yajl_val e = o->u.object.values[i];
        pc_join(p, ".linux.timeOffsets", clock);
        if (strcmp(clock, "monotonic") != 0 && strcmp(clock, "boottime") != 0)
            return pc_fail(c, p, "unknown clock \"%s\" (expected monotonic or boottime)", clock);
        if (!YAJL_IS_OBJECT(e))
            return pc_expect(c, p, "an object", e);
        struct husk_time_offset *t = &l->time_offsets[l->n_time_offsets++];
        t->clock = husk_arena_strdup(c->a, clock);
        if (pc_i64(c, e, "secs", p, &t->secs) < 0 || pc_u32(c, e, "nanosecs", p, &t->nanosecs) < 0)
            return -1;
    }
    return 1;
}

static int device_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_device *d = elem;
    char p[PATHMAX];
    int r;
    if ((r = pc_str(c, v, "path", path, &d->path)) <= 0 ||
        (r = pc_str(c, v, "type", path, &d->type)) <= 0) {
        if (r == 0) {
            pc_join(p, path, d->path ? "type" : "path");
            return pc_fail(c, p, "required property is missing");
        }
        return -1;
    }
    pc_join(p, path, "type");
    if (strlen(d->type) != 1 || !strchr("cbup", d->type[0]))
        return pc_fail(c, p, "expected one of \"c\", \"b\", \"u\", \"p\", got \"%s\"", d->type);
    if (pc_i64(c, v, "major", path, &d->major) < 0 || pc_i64(c, v, "minor", path, &d->minor) < 0 ||
        pc_opt_u64(c, v, "fileMode", path, &d->file_mode) < 0 || pc_opt_u64(c, v, "uid", path, &d->uid) < 0 ||
        pc_opt_u64(c, v, "gid", path, &d->gid) < 0)
        return -1;
    if (d->type[0] != 'p' && (!pc_get(v, "major") || !pc_get(v, "minor"))) {
        pc_join(p, path, pc_get(v, "major") ? "minor" : "major");
        return pc_fail(c, p, "required for a device of type \"%s\"", d->type);
    }
    return 0;
}

static int dev_rule_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_dev_rule *d = elem;
    char p[PATHMAX];
    int r = pc_bool(c, v, "allow", path, &d->allow);
    if (r < 0)
        return -1;
    if (r == 0) {
        pc_join(p, path, "allow");
        return pc_fail(c, p, "required property is missing");
    }
    if (pc_str(c, v, "type", path, &d->type) < 0 || pc_str(c, v, "access", path, &d->access) < 0 ||
        pc_opt_i64(c, v, "major", path, &d->major) < 0 || pc_opt_i64(c, v, "minor", path, &d->minor) < 0)
        return -1;
    if (d->type && (strlen(d->type) != 1 || !strchr("acb", d->type[0]))) {
        pc_join(p, path, "type");
        return pc_fail(c, p, "expected one of \"a\", \"c\", \"b\", got \"%s\"", d->type);
    }
    if (d->access && strspn(d->access, "rwm") != strlen(d->access)) {
        pc_join(p, path, "access");
        return pc_fail(c, p, "expected a combination of \"r\", \"w\", \"m\", got \"%s\"", d->access);
    }
    return 0;
}

static int weight_dev_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_weight_dev *d = elem;
    if (pc_i64(c, v, "major", path, &d->major) < 0 || pc_i64(c, v, "minor", path, &d->minor) < 0 ||
        pc_opt_u64(c, v, "weight", path, &d->weight) < 0 ||
        pc_opt_u64(c, v, "leafWeight", path, &d->leaf_weight) < 0)
        return -1;
    return 0;
}

static int throttle_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_throttle_dev *d = elem;
    char p[PATHMAX];
    int r;
    if (pc_i64(c, v, "major", path, &d->major) < 0 || pc_i64(c, v, "minor", path, &d->minor) < 0 ||
        (r = pc_u64(c, v, "rate", path, &d->rate)) < 0)
        return -1;
    if (r == 0) {
        pc_join(p, path, "rate");
        return pc_fail(c, p, "required property is missing");
    }
    return 0;
}

static int hugepage_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_hugepage *h = elem;
    char p[PATHMAX];
    int a = pc_str(c, v, "pageSize", path, &h->page_size);
    if (a < 0)
        return -1;
    int b = pc_u64(c, v, "limit", path, &h->limit);
    if (b < 0)
        return -1;
    if (!a || !b) {
        pc_join(p, path, !a ? "pageSize" : "limit");
        return pc_fail(c, p, "required property is missing");
    }
    return 0;
}

static int netprio_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_netprio *n = elem;
    return (pc_str(c, v, "name", path, &n->name) < 0 || pc_u32(c, v, "priority", path, &n->priority) < 0) ? -1 : 0;
}

#define RES_PATH ".linux.resources"

static int res_memory(struct pctx *c, yajl_val r, struct husk_resources *res)
{
    yajl_val o = NULL;
    char p[PATHMAX];
    int k = pc_section(c, r, "memory", RES_PATH, &o, p);
    if (k <= 0)
        return k;
    res->memory.set = true;
    if (pc_opt_i64(c, o, "limit", p, &res->memory.limit) < 0 ||
        pc_opt_i64(c, o, "reservation", p, &res->memory.reservation) < 0 ||
        pc_opt_i64(c, o, "swap", p, &res->memory.swap) < 0 ||
        pc_opt_i64(c, o, "kernel", p, &res->memory.kernel) < 0 ||
        pc_opt_i64(c, o, "kernelTCP", p, &res->memory.kernel_tcp) < 0 ||
        pc_opt_u64(c, o, "swappiness", p, &res->memory.swappiness) < 0 ||
        pc_opt_bool(c, o, "disableOOMKiller", p, &res->memory.disable_oom_killer) < 0 ||
        pc_opt_bool(c, o, "useHierarchy", p, &res->memory.use_hierarchy) < 0 ||
        pc_opt_bool(c, o, "checkBeforeUpdate", p, &res->memory.check_before_update) < 0)
        return -1;
    return 1;
}

static int res_cpu(struct pctx *c, yajl_val r, struct husk_resources *res)
{
    yajl_val o = NULL;
    char p[PATHMAX];
    int k = pc_section(c, r, "cpu", RES_PATH, &o, p);
    if (k <= 0)
        return k;
    res->cpu.set = true;
    if (pc_opt_u64(c, o, "shares", p, &res->cpu.shares) < 0 ||
        pc_opt_i64(c, o, "quota", p, &res->cpu.quota) < 0 ||
        pc_opt_u64(c, o, "burst", p, &res->cpu.burst) < 0 ||
        pc_opt_u64(c, o, "period", p, &res->cpu.period) < 0 ||
        pc_opt_i64(c, o, "realtimeRuntime", p, &res->cpu.realtime_runtime) < 0 ||
        pc_opt_u64(c, o, "realtimePeriod", p, &res->cpu.realtime_period) < 0 ||
        pc_str(c, o, "cpus", p, &res->cpu.cpus) < 0 || pc_str(c, o, "mems", p, &res->cpu.mems) < 0 ||
        pc_opt_i64(c, o, "idle", p, &res->cpu.idle) < 0)
        return -1;
    return 1;
}

static int res_pids(struct pctx *c, yajl_val r, struct husk_resources *res)
{
    yajl_val o = NULL;
    char p[PATHMAX];
    int k = pc_section(c, r, "pids", RES_PATH, &o, p);
    if (k <= 0)
        return k;
    res->pids.set = true;
    return pc_opt_i64(c, o, "limit", p, &res->pids.limit) < 0 ? -1 : 1;
}

static int res_block_io(struct pctx *c, yajl_val r, struct husk_resources *res)
{
    static const char *const thr[4] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
                                       "throttleReadIOPSDevice", "throttleWriteIOPSDevice"};
    yajl_val o = NULL;
    char p[PATHMAX];
    void *v = NULL;
    int k = pc_section(c, r, "blockIO", RES_PATH, &o, p);
    if (k <= 0)
        return k;
    res->block_io.set = true;
    if (pc_opt_u64(c, o, "weight", p, &res->block_io.weight) < 0 ||
        pc_opt_u64(c, o, "leafWeight", p, &res->block_io.leaf_weight) < 0)
        return -1;
    if (pc_objects(c, o, "weightDevice", p, sizeof(struct husk_weight_dev), &v,
                   &res->block_io.n_weight_devices, weight_dev_elem) < 0)
        return -1;
    res->block_io.weight_devices = v;
    for (int i = 0; i < 4; i++) {
        v = NULL;
        if (pc_objects(c, o, thr[i], p, sizeof(struct husk_throttle_dev), &v,
                       &res->block_io.n_throttle[i], throttle_elem) < 0)
            return -1;
        res->block_io.throttle[i] = v;
    }
    return 1;
}

static int res_network(struct pctx *c, yajl_val r, struct husk_resources *res)
{
    yajl_val o = NULL;
    char p[PATHMAX];
    void *v = NULL;
    int k = pc_section(c, r, "network", RES_PATH, &o, p);
    if (k <= 0)
        return k;
    res->network.set = true;
    if (pc_opt_u64(c, o, "classID", p, &res->network.class_id) < 0 ||
        pc_objects(c, o, "priorities", p, sizeof(struct husk_netprio), &v, &res->network.n_priorities,
                   netprio_elem) < 0)
        return -1;
    res->network.priorities = v;
    return 1;
}

/* `rdma` maps a device name to its limits. */
static int res_rdma(struct pctx *c, yajl_val r, struct husk_resources *res)
{
    yajl_val o = NULL;
    char p[PATHMAX], rp[PATHMAX];
    int k = pc_section(c, r, "rdma", RES_PATH, &o, p);
    if (k <= 0)
        return k;
    size_t n = o->u.object.len;
    res->rdma = husk_arena_alloc(c->a, (n + 1) * sizeof *res->rdma);
    for (size_t i = 0; i < n; i++) {
        pc_join(rp, p, o->u.object.keys[i]);
        yajl_val e = o->u.object.values[i];
        if (!YAJL_IS_OBJECT(e))
            return pc_expect(c, rp, "an object", e);
        struct husk_rdma *d = &res->rdma[res->n_rdma++];
        d->device = husk_arena_strdup(c->a, o->u.object.keys[i]);
        if (pc_opt_u64(c, e, "hcaHandles", rp, &d->hca_handles) < 0 ||
            pc_opt_u64(c, e, "hcaObjects", rp, &d->hca_objects) < 0)
            return -1;
    }
    return 1;
}

/* config-linux.md "Control groups": one reader per resource section, in the spec's order. */
static int parse_resources(struct pctx *c, yajl_val lin, struct husk_resources *res)
{
    yajl_val r = NULL;
    void *devices = NULL, *hugepages = NULL;
    int k = pc_object(c, lin, "resources", ".linux", &r);
    if (k <= 0)
        return k;
    res->set = true;
    if (pc_objects(c, r, "devices", RES_PATH, sizeof(struct husk_dev_rule), &devices, &res->n_devices,
                   dev_rule_elem) < 0)
        return -1;
    res->devices = devices;
    if (res_memory(c, r, res) < 0 || res_cpu(c, r, res) < 0 || res_pids(c, r, res) < 0 ||
        res_block_io(c, r, res) < 0)
        return -1;
    if (pc_objects(c, r, "hugepageLimits", RES_PATH, sizeof(struct husk_hugepage), &hugepages,
                   &res->n_hugepages, hugepage_elem) < 0)
        return -1;
    res->hugepages = hugepages;
    if (res_network(c, r, res) < 0 || res_rdma(c, r, res) < 0)
        return -1;
    return pc_map(c, r, "unified", RES_PATH, &res->unified, &res->n_unified) < 0 ? -1 : 1;
}

static int syscall_arg_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_syscall_arg *a = elem;
    char p[PATHMAX];
    int r1 = pc_u32(c, v, "index", path, &a->index);
    if (r1 < 0)
        return -1;
    int r2 = pc_u64(c, v, "value", path, &a->value);
    if (r2 < 0 || pc_u64(c, v, "valueTwo", path, &a->value_two) < 0)
        return -1;
    int r3 = pc_str(c, v, "op", path, &a->op);
    if (r3 < 0)
        return -1;
    if (!r1 || !r2 || !r3) {
        pc_join(p, path, !r1 ? "index" : !r2 ? "value" : "op");
        return pc_fail(c, p, "required property is missing");
    }
    return 0;
}

static int syscall_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_syscall *s = elem;
    char p[PATHMAX];
    void *a = NULL;
    int r1 = pc_strv(c, v, "names", path, &s->names);
    if (r1 < 0)
        return -1;
    int r2 = pc_str(c, v, "action", path, &s->action);
    if (r2 < 0)
        return -1;
    if (!r1 || !r2) {
        pc_join(p, path, !r1 ? "names" : "action");
        return pc_fail(c, p, "required property is missing");
    }
    if (pc_opt_u64(c, v, "errnoRet", path, &s->errno_ret) < 0 ||
        pc_objects(c, v, "args", path, sizeof(struct husk_syscall_arg), &a, &s->n_args, syscall_arg_elem) < 0)
        return -1;
    s->args = a;
    return 0;
}

static int parse_seccomp(struct pctx *c, yajl_val lin, struct husk_seccomp *s)
{
    yajl_val o = NULL;
    const char *P = ".linux.seccomp";
    void *v = NULL;
    int r = pc_object(c, lin, "seccomp", ".linux", &o);
    if (r <= 0)
        return r;
    s->set = true;
    if ((r = pc_str(c, o, "defaultAction", P, &s->default_action)) < 0)
        return -1;
    if (r == 0)
        return pc_fail(c, ".linux.seccomp.defaultAction", "required property is missing");
    if (pc_opt_u64(c, o, "defaultErrnoRet", P, &s->default_errno_ret) < 0 ||
        pc_strv(c, o, "architectures", P, &s->architectures) < 0 ||
        pc_strv(c, o, "flags", P, &s->flags) < 0 ||
        pc_str(c, o, "listenerPath", P, &s->listener_path) < 0 ||
        pc_str(c, o, "listenerMetadata", P, &s->listener_metadata) < 0 ||
        pc_objects(c, o, "syscalls", P, sizeof(struct husk_syscall), &v, &s->n_syscalls, syscall_elem) < 0)
        return -1;
    s->syscalls = v;
    return 1;
}

int husk_parse_linux(struct pctx *c, yajl_val lin, struct husk_linux *l)
{
    const char *P = ".linux";
    void *v = NULL;
    yajl_val o = NULL;
    int r;
    if (pc_objects(c, lin, "namespaces", P, sizeof(struct husk_namespace), &v, &l->n_namespaces, ns_elem) < 0)
        return -1;
    l->namespaces = v;
    v = NULL;
    if (pc_idmaps(c, lin, "uidMappings", P, &l->uid_mappings) < 0 ||
        pc_idmaps(c, lin, "gidMappings", P, &l->gid_mappings) < 0 || time_offsets(c, lin, l) < 0 ||
        pc_objects(c, lin, "devices", P, sizeof(struct husk_device), &v, &l->n_devices, device_elem) < 0)
        return -1;
    l->devices = v;
    if (pc_str(c, lin, "cgroupsPath", P, &l->cgroups_path) < 0 || parse_resources(c, lin, &l->resources) < 0 ||
        pc_map(c, lin, "sysctl", P, &l->sysctl, &l->n_sysctl) < 0 || parse_seccomp(c, lin, &l->seccomp) < 0 ||
        pc_str(c, lin, "rootfsPropagation", P, &l->rootfs_propagation) < 0 ||
        pc_strv(c, lin, "maskedPaths", P, &l->masked_paths) < 0 ||
        pc_strv(c, lin, "readonlyPaths", P, &l->readonly_paths) < 0 ||
        pc_str(c, lin, "mountLabel", P, &l->mount_label) < 0)
        return -1;
    if ((r = pc_object(c, lin, "intelRdt", P, &o)) < 0)
        return -1;
    if (r > 0) {
        const char *I = ".linux.intelRdt";
        l->intel_rdt.set = true;
        if (pc_str(c, o, "closID", I, &l->intel_rdt.clos_id) < 0 ||
            pc_str(c, o, "l3CacheSchema", I, &l->intel_rdt.l3_cache_schema) < 0 ||
            pc_str(c, o, "memBwSchema", I, &l->intel_rdt.mem_bw_schema) < 0 ||
            pc_strv(c, o, "schemata", I, &l->intel_rdt.schemata) < 0 ||
            pc_bool(c, o, "enableMonitoring", I, &l->intel_rdt.enable_monitoring) < 0)
            return -1;
    }
    o = NULL;
    if ((r = pc_object(c, lin, "memoryPolicy", P, &o)) < 0)
        return -1;
    if (r > 0) {
        const char *M = ".linux.memoryPolicy";
        l->memory_policy.set = true;
        if ((r = pc_str(c, o, "mode", M, &l->memory_policy.mode)) < 0)
            return -1;
        if (r == 0)
            return pc_fail(c, ".linux.memoryPolicy.mode", "required property is missing");
        if (pc_str(c, o, "nodes", M, &l->memory_policy.nodes) < 0 ||
            pc_strv(c, o, "flags", M, &l->memory_policy.flags) < 0)
            return -1;
    }
    o = NULL;
    if ((r = pc_object(c, lin, "personality", P, &o)) < 0)
        return -1;
    if (r > 0) {
        l->personality.set = true;
        if ((r = pc_str(c, o, "domain", ".linux.personality", &l->personality.domain)) < 0)
            return -1;
        if (r == 0)
            return pc_fail(c, ".linux.personality.domain", "required property is missing");
        if (pc_strv(c, o, "flags", ".linux.personality", &l->personality.flags) < 0)
            return -1;
    }
    o = NULL;
    if ((r = pc_object(c, lin, "netDevices", P, &o)) < 0)
        return -1;
    if (r > 0) {
        size_t n = o->u.object.len;
        l->net_devices = husk_arena_alloc(c->a, (n + 1) * sizeof *l->net_devices);
        for (size_t i = 0; i < n; i++) {
            char np[PATHMAX];
            pc_join(np, ".linux.netDevices", o->u.object.keys[i]);
            yajl_val e = o->u.object.values[i];
            if (!YAJL_IS_OBJECT(e))
                return pc_expect(c, np, "an object", e);
            l->net_devices[i].key = husk_arena_strdup(c->a, o->u.object.keys[i]);
            if (pc_str(c, e, "name", np, &l->net_devices[i].value) < 0)
                return -1;
            l->n_net_devices++;
        }
    }
    return 0;
}
