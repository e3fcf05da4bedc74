/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_ops_test.c: unit tests of the rule language (cmocka): every operator, negation,
 * chains, exclusions, groups, authors, transformation chains, every field added with the
 * language (basename, target, cookies one by one, headers, content type, line, status, JSON and
 * multipart arguments), the loader's errors for the new keys, allowlists (each condition, their
 * conjunction, and that an allowed hit cannot hide another), the per-class score, views for
 * explanations, and examples with the new example keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "detect/detect.h"

/* ---- helpers ----------------------------------------------------------------------------- */

struct req_spec {
    const char *method;       /* default GET */
    const char *target;       /* default / */
    const char *ua, *referer, *host, *cookie, *body, *content_type;
    int status;               /* 0: not logged */
    const char *hname[4], *hval[4];
    const char *addr;         /* client address */
};

struct req_buf {
    char line[4096];
    struct vg_request req;
};

static const struct vg_request *make_req(struct req_buf *b, const struct req_spec *sp)
{
    int n = snprintf(b->line, sizeof b->line, "%s %s HTTP/1.1", sp->method ? sp->method : "GET",
                     sp->target ? sp->target : "/");
    assert_true(n > 0 && (size_t)n < sizeof b->line);
    struct vg_request *r = &b->req;
    memset(r, 0, sizeof *r);
    r->status = sp->status ? sp->status : -1;
    r->bytes = -1;
    r->line = vg_str_make(b->line, (size_t)n);
    r->request = r->line;
    vg_request_split(r->request, r);
    if (sp->ua)
        r->user_agent = vg_str_make(sp->ua, strlen(sp->ua));
    if (sp->referer)
        r->referer = vg_str_make(sp->referer, strlen(sp->referer));
    if (sp->host)
        r->host = vg_str_make(sp->host, strlen(sp->host));
    if (sp->cookie)
        r->cookie = vg_str_make(sp->cookie, strlen(sp->cookie));
    if (sp->body)
        r->body = vg_str_make(sp->body, strlen(sp->body));
    if (sp->content_type)
        r->content_type = vg_str_make(sp->content_type, strlen(sp->content_type));
    for (int i = 0; i < 4 && sp->hname[i]; i++) {
        r->headers[i].name = vg_str_make(sp->hname[i], strlen(sp->hname[i]));
        r->headers[i].value = vg_str_make(sp->hval[i], strlen(sp->hval[i]));
        r->n_headers++;
    }
    if (sp->addr) {
        assert_true(vg_addr_parse((const uint8_t *)sp->addr, strlen(sp->addr), &r->addr));
        r->flags |= VG_REQ_HAS_ADDR;
    }
    return r;
}

static struct vg_detector *compile_yaml_ex(const char *yaml, const char *src)
{
    struct vg_ruleset *rs;
    struct vg_error err = {0};
    assert_int_equal(vg_ruleset_new(&rs), VG_OK);
    vg_status st = vg_ruleset_load_yaml(rs, (const uint8_t *)yaml, strlen(yaml), src, &err);
    if (st != VG_OK)
        fail_msg("load: %s", err.message);
    struct vg_detector *det;
    st = vg_detector_new(rs, 1, 5, &det, &err);
    if (st != VG_OK)
        fail_msg("compile: %s", err.message);
    return det;
}

static struct vg_detector *compile_yaml(const char *yaml)
{
    return compile_yaml_ex(yaml, "t.yaml");
}

static int rule_index(const struct vg_detector *det, uint32_t id)
{
    for (uint32_t i = 0; i < vg_detector_rule_count(det); i++)
        if (vg_detector_rule(det, i)->id == id)
            return (int)i;
    return -1;
}

static const struct vg_hit *hit_of(const struct vg_detector *det, const struct vg_verdict *v,
                                   uint32_t id)
{
    int i = rule_index(det, id);
    for (unsigned k = 0; k < v->n_hits; k++)
        if ((int)v->hits[k].rule == i)
            return &v->hits[k];
    return NULL;
}

static struct vg_detect_scratch *last_scratch;
static struct vg_verdict last_v;

static void detect_done(void)
{
    vg_detect_scratch_free(last_scratch);
    last_scratch = NULL;
}

static const struct vg_verdict *run(const struct vg_detector *det, const struct req_spec *sp)
{
    static struct req_buf b;
    detect_done();
    assert_int_equal(vg_detect_scratch_new(det, &last_scratch), VG_OK);
    assert_int_equal(vg_detect_request(det, last_scratch, make_req(&b, sp), &last_v), VG_OK);
    return &last_v;
}

static bool fires(const struct vg_detector *det, uint32_t id, const struct req_spec *sp)
{
    return hit_of(det, run(det, sp), id) != NULL;
}

static bool fires_t(const struct vg_detector *det, uint32_t id, const char *target)
{
    struct req_spec sp = {.target = target};
    return fires(det, id, &sp);
}

#define R(id, body) "  - {id: " #id ", message: m" #id ", class: sqli, severity: critical, " body "}\n"

/* ---- operators --------------------------------------------------------------------------- */

