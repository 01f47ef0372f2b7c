/* `exec`: a new process in a running container's namespaces and cgroups, set up as
 * `create` sets up the init (runc's exec; runtime.md has no exec operation). */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Join order: user first (it owns the rest), mount last (it changes our root). */
static const int join_order[] = {CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID,
                                 CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS};
#define N_NS (sizeof join_order / sizeof *join_order)

static int parse_uint(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > UINT32_MAX)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static char **strv_append(struct husk_arena *a, struct husk_strv *v, const char *s)
{
    char **nv = husk_arena_alloc(a, (v->n + 2) * sizeof(char *));
    if (!nv)
        return NULL;
    if (v->n)
        memcpy(nv, v->v, v->n * sizeof(char *));
    nv[v->n++] = husk_arena_strdup(a, s);
    v->v = nv;
    return nv;
}

/* The process: --process FILE, or the container's process with ARGS and the flags. */
static int build_process(const struct husk_exec_opts *o, const struct husk_config *cfg, struct husk_arena *a,
                         struct husk_process *p, struct husk_err *err)
{
    if (o->process_file) {
        size_t len;
        char *text = husk_read_all(o->process_file, &len, err);
        if (!text)
            return -1;
        memset(p, 0, sizeof *p);
        int r = husk_process_parse(text, len, o->process_file, a, p, err);
        free(text);
        if (r < 0)
            return -1;
    } else {
        *p = cfg->process;
        p->terminal = false;
        p->args.n = 0;
        p->args.v = NULL;
        for (int i = 0; i < o->n_args; i++)
            if (!strv_append(a, &p->args, o->args[i]))
                return husk_err_set(err, ENOMEM, "exec");
    }
    if (o->tty)
        p->terminal = true;
    if (o->cwd)
        p->cwd = husk_arena_strdup(a, o->cwd);
    if (!p->cwd)
        p->cwd = husk_arena_strdup(a, "/");
    for (int i = 0; i < o->n_env; i++) {
        const char *eq = strchr(o->env[i], '=');
        size_t kl = eq ? (size_t)(eq - o->env[i]) : strlen(o->env[i]);
        bool replaced = false;
        for (size_t k = 0; k < p->env.n; k++)
            if (!strncmp(p->env.v[k], o->env[i], kl) && p->env.v[k][kl] == '=') {
                p->env.v[k] = husk_arena_strdup(a, o->env[i]);
                replaced = true;
            }
        if (!replaced && !strv_append(a, &p->env, o->env[i]))
            return husk_err_set(err, ENOMEM, "exec");
    }
    if (o->user) {
        char u[64];
        snprintf(u, sizeof u, "%s", o->user);
        char *colon = strchr(u, ':');
        if (colon)
            *colon = '\0';
        unsigned uid, gid = 0;
        if (parse_uint(u, &uid) < 0 || (colon && parse_uint(colon + 1, &gid) < 0))
            return husk_err_set(err, 0, "exec: --user: expected UID[:GID], got \"%s\"", o->user);
        p->uid = uid;
        p->gid = colon ? gid : 0;
    }
    if (o->additional_gids) {
        size_t n = 1;
        for (const char *s = o->additional_gids; *s; s++)
            n += *s == ',';
        p->additional_gids = husk_arena_alloc(a, n * sizeof(gid_t));
        p->n_additional_gids = 0;
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", o->additional_gids);
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
            unsigned g;
            if (parse_uint(t, &g) < 0)
                return husk_err_set(err, 0, "exec: --additional-gids: bad gid \"%s\"", t);
            p->additional_gids[p->n_additional_gids++] = g;
        }
    }
    /* --cap widens bounding, permitted and effective only, as runc's does: in the inheritable
     * and ambient sets it would survive into a non-root user's program (CVE-2022-29162). Those
     * two hold only what the process spec lists. */
    for (int i = 0; i < o->n_caps; i++) {
        struct husk_strv *sets[] = {&p->caps.bounding, &p->caps.effective, &p->caps.permitted};
        p->caps.set = true;
        for (int k = 0; k < 3; k++)
            if (!strv_append(a, sets[k], o->caps[i]))
                return husk_err_set(err, ENOMEM, "exec");
    }
    if (o->no_new_privs)
        p->no_new_privileges = true;
    if (o->apparmor)
        p->apparmor_profile = husk_arena_strdup(a, o->apparmor);
    if (o->label)
        p->selinux_label = husk_arena_strdup(a, o->label);
    if (p->args.n == 0)
        return husk_err_set(err, 0, "exec: no command given (ARGS or --process FILE)");
    if (p->cwd[0] != '/')
        return husk_err_set(err, 0, "exec: cwd \"%s\" must be an absolute path", p->cwd);
    return 0;
}

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

