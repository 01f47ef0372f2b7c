/* config-linux.md "Seccomp" → a libseccomp filter. */
#include "husk/log.h"
#include "husk/security.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>

static int action(const char *name, uint64_t errno_ret, bool has_errno, uint32_t *out)
{
    if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
        *out = SCMP_ACT_KILL_THREAD;
    else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
        *out = SCMP_ACT_KILL_PROCESS;
    else if (!strcmp(name, "SCMP_ACT_TRAP"))
        *out = SCMP_ACT_TRAP;
    else if (!strcmp(name, "SCMP_ACT_ERRNO"))
        *out = SCMP_ACT_ERRNO(has_errno ? (uint16_t)errno_ret : EPERM);
    else if (!strcmp(name, "SCMP_ACT_TRACE"))
        *out = SCMP_ACT_TRACE(has_errno ? (uint16_t)errno_ret : EPERM);
    else if (!strcmp(name, "SCMP_ACT_ALLOW"))
        *out = SCMP_ACT_ALLOW;
    else if (!strcmp(name, "SCMP_ACT_LOG"))
        *out = SCMP_ACT_LOG;
    else if (!strcmp(name, "SCMP_ACT_NOTIFY"))
        *out = SCMP_ACT_NOTIFY;
    else
        return -1;
    return 0;
}

static int op(const char *name, enum scmp_compare *out)
{
    static const struct { const char *n; enum scmp_compare c; } ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(ops[i].n, name)) {
            *out = ops[i].c;
            return 0;
        }
    return -1;
}

static uint32_t arch(const char *name)
{
    static const struct { const char *n; uint32_t a; } arches[] = {
        {"SCMP_ARCH_X86", SCMP_ARCH_X86},         {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
        {"SCMP_ARCH_X32", SCMP_ARCH_X32},         {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
        {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64}, {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
        {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},   {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
        {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},   {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
        {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32}, {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
        {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},     {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
        {"SCMP_ARCH_S390", SCMP_ARCH_S390},       {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
        {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
    };
    for (size_t i = 0; i < sizeof arches / sizeof *arches; i++)
        if (!strcmp(arches[i].n, name))
            return arches[i].a;
    return 0;
}

static void release(scmp_filter_ctx *c)
{
    if (*c)
        seccomp_release(*c);
}

int husk_seccomp_load(const struct husk_seccomp *s, struct husk_err *err)
{
    uint32_t def;
    if (action(s->default_action, s->default_errno_ret.v, s->default_errno_ret.set, &def) < 0)
        return husk_err_set(err, 0, "config.json: .linux.seccomp.defaultAction: unknown action \"%s\"",
                            s->default_action);
    __attribute__((cleanup(release))) scmp_filter_ctx ctx = seccomp_init(def);
    if (!ctx)
        return husk_err_set(err, 0, "seccomp: cannot initialise the filter");
    /* libseccomp would set no_new_privs on load; that is process.noNewPrivileges' call. */
    int nnp = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (nnp < 0)
        return husk_err_set(err, -nnp, "seccomp: clear the no_new_privs attribute");
    for (size_t i = 0; i < s->architectures.n; i++) {
        uint32_t a = arch(s->architectures.v[i]);
        if (!a)
            return husk_err_set(err, 0, "config.json: .linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
                                i, s->architectures.v[i]);
        int r = seccomp_arch_add(ctx, a);
        if (r < 0 && r != -EEXIST)
            return husk_err_set(err, -r, "seccomp: add architecture %s", s->architectures.v[i]);
    }
    for (size_t i = 0; i < s->flags.n; i++) {
        const char *f = s->flags.v[i];
        int r = 0;
        if (!strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC"))
            r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        else if (!strcmp(f, "SECCOMP_FILTER_FLAG_LOG"))
            r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
        else if (!strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
            r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
        else
            return husk_err_set(err, 0, "config.json: .linux.seccomp.flags[%zu]: unsupported flag \"%s\"", i, f);
        if (r < 0)
            return husk_err_set(err, -r, "seccomp: set flag %s", f);
    }
    bool notify = false;
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct husk_syscall *sc = &s->syscalls[i];
        uint32_t act;
        if (action(sc->action, sc->errno_ret.v, sc->errno_ret.set, &act) < 0)
            return husk_err_set(err, 0, "config.json: .linux.seccomp.syscalls[%zu].action: unknown action \"%s\"", i,
                                sc->action);
        if (act == def)
            continue;   /* libseccomp refuses rules equal to the default */
        notify |= act == SCMP_ACT_NOTIFY;
        struct scmp_arg_cmp cmps[6];
        unsigned n = 0;
        for (size_t a = 0; a < sc->n_args && n < 6; a++) {
            enum scmp_compare c;
            if (op(sc->args[a].op, &c) < 0)
                return husk_err_set(err, 0, "config.json: .linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator \"%s\"",
                                    i, a, sc->args[a].op);
            cmps[n++] = (struct scmp_arg_cmp){sc->args[a].index, c, sc->args[a].value, sc->args[a].value_two};
        }
        for (size_t k = 0; k < sc->names.n; k++) {
            int nr = seccomp_syscall_resolve_name(sc->names.v[k]);
            if (nr == __NR_SCMP_ERROR) {
                husk_debug("seccomp: syscall \"%s\" is unknown here, skipped", sc->names.v[k]);
                continue;
            }
            int r = seccomp_rule_add_array(ctx, act, nr, n, cmps);
            if (r == -EINVAL && n > 1) {
                /* Two conditions on one argument cannot be ANDed: add each as its own rule. */
                for (unsigned j = 0; j < n && r != 0; j++)
                    r = seccomp_rule_add_array(ctx, act, nr, 1, &cmps[j]);
                for (unsigned j = 1; j < n; j++)
                    seccomp_rule_add_array(ctx, act, nr, 1, &cmps[j]);
            }
            if (r < 0)
                return husk_err_set(err, -r, "seccomp: add rule for \"%s\"", sc->names.v[k]);
        }
    }
    int r = seccomp_load(ctx);
    if (r < 0)
        return husk_err_set(err, -r, "seccomp: load filter");
    if (notify) {
        int fd = seccomp_notify_fd(ctx);
        if (fd < 0)
            return husk_err_set(err, -fd, "seccomp: get notify fd");
        return fd;
    }
    return -2;
}
