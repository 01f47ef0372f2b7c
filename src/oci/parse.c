/* config.json → struct husk_config (config.md: root, mounts, process, hooks, annotations). */
#include "parse_internal.h"
#include "husk/fileio.h"
#include "husk/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const husk_hook_names[6] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static const struct { const char *name; int res; } rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

int husk_rlimit_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof rlimit_names / sizeof *rlimit_names; i++)
        if (strcmp(rlimit_names[i].name, name) == 0)
            return rlimit_names[i].res;
    return -1;
}

static int required(struct pctx *c, int r, const char *path, const char *key)
{
    char p[PATHMAX];
    if (r != 0)
        return r;
    pc_join(p, path, key);
    return pc_fail(c, p, "required property is missing");
}

static int mount_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_mount *m = elem;
    if (required(c, pc_str(c, v, "destination", path, &m->destination), path, "destination") < 0 ||
        pc_str(c, v, "type", path, &m->type) < 0 ||
        pc_str(c, v, "source", path, &m->source) < 0 ||
        pc_strv(c, v, "options", path, &m->options) < 0 ||
        pc_idmaps(c, v, "uidMappings", path, &m->uid_mappings) < 0 ||
        pc_idmaps(c, v, "gidMappings", path, &m->gid_mappings) < 0)
        return -1;
    return 0;
}

static int hook_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_hook *h = elem;
    char p[PATHMAX];
    if (required(c, pc_str(c, v, "path", path, &h->path), path, "path") < 0 ||
        pc_strv(c, v, "args", path, &h->args) < 0 ||
        pc_strv(c, v, "env", path, &h->env) < 0 ||
        pc_opt_i64(c, v, "timeout", path, &h->timeout) < 0)
        return -1;
    if (h->timeout.set && h->timeout.v <= 0) {
        pc_join(p, path, "timeout");
        return pc_fail(c, p, "must be greater than zero, got %lld", (long long)h->timeout.v);
    }
    return 0;
}

static int rlimit_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_rlimit *r = elem;
    char p[PATHMAX];
    if (required(c, pc_str(c, v, "type", path, &r->type), path, "type") < 0 ||
        required(c, pc_u64(c, v, "soft", path, &r->soft), path, "soft") < 0 ||
        required(c, pc_u64(c, v, "hard", path, &r->hard), path, "hard") < 0)
        return -1;
    r->resource = husk_rlimit_from_name(r->type);
    if (r->resource < 0) {
        pc_join(p, path, "type");
        return pc_fail(c, p, "unknown resource limit \"%s\"", r->type);
    }
    return 0;
}

static int parse_caps(struct pctx *c, yajl_val p, const char *path, struct husk_caps *caps)
{
    yajl_val o = NULL;
    char cp[PATHMAX];
    int r = pc_object(c, p, "capabilities", path, &o);
    if (r <= 0)
        return r;
    pc_join(cp, path, "capabilities");
    caps->set = true;
    if (pc_strv(c, o, "bounding", cp, &caps->bounding) < 0 ||
        pc_strv(c, o, "effective", cp, &caps->effective) < 0 ||
        pc_strv(c, o, "inheritable", cp, &caps->inheritable) < 0 ||
        pc_strv(c, o, "permitted", cp, &caps->permitted) < 0 ||
        pc_strv(c, o, "ambient", cp, &caps->ambient) < 0)
        return -1;
    return 1;
}

static int proc_console_size(struct pctx *c, yajl_val p, const char *path, struct husk_process *out)
{
    char sp[PATHMAX];
    yajl_val o = NULL;
    uint32_t h = 0, w = 0;
    int r = pc_section(c, p, "consoleSize", path, &o, sp);
    if (r <= 0)
        return r;
    if (required(c, pc_u32(c, o, "height", sp, &h), sp, "height") < 0 ||
        required(c, pc_u32(c, o, "width", sp, &w), sp, "width") < 0)
        return -1;
    out->console_size.set = true;
    out->console_size.height = h;
    out->console_size.width = w;
    return 1;
}

static int proc_additional_gids(struct pctx *c, yajl_val user, const char *up, struct husk_process *out)
{
    char ap[PATHMAX], ip[PATHMAX];
    yajl_val arr = NULL;
    int r = pc_array(c, user, "additionalGids", up, &arr);
    if (r <= 0)
        return r;
    pc_join(ap, up, "additionalGids");
    out->n_additional_gids = arr->u.array.len;
    out->additional_gids = husk_arena_alloc(c->a, (arr->u.array.len + 1) * sizeof(gid_t));
    for (size_t i = 0; i < arr->u.array.len; i++) {
        yajl_val e = arr->u.array.values[i];
        pc_index(ip, ap, i);
        if (!YAJL_IS_INTEGER(e) || e->u.number.i < 0 || e->u.number.i > UINT32_MAX)
            return pc_expect(c, ip, "an integer from 0 to 4294967295", e);
        out->additional_gids[i] = (gid_t)e->u.number.i;
    }
    return 1;
}

