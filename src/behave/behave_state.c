/* SPDX-License-Identifier: Apache-2.0 */
/*
 * behave_state.c: the stateful behaviour detectors (consumer thread, input order).
 *
 * State, all bounded:
 *  - sources: (client address, site) -> a 64-byte record in a hash table, on an LRU list by
 *    last request. A source idle for [behave] idle seconds of log time, or the least recently
 *    seen one when max_sources are tracked, is dropped (its episodes end, its held requests are
 *    decided).
 *  - detector state ("ext", ~400 bytes) only for sources that show a signal (a miss, a repeat,
 *    a failed login, a tool signal, an admin panel), freed when its episodes end.
 *  - held requests ("pending"): a copy of the line (and of the signature hits) of each request
 *    that an open, not yet decided episode may still flag; on a per-source list and one global
 *    FIFO in input order (its head gives the resume offset of a checkpoint). Bounded per source,
 *    in bytes overall, and in age.
 *  - sites: what was learned about each logged host (known paths, WordPress, traffic per
 *    minute, usual response size per path, user names under attack).
 *  - parameter sweeps ("fz", ~850 bytes) for sources that sent parameters within [fuzz] gap:
 *    4 slots of (method, path, name) with a set of the values seen and their rate; on their
 *    own list by last use, freed when idle for the gap.
 *
 * Episodes: each detector judges a source in episodes (a scan episode lasts while misses come
 * no further apart than scan.gap, ...). An open episode holds its candidate requests; when it
 * fires, they become attack requests with the detector's class and "why", and while it stays
 * active further requests are flagged at once; when it ends unfired, they are let go. A held
 * request is emitted when no open episode holds it any more and something flagged it.
 *
 * Memory: pools of fixed-size records in blocks of 4096 (stable addresses, no realloc moves);
 * held line copies are single allocations of the consumer thread, never of the workers.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "behave/behave_int.h"
#include "detect/detect.h"

#define VG_BLOCK_SHIFT 12
#define VG_BLOCK (1u << VG_BLOCK_SHIFT)
#define VG_WHY_MAX 240
#define VG_SITE_BLOOM_WORDS 1024 /* 65536 bits of known paths */
#define VG_SITE_SIZES 512
#define VG_SITE_USERS 256
#define VG_USER_SOURCES 16
#define VG_FLOOD_BUCKETS 6
#define VG_REP_KEYS 4
#define VG_STEMS 8
#define VG_PANELS 8
#define VG_SIG_FLAG 0x80 /* pend.flag: a signature verdict */
#define VG_HELD_FIELDS 6 /* method, host, target, protocol, user agent, referer */
#define VG_STATE_MAGIC 0x48424756u /* "VGBH" */
#define VG_STATE_VERSION 3u
#define VG_FZ_SLOTS 4   /* parameters followed at once per source */
#define VG_FZ_BUCKETS 6 /* the sweep window in sixths */
#define VG_FZ_NAME 24

/* ---- pools of fixed-size records with stable addresses ---------------------------------------- */

struct pool {
    uint8_t **blocks;
    size_t n_blocks;
    size_t elem;
    uint32_t used;      /* ids handed out so far (high-water mark) */
    uint32_t free_head; /* id + 0: 0 = empty; link kept in the first 4 bytes of a free element */
    size_t live;
};

static void pool_init(struct pool *p, size_t elem)
{
    memset(p, 0, sizeof *p);
    p->elem = elem < sizeof(uint32_t) ? sizeof(uint32_t) : elem;
}

static void pool_fini(struct pool *p)
{
    for (size_t i = 0; i < p->n_blocks; i++)
        vg_free(p->blocks[i]);
    vg_free(p->blocks);
    memset(p, 0, sizeof *p);
}

static inline void *pool_at(const struct pool *p, uint32_t id)
{
    uint32_t i = id - 1;
    return p->blocks[i >> VG_BLOCK_SHIFT] + (size_t)(i & (VG_BLOCK - 1)) * p->elem;
}

/* A zeroed element; returns its id (>= 1) or 0 when out of memory. */
static uint32_t pool_get(struct pool *p)
{
    uint32_t id;
    if (p->free_head) {
        id = p->free_head;
        memcpy(&p->free_head, pool_at(p, id), sizeof(uint32_t));
    } else {
        if (p->used == UINT32_MAX - 1)
            return 0;
        if ((p->used >> VG_BLOCK_SHIFT) == p->n_blocks) {
            uint8_t **nb = vg_realloc(p->blocks, (p->n_blocks + 1) * sizeof *nb);
            if (!nb)
                return 0;
            p->blocks = nb;
            p->blocks[p->n_blocks] = vg_malloc(VG_BLOCK * p->elem);
            if (!p->blocks[p->n_blocks])
                return 0;
            p->n_blocks++;
        }
        id = ++p->used;
    }
    memset(pool_at(p, id), 0, p->elem);
    p->live++;
    return id;
}

static void pool_put(struct pool *p, uint32_t id)
{
    memcpy(pool_at(p, id), &p->free_head, sizeof(uint32_t));
    p->free_head = id;
    p->live--;
}

/* ---- records --------------------------------------------------------------------------------- */

struct src {
    struct vg_addr addr;
    uint32_t site;
    uint32_t ext;               /* ext id; 0 none */
    int64_t last;
    uint32_t lru_prev, lru_next;
    uint32_t p_head, p_tail;    /* held requests, oldest first */
    uint64_t last_key;          /* flood: (method, path, status, size) of the last request */
    uint32_t n_pending;
    uint16_t agent_checked;     /* agent index + 1 whose verification is cached */
    uint8_t agent_ok;
    uint8_t alive;
    uint32_t fz;                /* parameter sweep state id; 0 none */
};

struct ext {
    uint32_t owner;
    uint8_t fired; /* bit per detector: a detection in force */
    uint8_t open;  /* bit per detector: an episode deciding */
    uint16_t tool; /* identified tool + 1 */
    uint32_t tool_weak;
    /* forced browsing */
    int64_t scan_last_miss, scan_last_req;
    uint32_t scan_req, scan_miss, scan_distinct, scan_wordlist, scan_sweeps, scan_unseen;
    double scan_miss_w;
    uint64_t scan_bloom[16];
    uint64_t stems[VG_STEMS];
    uint16_t stem_ext[VG_STEMS];
    uint8_t stem_pos;
    /* admin panels */
    int64_t probe_last;
    uint64_t panels[VG_PANELS];
    uint8_t n_panels;
    /* brute force */
    int64_t brute_last;
    uint32_t brute_fail;
    uint64_t users[8];
    uint8_t n_users;
    /* floods */
    int64_t flood_t0, flood_last;
    uint32_t flood_b[VG_FLOOD_BUCKETS];
    uint64_t rep[VG_REP_KEYS];
    uint8_t rep_pos;
    /* detections in force */
    int64_t since[VG_DET_COUNT];
    char *why[VG_DET_COUNT];
};

struct pend {
    uint32_t free_link; /* first 4 bytes: pool link while free */
    uint32_t sprev, snext, gprev, gnext;
    uint32_t src;
    uint8_t cand, flag;
    uint8_t probe_kind; /* 1 sensitive, 2 wordpress, 3 admin not served, 4 admin episode */
    uint8_t fuzz_cls;   /* flagged by a sweep: its class + 1 */
    uint16_t probe;
    uint16_t n_hits;
    uint32_t file_no;
    uint32_t line_len;
    uint64_t line_no;
    uint8_t *data;      /* line bytes, then the serialized hits */
    size_t data_len;
    int sig_score;
    uint32_t sig_classes;
    unsigned sig_decode_flags;
    struct vg_obs obs;
};

/* One parameter (method, path, name) of a source followed by the sweep detector, in episodes:
   requests no further apart than [fuzz] gap. */
struct fz_slot {
    uint32_t key;          /* vg_obs_arg.key; 0 = free */
    uint32_t val;          /* the previous value */
    uint32_t rest;         /* the other parameters of the previous request */
    uint16_t pre[3];       /* the previous value's prefix hashes */
    uint8_t fired;
    uint8_t cls;           /* the sweep's class (enum vg_class) once fired */
    uint32_t n_req, n_hit, n_same, n_new;
    uint16_t inj[8];       /* signature hits by injection class (vg_inj_classes order) */
    uint16_t bucket[VG_FZ_BUCKETS]; /* new values per sixth of the window */
    int64_t t0, first, last; /* t0: start of bucket 0 */
    uint64_t seen[4];      /* the values seen (256-bit set) */
    uint8_t post;          /* sent by POST (for the "why") */
    uint32_t stamp;        /* fz.stamp of its last request */
    char name[VG_FZ_NAME]; /* the parameter's name, path as logged: once fired */
    char path[56];
};

struct fz {
    uint32_t free_link; /* first 4 bytes: pool link while free */
    uint32_t owner;
    uint32_t lru_prev, lru_next;
    int64_t last;
    uint32_t stamp;     /* requests with parameters seen */
    uint32_t stale;     /* slots ended since the held requests were last sorted out */
    struct fz_slot slot[VG_FZ_SLOTS];
};

struct user_slot {
    uint64_t user;
    int64_t last, fired_until;
    uint32_t failures;
    uint8_t n_src;
    uint32_t srcs[VG_USER_SOURCES];
    uint64_t src_keys[VG_USER_SOURCES]; /* address hash: the pool slot may be reused */
};

struct size_slot {
    uint64_t path;
    uint32_t count;
    uint32_t mean;
};

struct site {
    char name[256];
    uint64_t hash;
    bool wordpress;
    int64_t minute;
    uint32_t minute_count;
    uint32_t minutes_seen;
    double baseline;
    uint64_t bloom[VG_SITE_BLOOM_WORDS];
    struct size_slot sizes[VG_SITE_SIZES];
    struct user_slot users[VG_SITE_USERS];
};

struct vg_behave {
    struct vg_behave_env env;
    const struct vg_behave_config *cfg;
    int64_t clock;
    struct pool srcs, exts, pends, fzs;
    uint32_t fz_head, fz_tail; /* sweep states by last use, oldest first */
    uint32_t *slots;
    size_t cap_slots;
    uint32_t lru_head, lru_tail;
    uint32_t g_head, g_tail;
    size_t pend_bytes;
    struct site **sites;
    size_t n_sites;
    struct vg_behave_stats stats;
    char why[VG_WHY_MAX];
    char why_probe[VG_WHY_MAX];
};

/* ---- names ----------------------------------------------------------------------------------- */

static const char *const vg_det_names[VG_DET_COUNT] = {
    [VG_DET_SCAN] = "forced-browsing", [VG_DET_PROBE] = "sensitive-probe",
    [VG_DET_BRUTE] = "brute-force",    [VG_DET_FLOOD] = "flood",
    [VG_DET_TOOL] = "tool-fingerprint", [VG_DET_FUZZ] = "fuzz",
};
static const int vg_det_classes[VG_DET_COUNT] = {
    [VG_DET_SCAN] = VG_CLASS_SCAN,   [VG_DET_PROBE] = VG_CLASS_PROBE,
    [VG_DET_BRUTE] = VG_CLASS_BRUTEFORCE, [VG_DET_FLOOD] = VG_CLASS_FLOOD,
    [VG_DET_TOOL] = VG_CLASS_TOOL,   [VG_DET_FUZZ] = -1,
};
/* Injection classes, in the order a tie between a sweep's hits is broken. */
static const int vg_inj_classes[] = {VG_CLASS_SQLI, VG_CLASS_XSS,  VG_CLASS_TRAVERSAL,
                                     VG_CLASS_CMDI, VG_CLASS_CODE, VG_CLASS_RFI,
                                     VG_CLASS_SSTI};

const char *vg_detector_name(enum vg_detector_id d)
{
    return (unsigned)d < VG_DET_COUNT ? vg_det_names[d] : NULL;
}

int vg_detector_class(enum vg_detector_id d)
{
    return (unsigned)d < VG_DET_COUNT ? vg_det_classes[d] : -1;
}

static int det_score(const struct vg_behave_config *cfg, int d)
{
    switch (d) {
    case VG_DET_SCAN:
        return cfg->scan_score;
    case VG_DET_PROBE:
        return cfg->probe_score;
    case VG_DET_BRUTE:
        return cfg->brute_score;
    case VG_DET_FLOOD:
        return cfg->flood_score;
    case VG_DET_TOOL:
        return cfg->tool_score;
    case VG_DET_FUZZ:
        return cfg->fuzz_score;
    default:
        return 0;
    }
}

