/* cgroup v2 device rules: an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program built from
 * linux.resources.devices, attached to the container's cgroup (config-linux.md "Device
 * allowlist"; the v1 devices controller's semantics: the last matching rule decides).
 *
 * The kernel's verifier, not the program, is the cost: it walks every path and keeps a state
 * at each jump target, and a register narrowed by one rule's comparison (major == 1) makes
 * the next rule's states differ, so the same code is walked again. Here each rule loads what
 * it compares from the context itself, so at every rule's start only the context pointer is
 * live and one walk suffices; rules that an earlier-deciding rule covers are left out, and
 * consecutive rules with one verdict share their type check and their exit. Docker's rules
 * (8 of its own and runc's 11 implicit ones): 100 instructions, 434 walked and 0.40-0.59 ms
 * of verification here became 72, 153 and 0.18-0.26 ms (bench/README.md). */
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

/* One rule of a type already checked: compare what it names, load by load, each mismatch a
 * jump to the next rule; a match jumps to the verdict. */
static void emit_rule(struct emitter *e, const struct rule *r)
{
    struct bpf_insn blk[6];
    int n = 0;
    if (r->access != RWM) {   /* the request must be a subset of the rule's access */
        blk[n++] = INSN(BPF_LDX | BPF_MEM | BPF_H, BPF_REG_3, BPF_REG_1, OFF_ACCESS, 0);
        blk[n++] = INSN(BPF_JMP | BPF_JSET | BPF_K, BPF_REG_3, 0, 0, ~r->access & RWM);
    }
    if (r->major >= 0) {
        blk[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
        blk[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int)r->major);
    }
    if (r->minor >= 0) {
        blk[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
        blk[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int)r->minor);
    }
    for (int i = 0; i < n; i++) {
        if (BPF_CLASS(blk[i].code) == BPF_JMP)
            blk[i].off = (short)(n - i);   /* past this block and its JA */
        emit(e, blk[i]);
    }
    if (e->n < MAX_INSNS) {
        if (r->allow)
            e->to_allow[e->n_allow++] = e->n;
        else
            e->to_deny[e->n_deny++] = e->n;
    }
    emit(e, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0));
}

int husk_devfilter_build(const struct husk_resources *res, struct bpf_insn *out, int max)
{
    static struct rule order[MAX_INSNS];
    static struct emitter e;
    memset(&e, 0, sizeof e);
    e.v = out;
    e.max = max;
    size_t n = decision_order(res, order, MAX_INSNS);
    bool ends_decided = n && any_type_any_node(&order[n - 1]);
    /* Runs of one verdict: within one the order does not matter, so its rules go by type,
     * each type checked once; "any type" last, where a rule matching everything can only
     * be the very last. */
    for (size_t i = 0; i < n;) {
        size_t end = i;
        while (end < n && order[end].allow == order[i].allow)
            end++;
        static const char types[] = {'c', 'b', 'a'};
        for (int t = 0; t < 3; t++) {
            int skip = -1;
            for (size_t k = i; k < end; k++) {
                if (order[k].type != types[t])
                    continue;
                if (skip < 0 && types[t] != 'a') {
                    emit(&e, INSN(BPF_LDX | BPF_MEM | BPF_H, BPF_REG_2, BPF_REG_1, OFF_TYPE, 0));
                    skip = e.n;
                    emit(&e, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                                  types[t] == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
                }
                emit_rule(&e, &order[k]);
            }
            if (skip >= 0 && skip < e.max)
                e.v[skip].off = (short)(e.n - skip - 1);
        }
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
