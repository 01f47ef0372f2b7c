/* Option parsing, signal names and container ids. */
#include "args.h"
#include "husk/fdpass.h"
#include "husk/signals.h"
#include "husk/state.h"
#include "husk/rootfs.h"
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct opt_spec specs[] = {
    {"bundle", 'b', true}, {"pid-file", 0, true}, {"detach", 'd', false}, {"force", 'f', false}, {0}};

static int parse(int argc, char **argv, struct parsed_args *a, struct husk_err *err)
{
    return cli_parse(argc, argv, specs, -1, a, NULL, err);
}

static void test_args(void)
{
    struct parsed_args a;
    struct husk_err err = {0};
    char *v1[] = {"--bundle", "/b", "id1", "--pid-file=/p", "-d"};
    CHECK(parse(5, v1, &a, &err) == 0);
    CHECK_STR(cli_value(specs, &a, "bundle"), "/b");
    CHECK_STR(cli_value(specs, &a, "pid-file"), "/p");
    CHECK(cli_flag(specs, &a, "detach"));
    CHECK(!cli_flag(specs, &a, "force"));
    CHECK(a.n_pos == 1);
    CHECK_STR(a.pos[0], "id1");

    char *v2[] = {"-b", "x", "-bundle=y", "id"};
    CHECK(parse(4, v2, &a, &err) == 0);
    CHECK_STR(cli_value(specs, &a, "bundle"), "y");

    char *v3[] = {"--bogus", "id"};
    CHECK(parse(2, v3, &a, &err) < 0);
    CHECK_STR(err.msg, "unknown option: --bogus");

    char *v4[] = {"id", "--bundle"};
    CHECK(parse(2, v4, &a, &err) < 0);
    CHECK_STR(err.msg, "option --bundle needs a value");

    char *v5[] = {"--", "--force", "x"};
    CHECK(parse(3, v5, &a, &err) == 0);
    CHECK(a.n_pos == 2 && !cli_flag(specs, &a, "force"));
    CHECK_STR(a.pos[0], "--force");

    char *v6[] = {"--force=false", "id"};
    CHECK(parse(2, v6, &a, &err) == 0);
    CHECK(!cli_flag(specs, &a, "force"));

    char *v7[] = {"--detach=maybe"};
    CHECK(parse(1, v7, &a, &err) < 0);

    char *v8[] = {"-x"};
    CHECK(parse(1, v8, &a, &err) < 0);
    CHECK_STR(err.msg, "unknown option: -x");

    /* global options stop at the command */
    static const struct opt_spec g[] = {{"root", 0, true}, {"debug", 0, false}, {0}};
    char *v9[] = {"--root", "/r", "--debug", "create", "--bundle", "b"};
    int used = 0;
    CHECK(cli_parse(6, v9, g, 0, &a, &used, &err) == 0);
    CHECK(used == 3);
    CHECK_STR(cli_value(g, &a, "root"), "/r");

    /* exec: options end after the id; repeated options keep every value */
    static const struct opt_spec e[] = {{"env", 'e', true}, {"tty", 't', false}, {0}};
    char *v10[] = {"-e", "A=1", "--env=B=2", "cid", "sh", "-c", "echo -t"};
    CHECK(cli_parse(7, v10, e, 1, &a, NULL, &err) == 0);
    CHECK(a.n_pos == 4 && !cli_flag(e, &a, "tty"));
    CHECK_STR(a.pos[2], "-c");
    CHECK(a.n_multi == 2 && a.multi[0].opt == 0 && a.multi[1].opt == 0);
    CHECK_STR(a.multi[1].value, "B=2");
    /* a value past the limit is an error, never dropped */
    static char *many[2 * MAX_MULTI + 3];
    for (int i = 0; i < MAX_MULTI + 1; i++) {
        many[2 * i] = "-e";
        many[2 * i + 1] = "X=1";
    }
    CHECK(cli_parse(2 * (MAX_MULTI + 1), many, e, 1, &a, NULL, &err) < 0);
    CHECK(strstr(err.msg, "too many values") != NULL);
}

