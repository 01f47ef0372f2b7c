/* Scheduling, I/O priority and NUMA policy of the container process (config.md "process",
 * config-linux.md "Memory policy"). */
#include "husk/security.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int husk_parse_cpu_list(const char *s, unsigned long *mask, size_t nbits)
{
    size_t words = (nbits + 63) / 64;
    memset(mask, 0, words * sizeof *mask);
    const char *p = s;
    while (*p) {
        char *end;
        unsigned long a = strtoul(p, &end, 10), b = a;
        if (end == p)
            return -1;
        p = end;
        if (*p == '-') {
            b = strtoul(p + 1, &end, 10);
            if (end == p + 1 || b < a)
                return -1;
            p = end;
        }
        if (b >= nbits)
            return -1;
        for (unsigned long i = a; i <= b; i++)
            mask[i / 64] |= 1UL << (i % 64);
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return 0;
}

struct sched_attr_k {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t util_min, util_max;
};

int husk_sched_apply(const struct husk_sched *s, struct husk_err *err)
{
    if (!s->set)
        return 0;
    static const struct { const char *n; int v; } pol[] = {
        {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2}, {"SCHED_BATCH", 3},
        {"SCHED_ISO", 4}, {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
    };
    static const struct { const char *n; uint64_t v; } flg[] = {
        {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02}, {"SCHED_FLAG_DL_OVERRUN", 0x04},
        {"SCHED_FLAG_KEEP_POLICY", 0x08}, {"SCHED_FLAG_KEEP_PARAMS", 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
        {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
    };
    struct sched_attr_k a = {.size = sizeof a, .sched_policy = UINT32_MAX};
    for (size_t i = 0; i < sizeof pol / sizeof *pol; i++)
        if (!strcmp(pol[i].n, s->policy))
            a.sched_policy = (uint32_t)pol[i].v;
    if (a.sched_policy == UINT32_MAX)
        return husk_err_set(err, 0, "config.json: .process.scheduler.policy: unknown policy \"%s\"", s->policy);
    for (size_t k = 0; k < s->flags.n; k++) {
        bool found = false;
        for (size_t i = 0; i < sizeof flg / sizeof *flg; i++)
            if (!strcmp(flg[i].n, s->flags.v[k])) {
                a.sched_flags |= flg[i].v;
                found = true;
            }
        if (!found)
            return husk_err_set(err, 0, "config.json: .process.scheduler.flags[%zu]: unknown flag \"%s\"", k,
                                s->flags.v[k]);
    }
    a.sched_nice = s->nice;
    a.sched_priority = (uint32_t)s->priority;
    a.sched_runtime = s->runtime;
    a.sched_deadline = s->deadline;
    a.sched_period = s->period;
    if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
        return husk_err_set(err, errno, "set scheduler %s (nice %d, priority %d)", s->policy, s->nice, s->priority);
    return 0;
}

int husk_ioprio_apply(const struct husk_process *p, struct husk_err *err)
{
    if (!p->io_priority.set)
        return 0;
    int cls;
    if (!strcmp(p->io_priority.class_, "IOPRIO_CLASS_RT"))
        cls = 1;
    else if (!strcmp(p->io_priority.class_, "IOPRIO_CLASS_BE"))
        cls = 2;
    else if (!strcmp(p->io_priority.class_, "IOPRIO_CLASS_IDLE"))
        cls = 3;
    else
        return husk_err_set(err, 0, "config.json: .process.ioPriority.class: unknown class \"%s\"",
                            p->io_priority.class_);
    if (p->io_priority.priority < 0 || p->io_priority.priority > 7)
        return husk_err_set(err, 0, "config.json: .process.ioPriority.priority: must be 0 to 7, got %d",
                            p->io_priority.priority);
    /* IOPRIO_WHO_PROCESS on the init: every container process inherits it. The process
     * group would still include the caller of `husk create`. */
    if (syscall(SYS_ioprio_set, 1, 0, (cls << 13) | p->io_priority.priority) < 0)
        return husk_err_set(err, errno, "set I/O priority %s %d", p->io_priority.class_, p->io_priority.priority);
    return 0;
}

int husk_mempolicy_apply(const struct husk_config *c, struct husk_err *err)
{
    const typeof(c->linux_.memory_policy) *m = &c->linux_.memory_policy;
    if (!m->set)
        return 0;
    static const struct { const char *n; int v; } modes[] = {
        {"MPOL_DEFAULT", 0}, {"MPOL_PREFERRED", 1}, {"MPOL_BIND", 2}, {"MPOL_INTERLEAVE", 3},
        {"MPOL_LOCAL", 4}, {"MPOL_PREFERRED_MANY", 5}, {"MPOL_WEIGHTED_INTERLEAVE", 6},
    };
    static const struct { const char *n; unsigned v; } flags[] = {
        {"MPOL_F_NUMA_BALANCING", 1u << 13}, {"MPOL_F_RELATIVE_NODES", 1u << 14}, {"MPOL_F_STATIC_NODES", 1u << 15},
    };
    int mode = -1;
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
        if (!strcmp(modes[i].n, m->mode))
            mode = modes[i].v;
    if (mode < 0)
        return husk_err_set(err, 0, "config.json: .linux.memoryPolicy.mode: unknown mode \"%s\"", m->mode);
    unsigned f = 0;
    for (size_t k = 0; k < m->flags.n; k++) {
        bool found = false;
        for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
            if (!strcmp(flags[i].n, m->flags.v[k])) {
                f |= flags[i].v;
                found = true;
            }
        if (!found)
            return husk_err_set(err, 0, "config.json: .linux.memoryPolicy.flags[%zu]: unknown flag \"%s\"", k,
                                m->flags.v[k]);
    }
    unsigned long mask[16];
    size_t nbits = 1024;
    bool have_nodes = m->nodes && *m->nodes;
    if (have_nodes && husk_parse_cpu_list(m->nodes, mask, nbits) < 0)
        return husk_err_set(err, 0, "config.json: .linux.memoryPolicy.nodes: invalid node list \"%s\"", m->nodes);
    if (syscall(SYS_set_mempolicy, mode | (int)f, have_nodes ? mask : NULL, have_nodes ? nbits + 1 : 0) < 0)
        return husk_err_set(err, errno, "set memory policy %s", m->mode);
    return 0;
}

int husk_unsupported_check(const struct husk_config *c, struct husk_err *err)
{
    const struct husk_linux *l = &c->linux_;
    if (l->intel_rdt.set && access("/sys/fs/resctrl/schemata", F_OK) < 0)
        return husk_err_set(err, 0, "config.json: .linux.intelRdt: this host has no resctrl filesystem "
                                    "(/sys/fs/resctrl is not mounted)");
    if (l->intel_rdt.set)
        return husk_err_set(err, 0, "config.json: .linux.intelRdt: resctrl groups are not supported by husk yet");
    if (l->n_net_devices)
        return husk_err_set(err, 0, "config.json: .linux.netDevices: moving host network devices into the "
                                    "container is not supported by husk yet");
    if (l->mount_label && *l->mount_label && access("/sys/fs/selinux", F_OK) < 0)
        return husk_err_set(err, 0, "config.json: .linux.mountLabel: SELinux is not enabled on this host");
    return 0;
}
