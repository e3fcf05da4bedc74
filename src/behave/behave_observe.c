/* SPDX-License-Identifier: Apache-2.0 */
/*
 * behave_observe.c: worker side of the behaviour stage. Turns one parsed request into a
 * fixed-size observation: hashes of the path, stem, user agent, host and login user name, the
 * features the detectors need (miss, login attempt, wordlist word, sensitive file, admin panel,
 * WordPress path, tool signals, crawler/monitor by name, hashes of the first parameters of the
 * query and of an urlencoded body), so that the consumer thread, which runs the stateful
 * detectors in input order, does only table updates.
 *
 * Performance note: everything here runs for every request, in parallel on the workers. Paths
 * and user agents repeat heavily, so what each tells alone is cached per thread by its hash
 * (a path: its lists, stem, extension and path tool signals, matched with one hashing pass,
 * vg_path_keys, probed in every pattern set; a user agent: tool, agent, weak signals).
 * No allocation: the decoded path lives in a fixed buffer of the scratch.
 */
#include "behave/behave_int.h"
#include "decode/decode.h"

#define VG_UA_CACHE 4096 /* entries, power of two */
#define VG_PATH_CACHE 4096 /* entries, power of two */
#define VG_PATH_DECODE_MAX 1024
#define VG_UA_MATCH_MAX 512

struct ua_entry {
    uint64_t hash; /* 0 = empty */
    uint32_t weak;
    uint16_t tool;
    uint16_t agent;
};

/* What a path alone tells (path_answers). */
struct path_entry {
    uint64_t hash;     /* 0 = empty */
    uint64_t stem;
    uint32_t len;
    uint32_t feat;     /* VG_OBS_SENSITIVE/WORDPRESS/ADMIN/WP_MARKER, and WORDLIST (misses) */
    uint32_t weak;     /* weak path signals */
    uint16_t probe, ext;
    uint16_t tool;     /* first strong path signal's tool + 1 */
    uint16_t tool_pos; /* its position in cfg->path_signals; UINT16_MAX none */
};