static const char *purpose_text(uint8_t p)
{
    switch (p) {
    case VG_TOOL_SQLI:
        return "SQL injection tool";
    case VG_TOOL_SCAN:
        return "scanner";
    case VG_TOOL_BRUTE:
        return "password guesser";
    case VG_TOOL_RECON:
        return "reconnaissance tool";
    default:
        return "attack tool";
    }
}

/* ---- lifecycle ---------------------------------------------------------------------------------- */

vg_status vg_behave_new(const struct vg_behave_env *env, struct vg_behave **out)
{
    *out = NULL;
    if (!env || !env->cfg || !env->emit)
        return VG_E_INVAL;
    struct vg_behave *b = vg_calloc(1, sizeof *b);
    if (!b)
        return VG_E_NOMEM;
    b->env = *env;
    b->cfg = env->cfg;
    b->clock = INT64_MIN;
    pool_init(&b->srcs, sizeof(struct src));
    pool_init(&b->exts, sizeof(struct ext));
    pool_init(&b->pends, sizeof(struct pend));
    pool_init(&b->fzs, sizeof(struct fz));
    b->cap_slots = 1024;
    b->slots = vg_calloc(b->cap_slots, sizeof *b->slots);
    b->sites = vg_calloc(b->cfg->max_sites + 2, sizeof *b->sites);
    if (!b->slots || !b->sites) {
        vg_behave_free(b);
        return VG_E_NOMEM;
    }
    *out = b;
    return VG_OK;
}

void vg_behave_free(struct vg_behave *b)
{
    if (!b)
        return;
    for (uint32_t id = 1; id <= b->pends.used; id++) {
        struct pend *p = pool_at(&b->pends, id);
        /* free records have data NULL (zeroed when handed out, cleared when put back) */
        vg_free(p->data);
        p->data = NULL;
    }
    for (uint32_t id = 1; id <= b->exts.used; id++) {
        struct ext *e = pool_at(&b->exts, id);
        for (int d = 0; d < VG_DET_COUNT; d++) {
            vg_free(e->why[d]);
            e->why[d] = NULL;
        }
    }
    pool_fini(&b->srcs);
    pool_fini(&b->exts);
    pool_fini(&b->pends);
    pool_fini(&b->fzs);
    vg_free(b->slots);
    if (b->sites)
        for (size_t i = 0; i < b->n_sites; i++)
            vg_free(b->sites[i]);
    vg_free(b->sites);
    vg_free(b);
}

void vg_behave_get_stats(const struct vg_behave *b, struct vg_behave_stats *out)
{
    *out = b->stats;
    out->sources = b->srcs.live;
    out->exts = b->exts.live;
    out->sweeps = b->fzs.live;
    out->pending = b->pends.live;
    out->pending_bytes = b->pend_bytes;
    out->sites = b->n_sites;
}

/* ---- sites ------------------------------------------------------------------------------------- */

/* The site of a logged host (created on first sight; past max_sites, one shared "other"). */
static uint32_t site_get(struct vg_behave *b, struct vg_str host, uint64_t hash)
{
    for (size_t i = 0; i < b->n_sites; i++)
        if (b->sites[i]->hash == hash)
            return (uint32_t)i;
    bool other = b->n_sites >= b->cfg->max_sites;
    uint64_t want = other ? 2 : hash;
    if (other)
        for (size_t i = 0; i < b->n_sites; i++)
            if (b->sites[i]->hash == want)
                return (uint32_t)i;
    struct site *s = vg_calloc(1, sizeof *s);
    if (!s)
        return UINT32_MAX;
    s->hash = want;
    s->minute = INT64_MIN;
    if (other) {
        snprintf(s->name, sizeof s->name, "(other)");
    } else {
        size_t n = host.n < sizeof s->name - 1 ? host.n : sizeof s->name - 1;
        if (n)
            memcpy(s->name, host.p, n);
        s->name[n] = 0;
    }
    b->sites[b->n_sites] = s;
    return (uint32_t)b->n_sites++;
}

static void bloom_bits(uint64_t h, uint32_t bits[3])
{
    bits[0] = (uint32_t)(h & 0xffff);
    bits[1] = (uint32_t)((h >> 16) & 0xffff);
    bits[2] = (uint32_t)((h >> 32) & 0xffff);
}

static bool site_knows(const struct site *s, uint64_t path)
{
    uint32_t bits[3];
    bloom_bits(path, bits);
    for (int i = 0; i < 3; i++)
        if (!((s->bloom[bits[i] >> 6] >> (bits[i] & 63)) & 1))
            return false;
    return true;
}

static void site_learn(struct site *s, uint64_t path)
{
    uint32_t bits[3];
    bloom_bits(path, bits);
    for (int i = 0; i < 3; i++)
        s->bloom[bits[i] >> 6] |= 1ull << (bits[i] & 63);
}

/* Requests per minute and the site's usual rate (an exponential average over minutes). */
static void site_count(struct site *s, int64_t t)
{
    int64_t minute = t >= 0 ? t / 60 : (t - 59) / 60;
    if (s->minute == INT64_MIN) {
        s->minute = minute;
    } else if (minute > s->minute) {
        s->baseline = s->minutes_seen ? 0.9 * s->baseline + 0.1 * s->minute_count
                                      : (double)s->minute_count;
        s->minutes_seen++;
        int64_t gap = minute - s->minute - 1;
        if (gap > 0)
            s->baseline *= pow(0.9, gap > 1000 ? 1000.0 : (double)gap);
        s->minute = minute;
        s->minute_count = 0;
    }
    s->minute_count++;
}


static bool site_in_spike(const struct vg_behave_config *cfg, const struct site *s)
{
    if (s->minutes_seen < 10)
        return false;
    double bar = cfg->site_factor * s->baseline;
    if (bar < cfg->site_min)
        bar = cfg->site_min;
    return s->minute_count >= bar;
}

static struct size_slot *site_size(struct site *s, uint64_t path)
{
    return &s->sizes[path & (VG_SITE_SIZES - 1)];
}

static void site_learn_size(struct site *s, uint64_t path, int64_t bytes)
{
    if (bytes < 0)
        return;
    struct size_slot *z = site_size(s, path);
    if (z->path != path) {
        z->path = path;
        z->count = 0;
        z->mean = 0;
    }
    uint64_t v = bytes > UINT32_MAX ? UINT32_MAX : (uint64_t)bytes;
    uint32_t n = z->count < 1000 ? z->count : 1000;
    z->mean = (uint32_t)(((uint64_t)z->mean * n + v) / (n + 1));
    if (z->count < UINT32_MAX)
        z->count++;
}

static bool size_anomaly(const struct vg_behave_config *cfg, const struct site *s,
                         const struct vg_obs *o)
{
    if (!(o->feat & VG_OBS_2XX) || o->bytes < 0)
        return false;
    const struct size_slot *z = &s->sizes[o->path_hash & (VG_SITE_SIZES - 1)];
    if (z->path != o->path_hash || z->count < cfg->size_min_samples)
        return false;
    double mean = z->mean, v = (double)o->bytes;
    if (fabs(v - mean) < 256)
        return false;
    return v >= mean * cfg->size_factor || v * cfg->size_factor <= mean;
}

/* ---- sources ------------------------------------------------------------------------------------ */

static uint64_t src_hash(const struct vg_addr *a, uint32_t site)
{
    uint8_t k[20];
    memcpy(k, a->b, 16);
    memcpy(k + 16, &site, 4);
    return vg_hash64(k, sizeof k, 0x737263);
}

static struct src *S(const struct vg_behave *b, uint32_t id)
{
    return pool_at(&b->srcs, id);
}

static struct ext *E(const struct vg_behave *b, uint32_t id)
{
    return pool_at(&b->exts, id);
}

static struct pend *P(const struct vg_behave *b, uint32_t id)
{
    return pool_at(&b->pends, id);
}

/* Parameter sweeps (defined with the detector). */
static struct fz *F(const struct vg_behave *b, uint32_t id);
static void fz_lru_unlink(struct vg_behave *b, uint32_t id);
static vg_status fz_end(struct vg_behave *b, uint32_t sid);
static vg_status fz_force(struct vg_behave *b, uint32_t pid);

static vg_status slots_grow(struct vg_behave *b)
{
    size_t cap = b->cap_slots * 2;
    uint32_t *slots = vg_calloc(cap, sizeof *slots);
    if (!slots)
        return VG_E_NOMEM;
    for (size_t i = 0; i < b->cap_slots; i++) {
        uint32_t id = b->slots[i];
        if (!id)
            continue;
        struct src *s = S(b, id);
        size_t h = (size_t)src_hash(&s->addr, s->site) & (cap - 1);
        while (slots[h])
            h = (h + 1) & (cap - 1);
        slots[h] = id;
    }
    vg_free(b->slots);
    b->slots = slots;
    b->cap_slots = cap;
    return VG_OK;
}

static uint32_t src_find(const struct vg_behave *b, const struct vg_addr *a, uint32_t site)
{
    size_t h = (size_t)src_hash(a, site) & (b->cap_slots - 1);
    while (b->slots[h]) {
        struct src *s = S(b, b->slots[h]);
        if (s->site == site && memcmp(s->addr.b, a->b, 16) == 0)
            return b->slots[h];
        h = (h + 1) & (b->cap_slots - 1);
    }
    return 0;
}

/* Removes id from the hash table (linear probing, backward-shift deletion). */
static void slots_remove(struct vg_behave *b, uint32_t id)
{
    struct src *s = S(b, id);
    size_t mask = b->cap_slots - 1;
    size_t i = (size_t)src_hash(&s->addr, s->site) & mask;
    while (b->slots[i] != id) {
        if (!b->slots[i])
            return;
        i = (i + 1) & mask;
    }
    size_t j = i;
    for (;;) {
        b->slots[i] = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (!b->slots[j])
                return;
            struct src *t = S(b, b->slots[j]);
            size_t k = (size_t)src_hash(&t->addr, t->site) & mask;
            /* Move j back to i unless its home k lies cyclically in (i, j]. */
            bool stay = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
            if (!stay)
                break;
        }
        b->slots[i] = b->slots[j];
        i = j;
    }
}

/*
 * Intrusive lists of pool elements by last use, oldest first (ids; 0: none): each element keeps
 * `uint32_t prev, next` side by side at offset off; *head and *tail are the list's ends.
 */
static uint32_t *ilist_links(const struct pool *p, size_t off, uint32_t id)
{
    return (uint32_t *)((uint8_t *)pool_at(p, id) + off);
}

static void ilist_unlink(const struct pool *p, size_t off, uint32_t *head, uint32_t *tail,
                         uint32_t id)
{
    uint32_t *l = ilist_links(p, off, id);
    if (l[0])
        ilist_links(p, off, l[0])[1] = l[1];
    else
        *head = l[1];
    if (l[1])
        ilist_links(p, off, l[1])[0] = l[0];
    else
        *tail = l[0];
    l[0] = l[1] = 0;
}

static void ilist_append(const struct pool *p, size_t off, uint32_t *head, uint32_t *tail,
                         uint32_t id)
{
    uint32_t *l = ilist_links(p, off, id);
    l[0] = *tail;
    l[1] = 0;
    if (*tail)
        ilist_links(p, off, *tail)[1] = id;
    else
        *head = id;
    *tail = id;
}

_Static_assert(offsetof(struct src, lru_next) == offsetof(struct src, lru_prev) + 4 &&
                   offsetof(struct fz, lru_next) == offsetof(struct fz, lru_prev) + 4,
               "ilist links are side by side");

static void lru_unlink(struct vg_behave *b, uint32_t id)
{
    ilist_unlink(&b->srcs, offsetof(struct src, lru_prev), &b->lru_head, &b->lru_tail, id);
}

static void lru_append(struct vg_behave *b, uint32_t id)
{
    ilist_append(&b->srcs, offsetof(struct src, lru_prev), &b->lru_head, &b->lru_tail, id);
}

/* ---- held requests ------------------------------------------------------------------------------ */

static void pend_unlink(struct vg_behave *b, uint32_t pid)
{
    struct pend *p = P(b, pid);
    struct src *s = S(b, p->src);
    if (p->sprev)
        P(b, p->sprev)->snext = p->snext;
    else
        s->p_head = p->snext;
    if (p->snext)
        P(b, p->snext)->sprev = p->sprev;
    else
        s->p_tail = p->sprev;
    s->n_pending--;
    if (p->gprev)
        P(b, p->gprev)->gnext = p->gnext;
    else
        b->g_head = p->gnext;
    if (p->gnext)
        P(b, p->gnext)->gprev = p->gprev;
    else
        b->g_tail = p->gprev;
    b->pend_bytes -= p->data_len;
    vg_free(p->data);
    p->data = NULL;
    pool_put(&b->pends, pid);
}

