/* The benchmark's floor: the least any runtime must do for a container, as a program the
 * benchmark execs exactly as it execs a runtime (issue 7: "a floor program of the project's
 * own that does the bare clone + pivot_root + exec").
 *
 *   floor ROOTFS PROGRAM [ARG...]
 *
 * clone into new pid, mount, uts and ipc namespaces, make the rootfs the root with
 * pivot_root, exec PROGRAM there, wait for it and exit with its status. No config, no state,
 * no cgroup, no /proc or /dev: what is left is the kernel's share and one process image.
 * bench/Makefile links it statically (with musl-gcc where installed, as husk is) so that its
 * own start-up is as cheap as a program's can be.
 *
 *   floor --default ROOTFS PROGRAM [ARG...]
 *
 * The same-work floor of `husk spec`'s default config: six namespaces (pid, network, ipc,
 * uts, mount, cgroup), its seven mounts (proc, /dev tmpfs, devpts, /dev/shm, mqueue, sysfs
 * read-only, the cgroup2 tree read-only), a read-only rootfs, its ten masked paths (/dev/null
 * bound on files, a read-only tmpfs on directories) and five read-only paths (bind + read-only
 * remount), each with one mount call per step and nothing checked, and `lo` brought up in
 * the network namespace (as every runtime does; a plan's network namespace too). Not done:
 * device nodes, the cgroup and its device filter, capabilities, state: a runtime's own share.
 *
 *   floor --default --runtime STATEDIR CONFIG ROOTFS PROGRAM [ARG...]
 *
 * --default plus that share, as the least a program can do it (floor_rt.c): what any
 * conforming runtime costs for that config at least, beyond the kernel's work.
 *
 *   floor --plan PLAN [--seccomp ENTRY] ROOTFS PROGRAM [ARG...]
 *
 * The same-work floor of an engine's config (bench/configs/NAME.floor, one step a line; relative
 * bind sources are taken from PLAN's directory): its namespaces, hostname, mounts and binds
 * (made inside the rootfs before pivot_root; a cgroup2 mount without a cgroup namespace is a
 * bind of the floor's own cgroup, as husk makes it), sysctls, masked and read-only paths, rlimits,
 * and with --seccomp the very program husk built for the config's profile (an entry of husk's
 * seccomp cache, src/linux/seccomp.c: an 80-byte head, then the instructions), loaded right
 * before the exec. Not done, as for --default: devices, cgroup, capabilities, state. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floor_rt.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static const char *const masked[] = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                     "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                     "/proc/sched_debug", "/sys/firmware", "/proc/scsi"};
static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

/* After pivot_root: the default config's mounts, masks and read-only paths. */
static int default_setup(void)
{
    static const struct { const char *src, *dst, *type; unsigned long flags; const char *data; } m[] = {
        {"proc", "/proc", "proc", 0, NULL},
        {"tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
        {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
        {"shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"},
        {"mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL},
        {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL},
        {"cgroup", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY, NULL},
    };
    for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
        mkdir(m[i].dst, 0755);   /* /dev's children live on the fresh tmpfs */
        if (mount(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].data) < 0)
            return -1;
    }
    /* the read-only rootfs: a remount of the root bind */
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
        return -1;
    if (mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3)) < 0)
        return -1;
    for (size_t i = 0; i < sizeof masked / sizeof *masked; i++) {
        struct stat sb;
        if (stat(masked[i], &sb) < 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL);
        else
            mount("/dev/null", masked[i], NULL, MS_BIND, NULL);
    }
    for (size_t i = 0; i < sizeof readonly / sizeof *readonly; i++)
        if (mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL) == 0)
            mount(NULL, readonly[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC, NULL);
    return 0;
}

/* seccomp(2)'s program (linux/filter.h, which musl-gcc does not see) */
struct sock_filter {
    unsigned short code;
    unsigned char jt, jf;
    unsigned int k;
};
struct sock_fprog {
    unsigned short len;
    struct sock_filter *filter;
};
#define BPF_MAXINSNS 4096
#define SECCOMP_SET_MODE_FILTER 1

/* --plan: the steps, parsed before the clone */
#define MAX_STEPS 64
struct step {
    char kind[12], a[256], b[256], c[32], d[256];
    unsigned long flags;
};
static struct step steps[MAX_STEPS];
static int nsteps;
static struct sock_filter *prog;
static unsigned short prog_len;
static unsigned long plan_ns;   /* the plan's namespaces */

static unsigned long mount_flags(const char *list)
{
    static const struct { const char *n; unsigned long f; } names[] = {
        {"nosuid", MS_NOSUID}, {"nodev", MS_NODEV}, {"noexec", MS_NOEXEC}, {"ro", MS_RDONLY},
        {"strictatime", MS_STRICTATIME}, {"relatime", MS_RELATIME}, {"bind", MS_BIND}, {"rbind", MS_BIND | MS_REC},
    };
    unsigned long f = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (!strcmp(t, names[i].n))
                f |= names[i].f;
    return f;
}

