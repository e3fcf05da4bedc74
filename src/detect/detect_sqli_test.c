/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_sqli_test.c: unit tests of the SQL injection lexer and grammar (cmocka): golden cases
 * from tests/data/sqli/ (attacks with their context and reason, benign look-alikes), the token
 * classes of the tokenizer, keyword lookup across the word table, the pre-check, spans and
 * fingerprints, and hostile inputs (every byte value, deep nesting, many tokens, unterminated
 * strings and comments) that must neither crash nor read out of bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_sqli.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Decodes %XX once (no '+' rule: golden files write spaces as spaces). */
static size_t pct_decode(const char *s, size_t n, uint8_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[k++] = (uint8_t)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[k++] = (uint8_t)s[i];
        }
    }
    return k;
}

static bool detect_str(const char *v, struct vg_sqli_result *r)
{
    static struct vg_sqli_state st;
    return vg_sqli_detect(&st, (const uint8_t *)v, strlen(v), r);
}

static FILE *open_data(const char *name)
{
    const char *src = getenv("VG_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/sqli/%s", src ? src : ".", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (set VG_SOURCE_DIR)", path);
    return f;
}

/* ---- golden data ------------------------------------------------------------------------- */

static void test_sqli_golden_attacks_are_found_in_their_context(void **state)
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
        struct vg_sqli_state st;
        struct vg_sqli_result r;
        cases++;
        bool pre = vg_sqli_precheck(buf, m);
        bool hit = vg_sqli_detect(&st, buf, m, &r);
        if (!pre || !hit || strcmp(vg_sqli_ctx_name(r.ctx), ctx) != 0 ||
            strcmp(vg_sqli_reason_name(r.reason), reason) != 0) {
            print_message("case '%s': precheck %d, found %d (%s %s %s), want %s %s\n", tab + 1,
                          pre, hit, hit ? vg_sqli_ctx_name(r.ctx) : "-",
                          hit ? vg_sqli_reason_name(r.reason) : "-", r.fingerprint, ctx, reason);
            bad++;
        }
        if (hit) {
            assert_true(r.start <= r.end && r.end <= m);
            assert_true(strlen(r.fingerprint) <= VG_SQLI_FP_MAX);
        }
    }
    fclose(f);
    assert_true(cases >= 40);
    assert_int_equal(bad, 0);
}

static void test_sqli_golden_benign_values_are_not_flagged(void **state)
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
        struct vg_sqli_state st;
        struct vg_sqli_result r;
        cases++;
        if (vg_sqli_detect(&st, buf, m, &r)) {
            print_message("benign '%s' flagged: %s %s %s\n", line, vg_sqli_ctx_name(r.ctx),
                          vg_sqli_reason_name(r.reason), r.fingerprint);
            bad++;
        }
        assert_int_equal(r.fingerprint[0] == 0, !r.is_sqli);
    }
    fclose(f);
    assert_true(cases >= 40);
    assert_int_equal(bad, 0);
}

/* ---- tokenizer --------------------------------------------------------------------------- */

