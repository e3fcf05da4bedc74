/* SPDX-License-Identifier: Apache-2.0 */
/*
 * behave_config.c: the behaviour configuration: the built-in defaults (config/behave.conf,
 * embedded at build time) read first, then an optional user file over them; compiled into
 * pattern sets, word sets and tool/agent tables that workers match without allocating.
 *
 * Format (see config/behave.conf): "[section]" headers and "key = value" / "key += value" lines;
 * '#' at the start of a line or after a space starts a comment. Every error names the file, the
 * line and the problem; an unknown section or key is an error (a typo must not silently leave a
 * default in force).
 *
 * Security note: a configuration is user input like a rule file: every value is length- and
 * range-checked, texts that reach reports ("why" descriptions, tool and agent names) are
 * restricted to printable ASCII.
 */
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "behave/behave_int.h"

#define VG_CONF_MAX_FILE (4u * 1024 * 1024)
#define VG_PAT_MAX 256
#define VG_DESC_MAX 96

/* ---- small helpers -------------------------------------------------------------------------- */

uint64_t vg_behave_word_hash(const uint8_t *s, size_t n)
{
    uint8_t tmp[256];
    if (n > sizeof tmp)
        n = sizeof tmp;
    for (size_t i = 0; i < n; i++)
        tmp[i] = vg_lower(s[i]);
    uint64_t h = vg_hash64(tmp, n, 0x776f7264);
    return h ? h : 1;
}

bool vg_behave_glob(const char *pat, const uint8_t *s, size_t n)
{
    /* Iterative glob with one backtrack point: linear in practice, never exponential. */
    size_t p = 0, i = 0, star_p = (size_t)-1, star_i = 0;
    size_t pn = strlen(pat);
    while (i < n) {
        if (p < pn && pat[p] == '*') {
            star_p = p++;
            star_i = i;
        } else if (p < pn && (uint8_t)pat[p] == s[i]) {
            p++;
            i++;
        } else if (star_p != (size_t)-1) {
            p = star_p + 1;
            i = ++star_i;
        } else {
            return false;
        }
    }
    while (p < pn && pat[p] == '*')
        p++;
    return p == pn;
}

/* ---- word sets ------------------------------------------------------------------------------ */

static vg_status wordset_add(struct vg_wordset *w, const uint8_t *s, size_t n)
{
    if ((w->n + 1) * 2 > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        uint64_t *k = vg_calloc(cap, sizeof *k);
        if (!k)
            return VG_E_NOMEM;
        for (size_t i = 0; i < w->cap; i++) {
            if (!w->keys[i])
                continue;
            size_t h = (size_t)w->keys[i] & (cap - 1);
            while (k[h])
                h = (h + 1) & (cap - 1);
            k[h] = w->keys[i];
        }
        vg_free(w->keys);
        w->keys = k;
        w->cap = cap;
    }
    uint64_t key = vg_behave_word_hash(s, n);
    size_t h = (size_t)key & (w->cap - 1);
    while (w->keys[h]) {
        if (w->keys[h] == key)
            return VG_OK;
        h = (h + 1) & (w->cap - 1);
    }
    w->keys[h] = key;
    w->n++;
    return VG_OK;
}

static void wordset_clear(struct vg_wordset *w)
{
    vg_free(w->keys);
    memset(w, 0, sizeof *w);
}

bool vg_wordset_has(const struct vg_wordset *w, const uint8_t *s, size_t n)
{
    if (!w->n)
        return false;
    uint64_t key = vg_behave_word_hash(s, n);
    size_t h = (size_t)key & (w->cap - 1);
    while (w->keys[h]) {
        if (w->keys[h] == key)
            return true;
        h = (h + 1) & (w->cap - 1);
    }
    return false;
}

/* ---- pattern sets --------------------------------------------------------------------------- */

/* Key of a hashed pattern: FNV-1a over the text, then the kind, then a final mix. The matcher
   computes the same key for every prefix of a path in one pass (behave_observe.c). */
uint64_t vg_behave_pat_key(uint64_t fnv_state, int kind)
{
    uint64_t h = fnv_state ^ (uint64_t)(kind + 1) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

#define VG_FNV_START 0xcbf29ce484222325ULL
#define VG_FNV_PRIME 0x100000001b3ULL

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = VG_FNV_START;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * VG_FNV_PRIME;
    return h;
}

static void patset_clear(struct vg_patset *s)
{
    for (size_t i = 0; i < s->n; i++) {
        vg_free(s->p[i].text);
        vg_free(s->p[i].desc);
    }
    vg_free(s->p);
    vg_free(s->slots);
    vg_free(s->linear);
    memset(s, 0, sizeof *s);
}

