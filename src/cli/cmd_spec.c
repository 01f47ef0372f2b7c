#include "cli.h"
#include "husk/config.h"

#include <stdio.h>

static const struct opt_spec opts[] = {{"rootless", 0, false}, {"bundle", 'b', true}, {"help", 'h', false}, {0}};
static const char *const help[] = {"a config for running without root (user namespace)",
                                   "write config.json into this directory (default: current)", ""};

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    (void)g;
    struct husk_err err;
    char path[4096];
    const char *b = cli_value(s, a, "bundle");
    snprintf(path, sizeof path, "%s/config.json", b ? b : ".");
    if (husk_spec_write(path, cli_flag(s, a, "rootless"), &err) < 0)
        return cli_fail(&err);
    return 0;
}

const struct command cmd_spec = {"spec", "[--rootless] [--bundle DIR]", "write a default config.json", opts, help,
                                 0, 0, -1, run};