static void test_every_operator(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        R(1, "fields: [args], operator: phrases, phrases: [Information_Schema, 'sleep(']")
        R(2, "fields: [args], operator: contains, value: 'etc/pass'")
        R(3, "fields: [path], operator: begins, value: /ADMIN")
        R(4, "fields: [path], operator: ends, value: .bak")
        R(5, "fields: [args], operator: equals, value: 'drop'")
        R(6, "fields: [method], operator: within, value: 'PUT DELETE'")
        R(7, "fields: [args], operator: eq, value: '42'")
        R(8, "fields: [args], operator: ne, value: '0', transforms: [], exclude: ['args:q']")
        R(9, "fields: [args], operator: gt, value: '1000'")
        R(10, "fields: [args], operator: ge, value: '-5', exclude: ['args:/./']")
        R(11, "fields: [args], operator: lt, value: '-100'")
        R(12, "fields: [args], operator: le, value: '-200'")
        R(13, "fields: [args], operator: sqli, transforms: [urlDecodeUni]")
        R(14, "fields: [args], operator: xss, transforms: [urlDecodeUni, htmlEntityDecode]")
        R(15, "fields: [args], regex: 'un\\s*ion', caseless: false, transforms: [urlDecodeUni]")
        R(16, "fields: [args], operator: contains, value: ABC, caseless: false"));
    assert_true(fires_t(det, 1, "/?q=x+INFORMATION_SCHEMA.tables"));
    assert_true(fires_t(det, 1, "/?q=sleep(5)"));
    assert_false(fires_t(det, 1, "/?q=sleep+well"));
    assert_true(fires_t(det, 2, "/?f=../../Etc/Passwd"));
    assert_false(fires_t(det, 2, "/?f=etc"));
    assert_true(fires_t(det, 3, "/admin/x"));
    assert_false(fires_t(det, 3, "/x/admin"));
    assert_true(fires_t(det, 4, "/db.BAK"));
    assert_false(fires_t(det, 4, "/db.bak2"));
    assert_true(fires_t(det, 5, "/?a=DROP"));
    assert_false(fires_t(det, 5, "/?a=drops"));
    struct req_spec put = {.method = "PUT"}, get = {.method = "GET"};
    assert_true(fires(det, 6, &put));
    assert_false(fires(det, 6, &get));
    assert_true(fires_t(det, 7, "/?n=42"));
    assert_false(fires_t(det, 7, "/?n=43"));
    assert_true(fires_t(det, 8, "/?n=7"));
    assert_false(fires_t(det, 8, "/?n=0&q=5")); /* q excluded, n is 0 */
    assert_true(fires_t(det, 9, "/?n=1001"));
    assert_false(fires_t(det, 9, "/?n=1000"));
    assert_false(fires_t(det, 10, "/?n=1")); /* every argument excluded by /./ */
    assert_true(fires_t(det, 11, "/?n=-101"));
    assert_false(fires_t(det, 11, "/?n=abc")); /* not a number: 0 */
    assert_true(fires_t(det, 12, "/?n=-200"));
    assert_true(fires_t(det, 13, "/?id=1%27%20or%201=1--"));
    assert_false(fires_t(det, 13, "/?q=it%27s"));
    assert_true(fires_t(det, 14, "/?q=%3Cimg%20src=x%20onerror=alert(1)%3E"));
    assert_true(fires_t(det, 14, "/?q=%26lt;script%26gt;alert(1)%26lt;/script%26gt;"));
    assert_false(fires_t(det, 14, "/?q=a+%3C+b"));
    assert_true(fires_t(det, 15, "/?q=1%20un%20ion"));
    assert_false(fires_t(det, 15, "/?q=UNION"));
    assert_true(fires_t(det, 16, "/?q=xABCx"));
    assert_false(fires_t(det, 16, "/?q=abc"));
    /* spans are exact and the view names the chain */
    const struct vg_verdict *v = run(det, &(struct req_spec){.target = "/?q=x+INFORMATION_SCHEMA"});
    const struct vg_hit *h = hit_of(det, v, 1);
    assert_non_null(h);
    assert_int_equal(h->match_end - h->match_start, strlen("information_schema"));
    assert_string_equal(h->view, "decoded"); /* neither transform nor transforms given */
    v = run(det, &(struct req_spec){.target = "/?q=%3Csvg%20onload=alert(1)%3E"});
    h = hit_of(det, v, 14);
    assert_non_null(h);
    assert_string_equal(h->view, "urlDecodeUni,htmlEntityDecode");
    assert_non_null(h->note);
    detect_done();
    vg_detector_free(det);
}

/* ---- negation and chains ----------------------------------------------------------------- */

static void test_negate_and_chain(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        R(1, "fields: [method], operator: within, value: 'GET HEAD POST', negate: true")
        R(2, "fields: [args_names], operator: equals, value: token, negate: true, "
             "chain: [{fields: [path], operator: begins, value: /api/}]")
        R(3, "fields: [args], regex: select, chain: [{fields: [path], operator: ends, "
             "value: .php}, {fields: [user_agent], operator: contains, value: curl, negate: true}]"));
    assert_true(fires(det, 1, &(struct req_spec){.method = "TRACE"}));
    assert_false(fires(det, 1, &(struct req_spec){.method = "HEAD"}));
    /* negated on a collection: holds when no instance matches (and when there is none) */
    assert_true(fires_t(det, 2, "/api/x?a=1"));
    assert_true(fires_t(det, 2, "/api/x"));
    assert_false(fires_t(det, 2, "/api/x?a=1&token=2"));
    assert_false(fires_t(det, 2, "/web/x?a=1"));
    /* every chain condition must hold on the same request */
    assert_true(fires(det, 3, &(struct req_spec){.target = "/a.php?q=select", .ua = "Mozilla"}));
    assert_false(fires(det, 3, &(struct req_spec){.target = "/a.php?q=select", .ua = "curl/8"}));
    assert_false(fires(det, 3, &(struct req_spec){.target = "/a.asp?q=select", .ua = "Mozilla"}));
    assert_false(fires(det, 3, &(struct req_spec){.target = "/a.php?q=x", .ua = "Mozilla"}));
    const struct vg_verdict *v = run(det, &(struct req_spec){.method = "TRACE"});
    const struct vg_hit *h = hit_of(det, v, 1);
    assert_non_null(h);
    assert_int_equal(h->field, VG_F_METHOD);
    assert_int_equal(h->subject.n, 0);
    detect_done();
    vg_detector_free(det);
}

/* ---- exclusions, groups, authors, scores ------------------------------------------------- */

static void test_exclude_group_author_and_class_scores(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        R(1, "fields: [args, cookie], regex: evil, exclude: ['args:Password', 'cookie:/^__utm/']")
        R(2, "fields: [headers], regex: evil, exclude: ['header:Cookie']")
        "  - {id: 3, message: a, class: xss, score: 4, regex: aaa, group: g, author: 'Jane Doe'}\n"
        "  - {id: 4, message: b, class: xss, score: 6, regex: bbb, group: g}\n"
        "  - {id: 5, message: c, class: rfi, score: 2, regex: ccc, group: other}\n");
    assert_false(fires_t(det, 1, "/?password=evil"));
    assert_true(fires_t(det, 1, "/?password=ok&q=evil"));
    assert_false(fires(det, 1, &(struct req_spec){.cookie = "__utma=evil; b=1"}));
    assert_true(fires(det, 1, &(struct req_spec){.cookie = "__utma=1; b=evil"}));
    assert_false(fires(det, 2, &(struct req_spec){.cookie = "a=evil"}));
    assert_true(fires(det, 2, &(struct req_spec){.ua = "evil"}));

    const struct vg_verdict *v = run(det, &(struct req_spec){.target = "/?a=aaa&b=bbb&c=ccc"});
    assert_non_null(hit_of(det, v, 3));
    assert_non_null(hit_of(det, v, 4));
    assert_int_equal(v->score, 6 + 2); /* the group adds its highest score once */
    assert_int_equal(v->class_scores[VG_CLASS_XSS], 6);
    assert_int_equal(v->class_scores[VG_CLASS_RFI], 2);
    assert_int_equal(v->class_scores[VG_CLASS_SQLI], 0);
    v = run(det, &(struct req_spec){.target = "/?a=aaa"});
    assert_int_equal(v->score, 4);
    assert_string_equal(vg_detector_rule(det, (uint32_t)rule_index(det, 3))->author, "Jane Doe");
    assert_string_equal(vg_detector_rule(det, (uint32_t)rule_index(det, 3))->group, "g");
    detect_done();
    vg_detector_free(det);
}

