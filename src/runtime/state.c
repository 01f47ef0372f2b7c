/* State store: <root>/<id>/{state.json,config.json,start.sock}. */
#include "husk/state.h"
#include "husk/cgroup.h"
#include "husk/fileio.h"
#include "husk/json.h"
#include "husk/jsonw.h"
#include "husk/log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

int husk_id_validate(const char *id, struct husk_err *err)
{
    char q[128];
    size_t n = strlen(id);
    if (n == 0)
        return husk_err_set(err, 0, "container id must not be empty");
    if (n > 1024)
        return husk_err_set(err, 0, "invalid container id: longer than 1024 characters");
    /* quoted with escapes: an id is whatever argv held, newlines and terminal controls too */
    if (id[0] == '.' || id[0] == '-')
        return husk_err_set(err, 0, "invalid container id %s: must not start with '%c'",
                            husk_quote(id, q, sizeof q), id[0]);
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.+-", *p))
            return husk_err_set(err, 0, "invalid container id %s: only letters, digits and _ . + - are allowed",
                                husk_quote(id, q, sizeof q));
    return 0;
}

const char *husk_status_name(enum husk_status s)
{
    static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};
    return names[s];
}

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return errno = ENAMETOOLONG, -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* A directory only we can write: refused (-1) when someone else owns it or may write it,
 * since what it holds is trusted (a seccomp program is loaded as found). */
static int private_dir(int at, const char *name)
{
    int fd = openat(at, name, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && (mkdirat(at, name, 0700) == 0 || errno == EEXIST))
        fd = openat(at, name, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat sb;
    if (fd >= 0 && (fstat(fd, &sb) < 0 || sb.st_uid != geteuid() || (sb.st_mode & 077))) {
        husk_debug("cache `%s` is not private to uid %u: not used", name, (unsigned)geteuid());
        close(fd);
        return -1;
    }
    return fd;
}

int husk_state_cache_dir(const char *root, const char *name)
{
    /* Beside the root, not in it: runc, crun and husk's own `list` read every entry of
     * --root as a container. */
    size_t l = strlen(root);
    while (l > 1 && root[l - 1] == '/')
        l--;
    char path[PATH_MAX];
    if (l <= 1 || snprintf(path, sizeof path, "%.*s-cache", (int)l, root) >= (int)sizeof path)
        return -1;
    int top = private_dir(AT_FDCWD, path);
    if (top < 0)
        return -1;
    int fd = private_dir(top, name);
    close(top);
    return fd;
}

int husk_state_create_dir(const char *root, const char *id, struct husk_err *err)
{
    /* the root exists but for the first container */
    int rootfd = husk_open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (rootfd < 0 && errno == ENOENT) {
        if (mkdir_p(root, 0700) < 0)
            return husk_err_set(err, errno, "create state root `%s`", root);
        rootfd = husk_open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    }
    if (rootfd < 0)
        return husk_err_set(err, errno, "open state root `%s`", root);
    if (mkdirat(rootfd, id, 0700) < 0) {
        int e = errno;
        close(rootfd);
        if (e == EEXIST)
            return husk_err_set(err, 0, "container \"%s\" already exists", id);
        return husk_err_set(err, e, "create state directory `%s/%s`", root, id);
    }
    int fd = openat(rootfd, id, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int e = errno;
    close(rootfd);
    if (fd < 0)
        return husk_err_set(err, e, "open state directory `%s/%s`", root, id);
    return fd;
}

int husk_state_open_dir(const char *root, const char *id, struct husk_err *err)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", root, id);
    int fd = husk_open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
        {
            husk_err_set(err, 0, "container \"%s\" does not exist", id);
            err->code = ENOENT;
            return -1;
        }
        return husk_err_set(err, errno, "open `%s`", path);
    }
    return fd;
}

