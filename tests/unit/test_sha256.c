/* SHA-256 against digests from coreutils' sha256sum, whole and fed in odd pieces. */
#include "husk/sha256.h"
#include "unit.h"

#include <stdlib.h>

static void hex_of(const void *data, size_t len, char *out)
{
    unsigned char d[HUSK_SHA256_LEN];
    husk_sha256(data, len, d);
    husk_sha256_hex(d, out);
}

/* The same data in pieces of `step` bytes: the block buffering must not change the digest. */
static void hex_pieces(const unsigned char *data, size_t len, size_t step, char *out)
{
    struct husk_sha256 c;
    unsigned char d[HUSK_SHA256_LEN];
    husk_sha256_init(&c);
    for (size_t off = 0; off < len; off += step)
        husk_sha256_update(&c, data + off, len - off < step ? len - off : step);
    husk_sha256_final(&c, d);
    husk_sha256_hex(d, out);
}

static void battery(void)
{
    char hex[2 * HUSK_SHA256_LEN + 1];
    hex_of("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    /* lengths around the padding boundary: 55 fits the length in one block, 56 does not */
    unsigned char *a = malloc(1000000);
    CHECK(a != NULL);
    if (!a)
        return;
    memset(a, 'a', 1000000);
    hex_of(a, 55, hex);
    CHECK_STR(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    hex_of(a, 56, hex);
    CHECK_STR(hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    hex_of(a, 64, hex);
    CHECK_STR(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    static const size_t steps[] = {1000000, 1, 63, 64, 65, 4097};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        hex_pieces(a, 1000000, steps[i], hex);
        CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }

    /* every byte value: bytes 0..255 four times, then 55 'x' */
    size_t n = 0;
    for (int r = 0; r < 4; r++)
        for (int b = 0; b < 256; b++)
            a[n++] = (unsigned char)b;
    memset(a + n, 'x', 55);
    n += 55;
    for (size_t step = 1; step < 130; step += 7) {
        hex_pieces(a, n, step, hex);
        CHECK_STR(hex, "415c3b5c395cb8896358cda2f03a8c43395029c22ed119c0e76617d75c9b65e9");
    }
    free(a);
}

int main(void)
{
    /* with the CPU's SHA instructions where it has them, then the portable rounds */
    battery();
    husk_sha256_portable();
    battery();
    return unit_done("sha256");
}
