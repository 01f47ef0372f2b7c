/* state.json as every command but create reads it. */
#include "husk/state.h"
#include "fuzz.h"

static struct husk_state st;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    struct husk_err err = {0};
    husk_state_reset(&st);
    husk_state_parse(text, size, "fuzz", &st, &err);
    husk_state_free(&st);
    free(text);
    return 0;
}
