/* husk's benchmark: runs husk, runc, crun and a bare-kernel floor interleaved, iteration by
 * iteration, and prints median/p10/p90 wall time, CPU time and peak RSS per case.
 *
 * All runtimes run in one private mount namespace with a pure cgroup2 view (Debian's crun
 * refuses this host's hybrid layout), see ../shared/TESTING.md. */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITER 1000
#define MAX_RT 8

/* husk_rss_mib: the largest VmHWM of husk's own processes, from a traced run (bench/spawn.c) */
struct sample { double wall_ms, cpu_ms, rss_mib, husk_rss_mib; };

enum kind {
    RUNTIME,    /* an OCI runtime's CLI */
    FLOOR,      /* bench/floor: the least a runtime program can do */
    CLONE,      /* the floor's kernel work done by this process itself: no program exec'd */
    FLOOR_RT,   /* floor --default --runtime: the default config's floor plus what any conforming
                   runtime must also do for it (bench/floor_rt.c); that case and its throughput only */
};

struct runtime {
    const char *name;
    const char *path;         /* the program; NULL for CLONE */
    const char *extra;        /* a global option it needs here, or NULL */
    enum kind kind;
    char root[400];           /* its own --root: state formats differ */
    bool ok;
    struct sample s[MAX_ITER];
    int n;
    double husk_rss;          /* of the case's traced run, MiB; -1 when not traced */
};

static char workdir[256], bundle[300], rootdir[300], heavy[300], sleeper[300], dflt[300];
/* the floor row of the default-config case runs `floor --default` */
static bool floor_default;
/* Docker's and podman's captured configs (bench/configs), as bundles */
static char docker_b[300], podman_b[300];
/* the floor row of an engine case runs `floor --plan PLAN`, with `--seccomp ENTRY` (the program
 * husk built for the config's profile) once husk made it */
