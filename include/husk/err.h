/* Error values: every fallible function returns -1 and fills a husk_err. */
#ifndef HUSK_ERR_H
#define HUSK_ERR_H

#include <stddef.h>

struct husk_err {
    int code;          /* errno, or 0 when the failure is not a system error */
    char msg[2048];
};

/* Formats the message; when code != 0 appends ": <strerror(code)>". Returns -1. */
int husk_err_set(struct husk_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes context to an existing message ("ctx: old message"). Returns -1. */
int husk_err_wrap(struct husk_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void husk_err_clear(struct husk_err *e);

/* s as a double-quoted C/JSON literal ("a\nb" for a newline), cut with "..." to fit n bytes:
 * how names from the user (container ids) appear in one-line messages. Returns out. */
const char *husk_quote(const char *s, char *out, size_t n);

#endif
