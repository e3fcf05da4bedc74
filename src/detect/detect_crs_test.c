/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_crs_test.c: unit tests of the OWASP CRS importer (detect_crs.h): the ModSecurity
 * parser's edge cases (continuations, quoting, escaped quotes, variable lists, chains), the
 * mapping onto native rules (fields, exclusions, transformations, operators, scores, paranoia)
 * and the skip reasons. The text the importer emits is checked directly; the native loader
 * (vg_ruleset_load_yaml) checks it once more when the rule is committed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "detect/detect_crs.h"

/* Imports conf text as file `name` (data files from data_dir); fails the test on error. */
static struct vg_crs_import *import_text(const char *name, const char *text, const char *data_dir)
{
    struct vg_crs_import *imp = NULL;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st =
        vg_crs_import_buf(NULL, (const uint8_t *)text, strlen(text), name, data_dir, &imp, &err);
    if (st != VG_OK)
        fail_msg("import failed: %s", err.message);
    return imp;
}

static const char *yaml(const struct vg_crs_import *imp)
{
    return imp->yaml.p ? (const char *)imp->yaml.p : "";
}

/* The skip record of rule id (NULL when the rule was not skipped). */
static const struct vg_crs_skip *skip_of(const struct vg_crs_import *imp, uint32_t id)
{
    for (size_t i = 0; i < imp->n_skips; i++)
        if (imp->skips[i].id == id)
            return &imp->skips[i];
    return NULL;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected to find\n  %s\nin\n  %s", needle, hay);
}

#define SQLI "REQUEST-942-APPLICATION-ATTACK-SQLI.conf"
#define SCORE "severity:'CRITICAL',setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'"

static void test_crs_rx_rule_maps_fields_transforms_score_paranoia(void **state)
{
    (void)state;
    struct vg_crs_import *imp = import_text(
        SQLI,
        "# comment\n"
        "SecRule REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/|REQUEST_HEADERS:User-Agent|ARGS_NAMES|"
        "ARGS|XML:/* \"@rx (?i)union\\s+select\" \\\n"
        "    \"id:942999,\\\n"
        "    phase:2,\\\n"
        "    block,\\\n"
        "    t:none,t:urlDecodeUni,t:lowercase,\\\n"
        "    msg:'SQL Injection: it\\'s a union',\\\n"
        "    tag:'paranoia-level/2',\\\n"
        "    tag:'capec/1000/152/248/66',\\\n"
        "    ver:'OWASP_CRS/3.3.4',\\\n"
        "    severity:'WARNING',\\\n"
        "    setvar:'tx.anomaly_score_pl2=+%{tx.warning_anomaly_score}'\"\n",
        NULL);
    assert_int_equal(imp->n_rules, 1);
    const char *y = yaml(imp);
    assert_contains(y, "id: 942999");
    assert_contains(y, "message: \"SQL Injection: it's a union\"");
    assert_contains(y, "class: sqli, severity: warning, paranoia: 2");
    assert_contains(y, "fields: [\"cookie\", \"user_agent\", \"args_names\", \"args\"]");
    assert_contains(y, "exclude: [\"cookie:/__utm/\"]");
    /* a final t:lowercase before a pattern without upper-case letters folds into caseless */
    assert_contains(y, "transforms: [urlDecodeUni], operator: regex, "
                       "regex: \"(?i)union\\\\s+select\", caseless: true");
    assert_contains(y, "source: \"" SQLI ":2\"");
    assert_contains(y, "references: [\"CAPEC-66\"]");
    vg_crs_import_free(imp);
}

