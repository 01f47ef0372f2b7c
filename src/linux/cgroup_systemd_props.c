/* The systemd driver's unit properties (cgroup_systemd_internal.h): the resources systemd
 * knows, under its names for the host's cgroup version, and StartTransientUnit's arguments. */
#include "cgroup_internal.h"
#include "cgroup_systemd_internal.h"
#include "husk/fileio.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void prop(struct husk_dbus_buf *b, const char *name, const char *sig)
{
    husk_dbus_struct(b);
    husk_dbus_put_s(b, name);
    husk_dbus_put_v(b, sig);
}

static void prop_t(struct husk_dbus_buf *b, const char *name, uint64_t v)
{
    prop(b, name, "t");
    husk_dbus_put_t(b, v);
}

static void prop_b(struct husk_dbus_buf *b, const char *name, bool v)
{
    prop(b, name, "b");
    husk_dbus_put_b(b, v);
}

/* "0-3,7" as systemd's CPU/node set: byte i bit j is number 8i+j. */
static int prop_bitmask(struct husk_dbus_buf *b, const char *name, const char *list)
{
    unsigned char bits[1024] = {0};
    int top = -1;
    for (const char *p = list; *p;) {
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p)
            return -1;
        if (*end == '-') {
            p = end + 1;
            hi = strtol(p, &end, 10);
            if (end == p)
                return -1;
        }
        if (lo < 0 || hi < lo || hi >= (long)sizeof bits * 8)
            return -1;
        for (long k = lo; k <= hi; k++)
            bits[k / 8] |= (unsigned char)(1u << (k % 8));
        if (hi > top)
            top = (int)hi;
        p = end;
        while (*p == ',' || *p == ' ' || *p == '\n')
            p++;
    }
    prop(b, name, "ay");
    struct husk_dbus_arr a = husk_dbus_array_begin(b, 1);
    for (int i = 0; i <= top / 8 && top >= 0; i++)
        husk_dbus_put_y(b, bits[i]);
    husk_dbus_array_end(b, a);
    return 0;
}

/* A device rule as systemd's DeviceAllow: a node path (systemd reads the numbers from
 * /dev/char/M:N without a stat), or "char-NAME" from /proc/devices for a whole major. */
static int dev_allow_entry(char type, int64_t major, int64_t minor, char *out, size_t n)
{
    const char *kind = type == 'b' ? "block" : "char";
    if (type != 'b' && type != 'c')
        return -1;
    if (major < 0) {
        snprintf(out, n, "%s-*", kind);
        return 0;
    }
    if (minor >= 0) {
        snprintf(out, n, "/dev/%s/%" PRId64 ":%" PRId64, kind, major, minor);
        return 0;
    }
    char buf[8192];
    if (husk_read_file("/proc/devices", buf, sizeof buf) < 0)
        return -1;
    bool in = false;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "Character", 9) || !strncmp(line, "Block", 5)) {
            in = (line[0] == 'B') == (type == 'b');
            continue;
        }
        long mj;
        char name[64];
        if (in && sscanf(line, "%ld %63s", &mj, name) == 2 && mj == major) {
            snprintf(out, n, "%s-%s", kind, name);
            return 0;
        }
    }
    return -1;
}

struct dev_entry { char type; int64_t major, minor; char access[4]; };

static bool covers_all(const char *type, bool major_set, bool minor_set, const char *access)
{
    return (!type || !strcmp(type, "a")) && !major_set && !minor_set && (!access || strspn(access, "rwm") == 3);
}

/* The config's device rules and husk's implicit ones, as an allow list on a deny-all base
 * (DevicePolicy=strict), which is what systemd can express. Rules that cannot be (a deny
 * narrowing an earlier allow, an allow-all base with denies) leave devices to husk's own
 * files and filter: false. */
