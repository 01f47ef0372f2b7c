#include "cli.h"
#include "husk/container.h"

#include <stdio.h>
#include <stdlib.h>

static const struct opt_spec opts[] = {{"help", 'h', false}, {0}};
static const char *const help[] = {""};

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    (void)s;
    struct husk_err err = {0};
    char *doc = husk_container_state(g->root, a->pos[0], &err);
    if (!doc)
        return cli_fail(&err);
    fputs(doc, stdout);
    free(doc);
    return 0;
}

const struct command cmd_state = {"state", "ID", "print the state of a container as JSON", opts, help, 1, 1, -1, run};
