/* The loopback interface of a new network namespace. */
#ifndef HUSK_NETLO_H
#define HUSK_NETLO_H

#include "husk/err.h"

/* Sets `lo` up in the current network namespace: one rtnetlink RTM_NEWLINK with IFF_UP,
 * acknowledged. As runc and crun do for a new namespace (the kernel makes it down). */
int husk_net_lo_up(struct husk_err *err);

#endif
