/* Shared by the config parser files: typed accessors that name the JSON path on error. */
#ifndef HUSK_PARSE_INTERNAL_H
#define HUSK_PARSE_INTERNAL_H

#include <yajl/yajl_tree.h>

#include "husk/config.h"

struct pctx {
    struct husk_arena *a;
    const char *name;       /* "config.json" */
    struct husk_err *err;
};

/* Path strings: ".process.rlimits[2].hard". */
#define PATHMAX 512
void pc_join(char *out, const char *base, const char *key);
void pc_index(char *out, const char *base, size_t i);

int pc_fail(struct pctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pc_expect(struct pctx *c, const char *path, const char *what, yajl_val v);

/* Each returns 0 when the key is absent (leaving *out alone), 1 when read, -1 on a bad value. */
yajl_val pc_get(yajl_val obj, const char *key);
int pc_object(struct pctx *c, yajl_val obj, const char *key, const char *path, yajl_val *out);
/* pc_object that also gives the object's path (PATHMAX bytes at sub) for its members' errors. */
int pc_section(struct pctx *c, yajl_val obj, const char *key, const char *path, yajl_val *out, char *sub);
int pc_array(struct pctx *c, yajl_val obj, const char *key, const char *path, yajl_val *out);
int pc_str(struct pctx *c, yajl_val obj, const char *key, const char *path, char **out);
int pc_bool(struct pctx *c, yajl_val obj, const char *key, const char *path, bool *out);
int pc_u64(struct pctx *c, yajl_val obj, const char *key, const char *path, uint64_t *out);
int pc_i64(struct pctx *c, yajl_val obj, const char *key, const char *path, int64_t *out);
int pc_u32(struct pctx *c, yajl_val obj, const char *key, const char *path, uint32_t *out);
int pc_i32(struct pctx *c, yajl_val obj, const char *key, const char *path, int32_t *out);
int pc_opt_u64(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_opt_u64 *out);
int pc_opt_i64(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_opt_i64 *out);
int pc_opt_bool(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_opt_bool *out);
int pc_strv(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_strv *out);
/* A string→string map ("annotations", "sysctl"). */
int pc_map(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_kv **out, size_t *n);
int pc_idmaps(struct pctx *c, yajl_val obj, const char *key, const char *path, struct husk_idmaps *out);
/* Array of objects: allocates n elements of `size` and calls fn for each. */
typedef int (*pc_elem_fn)(struct pctx *c, yajl_val v, const char *path, void *elem);
int pc_objects(struct pctx *c, yajl_val obj, const char *key, const char *path, size_t size,
               void **out, size_t *n, pc_elem_fn fn);

int husk_parse_linux(struct pctx *c, yajl_val linux_, struct husk_linux *l);
int husk_parse_process(struct pctx *c, yajl_val p, const char *path, struct husk_process *out);

#endif
