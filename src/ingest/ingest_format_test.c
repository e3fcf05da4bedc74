/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_format_test.c: unit tests of the log format compiler, the line parser, the request-line
 * split, $time_local parsing and the argument iterator.
 *
 * Every line is copied into an exact-size heap buffer before parsing, so that AddressSanitizer
 * sees any read past the end of a line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ingest/ingest.h"
#include "ingest/ingest_test_util.h"

/* ---- helpers -------------------------------------------------------------------------------- */

struct parsed {
    uint8_t *buf;
    struct vg_request req;
};

static enum vg_parse_result parse_n(struct parsed *ps, const struct vg_format *f, const void *line,
                                    size_t n)
{
    free(ps->buf);
    ps->buf = malloc(n ? n : 1);
    assert_non_null(ps->buf);
    memcpy(ps->buf, line, n);
    return vg_format_parse(f, ps->buf, n, &ps->req);
}

static enum vg_parse_result parse(struct parsed *ps, const struct vg_format *f, const char *line)
{
    return parse_n(ps, f, line, strlen(line));
}

static void parsed_fini(struct parsed *ps)
{
    free(ps->buf);
    ps->buf = NULL;
}

static struct vg_format *compile_ok(const char *spec)
{
    struct vg_format *f = NULL;
    struct vg_error err;
    vg_status st = vg_format_compile(spec, &f, &err);
    if (st != VG_OK)
        print_error("compile '%s': %s\n", spec, err.message);
    assert_int_equal(st, VG_OK);
    assert_non_null(f);
    return f;
}

/* Asserts that a view holds exactly the text `want` (NULL: the view is {NULL, 0}). */
#define assert_view(view, want) assert_view_impl((view), (want), #view, __FILE__, __LINE__)
static void assert_view_impl(struct vg_str v, const char *want, const char *what, const char *file,
                             int line)
{
    if (!want) {
        if (v.p != NULL || v.n != 0) {
            print_error("%s:%d: %s: expected {NULL,0}, got \"%.*s\"\n", file, line, what, (int)v.n,
                        v.p ? (const char *)v.p : "");
            fail();
        }
        return;
    }
    size_t n = strlen(want);
    if (v.n != n || (n && memcmp(v.p, want, n) != 0)) {
        print_error("%s:%d: %s: expected \"%s\", got \"%.*s\" (len %zu)\n", file, line, what, want,
                    (int)v.n, v.p ? (const char *)v.p : "(null)", v.n);
        fail();
    }
}

/* Asserts that every non-empty view of req lies inside [line, line + len). */
static void assert_views_inside(const struct parsed *ps, size_t len)
{
    const struct vg_request *r = &ps->req;
    const struct vg_str views[] = {r->client, r->user,   r->request,  r->method,      r->target,
                                   r->path,   r->query,  r->protocol, r->referer,     r->user_agent,
                                   r->host,   r->cookie, r->body,     r->content_type};
    for (size_t i = 0; i < VG_ARRAY_LEN(views); i++) {
        if (views[i].n == 0)
            continue;
        assert_true(views[i].p >= ps->buf);
        assert_true(views[i].p + views[i].n <= ps->buf + len);
    }
}

static int64_t time_of(const char *s)
{
    int64_t t = 0;
    assert_true(vg_parse_time_local((const uint8_t *)s, strlen(s), &t));
    return t;
}

/* ---- presets -------------------------------------------------------------------------------- */

struct presets {
    struct vg_format *combined, *common, *vhost;
};

static int presets_setup(void **state)
{
    struct presets *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    p->combined = compile_ok("combined");
    p->common = compile_ok("common");
    p->vhost = compile_ok("vhost_combined");
    *state = p;
    return 0;
}

static int presets_teardown(void **state)
{
    struct presets *p = *state;
    vg_format_free(p->combined);
    vg_format_free(p->common);
    vg_format_free(p->vhost);
    free(p);
    return 0;
}

static void test_combined_parses_every_field_of_a_typical_line(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    const char *line = "203.0.113.7 - alice [01/Aug/2026:00:00:00 +0000] "
                       "\"GET /doku.php?id=start&do=edit HTTP/1.1\" 200 12802 "
                       "\"https://example.org/a\" \"Mozilla/5.0 (X11; Linux x86_64)\"";
    ps.req.file_id = 7;
    ps.req.offset = 1234;
    ps.req.line_no = 42;
    assert_int_equal(parse(&ps, p->combined, line), VG_PARSE_OK);
    const struct vg_request *r = &ps.req;
    assert_view(r->line, line);
    assert_view(r->client, "203.0.113.7");
    assert_view(r->user, "alice");
    assert_view(r->request, "GET /doku.php?id=start&do=edit HTTP/1.1");
    assert_view(r->method, "GET");
    assert_view(r->target, "/doku.php?id=start&do=edit");
    assert_view(r->path, "/doku.php");
    assert_view(r->query, "id=start&do=edit");
    assert_view(r->protocol, "HTTP/1.1");
    assert_view(r->referer, "https://example.org/a");
    assert_view(r->user_agent, "Mozilla/5.0 (X11; Linux x86_64)");
    assert_view(r->host, NULL);
    assert_view(r->cookie, NULL);
    assert_view(r->body, NULL);
    assert_view(r->content_type, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->bytes, 12802);
    assert_int_equal(r->time, 1785542400);
    assert_int_equal(r->flags, VG_REQ_HAS_ADDR | VG_REQ_HAS_TIME);
    assert_true(vg_addr_is_v4(&r->addr));
    assert_int_equal(r->addr.b[12], 203);
    assert_int_equal(r->addr.b[15], 7);
    /* The pipeline's own fields are left alone. */
    assert_int_equal(r->file_id, 7);
    assert_int_equal(r->offset, 1234);
    assert_int_equal(r->line_no, 42);
    parsed_fini(&ps);
}

static void test_combined_accepts_ipv6_clients(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    const char *line = "2001:db8::1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/2.0\" 304 0 "
                       "\"-\" \"curl/8.5.0\"";
    assert_int_equal(parse(&ps, p->combined, line), VG_PARSE_OK);
    assert_view(ps.req.client, "2001:db8::1");
    assert_false(vg_addr_is_v4(&ps.req.addr));
    assert_int_equal(ps.req.addr.b[0], 0x20);
    assert_int_equal(ps.req.addr.b[1], 0x01);
    assert_int_equal(ps.req.addr.b[15], 1);
    assert_int_equal(ps.req.time, 971211336);
    assert_int_equal(ps.req.bytes, 0);
    assert_int_equal(parse(&ps, p->combined,
                           "::ffff:198.51.100.3 - - [01/Aug/2026:00:00:00 +0000] "
                           "\"GET / HTTP/1.1\" 200 1 \"-\" \"-\""),
                     VG_PARSE_OK);
    assert_true(vg_addr_is_v4(&ps.req.addr));
    assert_int_equal(ps.req.addr.b[12], 198);
    parsed_fini(&ps);
}

static void test_combined_maps_dash_to_empty_and_dash_bytes_to_minus_one(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, p->combined,
                           "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 499 - "
                           "\"-\" \"-\""),
                     VG_PARSE_OK);
    assert_view(ps.req.user, NULL);
    assert_view(ps.req.referer, NULL);
    assert_view(ps.req.user_agent, NULL);
    assert_int_equal(ps.req.bytes, -1);
    assert_int_equal(ps.req.status, 499);
    /* A dash is only "empty" alone: "--" or "-x" are values. */
    assert_int_equal(parse(&ps, p->combined,
                           "192.0.2.1 - -x [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 "
                           "\"--\" \"- \""),
                     VG_PARSE_OK);
    assert_view(ps.req.user, "-x");
    assert_view(ps.req.referer, "--");
    assert_view(ps.req.user_agent, "- ");
    parsed_fini(&ps);
}

