/* `create`: load the bundle, spawn the init into its namespaces, wait until it is
 * created, record the state (runtime.md "create"). */
#include "husk/cgroup.h"
#include "husk/container.h"
#include "husk/fdpass.h"
#include "husk/exeseal.h"
#include "husk/fileio.h"
#include "husk/hooks.h"
#include "husk/log.h"
#include "husk/procfs.h"
#include "husk/rootfs.h"
#include "husk/security.h"
#include "husk/state.h"
#include "init_internal.h"
#include "process_internal.h"
#include "seccomp_internal.h"
#include "start_internal.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
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

/* With cgroup_fd >= 0 the child is born in that cgroup2 directory: no migration later,
 * which on a busy kernel costs a full RCU grace period. */
static pid_t do_clone3(unsigned long flags, int cgroup_fd, bool *placed)
{
    struct clone_args ca = {.flags = flags, .exit_signal = SIGCHLD};
    if (cgroup_fd >= 0) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (unsigned long long)cgroup_fd;
        pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
        if (pid >= 0) {
            *placed = true;
            return pid;
        }
        ca.flags &= ~(unsigned long long)CLONE_INTO_CGROUP;
        ca.cgroup = 0;
    }
    *placed = false;
    return (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
}

/* Joins the namespaces given by path, then forks the init with the new ones. Runs in
 * an intermediate child when any namespace is joined (setns of pid/time only affects
 * children, and joins must precede a new user namespace). */
static pid_t spawn_via_intermediate(struct init_args *a, unsigned long flags, struct husk_err *err)
{
    const struct husk_config *c = a->cfg;
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
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < sizeof ns_order / sizeof *ns_order; k++) {
            int type = ns_order[k];
            const struct husk_namespace *ns = husk_config_namespace(c, type);
            if (!ns || !ns->path)
                continue;
            /* pass 0: the user namespace; pass 1: the rest */
            if ((pass == 0) != (type == CLONE_NEWUSER))
                continue;
            int fd = husk_open(ns->path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                husk_err_set(&e, errno, "open %s namespace `%s`", husk_ns_name(type), ns->path);
                goto fail;
            }
            if (setns(fd, type) < 0) {
                husk_err_set(&e, errno, "join %s namespace `%s`", husk_ns_name(type), ns->path);
                goto fail;
            }
            close(fd);
        }
    }
    if (flags & CLONE_NEWTIME) {
        if (unshare(CLONE_NEWTIME) < 0) {
            husk_err_set(&e, errno, "create time namespace");
            goto fail;
        }
        if (write_time_offsets(c, &e) < 0)
            goto fail;
        flags &= ~(unsigned long)CLONE_NEWTIME;
    }
    bool placed;
    pid_t pid = do_clone3(flags, -1, &placed);
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

