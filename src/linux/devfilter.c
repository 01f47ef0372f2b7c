/* cgroup v2 device rules: an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program built from
 * linux.resources.devices, attached to the container's cgroup (config-linux.md "Device
 * allowlist"; the v1 devices controller's semantics: the last matching rule decides).
 *
 * The kernel's verifier, not the program, is the cost: it pushes a state at every conditional
 * jump and walks both sides, and a register narrowed by a comparison (major == 1) makes the
 * states that meet later differ, so code is walked again. Here no rule branches: each one's
 * comparison is arithmetic (emit_match), a run of rules with one verdict collects its matches
 * in a register, and one jump per run decides, so the walk is one pass. Rules that an
 * earlier-deciding rule covers are left out. Docker's rules (8 of its own and runc's 11
 * implicit ones): 100 instructions, 434 walked and 0.40-0.59 ms of verification; with a
 * branch per comparison reloading from the context, 72 and 153 (0.12 ms of CPU); now 124
 * and 128 (0.08 ms; bench/README.md). */
#include "cgroup_internal.h"
#include "husk/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INSNS 4096
#define RWM (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

/* bpf_cgroup_dev_ctx.access_type is (access << 16) | type: its halves, as 16-bit loads */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OFF_TYPE 0
#define OFF_ACCESS 2
#else
#define OFF_TYPE 2
#define OFF_ACCESS 0
#endif

#define INSN(c, d, s, o, im) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (im)})

struct rule {
    char type;              /* 'a', 'c' or 'b' */
    int access;             /* BPF_DEVCG_ACC_* */
    long long major, minor; /* -1: any */
    bool allow;
};

static int access_bits(const char *a)
{
    if (!a || !*a)
        return RWM;
    int bits = 0;
    for (; *a; a++)
        bits |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : *a == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
    return bits;
}

/* Every request b matches, a matches too. */
static bool covers(const struct rule *a, const struct rule *b)
{
    return (a->type == 'a' || a->type == b->type) && (a->access & b->access) == b->access &&
           (a->major < 0 || a->major == b->major) && (a->minor < 0 || a->minor == b->minor);
}

static bool any_type_any_node(const struct rule *r)
{
    return r->type == 'a' && r->access == RWM && r->major < 0 && r->minor < 0;
}

/* The rules in the order they are asked (last match wins: from the end, and the implicit
 * rules, which come after the config's, first), without the ones an earlier-asked rule
 * covers (they never decide), up to the first that matches every request. */
static size_t decision_order(const struct husk_resources *res, struct rule *out, size_t max)
{
    size_t n = 0, ni = sizeof husk_dev_implicit_rules / sizeof *husk_dev_implicit_rules;
    for (size_t k = ni + res->n_devices; k-- > 0 && n < max;) {
        struct rule r;
        if (k >= res->n_devices) {
            const struct husk_dev_implicit *d = &husk_dev_implicit_rules[k - res->n_devices];
            r = (struct rule){d->type, access_bits(d->access), d->major, d->minor, true};
        } else {
            const struct husk_dev_rule *d = &res->devices[k];
            r = (struct rule){d->type && *d->type ? d->type[0] : 'a', access_bits(d->access),
                              d->major.set ? d->major.v : -1, d->minor.set ? d->minor.v : -1, d->allow};
        }
        if (r.type != 'c' && r.type != 'b')
            r.type = 'a';
        bool shadowed = false;
        for (size_t j = 0; j < n && !shadowed; j++)
            shadowed = covers(&out[j], &r);
        if (shadowed)
            continue;
        out[n++] = r;
        if (any_type_any_node(&r))
            break;
    }
    return n;
}

struct emitter {
    struct bpf_insn *v;
    int n, max;
    int to_allow[MAX_INSNS], n_allow, to_deny[MAX_INSNS], n_deny;   /* JAs to the verdicts */
};

