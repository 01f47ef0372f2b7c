/* The verified procfs handle, and the resolved path husk checks mount destinations against. */
#include "husk/procfs.h"
#include "husk/rootfs.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(path);
}

static int open_errno(pid_t who, const char *rel)
{
    struct husk_err err = {0};
    int fd = husk_procfs_open(who, rel, O_RDONLY, &err);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    return err.code ? err.code : -1;
}

int main(void)
{
    struct husk_err err = {0};
    char buf[4096], want[64];
    /* self and thread-self name us, read through the links rather than followed */
    snprintf(want, sizeof want, "Pid:\t%d\n", (int)getpid());
    CHECK(husk_procfs_read(HUSK_PROC_SELF, "status", buf, sizeof buf, &err) == 0 && strstr(buf, want));
    CHECK(husk_procfs_read(HUSK_PROC_THREAD_SELF, "status", buf, sizeof buf, &err) == 0 && strstr(buf, want));
    CHECK(husk_procfs_read(getpid(), "status", buf, sizeof buf, &err) == 0 && strstr(buf, want));
    CHECK(husk_procfs_read(HUSK_PROC_ROOT, "sys/kernel/ostype", buf, sizeof buf, &err) == 0);
    CHECK_STR(buf, "Linux\n");
    /* no symlink, magic link or ".." on the way */
    CHECK(open_errno(HUSK_PROC_ROOT, "self/status") == ELOOP);
    CHECK(open_errno(HUSK_PROC_ROOT, "net/dev") == ELOOP);
    CHECK(open_errno(HUSK_PROC_SELF, "cwd/.") == ELOOP);
    CHECK(open_errno(HUSK_PROC_ROOT, "../etc/passwd") == EXDEV);
    CHECK(open_errno(HUSK_PROC_ROOT, "/etc/passwd") == EXDEV);
    /* the error names the path as written */
    CHECK(husk_procfs_open(HUSK_PROC_SELF, "nonexistent", O_RDONLY, &err) < 0 && err.code == ENOENT &&
          strstr(err.msg, "nonexistent"));
    husk_procfs_close();
    CHECK(open_errno(HUSK_PROC_SELF, "status") == 0);
    husk_procfs_close();

    /* resolved destinations: lexical without symlinks, expanded (inside the root) with them */
    char tmpl[] = "/tmp/husk-unit-XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    int root = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
    CHECK(root >= 0);
    char d[128], res[4096];
    snprintf(d, sizeof d, "%s/a", tmpl);
    CHECK(mkdir(d, 0755) == 0);
    snprintf(d, sizeof d, "%s/data", tmpl);
    CHECK(symlink("/proc/1", d) == 0);
    snprintf(d, sizeof d, "%s/up", tmpl);
    CHECK(symlink("../../../a/../proc/sys", d) == 0);
    int fd = husk_resolve_in_root(root, "/a/./b/../c//", false, res, &err);
    CHECK(fd >= 0);
    CHECK_STR(res, "/a/c");
    close(fd);
    fd = husk_resolve_in_root(root, "/data", false, res, &err);
    CHECK(fd >= 0);
    CHECK_STR(res, "/proc/1");
    close(fd);
    fd = husk_resolve_in_root(root, "/up/net", false, res, &err);
    CHECK(fd >= 0);
    CHECK_STR(res, "/proc/sys/net");
    close(fd);
    fd = husk_resolve_in_root(root, "/../..", false, res, &err);
    CHECK(fd >= 0);
    CHECK_STR(res, "/");
    close(fd);
    close(root);
    CHECK(nftw(tmpl, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
    return unit_done("test_procfs");
}
