/* Foreground `run` and `exec`: wait for the process, forwarding our signals to it, and with
 * a terminal relay its pty to our own (reference/terminals.md "foreground"); without one,
 * relay the stdio that is not safe to hand over as it is (husk_stdio_relay). */
#include "husk/container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static bool copy(int from, int to)
{
    char buf[8192];
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0)
        return n < 0 && (errno == EINTR || errno == EAGAIN);
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        off += w;
    }
    return true;
}

static void resize(int master)
{
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0)
        ioctl(master, TIOCSWINSZ, &ws);
}

int husk_console_relay(int master, pid_t pid, int *status)
{
    struct termios orig;
    bool tty = isatty(0) && tcgetattr(0, &orig) == 0;
    if (tty) {
        struct termios raw = orig;
        cfmakeraw(&raw);
        tcsetattr(0, TCSANOW, &raw);
        resize(master);
    }
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGWINCH);
    sigprocmask(SIG_BLOCK, &mask, &old);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct pollfd p[4] = {{.fd = 0, .events = POLLIN}, {.fd = master, .events = POLLIN},
                          {.fd = pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
    for (;;) {
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!copy(master, 1))
                break;   /* EIO: every slave fd closed, the process is gone */
        }
        if (p[0].revents & (POLLIN | POLLHUP)) {
            if (!copy(0, master))
                p[0].fd = -1;   /* our stdin ended; keep showing output */
        }
        if (p[3].revents & POLLIN) {
            struct signalfd_siginfo si;
            (void)!read(sfd, &si, sizeof si);
            resize(master);
        }
        if (p[2].revents & POLLIN) {
            /* the process exited: show what is left in the pty, then stop */
            p[1].events = POLLIN;
            while (poll(&p[1], 1, 0) > 0 && (p[1].revents & POLLIN) && copy(master, 1))
                ;
            break;
        }
    }
    int rc = 0;
    while ((rc = waitpid(pid, status, 0)) < 0 && errno == EINTR)
        ;
    if (tty)
        tcsetattr(0, TCSANOW, &orig);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (sfd >= 0)
        close(sfd);
    if (pidfd >= 0)
        close(pidfd);
    return rc < 0 ? -1 : 0;
}

int husk_stdio_relay_open(struct husk_stdio_relay *r, struct husk_err *err)
{
    for (int i = 0; i < 3; i++)
        r->child[i] = r->ours[i] = -1;
    for (int i = 0; i < 3; i++) {
        struct stat sb;
        if (fstat(i, &sb) < 0 || !(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode) || S_ISBLK(sb.st_mode)))
            continue;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
            husk_stdio_relay_close(r);
            return husk_err_set(err, errno, "pipe for fd %d", i);
        }
        r->child[i] = i == 0 ? p[0] : p[1];
        r->ours[i] = i == 0 ? p[1] : p[0];
        fcntl(r->ours[i], F_SETFL, O_NONBLOCK);
    }
    return 0;
}

int husk_stdio_relay_use(const struct husk_stdio_relay *r)
{
    for (int i = 0; i < 3; i++)
        if (r->child[i] >= 0 && dup2(r->child[i], i) < 0)
            return -1;
    return 0;
}

void husk_stdio_relay_close_child(struct husk_stdio_relay *r)
{
    for (int i = 0; i < 3; i++)
        if (r->child[i] >= 0) {
            close(r->child[i]);
            r->child[i] = -1;
        }
}

void husk_stdio_relay_close(struct husk_stdio_relay *r)
{
    husk_stdio_relay_close_child(r);
    for (int i = 0; i < 3; i++)
        if (r->ours[i] >= 0) {
            close(r->ours[i]);
            r->ours[i] = -1;
        }
}

/* What the pipe `from` holds, to `to` (dropped if `to` refuses it); false at EOF. */
static bool drain(int from, int to)
{
    char buf[16384];
    for (;;) {
        ssize_t n = read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 && errno == EAGAIN;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(to, buf + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += w;
        }
    }
}

static void drop(int *fd)
{
    close(*fd);
    *fd = -1;
}

/* Until pid exits: our stdin into its pipe, its stdout and stderr pipes out to ours. */
static int relay_stdio(struct husk_stdio_relay *r, pid_t pid, int *status)
{
    /* the container closing its stdin is an EPIPE to handle, not our end */
    signal(SIGPIPE, SIG_IGN);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    static char in[65536];
    size_t len = 0, off = 0;
    for (;;) {
        struct pollfd p[4] = {{.fd = pidfd, .events = POLLIN},
                              {.fd = r->ours[1], .events = POLLIN},
                              {.fd = r->ours[2], .events = POLLIN},
                              {.fd = -1}};
        if (r->ours[0] >= 0)
            p[3] = off < len ? (struct pollfd){.fd = r->ours[0], .events = POLLOUT}
                             : (struct pollfd){.fd = 0, .events = POLLIN};
        /* without a pidfd (before Linux 5.3) the pipes' EOF ends the relay */
        if (pidfd < 0 && r->ours[1] < 0 && r->ours[2] < 0)
            break;
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 1; i < 3; i++)
            if (p[i].revents && !drain(r->ours[i], i))
                drop(&r->ours[i]);
        if (p[3].revents && p[3].fd == 0) {
            ssize_t n = read(0, in, sizeof in);
            if (n > 0) {
                len = (size_t)n;
                off = 0;
            } else if (!(n < 0 && (errno == EINTR || errno == EAGAIN))) {
                drop(&r->ours[0]);   /* our stdin ended (or is no file to read): so does its */
            }
        } else if (p[3].revents) {
            ssize_t w = write(r->ours[0], in + off, len - off);
            if (w > 0)
                off += (size_t)w;
            else if (!(w < 0 && (errno == EINTR || errno == EAGAIN)))
                drop(&r->ours[0]);   /* it closed its stdin */
        }
        if (p[0].revents & POLLIN) {
            /* exited: what it wrote before is in the pipes */
            for (int i = 1; i < 3; i++)
                if (r->ours[i] >= 0)
                    drain(r->ours[i], i);
            break;
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    int rc;
    while ((rc = waitpid(pid, status, 0)) < 0 && errno == EINTR)
        ;
    return rc < 0 ? -1 : 0;
}

static volatile sig_atomic_t target_pid;

static void forward(int sig)
{
    if (target_pid > 0)
        kill(target_pid, sig);
}

int husk_wait_forwarding(pid_t pid, int master, struct husk_stdio_relay *relay, bool *reaped)
{
    /* Signals sent to husk go to the process, as with runc. */
    target_pid = pid;
    struct sigaction sa = {.sa_handler = forward};
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], &sa, NULL);
    int status = 0;
    pid_t w = pid;
    bool pipes = relay && (relay->ours[0] >= 0 || relay->ours[1] >= 0 || relay->ours[2] >= 0);
    if (master >= 0) {
        if (husk_console_relay(master, pid, &status) < 0)
            w = -1;
    } else if (pipes) {
        if (relay_stdio(relay, pid, &status) < 0)
            w = -1;
    } else {
        do
            w = waitpid(pid, &status, 0);
        while (w < 0 && errno == EINTR);
    }
    if (reaped)
        *reaped = w >= 0;
    return w < 0 ? 255 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
