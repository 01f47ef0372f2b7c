/* kill, pause/resume, update (runtime.md "Operations" kill; runc's pause, resume and update):
 * acting on a live container's processes and cgroups. */
#include "husk/cgroup.h"
#include "husk/cleanup.h"
#include "husk/container.h"
#include "husk/rootless.h"
#include "husk/state.h"
#include "ops_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int husk_ops_each_ns_pid(const struct husk_state *st, void (*fn)(pid_t, void *), void *ctx)
{
    char path[64], self[64], other[64];
    snprintf(path, sizeof path, "/proc/%d/ns/pid", st->pid);
    ssize_t n = readlink(path, self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *de;
    int count = 0;
    while ((de = readdir(d))) {
        pid_t p = (pid_t)atoi(de->d_name);
        if (p <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/ns/pid", p);
        n = readlink(path, other, sizeof other - 1);
        if (n <= 0)
            continue;
        other[n] = '\0';
        if (strcmp(self, other) == 0) {
            fn(p, ctx);
            count++;
        }
    }
    closedir(d);
    return count;
}

static void kill_one(pid_t p, void *sig)
{
    kill(p, *(int *)sig);
}

static int kill_all(const struct husk_state *st, int sig)
{
    return husk_ops_each_ns_pid(st, kill_one, &sig);
}

int husk_ops_no_cgroup(struct husk_err *err, const char *what, const char *id)
{
    return husk_err_set(err, 0, "%s: container \"%s\" has no cgroup%s", what, id,
                        husk_rootless() ? " (rootless husk made none: no cgroup was writable; delegate a cgroup v2 "
                                          "subtree owned by the user)" : "");
}

int husk_container_kill(const char *root, const char *id, int sig, bool all, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = husk_ops_open(root, id, &st, err);
    if (dirfd < 0)
        return -1;
    /* A pidfd taken before checking the start time cannot hit a recycled pid. */
    AUTOCLOSE int pidfd = (int)syscall(SYS_pidfd_open, st.pid, 0);
    enum husk_status s = husk_state_status(dirfd, &st);
    bool live = pidfd >= 0 && (s == HUSK_CREATED || s == HUSK_RUNNING || s == HUSK_PAUSED);
    if (!live && !all)
        return husk_err_set(err, 0, "container \"%s\" is not running", id);
    if (all) {
        /* Only the container's own cgroups and its own pid namespace tell its processes from
         * anyone else's: a shared (host or joined) namespace is never scanned, a cgroup husk
         * did not make (an existing cgroupsPath, even "/") may hold anyone, and without either
         * there is nothing safe to signal beyond the init. */
        bool own_pidns = st.flags & HUSK_STATE_OWN_PIDNS;
        struct husk_cgroup cg;
        husk_cgroup_parse(st.cgroup, &cg);
        int own = 0;
        for (int i = 0; i < cg.n; i++)
            /* a systemd scope is the container's alone: StartTransientUnit made it new */
            if (cg.dirs[i].created > 0 || cg.unit[0])
                cg.dirs[own++] = cg.dirs[i];
        cg.n = own;
        /* A stopped init may leave processes behind in its cgroup (with a pid namespace not
         * its own): as in runc 1.1, kill --all signals those and succeeds with none left.
         * containerd's shim sends it after such a container's exit, and takes a failure for
         * a kill that did not happen (StopPodSandbox then waits forever). */
        if (!live) {
            husk_cgroup_signal_all(&cg, sig);
            return 0;
        }
        if (cg.n == 0 && !own_pidns)
            return husk_err_set(err, 0, "kill --all: container \"%s\" has neither a pid namespace nor a cgroup of its "
                                        "own (one husk made) to find its processes in", id);
        if (husk_cgroup_signal_all(&cg, sig) == 0 && own_pidns)
            kill_all(&st, sig);
    }
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) {
        if (errno == ESRCH)
            return husk_err_set(err, 0, "container \"%s\" is not running", id);
        return husk_err_set(err, errno, "signal container \"%s\"", id);
    }
    return 0;
}

int husk_container_pause(const char *root, const char *id, bool pause, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = husk_ops_open(root, id, &st, err);
    if (dirfd < 0)
        return -1;
    enum husk_status s = husk_state_status(dirfd, &st);
    if (pause && s != HUSK_RUNNING)
        return husk_err_set(err, 0, "cannot pause container \"%s\": it is %s, not running", id, husk_status_name(s));
    if (!pause && s != HUSK_PAUSED)
        return husk_err_set(err, 0, "cannot resume container \"%s\": it is %s, not paused", id, husk_status_name(s));
    struct husk_cgroup cg;
    husk_cgroup_parse(st.cgroup, &cg);
    if (cg.n == 0)
        return husk_ops_no_cgroup(err, pause ? "pause: cannot freeze" : "resume: cannot thaw", id);
    if (pause) {
        int fd = openat(dirfd, HUSK_PAUSED_MARK, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return husk_err_set(err, errno, "pause");
        close(fd);
    }
    if (husk_cgroup_freeze(&cg, pause, err) < 0) {
        if (pause) {
            struct husk_err ig;
            husk_cgroup_freeze(&cg, false, &ig);
            unlinkat(dirfd, HUSK_PAUSED_MARK, 0);
        }
        return -1;
    }
    if (!pause)
        unlinkat(dirfd, HUSK_PAUSED_MARK, 0);
    return 0;
}

int husk_container_update(const char *root, const char *id, const char *resources_json, struct husk_err *err)
{
    AUTOSTATE struct husk_state st;
    AUTOCLOSE int dirfd = husk_ops_open(root, id, &st, err);
    if (dirfd < 0)
        return -1;
    enum husk_status s = husk_state_status(dirfd, &st);
    if (s == HUSK_STOPPED)
        return husk_err_set(err, 0, "cannot update container \"%s\": it is stopped", id);
    /* Parsed by the config parser as .linux.resources, so every check and message is the same. */
    size_t len = strlen(resources_json);
    char *doc = malloc(len + 128);
    if (!doc)
        return husk_err_set(err, ENOMEM, "update");
    int n = snprintf(doc, len + 128, "{\"ociVersion\":\"1.3.0\",\"linux\":{\"resources\":%s}}", resources_json);
    struct husk_config *cfg = husk_config_parse(doc, (size_t)n, "resources", err);
    free(doc);
    if (!cfg)
        return -1;
    struct husk_cgroup cg;
    husk_cgroup_parse(st.cgroup, &cg);
    if (cg.n == 0 && cfg->linux_.resources.set) {
        husk_config_free(cfg);
        return husk_ops_no_cgroup(err, "update: cannot apply the resources", id);
    }
    /* a systemd scope gets the new values as properties too, or systemd would restore the
     * old ones when it next writes the unit's cgroup */
    int rc = cg.unit[0] ? husk_cgroup_systemd_set(&cg, cfg, err) : 0;
    if (rc == 0)
        rc = husk_cgroup_apply(&cg, cfg, err);
    husk_config_free(cfg);
    return rc;
}
