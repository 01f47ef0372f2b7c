/* Logging: text to stderr ("husk: msg") or JSON lines to --log FILE. */
#ifndef HUSK_LOG_H
#define HUSK_LOG_H

enum husk_log_level { HUSK_LOG_ERROR, HUSK_LOG_WARN, HUSK_LOG_INFO, HUSK_LOG_DEBUG };
enum husk_log_format { HUSK_LOG_TEXT, HUSK_LOG_JSON };

/* path NULL means stderr. Returns -1 with errno set when the file cannot be opened. */
int husk_log_init(const char *path, enum husk_log_format fmt, int debug);
void husk_log(enum husk_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The fd logs go to, so a forked child can keep it open. */
int husk_log_fd(void);

#define husk_error(...) husk_log(HUSK_LOG_ERROR, __VA_ARGS__)
#define husk_warn(...) husk_log(HUSK_LOG_WARN, __VA_ARGS__)
#define husk_info(...) husk_log(HUSK_LOG_INFO, __VA_ARGS__)
#define husk_debug(...) husk_log(HUSK_LOG_DEBUG, __VA_ARGS__)

#endif