static void test_combined_keeps_apache_backslash_quote_escapes(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    const char *line = "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "
                       "\"GET /q?x=\\\"a\\\" HTTP/1.1\" 200 5 \"-\" "
                       "\"Mozilla \\\"quoted\\\" \\\\\"";
    assert_int_equal(parse(&ps, p->combined, line), VG_PARSE_OK);
    assert_view(ps.req.target, "/q?x=\\\"a\\\"");
    assert_view(ps.req.query, "x=\\\"a\\\"");
    /* The UA ends with an escaped backslash: \\" closes the field. */
    assert_view(ps.req.user_agent, "Mozilla \\\"quoted\\\" \\\\");
    assert_true(ps.req.flags & VG_REQ_ESCAPED);
    parsed_fini(&ps);
}

static void test_combined_keeps_nginx_hex_escapes(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    const char *line = "67.208.229.37 - - [29/Aug/2026:20:18:13 +0000] "
                       "\"GET /doku.php?id=\\x22><script>\\x22 HTTP/1.1\" 404 10810 \"-\" "
                       "\"Wfuzz/3.1.0\"";
    assert_int_equal(parse(&ps, p->combined, line), VG_PARSE_OK);
    assert_view(ps.req.query, "id=\\x22><script>\\x22");
    assert_true(ps.req.flags & VG_REQ_ESCAPED);
    /* No backslash anywhere: not escaped. */
    assert_int_equal(parse(&ps, p->combined,
                           "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 "
                           "\"-\" \"a\""),
                     VG_PARSE_OK);
    assert_false(ps.req.flags & VG_REQ_ESCAPED);
    parsed_fini(&ps);
}

static void test_combined_tolerates_crlf(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    const char *line = "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 "
                       "\"-\" \"ua\"\r";
    assert_int_equal(parse(&ps, p->combined, line), VG_PARSE_OK);
    assert_view(ps.req.user_agent, "ua");
    assert_int_equal(ps.req.line.n, strlen(line) - 1);
    parsed_fini(&ps);
}

static void test_combined_accepts_request_lines_with_spaces(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, p->combined,
                           "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "
                           "\"GET /a b/c?q=1 2 HTTP/1.1\" 400 150 \"-\" \"-\""),
                     VG_PARSE_OK);
    assert_view(ps.req.method, "GET");
    assert_view(ps.req.target, "/a b/c?q=1 2");
    assert_view(ps.req.path, "/a b/c");
    assert_view(ps.req.query, "q=1 2");
    assert_view(ps.req.protocol, "HTTP/1.1");
    assert_false(ps.req.flags & VG_REQ_BAD_REQLINE);
    parsed_fini(&ps);
}

static void test_combined_accepts_tls_handshake_garbage_as_a_bad_request_line(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, p->combined,
                           "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "
                           "\"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03\" 400 150 "
                           "\"-\" \"-\""),
                     VG_PARSE_OK);
    assert_int_equal(ps.req.status, 400);
    assert_true(ps.req.flags & VG_REQ_BAD_REQLINE);
    assert_true(ps.req.flags & VG_REQ_ESCAPED);
    assert_view(ps.req.method, NULL);
    assert_view(ps.req.protocol, NULL);
    assert_view(ps.req.target, "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03");
    assert_view(ps.req.path, "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03");
    /* An empty request line (client connected and closed) is a valid log line too. */
    assert_int_equal(parse(&ps, p->combined,
                           "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"\" 400 0 \"-\" \"-\""),
                     VG_PARSE_OK);
    assert_true(ps.req.flags & VG_REQ_BAD_REQLINE);
    assert_int_equal(ps.req.request.n, 0);
    parsed_fini(&ps);
}

static void test_combined_skips_unescaped_stray_quotes_by_lookahead(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, p->combined,
                           "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "
                           "\"GET /a\"b HTTP/1.1\" 200 5 \"http://r/\"x\" \"Mo \"zilla\"/5\""),
                     VG_PARSE_OK);
    assert_view(ps.req.request, "GET /a\"b HTTP/1.1");
    assert_view(ps.req.referer, "http://r/\"x");
    assert_view(ps.req.user_agent, "Mo \"zilla\"/5");
    /* In the last field, a stray quote followed by a space ends it: the rest is taken for
       appended fields (as nginx's "main" format appends "$http_x_forwarded_for"). */
    assert_int_equal(parse(&ps, p->combined,
                           "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "
                           "\"GET / HTTP/1.1\" 200 5 \"-\" \"Mo \"zilla\" 5\""),
                     VG_PARSE_OK);
    assert_view(ps.req.user_agent, "Mo \"zilla");
    parsed_fini(&ps);
}

static void test_combined_ignores_appended_fields_after_a_space(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, p->combined,
                           "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 "
                           "\"-\" \"ua\" \"198.51.100.9, 10.0.0.1\" rt=0.012"),
                     VG_PARSE_OK);
    assert_view(ps.req.user_agent, "ua");
    /* A combined line read with the common preset: the two quoted fields are extra. */
    assert_int_equal(parse(&ps, p->common,
                           "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 "
                           "\"-\" \"ua\""),
                     VG_PARSE_OK);
    assert_int_equal(ps.req.bytes, 5);
    assert_view(ps.req.user_agent, NULL);
    parsed_fini(&ps);
}

static void test_combined_accepts_very_long_lines(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    const size_t ua_n = 1u << 20;
    const char *head = "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET /";
    const char *mid = " HTTP/1.1\" 200 5 \"-\" \"";
    size_t n = strlen(head) + ua_n + strlen(mid) + ua_n + 1;
    char *line = malloc(n);
    assert_non_null(line);
    size_t o = 0;
    memcpy(line + o, head, strlen(head));
    o += strlen(head);
    memset(line + o, 'a', ua_n);
    o += ua_n;
    memcpy(line + o, mid, strlen(mid));
    o += strlen(mid);
    memset(line + o, 'b', ua_n);
    o += ua_n;
    line[o++] = '"';
    assert_int_equal(o, n);
    assert_int_equal(parse_n(&ps, p->combined, line, n), VG_PARSE_OK);
    assert_int_equal(ps.req.path.n, ua_n + 1);
    assert_int_equal(ps.req.user_agent.n, ua_n);
    assert_views_inside(&ps, n);
    free(line);
    parsed_fini(&ps);
}

static void test_combined_keeps_nul_bytes_inside_quoted_fields(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    static const char line[] = "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET /a\0b HTTP/1.1\" "
                               "200 5 \"-\" \"u\0a\"";
    assert_int_equal(parse_n(&ps, p->combined, line, sizeof line - 1), VG_PARSE_OK);
    assert_int_equal(ps.req.path.n, 4);
    assert_int_equal(ps.req.path.p[2], 0);
    assert_int_equal(ps.req.user_agent.n, 3);
    parsed_fini(&ps);
}