/* Builds the hash table and the linear list once all patterns are in. */
static vg_status patset_compile(struct vg_patset *s)
{
    vg_free(s->slots);
    vg_free(s->linear);
    s->slots = NULL;
    s->linear = NULL;
    s->n_linear = 0;
    size_t cap = 16;
    while (cap < s->n * 2 + 2)
        cap *= 2;
    s->slots = vg_calloc(cap, sizeof *s->slots);
    s->linear = vg_calloc(s->n ? s->n : 1, sizeof *s->linear);
    if (!s->slots || !s->linear)
        return VG_E_NOMEM;
    s->cap_slots = cap;
    memset(s->filter, 0, sizeof s->filter);
    /* SUFFIX patterns first, grouped by last byte (counting sort), then the other linear ones. */
    uint16_t count[257] = {0};
    for (size_t i = 0; i < s->n; i++)
        if (s->p[i].kind == VG_PAT_SUFFIX)
            count[(uint8_t)s->p[i].text[s->p[i].len - 1] + 1]++;
    for (int c = 0; c < 256; c++)
        count[c + 1] = (uint16_t)(count[c + 1] + count[c]);
    memcpy(s->sfx_at, count, sizeof s->sfx_at);
    s->n_sfx = count[256];
    for (size_t i = 0; i < s->n; i++)
        if (s->p[i].kind == VG_PAT_SUFFIX)
            s->linear[count[(uint8_t)s->p[i].text[s->p[i].len - 1]]++] = (uint32_t)i;
    s->n_linear = s->n_sfx;
    for (size_t i = 0; i < s->n; i++) {
        const struct vg_pat *p = &s->p[i];
        if (p->kind == VG_PAT_EXACT || p->kind == VG_PAT_PREFIX || p->kind == VG_PAT_NAME) {
            uint64_t key = vg_behave_pat_key(fnv(p->text, strlen(p->text)), p->kind);
            /* The filter bit: a prefix pattern by the key of its first segment (the first
               prefix key vg_path_keys_make computes for a path under it). */
            uint64_t fk = key;
            if (p->kind == VG_PAT_PREFIX) {
                const char *slash = strchr(p->text + 1, '/');
                size_t fl = slash ? (size_t)(slash - p->text) : strlen(p->text);
                fk = vg_behave_pat_key(fnv(p->text, fl), VG_PAT_PREFIX);
            }
            unsigned bit = (unsigned)(fk >> 54) & 1023;
            s->filter[p->kind][bit >> 6] |= 1ull << (bit & 63);
            size_t h = (size_t)key & (cap - 1);
            while (s->slots[h])
                h = (h + 1) & (cap - 1);
            s->slots[h] = (uint32_t)(i + 1);
        } else if (p->kind != VG_PAT_SUFFIX) {
            s->linear[s->n_linear++] = (uint32_t)i;
        }
    }
    return VG_OK;
}

/* Probes the hash table for a pattern of `kind` whose text is s[0..n). */
uint32_t vg_patset_probe(const struct vg_patset *set, uint64_t key, int kind, const uint8_t *s,
                         size_t n)
{
    if (!set->cap_slots)
        return 0;
    size_t h = (size_t)key & (set->cap_slots - 1);
    while (set->slots[h]) {
        const struct vg_pat *p = &set->p[set->slots[h] - 1];
        if (p->kind == kind && p->len == n && memcmp(p->text, s, n) == 0)
            return set->slots[h];
        h = (h + 1) & (set->cap_slots - 1);
    }
    return 0;
}

/* Does the raw query hold the argument "name=value" (or "name" with any value)? */
bool vg_behave_query_has(const char *want, struct vg_str query)
{
    if (!query.n)
        return false;
    const char *eq = strchr(want, '=');
    size_t wn = eq ? (size_t)(eq - want) : strlen(want);
    struct vg_args_iter it;
    struct vg_str name, value;
    vg_args_init(&it, query);
    while (vg_args_next(&it, &name, &value)) {
        if (name.n != wn)
            continue;
        bool same = true;
        for (size_t i = 0; same && i < wn; i++)
            same = vg_lower(name.p[i]) == (uint8_t)want[i];
        if (!same)
            continue;
        if (!eq)
            return true;
        const char *wv = eq + 1;
        size_t vn = strlen(wv);
        if (value.n != vn)
            continue;
        for (size_t i = 0; same && i < vn; i++)
            same = vg_lower(value.p[i]) == (uint8_t)wv[i];
        if (same)
            return true;
    }
    return false;
}

void vg_path_keys_make(const uint8_t *path, size_t n, struct vg_path_keys *k)
{
    k->path = path;
    k->n = n;
    k->n_pre = 0;
    /* One pass: the running hash of the path (prefix keys at each '/'), and the hash of the
       current segment (the last one, or the one before a trailing '/', names the path). */
    size_t e = n && path[n - 1] == '/' ? n - 1 : n;
    uint64_t h = VG_FNV_START, hs = VG_FNV_START, hn = VG_FNV_START;
    size_t seg = 0, b = 0;
    for (size_t j = 0; j < n; j++) {
        uint8_t c = path[j];
        if (c == '/') {
            if (j > 0 && k->n_pre < VG_ARRAY_LEN(k->pre)) {
                k->pre[k->n_pre] = vg_behave_pat_key(h, VG_PAT_PREFIX);
                k->pre_len[k->n_pre++] = j;
            }
            if (j < e) {
                hs = VG_FNV_START;
                seg = j + 1;
            }
        } else if (j < e) {
            hs = (hs ^ c) * VG_FNV_PRIME;
        }
        h = (h ^ c) * VG_FNV_PRIME;
    }
    if (k->n_pre < VG_ARRAY_LEN(k->pre) && (n == 0 || path[n - 1] != '/')) {
        k->pre[k->n_pre] = vg_behave_pat_key(h, VG_PAT_PREFIX);
        k->pre_len[k->n_pre++] = n;
    }
    b = seg < e ? seg : e;
    hn = hs;
    k->exact = vg_behave_pat_key(h, VG_PAT_EXACT);
    k->name = vg_behave_pat_key(hn, VG_PAT_NAME);
    k->name_b = b;
    k->name_e = e;
}

static bool filter_has(const struct vg_patset *s, int kind, uint64_t key)
{
    unsigned bit = (unsigned)(key >> 54) & 1023;
    return (s->filter[kind][bit >> 6] >> (bit & 63)) & 1;
}

