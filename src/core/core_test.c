/* SPDX-License-Identifier: Apache-2.0 */
/* core_test.c: unit tests of the core building blocks (escaping, buffers, arena, time, addresses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/core.h"

static void json_escape_is(const char *in, size_t n, const char *want)
{
    struct vg_buf b;
    vg_buf_init(&b, 0);
    assert_int_equal(vg_buf_add_json_str(&b, (const uint8_t *)in, n), VG_OK);
    assert_string_equal((const char *)b.p, want);
    vg_buf_fini(&b);
}

static void test_json_escapes_quotes_controls_and_invalid_utf8(void **state)
{
    (void)state;
    json_escape_is("plain", 5, "plain");
    json_escape_is("a\"b\\c", 5, "a\\\"b\\\\c");
    json_escape_is("\n\r\t\x01\x1b", 5, "\\n\\r\\t\\u0001\\u001b");
    json_escape_is("\x7f", 1, "\x7f");
    json_escape_is("caf\xc3\xa9", 5, "caf\xc3\xa9");               /* valid UTF-8 kept */
    json_escape_is("\xff\xfe", 2, "\\ufffd\\ufffd");                /* invalid bytes */
    json_escape_is("\xc0\xae", 2, "\\ufffd\\ufffd");                /* overlong */
    json_escape_is("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd");     /* surrogate */
    json_escape_is("\xe2\x80\xa8", 3, "\\u2028");
    json_escape_is("a\0b", 3, "a\\u0000b");
    json_escape_is("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
    json_escape_is("\xf0\x9f\x98", 3, "\\ufffd\\ufffd\\ufffd");   /* truncated sequence */
}

static void term_is(const char *in, size_t n, const char *want)
{
    struct vg_buf b;
    vg_buf_init(&b, 0);
    assert_int_equal(vg_buf_add_term_safe(&b, (const uint8_t *)in, n), VG_OK);
    assert_string_equal((const char *)b.p, want);
    vg_buf_fini(&b);
}

static void test_terminal_escaping_neutralizes_escape_sequences(void **state)
{
    (void)state;
    term_is("GET /", 5, "GET /");
    term_is("\x1b[31mred", 8, "\\x1b[31mred");
    term_is("a\\b", 3, "a\\\\b");
    term_is("\xc2\x9b" "31m", 5, "\\xc2\\x9b31m"); /* C1 CSI */
    term_is("\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9");
    term_is("\r\n\x07\x7f", 4, "\\x0d\\x0a\\x07\\x7f");
    term_is("\xff", 1, "\\xff");
}

static void test_buf_respects_its_ceiling(void **state)
{
    (void)state;
    struct vg_buf b;
    vg_buf_init(&b, 16);
    assert_int_equal(vg_buf_add(&b, "0123456789", 10), VG_OK);
    assert_int_equal(vg_buf_add(&b, "0123456789", 10), VG_E_LIMIT);
    assert_int_equal(b.n, 10);
    vg_bputs(&b, "abcdefghijkl");
    assert_int_equal(b.err, VG_E_LIMIT);
    vg_buf_fini(&b);
}

static void test_bprintf_handles_long_output(void **state)
{
    (void)state;
    struct vg_buf b;
    vg_buf_init(&b, 0);
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    vg_bprintf(&b, "<%s>", big);
    assert_int_equal(b.err, VG_OK);
    assert_int_equal(b.n, sizeof big + 1);
    assert_int_equal(b.p[0], '<');
    assert_int_equal(b.p[b.n - 1], '>');
    vg_buf_fini(&b);
}

static void test_arena_reset_keeps_one_block_and_honours_limit(void **state)
{
    (void)state;
    struct vg_arena a;
    vg_arena_init(&a, 128, 1024);
    void *p = vg_arena_alloc(&a, 100);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_non_null(vg_arena_alloc(&a, 500));
    assert_null(vg_arena_alloc(&a, 600)); /* over the 1024-byte limit */
    vg_arena_reset(&a);
    assert_non_null(a.head);
    assert_int_equal(a.used_total, 0);
    assert_non_null(vg_arena_alloc(&a, 600));
    struct vg_str s = vg_arena_dup(&a, VG_STR_LIT("hello"));
    assert_int_equal(s.n, 5);
    assert_memory_equal(s.p, "hello", 5);
    vg_arena_fini(&a);
}

