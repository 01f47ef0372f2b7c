/* Rootless detection and the default state root (runc's rules for $XDG_RUNTIME_DIR). */
#include "husk/rootless.h"
#include "unit.h"

#include <stdlib.h>
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
    return unit_done("test_rootless");
}
