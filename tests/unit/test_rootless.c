/* Rootless detection and the default state root (runc's rules for $XDG_RUNTIME_DIR). */
#include "husk/rootless.h"
#include "unit.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* As an unprivileged uid, in a child: the cached answer is per process. */
static int as_user(void)
{
    char root[4096];
    struct husk_err err = {0};
    if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
        return 100;
    CHECK(husk_rootless());
    unsetenv("XDG_RUNTIME_DIR");
    CHECK(husk_default_root(root, sizeof root, &err) < 0);
    CHECK(strstr(err.msg, "XDG_RUNTIME_DIR") && strstr(err.msg, "--root"));
    setenv("XDG_RUNTIME_DIR", "relative/dir", 1);
    CHECK(husk_default_root(root, sizeof root, &err) < 0);
    setenv("XDG_RUNTIME_DIR", "/run/user/65534", 1);
    CHECK(husk_default_root(root, sizeof root, &err) == 0);
    CHECK_STR(root, "/run/user/65534/husk");
    return unit_failures;
}

/* The user bus for rootless --systemd-cgroup: runc's order, and an error naming both places. */
static void user_bus(void)
{
    char a[4200], dir[] = "/tmp/husk-unit-bus-XXXXXX", sub[128], path[256];
    struct husk_err err = {0};
    setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/some/where,guid=1", 1);
    setenv("XDG_RUNTIME_DIR", "/nonexistent", 1);
    CHECK(husk_user_bus_address(a, sizeof a, &err) == 0);
    CHECK_STR(a, "unix:path=/some/where,guid=1");
    unsetenv("DBUS_SESSION_BUS_ADDRESS");
    CHECK(husk_user_bus_address(a, sizeof a, &err) < 0);
    CHECK(strstr(err.msg, "DBUS_SESSION_BUS_ADDRESS is not set") && strstr(err.msg, "/nonexistent/bus") &&
          strstr(err.msg, "XDG_RUNTIME_DIR"));
    unsetenv("XDG_RUNTIME_DIR");
    CHECK(husk_user_bus_address(a, sizeof a, &err) < 0);
    CHECK(strstr(err.msg, "DBUS_SESSION_BUS_ADDRESS is not set and XDG_RUNTIME_DIR is not set"));
    setenv("DBUS_SESSION_BUS_ADDRESS", "", 1);   /* empty counts as unset, as in runc */
    setenv("XDG_RUNTIME_DIR", "relative", 1);
    CHECK(husk_user_bus_address(a, sizeof a, &err) < 0 && strstr(err.msg, "not an absolute path"));
    /* $XDG_RUNTIME_DIR/bus when it exists, escaped as a D-Bus address value */
    CHECK(mkdtemp(dir) != NULL);
    snprintf(sub, sizeof sub, "%s/a,b c", dir);
    CHECK(mkdir(sub, 0700) == 0);
    snprintf(path, sizeof path, "%s/bus", sub);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    setenv("XDG_RUNTIME_DIR", sub, 1);
    CHECK(husk_user_bus_address(a, sizeof a, &err) == 0);
    snprintf(path, sizeof path, "unix:path=%s/a%%2cb%%20c/bus", dir);
    CHECK_STR(a, path);
    snprintf(path, sizeof path, "%s/bus", sub);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
    unsetenv("DBUS_SESSION_BUS_ADDRESS");
}

/* uid 0 of a user namespace mapped to 4242 outside claims 4242 (what the bus sees). */
static int host_uid_child(void)
{
    int go[2], done[2];
    if (pipe(go) < 0 || pipe(done) < 0)
        return 100;
    pid_t c = fork();
    if (c == 0) {
        char b;
        /* uid 4242 outside, then uid 0 inside: rootless podman's runtime */
        if (setresgid(4242, 4242, 4242) < 0 || setresuid(4242, 4242, 4242) < 0 || unshare(CLONE_NEWUSER) < 0)
            _exit(101);
        if (write(done[1], "u", 1) != 1 || read(go[0], &b, 1) != 1)
            _exit(102);
        _exit(husk_rootless_host_uid() == 4242 ? 0 : 103);
    }
    char b, path[64];
    if (read(done[0], &b, 1) != 1)
        return 104;
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)c);
    int fd = open(path, O_WRONLY);
    bool ok = fd >= 0 && write(fd, "0 4242 1\n", 9) == 9;
    if (fd >= 0)
        close(fd);
    int st = 0;
    if (write(go[1], "g", 1) != 1 || waitpid(c, &st, 0) != c)
        return 105;
    return ok && WIFEXITED(st) ? WEXITSTATUS(st) : 106;
}

int main(void)
{
    char root[4096];
    struct husk_err err = {0};
    if (geteuid() != 0) {
        printf("test_rootless: not root, skipped\n");
        return 0;
    }
    pid_t c = fork();
    if (c == 0)
        _exit(as_user());
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* root of the initial user namespace: /run/husk, whatever XDG_RUNTIME_DIR says */
    setenv("XDG_RUNTIME_DIR", "/run/user/0", 1);
    setenv("USER", "someone", 1);
    CHECK(husk_default_root(root, sizeof root, &err) == 0);
    CHECK_STR(root, "/run/husk");
    char map[256] = "";
    FILE *f = fopen("/proc/self/uid_map", "r");
    if (f && fgets(map, sizeof map, f) && strstr(map, "4294967295"))
        CHECK(!husk_rootless());
    if (f)
        fclose(f);
    CHECK(husk_rootless_host_uid() == geteuid());
    user_bus();
    c = fork();
    if (c == 0)
        _exit(host_uid_child());
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        fprintf(stderr, "host uid child: %d\n", WEXITSTATUS(st));
    return unit_done("test_rootless");
}