uint32_t vg_patset_match_keys(const struct vg_patset *s, const struct vg_path_keys *k,
                              struct vg_str query)
{
    if (!s->n)
        return 0;
    uint32_t hit;
    if (k->n_pre && filter_has(s, VG_PAT_PREFIX, k->pre[0])) {
        for (size_t i = 0; i < k->n_pre; i++) {
            hit = vg_patset_probe(s, k->pre[i], VG_PAT_PREFIX, k->path, k->pre_len[i]);
            if (hit)
                return hit;
        }
    }
    if (filter_has(s, VG_PAT_EXACT, k->exact)) {
        hit = vg_patset_probe(s, k->exact, VG_PAT_EXACT, k->path, k->n);
        if (hit)
            return hit;
    }
    if (k->name_e > k->name_b && filter_has(s, VG_PAT_NAME, k->name)) {
        hit = vg_patset_probe(s, k->name, VG_PAT_NAME, k->path + k->name_b,
                              k->name_e - k->name_b);
        if (hit)
            return hit;
    }
    const uint8_t *path = k->path;
    size_t n = k->n;
    if (n && s->n_sfx) {
        uint8_t last = path[n - 1];
        for (size_t i = s->sfx_at[last]; i < s->sfx_at[last + 1]; i++) {
            const struct vg_pat *p = &s->p[s->linear[i]];
            if (n >= p->len && memcmp(path + n - p->len, p->text, p->len) == 0)
                return s->linear[i] + 1;
        }
    }
    for (size_t i = s->n_sfx; i < s->n_linear; i++) {
        const struct vg_pat *p = &s->p[s->linear[i]];
        size_t tn = p->len;
        bool m = false;
        if (p->kind == VG_PAT_NAME_PREFIX)
            m = k->name_e - k->name_b >= tn && memcmp(path + k->name_b, p->text, tn) == 0;
        else if (p->kind == VG_PAT_GLOB)
            m = vg_behave_glob(p->text, path, n);
        else if (p->kind == VG_PAT_QUERY)
            m = vg_behave_query_has(p->text, query);
        if (m)
            return s->linear[i] + 1;
    }
    return 0;
}

uint32_t vg_patset_match(const struct vg_patset *s, const uint8_t *path, size_t n,
                         struct vg_str query)
{
    struct vg_path_keys k;
    vg_path_keys_make(path, n, &k);
    return vg_patset_match_keys(s, &k, query);
}

/* ---- parsing -------------------------------------------------------------------------------- */

enum key_type {
    K_DUR,     /* int64_t seconds */
    K_SIZE_T,  /* size_t count */
    K_UINT,    /* unsigned count */
    K_BYTES,   /* size_t, with KiB/MiB/GiB */
    K_REAL,    /* double */
    K_SCORE,   /* int 0..1000 */
    K_WORDS,   /* struct vg_wordset */
    K_STATUS,  /* miss_status bitmap */
    K_PATS,    /* struct vg_patset */
    K_CRAWLER, /* agents of kind crawler */
    K_MONITOR, /* agents of kind monitor */
    K_TOOL     /* tools and signals */
};

struct key_desc {
    const char *section, *key;
    enum key_type type;
    size_t off;
    double min, max;
    bool query_ok; /* K_PATS: "?name=value" patterns allowed */
};

#define OFF(f) offsetof(struct vg_behave_config, f)
#define DAY 86400.0

static const struct key_desc vg_keys[] = {
    {"behave", "idle", K_DUR, OFF(idle), 1, 30 * DAY, false},
    {"behave", "max_sources", K_SIZE_T, OFF(max_sources), 16, 1e9, false},
    {"behave", "pending_per_source", K_SIZE_T, OFF(pending_per_source), 1, 1e7, false},
    {"behave", "pending_budget", K_BYTES, OFF(pending_budget), 65536, 1e12, false},
    {"behave", "max_pending_age", K_DUR, OFF(max_pending_age), 1, 30 * DAY, false},
    {"behave", "max_sites", K_SIZE_T, OFF(max_sites), 1, 65536, false},
    {"scan", "gap", K_DUR, OFF(scan_gap), 1, DAY, false},
    {"scan", "min_distinct_paths", K_UINT, OFF(scan_min_distinct), 1, 1e6, false},
    {"scan", "min_misses", K_REAL, OFF(scan_min_misses), 1, 1e7, false},
    {"scan", "referer_weight", K_REAL, OFF(scan_referer_weight), 0, 1, false},
    {"scan", "min_miss_ratio", K_REAL, OFF(scan_min_ratio), 0, 1, false},
    {"scan", "min_wordlist", K_UINT, OFF(scan_min_wordlist), 1, 1e6, false},
    {"scan", "miss_status", K_STATUS, OFF(miss_status), 0, 0, false},
    {"scan", "score", K_SCORE, OFF(scan_score), 1, 1000, false},
    {"scan", "wordlist", K_WORDS, OFF(wordlist), 0, 0, false},
    {"probe", "score", K_SCORE, OFF(probe_score), 1, 1000, false},
    {"probe", "admin_min_panels", K_UINT, OFF(admin_min_panels), 1, 1000, false},
    {"probe", "sensitive", K_PATS, OFF(sensitive), 0, 0, false},
    {"probe", "admin", K_PATS, OFF(admin), 0, 0, false},
    {"probe", "wordpress", K_PATS, OFF(wordpress), 0, 0, false},
    {"probe", "wordpress_marker", K_PATS, OFF(wordpress_marker), 0, 0, false},
    {"bruteforce", "gap", K_DUR, OFF(brute_gap), 1, DAY, false},
    {"bruteforce", "min_failures", K_UINT, OFF(brute_min_failures), 2, 1e7, false},
    {"bruteforce", "min_usernames", K_UINT, OFF(brute_min_usernames), 2, 1e6, false},
    {"bruteforce", "dist_min_sources", K_UINT, OFF(dist_min_sources), 2, 64, false},
    {"bruteforce", "dist_min_failures", K_UINT, OFF(dist_min_failures), 2, 1e7, false},
    {"bruteforce", "score", K_SCORE, OFF(brute_score), 1, 1000, false},
    {"bruteforce", "login", K_PATS, OFF(login), 0, 0, true},
    {"bruteforce", "username_field", K_WORDS, OFF(username_fields), 0, 0, false},
    {"flood", "window", K_DUR, OFF(flood_window), 6, DAY, false},
    {"flood", "min_requests", K_UINT, OFF(flood_min), 2, 1e9, false},
    {"flood", "min_requests_in_spike", K_UINT, OFF(flood_spike_min), 2, 1e9, false},
    {"flood", "burst_window", K_DUR, OFF(flood_burst_window), 1, DAY, false},
    {"flood", "burst_min", K_UINT, OFF(flood_burst_min), 2, 1e9, false},
    {"flood", "site_factor", K_REAL, OFF(site_factor), 1, 1e6, false},
    {"flood", "site_min", K_UINT, OFF(site_min), 1, 1e9, false},
    {"flood", "score", K_SCORE, OFF(flood_score), 1, 1000, false},
    {"fuzz", "gap", K_DUR, OFF(fuzz_gap), 1, DAY, false},
    {"fuzz", "window", K_DUR, OFF(fuzz_window), 6, DAY, false},
    {"fuzz", "min_values", K_UINT, OFF(fuzz_min_values), 3, 60000, false},
    {"fuzz", "min_hits", K_UINT, OFF(fuzz_min_hits), 1, 60000, false},
    {"fuzz", "min_hit_share", K_REAL, OFF(fuzz_min_hit_share), 0, 1, false},
    {"fuzz", "min_same_rest", K_REAL, OFF(fuzz_min_same_rest), 0, 1, false},
    {"fuzz", "score", K_SCORE, OFF(fuzz_score), 1, 1000, false},
    {"outcome", "size_factor", K_REAL, OFF(size_factor), 1.01, 1e6, false},
    {"outcome", "size_min_samples", K_UINT, OFF(size_min_samples), 1, 1e6, false},
    {"incident", "gap", K_DUR, OFF(incident_gap), 1, 365 * DAY, false},
    {"campaign", "window", K_DUR, OFF(campaign_window), 0, 365 * DAY, false},
    {"campaign", "network_window", K_DUR, OFF(network_window), 0, 365 * DAY, false},
    {"campaign", "family_min_jaccard", K_REAL, OFF(family_min_jaccard), 0.01, 1, false},
    {"campaign", "family_min_rules", K_UINT, OFF(family_min_rules), 1, 1000, false},
    {"agents", "crawler", K_CRAWLER, 0, 0, 0, false},
    {"agents", "monitor", K_MONITOR, 0, 0, 0, false},
    {"tools", "score", K_SCORE, OFF(tool_score), 1, 1000, false},
    {"tools", "tool", K_TOOL, 0, 0, 0, false},
};