static bool devices_props(struct husk_dbus_buf *b, const struct husk_resources *r)
{
    struct dev_entry e[128];
    int n = 0;
    bool deny_all = false;
    size_t ni = sizeof husk_dev_implicit_rules / sizeof *husk_dev_implicit_rules;
    for (size_t i = 0; i < r->n_devices + ni; i++) {
        struct dev_entry cur;
        bool allow;
        if (i < r->n_devices) {
            const struct husk_dev_rule *d = &r->devices[i];
            if (covers_all(d->type, d->major.set, d->minor.set, d->access)) {
                deny_all = !d->allow;
                n = 0;
                continue;
            }
            allow = d->allow;
            cur.type = d->type ? d->type[0] : 'a';
            cur.major = d->major.set ? d->major.v : -1;
            cur.minor = d->minor.set ? d->minor.v : -1;
            snprintf(cur.access, sizeof cur.access, "%.3s", d->access ? d->access : "rwm");
        } else {
            const struct husk_dev_implicit *di = &husk_dev_implicit_rules[i - r->n_devices];
            allow = true;
            cur = (struct dev_entry){di->type, di->major, di->minor, ""};
            snprintf(cur.access, sizeof cur.access, "%s", di->access);
        }
        if (!deny_all)
            return false;   /* an allow-all base: only denies matter, systemd has none */
        if (cur.type == 'a')
            return false;
        if (allow) {
            bool dup = false;
            for (int k = 0; k < n && !dup; k++)
                dup = e[k].type == cur.type && e[k].major == cur.major && e[k].minor == cur.minor &&
                      !strcmp(e[k].access, cur.access);
            if (dup)
                continue;
            if (n == (int)(sizeof e / sizeof *e))
                return false;
            e[n++] = cur;
            continue;
        }
        /* a deny only takes back an identical earlier allow */
        bool found = false;
        for (int k = 0; k < n; k++)
            if (e[k].type == cur.type && e[k].major == cur.major && e[k].minor == cur.minor) {
                e[k--] = e[--n];
                found = true;
            }
        if (!found)
            for (int k = 0; k < n; k++)
                if (e[k].type == cur.type && (e[k].major < 0 || e[k].major == cur.major) &&
                    (e[k].minor < 0 || e[k].minor == cur.minor))
                    return false;   /* narrower than an allow: not expressible */
    }
    if (!deny_all)
        return false;
    char path[64][96];
    int np = 0;
    for (int k = 0; k < n && np < 64; k++)
        if (dev_allow_entry(e[k].type, e[k].major, e[k].minor, path[np], sizeof path[np]) == 0)
            np++;
        else
            return false;
    prop(b, "DevicePolicy", "s");
    husk_dbus_put_s(b, "strict");
    prop(b, "DeviceAllow", "a(ss)");
    struct husk_dbus_arr a = husk_dbus_array_begin(b, 8);
    for (int k = 0; k < np; k++) {
        husk_dbus_struct(b);
        husk_dbus_put_s(b, path[k]);
        husk_dbus_put_s(b, e[k].access);
    }
    husk_dbus_array_end(b, a);
    return true;
}

static bool unified(const struct husk_cgroup *cg)
{
    for (int i = 0; i < cg->n; i++)
        if (!cg->dirs[i].v2)
            return false;
    return true;
}

static uint64_t lim(int64_t v)
{
    return v < 0 ? UINT64_MAX : (uint64_t)v;
}

/* The CPU period as a property, which systemd knows from 242 on (an older one refuses the
 * whole unit: Manager.Version decides). A new unit has the default, 100 ms, the kernel's:
 * then nothing is sent and nothing asked. The file has the period in any case. */
#define SD_PERIOD_DEFAULT 100000
bool husk_sd_wants_period(const struct husk_resources *r, bool fresh)
{
    return r->cpu.period.set && r->cpu.period.v && !(fresh && r->cpu.period.v == SD_PERIOD_DEFAULT);
}

