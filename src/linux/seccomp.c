/* config-linux.md "Seccomp" → a libseccomp filter. */
#include "husk/alloc.h"
#include "husk/arena.h"
#include "husk/fileio.h"
#include "husk/log.h"
#include "husk/security.h"
#include "husk/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
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

/* A filter with only the default action set, as husk wants it: libseccomp would set
 * no_new_privs on load, and that is process.noNewPrivileges' call. */
static scmp_filter_ctx new_ctx(uint32_t def, struct husk_err *err)
{
    scmp_filter_ctx ctx = seccomp_init(def);
    if (!ctx) {
        husk_err_set(err, 0, "seccomp: cannot initialise the filter");
        return NULL;
    }
    int nnp = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (nnp < 0) {
        seccomp_release(ctx);
        husk_err_set(err, -nnp, "seccomp: clear the no_new_privs attribute");
        return NULL;
    }
    return ctx;
}

/* The rules of s added to ctx. With `whole` false (a filter of one architecture, to be
 * merged), any rule libseccomp refuses returns 1, and the caller builds the filter whole
 * instead, where a refusal is handled across all architectures at once as it always was. */
static int add_rules(const struct husk_seccomp *s, uint32_t def, scmp_filter_ctx ctx, bool whole, bool *notify,
                     struct husk_err *err)
{
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct husk_syscall *sc = &s->syscalls[i];
        uint32_t act;
        if (action(sc->action, sc->errno_ret.v, sc->errno_ret.set, &act) < 0)
            return husk_err_set(err, 0, "config.json: .linux.seccomp.syscalls[%zu].action: unknown action \"%s\"", i,
                                sc->action);
        if (act == def)
            continue;   /* libseccomp refuses rules equal to the default */
        *notify |= act == SCMP_ACT_NOTIFY;
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
            if (nr == __NR_SCMP_ERROR)
                continue;   /* logged by build() */
            int r = seccomp_rule_add_array(ctx, act, nr, n, cmps);
            if (r != 0 && !whole)
                return 1;
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
    return 0;
}

/* An architecture other than the native one, of its byte order (libseccomp merges only
 * filters of one), or 0. */
static uint32_t stand_in(void)
{
    uint32_t native = seccomp_arch_native();
    if (native == SCMP_ARCH_X86 || native == SCMP_ARCH_AARCH64 || native == SCMP_ARCH_ARM)
        return SCMP_ARCH_X86_64;
    return native == SCMP_ARCH_X86_64 ? SCMP_ARCH_X86 : 0;
}

/* s's architectures besides the native one seccomp_init adds (in order, once each), and the
 * seccomp(2) flags its load would use. */
static int arches_and_flags(const struct husk_seccomp *s, uint32_t more[32], const char *more_name[32],
                            size_t *n_more, unsigned *flags, struct husk_err *err)
{
    *n_more = 0;
    for (size_t i = 0; i < s->architectures.n; i++) {
        uint32_t a = arch(s->architectures.v[i]);
        if (!a)
            return husk_err_set(err, 0, "config.json: .linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
                                i, s->architectures.v[i]);
        bool seen = a == seccomp_arch_native();
        for (size_t j = 0; j < *n_more && !seen; j++)
            seen = more[j] == a;
        if (!seen && *n_more < 32) {
            more_name[*n_more] = s->architectures.v[i];
            more[(*n_more)++] = a;
        }
    }
    *flags = 0;
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
    return 0;
}

/* The rules of s for the native architecture and each of `more`, every one in a filter of
 * its own merged into *ctx. The native rules are merged too, while a stand-in architecture
 * holds *ctx's place (it may not be empty): no rule is ever added to *ctx itself, so no copy
 * of it is kept. Returns 0, 1 when libseccomp refused something (build the whole filter
 * instead), -1 on an error of the profile's. */
