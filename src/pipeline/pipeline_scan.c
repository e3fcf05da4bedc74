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
#define VG_PROBE_MAX (64u * 1024) /* bytes read to detect a format (--format auto) */

enum chunk_kind { CHUNK_DATA = 0, CHUNK_OVERSIZE };

/* Where the fields an event shows (host, method, target, protocol, user agent, referer) of one
   observed request are: an offset into the chunk's data, or with VG_REF_TEXT into its obs_text
   (values the parser unescaped). Performance note: 48 bytes instead of six pointers and
   lengths; the observation arrays are written for every request. */
#define VG_REF_FIELDS 6
#define VG_REF_TEXT 0x80000000u
struct obs_ref {
    uint32_t off[VG_REF_FIELDS];
    uint32_t len[VG_REF_FIELDS];
};

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
    /* formats that declare their layout in the log (W3C #Fields): the layout directive active
       at the chunk's start (copied by the reader; empty: the file's format as it is) */
    uint8_t *directive;
    size_t directive_len, directive_cap;
    /* values the parser joins or rewrites (vg_parse_buf); allocated once, when the format
       needs it. Only attack records keep views into it. */
    struct vg_parse_buf pbuf;
    /* parse-only scans with records: {u64 rel line, u64 offset, u32 len, bytes} entries */
    struct vg_buf recs;
    /* behaviour (behave/): one observation per parsed request, in line order, and beside each
       where the fields an event shows are (obs_ref); grows amortized per chunk, never per line */
    struct vg_obs *obs;
    struct obs_ref *refs;
    size_t n_obs, cap_obs;
    struct vg_buf obs_text; /* field bytes the parser wrote outside the line */
    bool replay; /* every line of it was accounted for before a restart (resumed scan) */
};

