/* SHA-256 (FIPS 180-4), for content-addressed caches: small, no library. */
#ifndef HUSK_SHA256_H
#define HUSK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define HUSK_SHA256_LEN 32

struct husk_sha256 {
    uint32_t h[8];
    uint64_t total;         /* bytes hashed so far */
    size_t used;            /* bytes waiting in block */
    unsigned char block[64];
};

void husk_sha256_init(struct husk_sha256 *c);
void husk_sha256_update(struct husk_sha256 *c, const void *data, size_t len);
void husk_sha256_final(struct husk_sha256 *c, unsigned char out[HUSK_SHA256_LEN]);
/* One buffer at once. */
void husk_sha256(const void *data, size_t len, unsigned char out[HUSK_SHA256_LEN]);
/* From now on the portable code, not the CPU's SHA instructions (for tests). */
void husk_sha256_portable(void);
/* Lower-case hex of a digest, NUL-terminated: out needs 2 * HUSK_SHA256_LEN + 1 bytes. */
void husk_sha256_hex(const unsigned char d[HUSK_SHA256_LEN], char *out);

#endif
