/* `start`'s half of the protocol with a created init (ops.c), also used by `run` (create.c). */
#ifndef HUSK_START_INTERNAL_H
#define HUSK_START_INTERNAL_H

#include <stdbool.h>

#include "husk/err.h"
#include "husk/state.h"

/* `start` once the init listens on fd: sends it the go (unless `sent`: `run` may have queued
 * it already), waits for its exec, runs poststart hooks (reading the config saved in dirfd
 * when the state says there are any). */
/* -1 on error; HUSK_START_POSTSTART_FAILED when a poststart hook failed and the container was
 * stopped (the caller destroys it). */
#define HUSK_START_POSTSTART_FAILED (-2)
int husk_start_over(int fd, int dirfd, const struct husk_state *st, bool sent, struct husk_err *err);

#endif
