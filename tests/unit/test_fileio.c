/* husk_realpath: the canonical-name shortcut (no /proc) agrees with realpath(3). */
#include "husk/fileio.h"
#include "unit.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void same_as_libc(const char *path)
{
    char ours[PATH_MAX], libc[PATH_MAX];
    char *a = husk_realpath(path, ours), *b = realpath(path, libc);
    CHECK((a == NULL) == (b == NULL));
    if (a && b)
        CHECK_STR(ours, libc);
}

int main(void)
{
    char dir[] = "/tmp/husk-unit-fileio-XXXXXX", p[PATH_MAX + 64];
    if (!mkdtemp(dir))
        return 1;
    snprintf(p, sizeof p, "%s/real", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/real/sub", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/link", dir);
    if (symlink("real", p) < 0)
        return 1;

    const char *tail[] = {"/real", "/real/sub", "/link", "/link/sub", "/real/../real/sub", "/real/./sub",
                          "//real", "/real/", "/real//sub", "/missing", "/link/..", "/real/sub/.."};
    for (size_t i = 0; i < sizeof tail / sizeof *tail; i++) {
        snprintf(p, sizeof p, "%s%s", dir, tail[i]);
        same_as_libc(p);
    }
    same_as_libc("/");
    /* "." is the working directory, also when it was reached through a symlink */
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return 1;
    snprintf(p, sizeof p, "%s/link/sub", dir);
    if (chdir(p) == 0) {
        same_as_libc(".");
        same_as_libc("..");
        same_as_libc("sub-missing");
    }
    if (chdir(cwd) < 0)
        return 1;

    snprintf(p, sizeof p, "%s/link", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/real/sub", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/real", dir);
    rmdir(p);
    rmdir(dir);
    return unit_done("fileio");
}
