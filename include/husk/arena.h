/* Bump allocator: a parsed config lives in one arena and is freed at once. */
#ifndef HUSK_ARENA_H
#define HUSK_ARENA_H

#include <stddef.h>

struct husk_arena_block;
struct husk_arena {
    struct husk_arena_block *head;
};

void *husk_arena_alloc(struct husk_arena *a, size_t n);   /* zeroed; NULL on OOM */
char *husk_arena_strdup(struct husk_arena *a, const char *s);
void husk_arena_free(struct husk_arena *a);

#endif
