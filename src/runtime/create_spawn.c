/* `create`'s spawn of the init and what husk does to it from outside while it waits for GO
 * (runtime.md "Lifecycle" step 2; the init's own steps are init.c's). */
#include "create_internal.h"
#include "husk/exeseal.h"
#include "husk/fdpass.h"
#include "husk/fileio.h"
#include "husk/netlo.h"
#include "husk/procfs.h"
#include "husk/rootfs.h"
#include "husk/security.h"
#include "process_internal.h"
#include "spawn.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const int ns_order[] = {
    /* user first: the others may belong to it (config-linux.md "Namespaces") */
    CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS,
    CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS,
};

/* Socket activation (sd_listen_fds): fds 3.. named by LISTEN_FDS are handed on like
 * --preserve-fds, and the container's process sees itself as their owner (pid 1). As
 * sd_listen_fds(3) (and runc) do, only when LISTEN_PID is ours: variables left over from
 * another process name fds we never got, where our own would be by now. */
int create_socket_activation(struct create_ctx *c, struct husk_err *err)
{
    struct husk_config *cfg = c->cfg;
    const char *lfds = getenv("LISTEN_FDS"), *lpid = getenv("LISTEN_PID");
    char *end = NULL;
    long for_pid = lpid ? strtol(lpid, &end, 10) : 0;
    int listen_n = lfds && end && end != lpid && !*end && for_pid == getpid() ? atoi(lfds) : 0;
    if (listen_n > 0 && husk_fds_check_passed(listen_n, "LISTEN_FDS", err) < 0)
        return -1;
    if (listen_n <= 0 || !cfg->has_process)
        return 0;
    if (listen_n > c->o.preserve_fds)
        c->o.preserve_fds = listen_n;
    char **nv = husk_arena_alloc(&cfg->arena, (cfg->process.env.n + 3) * sizeof(char *));
    if (!nv)
        return husk_err_set(err, ENOMEM, "create");
    size_t k = 0;
    for (size_t i = 0; i < cfg->process.env.n; i++)
        if (strncmp(cfg->process.env.v[i], "LISTEN_FDS=", 11) && strncmp(cfg->process.env.v[i], "LISTEN_PID=", 11))
            nv[k++] = cfg->process.env.v[i];
    char buf[32];
    snprintf(buf, sizeof buf, "LISTEN_FDS=%d", listen_n);
    nv[k++] = husk_arena_strdup(&cfg->arena, buf);
    nv[k++] = husk_arena_strdup(&cfg->arena, "LISTEN_PID=1");
    cfg->process.env.v = nv;
    cfg->process.env.n = k;
    return 0;
}

/* Keep fds the init needs above the preserved range (runtime.md: fds 3..3+N-1). */
static int move_above_floor(struct create_ctx *c, int floor, struct husk_err *err)
{
    int child_sync = husk_dupfd_cloexec(c->sv[1], floor);
    int child_listen = c->listen_fd >= 0 ? husk_dupfd_cloexec(c->listen_fd, floor) : -1;
    close(c->sv[1]);
    c->sv[1] = child_sync;
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    c->listen_fd = child_listen;
    if (child_sync < 0 || (!c->o.start && child_listen < 0))
        return husk_err_set(err, errno, "dup sync fds");
    /* The console socket is reached as husk, before the clone: an init in a new user
     * namespace is the container's root by the time it has a terminal to send, and a socket
     * in a directory only the host's root may enter (podman's) refuses it (runc connects on
     * its side too). */
    if (c->cfg->process.terminal && c->o.console_socket && c->o.console_fd < 0) {
        int fd = husk_proc_connect_console(c->o.console_socket, err);
        if (fd < 0)
            return -1;
        c->console = husk_dupfd_cloexec(fd, floor);
        close(fd);
        if (c->console < 0)
            return husk_err_set(err, errno, "dup the console socket");
        c->o.console_fd = c->console;
    }
    /* `run` in the foreground without --console-socket: the pty master comes back to it
     * over a pair of its own, made only when there is a terminal to send */
    if (c->cfg->process.terminal && !c->o.console_socket && c->o.console_back && c->o.console_fd < 0) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
            return husk_err_set(err, errno, "console socket pair");
        c->console = husk_dupfd_cloexec(pair[1], floor);
        close(pair[1]);
        if (c->console < 0) {
            close(pair[0]);
            return husk_err_set(err, errno, "dup the console socket");
        }
        *c->o.console_back = pair[0];
        c->o.console_fd = c->console;
    }
    return 0;
}

