#include "cli.h"
#include "husk/container.h"
#include "husk/signals.h"

#include <signal.h>

static const struct opt_spec opts[] = {{"all", 'a', false}, {"help", 'h', false}, {0}};
static const char *const help[] = {"signal every process of the container", ""};

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    struct husk_err err = {0};
    int sig = SIGTERM;
    if (a->n_pos > 1 && (sig = husk_signal_parse(a->pos[1])) < 0) {
        husk_err_set(&err, 0, "kill: unknown signal \"%s\"", a->pos[1]);
        return cli_fail(&err);
    }
    if (husk_container_kill(g->root, a->pos[0], sig, cli_flag(s, a, "all"), &err) < 0)
        return cli_fail(&err);
    return 0;
}

const struct command cmd_kill = {"kill", "[--all] ID [SIGNAL]", "send a signal (default TERM) to a container", opts,
                                 help, 1, 2, -1, run};
