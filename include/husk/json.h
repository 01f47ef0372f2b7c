/* Reading JSON that husk did not check itself: config.json, process.json (exec --process),
 * resources (update) and state.json all come through husk_json_parse. */
#ifndef HUSK_JSON_H
#define HUSK_JSON_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "husk/err.h"

/* Deepest nesting of arrays and objects accepted. The tree builders recurse (yajl_tree frees
 * recursively too: a document nested 300 000 levels deep overflowed the stack); Go's
 * encoding/json (runc) stops at 10000, a bound for stack safety alone. An OCI document nests
 * about 6 levels, so 256 leaves room for any extension while keeping the recursion a few pages
 * deep. */
#define HUSK_JSON_MAX_DEPTH 256

/* text[len] must be NUL. Refuses, naming the JSON path ("config.json: .process.args[0]: ..."):
 * a NUL byte, nesting deeper than HUSK_JSON_MAX_DEPTH, "\u0000" in a string or a key (the
 * kernel and the C library would cut the string there), a key repeated in one object (Go
 * would keep the last, yajl the first: husk keeps neither), and a syntax error (with its line
 * and column). Returns the tree (husk_json_free it, not yajl_tree_free: it is one arena) or
 * NULL with err set. */
yajl_val husk_json_parse(const char *text, size_t len, const char *name, struct husk_err *err);
void husk_json_free(yajl_val root);

#endif