static void test_sqli_tokenizer_classes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        enum vg_sqli_ctx ctx;
        const char *fp;
    } cases[] = {
        {"1 AND 1=1", VG_SQLI_CTX_NONE, "n&non"},
        {"x' OR 'a'='a", VG_SQLI_CTX_SQUOTE, "s&sos"},
        {"x\" or 1--", VG_SQLI_CTX_DQUOTE, "s&nc"},
        {"-1 UNION SELECT @@version,user()", VG_SQLI_CTX_NONE, "onUEv,f()"},
        {"a.b.c `x`.`y` [z]", VG_SQLI_CTX_NONE, "www"},
        {"'it''s' 'a\\'b'", VG_SQLI_CTX_NONE, "ss"},
        {"N'x' X'41' 0x41 0b101 1.5e3 .5", VG_SQLI_CTX_NONE, "ssnnnn"},
        {"$$a'b$$ $t$x$t$", VG_SQLI_CTX_NONE, "ss"},
        {"1/*!50000UNION*/SELECT", VG_SQLI_CTX_NONE, "nUE"},
        {"1/**/or/**/1", VG_SQLI_CTX_NONE, "n&n"},
        {"1 # rest", VG_SQLI_CTX_NONE, "nc"},
        {"1 -- rest\nunion", VG_SQLI_CTX_NONE, "ncU"},
        {"1 /* open", VG_SQLI_CTX_NONE, "nc"},
        {"\\N ; : ?", VG_SQLI_CTX_NONE, "k;XX"},
        {"a<=>b || c && d != e :: f", VG_SQLI_CTX_NONE, "wow&w&wowow"},
        {"1union 1a 0_3", VG_SQLI_CTX_NONE, "nUww"},
        {"sleep (5) tan(1) foo(x)", VG_SQLI_CTX_NONE, "f(n)f(n)f(w)"},
        {"no quote here", VG_SQLI_CTX_SQUOTE, "s"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vg_sqli_state st;
        char fp[VG_SQLI_FP_MAX + 1];
        vg_sqli_tokenize(&st, (const uint8_t *)cases[i].in, strlen(cases[i].in), cases[i].ctx);
        vg_sqli_fingerprint(&st, 0, fp, sizeof fp);
        if (strcmp(fp, cases[i].fp) != 0)
            fail_msg("'%s': fingerprint '%s', want '%s'", cases[i].in, fp, cases[i].fp);
    }
}

static void test_sqli_tokenizer_knows_keywords_across_the_table(void **state)
{
    (void)state;
    /* A binary search over an unsorted table would miss some of these. */
    static const struct {
        const char *w;
        char type;
    } words[] = {
        {"ABS(", 'f'},   {"all", 'k'},       {"AND", '&'},      {"ascii(", 'f'},
        {"BENCHMARK(", 'f'}, {"between", 'o'}, {"by", 'k'},      {"case", 'k'},
        {"CHAR(", 'f'},  {"concat_ws(", 'f'}, {"CREATE", 'E'},   {"DECLARE", 'E'},
        {"delete", 'E'}, {"div", 'o'},       {"drop", 'E'},     {"EXEC", 'E'},
        {"EXTRACTVALUE(", 'f'}, {"from", 'k'}, {"GROUP_CONCAT(", 'f'}, {"having", 'k'},
        {"IF(", 'f'},    {"in", 'o'},        {"INSERT", 'E'},   {"is", 'o'},
        {"LIKE", 'o'},   {"limit", 'k'},     {"load_file(", 'f'}, {"MID(", 'f'},
        {"not", '!'},    {"NULL", 'k'},      {"or", '&'},       {"order", 'k'},
        {"pg_sleep(", 'f'}, {"REGEXP", 'o'}, {"SELECT", 'E'},   {"sleep(", 'f'},
        {"substring(", 'f'}, {"TRUE", 'k'},  {"UNION", 'U'},    {"updatexml(", 'f'},
        {"VERSION(", 'f'}, {"WAITFOR", 'E'}, {"where", 'k'},    {"xor", '&'},
        {"XP_CMDSHELL(", 'f'}, {"zeroblob(", 'f'}, {"notakeyword", 'w'},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        struct vg_sqli_state st;
        vg_sqli_tokenize(&st, (const uint8_t *)words[i].w, strlen(words[i].w), VG_SQLI_CTX_NONE);
        assert_true(st.ntok >= 1);
        if (st.tok[0].type != (uint8_t)words[i].type)
            fail_msg("'%s': type '%c', want '%c'", words[i].w, st.tok[0].type, words[i].type);
    }
}

/* ---- pre-check, spans, fingerprints --------------------------------------------------------- */

static void test_sqli_precheck_passes_every_golden_shape_and_skips_plain_values(void **state)
{
    (void)state;
    static const char *const skip[] = {"start", "wiki:syntax", "2024-05-01", "a,b,c",
                                       "hello world", "/a/b/c.txt", "100%", "x", ""};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        assert_false(vg_sqli_precheck((const uint8_t *)skip[i], strlen(skip[i])));
    static const char *const pass[] = {"it's", "1 union select 1", "1 order by 3", "a=b",
                                       "1--", "x(y)", "3.2UNION SELECT 2"};
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++)
        assert_true(vg_sqli_precheck((const uint8_t *)pass[i], strlen(pass[i])));
}

