/* The D-Bus wire format (src/util/dbus_wire.c) against byte strings from an independent
 * implementation (GLib's GDBusMessage.to_blob, little- and big-endian), round trips of every
 * type husk writes, and malformed input refused. */
#include "husk/cgroup.h"
#include "husk/dbus.h"
#include "unit.h"

#include <stdlib.h>

static size_t unhex(const char *h, unsigned char *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        char b[3] = {h[0], h[1], 0};
        out[n++] = (unsigned char)strtoul(b, NULL, 16);
    }
    return n;
}

static bool same(const struct husk_dbus_buf *b, const char *hex)
{
    static unsigned char want[4096];
    size_t n = unhex(hex, want);
    if (b->oom || b->len != n || memcmp(b->p, want, n)) {
        fprintf(stderr, "got  ");
        for (size_t i = 0; i < b->len; i++)
            fprintf(stderr, "%02x", b->p[i]);
        fprintf(stderr, "\nwant %s\n", hex);
        return false;
    }
    return true;
}

/* StartTransientUnit("husk-a.scope", "replace", [...], []) as GLib marshals it */
static const char *const golden_body =
    "0c0000006875736b2d612e73636f706500000000070000007265706c61636500d8000000000000000b00000044657363"
    "72697074696f6e0001730000100000006875736b20636f6e7461696e6572206100000000000000000800000044656c65"
    "6761746500016200010000000000000004000000504944730002617500000000040000002a000000090000004d656d6f"
    "72794d6178000174000000000000000000001000000000000b000000416c6c6f77656443505573000261790001000000"
    "05000000000000000b000000446576696365416c6c6f770005612873732900001800000000000000090000002f646576"
    "2f6e756c6c0000000300000072776d000000000000000000";
static const char *const golden_hello =
    "6c01000100000000010000004e00000001016f00150000002f6f72672f667265656465736b746f702f44427573000000"
    "02017300140000006f72672e667265656465736b746f702e4442757300000000030173000500000048656c6c6f000000";
/* a method call whose header fields are not in code order, body (uoss) */
static const char *const golden_call =
    "6c0100014500000007000000ab00000001016f00190000002f6f72672f667265656465736b746f702f73797374656d64"
    "310000000000000002017300200000006f72672e667265656465736b746f702e73797374656d64312e4d616e61676572"
    "000000000000000006017300180000006f72672e667265656465736b746f702e73797374656d64310000000000000000"
    "0801670004756f737300000000000000030173001200000053746172745472616e7369656e74556e6974000000000000"
    "090000001f0000002f6f72672f667265656465736b746f702f73797374656d64312f6a6f622f39000c0000006875736b"
    "2d612e73636f70650000000004000000646f6e6500";
/* the JobRemoved signal, big-endian */
static const char *const golden_be_signal =
    "42040101000000450000012c0000007b01016f00000000192f6f72672f667265656465736b746f702f73797374656d64"
    "310000000000000002017300000000206f72672e667265656465736b746f702e73797374656d64312e4d616e61676572"
    "00000000000000000801670004756f737300000000000000030173000000000a4a6f6252656d6f766564000000000000"
    "000000090000001f2f6f72672f667265656465736b746f702f73797374656d64312f6a6f622f39000000000c6875736b"
    "2d612e73636f70650000000000000004646f6e6500";
/* an error reply to serial 5 */
static const char *const golden_error =
    "6c0301011d000000060000004000000004017300230000006f72672e667265656465736b746f702e73797374656d6431"
    "2e4e6f53756368556e697400000000000801670001730000050175000500000018000000556e697420782e73636f7065"
    "206e6f74206c6f616465642e00";

static void prop_s(struct husk_dbus_buf *b, const char *name, const char *v)
{
    husk_dbus_struct(b);
    husk_dbus_put_s(b, name);
    husk_dbus_put_v(b, "s");
    husk_dbus_put_s(b, v);
}

