/* state, list, ps, events (runtime.md "Operations" state; runc's list, ps and events): what a
 * container is and what it holds, changing nothing. */
#include "husk/cgroup.h"
#include "husk/cleanup.h"
#include "husk/container.h"
#include "husk/jsonw.h"
#include "husk/state.h"
#include "ops_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

char *husk_container_state(const char *root, const char *id, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = husk_ops_open(root, id, &st, err);
    enum husk_status s;
    if (dirfd < 0 && err->code == HUSK_ENOSTATE) {
        /* the create that made it died (we had its lock): stopped, nothing else known */
        snprintf(st.id, sizeof st.id, "%s", id);
        s = HUSK_STOPPED;
    } else if (dirfd < 0) {
        return NULL;
    } else {
        s = husk_state_status(dirfd, &st);
    }
    if (s == HUSK_STOPPED)
        st.pid = 0;
    char *doc = husk_state_json(&st, s, 2);
    if (!doc)
        husk_err_set(err, ENOMEM, "state");
    return doc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in root, sorted, into *out (none when root does not exist). */
static int list_ids(const char *root, char ***out, size_t *n, struct husk_err *err)
{
    DIR *d = opendir(root);
    char **ids = NULL;
    size_t cap = 0;
    *n = 0;
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                char **nv = realloc(ids, cap * sizeof *ids);
                if (!nv)
                    break;
                ids = nv;
            }
            ids[(*n)++] = strdup(de->d_name);
        }
        closedir(d);
    } else if (errno != ENOENT) {
        return husk_err_set(err, errno, "list `%s`", root);
    }
    if (*n)
        qsort(ids, *n, sizeof *ids, cmp_str);
    *out = ids;
    return 0;
}