static void test_sqli_span_starts_at_the_breakout(void **state)
{
    (void)state;
    struct vg_sqli_result r;
    assert_true(detect_str("admin' OR 1=1--", &r));
    assert_int_equal(r.ctx, VG_SQLI_CTX_SQUOTE);
    assert_int_equal(r.start, 7); /* the first token after the closing quote */
    assert_int_equal(r.end, 15);
    assert_string_equal(r.fingerprint, "&nonc");
    assert_true(detect_str("42 UNION SELECT 1", &r));
    assert_int_equal(r.start, 3);
    assert_string_equal(vg_sqli_reason_name(r.reason), "union");
}

static void test_sqli_names_cover_every_value(void **state)
{
    (void)state;
    for (int r = 0; r < VG_SQLI_R_COUNT; r++)
        assert_non_null(vg_sqli_reason_name((enum vg_sqli_reason)r));
    assert_null(vg_sqli_reason_name(VG_SQLI_R_COUNT));
    for (int c = 0; c < VG_SQLI_CTX_COUNT; c++)
        assert_non_null(vg_sqli_ctx_name((enum vg_sqli_ctx)c));
    assert_null(vg_sqli_ctx_name(VG_SQLI_CTX_COUNT));
}

/* ---- hostile inputs ---------------------------------------------------------------------- */

static void test_sqli_survives_hostile_inputs(void **state)
{
    (void)state;
    static struct vg_sqli_state st;
    struct vg_sqli_result r;
    size_t cap = 200000;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    /* deep nesting: recursion stops at VG_SQLI_MAX_DEPTH */
    for (size_t i = 0; i < cap; i++)
        buf[i] = '(';
    (void)vg_sqli_detect(&st, buf, cap, &r);
    memcpy(buf, "1 AND ", 6);
    (void)vg_sqli_detect(&st, buf, cap, &r);
    /* more tokens than the state keeps: the first ones still decide */
    size_t n = 0;
    const char head[] = "1 UNION SELECT ";
    memcpy(buf, head, sizeof head - 1);
    n = sizeof head - 1;
    while (n + 4 < cap) {
        memcpy(buf + n, "1,", 2);
        n += 2;
    }
    assert_true(vg_sqli_detect(&st, buf, n, &r));
    assert_true(st.truncated);
    /* every byte value, alone and in pairs with the quotes */
    for (int c = 0; c < 256; c++) {
        uint8_t one[3] = {(uint8_t)c, '\'', (uint8_t)c};
        (void)vg_sqli_detect(&st, one, 1, &r);
        (void)vg_sqli_detect(&st, one, 3, &r);
        assert_true(r.start <= r.end && r.end <= 3);
    }
    /* unterminated constructs at the very end */
    static const char *const tails[] = {"'", "\"", "`", "/*", "/*!", "$$", "$a$x", "[abc",
                                        "x'||'", "1 /*!50000", "@'", "N'", "q'[", "\\"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        struct vg_sqli_result r2;
        (void)vg_sqli_detect(&st, (const uint8_t *)tails[i], strlen(tails[i]), &r2);
        assert_true(r2.end <= strlen(tails[i]));
    }
    /* empty input */
    assert_false(vg_sqli_detect(&st, (const uint8_t *)"", 0, &r));
    assert_false(vg_sqli_precheck((const uint8_t *)"", 0));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqli_golden_attacks_are_found_in_their_context),
        cmocka_unit_test(test_sqli_golden_benign_values_are_not_flagged),
        cmocka_unit_test(test_sqli_tokenizer_classes),
        cmocka_unit_test(test_sqli_tokenizer_knows_keywords_across_the_table),
        cmocka_unit_test(test_sqli_precheck_passes_every_golden_shape_and_skips_plain_values),
        cmocka_unit_test(test_sqli_span_starts_at_the_breakout),
        cmocka_unit_test(test_sqli_names_cover_every_value),
        cmocka_unit_test(test_sqli_survives_hostile_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
