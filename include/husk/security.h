/* Process security: rlimits, user and groups, capabilities, no_new_privs, seccomp,
 * LSM labels (config.md "POSIX process", config-linux.md "Seccomp"). */
#ifndef HUSK_SECURITY_H
#define HUSK_SECURITY_H

#include "husk/config.h"
#include "husk/err.h"

int husk_cap_from_name(const char *name);   /* "CAP_SYS_ADMIN" → 21, -1 if unknown */
/* Checks every capability name in the config; unknown ones are an error. */
int husk_caps_check(const struct husk_caps *caps, struct husk_err *err);
int husk_rlimits_apply(const struct husk_process *p, struct husk_err *err);
/* Groups, gid, uid; capabilities survive the uid change for husk_caps_apply. */
int husk_user_apply(const struct husk_process *p, bool userns_setgroups_denied, struct husk_err *err);
/* Bounding set: before the uid change, while CAP_SETPCAP is still effective. */
int husk_caps_drop_bounding(const struct husk_caps *caps, struct husk_err *err);
int husk_caps_apply(const struct husk_caps *caps, struct husk_err *err);
int husk_lsm_apply(const struct husk_process *p, struct husk_err *err);
/* Loads the filter; returns the notify fd (>= 0) when a rule asks for SCMP_ACT_NOTIFY,
 * -2 when there is none, -1 on error. */
int husk_seccomp_load(const struct husk_seccomp *s, struct husk_err *err);

#endif
