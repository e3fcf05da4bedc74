/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_haproxy_test.c: unit tests of HAProxy's HTTP log format (option httplog) as syslog
 * writes it: syslog prefixes, captured request headers named by the format, #XX escapes, cut
 * request lines, IPv6 clients, TCP lines and other malformed lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingest/ingest_test_util.h"

#define HA_TAIL                                                                                    \
    " [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 "  \
    "0/0 "

static void test_haproxy_reads_the_documented_example_with_any_syslog_prefix(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("haproxy");
    struct tparsed ps = {0};
    const char *prefixes[] = {
        "Feb  6 12:14:14 localhost haproxy[14389]: ",
        "<134>1 2009-02-06T12:14:14.655+00:00 lb1 haproxy 14389 - - ",
        "<134>Feb  6 12:14:14 haproxy[14389]: ",
        "",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(prefixes); i++) {
        char line[512];
        snprintf(line, sizeof line, "%s10.0.1.2:33317" HA_TAIL "{1wt.eu} {} \"GET /index.html "
                 "HTTP/1.1\"",
                 prefixes[i]);
        enum vg_parse_result r = tparse(&ps, f, line);
        if (r != VG_PARSE_OK)
            print_error("prefix %zu: %s\n", i, vg_parse_strerror(r));
        assert_int_equal(r, VG_PARSE_OK);
        tassert_addr(&ps.req, "10.0.1.2");
        assert_int_equal(ps.req.time, 1233922454);
        assert_int_equal(ps.req.status, 200);
        assert_int_equal(ps.req.bytes, 2750);
        tassert_view(ps.req.method, "GET");
        tassert_view(ps.req.target, "/index.html");
        tassert_view(ps.req.protocol, "HTTP/1.1");
        tassert_view(ps.req.host, NULL); /* captures are not named: not read */
    }
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_haproxy_named_captures_escapes_and_ipv6(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("haproxy:Host,User-Agent,X-Forwarded-For");
    struct tparsed ps = {0};
    const char *l = "Feb  6 12:14:14 lb haproxy[1]: 2001:db8::1:51234" HA_TAIL
                    "{ex.com|sqlmap/1.7 (#7bx#7d)|198.51.100.7} {text/html} "
                    "\"GET /s?q=#22x#23 HTTP/1.1\"";
    assert_int_equal(tparse(&ps, f, l), VG_PARSE_OK);
    tassert_addr(&ps.req, "2001:db8::1");
    tassert_view(ps.req.host, "ex.com");
    tassert_view(ps.req.user_agent, "sqlmap/1.7 ({x})");
    const struct vg_header *h = theader(&ps.req, "X-Forwarded-For");
    assert_non_null(h);
    tassert_view(h->value, "198.51.100.7");
    tassert_view(ps.req.query, "q=\\x22x#"); /* #XX rewritten as nginx writes a text log */
    tassert_views_inside(&ps, strlen(l));
    /* A raw backslash is escaped too, so that decode/ never reads \x41 typed by a client. */
    assert_int_equal(tparse(&ps, f, "10.0.0.1:1" HA_TAIL "{} \"GET /a\\x41#23 HTTP/1.1\""),
                     VG_PARSE_OK);
    tassert_view(ps.req.target, "/a\\x5Cx41#");
    /* Fewer captures than names, and an empty capture. */
    assert_int_equal(tparse(&ps, f, "10.0.0.1:1" HA_TAIL "{|ua} \"GET / HTTP/1.1\""),
                     VG_PARSE_OK);
    tassert_view(ps.req.host, NULL);
    tassert_view(ps.req.user_agent, "ua");
    /* HAProxy cuts long request lines without closing the quote; status -1, bytes +N. */
    struct vg_format *g = tcompile("haproxy");
    assert_int_equal(tparse(&ps, g,
                            "10.0.0.1:1 [06/Feb/2009:12:14:14.655] fe be/<NOSRV> -1/-1/-1/-1/0 -1 "
                            "+212 - - CR-- 1/1/0/0/0 0/0 \"GET /very/long/pa"),
                     VG_PARSE_OK);
    assert_int_equal(ps.req.status, -1);
    assert_int_equal(ps.req.bytes, 212);
    tassert_view(ps.req.target, "/very/long/pa");
    /* <BADREQ> is a request line that is not METHOD SP TARGET. */
    assert_int_equal(tparse(&ps, g,
                            "10.0.0.1:1 [06/Feb/2009:12:14:14.655] fe fe/<NOSRV> -1/-1/-1/-1/0 400 "
                            "187 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\""),
                     VG_PARSE_OK);
    assert_true(ps.req.flags & VG_REQ_BAD_REQLINE);
    tparsed_fini(&ps);
    vg_format_free(g);
    vg_format_free(f);
}

/* Table-driven: lines that are not HAProxy HTTP log lines, and why. */
static void test_haproxy_rejects_other_lines_with_a_reason(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("haproxy");
    struct tparsed ps = {0};
    const struct {
        const char *line;
        enum vg_parse_result want;
    } cases[] = {
        {"Feb  6 12:14:14 lb haproxy[1]: Proxy http-in started.", VG_PARSE_LITERAL},
        /* TCP mode: no status, no request */
        {"Feb  6 12:14:14 lb haproxy[1]: 10.0.0.1:1 [06/Feb/2009:12:14:14.655] fe be/s 0/0/5007 "
         "212 -- 0/0/0/0/3 0/0",
         VG_PARSE_LITERAL},
        {"x 999.0.0.1:1 [06/Feb/2009:12:14:14.655] fe be/s 1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0 "
         "\"GET / HTTP/1.1\"",
         VG_PARSE_ADDR},
        {"x 10.0.0.1:1 [06/Foo/2009:12:14:14.655] fe be/s 1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0 "
         "\"GET / HTTP/1.1\"",
         VG_PARSE_TIME},
        {"x 10.0.0.1:1 [06/Feb/2009:12:14:14.655] fe be/s 1/2/3/4/5 2000 1 - - ---- 1/1/1/1/0 "
         "0/0 \"GET / HTTP/1.1\"",
         VG_PARSE_STATUS},
        {"x 10.0.0.1:1 [06/Feb/2009:12:14:14.655] fe be/s 1/2/3/4/5 200 x - - ---- 1/1/1/1/0 0/0 "
         "\"GET / HTTP/1.1\"",
         VG_PARSE_NUMBER},
        {"x 10.0.0.1:1 [06/Feb/2009:12:14:14.655] fe be/s 1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0 "
         "{abc \"GET / HTTP/1.1\"",
         VG_PARSE_UNTERMINATED},
        {"x 10.0.0.1:1 [06/Feb/2009:12:14:14.655] fe be/s 1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0",
         VG_PARSE_MISSING},
        {"x 10.0.0.1:1 [06/Feb/2009:12:14:14.655] fe be/s 1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0 "
         "\"GET / HTTP/1.1\"x",
         VG_PARSE_TRAILING},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        enum vg_parse_result r = tparse(&ps, f, cases[i].line);
        if (r != cases[i].want)
            print_error("case %zu: got %s, want %s\n", i, vg_parse_strerror(r),
                        vg_parse_strerror(cases[i].want));
        assert_int_equal(r, cases[i].want);
    }
    /* Every cut of a good line parses or is rejected; none reads past its end. */
    const char *good = "Feb  6 12:14:14 lb haproxy[1]: 10.0.1.2:33317" HA_TAIL
                       "{1wt.eu} {} \"GET /index.html HTTP/1.1\"";
    for (size_t k = 1; k < strlen(good); k++)
        (void)tparse_n(&ps, f, good, k);
    /* Names that cannot be captures. */
    tcompile_fails("haproxy:Host,,UA", NULL, VG_E_FORMAT, "expected haproxy:Header");
    struct vg_format_options o = {NULL, "X-Forwarded-For", "10.0.0.0/8"};
    tcompile_fails("haproxy:Host", &o, VG_E_FORMAT, "does not capture that header");
    tparsed_fini(&ps);
    vg_format_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_haproxy_reads_the_documented_example_with_any_syslog_prefix),
        cmocka_unit_test(test_haproxy_named_captures_escapes_and_ipv6),
        cmocka_unit_test(test_haproxy_rejects_other_lines_with_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
