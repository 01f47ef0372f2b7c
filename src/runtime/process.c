/* The container process's last steps, shared by the init (create/start) and exec:
 * rlimits, scheduling, LSM, seccomp, user, capabilities, cwd, environment, exec. */
#include "process_internal.h"
#include "husk/rootless.h"
#include "sync.h"
#include "exec_error.h"
#include "husk/fileio.h"
#include "husk/cleanup.h"
#include "husk/fdpass.h"
#include "husk/procfs.h"
#include "husk/security.h"

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* runtime.md: only stdio, preserved fds and what init itself needs reach the container. */
int husk_proc_close_fds(const int *keep, size_t nkeep, int preserve_fds, struct husk_err *err)
{
    int lo = 3 + (preserve_fds > 0 ? preserve_fds : 0);
    /* close_range between the fds we keep, in ascending order */
    for (;;) {
        int next = -1;
        for (size_t i = 0; i < nkeep; i++)
            if (keep[i] >= lo && (next < 0 || keep[i] < next))
                next = keep[i];
        if (next < 0) {
            if (syscall(SYS_close_range, lo, ~0U, 0) < 0)
                return husk_err_set(err, errno, "close inherited fds");
            return 0;
        }
        if (next > lo && syscall(SYS_close_range, lo, next - 1, 0) < 0)
            return husk_err_set(err, errno, "close inherited fds");
        lo = next + 1;
    }
}

int husk_proc_pty_open(const struct husk_process *p, int *master, int *slave, struct husk_err *err)
{
    *master = husk_open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*master < 0)
        return husk_err_set(err, errno, "open /dev/ptmx");
    if (unlockpt(*master) < 0)
        return husk_err_set(err, errno, "unlockpt");
    *slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (*slave < 0)
        return husk_err_set(err, errno, "open the pty peer");
    if (p->console_size.set) {
        struct winsize ws = {.ws_row = (unsigned short)p->console_size.height,
                             .ws_col = (unsigned short)p->console_size.width};
        ioctl(*slave, TIOCSWINSZ, &ws);
    }
    return 0;
}

int husk_proc_pty_stdio(int sock, int master, int slave, struct husk_err *err)
{
    /* runc's protocol: the fd with its name as the payload */
    if (husk_send_fd(sock, "/dev/ptmx", 9, master) < 0)
        return husk_err_set(err, errno, "send the pty to the console socket");
    close(master);
    close(sock);
    if (setsid() < 0)
        return husk_err_set(err, errno, "setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return husk_err_set(err, errno, "make the pty the controlling terminal");
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0)
            return husk_err_set(err, errno, "dup the pty to fd %d", fd);
    if (slave > 2)
        close(slave);
    return 0;
}

/* exec's process has the pty on its stdio and mounts nothing: a running container's /dev is
 * the container's to change, and a second `exec -t` must work as the first. */
int husk_proc_console(int sock, const struct husk_process *p, struct husk_err *err)
{
    int master, slave;
    if (husk_proc_pty_open(p, &master, &slave, err) < 0)
        return -1;
    return husk_proc_pty_stdio(sock, master, slave, err);
}

int husk_proc_connect_console(const char *path, struct husk_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return husk_err_set(err, ENAMETOOLONG, "console socket `%s`", path);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return husk_err_set(err, errno, "console socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return husk_err_set(err, e, "connect to console socket `%s`", path);
    }
    return fd;
}

static const char *env_get(const struct husk_strv *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < env->n; i++)
        if (strncmp(env->v[i], name, n) == 0 && env->v[i][n] == '=')
            return env->v[i] + n + 1;
    return NULL;
}

/* X_OK as execve will check it: with the effective ids and capabilities (a non-root
 * process's CAP_DAC_OVERRIDE reaches a 0700 root program, as with runc), which access(2),
 * checking the real uid without capabilities, does not see. */
static int may_exec(const char *path)
{
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
    long r = syscall(SYS_faccessat2, AT_FDCWD, path, X_OK, AT_EACCESS);
    /* older kernels; seccomp profiles older than it (runtime-tools' default) make it EPERM,
     * which X_OK never is */
    return r < 0 && (errno == ENOSYS || errno == EPERM) ? access(path, X_OK) : (int)r;
}

