/* Semantic checks of a parsed config: the MUSTs of config.md and config-linux.md
 * that a type check cannot see. */
#include "husk/config.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct { const char *name, *proc; int type; } ns_table[] = {
    {"pid", "pid", CLONE_NEWPID},       {"network", "net", CLONE_NEWNET},
    {"mount", "mnt", CLONE_NEWNS},      {"ipc", "ipc", CLONE_NEWIPC},
    {"uts", "uts", CLONE_NEWUTS},       {"user", "user", CLONE_NEWUSER},
    {"cgroup", "cgroup", CLONE_NEWCGROUP}, {"time", "time", CLONE_NEWTIME},
};

int husk_ns_type_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof ns_table / sizeof *ns_table; i++)
        if (strcmp(ns_table[i].name, name) == 0)
            return ns_table[i].type;
    return -1;
}

const char *husk_ns_name(int type)
{
    for (size_t i = 0; i < sizeof ns_table / sizeof *ns_table; i++)
        if (ns_table[i].type == type)
            return ns_table[i].name;
    return "?";
}

const char *husk_ns_proc_name(int type)
{
    for (size_t i = 0; i < sizeof ns_table / sizeof *ns_table; i++)
        if (ns_table[i].type == type)
            return ns_table[i].proc;
    return "?";
}

const struct husk_namespace *husk_config_namespace(const struct husk_config *c, int type)
{
    for (size_t i = 0; i < c->linux_.n_namespaces; i++)
        if (c->linux_.namespaces[i].type == type)
            return &c->linux_.namespaces[i];
    return NULL;
}

/* config-linux.md "Sysctl": only keys of namespaces the container owns may be set, or
 * the write would change the host. Returns the namespace type needed, 0 if none fits. */
static int sysctl_namespace(const char *key)
{
    static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    for (size_t i = 0; i < sizeof ipc / sizeof *ipc; i++)
        if (!strcmp(key, ipc[i]))
            return CLONE_NEWIPC;
    if (!strncmp(key, "fs.mqueue.", 10))
        return CLONE_NEWIPC;
    if (!strncmp(key, "net.", 4))
        return CLONE_NEWNET;
    if (!strcmp(key, "kernel.hostname") || !strcmp(key, "kernel.domainname"))
        return CLONE_NEWUTS;
    return 0;
}