static void test_combined_rejects_nul_bytes_outside_quoted_fields(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    static const char in_user[] = "192.0.2.1 - a\0b [01/Aug/2026:00:00:00 +0000] "
                                  "\"GET / HTTP/1.1\" 200 5 \"-\" \"-\"";
    static const char in_addr[] = "192.0.2\0.1 - - [01/Aug/2026:00:00:00 +0000] "
                                  "\"GET / HTTP/1.1\" 200 5 \"-\" \"-\"";
    static const char in_status[] = "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "
                                    "\"GET / HTTP/1.1\" 2\00 5 \"-\" \"-\"";
    static const char trailing[] = "192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "
                                   "\"GET / HTTP/1.1\" 200 5 \"-\" \"-\"\0\0";
    /* What a crash leaves in a log file: a run of NULs, then the next line. */
    static const char nul_run[] = "\0\0\0\0\0\0\0\0192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] "
                                  "\"GET / HTTP/1.1\" 200 5 \"-\" \"-\"";
    static const char only_nuls[] = "\0\0\0\0";
    const struct {
        const char *line;
        size_t n;
    } cases[] = {
        {in_user, sizeof in_user - 1},     {in_addr, sizeof in_addr - 1},
        {in_status, sizeof in_status - 1}, {trailing, sizeof trailing - 1},
        {nul_run, sizeof nul_run - 1},     {only_nuls, sizeof only_nuls - 1},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        enum vg_parse_result r = parse_n(&ps, p->combined, cases[i].line, cases[i].n);
        if (r != VG_PARSE_BINARY)
            print_error("case %zu: %s\n", i, vg_parse_strerror(r));
        assert_int_equal(r, VG_PARSE_BINARY);
    }
    parsed_fini(&ps);
}

/* Table-driven: malformed combined lines and the reason each must give. */
static void test_combined_rejects_malformed_lines_with_a_reason(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    const struct {
        const char *line;
        enum vg_parse_result want;
    } cases[] = {
        {"", VG_PARSE_EMPTY},
        {"   \t ", VG_PARSE_EMPTY},
        {"\r", VG_PARSE_EMPTY},
        {"garbage", VG_PARSE_LITERAL},
        {"hello world how are you", VG_PARSE_LITERAL},
        {"192.0.2.1", VG_PARSE_LITERAL},
        {"192.0.2.1 - -", VG_PARSE_LITERAL},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000", VG_PARSE_UNTERMINATED},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1", VG_PARSE_UNTERMINATED},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200", VG_PARSE_LITERAL},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5", VG_PARSE_LITERAL},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-",
         VG_PARSE_UNTERMINATED},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua",
         VG_PARSE_UNTERMINATED},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\"x",
         VG_PARSE_TRAILING},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\\\"",
         VG_PARSE_UNTERMINATED},
        {"192.0.2.1:8080 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
         VG_PARSE_ADDR},
        {"[2001:db8::1] - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
         VG_PARSE_ADDR},
        {"[2001:db8::1]:443 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" "
         "\"-\"",
         VG_PARSE_ADDR},
        {"example.com - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
         VG_PARSE_ADDR},
        {"256.0.0.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
         VG_PARSE_ADDR},
        {"01.2.3.4 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
         VG_PARSE_ADDR},
        {"- - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"", VG_PARSE_ADDR},
        {"192.0.2.1 - - [01/aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
         VG_PARSE_TIME},
        {"192.0.2.1 - - [32/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
         VG_PARSE_TIME},
        {"192.0.2.1 - - [] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"", VG_PARSE_TIME},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 20 5 \"-\" \"-\"",
         VG_PARSE_STATUS},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 2000 5 \"-\" \"-\"",
         VG_PARSE_STATUS},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" abc 5 \"-\" \"-\"",
         VG_PARSE_STATUS},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" - 5 \"-\" \"-\"",
         VG_PARSE_STATUS},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5k \"-\" \"-\"",
         VG_PARSE_NUMBER},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 -5 \"-\" \"-\"",
         VG_PARSE_NUMBER},
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 "
         "99999999999999999999 \"-\" \"-\"",
         VG_PARSE_NUMBER},
        /* Wrong format: an Apache vhost_combined line read as combined. */
        {"www.example.org:443 192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 "
         "5 \"-\" \"-\"",
         VG_PARSE_ADDR},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        enum vg_parse_result r = parse(&ps, p->combined, cases[i].line);
        if (r != cases[i].want)
            print_error("case %zu \"%s\": got %d (%s), want %d (%s)\n", i, cases[i].line, r,
                        vg_parse_strerror(r), cases[i].want, vg_parse_strerror(cases[i].want));
        assert_int_equal(r, cases[i].want);
        assert_views_inside(&ps, strlen(cases[i].line));
    }
    parsed_fini(&ps);
}

/* Every prefix of a good line is rejected (never read past its end: ASan checks). */
static void test_combined_rejects_every_truncation_of_a_good_line(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    const char *line = "192.0.2.1 - bob [01/Aug/2026:00:00:00 +0000] \"POST /login.php HTTP/1.1\" "
                       "302 0 \"https://example.org/\" \"Mozilla/5.0\"";
    size_t n = strlen(line);
    for (size_t k = 0; k < n; k++) {
        enum vg_parse_result r = parse_n(&ps, p->combined, line, k);
        assert_int_not_equal(r, VG_PARSE_OK);
    }
    assert_int_equal(parse_n(&ps, p->combined, line, n), VG_PARSE_OK);
    parsed_fini(&ps);
}

static void test_common_parses_lines_without_referer_and_agent(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, p->common,
                           "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "
                           "\"GET /apache_pb.gif HTTP/1.0\" 200 2326"),
                     VG_PARSE_OK);
    assert_view(ps.req.user, "frank");
    assert_view(ps.req.path, "/apache_pb.gif");
    assert_view(ps.req.referer, NULL);
    assert_int_equal(ps.req.bytes, 2326);
    assert_int_equal(ps.req.time, 971211336);
    assert_int_equal(parse(&ps, p->common,
                           "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "
                           "\"GET /apache_pb.gif HTTP/1.0\" 200 2326x"),
                     VG_PARSE_NUMBER);
    assert_int_equal(parse(&ps, p->common,
                           "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "
                           "\"GET /apache_pb.gif HTTP/1.0\" 200"),
                     VG_PARSE_LITERAL);
    parsed_fini(&ps);
}

static void test_vhost_combined_parses_host_port_and_ident(void **state)
{
    struct presets *p = *state;
    struct parsed ps = {0};
    assert_string_equal(vg_format_name(p->vhost), "vhost_combined");
    assert_int_equal(parse(&ps, p->vhost,
                           "www.example.org:443 2001:db8::7 - - [01/Aug/2026:00:00:00 +0200] "
                           "\"GET /wp-login.php HTTP/1.1\" 404 512 \"-\" \"python-requests/2.31\""),
                     VG_PARSE_OK);
    assert_view(ps.req.host, "www.example.org");
    assert_view(ps.req.client, "2001:db8::7");
    assert_view(ps.req.user, NULL);
    assert_int_equal(ps.req.time, 1785542400 - 7200);
    assert_int_equal(ps.req.status, 404);
    assert_int_equal(ps.req.bytes, 512);
    assert_view(ps.req.user_agent, "python-requests/2.31");

    const struct {
        const char *line;
        enum vg_parse_result want;
    } bad[] = {
        {"www.example.org:https 192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" "
         "200 5 \"-\" \"-\"",
         VG_PARSE_NUMBER},
        {"www.example.org:99999 192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" "
         "200 5 \"-\" \"-\"",
         VG_PARSE_NUMBER},
        /* No ":port": the host runs to the first colon, in the time, and the "port" is not one. */
        {"www.example.org 192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 "
         "\"-\" \"-\"",
         VG_PARSE_NUMBER},
        /* A combined line: the same, the "port" is "00:00:00". */
        {"192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"",
         VG_PARSE_NUMBER},
        {"www.example.org:80", VG_PARSE_LITERAL},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        enum vg_parse_result r = parse(&ps, p->vhost, bad[i].line);
        if (r != bad[i].want)
            print_error("case %zu: got %s\n", i, vg_parse_strerror(r));
        assert_int_equal(r, bad[i].want);
    }
    parsed_fini(&ps);
}