static void test_civil_time_round_trips(void **state)
{
    (void)state;
    static const struct {
        int y, m, d, hh, mm, ss;
        int64_t t;
    } cases[] = {
        {1970, 1, 1, 0, 0, 0, 0},
        {2000, 2, 29, 12, 0, 0, 951825600},
        {2026, 8, 1, 0, 0, 0, 1785542400},
        {1969, 12, 31, 23, 59, 59, -1},
        {2038, 1, 19, 3, 14, 8, 2147483648LL},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        int64_t t = vg_days_from_civil(cases[i].y, (unsigned)cases[i].m, (unsigned)cases[i].d) *
                        86400 +
                    cases[i].hh * 3600 + cases[i].mm * 60 + cases[i].ss;
        assert_int_equal(t, cases[i].t);
        int y, mo, d, h, mi, s;
        vg_civil_from_unix(t, &y, &mo, &d, &h, &mi, &s);
        assert_int_equal(y, cases[i].y);
        assert_int_equal(mo, cases[i].m);
        assert_int_equal(d, cases[i].d);
        assert_int_equal(h, cases[i].hh);
        assert_int_equal(mi, cases[i].mm);
        assert_int_equal(s, cases[i].ss);
    }
    char buf[24];
    vg_time_format_iso(1785542403, buf);
    assert_string_equal(buf, "2026-08-01T00:00:03Z");
    char mk[16];
    vg_month_format(vg_month_key(1785542403), mk);
    assert_string_equal(mk, "2026-08");
    vg_month_format(-1, mk);
    assert_string_equal(mk, "unknown");
}

static void test_addresses_parse_and_format_canonically(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        bool v4;
    } ok[] = {
        {"203.0.113.7", "203.0.113.7", true},
        {"2001:DB8:0:0:0:0:0:1", "2001:db8::1", false},
        {"::1", "::1", false},
        {"::ffff:198.51.100.1", "198.51.100.1", true},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(ok); i++) {
        struct vg_addr a;
        assert_true(vg_addr_parse((const uint8_t *)ok[i].in, strlen(ok[i].in), &a));
        char out[46];
        vg_addr_format(&a, out);
        assert_string_equal(out, ok[i].out);
        assert_int_equal(vg_addr_is_v4(&a), ok[i].v4);
    }
    static const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:80",
                                "[::1]", "example.com", "::g", "1.2.3.4 "};
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        struct vg_addr a;
        assert_false(vg_addr_parse((const uint8_t *)bad[i], strlen(bad[i]), &a));
    }
    struct vg_addr a;
    assert_false(vg_addr_parse((const uint8_t *)"1.2.3.4\0", 8, &a)); /* embedded NUL */
}

/* Fails every allocation after `budget` successful ones. */
static int alloc_budget;
static void *fail_malloc(size_t n)
{
    return alloc_budget-- > 0 ? malloc(n) : NULL;
}
static void *fail_realloc(void *p, size_t n)
{
    return alloc_budget-- > 0 ? realloc(p, n) : NULL;
}
static const struct vg_allocator failing = {fail_malloc, fail_realloc, free};

static void test_buf_reports_out_of_memory(void **state)
{
    (void)state;
    struct vg_buf b;
    vg_buf_init(&b, 0);
    alloc_budget = 0;
    vg_set_thread_allocator(&failing);
    assert_int_equal(vg_buf_adds(&b, "x"), VG_E_NOMEM);
    vg_set_thread_allocator(NULL);
    assert_int_equal(vg_buf_adds(&b, "x"), VG_OK);
    vg_buf_fini(&b);
}

/* vg_hash64_mem reads every byte of its input and none after it, at every length (the tail
   words overlap), and depends on the seed. */
static void test_memo_hash_reads_every_byte_and_no_more(void **state)
{
    (void)state;
    uint8_t big[200];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= 150; n++) {
        uint8_t *exact = malloc(n ? n : 1); /* ASan: a read past n is reported */
        assert_non_null(exact);
        memcpy(exact, big, n);
        uint64_t h = vg_hash64_mem(exact, n, 7);
        assert_true(h == vg_hash64_mem(big, n, 7)); /* the bytes after n do not count */
        assert_true(h != vg_hash64_mem(exact, n, 8));
        if (n)
            assert_true(h != vg_hash64_mem(big, n + 1, 7) || n + 1 > sizeof big);
        for (size_t i = 0; i < n; i++)
            for (int bit = 0; bit < 8; bit += 3) {
                exact[i] ^= (uint8_t)(1u << bit);
                assert_true(vg_hash64_mem(exact, n, 7) != h);
                exact[i] ^= (uint8_t)(1u << bit);
            }
        free(exact);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escapes_quotes_controls_and_invalid_utf8),
        cmocka_unit_test(test_terminal_escaping_neutralizes_escape_sequences),
        cmocka_unit_test(test_buf_respects_its_ceiling),
        cmocka_unit_test(test_bprintf_handles_long_output),
        cmocka_unit_test(test_arena_reset_keeps_one_block_and_honours_limit),
        cmocka_unit_test(test_civil_time_round_trips),
        cmocka_unit_test(test_addresses_parse_and_format_canonically),
        cmocka_unit_test(test_buf_reports_out_of_memory),
        cmocka_unit_test(test_memo_hash_reads_every_byte_and_no_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