static const char *floor_plan;
static char floor_seccomp[700];
static int iterations = 30, many = 100;
static bool do_scaling;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* bench/spawn, which forks each command from a process of its own size (its peak RSS is then
 * the command's, not a copy of ours); -1 in the throughput workers, which fork themselves. */
static int spawn_req = -1, spawn_rep = -1;

struct spawn_reply {
    double wall_ms, cpu_ms, rss_mib, husk_rss_mib;
    int status;
};
/* set around a case's traced run: the launcher runs its commands under ptrace */
static bool trace_cmds;

static int start_spawner(const char *path)
{
    int req[2], rep[2];
    if (pipe2(req, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(req[0], 0);
        dup2(rep[1], 1);
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    close(req[0]);
    close(rep[1]);
    if (pid < 0)
        return -1;
    spawn_req = req[1];
    spawn_rep = rep[0];
    return 0;
}

/* Without the launcher (the throughput workers): posix_spawn, i.e. a vfork-style clone, as an
 * engine's Go shim starts a runtime. A fork of this process would copy its page tables and take
 * copy-on-write faults, work that is the harness's, not the runtime's, yet on a saturated
 * machine it is taken from the runtimes' CPU (0.29 ms per container, 8% of the 10-worker
 * default-config run's CPU, before this). */
static int run_direct(char *const argv[], struct sample *acc)
{
    static posix_spawn_file_actions_t quiet;
    static bool quiet_made;
    if (!quiet_made) {   /* what bench_exec_quiet does in a forked child */
        posix_spawn_file_actions_init(&quiet);
        posix_spawn_file_actions_addopen(&quiet, 0, "/dev/null", O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&quiet, 0, 1);
        if (!getenv("BENCH_VERBOSE"))
            posix_spawn_file_actions_adddup2(&quiet, 0, 2);
        quiet_made = true;
    }
    double t0 = now_ms();
    pid_t pid;
    if (posix_spawn(&pid, argv[0], &quiet, NULL, argv, environ) != 0)
        return 127;
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    acc->wall_ms += now_ms() - t0;
    acc->cpu_ms += (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    double rss = ru.ru_maxrss / 1024.0;
    if (rss > acc->rss_mib)
        acc->rss_mib = rss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs argv, waits, adds wall/CPU/RSS to *acc. Returns the exit status. */
static int run_cmd(char *const argv[], struct sample *acc)
{
    if (spawn_req < 0)
        return run_direct(argv, acc);
    char buf[65536];
    uint32_t len = 0;
    for (int i = 0; argv[i]; i++) {
        size_t l = strlen(argv[i]) + 1;
        if (len + l > sizeof buf)
            return -1;
        memcpy(buf + len, argv[i], l);
        len += (uint32_t)l;
    }
    struct spawn_reply r;
    uint32_t hdr[2] = {len, trace_cmds ? 1u : 0u};
    if (write(spawn_req, hdr, sizeof hdr) != sizeof hdr || write(spawn_req, buf, len) != (ssize_t)len ||
        read(spawn_rep, &r, sizeof r) != sizeof r)
        return -1;
    if (r.husk_rss_mib > acc->husk_rss_mib)
        acc->husk_rss_mib = r.husk_rss_mib;
    acc->wall_ms += r.wall_ms;
    acc->cpu_ms += r.cpu_ms;
    if (r.rss_mib > acc->rss_mib)
        acc->rss_mib = r.rss_mib;
    return r.status;
}

static int rt_argv(const struct runtime *rt, char **argv, const char *cmd)
{
    int n = 0;
    argv[n++] = (char *)rt->path;
    if (rt->extra)
        argv[n++] = (char *)rt->extra;
    argv[n++] = "--root";
    argv[n++] = (char *)rt->root;
    argv[n++] = (char *)cmd;
    return n;
}

/* The floor's kernel work from this process: clone into the same namespaces, pivot_root,
 * exec, wait. */
static int clone_run(struct sample *acc)
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
    acc->rss_mib = -1;   /* a copy of the benchmark until its exec: not the workload's */
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* What the floor and clone rows do in every case: one container of /bin/true. */
static int floor_run(const struct runtime *rt, struct sample *acc)
{
    if (rt->kind == CLONE)
        return clone_run(acc);
    char root[320];
    snprintf(root, sizeof root, "%s/rootfs", bundle);
    if (rt->kind == FLOOR_RT) {
        char config[320];
        snprintf(config, sizeof config, "%s/config.json", dflt);
        char *rargv[] = {(char *)rt->path, "--default", "--runtime", (char *)rt->root, config, root, "/bin/true", NULL};
        return run_cmd(rargv, acc);
    }
    char *argv[] = {(char *)rt->path, root, "/bin/true", NULL};
    char *dargv[] = {(char *)rt->path, "--default", root, "/bin/true", NULL};
    if (floor_plan) {
        char *pargv[] = {(char *)rt->path, "--plan", (char *)floor_plan, "--seccomp", floor_seccomp, root, "/bin/true", NULL};
        if (!floor_seccomp[0])   /* no program found: the rest of the work only */
            memmove(pargv + 3, pargv + 5, 3 * sizeof *pargv);
        return run_cmd(pargv, acc);
    }
    return run_cmd(floor_default ? dargv : argv, acc);
}

static int run_bundle(struct runtime *rt, int i, struct sample *out, const char *b, const char *tag)
{
    if (rt->kind != RUNTIME)
        return floor_run(rt, out);
    char id[64], *argv[16];
    snprintf(id, sizeof id, "bench-%s-%d", tag, i);
    int n = rt_argv(rt, argv, "run");
    argv[n++] = "--bundle";
    argv[n++] = (char *)b;
    argv[n++] = id;
    argv[n] = NULL;
    return run_cmd(argv, out);
}

static int case_run(struct runtime *rt, int i, struct sample *out)
{
    return run_bundle(rt, i, out, bundle, "run");
}

/* `husk spec`'s config (runc's default): six namespaces, seven mounts, ten masked and five
 * read-only paths, a read-only rootfs; its floor is `floor --default` (bench/floor.c). */
static int case_default(struct runtime *rt, int i, struct sample *out)
{
    floor_default = true;
    int r = run_bundle(rt, i, out, dflt, "default");
    floor_default = false;
    return r;
}

/* The seccomp cache entries husk has beside its root (src/runtime/state.c), as a list of
 * names, so that the one the engine case's first run adds can be found. */
static int cache_names(const struct runtime *husk, char names[][80], int max)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s-cache/seccomp", husk->root);
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) && n < max;)
        if (e->d_name[0] != '.')
            snprintf(names[n++], 80, "%.79s", e->d_name);
    if (d)
        closedir(d);
    return n;
}

static int case_engine(struct runtime *rt, int i, struct sample *out, const char *b, const char *tag)
{
    char plan[400];
    snprintf(plan, sizeof plan, "%s/floor.plan", b);
    if (rt->kind == FLOOR) {
        floor_plan = plan;
        int r = floor_run(rt, out);
        floor_plan = NULL;
        return r;
    }
    static char before[64][80];
    int nb = 0;
    /* the case's first run of husk (its traced run, or iteration 0) builds the program */
    bool first = i == 0 && !strcmp(rt->name, "husk") && !floor_seccomp[0];
    if (first)
        nb = cache_names(rt, before, 64);
    int r = run_bundle(rt, i, out, b, tag);
    if (first) {
        char after[64][80];
        int na = cache_names(rt, after, 64);
        for (int k = 0; k < na; k++) {
            bool old = false;
            for (int j = 0; j < nb && !old; j++)
                old = !strcmp(after[k], before[j]);
            if (!old)
                snprintf(floor_seccomp, sizeof floor_seccomp, "%.500s-cache/seccomp/%.79s", rt->root, after[k]);
        }
        if (getenv("BENCH_VERBOSE"))
            fprintf(stderr, "bench: %s: the floor loads seccomp program `%s`\n", tag, floor_seccomp);
    }
    return r;
}

static int case_docker(struct runtime *rt, int i, struct sample *out)
{
    return case_engine(rt, i, out, docker_b, "docker");
}

static int case_podman(struct runtime *rt, int i, struct sample *out)
{
    return case_engine(rt, i, out, podman_b, "podman");
}

/* A copy of the file, with root.path "rootfs" made the shared rootfs (runc refuses a symlink)
 * and linux.resources.pids out of the way: the benchmark's cgroup2 view has no pids
 * controller (hugetlb only), and a limit that cannot be applied fails husk's create. */
static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "r"), *o = in ? fopen(to, "w") : NULL;
    char line[8192];
    while (o && fgets(line, sizeof line, in)) {
        char *p = strstr(line, "\"path\": \"rootfs\""), *pids = strstr(line, "\"pids\": {");
        if (pids) {
            *pids = '\0';
            fprintf(o, "%s\"x-bench-no-pids\": {%s", line, pids + strlen("\"pids\": {"));
        } else if (p) {
            *p = '\0';
            fprintf(o, "%s\"path\": \"%s/rootfs\"%s", line, bundle, p + strlen("\"path\": \"rootfs\""));
        } else {
            fputs(line, o);
        }
    }
    if (in)
        fclose(in);
    return o && fclose(o) == 0 ? 0 : -1;
}

/* bench/configs/NAME.json as a bundle: the shared rootfs its root, the files its bind mounts
 * name (files/X) made, the floor's plan beside them. */
static int make_engine_bundle(const char *repo, const char *name, char *dir, size_t n)
{
    snprintf(dir, n, "%s/%s", workdir, name);
    char from[700], to[700];
    snprintf(to, sizeof to, "%s/files", dir);
    if (mkdir(dir, 0755) < 0 || mkdir(to, 0755) < 0)
        return -1;
    snprintf(from, sizeof from, "%s/bench/configs/%s.json", repo, name);
    snprintf(to, sizeof to, "%s/config.json", dir);
    if (copy_file(from, to) < 0)
        return -1;
    snprintf(from, sizeof from, "%s/bench/configs/%s.floor", repo, name);
    snprintf(to, sizeof to, "%s/floor.plan", dir);
    if (copy_file(from, to) < 0)
        return -1;
    static const struct { const char *name, *text; } files[] = {
        {"hosts", "127.0.0.1\tlocalhost\n"}, {"hostname", "bench\n"}, {"resolv.conf", "nameserver 127.0.0.1\n"},
        {"containerenv", "engine=\"podman\"\n"},
    };
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        snprintf(to, sizeof to, "%s/files/%s", dir, files[k].name);
        FILE *f = fopen(to, "w");
        if (!f || fputs(files[k].text, f) < 0 || fclose(f) != 0)
            return -1;
    }
    snprintf(to, sizeof to, "%s/files/shm", dir);
    return mkdir(to, 01777);
}