/* ---- custom nginx formats ------------------------------------------------------------------- */

static void test_nginx_format_with_time_iso8601_and_split_request_fields(void **state)
{
    (void)state;
    struct vg_format *f = compile_ok("nginx:$time_iso8601 $remote_addr \"$request_method "
                                     "$request_uri $server_protocol\" $status $bytes_sent "
                                     "$request_time \"$http_host\"");
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, f,
                           "2026-08-01T02:00:00+02:00 192.0.2.1 \"PUT /a/b?c=d HTTP/2.0\" 201 99 "
                           "0.004 \"example.org\""),
                     VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542400);
    assert_true(ps.req.flags & VG_REQ_HAS_TIME);
    assert_view(ps.req.method, "PUT");
    assert_view(ps.req.target, "/a/b?c=d");
    assert_view(ps.req.path, "/a/b");
    assert_view(ps.req.query, "c=d");
    assert_view(ps.req.protocol, "HTTP/2.0");
    assert_view(ps.req.request, NULL);
    assert_view(ps.req.host, "example.org");
    assert_int_equal(ps.req.bytes, 99);
    /* Other offsets, and the variants: Z, fraction, offset without colon. */
    const struct {
        const char *t;
        int64_t want;
    } times[] = {
        {"2026-07-31T19:30:00-04:30", 1785542400},
        {"2026-08-01T00:00:00Z", 1785542400},
        {"2026-08-01T00:00:00.123+00:00", 1785542400},
        {"2026-08-01T00:00:00+0000", 1785542400},
        {"1970-01-01T00:00:00+00:00", 0},
        {"2026-08-01T00:00:00", 1785542400},     /* no offset: UTC */
        {"2026-08-01T01:00:00+01", 1785542400},  /* hours-only offset */
        {"2026-08-01T00:00:00,5Z", 1785542400},  /* comma fraction (ISO 8601) */
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(times); i++) {
        char line[256];
        snprintf(line, sizeof line, "%s 192.0.2.1 \"GET / HTTP/1.1\" 200 1 0.1 \"-\"", times[i].t);
        assert_int_equal(parse(&ps, f, line), VG_PARSE_OK);
        assert_int_equal(ps.req.time, times[i].want);
    }
    const char *bad_times[] = {
        "2026-08-01_00:00:00+00:00", "2026-13-01T00:00:00+00:00",  "2026-02-30T00:00:00+00:00",
        "2026-08-01T24:00:00+00:00", "2026-08-01T00:00",           "2026-08-01T00:00:00+0",
        "2026-08-01T00:00:00+0:00",  "2026-08-01T00:00:00.+00:00", "2026-08-01T00:00:00+00:00x",
        "26-08-01T00:00:00+00:00",   "2026-08-01T00:00:00+24:00",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad_times); i++) {
        char line[256];
        snprintf(line, sizeof line, "%s 192.0.2.1 \"GET / HTTP/1.1\" 200 1 0.1 \"-\"",
                 bad_times[i]);
        enum vg_parse_result r = parse(&ps, f, line);
        if (r != VG_PARSE_TIME)
            print_error("bad time %zu \"%s\": %s\n", i, bad_times[i], vg_parse_strerror(r));
        assert_int_equal(r, VG_PARSE_TIME);
    }
    parsed_fini(&ps);
    vg_format_free(f);
}

static void test_nginx_format_with_msec_and_request_body(void **state)
{
    (void)state;
    struct vg_format *f = compile_ok("nginx:${msec} ${remote_addr} \"${request}\" ${status} "
                                     "\"${content_type}\" \"${request_body}\" \"${http_cookie}\"");
    assert_string_equal(vg_format_name(f), "nginx:${msec} ${remote_addr} \"${request}\" "
                                           "${status} \"${content_type}\" \"${request_body}\" "
                                           "\"${http_cookie}\"");
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, f,
                           "1785542400.123 192.0.2.1 \"POST /lib/exe/ajax.php HTTP/1.1\" 200 "
                           "\"application/x-www-form-urlencoded\" \"call=qsearch&q=\\x22x\" "
                           "\"DokuWiki=abc; theme=dark\""),
                     VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542400);
    assert_view(ps.req.method, "POST");
    assert_view(ps.req.content_type, "application/x-www-form-urlencoded");
    assert_view(ps.req.body, "call=qsearch&q=\\x22x");
    assert_view(ps.req.cookie, "DokuWiki=abc; theme=dark");
    assert_true(ps.req.flags & VG_REQ_ESCAPED);
    assert_int_equal(ps.req.bytes, -1);
    assert_int_equal(parse(&ps, f, "1785542400 192.0.2.1 \"GET / HTTP/1.1\" 200 \"-\" \"-\" \"-\""),
                     VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542400);
    assert_view(ps.req.body, NULL);
    assert_view(ps.req.cookie, NULL);
    assert_view(ps.req.content_type, NULL);
    const char *bad_msec[] = {"x",           "1785542400.",           ".5", "1785542400.12a",
                              "-1785542400", "17855424001234567890.1"};
    for (size_t i = 0; i < VG_ARRAY_LEN(bad_msec); i++) {
        char line[256];
        snprintf(line, sizeof line, "%s 192.0.2.1 \"GET / HTTP/1.1\" 200 \"-\" \"-\" \"-\"",
                 bad_msec[i]);
        assert_int_equal(parse(&ps, f, line), VG_PARSE_TIME);
    }
    parsed_fini(&ps);
    vg_format_free(f);
}

/* nginx's escape=json formats: quoted strings with \" and \\ escapes, bare numbers. */
static void test_nginx_json_format_parses_escaped_values(void **state)
{
    (void)state;
    struct vg_format *f =
        compile_ok("nginx:{\"time\":\"$time_iso8601\",\"ip\":\"$remote_addr\",\"req\":\"$request\","
                   "\"status\":$status,\"bytes\":$body_bytes_sent,\"ua\":\"$http_user_agent\"}");
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, f,
                           "{\"time\":\"2026-08-01T00:00:00+00:00\",\"ip\":\"192.0.2.1\","
                           "\"req\":\"GET /?q=\\\"x\\\\\\\" HTTP/1.1\",\"status\":200,"
                           "\"bytes\":7,\"ua\":\"a\\\\\"}"),
                     VG_PARSE_OK);
    assert_view(ps.req.target, "/?q=\\\"x\\\\\\\"");
    assert_view(ps.req.user_agent, "a\\\\");
    assert_int_equal(ps.req.status, 200);
    assert_int_equal(ps.req.bytes, 7);
    /* Lead literal missing. */
    assert_int_equal(parse(&ps, f, "[\"time\":1]"), VG_PARSE_LITERAL);
    parsed_fini(&ps);
    vg_format_free(f);
}

