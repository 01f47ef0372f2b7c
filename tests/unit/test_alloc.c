/* The size-class allocator the musl build uses as malloc. */
#include "husk/alloc.h"
#include "unit.h"

#include <errno.h>
#include <stdint.h>

int main(void)
{
    /* every size gets an aligned block at least that big, writable to the end */
    char *blocks[300];
    for (size_t i = 0; i < 300; i++) {
        size_t n = i * 37 + (i % 3);
        blocks[i] = husk_alloc(n);
        CHECK(blocks[i] != NULL);
        CHECK(((uintptr_t)blocks[i] & 15) == 0);
        CHECK(husk_alloc_size(blocks[i]) >= (n ? n : 1));
        memset(blocks[i], (int)i, n);
    }
    /* no two live blocks overlap: each still holds its own byte */
    for (size_t i = 0; i < 300; i++) {
        size_t n = i * 37 + (i % 3);
        int same = 1;
        for (size_t k = 0; k < n; k++)
            same &= blocks[i][k] == (char)i;
        CHECK(same);
    }
    /* a freed block is what the next allocation of its class gets */
    void *a = husk_alloc(100);
    husk_free(a);
    CHECK(husk_alloc(110) == a);   /* 100 and 110 share the 112-byte class */
    /* small blocks have no header: blocks of one class follow each other in a page */
    char *s1 = husk_alloc(224), *s2 = husk_alloc(224);
    CHECK(husk_alloc_size(s1) == 224 && (s2 == s1 + 224 || s1 == s2 + 224 || ((uintptr_t)s1 ^ (uintptr_t)s2) >= 4096));
    /* a freed mid-sized block (whole pages) is reused for the same page count */
    char *m = husk_alloc(10000);
    CHECK(m != NULL && ((uintptr_t)m & 15) == 0 && husk_alloc_size(m) >= 10000);
    memset(m, 1, 10000);
    husk_free(m);
    CHECK(husk_alloc(9500) == m);   /* 10 units of 1 KiB, as 10000 */
    /* realloc keeps the contents, grows in place when the class allows */
    char *r = husk_alloc(10);
    memcpy(r, "0123456789", 10);
    CHECK(husk_realloc(r, 12) == r);
    char *g = husk_realloc(r, 5000);
    CHECK(g != NULL && memcmp(g, "0123456789", 10) == 0);
    CHECK(husk_realloc(NULL, 8) != NULL);
    /* big blocks are mappings of their own, freed back */
    char *big = husk_alloc(1 << 20);
    CHECK(big != NULL && ((uintptr_t)big & 15) == 0 && husk_alloc_size(big) >= 1 << 20);
    big[(1 << 20) - 1] = 1;
    char *bigger = husk_realloc(big, 3 << 20);
    CHECK(bigger != NULL && bigger[(1 << 20) - 1] == 1);
    husk_free(bigger);
    /* a block grown one pointer at a time (yajl's arrays) moves through the small classes
     * and the mid sizes (a constant number of times), then doubles as a big block, so the
     * number of times it moves is logarithmic, and keeps what was written */
    void **arr = NULL;
    size_t grew = 0, last = 0, ok = 1;
    for (size_t i = 0; i < (1u << 20); i++) {
        arr = husk_realloc(arr, (i + 1) * sizeof *arr);
        if (!arr)
            break;
        arr[i] = (void *)i;
        if (husk_alloc_size(arr) != last) {
            last = husk_alloc_size(arr);
            grew++;
        }
    }
    CHECK(arr != NULL);
    for (size_t i = 0; arr && i < (1u << 20); i += 4093)
        ok &= arr[i] == (void *)i;
    CHECK(ok);
    CHECK(grew < 20 + 96 + 20);
    husk_free(arr);
    /* calloc zeroes reused memory and refuses overflowing products */
    char *z = husk_alloc(64);
    memset(z, 0xff, 64);
    husk_free(z);
    char *c = husk_calloc(8, 8);
    int zero = 1;
    for (int k = 0; k < 64; k++)
        zero &= c[k] == 0;
    CHECK(zero);
    errno = 0;
    CHECK(husk_calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);
    CHECK(husk_alloc(SIZE_MAX - 10) == NULL && errno == ENOMEM);
    husk_free(NULL);
    /* a new heap: blocks from before are unmapped, later ones live on and are reused */
    char *old = husk_alloc(100);
    husk_alloc_new_heap();
    char *fresh = husk_alloc(100), *fresh2 = husk_alloc(3000);
    CHECK(fresh && fresh != old && fresh2);
    husk_alloc_drop_old();
    memset(fresh, 7, 100);
    memset(fresh2, 7, 3000);
    husk_free(fresh);
    CHECK(husk_alloc(100) == fresh && fresh[99] == 7 && fresh2[2999] == 7);
    return unit_done("test_alloc");
}