/* The "why" of a probe for one request. */
static const char *probe_why(struct vg_behave *b, uint8_t kind, uint16_t probe, int32_t status)
{
    const struct vg_behave_config *cfg = b->cfg;
    const struct vg_patset *set = kind == 1 ? &cfg->sensitive : kind == 2 ? &cfg->wordpress
                                                                          : &cfg->admin;
    const struct vg_pat *p = probe && probe <= set->n ? &set->p[probe - 1] : NULL;
    const char *text = p ? p->text : "?", *desc = p && p->desc[0] ? p->desc : "";
    const char *k = p && p->kind == VG_PAT_PREFIX ? "/*" : p && p->kind == VG_PAT_NAME_PREFIX ? "*" : "";
    const char *pre = p && (p->kind == VG_PAT_NAME || p->kind == VG_PAT_NAME_PREFIX) ? "*/"
                      : p && p->kind == VG_PAT_SUFFIX                              ? "*"
                                                                                   : "";
    switch (kind) {
    case 1:
        snprintf(b->why_probe, sizeof b->why_probe, "sensitive file %s%s%s%s%s%s", pre, text, k,
                 *desc ? " (" : "", desc, *desc ? ")" : "");
        break;
    case 2:
        snprintf(b->why_probe, sizeof b->why_probe,
                 "WordPress path %s%s%s on a site that does not run WordPress", pre, text, k);
        break;
    case 3:
        snprintf(b->why_probe, sizeof b->why_probe, "admin panel %s%s%s%s%s%s, not served here (%d)",
                 pre, text, k, *desc ? " (" : "", desc, *desc ? ")" : "", (int)status);
        break;
    default:
        snprintf(b->why_probe, sizeof b->why_probe, "admin panel %s%s%s%s%s%s", pre, text, k,
                 *desc ? " (" : "", desc, *desc ? ")" : "");
        break;
    }
    return b->why_probe;
}

/* Fills the detections and classes of an emitted request from its flag bits. */
static void fill_detections(struct vg_behave *b, const struct ext *x, uint8_t flag,
                            uint8_t probe_kind, uint16_t probe, int32_t status, uint8_t fuzz_cls,
                            struct vg_behave_emit *e)
{
    e->n_det = 0;
    e->classes = 0;
    e->score = 0;
    for (int d = 0; d < VG_DET_COUNT; d++) {
        if (!(flag & (1u << d)))
            continue;
        const char *why = "";
        if (d == VG_DET_PROBE && probe_kind && (probe_kind != 4 || !x || !x->why[d]))
            why = probe_why(b, probe_kind, probe, status);
        else if (d == VG_DET_PROBE && probe_kind == 4 && x && x->why[d]) {
            const char *base = probe_why(b, 4, probe, status);
            char tmp[VG_WHY_MAX];
            snprintf(tmp, sizeof tmp, "%s; %s", base, x->why[d]);
            memcpy(b->why_probe, tmp, sizeof tmp);
            why = b->why_probe;
        } else if (x && x->why[d])
            why = x->why[d];
        int cls = d == VG_DET_FUZZ ? (fuzz_cls ? fuzz_cls - 1 : VG_CLASS_SQLI) : vg_det_classes[d];
        e->det[e->n_det].detector = (uint8_t)d;
        e->det[e->n_det].cls = cls;
        e->det[e->n_det].why = why;
        e->n_det++;
        e->classes |= 1u << cls;
        e->score += det_score(b->cfg, d);
    }
    if (x && x->tool)
        e->tool = b->cfg->tools[x->tool - 1].name;
}

/* Emits a held request and frees it. */
static vg_status pend_emit(struct vg_behave *b, uint32_t pid)
{
    struct pend *p = P(b, pid);
    struct src *s = S(b, p->src);
    struct vg_behave_emit e;
    memset(&e, 0, sizeof e);
    e.line = vg_str_make(p->data, p->line_len);
    e.offset = p->obs.offset;
    e.line_no = p->line_no;
    e.file_no = p->file_no;
    e.live = false;
    e.obs = &p->obs;
    struct vg_event_hit hits[VG_MAX_HITS];
    const uint8_t *q = p->data + p->line_len, *qe = p->data + p->data_len;
    struct vg_str fields[VG_HELD_FIELDS];
    for (int i = 0; i < VG_HELD_FIELDS; i++) {
        uint32_t fl = 0;
        if ((size_t)(qe - q) >= 4)
            memcpy(&fl, q, 4);
        q += 4;
        if (fl > (size_t)(qe - q))
            fl = 0;
        fields[i] = vg_str_make(q, fl);
        q += fl;
    }
    e.req.line = e.line;
    e.req.method = fields[0];
    e.req.host = fields[1];
    e.req.target = fields[2];
    e.req.protocol = fields[3];
    e.req.user_agent = fields[4];
    e.req.referer = fields[5];
    e.req.addr = p->obs.addr;
    e.req.time = p->obs.time;
    e.req.status = p->obs.status;
    e.req.bytes = p->obs.bytes;
    e.req.offset = p->obs.offset;
    e.req.line_no = p->line_no;
    e.req.flags = ((p->obs.feat & VG_OBS_HAS_ADDR) ? VG_REQ_HAS_ADDR : 0) |
                  ((p->obs.feat & VG_OBS_HAS_TIME) ? VG_REQ_HAS_TIME : 0);
    /* path and query of the target, for reports */
    if (e.req.target.n) {
        const uint8_t *qm = memchr(e.req.target.p, '?', e.req.target.n);
        e.req.path = vg_str_make(e.req.target.p, qm ? (size_t)(qm - e.req.target.p) : e.req.target.n);
        if (qm)
            e.req.query = vg_str_make(qm + 1, e.req.target.n - (size_t)(qm - e.req.target.p) - 1);
    }
    unsigned nh = 0;
    for (unsigned i = 0; i < p->n_hits && i < VG_MAX_HITS; i++) {
        struct vg_event_hit *h = &hits[nh];
        uint32_t fl, ml;
        memset(h, 0, sizeof *h);
        if ((size_t)(qe - q) < 4 + 4 * sizeof(void *) + 8)
            break;
        memcpy(&h->rule_id, q, 4);
        q += 4;
        memcpy(&h->message, q, sizeof(void *));
        q += sizeof(void *);
        memcpy(&h->class_name, q, sizeof(void *));
        q += sizeof(void *);
        memcpy(&h->transform, q, sizeof(void *));
        q += sizeof(void *);
        memcpy(&h->author, q, sizeof(void *));
        q += sizeof(void *);
        memcpy(&fl, q, 4);
        q += 4;
        if ((size_t)(qe - q) < fl + 4u)
            break;
        h->field = vg_str_make(q, fl);
        q += fl;
        memcpy(&ml, q, 4);
        q += 4;
        if ((size_t)(qe - q) < ml)
            break;
        h->match = vg_str_make(q, ml);
        q += ml;
        uint32_t dl;
        if ((size_t)(qe - q) < 4)
            break;
        memcpy(&dl, q, 4);
        q += 4;
        if ((size_t)(qe - q) < dl)
            break;
        h->detail = vg_str_make(q, dl);
        q += dl;
        nh++;
    }
    e.sig.score = p->sig_score;
    e.sig.classes = p->sig_classes;
    e.sig.decode_flags = p->sig_decode_flags;
    e.sig.n_hits = nh;
    e.sig.hits = nh ? hits : NULL;
    const struct ext *x = s->ext ? E(b, s->ext) : NULL;
    fill_detections(b, x, p->flag, p->probe_kind, p->probe, p->obs.status, p->fuzz_cls, &e);
    e.size_anomaly = size_anomaly(b->cfg, b->sites[s->site], &p->obs);
    b->stats.emitted++;
    vg_status st = b->env.emit(b->env.user, &e);
    pend_unlink(b, pid);
    return st;
}

/* Decides a held request once no open episode holds it: emitted when flagged, else let go. */
static vg_status pend_settle(struct vg_behave *b, uint32_t pid)
{
    struct pend *p = P(b, pid);
    if (p->cand)
        return VG_OK;
    if (p->flag)
        return pend_emit(b, pid);
    pend_unlink(b, pid);
    return VG_OK;
}

/* Decides a held request now, whatever still holds it (limits, end of input). */
static vg_status pend_force(struct vg_behave *b, uint32_t pid)
{
    vg_status st = fz_force(b, pid);
    if (st != VG_OK)
        return st;
    P(b, pid)->cand = 0;
    b->stats.forced++;
    return pend_settle(b, pid);
}

/* ---- episodes ----------------------------------------------------------------------------------- */

static uint32_t ext_of(struct vg_behave *b, uint32_t sid)
{
    struct src *s = S(b, sid);
    if (s->ext)
        return s->ext;
    uint32_t x = pool_get(&b->exts);
    if (!x)
        return 0;
    E(b, x)->owner = sid;
    S(b, sid)->ext = x;
    return x;
}

/* Returns detector state to its pool (its texts freed, their pointers cleared: the pool's free
   entries are walked again by vg_behave_free). */
static void ext_release(struct vg_behave *b, uint32_t xid)
{
    struct ext *x = E(b, xid);
    for (int d = 0; d < VG_DET_COUNT; d++) {
        vg_free(x->why[d]);
        x->why[d] = NULL;
    }
    pool_put(&b->exts, xid);
}

/* Frees a source's detector state once nothing in it matters any more. */
static void ext_maybe_free(struct vg_behave *b, uint32_t sid)
{
    struct src *s = S(b, sid);
    if (!s->ext)
        return;
    struct ext *x = E(b, s->ext);
    if (x->fired || x->open || x->tool || x->tool_weak || s->n_pending)
        return;
    ext_release(b, s->ext);
    s->ext = 0;
}

/* A detector fires for a source: its held candidates become attack requests. */
static vg_status fire(struct vg_behave *b, uint32_t sid, int d, int64_t t, const char *why)
{
    uint32_t xid = ext_of(b, sid);
    if (!xid)
        return VG_E_NOMEM;
    struct ext *x = E(b, xid);
    uint8_t bit = (uint8_t)(1u << d);
    x->fired |= bit;
    x->open &= (uint8_t)~bit;
    x->since[d] = t;
    vg_free(x->why[d]);
    x->why[d] = vg_strdup(why);
    if (!x->why[d])
        return VG_E_NOMEM;
    uint32_t pid = S(b, sid)->p_head;
    while (pid) {
        struct pend *p = P(b, pid);
        uint32_t next = p->snext;
        if (d == VG_DET_TOOL || (p->cand & bit)) {
            p->flag |= bit;
            p->cand &= (uint8_t)~bit;
            vg_status st = pend_settle(b, pid);
            if (st != VG_OK)
                return st;
        }
        pid = next;
    }
    return VG_OK;
}

/* An episode ends (gap, idle, or the source is dropped): its candidates are let go unless
   something else flagged them; a detection in force ends. */
static vg_status close_episode(struct vg_behave *b, uint32_t sid, int d)
{
    struct src *s = S(b, sid);
    if (!s->ext)
        return VG_OK;
    struct ext *x = E(b, s->ext);
    uint8_t bit = (uint8_t)(1u << d);
    if (!((x->open | x->fired) & bit))
        return VG_OK;
    x->open &= (uint8_t)~bit;
    x->fired &= (uint8_t)~bit;
    uint32_t pid = s->p_head;
    while (pid) {
        struct pend *p = P(b, pid);
        uint32_t next = p->snext;
        if (p->cand & bit) {
            p->cand &= (uint8_t)~bit;
            vg_status st = pend_settle(b, pid);
            if (st != VG_OK)
                return st;
        }
        pid = next;
    }
    return VG_OK;
}

/* Drops a source: every episode ends, every held request is decided, the state is freed. */
static vg_status src_drop(struct vg_behave *b, uint32_t sid)
{
    vg_status st = fz_end(b, sid);
    for (int d = 0; d < VG_DET_COUNT && st == VG_OK; d++)
        st = close_episode(b, sid, d);
    struct src *s = S(b, sid);
    while (st == VG_OK && s->p_head)
        st = pend_force(b, s->p_head);
    if (st != VG_OK)
        return st;
    if (s->ext) {
        ext_release(b, s->ext);
        s->ext = 0;
    }
    slots_remove(b, sid);
    lru_unlink(b, sid);
    s->alive = 0;
    pool_put(&b->srcs, sid);
    return VG_OK;
}