static void
test_nginx_format_ignores_unknown_variables_and_matches_names_case_insensitively(void **state)
{
    (void)state;
    struct vg_format *f = compile_ok("nginx:$Remote_Addr [$time_local] \"$request\" $status "
                                     "$upstream_response_time \"$http_x_forwarded_for\" $HOST");
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, f,
                           "192.0.2.1 [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 502 - "
                           "\"198.51.100.1, 10.0.0.2\" example.org"),
                     VG_PARSE_OK);
    assert_true(ps.req.flags & VG_REQ_HAS_ADDR);
    assert_view(ps.req.host, "example.org");
    assert_int_equal(ps.req.status, 502);
    parsed_fini(&ps);
    vg_format_free(f);
}

static void test_nginx_format_takes_unbracketed_time_local_by_its_fixed_width(void **state)
{
    (void)state;
    struct vg_format *f = compile_ok("nginx:$time_local $remote_addr $status");
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, f, "01/Aug/2026:00:00:00 +0000 192.0.2.1 200"), VG_PARSE_OK);
    assert_int_equal(ps.req.time, 1785542400);
    assert_view(ps.req.client, "192.0.2.1");
    assert_int_equal(parse(&ps, f, "01/Aug/2026:00:00:00 192.0.2.1 200"), VG_PARSE_TIME);
    parsed_fini(&ps);
    vg_format_free(f);
}

/* Fields between the quotes of "$request_method $request_uri $server_protocol" are quoted too:
   backslashes mark the request escaped, NUL bytes are kept. */
static void test_nginx_format_fields_inside_a_quoted_region_count_as_quoted(void **state)
{
    (void)state;
    struct vg_format *f = compile_ok("nginx:$remote_addr \"$request_method $request_uri "
                                     "$server_protocol\" $status");
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, f, "192.0.2.1 \"GET /a?q=\\x22 HTTP/1.1\" 200"), VG_PARSE_OK);
    assert_view(ps.req.query, "q=\\x22");
    assert_true(ps.req.flags & VG_REQ_ESCAPED);
    static const char nul[] = "192.0.2.1 \"GET /a\0b HTTP/1.1\" 200";
    assert_int_equal(parse_n(&ps, f, nul, sizeof nul - 1), VG_PARSE_OK);
    assert_int_equal(ps.req.path.n, 4);
    assert_false(ps.req.flags & VG_REQ_ESCAPED);
    /* Outside the quotes a NUL is still binary. */
    static const char nul_out[] = "192.0.2.1 \"GET /a HTTP/1.1\" 2\0";
    assert_int_equal(parse_n(&ps, f, nul_out, sizeof nul_out - 1), VG_PARSE_BINARY);
    parsed_fini(&ps);
    vg_format_free(f);
}

static void test_nginx_format_last_word_field_ends_at_a_space(void **state)
{
    (void)state;
    struct vg_format *f = compile_ok("nginx:$remote_addr $status");
    struct parsed ps = {0};
    assert_int_equal(parse(&ps, f, "192.0.2.1 200 extra stuff"), VG_PARSE_OK);
    assert_int_equal(ps.req.status, 200);
    assert_int_equal(parse(&ps, f, "192.0.2.1 200"), VG_PARSE_OK);
    assert_int_equal(parse(&ps, f, "192.0.2.1 200x"), VG_PARSE_STATUS);
    parsed_fini(&ps);
    vg_format_free(f);
}

