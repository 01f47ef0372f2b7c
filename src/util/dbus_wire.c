/* The D-Bus wire format (include/husk/dbus.h): marshaling values into a buffer, reading them
 * back with bounds and alignment checked, and whole messages (header fields and body) built
 * and parsed. No I/O here: the connection is in dbus.c. */
#include "husk/dbus.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* D-Bus Specification "Valid Signatures" and "Message Format": the protocol's limits */
#define MAX_MSG (128u << 20)
#define MAX_ARRAY (64u << 20)
#define MAX_DEPTH 64

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OUR_ORDER 'l'
#else
#define OUR_ORDER 'B'
#endif

void husk_dbus_buf_free(struct husk_dbus_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static bool reserve(struct husk_dbus_buf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void husk_dbus_put_raw(struct husk_dbus_buf *b, const void *v, size_t n)
{
    /* n == 0 may come with v == NULL (an empty body), which memcpy must not see */
    if (n && reserve(b, n)) {
        memcpy(b->p + b->len, v, n);
        b->len += n;
    }
}

static void pad(struct husk_dbus_buf *b, size_t align)
{
    static const unsigned char zeros[8];
    size_t n = (align - b->len % align) % align;
    husk_dbus_put_raw(b, zeros, n);
}

void husk_dbus_put_y(struct husk_dbus_buf *b, uint8_t v)
{
    husk_dbus_put_raw(b, &v, 1);
}

void husk_dbus_put_u(struct husk_dbus_buf *b, uint32_t v)
{
    pad(b, 4);
    husk_dbus_put_raw(b, &v, 4);
}

void husk_dbus_put_b(struct husk_dbus_buf *b, bool v)
{
    husk_dbus_put_u(b, v ? 1 : 0);
}

void husk_dbus_put_i(struct husk_dbus_buf *b, int32_t v)
{
    husk_dbus_put_u(b, (uint32_t)v);
}

void husk_dbus_put_t(struct husk_dbus_buf *b, uint64_t v)
{
    pad(b, 8);
    husk_dbus_put_raw(b, &v, 8);
}

void husk_dbus_put_s(struct husk_dbus_buf *b, const char *s)
{
    size_t n = strlen(s);
    husk_dbus_put_u(b, (uint32_t)n);
    husk_dbus_put_raw(b, s, n + 1);
}

void husk_dbus_put_g(struct husk_dbus_buf *b, const char *sig)
{
    size_t n = strlen(sig);
    husk_dbus_put_y(b, (uint8_t)n);
    husk_dbus_put_raw(b, sig, n + 1);
}

void husk_dbus_struct(struct husk_dbus_buf *b)
{
    pad(b, 8);
}

struct husk_dbus_arr husk_dbus_array_begin(struct husk_dbus_buf *b, int elem_align)
{
    struct husk_dbus_arr a;
    husk_dbus_put_u(b, 0);
    a.lenpos = b->len - 4;
    /* the padding before the first element is not part of the array's length */
    pad(b, (size_t)elem_align);
    a.start = b->len;
    return a;
}

void husk_dbus_array_end(struct husk_dbus_buf *b, struct husk_dbus_arr a)
{
    if (b->oom)
        return;
    uint32_t n = (uint32_t)(b->len - a.start);
    memcpy(b->p + a.lenpos, &n, 4);
}

/* ---- reading ---- */

static bool need(struct husk_dbus_rd *r, size_t align, size_t n)
{
    if (r->bad)
        return false;
    size_t off = (r->off + align - 1) / align * align;
    if (off > r->len || r->len - off < n) {
        r->bad = true;
        return false;
    }
    r->off = off;
    return true;
}

uint8_t husk_dbus_get_y(struct husk_dbus_rd *r)
{
    if (!need(r, 1, 1))
        return 0;
    return r->p[r->off++];
}

uint32_t husk_dbus_get_u(struct husk_dbus_rd *r)
{
    uint32_t v;
    if (!need(r, 4, 4))
        return 0;
    memcpy(&v, r->p + r->off, 4);
    r->off += 4;
    return r->swap ? __builtin_bswap32(v) : v;
}

bool husk_dbus_get_b(struct husk_dbus_rd *r)
{
    uint32_t v = husk_dbus_get_u(r);
    if (v > 1)
        r->bad = true;
    return v == 1;
}

uint64_t husk_dbus_get_t(struct husk_dbus_rd *r)
{
    uint64_t v;
    if (!need(r, 8, 8))
        return 0;
    memcpy(&v, r->p + r->off, 8);
    r->off += 8;
    return r->swap ? __builtin_bswap64(v) : v;
}

/* n bytes and a NUL, none inside */
static const char *get_chars(struct husk_dbus_rd *r, size_t n)
{
    if (r->bad || r->len - r->off < n + 1 || r->p[r->off + n] != '\0' || memchr(r->p + r->off, '\0', n)) {
        r->bad = true;
        return NULL;
    }
    const char *s = (const char *)r->p + r->off;
    r->off += n + 1;
    return s;
}

const char *husk_dbus_get_s(struct husk_dbus_rd *r)
{
    uint32_t n = husk_dbus_get_u(r);
    return r->bad ? NULL : get_chars(r, n);
}

const char *husk_dbus_get_g(struct husk_dbus_rd *r)
{
    uint8_t n = husk_dbus_get_y(r);
    return r->bad ? NULL : get_chars(r, n);
}

size_t husk_dbus_get_array(struct husk_dbus_rd *r, int elem_align)
{
    uint32_t n = husk_dbus_get_u(r);
    if (r->bad || n > MAX_ARRAY || !need(r, (size_t)elem_align, 0) || r->len - r->off < n) {
        r->bad = true;
        return r->off;
    }
    return r->off + n;
}

static int align_of(char t)
{
    switch (t) {
    case 'y': case 'g': case 'v': return 1;
    case 'n': case 'q': return 2;
    case 'x': case 't': case 'd': case '(': case '{': return 8;
    default: return 4;
    }
}

/* Past one complete type of s, or NULL. */
static const char *sig_end(const char *s, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    switch (*s) {
    case 'y': case 'b': case 'n': case 'q': case 'i': case 'u': case 'x': case 't': case 'd':
    case 'h': case 's': case 'o': case 'g': case 'v':
        return s + 1;
    case 'a':
        /* a dict entry only as an array's element: a{kv} with a basic key */
        if (s[1] == '{') {
            if (!strchr("ybnqiuxtdhsog", s[2]) || !s[2])
                return NULL;
            const char *v = sig_end(s + 3, depth + 1);
            return v && *v == '}' ? v + 1 : NULL;
        }
        return sig_end(s + 1, depth + 1);
    case '(': {
        const char *p = s + 1;
        if (*p == ')')
            return NULL;
        while (p && *p != ')')
            p = *p ? sig_end(p, depth + 1) : NULL;
        return p ? p + 1 : NULL;
    }
    default:
        return NULL;
    }
}

bool husk_dbus_sig_valid(const char *sig)
{
    if (strlen(sig) > 255)
        return false;
    for (const char *p = sig; *p;)
        if (!(p = sig_end(p, 0)))
            return false;
    return true;
}

static int skip(struct husk_dbus_rd *r, const char **sig, int depth)
{
    const char *s = *sig;
    if (depth > MAX_DEPTH || r->bad)
        return r->bad = true, -1;
    switch (*s) {
    case 'y': husk_dbus_get_y(r); break;
    case 'b': husk_dbus_get_b(r); break;
    case 'n': case 'q': if (need(r, 2, 2)) r->off += 2; break;
    case 'i': case 'u': case 'h': husk_dbus_get_u(r); break;
    case 'x': case 't': case 'd': husk_dbus_get_t(r); break;
    case 's': case 'o': husk_dbus_get_s(r); break;
    case 'g': husk_dbus_get_g(r); break;
    case 'v': {
        const char *vs = husk_dbus_get_g(r);
        if (!vs || !*vs || sig_end(vs, depth + 1) != vs + strlen(vs))
            return r->bad = true, -1;
        if (skip(r, &vs, depth + 1) < 0)
            return -1;
        break;
    }
    case 'a': {
        const char *elem = s + 1, *after = sig_end(s, depth);
        if (!after)
            return r->bad = true, -1;
        size_t end = husk_dbus_get_array(r, align_of(*elem));
        while (!r->bad && r->off < end) {
            const char *e = elem;
            if (*e == '{') {
                /* a dict entry: a struct of key and value */
                need(r, 8, 0);
                e++;
                if (skip(r, &e, depth + 1) < 0 || skip(r, &e, depth + 1) < 0)
                    return -1;
            } else if (skip(r, &e, depth + 1) < 0) {
                return -1;
            }
        }
        if (r->off != end)
            r->bad = true;
        *sig = after;
        return r->bad ? -1 : 0;
    }
    case '(': {
        const char *after = sig_end(s, depth);
        if (!after || !need(r, 8, 0))
            return r->bad = true, -1;
        const char *e = s + 1;
        while (*e != ')')
            if (skip(r, &e, depth + 1) < 0)
                return -1;
        *sig = after;
        return 0;
    }
    default:
        return r->bad = true, -1;
    }
    *sig = s + 1;
    return r->bad ? -1 : 0;
}

int husk_dbus_skip(struct husk_dbus_rd *r, const char **sig)
{
    return skip(r, sig, 0);
}

/* ---- messages ---- */

enum { F_PATH = 1, F_INTERFACE, F_MEMBER, F_ERROR_NAME, F_REPLY_SERIAL, F_DESTINATION, F_SENDER, F_SIGNATURE };

static void field_str(struct husk_dbus_buf *b, uint8_t code, const char *sig, const char *v)
{
    if (!v)
        return;
    husk_dbus_struct(b);
    husk_dbus_put_y(b, code);
    husk_dbus_put_v(b, sig);
    if (sig[0] == 'g')
        husk_dbus_put_g(b, v);
    else
        husk_dbus_put_s(b, v);
}

int husk_dbus_msg_build(struct husk_dbus_buf *out, const struct husk_dbus_msg *m, const struct husk_dbus_buf *body)
{
    bool ok = m->serial != 0;
    switch (m->type) {
    case HUSK_DBUS_CALL: ok &= m->path && m->member; break;
    case HUSK_DBUS_SIGNAL: ok &= m->path && m->iface && m->member; break;
    case HUSK_DBUS_ERROR: ok &= m->error && m->reply_serial; break;
    case HUSK_DBUS_RETURN: ok &= m->reply_serial != 0; break;
    default: ok = false;
    }
    if (!ok)
        return -1;
    /* alignment inside the header counts from the message's start */
    struct husk_dbus_buf h = {0};
    husk_dbus_put_y(&h, OUR_ORDER);
    husk_dbus_put_y(&h, m->type);
    husk_dbus_put_y(&h, m->flags);
    husk_dbus_put_y(&h, 1);
    husk_dbus_put_u(&h, body ? (uint32_t)body->len : 0);
    husk_dbus_put_u(&h, m->serial);
    struct husk_dbus_arr a = husk_dbus_array_begin(&h, 8);
    field_str(&h, F_PATH, "o", m->path);
    field_str(&h, F_INTERFACE, "s", m->iface);
    field_str(&h, F_MEMBER, "s", m->member);
    field_str(&h, F_ERROR_NAME, "s", m->error);
    if (m->reply_serial) {
        husk_dbus_struct(&h);
        husk_dbus_put_y(&h, F_REPLY_SERIAL);
        husk_dbus_put_v(&h, "u");
        husk_dbus_put_u(&h, m->reply_serial);
    }
    field_str(&h, F_DESTINATION, "s", m->dest);
    field_str(&h, F_SENDER, "s", m->sender);
    if (m->sig && *m->sig)
        field_str(&h, F_SIGNATURE, "g", m->sig);
    husk_dbus_array_end(&h, a);
    pad(&h, 8);
    if (body)
        husk_dbus_put_raw(&h, body->p, body->len);
    int rc = h.oom || (body && body->oom) ? -1 : 0;
    if (rc == 0)
        husk_dbus_put_raw(out, h.p, h.len);
    husk_dbus_buf_free(&h);
    return rc == 0 && !out->oom ? 0 : -1;
}

long husk_dbus_msg_parse(const unsigned char *p, size_t len, struct husk_dbus_msg *m)
{
    if (len < 16)
        return 0;
    if ((p[0] != 'l' && p[0] != 'B') || p[3] != 1)
        return -1;
    struct husk_dbus_rd r = {.p = p, .len = len, .off = 4, .swap = p[0] != OUR_ORDER};
    uint32_t body_len = husk_dbus_get_u(&r), serial = husk_dbus_get_u(&r), fields_len = husk_dbus_get_u(&r);
    if (fields_len > MAX_ARRAY || body_len > MAX_MSG)
        return -1;
    size_t hdr_end = 16 + (size_t)fields_len, body_off = (hdr_end + 7) / 8 * 8, total = body_off + body_len;
    if (total > MAX_MSG)
        return -1;
    if (len < total)
        return 0;
    memset(m, 0, sizeof *m);
    m->type = p[1];
    m->flags = p[2];
    m->serial = serial;
    r.len = hdr_end;
    while (!r.bad && r.off < hdr_end) {
        need(&r, 8, 0);
        uint8_t code = husk_dbus_get_y(&r);
        const char *vs = husk_dbus_get_g(&r);
        if (!vs)
            return -1;
        const char **dst = NULL;
        char want = 's';
        switch (code) {
        case F_PATH: dst = &m->path; want = 'o'; break;
        case F_INTERFACE: dst = &m->iface; break;
        case F_MEMBER: dst = &m->member; break;
        case F_ERROR_NAME: dst = &m->error; break;
        case F_DESTINATION: dst = &m->dest; break;
        case F_SENDER: dst = &m->sender; break;
        case F_SIGNATURE: dst = &m->sig; want = 'g'; break;
        case F_REPLY_SERIAL: want = 'u'; break;
        default: want = 0;   /* an unknown field is skipped, as the spec says */
        }
        if (want && (vs[0] != want || vs[1]))
            return -1;
        if (code == F_REPLY_SERIAL)
            m->reply_serial = husk_dbus_get_u(&r);
        else if (dst)
            *dst = want == 'g' ? husk_dbus_get_g(&r) : husk_dbus_get_s(&r);
        else if (!*vs || sig_end(vs, 0) != vs + strlen(vs) || husk_dbus_skip(&r, &vs) < 0)
            return -1;
    }
    if (r.bad || !serial || (m->sig && !husk_dbus_sig_valid(m->sig)))
        return -1;
    switch (m->type) {
    case HUSK_DBUS_CALL: if (!m->path || !m->member) return -1; break;
    case HUSK_DBUS_SIGNAL: if (!m->path || !m->iface || !m->member) return -1; break;
    case HUSK_DBUS_ERROR: if (!m->error || !m->reply_serial) return -1; break;
    case HUSK_DBUS_RETURN: if (!m->reply_serial) return -1; break;
    default: break;   /* unknown types are to be ignored, not refused */
    }
    if (!m->sig)
        m->sig = "";
    m->body = (struct husk_dbus_rd){.p = p + body_off, .len = body_len, .swap = r.swap};
    return (long)total;
}