/* Shared state of one input's pipeline. One mutex; chunks are big, so contention is low. */
struct scan_file_ctx {
    const struct vg_engine *eng;
    const struct vg_format *fmt; /* this input's format (configured or detected) */
    bool parse_only;
    bool records;
    uint8_t *dir_cur;            /* reader: the last layout directive seen (W3C #Fields) */
    size_t dir_len;
    size_t max_line;
    size_t chunk_size;
    /* input */
    struct vg_input *in;
    const uint8_t *prefix; /* bytes already read by the main thread (fingerprint) */
    size_t prefix_len;
    uint64_t skip;         /* bytes to skip (resume) */
    uint64_t replay_end;   /* resume: lines before this offset are replayed for behaviour only */
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

/* Remembers the last layout directive (W3C #Fields) of a block the reader went through. */
static vg_status note_directive(struct scan_file_ctx *c, const uint8_t *p, size_t n)
{
    struct vg_str d;
    if (!vg_format_last_directive(c->fmt, p, n, &d))
        return VG_OK;
    uint8_t *nd = vg_realloc(c->dir_cur, d.n ? d.n : 1);
    if (!nd)
        return VG_E_NOMEM;
    if (d.n)
        memcpy(nd, d.p, d.n);
    c->dir_cur = nd;
    c->dir_len = d.n;
    return VG_OK;
}

/*
 * Formats whose layout is declared in the log: hands the chunk the directive active at its
 * start, then notes the last one it holds for the next chunk. Performance note: workers stay
 * parallel; the reader only searches each chunk for "#Fields:" (one memmem pass), and only for
 * such formats.
 */
static vg_status tag_chunk(struct scan_file_ctx *c, struct chunk *k)
{
    k->directive_len = 0;
    if (!vg_format_has_directives(c->fmt))
        return VG_OK;
    if (c->dir_len) {
        if (k->directive_cap < c->dir_len) {
            uint8_t *nd = vg_realloc(k->directive, c->dir_len);
            if (!nd)
                return VG_E_NOMEM;
            k->directive = nd;
            k->directive_cap = c->dir_len;
        }
        memcpy(k->directive, c->dir_cur, c->dir_len);
        k->directive_len = c->dir_len;
    }
    return note_directive(c, k->data, k->len);
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
            if (st == VG_OK && got)
                st = note_directive(c, tmp, got);
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
        /* A resumed scan replays the lines before the committed offset (behaviour only): a
           chunk ends there, so that every chunk is all replay or all new. The offset is a line
           boundary, so the cut below falls on it. */
        size_t fill_cap = k->cap;
        if (offset < c->replay_end && c->replay_end - offset < fill_cap)
            fill_cap = (size_t)(c->replay_end - offset);
        k->replay = offset < c->replay_end;
        st = stream_fill(c, k->data, &k->len, fill_cap, &eof);
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
        vg_status ts = tag_chunk(c, k);
        if (st == VG_OK)
            st = ts;
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
    struct vg_behave_scratch *bscratch; /* NULL without behaviour */
    pthread_t tid;
};

static void chunk_reset_results(struct chunk *k)
{
    vg_arena_reset(&k->arena);
    k->lines = k->requests = k->malformed = k->oversize = k->lead_malformed = 0;
    k->n_months = 0;
    k->n_attacks = 0;
    k->n_bad = 0;
    k->n_obs = 0;
    vg_buf_reset(&k->obs_text);
    k->status = VG_OK;
}

/*
 * Behaviour: appends the observation of one parsed request (attack: its attack record index + 1,
 * or 0). Fields the parser wrote outside the line (unescaped values in the parse buffer, which
 * the next line reuses) are copied into the chunk arena. Performance note: the array grows by
 * doubling and is kept with the chunk, so a steady scan allocates nothing per line.
 */
static vg_status add_obs(struct worker *w, struct chunk *k, const struct vg_request *req,
                         uint64_t rel, uint32_t attack, uint32_t sig_classes)
{
    if (k->n_obs == k->cap_obs) {
        size_t cap = k->cap_obs ? k->cap_obs * 2 : 1024;
        struct vg_obs *o = vg_realloc(k->obs, cap * sizeof *o);
        if (!o)
            return VG_E_NOMEM;
        k->obs = o;
        struct obs_ref *rf = vg_realloc(k->refs, cap * sizeof *rf);
        if (!rf)
            return VG_E_NOMEM;
        k->refs = rf;
        k->cap_obs = cap;
    }
    struct vg_obs *o = &k->obs[k->n_obs];
    vg_behave_observe(w->c->eng->behave, w->bscratch, req, sig_classes, o);
    o->rel_line = (uint32_t)rel;
    o->attack = attack;
    struct obs_ref *rf = &k->refs[k->n_obs];
    const struct vg_str views[VG_REF_FIELDS] = {req->host,     req->method,     req->target,
                                               req->protocol, req->user_agent, req->referer};
    const uint8_t *db = k->data, *de = k->data + k->len;
    for (size_t i = 0; i < VG_REF_FIELDS; i++) {
        struct vg_str v = views[i];
        if (v.n > UINT32_MAX / 2)
            v.n = UINT32_MAX / 2;
        rf->len[i] = (uint32_t)v.n;
        if (!v.n) {
            rf->off[i] = 0;
        } else if (v.p >= db && v.p + v.n <= de) {
            rf->off[i] = (uint32_t)(v.p - db);
        } else {
            rf->off[i] = (uint32_t)k->obs_text.n | VG_REF_TEXT;
            if (vg_buf_add(&k->obs_text, v.p, v.n) != VG_OK)
                return VG_E_NOMEM;
        }
    }
    k->n_obs++;
    return VG_OK;
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

/* Appends one record entry (parse-only scans with --records): rel, offset, length, JSON. */
static void add_record(struct chunk *k, uint64_t rel, uint64_t off, const struct vg_request *req,
                       const char *malformed, const uint8_t *line, size_t len)
{
    size_t at = k->recs.n;
    uint64_t hdr[2] = {rel, off};
    uint32_t n = 0;
    vg_bput(&k->recs, hdr, sizeof hdr);
    vg_bput(&k->recs, &n, sizeof n);
    size_t body = k->recs.n;
    if (malformed) {
        vg_bputs(&k->recs, "{\"malformed\":\"");
        vg_bputs(&k->recs, malformed);
        vg_bputs(&k->recs, "\",\"text\":\"");
        vg_bput_json(&k->recs, line, len > 1024 ? 1024 : len);
        vg_bputs(&k->recs, "\"}");
    } else {
        vg_request_write_json(req, &k->recs);
    }
    if (k->recs.err == VG_OK) {
        n = (uint32_t)(k->recs.n - body);
        memcpy(k->recs.p + at + sizeof hdr, &n, sizeof n);
    }
}

static vg_status process_chunk(struct worker *w, struct chunk *k)
{
    const struct vg_engine *eng = w->c->eng;
    const struct scan_file_ctx *c = w->c;
    chunk_reset_results(k);
    vg_buf_reset(&k->recs);
    if (k->kind == CHUNK_OVERSIZE) {
        k->lines = 1;
        k->oversize = 1;
        keep_bad(k, 0, k->base_offset, "line longer than --max-line", k->data,
                 k->len < k->over_len ? k->len : (size_t)k->over_len);
        return VG_OK;
    }
    /* The layout at the chunk's start (W3C #Fields carried by the reader), then as the lines
       declare it. A bad directive leaves no layout: the lines after it are malformed. */
    const struct vg_format *cur = c->fmt;
    struct vg_format *bound = NULL;
    struct vg_error berr;
    if (k->directive_len) {
        if (vg_format_bind(c->fmt, k->directive, k->directive_len, &bound, &berr) != VG_OK)
            cur = NULL;
        else if (bound)
            cur = bound;
    }
    if (vg_format_needs_buf(c->fmt) && !k->pbuf.p) {
        /* Performance note: allocated once per chunk and reused; only lines that become attack
           records keep what they wrote, so the touched part stays small. */
        k->pbuf.cap = 4 * k->cap + 4096;
        k->pbuf.p = vg_malloc(k->pbuf.cap);
        if (!k->pbuf.p) {
            vg_format_free(bound);
            return VG_E_NOMEM;
        }
    }
    k->pbuf.used = 0;
    const uint8_t *p = k->data, *end = k->data + k->len;
    uint64_t rel = 0;
    int32_t cur_month = INT32_MIN;
    struct vg_request req;
    vg_status st = VG_OK;
    while (p < end && st == VG_OK) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        size_t len = (size_t)(le - p);
        uint64_t off = k->base_offset + (uint64_t)(p - k->data);
        if (len > c->max_line) {
            k->oversize++;
            keep_bad(k, rel, off, "line longer than --max-line", p, len);
            if (c->records)
                add_record(k, rel, off, NULL, "line longer than --max-line", p, 0);
        } else {
            size_t mark = k->pbuf.used;
            /* Without a layout (a bad #Fields), only a directive can give one back. */
            enum vg_parse_result pr = cur   ? vg_format_parse_ex(cur, p, len, &req, &k->pbuf)
                                      : len && p[0] == '#' ? VG_PARSE_DIRECTIVE
                                                           : VG_PARSE_LAYOUT;
            if (pr == VG_PARSE_DIRECTIVE) {
                /* A W3C directive: counted as a line; "#Fields:" changes the layout. */
                struct vg_format *nb = NULL;
                if (vg_format_bind(c->fmt, p, len, &nb, &berr) != VG_OK) {
                    vg_format_free(bound);
                    bound = NULL;
                    cur = NULL;
                } else if (nb) {
                    vg_format_free(bound);
                    bound = nb;
                    cur = nb;
                }
                rel++;
                p = nl ? nl + 1 : end;
                continue;
            }
            if (pr == VG_PARSE_OK && !(req.flags & VG_REQ_HAS_TIME))
                pr = VG_PARSE_TIME;
            if (pr != VG_PARSE_OK) {
                k->malformed++;
                if (cur_month == INT32_MIN)
                    k->lead_malformed++;
                else if (month_count(k, cur_month, 0, 1) != VG_OK)
                    st = VG_E_NOMEM;
                keep_bad(k, rel, off, vg_parse_strerror(pr), p, len);
                if (c->records)
                    add_record(k, rel, off, NULL, vg_parse_strerror(pr), p, len);
                k->pbuf.used = mark;
            } else {
                req.offset = off;
                req.line_no = rel; /* relative until the consumer numbers it */
                k->requests++;
                int32_t month = vg_month_key(req.time);
                cur_month = month;
                if (month_count(k, month, 1, 0) != VG_OK) {
                    st = VG_E_NOMEM;
                    break;
                }
                if (c->parse_only) {
                    if (c->records)
                        add_record(k, rel, off, &req, NULL, p, len);
                    k->pbuf.used = mark;
                } else {
                    if (k->n_attacks == k->cap_attacks) {
                        size_t cap = k->cap_attacks ? k->cap_attacks * 2 : 64;
                        struct vg_attack_rec *a = vg_realloc(k->attacks, cap * sizeof *a);
                        if (!a) {
                            st = VG_E_NOMEM;
                            break;
                        }
                        k->attacks = a;
                        k->cap_attacks = cap;
                    }
                    bool attack = false;
                    st = vg_pipeline_analyze(eng, w->scratch, &req, &k->arena,
                                             &k->attacks[k->n_attacks], &attack);
                    uint32_t att = 0, sig = 0;
                    if (st == VG_OK && attack) {
                        k->attacks[k->n_attacks].rel_line = rel;
                        sig = k->attacks[k->n_attacks].classes;
                        att = (uint32_t)++k->n_attacks;
                    } else {
                        k->pbuf.used = mark; /* nothing keeps a view into what this line wrote */
                    }
                    if (st == VG_OK && eng->behave)
                        st = add_obs(w, k, &req, rel, att, sig);
                }
            }
        }
        rel++;
        p = nl ? nl + 1 : end;
    }
    vg_format_free(bound);
    if (st == VG_OK && k->recs.err != VG_OK)
        st = k->recs.err;
    k->lines = rel;
    return st;
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

/*
 * Attribution cache per attacking address: country, AS and organisation, the user's labels and
 * the /24 or /48 network, looked up once per source; and what the store's addresses table must
 * learn at the next checkpoint (dirty entries with the span of their attack requests).
 */
struct attrib_entry {
    struct vg_addr addr;
    char cc[3];
    bool used, dirty;
    uint32_t asn;
    const char *org; /* borrowed from the ASN database */
    char labels[96];
    char net[VG_NET_TEXT_MAX];
    char ip[46];
    int64_t first, last;
};

struct attrib_cache {
    struct attrib_entry *e;
    size_t n, cap;
    size_t n_dirty; /* entries the store has not learnt yet */
};

/* Past this many addresses the cache starts again once nothing in it is dirty (after a
   checkpoint, or always without a store), so a scan of millions of attacking addresses keeps a
   bounded cache (about 230 bytes an entry). */
#define VG_ATTRIB_CACHE_MAX (1u << 18)

static struct attrib_entry *attrib_lookup(struct attrib_cache *g, const struct vg_engine *eng,
                                          const struct vg_addr *a)
{
    if (g->n >= VG_ATTRIB_CACHE_MAX && g->n_dirty == 0) {
        memset(g->e, 0, g->cap * sizeof *g->e);
        g->n = 0;
    }
    if ((g->n + 1) * 2 > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        struct attrib_entry *e = vg_calloc(cap, sizeof *e);
        if (!e)
            return NULL;
        for (size_t i = 0; i < g->cap; i++) {
            if (!g->e[i].used)
                continue;
            size_t h = (size_t)vg_hash64(g->e[i].addr.b, 16, 7) & (cap - 1);
            while (e[h].used)
                h = (h + 1) & (cap - 1);
            e[h] = g->e[i];
        }
        vg_free(g->e);
        g->e = e;
        g->cap = cap;
    }
    size_t h = (size_t)vg_hash64(a->b, 16, 7) & (g->cap - 1);
    while (g->e[h].used) {
        if (memcmp(g->e[h].addr.b, a->b, 16) == 0)
            return &g->e[h];
        h = (h + 1) & (g->cap - 1);
    }
    struct attrib_entry *x = &g->e[h];
    memset(x, 0, sizeof *x);
    x->used = true;
    x->addr = *a;
    x->org = "";
    vg_addr_format(a, x->ip);
    if (eng->geo)
        vg_geo_country(eng->geo, a, x->cc);
    if (eng->asn)
        vg_asn_lookup(eng->asn, a, &x->asn, &x->org);
    if (eng->labels)
        vg_labels_lookup(eng->labels, a, x->labels, sizeof x->labels);
    vg_addr_network(a, x->net);
    g->n++;
    return x;
}

static void attrib_cache_fini(struct attrib_cache *g)
{
    vg_free(g->e);
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

/* What the events of one input need after its chunks are gone (held requests are emitted
   later), and what its resume point is. */
struct scan_input {
    const char *path;
    size_t sum_idx;
    int64_t file_id;     /* 0 without store */
    uint64_t offset, lines; /* committed-able position */
    bool had_pending;    /* the store records held requests for it */
    bool active;
};

/* Everything the consumer carries across the files of one scan. */
struct scan_state {
    const struct vg_engine *eng;
    const struct vg_scan_options *opt;
    vg_summary_t *sum;
    struct vg_store *store;
    int64_t run_id;
    struct attrib_cache attrib;
    struct store_deltas deltas;
    struct vg_buf events;
    bool progress;
    int64_t last_progress_ns;
    int64_t started_ns;
    uint64_t lines_done;
    size_t file_no, n_files;
    struct vg_error *err;
    const struct vg_format *file_fmt;      /* the current input's format */
    int64_t file_started_ns;               /* when the current input's scan began (ETA) */
    const struct vg_format *last_note_fmt; /* the last format the diagnostics named */
    /* behaviour, incidents (docs/internals/behave.md) */
    struct vg_behave *behave;          /* NULL with --no-behave */
    struct vg_incidents *incidents;
    bool store_had_incidents;          /* look incidents up in the store (continuity) */
    struct scan_input *inputs;         /* per input: where its events point (n_files) */
    uint64_t *revive;                  /* resumed input: offsets held at the last checkpoint */
    size_t n_revive, revive_at;
    int64_t clock;                     /* the latest log time emitted (incident expiry) */
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

static vg_status put_incident(void *user, const struct vg_incident *inc)
{
    struct scan_state *s = user;
    vg_status st = vg_store_put_incident(s->store, inc);
    return st == VG_OK ? VG_OK : store_fail(s, st);
}

/*
 * The behaviour part of a checkpoint (docs/internals/behave.md, "Checkpoints"): incidents
 * changed since the last one, the attribution of new attacking addresses, for every input with
 * held requests the offset to resume from and which requests they are, and the stage's state.
 */
static vg_status checkpoint_behaviour(struct scan_state *s)
{
    vg_status st = VG_OK;
    if (s->incidents)
        st = vg_incidents_flush(s->incidents, s->clock, put_incident, s);
    for (size_t i = 0; st == VG_OK && i < s->attrib.cap; i++) {
        struct attrib_entry *a = &s->attrib.e[i];
        if (!a->used || !a->dirty)
            continue;
        struct vg_address_info ai = {a->ip, a->cc, a->asn, a->org, a->net, a->labels, a->first,
                                     a->last};
        st = vg_store_put_address(s->store, &ai);
        if (st != VG_OK)
            return store_fail(s, st);
        a->dirty = false;
    }
    if (st == VG_OK)
        s->attrib.n_dirty = 0;
    if (st != VG_OK || !s->behave)
        return st;
    struct vg_buf blob;
    vg_buf_init(&blob, 0);
    for (size_t i = 0; st == VG_OK && i < s->n_files; i++) {
        struct scan_input *in = &s->inputs[i];
        if (!in->active || !in->file_id)
            continue;
        uint64_t off = 0, line = 0;
        bool has = vg_behave_pending_oldest(s->behave, (uint32_t)i, &off, &line);
        if (!has && !in->had_pending)
            continue;
        vg_buf_reset(&blob);
        st = vg_behave_pending_offsets(s->behave, (uint32_t)i, &blob);
        if (st == VG_OK)
            st = vg_store_file_pending(s->store, in->file_id, has ? off : in->offset,
                                       has ? line - 1 : in->lines, blob.p, has ? blob.n : 0);
        if (st == VG_OK)
            in->had_pending = has;
        else if (st != VG_E_NOMEM)
            st = store_fail(s, st);
    }
    if (st == VG_OK) {
        vg_buf_reset(&blob);
        st = vg_behave_export_state(s->behave, &blob);
        if (st == VG_OK)
            st = vg_store_put_state(s->store, "behave", blob.p, blob.n);
        if (st != VG_OK && st != VG_E_NOMEM)
            st = store_fail(s, st);
    }
    vg_buf_fini(&blob);
    return st;
}

/* Commits a checkpoint: deltas and the file's position, in the open transaction. */
static vg_status checkpoint(struct scan_state *s, int64_t file_id, uint64_t offset,
                            uint64_t lines, bool complete)
{
    if (!s->store)
        return VG_OK;
    vg_status st = VG_OK;
    if (s->inputs && s->file_no < s->n_files && s->inputs[s->file_no].file_id == file_id) {
        s->inputs[s->file_no].offset = offset;
        s->inputs[s->file_no].lines = lines;
    }
    st = checkpoint_behaviour(s);
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
    double fsecs = (double)(t - s->file_started_ns) / 1e9; /* this input's own pace */
    if (total && raw_pos && raw_pos <= total && fsecs > 0.5) {
        double left = fsecs * (double)(total - raw_pos) / (double)raw_pos;
        snprintf(eta, sizeof eta, " ETA %d:%02d", (int)left / 60, (int)left % 60);
    }
    struct vg_buf b;
    vg_buf_init(&b, 4096);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    vg_bprintf(&b, "\r\033[K[%zu/%zu] ", s->file_no + 1, s->n_files);
    vg_bput_term(&b, (const uint8_t *)base, strlen(base) > 40 ? 40 : strlen(base));
    if (total && raw_pos <= total) {
        /* [#########-----------] 45.2% 12.3/27.2 MB (compressed bytes for compressed input) */
        int fill = (int)(20.0 * (double)raw_pos / (double)total);
        vg_bputs(&b, " [");
        for (int i = 0; i < 20; i++)
            vg_bputc(&b, i < fill ? '#' : '-');
        vg_bprintf(&b, "] %5.1f%% %.1f/%.1f MB", 100.0 * (double)raw_pos / (double)total,
                   (double)raw_pos / 1e6, (double)total / 1e6);
    } else {
        vg_bprintf(&b, " %.1f MB", (double)raw_pos / 1e6);
    }
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

/* Writes a chunk's parsed records in order, numbering their lines. */
static vg_status write_records(struct scan_state *s, const struct file_run *fr,
                               const struct chunk *k)
{
    FILE *f = s->opt->records;
    size_t at = 0;
    struct vg_buf pb; /* the file's path as a JSON string, once per chunk */
    vg_buf_init(&pb, 0);
    vg_bputc(&pb, '"');
    vg_bput_json(&pb, (const uint8_t *)fr->path, strlen(fr->path));
    vg_bputc(&pb, '"');
    if (pb.err != VG_OK) {
        vg_buf_fini(&pb);
        return vg_error_set(s->err, VG_E_NOMEM, NULL, 0, "out of memory");
    }
    while (at + 20 <= k->recs.n) {
        uint64_t hdr[2];
        uint32_t n;
        memcpy(hdr, k->recs.p + at, sizeof hdr);
        memcpy(&n, k->recs.p + at + sizeof hdr, sizeof n);
        const uint8_t *j = k->recs.p + at + 20;
        if (n < 2 || at + 20 + n > k->recs.n) {
            vg_buf_fini(&pb);
            return vg_error_set(s->err, VG_E_INTERNAL, NULL, 0, "corrupt record buffer");
        }
        fputs("{\"file\":", f);
        fwrite(pb.p, 1, pb.n, f);
        fprintf(f, ",\"line\":%" PRIu64 ",\"offset\":%" PRIu64 "%s", fr->line_base + hdr[0] + 1,
                hdr[1], n > 2 ? "," : "");
        fwrite(j + 1, 1, n - 1, f);
        fputc('\n', f);
        at += 20 + n;
    }
    vg_buf_fini(&pb);
    if (ferror(f))
        return vg_error_set(s->err, VG_E_IO, "--records", 0, "cannot write records: %s",
                            strerror(errno));
    return VG_OK;
}

/* One attack request as the consumer writes it. Every writer reads the same event. */
struct emit_in {
    const struct vg_request *req; /* the fields (views valid for the call) */
    struct vg_str raw;
    uint64_t offset, line_no;
    uint32_t file_no;
    int score;
    uint32_t classes;
    unsigned decode_flags;
    unsigned n_hits;
    const struct vg_event_hit *hits;
    uint32_t detectors;
    unsigned n_det;
    const struct vg_event_detection *det;
    const char *tool;
    bool size_anomaly;
};

static int outcome_of(int32_t status)
{
    if (status >= 200 && status < 400)
        return VG_OUT_SUCCESS;
    if (status >= 400 && status < 500)
        return VG_OUT_REFUSED;
    if (status >= 500 && status < 600)
        return VG_OUT_FAILED;
    return VG_OUT_UNKNOWN;
}

/*
 * Writes one attack request everywhere: attribution (country, AS, labels, network, cached per
 * address), its incident, the event JSON, the store (counted only when the row is new: a line
 * already stored is never counted twice), and the summary.
 */
static vg_status emit_event(struct scan_state *s, const struct emit_in *in)
{
    const struct vg_request *r = in->req;
    struct scan_input *fi = &s->inputs[in->file_no];
    struct vg_summary_file *sf = vg_summary_file(s->sum, fi->sum_idx);
    struct vg_event ev;
    memset(&ev, 0, sizeof ev);
    ev.time = (r->flags & VG_REQ_HAS_TIME) ? r->time : 0;
    ev.method = r->method;
    ev.host = r->host;
    ev.target = r->target;
    ev.protocol = r->protocol;
    ev.user_agent = r->user_agent;
    ev.referer = r->referer;
    ev.raw_line = in->raw;
    ev.status = r->status;
    ev.bytes = r->bytes;
    ev.score = in->score;
    /* vigil.scores: the rules' scores per class (groups counted once), and what the behaviour
       detectors added under the class of the first of them */
    int class_scores[VG_EVENT_CLASSES];
    vg_pipeline_class_scores(s->eng, in->hits, in->n_hits, in->score,
                             in->n_det ? in->det[0].class_name : NULL, class_scores);
    ev.class_scores = class_scores;
    ev.classes = in->classes;
    ev.decode_flags = in->decode_flags;
    ev.outcome = vg_outcome_name(r->status);
    ev.n_hits = in->n_hits;
    ev.hits = in->hits;
    ev.file_path = fi->path;
    ev.file_id = fi->file_id;
    ev.offset = in->offset;
    ev.line_no = in->line_no;
    ev.tool = in->tool;
    ev.size_anomaly = in->size_anomaly;
    ev.n_detections = in->n_det;
    ev.detections = in->det;
    ev.asn_provenance = s->eng->asn ? vg_asn_provenance(s->eng->asn) : NULL;
    char incident[VG_INCIDENT_ID_LEN + 1];
    vg_status st;
    if (r->flags & VG_REQ_HAS_ADDR) {
        ev.addr = r->addr;
        struct attrib_entry *a = attrib_lookup(&s->attrib, s->eng, &ev.addr);
        if (!a)
            return VG_E_NOMEM;
        memcpy(ev.ip, a->ip, sizeof ev.ip);
        memcpy(ev.country, a->cc, 3);
        ev.asn = a->asn;
        ev.as_org = a->org;
        ev.labels = a->labels;
        ev.net = a->net;
        if (!a->dirty) {
            a->first = a->last = ev.time;
            a->dirty = s->store != NULL;
            s->attrib.n_dirty += a->dirty;
        } else {
            if (ev.time < a->first)
                a->first = ev.time;
            if (ev.time > a->last)
                a->last = ev.time;
        }
        if (s->incidents) {
            uint32_t rules[VG_INCIDENT_RULES];
            unsigned nr = 0;
            for (unsigned i = 0; i < in->n_hits && nr < VG_INCIDENT_RULES; i++)
                rules[nr++] = in->hits[i].rule_id;
            struct vg_incident_add ia = {
                .addr = &ev.addr,
                .ip = ev.ip,
                .site = r->host,
                .time = ev.time,
                .classes = ev.classes,
                .detectors = in->detectors,
                .outcome = outcome_of(r->status),
                .tool = in->tool,
                .ua_hash = r->user_agent.n ? vg_hash64(r->user_agent.p, r->user_agent.n, 0x7561) : 0,
                .rules = rules,
                .n_rules = nr,
                .asn = a->asn,
                .country = a->cc,
            };
            st = vg_incidents_add(s->incidents, &ia, incident);
            if (st != VG_OK)
                return st;
            ev.incident = incident;
            if (ev.time > s->clock)
                s->clock = ev.time;
        }
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
        if (vg_store_event_inserted(s->store)) {
            st = delta_source(&s->deltas, &ev);
            if (st == VG_OK)
                st = delta_month(&s->deltas, vg_month_key(ev.time), 0, 0, 1);
            if (st != VG_OK)
                return st;
        }
    }
    if (!s->opt->events)
        s->events.n = before; /* the JSON was only needed for the store */
    st = vg_summary_add_attack(s->sum, &ev, r->path.n ? r->path : r->target);
    if (st != VG_OK)
        return st;
    if (sf)
        sf->attacks++;
    if (s->events.n >= VG_EVENTS_FLUSH)
        return flush_events(s);
    return VG_OK;
}

/* The behaviour stage's emit callback: an attack request leaves it. */
static vg_status behave_emit(void *user, const struct vg_behave_emit *e)
{
    struct scan_state *s = user;
    struct vg_event_detection det[VG_DET_COUNT];
    uint32_t detectors = 0;
    for (unsigned i = 0; i < e->n_det && i < VG_DET_COUNT; i++) {
        enum vg_detector_id d = (enum vg_detector_id)e->det[i].detector;
        det[i].detector = vg_detector_name(d);
        det[i].class_name = vg_class_name((enum vg_class)e->det[i].cls);
        det[i].why = e->det[i].why;
        detectors |= 1u << d;
    }
    struct emit_in in = {
        .req = &e->req,
        .raw = e->line,
        .offset = e->offset,
        .line_no = e->line_no,
        .file_no = e->file_no,
        .score = e->sig.score + e->score,
        .classes = e->sig.classes | e->classes,
        .decode_flags = e->sig.decode_flags,
        .n_hits = e->sig.n_hits,
        .hits = e->sig.hits,
        .detectors = detectors,
        .n_det = e->n_det < VG_DET_COUNT ? e->n_det : VG_DET_COUNT,
        .det = det,
        .tool = e->tool,
        .size_anomaly = e->size_anomaly,
    };
    return emit_event(s, &in);
}

/* Was this replayed line held (pending) at the last checkpoint? (sorted offsets, in order) */
static bool revived(struct scan_state *s, uint64_t offset)
{
    while (s->revive_at < s->n_revive && s->revive[s->revive_at] < offset)
        s->revive_at++;
    return s->revive_at < s->n_revive && s->revive[s->revive_at] == offset;
}

/* Feeds every request of a chunk, in line order, to the behaviour stage. */
static vg_status feed_chunk(struct scan_state *s, const struct file_run *fr, const struct chunk *k)
{
    for (size_t i = 0; i < k->n_obs; i++) {
        const struct vg_obs *o = &k->obs[i];
        const struct vg_attack_rec *rec = o->attack ? &k->attacks[o->attack - 1] : NULL;
        struct vg_str line = vg_str_make(k->data + (o->offset - k->base_offset), o->line_len);
        struct vg_request req;
        if (rec) {
            req = rec->req;
        } else {
            memset(&req, 0, sizeof req);
            req.line = line;
            const struct obs_ref *rf = &k->refs[i];
            struct vg_str *views[VG_REF_FIELDS] = {&req.host,     &req.method,     &req.target,
                                                   &req.protocol, &req.user_agent, &req.referer};
            for (size_t j = 0; j < VG_REF_FIELDS; j++) {
                if (!rf->len[j])
                    continue;
                const uint8_t *base = (rf->off[j] & VG_REF_TEXT) ? k->obs_text.p : k->data;
                *views[j] = vg_str_make(base + (rf->off[j] & ~VG_REF_TEXT), rf->len[j]);
            }
            if (req.target.n) {
                const uint8_t *q = memchr(req.target.p, '?', req.target.n);
                req.path = vg_str_make(req.target.p, q ? (size_t)(q - req.target.p) : req.target.n);
                if (q)
                    req.query =
                        vg_str_make(q + 1, req.target.n - (size_t)(q - req.target.p) - 1);
            }
            req.addr = o->addr;
            req.time = o->time;
            req.status = o->status;
            req.bytes = o->bytes;
            req.offset = o->offset;
            req.flags = ((o->feat & VG_OBS_HAS_ADDR) ? VG_REQ_HAS_ADDR : 0) |
                        ((o->feat & VG_OBS_HAS_TIME) ? VG_REQ_HAS_TIME : 0);
        }
        enum vg_feed_mode mode = VG_FEED_NORMAL;
        if (k->replay)
            mode = revived(s, o->offset) ? VG_FEED_REVIVE : VG_FEED_REPLAY;
        struct vg_behave_sig sig;
        if (rec) {
            sig.score = rec->score;
            sig.classes = rec->classes;
            sig.decode_flags = rec->decode_flags;
            sig.n_hits = rec->n_hits;
            sig.hits = rec->hits;
        }
        struct vg_behave_req br = {o,
                                   &req,
                                   line,
                                   req.host,
                                   fr->line_base + o->rel_line + 1,
                                   (uint32_t)s->file_no,
                                   rec ? &sig : NULL,
                                   mode};
        vg_status st = vg_behave_feed(s->behave, &br);
        if (st != VG_OK)
            return st;
    }
    return VG_OK;
}

/* Signatures only (--no-behave): every attack record is emitted as it is. */
static vg_status emit_attacks(struct scan_state *s, const struct file_run *fr,
                              const struct chunk *k)
{
    for (size_t i = 0; i < k->n_attacks; i++) {
        const struct vg_attack_rec *rec = &k->attacks[i];
        struct emit_in in = {
            .req = &rec->req,
            .raw = rec->req.line,
            .offset = rec->offset,
            .line_no = fr->line_base + rec->rel_line + 1,
            .file_no = (uint32_t)s->file_no,
            .score = rec->score,
            .classes = rec->classes,
            .decode_flags = rec->decode_flags,
            .n_hits = rec->n_hits,
            .hits = rec->hits,
        };
        vg_status st = emit_event(s, &in);
        if (st != VG_OK)
            return st;
    }
    return VG_OK;
}

static vg_status consume_chunk(struct scan_state *s, struct file_run *fr, struct chunk *k)
{
    if (k->replay) {
        /* Lines before the committed offset of a resumed input: behaviour only (they were
           counted, and their events stored, before the restart). */
        vg_status st = s->behave ? feed_chunk(s, fr, k) : VG_OK;
        fr->line_base += k->lines;
        s->lines_done += k->lines;
        return st;
    }
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
    if (s->opt->records && k->recs.n) {
        st = write_records(s, fr, k);
        if (st != VG_OK)
            return st;
    }
    st = s->behave ? feed_chunk(s, fr, k) : emit_attacks(s, fr, k);
    if (st != VG_OK)
        return st;
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
    for (size_t i = 0; c->chunks && i < c->n_chunks; i++) {
        vg_free(c->chunks[i].data);
        vg_arena_fini(&c->chunks[i].arena);
        vg_free(c->chunks[i].months);
        vg_free(c->chunks[i].attacks);
        vg_free(c->chunks[i].obs);
        vg_free(c->chunks[i].refs);
        vg_buf_fini(&c->chunks[i].obs_text);
        vg_free(c->chunks[i].directive);
        vg_free(c->chunks[i].pbuf.p);
        vg_buf_fini(&c->chunks[i].recs);
    }
    vg_free(c->chunks);
    vg_free(c->dir_cur);
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
        vg_buf_init(&k->obs_text, 0);
        vg_buf_init(&k->recs, 0);
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
        if (st == VG_OK && s->eng->behave)
            st = vg_behave_scratch_new(&workers[i].bscratch);
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
        bool replayed = k->replay;
        give_back(c, k);
        next++;
        if (st != VG_OK)
            break;
        show_progress(s, c, fr->path, raw_pos, false);
        /* No checkpoint inside the replay of a resumed input: the committed position is past
           it, and the held requests it rebuilds are those of the last checkpoint. */
        if (s->store && !replayed && (++since_ckpt >= VG_CHECKPOINT_CHUNKS ||
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
    for (unsigned i = 0; i < n_workers; i++) {
        vg_detect_scratch_free(workers[i].scratch);
        vg_behave_scratch_free(workers[i].bscratch);
    }
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
/*
 * The input's format: the configured one, or with auto the one its first lines fit. Says on
 * the diagnostics stream which format was detected (when it changes from the previous input),
 * and records it with the file. A file whose format cannot be told is an input error: it is
 * skipped with a message naming the line and what was expected.
 */
static vg_status choose_format(struct scan_state *s, const char *path, struct vg_summary_file *sf,
                               const uint8_t *probe, size_t n, bool eof)
{
    s->file_fmt = s->eng->fmt;
    s->file_started_ns = now_ns();
    if (s->eng->fmts) {
        const struct vg_format *f = NULL;
        struct vg_detect_info info;
        struct vg_error derr;
        memset(&derr, 0, sizeof derr);
        vg_status st = vg_format_detect(s->eng->fmts, probe, n, eof, &f, &info, &derr);
        if (st != VG_OK) {
            sf->status = VG_FILE_ERROR;
            if (derr.line)
                vg_error_set(s->err, st, path, derr.line, "%s:%zu: %s", path, derr.line,
                             derr.message);
            else
                vg_error_set(s->err, st, path, 0, "%s: %s", path, derr.message);
            sf->error = vg_strdup(s->err->message);
            return st;
        }
        if (f) {
            s->file_fmt = f;
            if (s->opt->diag && f != s->last_note_fmt) {
                struct vg_buf b;
                vg_buf_init(&b, 0);
                vg_bputs(&b, s->progress ? "\r\033[Kvigil: " : "vigil: ");
                vg_bput_term(&b, (const uint8_t *)path, strlen(path));
                vg_bputs(&b, ": format ");
                vg_bput_term(&b, (const uint8_t *)vg_format_name(f), strlen(vg_format_name(f)));
                vg_bprintf(&b, " (detected from %zu of %zu lines)\n", info.matched, info.probed);
                if (b.err == VG_OK)
                    fwrite(b.p, 1, b.n, s->opt->diag);
                vg_buf_fini(&b);
                s->last_note_fmt = f;
            }
        }
    }
    sf->format = vg_strdup(vg_format_name(s->file_fmt));
    if (!sf->format)
        return vg_error_set(s->err, VG_E_NOMEM, NULL, 0, "out of memory");
    return VG_OK;
}

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
    struct scan_input *si = &s->inputs[s->file_no];
    si->path = path;
    si->sum_idx = idx;
    si->active = true;
    if (st != VG_OK) {
        sf->status = VG_FILE_ERROR;
        sf->error = vg_strdup(ferr.message);
        *s->err = ferr;
        return st;
    }
    /* Read the first bytes: the identifying prefix (its first VG_FP_MAX bytes) and, with
       --format auto, the lines the format is detected from. They are handed to the reader
       first. A read error after some bytes is left for the reader to report after them. */
    size_t probe_cap = s->eng->fmts ? VG_PROBE_MAX : VG_FP_MAX;
    uint8_t *prefix = vg_malloc(probe_cap);
    if (!prefix) {
        vg_input_close(in);
        return vg_error_set(s->err, VG_E_NOMEM, NULL, 0, "out of memory");
    }
    size_t plen = 0;
    bool eof = false;
    while (plen < probe_cap && !eof) {
        size_t got = 0;
        st = vg_input_read(in, prefix + plen, probe_cap - plen, &got, &ferr);
        plen += got;
        if (st != VG_OK)
            break;
        eof = got == 0;
    }
    if (st != VG_OK && plen == 0) {
        sf->status = VG_FILE_ERROR;
        sf->error = vg_strdup(ferr.message);
        *s->err = ferr;
        vg_free(prefix);
        vg_input_close(in);
        return st;
    }
    if (st != VG_OK)
        eof = true; /* detect from the good bytes; the reader reports the damage after them */
    st = choose_format(s, path, sf, prefix, plen, eof);
    if (st != VG_OK) {
        vg_free(prefix);
        vg_input_close(in);
        return st;
    }
    size_t fp_len = plen < VG_FP_MAX ? plen : VG_FP_MAX;
    struct file_run fr = {.path = path, .sum_idx = idx, .last_month = INT32_MIN};
    uint64_t skip = 0, replay_end = 0;
    if (s->store) {
        size_t lens[64], nl = 0;
        bool found = false;
        struct vg_file_state fs;
        st = vg_store_fp_lengths(s->store, lens, 64, &nl);
        for (size_t i = 0; st == VG_OK && i < nl && !found; i++) {
            if (lens[i] > fp_len || lens[i] == 0)
                continue;
            /* A file shorter than VG_FP_MAX is identified by all of itself: only equal. */
            if (lens[i] < VG_FP_MAX && lens[i] != fp_len)
                continue;
            uint8_t h[32];
            fingerprint(prefix, lens[i], h);
            st = vg_store_file_find(s->store, h, lens[i], &fs, &found);
        }
        if (st != VG_OK) {
            vg_free(prefix);
            vg_input_close(in);
            return store_fail(s, st);
        }
        if (found) {
            fr.file_id = fs.file_id;
            st = vg_store_file_touch(s->store, fs.file_id, s->run_id, path, false);
            if (st != VG_OK) {
                vg_free(fs.pending);
                vg_free(prefix);
                vg_input_close(in);
                return store_fail(s, st);
            }
            /* Requests held by the behaviour stage at the last checkpoint: read again from the
               oldest of them (behaviour only up to the committed offset), so that none is lost
               and none is counted twice (docs/internals/behave.md). */
            bool held = fs.replay_offset < fs.offset || fs.pending_len > 0;
            si->file_id = fs.file_id;
            si->had_pending = held;
            si->offset = fs.offset;
            si->lines = fs.lines;
            if (held && s->behave) {
                vg_free(s->revive);
                s->revive = NULL;
                s->n_revive = s->revive_at = 0;
                if (fs.pending_len &&
                    vg_behave_offsets_decode(fs.pending, fs.pending_len, &s->revive,
                                             &s->n_revive) != VG_OK) {
                    s->revive = NULL; /* damaged: replay for state only, nothing revived */
                    s->n_revive = 0;
                }
            }
            vg_free(fs.pending);
            fs.pending = NULL;
            if (fs.complete && !(held && s->behave) &&
                (vg_input_compression(in) != VG_COMP_NONE ||
                 vg_input_raw_size(in) == fs.offset)) {
                sf->status = VG_FILE_SKIPPED;
                sf->resumed_at_line = fs.lines;
                vg_summary_count_skipped_file(s->sum);
                vg_free(prefix);
                vg_input_close(in);
                return vg_store_commit(s->store) == VG_OK && vg_store_begin(s->store) == VG_OK
                           ? VG_OK
                           : store_fail(s, VG_E_STORE);
            }
            skip = fs.offset;
            fr.line_base = fs.lines;
            fr.offset = fs.offset;
            sf->resumed_at_line = fs.lines;
            if (held && s->behave) {
                skip = fs.replay_offset;
                fr.line_base = fs.replay_lines;
                replay_end = fs.offset;
            }
        } else if (plen > 0) {
            uint8_t h[32];
            size_t fl = fp_len;
            fingerprint(prefix, fl, h);
            st = vg_store_file_add(s->store, s->run_id, path, h, fl, vg_format_name(s->file_fmt),
                                   compression_name(vg_input_compression(in)), &fr.file_id);
            if (st != VG_OK) {
                vg_free(prefix);
                vg_input_close(in);
                return store_fail(s, st);
            }
            si->file_id = fr.file_id;
        }
    }
    struct scan_file_ctx c;
    memset(&c, 0, sizeof c);
    c.eng = s->eng;
    c.fmt = s->file_fmt;
    c.parse_only = s->opt->parse_only != 0;
    c.records = c.parse_only && s->opt->records != NULL;
    c.max_line = s->opt->max_line ? s->opt->max_line : VG_DEFAULT_MAX_LINE;
    c.chunk_size = s->opt->chunk_size ? s->opt->chunk_size : VG_DEFAULT_CHUNK;
    c.in = in;
    c.prefix = prefix;
    c.prefix_len = plen;
    c.skip = skip;
    c.replay_end = replay_end;
    st = ctx_init(&c, 2 * (size_t)n_workers + 2);
    if (st == VG_OK)
        st = run_pipeline(s, &c, &fr, n_workers);
    vg_status rs = c.read_status;
    struct vg_error rerr = c.read_err;
    ctx_fini(&c);
    vg_free(prefix);
    vg_free(s->revive);
    s->revive = NULL;
    s->n_revive = s->revive_at = 0;
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

/* The store's latest incident of the address and site an attack request continues. */
static vg_status lookup_incident(void *user, const struct vg_incident_add *a,
                                 struct vg_incident *out, bool *found)
{
    struct scan_state *s = user;
    char site[256];
    size_t n = a->site.n < sizeof site - 1 ? a->site.n : sizeof site - 1;
    if (n)
        memcpy(site, a->site.p, n);
    site[n] = 0;
    vg_status st = vg_store_find_incident(s->store, a->ip, site, out, found);
    return st == VG_OK ? VG_OK : store_fail(s, st);
}

/*
 * Behaviour and incidents for one scan: the stage (with the state the store kept from the last
 * run: detections in force and what it learned about each site) and the incident tracker (which
 * continues stored incidents).
 */
static vg_status scan_behaviour_init(struct scan_state *s, size_t n_inputs)
{
    s->inputs = vg_calloc(n_inputs ? n_inputs : 1, sizeof *s->inputs);
    if (!s->inputs)
        return vg_error_set(s->err, VG_E_NOMEM, NULL, 0, "out of memory");
    s->clock = INT64_MIN;
    vg_status st = VG_OK;
    if (s->store) {
        st = vg_store_has_incidents(s->store, &s->store_had_incidents);
        if (st != VG_OK)
            return store_fail(s, st);
    }
    st = vg_incidents_new(s->eng->incident_gap, s->store_had_incidents ? lookup_incident : NULL,
                          s, &s->incidents);
    if (st != VG_OK || !s->eng->behave)
        return st == VG_OK ? VG_OK : vg_error_set(s->err, st, NULL, 0, "out of memory");
    struct vg_behave_env env = {s->eng->behave, s->eng->asn, behave_emit, s};
    st = vg_behave_new(&env, &s->behave);
    if (st != VG_OK)
        return vg_error_set(s->err, st, NULL, 0, "out of memory");
    if (s->store) {
        uint8_t *blob = NULL;
        size_t n = 0;
        st = vg_store_get_state(s->store, "behave", &blob, &n);
        if (st != VG_OK)
            return store_fail(s, st);
        if (n) {
            st = vg_behave_import_state(s->behave, blob, n);
            if (st == VG_E_CORRUPT) {
                /* A state from another configuration or a damaged one: start afresh. */
                if (s->opt->diag)
                    fprintf(s->opt->diag, "vigil: note: the store's behaviour state could not "
                                          "be read; detections restart from this run\n");
                vg_behave_free(s->behave);
                s->behave = NULL;
                st = vg_behave_new(&env, &s->behave);
            }
        }
        vg_free(blob);
    }
    return st == VG_OK ? VG_OK : vg_error_set(s->err, st, NULL, 0, "%s", vg_strerror(st));
}

/* Campaigns are recomputed over every stored incident once the scan has committed. */
static vg_status rebuild_campaigns(struct scan_state *s)
{
    const struct vg_behave_config *cfg = s->eng->behave;
    struct vg_campaign_params p = {86400, 7 * 86400, 0.5, 3};
    if (cfg) {
        p.window = cfg->campaign_window;
        p.network_window = cfg->network_window;
        p.family_min_jaccard = cfg->family_min_jaccard;
        p.family_min_rules = cfg->family_min_rules;
    }
    size_t n = 0;
    return vg_store_rebuild_campaigns(s->store, &p, &n);
}

static bool is_input_error(vg_status st)
{
    return st == VG_E_IO || st == VG_E_CORRUPT || st == VG_E_FORMAT;
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
                                   eng->format_name);
    if (st == VG_OK && opt->db_path && !opt->parse_only) {
        st = vg_store_open(opt->db_path, &s.store, err);
        if (st == VG_OK) {
            struct vg_run_info ri = {
                .vigil_version = vg_version(),
                .ruleset_hash = vg_detector_hash(eng->det),
                .geo_provenance = vg_geo_provenance(eng->geo),
                .format = eng->format_name,
                .command = opt->command ? opt->command : "",
                .started = (int64_t)time(NULL),
                .asn_provenance = vg_asn_provenance(eng->asn),
                .labels_source = vg_labels_source(eng->labels),
                .behave_hash = eng->behave ? eng->behave->hash : NULL,
            };
            st = vg_store_run_begin(s.store, &ri, &s.run_id);
            if (st == VG_OK)
                st = vg_store_begin(s.store);
            if (st != VG_OK)
                store_fail(&s, st);
        }
    }
    if (st == VG_OK)
        st = scan_behaviour_init(&s, n_inputs);
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
    /* End of input: held requests that are attack requests already are emitted; with a
       store the others stay held for the next run (their episodes may still fire). */
    if (st == VG_OK && s.behave)
        st = vg_behave_finish(s.behave, s.store != NULL);
    if (st == VG_OK && s.store)
        st = checkpoint_behaviour(&s);
    if (st == VG_OK)
        st = flush_events(&s);
    if (s.store) {
        struct vg_totals t;
        vg_summary_totals(s.sum, &t);
        vg_status cs = VG_OK;
        if (st == VG_OK) {
            cs = vg_store_commit(s.store);
            if (cs == VG_OK)
                cs = rebuild_campaigns(&s);
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
    if (s.behave || s.incidents) {
        struct vg_summary_behaviour sb = {0};
        if (s.behave) {
            struct vg_behave_stats bs;
            vg_behave_get_stats(s.behave, &bs);
            sb.sources_peak = bs.sources_peak;
            sb.pending_peak = bs.pending_peak;
            sb.expired = bs.expired;
            sb.evicted = bs.evicted;
            sb.forced = bs.forced;
        }
        sb.incidents = vg_incidents_opened(s.incidents);
        vg_summary_set_behaviour(s.sum, &sb);
    }
    attrib_cache_fini(&s.attrib);
    vg_behave_free(s.behave);
    vg_incidents_free(s.incidents);
    vg_free(s.inputs);
    vg_free(s.revive);
    deltas_fini(&s.deltas);
    vg_buf_fini(&s.events);
    *out = s.sum;
    if (st == VG_OK && first_input_err != VG_OK) {
        *err = input_err;
        return first_input_err;
    }
    return st;
}
