/* `create`: load the bundle, spawn the init into its namespaces, wait until it is
 * created, record the state (runtime.md "Lifecycle" steps 1-2, "Operations" create). The
 * steps run in the order of husk_container_create; the spawn and what husk does to the
 * init from outside are create_spawn.c's, the init's own steps init.c's. */
#include "create_internal.h"
#include "husk/exeseal.h"
#include "husk/fdpass.h"
#include "husk/fileio.h"
#include "husk/hooks.h"
#include "husk/security.h"
#include "seccomp_internal.h"
#include "start_internal.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* The state's "owner" (runc's field): the user name from /etc/passwd, read directly; glibc's
 * NSS would load its modules on every create (and cannot in a static build). */
static void owner_name(uid_t uid, char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = husk_fopen_read("/etc/passwd");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        char *end;
        unsigned long v = strtoul(c2 + 1, &end, 10);
        if (end != c2 + 1 && *end == ':' && v == uid) {
            snprintf(out, n, "%.*s", (int)(c1 - line), line);
            break;
        }
    }
    fclose(f);
}

static int copy_config(const char *src, int dirfd, struct husk_err *err)
{
    int in = husk_open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return husk_err_set(err, errno, "open `%s`", src);
    int out = openat(dirfd, HUSK_CONFIG_COPY, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = errno;
        close(in);
        return husk_err_set(err, e, "save config");
    }
    /* in the kernel: no buffer of ours to fault in */
    ssize_t n;
    int rc = 0;
    while ((n = sendfile(out, in, NULL, 1 << 30)) > 0)
        ;
    if (n < 0)
        rc = husk_err_set(err, errno, "save config");
    close(in);
    close(out);
    return rc;
}

static int listen_start_sock(int dirfd, struct husk_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dirfd, HUSK_START_SOCK);
    /* seqpacket: the init's answers to `start` (an error, a seccomp fd) keep their framing */
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return husk_err_set(err, errno, "start socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
        int e = errno;
        close(fd);
        return husk_err_set(err, e, "bind start socket");
    }
    return fd;
}

/* The bundle's config, parsed; the state and cgroup buffers. */
static int create_load(struct create_ctx *c, struct husk_err *err)
{
    const char *b = c->o.bundle ? c->o.bundle : ".";
    if (husk_id_validate(c->o.id, err) < 0 || husk_fds_check_passed(c->o.preserve_fds, "--preserve-fds", err) < 0)
        return -1;
    if (!husk_realpath(b, c->bundle))
        return husk_err_set(err, errno, "bundle `%s`", b);
    snprintf(c->cfgpath, sizeof c->cfgpath, "%s/config.json", c->bundle);
    if (!(c->cfg = husk_config_load(c->cfgpath, err)))
        return -1;
    if (!(c->st = malloc(sizeof *c->st)) || !(c->cg = malloc(sizeof *c->cg)))
        return husk_err_set(err, ENOMEM, "create");
    husk_state_reset(c->st);
    struct husk_cgroup *cg = c->cg;
    cg->n = cg->skipped = 0;   /* dirs[] are filled as they are made */
    cg->disabled = false;
    cg->unit[0] = '\0';
    return 0;
}

/* runtime.md "create": a property that cannot be applied is an error. */
static int create_check(struct create_ctx *c, struct husk_err *err)
{
    struct husk_config *cfg = c->cfg;
    if (husk_config_validate(cfg, err) < 0 || husk_caps_check(&cfg->process.caps, err) < 0 ||
        husk_unsupported_check(cfg, err) < 0)
        return -1;
    /* A container process with CAP_SYS_PTRACE in our user namespace opens /proc/1/exe of
     * the init waiting for `start` despite PR_SET_DUMPABLE 0, and keeps it: for such a
     * config the init must not be a fork of the host's binary (CVE-2019-5736). Not when the
     * container is the host's root anyway (husk_caps_host_root): a copy would protect
     * nothing there and costs ~0.8 ms. */
    if (!husk_config_namespace(cfg, CLONE_NEWUSER) && husk_caps_allow_ptrace(&cfg->process) &&
        !husk_caps_host_root(&cfg->process) && husk_self_seal(err) < 0)
        return -1;
    /* Mounts without a mount namespace would land on the host's (runc 1.1.5 makes them there
     * and leaves them). */
    if (!husk_config_namespace(cfg, CLONE_NEWNS) && cfg->n_mounts)
        return husk_err_set(err, 0, "config.json: %zu mounts need a mount namespace (linux.namespaces has no "
                            "\"mount\")", cfg->n_mounts);
    char tmp[PATH_MAX * 2];
    if (cfg->root_path[0] == '/')
        snprintf(tmp, sizeof tmp, "%s", cfg->root_path);
    else
        snprintf(tmp, sizeof tmp, "%s/%s", c->bundle, cfg->root_path);
    if (!husk_realpath(tmp, c->rootfs))
        return husk_err_set(err, errno, "rootfs `%s`", tmp);
    return 0;
}