#define VG_N_KEYS (sizeof vg_keys / sizeof vg_keys[0])

struct parse_ctx {
    struct vg_behave_config *cfg;
    const char *name;
    size_t line;
    bool user;                   /* reading the user file: list keys replace the defaults */
    bool cleared[VG_N_KEYS];     /* list keys already replaced in this file */
    struct vg_error *err;
};

static vg_status perr(struct parse_ctx *c, const char *fmt, ...) VG_PRINTF(2, 3);
static vg_status perr(struct parse_ctx *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vg_error_set(c->err, VG_E_INVAL, c->name, c->line, "%s:%zu: %s", c->name, c->line,
                        msg);
}

static bool is_blank(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Trims [*b, *e) of blanks. */
static void trim(const uint8_t **b, const uint8_t **e)
{
    while (*b < *e && is_blank(**b))
        (*b)++;
    while (*e > *b && is_blank((*e)[-1]))
        (*e)--;
}

static bool printable(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

/* Copies [b, e) into a NUL-terminated buffer of cap bytes; false when it does not fit. */
static bool copy_text(char *out, size_t cap, const uint8_t *b, const uint8_t *e)
{
    size_t n = (size_t)(e - b);
    if (n >= cap)
        return false;
    memcpy(out, b, n);
    out[n] = 0;
    return true;
}

static bool parse_number(const char *s, double *out, const char **rest)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0 || *s == '-' || *s == '+')
        return false;
    /* strtod accepts hex floats, inf and nan: allow plain decimals only. */
    for (const char *p = s; p < end; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return false;
    *out = v;
    *rest = end;
    return true;
}

static vg_status set_scalar(struct parse_ctx *c, const struct key_desc *k, const char *v)
{
    double x;
    const char *rest;
    if (!parse_number(v, &x, &rest))
        return perr(c, "%s: '%s' is not a number", k->key, v);
    double mult = 1;
    if (k->type == K_DUR) {
        if (!strcmp(rest, "") || !strcmp(rest, "s"))
            mult = 1;
        else if (!strcmp(rest, "m"))
            mult = 60;
        else if (!strcmp(rest, "h"))
            mult = 3600;
        else if (!strcmp(rest, "d"))
            mult = DAY;
        else
            return perr(c, "%s: '%s' is not a duration (seconds, or a number with s, m, h, d)",
                        k->key, v);
    } else if (k->type == K_BYTES) {
        if (!strcmp(rest, ""))
            mult = 1;
        else if (!strcmp(rest, "KiB"))
            mult = 1024.0;
        else if (!strcmp(rest, "MiB"))
            mult = 1024.0 * 1024;
        else if (!strcmp(rest, "GiB"))
            mult = 1024.0 * 1024 * 1024;
        else
            return perr(c, "%s: '%s' is not a size (bytes, KiB, MiB or GiB)", k->key, v);
    } else if (*rest) {
        return perr(c, "%s: '%s' is not a number", k->key, v);
    }
    x *= mult;
    if (k->type != K_REAL && x != floor(x))
        return perr(c, "%s: '%s' must be a whole number", k->key, v);
    if (x < k->min || x > k->max)
        return perr(c, "%s: %s is out of range (%g to %g)", k->key, v, k->min, k->max);
    uint8_t *f = (uint8_t *)c->cfg + k->off;
    switch (k->type) {
    case K_DUR:
        *(int64_t *)f = (int64_t)x;
        break;
    case K_SIZE_T:
    case K_BYTES:
        *(size_t *)f = (size_t)x;
        break;
    case K_UINT:
        *(unsigned *)f = (unsigned)x;
        break;
    case K_REAL:
        *(double *)f = x;
        break;
    case K_SCORE:
        *(int *)f = (int)x;
        break;
    case K_WORDS:
    case K_STATUS:
    case K_PATS:
    case K_CRAWLER:
    case K_MONITOR:
    case K_TOOL:
        return perr(c, "%s: internal: not a scalar", k->key);
    }
    return VG_OK;
}

/* Splits the value into blank-separated words and calls fn for each. */
static vg_status each_word(struct parse_ctx *c, const uint8_t *b, const uint8_t *e,
                           vg_status (*fn)(struct parse_ctx *, const struct key_desc *,
                                           const uint8_t *, size_t),
                           const struct key_desc *k)
{
    while (b < e) {
        while (b < e && is_blank(*b))
            b++;
        const uint8_t *w = b;
        while (b < e && !is_blank(*b))
            b++;
        if (b > w) {
            vg_status st = fn(c, k, w, (size_t)(b - w));
            if (st != VG_OK)
                return st;
        }
    }
    return VG_OK;
}

static vg_status add_word(struct parse_ctx *c, const struct key_desc *k, const uint8_t *w,
                          size_t n)
{
    if (n > 128 || !printable(w, n))
        return perr(c, "%s: '%.*s' is not a plain word", k->key, (int)(n > 64 ? 64 : n), w);
    struct vg_wordset *ws = (struct vg_wordset *)((uint8_t *)c->cfg + k->off);
    return wordset_add(ws, w, n) == VG_OK ? VG_OK : perr(c, "out of memory");
}

static vg_status add_status(struct parse_ctx *c, const struct key_desc *k, const uint8_t *w,
                            size_t n)
{
    unsigned v = 0;
    if (n != 3)
        return perr(c, "%s: '%.*s' is not an HTTP status", k->key, (int)(n > 16 ? 16 : n), w);
    for (size_t i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9')
            return perr(c, "%s: '%.*s' is not an HTTP status", k->key, (int)n, w);
        v = v * 10 + (unsigned)(w[i] - '0');
    }
    if (v < 100)
        return perr(c, "%s: %u is not an HTTP status", k->key, v);
    c->cfg->miss_status[v >> 3] |= (uint8_t)(1u << (v & 7));
    return VG_OK;
}

static vg_status add_pattern(struct parse_ctx *c, const struct key_desc *k, const uint8_t *b,
                             const uint8_t *e)
{
    const uint8_t *w = b;
    while (b < e && !is_blank(*b))
        b++;
    size_t n = (size_t)(b - w);
    const uint8_t *d = b, *de = e;
    trim(&d, &de);
    if (n == 0 || n > VG_PAT_MAX || !printable(w, n))
        return perr(c, "%s: a pattern is 1 to %d printable characters", k->key, VG_PAT_MAX);
    if ((size_t)(de - d) > VG_DESC_MAX || !printable(d, (size_t)(de - d)))
        return perr(c, "%s: a description is at most %d printable characters", k->key,
                    VG_DESC_MAX);
    char pat[VG_PAT_MAX + 1];
    for (size_t i = 0; i < n; i++)
        pat[i] = (char)vg_lower(w[i]);
    pat[n] = 0;
    uint8_t kind;
    const char *text;
    if (pat[0] == '?') {
        if (!k->query_ok)
            return perr(c, "%s: query patterns (?name=value) are for login only", k->key);
        if (n < 2 || strchr(pat, '&'))
            return perr(c, "%s: '%s': write one argument, ?name=value or ?name", k->key, pat);
        kind = VG_PAT_QUERY;
        text = pat + 1;
    } else if (pat[0] == '/') {
        size_t stars = 0;
        for (size_t i = 0; i < n; i++)
            stars += pat[i] == '*';
        if (stars == 1 && n >= 2 && pat[n - 1] == '*' && pat[n - 2] == '/') {
            if (n == 2)
                return perr(c, "%s: '/*' would match every path", k->key);
            kind = VG_PAT_PREFIX;
            pat[n - 2] = 0;
        } else {
            kind = stars ? VG_PAT_GLOB : VG_PAT_EXACT;
        }
        text = pat;
    } else if (pat[0] == '*') {
        const char *rest = pat + 1;
        if (!*rest)
            return perr(c, "%s: '*' would match every path", k->key);
        size_t rl = strlen(rest);
        if (rest[0] == '/' && !strchr(rest, '*') && !strchr(rest + 1, '/') && rest[1]) {
            kind = VG_PAT_NAME;
            text = rest + 1;
        } else if (rest[0] == '/' && rl > 2 && rest[rl - 1] == '*' && !strchr(rest + 1, '/') &&
                   strchr(rest, '*') == rest + rl - 1) {
            kind = VG_PAT_NAME_PREFIX; /* "*" "/name*": the last segment starts with name */
            pat[n - 1] = 0;
            text = rest + 1;
        } else if (!strchr(rest, '*')) {
            kind = VG_PAT_SUFFIX;
            text = rest;
        } else {
            kind = VG_PAT_GLOB;
            text = pat;
        }
    } else {
        return perr(c, "%s: '%s': a pattern starts with '/', '*'%s", k->key, pat,
                    k->query_ok ? " or '?'" : "");
    }
    struct vg_patset *s = (struct vg_patset *)((uint8_t *)c->cfg + k->off);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        void *p = vg_realloc(s->p, cap * sizeof *s->p);
        if (!p)
            return perr(c, "out of memory");
        s->p = p;
        s->cap = cap;
    }
    struct vg_pat *p = &s->p[s->n];
    p->text = vg_strdup(text);
    p->desc = vg_strndup((const char *)d, (size_t)(de - d));
    p->kind = kind;
    p->len = p->text ? strlen(p->text) : 0;
    if (!p->text || !p->desc) {
        vg_free(p->text);
        vg_free(p->desc);
        return perr(c, "out of memory");
    }
    s->n++;
    return VG_OK;
}

