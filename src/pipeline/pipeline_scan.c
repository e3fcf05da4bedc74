/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline_scan.c: vg_scan, the threaded scan of a list of inputs.
 *
 * For each input, in order:
 *   main thread   opens it, fingerprints its first bytes, asks the store where to resume;
 *   reader        cuts the decompressed bytes into chunks that end at a line boundary;
 *   N workers     parse, decode and detect every line of a chunk into the chunk's result
 *                 (counts per month, samples of bad lines, attack records in a chunk arena);
 *   consumer      (the main thread) takes results strictly in chunk order: numbers lines,
 *                 attributes, writes events, feeds the store and the summary, and commits a
 *                 checkpoint (events + counts + file offset in one transaction) now and then.
 *
 * Invariants: output depends only on the input (never on thread timing), because everything
 * order-dependent happens in the consumer; memory is bounded by the number of chunks in flight
 * (2 * workers + 2) plus state per attacking source; no allocation per line in workers once
 * their buffers have grown.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/pipeline.h"
#include "report/report.h"
#include "store/store.h"

#define VG_DEFAULT_CHUNK (1u << 20)
#define VG_DEFAULT_MAX_LINE (64u * 1024)
#define VG_CHECKPOINT_CHUNKS 32
#define VG_CHECKPOINT_NS 2000000000LL
#define VG_EVENTS_FLUSH (256u * 1024)

enum chunk_kind { CHUNK_DATA = 0, CHUNK_OVERSIZE };

struct chunk {
    uint64_t seq;
    enum chunk_kind kind;
    uint8_t *data;
    size_t len, cap;
    uint64_t base_offset; /* decompressed offset of data[0] */
    uint64_t over_len;    /* CHUNK_OVERSIZE: the line's length (data holds a sample) */
    uint64_t raw_pos;     /* compressed bytes read when the chunk was cut (progress) */
    /* results, written by one worker */
    struct vg_arena arena;
    uint64_t lines, requests, malformed, oversize, lead_malformed;
    struct vg_month_count *months;
    size_t n_months, cap_months;
    struct vg_attack_rec *attacks;
    size_t n_attacks, cap_attacks;
    struct vg_bad_rec bad[VG_CHUNK_BAD_SAMPLES];
    size_t n_bad;
    vg_status status;
};

/* Shared state of one input's pipeline. One mutex; chunks are big, so contention is low. */
struct scan_file_ctx {
    const struct vg_engine *eng;
    size_t max_line;
    size_t chunk_size;
    /* input */
    struct vg_input *in;
    const uint8_t *prefix; /* bytes already read by the main thread (fingerprint) */
    size_t prefix_len;
    uint64_t skip;         /* bytes to skip (resume) */
    /* chunks */
    struct chunk *chunks;
    size_t n_chunks;
    pthread_mutex_t mu;
    pthread_cond_t cv_free, cv_work, cv_done;
    struct chunk **free_list;
    size_t n_free;
    struct chunk **work;   /* FIFO ring of n_chunks */
    size_t work_head, work_n;
    struct chunk **done;   /* indexed by seq % n_chunks */
    uint64_t next_seq;     /* next seq the reader assigns */
    bool reader_done;
    bool abort;
    vg_status read_status;
    struct vg_error read_err;
};

/* ---- reader -------------------------------------------------------------------------------- */

static struct chunk *take_free(struct scan_file_ctx *c)
{
    pthread_mutex_lock(&c->mu);
    while (c->n_free == 0 && !c->abort)
        pthread_cond_wait(&c->cv_free, &c->mu);
    struct chunk *k = c->abort ? NULL : c->free_list[--c->n_free];
    pthread_mutex_unlock(&c->mu);
    return k;
}

static void push_work(struct scan_file_ctx *c, struct chunk *k)
{
    pthread_mutex_lock(&c->mu);
    k->seq = c->next_seq++;
    c->work[(c->work_head + c->work_n) % c->n_chunks] = k;
    c->work_n++;
    pthread_cond_signal(&c->cv_work);
    pthread_mutex_unlock(&c->mu);
}

static void give_back(struct scan_file_ctx *c, struct chunk *k)
{
    pthread_mutex_lock(&c->mu);
    c->free_list[c->n_free++] = k;
    pthread_cond_signal(&c->cv_free);
    pthread_mutex_unlock(&c->mu);
}

/* Reads up to cap bytes of the logical stream (prefix first, then the input). */
static vg_status stream_read(struct scan_file_ctx *c, uint8_t *buf, size_t cap, size_t *got)
{
    if (c->prefix_len) {
        size_t n = c->prefix_len < cap ? c->prefix_len : cap;
        memcpy(buf, c->prefix, n);
        c->prefix += n;
        c->prefix_len -= n;
        *got = n;
        return VG_OK;
    }
    return vg_input_read(c->in, buf, cap, got, &c->read_err);
}

/* Fills buf[*len, cap) until full or end of input. */
static vg_status stream_fill(struct scan_file_ctx *c, uint8_t *buf, size_t *len, size_t cap,
                             bool *eof)
{
    *eof = false;
    while (*len < cap) {
        size_t got = 0;
        vg_status st = stream_read(c, buf + *len, cap - *len, &got);
        *len += got;
        if (st != VG_OK)
            return st;
        if (got == 0) {
            *eof = true;
            break;
        }
    }
    return VG_OK;
}

