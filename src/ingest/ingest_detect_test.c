/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_detect_test.c: unit tests of `--format auto` (which candidate wins, and the messages
 * when nothing fits or a file mixes formats), of --format-from (nginx and Apache configuration
 * files), of the rotated-set input order, and of the parsed-record writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "ingest/ingest_test_util.h"

static struct vg_format_set *set_new(const struct vg_format_options *o)
{
    struct vg_format_set *set = NULL;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st = vg_format_set_new(o, &set, &err);
    if (st != VG_OK)
        print_error("set: %s\n", err.message);
    assert_int_equal(st, VG_OK);
    return set;
}

/* Detects the format of text; returns its name ("" for none), or NULL with err filled. */
static const char *detect(const struct vg_format_set *set, const char *text, struct vg_error *err,
                          struct vg_detect_info *info)
{
    const struct vg_format *f = NULL;
    memset(err, 0, sizeof *err);
    size_t n = strlen(text);
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, text, n);
    vg_status st = vg_format_detect(set, copy, n, true, &f, info, err);
    free(copy);
    if (st != VG_OK)
        return NULL;
    return f ? vg_format_name(f) : "";
}

#define CLF_LINE(ip) ip " - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5"
#define COMBINED_LINE(ip) CLF_LINE(ip) " \"-\" \"curl/8\"\n"

static void test_detect_picks_the_format_that_fits_most_and_fills_most(void **state)
{
    (void)state;
    struct vg_format_set *set = set_new(NULL);
    struct vg_error err;
    struct vg_detect_info info;
    const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {COMBINED_LINE("192.0.2.1") COMBINED_LINE("192.0.2.2"), "combined"},
        {CLF_LINE("192.0.2.1") "\n" CLF_LINE("2001:db8::2") "\n", "common"},
        /* nginx's main is combined plus a field: combined reads it (the extra field is
           appended; with --real-ip only main is a candidate, see below) */
        {CLF_LINE("192.0.2.1") " \"-\" \"curl\" \"203.0.113.1, 10.0.0.1\"\n", "combined"},
        {"ex.org:443 192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" "
         "\"-\"\n",
         "vhost_combined"},
        {"{\"time_iso8601\":\"2026-08-01T00:00:00+00:00\",\"remote_addr\":\"192.0.2.1\","
         "\"request_uri\":\"/\",\"status\":200}\n",
         "json"},
        {"{\"ts\":1785542400.1,\"request\":{\"remote_ip\":\"192.0.2.1\",\"method\":\"GET\","
         "\"uri\":\"/\"},\"status\":200}\n",
         "caddy"},
        {"{\"ClientHost\":\"192.0.2.1\",\"RequestMethod\":\"GET\",\"RequestPath\":\"/\","
         "\"DownstreamStatus\":200,\"StartUTC\":\"2026-08-01T00:00:00Z\"}\n",
         "traefik"},
        {"#Software: IIS\r\n#Fields: date time c-ip cs-method cs-uri-stem sc-status\r\n"
         "2026-08-01 00:00:00 192.0.2.1 GET / 200\r\n",
         "w3c"},
        {"#Version: 1.0\n#Fields: date time c-ip cs-uri\n", "w3c"}, /* a header, no line yet */
        {"Feb  6 12:14:14 lb haproxy[1]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] fe be/s "
         "1/2/3/4/5 200 1 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"\n",
         "haproxy"},
        {"", ""},
        {"\n  \n\r\n", ""},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        const char *got = detect(set, cases[i].text, &err, &info);
        if (!got || strcmp(got, cases[i].want) != 0)
            print_error("case %zu: got %s (%s), want %s\n", i, got ? got : "error", err.message,
                        cases[i].want);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
    }
    /* A few garbage lines among many good ones do not stop detection; they count. */
    const char *mostly = COMBINED_LINE("192.0.2.1") "garbage\n" COMBINED_LINE("192.0.2.2")
        COMBINED_LINE("192.0.2.3");
    assert_string_equal(detect(set, mostly, &err, &info), "combined");
    assert_int_equal(info.probed, 4);
    assert_int_equal(info.matched, 3);
    vg_format_set_free(set);
}