static unsigned long read_plan(const char *path)
{
    static const struct { const char *n; unsigned long f; } nss[] = {
        {"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
        {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP},
    };
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char dir[128] = ".";
    const char *slash = strrchr(path, '/');
    if (slash && slash - path < (long)sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    unsigned long ns = 0;
    char line[1024];
    while (fgets(line, sizeof line, f) && nsteps < MAX_STEPS) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        struct step *s = &steps[nsteps];
        char flags[128] = "-";
        int n = sscanf(line, "%11s %255s %255s %31s %127s %255[^\n]", s->kind, s->a, s->b, s->c, flags, s->d);
        if (n < 1)
            continue;
        if (!strcmp(s->kind, "ns")) {
            for (char *t = strtok(line + 3, " "); t; t = strtok(NULL, " "))
                for (size_t i = 0; i < sizeof nss / sizeof *nss; i++)
                    if (!strcmp(t, nss[i].n))
                        ns |= nss[i].f;
            continue;
        }
        if (!strcmp(s->kind, "sysctl") || !strcmp(s->kind, "hostname")) {
            /* the value is the rest of the line */
            const char *v = line + strlen(s->kind) + 1 + (strcmp(s->kind, "sysctl") ? 0 : strlen(s->a) + 1);
            snprintf(s->d, sizeof s->d, "%s", v);
        }
        if (!strcmp(s->kind, "mount"))
            s->flags = mount_flags(flags);
        if (!strcmp(s->kind, "mount") && !strcmp(s->d, "-"))
            s->d[0] = '\0';
        if (!strcmp(s->kind, "bind") && s->a[0] != '/') {
            char abs[sizeof s->a];
            if (snprintf(abs, sizeof abs, "%s/%s", dir, s->a) >= (int)sizeof abs)
                return 0;
            memcpy(s->a, abs, sizeof abs);
        }
        nsteps++;
    }
    fclose(f);
    return ns;
}

static int read_seccomp(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    static unsigned char buf[80 + BPF_MAXINSNS * sizeof(struct sock_filter)];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n <= 80 || (n - 80) % (ssize_t)sizeof(struct sock_filter))
        return -1;
    prog = (struct sock_filter *)(buf + 80);
    prog_len = (unsigned short)((n - 80) / (ssize_t)sizeof(struct sock_filter));
    return 0;
}

/* A cgroup2 mount without a cgroup namespace, as husk makes it (src/linux/rootfs_dev.c): a bind
 * of the process's own cgroup directory, then a remount with the mount's flags. Not a fresh
 * cgroup2 mount: in the initial cgroup namespace every one reapplies the hierarchy's root
 * flags, and on 6.18 that takes cgroup_threadgroup_rwsem for writing (cgroup_favor_dynmods),
 * i.e. waits for a normal RCU grace period (~10 ms here) unless another writer held it within
 * the last one: the floor slept there, bimodally, while husk never makes that mount. */
static int cgroup_bind(const char *dst, unsigned long flags)
{
    char self[4096], src[4200];
    int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, self, sizeof self - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *v2 = strstr(self, "0::");   /* the unified hierarchy's line, "0::PATH" */
    if (!v2 || (v2 != self && v2[-1] != '\n'))
        return -1;
    v2[strcspn(v2, "\n")] = '\0';
    snprintf(src, sizeof src, "/sys/fs/cgroup%s", v2 + 3);
    mkdir(dst, 0755);
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
        return -1;
    return mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | flags, NULL);
}

