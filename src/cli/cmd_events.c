#include "cli.h"
#include "husk/container.h"

#include <stdio.h>
#include <string.h>

static const struct opt_spec opts[] = {{"stats", 0, false}, {"interval", 0, true}, {"help", 'h', false}, {0}};
static const char *const help[] = {"print the statistics once and exit",
                                   "seconds between statistics (default 5; e.g. 5 or 5s)", ""};

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    struct husk_err err = {0};
    int interval = 5;
    const char *iv = cli_value(s, a, "interval");
    if (iv) {
        char buf[32];
        snprintf(buf, sizeof buf, "%s", iv);
        size_t n = strlen(buf);
        if (n && buf[n - 1] == 's')
            buf[n - 1] = '\0';
        if (cli_parse_int(buf, &interval) < 0 || interval < 1) {
            husk_err_set(&err, 0, "events: --interval: expected seconds, got \"%s\"", iv);
            return cli_fail(&err);
        }
    }
    if (husk_container_events(g->root, a->pos[0], cli_flag(s, a, "stats"), interval, &err) < 0)
        return cli_fail(&err);
    return 0;
}

const struct command cmd_events = {"events", "[--stats] [--interval N] ID",
                                   "print container statistics and OOM events as JSON lines", opts, help, 1, 1, -1, run};
