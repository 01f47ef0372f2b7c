/* cgroup placement and removal; resources are written by cgroup_res.c. */
#include "husk/cgroup.h"
#include "cgroup_internal.h"
#include "husk/cleanup.h"
#include "husk/fileio.h"
#include "husk/log.h"
#include "husk/rootless.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

/* The controllers of a v1 super-options string ("rw,cpu,cpuacct" → "cpu,cpuacct"). */
static void v1_ctrls(char *super, char *out, size_t n)
{
    out[0] = '\0';
    for (char *s = strtok(super, ","); s; s = strtok(NULL, ",")) {
        if (!strcmp(s, "rw") || !strcmp(s, "ro") || !strncmp(s, "release_agent", 13) ||
            !strcmp(s, "clone_children") || !strcmp(s, "noprefix") || !strcmp(s, "xattr") ||
            !strncmp(s, "cpuset_v2", 9) || !strcmp(s, "nsdelegate") || !strncmp(s, "memory_", 7) ||
            !strcmp(s, "favordynmods"))
            continue;
        if (out[0])
            strncat(out, ",", n - strlen(out) - 1);
        strncat(out, s, n - strlen(out) - 1);
    }
}

int husk_cgroup_lookup(const char *table, const char *ctrls, char *out, size_t n)
{
    size_t cl = strlen(ctrls);
    for (const char *line = table; *line;) {
        const char *nl = strchrnul(line, '\n');
        const char *a = memchr(line, ':', (size_t)(nl - line));
        const char *b = a ? memchr(a + 1, ':', (size_t)(nl - a - 1)) : NULL;
        if (b && (size_t)(b - a - 1) == cl && !strncmp(a + 1, ctrls, cl)) {
            snprintf(out, n, "%.*s", (int)(nl - b - 1), b + 1);
            return 0;
        }
        line = *nl ? nl + 1 : nl;
    }
    return -1;
}

/* The file is read once per command: a hybrid host asks for it once per hierarchy. Only for
 * husk's own process, which never moves: a copy made before a move (the init is a clone of
 * create) names the cgroup it left. */
int husk_cgroup_own(const char *ctrls, char *out, size_t n)
{
    static char cache[8192];
    static bool loaded;
    if (!loaded) {
        if (husk_read_file("/proc/self/cgroup", cache, sizeof cache) < 0)
            return -1;
        loaded = true;
    }
    return husk_cgroup_lookup(cache, ctrls, out, n);
}

struct husk_cgroup_mount *husk_cgroup_mounts_alloc(int *n, struct husk_err *err)
{
    struct husk_cgroup_mount *m = malloc(HUSK_CG_MAX * sizeof *m);
    if (!m) {
        husk_err_set(err, ENOMEM, "create cgroup");
        return NULL;
    }
    if ((*n = husk_cgroup_mounts(m, HUSK_CG_MAX)) < 0) {
        husk_err_set(err, errno, "read mountinfo");
        free(m);
        return NULL;
    }
    return m;
}

int husk_cgroup_mounts(struct husk_cgroup_mount *m, int max)
{
    /* A pure v2 host (or view) is one statfs; mountinfo is for v1 and hybrid layouts */
    struct statfs sf;
    if (max > 0 && statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
        snprintf(m[0].mountpoint, sizeof m[0].mountpoint, "/sys/fs/cgroup");
        m[0].ctrls[0] = '\0';
        m[0].v2 = true;
        return 1;
    }
    FILE *f = husk_fopen_read("/proc/self/mountinfo");
    if (!f)
        return -1;
    char line[8192];
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        *sep = '\0';
        char fstype[32], source[256], super[1024], mp[PATH_MAX];
        if (sscanf(sep + 3, "%31s %255s %1023s", fstype, source, super) != 3 ||
            sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
            continue;
        bool v2 = !strcmp(fstype, "cgroup2");
        if (!v2 && strcmp(fstype, "cgroup"))
            continue;
        if (strncmp(mp, "/sys/fs/cgroup", 14) != 0)
            continue;
        /* A later mount at or above earlier ones hides them (e.g. cgroup2 mounted over a
         * v1 layout in a private view): drop what it covers. */
        size_t ml = strlen(mp);
        for (int i = 0; i < n; i++)
            if (!strncmp(m[i].mountpoint, mp, ml) && (m[i].mountpoint[ml] == '\0' || m[i].mountpoint[ml] == '/'))
                m[i--] = m[--n];
        struct husk_cgroup_mount *c = &m[n];
        snprintf(c->mountpoint, sizeof c->mountpoint, "%s", mp);
        c->v2 = v2;
        if (v2)
            c->ctrls[0] = '\0';
        else
            v1_ctrls(super, c->ctrls, sizeof c->ctrls);
        /* one mount per hierarchy: skip bind duplicates */
        bool dup = false;
        for (int i = 0; i < n; i++)
            dup |= m[i].v2 == c->v2 && !strcmp(m[i].ctrls, c->ctrls);
        if (!dup)
            n++;
    }
    fclose(f);
    return n;
}

