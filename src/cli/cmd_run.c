#include "cli.h"
#include "husk/container.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct opt_spec opts[] = {
    {"bundle", 'b', true}, {"pid-file", 0, true}, {"console-socket", 0, true}, {"no-pivot", 0, false},
    {"no-new-keyring", 0, false}, {"preserve-fds", 0, true}, {"detach", 'd', false}, {"keep", 0, false},
    {"help", 'h', false}, {0}};
static const char *const help[] = {
    "bundle directory (default: current)", "write the container's init pid here",
    "unix socket that receives the terminal's pty master", "use MS_MOVE + chroot instead of pivot_root",
    "do not create a new session keyring", "pass N extra fds (3..3+N-1) to the container",
    "start the container and return at once", "keep the container's state after it exits", ""};

int cli_create_opts(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s,
                    struct husk_create_opts *o, struct husk_err *err);

static volatile sig_atomic_t target_pid;

/* The pty master the container sent during create, if it has a terminal. */
static int recv_fd(int sock)
{
    char data[64];
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
    union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    if (recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
        return -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (!cm || cm->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}

static void forward(int sig)
{
    if (target_pid > 0)
        kill(target_pid, sig);
}

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    struct husk_err err = {0};
    struct husk_create_opts o = {0};
    bool detach = cli_flag(s, a, "detach");
    if (cli_create_opts(g, a, s, &o, &err) < 0)
        return cli_fail(&err);
    o.keep_child = !detach;
    /* A terminal without --console-socket in the foreground: the pty master comes back
     * to us here and we relay it. */
    int csv[2] = {-1, -1};
    if (!detach && !o.console_socket && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, csv) == 0) {
        /* above the --preserve-fds range, which the container inherits as is */
        int hi = fcntl(csv[1], F_DUPFD_CLOEXEC, 3 + o.preserve_fds);
        close(csv[1]);
        csv[1] = hi;
        o.console_fd = hi;
    }
    pid_t pid = husk_container_create(&o, &err);
    if (csv[1] >= 0)
        close(csv[1]);
    if (pid < 0)
        return cli_fail(&err);
    int master = csv[0] >= 0 ? recv_fd(csv[0]) : -1;
    if (csv[0] >= 0)
        close(csv[0]);
    if (husk_container_start(g->root, o.id, &err) < 0) {
        struct husk_err e2;
        husk_container_delete(g->root, o.id, true, &e2);
        return cli_fail(&err);
    }
    if (detach)
        return 0;
    /* Signals sent to `husk run` go to the container, as with runc. */
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
        close(master);
    } else {
        do
            w = waitpid(pid, &status, 0);
        while (w < 0 && errno == EINTR);
    }
    int code = w < 0 ? 255 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!cli_flag(s, a, "keep") && husk_container_delete(g->root, o.id, true, &err) < 0)
        cli_fail(&err);
    return code;
}

const struct command cmd_run = {"run", "[options] ID", "create and start a container, wait for it to exit", opts,
                                help, 1, 1, -1, run};
