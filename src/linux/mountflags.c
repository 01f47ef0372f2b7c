/* Mount option strings → mount(2) flags, propagation, recursive attributes and fs data. */
#include "husk/rootfs.h"

#include <stddef.h>
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

/* The mount(2) flags an option string can name (linux/mount.h). Everything else is
 * filesystem data, passed to the kernel as it is. Loading libmount for this table cost
 * every `create` four shared libraries (libmount, libblkid, libselinux, libpcre2: ~0.6 ms and
 * ~0.5 MiB); the unit tests check this table against libmount's MNT_LINUX_MAP instead. */
static const struct { const char *name; unsigned long flag; bool clears; } kernel_opts[] = {
    {"ro", MS_RDONLY, false},          {"rw", MS_RDONLY, true},
    {"nosuid", MS_NOSUID, false},      {"suid", MS_NOSUID, true},
    {"nodev", MS_NODEV, false},        {"dev", MS_NODEV, true},
    {"noexec", MS_NOEXEC, false},      {"exec", MS_NOEXEC, true},
    {"sync", MS_SYNCHRONOUS, false},   {"async", MS_SYNCHRONOUS, true},
    {"dirsync", MS_DIRSYNC, false},    {"remount", MS_REMOUNT, false},
    {"mand", MS_MANDLOCK, false},      {"nomand", MS_MANDLOCK, true},
    {"silent", MS_SILENT, false},      {"loud", MS_SILENT, true},
    {"noatime", MS_NOATIME, false},    {"atime", MS_NOATIME, true},
    {"nodiratime", MS_NODIRATIME, false}, {"diratime", MS_NODIRATIME, true},
    {"relatime", MS_RELATIME, false},  {"norelatime", MS_RELATIME, true},
    {"strictatime", MS_STRICTATIME, false}, {"nostrictatime", MS_STRICTATIME, true},
    {"lazytime", MS_LAZYTIME, false},  {"nolazytime", MS_LAZYTIME, true},
    {"iversion", MS_I_VERSION, false}, {"noiversion", MS_I_VERSION, true},
    {"nosymfollow", MS_NOSYMFOLLOW, false}, {"symfollow", MS_NOSYMFOLLOW, true},
};

unsigned long husk_mount_propagation_lookup(const char *name)
{
    for (size_t k = 0; k < sizeof prop_opts / sizeof *prop_opts; k++)
        if (strcmp(name, prop_opts[k].name) == 0)
            return prop_opts[k].prop | (prop_opts[k].rec ? MS_REC : 0);
    return 0;
}

bool husk_mount_flag_lookup(const char *name, unsigned long *flag, bool *clears)
{
    for (size_t k = 0; k < sizeof kernel_opts / sizeof *kernel_opts; k++)
        if (!strcmp(name, kernel_opts[k].name)) {
            *flag = kernel_opts[k].flag;
            *clears = kernel_opts[k].clears;
            return true;
        }
    return false;
}

size_t husk_mount_option_names(const char **out, size_t max)
{
    static const char *const own[] = {"bind", "rbind", "idmap", "ridmap", "tmpcopyup", "defaults"};
    size_t n = 0;
#define ADD(tbl)                                                        \
    for (size_t k = 0; k < sizeof tbl / sizeof *tbl && n < max; k++) \
        out[n++] = tbl[k].name;
    ADD(kernel_opts)
    ADD(prop_opts)
    ADD(rattrs)
#undef ADD
    for (size_t k = 0; k < sizeof own / sizeof *own && n < max; k++)
        out[n++] = own[k];
    return n;
}

int husk_mount_flags_parse(const struct husk_strv *options, struct husk_mount_flags *out, struct husk_err *err)
{
    /* data is a string: zeroing all 4 KiB of it put two fresh stack pages (copy-on-write
     * faults in the container's init) under every mount */
    memset(out, 0, offsetof(struct husk_mount_flags, data));
    out->data[0] = '\0';
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
        unsigned long flag;
        bool clears;
        if (husk_mount_flag_lookup(o, &flag, &clears)) {
            if (clears) {
                out->flags &= ~flag;
                out->clear |= flag;
            } else {
                out->flags |= flag;
                out->clear &= ~flag;
            }
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