/* The state directory, made and locked; start.sock for a later `start` (`run` starts the
 * init over the sync socket: no socket file to bind and connect). */
static int create_claim_state(struct create_ctx *c, struct husk_err *err)
{
    if ((c->dirfd = husk_state_create_dir(c->o.root, c->o.id, err)) < 0 || husk_state_lock(c->dirfd, err) < 0)
        return -1;
    if (!c->o.start && (c->listen_fd = listen_start_sock(c->dirfd, err)) < 0)
        return -1;
    return 0;
}

/* linux.resources written while the init builds its rootfs on the other CPU (the device
 * filter's load alone is ~0.1 ms, most of it the verifier), not before the clone; runc, too,
 * writes them once its init has made its mounts. Nothing of the container runs before they
 * are in force: the init execs the program only on the start byte ("S"), which create sends
 * after create_limits (run's early start, the commit, `start`). Not where a hook runs before
 * the start (prestart and createRuntime here, createContainer in the init: they see the
 * limits, as with runc), nor on v1 hierarchies, some of whose files (kmem) take a value only
 * before a task joins. */
static bool limits_after_clone(const struct create_ctx *c)
{
    const struct husk_cgroup *cg = c->cg;
    if (!cg->n || create_hooks_before_start(c->cfg))
        return false;
    for (int i = 0; i < cg->n; i++)
        if (!cg->dirs[i].v2)
            return false;
    return true;
}

/* The intent record before the first cgroup exists: a create killed from here on leaves a
 * directory whose creating mark names every cgroup it may have made, which delete --force
 * empties and removes. The state written after the clone replaces it. */
static int create_cgroups(struct create_ctx *c, struct husk_err *err)
{
    struct husk_cgroup *cg = c->cg;
    struct husk_state *st = c->st;
    if (c->o.no_cgroups)
        cg->disabled = true;
    else if ((c->o.systemd_cgroup ? husk_cgroup_plan_systemd : husk_cgroup_plan)(c->cfg, c->o.id, cg, err) < 0)
        return -1;
    if (husk_cgroup_serialize(cg, st->cgroup, sizeof st->cgroup) < 0)
        return husk_err_set(err, 0, "too many cgroups to record");
    if (husk_state_mark_creating(c->dirfd, st->cgroup, err) < 0)
        return -1;
    /* with systemd, the scope is made with the init in it, after the clone (create_configure) */
    if (cg->unit[0])
        return 0;
    if (husk_cgroup_make(cg, err) < 0)
        return -1;
    c->cg_made = true;
    if (husk_cgroup_serialize(cg, st->cgroup, sizeof st->cgroup) < 0)
        return -1;
    c->late_limits = limits_after_clone(c);
    return c->late_limits ? 0 : husk_cgroup_apply(cg, c->cfg, err);
}

static int create_limits(struct create_ctx *c, struct husk_err *err)
{
    return c->late_limits ? husk_cgroup_apply(c->cg, c->cfg, err) : 0;
}

/* run's stdio pipes and the sync pair. */
static int create_channels(struct create_ctx *c, struct husk_err *err)
{
    /* a terminal replaces the init's stdio anyway */
    c->relay = c->o.relay && !c->cfg->process.terminal;
    if (c->relay && husk_stdio_relay_open(c->o.relay, err) < 0)
        return -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sv) < 0)
        return husk_err_set(err, errno, "socketpair");
    return 0;
}

/* The state's fields known before the clone. Only the init's own hooks need the document
 * before the clone (a document too big for the go message); everything else about the
 * state is done while the init builds (create_record). */
