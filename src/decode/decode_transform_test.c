/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_transform_test.c: unit tests of the ModSecurity/CRS transformations (cmocka): known
 * vectors for every transformation (table-driven; the expected values are what libmodsecurity
 * 3.0.9 returns, except where docs/internals/transforms.md lists a deliberate difference, which
 * the vectors then pin down), name parsing, sizes, chains, and properties over random inputs,
 * every prefix of hostile strings and, when present, every line of the shared payload lists
 * ($VG_SHARED_DIR/testdata/payloads/):
 *   - no transformation writes more than vg_tfn_max_out(t, n) (buffers are exactly that big, so
 *     ASan catches any overrun) nor reads past n (inputs are exact-size copies);
 *   - in place equals out of place for every vg_tfn_in_place transformation;
 *   - vg_tfn_may_change false implies the output equals the input;
 *   - vg_tfn_apply_chain equals step-by-step application, never fails with buffers of
 *     vg_tfn_chain_max_out bytes, and fails cleanly with smaller ones.
 *
 * Exit status: 0 all passed, 1 on failure. The payload lists are optional (a note is printed).
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

#include "decode/decode_transform.h"

struct tfn_case {
    enum vg_tfn t;
    const char *in;
    size_t in_len;
    const char *want;
    size_t want_len;
};

