/* Foreground `run` and `exec`: wait for the process, forwarding our signals to it, and with
 * a terminal relay its pty to our own (reference/terminals.md "foreground"). */
#include "husk/container.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
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

static volatile sig_atomic_t target_pid;

static void forward(int sig)
{
    if (target_pid > 0)
        kill(target_pid, sig);
}

int husk_wait_forwarding(pid_t pid, int master)
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
    if (master >= 0) {
        if (husk_console_relay(master, pid, &status) < 0)
            w = -1;
    } else {
        do
            w = waitpid(pid, &status, 0);
        while (w < 0 && errno == EINTR);
    }
    return w < 0 ? 255 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
