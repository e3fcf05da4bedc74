/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_sigma_test.c: unit tests of the Sigma importer (cmocka): wildcards and escapes turned
 * into regexes, modifiers, null, keywords, the cs-uri-query reading, the normal form of
 * conditions (one native rule per conjunction, negations as `negate: true` chain entries, one
 * group), ids, escaping of the emitted text, every skip reason (table-driven), loading of the
 * emitted text by the native loader, detection of requests by translated rules, and the shared
 * Sigma test set when ../shared is present.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "detect/detect_sigma.h"

/* ---- helpers ----------------------------------------------------------------------------- */

/* A Sigma rule with the given detection block (indented by 4) and level. */
static char *sigma_doc(const char *detection, const char *level)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "title: Test Rule\n"
             "id: 11111111-2222-3333-4444-555555555555\n"
             "status: test\n"
             "author: Jane \"JD\" Doe\n"
             "tags:\n    - attack.initial-access\n    - attack.t1190\n    - cve.2021-44228\n"
             "logsource:\n    category: webserver\n"
             "detection:\n%s"
             "level: %s\n",
             detection, level);
    return buf;
}

/* Translates text; returns the result (caller finalizes). */
static void translate(const char *text, struct vg_sigma_result *res)
{
    vg_sigma_result_init(res);
    struct vg_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(vg_sigma_translate(res, (const uint8_t *)text, strlen(text), "t.yml", &err),
                     VG_OK);
    assert_non_null(res->yaml);
}

/* Translates a detection block and expects one translated rule; returns its YAML (static). */
static const char *translate_ok(const char *detection)
{
    static char out[65536];
    struct vg_sigma_result res;
    translate(sigma_doc(detection, "high"), &res);
    if (res.n_skipped)
        fail_msg("skipped: %s", res.skipped[0].reason);
    assert_int_equal(res.n_rules, 1);
    snprintf(out, sizeof out, "%s", res.yaml);
    vg_sigma_result_fini(&res);
    return out;
}

