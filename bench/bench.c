/* husk's benchmark: runs husk, runc, crun and a bare-kernel floor interleaved, iteration by
 * iteration, and prints median/p10/p90 wall time, CPU time and peak RSS per case.
 *
 * All runtimes run in one private mount namespace with a pure cgroup2 view (Debian's crun
 * refuses this host's hybrid layout), see ../shared/TESTING.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITER 1000
#define MAX_RT 4

struct sample { double wall_ms, cpu_ms, rss_mib; };

struct runtime {
    const char *name;
    const char *path;         /* NULL: the floor */
    const char *extra;        /* a global option it needs here, or NULL */
    bool ok;
    struct sample s[MAX_ITER];
    int n;
};

static char workdir[256], bundle[300], rootdir[300];
static int iterations = 30;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs argv, waits, adds wall/CPU/RSS to *acc. Returns the exit status. */
static int run_cmd(char *const argv[], struct sample *acc)
{
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        if (!getenv("BENCH_VERBOSE"))
            dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
        return -1;
    acc->wall_ms += now_ms() - t0;
    acc->cpu_ms += (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    double rss = ru.ru_maxrss / 1024.0;
    if (rss > acc->rss_mib)
        acc->rss_mib = rss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int rt_argv(const struct runtime *rt, char **argv, const char *cmd)
{
    int n = 0;
    argv[n++] = (char *)rt->path;
    if (rt->extra)
        argv[n++] = (char *)rt->extra;
    argv[n++] = "--root";
    argv[n++] = rootdir;
    argv[n++] = (char *)cmd;
    return n;
}

/* The kernel's share: clone into the same namespaces, pivot_root, exec, wait. */
static int floor_run(struct sample *acc)
{
    double t0 = now_ms();
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD, NULL,
                               NULL, NULL, NULL);
    if (pid == 0) {
        char root[320];
        snprintf(root, sizeof root, "%s/rootfs", bundle);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0 ||
            chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0)
            _exit(126);
        char *argv[] = {"/bin/true", NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
        return -1;
    acc->wall_ms += now_ms() - t0;
    acc->cpu_ms += (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    acc->rss_mib = ru.ru_maxrss / 1024.0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int case_run(struct runtime *rt, int i, struct sample *out)
{
    if (!rt->path)
        return floor_run(out);
    char id[64], *argv[16];
    snprintf(id, sizeof id, "bench-run-%d", i);
    int n = rt_argv(rt, argv, "run");
    argv[n++] = "--bundle";
    argv[n++] = bundle;
    argv[n++] = id;
    argv[n] = NULL;
    return run_cmd(argv, out);
}

static int wait_pidfile(const char *path)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    int pidfd = (int)syscall(SYS_pidfd_open, atoi(buf), 0);
    if (pidfd < 0)
        return 0;   /* already gone */
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    poll(&p, 1, 5000);
    close(pidfd);
    return 0;
}

static int case_lifecycle(struct runtime *rt, int i, struct sample *out)
{
    if (!rt->path)
        return floor_run(out);
    char id[64], pidfile[400], *argv[16];
    snprintf(id, sizeof id, "bench-lc-%d", i);
    snprintf(pidfile, sizeof pidfile, "%s/pid-%s", workdir, rt->name);
    int n = rt_argv(rt, argv, "create");
    argv[n++] = "--bundle";
    argv[n++] = bundle;
    argv[n++] = "--pid-file";
    argv[n++] = pidfile;
    argv[n++] = id;
    argv[n] = NULL;
    if (run_cmd(argv, out) != 0)
        return -1;
    n = rt_argv(rt, argv, "start");
    argv[n++] = id;
    argv[n] = NULL;
    if (run_cmd(argv, out) != 0)
        return -1;
    double t0 = now_ms();
    wait_pidfile(pidfile);
    out->wall_ms += now_ms() - t0;
    n = rt_argv(rt, argv, "delete");
    argv[n++] = id;
    argv[n] = NULL;
    return run_cmd(argv, out);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    int k = (int)(p * (n - 1) + 0.5);
    return v[k];
}

static void report(const char *title, struct runtime *rts, int nrt, FILE *json, bool first_case)
{
    printf("\n%s (%d iterations, interleaved)\n", title, iterations);
    printf("  %-7s %9s %9s %9s %9s %9s %12s\n", "runtime", "median", "p10", "p90", "cpu", "peak RSS", "vs husk");
    fprintf(json, "%s\n  \"%s\": {", first_case ? "" : ",", title);
    struct runtime *husk = &rts[0];
    for (int r = 0; r < nrt; r++) {
        struct runtime *rt = &rts[r];
        if (!rt->ok || rt->n == 0) {
            printf("  %-7s %s\n", rt->name, "unavailable");
            continue;
        }
        double wall[MAX_ITER], cpu[MAX_ITER], ratio[MAX_ITER], rss = 0;
        int nr = 0;
        for (int i = 0; i < rt->n; i++) {
            wall[i] = rt->s[i].wall_ms;
            cpu[i] = rt->s[i].cpu_ms;
            if (rt->s[i].rss_mib > rss)
                rss = rt->s[i].rss_mib;
            if (husk->ok && i < husk->n && husk->s[i].wall_ms > 0)
                ratio[nr++] = rt->s[i].wall_ms / husk->s[i].wall_ms;
        }
        double med = pct(wall, rt->n, 0.5), p10 = pct(wall, rt->n, 0.1), p90 = pct(wall, rt->n, 0.9);
        double cmed = pct(cpu, rt->n, 0.5), rmed = nr ? pct(ratio, nr, 0.5) : 0;
        printf("  %-7s %7.2fms %7.2fms %7.2fms %7.2fms %7.2fMiB %11.2fx\n", rt->name, med, p10, p90, cmed, rss, rmed);
        fprintf(json, "%s\n    \"%s\": {\"median_ms\": %.3f, \"p10_ms\": %.3f, \"p90_ms\": %.3f, \"cpu_ms\": %.3f, "
                      "\"peak_rss_mib\": %.3f, \"ratio_to_husk\": %.3f}",
                r ? "," : "", rt->name, med, p10, p90, cmed, rss, rmed);
    }
    fprintf(json, "\n  }");
}

static int make_bundle(const char *husk, const char *repo)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "sh %s/scripts/mkrootfs.sh %s/rootfs >/dev/null", repo, bundle);
    if (system(cmd) != 0)
        return -1;
    (void)husk;
    char path[400];
    snprintf(path, sizeof path, "%s/config.json", bundle);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"bench\","
            "\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"/bin/true\"],"
            "\"env\":[\"PATH=/bin:/usr/bin\"],\"cwd\":\"/\",\"noNewPrivileges\":true,"
            "\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"]}},"
            "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
            "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\"]}],"
            "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"ipc\"}]}}\n");
    return fclose(f);
}

