/* The systemd driver's unit properties (cgroup_systemd_props.c), for cgroup_systemd.c. */
#ifndef HUSK_CGROUP_SYSTEMD_INTERNAL_H
#define HUSK_CGROUP_SYSTEMD_INTERNAL_H

#include "husk/cgroup.h"
#include "husk/dbus.h"

#include <stdbool.h>
#include <sys/types.h>

/* Whether the config's CPU period goes as CPUQuotaPeriodUSec (fresh: for a new unit, where
 * the default period needs nothing): then Manager.Version is asked for. */
bool husk_sd_wants_period(const struct husk_resources *r, bool fresh);
/* The resources systemd manages itself as (sv) entries; sd_version is Manager.Version's
 * number (0: unknown, taken as older than 242). */
void husk_sd_resource_props(struct husk_dbus_buf *b, const struct husk_cgroup *cg, const struct husk_resources *r,
                            bool fresh, int sd_version);
/* StartTransientUnit's arguments for the scope with pid in it: the unit, "replace", its
 * properties, no auxiliary units. */
void husk_sd_start_props(struct husk_dbus_buf *b, const struct husk_cgroup *cg, const struct husk_config *c,
                         const char *id, pid_t pid, int sd_version);

#endif
