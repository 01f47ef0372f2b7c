/* The container's init: runs in the new namespaces, builds the container, waits for
 * `start`, then execs the user's program (runtime.md "Lifecycle" steps 3–7). The steps run
 * in the order of husk_init_main. What only the init does is here (its cgroup namespace,
 * hostname, rootfs and pivot_root, /dev/console, its hooks, the wait for start); what every
 * container process gets, exec's too, is process.c's. */
#include "init_internal.h"
#include "process_internal.h"
#include "sync.h"
#include "husk/cleanup.h"
#include "husk/fdpass.h"
#include "husk/fileio.h"
#include "husk/hooks.h"
#include "husk/log.h"
#include "husk/netlo.h"
#include "husk/procfs.h"
#include "husk/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What the init's steps share. On a failure a step reports over the sync socket and exits
 * (fail): nothing of the init outlives it. */
struct init_ctx {
    struct init_args *a;
    const struct husk_config *c;
    struct husk_process proc;   /* the config's, with what applies to the init only */
    struct husk_arena ar;
    /* The program is exec'd through the sealed trampoline (CVE-2019-5736), which `create`
     * makes while we build and sends after GO: it may come before HOOKS_DONE. */
    int tramp;
    int console;                /* the connected console socket when process.terminal */
    bool own_mnt;               /* a mount namespace: rootfs and pivot_root, else a chroot */
};

static __attribute__((noreturn)) void fail(struct init_args *a, struct husk_err *err)
{
    sync_send(a->sync_fd, SYNC_ERROR, err->code, err->msg);
    _exit(1);
}

static bool has_new(const struct husk_config *c, int type)
{
    const struct husk_namespace *ns = husk_config_namespace(c, type);
    return ns && !ns->path;
}

/* fd moved above stdio and the preserved fds, which the console and the program take */
static int above_preserved(const struct init_args *a, int fd)
{
    int floor = 3 + (a->preserve_fds > 0 ? a->preserve_fds : 0);
    if (fd < 0 || fd >= floor)
        return fd;
    int moved = husk_dupfd_cloexec(fd, floor);
    if (moved < 0)
        _exit(1);
    close(fd);
    return moved;
}

/* `start`'s one-byte go ("S") on fd */
static bool got_start(int fd)
{
    char cmd = 0;
    ssize_t n;
    do
        n = recv(fd, &cmd, 1, 0);
    while (n < 0 && errno == EINTR);
    return n == 1 && cmd == 'S';
}

/* Of what create handed down, only what the setup uses. */
static void init_enter(struct init_args *a)
{
    struct husk_err err = {0};
    /* A copy of create's /proc handle (the host's) is not ours to use: closed while its
     * number is still its own, before the fds are sorted out below. */
    husk_procfs_close();
    /* First: the caller's file is not ours to hold once there are pipes for it. */
    if (a->relay && husk_stdio_relay_use(a->relay) < 0) {
        husk_err_set(&err, errno, "stdio pipes");
        fail(a, &err);
    }
    /* In a joined pid namespace others see us from the start, and with CAP_SYS_PTRACE open
     * our /proc/PID/fd/N: of create's fds keep only what the setup uses (not its state
     * directory). The log file stays for the hooks' warnings until the final close. */
    int held[] = {a->sync_fd, a->listen_fd, a->console_fd, husk_log_fd()};
    if (husk_proc_close_fds(held, 4, a->preserve_fds, &err) < 0)
        fail(a, &err);
    /* If `create` dies during setup, so do we (the sync socket's EOF covers the
     * intermediate case). */
    if (!a->via_intermediate)
        prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* The host's husk binary stays out of reach until exec replaces it. Rootless, after
     * the go: a process that is not dumpable has its /proc/PID files owned by root, and the
     * user writing our uid_map (create, newuidmap) could not open them. Nothing of the
     * container runs yet before the go. */
    if (!a->maps_by_owner)
        prctl(PR_SET_DUMPABLE, 0);
}

/* The mounts create made for us, if any, then the go: our cgroups and id maps are set. */
static void init_wait_go(struct init_ctx *x)
{
    struct init_args *a = x->a;
    struct husk_err err = {0};
    struct sync_packet pk;
    int r;
    while ((r = sync_recv(a->sync_fd, &pk)) == 1 && pk.type == SYNC_TREE && pk.value >= 0 &&
           (size_t)pk.value < a->n_trees && pk.fd >= 0)
        a->trees[pk.value] = pk.fd;
    if (r != 1 || pk.type != SYNC_GO)
        _exit(1);
    if (a->maps_by_owner) {
        /* our own oom_score_adj too, while /proc/self is still ours to open */
        if (x->proc.oom_score_adj.set && husk_proc_oom_score(&x->proc, &err) < 0)
            fail(a, &err);
        x->proc.oom_score_adj.set = false;
        prctl(PR_SET_DUMPABLE, 0);
    }
    /* The parent's state document carries our host pid; keep it for the hooks we run. */
    static char go_state[sizeof pk.msg];
    if (pk.msg[0]) {
        memcpy(go_state, pk.msg, sizeof go_state);
        a->state_json = go_state;
    }
}

