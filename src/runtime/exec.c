/* `exec`: a new process in a running container's namespaces and cgroups, set up as
 * `create` sets up the init (runc's exec; runtime.md has no exec operation). The steps run
 * in the order of husk_container_exec; what the process does for itself is process.c's,
 * the same as the init's, and nothing of the init's own (init.c) is reached from here. */
#include "exec_internal.h"
#include "husk/cgroup.h"
#include "husk/cleanup.h"
#include "husk/container.h"
#include "husk/fdpass.h"
#include "husk/exeseal.h"
#include "husk/fileio.h"
#include "husk/procfs.h"
#include "husk/security.h"
#include "husk/state.h"
#include "process_internal.h"
#include "seccomp_internal.h"
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Join order: user first (it owns the rest), mount last (it changes our root). */
static const int join_order[] = {CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID,
                                 CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS};
#define N_NS (sizeof join_order / sizeof *join_order)

/* One exec, from the state to the process's exit. exec_release closes and frees it all. */
struct exec_ctx {
    const struct husk_exec_opts *o;
    int dirfd;                  /* the container's state directory */
    struct husk_state st;
    enum husk_status status;
    struct husk_config *cfg;    /* the config saved by create */
    struct husk_arena ar;
    struct husk_process proc;
    int nsfd[N_NS];             /* the container's namespaces that differ from ours */
    bool userns;
    struct husk_cgroup cg;
    int cgfd;                   /* its cgroup2 directory, for CLONE_INTO_CGROUP */
    int console;                /* the connected --console-socket */
    struct husk_stdio_relay relay;
    int sv[2];                  /* the sync pair: [0] ours, [1] the intermediate's and process's */
    int tramp;                  /* the sealed exec trampoline, sent with GO */
    pid_t pid;
};

/* What the intermediate (and the process it forks into the container) needs. */
struct exec_mid {
    const struct husk_config *cfg;
    struct husk_process *proc;
    struct husk_arena *ar;
    const struct husk_stdio_relay *relay;
    const int *nsfd;
    int cgfd, sync, parent_sync, console, floor, preserve_fds;
    bool userns;
};

static __attribute__((noreturn)) void mid_fail(struct exec_mid *m, struct husk_err *e)
{
    sync_send(m->sync, SYNC_ERROR, e->code, e->msg);
    _exit(1);
}

/* The process in the container: the host's cgroup directory goes at once. GO brings the
 * sealed trampoline its program is exec'd through (CVE-2019-5736). Then the setup every
 * container process gets (process.c), never the init's. */
static __attribute__((noreturn)) void exec_child(struct exec_mid *m)
{
    struct husk_err e = {0};
    if (m->cgfd >= 0)
        close(m->cgfd);
    struct sync_packet pk;
    if (sync_recv(m->sync, &pk) != 1 || pk.type != SYNC_GO || pk.fd < 0)
        _exit(1);
    /* above stdio and the preserved fds, which the console and the program take */
    int tramp = pk.fd;
    if (tramp < m->floor && ((tramp = husk_dupfd_cloexec(pk.fd, m->floor)) < 0 || close(pk.fd) < 0))
        _exit(1);
    if (m->console >= 0 && husk_proc_console(m->console, m->proc, &e) < 0)
        goto fail;
    /* every process in a session of its own, as the init (runc and crun do the same) */
    if (m->console < 0 && setsid() < 0) {
        husk_err_set(&e, errno, "setsid");
        goto fail;
    }
    int held[] = {m->sync, tramp};
    if (husk_proc_prepare(m->proc, m->cfg, m->ar, m->userns, held, 2, m->preserve_fds, m->sync, &e) < 0)
        goto fail;
    husk_proc_exec(m->proc, m->cfg, NULL, m->sync, tramp, 127, &e);
fail:
    sync_send(m->sync, SYNC_ERROR, e.code, e.msg);
    _exit(127);
}

/* The intermediate's fds and place before it joins: the relay's pipes, not dumpable, only
 * what the setup needs. */
