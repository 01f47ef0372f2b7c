/* Small whole-file reads and writes: /proc and cgroup files, id maps, sysctls. */
#ifndef HUSK_FILEIO_H
#define HUSK_FILEIO_H

#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "husk/err.h"

/* One write(2) of data to an existing file; "open `path`" / "write `path`" errors. */
int husk_write_file(const char *path, const char *data, size_t len, struct husk_err *err);
/* Up to n-1 bytes, NUL-terminated; -1 (errno set) when it cannot be read. */
int husk_read_file(const char *path, char *out, size_t n);

/* A whole file (path "-": standard input), NUL-terminated, at most 64 MiB; free() it.
 * "open `path`" / "read `path`" errors. */
char *husk_read_all(const char *path, size_t *len, struct husk_err *err);

/* realpath(3) into out[PATH_MAX]: a canonical absolute path that resolves without symlinks
 * as it is (openat2 RESOLVE_NO_SYMLINKS), "." as getcwd, else the kernel's name for an O_PATH
 * fd of path where /proc gives it (a libc realpath may readlink every component), else
 * realpath. */
char *husk_realpath(const char *path, char *out);

/* musl's open() follows an O_CLOEXEC open with fcntl(F_SETFD) (for kernels before 2.6.23),
 * its fopen("e") with two, and fcntl(F_DUPFD_CLOEXEC) with one: one syscall each for
 * nothing on the kernels husk needs (openat2, clone3). These do the one syscall. */
#define husk_open(path, ...) openat(AT_FDCWD, (path), __VA_ARGS__)

static inline int husk_dupfd_cloexec(int fd, int floor)
{
    return (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, floor);
}

/* fopen(path, "re") in one syscall; NULL (errno set) on failure */
FILE *husk_fopen_read(const char *path);

#endif
