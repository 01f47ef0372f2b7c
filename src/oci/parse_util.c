#include "parse_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The paths name a value in errors only, but every element of a config gets one: built by
 * hand, not by snprintf (Docker's seccomp profile takes thousands), truncated as snprintf
 * would. */
static size_t put(char *out, size_t o, const char *s)
{
    size_t l = strlen(s);
    if (l > PATHMAX - 1 - o)
        l = PATHMAX - 1 - o;
    memcpy(out + o, s, l);
    return o + l;
}

void pc_join(char *out, const char *base, const char *key)
{
    size_t o = put(out, 0, base);
    o = put(out, o, ".");
    out[put(out, o, key)] = '\0';
}

void pc_index(char *out, const char *base, size_t i)
{
    char num[24], *d = num + sizeof num;
    *--d = '\0';
    *--d = ']';
    do
        *--d = (char)('0' + i % 10);
    while ((i /= 10) > 0);
    *--d = '[';
    size_t o = put(out, 0, base);
    out[put(out, o, d)] = '\0';
}

int pc_fail(struct pctx *c, const char *path, const char *fmt, ...)
{
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return husk_err_set(c->err, 0, "%s: %s: %s", c->name, path, m);
}

/* How a bad value is shown back to the user. */
static void describe(yajl_val v, char *out, size_t n)
{
    if (!v || YAJL_IS_NULL(v))
        snprintf(out, n, "null");
    else if (YAJL_IS_STRING(v))
        snprintf(out, n, "\"%.200s\"", v->u.string);
    else if (YAJL_IS_NUMBER(v))
        snprintf(out, n, "%.100s", v->u.number.r);
    else if (YAJL_IS_TRUE(v))
        snprintf(out, n, "true");
    else if (YAJL_IS_FALSE(v))
        snprintf(out, n, "false");
    else if (YAJL_IS_OBJECT(v))
        snprintf(out, n, "an object");
    else
        snprintf(out, n, "an array");
}

int pc_expect(struct pctx *c, const char *path, const char *what, yajl_val v)
{
    char got[256];
    describe(v, got, sizeof got);
    return pc_fail(c, path, "expected %s, got %s", what, got);
}

yajl_val pc_get(yajl_val obj, const char *key)
{
    if (!obj || !YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    return NULL;
}

/* Looks up key; null counts as absent, as Go runtimes treat it. */
static int lookup(struct pctx *c, yajl_val obj, const char *key, const char *path, char *sub, yajl_val *v)
{
    (void)c;
    *v = pc_get(obj, key);
    if (!*v || YAJL_IS_NULL(*v))
        return 0;   /* most keys a config may have, it has not: no path for them */
    pc_join(sub, path, key);
    return 1;
}

int pc_section(struct pctx *c, yajl_val obj, const char *key, const char *path, yajl_val *out, char *sub)
{
    yajl_val v;
    if (!lookup(c, obj, key, path, sub, &v))
        return 0;
    if (!YAJL_IS_OBJECT(v))
        return pc_expect(c, sub, "an object", v);
    *out = v;
    return 1;
}

int pc_object(struct pctx *c, yajl_val obj, const char *key, const char *path, yajl_val *out)
{
    char p[PATHMAX];
    return pc_section(c, obj, key, path, out, p);
}

int pc_array(struct pctx *c, yajl_val obj, const char *key, const char *path, yajl_val *out)
{
    char p[PATHMAX];
    yajl_val v;
    if (!lookup(c, obj, key, path, p, &v))
        return 0;
    if (!YAJL_IS_ARRAY(v))
        return pc_expect(c, p, "an array", v);
    *out = v;
    return 1;
}

static int as_str(struct pctx *c, yajl_val v, const char *p, char **out)
{
    if (!YAJL_IS_STRING(v))
        return pc_expect(c, p, "a string", v);
    *out = husk_arena_strdup(c->a, v->u.string);
    if (!*out)
        return husk_err_set(c->err, ENOMEM, "%s", c->name);
    return 1;
}

int pc_str(struct pctx *c, yajl_val obj, const char *key, const char *path, char **out)
{
    char p[PATHMAX];
    yajl_val v;
    if (!lookup(c, obj, key, path, p, &v))
        return 0;
    return as_str(c, v, p, out);
}

int pc_bool(struct pctx *c, yajl_val obj, const char *key, const char *path, bool *out)
{
    char p[PATHMAX];
    yajl_val v;
    if (!lookup(c, obj, key, path, p, &v))
        return 0;
    if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
        return pc_expect(c, p, "a boolean", v);
    *out = YAJL_IS_TRUE(v);
    return 1;
}

/* Reads the literal text so values above INT64_MAX (rlimits) survive. */
static int num_u64(yajl_val v, uint64_t *out)
{
    if (!YAJL_IS_NUMBER(v) || !v->u.number.r)
        return -1;
    const char *s = v->u.number.r;
    if (*s == '-' || strpbrk(s, ".eE"))
        return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = x;
    return 0;
}

static int num_i64(yajl_val v, int64_t *out)
{
    if (!YAJL_IS_NUMBER(v) || !v->u.number.r || strpbrk(v->u.number.r, ".eE"))
        return -1;
    errno = 0;
    char *end;
    long long x = strtoll(v->u.number.r, &end, 10);
    if (errno || *end)
        return -1;
    *out = x;
    return 0;
}

int pc_u64(struct pctx *c, yajl_val obj, const char *key, const char *path, uint64_t *out)
{
    char p[PATHMAX];
    yajl_val v;
    if (!lookup(c, obj, key, path, p, &v))
        return 0;
    if (num_u64(v, out) < 0)
        return pc_expect(c, p, "a non-negative integer", v);
    return 1;
}

int pc_i64(struct pctx *c, yajl_val obj, const char *key, const char *path, int64_t *out)
{
    char p[PATHMAX];
    yajl_val v;
    if (!lookup(c, obj, key, path, p, &v))
        return 0;
    if (num_i64(v, out) < 0)
        return pc_expect(c, p, "an integer", v);
    return 1;
}

int pc_u32(struct pctx *c, yajl_val obj, const char *key, const char *path, uint32_t *out)
{
    char p[PATHMAX];
    yajl_val v;
    uint64_t x;
    if (!lookup(c, obj, key, path, p, &v))
        return 0;
    if (num_u64(v, &x) < 0 || x > UINT32_MAX)
        return pc_expect(c, p, "an integer from 0 to 4294967295", v);
    *out = (uint32_t)x;
    return 1;
}

int pc_i32(struct pctx *c, yajl_val obj, const char *key, const char *path, int32_t *out)
{
    char p[PATHMAX];
    yajl_val v;
    int64_t x;
    if (!lookup(c, obj, key, path, p, &v))
        return 0;
    if (num_i64(v, &x) < 0 || x < INT32_MIN || x > INT32_MAX)
        return pc_expect(c, p, "a 32-bit integer", v);
    *out = (int32_t)x;
    return 1;
}

int pc_opt_u64(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_opt_u64 *out)
{
    int r = pc_u64(c, obj, key, path, &out->v);
    if (r > 0)
        out->set = true;
    return r;
}

int pc_opt_i64(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_opt_i64 *out)
{
    int r = pc_i64(c, obj, key, path, &out->v);
    if (r > 0)
        out->set = true;
    return r;
}

int pc_opt_bool(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_opt_bool *out)
{
    int r = pc_bool(c, obj, key, path, &out->v);
    if (r > 0)
        out->set = true;
    return r;
}

int pc_strv(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_strv *out)
{
    char p[PATHMAX], ip[PATHMAX];
    yajl_val v;
    if (!lookup(c, obj, key, path, p, &v))
        return 0;
    if (!YAJL_IS_ARRAY(v))
        return pc_expect(c, p, "an array of strings", v);
    size_t n = v->u.array.len;
    out->v = husk_arena_alloc(c->a, (n + 1) * sizeof(char *));
    if (!out->v)
        return husk_err_set(c->err, ENOMEM, "%s", c->name);
    for (size_t i = 0; i < n; i++) {
        pc_index(ip, p, i);
        if (as_str(c, v->u.array.values[i], ip, &out->v[i]) < 0)
            return -1;
    }
    out->n = n;
    return 1;
}

int pc_map(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_kv **out, size_t *n)
{
    char p[PATHMAX], kp[PATHMAX];
    yajl_val v;
    if (!lookup(c, obj, key, path, p, &v))
        return 0;
    if (!YAJL_IS_OBJECT(v))
        return pc_expect(c, p, "an object of strings", v);
    size_t len = v->u.object.len;
    *out = husk_arena_alloc(c->a, (len + 1) * sizeof **out);
    if (!*out)
        return husk_err_set(c->err, ENOMEM, "%s", c->name);
    for (size_t i = 0; i < len; i++) {
        pc_join(kp, p, v->u.object.keys[i]);
        (*out)[i].key = husk_arena_strdup(c->a, v->u.object.keys[i]);
        if (as_str(c, v->u.object.values[i], kp, &(*out)[i].value) < 0)
            return -1;
    }
    *n = len;
    return 1;
}

static int idmap_elem(struct pctx *c, yajl_val v, const char *path, void *elem)
{
    struct husk_idmap *m = elem;
    char p[PATHMAX];
    static const char *const req[] = {"containerID", "hostID", "size"};
    uint32_t *dst[] = {&m->container_id, &m->host_id, &m->size};
    for (int i = 0; i < 3; i++) {
        int r = pc_u32(c, v, req[i], path, dst[i]);
        if (r < 0)
            return -1;
        if (r == 0) {
            pc_join(p, path, req[i]);
            return pc_fail(c, p, "required property is missing");
        }
    }
    return 0;
}

int pc_idmaps(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_idmaps *out)
{
    void *v = NULL;
    int r = pc_objects(c, obj, key, path, sizeof(struct husk_idmap), &v, &out->n, idmap_elem);
    out->v = v;
    return r;
}

int pc_objects(struct pctx *c, yajl_val obj, const char *key, const char *path, size_t size,
               void **out, size_t *n, pc_elem_fn fn)
{
    char p[PATHMAX], ip[PATHMAX];
    yajl_val v;
    if (!lookup(c, obj, key, path, p, &v))
        return 0;
    if (!YAJL_IS_ARRAY(v))
        return pc_expect(c, p, "an array", v);
    size_t len = v->u.array.len;
    char *arr = husk_arena_alloc(c->a, (len + 1) * size);
    if (!arr)
        return husk_err_set(c->err, ENOMEM, "%s", c->name);
    for (size_t i = 0; i < len; i++) {
        pc_index(ip, p, i);
        yajl_val e = v->u.array.values[i];
        if (!YAJL_IS_OBJECT(e))
            return pc_expect(c, ip, "an object", e);
        if (fn(c, e, ip, arr + i * size) < 0)
            return -1;
    }
    *out = arr;
    *n = len;
    return 1;
}
