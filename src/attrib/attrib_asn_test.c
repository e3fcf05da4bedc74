/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attrib_asn_test.c: AS lookups from small ip-location-db style CSVs written by the test
 * (compiled cache written, reused, rebuilt when the CSV changes or the cache is damaged), the
 * user's label lists, and the /24 and /48 roll-ups; IPv4 and IPv6 throughout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "attrib/attrib.h"

static char dir[256];

static struct vg_addr addr(const char *s)
{
    struct vg_addr a;
    assert_true(vg_addr_parse((const uint8_t *)s, strlen(s), &a));
    return a;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static const char v4_csv[] =
    "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
    "203.0.113.0,203.0.113.127,64500,\"LLC \"\"EXAMPLE\"\"\"\n"
    "203.0.113.128,203.0.113.255,64501,Plain Org Without Quotes\r\n"
    "\n"
    "198.51.100.0,198.51.100.255,64502,\n";
static const char v6_csv[] = "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64510,Docs Net\n"
                             "2001:db9::,2001:db9::ff,64511,\"Tiny, Range\"\n";

static void expect_as(const struct vg_asn *db, const char *ip, uint32_t want, const char *org)
{
    struct vg_addr a = addr(ip);
    uint32_t asn = 99;
    const char *o = NULL;
    bool hit = vg_asn_lookup(db, &a, &asn, &o);
    assert_int_equal(hit, want != 0);
    assert_int_equal(asn, want);
    assert_string_equal(o, org);
}

static struct vg_asn *open_pair(const char *cache)
{
    char p4[300], p6[300];
    path_in(p4, sizeof p4, "asn-ipv4.csv");
    path_in(p6, sizeof p6, "asn-ipv6.csv");
    const char *paths[] = {p4, p6};
    struct vg_asn *db = NULL;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st = vg_asn_open(paths, 2, cache, &db, &err);
    if (st != VG_OK)
        fail_msg("vg_asn_open: %s", err.message);
    return db;
}

static void test_asn_lookup_ipv4_and_ipv6_ranges_with_quoted_organisations(void **state)
{
    (void)state;
    char p[300];
    path_in(p, sizeof p, "asn-ipv4.csv");
    write_file(p, v4_csv);
    path_in(p, sizeof p, "asn-ipv6.csv");
    write_file(p, v6_csv);
    path_in(p, sizeof p, "ASN_VERSION");
    write_file(p, "@ip-location-db/asn@2.3.2026061719\n");
    struct vg_asn *db = open_pair(NULL);
    expect_as(db, "1.0.0.0", 13335, "Cloudflare, Inc.");
    expect_as(db, "1.0.0.255", 13335, "Cloudflare, Inc.");
    expect_as(db, "1.0.1.0", 0, "");
    expect_as(db, "0.255.255.255", 0, "");
    expect_as(db, "203.0.113.127", 64500, "LLC \"EXAMPLE\"");
    expect_as(db, "203.0.113.128", 64501, "Plain Org Without Quotes");
    expect_as(db, "198.51.100.9", 64502, "");
    expect_as(db, "2001:db8:1234::1", 64510, "Docs Net");
    expect_as(db, "2001:db9::ff", 64511, "Tiny, Range");
    expect_as(db, "2001:db9::100", 0, "");
    expect_as(db, "::1", 0, "");
    size_t n4, n6;
    vg_asn_counts(db, &n4, &n6);
    assert_int_equal(n4, 4);
    assert_int_equal(n6, 2);
    assert_string_equal(vg_asn_provenance(db), "ip-location-db asn 2.3.2026061719 (built 2026-06-17)");
    vg_asn_free(db);
    /* The compiled cache now exists beside the CSVs and is used the second time. */
    path_in(p, sizeof p, "asn.vgasn");
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    db = open_pair(NULL);
    expect_as(db, "203.0.113.200", 64501, "Plain Org Without Quotes");
    vg_asn_free(db);
    /* The compiled file can also be opened on its own. */
    const char *only[] = {p};
    assert_int_equal(vg_asn_open(only, 1, NULL, &db, NULL), VG_OK);
    expect_as(db, "1.0.0.7", 13335, "Cloudflare, Inc.");
    vg_asn_free(db);
}

static void test_asn_cache_is_rebuilt_when_the_csv_changes_or_the_cache_is_damaged(void **state)
{
    (void)state;
    char p4[300], p6[300], cache[300];
    path_in(p4, sizeof p4, "asn-ipv4.csv");
    path_in(p6, sizeof p6, "asn-ipv6.csv");
    path_in(cache, sizeof cache, "rebuild.vgasn");
    write_file(p4, v4_csv);
    write_file(p6, v6_csv);
    struct vg_asn *db = open_pair(cache);
    expect_as(db, "1.0.0.1", 13335, "Cloudflare, Inc.");
    vg_asn_free(db);
    /* A new CSV (other size) is compiled again, not answered from the stale cache. */
    write_file(p4, "1.0.0.0,1.0.0.255,65000,New Owner Of This Range\n");
    db = open_pair(cache);
    expect_as(db, "1.0.0.1", 65000, "New Owner Of This Range");
    expect_as(db, "203.0.113.1", 0, "");
    vg_asn_free(db);
    /* A damaged cache (a flipped byte in the body) is rejected and rebuilt. */
    FILE *f = fopen(cache, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 100, SEEK_SET), 0);
    fputc(0x5a, f);
    fclose(f);
    db = open_pair(cache);
    expect_as(db, "1.0.0.1", 65000, "New Owner Of This Range");
    vg_asn_free(db);
    /* A damaged compiled file given on its own is an error, not a wrong answer. */
    f = fopen(cache, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 100, SEEK_SET), 0);
    fputc(0xa5, f);
    fclose(f);
    const char *only[] = {cache};
    struct vg_error err;
    assert_int_equal(vg_asn_open(only, 1, NULL, &db, &err), VG_E_GEO);
    assert_non_null(strstr(err.message, "not a valid compiled ASN file"));
}

