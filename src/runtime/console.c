/* Foreground `run` with a terminal: relay the container's pty to our own terminal
 * (reference/terminals.md "foreground"). */
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