/* config.md "POSIX process": user */
static int proc_user(struct pctx *c, yajl_val p, const char *path, struct husk_process *out)
{
    char sp[PATHMAX];
    yajl_val o = NULL;
    uint32_t uid = 0, gid = 0;
    int r = pc_section(c, p, "user", path, &o, sp);
    if (r <= 0)
        return r;
    if (pc_u32(c, o, "uid", sp, &uid) < 0 || pc_u32(c, o, "gid", sp, &gid) < 0 ||
        pc_opt_u64(c, o, "umask", sp, &out->umask) < 0 ||
        pc_str(c, o, "username", sp, &out->username) < 0)
        return -1;
    out->uid = uid;
    out->gid = gid;
    return proc_additional_gids(c, o, sp, out);
}

static int proc_io_priority(struct pctx *c, yajl_val p, const char *path, struct husk_process *out)
{
    char sp[PATHMAX];
    yajl_val o = NULL;
    int r = pc_section(c, p, "ioPriority", path, &o, sp);
    if (r <= 0)
        return r;
    out->io_priority.set = true;
    if (required(c, pc_str(c, o, "class", sp, &out->io_priority.class_), sp, "class") < 0 ||
        pc_i32(c, o, "priority", sp, &out->io_priority.priority) < 0)
        return -1;
    return 1;
}

static int proc_scheduler(struct pctx *c, yajl_val p, const char *path, struct husk_process *out)
{
    char sp[PATHMAX];
    yajl_val o = NULL;
    struct husk_sched *s = &out->scheduler;
    int r = pc_section(c, p, "scheduler", path, &o, sp);
    if (r <= 0)
        return r;
    s->set = true;
    if (required(c, pc_str(c, o, "policy", sp, &s->policy), sp, "policy") < 0 ||
        pc_i32(c, o, "nice", sp, &s->nice) < 0 || pc_i32(c, o, "priority", sp, &s->priority) < 0 ||
        pc_strv(c, o, "flags", sp, &s->flags) < 0 || pc_u64(c, o, "runtime", sp, &s->runtime) < 0 ||
        pc_u64(c, o, "deadline", sp, &s->deadline) < 0 || pc_u64(c, o, "period", sp, &s->period) < 0)
        return -1;
    return 1;
}

static int proc_exec_cpu_affinity(struct pctx *c, yajl_val p, const char *path, struct husk_process *out)
{
    char sp[PATHMAX];
    yajl_val o = NULL;
    int r = pc_section(c, p, "execCPUAffinity", path, &o, sp);
    if (r <= 0)
        return r;
    if (pc_str(c, o, "initial", sp, &out->exec_cpu_initial) < 0 ||
        pc_str(c, o, "final", sp, &out->exec_cpu_final) < 0)
        return -1;
    return 1;
}

/* config.md "Process", in the order its members are read (the first bad one is reported). */
int husk_parse_process(struct pctx *c, yajl_val p, const char *path, struct husk_process *out)
{
    void *rl = NULL;
    if (pc_bool(c, p, "terminal", path, &out->terminal) < 0 || proc_console_size(c, p, path, out) < 0 ||
        proc_user(c, p, path, out) < 0)
        return -1;
    if (pc_strv(c, p, "args", path, &out->args) < 0 ||
        pc_str(c, p, "commandLine", path, &out->command_line) < 0 ||
        pc_strv(c, p, "env", path, &out->env) < 0 ||
        pc_str(c, p, "cwd", path, &out->cwd) < 0 ||
        parse_caps(c, p, path, &out->caps) < 0 ||
        pc_bool(c, p, "noNewPrivileges", path, &out->no_new_privileges) < 0 ||
        pc_str(c, p, "apparmorProfile", path, &out->apparmor_profile) < 0 ||
        pc_str(c, p, "selinuxLabel", path, &out->selinux_label) < 0 ||
        pc_opt_i64(c, p, "oomScoreAdj", path, &out->oom_score_adj) < 0)
        return -1;
    if (pc_objects(c, p, "rlimits", path, sizeof(struct husk_rlimit), &rl, &out->n_rlimits, rlimit_elem) < 0)
        return -1;
    out->rlimits = rl;
    if (proc_io_priority(c, p, path, out) < 0 || proc_scheduler(c, p, path, out) < 0 ||
        proc_exec_cpu_affinity(c, p, path, out) < 0)
        return -1;
    return 0;
}

