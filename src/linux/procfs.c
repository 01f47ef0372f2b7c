/* The verified procfs handle (include/husk/procfs.h). */
#include "husk/fileio.h"
#include "husk/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* One per process: the init and exec's child are single-threaded */
static int procfd = -1;

void husk_procfs_close(void)
{
    if (procfd >= 0)
        close(procfd);
    procfd = -1;
}

static int handle(struct husk_err *err)
{
    if (procfd >= 0)
        return procfd;
    /* "/proc" itself must not be a symlink the rootfs planted; below it, openat2 decides */
    int fd = husk_open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return husk_err_set(err, errno, "open `/proc`");
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0) {
        int e = errno;
        close(fd);
        return husk_err_set(err, e, "statfs `/proc`");
    }
    if (sf.f_type != PROC_SUPER_MAGIC) {
        close(fd);
        return husk_err_set(err, 0, "`/proc` is not a procfs mount");
    }
    return procfd = fd;
}

int husk_procfs_open(pid_t who, const char *rel, int flags, struct husk_err *err)
{
    int root = handle(err);
    if (root < 0)
        return -1;
    char path[256], self[64] = "";
    if (who == HUSK_PROC_SELF || who == HUSK_PROC_THREAD_SELF) {
        /* "self" is a symlink openat2 refuses here; what it names (our pid as this procfs
         * numbers it) is read from it, and that directory is then walked like any other. */
        const char *link = who == HUSK_PROC_SELF ? "self" : "thread-self";
        ssize_t n = readlinkat(root, link, self, sizeof self - 1);
        if (n < 0)
            return husk_err_set(err, errno, "`/proc/%s`", link);
        self[n] = '\0';
        snprintf(path, sizeof path, "%s/%s", self, rel);
    } else if (who > 0) {
        snprintf(path, sizeof path, "%d/%s", (int)who, rel);
    } else {
        snprintf(path, sizeof path, "%s", rel);
    }
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC | O_NOCTTY),
        .resolve = RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
    };
    int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
    if (fd < 0) {
        int e = errno;
        if (e == EXDEV)
            return husk_err_set(err, e, "`/proc/%s`: a mount covers part of the path", path);
        if (e == ELOOP)
            return husk_err_set(err, e, "`/proc/%s`: a symlink is on the path", path);
        return husk_err_set(err, e, "open `/proc/%s`", path);
    }
    return fd;
}

/* The path as the user would write it, for errors */
struct shown { char s[300]; };
static struct shown shown(pid_t who, const char *rel)
{
    struct shown p;
    if (who == HUSK_PROC_SELF || who == HUSK_PROC_THREAD_SELF)
        snprintf(p.s, sizeof p.s, "/proc/%s/%s", who == HUSK_PROC_SELF ? "self" : "thread-self", rel);
    else if (who > 0)
        snprintf(p.s, sizeof p.s, "/proc/%d/%s", (int)who, rel);
    else
        snprintf(p.s, sizeof p.s, "/proc/%s", rel);
    return p;
}

int husk_procfs_write(pid_t who, const char *rel, const char *data, size_t len, struct husk_err *err)
{
    int fd = husk_procfs_open(who, rel, O_WRONLY, err);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, data, len);
    int e = errno;
    close(fd);
    if (w < 0)
        return husk_err_set(err, e, "write `%s`", shown(who, rel).s);
    return 0;
}

int husk_procfs_read(pid_t who, const char *rel, char *out, size_t n, struct husk_err *err)
{
    int fd = husk_procfs_open(who, rel, O_RDONLY, err);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, out, n - 1);
    int e = errno;
    close(fd);
    if (r < 0)
        return husk_err_set(err, e, "read `%s`", shown(who, rel).s);
    out[r] = '\0';
    return 0;
}