/* Table-driven: specifications that must not compile, and the position they must name. */
static void test_format_compile_rejects_bad_specifications_naming_the_position(void **state)
{
    (void)state;
    const struct {
        const char *spec;
        const char *must_contain;
    } cases[] = {
        {"", "unknown log format"},
        {"bogus", "unknown log format"},
        {"Combined", "unknown log format"},
        {"nginx:", "no variables"},
        {"nginx:just text", "no variables"},
        {"nginx:$", "position 1"},
        {"nginx:$remote_addr $", "position 14"},
        {"nginx:$remote_addr $ x", "lone '$'"},
        {"nginx:${", "position 1"},
        {"nginx:a ${remote_addr", "unterminated"},
        {"nginx:${}", "empty variable"},
        {"nginx:${remote addr}", "position 9"},
        {"nginx:$remote_addr$status", "position 13"},
        {"nginx:${remote_addr}${status}", "two variables"},
        {"nginx:$a-$b$c", "position 6"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct vg_format *f = (struct vg_format *)1;
        struct vg_error err;
        memset(&err, 0, sizeof err);
        vg_status st = vg_format_compile(cases[i].spec, &f, &err);
        if (st != VG_E_FORMAT || !strstr(err.message, cases[i].must_contain))
            print_error("case %zu '%s': status %d, message \"%s\"\n", i, cases[i].spec, st,
                        err.message);
        assert_int_equal(st, VG_E_FORMAT);
        assert_null(f);
        assert_int_equal(err.status, VG_E_FORMAT);
        assert_non_null(strstr(err.message, cases[i].must_contain));
    }
    struct vg_format *f = NULL;
    struct vg_error err;
    assert_int_equal(vg_format_compile(NULL, &f, &err), VG_E_INVAL);
    /* Too many variables is a limit, not a crash. */
    char big[4096] = "nginx:";
    for (int i = 0; i < 200; i++)
        strcat(big, "$a ");
    assert_int_equal(vg_format_compile(big, &f, &err), VG_E_FORMAT);
    assert_non_null(strstr(err.message, "too many"));
    vg_format_free(NULL);
}

/* An allocator that fails every allocation from the n-th on (fault injection). */
static int alloc_budget;
static void *budget_malloc(size_t n)
{
    if (alloc_budget <= 0)
        return NULL;
    alloc_budget--;
    return malloc(n);
}
static void *budget_realloc(void *p, size_t n)
{
    if (alloc_budget <= 0)
        return NULL;
    alloc_budget--;
    return realloc(p, n);
}
static const struct vg_allocator budget_allocator = {budget_malloc, budget_realloc, free};

static void test_format_compile_reports_out_of_memory_without_leaking(void **state)
{
    (void)state;
    struct vg_format *f = (struct vg_format *)1;
    struct vg_error err;
    alloc_budget = 0;
    vg_set_thread_allocator(&budget_allocator);
    vg_status st = vg_format_compile("combined", &f, &err);
    vg_set_thread_allocator(NULL);
    assert_int_equal(st, VG_E_NOMEM);
    assert_null(f);
    /* Every failing allocation, in every kind of format, fails cleanly (ASan checks leaks). */
    static const char *const specs[] = {"combined", "apache:%h %l %u %t \\\"%r\\\" %>s %b",
                                        "json", "caddy", "w3c", "haproxy:Host"};
    for (size_t k = 0; k < VG_ARRAY_LEN(specs); k++) {
        for (alloc_budget = 0;; ) {
            int budget = alloc_budget;
            vg_set_thread_allocator(&budget_allocator);
            f = NULL;
            st = vg_format_compile(specs[k], &f, &err);
            vg_set_thread_allocator(NULL);
            if (st == VG_OK) {
                vg_format_free(f);
                break;
            }
            assert_int_equal(st, VG_E_NOMEM);
            assert_null(f);
            alloc_budget = budget + 1;
            assert_true(alloc_budget < 64);
        }
    }
}

/* ---- request line --------------------------------------------------------------------------- */

static void test_request_split_table(void **state)
{
    (void)state;
    const struct {
        const char *in;
        const char *method, *target, *path, *query, *protocol;
        bool bad;
    } cases[] = {
        {"GET / HTTP/1.1", "GET", "/", "/", NULL, "HTTP/1.1", false},
        {"GET /a?b=c&d HTTP/2.0", "GET", "/a?b=c&d", "/a", "b=c&d", "HTTP/2.0", false},
        {"get /x http/1.0", "get", "/x", "/x", NULL, "http/1.0", false},
        {"GET /a?", "GET", "/a?", "/a", "", NULL, false},
        {"GET /", "GET", "/", "/", NULL, NULL, false},
        {"GET /a b", "GET", "/a b", "/a b", NULL, NULL, false},
        {"GET /a b HTTP/1.1", "GET", "/a b", "/a b", NULL, "HTTP/1.1", false},
        {"OPTIONS * HTTP/1.1", "OPTIONS", "*", "*", NULL, "HTTP/1.1", false},
        {"CONNECT example.org:443 HTTP/1.1", "CONNECT", "example.org:443", "example.org:443", NULL,
         "HTTP/1.1", false},
        {"GET HTTP/1.1", "GET", "HTTP/1.1", "HTTP/1.1", NULL, NULL, false},
        {"GET ?a=1 HTTP/1.1", "GET", "?a=1", "", "a=1", "HTTP/1.1", false},
        {"-", NULL, "-", "-", NULL, NULL, true},
        {"", NULL, "", "", NULL, NULL, true},
        {"GET", NULL, "GET", "GET", NULL, NULL, true},
        {"GET ", NULL, "GET ", "GET ", NULL, NULL, true},
        {"GET  HTTP/1.1", NULL, "GET  HTTP/1.1", "GET  HTTP/1.1", NULL, NULL, true},
        {" / HTTP/1.1", NULL, " / HTTP/1.1", " / HTTP/1.1", NULL, NULL, true},
        {"\\x16\\x03\\x01 x", NULL, "\\x16\\x03\\x01 x", "\\x16\\x03\\x01 x", NULL, NULL, true},
        {"G(T / HTTP/1.1", NULL, "G(T / HTTP/1.1", "G(T / HTTP/1.1", NULL, NULL, true},
        {"/index.html?x=1", NULL, "/index.html?x=1", "/index.html", "x=1", NULL, true},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct vg_request req;
        memset(&req, 0, sizeof req);
        req.flags = VG_REQ_HAS_ADDR | VG_REQ_BAD_REQLINE; /* other bits kept, BAD recomputed */
        size_t n = strlen(cases[i].in);
        uint8_t *buf = malloc(n ? n : 1);
        assert_non_null(buf);
        memcpy(buf, cases[i].in, n);
        vg_request_split(vg_str_make(buf, n), &req);
        assert_true(req.request.p == buf && req.request.n == n);
        assert_view(req.method, cases[i].method);
        assert_int_equal(req.target.n, strlen(cases[i].target));
        assert_memory_equal(req.target.p, cases[i].target, req.target.n);
        assert_int_equal(req.path.n, strlen(cases[i].path));
        if (cases[i].query) {
            assert_non_null(req.query.p);
            assert_int_equal(req.query.n, strlen(cases[i].query));
            assert_memory_equal(req.query.p, cases[i].query, req.query.n);
        } else {
            assert_null(req.query.p);
        }
        assert_view(req.protocol, cases[i].protocol);
        assert_int_equal(!!(req.flags & VG_REQ_BAD_REQLINE), cases[i].bad);
        assert_true(req.flags & VG_REQ_HAS_ADDR);
        free(buf);
    }
}

/* ---- time ----------------------------------------------------------------------------------- */

static void test_time_local_matches_known_epochs(void **state)
{
    (void)state;
    assert_int_equal(time_of("01/Aug/2026:00:00:00 +0000"), 1785542400);
    assert_int_equal(time_of("10/Oct/2000:13:55:36 -0700"), 971211336);
    assert_int_equal(time_of("29/Feb/2024:23:59:59 +0530"), 1709231399);
    assert_int_equal(time_of("31/Dec/1999:23:59:59 -1200"), 946727999);
    assert_int_equal(time_of("01/Jan/1970:00:00:00 +0000"), 0);
    assert_int_equal(time_of("01/Jan/1970:00:00:00 +0100"), -3600);
    assert_int_equal(time_of("15/Mar/2026:08:30:00 -0330"), 1773576000);
    assert_int_equal(time_of("01/Aug/2026:00:00:00 +1400"), 1785492000);
    assert_int_equal(time_of("29/Feb/2000:00:00:00 +0000"), 951782400);
    /* A leap second counts as the next second. */
    assert_int_equal(time_of("31/Dec/2016:23:59:60 +0000"), 1483228800);
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t prev = 0;
    for (int m = 0; m < 12; m++) {
        char s[32];
        snprintf(s, sizeof s, "01/%s/2026:00:00:00 +0000", months[m]);
        int64_t t = time_of(s);
        assert_true(t > prev);
        assert_int_equal(t % 86400, 0);
        prev = t;
    }
}

static void test_time_local_rejects_malformed_times(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "01/Aug/2026:00:00:00",
        "01/Aug/2026:00:00:00 +000",
        "01/Aug/2026:00:00:00 +00000",
        "01/aug/2026:00:00:00 +0000",
        "01/AUG/2026:00:00:00 +0000",
        "01/Agu/2026:00:00:00 +0000",
        "1/Aug/2026:00:00:00 +00000",
        "00/Aug/2026:00:00:00 +0000",
        "32/Jan/2026:00:00:00 +0000",
        "31/Apr/2026:00:00:00 +0000",
        "29/Feb/2025:00:00:00 +0000",
        "29/Feb/1900:00:00:00 +0000",
        "01/Aug/2026:24:00:00 +0000",
        "01/Aug/2026:00:60:00 +0000",
        "01/Aug/2026:00:00:61 +0000",
        "01/Aug/2026:00:00:00 *0000",
        "01/Aug/2026:00:00:00 +2400",
        "01/Aug/2026:00:00:00 +0060",
        "01-Aug-2026:00:00:00 +0000",
        "01/Aug/2026 00:00:00 +0000",
        "01/Aug/20x6:00:00:00 +0000",
        "01/Aug/2026:0a:00:00 +0000",
        "01/Aug/2026:00:00:00 +00a0",
        "[01/Aug/2026:00:00:00 +0000]",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        int64_t t = 12345;
        size_t n = strlen(bad[i]);
        uint8_t *buf = malloc(n ? n : 1);
        assert_non_null(buf);
        memcpy(buf, bad[i], n);
        bool ok = vg_parse_time_local(buf, n, &t);
        if (ok)
            print_error("case %zu \"%s\" parsed\n", i, bad[i]);
        assert_false(ok);
        free(buf);
    }
}

/* ---- arguments ------------------------------------------------------------------------------ */

