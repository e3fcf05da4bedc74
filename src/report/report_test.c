/* SPDX-License-Identifier: Apache-2.0 */
/* report_test.c: the summary's counting and its text and JSON writers; the event JSON writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "detect/detect.h"
#include "report/report.h"

static char *render(const vg_summary_t *s, bool json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(json ? vg_summary_write_json(s, f) : vg_summary_write_text(s, f, 0), VG_OK);
    fclose(f);
    return buf;
}

static struct vg_event make_event(const char *ip, const char *cc, int64_t t, uint32_t classes)
{
    struct vg_event ev;
    memset(&ev, 0, sizeof ev);
    assert_true(vg_addr_parse((const uint8_t *)ip, strlen(ip), &ev.addr));
    vg_addr_format(&ev.addr, ev.ip);
    snprintf(ev.country, sizeof ev.country, "%s", cc);
    ev.time = t;
    ev.classes = classes;
    ev.status = 200;
    ev.bytes = -1;
    return ev;
}

#define AUG_2026 1785542400 /* 2026-08-01T00:00:00Z */
#define SEP_2026 1788220800 /* 2026-09-01T00:00:00Z */

static void test_summary_counts_attacks_sources_classes_and_countries_per_month(void **state)
{
    (void)state;
    vg_summary_t *s;
    assert_int_equal(vg_summary_new(&s), VG_OK);
    assert_int_equal(vg_summary_set_provenance(s, 42, "abcdef", "geo.mmdb (built 2026-06-17)",
                                               "combined"),
                     VG_OK);
    assert_int_equal(vg_summary_add_month_requests(s, vg_month_key(AUG_2026), 100, 1), VG_OK);
    assert_int_equal(vg_summary_add_month_requests(s, vg_month_key(SEP_2026), 50, 0), VG_OK);
    uint32_t sqli = 1u << VG_CLASS_SQLI, xss = 1u << VG_CLASS_XSS, tool = 1u << VG_CLASS_TOOL;
    struct vg_event e1 = make_event("203.0.113.7", "DE", AUG_2026 + 10, sqli | tool);
    struct vg_event e2 = make_event("203.0.113.7", "DE", AUG_2026 + 20, sqli);
    struct vg_event e3 = make_event("2001:db8::1", "JP", AUG_2026 + 30, xss);
    struct vg_event e4 = make_event("203.0.113.7", "DE", SEP_2026 + 5, xss);
    assert_int_equal(vg_summary_add_attack(s, &e1, VG_STR_LIT("/search")), VG_OK);
    assert_int_equal(vg_summary_add_attack(s, &e2, VG_STR_LIT("/search")), VG_OK);
    assert_int_equal(vg_summary_add_attack(s, &e3, VG_STR_LIT("/x\x1b[2J")), VG_OK);
    assert_int_equal(vg_summary_add_attack(s, &e4, VG_STR_LIT("/search")), VG_OK);
    vg_summary_add_totals(s, 151, 150, 1, 0);
    struct vg_totals t;
    vg_summary_totals(s, &t);
    assert_int_equal(t.attack_requests, 4);
    assert_int_equal(t.sources, 2); /* distinct over all months */
    assert_int_equal(t.requests, 150);

    char *js = render(s, true);
    assert_non_null(strstr(js, "\"month\":\"2026-08\",\"requests\":100,\"malformed\":1,"
                               "\"attack_requests\":3,\"sources\":2"));
    assert_non_null(strstr(js, "{\"class\":\"sqli\",\"attack_requests\":2,\"sources\":1}"));
    assert_non_null(strstr(js, "{\"class\":\"xss\",\"attack_requests\":1,\"sources\":1}"));
    assert_non_null(strstr(js, "{\"country\":\"DE\",\"attack_requests\":2,\"sources\":1}"));
    assert_non_null(strstr(js, "{\"ip\":\"203.0.113.7\",\"country\":\"DE\",\"attack_requests\":2,"
                               "\"classes\":[\"sqli\",\"tool\"]}"));
    assert_non_null(strstr(js, "{\"path\":\"/search\",\"attack_requests\":2}"));
    assert_non_null(strstr(js, "\"/x\\u001b[2J\"")); /* escaped in JSON */
    assert_non_null(strstr(js, "\"month\":\"2026-09\",\"requests\":50,\"malformed\":0,"
                               "\"attack_requests\":1,\"sources\":1"));
    free(js);

    char *txt = render(s, false);
    assert_null(strchr(txt, 0x1b)); /* no escape byte reaches the terminal */
    assert_non_null(strstr(txt, "/x\\x1b[2J"));
    assert_non_null(strstr(txt, "2026-08  100 requests, 3 attack requests from 2 sources"));
    assert_non_null(strstr(txt, "client addresses as logged"));
    free(txt);
    vg_summary_free(s);
}

