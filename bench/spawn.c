/* The benchmark's launcher. The benchmark sends it each command to time; it forks and execs
 * it from this small process and sends back the wall time, CPU time and peak RSS.
 *
 * Why: a process's peak RSS (wait4's ru_maxrss) counts the pages it had before its exec, and
 * a child forked from the benchmark starts as a copy of the benchmark's memory. Forked from
 * here, what a command reports is its own (and fork itself costs what it costs any engine's
 * small launcher).
 *
 * ru_maxrss is still not husk's own figure for a container: it is the largest of the
 * process's images (before and after an exec) and of the children it waited for, so `husk
 * run` reports busybox's /bin/true (1.3 MiB), and husk's init, which execs the container's
 * program, is seen only through it. A request with SPAWN_TRACE set is run under ptrace
 * (untimed: every stop costs a context switch), and the reply's husk_rss_mib is the largest
 * VmHWM of husk's own processes: the command itself, and every process it forks or clones
 * (the init, exec's intermediate and child) for as long as it still runs husk's image. Each
 * is read from /proc/PID/status at the entry of its execve/execveat (the image about to be
 * replaced is still there) and at its exit event (before the kernel releases its memory).
 * A process that execs anything but the first command (husk) is no longer husk's. Processes
 * that outlive the command (`create`'s init, waiting for `start`) stay traced, and their
 * figures go to the reply of the request in flight when they are read, or to the next one.
 *
 * Protocol, on stdin/stdout (pipes from bench/bench.c): a request is a 4-byte length, 4 bytes
 * of flags and that many bytes of NUL-terminated arguments; the reply is struct reply. The
 * command gets /dev/null for stdin and stdout, and for stderr unless BENCH_VERBOSE is set
 * (which also prints each VmHWM read). */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SPAWN_TRACE 1u

struct reply {
    double wall_ms, cpu_ms, rss_mib;
    double husk_rss_mib;   /* -1 unless traced */
    int status;            /* exit code, 128+N for a signal, -1 when it could not be run */
};

/* The leading fields of the kernel's struct ptrace_syscall_info (linux/ptrace.h, 5.3+),
 * which musl's headers do not carry; the kernel copies what fits. */
struct syscall_info {
    uint8_t op;
    uint8_t pad[3];
    uint32_t arch;
    uint64_t ip, sp;
    uint64_t nr;
};
#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif
#define SYSCALL_INFO_ENTRY 1

/* One traced process. husk: still running husk's image (1), not (0), not known yet (-1: a
 * new child whose parent's fork event has not been seen; it is held in its first stop). */
struct tracee {
    pid_t pid;
    int husk;
    bool held;
};
static struct tracee tracees[512];
static int ntracees;
static pid_t root;            /* the command of the request in flight, 0 if none */
static bool root_execd;
static double peak;           /* MiB, since the last reply */
static bool verbose;

static int read_all(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct tracee *find(pid_t pid, bool add)
{
    for (int i = 0; i < ntracees; i++)
        if (tracees[i].pid == pid)
            return &tracees[i];
    if (!add || ntracees == (int)(sizeof tracees / sizeof *tracees))
        return NULL;
    tracees[ntracees] = (struct tracee){.pid = pid, .husk = -1};
    return &tracees[ntracees++];
}

static void forget(pid_t pid)
{
    struct tracee *t = find(pid, false);
    if (t)
        *t = tracees[--ntracees];
}

/* VmHWM of a husk process into peak */
static void note(pid_t pid, const char *when)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *p = strstr(buf, "\nVmHWM:");
    if (!p)
        return;
    double mib = strtol(p + 7, NULL, 10) / 1024.0;
    if (mib > peak)
        peak = mib;
    if (verbose) {   /* with what is mapped now: the heap (anonymous) and the binary's pages */
        char *anon = strstr(buf, "\nRssAnon:"), *file = strstr(buf, "\nRssFile:");
        fprintf(stderr, "spawn: husk process %d%s at %s: VmHWM %.2f MiB (now anon %.2f, file %.2f)\n", (int)pid,
                pid == root ? " (the command)" : "", when, mib, anon ? strtol(anon + 9, NULL, 10) / 1024.0 : -1.0,
                file ? strtol(file + 9, NULL, 10) / 1024.0 : -1.0);
    }
}

static void resume(const struct tracee *t, int sig)
{
    ptrace(t && t->husk == 1 ? PTRACE_SYSCALL : PTRACE_CONT, t ? t->pid : 0, 0, (void *)(long)sig);
}