static void test_crs_lowercase_kept_before_upper_case_pattern(void **state)
{
    (void)state;
    struct vg_crs_import *imp = import_text(
        SQLI,
        "SecRule ARGS \"@rx ^[A-Z]+\\x41\" \"id:942993,phase:2,t:none,t:lowercase," SCORE "\"\n"
        "SecRule ARGS \"@rx \\x5cselect\" \"id:942992,phase:2,t:none,t:lowercase," SCORE "\"\n"
        "SecRule ARGS \"@streq Admin\" \"id:942991,phase:2,t:none,t:lowercase," SCORE "\"\n"
        "SecRule ARGS \"@rx union\" \"id:942990,phase:2,t:none,t:lowercase,t:removeNulls,"
        "t:removeWhitespace," SCORE "\"\n"
        "SecRule ARGS \"@rx union\" \"id:942989,phase:2,t:none,t:lowercase,t:urlDecode," SCORE
        "\"\n",
        NULL);
    assert_int_equal(imp->n_rules, 5);
    const char *y = yaml(imp);
    /* case-blind steps after lowercase commute with it; a decoder does not */
    assert_contains(y,
                    "id: 942990, message: \"OWASP CRS rule\", class: sqli, severity: critical, "
                    "paranoia: 1, fields: [\"args\"], transforms: [removeNulls, removeWhitespace], "
                    "operator: regex, regex: \"union\", caseless: true");
    assert_contains(y, "transforms: [lowercase, urlDecode], operator: regex, regex: \"union\", "
                       "caseless: false");
    assert_contains(y, "transforms: [lowercase], operator: regex, regex: \"^[A-Z]+\\\\x41\", "
                       "caseless: false");
    assert_contains(y, "transforms: [], operator: regex, regex: \"\\\\x5cselect\", "
                       "caseless: true");
    assert_contains(y, "transforms: [lowercase], operator: equals, value: \"Admin\", "
                       "caseless: false");
    vg_crs_import_free(imp);
}

static void test_crs_escaped_quote_in_operator_is_unescaped_once(void **state)
{
    (void)state;
    struct vg_crs_import *imp = import_text(
        SQLI,
        "SecRule ARGS \"@rx [\\\"'`]\\s*or\\\\b\" \"id:942998,phase:2,block,"
        "severity:'CRITICAL',setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n",
        NULL);
    assert_int_equal(imp->n_rules, 1);
    /* conf: [\"'`]\s*or\\b -> pattern ["'`]\s*or\b (\" and \\ are the escapes, as in Apache)
       -> YAML escapes */
    assert_contains(yaml(imp), "regex: \"[\\\"'`]\\\\s*or\\\\b\"");
    vg_crs_import_free(imp);
}

static void test_crs_gate_sets_paranoia_when_tag_missing(void **state)
{
    (void)state;
    struct vg_crs_import *imp = import_text(
        SQLI,
        "SecRule TX:EXECUTING_PARANOIA_LEVEL \"@lt 3\" "
        "\"id:942015,phase:2,pass,nolog,skipAfter:END-X\"\n"
        "SecRule ARGS \"@contains sleep(\" \"id:942997,phase:2,block,severity:'CRITICAL',"
        "setvar:'tx.anomaly_score_pl3=+%{tx.critical_anomaly_score}'\"\n"
        "SecMarker END-X\n",
        NULL);
    assert_int_equal(imp->n_rules, 1);
    assert_contains(yaml(imp), "paranoia: 3");
    assert_contains(yaml(imp), "operator: contains, value: \"sleep(\", caseless: false");
    const struct vg_crs_skip *s = skip_of(imp, 942015);
    assert_non_null(s);
    assert_int_equal(s->reason, VG_CRS_R_CONTROL);
    assert_int_equal(imp->by_reason[VG_CRS_R_DIRECTIVE], 1); /* the SecMarker */
    vg_crs_import_free(imp);
}

static void test_crs_chain_on_matched_vars_reuses_fields(void **state)
{
    (void)state;
    struct vg_crs_import *imp =
        import_text("REQUEST-933-APPLICATION-ATTACK-PHP.conf",
                    "SecRule ARGS|REQUEST_COOKIES \"@pm eval system\" \\\n"
                    "  \"id:933998,phase:2,block,t:none,t:lowercase,severity:'CRITICAL',chain\"\n"
                    "  SecRule MATCHED_VARS \"@rx \\(\" \\\n"
                    "    "
                    "\"t:none,t:removeWhitespace,setvar:'tx.anomaly_score_pl1=+%{tx.critical_"
                    "anomaly_score}'\"\n",
                    NULL);
    assert_int_equal(imp->n_rules, 1);
    const char *y = yaml(imp);
    assert_contains(y, "class: code");
    assert_contains(y, "operator: phrases, phrases: [\"eval\", \"system\"]");
    assert_contains(y, "chain: [{fields: [\"args\", \"cookie\"], transforms: [removeWhitespace], "
                       "operator: regex, regex: \"\\\\(\", caseless: false}]");
    vg_crs_import_free(imp);
}