static void *reader_main(void *arg)
{
    struct scan_file_ctx *c = arg;
    vg_status st = VG_OK;
    uint64_t offset = 0;
    /* Resume: skip what the store already holds. */
    if (c->skip) {
        uint8_t *tmp = vg_malloc(256 * 1024);
        if (!tmp)
            st = VG_E_NOMEM;
        while (st == VG_OK && offset < c->skip) {
            size_t want = c->skip - offset < 256 * 1024 ? (size_t)(c->skip - offset) : 256 * 1024;
            size_t got = 0;
            st = stream_read(c, tmp, want, &got);
            if (got == 0 && st == VG_OK) {
                vg_error_set(&c->read_err, VG_E_IO, vg_input_path(c->in), 0,
                             "%s: the file is shorter than the %" PRIu64
                             " bytes the store already holds for it",
                             vg_input_path(c->in), c->skip);
                st = VG_E_IO;
            }
            offset += got;
        }
        vg_free(tmp);
    }
    uint8_t *carry = NULL;
    size_t carry_len = 0;
    bool eof = false;
    /* A last line without a newline is still a line: it leaves the loop as a final carry. */
    while (st == VG_OK && (!eof || carry_len)) {
        struct chunk *k = take_free(c);
        if (!k)
            break;
        k->kind = CHUNK_DATA;
        k->len = 0;
        if (carry_len) {
            memmove(k->data, carry, carry_len);
            k->len = carry_len;
        }
        vg_free(carry);
        carry = NULL;
        carry_len = 0;
        k->base_offset = offset;
        st = stream_fill(c, k->data, &k->len, k->cap, &eof);
        k->raw_pos = vg_input_raw_pos(c->in);
        if (k->len == 0) {
            give_back(c, k);
            break;
        }
        const uint8_t *nl = NULL;
        for (size_t i = k->len; i > 0; i--) {
            /* Performance note: memrchr would do, but the last newline is nearly always within
               the last few hundred bytes. */
            if (k->data[i - 1] == '\n') {
                nl = k->data + i - 1;
                break;
            }
        }
        if (nl) {
            size_t used = (size_t)(nl - k->data) + 1;
            carry_len = k->len - used;
            if (carry_len) {
                carry = vg_malloc(carry_len);
                if (!carry) {
                    st = VG_E_NOMEM;
                    give_back(c, k);
                    break;
                }
                memcpy(carry, k->data + used, carry_len);
            }
            k->len = used;
        } else if (!eof && st == VG_OK) {
            /* A full buffer without a newline: one line longer than the buffer. Keep a sample,
               skip to the end of the line, count it as one oversize line. */
            uint64_t line_len = k->len;
            /* The bytes after the line's end become the next carry, which must fit a chunk:
               read in pieces no larger than one. */
            size_t tmp_cap = k->cap;
            uint8_t *tmp = vg_malloc(tmp_cap);
            if (!tmp) {
                st = VG_E_NOMEM;
                give_back(c, k);
                break;
            }
            for (;;) {
                size_t got = 0;
                st = stream_read(c, tmp, tmp_cap, &got);
                if (got == 0)
                    break;
                const uint8_t *e = memchr(tmp, '\n', got);
                if (e) {
                    size_t used = (size_t)(e - tmp) + 1;
                    line_len += used;
                    carry_len = got - used;
                    if (carry_len) {
                        carry = vg_malloc(carry_len);
                        if (!carry)
                            st = VG_E_NOMEM;
                        else
                            memcpy(carry, e + 1, carry_len);
                    }
                    break;
                }
                line_len += got;
                if (st != VG_OK)
                    break;
            }
            vg_free(tmp);
            k->kind = CHUNK_OVERSIZE;
            k->over_len = line_len;
            k->len = 256; /* sample kept at the start of data */
            k->raw_pos = vg_input_raw_pos(c->in);
            offset += line_len;
            push_work(c, k);
            continue;
        }
        offset += k->len;
        push_work(c, k);
    }
    vg_free(carry);
    pthread_mutex_lock(&c->mu);
    c->reader_done = true;
    if (c->read_status == VG_OK)
        c->read_status = st;
    pthread_cond_broadcast(&c->cv_work);
    pthread_cond_broadcast(&c->cv_done);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- workers ------------------------------------------------------------------------------- */

struct worker {
    struct scan_file_ctx *c;
    struct vg_detect_scratch *scratch;
    pthread_t tid;
};

static void chunk_reset_results(struct chunk *k)
{
    vg_arena_reset(&k->arena);
    k->lines = k->requests = k->malformed = k->oversize = k->lead_malformed = 0;
    k->n_months = 0;
    k->n_attacks = 0;
    k->n_bad = 0;
    k->status = VG_OK;
}

static vg_status month_count(struct chunk *k, int32_t month, uint64_t req, uint64_t bad)
{
    /* Most chunks hold one or two months; search from the end. */
    for (size_t i = k->n_months; i > 0; i--) {
        if (k->months[i - 1].month == month) {
            k->months[i - 1].requests += req;
            k->months[i - 1].malformed += bad;
            return VG_OK;
        }
    }
    if (k->n_months == k->cap_months) {
        size_t cap = k->cap_months ? k->cap_months * 2 : 8;
        struct vg_month_count *m = vg_realloc(k->months, cap * sizeof *m);
        if (!m)
            return VG_E_NOMEM;
        k->months = m;
        k->cap_months = cap;
    }
    k->months[k->n_months++] = (struct vg_month_count){month, req, bad};
    return VG_OK;
}

static void keep_bad(struct chunk *k, uint64_t rel, uint64_t offset, const char *reason,
                     const uint8_t *p, size_t n)
{
    if (k->n_bad >= VG_CHUNK_BAD_SAMPLES)
        return;
    struct vg_bad_rec *b = &k->bad[k->n_bad++];
    b->rel_line = rel;
    b->offset = offset;
    b->reason = reason;
    b->text = vg_arena_dup(&k->arena, vg_str_make(p, n > 200 ? 200 : n));
}

static vg_status process_chunk(struct worker *w, struct chunk *k)
{
    const struct vg_engine *eng = w->c->eng;
    chunk_reset_results(k);
    if (k->kind == CHUNK_OVERSIZE) {
        k->lines = 1;
        k->oversize = 1;
        keep_bad(k, 0, k->base_offset, "line longer than --max-line", k->data,
                 k->len < k->over_len ? k->len : (size_t)k->over_len);
        return VG_OK;
    }
    const uint8_t *p = k->data, *end = k->data + k->len;
    uint64_t rel = 0;
    int32_t cur_month = INT32_MIN;
    struct vg_request req;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        size_t len = (size_t)(le - p);
        uint64_t off = k->base_offset + (uint64_t)(p - k->data);
        if (len > w->c->max_line) {
            k->oversize++;
            keep_bad(k, rel, off, "line longer than --max-line", p, len);
        } else {
            enum vg_parse_result pr = vg_format_parse(eng->fmt, p, len, &req);
            if (pr == VG_PARSE_OK && !(req.flags & VG_REQ_HAS_TIME))
                pr = VG_PARSE_TIME;
            if (pr != VG_PARSE_OK) {
                k->malformed++;
                if (cur_month == INT32_MIN)
                    k->lead_malformed++;
                else if (month_count(k, cur_month, 0, 1) != VG_OK)
                    return VG_E_NOMEM;
                keep_bad(k, rel, off, vg_parse_strerror(pr), p, len);
            } else {
                req.offset = off;
                req.line_no = rel; /* relative until the consumer numbers it */
                k->requests++;
                int32_t month = vg_month_key(req.time);
                cur_month = month;
                if (month_count(k, month, 1, 0) != VG_OK)
                    return VG_E_NOMEM;
                if (k->n_attacks == k->cap_attacks) {
                    size_t cap = k->cap_attacks ? k->cap_attacks * 2 : 64;
                    struct vg_attack_rec *a = vg_realloc(k->attacks, cap * sizeof *a);
                    if (!a)
                        return VG_E_NOMEM;
                    k->attacks = a;
                    k->cap_attacks = cap;
                }
                bool attack = false;
                vg_status st = vg_pipeline_analyze(eng, w->scratch, &req, &k->arena,
                                                   &k->attacks[k->n_attacks], &attack);
                if (st != VG_OK)
                    return st;
                if (attack) {
                    k->attacks[k->n_attacks].rel_line = rel;
                    k->n_attacks++;
                }
            }
        }
        rel++;
        p = nl ? nl + 1 : end;
    }
    k->lines = rel;
    return VG_OK;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct scan_file_ctx *c = w->c;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (c->work_n == 0 && !c->reader_done && !c->abort)
            pthread_cond_wait(&c->cv_work, &c->mu);
        if (c->work_n == 0 || c->abort) {
            pthread_mutex_unlock(&c->mu);
            break;
        }
        struct chunk *k = c->work[c->work_head];
        c->work_head = (c->work_head + 1) % c->n_chunks;
        c->work_n--;
        pthread_mutex_unlock(&c->mu);

        k->status = VG_OK;
        vg_status st = process_chunk(w, k);
        k->status = st;

        pthread_mutex_lock(&c->mu);
        c->done[k->seq % c->n_chunks] = k;
        pthread_cond_broadcast(&c->cv_done);
        pthread_mutex_unlock(&c->mu);
    }
    return NULL;
}

