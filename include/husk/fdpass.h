/* Passing one file descriptor over a unix socket (SCM_RIGHTS): the pty master to a console
 * socket, the seccomp notify fd to its listener, fds between husk and the container's init. */
#ifndef HUSK_FDPASS_H
#define HUSK_FDPASS_H

#include <stddef.h>

#include "husk/err.h"

/* sendmsg of `len` bytes of data with fd attached; -1 with errno on failure. */
int husk_send_fd(int sock, const void *data, size_t len, int fd);
/* recvmsg into buf (up to len bytes); the attached fd (close-on-exec) goes to *fd, or -1.
 * Returns the bytes read, 0 on EOF, -1 on error. */
long husk_recv_fd(int sock, void *buf, size_t len, int flags, int *fd);

/* First thing in main, before husk opens anything: fds 0-2 are made to exist (/dev/null for
 * any the caller closed, or husk's own files would become the container's stdio), and the run
 * of open fds from 3 up is noted: those are the caller's, the only ones --preserve-fds and
 * LISTEN_FDS may hand on. Anything husk opens later lands above that run. */
void husk_fds_note_inherited(void);
/* 0 when fds 3..3+n-1 were all open at start-up; otherwise an error naming `what`. */
int husk_fds_check_passed(int n, const char *what, struct husk_err *err);

#endif
