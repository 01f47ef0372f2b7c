#include "cli.h"
#include "husk/container.h"
#include "husk/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct opt_spec opts[] = {
    {"resources", 'r', true}, {"memory", 0, true}, {"memory-swap", 0, true}, {"memory-reservation", 0, true},
    {"cpu-quota", 0, true}, {"cpu-period", 0, true}, {"cpu-share", 0, true}, {"cpuset-cpus", 0, true},
    {"cpuset-mems", 0, true}, {"pids-limit", 0, true}, {"blkio-weight", 0, true}, {"help", 'h', false}, {0}};
static const char *const help[] = {
    "linux.resources JSON from FILE (- for stdin)", "memory limit in bytes", "memory+swap limit in bytes",
    "memory soft limit in bytes", "CPU CFS quota (microseconds)", "CPU CFS period (microseconds)",
    "CPU shares", "CPUs allowed (e.g. 0-3)", "memory nodes allowed", "maximum number of pids",
    "block IO weight (10-1000)", ""};

/* Flags become a resources object: {"memory":{"limit":N},"cpu":{...},...}. */
static int flags_json(const struct parsed_args *a, const struct opt_spec *s, char *out, size_t n, struct husk_err *err)
{
    static const struct { const char *flag, *group, *key; bool str; } map[] = {
        {"memory", "memory", "limit", false}, {"memory-swap", "memory", "swap", false},
        {"memory-reservation", "memory", "reservation", false}, {"cpu-quota", "cpu", "quota", false},
        {"cpu-period", "cpu", "period", false}, {"cpu-share", "cpu", "shares", false},
        {"cpuset-cpus", "cpu", "cpus", true}, {"cpuset-mems", "cpu", "mems", true},
        {"pids-limit", "pids", "limit", false}, {"blkio-weight", "blockIO", "weight", false},
    };
    static const char *const groups[] = {"memory", "cpu", "pids", "blockIO"};
    size_t off = (size_t)snprintf(out, n, "{");
    bool first_group = true;
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
        bool first_key = true;
        for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
            const char *v = cli_value(s, a, map[i].flag);
            if (!v || strcmp(map[i].group, groups[g]))
                continue;
            if (!map[i].str) {
                char *end;
                (void)strtoll(v, &end, 10);
                if (!*v || *end)
                    return husk_err_set(err, 0, "update: --%s: expected a number, got \"%s\"", map[i].flag, v);
            } else if (strpbrk(v, "\"\\")) {
                return husk_err_set(err, 0, "update: --%s: invalid value \"%s\"", map[i].flag, v);
            }
            if (first_key)
                off += (size_t)snprintf(out + off, n - off, "%s\"%s\":{", first_group ? "" : ",", groups[g]);
            off += (size_t)snprintf(out + off, n - off, "%s\"%s\":%s%s%s", first_key ? "" : ",", map[i].key,
                                    map[i].str ? "\"" : "", v, map[i].str ? "\"" : "");
            first_key = first_group = false;
        }
        if (!first_key)
            off += (size_t)snprintf(out + off, n - off, "}");
        if (off >= n)
            return husk_err_set(err, 0, "update: too many options");
    }
    snprintf(out + off, n - off, "}");
    return 0;
}

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    struct husk_err err = {0};
    const char *file = cli_value(s, a, "resources");
    char *text = NULL;
    if (file) {
        size_t len;
        if (!(text = husk_read_all(file, &len, &err)))
            return cli_fail(&err);
        /* the text travels on as a C string: a NUL byte would cut it short unseen */
        const char *nul = memchr(text, '\0', len);
        if (nul) {
            husk_err_set(&err, 0, "resources: invalid JSON: a NUL byte at offset %zu", (size_t)(nul - text));
            free(text);
            return cli_fail(&err);
        }
    } else {
        char buf[4096];
        if (flags_json(a, s, buf, sizeof buf, &err) < 0)
            return cli_fail(&err);
        text = strdup(buf);
    }
    int rc = husk_container_update(g->root, a->pos[0], text, &err);
    free(text);
    return rc < 0 ? cli_fail(&err) : 0;
}

const struct command cmd_update = {"update", "[--resources FILE | flags] ID", "change a running container's resources",
                                   opts, help, 1, 1, -1, run};