/* `husk spec`'s output with /bin/true as its process, no terminal, the shared rootfs. */
static int make_default_bundle(const char *husk)
{
    char cmd[8400], path[400];
    snprintf(cmd, sizeof cmd, "%s spec --bundle %s", husk, dflt);
    if (system(cmd) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/config.json", dflt);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    static char in[65536], out[70000];
    size_t n = fread(in, 1, sizeof in - 1, f);
    fclose(f);
    in[n] = '\0';
    char rootfs[400];
    snprintf(rootfs, sizeof rootfs, "\"path\": \"%s/rootfs\"", bundle);
    /* crun 1.8 refuses ociVersion 1.3.0 ("unknown version specified"); nothing in the
     * default config is newer than 1.0 */
    const char *from[] = {"\"terminal\": true", "\"sh\"", "\"path\": \"rootfs\"", "\"ociVersion\": \"1.3.0\""};
    const char *to[] = {"\"terminal\": false", "\"/bin/true\"", rootfs, "\"ociVersion\": \"1.0.2\""};
    size_t o = 0;
    for (const char *p = in; *p && o < sizeof out - 512;) {
        size_t k;
        for (k = 0; k < 4; k++)
            if (strncmp(p, from[k], strlen(from[k])) == 0)
                break;
        if (k < 4) {
            o += (size_t)snprintf(out + o, sizeof out - o, "%s", to[k]);
            p += strlen(from[k]);
        } else {
            out[o++] = *p++;
        }
    }
    f = fopen(path, "w");
    if (!f)
        return -1;
    fwrite(out, 1, o, f);
    return fclose(f);
}

/* 100 mounts, 1000 environment entries and a 300-rule seccomp profile. */
static int case_heavy(struct runtime *rt, int i, struct sample *out)
{
    return run_bundle(rt, i, out, heavy, "heavy");
}

static int case_exec(struct runtime *rt, int i, struct sample *out)
{
    (void)i;
    if (rt->kind != RUNTIME)
        return floor_run(rt, out);
    char *argv[16], id[64];
    snprintf(id, sizeof id, "bench-sleeper-%s", rt->name);
    int n = rt_argv(rt, argv, "exec");
    argv[n++] = id;
    argv[n++] = "/bin/true";
    argv[n] = NULL;
    return run_cmd(argv, out);
}

/* `state` of one container among `many` under the same --root. */
static int case_state(struct runtime *rt, int i, struct sample *out)
{
    if (rt->kind != RUNTIME)
        return floor_run(rt, out);
    char *argv[16], id[64];
    snprintf(id, sizeof id, "bench-many-%s-%d", rt->name, i % many);
    int n = rt_argv(rt, argv, "state");
    argv[n++] = id;
    argv[n] = NULL;
    return run_cmd(argv, out);
}

static int case_list(struct runtime *rt, int i, struct sample *out)
{
    (void)i;
    if (rt->kind != RUNTIME)
        return floor_run(rt, out);
    char *argv[16];
    int n = rt_argv(rt, argv, "list");
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
    if (rt->kind != RUNTIME)
        return floor_run(rt, out);
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

/* "," before every top-level entry of the JSON but the first (a partial run, --only, may skip any) */
static bool json_open;
static const char *json_comma(void)
{
    const char *c = json_open ? "," : "";
    json_open = true;
    return c;
}

static void report(const char *title, struct runtime *rts, int nrt, FILE *json)
{
    printf("\n%s (%d iterations, interleaved)\n", title, iterations);
    printf("  %-7s %9s %9s %9s %9s %9s %9s %12s\n", "runtime", "median", "p10", "p90", "cpu", "peak RSS", "husk RSS",
           "vs husk");
    fprintf(json, "%s\n  \"%s\": {", json_comma(), title);
    struct runtime *husk = &rts[0];
    for (int r = 0; r < nrt; r++) {
        struct runtime *rt = &rts[r];
        if (rt->kind == FLOOR_RT && rt->ok && rt->n == 0)
            continue;   /* runs in the default-config case only */
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
        char rss_s[32] = "       -   ", rss_j[32] = "null", own_s[32] = "       -   ", own_j[32] = "null";
        if (rt->kind != CLONE) {
            snprintf(rss_s, sizeof rss_s, "%7.2fMiB", rss);
            snprintf(rss_j, sizeof rss_j, "%.3f", rss);
        }
        if (rt->husk_rss >= 0) {
            snprintf(own_s, sizeof own_s, "%7.2fMiB", rt->husk_rss);
            snprintf(own_j, sizeof own_j, "%.3f", rt->husk_rss);
        }
        printf("  %-7s %7.2fms %7.2fms %7.2fms %7.2fms %s %s %11.2fx\n", rt->name, med, p10, p90, cmed, rss_s, own_s,
               rmed);
        fprintf(json, "%s\n    \"%s\": {\"median_ms\": %.3f, \"p10_ms\": %.3f, \"p90_ms\": %.3f, \"cpu_ms\": %.3f, "
                      "\"peak_rss_mib\": %s, \"husk_rss_mib\": %s, \"ratio_to_husk\": %.3f}",
                r ? "," : "", rt->name, med, p10, p90, cmed, rss_j, own_j, rmed);
    }
    /* husk − floor, iteration by iteration: what husk costs beyond the same kernel work */
    for (int r = 0; r < nrt; r++) {
        if ((rts[r].kind != FLOOR && rts[r].kind != FLOOR_RT) || !rts[r].ok || !husk->ok || !rts[r].n || !husk->n)
            continue;
        double d[MAX_ITER];
        int nd = 0;
        for (int i = 0; i < husk->n && i < rts[r].n; i++)
            d[nd++] = husk->s[i].wall_ms - rts[r].s[i].wall_ms;
        if (nd)
            printf("  husk - %s: %.2fms (median of the per-iteration differences)\n", rts[r].name, pct(d, nd, 0.5));
    }
    /* --compare on a loaded machine: wall time moves with the other jobs, CPU time much less;
     * the mean CPU per run of both builds decides what wall-clock medians cannot */
    for (int r = 1; r < nrt; r++) {
        if (strcmp(rts[r].name, "base") || !rts[r].ok || !husk->ok || !rts[r].n || !husk->n)
            continue;
        double sum[2] = {0, 0}, sq[2] = {0, 0};
        int n = husk->n < rts[r].n ? husk->n : rts[r].n;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 2; k++) {
                double v = (k ? rts[r].s[i] : husk->s[i]).cpu_ms;
                sum[k] += v;
                sq[k] += v * v;
            }
        double m[2], se[2];
        for (int k = 0; k < 2; k++) {
            m[k] = sum[k] / n;
            se[k] = n > 1 ? sqrt((sq[k] / n - m[k] * m[k]) / (n - 1)) : 0;
        }
        printf("  cpu mean: husk %.3fms +- %.3f, base %.3fms +- %.3f: husk/base %.3f\n", m[0], se[0], m[1], se[1],
               m[0] / m[1]);
    }
    fprintf(json, "\n  }");
}

/* Names for the heavy profile's rules: runtimes skip names unknown to them. */
static const char *syscall_name(int i)
{
    static const char *const names[] = {
        "read", "write", "open", "close", "stat", "fstat", "lstat", "poll", "lseek", "mmap", "mprotect", "munmap",
        "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "pread64", "pwrite64", "readv", "writev",
        "access", "pipe", "select", "sched_yield", "mremap", "msync", "mincore", "madvise", "dup", "dup2", "pause",
        "nanosleep", "getitimer", "alarm", "setitimer", "getpid", "sendfile", "socket", "connect", "accept",
        "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown", "bind", "listen", "getsockname", "getpeername",
        "socketpair", "setsockopt", "getsockopt", "clone", "fork", "vfork", "execve", "exit", "wait4", "kill",
        "uname", "fcntl", "flock", "fsync", "fdatasync", "truncate", "ftruncate", "getdents", "getcwd", "chdir",
        "fchdir", "rename", "mkdir", "rmdir", "creat", "link", "unlink", "symlink", "readlink", "chmod", "fchmod",
        "chown", "fchown", "lchown", "umask", "gettimeofday", "getrlimit", "getrusage", "sysinfo", "times",
        "getuid", "getgid", "setuid", "setgid", "geteuid", "getegid", "setpgid", "getppid", "getpgrp", "setsid",
        "setreuid", "setregid", "getgroups", "setgroups", "setresuid", "getresuid", "setresgid", "getresgid",
        "getpgid", "setfsuid", "setfsgid", "getsid", "capget", "capset", "rt_sigpending", "rt_sigtimedwait",
        "rt_sigqueueinfo", "rt_sigsuspend", "sigaltstack", "utime", "mknod", "personality", "statfs", "fstatfs",
        "getpriority", "setpriority", "sched_setparam", "sched_getparam", "sched_setscheduler",
        "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
        "mlock", "munlock", "mlockall", "munlockall", "prctl", "arch_prctl", "setrlimit", "sync", "gettid",
        "readahead", "setxattr", "lsetxattr", "fsetxattr", "getxattr", "lgetxattr", "fgetxattr", "listxattr",
        "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr", "tkill", "time", "futex",
        "sched_setaffinity", "sched_getaffinity", "io_setup", "io_destroy", "io_getevents", "io_submit",
        "io_cancel", "epoll_create", "getdents64", "set_tid_address", "restart_syscall", "semtimedop",
        "fadvise64", "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
        "clock_gettime", "clock_getres", "clock_nanosleep", "exit_group", "epoll_wait", "epoll_ctl", "tgkill",
        "utimes", "mbind", "set_mempolicy", "get_mempolicy", "mq_open", "mq_unlink", "mq_timedsend",
        "mq_timedreceive", "mq_notify", "mq_getsetattr", "waitid", "inotify_init", "inotify_add_watch",
        "inotify_rm_watch", "openat", "mkdirat", "mknodat", "fchownat", "futimesat", "newfstatat", "unlinkat",
        "renameat", "linkat", "symlinkat", "readlinkat", "fchmodat", "faccessat", "pselect6", "ppoll",
        "set_robust_list", "get_robust_list", "splice", "tee", "sync_file_range", "vmsplice", "utimensat",
        "epoll_pwait", "signalfd", "timerfd_create", "eventfd", "fallocate", "timerfd_settime",
        "timerfd_gettime", "accept4", "signalfd4", "eventfd2", "epoll_create1", "dup3", "pipe2",
        "inotify_init1", "preadv", "pwritev", "rt_tgsigqueueinfo", "recvmmsg", "prlimit64", "syncfs",
        "sendmmsg", "setns", "getcpu", "process_vm_readv", "process_vm_writev", "sched_setattr",
        "sched_getattr", "renameat2", "getrandom", "memfd_create", "execveat", "membarrier", "mlock2",
        "copy_file_range", "preadv2", "pwritev2", "pkey_mprotect", "pkey_alloc", "pkey_free", "statx",
        "rseq", "io_pgetevents", "pidfd_send_signal", "io_uring_setup", "io_uring_enter",
        "io_uring_register", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
        "pidfd_open", "clone3", "close_range", "openat2", "pidfd_getfd", "faccessat2", "process_madvise",
        "epoll_pwait2", "mount_setattr", "landlock_create_ruleset", "landlock_add_rule",
        "landlock_restrict_self", "memfd_secret", "process_mrelease", "futex_waitv", "set_mempolicy_home_node",
        "cachestat", "fchmodat2", "map_shadow_stack", "futex_wake", "futex_wait", "futex_requeue",
        "statmount", "listmount", "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules", "mseal",
        "umount2", "mount", "pivot_root", "chroot", "sethostname", "setdomainname", "keyctl", "add_key",
        "request_key", "seccomp", "bpf", "perf_event_open", "userfaultfd", "iopl", "ioperm",
    };
    return names[i % (int)(sizeof names / sizeof *names)];
}

/* dir/config.json opened for writing, or NULL */
static FILE *open_config(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", dir);
    return fopen(path, "w");
}

static int make_bundle(const char *repo)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "sh %s/scripts/mkrootfs.sh %s/rootfs >/dev/null", repo, bundle);
    if (system(cmd) != 0)
        return -1;
    FILE *f = open_config(bundle);
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
    if (fclose(f) != 0)
        return -1;
    /* the heavy bundle shares the rootfs */
    f = open_config(heavy);
    if (!f)
        return -1;
    fprintf(f, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s/rootfs\"},\"process\":{\"args\":[\"/bin/true\"],"
               "\"cwd\":\"/\",\"noNewPrivileges\":true,\"env\":[\"PATH=/bin\"", bundle);
    for (int i = 0; i < 1000; i++)
        fprintf(f, ",\"VAR%d=value-%d\"", i, i);
    fprintf(f, "]},\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
               "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\"]}");
    for (int i = 0; i < 98; i++)
        fprintf(f, ",{\"destination\":\"/tmp/m%d\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"nodev\",\"size=1m\"]}", i);
    fprintf(f, "],\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"ipc\"}],"
               "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[");
    /* an allow list in the shape of Docker's default profile: one rule per syscall */
    for (int nr = 0; nr < 300; nr++)
        fprintf(f, "%s{\"names\":[\"%s\"],\"action\":\"SCMP_ACT_ALLOW\"}", nr ? "," : "", syscall_name(nr));
    fprintf(f, "]}}}\n");
    if (fclose(f) != 0)
        return -1;
    f = open_config(sleeper);
    if (!f)
        return -1;
    fprintf(f, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s/rootfs\"},\"process\":{\"args\":[\"/bin/sleep\",\"600\"],"
               "\"cwd\":\"/\",\"env\":[\"PATH=/bin\"]},\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
               "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"ipc\"}]}}\n", bundle);
    return fclose(f);
}