/* The skip reason of a detection block (static). */
static const char *translate_skip(const char *text)
{
    static char reason[400];
    struct vg_sigma_result res;
    translate(text, &res);
    assert_int_equal(res.n_rules, 0);
    assert_int_equal(res.n_skipped, 1);
    snprintf(reason, sizeof reason, "%s", res.skipped[0].reason);
    vg_sigma_result_fini(&res);
    return reason;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

#define assert_has(hay, needle)                                                                    \
    do {                                                                                           \
        if (!strstr((hay), (needle)))                                                              \
            fail_msg("expected `%s` in:\n%s", (needle), (hay));                                    \
    } while (0)

/* ---- values ------------------------------------------------------------------------------ */

static void test_sigma_wildcards_inside_contains_become_regex(void **state)
{
    (void)state;
    const char *y = translate_ok("    selection:\n"
                                 "        cs-uri-query|contains:\n"
                                 "            - '/rapi/filedownload?filter=path:%2F'\n"
                                 "            - '{7*7}'\n"
                                 "            - '*/config/keystore/*.js*'\n"
                                 "    condition: selection\n");
    /* ? is one character, * any run; leading and trailing * of a contains value vanish */
    assert_has(y, "regex: \"/rapi/filedownload.filter=path:%2F|\\\\{7.*7\\\\}|"
                  "/config/keystore/.*\\\\.js\"");
    assert_has(y, "fields: [target], transforms: [], operator: regex, caseless: true");
}

static void test_sigma_escapes_and_windows_paths(void **state)
{
    (void)state;
    /* \* and \? are literal, \\ is one backslash, a backslash before anything else is itself */
    const char *y = translate_ok("    selection:\n"
                                 "        cs-uri-query|contains:\n"
                                 "            - 'a\\*b\\?c'\n"
                                 "            - 'C:\\Users\\Public\\'\n"
                                 "            - 'x\\\\*y'\n"
                                 "    condition: selection\n");
    /* regex a\*b\?c, C:\\Users\\Public\\, x\\.*y; then YAML-escaped */
    assert_has(y, "regex: \"a\\\\*b\\\\?c|C:\\\\\\\\Users\\\\\\\\Public\\\\\\\\|x\\\\\\\\.*y\"");
}

static void test_sigma_modifiers_anchor_and_all(void **state)
{
    (void)state;
    const char *y = translate_ok("    selection:\n"
                                 "        cs-method: 'POST'\n"
                                 "        cs-uri-stem|startswith: '/api/'\n"
                                 "        cs-uri-stem|endswith: '.jsp'\n"
                                 "        cs-user-agent|contains|all:\n"
                                 "            - 'curl'\n"
                                 "            - 'x64'\n"
                                 "        cs-host|re: '^[A-Z]{3}'\n"
                                 "        sc-status: 200\n"
                                 "    condition: selection\n");
    assert_has(y, "fields: [method], transforms: [], operator: regex, caseless: true, regex: "
                  "\"^POST$\"");
    assert_has(y, "fields: [path], transforms: [], operator: regex, caseless: true, regex: "
                  "\"^/api/\"");
    assert_has(y, "regex: \"\\\\.jsp$\"");
    assert_has(y, "fields: [user_agent], transforms: [], operator: regex, caseless: true, regex: "
                  "\"curl\"");
    assert_has(y, "fields: [user_agent], transforms: [], operator: regex, caseless: true, regex: "
                  "\"x64\"");
    /* re is case-sensitive and kept as written */
    assert_has(y, "fields: [host], transforms: [], operator: regex, caseless: false, regex: "
                  "\"^[A-Z]{3}\"");
    assert_has(y, "fields: [status], transforms: [], operator: regex, caseless: true, regex: "
                  "\"^200$\"");
    assert_int_equal(count_of(y, "- {id:"), 1);
    assert_int_equal(count_of(y, "negate"), 0);
}

static void test_sigma_cs_uri_query_reading(void **state)
{
    (void)state;
    /* contains: the whole target; startswith/exact: the target or the query; null: the query */
    const char *y = translate_ok("    sel_a:\n"
                                 "        cs-uri-query|contains: '/ecp/'\n"
                                 "    sel_b:\n"
                                 "        cs-uri-query|startswith: 'cmd='\n"
                                 "    sel_c:\n"
                                 "        cs-uri-query: null\n"
                                 "    condition: sel_a and sel_b and not sel_c\n");
    assert_has(y, "fields: [target], transforms: [], operator: regex, caseless: true, regex: "
                  "\"/ecp/\"");
    assert_has(y, "fields: [target, query], transforms: [], operator: regex, caseless: true, "
                  "regex: \"^cmd=\"");
    /* not null = has a value */
    assert_has(y, "fields: [query], transforms: [], operator: regex, caseless: true, regex: "
                  "\"[^-]|--\"");
}

static void test_sigma_null_is_negated_presence(void **state)
{
    (void)state;
    const char *y = translate_ok("    selection:\n"
                                 "        cs-uri-query|contains: 'cmd=read'\n"
                                 "    filter:\n"
                                 "        cs-referer: null\n"
                                 "        cs-user-agent: ''\n"
                                 "    condition: selection and filter\n");
    assert_has(y, "{fields: [referer], transforms: [], operator: regex, caseless: true, negate: "
                  "true, regex: \"[^-]|--\"}");
    assert_has(y, "{fields: [user_agent], transforms: [], operator: regex, caseless: true, "
                  "negate: true, regex: \"[^-]|--\"}");
    /* the positive condition leads */
    assert_has(y, "fields: [target], transforms: [], operator: regex, caseless: true, regex: "
                  "\"cmd=read\",\n     chain:");
}

static void test_sigma_keywords_search_the_line(void **state)
{
    (void)state;
    const char *y = translate_ok("    keywords:\n"
                                 "        - '${jndi:'\n"
                                 "        - 200\n"
                                 "    all_kw:\n"
                                 "        '|all':\n"
                                 "            - 'POST'\n"
                                 "            - 'SetObject'\n"
                                 "    condition: keywords and all_kw\n");
    assert_has(y, "fields: [line], transforms: [], operator: regex, caseless: true, regex: "
                  "\"\\\\$\\\\{jndi:|200\"");
    assert_has(y, "fields: [line], transforms: [], operator: regex, caseless: true, regex: "
                  "\"POST\"");
    assert_has(y, "fields: [line], transforms: [], operator: regex, caseless: true, regex: "
                  "\"SetObject\"");
}

static void test_sigma_star_alone_means_present(void **state)
{
    (void)state;
    const char *y = translate_ok("    selection:\n"
                                 "        cs-uri-stem|contains: '/x'\n"
                                 "        cs-referer: '*'\n"
                                 "    condition: selection\n");
    assert_has(y, "{fields: [referer], transforms: [], operator: regex, caseless: true, regex: "
                  "\"[^-]|--\"}");
}

/* ---- conditions -------------------------------------------------------------------------- */

static void test_sigma_dnf_one_rule_per_conjunction_sharing_a_group(void **state)
{
    (void)state;
    const char *y = translate_ok("    sel_a:\n        cs-uri-stem|contains: '/a'\n"
                                 "    sel_b:\n        cs-uri-stem|contains: '/b'\n"
                                 "    sel_c:\n        cs-method: 'POST'\n"
                                 "    condition: (sel_a or sel_b) and sel_c\n");
    assert_int_equal(count_of(y, "- {id:"), 2);
    assert_int_equal(count_of(y, "group: \"11111111-2222-3333-4444-555555555555\""), 2);
    /* consecutive ids in the reserved range */
    unsigned long id1 = 0, id2 = 0;
    const char *p = strstr(y, "- {id: ");
    assert_non_null(p);
    id1 = strtoul(p + 7, NULL, 10);
    p = strstr(p + 1, "- {id: ");
    assert_non_null(p);
    id2 = strtoul(p + 7, NULL, 10);
    assert_true(id1 >= VG_SIGMA_ID_BASE);
    assert_int_equal(id2, id1 + 1);
    assert_int_equal(id1 % VG_SIGMA_MAX_CONJ, 0);
}

static void test_sigma_dnf_negation_pushed_to_atoms(void **state)
{
    (void)state;
    /* sel and not (f1 and f2) = (sel and not f1) or (sel and not f2) */
    const char *y = translate_ok("    sel:\n        cs-uri-stem|contains: '/a'\n"
                                 "    f1:\n        cs-method: 'GET'\n"
                                 "    f2:\n        sc-status: 404\n"
                                 "    condition: sel and not (f1 and f2)\n");
    assert_int_equal(count_of(y, "- {id:"), 2);
    assert_int_equal(count_of(y, "negate: true"), 2);
    /* sel and not 1 of filter_* = sel and not f1 and not f2: one rule */
    y = translate_ok("    sel:\n        cs-uri-stem|contains: '/a'\n"
                     "    filter_1:\n        cs-method: 'GET'\n"
                     "    filter_2:\n        sc-status: 404\n"
                     "    condition: sel and not 1 of filter_*\n");
    assert_int_equal(count_of(y, "- {id:"), 1);
    assert_int_equal(count_of(y, "negate: true"), 2);
    /* all of selection_* and a contradiction that drops a conjunction */
    y = translate_ok("    selection_1:\n        cs-uri-stem|contains: '/a'\n"
                     "    selection_2:\n        cs-method: 'GET'\n"
                     "    condition: all of selection_* or (selection_1 and not selection_1)\n");
    assert_int_equal(count_of(y, "- {id:"), 1);
    assert_int_equal(count_of(y, "chain:"), 1);
}

static void test_sigma_list_of_maps_is_or(void **state)
{
    (void)state;
    const char *y = translate_ok("    selection:\n"
                                 "        - cs-uri-stem|contains: '/a'\n"
                                 "          cs-method: 'GET'\n"
                                 "        - cs-uri-stem|contains: '/b'\n"
                                 "    condition: selection\n");
    assert_int_equal(count_of(y, "- {id:"), 2);
}

static void test_sigma_only_negations_lead_with_any_line(void **state)
{
    (void)state;
    const char *y = translate_ok("    filter:\n        cs-method: 'GET'\n"
                                 "    condition: not filter\n");
    assert_has(y, "fields: [line], transforms: [], operator: regex, caseless: false, regex: "
                  "\"^[\\\\s\\\\S]\",\n     chain: [\n       {fields: [method], transforms: [], "
                  "operator: regex, caseless: true, negate: true, regex: \"^GET$\"}]");
}

static void test_sigma_unread_field_is_absent(void **state)
{
    (void)state;
    /* cs-username is not a native field: its branch can never match; the other one stays */
    const char *y = translate_ok("    selection:\n"
                                 "        cs-username: 'anonymous'\n"
                                 "        cs-method: 'POST'\n"
                                 "    keywords:\n        - 'SetObject'\n"
                                 "    condition: selection or keywords\n");
    assert_int_equal(count_of(y, "- {id:"), 1);
    assert_has(y, "regex: \"SetObject\"");
}

/* ---- metadata and escaping --------------------------------------------------------------- */

static void test_sigma_metadata_author_class_score(void **state)
{
    (void)state;
    const char *det = "    selection:\n        cs-uri-query|contains: '${jndi:'\n"
                      "    condition: selection\n";
    const char *y = translate_ok(det);
    assert_has(y, "message: \"Test Rule\", class: code, score: 5, paranoia: 1");
    assert_has(y, "author: \"Jane \\\"JD\\\" Doe\"");
    assert_has(y, "source: \"t.yml\"");
    assert_has(y, "references: [\"sigma:11111111-2222-3333-4444-555555555555\", \"T1190\", "
                  "\"CVE-2021-44228\"]");
    static const struct {
        const char *level;
        const char *score;
    } levels[] = {{"critical", "score: 5"},
                  {"high", "score: 5"},
                  {"medium", "score: 3"},
                  {"low", "score: 2"},
                  {"informational", "score: 0"}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        struct vg_sigma_result res;
        translate(sigma_doc(det, levels[i].level), &res);
        assert_int_equal(res.n_rules, 1);
        assert_has(res.yaml, levels[i].score);
        vg_sigma_result_fini(&res);
    }
}

static void test_sigma_class_from_title(void **state)
{
    (void)state;
    static const struct {
        const char *title, *cls;
    } cases[] = {
        {"SQL Injection Strings In URI", "class: sqli"},
        {"Cross Site Scripting Strings", "class: xss"},
        {"Grafana Path Traversal Exploitation CVE-2021-43798", "class: traversal"},
        {"Apache Spark Shell Command Injection - Weblogs", "class: cmdi"},
        {"Server Side Template Injection Strings", "class: ssti"},
        {"Suspicious User-Agents Related To Recon Tools", "class: tool"},
        {"Source Code Enumeration Detection by Keyword", "class: probe"},
        {"Oracle WebLogic Exploit", "class: code"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "title: %s\nid: 0000000%zu-0000-0000-0000-000000000000\n"
                 "logsource: {category: webserver}\ntags: [attack.t1190]\n"
                 "detection: {s: {cs-uri-stem|contains: x}, condition: s}\nlevel: high\n",
                 cases[i].title, i);
        struct vg_sigma_result res;
        translate(text, &res);
        assert_int_equal(res.n_rules, 1);
        assert_has(res.yaml, cases[i].cls);
        vg_sigma_result_fini(&res);
    }
}

static void test_sigma_output_is_ascii_and_escaped(void **state)
{
    (void)state;
    const char *text = "title: \"Evil \\\"title\\\"\\n  - {id: 1}\\u00e9\\U0001F600\\x01\"\n"
                       "id: 22222222-2222-3333-4444-555555555555\n"
                       "author: \"a\\\\b\"\n"
                       "logsource: {category: webserver}\n"
                       "detection:\n"
                       "    s:\n        cs-uri-stem|contains: \"\\u00e9\\0x\\\"\"\n"
                       "    condition: s\n"
                       "level: high\n";
    struct vg_sigma_result res;
    translate(text, &res);
    assert_int_equal(res.n_rules, 1);
    for (size_t i = 0; i < res.yaml_len; i++)
        assert_true((res.yaml[i] >= 0x20 && res.yaml[i] < 0x7f) || res.yaml[i] == '\n');
    assert_has(res.yaml, "message: \"Evil \\\"title\\\"\\x0a  - {id: 1}\\u00E9\\U0001F600\\x01\"");
    /* é as bytes, NUL as \x00, the quote escaped for the regex and for YAML */
    assert_has(res.yaml, "regex: \"\\\\xc3\\\\xa9\\\\x00x\\\"\"");
    assert_has(res.yaml, "author: \"a\\\\b\"");
    vg_sigma_result_fini(&res);
}

/* ---- skip reasons ------------------------------------------------------------------------ */

static void test_sigma_skip_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *reason;
    } cases[] = {
        {"title: T\nid: x1\nlogsource: {service: apache}\n"
         "detection: {k: [segfault], condition: k}\nlevel: high\n",
         "logsource is not `category: webserver` (service: apache)"},
        {"title: T\nid: x1\nlogsource: {category: proxy}\n"
         "detection: {k: [x], condition: k}\nlevel: high\n",
         "logsource is not `category: webserver` (category: proxy)"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {sc-status: 404}, condition: 's | count() by clientip > 10'}\n"
         "level: high\n",
         "aggregation (`| count() ...`) is not supported"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {sc-status: 404}, timeframe: 10m, condition: s}\nlevel: high\n",
         "`timeframe` (aggregation over time) is not supported"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-uri-query|base64offset|contains: x}, condition: s}\nlevel: high\n",
         "unsupported modifier `base64offset`"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {c-ip|cidr: 10.0.0.0/8}, condition: s}\nlevel: high\n",
         "field `c-ip` is not a Sigma webserver field vigil maps"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-username: admin}, condition: s}\nlevel: high\n",
         "needs field cs-username, which native rules cannot read"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-username: admin}, condition: not s}\nlevel: high\n",
         "the condition holds for every request (it only excludes by field cs-username"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-method: GET}, condition: s and t}\nlevel: high\n",
         "condition names an unknown selection `t`"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-method: GET}, condition: 1 of x*}\nlevel: high\n",
         "condition: no selection matches `x*`"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-method: GET}, condition: (s}\nlevel: high\n",
         "condition: missing `)`"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-method: GET}}\nlevel: high\n",
         "no `condition`"},
        {"title: T\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-method: GET}, condition: s}\nlevel: high\n",
         "the rule has no `id`"},
        {"title: T\nid: x1\nstatus: deprecated\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-method: GET}, condition: s}\nlevel: high\n",
         "status: deprecated"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-method: GET}, condition: s}\nlevel: severe\n",
         "unknown level `severe`"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-host|re: 'a('}, condition: s}\nlevel: high\n",
         "`re` pattern does not compile: missing closing parenthesis"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-host|re: 'a*'}, condition: s}\nlevel: high\n",
         "`re` pattern matches the empty string"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-method: [[GET]]}, condition: s}\nlevel: high\n",
         "a value is a list or a mapping"},
        {"title: T\nid: x1\naction: global\nlogsource: {category: webserver}\n",
         "Sigma rule collections (`action:`) are not supported"},
        {"title: T\nid: x1\nlogsource: {category: webserver}\n"
         "detection: {s: {cs-method: GET}, condition: 2 of s}\nlevel: high\n",
         "condition: `2 of` is not supported (only 1 of / all of)"},
        {"title: [T\n", "YAML error at line"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *r = translate_skip(cases[i].text);
        if (strncmp(r, cases[i].reason, strlen(cases[i].reason)) != 0)
            fail_msg("case %zu: reason `%s`, expected `%s`", i, r, cases[i].reason);
    }
}

