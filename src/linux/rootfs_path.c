/* Paths inside the container's rootfs, resolved as if it were "/" (config.md "Mounts": a
 * destination is in the container's filesystem, never the host's). */
#include "rootfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct fdpath husk_fdpath(int fd)
{
    struct fdpath p;
    snprintf(p.s, sizeof p.s, "/proc/self/fd/%d", fd);
    return p;
}

int husk_openat2_resolve(int rootfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

int husk_openat2_in_root(int rootfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

void husk_clean_path(const char *path, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t c = strcspn(p, "/");
        if (c == 0)
            break;
        if (c == 2 && p[0] == '.' && p[1] == '.') {
            while (len > 0 && out[--len] != '/')
                ;
            out[len] = '\0';
        } else if (!(c == 1 && p[0] == '.') && len + c + 2 <= n) {
            out[len++] = '/';
            memcpy(out + len, p, c);
            len += c;
            out[len] = '\0';
        }
        p += c;
    }
    if (len == 0)
        snprintf(out, n, "/");
}

int husk_mkpath_in_root(int rootfd, const char *path, bool file, struct husk_err *err)
{
    return husk_resolve_in_root(rootfd, path, file, NULL, err);
}

int husk_opendir_in_root(int rootfd, const char *path, struct husk_err *err)
{
    /* an existing directory without symlinks opens as one in one call */
    int fd = husk_openat2_resolve(rootfd, path, O_RDONLY | O_DIRECTORY);
    if (fd >= 0)
        return fd;
    AUTOCLOSE int p = husk_mkpath_in_root(rootfd, path, false, err);
    if (p < 0)
        return -1;
    if ((fd = openat(p, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC)) < 0)
        return husk_err_set(err, errno, "open `%s`", path);
    return fd;
}

/* The walk's state: `cur` the part resolved so far (from the root, no symlinks), `rest` what
 * is left of the path, symlink targets spliced in front of it. */
struct walk {
    char cur[4096], rest[8192];
    int links;
    const char *path;
};

static void walk_append(struct walk *w, const char *comp)
{
    size_t l = strlen(w->cur);
    snprintf(w->cur + l, sizeof w->cur - l, "/%s", comp);
}

/* comp is missing in dfd: made as a directory, or as a file when it is the last component of
 * a file's path. EEXIST (made meanwhile) counts as made; the next step checks what it is. */
static int walk_create(struct walk *w, int dfd, const char *comp, bool make_file, struct husk_err *err)
{
    /* O_PATH fds cannot create: reopen the directory for mkdirat/openat. */
    AUTOCLOSE int wfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = -1;
    if (wfd >= 0) {
        if (make_file) {
            int f = openat(wfd, comp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0755);
            rc = f < 0 ? -1 : close(f);
        } else {
            rc = mkdirat(wfd, comp, 0755);
        }
        if (rc < 0 && errno == EEXIST)
            rc = 0;
    }
    if (rc < 0)
        return husk_err_set(err, errno, "create `%s` in the rootfs", w->path);
    walk_append(w, comp);
    return 0;
}

/* comp in dfd is a symlink: its target goes in front of the rest, from the root when absolute. */
static int walk_link(struct walk *w, int dfd, const char *comp, struct husk_err *err)
{
    char link[4096], joined[8192];
    ssize_t n = readlinkat(dfd, comp, link, sizeof link - 1);
    if (n < 0 || ++w->links > 40)
        return husk_err_set(err, n < 0 ? errno : ELOOP, "resolve `%s` in the rootfs", w->path);
    link[n] = '\0';
    if (snprintf(joined, sizeof joined, "%s/%s", link, w->rest) >= (int)sizeof joined)
        return husk_err_set(err, ENAMETOOLONG, "resolve `%s`", w->path);
    snprintf(w->rest, sizeof w->rest, "%s", joined);
    if (link[0] == '/')
        w->cur[0] = '\0';
    return 0;
}

/* Takes the next component off w->rest into comp[256]: 1 when there was one, 0 at the end. */
static int walk_next(struct walk *w, char comp[256], bool *last, struct husk_err *err)
{
    char *r = w->rest;
    while (*r == '/')
        r++;
    if (!*r)
        return 0;
    char *slash = strchr(r, '/');
    size_t clen = slash ? (size_t)(slash - r) : strlen(r);
    if (clen >= 256)
        return husk_err_set(err, ENAMETOOLONG, "resolve `%s`", w->path);
    memcpy(comp, r, clen);
    comp[clen] = '\0';
    *last = slash == NULL || slash[strspn(slash, "/")] == '\0';
    memmove(w->rest, r + clen, strlen(r + clen) + 1);
    return 1;
}

/* The usual missing destination (/dev/pts, /dev/shm, ...): only its last component is
 * missing, under a parent without symlinks. Made in that parent, opened without following
 * anything: 4 syscalls where the walk takes 10. -1 (nothing reported) sends the caller to
 * the walk, which copes with everything else; only plain paths, so that the walk's order
 * of making and climbing ("a/new/../b" makes "new") stays the one rule. */
__attribute__((noinline)) static int create_last(int rootfd, const char *path, bool file, char *resolved)
{
    char clean[4096];
    if (strlen(path) >= sizeof clean - 1)
        return -1;
    for (const char *p = path; (p = strchr(p, '.')) != NULL; p++)
        if ((p == path || p[-1] == '/') && (p[1] == '/' || !p[1] || (p[1] == '.' && (p[2] == '/' || !p[2]))))
            return -1;
    husk_clean_path(path, clean, sizeof clean);
    char *slash = strrchr(clean, '/');
    if (!slash[1])
        return -1;
    *slash = '\0';
    AUTOCLOSE int pfd = husk_openat2_resolve(rootfd, clean[0] ? clean : "/", O_RDONLY | O_DIRECTORY);
    *slash = '/';
    if (pfd < 0)
        return -1;
    const char *name = slash + 1;
    if (file) {
        int f = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0755);
        if (f < 0 || close(f) < 0)
            return -1;
    } else if (mkdirat(pfd, name, 0755) < 0) {
        return -1;
    }
    int fd = husk_openat2_resolve(pfd, name, O_PATH);
    if (fd >= 0 && resolved)
        snprintf(resolved, 4096, "%s", clean);
    return fd;
}