/* Mount sources and device nodes the init cannot reach or make in its user namespace,
 * and idmapped mounts: made as the host's root once the init's mount namespace exists,
 * then sent to it (husk_rootfs_trees). The init fills its copy of these slots. */
static int tree_slots(struct create_ctx *c, struct husk_err *err)
{
    if ((c->n_trees = husk_rootfs_tree_slots(c->cfg)) == 0)
        return 0;
    if (!(c->trees = malloc(c->n_trees * sizeof *c->trees)))
        return husk_err_set(err, ENOMEM, "create");
    for (size_t i = 0; i < c->n_trees; i++)
        c->trees[i] = -1;
    return 0;
}

/* The namespaces the clone makes, and what the init is told. */
static void init_args(struct create_ctx *c)
{
    const struct husk_config *cfg = c->cfg;
    for (size_t i = 0; i < cfg->linux_.n_namespaces; i++) {
        if (cfg->linux_.namespaces[i].path)
            c->joins = true;
        else
            c->flags |= (unsigned long)cfg->linux_.namespaces[i].type;
    }
    /* The init unshares its cgroup namespace once it is in its cgroups, so the namespace
     * is rooted there (runtime-linux.md, config-linux.md "cgroup namespace"). */
    c->flags &= ~(unsigned long)CLONE_NEWCGROUP;
    const struct husk_namespace *pidns = husk_config_namespace(cfg, CLONE_NEWPID);
    c->a = (struct init_args){
        .cfg = cfg, .rootfs = c->rootfs, .bundle = c->bundle, .id = c->o.id,
        .console_fd = c->o.console_fd,
        .state_json = c->hook_state, .sync_fd = c->sv[1], .listen_fd = c->listen_fd,
        .preserve_fds = c->o.preserve_fds, .no_pivot = c->o.no_pivot, .no_new_keyring = c->o.no_new_keyring,
        .new_userns = (c->flags & CLONE_NEWUSER) != 0,
        /* not in a joined pid namespace, whose processes would see the init dumpable: a new
         * one holds nothing else yet, and the host's shows only what could open create's
         * own /proc/PID/exe as well. uid 0 (of any user namespace) owns the init's /proc/PID
         * even when it is not dumpable. */
        .maps_by_owner = (c->flags & CLONE_NEWUSER) && !(pidns && pidns->path) && geteuid() != 0,
        .relay = c->relay ? c->o.relay : NULL, .trees = c->trees, .n_trees = c->n_trees,
        .parent_fd = c->sv[0], .state_fd = c->dirfd,
    };
    /* `lo` from outside where husk may enter the new network namespace (none of a user
     * namespace of the container's) and come back to its own (not in a rootless engine's
     * user namespace, whose network namespace is the host's) */
    if ((c->flags & CLONE_NEWNET) && !husk_config_namespace(cfg, CLONE_NEWUSER) && !create_hooks_before_start(cfg))
        c->a.lo_by_parent = (c->own_netns = husk_net_ns_of(c->sv[0])) >= 0;
    const struct husk_cgroup *cg = c->cg;
    for (int i = 0; i < cg->n; i++)
        if (cg->dirs[i].v2)
            c->a.cgroup2_dir = cg->dirs[i].path;
}

int create_init_fds(struct create_ctx *c, struct husk_err *err)
{
    if (move_above_floor(c, husk_spawn_fd_floor(c->o.preserve_fds), err) < 0 || tree_slots(c, err) < 0)
        return -1;
    init_args(c);
    return 0;
}

static int write_time_offsets(const struct husk_config *c, struct husk_err *err)
{
    char buf[256] = "";
    for (size_t i = 0; i < c->linux_.n_time_offsets; i++) {
        const struct husk_time_offset *t = &c->linux_.time_offsets[i];
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof buf - l, "%s %lld %u\n", t->clock, (long long)t->secs, t->nanosecs);
    }
    if (!buf[0])
        return 0;
    /* the namespaces joined above may include another mount namespace: its /proc */
    husk_procfs_close();
    return husk_procfs_write(HUSK_PROC_SELF, "timens_offsets", buf, strlen(buf), err);
}