/* ---- consumer ------------------------------------------------------------------------------ */

/* Country cache per attacking address (geo lookups once per source). */
struct geo_cache {
    struct vg_addr *keys;
    char (*cc)[3];
    uint8_t *used;
    size_t n, cap;
};

static const char *geo_lookup(struct geo_cache *g, const struct vg_geo *geo,
                              const struct vg_addr *a)
{
    if ((g->n + 1) * 2 > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        struct vg_addr *k = vg_calloc(cap, sizeof *k);
        char(*cc)[3] = vg_calloc(cap, 3);
        uint8_t *used = vg_calloc(cap, 1);
        if (!k || !cc || !used) {
            vg_free(k);
            vg_free(cc);
            vg_free(used);
            return NULL;
        }
        for (size_t i = 0; i < g->cap; i++) {
            if (!g->used[i])
                continue;
            size_t h = (size_t)vg_hash64(g->keys[i].b, 16, 7) & (cap - 1);
            while (used[h])
                h = (h + 1) & (cap - 1);
            k[h] = g->keys[i];
            memcpy(cc[h], g->cc[i], 3);
            used[h] = 1;
        }
        vg_free(g->keys);
        vg_free(g->cc);
        vg_free(g->used);
        g->keys = k;
        g->cc = cc;
        g->used = used;
        g->cap = cap;
    }
    size_t h = (size_t)vg_hash64(a->b, 16, 7) & (g->cap - 1);
    while (g->used[h]) {
        if (memcmp(g->keys[h].b, a->b, 16) == 0)
            return g->cc[h];
        h = (h + 1) & (g->cap - 1);
    }
    g->used[h] = 1;
    g->keys[h] = *a;
    vg_geo_country(geo, a, g->cc[h]);
    g->n++;
    return g->cc[h];
}

