/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_w3c_test.c: unit tests of W3C extended logs (IIS): directives, the IIS default layout,
 * #Fields changes in the middle of a file (vg_format_bind), the reader's directive search
 * (vg_format_last_directive), W3C date/time in UTC, "-" fields, and bad directives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingest/ingest_test_util.h"

static struct vg_format *bind_ok(const struct vg_format *base, const char *line)
{
    struct vg_format *nb = NULL;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st = vg_format_bind(base, (const uint8_t *)line, strlen(line), &nb, &err);
    if (st != VG_OK)
        print_error("bind '%s': %s\n", line, err.message);
    assert_int_equal(st, VG_OK);
    return nb;
}

static void test_w3c_default_iis_layout_before_any_fields_line(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("w3c");
    assert_true(vg_format_has_directives(f));
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f, "#Software: Microsoft Internet Information Services 10.0"),
                     VG_PARSE_DIRECTIVE);
    assert_int_equal(tparse(&ps, f, "#Date: 2026-08-01 00:00:00\r"), VG_PARSE_DIRECTIVE);
    /* A UTF-8 byte order mark before the first directive. */
    assert_int_equal(tparse(&ps, f, "\xef\xbb\xbf#Software: IIS"), VG_PARSE_DIRECTIVE);
    const char *l = "2026-08-01 00:00:01 10.0.0.1 GET /default.aspx id=1%27+or+1=1 443 - "
                    "2001:db8::7 Mozilla/5.0+(Windows+NT+10.0) https://ex.com/ 200 0 0 15\r";
    assert_int_equal(tparse(&ps, f, l), VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542401);
    tassert_addr(&ps.req, "2001:db8::7");
    tassert_view(ps.req.method, "GET");
    tassert_view(ps.req.path, "/default.aspx");
    tassert_view(ps.req.query, "id=1%27+or+1=1");
    tassert_view(ps.req.target, "/default.aspx?id=1%27+or+1=1");
    tassert_view(ps.req.request, "GET /default.aspx?id=1%27+or+1=1");
    tassert_view(ps.req.user, NULL);
    tassert_view(ps.req.user_agent, "Mozilla/5.0+(Windows+NT+10.0)");
    tassert_view(ps.req.referer, "https://ex.com/");
    assert_int_equal(ps.req.status, 200);
    tassert_views_inside(&ps, strlen(l));
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_w3c_fields_directive_changes_the_layout_mid_file(void **state)
{
    (void)state;
    struct vg_format *base = tcompile("w3c");
    struct tparsed ps = {0};
    const char *fields = "#Fields: date time c-ip cs-username cs-method cs-uri-stem cs-uri-query "
                         "sc-status sc-bytes cs-version cs-host cs(Cookie) cs(X-Custom) "
                         "time-taken";
    assert_int_equal(tparse(&ps, base, fields), VG_PARSE_DIRECTIVE);
    struct vg_format *b1 = bind_ok(base, fields);
    assert_non_null(b1);
    assert_true(vg_format_has_directives(b1));
    assert_int_equal(tparse(&ps, b1,
                            "2026-08-01 23:59:59.123 192.0.2.5 alice POST /login.aspx - 302 120 "
                            "HTTP/1.1 www.example.org ASP.NET_SessionId=abc v1 31"),
                     VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542400 + 86399);
    tassert_view(ps.req.user, "alice");
    tassert_view(ps.req.query, NULL);
    tassert_view(ps.req.target, "/login.aspx");
    tassert_view(ps.req.protocol, "HTTP/1.1");
    tassert_view(ps.req.host, "www.example.org");
    tassert_view(ps.req.cookie, "ASP.NET_SessionId=abc");
    assert_int_equal(ps.req.bytes, 120);
    const struct vg_header *h = theader(&ps.req, "X-Custom");
    assert_non_null(h);
    tassert_view(h->value, "v1");
    /* The old layout no longer fits the new lines, and directives are directives in both. */
    assert_int_not_equal(tparse(&ps, base,
                                "2026-08-01 23:59:59 192.0.2.5 alice POST /login.aspx - 302 120 "
                                "HTTP/1.1 www.example.org a=b v1 31"),
                         VG_PARSE_OK);
    assert_int_equal(tparse(&ps, b1, "#Fields: date time c-ip"), VG_PARSE_DIRECTIVE);
    /* A directive that declares no layout binds nothing. */
    assert_null(bind_ok(b1, "#Date: 2026-08-02 00:00:00"));
    struct vg_format *b2 = bind_ok(b1, "#Fields: date time c-ip cs-uri sc-status");
    assert_int_equal(tparse(&ps, b2, "2026-08-02 00:00:00 192.0.2.6 /a?b=c 404"), VG_PARSE_OK);
    tassert_view(ps.req.target, "/a?b=c");
    assert_int_equal(tparse(&ps, b2, "2026-08-02 00:00:00 192.0.2.6 /a?b=c"), VG_PARSE_LITERAL);
    /* More values than #Fields lists (W3C values never hold a space) is a mismatch, not a
       status with a tail; trailing blanks are fine. */
    assert_int_equal(tparse(&ps, b2, "2026-08-02 00:00:00 192.0.2.6 /a?b=c 404 extra"),
                     VG_PARSE_TRAILING);
    assert_int_equal(tparse(&ps, b2, "2026-08-02 00:00:00 192.0.2.6 /a?b=c 404 \t"), VG_PARSE_OK);
    assert_int_equal(tparse(&ps, b2, "2026-08-02 24:00:00 192.0.2.6 /a 404"), VG_PARSE_TIME);
    assert_int_equal(tparse(&ps, b2, "2026-02-30 00:00:00 192.0.2.6 /a 404"), VG_PARSE_TIME);
    /* A date without a time is not a complete timestamp. */
    struct vg_format *b3 = bind_ok(b1, "#Fields: date c-ip cs-uri");
    assert_int_equal(tparse(&ps, b3, "2026-08-02 192.0.2.6 /a"), VG_PARSE_MISSING);
    tparsed_fini(&ps);
    vg_format_free(b3);
    vg_format_free(b2);
    vg_format_free(b1);
    vg_format_free(base);
}

