/* `lo` up in a new network namespace (runc and crun both do it; services in containers
 * without other networking still talk to 127.0.0.1). A single rtnetlink message: no library,
 * and `lo` is always ifindex 1 in a namespace of its own (the kernel registers it first). */
#include "husk/netlo.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LO_IFINDEX 1

/* RTM_NEWLINK over s, an rtnetlink socket of the namespace; closes s. */
static int lo_up_on(int s, struct husk_err *err)
{
    struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_NEWLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.h.nlmsg_seq = 1;
    req.i.ifi_family = AF_UNSPEC;
    req.i.ifi_index = LO_IFINDEX;
    req.i.ifi_flags = IFF_UP;
    req.i.ifi_change = IFF_UP;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(s, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)sizeof req) {
        int e = errno;
        close(s);
        return husk_err_set(err, e, "bring up `lo`: send RTM_NEWLINK");
    }
    /* the ack: an NLMSG_ERROR whose error is 0 on success */
    struct {
        struct nlmsghdr h;
        struct nlmsgerr e;
    } ack;
    ssize_t n;
    do
        n = recv(s, &ack, sizeof ack, 0);
    while (n < 0 && errno == EINTR);
    int e = errno;
    close(s);
    if (n < 0)
        return husk_err_set(err, e, "bring up `lo`: read the ack");
    if (n < (ssize_t)sizeof ack.h || ack.h.nlmsg_type != NLMSG_ERROR || n < (ssize_t)sizeof ack)
        return husk_err_set(err, EPROTO, "bring up `lo`: unexpected netlink reply");
    if (ack.e.error)
        return husk_err_set(err, -ack.e.error, "bring up `lo`");
    return 0;
}

int husk_net_lo_up(struct husk_err *err)
{
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0)
        return husk_err_set(err, errno, "bring up `lo`: netlink socket");
    return lo_up_on(s, err);
}

int husk_net_ns_of(int sock)
{
    return ioctl(sock, SIOCGSKNS);
}

/* A socket belongs to the namespace it was made in and acts there from any process: ours is
 * made inside pid's namespace, and we go straight back. Any failure fails the create, which
 * ends husk's part either way. */
int husk_net_lo_up_of(pid_t pid, int own_ns, struct husk_err *err)
{
    int target = (int)syscall(SYS_pidfd_open, pid, 0), s = -1, e = 0;
    if (target < 0 || setns(target, CLONE_NEWNET) < 0) {
        e = errno;
    } else {
        s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        e = errno;
        if (setns(own_ns, CLONE_NEWNET) < 0) {
            e = errno;
            if (s >= 0)
                close(s);
            s = -1;
        }
    }
    if (target >= 0)
        close(target);
    if (s < 0)
        return husk_err_set(err, e, "bring up `lo` in the container's network namespace");
    return lo_up_on(s, err);
}
