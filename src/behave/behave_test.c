/* SPDX-License-Identifier: Apache-2.0 */
/*
 * behave_test.c: the behaviour detectors on synthetic request sequences: each detector with its
 * threshold crossed and not crossed, the retroactive flagging of a burst's earlier requests,
 * class merging, idle expiry, replay and the checkpoint state round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "behave/behave.h"
#include "detect/detect.h"

/* ---- a tiny request builder and an emission recorder --------------------------------------- */

struct req_spec {
    const char *ip;
    int64_t t;
    const char *method, *path, *query;
    int status;
    int64_t bytes;
    const char *ua, *referer, *host, *user, *body;
};

#define MAX_EMITS 20000

struct emitted {
    uint64_t line_no;
    uint32_t classes;   /* behaviour classes */
    uint32_t sig;       /* signature classes */
    unsigned n_det;
    char why[VG_DET_COUNT][256];
    uint8_t det[VG_DET_COUNT];
    bool live, size_anomaly;
    char tool[32];
};

struct rig {
    struct vg_behave_config *cfg;
    struct vg_behave_scratch *scratch;
    struct vg_behave *b;
    struct emitted *e;
    size_t n;
    uint64_t line_no;
    char line[2048];
};

static vg_status record(void *user, const struct vg_behave_emit *e)
{
    struct rig *r = user;
    if (r->n == MAX_EMITS)
        return VG_E_LIMIT;
    struct emitted *x = &r->e[r->n++];
    memset(x, 0, sizeof *x);
    x->line_no = e->line_no;
    x->classes = e->classes;
    x->sig = e->sig.classes;
    x->n_det = e->n_det;
    x->live = e->live;
    x->size_anomaly = e->size_anomaly;
    for (unsigned i = 0; i < e->n_det; i++) {
        x->det[i] = e->det[i].detector;
        snprintf(x->why[i], sizeof x->why[i], "%s", e->det[i].why);
    }
    if (e->tool)
        snprintf(x->tool, sizeof x->tool, "%s", e->tool);
    /* the held copy is the line that was fed, with the fields an event shows */
    assert_true(e->line.n > 0);
    assert_true(e->req.method.n > 0);
    assert_true(e->req.target.n > 0 && e->req.target.p[0] == '/');
    assert_true(e->req.flags & VG_REQ_HAS_ADDR);
    return VG_OK;
}

static void rig_init(struct rig *r, const char *conf)
{
    memset(r, 0, sizeof *r);
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st = conf ? vg_behave_config_from_text((const uint8_t *)conf, strlen(conf), "test",
                                                     &r->cfg, &err)
                        : vg_behave_config_new(NULL, &r->cfg, &err);
    if (st != VG_OK)
        fail_msg("config: %s", err.message);
    assert_int_equal(vg_behave_scratch_new(&r->scratch), VG_OK);
    r->e = calloc(MAX_EMITS, sizeof *r->e);
    assert_non_null(r->e);
    struct vg_behave_env env = {r->cfg, NULL, record, r};
    assert_int_equal(vg_behave_new(&env, &r->b), VG_OK);
}

static void rig_fini(struct rig *r)
{
    vg_behave_free(r->b);
    vg_behave_scratch_free(r->scratch);
    vg_behave_config_free(r->cfg);
    free(r->e);
}

static struct vg_str view(const char *s)
{
    return s ? vg_str_make(s, strlen(s)) : VG_STR_NULL;
}

/* Feeds one request; sig_classes != 0 makes it a signature attack. */
static void feed_mode(struct rig *r, const struct req_spec *q, uint32_t sig_classes,
                      enum vg_feed_mode mode)
{
    struct vg_request req;
    memset(&req, 0, sizeof req);
    snprintf(r->line, sizeof r->line, "%s - - [t=%lld] \"%s %s%s%s\" %d %lld", q->ip,
             (long long)q->t, q->method ? q->method : "GET", q->path, q->query ? "?" : "",
             q->query ? q->query : "", q->status, (long long)q->bytes);
    req.line = view(r->line);
    assert_true(vg_addr_parse((const uint8_t *)q->ip, strlen(q->ip), &req.addr));
    req.flags = VG_REQ_HAS_ADDR | VG_REQ_HAS_TIME;
    req.time = q->t;
    req.method = view(q->method ? q->method : "GET");
    req.path = view(q->path);
    req.query = view(q->query);
    req.target = req.path;
    req.status = q->status;
    req.bytes = q->bytes;
    req.user_agent = view(q->ua);
    req.referer = view(q->referer);
    req.host = view(q->host);
    req.user = view(q->user);
    req.body = view(q->body);
    req.offset = r->line_no * 100;
    r->line_no++;
    req.line_no = r->line_no;
    struct vg_obs o;
    vg_behave_observe(r->cfg, r->scratch, &req, sig_classes, &o);
    struct vg_event_hit hit;
    memset(&hit, 0, sizeof hit);
    hit.rule_id = 942100;
    hit.message = "test rule";
    hit.class_name = "sqli";
    hit.field = VG_STR_LIT("args:q");
    hit.match = VG_STR_LIT("1' or 1=1");
    hit.transform = "decoded";
    struct vg_behave_sig sig = {5, sig_classes, 0, 1, &hit};
    struct vg_behave_req br = {&o, &req, req.line, req.host, r->line_no, 0,
                               sig_classes ? &sig : NULL, mode};
    assert_int_equal(vg_behave_feed(r->b, &br), VG_OK);
}

static void feed(struct rig *r, const struct req_spec *q)
{
    feed_mode(r, q, 0, VG_FEED_NORMAL);
}

static size_t count_class(const struct rig *r, int cls)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += (r->e[i].classes >> cls) & 1;
    return n;
}

static const struct emitted *find_line(const struct rig *r, uint64_t line_no)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].line_no == line_no)
            return &r->e[i];
    return NULL;
}

static const char *why_of(const struct emitted *e, int det)
{
    for (unsigned i = 0; i < e->n_det; i++)
        if (e->det[i] == det)
            return e->why[i];
    return NULL;
}

/* ---- forced browsing ------------------------------------------------------------------------ */

