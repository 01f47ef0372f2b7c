/* The embedded exec trampoline: sealed, tiny, and it reports a failed exec as husk would. */
#include "husk/exeseal.h"
#include "../../src/runtime/init_internal.h"
#include "../../src/runtime/process_internal.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_memfd(void)
{
    struct husk_err err = {0};
    int fd = husk_trampoline_memfd(&err);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    struct stat sb;
    CHECK(fstat(fd, &sb) == 0 && sb.st_size > 64 && sb.st_size <= 4096);
    char head[4] = {0};
    CHECK(pread(fd, head, 4, 0) == 4 && memcmp(head, "\177ELF", 4) == 0);
    int seals = fcntl(fd, F_GET_SEALS);
    CHECK(seals == (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE));
    CHECK(pwrite(fd, "x", 1, 0) < 0 && errno == EPERM);
    CHECK(ftruncate(fd, 0) < 0 && errno == EPERM);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
    close(fd);
}

/* Runs the trampoline as husk_proc_exec does; returns the exit status, fills *pk (or type 0
 * on EOF). */
static int run(const char *argv0, const char *flags, const char *path, struct sync_packet *pk)
{
    struct husk_err err = {0};
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    int fd = husk_trampoline_memfd(&err);
    pid_t pid = fork();
    if (pid == 0) {
        char num[16];
        snprintf(num, sizeof num, "%d", sv[1]);
        fcntl(sv[1], F_SETFD, 0);
        char *argv[] = {(char *)argv0, num, (char *)flags, (char *)path, "prog", "arg", NULL};
        char *envp[] = {NULL};
        syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
        _exit(99);
    }
    close(sv[1]);
    close(fd);
    memset(pk, 0, sizeof *pk);
    if (sync_recv(sv[0], pk) != 1)
        pk->type = 0;
    close(sv[0]);
    int status = -1;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_exec(void)
{
    struct sync_packet pk;
    /* success: the socket is closed by the program's exec, the program's status is ours */
    CHECK(run("husk-exec", "-\x05", "/bin/true", &pk) == 0);
    CHECK(pk.type == 0);
    /* failure: errno, and the message runc gives */
    CHECK(run("husk-exec", "-\x05", "/no/such/program", &pk) == 5);
    CHECK(pk.type == SYNC_ERROR && pk.value == ENOENT);
    CHECK_STR(pk.msg, "exec: \"prog\": no such file or directory");
    CHECK(run("husk-exec", "s\x7f", "/dev/null", &pk) == 127);
    CHECK(pk.type == SYNC_ERROR && pk.value == EACCES);
    CHECK_STR(pk.msg, "linux.seccomp may block execve: exec: \"prog\": permission denied");
    /* anyone else running it (`#!/proc/self/exe`) gets nothing done */
    CHECK(run("/proc/self/exe", "-\x05", "/bin/true", &pk) == 127);
    CHECK(pk.type == 0);
    CHECK(run("husk-exec", "-", "/bin/true", &pk) == 127);
}

static void test_caps(void)
{
    struct husk_process p = {0};
    CHECK(husk_caps_allow_ptrace(&p));   /* no capabilities section: root keeps all */
    char *kill[] = {"CAP_KILL"}, *ptrace[] = {"CAP_KILL", "CAP_SYS_PTRACE"};
    p.caps.set = true;
    p.caps.bounding = (struct husk_strv){.v = kill, .n = 1};
    CHECK(!husk_caps_allow_ptrace(&p));
    p.caps.bounding = (struct husk_strv){.v = ptrace, .n = 2};
    CHECK(husk_caps_allow_ptrace(&p));
    p.caps.bounding = (struct husk_strv){0};
    p.caps.ambient = (struct husk_strv){.v = ptrace, .n = 2};
    CHECK(husk_caps_allow_ptrace(&p));
    CHECK(!husk_caps_host_root(&p));
    char *admin[] = {"CAP_SYS_ADMIN"}, *shocker[] = {"CAP_DAC_READ_SEARCH"};
    p.caps.effective = (struct husk_strv){.v = admin, .n = 1};
    CHECK(husk_caps_host_root(&p));
    p.caps.effective = (struct husk_strv){0};
    p.caps.bounding = (struct husk_strv){.v = shocker, .n = 1};
    CHECK(husk_caps_host_root(&p));
    p.caps.set = false;
    CHECK(husk_caps_host_root(&p));
}

int main(void)
{
    test_memfd();
    test_exec();
    test_caps();
    return unit_done("test_exeseal");
}