/* ---- fields ------------------------------------------------------------------------------ */

static void test_every_new_field(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        R(1, "fields: [basename], transforms: [], operator: equals, value: 'wp-config.php'")
        R(2, "fields: [target], transforms: [], operator: contains, value: '/a?b'")
        R(3, "fields: [cookie], transforms: [], operator: equals, value: 'v1'")
        R(4, "fields: [cookie_names], transforms: [], operator: equals, value: 'PHPSESSID'")
        R(5, "fields: [content_type], transforms: [], operator: contains, value: 'xml'")
        R(6, "fields: ['header:X-Api-Key'], transforms: [], operator: equals, value: 'k1'")
        R(7, "fields: [headers], transforms: [], operator: contains, value: 'inj'")
        R(8, "fields: [header_names], transforms: [], operator: begins, value: 'X-Evil'")
        R(9, "fields: [line], transforms: [], operator: contains, value: 'HTTP/1.1'")
        R(10, "fields: [status], operator: ge, value: '500'")
        R(11, "fields: [args], transforms: [], operator: equals, value: 'jv'")
        R(12, "fields: [args_names], transforms: [], operator: equals, value: 'json.a.b'")
        R(13, "fields: [args], transforms: [], operator: equals, value: 'mpv'")
        R(14, "fields: ['header:Referer'], transforms: [], operator: contains, value: 'ref'")
        R(15, "fields: [args], transforms: [], operator: equals, value: 'a b'"));
    assert_true(fires_t(det, 1, "/site/wp-config.php"));
    assert_false(fires_t(det, 1, "/wp-config.php/x"));
    assert_true(fires_t(det, 2, "/a?b=1"));
    assert_true(fires(det, 3, &(struct req_spec){.cookie = "x=0; y=v1"}));
    assert_false(fires(det, 3, &(struct req_spec){.cookie = "x=0; y=v1z"}));
    assert_true(fires(det, 4, &(struct req_spec){.cookie = "PHPSESSID=1"}));
    assert_true(fires(det, 5, &(struct req_spec){.content_type = "text/xml"}));
    struct req_spec hs = {.hname = {"x-api-key", "X-Other"}, .hval = {"k1", "inj"}};
    assert_true(fires(det, 6, &hs));
    assert_true(fires(det, 7, &hs));
    assert_false(fires(det, 8, &hs));
    assert_true(fires(det, 8, &(struct req_spec){.hname = {"X-Evil-1"}, .hval = {"1"}}));
    assert_true(fires_t(det, 9, "/"));
    assert_true(fires(det, 10, &(struct req_spec){.status = 503}));
    assert_false(fires(det, 10, &(struct req_spec){.status = 404}));
    assert_false(fires(det, 10, &(struct req_spec){.status = 0})); /* not logged */
    struct req_spec js = {.method = "POST", .body = "{\"a\": {\"b\": \"jv\"}, \"l\": [1, 2]}",
                          .content_type = "application/json"};
    assert_true(fires(det, 11, &js));
    assert_true(fires(det, 12, &js));
    struct req_spec mp = {.method = "POST",
                          .body = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n"
                                  "mpv\r\n--XyZ--\r\n",
                          .content_type = "multipart/form-data; boundary=XyZ"};
    assert_true(fires(det, 13, &mp));
    assert_true(fires(det, 14, &(struct req_spec){.referer = "http://ref/"}));
    assert_true(fires_t(det, 15, "/?q=a+b")); /* the base of args is form-decoded once */
    /* the header hit is named by the header */
    const struct vg_verdict *v = run(det, &hs);
    const struct vg_hit *h = hit_of(det, v, 6);
    assert_non_null(h);
    assert_int_equal(h->field, VG_F_HEADER);
    assert_int_equal(h->name.n, strlen("x-api-key"));
    /* views of the last request can be listed */
    enum vg_field f;
    struct vg_str name, bytes;
    const char *view;
    assert_true(vg_detect_view(last_scratch, 0, &f, &name, &view, &bytes));
    detect_done();
    vg_detector_free(det);
}

/* A decoded and a raw view on new fields, and a header named in two ways. */
static void test_decoded_and_raw_views_of_new_fields(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        R(1, "fields: [headers], operator: contains, value: '<script'")
        R(2, "fields: [headers], transform: raw, operator: contains, value: '%3cscript'"));
    struct req_spec sp = {.hname = {"X-Forwarded-Host"}, .hval = {"%3Cscript%3E"}};
    assert_true(fires(det, 1, &sp));
    assert_true(fires(det, 2, &sp));
    detect_done();
    vg_detector_free(det);
}

/* ---- loader ------------------------------------------------------------------------------ */

struct bad_yaml {
    const char *name;
    const char *yaml;
    const char *needle;
};

#define HEAD "rules:\n  - {id: 1, message: m, class: sqli, severity: critical, "

static const struct bad_yaml bad_yamls[] = {
    {"transform and transforms", HEAD "transform: raw, transforms: [lowercase], regex: x}\n",
     "exclude each other"},
    {"unknown transformation", HEAD "transforms: [rot13x], regex: x}\n",
     "unknown transformation `rot13x`"},
    {"unsupported transformation", HEAD "transforms: [md5], regex: x}\n", "not supported"},
    {"phrases without phrases", HEAD "operator: phrases}\n", "needs `phrases`"},
    {"phrases with regex operator", HEAD "regex: x, phrases: [a]}\n", "need `operator: phrases`"},
    {"contains without value", HEAD "operator: contains}\n", "needs a `value`"},
    {"eq not a number", HEAD "operator: eq, value: abc}\n", "must be an integer"},
    {"value with regex", HEAD "regex: x, value: y}\n", "`value` applies to"},
    {"caseless on numbers", HEAD "operator: gt, value: '1', caseless: true}\n",
     "does not apply"},
    {"bad exclude", HEAD "regex: x, exclude: ['path:/x']}\n", "`exclude` items"},
    {"bare header field", HEAD "regex: x, fields: [header]}\n", "write header:NAME"},
    {"bad chain key", HEAD "regex: x, chain: [{fields: [path], colour: red}]}\n",
     "unknown key `colour` in a chain condition"},
    {"chain without operand", HEAD "regex: x, chain: [{fields: [path], operator: begins}]}\n",
     "needs a `value`"},
    {"bad class", "rules:\n  - {id: 1, message: m, class: worm, severity: critical, regex: x}\n",
     "protocol session"},
    {"empty group", HEAD "regex: x, group: ''}\n", "`group` may not be empty"},
    {"phrases_file in memory", HEAD "operator: phrases, phrases_file: x.data}\n",
     "cannot read phrases_file"},
    {"bad example status", HEAD "regex: x, examples: {match: [{status: 42}]}}\n",
     "`status` is out of range"},
    {"bad example headers", HEAD "regex: x, examples: {match: [{headers: [a]}]}}\n",
     "mapping of name: value"},
};

