#include "cli.h"
#include "husk/container.h"
#include "husk/fileio.h"
#include "husk/fdpass.h"

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


static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    struct husk_err err = {0};
    struct husk_create_opts o = {0};
    bool detach = cli_flag(s, a, "detach");
    if (cli_create_opts(g, a, s, &o, &err) < 0)
        return cli_fail(&err);
    o.keep_child = !detach;
    /* detached, the container keeps our stdio as it is (as runc's does) */
    struct husk_stdio_relay relay = {{-1, -1, -1}, {-1, -1, -1}};
    if (!detach)
        o.relay = &relay;
    /* A terminal without --console-socket in the foreground: the pty master comes back
     * to us over a pair create makes (only for a config with a terminal) and we relay it. */
    int back = -1;
    if (!detach && !o.console_socket)
        o.console_back = &back;
    o.start = true;
    struct husk_run_kept kept = {-1, NULL, NULL};
    bool keep = cli_flag(s, a, "keep");
    if (!detach && !keep)
        o.kept = &kept;
    pid_t pid = husk_container_create(&o, &err);
    /* the pty master the container sent during create, if it has a terminal */
    char name[64];
    int master = -1;
    if (back >= 0 && pid > 0)
        husk_recv_fd(back, name, sizeof name, MSG_DONTWAIT, &master);
    if (back >= 0)
        close(back);
    if (pid < 0)
        return cli_fail(&err);
    if (detach)
        return 0;
    bool reaped = false;
    int code = husk_wait_forwarding(pid, master, &relay, &reaped);
    husk_stdio_relay_close(&relay);
    if (master >= 0)
        close(master);
    if (!keep && husk_container_delete_kept(g->root, o.id, reaped ? pid : 0, &kept, &err) < 0)
        cli_fail(&err);
    return code;
}

const struct command cmd_run = {"run", "[options] ID", "create and start a container, wait for it to exit", opts,
                                help, 1, 1, -1, run};
