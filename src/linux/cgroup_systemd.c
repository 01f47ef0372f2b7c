/* The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a transient scope
 * unit that systemd makes through its D-Bus API (org.freedesktop.systemd1.Manager), so that
 * systemd, which owns the cgroup tree on such hosts, knows it and leaves it alone. The
 * resources systemd knows go as unit properties (so that a later daemon-reload or
 * re-realisation keeps them; cgroup_systemd_props.c); everything is then written to the files
 * as with cgroupfs. */
#include "husk/cgroup.h"
#include "cgroup_internal.h"
#include "cgroup_systemd_internal.h"
#include "husk/dbus.h"
#include "husk/cleanup.h"
#include "husk/log.h"
#include "husk/rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
 * container in system.slice (user.slice of the user's manager, rootless) as husk-ID.scope. */
int husk_cgroup_plan_systemd(const struct husk_config *c, const char *id, struct husk_cgroup *cg, struct husk_err *err)
{
    cg->n = cg->skipped = 0;
    cg->disabled = false;
    cg->unit[0] = '\0';
    bool user = husk_systemd_user();
    char base[PATH_MAX] = "";
    if (user) {
        /* no bus, no unit: say so before anything is made */
        char addr[PATH_MAX + 16];
        if (husk_user_bus_address(addr, sizeof addr, err) < 0)
            return -1;
    }
    const char *want = c->linux_.cgroups_path;
    char slice[256] = "system.slice", prefix[128] = "husk", name[256];
    if (user)
        snprintf(slice, sizeof slice, "user.slice");
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
    for (int i = 0; user && i < nm; i++)
        if (!mounts[i].v2)
            /* systemd delegates no v1 hierarchy to a user (runc refuses this too) */
            return husk_err_set(err, 0, "rootless --systemd-cgroup needs a cgroup v2 host (the unified hierarchy "
                                        "alone): this host has cgroup v1 hierarchies (`%s`), where the user's systemd "
                                        "manager can delegate no controller; use the cgroupfs driver",
                                mounts[i].mountpoint);
    if (user && husk_systemd_user_base(base, sizeof base, err) < 0)
        return -1;
    for (int i = 0; i < nm; i++) {
        struct husk_cgroup_dir *d = &cg->dirs[cg->n];
        if (snprintf(d->path, sizeof d->path, "%s%s%s/%s", mounts[i].mountpoint, base, sp, cg->unit) >=
            (int)sizeof d->path)
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
    husk_dbus_close(&bus);   /* one the plan opened for a start that did not come */
    if (husk_systemd_user()) {
        /* rootless: the user's manager on the user bus (cgroup_systemd_user.c) */
        if (husk_systemd_user_open(&bus, err) < 0)
            return -1;
    } else if (husk_dbus_open(&bus, husk_dbus_system_address(), true, err) < 0) {
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
    int r = s ? husk_dbus_wait_reply(&bus, s, deadline, &m, NULL, NULL, &ig) : -1;
    /* an error answer here is not the next call's: that one decides what a failure undoes */
    bus.error_name[0] = '\0';
    if (r < 0 || strcmp(m.sig, "v"))
        return;
    const char *vs = husk_dbus_get_g(&m.body), *v = vs && !strcmp(vs, "s") ? husk_dbus_get_s(&m.body) : NULL;
    int n = v ? husk_systemd_version(v) : -1;
    if (n > 0)
        sd_version = n;
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

/* Waits for the answer to a Manager method that queues a job (reply "o"), then for the
 * job's JobRemoved; fails unless its result is "done". */
static int wait_job(struct husk_dbus *c, uint32_t serial, const char *member, const char *unit, struct husk_err *err)
{
    long long deadline = husk_dbus_now_ms() + JOB_TIMEOUT_MS;
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

static int call_job(struct husk_dbus *c, const char *member, const char *sig, const struct husk_dbus_buf *body,
                    const char *unit, struct husk_err *err)
{
    uint32_t serial = husk_dbus_call(c, SD_DEST, SD_PATH, SD_MANAGER, member, sig, body, false);
    if (!serial)
        return husk_err_set(err, ENOMEM, "systemd %s", member);
    return wait_job(c, serial, member, unit, err);
}

static long us_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)((t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000);
}

/* The start under way: its call's serial (0: none), when it began, and whether the scope's
 * directory is husk's own until systemd takes it (husk_cgroup_systemd_premake). */
static uint32_t start_serial;
static struct timespec start_t0;
static bool premade;

int husk_cgroup_systemd_premake(struct husk_cgroup *cg)
{
    /* Rootless, the clone into the user manager's tree needs a cgroup.procs above both
     * that is root's; with v1 hierarchies the init is moved there anyway. A directory that
     * exists is another unit's (UnitExists comes next) or a leftover: systemd's to take. A
     * slice that does not exist yet is systemd's to make. */
    if (husk_systemd_user() || cg->n != 1 || !cg->dirs[0].v2 || mkdir(cg->dirs[0].path, 0755) < 0)
        return -1;
    int fd = open(cg->dirs[0].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        rmdir(cg->dirs[0].path);
    premade = fd >= 0;
    return fd;
}

/* An error answer made no unit: nothing of it is ours to stop (with UnitExists the name is
 * another container's, whose unit a stop would kill); a directory husk made is removed
 * once the init is gone, one systemd made is not ours. */
static void no_unit(struct husk_cgroup *cg)
{
    cg->unit[0] = '\0';
    if (!premade)
        cg->n = 0;
}

int husk_cgroup_systemd_start_send(struct husk_cgroup *cg, const struct husk_config *c, const char *id, pid_t pid,
                                   struct husk_err *err)
{
    clock_gettime(CLOCK_MONOTONIC, &start_t0);
    if (bus.fd < 0 && sd_connect(err) < 0) {
        if (premade)
            no_unit(cg);   /* nothing reached systemd */
        return -1;
    }
    /* the authentication, Hello and the match went with the plan (or go with the call, in
     * one write); the version, when a property needs it, costs one round trip more */
    if (husk_sd_wants_period(&c->linux_.resources, true))
        read_version(husk_dbus_now_ms() + JOB_TIMEOUT_MS);
    struct husk_dbus_buf b = {0};
    husk_sd_start_props(&b, cg, c, id, pid, sd_version);
    start_serial = b.oom ? 0
                         : husk_dbus_call(&bus, SD_DEST, SD_PATH, SD_MANAGER, "StartTransientUnit",
                                          "ssa(sv)a(sa(sv))", &b, false);
    husk_dbus_buf_free(&b);
    if (!start_serial || husk_dbus_flush(&bus, err) < 0) {
        start_serial = 0;
        husk_dbus_close(&bus);
        return husk_err_set(err, ENOMEM, "systemd StartTransientUnit `%s`", cg->unit);
    }
    bus.round_trips += bus.authed || bus.via_bus;   /* its answer is waited for */
    return 0;
}

int husk_cgroup_systemd_start_wait(struct husk_cgroup *cg, struct husk_err *err)
{
    if (!start_serial)
        return 0;
    uint32_t serial = start_serial;
    start_serial = 0;
    int rc = wait_job(&bus, serial, "StartTransientUnit", cg->unit, err);
    /* what the driver costs a `run` (husk --debug): the integrator's measure */
    husk_debug("systemd: StartTransientUnit `%s` via %s%s: %u round trips, %ld us", cg->unit,
               husk_systemd_user() ? "the user bus" : bus.via_bus ? "the system bus" : "/run/systemd/private",
               premade ? ", the init cloned into it" : "", bus.round_trips, us_since(&start_t0));
    if (rc < 0 && bus.error_name[0])
        no_unit(cg);
    husk_dbus_close(&bus);
    return rc;
}

int husk_cgroup_systemd_start(struct husk_cgroup *cg, const struct husk_config *c, const char *id, pid_t pid,
                              struct husk_err *err)
{
    if (husk_cgroup_systemd_start_send(cg, c, id, pid, err) < 0)
        return -1;
    return husk_cgroup_systemd_start_wait(cg, err);
}

int husk_cgroup_systemd_set(const struct husk_cgroup *cg, const struct husk_config *c, struct husk_err *err)
{
    const struct husk_resources *r = &c->linux_.resources;
    /* nothing systemd knows in the update: no call */
    struct husk_dbus_buf probe = {0};
    husk_sd_resource_props(&probe, cg, r, false, sd_version);
    bool any = probe.len || probe.oom || husk_sd_wants_period(r, false);
    husk_dbus_buf_free(&probe);
    if (!any)
        return 0;
    if (sd_connect(err) < 0)
        return -1;
    long long deadline = husk_dbus_now_ms() + JOB_TIMEOUT_MS;
    if (husk_sd_wants_period(r, false))
        read_version(deadline);
    struct husk_dbus_buf b = {0};
    husk_dbus_put_s(&b, cg->unit);
    husk_dbus_put_b(&b, true);   /* runtime: the unit is transient anyway */
    struct husk_dbus_arr props = husk_dbus_array_begin(&b, 8);
    husk_sd_resource_props(&b, cg, r, false, sd_version);
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
    if (sd_connect(err) < 0) {
        /* Rootless without the user bus now (a delete from an environment without
         * DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR): a scope whose processes are gone
         * was removed by the manager itself, and then there is nothing to stop. */
        bool left = false;
        for (int i = 0; i < cg->n && !left; i++)
            left = access(cg->dirs[i].path, F_OK) == 0;
        return husk_systemd_user() && !left ? 0 : -1;
    }
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
     * that did not fail is unloaded by now and answers NoSuchUnit, which is fine */
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