static void test_detect_fails_naming_the_line_when_nothing_fits_or_formats_mix(void **state)
{
    (void)state;
    struct vg_format_set *set = set_new(NULL);
    struct vg_error err;
    struct vg_detect_info info;
    assert_null(detect(set, "hello world\nthis is not a log\n", &err, &info));
    assert_int_equal(err.status, VG_E_FORMAT);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.message, "line 1 \"hello world\" fits none"));
    assert_non_null(strstr(err.message, "as combined:"));
    assert_non_null(strstr(err.message, "as json: not a well-formed JSON object"));
    /* Terminal escapes in the quoted line are made harmless. */
    assert_null(detect(set, "\x1b[31mred\n", &err, &info));
    assert_null(strchr(err.message, 0x1b));
    /* Mixed text and JSON lines. */
    const char *mixed = COMBINED_LINE("192.0.2.1") COMBINED_LINE("192.0.2.2")
        "{\"time\":1785542400,\"ip\":\"192.0.2.3\",\"uri\":\"/\"}\n";
    assert_null(detect(set, mixed, &err, &info));
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.message, "mixes log formats"));
    assert_non_null(strstr(err.message, "line 3"));
    assert_non_null(strstr(err.message, "is json (JSON)"));
    /* Only a minority fits any one format. */
    assert_null(detect(set, COMBINED_LINE("192.0.2.1") "x\ny\nz\n", &err, &info));
    assert_non_null(strstr(err.message, "only 1 of the first 4 lines"));
    assert_int_equal(err.line, 2);
    /* A first line longer than what was looked at. */
    const struct vg_format *f = NULL;
    assert_int_equal(vg_format_detect(set, (const uint8_t *)"aaaa", 4, false, &f, &info, &err),
                     VG_E_FORMAT);
    assert_non_null(strstr(err.message, "longer than"));
    /* An incomplete last line is not probed when more may follow. */
    const char *cut = COMBINED_LINE("192.0.2.1") "{\"time";
    assert_int_equal(vg_format_detect(set, (const uint8_t *)cut, strlen(cut), false, &f, &info,
                                      &err),
                     VG_OK);
    assert_int_equal(info.probed, 1);
    vg_format_set_free(set);
}

static void test_detect_with_real_ip_keeps_only_formats_that_log_the_field(void **state)
{
    (void)state;
    struct vg_format_options o = {NULL, "X-Forwarded-For", "10.0.0.0/8"};
    struct vg_format_set *set = set_new(&o);
    struct vg_error err;
    struct vg_detect_info info;
    assert_string_equal(vg_format_name(vg_format_set_default(set)), "main");
    assert_string_equal(
        detect(set, CLF_LINE("10.0.0.1") " \"-\" \"curl\" \"203.0.113.1\"\n", &err, &info),
        "main");
    /* combined cannot give the client behind the proxy, so it is not a candidate. */
    assert_null(detect(set, COMBINED_LINE("10.0.0.1"), &err, &info));
    vg_format_set_free(set);
    /* A field no candidate logs. */
    struct vg_format_options nobody = {NULL, "X-Nobody", "10.0.0.0/8"};
    struct vg_format_set *s2 = NULL;
    assert_int_equal(vg_format_set_new(&nobody, &s2, &err), VG_OK); /* JSON may log any key */
    vg_format_set_free(s2);
    /* A bad --json-map is an error, not a dropped candidate. */
    struct vg_format_options badmap = {"nosuch=x", NULL, NULL};
    assert_int_equal(vg_format_set_new(&badmap, &s2, &err), VG_E_FORMAT);
    assert_null(s2);
}