static int build_apart_arches(const struct husk_seccomp *s, uint32_t def, scmp_filter_ctx *ctx, const uint32_t *more,
                              size_t n_more, bool *notify, struct husk_err *err)
{
    scmp_filter_ctx nat = new_ctx(def, err);
    if (!nat)
        return -1;
    int r = add_rules(s, def, nat, false, notify, err);
    uint32_t hold = stand_in();
    if (r == 0 && hold && seccomp_arch_add(*ctx, hold) == 0 && seccomp_arch_remove(*ctx, SCMP_ARCH_NATIVE) == 0 &&
        seccomp_merge(*ctx, nat) == 0) {
        nat = NULL;
        if (seccomp_arch_remove(*ctx, hold) != 0)
            r = 1;
    } else if (r == 0 && !hold) {
        seccomp_release(*ctx);
        *ctx = nat;   /* no stand-in for this architecture: the native filter is the target */
        nat = NULL;
    } else if (r == 0) {
        r = 1;
    }
    if (nat)
        seccomp_release(nat);
    for (size_t i = 0; i < n_more && r == 0; i++) {
        scmp_filter_ctx one = new_ctx(def, err);
        if (!one)
            return -1;
        if (seccomp_arch_add(one, more[i]) == 0 && seccomp_arch_remove(one, SCMP_ARCH_NATIVE) == 0)
            r = add_rules(s, def, one, false, notify, err);
        else
            r = 1;
        if (r == 0 && seccomp_merge(*ctx, one) == 0)
            continue;   /* merged: `one` is released with its shadow */
        seccomp_release(one);
        if (r == 0)
            r = 1;
    }
    return r;
}

/* The libseccomp filter for s; *flags gets the seccomp(2) flags its load would use.
 *
 * Every rule added to a filter of several architectures makes libseccomp 2.5 snapshot the
 * whole rule database first and keep that copy (its "shadow" transaction) for the next rule:
 * with Docker's profile (x86_64, x86, x32; 300 syscalls) that copy and the rules kept for it
 * were ~0.5 MiB of the ~1 MiB a build took, and husk's peak RSS before the clone (which the
 * init inherits) was 1.9 MiB. So each architecture gets a filter of its own, whose shadow is
 * freed as it is merged into the one built (seccomp_merge moves the architecture's rules, in
 * the order seccomp_arch_add would have put them: the same program, which
 * tests/unit/test_seccomp.c checks). A rule that any one architecture refuses sends the
 * build back to the single filter of all of them, whose refusals behave as they always did. */
static int build(const struct husk_seccomp *s, scmp_filter_ctx *out, unsigned *flags, struct husk_err *err)
{
    uint32_t def;
    if (action(s->default_action, s->default_errno_ret.v, s->default_errno_ret.set, &def) < 0)
        return husk_err_set(err, 0, "config.json: .linux.seccomp.defaultAction: unknown action \"%s\"",
                            s->default_action);
    __attribute__((cleanup(release))) scmp_filter_ctx ctx = new_ctx(def, err);
    *flags = 0;
    if (!ctx)
        return -1;
    uint32_t more[32];
    const char *more_name[32];
    size_t n_more;
    if (arches_and_flags(s, more, more_name, &n_more, flags, err) < 0)
        return -1;
    bool notify = false;
    for (size_t i = 0; i < s->n_syscalls; i++)
        for (size_t k = 0; k < s->syscalls[i].names.n; k++)
            if (seccomp_syscall_resolve_name(s->syscalls[i].names.v[k]) == __NR_SCMP_ERROR)
                husk_debug("seccomp: syscall \"%s\" is unknown here, skipped", s->syscalls[i].names.v[k]);
    int r = n_more ? build_apart_arches(s, def, &ctx, more, n_more, &notify, err)
                   : add_rules(s, def, ctx, true, &notify, err);
    if (r < 0)
        return -1;
    if (r > 0) {   /* the whole filter at once, as before */
        seccomp_release(ctx);
        if (!(ctx = new_ctx(def, err)))
            return -1;
        for (size_t i = 0; i < n_more; i++) {
            int e = seccomp_arch_add(ctx, more[i]);
            if (e < 0)
                return husk_err_set(err, -e, "seccomp: add architecture %s", more_name[i]);
        }
        notify = false;
        if (add_rules(s, def, ctx, true, &notify, err) < 0)
            return -1;
    }
    if (notify)
        *flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    *out = ctx;
    ctx = NULL;
    return 0;
}