/* Starts `count` sleeping containers named PREFIX-N for a runtime (outside the timings). */
static void start_sleepers(struct runtime *rt, const char *prefix, int count)
{
    for (int i = 0; i < count; i++) {
        char id[96], *argv[16];
        struct sample ignored = {0};
        snprintf(id, sizeof id, prefix, rt->name, i);
        int n = rt_argv(rt, argv, "run");
        argv[n++] = "--detach";
        argv[n++] = "--bundle";
        argv[n++] = sleeper;
        argv[n++] = id;
        argv[n] = NULL;
        run_cmd(argv, &ignored);
    }
}

static void remove_all(struct runtime *rt)
{
    char *argv[16];
    int n = rt_argv(rt, argv, "list");
    argv[n++] = "-q";
    argv[n] = NULL;
    int p[2];
    if (pipe(p) < 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    FILE *in = fdopen(p[0], "r");
    char line[256];
    while (in && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0])
            continue;
        char *dargv[16];
        struct sample ignored = {0};
        int k = rt_argv(rt, dargv, "delete");
        dargv[k++] = "--force";
        dargv[k++] = line;
        dargv[k] = NULL;
        if (run_cmd(dargv, &ignored) != 0 || getenv("BENCH_VERBOSE"))
            fprintf(stderr, "bench: %s delete --force %s\n", rt->name, line);
    }
    if (in)
        fclose(in);
    waitpid(pid, NULL, 0);
}

