/* Whether husk runs rootless, and where its state goes then. */
#include "husk/rootless.h"
#include "husk/fileio.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool initial_userns(void)
{
    /* The initial namespace maps every id to itself: "0 0 4294967295". Any other map (or
     * none readable) is a namespace made by someone, where host root's powers are absent. */
    char m[256];
    unsigned long a, b, c;
    int used = 0;
    if (husk_read_file("/proc/self/uid_map", m, sizeof m) < 0)
        return false;
    return sscanf(m, "%lu %lu %lu\n%n", &a, &b, &c, &used) == 3 && a == 0 && b == 0 && c == 4294967295UL &&
           used > 0 && m[used] == '\0';
}

bool husk_rootless(void)
{
    static int cached = -1;
    if (cached < 0)
        cached = geteuid() != 0 || !initial_userns();
    return cached;
}

int husk_default_root(char *out, size_t n, struct husk_err *err)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    /* As runc: uid 0 keeps /run/husk without XDG_RUNTIME_DIR (engines pass it empty) or when
     * it says it is root (USER=root: a system container, which may well write there); only
     * otherwise is the uid map read to tell a user namespace's uid 0. */
    const char *user = getenv("USER");
    if (geteuid() == 0 && (!xdg || !*xdg || (user && !strcmp(user, "root")) || !husk_rootless()))
        return snprintf(out, n, "/run/husk"), 0;
    if (!xdg || !*xdg)
        return husk_err_set(err, 0, "rootless (uid %u): XDG_RUNTIME_DIR is not set, so there is no default state "
                                    "directory: give one with --root DIR", (unsigned)geteuid());
    if (xdg[0] != '/')
        return husk_err_set(err, 0, "rootless: XDG_RUNTIME_DIR \"%s\" is not an absolute path: give a state "
                                    "directory with --root DIR", xdg);
    if (snprintf(out, n, "%s/husk", xdg) >= (int)n)
        return husk_err_set(err, ENAMETOOLONG, "rootless: XDG_RUNTIME_DIR");
    return 0;
}

unsigned husk_rootless_host_uid(void)
{
    /* In a user namespace (rootless podman runs the runtime as its uid 0), the uid the
     * kernel shows a unix socket's peer is the outer one: the line of uid_map that holds our
     * euid names it. runc asks `busctl --user status` for the bus's OwnerUID instead. */
    unsigned euid = (unsigned)geteuid();
    char m[4096];
    if (husk_read_file("/proc/self/uid_map", m, sizeof m) < 0)
        return euid;
    for (char *line = m; *line;) {
        unsigned long in, out, n;
        if (sscanf(line, "%lu %lu %lu", &in, &out, &n) == 3 && euid >= in && euid - in < n)
            return (unsigned)(out + (euid - in));
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return euid;
}

int husk_user_bus_address(char *out, size_t n, struct husk_err *err)
{
    /* runc's order: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus when it exists (runc
     * then asks `systemctl --user show-environment`, a shell-out husk does not make) */
    const char *env = getenv("DBUS_SESSION_BUS_ADDRESS"), *xdg = getenv("XDG_RUNTIME_DIR");
    if (env && *env) {
        if (snprintf(out, n, "%s", env) >= (int)n)
            return husk_err_set(err, ENAMETOOLONG, "DBUS_SESSION_BUS_ADDRESS");
        return 0;
    }
    if (!xdg || xdg[0] != '/')
        return husk_err_set(err, 0, "rootless --systemd-cgroup: no user bus to reach the user's systemd manager: "
                                    "DBUS_SESSION_BUS_ADDRESS is not set and XDG_RUNTIME_DIR is %s",
                            xdg && *xdg ? "not an absolute path" : "not set");
    char bus[PATH_MAX];
    if (snprintf(bus, sizeof bus, "%s/bus", xdg) >= (int)sizeof bus)
        return husk_err_set(err, ENAMETOOLONG, "XDG_RUNTIME_DIR");
    if (access(bus, F_OK) < 0)
        return husk_err_set(err, errno, "rootless --systemd-cgroup: no user bus to reach the user's systemd manager: "
                                        "DBUS_SESSION_BUS_ADDRESS is not set and `%s` (XDG_RUNTIME_DIR/bus) is "
                                        "missing (is dbus-user-session installed and user@%u.service running?)",
                            bus, husk_rootless_host_uid());
    /* D-Bus Specification "Server Addresses": bytes outside this set are %-escaped */
    size_t o = (size_t)snprintf(out, n, "unix:path=");
    for (const char *p = bus; *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("-_/.\\*", c);
        int w = plain ? snprintf(out + o, n - o, "%c", c) : snprintf(out + o, n - o, "%%%02x", c);
        if (w < 0 || (size_t)w >= n - o)
            return husk_err_set(err, ENAMETOOLONG, "user bus address for `%s`", bus);
        o += (size_t)w;
    }
    return 0;
}