/* Finds the program the way execvp would, in the container's PATH. */
int husk_proc_resolve(const struct husk_process *p, char *out, size_t n, struct husk_err *err)
{
    const char *prog = p->args.v[0];
    struct stat sb;
    if (strchr(prog, '/')) {
        if (stat(prog, &sb) < 0)
            return husk_exec_error(err, errno, prog);
        if (S_ISDIR(sb.st_mode)) {
            /* execve's EACCES, in the words Docker's CLI needs for 126 */
            char what[4200];
            snprintf(what, sizeof what, "exec: \"%s\": is a directory", prog);
            return husk_go_error(err, EACCES, what);
        }
        /* A file the process may not execute (no x bit for its user, a noexec mount) fails
         * here, at create, as runc's lookup does; not later as an execve error that a
         * seccomp filter would be blamed for. */
        if (may_exec(prog) < 0)
            return husk_exec_error(err, errno, prog);
        snprintf(out, n, "%s", prog);
        return 0;
    }
    const char *path = env_get(&p->env, "PATH");
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int saw_eacces = 0;
    while (*path) {
        const char *end = strchrnul(path, ':');
        int len = (int)(end - path);
        snprintf(out, n, "%.*s%s%s", len, path, len ? "/" : "", prog);
        if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode)) {
            if (may_exec(out) == 0)
                return 0;
            saw_eacces = 1;
        }
        path = *end ? end + 1 : end;
    }
    if (saw_eacces)
        return husk_exec_error(err, EACCES, prog);
    return husk_err_set(err, 0, "exec: \"%s\": executable file not found in $PATH", prog);
}

int husk_proc_set_home(struct husk_process *p, struct husk_arena *ar)
{
    if (env_get(&p->env, "HOME"))
        return 0;
    char home[1024] = "/";
    FILE *f = husk_fopen_read("/etc/passwd");
    if (f) {
        char line[2048];
        while (fgets(line, sizeof line, f)) {
            char *fields[7] = {0};
            int k = 0;
            for (char *s = line, *t; k < 7 && (t = strsep(&s, ":")); k++)
                fields[k] = t;
            if (k >= 6 && fields[2] && strtoul(fields[2], NULL, 10) == p->uid) {
                snprintf(home, sizeof home, "%s", fields[5]);
                break;
            }
        }
        fclose(f);
    }
    char **nv = husk_arena_alloc(ar, (p->env.n + 2) * sizeof(char *));
    if (!nv)
        return -1;
    /* env absent or null: v is NULL, and memcpy from NULL is undefined even for 0 bytes */
    if (p->env.n)
        memcpy(nv, p->env.v, p->env.n * sizeof(char *));
    size_t hl = strlen(home) + 6;
    nv[p->env.n] = husk_arena_alloc(ar, hl);
    if (!nv[p->env.n])
        return -1;
    snprintf(nv[p->env.n], hl, "HOME=%s", home);
    p->env.v = nv;
    p->env.n++;
    return 0;
}

static int apply_personality(const struct husk_config *c, struct husk_err *err)
{
    if (!c->linux_.personality.set)
        return 0;
    const char *d = c->linux_.personality.domain;
    unsigned long persona;
    if (strcmp(d, "LINUX") == 0)
        persona = PER_LINUX;
    else if (strcmp(d, "LINUX32") == 0)
        persona = PER_LINUX32;
    else
        return husk_err_set(err, 0, "config.json: .linux.personality.domain: unknown domain \"%s\"", d);
    if (personality(persona) < 0)
        return husk_err_set(err, errno, "set personality %s", d);
    return 0;
}

