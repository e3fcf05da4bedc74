/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_test.c: unit tests of the decode stage (cmocka): known vectors for every decoder and
 * chain (table-driven, with the exact flags expected), and properties checked over random inputs,
 * every line of the dev corpus ($VG_SHARED_DIR/corpus/dev/access.log.gz) and every payload list
 * ($VG_SHARED_DIR/testdata/payloads/): no decoder writes more than n bytes (buffers are exactly n
 * bytes so ASan catches any overrun), vg_decode_chain equals the composition of the public
 * decoders, and vg_decode_needed is exact: it is false if and only if the chain neither changes
 * the bytes nor sets a flag.
 *
 * Exit status: 0 all passed; 77 (skipped, with a message) when the shared corpus or payloads are
 * absent, after the tests that need neither have passed; 1 on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

#include "decode/decode.h"
#include "decode/decode_html_table.h"

typedef size_t (*dec_fn)(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags);

struct dec_case {
    const char *in;
    size_t in_len;
    const char *want;
    size_t want_len;
    unsigned flags; /* exactly the flags expected */
};

/* Literal lengths with sizeof, so that vectors may hold NUL bytes. */
#define CASE(in, want, fl)                                                                         \
    {                                                                                              \
        in, sizeof(in) - 1, want, sizeof(want) - 1, fl                                             \
    }

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static void print_bytes(const char *label, const uint8_t *p, size_t n)
{
    fprintf(stderr, "  %s (%zu): \"", label, n);
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\\' && p[i] != '"')
            fputc(p[i], stderr);
        else
            fprintf(stderr, "\\x%02X", p[i]);
    }
    fprintf(stderr, "\"\n");
}

/* Runs fn on each case with an out buffer of exactly in_len bytes; checks bytes and flags. */
static void run_cases(const char *what, dec_fn fn, const struct dec_case *cases, size_t count)
{
    int failed = 0;
    for (size_t k = 0; k < count; k++) {
        const struct dec_case *c = &cases[k];
        uint8_t *out = xmalloc(c->in_len);
        unsigned flags = 0;
        size_t len = fn((const uint8_t *)c->in, c->in_len, out, &flags);
        if (len != c->want_len || memcmp(out, c->want, len) != 0 || flags != c->flags) {
            char got_f[256], want_f[256];
            vg_decode_flags_format(flags, got_f, sizeof(got_f));
            vg_decode_flags_format(c->flags, want_f, sizeof(want_f));
            fprintf(stderr, "%s case %zu:\n", what, k);
            print_bytes("input", (const uint8_t *)c->in, c->in_len);
            print_bytes("want ", (const uint8_t *)c->want, c->want_len);
            print_bytes("got  ", out, len);
            fprintf(stderr, "  flags want [%s] got [%s]\n", want_f, got_f);
            failed++;
        }
        free(out);
    }
    assert_int_equal(failed, 0);
}

/* ---- wrappers giving every decoder the dec_fn shape ------------------------------------------ */

static size_t pct_plus(const uint8_t *in, size_t n, uint8_t *out, unsigned *f)
{
    return vg_decode_pct(in, n, out, true, f);
}

static size_t pct_noplus(const uint8_t *in, size_t n, uint8_t *out, unsigned *f)
{
    return vg_decode_pct(in, n, out, false, f);
}

static size_t multi_rounds(const uint8_t *in, size_t n, uint8_t *out, unsigned *f, bool plus,
                           int rounds)
{
    uint8_t *tmp = xmalloc(n);
    size_t len = vg_decode_pct_multi(in, n, out, tmp, plus, rounds, f);
    free(tmp);
    return len;
}

static size_t multi3_plus(const uint8_t *in, size_t n, uint8_t *out, unsigned *f)
{
    return multi_rounds(in, n, out, f, true, 3);
}

static size_t multi1_plus(const uint8_t *in, size_t n, uint8_t *out, unsigned *f)
{
    return multi_rounds(in, n, out, f, true, 1);
}

static size_t multi0_plus(const uint8_t *in, size_t n, uint8_t *out, unsigned *f)
{
    return multi_rounds(in, n, out, f, true, 0);
}

static size_t chain_kind(enum vg_decode_kind kind, const uint8_t *in, size_t n, uint8_t *out,
                         unsigned *f)
{
    uint8_t *tmp = xmalloc(n);
    size_t len = vg_decode_chain(kind, in, n, out, tmp, f);
    free(tmp);
    return len;
}

static size_t chain_path(const uint8_t *in, size_t n, uint8_t *out, unsigned *f)
{
    return chain_kind(VG_DECODE_PATH, in, n, out, f);
}

static size_t chain_query(const uint8_t *in, size_t n, uint8_t *out, unsigned *f)
{
    return chain_kind(VG_DECODE_QUERY, in, n, out, f);
}

static size_t chain_header(const uint8_t *in, size_t n, uint8_t *out, unsigned *f)
{
    return chain_kind(VG_DECODE_HEADER, in, n, out, f);
}

/* ---- known vectors --------------------------------------------------------------------------- */

static void test_log_escapes_undo_nginx_and_apache_escaping(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("\\x22", "\"", VG_DEC_LOGESC),
        CASE("a\\x5Cb\\x5cc", "a\\b\\c", VG_DEC_LOGESC),
        CASE("\\x00\\x7F\\xff", "\x00\x7F\xFF", VG_DEC_LOGESC),
        CASE("\\\"quoted\\\"", "\"quoted\"", VG_DEC_LOGESC),
        CASE("back\\\\slash", "back\\slash", VG_DEC_LOGESC),
        CASE("\\n\\r\\t", "\n\r\t", VG_DEC_LOGESC),
        CASE("\\\\x41", "\\x41", VG_DEC_LOGESC),
        CASE("plain text", "plain text", 0),
        CASE("", "", 0),
    };
    run_cases("log_escapes", vg_decode_log_escapes, cases, VG_ARRAY_LEN(cases));
}

