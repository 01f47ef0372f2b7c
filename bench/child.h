/* What a timed command runs as, in bench.c and spawn.c alike. */
#ifndef BENCH_CHILD_H
#define BENCH_CHILD_H

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* In the forked child: /dev/null for stdin and stdout (and stderr unless BENCH_VERBOSE),
 * then argv. Never returns. */
static inline __attribute__((noreturn)) void bench_exec_quiet(char *const argv[])
{
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    if (!getenv("BENCH_VERBOSE"))
        dup2(null, 2);
    execv(argv[0], argv);
    _exit(127);
}

#endif
