/* Hook runner: fork, feed the state on stdin, wait with the hook's timeout. */
#include "husk/hooks.h"
#include "husk/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int run_one(const struct husk_hook *h, const char *kind, size_t idx, const char *state, struct husk_err *err)
{
    int in[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return husk_err_set(err, errno, "%s hook #%zu (%s): pipe", kind, idx, h->path);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(in[0]);
        close(in[1]);
        return husk_err_set(err, e, "%s hook #%zu (%s): fork", kind, idx, h->path);
    }
    if (pid == 0) {
        dup2(in[0], 0);
        char *argv0[] = {h->path, NULL};
        /* A hook without env gets husk's environment, as with runc and crun: engines' hooks
         * (e.g. netns helpers) expect PATH and what their caller exported. */
        execve(h->path, h->args.n ? h->args.v : argv0, h->env.n ? h->env.v : environ);
        _exit(127);
    }
    close(in[0]);
    /* A hook that never reads stdin must not block us: ignore EPIPE. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    size_t len = strlen(state), off = 0;
    while (off < len) {
        ssize_t n = write(in[1], state + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += n;
    }
    close(in[1]);
    sigaction(SIGPIPE, &old, NULL);

    int status = 0;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (h->timeout.set && pidfd >= 0) {
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        int r;
        do
            r = poll(&p, 1, (int)(h->timeout.v * 1000));
        while (r < 0 && errno == EINTR);
        if (r == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            close(pidfd);
            return husk_err_set(err, 0, "%s hook #%zu (%s): timed out after %llds", kind, idx, h->path,
                                (long long)h->timeout.v);
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return husk_err_set(err, errno, "%s hook #%zu (%s): wait", kind, idx, h->path);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && access(h->path, X_OK) < 0)
        return husk_err_set(err, errno, "%s hook #%zu (%s): exec", kind, idx, h->path);
    if (WIFEXITED(status))
        return husk_err_set(err, 0, "%s hook #%zu (%s): exit status %d", kind, idx, h->path, WEXITSTATUS(status));
    return husk_err_set(err, 0, "%s hook #%zu (%s): killed by signal %d", kind, idx, h->path, WTERMSIG(status));
}

int husk_hooks_run(const struct husk_hooks_list *hooks, const char *kind, const char *state_json,
                   struct husk_err *err)
{
    for (size_t i = 0; i < hooks->n; i++)
        if (run_one(&hooks->v[i], kind, i, state_json, err) < 0)
            return -1;
    return 0;
}

void husk_hooks_run_all(const struct husk_hooks_list *hooks, const char *kind, const char *state_json)
{
    for (size_t i = 0; i < hooks->n; i++) {
        struct husk_err err;
        if (run_one(&hooks->v[i], kind, i, state_json, &err) < 0)
            husk_warn("%s", err.msg);
    }
}
