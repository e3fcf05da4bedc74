/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_test.c: unit tests of the detect stage (cmocka): the YAML rule loader (every invalid
 * input table-driven, with the line it must name), rule files from a directory, compilation
 * errors, the PCRE2 confirmation of prefilter rules, field restriction, raw and decoded views,
 * scoring, hit truncation, exact spans, paranoia filtering, the provenance hash, out-of-memory
 * during loading and compiling, and every example of the built-in rule set.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/detect.h"
#include "decode/decode.h"
#include "detect/detect_builtin.h"

/* ---- helpers ----------------------------------------------------------------------------- */

/* A request built from a target (and optional headers), as vg_detector_check_examples does. */
struct req_buf {
    char line[4096];
    struct vg_request req;
};

static const struct vg_request *make_req(struct req_buf *b, const char *method, const char *target,
                                         const char *ua)
{
    int n = snprintf(b->line, sizeof b->line, "%s %s HTTP/1.1", method, target);
    assert_true(n > 0 && (size_t)n < sizeof b->line);
    memset(&b->req, 0, sizeof b->req);
    b->req.status = -1;
    b->req.bytes = -1;
    b->req.line = vg_str_make(b->line, (size_t)n);
    b->req.request = b->req.line;
    vg_request_split(b->req.request, &b->req);
    if (ua)
        b->req.user_agent = vg_str_make(ua, strlen(ua));
    return &b->req;
}

/* Loads YAML text and compiles it at paranoia p; fails the test on any error. */
static struct vg_detector *compile_yaml(const char *yaml, int paranoia)
{
    struct vg_ruleset *rs;
    struct vg_error err = {0};
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    vg_status st = vg_ruleset_load_yaml(rs, (const uint8_t *)yaml, strlen(yaml), "t.yaml", &err);
    if (st != VG_OK)
        fail_msg("load: %s", err.message);
    struct vg_detector *det;
    st = vg_detector_new(rs, paranoia, 5, &det, &err);
    if (st != VG_OK)
        fail_msg("compile: %s", err.message);
    return det;
}

/* Index of the compiled rule with this id, or -1. */
static int rule_index(const struct vg_detector *det, uint32_t id)
{
    for (uint32_t i = 0; i < vg_detector_rule_count(det); i++)
        if (vg_detector_rule(det, i)->id == id)
            return (int)i;
    return -1;
}

/* The hit of rule `id` in v, or NULL. */
static const struct vg_hit *hit_of(const struct vg_detector *det, const struct vg_verdict *v,
                                   uint32_t id)
{
    int i = rule_index(det, id);
    for (unsigned k = 0; k < v->n_hits; k++)
        if ((int)v->hits[k].rule == i)
            return &v->hits[k];
    return NULL;
}

/*
 * Runs one request through det and returns the verdict (spans filled when spans is true). Hits
 * borrow from the scratch, so it stays alive until the next call (or detect_done).
 */
static struct vg_detect_scratch *last_scratch;

static void detect_done(void)
{
    vg_detect_scratch_free(last_scratch);
    last_scratch = NULL;
}

static void detect(const struct vg_detector *det, const struct vg_request *req,
                   struct vg_verdict *v, bool spans)
{
    detect_done();
    assert_int_equal(vg_detect_scratch_new(det, &last_scratch), VG_OK);
    assert_int_equal(vg_detect_request(det, last_scratch, req, v), VG_OK);
    if (spans)
        vg_detect_spans(det, last_scratch, v);
}

static bool fires(const struct vg_detector *det, uint32_t id, const char *target, const char *ua)
{
    struct req_buf b;
    struct vg_verdict v;
    detect(det, make_req(&b, "GET", target, ua), &v, false);
    return hit_of(det, &v, id) != NULL;
}

/* ---- names ------------------------------------------------------------------------------- */

static void test_names_round_trip_and_reject_unknown(void **state)
{
    (void)state;
    for (int c = 0; c < VG_CLASS_COUNT; c++) {
        enum vg_class back;
        assert_non_null(vg_class_name((enum vg_class)c));
        assert_true(vg_class_parse(vg_class_name((enum vg_class)c), &back));
        assert_int_equal(back, c);
    }
    for (int f = 0; f < VG_F_COUNT; f++) {
        enum vg_field back;
        assert_true(vg_field_parse(vg_field_name((enum vg_field)f), &back));
        assert_int_equal(back, f);
    }
    enum vg_class c;
    enum vg_field f;
    assert_false(vg_class_parse("SQLI", &c));
    assert_false(vg_class_parse("", &c));
    assert_false(vg_class_parse(NULL, &c));
    assert_false(vg_field_parse("cookies", &f));
    assert_null(vg_class_name(VG_CLASS_COUNT));
    assert_null(vg_field_name(VG_F_COUNT));
    assert_string_equal(vg_transform_name(VG_T_RAW), "raw");
    assert_null(vg_transform_name(VG_T_COUNT));
}

/* ---- loader ------------------------------------------------------------------------------ */

#define RULE_HEAD "rules:\n  - id: 1\n    message: m\n    class: sqli\n    severity: critical\n"

struct bad_yaml {
    const char *name;
    const char *yaml;
    size_t line;         /* line err must name */
    const char *needle;  /* text err.message must contain */
};