static void geo_cache_fini(struct geo_cache *g)
{
    vg_free(g->keys);
    vg_free(g->cc);
    vg_free(g->used);
}

/* Deltas for the store between two checkpoints. */
struct src_delta {
    int32_t month;
    struct vg_addr addr;
    char ip[46];
    char country[3];
    uint64_t attacks;
    int64_t first, last;
};

struct store_deltas {
    struct vg_month_count *months; /* requests, malformed; attacks kept apart */
    uint64_t *month_attacks;
    size_t n_months, cap_months;
    struct src_delta *src;
    size_t n_src, cap_src;
    uint32_t *slots; /* index+1 by (month, addr) */
    size_t cap_slots;
};

static vg_status delta_month(struct store_deltas *d, int32_t month, uint64_t req, uint64_t bad,
                             uint64_t att)
{
    for (size_t i = 0; i < d->n_months; i++) {
        if (d->months[i].month == month) {
            d->months[i].requests += req;
            d->months[i].malformed += bad;
            d->month_attacks[i] += att;
            return VG_OK;
        }
    }
    if (d->n_months == d->cap_months) {
        size_t cap = d->cap_months ? d->cap_months * 2 : 16;
        struct vg_month_count *m = vg_realloc(d->months, cap * sizeof *m);
        if (!m)
            return VG_E_NOMEM;
        d->months = m;
        uint64_t *a = vg_realloc(d->month_attacks, cap * sizeof *a);
        if (!a)
            return VG_E_NOMEM;
        d->month_attacks = a;
        d->cap_months = cap;
    }
    d->months[d->n_months] = (struct vg_month_count){month, req, bad};
    d->month_attacks[d->n_months] = att;
    d->n_months++;
    return VG_OK;
}

static vg_status delta_source(struct store_deltas *d, const struct vg_event *ev)
{
    int32_t month = vg_month_key(ev->time);
    if ((d->n_src + 1) * 2 > d->cap_slots) {
        size_t cap = d->cap_slots ? d->cap_slots * 2 : 256;
        uint32_t *slots = vg_calloc(cap, sizeof *slots);
        if (!slots)
            return VG_E_NOMEM;
        for (size_t i = 0; i < d->n_src; i++) {
            uint64_t hv = vg_hash64(d->src[i].addr.b, 16, (uint64_t)(uint32_t)d->src[i].month);
            size_t h = (size_t)hv & (cap - 1);
            while (slots[h])
                h = (h + 1) & (cap - 1);
            slots[h] = (uint32_t)(i + 1);
        }
        vg_free(d->slots);
        d->slots = slots;
        d->cap_slots = cap;
    }
    size_t h = (size_t)vg_hash64(ev->addr.b, 16, (uint64_t)(uint32_t)month) & (d->cap_slots - 1);
    while (d->slots[h]) {
        struct src_delta *s = &d->src[d->slots[h] - 1];
        if (s->month == month && memcmp(s->addr.b, ev->addr.b, 16) == 0) {
            s->attacks++;
            if (ev->time < s->first)
                s->first = ev->time;
            if (ev->time > s->last)
                s->last = ev->time;
            return VG_OK;
        }
        h = (h + 1) & (d->cap_slots - 1);
    }
    if (d->n_src == d->cap_src) {
        size_t cap = d->cap_src ? d->cap_src * 2 : 128;
        struct src_delta *n = vg_realloc(d->src, cap * sizeof *n);
        if (!n)
            return VG_E_NOMEM;
        d->src = n;
        d->cap_src = cap;
    }
    struct src_delta *s = &d->src[d->n_src];
    s->month = month;
    s->addr = ev->addr;
    memcpy(s->ip, ev->ip, sizeof s->ip);
    memcpy(s->country, ev->country, 3);
    s->attacks = 1;
    s->first = s->last = ev->time;
    d->slots[h] = (uint32_t)(++d->n_src);
    return VG_OK;
}

static void deltas_clear(struct store_deltas *d)
{
    d->n_months = 0;
    d->n_src = 0;
    if (d->slots)
        memset(d->slots, 0, d->cap_slots * sizeof *d->slots);
}

static void deltas_fini(struct store_deltas *d)
{
    vg_free(d->months);
    vg_free(d->month_attacks);
    vg_free(d->src);
    vg_free(d->slots);
}

