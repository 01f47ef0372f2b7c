#include "husk/fileio.h"
#include "husk/log.h"
#include "husk/jsonw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static enum husk_log_format log_format = HUSK_LOG_TEXT;
static int log_debug;

int husk_log_init(const char *path, enum husk_log_format fmt, int debug)
{
    log_format = fmt;
    log_debug = debug;
    if (path && *path) {
        int fd = husk_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return -1;
        log_fd = fd;
    }
    return 0;
}

int husk_log_fd(void)
{
    return log_fd;
}

static const char *level_name(enum husk_log_level lvl)
{
    switch (lvl) {
    case HUSK_LOG_ERROR: return "error";
    case HUSK_LOG_WARN: return "warning";
    case HUSK_LOG_INFO: return "info";
    default: return "debug";
    }
}

void husk_log(enum husk_log_level lvl, const char *fmt, ...)
{
    if (lvl == HUSK_LOG_DEBUG && !log_debug)
        return;
    if (lvl == HUSK_LOG_INFO && !log_debug && log_format == HUSK_LOG_TEXT)
        return;
    int saved = errno;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    if (log_format == HUSK_LOG_JSON) {
        char ts[64];
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec);
        struct husk_jsonw w;
        husk_jsonw_init(&w, 0);
        husk_jsonw_begin_object(&w);
        husk_jsonw_kv_str(&w, "level", level_name(lvl));
        husk_jsonw_kv_str(&w, "msg", msg);
        husk_jsonw_kv_str(&w, "time", ts);
        husk_jsonw_end_object(&w);
        husk_jsonw_raw(&w, "\n");
        if (w.buf)
            (void)!write(log_fd, w.buf, w.len);
        husk_jsonw_free(&w);
    } else {
        char line[4200];
        int n;
        if (lvl == HUSK_LOG_ERROR)
            n = snprintf(line, sizeof line, "husk: %s\n", msg);
        else
            n = snprintf(line, sizeof line, "husk: %s: %s\n", level_name(lvl), msg);
        if (n > (int)sizeof line - 1)
            n = sizeof line - 1;
        (void)!write(log_fd, line, n);
    }
    errno = saved;
}
