/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_apache_test.c: unit tests of Apache LogFormat strings ("apache:<LogFormat>"): the
 * directives that feed fields, %t in its bracketed and strftime forms, %U%q as one target,
 * headers, condition modifiers, and the compile errors with their positions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingest/ingest_test_util.h"

#define APACHE_COMBINED                                                                            \
    "apache:%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\""

static void test_apache_combined_logformat_reads_apache_escapes(void **state)
{
    (void)state;
    struct vg_format *f = tcompile(APACHE_COMBINED);
    struct tparsed ps = {0};
    const char *line = "203.0.113.7 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a?q=\\\"x\\\\ "
                       "HTTP/1.0\" 200 2326 \"http://ex.com/\" \"Moz\\\"illa\\x01\"";
    assert_int_equal(tparse(&ps, f, line), VG_PARSE_OK);
    tassert_addr(&ps.req, "203.0.113.7");
    tassert_view(ps.req.user, "frank");
    assert_int_equal(ps.req.time, 971211336);
    tassert_view(ps.req.method, "GET");
    tassert_view(ps.req.query, "q=\\\"x\\\\");
    tassert_view(ps.req.protocol, "HTTP/1.0");
    assert_int_equal(ps.req.status, 200);
    assert_int_equal(ps.req.bytes, 2326);
    tassert_view(ps.req.referer, "http://ex.com/");
    tassert_view(ps.req.user_agent, "Moz\\\"illa\\x01");
    assert_true(ps.req.flags & VG_REQ_ESCAPED);
    /* The preset and the LogFormat read the same line the same way. */
    struct vg_format *c = tcompile("combined");
    struct tparsed pc = {0};
    assert_int_equal(tparse(&pc, c, line), VG_PARSE_OK);
    assert_int_equal(pc.req.time, ps.req.time);
    assert_int_equal(pc.req.bytes, ps.req.bytes);
    assert_int_equal(pc.req.target.n, ps.req.target.n);
    tparsed_fini(&pc);
    tparsed_fini(&ps);
    vg_format_free(c);
    vg_format_free(f);
}

static void test_apache_vhost_headers_cookie_and_ignored_directives(void **state)
{
    (void)state;
    struct vg_format *f =
        tcompile("apache:%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\" "
                 "\"%{X-Forwarded-For}i\" \"%{Cookie}i\" \"%{Content-Type}i\" %D %{ms}T %k %X");
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f,
                            "www.example.org:443 2001:db8::1 - - [01/Aug/2026:00:00:00 +0000] "
                            "\"POST /login HTTP/1.1\" 302 512 \"-\" \"curl/8\" "
                            "\"198.51.100.2, 10.0.0.1\" \"sid=1; a=b\" "
                            "\"application/x-www-form-urlencoded\" 1234 1 0 +"),
                     VG_PARSE_OK);
    tassert_view(ps.req.host, "www.example.org");
    tassert_addr(&ps.req, "2001:db8::1");
    tassert_view(ps.req.cookie, "sid=1; a=b");
    tassert_view(ps.req.content_type, "application/x-www-form-urlencoded");
    tassert_view(ps.req.referer, NULL);
    const struct vg_header *h = theader(&ps.req, "X-Forwarded-For");
    assert_non_null(h);
    tassert_view(h->value, "198.51.100.2, 10.0.0.1");
    assert_int_equal(ps.req.bytes, 512);
    /* A port that is not a number is malformed. */
    assert_int_equal(tparse(&ps, f,
                            "www.example.org:x 2001:db8::1 - - [01/Aug/2026:00:00:00 +0000] "
                            "\"GET / HTTP/1.1\" 200 1 \"-\" \"-\" \"-\" \"-\" \"-\" 1 1 0 +"),
                     VG_PARSE_NUMBER);
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_apache_split_fields_join_into_target_and_request_line(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("apache:%a [%{%Y-%m-%dT%H:%M:%S%z}t] %m \"%U%q\" %H %s %B");
    assert_true(vg_format_needs_buf(f));
    struct tparsed ps = {0};
    const char *line = "192.0.2.1 [2026-08-01T02:00:00+0200] GET \"/s?q=1%27\" HTTP/1.1 200 5";
    assert_int_equal(tparse(&ps, f, line), VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542400);
    tassert_view(ps.req.target, "/s?q=1%27");
    tassert_view(ps.req.path, "/s");
    tassert_view(ps.req.query, "q=1%27");
    /* The request line detectors read is made from the parts. */
    tassert_view(ps.req.request, "GET /s?q=1%27 HTTP/1.1");
    tassert_views_inside(&ps, strlen(line));
    /* %U and %q apart: the target is joined in the parse buffer. */
    struct vg_format *g = tcompile("apache:%h %t %m %U %q %>s");
    assert_int_equal(tparse(&ps, g, "192.0.2.1 [01/Aug/2026:00:00:00 +0000] GET /x ?a=b 200"),
                     VG_PARSE_OK);
    tassert_view(ps.req.target, "/x?a=b");
    tassert_view(ps.req.query, "a=b");
    tassert_view(ps.req.request, "GET /x?a=b");
    assert_int_equal(tparse(&ps, g, "192.0.2.1 [01/Aug/2026:00:00:00 +0000] GET /x  200"),
                     VG_PARSE_OK);
    tassert_view(ps.req.target, "/x");
    tassert_view(ps.req.query, NULL);
    /* Without a buffer the target is the path (the query is still there for detectors). */
    const char *l2 = "192.0.2.1 [01/Aug/2026:00:00:00 +0000] GET /x ?a=b 200";
    struct vg_request r;
    assert_int_equal(vg_format_parse(g, (const uint8_t *)l2, strlen(l2), &r), VG_PARSE_OK);
    tassert_view(r.target, "/x");
    tassert_view(r.query, "a=b");
    tparsed_fini(&ps);
    vg_format_free(g);
    vg_format_free(f);
}