static void test_loader_rejects_bad_language_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < VG_ARRAY_LEN(bad_yamls); i++) {
        struct vg_ruleset *rs;
        assert_int_equal(vg_ruleset_new(&rs), VG_OK);
        struct vg_error err = {0};
        vg_status st = vg_ruleset_load_yaml(rs, (const uint8_t *)bad_yamls[i].yaml,
                                            strlen(bad_yamls[i].yaml), "/nonexistent/bad.yaml",
                                            &err);
        if (st != VG_E_RULES || !strstr(err.message, bad_yamls[i].needle))
            fail_msg("case '%s': status %d message '%s'", bad_yamls[i].name, st, err.message);
        assert_int_equal(vg_ruleset_count(rs), 0);
        vg_ruleset_free(rs);
    }
}

static void test_phrases_file_and_hash(void **state)
{
    (void)state;
    char dir[] = "/tmp/vigil-ops-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/words.data", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# comment\n\n  nmap  \nmasscan\n", f);
    fclose(f);
    char src[256];
    snprintf(src, sizeof src, "%s/rules.yaml", dir);
    struct vg_detector *det = compile_yaml_ex(
        "rules:\n" R(1, "fields: [user_agent], operator: phrases, phrases_file: words.data"),
        src);
    assert_true(fires(det, 1, &(struct req_spec){.ua = "Nmap Scripting Engine"}));
    assert_true(fires(det, 1, &(struct req_spec){.ua = "masscan/1.3"}));
    assert_false(fires(det, 1, &(struct req_spec){.ua = "comment"}));
    char h1[65];
    snprintf(h1, sizeof h1, "%s", vg_detector_hash(det));
    detect_done();
    vg_detector_free(det);
    /* the hash covers the language's parts */
    det = compile_yaml("rules:\n" R(1, "fields: [user_agent], operator: phrases, phrases: [nmap]"));
    assert_string_not_equal(h1, vg_detector_hash(det));
    vg_detector_free(det);
    unlink(path);
    rmdir(dir);
}

/* ---- allowlists -------------------------------------------------------------------------- */

static void test_allowlist_semantics(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        R(1, "fields: [args], regex: evil")
        "  - {id: 2, message: m2, class: xss, severity: critical, fields: [args], regex: bad}\n");
    static const char allow[] =
        "allow:\n"
        "  - reason: wiki\n    paths: [/doku.php, '/api/*']\n    args: [wikitext]\n"
        "  - reason: office\n    sources: [10.0.0.0/8, '2001:db8::/32']\n    rules: [xss]\n"
        "  - reason: one rule\n    rules: [1]\n    paths: [/only]\n";
    struct vg_allowlist *al = NULL;
    struct vg_error err = {0};
    assert_int_equal(vg_allowlist_load_yaml(&al, (const uint8_t *)allow, strlen(allow), "a.yaml",
                                            &err),
                     VG_OK);
    assert_int_equal(vg_allowlist_count(al), 3);
    assert_string_equal(vg_allowlist_reason(al, 1), "office");
    assert_string_equal(vg_allowlist_source(al, 0), "a.yaml:2");
    vg_detector_set_allowlist(det, al);

    /* path and argument both hold: dropped, reported with its entry */
    const struct vg_verdict *v = run(det, &(struct req_spec){.target = "/doku.php?wikitext=evil"});
    assert_int_equal(v->score, 0);
    assert_int_equal(v->n_hits, 0);
    assert_int_equal(v->n_allowed, 1);
    assert_int_equal(v->allowed[0].allow, 0);
    /* glob */
    v = run(det, &(struct req_spec){.target = "/api/v1/x?wikitext=evil"});
    assert_int_equal(v->score, 0);
    /* only one condition holds: kept */
    v = run(det, &(struct req_spec){.target = "/doku.php?other=evil"});
    assert_int_equal(v->score, 5);
    v = run(det, &(struct req_spec){.target = "/other.php?wikitext=evil"});
    assert_int_equal(v->score, 5);
    /* a payload in an allowed argument does not hide the same rule in another one */
    v = run(det, &(struct req_spec){.target = "/doku.php?wikitext=evil&q=evil"});
    assert_int_equal(v->score, 5);
    assert_int_equal(v->n_allowed, 1);
    assert_non_null(hit_of(det, v, 1));
    /* sources and classes */
    v = run(det, &(struct req_spec){.target = "/?q=bad", .addr = "10.1.2.3"});
    assert_int_equal(v->score, 0);
    v = run(det, &(struct req_spec){.target = "/?q=bad", .addr = "2001:db8::7"});
    assert_int_equal(v->score, 0);
    v = run(det, &(struct req_spec){.target = "/?q=bad", .addr = "11.1.2.3"});
    assert_int_equal(v->score, 5);
    v = run(det, &(struct req_spec){.target = "/?q=evil", .addr = "10.1.2.3"});
    assert_int_equal(v->score, 5); /* entry 1 allows xss only */
    v = run(det, &(struct req_spec){.target = "/?q=bad"});
    assert_int_equal(v->score, 5); /* no address logged: a sources entry cannot hold */
    /* rule ids */
    v = run(det, &(struct req_spec){.target = "/only?q=evil&r=bad"});
    assert_int_equal(v->score, 5);
    assert_int_equal(v->class_scores[VG_CLASS_XSS], 5);
    detect_done();
    vg_detector_free(det);

    static const struct {
        const char *yaml, *needle;
    } bad[] = {
        {"allow:\n  - paths: [/x]\n", "needs a `reason`"},
        {"allow:\n  - reason: r\n    colour: red\n", "unknown key"},
        {"allow:\n  - reason: r\n    sources: [10.0.0.0/33]\n", "CIDR"},
        {"allow:\n  - reason: r\n    rules: [worm]\n", "rule ids or classes"},
        {"other: []\n", "only key"},
        {"allow: 3\n", "no `allow:` list"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        struct vg_allowlist *b = NULL;
        struct vg_error e2 = {0};
        vg_status st = vg_allowlist_load_yaml(&b, (const uint8_t *)bad[i].yaml,
                                              strlen(bad[i].yaml), "b.yaml", &e2);
        if (st == VG_OK || !strstr(e2.message, bad[i].needle))
            fail_msg("allowlist case %zu: status %d message '%s'", i, st, e2.message);
        assert_null(b);
    }
}

