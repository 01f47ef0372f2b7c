#include "cli.h"
#include "husk/container.h"

#include <stdlib.h>

static const struct opt_spec opts[] = {
    {"bundle", 'b', true}, {"pid-file", 0, true}, {"console-socket", 0, true}, {"no-pivot", 0, false},
    {"no-new-keyring", 0, false}, {"preserve-fds", 0, true}, {"help", 'h', false}, {0}};
static const char *const help[] = {
    "bundle directory (default: current)", "write the container's init pid here",
    "unix socket that receives the terminal's pty master", "use MS_MOVE + chroot instead of pivot_root",
    "do not create a new session keyring", "pass N extra fds (3..3+N-1) to the container", ""};

int cli_create_opts(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s,
                    struct husk_create_opts *o, struct husk_err *err);

int cli_create_opts(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s,
                    struct husk_create_opts *o, struct husk_err *err)
{
    o->systemd_cgroup = g->systemd_cgroup;
    o->root = g->root;
    o->no_cgroups = g->no_cgroups;
    o->console_fd = -1;
    o->id = a->pos[0];
    o->bundle = cli_value(s, a, "bundle");
    o->pid_file = cli_value(s, a, "pid-file");
    o->console_socket = cli_value(s, a, "console-socket");
    o->no_pivot = cli_flag(s, a, "no-pivot");
    o->no_new_keyring = cli_flag(s, a, "no-new-keyring");
    const char *pf = cli_value(s, a, "preserve-fds");
    if (pf && (cli_parse_int(pf, &o->preserve_fds) < 0 || o->preserve_fds < 0))
        return husk_err_set(err, 0, "--preserve-fds: expected a non-negative number, got \"%s\"", pf);
    return 0;
}

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    struct husk_err err = {0};
    struct husk_create_opts o = {0};
    if (cli_create_opts(g, a, s, &o, &err) < 0 || husk_container_create(&o, &err) < 0)
        return cli_fail(&err);
    return 0;
}

const struct command cmd_create = {"create", "[options] ID", "create a container (does not run its process yet)",
                                   opts, help, 1, 1, -1, run};
