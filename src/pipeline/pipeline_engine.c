/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline_engine.c: building the immutable engine (format program, compiled rules, geo
 * databases), the per-request analysis shared by the scan workers and vg_analyze_line, and the
 * event construction shared by the consumer.
 */
#include <stdio.h>

#include "decode/decode.h"
#include "detect/detect_crs.h"
#include "pipeline/pipeline.h"

/*
 * The engine's log format: --format-from FILE:NAME, an explicit specification, or `auto` (the
 * candidate set; each input picks its own).
 */
static vg_status engine_format(struct vg_engine *e, const struct vg_engine_config *cfg,
                               struct vg_error *err)
{
    struct vg_format_options fo = {cfg->json_map, cfg->real_ip, cfg->trusted_proxies};
    const char *spec = cfg->format;
    if (cfg->format_from) {
        const char *colon = strrchr(cfg->format_from, ':');
        if (!colon || colon == cfg->format_from || !colon[1])
            return vg_error_set(err, VG_E_INVAL, "--format-from", 0,
                                "--format-from wants FILE:NAME (the configuration file and the "
                                "name of the log format in it), not '%.200s'",
                                cfg->format_from);
        char *path = vg_strndup(cfg->format_from, (size_t)(colon - cfg->format_from));
        if (!path)
            return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
        vg_status st = vg_format_from_config(path, colon + 1, &e->format_spec, err);
        vg_free(path);
        if (st != VG_OK)
            return st;
        spec = e->format_spec;
    }
    if (!spec || strcmp(spec, "auto") == 0) {
        vg_status st = vg_format_set_new(&fo, &e->fmts, err);
        if (st != VG_OK)
            return st;
        e->fmt = vg_format_set_default(e->fmts);
        e->format_name = "auto";
        return VG_OK;
    }
    vg_status st = vg_format_compile_opts(spec, &fo, &e->fmt_owned, err);
    if (st != VG_OK)
        return st;
    e->fmt = e->fmt_owned;
    e->format_name = vg_format_name(e->fmt);
    return VG_OK;
}

const struct vg_format *vg_engine_line_format(const struct vg_engine *eng, const uint8_t *line,
                                              size_t len)
{
    if (!eng->fmts)
        return eng->fmt;
    const struct vg_format *f = NULL;
    struct vg_error e;
    if (vg_format_detect(eng->fmts, line, len, true, &f, NULL, &e) == VG_OK && f)
        return f;
    return eng->fmt;
}

/*
 * Behaviour and the attribution beyond countries: the behaviour configuration (built-in
 * defaults and --behave-config), ASN ranges (--asn, else the data directory's CSVs when
 * present; compiled once into a cached lookup file), and the user's labels (--labels).
 */
static vg_status engine_behave(struct vg_engine *e, const struct vg_engine_config *cfg,
                               struct vg_error *err)
{
    vg_status st = VG_OK;
    if (!cfg->no_behave) {
        st = vg_behave_config_new(cfg->behave_config, &e->behave, err);
        if (st != VG_OK)
            return st;
        e->incident_gap = cfg->incident_gap > 0 ? (int64_t)cfg->incident_gap
                                                : e->behave->incident_gap;
    } else {
        e->incident_gap = cfg->incident_gap > 0 ? (int64_t)cfg->incident_gap : 1800;
    }
    if (!cfg->no_asn) {
        char *found[4];
        const char *const *paths = cfg->asn_paths;
        size_t n = cfg->n_asn_paths, n_default = 0;
        if (!paths) {
            n_default = vg_asn_default_paths(found, 4);
            paths = (const char *const *)found;
            n = n_default;
        }
        if (n)
            st = vg_asn_open(paths, n, NULL, &e->asn, err);
        for (size_t i = 0; i < n_default; i++)
            vg_free(found[i]);
        if (st != VG_OK)
            return st;
    }
    if (cfg->labels_path)
        st = vg_labels_load(cfg->labels_path, &e->labels, err);
    return st;
}

