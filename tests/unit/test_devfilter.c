/* The eBPF device filter (src/linux/devfilter.c): its decisions, run by a small interpreter of
 * the instructions it emits, against the v1 devices controller's rule (the last matching rule
 * decides; none: allow) over random rule lists and requests; and, where we may load programs,
 * the kernel's verifier accepts every one. */
#include "husk/cgroup.h"
#include "unit.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RWM 7

struct req { uint32_t type, access, major, minor; };

/* the implicit rules, as src/linux/cgroup_internal.h lists them */
static const struct { char type; int major, minor; int access; } implicit[] = {
    {'c', -1, -1, BPF_DEVCG_ACC_MKNOD}, {'b', -1, -1, BPF_DEVCG_ACC_MKNOD},
    {'c', 1, 3, RWM}, {'c', 1, 5, RWM}, {'c', 1, 7, RWM}, {'c', 1, 8, RWM}, {'c', 1, 9, RWM},
    {'c', 5, 0, RWM}, {'c', 5, 2, RWM}, {'c', 136, -1, RWM}, {'c', 10, 200, RWM},
};

static int bits(const char *a)
{
    int b = 0;
    for (; a && *a; a++)
        b |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : *a == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
    return a && b ? b : RWM;
}

static bool match(char type, int access, long long major, long long minor, const struct req *q)
{
    char qt = q->type == BPF_DEVCG_DEV_CHAR ? 'c' : 'b';
    return (type == 'a' || type == qt) && (q->access & ~(uint32_t)access) == 0 && (major < 0 || major == q->major) &&
           (minor < 0 || minor == q->minor);
}

static int model(const struct husk_resources *r, const struct req *q)
{
    for (size_t i = sizeof implicit / sizeof *implicit; i-- > 0;)
        if (match(implicit[i].type, implicit[i].access, implicit[i].major, implicit[i].minor, q))
            return 1;
    for (size_t i = r->n_devices; i-- > 0;) {
        const struct husk_dev_rule *d = &r->devices[i];
        if (match(d->type ? d->type[0] : 'a', bits(d->access), d->major.set ? d->major.v : -1,
                  d->minor.set ? d->minor.v : -1, q))
            return d->allow;
    }
    return 1;
}

/* the instructions devfilter emits; anything else fails the run */
static int run(const struct bpf_insn *p, int n, const struct req *q)
{
    uint32_t ctx[3] = {q->access << 16 | q->type, q->major, q->minor};
    uint64_t reg[11] = {0};
    for (int pc = 0, steps = 0; pc >= 0 && pc < n && steps < 100000; pc++, steps++) {
        const struct bpf_insn *i = &p[pc];
        switch (i->code) {
        case BPF_LDX | BPF_MEM | BPF_H:
        case BPF_LDX | BPF_MEM | BPF_W: {
            if (i->src_reg != BPF_REG_1 || i->off < 0 || i->off > 10)
                return -2;
            uint32_t v = 0;
            memcpy(&v, (const char *)ctx + i->off, BPF_SIZE(i->code) == BPF_H ? 2 : 4);
            reg[i->dst_reg] = v;
            break;
        }
        case BPF_JMP | BPF_JNE | BPF_K:
            if (reg[i->dst_reg] != (uint64_t)(int64_t)i->imm)
                pc += i->off;
            break;
        case BPF_JMP | BPF_JSET | BPF_K:
            if (reg[i->dst_reg] & (uint64_t)(int64_t)i->imm)
                pc += i->off;
            break;
        case BPF_JMP | BPF_JA:
            pc += i->off;
            break;
        case BPF_JMP | BPF_JSLT | BPF_K:
            if ((int64_t)reg[i->dst_reg] < (int64_t)i->imm)
                pc += i->off;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            if (reg[i->dst_reg] == (uint64_t)(int64_t)i->imm)
                pc += i->off;
            break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
            reg[i->dst_reg] = (uint64_t)(int64_t)i->imm;
            break;
        case BPF_ALU64 | BPF_SUB | BPF_K:
            reg[i->dst_reg] -= (uint64_t)(int64_t)i->imm;
            break;
        case BPF_ALU64 | BPF_OR | BPF_X:
            reg[i->dst_reg] |= reg[i->src_reg];
            break;
        /* 32-bit ALU: on the low halves, the result zero-extended */
        case BPF_ALU | BPF_MOV | BPF_X:
            reg[i->dst_reg] = (uint32_t)reg[i->src_reg];
            break;
        case BPF_ALU | BPF_OR | BPF_X:
            reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] | (uint32_t)reg[i->src_reg];
            break;
        case BPF_ALU | BPF_XOR | BPF_K:
            reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] ^ (uint32_t)i->imm;
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] & (uint32_t)i->imm;
            break;
        case BPF_JMP | BPF_EXIT:
            return (int)reg[0];
        default:
            return -3;
        }
    }
    return -1;
}

