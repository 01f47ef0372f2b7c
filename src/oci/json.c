/* husk_json_parse: the checks a document from outside husk needs first, around its tree
 * (json_tree.c: one pass for plain JSON, yajl for the rest). */
#include "husk/json.h"
#include "json_tree.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define PATH_LEN 512
#define STR_(x) #x
#define STR(x) STR_(x)

/* Where the byte at off sits, as a JSON path (".linux.mounts[3].destination"), found by
 * scanning the text again: only ever on the way to an error, so the first scan stays a
 * plain loop. Keys appear as they are written in the text. */
static void path_at(const char *text, size_t off, char *out)
{
    struct frame {
        char type;              /* '{' or '[' */
        bool want_key;          /* object: the next string is a key */
        size_t idx;             /* array: the element's index */
        size_t key, key_len;    /* object: the last key's bytes in text */
    } st[HUSK_JSON_MAX_DEPTH + 1];
    int top = -1;
    bool in_str = false, is_key = false;
    for (size_t i = 0; i < off; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_str = false;
                if (is_key)
                    st[top].key_len = i - st[top].key;
            }
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            is_key = top >= 0 && st[top].type == '{' && st[top].want_key;
            if (is_key) {
                st[top].key = i + 1;
                st[top].key_len = 0;
                st[top].want_key = false;
            }
            break;
        case '{':
        case '[':
            if (top + 1 <= HUSK_JSON_MAX_DEPTH)
                st[++top] = (struct frame){.type = c, .want_key = c == '{'};
            break;
        case '}':
        case ']':
            if (top >= 0)
                top--;
            break;
        case ',':
            if (top >= 0 && st[top].type == '[')
                st[top].idx++;
            else if (top >= 0)
                st[top].want_key = true;
            break;
        }
    }
    /* a key cut off by the error (a "\u0000" in it) shows up to there */
    if (in_str && is_key)
        st[top].key_len = off - st[top].key;
    size_t o = 0;
    out[0] = '\0';
    for (int d = 0; d <= top && o < PATH_LEN; d++) {
        int n;
        if (st[d].type == '[')
            n = snprintf(out + o, PATH_LEN - o, "[%zu]", st[d].idx);
        else if (!st[d].want_key || st[d].key_len)
            n = snprintf(out + o, PATH_LEN - o, ".%.*s", (int)(st[d].key_len > 200 ? 200 : st[d].key_len),
                         text + st[d].key);
        else
            n = 0;
        o += (size_t)n;
    }
    if (!out[0])
        snprintf(out, PATH_LEN, "(root)");
    /* 256 levels of "[0]" say nothing more than the first few */
    if (o > 120)
        memcpy(out + 117, "...", 4);
}

/* One pass over the bytes, before yajl builds anything: nesting depth, NUL bytes and "\u0000"
 * escapes. Invalid JSON passes on to yajl, which reports where it is wrong. */
static int scan(const char *text, size_t len, const char *name, struct husk_err *err)
{
    char path[PATH_LEN];
    const char *why;
    size_t depth = 0, i;
    for (i = 0; i < len; i++) {
        char c = text[i];
        if (c == '"') {
            for (i++; i < len && text[i] != '"'; i++) {
                if (text[i] == '\\') {
                    if (i + 5 < len && memcmp(text + i + 1, "u0000", 5) == 0) {
                        why = "\\u0000 (a NUL character) is not allowed in a string";
                        goto fail;
                    }
                    i++;
                } else if (text[i] == '\0') {
                    goto nul;
                }
            }
        } else if (c == '{' || c == '[') {
            if (++depth > HUSK_JSON_MAX_DEPTH) {
                why = "nested deeper than " STR(HUSK_JSON_MAX_DEPTH) " arrays and objects";
                goto fail;
            }
        } else if (c == '}' || c == ']') {
            if (depth)
                depth--;
        } else if (c == '\0') {
            goto nul;
        }
    }
    return 0;
nul:
    return husk_err_set(err, 0, "%s: invalid JSON: a NUL byte at offset %zu", name, i);
fail:
    path_at(text, i, path);
    return husk_err_set(err, 0, "%s: %s: %s", name, path, why);
}