static void test_golden_build(void)
{
    struct husk_dbus_buf b = {0};
    husk_dbus_put_s(&b, "husk-a.scope");
    husk_dbus_put_s(&b, "replace");
    struct husk_dbus_arr props = husk_dbus_array_begin(&b, 8);
    prop_s(&b, "Description", "husk container a");
    husk_dbus_struct(&b);
    husk_dbus_put_s(&b, "Delegate");
    husk_dbus_put_v(&b, "b");
    husk_dbus_put_b(&b, true);
    husk_dbus_struct(&b);
    husk_dbus_put_s(&b, "PIDs");
    husk_dbus_put_v(&b, "au");
    struct husk_dbus_arr pids = husk_dbus_array_begin(&b, 4);
    husk_dbus_put_u(&b, 42);
    husk_dbus_array_end(&b, pids);
    husk_dbus_struct(&b);
    husk_dbus_put_s(&b, "MemoryMax");
    husk_dbus_put_v(&b, "t");
    husk_dbus_put_t(&b, 1048576);
    husk_dbus_struct(&b);
    husk_dbus_put_s(&b, "AllowedCPUs");
    husk_dbus_put_v(&b, "ay");
    struct husk_dbus_arr ay = husk_dbus_array_begin(&b, 1);
    husk_dbus_put_y(&b, 5);
    husk_dbus_array_end(&b, ay);
    husk_dbus_struct(&b);
    husk_dbus_put_s(&b, "DeviceAllow");
    husk_dbus_put_v(&b, "a(ss)");
    struct husk_dbus_arr dev = husk_dbus_array_begin(&b, 8);
    husk_dbus_struct(&b);
    husk_dbus_put_s(&b, "/dev/null");
    husk_dbus_put_s(&b, "rwm");
    husk_dbus_array_end(&b, dev);
    husk_dbus_array_end(&b, props);
    /* an empty array still pads to its element's alignment */
    husk_dbus_array_end(&b, husk_dbus_array_begin(&b, 8));
    CHECK(same(&b, golden_body));

    /* and it reads back through the generic skipper as the signature says */
    struct husk_dbus_rd r = {.p = b.p, .len = b.len};
    const char *sig = "ssa(sv)a(sa(sv))";
    while (*sig)
        CHECK(husk_dbus_skip(&r, &sig) == 0);
    CHECK(r.off == b.len && !r.bad);
    husk_dbus_buf_free(&b);

    struct husk_dbus_buf m = {0};
    struct husk_dbus_msg h = {.type = HUSK_DBUS_CALL, .serial = 1, .path = "/org/freedesktop/DBus",
                              .iface = "org.freedesktop.DBus", .member = "Hello"};
    CHECK(husk_dbus_msg_build(&m, &h, NULL) == 0);
    CHECK(same(&m, golden_hello));
    husk_dbus_buf_free(&m);

    /* required fields: a call without a member, an error without its name */
    struct husk_dbus_msg bad = {.type = HUSK_DBUS_CALL, .serial = 1, .path = "/"};
    CHECK(husk_dbus_msg_build(&m, &bad, NULL) < 0);
    bad = (struct husk_dbus_msg){.type = HUSK_DBUS_ERROR, .serial = 1, .reply_serial = 1};
    CHECK(husk_dbus_msg_build(&m, &bad, NULL) < 0);
    husk_dbus_buf_free(&m);
}

static void test_golden_parse(void)
{
    static unsigned char p[4096];
    struct husk_dbus_msg m;
    size_t n = unhex(golden_call, p);
    CHECK(husk_dbus_msg_parse(p, n, &m) == (long)n);
    CHECK(m.type == HUSK_DBUS_CALL && m.serial == 7);
    CHECK_STR(m.path, "/org/freedesktop/systemd1");
    CHECK_STR(m.iface, "org.freedesktop.systemd1.Manager");
    CHECK_STR(m.member, "StartTransientUnit");
    CHECK_STR(m.dest, "org.freedesktop.systemd1");
    CHECK_STR(m.sig, "uoss");
    CHECK(husk_dbus_get_u(&m.body) == 9);
    CHECK_STR(husk_dbus_get_s(&m.body), "/org/freedesktop/systemd1/job/9");
    CHECK_STR(husk_dbus_get_s(&m.body), "husk-a.scope");
    CHECK_STR(husk_dbus_get_s(&m.body), "done");
    CHECK(!m.body.bad && m.body.off == m.body.len);
    /* every shorter prefix asks for more, never parses or fails */
    bool partial = true;
    for (size_t k = 0; k < n; k++)
        partial &= husk_dbus_msg_parse(p, k, &m) == 0;
    CHECK(partial);

    n = unhex(golden_be_signal, p);
    CHECK(husk_dbus_msg_parse(p, n, &m) == (long)n);
    CHECK(m.type == HUSK_DBUS_SIGNAL && m.serial == 300 && m.body.swap);
    CHECK_STR(m.member, "JobRemoved");
    CHECK(husk_dbus_get_u(&m.body) == 9);
    CHECK_STR(husk_dbus_get_s(&m.body), "/org/freedesktop/systemd1/job/9");
    CHECK_STR(husk_dbus_get_s(&m.body), "husk-a.scope");
    CHECK_STR(husk_dbus_get_s(&m.body), "done");

    n = unhex(golden_error, p);
    CHECK(husk_dbus_msg_parse(p, n, &m) == (long)n);
    CHECK(m.type == HUSK_DBUS_ERROR && m.reply_serial == 5);
    CHECK_STR(m.error, "org.freedesktop.systemd1.NoSuchUnit");
    CHECK_STR(husk_dbus_get_s(&m.body), "Unit x.scope not loaded.");

    /* corruptions: a wrong byte-order mark, version, serial 0, a missing reply serial */
    unsigned char q[4096];
    memcpy(q, p, n);
    q[0] = 'x';
    CHECK(husk_dbus_msg_parse(q, n, &m) < 0);
    memcpy(q, p, n);
    q[3] = 2;
    CHECK(husk_dbus_msg_parse(q, n, &m) < 0);
    memcpy(q, p, n);
    memset(q + 8, 0, 4);
    CHECK(husk_dbus_msg_parse(q, n, &m) < 0);
    memcpy(q, p, n);
    q[1] = HUSK_DBUS_RETURN;   /* fine: a return needs only the reply serial */
    CHECK(husk_dbus_msg_parse(q, n, &m) == (long)n);
    /* a field's string losing its NUL */
    memcpy(q, p, n);
    for (size_t i = 16; i < n; i++)
        if (!memcmp(q + i, "NoSuchUnit", 10)) {
            q[i + 10] = 'X';
            break;
        }
    CHECK(husk_dbus_msg_parse(q, n, &m) < 0);
    /* a body length beyond the protocol's limit */
    memcpy(q, p, n);
    memset(q + 4, 0xff, 4);
    CHECK(husk_dbus_msg_parse(q, n, &m) < 0);
}

