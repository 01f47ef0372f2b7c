/* start, kill, delete, state, list (runtime.md "Operations"). */
#include "husk/cgroup.h"
#include "husk/cleanup.h"
#include "husk/container.h"
#include "husk/hooks.h"
#include "husk/jsonw.h"
#include "husk/log.h"
#include "husk/rootless.h"
#include "husk/state.h"
#include "init_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void state_freep(struct husk_state *st)
{
    husk_state_free(st);
}
#define AUTOSTATE __attribute__((cleanup(state_freep)))

/* Opens, locks and loads a container. Returns the dirfd. */
static int open_container(const char *root, const char *id, struct husk_state *st, struct husk_err *err)
{
    husk_state_reset(st);
    if (husk_id_validate(id, err) < 0)
        return -1;
    int fd = husk_state_open_dir(root, id, err);
    if (fd < 0)
        return -1;
    if (husk_state_lock(fd, err) < 0 || husk_state_load(fd, id, st, err) < 0) {
        int code = err->code;
        close(fd);
        err->code = code;
        return -1;
    }
    return fd;
}

static struct husk_config *saved_config(int dirfd)
{
    char path[64];
    struct husk_err e;
    snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dirfd, HUSK_CONFIG_COPY);
    return husk_config_load(path, &e);
}

int husk_start_over(int fd, int dirfd, const struct husk_state *st, bool sent, struct husk_err *err)
{
    if (!sent && send(fd, "S", 1, MSG_NOSIGNAL) != 1)
        return husk_err_set(err, errno, "start container \"%s\"", st->id);
    /* The init closes the socket on exec (CLOEXEC): EOF is success. Before that it may
     * hand over a seccomp notify fd, or report why it could not exec. */
    struct husk_config *cfg = st->flags & (HUSK_STATE_POSTSTART | HUSK_STATE_NOTIFY) ? saved_config(dirfd) : NULL;
    struct sync_packet pk;
    int r;
    while ((r = sync_recv(fd, &pk)) == 1) {
        if (pk.type == SYNC_SECCOMP && cfg) {
            char *doc = husk_state_json(st, HUSK_CREATED, 0);
            int fr = husk_seccomp_forward(cfg, pk.fd, st->pid, doc ? doc : "{}", err);
            free(doc);
            if (fr < 0) {
                kill(st->pid, SIGKILL);
                husk_config_free(cfg);
                return -1;
            }
            continue;
        }
        if (pk.fd >= 0)
            close(pk.fd);
        husk_err_set(err, 0, "%s", pk.type == SYNC_ERROR ? pk.msg : "container init failed");
        err->code = pk.value;
        husk_config_free(cfg);
        return -1;
    }
    if (cfg && cfg->hooks[HUSK_HOOK_POSTSTART].n) {
        char *doc = husk_state_json(st, HUSK_RUNNING, 0);
        int r = husk_hooks_run(&cfg->hooks[HUSK_HOOK_POSTSTART], "poststart", doc ? doc : "{}", err);
        free(doc);
        if (r < 0) {
            /* runtime.md "Lifecycle" 9: a failing poststart hook fails start, stops the
             * container and goes on at step 12; the caller destroys it. */
            kill(st->pid, SIGKILL);
            husk_config_free(cfg);
            return HUSK_START_POSTSTART_FAILED;
        }
    }
    husk_config_free(cfg);
    return 0;
}

static int destroy_locked(const char *root, const char *id, int dirfd, const struct husk_state *st, bool force,
                          pid_t reaped, struct husk_err *err);