static const struct bad_yaml bad_yamls[] = {
    {"unknown key", RULE_HEAD "    regex: x\n    colour: red\n", 7, "unknown key `colour`"},
    {"duplicate id in file",
     RULE_HEAD "    regex: x\n  - id: 1\n    message: m\n    class: xss\n    score: 3\n"
               "    regex: y\n",
     7, "duplicate rule id 1"},
    {"bad class", "rules:\n  - id: 2\n    message: m\n    class: worm\n    score: 1\n    regex: x\n",
     4, "unknown class `worm`"},
    {"missing regex", RULE_HEAD, 2, "no `regex`"},
    {"bad severity",
     "rules:\n  - id: 3\n    message: m\n    class: xss\n    severity: fatal\n    regex: x\n", 5,
     "unknown severity `fatal`"},
    {"empty pattern", RULE_HEAD "    regex: ''\n", 6, "`regex` may not be empty"},
    {"missing id", "rules:\n  - message: m\n    class: xss\n    score: 1\n    regex: x\n", 2,
     "no `id`"},
    {"id zero", "rules:\n  - id: 0\n    message: m\n    class: xss\n    score: 1\n    regex: x\n",
     2, "`id` is out of range"},
    {"id not a number",
     "rules:\n  - id: 12a\n    message: m\n    class: xss\n    score: 1\n    regex: x\n", 2,
     "`id` must be an integer"},
    {"missing message", "rules:\n  - id: 4\n    class: xss\n    score: 1\n    regex: x\n", 2,
     "no `message`"},
    {"missing class", "rules:\n  - id: 4\n    message: m\n    score: 1\n    regex: x\n", 2,
     "no `class`"},
    {"no severity nor score", "rules:\n  - id: 4\n    message: m\n    class: xss\n    regex: x\n",
     2, "neither `severity` nor `score`"},
    {"severity and score", RULE_HEAD "    score: 2\n    regex: x\n", 2, "both `severity`"},
    {"score out of range", "rules:\n  - id: 4\n    message: m\n    class: xss\n    score: 5000\n"
                           "    regex: x\n", 5, "`score` is out of range"},
    {"paranoia out of range", RULE_HEAD "    paranoia: 5\n    regex: x\n", 6, "`paranoia`"},
    {"bad field", RULE_HEAD "    fields: [args, colour]\n    regex: x\n", 6,
     "unknown field `colour`"},
    {"fields not a list", RULE_HEAD "    fields: args\n    regex: x\n", 6, "must be a list"},
    {"empty fields", RULE_HEAD "    fields: []\n    regex: x\n", 6, "may not be empty"},
    {"bad transform", RULE_HEAD "    transform: lower\n    regex: x\n", 6, "unknown transform"},
    {"bad caseless", RULE_HEAD "    caseless: maybe\n    regex: x\n", 6, "true or false"},
    {"duplicate key", RULE_HEAD "    regex: x\n    regex: y\n", 7, "duplicate key `regex`"},
    {"regex not a string", RULE_HEAD "    regex: [a, b]\n", 6, "`regex` must be a string"},
    {"NUL in regex", RULE_HEAD "    regex: \"a\\0b\"\n", 6, "NUL byte"},
    {"bad example key", RULE_HEAD "    regex: x\n    examples:\n      match: [{url: /}]\n", 8,
     "unknown key `url`"},
    {"examples not a mapping", RULE_HEAD "    regex: x\n    examples: [/a]\n", 7,
     "`examples` must be a mapping"},
    {"bad example method", RULE_HEAD "    regex: x\n    examples:\n      match: [{target: /, method: \"G T\"}]\n",
     8, "one printable word"},
    {"top level not a mapping", "- id: 1\n", 1, "mapping with a `rules:` list"},
    {"no rules key", "other: 1\n", 1, "unknown key `other`"},
    {"rules not a list", "rules: 3\n", 1, "`rules` must be a list"},
    {"rule not a mapping", "rules:\n  - 3\n", 2, "must be a mapping"},
    {"empty file", "", 0, "empty rule file"},
    {"yaml syntax error", "rules: [\n  - id: 1\n", 2, "YAML error"},
    {"alias", "rules:\n  - &r\n    id: 1\n    message: m\n    class: xss\n    score: 1\n"
              "    regex: x\n  - *r\n",
     2, "aliases are not supported"},
    {"second document", "rules: []\n---\nrules: []\n", 3, "more than one YAML document"},
    {"unknown operator", RULE_HEAD "    operator: worm\n", 6, "unknown operator `worm`"},
    {"operator and regex", RULE_HEAD "    operator: sqli\n    regex: x\n", 2,
     "both `operator: sqli` and `regex`"},
    {"operator and caseless", RULE_HEAD "    operator: xss\n    caseless: false\n", 2,
     "`caseless` does not apply to `operator: xss`"},
    {"regex operator without regex", RULE_HEAD "    operator: regex\n", 2, "no `regex`"},
};

static void test_loader_rejects_invalid_files_naming_the_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < VG_ARRAY_LEN(bad_yamls); i++) {
        const struct bad_yaml *c = &bad_yamls[i];
        struct vg_ruleset *rs;
        assert_int_equal(vg_ruleset_new(&rs), VG_OK);
        struct vg_error err = {0};
        vg_status st =
            vg_ruleset_load_yaml(rs, (const uint8_t *)c->yaml, strlen(c->yaml), "bad.yaml", &err);
        if (st != VG_E_RULES || err.line != c->line || !strstr(err.message, c->needle) ||
            strcmp(err.where, "bad.yaml") != 0)
            fail_msg("case '%s': status %d line %zu where '%s' message '%s'", c->name, st,
                     err.line, err.where, err.message);
        assert_int_equal(vg_ruleset_count(rs), 0);
        vg_ruleset_free(rs);
    }
}

/*
 * Lexer rules (operator: sqli | xss) fire on the decoded view of their fields only, with the
 * span the lexer reports (kept by vg_detect_spans) and a note naming what it saw; they count
 * once per request like regex rules and mix with them in one rule set.
 */
static void test_lexer_rules_fire_with_exact_span_and_note(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        "  - {id: 1, message: s, class: sqli, severity: critical, operator: sqli}\n"
        "  - {id: 2, message: x, class: xss, severity: critical, operator: xss,\n"
        "     fields: [args, user_agent]}\n"
        "  - {id: 3, message: r, class: sqli, score: 1, regex: 'union'}\n",
        1);
    assert_int_equal(vg_detector_rule(det, 0)->op, VG_OP_SQLI);
    assert_null(vg_detector_rule(det, 0)->regex);
    struct vg_detect_scratch *s;
    assert_int_equal(vg_detect_scratch_new(det, &s), VG_OK);
    struct req_buf b;
    struct vg_verdict v;

    assert_int_equal(vg_detect_request(det, s, make_req(&b, "GET", "/p?a=1&id=x%27+or+1%3D1--", NULL),
                                       &v), VG_OK);
    assert_int_equal(v.score, 5);
    assert_int_equal(v.n_hits, 1);
    assert_int_equal(v.hits[0].rule, 0);
    vg_detect_spans(det, s, &v);
    struct vg_str m = vg_str_make(v.hits[0].subject.p + v.hits[0].match_start,
                                  v.hits[0].match_end - v.hits[0].match_start);
    assert_true(vg_str_eq_lit(m, "or 1=1--"));
    assert_non_null(v.hits[0].note);
    assert_string_equal(v.hits[0].note, "sqli single-quote tautology &nonc");
    assert_true(vg_str_eq_lit(v.hits[0].name, "id"));

    /* both lexers and the regex rule in one request; each rule once */
    assert_int_equal(vg_detect_request(det, s, make_req(&b, "GET",
        "/p?q=-1+union+select+1,2&r=%3Cscript%3Ealert(1)%3C/script%3E&t=1+union+select+3", NULL),
        &v), VG_OK);
    assert_int_equal(v.score, 11);
    assert_int_equal(v.n_hits, 3);
    assert_null(v.hits[2].note);
    assert_string_equal(v.hits[1].note, "xss text tag script");

    /* fields: the xss rule reads the user agent, the sqli rule does not */
    assert_int_equal(vg_detect_request(det, s, make_req(&b, "GET", "/",
        "x' or 1=1-- <svg/onload=alert(1)>"), &v), VG_OK);
    assert_int_equal(v.n_hits, 1);
    assert_int_equal(v.hits[0].rule, 1);
    assert_int_equal(v.hits[0].field, VG_F_USER_AGENT);

    /* benign values, twice (the second time from the memo) */
    for (int k = 0; k < 2; k++) {
        assert_int_equal(vg_detect_request(det, s, make_req(&b, "GET",
            "/search?q=it%27s+a+rock%27n%27roll+night&x=%3Cb%3Ebold%3C/b%3E", NULL), &v), VG_OK);
        assert_int_equal(v.score, 0);
    }
    /* an injection seen before answers from the memo with the same note */
    for (int k = 0; k < 2; k++) {
        assert_int_equal(vg_detect_request(det, s, make_req(&b, "GET", "/p?id=1+AND+SLEEP(5)", NULL),
                                           &v), VG_OK);
        assert_int_equal(v.n_hits, 1);
        assert_string_equal(v.hits[0].note, "sqli as-is function &f(n)");
    }
    vg_detect_scratch_free(s);
    vg_detector_free(det);
}