/* Everything the consumer carries across the files of one scan. */
struct scan_state {
    const struct vg_engine *eng;
    const struct vg_scan_options *opt;
    vg_summary_t *sum;
    struct vg_store *store;
    int64_t run_id;
    struct geo_cache geo;
    struct store_deltas deltas;
    struct vg_buf events;
    bool progress;
    int64_t last_progress_ns;
    int64_t started_ns;
    uint64_t lines_done;
    size_t file_no, n_files;
    struct vg_error *err;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static vg_status flush_events(struct scan_state *s)
{
    if (!s->opt->events || s->events.n == 0)
        return VG_OK;
    size_t n = fwrite(s->events.p, 1, s->events.n, s->opt->events);
    vg_buf_reset(&s->events);
    if (n == 0 || ferror(s->opt->events))
        return vg_error_set(s->err, VG_E_IO, "--events", 0, "cannot write events: %s",
                            strerror(errno));
    return VG_OK;
}

static vg_status store_fail(struct scan_state *s, vg_status st)
{
    return vg_error_set(s->err, st, "store", 0, "store: %s", vg_store_errmsg(s->store));
}

/* Commits a checkpoint: deltas and the file's position, in the open transaction. */
static vg_status checkpoint(struct scan_state *s, int64_t file_id, uint64_t offset,
                            uint64_t lines, bool complete)
{
    if (!s->store)
        return VG_OK;
    vg_status st = VG_OK;
    for (size_t i = 0; i < s->deltas.n_months && st == VG_OK; i++)
        st = vg_store_add_month(s->store, file_id, s->deltas.months[i].month,
                                s->deltas.months[i].requests, s->deltas.month_attacks[i],
                                s->deltas.months[i].malformed);
    for (size_t i = 0; i < s->deltas.n_src && st == VG_OK; i++) {
        const struct src_delta *d = &s->deltas.src[i];
        st = vg_store_add_source(s->store, d->month, d->ip, d->country, d->attacks, d->first,
                                 d->last);
    }
    if (st == VG_OK)
        st = vg_store_file_progress(s->store, file_id, offset, lines, complete);
    if (st == VG_OK)
        st = vg_store_commit(s->store);
    if (st == VG_OK)
        st = vg_store_begin(s->store);
    if (st != VG_OK)
        return store_fail(s, st);
    deltas_clear(&s->deltas);
    return VG_OK;
}

static void show_progress(struct scan_state *s, struct scan_file_ctx *c, const char *path,
                          uint64_t raw_pos, bool final)
{
    if (!s->progress || !s->opt->diag)
        return;
    int64_t t = now_ns();
    if (!final && t - s->last_progress_ns < 200000000LL)
        return;
    s->last_progress_ns = t;
    if (final) {
        fprintf(s->opt->diag, "\r\033[K");
        fflush(s->opt->diag);
        return;
    }
    double secs = (double)(t - s->started_ns) / 1e9;
    double rate = secs > 0 ? (double)s->lines_done / secs : 0;
    uint64_t total = vg_input_raw_size(c->in);
    char eta[32] = "";
    if (total && raw_pos && raw_pos <= total && secs > 0.5) {
        double left = secs * (double)(total - raw_pos) / (double)raw_pos;
        snprintf(eta, sizeof eta, " ETA %d:%02d", (int)left / 60, (int)left % 60);
    }
    struct vg_buf b;
    vg_buf_init(&b, 4096);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    vg_bprintf(&b, "\r\033[K[%zu/%zu] ", s->file_no + 1, s->n_files);
    vg_bput_term(&b, (const uint8_t *)base, strlen(base) > 40 ? 40 : strlen(base));
    if (total)
        vg_bprintf(&b, " %5.1f%% of %.1f MB", 100.0 * (double)raw_pos / (double)total,
                   (double)total / 1e6);
    vg_bprintf(&b, "  %.0f lines/s%s", rate, eta);
    if (b.err == VG_OK)
        fwrite(b.p, 1, b.n, s->opt->diag);
    fflush(s->opt->diag);
    vg_buf_fini(&b);
}

struct file_run {
    const char *path;
    size_t sum_idx;
    int64_t file_id;
    uint64_t line_base; /* lines before the current chunk */
    uint64_t offset;    /* committed-able offset after the consumed chunks */
    int32_t last_month;
    uint64_t pending_malformed; /* malformed lines before any month was known */
};

static vg_status consume_chunk(struct scan_state *s, struct file_run *fr, struct chunk *k)
{
    struct vg_summary_file *sf = vg_summary_file(s->sum, fr->sum_idx);
    vg_status st;
    /* Malformed lines before the first parsed line of the chunk belong to the month of the
       line before them. */
    uint64_t lead = k->lead_malformed;
    if (lead) {
        if (fr->last_month != INT32_MIN) {
            st = vg_summary_add_month_requests(s->sum, fr->last_month, 0, lead);
            if (st == VG_OK && s->store)
                st = delta_month(&s->deltas, fr->last_month, 0, lead, 0);
            if (st != VG_OK)
                return st;
        } else {
            fr->pending_malformed += lead;
        }
    }
    for (size_t i = 0; i < k->n_months; i++) {
        const struct vg_month_count *m = &k->months[i];
        uint64_t bad = m->malformed;
        if (fr->pending_malformed && i == 0) {
            bad += fr->pending_malformed;
            fr->pending_malformed = 0;
        }
        st = vg_summary_add_month_requests(s->sum, m->month, m->requests, bad);
        if (st == VG_OK && s->store)
            st = delta_month(&s->deltas, m->month, m->requests, bad, 0);
        if (st != VG_OK)
            return st;
    }
    if (k->n_months)
        fr->last_month = k->months[k->n_months - 1].month;
    for (size_t i = 0; i < k->n_bad; i++) {
        const struct vg_bad_rec *b = &k->bad[i];
        st = vg_summary_add_sample(s->sum, fr->sum_idx, fr->line_base + b->rel_line + 1,
                                   b->offset, b->reason, b->text);
        if (st != VG_OK)
            return st;
    }
    for (size_t i = 0; i < k->n_attacks; i++) {
        const struct vg_attack_rec *rec = &k->attacks[i];
        struct vg_event ev;
        vg_pipeline_make_event(s->eng, rec, fr->line_base + rec->rel_line + 1, fr->path,
                               fr->file_id, &ev);
        if (s->eng->geo) {
            const char *cc = geo_lookup(&s->geo, s->eng->geo, &ev.addr);
            if (!cc)
                return VG_E_NOMEM;
            memcpy(ev.country, cc, 3);
        }
        size_t before = s->events.n;
        st = vg_event_write_json(&ev, vg_geo_provenance(s->eng->geo), &s->events);
        if (st != VG_OK)
            return st;
        if (s->store) {
            st = vg_store_add_event(s->store, s->run_id, &ev, s->events.p + before,
                                    s->events.n - before - 1);
            if (st != VG_OK)
                return store_fail(s, st);
            st = delta_source(&s->deltas, &ev);
            if (st == VG_OK)
                st = delta_month(&s->deltas, vg_month_key(ev.time), 0, 0, 1);
            if (st != VG_OK)
                return st;
        }
        if (!s->opt->events)
            s->events.n = before; /* the JSON was only needed for the store */
        st = vg_summary_add_attack(s->sum, &ev, rec->req.path.n ? rec->req.path : rec->req.target);
        if (st != VG_OK)
            return st;
        sf->attacks++;
    }
    if (s->events.n >= VG_EVENTS_FLUSH) {
        st = flush_events(s);
        if (st != VG_OK)
            return st;
    }
    sf->lines += k->lines;
    sf->requests += k->requests;
    sf->malformed += k->malformed;
    sf->oversize += k->oversize;
    vg_summary_add_totals(s->sum, k->lines, k->requests, k->malformed, k->oversize);
    fr->line_base += k->lines;
    fr->offset = k->base_offset + (k->kind == CHUNK_OVERSIZE ? k->over_len : k->len);
    s->lines_done += k->lines;
    return VG_OK;
}

/* ---- one input ----------------------------------------------------------------------------- */

static void ctx_fini(struct scan_file_ctx *c)
{
    for (size_t i = 0; i < c->n_chunks; i++) {
        vg_free(c->chunks[i].data);
        vg_arena_fini(&c->chunks[i].arena);
        vg_free(c->chunks[i].months);
        vg_free(c->chunks[i].attacks);
    }
    vg_free(c->chunks);
    vg_free(c->free_list);
    vg_free(c->work);
    vg_free(c->done);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv_free);
    pthread_cond_destroy(&c->cv_work);
    pthread_cond_destroy(&c->cv_done);
}