static void mid_enter(struct exec_mid *m)
{
    struct husk_err e = {0};
    close(m->parent_sync);
    if (husk_stdio_relay_use(m->relay) < 0) {
        husk_err_set(&e, errno, "stdio pipes");
        mid_fail(m, &e);
    }
    /* Until exec replaces us, /proc/PID/exe is the host's husk: keep the container's
     * processes from opening it (CVE-2019-5736). The flag belongs to the memory we share:
     * husk's own process is not dumpable either from here. */
    prctl(PR_SET_DUMPABLE, 0);
    /* The process cloned below is in the container's pid namespace, where a process with
     * CAP_SYS_PTRACE can open its /proc/PID/fd/N until it execs: of our fds only what the
     * setup needs goes on, nothing that leads to the host (the state directory, the log
     * file, ...). The namespace fds close as they are joined, the cgroup fd first thing
     * in the child. */
    int keep[N_NS + 3];
    size_t nkeep = 0;
    keep[nkeep++] = m->sync;
    if (m->console >= 0)
        keep[nkeep++] = m->console;
    if (m->cgfd >= 0)
        keep[nkeep++] = m->cgfd;
    for (size_t i = 0; i < N_NS; i++)
        if (m->nsfd[i] >= 0)
            keep[nkeep++] = m->nsfd[i];
    /* any /proc handle from before is the host's, not the container's we are joining (the
     * handle's number is in the memory we share: husk's own copy of the fd merely stays open) */
    husk_procfs_close();
    if (husk_proc_close_fds(keep, nkeep, m->preserve_fds, &e) < 0)
        mid_fail(m, &e);
    /* config.md execCPUAffinity.initial: where we run before entering the cgroup */
    if (m->proc->exec_cpu_initial && husk_set_affinity(m->proc->exec_cpu_initial, "execCPUAffinity.initial", &e) < 0)
        mid_fail(m, &e);
}

/* The intermediate: joins the container's namespaces and forks the process that runs in
 * them (a pid namespace applies to children only). It shares husk's memory (CLONE_VM |
 * CLONE_VFORK) but not its fds: no copy of husk's page tables for a process that lives
 * ~50 µs. Never returns. */
static int exec_mid(void *arg)
{
    struct exec_mid *m = arg;
    struct husk_err e = {0};
    mid_enter(m);
    for (size_t i = 0; i < N_NS; i++) {
        if (m->nsfd[i] >= 0 && setns(m->nsfd[i], join_order[i]) < 0) {
            husk_err_set(&e, errno, "join the container's %s namespace", husk_ns_name(join_order[i]));
            mid_fail(m, &e);
        }
        if (m->nsfd[i] >= 0)
            close(m->nsfd[i]);
    }
    bool placed = false;
    pid_t pid = husk_spawn_clone3(0, m->cgfd, &placed);
    if (pid < 0) {
        husk_err_set(&e, errno, "fork the exec process");
        mid_fail(m, &e);
    }
    if (pid == 0)
        exec_child(m);
    sync_send(m->sync, SYNC_PID, pid, placed ? "1" : "0");
    _exit(0);
}

/* The container's state (running or created) and config, the process to run. */
static int exec_load(struct exec_ctx *x, struct husk_err *err)
{
    const struct husk_exec_opts *o = x->o;
    if (husk_id_validate(o->id, err) < 0 || husk_fds_check_passed(o->preserve_fds, "--preserve-fds", err) < 0)
        return -1;
    if ((x->dirfd = husk_state_open_dir(o->root, o->id, err)) < 0)
        return -1;
    if (husk_state_load(x->dirfd, o->id, &x->st, err) < 0)
        return -1;
    x->status = husk_state_status(x->dirfd, &x->st);
    if (x->status != HUSK_RUNNING && x->status != HUSK_CREATED)
        return husk_err_set(err, 0, "cannot exec in container \"%s\": it is %s, not running", o->id,
                            husk_status_name(x->status));
    char cfgpath[64];
    snprintf(cfgpath, sizeof cfgpath, "/proc/self/fd/%d/%s", x->dirfd, HUSK_CONFIG_COPY);
    if (!(x->cfg = husk_config_load(cfgpath, err)) || husk_exec_build_process(o, x->cfg, &x->ar, &x->proc, err) < 0)
        return -1;
    if (x->proc.terminal && !o->console_socket)
        return husk_err_set(err, 0, "exec: a terminal needs --console-socket");
    return 0;
}

/* The container's namespaces that differ from ours, looked up from the two ns directories
 * rather than by full /proc paths (two lookups fewer each). */
static int exec_namespaces(struct exec_ctx *x, struct husk_err *err)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/ns", x->st.pid);
    AUTOCLOSE int theirs = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    AUTOCLOSE int ours = openat(AT_FDCWD, "/proc/self/ns", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (theirs < 0 || ours < 0)
        return husk_err_set(err, errno, "open `%s`", theirs < 0 ? dir : "/proc/self/ns");
    for (size_t i = 0; i < N_NS; i++) {
        const char *name = husk_ns_proc_name(join_order[i]);
        struct stat a, b;
        if (fstatat(theirs, name, &a, 0) < 0 || fstatat(ours, name, &b, 0) < 0 || a.st_ino == b.st_ino)
            continue;
        if ((x->nsfd[i] = openat(theirs, name, O_RDONLY | O_CLOEXEC)) < 0)
            return husk_err_set(err, errno, "open `%s/%s`", dir, name);
        x->userns |= join_order[i] == CLONE_NEWUSER;
    }
    return 0;
}