/* The provenance hash names a lexer rule's operator (and no pattern), so changing it shows. */
static void test_hash_covers_the_operator(void **state)
{
    (void)state;
    struct vg_detector *a = compile_yaml(
        "rules:\n  - {id: 1, message: m, class: sqli, severity: critical, operator: sqli}\n", 1);
    struct vg_detector *b = compile_yaml(
        "rules:\n  - {id: 1, message: m, class: sqli, severity: critical, operator: xss}\n", 1);
    assert_string_not_equal(vg_detector_hash(a), vg_detector_hash(b));
    vg_detector_free(a);
    vg_detector_free(b);
}

static void test_loader_rejects_id_already_in_the_set_and_keeps_it_intact(void **state)
{
    (void)state;
    const char *a = RULE_HEAD "    regex: x\n";
    const char *b = "rules:\n  - id: 9\n    message: m\n    class: xss\n    score: 2\n"
                    "    regex: y\n  - id: 1\n    message: m\n    class: xss\n    score: 2\n"
                    "    regex: z\n";
    struct vg_ruleset *rs;
    struct vg_error err = {0};
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    assert_int_equal(vg_ruleset_load_yaml(rs, (const uint8_t *)a, strlen(a), "a.yaml", &err),
                     VG_OK);
    assert_int_equal(vg_ruleset_load_yaml(rs, (const uint8_t *)b, strlen(b), "b.yaml", &err),
                     VG_E_RULES);
    assert_non_null(strstr(err.message, "already defined at a.yaml:2"));
    assert_int_equal(err.line, 7);
    assert_int_equal(vg_ruleset_count(rs), 1); /* rule 9 was not appended either */
    vg_ruleset_free(rs);
}

static void test_loader_fills_every_rule_field(void **state)
{
    (void)state;
    const char *y = "rules:\n"
                    "  - id: 77\n"
                    "    message: \"full rule\"\n"
                    "    class: traversal\n"
                    "    score: 7\n"
                    "    paranoia: 3\n"
                    "    fields: [path, user_agent]\n"
                    "    transform: raw\n"
                    "    regex: 'a\\.b'\n"
                    "    caseless: false\n"
                    "    references: [CWE-22, CAPEC-126]\n"
                    "    examples:\n"
                    "      match: ['/a.b', {target: /x, method: POST, user_agent: a.b, referer: r}]\n"
                    "      no_match: ['/ab']\n"
                    "  - id: 78\n"
                    "    message: defaults\n"
                    "    class: probe\n"
                    "    severity: notice\n"
                    "    regex: q\n";
    struct vg_ruleset *rs;
    struct vg_error err = {0};
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    assert_int_equal(vg_ruleset_load_yaml(rs, (const uint8_t *)y, strlen(y), "f.yaml", &err),
                     VG_OK);
    assert_int_equal(vg_ruleset_count(rs), 2);
    const struct vg_rule *r = vg_ruleset_get(rs, 0);
    assert_int_equal(r->id, 77);
    assert_string_equal(r->message, "full rule");
    assert_int_equal(r->class_, VG_CLASS_TRAVERSAL);
    assert_int_equal(r->score, 7);
    assert_int_equal(r->paranoia, 3);
    assert_int_equal(r->fields, (1u << VG_F_PATH) | (1u << VG_F_USER_AGENT));
    assert_int_equal(r->transform, VG_T_RAW);
    assert_string_equal(r->regex, "a\\.b");
    assert_false(r->caseless);
    assert_int_equal(r->n_refs, 2);
    assert_string_equal(r->refs[1], "CAPEC-126");
    assert_string_equal(r->source, "f.yaml:2");
    assert_int_equal(r->n_examples, 3);
    assert_true(r->examples[0].must_match);
    assert_string_equal(r->examples[0].target, "/a.b");
    assert_null(r->examples[0].method);
    assert_string_equal(r->examples[1].method, "POST");
    assert_string_equal(r->examples[1].user_agent, "a.b");
    assert_string_equal(r->examples[1].referer, "r");
    assert_false(r->examples[2].must_match);
    r = vg_ruleset_get(rs, 1);
    assert_int_equal(r->score, 2); /* notice */
    assert_int_equal(r->paranoia, 1);
    assert_int_equal(r->fields, 1u << VG_F_ARGS);
    assert_int_equal(r->transform, VG_T_DECODED);
    assert_true(r->caseless);
    assert_null(vg_ruleset_get(rs, 2));
    vg_ruleset_free(rs);
}

