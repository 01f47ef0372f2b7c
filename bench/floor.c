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
 * own start-up is as cheap as a program's can be. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 125;
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD, NULL,
                               NULL, NULL, NULL);
    if (pid < 0)
        return 125;
    if (pid == 0) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount(argv[1], argv[1], NULL, MS_BIND | MS_REC, NULL) < 0 || chdir(argv[1]) < 0 ||
            syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0)
            _exit(126);
        execv(argv[2], argv + 2);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return 125;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