int husk_proc_oom_score(const struct husk_process *p, struct husk_err *err)
{
    if (!p->oom_score_adj.set)
        return 0;
    char v[32], cur[32] = "";
    int n = snprintf(v, sizeof v, "%lld", (long long)p->oom_score_adj.v);
    int fd = husk_procfs_open(HUSK_PROC_SELF, "oom_score_adj", O_WRONLY, err);
    if (fd < 0)
        return husk_err_wrap(err, "set process.oomScoreAdj");
    ssize_t w = write(fd, v, n);
    int e = errno;
    close(fd);
    if (w < 0) {
        struct husk_err ig;
        if (e == EACCES && husk_procfs_read(HUSK_PROC_SELF, "oom_score_adj", cur, sizeof cur, &ig) == 0) {
            cur[strcspn(cur, "\n")] = '\0';
            return husk_err_set(err, e, "set process.oomScoreAdj to %s: below the current value %s, which needs "
                                        "CAP_SYS_RESOURCE%s", v, cur, husk_rootless() ? " (husk runs rootless)" : "");
        }
        if (e == EACCES)
            return husk_err_set(err, e, "set process.oomScoreAdj to %s: lowering it needs CAP_SYS_RESOURCE", v);
        return husk_err_set(err, e, "set process.oomScoreAdj to %s", v);
    }
    return 0;
}

static bool setgroups_denied(void)
{
    char sg[16];
    struct husk_err ignored = {0};
    return husk_procfs_read(HUSK_PROC_SELF, "setgroups", sg, sizeof sg, &ignored) == 0 && strncmp(sg, "deny", 4) == 0;
}

static int load_seccomp(const struct husk_seccomp *s, int sync, struct husk_err *err)
{
    int notify_fd = husk_seccomp_load(s, err);
    if (notify_fd == -1)
        return -1;
    if (notify_fd >= 0) {
        /* The listener lives on the host side: the husk process delivers it. */
        int r = sync_send_fd(sync, SYNC_SECCOMP, 0, notify_fd);
        close(notify_fd);
        if (r < 0)
            return husk_err_set(err, errno, "seccomp: hand the notify fd to husk");
    }
    return 0;
}

/* runc and crun create a missing process.cwd (0755, root's) before the rootfs turns read-only
 * and the user changes; images name a WORKDIR that may not exist. Called after pivot_root:
 * the path resolves inside the container's root. */
int husk_proc_make_cwd(const char *cwd, struct husk_err *err)
{
    struct stat sb;
    if (stat(cwd, &sb) == 0 || errno != ENOENT)
        return 0;   /* anything but "missing" is for the chdir to report */
    char path[4096];
    if (snprintf(path, sizeof path, "%s", cwd) >= (int)sizeof path)
        return husk_err_set(err, ENAMETOOLONG, "create cwd (\"%s\") set in config.json", cwd);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return husk_err_set(err, errno, "create cwd (\"%s\") set in config.json: `%s`", cwd, path);
        *p = c;
        if (!c)
            return 0;
    }
}

int husk_proc_prepare(struct husk_process *proc, const struct husk_config *c, struct husk_arena *ar, bool userns,
                      const int *keep, size_t nkeep, int preserve_fds, int sync, struct husk_err *err)
{
    if (husk_rlimits_apply(proc, err) < 0 || husk_proc_oom_score(proc, err) < 0 || apply_personality(c, err) < 0 ||
        husk_lsm_apply(proc, err) < 0 || husk_sched_apply(&proc->scheduler, err) < 0 ||
        husk_ioprio_apply(proc, err) < 0 || husk_mempolicy_apply(c, err) < 0)
        return -1;
    umask(proc->umask.set ? (mode_t)proc->umask.v : 022);
    bool deny_setgroups = userns && setgroups_denied();
    /* the last of /proc husk needs: its handle must not reach the container */
    husk_procfs_close();
    /* Before any filter that might not allow close_range. */
    if (husk_proc_close_fds(keep, nkeep, preserve_fds, err) < 0)
        return -1;
    /* Without no_new_privs the filter needs CAP_SYS_ADMIN: load it while we have it. */
    if (c->linux_.seccomp.set && !proc->no_new_privileges && load_seccomp(&c->linux_.seccomp, sync, err) < 0)
        return -1;
    if (proc->caps.set && husk_caps_drop_bounding(&proc->caps, err) < 0)
        return -1;
    /* Resolved after pivot_root, inside the container (CVE-2024-21626), and first before the
     * user switch, as runc does: a cwd only root may enter (a 0700 /root for user 1000) works
     * there too. Failing that, again as the user, whose error is the one to report. */
    bool in_cwd = chdir(proc->cwd) == 0;
    if (husk_user_apply(proc, deny_setgroups, err) < 0)
        return -1;
    if (!in_cwd && chdir(proc->cwd) < 0) {
        int e = errno;
        char what[4200];
        snprintf(what, sizeof what, "chdir to cwd (\"%s\") set in config.json", proc->cwd);
        return husk_go_error(err, e, what);
    }
    if (proc->caps.set && husk_caps_apply(&proc->caps, err) < 0)
        return -1;
    if (husk_proc_set_home(proc, ar) < 0)
        return husk_err_set(err, ENOMEM, "environment");
    return 0;
}

