/* Whether husk runs rootless, and where its state goes then. */
#include "husk/rootless.h"
#include "husk/fileio.h"

#include <errno.h>
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