/* Drops idle sources (and, past max_sources, the least recently seen) and decides held
   requests past their age. */
static vg_status expire(struct vg_behave *b)
{
    const struct vg_behave_config *cfg = b->cfg;
    vg_status st = VG_OK;
    while (st == VG_OK && b->lru_head) {
        struct src *s = S(b, b->lru_head);
        bool idle = b->clock - s->last > cfg->idle;
        bool over = b->srcs.live > cfg->max_sources;
        if (!idle && !over)
            break;
        if (idle)
            b->stats.expired++;
        else
            b->stats.evicted++;
        st = src_drop(b, b->lru_head);
    }
    /* Sweeps idle for the gap end (their held requests are decided). */
    while (st == VG_OK && b->fz_head && b->clock - F(b, b->fz_head)->last > cfg->fuzz_gap) {
        uint32_t owner = F(b, b->fz_head)->owner;
        st = fz_end(b, owner);
        if (st == VG_OK)
            ext_maybe_free(b, owner);
    }
    while (st == VG_OK && b->g_head) {
        struct pend *p = P(b, b->g_head);
        if (b->clock - p->obs.time <= cfg->max_pending_age)
            break;
        st = pend_force(b, b->g_head);
    }
    return st;
}

static uint32_t src_get(struct vg_behave *b, const struct vg_addr *a, uint32_t site, int64_t t)
{
    uint32_t id = src_find(b, a, site);
    if (id) {
        lru_unlink(b, id);
        lru_append(b, id);
        if (t > S(b, id)->last)
            S(b, id)->last = t;
        return id;
    }
    /* At most max_sources: the least recently seen goes first. */
    while (b->lru_head && b->srcs.live >= b->cfg->max_sources) {
        b->stats.evicted++;
        if (src_drop(b, b->lru_head) != VG_OK)
            return 0;
    }
    if ((b->srcs.live + 1) * 2 > b->cap_slots && slots_grow(b) != VG_OK)
        return 0;
    id = pool_get(&b->srcs);
    if (!id)
        return 0;
    struct src *s = S(b, id);
    s->addr = *a;
    s->site = site;
    s->last = t;
    s->alive = 1;
    size_t h = (size_t)src_hash(a, site) & (b->cap_slots - 1);
    while (b->slots[h])
        h = (h + 1) & (b->cap_slots - 1);
    b->slots[h] = id;
    lru_append(b, id);
    if (b->srcs.live > b->stats.sources_peak)
        b->stats.sources_peak = b->srcs.live;
    return id;
}

/* ---- holding a request ------------------------------------------------------------------------- */

/* Serialized hit: rule id, message, class name, transform and author pointers (they point into the
   engine's immutable rule table, which outlives the scan), field, match and detail bytes. */
static size_t hits_size(const struct vg_behave_sig *sig)
{
    size_t n = 0;
    for (unsigned i = 0; sig && i < sig->n_hits; i++)
        n += 4 + 4 * sizeof(void *) + 4 + sig->hits[i].field.n + 4 + sig->hits[i].match.n + 4 +
             sig->hits[i].detail.n;
    return n;
}

static vg_status hold(struct vg_behave *b, uint32_t sid, const struct vg_behave_req *r,
                      uint8_t cand, uint8_t flag, uint8_t probe_kind)
{
    const struct vg_behave_config *cfg = b->cfg;
    struct src *s = S(b, sid);
    vg_status st;
    /* Per-source cap: decide the oldest first. */
    while (s->n_pending >= cfg->pending_per_source) {
        st = pend_force(b, s->p_head);
        if (st != VG_OK)
            return st;
    }
    const struct vg_request *rq = r->req;
    const struct vg_str fields[VG_HELD_FIELDS] = {
        rq ? rq->method : VG_STR_NULL,     rq ? rq->host : VG_STR_NULL,
        rq ? rq->target : VG_STR_NULL,     rq ? rq->protocol : VG_STR_NULL,
        rq ? rq->user_agent : VG_STR_NULL, rq ? rq->referer : VG_STR_NULL};
    size_t fs = 0;
    for (int i = 0; i < VG_HELD_FIELDS; i++)
        fs += 4 + fields[i].n;
    size_t hs = hits_size(r->sig);
    size_t len = r->line.n + fs + hs;
    /* Global budget: decide the oldest held requests first. */
    while (b->g_head && b->pend_bytes + len > cfg->pending_budget) {
        st = pend_force(b, b->g_head);
        if (st != VG_OK)
            return st;
    }
    uint32_t pid = pool_get(&b->pends);
    if (!pid)
        return VG_E_NOMEM;
    struct pend *p = P(b, pid);
    p->data = vg_malloc(len ? len : 1);
    if (!p->data) {
        pool_put(&b->pends, pid);
        return VG_E_NOMEM;
    }
    memcpy(p->data, r->line.p, r->line.n);
    uint8_t *q = p->data + r->line.n;
    for (int i = 0; i < VG_HELD_FIELDS; i++) {
        uint32_t fl = (uint32_t)fields[i].n;
        memcpy(q, &fl, 4);
        q += 4;
        if (fl)
            memcpy(q, fields[i].p, fl);
        q += fl;
    }
    for (unsigned i = 0; r->sig && i < r->sig->n_hits; i++) {
        const struct vg_event_hit *h = &r->sig->hits[i];
        uint32_t fl = (uint32_t)h->field.n, ml = (uint32_t)h->match.n;
        memcpy(q, &h->rule_id, 4);
        q += 4;
        memcpy(q, &h->message, sizeof(void *));
        q += sizeof(void *);
        memcpy(q, &h->class_name, sizeof(void *));
        q += sizeof(void *);
        memcpy(q, &h->transform, sizeof(void *));
        q += sizeof(void *);
        memcpy(q, &h->author, sizeof(void *));
        q += sizeof(void *);
        memcpy(q, &fl, 4);
        q += 4;
        if (fl)
            memcpy(q, h->field.p, fl);
        q += fl;
        memcpy(q, &ml, 4);
        q += 4;
        if (ml)
            memcpy(q, h->match.p, ml);
        q += ml;
        uint32_t dl = (uint32_t)h->detail.n;
        memcpy(q, &dl, 4);
        q += 4;
        if (dl)
            memcpy(q, h->detail.p, dl);
        q += dl;
    }
    p->data_len = len;
    p->line_len = (uint32_t)r->line.n;
    p->n_hits = r->sig ? (uint16_t)r->sig->n_hits : 0;
    p->sig_score = r->sig ? r->sig->score : 0;
    p->sig_classes = r->sig ? r->sig->classes : 0;
    p->sig_decode_flags = r->sig ? r->sig->decode_flags : 0;
    p->obs = *r->obs;
    p->file_no = r->file_no;
    p->line_no = r->line_no;
    p->src = sid;
    p->cand = cand;
    p->flag = flag;
    p->probe_kind = probe_kind;
    p->probe = r->obs->probe;
    /* append to the source's list and to the global FIFO */
    s = S(b, sid);
    p->sprev = s->p_tail;
    if (s->p_tail)
        P(b, s->p_tail)->snext = pid;
    else
        s->p_head = pid;
    s->p_tail = pid;
    s->n_pending++;
    p->gprev = b->g_tail;
    if (b->g_tail)
        P(b, b->g_tail)->gnext = pid;
    else
        b->g_head = pid;
    b->g_tail = pid;
    b->pend_bytes += len;
    if (b->pends.live > b->stats.pending_peak)
        b->stats.pending_peak = b->pends.live;
    return VG_OK;
}

/* Emits the current request at once. */
static vg_status emit_live(struct vg_behave *b, uint32_t sid, const struct vg_behave_req *r,
                           uint8_t flag, uint8_t probe_kind)
{
    struct vg_behave_emit e;
    memset(&e, 0, sizeof e);
    e.line = r->line;
    e.offset = r->obs->offset;
    e.line_no = r->line_no;
    e.file_no = r->file_no;
    e.live = true;
    e.obs = r->obs;
    if (r->req)
        e.req = *r->req;
    if (r->sig)
        e.sig = *r->sig;
    const struct src *s = sid ? S(b, sid) : NULL;
    const struct ext *x = s && s->ext ? E(b, s->ext) : NULL;
    /* (a sweep never flags a request as it is fed: its requests are held until it ends) */
    fill_detections(b, x, flag, probe_kind, r->obs->probe, r->obs->status, 0, &e);
    if (s)
        e.size_anomaly = size_anomaly(b->cfg, b->sites[s->site], r->obs);
    b->stats.emitted++;
    return b->env.emit(b->env.user, &e);
}

/* ---- the detectors ------------------------------------------------------------------------------ */

struct verdict {
    uint8_t flag;       /* detectors that flag this request now */
    uint8_t cand;       /* open episodes that may still flag it */
    uint8_t probe_kind;
};

static bool bloom16_add(uint64_t bloom[16], uint64_t h)
{
    unsigned a = (unsigned)(h & 1023), c = (unsigned)((h >> 10) & 1023);
    bool had = ((bloom[a >> 6] >> (a & 63)) & 1) && ((bloom[c >> 6] >> (c & 63)) & 1);
    bloom[a >> 6] |= 1ull << (a & 63);
    bloom[c >> 6] |= 1ull << (c & 63);
    return !had;
}