/* In the intermediate: the namespaces given by path, user first (pass 0), then the rest. */
static int join_by_path(const struct husk_config *c, struct husk_err *e)
{
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < sizeof ns_order / sizeof *ns_order; k++) {
            int type = ns_order[k];
            const struct husk_namespace *ns = husk_config_namespace(c, type);
            if (!ns || !ns->path || (pass == 0) != (type == CLONE_NEWUSER))
                continue;
            int fd = husk_open(ns->path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return husk_err_set(e, errno, "open %s namespace `%s`", husk_ns_name(type), ns->path);
            if (setns(fd, type) < 0)
                return husk_err_set(e, errno, "join %s namespace `%s`", husk_ns_name(type), ns->path);
            close(fd);
        }
    }
    return 0;
}

/* Joins the namespaces given by path, then forks the init with the new ones. Runs in
 * an intermediate child when any namespace is joined (setns of pid/time only affects
 * children, and joins must precede a new user namespace). */
static pid_t spawn_via_intermediate(struct init_args *a, unsigned long flags, struct husk_err *err)
{
    pid_t mid = fork();
    if (mid < 0)
        return husk_err_set(err, errno, "fork"), -1;
    if (mid > 0)
        return mid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* create's end and its locked directory stay with create alone: the init learns of
     * create's death by the EOF, and delete is not kept waiting for the lock by an orphan */
    close(a->parent_fd);
    close(a->state_fd);
    struct husk_err e = {0};
    if (join_by_path(a->cfg, &e) < 0)
        goto fail;
    if (flags & CLONE_NEWTIME) {
        if (unshare(CLONE_NEWTIME) < 0) {
            husk_err_set(&e, errno, "create time namespace");
            goto fail;
        }
        if (write_time_offsets(a->cfg, &e) < 0)
            goto fail;
        flags &= ~(unsigned long)CLONE_NEWTIME;
    }
    bool placed;
    pid_t pid = husk_spawn_clone3(flags, -1, &placed);
    if (pid < 0) {
        husk_err_set(&e, errno, "clone the container init");
        goto fail;
    }
    if (pid == 0)
        husk_init_main(a);
    sync_send(a->sync_fd, SYNC_PID, pid, NULL);
    _exit(0);
fail:
    sync_send(a->sync_fd, SYNC_ERROR, e.code, e.msg);
    _exit(1);
}

/* The intermediate reports the init's pid, or why there is none. */
static int spawn_intermediate(struct create_ctx *c, struct husk_err *err)
{
    if (c->o.keep_child)
        prctl(PR_SET_CHILD_SUBREAPER, 1);
    c->a.via_intermediate = true;
    pid_t mid = spawn_via_intermediate(&c->a, c->flags, err);
    if (mid < 0)
        return -1;
    struct sync_packet pk;
    int r = sync_recv(c->sv[0], &pk);
    int status;
    waitpid(mid, &status, 0);
    if (r != 1 || pk.type != SYNC_PID) {
        if (r == 1 && pk.type == SYNC_ERROR)
            return husk_err_set(err, 0, "%s", pk.msg);
        return husk_err_set(err, 0, "container init failed to start");
    }
    c->pid = pk.value;
    c->own_child = c->o.keep_child;
    return 0;
}

int create_spawn(struct create_ctx *c, struct husk_err *err)
{
    if (c->joins || (c->flags & CLONE_NEWTIME)) {
        if (spawn_intermediate(c, err) < 0)
            return -1;
    } else {
        struct husk_cgroup *cg = c->cg;
        /* with systemd on cgroup2, into the scope's directory made ahead of systemd */
        int cgfd = cg->unit[0] ? husk_cgroup_systemd_premake(cg) : husk_cgroup_v2_fd(cg);
        c->pid = husk_spawn_clone3(c->flags, cgfd, &c->in_v2);
        if (cgfd >= 0)
            close(cgfd);
        if (c->pid < 0)
            return husk_err_set(err, errno, "clone the container init (namespaces %#lx)", c->flags);
        if (c->pid == 0) {
            close(c->sv[0]);
            husk_init_main(&c->a);
        }
    }
    close(c->sv[1]);
    c->sv[1] = -1;
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    c->listen_fd = -1;
    if (c->console >= 0)
        close(c->console);
    c->console = -1;
    if (c->relay)
        husk_stdio_relay_close_child(c->o.relay);
    return 0;
}

