/* A D-Bus connection for husk's few calls to systemd (include/husk/dbus.h): the unix socket,
 * SASL EXTERNAL, queued calls, and reading messages until a reply. husk links statically and
 * starts in about a millisecond: libsystemd's sd-bus would add a shared library (or ~1 MiB
 * static) and its own set-up, for four message types. The wire format is in dbus_wire.c. */
#include "husk/dbus.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* husk reads replies and a few signals: a larger message is someone else's, or an attack */
#define MAX_IN (16u << 20)

long long husk_dbus_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *husk_dbus_system_address(void)
{
    const char *a = getenv("DBUS_SYSTEM_BUS_ADDRESS");
    return a && *a ? a : "unix:path=/run/dbus/system_bus_socket";
}

/* A value of an address (D-Bus Specification "Server Addresses"): %XX escapes. */
static int unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
                return -1;
            char hex[3] = {s[i + 1], s[i + 2], '\0'};
            c = (char)strtoul(hex, NULL, 16);
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}

/* Connects to one "unix:key=value,..." entry; -1 with errno set. */
static int connect_one(const char *e, size_t n)
{
    if (n < 5 || strncmp(e, "unix:", 5)) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    socklen_t sl = 0;
    for (const char *kv = e + 5; kv < e + n;) {
        const char *comma = memchr(kv, ',', (size_t)(e + n - kv));
        size_t kl = comma ? (size_t)(comma - kv) : (size_t)(e + n - kv);
        const char *eq = memchr(kv, '=', kl);
        if (eq) {
            size_t name = (size_t)(eq - kv);
            bool path = name == 4 && !strncmp(kv, "path", 4), abs = name == 8 && !strncmp(kv, "abstract", 8);
            if (path || abs) {
                /* an abstract name starts with a NUL byte and is not NUL-terminated */
                char *dst = sa.sun_path + (abs ? 1 : 0);
                int l = unescape(eq + 1, kl - name - 1, dst, sizeof sa.sun_path - (abs ? 1 : 0));
                if (l <= 0) {
                    errno = ENAMETOOLONG;
                    return -1;
                }
                /* a path with its NUL, an abstract name after its leading NUL */
                sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)l + 1);
            }
        }
        kv += kl + 1;
    }
    if (!sl) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sl) < 0) {
        int e2 = errno;
        close(fd);
        errno = e2;
        return -1;
    }
    return fd;
}

/* Writes what is queued; a round trip when an answer is waited for right after. */
static int send_queued(struct husk_dbus *c, bool waits, struct husk_err *err)
{
    if (c->out.oom)
        return husk_err_set(err, ENOMEM, "D-Bus message");
    size_t done = 0;
    while (done < c->out.len) {
        ssize_t w = send(c->fd, c->out.p + done, c->out.len - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return husk_err_set(err, errno, "write to D-Bus");
        done += (size_t)w;
    }
    if (done && waits)
        c->round_trips++;
    c->out.len = 0;
    return 0;
}

static int flush(struct husk_dbus *c, struct husk_err *err)
{
    return send_queued(c, true, err);
}

int husk_dbus_flush(struct husk_dbus *c, struct husk_err *err)
{
    /* a peer gets messages only after its OK (husk_dbus_open) */
    return c->authed || c->via_bus ? send_queued(c, false, err) : 0;
}

int husk_dbus_open(struct husk_dbus *c, const char *address, bool via_bus, struct husk_err *err)
{
    return husk_dbus_open_as(c, address, via_bus, (unsigned)geteuid(), err);
}

int husk_dbus_open_as(struct husk_dbus *c, const char *address, bool via_bus, unsigned uid_claim,
                      struct husk_err *err)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->via_bus = via_bus;
    int e = ENOENT;
    for (const char *a = address; *a && c->fd < 0;) {
        const char *semi = strchrnul(a, ';');
        if ((c->fd = connect_one(a, (size_t)(semi - a))) < 0)
            e = errno;
        a = *semi ? semi + 1 : semi;
    }
    if (c->fd < 0)
        return husk_err_set(err, e, "connect to D-Bus `%s`", address);
    /* SASL EXTERNAL with our uid as hex digits of its decimal string, BEGIN at once (as
     * sd-bus does). On a bus the messages (Hello first) follow in the same write, one round
     * trip for all: dbus-daemon and dbus-broker read them after the authentication. A peer
     * (systemd's own socket) gets them only after its OK: sd-bus's server leaves bytes read
     * with the authentication unprocessed until more arrive, which in the systemd VM hung 2
     * calls of 3. */
    char uid[16], line[64];
    int ul = snprintf(uid, sizeof uid, "%u", uid_claim);
    int off = snprintf(line, sizeof line, "%cAUTH EXTERNAL ", '\0');
    for (int i = 0; i < ul; i++)
        off += snprintf(line + off, sizeof line - (size_t)off, "%02x", (unsigned char)uid[i]);
    off += snprintf(line + off, sizeof line - (size_t)off, "\r\nBEGIN\r\n");
    husk_dbus_put_raw(&c->out, line, (size_t)off);
    if (!via_bus && flush(c, err) < 0) {
        husk_dbus_close(c);
        return husk_err_wrap(err, "D-Bus `%s`", address);
    }
    if (via_bus && !husk_dbus_call(c, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello",
                                   NULL, NULL, false)) {
        husk_dbus_close(c);
        return husk_err_set(err, ENOMEM, "D-Bus Hello");
    }
    return 0;
}