static void test_asn_rejects_bad_csv_lines_naming_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t line;
        const char *msg;
    } bad[] = {
        {"1.0.0.0,1.0.0.255,13335,x\n2.0.0.0,nonsense,1,y\n", 2, "not an IPv4 or IPv6"},
        {"16777216,16777471,13335,Cloudflare\n2.0.0.0,2.0.0.1,1,y\n", 1, "numeric ranges"},
        {"1.0.0.9,1.0.0.1,13335,backwards\n", 1, "end is before its start"},
        {"1.0.0.0,2001:db8::,1,mixed\n", 1, "another family"},
        {"1.0.0.0,1.0.0.1,AS12x,bad\n", 1, "bad AS number"},
        {"1.0.0.0,1.0.0.1,9999999999,big\n", 1, "AS number over"},
        {"1.0.0.0,1.0.0.1\n", 1, "expected ip_range_start"},
        {"1.0.0.0,1.0.0.1,5,\"unterminated\n", 1, "expected ip_range_start"},
    };
    char p[300], cache[300];
    path_in(p, sizeof p, "bad.csv");
    path_in(cache, sizeof cache, "bad.vgasn");
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        write_file(p, bad[i].text);
        const char *paths[] = {p};
        struct vg_asn *db = (struct vg_asn *)1;
        struct vg_error err;
        memset(&err, 0, sizeof err);
        assert_int_equal(vg_asn_open(paths, 1, cache, &db, &err), VG_E_GEO);
        assert_null(db);
        if (!strstr(err.message, bad[i].msg) || err.line != bad[i].line)
            fail_msg("case %zu: line %zu, message '%s'", i, err.line, err.message);
    }
}

