/* cgroup v2 device rules: an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program built from
 * linux.resources.devices, attached to the container's cgroup (config-linux.md "Device
 * allowlist"; the v1 devices controller's semantics: the last matching rule decides). */
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

struct prog {
    struct bpf_insn v[MAX_INSNS];
    int n;
};

static void emit(struct prog *p, struct bpf_insn i)
{
    if (p->n < MAX_INSNS)
        p->v[p->n++] = i;
}

#define INSN(c, d, s, o, im) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (im)})

/* One rule: a block that jumps past itself when it does not match, else returns. Returns
 * true when the rule matches everything: what follows would be unreachable, which the
 * verifier refuses. */
static bool rule(struct prog *p, char type, int access, long long major, long long minor, bool allow)
{
    struct bpf_insn blk[8];
    int n = 0;
    if (type == 'c' || type == 'b')   /* r3: BPF_DEVCG_DEV_* */
        blk[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 3, 0, 0, type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
    if (access != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
        /* the request (r4) must be a subset of the rule's access */
        blk[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 7, 4, 0, 0);
        blk[n++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 7, 0, 0, ~access);
        blk[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 7, 0, 0, 0);
    }
    if (major >= 0)
        blk[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int)major);
    if (minor >= 0)
        blk[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 6, 0, 0, (int)minor);
    int tail = 2;   /* mov r0, exit */
    for (int i = 0; i < n; i++) {
        if (BPF_CLASS(blk[i].code) == BPF_JMP)
            blk[i].off = (short)(n - i - 1 + tail);
        emit(p, blk[i]);
    }
    emit(p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, allow ? 1 : 0));
    emit(p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    return n == 0;
}

static int access_bits(const char *a)
{
    if (!a || !*a)
        return BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
    int bits = 0;
    for (; *a; a++)
        bits |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : *a == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
    return bits;
}

int husk_devfilter_attach(const char *cgroup_dir, const struct husk_config *c, struct husk_err *err)
{
    static struct prog p;
    memset(&p, 0, sizeof p);
    /* r2 = access_type: type in the low 16 bits, access in the high 16 */
    emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0));
    emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0));
    emit(&p, INSN(BPF_ALU64 | BPF_AND | BPF_K, 3, 0, 0, 0xffff));
    emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_X, 4, 2, 0, 0));
    emit(&p, INSN(BPF_ALU64 | BPF_RSH | BPF_K, 4, 0, 0, 16));
    emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 4, 0));   /* major */
    emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, 6, 1, 8, 0));   /* minor */
    /* Last match wins: rules in reverse, the implicit ones (appended last) first. The nodes
     * linux.devices makes get no rule of their own: their access is what the rules say, as
     * runc does (an engine's `--device X:Y:r` comes with an `r` rule, never widened). */
    for (size_t i = sizeof husk_dev_implicit_rules / sizeof *husk_dev_implicit_rules; i-- > 0;) {
        const struct husk_dev_implicit *d = &husk_dev_implicit_rules[i];
        rule(&p, d->type, access_bits(d->access), d->major, d->minor, true);
    }
    const struct husk_resources *r = &c->linux_.resources;
    bool decided = false;
    for (size_t i = r->n_devices; i-- > 0 && !decided;) {
        const struct husk_dev_rule *d = &r->devices[i];
        decided = rule(&p, d->type && *d->type ? d->type[0] : 'a', access_bits(d->access),
                       d->major.set ? d->major.v : -1, d->minor.set ? d->minor.v : -1, d->allow);
    }
    /* No rule matched: as a new v1 cgroup inherits "allow all". */
    if (!decided) {
        emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1));
        emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    }
    if (p.n >= MAX_INSNS)
        return husk_err_set(err, 0, "cgroup: too many device rules for the eBPF filter");

    static char log[8192];
    union bpf_attr load;
    memset(&load, 0, sizeof load);
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = (unsigned long long)(uintptr_t)p.v;
    load.insn_cnt = (unsigned)p.n;
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
