#include "husk/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int husk_write_file(const char *path, const char *data, size_t len, struct husk_err *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return husk_err_set(err, errno, "open `%s`", path);
    ssize_t n = write(fd, data, len);
    int e = errno;
    close(fd);
    if (n < 0)
        return husk_err_set(err, e, "write `%s`", path);
    return 0;
}

int husk_read_file(const char *path, char *out, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, out, n - 1);
    int e = errno;
    close(fd);
    if (r < 0) {
        errno = e;
        return -1;
    }
    out[r] = '\0';
    return 0;
}
