/* husk [global options] COMMAND [options] ARGS */
#include "cli.h"
#include "husk/fdpass.h"
#include "husk/log.h"
#include "husk/rootless.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct command *const commands[] = {
    &cmd_create, &cmd_start, &cmd_run, &cmd_exec, &cmd_state, &cmd_kill, &cmd_delete, &cmd_list, &cmd_ps, &cmd_pause, &cmd_resume, &cmd_update, &cmd_events, &cmd_spec, &cmd_features,
};

static const struct opt_spec global_opts[] = {
    {"root", 0, true}, {"log", 0, true}, {"log-format", 0, true}, {"debug", 0, false},
    {"systemd-cgroup", 0, false}, {"version", 'v', false}, {"help", 'h', false},
    {"criu", 0, true}, {"rootless", 0, true}, {"cgroup-manager", 0, true}, {NULL, 0, false},
};

int cli_fail(const struct husk_err *err)
{
    husk_error("%s", err->msg);
    return 1;
}

int cli_parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "husk %s — an OCI container runtime\n\n"
            "Usage: husk [global options] COMMAND [options] ARGS\n\nCommands:\n",
            HUSK_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nGlobal options:\n"
               "  --root DIR            state directory (default /run/husk; rootless:\n"
               "                        $XDG_RUNTIME_DIR/husk)\n"
               "  --log FILE            write logs and errors to FILE\n"
               "  --log-format FORMAT   text (default) or json\n"
               "  --debug               log debug messages\n"
               "  --systemd-cgroup      the cgroup is a systemd scope (cgroupsPath slice:prefix:name)\n"
               "  --cgroup-manager M    cgroupfs (default), systemd (as --systemd-cgroup) or disabled\n"
               "                        (no cgroups: podman's --cgroups=disabled, as crun's option)\n"
               "  -v, --version         print the version\n"
               "  -h, --help            this help\n\n"
               "Run 'husk COMMAND --help' for a command's options.\n");
}

static void command_help(const struct command *c)
{
    printf("Usage: husk %s %s\n\n%s\n", c->name, c->usage, c->summary);
    if (c->opts[0].name) {
        printf("\nOptions:\n");
        for (int i = 0; c->opts[i].name; i++) {
            if (strcmp(c->opts[i].name, "help") == 0)
                continue;
            char left[64], shortname[8] = "    ";
            if (c->opts[i].short_)
                snprintf(shortname, sizeof shortname, "-%c, ", c->opts[i].short_);
            snprintf(left, sizeof left, "%s--%s%s", shortname, c->opts[i].name, c->opts[i].takes_value ? " VALUE" : "");
            printf("  %-30s %s\n", left, c->opt_help[i]);
        }
    }
    printf("  %-30s %s\n", "-h, --help", "show this help");
}

int main(int argc, char **argv)
{
    /* before anything is opened, the log file included (runtime.md: fds 3..3+N-1 are the
     * caller's; CVE-2024-21626) */
    husk_fds_note_inherited();
    struct husk_err err = {0};
    struct parsed_args ga;
    int used = 0;
    if (cli_parse(argc - 1, argv + 1, global_opts, 0, &ga, &used, &err) < 0) {
        fprintf(stderr, "husk: %s\n", err.msg);
        return 1;
    }
    const char *fmt = cli_value(global_opts, &ga, "log-format");
    enum husk_log_format lf = HUSK_LOG_TEXT;
    if (fmt && strcmp(fmt, "json") == 0)
        lf = HUSK_LOG_JSON;
    else if (fmt && strcmp(fmt, "text") != 0) {
        fprintf(stderr, "husk: unknown log format \"%s\" (use text or json)\n", fmt);
        return 1;
    }
    const char *logfile = cli_value(global_opts, &ga, "log");
    if (husk_log_init(logfile, lf, cli_flag(global_opts, &ga, "debug")) < 0) {
        fprintf(stderr, "husk: open log file `%s`: %s\n", logfile, strerror(errno));
        return 1;
    }
    if (cli_flag(global_opts, &ga, "version")) {
        printf("husk version %s\nspec: 1.3.0\n", HUSK_VERSION);
        return 0;
    }
    int rest = argc - 1 - used;
    char **rargv = argv + 1 + used;
    if (cli_flag(global_opts, &ga, "help") || rest == 0) {
        usage(rest == 0 && !cli_flag(global_opts, &ga, "help") ? stderr : stdout);
        return rest == 0 && !cli_flag(global_opts, &ga, "help") ? 1 : 0;
    }
    const struct command *cmd = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(commands[i]->name, rargv[0]) == 0)
            cmd = commands[i];
    if (!cmd) {
        husk_err_set(&err, 0, "unknown command \"%s\" (see husk --help)", rargv[0]);
        return cli_fail(&err);
    }
    struct parsed_args a;
    if (cli_parse(rest - 1, rargv + 1, cmd->opts, cmd->opts_until, &a, NULL, &err) < 0) {
        husk_err_wrap(&err, "%s", cmd->name);
        return cli_fail(&err);
    }
    if (cli_flag(cmd->opts, &a, "help")) {
        command_help(cmd);
        return 0;
    }
    if (a.n_pos < cmd->min_pos || a.n_pos > cmd->max_pos) {
        husk_err_set(&err, 0, "%s: expected %s (see husk %s --help)", cmd->name, cmd->usage, cmd->name);
        return cli_fail(&err);
    }
    /* spec and features need no state directory: a rootless user without XDG_RUNTIME_DIR
     * may still run them */
    char root[PATH_MAX];
    const char *given = cli_value(global_opts, &ga, "root");
    if (!given && cmd != &cmd_spec && cmd != &cmd_features && husk_default_root(root, sizeof root, &err) < 0)
        return cli_fail(&err);
    /* crun's option, which podman passes to a runtime it may run without cgroups
     * (containers.conf runtime_supports_nocgroup) */
    const char *cgm = cli_value(global_opts, &ga, "cgroup-manager");
    if (cgm && strcmp(cgm, "cgroupfs") && strcmp(cgm, "systemd") && strcmp(cgm, "disabled")) {
        husk_err_set(&err, 0, "--cgroup-manager: \"%s\" is not cgroupfs, systemd or disabled", cgm);
        return cli_fail(&err);
    }
    struct globals g = {
        .root = given ? given : root,
        .systemd_cgroup = cli_flag(global_opts, &ga, "systemd-cgroup") || (cgm && !strcmp(cgm, "systemd")),
        .no_cgroups = cgm && !strcmp(cgm, "disabled"),
    };
    return cmd->run(&g, &a, cmd->opts);
}