/* Enough programs for the profiles engines use; past it, misses are not cached. */
#define CACHE_MAX 64

/* The cache key is the SHA-256 of an encoding of everything the program depends on in which
 * no two profiles read alike: every string is length-prefixed and every list counted, so no
 * name (a newline in it, say) can pass for a field boundary. Names libseccomp does not know
 * are skipped by build() but hashed here: profiles differing only in them never share an
 * entry. listenerPath and listenerMetadata are left out: they do not change the program. */
#define KEY_FORMAT "husk-seccomp-key 2"

static void put_u64(struct husk_sha256 *c, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    husk_sha256_update(c, b, sizeof b);
}

static void put_str(struct husk_sha256 *c, const char *s)
{
    /* NULL (absent) and "" must differ too */
    size_t n = s ? strlen(s) : 0;
    put_u64(c, s ? n : UINT64_MAX);
    husk_sha256_update(c, s ? s : "", n);
}

static void put_strv(struct husk_sha256 *c, const struct husk_strv *v)
{
    put_u64(c, v->n);
    for (size_t i = 0; i < v->n; i++)
        put_str(c, v->v[i]);
}

static void cache_key(const struct husk_seccomp *s, unsigned char key[HUSK_SHA256_LEN])
{
    struct husk_sha256 c;
    husk_sha256_init(&c);
    put_str(&c, KEY_FORMAT);
    const struct scmp_version *v = seccomp_version();
    put_u64(&c, v->major);
    put_u64(&c, v->minor);
    put_u64(&c, v->micro);
    put_u64(&c, seccomp_api_get());
    put_u64(&c, seccomp_arch_native());   /* libseccomp always adds the native arch */
    put_str(&c, s->default_action);
    put_u64(&c, s->default_errno_ret.set);
    put_u64(&c, s->default_errno_ret.v);
    put_strv(&c, &s->architectures);
    put_strv(&c, &s->flags);
    put_u64(&c, s->n_syscalls);
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct husk_syscall *sc = &s->syscalls[i];
        put_str(&c, sc->action);
        put_u64(&c, sc->errno_ret.set);
        put_u64(&c, sc->errno_ret.v);
        put_strv(&c, &sc->names);
        put_u64(&c, sc->n_args);
        for (size_t a = 0; a < sc->n_args; a++) {
            put_u64(&c, sc->args[a].index);
            put_str(&c, sc->args[a].op);
            put_u64(&c, sc->args[a].value);
            put_u64(&c, sc->args[a].value_two);
        }
    }
    husk_sha256_final(&c, key);
}

/* An entry, named by the key's hex digest: magic, the key again (the name alone is not
 * trusted: a renamed or planted file must not match), the seccomp(2) flags, the program's
 * length, a SHA-256 of the flags and the program, the program. */
#define ENTRY_MAGIC "HUSKBPF2"
struct entry_head {
    char magic[8];
    unsigned char key[HUSK_SHA256_LEN];
    uint32_t flags, prog_bytes;
    unsigned char prog_sum[HUSK_SHA256_LEN];
};

/* The checksum covers the flags too: either one damaged turns a hit into a rebuild. */
static void entry_sum(uint32_t flags, const void *prog, size_t plen, unsigned char out[HUSK_SHA256_LEN])
{
    struct husk_sha256 c;
    husk_sha256_init(&c);
    husk_sha256_update(&c, &flags, sizeof flags);
    husk_sha256_update(&c, prog, plen);
    husk_sha256_final(&c, out);
}