static void test_asn_missing_file_is_an_error(void **state)
{
    (void)state;
    const char *paths[] = {"/nonexistent/asn-ipv4.csv"};
    struct vg_asn *db;
    struct vg_error err;
    assert_int_equal(vg_asn_open(paths, 1, NULL, &db, &err), VG_E_GEO);
    assert_non_null(strstr(err.message, "/nonexistent/asn-ipv4.csv"));
    uint32_t asn;
    const char *org;
    struct vg_addr a = addr("1.2.3.4");
    assert_false(vg_asn_lookup(NULL, &a, &asn, &org));
    assert_string_equal(vg_asn_provenance(NULL), "");
}

/* ---- labels -------------------------------------------------------------------------------- */

static void test_labels_match_ipv4_and_ipv6_networks_and_join_several(void **state)
{
    (void)state;
    static const char text[] = "# my lists\n"
                               "203.0.113.0/24   partner\n"
                               "203.0.113.7      tor-exit   # a single address\n"
                               "203.0.0.0/16\tcloud\n"
                               "2001:db8::/32 own-network\n"
                               "2001:db8:1::/48 lab\n"
                               "203.0.113.0/24 partner\n"
                               "\n";
    struct vg_labels *l;
    struct vg_error err;
    assert_int_equal(vg_labels_parse((const uint8_t *)text, strlen(text), "lists.txt", &l, &err),
                     VG_OK);
    char out[128];
    struct vg_addr a = addr("203.0.113.7");
    assert_int_equal(vg_labels_lookup(l, &a, out, sizeof out), 3);
    assert_string_equal(out, "cloud,partner,tor-exit");
    a = addr("203.0.113.8");
    assert_int_equal(vg_labels_lookup(l, &a, out, sizeof out), 2);
    assert_string_equal(out, "cloud,partner");
    a = addr("203.1.0.1");
    assert_int_equal(vg_labels_lookup(l, &a, out, sizeof out), 0);
    assert_string_equal(out, "");
    a = addr("2001:db8:1:2::5");
    assert_int_equal(vg_labels_lookup(l, &a, out, sizeof out), 2);
    assert_string_equal(out, "lab,own-network");
    a = addr("2001:db8:2::5");
    assert_int_equal(vg_labels_lookup(l, &a, out, sizeof out), 1);
    assert_string_equal(out, "own-network");
    /* Truncated at a label boundary. */
    a = addr("203.0.113.7");
    assert_int_equal(vg_labels_lookup(l, &a, out, 13), 1);
    assert_string_equal(out, "cloud");
    assert_string_equal(vg_labels_source(l), "lists.txt (6 networks)");
    vg_labels_free(l);
    assert_int_equal(vg_labels_lookup(NULL, &a, out, sizeof out), 0);
}

static void test_labels_reject_bad_lines_naming_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t line;
    } bad[] = {
        {"10.0.0.0/8 ok\n10.0.0.1/8 hostbits\n", 2},
        {"10.0.0.0/33 toolong\n", 1},
        {"2001:db8::/129 toolong\n", 1},
        {"not-an-ip label\n", 1},
        {"10.0.0.0/8\n", 1},
        {"10.0.0.0/8 two words\n", 1},
        {"10.0.0.0/8 bad<label>\n", 1},
        {"10.0.0.0/8 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 1},
        {"10.0.0.0/ empty\n", 1},
        {"\n\n10.0.0.0/x8 letters\n", 3},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        struct vg_labels *l = (struct vg_labels *)1;
        struct vg_error err;
        memset(&err, 0, sizeof err);
        assert_int_equal(vg_labels_parse((const uint8_t *)bad[i].text, strlen(bad[i].text), "f",
                                         &l, &err),
                         VG_E_INVAL);
        assert_null(l);
        if (err.line != bad[i].line)
            fail_msg("case %zu: line %zu (%s)", i, err.line, err.message);
    }
}