int husk_container_start(const char *root, const char *id, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = open_container(root, id, &st, err);
    if (dirfd < 0)
        return -1;
    enum husk_status s = husk_state_status(dirfd, &st);
    if (s != HUSK_CREATED)
        return husk_err_set(err, 0, "cannot start container \"%s\": it is %s, not created", id,
                            husk_status_name(s));
    /* runtime.md "start" must fail without a process, and "Errors": leave the container as
     * it was (created), so refuse before the init is told anything. */
    if (st.flags & HUSK_STATE_NO_PROCESS)
        return husk_err_set(err, 0, "cannot start container \"%s\": config.json has no process to run", id);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dirfd, HUSK_START_SOCK);
    AUTOCLOSE int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno == ENOENT)   /* a `run` starts its container over its own socket */
            return husk_err_set(err, 0, "cannot start container \"%s\": the `husk run` that created it starts it", id);
        return husk_err_set(err, errno, "reach container \"%s\"", id);
    }
    /* Whatever follows, the container is no longer waiting to be started. */
    unlinkat(dirfd, HUSK_START_SOCK, 0);
    int r = husk_start_over(fd, dirfd, &st, false, err);
    if (r == HUSK_START_POSTSTART_FAILED) {
        struct husk_err ig;
        destroy_locked(root, id, dirfd, &st, true, 0, &ig);
    }
    return r < 0 ? -1 : 0;
}

/* Every process in the container's pid namespace, found through /proc: only for a namespace
 * of its own (a shared one holds the host's or other containers' processes). fn is called
 * with each; returns how many, or -1. */