/* The intermediate: joins the container's namespaces and forks the process that runs in
 * them (a pid namespace applies to children only). It shares husk's memory (CLONE_VM |
 * CLONE_VFORK) but not its fds: no copy of husk's page tables for a process that lives
 * ~50 µs. Never returns. */
static int exec_mid(void *arg)
{
    struct exec_mid *m = arg;
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
    for (size_t i = 0; i < N_NS; i++) {
        if (m->nsfd[i] >= 0 && setns(m->nsfd[i], join_order[i]) < 0) {
            husk_err_set(&e, errno, "join the container's %s namespace", husk_ns_name(join_order[i]));
            mid_fail(m, &e);
        }
        if (m->nsfd[i] >= 0)
            close(m->nsfd[i]);
    }
    struct clone_args ca = {.exit_signal = SIGCHLD};
    bool placed = false;
    pid_t pid = -1;
    if (m->cgfd >= 0) {
        ca.flags = CLONE_INTO_CGROUP;
        ca.cgroup = (unsigned long long)m->cgfd;
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
        placed = pid >= 0;
    }
    if (pid < 0) {
        ca.flags = 0;
        ca.cgroup = 0;
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    }
    if (pid < 0) {
        husk_err_set(&e, errno, "fork the exec process");
        mid_fail(m, &e);
    }
    if (pid > 0) {
        sync_send(m->sync, SYNC_PID, pid, placed ? "1" : "0");
        _exit(0);
    }
    /* The process in the container: the host's cgroup directory goes at once. GO brings
     * the sealed trampoline its program is exec'd through (CVE-2019-5736). */
    if (m->cgfd >= 0)
        close(m->cgfd);
    struct sync_packet pk;
    if (sync_recv(m->sync, &pk) != 1 || pk.type != SYNC_GO || pk.fd < 0)
        _exit(1);
    /* above stdio and the preserved fds, which the console and the program take */
    int tramp = pk.fd;
    if (tramp < m->floor && ((tramp = husk_dupfd_cloexec(pk.fd, m->floor)) < 0 || close(pk.fd) < 0))
        _exit(1);
    if (m->console >= 0 && husk_proc_console(m->console, m->proc, false, &e) < 0)
        goto child_fail;
    /* every process in a session of its own, as the init (runc and crun do the same) */
    if (m->console < 0 && setsid() < 0) {
        husk_err_set(&e, errno, "setsid");
        goto child_fail;
    }
    int held[] = {m->sync, tramp};
    if (husk_proc_prepare(m->proc, m->cfg, m->ar, m->userns, held, 2, m->preserve_fds, m->sync, &e) < 0)
        goto child_fail;
    husk_proc_exec(m->proc, m->cfg, NULL, m->sync, tramp, 127, &e);
child_fail:
    sync_send(m->sync, SYNC_ERROR, e.code, e.msg);
    _exit(127);
}

/* Whether the comma-separated list `want` names one of a v1 hierarchy's controllers. */
static bool names_ctrl(const char *want, size_t wlen, const char *ctrls)
{
    for (const char *w = want; w < want + wlen;) {
        const char *we = memchr(w, ',', (size_t)(want + wlen - w));
        size_t n = we ? (size_t)(we - w) : (size_t)(want + wlen - w);
        for (const char *c = ctrls; *c;) {
            size_t m = strcspn(c, ",");
            if (m == n && strncmp(c, w, n) == 0)
                return true;
            c += m + (c[m] == ',');
        }
        w += n + (we != NULL);
    }
    return false;
}