/* One ptrace stop or exit of a traced process. Returns true when it was the end of root. */
static bool handle(pid_t pid, int status)
{
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        forget(pid);
        return pid == root;
    }
    if (!WIFSTOPPED(status))
        return false;
    struct tracee *t = find(pid, true);
    if (!t) {   /* table full: let it go */
        ptrace(PTRACE_DETACH, pid, 0, 0);
        return false;
    }
    int sig = WSTOPSIG(status), event = status >> 16;
    unsigned long msg = 0;
    switch (event) {
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE: {
        ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
        struct tracee *c = find((pid_t)msg, true);
        if (c) {
            c->husk = t->husk;
            if (c->held) {
                c->held = false;
                resume(c, 0);
            }
        }
        resume(t, 0);
        return false;
    }
    case PTRACE_EVENT_EXEC:
        if (pid == root && !root_execd) {
            root_execd = true;
            t->husk = 1;
        } else {
            t->husk = 0;
        }
        resume(t, 0);
        return false;
    case PTRACE_EVENT_EXIT:
        if (t->husk == 1)
            note(pid, "exit");
        resume(t, 0);
        return false;
    case PTRACE_EVENT_STOP:
        /* a new child's first stop (or a group stop): hold a child until its parent's fork
         * event says whose image it runs */
        if (t->husk < 0 && pid != root) {
            t->held = true;
            return false;
        }
        resume(t, 0);
        return false;
    }
    if (sig == (SIGTRAP | 0x80)) {
        struct syscall_info si = {0};
        if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof si, &si) > 0 && si.op == SYSCALL_INFO_ENTRY &&
            (si.nr == SYS_execve || si.nr == SYS_execveat))
            note(pid, "exec");
        resume(t, 0);
        return false;
    }
    resume(t, sig);   /* a signal for the process: deliver it */
    return false;
}

static void drain(void)
{
    int status;
    pid_t pid;
    while (ntracees && (pid = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
        handle(pid, status);
}

int main(void)
{
    static char buf[65536];
    static char *argv[256];
    verbose = getenv("BENCH_VERBOSE") != NULL;
    /* SIGCHLD is read from a signalfd while traced processes outlive their command; the
     * commands themselves get it unblocked */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    for (;;) {
        /* between requests, serve the traced processes still alive */
        while (ntracees) {
            struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
            if (poll(p, 2, -1) < 0 && errno != EINTR)
                return 1;
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0)
                ;
            drain();
            if (p[0].revents)
                break;
        }
        uint32_t hdr[2];
        if (read_all(0, hdr, sizeof hdr) < 0 || hdr[0] == 0 || hdr[0] > sizeof buf || read_all(0, buf, hdr[0]) < 0)
            return 0;
        uint32_t len = hdr[0];
        bool trace = hdr[1] & SPAWN_TRACE;
        int argc = 0;
        for (size_t off = 0; off < len && argc < 255; off += strnlen(buf + off, len - off) + 1)
            argv[argc++] = buf + off;
        argv[argc] = NULL;
        struct reply r = {.status = -1, .husk_rss_mib = -1};
        int go[2] = {-1, -1};
        if (trace && pipe2(go, O_CLOEXEC) < 0)
            trace = false;
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid == 0) {
            sigprocmask(SIG_UNBLOCK, &chld, NULL);
            if (trace) {   /* run nothing until the launcher is attached */
                char c;
                close(go[1]);
                if (read(go[0], &c, 1) != 1)
                    _exit(127);
            }
            bench_exec_quiet(argv);
        }
        int status;
        struct rusage ru;
        if (trace) {
            close(go[0]);
            long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_TRACEFORK |
                        PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL;
            if (pid > 0 && ptrace(PTRACE_SEIZE, pid, 0, (void *)opts) == 0) {
                root = pid;
                root_execd = false;
                find(pid, true)->husk = 0;   /* the launcher's copy until it execs the command */
            }
            (void)!write(go[1], "g", 1);
            close(go[1]);
        }
        bool done = false, traced = root != 0;
        if (pid > 0 && !traced && ntracees)
            root = pid;   /* not traced, but traced processes of an earlier request need serving */
        if (root) {
            for (pid_t w; !done && (w = wait4(-1, &status, __WALL, &ru)) > 0;)
                done = handle(w, status);
            if (traced) {
                r.husk_rss_mib = peak;
                peak = 0;
            }
            root = 0;
        } else if (pid > 0) {
            done = wait4(pid, &status, 0, &ru) == pid;
        }
        if (done) {
            r.wall_ms = now_ms() - t0;
            r.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
            r.rss_mib = ru.ru_maxrss / 1024.0;
            r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (write(1, &r, sizeof r) != sizeof r)
            return 1;
    }
}
