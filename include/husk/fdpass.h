/* Passing one file descriptor over a unix socket (SCM_RIGHTS): the pty master to a console
 * socket, the seccomp notify fd to its listener, fds between husk and the container's init. */
#ifndef HUSK_FDPASS_H
#define HUSK_FDPASS_H

#include <stddef.h>

/* sendmsg of `len` bytes of data with fd attached; -1 with errno on failure. */
int husk_send_fd(int sock, const void *data, size_t len, int fd);
/* recvmsg into buf (up to len bytes); the attached fd (close-on-exec) goes to *fd, or -1.
 * Returns the bytes read, 0 on EOF, -1 on error. */
long husk_recv_fd(int sock, void *buf, size_t len, int flags, int *fd);

#endif
