/* SHA-256 as FIPS 180-4 section 6.2 describes it. */
#include "husk/sha256.h"

#include <stdbool.h>
#include <string.h>

static const uint32_t k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

#define S0(x) (ror(x, 2) ^ ror(x, 13) ^ ror(x, 22))
#define S1(x) (ror(x, 6) ^ ror(x, 11) ^ ror(x, 25))
#define CH(e, f, g) ((g) ^ ((e) & ((f) ^ (g))))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))
/* One round with the eight working variables renamed rather than moved (section 6.2.2 step 3) */
#define ROUND(a, b, c, d, e, f, g, h, i)                            \
    do {                                                            \
        uint32_t t1 = h + S1(e) + CH(e, f, g) + k[i] + w[i];         \
        d += t1;                                                    \
        h = t1 + S0(a) + MAJ(a, b, c);                              \
    } while (0)

static void compress(uint32_t st[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
    for (int i = 0; i < 64; i += 8) {
        ROUND(a, b, c, d, e, f, g, h, i);
        ROUND(h, a, b, c, d, e, f, g, i + 1);
        ROUND(g, h, a, b, c, d, e, f, i + 2);
        ROUND(f, g, h, a, b, c, d, e, i + 3);
        ROUND(e, f, g, h, a, b, c, d, i + 4);
        ROUND(d, e, f, g, h, a, b, c, i + 5);
        ROUND(c, d, e, f, g, h, a, b, i + 6);
        ROUND(b, c, d, e, f, g, h, a, i + 7);
    }
    st[0] += a, st[1] += b, st[2] += c, st[3] += d, st[4] += e, st[5] += f, st[6] += g, st[7] += h;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* The x86 SHA extensions (SHA-NI): four rounds per pair of sha256rnds2, the schedule by
 * sha256msg1/msg2; ~6x the portable code here, where seccomp's cache hashes a profile and its
 * program on every `run`. The state lives as the instructions want it: ABEF and CDGH. */
__attribute__((target("sha,sse4.1"))) static void compress_ni(uint32_t st[8], const unsigned char *p)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xb1);   /* b a d c */
    __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1b);   /* h g f e */
    __m128i abef = _mm_alignr_epi8(abcd, efgh, 8), cdgh = _mm_blend_epi16(efgh, abcd, 0xf0);
    const __m128i abef0 = abef, cdgh0 = cdgh;
    __m128i x[4];
    for (int j = 0; j < 16; j++) {
        if (j < 4)
            x[j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * j)), bswap);
        else   /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a time */
            x[j & 3] = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32(x[j & 3], x[(j + 1) & 3]), _mm_alignr_epi8(x[(j + 3) & 3], x[(j + 2) & 3], 4)),
                x[(j + 3) & 3]);
        __m128i m = _mm_add_epi32(x[j & 3], _mm_loadu_si128((const __m128i *)&k[4 * j]));
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);   /* two rounds: cdgh is now the new abef */
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m, 0x0e));
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
    __m128i feba = _mm_shuffle_epi32(abef, 0x1b), dchg = _mm_shuffle_epi32(cdgh, 0xb1);
    _mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(feba, dchg, 0xf0));
    _mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(dchg, feba, 8));
}

static void (*pick(void))(uint32_t *, const unsigned char *)
{
    unsigned a, b, c, d;
    bool sse41 = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1);
    bool sha = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
    return sse41 && sha ? compress_ni : compress;
}
#else
static void (*pick(void))(uint32_t *, const unsigned char *)
{
    return compress;
}
#endif

static void (*compress_fn)(uint32_t *, const unsigned char *);

static void block(uint32_t st[8], const unsigned char *p)
{
    if (!compress_fn)
        compress_fn = pick();
    compress_fn(st, p);
}

void husk_sha256_portable(void)
{
    compress_fn = compress;
}

void husk_sha256_init(struct husk_sha256 *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->total = 0;
    c->used = 0;
}

void husk_sha256_update(struct husk_sha256 *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    c->total += len;
    if (c->used) {
        size_t take = 64 - c->used < len ? 64 - c->used : len;
        memcpy(c->block + c->used, p, take);
        c->used += take;
        p += take;
        len -= take;
        if (c->used < 64)
            return;
        block(c->h, c->block);
        c->used = 0;
    }
    /* whole blocks straight from the caller's buffer */
    for (; len >= 64; p += 64, len -= 64)
        block(c->h, p);
    memcpy(c->block, p, len);
    c->used = len;
}

void husk_sha256_final(struct husk_sha256 *c, unsigned char out[HUSK_SHA256_LEN])
{
    uint64_t bits = c->total * 8;
    /* 0x80, zeros up to 56 mod 64, the length in bits big-endian */
    c->block[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->block + c->used, 0, 64 - c->used);
        block(c->h, c->block);
        c->used = 0;
    }
    memset(c->block + c->used, 0, 56 - c->used);
    for (int i = 0; i < 8; i++)
        c->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    block(c->h, c->block);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
}

void husk_sha256(const void *data, size_t len, unsigned char out[HUSK_SHA256_LEN])
{
    struct husk_sha256 c;
    husk_sha256_init(&c);
    husk_sha256_update(&c, data, len);
    husk_sha256_final(&c, out);
}

void husk_sha256_hex(const unsigned char d[HUSK_SHA256_LEN], char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < HUSK_SHA256_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * HUSK_SHA256_LEN] = '\0';
}