static bool cache_read(int dirfd, const char *name, const unsigned char key[HUSK_SHA256_LEN], struct husk_seccomp *s)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    struct stat sb;
    static union {
        struct entry_head h;
        char bytes[sizeof(struct entry_head) + BPF_MAXINSNS * sizeof(struct sock_filter) + 1];
    } buf;
    /* only a file of ours: the directory's owner and mode were checked when it was opened */
    ssize_t n = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == geteuid() ? read(fd, &buf, sizeof buf) : -1;
    close(fd);
    if (n < (ssize_t)sizeof buf.h || memcmp(buf.h.magic, ENTRY_MAGIC, 8) != 0 ||
        memcmp(buf.h.key, key, HUSK_SHA256_LEN) != 0)
        return false;
    size_t plen = (size_t)n - sizeof buf.h;
    unsigned char sum[HUSK_SHA256_LEN];
    if (plen != buf.h.prog_bytes || plen == 0 || plen % sizeof(struct sock_filter) ||
        plen / sizeof(struct sock_filter) > BPF_MAXINSNS)
        return false;
    const char *prog = buf.bytes + sizeof buf.h;
    entry_sum(buf.h.flags, prog, plen, sum);
    if (memcmp(sum, buf.h.prog_sum, HUSK_SHA256_LEN) != 0)
        return false;
    s->prog = malloc(plen);
    if (!s->prog)
        return false;
    memcpy(s->prog, prog, plen);
    s->prog_len = (unsigned short)(plen / sizeof(struct sock_filter));
    s->prog_flags = buf.h.flags;
    return true;
}

static void cache_write(int dirfd, const char *name, const unsigned char key[HUSK_SHA256_LEN],
                        const struct husk_seccomp *s)
{
    int dup = husk_dupfd_cloexec(dirfd, 0);
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
    char tmp[2 * HUSK_SHA256_LEN + 32];
    snprintf(tmp, sizeof tmp, "%s.%d", name, (int)getpid());
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    struct entry_head h = {.flags = s->prog_flags};
    size_t plen = s->prog_len * sizeof(struct sock_filter);
    memcpy(h.magic, ENTRY_MAGIC, 8);
    memcpy(h.key, key, HUSK_SHA256_LEN);
    h.prog_bytes = (uint32_t)plen;
    entry_sum(h.flags, s->prog, plen, h.prog_sum);
    struct iovec v[2] = {{&h, sizeof h}, {s->prog, plen}};
    bool ok = writev(fd, v, 2) == (ssize_t)(sizeof h + plen);
    close(fd);
    /* readers see a whole entry or none */
    if (!ok || renameat(dirfd, tmp, dirfd, name) < 0)
        unlinkat(dirfd, tmp, 0);
}

static bool copy_strv(struct husk_arena *a, const struct husk_strv *from, struct husk_strv *to)
{
    to->n = from->n;
    if (!(to->v = husk_arena_alloc(a, (from->n + 1) * sizeof *to->v)))
        return false;
    for (size_t i = 0; i < from->n; i++)
        if (!(to->v[i] = husk_arena_strdup(a, from->v[i])))
            return false;
    return true;
}

/* What build() reads of s, copied into a: strings, lists and rules. */
static bool copy_profile(struct husk_arena *a, const struct husk_seccomp *from, struct husk_seccomp *to)
{
    *to = (struct husk_seccomp){.set = from->set, .default_errno_ret = from->default_errno_ret,
                                .n_syscalls = from->n_syscalls};
    if (!(to->default_action = husk_arena_strdup(a, from->default_action)) ||
        !copy_strv(a, &from->architectures, &to->architectures) || !copy_strv(a, &from->flags, &to->flags) ||
        !(to->syscalls = husk_arena_alloc(a, (from->n_syscalls + 1) * sizeof *to->syscalls)))
        return false;
    for (size_t i = 0; i < from->n_syscalls; i++) {
        const struct husk_syscall *f = &from->syscalls[i];
        struct husk_syscall *t = &to->syscalls[i];
        *t = (struct husk_syscall){.errno_ret = f->errno_ret, .n_args = f->n_args};
        if (!copy_strv(a, &f->names, &t->names) || !(t->action = husk_arena_strdup(a, f->action)) ||
            !(t->args = husk_arena_alloc(a, (f->n_args + 1) * sizeof *t->args)))
            return false;
        for (size_t k = 0; k < f->n_args; k++) {
            t->args[k] = f->args[k];
            if (!(t->args[k].op = husk_arena_strdup(a, f->args[k].op)))
                return false;
        }
    }
    return true;
}