static bool has_dotdot(const char *p)
{
    for (const char *s = p; (s = strstr(s, "..")); s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
            return true;
    return false;
}

static int bad(struct husk_err *e, const char *path, const char *msg)
{
    return husk_err_set(e, 0, "config.json: %s: %s", path, msg);
}

/* config.md "Process". */
static int validate_process(const struct husk_process *pr, struct husk_err *err)
{
    char p[128];
    if (pr->args.n == 0)
        return bad(err, ".process.args", "must contain at least one entry (the program to run)");
    if (!pr->cwd || pr->cwd[0] != '/')
        return bad(err, ".process.cwd", pr->cwd ? "must be an absolute path" : "required property is missing");
    for (size_t i = 0; i < pr->n_rlimits; i++) {
        snprintf(p, sizeof p, ".process.rlimits[%zu]", i);
        if (pr->rlimits[i].soft > pr->rlimits[i].hard)
            return bad(err, p, "soft limit is greater than the hard limit");
        for (size_t j = 0; j < i; j++)
            if (pr->rlimits[j].resource == pr->rlimits[i].resource)
                return husk_err_set(err, 0, "config.json: %s.type: duplicate resource limit \"%s\"", p,
                                    pr->rlimits[i].type);
    }
    if (pr->umask.set && pr->umask.v > 0777)
        return bad(err, ".process.user.umask", "must be between 0 and 0777");
    if (pr->oom_score_adj.set && (pr->oom_score_adj.v < -1000 || pr->oom_score_adj.v > 1000))
        return bad(err, ".process.oomScoreAdj", "must be between -1000 and 1000");
    return 0;
}

/* config.md "Mounts" and "POSIX-platform Hooks": absolute paths only. */
static int validate_mounts_hooks(const struct husk_config *c, struct husk_err *err)
{
    char p[128];
    for (size_t i = 0; i < c->n_mounts; i++) {
        if (c->mounts[i].destination[0] != '/') {
            snprintf(p, sizeof p, ".mounts[%zu].destination", i);
            return husk_err_set(err, 0, "config.json: %s: must be an absolute path, got \"%s\"", p,
                                c->mounts[i].destination);
        }
    }
    for (int k = 0; k < 6; k++)
        for (size_t i = 0; i < c->hooks[k].n; i++)
            if (c->hooks[k].v[i].path[0] != '/') {
                snprintf(p, sizeof p, ".hooks.%s[%zu].path", husk_hook_names[k], i);
                return bad(err, p, "must be an absolute path");
            }
    return 0;
}

/* config-linux.md "Namespaces", "User namespace mappings", "Offset for Time Namespace", and
 * the uts namespace that config.md's hostname and domainname need. */
static int validate_namespaces(const struct husk_config *c, struct husk_err *err)
{
    const struct husk_linux *l = &c->linux_;
    char p[128];
    for (size_t i = 0; i < l->n_namespaces; i++)
        for (size_t j = 0; j < i; j++)
            if (l->namespaces[i].type == l->namespaces[j].type) {
                snprintf(p, sizeof p, ".linux.namespaces[%zu]", i);
                return husk_err_set(err, 0, "config.json: %s: duplicate namespace \"%s\"", p,
                                    husk_ns_name(l->namespaces[i].type));
            }
    if (c->hostname && *c->hostname && !husk_config_namespace(c, CLONE_NEWUTS))
        return bad(err, ".hostname", "setting the hostname needs a new uts namespace");
    if (c->domainname && *c->domainname && !husk_config_namespace(c, CLONE_NEWUTS))
        return bad(err, ".domainname", "setting the domainname needs a new uts namespace");
    const struct husk_namespace *user = husk_config_namespace(c, CLONE_NEWUSER);
    if ((l->uid_mappings.n || l->gid_mappings.n) && !user)
        return bad(err, ".linux.uidMappings", "id mappings need a user namespace");
    if (user && !user->path && (!l->uid_mappings.n || !l->gid_mappings.n))
        return bad(err, l->uid_mappings.n ? ".linux.gidMappings" : ".linux.uidMappings",
                   "a new user namespace needs uid and gid mappings");
    const struct husk_namespace *tns = husk_config_namespace(c, CLONE_NEWTIME);
    if (l->n_time_offsets && (!tns || tns->path))
        return bad(err, ".linux.timeOffsets", "time offsets need a new time namespace");
    return 0;
}

/* config-linux.md "Devices" and "Sysctl". */
static int validate_devices_sysctl(const struct husk_config *c, struct husk_err *err)
{
    const struct husk_linux *l = &c->linux_;
    char p[128];
    for (size_t i = 0; i < l->n_devices; i++)
        if (strncmp(l->devices[i].path, "/dev/", 5) != 0 || has_dotdot(l->devices[i].path)) {
            snprintf(p, sizeof p, ".linux.devices[%zu].path", i);
            return husk_err_set(err, 0, "config.json: %s: must be a path under /dev without \"..\", got \"%s\"", p,
                                l->devices[i].path);
        }
    for (size_t i = 0; i < l->n_sysctl; i++) {
        const char *k = l->sysctl[i].key;
        int ns = sysctl_namespace(k);
        if (has_dotdot(k) || strchr(k, '/'))
            return husk_err_set(err, 0, "config.json: .linux.sysctl: invalid key \"%s\"", k);
        if (!ns)
            return husk_err_set(err, 0, "config.json: .linux.sysctl: \"%s\" is not namespaced: setting it in a "
                                        "container would change the host", k);
        const struct husk_namespace *n = husk_config_namespace(c, ns);
        if (!n)
            return husk_err_set(err, 0, "config.json: .linux.sysctl: \"%s\" needs the container's own %s namespace",
                                k, husk_ns_name(ns));
    }
    return 0;
}

/* config-linux.md "Rootfs Mount Propagation", "Seccomp", "Masked Paths", "Readonly Paths". */
static int validate_rootfs_seccomp_paths(const struct husk_linux *l, struct husk_err *err)
{
    char p[128];
    if (l->rootfs_propagation && *l->rootfs_propagation) {
        static const char *const ok[] = {"private", "rprivate", "slave", "rslave", "shared", "rshared",
                                         "unbindable", "runbindable"};
        bool found = false;
        for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
            found |= strcmp(ok[i], l->rootfs_propagation) == 0;
        if (!found)
            return husk_err_set(err, 0, "config.json: .linux.rootfsPropagation: unknown propagation \"%s\"",
                                l->rootfs_propagation);
    }
    for (size_t i = 0; i < l->seccomp.n_syscalls; i++)
        if (!strcmp(l->seccomp.syscalls[i].action, "SCMP_ACT_NOTIFY") &&
            (!l->seccomp.listener_path || !*l->seccomp.listener_path)) {
            snprintf(p, sizeof p, ".linux.seccomp.syscalls[%zu].action", i);
            return bad(err, p, "SCMP_ACT_NOTIFY needs .linux.seccomp.listenerPath");
        }
    if (l->seccomp.default_action && !strcmp(l->seccomp.default_action, "SCMP_ACT_NOTIFY"))
        return bad(err, ".linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
    for (size_t i = 0; i < l->masked_paths.n; i++)
        if (l->masked_paths.v[i][0] != '/') {
            snprintf(p, sizeof p, ".linux.maskedPaths[%zu]", i);
            return bad(err, p, "must be an absolute path");
        }
    for (size_t i = 0; i < l->readonly_paths.n; i++)
        if (l->readonly_paths.v[i][0] != '/') {
            snprintf(p, sizeof p, ".linux.readonlyPaths[%zu]", i);
            return bad(err, p, "must be an absolute path");
        }
    return 0;
}

/* The first failing check, in the order of the sections above, is the one reported. */
int husk_config_validate(const struct husk_config *c, struct husk_err *err)
{
    if (!c->root_path || !*c->root_path)
        return bad(err, ".root.path", "required property is missing");
    if (c->has_process && validate_process(&c->process, err) < 0)
        return -1;
    if (validate_mounts_hooks(c, err) < 0 || validate_namespaces(c, err) < 0 ||
        validate_devices_sysctl(c, err) < 0 || validate_rootfs_seccomp_paths(&c->linux_, err) < 0)
        return -1;
    return 0;
}
