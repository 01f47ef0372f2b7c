#include "cli.h"
#include "husk/container.h"

static const struct opt_spec opts[] = {{"force", 'f', false}, {"help", 'h', false}, {0}};
static const char *const help[] = {"kill a running container first; a missing one is not an error", ""};

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    struct husk_err err = {0};
    if (husk_container_delete(g->root, a->pos[0], cli_flag(s, a, "force"), &err) < 0)
        return cli_fail(&err);
    return 0;
}

const struct command cmd_delete = {"delete", "[--force] ID", "delete a container and everything husk made for it",
                                   opts, help, 1, 1, -1, run};