/* Before pivot_root, in the rootfs (cwd): the plan's hostname, mounts and binds. */
static int plan_mounts(void)
{
    for (int i = 0; i < nsteps; i++) {
        struct step *s = &steps[i];
        char dst[300];
        snprintf(dst, sizeof dst, ".%s", s->b);
        if (!strcmp(s->kind, "hostname")) {
            if (sethostname(s->d, strlen(s->d)) < 0)
                return -1;
        } else if (!strcmp(s->kind, "mount") && !strcmp(s->c, "cgroup2") && !(plan_ns & CLONE_NEWCGROUP)) {
            if (cgroup_bind(dst, s->flags) < 0)
                return -1;
        } else if (!strcmp(s->kind, "mount")) {
            mkdir(dst, 0755);
            if (mount(s->a, dst, s->c, s->flags, s->d[0] ? s->d : NULL) < 0)
                return -1;
        } else if (!strcmp(s->kind, "bind")) {
            struct stat sb;
            if (stat(s->a, &sb) < 0)
                return -1;
            if (S_ISDIR(sb.st_mode))
                mkdir(dst, 0755);
            else
                close(open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
            if (mount(s->a, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -1;
            /* options: a propagation change and a remount with flags, as runtimes do */
            unsigned long f = mount_flags(s->c) & ~(MS_BIND | MS_REC);
            if (strstr(s->c, "private") && mount(NULL, dst, NULL, MS_PRIVATE | MS_REC, NULL) < 0)
                return -1;
            if (f && mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | f, NULL) < 0)
                return -1;
        }
    }
    return mknod("./dev/null", S_IFCHR | 0666, makedev(1, 3));
}

/* After pivot_root: sysctls, masks, read-only paths, rlimits, the seccomp program. */
static int plan_finish(void)
{
    for (int i = 0; i < nsteps; i++) {
        struct step *s = &steps[i];
        if (!strcmp(s->kind, "sysctl")) {
            char path[300];
            snprintf(path, sizeof path, "/proc/sys/%s", s->a);
            for (char *p = path + 10; *p; p++)
                if (*p == '.')
                    *p = '/';
            int fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write(fd, s->d, strlen(s->d)) < 0)
                return -1;
            close(fd);
        } else if (!strcmp(s->kind, "mask")) {
            struct stat sb;
            if (stat(s->a, &sb) < 0)
                continue;
            if (S_ISDIR(sb.st_mode))
                mount("tmpfs", s->a, "tmpfs", MS_RDONLY, NULL);
            else
                mount("/dev/null", s->a, NULL, MS_BIND, NULL);
        } else if (!strcmp(s->kind, "ro")) {
            if (mount(s->a, s->a, NULL, MS_BIND | MS_REC, NULL) == 0)
                mount(NULL, s->a, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC, NULL);
        } else if (!strcmp(s->kind, "rlimit")) {
            static const struct { const char *n; int r; } rl[] = {{"NOFILE", RLIMIT_NOFILE}, {"NPROC", RLIMIT_NPROC}};
            for (size_t k = 0; k < sizeof rl / sizeof *rl; k++)
                if (!strcmp(s->a, rl[k].n)) {
                    struct rlimit v = {strtoul(s->b, NULL, 10), strtoul(s->c, NULL, 10)};
                    if (setrlimit(rl[k].r, &v) < 0)
                        return -1;
                }
        }
    }
    if (prog) {
        struct sock_fprog fp = {.len = prog_len, .filter = prog};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
            return -1;
    }
    return 0;
}

/* `lo` up in a new network namespace, as every runtime does (runc, crun, husk's netlo.c): the
 * kernel's share of that (addrconf, the device's notifiers) is the same however it is asked,
 * and one ioctl is the least a program can ask it with. */
static int lo_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, sizeof r.ifr_name, "lo");
    r.ifr_flags = IFF_UP | IFF_LOOPBACK;
    int rc = s < 0 ? -1 : ioctl(s, SIOCSIFFLAGS, &r);
    if (s >= 0)
        close(s);
    return rc;
}

int main(int argc, char **argv)
{
    int dflt = argc > 1 && strcmp(argv[1], "--default") == 0;
    argv += dflt;
    argc -= dflt;
    const char *rt_state = NULL, *rt_config = NULL;
    if (dflt && argc > 3 && !strcmp(argv[1], "--runtime")) {
        rt_state = argv[2];
        rt_config = argv[3];
        argv += 3;
        argc -= 3;
    }
    const char *plan = NULL, *seccomp = NULL;
    if (argc > 2 && !strcmp(argv[1], "--plan")) {
        plan = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (plan && argc > 2 && !strcmp(argv[1], "--seccomp")) {
        seccomp = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc < 3)
        return 125;
    unsigned long ns = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if (dflt)
        ns |= CLONE_NEWNET | CLONE_NEWCGROUP;
    if (plan && !(ns = plan_ns = read_plan(plan)))
        return 125;
    if (seccomp && read_seccomp(seccomp) < 0)
        return 125;
    int cgfd = -1, go[2] = {-1, -1};
    pid_t pid;
    if (rt_state) {
        /* the cgroup namespace is made in the cgroup, by the child */
        if (rt_before(rt_config, rt_state, &cgfd, go) < 0) {
            rt_cleanup();
            return 125;
        }
        struct { unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
                 set_tid, set_tid_size, cgroup; } ca = {
            .flags = (ns & ~(unsigned long)CLONE_NEWCGROUP) | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
            .cgroup = (unsigned long long)cgfd};
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    } else {
        pid = (pid_t)syscall(SYS_clone, ns | SIGCHLD, NULL, NULL, NULL, NULL);
    }
    if (pid < 0) {
        if (rt_state)
            rt_cleanup();
        return 125;
    }
    if (pid == 0) {
        if (rt_state && (close(go[1]) < 0 || rt_child_namespaces("husk") < 0))
            _exit(126);
        if ((ns & CLONE_NEWNET) && lo_up() < 0)
            _exit(126);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount(argv[1], argv[1], NULL, MS_BIND | MS_REC, NULL) < 0 || chdir(argv[1]) < 0 ||
            (plan && plan_mounts() < 0) || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0)
            _exit(126);
        if (dflt && (chdir("/") < 0 || default_setup() < 0))
            _exit(126);
        if (rt_state && (rt_child_devices() < 0 || rt_child_process(go[0]) < 0))
            _exit(126);
        if (plan && (chdir("/") < 0 || plan_finish() < 0))
            _exit(126);
        execv(argv[2], argv + 2);
        _exit(127);
    }
    if (rt_state) {
        close(go[0]);
        if (rt_after_clone(cgfd, go[1]) < 0)
            kill(pid, SIGKILL);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return 125;
    if (rt_state)
        rt_cleanup();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