vg_status vg_engine_new(const struct vg_engine_config *cfg, vg_engine_t **out,
                        struct vg_error *err)
{
    static const struct vg_engine_config defaults = VG_ENGINE_CONFIG_INIT;
    if (!cfg)
        cfg = &defaults;
    *out = NULL;
    int paranoia = cfg->paranoia ? cfg->paranoia : 1;
    int threshold = cfg->threshold ? cfg->threshold : 5;
    if (paranoia < 1 || paranoia > 4)
        return vg_error_set(err, VG_E_INVAL, "--paranoia", 0, "paranoia must be 1..4, not %d",
                            paranoia);
    if (threshold < 1)
        return vg_error_set(err, VG_E_INVAL, "--threshold", 0, "threshold must be at least 1");
    struct vg_engine *e = vg_calloc(1, sizeof *e);
    if (!e)
        return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    vg_status st = engine_format(e, cfg, err);
    if (st != VG_OK)
        goto fail;
    struct vg_ruleset *rs = NULL;
    st = vg_ruleset_new(&rs);
    if (st != VG_OK) {
        vg_error_set(err, st, NULL, 0, "cannot create rule set: %s", vg_strerror(st));
        goto fail;
    }
    if (!cfg->no_builtin_rules) {
        st = vg_ruleset_load_builtin(rs, err);
        if (st != VG_OK) {
            vg_ruleset_free(rs);
            goto fail;
        }
    }
    for (size_t i = 0; i < cfg->n_rule_paths; i++) {
        st = vg_crs_ruleset_load_path(rs, cfg->rule_paths[i], err); /* YAML or CRS */
        if (st != VG_OK) {
            vg_ruleset_free(rs);
            goto fail;
        }
    }
    st = vg_detector_new_cached(rs, paranoia, threshold, cfg->cache_dir, &e->det,
                                err); /* consumes rs */
    if (st != VG_OK)
        goto fail;
    if (cfg->n_allow_paths) {
        struct vg_allowlist *al = NULL;
        for (size_t i = 0; st == VG_OK && i < cfg->n_allow_paths; i++)
            st = vg_allowlist_load_path(&al, cfg->allow_paths[i], err);
        if (st != VG_OK) {
            vg_allowlist_free(al);
            goto fail;
        }
        vg_detector_set_allowlist(e->det, al);
    }
    if (!cfg->no_geo) {
        char *defaults_found[4];
        const char *const *paths = cfg->geo_paths;
        size_t n = cfg->n_geo_paths, n_default = 0;
        if (!paths) {
            n_default = vg_geo_default_paths(defaults_found, 4);
            paths = (const char *const *)defaults_found;
            n = n_default;
        }
        if (n)
            st = vg_geo_open(paths, n, &e->geo, err);
        for (size_t i = 0; i < n_default; i++)
            vg_free(defaults_found[i]);
        if (st != VG_OK)
            goto fail;
    }
    st = engine_behave(e, cfg, err);
    if (st != VG_OK)
        goto fail;
    *out = e;
    return VG_OK;
fail:
    vg_engine_free(e);
    return st;
}

void vg_engine_free(vg_engine_t *e)
{
    if (!e)
        return;
    vg_format_free(e->fmt_owned);
    vg_format_set_free(e->fmts);
    vg_free(e->format_spec);
    vg_detector_free(e->det);
    vg_geo_free(e->geo);
    vg_behave_config_free(e->behave);
    vg_asn_free(e->asn);
    vg_labels_free(e->labels);
    vg_free(e);
}

const char *vg_engine_asn_provenance(const vg_engine_t *e)
{
    return vg_asn_provenance(e->asn);
}

size_t vg_engine_rule_count(const vg_engine_t *e)
{
    return vg_detector_rule_count(e->det);
}

const char *vg_engine_ruleset_hash(const vg_engine_t *e)
{
    return vg_detector_hash(e->det);
}

vg_status vg_engine_rule_info(const vg_engine_t *e, size_t i, struct vg_rule_info *out)
{
    const struct vg_rule *r = i < vg_detector_rule_count(e->det)
                                  ? vg_detector_rule(e->det, (uint32_t)i)
                                  : NULL;
    if (!r)
        return VG_E_INVAL;
    out->id = r->id;
    out->message = r->message;
    out->class_name = vg_class_name(r->class_);
    out->score = r->score;
    out->paranoia = r->paranoia;
    out->transform = vg_detector_rule_view(e->det, (uint32_t)i);
    out->operator_name = vg_rule_op_name(r->op);
    out->negate = r->cond.negate ? 1 : 0;
    out->exclude = r->cond.n_exclude ? r->cond.exclude[0] : NULL;
    out->n_exclude = (int)r->cond.n_exclude;
    out->n_chain = (int)r->n_chain;
    out->group = r->group;
    out->author = r->author;
    out->source = r->source ? r->source : "";
    out->fields = vg_detector_rule_fields_text(e->det, (uint32_t)i);
    return VG_OK;
}

struct test_ctx {
    void (*fail)(uint32_t, const char *, const char *, int, void *);
    void *user;
};