/* Walks `path` component by component as if rootfd were "/": symlinks (even dangling
 * ones, which openat2 cannot follow into missing directories) are expanded by hand and
 * resolved against the root, ".." never climbs above it, missing directories are made. The
 * final open refuses any symlink, so a component swapped in meanwhile fails the call
 * instead of redirecting it. */
__attribute__((noinline)) static int walk_resolve(int rootfd, const char *path, bool file, char *resolved,
                                                  struct husk_err *err)
{
    struct walk w = {.path = path};
    if (snprintf(w.rest, sizeof w.rest, "%s", path) >= (int)sizeof w.rest)
        return husk_err_set(err, ENAMETOOLONG, "resolve `%s`", path);
    char comp[256];
    bool last = false;
    int more;
    while ((more = walk_next(&w, comp, &last, err)) > 0) {
        if (!strcmp(comp, "."))
            continue;
        if (!strcmp(comp, "..")) {
            char *ls = strrchr(w.cur, '/');
            if (ls)
                *ls = '\0';
            continue;
        }
        AUTOCLOSE int dfd = husk_openat2_resolve(rootfd, w.cur[0] ? w.cur : "/", O_PATH | O_DIRECTORY);
        if (dfd < 0)
            return husk_err_set(err, errno, "resolve `%s` in the rootfs", path);
        struct stat sb;
        int rc = 0;
        if (fstatat(dfd, comp, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                return husk_err_set(err, errno, "resolve `%s` in the rootfs", path);
            rc = walk_create(&w, dfd, comp, last && file, err);
        } else if (S_ISLNK(sb.st_mode)) {
            rc = walk_link(&w, dfd, comp, err);
        } else {
            walk_append(&w, comp);
        }
        if (rc < 0)
            return -1;
    }
    if (more < 0)
        return -1;
    int fd = husk_openat2_resolve(rootfd, w.cur[0] ? w.cur : "/", O_PATH);
    if (fd < 0)
        return husk_err_set(err, errno, "resolve `%s` in the rootfs", path);
    if (resolved)
        snprintf(resolved, 4096, "%s", w.cur[0] ? w.cur : "/");
    return fd;
}

/* Out of line, the walk's 12 KiB and create_last's 4 KiB: in the container's init every stack
 * page first written is a copy-on-write fault, and the usual case needs neither. */
int husk_resolve_in_root(int rootfd, const char *path, bool file, char resolved[4096], struct husk_err *err)
{
    /* The usual case, an existing path without symlinks: one call */
    int fast = husk_openat2_resolve(rootfd, path, O_PATH);
    if (fast >= 0) {
        if (resolved)
            husk_clean_path(path, resolved, 4096);
        return fast;
    }
    if (errno == ENOENT && (fast = create_last(rootfd, path, file, resolved)) >= 0)
        return fast;
    return walk_resolve(rootfd, path, file, resolved, err);
}