/* Splits "a | b | c" into at most cap trimmed fields. Returns the number of fields. */
static size_t split_bars(const uint8_t *b, const uint8_t *e, const uint8_t **fb,
                         const uint8_t **fe, size_t cap)
{
    size_t n = 0;
    const uint8_t *s = b;
    for (const uint8_t *p = b;; p++) {
        if (p == e || *p == '|') {
            if (n == cap)
                return cap + 1;
            fb[n] = s;
            fe[n] = p;
            trim(&fb[n], &fe[n]);
            n++;
            if (p == e)
                break;
            s = p + 1;
        }
    }
    return n;
}

static vg_status add_agent(struct parse_ctx *c, const struct key_desc *k, const uint8_t *b,
                           const uint8_t *e)
{
    const uint8_t *fb[3], *fe[3];
    size_t nf = split_bars(b, e, fb, fe, 3);
    if (nf < 2 || nf > 3 || fb[0] == fe[0] || fb[1] == fe[1])
        return perr(c, "%s: write \"NAME | user-agent text | AS numbers\"", k->key);
    struct vg_behave_config *cfg = c->cfg;
    if (cfg->n_agents == VG_BEHAVE_MAX_AGENTS)
        return perr(c, "%s: more than %d crawlers and monitors", k->key, VG_BEHAVE_MAX_AGENTS);
    struct vg_behave_agent a;
    memset(&a, 0, sizeof a);
    a.kind = k->type == K_CRAWLER ? VG_AGENT_CRAWLER : VG_AGENT_MONITOR;
    if (!printable(fb[0], (size_t)(fe[0] - fb[0])) || !copy_text(a.name, sizeof a.name, fb[0], fe[0]))
        return perr(c, "%s: the name is 1 to %zu printable characters", k->key, sizeof a.name - 1);
    if (!printable(fb[1], (size_t)(fe[1] - fb[1])) || !copy_text(a.ua, sizeof a.ua, fb[1], fe[1]))
        return perr(c, "%s: the user-agent text is 1 to %zu printable characters", k->key,
                    sizeof a.ua - 1);
    for (char *p = a.ua; *p; p++)
        *p = (char)vg_lower((uint8_t)*p);
    if (nf == 3) {
        const uint8_t *p = fb[2];
        while (p < fe[2]) {
            while (p < fe[2] && is_blank(*p))
                p++;
            if (p == fe[2])
                break;
            uint64_t v = 0;
            const uint8_t *s = p;
            while (p < fe[2] && *p >= '0' && *p <= '9' && v <= UINT32_MAX)
                v = v * 10 + (uint64_t)(*p++ - '0');
            if (p == s || v > UINT32_MAX || (p < fe[2] && !is_blank(*p)))
                return perr(c, "%s: AS numbers are whole numbers separated by spaces", k->key);
            if (a.n_asn == VG_ARRAY_LEN(a.asn))
                return perr(c, "%s: at most %zu AS numbers", k->key, VG_ARRAY_LEN(a.asn));
            a.asn[a.n_asn++] = (uint32_t)v;
        }
    }
    cfg->agents[cfg->n_agents++] = a;
    return VG_OK;
}