static void test_fail(const struct vg_rule *r, const struct vg_rule_example *ex, void *user)
{
    struct test_ctx *t = user;
    if (t->fail)
        t->fail(r->id, r->source ? r->source : "", ex->target ? ex->target : "",
                ex->must_match ? 1 : 0, t->user);
}

vg_status vg_engine_test_rules(const vg_engine_t *e,
                               void (*fail)(uint32_t id, const char *source, const char *target,
                                            int must_match, void *user),
                               void *user, size_t *checked, size_t *failed)
{
    struct test_ctx t = {fail, user};
    return vg_detector_check_examples(e->det, test_fail, &t, checked, failed);
}

const char *vg_engine_geo_provenance(const vg_engine_t *e)
{
    return vg_geo_provenance(e->geo);
}

/* Name of a hit's field as events show it: "args:q", "path", "user_agent", ... */
static struct vg_str hit_field_name(struct vg_arena *a, const struct vg_hit *h)
{
    const char *base = vg_field_name(h->field);
    size_t bl = base ? strlen(base) : 0;
    if (h->name.n == 0 || h->field == VG_F_COUNT)
        return vg_str_make(base ? base : "", base ? bl : 0);
    /* Argument names are shown percent-decoded (as a user reads them), capped. */
    size_t nn = h->name.n > 128 ? 128 : h->name.n;
    uint8_t tmp[128];
    uint8_t *p = vg_arena_alloc(a, bl + 1 + nn);
    if (!p)
        return vg_str_make(base, bl);
    memcpy(p, base, bl);
    p[bl] = ':';
    unsigned flags = 0;
    size_t dn = vg_decode_pct(h->name.p, nn, tmp, true, &flags);
    memcpy(p + bl + 1, tmp, dn);
    return vg_str_make(p, bl + 1 + dn);
}

vg_status vg_pipeline_analyze(const struct vg_engine *eng, struct vg_detect_scratch *scratch,
                              const struct vg_request *req, struct vg_arena *arena,
                              struct vg_attack_rec *rec, bool *is_attack)
{
    struct vg_verdict v;
    *is_attack = false;
    vg_status st = vg_detect_request(eng->det, scratch, req, &v);
    if (st != VG_OK)
        return st;
    if (v.score < vg_detector_threshold(eng->det))
        return VG_OK;
    vg_detect_spans(eng->det, scratch, &v);
    *is_attack = true;
    rec->req = *req;
    rec->offset = req->offset;
    rec->score = v.score;
    memset(rec->class_scores, 0, sizeof rec->class_scores);
    for (int c = 0; c < VG_CLASS_COUNT; c++)
        rec->class_scores[c] = v.class_scores[c];
    rec->classes = v.classes;
    rec->decode_flags = v.decode_flags;
    rec->n_hits = v.n_hits;
    rec->hits = v.n_hits ? vg_arena_alloc(arena, v.n_hits * sizeof *rec->hits) : NULL;
    if (v.n_hits && !rec->hits)
        return VG_E_NOMEM;
    for (unsigned i = 0; i < v.n_hits; i++) {
        const struct vg_hit *h = &v.hits[i];
        const struct vg_rule *r = vg_detector_rule(eng->det, h->rule);
        struct vg_event_hit *eh = &rec->hits[i];
        eh->rule_id = r->id;
        eh->message = r->message;
        eh->class_name = vg_class_name(r->class_);
        eh->transform = h->view ? h->view : vg_transform_name(h->transform);
        eh->author = r->author;
        eh->field = hit_field_name(arena, h);
        size_t s = h->match_start, e = h->match_end;
        if (e > h->subject.n)
            e = h->subject.n;
        if (s > e)
            s = e;
        /* Evidence is capped: a match longer than 1 KiB keeps its first 1 KiB. */
        if (e - s > 1024)
            e = s + 1024;
        /* A negated or numeric condition can fire on an absent field: no bytes to quote. */
        eh->match = h->subject.p ? vg_arena_dup(arena, vg_str_make(h->subject.p + s, e - s))
                                 : (struct vg_str)VG_STR_NULL;
        eh->detail = h->note ? vg_arena_dup(arena, vg_str_make(h->note, strlen(h->note)))
                                : (struct vg_str)VG_STR_NULL;
    }
    return VG_OK;
}

