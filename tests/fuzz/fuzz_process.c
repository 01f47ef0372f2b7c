/* process.json of exec --process. */
#include "husk/arena.h"
#include "husk/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct husk_err err = {0};
    struct husk_arena a = {0};
    struct husk_process p = {0};
    husk_process_parse((const char *)data, size, "process.json", &a, &p, &err);
    husk_arena_free(&a);
    return 0;
}
