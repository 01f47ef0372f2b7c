/* The loopback interface of a new network namespace. */
#ifndef HUSK_NETLO_H
#define HUSK_NETLO_H

#include <sys/types.h>

#include "husk/err.h"

/* Sets `lo` up in the current network namespace: one rtnetlink RTM_NEWLINK with IFF_UP,
 * acknowledged. As runc and crun do for a new namespace (the kernel makes it down). */
int husk_net_lo_up(struct husk_err *err);
/* Our network namespace, from one of our sockets (SIOCGSKNS: no /proc): an fd, or -1 where we
 * lack CAP_NET_ADMIN over it (a user namespace of a rootless engine), and so could not come
 * back to it after entering another. */
int husk_net_ns_of(int sock);
/* `lo` up from outside, in the network namespace of process pid, over a netlink socket made
 * there: setns and straight back to own_ns (husk_net_ns_of). */
int husk_net_lo_up_of(pid_t pid, int own_ns, struct husk_err *err);

#endif
