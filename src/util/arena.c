#include "husk/arena.h"

#include <stdlib.h>
#include <string.h>

struct husk_arena_block {
    struct husk_arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

#define BLOCK_SIZE 16384

void *husk_arena_alloc(struct husk_arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    struct husk_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *husk_arena_strdup(struct husk_arena *a, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = husk_arena_alloc(a, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void husk_arena_free(struct husk_arena *a)
{
    struct husk_arena_block *b = a->head;
    while (b) {
        struct husk_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}