static void test_loader_reads_a_directory_in_name_order(void **state)
{
    (void)state;
    char dir[] = "/tmp/vg_detect_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    const struct {
        const char *name;
        const char *text;
    } files[] = {
        {"b.yml", "rules:\n  - id: 20\n    message: b\n    class: xss\n    score: 1\n    regex: b\n"},
        {"a.yaml", "rules:\n  - id: 10\n    message: a\n    class: xss\n    score: 1\n    regex: a\n"},
        {"notes.txt", "not yaml at all: [\n"},
        {".hidden.yaml", "broken: [\n"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(files[i].text, f);
        fclose(f);
    }
    struct vg_ruleset *rs;
    struct vg_error err = {0};
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    assert_int_equal(vg_ruleset_load_path(rs, dir, &err), VG_OK);
    assert_int_equal(vg_ruleset_count(rs), 2);
    assert_int_equal(vg_ruleset_get(rs, 0)->id, 10); /* a.yaml before b.yml */
    assert_int_equal(vg_ruleset_get(rs, 1)->id, 20);
    assert_non_null(strstr(vg_ruleset_get(rs, 0)->source, "/a.yaml:2"));

    /* A single file works too; a bad file in a directory leaves the set as it was. */
    snprintf(path, sizeof path, "%s/c.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("rules:\n  - id: 30\n    message: c\n    class: xss\n    score: 1\n    regex: c\n"
          "    colour: red\n",
          f);
    fclose(f);
    struct vg_ruleset *rs2;
    assert_int_equal(vg_ruleset_new(&rs2), VG_OK);
    assert_int_equal(vg_ruleset_load_path(rs2, dir, &err), VG_E_RULES);
    assert_int_equal(vg_ruleset_count(rs2), 0);
    assert_non_null(strstr(err.where, "c.yaml"));
    assert_int_equal(err.line, 7);
    snprintf(path, sizeof path, "%s/b.yml", dir);
    assert_int_equal(vg_ruleset_load_path(rs2, path, &err), VG_OK);
    assert_int_equal(vg_ruleset_count(rs2), 1);
    snprintf(path, sizeof path, "%s/missing.yaml", dir);
    assert_int_equal(vg_ruleset_load_path(rs2, path, &err), VG_E_IO);
    vg_ruleset_free(rs2);
    vg_ruleset_free(rs);

    const char *names[] = {"a.yaml", "b.yml", "c.yaml", "notes.txt", ".hidden.yaml"};
    for (size_t i = 0; i < VG_ARRAY_LEN(names); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- compilation ------------------------------------------------------------------------- */

struct bad_regex {
    const char *regex;
    const char *needle;
};

static void test_compile_rejects_bad_patterns_naming_the_rule(void **state)
{
    (void)state;
    static const struct bad_regex cases[] = {
        {"a(b", "rule 4242 (t.yaml:2): pattern does not compile"},
        {"x{2,1}", "rule 4242 (t.yaml:2): pattern does not compile"},
        {"(?<!a+)b", "rule 4242 (t.yaml:2): pattern does not compile"},
        {"a*", "rule 4242 (t.yaml:2): pattern matches the empty string"},
        {"\\b", "rule 4242 (t.yaml:2)"},
        {"x?", "rule 4242 (t.yaml:2): pattern matches the empty string"},
        {"(?:)", "rule 4242 (t.yaml:2): pattern matches the empty string"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        char y[512];
        snprintf(y, sizeof y,
                 "rules:\n  - id: 4242\n    message: m\n    class: xss\n    score: 1\n"
                 "    regex: '%s'\n",
                 cases[i].regex);
        struct vg_ruleset *rs;
        struct vg_error err = {0};
        assert_int_equal(vg_ruleset_new(&rs), VG_OK);
        assert_int_equal(vg_ruleset_load_yaml(rs, (const uint8_t *)y, strlen(y), "t.yaml", &err),
                         VG_OK);
        struct vg_detector *det = (struct vg_detector *)&err; /* must be reset to NULL */
        vg_status st = vg_detector_new(rs, 1, 5, &det, &err);
        if (st != VG_E_REGEX || !strstr(err.message, cases[i].needle))
            fail_msg("regex '%s': status %d message '%s'", cases[i].regex, st, err.message);
        assert_null(det);
    }
}

static void test_compile_rejects_bad_arguments_and_consumes_the_set(void **state)
{
    (void)state;
    struct vg_ruleset *rs;
    struct vg_detector *det;
    struct vg_error err = {0};
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    assert_int_equal(vg_detector_new(rs, 0, 5, &det, &err), VG_E_INVAL);
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    assert_int_equal(vg_detector_new(rs, 5, 5, &det, &err), VG_E_INVAL);
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    assert_int_equal(vg_detector_new(rs, 1, 0, &det, &err), VG_E_INVAL);
    /* An empty rule set is a valid (silent) detector. */
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    assert_int_equal(vg_detector_new(rs, 1, 5, &det, &err), VG_OK);
    assert_int_equal(vg_detector_rule_count(det), 0);
    struct req_buf b;
    struct vg_verdict v;
    detect(det, make_req(&b, "GET", "/?q=%27+or+1=1--", NULL), &v, true);
    assert_int_equal(v.score, 0);
    assert_int_equal(v.n_hits, 0);
    detect_done();
    vg_detector_free(det);
    vg_detector_free(NULL);
    vg_detect_scratch_free(NULL);
    vg_ruleset_free(NULL);
}

/* ---- matching ---------------------------------------------------------------------------- */

static void test_prefilter_rule_is_confirmed_by_pcre2(void **state)
{
    (void)state;
    /* A backreference and a lookahead: Vectorscan can only prefilter these. */
    const char *y = "rules:\n"
                    "  - id: 1\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: '([''\"])x\\1'\n"
                    "  - id: 2\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: 'foo(?=bar)'\n";
    struct vg_detector *det = compile_yaml(y, 1);

    /* test_prefilter_form_really_matches_what_pcre2_rejects shows that Vectorscan's prefilter
       form matches the first subject of each pair below: only PCRE2 can reject it. */
    assert_false(fires(det, 1, "/?q=%27x%22", NULL));  /* 'x"  : prefilter only */
    assert_true(fires(det, 1, "/?q=%27x%27", NULL));   /* 'x'  : exact */
    assert_true(fires(det, 1, "/?q=%22x%22", NULL));   /* "x"  : exact */
    assert_false(fires(det, 2, "/?q=foobaz", NULL));
    assert_true(fires(det, 2, "/?q=foobar", NULL));
    detect_done();
    vg_detector_free(det);
}

static void test_rule_vectorscan_cannot_prefilter_runs_with_pcre2_alone(void **state)
{
    (void)state;
    /* \K and recursion are beyond even Vectorscan's prefilter mode. */
    const char *y = "rules:\n"
                    "  - id: 1\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: 'ab\\Kc'\n"
                    "  - id: 2\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: '<(?:[^<>]|(?R))*>'\n    fields: [user_agent]\n";
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *ce = NULL;
    assert_int_not_equal(hs_expression_info("ab\\Kc", HS_FLAG_PREFILTER, &info, &ce),
                         HS_SUCCESS);
    hs_free_compile_error(ce);
    struct vg_detector *det = compile_yaml(y, 1);
    assert_false(fires(det, 1, "/?q=xacx", NULL));
    assert_false(fires(det, 2, "/", "a <b d"));
    struct req_buf b;
    struct vg_verdict v;
    detect(det, make_req(&b, "GET", "/?q=xabcx", "a <b <c> d>"), &v, true);
    const struct vg_hit *h = hit_of(det, &v, 1);
    assert_non_null(h);
    assert_int_equal(h->match_start, 3); /* \K moved the start */
    assert_int_equal(h->match_end, 4);
    h = hit_of(det, &v, 2);
    assert_non_null(h);
    assert_int_equal(h->match_start, 2);
    assert_int_equal(h->match_end, 11);
    detect_done();
    vg_detector_free(det);
}

static int count_match(unsigned id, unsigned long long from, unsigned long long to,
                       unsigned flags, void *ctx)
{
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    ++*(int *)ctx;
    return 0;
}

static void test_prefilter_form_really_matches_what_pcre2_rejects(void **state)
{
    (void)state;
    const char *exprs[] = {"(['\"])x\\1", "foo(?=bar)"};
    const char *subjects[] = {"'x\"", "foobaz"};
    for (int i = 0; i < 2; i++) {
        hs_database_t *db = NULL;
        hs_compile_error_t *ce = NULL;
        /* Not accepted exactly ... */
        assert_int_not_equal(hs_compile(exprs[i], 0, HS_MODE_BLOCK, NULL, &db, &ce), HS_SUCCESS);
        hs_free_compile_error(ce);
        /* ... but as a prefilter, which matches the subject the exact pattern rejects. */
        assert_int_equal(
            hs_compile(exprs[i], HS_FLAG_PREFILTER, HS_MODE_BLOCK, NULL, &db, &ce), HS_SUCCESS);
        hs_scratch_t *sc = NULL;
        assert_int_equal(hs_alloc_scratch(db, &sc), HS_SUCCESS);
        int n = 0;
        assert_int_equal(
            hs_scan(db, subjects[i], (unsigned)strlen(subjects[i]), 0, sc, count_match, &n),
            HS_SUCCESS);
        assert_true(n > 0);
        hs_free_scratch(sc);
        hs_free_database(db);
    }
}

static void test_rule_sees_only_its_fields(void **state)
{
    (void)state;
    const char *y = "rules:\n"
                    "  - id: 1\n    message: m\n    class: tool\n    score: 5\n"
                    "    fields: [user_agent]\n    regex: 'evilscan'\n"
                    "  - id: 2\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: 'evilscan'\n"
                    "  - id: 3\n    message: m\n    class: probe\n    score: 5\n"
                    "    fields: [path]\n    regex: '/secret$'\n"
                    "  - id: 4\n    message: m\n    class: xss\n    score: 5\n"
                    "    fields: [args_names]\n    regex: '^evil'\n";
    struct vg_detector *det = compile_yaml(y, 1);
    assert_true(fires(det, 1, "/", "evilscan/1.0"));
    assert_false(fires(det, 1, "/?q=evilscan", "Mozilla/5.0"));
    assert_true(fires(det, 2, "/?q=evilscan", NULL));
    assert_false(fires(det, 2, "/evilscan", "evilscan/1.0")); /* path and UA are not args */
    assert_true(fires(det, 3, "/a/secret?x=1", NULL));
    assert_false(fires(det, 3, "/?f=/secret", NULL));
    assert_true(fires(det, 4, "/?a=1&evilname=2", NULL));
    assert_false(fires(det, 4, "/?a=evilvalue", NULL));

    /* The hit says where: field, argument name and the subject. */
    struct req_buf b;
    struct vg_verdict v;
    detect(det, make_req(&b, "GET", "/p?x=1&q=an+evilscan+here", NULL), &v, true);
    const struct vg_hit *h = hit_of(det, &v, 2);
    assert_non_null(h);
    assert_int_equal(h->field, VG_F_ARGS);
    assert_true(vg_str_eq_lit(h->name, "q"));
    assert_true(vg_str_eq_lit(h->subject, "an evilscan here"));
    detect_done();
    vg_detector_free(det);
}

static void test_body_arguments_are_scanned_only_for_form_bodies(void **state)
{
    (void)state;
    const char *y = "rules:\n"
                    "  - id: 1\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: '^payload$'\n"
                    "  - id: 2\n    message: m\n    class: sqli\n    score: 5\n"
                    "    fields: [body]\n    regex: 'q=payload'\n";
    struct vg_detector *det = compile_yaml(y, 1);
    struct req_buf b;
    struct vg_verdict v;
    const char *types[] = {NULL, "application/x-www-form-urlencoded; charset=UTF-8",
                           "application/json"};
    const bool want_args[] = {true, true, false};
    for (int i = 0; i < 3; i++) {
        struct vg_request *req = (struct vg_request *)make_req(&b, "POST", "/submit", NULL);
        req->body = VG_STR_LIT("a=1&q=payload");
        if (types[i])
            req->content_type = vg_str_make(types[i], strlen(types[i]));
        detect(det, req, &v, false);
        assert_int_equal(hit_of(det, &v, 1) != NULL, want_args[i]);
        assert_non_null(hit_of(det, &v, 2)); /* the whole body, whatever its type */
    }
    detect_done();
    vg_detector_free(det);
}

static void test_raw_and_decoded_views_see_different_bytes(void **state)
{
    (void)state;
    const char *y = "rules:\n"
                    "  - id: 1\n    message: decoded\n    class: sqli\n    score: 5\n"
                    "    regex: \"' or 1=1\"\n"
                    "  - id: 2\n    message: raw\n    class: sqli\n    score: 5\n"
                    "    transform: raw\n    regex: \"' or 1=1\"\n"
                    "  - id: 3\n    message: raw encoding\n    class: traversal\n    score: 5\n"
                    "    transform: raw\n    regex: '%2527'\n";
    struct vg_detector *det = compile_yaml(y, 1);
    /* Double-encoded: %2527 -> %27 -> ' only in the decoded view. */
    const char *target = "/?q=x%2527%20or%201=1";
    assert_true(fires(det, 1, target, NULL));
    assert_false(fires(det, 2, target, NULL));
    assert_true(fires(det, 3, target, NULL));
    struct req_buf b;
    struct vg_verdict v;
    detect(det, make_req(&b, "GET", target, NULL), &v, true);
    assert_true(v.decode_flags & VG_DEC_DOUBLE);
    const struct vg_hit *h = hit_of(det, &v, 1);
    assert_int_equal(h->transform, VG_T_DECODED);
    assert_true(vg_str_eq_lit(h->subject, "x' or 1=1"));
    h = hit_of(det, &v, 3);
    assert_int_equal(h->transform, VG_T_RAW);
    assert_true(vg_str_eq_lit(h->subject, "x%2527%20or%201=1"));
    /* The raw view keeps every encoding, even a single one and '+'. */
    assert_true(fires(det, 1, "/?q=x'+or+1=1", NULL));
    assert_false(fires(det, 2, "/?q=x'+or+1=1", NULL));
    assert_false(fires(det, 3, "/?q=x%27+or+1=1", NULL));
    detect_done();
    vg_detector_free(det);
}

static void test_score_threshold_and_classes(void **state)
{
    (void)state;
    const char *y = "rules:\n"
                    "  - id: 1\n    message: m\n    class: sqli\n    severity: critical\n"
                    "    regex: 'union'\n"
                    "  - id: 2\n    message: m\n    class: xss\n    severity: notice\n"
                    "    regex: '<b>'\n"
                    "  - id: 3\n    message: m\n    class: tool\n    score: 11\n"
                    "    fields: [user_agent]\n    regex: 'scanner'\n"
                    "  - id: 4\n    message: m\n    class: sqli\n    severity: warning\n"
                    "    fields: [args, query]\n    regex: 'union'\n";
    struct vg_detector *det = compile_yaml(y, 1);
    assert_int_equal(vg_detector_threshold(det), 5);
    struct req_buf b;
    struct vg_verdict v;
    /* Rule 1 fires in two arguments and counts once; rule 4 fires in args and query, once. */
    detect(det, make_req(&b, "GET", "/?a=union&b=union&c=%3Cb%3E", "scanner"), &v, false);
    assert_int_equal(v.score, 5 + 2 + 11 + 3);
    assert_int_equal(v.classes,
                     (1u << VG_CLASS_SQLI) | (1u << VG_CLASS_XSS) | (1u << VG_CLASS_TOOL));
    assert_int_equal(v.n_hits, 4);
    assert_false(v.hits_truncated);
    for (unsigned k = 1; k < v.n_hits; k++)
        assert_true(v.hits[k - 1].rule < v.hits[k].rule);
    assert_true(vg_str_eq_lit(hit_of(det, &v, 1)->name, "a")); /* first field where it fired */
    detect(det, make_req(&b, "GET", "/?c=%3Cb%3E", NULL), &v, false);
    assert_int_equal(v.score, 2);
    assert_true(v.score < vg_detector_threshold(det));
    detect(det, make_req(&b, "GET", "/plain", "Mozilla"), &v, false);
    assert_int_equal(v.score, 0);
    assert_int_equal(v.classes, 0);
    assert_int_equal(v.n_hits, 0);
    detect_done();
    vg_detector_free(det);
}

static void test_hits_are_truncated_but_all_scored(void **state)
{
    (void)state;
    struct vg_buf y;
    vg_buf_init(&y, 0);
    assert_int_equal(vg_buf_adds(&y, "rules:\n"), VG_OK);
    const int n = VG_MAX_HITS + 8;
    for (int i = 0; i < n; i++)
        assert_int_equal(vg_buf_printf(&y,
                                       "  - id: %d\n    message: m\n    class: sqli\n"
                                       "    score: 1\n    regex: 'k%02d'\n",
                                       1000 - i, i),
                         VG_OK);
    struct vg_detector *det = compile_yaml((const char *)y.p, 1);
    vg_buf_fini(&y);
    char target[1024] = "/?q=";
    for (int i = n - 1; i >= 0; i--) /* reverse order: hits must still come in rule order */
        snprintf(target + strlen(target), sizeof target - strlen(target), "k%02d.", i);
    struct req_buf b;
    struct vg_verdict v;
    detect(det, make_req(&b, "GET", target, NULL), &v, true);
    assert_int_equal(v.score, n);
    assert_int_equal(v.n_hits, VG_MAX_HITS);
    assert_true(v.hits_truncated);
    for (unsigned k = 0; k < v.n_hits; k++) {
        assert_int_equal(v.hits[k].rule, k);
        char want[16];
        snprintf(want, sizeof want, "k%02u", k);
        assert_int_equal(v.hits[k].match_end - v.hits[k].match_start, 3);
        assert_memory_equal(v.hits[k].subject.p + v.hits[k].match_start, want, 3);
    }
    detect_done();
    vg_detector_free(det);
}

static void test_spans_are_exact_after_vg_detect_spans(void **state)
{
    (void)state;
    const char *y = "rules:\n"
                    "  - id: 1\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: 'b+c'\n"
                    "  - id: 2\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: '(q)\\1+z'\n";
    struct vg_detector *det = compile_yaml(y, 1);
    struct vg_detect_scratch *s;
    assert_int_equal(vg_detect_scratch_new(det, &s), VG_OK);
    struct req_buf b;
    struct vg_verdict v;
    assert_int_equal(vg_detect_request(det, s, make_req(&b, "GET", "/?x=aabbbcdd&y=wqqqzq", NULL), &v),
                     VG_OK);
    assert_int_equal(v.n_hits, 2);
    for (unsigned k = 0; k < v.n_hits; k++)
        assert_int_equal(v.hits[k].match_start, v.hits[k].match_end); /* not yet exact */
    vg_detect_spans(det, s, &v);
    const struct vg_hit *h = hit_of(det, &v, 1);
    assert_int_equal(h->match_start, 2);
    assert_int_equal(h->match_end, 6);
    h = hit_of(det, &v, 2);
    assert_int_equal(h->match_start, 1);
    assert_int_equal(h->match_end, 5);
    /* A second request through the same scratch gives the same answer (memoized or not). */
    assert_int_equal(vg_detect_request(det, s, make_req(&b, "GET", "/?z=aabbbcdd", NULL), &v),
                     VG_OK);
    vg_detect_spans(det, s, &v);
    h = hit_of(det, &v, 1);
    assert_non_null(h);
    assert_int_equal(h->field, VG_F_ARGS);
    assert_true(vg_str_eq_lit(h->name, "z"));
    assert_int_equal(h->match_start, 2);
    assert_int_equal(h->match_end, 6);
    vg_detect_scratch_free(s);
    detect_done();
    vg_detector_free(det);
}

static void test_paranoia_level_selects_rules(void **state)
{
    (void)state;
    const char *y = "rules:\n"
                    "  - id: 1\n    message: m\n    class: probe\n    score: 2\n"
                    "    fields: [path]\n    regex: '/admin'\n    paranoia: 2\n"
                    "  - id: 2\n    message: m\n    class: probe\n    score: 5\n"
                    "    fields: [path]\n    regex: '/\\.git/'\n";
    struct vg_detector *p1 = compile_yaml(y, 1);
    struct vg_detector *p2 = compile_yaml(y, 2);
    assert_int_equal(vg_detector_rule_count(p1), 1);
    assert_int_equal(vg_detector_rule_count(p2), 2);
    assert_int_equal(rule_index(p1, 1), -1);
    assert_false(fires(p1, 2, "/admin", NULL));
    assert_true(fires(p2, 1, "/admin", NULL));
    assert_true(fires(p1, 2, "/.git/HEAD", NULL));
    assert_null(vg_detector_rule(p1, 1));
    /* The hash covers the compiled rules: different sets, different hashes; same, same. */
    struct vg_detector *p1b = compile_yaml(y, 1);
    assert_int_equal(strlen(vg_detector_hash(p1)), 64);
    assert_string_equal(vg_detector_hash(p1), vg_detector_hash(p1b));
    assert_string_not_equal(vg_detector_hash(p1), vg_detector_hash(p2));
    detect_done();
    vg_detector_free(p1);
    vg_detector_free(p1b);
    vg_detector_free(p2);
}

static void test_long_and_hostile_subjects_are_handled(void **state)
{
    (void)state;
    const char *y = "rules:\n"
                    "  - id: 1\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: '(a+)+b'\n"
                    "  - id: 2\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: 'needle'\n";
    struct vg_detector *det = compile_yaml(y, 1);
    static char target[70000];
    strcpy(target, "GET /?q=");
    size_t n = strlen(target);
    memset(target + n, 'a', 60000);
    strcpy(target + n + 60000, "c&r=needle HTTP/1.1");
    struct vg_detect_scratch *s;
    assert_int_equal(vg_detect_scratch_new(det, &s), VG_OK);
    static struct req_buf big; /* request line larger than req_buf.line: build by hand */
    memset(&big.req, 0, sizeof big.req);
    big.req.request = vg_str_make(target, strlen(target));
    big.req.line = big.req.request;
    vg_request_split(big.req.request, &big.req);
    struct vg_verdict v;
    assert_int_equal(vg_detect_request(det, s, &big.req, &v), VG_OK);
    vg_detect_spans(det, s, &v);
    assert_non_null(hit_of(det, &v, 2));
    /* Then a small request: no stale hit, buffers reused. */
    struct req_buf b;
    assert_int_equal(vg_detect_request(det, s, make_req(&b, "GET", "/?q=x", NULL), &v), VG_OK);
    assert_int_equal(v.n_hits, 0);
    vg_detect_scratch_free(s);
    detect_done();
    vg_detector_free(det);
}

/* ---- out of memory ----------------------------------------------------------------------- */

static long oom_budget;
static void *oom_malloc(size_t n)
{
    return oom_budget-- > 0 ? malloc(n) : NULL;
}
static void *oom_realloc(void *p, size_t n)
{
    return oom_budget-- > 0 ? realloc(p, n) : NULL;
}
static void oom_free(void *p)
{
    free(p);
}

static void test_out_of_memory_anywhere_fails_cleanly(void **state)
{
    (void)state;
    const struct vg_allocator a = {oom_malloc, oom_realloc, oom_free};
    const char *y = "rules:\n"
                    "  - id: 1\n    message: m\n    class: sqli\n    score: 5\n"
                    "    regex: '(x)\\1y'\n    references: [CWE-89]\n"
                    "    examples: {match: ['/?q=xxy'], no_match: ['/?q=xy']}\n"
                    "  - id: 2\n    message: m\n    class: xss\n    score: 5\n"
                    "    transform: raw\n    regex: 'abc'\n";
    bool succeeded = false;
    for (long budget = 0; budget < 2000 && !succeeded; budget++) {
        oom_budget = budget;
        vg_set_thread_allocator(&a);
        struct vg_ruleset *rs = NULL;
        struct vg_detector *det = NULL;
        struct vg_detect_scratch *s = NULL;
        struct vg_error err = {0};
        vg_status st = vg_ruleset_new(&rs);
        if (st == VG_OK)
            st = vg_ruleset_load_yaml(rs, (const uint8_t *)y, strlen(y), "oom.yaml", &err);
        if (st == VG_OK) {
            st = vg_detector_new(rs, 1, 5, &det, &err);
            rs = NULL; /* consumed */
        }
        if (st == VG_OK)
            st = vg_detect_scratch_new(det, &s);
        struct req_buf b;
        struct vg_verdict v;
        if (st == VG_OK)
            st = vg_detect_request(det, s, make_req(&b, "GET", "/?q=xxy", NULL), &v);
        size_t checked = 0, failed = 0;
        if (st == VG_OK)
            st = vg_detector_check_examples(det, NULL, NULL, &checked, &failed);
        vg_set_thread_allocator(NULL);
        if (st == VG_OK) {
            succeeded = true;
            assert_int_equal(v.score, 5);
            assert_int_equal(checked, 2);
            assert_int_equal(failed, 0);
        } else if (st != VG_E_NOMEM && st != VG_E_LIMIT) {
            fail_msg("budget %ld: status %d (%s)", budget, st, err.message);
        }
        vg_detect_scratch_free(s);
        detect_done();
    vg_detector_free(det);
        vg_ruleset_free(rs);
    }
    assert_true(succeeded);
}

/* ---- the built-in rule set --------------------------------------------------------------- */

static void report_failure(const struct vg_rule *r, const struct vg_rule_example *e, void *user)
{
    (void)user;
    print_error("rule %u (%s): %s example %s%s%s did not behave\n", r->id, r->source,
                e->must_match ? "match" : "no_match", e->target ? e->target : "/",
                e->user_agent ? " ua=" : "", e->user_agent ? e->user_agent : "");
}

static void test_builtin_rules_load_and_every_example_passes(void **state)
{
    (void)state;
    assert_true(vg_builtin_rule_file_count > 0);
    struct vg_ruleset *rs;
    struct vg_error err = {0};
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    if (vg_ruleset_load_builtin(rs, &err) != VG_OK)
        fail_msg("built-in rules: %s", err.message);
    size_t n = vg_ruleset_count(rs);
    assert_true(n >= 100);
    for (size_t i = 0; i < n; i++) {
        const struct vg_rule *r = vg_ruleset_get(rs, i);
        size_t m = 0, nm = 0;
        for (size_t e = 0; e < r->n_examples; e++)
            (r->examples[e].must_match ? &m : &nm)[0]++;
        if (r->id < 100000 || r->id > 199999 || m == 0 || nm == 0 || r->n_refs == 0)
            fail_msg("built-in rule %u (%s): id range, examples (%zu match, %zu no_match) or "
                     "references missing",
                     r->id, r->source, m, nm);
        assert_non_null(strstr(r->source, "builtin/"));
    }
    /* Loading twice collides on every id. */
    assert_int_equal(vg_ruleset_load_builtin(rs, &err), VG_E_RULES);
    assert_int_equal(vg_ruleset_count(rs), n);

    struct vg_detector *det;
    assert_int_equal(vg_detector_new(rs, 4, 5, &det, &err), VG_OK);
    assert_int_equal(vg_detector_rule_count(det), n);
    size_t checked = 0, failed = 0;
    assert_int_equal(vg_detector_check_examples(det, report_failure, NULL, &checked, &failed),
                     VG_OK);
    assert_true(checked >= 2 * n);
    assert_int_equal(failed, 0);

    /* Benign requests of the kinds the rules were written not to flag. */
    static const char *const benign[] = {
        "/search?q=it%27s+%22quoted+text%22",
        "/search?q=select+a+union",
        "/search?q=drop+shipping",
        "/search?q=script+writing",
        "/search?q=alert+settings",
        "/search?q=what+does+%27or+1%3D1%27+mean",
        "/search?q=../docs",
        "/search?q=$(pwd)+in+bash",
        "/login?returnTo=https%3A%2F%2Fexample.org%2Fa%3Fb%3D1",
        "/p?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc-DEF_123",
        "/p?state=%7B%22tab%22%3A%22history%22%2C%22q%22%3A%22a%22%7D",
        "/p?utm_source=news&utm_medium=email&utm_campaign=spring_sale",
        "/lib/tpl/dokuwiki/../../images/email.svg",
    };
    struct vg_detect_scratch *s;
    assert_int_equal(vg_detect_scratch_new(det, &s), VG_OK);
    for (size_t i = 0; i < VG_ARRAY_LEN(benign); i++) {
        struct req_buf b;
        struct vg_verdict v;
        assert_int_equal(vg_detect_request(det, s, make_req(&b, "GET", benign[i],
                                                            "Mozilla/5.0 (X11; Linux x86_64)"),
                                           &v),
                         VG_OK);
        if (v.score >= 5)
            fail_msg("benign request flagged (score %d): %s", v.score, benign[i]);
    }
    vg_detect_scratch_free(s);
    detect_done();
    vg_detector_free(det);

    /* Paranoia 1 compiles fewer rules, and its examples pass too. */
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    assert_int_equal(vg_ruleset_load_builtin(rs, &err), VG_OK);
    assert_int_equal(vg_detector_new(rs, 1, 5, &det, &err), VG_OK);
    assert_true(vg_detector_rule_count(det) < n);
    assert_int_equal(vg_detector_check_examples(det, report_failure, NULL, &checked, &failed),
                     VG_OK);
    assert_int_equal(failed, 0);
    detect_done();
    vg_detector_free(det);
}

/* Compiles the test rules with a cache directory and returns the detector. */
static struct vg_detector *compile_cached(const char *yaml, const char *dir)
{
    struct vg_ruleset *rs;
    struct vg_error err = {0};
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    assert_int_equal(vg_ruleset_load_yaml(rs, (const uint8_t *)yaml, strlen(yaml), "c.yaml", &err),
                     VG_OK);
    struct vg_detector *det;
    if (vg_detector_new_cached(rs, 1, 5, dir, &det, &err) != VG_OK)
        fail_msg("compile: %s", err.message);
    return det;
}

static int count_cache_files(const char *dir, char *one, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".hsdb") == 0) {
            n++;
            snprintf(one, cap, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    return n;
}

static int fired_on(struct vg_detector *det, const char *target)
{
    struct vg_detect_scratch *s;
    assert_int_equal(vg_detect_scratch_new(det, &s), VG_OK);
    struct req_buf b;
    struct vg_verdict v;
    assert_int_equal(vg_detect_request(det, s, make_req(&b, "GET", target, NULL), &v), VG_OK);
    vg_detect_scratch_free(s);
    return v.score;
}

static void test_compiled_databases_are_cached_and_damaged_cache_files_ignored(void **state)
{
    (void)state;
    static const char yaml[] =
        "rules:\n"
        "  - id: 7001\n    message: m\n    class: sqli\n    severity: critical\n"
        "    regex: 'union\\s+select'\n"
        "  - id: 7002\n    message: m\n    class: xss\n    severity: critical\n"
        "    fields: [path]\n    regex: '<script'\n";
    char dir[] = "/tmp/vigil-cache-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[128], file[512];
    snprintf(sub, sizeof sub, "%s/new", dir); /* created on first use */
    struct vg_detector *a = compile_cached(yaml, sub);
    int n = count_cache_files(sub, file, sizeof file);
    assert_true(n >= 1);
    assert_int_equal(fired_on(a, "/p?q=1+union+select+2"), 5);
    struct vg_detector *b = compile_cached(yaml, sub); /* read back */
    assert_int_equal(count_cache_files(sub, file, sizeof file), n);
    assert_string_equal(vg_detector_hash(a), vg_detector_hash(b));
    assert_int_equal(fired_on(b, "/p?q=1+union+select+2"), 5);
    assert_int_equal(fired_on(b, "/p?q=union+station"), 0);
    /* Damage a cache file: it is ignored (and rewritten), results do not change. */
    FILE *f = fopen(file, "r+b");
    assert_non_null(f);
    fseek(f, 40, SEEK_SET);
    fputc('X', f);
    fputc('Y', f);
    fclose(f);
    struct vg_detector *c = compile_cached(yaml, sub);
    assert_int_equal(fired_on(c, "/p?q=1+union+select+2"), 5);
    assert_int_equal(fired_on(c, "/a<script>"), 5);
    /* Truncated to less than its checksum: ignored as well. */
    f = fopen(file, "wb");
    assert_non_null(f);
    fputs("short", f);
    fclose(f);
    struct vg_detector *d = compile_cached(yaml, sub);
    assert_int_equal(fired_on(d, "/p?q=1+union+select+2"), 5);
    vg_detector_free(a);
    vg_detector_free(b);
    vg_detector_free(c);
    vg_detector_free(d);
    DIR *dd = opendir(sub);
    struct dirent *e;
    while (dd && (e = readdir(dd)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(file, sizeof file, "%s/%s", sub, e->d_name);
        unlink(file);
    }
    if (dd)
        closedir(dd);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip_and_reject_unknown),
        cmocka_unit_test(test_loader_rejects_invalid_files_naming_the_line),
        cmocka_unit_test(test_loader_rejects_id_already_in_the_set_and_keeps_it_intact),
        cmocka_unit_test(test_loader_fills_every_rule_field),
        cmocka_unit_test(test_loader_reads_a_directory_in_name_order),
        cmocka_unit_test(test_compile_rejects_bad_patterns_naming_the_rule),
        cmocka_unit_test(test_compile_rejects_bad_arguments_and_consumes_the_set),
        cmocka_unit_test(test_prefilter_rule_is_confirmed_by_pcre2),
        cmocka_unit_test(test_prefilter_form_really_matches_what_pcre2_rejects),
        cmocka_unit_test(test_rule_vectorscan_cannot_prefilter_runs_with_pcre2_alone),
        cmocka_unit_test(test_rule_sees_only_its_fields),
        cmocka_unit_test(test_body_arguments_are_scanned_only_for_form_bodies),
        cmocka_unit_test(test_raw_and_decoded_views_see_different_bytes),
        cmocka_unit_test(test_score_threshold_and_classes),
        cmocka_unit_test(test_hits_are_truncated_but_all_scored),
        cmocka_unit_test(test_spans_are_exact_after_vg_detect_spans),
        cmocka_unit_test(test_paranoia_level_selects_rules),
        cmocka_unit_test(test_long_and_hostile_subjects_are_handled),
        cmocka_unit_test(test_out_of_memory_anywhere_fails_cleanly),
        cmocka_unit_test(test_builtin_rules_load_and_every_example_passes),
        cmocka_unit_test(test_compiled_databases_are_cached_and_damaged_cache_files_ignored),
        cmocka_unit_test(test_lexer_rules_fire_with_exact_span_and_note),
        cmocka_unit_test(test_hash_covers_the_operator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