static void test_round_trip(void)
{
    struct husk_dbus_buf b = {0};
    husk_dbus_put_y(&b, 0xab);
    husk_dbus_put_b(&b, true);
    husk_dbus_put_i(&b, -7);
    husk_dbus_put_t(&b, 0x1122334455667788ull);
    husk_dbus_put_s(&b, "");
    husk_dbus_put_g(&b, "a(sv)");
    husk_dbus_put_s(&b, "/o/p");
    struct husk_dbus_arr as = husk_dbus_array_begin(&b, 4);
    husk_dbus_put_s(&b, "one");
    husk_dbus_put_s(&b, "two");
    husk_dbus_array_end(&b, as);
    struct husk_dbus_arr ast = husk_dbus_array_begin(&b, 8);
    husk_dbus_struct(&b);
    husk_dbus_put_s(&b, "k");
    husk_dbus_put_t(&b, UINT64_MAX);
    husk_dbus_array_end(&b, ast);
    husk_dbus_put_v(&b, "ay");
    struct husk_dbus_arr ay = husk_dbus_array_begin(&b, 1);
    for (int i = 0; i < 3; i++)
        husk_dbus_put_y(&b, (uint8_t)i);
    husk_dbus_array_end(&b, ay);
    CHECK(!b.oom);

    struct husk_dbus_rd r = {.p = b.p, .len = b.len};
    CHECK(husk_dbus_get_y(&r) == 0xab);
    CHECK(husk_dbus_get_b(&r) == true);
    CHECK((int32_t)husk_dbus_get_u(&r) == -7);
    CHECK(husk_dbus_get_t(&r) == 0x1122334455667788ull);
    CHECK_STR(husk_dbus_get_s(&r), "");
    CHECK_STR(husk_dbus_get_g(&r), "a(sv)");
    CHECK_STR(husk_dbus_get_s(&r), "/o/p");
    size_t end = husk_dbus_get_array(&r, 4);
    CHECK_STR(husk_dbus_get_s(&r), "one");
    CHECK_STR(husk_dbus_get_s(&r), "two");
    CHECK(r.off == end);
    end = husk_dbus_get_array(&r, 8);
    CHECK_STR(husk_dbus_get_s(&r), "k");
    CHECK(husk_dbus_get_t(&r) == UINT64_MAX);
    CHECK(r.off == end);
    const char *vs = husk_dbus_get_g(&r);
    CHECK_STR(vs, "ay");
    end = husk_dbus_get_array(&r, 1);
    CHECK(end - r.off == 3 && r.p[r.off + 2] == 2);
    r.off = end;
    CHECK(!r.bad && r.off == b.len);
    /* the same through the generic skipper */
    r = (struct husk_dbus_rd){.p = b.p, .len = b.len};
    const char *sig = "ybitsgoasa(st)v";
    while (*sig && husk_dbus_skip(&r, &sig) == 0)
        ;
    CHECK(!*sig && !r.bad && r.off == b.len);
    /* reading past the end marks the reader bad and returns zeros */
    CHECK(husk_dbus_get_u(&r) == 0 && r.bad && husk_dbus_get_s(&r) == NULL);
    husk_dbus_buf_free(&b);
}

