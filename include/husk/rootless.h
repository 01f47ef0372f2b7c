/* Rootless husk: run by an unprivileged user, or by uid 0 of a user namespace that is not
 * the initial one (how rootless podman calls a runtime). Decided as runc and crun do. */
#ifndef HUSK_ROOTLESS_H
#define HUSK_ROOTLESS_H

#include <stdbool.h>
#include <stddef.h>

#include "husk/err.h"

/* euid != 0, or /proc/self/uid_map is not the identity map of the initial namespace. */
bool husk_rootless(void);
/* The default --root: /run/husk for root; $XDG_RUNTIME_DIR/husk when rootless (runc:
 * $XDG_RUNTIME_DIR/runc). Rootless without XDG_RUNTIME_DIR: an error naming --root. */
int husk_default_root(char *out, size_t n, struct husk_err *err);
/* The uid outside our user namespace (the initial one's, for rootless podman's single
 * level): what a unix socket's peer sees of us, so what D-Bus EXTERNAL must claim. */
unsigned husk_rootless_host_uid(void);
/* The user's bus, where user@UID.service's systemd is: $DBUS_SESSION_BUS_ADDRESS, else
 * unix:path=$XDG_RUNTIME_DIR/bus when it exists (runc's order); else an error naming both. */
int husk_user_bus_address(char *out, size_t n, struct husk_err *err);

#endif