static void create_state_fields(struct create_ctx *c)
{
    const struct husk_config *cfg = c->cfg;
    struct husk_state *st = c->st;
    snprintf(st->id, sizeof st->id, "%s", c->o.id);
    snprintf(st->bundle, sizeof st->bundle, "%s", c->bundle);
    snprintf(st->rootfs, sizeof st->rootfs, "%s", c->rootfs);
    st->annotations = cfg->annotations;
    const struct husk_namespace *pidns = husk_config_namespace(cfg, CLONE_NEWPID);
    st->flags = (cfg->hooks[HUSK_HOOK_POSTSTART].n ? HUSK_STATE_POSTSTART : 0) |
               (cfg->hooks[HUSK_HOOK_POSTSTOP].n ? HUSK_STATE_POSTSTOP : 0) |
               (cfg->linux_.seccomp.listener_path ? HUSK_STATE_NOTIFY : 0) |
               (pidns && !pidns->path ? HUSK_STATE_OWN_PIDNS : 0) |
               (!cfg->has_process ? HUSK_STATE_NO_PROCESS : 0);
    st->n_annotations = cfg->n_annotations;
    c->init_hooks = cfg->hooks[HUSK_HOOK_CREATE_CONTAINER].n || cfg->hooks[HUSK_HOOK_START_CONTAINER].n;
    if (c->init_hooks) {
        owner_name(geteuid(), st->owner, sizeof st->owner);
        c->hook_state = husk_state_json(st, HUSK_CREATED, 0);
    }
}

/* While the init builds its rootfs on the other CPU: the saved config and the state,
 * marked "creating" for readers that take no lock (`list`). Our lock on the directory
 * keeps other husk commands out until create is done; a failure removes both. */
static int create_record(struct create_ctx *c, struct husk_err *err)
{
    struct husk_state *st = c->st;
    if (!c->init_hooks) {
        owner_name(geteuid(), st->owner, sizeof st->owner);
        c->hook_state = husk_state_json(st, HUSK_CREATED, 0);
    }
    if (copy_config(c->cfgpath, c->dirfd, err) < 0)
        return -1;
    st->start_time = husk_proc_start_time(c->pid);
    return husk_state_save(c->dirfd, st, err);
}

/* The init's requests until it is created: prestart/createRuntime hooks, seccomp notify fds
 * for the listener, then READY (or its error, or EOF). */
static int create_wait_ready(struct create_ctx *c, struct husk_err *err)
{
    const struct husk_config *cfg = c->cfg;
    for (;;) {
        struct sync_packet pk;
        if (sync_recv(c->sv[0], &pk) != 1)
            return husk_err_set(err, 0, "container init exited during setup");
        if (pk.type == SYNC_ERROR) {
            husk_err_set(err, 0, "%s", pk.msg);
            err->code = pk.value;
            return -1;
        }
        if (pk.type == SYNC_HOOKS) {
            if (husk_hooks_run(&cfg->hooks[HUSK_HOOK_PRESTART], "prestart", c->hook_state, err) < 0 ||
                husk_hooks_run(&cfg->hooks[HUSK_HOOK_CREATE_RUNTIME], "createRuntime", c->hook_state, err) < 0)
                return -1;
            sync_send(c->sv[0], SYNC_HOOKS_DONE, 0, NULL);
            continue;
        }
        if (pk.type == SYNC_SECCOMP) {
            if (husk_seccomp_forward(cfg, pk.fd, c->pid, c->hook_state ? c->hook_state : "{}", err) < 0)
                return -1;
            continue;
        }
        if (pk.type == SYNC_READY)
            return 0;
    }
}

/* `run` with nothing to do between READY and start: the go is queued now, while the init is
 * still building, so it execs at READY without waiting for us to wake and answer. The init
 * reads the socket only for HOOKS_DONE before its start, hence not with those hooks; and a
 * --pid-file must exist before the process runs. A refusal means the init is gone already:
 * its error comes next; failing that, the start sends the go again and reports why it
 * could not. */
static bool create_early_start(struct create_ctx *c)
{
    const struct husk_config *cfg = c->cfg;
    bool early = c->o.start && !c->o.pid_file && !cfg->hooks[HUSK_HOOK_PRESTART].n &&
                 !cfg->hooks[HUSK_HOOK_CREATE_RUNTIME].n;
    return early && send(c->sv[0], "S", 1, MSG_NOSIGNAL) == 1;
}

/* The state is durable: the init may outlive us now. Until this byte it exits when our end
 * of the socket closes (init.c); `run`'s start is its own commit. */