static void test_sigma_duplicate_ids_are_skipped(void **state)
{
    (void)state;
    const char *text = sigma_doc("    s:\n        cs-method: GET\n    condition: s\n", "high");
    struct vg_sigma_result res;
    translate(text, &res);
    struct vg_error err;
    assert_int_equal(vg_sigma_translate(&res, (const uint8_t *)text, strlen(text), "u.yml", &err),
                     VG_OK);
    assert_int_equal(res.n_rules, 1);
    assert_int_equal(res.n_skipped, 1);
    assert_has(res.skipped[0].reason, "duplicate Sigma id (already loaded from t.yml)");
    vg_sigma_result_fini(&res);
}

static void test_sigma_condition_too_complex_is_skipped(void **state)
{
    (void)state;
    /* (a1 or a2 or a3 or a4 or a5) and (b1 ...) and (c1 ...): 125 conjunctions > 100 */
    const char *text =
        "title: T\nid: x1\nlogsource: {category: webserver}\n"
        "detection:\n"
        "    a: [{cs-method: a1}, {cs-method: a2}, {cs-method: a3}, {cs-method: a4}, {cs-method: "
        "a5}]\n"
        "    b: [{cs-uri-stem: b1}, {cs-uri-stem: b2}, {cs-uri-stem: b3}, {cs-uri-stem: b4}, "
        "{cs-uri-stem: b5}]\n"
        "    c: [{sc-status: 1}, {sc-status: 2}, {sc-status: 3}, {sc-status: 4}, {sc-status: 5}]\n"
        "    condition: a and b and c\n"
        "level: high\n";
    assert_has(translate_skip(text), "condition too complex");
}

