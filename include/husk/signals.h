/* Signal names for `kill`: "9", "KILL", "SIGKILL", "sigkill", "RTMIN+3". */
#ifndef HUSK_SIGNALS_H
#define HUSK_SIGNALS_H

int husk_signal_parse(const char *s);   /* signal number, or -1 */
const char *husk_signal_name(int sig);  /* "TERM", or NULL */

#endif
