#include "cli.h"
#include "husk/container.h"

#include <stdlib.h>
#include <string.h>

static const struct opt_spec opts[] = {
    {"process", 'p', true}, {"tty", 't', false}, {"console-socket", 0, true}, {"detach", 'd', false},
    {"pid-file", 0, true}, {"cwd", 0, true}, {"env", 'e', true}, {"user", 'u', true},
    {"additional-gids", 'g', true}, {"cap", 'c', true}, {"no-new-privs", 0, false}, {"apparmor", 0, true},
    {"process-label", 0, true}, {"preserve-fds", 0, true}, {"cgroup", 0, true}, {"help", 'h', false}, {0}};
static const char *const help[] = {
    "process.json to run (- for stdin) instead of ARGS", "allocate a terminal (needs --console-socket)",
    "unix socket that receives the terminal's pty master", "return once the process runs",
    "write the process's pid here", "working directory in the container", "KEY=VALUE (repeatable)",
    "UID[:GID]", "comma-separated extra gids", "add a capability (repeatable)", "set no_new_privs",
    "AppArmor profile", "SELinux label", "pass N extra fds (3..3+N-1)",
    "[CONTROLLER[,CONTROLLER]:]PATH: run in this existing sub-cgroup of the container's (repeatable)", ""};

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
    int env_opt = cli_opt(s, "env"), cap_opt = cli_opt(s, "cap"), cg_opt = cli_opt(s, "cgroup");
    for (int i = 0; i < a->n_multi; i++) {
        if (a->multi[i].opt == cg_opt) {
            if (o.n_cgroups == (int)(sizeof o.cgroups / sizeof *o.cgroups)) {
                husk_err_set(&err, 0, "exec: at most %d --cgroup values", o.n_cgroups);
                return cli_fail(&err);
            }
            o.cgroups[o.n_cgroups++] = a->multi[i].value;
            continue;
        }
        int is_env = a->multi[i].opt == env_opt;
        if (!is_env && a->multi[i].opt != cap_opt)
            continue;
        int *n = is_env ? &o.n_env : &o.n_caps;
        if (*n == (int)(sizeof o.env / sizeof *o.env)) {
            husk_err_set(&err, 0, "exec: at most %d --%s values", *n, is_env ? "env" : "cap");
            return cli_fail(&err);
        }
        (is_env ? o.env : o.caps)[(*n)++] = a->multi[i].value;
    }
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