/* ---- examples ---------------------------------------------------------------------------- */

static void fail_cb(const struct vg_rule *r, const struct vg_rule_example *ex, void *user)
{
    (void)ex;
    (void)user;
    print_message("example of rule %u misbehaves\n", r->id);
}

static void test_examples_with_new_keys(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        R(1, "fields: [status], operator: eq, value: '500', "
             "examples: {match: [{status: 500}], no_match: [{status: 200}, '/']}")
        R(2, "fields: ['header:X-Forwarded-Host'], transform: raw, operator: contains, "
             "value: '%0d%0a', examples: {match: [{headers: {X-Forwarded-Host: 'a%0d%0ab'}}], "
             "no_match: [{headers: {X-Other: '%0d%0a'}}]}")
        R(3, "fields: [args], transforms: [lowercase], regex: 'union select', "
             "examples: {match: [{method: POST, body: 'q=UNION+SELECT', "
             "content_type: application/x-www-form-urlencoded}], no_match: [{body: 'q=1'}]}")
        R(4, "fields: [cookie], transforms: [], operator: equals, value: bad, "
             "examples: {match: [{cookie: 'a=1; b=bad'}], no_match: [{cookie: 'a=bad1'}]}")
        R(5, "fields: [host], transforms: [], operator: ends, value: '.onion', "
             "examples: {match: [{host: x.onion}], no_match: [{host: x.org}]}")
        R(6, "fields: [content_type], transforms: [lowercase], operator: contains, "
             "value: 'text/xml', examples: {match: [{content_type: Text/XML}], no_match: ['/']}"));
    size_t checked = 0, failed = 0;
    assert_int_equal(vg_detector_check_examples(det, fail_cb, NULL, &checked, &failed), VG_OK);
    assert_int_equal(checked, 13);
    assert_int_equal(failed, 0);
    vg_detector_free(det);
}

