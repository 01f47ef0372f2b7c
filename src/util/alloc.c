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
#define PAGE 4096
#define UNIT 1024               /* slabs and mid blocks are made of these, each aligned */
#define HDR 16                  /* at the start of each slab, mid and big block */
#define CHUNK (256 * 1024)      /* units are cut from these */
#define MID_UNITS 96            /* blocks of up to 96 KiB are reused; bigger are mapped */

/* Small blocks have no header of their own: a 1 KiB unit (a slab) holds blocks of one class
 * behind one header, so a block costs its class size only (a 16-byte header per block was
 * 16 of every 80 bytes of libseccomp's rule database), and a class in use costs at most the
 * rest of one unit (a page per class cost `run` 0.08 MiB). Classes are 16 bytes apart up to
 * 256, then about the sizes that fill a unit 3, 2 and 1 times: the rounding wastes little of what
 * libseccomp, yajl and husk's parser ask for. A unit of a freed class stays that class's.
 * Mid blocks (whole units, header first) are reused by unit count. */
static const unsigned short class_sizes[] = {
    16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 336, 496, 1008,
};
#define NCLASS (sizeof class_sizes / sizeof *class_sizes)
#define SMALL_MAX 1008
#define MID_KIND NCLASS         /* hdr.cls of a mid block */
#define BIG_KIND (NCLASS + 1)   /* hdr.cls of a block mapped on its own */

struct hdr {
    size_t size;                /* usable bytes of each block (slab page) or of the block */
    size_t cls;
};

static void *free_list[NCLASS];
static void *free_mid[MID_UNITS + 1];
static char *carve[NCLASS], *carve_end[NCLASS];   /* the class's newest slab, not yet cut up */
static char *units, *units_end;                    /* the chunk's units not yet used */
/* every chunk mapped, for husk_alloc_drop_old(); past the table's size they stay mapped */
static char *chunks[64];
static size_t n_chunks, n_old;

static size_t class_of(size_t n)
{
    if (n <= 256)
        return (n + 15) / 16 - 1;
    size_t c = 16;
    while (class_sizes[c] < n)
        c++;
    return c;
}

static void *map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* n contiguous units from the current chunk, or from a new one */
static char *take_units(size_t n)
{
    size_t len = n * UNIT;
    if ((size_t)(units_end - units) < len) {
        char *c = map(CHUNK);
        if (!c)
            return NULL;
        if (n_chunks < sizeof chunks / sizeof *chunks)
            chunks[n_chunks++] = c;
        units = c;
        units_end = c + CHUNK;
    }
    char *p = units;
    units += len;
    return p;
}

/* every block lies in the first unit of what it belongs to, whose header says what it is */
static struct hdr *hdr_of(const void *p)
{
    return (struct hdr *)((uintptr_t)p & ~(uintptr_t)(UNIT - 1));
}

void *husk_alloc(size_t n)
{
    if (n > SIZE_MAX - 2 * PAGE)
        goto nomem;
    if (n <= SMALL_MAX) {
        size_t c = class_of(n ? n : 1);
        if (free_list[c]) {
            char *p = free_list[c];
            free_list[c] = *(void **)p;
            return p;
        }
        size_t sz = class_sizes[c];
        if ((size_t)(carve_end[c] - carve[c]) < sz) {
            /* Before a new unit, a freed block of a class up to 2.5 times as big: libseccomp
             * frees its rule database's transaction copy (224- and 64-byte blocks, mixed
             * with the live ones in their units) just before its BPF generator asks for
             * thousands of 96-, 112- and 32-byte ones. The block stays its class's. */
            for (size_t k = c + 1; k < NCLASS && class_sizes[k] <= sz * 5 / 2; k++)
                if (free_list[k]) {
                    char *p = free_list[k];
                    free_list[k] = *(void **)p;
                    return p;
                }
            struct hdr *h = (struct hdr *)take_units(1);
            if (!h)
                goto nomem;
            h->size = sz;
            h->cls = c;
            carve[c] = (char *)h + HDR;
            carve_end[c] = (char *)h + UNIT;
        }
        char *p = carve[c];
        carve[c] += sz;
        return p;
    }
    size_t nunits = (n + HDR + UNIT - 1) / UNIT, len;
    struct hdr *h;
    if (nunits <= MID_UNITS) {
        if (free_mid[nunits]) {
            char *p = free_mid[nunits];
            free_mid[nunits] = *(void **)p;
            return p;
        }
        if (!(h = (struct hdr *)take_units(nunits)))
            goto nomem;
        h->cls = MID_KIND;
        len = nunits * UNIT;
    } else {
        len = (n + HDR + PAGE - 1) & ~(size_t)(PAGE - 1);
        if (!(h = map(len)))
            goto nomem;
        h->cls = BIG_KIND;
    }
    h->size = len - HDR;
    return (char *)h + HDR;
nomem:
    errno = ENOMEM;
    return NULL;
}

void husk_free(void *p)
{
    if (!p)
        return;
    struct hdr *h = hdr_of(p);
    if (h->cls == BIG_KIND) {
        munmap(h, h->size + HDR);
        return;
    }
    void **list = h->cls == MID_KIND ? &free_mid[(h->size + HDR) / UNIT] : &free_list[h->cls];
    *(void **)p = *list;
    *list = p;
}

size_t husk_alloc_size(const void *p)
{
    return p ? hdr_of(p)->size : 0;
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
    struct hdr *h = hdr_of(p);
    if (h->cls == BIG_KIND) {
        /* Doubling, and by mremap: yajl grows an array one element at a time, and copying
         * the block each time made parsing quadratic (1M elements: 7 s). The kernel moves
         * page tables, not bytes, and pages never written cost nothing. */
        size_t old = h->size + HDR;
        size_t want = n > SIZE_MAX / 4 ? n : (n > 2 * old ? n : 2 * old);
        if (want > SIZE_MAX - 2 * PAGE)
            goto nomem;
        size_t len = (want + HDR + PAGE - 1) & ~(size_t)(PAGE - 1);
        void *m = mremap(h, old, len, MREMAP_MAYMOVE);
        if (m == MAP_FAILED)
            goto nomem;
        h = m;
        h->size = len - HDR;
        return (char *)h + HDR;
    }
    /* Growth by half again at least: a block grown a little at a time (libseccomp's program,
     * one instruction block per realloc; yajl's arrays) moved through every unit count, and
     * each size left its block behind for reuse: 1 + 2 + ... + 16 units touched for a 16 KiB
     * program. */
    size_t want = have + have / 2 > n ? have + have / 2 : n;
    void *q = husk_alloc(want);
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

void husk_alloc_new_heap(void)
{
    memset(free_list, 0, sizeof free_list);
    memset(free_mid, 0, sizeof free_mid);
    memset(carve, 0, sizeof carve);
    memset(carve_end, 0, sizeof carve_end);
    units = units_end = NULL;
    n_old = n_chunks;
}

void husk_alloc_drop_old(void)
{
    for (size_t i = 0; i < n_old; i++)
        munmap(chunks[i], CHUNK);
    memmove(chunks, chunks + n_old, (n_chunks - n_old) * sizeof *chunks);
    n_chunks -= n_old;
    n_old = 0;
}
