/* How a failure to start the program reads: Go's (runc's) words, which engines match. Used
 * by the process itself (process.c) and for the trampoline's report (sync.c). */
#ifndef HUSK_EXEC_ERROR_H
#define HUSK_EXEC_ERROR_H

#include "husk/err.h"

/* "what: reason" with strerror's text in lower case; err->code = code. Returns -1. */
int husk_go_error(struct husk_err *err, int code, const char *what);
/* `exec: "prog": reason`. Returns -1. */
int husk_exec_error(struct husk_err *err, int code, const char *prog);
/* The exec trampoline's report (trampoline_abi.h): errno `code`, `msg` its flag byte and the
 * program's name. */
void husk_exec_failed_err(struct husk_err *err, int code, const char *msg);

#endif
