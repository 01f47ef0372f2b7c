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

#endif
