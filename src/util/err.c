#include "husk/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int husk_err_set(struct husk_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (code != 0 && (size_t)n < sizeof e->msg)
        snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(code));
    e->code = code;
    return -1;
}

int husk_err_wrap(struct husk_err *e, const char *fmt, ...)
{
    char prefix[1024];
    char old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof e->msg - 3)
        n = sizeof e->msg - 3;
    memcpy(e->msg, prefix, n);
    memcpy(e->msg + n, ": ", 2);
    size_t rest = sizeof e->msg - n - 3;
    size_t ol = strnlen(old, rest);
    memcpy(e->msg + n + 2, old, ol);
    e->msg[n + 2 + ol] = '\0';
    return -1;
}

void husk_err_clear(struct husk_err *e)
{
    e->code = 0;
    e->msg[0] = '\0';
}

const char *husk_quote(const char *s, char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (n < 8) {
        if (n)
            out[0] = '\0';
        return out;
    }
    out[o++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[7];
        size_t el = 0;
        if (c == '"' || c == '\\') {
            e[el++] = '\\';
            e[el++] = (char)c;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            e[el++] = '\\';
            e[el++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(e, "\\u00", 4);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            el = 6;
        } else {
            e[el++] = (char)c;
        }
        /* this escape must leave room for "...", the closing quote and the NUL */
        if (o + el + 5 > n) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, e, el);
        o += el;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}
