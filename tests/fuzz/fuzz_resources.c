/* update --resources: the document as husk_container_update wraps it, parsed and validated
 * (applying it needs a container's cgroups, which a fuzzer has not). */
#include "husk/config.h"
#include "fuzz.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* update stops at a NUL byte in the file; what is after it never reaches the parser */
    if (memchr(data, '\0', size))
        return 0;
    static const char head[] = "{\"ociVersion\":\"1.3.0\",\"linux\":{\"resources\":", tail[] = "}}";
    size_t n = sizeof head - 1 + size + sizeof tail - 1;
    char *doc = malloc(n + 1);
    if (!doc)
        return 0;
    memcpy(doc, head, sizeof head - 1);
    memcpy(doc + sizeof head - 1, data, size);
    memcpy(doc + sizeof head - 1 + size, tail, sizeof tail);
    struct husk_err err = {0};
    struct husk_config *c = husk_config_parse(doc, n, "resources", &err);
    if (c) {
        husk_config_validate(c, &err);
        husk_config_free(c);
    }
    free(doc);
    return 0;
}