/* ---- loading and detection --------------------------------------------------------------- */

/* Loads the translation of text into a fresh rule set and detector. */
static struct vg_detector *load_detector(const char *text)
{
    struct vg_sigma_result res;
    translate(text, &res);
    struct vg_ruleset *rs;
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st = vg_ruleset_load_yaml(rs, (const uint8_t *)res.yaml, res.yaml_len, "sigma", &err);
    if (st != VG_OK)
        fail_msg("load: %s\n%s", err.message, res.yaml);
    vg_sigma_result_fini(&res);
    struct vg_detector *det;
    st = vg_detector_new(rs, 1, 5, &det, &err);
    if (st != VG_OK)
        fail_msg("compile: %s", err.message);
    return det;
}

/* Score of one request: method, target, status, referer, user agent ("-" = not logged). */
static int score_of(const struct vg_detector *det, const char *method, const char *target,
                    int status, const char *referer, const char *ua)
{
    static char line[2048];
    snprintf(line, sizeof line,
             "203.0.113.7 - - [05/Aug/2026:10:00:00 +0000] \"%s %s HTTP/1.1\" "
             "%d 1234 \"%s\" \"%s\"",
             method, target, status, referer, ua);
    struct vg_request req;
    memset(&req, 0, sizeof req);
    req.bytes = 1234;
    req.line = vg_str_make(line, strlen(line));
    char request[1024];
    snprintf(request, sizeof request, "%s %s HTTP/1.1", method, target);
    const char *rq = strstr(line, request);
    req.request = vg_str_make(rq, strlen(request));
    vg_request_split(req.request, &req);
    req.status = status;
    if (strcmp(referer, "-") != 0)
        req.referer = vg_str_make(strstr(line, referer), strlen(referer));
    if (strcmp(ua, "-") != 0)
        req.user_agent = vg_str_make(strrchr(line, '"') - strlen(ua), strlen(ua));
    struct vg_detect_scratch *s;
    assert_int_equal(vg_detect_scratch_new(det, &s), VG_OK);
    struct vg_verdict v;
    assert_int_equal(vg_detect_request(det, s, &req, &v), VG_OK);
    vg_detect_scratch_free(s);
    return v.score;
}