static void test_log_escapes_keep_unknown_and_truncated_escapes(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("\\q", "\\q", 0),
        CASE("\\", "\\", 0),
        CASE("a\\", "a\\", 0),
        CASE("\\x", "\\x", 0),
        CASE("\\x4", "\\x4", 0),
        CASE("\\xZZ", "\\xZZ", 0),
        CASE("\\x4g", "\\x4g", 0),
        CASE("C:\\win", "C:\\win", 0),
        CASE("\\q\\x41", "\\qA", VG_DEC_LOGESC),
    };
    run_cases("log_escapes invalid", vg_decode_log_escapes, cases, VG_ARRAY_LEN(cases));
}

static void test_pct_decodes_hex_and_iis_unicode_escapes(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("%27", "'", VG_DEC_PCT),
        CASE("%2527", "%27", VG_DEC_PCT),
        CASE("%3c%3C%3e", "<<>", VG_DEC_PCT),
        CASE("%00", "\x00", VG_DEC_PCT),
        CASE("%e9t%C3%A9", "\xE9t\xC3\xA9", VG_DEC_PCT),
        CASE("%u0027", "'", VG_DEC_UNI),
        CASE("%U0041", "A", VG_DEC_UNI),
        CASE("%u00e9", "\xC3\xA9", VG_DEC_UNI),
        CASE("%u12345",
             "\xE1\x88\xB4"
             "5",
             VG_DEC_UNI),
        CASE("%uD83D%uDE00", "\xF0\x9F\x98\x80", VG_DEC_UNI),
        CASE("%ud83d%ude00!", "\xF0\x9F\x98\x80!", VG_DEC_UNI),
        CASE("%u0000", "\x00", VG_DEC_UNI),
        CASE("%uFF0E", "\xEF\xBC\x8E", VG_DEC_UNI),
        CASE("%u0027%27", "''", VG_DEC_UNI | VG_DEC_PCT),
    };
    run_cases("pct", pct_noplus, cases, VG_ARRAY_LEN(cases));
}

static void test_pct_turns_lone_surrogates_into_replacement_char(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("%uD83D", "\xEF\xBF\xBD", VG_DEC_UNI),
        CASE("%uDE00", "\xEF\xBF\xBD", VG_DEC_UNI),
        CASE("%uD83Dx", "\xEF\xBF\xBDx", VG_DEC_UNI),
        CASE("%uD83D%41",
             "\xEF\xBF\xBD"
             "A",
             VG_DEC_UNI | VG_DEC_PCT),
        CASE("%uD83D%uD83D", "\xEF\xBF\xBD\xEF\xBF\xBD", VG_DEC_UNI),
        CASE("%uDE00%uD83D", "\xEF\xBF\xBD\xEF\xBF\xBD", VG_DEC_UNI),
        CASE("%uD83D%uDE0", "\xEF\xBF\xBD%uDE0", VG_DEC_UNI | VG_DEC_BADPCT),
    };
    run_cases("pct surrogates", pct_noplus, cases, VG_ARRAY_LEN(cases));
}

static void test_pct_keeps_invalid_escapes_verbatim(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("%zz", "%zz", VG_DEC_BADPCT),
        CASE("%", "%", VG_DEC_BADPCT),
        CASE("100%", "100%", VG_DEC_BADPCT),
        CASE("%4", "%4", VG_DEC_BADPCT),
        CASE("%4g", "%4g", VG_DEC_BADPCT),
        CASE("%u12", "%u12", VG_DEC_BADPCT),
        CASE("%u", "%u", VG_DEC_BADPCT),
        CASE("%u123x", "%u123x", VG_DEC_BADPCT),
        CASE("%%41", "%A", VG_DEC_BADPCT | VG_DEC_PCT),
        CASE("%%%", "%%%", VG_DEC_BADPCT),
    };
    run_cases("pct invalid", pct_noplus, cases, VG_ARRAY_LEN(cases));
}

static void test_pct_turns_plus_into_space_only_when_asked(void **state)
{
    (void)state;
    static const struct dec_case with_plus[] = {
        CASE("a+b", "a b", VG_DEC_PLUS),
        CASE("++", "  ", VG_DEC_PLUS),
        CASE("%2B", "+", VG_DEC_PCT),
        CASE("a+%2B", "a +", VG_DEC_PLUS | VG_DEC_PCT),
        CASE("ab", "ab", 0),
    };
    static const struct dec_case without_plus[] = {
        CASE("a+b", "a+b", 0),
        CASE("%2B+", "++", VG_DEC_PCT),
    };
    run_cases("pct plus", pct_plus, with_plus, VG_ARRAY_LEN(with_plus));
    run_cases("pct no plus", pct_noplus, without_plus, VG_ARRAY_LEN(without_plus));
}

static void test_pct_multi_undoes_double_and_triple_encoding(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("%2527", "'", VG_DEC_PCT | VG_DEC_DOUBLE),
        CASE("%252e%252e%252f", "../", VG_DEC_PCT | VG_DEC_DOUBLE),
        CASE("%25252e", ".", VG_DEC_PCT | VG_DEC_DOUBLE),
        CASE("%2525252e", "%2e", VG_DEC_PCT | VG_DEC_DOUBLE), /* stops after 3 rounds */
        CASE("%25u0027", "'", VG_DEC_PCT | VG_DEC_UNI | VG_DEC_DOUBLE),
        CASE("%27", "'", VG_DEC_PCT),
        CASE("%25zz", "%zz", VG_DEC_PCT | VG_DEC_BADPCT),
        CASE("abc", "abc", 0),
    };
    run_cases("pct_multi", multi3_plus, cases, VG_ARRAY_LEN(cases));
}