/* Rules without the language's keys keep the fast engine and their hash text. */
static void test_plain_rules_are_unchanged(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml("rules:\n" R(1, "fields: [args, cookie], regex: evil"));
    assert_false(vg_detector_rule(det, 0)->extended);
    /* cookie is still the whole header for a plain rule */
    assert_true(fires(det, 1, &(struct req_spec){.cookie = "a=1; b=evil"}));
    const struct vg_verdict *v = run(det, &(struct req_spec){.cookie = "a=evil"});
    assert_string_equal(v->hits[0].view, "decoded");
    assert_int_equal(v->class_scores[VG_CLASS_SQLI], 5);
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

/* Every allocation of the loader, the compiler, the scratch, a request and an allowlist may
   fail: the result is VG_E_NOMEM and nothing leaks (ASan), never a crash. */
static void test_out_of_memory_in_the_language_fails_cleanly(void **state)
{
    (void)state;
    const struct vg_allocator a = {oom_malloc, oom_realloc, oom_free};
    const char *y = "rules:\n"
        R(1, "fields: [args, cookie, 'header:X-A'], exclude: ['args:p', 'cookie:/^_/'], "
             "transforms: [urlDecodeUni, lowercase], operator: phrases, phrases: [evil, bad], "
             "group: g, author: a")
        R(2, "fields: [method], operator: within, value: 'GET POST', negate: true, "
             "chain: [{fields: [status], operator: ge, value: '200'}]")
        R(3, "fields: [args], transforms: [], regex: '(x)\\1y', "
             "examples: {match: ['/?q=xxy'], no_match: ['/?q=xy']}");
    const char *al_text = "allow:\n  - reason: r\n    paths: ['/w*']\n    args: [t]\n";
    bool succeeded = false;
    for (long budget = 0; budget < 4000 && !succeeded; budget++) {
        oom_budget = budget;
        vg_set_thread_allocator(&a);
        struct vg_ruleset *rs = NULL;
        struct vg_detector *det = NULL;
        struct vg_detect_scratch *s = NULL;
        struct vg_allowlist *al = NULL;
        struct vg_error err = {0};
        vg_status st = vg_ruleset_new(&rs);
        if (st == VG_OK)
            st = vg_ruleset_load_yaml(rs, (const uint8_t *)y, strlen(y), "oom.yaml", &err);
        if (st == VG_OK) {
            st = vg_detector_new(rs, 1, 5, &det, &err);
            rs = NULL; /* consumed */
        }
        if (st == VG_OK)
            st = vg_allowlist_load_yaml(&al, (const uint8_t *)al_text, strlen(al_text), "a.yaml",
                                        &err);
        if (st == VG_OK) {
            vg_detector_set_allowlist(det, al);
            al = NULL;
            st = vg_detect_scratch_new(det, &s);
        }
        static struct req_buf b;
        struct vg_verdict v;
        struct req_spec sp = {.method = "PUT", .target = "/w?t=evil&q=BAD&p=evil&q2=xxy",
                              .cookie = "_a=evil; b=1", .status = 200,
                              .hname = {"X-A"}, .hval = {"evil"}};
        if (st == VG_OK)
            st = vg_detect_request(det, s, make_req(&b, &sp), &v);
        size_t checked = 0, failed = 0;
        if (st == VG_OK)
            st = vg_detector_check_examples(det, NULL, NULL, &checked, &failed);
        vg_set_thread_allocator(NULL);
        if (st == VG_OK) {
            succeeded = true;
            assert_int_equal(v.score, 5 + 5 + 5);
            assert_int_equal(v.n_allowed, 1);
            assert_int_equal(failed, 0);
        } else if (st != VG_E_NOMEM && st != VG_E_LIMIT) {
            fail_msg("budget %ld: status %d (%s)", budget, st, err.message);
        }
        vg_detect_scratch_free(s);
        vg_allowlist_free(al);
        vg_detector_free(det);
        vg_ruleset_free(rs);
    }
    assert_true(succeeded);
}

/*
 * The engine's memos (views, Vectorscan candidates, clean instances, whole requests) change
 * speed, never results: a scratch that has seen many requests gives, request by request, the
 * verdict a fresh scratch gives. The requests repeat values in contexts where a rule holds and
 * where it does not: a chain on another field, a first condition run directly that stops at its
 * first instance, exclusions by name, a header named by a rule, transformations, negation; and
 * whole requests that differ only in the status a chain reads, in the method, in a header, in a
 * field logged empty or not at all, in the body. From the second round on, the request memo
 * answers (and must answer: the test counts its replays).
 */
static bool same_str(struct vg_str a, struct vg_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static void test_memos_do_not_change_verdicts(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        R(1, "fields: [args], transforms: [urlDecodeUni, lowercase], operator: contains, "
             "value: evil, exclude: ['args:safe'], chain: [{fields: [status], operator: ge, "
             "value: '400'}]")
        R(2, "fields: [args, cookie], operator: begins, value: 'x', chain: [{fields: [method], "
             "operator: equals, value: POST}]")
        R(3, "fields: ['header:X-A', user_agent], transforms: [lowercase], regex: 'bad(?:bot)?'")
        R(4, "fields: [method], operator: within, value: 'GET POST', negate: true")
        R(5, "fields: [args_names, cookie_names], operator: phrases, phrases: [cmd, exec]")
        R(6, "fields: [args], operator: sqli")
        R(7, "fields: [args, path], transform: raw, regex: '\\.\\./|%2e%2e'")
        R(8, "fields: [args, path, user_agent], regex: 'etc/passwd'"));
    static const struct req_spec reqs[] = {
        {.target = "/p?a=evil", .status = 200},
        {.target = "/p?a=evil", .status = 404},
        {.target = "/p?safe=evil", .status = 404},
        {.target = "/p?a=EVIL&b=xy", .status = 404, .method = "POST"},
        {.target = "/p?b=xy&c=xz", .status = 200},
        {.target = "/p?c=xz", .status = 200, .method = "POST"},
        {.target = "/p?b=xy&c=xz", .status = 200, .method = "POST"},
        {.target = "/p?c=xz&b=xy", .status = 200, .method = "POST"},
        {.target = "/p?q=1", .ua = "Mozilla/5.0", .hname = {"X-A"}, .hval = {"BadBot"}},
        {.target = "/p?q=1", .ua = "BadBot", .hname = {"X-B"}, .hval = {"BadBot"}},
        {.target = "/p?q=1", .ua = "Mozilla/5.0", .hname = {"X-B"}, .hval = {"BadBot"}},
        {.target = "/p?cmd=1", .method = "PUT"},
        {.target = "/p?q=1", .method = "PUT", .cookie = "exec=1; x=2"},
        {.target = "/p?q=1", .method = "POST", .cookie = "exec=1; x=2"},
        {.target = "/p?id=1%27%20or%201=1--", .status = 200},
        {.target = "/p?id=1%27%20or%201=1--", .status = 500},
        {.target = "/p?a=%65vil", .status = 403},
        {.target = "/p?f=..%2fetc%2fpasswd"},
        {.target = "/p?f=../etc/passwd"},
        {.target = "/p?f=..%2fetc%2fpasswd", .ua = "etc/passwd"},
        {.target = "/p?f=..%2fetc%2fpasswd"},
        {.target = "/p?f=../etc/passwd"},
        {.target = "/p?f=%2e%2e%2fx"},
        {.target = "/p?f=%2e%2e%2fx"},
        {.target = "/p?a=%2565vil", .status = 403},
        {.target = "/p?q=1", .ua = ""},
        {.target = "/p?q=1"},
        {.target = "/p?q=1", .ua = "BadBot"},
        {.target = "/p?q=1", .hname = {"X-A"}, .hval = {""}},
        {.target = "/p?q=1", .hname = {"X-A"}, .hval = {"badbot"}},
        {.target = "/p?q=1", .hname = {"X-A", "X-B"}, .hval = {"ok", "badbot"}},
        {.target = "/p?q=1", .hname = {"X-B", "X-A"}, .hval = {"ok", "badbot"}},
        {.target = "/p", .method = "POST", .body = "a=evil", .status = 404},
        {.target = "/p", .method = "POST", .body = "a=evil", .status = 200},
        {.target = "/p", .method = "POST", .body = "a=good", .status = 404},
        {.target = "/p", .method = "POST", .body = "a=evil", .status = 404,
         .content_type = "text/plain"},
        {.target = "/p?f=..%2fetc%2fpasswd", .referer = "etc/passwd"},
        {.target = "/p?id=1%27%20or%201=1--", .cookie = "exec=1"},
    };
    struct vg_detect_scratch *warm = NULL;
    assert_int_equal(vg_detect_scratch_new(det, &warm), VG_OK);
    size_t replays = 0, with_hits = 0;
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
            static struct req_buf b1, b2;
            struct vg_verdict v1, v2;
            struct vg_detect_scratch *fresh = NULL;
            assert_int_equal(vg_detect_scratch_new(det, &fresh), VG_OK);
            assert_int_equal(vg_detect_request(det, fresh, make_req(&b1, &reqs[i]), &v1), VG_OK);
            assert_int_equal(vg_detect_request(det, warm, make_req(&b2, &reqs[i]), &v2), VG_OK);
            if (v1.score != v2.score || v1.n_hits != v2.n_hits ||
                v1.decode_flags != v2.decode_flags)
                fail_msg("round %d request %zu (%s): fresh score %d hits %u, warm score %d "
                         "hits %u", round, i, reqs[i].target, v1.score, v1.n_hits, v2.score,
                         v2.n_hits);
            assert_int_equal(v1.classes, v2.classes);
            assert_int_equal(v1.hits_truncated, v2.hits_truncated);
            assert_int_equal(v1.n_allowed, v2.n_allowed);
            assert_memory_equal(v1.class_scores, v2.class_scores, sizeof v1.class_scores);
            /* spans as a scan makes them, after the verdict */
            vg_detect_spans(det, fresh, &v1);
            vg_detect_spans(det, warm, &v2);
            for (unsigned k = 0; k < v1.n_hits; k++) {
                assert_int_equal(v1.hits[k].rule, v2.hits[k].rule);
                assert_int_equal(v1.hits[k].field, v2.hits[k].field);
                assert_int_equal(v1.hits[k].transform, v2.hits[k].transform);
                assert_int_equal(v1.hits[k].match_start, v2.hits[k].match_start);
                assert_int_equal(v1.hits[k].match_end, v2.hits[k].match_end);
                assert_int_equal(v1.hits[k].allow, v2.hits[k].allow);
                assert_true(same_str(v1.hits[k].name, v2.hits[k].name));
                assert_true(same_str(v1.hits[k].subject, v2.hits[k].subject));
                assert_true((v1.hits[k].name.p == NULL) == (v2.hits[k].name.p == NULL));
                assert_true((v1.hits[k].note == NULL) == (v2.hits[k].note == NULL));
                if (v1.hits[k].note)
                    assert_string_equal(v1.hits[k].note, v2.hits[k].note);
                assert_true((v1.hits[k].view == NULL) == (v2.hits[k].view == NULL));
                if (v1.hits[k].view)
                    assert_string_equal(v1.hits[k].view, v2.hits[k].view);
            }
            /* a replayed verdict made no views; a computed one with rules of the language did */
            enum vg_field f;
            struct vg_str nm, by;
            const char *vw;
            assert_true(vg_detect_view(fresh, 0, &f, &nm, &vw, &by));
            if (!vg_detect_view(warm, 0, &f, &nm, &vw, &by)) {
                replays++;
                with_hits += v2.n_hits > 0;
            }
            vg_detect_scratch_free(fresh);
        }
    }
    /* and the rules did fire where they should, and the memo did answer: the test is not
       vacuous */
    size_t n_reqs = sizeof reqs / sizeof reqs[0];
    if (replays < n_reqs || with_hits < 10)
        fail_msg("the request memo answered %zu times (%zu with hits)", replays, with_hits);
    assert_true(fires(det, 1, &reqs[1]));
    assert_false(fires(det, 1, &reqs[0]));
    assert_true(fires(det, 2, &reqs[5]));
    assert_false(fires(det, 2, &reqs[4]));
    assert_true(fires(det, 3, &reqs[8]));
    assert_false(fires(det, 3, &reqs[10]));
    assert_true(fires(det, 6, &reqs[14]));
    assert_false(fires(det, 7, &reqs[17]));
    assert_true(fires(det, 8, &reqs[17]));
    assert_true(fires(det, 7, &reqs[18]));
    detect_done();
    vg_detect_scratch_free(warm);
    vg_detector_free(det);
}