static void test_crs_chain_on_tx_is_skipped_with_link(void **state)
{
    (void)state;
    struct vg_crs_import *imp = import_text(
        "REQUEST-920-PROTOCOL-ENFORCEMENT.conf",
        "SecRule REQUEST_HEADERS:Content-Type \"@rx ^([^;]+)\" \"id:920998,phase:1,block,capture,"
        "severity:'CRITICAL',chain\"\n"
        "    SecRule TX:1 \"!@within %{tx.allowed_request_content_type}\" "
        "\"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n",
        NULL);
    assert_int_equal(imp->n_rules, 0);
    const struct vg_crs_skip *s = skip_of(imp, 920998);
    assert_non_null(s);
    assert_int_equal(s->reason, VG_CRS_R_VARIABLE);
    assert_contains(s->detail, "chain link 2");
    assert_contains(s->source, ":1");
    vg_crs_import_free(imp);
}

struct skip_case {
    const char *file;
    const char *text;
    uint32_t id;
    enum vg_crs_reason reason;
};

static void test_crs_capture_then_within_folds_into_one_pattern(void **state)
{
    (void)state;
    struct vg_crs_import *imp = import_text(
        "REQUEST-920-PROTOCOL-ENFORCEMENT.conf",
        "SecAction \"id:901200,phase:1,nolog,pass,setvar:'tx.restricted_extensions=.bak/ .sql/ "
        ".old~/'\"\n"
        "SecRule REQUEST_BASENAME \"@rx \\.([^.]+)$\" \"id:920440,phase:2,block,capture,"
        "severity:'CRITICAL',setvar:'tx.extension=.%{tx.1}/',chain\"\n"
        "    SecRule TX:EXTENSION \"@within %{tx.restricted_extensions}\" "
        "\"t:none,t:urlDecodeUni,t:lowercase,"
        "setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n",
        NULL);
    assert_int_equal(imp->n_rules, 1);
    assert_contains(yaml(imp), "fields: [\"basename\"], transforms: [urlDecode, urlDecodeUni], "
                               "operator: regex, regex: \"\\\\.(?:bak|sql|old\\\\x7e)$\", "
                               "caseless: true");
    vg_crs_import_free(imp);
}

