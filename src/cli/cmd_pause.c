#include "cli.h"
#include "husk/container.h"

static const struct opt_spec opts[] = {{"help", 'h', false}, {0}};
static const char *const help[] = {""};

static int run_pause(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    (void)s;
    struct husk_err err = {0};
    return husk_container_pause(g->root, a->pos[0], true, &err) < 0 ? cli_fail(&err) : 0;
}

static int run_resume(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    (void)s;
    struct husk_err err = {0};
    return husk_container_pause(g->root, a->pos[0], false, &err) < 0 ? cli_fail(&err) : 0;
}

const struct command cmd_pause = {"pause", "ID", "freeze every process of a container", opts, help, 1, 1, -1,
                                  run_pause};
const struct command cmd_resume = {"resume", "ID", "thaw a paused container", opts, help, 1, 1, -1, run_resume};
