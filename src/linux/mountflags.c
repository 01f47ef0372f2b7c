/* Mount option strings → mount(2) flags, using libmount's table of Linux options. */
#include "husk/rootfs.h"

#include <libmount/libmount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

static const struct { const char *name; unsigned long prop; bool rec; } prop_opts[] = {
    {"private", MS_PRIVATE, false},       {"rprivate", MS_PRIVATE, true},
    {"shared", MS_SHARED, false},         {"rshared", MS_SHARED, true},
    {"slave", MS_SLAVE, false},           {"rslave", MS_SLAVE, true},
    {"unbindable", MS_UNBINDABLE, false}, {"runbindable", MS_UNBINDABLE, true},
};

/* Options runtimes interpret themselves, never passed to the kernel. */
static bool runtime_only(const char *o)
{
    return strcmp(o, "tmpcopyup") == 0 || strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0 ||
           strncmp(o, "x-", 2) == 0;
}

int husk_mount_flags_parse(const struct husk_strv *options, struct husk_mount_flags *out, struct husk_err *err)
{
    const struct libmnt_optmap *map = mnt_get_builtin_optmap(MNT_LINUX_MAP);
    memset(out, 0, sizeof *out);
    size_t dlen = 0;
    for (size_t i = 0; i < options->n; i++) {
        const char *o = options->v[i];
        bool done = false;
        if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
            out->bind = true;
            out->rec |= o[0] == 'r';
            continue;
        }
        for (size_t k = 0; k < sizeof prop_opts / sizeof *prop_opts; k++)
            if (strcmp(o, prop_opts[k].name) == 0) {
                out->propagation = prop_opts[k].prop | (prop_opts[k].rec ? MS_REC : 0);
                done = true;
            }
        if (done || runtime_only(o) || strcmp(o, "defaults") == 0)
            continue;
        /* libmount applies an option to a flag word; trying from all-zero and all-ones
         * tells "sets a flag", "clears a flag" and "unknown (filesystem data)" apart. */
        unsigned long from0 = 0, from1 = ~0UL;
        if (strchr(o, '=') == NULL) {
            mnt_optstr_get_flags(o, &from0, map);
            mnt_optstr_get_flags(o, &from1, map);
        }
        if (from0 != 0) {
            out->flags |= from0;
            out->clear &= ~from0;
            continue;
        }
        if (from1 != ~0UL) {
            unsigned long cleared = ~from1;
            out->flags &= ~cleared;
            out->clear |= cleared;
            continue;
        }
        size_t ol = strlen(o);
        if (dlen + ol + 2 > sizeof out->data)
            return husk_err_set(err, 0, "mount options too long");
        if (dlen)
            out->data[dlen++] = ',';
        memcpy(out->data + dlen, o, ol + 1);
        dlen += ol;
    }
    return 0;
}