static vg_status add_signal(struct parse_ctx *c, uint16_t tool, const uint8_t *b, const uint8_t *e)
{
    struct vg_behave_config *cfg = c->cfg;
    bool weak = false;
    if (e - b > 5 && memcmp(b, "weak ", 5) == 0) {
        weak = true;
        b += 5;
        while (b < e && is_blank(*b))
            b++;
    }
    static const struct {
        const char *marker;
        uint8_t kind;
    } kinds[] = {{"ua~", VG_SIG_UA_SUB},    {"ua=", VG_SIG_UA_EXACT},      {"path=", VG_SIG_PATH},
                 {"path^", VG_SIG_PATH_PREFIX}, {"query~", VG_SIG_QUERY_SUB}};
    int kind = -1;
    size_t ml = 0;
    for (size_t i = 0; i < VG_ARRAY_LEN(kinds); i++) {
        ml = strlen(kinds[i].marker);
        if ((size_t)(e - b) > ml && memcmp(b, kinds[i].marker, ml) == 0) {
            kind = kinds[i].kind;
            break;
        }
    }
    if (kind < 0)
        return perr(c, "tool: a signal is ua~TEXT, ua=TEXT, path=PATH, path^PATH or query~TEXT");
    b += ml;
    size_t n = (size_t)(e - b);
    if (n == 0 || n > 128 || !printable(b, n))
        return perr(c, "tool: a signal's text is 1 to 128 printable characters");
    size_t n_weak = cfg->n_signals - cfg->n_strong;
    if (weak && n_weak == VG_BEHAVE_MAX_WEAK)
        return perr(c, "tool: more than %d weak signals in all", VG_BEHAVE_MAX_WEAK);
    if (cfg->n_signals == cfg->cap_signals) {
        size_t cap = cfg->cap_signals ? cfg->cap_signals * 2 : 64;
        void *p = vg_realloc(cfg->signals, cap * sizeof *cfg->signals);
        if (!p)
            return perr(c, "out of memory");
        cfg->signals = p;
        cfg->cap_signals = cap;
    }
    struct vg_tool_signal s;
    s.text = vg_strndup((const char *)b, n);
    if (!s.text)
        return perr(c, "out of memory");
    if (kind != VG_SIG_UA_EXACT)
        for (char *p = s.text; *p; p++)
            *p = (char)vg_lower((uint8_t)*p);
    s.tool = tool;
    s.kind = (uint8_t)kind;
    s.weak = weak;
    s.len = n;
    /* Strong signals first, weak ones after (bit i of tool_weak is weak signal i). */
    if (!weak) {
        memmove(&cfg->signals[cfg->n_strong + 1], &cfg->signals[cfg->n_strong],
                n_weak * sizeof *cfg->signals);
        cfg->signals[cfg->n_strong++] = s;
    } else {
        cfg->signals[cfg->n_signals] = s;
    }
    cfg->n_signals++;
    return VG_OK;
}