/* Makes path and any missing parents; *created = how many trailing components it made. */
static int mkdirs(const char *path, int *created)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    *created = 0;
    /* Usually only the leaf is missing: mkdir it first, walk up only on ENOENT. */
    int cut = 0;
    for (;;) {
        if (mkdir(buf, 0755) == 0) {
            (*created)++;
            break;
        }
        char *slash = strrchr(buf, '/');
        if (errno == EEXIST)
            break;
        if (errno != ENOENT || !slash || slash == buf)
            return -1;
        *slash = '\0';
        cut++;
    }
    /* back down through the components cut off; one that someone else made meanwhile
     * ends what is ours to remove later */
    for (; cut > 0; cut--) {
        buf[strlen(buf)] = '/';
        if (mkdir(buf, 0755) == 0)
            (*created)++;
        else if (errno == EEXIST)
            *created = 0;
        else
            return -1;
    }
    return 0;
}

static int valid_rel(const char *p)
{
    for (const char *s = p; *s; s++)
        if ((s == p || s[-1] == '/') && s[0] == '.' && s[1] == '.' && (s[2] == '/' || !s[2]))
            return 0;
    return 1;
}

/* How many components of a cgroupsPath a create may have to make: the most a crashed
 * create can have left behind. */
static int path_depth(const char *p)
{
    int n = 0;
    for (const char *s = p; *s; s++)
        if (*s != '/' && (s == p || s[-1] == '/'))
            n++;
    return n;
}

int husk_cgroup_plan(const struct husk_config *c, const char *id, struct husk_cgroup *cg, struct husk_err *err)
{
    cg->n = cg->skipped = 0;
    cg->disabled = false;
    cg->unit[0] = '\0';
    const char *want = c->linux_.cgroups_path;
    char def[1100];
    if (want && strchr(want, ':') && want[0] != '/')
        return husk_err_set(err, 0, "cgroupsPath \"%s\" is in systemd's slice:prefix:name form, which needs "
                                    "--systemd-cgroup", want);
    if (!want || !*want) {
        snprintf(def, sizeof def, "husk-%s", id);
        want = def;
    }
    if (!valid_rel(want))
        return husk_err_set(err, 0, "config.json: .linux.cgroupsPath: \"%s\" must not contain \"..\"", want);
    int nm;
    AUTOFREE struct husk_cgroup_mount *mounts = husk_cgroup_mounts_alloc(&nm, err);
    if (!mounts)
        return -1;
    int depth = path_depth(want);
    for (int i = 0; i < nm; i++) {
        struct husk_cgroup_dir *d = &cg->dirs[cg->n];
        char base[PATH_MAX] = "";
        if (want[0] != '/') {
            if (husk_cgroup_own(mounts[i].ctrls, base, sizeof base) < 0)
                continue;   /* a hierarchy this process is not in */
            if (!strcmp(base, "/"))
                base[0] = '\0';
        }
        snprintf(d->path, sizeof d->path, "%s%s%s%s", mounts[i].mountpoint, base, want[0] == '/' ? "" : "/", want);
        size_t l = strlen(d->path);
        while (l > 1 && d->path[l - 1] == '/')
            d->path[--l] = '\0';
        snprintf(d->ctrls, sizeof d->ctrls, "%s", mounts[i].ctrls);
        d->v2 = mounts[i].v2;
        d->created = -depth;
        cg->n++;
    }
    return 0;
}

static bool denied(int e)
{
    return e == EACCES || e == EPERM || e == EROFS;
}

