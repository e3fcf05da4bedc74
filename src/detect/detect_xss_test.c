/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_xss_test.c: unit tests of the XSS lexer (cmocka): golden cases from tests/data/xss/
 * (attacks with their context and reason, benign markup and text), the pre-check, spans and
 * the reported name, entity and control-byte evasions of URL schemes, CSS normalization, and
 * hostile inputs (every byte value, thousands of tags, unterminated tags and quotes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_xss.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Decodes %XX once ('+' stays '+'). */
static size_t pct_decode(const char *s, size_t n, uint8_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[k++] = (uint8_t)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[k++] = (uint8_t)(s[i] == '+' ? ' ' : s[i]);
        }
    }
    return k;
}

static bool detect_str(const char *v, struct vg_xss_result *r)
{
    static struct vg_xss_state st;
    return vg_xss_detect(&st, (const uint8_t *)v, strlen(v), r);
}

static FILE *open_data(const char *name)
{
    const char *src = getenv("VG_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/xss/%s", src ? src : ".", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (set VG_SOURCE_DIR)", path);
    return f;
}

static void test_xss_golden_attacks_are_found_in_their_context(void **state)
{
    (void)state;
    FILE *f = open_data("attacks.txt");
    char line[8192];
    unsigned cases = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = 0;
        if (n == 0 || line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = 0;
        char ctx[32], reason[32];
        assert_int_equal(sscanf(line, "%31s %31s", ctx, reason), 2);
        uint8_t buf[8192];
        size_t m = pct_decode(tab + 1, strlen(tab + 1), buf);
        struct vg_xss_state st;
        struct vg_xss_result r;
        cases++;
        bool pre = vg_xss_precheck(buf, m);
        bool hit = vg_xss_detect(&st, buf, m, &r);
        if (!pre || !hit || strcmp(vg_xss_ctx_name(r.ctx), ctx) != 0 ||
            strcmp(vg_xss_reason_name(r.reason), reason) != 0) {
            print_message("case '%s': precheck %d, found %d (%s %s %s), want %s %s\n", tab + 1,
                          pre, hit, hit ? vg_xss_ctx_name(r.ctx) : "-",
                          hit ? vg_xss_reason_name(r.reason) : "-", r.what, ctx, reason);
            bad++;
        }
        if (hit)
            assert_true(r.start <= r.end && r.end <= m);
    }
    fclose(f);
    assert_true(cases >= 30);
    assert_int_equal(bad, 0);
}

static void test_xss_golden_benign_values_are_not_flagged(void **state)
{
    (void)state;
    FILE *f = open_data("benign.txt");
    char line[8192];
    unsigned cases = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = 0;
        if (n == 0 || line[0] == '#')
            continue;
        uint8_t buf[8192];
        size_t m = pct_decode(line, n, buf);
        struct vg_xss_state st;
        struct vg_xss_result r;
        cases++;
        if (vg_xss_detect(&st, buf, m, &r)) {
            print_message("benign '%s' flagged: %s %s %s\n", line, vg_xss_ctx_name(r.ctx),
                          vg_xss_reason_name(r.reason), r.what);
            bad++;
        }
    }
    fclose(f);
    assert_true(cases >= 15);
    assert_int_equal(bad, 0);
}

static void test_xss_span_and_name_point_at_the_construct(void **state)
{
    (void)state;
    struct vg_xss_result r;
    assert_true(detect_str("hello <img src=x onerror=alert(1)> bye", &r));
    assert_int_equal(r.reason, VG_XSS_R_HANDLER);
    assert_string_equal(r.what, "onerror");
    assert_int_equal(r.start, 17);
    assert_int_equal(r.end, 33);
    assert_true(detect_str("x <SCRIPT>alert(1)</SCRIPT>", &r));
    assert_string_equal(r.what, "script");
    assert_int_equal(r.start, 2);
}

static void test_xss_url_scheme_evasions_are_decoded(void **state)
{
    (void)state;
    static const char *const v[] = {
        "<a href=\"&#106;avascript:alert(1)\">",     "<a href=\"&#x6A;avascript:alert(1)\">",
        "<a href=\"java&#9;script:alert(1)\">",      "<a href=\"java&Tab;script:alert(1)\">",
        "<a href=\"javascript&colon;alert(1)\">",    "<a href=\"\x01\x02 javascript:alert(1)\">",
        "<a href=\"jav\nascript:alert(1)\">",        "<a href=vbscript:msgbox(1)>",
        "<a href=`javascript:alert(1)`>",            "<a href=\"&#0000106avascript:alert(1)\">",
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct vg_xss_result r;
        if (!detect_str(v[i], &r) || r.reason != VG_XSS_R_URL)
            fail_msg("'%s' not seen as a script URL", v[i]);
    }
    struct vg_xss_result r;
    assert_false(detect_str("<a href=\"https://example.com/?javascript\">x</a>", &r));
    assert_false(detect_str("<img src=\"data:image/png;base64,AAAA\">", &r));
}