static vg_status add_tool(struct parse_ctx *c, const uint8_t *b, const uint8_t *e)
{
    const uint8_t *fb[16], *fe[16];
    size_t nf = split_bars(b, e, fb, fe, 16);
    if (nf < 3 || nf > 16)
        return perr(c, "tool: write \"NAME | PURPOSE | SIGNAL | SIGNAL ...\" (at most 14 signals)");
    struct vg_behave_config *cfg = c->cfg;
    if (cfg->n_tools == VG_BEHAVE_MAX_TOOLS)
        return perr(c, "tool: more than %d tools", VG_BEHAVE_MAX_TOOLS);
    struct vg_behave_tool *t = &cfg->tools[cfg->n_tools];
    memset(t, 0, sizeof *t);
    if (fb[0] == fe[0] || !printable(fb[0], (size_t)(fe[0] - fb[0])) ||
        !copy_text(t->name, sizeof t->name, fb[0], fe[0]))
        return perr(c, "tool: the name is 1 to %zu printable characters", sizeof t->name - 1);
    static const char *const purposes[] = {"any", "sqli", "scan", "brute", "recon"};
    size_t pl = (size_t)(fe[1] - fb[1]);
    int purpose = -1;
    for (size_t i = 0; i < VG_ARRAY_LEN(purposes); i++)
        if (strlen(purposes[i]) == pl && memcmp(purposes[i], fb[1], pl) == 0)
            purpose = (int)i;
    if (purpose < 0)
        return perr(c, "tool: the purpose is any, sqli, scan, brute or recon");
    t->purpose = (uint8_t)purpose;
    uint16_t id = (uint16_t)cfg->n_tools;
    for (size_t i = 2; i < nf; i++) {
        vg_status st = add_signal(c, id, fb[i], fe[i]);
        if (st != VG_OK)
            return st;
    }
    cfg->n_tools++;
    return VG_OK;
}

/* Empties a list before the first "key = ..." of a user file. */
static void clear_list(struct vg_behave_config *cfg, const struct key_desc *k)
{
    uint8_t *f = (uint8_t *)cfg + k->off;
    switch (k->type) {
    case K_WORDS:
        wordset_clear((struct vg_wordset *)f);
        break;
    case K_STATUS:
        memset(cfg->miss_status, 0, sizeof cfg->miss_status);
        break;
    case K_PATS:
        patset_clear((struct vg_patset *)f);
        break;
    case K_CRAWLER:
    case K_MONITOR: {
        uint8_t kind = k->type == K_CRAWLER ? VG_AGENT_CRAWLER : VG_AGENT_MONITOR;
        size_t o = 0;
        for (size_t i = 0; i < cfg->n_agents; i++)
            if (cfg->agents[i].kind != kind)
                cfg->agents[o++] = cfg->agents[i];
        cfg->n_agents = o;
        break;
    }
    case K_TOOL:
        for (size_t i = 0; i < cfg->n_signals; i++)
            vg_free(cfg->signals[i].text);
        cfg->n_signals = cfg->n_strong = 0;
        cfg->n_tools = 0;
        break;
    case K_DUR:
    case K_SIZE_T:
    case K_UINT:
    case K_BYTES:
    case K_REAL:
    case K_SCORE:
        break;
    }
}

static vg_status parse_line(struct parse_ctx *c, char *section, const uint8_t *b, const uint8_t *e)
{
    /* Comments: '#' at the start or after a blank. */
    for (const uint8_t *p = b; p < e; p++) {
        if (*p == '#' && (p == b || is_blank(p[-1]))) {
            e = p;
            break;
        }
    }
    trim(&b, &e);
    if (b == e)
        return VG_OK;
    if (*b == '[') {
        if (e[-1] != ']' || e - b < 3 || e - b > 30)
            return perr(c, "a section header is [name]");
        size_t n = (size_t)(e - b - 2);
        bool known = false;
        for (size_t i = 0; i < VG_N_KEYS; i++)
            known |= strlen(vg_keys[i].section) == n && memcmp(vg_keys[i].section, b + 1, n) == 0;
        if (!known)
            return perr(c, "unknown section [%.*s]", (int)n, b + 1);
        memcpy(section, b + 1, n);
        section[n] = 0;
        return VG_OK;
    }
    const uint8_t *eq = memchr(b, '=', (size_t)(e - b));
    if (!eq)
        return perr(c, "expected \"key = value\"");
    bool append = eq > b && eq[-1] == '+';
    const uint8_t *kb = b, *ke = append ? eq - 1 : eq, *vb = eq + 1, *ve = e;
    trim(&kb, &ke);
    trim(&vb, &ve);
    if (!section[0])
        return perr(c, "\"%.*s\" outside of a [section]", (int)(ke - kb > 40 ? 40 : ke - kb), kb);
    const struct key_desc *k = NULL;
    size_t ki = 0;
    for (size_t i = 0; i < VG_N_KEYS; i++) {
        if (strcmp(vg_keys[i].section, section) == 0 && strlen(vg_keys[i].key) == (size_t)(ke - kb) &&
            memcmp(vg_keys[i].key, kb, (size_t)(ke - kb)) == 0) {
            k = &vg_keys[i];
            ki = i;
        }
    }
    if (!k)
        return perr(c, "unknown key \"%.*s\" in [%s]", (int)(ke - kb > 40 ? 40 : ke - kb), kb,
                    section);
    if (vb == ve)
        return perr(c, "%s: no value", k->key);
    bool list = k->type == K_WORDS || k->type == K_STATUS || k->type == K_PATS ||
                k->type == K_CRAWLER || k->type == K_MONITOR || k->type == K_TOOL;
    if (append && !list)
        return perr(c, "%s: += is for lists", k->key);
    if (list && c->user && !append && !c->cleared[ki]) {
        clear_list(c->cfg, k);
        c->cleared[ki] = true;
    }
    switch (k->type) {
    case K_WORDS:
        return each_word(c, vb, ve, add_word, k);
    case K_STATUS:
        return each_word(c, vb, ve, add_status, k);
    case K_PATS:
        return add_pattern(c, k, vb, ve);
    case K_CRAWLER:
    case K_MONITOR:
        return add_agent(c, k, vb, ve);
    case K_TOOL:
        return add_tool(c, vb, ve);
    case K_DUR:
    case K_SIZE_T:
    case K_UINT:
    case K_BYTES:
    case K_REAL:
    case K_SCORE: {
        char v[64];
        if (!copy_text(v, sizeof v, vb, ve))
            return perr(c, "%s: value too long", k->key);
        return set_scalar(c, k, v);
    }
    }
    return perr(c, "internal: unhandled key type");
}

