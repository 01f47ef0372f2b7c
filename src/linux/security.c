/* rlimits, user/groups, capabilities, LSM labels. */
#include "husk/security.h"
#include "husk/log.h"
#include "husk/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int husk_cap_from_name(const char *name)
{
    cap_value_t v;
    if (strncasecmp(name, "CAP_", 4) != 0)
        return -1;
    if (cap_from_name(name, &v) < 0)
        return -1;
    return v;
}

int husk_caps_check(const struct husk_caps *caps, struct husk_err *err)
{
    const struct husk_strv *sets[] = {&caps->bounding, &caps->effective, &caps->inheritable,
                                      &caps->permitted, &caps->ambient};
    static const char *const names[] = {"bounding", "effective", "inheritable", "permitted", "ambient"};
    unsigned long long asked = 0;   /* one look-up per capability, not one per set naming it */
    for (int s = 0; s < 5; s++)
        for (size_t i = 0; i < sets[s]->n; i++) {
            int c = husk_cap_from_name(sets[s]->v[i]);
            if (c < 0)
                return husk_err_set(err, 0, "config.json: .process.capabilities.%s[%zu]: unknown capability \"%s\"",
                                    names[s], i, sets[s]->v[i]);
            /* A capability husk itself is denied cannot be granted: say so up front. */
            if (s == 0 || c > CAP_LAST_CAP || c >= 64 || (asked >> c & 1))
                continue;
            asked |= 1ull << c;
            if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0)
                return husk_err_set(err, 0, "config.json: .process.capabilities.%s[%zu]: %s is not in husk's own "
                                            "bounding set (this host withholds it), so it cannot be granted",
                                    names[s], i, sets[s]->v[i]);
        }
    return 0;
}

int husk_rlimits_apply(const struct husk_process *p, struct husk_err *err)
{
    for (size_t i = 0; i < p->n_rlimits; i++) {
        const struct husk_rlimit *r = &p->rlimits[i];
        struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};
        if (setrlimit(r->resource, &rl) == 0)
            continue;
        int e = errno;
        struct rlimit cur;
        getrlimit(r->resource, &cur);
        if (e == EPERM && r->hard > cur.rlim_max)
            return husk_err_set(err, 0,
                                "set %s to soft %llu, hard %llu: raising the hard limit above %llu needs "
                                "CAP_SYS_RESOURCE, which husk does not have: Operation not permitted",
                                r->type, (unsigned long long)r->soft, (unsigned long long)r->hard,
                                (unsigned long long)cur.rlim_max);
        return husk_err_set(err, e, "set %s to soft %llu, hard %llu", r->type, (unsigned long long)r->soft,
                            (unsigned long long)r->hard);
    }
    return 0;
}

