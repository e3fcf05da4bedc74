/* SPDX-License-Identifier: Apache-2.0 */
/*
 * behave_observe.c: worker side of the behaviour stage. Turns one parsed request into a
 * fixed-size observation: hashes of the path, stem, user agent, host and login user name, the
 * features the detectors need (miss, login attempt, wordlist word, sensitive file, admin panel,
 * WordPress path, tool signals, crawler/monitor by name), so that the consumer thread, which
 * runs the stateful detectors in input order, does only table updates.
 *
 * Performance note: everything here runs for every request, in parallel on the workers. Paths
 * are matched with one hashing pass (vg_path_keys) probed in every pattern set; user agents
 * repeat heavily, so their answers (tool, agent, weak signals) are cached per thread by hash.
 * No allocation: the decoded path lives in a fixed buffer of the scratch.
 */
#include "behave/behave_int.h"
#include "decode/decode.h"

#define VG_UA_CACHE 4096 /* entries, power of two */
#define VG_PATH_DECODE_MAX 1024
#define VG_UA_MATCH_MAX 512

struct ua_entry {
    uint64_t hash; /* 0 = empty */
    uint32_t weak;
    uint16_t tool;
    uint16_t agent;
};

struct vg_behave_scratch {
    struct ua_entry ua[VG_UA_CACHE];
    uint8_t path[VG_PATH_DECODE_MAX + 4];
    uint8_t ua_lower[VG_UA_MATCH_MAX + 1];
    uint8_t query[VG_PATH_DECODE_MAX + 1];
};

vg_status vg_behave_scratch_new(struct vg_behave_scratch **out)
{
    *out = vg_calloc(1, sizeof **out);
    return *out ? VG_OK : VG_E_NOMEM;
}

void vg_behave_scratch_free(struct vg_behave_scratch *s)
{
    vg_free(s);
}

/* Case-insensitive substring test of a lower-case needle in a lower-case haystack. */
static bool has_sub(const uint8_t *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    return m <= n && memmem(hay, n, needle, m) != NULL;
}

/* Whether needle (m >= 1 bytes) occurs in hay: memchr for its first byte, then memcmp.
   Performance note: faster than memmem for the short needles and queries seen here. */
static bool find_sub(const uint8_t *hay, size_t n, const char *needle, size_t m)
{
    const uint8_t *p = hay, *end = hay + n;
    while ((size_t)(end - p) >= m) {
        p = memchr(p, (uint8_t)needle[0], (size_t)(end - p) - m + 1);
        if (!p)
            return false;
        if (memcmp(p, needle, m) == 0)
            return true;
        p++;
    }
    return false;
}

/* Answers for one user agent: strong tool, weak UA signals and crawler/monitor by name. */
static void ua_answers(const struct vg_behave_config *cfg, struct vg_behave_scratch *s,
                       struct vg_str ua, struct ua_entry *e)
{
    size_t n = ua.n < VG_UA_MATCH_MAX ? ua.n : VG_UA_MATCH_MAX;
    for (size_t i = 0; i < n; i++)
        s->ua_lower[i] = vg_lower(ua.p[i]);
    e->tool = 0;
    e->agent = 0;
    e->weak = 0;
    for (size_t i = 0; i < cfg->n_signals; i++) {
        const struct vg_tool_signal *sig = &cfg->signals[i];
        bool m = false;
        if (sig->kind == VG_SIG_UA_SUB)
            m = has_sub(s->ua_lower, n, sig->text);
        else if (sig->kind == VG_SIG_UA_EXACT)
            m = ua.n == strlen(sig->text) && memcmp(ua.p, sig->text, ua.n) == 0;
        if (!m)
            continue;
        if (sig->weak)
            e->weak |= 1u << (i - cfg->n_strong);
        else if (!e->tool)
            e->tool = (uint16_t)(sig->tool + 1);
    }
    for (size_t i = 0; i < cfg->n_agents; i++) {
        if (has_sub(s->ua_lower, n, cfg->agents[i].ua)) {
            e->agent = (uint16_t)(i + 1);
            break;
        }
    }
}

