/* The benchmark's launcher. The benchmark sends it each command to time; it forks and execs
 * it from this small process and sends back the wall time, CPU time and peak RSS.
 *
 * Why: a process's peak RSS (wait4's ru_maxrss) counts the pages it had before its exec, and
 * a child forked from the benchmark starts as a copy of the benchmark's memory. Forked from
 * here, what a command reports is its own (and fork itself costs what it costs any engine's
 * small launcher).
 *
 * Protocol, on stdin/stdout (pipes from bench/bench.c): a request is a 4-byte length and that
 * many bytes of NUL-terminated arguments; the reply is struct reply. The command gets
 * /dev/null for stdin and stdout, and for stderr unless BENCH_VERBOSE is set. */
#define _GNU_SOURCE
#include "child.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct reply {
    double wall_ms, cpu_ms, rss_mib;
    int status;   /* exit code, 128+N for a signal, -1 when it could not be run */
};

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

int main(void)
{
    static char buf[65536];
    static char *argv[256];
    for (;;) {
        uint32_t len;
        if (read_all(0, &len, sizeof len) < 0 || len == 0 || len > sizeof buf || read_all(0, buf, len) < 0)
            return 0;
        int argc = 0;
        for (size_t off = 0; off < len && argc < 255; off += strnlen(buf + off, len - off) + 1)
            argv[argc++] = buf + off;
        argv[argc] = NULL;
        struct reply r = {.status = -1};
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid == 0)
            bench_exec_quiet(argv);
        int status;
        struct rusage ru;
        if (pid > 0 && wait4(pid, &status, 0, &ru) == pid) {
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