/* Literal lengths with sizeof, so that vectors may hold NUL bytes. */
#define CASE(t, in, want)                                                                          \
    {                                                                                              \
        t, in, sizeof(in) - 1, want, sizeof(want) - 1                                              \
    }

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static void *xdup(const void *p, size_t n)
{
    void *q = xmalloc(n);
    if (n)
        memcpy(q, p, n);
    return q;
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

/*
 * Runs each case out of place (input and output in exact-size heap buffers) and, for in-place
 * transformations, in place; checks the bytes.
 */
static void run_cases(const struct tfn_case *cases, size_t count)
{
    int failed = 0;
    for (size_t k = 0; k < count; k++) {
        const struct tfn_case *c = &cases[k];
        uint8_t *in = xdup(c->in, c->in_len);
        size_t cap = vg_tfn_max_out(c->t, c->in_len);
        uint8_t *out = xmalloc(cap);
        size_t len = vg_tfn_apply(c->t, in, c->in_len, out);
        bool ok = len <= cap && len == c->want_len && memcmp(out, c->want, len) == 0;
        if (ok && vg_tfn_in_place(c->t)) {
            uint8_t *buf = xmalloc(cap > c->in_len ? cap : c->in_len);
            memcpy(buf, c->in, c->in_len);
            size_t len2 = vg_tfn_apply(c->t, buf, c->in_len, buf);
            ok = len2 == len && memcmp(buf, out, len) == 0;
            free(buf);
        }
        if (ok && !vg_tfn_may_change(c->t, in, c->in_len))
            ok = len == c->in_len && memcmp(out, in, len) == 0;
        if (!ok) {
            fprintf(stderr, "%s case %zu:\n", vg_tfn_name(c->t), k);
            print_bytes("input", (const uint8_t *)c->in, c->in_len);
            print_bytes("want ", (const uint8_t *)c->want, c->want_len);
            print_bytes("got  ", out, len);
            failed++;
        }
        free(in);
        free(out);
    }
    assert_int_equal(failed, 0);
}

/* ---- known vectors --------------------------------------------------------------------------- */

static void test_url_decode_decodes_pct_and_plus_and_keeps_bad_escapes(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_URL_DECODE, "%27", "'"),
        CASE(VG_TFN_URL_DECODE, "a+b", "a b"),
        CASE(VG_TFN_URL_DECODE, "%2B+", "+ "),
        CASE(VG_TFN_URL_DECODE, "%2527", "%27"),
        CASE(VG_TFN_URL_DECODE, "%3c%3C%3e", "<<>"),
        CASE(VG_TFN_URL_DECODE, "%00x", "\x00x"),
        CASE(VG_TFN_URL_DECODE, "%e9", "\xE9"),
        CASE(VG_TFN_URL_DECODE, "%u0041", "%u0041"),
        /* truncated and invalid escapes stay, and what follows is read again */
        CASE(VG_TFN_URL_DECODE, "%", "%"),
        CASE(VG_TFN_URL_DECODE, "100%", "100%"),
        CASE(VG_TFN_URL_DECODE, "%4", "%4"),
        CASE(VG_TFN_URL_DECODE, "a%4", "a%4"),
        CASE(VG_TFN_URL_DECODE, "%4g", "%4g"),
        CASE(VG_TFN_URL_DECODE, "%zz", "%zz"),
        CASE(VG_TFN_URL_DECODE, "%%41", "%A"),
        CASE(VG_TFN_URL_DECODE, "", ""),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_url_decode_uni_keeps_low_byte_of_pct_u_and_folds_full_width(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_URL_DECODE_UNI, "%u0041", "A"),
        CASE(VG_TFN_URL_DECODE_UNI, "%U0041", "A"),
        CASE(VG_TFN_URL_DECODE_UNI, "%u00e9", "\xE9"),
        CASE(VG_TFN_URL_DECODE_UNI, "%u2215", "\x15"),
        CASE(VG_TFN_URL_DECODE_UNI, "%u0000", "\x00"),
        /* full-width FF01..FF5E -> ASCII */
        CASE(VG_TFN_URL_DECODE_UNI, "%uFF01", "!"),
        CASE(VG_TFN_URL_DECODE_UNI, "%uff1cscript%uff1e", "<script>"),
        CASE(VG_TFN_URL_DECODE_UNI, "%uFF5E", "~"),
        CASE(VG_TFN_URL_DECODE_UNI, "%uFF5F", "_"),
        CASE(VG_TFN_URL_DECODE_UNI, "%uFF00", "\x00"),
        CASE(VG_TFN_URL_DECODE_UNI, "%uFE01", "\x01"),
        /* %HH and '+' as urlDecode */
        CASE(VG_TFN_URL_DECODE_UNI, "%27+%2B", "' +"),
        /* truncated or invalid %u: "%u" stays, the rest is read again */
        CASE(VG_TFN_URL_DECODE_UNI, "%u", "%u"),
        CASE(VG_TFN_URL_DECODE_UNI, "%u004", "%u004"),
        CASE(VG_TFN_URL_DECODE_UNI, "%u00zz", "%u00zz"),
        CASE(VG_TFN_URL_DECODE_UNI, "%u%41", "%uA"),
        CASE(VG_TFN_URL_DECODE_UNI, "%U%u0041", "%UA"),
        CASE(VG_TFN_URL_DECODE_UNI, "%", "%"),
        CASE(VG_TFN_URL_DECODE_UNI, "%4", "%4"),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_html_entity_decode_gives_one_byte_per_reference(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&lt;script&gt;", "<script>"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&LT;&Gt;&QUOT;&AmP;", "<>\"&"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&quot&amp", "\"&"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&nbsp;", "\xA0"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#60;", "<"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#x3c;&#X3C", "<<"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#0060x", "<x"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#0;", "\x00"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#x0000000000000000000041;", "A"),
        /* entity without ';': decoded, the next byte is text */
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#60script", "<script"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&lt ", "< "),
        /* out of byte range: the low byte; beyond LONG_MAX: 0xFF */
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#8250;", ":"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#x41424344;", "D"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#256;", "\x00"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#99999999999999999999;", "\xFF"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#9223372036854775807;", "\xFF"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#x8000000000000000;x", "\xFFx"),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_html_entity_decode_keeps_what_is_not_a_reference(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&", "&"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "a & b", "a & b"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#", "&#"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#;", "&#;"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#x", "&#x"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#x;", "&#x;"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&#xg", "&#xg"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&foo;", "&foo;"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&apos;&colon;", "&apos;&colon;"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&ltscript", "&ltscript"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&&lt;", "&<"),
        CASE(VG_TFN_HTML_ENTITY_DECODE, "&amp;lt;", "&lt;"),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_js_decode_undoes_hex_unicode_octal_and_char_escapes(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_JS_DECODE, "\\x41\\x3c", "A<"),
        CASE(VG_TFN_JS_DECODE, "\\u0041", "A"),
        CASE(VG_TFN_JS_DECODE, "\\u2028", "("),
        CASE(VG_TFN_JS_DECODE, "\\uFF1Cscript\\uff1e", "<script>"),
        CASE(VG_TFN_JS_DECODE, "\\101", "A"),
        CASE(VG_TFN_JS_DECODE, "\\0", "\x00"),
        CASE(VG_TFN_JS_DECODE, "\\77", "?"),
        CASE(VG_TFN_JS_DECODE, "\\377", "\xFF"),
        CASE(VG_TFN_JS_DECODE, "\\400", " 0"),
        CASE(VG_TFN_JS_DECODE, "\\777", "?7"),
        CASE(VG_TFN_JS_DECODE, "\\1234", "S4"),
        CASE(VG_TFN_JS_DECODE, "\\a\\b\\f\\n\\r\\t\\v", "\a\b\f\n\r\t\v"),
        CASE(VG_TFN_JS_DECODE, "\\'\\\"\\\\\\/", "'\"\\/"),
        /* unknown or malformed: the backslash goes, the byte stays */
        CASE(VG_TFN_JS_DECODE, "\\z\\8", "z8"),
        CASE(VG_TFN_JS_DECODE, "\\x4", "x4"),
        CASE(VG_TFN_JS_DECODE, "\\x4g", "x4g"),
        CASE(VG_TFN_JS_DECODE, "\\X41", "X41"),
        CASE(VG_TFN_JS_DECODE, "\\U0041", "U0041"),
        CASE(VG_TFN_JS_DECODE, "\\u004", "u004"),
        CASE(VG_TFN_JS_DECODE, "\\", "\\"),
        CASE(VG_TFN_JS_DECODE, "a\\", "a\\"),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_css_decode_undoes_hex_escapes_and_eats_one_space(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_CSS_DECODE, "\\41", "A"),
        CASE(VG_TFN_CSS_DECODE, "\\41 x", "Ax"),
        CASE(VG_TFN_CSS_DECODE, "\\41  x", "A x"),
        CASE(VG_TFN_CSS_DECODE, "\\41\tx", "Ax"),
        CASE(VG_TFN_CSS_DECODE, "\\a", "\n"),
        CASE(VG_TFN_CSS_DECODE, "\\0041\\000041", "AA"),
        CASE(VG_TFN_CSS_DECODE, "\\1234567", "V7"),
        CASE(VG_TFN_CSS_DECODE, "ja\\vascript", "javascript"),
        /* full width, for 4 digits or 5-6 with leading zeros */
        CASE(VG_TFN_CSS_DECODE, "\\ff1c", "<"),
        CASE(VG_TFN_CSS_DECODE, "\\0ff1c\\00FF1C", "<<"),
        CASE(VG_TFN_CSS_DECODE, "\\1ff1c", "\x1C"),
        CASE(VG_TFN_CSS_DECODE, "\\ff5f", "_"),
        /* no hex digit: newline removed, other bytes kept without the backslash */
        CASE(VG_TFN_CSS_DECODE, "a\\\nb", "ab"),
        CASE(VG_TFN_CSS_DECODE, "\\g\\\\", "g\\"),
        CASE(VG_TFN_CSS_DECODE, "\\", ""),
        CASE(VG_TFN_CSS_DECODE, "a\\", "a"),
        /* Porting note: ModSecurity 3.0.9 stops at the first NUL, in or decoded; vigil goes on */
        CASE(VG_TFN_CSS_DECODE, "a\x00\\62",
             "a\x00"
             "b"),
        CASE(VG_TFN_CSS_DECODE, "\\0 x", "\x00x"),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_case_nul_and_whitespace_transformations(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_LOWERCASE, "SeLeCT \xC3\x84Z@[", "select \xC3\x84z@["),
        CASE(VG_TFN_UPPERCASE, "SeLeCT \xC3\xA4z`{", "SELECT \xC3\xA4Z`{"),
        CASE(VG_TFN_REMOVE_NULLS,
             "a\x00"
             "b\x00\x00",
             "ab"),
        CASE(VG_TFN_REMOVE_NULLS, "\x00", ""),
        CASE(VG_TFN_REPLACE_NULLS,
             "a\x00"
             "b\x00",
             "a b "),
        CASE(VG_TFN_REMOVE_WHITESPACE,
             "a b\tc\r\n\v\fd\xA0"
             "e\xC2\xA0"
             "f",
             "abcdef"),
        CASE(VG_TFN_REMOVE_WHITESPACE, "\xC2\xBF\xC3\xA9", "\xBF\xC3\xA9"),
        CASE(VG_TFN_REMOVE_WHITESPACE, "\x85", "\x85"),
        CASE(VG_TFN_COMPRESS_WHITESPACE, "a  b\t\t c", "a b c"),
        CASE(VG_TFN_COMPRESS_WHITESPACE, " \r\n", " "),
        CASE(VG_TFN_COMPRESS_WHITESPACE, "a\v\fb", "a b"),
        CASE(VG_TFN_COMPRESS_WHITESPACE,
             "a\xA0\xA0"
             "b",
             "a\xA0\xA0"
             "b"),
        CASE(VG_TFN_TRIM, " \t a b \r\n", "a b"),
        CASE(VG_TFN_TRIM, "\v\fa\v", "a"),
        CASE(VG_TFN_TRIM,
             "\xA0"
             "a\xA0",
             "\xA0"
             "a\xA0"),
        CASE(VG_TFN_TRIM, "   ", ""),
        CASE(VG_TFN_TRIM_LEFT, "  a  ", "a  "),
        CASE(VG_TFN_TRIM_RIGHT, "  a  ", "  a"),
        CASE(VG_TFN_TRIM_RIGHT, "a\x00 ", "a\x00"),
        CASE(VG_TFN_LENGTH, "", "0"),
        CASE(VG_TFN_LENGTH,
             "a\x00"
             "c",
             "3"),
        CASE(VG_TFN_LENGTH, "0123456789ab", "12"),
        CASE(VG_TFN_NONE, "AbC\x00", "AbC\x00"),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_comment_transformations_handle_nesting_and_unterminated_comments(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_REPLACE_COMMENTS, "a/*x*/b", "a b"),
        CASE(VG_TFN_REPLACE_COMMENTS, "SELECT/**/1", "SELECT 1"),
        CASE(VG_TFN_REPLACE_COMMENTS, "a/*x", "a "),
        CASE(VG_TFN_REPLACE_COMMENTS, "a/*/b*/c", "a c"),
        CASE(VG_TFN_REPLACE_COMMENTS, "a/*x/*y*/z*/", "a z*/"),
        CASE(VG_TFN_REPLACE_COMMENTS, "a*/b<!--c-->", "a*/b<!--c-->"),
        CASE(VG_TFN_REPLACE_COMMENTS, "/", "/"),

        CASE(VG_TFN_REMOVE_COMMENTS, "a/*x*/b", "ab"),
        CASE(VG_TFN_REMOVE_COMMENTS, "SELECT/**/1", "SELECT1"),
        CASE(VG_TFN_REMOVE_COMMENTS, "a/*x", "a "),
        CASE(VG_TFN_REMOVE_COMMENTS, "a<!--x-->b", "ab"),
        CASE(VG_TFN_REMOVE_COMMENTS, "a/*x-->bc", "abc"),
        CASE(VG_TFN_REMOVE_COMMENTS, "a<!--x*/b", "ab"),
        CASE(VG_TFN_REMOVE_COMMENTS, "1 OR 1=1-- x", "1 OR 1=1"),
        CASE(VG_TFN_REMOVE_COMMENTS, "1 OR 1=1 #x", "1 OR 1=1 "),
        CASE(VG_TFN_REMOVE_COMMENTS, "a#b", "a"),
        CASE(VG_TFN_REMOVE_COMMENTS, "a/*x/*y*/z*/", "az*/"),
        /* the byte after a closer is copied unexamined */
        CASE(VG_TFN_REMOVE_COMMENTS, "a/*x*/#b", "a#b"),
        CASE(VG_TFN_REMOVE_COMMENTS, "a/*x*//*y*/", "a/*y*/"),
        /* Porting note: ModSecurity 3.0.9 gives "a\0" here (its string terminator) */
        CASE(VG_TFN_REMOVE_COMMENTS, "a/*x*/", "a"),
        CASE(VG_TFN_REMOVE_COMMENTS, "-a<!-", "-a<!-"),

        CASE(VG_TFN_REMOVE_COMMENTS_CHAR, "a/*x*/b", "axb"),
        CASE(VG_TFN_REMOVE_COMMENTS_CHAR, "a<!--x-->b", "axb"),
        CASE(VG_TFN_REMOVE_COMMENTS_CHAR, "a--b#c", "abc"),
        CASE(VG_TFN_REMOVE_COMMENTS_CHAR, "/*/*", ""),
        CASE(VG_TFN_REMOVE_COMMENTS_CHAR, "/#*", "/*"),
        CASE(VG_TFN_REMOVE_COMMENTS_CHAR, "---", "-"),
        CASE(VG_TFN_REMOVE_COMMENTS_CHAR, "*", "*"),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_cmd_line_applies_its_five_rules(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        /* deletes \ " ' ^ */
        CASE(VG_TFN_CMD_LINE, "w\"h\"o^am'i'\\", "whoami"),
        /* deletes spaces before / and ( */
        CASE(VG_TFN_CMD_LINE, "C^md.exe /c \"dir\"", "cmd.exe/c dir"),
        CASE(VG_TFN_CMD_LINE, "ping  (x)", "ping(x)"),
        CASE(VG_TFN_CMD_LINE, "a \\/b", "a/b"),
        /* replaces , ; and whitespace runs with one space */
        CASE(VG_TFN_CMD_LINE, "a,;\t b", "a b"),
        CASE(VG_TFN_CMD_LINE, "cat\r\n/etc/passwd", "cat/etc/passwd"),
        CASE(VG_TFN_CMD_LINE, "a ' b", "a b"),
        /* lowercases; \v and \f are not whitespace here */
        CASE(VG_TFN_CMD_LINE, "A\vB\fC", "a\vb\fc"),
        CASE(VG_TFN_CMD_LINE, " /", "/"),
        CASE(VG_TFN_CMD_LINE, "\"", ""),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_normalise_path_resolves_dots_and_double_slashes(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_NORMALISE_PATH, "a/./b/../c", "a/c"),
        CASE(VG_TFN_NORMALISE_PATH, "/a/./b/../c", "/a/c"),
        CASE(VG_TFN_NORMALISE_PATH, "//", "/"),
        CASE(VG_TFN_NORMALISE_PATH, "/a//b///c", "/a/b/c"),
        CASE(VG_TFN_NORMALISE_PATH, "/a/b/.", "/a/b"),
        CASE(VG_TFN_NORMALISE_PATH, "/a/b/./", "/a/b/"),
        CASE(VG_TFN_NORMALISE_PATH, "/a/b/..", "/a"),
        CASE(VG_TFN_NORMALISE_PATH, "/a/b/../", "/a/"),
        /*
         * ModSecurity quirks, kept: a back-reference that reaches the root at the end leaves
         * nothing (the root '/' goes with the "no trailing slash" rule), and any segment that
         * ends in ".." counts as ".." (only its last two bytes are looked at)
         */
        CASE(VG_TFN_NORMALISE_PATH, "/..", ""),
        CASE(VG_TFN_NORMALISE_PATH, "/a/..", ""),
        CASE(VG_TFN_NORMALISE_PATH, "/../../etc/passwd", "/etc/passwd"),
        CASE(VG_TFN_NORMALISE_PATH, "../a", "../a"),
        CASE(VG_TFN_NORMALISE_PATH, "a/../../b", "../b"),
        CASE(VG_TFN_NORMALISE_PATH, "./a", "a"),
        CASE(VG_TFN_NORMALISE_PATH, ".", ""),
        CASE(VG_TFN_NORMALISE_PATH, "a/...", "a"),
        CASE(VG_TFN_NORMALISE_PATH, "a/.../b", "a/b"),
        CASE(VG_TFN_NORMALISE_PATH, "a/b../c", "a/c"),
        CASE(VG_TFN_NORMALISE_PATH, "a/b./c", "a/b./c"),
        CASE(VG_TFN_NORMALISE_PATH, "a\\..\\b", "a\\..\\b"),
        CASE(VG_TFN_NORMALISE_PATH, "/index.html", "/index.html"),

        CASE(VG_TFN_NORMALISE_PATH_WIN, "a\\..\\b", "b"),
        CASE(VG_TFN_NORMALISE_PATH_WIN, "c:\\windows\\..\\boot.ini", "c:/boot.ini"),
        CASE(VG_TFN_NORMALISE_PATH_WIN, "\\..\\..\\win.ini", "/win.ini"),
        CASE(VG_TFN_NORMALISE_PATH_WIN, "a\\.\\b\\", "a/b/"),
        /* a '\' reached by skipping a run of separators is copied unconverted (ModSecurity) */
        CASE(VG_TFN_NORMALISE_PATH_WIN, "a/\\\\b", "a\\b"),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_utf8_to_unicode_writes_pct_u_and_keeps_modsecurity_errors(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_UTF8_TO_UNICODE, "caf\xC3\xA9", "caf%u00e9"),
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xE2\x82\xAC", "%u20ac"),
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xF0\x9F\x98\x80", "%u1f600"),
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xF4\x8F\xBF\xBF", "%u10ffff"),
        /* overlong: the lead byte follows the %u */
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xC0\xAE", "%u002e\xC0"),
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xE0\x80\xAE", "%u002e\xE0"),
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xF0\x80\x80\xAE", "%u002e\xF0"),
        /* surrogate: same */
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xED\xA0\x80", "%ud800\xED"),
        /* beyond U+10FFFF: the lead byte comes first */
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xF5\x80\x80\x80", "\xF5%u140000"),
        /* truncated: the lead byte goes; stray continuation and F8..FF bytes stay */
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xC3", ""),
        CASE(VG_TFN_UTF8_TO_UNICODE,
             "\xC3"
             "a",
             "a"),
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xE2\x82", "\x82"),
        CASE(VG_TFN_UTF8_TO_UNICODE, "\xF5\x80", "\xF5\x80"),
        CASE(VG_TFN_UTF8_TO_UNICODE, "\x80\xBF\xF8\xFF", "\x80\xBF\xF8\xFF"),
        /* NULs go */
        CASE(VG_TFN_UTF8_TO_UNICODE,
             "a\x00"
             "b\x00",
             "ab"),
        CASE(VG_TFN_UTF8_TO_UNICODE, "plain", "plain"),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_base64_decode_is_strict(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_BASE64_DECODE, "YWJj", "abc"),
        CASE(VG_TFN_BASE64_DECODE, "PHNjcmlwdD4=", "<script>"),
        CASE(VG_TFN_BASE64_DECODE, "YWJjZA==", "abcd"),
        CASE(VG_TFN_BASE64_DECODE, "YWJjZGU=", "abcde"),
        CASE(VG_TFN_BASE64_DECODE, "YWJj\nZA==", "abcd"),
        CASE(VG_TFN_BASE64_DECODE, "YWJj\r\nZA==", "abcd"),
        CASE(VG_TFN_BASE64_DECODE, "YWJj  \nZA==  ", "abcd"),
        /* without padding: the partial last group is dropped */
        CASE(VG_TFN_BASE64_DECODE, "YWJjZA", "abc"),
        CASE(VG_TFN_BASE64_DECODE, "YWJjZA=", "abc"),
        CASE(VG_TFN_BASE64_DECODE, "YQ", ""),
        /* garbage anywhere: empty */
        CASE(VG_TFN_BASE64_DECODE, "YW Jj", ""),
        CASE(VG_TFN_BASE64_DECODE, "YW*Jj", ""),
        CASE(VG_TFN_BASE64_DECODE, "YWJj\r", ""),
        CASE(VG_TFN_BASE64_DECODE, "YWJjZA==YWJj", ""),
        CASE(VG_TFN_BASE64_DECODE, "YQ===", ""),
        CASE(VG_TFN_BASE64_DECODE, "YW-_", ""),
        /* the value ends at its first NUL, as for ModSecurity */
        CASE(VG_TFN_BASE64_DECODE, "YWJj\x00YWJj", "abc"),
        CASE(VG_TFN_BASE64_DECODE, "", ""),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_base64_decode_ext_skips_garbage(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_BASE64_DECODE_EXT, "YWJjZA==", "abcd"),
        CASE(VG_TFN_BASE64_DECODE_EXT, "YWJjZA", "abcd"),
        CASE(VG_TFN_BASE64_DECODE_EXT, "YQ", "a"),
        CASE(VG_TFN_BASE64_DECODE_EXT, "YW*Jj", "abc"),
        CASE(VG_TFN_BASE64_DECODE_EXT, "YW Jj\r\n", "abc"),
        CASE(VG_TFN_BASE64_DECODE_EXT, "YWJj\x00YWJj", "abcabc"),
        CASE(VG_TFN_BASE64_DECODE_EXT, "YWJjZ", "abc"),
        CASE(VG_TFN_BASE64_DECODE_EXT, "-_", ""),
        /* a '=' after the first digit of a group: empty */
        CASE(VG_TFN_BASE64_DECODE_EXT, "YWJjZ=", ""),
        CASE(VG_TFN_BASE64_DECODE_EXT, "Y=WJj", ""),
        CASE(VG_TFN_BASE64_DECODE_EXT, "YQ==", "a"),
        CASE(VG_TFN_BASE64_DECODE_EXT, "Y==WJj", ""),
        /* quirk kept: a last digit '9' (value 61, the code of '=') after a full group */
        CASE(VG_TFN_BASE64_DECODE_EXT, "YWJj9", ""),
        CASE(VG_TFN_BASE64_DECODE_EXT, "", ""),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

static void test_hex_decodes(void **state)
{
    (void)state;
    static const struct tfn_case cases[] = {
        CASE(VG_TFN_HEX_DECODE, "414243", "ABC"),
        CASE(VG_TFN_HEX_DECODE, "6a6A", "jj"),
        CASE(VG_TFN_HEX_DECODE, "41424", "AB"),
        /* digits are not checked (ModSecurity's x2c) */
        CASE(VG_TFN_HEX_DECODE, "zz4g", "SP"),
        CASE(VG_TFN_HEX_DECODE, "4", ""),

        CASE(VG_TFN_SQL_HEX_DECODE, "0x414243", "ABC"),
        CASE(VG_TFN_SQL_HEX_DECODE, "0X41", "A"),
        CASE(VG_TFN_SQL_HEX_DECODE, "SELECT 0x61646d696e", "SELECT admin"),
        CASE(VG_TFN_SQL_HEX_DECODE, "a0x41b", "aAb"),
        CASE(VG_TFN_SQL_HEX_DECODE, "0x414", "A4"),
        CASE(VG_TFN_SQL_HEX_DECODE, "00x41", "0A"),
        CASE(VG_TFN_SQL_HEX_DECODE, "0x410x42", "A0x42"),
        CASE(VG_TFN_SQL_HEX_DECODE, "0x41 0x42", "A B"),
        CASE(VG_TFN_SQL_HEX_DECODE, "0x4", "0x4"),
        CASE(VG_TFN_SQL_HEX_DECODE, "0x", "0x"),
        CASE(VG_TFN_SQL_HEX_DECODE, "0xzz", "0xzz"),
        /* Porting note: ModSecurity 3.0.9 drops the last byte ("ab") and stops at NULs */
        CASE(VG_TFN_SQL_HEX_DECODE, "abc", "abc"),
        CASE(VG_TFN_SQL_HEX_DECODE, "0x410042",
             "A\x00"
             "B"),

        CASE(VG_TFN_ESCAPE_SEQ_DECODE, "\\x41\\X42", "AB"),
        CASE(VG_TFN_ESCAPE_SEQ_DECODE, "\\101\\0", "A\x00"),
        CASE(VG_TFN_ESCAPE_SEQ_DECODE, "\\777\\400", "\xFF\x00"),
        CASE(VG_TFN_ESCAPE_SEQ_DECODE, "\\1234", "S4"),
        CASE(VG_TFN_ESCAPE_SEQ_DECODE, "\\a\\b\\f\\n\\r\\t\\v", "\a\b\f\n\r\t\v"),
        CASE(VG_TFN_ESCAPE_SEQ_DECODE, "\\\\\\?\\'\\\"", "\\?'\""),
        CASE(VG_TFN_ESCAPE_SEQ_DECODE, "\\q\\8", "q8"),
        CASE(VG_TFN_ESCAPE_SEQ_DECODE, "\\x4", "x4"),
        CASE(VG_TFN_ESCAPE_SEQ_DECODE, "\\", "\\"),
    };
    run_cases(cases, VG_ARRAY_LEN(cases));
}

/* ---- names, sizes ---------------------------------------------------------------------------- */

static int parse_lit(const char *s, enum vg_tfn *t)
{
    return vg_tfn_parse(s, strlen(s), t);
}

static void test_parse_accepts_every_canonical_name_and_alias(void **state)
{
    (void)state;
    for (int t = 0; t < VG_TFN_COUNT; t++) {
        enum vg_tfn got = VG_TFN_COUNT;
        const char *name = vg_tfn_name((enum vg_tfn)t);
        assert_int_equal(parse_lit(name, &got), 1);
        assert_int_equal(got, t);
        /* case-insensitive */
        char upper[64];
        size_t n = strlen(name);
        assert_true(n < sizeof(upper));
        for (size_t i = 0; i <= n; i++)
            upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
        got = VG_TFN_COUNT;
        assert_int_equal(parse_lit(upper, &got), 1);
        assert_int_equal(got, t);
    }
    static const struct {
        const char *name;
        enum vg_tfn t;
    } aliases[] = {
        {"normalizePath", VG_TFN_NORMALISE_PATH},
        {"normalizePathWin", VG_TFN_NORMALISE_PATH_WIN},
        {"utf8ToUnicode", VG_TFN_UTF8_TO_UNICODE},
        {"cmd_line", VG_TFN_CMD_LINE},
        {"CMDLINE", VG_TFN_CMD_LINE},
        {"compress_whitespace", VG_TFN_COMPRESS_WHITESPACE},
        {"urldecodeuni", VG_TFN_URL_DECODE_UNI},
    };
    for (size_t k = 0; k < VG_ARRAY_LEN(aliases); k++) {
        enum vg_tfn got = VG_TFN_COUNT;
        assert_int_equal(parse_lit(aliases[k].name, &got), 1);
        assert_int_equal(got, aliases[k].t);
    }
    assert_string_equal(vg_tfn_name(VG_TFN_URL_DECODE_UNI), "urlDecodeUni");
    assert_string_equal(vg_tfn_name(VG_TFN_NORMALISE_PATH), "normalisePath");
    assert_string_equal(vg_tfn_name(VG_TFN_COUNT), "?");
}

static void test_parse_tells_unsupported_from_unknown(void **state)
{
    (void)state;
    static const char *const unsupported[] = {
        "md5",           "sha1",           "SHA1",         "parityEven7bit",
        "parityOdd7bit", "parityZero7bit", "base64Encode", "hexEncode",
        "urlEncode"};
    static const char *const unknown[] = {"",       "t:lowercase",   "lowercase ", "lower",
                                          "sha256", "urlDecodeUniX", "normalise"};
    enum vg_tfn t = VG_TFN_COUNT;
    for (size_t k = 0; k < VG_ARRAY_LEN(unsupported); k++)
        assert_int_equal(parse_lit(unsupported[k], &t), 0);
    for (size_t k = 0; k < VG_ARRAY_LEN(unknown); k++)
        assert_int_equal(parse_lit(unknown[k], &t), -1);
    assert_int_equal(t, VG_TFN_COUNT); /* untouched */
    /* length-delimited: "lowercase" inside a longer buffer */
    assert_int_equal(vg_tfn_parse("lowercase,t:trim", 9, &t), 1);
    assert_int_equal(t, VG_TFN_LOWERCASE);
    assert_int_equal(vg_tfn_parse(NULL, 0, &t), -1);
}

static void test_max_out_bounds_growth_and_saturates(void **state)
{
    (void)state;
    for (int t = 0; t < VG_TFN_COUNT; t++) {
        if (t == VG_TFN_UTF8_TO_UNICODE || t == VG_TFN_LENGTH)
            continue;
        assert_int_equal(vg_tfn_max_out((enum vg_tfn)t, 0), 0);
        assert_int_equal(vg_tfn_max_out((enum vg_tfn)t, 1234), 1234);
        assert_true(vg_tfn_in_place((enum vg_tfn)t));
    }
    assert_false(vg_tfn_in_place(VG_TFN_UTF8_TO_UNICODE));
    assert_int_equal(vg_tfn_max_out(VG_TFN_UTF8_TO_UNICODE, 0), 0);
    assert_int_equal(vg_tfn_max_out(VG_TFN_UTF8_TO_UNICODE, 1), 1);
    assert_int_equal(vg_tfn_max_out(VG_TFN_UTF8_TO_UNICODE, 2), 7);
    assert_int_equal(vg_tfn_max_out(VG_TFN_UTF8_TO_UNICODE, 5), 15);
    assert_int_equal(vg_tfn_max_out(VG_TFN_UTF8_TO_UNICODE, SIZE_MAX), SIZE_MAX);
    assert_int_equal(vg_tfn_max_out(VG_TFN_LENGTH, 0), 1);
    assert_int_equal(vg_tfn_max_out(VG_TFN_LENGTH, 9), 1);
    assert_int_equal(vg_tfn_max_out(VG_TFN_LENGTH, 10), 2);
    assert_int_equal(vg_tfn_max_out(VG_TFN_LENGTH, SIZE_MAX), 20);

    /* the worst cases reach the bound exactly */
    uint8_t out[16];
    assert_int_equal(vg_tfn_apply(VG_TFN_UTF8_TO_UNICODE, (const uint8_t *)"\xC0\xAE", 2, out), 7);
    assert_int_equal(vg_tfn_apply(VG_TFN_LENGTH, (const uint8_t *)"", 0, out), 1);
    assert_memory_equal(out, "0", 1);

    static const enum vg_tfn chain[] = {VG_TFN_UTF8_TO_UNICODE, VG_TFN_NONE, VG_TFN_UTF8_TO_UNICODE,
                                        VG_TFN_LENGTH};
    assert_int_equal(vg_tfn_chain_max_out(chain, 0, 100), 0);
    assert_int_equal(vg_tfn_chain_max_out(chain, 1, 4), 14);
    assert_int_equal(vg_tfn_chain_max_out(chain, 4, 4), 49);
    assert_int_equal(vg_tfn_chain_max_out(chain, 3, SIZE_MAX / 2), SIZE_MAX);
}

/* ---- chains ---------------------------------------------------------------------------------- */

static void test_chain_applies_steps_in_order_with_two_buffers(void **state)
{
    (void)state;
    /* a CRS-style chain: t:none,t:urlDecodeUni,t:htmlEntityDecode,t:lowercase,t:removeNulls */
    static const enum vg_tfn chain[] = {
        VG_TFN_NONE,      VG_TFN_URL_DECODE_UNI, VG_TFN_HTML_ENTITY_DECODE,
        VG_TFN_LOWERCASE, VG_TFN_REMOVE_NULLS,   VG_TFN_COMPRESS_WHITESPACE};
    const char *in = "%26LT;SCRIPT%00%20%20x%uff1e";
    size_t n = strlen(in), cap = vg_tfn_chain_max_out(chain, VG_ARRAY_LEN(chain), n);
    assert_int_equal(cap, n);
    uint8_t *a = xmalloc(cap), *b = xmalloc(cap);
    const uint8_t *out = NULL;
    size_t out_n = 0;
    assert_true(vg_tfn_apply_chain(chain, VG_ARRAY_LEN(chain), (const uint8_t *)in, n, a, b, cap,
                                   &out, &out_n));
    assert_true(out == a || out == b);
    assert_int_equal(out_n, 10);
    assert_memory_equal(out, "<script x>", 10);

    /* nothing to change: the input itself comes back, no copy */
    const char *plain = "hello world";
    assert_true(vg_tfn_apply_chain(chain, VG_ARRAY_LEN(chain), (const uint8_t *)plain,
                                   strlen(plain), a, b, cap, &out, &out_n));
    assert_ptr_equal(out, plain);
    assert_int_equal(out_n, strlen(plain));

    /* an empty chain returns the input */
    assert_true(vg_tfn_apply_chain(chain, 0, (const uint8_t *)in, n, a, b, 0, &out, &out_n));
    assert_ptr_equal(out, in);
    free(a);
    free(b);
}

static void test_chain_reports_small_buffers(void **state)
{
    (void)state;
    static const enum vg_tfn chain[] = {VG_TFN_LOWERCASE, VG_TFN_UTF8_TO_UNICODE, VG_TFN_UPPERCASE};
    const uint8_t in[] = "A\xC3\xA9";
    size_t n = sizeof(in) - 1, need = vg_tfn_chain_max_out(chain, 3, n);
    assert_int_equal(need, 8);
    uint8_t a[8], b[8];
    const uint8_t *out = NULL;
    size_t out_n = 0;
    assert_false(vg_tfn_apply_chain(chain, 3, in, n, a, b, need - 1, &out, &out_n));
    assert_null(out);
    assert_true(vg_tfn_apply_chain(chain, 3, in, n, a, b, need, &out, &out_n));
    assert_int_equal(out_n, 7);
    assert_memory_equal(out, "A%U00E9", 7);
}

/* ---- properties ------------------------------------------------------------------------------ */

struct prop_stats {
    size_t inputs, changed;
};

/*
 * Checks every transformation on (in, n): exact-size input copy and output buffer, in place ==
 * out of place, may_change false => unchanged; then a few chains derived from the input bytes.
 */
static bool check_properties(const uint8_t *data, size_t n, struct prop_stats *st)
{
    bool ok = true;
    uint8_t *in = xdup(data, n);
    st->inputs++;
    for (int ti = 0; ti < VG_TFN_COUNT; ti++) {
        enum vg_tfn t = (enum vg_tfn)ti;
        size_t cap = vg_tfn_max_out(t, n);
        uint8_t *out = xmalloc(cap);
        size_t len = vg_tfn_apply(t, in, n, out);
        const char *why = NULL;
        if (len > cap)
            why = "output longer than vg_tfn_max_out";
        if (!why && vg_tfn_in_place(t)) {
            uint8_t *buf = xmalloc(cap > n ? cap : n);
            memcpy(buf, in, n);
            size_t len2 = vg_tfn_apply(t, buf, n, buf);
            if (len2 != len || memcmp(buf, out, len) != 0)
                why = "in place differs from out of place";
            free(buf);
        }
        bool same = len == n && memcmp(out, in, n) == 0;
        if (!why && !vg_tfn_may_change(t, in, n) && !same)
            why = "vg_tfn_may_change false but the output differs";
        if (!same)
            st->changed++;
        if (why) {
            fprintf(stderr, "%s: %s\n", vg_tfn_name(t), why);
            print_bytes("input", in, n);
            ok = false;
        }
        free(out);
    }

    /* chains: picked from the input bytes so random inputs cover many combinations */
    enum vg_tfn chain[6];
    size_t k = 1 + (n ? data[0] % 6 : 0);
    for (size_t s = 0; s < k; s++)
        chain[s] = (enum vg_tfn)((n > s + 1 ? data[s + 1] : s * 7) % VG_TFN_COUNT);
    size_t need = vg_tfn_chain_max_out(chain, k, n);
    uint8_t *a = xmalloc(need), *b = xmalloc(need);
    const uint8_t *res = NULL;
    size_t res_n = 0;
    if (!vg_tfn_apply_chain(chain, k, in, n, a, b, need, &res, &res_n)) {
        fprintf(stderr, "chain failed with vg_tfn_chain_max_out bytes\n");
        ok = false;
    } else {
        /* reference: one fresh exact-size buffer per step */
        uint8_t *cur = xdup(in, n);
        size_t len = n;
        for (size_t s = 0; s < k; s++) {
            uint8_t *next = xmalloc(vg_tfn_max_out(chain[s], len));
            len = vg_tfn_apply(chain[s], cur, len, next);
            free(cur);
            cur = next;
        }
        if (len != res_n || (len && memcmp(cur, res, len) != 0)) {
            fprintf(stderr, "chain differs from step-by-step application\n");
            print_bytes("input", in, n);
            ok = false;
        }
        free(cur);
        if (need > 0 && res != in) {
            /* one byte less must be refused by some step, never overrun */
            uint8_t *a2 = xmalloc(need - 1), *b2 = xmalloc(need - 1);
            const uint8_t *r2 = NULL;
            size_t r2n = 0;
            if (vg_tfn_apply_chain(chain, k, in, n, a2, b2, need - 1, &r2, &r2n) &&
                (r2n != res_n || memcmp(r2, res, r2n) != 0)) {
                fprintf(stderr, "chain with a smaller buffer gave another result\n");
                ok = false;
            }
            free(a2);
            free(b2);
        }
    }
    free(a);
    free(b);
    free(in);
    return ok;
}

/* xorshift64*: deterministic, so a failure is reproducible. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void test_properties_hold_on_random_inputs(void **state)
{
    (void)state;
    /* escape-heavy alphabet: every byte that starts or ends something in some transformation */
    static const char alphabet[] = "%%+uUxX0123456789aAfFzZ&#;ltgqmp\\\\\\\"'^,/ *<!->.\t\r\n\v\f="
                                   "\x00\x80\xA0\xBF\xC0\xC2\xC3\xE0\xED\xF0\xF5\xF8\xFF";
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    uint8_t buf[96];
    struct prop_stats st = {0};
    int bad = 0;
    for (int iter = 0; iter < 60000 && bad < 5; iter++) {
        size_t n = rng_next(&seed) % sizeof(buf);
        bool raw = iter % 8 == 0; /* some fully random bytes too */
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng_next(&seed);
            buf[i] = raw ? (uint8_t)r : (uint8_t)alphabet[r % (sizeof(alphabet) - 1)];
        }
        if (!check_properties(buf, n, &st))
            bad++;
    }
    assert_int_equal(bad, 0);
    assert_true(st.changed > st.inputs); /* the alphabet does exercise the decoders */
}

static void test_properties_hold_on_hostile_truncations(void **state)
{
    (void)state;
#define HOSTILE(s)                                                                                 \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
    static const struct {
        const char *s;
        size_t n;
    } hostile[] = {
        HOSTILE("%u00%uFF1c%25%2%%u"),
        HOSTILE("&#x41424344&#99999999999999999999999&#&#x&lt&nbsp&"),
        HOSTILE("\\u00\\uFF1c\\x4\\777\\400\\1\\"),
        HOSTILE("\\00ff21\\0ff2\\ff5f\\123456\\\n\\"),
        HOSTILE("/*<!--*/-->--#/*"),
        HOSTILE("/a/../../b/./c//d/..\\..\\e\\.\\"),
        HOSTILE("..\\..\\..\\/./.."),
        HOSTILE("\xF5\x80\x80\x80\xF0\x9F\x98\xC0\xAE\xED\xA0\x80\xE2\x82"),
        HOSTILE("YWJjZA==\r\n YQ 9=Y"),
        HOSTILE("0x4142430x0X4"),
        HOSTILE("C^md.exe /c \"d\\ir\" ,; (x)"),
        HOSTILE("\x00\x00 \t\v\f\r\n\xA0\xC2"),
    };
#undef HOSTILE
    struct prop_stats st = {0};
    int bad = 0;
    for (size_t h = 0; h < VG_ARRAY_LEN(hostile); h++) {
        const uint8_t *s = (const uint8_t *)hostile[h].s;
        size_t n = hostile[h].n;
        for (size_t len = 0; len <= n; len++) {
            /* every prefix and every suffix */
            if (!check_properties(s, len, &st))
                bad++;
            if (!check_properties(s + len, n - len, &st))
                bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* ---- shared payload lists (optional) --------------------------------------------------------- */

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
        if (i > start && !check_properties(buf + start, i - start, &payload_stats))
            payload_bad++;
        start = i + 1;
    }
    free(buf);
    return payload_bad >= 5 ? 1 : 0;
}

static void test_properties_hold_on_every_payload_line(void **state)
{
    (void)state;
    const char *dir = getenv("VG_SHARED_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/testdata/payloads", dir && *dir ? dir : "../shared");
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "note: %s absent; payload-line properties not checked\n", path);
        return;
    }
    int rc = nftw(path, check_payload_file, 16, FTW_PHYS);
    assert_int_equal(payload_bad, 0);
    assert_int_equal(rc, 0);
    fprintf(stderr, "payloads: %zu files, %zu values\n", payload_files, payload_stats.inputs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_decode_decodes_pct_and_plus_and_keeps_bad_escapes),
        cmocka_unit_test(test_url_decode_uni_keeps_low_byte_of_pct_u_and_folds_full_width),
        cmocka_unit_test(test_html_entity_decode_gives_one_byte_per_reference),
        cmocka_unit_test(test_html_entity_decode_keeps_what_is_not_a_reference),
        cmocka_unit_test(test_js_decode_undoes_hex_unicode_octal_and_char_escapes),
        cmocka_unit_test(test_css_decode_undoes_hex_escapes_and_eats_one_space),
        cmocka_unit_test(test_case_nul_and_whitespace_transformations),
        cmocka_unit_test(test_comment_transformations_handle_nesting_and_unterminated_comments),
        cmocka_unit_test(test_cmd_line_applies_its_five_rules),
        cmocka_unit_test(test_normalise_path_resolves_dots_and_double_slashes),
        cmocka_unit_test(test_utf8_to_unicode_writes_pct_u_and_keeps_modsecurity_errors),
        cmocka_unit_test(test_base64_decode_is_strict),
        cmocka_unit_test(test_base64_decode_ext_skips_garbage),
        cmocka_unit_test(test_hex_decodes),
        cmocka_unit_test(test_parse_accepts_every_canonical_name_and_alias),
        cmocka_unit_test(test_parse_tells_unsupported_from_unknown),
        cmocka_unit_test(test_max_out_bounds_growth_and_saturates),
        cmocka_unit_test(test_chain_applies_steps_in_order_with_two_buffers),
        cmocka_unit_test(test_chain_reports_small_buffers),
        cmocka_unit_test(test_properties_hold_on_random_inputs),
        cmocka_unit_test(test_properties_hold_on_hostile_truncations),
        cmocka_unit_test(test_properties_hold_on_every_payload_line),
    };
    return cmocka_run_group_tests_name("decode_transform", tests, NULL, NULL) != 0 ? 1 : 0;
}