/*
 * The request memo and allowlists by source: the same request from an allowed address and from
 * another one keeps its own verdict, in either order, on a scratch that saw both (a verdict with
 * hits depends on the client then, and is not remembered); a clean request still is.
 */
static void test_request_memo_and_allowlists_by_source(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml("rules:\n" R(1, "fields: [args], regex: evil"));
    static const char allow[] = "allow:\n  - reason: office\n    sources: [10.0.0.0/8]\n";
    struct vg_allowlist *al = NULL;
    struct vg_error err = {0};
    assert_int_equal(vg_allowlist_load_yaml(&al, (const uint8_t *)allow, strlen(allow), "a.yaml",
                                            &err),
                     VG_OK);
    assert_true(vg_allowlist_by_source(al));
    vg_detector_set_allowlist(det, al);
    struct vg_detect_scratch *s = NULL;
    assert_int_equal(vg_detect_scratch_new(det, &s), VG_OK);
    static const char *const addrs[] = {"10.1.2.3", "11.1.2.3", "11.1.2.3", "10.9.9.9",
                                        "10.1.2.3", "11.1.2.3"};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        static struct req_buf b;
        struct vg_verdict v;
        struct req_spec sp = {.target = "/p?q=evil", .addr = addrs[i]};
        assert_int_equal(vg_detect_request(det, s, make_req(&b, &sp), &v), VG_OK);
        bool office = addrs[i][1] == '0';
        assert_int_equal(v.n_hits, office ? 0 : 1);
        assert_int_equal(v.n_allowed, office ? 1 : 0);
        assert_int_equal(v.score, office ? 0 : 5);
    }
    /* without sources in the allowlist, verdicts with hits are remembered */
    struct vg_detector *d2 = compile_yaml("rules:\n" R(1, "fields: [args], regex: evil"));
    static const char allow2[] = "allow:\n  - reason: wiki\n    paths: [/doku.php]\n";
    struct vg_allowlist *a2 = NULL;
    assert_int_equal(vg_allowlist_load_yaml(&a2, (const uint8_t *)allow2, strlen(allow2),
                                            "b.yaml", &err),
                     VG_OK);
    assert_false(vg_allowlist_by_source(a2));
    assert_false(vg_allowlist_by_source(NULL));
    vg_detector_set_allowlist(d2, a2);
    vg_detect_scratch_free(s);
    assert_int_equal(vg_detect_scratch_new(d2, &s), VG_OK);
    for (int round = 0; round < 2; round++) {
        static struct req_buf b;
        struct vg_verdict v;
        struct req_spec sp = {.target = "/doku.php?q=evil", .addr = "10.1.2.3"};
        assert_int_equal(vg_detect_request(d2, s, make_req(&b, &sp), &v), VG_OK);
        assert_int_equal(v.n_allowed, 1); /* allowed hits are not remembered: computed again */
        sp.target = "/p?q=evil";
        assert_int_equal(vg_detect_request(d2, s, make_req(&b, &sp), &v), VG_OK);
        assert_int_equal(v.n_hits, 1);
        assert_int_equal(v.score, 5);
        assert_true(same_str(v.hits[0].subject, vg_str_make("evil", 4)));
    }
    vg_detect_scratch_free(s);
    vg_detector_free(d2);
    vg_detector_free(det);
}

/*
 * The request memo's ring of verdicts with hits wraps: a verdict whose record was overwritten is
 * computed again (the same as a fresh scratch's), a recent one is replayed. Each request's hit
 * keeps 3,900 transformed bytes (not a slice of the request; the request stays short enough to
 * be remembered), so 5,000 of them are more than the ring holds.
 */
