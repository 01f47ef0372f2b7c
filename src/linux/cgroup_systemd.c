/* The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a transient scope
 * unit that systemd makes through its D-Bus API (org.freedesktop.systemd1.Manager), so that
 * systemd, which owns the cgroup tree on such hosts, knows it and leaves it alone. The
 * resources systemd knows go as unit properties (so that a later daemon-reload or
 * re-realisation keeps them); everything is then written to the files as with cgroupfs. */
#include "husk/cgroup.h"
#include "cgroup_internal.h"
#include "husk/dbus.h"
#include "husk/cleanup.h"
#include "husk/fileio.h"
#include "husk/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
/* runc waits as long for its unit's job */
#define JOB_TIMEOUT_MS 30000

static void sd_preconnect(void);

int husk_systemd_expand_slice(const char *slice, char *out, size_t n, struct husk_err *err)
{
    size_t l = strlen(slice);
    if (l <= 6 || strcmp(slice + l - 6, ".slice") || strchr(slice, '/'))
        return husk_err_set(err, 0, "cgroupsPath: invalid slice name \"%s\" (NAME.slice, no '/')", slice);
    out[0] = '\0';
    /* "-.slice" is the root slice: the tree's root */
    if (!strcmp(slice, "-.slice"))
        return 0;
    /* systemd.slice(5): each '-' is a level, "a-b-c.slice" in a.slice/a-b.slice */
    size_t base = l - 6, off = 0;
    if (slice[0] == '-' || slice[base - 1] == '-')
        return husk_err_set(err, 0, "cgroupsPath: invalid slice name \"%s\"", slice);
    for (size_t i = 0; i <= base; i++) {
        if (i < base && slice[i] != '-')
            continue;
        if (i < base && slice[i + 1] == '-')
            return husk_err_set(err, 0, "cgroupsPath: invalid slice name \"%s\"", slice);
        int w = snprintf(out + off, n - off, "/%.*s.slice", (int)i, slice);
        if (w < 0 || (size_t)w >= n - off)
            return husk_err_set(err, ENAMETOOLONG, "cgroupsPath: slice \"%s\"", slice);
        off += (size_t)w;
    }
    return 0;
}

/* runc's and crun's form: "slice:prefix:name" → prefix-name.scope in slice; empty: the
 * container in system.slice as husk-ID.scope. */
int husk_cgroup_plan_systemd(const struct husk_config *c, const char *id, struct husk_cgroup *cg, struct husk_err *err)
{
    cg->n = cg->skipped = 0;
    cg->disabled = false;
    cg->unit[0] = '\0';
    if (geteuid() != 0)
        return husk_err_set(err, 0, "--systemd-cgroup: husk talks to the system instance of systemd only (root); "
                                    "rootless containers use the cgroupfs driver");
    const char *want = c->linux_.cgroups_path;
    char slice[256] = "system.slice", prefix[128] = "husk", name[256];
    snprintf(name, sizeof name, "%s", id);
    if (want && *want) {
        const char *a = strchr(want, ':'), *b = a ? strchr(a + 1, ':') : NULL;
        if (!b || strchr(b + 1, ':'))
            return husk_err_set(err, 0, "config.json: .linux.cgroupsPath: expected \"slice:prefix:name\" for systemd "
                                        "cgroups, got \"%s\"", want);
        if (a > want)
            snprintf(slice, sizeof slice, "%.*s", (int)(a - want), want);
        snprintf(prefix, sizeof prefix, "%.*s", (int)(b - a - 1), a + 1);
        snprintf(name, sizeof name, "%s", b + 1);
    }
    size_t nl = strlen(name);
    if (!nl || strchr(name, '/') || strchr(prefix, '/'))
        return husk_err_set(err, 0, "config.json: .linux.cgroupsPath: \"%s\": the name must be non-empty, without '/'",
                            want ? want : "");
    if (nl > 6 && !strcmp(name + nl - 6, ".slice"))
        return husk_err_set(err, 0, "config.json: .linux.cgroupsPath: \"%s\": a container in a slice unit of its own "
                                    "is not supported (husk makes a scope)", want);
    int w = prefix[0] ? snprintf(cg->unit, sizeof cg->unit, "%s-%s.scope", prefix, name)
                      : snprintf(cg->unit, sizeof cg->unit, "%s.scope", name);
    if (w < 0 || (size_t)w >= sizeof cg->unit)
        return husk_err_set(err, ENAMETOOLONG, "systemd unit for \"%s\"", id);
    char sp[PATH_MAX];
    if (husk_systemd_expand_slice(slice, sp, sizeof sp, err) < 0)
        return -1;
    snprintf(cg->slice, sizeof cg->slice, "%s", slice);
    int nm;
    AUTOFREE struct husk_cgroup_mount *mounts = husk_cgroup_mounts_alloc(&nm, err);
    if (!mounts)
        return -1;
    /* systemd's tree in every hierarchy (runc's layout on a hybrid host too): where systemd
     * does not manage a v1 controller, husk makes the same path itself */
    for (int i = 0; i < nm; i++) {
        struct husk_cgroup_dir *d = &cg->dirs[cg->n];
        if (snprintf(d->path, sizeof d->path, "%s%s/%s", mounts[i].mountpoint, sp, cg->unit) >= (int)sizeof d->path)
            return husk_err_set(err, ENAMETOOLONG, "cgroup path for \"%s\"", cg->unit);
        snprintf(d->ctrls, sizeof d->ctrls, "%s", mounts[i].ctrls);
        d->v2 = mounts[i].v2;
        /* a plan: at most the scope's own directory is ours (a slice may be systemd's) */
        d->created = -1;
        cg->n++;
    }
    sd_preconnect();
    return 0;
}