static void test_pct_multi_turns_plus_into_space_in_first_round_only(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("%2B", "+", VG_DEC_PCT),
        CASE("%252B", "+", VG_DEC_PCT | VG_DEC_DOUBLE),
        CASE("a+%2B", "a +", VG_DEC_PCT | VG_DEC_PLUS),
        CASE("a+b", "a b", VG_DEC_PLUS),
    };
    run_cases("pct_multi plus", multi3_plus, cases, VG_ARRAY_LEN(cases));
}

static void test_pct_multi_honours_max_rounds(void **state)
{
    (void)state;
    static const struct dec_case one[] = {CASE("%2527", "%27", VG_DEC_PCT)};
    static const struct dec_case zero[] = {CASE("%2527+", "%2527+", 0)};
    run_cases("pct_multi 1 round", multi1_plus, one, VG_ARRAY_LEN(one));
    run_cases("pct_multi 0 rounds", multi0_plus, zero, VG_ARRAY_LEN(zero));
}

static void test_overlong_utf8_folds_to_ascii(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("\xC0\xAE", ".", VG_DEC_OVERLONG),
        CASE("\xC0\xAE\xC0\xAE/", "../", VG_DEC_OVERLONG),
        CASE("\xC0\xAF", "/", VG_DEC_OVERLONG),
        CASE("\xC1\x81", "A", VG_DEC_OVERLONG),
        CASE("\xC1\xBF", "\x7F", VG_DEC_OVERLONG),
        CASE("\xC0\x80", "\x00", VG_DEC_OVERLONG),
        CASE("\xE0\x80\xAE", ".", VG_DEC_OVERLONG),
        CASE("\xE0\x81\x81", "A", VG_DEC_OVERLONG),
        CASE("\xF0\x80\x80\xAF", "/", VG_DEC_OVERLONG),
        CASE("\xF8\x80\x80\x80\xAE", ".", VG_DEC_OVERLONG),
        CASE("\xFC\x80\x80\x80\x80\xAE", ".", VG_DEC_OVERLONG),
        CASE("\xFC\x80\x80\x80\x81\xBF", "\x7F", VG_DEC_OVERLONG),
    };
    run_cases("overlong", vg_decode_overlong_utf8, cases, VG_ARRAY_LEN(cases));
}

static void test_overlong_utf8_keeps_valid_and_truncated_sequences(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("\xC3\xA9", "\xC3\xA9", 0),         /* e-acute */
        CASE("\xE0\xA4\x85", "\xE0\xA4\x85", 0), /* Devanagari A (lead E0, valid) */
        CASE("\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80", 0),
        CASE("\xE0\x82\xAE", "\xE0\x82\xAE", 0), /* overlong, but not of ASCII */
        CASE("\xC0", "\xC0", 0),
        CASE("\xC0"
             "A",
             "\xC0"
             "A",
             0),
        CASE("\xE0\x80", "\xE0\x80", 0),
        CASE("\xF0\x80\x80", "\xF0\x80\x80", 0),
        CASE("\xF8\x80\x81\x80\xAE", "\xF8\x80\x81\x80\xAE", 0),
        CASE("\xFC\x80\x80\x80\x80", "\xFC\x80\x80\x80\x80", 0),
    };
    run_cases("overlong kept", vg_decode_overlong_utf8, cases, VG_ARRAY_LEN(cases));
}

static void test_html_decodes_numeric_references(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("&#x3c;script&#62;", "<script>", VG_DEC_ENTITY),
        CASE("&#X3C", "<", VG_DEC_ENTITY),
        CASE("&#60a", "<a", VG_DEC_ENTITY),
        CASE("&#0000060;", "<", VG_DEC_ENTITY),
        CASE("&#x000000000000003c;", "<", VG_DEC_ENTITY),
        CASE("&#233;", "\xC3\xA9", VG_DEC_ENTITY),
        CASE("&#x1F600;", "\xF0\x9F\x98\x80", VG_DEC_ENTITY),
        CASE("&#0;", "\xEF\xBF\xBD", VG_DEC_ENTITY),
        CASE("&#0", "\xEF\xBF\xBD", VG_DEC_ENTITY),
        CASE("&#x110000;", "\xEF\xBF\xBD", VG_DEC_ENTITY),
        CASE("&#99999999999;", "\xEF\xBF\xBD", VG_DEC_ENTITY),
        CASE("&#xFFFFFFFFFFFFFFFFFFFF", "\xEF\xBF\xBD", VG_DEC_ENTITY),
        CASE("&#xD800;", "\xEF\xBF\xBD", VG_DEC_ENTITY),
        CASE("&#1114111;", "\xF4\x8F\xBF\xBF", VG_DEC_ENTITY),
    };
    run_cases("html numeric", vg_decode_html_entities, cases, VG_ARRAY_LEN(cases));
}

static void test_html_decodes_named_references_case_sensitively(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("&lt;svg/onload=alert(1)&gt;", "<svg/onload=alert(1)>", VG_DEC_ENTITY),
        CASE("&lt", "<", VG_DEC_ENTITY),
        CASE("a&lt;=5", "a<=5", VG_DEC_ENTITY),
        CASE("&LT;&GT;&AMP;&QUOT;", "<>&\"", VG_DEC_ENTITY),
        CASE("&amp;lt;", "&lt;", VG_DEC_ENTITY),
        CASE("java&Tab;script&colon;", "java\tscript:", VG_DEC_ENTITY),
        CASE("&NewLine;", "\n", VG_DEC_ENTITY),
        CASE("&lpar;1&rpar;&apos;&quot;&sol;&bsol;", "(1)'\"/\\", VG_DEC_ENTITY),
        CASE("&nbsp;", "\xC2\xA0", VG_DEC_ENTITY),
        CASE("&eacute;", "\xC3\xA9", VG_DEC_ENTITY),
        CASE("&lang;", "\xE2\x9F\xA8", VG_DEC_ENTITY),
        CASE("&ne", "\xE2\x89\xA0", VG_DEC_ENTITY),
        CASE("&grave;&equals;&plus;&semi;&comma;&period;&excl;&num;&percnt;", "`=+;,.!#%",
             VG_DEC_ENTITY),
        CASE("&lsqb;&rsqb;&lcub;&rcub;&vert;", "[]{}|", VG_DEC_ENTITY),
    };
    run_cases("html named", vg_decode_html_entities, cases, VG_ARRAY_LEN(cases));
}

