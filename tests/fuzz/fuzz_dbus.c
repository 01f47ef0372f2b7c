/* A D-Bus message as husk reads it from the bus (src/util/dbus.c): the header, then the body
 * walked by its signature; a message that parses is built again from its fields and body and
 * must parse to the same fields. */
#include "husk/dbus.h"
#include "fuzz.h"

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes: a read past the end is ASan's to see */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    struct husk_dbus_msg m;
    long n = husk_dbus_msg_parse(p, size, &m);
    if (n > 0) {
        struct husk_dbus_rd r = m.body;
        const char *sig = m.sig;
        while (*sig && husk_dbus_skip(&r, &sig) == 0)
            ;
        /* the same message again, in our byte order, when the body was well-formed */
        if (!r.bad && r.off == r.len && !r.swap && m.type >= HUSK_DBUS_CALL && m.type <= HUSK_DBUS_SIGNAL) {
            struct husk_dbus_buf body = {0}, out = {0};
            for (size_t i = 0; i < m.body.len; i++)
                husk_dbus_put_y(&body, m.body.p[i]);
            if (husk_dbus_msg_build(&out, &m, &body) == 0) {
                struct husk_dbus_msg m2;
                long n2 = husk_dbus_msg_parse(out.p, out.len, &m2);
                if (n2 != (long)out.len || m2.type != m.type || m2.serial != m.serial ||
                    m2.reply_serial != m.reply_serial || !same_str(m2.path, m.path) ||
                    !same_str(m2.member, m.member) || !same_str(m2.iface, m.iface) || !same_str(m2.error, m.error) ||
                    !same_str(m2.sig, m.sig) || m2.body.len != m.body.len)
                    abort();
            }
            husk_dbus_buf_free(&body);
            husk_dbus_buf_free(&out);
        }
    }
    free(p);
    return 0;
}