static vg_status parse_text(struct vg_behave_config *cfg, const uint8_t *text, size_t n,
                            const char *name, bool user, struct vg_error *err)
{
    struct parse_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    c.name = name;
    c.user = user;
    c.err = err;
    char section[32] = "";
    const uint8_t *p = text, *end = text + n;
    if (n > VG_CONF_MAX_FILE)
        return vg_error_set(err, VG_E_LIMIT, name, 0, "%s: larger than %u bytes", name,
                            VG_CONF_MAX_FILE);
    if (memchr(text, 0, n))
        return vg_error_set(err, VG_E_INVAL, name, 0, "%s: holds NUL bytes", name);
    while (p < end) {
        c.line++;
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        vg_status st = parse_line(&c, section, p, le);
        if (st != VG_OK)
            return st;
        p = nl ? nl + 1 : end;
    }
    return VG_OK;
}

/* ---- building ------------------------------------------------------------------------------- */

void vg_behave_config_free(struct vg_behave_config *cfg)
{
    if (!cfg)
        return;
    wordset_clear(&cfg->wordlist);
    wordset_clear(&cfg->username_fields);
    patset_clear(&cfg->sensitive);
    patset_clear(&cfg->admin);
    patset_clear(&cfg->wordpress);
    patset_clear(&cfg->wordpress_marker);
    patset_clear(&cfg->login);
    for (size_t i = 0; i < cfg->n_signals; i++)
        vg_free(cfg->signals[i].text);
    vg_free(cfg->signals);
    vg_free(cfg);
}

const char *vg_behave_default_text(size_t *len)
{
    if (len)
        *len = (size_t)vg_behave_builtin_conf_len;
    return vg_behave_builtin_conf;
}

static vg_status finish(struct vg_behave_config *cfg, struct vg_error *err, const char *name)
{
    struct vg_patset *sets[] = {&cfg->sensitive, &cfg->admin, &cfg->wordpress,
                                &cfg->wordpress_marker, &cfg->login};
    for (size_t i = 0; i < VG_ARRAY_LEN(sets); i++)
        if (patset_compile(sets[i]) != VG_OK)
            return vg_error_set(err, VG_E_NOMEM, name, 0, "out of memory");
    if (cfg->pending_per_source < 2)
        cfg->pending_per_source = 2;
    cfg->n_path_signals = 0;
    for (size_t i = 0; i < cfg->n_signals; i++) {
        uint8_t k = cfg->signals[i].kind;
        if (k == VG_SIG_PATH || k == VG_SIG_PATH_PREFIX || k == VG_SIG_QUERY_SUB) {
            if (cfg->n_path_signals == VG_ARRAY_LEN(cfg->path_signals))
                return vg_error_set(err, VG_E_LIMIT, name, 0, "%s: too many path signals", name);
            cfg->path_signals[cfg->n_path_signals++] = (uint16_t)i;
        }
    }
    if (cfg->flood_burst_window > cfg->flood_window)
        return vg_error_set(err, VG_E_INVAL, name, 0,
                            "%s: [flood] burst_window must not exceed window", name);
    if (cfg->flood_spike_min > cfg->flood_min)
        return vg_error_set(err, VG_E_INVAL, name, 0,
                            "%s: [flood] min_requests_in_spike must not exceed min_requests",
                            name);
    return VG_OK;
}

vg_status vg_behave_config_from_text(const uint8_t *text, size_t n, const char *name,
                                     struct vg_behave_config **out, struct vg_error *err)
{
    *out = NULL;
    struct vg_behave_config *cfg = vg_calloc(1, sizeof *cfg);
    if (!cfg)
        return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    vg_status st = parse_text(cfg, (const uint8_t *)vg_behave_builtin_conf,
                              (size_t)vg_behave_builtin_conf_len, "builtin/behave.conf", false, err);
    if (st == VG_OK && text)
        st = parse_text(cfg, text, n, name ? name : "behave config", true, err);
    if (st == VG_OK)
        st = finish(cfg, err, name ? name : "builtin/behave.conf");
    if (st != VG_OK) {
        vg_behave_config_free(cfg);
        return st;
    }
    /* Provenance: a hash of what was read (defaults and the user's text). */
    crypto_generichash_state hs;
    uint8_t h[32];
    crypto_generichash_init(&hs, NULL, 0, sizeof h);
    crypto_generichash_update(&hs, (const uint8_t *)vg_behave_builtin_conf,
                              (unsigned long long)vg_behave_builtin_conf_len);
    if (text) {
        crypto_generichash_update(&hs, (const uint8_t *)"\n--user--\n", 10);
        crypto_generichash_update(&hs, text, n);
    }
    crypto_generichash_final(&hs, h, sizeof h);
    for (size_t i = 0; i < sizeof h; i++)
        snprintf(cfg->hash + 2 * i, 3, "%02x", h[i]);
    *out = cfg;
    return VG_OK;
}

vg_status vg_behave_config_new(const char *path, struct vg_behave_config **out,
                               struct vg_error *err)
{
    *out = NULL;
    if (!path)
        return vg_behave_config_from_text(NULL, 0, NULL, out, err);
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    struct vg_buf b;
    vg_buf_init(&b, VG_CONF_MAX_FILE + 1);
    uint8_t tmp[16384];
    size_t got;
    vg_status st = VG_OK;
    while (st == VG_OK && (got = fread(tmp, 1, sizeof tmp, f)) > 0)
        st = vg_buf_add(&b, tmp, got);
    bool rerr = ferror(f);
    fclose(f);
    if (st != VG_OK || rerr) {
        vg_buf_fini(&b);
        return vg_error_set(err, st != VG_OK ? st : VG_E_IO, path, 0, "%s: %s", path,
                            st == VG_E_LIMIT ? "larger than 4 MiB"
                                             : st != VG_OK ? vg_strerror(st) : strerror(errno));
    }
    st = vg_behave_config_from_text(b.p ? b.p : (const uint8_t *)"", b.n, path, out, err);
    vg_buf_fini(&b);
    return st;
}
