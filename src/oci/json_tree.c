/* The yajl_val tree of a document in one pass and one arena: what yajl_tree_parse builds (a
 * node, a string and a growing key and value array per value, each malloc'd: a third of a
 * config's parse, and most of its page faults), for the JSON every writer of configs and
 * states produces. Anything else (comments, \u escapes of surrogates, control characters,
 * bytes that are not UTF-8, a syntax error) is left to yajl itself, whose tree is then copied
 * into the same arena: yajl stays the judge of what is valid and of every error message. */
#include "json_tree.h"
#include "husk/arena.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The tree and the arena it lives in: husk_json_free finds the arena from the root. */
struct tree {
    struct husk_arena a;
    struct yajl_val_s root;
};

struct jt {
    const unsigned char *s, *end;
    struct husk_arena a;
    /* the members of the open arrays and objects, as a stack */
    yajl_val *vals;
    const char **keys;
    size_t sp, cap;
};

static void *jt_alloc(struct jt *t, size_t n)
{
    return husk_arena_alloc(&t->a, n);
}

void husk_json_free(yajl_val root)
{
    if (!root)
        return;
    /* the arena holds its own record: copied out before it goes */
    struct husk_arena a = ((struct tree *)((char *)root - offsetof(struct tree, root)))->a;
    husk_arena_free(&a);
}

static bool push(struct jt *t, const char *key, yajl_val v)
{
    if (t->sp == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        yajl_val *vals = realloc(t->vals, cap * sizeof *vals);
        if (vals)
            t->vals = vals;
        const char **keys = vals ? realloc(t->keys, cap * sizeof *keys) : NULL;
        if (keys)
            t->keys = keys;
        if (!vals || !keys)
            return false;
        t->cap = cap;
    }
    t->keys[t->sp] = key;
    t->vals[t->sp++] = v;
    return true;
}

static void skip_ws(struct jt *t)
{
    while (t->s < t->end && (*t->s == ' ' || *t->s == '\n' || *t->s == '\t' || *t->s == '\r'))
        t->s++;
}

static int hex(unsigned char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A UTF-8 sequence as yajl's lexer checks it (the lead byte's length, continuation bytes):
 * its length, or 0. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
    size_t n = (*s >> 5) == 0x6 ? 2 : (*s >> 4) == 0xe ? 3 : (*s >> 3) == 0x1e ? 4 : 0;
    if (!n || (size_t)(end - s) < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] >> 6) != 0x2)
            return 0;
    return n;
}

/* A string after its opening quote, unescaped into the arena. NULL: not ours to decide. */
static char *string(struct jt *t)
{
    const unsigned char *s = t->s, *q = s;
    bool esc = false;
    for (; q < t->end && *q != '"'; q++) {
        if (*q == '\\') {
            esc = true;
            if (++q == t->end)
                return NULL;
            if (*q == 'u') {
                if (t->end - q < 5 || hex(q[1]) < 0 || hex(q[2]) < 0 || hex(q[3]) < 0 || hex(q[4]) < 0)
                    return NULL;
                unsigned cp = (unsigned)(hex(q[1]) << 12 | hex(q[2]) << 8 | hex(q[3]) << 4 | hex(q[4]));
                if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                    return NULL;    /* NUL (refused before), surrogates: yajl's own decoding */
                q += 4;
            } else if (!strchr("\"\\/bfnrt", *q)) {
                return NULL;
            }
        } else if (*q < 0x20) {
            return NULL;
        } else if (*q >= 0x80) {
            size_t n = utf8_len(q, t->end);
            if (!n)
                return NULL;
            q += n - 1;
        }
    }
    if (q == t->end)
        return NULL;
    char *out = jt_alloc(t, (size_t)(q - s) + 1), *o = out;
    if (!out)
        return NULL;
    if (!esc) {
        memcpy(out, s, (size_t)(q - s));
        o += q - s;
    } else {
        for (const unsigned char *p = s; p < q; p++) {
            if (*p != '\\') {
                *o++ = (char)*p;
                continue;
            }
            switch (*++p) {
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 't': *o++ = '\t'; break;
            case 'u': {
                unsigned cp = (unsigned)(hex(p[1]) << 12 | hex(p[2]) << 8 | hex(p[3]) << 4 | hex(p[4]));
                p += 4;
                if (cp < 0x80) {
                    *o++ = (char)cp;
                } else if (cp < 0x800) {
                    *o++ = (char)(0xc0 | cp >> 6);
                    *o++ = (char)(0x80 | (cp & 0x3f));
                } else {
                    *o++ = (char)(0xe0 | cp >> 12);
                    *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
                    *o++ = (char)(0x80 | (cp & 0x3f));
                }
                break;
            }
            default: *o++ = (char)*p; break;    /* " \ / */
            }
        }
    }
    *o = '\0';
    t->s = q + 1;
    return out;
}