/* N workers each running containers back to back for `secs`: runs per second. */
static double throughput(struct runtime *rt, int workers, double secs, const char *dir)
{
    int p[2];
    if (pipe(p) < 0)
        return 0;
    double t0 = now_ms();
    pid_t pids[64];
    int started = 0;
    for (int w = 0; w < workers && w < 64; w++) {
        pid_t pid = fork();
        if (pid > 0)
            pids[started++] = pid;
        if (pid == 0) {
            close(p[0]);
            spawn_req = spawn_rep = -1;   /* the launcher serves the main process only */
            int done = 0;
            while (now_ms() - t0 < secs * 1000) {
                struct sample s = {0};
                if (run_bundle(rt, w * 100000 + done, &s, dir, "tp") == 0)
                    done++;
            }
            (void)!write(p[1], &done, sizeof done);
            _exit(0);
        }
    }
    close(p[1]);
    int total = 0, d;
    while (read(p[0], &d, sizeof d) == sizeof d)
        total += d;
    close(p[0]);
    /* only the workers: the launcher is a child too, and stays */
    for (int w = 0; w < started; w++)
        waitpid(pids[w], NULL, 0);
    return total / ((now_ms() - t0) / 1000.0);
}

/* A config for `husk run` with `count` mounts, env entries or seccomp rules (what = m, e, s). */
static void scaled_config(const char *dir, char what, int count)
{
    FILE *f = open_config(dir);
    if (!f)
        return;
    fprintf(f, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s/rootfs\"},\"process\":{\"args\":[\"/bin/true\"],"
               "\"cwd\":\"/\",\"noNewPrivileges\":true,\"env\":[\"PATH=/bin\"", bundle);
    for (int i = 0; what == 'e' && i < count; i++)
        fprintf(f, ",\"VAR%d=value-%d\"", i, i);
    fprintf(f, "]},\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}");
    for (int i = 0; what == 'm' && i < count; i++)
        fprintf(f, ",{\"destination\":\"/tmp/m%d\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"size=64k\"]}", i);
    fprintf(f, "],\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"}]");
    if (what == 's') {
        fprintf(f, ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[");
        for (int i = 0; i < count; i++)
            fprintf(f, "%s{\"names\":[\"%s\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":%d,\"op\":\"SCMP_CMP_EQ\"}]}",
                    i ? "," : "", syscall_name(i % 20 + 300), 1000000 + i);
        fprintf(f, "]}");
    }
    fprintf(f, "}}\n");
    fclose(f);
}

/* husk alone: how cost grows with mounts, env entries, seccomp rules and containers under one
 * --root (1, 10, 100, 1000). */
static void scaling(struct runtime *husk, FILE *json)
{
    static const int counts[] = {1, 10, 100, 1000};
    static const char whats[] = {'m', 'e', 's'};
    static const char *const names[] = {"mounts", "env entries", "seccomp rules"};
    char dir[400];
    snprintf(dir, sizeof dir, "%s/scaled", workdir);
    mkdir(dir, 0755);
    int reps = iterations < 10 ? iterations : 10;
    printf("\nscaling (husk, median of %d; ms)\n  %-22s %9s %9s %9s %9s\n", reps, "N =", "1", "10", "100", "1000");
    fprintf(json, "%s\n  \"scaling_ms\": {", json_comma());
    /* containers accumulate across both container rows: `have` is shared */
    int have = 0;
    double rows[2][4] = {{0}};
    for (int w = 0; w < 5; w++) {
        const char *label = w < 3 ? names[w] : w == 3 ? "state, N containers" : "list, N containers";
        if (w == 4) {
            /* measured together with state, at each N */
            printf("  %-22s", label);
            fprintf(json, ",\n    \"%s\": [", label);
            for (int k = 0; k < 4; k++) {
                printf(" %9.2f", rows[1][k]);
                fprintf(json, "%s%.3f", k ? ", " : "", rows[1][k]);
            }
            fprintf(json, "]");
            printf("\n");
            continue;
        }
        printf("  %-22s", label);
        fprintf(json, "%s\n    \"%s\": [", w ? "," : "", label);
        for (int k = 0; k < 4; k++) {
            double v[64];
            int n = 0;
            if (w < 3)
                scaled_config(dir, whats[w], counts[k]);
            else
                for (; have < counts[k]; have++) {
                    char id[96], *argv[16];
                    struct sample ig = {0};
                    snprintf(id, sizeof id, "scale-%d", have);
                    int a = rt_argv(husk, argv, "run");
                    argv[a++] = "--detach";
                    argv[a++] = "--bundle";
                    argv[a++] = sleeper;
                    argv[a++] = id;
                    argv[a] = NULL;
                    run_cmd(argv, &ig);
                }
            for (int r = 0; r < reps; r++) {
                struct sample smp = {0};
                char *argv[16], id[64];
                int a;
                if (w < 3) {
                    snprintf(id, sizeof id, "scaled-%c%d-%d", whats[w], k, r);
                    a = rt_argv(husk, argv, "run");
                    argv[a++] = "--bundle";
                    argv[a++] = dir;
                    argv[a++] = id;
                } else {
                    snprintf(id, sizeof id, "scale-%d", r % have);
                    a = rt_argv(husk, argv, "state");
                    argv[a++] = id;
                }
                argv[a] = NULL;
                if (run_cmd(argv, &smp) == 0)
                    v[n++] = smp.wall_ms;
            }
            if (w == 3) {
                double lv[64];
                int ln = 0;
                for (int r = 0; r < reps; r++) {
                    struct sample smp = {0};
                    char *argv[16];
                    int a = rt_argv(husk, argv, "list");
                    argv[a] = NULL;
                    if (run_cmd(argv, &smp) == 0)
                        lv[ln++] = smp.wall_ms;
                }
                rows[1][k] = ln ? pct(lv, ln, 0.5) : 0;
            }
            double med = n ? pct(v, n, 0.5) : 0;
            printf(" %9.2f", med);
            fprintf(json, "%s%.3f", k ? ", " : "", med);
        }
        fprintf(json, "]");
        printf("\n");
    }
    /* husk keeps built seccomp programs beside its root: the rows above reuse them, this one
     * starts each run without (what the first container of a profile costs) */
    printf("  %-22s", "seccomp rules, cold");
    fprintf(json, ",\n    \"seccomp rules, cold\": [");
    for (int k = 0; k < 4; k++) {
        double v[64];
        int n = 0;
        scaled_config(dir, 's', counts[k]);
        for (int r = 0; r < reps; r++) {
            char cmd[600], id[64], *argv[16];
            snprintf(cmd, sizeof cmd, "rm -rf %s/husk-cache/seccomp", rootdir);
            if (system(cmd) != 0)
                continue;
            snprintf(id, sizeof id, "scaled-cold%d-%d", k, r);
            int a = rt_argv(husk, argv, "run");
            argv[a++] = "--bundle";
            argv[a++] = dir;
            argv[a++] = id;
            argv[a] = NULL;
            struct sample smp = {0};
            if (run_cmd(argv, &smp) == 0)
                v[n++] = smp.wall_ms;
        }
        double med = n ? pct(v, n, 0.5) : 0;
        printf(" %9.2f", med);
        fprintf(json, "%s%.3f", k ? ", " : "", med);
    }
    fprintf(json, "]");
    printf("\n");
    fprintf(json, "\n  }");
    remove_all(husk);
}

/* Hostile sizes: a config of 1M annotations (they live on in the state, which state, list and
 * kill read again) and one of 1M env entries. One run of each command, not interleaved: the
 * point is growth that stays linear, not a fine difference. 1M env is husk's alone: runc took
 * over 5 minutes to create it (bench/README.md). Part of --scaling, not of make check's run. */
static void huge(struct runtime *rts, int nrt, FILE *json)
{
    static const char *const cmds[] = {"create", "state", "list", "kill", "delete"};
    char dir[400];
    snprintf(dir, sizeof dir, "%s/huge", workdir);
    mkdir(dir, 0755);
    printf("\nhuge configs (one run each; ms)\n  %-28s", "config, runtime");
    for (int c = 0; c < 5; c++)
        printf(" %9s", cmds[c]);
    printf("\n");
    fprintf(json, "%s\n  \"huge_ms\": {", json_comma());
    bool first = true;
    for (int w = 0; w < 2; w++) {
        FILE *f = open_config(dir);
        if (!f)
            return;
        fprintf(f, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s/rootfs\"},\"process\":{\"args\":[\"/bin/sleep\","
                   "\"600\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"", bundle);
        for (int i = 0; w == 1 && i < 1000000; i++)
            fprintf(f, ",\"VAR%d=v\"", i);
        fprintf(f, "]},\"annotations\":{\"a\":\"b\"");
        for (int i = 0; w == 0 && i < 1000000; i++)
            fprintf(f, ",\"org.example.key%d\":\"v\"", i);
        fprintf(f, "},\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
                   "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"}]}}\n");
        if (fclose(f) != 0)
            return;
        const char *what = w == 0 ? "1M annotations" : "1M env entries";
        for (int r = 0; r < nrt; r++) {
            if (rts[r].kind != RUNTIME || !rts[r].ok || (w == 1 && strcmp(rts[r].name, "husk") &&
                                                         strcmp(rts[r].name, "base")))
                continue;
            printf("  %-16s%-12s", what, rts[r].name);
            fprintf(json, "%s\n    \"%s, %s\": [", first ? "" : ",", what, rts[r].name);
            first = false;
            for (int c = 0; c < 5; c++) {
                char *argv[16];
                int a = rt_argv(&rts[r], argv, cmds[c]);
                if (c == 0) {
                    argv[a++] = "--bundle";
                    argv[a++] = dir;
                }
                if (c == 4)
                    argv[a++] = "--force";
                if (c != 2)
                    argv[a++] = "huge";
                if (c == 3)
                    argv[a++] = "KILL";
                argv[a] = NULL;
                struct sample smp = {0};
                double ms = run_cmd(argv, &smp) == 0 ? smp.wall_ms : -1;
                printf(" %9.1f", ms);
                fprintf(json, "%s%.1f", c ? ", " : "", ms);
            }
            fprintf(json, "]");
            printf("\n");
        }
    }
    fprintf(json, "\n  }");
}