static void close_trees(int *fds, size_t n)
{
    for (size_t i = 0; fds && i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
}

static char *state_doc(const struct husk_state *st, enum husk_status s)
{
    return husk_state_json(st, s, 0);
}

pid_t husk_container_create(const struct husk_create_opts *o, struct husk_err *err)
{
    char bundle[PATH_MAX], cfgpath[PATH_MAX + 16], rootfs[PATH_MAX], tmp[PATH_MAX * 2];
    if (husk_id_validate(o->id, err) < 0 || husk_fds_check_passed(o->preserve_fds, "--preserve-fds", err) < 0)
        return -1;
    if (!husk_realpath(o->bundle ? o->bundle : ".", bundle))
        return husk_err_set(err, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
    snprintf(cfgpath, sizeof cfgpath, "%s/config.json", bundle);
    struct husk_config *cfg = husk_config_load(cfgpath, err);
    if (!cfg)
        return -1;
    pid_t pid = -1;
    int dirfd = -1, listen_fd = -1, console = -1, sv[2] = {-1, -1};
    char *hook_state = NULL;
    bool own_child = true, in_v2 = false, cg_made = false;
    /* ~95 KiB of fixed-size buffers, on the heap: on the stack they pushed every call below
     * create onto pages of their own, each a page fault (only what is written is touched) */
    struct create_mem {
        struct husk_state st;
        struct husk_cgroup cg;
    } *mem = malloc(sizeof *mem);
    if (!mem) {
        husk_config_free(cfg);
        return husk_err_set(err, ENOMEM, "create");
    }
    struct husk_state *st = &mem->st;
    struct husk_cgroup *cg = &mem->cg;
    husk_state_reset(st);
    cg->n = cg->skipped = 0;   /* dirs[] are filled as they are made */
    cg->disabled = false;
    cg->unit[0] = '\0';
    int *trees = NULL;
    size_t n_trees = 0;
    if (husk_config_validate(cfg, err) < 0 || husk_caps_check(&cfg->process.caps, err) < 0 ||
        husk_unsupported_check(cfg, err) < 0)
        goto fail_early;
    /* A container process with CAP_SYS_PTRACE in our user namespace opens /proc/1/exe of
     * the init waiting for `start` despite PR_SET_DUMPABLE 0, and keeps it: for such a
     * config the init must not be a fork of the host's binary (CVE-2019-5736). Not when the
     * container is the host's root anyway (husk_caps_host_root): a copy would protect
     * nothing there and costs ~0.8 ms. */
    if (!husk_config_namespace(cfg, CLONE_NEWUSER) && husk_caps_allow_ptrace(&cfg->process) &&
        !husk_caps_host_root(&cfg->process) && husk_self_seal(err) < 0)
        goto fail_early;
    /* runtime.md "create": a property that cannot be applied is an error. Mounts without a
     * mount namespace would land on the host's (runc 1.1.5 makes them there and leaves them). */
    if (!husk_config_namespace(cfg, CLONE_NEWNS) && cfg->n_mounts) {
        husk_err_set(err, 0, "config.json: %zu mounts need a mount namespace (linux.namespaces has no \"mount\")",
                     cfg->n_mounts);
        goto fail_early;
    }
    if (cfg->root_path[0] == '/')
        snprintf(tmp, sizeof tmp, "%s", cfg->root_path);
    else
        snprintf(tmp, sizeof tmp, "%s/%s", bundle, cfg->root_path);
    if (!husk_realpath(tmp, rootfs)) {
        husk_err_set(err, errno, "rootfs `%s`", tmp);
        goto fail_early;
    }
    if ((dirfd = husk_state_create_dir(o->root, o->id, err)) < 0)
        goto fail_early;
    if (husk_state_lock(dirfd, err) < 0)
        goto fail;
    /* `run` starts the init over the sync socket: no socket file to bind and connect */
    if (!o->start && (listen_fd = listen_start_sock(dirfd, err)) < 0)
        goto fail;
    /* The intent record before the first cgroup exists: a create killed from here on leaves a
     * directory whose creating mark names every cgroup it may have made, which delete --force
     * empties and removes. The state written after the clone replaces it. */
    if (o->no_cgroups)
        cg->disabled = true;
    else if ((o->systemd_cgroup ? husk_cgroup_plan_systemd : husk_cgroup_plan)(cfg, o->id, cg, err) < 0)
        goto fail;
    if (husk_cgroup_serialize(cg, st->cgroup, sizeof st->cgroup) < 0) {
        husk_err_set(err, 0, "too many cgroups to record");
        goto fail;
    }
    if (husk_state_mark_creating(dirfd, st->cgroup, err) < 0)
        goto fail;
    /* with systemd, the scope is made with the init in it, after the clone (below) */
    if (!cg->unit[0]) {
        if (husk_cgroup_make(cg, err) < 0)
            goto fail;
        cg_made = true;
        if (husk_cgroup_apply(cg, cfg, err) < 0 || husk_cgroup_serialize(cg, st->cgroup, sizeof st->cgroup) < 0)
            goto fail;
    }
    if (husk_seccomp_prepare(cfg, o->root, err) < 0)
        goto fail;
    /* a terminal replaces the init's stdio anyway */
    bool relay = o->relay && !cfg->process.terminal;
    if (relay && husk_stdio_relay_open(o->relay, err) < 0)
        goto fail;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        husk_err_set(err, errno, "socketpair");
        goto fail;
    }

    snprintf(st->id, sizeof st->id, "%s", o->id);
    snprintf(st->bundle, sizeof st->bundle, "%s", bundle);
    snprintf(st->rootfs, sizeof st->rootfs, "%s", rootfs);
    st->annotations = cfg->annotations;
    const struct husk_namespace *pidns = husk_config_namespace(cfg, CLONE_NEWPID);
    st->flags = (cfg->hooks[HUSK_HOOK_POSTSTART].n ? HUSK_STATE_POSTSTART : 0) |
               (cfg->hooks[HUSK_HOOK_POSTSTOP].n ? HUSK_STATE_POSTSTOP : 0) |
               (cfg->linux_.seccomp.listener_path ? HUSK_STATE_NOTIFY : 0) |
               (pidns && !pidns->path ? HUSK_STATE_OWN_PIDNS : 0) |
               (!cfg->has_process ? HUSK_STATE_NO_PROCESS : 0);
    st->n_annotations = cfg->n_annotations;
    /* Only the init's own hooks need the state before the clone (a document too big for the
     * go message); everything else about the state is done while the init builds. */
    bool init_hooks = cfg->hooks[HUSK_HOOK_CREATE_CONTAINER].n || cfg->hooks[HUSK_HOOK_START_CONTAINER].n;
    if (init_hooks) {
        owner_name(geteuid(), st->owner, sizeof st->owner);
        hook_state = state_doc(st, HUSK_CREATED);
    }

    /* Socket activation (sd_listen_fds): fds 3.. named by LISTEN_FDS are handed on like
     * --preserve-fds, and the container's process sees itself as their owner (pid 1). As
     * sd_listen_fds(3) (and runc) do, only when LISTEN_PID is ours: variables left over from
     * another process name fds we never got, where our own would be by now. */
    struct husk_create_opts oc = *o;
    const char *lfds = getenv("LISTEN_FDS"), *lpid = getenv("LISTEN_PID");
    char *end = NULL;
    long for_pid = lpid ? strtol(lpid, &end, 10) : 0;
    int listen_n = lfds && end && end != lpid && !*end && for_pid == getpid() ? atoi(lfds) : 0;
    if (listen_n > 0 && husk_fds_check_passed(listen_n, "LISTEN_FDS", err) < 0)
        goto fail;
    if (listen_n > 0 && cfg->has_process) {
        if (listen_n > oc.preserve_fds)
            oc.preserve_fds = listen_n;
        char **nv = husk_arena_alloc(&cfg->arena, (cfg->process.env.n + 3) * sizeof(char *));
        if (!nv) {
            husk_err_set(err, ENOMEM, "create");
            goto fail;
        }
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
    }
    o = &oc;
    /* Keep fds the init needs above the preserved range (runtime.md: fds 3..3+N-1). */
    int floor = 3 + (o->preserve_fds > 0 ? o->preserve_fds : 0);
    int child_sync = husk_dupfd_cloexec(sv[1], floor);
    int child_listen = listen_fd >= 0 ? husk_dupfd_cloexec(listen_fd, floor) : -1;
    close(sv[1]);
    sv[1] = child_sync;
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = child_listen;
    if (child_sync < 0 || (!o->start && child_listen < 0)) {
        husk_err_set(err, errno, "dup sync fds");
        goto fail;
    }
    /* The console socket is reached as husk, before the clone: an init in a new user
     * namespace is the container's root by the time it has a terminal to send, and a socket
     * in a directory only the host's root may enter (podman's) refuses it (runc connects on
     * its side too). */
    if (cfg->process.terminal && o->console_socket && oc.console_fd < 0) {
        int c = husk_proc_connect_console(o->console_socket, err);
        if (c < 0)
            goto fail;
        console = husk_dupfd_cloexec(c, floor);
        close(c);
        if (console < 0) {
            husk_err_set(err, errno, "dup the console socket");
            goto fail;
        }
        oc.console_fd = console;
    }

    /* Mount sources and device nodes the init cannot reach or make in its user namespace,
     * and idmapped mounts: made as the host's root once the init's mount namespace exists,
     * then sent to it (husk_rootfs_trees). The init fills its copy of these slots. */
    if ((n_trees = husk_rootfs_tree_slots(cfg)) > 0) {
        if (!(trees = malloc(n_trees * sizeof *trees))) {
            husk_err_set(err, ENOMEM, "create");
            goto fail;
        }
        for (size_t i = 0; i < n_trees; i++)
            trees[i] = -1;
    }

    unsigned long flags = 0;
    bool joins = false;
    for (size_t i = 0; i < cfg->linux_.n_namespaces; i++) {
        if (cfg->linux_.namespaces[i].path)
            joins = true;
        else
            flags |= (unsigned long)cfg->linux_.namespaces[i].type;
    }
    /* The init unshares its cgroup namespace once it is in its cgroups, so the namespace
     * is rooted there (runtime-linux.md, config-linux.md "cgroup namespace"). */
    flags &= ~(unsigned long)CLONE_NEWCGROUP;
    struct init_args a = {
        .cfg = cfg, .rootfs = rootfs, .bundle = bundle, .id = o->id,
        .console_fd = o->console_fd,
        .state_json = hook_state, .sync_fd = sv[1], .listen_fd = listen_fd,
        .preserve_fds = o->preserve_fds, .no_pivot = o->no_pivot, .no_new_keyring = o->no_new_keyring,
        .new_userns = (flags & CLONE_NEWUSER) != 0,
        /* not in a joined pid namespace, whose processes would see the init dumpable: a new
         * one holds nothing else yet, and the host's shows only what could open create's
         * own /proc/PID/exe as well. uid 0 (of any user namespace) owns the init's /proc/PID
         * even when it is not dumpable. */
        .maps_by_owner = (flags & CLONE_NEWUSER) && !(pidns && pidns->path) && geteuid() != 0,
        .relay = relay ? o->relay : NULL, .trees = trees, .n_trees = n_trees,
        .parent_fd = sv[0], .state_fd = dirfd,
    };
    for (int i = 0; i < cg->n; i++)
        if (cg->dirs[i].v2)
            a.cgroup2_dir = cg->dirs[i].path;
    if (joins || (flags & CLONE_NEWTIME)) {
        if (o->keep_child)
            prctl(PR_SET_CHILD_SUBREAPER, 1);
        a.via_intermediate = true;
        pid_t mid = spawn_via_intermediate(&a, flags, err);
        if (mid < 0)
            goto fail;
        struct sync_packet pk;
        int r = sync_recv(sv[0], &pk);
        int status;
        waitpid(mid, &status, 0);
        if (r != 1 || pk.type != SYNC_PID) {
            if (r == 1 && pk.type == SYNC_ERROR)
                husk_err_set(err, 0, "%s", pk.msg);
            else
                husk_err_set(err, 0, "container init failed to start");
            goto fail;
        }
        pid = pk.value;
        own_child = o->keep_child;
    } else {
        int cgfd = cg->unit[0] ? -1 : husk_cgroup_v2_fd(cg);
        pid = do_clone3(flags, cgfd, &in_v2);
        if (cgfd >= 0)
            close(cgfd);
        if (pid < 0) {
            husk_err_set(err, errno, "clone the container init (namespaces %#lx)", flags);
            goto fail;
        }
        if (pid == 0) {
            close(sv[0]);
            husk_init_main(&a);
        }
    }
    close(sv[1]);
    sv[1] = -1;
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = -1;
    if (console >= 0)
        close(console);
    console = -1;
    if (relay)
        husk_stdio_relay_close_child(o->relay);

    /* systemd's transient scope (StartTransientUnit with PIDs=[init], as runc does) while the
     * init waits for GO: it runs nothing of the container's before it is in the scope. Then
     * the directories systemd does not make (v1 controllers it leaves alone) and the files. */
    if (cg->unit[0]) {
        cg_made = true;   /* from the call on, a failure stops the unit */
        if (husk_cgroup_systemd_start(cg, cfg, o->id, pid, err) < 0 || husk_cgroup_make(cg, err) < 0 ||
            husk_cgroup_apply(cg, cfg, err) < 0 || husk_cgroup_serialize(cg, st->cgroup, sizeof st->cgroup) < 0)
            goto fail;
    }
    if (husk_cgroup_enter(cg, pid, in_v2, err) < 0)
        goto fail;
    if (a.new_userns) {
        if (husk_write_idmap(pid, "uid_map", &cfg->linux_.uid_mappings, err) < 0 ||
            husk_write_idmap(pid, "gid_map", &cfg->linux_.gid_mappings, err) < 0)
            goto fail;
    }
    if (n_trees) {
        if (husk_rootfs_trees(cfg, bundle, pid, trees, err) < 0)
            goto fail;
        for (size_t i = 0; i < n_trees; i++) {
            /* a failed send means the init is gone: its error comes next */
            if (trees[i] >= 0)
                sync_send_fd(sv[0], SYNC_TREE, (int)i, trees[i]);
            if (trees[i] >= 0)
                close(trees[i]);
            trees[i] = -1;
        }
    }
    /* Hooks see the state after create (runtime.md "Lifecycle" steps 3-5), with the pid. */
    st->pid = pid;
    if (init_hooks) {
        free(hook_state);
        hook_state = state_doc(st, HUSK_CREATED);
    }
    bool fits = hook_state && strlen(hook_state) < sizeof ((struct sync_packet *)0)->msg;
    if (sync_send(sv[0], SYNC_GO, 0, fits ? hook_state : NULL) < 0) {
        husk_err_set(err, errno, "signal the container init");
        goto fail;
    }
    /* The init execs its program through this (CVE-2019-5736): made while it builds, sent
     * first (ahead of HOOKS_DONE and the early start) so that it is there long before the
     * init looks for it. A failed send means the init is gone: its error comes next. */
    if (cfg->has_process) {
        int tramp = husk_trampoline_memfd(err);
        if (tramp < 0)
            goto fail;
        sync_send_fd(sv[0], SYNC_TRAMPOLINE_FD, 0, tramp);
        close(tramp);
    }
    /* While the init builds its rootfs on the other CPU: the saved config and the state,
     * marked "creating" for readers that take no lock (`list`). Our lock on the directory
     * keeps other husk commands out until create is done; a failure below removes both. */
    if (!init_hooks) {
        owner_name(geteuid(), st->owner, sizeof st->owner);
        hook_state = state_doc(st, HUSK_CREATED);
    }
    if (copy_config(cfgpath, dirfd, err) < 0)
        goto fail;
    st->start_time = husk_proc_start_time(pid);
    if (husk_state_save(dirfd, st, err) < 0)
        goto fail;
    /* `run` with nothing to do between READY and start: the go is queued now, while the init is
     * still building, so it execs at READY without waiting for us to wake and answer. The init
     * reads the socket only for HOOKS_DONE before its start, hence not with those hooks; and a
     * --pid-file must exist before the process runs. */
    bool early = o->start && !o->pid_file && !cfg->hooks[HUSK_HOOK_PRESTART].n &&
                 !cfg->hooks[HUSK_HOOK_CREATE_RUNTIME].n;
    /* a refusal means the init is gone already: its error comes next; failing that, the
     * start below sends the go again and reports why it could not */
    if (early && send(sv[0], "S", 1, MSG_NOSIGNAL) != 1)
        early = false;
    for (;;) {
        struct sync_packet pk;
        int r = sync_recv(sv[0], &pk);
        if (r != 1) {
            husk_err_set(err, 0, "container init exited during setup");
            goto fail;
        }
        if (pk.type == SYNC_ERROR) {
            husk_err_set(err, 0, "%s", pk.msg);
            err->code = pk.value;
            goto fail;
        }
        if (pk.type == SYNC_HOOKS) {
            if (husk_hooks_run(&cfg->hooks[HUSK_HOOK_PRESTART], "prestart", hook_state, err) < 0 ||
                husk_hooks_run(&cfg->hooks[HUSK_HOOK_CREATE_RUNTIME], "createRuntime", hook_state, err) < 0)
                goto fail;
            sync_send(sv[0], SYNC_HOOKS_DONE, 0, NULL);
            continue;
        }
        if (pk.type == SYNC_SECCOMP) {
            if (husk_seccomp_forward(cfg, pk.fd, pid, hook_state ? hook_state : "{}", err) < 0)
                goto fail;
            continue;
        }
        if (pk.type == SYNC_READY)
            break;
    }
    /* The state is durable: the init may outlive us now. Until this byte it exits when our
     * end of the socket closes (init.c); `run`'s start is its own commit. */
    if (!o->start && send(sv[0], "C", 1, MSG_NOSIGNAL) != 1) {
        husk_err_set(err, errno, "commit the container");
        goto fail;
    }
    unlinkat(dirfd, HUSK_CREATING_MARK, 0);
    if (o->pid_file && husk_write_pid_file(o->pid_file, pid, err) < 0)
        goto fail;
    if (o->start && husk_start_over(sv[0], dirfd, st, early, err) < 0)
        goto fail;
    close(sv[0]);
    close(dirfd);
    free(hook_state);
    close_trees(trees, n_trees);
    husk_config_free(cfg);
    free(mem);
    return pid;

fail:
    if (pid > 0) {
        kill(pid, SIGKILL);
        if (own_child)
            waitpid(pid, NULL, 0);
    }
    if (o->relay)
        husk_stdio_relay_close(o->relay);
    for (int i = 0; i < 2; i++)
        if (sv[i] >= 0)
            close(sv[i]);
    if (listen_fd >= 0)
        close(listen_fd);
    if (console >= 0)
        close(console);
    /* a plan alone is not ours to remove, and make removes what it made when it fails */
    if (cg_made && cg->n) {
        struct husk_err e2;
        husk_cgroup_destroy(cg, 2000, &e2);
    }
    if (dirfd >= 0) {
        struct husk_err e2;
        close(dirfd);
        husk_state_remove(o->root, o->id, &e2);
    }
fail_early:
    close_trees(trees, n_trees);
    free(hook_state);
    husk_config_free(cfg);
    free(mem);
    return -1;
}
