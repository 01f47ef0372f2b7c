#include "husk/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void husk_jsonw_init(struct husk_jsonw *w, int indent)
{
    memset(w, 0, sizeof *w);
    w->indent = indent;
}

void husk_jsonw_free(struct husk_jsonw *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

static void put(struct husk_jsonw *w, const char *s, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *nb = realloc(w->buf, cap);
        if (!nb) {
            w->oom = true;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void husk_jsonw_raw(struct husk_jsonw *w, const char *s)
{
    put(w, s, strlen(s));
}

static void newline(struct husk_jsonw *w)
{
    if (!w->indent)
        return;
    put(w, "\n", 1);
    for (int i = 0; i < w->depth * w->indent; i++)
        put(w, " ", 1);
}

/* Separator and indentation before a value or key at the current depth. */
static void pre_value(struct husk_jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (w->need_comma[w->depth])
            put(w, ",", 1);
        newline(w);
        w->need_comma[w->depth] = true;
    }
}

static void open_(struct husk_jsonw *w, char c)
{
    pre_value(w);
    put(w, &c, 1);
    if (w->depth < 63)
        w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_(struct husk_jsonw *w, char c)
{
    bool had = w->need_comma[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (had)
        newline(w);
    put(w, &c, 1);
}

void husk_jsonw_begin_object(struct husk_jsonw *w) { open_(w, '{'); }
void husk_jsonw_end_object(struct husk_jsonw *w) { close_(w, '}'); }
void husk_jsonw_begin_array(struct husk_jsonw *w) { open_(w, '['); }
void husk_jsonw_end_array(struct husk_jsonw *w) { close_(w, ']'); }

static void put_string(struct husk_jsonw *w, const char *s)
{
    put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* a run of characters that need no escape goes in one piece */
        size_t run = 0;
        while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run) {
            put(w, (const char *)p, run);
            p += run - 1;
            continue;
        }
        char esc[8];
        switch (*p) {
        case '"': put(w, "\\\"", 2); break;
        case '\\': put(w, "\\\\", 2); break;
        case '\n': put(w, "\\n", 2); break;
        case '\r': put(w, "\\r", 2); break;
        case '\t': put(w, "\\t", 2); break;
        case '\b': put(w, "\\b", 2); break;
        case '\f': put(w, "\\f", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            put(w, esc, 6);
        }
    }
    put(w, "\"", 1);
}

void husk_jsonw_key(struct husk_jsonw *w, const char *k)
{
    pre_value(w);
    put_string(w, k);
    put(w, w->indent ? ": " : ":", w->indent ? 2 : 1);
    w->after_key = true;
}

void husk_jsonw_str(struct husk_jsonw *w, const char *s)
{
    pre_value(w);
    put_string(w, s ? s : "");
}

void husk_jsonw_int(struct husk_jsonw *w, int64_t v)
{
    char b[32];
    pre_value(w);
    put(w, b, snprintf(b, sizeof b, "%" PRId64, v));
}

void husk_jsonw_uint(struct husk_jsonw *w, uint64_t v)
{
    char b[32];
    pre_value(w);
    put(w, b, snprintf(b, sizeof b, "%" PRIu64, v));
}

void husk_jsonw_bool(struct husk_jsonw *w, bool v)
{
    pre_value(w);
    husk_jsonw_raw(w, v ? "true" : "false");
}

void husk_jsonw_null(struct husk_jsonw *w)
{
    pre_value(w);
    husk_jsonw_raw(w, "null");
}

void husk_jsonw_kv_str(struct husk_jsonw *w, const char *k, const char *v)
{
    husk_jsonw_key(w, k);
    husk_jsonw_str(w, v);
}

void husk_jsonw_kv_int(struct husk_jsonw *w, const char *k, int64_t v)
{
    husk_jsonw_key(w, k);
    husk_jsonw_int(w, v);
}

void husk_jsonw_kv_bool(struct husk_jsonw *w, const char *k, bool v)
{
    husk_jsonw_key(w, k);
    husk_jsonw_bool(w, v);
}

void husk_jsonw_kv_strv(struct husk_jsonw *w, const char *k, const char *const *v)
{
    husk_jsonw_key(w, k);
    husk_jsonw_begin_array(w);
    for (; *v; v++)
        husk_jsonw_str(w, *v);
    husk_jsonw_end_array(w);
}