int husk_user_apply(const struct husk_process *p, bool setgroups_denied, struct husk_err *err)
{
    /* Only a change from uid 0 to non-zero uids clears the capabilities; keeping them for
     * uid 0 would be two syscalls for nothing (and execve resets the flag anyway). */
    bool keep = p->uid != 0;
    if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return husk_err_set(err, errno, "keep capabilities across setuid");
    /* Raw calls: the init is single-threaded, and libc's set*id broadcast every change to
     * all threads (musl blocks every signal around each one). */
    if (!setgroups_denied) {
        if (syscall(SYS_setgroups, p->n_additional_gids, p->additional_gids) < 0)
            return husk_err_set(err, errno, "setgroups");
    } else if (p->n_additional_gids) {
        return husk_err_set(err, 0, "cannot set additional gids: setgroups is denied in this user namespace");
    }
    if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
        return husk_err_set(err, errno, "setgid %u", (unsigned)p->gid);
    if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
        return husk_err_set(err, errno, "setuid %u", (unsigned)p->uid);
    if (keep && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return husk_err_set(err, errno, "reset keep-capabilities");
    return 0;
}

static bool in(const struct husk_strv *v, int cap)
{
    for (size_t i = 0; i < v->n; i++)
        if (husk_cap_from_name(v->v[i]) == cap)
            return true;
    return false;
}

int husk_caps_drop_bounding(const struct husk_caps *caps, struct husk_err *err)
{
    int last = (int)cap_max_bits() - 1;
    for (int c = 0; c <= last; c++)
        if (!in(&caps->bounding, c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            return husk_err_set(err, errno, "drop %s from the bounding set", cap_to_name(c));
    return 0;
}

int husk_caps_apply(const struct husk_caps *caps, struct husk_err *err)
{
    int last = (int)cap_max_bits() - 1;
    /* capset(2) itself, version 3 (two 32-bit words per set): libcap's cap_set_proc asks
     * the kernel for its version with a capget first, every time */
    struct { uint32_t version; int pid; } hdr = {0x20080522, 0};   /* _LINUX_CAPABILITY_VERSION_3 */
    struct { uint32_t effective, permitted, inheritable; } data[2] = {{0, 0, 0}, {0, 0, 0}};
    const struct husk_strv *sets[] = {&caps->effective, &caps->permitted, &caps->inheritable};
    for (size_t s = 0; s < 3; s++)
        for (size_t i = 0; i < sets[s]->n; i++) {
            int v = husk_cap_from_name(sets[s]->v[i]);
            if (v > last) {
                husk_warn("capability %s is unknown to the running kernel: skipped", sets[s]->v[i]);
                continue;
            }
            if (v < 0)
                continue;   /* refused by husk_caps_check before */
            uint32_t bit = 1u << (v % 32);
            uint32_t *w = s == 0 ? &data[v / 32].effective : s == 1 ? &data[v / 32].permitted
                                                                     : &data[v / 32].inheritable;
            *w |= bit;
        }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return husk_err_set(err, errno, "set capabilities");
    for (size_t i = 0; i < caps->ambient.n; i++) {
        int v = husk_cap_from_name(caps->ambient.v[i]);
        if (v > last)
            continue;
        /* Ambient needs the cap in permitted and inheritable; runc ignores failures too. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0, 0) < 0)
            husk_debug("raise ambient %s: %s", caps->ambient.v[i], strerror(errno));
    }
    return 0;
}

int husk_caps_carry(const struct husk_caps *caps, uint64_t *inheritable, uint64_t *extra)
{
    *extra = 0;
    struct { uint32_t version; int pid; } hdr = {0x20080522, 0};   /* _LINUX_CAPABILITY_VERSION_3 */
    struct { uint32_t effective, permitted, inheritable; } d[2];
    if (syscall(SYS_capget, &hdr, d) < 0)
        return 0;
    uint64_t eff = d[0].effective | (uint64_t)d[1].effective << 32;
    uint64_t inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
    uint64_t amb = 0;
    for (size_t i = 0; i < caps->ambient.n; i++) {
        int v = husk_cap_from_name(caps->ambient.v[i]);
        if (v >= 0 && v < 64 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, v, 0, 0) == 1)
            amb |= 1ull << v;
    }
    uint64_t carry = eff & ~amb;
    if (!carry)
        return 0;
    /* Ambient needs each in inheritable too. Outside the bounding set that is refused: then
     * none are carried, as before (the program's execve is checked without them). */
    d[0].inheritable |= (uint32_t)carry;
    d[1].inheritable |= (uint32_t)(carry >> 32);
    if (syscall(SYS_capset, &hdr, d) < 0) {
        husk_debug("carry capabilities to the program's execve: %s", strerror(errno));
        return 0;
    }
    for (int v = 0; v < 64; v++)
        if (carry >> v & 1)
            (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0, 0);
    *inheritable = inh;
    *extra = carry;
    return 0;
}

static int write_attr(const char *attr, const char *value, const char *what, struct husk_err *err)
{
    char rel[64];
    snprintf(rel, sizeof rel, "attr/%s", attr);
    int fd = husk_procfs_open(HUSK_PROC_THREAD_SELF, rel, O_WRONLY, err);
    if (fd < 0)
        return husk_err_wrap(err, "set %s \"%s\"", what, value);
    ssize_t n = write(fd, value, strlen(value));
    int e = errno;
    close(fd);
    if (n < 0)
        return husk_err_set(err, e, "set %s \"%s\"", what, value);
    return 0;
}

int husk_lsm_apply(const struct husk_process *p, struct husk_err *err)
{
    if (p->apparmor_profile && *p->apparmor_profile) {
        /* Asked of the kernel through /proc, not the filesystem: this runs after pivot_root,
         * where the host's securityfs is not mounted (docker-default failed in every Docker
         * container on AppArmor hosts). attr/apparmor/ is there when AppArmor is built in
         * (5.1+); a write fails with EINVAL when it is not the active LSM. */
        char v[1024];
        snprintf(v, sizeof v, "exec %s", p->apparmor_profile);
        struct husk_err e = {0};
        int fd = husk_procfs_open(HUSK_PROC_THREAD_SELF, "attr/apparmor/exec", O_WRONLY, &e);
        if (fd < 0 && e.code != ENOENT) {
            *err = e;
            return husk_err_wrap(err, "set apparmor profile \"%s\"", p->apparmor_profile);
        }
        ssize_t n = fd < 0 ? -1 : write(fd, v, strlen(v));
        int code = fd < 0 ? ENOENT : errno;
        if (fd >= 0)
            close(fd);
        if (n < 0 && (fd < 0 || code == EINVAL))
            return husk_err_set(err, 0, "apparmor profile \"%s\" requested but AppArmor is not enabled on this host",
                                p->apparmor_profile);
        if (n < 0)
            return husk_err_set(err, code, "set apparmor profile \"%s\"%s", p->apparmor_profile,
                                code == ENOENT ? " (not loaded?)" : "");
    }
    if (p->selinux_label && *p->selinux_label) {
        if (access("/sys/fs/selinux", F_OK) < 0)
            return husk_err_set(err, 0, "selinux label \"%s\" requested but SELinux is not enabled on this host",
                                p->selinux_label);
        if (write_attr("exec", p->selinux_label, "selinux label", err) < 0)
            return -1;
    }
    return 0;
}
