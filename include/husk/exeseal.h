/* Keeping the host's husk binary out of the container's reach (CVE-2019-5736): every
 * process in a container starts as a fork of husk, so its /proc/PID/exe is husk's binary
 * until its last exec, and an exec of `#!/proc/self/exe` (or an ELF whose interpreter is
 * it) would run husk again inside the container, where /proc/PID/exe opens it. */
#ifndef HUSK_EXESEAL_H
#define HUSK_EXESEAL_H

#include <stdbool.h>

#include "husk/config.h"
#include "husk/err.h"

/* A sealed memfd (CLOEXEC) holding the exec trampoline (src/trampoline): the container
 * process execveat()s it and it execs the program, so /proc/self/exe is never husk's
 * binary while the program's exec resolves it. */
int husk_trampoline_memfd(struct husk_err *err);

/* true when a process with these capabilities, in the initial user namespace, could open
 * /proc/PID/exe of husk's own processes in the container despite PR_SET_DUMPABLE 0. */
bool husk_caps_allow_ptrace(const struct husk_process *p);
/* true when these capabilities in the initial user namespace are the host's root already
 * (all of them, CAP_SYS_ADMIN, CAP_SYS_MODULE, or CAP_DAC_READ_SEARCH's open_by_handle_at
 * into the filesystem holding the rootfs): a sealed husk would protect nothing. */
bool husk_caps_host_root(const struct husk_process *p);

/* Re-executes husk, with its own argv and environment, from a sealed memfd copy of its
 * binary, unless it runs from one already (returns 0). Returns -1 on error. */
int husk_self_seal(struct husk_err *err);

#endif