/* yajl_parse_integer's result: every character a digit after an optional sign, and no
 * overflow as it checks for one (it refuses LLONG_MIN itself). */
static bool integer(const char *r, long long *out)
{
    long long v = 0;
    int sign = 1;
    if (*r == '-') {
        sign = -1;
        r++;
    }
    for (; *r; r++) {
        if (*r < '0' || *r > '9' || v > LLONG_MAX / 10 || LLONG_MAX - v * 10 < *r - '0')
            return false;
        v = v * 10 + (*r - '0');
    }
    *out = sign * v;
    return true;
}

static yajl_val value(struct jt *t, yajl_val v);

static yajl_val number(struct jt *t, yajl_val v)
{
    const unsigned char *s = t->s, *p = s;
    if (p < t->end && *p == '-')
        p++;
    if (p < t->end && *p == '0') {
        p++;
    } else if (p < t->end && *p >= '1' && *p <= '9') {
        while (p < t->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < t->end && *p == '.') {
        const unsigned char *f = ++p;
        while (p < t->end && *p >= '0' && *p <= '9')
            p++;
        if (p == f)
            return NULL;
    }
    if (p < t->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < t->end && (*p == '+' || *p == '-'))
            p++;
        const unsigned char *x = p;
        while (p < t->end && *p >= '0' && *p <= '9')
            p++;
        if (p == x)
            return NULL;
    }
    /* at the text's end yajl lexes a number only once told there is no more: its say */
    if (p == t->end)
        return NULL;
    char *r = jt_alloc(t, (size_t)(p - s) + 1);
    if (!r)
        return NULL;
    memcpy(r, s, (size_t)(p - s));
    r[p - s] = '\0';
    v->type = yajl_t_number;
    v->u.number.r = r;
    v->u.number.flags = 0;
    if (integer(r, &v->u.number.i))
        v->u.number.flags |= YAJL_NUMBER_INT_VALID;
    char *e;
    errno = 0;
    v->u.number.d = strtod(r, &e);
    if (errno == 0 && *e == '\0')
        v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
    t->s = p;
    return v;
}

static bool literal(struct jt *t, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(t->end - t->s) < n || memcmp(t->s, word, n) != 0)
        return false;
    t->s += n;
    return true;
}

/* The members pushed since `base`, into the arena (none: NULL arrays, as yajl leaves them). */
static bool members(struct jt *t, yajl_val v, size_t base)
{
    size_t n = t->sp - base;
    yajl_val *vals = NULL;
    const char **keys = NULL;
    if (n) {
        vals = jt_alloc(t, n * sizeof *vals);
        keys = v->type == yajl_t_object && vals ? jt_alloc(t, n * sizeof *keys) : NULL;
        if (!vals || (v->type == yajl_t_object && !keys))
            return false;
        memcpy(vals, t->vals + base, n * sizeof *vals);
        if (keys)
            memcpy(keys, t->keys + base, n * sizeof *keys);
    }
    if (v->type == yajl_t_object) {
        v->u.object.keys = keys;
        v->u.object.values = vals;
        v->u.object.len = n;
    } else {
        v->u.array.values = vals;
        v->u.array.len = n;
    }
    t->sp = base;
    return true;
}

