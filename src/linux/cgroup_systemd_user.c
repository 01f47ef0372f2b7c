/* The systemd driver rootless (--systemd-cgroup run by a user, or by uid 0 of rootless
 * podman's user namespace): the scope is the user's own systemd manager's (user@UID.service),
 * reached on the user bus, as runc and crun do. cgroup_systemd.c makes, updates and stops
 * the unit through whichever manager husk_systemd_user() names; here is what only the user
 * manager needs: its bus, its place in the tree, and moving a process husk may not move. */
#include "husk/cgroup.h"
#include "cgroup_internal.h"
#include "husk/dbus.h"
#include "husk/rootless.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool husk_systemd_user(void)
{
    /* Rootless: the user's own manager. uid 0 of a user namespace is a system container's
     * root when USER=root, as for the state directory (husk_default_root), or when there is
     * no user bus (runc, for uid 0 in a user namespace: the user bus's OwnerUID, else 0): the
     * system instance then, as for root. */
    static int cached = -1;
    if (cached < 0) {
        const char *user = getenv("USER");
        char a[PATH_MAX + 16];
        struct husk_err ig;
        cached = geteuid() != 0 || (husk_rootless() && !(user && !strcmp(user, "root")) &&
                                    husk_user_bus_address(a, sizeof a, &ig) == 0);
    }
    return cached;
}

int husk_systemd_user_open(struct husk_dbus *c, struct husk_err *err)
{
    /* claiming the uid the bus sees of the socket: not 0 in rootless podman's user namespace */
    char addr[PATH_MAX + 16];
    if (husk_user_bus_address(addr, sizeof addr, err) < 0)
        return -1;
    if (husk_dbus_open_as(c, addr, true, husk_rootless_host_uid(), err) < 0)
        return husk_err_wrap(err, "rootless --systemd-cgroup: the user's systemd manager is not reachable");
    return 0;
}

/* One method call and its reply, on a connection of its own. */
static int user_call(const char *iface, const char *member, const char *sig, const struct husk_dbus_buf *body,
                     int (*on_reply)(struct husk_dbus_msg *m, void *ctx), void *ctx, struct husk_err *err)
{
    struct husk_dbus c;
    if (husk_systemd_user_open(&c, err) < 0)
        return -1;
    uint32_t s = body->oom ? 0 : husk_dbus_call(&c, SD_DEST, SD_PATH, iface, member, sig, body, false);
    struct husk_dbus_msg m;
    int rc = !s ? husk_err_set(err, ENOMEM, "D-Bus")
                : husk_dbus_wait_reply(&c, s, husk_dbus_now_ms() + JOB_TIMEOUT_MS, &m, NULL, NULL, err);
    if (rc == 0 && on_reply)
        rc = on_reply(&m, ctx);
    husk_dbus_close(&c);
    return rc;
}

struct base_out { char *p; size_t n; struct husk_err *err; };

static int got_base(struct husk_dbus_msg *m, void *ctx)
{
    struct base_out *o = ctx;
    const char *vs = husk_dbus_get_g(&m->body), *got = vs && !strcmp(vs, "s") ? husk_dbus_get_s(&m->body) : NULL;
    if (!got || got[0] != '/' || strstr(got, "/..") || strlen(got) >= o->n)
        return husk_err_set(o->err, EPROTO, "the user's systemd manager: a ControlGroup that is not a path");
    /* the root is "/": paths are joined to it */
    snprintf(o->p, o->n, "%s", strcmp(got, "/") ? got : "");
    return 0;
}

int husk_systemd_user_base(char *out, size_t n, struct husk_err *err)
{
    /* The manager's own cgroup (/user.slice/user-UID.slice/user@UID.service on a host,
     * another in a cgroup namespace): its units are below it. Asked before the init is
     * cloned with the cgroup paths it will bind. */
    struct husk_dbus_buf b = {0};
    husk_dbus_put_s(&b, SD_MANAGER);
    husk_dbus_put_s(&b, "ControlGroup");
    struct base_out o = {out, n, err};
    int rc = user_call("org.freedesktop.DBus.Properties", "Get", "ss", &b, got_base, &o, err);
    if (rc < 0 && !strstr(err->msg, "ControlGroup"))
        husk_err_wrap(err, "the user's systemd manager: its ControlGroup");
    husk_dbus_buf_free(&b);
    return rc;
}

int husk_cgroup_systemd_attach(const struct husk_cgroup *cg, pid_t pid, struct husk_err *err)
{
    struct husk_dbus_buf b = {0};
    husk_dbus_put_s(&b, cg->unit);
    husk_dbus_put_s(&b, "");   /* the unit's own cgroup, no subgroup */
    struct husk_dbus_arr a = husk_dbus_array_begin(&b, 4);
    husk_dbus_put_u(&b, (uint32_t)pid);
    husk_dbus_array_end(&b, a);
    int rc = user_call(SD_MANAGER, "AttachProcessesToUnit", "ssau", &b, NULL, NULL, err);
    if (rc < 0)
        husk_err_wrap(err, "systemd AttachProcessesToUnit `%s` (pid %d)", cg->unit, (int)pid);
    husk_dbus_buf_free(&b);
    return rc;
}