int husk_state_mark_creating(int dirfd, const char *cgroups, struct husk_err *err)
{
    int fd = openat(dirfd, HUSK_CREATING_MARK, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return husk_err_set(err, errno, "mark the container creating");
    size_t len = strlen(cgroups);
    ssize_t n = len ? write(fd, cgroups, len) : 0;
    int e = errno;
    close(fd);
    if (n != (ssize_t)len)
        return husk_err_set(err, n < 0 ? e : EIO, "mark the container creating");
    return 0;
}

bool husk_state_creator_alive(int dirfd)
{
    /* create holds LOCK_EX until it is done: a free lock means it is gone */
    if (flock(dirfd, LOCK_SH | LOCK_NB) < 0)
        return errno == EWOULDBLOCK;
    flock(dirfd, LOCK_UN);
    return false;
}

int husk_state_lock(int dirfd, struct husk_err *err)
{
    while (flock(dirfd, LOCK_EX) < 0)
        if (errno != EINTR)
            return husk_err_set(err, errno, "lock container state");
    return 0;
}

static void rfc3339_now(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    /* by hand: strftime() would read /etc/localtime for a UTC stamp */
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

static void write_doc(struct husk_jsonw *w, const struct husk_state *st, const char *status, bool private_,
                      const char *created)
{
    husk_jsonw_begin_object(w);
    husk_jsonw_kv_str(w, "ociVersion", "1.3.0");
    husk_jsonw_kv_str(w, "id", st->id);
    husk_jsonw_kv_int(w, "pid", st->pid);
    husk_jsonw_kv_str(w, "status", status);
    husk_jsonw_kv_str(w, "bundle", st->bundle);
    husk_jsonw_kv_str(w, "rootfs", st->rootfs);
    husk_jsonw_kv_str(w, "created", created ? created : st->created);
    husk_jsonw_kv_str(w, "owner", st->owner);
    if (st->n_annotations) {
        husk_jsonw_key(w, "annotations");
        husk_jsonw_begin_object(w);
        for (size_t i = 0; i < st->n_annotations; i++)
            husk_jsonw_kv_str(w, st->annotations[i].key, st->annotations[i].value);
        husk_jsonw_end_object(w);
    }
    if (private_) {
        husk_jsonw_key(w, "husk");
        husk_jsonw_begin_object(w);
        husk_jsonw_key(w, "startTime");
        husk_jsonw_uint(w, st->start_time);
        husk_jsonw_kv_str(w, "cgroup", st->cgroup);
        husk_jsonw_kv_int(w, "flags", st->flags);
        husk_jsonw_end_object(w);
    }
    husk_jsonw_end_object(w);
}

char *husk_state_json(const struct husk_state *st, enum husk_status status, int indent)
{
    struct husk_jsonw w;
    husk_jsonw_init(&w, indent);
    write_doc(&w, st, husk_status_name(status), false, NULL);
    husk_jsonw_raw(&w, "\n");
    if (w.oom) {
        husk_jsonw_free(&w);
        return NULL;
    }
    return w.buf;
}

int husk_state_save(int dirfd, const struct husk_state *st, struct husk_err *err)
{
    char now[64] = "";
    if (!st->created[0])
        rfc3339_now(now, sizeof now);
    struct husk_jsonw w;
    husk_jsonw_init(&w, 0);
    write_doc(&w, st, "created", true, now[0] ? now : NULL);
    if (w.oom) {
        husk_jsonw_free(&w);
        return husk_err_set(err, ENOMEM, "write state");
    }
    int fd = openat(dirfd, HUSK_STATE_FILE ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        husk_jsonw_free(&w);
        return husk_err_set(err, errno, "write state");
    }
    ssize_t n = write(fd, w.buf, w.len);
    int e = errno;
    bool ok = n == (ssize_t)w.len;
    husk_jsonw_free(&w);
    if (close(fd) < 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok || renameat(dirfd, HUSK_STATE_FILE ".tmp", dirfd, HUSK_STATE_FILE) < 0) {
        if (ok)
            e = errno;
        unlinkat(dirfd, HUSK_STATE_FILE ".tmp", 0);
        return husk_err_set(err, e ? e : EIO, "write state");
    }
    return 0;
}

static void copy_str(yajl_val root, const char *key, char *out, size_t n)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);
    if (v)
        snprintf(out, n, "%s", v->u.string);
}

static void clear_fields(struct husk_state *st)
{
    st->id[0] = st->bundle[0] = st->rootfs[0] = st->created[0] = st->owner[0] = '\0';
    st->cgroup[0] = '\0';
    st->pid = 0;
    st->start_time = 0;
    st->flags = 0;
    st->annotations = NULL;
    st->n_annotations = 0;
}

