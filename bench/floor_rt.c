/* `floor --default --runtime STATEDIR CONFIG ROOTFS PROGRAM`: the default-config floor plus
 * what any conforming runtime must also do for that config, each step the least a program can
 * do it with and nothing checked: read and scan config.json, a state directory with its
 * state file under a lock, the container's own cgroup (made, cloned into, removed after the
 * exit) with the config's device allowlist as an eBPF program (config-linux.md "Device
 * allowlist": the config's deny-all and the default devices), the cgroup namespace rooted in
 * it, a session keyring and the hostname, the default devices and their links
 * (config-linux.md "Default Devices", runtime-linux.md "Dev symbolic links"), the rlimit,
 * a session, the user, the capabilities (bounding set, then capset) and no_new_privs
 * (config.md "POSIX process"). Not done: anything a runtime does for safety or state beyond
 * that (husk's in-root path resolution, creating mark, exec trampoline, saved config): those
 * are husk's own price, which husk - floor_rt shows. */
#define _GNU_SOURCE
#include "floor_rt.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* linux/bpf.h and linux/capability.h, which musl-gcc does not see: the parts used */
struct bpf_insn {
    uint8_t code;
    uint8_t dst_reg : 4, src_reg : 4;
    int16_t off;
    int32_t imm;
};
union bpf_attr {
    struct {
        uint32_t prog_type, insn_cnt;
        uint64_t insns, license;
        uint32_t log_level, log_size;
        uint64_t log_buf;
        uint32_t kern_version, prog_flags;
    } load;
    struct {
        uint32_t target_fd, attach_bpf_fd, attach_type, attach_flags;
    } attach;
    char pad[128];
};
#define BPF_PROG_LOAD 5
#define BPF_PROG_ATTACH 8
#define BPF_PROG_TYPE_CGROUP_DEVICE 15
#define BPF_CGROUP_DEVICE 6
#define B_LDX_H 0x69   /* BPF_LDX | BPF_MEM | BPF_H */
#define B_LDX_W 0x61   /* BPF_LDX | BPF_MEM | BPF_W */
#define B_MOV64_K 0xb7
#define B_MOV_X 0xbc
#define B_XOR_K 0xa4
#define B_AND_K 0x54
#define B_OR_X 0x4c
#define B_OR64_X 0x4f
#define B_SUB64_K 0x17
#define B_JSLT_K 0xc5
#define B_EXIT 0x95
struct cap_header {
    uint32_t version;
    int pid;
};
struct cap_data {
    uint32_t effective, permitted, inheritable;
};
#define CAP_VERSION_3 0x20080522
#define KEYCTL_JOIN_SESSION_KEYRING 1

static char state_dir[600], cgroup_dir[4300];

/* One pass over the document as a JSON scanner takes it: strings with their escapes, nesting.
 * The least any parser does; a runtime then also builds its model. */
static int scan_json(const char *s, size_t n)
{
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return depth == 0 ? 0 : -1;
}

