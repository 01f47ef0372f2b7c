/* Small whole-file reads and writes: /proc and cgroup files, id maps, sysctls. */
#ifndef HUSK_FILEIO_H
#define HUSK_FILEIO_H

#include <stddef.h>

#include "husk/err.h"

/* One write(2) of data to an existing file; "open `path`" / "write `path`" errors. */
int husk_write_file(const char *path, const char *data, size_t len, struct husk_err *err);
/* Up to n-1 bytes, NUL-terminated; -1 (errno set) when it cannot be read. */
int husk_read_file(const char *path, char *out, size_t n);

/* A whole file (path "-": standard input), NUL-terminated, at most 64 MiB; free() it.
 * "open `path`" / "read `path`" errors. */
char *husk_read_all(const char *path, size_t *len, struct husk_err *err);

/* realpath(3) into out[PATH_MAX]: the kernel's name for an O_PATH fd of path, where /proc
 * gives it (three syscalls; a libc realpath may readlink every component), else realpath. */
char *husk_realpath(const char *path, char *out);

#endif