static const char *const types[] = {"a", "c", "b", NULL};
static const char *const accesses[] = {"r", "w", "m", "rw", "rm", "wm", "rwm", "", NULL};
static const long long majors[] = {-1, 1, 5, 7, 10, 136};
static const long long minors[] = {-1, 0, 1, 3, 5, 8, 200, 229};

static struct husk_dev_rule random_rule(void)
{
    struct husk_dev_rule d = {.allow = rand() % 2};
    d.type = (char *)types[rand() % 4];
    d.access = (char *)accesses[rand() % 9];
    long long ma = majors[rand() % 6], mi = minors[rand() % 8];
    d.major = (struct husk_opt_i64){ma >= 0, ma};
    d.minor = (struct husk_opt_i64){mi >= 0, mi};
    return d;
}

/* One walk: every instruction once, and a verdict's two once more for each jump to it. */
static unsigned walk_bound(const struct bpf_insn *p, int n)
{
    unsigned jumps = 0;
    for (int i = 0; i < n; i++)
        jumps += BPF_CLASS(p[i].code) == BPF_JMP && BPF_OP(p[i].code) != BPF_EXIT;
    return (unsigned)n + 2 * jumps;
}

static bool can_load = true;

/* The kernel verifies the program; returns how many instructions its walk took (0 where
 * programs may not be loaded here, or the kernel does not say). */
static unsigned verifier_accepts(const struct bpf_insn *p, int n)
{
    if (!can_load)
        return 0;
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = (uint64_t)(uintptr_t)p;
    a.insn_cnt = (uint32_t)n;
    a.license = (uint64_t)(uintptr_t)"Apache-2.0";
    int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
    if (fd < 0 && (errno == EPERM || errno == ENOSYS)) {
        can_load = false;   /* not ours to try here: the interpreter's checks stand */
        return 0;
    }
    CHECK(fd >= 0);
    if (fd < 0)
        return 0;
    struct bpf_prog_info info;
    memset(&info, 0, sizeof info);
    memset(&a, 0, sizeof a);
    a.info.bpf_fd = (uint32_t)fd;
    a.info.info_len = sizeof info;
    a.info.info = (uint64_t)(uintptr_t)&info;
    unsigned walked = syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof a) == 0 ? info.verified_insns : 0;
    close(fd);
    return walked;
}

int main(void)
{
    static struct bpf_insn prog[4096];
    srand(20261203);
    /* Docker's own rules (bench/configs/docker.json): after it the program is small */
    struct husk_dev_rule docker[] = {
        {false, NULL, "rwm", {0}, {0}},
        {true, "c", "rwm", {1, 1}, {1, 5}}, {true, "c", "rwm", {1, 1}, {1, 3}}, {true, "c", "rwm", {1, 1}, {1, 9}},
        {true, "c", "rwm", {1, 1}, {1, 8}}, {true, "c", "rwm", {1, 5}, {1, 0}}, {true, "c", "rwm", {1, 5}, {1, 1}},
        {false, "c", "rwm", {1, 10}, {1, 229}},
    };
    struct husk_resources res;
    memset(&res, 0, sizeof res);
    res.devices = docker;
    res.n_devices = sizeof docker / sizeof *docker;
    int n = husk_devfilter_build(&res, prog, 4096);
    CHECK(n > 0 && n <= 130);
    /* what the load costs: the verifier's walk (with two branches per rule, 153 of 72) */
    unsigned walked = verifier_accepts(prog, n);
    CHECK(walked <= walk_bound(prog, n));
    int wrong = 0, cases = 0;
    for (int round = 0; round < 3000; round++) {
        static struct husk_dev_rule rules[12];
        size_t nr = (size_t)(round % 13);
        for (size_t i = 0; i < nr; i++)
            rules[i] = random_rule();
        if (round % 3 == 0 && nr)   /* engines start with deny-all */
            rules[0] = (struct husk_dev_rule){false, NULL, "rwm", {0}, {0}};
        res.devices = round ? rules : docker;
        res.n_devices = round ? nr : res.n_devices;
        n = husk_devfilter_build(&res, prog, 4096);
        CHECK(n > 0);
        if (n <= 0)
            continue;
        if (round < 300)
            CHECK(verifier_accepts(prog, n) <= walk_bound(prog, n));
        for (int k = 0; k < 40; k++) {
            struct req q = {rand() % 2 ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, (uint32_t)(1 + rand() % 7),
                            (uint32_t)majors[1 + rand() % 5], (uint32_t)minors[1 + rand() % 7]};
            cases++;
            if (run(prog, n, &q) != model(&res, &q))
                wrong++;
        }
    }
    CHECK(wrong == 0);
    if (wrong)
        fprintf(stderr, "devfilter: %d of %d decisions differ from the model\n", wrong, cases);
    return unit_done("devfilter");
}
