/* A small JSON writer into a growable buffer (state files, spec, list, logs). */
#ifndef HUSK_JSONW_H
#define HUSK_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct husk_jsonw {
    char *buf;
    size_t len, cap;
    int depth;
    int indent;          /* spaces per level; 0 writes compact JSON */
    bool need_comma[64];
    bool after_key;
    bool oom;
};

void husk_jsonw_init(struct husk_jsonw *w, int indent);
void husk_jsonw_free(struct husk_jsonw *w);
void husk_jsonw_raw(struct husk_jsonw *w, const char *s);
void husk_jsonw_begin_object(struct husk_jsonw *w);
void husk_jsonw_end_object(struct husk_jsonw *w);
void husk_jsonw_begin_array(struct husk_jsonw *w);
void husk_jsonw_end_array(struct husk_jsonw *w);
void husk_jsonw_key(struct husk_jsonw *w, const char *k);
void husk_jsonw_str(struct husk_jsonw *w, const char *s);
void husk_jsonw_int(struct husk_jsonw *w, int64_t v);
void husk_jsonw_uint(struct husk_jsonw *w, uint64_t v);
void husk_jsonw_bool(struct husk_jsonw *w, bool v);
void husk_jsonw_null(struct husk_jsonw *w);
void husk_jsonw_kv_str(struct husk_jsonw *w, const char *k, const char *v);
void husk_jsonw_kv_int(struct husk_jsonw *w, const char *k, int64_t v);
void husk_jsonw_kv_bool(struct husk_jsonw *w, const char *k, bool v);
/* "k": [the strings of a NULL-terminated array] */
void husk_jsonw_kv_strv(struct husk_jsonw *w, const char *k, const char *const *v);

#endif