static void test_crs_skip_reasons_table(void **state)
{
    (void)state;
    static const struct skip_case cases[] = {
        {SQLI, "SecRule &REQUEST_HEADERS:Host \"@eq 0\" \"id:1001,phase:1," SCORE "\"\n", 1001,
         VG_CRS_R_COUNT},
        {SQLI, "SecRule ARGS \"@ipMatch 10.0.0.0/8\" \"id:1002,phase:1," SCORE "\"\n", 1002,
         VG_CRS_R_OPERATOR},
        {SQLI, "SecRule ARGS \"@rx a\" \"id:1003,phase:2,t:sha1," SCORE "\"\n", 1003,
         VG_CRS_R_TRANSFORM},
        {SQLI, "SecRule FILES|MULTIPART_PART_HEADERS \"@rx a\" \"id:1004,phase:2," SCORE "\"\n",
         1004, VG_CRS_R_VARIABLE},
        {SQLI, "SecRule ARGS \"@rx a\" \"id:1005,phase:2,pass,nolog,setvar:'tx.x=1'\"\n", 1005,
         VG_CRS_R_NOSCORE},
        {SQLI, "SecRule ARGS \"@rx ^%{tx.nothere}$\" \"id:1006,phase:2," SCORE "\"\n", 1006,
         VG_CRS_R_MACRO},
        {SQLI, "SecRule ARGS \"@rx a*\" \"id:1007,phase:2," SCORE "\"\n", 1007, VG_CRS_R_PATTERN},
        {SQLI, "SecRule ARGS \"@rx (a\" \"id:1008,phase:2," SCORE "\"\n", 1008, VG_CRS_R_PATTERN},
        {SQLI, "SecRule ARGS:foo \"@rx a\" \"id:1009,phase:2," SCORE "\"\n", 1009,
         VG_CRS_R_SELECTOR},
        {"RESPONSE-951-DATA-LEAKAGES-SQL.conf",
         "SecRule RESPONSE_BODY \"@rx error\" \"id:1010,phase:4," SCORE "\"\n", 1010,
         VG_CRS_R_FILE},
        {"REQUEST-903.9002-WORDPRESS-EXCLUSION-RULES.conf",
         "SecRule REQUEST_FILENAME \"@streq /wp-login.php\" \"id:1011,phase:1,pass,nolog\"\n", 1011,
         VG_CRS_R_FILE},
        {SQLI, "SecAction \"id:1012,phase:1,pass,nolog,setvar:'tx.a=1'\"\n", 1012,
         VG_CRS_R_DIRECTIVE},
        {SQLI, "SecRule ARGS \"@rx a\" \"id:1013,phase:2,skipAfter:END," SCORE "\"\n", 1013,
         VG_CRS_R_CONTROL},
        {SQLI, "SecRule ARGS \"@validateUtf8Encoding\" \"id:1014,phase:2," SCORE "\"\n", 1014,
         VG_CRS_R_OPERATOR},
        {SQLI, "SecRule ARGS \"@pmFromFile nothere.data\" \"id:1015,phase:2," SCORE "\"\n", 1015,
         VG_CRS_R_OPERATOR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vg_crs_import *imp = import_text(cases[i].file, cases[i].text, NULL);
        const struct vg_crs_skip *s = skip_of(imp, cases[i].id);
        if (!s)
            fail_msg("case %zu (id %u): not skipped:\n%s", i, cases[i].id, yaml(imp));
        if (s->reason != cases[i].reason)
            fail_msg("case %zu (id %u): reason %s (%s), expected %s", i, cases[i].id,
                     vg_crs_reason_name(s->reason), s->detail, vg_crs_reason_name(cases[i].reason));
        assert_int_equal(imp->n_rules, 0);
        vg_crs_import_free(imp);
    }
}

static void test_crs_syntax_errors_are_skips_not_failures(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "SecRule ARGS \"@rx a \"id:1,phase:2\"\n",             /* unterminated quote */
        "SecRule ARGS\n",                                      /* too few arguments */
        "SecRule ARGS \"@rx a\" \"id:2,chain," SCORE "\"\n",   /* chain never completed */
        "SecRule ARGS \"@rx a\" \"phase:2," SCORE "\"\n",      /* no id */
        "SecRule ARGS \"@rx a\" \"id:3,msg:'unterminated\"\n", /* bad actions */
        "SecRule \"\" \"@rx a\" \"id:4," SCORE "\"\n",         /* no variables */
        "\\\n\\\n\\",                                          /* continuations only */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct vg_crs_import *imp = import_text(SQLI, bad[i], NULL);
        assert_int_equal(imp->n_rules, 0);
        if (i < 6 && imp->n_skips == 0)
            fail_msg("case %zu: no skip record", i);
        vg_crs_import_free(imp);
    }
}

static void test_crs_macro_expands_from_setvar_default(void **state)
{
    (void)state;
    struct vg_crs_import *imp = import_text(
        "REQUEST-911-METHOD-ENFORCEMENT.conf",
        "SecAction \"id:901160,phase:1,pass,nolog,setvar:'tx.allowed_methods=GET HEAD POST'\"\n"
        "SecRule REQUEST_METHOD \"!@within %{tx.allowed_methods}\" \"id:911100,phase:1,block,"
        "tag:'paranoia-level/1'," SCORE "\"\n",
        NULL);
    assert_int_equal(imp->n_rules, 1);
    assert_contains(yaml(imp), "class: protocol");
    assert_contains(yaml(imp), "fields: [\"method\"], transforms: [], operator: within, "
                               "value: \"GET HEAD POST\", caseless: false, negate: true");
    vg_crs_import_free(imp);
}