/* The namespaces' own settings: cgroup namespace rooted in our cgroups, root in a new user
 * namespace, a session keyring, lo up, hostname and domainname. */
static void init_namespaces(struct init_ctx *x)
{
    struct init_args *a = x->a;
    const struct husk_config *c = x->c;
    struct husk_err err = {0};
    if (has_new(c, CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
        husk_err_set(&err, errno, "create cgroup namespace");
        fail(a, &err);
    }
    if (a->new_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
        husk_err_set(&err, errno, "become root in the user namespace");
        fail(a, &err);
    }
    if (!a->no_new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
        husk_err_clear(&err);   /* keyrings may be unavailable (seccomp'd hosts): not fatal */
    if (has_new(c, CLONE_NEWNET) && !a->lo_by_parent && husk_net_lo_up(&err) < 0)
        fail(a, &err);
    if (!has_new(c, CLONE_NEWUTS))
        return;
    if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) {
        husk_err_set(&err, errno, "set hostname \"%s\"", c->hostname);
        fail(a, &err);
    }
    if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0) {
        husk_err_set(&err, errno, "set domainname \"%s\"", c->domainname);
        fail(a, &err);
    }
}

/* The rootfs's mounts, then prestart/createRuntime in the husk process (the trampoline may
 * come ahead of HOOKS_DONE) and createContainer here (runtime.md "Lifecycle" steps 5-6). */
static void init_mounts_and_hooks(struct init_ctx *x)
{
    struct init_args *a = x->a;
    const struct husk_config *c = x->c;
    struct husk_err err = {0};
    struct husk_rootfs_opts ro = {
        .rootfs = a->rootfs, .bundle = a->bundle, .userns = husk_config_namespace(c, CLONE_NEWUSER) != NULL,
        .cgroupns = has_new(c, CLONE_NEWCGROUP), .cgroup2_dir = a->cgroup2_dir, .mount_trees = a->trees,
        .dev_trees = a->n_trees > c->n_mounts ? a->trees + c->n_mounts : NULL,
    };
    /* Without a mount namespace every mount would be the host's: only chroot. */
    x->own_mnt = husk_config_namespace(c, CLONE_NEWNS) != NULL;
    if (x->own_mnt && husk_rootfs_prepare(c, &ro, &err) < 0)
        fail(a, &err);
    for (size_t i = 0; i < a->n_trees; i++)
        if (a->trees[i] >= 0)
            close(a->trees[i]);
    if (c->hooks[HUSK_HOOK_PRESTART].n || c->hooks[HUSK_HOOK_CREATE_RUNTIME].n) {
        struct sync_packet pk;
        if (sync_send(a->sync_fd, SYNC_HOOKS, 0, NULL) < 0 || sync_recv(a->sync_fd, &pk) != 1)
            _exit(1);
        if (pk.type == SYNC_TRAMPOLINE_FD) {
            x->tramp = above_preserved(a, pk.fd);
            if (sync_recv(a->sync_fd, &pk) != 1)
                _exit(1);
        }
        if (pk.type != SYNC_HOOKS_DONE)
            _exit(1);
    }
    if (husk_hooks_run(&c->hooks[HUSK_HOOK_CREATE_CONTAINER], "createContainer", a->state_json, &err) < 0)
        fail(a, &err);
}

/* pivot_root into the rootfs (or chroot without a mount namespace), the missing cwd made
 * (the init only, as runc does), the rootfs's last changes. */
static void init_root(struct init_ctx *x)
{
    struct init_args *a = x->a;
    const struct husk_config *c = x->c;
    struct husk_err err = {0};
    if (x->own_mnt) {
        if (husk_rootfs_pivot(c, a->rootfs, a->no_pivot, &err) < 0 ||
            (c->has_process && husk_proc_make_cwd(x->proc.cwd, &err) < 0) || husk_rootfs_finalize(c, &err) < 0)
            fail(a, &err);
    } else if (chdir(a->rootfs) < 0 || chroot(".") < 0 || chdir("/") < 0) {
        husk_err_set(&err, errno, "chroot into `%s`", a->rootfs);
        fail(a, &err);
    } else if (c->has_process && husk_proc_make_cwd(x->proc.cwd, &err) < 0) {
        fail(a, &err);
    }
}

/* runtime-linux.md "/dev/console": the init's pty, bound on a file husk makes afresh in the
 * container's /dev. Never by name: a /dev/console the rootfs (or a process sharing /dev)
 * planted as a symlink would carry the bind to the file it names, and a FIFO would block the
 * open (CVE-2025-52565). The file is created exclusively, without following anything, and the
 * pty is attached to that fd. */
