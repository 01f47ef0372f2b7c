/* config.json: the parser, then the validator on whatever it accepts (husk create). */
#include "husk/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct husk_err err = {0};
    struct husk_config *c = husk_config_parse((const char *)data, size, "config.json", &err);
    if (c) {
        husk_config_validate(c, &err);
        husk_config_free(c);
    }
    return 0;
}