/* A container process with CAP_SYS_PTRACE in our user namespace opens /proc/PID/exe of
 * our child in the container despite PR_SET_DUMPABLE 0 (CVE-2019-5736): when the config,
 * this exec or an earlier one grants it, husk runs from a sealed copy of itself; not in a
 * container that is the host's root anyway (husk_caps_host_root). */
static int exec_seal(struct exec_ctx *x, struct husk_err *err)
{
    if (x->userns || husk_caps_host_root(&x->cfg->process))
        return 0;
    bool cfg_ptrace = husk_caps_allow_ptrace(&x->cfg->process), our_ptrace = husk_caps_allow_ptrace(&x->proc);
    if (our_ptrace && !cfg_ptrace) {
        /* create made no sealed copy for this config: a created init is the host's binary */
        if (x->status == HUSK_CREATED)
            return husk_err_set(err, 0, "exec: CAP_SYS_PTRACE, which config.json does not grant, would reach "
                                "husk's binary through the init of container \"%s\": start it first", x->o->id);
        int mark = openat(x->dirfd, HUSK_PTRACE_MARK, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (mark < 0)
            return husk_err_set(err, errno, "exec: mark the container as holding CAP_SYS_PTRACE");
        close(mark);
    }
    if ((cfg_ptrace || our_ptrace || faccessat(x->dirfd, HUSK_PTRACE_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0) &&
        husk_self_seal(err) < 0)
        return -1;
    return 0;
}

/* The container may have exited while we looked: a recycled pid must not be joined. Then
 * its cgroups (or --cgroup's below them). */
static int exec_cgroups(struct exec_ctx *x, struct husk_err *err)
{
    if (husk_proc_start_time(x->st.pid) != x->st.start_time)
        return husk_err_set(err, 0, "cannot exec in container \"%s\": it is stopped", x->o->id);
    husk_cgroup_parse(x->st.cgroup, &x->cg);
    if (x->o->n_cgroups && husk_exec_sub_cgroups(x->o, &x->cg, err) < 0)
        return -1;
    x->cgfd = husk_cgroup_v2_fd(&x->cg);
    return 0;
}

/* The console socket or the stdio pipes, and the sync pair (the child's end above the
 * preserved fds). */
static int exec_channels(struct exec_ctx *x, struct husk_err *err)
{
    if (x->proc.terminal && (x->console = husk_proc_connect_console(x->o->console_socket, err)) < 0)
        return -1;
    if (!x->o->detach && !x->proc.terminal && husk_stdio_relay_open(&x->relay, err) < 0)
        return -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, x->sv) < 0)
        return husk_err_set(err, errno, "socketpair");
    int child_sync = husk_dupfd_cloexec(x->sv[1], husk_spawn_fd_floor(x->o->preserve_fds));
    if (child_sync < 0)
        return husk_err_set(err, errno, "dup");
    close(x->sv[1]);
    x->sv[1] = child_sync;
    return 0;
}

/* The intermediate, then the process's pid from it; the process waits for GO. */
static int exec_spawn(struct exec_ctx *x, pid_t *mid, struct husk_err *err)
{
    if (!x->o->detach)
        prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* the intermediate's own stack; the process it forks gets a copy of it */
    static char mid_stack[128 * 1024] __attribute__((aligned(16)));
    struct exec_mid m = {
        .cfg = x->cfg, .proc = &x->proc, .ar = &x->ar, .relay = &x->relay, .nsfd = x->nsfd, .cgfd = x->cgfd,
        .sync = x->sv[1], .parent_sync = x->sv[0], .console = x->console,
        .floor = husk_spawn_fd_floor(x->o->preserve_fds), .preserve_fds = x->o->preserve_fds, .userns = x->userns,
    };
    *mid = clone(exec_mid, mid_stack + sizeof mid_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &m);
    if (*mid < 0)
        return husk_err_set(err, errno, "fork");
    close(x->sv[1]);
    x->sv[1] = -1;
    husk_stdio_relay_close_child(&x->relay);
    if (x->console >= 0) {
        close(x->console);
        x->console = -1;
    }
    return 0;
}

/* The process into its cgroups, then GO with the trampoline (made while the process runs
 * to its recv). */