static vg_status ctx_init(struct scan_file_ctx *c, size_t n_chunks)
{
    c->n_chunks = n_chunks;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv_free, NULL);
    pthread_cond_init(&c->cv_work, NULL);
    pthread_cond_init(&c->cv_done, NULL);
    c->chunks = vg_calloc(n_chunks, sizeof *c->chunks);
    c->free_list = vg_calloc(n_chunks, sizeof *c->free_list);
    c->work = vg_calloc(n_chunks, sizeof *c->work);
    c->done = vg_calloc(n_chunks, sizeof *c->done);
    if (!c->chunks || !c->free_list || !c->work || !c->done)
        return VG_E_NOMEM;
    for (size_t i = 0; i < n_chunks; i++) {
        struct chunk *k = &c->chunks[i];
        k->cap = c->chunk_size + c->max_line;
        k->data = vg_malloc(k->cap);
        if (!k->data)
            return VG_E_NOMEM;
        vg_arena_init(&k->arena, 64 * 1024, 0);
        c->free_list[c->n_free++] = k;
    }
    return VG_OK;
}

static const char *compression_name(enum vg_compression c)
{
    switch (c) {
    case VG_COMP_GZIP:
        return "gzip";
    case VG_COMP_ZSTD:
        return "zstd";
    case VG_COMP_NONE:
        break;
    }
    return "none";
}

/* Runs the threads over one opened input. Returns the first error (reader, worker, consumer). */
static vg_status run_pipeline(struct scan_state *s, struct scan_file_ctx *c, struct file_run *fr,
                              unsigned n_workers)
{
    struct worker *workers = vg_calloc(n_workers, sizeof *workers);
    if (!workers)
        return VG_E_NOMEM;
    vg_status st = VG_OK;
    unsigned started = 0;
    pthread_t reader;
    bool reader_started = false;
    for (unsigned i = 0; i < n_workers; i++) {
        workers[i].c = c;
        st = vg_detect_scratch_new(s->eng->det, &workers[i].scratch);
        if (st != VG_OK)
            goto join;
    }
    for (; started < n_workers; started++) {
        if (pthread_create(&workers[started].tid, NULL, worker_main, &workers[started]) != 0) {
            st = vg_error_set(s->err, VG_E_INTERNAL, NULL, 0, "cannot start a worker thread");
            goto join;
        }
    }
    if (pthread_create(&reader, NULL, reader_main, c) != 0) {
        st = vg_error_set(s->err, VG_E_INTERNAL, NULL, 0, "cannot start the reader thread");
        goto join;
    }
    reader_started = true;

    uint64_t next = 0;
    unsigned since_ckpt = 0;
    int64_t last_ckpt = now_ns();
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!c->done[next % c->n_chunks] && !(c->reader_done && next >= c->next_seq))
            pthread_cond_wait(&c->cv_done, &c->mu);
        struct chunk *k = c->done[next % c->n_chunks];
        if (k)
            c->done[next % c->n_chunks] = NULL;
        pthread_mutex_unlock(&c->mu);
        if (!k)
            break; /* reader finished and every chunk was consumed */
        if (k->status != VG_OK) {
            st = vg_error_set(s->err, k->status, fr->path, 0, "%s: %s", fr->path,
                              vg_strerror(k->status));
        } else {
            st = consume_chunk(s, fr, k);
        }
        uint64_t raw_pos = k->raw_pos;
        give_back(c, k);
        next++;
        if (st != VG_OK)
            break;
        show_progress(s, c, fr->path, raw_pos, false);
        if (s->store && (++since_ckpt >= VG_CHECKPOINT_CHUNKS ||
                         now_ns() - last_ckpt >= VG_CHECKPOINT_NS)) {
            st = checkpoint(s, fr->file_id, fr->offset, fr->line_base, false);
            if (st != VG_OK)
                break;
            since_ckpt = 0;
            last_ckpt = now_ns();
        }
    }