int husk_cgroup_make(struct husk_cgroup *cg, struct husk_err *err)
{
    for (int i = 0; i < cg->n; i++) {
        struct husk_cgroup_dir *d = &cg->dirs[i];
        if (mkdirs(d->path, &d->created) < 0) {
            int e = errno;
            /* Rootless: a hierarchy not delegated to us is done without; a resource that
             * needs it fails in husk_cgroup_apply, naming it. */
            if (denied(e) && husk_rootless()) {
                husk_debug("rootless: no cgroup in %s (`%s`: %s): the container runs without one there",
                           d->v2 ? "cgroup2" : d->ctrls, d->path, strerror(e));
                cg->dirs[i--] = cg->dirs[--cg->n];
                cg->skipped++;
                continue;
            }
            husk_err_set(err, e, "create cgroup `%s`", d->path);
            /* only what was made goes */
            cg->n = i;
            struct husk_err ig;
            husk_cgroup_destroy(cg, 0, &ig);
            return -1;
        }
        if (d->created && !d->v2 && strstr(d->ctrls, "cpuset"))
            husk_cgroup_cpuset_inherit(d);
    }
    return 0;
}

int husk_cgroup_create(const struct husk_config *c, const char *id, struct husk_cgroup *cg, struct husk_err *err)
{
    if (husk_cgroup_plan(c, id, cg, err) < 0)
        return -1;
    return husk_cgroup_make(cg, err);
}

int husk_cgroup_v2_fd(const struct husk_cgroup *cg)
{
    for (int i = 0; i < cg->n; i++)
        if (cg->dirs[i].v2)
            return husk_open(cg->dirs[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return -1;
}

int husk_cgroup_enter(const struct husk_cgroup *cg, pid_t pid, bool skip_v2, struct husk_err *err)
{
    char v[32];
    snprintf(v, sizeof v, "%d", pid);
    for (int i = 0; i < cg->n; i++)
        if (!(skip_v2 && cg->dirs[i].v2) && husk_cg_write(&cg->dirs[i], "cgroup.procs", v, err) < 0) {
            /* Rootless under the user's systemd, from outside its tree (a login session):
             * the move takes a cgroup.procs above both that is root's (cgroup-v2.rst
             * "Delegation Containment"). The manager has the system manager move its user's
             * processes, as it did the init (AttachProcessesToUnit). */
            if (cg->unit[0] && cg->dirs[i].v2 && denied(err->code) && husk_systemd_user())
                return husk_cgroup_systemd_attach(cg, pid, err);
            return -1;
        }
    return 0;
}

/* Cgroups below a container's own are the container's doing (systemd, a nested runtime):
 * they are walked too, to this depth. */
#define CHILD_DEPTH 16

/* Calls fn for every process in dir and in the cgroups below it; returns how many fn took. */
static int each_pid(const char *dir, int depth, bool (*fn)(pid_t, void *), void *ctx)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *f = husk_fopen_read(path);
    if (!f)
        return 0;
    int n = 0, pid;
    while (fscanf(f, "%d", &pid) == 1)
        if (pid > 0 && fn(pid, ctx))
            n++;
    fclose(f);
    DIR *d = depth < CHILD_DEPTH ? opendir(dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_type == DT_DIR && de->d_name[0] != '.' &&
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path)
            n += each_pid(path, depth + 1, fn, ctx);
    if (d)
        closedir(d);
    return n;
}

static bool send_sig(pid_t pid, void *sig)
{
    return kill(pid, *(int *)sig) == 0;
}

int husk_cgroup_signal_all(const struct husk_cgroup *cg, int sig)
{
    int n = 0;
    /* cgroup v2 kills a whole cgroup atomically, racing no fork */
    if (sig == SIGKILL)
        for (int i = 0; i < cg->n; i++)
            if (cg->dirs[i].v2) {
                char path[PATH_MAX + 16];
                snprintf(path, sizeof path, "%s/cgroup.kill", cg->dirs[i].path);
                int fd = husk_open(path, O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                    bool ok = write(fd, "1", 1) == 1;
                    close(fd);
                    if (ok)
                        return 1;
                }
            }
    for (int i = 0; i < cg->n; i++) {
        /* every hierarchy holds the same processes; one is enough unless it is gone */
        n = each_pid(cg->dirs[i].path, 0, send_sig, &sig);
        if (n > 0)
            break;
    }
    return n;
}

static bool any_pid(pid_t pid, void *ctx)
{
    (void)pid, (void)ctx;
    return true;
}

/* Removes the cgroups below dir, deepest first (the kernel removes empty leaves only); true
 * when none is left and dir itself holds no process. */
static bool clear_tree(const char *dir, int depth)
{
    bool clear = each_pid(dir, CHILD_DEPTH, any_pid, NULL) == 0;   /* dir's own processes only */
    DIR *d = depth < CHILD_DEPTH ? opendir(dir) : NULL;
    if (!d)
        return clear && depth < CHILD_DEPTH;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        char sub[PATH_MAX];
        if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= (int)sizeof sub || !clear_tree(sub, depth + 1) ||
            rmdir(sub) < 0)
            clear = false;
    }
    closedir(d);
    return clear;
}

