/* husk's allocator: size classes, freed blocks kept for reuse (src/util/alloc.c). The musl
 * build makes it the C library's malloc; the glibc build leaves glibc's in place. */
#ifndef HUSK_ALLOC_H
#define HUSK_ALLOC_H

#include <stddef.h>

void *husk_alloc(size_t n);
void husk_free(void *p);
void *husk_realloc(void *p, size_t n);
void *husk_calloc(size_t a, size_t b);
size_t husk_alloc_size(const void *p);

/* For a forked child that needs little of its parent's heap, whose pages it would otherwise
 * keep in its RSS: husk_alloc_new_heap() makes later allocations come from new chunks; copy
 * what is needed; husk_alloc_drop_old() unmaps the chunks from before, and with them every
 * block allocated before (big ones, mapped on their own, stay). In the glibc build, whose
 * malloc is glibc's, they concern husk_alloc's blocks only. */
void husk_alloc_new_heap(void);
void husk_alloc_drop_old(void);

#endif
