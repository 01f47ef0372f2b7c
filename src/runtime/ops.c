/* start and delete (runtime.md "Operations"); kill, pause, update in ops_control.c, state, list,
 * ps, events in ops_query.c. */
#include "ops_internal.h"

#include "husk/cgroup.h"
#include "husk/cleanup.h"
#include "husk/container.h"
#include "husk/hooks.h"
#include "husk/jsonw.h"
#include "husk/log.h"
#include "husk/rootless.h"
#include "husk/state.h"
#include "seccomp_internal.h"
#include "start_internal.h"
#include "sync.h"

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

int husk_ops_open(const char *root, const char *id, struct husk_state *st, struct husk_err *err)
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

static int destroy_locked(const char *root, const char *id, int dirfd, const struct husk_state *st,
                          struct husk_cgroup *cg, bool force, pid_t reaped, struct husk_err *err);

int husk_container_start(const char *root, const char *id, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = husk_ops_open(root, id, &st, err);
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
        AUTOFREE struct husk_cgroup *cg = malloc(sizeof *cg);   /* 64 KiB: not on the stack */
        if (cg)
            destroy_locked(root, id, dirfd, &st, cg, true, 0, &ig);
    }
    return r < 0 ? -1 : 0;
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

static int delete_locked(const char *root, const char *id, int dirfd, struct husk_state *st, struct husk_cgroup *cg,
                         bool force, pid_t reaped, struct husk_err *err)
{
    if (husk_state_lock(dirfd, err) < 0)
        return -1;
    /* With the lock ours, no create is at work: a directory without its state is what a
     * killed create or delete left, stopped by definition (runc refuses it without
     * --force and hides it from list; husk shows it and deletes it either way). */
    if (husk_state_load(dirfd, id, st, err) < 0)
        return err->code == HUSK_ENOSTATE ? delete_broken(root, id, dirfd, err) : -1;
    return destroy_locked(root, id, dirfd, st, cg, force, reaped, err);
}

/* The state and the cgroups on the heap, in create's two block sizes: after `run` the
 * allocator hands back create's blocks, whose pages are in (create_internal.h). */
static int delete_container(const char *root, const char *id, bool force, pid_t reaped, struct husk_err *err)
{
    if (husk_id_validate(id, err) < 0)
        return -1;
    AUTOCLOSE int dirfd = husk_state_open_dir(root, id, err);
    if (dirfd < 0)
        return force && err->code == ENOENT ? 0 : -1;
    struct husk_state *st = malloc(sizeof *st);
    AUTOFREE struct husk_cgroup *cg = malloc(sizeof *cg);
    if (!st || !cg) {
        free(st);
        return husk_err_set(err, ENOMEM, "delete");
    }
    husk_state_reset(st);
    int rc = delete_locked(root, id, dirfd, st, cg, force, reaped, err);
    husk_state_free(st);
    free(st);
    return rc;
}

int husk_container_delete(const char *root, const char *id, bool force, struct husk_err *err)
{
    return delete_container(root, id, force, 0, err);
}


/* After `run`: the state create wrote is the one on disk, unless a `delete` removed the
 * directory meanwhile (then it is not ours to touch: the id may be someone else's now).
 * Only poststop hooks, which see the whole state, call for reading it back. */
int husk_container_delete_kept(const char *root, const char *id, pid_t reaped, struct husk_run_kept *k,
                               struct husk_err *err)
{
    struct stat sb;
    int rc = husk_state_lock(k->dirfd, err);
    if (rc == 0 && fstat(k->dirfd, &sb) == 0 && sb.st_nlink > 0) {
        if (k->st->flags & HUSK_STATE_POSTSTOP)
            rc = husk_state_load(k->dirfd, id, k->st, err);
        if (rc == 0)
            rc = destroy_locked(root, id, k->dirfd, k->st, k->cg, true, reaped, err);
    }
    close(k->dirfd);
    husk_state_free(k->st);
    free(k->st);
    free(k->cg);
    return rc;
}

/* runtime.md "Lifecycle" 12 and 13, with the state directory locked: kill what is left,
 * remove the cgroups and the state, run the poststop hooks. */
static int destroy_locked(const char *root, const char *id, int dirfd, const struct husk_state *st,
                          struct husk_cgroup *cg, bool force, pid_t reaped, struct husk_err *err)
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
