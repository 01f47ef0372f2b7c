/* The CLI parser: the input is argv, one argument per NUL-terminated piece. The first byte
 * picks the options' mode (global options, `exec ID CMD -flags`, anywhere); each positional
 * argument then goes through the id check, as every command's ID would. */
#include "args.h"
#include "husk/state.h"
#include "fuzz.h"

static const struct opt_spec specs[] = {
    {"bundle", 'b', true}, {"pid-file", 0, true}, {"console-socket", 0, true}, {"detach", 'd', false},
    {"tty", 't', false}, {"env", 'e', true}, {"cap", 'c', true}, {"force", 'f', false},
    {"preserve-fds", 0, true}, {"no-pivot", 0, false}, {"root", 0, true}, {"log", 0, true}, {0}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const int modes[] = {-1, 0, 1, 2};
    int opts_until = modes[data[0] % 4];
    char *text = fuzz_text(data + 1, size - 1);
    if (!text)
        return 0;
    char *argv[256];
    int argc = 0;
    for (size_t i = 0; i < size - 1 && argc < 256; i += strlen(text + i) + 1)
        argv[argc++] = text + i;
    struct parsed_args a;
    struct husk_err err = {0};
    int consumed = 0;
    if (cli_parse(argc, argv, specs, opts_until, &a, &consumed, &err) == 0) {
        for (int i = 0; i < a.n_pos; i++)
            husk_id_validate(a.pos[i], &err);
        for (int i = 0; i < a.n_multi; i++)
            (void)strlen(a.multi[i].value);
        (void)cli_flag(specs, &a, "detach");
        (void)cli_value(specs, &a, "bundle");
    }
    free(text);
    return 0;
}