static void test_html_keeps_text_that_is_not_a_reference(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("&", "&", 0),
        CASE("&#", "&#", 0),
        CASE("&#x", "&#x", 0),
        CASE("&#x;", "&#x;", 0),
        CASE("&#;", "&#;", 0),
        CASE("&;", "&;", 0),
        CASE("a & b", "a & b", 0),
        CASE("&unknown;", "&unknown;", 0),
        CASE("&lT;", "&lT;", 0),
        CASE("&ltscript", "&ltscript", 0),
        CASE("?a=1&lt=5&copy=2", "?a=1&lt=5&copy=2", 0),
        CASE("&NonBreakingSpaceX;", "&NonBreakingSpaceX;", 0),
        CASE("&&&", "&&&", 0),
    };
    run_cases("html kept", vg_decode_html_entities, cases, VG_ARRAY_LEN(cases));
}

static void test_html_table_is_sorted_and_never_grows(void **state)
{
    (void)state;
    uint8_t in[VG_HTML_NAME_MAX + 2], out[sizeof(in)];
    for (size_t k = 0; k < VG_ARRAY_LEN(vg_html_entities); k++) {
        const struct vg_html_entity *e = &vg_html_entities[k];
        assert_int_equal(strlen(e->name), e->name_len);
        assert_true(e->name_len >= 2 && e->name_len <= VG_HTML_NAME_MAX);
        assert_true(e->utf8_len >= 1 && e->utf8_len <= 4);
        assert_true(e->utf8_len <= 1u + e->name_len);
        if (k > 0)
            assert_true(strcmp(vg_html_entities[k - 1].name, e->name) < 0);
        /* Both spellings decode to the table's UTF-8. */
        for (int semi = 0; semi <= 1; semi++) {
            size_t n = 0;
            in[n++] = '&';
            memcpy(in + n, e->name, e->name_len);
            n += e->name_len;
            if (semi)
                in[n++] = ';';
            unsigned flags = 0;
            size_t len = vg_decode_html_entities(in, n, out, &flags);
            assert_int_equal(len, e->utf8_len);
            assert_memory_equal(out, e->utf8, len);
            assert_int_equal(flags, VG_DEC_ENTITY);
        }
    }
}

static void test_remove_nuls_removes_every_nul_even_in_place(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("a\x00"
             "b\x00\x00"
             "c\x00",
             "abc", VG_DEC_NUL),
        CASE("\x00", "", VG_DEC_NUL),
        CASE("abc", "abc", 0),
    };
    run_cases("remove_nuls", vg_decode_remove_nuls, cases, VG_ARRAY_LEN(cases));
    uint8_t buf[] = {'x', 0, 0, 'y', 0, 'z'};
    unsigned flags = 0;
    size_t len = vg_decode_remove_nuls(buf, sizeof(buf), buf, &flags);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "xyz", 3);
    assert_int_equal(flags, VG_DEC_NUL);
}

