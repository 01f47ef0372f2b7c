#include "cli.h"
#include "husk/container.h"

#include <stdlib.h>
#include <string.h>

static const struct opt_spec opts[] = {
    {"process", 'p', true}, {"tty", 't', false}, {"console-socket", 0, true}, {"detach", 'd', false},
    {"pid-file", 0, true}, {"cwd", 0, true}, {"env", 'e', true}, {"user", 'u', true},
    {"additional-gids", 'g', true}, {"cap", 'c', true}, {"no-new-privs", 0, false}, {"apparmor", 0, true},
    {"process-label", 0, true}, {"preserve-fds", 0, true}, {"help", 'h', false}, {0}};
static const char *const help[] = {
    "process.json to run (- for stdin) instead of ARGS", "allocate a terminal (needs --console-socket)",
    "unix socket that receives the terminal's pty master", "return once the process runs",
    "write the process's pid here", "working directory in the container", "KEY=VALUE (repeatable)",
    "UID[:GID]", "comma-separated extra gids", "add a capability (repeatable)", "set no_new_privs",
    "AppArmor profile", "SELinux label", "pass N extra fds (3..3+N-1)", ""};

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    struct husk_err err = {0};
    struct husk_exec_opts o = {.root = g->root, .id = a->pos[0]};
    o.process_file = cli_value(s, a, "process");
    o.tty = cli_flag(s, a, "tty");
    o.console_socket = cli_value(s, a, "console-socket");
    o.detach = cli_flag(s, a, "detach");
    o.pid_file = cli_value(s, a, "pid-file");
    o.cwd = cli_value(s, a, "cwd");
    o.user = cli_value(s, a, "user");
    o.additional_gids = cli_value(s, a, "additional-gids");
    o.no_new_privs = cli_flag(s, a, "no-new-privs");
    o.apparmor = cli_value(s, a, "apparmor");
    o.label = cli_value(s, a, "process-label");
    for (int i = 0; i < a->n_multi[cli_opt(s, "env")] && o.n_env < 64; i++)
        o.env[o.n_env++] = a->multi[cli_opt(s, "env")][i];
    for (int i = 0; i < a->n_multi[cli_opt(s, "cap")] && o.n_caps < 64; i++)
        o.caps[o.n_caps++] = a->multi[cli_opt(s, "cap")][i];
    const char *pf = cli_value(s, a, "preserve-fds");
    if (pf && (cli_parse_int(pf, &o.preserve_fds) < 0 || o.preserve_fds < 0)) {
        husk_err_set(&err, 0, "exec: --preserve-fds: expected a non-negative number, got \"%s\"", pf);
        return cli_fail(&err);
    }
    o.args = (char **)&a->pos[1];
    o.n_args = a->n_pos - 1;
    int rc = husk_container_exec(&o, &err);
    if (rc < 0)
        return cli_fail(&err);
    return rc;
}

const struct command cmd_exec = {"exec", "[options] ID [COMMAND [ARG...]]", "run a process in a running container",
                                 opts, help, 1, MAX_POS, 1, run};