static void test_args_iterator_edge_cases(void **state)
{
    (void)state;
    const struct {
        const char *in;
        size_t n_pairs;
        const char *pairs[4][2]; /* name, value (NULL: {NULL,0}) */
    } cases[] = {
        {"", 0, {{0}}},
        {"&&", 0, {{0}}},
        {"&", 0, {{0}}},
        {"a", 1, {{"a", NULL}}},
        {"a=", 1, {{"a", ""}}},
        {"=b", 1, {{"", "b"}}},
        {"=", 1, {{"", ""}}},
        {"a=1&b=2", 2, {{"a", "1"}, {"b", "2"}}},
        {"&a=1&&b=2&", 2, {{"a", "1"}, {"b", "2"}}},
        {"a=1=2&c", 2, {{"a", "1=2"}, {"c", NULL}}},
        {"a=1;b=2", 1, {{"a", "1;b=2"}}},
        {"x=%27%20OR&y", 2, {{"x", "%27%20OR"}, {"y", NULL}}},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        size_t n = strlen(cases[i].in);
        uint8_t *buf = malloc(n ? n : 1);
        assert_non_null(buf);
        memcpy(buf, cases[i].in, n);
        struct vg_args_iter it;
        vg_args_init(&it, n ? vg_str_make(buf, n) : VG_STR_NULL);
        struct vg_str name, value;
        size_t k = 0;
        while (vg_args_next(&it, &name, &value)) {
            assert_true(k < cases[i].n_pairs);
            assert_view(name, cases[i].pairs[k][0]);
            if (cases[i].pairs[k][1] == NULL) {
                assert_null(value.p);
                assert_int_equal(value.n, 0);
            } else {
                assert_int_equal(value.n, strlen(cases[i].pairs[k][1]));
                assert_memory_equal(value.p, cases[i].pairs[k][1], value.n);
                assert_true(value.p >= buf && value.p + value.n <= buf + n);
            }
            k++;
        }
        assert_int_equal(k, cases[i].n_pairs);
        /* Finished iterators stay finished. */
        assert_false(vg_args_next(&it, &name, &value));
        free(buf);
    }
    /* A NULL view iterates nothing. */
    struct vg_args_iter it;
    struct vg_str name, value;
    vg_args_init(&it, VG_STR_NULL);
    assert_false(vg_args_next(&it, &name, &value));
}

/* ---- misc ----------------------------------------------------------------------------------- */

static void test_parse_strerror_has_distinct_text_for_every_result(void **state)
{
    (void)state;
    for (int a = VG_PARSE_OK; a <= VG_PARSE_RESULT_MAX; a++) {
        const char *ta = vg_parse_strerror((enum vg_parse_result)a);
        assert_non_null(ta);
        assert_true(strlen(ta) > 0);
        for (int b = a + 1; b <= VG_PARSE_RESULT_MAX; b++)
            assert_string_not_equal(ta, vg_parse_strerror((enum vg_parse_result)b));
    }
    assert_non_null(vg_parse_strerror((enum vg_parse_result)99));
}

/* ---- headers, joined targets, escape modes ------------------------------------------------- */

static void test_main_preset_reads_the_forwarded_header(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("main");
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f,
                            "10.0.0.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 "
                            "\"-\" \"curl\" \"203.0.113.1, 10.0.0.2\""),
                     VG_PARSE_OK);
    const struct vg_header *h = theader(&ps.req, "X-Forwarded-For");
    assert_non_null(h);
    tassert_view(h->value, "203.0.113.1, 10.0.0.2");
    tassert_addr(&ps.req, "10.0.0.1"); /* no --real-ip: the socket address */
    tassert_view(ps.req.forwarded, NULL);
    assert_int_equal(tparse(&ps, f,
                            "10.0.0.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 "
                            "\"-\" \"curl\" \"-\""),
                     VG_PARSE_OK);
    assert_int_equal(ps.req.n_headers, 0);
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_nginx_headers_beyond_the_fixed_fields_are_kept(void **state)
{
    (void)state;
    char spec[2048] = "nginx:$remote_addr [$time_local] \"$request\" $status";
    for (int i = 0; i < 10; i++) {
        char v[64];
        snprintf(v, sizeof v, " \"$http_x_h%d\"", i);
        strcat(spec, v);
    }
    strcat(spec, " \"$http_authorization\" \"$http_referer\"");
    struct vg_format *f = tcompile(spec);
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f,
                            "192.0.2.1 [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 \"0\" "
                            "\"1\" \"2\" \"3\" \"4\" \"5\" \"6\" \"7\" \"8\" \"9\" \"Basic x\" \"r\""),
                     VG_PARSE_OK);
    assert_int_equal(ps.req.n_headers, VG_REQ_MAX_HEADERS);
    tassert_view(ps.req.headers[0].name, "X-H0");
    tassert_view(ps.req.headers[7].value, "7");
    tassert_view(ps.req.referer, "r"); /* a field of its own, whatever the header count */
    tparsed_fini(&ps);
    vg_format_free(f);
}

static void test_nginx_uri_is_args_args_make_one_target(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("nginx:$remote_addr [$time_local] $request_method "
                                   "$uri$is_args$args $status");
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f, "192.0.2.1 [01/Aug/2026:00:00:00 +0000] GET /a?b=c 200"),
                     VG_PARSE_OK);
    tassert_view(ps.req.target, "/a?b=c");
    tassert_view(ps.req.query, "b=c");
    tassert_view(ps.req.request, "GET /a?b=c");
    assert_int_equal(tparse(&ps, f, "192.0.2.1 [01/Aug/2026:00:00:00 +0000] GET /a 200"),
                     VG_PARSE_OK);
    tassert_view(ps.req.query, NULL);
    vg_format_free(f);
    /* $uri and $args apart: joined into the parse buffer. */
    f = tcompile("nginx:$remote_addr [$time_local] \"$request_method $uri $args\" $status");
    assert_int_equal(tparse(&ps, f, "192.0.2.1 [01/Aug/2026:00:00:00 +0000] \"GET /a b=c\" 200"),
                     VG_PARSE_OK);
    tassert_view(ps.req.target, "/a?b=c");
    tassert_view(ps.req.request, "GET /a?b=c");
    assert_int_equal(tparse(&ps, f, "192.0.2.1 [01/Aug/2026:00:00:00 +0000] \"GET /a -\" 200"),
                     VG_PARSE_OK);
    tassert_view(ps.req.target, "/a");
    tparsed_fini(&ps);
    vg_format_free(f);
    tcompile_fails("nginx:$uri$args", NULL, VG_E_FORMAT, "two variables");
}

static void test_nginx_escape_modes_json_and_none(void **state)
{
    (void)state;
    struct vg_format *f =
        tcompile("nginx:escape=json {\"ip\":\"$remote_addr\",\"t\":$msec,\"r\":\"$request\","
                 "\"b\":\"$request_body\"}");
    struct tparsed ps = {0};
    const char *l = "{\"ip\":\"192.0.2.1\",\"t\":1785542400.000,\"r\":\"POST /a HTTP/1.1\","
                    "\"b\":\"q=\\u003cscript\\u003e\\u0026x=\\\"1\\\"\"}";
    assert_int_equal(tparse(&ps, f, l), VG_PARSE_OK);
    tassert_view(ps.req.body, "q=<script>&x=\\x221\\x22"); /* as a text log writes it */
    tassert_views_inside(&ps, strlen(l));
    vg_format_free(f);
    /* escape=none: nothing is escaped, a backslash before a quote is data. */
    f = tcompile("nginx:escape=none $remote_addr \"$http_user_agent\" $status");
    assert_int_equal(tparse(&ps, f, "192.0.2.1 \"a\\\" 200"), VG_PARSE_OK);
    tassert_view(ps.req.user_agent, "a\\");
    vg_format_free(f);
    f = tcompile("nginx:$remote_addr \"$http_user_agent\" $status");
    assert_int_equal(tparse(&ps, f, "192.0.2.1 \"a\\\" 200"), VG_PARSE_UNTERMINATED);
    tparsed_fini(&ps);
    vg_format_free(f);
}

/* ---- --real-ip ------------------------------------------------------------------------------- */