int husk_set_affinity(const char *list, const char *what, struct husk_err *err)
{
    unsigned long mask[16];
    if (husk_parse_cpu_list(list, mask, sizeof mask * 8) < 0)
        return husk_err_set(err, 0, "config.json: .process.%s: invalid CPU list \"%s\"", what, list);
    if (sched_setaffinity(0, sizeof mask, (cpu_set_t *)mask) < 0)
        return husk_err_set(err, errno, "set %s \"%s\"", what, list);
    return 0;
}

int husk_proc_exec(struct husk_process *proc, const struct husk_config *c, const char *resolved, int sync,
                   int trampoline, int status, struct husk_err *err)
{
    char found[4096];
    const char *exe = resolved;
    if (!exe) {
        if (husk_proc_resolve(proc, found, sizeof found, err) < 0)
            return -1;
        exe = found;
    }
    /* CVE-2019-5736: the program's exec resolves `#!/proc/self/exe` (or a PT_INTERP that
     * names it) against our /proc/self/exe, the host's husk binary; exec'd from the sealed
     * trampoline, that is the trampoline. It gets the sync socket open to report a failed
     * exec and marks it CLOEXEC itself. All of this before the filter below, which may not
     * allow what it takes. */
    AUTOFREE char **argv = malloc((proc->args.n + HUSK_TRAMPOLINE_ARGS + 1) * sizeof *argv);
    if (!argv)
        return husk_err_set(err, ENOMEM, "exec");
    char fdnum[16], flags[48] = {c->linux_.seccomp.set ? 's' : '-', (char)status, '\0'};
    snprintf(fdnum, sizeof fdnum, "%d", sync);
    uint64_t inh, extra = 0;
    if (proc->caps.set && proc->uid != 0)
        husk_caps_carry(&proc->caps, &inh, &extra);
    if (extra)
        snprintf(flags + 2, sizeof flags - 2, "%llx:%llx", (unsigned long long)inh, (unsigned long long)extra);
    argv[0] = (char *)HUSK_TRAMPOLINE_ARGV0;
    argv[1] = fdnum;
    argv[2] = flags;
    argv[3] = (char *)exe;
    memcpy(argv + HUSK_TRAMPOLINE_ARGS, proc->args.v, proc->args.n * sizeof *argv);
    argv[HUSK_TRAMPOLINE_ARGS + proc->args.n] = NULL;
    if (fcntl(sync, F_SETFD, 0) < 0)
        return husk_err_set(err, errno, "exec: keep the sync socket for the trampoline");
    if (proc->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return husk_err_set(err, errno, "set no_new_privs");
    if (c->linux_.seccomp.set && proc->no_new_privileges && load_seccomp(&c->linux_.seccomp, sync, err) < 0)
        return -1;
    if (proc->exec_cpu_final && husk_set_affinity(proc->exec_cpu_final, "execCPUAffinity.final", err) < 0)
        return -1;
    char *none[] = {NULL};
    syscall(SYS_execveat, trampoline, "", argv, proc->env.n ? proc->env.v : none, AT_EMPTY_PATH);
    int e = errno;
    husk_exec_error(err, e, proc->args.v[0]);
    /* the filter we just loaded may allow execve but not execveat */
    if ((e == EPERM || e == EACCES || e == ENOSYS) && c->linux_.seccomp.set)
        husk_err_wrap(err, "linux.seccomp may block execveat, which husk's exec trampoline needs");
    return -1;
}