/* ---- the bus ---- */

/* The connection of the call under way, closed after it. `run` could keep the start's for
 * the stop (one client less for dbus-daemon and systemd: 0.3 ms of their CPU per run in
 * bench/systemd-driver.py), but it would be open the container's whole life, and
 * dbus-daemon allows root 256 connections to the system bus: as many containers running in
 * the foreground would lock every other root client out of it. */
static struct husk_dbus bus = {.fd = -1};
/* Manager.Version once asked (0: asked, unknown), for the properties newer than systemd
 * itself on some hosts */
static int sd_version = -1;

/* The system bus, as runc and crun use it; failing that (no dbus-daemon: a minimal host),
 * systemd's own socket, which systemctl uses as root: no bus daemon in between, no Hello,
 * and every signal comes unasked. On the bus, systemd sends a job's JobRemoved when the
 * job's requester is connected (it tracks who asked for each job), so the match is all it
 * takes: no Subscribe, which would have systemd track this client too (a call of its own
 * to the bus daemon) and send every unit's change signals while it is connected (runc,
 * through go-systemd, does not subscribe either). */
static int sd_connect(struct husk_err *err)
{
    if (husk_dbus_open(&bus, husk_dbus_system_address(), true, err) < 0) {
        struct husk_err e2;
        if (husk_dbus_open(&bus, "unix:path=/run/systemd/private", false, &e2) == 0)
            return 0;
        return husk_err_wrap(err, "--systemd-cgroup: systemd is not reachable");
    }
    struct husk_dbus_buf b = {0};
    husk_dbus_put_s(&b, "type='signal',sender='" SD_DEST "',path='" SD_PATH "',interface='" SD_MANAGER
                        "',member='JobRemoved'");
    bool ok = husk_dbus_call(&bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch",
                             "s", &b, true);
    husk_dbus_buf_free(&b);
    if (!ok) {
        husk_dbus_close(&bus);
        return husk_err_set(err, ENOMEM, "D-Bus");
    }
    return 0;
}

/* The start's connection opens with the plan, before the clone: dbus-daemon authenticates
 * it and answers Hello while create goes on (-0.27 ms of wall per run in
 * bench/systemd-driver.py). The init closes its copy first thing (it keeps only the fds it
 * uses); a create that fails before the start closes it by exiting. A failure here is left
 * to the start to report. */
static void sd_preconnect(void)
{
    struct husk_err ig;
    if (sd_connect(&ig) == 0 && husk_dbus_flush(&bus, &ig) < 0)
        husk_dbus_close(&bus);
}

int husk_systemd_version(const char *s)
{
    /* "252.19-1~deb12u1", "239 (239-58.el8)", "v255" */
    while (*s == ' ')
        s++;
    if (*s == 'v')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    long v = strtol(s, NULL, 10);
    return v > 100000 ? -1 : (int)v;
}

/* Manager.Version (org.freedesktop.DBus.Properties.Get), asked once; unknown counts as old. */
static void read_version(long long deadline)
{
    if (sd_version >= 0)
        return;
    sd_version = 0;
    struct husk_dbus_buf b = {0};
    husk_dbus_put_s(&b, SD_MANAGER);
    husk_dbus_put_s(&b, "Version");
    uint32_t s = husk_dbus_call(&bus, SD_DEST, SD_PATH, "org.freedesktop.DBus.Properties", "Get", "ss", &b, false);
    husk_dbus_buf_free(&b);
    struct husk_dbus_msg m;
    struct husk_err ig;
    if (!s || husk_dbus_wait_reply(&bus, s, deadline, &m, NULL, NULL, &ig) < 0 || strcmp(m.sig, "v"))
        return;
    const char *vs = husk_dbus_get_g(&m.body), *v = vs && !strcmp(vs, "s") ? husk_dbus_get_s(&m.body) : NULL;
    if (v && husk_systemd_version(v) > 0)
        sd_version = husk_systemd_version(v);
    husk_debug("systemd: version \"%s\"", v ? v : "?");
}