static void emit(struct emitter *e, struct bpf_insn i)
{
    if (e->n < e->max)
        e->v[e->n] = i;
    e->n++;
}

/* Whether the request matches r, with no branch: what r names is compared as
 * (type ^ T) | (access & ~allowed) | (major ^ M) | (minor ^ m), a u32 that is zero on a
 * match, so r0 - 1 (64-bit) has bit 63 set on a match and on no mismatch. A comparison that
 * branches makes the verifier push a state and walk both sides; a value compared this way
 * narrows no register, and one walk covers the run (32-bit ALU for the terms: the context's
 * fields are u32). r7 and r8 hold type ^ CHAR and type ^ BLOCK. Returns false for a rule
 * that names nothing: it matches every request. */
static bool emit_match(struct emitter *e, const struct rule *r)
{
    struct { int off, size, op, imm; } terms[3];
    int nt = 0;
    bool typed = r->type == 'c' || r->type == 'b';
    if (typed)
        emit(e, INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, r->type == 'c' ? BPF_REG_7 : BPF_REG_8, 0, 0));
    if (r->access != RWM)   /* the request must be a subset of the rule's access */
        terms[nt++] = (typeof(terms[0])){OFF_ACCESS, BPF_H, BPF_AND, ~r->access & RWM};
    if (r->major >= 0)
        terms[nt++] = (typeof(terms[0])){4, BPF_W, BPF_XOR, (int)(unsigned)r->major};
    if (r->minor >= 0)
        terms[nt++] = (typeof(terms[0])){8, BPF_W, BPF_XOR, (int)(unsigned)r->minor};
    for (int t = 0; t < nt; t++) {
        int dst = t == 0 && !typed ? BPF_REG_0 : BPF_REG_2;
        emit(e, INSN(BPF_LDX | BPF_MEM | terms[t].size, dst, BPF_REG_1, terms[t].off, 0));
        emit(e, INSN(BPF_ALU | terms[t].op | BPF_K, dst, 0, 0, terms[t].imm));
        if (dst != BPF_REG_0)
            emit(e, INSN(BPF_ALU | BPF_OR | BPF_X, BPF_REG_0, BPF_REG_2, 0, 0));
    }
    if (nt == 0 && !typed)
        return false;
    emit(e, INSN(BPF_ALU64 | BPF_SUB | BPF_K, BPF_REG_0, 0, 0, 1));
    return true;
}

/* A jump to the run's verdict, fixed up once the verdicts' place is known. */
static void emit_to_verdict(struct emitter *e, bool allow, struct bpf_insn jump)
{
    if (e->n < MAX_INSNS) {
        if (allow)
            e->to_allow[e->n_allow++] = e->n;
        else
            e->to_deny[e->n_deny++] = e->n;
    }
    emit(e, jump);
}

