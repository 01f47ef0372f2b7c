#include "cli.h"
#include "husk/container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct opt_spec opts[] = {{"format", 'f', true}, {"quiet", 'q', false}, {"help", 'h', false}, {0}};
static const char *const help[] = {"table (default) or json", "print only the ids", ""};

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    struct husk_err err = {0};
    const char *f = cli_value(s, a, "format");
    if (f && strcmp(f, "json") && strcmp(f, "table")) {
        husk_err_set(&err, 0, "list: unknown format \"%s\" (use table or json)", f);
        return cli_fail(&err);
    }
    char *out = husk_container_list(g->root, f && !strcmp(f, "json"), cli_flag(s, a, "quiet"), &err);
    if (!out)
        return cli_fail(&err);
    fputs(out, stdout);
    free(out);
    return 0;
}

const struct command cmd_list = {"list", "[--format table|json] [-q]", "list containers", opts, help, 0, 0, -1, run};