/* JobRemoved signals seen before the job's path is known */
struct jobs {
    char path[8][128], result[8][32];
    int n;
};

static void on_signal(void *ctx, struct husk_dbus_msg *m)
{
    struct jobs *j = ctx;
    if (!m->member || strcmp(m->member, "JobRemoved") || strcmp(m->sig, "uoss"))
        return;
    struct husk_dbus_rd r = m->body;
    husk_dbus_get_u(&r);
    const char *path = husk_dbus_get_s(&r);
    husk_dbus_get_s(&r);
    const char *res = husk_dbus_get_s(&r);
    if (r.bad)
        return;
    int k = j->n++ % 8;
    snprintf(j->path[k], sizeof j->path[k], "%s", path);
    snprintf(j->result[k], sizeof j->result[k], "%s", res);
}

/* A Manager method that queues a job (reply "o"): waits for the job's JobRemoved and fails
 * unless its result is "done". */
static int call_job(struct husk_dbus *c, const char *member, const char *sig, const struct husk_dbus_buf *body,
                    const char *unit, struct husk_err *err)
{
    long long deadline = husk_dbus_now_ms() + JOB_TIMEOUT_MS;
    uint32_t serial = husk_dbus_call(c, SD_DEST, SD_PATH, SD_MANAGER, member, sig, body, false);
    if (!serial)
        return husk_err_set(err, ENOMEM, "systemd %s", member);
    struct jobs j = {.n = 0};
    struct husk_dbus_msg m;
    if (husk_dbus_wait_reply(c, serial, deadline, &m, on_signal, &j, err) < 0)
        return husk_err_wrap(err, "systemd %s `%s`", member, unit);
    const char *job = husk_dbus_get_s(&m.body);
    if (!job || strcmp(m.sig, "o"))
        return husk_err_set(err, EPROTO, "systemd %s `%s`: a reply without a job", member, unit);
    char want[128];
    snprintf(want, sizeof want, "%s", job);
    for (;;) {
        for (int i = 0; i < j.n && i < 8; i++)
            if (!strcmp(j.path[i], want)) {
                if (strcmp(j.result[i], "done"))
                    return husk_err_set(err, 0, "systemd %s `%s`: the job ended \"%s\"", member, unit, j.result[i]);
                return 0;
            }
        j.n = 0;
        if (husk_dbus_next(c, deadline, &m, err) < 0)
            return husk_err_wrap(err, "systemd %s `%s`: waiting for job %s", member, unit, want);
        if (m.type == HUSK_DBUS_SIGNAL)
            on_signal(&j, &m);
    }
}

/* ---- unit properties ---- */

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

/* The resources systemd manages itself, under its names for this host's cgroup version. */
/* The CPU period as a property, which systemd knows from 242 on (an older one refuses the
 * whole unit: Manager.Version decides). A new unit has the default, 100 ms, the kernel's:
 * then nothing is sent and nothing asked. The file has the period in any case. */
#define SD_PERIOD_DEFAULT 100000
static bool wants_period(const struct husk_resources *r, bool fresh)
{
    return r->cpu.period.set && r->cpu.period.v && !(fresh && r->cpu.period.v == SD_PERIOD_DEFAULT);
}

static void resource_props(struct husk_dbus_buf *b, const struct husk_cgroup *cg, const struct husk_resources *r,
                           bool fresh)
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
    if (wants_period(r, fresh) && sd_version >= 242)
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
    if (r->n_devices)
        devices_props(b, r);
}

static long us_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)((t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000);
}

static void start_props(struct husk_dbus_buf *b, const struct husk_cgroup *cg, const struct husk_config *c,
                        const char *id, pid_t pid)
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
    resource_props(b, cg, &c->linux_.resources, true);
    husk_dbus_array_end(b, props);
    husk_dbus_array_end(b, husk_dbus_array_begin(b, 8));   /* no auxiliary units */
}