static int bind_console(int slave, struct husk_err *err)
{
    AUTOCLOSE int dev = husk_open("/dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dev < 0)
        return husk_err_set(err, errno, "open /dev for /dev/console");
    if (unlinkat(dev, "console", 0) < 0 && errno != ENOENT)
        return husk_err_set(err, errno, "replace /dev/console");
    AUTOCLOSE int node = openat(dev, "console", O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_CLOEXEC, 0600);
    if (node < 0)
        return husk_err_set(err, errno, "create /dev/console");
    AUTOCLOSE int tree = (int)syscall(SYS_open_tree, slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0 || syscall(SYS_move_mount, tree, "", node, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return husk_err_set(err, errno, "bind the pty on /dev/console");
    return 0;
}
/* The init's terminal: a pty of the container's devpts, its peer bound on /dev/console,
 * then our stdio; without one a session of our own. */
static void init_terminal(struct init_ctx *x)
{
    struct husk_err err = {0};
    int master, slave;
    if (x->console >= 0 && (husk_proc_pty_open(&x->proc, &master, &slave, &err) < 0 ||
                            bind_console(slave, &err) < 0 || husk_proc_pty_stdio(x->console, master, slave, &err) < 0))
        fail(x->a, &err);
    /* A session of its own, with or without a terminal, as runc and crun do: job control
     * and `kill -- -$pgid` in the container must not reach husk's caller. */
    if (x->console < 0 && setsid() < 0) {
        husk_err_set(&err, errno, "setsid");
        fail(x->a, &err);
    }
}

/* Created: create exits soon after our READY, so the parent-death signal goes; from here
 * until its commit ("C") or `run`'s start ("S") our tie to it is the sync socket, whose
 * EOF (create died before the state was durable) ends us. Returns the socket `start`'s go
 * came on, where errors go from now on. */
static int init_wait_start(struct init_args *a)
{
    prctl(PR_SET_PDEATHSIG, 0);
    if (sync_send(a->sync_fd, SYNC_READY, 0, NULL) < 0)
        _exit(1);
    /* `run`: the start comes over the sync socket itself */
    if (a->listen_fd < 0) {
        if (!got_start(a->sync_fd))
            _exit(1);
        return a->sync_fd;
    }
    char cmd = 0;
    ssize_t n;
    do
        n = recv(a->sync_fd, &cmd, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n != 1 || cmd != 'C')
        _exit(1);
    close(a->sync_fd);
    int conn;
    for (;;) {
        conn = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            _exit(1);
        }
        if (got_start(conn))
            break;
        close(conn);
    }
    close(a->listen_fd);
    return conn;
}

void husk_init_main(struct init_args *a)
{
    struct husk_err err = {0};
    struct init_ctx x = {.a = a, .c = a->cfg, .proc = a->cfg->process, .tramp = -1, .console = -1};
    const struct husk_config *c = a->cfg;
    /* config.md: execCPUAffinity does not apply to the container's init */
    x.proc.exec_cpu_initial = x.proc.exec_cpu_final = NULL;
    /* runtime.md: without a process, create works and start fails. */
    char root_dir[] = "/";
    if (!c->has_process)
        x.proc.cwd = root_dir;
    init_enter(a);
    init_wait_go(&x);
    init_namespaces(&x);
    /* connected by create (or run's own pair) */
    if (x.proc.terminal) {
        if (a->console_fd < 0) {
            husk_err_set(&err, 0, "process.terminal is true but no --console-socket was given");
            fail(a, &err);
        }
        x.console = a->console_fd;
    }
    init_mounts_and_hooks(&x);
    init_root(&x);
    init_terminal(&x);
    /* after the console took fds 0-2, before any filter */
    if (c->has_process && x.tramp < 0) {
        struct sync_packet pk;
        if (sync_recv(a->sync_fd, &pk) != 1 || pk.type != SYNC_TRAMPOLINE_FD || pk.fd < 0)
            _exit(1);
        x.tramp = above_preserved(a, pk.fd);
    }
    int keep[] = {a->sync_fd, a->listen_fd, x.tramp};
    if (husk_proc_prepare(&x.proc, c, &x.ar, a->new_userns, keep, 3, a->preserve_fds, a->sync_fd, &err) < 0)
        fail(a, &err);
    /* A missing program fails `create`, as with runc: engines read that error from the
     * create log (podman turns it into exit code 127). */
    static char exe[4096];
    if (c->has_process && husk_proc_resolve(&x.proc, exe, sizeof exe, &err) < 0)
        fail(a, &err);
    /* From the start on errors go back to `start` over its connection. */
    a->sync_fd = init_wait_start(a);
    if (husk_hooks_run(&c->hooks[HUSK_HOOK_START_CONTAINER], "startContainer", a->state_json, &err) < 0)
        fail(a, &err);
    if (!c->has_process) {
        husk_err_set(&err, 0, "cannot start: config.json has no process to run");
        fail(a, &err);
    }
    husk_proc_exec(&x.proc, c, exe, a->sync_fd, x.tramp, 1, &err);
    fail(a, &err);
}