static void test_format_from_reads_nginx_and_apache_configurations(void **state)
{
    (void)state;
    const char nginx[] =
        "http {\n"
        "  # log_format commented 'x';\n"
        "  log_format main '$remote_addr - $remote_user [$time_local] \"$request\" '\n"
        "                  '$status $body_bytes_sent \"$http_referer\" '\n"
        "                  \"\\\"$http_user_agent\\\" \\\"$http_x_forwarded_for\\\"\";\n"
        "  log_format js escape=json '{\"ip\":\"$remote_addr\",\"t\":\"$time_iso8601\"}';\n"
        "  server { access_log /var/log/nginx/a.log main; }\n"
        "}\n";
    char *spec = NULL;
    struct vg_error err;
    assert_int_equal(vg_format_from_config_text((const uint8_t *)nginx, sizeof nginx - 1,
                                                "nginx.conf", "main", &spec, &err),
                     VG_OK);
    assert_string_equal(spec, "nginx:$remote_addr - $remote_user [$time_local] \"$request\" "
                              "$status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" "
                              "\"$http_x_forwarded_for\"");
    vg_free(spec);
    assert_int_equal(vg_format_from_config_text((const uint8_t *)nginx, sizeof nginx - 1,
                                                "nginx.conf", "js", &spec, &err),
                     VG_OK);
    assert_string_equal(spec, "nginx:escape=json {\"ip\":\"$remote_addr\",\"t\":\"$time_iso8601\"}");
    struct vg_format *f = tcompile(spec);
    vg_free(spec);
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f, "{\"ip\":\"192.0.2.1\",\"t\":\"2026-08-01T00:00:00+00:00\"}"),
                     VG_PARSE_OK);
    tparsed_fini(&ps);
    vg_format_free(f);
    assert_int_equal(vg_format_from_config_text((const uint8_t *)nginx, sizeof nginx - 1,
                                                "nginx.conf", "nope", &spec, &err),
                     VG_E_FORMAT);
    assert_null(spec);
    assert_non_null(strstr(err.message, "no log format named 'nope'"));
    assert_non_null(strstr(err.message, "main, js"));
    assert_null(strstr(err.message, "commented"));

    const char apache[] =
        "ServerRoot \"/etc/apache2\"\n"
        "#LogFormat \"%h\" commented\n"
        "LogFormat \"%v:%p %h %l %u %t \\\"%r\\\" %>s %O \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\"\" "
        "vhost_combined\n"
        "  logformat \"%h %l %u %t \\\"%r\\\" %>s %b \\\n"
        "     \\\"%{Referer}i\\\"\" split\n"
        "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %O\" common\n";
    assert_int_equal(vg_format_from_config_text((const uint8_t *)apache, sizeof apache - 1,
                                                "apache2.conf", "vhost_combined", &spec, &err),
                     VG_OK);
    assert_string_equal(spec, "apache:%v:%p %h %l %u %t \\\"%r\\\" %>s %O \\\"%{Referer}i\\\" "
                              "\\\"%{User-Agent}i\\\"");
    f = tcompile(spec);
    vg_free(spec);
    assert_int_equal(tparse(&ps, f,
                            "ex.org:80 192.0.2.1 - - [01/Aug/2026:00:00:00 +0000] \"GET / "
                            "HTTP/1.1\" 200 5 \"-\" \"curl\""),
                     VG_PARSE_OK);
    tassert_view(ps.req.host, "ex.org");
    tparsed_fini(&ps);
    vg_format_free(f);
    /* A line continuation inside the quoted string joins the lines, as httpd does. */
    assert_int_equal(vg_format_from_config_text((const uint8_t *)apache, sizeof apache - 1,
                                                "apache2.conf", "split", &spec, &err),
                     VG_OK);
    assert_string_equal(spec, "apache:%h %l %u %t \\\"%r\\\" %>s %b      \\\"%{Referer}i\\\"");
    vg_free(spec);
    assert_int_equal(vg_format_from_config_text((const uint8_t *)apache, sizeof apache - 1,
                                                "apache2.conf", "common", &spec, &err),
                     VG_OK);
    vg_free(spec);
    /* Files that cannot be read. */
    assert_int_equal(vg_format_from_config("/nonexistent/nginx.conf", "main", &spec, &err),
                     VG_E_IO);
    assert_non_null(strstr(err.message, "/nonexistent/nginx.conf"));
    assert_int_equal(vg_format_from_config("/", "main", &spec, &err), VG_E_IO);
    assert_int_equal(vg_format_from_config_text((const uint8_t *)"", 0, "x", "", &spec, &err),
                     VG_E_INVAL);
}

