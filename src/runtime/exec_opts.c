/* `exec`'s command line (runc's exec flags) made into its process (--process FILE, or the
 * container's process with ARGS, and the overrides) and its cgroups (--cgroup). */
#include "exec_internal.h"
#include "husk/fileio.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int parse_uint(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > UINT32_MAX)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static char **strv_append(struct husk_arena *a, struct husk_strv *v, const char *s)
{
    char **nv = husk_arena_alloc(a, (v->n + 2) * sizeof(char *));
    if (!nv)
        return NULL;
    if (v->n)
        memcpy(nv, v->v, v->n * sizeof(char *));
    nv[v->n++] = husk_arena_strdup(a, s);
    v->v = nv;
    return nv;
}

/* The base: --process FILE, or the container's process with ARGS; then -t, --cwd, --env. */
static int base_process(const struct husk_exec_opts *o, const struct husk_config *cfg, struct husk_arena *a,
                        struct husk_process *p, struct husk_err *err)
{
    if (o->process_file) {
        size_t len;
        char *text = husk_read_all(o->process_file, &len, err);
        if (!text)
            return -1;
        memset(p, 0, sizeof *p);
        int r = husk_process_parse(text, len, o->process_file, a, p, err);
        free(text);
        if (r < 0)
            return -1;
    } else {
        *p = cfg->process;
        p->terminal = false;
        p->args.n = 0;
        p->args.v = NULL;
        for (int i = 0; i < o->n_args; i++)
            if (!strv_append(a, &p->args, o->args[i]))
                return husk_err_set(err, ENOMEM, "exec");
    }
    if (o->tty)
        p->terminal = true;
    if (o->cwd)
        p->cwd = husk_arena_strdup(a, o->cwd);
    if (!p->cwd)
        p->cwd = husk_arena_strdup(a, "/");
    for (int i = 0; i < o->n_env; i++) {
        const char *eq = strchr(o->env[i], '=');
        size_t kl = eq ? (size_t)(eq - o->env[i]) : strlen(o->env[i]);
        bool replaced = false;
        for (size_t k = 0; k < p->env.n; k++)
            if (!strncmp(p->env.v[k], o->env[i], kl) && p->env.v[k][kl] == '=') {
                p->env.v[k] = husk_arena_strdup(a, o->env[i]);
                replaced = true;
            }
        if (!replaced && !strv_append(a, &p->env, o->env[i]))
            return husk_err_set(err, ENOMEM, "exec");
    }
    return 0;
}

/* --user UID[:GID] and --additional-gids */
static int ids(const struct husk_exec_opts *o, struct husk_arena *a, struct husk_process *p, struct husk_err *err)
{
    if (o->user) {
        char u[64];
        snprintf(u, sizeof u, "%s", o->user);
        char *colon = strchr(u, ':');
        if (colon)
            *colon = '\0';
        unsigned uid, gid = 0;
        if (parse_uint(u, &uid) < 0 || (colon && parse_uint(colon + 1, &gid) < 0))
            return husk_err_set(err, 0, "exec: --user: expected UID[:GID], got \"%s\"", o->user);
        p->uid = uid;
        p->gid = colon ? gid : 0;
    }
    if (o->additional_gids) {
        size_t n = 1;
        for (const char *s = o->additional_gids; *s; s++)
            n += *s == ',';
        p->additional_gids = husk_arena_alloc(a, n * sizeof(gid_t));
        p->n_additional_gids = 0;
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", o->additional_gids);
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
            unsigned g;
            if (parse_uint(t, &g) < 0)
                return husk_err_set(err, 0, "exec: --additional-gids: bad gid \"%s\"", t);
            p->additional_gids[p->n_additional_gids++] = g;
        }
    }
    return 0;
}

