#include "cli.h"
#include "husk/container.h"

static const struct opt_spec opts[] = {{"help", 'h', false}, {0}};
static const char *const help[] = {""};

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    (void)s;
    struct husk_err err = {0};
    if (husk_container_start(g->root, a->pos[0], &err) < 0)
        return cli_fail(&err);
    return 0;
}

const struct command cmd_start = {"start", "ID", "run the user process of a created container", opts, help, 1, 1, -1, run};
