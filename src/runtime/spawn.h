/* Spawning a container process, the part create (the init) and exec (a process in a running
 * container) share on the husk side. What the process then does for itself is process.c's
 * (every process) and init.c's (the init alone). */
#ifndef HUSK_SPAWN_H
#define HUSK_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/* clone3 with `flags`; with cgroup_fd >= 0 the child is born in that cgroup2 directory
 * (CLONE_INTO_CGROUP: no migration later, which on a busy kernel costs a full RCU grace
 * period), else, or when the kernel refuses that, where we are. *placed says which. */
pid_t husk_spawn_clone3(unsigned long flags, int cgroup_fd, bool *placed);

/* The lowest fd the setup may hold in the child: stdio and the preserved fds 3..3+N-1
 * (runtime.md) are the program's. */
static inline int husk_spawn_fd_floor(int preserve_fds)
{
    return 3 + (preserve_fds > 0 ? preserve_fds : 0);
}

#endif
