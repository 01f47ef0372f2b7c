/* The clone shared by create and exec (spawn.h). */
#include "spawn.h"

#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

pid_t husk_spawn_clone3(unsigned long flags, int cgroup_fd, bool *placed)
{
    struct clone_args ca = {.flags = flags, .exit_signal = SIGCHLD};
    if (cgroup_fd >= 0) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (unsigned long long)cgroup_fd;
        pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
        if (pid >= 0) {
            *placed = true;
            return pid;
        }
        ca.flags &= ~(unsigned long long)CLONE_INTO_CGROUP;
        ca.cgroup = 0;
    }
    *placed = false;
    return (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
}
