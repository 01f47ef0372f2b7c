/* config-linux.md "The Container Process State": the seccomp notify fd goes to
 * listenerPath with a JSON payload, the fd by SCM_RIGHTS in the same sendmsg. */
#include "husk/fdpass.h"
#include "husk/jsonw.h"
#include "seccomp_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int husk_seccomp_forward(const struct husk_config *c, int notify_fd, pid_t pid, const char *state_json,
                         struct husk_err *err)
{
    const char *path = c->linux_.seccomp.listener_path;
    int rc = -1, sock = -1;
    struct husk_jsonw w;
    husk_jsonw_init(&w, 0);
    if (notify_fd < 0)
        return husk_err_set(err, 0, "seccomp: no notify fd was received");
    if (!path || !*path) {
        husk_err_set(err, 0, "seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
        goto out;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        husk_err_set(err, ENAMETOOLONG, "seccomp listener `%s`", path);
        goto out;
    }
    strcpy(sa.sun_path, path);
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof sa) < 0) {
        husk_err_set(err, errno, "seccomp: connect to listener `%s`", path);
        goto out;
    }
    husk_jsonw_begin_object(&w);
    husk_jsonw_kv_str(&w, "ociVersion", "1.3.0");
    husk_jsonw_key(&w, "fds");
    husk_jsonw_begin_array(&w);
    husk_jsonw_str(&w, "seccompFd");
    husk_jsonw_end_array(&w);
    husk_jsonw_kv_int(&w, "pid", pid);
    if (c->linux_.seccomp.listener_metadata)
        husk_jsonw_kv_str(&w, "metadata", c->linux_.seccomp.listener_metadata);
    husk_jsonw_key(&w, "state");
    husk_jsonw_raw(&w, state_json);
    /* state_json ends with a newline; the closing brace follows it harmlessly */
    husk_jsonw_raw(&w, "}");
    if (w.oom) {
        husk_err_set(err, ENOMEM, "seccomp listener payload");
        goto out;
    }
    if (husk_send_fd(sock, w.buf, w.len, notify_fd) < 0) {
        husk_err_set(err, errno, "seccomp: send to listener `%s`", path);
        goto out;
    }
    rc = 0;
out:
    husk_jsonw_free(&w);
    if (sock >= 0)
        close(sock);
    close(notify_fd);
    return rc;
}
