/* husk's exec trampoline: the container process's last exec before its program. husk
 * execveat()s this from a sealed memfd, so that while the program is exec'd, /proc/self/exe
 * (which binfmt_script and PT_INTERP resolve against the exec'ing process) is that memfd,
 * never the host's husk binary (CVE-2019-5736). Freestanding: raw syscalls, no libc, a few
 * hundred bytes, nothing to relocate. */
#include "trampoline_abi.h"

#if defined(__x86_64__)
#define NR_write 1
#define NR_fcntl 72
#define NR_prctl 157
#define NR_sendto 44
#define NR_execve 59
#define NR_exit_group 231
#define NR_capget 125
#define NR_capset 126
static long sc(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
/* the kernel's initial stack: argc, argv..., NULL, envp..., NULL */
__asm__(".text\n.global _start\n_start:\n"
        "xor %rbp, %rbp\nmov %rsp, %rdi\nand $-16, %rsp\ncall tramp_main\nhlt\n");
#elif defined(__aarch64__)
#define NR_write 64
#define NR_fcntl 25
#define NR_prctl 167
#define NR_sendto 206
#define NR_execve 221
#define NR_exit_group 94
#define NR_capget 90
#define NR_capset 91
static long sc(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c,
                  x3 __asm__("x3") = d, x4 __asm__("x4") = e, x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}
__asm__(".text\n.global _start\n_start:\n"
        "mov x29, #0\nmov x30, #0\nmov x0, sp\nand sp, x0, #-16\nbl tramp_main\nbrk #0\n");
#else
#error "husk's exec trampoline supports x86_64 and aarch64"
#endif

#define F_SETFD 2
#define FD_CLOEXEC 1
#define PR_SET_DUMPABLE 4
#define MSG_NOSIGNAL 0x4000
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_LOWER 3
#define EINVAL 22

struct packet {   /* the head of init_internal.h's struct sync_packet */
    int type;
    int value;
    char msg[2048];
};

static __attribute__((noreturn)) void die(int code)
{
    for (;;)
        sc(NR_exit_group, code, 0, 0, 0, 0, 0);
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* "INH:EXTRA" (hex) after the two flag bytes: undo what husk_caps_carry raised for the hop
 * here, so the program's execve sees the process's configured sets. 0 or -errno. */
static long restore_caps(const char *s)
{
    unsigned long long v[2] = {0, 0};
    for (int k = 0; k < 2; k++, s++) {
        const char *start = s;
        for (; (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'); s++)
            v[k] = v[k] << 4 | (unsigned long long)(*s <= '9' ? *s - '0' : *s - 'a' + 10);
        if (s == start || s - start > 16 || *s != (k ? '\0' : ':'))
            return -EINVAL;
    }
    for (long cap = 0; cap < 64; cap++)
        if (v[1] >> cap & 1) {
            long r = sc(NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap, 0, 0, 0);
            if (r < 0)
                return r;
        }
    struct { unsigned version; int pid; } hdr = {0x20080522, 0};   /* _LINUX_CAPABILITY_VERSION_3 */
    struct { unsigned effective, permitted, inheritable; } d[2];
    long r = sc(NR_capget, (long)&hdr, (long)d, 0, 0, 0, 0);
    if (r < 0)
        return r;
    d[0].inheritable = (unsigned)v[0];
    d[1].inheritable = (unsigned)(v[0] >> 32);
    return sc(NR_capset, (long)&hdr, (long)d, 0, 0, 0, 0);
}

__attribute__((noreturn, used)) void tramp_main(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1), **envp = argv + argc + 1;
    /* Only husk's own call: a container re-running us (`#!/proc/self/exe`) gets nothing. */
    if (argc <= HUSK_TRAMPOLINE_ARGS || !streq(argv[0], HUSK_TRAMPOLINE_ARGV0) || !argv[2][0] || !argv[2][1]) {
        static const char msg[] = "husk-exec: husk's exec trampoline, not a program to run\n";
        sc(NR_write, 2, (long)msg, sizeof msg - 1, 0, 0, 0);
        die(127);
    }
    /* The sync socket is ours until the exec: no ptrace of this short-lived stage. */
    sc(NR_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0, 0);
    long sync = 0;
    for (const char *s = argv[1]; *s; s++) {
        if (*s < '0' || *s > '9' || sync > 65535)
            die(127);
        sync = sync * 10 + (*s - '0');
    }
    /* EOF on the socket tells husk that the program runs. */
    long e = -sc(NR_fcntl, sync, F_SETFD, FD_CLOEXEC, 0, 0, 0);
    char what = argv[2][0];
    if (e <= 0 && argv[2][2] && (e = -restore_caps(argv[2] + 2)) > 0)
        what = 'c';
    if (e <= 0)
        e = -sc(NR_execve, (long)argv[3], (long)(argv + HUSK_TRAMPOLINE_ARGS), (long)envp, 0, 0, 0);
    struct packet p;   /* on the stack: the program has no writable segment */
    p.type = HUSK_SYNC_EXEC_FAILED;
    p.value = (int)e;
    unsigned long n = 0;
    p.msg[n++] = what;
    for (const char *s = argv[HUSK_TRAMPOLINE_ARGS]; *s && n < sizeof p.msg - 1; s++)
        p.msg[n++] = *s;
    p.msg[n++] = '\0';
    sc(NR_sendto, sync, (long)&p, (long)(__builtin_offsetof(struct packet, msg) + n), MSG_NOSIGNAL, 0, 0);
    die((unsigned char)argv[2][1]);
}