int husk_cgroup_systemd_start(struct husk_cgroup *cg, const struct husk_config *c, const char *id, pid_t pid,
                              struct husk_err *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (bus.fd < 0 && sd_connect(err) < 0)
        return -1;
    /* the authentication, Hello and the match went with the plan (or go with the call, in
     * one write); the version, when a property needs it, costs one round trip more */
    if (wants_period(&c->linux_.resources, true))
        read_version(husk_dbus_now_ms() + JOB_TIMEOUT_MS);
    struct husk_dbus_buf b = {0};
    start_props(&b, cg, c, id, pid);
    int rc = b.oom ? husk_err_set(err, ENOMEM, "systemd StartTransientUnit")
                   : call_job(&bus, "StartTransientUnit", "ssa(sv)a(sa(sv))", &b, cg->unit, err);
    husk_dbus_buf_free(&b);
    /* An error answer made no unit: nothing of it is ours to stop or remove. With UnitExists
     * the name is another container's, whose unit a stop would kill. */
    if (rc < 0 && bus.error_name[0]) {
        cg->unit[0] = '\0';
        cg->n = 0;
    }
    /* what the driver costs a `run` (husk --debug): the integrator's measure */
    husk_debug("systemd: StartTransientUnit `%s` via %s: %u round trips, %ld us", cg->unit,
               bus.via_bus ? "the system bus" : "/run/systemd/private", bus.round_trips, us_since(&t0));
    husk_dbus_close(&bus);
    return rc;
}

int husk_cgroup_systemd_set(const struct husk_cgroup *cg, const struct husk_config *c, struct husk_err *err)
{
    const struct husk_resources *r = &c->linux_.resources;
    /* nothing systemd knows in the update: no call */
    struct husk_dbus_buf probe = {0};
    resource_props(&probe, cg, r, false);
    bool any = probe.len || probe.oom || wants_period(r, false);
    husk_dbus_buf_free(&probe);
    if (!any)
        return 0;
    if (sd_connect(err) < 0)
        return -1;
    long long deadline = husk_dbus_now_ms() + JOB_TIMEOUT_MS;
    if (wants_period(r, false))
        read_version(deadline);
    struct husk_dbus_buf b = {0};
    husk_dbus_put_s(&b, cg->unit);
    husk_dbus_put_b(&b, true);   /* runtime: the unit is transient anyway */
    struct husk_dbus_arr props = husk_dbus_array_begin(&b, 8);
    resource_props(&b, cg, r, false);
    husk_dbus_array_end(&b, props);
    uint32_t s = b.oom ? 0 : husk_dbus_call(&bus, SD_DEST, SD_PATH, SD_MANAGER, "SetUnitProperties", "sba(sv)", &b, false);
    struct husk_dbus_msg m;
    int rc = !s ? husk_err_set(err, ENOMEM, "D-Bus") : husk_dbus_wait_reply(&bus, s, deadline, &m, NULL, NULL, err);
    if (rc < 0)
        husk_err_wrap(err, "systemd SetUnitProperties `%s`", cg->unit);
    husk_dbus_buf_free(&b);
    husk_dbus_close(&bus);
    return rc;
}

static int stop_call(const struct husk_cgroup *cg, struct husk_err *err)
{
    if (sd_connect(err) < 0)
        return -1;
    struct husk_dbus_buf b = {0};
    husk_dbus_put_s(&b, cg->unit);
    husk_dbus_put_s(&b, "replace");
    int rc = call_job(&bus, "StopUnit", "ss", &b, cg->unit, err);
    /* a scope whose processes are gone has stopped by itself and been unloaded: nothing to
     * reset either (a failed unit stays loaded) */
    bool gone = rc < 0 && !strcmp(bus.error_name, "org.freedesktop.systemd1.NoSuchUnit");
    if (gone)
        rc = 0;
    /* a unit that failed (an OOM kill) stays listed until reset: nothing may be left; one
     * that did not fail answers "not failed", which is fine */
    b.len = 0;
    husk_dbus_put_s(&b, cg->unit);
    uint32_t s = rc == 0 && !gone ? husk_dbus_call(&bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", "s", &b, false)
                                  : 0;
    if (s) {
        struct husk_err ig;
        struct husk_dbus_msg m;
        husk_dbus_wait_reply(&bus, s, husk_dbus_now_ms() + JOB_TIMEOUT_MS, &m, NULL, NULL, &ig);
    }
    husk_dbus_buf_free(&b);
    return rc;
}

int husk_cgroup_systemd_stop(const struct husk_cgroup *cg, struct husk_err *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = stop_call(cg, err);
    husk_debug("systemd: StopUnit `%s`: %u round trips, %ld us", cg->unit, bus.round_trips, us_since(&t0));
    husk_dbus_close(&bus);
    return rc;
}