/* The systemd driver's unit goes once its processes have: stopping it with processes left
 * would have systemd SIGTERM them and wait (90 s by default) where husk kills. */
static int stop_unit(const struct husk_cgroup *cg, int timeout_ms, struct husk_err *err)
{
    long step_us = 100, waited_us = 0;
    for (;;) {
        int busy = 0;
        for (int i = 0; i < cg->n && !busy; i++)
            busy = each_pid(cg->dirs[i].path, 0, any_pid, NULL);
        if (!busy)
            break;
        if (waited_us >= timeout_ms * 1000L)
            return husk_err_set(err, EBUSY, "remove cgroup `%s`", cg->dirs[0].path);
        struct timespec ts = {0, step_us * 1000};
        nanosleep(&ts, NULL);
        waited_us += step_us;
        if (step_us < 10000)
            step_us *= 2;
    }
    return husk_cgroup_systemd_stop(cg, err);
}

int husk_cgroup_destroy(const struct husk_cgroup *cg, int timeout_ms, struct husk_err *err)
{
    int rc = 0;
    if (cg->unit[0] && stop_unit(cg, timeout_ms, err) < 0)
        return -1;
    for (int i = 0; i < cg->n; i++) {
        const struct husk_cgroup_dir *d = &cg->dirs[i];
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", d->path);
        /* created < 0: a plan (husk_cgroup_plan) from a create that died, which made at most
         * that many components; a parent goes only once the cgroup below it did. */
        bool planned = d->created < 0;
        int made = planned ? -d->created : d->created;
        for (int k = 0; k < made; k++) {
            /* The kernel refuses a cgroup with processes or child cgroups (EBUSY): try first,
             * most are empty by now (timeout 0: only that). Killed processes take a moment to
             * leave: poll from 0.1 ms up to 10 ms steps, so a delete --force right after a kill
             * costs about the time they need; cgroups the container made go as they empty. */
            long step_us = 100, waited_us = 0;
            int r = rmdir(path), e = errno;
            while (r < 0 && e == EBUSY && k == 0 && timeout_ms > 0) {
                if (clear_tree(path, 0) && (r = rmdir(path)) == 0)
                    break;
                if (waited_us >= timeout_ms * 1000L)
                    break;
                struct timespec ts = {0, step_us * 1000};
                nanosleep(&ts, NULL);
                waited_us += step_us;
                if (step_us < 10000)
                    step_us *= 2;
                r = rmdir(path);
                e = errno;
            }
            /* of a plan: a leaf never made, or a parent that is not empty (or not ours), or
             * one a rootless create could not have made */
            if (r < 0 && planned && (k > 0 || e == ENOENT || (denied(e) && husk_rootless())))
                break;
            if (r < 0 && e != ENOENT) {
                if (k == 0 && rc == 0)
                    rc = husk_err_set(err, e, "remove cgroup `%s`", path);
                break;
            }
            char *slash = strrchr(path, '/');
            if (!slash)
                break;
            *slash = '\0';
        }
    }
    return rc;
}

int husk_cgroup_serialize(const struct husk_cgroup *cg, char *out, size_t n)
{
    size_t off = 0;
    out[0] = '\0';
    if (cg->unit[0]) {
        int w = snprintf(out, n, "unit:%s\n", cg->unit);
        if (w < 0 || (size_t)w >= n)
            return -1;
        off = (size_t)w;
    }
    for (int i = 0; i < cg->n; i++) {
        int w = snprintf(out + off, n - off, "%d:%d:%s:%s\n", cg->dirs[i].created, cg->dirs[i].v2,
                         cg->dirs[i].ctrls, cg->dirs[i].path);
        if (w < 0 || (size_t)w >= n - off)
            return -1;
        off += w;
    }
    return 0;
}

