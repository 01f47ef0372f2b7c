#include "husk/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HUSK_READ_MAX ((size_t)64 << 20)

int husk_write_file(const char *path, const char *data, size_t len, struct husk_err *err)
{
    int fd = husk_open(path, O_WRONLY | O_CLOEXEC);
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
    int fd = husk_open(path, O_RDONLY | O_CLOEXEC);
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

char *husk_read_all(const char *path, size_t *len, struct husk_err *err)
{
    /* O_NONBLOCK: opening a FIFO with no writer would wait for ever; it is refused below */
    int fd = strcmp(path, "-") == 0 ? 0 : husk_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        husk_err_set(err, errno, "open `%s`", path);
        return NULL;
    }
    struct stat sb = {0};
    if (fd > 0 && fstat(fd, &sb) < 0) {
        husk_err_set(err, errno, "read `%s`", path);
        close(fd);
        return NULL;
    }
    if (fd > 0 && !S_ISREG(sb.st_mode)) {
        husk_err_set(err, 0, "read `%s`: not a regular file", path);
        close(fd);
        return NULL;
    }
    /* a regular file is read into a buffer of its size; growth is for stdin and the files
     * whose size the kernel does not know (/proc) */
    size_t cap = sb.st_size > 0 && (size_t)sb.st_size < HUSK_READ_MAX ? (size_t)sb.st_size + 1 : 16384, n = 0;
    char *buf = malloc(cap);
    int e = 0;
    while (buf) {
        ssize_t r;
        if (n + 1 < cap) {
            r = read(fd, buf + n, cap - n - 1);
        } else {
            /* full: one byte more tells whether the file goes on, before anything is copied */
            char more;
            if ((r = read(fd, &more, 1)) == 1) {
                if (cap >= HUSK_READ_MAX) {
                    e = EFBIG;
                    break;
                }
                char *nb = realloc(buf, cap *= 2);
                if (!nb) {
                    e = ENOMEM;
                    break;
                }
                buf = nb;
                buf[n] = more;
            }
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            e = errno;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    if (fd > 0)
        close(fd);
    if (!buf || e) {
        free(buf);
        husk_err_set(err, buf ? e : ENOMEM, "read `%s`", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* absolute, with no empty, "." or ".." component and no trailing "/" */
static bool lexically_canonical(const char *p)
{
    if (p[0] != '/')
        return false;
    if (!p[1])
        return true;
    for (const char *c = p; *c; c++) {
        if (*c != '/')
            continue;
        const char *n = c + 1;   /* the component after this "/" */
        if (*n == '/' || *n == '\0' || (n[0] == '.' && (n[1] == '/' || !n[1] || (n[1] == '.' && (n[2] == '/' || !n[2])))))
            return false;
    }
    return true;
}

char *husk_realpath(const char *path, char *out)
{
    /* The usual bundle and rootfs are named canonically already: when such a name resolves
     * without a symlink it is its own realpath, and no /proc entry of ours is built to say
     * so (a new process's /proc/self/fd costs several dentries). "." is the cwd. */
    size_t len = strlen(path);
    if (len < PATH_MAX && lexically_canonical(path)) {
        struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
        int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
        if (fd >= 0) {
            close(fd);
            memcpy(out, path, len + 1);
            return out;
        }
    } else if (path[0] == '.' && !path[1] && getcwd(out, PATH_MAX) && out[0] == '/') {
        return out;
    }
    int fd = openat(AT_FDCWD, path, O_PATH | O_CLOEXEC);
    if (fd >= 0) {
        char link[32];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, out, PATH_MAX - 1);
        close(fd);
        /* not absolute: no /proc, or a path outside our root ("(unreachable)") */
        if (n > 0 && n < PATH_MAX - 1 && out[0] == '/') {
            out[n] = '\0';
            return out;
        }
    }
    return realpath(path, out);
}

FILE *husk_fopen_read(const char *path)
{
    int fd = husk_open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "r");   /* the fd is close-on-exec already: no "e", no fcntl */
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}