void husk_sd_resource_props(struct husk_dbus_buf *b, const struct husk_cgroup *cg, const struct husk_resources *r,
                            bool fresh, int sd_version)
{
    bool v2 = unified(cg);
    const typeof(r->memory) *m = &r->memory;
    /* zero is "unset" for engines (as cgroup_res.c reads it) */
    bool limit = m->limit.set && m->limit.v, res = m->reservation.set && m->reservation.v,
         swap = m->swap.set && m->swap.v;
    if (limit)
        prop_t(b, v2 ? "MemoryMax" : "MemoryLimit", lim(m->limit.v));
    if (v2 && res)
        prop_t(b, "MemoryLow", lim(m->reservation.v));
    if (v2 && swap) {
        /* v2 limits swap alone; OCI's figure is memory+swap */
        int64_t s = m->swap.v;
        if (s > 0 && limit && m->limit.v > 0)
            s -= m->limit.v;
        prop_t(b, "MemorySwapMax", lim(s));
    }
    for (size_t i = 0; v2 && i < r->n_unified; i++)
        if (!strcmp(r->unified[i].key, "memory.high")) {
            const char *v = r->unified[i].value;
            prop_t(b, "MemoryHigh", !strcmp(v, "max") ? UINT64_MAX : strtoull(v, NULL, 10));
        }
    const typeof(r->cpu) *c = &r->cpu;
    if (c->shares.set && c->shares.v)
        prop_t(b, v2 ? "CPUWeight" : "CPUShares", v2 ? husk_cgroup_shares_to_weight(c->shares.v) : c->shares.v);
    uint64_t period = c->period.set ? c->period.v : 0;
    int64_t quota = c->quota.set ? c->quota.v : 0;
    if (husk_sd_wants_period(r, fresh) && sd_version >= 242)
        prop_t(b, "CPUQuotaPeriodUSec", period);
    if (quota || period) {
        /* systemd keeps the quota as a whole percentage of a CPU: round up to 10 ms per
         * second, as runc does, so the files below are not cut short */
        uint64_t per_sec = UINT64_MAX;
        if (quota > 0) {
            per_sec = (uint64_t)quota * 1000000 / (period ? period : SD_PERIOD_DEFAULT);
            if (per_sec % 10000)
                per_sec = (per_sec / 10000 + 1) * 10000;
        }
        prop_t(b, "CPUQuotaPerSecUSec", per_sec);
    }
    /* systemd manages cpusets on v2 only */
    if (v2 && c->cpus && *c->cpus)
        prop_bitmask(b, "AllowedCPUs", c->cpus);
    if (v2 && c->mems && *c->mems)
        prop_bitmask(b, "AllowedMemoryNodes", c->mems);
    if (r->pids.limit.set && r->pids.limit.v)
        prop_t(b, "TasksMax", r->pids.limit.v > 0 ? (uint64_t)r->pids.limit.v : UINT64_MAX);
    if (r->block_io.weight.set && r->block_io.weight.v)
        prop_t(b, v2 ? "IOWeight" : "BlockIOWeight", r->block_io.weight.v);
    /* a user manager may attach no device program (nor may rootless husk: devices are
     * not enforced rootless either way) */
    if (r->n_devices && !husk_systemd_user())
        devices_props(b, r);
}

void husk_sd_start_props(struct husk_dbus_buf *b, const struct husk_cgroup *cg, const struct husk_config *c,
                         const char *id, pid_t pid, int sd_version)
{
    husk_dbus_put_s(b, cg->unit);
    husk_dbus_put_s(b, "replace");
    struct husk_dbus_arr props = husk_dbus_array_begin(b, 8);
    char desc[256];
    snprintf(desc, sizeof desc, "husk container %s", id);
    prop(b, "Description", "s");
    husk_dbus_put_s(b, desc);
    prop(b, "Slice", "s");
    husk_dbus_put_s(b, cg->slice);
    /* the container manages its own tree below the scope (cgroup namespace, nested
     * runtimes, systemd in the container) */
    prop_b(b, "Delegate", true);
    prop(b, "PIDs", "au");
    struct husk_dbus_arr pids = husk_dbus_array_begin(b, 4);
    husk_dbus_put_u(b, (uint32_t)pid);
    husk_dbus_array_end(b, pids);
    /* no ordering against shutdown.target and the like: the container's lifetime is husk's */
    prop_b(b, "DefaultDependencies", false);
    /* accounting on, so the controllers are enabled for the scope as cgroupfs has them */
    prop_b(b, "MemoryAccounting", true);
    prop_b(b, "CPUAccounting", true);
    prop_b(b, unified(cg) ? "IOAccounting" : "BlockIOAccounting", true);
    prop_b(b, "TasksAccounting", true);
    husk_sd_resource_props(b, cg, &c->linux_.resources, true, sd_version);
    husk_dbus_array_end(b, props);
    husk_dbus_array_end(b, husk_dbus_array_begin(b, 8));   /* no auxiliary units */
}