static int each_ns_pid(const struct husk_state *st, void (*fn)(pid_t, void *), void *ctx)
{
    char path[64], self[64], other[64];
    snprintf(path, sizeof path, "/proc/%d/ns/pid", st->pid);
    ssize_t n = readlink(path, self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *de;
    int count = 0;
    while ((de = readdir(d))) {
        pid_t p = (pid_t)atoi(de->d_name);
        if (p <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/ns/pid", p);
        n = readlink(path, other, sizeof other - 1);
        if (n <= 0)
            continue;
        other[n] = '\0';
        if (strcmp(self, other) == 0) {
            fn(p, ctx);
            count++;
        }
    }
    closedir(d);
    return count;
}

static void kill_one(pid_t p, void *sig)
{
    kill(p, *(int *)sig);
}

static int kill_all(const struct husk_state *st, int sig)
{
    return each_ns_pid(st, kill_one, &sig);
}

/* The reason a command that needs the container's cgroups has none: rootless husk runs a
 * container without them where it may not make any. */
static int no_cgroup(struct husk_err *err, const char *what, const char *id)
{
    return husk_err_set(err, 0, "%s: container \"%s\" has no cgroup%s", what, id,
                        husk_rootless() ? " (rootless husk made none: no cgroup was writable; delegate a cgroup v2 "
                                          "subtree owned by the user)" : "");
}

int husk_container_kill(const char *root, const char *id, int sig, bool all, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = open_container(root, id, &st, err);
    if (dirfd < 0)
        return -1;
    /* A pidfd taken before checking the start time cannot hit a recycled pid. */
    AUTOCLOSE int pidfd = (int)syscall(SYS_pidfd_open, st.pid, 0);
    enum husk_status s = husk_state_status(dirfd, &st);
    bool live = pidfd >= 0 && (s == HUSK_CREATED || s == HUSK_RUNNING || s == HUSK_PAUSED);
    if (!live && !all)
        return husk_err_set(err, 0, "container \"%s\" is not running", id);
    if (all) {
        /* Only the container's own cgroups and its own pid namespace tell its processes from
         * anyone else's: a shared (host or joined) namespace is never scanned, a cgroup husk
         * did not make (an existing cgroupsPath, even "/") may hold anyone, and without either
         * there is nothing safe to signal beyond the init. */
        bool own_pidns = st.flags & HUSK_STATE_OWN_PIDNS;
        struct husk_cgroup cg;
        husk_cgroup_parse(st.cgroup, &cg);
        int own = 0;
        for (int i = 0; i < cg.n; i++)
            /* a systemd scope is the container's alone: StartTransientUnit made it new */
            if (cg.dirs[i].created > 0 || cg.unit[0])
                cg.dirs[own++] = cg.dirs[i];
        cg.n = own;
        /* A stopped init may leave processes behind in its cgroup (with a pid namespace not
         * its own): as in runc 1.1, kill --all signals those and succeeds with none left.
         * containerd's shim sends it after such a container's exit, and takes a failure for
         * a kill that did not happen (StopPodSandbox then waits forever). */
        if (!live) {
            husk_cgroup_signal_all(&cg, sig);
            return 0;
        }
        if (cg.n == 0 && !own_pidns)
            return husk_err_set(err, 0, "kill --all: container \"%s\" has neither a pid namespace nor a cgroup of its "
                                        "own (one husk made) to find its processes in", id);
        if (husk_cgroup_signal_all(&cg, sig) == 0 && own_pidns)
            kill_all(&st, sig);
    }
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) {
        if (errno == ESRCH)
            return husk_err_set(err, 0, "container \"%s\" is not running", id);
        return husk_err_set(err, errno, "signal container \"%s\"", id);
    }
    return 0;
}

static void wait_gone(int pidfd, pid_t pid)
{
    if (pidfd >= 0) {
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        poll(&p, 1, 10000);
    }
    /* Reap it if it is our child (run), else wait for /proc to let go. */
    waitpid(pid, NULL, WNOHANG);
}

/* The creating mark's cgroup plan (husk_state_mark_creating), or "" when there is none. */
static void read_plan(int dirfd, char *out, size_t n)
{
    out[0] = '\0';
    int fd = openat(dirfd, HUSK_CREATING_MARK, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t r = read(fd, out, n - 1);
    close(fd);
    out[r > 0 ? r : 0] = '\0';
}

/* Removes the cgroups husk made, killing what is left in them. Most often nothing is (a
 * stopped init took its pid namespace with it): they go at once, and only a refusal (EBUSY)
 * calls for the kill. */
static int empty_cgroups(const struct husk_cgroup *cg, struct husk_err *err)
{
    struct husk_err ig;
    if (!cg->n || husk_cgroup_destroy(cg, 0, &ig) == 0)
        return 0;
    husk_cgroup_signal_all(cg, SIGKILL);
    /* a v1-frozen task acts on SIGKILL only once thawed */
    if (husk_cgroup_frozen(cg))
        husk_cgroup_freeze(cg, false, &ig);
    return husk_cgroup_destroy(cg, 5000, err);
}

/* A directory without state.json, its lock free: a create (or a delete) that died part way.
 * What the create may have made is in its creating mark: the processes in those cgroups are
 * killed (the init itself dies with its create before the state is durable, init.c), the
 * cgroups removed, then the directory. */
static int delete_broken(const char *root, const char *id, int dirfd, struct husk_err *err)
{
    AUTOFREE struct husk_cgroup *cg = malloc(sizeof *cg);
    AUTOFREE char *plan = malloc(sizeof ((struct husk_state *)0)->cgroup);
    if (!cg || !plan)
        return husk_err_set(err, ENOMEM, "delete");
    read_plan(dirfd, plan, sizeof ((struct husk_state *)0)->cgroup);
    husk_cgroup_parse(plan, cg);
    if (empty_cgroups(cg, err) < 0)
        return -1;
    return husk_state_remove_at(root, id, dirfd, err);
}

static int delete_container(const char *root, const char *id, bool force, pid_t reaped, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    husk_state_reset(&st);
    if (husk_id_validate(id, err) < 0)
        return -1;
    AUTOCLOSE int dirfd = husk_state_open_dir(root, id, err);
    if (dirfd < 0)
        return force && err->code == ENOENT ? 0 : -1;
    if (husk_state_lock(dirfd, err) < 0)
        return -1;
    /* With the lock ours, no create is at work: a directory without its state is what a
     * killed create or delete left, stopped by definition (runc refuses it without
     * --force and hides it from list; husk shows it and deletes it either way). */
    if (husk_state_load(dirfd, id, &st, err) < 0)
        return err->code == HUSK_ENOSTATE ? delete_broken(root, id, dirfd, err) : -1;
    return destroy_locked(root, id, dirfd, &st, force, reaped, err);
}

int husk_container_delete(const char *root, const char *id, bool force, struct husk_err *err)
{
    return delete_container(root, id, force, 0, err);
}

int husk_container_delete_reaped(const char *root, const char *id, pid_t reaped, struct husk_err *err)
{
    return delete_container(root, id, true, reaped, err);
}

/* runtime.md "Lifecycle" 12 and 13, with the state directory locked: kill what is left,
 * remove the cgroups and the state, run the poststop hooks. */
static int destroy_locked(const char *root, const char *id, int dirfd, const struct husk_state *st, bool force,
                          pid_t reaped, struct husk_err *err)
{
    /* an init our caller has reaped is stopped: no /proc look-up to say so */
    enum husk_status s = reaped > 0 && st->pid == reaped ? HUSK_STOPPED : husk_state_status(dirfd, st);
    /* runtime.md "delete": a container that is not stopped is left alone, with an error. */
    if (s != HUSK_STOPPED && !force)
        return husk_err_set(err, 0, "cannot delete container \"%s\" that is not stopped: it is %s", id,
                            husk_status_name(s));
    if (s != HUSK_STOPPED) {
        AUTOCLOSE int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
        if (pidfd >= 0) {
            syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
            wait_gone(pidfd, st->pid);
        }
    }
    /* Everything left in the container's cgroups goes too (no pid namespace, or
     * processes that escaped it), then the cgroups husk made. */
    AUTOFREE struct husk_cgroup *cg = malloc(sizeof *cg);   /* 64 KiB: not on the stack */
    if (!cg)
        return husk_err_set(err, ENOMEM, "delete");
    husk_cgroup_parse(st->cgroup, cg);
    if (empty_cgroups(cg, err) < 0)
        return -1;
    struct husk_config *cfg = st->flags & HUSK_STATE_POSTSTOP ? saved_config(dirfd) : NULL;
    if (husk_state_remove_at(root, id, dirfd, err) < 0) {
        husk_config_free(cfg);
        return -1;
    }
    if (cfg && cfg->hooks[HUSK_HOOK_POSTSTOP].n) {
        char *doc = husk_state_json(st, HUSK_STOPPED, 0);
        husk_hooks_run_all(&cfg->hooks[HUSK_HOOK_POSTSTOP], "poststop", doc ? doc : "{}");
        free(doc);
    }
    husk_config_free(cfg);
    return 0;
}

char *husk_container_state(const char *root, const char *id, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = open_container(root, id, &st, err);
    enum husk_status s;
    if (dirfd < 0 && err->code == HUSK_ENOSTATE) {
        /* the create that made it died (we had its lock): stopped, nothing else known */
        snprintf(st.id, sizeof st.id, "%s", id);
        s = HUSK_STOPPED;
    } else if (dirfd < 0) {
        return NULL;
    } else {
        s = husk_state_status(dirfd, &st);
    }
    if (s == HUSK_STOPPED)
        st.pid = 0;
    char *doc = husk_state_json(&st, s, 2);
    if (!doc)
        husk_err_set(err, ENOMEM, "state");
    return doc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *husk_container_list(const char *root, bool json, bool quiet, struct husk_err *err)
{
    DIR *d = opendir(root);
    char **ids = NULL;
    size_t n = 0, cap = 0;
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                char **nv = realloc(ids, cap * sizeof *ids);
                if (!nv)
                    break;
                ids = nv;
            }
            ids[n++] = strdup(de->d_name);
        }
        closedir(d);
    } else if (errno != ENOENT) {
        husk_err_set(err, errno, "list `%s`", root);
        return NULL;
    }
    if (n)
        qsort(ids, n, sizeof *ids, cmp_str);
    struct husk_jsonw w;
    husk_jsonw_init(&w, 0);
    bool first = true;
    if (json)
        husk_jsonw_raw(&w, "[");
    else if (!quiet)
        husk_jsonw_raw(&w, "ID                                                                 PID       STATUS    BUNDLE                                       CREATED                          OWNER\n");
    struct husk_state st;
    husk_state_reset(&st);
    for (size_t i = 0; i < n; i++) {
        struct husk_err e;
        int fd = husk_state_open_dir(root, ids[i], &e);
        enum husk_status s;
        if (fd >= 0 && husk_state_load(fd, ids[i], &st, &e) == 0) {
            s = husk_state_status(fd, &st);
        } else if (fd >= 0 && e.code == HUSK_ENOSTATE) {
            /* never hidden: a create at work holds the lock; otherwise it died (delete it) */
            s = husk_state_creator_alive(fd) ? HUSK_CREATING : HUSK_STOPPED;
            snprintf(st.id, sizeof st.id, "%s", ids[i]);
        } else {
            if (fd >= 0)
                close(fd);
            continue;
        }
        close(fd);
        if (s == HUSK_STOPPED)
            st.pid = 0;
        if (json) {
            char *doc = husk_state_json(&st, s, 0);
            if (doc) {
                doc[strcspn(doc, "\n")] = '\0';
                if (!first)
                    husk_jsonw_raw(&w, ",");
                first = false;
                husk_jsonw_raw(&w, doc);
                free(doc);
            }
        } else if (quiet) {
            husk_jsonw_raw(&w, st.id);
            husk_jsonw_raw(&w, "\n");
        } else {
            char line[16384];
            snprintf(line, sizeof line, "%-66s %-9d %-9s %-44s %-32s %s\n", st.id, st.pid, husk_status_name(s),
                     st.bundle, st.created, st.owner);
            husk_jsonw_raw(&w, line);
        }
    }
    husk_state_free(&st);
    if (json)
        husk_jsonw_raw(&w, "]\n");
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    if (!w.oom && !w.buf)
        return strdup("");
    if (w.oom) {
        husk_jsonw_free(&w);
        husk_err_set(err, ENOMEM, "list");
        return NULL;
    }
    return w.buf;
}

