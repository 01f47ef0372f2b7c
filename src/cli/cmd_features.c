#include "cli.h"
#include "husk/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const struct opt_spec opts[] = {{"help", 'h', false}, {0}};
static const char *const help[] = {""};

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    (void)g, (void)a, (void)s;
    char *doc = husk_features_json();
    if (!doc) {
        struct husk_err err;
        husk_err_set(&err, ENOMEM, "features");
        return cli_fail(&err);
    }
    fputs(doc, stdout);
    free(doc);
    return 0;
}

const struct command cmd_features = {"features", "", "print the features this build of husk recognizes (JSON)", opts,
                                     help, 0, 0, -1, run};
