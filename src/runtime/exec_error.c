/* Failures to start the program, worded as runc's (exec_error.h). */
#include "exec_error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Failures to start the program read like Go's (runc's), since engines match their words:
 * Docker's CLI case-sensitively ("executable file not found", "no such file or directory":
 * 127, then "permission denied": 126, else 125), podman in any case (the same words, and
 * "operation not permitted", 126). So `what` and strerror's text in lower case. */
int husk_go_error(struct husk_err *err, int code, const char *what)
{
    char reason[128];
    snprintf(reason, sizeof reason, "%s", strerror(code));
    if (reason[0] >= 'A' && reason[0] <= 'Z')
        reason[0] = (char)(reason[0] - 'A' + 'a');
    husk_err_set(err, 0, "%s: %s", what, reason);
    err->code = code;
    return -1;
}

int husk_exec_error(struct husk_err *err, int code, const char *prog)
{
    char what[4200];
    snprintf(what, sizeof what, "exec: \"%s\"", prog);
    return husk_go_error(err, code, what);
}

void husk_exec_failed_err(struct husk_err *err, int code, const char *msg)
{
    if (msg[0] == 'c') {
        /* the trampoline could not lower what husk_caps_carry raised: it did not exec */
        husk_err_set(err, code, "exec: \"%s\": restore the capabilities carried across husk's exec trampoline "
                     "(linux.seccomp may block capget, capset or prctl)", msg + 1);
        return;
    }
    /* the program's execve failed: the hint when the filter is the likely cause (the
     * program was found) */
    husk_exec_error(err, code, msg + (msg[0] != '\0'));
    if ((code == EPERM || code == EACCES || code == ENOSYS) && msg[0] == 's')
        husk_err_wrap(err, "linux.seccomp may block execve");
}
