/* floor --runtime: what a conforming runtime must do for `husk spec`'s default config beyond
 * the kernel's share (floor_rt.c), in the order floor.c calls it. Each returns -1 on failure. */
#ifndef FLOOR_RT_H
#define FLOOR_RT_H

/* Before the clone: config read and scanned, the state under STATEDIR, the cgroup (its fd for
 * CLONE_INTO_CGROUP) and the pipe the child waits on before its exec. */
int rt_before(const char *config, const char *statedir, int *cgfd, int go[2]);
/* After the clone, in the parent: the device filter attached, then the go. */
int rt_after_clone(int cgfd, int go_w);
/* In the child: the cgroup namespace, the session keyring, the hostname. */
int rt_child_namespaces(const char *hostname);
/* In the child, after the mounts: the default devices and their links. */
int rt_child_devices(void);
/* In the child, last: rlimit, session, user, capabilities, no_new_privs, then the go. */
int rt_child_process(int go_r);
/* After the exit, or a failure of any step: the cgroup and the state removed. */
void rt_cleanup(void);

#endif
