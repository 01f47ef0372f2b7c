#include "args.h"

#include <string.h>

int cli_opt(const struct opt_spec *specs, const char *name)
{
    for (int i = 0; specs[i].name; i++)
        if (strcmp(specs[i].name, name) == 0)
            return i;
    return -1;
}

const char *cli_value(const struct opt_spec *specs, const struct parsed_args *a, const char *name)
{
    int i = cli_opt(specs, name);
    return i < 0 ? NULL : a->values[i];
}

bool cli_flag(const struct opt_spec *specs, const struct parsed_args *a, const char *name)
{
    const char *v = cli_value(specs, a, name);
    return v && strcmp(v, "false") != 0;
}

static int find(const struct opt_spec *specs, const char *name, size_t len, char short_)
{
    for (int i = 0; specs[i].name; i++) {
        if (short_ ? specs[i].short_ == short_
                   : strlen(specs[i].name) == len && strncmp(specs[i].name, name, len) == 0)
            return i;
    }
    return -1;
}

int cli_parse(int argc, char **argv, const struct opt_spec *specs, int opts_until, struct parsed_args *out,
              int *consumed, struct husk_err *err)
{
    /* not multi[]: read only up to n_multi */
    memset(out->values, 0, sizeof out->values);
    out->n_multi = out->n_pos = 0;
    int i = 0;
    bool only_pos = false;
    for (; i < argc; i++) {
        char *arg = argv[i];
        if (opts_until > 0 && out->n_pos >= opts_until)
            only_pos = true;
        if (only_pos || arg[0] != '-' || arg[1] == '\0') {
            if (opts_until == 0)
                break;
            if (out->n_pos == MAX_POS)
                return husk_err_set(err, 0, "too many arguments");
            out->pos[out->n_pos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0 && !only_pos) {
            only_pos = true;
            continue;
        }
        int idx = -1;
        const char *inline_val = NULL;
        if (arg[1] != '-' && arg[2] == '\0') {
            idx = find(specs, NULL, 0, arg[1]);
            if (idx < 0)
                return husk_err_set(err, 0, "unknown option: %s", arg);
        } else {
            /* --name[=value]; like runc (urfave/cli), -name works too */
            const char *name = arg + (arg[1] == '-' ? 2 : 1);
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            idx = find(specs, name, len, 0);
            inline_val = eq ? eq + 1 : NULL;
            if (idx < 0 && arg[1] != '-') {
                /* -xVALUE for a short option that takes a value */
                idx = find(specs, NULL, 0, arg[1]);
                if (idx >= 0 && !specs[idx].takes_value)
                    idx = -1;
                inline_val = arg + 2;
            }
            if (idx < 0)
                return husk_err_set(err, 0, "unknown option: %.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
        }
        if (specs[idx].takes_value) {
            if (inline_val) {
                out->values[idx] = inline_val;
            } else {
                if (i + 1 >= argc)
                    return husk_err_set(err, 0, "option --%s needs a value", specs[idx].name);
                out->values[idx] = argv[++i];
            }
            if (out->n_multi == MAX_MULTI)
                return husk_err_set(err, 0, "too many values for repeated options (at most %d)", MAX_MULTI);
            out->multi[out->n_multi].opt = idx;
            out->multi[out->n_multi++].value = out->values[idx];
        } else {
            out->values[idx] = inline_val ? inline_val : "";
            if (inline_val && strcmp(inline_val, "true") && strcmp(inline_val, "false"))
                return husk_err_set(err, 0, "option --%s takes no value (got \"%s\")", specs[idx].name, inline_val);
        }
    }
    if (consumed)
        *consumed = i;
    return 0;
}