/* `exec --cgroup [CTRL[,CTRL]:]SUB` (runc 1.1): the process goes to SUB below the
 * container's cgroup instead, in every hierarchy (no CTRL) or in those of the named v1
 * controllers. SUB must exist (it is the container's to make) and stay below: relative, no
 * `..`, and no symlink out (cgroupfs has none, but the path is checked as it resolves). */
static int exec_sub_cgroups(const struct husk_exec_opts *o, struct husk_cgroup *cg, struct husk_err *err)
{
    bool moved[HUSK_CG_MAX] = {0};
    for (int k = 0; k < o->n_cgroups; k++) {
        const char *v = o->cgroups[k], *colon = strchr(v, ':');
        const char *sub = colon ? colon + 1 : v;
        if (!*sub || sub[0] == '/' || strcmp(sub, "..") == 0 || strncmp(sub, "../", 3) == 0 || strstr(sub, "/../") ||
            (strlen(sub) >= 3 && strcmp(sub + strlen(sub) - 3, "/..") == 0))
            return husk_err_set(err, 0, "exec: --cgroup \"%s\": the path must be relative and stay inside the "
                                        "container's cgroup", v);
        bool any = false;
        for (int i = 0; i < cg->n; i++) {
            struct husk_cgroup_dir *d = &cg->dirs[i];
            if (colon && (d->v2 || !names_ctrl(v, (size_t)(colon - v), d->ctrls)))
                continue;
            if (moved[i])
                return husk_err_set(err, 0, "exec: --cgroup \"%s\": a controller named twice", v);
            char path[PATH_MAX], real[PATH_MAX], base[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s", d->path, sub) >= (int)sizeof path)
                return husk_err_set(err, ENAMETOOLONG, "exec: --cgroup \"%s\"", v);
            struct stat sb;
            if (!realpath(path, real) || stat(real, &sb) < 0)
                return husk_err_set(err, errno, "exec: --cgroup \"%s\": `%s`", v, path);
            if (!S_ISDIR(sb.st_mode))
                return husk_err_set(err, ENOTDIR, "exec: --cgroup \"%s\": `%s`", v, path);
            if (!realpath(d->path, base))
                return husk_err_set(err, errno, "exec: --cgroup \"%s\": `%s`", v, d->path);
            size_t bl = strlen(base);
            if (strncmp(real, base, bl) != 0 || real[bl] != '/')
                return husk_err_set(err, 0, "exec: --cgroup \"%s\": `%s` is not inside the container's cgroup", v,
                                    path);
            snprintf(d->path, sizeof d->path, "%s", real);
            moved[i] = any = true;
        }
        if (!any)
            return husk_err_set(err, 0, "exec: --cgroup \"%s\": the container has no cgroup of %s", v,
                                colon ? "that controller" : "its own");
    }
    return 0;
}

int husk_container_exec(const struct husk_exec_opts *o, struct husk_err *err)
{
    if (husk_id_validate(o->id, err) < 0 || husk_fds_check_passed(o->preserve_fds, "--preserve-fds", err) < 0)
        return -1;
    int dirfd = husk_state_open_dir(o->root, o->id, err);
    if (dirfd < 0)
        return -1;
    struct husk_state st;
    husk_state_reset(&st);
    struct husk_config *cfg = NULL;
    struct husk_arena ar = {0};
    struct husk_process proc;
    int nsfd[N_NS], sv[2] = {-1, -1}, console = -1, cgfd = -1, tramp = -1, rc = -1;
    struct husk_stdio_relay relay = {{-1, -1, -1}, {-1, -1, -1}};
    for (size_t i = 0; i < N_NS; i++)
        nsfd[i] = -1;
    bool userns = false;
    if (husk_state_load(dirfd, o->id, &st, err) < 0)
        goto out;
    enum husk_status s = husk_state_status(dirfd, &st);
    if (s != HUSK_RUNNING && s != HUSK_CREATED) {
        husk_err_set(err, 0, "cannot exec in container \"%s\": it is %s, not running", o->id, husk_status_name(s));
        goto out;
    }
    char cfgpath[64];
    snprintf(cfgpath, sizeof cfgpath, "/proc/self/fd/%d/%s", dirfd, HUSK_CONFIG_COPY);
    if (!(cfg = husk_config_load(cfgpath, err)) || build_process(o, cfg, &ar, &proc, err) < 0)
        goto out;
    if (proc.terminal && !o->console_socket) {
        husk_err_set(err, 0, "exec: a terminal needs --console-socket");
        goto out;
    }
    if (husk_seccomp_prepare(cfg, o->root, err) < 0)
        goto out;
    /* The container's namespaces that differ from ours, looked up from the two ns
     * directories rather than by full /proc paths (two lookups fewer each). */
    {
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%d/ns", st.pid);
        AUTOCLOSE int theirs = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        AUTOCLOSE int ours = openat(AT_FDCWD, "/proc/self/ns", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (theirs < 0 || ours < 0) {
            husk_err_set(err, errno, "open `%s`", theirs < 0 ? dir : "/proc/self/ns");
            goto out;
        }
        for (size_t i = 0; i < N_NS; i++) {
            const char *name = husk_ns_proc_name(join_order[i]);
            struct stat a, b;
            if (fstatat(theirs, name, &a, 0) < 0 || fstatat(ours, name, &b, 0) < 0 || a.st_ino == b.st_ino)
                continue;
            if ((nsfd[i] = openat(theirs, name, O_RDONLY | O_CLOEXEC)) < 0) {
                husk_err_set(err, errno, "open `%s/%s`", dir, name);
                goto out;
            }
            userns |= join_order[i] == CLONE_NEWUSER;
        }
    }
    /* A container process with CAP_SYS_PTRACE in our user namespace opens /proc/PID/exe of
     * our child in the container despite PR_SET_DUMPABLE 0 (CVE-2019-5736): when the config,
     * this exec or an earlier one grants it, husk runs from a sealed copy of itself; not in a
     * container that is the host's root anyway (husk_caps_host_root). */
    if (!userns && !husk_caps_host_root(&cfg->process)) {
        bool cfg_ptrace = husk_caps_allow_ptrace(&cfg->process), our_ptrace = husk_caps_allow_ptrace(&proc);
        if (our_ptrace && !cfg_ptrace) {
            /* create made no sealed copy for this config: a created init is the host's binary */
            if (s == HUSK_CREATED) {
                husk_err_set(err, 0, "exec: CAP_SYS_PTRACE, which config.json does not grant, would reach husk's "
                                     "binary through the init of container \"%s\": start it first", o->id);
                goto out;
            }
            int mark = openat(dirfd, HUSK_PTRACE_MARK, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
            if (mark < 0) {
                husk_err_set(err, errno, "exec: mark the container as holding CAP_SYS_PTRACE");
                goto out;
            }
            close(mark);
        }
        if ((cfg_ptrace || our_ptrace || faccessat(dirfd, HUSK_PTRACE_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0) &&
            husk_self_seal(err) < 0)
            goto out;
    }
    /* The container may have exited while we looked: a recycled pid must not be joined. */
    if (husk_proc_start_time(st.pid) != st.start_time) {
        husk_err_set(err, 0, "cannot exec in container \"%s\": it is stopped", o->id);
        goto out;
    }
    struct husk_cgroup cg;
    husk_cgroup_parse(st.cgroup, &cg);
    if (o->n_cgroups && exec_sub_cgroups(o, &cg, err) < 0)
        goto out;
    cgfd = husk_cgroup_v2_fd(&cg);
    if (proc.terminal && (console = husk_proc_connect_console(o->console_socket, err)) < 0)
        goto out;
    if (!o->detach && !proc.terminal && husk_stdio_relay_open(&relay, err) < 0)
        goto out;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        husk_err_set(err, errno, "socketpair");
        goto out;
    }
    int floor = 3 + (o->preserve_fds > 0 ? o->preserve_fds : 0);
    int child_sync = husk_dupfd_cloexec(sv[1], floor);
    if (child_sync < 0) {
        husk_err_set(err, errno, "dup");
        goto out;
    }
    close(sv[1]);
    sv[1] = child_sync;
    if (!o->detach)
        prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* the intermediate's own stack; the process it forks gets a copy of it */
    static char mid_stack[128 * 1024] __attribute__((aligned(16)));
    struct exec_mid m = {
        .cfg = cfg, .proc = &proc, .ar = &ar, .relay = &relay, .nsfd = nsfd, .cgfd = cgfd, .sync = sv[1],
        .parent_sync = sv[0], .console = console, .floor = floor, .preserve_fds = o->preserve_fds, .userns = userns,
    };
    pid_t mid = clone(exec_mid, mid_stack + sizeof mid_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &m);
    if (mid < 0) {
        husk_err_set(err, errno, "fork");
        goto out;
    }
    close(sv[1]);
    sv[1] = -1;
    husk_stdio_relay_close_child(&relay);
    if (console >= 0) {
        close(console);
        console = -1;
    }
    /* sent with GO; made while the process runs to its recv */
    tramp = husk_trampoline_memfd(err);
    struct sync_packet pk;
    int r = sync_recv(sv[0], &pk);
    if (r != 1 || pk.type != SYNC_PID || tramp < 0) {
        if (r == 1 && pk.type == SYNC_PID)
            kill(pk.value, SIGKILL);
        else if (tramp >= 0)
            husk_err_set(err, 0, "%s", r == 1 && pk.type == SYNC_ERROR ? pk.msg : "exec: setup failed");
        waitpid(mid, NULL, 0);
        goto out;
    }
    pid_t pid = pk.value;
    if (husk_cgroup_enter(&cg, pid, pk.msg[0] == '1', err) < 0 || sync_send_fd(sv[0], SYNC_GO, 0, tramp) < 0) {
        kill(pid, SIGKILL);
        waitpid(mid, NULL, 0);
        if (!o->detach)
            waitpid(pid, NULL, 0);
        goto out;
    }
    /* the intermediate exits once it has sent the pid: reaped off the way to GO */
    waitpid(mid, NULL, 0);
    while ((r = sync_recv(sv[0], &pk)) == 1 && pk.type == SYNC_SECCOMP) {
        char *doc = husk_state_json(&st, s, 0);
        int fr = husk_seccomp_forward(cfg, pk.fd, pid, doc ? doc : "{}", err);
        free(doc);
        if (fr < 0) {
            kill(pid, SIGKILL);
            if (!o->detach)
                waitpid(pid, NULL, 0);
            goto out;
        }
    }
    if (r == 1 && pk.type == SYNC_ERROR) {
        husk_err_set(err, 0, "%s", pk.msg);
        err->code = pk.value;
        if (!o->detach)
            waitpid(pid, NULL, 0);
        goto out;
    }
    /* EOF: the socket closed on exec. */
    if (o->pid_file && husk_write_pid_file(o->pid_file, pid, err) < 0)
        goto out;
    if (o->detach) {
        rc = 0;
        goto out;
    }
    rc = husk_wait_forwarding(pid, -1, &relay, NULL);
out:
    for (size_t i = 0; i < N_NS; i++)
        if (nsfd[i] >= 0)
            close(nsfd[i]);
    for (int i = 0; i < 2; i++)
        if (sv[i] >= 0)
            close(sv[i]);
    if (console >= 0)
        close(console);
    if (cgfd >= 0)
        close(cgfd);
    husk_stdio_relay_close(&relay);
    if (tramp >= 0)
        close(tramp);
    husk_config_free(cfg);
    husk_arena_free(&ar);
    husk_state_free(&st);
    close(dirfd);
    return rc;
}
