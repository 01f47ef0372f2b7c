/* A size-class allocator for the musl build of husk (HUSK_OWN_MALLOC). husk is a short-lived,
 * single-threaded command: it wants allocations that cost a pointer pop, and freed memory that
 * stays mapped for the next allocation. musl's allocator hands freed groups back to the kernel,
 * so `husk list` faulted in the same pages again for each container it read (1570 page faults
 * for 300 containers against 75 with glibc; bench/README.md). Memory is reused, never returned:
 * husk's long-running loops (events, the console relay) allocate the same sizes each round. */
#include "husk/alloc.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define ALIGN 16
#define HDR 16                  /* before each block: its usable size and class */
#define NCLASS 26               /* 16, 24, 32, 48, ... 98304: two classes per power of two */
#define BIG_CLASS NCLASS        /* a mapping of its own */
#define CHUNK (256 * 1024)

struct hdr {
    size_t size;                /* usable bytes */
    size_t cls;
};

static void *free_list[NCLASS];
static char *bump, *bump_end;

static size_t class_size(size_t c)
{
    return (c & 1 ? 24 : 16) << (c / 2);
}

static size_t class_of(size_t n)
{
    for (size_t c = 0; c < NCLASS; c++)
        if (class_size(c) >= n)
            return c;
    return BIG_CLASS;
}

static void *map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void *husk_alloc(size_t n)
{
    if (n > SIZE_MAX - 2 * 4096)
        goto nomem;
    size_t c = class_of(n ? n : 1);
    struct hdr *h;
    if (c == BIG_CLASS) {
        size_t len = (n + HDR + 4095) & ~(size_t)4095;
        if (!(h = map(len)))
            goto nomem;
        h->size = len - HDR;
    } else if (free_list[c]) {
        char *p = free_list[c];
        free_list[c] = *(void **)p;
        return p;
    } else {
        size_t need = HDR + ((class_size(c) + ALIGN - 1) & ~(size_t)(ALIGN - 1));
        if ((size_t)(bump_end - bump) < need) {
            if (!(bump = map(CHUNK)))
                goto nomem;
            bump_end = bump + CHUNK;
        }
        h = (struct hdr *)bump;
        bump += need;
        h->size = class_size(c);
    }
    h->cls = c;
    return (char *)h + HDR;
nomem:
    errno = ENOMEM;
    return NULL;
}

void husk_free(void *p)
{
    if (!p)
        return;
    struct hdr *h = (struct hdr *)((char *)p - HDR);
    if (h->cls == BIG_CLASS) {
        munmap(h, h->size + HDR);
        return;
    }
    *(void **)p = free_list[h->cls];
    free_list[h->cls] = p;
}

size_t husk_alloc_size(const void *p)
{
    return p ? ((const struct hdr *)((const char *)p - HDR))->size : 0;
}

void *husk_realloc(void *p, size_t n)
{
    if (!p)
        return husk_alloc(n);
    if (n == 0) {
        husk_free(p);
        return NULL;
    }
    size_t have = husk_alloc_size(p);
    if (n <= have)
        return p;
    struct hdr *h = (struct hdr *)((char *)p - HDR);
    if (h->cls == BIG_CLASS) {
        /* Doubling, and by mremap: yajl grows an array one element at a time, and copying
         * the block each time made parsing quadratic (1M elements: 7 s). The kernel moves
         * page tables, not bytes, and pages never written cost nothing. */
        size_t old = h->size + HDR;
        size_t want = n > SIZE_MAX / 4 ? n : (n > 2 * old ? n : 2 * old);
        if (want > SIZE_MAX - 2 * 4096)
            goto nomem;
        size_t len = (want + HDR + 4095) & ~(size_t)4095;
        void *m = mremap(h, old, len, MREMAP_MAYMOVE);
        if (m == MAP_FAILED)
            goto nomem;
        h = m;
        h->size = len - HDR;
        return (char *)h + HDR;
    }
    void *q = husk_alloc(n);
    if (q) {
        memcpy(q, p, have);
        husk_free(p);
    }
    return q;
nomem:
    errno = ENOMEM;
    return NULL;
}

void *husk_calloc(size_t a, size_t b)
{
    if (b && a > SIZE_MAX / b) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = husk_alloc(a * b);
    if (p)
        memset(p, 0, a * b);
    return p;
}

#ifdef HUSK_OWN_MALLOC
/* The C library's entry points (musl lets a static program replace them). */
void *malloc(size_t n) { return husk_alloc(n); }
void free(void *p) { husk_free(p); }
void *realloc(void *p, size_t n) { return husk_realloc(p, n); }
void *calloc(size_t a, size_t b) { return husk_calloc(a, b); }
size_t malloc_usable_size(void *p) { return husk_alloc_size(p); }

/* Nothing in husk or its libraries asks for more than the 16-byte alignment every block has. */
void *aligned_alloc(size_t align, size_t n)
{
    if (align > ALIGN) {
        errno = EINVAL;
        return NULL;
    }
    return husk_alloc(n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align > ALIGN)
        return EINVAL;
    return (*out = husk_alloc(n)) ? 0 : ENOMEM;
}

void *memalign(size_t align, size_t n) { return aligned_alloc(align, n); }
#endif
