/* A small D-Bus client speaking the wire protocol itself (D-Bus Specification, "Message
 * Protocol" and "Authentication Protocol"): what the systemd cgroup driver needs, a unix
 * socket, SASL EXTERNAL, method calls, replies, errors and signals. Messages are written in
 * this host's byte order and read in either. The wire format is src/util/dbus_wire.c, the
 * connection src/util/dbus.c. */
#ifndef HUSK_DBUS_H
#define HUSK_DBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "husk/err.h"

/* A growing buffer of marshaled values. Alignment is relative to its start: a message body
 * starts on an 8-byte boundary of its message, so a body marshaled on its own is the same. */
struct husk_dbus_buf {
    unsigned char *p;
    size_t len, cap;
    bool oom;       /* an allocation failed: the content is incomplete */
};
void husk_dbus_buf_free(struct husk_dbus_buf *b);
/* Bytes as they are, no alignment (the authentication's text lines). */
void husk_dbus_put_raw(struct husk_dbus_buf *b, const void *v, size_t n);

void husk_dbus_put_y(struct husk_dbus_buf *b, uint8_t v);
void husk_dbus_put_b(struct husk_dbus_buf *b, bool v);
void husk_dbus_put_i(struct husk_dbus_buf *b, int32_t v);
void husk_dbus_put_u(struct husk_dbus_buf *b, uint32_t v);
void husk_dbus_put_t(struct husk_dbus_buf *b, uint64_t v);
void husk_dbus_put_s(struct husk_dbus_buf *b, const char *s);   /* also for an object path (o) */
void husk_dbus_put_g(struct husk_dbus_buf *b, const char *sig);
/* A variant's signature; its value follows. */
static inline void husk_dbus_put_v(struct husk_dbus_buf *b, const char *sig) { husk_dbus_put_g(b, sig); }
/* Structs and dict entries start on 8 bytes. */
void husk_dbus_struct(struct husk_dbus_buf *b);
/* An array: begin writes the length slot and the padding before the first element (whose
 * alignment is elem_align); end fills in the length. */
struct husk_dbus_arr { size_t lenpos, start; };
struct husk_dbus_arr husk_dbus_array_begin(struct husk_dbus_buf *b, int elem_align);
void husk_dbus_array_end(struct husk_dbus_buf *b, struct husk_dbus_arr a);

/* Reading a body (or any marshaled data): every getter checks bounds and alignment; a
 * malformed input sets bad and returns zero values from then on. */
struct husk_dbus_rd {
    const unsigned char *p;
    size_t len, off;
    bool swap;      /* the sender's byte order is not ours */
    bool bad;
};
uint8_t husk_dbus_get_y(struct husk_dbus_rd *r);
bool husk_dbus_get_b(struct husk_dbus_rd *r);
uint32_t husk_dbus_get_u(struct husk_dbus_rd *r);
uint64_t husk_dbus_get_t(struct husk_dbus_rd *r);
const char *husk_dbus_get_s(struct husk_dbus_rd *r);   /* s and o; NULL when bad */
const char *husk_dbus_get_g(struct husk_dbus_rd *r);
/* An array's end offset (its elements are read while r->off < end). */
size_t husk_dbus_get_array(struct husk_dbus_rd *r, int elem_align);
/* Skips one complete type of the signature at *sig, advancing *sig past it. Returns -1
 * (and sets bad) on a malformed signature or value. */
int husk_dbus_skip(struct husk_dbus_rd *r, const char **sig);
/* True when sig is a valid signature of complete types. */
bool husk_dbus_sig_valid(const char *sig);

enum { HUSK_DBUS_CALL = 1, HUSK_DBUS_RETURN = 2, HUSK_DBUS_ERROR = 3, HUSK_DBUS_SIGNAL = 4 };
#define HUSK_DBUS_NO_REPLY 0x1

struct husk_dbus_msg {
    uint8_t type, flags;
    uint32_t serial, reply_serial;
    const char *path, *iface, *member, *error, *dest, *sender, *sig;
    struct husk_dbus_rd body;
};
/* Marshals a whole message (header fields from m, body from body, which may be NULL) onto
 * out. Returns -1 on a missing required field or no memory. */
int husk_dbus_msg_build(struct husk_dbus_buf *out, const struct husk_dbus_msg *m, const struct husk_dbus_buf *body);
/* Parses the message at p: returns its size, 0 when len holds only part of it, -1 when it is
 * malformed. m's strings and body point into p. */
long husk_dbus_msg_parse(const unsigned char *p, size_t len, struct husk_dbus_msg *m);

/* A connection. */
struct husk_dbus {
    int fd;
    bool via_bus;           /* through a bus daemon: Hello first, destinations matter */
    bool authed;            /* the server's OK line was read */
    uint32_t serial;
    unsigned round_trips;   /* writes that waited for an answer (a measure of the cost) */
    struct husk_dbus_buf out;
    unsigned char *in;
    size_t in_len, in_cap, in_used;   /* in_used: bytes of messages already returned */
    char error_name[128];   /* of the last error reply */
};
/* The system bus: $DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket. */
const char *husk_dbus_system_address(void);
/* Connects to the first usable unix: address (path= or abstract=, ';'-separated) and queues
 * the authentication (and Hello when via_bus): nothing waits until the first reply. Through
 * a bus daemon the first write holds the authentication and every message queued until
 * then; a peer's server gets the messages once it answered OK. */
int husk_dbus_open(struct husk_dbus *c, const char *address, bool via_bus, struct husk_err *err);
/* The same, claiming uid_claim in EXTERNAL: the uid the server sees (outside a user namespace). */
int husk_dbus_open_as(struct husk_dbus *c, const char *address, bool via_bus, unsigned uid_claim,
                      struct husk_err *err);
void husk_dbus_close(struct husk_dbus *c);
/* Queues a method call (body may be NULL); returns its serial, 0 on no memory. */
uint32_t husk_dbus_call(struct husk_dbus *c, const char *dest, const char *path, const char *iface,
                        const char *member, const char *sig, const struct husk_dbus_buf *body, bool no_reply);
/* Sends what is queued now, without waiting (the server works on it meanwhile). */
int husk_dbus_flush(struct husk_dbus *c, struct husk_err *err);
/* Sends what is queued and returns the next message (valid until the next call), waiting
 * until deadline_ms (CLOCK_MONOTONIC milliseconds). */
int husk_dbus_next(struct husk_dbus *c, long long deadline_ms, struct husk_dbus_msg *m, struct husk_err *err);
/* Reads until the reply to serial: signals on the way go to on_signal (may be NULL); an
 * error reply becomes err ("NAME: message", error_name set). */
int husk_dbus_wait_reply(struct husk_dbus *c, uint32_t serial, long long deadline_ms, struct husk_dbus_msg *m,
                         void (*on_signal)(void *ctx, struct husk_dbus_msg *m), void *ctx, struct husk_err *err);
long long husk_dbus_now_ms(void);

#endif