static void test_signals(void)
{
    CHECK(husk_signal_parse("9") == SIGKILL);
    CHECK(husk_signal_parse("KILL") == SIGKILL);
    CHECK(husk_signal_parse("SIGKILL") == SIGKILL);
    CHECK(husk_signal_parse("sigterm") == SIGTERM);
    CHECK(husk_signal_parse("15") == SIGTERM);
    CHECK(husk_signal_parse("RTMIN+2") == SIGRTMIN + 2);
    CHECK(husk_signal_parse("SIGRTMAX-1") == SIGRTMAX - 1);
    CHECK(husk_signal_parse("0") == -1);
    CHECK(husk_signal_parse("65") == -1);
    CHECK(husk_signal_parse("BOGUS") == -1);
    CHECK(husk_signal_parse("") == -1);
    CHECK(husk_signal_parse("9x") == -1);
    CHECK_STR(husk_signal_name(SIGTERM), "TERM");
}

static void test_ids(void)
{
    struct husk_err err = {0};
    CHECK(husk_id_validate("abc", &err) == 0);
    CHECK(husk_id_validate("a-b_c.d+e", &err) == 0);
    CHECK(husk_id_validate("0f8e2b3c-1111-4a4a-9999-abcdefabcdef", &err) == 0);
    CHECK(husk_id_validate("", &err) < 0);
    CHECK_STR(err.msg, "container id must not be empty");
    CHECK(husk_id_validate("..", &err) < 0);
    CHECK(husk_id_validate("a/b", &err) < 0);
    CHECK_STR(err.msg, "invalid container id \"a/b\": only letters, digits and _ . + - are allowed");
    CHECK(husk_id_validate(".hidden", &err) < 0);
    CHECK(husk_id_validate("-rf", &err) < 0);
    CHECK(husk_id_validate("a b", &err) < 0);
    char longid[1100];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    CHECK(husk_id_validate(longid, &err) < 0);
}

static void test_mount_flags(void)
{
    struct husk_mount_flags f;
    struct husk_err err = {0};
    char *o1[] = {"nosuid", "noexec", "mode=755", "size=65536k", "ro", "rslave"};
    struct husk_strv v1 = {o1, 6};
    CHECK(husk_mount_flags_parse(&v1, &f, &err) == 0);
    CHECK(f.flags == (MS_NOSUID | MS_NOEXEC | MS_RDONLY));
    CHECK_STR(f.data, "mode=755,size=65536k");
    CHECK(f.propagation == (MS_SLAVE | MS_REC));
    CHECK(!f.bind);
    char *o2[] = {"rbind", "ro", "rw", "suid", "tmpcopyup"};
    struct husk_strv v2 = {o2, 5};
    CHECK(husk_mount_flags_parse(&v2, &f, &err) == 0);
    CHECK(f.bind && f.rec);
    CHECK(f.flags == 0);
    CHECK(f.clear & MS_RDONLY);
    CHECK(f.clear & MS_NOSUID);
    CHECK_STR(f.data, "");
}

/* In a child (it rearranges its fds): stdin closed, 3-4 open, a hole at 5, 6 open. Each bit
 * of the exit status is one expectation that failed. */
static void test_inherited_fds(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        for (int fd = 3; fd < 64; fd++)
            if (fd != nul)
                close(fd);
        dup2(nul, 3);
        dup2(nul, 4);
        dup2(nul, 6);
        if (nul != 3 && nul != 4 && nul != 6)
            close(nul);
        close(5);
        close(0);
        husk_fds_note_inherited();
        struct husk_err err = {0};
        struct stat sb;
        int bad = 0;
        if (fstat(0, &sb) < 0 || !S_ISCHR(sb.st_mode) || sb.st_rdev != makedev(1, 3))
            bad |= 1;   /* closed stdin became /dev/null */
        if (husk_fds_check_passed(0, "--preserve-fds", &err) < 0 || husk_fds_check_passed(2, "--preserve-fds", &err) < 0)
            bad |= 2;
        if (husk_fds_check_passed(3, "--preserve-fds", &err) == 0 || !strstr(err.msg, "fd 5 was not passed"))
            bad |= 4;   /* the hole at 5 ends what was passed, 6 or not */
        _exit(bad);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(!(WEXITSTATUS(status) & 1));
    CHECK(!(WEXITSTATUS(status) & 2));
    CHECK(!(WEXITSTATUS(status) & 4));
}

int main(void)
{
    test_inherited_fds();
    test_args();
    test_signals();
    test_ids();
    test_mount_flags();
    return unit_done("test_cli");
}