void husk_state_reset(struct husk_state *st)
{
    clear_fields(st);
    st->arena = (struct husk_arena){0};
}

int husk_state_load(int dirfd, const char *id, struct husk_state *st, struct husk_err *err)
{
    clear_fields(st);
    husk_arena_free(&st->arena);
    char q[128];
    /* O_NONBLOCK: a FIFO in its place must not hang every command that reads the state */
    int fd = openat(dirfd, HUSK_STATE_FILE, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            /* a directory without its state: a create still at work, or one that died */
            husk_err_set(err, 0, "container %s has no state (its create did not finish)", husk_quote(id, q, sizeof q));
            err->code = HUSK_ENOSTATE;
            return -1;
        }
        return husk_err_set(err, errno, "read state of %s", husk_quote(id, q, sizeof q));
    }
    /* sized to the file: a fixed 64 KiB buffer put yajl's frames on pages never touched before */
    struct stat sb;
    bool reg = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
    char *buf = reg && sb.st_size < (64 << 20) ? malloc((size_t)sb.st_size + 1) : NULL;
    ssize_t n = buf ? read(fd, buf, (size_t)sb.st_size) : -1;
    int e = errno;
    close(fd);
    if (n <= 0) {
        free(buf);
        if (!reg)
            return husk_err_set(err, 0, "read state of %s: not a regular file", husk_quote(id, q, sizeof q));
        return husk_err_set(err, n < 0 ? e : 0, "read state of %s: %s", husk_quote(id, q, sizeof q),
                            n < 0 ? "" : "empty file");
    }
    buf[n] = '\0';
    int rc = husk_state_parse(buf, (size_t)n, id, st, err);
    free(buf);
    return rc;
}

int husk_state_parse(const char *buf, size_t n, const char *id, struct husk_state *st, struct husk_err *err)
{
    char q[128];
    yajl_val root = husk_json_parse(buf, n, HUSK_STATE_FILE, err);
    if (!root)
        return husk_err_wrap(err, "state of %s is corrupt", husk_quote(id, q, sizeof q));
    /* Another runtime's state under the same --root is not ours to read or delete. */
    const char *mine[] = {"husk", NULL};
    if (!yajl_tree_get(root, mine, yajl_t_object)) {
        husk_json_free(root);
        return husk_err_set(err, 0, "state of %s was not written by husk", husk_quote(id, q, sizeof q));
    }
    copy_str(root, "id", st->id, sizeof st->id);
    copy_str(root, "bundle", st->bundle, sizeof st->bundle);
    copy_str(root, "rootfs", st->rootfs, sizeof st->rootfs);
    copy_str(root, "created", st->created, sizeof st->created);
    copy_str(root, "owner", st->owner, sizeof st->owner);
    const char *pid_path[] = {"pid", NULL};
    yajl_val v = yajl_tree_get(root, pid_path, yajl_t_number);
    if (v && YAJL_IS_INTEGER(v))
        st->pid = (pid_t)v->u.number.i;
    const char *st_path[] = {"husk", "startTime", NULL};
    v = yajl_tree_get(root, st_path, yajl_t_number);
    if (v && v->u.number.r)
        st->start_time = strtoull(v->u.number.r, NULL, 10);
    const char *fl_path[] = {"husk", "flags", NULL};
    v = yajl_tree_get(root, fl_path, yajl_t_number);
    if (v && YAJL_IS_INTEGER(v))
        st->flags = (unsigned)v->u.number.i;
    const char *cg_path[] = {"husk", "cgroup", NULL};
    v = yajl_tree_get(root, cg_path, yajl_t_string);
    if (v)
        snprintf(st->cgroup, sizeof st->cgroup, "%s", v->u.string);
    const char *an_path[] = {"annotations", NULL};
    v = yajl_tree_get(root, an_path, yajl_t_object);
    if (v && v->u.object.len) {
        st->annotations = husk_arena_alloc(&st->arena, v->u.object.len * sizeof *st->annotations);
        for (size_t i = 0; st->annotations && i < v->u.object.len; i++) {
            if (!YAJL_IS_STRING(v->u.object.values[i]))
                continue;
            st->annotations[st->n_annotations].key = husk_arena_strdup(&st->arena, v->u.object.keys[i]);
            st->annotations[st->n_annotations++].value =
                husk_arena_strdup(&st->arena, v->u.object.values[i]->u.string);
        }
    }
    husk_json_free(root);
    return 0;
}