void husk_dbus_close(struct husk_dbus *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    husk_dbus_buf_free(&c->out);
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = c->in_used = 0;
}

uint32_t husk_dbus_call(struct husk_dbus *c, const char *dest, const char *path, const char *iface,
                        const char *member, const char *sig, const struct husk_dbus_buf *body, bool no_reply)
{
    struct husk_dbus_msg m = {
        .type = HUSK_DBUS_CALL, .flags = no_reply ? HUSK_DBUS_NO_REPLY : 0, .serial = ++c->serial,
        .path = path, .iface = iface, .member = member, .dest = c->via_bus ? dest : NULL, .sig = sig,
    };
    return husk_dbus_msg_build(&c->out, &m, body) < 0 ? 0 : m.serial;
}

/* Reads what the socket has into c->in (room for at least 4 KiB more), waiting until
 * deadline_ms. */
static int read_more(struct husk_dbus *c, long long deadline_ms, struct husk_err *err)
{
    if (c->in_cap - c->in_len < 4096) {
        size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
        if (cap > MAX_IN + 8192)
            return husk_err_set(err, EMSGSIZE, "D-Bus: a message too large");
        unsigned char *p = realloc(c->in, cap);
        if (!p)
            return husk_err_set(err, ENOMEM, "D-Bus");
        c->in = p;
        c->in_cap = cap;
    }
    for (;;) {
        long long left = deadline_ms - husk_dbus_now_ms();
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = left > 0 ? poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left)) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return husk_err_set(err, errno, "D-Bus poll");
        if (pr == 0)
            return husk_err_set(err, ETIMEDOUT, "D-Bus: no answer");
        ssize_t r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return husk_err_set(err, errno, "read from D-Bus");
        if (r == 0)
            return husk_err_set(err, ECONNRESET, "D-Bus: the connection was closed%s",
                                c->authed ? "" : " during authentication");
        c->in_len += (size_t)r;
        return 0;
    }
}

/* The server's answer to the authentication: 1 when its OK line was read (and the queued
 * messages sent), 0 when more input is needed. */
static int auth_answer(struct husk_dbus *c, struct husk_err *err)
{
    unsigned char *nl = c->in_len ? memmem(c->in, c->in_len, "\r\n", 2) : NULL;
    if (!nl) {
        if (c->in_len > 512)
            return husk_err_set(err, EPROTO, "D-Bus authentication: no answer line");
        return 0;
    }
    size_t l = (size_t)(nl - c->in);
    if (l < 2 || memcmp(c->in, "OK", 2) || (l > 2 && c->in[2] != ' '))
        return husk_err_set(err, EACCES, "D-Bus authentication: the server answered \"%.*s\"",
                            (int)(l > 100 ? 100 : l), (const char *)c->in);
    c->authed = true;
    memmove(c->in, nl + 2, c->in_len - l - 2);
    c->in_len -= l + 2;
    return flush(c, err) < 0 ? -1 : 1;
}

int husk_dbus_next(struct husk_dbus *c, long long deadline_ms, struct husk_dbus_msg *m, struct husk_err *err)
{
    if ((c->authed || c->via_bus) && flush(c, err) < 0)
        return -1;
    if (c->in_used) {
        memmove(c->in, c->in + c->in_used, c->in_len - c->in_used);
        c->in_len -= c->in_used;
        c->in_used = 0;
    }
    for (;;) {
        if (!c->authed) {
            int a = auth_answer(c, err);
            if (a < 0)
                return -1;
            if (a > 0)
                continue;
        } else {
            long n = husk_dbus_msg_parse(c->in, c->in_len, m);
            if (n < 0)
                return husk_err_set(err, EPROTO, "D-Bus: a malformed message");
            if (n > 0) {
                c->in_used = (size_t)n;
                return 0;
            }
        }
        if (read_more(c, deadline_ms, err) < 0)
            return -1;
    }
}

int husk_dbus_wait_reply(struct husk_dbus *c, uint32_t serial, long long deadline_ms, struct husk_dbus_msg *m,
                         void (*on_signal)(void *ctx, struct husk_dbus_msg *m), void *ctx, struct husk_err *err)
{
    for (;;) {
        if (husk_dbus_next(c, deadline_ms, m, err) < 0)
            return -1;
        if (m->type == HUSK_DBUS_SIGNAL && on_signal) {
            on_signal(ctx, m);
            continue;
        }
        if ((m->type != HUSK_DBUS_RETURN && m->type != HUSK_DBUS_ERROR) || m->reply_serial != serial)
            continue;
        if (m->type == HUSK_DBUS_RETURN)
            return 0;
        snprintf(c->error_name, sizeof c->error_name, "%s", m->error);
        struct husk_dbus_rd b = m->body;
        const char *text = m->sig[0] == 's' ? husk_dbus_get_s(&b) : NULL;
        return husk_err_set(err, 0, "%s: %s", m->error, text ? text : "(no message)");
    }
}
