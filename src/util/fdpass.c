#include "husk/fileio.h"
#include "husk/fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* fds 3..inherited_end-1 were open when husk started: the caller's. */
static int inherited_end = 3;

void husk_fds_note_inherited(void)
{
    /* one poll per 64 fds (POLLNVAL marks a closed one) rather than a syscall per fd */
    struct pollfd p[64];
    for (int base = 0;; base += 64) {
        for (int i = 0; i < 64; i++)
            p[i] = (struct pollfd){.fd = base + i};
        if (poll(p, 64, 0) < 0) {
            inherited_end = base > 3 ? base : 3;   /* past RLIMIT_NOFILE: no more fds to find */
            return;
        }
        for (int i = 0; i < 64; i++) {
            if (!(p[i].revents & POLLNVAL))
                continue;
            int fd = base + i;
            if (fd > 2) {
                inherited_end = fd;
                return;
            }
            /* the lowest free fd is this one: open gives it */
            int nul = husk_open("/dev/null", O_RDWR);
            if (nul >= 0 && nul != fd)
                close(nul);
        }
    }
}

int husk_fds_check_passed(int n, const char *what, struct husk_err *err)
{
    if (n <= 0 || 3 + n <= inherited_end)
        return 0;
    if (inherited_end == 3)
        return husk_err_set(err, EBADF, "%s %d: no fd above 2 was passed to husk", what, n);
    return husk_err_set(err, EBADF, "%s %d: fd %d was not passed to husk (only fds 3-%d were open)", what, n,
                        inherited_end, inherited_end - 1);
}

int husk_send_fd(int sock, const void *data, size_t len, int fd)
{
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
    memset(&u, 0, sizeof u);
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    ssize_t n;
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

long husk_recv_fd(int sock, void *buf, size_t len, int flags, int *fd)
{
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    *fd = -1;
    ssize_t n;
    do
        n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(cm), sizeof *fd);
    return n;
}