/* yajl_tree reports no position; a second pass with the stream parser finds it. */
static void syntax_error(const char *text, size_t len, const char *name, struct husk_err *err)
{
    yajl_handle h = yajl_alloc(NULL, NULL, NULL);
    if (!h) {
        husk_err_set(err, ENOMEM, "%s", name);
        return;
    }
    yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    size_t off = yajl_get_bytes_consumed(h);
    if (st == yajl_status_ok || off > len)
        off = len;
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char *msg = (char *)yajl_get_error(h, 0, (const unsigned char *)text, len);
    char *nl = msg ? strchr(msg, '\n') : NULL;
    if (nl)
        *nl = '\0';
    husk_err_set(err, 0, "%s: invalid JSON at line %u, column %u: %s", name, line, col,
                 msg ? msg : "syntax error");
    if (msg)
        yajl_free_error(h, (unsigned char *)msg);
    yajl_free(h);
}

/* The chain of keys and indexes from the root down to a value, printed only for an error. */
struct up {
    const struct up *parent;
    const char *key;            /* NULL: an array element */
    size_t idx;
};

static size_t render(const struct up *u, char *out)
{
    if (!u) {
        out[0] = '\0';
        return 0;
    }
    size_t o = render(u->parent, out);
    if (o >= PATH_LEN)
        return o;
    int n = u->key ? snprintf(out + o, PATH_LEN - o, ".%.200s", u->key)
                   : snprintf(out + o, PATH_LEN - o, "[%zu]", u->idx);
    return o + (size_t)n;
}

static int duplicate(const char *name, const struct up *obj, const char *key, struct husk_err *err)
{
    char path[PATH_LEN];
    struct up u = {obj, key, 0};
    render(&u, path);
    return husk_err_set(err, 0, "%s: %s: duplicate key", name, path);
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Small objects compare every pair; big ones (annotations, a huge env) go through a hash
 * table, so a million keys cost a million lookups, not 10^12 comparisons. */
static int unique_keys(yajl_val v, const char *name, const struct up *at, struct husk_err *err)
{
    const char **keys = v->u.object.keys;
    size_t n = v->u.object.len;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (strcmp(keys[i], keys[j]) == 0)
                    return duplicate(name, at, keys[i], err);
        return 0;
    }
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    size_t *slot = calloc(cap, sizeof *slot);  /* index + 1; 0 is empty */
    if (!slot)
        return husk_err_set(err, ENOMEM, "%s", name);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        for (size_t h = hash(keys[i]) & (cap - 1);; h = (h + 1) & (cap - 1)) {
            if (!slot[h]) {
                slot[h] = i + 1;
                break;
            }
            if (strcmp(keys[slot[h] - 1], keys[i]) == 0) {
                rc = duplicate(name, at, keys[i], err);
                break;
            }
        }
    }
    free(slot);
    return rc;
}

/* Recursion is bounded: scan() refused anything deeper than HUSK_JSON_MAX_DEPTH. */
static int check_tree(yajl_val v, const char *name, const struct up *at, struct husk_err *err)
{
    if (YAJL_IS_OBJECT(v)) {
        if (unique_keys(v, name, at, err) < 0)
            return -1;
        for (size_t i = 0; i < v->u.object.len; i++) {
            yajl_val c = v->u.object.values[i];
            struct up u = {at, v->u.object.keys[i], 0};
            if ((YAJL_IS_OBJECT(c) || YAJL_IS_ARRAY(c)) && check_tree(c, name, &u, err) < 0)
                return -1;
        }
    } else if (YAJL_IS_ARRAY(v)) {
        for (size_t i = 0; i < v->u.array.len; i++) {
            yajl_val c = v->u.array.values[i];
            struct up u = {at, NULL, i};
            if ((YAJL_IS_OBJECT(c) || YAJL_IS_ARRAY(c)) && check_tree(c, name, &u, err) < 0)
                return -1;
        }
    }
    return 0;
}

yajl_val husk_json_parse(const char *text, size_t len, const char *name, struct husk_err *err)
{
    if (scan(text, len, name, err) < 0)
        return NULL;
    char ebuf[128];
    yajl_val root = husk_json_tree(text, len, ebuf, sizeof ebuf);
    if (!root) {
        syntax_error(text, len, name, err);
        return NULL;
    }
    if (check_tree(root, name, NULL, err) < 0) {
        husk_json_free(root);
        return NULL;
    }
    return root;
}
