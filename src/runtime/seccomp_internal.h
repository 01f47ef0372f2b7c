/* linux.seccomp on the husk side: the program built before the clone, the notify fd handed
 * to the listener afterwards. Used by create, exec and start alike. */
#ifndef HUSK_SECCOMP_INTERNAL_H
#define HUSK_SECCOMP_INTERNAL_H

#include <sys/types.h>

#include "husk/config.h"

/* Builds linux.seccomp's program before the clone (create, exec), through the cache of built
 * programs beside root: libseccomp takes ~1.5 ms for a Docker-sized profile, the child then
 * only loads the result. */
int husk_seccomp_prepare(struct husk_config *cfg, const char *root, struct husk_err *err);

/* Sends a seccomp notify fd to config-linux.md's listenerPath with the container process
 * state, then closes it. */
int husk_seccomp_forward(const struct husk_config *c, int notify_fd, pid_t pid, const char *state_json,
                         struct husk_err *err);

#endif