/* Nesting is bounded by the caller's scan (HUSK_JSON_MAX_DEPTH). */
static yajl_val container(struct jt *t, yajl_val v, bool obj)
{
    size_t base = t->sp;
    v->type = obj ? yajl_t_object : yajl_t_array;
    skip_ws(t);
    if (t->s < t->end && *t->s == (obj ? '}' : ']')) {
        t->s++;
        return members(t, v, base) ? v : NULL;
    }
    for (;;) {
        const char *key = NULL;
        if (obj) {
            if (t->s == t->end || *t->s != '"')
                return NULL;
            t->s++;
            if (!(key = string(t)))
                return NULL;
            skip_ws(t);
            if (t->s == t->end || *t->s != ':')
                return NULL;
            t->s++;
        }
        yajl_val m = jt_alloc(t, sizeof *m);
        if (!m || !value(t, m) || !push(t, key, m))
            return NULL;
        skip_ws(t);
        if (t->s == t->end)
            return NULL;
        if (*t->s == ',') {
            t->s++;
            skip_ws(t);
            continue;
        }
        if (*t->s != (obj ? '}' : ']'))
            return NULL;
        t->s++;
        return members(t, v, base) ? v : NULL;
    }
}

/* The value at t->s, into v. */
static yajl_val value(struct jt *t, yajl_val v)
{
    skip_ws(t);
    if (t->s == t->end)
        return NULL;
    switch (*t->s) {
    case '{':
    case '[':
        t->s++;
        return container(t, v, t->s[-1] == '{');
    case '"':
        t->s++;
        v->type = yajl_t_string;
        return (v->u.string = string(t)) ? v : NULL;
    case 't':
        v->type = yajl_t_true;
        return literal(t, "true") ? v : NULL;
    case 'f':
        v->type = yajl_t_false;
        return literal(t, "false") ? v : NULL;
    case 'n':
        v->type = yajl_t_null;
        return literal(t, "null") ? v : NULL;
    default:
        return number(t, v);
    }
}

/* yajl's tree, for what the one pass leaves to it: copied into v and the arena. */
static bool copy(struct jt *t, yajl_val y, yajl_val v)
{
    *v = *y;
    if (y->type == yajl_t_string || y->type == yajl_t_number) {
        char *s = husk_arena_strdup(&t->a, y->type == yajl_t_string ? y->u.string : y->u.number.r);
        if (!s)
            return false;
        if (y->type == yajl_t_string)
            v->u.string = s;
        else
            v->u.number.r = s;
    } else if (y->type == yajl_t_object || y->type == yajl_t_array) {
        bool obj = y->type == yajl_t_object;
        size_t n = obj ? y->u.object.len : y->u.array.len;
        yajl_val *from = obj ? y->u.object.values : y->u.array.values;
        yajl_val *vals = n ? jt_alloc(t, n * sizeof *vals) : NULL;
        const char **keys = obj && n ? jt_alloc(t, n * sizeof *keys) : NULL;
        if (n && (!vals || (obj && !keys)))
            return false;
        for (size_t i = 0; i < n; i++) {
            if (!(vals[i] = jt_alloc(t, sizeof *vals[i])) || !copy(t, from[i], vals[i]) ||
                (obj && !(keys[i] = husk_arena_strdup(&t->a, y->u.object.keys[i]))))
                return false;
        }
        if (obj) {
            v->u.object.keys = keys;
            v->u.object.values = vals;
        } else {
            v->u.array.values = vals;
        }
    }
    return true;
}

size_t husk_json_tree_fallbacks;

/* The tree's record first in its arena, the root in it; the arena's final state copied in. */
static yajl_val finish(struct jt *t, struct tree *tr, bool ok)
{
    if (!ok) {
        husk_arena_free(&t->a);
        return NULL;
    }
    tr->a = t->a;
    return &tr->root;
}

yajl_val husk_json_tree(const char *text, size_t len, char *ebuf, size_t elen)
{
    struct jt t = {.s = (const unsigned char *)text, .end = (const unsigned char *)text + len};
    struct tree *tr = jt_alloc(&t, sizeof *tr);
    bool ok = tr && value(&t, &tr->root);
    if (ok) {
        skip_ws(&t);
        ok = t.s == t.end;
    }
    free(t.vals);
    free(t.keys);
    if (ok)
        return finish(&t, tr, true);
    husk_arena_free(&t.a);
    husk_json_tree_fallbacks++;
    yajl_val y = yajl_tree_parse(text, ebuf, elen);
    if (!y)
        return NULL;
    struct jt c = {0};
    tr = jt_alloc(&c, sizeof *tr);
    ok = tr && copy(&c, y, &tr->root);
    yajl_tree_free(y);
    return finish(&c, tr, ok);
}