static int exec_go(struct exec_ctx *x, pid_t mid, struct husk_err *err)
{
    x->tramp = husk_trampoline_memfd(err);
    struct sync_packet pk;
    int r = sync_recv(x->sv[0], &pk);
    if (r != 1 || pk.type != SYNC_PID || x->tramp < 0) {
        if (r == 1 && pk.type == SYNC_PID)
            kill(pk.value, SIGKILL);
        else if (x->tramp >= 0)
            husk_err_set(err, 0, "%s", r == 1 && pk.type == SYNC_ERROR ? pk.msg : "exec: setup failed");
        waitpid(mid, NULL, 0);
        return -1;
    }
    x->pid = pk.value;
    if (husk_cgroup_enter(&x->cg, x->pid, pk.msg[0] == '1', err) < 0 || sync_send_fd(x->sv[0], SYNC_GO, 0, x->tramp) < 0) {
        kill(x->pid, SIGKILL);
        waitpid(mid, NULL, 0);
        if (!x->o->detach)
            waitpid(x->pid, NULL, 0);
        return -1;
    }
    /* the intermediate exits once it has sent the pid: reaped off the way to GO */
    waitpid(mid, NULL, 0);
    return 0;
}

/* Seccomp notify fds for the listener until the socket closes on exec (EOF), or the
 * process's error. */
static int exec_wait_exec(struct exec_ctx *x, struct husk_err *err)
{
    struct sync_packet pk;
    int r;
    while ((r = sync_recv(x->sv[0], &pk)) == 1 && pk.type == SYNC_SECCOMP) {
        char *doc = husk_state_json(&x->st, x->status, 0);
        int fr = husk_seccomp_forward(x->cfg, pk.fd, x->pid, doc ? doc : "{}", err);
        free(doc);
        if (fr < 0) {
            kill(x->pid, SIGKILL);
            if (!x->o->detach)
                waitpid(x->pid, NULL, 0);
            return -1;
        }
    }
    if (r == 1 && pk.type == SYNC_ERROR) {
        husk_err_set(err, 0, "%s", pk.msg);
        err->code = pk.value;
        if (!x->o->detach)
            waitpid(x->pid, NULL, 0);
        return -1;
    }
    return 0;
}

/* Field by field: the state's and cgroups' ~90 KiB of buffers stay untouched (each page
 * written is a page fault) until they are filled. */
static void exec_init(struct exec_ctx *x, const struct husk_exec_opts *o)
{
    x->o = o;
    x->dirfd = x->cgfd = x->console = x->tramp = x->sv[0] = x->sv[1] = -1;
    x->cfg = NULL;
    x->ar = (struct husk_arena){0};
    x->userns = false;
    x->pid = -1;
    for (size_t i = 0; i < N_NS; i++)
        x->nsfd[i] = -1;
    for (int i = 0; i < 3; i++)
        x->relay.child[i] = x->relay.ours[i] = -1;
    husk_state_reset(&x->st);
}

static void exec_release(struct exec_ctx *x)
{
    for (size_t i = 0; i < N_NS; i++)
        if (x->nsfd[i] >= 0)
            close(x->nsfd[i]);
    for (int i = 0; i < 2; i++)
        if (x->sv[i] >= 0)
            close(x->sv[i]);
    if (x->console >= 0)
        close(x->console);
    if (x->cgfd >= 0)
        close(x->cgfd);
    husk_stdio_relay_close(&x->relay);
    if (x->tramp >= 0)
        close(x->tramp);
    husk_config_free(x->cfg);
    husk_arena_free(&x->ar);
    husk_state_free(&x->st);
    if (x->dirfd >= 0)
        close(x->dirfd);
}

int husk_container_exec(const struct husk_exec_opts *o, struct husk_err *err)
{
    struct exec_ctx x;
    exec_init(&x, o);
    pid_t mid;
    int rc = -1;
    if (exec_load(&x, err) == 0 && husk_seccomp_prepare(x.cfg, o->root, err) == 0 &&
        exec_namespaces(&x, err) == 0 && exec_seal(&x, err) == 0 && exec_cgroups(&x, err) == 0 &&
        exec_channels(&x, err) == 0 && exec_spawn(&x, &mid, err) == 0 && exec_go(&x, mid, err) == 0 &&
        exec_wait_exec(&x, err) == 0 && (!o->pid_file || husk_write_pid_file(o->pid_file, x.pid, err) == 0))
        rc = o->detach ? 0 : husk_wait_forwarding(x.pid, -1, &x.relay, NULL);
    exec_release(&x);
    return rc;
}