static int create_commit(struct create_ctx *c, bool early, struct husk_err *err)
{
    if (!c->o.start && send(c->sv[0], "C", 1, MSG_NOSIGNAL) != 1)
        return husk_err_set(err, errno, "commit the container");
    unlinkat(c->dirfd, HUSK_CREATING_MARK, 0);
    if (c->o.pid_file && husk_write_pid_file(c->o.pid_file, c->pid, err) < 0)
        return -1;
    if (c->o.start && husk_start_over(c->sv[0], c->dirfd, c->st, early, err) < 0)
        return -1;
    return 0;
}

/* The one cleanup path: after a failure, the init killed, the cgroups and the state
 * directory removed; always, what the create held. */
static void create_release(struct create_ctx *c, bool failed)
{
    if (failed && c->pid > 0) {
        /* a systemd start under way is answered first: its error decides what is ours */
        struct husk_err e1;
        husk_cgroup_systemd_start_wait(c->cg, &e1);
        kill(c->pid, SIGKILL);
        if (c->own_child)
            waitpid(c->pid, NULL, 0);
    }
    if (failed && c->dirfd >= 0 && c->o.relay)
        husk_stdio_relay_close(c->o.relay);
    int *fds[] = {&c->sv[0], &c->sv[1], &c->listen_fd, &c->console, &c->own_netns};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
    /* a plan alone is not ours to remove, and make removes what it made when it fails */
    if (failed && c->cg_made && c->cg->n) {
        struct husk_err e2;
        husk_cgroup_destroy(c->cg, 2000, &e2);
    }
    if (!failed && c->o.kept) {
        /* unlocked, as a close would leave it: `state`, `kill` and `delete` may go on */
        flock(c->dirfd, LOCK_UN);
        c->st->annotations = NULL;  /* the config's, freed below */
        c->st->n_annotations = 0;
        *c->o.kept = (struct husk_run_kept){c->dirfd, c->st, c->cg};
        c->dirfd = -1;
        c->st = NULL;
        c->cg = NULL;
    }
    if (c->dirfd >= 0) {
        struct husk_err e2;
        close(c->dirfd);
        if (failed)
            husk_state_remove(c->o.root, c->o.id, &e2);
    }
    for (size_t i = 0; c->trees && i < c->n_trees; i++)
        if (c->trees[i] >= 0)
            close(c->trees[i]);
    free(c->trees);
    free(c->hook_state);
    husk_config_free(c->cfg);
    free(c->st);
    free(c->cg);
}

/* Field by field: the path buffers stay untouched (each page written is a page fault)
 * until they are filled. */
static void create_init(struct create_ctx *c, const struct husk_create_opts *o)
{
    c->o = *o;
    c->cfg = NULL;
    c->st = NULL;
    c->cg = NULL;
    c->dirfd = c->listen_fd = c->console = c->sv[0] = c->sv[1] = c->own_netns = -1;
    c->hook_state = NULL;
    c->trees = NULL;
    c->n_trees = 0;
    c->pid = -1;
    c->own_child = true;
    c->in_v2 = c->cg_made = c->relay = c->init_hooks = c->joins = c->late_limits = false;
    c->flags = 0;
}

pid_t husk_container_create(const struct husk_create_opts *o, struct husk_err *err)
{
    struct create_ctx c;
    create_init(&c, o);
    bool ok = create_load(&c, err) == 0 && create_check(&c, err) == 0 &&
              create_claim_state(&c, err) == 0 && create_cgroups(&c, err) == 0 &&
              husk_seccomp_prepare(c.cfg, c.o.root, err) == 0 && create_channels(&c, err) == 0;
    if (ok) {
        create_state_fields(&c);
        ok = create_socket_activation(&c, err) == 0 && create_init_fds(&c, err) == 0 &&
             create_spawn(&c, err) == 0 && create_configure(&c, err) == 0 && create_go(&c, err) == 0 &&
             create_limits(&c, err) == 0 && create_record(&c, err) == 0 && create_cgroup_finish(&c, err) == 0;
    }
    if (ok) {
        bool early = create_early_start(&c);
        ok = create_wait_ready(&c, err) == 0 && create_commit(&c, early, err) == 0;
    }
    pid_t pid = c.pid;
    create_release(&c, !ok);
    return ok ? pid : -1;
}