int husk_cgroup_parse(const char *s, struct husk_cgroup *cg)
{
    cg->n = cg->skipped = 0;
    cg->disabled = false;
    cg->unit[0] = '\0';
    while (*s && cg->n < HUSK_CG_MAX) {
        const char *nl = strchrnul(s, '\n');
        if (!strncmp(s, "unit:", 5)) {
            snprintf(cg->unit, sizeof cg->unit, "%.*s", (int)(nl - s - 5), s + 5);
            s = *nl ? nl + 1 : nl;
            continue;
        }
        char line[PATH_MAX + 256];
        snprintf(line, sizeof line, "%.*s", (int)(nl - s), s);
        struct husk_cgroup_dir *d = &cg->dirs[cg->n];
        int v2 = 0;
        char *p1 = strchr(line, ':'), *p2 = p1 ? strchr(p1 + 1, ':') : NULL;
        char *p3 = p2 ? strchr(p2 + 1, ':') : NULL;
        if (p3) {
            *p1 = *p2 = *p3 = '\0';
            d->created = atoi(line);
            v2 = atoi(p1 + 1);
            d->v2 = v2;
            snprintf(d->ctrls, sizeof d->ctrls, "%s", p2 + 1);
            snprintf(d->path, sizeof d->path, "%s", p3 + 1);
            cg->n++;
        }
        s = *nl ? nl + 1 : nl;
    }
    return 0;
}

unsigned long long husk_cgroup_shares_to_weight(unsigned long long shares)
{
    if (shares == 0)
        return 0;
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

static const struct husk_cgroup_dir *freezer_dir(const struct husk_cgroup *cg)
{
    for (int i = 0; i < cg->n; i++)
        if (cg->dirs[i].v2)
            return &cg->dirs[i];
    for (int i = 0; i < cg->n; i++)
        if (!strcmp(cg->dirs[i].ctrls, "freezer"))
            return &cg->dirs[i];
    return NULL;
}

static int read_line(const char *dir, const char *file, char *out, size_t n)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return husk_read_file(path, out, n);
}

bool husk_cgroup_frozen(const struct husk_cgroup *cg)
{
    const struct husk_cgroup_dir *d = freezer_dir(cg);
    char buf[512];
    if (!d || read_line(d->path, d->v2 ? "cgroup.events" : "freezer.state", buf, sizeof buf) < 0)
        return false;
    return d->v2 ? strstr(buf, "frozen 1") != NULL : strncmp(buf, "FROZEN", 6) == 0;
}

int husk_cgroup_freeze(const struct husk_cgroup *cg, bool freeze, struct husk_err *err)
{
    const struct husk_cgroup_dir *d = freezer_dir(cg);
    if (!d)
        return husk_err_set(err, 0, "cannot %s: the container has no freezer cgroup", freeze ? "pause" : "resume");
    if (husk_cg_write(d, d->v2 ? "cgroup.freeze" : "freezer.state", d->v2 ? (freeze ? "1" : "0")
                                                                         : (freeze ? "FROZEN" : "THAWED"), err) < 0)
        return -1;
    for (int waited = 0; waited < 5000; waited += 1) {
        if (husk_cgroup_frozen(cg) == freeze)
            return 0;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return husk_err_set(err, 0, "timed out waiting for the container to %s", freeze ? "freeze" : "thaw");
}

struct pidv {
    pid_t *v;
    size_t n, cap;
};

static bool add_pid(pid_t pid, void *ctx)
{
    struct pidv *p = ctx;
    if (p->n == p->cap) {
        pid_t *nv = realloc(p->v, (p->cap *= 2) * sizeof *nv);
        if (!nv)
            return false;
        p->v = nv;
    }
    p->v[p->n++] = pid;
    return true;
}

pid_t *husk_cgroup_pids(const struct husk_cgroup *cg, size_t *n)
{
    struct pidv p = {.v = malloc(16 * sizeof(pid_t)), .cap = 16};
    /* every hierarchy holds the same processes: the first that lists any */
    for (int i = 0; p.v && i < cg->n && p.n == 0; i++)
        each_pid(cg->dirs[i].path, 0, add_pid, &p);
    *n = p.n;
    return p.v;
}
