/* The systemd driver's floor (bench/systemd-driver.py --floor): only what a driver must do per
 * `run`, with husk's own D-Bus client (src/util/dbus*.c) and nothing of husk around it. Per
 * iteration: a process that waits; a new connection to the system bus whose first write holds
 * the authentication, Hello, the JobRemoved match and StartTransientUnit of a scope with that
 * process (Delegate, no default dependencies), then the answer and the job's JobRemoved; the
 * process ends; a new connection, StopUnit, the answer and the job (or NoSuchUnit: the scope
 * went with its process). Prints "start_us stop_us" per iteration.
 *
 * usage: sd-floor ITERATIONS GAP_MS */
#include "husk/dbus.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEST "org.freedesktop.systemd1"
#define PATH "/org/freedesktop/systemd1"
#define MGR "org.freedesktop.systemd1.Manager"

static long long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static void prop_hdr(struct husk_dbus_buf *b, const char *name, const char *sig)
{
    husk_dbus_struct(b);
    husk_dbus_put_s(b, name);
    husk_dbus_put_v(b, sig);
}

/* JobRemoved of the job at path seen (either order with the answer) */
static char job_done[256], job_want[256];

static void on_signal(void *ctx, struct husk_dbus_msg *m)
{
    (void)ctx;
    if (!m->member || strcmp(m->member, "JobRemoved") || strcmp(m->sig, "uoss"))
        return;
    struct husk_dbus_rd r = m->body;
    husk_dbus_get_u(&r);
    const char *p = husk_dbus_get_s(&r);
    if (p)
        snprintf(job_done, sizeof job_done, "%s", p);
}

/* One job-queuing call on a new connection; 1 when the unit was not there (NoSuchUnit). */
static int job(const char *member, const char *sig, const struct husk_dbus_buf *body)
{
    struct husk_dbus c;
    struct husk_err e = {0};
    if (husk_dbus_open(&c, husk_dbus_system_address(), true, &e) < 0)
        goto fail;
    struct husk_dbus_buf mb = {0};
    husk_dbus_put_s(&mb, "type='signal',sender='" DEST "',path='" PATH "',interface='" MGR "',member='JobRemoved'");
    husk_dbus_call(&c, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", &mb,
                   true);
    husk_dbus_buf_free(&mb);
    uint32_t s = husk_dbus_call(&c, DEST, PATH, MGR, member, sig, body, false);
    long long deadline = husk_dbus_now_ms() + 30000;
    struct husk_dbus_msg m;
    job_done[0] = '\0';
    if (husk_dbus_wait_reply(&c, s, deadline, &m, on_signal, NULL, &e) < 0) {
        if (!strcmp(c.error_name, "org.freedesktop.systemd1.NoSuchUnit")) {
            husk_dbus_close(&c);
            return 1;
        }
        goto fail;
    }
    const char *j = husk_dbus_get_s(&m.body);
    snprintf(job_want, sizeof job_want, "%s", j ? j : "");
    while (strcmp(job_done, job_want)) {
        if (husk_dbus_next(&c, deadline, &m, &e) < 0)
            goto fail;
        if (m.type == HUSK_DBUS_SIGNAL)
            on_signal(NULL, &m);
    }
    husk_dbus_close(&c);
    return 0;
fail:
    fprintf(stderr, "sd-floor: %s: %s\n", member, e.msg);
    exit(1);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    long gap_us = argc > 2 ? (long)(atof(argv[2]) * 1000) : 0;
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe(p) < 0)
            return 1;
        pid_t pid = fork();
        if (pid == 0) {
            char c;
            close(p[1]);
            _exit(read(p[0], &c, 1) < 0);
        }
        close(p[0]);
        char unit[64];
        snprintf(unit, sizeof unit, "floor-%d-%d.scope", (int)getpid(), i);
        struct husk_dbus_buf b = {0};
        husk_dbus_put_s(&b, unit);
        husk_dbus_put_s(&b, "fail");
        struct husk_dbus_arr props = husk_dbus_array_begin(&b, 8);
        prop_hdr(&b, "PIDs", "au");
        struct husk_dbus_arr pids = husk_dbus_array_begin(&b, 4);
        husk_dbus_put_u(&b, (uint32_t)pid);
        husk_dbus_array_end(&b, pids);
        prop_hdr(&b, "Delegate", "b");
        husk_dbus_put_b(&b, true);
        prop_hdr(&b, "DefaultDependencies", "b");
        husk_dbus_put_b(&b, false);
        husk_dbus_array_end(&b, props);
        struct husk_dbus_arr aux = husk_dbus_array_begin(&b, 8);
        husk_dbus_array_end(&b, aux);
        if (gap_us)
            usleep((useconds_t)gap_us);
        long long t0 = now_us();
        job("StartTransientUnit", "ssa(sv)a(sa(sv))", &b);
        long long t1 = now_us();
        close(p[1]);
        waitpid(pid, NULL, 0);
        b.len = 0;
        husk_dbus_put_s(&b, unit);
        husk_dbus_put_s(&b, "replace");
        long long t2 = now_us();
        job("StopUnit", "ss", &b);
        long long t3 = now_us();
        husk_dbus_buf_free(&b);
        printf("%lld %lld\n", t1 - t0, t3 - t2);
    }
    return 0;
}
