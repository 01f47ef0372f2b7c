/* The sync protocol (sync.h): one packet per send, its fd (if any) by SCM_RIGHTS. */
#include "sync.h"
#include "exec_error.h"
#include "husk/fdpass.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int sync_send(int fd, int type, int value, const char *msg)
{
    struct sync_packet p = {.type = type, .value = value};
    size_t len = offsetof(struct sync_packet, msg);
    if (msg) {
        snprintf(p.msg, sizeof p.msg, "%s", msg);
        len += strlen(p.msg) + 1;
    }
    ssize_t n;
    do
        n = send(fd, &p, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

int sync_send_fd(int sock, int type, int value, int fd)
{
    struct sync_packet p = {.type = type, .value = value};
    return husk_send_fd(sock, &p, offsetof(struct sync_packet, msg), fd);
}

/* The trampoline's SYNC_EXEC_FAILED made into SYNC_ERROR: runc's `exec: "prog": reason`. */
static void exec_failed_packet(struct sync_packet *p)
{
    struct husk_err e = {0};
    husk_exec_failed_err(&e, p->value, p->msg);
    p->type = SYNC_ERROR;
    p->value = e.code;
    snprintf(p->msg, sizeof p->msg, "%s", e.msg);
}

int sync_recv(int fd, struct sync_packet *p)
{
    memset(p, 0, sizeof *p);
    long n = husk_recv_fd(fd, p, offsetof(struct sync_packet, fd), 0, &p->fd);
    /* A peer that exits leaving our packet unread (run's early start) sets ECONNRESET, which
     * the kernel reports once, before the packets that peer sent: they come next. */
    if (n < 0 && errno == ECONNRESET)
        n = husk_recv_fd(fd, p, offsetof(struct sync_packet, fd), 0, &p->fd);
    if (n <= 0)
        return n < 0 ? -1 : 0;
    p->msg[sizeof p->msg - 1] = '\0';
    if (p->type == SYNC_EXEC_FAILED)
        exec_failed_packet(p);
    return 1;
}