int main(int argc, char **argv)
{
    const char *husk = getenv("HUSK") ? getenv("HUSK") : "./husk";
    const char *repo = getenv("REPO") ? getenv("REPO") : ".";
    const char *json_out = "bench/results.json";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
            iterations = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json_out = argv[++i];
    }
    if (iterations < 1 || iterations > MAX_ITER)
        iterations = 30;
    if (geteuid() != 0) {
        fprintf(stderr, "bench: run as root\n");
        return 1;
    }
    /* One private view for every runtime: pure cgroup2, nothing leaks to the host's mounts. */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
        perror("bench: private cgroup2 view");
        return 1;
    }
    snprintf(workdir, sizeof workdir, "/tmp/husk-bench-XXXXXX");
    if (!mkdtemp(workdir))
        return 1;
    snprintf(bundle, sizeof bundle, "%s/bundle", workdir);
    snprintf(rootdir, sizeof rootdir, "%s/state", workdir);
    mkdir(bundle, 0755);
    if (make_bundle(husk, repo) < 0) {
        fprintf(stderr, "bench: cannot make the bundle\n");
        return 1;
    }
    char husk_abs[4096];
    if (!realpath(husk, husk_abs)) {
        fprintf(stderr, "bench: %s: %s\n", husk, strerror(errno));
        return 1;
    }
    struct runtime *rts = calloc(MAX_RT, sizeof *rts);
    rts[0] = (struct runtime){.name = "husk", .path = husk_abs};
    rts[1] = (struct runtime){.name = "runc", .path = "/usr/sbin/runc"};
    rts[2] = (struct runtime){.name = "crun", .path = "/usr/bin/crun", .extra = "--cgroup-manager=disabled"};
    rts[3] = (struct runtime){.name = "floor", .path = NULL};
    int nrt = 4;
    for (int r = 0; r < nrt; r++)
        rts[r].ok = !rts[r].path || access(rts[r].path, X_OK) == 0;

    FILE *json = fopen(json_out, "w");
    if (!json)
        json = fopen("/dev/null", "w");
    fprintf(json, "{");
    struct { const char *title; int (*fn)(struct runtime *, int, struct sample *); } cases[] = {
        {"run /bin/true", case_run},
        {"create+start+wait+delete", case_lifecycle},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        for (int r = 0; r < nrt; r++)
            rts[r].n = 0;
        for (int i = 0; i < iterations; i++)
            for (int r = 0; r < nrt; r++) {
                if (!rts[r].ok)
                    continue;
                struct sample s = {0};
                if (cases[c].fn(&rts[r], i, &s) != 0) {
                    fprintf(stderr, "bench: %s failed in \"%s\" (BENCH_VERBOSE=1 shows why)\n", rts[r].name,
                            cases[c].title);
                    rts[r].ok = false;
                    continue;
                }
                rts[r].s[rts[r].n++] = s;
            }
        report(cases[c].title, rts, nrt, json, c == 0);
        for (int r = 0; r < nrt; r++)
            rts[r].ok = !rts[r].path || access(rts[r].path, X_OK) == 0;
    }
    fprintf(json, "\n}\n");
    fclose(json);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", workdir);
    if (system(cmd) != 0)
        return 1;
    printf("\nfloor: clone(pid,mnt,uts,ipc) + pivot_root + exec /bin/true + wait, no runtime.\n");
    return 0;
}