static void test_apache_time_forms_sec_msec_usec_begin_end_strftime(void **state)
{
    (void)state;
    const struct {
        const char *fmt;
        const char *t;
    } cases[] = {
        {"apache:%h %{sec}t %s", "1785542400"},
        {"apache:%h %{msec}t %s", "1785542400123"},
        {"apache:%h %{usec}t %s", "1785542400123456"},
        {"apache:%h %{begin:%d/%b/%Y:%H:%M:%S}t %s", "01/Aug/2026:00:00:00"},
        {"apache:%h [%{end:%d/%b/%Y %T %z}t] %s", "[01/Aug/2026 02:00:00 +0200]"},
        {"apache:%h %{%F_%T}t %s", "2026-08-01_00:00:00"},
        {"apache:%h %{%a, %d %B %Y %I:%M:%S %p %Z}t %s", "Sat, 01 August 2026 12:00:00 AM GMT"},
        {"apache:%h %{%Y/%j %H:%M:%S}t %s", "2026/213 00:00:00"},
        {"apache:%h %{%s}t %s", "1785542400"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct vg_format *f = tcompile(cases[i].fmt);
        char line[160];
        snprintf(line, sizeof line, "192.0.2.1 %s 200", cases[i].t);
        struct tparsed ps = {0};
        enum vg_parse_result r = tparse(&ps, f, line);
        if (r != VG_PARSE_OK || ps.req.time != 1785542400)
            print_error("case %zu %s: %s, time %lld\n", i, cases[i].fmt, vg_parse_strerror(r),
                        (long long)ps.req.time);
        assert_int_equal(r, VG_PARSE_OK);
        assert_int_equal(ps.req.time, 1785542400);
        tparsed_fini(&ps);
        vg_format_free(f);
    }
    /* A time that does not fit its pattern. */
    struct vg_format *f = tcompile("apache:%h %{%d/%b/%Y:%H:%M:%S}t %s");
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f, "192.0.2.1 01/Foo/2026:00:00:00 200"), VG_PARSE_TIME);
    assert_int_equal(tparse(&ps, f, "192.0.2.1 31/Feb/2026:00:00:00 200"), VG_PARSE_TIME);
    assert_int_equal(tparse(&ps, f, "192.0.2.1 01/Aug/2026:25:00:00 200"), VG_PARSE_TIME);
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_apache_condition_modifiers_and_dash_values(void **state)
{
    (void)state;
    struct vg_format *f =
        tcompile("apache:%h %<u %t \"%r\" %>s %b \"%!200,304{Referer}i\" \"%400,501{User-agent}i\"");
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f,
                            "192.0.2.1 - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 - "
                            "\"-\" \"-\""),
                     VG_PARSE_OK);
    tassert_view(ps.req.user, NULL);
    assert_int_equal(ps.req.bytes, -1);
    tassert_view(ps.req.referer, NULL);
    tassert_view(ps.req.user_agent, NULL);
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_apache_peer_address_from_mod_remoteip(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("apache:%a %{c}a %t \"%r\" %>s %b");
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f,
                            "198.51.100.9 10.0.0.2 [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" "
                            "200 1"),
                     VG_PARSE_OK);
    tassert_addr(&ps.req, "198.51.100.9");
    tassert_view(ps.req.peer, "10.0.0.2");
    tparsed_fini(&ps);
    vg_format_free(f);
}

/* Table-driven: LogFormat strings that must not compile, and what the message must say. */
static void test_apache_compile_rejects_bad_logformats(void **state)
{
    (void)state;
    const struct {
        const char *spec;
        const char *want;
    } cases[] = {
        {"apache:", "no variables"},
        {"apache:just text", "no variables"},
        {"apache:%h %Z", "unknown directive '%Z'"},
        {"apache:%h %{Referer", "unterminated '%{'"},
        {"apache:%h %", "'%' at the end"},
        {"apache:%h %i", "%i needs a header name"},
        {"apache:%h %{%Q}t", "'%Q'"},
        {"apache:%h\\n%u", "line break"},
        {"apache:%h \\", "lone backslash"},
        {"apache:%h%u", "two variables"},
        {"apache:%h %{}t", "empty time format"},
        {"apache:%h %Z", "position 4"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++)
        tcompile_fails(cases[i].spec, NULL, VG_E_FORMAT, cases[i].want);
    /* %% is a literal percent sign. */
    struct vg_format *f = tcompile("apache:%h 100%% %s");
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f, "192.0.2.1 100% 200"), VG_PARSE_OK);
    assert_int_equal(ps.req.status, 200);
    tparsed_fini(&ps);
    vg_format_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apache_combined_logformat_reads_apache_escapes),
        cmocka_unit_test(test_apache_vhost_headers_cookie_and_ignored_directives),
        cmocka_unit_test(test_apache_split_fields_join_into_target_and_request_line),
        cmocka_unit_test(test_apache_time_forms_sec_msec_usec_begin_end_strftime),
        cmocka_unit_test(test_apache_condition_modifiers_and_dash_values),
        cmocka_unit_test(test_apache_peer_address_from_mod_remoteip),
        cmocka_unit_test(test_apache_compile_rejects_bad_logformats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
