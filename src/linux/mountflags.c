/* Mount option strings → mount(2) flags, using libmount's table of Linux options. */
#include "husk/rootfs.h"

#include <dlfcn.h>
#include <libmount/libmount.h>
#include <stdio.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mount.h>

static const struct { const char *name; unsigned long prop; bool rec; } prop_opts[] = {
    {"private", MS_PRIVATE, false},       {"rprivate", MS_PRIVATE, true},
    {"shared", MS_SHARED, false},         {"rshared", MS_SHARED, true},
    {"slave", MS_SLAVE, false},           {"rslave", MS_SLAVE, true},
    {"unbindable", MS_UNBINDABLE, false}, {"runbindable", MS_UNBINDABLE, true},
};

/* Recursive mount attributes (mount_setattr with AT_RECURSIVE), runc's r* options. */
static const struct { const char *name; unsigned long long set, clr; } rattrs[] = {
    {"rro", MOUNT_ATTR_RDONLY, 0}, {"rrw", 0, MOUNT_ATTR_RDONLY},
    {"rnosuid", MOUNT_ATTR_NOSUID, 0}, {"rsuid", 0, MOUNT_ATTR_NOSUID},
    {"rnodev", MOUNT_ATTR_NODEV, 0}, {"rdev", 0, MOUNT_ATTR_NODEV},
    {"rnoexec", MOUNT_ATTR_NOEXEC, 0}, {"rexec", 0, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0}, {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0}, {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
    {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME}, {"rnorelatime", 0, MOUNT_ATTR_RELATIME},
    {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME}, {"ratime", 0, MOUNT_ATTR_NOATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME}, {"rnostrictatime", 0, MOUNT_ATTR_STRICTATIME},
};

/* Options runtimes interpret themselves, never passed to the kernel. */
static bool runtime_only(const char *o)
{
    return strncmp(o, "x-", 2) == 0;
}

/* libmount (and the libblkid, libselinux and libpcre2 it pulls in) is loaded only by the
 * commands that classify mount options: `state`, `kill`, `start` and `delete` never pay for
 * mapping four libraries. */
static const struct libmnt_optmap *(*get_map)(int);
static int (*get_flags)(const char *, unsigned long *, const struct libmnt_optmap *);

static int load_libmount(struct husk_err *err)
{
    if (get_flags)
        return 0;
    void *h = dlopen("libmount.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return husk_err_set(err, 0, "load libmount: %s", dlerror());
    get_map = (const struct libmnt_optmap *(*)(int))dlsym(h, "mnt_get_builtin_optmap");
    get_flags = (int (*)(const char *, unsigned long *, const struct libmnt_optmap *))dlsym(h, "mnt_optstr_get_flags");
    if (!get_map || !get_flags) {
        get_flags = NULL;
        return husk_err_set(err, 0, "load libmount: missing symbols");
    }
    return 0;
}

int husk_mount_flags_parse(const struct husk_strv *options, struct husk_mount_flags *out, struct husk_err *err)
{
    if (options->n && load_libmount(err) < 0)
        return -1;
    const struct libmnt_optmap *map = options->n ? get_map(MNT_LINUX_MAP) : NULL;
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
        if (!strcmp(o, "idmap") || !strcmp(o, "ridmap")) {
            out->idmap = true;
            out->ridmap |= o[0] == 'r';
            continue;
        }
        if (!strcmp(o, "tmpcopyup")) {
            out->tmpcopyup = true;
            continue;
        }
        for (size_t k = 0; k < sizeof rattrs / sizeof *rattrs; k++)
            if (!strcmp(o, rattrs[k].name)) {
                out->rattr_set = (out->rattr_set & ~rattrs[k].clr) | rattrs[k].set;
                out->rattr_clr = (out->rattr_clr & ~rattrs[k].set) | rattrs[k].clr;
                done = true;
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
            get_flags(o, &from0, map);
            get_flags(o, &from1, map);
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
