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
 * remount), each with one mount call per step and nothing checked. Not done: device nodes,
 * the cgroup and its device filter, capabilities, state: a runtime's own share. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
    int dflt = argc > 1 && strcmp(argv[1], "--default") == 0;
    argv += dflt;
    argc -= dflt;
    if (argc < 3)
        return 125;
    unsigned long ns = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if (dflt)
        ns |= CLONE_NEWNET | CLONE_NEWCGROUP;
    pid_t pid = (pid_t)syscall(SYS_clone, ns | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0)
        return 125;
    if (pid == 0) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount(argv[1], argv[1], NULL, MS_BIND | MS_REC, NULL) < 0 || chdir(argv[1]) < 0 ||
            syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0)
            _exit(126);
        if (dflt && (chdir("/") < 0 || default_setup() < 0))
            _exit(126);
        execv(argv[2], argv + 2);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return 125;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