int husk_devfilter_build(const struct husk_resources *res, struct bpf_insn *out, int max)
{
    static struct rule order[MAX_INSNS];
    /* static (32 KiB): only its counters are cleared, the jump lists are written before they
     * are read, and each page of them zeroed here was a page fault */
    static struct emitter e;
    e.n = e.n_allow = e.n_deny = 0;
    e.v = out;
    e.max = max;
    size_t n = decision_order(res, order, MAX_INSNS);
    bool ends_decided = false, typed = false;
    for (size_t k = 0; k < n; k++)
        typed |= order[k].type != 'a';
    if (typed) {
        emit(&e, INSN(BPF_LDX | BPF_MEM | BPF_H, BPF_REG_7, BPF_REG_1, OFF_TYPE, 0));
        emit(&e, INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_8, BPF_REG_7, 0, 0));
        emit(&e, INSN(BPF_ALU | BPF_XOR | BPF_K, BPF_REG_7, 0, 0, BPF_DEVCG_DEV_CHAR));
        emit(&e, INSN(BPF_ALU | BPF_XOR | BPF_K, BPF_REG_8, 0, 0, BPF_DEVCG_DEV_BLOCK));
    }
    /* Runs of one verdict: within one the order does not matter, so bit 63 of r6 collects
     * whether any of its rules matched and one branch per run decides. */
    for (size_t i = 0; i < n && !ends_decided;) {
        size_t end = i;
        while (end < n && order[end].allow == order[i].allow)
            end++;
        emit(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_6, 0, 0, 0));
        for (size_t k = i; k < end && !ends_decided; k++) {
            if (emit_match(&e, &order[k]))
                emit(&e, INSN(BPF_ALU64 | BPF_OR | BPF_X, BPF_REG_6, BPF_REG_0, 0, 0));
            else
                ends_decided = true;   /* nothing after it is asked */
        }
        emit_to_verdict(&e, order[i].allow, ends_decided ? INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0)
                                                         : INSN(BPF_JMP | BPF_JSLT | BPF_K, BPF_REG_6, 0, 0, 0));
        i = end;
    }
    /* No rule matched: allow, as a new v1 cgroup inherits "allow all". */
    int allow = -1, deny = -1;
    if (!ends_decided || e.n_allow) {
        allow = e.n;
        emit(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
        emit(&e, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    }
    if (e.n_deny) {
        deny = e.n;
        emit(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
        emit(&e, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    }
    if (e.n > max)
        return -1;
    for (int k = 0; k < e.n_allow; k++)
        out[e.to_allow[k]].off = (short)(allow - e.to_allow[k] - 1);
    for (int k = 0; k < e.n_deny; k++)
        out[e.to_deny[k]].off = (short)(deny - e.to_deny[k] - 1);
    return e.n;
}

int husk_devfilter_attach(const char *cgroup_dir, const struct husk_config *c, struct husk_err *err)
{
    static struct bpf_insn insns[MAX_INSNS];
    int n = husk_devfilter_build(&c->linux_.resources, insns, MAX_INSNS);
    if (n < 0)
        return husk_err_set(err, 0, "cgroup: too many device rules for the eBPF filter");

    static char log[8192];
    union bpf_attr load;
    memset(&load, 0, sizeof load);
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = (unsigned long long)(uintptr_t)insns;
    load.insn_cnt = (unsigned)n;
    load.license = (unsigned long long)(uintptr_t)"Apache-2.0";
    /* The verifier's log costs more than the verification itself: ask for it only to explain
     * a refusal. */
    int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
    if (prog < 0) {
        int e = errno;
        load.log_buf = (unsigned long long)(uintptr_t)log;
        load.log_size = sizeof log;
        load.log_level = 1;
        log[0] = '\0';
        int again = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
        if (again >= 0) {
            close(again);
            return husk_err_set(err, e, "cgroup: load the eBPF device filter");
        }
        /* the verifier's reason is the line before its "processed ..." summary */
        log[sizeof log - 1] = '\0';
        char *end = strstr(log, "\nprocessed ");
        if (end) {
            *end = '\0';
            char *line = strrchr(log, '\n');
            return husk_err_set(err, e, "cgroup: load the eBPF device filter (verifier: %s)", line ? line + 1 : log);
        }
        return husk_err_set(err, e, "cgroup: load the eBPF device filter");
    }
    int cg = husk_open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg < 0) {
        int e = errno;
        close(prog);
        return husk_err_set(err, e, "cgroup: open `%s`", cgroup_dir);
    }
    union bpf_attr at;
    memset(&at, 0, sizeof at);
    at.target_fd = (unsigned)cg;
    at.attach_bpf_fd = (unsigned)prog;
    at.attach_type = BPF_CGROUP_DEVICE;
    at.attach_flags = BPF_F_ALLOW_MULTI;
    int rc = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof at);
    int e = errno;
    close(cg);
    close(prog);
    if (rc < 0)
        return husk_err_set(err, e, "cgroup: attach the eBPF device filter to `%s`", cgroup_dir);
    return 0;
}