/* The user name of a login attempt: $remote_user, else a configured field of a logged body. */
static uint64_t login_user(const struct vg_behave_config *cfg, const struct vg_request *req)
{
    if (req->user.n)
        return vg_behave_word_hash(req->user.p, req->user.n);
    if (!req->body.n || !cfg->username_fields.n)
        return 0;
    struct vg_args_iter it;
    struct vg_str name, value;
    vg_args_init(&it, req->body);
    while (vg_args_next(&it, &name, &value)) {
        if (!value.n || name.n > 64)
            continue;
        uint8_t dn[64];
        unsigned fl = 0;
        size_t k = vg_decode_pct(name.p, name.n, dn, true, &fl);
        if (!vg_wordset_has(&cfg->username_fields, dn, k))
            continue;
        uint8_t dv[256];
        size_t vn = value.n > sizeof dv ? sizeof dv : value.n;
        k = vg_decode_pct(value.p, vn, dv, true, &fl);
        return vg_behave_word_hash(dv, k);
    }
    return 0;
}

void vg_behave_observe(const struct vg_behave_config *cfg, struct vg_behave_scratch *s,
                       const struct vg_request *req, uint32_t sig_classes, struct vg_obs *o)
{
    memset(o, 0, sizeof *o);
    if (req->flags & VG_REQ_HAS_ADDR) {
        o->addr = req->addr;
        o->feat |= VG_OBS_HAS_ADDR;
    }
    if (req->flags & VG_REQ_HAS_TIME) {
        o->time = req->time;
        o->feat |= VG_OBS_HAS_TIME;
    }
    o->offset = req->offset;
    o->line_len = req->line.n > UINT32_MAX ? UINT32_MAX : (uint32_t)req->line.n;
    o->status = req->status;
    o->bytes = req->bytes;
    o->sig_classes = sig_classes;
    if (sig_classes & VG_INJECTION_CLASSES)
        o->feat |= VG_OBS_INJECTION;
    struct vg_str m = req->method;
    if (vg_str_eq_lit(m, "GET"))
        o->feat |= VG_OBS_GET;
    else if (vg_str_eq_lit(m, "POST"))
        o->feat |= VG_OBS_POST;
    else if (vg_str_eq_lit(m, "HEAD"))
        o->feat |= VG_OBS_HEAD;
    if (req->referer.n)
        o->feat |= VG_OBS_REFERER;
    if (vg_behave_is_miss(cfg, req->status))
        o->feat |= VG_OBS_MISS;
    if (req->status >= 200 && req->status < 400)
        o->feat |= VG_OBS_OK;
    if (req->status >= 200 && req->status < 300)
        o->feat |= VG_OBS_2XX;

    /* The path: raw hash (what was asked), then decoded and lower-cased for the lists. */
    struct vg_str path = req->path.n ? req->path : req->target;
    if (!req->path.n && path.n) {
        const uint8_t *q = memchr(path.p, '?', path.n);
        if (q)
            path.n = (size_t)(q - path.p);
    }
    o->path_hash = vg_hash64(path.p, path.n, 0x70617468);
    size_t pn = path.n > VG_PATH_DECODE_MAX ? VG_PATH_DECODE_MAX : path.n;
    size_t dn;
    if (pn && memchr(path.p, '%', pn)) {
        unsigned dflags = 0;
        dn = vg_decode_pct(path.p, pn, s->path, false, &dflags);
        for (size_t i = 0; i < dn; i++)
            s->path[i] = vg_lower(s->path[i]);
    } else {
        for (size_t i = 0; i < pn; i++)
            s->path[i] = vg_lower(path.p[i]);
        dn = pn;
    }
    const uint8_t *lp = s->path;

    /* Last segment, its extension and stem (only forced browsing uses them: misses only). */
    size_t seg_e = dn && lp[dn - 1] == '/' ? dn - 1 : dn, seg_b = seg_e;
    bool miss = (o->feat & VG_OBS_MISS) != 0;
    while (seg_b > 0 && lp[seg_b - 1] != '/')
        seg_b--;
    size_t dot = seg_e;
    for (size_t i = seg_e; i > seg_b + 1; i--) {
        if (lp[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    }
    if (miss) {
        if (dot < seg_e) {
            uint64_t eh = vg_hash64(lp + dot, seg_e - dot, 0x657874);
            o->ext = (uint16_t)(eh | 1);
        }
        o->stem_hash = vg_hash64(lp, dot, 0x7374656d);
        if (dot > seg_b && vg_wordset_has(&cfg->wordlist, lp + seg_b, dot - seg_b))
            o->feat |= VG_OBS_WORDLIST;
    }

    /* Lists. */
    struct vg_path_keys keys;
    vg_path_keys_make(lp, dn, &keys);
    uint32_t hit;
    if ((hit = vg_patset_match_keys(&cfg->sensitive, &keys, req->query)) != 0) {
        o->feat |= VG_OBS_SENSITIVE;
        o->probe = (uint16_t)hit;
    } else if ((hit = vg_patset_match_keys(&cfg->wordpress, &keys, req->query)) != 0) {
        o->feat |= VG_OBS_WORDPRESS;
        o->probe = (uint16_t)hit;
    } else if ((hit = vg_patset_match_keys(&cfg->admin, &keys, req->query)) != 0) {
        o->feat |= VG_OBS_ADMIN;
        o->probe = (uint16_t)hit;
    }
    if (vg_patset_match_keys(&cfg->wordpress_marker, &keys, req->query))
        o->feat |= VG_OBS_WP_MARKER;
    bool login = false;
    if ((o->feat & VG_OBS_POST) && vg_patset_match_keys(&cfg->login, &keys, req->query))
        login = true;
    else if (req->status == 401 && req->user.n)
        login = true;
    if (login) {
        o->feat |= VG_OBS_LOGIN;
        if (!(req->status >= 300 && req->status < 400))
            o->feat |= VG_OBS_LOGIN_FAIL;
        o->user_hash = login_user(cfg, req);
    }

    /* User agent: tool and agent by name (cached), then path and query tool signals. */
    if (req->user_agent.n) {
        uint64_t uh = vg_hash64(req->user_agent.p, req->user_agent.n, 0x7561);
        o->ua_hash = uh ? uh : 1;
        struct ua_entry *e = &s->ua[o->ua_hash & (VG_UA_CACHE - 1)];
        if (e->hash != o->ua_hash) {
            ua_answers(cfg, s, req->user_agent, e);
            e->hash = o->ua_hash;
        }
        o->tool = e->tool;
        o->agent = e->agent;
        o->tool_weak = e->weak;
    }
    size_t qn = 0;
    if (req->query.n) {
        qn = req->query.n < VG_PATH_DECODE_MAX ? req->query.n : VG_PATH_DECODE_MAX;
        for (size_t i = 0; i < qn; i++)
            s->query[i] = vg_lower(req->query.p[i]);
    }
    for (size_t ps = 0; ps < cfg->n_path_signals; ps++) {
        size_t i = cfg->path_signals[ps];
        const struct vg_tool_signal *sig = &cfg->signals[i];
        bool match = false;
        size_t tn;
        switch (sig->kind) {
        case VG_SIG_PATH:
            tn = sig->len;
            match = dn == tn && lp[tn - 1] == (uint8_t)sig->text[tn - 1] &&
                    memcmp(lp, sig->text, tn) == 0;
            break;
        case VG_SIG_PATH_PREFIX:
            tn = sig->len;
            match = dn >= tn && lp[tn - 1] == (uint8_t)sig->text[tn - 1] &&
                    memcmp(lp, sig->text, tn) == 0;
            break;
        case VG_SIG_QUERY_SUB:
            match = qn >= sig->len && find_sub(s->query, qn, sig->text, sig->len);
            break;
        case VG_SIG_UA_SUB:
        case VG_SIG_UA_EXACT:
            break;
        }
        if (!match)
            continue;
        if (sig->weak)
            o->tool_weak |= 1u << (i - cfg->n_strong);
        else if (!o->tool)
            o->tool = (uint16_t)(sig->tool + 1);
    }

    /* The site: the logged host. */
    if (req->host.n)
        o->host_hash = vg_behave_word_hash(req->host.p, req->host.n);
}