join:
    pthread_mutex_lock(&c->mu);
    if (st != VG_OK)
        c->abort = true;
    pthread_cond_broadcast(&c->cv_free);
    pthread_cond_broadcast(&c->cv_work);
    pthread_mutex_unlock(&c->mu);
    if (reader_started)
        pthread_join(reader, NULL);
    pthread_mutex_lock(&c->mu);
    c->reader_done = true;
    pthread_cond_broadcast(&c->cv_work);
    pthread_mutex_unlock(&c->mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(workers[i].tid, NULL);
    for (unsigned i = 0; i < n_workers; i++)
        vg_detect_scratch_free(workers[i].scratch);
    vg_free(workers);
    show_progress(s, c, fr->path, 0, true);
    return st;
}

/* Fingerprint of the first fp_len bytes (BLAKE2b-256). */
static void fingerprint(const uint8_t *p, size_t n, uint8_t out[32])
{
    crypto_generichash(out, 32, p, n, NULL, 0);
}

/*
 * Scans one input. Input errors (cannot open, corrupt) are recorded on the file and returned
 * (the caller goes on with the next input); other errors stop the scan.
 */
static vg_status scan_one(struct scan_state *s, const char *path, unsigned n_workers)
{
    struct vg_error ferr;
    memset(&ferr, 0, sizeof ferr);
    struct vg_input *in = NULL;
    size_t idx;
    vg_status st = vg_input_open(path, &in, &ferr);
    vg_status add = vg_summary_add_file(s->sum, path,
                                        st == VG_OK ? compression_name(vg_input_compression(in))
                                                    : "none",
                                        &idx);
    if (add != VG_OK) {
        vg_input_close(in);
        return add;
    }
    struct vg_summary_file *sf = vg_summary_file(s->sum, idx);
    if (st != VG_OK) {
        sf->status = VG_FILE_ERROR;
        sf->error = vg_strdup(ferr.message);
        *s->err = ferr;
        return st;
    }
    /* Read the identifying prefix. */
    uint8_t prefix[VG_FP_MAX];
    size_t plen = 0;
    bool eof = false;
    while (plen < sizeof prefix && !eof) {
        size_t got = 0;
        st = vg_input_read(in, prefix + plen, sizeof prefix - plen, &got, &ferr);
        plen += got;
        if (st != VG_OK)
            break;
        eof = got == 0;
    }
    if (st != VG_OK) {
        sf->status = VG_FILE_ERROR;
        sf->error = vg_strdup(ferr.message);
        *s->err = ferr;
        vg_input_close(in);
        return st;
    }
    struct file_run fr = {.path = path, .sum_idx = idx, .last_month = INT32_MIN};
    uint64_t skip = 0;
    if (s->store) {
        size_t lens[64], nl = 0;
        bool found = false;
        struct vg_file_state fs;
        st = vg_store_fp_lengths(s->store, lens, 64, &nl);
        for (size_t i = 0; st == VG_OK && i < nl && !found; i++) {
            if (lens[i] > plen || lens[i] == 0)
                continue;
            /* A file shorter than VG_FP_MAX is identified by all of itself: only equal. */
            if (lens[i] < VG_FP_MAX && lens[i] != plen)
                continue;
            uint8_t h[32];
            fingerprint(prefix, lens[i], h);
            st = vg_store_file_find(s->store, h, lens[i], &fs, &found);
        }
        if (st != VG_OK) {
            vg_input_close(in);
            return store_fail(s, st);
        }
        if (found) {
            fr.file_id = fs.file_id;
            st = vg_store_file_touch(s->store, fs.file_id, s->run_id, path, false);
            if (st != VG_OK) {
                vg_input_close(in);
                return store_fail(s, st);
            }
            if (fs.complete && (vg_input_compression(in) != VG_COMP_NONE ||
                                vg_input_raw_size(in) == fs.offset)) {
                sf->status = VG_FILE_SKIPPED;
                sf->resumed_at_line = fs.lines;
                vg_summary_count_skipped_file(s->sum);
                vg_input_close(in);
                return vg_store_commit(s->store) == VG_OK && vg_store_begin(s->store) == VG_OK
                           ? VG_OK
                           : store_fail(s, VG_E_STORE);
            }
            skip = fs.offset;
            fr.line_base = fs.lines;
            fr.offset = fs.offset;
            sf->resumed_at_line = fs.lines;
        } else if (plen > 0) {
            uint8_t h[32];
            size_t fl = plen;
            fingerprint(prefix, fl, h);
            st = vg_store_file_add(s->store, s->run_id, path, h, fl, vg_format_name(s->eng->fmt),
                                   compression_name(vg_input_compression(in)), &fr.file_id);
            if (st != VG_OK) {
                vg_input_close(in);
                return store_fail(s, st);
            }
        }
    }
    struct scan_file_ctx c;
    memset(&c, 0, sizeof c);
    c.eng = s->eng;
    c.max_line = s->opt->max_line ? s->opt->max_line : VG_DEFAULT_MAX_LINE;
    c.chunk_size = s->opt->chunk_size ? s->opt->chunk_size : VG_DEFAULT_CHUNK;
    c.in = in;
    c.prefix = prefix;
    c.prefix_len = plen;
    c.skip = skip;
    st = ctx_init(&c, 2 * (size_t)n_workers + 2);
    if (st == VG_OK)
        st = run_pipeline(s, &c, &fr, n_workers);
    vg_status rs = c.read_status;
    struct vg_error rerr = c.read_err;
    ctx_fini(&c);
    if (st == VG_OK && plen > 0 && s->store)
        st = checkpoint(s, fr.file_id, fr.offset, fr.line_base, rs == VG_OK);
    if (st == VG_OK)
        st = flush_events(s);
    vg_input_close(in);
    if (st != VG_OK) {
        sf->status = VG_FILE_ERROR;
        sf->error = vg_strdup(s->err->message[0] ? s->err->message : vg_strerror(st));
        return st;
    }
    if (rs != VG_OK) {
        sf->status = VG_FILE_ERROR;
        sf->error = vg_strdup(rerr.message[0] ? rerr.message : vg_strerror(rs));
        *s->err = rerr;
        if (!s->err->message[0])
            vg_error_set(s->err, rs, path, 0, "%s: %s", path, vg_strerror(rs));
        return rs;
    }
    return VG_OK;
}