int husk_container_pause(const char *root, const char *id, bool pause, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = open_container(root, id, &st, err);
    if (dirfd < 0)
        return -1;
    enum husk_status s = husk_state_status(dirfd, &st);
    if (pause && s != HUSK_RUNNING)
        return husk_err_set(err, 0, "cannot pause container \"%s\": it is %s, not running", id, husk_status_name(s));
    if (!pause && s != HUSK_PAUSED)
        return husk_err_set(err, 0, "cannot resume container \"%s\": it is %s, not paused", id, husk_status_name(s));
    struct husk_cgroup cg;
    husk_cgroup_parse(st.cgroup, &cg);
    if (cg.n == 0)
        return no_cgroup(err, pause ? "pause: cannot freeze" : "resume: cannot thaw", id);
    if (pause) {
        int fd = openat(dirfd, HUSK_PAUSED_MARK, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return husk_err_set(err, errno, "pause");
        close(fd);
    }
    if (husk_cgroup_freeze(&cg, pause, err) < 0) {
        if (pause) {
            struct husk_err ig;
            husk_cgroup_freeze(&cg, false, &ig);
            unlinkat(dirfd, HUSK_PAUSED_MARK, 0);
        }
        return -1;
    }
    if (!pause)
        unlinkat(dirfd, HUSK_PAUSED_MARK, 0);
    return 0;
}

struct pid_list {
    pid_t *v;
    size_t n, cap;
};

static void add_pid(pid_t p, void *ctx)
{
    struct pid_list *l = ctx;
    if (l->n == l->cap) {
        pid_t *nv = realloc(l->v, 2 * l->cap * sizeof *nv);
        if (!nv)
            return;
        l->v = nv;
        l->cap *= 2;
    }
    l->v[l->n++] = p;
}

pid_t *husk_container_pids(const char *root, const char *id, size_t *n, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = open_container(root, id, &st, err);
    if (dirfd < 0)
        return NULL;
    struct husk_cgroup cg;
    husk_cgroup_parse(st.cgroup, &cg);
    if (cg.n > 0) {
        pid_t *v = husk_cgroup_pids(&cg, n);
        if (!v)
            husk_err_set(err, ENOMEM, "ps");
        return v;
    }
    /* Without a cgroup (rootless) a pid namespace of its own still tells its processes */
    if (!(st.flags & HUSK_STATE_OWN_PIDNS) || husk_state_status(dirfd, &st) == HUSK_STOPPED) {
        no_cgroup(err, "ps: cannot list the processes", id);
        return NULL;
    }
    struct pid_list l = {.v = malloc(64 * sizeof(pid_t)), .cap = 64};
    if (!l.v || each_ns_pid(&st, add_pid, &l) < 0) {
        free(l.v);
        husk_err_set(err, errno, "ps: read the processes of container \"%s\"", id);
        return NULL;
    }
    *n = l.n;
    return l.v;
}

int husk_container_update(const char *root, const char *id, const char *resources_json, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = open_container(root, id, &st, err);
    if (dirfd < 0)
        return -1;
    enum husk_status s = husk_state_status(dirfd, &st);
    if (s == HUSK_STOPPED)
        return husk_err_set(err, 0, "cannot update container \"%s\": it is stopped", id);
    /* Parsed by the config parser as .linux.resources, so every check and message is the same. */
    size_t len = strlen(resources_json);
    char *doc = malloc(len + 128);
    if (!doc)
        return husk_err_set(err, ENOMEM, "update");
    int n = snprintf(doc, len + 128, "{\"ociVersion\":\"1.3.0\",\"linux\":{\"resources\":%s}}", resources_json);
    struct husk_config *cfg = husk_config_parse(doc, (size_t)n, "resources", err);
    free(doc);
    if (!cfg)
        return -1;
    struct husk_cgroup cg;
    husk_cgroup_parse(st.cgroup, &cg);
    if (cg.n == 0 && cfg->linux_.resources.set) {
        husk_config_free(cfg);
        return no_cgroup(err, "update: cannot apply the resources", id);
    }
    /* a systemd scope gets the new values as properties too, or systemd would restore the
     * old ones when it next writes the unit's cgroup */
    int rc = cg.unit[0] ? husk_cgroup_systemd_set(&cg, cfg, err) : 0;
    if (rc == 0)
        rc = husk_cgroup_apply(&cg, cfg, err);
    husk_config_free(cfg);
    return rc;
}

static void print_event(const char *type, const char *id, const struct husk_cgroup *cg)
{
    struct husk_jsonw w;
    husk_jsonw_init(&w, 0);
    husk_jsonw_begin_object(&w);
    husk_jsonw_kv_str(&w, "type", type);
    husk_jsonw_kv_str(&w, "id", id);
    if (cg) {
        husk_jsonw_key(&w, "data");
        husk_cgroup_stats(cg, &w);
    }
    husk_jsonw_end_object(&w);
    husk_jsonw_raw(&w, "\n");
    if (w.buf)
        fputs(w.buf, stdout);
    fflush(stdout);
    husk_jsonw_free(&w);
}

int husk_container_events(const char *root, const char *id, bool stats_once, int interval, struct husk_err *err)
{
    struct husk_state st;
    int dirfd = open_container(root, id, &st, err);
    if (dirfd < 0)
        return -1;
    /* no lock held while we watch: other commands must go on */
    flock(dirfd, LOCK_UN);
    struct husk_cgroup cg;
    husk_cgroup_parse(st.cgroup, &cg);
    int rc = 0;
    if (husk_state_status(dirfd, &st) == HUSK_STOPPED) {
        rc = husk_err_set(err, 0, "container \"%s\" is not running", id);
    } else if (cg.n == 0) {
        rc = no_cgroup(err, "events: no stats or OOM events", id);
    } else if (stats_once) {
        print_event("stats", id, &cg);
    } else {
        long long ooms = husk_cgroup_oom_kills(&cg);
        int ticks = 0;
        while (husk_state_status(dirfd, &st) != HUSK_STOPPED) {
            long long now = husk_cgroup_oom_kills(&cg);
            for (; ooms < now; ooms++)
                print_event("oom", id, NULL);
            if (++ticks >= interval * 10) {
                print_event("stats", id, &cg);
                ticks = 0;
            }
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    husk_state_free(&st);
    close(dirfd);
    return rc;
}
