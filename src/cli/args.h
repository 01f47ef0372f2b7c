/* Command-line parsing shared by every command: `--opt V`, `--opt=V`, `-o V`,
 * options before, between and after positional arguments, `--` ends options. */
#ifndef HUSK_CLI_ARGS_H
#define HUSK_CLI_ARGS_H

#include <stdbool.h>

#include "husk/err.h"

struct opt_spec {
    const char *name;   /* long name without "--" */
    char short_;        /* 0 if none */
    bool takes_value;
};

#define MAX_OPTS 24
#define MAX_POS 64

#define MAX_MULTI 128

struct parsed_args {
    const char *values[MAX_OPTS];   /* by spec index; "" for set flags, NULL if absent */
    int n_pos;
    const char *pos[MAX_POS];
    int n_multi;                    /* every value given, in order, with its option's index */
    struct { int opt; const char *value; } multi[MAX_MULTI];
};

/* Parses argv[0..argc) against specs (terminated by a zero entry). Once `opts_until`
 * positional arguments are seen (>= 0), the rest are positional: 0 stops at the first one
 * (global options before a command), 1 suits `exec ID CMD -flags`; -1 never stops. With
 * opts_until == 0 the unparsed rest is left for the caller (*consumed). */
int cli_parse(int argc, char **argv, const struct opt_spec *specs, int opts_until, struct parsed_args *out,
              int *consumed, struct husk_err *err);
/* Index of a spec by name. */
int cli_opt(const struct opt_spec *specs, const char *name);
const char *cli_value(const struct opt_spec *specs, const struct parsed_args *a, const char *name);
bool cli_flag(const struct opt_spec *specs, const struct parsed_args *a, const char *name);

#endif