static bool is_input_error(vg_status st)
{
    return st == VG_E_IO || st == VG_E_CORRUPT;
}

vg_status vg_scan(const vg_engine_t *eng, const struct vg_scan_options *opt,
                  const char *const *inputs, size_t n_inputs, vg_summary_t **out,
                  struct vg_error *err)
{
    static const struct vg_scan_options defaults = VG_SCAN_OPTIONS_INIT;
    struct vg_error local_err;
    if (!err)
        err = &local_err;
    memset(err, 0, sizeof *err);
    if (!opt)
        opt = &defaults;
    *out = NULL;
    if (sodium_init() < 0)
        return vg_error_set(err, VG_E_INTERNAL, NULL, 0, "libsodium cannot initialize");
    unsigned n_workers = opt->threads;
    if (n_workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_workers = n > 0 ? (unsigned)n : 1;
    }
    if (n_workers > 256)
        n_workers = 256;
    struct scan_state s;
    memset(&s, 0, sizeof s);
    s.eng = eng;
    s.opt = opt;
    s.err = err;
    s.n_files = n_inputs;
    s.started_ns = now_ns();
    s.progress = opt->diag && (opt->progress == VG_PROGRESS_ALWAYS ||
                               (opt->progress == VG_PROGRESS_AUTO && isatty(fileno(opt->diag))));
    vg_buf_init(&s.events, 0);
    vg_status st = vg_summary_new(&s.sum);
    if (st != VG_OK)
        return vg_error_set(err, st, NULL, 0, "out of memory");
    st = vg_summary_set_provenance(s.sum, vg_detector_rule_count(eng->det),
                                   vg_detector_hash(eng->det), vg_geo_provenance(eng->geo),
                                   vg_format_name(eng->fmt));
    if (st == VG_OK && opt->db_path) {
        st = vg_store_open(opt->db_path, &s.store, err);
        if (st == VG_OK) {
            struct vg_run_info ri = {
                .vigil_version = vg_version(),
                .ruleset_hash = vg_detector_hash(eng->det),
                .geo_provenance = vg_geo_provenance(eng->geo),
                .format = vg_format_name(eng->fmt),
                .command = opt->command ? opt->command : "",
                .started = (int64_t)time(NULL),
            };
            st = vg_store_run_begin(s.store, &ri, &s.run_id);
            if (st == VG_OK)
                st = vg_store_begin(s.store);
            if (st != VG_OK)
                store_fail(&s, st);
        }
    }
    vg_status first_input_err = VG_OK;
    struct vg_error input_err;
    memset(&input_err, 0, sizeof input_err);
    for (size_t i = 0; st == VG_OK && i < n_inputs; i++) {
        s.file_no = i;
        vg_status fs = scan_one(&s, inputs[i], n_workers);
        if (fs == VG_OK)
            continue;
        if (is_input_error(fs)) {
            if (first_input_err == VG_OK) {
                first_input_err = fs;
                input_err = *err;
            }
            continue;
        }
        st = fs;
    }
    if (st == VG_OK)
        st = flush_events(&s);
    if (s.store) {
        struct vg_totals t;
        vg_summary_totals(s.sum, &t);
        vg_status cs = VG_OK;
        if (st == VG_OK) {
            cs = vg_store_commit(s.store);
        } else {
            vg_store_rollback(s.store);
        }
        if (cs == VG_OK)
            cs = vg_store_run_end(s.store, s.run_id, &t,
                                  st != VG_OK ? "error"
                                  : first_input_err != VG_OK ? "input-error"
                                                             : "ok");
        if (cs != VG_OK && st == VG_OK)
            st = store_fail(&s, cs);
        vg_store_close(s.store);
    }
    vg_summary_set_elapsed(s.sum, (double)(now_ns() - s.started_ns) / 1e9);
    geo_cache_fini(&s.geo);
    deltas_fini(&s.deltas);
    vg_buf_fini(&s.events);
    *out = s.sum;
    if (st == VG_OK && first_input_err != VG_OK) {
        *err = input_err;
        return first_input_err;
    }
    return st;
}