static void test_w3c_bad_directives_are_refused(void **state)
{
    (void)state;
    struct vg_format *base = tcompile("w3c");
    const char *bad[] = {"#Fields:", "#Fields:    ", "#Fields: date date-and-date date"};
    for (size_t i = 0; i < 2; i++) {
        struct vg_format *nb = (struct vg_format *)1;
        struct vg_error err;
        assert_int_equal(vg_format_bind(base, (const uint8_t *)bad[i], strlen(bad[i]), &nb, &err),
                         VG_E_FORMAT);
        assert_null(nb);
        assert_non_null(strstr(err.message, "no field"));
    }
    /* Unknown field names are fields too (parsed and dropped). */
    struct vg_format *ok = bind_ok(base, bad[2]);
    assert_non_null(ok);
    vg_format_free(ok);
    /* A format without directives binds nothing and finds none. */
    struct vg_format *c = tcompile("combined");
    assert_false(vg_format_has_directives(c));
    assert_null(bind_ok(c, "#Fields: date time"));
    struct vg_str d;
    assert_false(vg_format_last_directive(c, (const uint8_t *)"#Fields: a\n", 11, &d));
    vg_format_free(c);
    vg_format_free(base);
}

static void test_w3c_last_directive_finds_the_last_fields_line_of_a_block(void **state)
{
    (void)state;
    struct vg_format *base = tcompile("w3c");
    const char block[] = "#Fields: date time c-ip\r\n"
                         "2026-08-01 00:00:00 192.0.2.1\n"
                         "x #Fields: not at a line start\n"
                         "#Fields: date time cs-uri\r\n"
                         "2026-08-01 00:00:00 /a\n";
    struct vg_str d;
    assert_true(vg_format_last_directive(base, (const uint8_t *)block, sizeof block - 1, &d));
    tassert_view(d, "#Fields: date time cs-uri");
    assert_true(vg_format_last_directive(base, (const uint8_t *)block, 30, &d));
    tassert_view(d, "#Fields: date time c-ip");
    assert_false(vg_format_last_directive(base, (const uint8_t *)block + 30, 10, &d));
    /* A directive cut at the end of the block is taken as far as it goes. */
    assert_true(vg_format_last_directive(base, (const uint8_t *)block, 70, &d));
    assert_true(d.n > 0 && d.n <= 70);
    vg_format_free(base);
}

static void test_w3c_real_ip_needs_the_field_in_every_layout(void **state)
{
    (void)state;
    struct vg_format_options o = {NULL, "X-Forwarded-For", "10.0.0.0/8"};
    struct vg_format *base = tcompile_opts("w3c", &o);
    struct vg_format *nb = NULL;
    struct vg_error err;
    const char *without = "#Fields: date time c-ip cs-uri";
    assert_int_equal(vg_format_bind(base, (const uint8_t *)without, strlen(without), &nb, &err),
                     VG_E_FORMAT);
    assert_non_null(strstr(err.message, "--real-ip"));
    /* IIS enhanced logging names a custom field by the header itself. */
    struct vg_format *b = bind_ok(base, "#Fields: date time c-ip cs-uri X-Forwarded-For");
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, b, "2026-08-01 00:00:00 10.0.0.5 /a 203.0.113.8,10.0.0.9"),
                     VG_PARSE_OK);
    tassert_addr(&ps.req, "203.0.113.8");
    tassert_view(ps.req.peer, "10.0.0.5");
    assert_true(ps.req.flags & VG_REQ_FORWARDED);
    vg_format_free(b);
    b = bind_ok(base, "#Fields: date time c-ip cs-uri cs(X-Forwarded-For)");
    assert_int_equal(tparse(&ps, b, "2026-08-01 00:00:00 198.51.100.1 /a 203.0.113.8"),
                     VG_PARSE_OK);
    tassert_addr(&ps.req, "198.51.100.1"); /* not from a trusted proxy: the chain is ignored */
    tparsed_fini(&ps);
    vg_format_free(b);
    vg_format_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_w3c_default_iis_layout_before_any_fields_line),
        cmocka_unit_test(test_w3c_fields_directive_changes_the_layout_mid_file),
        cmocka_unit_test(test_w3c_bad_directives_are_refused),
        cmocka_unit_test(test_w3c_last_directive_finds_the_last_fields_line_of_a_block),
        cmocka_unit_test(test_w3c_real_ip_needs_the_field_in_every_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