static void test_labels_load_reports_a_missing_file(void **state)
{
    (void)state;
    struct vg_labels *l;
    struct vg_error err;
    assert_int_equal(vg_labels_load("/nonexistent/labels.txt", &l, &err), VG_E_IO);
    assert_non_null(strstr(err.message, "/nonexistent/labels.txt"));
    char p[300];
    path_in(p, sizeof p, "labels.txt");
    write_file(p, "198.51.100.0/24 cloud\n");
    assert_int_equal(vg_labels_load(p, &l, &err), VG_OK);
    char out[64];
    struct vg_addr a = addr("198.51.100.200");
    assert_int_equal(vg_labels_lookup(l, &a, out, sizeof out), 1);
    assert_string_equal(out, "cloud");
    vg_labels_free(l);
}

/* ---- networks -------------------------------------------------------------------------------- */

static void test_network_rollup_is_slash24_for_ipv4_and_slash48_for_ipv6(void **state)
{
    (void)state;
    static const struct {
        const char *ip, *net;
    } cases[] = {
        {"203.0.113.77", "203.0.113.0/24"},
        {"10.1.2.255", "10.1.2.0/24"},
        {"2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"},
        {"2a01:4f8:abcd:ffff::1", "2a01:4f8:abcd::/48"},
        {"::1", "::/48"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        char out[VG_NET_TEXT_MAX];
        struct vg_addr a = addr(cases[i].ip);
        vg_addr_network(&a, out);
        assert_string_equal(out, cases[i].net);
    }
}

static void test_prefix_parse_and_membership(void **state)
{
    (void)state;
    struct vg_addr net;
    unsigned len;
    assert_true(vg_prefix_parse((const uint8_t *)"10.0.0.0/8", 10, &net, &len));
    assert_int_equal(len, 104);
    struct vg_addr a = addr("10.200.3.4");
    assert_true(vg_addr_in_prefix(&a, &net, len));
    a = addr("11.0.0.1");
    assert_false(vg_addr_in_prefix(&a, &net, len));
    assert_true(vg_prefix_parse((const uint8_t *)"2001:db8::/33", 13, &net, &len));
    assert_int_equal(len, 33);
    a = addr("2001:db8:7fff::1");
    assert_true(vg_addr_in_prefix(&a, &net, len));
    a = addr("2001:db8:8000::1");
    assert_false(vg_addr_in_prefix(&a, &net, len));
    assert_true(vg_prefix_parse((const uint8_t *)"0.0.0.0/0", 9, &net, &len));
    assert_int_equal(len, 96);
    assert_true(vg_prefix_parse((const uint8_t *)"192.0.2.1", 9, &net, &len));
    assert_int_equal(len, 128);
    static const char *const bad[] = {"10.0.0.1/8", "10.0.0.0/-1", "10.0.0.0/", "/8", "10.0.0.0/1234",
                                      "1.2.3.4/32/1", "2001:db8::1/64"};
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++)
        assert_false(vg_prefix_parse((const uint8_t *)bad[i], strlen(bad[i]), &net, &len));
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/vigil-attrib-test-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    static const char *const names[] = {"asn-ipv4.csv", "asn-ipv6.csv", "ASN_VERSION",
                                        "asn.vgasn",    "rebuild.vgasn", "bad.csv",
                                        "bad.vgasn",    "labels.txt"};
    for (size_t i = 0; i < VG_ARRAY_LEN(names); i++) {
        char p[300];
        path_in(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asn_lookup_ipv4_and_ipv6_ranges_with_quoted_organisations),
        cmocka_unit_test(test_asn_cache_is_rebuilt_when_the_csv_changes_or_the_cache_is_damaged),
        cmocka_unit_test(test_asn_rejects_bad_csv_lines_naming_the_line),
        cmocka_unit_test(test_asn_missing_file_is_an_error),
        cmocka_unit_test(test_labels_match_ipv4_and_ipv6_networks_and_join_several),
        cmocka_unit_test(test_labels_reject_bad_lines_naming_the_line),
        cmocka_unit_test(test_labels_load_reports_a_missing_file),
        cmocka_unit_test(test_network_rollup_is_slash24_for_ipv4_and_slash48_for_ipv6),
        cmocka_unit_test(test_prefix_parse_and_membership),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
