/* husk_seccomp_compile builds the program in a child, one filter per architecture merged
 * into one (src/linux/seccomp.c): it must be, byte for byte, the program libseccomp makes
 * from one filter of all the architectures, rule by rule (how husk built it before). */
#include "husk/config.h"
#include "husk/security.h"
#include "unit.h"

#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static uint32_t act_of(const char *name, const struct husk_opt_u64 *e)
{
    uint16_t ret = e->set ? (uint16_t)e->v : EPERM;
    if (!strcmp(name, "SCMP_ACT_ERRNO"))
        return SCMP_ACT_ERRNO(ret);
    if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
        return SCMP_ACT_KILL_PROCESS;
    if (!strcmp(name, "SCMP_ACT_LOG"))
        return SCMP_ACT_LOG;
    return SCMP_ACT_ALLOW;
}

static enum scmp_compare op_of(const char *name)
{
    return !strcmp(name, "SCMP_CMP_EQ") ? SCMP_CMP_EQ : !strcmp(name, "SCMP_CMP_GT") ? SCMP_CMP_GT
         : !strcmp(name, "SCMP_CMP_LT") ? SCMP_CMP_LT : SCMP_CMP_MASKED_EQ;
}

/* The single filter of every architecture (the tests' profiles use the names above). */
static size_t reference(const struct husk_seccomp *s, struct sock_filter *out, size_t max)
{
    uint32_t def = act_of(s->default_action, &s->default_errno_ret);
    scmp_filter_ctx ctx = seccomp_init(def);
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    for (size_t i = 0; i < s->architectures.n; i++) {
        char name[32];   /* SCMP_ARCH_X86_64 -> x86_64 */
        snprintf(name, sizeof name, "%s", s->architectures.v[i] + strlen("SCMP_ARCH_"));
        for (char *p = name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        CHECK(seccomp_arch_add(ctx, seccomp_arch_resolve_name(name)) != -EINVAL);
    }
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct husk_syscall *sc = &s->syscalls[i];
        uint32_t act = act_of(sc->action, &sc->errno_ret);
        if (act == def)
            continue;
        struct scmp_arg_cmp c[6];
        unsigned n = 0;
        for (size_t a = 0; a < sc->n_args; a++)
            c[n++] = (struct scmp_arg_cmp){sc->args[a].index, op_of(sc->args[a].op), sc->args[a].value,
                                           sc->args[a].value_two};
        for (size_t k = 0; k < sc->names.n; k++) {
            int nr = seccomp_syscall_resolve_name(sc->names.v[k]);
            if (nr == __NR_SCMP_ERROR)
                continue;
            int r = seccomp_rule_add_array(ctx, act, nr, n, c);
            if (r == -EINVAL && n > 1) {
                for (unsigned j = 0; j < n && r != 0; j++)
                    r = seccomp_rule_add_array(ctx, act, nr, 1, &c[j]);
                for (unsigned j = 1; j < n; j++)
                    seccomp_rule_add_array(ctx, act, nr, 1, &c[j]);
            }
        }
    }
    int fd = memfd_create("ref", 0);
    seccomp_export_bpf(ctx, fd);
    seccomp_release(ctx);
    ssize_t len = pread(fd, out, max * sizeof *out, 0);
    close(fd);
    return len > 0 ? (size_t)len / sizeof *out : 0;
}

static void same_program(const char *seccomp_json)
{
    char json[8192];
    snprintf(json, sizeof json,
             "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"]},"
             "\"linux\":{\"seccomp\":%s}}", seccomp_json);
    struct husk_err err = {0};
    struct husk_config *c = husk_config_parse(json, strlen(json), "config.json", &err);
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    struct husk_seccomp *s = &c->linux_.seccomp;
    CHECK(husk_seccomp_compile(s, -1, &err) == 0);
    static struct sock_filter want[BPF_MAXINSNS];
    size_t n = reference(s, want, BPF_MAXINSNS);
    CHECK(n > 0 && s->prog && s->prog_len == n);
    if (s->prog && s->prog_len == n)
        CHECK(memcmp(s->prog, want, n * sizeof *want) == 0);
    else
        fprintf(stderr, "  %zu instructions expected, %u built: %s\n", n, s->prog_len, seccomp_json);
    husk_config_free(c);
}

#define ALLOW_LIST                                                                                     \
    "{\"names\":[\"read\",\"write\",\"openat\",\"close\",\"mmap\",\"brk\",\"futex\",\"exit_group\",\"clone3\"," \
    "\"socketcall\",\"socket\",\"ipc\",\"shmget\",\"uname\",\"execve\",\"nosuchcall\"],\"action\":\"SCMP_ACT_ALLOW\"}"

int main(void)
{
    /* Docker's shape: three architectures, an allow list, rules on arguments */
    same_program("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\","
                 "\"SCMP_ARCH_X32\"],\"syscalls\":[" ALLOW_LIST ",{\"names\":[\"personality\"],\"action\":"
                 "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"clone\"],"
                 "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,\"op\":"
                 "\"SCMP_CMP_MASKED_EQ\"}]}]}");
    /* the order of the list, duplicates, the native one last */
    same_program("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"architectures\":[\"SCMP_ARCH_X32\","
                 "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X86_64\"],\"syscalls\":[" ALLOW_LIST "]}");
    /* one foreign architecture; none named (the native one only) */
    same_program("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86\"],\"syscalls\":[" ALLOW_LIST "]}");
    same_program("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[" ALLOW_LIST "]}");
    /* two conditions on one argument: libseccomp refuses them ANDed, they become two rules
     * (the whole-filter path); an errno, a kill and a log rule; a rule equal to the default */
    same_program("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                 "\"syscalls\":[{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
                 "\"value\":8,\"op\":\"SCMP_CMP_GT\"},{\"index\":0,\"value\":100,\"op\":\"SCMP_CMP_LT\"}]},{\"names\":"
                 "[\"socket\",\"bind\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[{\"index\":0,\"value\":40,"
                 "\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"kexec_load\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},{\"names\":"
                 "[\"mkdir\"],\"action\":\"SCMP_ACT_LOG\"},{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
    /* an architecture of another family */
    same_program("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_AARCH64\","
                 "\"SCMP_ARCH_ARM\"],\"syscalls\":[" ALLOW_LIST "]}");
    return unit_done("test_seccomp");
}
