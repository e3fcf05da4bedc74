/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_json_test.c: unit tests of JSON-lines formats: the generic key names (nginx
 * escape=json logs), the Caddy and Traefik presets (written from their documentation),
 * --json-map, JSON string escapes rewritten for decode/, time shapes, priorities between keys,
 * and malformed JSON with its reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingest/ingest_test_util.h"

/* A line of the dev corpus's shape (nginx log_format escape=json with variable-name keys). */
static const char nginx_json_line[] =
    "{\"time_iso8601\":\"2026-08-08T09:45:54+00:00\",\"remote_addr\":\"211.217.219.31\","
    "\"request_method\":\"POST\",\"request_uri\":\"/lib/exe/ajax.php\",\"server_protocol\":"
    "\"HTTP/1.1\",\"status\":200,\"body_bytes_sent\":5,\"request_time\":0.002,\"http_host\":"
    "\"127.0.0.1:28080\",\"http_referer\":\"\",\"http_user_agent\":\"Wfuzz/3.1.0\","
    "\"http_cookie\":\"\",\"content_type\":\"application/x-www-form-urlencoded\","
    "\"request_body\":\"call=qsearch&q=\\\\u003C\\u003cscript\\u003e\",\"request_id\":\"569e\"}";

static void test_json_generic_reads_nginx_escape_json_logs(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("json");
    assert_true(vg_format_needs_buf(f));
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f, nginx_json_line), VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1786182354);
    tassert_addr(&ps.req, "211.217.219.31");
    tassert_view(ps.req.method, "POST");
    tassert_view(ps.req.target, "/lib/exe/ajax.php");
    tassert_view(ps.req.query, NULL);
    tassert_view(ps.req.protocol, "HTTP/1.1");
    assert_int_equal(ps.req.status, 200);
    assert_int_equal(ps.req.bytes, 5);
    tassert_view(ps.req.host, "127.0.0.1:28080");
    tassert_view(ps.req.referer, NULL); /* "" is "not logged" */
    tassert_view(ps.req.cookie, NULL);
    tassert_view(ps.req.user_agent, "Wfuzz/3.1.0");
    tassert_view(ps.req.content_type, "application/x-www-form-urlencoded");
    /* Rewritten as nginx writes a text log: \\ is \x5C (then text), \u003c is '<'. */
    tassert_view(ps.req.body, "call=qsearch&q=\\x5Cu003C<script>");
    tassert_view(ps.req.request, "POST /lib/exe/ajax.php HTTP/1.1");
    assert_true(ps.req.flags & VG_REQ_ESCAPED);
    tassert_views_inside(&ps, strlen(nginx_json_line));
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_json_transcodes_escapes_that_decode_does_not_know(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("json");
    struct tparsed ps = {0};
    /* Everything comes out as nginx's escape=default writes it: \xHH (upper case) for quote,
       backslash, controls, DEL and bytes >= 0x80; other escapes undone. */
    const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"a\\u0026b=\\u003cx\\u003e", "a&b=<x>"},
        {"q\\u0022\\u005c\\\"\\\\", "q\\x22\\x5C\\x22\\x5C"},
        {"\\u0001\\u001f\\u007f\\n\\t", "\\x01\\x1F\\x7F\\x0A\\x09"},
        {"\\/etc\\/passwd", "/etc/passwd"},
        {"\\b\\f\\r", "\\x08\\x0C\\x0D"},
        {"\\u00e9\\u20ac", "\\xC3\\xA9\\xE2\\x82\\xAC"},
        {"\xc3\xa9t\xc3\xa9", "\\xC3\\xA9t\\xC3\\xA9"}, /* raw UTF-8 too */
        {"\\ud83d\\ude00", "\\xF0\\x9F\\x98\\x80"},     /* a surrogate pair */
        {"\\ud83dx", "\\xEF\\xBF\\xBDx"},              /* a lone surrogate */
        {"\\u12zz", "\\x5Cu12zz"},                        /* not hex: a backslash and text */
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        char line[512];
        snprintf(line, sizeof line,
                 "{\"time\":\"2026-08-01T00:00:00Z\",\"ip\":\"192.0.2.1\",\"method\":\"GET\","
                 "\"uri\":\"/\",\"ua\":\"%s\"}",
                 cases[i].in);
        assert_int_equal(tparse(&ps, f, line), VG_PARSE_OK);
        tassert_view(ps.req.user_agent, cases[i].want);
        tassert_views_inside(&ps, strlen(line));
    }
    /* The target is split after rewriting: an escaped '&' separates arguments. */
    const char *l = "{\"time\":\"2026-08-01T00:00:00Z\",\"ip\":\"192.0.2.1\",\"method\":\"GET\","
                    "\"uri\":\"/a?x=1\\u0026y=\\u003c\"}";
    assert_int_equal(tparse(&ps, f, l), VG_PARSE_OK);
    tassert_view(ps.req.query, "x=1&y=<");
    /* Without a parse buffer, values stay as logged. */
    struct vg_request r;
    assert_int_equal(vg_format_parse(f, (const uint8_t *)l, strlen(l), &r), VG_PARSE_OK);
    tassert_view(r.query, "x=1\\u0026y=\\u003c");
    /* Strings without anything to rewrite stay views into the line. */
    const char *plain = "{\"time\":\"2026-08-01T00:00:00Z\",\"ip\":\"192.0.2.1\",\"uri\":\"/a\"}";
    assert_int_equal(tparse(&ps, f, plain), VG_PARSE_OK);
    assert_true(ps.req.target.p >= ps.buf && ps.req.target.p < ps.buf + strlen(plain));
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_json_caddy_preset_reads_nested_request_and_header_lists(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("caddy");
    struct tparsed ps = {0};
    /* Caddy 2.7+: remote_ip is the socket, client_ip the client (after trusted_proxies). */
    const char *l =
        "{\"level\":\"info\",\"ts\":1785542400.5241024,\"logger\":\"http.log.access.log0\","
        "\"msg\":\"handled request\",\"request\":{\"remote_ip\":\"10.0.0.2\",\"remote_port\":"
        "\"41342\",\"client_ip\":\"2001:db8::5\",\"proto\":\"HTTP/2.0\",\"method\":\"GET\","
        "\"host\":\"example.com\",\"uri\":\"/search?q=1%27\",\"headers\":{\"User-Agent\":"
        "[\"sqlmap/1.7\",\"second\"],\"Accept\":[\"*/*\"],\"Cookie\":[\"a=b\"],\"Referer\":[],"
        "\"X-Api-Key\":[\"k1\"]},\"tls\":{\"resumed\":false,\"version\":772}},"
        "\"bytes_read\":0,\"user_id\":\"\",\"duration\":0.000929675,\"size\":10900,"
        "\"status\":200,\"resp_headers\":{\"Server\":[\"Caddy\"],\"Content-Type\":[\"text/html\"]}}";
    assert_int_equal(tparse(&ps, f, l), VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542400);
    tassert_addr(&ps.req, "2001:db8::5");
    tassert_view(ps.req.method, "GET");
    tassert_view(ps.req.target, "/search?q=1%27");
    tassert_view(ps.req.protocol, "HTTP/2.0");
    tassert_view(ps.req.host, "example.com");
    tassert_view(ps.req.user_agent, "sqlmap/1.7");
    tassert_view(ps.req.cookie, "a=b");
    tassert_view(ps.req.referer, NULL);
    tassert_view(ps.req.content_type, NULL); /* a response header, not the request's */
    assert_non_null(theader(&ps.req, "X-Api-Key"));
    assert_non_null(theader(&ps.req, "Accept"));
    assert_int_equal(ps.req.status, 200);
    assert_int_equal(ps.req.bytes, 10900);
    /* Older Caddy: remote_addr with a port. */
    const char *old = "{\"ts\":1785542400,\"request\":{\"remote_addr\":\"[2001:db8::9]:5555\","
                      "\"method\":\"GET\",\"uri\":\"/\"},\"status\":404}";
    assert_int_equal(tparse(&ps, f, old), VG_PARSE_OK);
    tassert_addr(&ps.req, "2001:db8::9");
    /* A non-access log line of Caddy is not a request. */
    assert_int_equal(tparse(&ps, f, "{\"level\":\"info\",\"ts\":1785542400,\"msg\":\"serving\"}"),
                     VG_PARSE_MISSING);
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_json_traefik_preset_reads_flat_keys_and_prefixed_headers(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("traefik");
    struct tparsed ps = {0};
    const char *l =
        "{\"ClientAddr\":\"192.0.2.10:54321\",\"ClientHost\":\"192.0.2.10\",\"ClientPort\":"
        "\"54321\",\"ClientUsername\":\"-\",\"DownstreamContentSize\":612,\"DownstreamStatus\":403,"
        "\"Duration\":1234567,\"OriginStatus\":0,\"RequestAddr\":\"example.com:443\","
        "\"RequestHost\":\"example.com\",\"RequestMethod\":\"GET\",\"RequestPath\":"
        "\"/a?b=\\u003cscript\\u003e\\u0026c=1\",\"RequestProtocol\":\"HTTP/1.1\","
        "\"StartLocal\":\"2026-08-01T02:00:00.123456789+02:00\",\"StartUTC\":"
        "\"2026-08-01T00:00:00.123456789Z\",\"entryPointName\":\"web\",\"level\":\"info\","
        "\"msg\":\"\",\"request_User-Agent\":\"Mozilla/5.0\",\"request_X-Forwarded-For\":"
        "\"10.1.1.1\",\"time\":\"2026-08-01T02:00:01+02:00\"}";
    assert_int_equal(tparse(&ps, f, l), VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542400);
    tassert_addr(&ps.req, "192.0.2.10");
    tassert_view(ps.req.user, NULL);
    tassert_view(ps.req.host, "example.com");
    tassert_view(ps.req.query, "b=<script>&c=1");
    tassert_view(ps.req.user_agent, "Mozilla/5.0");
    assert_int_equal(ps.req.status, 403);
    assert_int_equal(ps.req.bytes, 612);
    const struct vg_header *h = theader(&ps.req, "X-Forwarded-For");
    assert_non_null(h);
    tassert_view(h->value, "10.1.1.1");
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_json_map_adds_overrides_and_ignores_keys(void **state)
{
    (void)state;
    struct vg_format_options o = {"client=src.ip,time=when,target=req.url,method=verb,"
                                  "header:X-Api-Key=apikey,ignore=user_agent,status=code",
                                  NULL, NULL};
    struct vg_format *f = tcompile_opts("json", &o);
    struct tparsed ps = {0};
    const char *l = "{\"when\":\"01/Aug/2026:02:00:00 +0200\",\"src\":{\"ip\":\"192.0.2.3\"},"
                    "\"verb\":\"PUT\",\"req\":{\"url\":\"/x?y=z\"},\"apikey\":\"secret\","
                    "\"user_agent\":\"ignored\",\"code\":\"201\",\"ip\":\"192.0.2.99\"}";
    assert_int_equal(tparse(&ps, f, l), VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542400);
    tassert_addr(&ps.req, "192.0.2.3"); /* the user's key wins over the generic "ip" */
    tassert_view(ps.req.method, "PUT");
    tassert_view(ps.req.target, "/x?y=z");
    tassert_view(ps.req.user_agent, NULL);
    assert_int_equal(ps.req.status, 201);
    const struct vg_header *h = theader(&ps.req, "X-Api-Key");
    assert_non_null(h);
    tassert_view(h->value, "secret");
    vg_format_free(f);
    /* Maps that do not compile. */
    const struct {
        const char *map;
        const char *want;
    } bad[] = {
        {"nosuchfield=x", "unknown field 'nosuchfield'"},
        {"client", "is not field=key"},
        {"client=", "is not field=key"},
        {"=ip", "is not field=key"},
        {"client=a..b", "empty key"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        struct vg_format_options ob = {bad[i].map, NULL, NULL};
        tcompile_fails("json", &ob, VG_E_FORMAT, bad[i].want);
    }
    tparsed_fini(&ps);
}

static void test_json_time_shapes_and_key_priorities(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("json");
    struct tparsed ps = {0};
    const char *times[] = {
        "\"2026-08-01T00:00:00+00:00\"", "\"01/Aug/2026:00:00:00 +0000\"",
        "\"[01/Aug/2026:00:00:00 +0000]\"", "1785542400", "1785542400.5", "1785542400123",
        "\"1785542400123456\"", "\"2026-08-01 00:00:00\"",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(times); i++) {
        char line[256];
        snprintf(line, sizeof line,
                 "{\"timestamp\":%s,\"client\":\"192.0.2.1\",\"url\":\"/\",\"method\":\"GET\"}",
                 times[i]);
        enum vg_parse_result r = tparse(&ps, f, line);
        if (r != VG_PARSE_OK || ps.req.time != 1785542400)
            print_error("time %zu %s: %s %lld\n", i, times[i], vg_parse_strerror(r),
                        (long long)ps.req.time);
        assert_int_equal(r, VG_PARSE_OK);
        assert_int_equal(ps.req.time, 1785542400);
    }
    /* time_iso8601 (priority 1) wins over "time" (0) whatever their order; for keys of equal
       priority the first wins. */
    assert_int_equal(tparse(&ps, f,
                            "{\"time\":1,\"time_iso8601\":\"2026-08-01T00:00:00Z\",\"ip\":"
                            "\"192.0.2.1\",\"ua\":\"first\",\"agent\":\"second\",\"uri\":\"/\"}"),
                     VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542400);
    tassert_view(ps.req.user_agent, "first");
    tparsed_fini(&ps);
    vg_format_free(f);
}

/* Table-driven: lines that are not requests of a JSON format, and why. */
static void test_json_rejects_malformed_lines_with_a_reason(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("json");
    struct tparsed ps = {0};
    char deep[256] = "{\"time\":1785542400,\"uri\":\"/\",\"x\":";
    for (int i = 0; i < 20; i++)
        strcat(deep, "[");
    for (int i = 0; i < 20; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    const struct {
        const char *line;
        enum vg_parse_result want;
    } cases[] = {
        {"not json", VG_PARSE_JSON},
        {"[1,2]", VG_PARSE_JSON},
        {"{\"time\":1785542400,\"uri\":\"/", VG_PARSE_JSON},
        {"{\"time\":1785542400,\"uri\":\"/\"", VG_PARSE_JSON},
        {"{\"time\":1785542400,\"uri\":\"/\"} x", VG_PARSE_TRAILING},
        {"{\"time\":1785542400,\"uri\":\"/\",}", VG_PARSE_JSON},
        {"{\"time\":1785542400 \"uri\":\"/\"}", VG_PARSE_JSON},
        {"{\"time\":01,\"uri\":\"/\"}", VG_PARSE_JSON},
        {"{\"time\":1.,\"uri\":\"/\"}", VG_PARSE_JSON},
        {"{\"time\":-,\"uri\":\"/\"}", VG_PARSE_JSON},
        {"{\"time\":tru,\"uri\":\"/\"}", VG_PARSE_JSON},
        {"{\"time\":1785542400,\"uri\":\"/\",\"x\":\"\\", VG_PARSE_JSON},
        {deep, VG_PARSE_JSON},
        {"{\"uri\":\"/\"}", VG_PARSE_MISSING},
        {"{\"time\":1785542400}", VG_PARSE_MISSING},
        {"{\"time\":\"yesterday\",\"uri\":\"/\"}", VG_PARSE_TIME},
        {"{\"time\":1785542400,\"uri\":\"/\",\"ip\":\"not-an-ip\"}", VG_PARSE_ADDR},
        {"{\"time\":1785542400,\"uri\":\"/\",\"status\":2000}", VG_PARSE_STATUS},
        {"{\"time\":1785542400,\"uri\":\"/\",\"bytes\":-1}", VG_PARSE_NUMBER},
        {"\0{}", VG_PARSE_BINARY},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        size_t n = cases[i].line[0] ? strlen(cases[i].line) : 3;
        enum vg_parse_result r = tparse_n(&ps, f, cases[i].line, n);
        if (r != cases[i].want)
            print_error("case %zu: got %s, want %s\n", i, vg_parse_strerror(r),
                        vg_parse_strerror(cases[i].want));
        assert_int_equal(r, cases[i].want);
    }
    /* Every cut of a good line is rejected, never read past. */
    size_t n = strlen(nginx_json_line);
    for (size_t k = 1; k < n; k++) {
        enum vg_parse_result r = tparse_n(&ps, f, nginx_json_line, k);
        assert_int_not_equal(r, VG_PARSE_OK);
    }
    /* Null, booleans and nested values of unknown keys are skipped. */
    assert_int_equal(tparse(&ps, f,
                            "{\"time\":1785542400,\"uri\":\"/\",\"a\":null,\"b\":true,\"c\":false,"
                            "\"d\":{\"e\":[1,{\"f\":\"g\"}]},\"ip\":null}"),
                     VG_PARSE_OK);
    assert_false(ps.req.flags & VG_REQ_HAS_ADDR);
    tparsed_fini(&ps);
    vg_format_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_generic_reads_nginx_escape_json_logs),
        cmocka_unit_test(test_json_transcodes_escapes_that_decode_does_not_know),
        cmocka_unit_test(test_json_caddy_preset_reads_nested_request_and_header_lists),
        cmocka_unit_test(test_json_traefik_preset_reads_flat_keys_and_prefixed_headers),
        cmocka_unit_test(test_json_map_adds_overrides_and_ignores_keys),
        cmocka_unit_test(test_json_time_shapes_and_key_priorities),
        cmocka_unit_test(test_json_rejects_malformed_lines_with_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