static int parse_hooks(struct pctx *c, yajl_val root, struct husk_config *cfg)
{
    yajl_val h = NULL;
    int r = pc_object(c, root, "hooks", "", &h);
    if (r <= 0)
        return r;
    for (int k = 0; k < 6; k++) {
        void *v = NULL;
        if (pc_objects(c, h, husk_hook_names[k], ".hooks", sizeof(struct husk_hook), &v,
                       &cfg->hooks[k].n, hook_elem) < 0)
            return -1;
        cfg->hooks[k].v = v;
    }
    return 0;
}

/* text[len] is NUL, as yajl_tree wants it */
static struct husk_config *parse_nul(const char *text, size_t len, const char *name, struct husk_err *err)
{
    yajl_val root = husk_json_parse(text, len, name, err);
    if (!root)
        return NULL;
    struct husk_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        husk_json_free(root);
        husk_err_set(err, ENOMEM, "%s", name);
        return NULL;
    }
    husk_err_clear(err);
    struct pctx c = {.a = &cfg->arena, .name = name, .err = err};
    yajl_val o = NULL, proc = NULL, lin = NULL;
    void *mv = NULL;
    if (!YAJL_IS_OBJECT(root)) {
        pc_expect(&c, "(root)", "an object", root);
        goto fail;
    }
    if (required(&c, pc_str(&c, root, "ociVersion", "", &cfg->oci_version), "", "ociVersion") < 0)
        goto fail;
    if (strncmp(cfg->oci_version, "1.", 2) != 0) {
        pc_fail(&c, ".ociVersion", "unsupported version \"%s\": husk supports 1.0.0 through 1.3.x",
                cfg->oci_version);
        goto fail;
    }
    int r = pc_object(&c, root, "root", "", &o);
    if (r < 0)
        goto fail;
    if (r > 0 && (required(&c, pc_str(&c, o, "path", ".root", &cfg->root_path), ".root", "path") < 0 ||
                  pc_bool(&c, o, "readonly", ".root", &cfg->root_readonly) < 0))
        goto fail;
    if (pc_objects(&c, root, "mounts", "", sizeof(struct husk_mount), &mv, &cfg->n_mounts, mount_elem) < 0)
        goto fail;
    cfg->mounts = mv;
    if ((r = pc_object(&c, root, "process", "", &proc)) < 0)
        goto fail;
    if (r > 0) {
        cfg->has_process = true;
        if (husk_parse_process(&c, proc, ".process", &cfg->process) < 0)
            goto fail;
    }
    if (pc_str(&c, root, "hostname", "", &cfg->hostname) < 0 ||
        pc_str(&c, root, "domainname", "", &cfg->domainname) < 0 ||
        parse_hooks(&c, root, cfg) < 0 ||
        pc_map(&c, root, "annotations", "", &cfg->annotations, &cfg->n_annotations) < 0)
        goto fail;
    if ((r = pc_object(&c, root, "linux", "", &lin)) < 0)
        goto fail;
    if (r > 0) {
        cfg->has_linux = true;
        if (husk_parse_linux(&c, lin, &cfg->linux_) < 0)
            goto fail;
    }
    husk_json_free(root);
    return cfg;
fail:
    husk_json_free(root);
    husk_config_free(cfg);
    return NULL;
}

struct husk_config *husk_config_parse(const char *text, size_t len, const char *name, struct husk_err *err)
{
    char *copy = malloc(len + 1);
    if (!copy) {
        husk_err_set(err, ENOMEM, "%s", name);
        return NULL;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    struct husk_config *cfg = parse_nul(copy, len, name, err);
    free(copy);
    return cfg;
}

int husk_process_parse(const char *text, size_t len, const char *name, struct husk_arena *a,
                       struct husk_process *p, struct husk_err *err)
{
    /* a copy of len bytes, not strndup: a NUL byte in the text must reach husk_json_parse */
    char *copy = malloc(len + 1);
    if (!copy)
        return husk_err_set(err, ENOMEM, "%s", name);
    memcpy(copy, text, len);
    copy[len] = '\0';
    yajl_val root = husk_json_parse(copy, len, name, err);
    free(copy);
    if (!root)
        return -1;
    husk_err_clear(err);
    struct pctx c = {.a = a, .name = name, .err = err};
    int r = YAJL_IS_OBJECT(root) ? husk_parse_process(&c, root, "", p)
                                 : pc_expect(&c, "(root)", "an object", root);
    husk_json_free(root);
    return r;
}

struct husk_config *husk_config_load(const char *path, struct husk_err *err)
{
    size_t len;
    char *buf = husk_read_all(path, &len, err);
    if (!buf)
        return NULL;
    const char *base = strrchr(path, '/');
    /* husk_read_all NUL-terminates: parse the buffer itself, big configs are not copied */
    struct husk_config *cfg = parse_nul(buf, len, base ? base + 1 : path, err);
    free(buf);
    return cfg;
}

void husk_config_free(struct husk_config *c)
{
    if (!c)
        return;
    free(c->linux_.seccomp.prog);
    husk_arena_free(&c->arena);
    free(c);
}