static void test_summary_keeps_only_the_first_malformed_samples(void **state)
{
    (void)state;
    vg_summary_t *s;
    assert_int_equal(vg_summary_new(&s), VG_OK);
    size_t idx;
    assert_int_equal(vg_summary_add_file(s, "a\x1b.log", "none", &idx), VG_OK);
    for (int i = 0; i < 25; i++)
        assert_int_equal(vg_summary_add_sample(s, idx, (uint64_t)i + 1, (uint64_t)i * 10,
                                               "bad line", VG_STR_LIT("garbage\x07")),
                         VG_OK);
    char *js = render(s, true);
    size_t n = 0;
    for (const char *p = js; (p = strstr(p, "\"reason\":\"bad line\"")); p++)
        n++;
    assert_int_equal(n, VG_MALFORMED_SAMPLES);
    free(js);
    char *txt = render(s, false);
    assert_null(strchr(txt, 0x1b));
    assert_null(strchr(txt, 0x07));
    free(txt);
    vg_summary_free(s);
}

static void test_top_paths_stay_bounded_with_many_distinct_paths(void **state)
{
    (void)state;
    vg_summary_t *s;
    assert_int_equal(vg_summary_new(&s), VG_OK);
    struct vg_event e = make_event("198.51.100.1", "FR", AUG_2026, 1u << VG_CLASS_PROBE);
    char path[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(path, sizeof path, "/probe-%d", i);
        assert_int_equal(vg_summary_add_attack(s, &e, vg_str_make(path, strlen(path))), VG_OK);
        assert_int_equal(vg_summary_add_attack(s, &e, VG_STR_LIT("/hot")), VG_OK);
    }
    char *js = render(s, true);
    /* The heavy hitter is found exactly even though most paths were evicted. */
    assert_non_null(strstr(js, "\"top_paths\":[{\"path\":\"/hot\",\"attack_requests\":5000}"));
    free(js);
    vg_summary_free(s);
}

static void test_event_json_has_ecs_fields_and_escapes_log_bytes(void **state)
{
    (void)state;
    struct vg_event ev = make_event("203.0.113.7", "DE", AUG_2026 + 3,
                                    (1u << VG_CLASS_SQLI) | (1u << VG_CLASS_TOOL));
    ev.method = VG_STR_LIT("GET");
    ev.target = VG_STR_LIT("/s?q=1'\"\\\x01");
    ev.protocol = VG_STR_LIT("HTTP/1.1");
    ev.user_agent = VG_STR_LIT("sqlmap/1.7.2#stable");
    ev.score = 10;
    ev.outcome = vg_outcome_name(200);
    struct vg_event_hit hit = {100100, "SQL injection", "sqli", VG_STR_LIT("args:q"),
                               VG_STR_LIT("1'\""), "decoded", VG_STR_NULL, NULL};
    ev.hits = &hit;
    ev.n_hits = 1;
    ev.file_path = "access.log";
    ev.offset = 1234;
    ev.line_no = 9;
    struct vg_buf b;
    vg_buf_init(&b, 0);
    assert_int_equal(vg_event_write_json(&ev, "geo.mmdb (built 2026-06-17)", &b), VG_OK);
    const char *want =
        "{\"@timestamp\":\"2026-08-01T00:00:03Z\",\"event\":{\"kind\":\"alert\",\"category\":[\"web\","
        "\"intrusion_detection\"],\"module\":\"vigil\"},\"source\":{\"ip\":\"203.0.113.7\",\"geo\":"
        "{\"country_iso_code\":\"DE\"}},\"url\":{\"original\":\"/s?q=1'\\\"\\\\\\u0001\"},\"http\":"
        "{\"request\":{\"method\":\"GET\"},\"response\":{\"status_code\":200},\"version\":\"1.1\"},"
        "\"user_agent\":{\"original\":\"sqlmap/1.7.2#stable\"},\"vigil\":{\"schema\":\"1\","
        "\"score\":10,\"classes\":[\"sqli\",\"tool\"],\"outcome\":\"possible-success\",\"hits\":"
        "[{\"rule\":100100,\"class\":\"sqli\",\"message\":\"SQL injection\",\"field\":\"args:q\","
        "\"match\":\"1'\\\"\",\"transform\":\"decoded\"}],\"geo_db\":\"geo.mmdb (built "
        "2026-06-17)\"},\"log\":{\"file\":{\"path\":\"access.log\"},\"offset\":1234,\"line\":9}}\n";
    assert_string_equal((const char *)b.p, want);
    vg_buf_fini(&b);
    assert_string_equal(vg_outcome_name(404), "refused");
    assert_string_equal(vg_outcome_name(503), "failed");
    assert_string_equal(vg_outcome_name(-1), "unknown");
    assert_string_equal(vg_outcome_name(302), "possible-success");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_counts_attacks_sources_classes_and_countries_per_month),
        cmocka_unit_test(test_summary_keeps_only_the_first_malformed_samples),
        cmocka_unit_test(test_top_paths_stay_bounded_with_many_distinct_paths),
        cmocka_unit_test(test_event_json_has_ecs_fields_and_escapes_log_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
