/* json.c's tree builder (json_tree.c). */
#ifndef HUSK_JSON_TREE_H
#define HUSK_JSON_TREE_H

#include "husk/json.h"

/* text[len] is NUL. The tree in one arena (husk_json_free), or NULL with yajl's message in
 * ebuf: yajl_tree_parse's tree and verdict, in one pass for plain JSON. */
yajl_val husk_json_tree(const char *text, size_t len, char *ebuf, size_t elen);
/* How many documents went to yajl (the tests' measure of how much the one pass covers). */
extern size_t husk_json_tree_fallbacks;

#endif