int rt_before(const char *config, const char *root, int *cgfd, int go[2])
{
    static char buf[1 << 16];
    int fd = open(config, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (fd >= 0)
        close(fd);
    if (n <= 0 || scan_json(buf, (size_t)n) < 0)
        return -1;
    /* the state, under the directory's lock */
    snprintf(state_dir, sizeof state_dir, "%s/floor-%d", root, getpid());
    if (mkdir(state_dir, 0700) < 0)
        return -1;
    int dir = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || flock(dir, LOCK_EX) < 0)
        return -1;
    char st[512];
    int len = snprintf(st, sizeof st, "{\"ociVersion\":\"1.0.2\",\"id\":\"floor-%d\",\"status\":\"created\",\"pid\":0,"
                       "\"bundle\":\"%s\"}", getpid(), config);
    int sf = openat(dir, "state.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (sf < 0 || write(sf, st, (size_t)len) != len)
        return -1;
    close(sf);
    /* the cgroup, below our own (cgroup2: the line "0::PATH") */
    char self[4096];
    fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    n = fd < 0 ? -1 : read(fd, self, sizeof self - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *v2 = strstr(self, "0::");
    if (!v2)
        return -1;
    v2[strcspn(v2, "\n")] = '\0';
    snprintf(cgroup_dir, sizeof cgroup_dir, "/sys/fs/cgroup%s/floor-%d", strcmp(v2 + 3, "/") ? v2 + 3 : "", getpid());
    if (mkdir(cgroup_dir, 0755) < 0 || (*cgfd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    return pipe2(go, O_CLOEXEC);
}

/* The allowlist: the default devices (runc's and husk's implicit rules) over the config's
 * deny-all, one branchless match per rule OR-ed into r6, one branch (as husk builds it). */
static int device_filter(int cgfd)
{
    static const struct { int type, major, minor, access; } allow[] = {
        {1, 10, 200, 7}, {1, 136, -1, 7}, {1, 5, 2, 7}, {1, 5, 0, 7}, {1, 1, 9, 7}, {1, 1, 8, 7},
        {1, 1, 7, 7},    {1, 1, 5, 7},    {1, 1, 3, 7}, {0, -1, -1, 1}, {1, -1, -1, 1},
    };
    struct bpf_insn p[256];
    int n = 0;
#define I(c, d, s, o, im) (p[n++] = (struct bpf_insn){(c), (d), (s), (o), (im)})
    I(B_LDX_H, 7, 1, 0, 0);     /* type (BPF_DEVCG_DEV_BLOCK 1, CHAR 2) */
    I(B_MOV_X, 8, 7, 0, 0);
    I(B_XOR_K, 7, 0, 0, 2);
    I(B_XOR_K, 8, 0, 0, 1);
    I(B_MOV64_K, 6, 0, 0, 0);
    for (size_t i = 0; i < sizeof allow / sizeof *allow; i++) {
        I(B_MOV_X, 0, allow[i].type ? 7 : 8, 0, 0);
        if (allow[i].access != 7) {
            I(B_LDX_H, 2, 1, 2, 0);
            I(B_AND_K, 2, 0, 0, ~allow[i].access & 7);
            I(B_OR_X, 0, 2, 0, 0);
        }
        if (allow[i].major >= 0) {
            I(B_LDX_W, 2, 1, 4, 0);
            I(B_XOR_K, 2, 0, 0, allow[i].major);
            I(B_OR_X, 0, 2, 0, 0);
        }
        if (allow[i].minor >= 0) {
            I(B_LDX_W, 2, 1, 8, 0);
            I(B_XOR_K, 2, 0, 0, allow[i].minor);
            I(B_OR_X, 0, 2, 0, 0);
        }
        I(B_SUB64_K, 0, 0, 0, 1);
        I(B_OR64_X, 6, 0, 0, 0);
    }
    I(B_JSLT_K, 6, 0, 2, 0);    /* a match: allow */
    I(B_MOV64_K, 0, 0, 0, 0);
    I(B_EXIT, 0, 0, 0, 0);
    I(B_MOV64_K, 0, 0, 0, 1);
    I(B_EXIT, 0, 0, 0, 0);
#undef I
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.load.insn_cnt = (uint32_t)n;
    a.load.insns = (uint64_t)(uintptr_t)p;
    a.load.license = (uint64_t)(uintptr_t)"Apache";
    int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
    if (prog < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.attach.target_fd = (uint32_t)cgfd;
    a.attach.attach_bpf_fd = (uint32_t)prog;
    a.attach.attach_type = BPF_CGROUP_DEVICE;
    int rc = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof a);
    close(prog);
    return rc;
}

int rt_after_clone(int cgfd, int go_w)
{
    int rc = device_filter(cgfd);
    close(cgfd);
    if (rc == 0 && write(go_w, "S", 1) != 1)
        rc = -1;
    close(go_w);
    return rc;
}

int rt_child_namespaces(const char *hostname)
{
    if (unshare(CLONE_NEWCGROUP) < 0 || syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
        return -1;
    return sethostname(hostname, strlen(hostname));
}

/* In the container's /dev (after pivot_root, its tmpfs mounted): null is the floor's */
int rt_child_devices(void)
{
    static const struct { const char *path; unsigned ma, mi; } nodes[] = {
        {"/dev/zero", 1, 5}, {"/dev/full", 1, 7}, {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
    };
    static const char *const links[][2] = {
        {"/proc/self/fd", "/dev/fd"},           {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"},
        {"/proc/self/fd/2", "/dev/stderr"},     {"pts/ptmx", "/dev/ptmx"},
    };
    for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++)
        if (mknod(nodes[i].path, S_IFCHR | 0666, makedev(nodes[i].ma, nodes[i].mi)) < 0)
            return -1;
    for (size_t i = 0; i < sizeof links / sizeof *links; i++)
        if (symlink(links[i][0], links[i][1]) < 0)
            return -1;
    return 0;
}

/* The process: rlimit, session, user 0:0, the three capabilities, no_new_privs; then the go. */
int rt_child_process(int go_r)
{
    struct rlimit nofile = {1024, 1024};
    if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 || setsid() < 0 || setgroups(0, NULL) < 0 ||
        setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return -1;
    /* CAP_KILL 5, CAP_NET_BIND_SERVICE 10, CAP_AUDIT_WRITE 29 */
    const uint32_t keep = 1u << 5 | 1u << 10 | 1u << 29;
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
        if (!(cap < 32 && (keep >> cap & 1)) && prctl(PR_CAPBSET_DROP, cap) < 0)
            return -1;
    struct cap_header h = {CAP_VERSION_3, 0};
    struct cap_data d[2] = {{keep, keep, 0}, {0, 0, 0}};
    if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    char b;
    if (read(go_r, &b, 1) != 1)
        return -1;
    close(go_r);
    return 0;
}

void rt_cleanup(void)
{
    /* the cgroup empties once the reaped child's exit is complete: a few tries */
    for (int i = 0; cgroup_dir[0] && i < 1000 && rmdir(cgroup_dir) < 0 && errno == EBUSY; i++)
        usleep(10);
    if (!state_dir[0])
        return;
    char st[700];
    snprintf(st, sizeof st, "%s/state.json", state_dir);
    unlink(st);
    rmdir(state_dir);
}
