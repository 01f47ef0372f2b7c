/* husk_json_tree against yajl_tree_parse, the judge it stands in for: the same verdict and the
 * same tree (types, strings byte for byte, numbers' text, flags and values, keys in order) for
 * every document of the fuzz corpora and bench/configs, crafted edge cases, and a few
 * hundred thousand mutations of them (seeded: the same inputs every run). */
#include "unit.h"

#include "../../src/oci/json_tree.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static int same(yajl_val a, yajl_val b);

static int same_list(yajl_val *a, yajl_val *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!same(a[i], b[i]))
            return 0;
    return 1;
}

static int same(yajl_val a, yajl_val b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case yajl_t_string:
        return strcmp(a->u.string, b->u.string) == 0;
    case yajl_t_number:
        if (strcmp(a->u.number.r, b->u.number.r) || a->u.number.flags != b->u.number.flags)
            return 0;
        if ((a->u.number.flags & YAJL_NUMBER_INT_VALID) && a->u.number.i != b->u.number.i)
            return 0;
        if ((a->u.number.flags & YAJL_NUMBER_DOUBLE_VALID) &&
            !(a->u.number.d == b->u.number.d || (isnan(a->u.number.d) && isnan(b->u.number.d))))
            return 0;
        return 1;
    case yajl_t_object:
        for (size_t i = 0; i < a->u.object.len && i < b->u.object.len; i++)
            if (strcmp(a->u.object.keys[i], b->u.object.keys[i]))
                return 0;
        return a->u.object.len == b->u.object.len &&
               same_list(a->u.object.values, b->u.object.values, a->u.object.len);
    case yajl_t_array:
        return a->u.array.len == b->u.array.len && same_list(a->u.array.values, b->u.array.values, a->u.array.len);
    default:
        return 1;
    }
}

static int compared, failures_shown, valid;

/* text has no NUL byte (husk_json_parse refuses those before) and text[len] is NUL */
static void compare(const char *text, size_t len)
{
    char e1[128] = "", e2[128] = "";
    yajl_val y = yajl_tree_parse(text, e1, sizeof e1);
    yajl_val h = husk_json_tree(text, len, e2, sizeof e2);
    int ok = (!y && !h && strcmp(e1, e2) == 0) || (y && h && same(y, h));
    CHECK(ok);
    valid += y != NULL;
    if (!ok && failures_shown++ < 5)
        fprintf(stderr, "  differs on %zu bytes: \"%.*s\"\n", len, len > 300 ? 300 : (int)len, text);
    compared++;
    yajl_tree_free(y);
    husk_json_free(h);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const snippets[] = {
    "\\ud83d\\ude00", "\\ud800", "\\udc00x", "\\ud800\\u0041", "/* c */", "// c\n", "//", "/*", "1e400", "-0",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "92233720368547758070", "1.5e-3", "0.0", "1E+2", "-", "01", "1.", ".5", "\\u00e9", "\\u20ac", "\\u0041",
    "\\u007f", "\\u0800", "\\uFFFF", "\\uabcd", "\\/", "\\b\\f\\n\\r\\t", "\\x", "\\u12", "\v", "\f", "\xc3\xa9",
    "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\xe2\x82", "\x7f", "\x1f", "true", "false", "null", "nul",
    "[]", "{}", "[1,]", "{\"a\":1,}", "\"\"", "\"a\":", ",", ":", "]", "}", "  \n\t\r",
};

static void mutate_and_compare(const char *doc, size_t len, int rounds)
{
    char *buf = malloc(len + 512);
    for (int r = 0; r < rounds; r++) {
        memcpy(buf, doc, len);
        size_t n = len;
        int edits = 1 + (int)(next() % 3);
        for (int e = 0; e < edits && n; e++) {
            size_t at = next() % n;
            /* half the time just inside a string or before a value: the document often stays
             * valid, so both trees are compared, not only both verdicts */
            if (next() % 2)
                for (size_t k = 0; k < n; k++, at = (at + 1) % n)
                    if (buf[at] == '"' || buf[at] == ':') {
                        at++;
                        break;
                    }
            switch (next() % 4) {
            case 0: {   /* a byte replaced */
                static const char interesting[] = "\"\\u/*\v\f \n{}[],:-.eE+0123456789tnfD8\x80\xc3\xa9\xe2\xf0\xff\x1f\x7f";
                char c = next() % 2 ? interesting[next() % (sizeof interesting - 1)] : (char)(next() % 255 + 1);
                buf[at] = c;
                break;
            }
            case 1: {   /* a snippet inserted */
                const char *s = snippets[next() % (sizeof snippets / sizeof *snippets)];
                size_t sl = strlen(s);
                if (n + sl < len + 500) {
                    memmove(buf + at + sl, buf + at, n - at);
                    memcpy(buf + at, s, sl);
                    n += sl;
                }
                break;
            }
            case 2: {   /* a range removed */
                size_t k = 1 + next() % 8;
                if (at + k > n)
                    k = n - at;
                memmove(buf + at, buf + at + k, n - at - k);
                n -= k;
                break;
            }
            default:    /* cut short */
                n = at;
                break;
            }
        }
        buf[n] = '\0';
        if (strlen(buf) == n)
            compare(buf, n);
    }
    free(buf);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static int seeds;
static void from_dir(const char *dir, int rounds)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *doc = slurp(path, &len);
        if (!doc)
            continue;
        if (strlen(doc) == len) {
            compare(doc, len);
            mutate_and_compare(doc, len, rounds);
            seeds++;
        }
        free(doc);
    }
    closedir(d);
}