/* --only SUBSTRING: the cases whose title contains it ("throughput" for all the throughput rows,
 * "throughput 10 dflt" for one) */
static const char *only;

int main(int argc, char **argv)
{
    const char *husk = getenv("HUSK") ? getenv("HUSK") : "./husk";
    const char *repo = getenv("REPO") ? getenv("REPO") : ".";
    const char *json_out = "bench/results.json";
    /* --compare PATH: another husk build, as "base", to measure a change against */
    const char *compare = NULL;
    /* --runtimes husk,base,...: only these rows (comma-separated names) */
    const char *runtimes = NULL;
    char floor_prog[4096];
    snprintf(floor_prog, sizeof floor_prog, "%s/bench/floor", repo);
    if (getenv("FLOOR"))
        snprintf(floor_prog, sizeof floor_prog, "%s", getenv("FLOOR"));
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
            iterations = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json_out = argv[++i];
        else if (!strcmp(argv[i], "--containers") && i + 1 < argc)
            many = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--scaling"))
            do_scaling = true;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--compare") && i + 1 < argc)
            compare = argv[++i];
        else if (!strcmp(argv[i], "--runtimes") && i + 1 < argc)
            runtimes = argv[++i];
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
    snprintf(heavy, sizeof heavy, "%s/heavy", workdir);
    snprintf(sleeper, sizeof sleeper, "%s/sleeper", workdir);
    snprintf(dflt, sizeof dflt, "%s/default", workdir);
    /* engines keep runtime state in /run, a tmpfs: so does every runtime here */
    if (mkdir(rootdir, 0700) < 0 || mount("tmpfs", rootdir, "tmpfs", 0, "mode=700") < 0) {
        perror("bench: tmpfs for the state roots");
        return 1;
    }
    mkdir(bundle, 0755);
    mkdir(heavy, 0755);
    mkdir(sleeper, 0755);
    mkdir(dflt, 0755);
    if (many < 1)
        many = 1;
    if (make_bundle(repo) < 0) {
        fprintf(stderr, "bench: cannot make the bundle\n");
        return 1;
    }
    char husk_abs[4096];
    if (!realpath(husk, husk_abs)) {
        fprintf(stderr, "bench: %s: %s\n", husk, strerror(errno));
        return 1;
    }
    if (make_default_bundle(husk_abs) < 0) {
        fprintf(stderr, "bench: cannot make the default-config bundle\n");
        return 1;
    }
    if (make_engine_bundle(repo, "docker", docker_b, sizeof docker_b) < 0 ||
        make_engine_bundle(repo, "podman", podman_b, sizeof podman_b) < 0) {
        fprintf(stderr, "bench: cannot make the engine-config bundles from bench/configs\n");
        return 1;
    }
    struct runtime *rts = calloc(MAX_RT, sizeof *rts);
    int nrt = 0;
    rts[nrt++] = (struct runtime){.name = "husk", .path = husk_abs};
    if (compare)
        rts[nrt++] = (struct runtime){.name = "base", .path = compare};
    rts[nrt++] = (struct runtime){.name = "runc", .path = "/usr/sbin/runc"};
    rts[nrt++] = (struct runtime){.name = "crun", .path = "/usr/bin/crun", .extra = "--cgroup-manager=disabled"};
    rts[nrt++] = (struct runtime){.name = "floor", .path = floor_prog, .kind = FLOOR};
    rts[nrt++] = (struct runtime){.name = "rtfloor", .path = floor_prog, .kind = FLOOR_RT};
    rts[nrt++] = (struct runtime){.name = "clone", .kind = CLONE};
    for (int r = 0; r < nrt; r++) {
        snprintf(rts[r].root, sizeof rts[r].root, "%s/%s", rootdir, rts[r].name);
        if (rts[r].kind == FLOOR_RT)
            mkdir(rts[r].root, 0700);   /* the runtimes make their own */
        rts[r].ok = !rts[r].path || access(rts[r].path, X_OK) == 0;
    }
    if (runtimes) {
        int kept = 0;
        for (int r = 0; r < nrt; r++) {
            char want[64];
            snprintf(want, sizeof want, ",%s,", rts[r].name);
            char list[256];
            snprintf(list, sizeof list, ",%s,", runtimes);
            /* husk stays first: every ratio is to it */
            if (r == 0 || strstr(list, want))
                rts[kept++] = rts[r];
        }
        nrt = kept;
    }

    char spawn_prog[4096];
    snprintf(spawn_prog, sizeof spawn_prog, "%s/bench/spawn", repo);
    if (access(spawn_prog, X_OK) < 0 || start_spawner(spawn_prog) < 0)
        fprintf(stderr, "bench: no %s: commands fork from the benchmark (peak RSS includes its copy)\n", spawn_prog);
    FILE *json = fopen(json_out, "w");
    if (!json)
        json = fopen("/dev/null", "w");
    fprintf(json, "{");
    struct { const char *title; int (*fn)(struct runtime *, int, struct sample *); } cases[] = {
        {"run /bin/true", case_run},
        {"create+start+wait+delete", case_lifecycle},
        {"run, husk spec's default config", case_default},
        {"run, Docker's config (docker run busybox true)", case_docker},
        {"run, podman's config (podman run busybox true)", case_podman},
        {"run, 100 mounts + 1000 env + 300 seccomp rules", case_heavy},
        {"exec /bin/true into a running container", case_exec},
        {"state, one of N containers under --root", case_state},
        {"list, N containers under --root", case_list},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        if (only && !strstr(cases[c].title, only))
            continue;
        for (int r = 0; r < nrt; r++) {
            rts[r].n = 0;
            if (!rts[r].ok || rts[r].kind != RUNTIME)
                continue;
            if (cases[c].fn == case_exec)
                start_sleepers(&rts[r], "bench-sleeper-%s", 1);
            if (cases[c].fn == case_state)
                start_sleepers(&rts[r], "bench-many-%s-%d", many);
        }
        floor_seccomp[0] = '\0';
        /* husk's own peak RSS: one untimed run of the case under the launcher's ptrace, before
         * the timed ones (so it is the first, uncached seccomp build of an engine profile) */
        for (int r = 0; r < nrt; r++) {
            rts[r].husk_rss = -1;
            if (spawn_req < 0 || !rts[r].ok || rts[r].kind != RUNTIME ||
                (strcmp(rts[r].name, "husk") && strcmp(rts[r].name, "base")))
                continue;
            struct sample s = {0};
            trace_cmds = true;
            if (cases[c].fn(&rts[r], 0, &s) == 0)
                rts[r].husk_rss = s.husk_rss_mib;
            trace_cmds = false;
        }
        for (int i = 0; i < iterations; i++)
            for (int r = 0; r < nrt; r++) {
                /* the clone row is the minimal floor's work only */
                if (!rts[r].ok || ((cases[c].fn == case_default || cases[c].fn == case_docker ||
                                    cases[c].fn == case_podman) && rts[r].kind == CLONE) ||
                    (rts[r].kind == FLOOR_RT && cases[c].fn != case_default))
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
        char title[128];
        snprintf(title, sizeof title, "%s", cases[c].title);
        if (cases[c].fn == case_state || cases[c].fn == case_list)
            snprintf(title, sizeof title, "%.60s (N=%d)", cases[c].title, many);
        report(title, rts, nrt, json);
        if (cases[c].fn == case_list)
            for (int r = 0; r < nrt; r++)
                if (rts[r].kind == RUNTIME)
                    remove_all(&rts[r]);
        for (int r = 0; r < nrt; r++)
            rts[r].ok = !rts[r].path || access(rts[r].path, X_OK) == 0;
    }
    /* throughput: workers running containers back to back; the floor column is what the kernel
     * allows (the minimal floor, `floor --default` on the last row). Rows are "throughput 1",
     * "throughput 2", "throughput 10", "throughput 10 dflt": --only picks them by that title. */
    static const char *const tp_rows[] = {"throughput 1", "throughput 2", "throughput 10", "throughput 10 dflt"};
    bool tp_any = false;
    for (int k = 0; k < 4; k++)
        tp_any |= !only || strstr(tp_rows[k], only) || strstr("throughput", only);
    if (!tp_any)
        goto done;
    double secs = iterations > 1 ? 5.0 : 0.5;
    printf("\nthroughput, containers run per second (%.1fs per measurement)\n  %-7s", secs, "workers");
    /* the last row: 10 workers on husk spec's default config (issue 20's line) */
    int workers[] = {1, 2, 10, 10};
    for (int r = 0; r < nrt; r++)
        if (rts[r].kind != CLONE && rts[r].ok)
            printf(" %9s", rts[r].name);
    printf("\n");
    fprintf(json, "%s\n  \"throughput_per_s\": {", json_comma());
    bool first_row = true;
    for (int k = 0; k < 4; k++) {
        if (only && !strstr(tp_rows[k], only) && !strstr("throughput", only))
            continue;
        printf(k < 3 ? "  %-7d" : "  %d dflt", workers[k]);
        fprintf(json, "%s\n    \"%d%s\": {", first_row ? "" : ",", workers[k], k < 3 ? "" : " default config");
        first_row = false;
        bool first = true;
        for (int r = 0; r < nrt; r++) {
            if (rts[r].kind == CLONE || !rts[r].ok)
                continue;
            if (rts[r].kind == FLOOR_RT && k < 3) {
                printf(" %9s", "-");
                continue;
            }
            floor_default = k == 3;   /* the workers inherit it */
            double tp = throughput(&rts[r], workers[k], secs, k < 3 ? bundle : dflt);
            floor_default = false;
            printf(" %9.1f", tp);
            fprintf(json, "%s\"%s\": %.2f", first ? "" : ", ", rts[r].name, tp);
            first = false;
        }
        fprintf(json, "}");
        printf("\n");
    }
    fprintf(json, "\n  }");
done:
    /* whatever a partial run (--only) left running: the exec case's sleepers outlived it */
    for (int r = 0; r < nrt; r++)
        if (rts[r].ok && rts[r].kind == RUNTIME)
            remove_all(&rts[r]);
    if (do_scaling && rts[0].ok)
        scaling(&rts[0], json);
    if (do_scaling || (only && strstr("huge configs", only)))
        huge(rts, nrt, json);
    fprintf(json, "\n}\n");
    fclose(json);
    if (spawn_req >= 0) {
        close(spawn_req);   /* the launcher exits at the end of its input */
        close(spawn_rep);
        wait(NULL);
    }
    char cmd[600];
    umount2(rootdir, MNT_DETACH);
    snprintf(cmd, sizeof cmd, "rm -rf %s", workdir);
    if (system(cmd) != 0)
        return 1;
    printf("\nfloor: bench/floor, a static program: clone(pid,mnt,uts,ipc) + pivot_root + exec /bin/true + wait.\n"
           "       For husk spec's default config, floor --default: its six namespaces, seven mounts, read-only\n"
           "       rootfs, masked and read-only paths, lo up (bench/floor.c). In the throughput table, the same\n"
           "       floor per container (floor --default on the 10 dflt row): what the kernel allows here.\n"
           "rtfloor: floor --default --runtime, the default config's floor plus what any conforming runtime\n"
           "       must also do for it, each step as cheaply as a program can (config read and scanned, state\n"
           "       under a lock, its cgroup and device filter, cgroup namespace, keyring, hostname, default\n"
           "       devices and links, rlimit, session, user, capabilities, no_new_privs; bench/floor_rt.c).\n"
           "clone: the same clone + pivot_root + exec + wait from the benchmark process, no program of its own.\n");
    return 0;
}