static void test_sigma_translated_rules_load_and_detect(void **state)
{
    (void)state;
    struct vg_detector *det =
        load_detector(sigma_doc("    selection:\n"
                                "        cs-uri-query|contains:\n"
                                "            - 'cmd=read'\n"
                                "            - '{7*7}'\n"
                                "        cs-method: POST\n"
                                "    filter:\n"
                                "        cs-referer: null\n"
                                "    alt:\n"
                                "        cs-uri-stem|endswith: '/shell.JSP'\n"
                                "    condition: (selection and filter) or alt\n",
                                "high"));
    assert_int_equal(vg_detector_rule_count(det), 2);
    /* case-insensitive, raw, wildcard inside contains */
    assert_int_equal(score_of(det, "POST", "/x?CMD=READ", 200, "-", "Mozilla/5.0"), 5);
    assert_int_equal(score_of(det, "post", "/x?a=%7B7*7%7D&b={7+7}", 200, "-", "curl"), 5);
    /* the referer filter, the method */
    assert_int_equal(score_of(det, "POST", "/x?cmd=read", 200, "http://a/", "Mozilla/5.0"), 0);
    assert_int_equal(score_of(det, "GET", "/x?cmd=read", 200, "-", "Mozilla/5.0"), 0);
    /* the other conjunction; both at once still score once (one group) */
    assert_int_equal(score_of(det, "GET", "/a/shell.jsp", 200, "-", "-"), 5);
    assert_int_equal(score_of(det, "POST", "/a/shell.jsp?cmd=read", 200, "-", "-"), 5);
    assert_int_equal(score_of(det, "GET", "/a/shell.jsp.bak", 200, "-", "-"), 0);
    const struct vg_rule *r = vg_detector_rule(det, 0);
    assert_string_equal(r->author, "Jane \"JD\" Doe");
    assert_string_equal(r->message, "Test Rule");
    vg_detector_free(det);
}

