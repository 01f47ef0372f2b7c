/* Files husk writes (and a few it reads) under /proc: sysctls, oom_score_adj, attr files,
 * setgroups, uid_map/gid_map, timens_offsets. A mount or symlink in the container's tree
 * must never redirect them (CVE-2019-16884, CVE-2025-52881), so they are opened through a
 * procfs handle husk verified: "/proc" of the current root, opened without following a
 * symlink and on procfs (PROC_SUPER_MAGIC), then walked with openat2 RESOLVE_NO_XDEV |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, so nothing mounted on part of it is crossed. */
#ifndef HUSK_PROCFS_H
#define HUSK_PROCFS_H

#include <stddef.h>
#include <sys/types.h>

#include "husk/err.h"

/* `who` of the calls below: a pid (as that procfs numbers it), or one of these */
#define HUSK_PROC_ROOT 0           /* rel is from /proc itself ("sys/net/...") */
#define HUSK_PROC_SELF (-1)        /* /proc/self */
#define HUSK_PROC_THREAD_SELF (-2) /* /proc/thread-self */

/* An fd of /proc/WHO/REL with flags (O_CLOEXEC added), or -1 with err set ("`/proc/self/x`:
 * ..."; EXDEV when a mount covers part of the path). The handle is opened at the first call
 * and kept: nothing is opened while there is nothing to write. */
int husk_procfs_open(pid_t who, const char *rel, int flags, struct husk_err *err);
/* One write(2) of data to /proc/WHO/REL through husk_procfs_open. */
int husk_procfs_write(pid_t who, const char *rel, const char *data, size_t len, struct husk_err *err);
/* Up to n-1 bytes of /proc/WHO/REL, NUL-terminated; -1 with err set. */
int husk_procfs_read(pid_t who, const char *rel, char *out, size_t n, struct husk_err *err);
/* Forgets the handle: when the root changes (pivot_root, joining a mount namespace), when a
 * child must not use its parent's, and before the fds are closed for exec. */
void husk_procfs_close(void);

#endif