static void test_request_memo_ring_wraps(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n" R(1, "fields: [args], transforms: [lowercase], regex: 'evil[0-9]+'"));
    struct vg_detect_scratch *warm = NULL, *fresh = NULL;
    assert_int_equal(vg_detect_scratch_new(det, &warm), VG_OK);
    enum { N = 5000, PAD = 3900 };
    char *body = malloc(PAD + 32);
    assert_non_null(body);
    enum vg_field f;
    struct vg_str nm, by;
    const char *vw;
    static const int order[] = {-1, 0, N - 1};
    for (int k = -1; k < 3; k++) {
        int from = k < 0 ? 0 : order[k] < 0 ? 0 : order[k], to = k < 0 ? N : from + 1;
        if (k == 0)
            continue;
        for (int i = from; i < to; i++) {
            static struct req_buf b;
            int n = snprintf(body, 32, "a=EVIL%d", i);
            memset(body + n, 'A', PAD);
            body[n + PAD] = '\0';
            struct req_spec sp = {.target = "/p", .method = "POST", .body = body};
            struct vg_verdict v;
            assert_int_equal(vg_detect_request(det, warm, make_req(&b, &sp), &v), VG_OK);
            assert_int_equal(v.n_hits, 1);
            assert_int_equal(v.score, 5);
            assert_int_equal(v.hits[0].subject.n, (size_t)(n - 2 + PAD));
            assert_memory_equal(v.hits[0].subject.p, "evil", 4); /* lowercased: not a slice */
            bool replayed = !vg_detect_view(warm, 0, &f, &nm, &vw, &by);
            if (k < 0)
                assert_false(replayed); /* all different */
            else if (order[k] == 0)
                assert_false(replayed); /* overwritten since: computed again */
            else
                assert_true(replayed);  /* still in the ring */
            if (k >= 0) {
                struct vg_verdict v2;
                assert_int_equal(vg_detect_scratch_new(det, &fresh), VG_OK);
                assert_int_equal(vg_detect_request(det, fresh, make_req(&b, &sp), &v2), VG_OK);
                assert_int_equal(v2.hits[0].subject.n, v.hits[0].subject.n);
                vg_detect_scratch_free(fresh);
            }
        }
    }
    free(body);
    vg_detect_scratch_free(warm);
    vg_detector_free(det);
}

/*
 * A pattern that can match a single byte is found at the last byte of a long value, in both
 * engines and as a literal (Vectorscan 5.4.9 misses it there with HS_FLAG_SINGLEMATCH; see
 * vg_hs_single). Lengths around Vectorscan's 64-byte blocks.
 */
static void test_one_byte_patterns_match_at_the_end_of_long_values(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        R(1, "fields: [args], transform: raw, regex: '%'")
        R(2, "fields: [args], regex: 'z+'")
        R(3, "fields: [args], transforms: [lowercase], regex: 'q|abcdef'")
        R(4, "fields: [args], transforms: [lowercase], operator: contains, value: 'k'")
        R(5, "fields: [args], transforms: [lowercase], operator: phrases, phrases: [j, jjjjjj]")
        R(6, "fields: [args], transforms: [urlDecodeUni], regex: '[^\\x01-\\xff]'"));
    static const struct {
        uint32_t id;
        char last[4];
    } cases[] = {{1, "%"}, {2, "z"}, {3, "Q"}, {4, "K"}, {5, "J"}, {6, "%00"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t n = 1; n <= 300; n += (n < 140 ? 1 : 37)) {
            char target[400];
            size_t at = (size_t)snprintf(target, sizeof target, "/p?v=");
            memset(target + at, 'a', n);
            snprintf(target + at + n, sizeof target - at - n, "%s", cases[c].last);
            if (!fires_t(det, cases[c].id, target))
                fail_msg("rule %u missed '%s' after %zu bytes", cases[c].id, cases[c].last, n);
            target[at + n] = '\0';
            assert_false(fires_t(det, cases[c].id, target));
        }
    detect_done();
    vg_detector_free(det);
}

/*
 * A match in the last bytes of a long value is found wherever the value's bytes end in memory.
 * Vectorscan 5.4.9 loses such matches in some small databases when the input ends at offsets 12
 * to 52 of a 64-byte line (see vg_hs_scan): "union\s+select" beside "<script" missed the end of
 * "CCC...1' UNION SELECT 1,2--". The value grows one byte at a time, so its end (in the decode
 * buffer of the fast engine, in the view arena of the rule language) crosses every offset.
 */
static void test_matches_at_the_end_of_long_values_wherever_they_lie(void **state)
{
    (void)state;
    struct vg_detector *det = compile_yaml(
        "rules:\n"
        R(1, "fields: [args, cookie], regex: 'union\\s+select'")
        R(2, "fields: [args, path, referer], regex: '<script'")
        R(3, "fields: [args], transforms: [urlDecodeUni, lowercase], regex: 'union\\s+select'")
        R(4, "fields: [args], transforms: [urlDecodeUni, lowercase], regex: '<script'"));
    struct vg_detect_scratch *s = NULL;
    assert_int_equal(vg_detect_scratch_new(det, &s), VG_OK);
    for (size_t n = 40; n <= 200; n++) {
        char target[400];
        size_t at = (size_t)snprintf(target, sizeof target, "/p?v=");
        memset(target + at, 'C', n);
        snprintf(target + at + n, sizeof target - at - n, "1%%27%%09UNION%%09SELECT%%091,2--");
        static struct req_buf b;
        struct req_spec sp = {.target = target};
        struct vg_verdict v;
        /* on a fresh scratch and on one that saw the shorter values (other buffer offsets) */
        for (int warm = 0; warm < 2; warm++) {
            struct vg_detect_scratch *fresh = NULL;
            if (!warm)
                assert_int_equal(vg_detect_scratch_new(det, &fresh), VG_OK);
            assert_int_equal(vg_detect_request(det, warm ? s : fresh, make_req(&b, &sp), &v),
                             VG_OK);
            if (!hit_of(det, &v, 1) || !hit_of(det, &v, 3))
                fail_msg("%s scratch: union select missed after %zu bytes", warm ? "warm" : "fresh",
                         n);
            vg_detect_scratch_free(fresh);
        }
    }
    vg_detect_scratch_free(s);
    vg_detector_free(det);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_operator),
        cmocka_unit_test(test_negate_and_chain),
        cmocka_unit_test(test_exclude_group_author_and_class_scores),
        cmocka_unit_test(test_every_new_field),
        cmocka_unit_test(test_decoded_and_raw_views_of_new_fields),
        cmocka_unit_test(test_loader_rejects_bad_language_keys),
        cmocka_unit_test(test_phrases_file_and_hash),
        cmocka_unit_test(test_allowlist_semantics),
        cmocka_unit_test(test_examples_with_new_keys),
        cmocka_unit_test(test_plain_rules_are_unchanged),
        cmocka_unit_test(test_out_of_memory_in_the_language_fails_cleanly),
        cmocka_unit_test(test_memos_do_not_change_verdicts),
        cmocka_unit_test(test_request_memo_and_allowlists_by_source),
        cmocka_unit_test(test_request_memo_ring_wraps),
        cmocka_unit_test(test_one_byte_patterns_match_at_the_end_of_long_values),
        cmocka_unit_test(test_matches_at_the_end_of_long_values_wherever_they_lie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