void husk_state_free(struct husk_state *st)
{
    husk_arena_free(&st->arena);
    st->annotations = NULL;
    st->n_annotations = 0;
}

int husk_state_remove_at(const char *root, const char *id, int dirfd, struct husk_err *err)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", root, id);
    /* The two files every container has, by name; a directory walk only for the others. */
    static const char *const names[] = {HUSK_STATE_FILE, HUSK_CONFIG_COPY};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        unlinkat(dirfd, names[i], 0);
    if (rmdir(path) == 0 || errno == ENOENT)
        return 0;
    int fd = openat(dirfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);   /* closedir takes it */
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return husk_err_set(err, e, "remove `%s`", path);
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            unlinkat(dirfd, de->d_name, 0);
    closedir(d);
    if (rmdir(path) < 0 && errno != ENOENT)
        return husk_err_set(err, errno, "remove `%s`", path);
    return 0;
}

int husk_state_remove(const char *root, const char *id, struct husk_err *err)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", root, id);
    int fd = husk_open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : husk_err_set(err, errno, "remove `%s`", path);
    int r = husk_state_remove_at(root, id, fd, err);
    close(fd);
    return r;
}

unsigned long long husk_proc_start_time(pid_t pid)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (husk_read_file(path, buf, sizeof buf) < 0)
        return 0;
    /* comm may hold spaces and parens: fields restart after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p || !p[1] || !p[2])
        return 0;
    char state = p[2];
    if (state == 'Z' || state == 'X')
        return 0;
    p += 2;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return 0;
        p++;
    }
    return strtoull(p, NULL, 10);
}

/* Its own frame: the 64 KiB cgroup struct is on the stack only for a paused container. */
static __attribute__((noinline)) bool frozen(const struct husk_state *st)
{
    struct husk_cgroup cg;
    husk_cgroup_parse(st->cgroup, &cg);
    return husk_cgroup_frozen(&cg);
}

enum husk_status husk_state_status(int dirfd, const struct husk_state *st)
{
    if (st->pid <= 0)
        return HUSK_STOPPED;
    unsigned long long t = husk_proc_start_time(st->pid);
    if (t == 0 || t != st->start_time)
        return HUSK_STOPPED;
    struct stat sb;
    if (fstatat(dirfd, HUSK_CREATING_MARK, &sb, AT_SYMLINK_NOFOLLOW) == 0)
        return HUSK_CREATING;
    if (fstatat(dirfd, HUSK_START_SOCK, &sb, AT_SYMLINK_NOFOLLOW) == 0)
        return HUSK_CREATED;
    if (fstatat(dirfd, HUSK_PAUSED_MARK, &sb, AT_SYMLINK_NOFOLLOW) == 0 && frozen(st))
        return HUSK_PAUSED;
    return HUSK_RUNNING;
}

int husk_write_pid_file(const char *path, pid_t pid, struct husk_err *err)
{
    char tmp[PATH_MAX + 16], buf[32];
    snprintf(tmp, sizeof tmp, "%s.husk-tmp", path);
    /* O_NONBLOCK and O_NOFOLLOW: a FIFO left at the temporary name fails instead of hanging
     * (ENXIO), a symlink there is not followed; only a regular file is written */
    int fd = husk_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, 0644);
    if (fd < 0)
        return husk_err_set(err, errno, "write pid file `%s`", path);
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return husk_err_set(err, 0, "write pid file `%s`: `%s` is not a regular file", path, tmp);
    }
    int n = snprintf(buf, sizeof buf, "%d", pid);
    bool ok = write(fd, buf, n) == n;
    int e = errno;
    close(fd);
    if (!ok || rename(tmp, path) < 0) {
        if (ok)
            e = errno;
        unlink(tmp);
        return husk_err_set(err, e, "write pid file `%s`", path);
    }
    return 0;
}