static void test_sigma_status_and_keywords_detect(void **state)
{
    (void)state;
    struct vg_detector *det = load_detector(
        sigma_doc("    selection:\n"
                  "        cs-method: 'GET'\n"
                  "    keywords:\n"
                  "        - 'UNION SELECT'\n"
                  "        - 'union%20select'\n"
                  "    filter_main_status:\n"
                  "        sc-status: 404\n"
                  "    condition: selection and keywords and not 1 of filter_main_*\n",
                  "high"));
    assert_int_equal(score_of(det, "GET", "/x?id=1%20UNION%20SELECT%201", 200, "-", "-"), 5);
    assert_int_equal(score_of(det, "GET", "/x?id=1%20UNION%20SELECT%201", 404, "-", "-"), 0);
    assert_int_equal(score_of(det, "GET", "/x", 200, "-", "sqlmap UNION SELECT"), 5);
    assert_int_equal(score_of(det, "GET", "/x?q=union+select", 200, "-", "-"), 0);
    vg_detector_free(det);
}

/* The shared test set: 87 rules, 85 translated, every translation loads. */
static void test_sigma_shared_rule_set_loads(void **state)
{
    (void)state;
    const char *shared = getenv("VG_SHARED_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/testdata/sigma-webserver/rules", shared ? shared : "../shared");
    FILE *f = fopen(path, "r");
    if (!f) {
        skip();
        return;
    }
    fclose(f);
    struct vg_ruleset *rs;
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    struct vg_sigma_result res;
    vg_sigma_result_init(&res);
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st = vg_sigma_load_path(rs, path, &res, &err);
    if (st != VG_OK)
        fail_msg("%s", err.message);
    assert_int_equal(res.n_files, 87);
    assert_int_equal(res.n_rules + res.n_skipped, 87);
    assert_true(res.n_rules >= 85);
    assert_int_equal(vg_ruleset_count(rs), res.n_native);
    struct vg_detector *det;
    st = vg_detector_new(rs, 1, 5, &det, &err);
    if (st != VG_OK)
        fail_msg("compile: %s", err.message);
    vg_detector_free(det);
    vg_sigma_result_fini(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigma_wildcards_inside_contains_become_regex),
        cmocka_unit_test(test_sigma_escapes_and_windows_paths),
        cmocka_unit_test(test_sigma_modifiers_anchor_and_all),
        cmocka_unit_test(test_sigma_cs_uri_query_reading),
        cmocka_unit_test(test_sigma_null_is_negated_presence),
        cmocka_unit_test(test_sigma_keywords_search_the_line),
        cmocka_unit_test(test_sigma_star_alone_means_present),
        cmocka_unit_test(test_sigma_dnf_one_rule_per_conjunction_sharing_a_group),
        cmocka_unit_test(test_sigma_dnf_negation_pushed_to_atoms),
        cmocka_unit_test(test_sigma_list_of_maps_is_or),
        cmocka_unit_test(test_sigma_only_negations_lead_with_any_line),
        cmocka_unit_test(test_sigma_unread_field_is_absent),
        cmocka_unit_test(test_sigma_metadata_author_class_score),
        cmocka_unit_test(test_sigma_class_from_title),
        cmocka_unit_test(test_sigma_output_is_ascii_and_escaped),
        cmocka_unit_test(test_sigma_skip_reasons),
        cmocka_unit_test(test_sigma_duplicate_ids_are_skipped),
        cmocka_unit_test(test_sigma_condition_too_complex_is_skipped),
        cmocka_unit_test(test_sigma_translated_rules_load_and_detect),
        cmocka_unit_test(test_sigma_status_and_keywords_detect),
        cmocka_unit_test(test_sigma_shared_rule_set_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