/* Loads container id into st: its status, or -1 when it is not a container to list. */
static int list_status(const char *root, const char *id, struct husk_state *st)
{
    struct husk_err e;
    int fd = husk_state_open_dir(root, id, &e);
    enum husk_status s;
    if (fd >= 0 && husk_state_load(fd, id, st, &e) == 0) {
        s = husk_state_status(fd, st);
    } else if (fd >= 0 && e.code == HUSK_ENOSTATE) {
        /* never hidden: a create at work holds the lock; otherwise it died (delete it) */
        s = husk_state_creator_alive(fd) ? HUSK_CREATING : HUSK_STOPPED;
        snprintf(st->id, sizeof st->id, "%s", id);
    } else {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    if (s == HUSK_STOPPED)
        st->pid = 0;
    return (int)s;
}

/* One container as a JSON array element (`first` says whether a comma goes before), its id
 * (quiet) or a row of the table. */
static void list_entry(struct husk_jsonw *w, const struct husk_state *st, enum husk_status s, bool json,
                       bool quiet, bool *first)
{
    if (json) {
        char *doc = husk_state_json(st, s, 0);
        if (doc) {
            doc[strcspn(doc, "\n")] = '\0';
            if (!*first)
                husk_jsonw_raw(w, ",");
            *first = false;
            husk_jsonw_raw(w, doc);
            free(doc);
        }
    } else if (quiet) {
        husk_jsonw_raw(w, st->id);
        husk_jsonw_raw(w, "\n");
    } else {
        char line[16384];
        snprintf(line, sizeof line, "%-66s %-9d %-9s %-44s %-32s %s\n", st->id, st->pid, husk_status_name(s),
                 st->bundle, st->created, st->owner);
        husk_jsonw_raw(w, line);
    }
}

char *husk_container_list(const char *root, bool json, bool quiet, struct husk_err *err)
{
    char **ids = NULL;
    size_t n;
    if (list_ids(root, &ids, &n, err) < 0)
        return NULL;
    struct husk_jsonw w;
    husk_jsonw_init(&w, 0);
    bool first = true;
    if (json)
        husk_jsonw_raw(&w, "[");
    else if (!quiet)
        husk_jsonw_raw(&w, "ID                                                                 PID       STATUS    BUNDLE                                       CREATED                          OWNER\n");
    struct husk_state st;
    husk_state_reset(&st);
    for (size_t i = 0; i < n; i++) {
        int s = list_status(root, ids[i], &st);
        if (s >= 0)
            list_entry(&w, &st, (enum husk_status)s, json, quiet, &first);
    }
    husk_state_free(&st);
    if (json)
        husk_jsonw_raw(&w, "]\n");
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    if (!w.oom && !w.buf)
        return strdup("");
    if (w.oom) {
        husk_jsonw_free(&w);
        husk_err_set(err, ENOMEM, "list");
        return NULL;
    }
    return w.buf;
}

struct pid_list {
    pid_t *v;
    size_t n, cap;
};

static void add_pid(pid_t p, void *ctx)
{
    struct pid_list *l = ctx;
    if (l->n == l->cap) {
        pid_t *nv = realloc(l->v, 2 * l->cap * sizeof *nv);
        if (!nv)
            return;
        l->v = nv;
        l->cap *= 2;
    }
    l->v[l->n++] = p;
}

pid_t *husk_container_pids(const char *root, const char *id, size_t *n, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = husk_ops_open(root, id, &st, err);
    if (dirfd < 0)
        return NULL;
    struct husk_cgroup cg;
    husk_cgroup_parse(st.cgroup, &cg);
    if (cg.n > 0) {
        pid_t *v = husk_cgroup_pids(&cg, n);
        if (!v)
            husk_err_set(err, ENOMEM, "ps");
        return v;
    }
    /* Without a cgroup (rootless) a pid namespace of its own still tells its processes */
    if (!(st.flags & HUSK_STATE_OWN_PIDNS) || husk_state_status(dirfd, &st) == HUSK_STOPPED) {
        husk_ops_no_cgroup(err, "ps: cannot list the processes", id);
        return NULL;
    }
    struct pid_list l = {.v = malloc(64 * sizeof(pid_t)), .cap = 64};
    if (!l.v || husk_ops_each_ns_pid(&st, add_pid, &l) < 0) {
        free(l.v);
        husk_err_set(err, errno, "ps: read the processes of container \"%s\"", id);
        return NULL;
    }
    *n = l.n;
    return l.v;
}

static void print_event(const char *type, const char *id, const struct husk_cgroup *cg)
{
    struct husk_jsonw w;
    husk_jsonw_init(&w, 0);
    husk_jsonw_begin_object(&w);
    husk_jsonw_kv_str(&w, "type", type);
    husk_jsonw_kv_str(&w, "id", id);
    if (cg) {
        husk_jsonw_key(&w, "data");
        husk_cgroup_stats(cg, &w);
    }
    husk_jsonw_end_object(&w);
    husk_jsonw_raw(&w, "\n");
    if (w.buf)
        fputs(w.buf, stdout);
    fflush(stdout);
    husk_jsonw_free(&w);
}

int husk_container_events(const char *root, const char *id, bool stats_once, int interval, struct husk_err *err)
{
    struct husk_state st;
    int dirfd = husk_ops_open(root, id, &st, err);
    if (dirfd < 0)
        return -1;
    /* no lock held while we watch: other commands must go on */
    flock(dirfd, LOCK_UN);
    struct husk_cgroup cg;
    husk_cgroup_parse(st.cgroup, &cg);
    int rc = 0;
    if (husk_state_status(dirfd, &st) == HUSK_STOPPED) {
        rc = husk_err_set(err, 0, "container \"%s\" is not running", id);
    } else if (cg.n == 0) {
        rc = husk_ops_no_cgroup(err, "events: no stats or OOM events", id);
    } else if (stats_once) {
        print_event("stats", id, &cg);
    } else {
        long long ooms = husk_cgroup_oom_kills(&cg);
        int ticks = 0;
        while (husk_state_status(dirfd, &st) != HUSK_STOPPED) {
            long long now = husk_cgroup_oom_kills(&cg);
            for (; ooms < now; ooms++)
                print_event("oom", id, NULL);
            if (++ticks >= interval * 10) {
                print_event("stats", id, &cg);
                ticks = 0;
            }
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    husk_state_free(&st);
    close(dirfd);
    return rc;
}