static void test_rotated_sets_are_read_oldest_first(void **state)
{
    (void)state;
    const char *in[] = {"logs/access.log",    "other.txt",           "logs/access.log.1",
                        "logs/error.log.1",   "logs/access.log.10.gz", "logs/access.log.2.gz",
                        "logs/error.log",     "b/access.log-20260802.gz",
                        "b/access.log-20260801", "b/access.log"};
    const char *want[] = {"logs/access.log.10.gz", "logs/access.log.2.gz", "logs/access.log.1",
                          "logs/access.log",       "other.txt",            "logs/error.log.1",
                          "logs/error.log",        "b/access.log-20260801",
                          "b/access.log-20260802.gz", "b/access.log"};
    assert_int_equal(vg_order_inputs(in, VG_ARRAY_LEN(in)), VG_OK);
    for (size_t i = 0; i < VG_ARRAY_LEN(in); i++) {
        if (strcmp(in[i], want[i]) != 0)
            print_error("position %zu: got %s, want %s\n", i, in[i], want[i]);
        assert_string_equal(in[i], want[i]);
    }
    const char *one[] = {"-"};
    assert_int_equal(vg_order_inputs(one, 1), VG_OK);
    assert_int_equal(vg_order_inputs(NULL, 0), VG_OK);
    const char *same[] = {"x.log", "x.log"};
    assert_int_equal(vg_order_inputs(same, 2), VG_OK);
}

static void test_records_are_json_with_log_escapes_undone(void **state)
{
    (void)state;
    struct vg_format *f = tcompile("main");
    struct tparsed ps = {0};
    assert_int_equal(tparse(&ps, f,
                            "2001:db8::1 - bob [01/Aug/2026:02:00:00 +0200] \"GET /a?q=\\x22%27\\x5C "
                            "HTTP/1.1\" 200 - \"-\" \"ua\\xC3\\xA9\\x1B\" \"1.2.3.4\""),
                     VG_PARSE_OK);
    struct vg_buf b;
    vg_buf_init(&b, 0);
    vg_request_write_json(&ps.req, &b);
    assert_int_equal(b.err, VG_OK);
    assert_string_equal((const char *)b.p,
                        "{\"time\":\"2026-08-01T00:00:00Z\",\"client\":\"2001:db8::1\","
                        "\"user\":\"bob\",\"method\":\"GET\",\"target\":\"/a?q=\\\"%27\\\\\","
                        "\"path\":\"/a\",\"query\":\"q=\\\"%27\\\\\",\"protocol\":\"HTTP/1.1\","
                        "\"status\":200,\"user_agent\":\"ua\xc3\xa9\\u001b\","
                        "\"headers\":{\"X-Forwarded-For\":\"1.2.3.4\"}}");
    vg_buf_fini(&b);
    tparsed_fini(&ps);
    vg_format_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect_picks_the_format_that_fits_most_and_fills_most),
        cmocka_unit_test(test_detect_fails_naming_the_line_when_nothing_fits_or_formats_mix),
        cmocka_unit_test(test_detect_with_real_ip_keeps_only_formats_that_log_the_field),
        cmocka_unit_test(test_format_from_reads_nginx_and_apache_configurations),
        cmocka_unit_test(test_rotated_sets_are_read_oldest_first),
        cmocka_unit_test(test_records_are_json_with_log_escapes_undone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