void vg_pipeline_class_scores(const struct vg_engine *eng, const struct vg_event_hit *hits,
                              unsigned n_hits, int score, const char *behave_class, int *out)
{
    memset(out, 0, VG_EVENT_CLASSES * sizeof(*out));
    uint32_t ids[VG_MAX_HITS];
    unsigned n = 0;
    for (unsigned i = 0; i < n_hits && n < VG_MAX_HITS; i++)
        ids[n++] = hits[i].rule_id;
    int cs[VG_CLASS_COUNT];
    int sum = vg_detector_score_ids(eng->det, ids, n, cs);
    for (int c = 0; c < VG_CLASS_COUNT; c++)
        out[c] = cs[c];
    enum vg_class bc;
    if (score > sum && behave_class && vg_class_parse(behave_class, &bc))
        out[bc] += score - sum;
}

void vg_pipeline_make_event(const struct vg_engine *eng, const struct vg_attack_rec *rec,
                            uint64_t line_no, const char *file_path, int64_t file_id,
                            struct vg_event *ev)
{
    const struct vg_request *r = &rec->req;
    memset(ev, 0, sizeof *ev);
    ev->time = (r->flags & VG_REQ_HAS_TIME) ? r->time : 0;
    if (r->flags & VG_REQ_HAS_ADDR) {
        ev->addr = r->addr;
        vg_addr_format(&r->addr, ev->ip);
    }
    ev->method = r->method;
    ev->host = r->host;
    ev->target = r->target;
    ev->protocol = r->protocol;
    ev->user_agent = r->user_agent;
    ev->referer = r->referer;
    ev->raw_line = r->line;
    ev->status = r->status;
    ev->bytes = r->bytes;
    ev->score = rec->score;
    ev->class_scores = rec->class_scores;
    ev->classes = rec->classes;
    ev->decode_flags = rec->decode_flags;
    ev->outcome = vg_outcome_name(r->status);
    ev->n_hits = rec->n_hits;
    ev->hits = rec->hits;
    ev->file_path = file_path;
    ev->file_id = file_id;
    ev->offset = rec->offset;
    ev->line_no = line_no;
    /* Attribution that needs no state: AS, network roll-up, the user's labels. */
    if (r->flags & VG_REQ_HAS_ADDR) {
        if (eng->asn) {
            vg_asn_lookup(eng->asn, &r->addr, &ev->asn, &ev->as_org);
            ev->asn_provenance = vg_asn_provenance(eng->asn);
        }
        vg_addr_network(&r->addr, ev->net_buf);
        ev->net = ev->net_buf;
        if (eng->labels) {
            vg_labels_lookup(eng->labels, &r->addr, ev->labels_buf, sizeof ev->labels_buf);
            ev->labels = ev->labels_buf;
        }
    }
}

vg_status vg_analyze_line(const vg_engine_t *eng, const uint8_t *line, size_t len,
                          char **json_out, int *malformed)
{
    *json_out = NULL;
    *malformed = 0;
    while (len && (line[len - 1] == '\n'))
        len--;
    struct vg_request req;
    memset(&req, 0, sizeof req);
    const struct vg_format *fmt = vg_engine_line_format(eng, line, len);
    struct vg_parse_buf pb = {NULL, 0, 0};
    if (vg_format_needs_buf(fmt)) {
        pb.cap = 4 * len + 64;
        pb.p = vg_malloc(pb.cap);
        if (!pb.p)
            return VG_E_NOMEM;
    }
    enum vg_parse_result pr = vg_format_parse_ex(fmt, line, len, &req, &pb);
    if (pr != VG_PARSE_OK) {
        vg_free(pb.p);
        *malformed = 1;
        return VG_OK;
    }
    req.line_no = 1;
    struct vg_detect_scratch *s = NULL;
    vg_status st = vg_detect_scratch_new(eng->det, &s);
    if (st != VG_OK) {
        vg_free(pb.p);
        return st;
    }
    struct vg_arena arena;
    vg_arena_init(&arena, 16 * 1024, 0);
    struct vg_attack_rec rec;
    bool attack = false;
    st = vg_pipeline_analyze(eng, s, &req, &arena, &rec, &attack);
    if (st == VG_OK && attack) {
        struct vg_event ev;
        vg_pipeline_make_event(eng, &rec, 1, "-", 0, &ev);
        if (eng->geo)
            vg_geo_country(eng->geo, &ev.addr, ev.country);
        struct vg_buf b;
        vg_buf_init(&b, 0);
        st = vg_event_write_json(&ev, vg_geo_provenance(eng->geo), &b);
        if (st == VG_OK) {
            if (b.n && b.p[b.n - 1] == '\n')
                b.p[--b.n] = 0;
            *json_out = (char *)b.p;
        } else {
            vg_buf_fini(&b);
        }
    }
    vg_arena_fini(&arena);
    vg_detect_scratch_free(s);
    vg_free(pb.p);
    return st;
}