static void test_scan_fires_on_a_burst_of_misses_and_flags_the_misses_before_the_threshold(
    void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    char path[64];
    for (int i = 0; i < 40; i++) {
        snprintf(path, sizeof path, "/guess%03d", i);
        struct req_spec q = {"203.0.113.5", 1000 + i / 10, "GET", path, NULL, 404, 500,
                             "Mozilla/5.0", NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    /* A hit during the scan is part of it too. */
    struct req_spec hit = {"203.0.113.5", 1005, "GET", "/backup", NULL, 200, 9000, "Mozilla/5.0",
                           NULL, NULL, NULL, NULL};
    feed(&r, &hit);
    assert_int_equal(r.n, 41);
    assert_int_equal(count_class(&r, VG_CLASS_SCAN), 41);
    /* Every miss, including the first ones (held, then flagged), in input order. */
    for (size_t i = 0; i < 40; i++)
        assert_int_equal(r.e[i].line_no, i + 1);
    assert_false(r.e[0].live);
    assert_true(r.e[40].live);
    const char *why = why_of(&r.e[0], VG_DET_SCAN);
    assert_non_null(why);
    assert_non_null(strstr(why, "distinct paths"));
    rig_fini(&r);
}

static void test_scan_does_not_fire_below_the_distinct_path_threshold(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    char path[64];
    for (int i = 0; i < 60; i++) {
        /* 9 distinct paths over and over: a broken page, not a scan */
        snprintf(path, sizeof path, "/img/missing%d.png", i % 9);
        struct req_spec q = {"203.0.113.6", 1000 + i, "GET", path, NULL, 404, 500, "Mozilla/5.0",
                             NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    /* the same path with many different queries (a wiki's missing pages): one path */
    for (int i = 0; i < 60; i++) {
        char query[32];
        snprintf(query, sizeof query, "id=page%d", i);
        struct req_spec q = {"203.0.113.7", 1000 + i, "GET", "/doku.php", query, 404, 500,
                             "Wget/1.21.3", NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(r.n, 0);
    rig_fini(&r);
}

static void test_scan_discounts_misses_with_a_referer_and_a_gap_splits_episodes(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    char path[64];
    /* 30 broken links followed from a page (referer): weight 0.25 each, 7.5 < 20 */
    for (int i = 0; i < 30; i++) {
        snprintf(path, sizeof path, "/old/page%d", i);
        struct req_spec q = {"198.51.100.9", 5000 + i, "GET", path, NULL, 404, 100,
                             "Mozilla/5.0", "https://example.org/links", NULL, NULL, NULL};
        feed(&r, &q);
    }
    /* 15 misses, a pause longer than the gap (300 s), 15 more: two episodes of 15 */
    for (int i = 0; i < 30; i++) {
        snprintf(path, sizeof path, "/try%d", i);
        struct req_spec q = {"198.51.100.10", 10000 + i + (i >= 15 ? 400 : 0), "GET", path, NULL,
                             404, 100, "Mozilla/5.0", NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(r.n, 0);
    rig_fini(&r);
}

static void test_scan_fires_on_a_few_common_discovery_names(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    static const char *const words[] = {"/admin", "/backup", "/old", "/test", "/config",
                                        "/private"};
    for (size_t i = 0; i < VG_ARRAY_LEN(words); i++) {
        struct req_spec q = {"192.0.2.44", 2000 + 60 * (int64_t)i, "GET", words[i], NULL, 404,
                             100, "curl/8.0", NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    assert_int_equal(count_class(&r, VG_CLASS_SCAN), 6);
    rig_fini(&r);
}

static void test_verified_crawlers_are_not_flagged_for_crawling(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL); /* no ASN data: a crawler is trusted by its name */
    char path[64];
    for (int i = 0; i < 50; i++) {
        snprintf(path, sizeof path, "/gone/article-%d", i);
        struct req_spec q = {"66.249.66.1", 100 + i, "GET", path, NULL, 404, 100,
                             "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                             NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(r.n, 0);
    rig_fini(&r);
}

/* ---- probes --------------------------------------------------------------------------------- */

static void test_probe_flags_sensitive_files_and_wordpress_paths_on_other_sites(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    struct req_spec env = {"203.0.113.9", 100, "GET", "/.env", NULL, 404, 10, "x", NULL, NULL,
                           NULL, NULL};
    feed(&r, &env);
    struct req_spec git = {"203.0.113.9", 101, "GET", "/.git/config", NULL, 200, 300, "x", NULL,
                           NULL, NULL, NULL};
    feed(&r, &git);
    struct req_spec enc = {"203.0.113.9", 102, "GET", "/%2Eenv", NULL, 404, 10, "x", NULL, NULL,
                           NULL, NULL};
    feed(&r, &enc);
    struct req_spec wp = {"203.0.113.9", 103, "GET", "/wp-login.php", NULL, 404, 10, "x", NULL,
                          NULL, NULL, NULL};
    feed(&r, &wp);
    /* the misses among them are held while the scan episode they opened is undecided */
    assert_int_equal(r.n, 1);
    assert_int_equal(vg_behave_finish(r.b, true), VG_OK);
    assert_int_equal(count_class(&r, VG_CLASS_PROBE), 4);
    /* in input order except the 200, which nothing held: emitted at once */
    assert_int_equal(r.e[0].line_no, 2);
    assert_true(r.e[0].live);
    assert_int_equal(r.e[1].line_no, 1);
    assert_non_null(strstr(why_of(&r.e[1], VG_DET_PROBE), "sensitive file"));
    assert_non_null(strstr(why_of(&r.e[3], VG_DET_PROBE), "does not run WordPress"));
    /* On a WordPress site (it served /wp-content/), the login page is not a probe. */
    struct rig w;
    rig_init(&w, NULL);
    struct req_spec asset = {"198.51.100.1", 100, "GET", "/wp-content/themes/x/style.css", NULL,
                             200, 5000, "Mozilla/5.0", NULL, NULL, NULL, NULL};
    feed(&w, &asset);
    struct req_spec login = {"198.51.100.2", 101, "GET", "/wp-login.php", NULL, 200, 3000,
                             "Mozilla/5.0", NULL, NULL, NULL, NULL};
    feed(&w, &login);
    assert_int_equal(vg_behave_finish(w.b, false), VG_OK);
    assert_int_equal(w.n, 0);
    rig_fini(&w);
    rig_fini(&r);
}

static void test_probe_admin_panels_not_served_or_several_within_a_gap(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    /* One served panel: an administrator at work, not a probe. */
    struct req_spec own = {"198.51.100.20", 100, "GET", "/phpmyadmin/index.php", NULL, 200, 4000,
                           "Mozilla/5.0", NULL, NULL, NULL, NULL};
    feed(&r, &own);
    /* A panel the site does not serve: a probe at once. */
    struct req_spec nf = {"198.51.100.21", 100, "GET", "/adminer.php", NULL, 404, 10, "x", NULL,
                          NULL, NULL, NULL};
    feed(&r, &nf);
    assert_int_equal(r.n, 0); /* held: the miss opened a scan episode */
    assert_int_equal(vg_behave_finish(r.b, true), VG_OK);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(why_of(&r.e[0], VG_DET_PROBE), "not served here (404)"));
    /* Three distinct panels, served ones included: all three are probes. */
    static const char *const panels[] = {"/pma/", "/manager/html", "/jenkins/login"};
    for (size_t i = 0; i < 3; i++) {
        struct req_spec q = {"198.51.100.22", 200 + (int64_t)i, "GET", panels[i], NULL, 200, 800,
                             "x", NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    assert_int_equal(r.n, 4);
    assert_int_equal(count_class(&r, VG_CLASS_PROBE), 4);
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(r.n, 4); /* the administrator's request was let go */
    rig_fini(&r);
}

/* ---- brute force ---------------------------------------------------------------------------- */

static void test_bruteforce_fires_at_the_failure_threshold_and_flags_the_first_tries(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    for (int i = 0; i < 9; i++) {
        struct req_spec q = {"192.0.2.10", 100 + 20 * i, "POST", "/wp-login.php", NULL, 200, 4000,
                             "Mozilla/5.0", NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    assert_int_equal(vg_behave_finish(r.b, true), VG_OK);
    assert_int_equal(r.n, 9); /* WordPress paths on a non-WordPress site are probes */
    assert_int_equal(count_class(&r, VG_CLASS_BRUTEFORCE), 0);
    struct rig w;
    rig_init(&w, NULL);
    struct req_spec asset = {"198.51.100.1", 90, "GET", "/wp-includes/js/x.js", NULL, 200, 500,
                             "Mozilla/5.0", NULL, NULL, NULL, NULL};
    feed(&w, &asset);
    for (int i = 0; i < 9; i++) {
        struct req_spec q = {"192.0.2.10", 100 + 20 * i, "POST", "/wp-login.php", NULL, 200, 4000,
                             "Mozilla/5.0", NULL, NULL, NULL, NULL};
        feed(&w, &q);
    }
    assert_int_equal(w.n, 0); /* 9 failures: below the bar of 10 */
    struct req_spec tenth = {"192.0.2.10", 300, "POST", "/wp-login.php", NULL, 200, 4000,
                             "Mozilla/5.0", NULL, NULL, NULL, NULL};
    feed(&w, &tenth);
    /* The login that finally works (a redirect) is flagged too: the possible success. */
    struct req_spec ok = {"192.0.2.10", 320, "POST", "/wp-login.php", NULL, 302, 0, "Mozilla/5.0",
                          NULL, NULL, NULL, NULL};
    feed(&w, &ok);
    assert_int_equal(vg_behave_finish(w.b, true), VG_OK);
    assert_int_equal(w.n, 11);
    assert_int_equal(count_class(&w, VG_CLASS_BRUTEFORCE), 11);
    assert_int_equal(w.e[0].line_no, 2);
    assert_non_null(strstr(why_of(&w.e[0], VG_DET_BRUTE), "10 failed logins"));
    rig_fini(&w);
    rig_fini(&r);
}

static void test_bruteforce_ignores_injection_payloads_and_sql_injection_tools(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    for (int i = 0; i < 20; i++) {
        struct req_spec q = {"192.0.2.11", 100 + i, "POST", "/doku.php", "id=start&do=login", 403,
                             11000, "sqlmap/1.7.2#stable (https://sqlmap.org)", NULL, NULL, NULL,
                             NULL};
        feed(&r, &q);
    }
    for (int i = 0; i < 20; i++) {
        struct req_spec q = {"192.0.2.12", 100 + i, "POST", "/login", NULL, 401, 10, "curl/8",
                             NULL, NULL, NULL, NULL};
        feed_mode(&r, &q, 1u << VG_CLASS_SQLI, VG_FEED_NORMAL);
    }
    assert_int_equal(vg_behave_finish(r.b, true), VG_OK);
    assert_int_equal(r.n, 40);
    assert_int_equal(count_class(&r, VG_CLASS_BRUTEFORCE), 0);
    assert_int_equal(count_class(&r, VG_CLASS_TOOL), 20); /* sqlmap is still a tool */
    rig_fini(&r);
}

static void test_bruteforce_many_user_names_and_one_user_from_many_sources(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    /* one source, five user names (the body is logged): stuffing */
    static const char *const users[] = {"alice", "bob", "carol", "dave", "erin"};
    for (int i = 0; i < 5; i++) {
        char body[64];
        snprintf(body, sizeof body, "log=%s&pwd=x", users[i]);
        struct req_spec q = {"192.0.2.20", 100 + i, "POST", "/wp-login.php", NULL, 200, 4000,
                             "Mozilla/5.0", NULL, NULL, NULL, body};
        feed(&r, &q);
    }
    assert_int_equal(vg_behave_finish(r.b, true), VG_OK);
    size_t before = count_class(&r, VG_CLASS_BRUTEFORCE);
    assert_int_equal(before, 5);
    /* one user name from six sources, four tries each: distributed */
    char ip[32];
    for (int s = 0; s < 6; s++) {
        for (int i = 0; i < 4; i++) {
            snprintf(ip, sizeof ip, "198.18.%d.%d", s, 7);
            struct req_spec q = {ip, 1000 + s * 10 + i, "POST", "/user/login", NULL, 200, 900,
                                 "Mozilla/5.0", NULL, NULL, NULL, "name=admin&pass=guess"};
            feed(&r, &q);
        }
    }
    /* name= is not a user-name field by default: nothing links them */
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(count_class(&r, VG_CLASS_BRUTEFORCE), before);
    struct rig d;
    rig_init(&d, "[bruteforce]\nusername_field += name\n");
    for (int s = 0; s < 6; s++) {
        for (int i = 0; i < 4; i++) {
            snprintf(ip, sizeof ip, "198.18.%d.%d", s, 7);
            struct req_spec q = {ip, 1000 + s * 10 + i, "POST", "/user/login", NULL, 200, 900,
                                 "Mozilla/5.0", NULL, NULL, NULL, "name=admin&pass=guess"};
            feed(&d, &q);
        }
    }
    /* the fifth source crosses 5 sources / 20 failures: all 24 tries are brute force */
    assert_int_equal(vg_behave_finish(d.b, false), VG_OK);
    assert_int_equal(count_class(&d, VG_CLASS_BRUTEFORCE), 24);
    assert_non_null(strstr(why_of(&d.e[0], VG_DET_BRUTE), "from 5 sources"));
    rig_fini(&d);
    rig_fini(&r);
}

/* ---- floods --------------------------------------------------------------------------------- */

static void test_flood_fires_on_identical_answers_and_flags_the_whole_burst(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, "[flood]\nmin_requests = 200\nmin_requests_in_spike = 50\n");
    for (int i = 0; i < 200; i++) {
        struct req_spec q = {"203.0.113.50", 1000 + i / 10, "GET", "/search", NULL, 200, 5120,
                             "python-requests/2.31", NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    assert_int_equal(r.n, 0); /* 199 repeats: one short */
    struct req_spec q = {"203.0.113.50", 1020, "GET", "/search", NULL, 200, 5120,
                         "python-requests/2.31", NULL, NULL, NULL, NULL};
    feed(&r, &q);
    /* the first request is not a repeat; the 200 repeats are the flood, the first ones too */
    assert_int_equal(count_class(&r, VG_CLASS_FLOOD), 200);
    assert_int_equal(r.e[0].line_no, 2);
    /* a crawl of distinct pages at the same speed is not a flood */
    struct rig c;
    rig_init(&c, "[flood]\nmin_requests = 200\nmin_requests_in_spike = 50\n");
    for (int i = 0; i < 400; i++) {
        char query[32];
        snprintf(query, sizeof query, "id=page%d", i);
        struct req_spec w = {"203.0.113.51", 1000 + i / 50, "GET", "/doku.php", query, 200,
                             12000 + i, "Wget/1.21.3", NULL, NULL, NULL, NULL};
        feed(&c, &w);
    }
    /* a monitor polling one page is not judged */
    for (int i = 0; i < 400; i++) {
        struct req_spec m = {"203.0.113.52", 1000 + i / 50, "HEAD", "/", NULL, 200, 0,
                             "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
                             NULL, NULL, NULL, NULL};
        feed(&c, &m);
    }
    assert_int_equal(vg_behave_finish(c.b, false), VG_OK);
    assert_int_equal(c.n, 0);
    rig_fini(&c);
    rig_fini(&r);
}

static void test_flood_burst_of_identical_answers_within_seconds(void **state)
{
    (void)state;
    /* A tool's POST run: 300 requests in 3 s to one endpoint, mostly the same short answer,
       every tenth a different one. Defaults: burst_min 200 within burst_window 10 s. */
    struct rig r;
    rig_init(&r, NULL);
    for (int i = 0; i < 300; i++) {
        bool odd = i % 10 == 9;
        struct req_spec q = {"203.0.113.60", 5000 + i / 100, "POST", "/lib/exe/ajax.php", NULL,
                             200, odd ? 100 + i : 5, "Mozilla/5.0 (X11; Linux x86_64)", NULL,
                             NULL, NULL, NULL};
        feed(&r, &q);
    }
    assert_int_equal(vg_behave_finish(r.b, true), VG_OK);
    size_t n = count_class(&r, VG_CLASS_FLOOD);
    /* every repeat, and the different answers after the flood fired */
    assert_true(n >= 270 - 1);
    assert_true(n < 300);
    assert_non_null(strstr(why_of(&r.e[0], VG_DET_FLOOD), "a burst of"));
    /* the same 150 times in 3 s, or 300 times spread over 5 minutes, is no burst */
    struct rig c;
    rig_init(&c, NULL);
    for (int i = 0; i < 150; i++) {
        struct req_spec q = {"203.0.113.61", 5000 + i / 50, "POST", "/api/poll", NULL, 200, 5,
                             "Mozilla/5.0 (X11; Linux x86_64)", NULL, NULL, NULL, NULL};
        feed(&c, &q);
    }
    for (int i = 0; i < 300; i++) {
        struct req_spec q = {"203.0.113.62", 5000 + i, "GET", "/api/poll", NULL, 200, 5,
                             "Mozilla/5.0 (X11; Linux x86_64)", NULL, NULL, NULL, NULL};
        feed(&c, &q);
    }
    assert_int_equal(vg_behave_finish(c.b, true), VG_OK);
    assert_int_equal(count_class(&c, VG_CLASS_FLOOD), 0);
    rig_fini(&c);
    rig_fini(&r);
}

/* ---- tools ---------------------------------------------------------------------------------- */

static void test_tool_fingerprints_strong_and_two_weak_signals(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    struct req_spec q = {"192.0.2.30", 100, "GET", "/", NULL, 200, 100, "sqlmap/1.7.2#stable", NULL,
                         NULL, NULL, NULL};
    feed(&r, &q);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.e[0].tool, "sqlmap");
    assert_non_null(strstr(why_of(&r.e[0], VG_DET_TOOL), "sqlmap (SQL injection tool)"));
    /* dirb's default user agent alone is an old browser's */
    struct req_spec ua = {"192.0.2.31", 100, "GET", "/", NULL, 200, 100,
                          "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", NULL, NULL, NULL,
                          NULL};
    feed(&r, &ua);
    assert_int_equal(r.n, 1);
    /* ... with its not-found calibration probe it is dirb */
    struct req_spec probe = {"192.0.2.31", 101, "GET", "/randomfile1", NULL, 404, 100,
                             "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", NULL, NULL, NULL,
                             NULL};
    feed(&r, &probe);
    /* held for the open scan episode until the end of input */
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.e[1].tool, "dirb");
    assert_true(r.e[1].classes & (1u << VG_CLASS_TOOL));
    assert_non_null(strstr(why_of(&r.e[1], VG_DET_TOOL), "/randomfile1"));
    rig_fini(&r);
}

/* ---- merging, expiry, replay, checkpoints ---------------------------------------------------- */

static void test_signature_attack_held_by_an_open_scan_gets_both_classes(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    char path[64];
    for (int i = 0; i < 25; i++) {
        snprintf(path, sizeof path, "/x%d", i);
        struct req_spec q = {"203.0.113.77", 100, "GET", path, "q=1%27", 404, 50, "x", NULL, NULL,
                             NULL, NULL};
        feed_mode(&r, &q, i == 0 ? 1u << VG_CLASS_SQLI : 0, VG_FEED_NORMAL);
    }
    const struct emitted *first = find_line(&r, 1);
    assert_non_null(first);
    assert_int_equal(first->sig, 1u << VG_CLASS_SQLI);
    assert_true(first->classes & (1u << VG_CLASS_SCAN));
    rig_fini(&r);
}

/* ---- parameter sweeps (fuzzers) ------------------------------------------------------------- */

static bool has_det(const struct emitted *e, int det)
{
    return why_of(e, det) != NULL;
}

/* A wfuzz-like sweep of q: 60 values in 30 s, one in three a signature hit (mostly sqli). It
   fires at the 20th new value; when the sweep pauses for the gap, every request of it, the 19
   before the threshold included, is emitted with detector fuzz and class sqli, in input order;
   a later ordinary search by the same source is not part of it. */
static void test_fuzz_sweep_fires_and_flags_every_request_with_its_class(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    char query[96];
    for (int i = 0; i < 60; i++) {
        snprintf(query, sizeof query, "id=start&do=search&q=payload-%d-%c", i * 7919,
                 'a' + i % 26);
        struct req_spec q = {"203.0.113.50", 1000 + i / 2, "GET", "/doku.php", query, 200, 1000 + i,
                             "Mozilla/5.0", NULL, NULL, NULL, NULL};
        uint32_t sig = i % 3 == 0 ? (i % 9 == 0 ? 1u << VG_CLASS_XSS : 1u << VG_CLASS_SQLI) : 0;
        feed_mode(&r, &q, sig, VG_FEED_NORMAL);
    }
    /* nothing leaves the stage while the sweep goes on (its class is decided on all of it)
       but the held copies; the gap passes (another source's request moves the clock) */
    assert_int_equal(r.n, 0);
    struct req_spec other = {"198.51.100.1", 1100, "GET", "/", NULL, 200, 10, "x", NULL, NULL,
                             NULL, NULL};
    feed(&r, &other);
    assert_int_equal(r.n, 60);
    for (size_t i = 0; i < r.n; i++) {
        assert_int_equal(r.e[i].line_no, i + 1);
        assert_true(has_det(&r.e[i], VG_DET_FUZZ));
        assert_true(r.e[i].classes & (1u << VG_CLASS_SQLI));
        assert_false(r.e[i].classes & (1u << VG_CLASS_XSS)); /* one class: the sweep's */
        assert_false(r.e[i].live);
    }
    const char *why = why_of(&r.e[0], VG_DET_FUZZ);
    assert_non_null(strstr(why, "parameter q of /doku.php swept with"));
    assert_non_null(strstr(why, "in 29 s, 20 of them signature hits"));
    /* the source searches again later, like anyone: not a sweep any more */
    struct req_spec later = {"203.0.113.50", 1200, "GET", "/doku.php", "id=start&do=search&q=x",
                             200, 1000, "Mozilla/5.0", NULL, NULL, NULL, NULL};
    feed(&r, &later);
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(r.n, 60);
    rig_fini(&r);
}

/* Payloads with '&' make stray parameters ("&ltscript&gt" -> "lt", "gtalert"); they must not
   push the swept parameter out of its slot, and a sweep decided at the end of the input is
   emitted by vg_behave_finish. */
static void test_fuzz_sweep_survives_stray_parameters_and_ends_with_the_input(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    char query[96];
    for (int i = 0; i < 40; i++) {
        if (i % 4 == 3)
            snprintf(query, sizeof query, "id=%%3Cx%d&lt%d&gt%d=alert&k%d", i, i, i, i);
        else
            snprintf(query, sizeof query, "id=%%3Cscript%%3E%d", i * 31);
        struct req_spec q = {"203.0.113.51", 2000, "GET", "/doku.php", query, 404, 500,
                             "Mozilla/5.0", NULL, NULL, NULL, NULL};
        feed_mode(&r, &q, i % 5 ? 1u << VG_CLASS_XSS : 0, VG_FEED_NORMAL);
    }
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(r.n, 40);
    assert_int_equal(count_class(&r, VG_CLASS_XSS), 40);
    for (size_t i = 0; i < r.n; i++)
        assert_true(has_det(&r.e[i], VG_DET_FUZZ));
    assert_non_null(strstr(why_of(&r.e[0], VG_DET_FUZZ), "parameter id of /doku.php"));
    rig_fini(&r);
}

/* A person searching: a search-as-you-type box sends every prefix of what is typed (one to
   three bytes more each time, or fewer after a backspace), a few quick full searches, some of
   them with words signatures flag. Never a sweep. */
static void test_fuzz_human_search_session_does_not_fire(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    const char *typed = "why+does+%27+or+1%3D1+--+work+in+sql+union+select";
    size_t sigs = 0;
    int64_t t = 5000;
    char body[128];
    for (int round = 0; round < 3; round++) {
        for (size_t n = 1; n <= strlen(typed); n++) {
            if (typed[n - 1] == '%' || (n >= 2 && typed[n - 2] == '%'))
                continue; /* a typed character arrives whole */
            if (n > 4 && n % 9 == 0) /* a backspace and a retype */
                snprintf(body, sizeof body, "call=qsearch&q=%.*s", (int)(n - 2), typed);
            else
                snprintf(body, sizeof body, "call=qsearch&q=%.*s", (int)n, typed);
            struct req_spec q = {"192.0.2.70", t++, "POST", "/lib/exe/ajax.php", NULL, 200, 80,
                                 "Mozilla/5.0", NULL, NULL, NULL, body};
            uint32_t sig = n > 16 ? 1u << VG_CLASS_SQLI : 0;
            sigs += sig != 0;
            feed_mode(&r, &q, sig, VG_FEED_NORMAL);
        }
        t += 40;
    }
    /* then 15 different searches, one every 8 s, some flagged */
    char query[96];
    for (int i = 0; i < 15; i++) {
        snprintf(query, sizeof query, "do=search&id=start&q=drop+table+question+%d", i);
        struct req_spec q = {"192.0.2.70", t + i * 8, "GET", "/doku.php", query, 200, 5000,
                             "Mozilla/5.0", NULL, NULL, NULL, NULL};
        uint32_t sig = i % 2 ? 1u << VG_CLASS_SQLI : 0;
        sigs += sig != 0;
        feed_mode(&r, &q, sig, VG_FEED_NORMAL);
    }
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(r.n, sigs); /* the signature hits, and nothing more */
    for (size_t i = 0; i < r.n; i++)
        assert_false(has_det(&r.e[i], VG_DET_FUZZ));
    rig_fini(&r);
}

/* An editor saving one page 30 times, every 10 s, each body different and each with code that
   signatures flag (SELECT ... FROM, <script>): a person's pace, not a sweep. */
static void test_fuzz_editor_saving_a_page_30_times_does_not_fire(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    char body[256];
    for (int i = 0; i < 30; i++) {
        snprintf(body, sizeof body,
                 "sectok=9f2c&id=sql%%3Abasics&wikitext=SELECT+%%2A+FROM+t%d+%%3Cscript%%3E&"
                 "summary=edit+%d&do%%5Bsave%%5D=1",
                 i, i);
        struct req_spec q = {"192.0.2.80", 7000 + i * 10, "POST", "/doku.php", NULL, 302, 0,
                             "Mozilla/5.0", NULL, NULL, NULL, body};
        feed_mode(&r, &q, (1u << VG_CLASS_SQLI) | (1u << VG_CLASS_XSS), VG_FEED_NORMAL);
    }
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(r.n, 30); /* the signature verdicts pass through, nothing is added */
    for (size_t i = 0; i < r.n; i++)
        assert_false(has_det(&r.e[i], VG_DET_FUZZ));
    rig_fini(&r);
}

/* A crawler paginating ?page=1..500 at 5 requests a second: hundreds of values, no signature
   hit. Never a sweep; what it held is let go at the gap, and its state is freed. */
static void test_fuzz_paginating_crawler_does_not_fire_and_its_state_expires(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    char query[64];
    for (int i = 1; i <= 500; i++) {
        snprintf(query, sizeof query, "sort=new&page=%d", i);
        struct req_spec q = {"192.0.2.90", 9000 + i / 5, "GET", "/list.php", query, 200, 3000 + i,
                             "Wget/1.21", NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    struct vg_behave_stats s;
    vg_behave_get_stats(r.b, &s);
    assert_int_equal(s.sweeps, 1);
    assert_true(s.pending > 0 && s.pending <= 500);
    /* the clock moves past the gap: the held copies are let go, the state freed */
    struct req_spec other = {"198.51.100.2", 9200, "GET", "/", NULL, 200, 10, "x", NULL, NULL,
                             NULL, NULL};
    feed(&r, &other);
    vg_behave_get_stats(r.b, &s);
    assert_int_equal(s.sweeps, 0);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.exts, 0);
    assert_int_equal(r.n, 0);
    rig_fini(&r);
}

/* Below the rate: the same 60 payloads spread over 10 minutes (6 a minute) do not fire; a
   slow sweep is left to signatures. With [fuzz] min_values lowered they do. */
static void test_fuzz_rate_and_thresholds_come_from_the_config(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        struct rig r;
        rig_init(&r, pass ? "[fuzz]\nmin_values = 5\nwindow = 60s\n" : NULL);
        char query[64];
        for (int i = 0; i < 60; i++) {
            snprintf(query, sizeof query, "q=v%d", i * 104729);
            struct req_spec q = {"203.0.113.60", 20000 + i * 10, "GET", "/search", query, 200,
                                 100 + i, "x", NULL, NULL, NULL, NULL};
            feed_mode(&r, &q, i % 2 ? 1u << VG_CLASS_CMDI : 0, VG_FEED_NORMAL);
        }
        assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
        size_t fuzz = 0;
        for (size_t i = 0; i < r.n; i++)
            fuzz += has_det(&r.e[i], VG_DET_FUZZ);
        if (pass == 0) {
            assert_int_equal(fuzz, 0);
            assert_int_equal(r.n, 30);
        } else {
            assert_int_equal(fuzz, 60);
            assert_int_equal(count_class(&r, VG_CLASS_CMDI), 60);
        }
        rig_fini(&r);
    }
}

/* A fired sweep is part of the checkpoint state: a fresh stage that imports it goes on
   flagging the sweep's requests (revived ones included). */
static void test_fuzz_fired_sweep_survives_the_state_round_trip(void **state)
{
    (void)state;
    struct rig a, c;
    rig_init(&a, NULL);
    rig_init(&c, NULL);
    char query[64];
    for (int i = 0; i < 30; i++) {
        snprintf(query, sizeof query, "q=p%d", i * 7);
        struct req_spec q = {"203.0.113.70", 30000, "GET", "/s", query, 200, 100 + i, "x", NULL,
                             NULL, NULL, NULL};
        feed_mode(&a, &q, 1u << VG_CLASS_SQLI, VG_FEED_NORMAL);
    }
    struct vg_buf blob;
    vg_buf_init(&blob, 0);
    assert_int_equal(vg_behave_export_state(a.b, &blob), VG_OK);
    assert_int_equal(vg_behave_import_state(c.b, blob.p, blob.n), VG_OK);
    struct req_spec q = {"203.0.113.70", 30001, "GET", "/s", "q=more", 200, 100, "x", NULL, NULL,
                         NULL, NULL};
    feed_mode(&c, &q, 0, VG_FEED_REVIVE);
    assert_int_equal(vg_behave_finish(c.b, false), VG_OK);
    assert_int_equal(c.n, 1);
    assert_true(has_det(&c.e[0], VG_DET_FUZZ));
    assert_true(c.e[0].classes & (1u << VG_CLASS_SQLI));
    vg_buf_fini(&blob);
    assert_int_equal(vg_behave_finish(a.b, false), VG_OK);
    assert_int_equal(a.n, 30);
    rig_fini(&a);
    rig_fini(&c);
}

static void test_idle_sources_expire_and_state_stays_bounded(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, "[behave]\nidle = 60\nmax_sources = 1000\n");
    char ip[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        struct req_spec q = {ip, i / 10, "GET", "/", NULL, i % 7 ? 200 : 404, 100, "x", NULL,
                             NULL, NULL, NULL};
        feed(&r, &q);
    }
    struct vg_behave_stats s;
    vg_behave_get_stats(r.b, &s);
    assert_true(s.sources <= 610); /* 60 s at 10 new sources per second */
    assert_true(s.sources_peak <= 1000);
    assert_true(s.expired > 19000);
    /* a burst of distinct sources faster than idle hits max_sources instead */
    for (int i = 0; i < 5000; i++) {
        snprintf(ip, sizeof ip, "172.16.%d.%d", (i >> 8) & 255, i & 255);
        struct req_spec q = {ip, 5000, "GET", "/", NULL, 200, 100, "x", NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    vg_behave_get_stats(r.b, &s);
    assert_true(s.sources <= 1000);
    assert_true(s.evicted > 0);
    rig_fini(&r);
}

/* A source whose scan fired, dropped when idle and by the cap, then back: its detector state is
   freed once (ASan run), its held requests decided, and a new episode starts from zero. */
static void test_fired_sources_expire_and_come_back_as_new_episodes(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, "[behave]\nidle = 60\nmax_sources = 50\n");
    char path[64], ip[32];
    for (int round = 0; round < 2; round++) {
        int64_t t0 = round * 10000;
        for (int i = 0; i < 40; i++) {
            snprintf(path, sizeof path, "/r%d-guess%03d", round, i);
            struct req_spec q = {"203.0.113.5", t0 + i, "GET", path, NULL, 404, 500,
                                 "Mozilla/5.0", NULL, NULL, NULL, NULL};
            feed(&r, &q);
        }
        /* still in force when the source goes idle: 200 other sources later it is gone */
        for (int i = 0; i < 200; i++) {
            snprintf(ip, sizeof ip, "10.0.%d.%d", round, i);
            struct req_spec q = {ip, t0 + 100 + i, "GET", "/", NULL, 200, 100, "x", NULL, NULL,
                                 NULL, NULL};
            feed(&r, &q);
        }
        assert_int_equal(count_class(&r, VG_CLASS_SCAN), (size_t)(40 * (round + 1)));
    }
    /* an open, undecided episode dropped at the cap: its held requests are let go */
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "/few%03d", i);
        struct req_spec q = {"198.51.100.77", 30000 + i, "GET", path, NULL, 404, 500, "x", NULL,
                             NULL, NULL, NULL};
        feed(&r, &q);
    }
    struct vg_behave_stats s;
    vg_behave_get_stats(r.b, &s);
    assert_true(s.pending > 0);
    for (int i = 0; i < 60; i++) {
        snprintf(ip, sizeof ip, "10.1.0.%d", i);
        struct req_spec q = {ip, 30010, "GET", "/", NULL, 200, 100, "x", NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    vg_behave_get_stats(r.b, &s);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.exts, 0);
    assert_true(s.evicted > 0 && s.expired > 0);
    assert_int_equal(r.n, 80); /* the two scans only */
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    rig_fini(&r);
}

static void test_replayed_lines_rebuild_state_but_are_never_emitted(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    char path[64];
    for (int i = 0; i < 30; i++) {
        snprintf(path, sizeof path, "/r%d", i);
        struct req_spec q = {"203.0.113.80", 100, "GET", path, NULL, 404, 50, "x", NULL, NULL, NULL,
                             NULL};
        feed_mode(&r, &q, 0, i < 15 ? VG_FEED_REPLAY : VG_FEED_NORMAL);
    }
    /* the scan fired on the 20th request thanks to the replayed ones; only fresh lines emit */
    assert_int_equal(r.n, 15);
    for (size_t i = 0; i < r.n; i++)
        assert_true(r.e[i].line_no > 15);
    rig_fini(&r);
}

static void test_pending_offsets_and_state_round_trip(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    char path[64];
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "/p%d", i);
        struct req_spec q = {"203.0.113.90", 100 + i, "GET", path, NULL, 404, 50, "x", NULL, NULL,
                             NULL, NULL};
        feed(&r, &q);
    }
    uint64_t off = 0, line = 0;
    assert_true(vg_behave_pending_oldest(r.b, 0, &off, &line));
    assert_int_equal(off, 0);
    assert_int_equal(line, 1);
    assert_false(vg_behave_pending_oldest(r.b, 1, &off, &line));
    struct vg_buf blob;
    vg_buf_init(&blob, 0);
    assert_int_equal(vg_behave_pending_offsets(r.b, 0, &blob), VG_OK);
    uint64_t *offs;
    size_t n;
    assert_int_equal(vg_behave_offsets_decode(blob.p, blob.n, &offs, &n), VG_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(offs[i], i * 100);
    vg_free(offs);
    static const uint8_t bad[] = {0x80, 0x80};
    assert_int_equal(vg_behave_offsets_decode(bad, sizeof bad, &offs, &n), VG_E_CORRUPT);
    static const uint8_t dup[] = {0x05, 0x00};
    assert_int_equal(vg_behave_offsets_decode(dup, sizeof dup, &offs, &n), VG_E_CORRUPT);
    vg_buf_fini(&blob);

    /* A source in a fired scan keeps being flagged after export and import. */
    for (int i = 5; i < 30; i++) {
        snprintf(path, sizeof path, "/p%d", i);
        struct req_spec q = {"203.0.113.90", 100 + i, "GET", path, NULL, 404, 50, "x", NULL, NULL,
                             NULL, NULL};
        feed(&r, &q);
    }
    assert_int_equal(count_class(&r, VG_CLASS_SCAN), 30);
    struct vg_buf st;
    vg_buf_init(&st, 0);
    assert_int_equal(vg_behave_export_state(r.b, &st), VG_OK);
    struct rig r2;
    rig_init(&r2, NULL);
    assert_int_equal(vg_behave_import_state(r2.b, st.p, st.n), VG_OK);
    struct req_spec next = {"203.0.113.90", 200, "GET", "/after", NULL, 200, 50, "x", NULL, NULL,
                            NULL, NULL};
    feed(&r2, &next);
    assert_int_equal(r2.n, 1);
    assert_true(r2.e[0].classes & (1u << VG_CLASS_SCAN));
    /* damaged state is refused, not half-read */
    st.p[st.n / 2] ^= 0xff;
    struct rig r3;
    rig_init(&r3, NULL);
    assert_int_equal(vg_behave_import_state(r3.b, st.p, 7), VG_E_CORRUPT);
    rig_fini(&r3);
    vg_buf_fini(&st);
    rig_fini(&r2);
    rig_fini(&r);
}

static void test_size_anomaly_marks_unusually_large_answers(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, NULL);
    for (int i = 0; i < 10; i++) {
        struct req_spec q = {"198.51.100.60", 100 + i, "GET", "/search", "q=hello", 200, 5000, "x",
                             NULL, NULL, NULL, NULL};
        feed(&r, &q);
    }
    struct req_spec big = {"203.0.113.61", 200, "GET", "/search", "q=1' union select", 200, 90000,
                           "x", NULL, NULL, NULL, NULL};
    feed_mode(&r, &big, 1u << VG_CLASS_SQLI, VG_FEED_NORMAL);
    struct req_spec same = {"203.0.113.61", 201, "GET", "/search", "q=1' and 1=2", 200, 5100, "x",
                            NULL, NULL, NULL, NULL};
    feed_mode(&r, &same, 1u << VG_CLASS_SQLI, VG_FEED_NORMAL);
    /* (held while a parameter sweep of q may still form) */
    assert_int_equal(vg_behave_finish(r.b, false), VG_OK);
    assert_int_equal(r.n, 2);
    assert_true(r.e[0].size_anomaly);
    assert_false(r.e[1].size_anomaly);
    rig_fini(&r);
}

/* ---- configuration --------------------------------------------------------------------------- */

static void test_config_rejects_bad_lines_naming_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t line;
        const char *msg;
    } bad[] = {
        {"[scan]\nmin_misses = lots\n", 2, "not a number"},
        {"[scan]\ngap = 5 minutes\n", 2, "not a duration"},
        {"[nowhere]\n", 1, "unknown section"},
        {"[scan]\nmin_mises = 3\n", 2, "unknown key"},
        {"min_misses = 3\n", 1, "outside of a [section]"},
        {"[scan]\nreferer_weight = 2\n", 2, "out of range"},
        {"[scan]\nmin_distinct_paths = 2.5\n", 2, "whole number"},
        {"[scan]\nmiss_status = 4040\n", 2, "HTTP status"},
        {"[probe]\nsensitive = env\n", 2, "starts with '/'"},
        {"[probe]\nsensitive = /*\n", 2, "every path"},
        {"[probe]\nadmin = ?x=1\n", 2, "login only"},
        {"[agents]\ncrawler = OnlyName\n", 2, "NAME | user-agent"},
        {"[agents]\ncrawler = X | x | AS15169\n", 2, "AS numbers"},
        {"[tools]\ntool = X | nuke | ua~x\n", 2, "purpose"},
        {"[tools]\ntool = X | any | agent~x\n", 2, "a signal is"},
        {"[scan]\ngap += 5\n", 2, "+= is for lists"},
        {"[flood]\nmin_requests = 10\nmin_requests_in_spike = 20\n", 0, "must not exceed"},
        {"[flood]\nburst_window = 2m\n", 0, "burst_window must not exceed"},
        {"[scan\n", 1, "section header"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        struct vg_behave_config *cfg = (struct vg_behave_config *)1;
        struct vg_error err;
        memset(&err, 0, sizeof err);
        vg_status st = vg_behave_config_from_text((const uint8_t *)bad[i].text,
                                                  strlen(bad[i].text), "my.conf", &cfg, &err);
        if (st == VG_OK || cfg || err.line != bad[i].line || !strstr(err.message, bad[i].msg))
            fail_msg("case %zu: status %d, line %zu, message '%s'", i, st, err.line, err.message);
    }
}

static void test_config_lists_replace_or_extend_the_defaults(void **state)
{
    (void)state;
    struct vg_behave_config *def, *rep, *ext;
    struct vg_error err;
    assert_int_equal(vg_behave_config_new(NULL, &def, &err), VG_OK);
    const char *r = "[probe]\nsensitive = /secret.txt   my secret\n[scan]\nmin_misses = 5\ngap = 2m\n";
    assert_int_equal(vg_behave_config_from_text((const uint8_t *)r, strlen(r), "r", &rep, &err),
                     VG_OK);
    const char *e = "[probe]\nsensitive += /secret.txt\n";
    assert_int_equal(vg_behave_config_from_text((const uint8_t *)e, strlen(e), "e", &ext, &err),
                     VG_OK);
    assert_true(def->sensitive.n > 50);
    assert_int_equal(rep->sensitive.n, 1);
    assert_string_equal(rep->sensitive.p[0].desc, "my secret");
    assert_int_equal(ext->sensitive.n, def->sensitive.n + 1);
    assert_int_equal(rep->scan_gap, 120);
    assert_true(rep->scan_min_misses == 5.0);
    assert_string_not_equal(def->hash, rep->hash);
    static const char *const hits[] = {"/.env", "/app/.env", "/.git/head", "/.git", "/db.sql",
                                       "/x/wp-config.php.bak", "/index.php~", "/.env.production"};
    for (size_t i = 0; i < VG_ARRAY_LEN(hits); i++)
        if (!vg_patset_match(&def->sensitive, (const uint8_t *)hits[i], strlen(hits[i]),
                             VG_STR_NULL))
            fail_msg("%s should be sensitive", hits[i]);
    static const char *const misses[] = {"/", "/doku.php", "/environment", "/.gitignore-guide",
                                         "/blog/sql-tips", "/envelope.png"};
    for (size_t i = 0; i < VG_ARRAY_LEN(misses); i++)
        if (vg_patset_match(&def->sensitive, (const uint8_t *)misses[i], strlen(misses[i]),
                            VG_STR_NULL))
            fail_msg("%s should not be sensitive", misses[i]);
    assert_true(vg_patset_match(&def->login, (const uint8_t *)"/doku.php", 9,
                                VG_STR_LIT("id=start&do=login")));
    assert_false(vg_patset_match(&def->login, (const uint8_t *)"/doku.php", 9,
                                 VG_STR_LIT("id=start&do=edit")));
    vg_behave_config_free(def);
    vg_behave_config_free(rep);
    vg_behave_config_free(ext);
}

/* ---- incidents and campaigns ------------------------------------------------------------------ */

static struct vg_incident_add add_of(const struct vg_addr *a, const char *ip, int64_t t)
{
    struct vg_incident_add x;
    memset(&x, 0, sizeof x);
    x.addr = a;
    x.ip = ip;
    x.site = VG_STR_LIT("www.example.org");
    x.time = t;
    x.classes = 1u << VG_CLASS_SQLI;
    x.outcome = VG_OUT_REFUSED;
    return x;
}

static vg_status count_flush(void *user, const struct vg_incident *inc)
{
    (void)inc;
    (*(size_t *)user)++;
    return VG_OK;
}

static void test_incidents_split_on_the_gap_and_ids_are_deterministic(void **state)
{
    (void)state;
    struct vg_incidents *t;
    assert_int_equal(vg_incidents_new(1800, NULL, NULL, &t), VG_OK);
    struct vg_addr a;
    assert_true(vg_addr_parse((const uint8_t *)"203.0.113.1", 11, &a));
    char id1[VG_INCIDENT_ID_LEN + 1], id2[VG_INCIDENT_ID_LEN + 1], id3[VG_INCIDENT_ID_LEN + 1];
    struct vg_incident_add x = add_of(&a, "203.0.113.1", 1000);
    assert_int_equal(vg_incidents_add(t, &x, id1), VG_OK);
    x.time = 1000 + 1800; /* exactly the gap: same incident */
    assert_int_equal(vg_incidents_add(t, &x, id2), VG_OK);
    assert_string_equal(id1, id2);
    x.time = 2800 + 1801; /* longer than the gap: a new one */
    assert_int_equal(vg_incidents_add(t, &x, id3), VG_OK);
    assert_string_not_equal(id1, id3);
    size_t flushed = 0;
    assert_int_equal(vg_incidents_flush(t, 5000, count_flush, &flushed), VG_OK);
    assert_int_equal(flushed, 2);
    assert_int_equal(vg_incidents_live(t), 1);
    /* forgotten once the gap has passed after its last request */
    assert_int_equal(vg_incidents_flush(t, 4601 + 1801, count_flush, &flushed), VG_OK);
    assert_int_equal(vg_incidents_live(t), 0);
    vg_incidents_free(t);
    /* the same input gives the same id */
    assert_int_equal(vg_incidents_new(1800, NULL, NULL, &t), VG_OK);
    x.time = 1000;
    char again[VG_INCIDENT_ID_LEN + 1];
    assert_int_equal(vg_incidents_add(t, &x, again), VG_OK);
    assert_string_equal(again, id1);
    vg_incidents_free(t);
}

static struct vg_incident inc_make(const char *id, const char *ip, int64_t first, int64_t last,
                                   const char *tool, uint64_t ua, uint32_t asn)
{
    struct vg_incident i;
    memset(&i, 0, sizeof i);
    snprintf(i.id, sizeof i.id, "%s", id);
    snprintf(i.ip, sizeof i.ip, "%s", ip);
    assert_true(vg_addr_parse((const uint8_t *)ip, strlen(ip), &i.addr));
    vg_addr_network(&i.addr, i.net);
    i.first = first;
    i.last = last;
    snprintf(i.tool, sizeof i.tool, "%s", tool);
    i.ua_hash = ua;
    i.asn = asn;
    return i;
}

static void test_campaigns_link_by_tool_network_and_family_only_when_close_in_time(void **state)
{
    (void)state;
    struct vg_campaign_params p = {86400, 7 * 86400, 0.5, 3};
    struct vg_incident inc[7];
    inc[0] = inc_make("a", "198.51.100.1", 1000, 2000, "sqlmap", 7, 1);
    inc[1] = inc_make("b", "203.0.113.9", 50000, 51000, "sqlmap", 7, 2);   /* same tool, UA */
    inc[2] = inc_make("c", "192.0.2.1", 40 * 86400, 40 * 86400 + 5, "sqlmap", 7, 3); /* too late */
    inc[3] = inc_make("d", "192.0.2.200", 40 * 86400 + 3 * 86400, 40 * 86400 + 3 * 86400 + 5, "",
                      0, 4); /* same /24 as c, 3 days later */
    inc[4] = inc_make("e", "10.9.9.9", 90 * 86400, 90 * 86400 + 9, "", 0, 5);
    inc[5] = inc_make("f", "10.8.8.8", 90 * 86400 + 60, 90 * 86400 + 99, "", 0, 6);
    inc[6] = inc_make("g", "10.7.7.7", 91 * 86400, 91 * 86400, "wfuzz", 9, 7); /* alone */
    uint32_t fam[] = {942100, 942190, 942260, 942370};
    memcpy(inc[4].rules, fam, sizeof fam);
    inc[4].n_rules = 4;
    memcpy(inc[5].rules, fam, 3 * sizeof fam[0]);
    inc[5].n_rules = 3;
    struct vg_campaign_result r;
    assert_int_equal(vg_campaigns_build(&p, inc, 7, &r), VG_OK);
    assert_int_equal(r.n_campaigns, 3);
    assert_true(r.campaign_of[0] >= 0 && r.campaign_of[0] == r.campaign_of[1]);
    assert_true(r.campaign_of[2] >= 0 && r.campaign_of[2] == r.campaign_of[3]);
    assert_true(r.campaign_of[2] != r.campaign_of[0]);
    assert_true(r.campaign_of[4] >= 0 && r.campaign_of[4] == r.campaign_of[5]);
    assert_int_equal(r.campaign_of[6], -1);
    assert_non_null(strstr(r.why[r.campaign_of[0]], "same tool sqlmap"));
    assert_non_null(strstr(r.why[r.campaign_of[2]], "same network 192.0.2.0/24"));
    assert_non_null(strstr(r.why[r.campaign_of[4]], "same payload family (3 signature rules"));
    /* the order of the input does not matter */
    struct vg_incident rev[7];
    for (int i = 0; i < 7; i++)
        rev[i] = inc[6 - i];
    struct vg_campaign_result r2;
    assert_int_equal(vg_campaigns_build(&p, rev, 7, &r2), VG_OK);
    assert_int_equal(r2.n_campaigns, 3);
    for (int i = 0; i < 7; i++)
        assert_int_equal(r2.campaign_of[6 - i], r.campaign_of[i]);
    for (size_t c = 0; c < r.n_campaigns; c++)
        assert_string_equal(r.why[c], r2.why[c]);
    vg_campaign_result_free(&r);
    vg_campaign_result_free(&r2);
}

static void test_campaigns_link_a_returning_address_and_the_same_as_with_the_same_family(
    void **state)
{
    (void)state;
    struct vg_campaign_params p = {86400, 7 * 86400, 0.5, 3};
    struct vg_incident inc[4];
    /* one address against two sites, two days apart: no tool, no family */
    inc[0] = inc_make("a", "2001:db8:1:2::5", 1000, 2000, "", 0, 64500);
    snprintf(inc[0].site, sizeof inc[0].site, "wiki.example");
    inc[1] = inc_make("b", "2001:db8:1:2::5", 2 * 86400, 2 * 86400 + 50, "", 0, 64500);
    snprintf(inc[1].site, sizeof inc[1].site, "shop.example");
    /* same AS, different networks, same payload family within the window */
    inc[2] = inc_make("c", "198.51.100.1", 20 * 86400, 20 * 86400 + 10, "", 0, 64511);
    inc[3] = inc_make("d", "203.0.113.1", 20 * 86400 + 600, 20 * 86400 + 900, "", 0, 64511);
    uint32_t fam[] = {942100, 942190, 942260, 942370};
    memcpy(inc[2].rules, fam, sizeof fam);
    inc[2].n_rules = 4;
    memcpy(inc[3].rules, fam, sizeof fam);
    inc[3].n_rules = 4;
    struct vg_campaign_result r;
    assert_int_equal(vg_campaigns_build(&p, inc, 4, &r), VG_OK);
    assert_int_equal(r.n_campaigns, 2);
    long c0 = r.campaign_of[0], c2 = r.campaign_of[2];
    assert_true(c0 >= 0 && c0 == r.campaign_of[1]);
    assert_true(c2 >= 0 && c2 == r.campaign_of[3] && c2 != c0);
    assert_true(r.reasons[c0] & VG_LINK_ADDRESS);
    assert_non_null(strstr(r.why[c0], "same address 2001:db8:1:2::5"));
    assert_true(r.reasons[c2] & VG_LINK_FAMILY);
    assert_true(r.reasons[c2] & VG_LINK_ASN);
    assert_non_null(strstr(r.why[c2], "same AS64511 with the same payloads"));
    vg_campaign_result_free(&r);
    /* more than the network window apart: not linked */
    inc[1].first = inc[1].last = 30 * 86400;
    assert_int_equal(vg_campaigns_build(&p, inc, 2, &r), VG_OK);
    assert_int_equal(r.n_campaigns, 0);
    vg_campaign_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_scan_fires_on_a_burst_of_misses_and_flags_the_misses_before_the_threshold),
        cmocka_unit_test(test_scan_does_not_fire_below_the_distinct_path_threshold),
        cmocka_unit_test(test_scan_discounts_misses_with_a_referer_and_a_gap_splits_episodes),
        cmocka_unit_test(test_scan_fires_on_a_few_common_discovery_names),
        cmocka_unit_test(test_verified_crawlers_are_not_flagged_for_crawling),
        cmocka_unit_test(test_probe_flags_sensitive_files_and_wordpress_paths_on_other_sites),
        cmocka_unit_test(test_probe_admin_panels_not_served_or_several_within_a_gap),
        cmocka_unit_test(test_bruteforce_fires_at_the_failure_threshold_and_flags_the_first_tries),
        cmocka_unit_test(test_bruteforce_ignores_injection_payloads_and_sql_injection_tools),
        cmocka_unit_test(test_bruteforce_many_user_names_and_one_user_from_many_sources),
        cmocka_unit_test(test_flood_fires_on_identical_answers_and_flags_the_whole_burst),
        cmocka_unit_test(test_flood_burst_of_identical_answers_within_seconds),
        cmocka_unit_test(test_tool_fingerprints_strong_and_two_weak_signals),
        cmocka_unit_test(test_signature_attack_held_by_an_open_scan_gets_both_classes),
        cmocka_unit_test(test_fuzz_sweep_fires_and_flags_every_request_with_its_class),
        cmocka_unit_test(test_fuzz_sweep_survives_stray_parameters_and_ends_with_the_input),
        cmocka_unit_test(test_fuzz_human_search_session_does_not_fire),
        cmocka_unit_test(test_fuzz_editor_saving_a_page_30_times_does_not_fire),
        cmocka_unit_test(test_fuzz_paginating_crawler_does_not_fire_and_its_state_expires),
        cmocka_unit_test(test_fuzz_rate_and_thresholds_come_from_the_config),
        cmocka_unit_test(test_fuzz_fired_sweep_survives_the_state_round_trip),
        cmocka_unit_test(test_idle_sources_expire_and_state_stays_bounded),
        cmocka_unit_test(test_fired_sources_expire_and_come_back_as_new_episodes),
        cmocka_unit_test(test_replayed_lines_rebuild_state_but_are_never_emitted),
        cmocka_unit_test(test_pending_offsets_and_state_round_trip),
        cmocka_unit_test(test_size_anomaly_marks_unusually_large_answers),
        cmocka_unit_test(test_config_rejects_bad_lines_naming_the_line),
        cmocka_unit_test(test_config_lists_replace_or_extend_the_defaults),
        cmocka_unit_test(test_incidents_split_on_the_gap_and_ids_are_deterministic),
        cmocka_unit_test(test_campaigns_link_by_tool_network_and_family_only_when_close_in_time),
        cmocka_unit_test(
            test_campaigns_link_a_returning_address_and_the_same_as_with_the_same_family),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