/* Adds n to the text at *pos of buf (bounded). */
static void why_add(char *buf, size_t cap, size_t *pos, const char *fmt, ...) VG_PRINTF(4, 5);
static void why_add(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
{
    if (*pos >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos += (size_t)n < cap - *pos ? (size_t)n : cap - *pos - 1;
}

static vg_status detect_tool(struct vg_behave *b, uint32_t sid, const struct vg_obs *o,
                             int64_t t, struct verdict *v)
{
    const struct vg_behave_config *cfg = b->cfg;
    struct src *s = S(b, sid);
    if (!o->tool && !o->tool_weak && !(s->ext && E(b, s->ext)->tool))
        return VG_OK;
    uint32_t xid = ext_of(b, sid);
    if (!xid)
        return VG_E_NOMEM;
    struct ext *x = E(b, xid);
    if (!x->tool) {
        int found = -1;
        size_t pos = 0;
        if (o->tool) {
            found = o->tool - 1;
            for (size_t i = 0; i < cfg->n_strong; i++) {
                if (cfg->signals[i].tool == found) {
                    /* describe the first strong signal of that tool that this request shows */
                    const struct vg_tool_signal *sg = &cfg->signals[i];
                    const char *what = sg->kind == VG_SIG_UA_SUB || sg->kind == VG_SIG_UA_EXACT
                                           ? "user agent"
                                       : sg->kind == VG_SIG_QUERY_SUB ? "query"
                                                                      : "path";
                    why_add(b->why, sizeof b->why, &pos, "%s (%s): %s \"%s\"", cfg->tools[found].name,
                            purpose_text(cfg->tools[found].purpose), what, sg->text);
                    break;
                }
            }
        } else {
            x->tool_weak |= o->tool_weak;
            for (size_t tl = 0; tl < cfg->n_tools && found < 0; tl++) {
                unsigned hits = 0;
                for (size_t i = cfg->n_strong; i < cfg->n_signals; i++)
                    if (cfg->signals[i].tool == tl && (x->tool_weak >> (i - cfg->n_strong)) & 1)
                        hits++;
                if (hits >= 2) {
                    found = (int)tl;
                    why_add(b->why, sizeof b->why, &pos, "%s (%s): ", cfg->tools[tl].name,
                            purpose_text(cfg->tools[tl].purpose));
                    unsigned k = 0;
                    for (size_t i = cfg->n_strong; i < cfg->n_signals; i++) {
                        if (cfg->signals[i].tool != tl || !((x->tool_weak >> (i - cfg->n_strong)) & 1))
                            continue;
                        const struct vg_tool_signal *sg = &cfg->signals[i];
                        why_add(b->why, sizeof b->why, &pos, "%s%s \"%s\"", k++ ? " + " : "",
                                sg->kind == VG_SIG_UA_EXACT || sg->kind == VG_SIG_UA_SUB
                                    ? "user agent"
                                : sg->kind == VG_SIG_QUERY_SUB ? "query"
                                                               : "path",
                                sg->text);
                    }
                }
            }
        }
        if (found >= 0) {
            if (pos == 0)
                why_add(b->why, sizeof b->why, &pos, "%s", cfg->tools[found].name);
            x->tool = (uint16_t)(found + 1);
            vg_status st = fire(b, sid, VG_DET_TOOL, t, b->why);
            if (st != VG_OK)
                return st;
            x = E(b, xid);
        }
    }
    if (x->tool)
        v->flag |= 1u << VG_DET_TOOL;
    return VG_OK;
}

static vg_status detect_probe(struct vg_behave *b, uint32_t sid, const struct site *site,
                              const struct vg_obs *o, int64_t t, struct verdict *v)
{
    const struct vg_behave_config *cfg = b->cfg;
    uint8_t bit = 1u << VG_DET_PROBE;
    struct src *s = S(b, sid);
    if (s->ext) {
        struct ext *x = E(b, s->ext);
        if (((x->open | x->fired) & bit) && t - x->probe_last > cfg->scan_gap) {
            vg_status st = close_episode(b, sid, VG_DET_PROBE);
            if (st != VG_OK)
                return st;
            x = E(b, s->ext);
            x->n_panels = 0;
        }
    }
    if (o->feat & VG_OBS_SENSITIVE) {
        v->flag |= bit;
        v->probe_kind = 1;
        return VG_OK;
    }
    if ((o->feat & VG_OBS_WORDPRESS) && !site->wordpress) {
        v->flag |= bit;
        v->probe_kind = 2;
        return VG_OK;
    }
    if (!(o->feat & VG_OBS_ADMIN))
        return VG_OK;
    uint32_t xid = ext_of(b, sid);
    if (!xid)
        return VG_E_NOMEM;
    struct ext *x = E(b, xid);
    if (!((x->open | x->fired) & bit)) {
        x->n_panels = 0;
        x->open |= bit;
    }
    x->probe_last = t;
    bool known = false;
    for (unsigned i = 0; i < x->n_panels; i++)
        known |= x->panels[i] == o->path_hash;
    if (!known && x->n_panels < VG_PANELS)
        x->panels[x->n_panels++] = o->path_hash;
    bool not_served = o->status == 404 || o->status == 410;
    if (x->fired & bit) {
        v->flag |= bit;
        v->probe_kind = 4;
    } else if (x->n_panels >= cfg->admin_min_panels) {
        snprintf(b->why, sizeof b->why, "one of %u admin panels probed within %lld s",
                 (unsigned)x->n_panels, (long long)cfg->scan_gap);
        vg_status st = fire(b, sid, VG_DET_PROBE, t, b->why);
        if (st != VG_OK)
            return st;
        v->flag |= bit;
        v->probe_kind = 4;
    } else if (not_served) {
        v->flag |= bit;
        v->probe_kind = 3;
    } else {
        v->cand |= bit;
        v->probe_kind = 4;
    }
    return VG_OK;
}

static vg_status detect_scan(struct vg_behave *b, uint32_t sid, const struct site *site,
                             const struct vg_obs *o, int64_t t, bool crawler, struct verdict *v)
{
    const struct vg_behave_config *cfg = b->cfg;
    uint8_t bit = 1u << VG_DET_SCAN;
    struct src *s = S(b, sid);
    if (s->ext) {
        struct ext *x = E(b, s->ext);
        bool end = ((x->fired & bit) && t - x->scan_last_req > cfg->scan_gap) ||
                   ((x->open & bit) && t - x->scan_last_miss > cfg->scan_gap);
        if (end) {
            vg_status st = close_episode(b, sid, VG_DET_SCAN);
            if (st != VG_OK)
                return st;
        }
    }
    if (crawler)
        return VG_OK;
    bool miss = (o->feat & VG_OBS_MISS) != 0;
    if (!miss) {
        if (s->ext) {
            struct ext *x = E(b, s->ext);
            if ((x->open | x->fired) & bit) {
                x->scan_req++;
                x->scan_last_req = t;
                if (x->fired & bit)
                    v->flag |= bit;
            }
        }
        return VG_OK;
    }
    uint32_t xid = ext_of(b, sid);
    if (!xid)
        return VG_E_NOMEM;
    struct ext *x = E(b, xid);
    if (!((x->open | x->fired) & bit)) {
        x->open |= bit;
        x->scan_req = x->scan_miss = x->scan_distinct = x->scan_wordlist = 0;
        x->scan_sweeps = x->scan_unseen = 0;
        x->scan_miss_w = 0;
        memset(x->scan_bloom, 0, sizeof x->scan_bloom);
        memset(x->stems, 0, sizeof x->stems);
        memset(x->stem_ext, 0, sizeof x->stem_ext);
        x->stem_pos = 0;
    }
    x->scan_req++;
    x->scan_miss++;
    x->scan_last_req = x->scan_last_miss = t;
    x->scan_miss_w += (o->feat & VG_OBS_REFERER) ? cfg->scan_referer_weight : 1.0;
    if (bloom16_add(x->scan_bloom, o->path_hash)) {
        x->scan_distinct++;
        if (!site_knows(site, o->path_hash))
            x->scan_unseen++;
        if (o->feat & VG_OBS_WORDLIST)
            x->scan_wordlist++;
        if (o->ext) {
            bool sweep = false, seen = false;
            for (unsigned i = 0; i < VG_STEMS; i++) {
                if (x->stems[i] == o->stem_hash && x->stem_ext[i]) {
                    seen = true;
                    if (x->stem_ext[i] != o->ext)
                        sweep = true;
                }
            }
            if (sweep)
                x->scan_sweeps++;
            if (!seen || sweep) {
                x->stems[x->stem_pos] = o->stem_hash;
                x->stem_ext[x->stem_pos] = o->ext;
                x->stem_pos = (uint8_t)((x->stem_pos + 1) % VG_STEMS);
            }
        }
    }
    if (x->fired & bit) {
        v->flag |= bit;
        return VG_OK;
    }
    double ratio = x->scan_req ? (double)x->scan_miss / x->scan_req : 0;
    bool by_volume = x->scan_distinct >= cfg->scan_min_distinct &&
                     x->scan_miss_w >= cfg->scan_min_misses && ratio >= cfg->scan_min_ratio;
    bool by_words = x->scan_wordlist >= cfg->scan_min_wordlist;
    if (!by_volume && !by_words) {
        v->cand |= bit;
        return VG_OK;
    }
    size_t pos = 0;
    why_add(b->why, sizeof b->why, &pos,
            "%u misses (HTTP %s) on %u distinct paths, %u%% of its %u requests", x->scan_miss,
            "404 and the like", x->scan_distinct, (unsigned)(ratio * 100 + 0.5), x->scan_req);
    if (x->scan_unseen)
        why_add(b->why, sizeof b->why, &pos, "; %u paths never served here", x->scan_unseen);
    if (x->scan_wordlist)
        why_add(b->why, sizeof b->why, &pos, "; %u common discovery names", x->scan_wordlist);
    if (x->scan_sweeps)
        why_add(b->why, sizeof b->why, &pos, "; %u extension sweeps", x->scan_sweeps);
    if (x->scan_miss_w < x->scan_miss)
        why_add(b->why, sizeof b->why, &pos, "; some with a referer");
    vg_status st = fire(b, sid, VG_DET_SCAN, t, b->why);
    if (st != VG_OK)
        return st;
    v->flag |= bit;
    return VG_OK;
}

static vg_status fire_brute_src(struct vg_behave *b, uint32_t sid, int64_t t, const char *why)
{
    struct src *s = S(b, sid);
    if (s->ext && (E(b, s->ext)->fired & (1u << VG_DET_BRUTE)))
        return VG_OK;
    return fire(b, sid, VG_DET_BRUTE, t, why);
}

static vg_status detect_brute(struct vg_behave *b, uint32_t sid, struct site *site,
                              const struct vg_obs *o, int64_t t, bool replay, struct verdict *v)
{
    const struct vg_behave_config *cfg = b->cfg;
    uint8_t bit = 1u << VG_DET_BRUTE;
    struct src *s = S(b, sid);
    if (s->ext) {
        struct ext *x = E(b, s->ext);
        if (((x->open | x->fired) & bit) && t - x->brute_last > cfg->brute_gap) {
            vg_status st = close_episode(b, sid, VG_DET_BRUTE);
            if (st != VG_OK)
                return st;
        }
    }
    if (!(o->feat & VG_OBS_LOGIN))
        return VG_OK;
    if (o->feat & VG_OBS_INJECTION)
        return VG_OK; /* an injection payload, not a credential guess */
    uint16_t tool = o->tool ? o->tool : (s->ext ? E(b, s->ext)->tool : 0);
    if (tool) {
        uint8_t pu = cfg->tools[tool - 1].purpose;
        if (pu != VG_TOOL_ANY && pu != VG_TOOL_BRUTE)
            return VG_OK; /* e.g. sqlmap posting to a login form */
    }
    if (!(o->feat & VG_OBS_LOGIN_FAIL)) {
        /* An accepted login right after a brute force: the possible success to look at. */
        if (s->ext && (E(b, s->ext)->fired & bit))
            v->flag |= bit;
        return VG_OK;
    }
    uint32_t xid = ext_of(b, sid);
    if (!xid)
        return VG_E_NOMEM;
    struct ext *x = E(b, xid);
    if (!((x->open | x->fired) & bit)) {
        x->open |= bit;
        x->brute_fail = 0;
        x->n_users = 0;
    }
    x->brute_fail++;
    x->brute_last = t;
    if (o->user_hash) {
        bool seen = false;
        for (unsigned i = 0; i < x->n_users; i++)
            seen |= x->users[i] == o->user_hash;
        if (!seen && x->n_users < VG_ARRAY_LEN(x->users))
            x->users[x->n_users++] = o->user_hash;
        else if (!seen && x->n_users < 255)
            x->n_users++;
    }
    /* One user name failing from many sources (stuffing or a distributed guess). */
    bool dist_fired = false;
    if (o->user_hash && !replay) {
        struct user_slot *u = &site->users[o->user_hash & (VG_SITE_USERS - 1)];
        if (u->user != o->user_hash || t - u->last > cfg->brute_gap) {
            memset(u, 0, sizeof *u);
            u->user = o->user_hash;
        }
        u->last = t;
        u->failures++;
        uint64_t key = vg_hash64(s->addr.b, 16, 1);
        bool listed = false;
        for (unsigned i = 0; i < u->n_src; i++)
            listed |= u->srcs[i] == sid && u->src_keys[i] == key;
        if (!listed && u->n_src < VG_USER_SOURCES) {
            u->srcs[u->n_src] = sid;
            u->src_keys[u->n_src] = key;
            u->n_src++;
        }
        if (t <= u->fired_until ||
            (u->n_src >= cfg->dist_min_sources && u->failures >= cfg->dist_min_failures)) {
            snprintf(b->why, sizeof b->why,
                     "one user name failed %u logins from %u sources within %lld s", u->failures,
                     (unsigned)u->n_src, (long long)cfg->brute_gap);
            bool first = t > u->fired_until;
            u->fired_until = t + cfg->brute_gap;
            if (first) {
                for (unsigned i = 0; i < u->n_src; i++) {
                    uint32_t other = u->srcs[i];
                    if (other == sid || other > b->srcs.used)
                        continue;
                    struct src *os = S(b, other);
                    if (!os->alive || vg_hash64(os->addr.b, 16, 1) != u->src_keys[i])
                        continue;
                    vg_status st = fire_brute_src(b, other, t, b->why);
                    if (st != VG_OK)
                        return st;
                }
            }
            vg_status st = fire_brute_src(b, sid, t, b->why);
            if (st != VG_OK)
                return st;
            dist_fired = true;
        }
    }
    x = E(b, xid);
    if ((x->fired & bit) || dist_fired) {
        v->flag |= bit;
        return VG_OK;
    }
    if (x->brute_fail >= cfg->brute_min_failures || x->n_users >= cfg->brute_min_usernames) {
        if (x->n_users >= cfg->brute_min_usernames)
            snprintf(b->why, sizeof b->why,
                     "%u failed logins with %u different user names, no more than %lld s apart",
                     x->brute_fail, (unsigned)x->n_users, (long long)cfg->brute_gap);
        else
            snprintf(b->why, sizeof b->why,
                     "%u failed logins, no more than %lld s apart", x->brute_fail,
                     (long long)cfg->brute_gap);
        vg_status st = fire(b, sid, VG_DET_BRUTE, t, b->why);
        if (st != VG_OK)
            return st;
        v->flag |= bit;
        return VG_OK;
    }
    v->cand |= bit;
    return VG_OK;
}

static vg_status detect_flood(struct vg_behave *b, uint32_t sid, const struct site *site,
                              const struct vg_obs *o, int64_t t, bool agent, struct verdict *v)
{
    const struct vg_behave_config *cfg = b->cfg;
    uint8_t bit = 1u << VG_DET_FLOOD;
    struct src *s = S(b, sid);
    if (s->ext) {
        struct ext *x = E(b, s->ext);
        if (((x->open | x->fired) & bit) && t - x->flood_last > cfg->flood_window) {
            vg_status st = close_episode(b, sid, VG_DET_FLOOD);
            if (st != VG_OK)
                return st;
        }
    }
    if (agent)
        return VG_OK;
    uint64_t k[4] = {o->path_hash, (uint64_t)(uint32_t)o->status, (uint64_t)o->bytes,
                     o->feat & (VG_OBS_GET | VG_OBS_HEAD | VG_OBS_POST)};
    uint64_t key = vg_hash64(k, sizeof k, 0x666c);
    bool rep = s->last_key == key;
    if (!rep && s->ext) {
        struct ext *x = E(b, s->ext);
        for (unsigned i = 0; i < VG_REP_KEYS; i++)
            rep |= x->rep[i] == key;
    }
    if (!rep) {
        if (s->ext && s->last_key) {
            struct ext *x = E(b, s->ext);
            x->rep[x->rep_pos] = s->last_key;
            x->rep_pos = (uint8_t)((x->rep_pos + 1) % VG_REP_KEYS);
        }
        s->last_key = key;
        /* While a source floods, its other requests are part of the flood too (a different
           answer in the middle of a tool's burst is often the one that worked). */
        if (s->ext && (E(b, s->ext)->fired & bit))
            v->flag |= bit;
        return VG_OK;
    }
    uint32_t xid = ext_of(b, sid);
    if (!xid)
        return VG_E_NOMEM;
    struct ext *x = E(b, xid);
    int64_t bw = cfg->flood_window / VG_FLOOD_BUCKETS;
    if (bw < 1)
        bw = 1;
    if (!((x->open | x->fired) & bit)) {
        x->open |= bit;
        memset(x->flood_b, 0, sizeof x->flood_b);
        x->flood_t0 = t;
    }
    /* Slide the buckets so that the last one holds t. */
    int64_t shift = (t - x->flood_t0) / bw - (VG_FLOOD_BUCKETS - 1);
    if (shift > 0) {
        if (shift >= VG_FLOOD_BUCKETS) {
            memset(x->flood_b, 0, sizeof x->flood_b);
        } else {
            memmove(x->flood_b, x->flood_b + shift,
                    (VG_FLOOD_BUCKETS - (size_t)shift) * sizeof x->flood_b[0]);
            memset(x->flood_b + VG_FLOOD_BUCKETS - shift, 0, (size_t)shift * sizeof x->flood_b[0]);
        }
        x->flood_t0 += shift * bw;
    }
    int64_t idx = (t - x->flood_t0) / bw;
    if (idx < 0)
        idx = 0;
    if (idx >= VG_FLOOD_BUCKETS)
        idx = VG_FLOOD_BUCKETS - 1;
    x->flood_b[idx]++;
    x->flood_last = t;
    if (x->fired & bit) {
        v->flag |= bit;
        return VG_OK;
    }
    uint64_t sum = 0;
    for (unsigned i = 0; i < VG_FLOOD_BUCKETS; i++)
        sum += x->flood_b[i];
    bool spike = site_in_spike(cfg, site);
    unsigned bar = spike ? cfg->flood_spike_min : cfg->flood_min;
    /* The burst: the buckets that end after t - burst_window (at least the current one). */
    uint64_t burst = 0;
    int64_t bfrom = t - cfg->flood_burst_window, bstart = t;
    for (unsigned i = 0; i < VG_FLOOD_BUCKETS; i++)
        if (x->flood_t0 + (int64_t)(i + 1) * bw > bfrom) {
            burst += x->flood_b[i];
            if (x->flood_t0 + (int64_t)i * bw < bstart)
                bstart = x->flood_t0 + (int64_t)i * bw;
        }
    bool is_burst = cfg->flood_burst_min && burst >= cfg->flood_burst_min;
    if (sum < bar && !is_burst) {
        v->cand |= bit;
        return VG_OK;
    }
    size_t pos = 0;
    if (sum >= bar)
        why_add(b->why, sizeof b->why, &pos,
                "%" PRIu64 " identical answers (same method, path, status and size) within %lld s",
                sum, (long long)cfg->flood_window);
    else
        why_add(b->why, sizeof b->why, &pos,
                "a burst of %" PRIu64 " identical answers (same method, path, status and size) "
                "within %lld s",
                burst, (long long)(t - bstart + 1));
    if (spike)
        why_add(b->why, sizeof b->why, &pos, "; site at %u requests/min, usually %.0f",
                site->minute_count, site->baseline);
    vg_status st = fire(b, sid, VG_DET_FLOOD, t, b->why);
    if (st != VG_OK)
        return st;
    v->flag |= bit;
    return VG_OK;
}

/* ---- parameter sweeps ------------------------------------------------------------------------- */

static struct fz *F(const struct vg_behave *b, uint32_t id)
{
    return pool_at(&b->fzs, id);
}

static void fz_lru_unlink(struct vg_behave *b, uint32_t id)
{
    ilist_unlink(&b->fzs, offsetof(struct fz, lru_prev), &b->fz_head, &b->fz_tail, id);
}

static void fz_lru_append(struct vg_behave *b, uint32_t id)
{
    ilist_append(&b->fzs, offsetof(struct fz, lru_prev), &b->fz_head, &b->fz_tail, id);
}

/* The sweep state of a source (created on first use); 0 when out of memory. */
static uint32_t fz_of(struct vg_behave *b, uint32_t sid)
{
    struct src *s = S(b, sid);
    if (s->fz)
        return s->fz;
    uint32_t id = pool_get(&b->fzs);
    if (!id)
        return 0;
    F(b, id)->owner = sid;
    fz_lru_append(b, id);
    S(b, sid)->fz = id;
    return id;
}

/* Does a held request carry the parameter `key`? */
static bool pend_has_key(const struct pend *p, uint32_t key)
{
    for (unsigned i = 0; i < p->obs.n_args && i < VG_OBS_ARGS; i++)
        if (p->obs.args[i].key == key)
            return true;
    return false;
}

/* Keeps the source's fuzz bits in step with its slots: open while a slot is followed (its
   requests are held until it ends), fired while one has fired. */
static void fz_bits(struct vg_behave *b, uint32_t sid)
{
    struct src *s = S(b, sid);
    if (!s->ext)
        return;
    struct ext *x = E(b, s->ext);
    uint8_t bit = (uint8_t)(1u << VG_DET_FUZZ);
    bool open = false, fired = false;
    if (s->fz) {
        const struct fz *f = F(b, s->fz);
        for (unsigned j = 0; j < VG_FZ_SLOTS; j++) {
            open |= f->slot[j].key != 0;
            fired |= f->slot[j].key && f->slot[j].fired;
        }
    }
    x->open = open ? (uint8_t)(x->open | bit) : (uint8_t)(x->open & ~bit);
    x->fired = fired ? (uint8_t)(x->fired | bit) : (uint8_t)(x->fired & ~bit);
}

/* Printable copy of logged text for a "why" (cut with "..." past cap). */
static void fz_text(char *out, size_t cap, struct vg_str s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.n && n + 4 < cap; i++) {
        uint8_t c = s.p[i];
        out[n++] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
    }
    if (n < s.n) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = 0;
}

/* The class of a fired sweep (the injection class most frequent among its signature hits) and
   its "why", from everything it has seen so far. */
static vg_status fz_describe(struct vg_behave *b, uint32_t sid, struct fz_slot *z)
{
    unsigned best = 0;
    for (unsigned i = 1; i < VG_ARRAY_LEN(vg_inj_classes); i++)
        if (z->inj[i] > z->inj[best])
            best = i;
    z->cls = (uint8_t)vg_inj_classes[best];
    char span[32];
    if (z->last > z->first)
        snprintf(span, sizeof span, "in %lld s", (long long)(z->last - z->first));
    else
        snprintf(span, sizeof span, "within one second");
    snprintf(b->why, sizeof b->why,
             "parameter %s of %s%s swept with %u distinct values %s, %u of them signature hits",
             z->name[0] ? z->name : "(unnamed)", z->path[0] ? z->path : "/",
             z->post ? " (POST)" : "", z->n_new, span, z->n_hit);
    uint32_t xid = ext_of(b, sid);
    if (!xid)
        return VG_E_NOMEM;
    struct ext *x = E(b, xid);
    vg_free(x->why[VG_DET_FUZZ]);
    x->why[VG_DET_FUZZ] = vg_strdup(b->why);
    return x->why[VG_DET_FUZZ] ? VG_OK : VG_E_NOMEM;
}

/* A fired sweep is decided (it ended, or the input did): its held requests become attack
   requests, all with the sweep's class and "why". */
static vg_status fz_flag(struct vg_behave *b, uint32_t sid, struct fz_slot *z)
{
    vg_status st = fz_describe(b, sid, z);
    if (st != VG_OK)
        return st;
    uint8_t bit = (uint8_t)(1u << VG_DET_FUZZ);
    uint32_t pid = S(b, sid)->p_head;
    while (pid) {
        struct pend *p = P(b, pid);
        uint32_t next = p->snext;
        if ((p->cand & bit) && pend_has_key(p, z->key)) {
            p->flag |= bit;
            p->fuzz_cls = (uint8_t)(z->cls + 1);
            p->cand &= (uint8_t)~bit;
            st = pend_settle(b, pid);
            if (st != VG_OK)
                return st;
        }
        pid = next;
    }
    return VG_OK;
}

/* A held request decided early (limits): flagged when a fired sweep holds it. */
static vg_status fz_force(struct vg_behave *b, uint32_t pid)
{
    struct pend *p = P(b, pid);
    struct src *s = S(b, p->src);
    if (!(p->cand & (1u << VG_DET_FUZZ)) || !s->fz)
        return VG_OK;
    struct fz *f = F(b, s->fz);
    for (unsigned j = 0; j < VG_FZ_SLOTS; j++) {
        struct fz_slot *z = &f->slot[j];
        if (z->key && z->fired && pend_has_key(P(b, pid), z->key)) {
            vg_status st = fz_describe(b, p->src, z);
            if (st != VG_OK)
                return st;
            p = P(b, pid);
            p->flag |= 1u << VG_DET_FUZZ;
            p->fuzz_cls = (uint8_t)(z->cls + 1);
            return VG_OK;
        }
    }
    return VG_OK;
}

/* A slot ends (gap, replaced, source gone): a fired sweep is decided; the slot is freed. */
static vg_status fz_slot_end(struct vg_behave *b, uint32_t sid, struct fz_slot *z)
{
    vg_status st = VG_OK;
    if (z->fired)
        st = fz_flag(b, sid, z);
    memset(z, 0, sizeof *z);
    return st;
}

/* After slots ended: held requests that no followed slot may still flag are let go (unless
   something else flagged them). */
static vg_status fz_release(struct vg_behave *b, uint32_t sid)
{
    struct src *s = S(b, sid);
    uint8_t bit = (uint8_t)(1u << VG_DET_FUZZ);
    const struct fz *f = s->fz ? F(b, s->fz) : NULL;
    uint32_t pid = s->p_head;
    while (pid) {
        struct pend *p = P(b, pid);
        uint32_t next = p->snext;
        if (p->cand & bit) {
            bool keep = false;
            for (unsigned j = 0; f && j < VG_FZ_SLOTS && !keep; j++)
                keep = f->slot[j].key && pend_has_key(p, f->slot[j].key);
            if (!keep) {
                p->cand &= (uint8_t)~bit;
                vg_status st = pend_settle(b, pid);
                if (st != VG_OK)
                    return st;
            }
        }
        pid = next;
    }
    return VG_OK;
}

/* Ends every sweep of a source (idle for the gap, or dropped) and frees its state. */
static vg_status fz_end(struct vg_behave *b, uint32_t sid)
{
    struct src *s = S(b, sid);
    if (!s->fz)
        return VG_OK;
    uint32_t id = s->fz;
    for (unsigned j = 0; j < VG_FZ_SLOTS; j++) {
        struct fz_slot *z = &F(b, id)->slot[j];
        if (z->key && z->fired) {
            vg_status st = fz_flag(b, sid, z);
            if (st != VG_OK)
                return st;
        }
    }
    /* (no clearing: pool_get hands the record out zeroed) */
    s = S(b, sid);
    fz_lru_unlink(b, id);
    pool_put(&b->fzs, id);
    s->fz = 0;
    return close_episode(b, sid, VG_DET_FUZZ);
}

/* The name of the parameter `key` in a request (query, then body), for the "why". */
static void fz_find_name(const struct vg_behave_req *r, uint32_t key, char *out, size_t cap)
{
    if (!r->req)
        return;
    uint64_t seed = vg_behave_arg_seed(r->obs);
    const struct vg_str where[2] = {r->req->query, r->req->body};
    for (int w = 0; w < 2; w++) {
        struct vg_args_iter it;
        struct vg_str name, value;
        vg_args_init(&it, where[w]);
        while (vg_args_next(&it, &name, &value)) {
            uint32_t k = (uint32_t)vg_hash64(name.p, name.n, w ? seed ^ VG_ARG_SEED_BODY : seed);
            if (name.n && (k ? k : 1) == key) {
                fz_text(out, cap, name);
                return;
            }
        }
    }
}

/* Adds one new value at time t to a slot's window buckets; returns the new values within the
   window. */
static unsigned fz_count(struct fz_slot *z, int64_t window, int64_t t)
{
    int64_t bw = window / VG_FZ_BUCKETS;
    if (bw < 1)
        bw = 1;
    int64_t shift = (t - z->t0) / bw - (VG_FZ_BUCKETS - 1);
    if (shift > 0) {
        if (shift >= VG_FZ_BUCKETS) {
            memset(z->bucket, 0, sizeof z->bucket);
        } else {
            memmove(z->bucket, z->bucket + shift,
                    (VG_FZ_BUCKETS - (size_t)shift) * sizeof z->bucket[0]);
            memset(z->bucket + VG_FZ_BUCKETS - shift, 0, (size_t)shift * sizeof z->bucket[0]);
        }
        z->t0 += shift * bw;
    }
    int64_t idx = (t - z->t0) / bw;
    if (idx < 0)
        idx = 0;
    if (idx >= VG_FZ_BUCKETS)
        idx = VG_FZ_BUCKETS - 1;
    if (z->bucket[idx] < UINT16_MAX)
        z->bucket[idx]++;
    unsigned sum = 0;
    for (unsigned i = 0; i < VG_FZ_BUCKETS; i++)
        sum += z->bucket[i];
    return sum;
}

/*
 * Parameter sweeps. Every parameter of a request (up to VG_OBS_ARGS) updates the slot of
 * (source, method, path, name). A request is held while one of its slots is followed; when a
 * fired slot ends, its held requests are flagged with the sweep's class (so every request of a
 * sweep gets one class, decided on all of its hits), else they are let go.
 * Performance note: requests without parameters cost one test; the others a scan of 4 slots
 * per parameter.
 */
static vg_status detect_fuzz(struct vg_behave *b, uint32_t sid, const struct vg_behave_req *r,
                             int64_t t, bool agent, struct verdict *v)
{
    const struct vg_behave_config *cfg = b->cfg;
    const struct vg_obs *o = r->obs;
    struct src *s = S(b, sid);
    vg_status st;
    if (s->fz && t - F(b, s->fz)->last > cfg->fuzz_gap) {
        st = fz_end(b, sid);
        if (st != VG_OK)
            return st;
    }
    if (!o->n_args || agent)
        return VG_OK;
    uint32_t fid = fz_of(b, sid);
    if (!fid)
        return VG_E_NOMEM;
    struct fz *f = F(b, fid);
    f->last = t;
    f->stamp++;
    fz_lru_unlink(b, fid);
    fz_lru_append(b, fid);
    bool ended = false;
    for (unsigned j = 0; j < VG_FZ_SLOTS; j++) {
        if (F(b, fid)->slot[j].key && t - F(b, fid)->slot[j].last > cfg->fuzz_gap) {
            st = fz_slot_end(b, sid, &F(b, fid)->slot[j]);
            if (st != VG_OK)
                return st;
            ended = true;
        }
    }
    unsigned na = o->n_args < VG_OBS_ARGS ? o->n_args : VG_OBS_ARGS;
    uint32_t pair[VG_OBS_ARGS], all = 0;
    for (unsigned i = 0; i < na; i++) {
        pair[i] = (o->args[i].key * 0x9e3779b1u) ^ o->args[i].val;
        all ^= pair[i];
    }
    bool hit = (o->sig_classes & VG_INJECTION_CLASSES) != 0;
    for (unsigned i = 0; i < na; i++) {
        const struct vg_obs_arg *a = &o->args[i];
        bool dup = false;
        for (unsigned k = 0; k < i; k++)
            dup |= o->args[k].key == a->key;
        if (dup)
            continue;
        f = F(b, fid);
        struct fz_slot *z = NULL;
        for (unsigned j = 0; j < VG_FZ_SLOTS && !z; j++)
            if (f->slot[j].key == a->key)
                z = &f->slot[j];
        if (!z) {
            /* A free slot, else the one with the fewest requests (then the least recently
               used) that this request has not used: a sweep's own slot is busy, and the
               stray parameters its payloads make ("&lt" of "&ltscript") are one-offs. */
            for (unsigned j = 0; j < VG_FZ_SLOTS; j++) {
                struct fz_slot *c = &f->slot[j];
                if (!c->key) {
                    z = c;
                    break;
                }
                if (c->stamp == f->stamp)
                    continue;
                if (!z || c->n_req < z->n_req || (c->n_req == z->n_req && c->stamp < z->stamp))
                    z = c;
            }
            if (!z)
                continue; /* every slot is one of this request's parameters */
            if (z->key) {
                st = fz_slot_end(b, sid, z);
                if (st != VG_OK)
                    return st;
                ended = true;
            }
            z->key = a->key;
            z->first = z->t0 = t;
            z->post = (o->feat & VG_OBS_POST) != 0;
        }
        uint32_t rest = all ^ pair[i];
        bool fresh = z->n_req == 0;
        if (!fresh && rest == z->rest)
            z->n_same++;
        z->rest = rest;
        z->n_req++;
        /* A hit counts for the parameters whose value changed (sqlmap injecting into q does not
           sweep the constant do=search beside it). Attack records carry the body: the name
           of a body parameter is learnt from them. */
        if (hit && (fresh || a->val != z->val)) {
            if (!z->name[0])
                fz_find_name(r, z->key, z->name, sizeof z->name);
            z->n_hit++;
            for (unsigned c = 0; c < VG_ARRAY_LEN(vg_inj_classes); c++)
                if (((o->sig_classes >> vg_inj_classes[c]) & 1) && z->inj[c] < UINT16_MAX)
                    z->inj[c]++;
        }
        unsigned recent = 0;
        unsigned sb = a->val & 255;
        if (!((z->seen[sb >> 6] >> (sb & 63)) & 1)) {
            z->seen[sb >> 6] |= 1ull << (sb & 63);
            /* one to three bytes typed or deleted at the end: the same search being typed */
            bool edit = false;
            for (unsigned d = 0; d < 3 && !fresh; d++)
                edit |= (a->pre[d] && a->pre[d] == (uint16_t)z->val) ||
                        (z->pre[d] && z->pre[d] == (uint16_t)a->val);
            if (!edit) {
                z->n_new++;
                recent = fz_count(z, cfg->fuzz_window, t);
            }
        }
        z->val = a->val;
        memcpy(z->pre, a->pre, sizeof z->pre);
        z->last = t;
        z->stamp = F(b, fid)->stamp;
        if (!z->fired && recent >= cfg->fuzz_min_values && z->n_hit >= cfg->fuzz_min_hits &&
            z->n_hit >= cfg->fuzz_min_hit_share * z->n_req &&
            z->n_same + 1 >= cfg->fuzz_min_same_rest * z->n_req) {
            z->fired = 1;
            if (r->req) {
                if (!z->name[0])
                    fz_find_name(r, z->key, z->name, sizeof z->name);
                struct vg_str ps = r->req->path;
                if (!ps.n && r->req->target.n) {
                    const uint8_t *q = memchr(r->req->target.p, '?', r->req->target.n);
                    ps = vg_str_make(r->req->target.p,
                                     q ? (size_t)(q - r->req->target.p) : r->req->target.n);
                }
                fz_text(z->path, sizeof z->path, ps);
            }
            st = fz_describe(b, sid, z);
            if (st != VG_OK)
                return st;
        }
    }
    /* Held requests whose slots all ended are let go; Performance note: that walks the
       source's held list, so it is done once enough slots ended for the walk to pay (at most 8
       held requests visited per ended slot); the rest wait at most until the source pauses. */
    if (ended) {
        f = F(b, fid);
        f->stale++;
        if ((size_t)f->stale * 8 >= S(b, sid)->n_pending) {
            f->stale = 0;
            st = fz_release(b, sid);
            if (st != VG_OK)
                return st;
        }
    }
    if (!ext_of(b, sid))
        return VG_E_NOMEM;
    fz_bits(b, sid);
    v->cand |= 1u << VG_DET_FUZZ;
    return VG_OK;
}

/* Is this request's user agent a verified crawler (or monitor)? Cached per source. */
static uint8_t agent_kind(struct vg_behave *b, uint32_t sid, const struct vg_obs *o)
{
    if (!o->agent)
        return 0;
    struct src *s = S(b, sid);
    const struct vg_behave_agent *a = &b->cfg->agents[o->agent - 1];
    if (s->agent_checked != o->agent) {
        bool ok = true;
        if (a->n_asn && b->env.asn) {
            uint32_t asn;
            const char *org;
            ok = false;
            if (vg_asn_lookup(b->env.asn, &s->addr, &asn, &org))
                for (unsigned i = 0; i < a->n_asn; i++)
                    ok |= a->asn[i] == asn;
        }
        s->agent_checked = o->agent;
        s->agent_ok = ok;
    }
    return s->agent_ok ? a->kind : 0;
}

/* ---- feeding ------------------------------------------------------------------------------------ */

vg_status vg_behave_feed(struct vg_behave *b, const struct vg_behave_req *r)
{
    const struct vg_obs *o = r->obs;
    const struct vg_behave_config *cfg = b->cfg;
    bool replay = r->mode == VG_FEED_REPLAY;
    if (!(o->feat & VG_OBS_HAS_ADDR)) {
        /* No source to judge: a signature verdict passes through. */
        if (r->sig && !replay)
            return emit_live(b, 0, r, VG_SIG_FLAG, 0);
        return VG_OK;
    }
    int64_t t = (o->feat & VG_OBS_HAS_TIME) ? o->time : b->clock;
    if (t == INT64_MIN)
        t = 0;
    if (t > b->clock || b->clock == INT64_MIN)
        b->clock = t;
    vg_status st = expire(b);
    if (st != VG_OK)
        return st;
    struct vg_str host = r->host;
    uint32_t site_id = site_get(b, host, o->host_hash);
    if (site_id == UINT32_MAX)
        return VG_E_NOMEM;
    struct site *site = b->sites[site_id];
    bool learn = r->mode == VG_FEED_NORMAL;
    if (learn) {
        site_count(site, t);
        /* A WordPress asset answered 2xx shows the site runs WordPress: not a probe. */
        if ((o->feat & VG_OBS_WP_MARKER) && (o->feat & VG_OBS_2XX))
            site->wordpress = true;
    }
    uint32_t sid = src_get(b, &o->addr, site_id, t);
    if (!sid)
        return VG_E_NOMEM;
    uint8_t agent = agent_kind(b, sid, o);

    struct verdict v = {0, 0, 0};
    st = detect_tool(b, sid, o, t, &v);
    if (st == VG_OK)
        st = detect_probe(b, sid, site, o, t, &v);
    if (st == VG_OK)
        st = detect_scan(b, sid, site, o, t, agent == VG_AGENT_CRAWLER, &v);
    if (st == VG_OK)
        st = detect_brute(b, sid, site, o, t, replay, &v);
    if (st == VG_OK)
        st = detect_flood(b, sid, site, o, t, agent != 0, &v);
    if (st == VG_OK)
        st = detect_fuzz(b, sid, r, t, agent != 0, &v);
    if (st != VG_OK)
        return st;
    /* The current request is a candidate only for episodes that are still open. */
    struct src *s = S(b, sid);
    if (s->ext)
        v.cand &= E(b, s->ext)->open;
    else
        v.cand = 0;
    v.cand &= (uint8_t)~v.flag;
    uint8_t flag = v.flag | (r->sig ? VG_SIG_FLAG : 0);

    if (!replay) {
        if (v.cand)
            st = hold(b, sid, r, v.cand, flag, v.probe_kind);
        else if (flag)
            st = emit_live(b, sid, r, flag, v.probe_kind);
    }
    /* What the site learns (not on replayed lines: the restored site state has them). */
    if (st == VG_OK && learn) {
        if (o->feat & VG_OBS_OK)
            site_learn(site, o->path_hash);
        if ((o->feat & VG_OBS_2XX) && !flag)
            site_learn_size(site, o->path_hash, o->bytes);
    }
    if (st == VG_OK)
        ext_maybe_free(b, sid);
    (void)cfg;
    return st;
}

vg_status vg_behave_finish(struct vg_behave *b, bool keep_pending)
{
    /* Sweeps that fired are decided now: their held requests are attack requests. */
    for (uint32_t id = b->fz_head; id; id = F(b, id)->lru_next) {
        for (unsigned j = 0; j < VG_FZ_SLOTS; j++) {
            struct fz_slot *z = &F(b, id)->slot[j];
            if (z->key && z->fired) {
                vg_status st = fz_flag(b, F(b, id)->owner, z);
                if (st != VG_OK)
                    return st;
            }
        }
    }
    uint32_t pid = b->g_head;
    while (pid) {
        struct pend *p = P(b, pid);
        uint32_t next = p->gnext;
        if (p->flag || !keep_pending) {
            vg_status st = pend_force(b, pid);
            if (st != VG_OK)
                return st;
        }
        pid = next;
    }
    return VG_OK;
}

/* ---- checkpoints --------------------------------------------------------------------------------- */

bool vg_behave_pending_oldest(const struct vg_behave *b, uint32_t file_no, uint64_t *offset,
                              uint64_t *line_no)
{
    for (uint32_t pid = b->g_head; pid; pid = P(b, pid)->gnext) {
        const struct pend *p = P(b, pid);
        if (p->file_no == file_no) {
            *offset = p->obs.offset;
            *line_no = p->line_no;
            return true;
        }
    }
    return false;
}

vg_status vg_behave_pending_offsets(const struct vg_behave *b, uint32_t file_no,
                                    struct vg_buf *out)
{
    uint64_t prev = 0;
    for (uint32_t pid = b->g_head; pid; pid = P(b, pid)->gnext) {
        const struct pend *p = P(b, pid);
        if (p->file_no != file_no)
            continue;
        uint64_t d = p->obs.offset - prev;
        prev = p->obs.offset;
        do {
            uint8_t c = (uint8_t)(d & 0x7f);
            d >>= 7;
            vg_bputc(out, (char)(c | (d ? 0x80 : 0)));
        } while (d);
    }
    return out->err;
}

vg_status vg_behave_offsets_decode(const uint8_t *blob, size_t n, uint64_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    size_t cap = 0, k = 0;
    uint64_t *a = NULL, prev = 0;
    size_t i = 0;
    while (i < n) {
        uint64_t d = 0;
        unsigned shift = 0;
        for (;;) {
            if (i >= n || shift > 63) {
                vg_free(a);
                return VG_E_CORRUPT;
            }
            uint8_t c = blob[i++];
            d |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
            if (!(c & 0x80))
                break;
        }
        if (k && d == 0) {
            vg_free(a);
            return VG_E_CORRUPT; /* offsets are strictly increasing */
        }
        if (d > UINT64_MAX - prev) {
            vg_free(a);
            return VG_E_CORRUPT;
        }
        if (k == cap) {
            cap = cap ? cap * 2 : 64;
            uint64_t *na = vg_realloc(a, cap * sizeof *na);
            if (!na) {
                vg_free(a);
                return VG_E_NOMEM;
            }
            a = na;
        }
        prev += d;
        a[k++] = prev;
    }
    *out = a;
    *count = k;
    return VG_OK;
}

/* Blob writers/readers (host byte order: the blob never leaves the machine's store). */
static void put(struct vg_buf *o, const void *p, size_t n)
{
    vg_bput(o, p, n);
}

static void put_u32(struct vg_buf *o, uint32_t v)
{
    put(o, &v, 4);
}

static void put_str(struct vg_buf *o, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    uint16_t l = (uint16_t)(n > 1024 ? 1024 : n);
    put(o, &l, 2);
    if (l)
        put(o, s, l);
}

vg_status vg_behave_export_state(const struct vg_behave *b, struct vg_buf *out)
{
    put_u32(out, VG_STATE_MAGIC);
    put_u32(out, VG_STATE_VERSION);
    /* The stage's clock (the latest time seen): expiry depends on it, and a log whose times
       go back (merged or repeated logs) must expire the same after a restart. */
    put(out, &b->clock, 8);
    put_u32(out, (uint32_t)b->n_sites);
    for (size_t i = 0; i < b->n_sites; i++) {
        const struct site *s = b->sites[i];
        put_str(out, s->name);
        put(out, &s->hash, 8);
        uint8_t wp = s->wordpress;
        put(out, &wp, 1);
        put(out, &s->minute, 8);
        put(out, &s->minute_count, 4);
        put(out, &s->minutes_seen, 4);
        put(out, &s->baseline, 8);
        put(out, s->bloom, sizeof s->bloom);
        put(out, s->sizes, sizeof s->sizes);
    }
    /* Sources with a detection in force or an identified tool. */
    uint32_t n = 0;
    for (uint32_t id = b->lru_head; id; id = S(b, id)->lru_next) {
        const struct src *s = S(b, id);
        if (s->ext && (E(b, s->ext)->fired || E(b, s->ext)->tool))
            n++;
    }
    put_u32(out, n);
    for (uint32_t id = b->lru_head; id; id = S(b, id)->lru_next) {
        const struct src *s = S(b, id);
        if (!s->ext)
            continue;
        const struct ext *x = E(b, s->ext);
        if (!x->fired && !x->tool)
            continue;
        put(out, s->addr.b, 16);
        put_u32(out, s->site);
        put(out, &s->last, 8);
        put(out, &x->fired, 1);
        put(out, &x->tool, 2);
        put(out, &x->tool_weak, 4);
        put(out, x->since, sizeof x->since);
        put(out, &x->scan_last_req, 8);
        put(out, &x->scan_last_miss, 8);
        put(out, &x->probe_last, 8);
        put(out, &x->brute_last, 8);
        put(out, &x->flood_last, 8);
        put(out, &x->flood_t0, 8);
        for (int d = 0; d < VG_DET_COUNT; d++)
            put_str(out, x->why[d]);
        /* sweeps in force */
        const struct fz *f = s->fz ? F(b, s->fz) : NULL;
        uint8_t nz = 0;
        for (unsigned j = 0; f && j < VG_FZ_SLOTS; j++)
            nz += f->slot[j].key && f->slot[j].fired;
        put(out, &nz, 1);
        for (unsigned j = 0; f && j < VG_FZ_SLOTS; j++)
            if (f->slot[j].key && f->slot[j].fired)
                put(out, &f->slot[j], sizeof f->slot[j]);
    }
    return out->err;
}

struct reader {
    const uint8_t *p, *e;
    bool bad;
};

static void get(struct reader *r, void *dst, size_t n)
{
    if (r->bad || (size_t)(r->e - r->p) < n) {
        r->bad = true;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p, n);
    r->p += n;
}

static void get_str(struct reader *r, char *dst, size_t cap)
{
    uint16_t l = 0;
    get(r, &l, 2);
    if (r->bad || (size_t)(r->e - r->p) < l) {
        r->bad = true;
        dst[0] = 0;
        return;
    }
    size_t n = l < cap - 1 ? l : cap - 1;
    memcpy(dst, r->p, n);
    dst[n] = 0;
    r->p += l;
}

vg_status vg_behave_import_state(struct vg_behave *b, const uint8_t *blob, size_t n)
{
    struct reader r = {blob, blob + n, false};
    uint32_t magic = 0, version = 0, n_sites = 0;
    get(&r, &magic, 4);
    get(&r, &version, 4);
    if (r.bad || magic != VG_STATE_MAGIC || version != VG_STATE_VERSION)
        return VG_E_CORRUPT;
    int64_t clock = INT64_MIN;
    get(&r, &clock, 8);
    if (!r.bad && (clock > b->clock || b->clock == INT64_MIN))
        b->clock = clock;
    get(&r, &n_sites, 4);
    if (r.bad || n_sites > b->cfg->max_sites + 1)
        return VG_E_CORRUPT;
    uint32_t *map = vg_calloc(n_sites ? n_sites : 1, sizeof *map);
    if (!map)
        return VG_E_NOMEM;
    vg_status st = VG_OK;
    for (uint32_t i = 0; i < n_sites && !r.bad; i++) {
        char name[256];
        uint64_t hash = 0;
        get_str(&r, name, sizeof name);
        get(&r, &hash, 8);
        uint32_t id = site_get(b, vg_str_make(name, strlen(name)), hash);
        if (id == UINT32_MAX) {
            st = VG_E_NOMEM;
            break;
        }
        struct site *s = b->sites[id];
        uint8_t wp = 0;
        get(&r, &wp, 1);
        s->wordpress = wp != 0;
        get(&r, &s->minute, 8);
        get(&r, &s->minute_count, 4);
        get(&r, &s->minutes_seen, 4);
        get(&r, &s->baseline, 8);
        get(&r, s->bloom, sizeof s->bloom);
        get(&r, s->sizes, sizeof s->sizes);
        map[i] = id;
    }
    uint32_t n_src = 0;
    get(&r, &n_src, 4);
    for (uint32_t i = 0; st == VG_OK && i < n_src && !r.bad; i++) {
        struct vg_addr a;
        uint32_t site = 0;
        int64_t last = 0;
        get(&r, a.b, 16);
        get(&r, &site, 4);
        get(&r, &last, 8);
        if (r.bad || site >= n_sites) {
            r.bad = true;
            break;
        }
        if (last > b->clock || b->clock == INT64_MIN)
            b->clock = last;
        uint32_t sid = src_get(b, &a, map[site], last);
        uint32_t xid = sid ? ext_of(b, sid) : 0;
        if (!xid) {
            st = VG_E_NOMEM;
            break;
        }
        struct ext *x = E(b, xid);
        get(&r, &x->fired, 1);
        get(&r, &x->tool, 2);
        get(&r, &x->tool_weak, 4);
        get(&r, x->since, sizeof x->since);
        get(&r, &x->scan_last_req, 8);
        get(&r, &x->scan_last_miss, 8);
        get(&r, &x->probe_last, 8);
        get(&r, &x->brute_last, 8);
        get(&r, &x->flood_last, 8);
        get(&r, &x->flood_t0, 8);
        if (x->tool > b->cfg->n_tools)
            x->tool = 0;
        x->fired &= (uint8_t)((1u << VG_DET_COUNT) - 1);
        for (int d = 0; d < VG_DET_COUNT; d++) {
            char why[VG_WHY_MAX];
            get_str(&r, why, sizeof why);
            vg_free(x->why[d]);
            x->why[d] = why[0] ? vg_strdup(why) : NULL;
        }
        uint8_t nz = 0;
        get(&r, &nz, 1);
        if (r.bad || nz > VG_FZ_SLOTS) {
            r.bad = true;
            break;
        }
        uint32_t fid = nz ? fz_of(b, sid) : 0;
        if (nz && !fid) {
            st = VG_E_NOMEM;
            break;
        }
        for (unsigned j = 0; j < nz; j++) {
            struct fz *f = F(b, fid);
            struct fz_slot *z = &f->slot[j];
            get(&r, z, sizeof *z);
            z->name[VG_FZ_NAME - 1] = 0;
            if (!z->key || z->cls >= 32)
                r.bad = true;
            z->fired = 1;
            if (z->last > f->last)
                f->last = z->last;
        }
        x->fired &= (uint8_t)~(1u << VG_DET_FUZZ);
        if (nz)
            x->fired |= (uint8_t)(1u << VG_DET_FUZZ);
    }
    vg_free(map);
    if (st != VG_OK)
        return st;
    return r.bad || r.p != r.e ? VG_E_CORRUPT : VG_OK;
}