static void test_malformed(void)
{
    /* a boolean other than 0 or 1 */
    unsigned char v2[4] = {2, 0, 0, 0};
    struct husk_dbus_rd r = {.p = v2, .len = 4};
    husk_dbus_get_b(&r);
    CHECK(r.bad);
    /* a string without its NUL, and one with a NUL inside */
    unsigned char s1[] = {3, 0, 0, 0, 'a', 'b', 'c', 'd'};
    r = (struct husk_dbus_rd){.p = s1, .len = sizeof s1};
    CHECK(husk_dbus_get_s(&r) == NULL && r.bad);
    unsigned char s2[] = {3, 0, 0, 0, 'a', 0, 'c', 0};
    r = (struct husk_dbus_rd){.p = s2, .len = sizeof s2};
    CHECK(husk_dbus_get_s(&r) == NULL && r.bad);
    /* an array longer than the data */
    unsigned char a1[] = {200, 0, 0, 0, 1, 0, 0, 0};
    r = (struct husk_dbus_rd){.p = a1, .len = sizeof a1};
    const char *sig = "au";
    CHECK(husk_dbus_skip(&r, &sig) < 0);
    /* a variant holding two types, or an invalid one */
    unsigned char v1[] = {2, 'u', 'u', 0, 1, 0, 0, 0, 1, 0, 0, 0};
    r = (struct husk_dbus_rd){.p = v1, .len = sizeof v1};
    sig = "v";
    CHECK(husk_dbus_skip(&r, &sig) < 0);
    CHECK(husk_dbus_sig_valid("a{sv}(ii)aay"));
    CHECK(!husk_dbus_sig_valid("a"));
    CHECK(!husk_dbus_sig_valid("()"));
    CHECK(!husk_dbus_sig_valid("(ii"));
    CHECK(!husk_dbus_sig_valid("{sv}"));
    CHECK(!husk_dbus_sig_valid("a{vs}"));
    CHECK(!husk_dbus_sig_valid("z"));
    char deep[200];
    memset(deep, 'a', 120);
    strcpy(deep + 120, "y");
    CHECK(!husk_dbus_sig_valid(deep));
}

/* Manager.Version as distributions spell it: CPUQuotaPeriodUSec is sent from 242 on */
static void test_versions(void)
{
    CHECK(husk_systemd_version("252.19-1~deb12u1") == 252);
    CHECK(husk_systemd_version("239 (239-58.el8)") == 239);
    CHECK(husk_systemd_version("v255") == 255);
    CHECK(husk_systemd_version("255.4-1ubuntu8.4") == 255);
    CHECK(husk_systemd_version("242") == 242);
    CHECK(husk_systemd_version("") == -1);
    CHECK(husk_systemd_version("unknown") == -1);
    CHECK(husk_systemd_version("v") == -1);
    CHECK(husk_systemd_version("99999999999999999999") == -1);
}

/* systemd.slice(5): a '-' is a level of the tree */
static void test_slices(void)
{
    char out[512];
    struct husk_err err;
    CHECK(husk_systemd_expand_slice("system.slice", out, sizeof out, &err) == 0);
    CHECK_STR(out, "/system.slice");
    CHECK(husk_systemd_expand_slice("a-b-c.slice", out, sizeof out, &err) == 0);
    CHECK_STR(out, "/a.slice/a-b.slice/a-b-c.slice");
    CHECK(husk_systemd_expand_slice("kubepods-besteffort-pod1234.slice", out, sizeof out, &err) == 0);
    CHECK_STR(out, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234.slice");
    CHECK(husk_systemd_expand_slice("-.slice", out, sizeof out, &err) == 0);
    CHECK_STR(out, "");
    const char *bad[] = {"system", ".slice", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice", "a.slice.x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(husk_systemd_expand_slice(bad[i], out, sizeof out, &err) < 0);
    CHECK(husk_systemd_expand_slice("a-b.slice", out, 12, &err) < 0);
}

int main(void)
{
    test_slices();
    test_versions();
    test_golden_build();
    test_golden_parse();
    test_round_trip();
    test_malformed();
    return unit_done("test_dbus");
}
