/* Shared by the command files: global options and the command table. */
#ifndef HUSK_CLI_H
#define HUSK_CLI_H

#include "args.h"

struct globals {
    const char *root;
    bool systemd_cgroup;
    bool no_cgroups;    /* --cgroup-manager disabled */
};

struct command {
    const char *name;
    const char *usage;      /* "[options] ID" */
    const char *summary;
    const struct opt_spec *opts;
    const char *const *opt_help;   /* one line per option, same order */
    int min_pos, max_pos;
    int opts_until;     /* see cli_parse: -1 for options anywhere */
    int (*run)(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s);
};

/* Reports an error (text or JSON log) and returns the exit code 1. */
int cli_fail(const struct husk_err *err);
int cli_parse_int(const char *s, int *out);

extern const struct command cmd_spec, cmd_create, cmd_start, cmd_run, cmd_state, cmd_kill, cmd_delete,
    cmd_list, cmd_exec, cmd_features, cmd_pause,
    cmd_resume, cmd_ps, cmd_update, cmd_events;

#endif