int create_configure(struct create_ctx *c, struct husk_err *err)
{
    struct husk_cgroup *cg = c->cg;
    struct husk_config *cfg = c->cfg;
    /* systemd's transient scope (StartTransientUnit with PIDs=[init], as runc does) while the
     * init waits for GO: it runs nothing of the container's before it is in the scope. Then
     * the directories systemd does not make (v1 controllers it leaves alone) and the files. */
    if (cg->unit[0]) {
        c->cg_made = true;   /* from the call on, a failure stops the unit */
        /* cloned into the scope's directory: systemd takes it while the init builds, and
         * create_cgroup_finish waits for that */
        if (c->in_v2) {
            if (husk_cgroup_systemd_start_send(cg, cfg, c->o.id, c->pid, err) < 0)
                return -1;
        } else if (husk_cgroup_systemd_start(cg, cfg, c->o.id, c->pid, err) < 0 || husk_cgroup_make(cg, err) < 0 ||
                   husk_cgroup_apply(cg, cfg, err) < 0 ||
                   husk_cgroup_serialize(cg, c->st->cgroup, sizeof c->st->cgroup) < 0) {
            return -1;
        }
    }
    if (husk_cgroup_enter(cg, c->pid, c->in_v2, err) < 0)
        return -1;
    if (c->a.new_userns) {
        if (husk_write_idmap(c->pid, "uid_map", &cfg->linux_.uid_mappings, err) < 0 ||
            husk_write_idmap(c->pid, "gid_map", &cfg->linux_.gid_mappings, err) < 0)
            return -1;
    }
    if (!c->n_trees)
        return 0;
    if (husk_rootfs_trees(cfg, c->bundle, c->pid, c->trees, err) < 0)
        return -1;
    for (size_t i = 0; i < c->n_trees; i++) {
        /* a failed send means the init is gone: its error comes next */
        if (c->trees[i] >= 0)
            sync_send_fd(c->sv[0], SYNC_TREE, (int)i, c->trees[i]);
        if (c->trees[i] >= 0)
            close(c->trees[i]);
        c->trees[i] = -1;
    }
    return 0;
}

/* The overlapped systemd start's end, before the init's first request is read (hooks, READY)
 * and so before anything of the container's runs: the unit's job done, then the files,
 * after systemd's own writes of the unit's properties, which would overwrite them. */
int create_cgroup_finish(struct create_ctx *c, struct husk_err *err)
{
    struct husk_cgroup *cg = c->cg;
    if (!cg->unit[0] || !c->in_v2)
        return 0;
    if (husk_cgroup_systemd_start_wait(cg, err) < 0 || husk_cgroup_apply(cg, c->cfg, err) < 0)
        return -1;
    return 0;
}

/* What the init would otherwise do itself, done from outside while it builds (on the other
 * CPU): `lo` up. Before the start, as everything the program may rely on. An init already
 * gone (ESRCH: it failed early) has sent its error, which says why: it comes next. */
static int create_outside(struct create_ctx *c, struct husk_err *err)
{
    if (!c->a.lo_by_parent || husk_net_lo_up_of(c->pid, c->own_netns, err) == 0)
        return 0;
    if (err->code != ESRCH)
        return -1;
    husk_err_clear(err);
    return 0;
}

int create_go(struct create_ctx *c, struct husk_err *err)
{
    /* Hooks see the state after create (runtime.md "Lifecycle" steps 3-5), with the pid. */
    c->st->pid = c->pid;
    if (c->init_hooks) {
        free(c->hook_state);
        c->hook_state = husk_state_json(c->st, HUSK_CREATED, 0);
    }
    bool fits = c->hook_state && strlen(c->hook_state) < sizeof ((struct sync_packet *)0)->msg;
    if (sync_send(c->sv[0], SYNC_GO, 0, fits ? c->hook_state : NULL) < 0)
        return husk_err_set(err, errno, "signal the container init");
    /* The init execs its program through this (CVE-2019-5736): made while it builds, sent
     * first (ahead of HOOKS_DONE and the early start) so that it is there long before the
     * init looks for it. A failed send means the init is gone: its error comes next. */
    if (c->cfg->has_process) {
        int tramp = husk_trampoline_memfd(err);
        if (tramp < 0)
            return -1;
        sync_send_fd(c->sv[0], SYNC_TRAMPOLINE_FD, 0, tramp);
        close(tramp);
    }
    return create_outside(c, err);
}