int husk_exec_build_process(const struct husk_exec_opts *o, const struct husk_config *cfg, struct husk_arena *a,
                            struct husk_process *p, struct husk_err *err)
{
    if (base_process(o, cfg, a, p, err) < 0 || ids(o, a, p, err) < 0)
        return -1;
    /* --cap widens bounding, permitted and effective only, as runc's does: in the inheritable
     * and ambient sets it would survive into a non-root user's program (CVE-2022-29162). Those
     * two hold only what the process spec lists. */
    for (int i = 0; i < o->n_caps; i++) {
        struct husk_strv *sets[] = {&p->caps.bounding, &p->caps.effective, &p->caps.permitted};
        p->caps.set = true;
        for (int k = 0; k < 3; k++)
            if (!strv_append(a, sets[k], o->caps[i]))
                return husk_err_set(err, ENOMEM, "exec");
    }
    if (o->no_new_privs)
        p->no_new_privileges = true;
    if (o->apparmor)
        p->apparmor_profile = husk_arena_strdup(a, o->apparmor);
    if (o->label)
        p->selinux_label = husk_arena_strdup(a, o->label);
    if (p->args.n == 0)
        return husk_err_set(err, 0, "exec: no command given (ARGS or --process FILE)");
    if (p->cwd[0] != '/')
        return husk_err_set(err, 0, "exec: cwd \"%s\" must be an absolute path", p->cwd);
    return 0;
}

/* Whether the comma-separated list `want` names one of a v1 hierarchy's controllers. */
static bool names_ctrl(const char *want, size_t wlen, const char *ctrls)
{
    for (const char *w = want; w < want + wlen;) {
        const char *we = memchr(w, ',', (size_t)(want + wlen - w));
        size_t n = we ? (size_t)(we - w) : (size_t)(want + wlen - w);
        for (const char *c = ctrls; *c;) {
            size_t m = strcspn(c, ",");
            if (m == n && strncmp(c, w, n) == 0)
                return true;
            c += m + (c[m] == ',');
        }
        w += n + (we != NULL);
    }
    return false;
}

/* `exec --cgroup [CTRL[,CTRL]:]SUB` (runc 1.1): the process goes to SUB below the
 * container's cgroup instead, in every hierarchy (no CTRL) or in those of the named v1
 * controllers. SUB must exist (it is the container's to make) and stay below: relative, no
 * `..`, and no symlink out (cgroupfs has none, but the path is checked as it resolves). */
int husk_exec_sub_cgroups(const struct husk_exec_opts *o, struct husk_cgroup *cg, struct husk_err *err)
{
    bool moved[HUSK_CG_MAX] = {0};
    for (int k = 0; k < o->n_cgroups; k++) {
        const char *v = o->cgroups[k], *colon = strchr(v, ':');
        const char *sub = colon ? colon + 1 : v;
        if (!*sub || sub[0] == '/' || strcmp(sub, "..") == 0 || strncmp(sub, "../", 3) == 0 || strstr(sub, "/../") ||
            (strlen(sub) >= 3 && strcmp(sub + strlen(sub) - 3, "/..") == 0))
            return husk_err_set(err, 0, "exec: --cgroup \"%s\": the path must be relative and stay inside the "
                                        "container's cgroup", v);
        bool any = false;
        for (int i = 0; i < cg->n; i++) {
            struct husk_cgroup_dir *d = &cg->dirs[i];
            if (colon && (d->v2 || !names_ctrl(v, (size_t)(colon - v), d->ctrls)))
                continue;
            if (moved[i])
                return husk_err_set(err, 0, "exec: --cgroup \"%s\": a controller named twice", v);
            char path[PATH_MAX], real[PATH_MAX], base[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s", d->path, sub) >= (int)sizeof path)
                return husk_err_set(err, ENAMETOOLONG, "exec: --cgroup \"%s\"", v);
            struct stat sb;
            if (!realpath(path, real) || stat(real, &sb) < 0)
                return husk_err_set(err, errno, "exec: --cgroup \"%s\": `%s`", v, path);
            if (!S_ISDIR(sb.st_mode))
                return husk_err_set(err, ENOTDIR, "exec: --cgroup \"%s\": `%s`", v, path);
            if (!realpath(d->path, base))
                return husk_err_set(err, errno, "exec: --cgroup \"%s\": `%s`", v, d->path);
            size_t bl = strlen(base);
            if (strncmp(real, base, bl) != 0 || real[bl] != '/')
                return husk_err_set(err, 0, "exec: --cgroup \"%s\": `%s` is not inside the container's cgroup", v,
                                    path);
            snprintf(d->path, sizeof d->path, "%s", real);
            moved[i] = any = true;
        }
        if (!any)
            return husk_err_set(err, 0, "exec: --cgroup \"%s\": the container has no cgroup of %s", v,
                                colon ? "that controller" : "its own");
    }
    return 0;
}
