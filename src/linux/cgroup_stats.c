/* `events`: cgroup statistics in runc's JSON shape, and the OOM-kill counter. */
#include "cgroup_internal.h"
#include "husk/fileio.h"
#include "husk/jsonw.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct husk_cgroup_dir *find(const struct husk_cgroup *cg, const char *ctrl)
{
    for (int i = 0; i < cg->n; i++)
        if (!cg->dirs[i].v2) {
            const char *c = cg->dirs[i].ctrls;
            size_t n = strlen(ctrl);
            for (const char *p = c; (p = strstr(p, ctrl)); p += n)
                if ((p == c || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
                    return &cg->dirs[i];
        }
    for (int i = 0; i < cg->n; i++)
        if (cg->dirs[i].v2) {
            char path[PATH_MAX + 32], v[1024] = "";
            snprintf(path, sizeof path, "%s/cgroup.controllers", cg->dirs[i].path);
            FILE *f = husk_fopen_read(path);
            if (f) {
                if (!fgets(v, sizeof v, f))
                    v[0] = '\0';
                fclose(f);
            }
            if (strstr(v, ctrl))
                return &cg->dirs[i];
        }
    return NULL;
}

/* A number from a file, or from its "key value" line when key is given; -1 when absent. */
static long long num(const struct husk_cgroup_dir *d, const char *file, const char *key)
{
    if (!d)
        return -1;
    char path[PATH_MAX + 64], line[512];
    snprintf(path, sizeof path, "%s/%s", d->path, file);
    FILE *f = husk_fopen_read(path);
    if (!f)
        return -1;
    long long v = -1;
    size_t kl = key ? strlen(key) : 0;
    while (fgets(line, sizeof line, f)) {
        if (!key) {
            v = strncmp(line, "max", 3) == 0 ? 0 : strtoll(line, NULL, 10);
            break;
        }
        if (!strncmp(line, key, kl) && line[kl] == ' ') {
            v = strtoll(line + kl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static void kv(struct husk_jsonw *w, const char *k, long long v)
{
    husk_jsonw_key(w, k);
    husk_jsonw_int(w, v < 0 ? 0 : v);
}

long long husk_cgroup_oom_kills(const struct husk_cgroup *cg)
{
    const struct husk_cgroup_dir *m = find(cg, "memory");
    if (!m)
        return 0;
    long long v = num(m, m->v2 ? "memory.events" : "memory.oom_control", "oom_kill");
    return v < 0 ? 0 : v;
}

void husk_cgroup_stats(const struct husk_cgroup *cg, struct husk_jsonw *w)
{
    const struct husk_cgroup_dir *cpu = find(cg, "cpuacct"), *mem = find(cg, "memory"), *pids = find(cg, "pids");
    const struct husk_cgroup_dir *cpu2 = cpu ? NULL : find(cg, "cpu");
    husk_jsonw_begin_object(w);
    husk_jsonw_key(w, "cpu");
    husk_jsonw_begin_object(w);
    husk_jsonw_key(w, "usage");
    husk_jsonw_begin_object(w);
    if (cpu) {
        long long user = num(cpu, "cpuacct.stat", "user"), sys = num(cpu, "cpuacct.stat", "system");
        long long hz = sysconf(_SC_CLK_TCK);
        kv(w, "total", num(cpu, "cpuacct.usage", NULL));
        kv(w, "user", user < 0 ? -1 : user * (1000000000LL / hz));
        kv(w, "kernel", sys < 0 ? -1 : sys * (1000000000LL / hz));
    } else {
        const struct husk_cgroup_dir *d = cpu2 ? cpu2 : find(cg, "");
        for (int i = 0; !d && i < cg->n; i++)
            if (cg->dirs[i].v2)
                d = &cg->dirs[i];
        long long t = num(d, "cpu.stat", "usage_usec"), u = num(d, "cpu.stat", "user_usec"),
                  s = num(d, "cpu.stat", "system_usec");
        kv(w, "total", t < 0 ? -1 : t * 1000);
        kv(w, "user", u < 0 ? -1 : u * 1000);
        kv(w, "kernel", s < 0 ? -1 : s * 1000);
    }
    husk_jsonw_end_object(w);
    const struct husk_cgroup_dir *thr = cpu2 ? cpu2 : find(cg, "cpu");
    husk_jsonw_key(w, "throttling");
    husk_jsonw_begin_object(w);
    kv(w, "periods", num(thr, "cpu.stat", "nr_periods"));
    kv(w, "throttledPeriods", num(thr, "cpu.stat", "nr_throttled"));
    long long tt = num(thr, "cpu.stat", thr && thr->v2 ? "throttled_usec" : "throttled_time");
    kv(w, "throttledTime", thr && thr->v2 && tt > 0 ? tt * 1000 : tt);
    husk_jsonw_end_object(w);
    husk_jsonw_end_object(w);
    husk_jsonw_key(w, "memory");
    husk_jsonw_begin_object(w);
    husk_jsonw_key(w, "usage");
    husk_jsonw_begin_object(w);
    if (mem && mem->v2) {
        kv(w, "usage", num(mem, "memory.current", NULL));
        kv(w, "max", num(mem, "memory.peak", NULL));
        kv(w, "limit", num(mem, "memory.max", NULL));
        kv(w, "failcnt", num(mem, "memory.events", "max"));
    } else {
        kv(w, "usage", num(mem, "memory.usage_in_bytes", NULL));
        kv(w, "max", num(mem, "memory.max_usage_in_bytes", NULL));
        kv(w, "limit", num(mem, "memory.limit_in_bytes", NULL));
        kv(w, "failcnt", num(mem, "memory.failcnt", NULL));
    }
    husk_jsonw_end_object(w);
    kv(w, "oomKills", husk_cgroup_oom_kills(cg));
    husk_jsonw_end_object(w);
    husk_jsonw_key(w, "pids");
    husk_jsonw_begin_object(w);
    kv(w, "current", num(pids, "pids.current", NULL));
    kv(w, "limit", num(pids, "pids.max", NULL));
    husk_jsonw_end_object(w);
    husk_jsonw_end_object(w);
}
