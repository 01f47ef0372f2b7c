/* What husk and its exec trampoline (src/trampoline/trampoline.c) agree on. The trampoline
 * is freestanding: no libc headers here. */
#ifndef HUSK_TRAMPOLINE_ABI_H
#define HUSK_TRAMPOLINE_ABI_H

/* argv: [0] HUSK_TRAMPOLINE_ARGV0, [1] the sync socket's fd number, [2] flags (below),
 * [3] the program's resolved path, [4...] the program's own argv. */
#define HUSK_TRAMPOLINE_ARGV0 "husk-exec"
#define HUSK_TRAMPOLINE_ARGS 4
/* flags[0]: 's' when linux.seccomp is set, '-' otherwise (for the error's hint);
 * flags[1]: the exit code after a failed execve, as a byte (1-255);
 * then, when husk carried a non-root process's capabilities across this exec
 * (husk_caps_carry), "INH:EXTRA" in hex: the trampoline lowers the ambient caps EXTRA and
 * sets the inheritable set back to INH before its execve, and fails rather than exec the
 * program with either left raised. */
/* On a failed execve the trampoline sends a sync packet (init_internal.h) of this type, with
 * value = errno and msg = flags[0] (or 'c': restoring carried capabilities failed) followed
 * by argv[4]; husk formats it (sync_recv). */
#define HUSK_SYNC_EXEC_FAILED 64

#endif
