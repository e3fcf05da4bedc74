/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attrib_geo_test.c: country lookups over real MMDB files written for the test by
 * tests/make_test_mmdb.pl (CTest fixture; directory in $VG_TEST_MMDB_DIR).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "attrib/attrib.h"

static char cc_db[512], geoip2_db[512];

static struct vg_addr addr(const char *s)
{
    struct vg_addr a;
    assert_true(vg_addr_parse((const uint8_t *)s, strlen(s), &a));
    return a;
}

static void test_country_from_ip_location_db_layout_ipv4_and_ipv6(void **state)
{
    (void)state;
    const char *paths[] = {cc_db};
    struct vg_geo *g;
    struct vg_error err;
    assert_int_equal(vg_geo_open(paths, 1, &g, &err), VG_OK);
    char cc[3];
    struct vg_addr a = addr("203.0.113.77");
    assert_true(vg_geo_country(g, &a, cc));
    assert_string_equal(cc, "DE");
    a = addr("2001:db8::1");
    assert_true(vg_geo_country(g, &a, cc));
    assert_string_equal(cc, "JP");
    a = addr("8.8.8.8"); /* not in the database: not found is not an error */
    assert_true(vg_geo_country(g, &a, cc));
    assert_string_equal(cc, "");
    assert_non_null(strstr(vg_geo_provenance(g), "test-cc.mmdb (built "));
    vg_geo_free(g);
}

static void test_first_database_with_an_answer_wins_and_codes_are_uppercased(void **state)
{
    (void)state;
    const char *paths[] = {geoip2_db, cc_db};
    struct vg_geo *g;
    assert_int_equal(vg_geo_open(paths, 2, &g, NULL), VG_OK);
    char cc[3];
    struct vg_addr a = addr("192.0.2.9");
    assert_true(vg_geo_country(g, &a, cc));
    assert_string_equal(cc, "BR");
    a = addr("203.0.113.1"); /* both know it: the first one answers */
    assert_true(vg_geo_country(g, &a, cc));
    assert_string_equal(cc, "US");
    a = addr("198.51.100.4"); /* only the second one knows it */
    assert_true(vg_geo_country(g, &a, cc));
    assert_string_equal(cc, "FR");
    assert_non_null(strstr(vg_geo_provenance(g), "; test-cc.mmdb"));
    vg_geo_free(g);
}

static void test_open_errors_name_the_file(void **state)
{
    (void)state;
    const char *missing[] = {"/nonexistent/geo.mmdb"};
    struct vg_geo *g = (struct vg_geo *)1;
    struct vg_error err;
    assert_int_equal(vg_geo_open(missing, 1, &g, &err), VG_E_GEO);
    assert_null(g);
    assert_non_null(strstr(err.message, "/nonexistent/geo.mmdb"));
    char notdb[600];
    snprintf(notdb, sizeof notdb, "%s/not-an-mmdb", getenv("VG_TEST_MMDB_DIR"));
    FILE *f = fopen(notdb, "w");
    assert_non_null(f);
    fputs("this is not a database\n", f);
    fclose(f);
    const char *bad[] = {notdb};
    assert_int_equal(vg_geo_open(bad, 1, &g, &err), VG_E_GEO);
    assert_non_null(strstr(err.message, "not-an-mmdb"));
}

static void test_null_geo_gives_empty_country(void **state)
{
    (void)state;
    char cc[3] = "XX";
    struct vg_addr a = addr("203.0.113.1");
    assert_true(vg_geo_country(NULL, &a, cc));
    assert_string_equal(cc, "");
    assert_string_equal(vg_geo_provenance(NULL), "");
}

int main(void)
{
    const char *dir = getenv("VG_TEST_MMDB_DIR");
    if (!dir) {
        printf("skipped: VG_TEST_MMDB_DIR not set (run through CTest)\n");
        return 77;
    }
    snprintf(cc_db, sizeof cc_db, "%s/test-cc.mmdb", dir);
    snprintf(geoip2_db, sizeof geoip2_db, "%s/test-geoip2.mmdb", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_country_from_ip_location_db_layout_ipv4_and_ipv6),
        cmocka_unit_test(test_first_database_with_an_answer_wins_and_codes_are_uppercased),
        cmocka_unit_test(test_open_errors_name_the_file),
        cmocka_unit_test(test_null_geo_gives_empty_country),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