static void test_real_ip_takes_the_rightmost_untrusted_address_of_the_chain(void **state)
{
    (void)state;
    struct vg_format_options o = {NULL, "X-Forwarded-For", " 10.0.0.0/8, 192.0.2.1 ,fd00::/8"};
    struct vg_format *f = tcompile_opts("main", &o);
    struct tparsed ps = {0};
    const struct {
        const char *peer, *chain, *want;
        bool forwarded;
    } cases[] = {
        {"10.0.0.1", "203.0.113.5", "203.0.113.5", true},
        {"10.0.0.1", "198.51.100.1, 203.0.113.5, 10.0.0.7", "203.0.113.5", true},
        {"10.0.0.1", "203.0.113.5,10.9.9.9,192.0.2.1", "203.0.113.5", true},
        {"10.0.0.1", "10.1.1.1, 10.2.2.2", "10.1.1.1", true},     /* all trusted: leftmost */
        {"10.0.0.1", "garbage, 10.2.2.2", "10.2.2.2", true},      /* stops at a non-address */
        {"10.0.0.1", "unknown", "10.0.0.1", false},
        {"10.0.0.1", "[2001:db8::5]:443, 203.0.113.9:8080", "203.0.113.9", true},
        {"10.0.0.1", "2001:db8::5", "2001:db8::5", true},
        {"fd00::1", "203.0.113.5", "203.0.113.5", true},           /* IPv6 proxy */
        {"198.51.100.1", "203.0.113.5", "198.51.100.1", false},   /* untrusted peer: ignored */
        {"10.0.0.1", "-", "10.0.0.1", false},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        char line[256];
        snprintf(line, sizeof line,
                 "%s - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\" \"%s\"",
                 cases[i].peer, cases[i].chain);
        assert_int_equal(tparse(&ps, f, line), VG_PARSE_OK);
        char got[64];
        vg_addr_format(&ps.req.addr, got);
        if (strcmp(got, cases[i].want) != 0)
            print_error("case %zu: got %s, want %s\n", i, got, cases[i].want);
        assert_string_equal(got, cases[i].want);
        assert_int_equal(!!(ps.req.flags & VG_REQ_FORWARDED), cases[i].forwarded);
        if (cases[i].forwarded)
            tassert_view(ps.req.peer, cases[i].peer);
    }
    tparsed_fini(&ps);
    vg_format_free(f);
    /* The field may be named as the header, the nginx variable or the Apache directive. */
    const char *names[] = {"x-forwarded-for", "$http_x_forwarded_for", "http_x_forwarded_for",
                           "%{X-Forwarded-For}i", "cs(X-Forwarded-For)"};
    for (size_t i = 0; i < VG_ARRAY_LEN(names); i++) {
        struct vg_format_options on = {NULL, names[i], "10.0.0.0/8"};
        vg_format_free(tcompile_opts("main", &on));
    }
    /* Options that cannot work. */
    struct vg_format_options no_trust = {NULL, "X-Forwarded-For", NULL};
    tcompile_fails("main", &no_trust, VG_E_INVAL, "needs --trusted-proxies");
    struct vg_format_options bad_net = {NULL, "X-Forwarded-For", "10.0.0.0/33"};
    tcompile_fails("main", &bad_net, VG_E_INVAL, "'10.0.0.0/33' is not");
    struct vg_format_options bad_v6 = {NULL, "X-Forwarded-For", "::/129"};
    tcompile_fails("main", &bad_v6, VG_E_INVAL, "is not");
    struct vg_format_options empty = {NULL, "X-Forwarded-For", " , "};
    tcompile_fails("main", &empty, VG_E_INVAL, "lists no network");
    struct vg_format_options not_logged = {NULL, "X-Real-IP", "10.0.0.0/8"};
    tcompile_fails("combined", &not_logged, VG_E_FORMAT, "does not log that field");
    /* X-Real-IP: a chain of one address. */
    f = tcompile_opts("nginx:$remote_addr [$time_local] \"$request\" $status $http_x_real_ip",
                      &not_logged);
    assert_int_equal(tparse(&ps, f,
                            "10.0.0.1 [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 "
                            "203.0.113.77"),
                     VG_PARSE_OK);
    tassert_addr(&ps.req, "203.0.113.77");
    tparsed_fini(&ps);
    vg_format_free(f);
}

int main(void)
{
    const struct CMUnitTest preset_tests[] = {
        cmocka_unit_test(test_combined_parses_every_field_of_a_typical_line),
        cmocka_unit_test(test_combined_accepts_ipv6_clients),
        cmocka_unit_test(test_combined_maps_dash_to_empty_and_dash_bytes_to_minus_one),
        cmocka_unit_test(test_combined_keeps_apache_backslash_quote_escapes),
        cmocka_unit_test(test_combined_keeps_nginx_hex_escapes),
        cmocka_unit_test(test_combined_tolerates_crlf),
        cmocka_unit_test(test_combined_accepts_request_lines_with_spaces),
        cmocka_unit_test(test_combined_accepts_tls_handshake_garbage_as_a_bad_request_line),
        cmocka_unit_test(test_combined_skips_unescaped_stray_quotes_by_lookahead),
        cmocka_unit_test(test_combined_ignores_appended_fields_after_a_space),
        cmocka_unit_test(test_combined_accepts_very_long_lines),
        cmocka_unit_test(test_combined_keeps_nul_bytes_inside_quoted_fields),
        cmocka_unit_test(test_combined_rejects_nul_bytes_outside_quoted_fields),
        cmocka_unit_test(test_combined_rejects_malformed_lines_with_a_reason),
        cmocka_unit_test(test_combined_rejects_every_truncation_of_a_good_line),
        cmocka_unit_test(test_common_parses_lines_without_referer_and_agent),
        cmocka_unit_test(test_vhost_combined_parses_host_port_and_ident),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nginx_format_with_time_iso8601_and_split_request_fields),
        cmocka_unit_test(test_nginx_format_with_msec_and_request_body),
        cmocka_unit_test(test_nginx_json_format_parses_escaped_values),
        cmocka_unit_test(
            test_nginx_format_ignores_unknown_variables_and_matches_names_case_insensitively),
        cmocka_unit_test(test_nginx_format_last_word_field_ends_at_a_space),
        cmocka_unit_test(test_nginx_format_takes_unbracketed_time_local_by_its_fixed_width),
        cmocka_unit_test(test_nginx_format_fields_inside_a_quoted_region_count_as_quoted),
        cmocka_unit_test(test_format_compile_rejects_bad_specifications_naming_the_position),
        cmocka_unit_test(test_format_compile_reports_out_of_memory_without_leaking),
        cmocka_unit_test(test_request_split_table),
        cmocka_unit_test(test_time_local_matches_known_epochs),
        cmocka_unit_test(test_time_local_rejects_malformed_times),
        cmocka_unit_test(test_args_iterator_edge_cases),
        cmocka_unit_test(test_parse_strerror_has_distinct_text_for_every_result),
        cmocka_unit_test(test_main_preset_reads_the_forwarded_header),
        cmocka_unit_test(test_nginx_headers_beyond_the_fixed_fields_are_kept),
        cmocka_unit_test(test_nginx_uri_is_args_args_make_one_target),
        cmocka_unit_test(test_nginx_escape_modes_json_and_none),
        cmocka_unit_test(test_real_ip_takes_the_rightmost_untrusted_address_of_the_chain),
    };
    int failed =
        cmocka_run_group_tests_name("presets", preset_tests, presets_setup, presets_teardown);
    failed += cmocka_run_group_tests_name("ingest", tests, NULL, NULL);
    return failed;
}