static void test_normalize_path_resolves_dot_segments_and_separators(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("/a/./b/../../../etc/passwd", "/etc/passwd", VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("..\\..\\windows\\win.ini", "windows/win.ini", VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("/../etc/passwd", "/etc/passwd", VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("/a/b/../c", "/a/c", VG_DEC_PATH),
        CASE("/a//b///c", "/a/b/c", VG_DEC_PATH),
        CASE("//a", "/a", VG_DEC_PATH),
        CASE("\\a\\b", "/a/b", VG_DEC_PATH),
        CASE("/a/b/..", "/a/", VG_DEC_PATH),
        CASE("/a/b/.", "/a/b/", VG_DEC_PATH),
        CASE("/a/./", "/a/", VG_DEC_PATH),
        CASE("/..", "/", VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("/.", "/", VG_DEC_PATH),
        CASE("./a", "a", VG_DEC_PATH),
        CASE("a/../b", "b", VG_DEC_PATH),
        CASE("a/..", "", VG_DEC_PATH),
        CASE("a/../../b", "b", VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("..", "", VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE(".", "", VG_DEC_PATH),
        CASE("//", "/", VG_DEC_PATH),
    };
    run_cases("normalize_path", vg_normalize_path, cases, VG_ARRAY_LEN(cases));
}

static void test_normalize_path_keeps_normal_paths(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("/", "/", 0),
        CASE("", "", 0),
        CASE("/doku.php", "/doku.php", 0),
        CASE("/a/b/", "/a/b/", 0),
        CASE("a/b", "a/b", 0),
        CASE("/.../x", "/.../x", 0),
        CASE("/.a/b./..c/c..", "/.a/b./..c/c..", 0),
        CASE("/. /x", "/. /x", 0),
    };
    run_cases("normalize_path kept", vg_normalize_path, cases, VG_ARRAY_LEN(cases));
}

static void test_compress_whitespace_collapses_runs(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("a  b", "a b", VG_DEC_WS),
        CASE("a\tb", "a b", VG_DEC_WS),
        CASE("a \t\r\n\v\fb", "a b", VG_DEC_WS),
        CASE("a\xC2\xA0\xC2\xA0"
             "b",
             "a b", VG_DEC_WS),
        CASE("union\xC2\xA0select", "union select", VG_DEC_WS),
        CASE(" x ", " x ", 0),
        CASE("a b", "a b", 0),
        CASE("\xC2", "\xC2", 0),
        CASE("\xC3\xA0", "\xC3\xA0", 0),
    };
    run_cases("compress_whitespace", vg_compress_whitespace, cases, VG_ARRAY_LEN(cases));
}

static void test_chain_path_decodes_then_normalizes(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("/x/%252e%252e%252f%252e%252e%252fetc/passwd", "/etc/passwd",
             VG_DEC_PCT | VG_DEC_DOUBLE | VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/etc/passwd",
             VG_DEC_PCT | VG_DEC_OVERLONG | VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("/%e0%80%ae%e0%80%ae/x", "/x",
             VG_DEC_PCT | VG_DEC_OVERLONG | VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("/a/./b/../../../etc/passwd", "/etc/passwd", VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("..\\..\\windows\\win.ini", "windows/win.ini", VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("/.%00./x", "/x", VG_DEC_PCT | VG_DEC_NUL | VG_DEC_PATH | VG_DEC_TRAVERSAL),
        CASE("/img.php%00.jpg", "/img.php.jpg", VG_DEC_PCT | VG_DEC_NUL),
        CASE("/a%2fb", "/a/b", VG_DEC_PCT),
        CASE("/a/%u002e%u002e/b", "/b", VG_DEC_UNI | VG_DEC_PATH),
        CASE("/a\\x22b", "/a\"b", VG_DEC_LOGESC),
        CASE("/a+b", "/a+b", 0),
        CASE("/a&lt;b", "/a&lt;b", 0),
        CASE("/%zz", "/%zz", VG_DEC_BADPCT),
    };
    run_cases("chain path", chain_path, cases, VG_ARRAY_LEN(cases));
}

static void test_chain_query_decodes_plus_entities_and_double_encoding(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("q=%2527", "q='", VG_DEC_PCT | VG_DEC_DOUBLE),
        CASE("q=a+b", "q=a b", VG_DEC_PLUS),
        CASE("q=%2B1", "q=+1", VG_DEC_PCT),
        CASE("q=%26lt%3Bscript%26gt%3B", "q=<script>", VG_DEC_PCT | VG_DEC_ENTITY),
        CASE("q=&#x3c;script&#62;", "q=<script>", VG_DEC_ENTITY),
        CASE("q=%u0027", "q='", VG_DEC_UNI),
        CASE("q=%uD83D%uDE00", "q=\xF0\x9F\x98\x80", VG_DEC_UNI),
        CASE("id=1%00' or 1=1", "id=1' or 1=1", VG_DEC_PCT | VG_DEC_NUL),
        CASE("q=\\x22x\\x22", "q=\"x\"", VG_DEC_LOGESC),
        CASE("q=%c0%a7", "q='", VG_DEC_PCT | VG_DEC_OVERLONG),
        CASE("q=&#0;", "q=\xEF\xBF\xBD", VG_DEC_ENTITY),
        CASE("q=%zz", "q=%zz", VG_DEC_BADPCT),
        CASE("q=%", "q=%", VG_DEC_BADPCT),
        CASE("a=1&b=2&lt=3", "a=1&b=2&lt=3", 0),
        CASE("q=../../x", "q=../../x", 0),
    };
    run_cases("chain query", chain_query, cases, VG_ARRAY_LEN(cases));
}

static void test_chain_header_decodes_two_rounds_without_plus(void **state)
{
    (void)state;
    static const struct dec_case cases[] = {
        CASE("Mozilla\\x22%2527", "Mozilla\"'", VG_DEC_LOGESC | VG_DEC_PCT | VG_DEC_DOUBLE),
        CASE("%25252527", "%2527", VG_DEC_PCT | VG_DEC_DOUBLE),
        CASE("a+b", "a+b", 0),
        CASE("&lt;svg/onload=alert(1)&gt;", "<svg/onload=alert(1)>", VG_DEC_ENTITY),
        CASE("x%00y", "xy", VG_DEC_PCT | VG_DEC_NUL),
        CASE("() { :; }; /bin/bash", "() { :; }; /bin/bash", 0),
    };
    run_cases("chain header", chain_header, cases, VG_ARRAY_LEN(cases));
}

static void test_chain_leaves_flags_untouched_when_nothing_to_decode(void **state)
{
    (void)state;
    static const char *inputs[] = {"/doku.php", "id=start&do=edit", "Mozilla/5.0 (X11)"};
    static const enum vg_decode_kind kinds[] = {VG_DECODE_PATH, VG_DECODE_QUERY, VG_DECODE_HEADER};
    for (size_t k = 0; k < VG_ARRAY_LEN(kinds); k++) {
        const uint8_t *in = (const uint8_t *)inputs[k];
        size_t n = strlen(inputs[k]);
        uint8_t out[64], tmp[64];
        unsigned flags = VG_DEC_COMMENT | VG_DEC_WS;
        assert_false(vg_decode_needed(kinds[k], in, n));
        size_t len = vg_decode_chain(kinds[k], in, n, out, tmp, &flags);
        assert_int_equal(len, n);
        assert_memory_equal(out, in, n);
        assert_int_equal(flags, VG_DEC_COMMENT | VG_DEC_WS);
    }
}

static void test_chain_ors_flags_and_never_clears_them(void **state)
{
    (void)state;
    const uint8_t in[] = "q=%27";
    uint8_t out[8], tmp[8];
    unsigned flags = VG_DEC_WS;
    size_t len = vg_decode_chain(VG_DECODE_QUERY, in, sizeof(in) - 1, out, tmp, &flags);
    assert_int_equal(len, 3);
    assert_int_equal(flags, VG_DEC_WS | VG_DEC_PCT);
}

struct needed_case {
    enum vg_decode_kind kind;
    const char *in;
    bool want;
};

static void test_needed_spots_what_each_chain_would_change(void **state)
{
    (void)state;
    static const struct needed_case cases[] = {
        {VG_DECODE_PATH, "/a//b", true},
        {VG_DECODE_PATH, "/a/./b", true},
        {VG_DECODE_PATH, "/a/../b", true},
        {VG_DECODE_PATH, "/a/.", true},
        {VG_DECODE_PATH, "/a/..", true},
        {VG_DECODE_PATH, "/a\\b", true},
        {VG_DECODE_PATH, "./a", true},
        {VG_DECODE_PATH, "../a", true},
        {VG_DECODE_PATH, ".", true},
        {VG_DECODE_PATH, "/a%41", true},
        {VG_DECODE_PATH, "/a\xC0\xAE", true},
        {VG_DECODE_PATH, "/a/.b", false},
        {VG_DECODE_PATH, "/a/b.", false},
        {VG_DECODE_PATH, "/a/.../b", false},
        {VG_DECODE_PATH, "/a/b", false},
        {VG_DECODE_PATH, "", false},
        {VG_DECODE_PATH, "/a+b&lt;", false},
        {VG_DECODE_PATH, "/\xE0\xA4\x85", false},
        {VG_DECODE_QUERY, "a=1&b=2", false},
        {VG_DECODE_QUERY, "a=1&lt;", true},
        {VG_DECODE_QUERY, "a&lt=1", false},
        {VG_DECODE_QUERY, "a&lt", true},
        {VG_DECODE_QUERY, "a=&#60", true},
        {VG_DECODE_QUERY, "a=&#", false},
        {VG_DECODE_QUERY, "a+b", true},
        {VG_DECODE_QUERY, "x\\q", false},
        {VG_DECODE_QUERY, "x\\x41", true},
        {VG_DECODE_QUERY, "x\\x4", false},
        {VG_DECODE_QUERY, "a//./b", false},
        {VG_DECODE_QUERY, "%", true},
        {VG_DECODE_HEADER, "a+b", false},
        {VG_DECODE_HEADER, "a\\\"b", true},
        {VG_DECODE_HEADER, "Tom & Jerry", false},
    };
    for (size_t k = 0; k < VG_ARRAY_LEN(cases); k++) {
        bool got =
            vg_decode_needed(cases[k].kind, (const uint8_t *)cases[k].in, strlen(cases[k].in));
        if (got != cases[k].want)
            fail_msg("needed case %zu (kind %d, \"%s\"): want %d got %d", k, cases[k].kind,
                     cases[k].in, cases[k].want, got);
    }
}

static void test_flags_format_names_bits_in_order(void **state)
{
    (void)state;
    char out[256];
    vg_decode_flags_format(VG_DEC_PCT | VG_DEC_DOUBLE | VG_DEC_UNI, out, sizeof(out));
    assert_string_equal(out, "pct,double,uni");
    vg_decode_flags_format(0, out, sizeof(out));
    assert_string_equal(out, "");
    vg_decode_flags_format(~0u, out, sizeof(out));
    assert_string_equal(out, "logesc,pct,double,uni,plus,badpct,entity,nul,overlong,path,"
                             "traversal,ws,comment");
    vg_decode_flags_format(VG_DEC_TRAVERSAL | VG_DEC_NUL, out, sizeof(out));
    assert_string_equal(out, "nul,traversal");
}

static void test_flags_format_never_overflows_small_buffers(void **state)
{
    (void)state;
    char out[16];
    memset(out, 'X', sizeof(out));
    vg_decode_flags_format(VG_DEC_PCT | VG_DEC_DOUBLE | VG_DEC_OVERLONG, out, 11);
    assert_string_equal(out, "pct,double");
    assert_int_equal(out[11], 'X');
    vg_decode_flags_format(VG_DEC_PCT, out, 1);
    assert_string_equal(out, "");
    out[0] = 'Y';
    vg_decode_flags_format(VG_DEC_PCT, out, 0);
    assert_int_equal(out[0], 'Y');
}

/* ---- properties ------------------------------------------------------------------------------ */

static const enum vg_decode_kind all_kinds[] = {VG_DECODE_PATH, VG_DECODE_QUERY, VG_DECODE_HEADER};

/* The chain written as the plain composition of the public decoders (no skipping). */
static size_t reference_chain(enum vg_decode_kind kind, const uint8_t *in, size_t n, uint8_t *out,
                              unsigned *flags)
{
    uint8_t *a = xmalloc(n), *b = xmalloc(n), *t = xmalloc(n);
    size_t len = vg_decode_log_escapes(in, n, a, flags);
    bool plus = kind == VG_DECODE_QUERY;
    int rounds = kind == VG_DECODE_HEADER ? 2 : 3;
    len = vg_decode_pct_multi(a, len, b, t, plus, rounds, flags);
    len = vg_decode_overlong_utf8(b, len, a, flags);
    if (kind != VG_DECODE_PATH) {
        len = vg_decode_html_entities(a, len, b, flags);
        memcpy(a, b, len);
    }
    len = vg_decode_remove_nuls(a, len, a, flags);
    if (kind == VG_DECODE_PATH)
        len = vg_normalize_path(a, len, out, flags);
    else
        memcpy(out, a, len);
    free(a);
    free(b);
    free(t);
    return len;
}

struct prop_stats {
    size_t inputs, needed, not_needed;
};

/*
 * Checks every property on one input; buffers are exactly n bytes so that ASan reports any write
 * past n. Returns false (after printing the input) on a violation.
 */
static bool check_properties(const uint8_t *in, size_t n, struct prop_stats *st)
{
    static const dec_fn simple[] = {vg_decode_log_escapes,
                                    pct_plus,
                                    pct_noplus,
                                    vg_decode_html_entities,
                                    vg_decode_overlong_utf8,
                                    vg_decode_remove_nuls,
                                    vg_normalize_path,
                                    vg_compress_whitespace};
    uint8_t *out = xmalloc(n), *tmp = xmalloc(n), *ref = xmalloc(n);
    bool ok = true;
    const char *why = NULL;
    for (size_t k = 0; k < VG_ARRAY_LEN(simple) && ok; k++) {
        unsigned f = 0;
        if (simple[k](in, n, out, &f) > n)
            ok = false, why = "a decoder grew its input";
    }
    for (int rounds = 1; rounds <= 3 && ok; rounds++) {
        unsigned f = 0;
        if (vg_decode_pct_multi(in, n, out, tmp, rounds != 2, rounds, &f) > n)
            ok = false, why = "pct_multi grew its input";
    }
    for (size_t k = 0; k < VG_ARRAY_LEN(all_kinds) && ok; k++) {
        unsigned f = 0, rf = 0;
        size_t len = vg_decode_chain(all_kinds[k], in, n, out, tmp, &f);
        bool needed = vg_decode_needed(all_kinds[k], in, n);
        size_t rlen = reference_chain(all_kinds[k], in, n, ref, &rf);
        if (len > n)
            ok = false, why = "the chain grew its input";
        else if (len != rlen || memcmp(out, ref, len) != 0 || f != rf)
            ok = false, why = "the chain differs from the composition of its decoders";
        else if (!needed && (len != n || memcmp(out, in, n) != 0 || f != 0))
            ok = false, why = "vg_decode_needed said false but the chain changed something";
        else if (needed && f == 0)
            ok = false, why = "vg_decode_needed said true but the chain changed nothing";
        if (!ok)
            fprintf(stderr, "property violated for kind %d: %s\n", all_kinds[k], why);
        else if (needed)
            st->needed++;
        else
            st->not_needed++;
    }
    if (!ok)
        print_bytes("input", in, n);
    st->inputs++;
    free(out);
    free(tmp);
    free(ref);
    return ok;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_properties_hold_on_random_inputs(void **state)
{
    (void)state;
    /* An alphabet biased towards the bytes that start or complete escapes. */
    static const uint8_t alphabet[] = {
        '%',  '%',  '%',  'u',  'U',  '2',  '5',  'e',  'E',  'f', 'F',  '0',  '3',  'c',
        'D',  '8',  'a',  '+',  '&',  '&',  '#',  'x',  ';',  'l', 't',  'g',  'T',  'b',
        '=',  '\\', '\\', '"',  'n',  '/',  '/',  '/',  '.',  '.', '.',  0x00, 0xC0, 0xC1,
        0xE0, 0xF0, 0xF8, 0xFC, 0x80, 0x81, 0xAE, 0xC2, 0xA0, ' ', '\t', 'q'};
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    struct prop_stats st = {0};
    uint8_t buf[48];
    for (int iter = 0; iter < 300000; iter++) {
        size_t n = rng_next(&seed) % sizeof(buf);
        bool any_byte = rng_next(&seed) % 8 == 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng_next(&seed);
            buf[i] = any_byte ? (uint8_t)r : alphabet[r % sizeof(alphabet)];
        }
        if (!check_properties(buf, n, &st))
            fail_msg("property violated on random input %d", iter);
    }
    /* Not vacuous: both answers of vg_decode_needed were exercised. */
    assert_true(st.needed > 100000 && st.not_needed > 10000);
}

static void test_properties_hold_on_hostile_truncations(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "%",
        "%u12",
        "&#x",
        "&#99999999999;",
        "%uD83D%uDE0",
        "\\x4",
        "\xC0",
        "\xE0\x80",
        "/..",
        "/.",
        "&lt",
        "%2",
        "%25252",
        "&#",
        "%uD83D%",
        "\\",
        "/a/b/../../../..",
        "&NonBreakingSpace",
    };
    struct prop_stats st = {0};
    for (size_t k = 0; k < VG_ARRAY_LEN(seeds); k++) {
        size_t n = strlen(seeds[k]);
        /* every prefix, so each escape is also seen cut at every byte */
        for (size_t m = 0; m <= n; m++) {
            if (!check_properties((const uint8_t *)seeds[k], m, &st))
                fail_msg("property violated on prefix %zu of seed %zu", m, k);
        }
    }
}

/* ---- properties over the shared corpus and payload lists ------------------------------------- */

static const char *shared_dir(void)
{
    const char *d = getenv("VG_SHARED_DIR");
    return d && *d ? d : "../shared"; /* CTest sets VG_SHARED_DIR; "../shared" from the source root */
}

static bool file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

static char corpus_path[4096], payload_dir[4096];

/* Runs the properties on the fields of one combined-format line, and on the whole line. */
static bool check_log_line(const uint8_t *line, size_t n, struct prop_stats *st)
{
    bool ok = check_properties(line, n, st);
    /* quoted fields: "request", "referer", "user agent" (nginx escapes '"' inside them) */
    struct vg_str q[3];
    size_t nq = 0;
    for (size_t i = 0; i < n && nq < 3; i++) {
        if (line[i] != '"')
            continue;
        size_t j = i + 1;
        while (j < n && line[j] != '"')
            j++;
        q[nq++] = vg_str_make(line + i + 1, j - i - 1);
        i = j;
    }
    if (nq >= 1) {
        /* METHOD SP target SP protocol: split the target into path and query */
        const uint8_t *r = q[0].p, *end = q[0].p + q[0].n;
        const uint8_t *sp = memchr(r, ' ', q[0].n);
        if (sp) {
            const uint8_t *t = sp + 1;
            const uint8_t *te = memchr(t, ' ', (size_t)(end - t));
            if (!te)
                te = end;
            const uint8_t *qm = memchr(t, '?', (size_t)(te - t));
            const uint8_t *pe = qm ? qm : te;
            ok = check_properties(t, (size_t)(pe - t), st) && ok;
            if (qm)
                ok = check_properties(qm + 1, (size_t)(te - qm - 1), st) && ok;
        }
    }
    for (size_t k = 1; k < nq; k++)
        ok = check_properties(q[k].p, q[k].n, st) && ok;
    return ok;
}

static void test_properties_hold_on_every_corpus_line(void **state)
{
    (void)state;
    gzFile gz = gzopen(corpus_path, "rb");
    assert_non_null(gz);
    static char line[65536];
    struct prop_stats st = {0};
    size_t lines = 0, bad = 0;
    while (gzgets(gz, line, sizeof(line)) != NULL) {
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        lines++;
        if (!check_log_line((const uint8_t *)line, n, &st) && ++bad >= 5)
            break;
    }
    gzclose(gz);
    assert_int_equal(bad, 0);
    assert_true(lines > 1000);
    fprintf(stderr, "corpus: %zu lines, %zu values, chain needed %zu, not needed %zu\n", lines,
            st.inputs, st.needed, st.not_needed);
}

static struct prop_stats payload_stats;
static size_t payload_files, payload_bad;

static int check_payload_file(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F || sb->st_size <= 0 || sb->st_size > (64 << 20))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t size = (size_t)sb->st_size;
    uint8_t *buf = xmalloc(size);
    size_t len = fread(buf, 1, size, f);
    fclose(f);
    payload_files++;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && buf[i] != '\n')
            continue;
        if (i > start || i < len) {
            if (!check_properties(buf + start, i - start, &payload_stats))
                payload_bad++;
        }
        start = i + 1;
    }
    free(buf);
    return payload_bad >= 5 ? 1 : 0;
}

static void test_properties_hold_on_every_payload_line(void **state)
{
    (void)state;
    int rc = nftw(payload_dir, check_payload_file, 16, FTW_PHYS);
    assert_int_equal(payload_bad, 0);
    assert_int_equal(rc, 0);
    assert_true(payload_files > 0);
    fprintf(stderr, "payloads: %zu files, %zu values, chain needed %zu, not needed %zu\n",
            payload_files, payload_stats.inputs, payload_stats.needed, payload_stats.not_needed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_escapes_undo_nginx_and_apache_escaping),
        cmocka_unit_test(test_log_escapes_keep_unknown_and_truncated_escapes),
        cmocka_unit_test(test_pct_decodes_hex_and_iis_unicode_escapes),
        cmocka_unit_test(test_pct_turns_lone_surrogates_into_replacement_char),
        cmocka_unit_test(test_pct_keeps_invalid_escapes_verbatim),
        cmocka_unit_test(test_pct_turns_plus_into_space_only_when_asked),
        cmocka_unit_test(test_pct_multi_undoes_double_and_triple_encoding),
        cmocka_unit_test(test_pct_multi_turns_plus_into_space_in_first_round_only),
        cmocka_unit_test(test_pct_multi_honours_max_rounds),
        cmocka_unit_test(test_overlong_utf8_folds_to_ascii),
        cmocka_unit_test(test_overlong_utf8_keeps_valid_and_truncated_sequences),
        cmocka_unit_test(test_html_decodes_numeric_references),
        cmocka_unit_test(test_html_decodes_named_references_case_sensitively),
        cmocka_unit_test(test_html_keeps_text_that_is_not_a_reference),
        cmocka_unit_test(test_html_table_is_sorted_and_never_grows),
        cmocka_unit_test(test_remove_nuls_removes_every_nul_even_in_place),
        cmocka_unit_test(test_normalize_path_resolves_dot_segments_and_separators),
        cmocka_unit_test(test_normalize_path_keeps_normal_paths),
        cmocka_unit_test(test_compress_whitespace_collapses_runs),
        cmocka_unit_test(test_chain_path_decodes_then_normalizes),
        cmocka_unit_test(test_chain_query_decodes_plus_entities_and_double_encoding),
        cmocka_unit_test(test_chain_header_decodes_two_rounds_without_plus),
        cmocka_unit_test(test_chain_leaves_flags_untouched_when_nothing_to_decode),
        cmocka_unit_test(test_chain_ors_flags_and_never_clears_them),
        cmocka_unit_test(test_needed_spots_what_each_chain_would_change),
        cmocka_unit_test(test_flags_format_names_bits_in_order),
        cmocka_unit_test(test_flags_format_never_overflows_small_buffers),
        cmocka_unit_test(test_properties_hold_on_random_inputs),
        cmocka_unit_test(test_properties_hold_on_hostile_truncations),
    };
    if (cmocka_run_group_tests_name("decode", tests, NULL, NULL) != 0)
        return 1;

    const char *dir = shared_dir();
    snprintf(corpus_path, sizeof(corpus_path), "%s/corpus/dev/access.log.gz", dir);
    snprintf(payload_dir, sizeof(payload_dir), "%s/testdata/payloads", dir);
    bool have_corpus = file_exists(corpus_path);
    struct stat sb;
    bool have_payloads = stat(payload_dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    struct CMUnitTest shared_tests[2];
    size_t n_shared = 0;
    if (have_corpus)
        shared_tests[n_shared++] =
            (struct CMUnitTest)cmocka_unit_test(test_properties_hold_on_every_corpus_line);
    if (have_payloads)
        shared_tests[n_shared++] =
            (struct CMUnitTest)cmocka_unit_test(test_properties_hold_on_every_payload_line);
    if (n_shared > 0 &&
        _cmocka_run_group_tests("decode_shared", shared_tests, n_shared, NULL, NULL) != 0)
        return 1;
    if (!have_corpus || !have_payloads) {
        fprintf(stderr,
                "SKIP: shared test data absent (%s%s%s); set VG_SHARED_DIR. The other decode "
                "tests passed.\n",
                have_corpus ? "" : corpus_path, !have_corpus && !have_payloads ? ", " : "",
                have_payloads ? "" : payload_dir);
        return 77;
    }
    return 0;
}