int main(void)
{
    static const char *const crafted[] = {
        "{}", "[]", "{\"a\":1}", " {\"a\" : [1, 2.5, -3e2, true, false, null, \"x\"]} ", "1", "\"s\"", "true",
        "[1]", "{\"a\":{\"b\":{\"c\":[[[]]]}}}", "{\"k\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}", "{\"k\":\"\\ud800\"}",
        "{\"k\":\"\\ud800x\"}", "{\"k\":\"\\udc00\"}", "[\"\\ud800\\u0041\"]", "[1e999, -1e999, 1e-999]",
        "[9223372036854775807, 9223372036854775808, -9223372036854775808, -9223372036854775807]",
        "[0, -0, 0.0, 01]", "[1.]", "[.5]", "[-]", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{1:2}", "[1 2]",
        "/* lead */ {\"a\": 1} // tail\n", "{\"a\": /* in */ 1}", "{\"a\":1} //", "{\"a\":1} /*", "\v{}\f",
        "{\"a\":\"\x7f\"}", "{\"a\":\"\x1f\"}", "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xe2\x82\"}", "{\"a\":\"\xff\"}", "[\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"]",
        "[\"\\x\"]", "[\"\\u12\"]", "[\"\\u12g4\"]", "[truex]", "[nul]", "{\"a\":1}x", "", " ", "[", "{\"a\"",
        "{\"a\":1,\"a\":2}", "[\"\"]", "{\"\":\"\"}",
    };
    for (size_t i = 0; i < sizeof crafted / sizeof *crafted; i++) {
        compare(crafted[i], strlen(crafted[i]));
        mutate_and_compare(crafted[i], strlen(crafted[i]), 100);
    }
    static const char *const dirs[] = {"tests/fuzz/corpus/config", "tests/fuzz/corpus/process",
                                       "tests/fuzz/corpus/resources", "tests/fuzz/corpus/state", "bench/configs"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        from_dir(dirs[i], 1000);
    CHECK(seeds >= 20);     /* the corpora were found: run from the repository's top */
    /* most valid documents are the one pass's own (else this compared yajl with itself) */
    size_t own = (size_t)valid - (husk_json_tree_fallbacks - (size_t)(compared - valid));
    CHECK(own * 2 > (size_t)valid);
    printf("json_tree: %d documents compared with yajl_tree_parse (%d seeds), %d valid, %zu of them built in one "
           "pass\n", compared, seeds, valid, own);
    return unit_done("json_tree");
}
