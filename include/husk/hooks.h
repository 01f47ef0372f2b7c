/* Lifecycle hooks (config.md "POSIX-platform Hooks"). */
#ifndef HUSK_HOOKS_H
#define HUSK_HOOKS_H

#include "husk/config.h"
#include "husk/err.h"

/* Runs each hook in order with `state_json` on its stdin; the first failure stops
 * the run and is returned, e.g. "createRuntime hook #0 (/bin/false): exit status 1". */
int husk_hooks_run(const struct husk_hooks_list *hooks, const char *kind, const char *state_json,
                   struct husk_err *err);

/* poststop: every hook runs; each failure is logged as a warning (runtime.md step 13). */
void husk_hooks_run_all(const struct husk_hooks_list *hooks, const char *kind, const char *state_json);

#endif