static void test_crs_validate_byte_range_becomes_negated_class(void **state)
{
    (void)state;
    struct vg_crs_import *imp = import_text(
        "REQUEST-920-PROTOCOL-ENFORCEMENT.conf",
        "SecRule REQUEST_URI|REQUEST_HEADERS \"@validateByteRange 9,10,13,32-126,128-255\" "
        "\"id:920271,phase:2,t:none,t:urlDecodeUni," SCORE "\"\n",
        NULL);
    assert_int_equal(imp->n_rules, 1);
    /* REQUEST_URI is decoded in ModSecurity, headers are not: one list, so no urlDecode added */
    assert_contains(yaml(imp), "fields: [\"target\", \"headers\"], transforms: [urlDecodeUni], "
                               "operator: regex, regex: \"[^\\\\x09-\\\\x0a\\\\x0d\\\\x20-\\\\x7e"
                               "\\\\x80-\\\\xff]\"");
    vg_crs_import_free(imp);
}

static void test_crs_filename_gets_url_decode_and_lexers_map(void **state)
{
    (void)state;
    struct vg_crs_import *imp = import_text(
        "REQUEST-941-APPLICATION-ATTACK-XSS.conf",
        "SecRule REQUEST_FILENAME \"@endsWith .php\" \"id:941998,phase:2," SCORE "\"\n"
        "SecRule ARGS|FILES \"@detectXSS\" \"id:941999,phase:2,t:none,t:removeNulls," SCORE "\"\n"
        "SecRule REQUEST_HEADERS:X-Forwarded-For \"@beginsWith <\" \"id:941997,phase:1," SCORE
        "\"\n",
        NULL);
    assert_int_equal(imp->n_rules, 3);
    const char *y = yaml(imp);
    assert_contains(y, "fields: [\"path\"], transforms: [urlDecode], operator: ends, "
                       "value: \".php\"");
    assert_contains(y, "fields: [\"args\"], transforms: [removeNulls], operator: xss");
    assert_contains(y, "fields: [\"header:X-Forwarded-For\"], transforms: [], operator: begins");
    vg_crs_import_free(imp);
}

static void test_crs_multimatch_drops_base64_step(void **state)
{
    (void)state;
    struct vg_crs_import *imp =
        import_text("REQUEST-934-APPLICATION-ATTACK-GENERIC.conf",
                    "SecRule ARGS \"@rx __proto__\" \"id:934998,phase:2,t:none,t:urlDecodeUni,"
                    "t:base64Decode,multiMatch,tag:'paranoia-level/1',severity:'CRITICAL',"
                    "setvar:'tx.inbound_anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n",
                    NULL);
    assert_int_equal(imp->n_rules, 1);
    assert_contains(yaml(imp), "transforms: [urlDecodeUni], operator: regex");
    vg_crs_import_free(imp);
}

static void test_crs_regex_bytes_and_controls_are_escaped(void **state)
{
    (void)state;
    struct vg_crs_import *imp =
        import_text(SQLI,
                    "SecRule ARGS \"@rx \xc3\xa9t\xe9\" \"id:942996,phase:2," SCORE "\"\n"
                    "SecRule ARGS \"@contains caf\xe9\" \"id:942995,phase:2," SCORE "\"\n",
                    NULL);
    assert_int_equal(imp->n_rules, 1);
    assert_contains(yaml(imp), "regex: \"\\\\xc3\\\\xa9t\\\\xe9\"");
    const struct vg_crs_skip *s = skip_of(imp, 942995);
    assert_non_null(s);
    assert_int_equal(s->reason, VG_CRS_R_PATTERN);
    vg_crs_import_free(imp);
}

