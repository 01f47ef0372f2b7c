/* config-linux.md "Seccomp" → a libseccomp filter. */
#include "husk/log.h"
#include "husk/security.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

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

/* The libseccomp filter for s; *flags gets the seccomp(2) flags its load would use. */
static int build(const struct husk_seccomp *s, scmp_filter_ctx *out, unsigned *flags, struct husk_err *err)
{
    uint32_t def;
    if (action(s->default_action, s->default_errno_ret.v, s->default_errno_ret.set, &def) < 0)
        return husk_err_set(err, 0, "config.json: .linux.seccomp.defaultAction: unknown action \"%s\"",
                            s->default_action);
    __attribute__((cleanup(release))) scmp_filter_ctx ctx = seccomp_init(def);
    *flags = 0;
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
        if (!strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC"))
            *flags |= SECCOMP_FILTER_FLAG_TSYNC;
        else if (!strcmp(f, "SECCOMP_FILTER_FLAG_LOG"))
            *flags |= SECCOMP_FILTER_FLAG_LOG;
        else if (!strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
            *flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        else
            return husk_err_set(err, 0, "config.json: .linux.seccomp.flags[%zu]: unsupported flag \"%s\"", i, f);
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
    if (notify)
        *flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    *out = ctx;
    ctx = NULL;
    return 0;
}

static uint64_t fnv(const void *p, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ULL;
    return h;
}

/* Enough programs for the profiles engines use; past it, misses are not cached. */
#define CACHE_MAX 64

/* The cache key: everything the generated program depends on, in one string. */
static char *cache_key(const struct husk_seccomp *s, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    const struct scmp_version *v = seccomp_version();
    fprintf(f, "husk-seccomp 1\nlibseccomp %u.%u.%u api %u\ndefault %s %d %" PRIu64 "\n", v->major, v->minor,
            v->micro, seccomp_api_get(), s->default_action, s->default_errno_ret.set, s->default_errno_ret.v);
    for (size_t i = 0; i < s->architectures.n; i++)
        fprintf(f, "arch %s\n", s->architectures.v[i]);
    for (size_t i = 0; i < s->flags.n; i++)
        fprintf(f, "flag %s\n", s->flags.v[i]);
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct husk_syscall *sc = &s->syscalls[i];
        fprintf(f, "rule %s %d %" PRIu64 "\n", sc->action, sc->errno_ret.set, sc->errno_ret.v);
        for (size_t k = 0; k < sc->names.n; k++)
            fprintf(f, " name %s\n", sc->names.v[k]);
        for (size_t a = 0; a < sc->n_args; a++)
            fprintf(f, " arg %u %s %" PRIu64 " %" PRIu64 "\n", sc->args[a].index, sc->args[a].op, sc->args[a].value,
                    sc->args[a].value_two);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void cache_name(const char *key, size_t len, char *out, size_t n)
{
    /* a file name only: the key itself is compared on a hit */
    snprintf(out, n, "%016" PRIx64, fnv(key, len));
}

/* File: key length (u32), key, flags (u32), checksum of the program (u64), the program. */
static bool cache_read(int dirfd, const char *name, const char *key, size_t klen, struct husk_seccomp *s)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    static char buf[16 + 65536 + BPF_MAXINSNS * sizeof(struct sock_filter)];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    uint32_t kl, fl;
    uint64_t sum;
    if (n < 16)
        return false;
    memcpy(&kl, buf, 4);
    if (kl != klen || (size_t)n < 16 + klen || memcmp(buf + 4, key, klen) != 0)
        return false;
    memcpy(&fl, buf + 4 + klen, 4);
    memcpy(&sum, buf + 8 + klen, 8);
    const char *prog = buf + 16 + klen;
    size_t plen = (size_t)n - 16 - klen;
    if (plen == 0 || plen % sizeof(struct sock_filter) || plen / sizeof(struct sock_filter) > BPF_MAXINSNS ||
        fnv(prog, plen) != sum)
        return false;
    s->prog = malloc(plen);
    if (!s->prog)
        return false;
    memcpy(s->prog, prog, plen);
    s->prog_len = (unsigned short)(plen / sizeof(struct sock_filter));
    s->prog_flags = fl;
    return true;
}

static void cache_write(int dirfd, const char *name, const char *key, size_t klen, const struct husk_seccomp *s)
{
    int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
    if (!d) {
        if (dup >= 0)
            close(dup);
        return;
    }
    int entries = 0;
    while (readdir(d))
        entries++;
    closedir(d);
    if (entries - 2 >= CACHE_MAX)
        return;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.%d", name, (int)getpid());
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    size_t plen = s->prog_len * sizeof(struct sock_filter);
    uint32_t kl = (uint32_t)klen, fl = s->prog_flags;
    uint64_t sum = fnv(s->prog, plen);
    struct iovec v[5] = {{&kl, 4}, {(void *)key, klen}, {&fl, 4}, {&sum, 8}, {s->prog, plen}};
    ssize_t want = (ssize_t)(16 + klen + plen);
    bool ok = writev(fd, v, 5) == want;
    close(fd);
    if (!ok || renameat(dirfd, tmp, dirfd, name) < 0)
        unlinkat(dirfd, tmp, 0);
}

int husk_seccomp_compile(struct husk_seccomp *s, int cache_dirfd, struct husk_err *err)
{
    if (s->prog)
        return 0;
    size_t klen = 0;
    char *key = cache_dirfd >= 0 ? cache_key(s, &klen) : NULL;
    char name[32] = "";
    if (key) {
        cache_name(key, klen, name, sizeof name);
        if (cache_read(cache_dirfd, name, key, klen, s)) {
            free(key);
            return 0;
        }
    }
    scmp_filter_ctx ctx = NULL;
    unsigned flags = 0;
    if (build(s, &ctx, &flags, err) < 0) {
        free(key);
        return -1;
    }
    /* libseccomp 2.5 exports to an fd only */
    int mfd = memfd_create("husk-seccomp", MFD_CLOEXEC);
    int r = mfd < 0 ? -errno : seccomp_export_bpf(ctx, mfd);
    seccomp_release(ctx);
    off_t size = r == 0 ? lseek(mfd, 0, SEEK_END) : -1;
    if (r < 0 || size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
        size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
        if (mfd >= 0)
            close(mfd);
        free(key);
        return husk_err_set(err, r < 0 ? -r : 0, "seccomp: build the filter");
    }
    s->prog = malloc((size_t)size);
    if (!s->prog || pread(mfd, s->prog, (size_t)size, 0) != size) {
        close(mfd);
        free(key);
        free(s->prog);
        s->prog = NULL;
        return husk_err_set(err, ENOMEM, "seccomp: read the filter back");
    }
    close(mfd);
    s->prog_len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    s->prog_flags = flags;
    if (key) {
        cache_write(cache_dirfd, name, key, klen, s);
        free(key);
    }
    return 0;
}

int husk_seccomp_load(const struct husk_seccomp *s, struct husk_err *err)
{
    if (!s->prog)
        return husk_err_set(err, 0, "seccomp: the filter was not built before the clone");
    struct sock_fprog fp = {.len = s->prog_len, .filter = s->prog};
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->prog_flags, &fp);
    if (r < 0)
        return husk_err_set(err, errno, "seccomp: load filter");
    if (s->prog_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
        return (int)r;
    return -2;
}