/* The program for s built and written to mfd by a child process, which reports
 * {result, flags, error} over a pipe and exits. libseccomp's rule database and BPF generator
 * take ~1 MiB for Docker's profile, and husk's allocator keeps what is freed: built here,
 * that memory would stay in husk's peak RSS and in every process it then clones (the init
 * inherits the pages). The child copies the profile to a heap of its own and unmaps the one
 * it inherited (the parsed config's pages among them), so its peak is the build's and what
 * any husk process has (its code, stack and static data). This runs only when the cache has
 * no program for the profile (the first container of it). */
static int build_apart(const struct husk_seccomp *s, int mfd, unsigned *flags, struct husk_err *err)
{
    struct reply { int r; unsigned flags; struct husk_err err; };
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return husk_err_set(err, errno, "seccomp: pipe for the filter build");
    pid_t pid = fork();
    if (pid < 0) {
        husk_err_set(err, errno, "seccomp: fork for the filter build");
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        static struct reply rep;
        static struct husk_arena arena;
        static struct husk_seccomp own;
        scmp_filter_ctx ctx = NULL;
        close(p[0]);
        husk_alloc_new_heap();
        if (!copy_profile(&arena, s, &own)) {
            rep.r = husk_err_set(&rep.err, ENOMEM, "seccomp: copy the profile");
        } else {
            husk_alloc_drop_old();   /* s with it: only `own` from here */
            rep.r = build(&own, &ctx, &rep.flags, &rep.err);
        }
        if (rep.r == 0) {
            int r = seccomp_export_bpf(ctx, mfd);
            if (r < 0)
                rep.r = husk_err_set(&rep.err, -r, "seccomp: build the filter");
        }
        _exit(write(p[1], &rep, sizeof rep) == (ssize_t)sizeof rep ? 0 : 1);
    }
    close(p[1]);
    static struct reply rep;
    size_t n = 0;
    for (ssize_t r; n < sizeof rep && ((r = read(p[0], (char *)&rep + n, sizeof rep - n)) > 0 || (r < 0 && errno == EINTR));)
        n += r > 0 ? (size_t)r : 0;
    close(p[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    if (n != sizeof rep)
        return husk_err_set(err, 0, "seccomp: the filter build ended without a result");
    if (rep.r < 0) {
        *err = rep.err;
        return -1;
    }
    *flags = rep.flags;
    return 0;
}

int husk_seccomp_compile(struct husk_seccomp *s, int cache_dirfd, struct husk_err *err)
{
    if (s->prog)
        return 0;
    unsigned char key[HUSK_SHA256_LEN];
    char name[2 * HUSK_SHA256_LEN + 1];
    if (cache_dirfd >= 0) {
        cache_key(s, key);
        husk_sha256_hex(key, name);
        if (cache_read(cache_dirfd, name, key, s))
            return 0;
    }
    unsigned flags = 0;
    /* libseccomp 2.5 exports to an fd only */
    int mfd = memfd_create("husk-seccomp", MFD_CLOEXEC);
    if (mfd < 0)
        return husk_err_set(err, errno, "seccomp: build the filter");
    if (build_apart(s, mfd, &flags, err) < 0) {
        close(mfd);
        return -1;
    }
    off_t size = lseek(mfd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
        size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
        close(mfd);
        return husk_err_set(err, 0, "seccomp: build the filter");
    }
    s->prog = malloc((size_t)size);
    if (!s->prog || pread(mfd, s->prog, (size_t)size, 0) != size) {
        close(mfd);
        free(s->prog);
        s->prog = NULL;
        return husk_err_set(err, ENOMEM, "seccomp: read the filter back");
    }
    close(mfd);
    s->prog_len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    s->prog_flags = flags;
    if (cache_dirfd >= 0)
        cache_write(cache_dirfd, name, key, s);
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