struct vg_behave_scratch {
    struct ua_entry ua[VG_UA_CACHE];
    struct path_entry paths[VG_PATH_CACHE];
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

/* ---- parameters (the parameter sweep detector) ------------------------------------------------ */

#define VG_ARG_HASH_MAX 256 /* values longer than this are hashed by head, length and tail */

static inline uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

/* Hashes of one value: the whole value, and (short values only) the value without its last 1,
   2 and 3 bytes, from the same FNV-1a pass. */
static void arg_value(struct vg_str v, struct vg_obs_arg *a)
{
    uint32_t h = 2166136261u;
    a->pre[0] = a->pre[1] = a->pre[2] = 0;
    if (v.n <= VG_ARG_HASH_MAX) {
        size_t head = v.n > 3 ? v.n - 3 : 0;
        for (size_t i = 0; i < head; i++)
            h = (h ^ v.p[i]) * 16777619u;
        for (size_t i = head; i < v.n; i++) {
            uint16_t ph = (uint16_t)mix32(h); /* the value without its last v.n - i bytes */
            a->pre[v.n - i - 1] = ph ? ph : 1;
            h = (h ^ v.p[i]) * 16777619u;
        }
    } else {
        for (size_t i = 0; i < VG_ARG_HASH_MAX; i++)
            h = (h ^ v.p[i]) * 16777619u;
        for (size_t i = v.n - 16; i < v.n; i++)
            h = (h ^ v.p[i]) * 16777619u;
        h ^= (uint32_t)v.n * 0x9e3779b1u;
    }
    h = mix32(h);
    a->val = h ? h : 1;
}

/* Appends the parameters of s (a query string or an urlencoded body) to o->args. */
static void observe_args(struct vg_obs *o, struct vg_str s, uint64_t seed)
{
    struct vg_args_iter it;
    struct vg_str name, value;
    vg_args_init(&it, s);
    while (o->n_args < VG_OBS_ARGS && vg_args_next(&it, &name, &value)) {
        if (!name.n)
            continue;
        struct vg_obs_arg *a = &o->args[o->n_args++];
        uint32_t k = (uint32_t)vg_hash64(name.p, name.n, seed);
        a->key = k ? k : 1;
        arg_value(value, a);
    }
}

/* Is a logged body urlencoded form data? (content type as logged, else its look) */
static bool body_is_form(const struct vg_request *req)
{
    struct vg_str ct = req->content_type;
    if (ct.n)
        return ct.n >= 10 && memmem(ct.p, ct.n, "urlencoded", 10) != NULL;
    uint8_t c = req->body.p[0];
    return c != '{' && c != '[' && c != '<' && memchr(req->body.p, '=', req->body.n) != NULL;
}

/* ---- the path (cached per thread) -------------------------------------------------------------- */

/* Decodes and lower-cases a path into s->path; returns its length. */
static size_t decode_path(struct vg_behave_scratch *s, struct vg_str path)
{
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
    return dn;
}

/* What a path alone tells (lists, stem, extension, wordlist word, path tool signals), cached by
   its hash and length. */
static const struct path_entry *path_answers(const struct vg_behave_config *cfg,
                                             struct vg_behave_scratch *s, struct vg_str path,
                                             uint64_t hash)
{
    uint64_t h = hash ? hash : 1;
    struct path_entry *e = &s->paths[h & (VG_PATH_CACHE - 1)];
    if (e->hash == h && e->len == path.n)
        return e;
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->len = path.n > UINT32_MAX ? UINT32_MAX : (uint32_t)path.n;
    e->tool_pos = UINT16_MAX;
    size_t dn = decode_path(s, path);
    const uint8_t *lp = s->path;

    /* last segment, its extension and stem */
    size_t seg_e = dn && lp[dn - 1] == '/' ? dn - 1 : dn, seg_b = seg_e;
    while (seg_b > 0 && lp[seg_b - 1] != '/')
        seg_b--;
    size_t dot = seg_e;
    for (size_t i = seg_e; i > seg_b + 1; i--) {
        if (lp[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    }
    if (dot < seg_e) {
        uint64_t eh = vg_hash64(lp + dot, seg_e - dot, 0x657874);
        e->ext = (uint16_t)(eh | 1);
    }
    e->stem = vg_hash64(lp, dot, 0x7374656d);
    if (dot > seg_b && vg_wordset_has(&cfg->wordlist, lp + seg_b, dot - seg_b))
        e->feat |= VG_OBS_WORDLIST;

    /* lists (path patterns only: the query patterns are the login list's) */
    struct vg_path_keys keys;
    vg_path_keys_make(lp, dn, &keys);
    uint32_t hit;
    if ((hit = vg_patset_match_keys(&cfg->sensitive, &keys, VG_STR_NULL)) != 0) {
        e->feat |= VG_OBS_SENSITIVE;
        e->probe = (uint16_t)hit;
    } else if ((hit = vg_patset_match_keys(&cfg->wordpress, &keys, VG_STR_NULL)) != 0) {
        e->feat |= VG_OBS_WORDPRESS;
        e->probe = (uint16_t)hit;
    } else if ((hit = vg_patset_match_keys(&cfg->admin, &keys, VG_STR_NULL)) != 0) {
        e->feat |= VG_OBS_ADMIN;
        e->probe = (uint16_t)hit;
    }
    if (vg_patset_match_keys(&cfg->wordpress_marker, &keys, VG_STR_NULL))
        e->feat |= VG_OBS_WP_MARKER;

    /* path tool signals */
    for (size_t ps = 0; ps < cfg->n_path_signals; ps++) {
        size_t i = cfg->path_signals[ps];
        const struct vg_tool_signal *sig = &cfg->signals[i];
        size_t tn = sig->len;
        bool match = false;
        if (sig->kind == VG_SIG_PATH)
            match = dn == tn && lp[tn - 1] == (uint8_t)sig->text[tn - 1] &&
                    memcmp(lp, sig->text, tn) == 0;
        else if (sig->kind == VG_SIG_PATH_PREFIX)
            match = dn >= tn && lp[tn - 1] == (uint8_t)sig->text[tn - 1] &&
                    memcmp(lp, sig->text, tn) == 0;
        if (!match)
            continue;
        if (sig->weak)
            e->weak |= 1u << (i - cfg->n_strong);
        else if (e->tool_pos == UINT16_MAX) {
            e->tool = (uint16_t)(sig->tool + 1);
            e->tool_pos = (uint16_t)ps;
        }
    }
    return e;
}

void vg_behave_observe(const struct vg_behave_config *cfg, struct vg_behave_scratch *s,
                       const struct vg_request *req, uint32_t sig_classes, struct vg_obs *o)
{
    /* Performance note: args[] is not cleared (only args[0 .. n_args) are ever read), which
       spares every request without parameters two cache lines of writes. */
    memset(o, 0, offsetof(struct vg_obs, args));
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
    if (req->query.n || req->body.n) {
        /* Performance note: only requests with parameters pay for this, one pass per value. */
        uint64_t seed = vg_behave_arg_seed(o);
        if (req->query.n)
            observe_args(o, req->query, seed);
        if (req->body.n && body_is_form(req))
            observe_args(o, req->body, seed ^ VG_ARG_SEED_BODY);
    }
    /* Everything that depends on the path alone (lists, stem, extension, path tool signals)
       comes from the per-thread cache, or is worked out once and cached. */
    const struct path_entry *pe = path_answers(cfg, s, path, o->path_hash);
    o->feat |= pe->feat & ~VG_OBS_WORDLIST;
    o->probe = pe->probe;
    if (o->feat & VG_OBS_MISS) {
        /* the last extension and the stem: only forced browsing uses them, on misses */
        o->ext = pe->ext;
        o->stem_hash = pe->stem;
        o->feat |= pe->feat & VG_OBS_WORDLIST;
    }
    bool login = false;
    if (o->feat & VG_OBS_POST) {
        /* login patterns may hold query arguments ("?do=login"): not cached */
        size_t dn = decode_path(s, path);
        struct vg_path_keys keys;
        vg_path_keys_make(s->path, dn, &keys);
        login = vg_patset_match_keys(&cfg->login, &keys, req->query) != 0;
    }
    if (!login && req->status == 401 && req->user.n)
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
    o->tool_weak |= pe->weak;
    /* The first strong path or query signal in configuration order names the tool, unless
       the user agent did. Performance note: the query is lower-cased on first use. */
    uint16_t tool = pe->tool, tool_pos = pe->tool_pos;
    size_t qn = req->query.n < VG_PATH_DECODE_MAX ? req->query.n : VG_PATH_DECODE_MAX;
    bool q_lower = false;
    for (size_t ps = 0; ps < cfg->n_path_signals && qn; ps++) {
        size_t i = cfg->path_signals[ps];
        const struct vg_tool_signal *sig = &cfg->signals[i];
        if (sig->kind != VG_SIG_QUERY_SUB || qn < sig->len)
            continue;
        if (!q_lower) {
            for (size_t k = 0; k < qn; k++)
                s->query[k] = vg_lower(req->query.p[k]);
            q_lower = true;
        }
        if (!find_sub(s->query, qn, sig->text, sig->len))
            continue;
        if (sig->weak)
            o->tool_weak |= 1u << (i - cfg->n_strong);
        else if (ps < tool_pos) {
            tool = (uint16_t)(sig->tool + 1);
            tool_pos = (uint16_t)ps;
        }
    }
    if (!o->tool)
        o->tool = tool;

    /* The site: the logged host. */
    if (req->host.n)
        o->host_hash = vg_behave_word_hash(req->host.p, req->host.n);
}
