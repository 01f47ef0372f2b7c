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
/* A non-root process loses its capabilities at the exec of husk's trampoline, but the
 * program's own execve must still be checked with them (runc's process holds them up to that
 * execve: CAP_DAC_OVERRIDE runs a 0700 root file). After husk_caps_apply: the effective caps
 * that are not ambient are raised into inheritable and ambient so they reach the trampoline;
 * *extra gets them (0: nothing to carry), *inheritable the set to restore. The trampoline
 * lowers them again before its execve, which so sees the sets husk_caps_apply made. */
int husk_caps_carry(const struct husk_caps *caps, uint64_t *inheritable, uint64_t *extra);
int husk_lsm_apply(const struct husk_process *p, struct husk_err *err);
/* Builds the BPF program into s->prog (malloc'd; husk_config_free frees it).
 * cache_dirfd >= 0: a directory of programs already built, each named by the SHA-256 of an
 * unambiguous encoding of the whole seccomp section, libseccomp's version, API level and
 * native arch, and checked against that key and its own checksum when read; a hit skips
 * libseccomp entirely. */
int husk_seccomp_compile(struct husk_seccomp *s, int cache_dirfd, struct husk_err *err);
/* Loads the filter husk_seccomp_compile built; returns the notify fd (>= 0) when a rule asks
 * for SCMP_ACT_NOTIFY, -2 when there is none, -1 on error. */
int husk_seccomp_load(const struct husk_seccomp *s, struct husk_err *err);

/* process.scheduler (sched_setattr), process.ioPriority (ioprio_set on the process group),
 * linux.memoryPolicy (set_mempolicy). */
int husk_sched_apply(const struct husk_sched *s, struct husk_err *err);
int husk_ioprio_apply(const struct husk_process *p, struct husk_err *err);
int husk_mempolicy_apply(const struct husk_config *c, struct husk_err *err);
/* Parses "0-3,7" into a CPU or node mask; -1 on a bad list. */
int husk_parse_cpu_list(const char *s, unsigned long *mask, size_t nbits);
/* Linux features husk cannot provide on this host are refused with the reason. */
int husk_unsupported_check(const struct husk_config *c, struct husk_err *err);

#endif