static void test_xss_css_is_normalized_before_matching(void **state)
{
    (void)state;
    static const char *const v[] = {
        "<p style=\"x:EXPRESSION(alert(1))\">",  "<p style=\"x:expr/**/ession(alert(1))\">",
        "<p style=\"x:\\65xpression(alert(1))\">", "<p style=\"-moz-binding:url(x.xml#x)\">",
        "<p style=\"background:url( javascript:alert(1))\">",
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct vg_xss_result r;
        if (!detect_str(v[i], &r) || r.reason != VG_XSS_R_STYLE)
            fail_msg("'%s' not seen as script-running CSS", v[i]);
    }
}

static void test_xss_precheck_skips_plain_values(void **state)
{
    (void)state;
    static const char *const skip[] = {"start", "wiki:syntax", "abc==", "a=b", "f(x)",
                                       "https://example.com/x", "100%", ""};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        assert_false(vg_xss_precheck((const uint8_t *)skip[i], strlen(skip[i])));
    static const char *const pass[] = {"<b", "x\"y", "javascript:x", "java\tscript:x",
                                       "x onload=y", "style=x", "&#106;", "${x}", "a/*b"};
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++)
        assert_true(vg_xss_precheck((const uint8_t *)pass[i], strlen(pass[i])));
}

static void test_xss_names_cover_every_value(void **state)
{
    (void)state;
    for (int r = 0; r < VG_XSS_R_COUNT; r++)
        assert_non_null(vg_xss_reason_name((enum vg_xss_reason)r));
    assert_null(vg_xss_reason_name(VG_XSS_R_COUNT));
    for (int c = 0; c < VG_XSS_CTX_COUNT; c++)
        assert_non_null(vg_xss_ctx_name((enum vg_xss_ctx)c));
    assert_null(vg_xss_ctx_name(VG_XSS_CTX_COUNT));
}

static void test_xss_survives_hostile_inputs(void **state)
{
    (void)state;
    static struct vg_xss_state st;
    struct vg_xss_result r;
    size_t cap = 100000;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    /* thousands of harmless tags: bounded work, and the tag limit stops the scan */
    for (size_t i = 0; i + 3 <= cap; i += 3)
        memcpy(buf + i, "<b>", 3);
    assert_false(vg_xss_detect(&st, buf, cap - cap % 3, &r));
    assert_true(st.tags > VG_XSS_MAX_TAGS);
    /* one long unterminated attribute value */
    memcpy(buf, "<a href=\"", 9);
    memset(buf + 9, 'a', cap - 9);
    assert_false(vg_xss_detect(&st, buf, cap, &r));
    for (int c = 0; c < 256; c++) {
        uint8_t v[6] = {'<', (uint8_t)c, '=', '"', (uint8_t)c, '&'};
        for (size_t n = 0; n <= sizeof v; n++) {
            (void)vg_xss_detect(&st, v, n, &r);
            assert_true(r.start <= r.end && r.end <= n);
        }
    }
    static const char *const tails[] = {"<", "<a", "<a ", "<a x", "<a x=", "<a x=\"", "&#",
                                        "&#x", "&#1234567890123", "<p style=\"\\", "';",
                                        "\"-", "${", "<!", "<!doctype", "<?"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        (void)vg_xss_detect(&st, (const uint8_t *)tails[i], strlen(tails[i]), &r);
        assert_true(r.end <= strlen(tails[i]));
    }
    assert_false(vg_xss_detect(&st, (const uint8_t *)"", 0, &r));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xss_golden_attacks_are_found_in_their_context),
        cmocka_unit_test(test_xss_golden_benign_values_are_not_flagged),
        cmocka_unit_test(test_xss_span_and_name_point_at_the_construct),
        cmocka_unit_test(test_xss_url_scheme_evasions_are_decoded),
        cmocka_unit_test(test_xss_css_is_normalized_before_matching),
        cmocka_unit_test(test_xss_precheck_skips_plain_values),
        cmocka_unit_test(test_xss_names_cover_every_value),
        cmocka_unit_test(test_xss_survives_hostile_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