static void test_crs_duplicate_id_is_a_loader_skip(void **state)
{
    (void)state;
    struct vg_crs_import *imp =
        import_text(SQLI,
                    "SecRule ARGS \"@rx abc\" \"id:942994,phase:2," SCORE "\"\n"
                    "SecRule ARGS \"@rx def\" \"id:942994,phase:2," SCORE "\"\n",
                    NULL);
    assert_int_equal(imp->n_rules, 1);
    assert_int_equal(imp->by_reason[VG_CRS_R_LOADER], 1);
    vg_crs_import_free(imp);
}

/* The CRS 4-style fixtures (tests/data/crs4): gates, 934 GENERIC, @pmFromFile, multipart. */
static void test_crs4_fixture_directory(void **state)
{
    (void)state;
    const char *src = getenv("VG_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/crs4", src ? src : ".");
    struct vg_crs_import *imp = NULL;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    if (vg_crs_import_path(NULL, dir, &imp, &err) != VG_OK)
        fail_msg("import of %s failed: %s", dir, err.message);
    assert_int_equal(imp->n_files, 5);
    assert_int_equal(imp->n_rules, 6);
    const char *y = yaml(imp);
    assert_contains(y, "value: \"GET HEAD POST OPTIONS\"");
    assert_contains(y, "phrases: [\"169.254.169.254\", \"metadata.google.internal\"");
    assert_contains(y, "id: 942101, message: \"SQL Injection Attack (fixture without a "
                       "paranoia-level tag)\", class: sqli, severity: critical, paranoia: 2");
    const struct vg_crs_skip *s = skip_of(imp, 922120);
    assert_non_null(s);
    assert_int_equal(s->reason, VG_CRS_R_VARIABLE);
    assert_int_equal(imp->by_reason[VG_CRS_R_CONTROL], 8);
    vg_crs_import_free(imp);

    /* the same directory through the rule-path loader (YAML or CRS) */
    struct vg_ruleset *rs = NULL;
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    assert_true(vg_crs_is_crs_path(dir));
    if (vg_crs_ruleset_load_path(rs, dir, &err) != VG_OK)
        fail_msg("load of %s failed: %s", dir, err.message);
    assert_int_equal(vg_ruleset_count(rs), 6);
    assert_string_equal(vg_ruleset_get(rs, 0)->source, "REQUEST-911-METHOD-ENFORCEMENT.conf:5");
    vg_ruleset_free(rs);
}

static void test_crs_missing_path_is_an_error(void **state)
{
    (void)state;
    struct vg_crs_import *imp = NULL;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(vg_crs_import_path(NULL, "/nonexistent/crs", &imp, &err), VG_E_IO);
    assert_null(imp);
    assert_false(vg_crs_is_crs_path("/nonexistent/crs"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crs_rx_rule_maps_fields_transforms_score_paranoia),
        cmocka_unit_test(test_crs_lowercase_kept_before_upper_case_pattern),
        cmocka_unit_test(test_crs_escaped_quote_in_operator_is_unescaped_once),
        cmocka_unit_test(test_crs_gate_sets_paranoia_when_tag_missing),
        cmocka_unit_test(test_crs_chain_on_matched_vars_reuses_fields),
        cmocka_unit_test(test_crs_chain_on_tx_is_skipped_with_link),
        cmocka_unit_test(test_crs_capture_then_within_folds_into_one_pattern),
        cmocka_unit_test(test_crs_skip_reasons_table),
        cmocka_unit_test(test_crs_syntax_errors_are_skips_not_failures),
        cmocka_unit_test(test_crs_macro_expands_from_setvar_default),
        cmocka_unit_test(test_crs_validate_byte_range_becomes_negated_class),
        cmocka_unit_test(test_crs_filename_gets_url_decode_and_lexers_map),
        cmocka_unit_test(test_crs_multimatch_drops_base64_step),
        cmocka_unit_test(test_crs_regex_bytes_and_controls_are_escaped),
        cmocka_unit_test(test_crs_duplicate_id_is_a_loader_skip),
        cmocka_unit_test(test_crs4_fixture_directory),
        cmocka_unit_test(test_crs_missing_path_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
