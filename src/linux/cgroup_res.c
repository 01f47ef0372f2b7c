/* linux.resources → cgroup files (config-linux.md "Control groups"; v2 names from
 * ../shared/reference/cgroup-v2.md). */
#include "cgroup_internal.h"
#include "husk/fileio.h"
#include "husk/log.h"
#include "husk/rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int husk_cg_write(const struct husk_cgroup_dir *d, const char *file, const char *value, struct husk_err *err)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", d->path, file);
    if (husk_write_file(path, value, strlen(value), err) >= 0)
        return 0;
    if (err->code == ENOENT)
        return husk_err_set(err, 0, "cgroup: this kernel has no `%s` in `%s` (the controller lacks that feature)",
                            file, d->path);
    return husk_err_wrap(err, "cgroup: write \"%s\" to `%s`", value, file);
}

/* First line of a small file. */
static int read_small(const char *path, char *out, size_t n)
{
    if (husk_read_file(path, out, n) < 0)
        return -1;
    out[strcspn(out, "\n")] = '\0';
    return 0;
}

void husk_cgroup_cpuset_inherit(const struct husk_cgroup_dir *d)
{
    /* top-down from the first created directory */
    for (int k = d->created; k > 0; k--) {
        char dir[PATH_MAX], parent[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", d->path);
        for (int j = 1; j < k; j++)
            *strrchr(dir, '/') = '\0';
        snprintf(parent, sizeof parent, "%s", dir);
        *strrchr(parent, '/') = '\0';
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
        for (int f = 0; f < 2; f++) {
            char src[PATH_MAX + 32], dst[PATH_MAX + 32], v[4096], cur[4096];
            snprintf(src, sizeof src, "%s/%s", parent, files[f]);
            snprintf(dst, sizeof dst, "%s/%s", dir, files[f]);
            if (read_small(dst, cur, sizeof cur) == 0 && cur[0])
                continue;
            if (read_small(src, v, sizeof v) < 0)
                continue;
            int fd = husk_open(dst, O_WRONLY | O_CLOEXEC);
            if (fd >= 0) {
                (void)!write(fd, v, strlen(v));
                close(fd);
            }
        }
    }
}

static bool has_ctrl(const char *list, const char *ctrl)
{
    size_t n = strlen(ctrl);
    for (const char *p = list; (p = strstr(p, ctrl)); p += n)
        if ((p == list || p[-1] == ',' || p[-1] == ' ') && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
    return false;
}

/* Enables ctrl for d: in the cgroup.subtree_control of every directory from the hierarchy's
 * root down to d's parent that lacks it, as runc's v2 manager does, so that a parent husk
 * did not make (an engine's slice, say) passes it on. Directories that have it already are
 * only read; none is written unless the root itself has ctrl. */
static int enable_down_to(const struct husk_cgroup_dir *d, const char *ctrl, struct husk_err *err)
{
    /* the root is the highest ancestor that is still a cgroup (has cgroup.controllers) */
    char root[PATH_MAX], path[PATH_MAX + 32], v[1024];
    snprintf(root, sizeof root, "%s", d->path);
    for (;;) {
        char *slash = strrchr(root, '/');
        if (!slash || slash == root)
            break;
        *slash = '\0';
        snprintf(path, sizeof path, "%s/cgroup.controllers", root);
        if (access(path, F_OK) < 0) {
            *slash = '/';
            break;
        }
    }
    snprintf(path, sizeof path, "%s/cgroup.controllers", root);
    if (read_small(path, v, sizeof v) < 0 || !has_ctrl(v, ctrl))
        return 0;   /* the hierarchy lacks it: the caller's error */
    size_t rl = strlen(root);
    char anc[PATH_MAX];
    snprintf(anc, sizeof anc, "%s", root);
    for (;;) {
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", anc);
        if (read_small(path, v, sizeof v) < 0 || !has_ctrl(v, ctrl)) {
            struct husk_cgroup_dir a = {0};
            char val[64];
            snprintf(a.path, sizeof a.path, "%s", anc);
            snprintf(val, sizeof val, "+%s", ctrl);
            if (husk_cg_write(&a, "cgroup.subtree_control", val, err) < 0)
                return husk_err_wrap(err, "cgroup: enable %s for `%s` in `%s`", ctrl, d->path, anc);
        }
        /* next: one component deeper, until d itself */
        const char *next = strchr(d->path + strlen(anc) + 1, '/');
        if (!next)
            return 0;
        size_t nl = (size_t)(next - d->path);
        if (nl >= sizeof anc || nl <= rl)
            return 0;
        memcpy(anc, d->path, nl);
        anc[nl] = '\0';
    }
}

/* The directory that enforces `ctrl`: a v1 hierarchy with it, else the v2 one when the
 * controller is (or can be) enabled there. NULL with err set when enabling it failed. */
static const struct husk_cgroup_dir *dir_for(const struct husk_cgroup *cg, const char *ctrl, struct husk_err *err)
{
    for (int i = 0; i < cg->n; i++)
        if (!cg->dirs[i].v2 && has_ctrl(cg->dirs[i].ctrls, ctrl))
            return &cg->dirs[i];
    for (int i = 0; i < cg->n; i++) {
        const struct husk_cgroup_dir *d = &cg->dirs[i];
        if (!d->v2)
            continue;
        char path[PATH_MAX + 32], v[1024];
        snprintf(path, sizeof path, "%s/cgroup.controllers", d->path);
        if (read_small(path, v, sizeof v) == 0 && has_ctrl(v, ctrl))
            return d;
        /* the user's systemd manager enables what user@.service's Delegate= gave it: above
         * its scope nothing is the user's to write */
        if (cg->unit[0] && husk_systemd_user())
            return NULL;
        if (enable_down_to(d, ctrl, err) < 0)
            return NULL;
        if (read_small(path, v, sizeof v) == 0 && has_ctrl(v, ctrl))
            return d;
    }
    return NULL;
}

struct res_ctx {
    const struct husk_cgroup *cg;
    struct husk_err *err;
};

static const struct husk_cgroup_dir *need(struct res_ctx *x, const char *ctrl, const char *what)
{
    x->err->msg[0] = '\0';
    const struct husk_cgroup_dir *d = dir_for(x->cg, ctrl, x->err);
    if (!d && x->err->msg[0])
        husk_err_wrap(x->err, "%s", what);
    else if (!d && x->cg->disabled)
        husk_err_set(x->err, 0, "cgroup: %s needs the %s controller, and cgroups are disabled "
                                "(--cgroup-manager disabled)", what, ctrl);
    else if (!d && x->cg->unit[0] && husk_systemd_user())
        husk_err_set(x->err, 0, "cgroup: %s needs the %s controller, which the user's systemd manager was not "
                                "delegated (user@%u.service's Delegate=; systemd's default is pids memory cpu): "
                                "drop the limit or delegate the controller", what, ctrl, husk_rootless_host_uid());
    else if (!d && x->cg->skipped)
        husk_err_set(x->err, 0, "cgroup: %s needs the %s controller, and rootless husk has no cgroup it may "
                                "write there (delegate a cgroup v2 subtree to the user, or drop the limit)", what, ctrl);
    else if (!d)
        husk_err_set(x->err, 0, "cgroup: %s needs the %s controller, which this host does not provide", what, ctrl);
    return d;
}

static int wr(struct res_ctx *x, const struct husk_cgroup_dir *d, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int wr(struct res_ctx *x, const struct husk_cgroup_dir *d, const char *file, const char *fmt, ...)
{
    char v[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    return husk_cg_write(d, file, v, x->err);
}

static void limit_str(int64_t v, char *out, size_t n)
{
    if (v < 0)
        snprintf(out, n, "max");
    else
        snprintf(out, n, "%" PRId64, v);
}

static int apply_memory(struct res_ctx *x, const struct husk_resources *r)
{
    /* Engines send 0 for "not set" (Docker: limit, reservation, kernel): a 0-byte limit
     * is never meant, so zero is unset here. */
    const typeof(r->memory) *m = &r->memory;
    struct husk_opt_i64 limit = m->limit, reservation = m->reservation, swap = m->swap;
    limit.set &= limit.v != 0;
    reservation.set &= reservation.v != 0;
    swap.set &= swap.v != 0;
    bool any = limit.set || reservation.set || swap.set || m->swappiness.set ||
               (m->disable_oom_killer.set && m->disable_oom_killer.v) || (m->kernel.set && m->kernel.v) ||
               (m->kernel_tcp.set && m->kernel_tcp.v);
    if (!any)
        return 0;
    const struct husk_cgroup_dir *d = need(x, "memory", "linux.resources.memory");
    if (!d)
        return -1;
    char b[32];
    if (d->v2) {
        if (limit.set) {
            limit_str(limit.v, b, sizeof b);
            if (wr(x, d, "memory.max", "%s", b) < 0)
                return -1;
        }
        if (reservation.set && wr(x, d, "memory.low", "%" PRId64, reservation.v) < 0)
            return -1;
        if (swap.set) {
            /* v1 "swap" is memory+swap; v2 limits swap alone */
            int64_t s = swap.v;
            if (s > 0 && limit.set && limit.v > 0)
                s -= limit.v;
            limit_str(s, b, sizeof b);
            if (wr(x, d, "memory.swap.max", "%s", b) < 0)
                return -1;
        }
        if ((m->kernel.set && m->kernel.v) || (m->kernel_tcp.set && m->kernel_tcp.v))
            return husk_err_set(x->err, 0, "cgroup: linux.resources.memory.kernel/kernelTCP are not supported on cgroup v2");
        return 0;
    }
    if (limit.set && wr(x, d, "memory.limit_in_bytes", "%" PRId64, limit.v) < 0)
        return -1;
    if (reservation.set && wr(x, d, "memory.soft_limit_in_bytes", "%" PRId64, reservation.v) < 0)
        return -1;
    if (swap.set && wr(x, d, "memory.memsw.limit_in_bytes", "%" PRId64, swap.v) < 0)
        return husk_err_wrap(x->err, "linux.resources.memory.swap (needs swap accounting)");
    if (m->swappiness.set && m->swappiness.v <= 100 &&
        wr(x, d, "memory.swappiness", "%" PRIu64, m->swappiness.v) < 0)
        return -1;
    if (m->disable_oom_killer.set && m->disable_oom_killer.v && wr(x, d, "memory.oom_control", "1") < 0)
        return -1;
    if (m->kernel.set && m->kernel.v) {
        if (wr(x, d, "memory.kmem.limit_in_bytes", "%" PRId64, m->kernel.v) < 0)
            return -1;
        /* Newer kernels keep the file but ignore the write (it reads unlimited): never drop a limit silently */
        char path[PATH_MAX + 64], got[32];
        snprintf(path, sizeof path, "%s/memory.kmem.limit_in_bytes", d->path);
        if (read_small(path, got, sizeof got) == 0 && strtoll(got, NULL, 10) > m->kernel.v)
            return husk_err_set(x->err, 0,
                                "cgroup: linux.resources.memory.kernel: this kernel ignores kernel memory limits "
                                "(memory.kmem.limit_in_bytes reads %s after writing %" PRId64 ")",
                                got, m->kernel.v);
    }
    if (m->kernel_tcp.set && m->kernel_tcp.v &&
        wr(x, d, "memory.kmem.tcp.limit_in_bytes", "%" PRId64, m->kernel_tcp.v) < 0)
        return -1;
    return 0;
}

static int apply_cpu(struct res_ctx *x, const struct husk_resources *r)
{
    const typeof(r->cpu) *c = &r->cpu;
    bool shares = c->shares.set && c->shares.v;
    bool quota = (c->quota.set && c->quota.v) || (c->period.set && c->period.v);
    bool rt = (c->realtime_runtime.set && c->realtime_runtime.v) || (c->realtime_period.set && c->realtime_period.v);
    if (shares || quota || rt || (c->burst.set && c->burst.v) || c->idle.set) {
        const struct husk_cgroup_dir *d = need(x, "cpu", "linux.resources.cpu");
        if (!d)
            return -1;
        if (d->v2) {
            if (shares && wr(x, d, "cpu.weight", "%llu", husk_cgroup_shares_to_weight(c->shares.v)) < 0)
                return -1;
            if (quota) {
                char q[32];
                limit_str(c->quota.set && c->quota.v > 0 ? c->quota.v : -1, q, sizeof q);
                if (wr(x, d, "cpu.max", "%s %" PRIu64, q, c->period.set && c->period.v ? c->period.v : 100000) < 0)
                    return -1;
            }
            if (c->burst.set && wr(x, d, "cpu.max.burst", "%" PRIu64, c->burst.v) < 0)
                return -1;
            if (c->idle.set && wr(x, d, "cpu.idle", "%" PRId64, c->idle.v) < 0)
                return -1;
            if (rt)
                return husk_err_set(x->err, 0, "cgroup: linux.resources.cpu.realtime* are not supported on cgroup v2");
        } else {
            if (shares && wr(x, d, "cpu.shares", "%" PRIu64, c->shares.v) < 0)
                return -1;
            if (c->period.set && c->period.v && wr(x, d, "cpu.cfs_period_us", "%" PRIu64, c->period.v) < 0)
                return -1;
            if (c->quota.set && c->quota.v && wr(x, d, "cpu.cfs_quota_us", "%" PRId64, c->quota.v) < 0)
                return -1;
            if (c->burst.set && c->burst.v && wr(x, d, "cpu.cfs_burst_us", "%" PRIu64, c->burst.v) < 0)
                return -1;
            if (c->realtime_period.set && c->realtime_period.v &&
                wr(x, d, "cpu.rt_period_us", "%" PRIu64, c->realtime_period.v) < 0)
                return -1;
            if (c->realtime_runtime.set && c->realtime_runtime.v &&
                wr(x, d, "cpu.rt_runtime_us", "%" PRId64, c->realtime_runtime.v) < 0)
                return -1;
            if (c->idle.set && wr(x, d, "cpu.idle", "%" PRId64, c->idle.v) < 0)
                return -1;
        }
    }
    if ((c->cpus && *c->cpus) || (c->mems && *c->mems)) {
        const struct husk_cgroup_dir *d = need(x, "cpuset", "linux.resources.cpu.cpus/mems");
        if (!d)
            return -1;
        if (c->cpus && *c->cpus && wr(x, d, "cpuset.cpus", "%s", c->cpus) < 0)
            return -1;
        if (c->mems && *c->mems && wr(x, d, "cpuset.mems", "%s", c->mems) < 0)
            return -1;
    }
    return 0;
}

static void dev_rule(const struct husk_dev_rule *r, char *out, size_t n)
{
    char maj[24] = "*", min[24] = "*";
    if (r->major.set && r->major.v >= 0)
        snprintf(maj, sizeof maj, "%" PRId64, r->major.v);
    if (r->minor.set && r->minor.v >= 0)
        snprintf(min, sizeof min, "%" PRId64, r->minor.v);
    snprintf(out, n, "%s %s:%s %s", r->type && *r->type ? r->type : "a", maj, min,
             r->access && *r->access ? r->access : "rwm");
}

static int apply_devices(struct res_ctx *x, const struct husk_resources *r, const struct husk_config *c)
{
    if (!r->n_devices)
        return 0;
    /* Rootless, device rules cannot be enforced (v1 devices is root's, a v2 filter program
     * needs CAP_BPF and CAP_SYS_ADMIN) and are not needed: the user opens only the nodes it
     * may open anyway, and mknod is refused in a user namespace. runc skips them too. Known
     * by a hierarchy left out (only rootless) or a filter refused: root's containers never
     * read the uid map for it. */
    if (x->cg->disabled || x->cg->skipped) {
        husk_debug("%s: linux.resources.devices not enforced", x->cg->disabled ? "no cgroups" : "rootless");
        return 0;
    }
    const struct husk_cgroup_dir *d = NULL;
    for (int i = 0; i < x->cg->n && !d; i++)
        if (!x->cg->dirs[i].v2 && has_ctrl(x->cg->dirs[i].ctrls, "devices"))
            d = &x->cg->dirs[i];
    if (!d) {
        /* cgroup v2: the rules become an eBPF program on the container's cgroup */
        for (int i = 0; i < x->cg->n; i++)
            if (x->cg->dirs[i].v2) {
                if (husk_devfilter_attach(x->cg->dirs[i].path, c, x->err) == 0)
                    return 0;
                if (x->err->code != EPERM || !husk_rootless())
                    return -1;
                husk_err_clear(x->err);
                husk_debug("rootless: linux.resources.devices not enforced (no device filter in a delegated cgroup)");
                return 0;
            }
        return husk_err_set(x->err, 0, "cgroup: linux.resources.devices needs the devices controller or cgroup v2");
    }
    char rule[128];
    for (size_t i = 0; i < r->n_devices; i++) {
        dev_rule(&r->devices[i], rule, sizeof rule);
        if (wr(x, d, r->devices[i].allow ? "devices.allow" : "devices.deny", "%s", rule) < 0)
            return -1;
    }
    /* The implicit rules last, so they win (see cgroup_internal.h). The nodes linux.devices
     * makes get no rule of their own: the rules decide their access, never widened. */
    for (size_t i = 0; i < sizeof husk_dev_implicit_rules / sizeof *husk_dev_implicit_rules; i++) {
        const struct husk_dev_implicit *di = &husk_dev_implicit_rules[i];
        char maj[16] = "*", min[16] = "*";
        if (di->major >= 0)
            snprintf(maj, sizeof maj, "%d", di->major);
        if (di->minor >= 0)
            snprintf(min, sizeof min, "%d", di->minor);
        if (wr(x, d, "devices.allow", "%c %s:%s %s", di->type, maj, min, di->access) < 0)
            return -1;
    }
    return 0;
}

static bool cg_has(const struct husk_cgroup_dir *d, const char *file)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", d->path, file);
    return access(path, F_OK) == 0;
}

static int apply_blkio(struct res_ctx *x, const struct husk_resources *r)
{
    const typeof(r->block_io) *b = &r->block_io;
    bool any = (b->weight.set && b->weight.v) || (b->leaf_weight.set && b->leaf_weight.v) || b->n_weight_devices;
    for (int i = 0; i < 4; i++)
        any |= b->n_throttle[i] > 0;
    if (!any)
        return 0;
    const struct husk_cgroup_dir *d = dir_for(x->cg, "blkio", x->err);
    if (!d)
        d = need(x, "io", "linux.resources.blockIO");
    if (!d)
        return -1;
    static const char *const v1f[4] = {"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                                       "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
    static const char *const v2k[4] = {"rbps", "wbps", "riops", "wiops"};
    /* CFQ's blkio.weight left with Linux 5.0; BFQ (when it is the disk's scheduler) has its own files */
    bool bfq = !d->v2 && !cg_has(d, "blkio.weight") && cg_has(d, "blkio.bfq.weight");
    if (b->weight.set && b->weight.v &&
        wr(x, d, d->v2 ? "io.weight" : bfq ? "blkio.bfq.weight" : "blkio.weight", d->v2 ? "default %" PRIu64 : "%" PRIu64,
           b->weight.v) < 0)
        return -1;
    if (b->leaf_weight.set && b->leaf_weight.v) {
        if (d->v2)
            return husk_err_set(x->err, 0, "cgroup: linux.resources.blockIO.leafWeight is not supported on cgroup v2");
        if (wr(x, d, "blkio.leaf_weight", "%" PRIu64, b->leaf_weight.v) < 0)
            return -1;
    }
    for (size_t i = 0; i < b->n_weight_devices; i++) {
        const struct husk_weight_dev *w = &b->weight_devices[i];
        if (w->weight.set && wr(x, d, d->v2 ? "io.weight" : bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", "%" PRId64 ":%" PRId64 " %" PRIu64,
                                w->major, w->minor, w->weight.v) < 0)
            return -1;
    }
    for (int t = 0; t < 4; t++)
        for (size_t i = 0; i < b->n_throttle[t]; i++) {
            const struct husk_throttle_dev *td = &b->throttle[t][i];
            int rc = d->v2 ? wr(x, d, "io.max", "%" PRId64 ":%" PRId64 " %s=%" PRIu64, td->major, td->minor, v2k[t], td->rate)
                           : wr(x, d, v1f[t], "%" PRId64 ":%" PRId64 " %" PRIu64, td->major, td->minor, td->rate);
            if (rc < 0)
                return -1;
        }
    return 0;
}

static int apply_misc(struct res_ctx *x, const struct husk_resources *r)
{
    if (r->pids.set && r->pids.limit.set) {
        const struct husk_cgroup_dir *d = need(x, "pids", "linux.resources.pids");
        char b[32];
        limit_str(r->pids.limit.v > 0 ? r->pids.limit.v : -1, b, sizeof b);
        if (!d || wr(x, d, "pids.max", "%s", b) < 0)
            return -1;
    }
    for (size_t i = 0; i < r->n_hugepages; i++) {
        const struct husk_cgroup_dir *d = need(x, "hugetlb", "linux.resources.hugepageLimits");
        char f[128];
        if (!d)
            return -1;
        snprintf(f, sizeof f, d->v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes", r->hugepages[i].page_size);
        if (strchr(r->hugepages[i].page_size, '/'))
            return husk_err_set(x->err, 0, "cgroup: invalid hugepage size \"%s\"", r->hugepages[i].page_size);
        if (wr(x, d, f, "%" PRIu64, r->hugepages[i].limit) < 0)
            return -1;
    }
    if (r->network.set && (r->network.class_id.set || r->network.n_priorities)) {
        if (r->network.class_id.set) {
            const struct husk_cgroup_dir *d = need(x, "net_cls", "linux.resources.network.classID");
            if (!d || d->v2 || wr(x, d, "net_cls.classid", "%" PRIu64, r->network.class_id.v) < 0)
                return d && d->v2 ? husk_err_set(x->err, 0, "cgroup: network.classID needs cgroup v1 net_cls") : -1;
        }
        for (size_t i = 0; i < r->network.n_priorities; i++) {
            const struct husk_cgroup_dir *d = need(x, "net_prio", "linux.resources.network.priorities");
            if (!d || wr(x, d, "net_prio.ifpriomap", "%s %u", r->network.priorities[i].name,
                         r->network.priorities[i].priority) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < r->n_rdma; i++) {
        const struct husk_cgroup_dir *d = need(x, "rdma", "linux.resources.rdma");
        char v[256] = "";
        if (!d)
            return -1;
        size_t l = (size_t)snprintf(v, sizeof v, "%s", r->rdma[i].device);
        if (r->rdma[i].hca_handles.set)
            l += snprintf(v + l, sizeof v - l, " hca_handle=%" PRIu64, r->rdma[i].hca_handles.v);
        if (r->rdma[i].hca_objects.set)
            snprintf(v + l, sizeof v - l, " hca_object=%" PRIu64, r->rdma[i].hca_objects.v);
        if (wr(x, d, "rdma.max", "%s", v) < 0)
            return -1;
    }
    for (size_t i = 0; i < r->n_unified; i++) {
        const char *k = r->unified[i].key;
        const char *dot = strchr(k, '.');
        if (strchr(k, '/') || !dot || dot == k)
            return husk_err_set(x->err, 0, "cgroup: linux.resources.unified: \"%s\" is not a cgroup file name", k);
        char ctrl[64];
        snprintf(ctrl, sizeof ctrl, "%.*s", (int)(dot - k), k);
        const struct husk_cgroup_dir *d = NULL;
        for (int j = 0; j < x->cg->n && !d; j++)
            if (x->cg->dirs[j].v2)
                d = &x->cg->dirs[j];
        if (!d)
            return husk_err_set(x->err, 0, "cgroup: linux.resources.unified needs cgroup v2");
        x->err->msg[0] = '\0';
        if (strcmp(ctrl, "cgroup") && dir_for(x->cg, ctrl, x->err) != d) {
            if (x->err->msg[0])   /* enabling it failed: that error says why */
                return husk_err_wrap(x->err, "linux.resources.unified.%s", k);
            return husk_err_set(x->err, 0, "cgroup: linux.resources.unified.%s: controller \"%s\" is not available", k,
                                ctrl);
        }
        if (husk_cg_write(d, k, r->unified[i].value, x->err) < 0)
            return -1;
    }
    return 0;
}

int husk_cgroup_apply(const struct husk_cgroup *cg, const struct husk_config *c, struct husk_err *err)
{
    const struct husk_resources *r = &c->linux_.resources;
    if (!r->set)
        return 0;
    struct res_ctx x = {cg, err};
    if (apply_memory(&x, r) < 0 || apply_cpu(&x, r) < 0 || apply_devices(&x, r, c) < 0 || apply_blkio(&x, r) < 0 ||
        apply_misc(&x, r) < 0)
        return -1;
    return 0;
}
