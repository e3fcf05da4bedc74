/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_summary.c: the per-month scan summary and its text and JSON writers.
 *
 * Units are printed next to every number ("attack requests", "sources"), and the attribution
 * caveat with the database provenance closes every report (DESIGN.md section 1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "detect/detect.h"
#include "report/report.h"

/* ---- open-addressing map from a fixed-size key to an entry index ------------------------- */

struct vg_source_stat {
    struct vg_addr addr;
    char country[3];
    uint64_t attacks;
    uint32_t classes;
};

struct vg_path_stat {
    struct vg_str path; /* copy in buf (capped at VG_PATH_KEEP bytes) */
    uint64_t count;
    uint64_t hash;
    uint8_t *buf;       /* owned, reused when the slot is evicted */
    size_t buf_cap;
};

/* Open-addressing index over the tracked paths (index + 1; 0 empty), so that counting an
   attack request's path costs one probe rather than a scan of the table. */
#define VG_PATH_SLOTS (VG_TOP_PATHS_TRACKED * 4)

#define VG_PATH_KEEP 512

struct vg_month {
    int32_t key;
    uint64_t requests, malformed, attacks;
    uint64_t class_attacks[VG_CLASS_COUNT];
    /* sources: exact, open addressing on addr */
    struct vg_source_stat *src;
    size_t n_src, cap_src;
    uint32_t *src_slots; /* index + 1; 0 = empty; size cap_slots (power of 2) */
    size_t cap_slots;
    /* paths: space-saving over VG_TOP_PATHS_TRACKED entries */
    struct vg_path_stat paths[VG_TOP_PATHS_TRACKED];
    size_t n_paths;
    uint16_t path_slots[VG_PATH_SLOTS];
};

struct vg_sample {
    size_t file_idx;
    uint64_t line_no, offset;
    const char *reason;
    struct vg_str text;
};

struct vg_summary {
    struct vg_arena arena;
    struct vg_summary_file *files;
    size_t n_files, cap_files;
    struct vg_month **months; /* sorted by key */
    size_t n_months, cap_months;
    struct vg_sample samples[VG_MALFORMED_SAMPLES];
    size_t n_samples;
    struct vg_totals totals;
    /* global distinct attacking sources */
    struct vg_addr *all_src;
    size_t n_all, cap_all_slots;
    size_t rules;
    char *ruleset_hash, *geo, *format;
    double elapsed;
    uint64_t seed;
    struct vg_summary_behaviour behave;
    int has_behave;
};

vg_status vg_summary_new(vg_summary_t **out)
{
    struct vg_summary *s = vg_calloc(1, sizeof *s);
    if (!s)
        return VG_E_NOMEM;
    vg_arena_init(&s->arena, 64 * 1024, 0);
    s->seed = 0x9e3779b97f4a7c15ULL;
    *out = s;
    return VG_OK;
}

static void month_free(struct vg_month *m)
{
    if (!m)
        return;
    vg_free(m->src);
    vg_free(m->src_slots);
    for (size_t i = 0; i < m->n_paths; i++)
        vg_free(m->paths[i].buf);
    vg_free(m);
}

void vg_summary_free(vg_summary_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_files; i++) {
        vg_free(s->files[i].path);
        vg_free(s->files[i].error);
        vg_free(s->files[i].format);
    }
    vg_free(s->files);
    for (size_t i = 0; i < s->n_months; i++)
        month_free(s->months[i]);
    vg_free(s->months);
    vg_free(s->all_src);
    vg_free(s->ruleset_hash);
    vg_free(s->geo);
    vg_free(s->format);
    vg_arena_fini(&s->arena);
    vg_free(s);
}

vg_status vg_summary_set_provenance(vg_summary_t *s, size_t rules, const char *ruleset_hash,
                                    const char *geo, const char *format)
{
    s->rules = rules;
    vg_free(s->ruleset_hash);
    vg_free(s->geo);
    vg_free(s->format);
    s->ruleset_hash = vg_strdup(ruleset_hash ? ruleset_hash : "");
    s->geo = vg_strdup(geo ? geo : "");
    s->format = vg_strdup(format ? format : "");
    return (s->ruleset_hash && s->geo && s->format) ? VG_OK : VG_E_NOMEM;
}

vg_status vg_summary_add_file(vg_summary_t *s, const char *path, const char *compression,
                              size_t *idx)
{
    if (s->n_files == s->cap_files) {
        size_t cap = s->cap_files ? s->cap_files * 2 : 8;
        struct vg_summary_file *f = vg_realloc(s->files, cap * sizeof *f);
        if (!f)
            return VG_E_NOMEM;
        s->files = f;
        s->cap_files = cap;
    }
    struct vg_summary_file *f = &s->files[s->n_files];
    memset(f, 0, sizeof *f);
    f->path = vg_strdup(path);
    if (!f->path)
        return VG_E_NOMEM;
    f->compression = compression ? compression : "none";
    *idx = s->n_files++;
    return VG_OK;
}

struct vg_summary_file *vg_summary_file(vg_summary_t *s, size_t idx)
{
    return idx < s->n_files ? &s->files[idx] : NULL;
}

static struct vg_month *month_get(struct vg_summary *s, int32_t key)
{
    size_t lo = 0, hi = s->n_months;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->months[mid]->key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n_months && s->months[lo]->key == key)
        return s->months[lo];
    if (s->n_months == s->cap_months) {
        size_t cap = s->cap_months ? s->cap_months * 2 : 16;
        struct vg_month **m = vg_realloc(s->months, cap * sizeof *m);
        if (!m)
            return NULL;
        s->months = m;
        s->cap_months = cap;
    }
    struct vg_month *m = vg_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->key = key;
    memmove(&s->months[lo + 1], &s->months[lo], (s->n_months - lo) * sizeof *s->months);
    s->months[lo] = m;
    s->n_months++;
    return m;
}

vg_status vg_summary_add_month_requests(vg_summary_t *s, int32_t month, uint64_t requests,
                                        uint64_t malformed)
{
    struct vg_month *m = month_get(s, month);
    if (!m)
        return VG_E_NOMEM;
    m->requests += requests;
    m->malformed += malformed;
    return VG_OK;
}

/* Finds or inserts addr in a month's source table. */
static struct vg_source_stat *source_get(struct vg_month *m, const struct vg_addr *a,
                                         uint64_t seed)
{
    if ((m->n_src + 1) * 2 > m->cap_slots) {
        size_t cap = m->cap_slots ? m->cap_slots * 2 : 64;
        uint32_t *slots = vg_calloc(cap, sizeof *slots);
        if (!slots)
            return NULL;
        for (size_t i = 0; i < m->n_src; i++) {
            size_t h = (size_t)vg_hash64(m->src[i].addr.b, 16, seed) & (cap - 1);
            while (slots[h])
                h = (h + 1) & (cap - 1);
            slots[h] = (uint32_t)(i + 1);
        }
        vg_free(m->src_slots);
        m->src_slots = slots;
        m->cap_slots = cap;
    }
    size_t h = (size_t)vg_hash64(a->b, 16, seed) & (m->cap_slots - 1);
    while (m->src_slots[h]) {
        struct vg_source_stat *e = &m->src[m->src_slots[h] - 1];
        if (memcmp(e->addr.b, a->b, 16) == 0)
            return e;
        h = (h + 1) & (m->cap_slots - 1);
    }
    if (m->n_src == m->cap_src) {
        size_t cap = m->cap_src ? m->cap_src * 2 : 32;
        struct vg_source_stat *n = vg_realloc(m->src, cap * sizeof *n);
        if (!n)
            return NULL;
        m->src = n;
        m->cap_src = cap;
    }
    struct vg_source_stat *e = &m->src[m->n_src];
    memset(e, 0, sizeof *e);
    e->addr = *a;
    m->src_slots[h] = (uint32_t)(++m->n_src);
    return e;
}

/* Global distinct set of attacking addresses (open addressing, stored inline). */
static vg_status all_sources_add(struct vg_summary *s, const struct vg_addr *a)
{
    static const struct vg_addr zero;
    if ((s->n_all + 1) * 2 > s->cap_all_slots) {
        size_t cap = s->cap_all_slots ? s->cap_all_slots * 2 : 256;
        struct vg_addr *n = vg_calloc(cap, sizeof *n);
        uint8_t *used = vg_calloc(cap, 1);
        if (!n || !used) {
            vg_free(n);
            vg_free(used);
            return VG_E_NOMEM;
        }
        for (size_t i = 0; i < s->cap_all_slots; i++) {
            if (memcmp(&s->all_src[i], &zero, sizeof zero) == 0)
                continue;
            size_t h = (size_t)vg_hash64(s->all_src[i].b, 16, s->seed) & (cap - 1);
            while (used[h])
                h = (h + 1) & (cap - 1);
            n[h] = s->all_src[i];
            used[h] = 1;
        }
        vg_free(used);
        vg_free(s->all_src);
        s->all_src = n;
        s->cap_all_slots = cap;
    }
    /* The all-zero address (::) marks an empty slot; count it apart if it ever attacks. */
    if (memcmp(a, &zero, sizeof zero) == 0) {
        static const struct vg_addr marker = {{0xff}};
        a = &marker;
    }
    size_t h = (size_t)vg_hash64(a->b, 16, s->seed) & (s->cap_all_slots - 1);
    while (memcmp(&s->all_src[h], &zero, sizeof zero) != 0) {
        if (memcmp(&s->all_src[h], a, sizeof *a) == 0)
            return VG_OK;
        h = (h + 1) & (s->cap_all_slots - 1);
    }
    s->all_src[h] = *a;
    s->n_all++;
    return VG_OK;
}

static void path_index(struct vg_month *m, size_t i)
{
    size_t h = (size_t)m->paths[i].hash & (VG_PATH_SLOTS - 1);
    while (m->path_slots[h])
        h = (h + 1) & (VG_PATH_SLOTS - 1);
    m->path_slots[h] = (uint16_t)(i + 1);
}

/* Removes entry i from the index (backward-shift deletion keeps every probe chain whole). */
static void path_unindex(struct vg_month *m, size_t i)
{
    const size_t mask = VG_PATH_SLOTS - 1;
    size_t k = (size_t)m->paths[i].hash & mask;
    while (m->path_slots[k] != i + 1)
        k = (k + 1) & mask;
    for (;;) {
        m->path_slots[k] = 0;
        size_t j = k;
        for (;;) {
            j = (j + 1) & mask;
            if (!m->path_slots[j])
                return;
            size_t home = (size_t)m->paths[m->path_slots[j] - 1].hash & mask;
            /* stays unless its home lies cyclically outside (k, j] */
            bool stays = k <= j ? (home > k && home <= j) : (home > k || home <= j);
            if (!stays) {
                m->path_slots[k] = m->path_slots[j];
                k = j;
                break;
            }
        }
    }
}

static vg_status path_add(struct vg_summary *s, struct vg_month *m, struct vg_str path)
{
    if (path.n > VG_PATH_KEEP)
        path.n = VG_PATH_KEEP;
    uint64_t h = vg_hash64(path.p, path.n, s->seed);
    for (size_t k = (size_t)h & (VG_PATH_SLOTS - 1); m->path_slots[k];
         k = (k + 1) & (VG_PATH_SLOTS - 1)) {
        struct vg_path_stat *p = &m->paths[m->path_slots[k] - 1];
        if (p->hash == h && p->path.n == path.n && memcmp(p->path.p, path.p, path.n) == 0) {
            p->count++;
            return VG_OK;
        }
    }
    struct vg_path_stat *slot;
    uint64_t base = 0;
    bool evict = m->n_paths >= VG_TOP_PATHS_TRACKED;
    if (!evict) {
        slot = &m->paths[m->n_paths];
    } else {
        /* Space-saving: evict the smallest, inheriting its count as the error bound. */
        slot = &m->paths[0];
        for (size_t i = 1; i < m->n_paths; i++)
            if (m->paths[i].count < slot->count)
                slot = &m->paths[i];
        base = slot->count;
    }
    if (slot->buf_cap < path.n || !slot->buf) {
        size_t cap = path.n < 32 ? 32 : path.n;
        uint8_t *nb = vg_realloc(slot->buf, cap);
        if (!nb)
            return VG_E_NOMEM;
        slot->buf = nb;
        slot->buf_cap = cap;
    }
    if (evict)
        path_unindex(m, (size_t)(slot - m->paths));
    if (path.n)
        memcpy(slot->buf, path.p, path.n);
    slot->path = vg_str_make(slot->buf, path.n);
    slot->hash = h;
    slot->count = base + 1;
    path_index(m, evict ? (size_t)(slot - m->paths) : m->n_paths++);
    return VG_OK;
}

vg_status vg_summary_add_attack(vg_summary_t *s, const struct vg_event *ev, struct vg_str path)
{
    struct vg_month *m = month_get(s, vg_month_key(ev->time));
    if (!m)
        return VG_E_NOMEM;
    m->attacks++;
    s->totals.attack_requests++;
    for (int c = 0; c < VG_CLASS_COUNT; c++)
        if (ev->classes & (1u << c))
            m->class_attacks[c]++;
    struct vg_source_stat *src = source_get(m, &ev->addr, s->seed);
    if (!src)
        return VG_E_NOMEM;
    src->attacks++;
    src->classes |= ev->classes;
    memcpy(src->country, ev->country, 3);
    if (path_add(s, m, path) != VG_OK)
        return VG_E_NOMEM;
    return all_sources_add(s, &ev->addr);
}

vg_status vg_summary_add_sample(vg_summary_t *s, size_t file_idx, uint64_t line_no,
                                uint64_t offset, const char *reason, struct vg_str text)
{
    if (s->n_samples >= VG_MALFORMED_SAMPLES)
        return VG_OK;
    struct vg_sample *e = &s->samples[s->n_samples++];
    e->file_idx = file_idx;
    e->line_no = line_no;
    e->offset = offset;
    e->reason = reason;
    if (text.n > 200)
        text.n = 200;
    e->text = vg_arena_dup(&s->arena, text);
    return VG_OK;
}

void vg_summary_add_totals(vg_summary_t *s, uint64_t lines, uint64_t requests, uint64_t malformed,
                           uint64_t oversize)
{
    s->totals.lines += lines;
    s->totals.requests += requests;
    s->totals.malformed += malformed;
    s->totals.oversize += oversize;
}

void vg_summary_count_skipped_file(vg_summary_t *s)
{
    s->totals.skipped_files++;
}

void vg_summary_set_elapsed(vg_summary_t *s, double seconds)
{
    s->elapsed = seconds;
}

void vg_summary_set_behaviour(vg_summary_t *s, const struct vg_summary_behaviour *b)
{
    s->behave = *b;
    s->has_behave = 1;
}

double vg_summary_elapsed(const vg_summary_t *s)
{
    return s->elapsed;
}

void vg_summary_totals(const vg_summary_t *s, struct vg_totals *out)
{
    *out = s->totals;
    out->sources = s->n_all;
}

/* ---- derived tables (computed at write time, deterministic order) ------------------------- */

struct vg_row {
    char key[VG_PATH_KEEP + 64];
    size_t key_len;
    uint64_t a, b; /* attack requests, sources */
    const void *ref;
};

static int row_cmp(const void *x, const void *y)
{
    const struct vg_row *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? 1 : -1;
    if (p->b != q->b)
        return p->b < q->b ? 1 : -1;
    size_t n = p->key_len < q->key_len ? p->key_len : q->key_len;
    int c = memcmp(p->key, q->key, n);
    if (c)
        return c;
    return p->key_len < q->key_len ? -1 : p->key_len > q->key_len;
}

/* Countries of a month: attack requests and sources per country code ("" = unknown). */
static size_t month_countries(const struct vg_month *m, struct vg_row *rows, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_src; i++) {
        const struct vg_source_stat *e = &m->src[i];
        const char *cc = e->country[0] ? e->country : "??";
        size_t j;
        for (j = 0; j < n; j++)
            if (strcmp(rows[j].key, cc) == 0)
                break;
        if (j == n) {
            if (n == cap)
                continue;
            memset(&rows[n], 0, sizeof rows[n]);
            snprintf(rows[n].key, sizeof rows[n].key, "%s", cc);
            rows[n].key_len = strlen(rows[n].key);
            n++;
        }
        rows[j].a += e->attacks;
        rows[j].b++;
    }
    qsort(rows, n, sizeof *rows, row_cmp);
    return n;
}

static size_t month_sources(const struct vg_month *m, struct vg_row *rows)
{
    for (size_t i = 0; i < m->n_src; i++) {
        memset(&rows[i], 0, sizeof rows[i]);
        rows[i].key_len = vg_addr_format(&m->src[i].addr, rows[i].key);
        rows[i].a = m->src[i].attacks;
        rows[i].ref = &m->src[i];
    }
    qsort(rows, m->n_src, sizeof *rows, row_cmp);
    return m->n_src;
}

static size_t month_paths(const struct vg_month *m, struct vg_row *rows)
{
    for (size_t i = 0; i < m->n_paths; i++) {
        memset(&rows[i], 0, sizeof rows[i]);
        memcpy(rows[i].key, m->paths[i].path.p, m->paths[i].path.n);
        rows[i].key_len = m->paths[i].path.n;
        rows[i].a = m->paths[i].count;
    }
    qsort(rows, m->n_paths, sizeof *rows, row_cmp);
    return m->n_paths;
}

static uint64_t class_sources(const struct vg_month *m, int c)
{
    uint64_t n = 0;
    for (size_t i = 0; i < m->n_src; i++)
        if (m->src[i].classes & (1u << c))
            n++;
    return n;
}

/* Room for the longest table of any month (sources or tracked paths). Caller frees. */
static struct vg_row *rows_for(const struct vg_summary *s, size_t *cap)
{
    size_t max_src = 0;
    for (size_t i = 0; i < s->n_months; i++)
        if (s->months[i]->n_src > max_src)
            max_src = s->months[i]->n_src;
    *cap = max_src > VG_TOP_PATHS_TRACKED ? max_src : VG_TOP_PATHS_TRACKED;
    return vg_calloc(*cap, sizeof(struct vg_row));
}

/* ---- text ---------------------------------------------------------------------------------- */

static void put_num(struct vg_buf *b, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
    char out[48];
    int o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = 0;
    vg_bputs(b, out);
}

static const char *sample_file(const struct vg_summary *s, size_t idx)
{
    return idx < s->n_files ? s->files[idx].path : "?";
}

static const char *caveat_text(void)
{
    return "Countries are those of the client addresses as logged, not necessarily of the "
           "people behind them: proxies, VPNs, Tor, cloud hosts and spoofed X-Forwarded-For "
           "headers all hide the origin.";
}

vg_status vg_summary_write_text(const vg_summary_t *s, FILE *f, int color)
{
    const char *bold = color ? "\033[1m" : "", *off = color ? "\033[0m" : "";
    const char *red = color ? "\033[31m" : "";
    struct vg_buf b;
    vg_buf_init(&b, 0);
    vg_bprintf(&b, "%svigil %s%s: %zu input%s, ", bold, vg_version(), off, s->n_files,
                        s->n_files == 1 ? "" : "s");
    put_num(&b, s->totals.lines);
    vg_bputs(&b, " lines, ");
    put_num(&b, s->totals.requests);
    vg_bputs(&b, " requests");
    vg_bputs(&b, "\n");
    for (size_t i = 0; i < s->n_files; i++) {
        const struct vg_summary_file *fi = &s->files[i];
        vg_bputs(&b, "  ");
        vg_bput_term(&b, (const uint8_t *)fi->path, strlen(fi->path));
        if (fi->status == VG_FILE_SKIPPED) {
            vg_bputs(&b, ": already complete in the store, skipped (--rescan to read "
                                  "it again)\n");
            continue;
        }
        vg_bprintf(&b, " (%s", fi->compression);
        if (fi->format) {
            vg_bputs(&b, ", ");
            vg_bput_term(&b, (const uint8_t *)fi->format, strlen(fi->format));
        }
        vg_bputs(&b, "): ");
        put_num(&b, fi->lines);
        vg_bputs(&b, " lines, ");
        put_num(&b, fi->requests);
        vg_bputs(&b, " requests, ");
        put_num(&b, fi->malformed);
        vg_bputs(&b, " malformed, ");
        put_num(&b, fi->oversize);
        vg_bputs(&b, " oversize, ");
        put_num(&b, fi->attacks);
        vg_bputs(&b, " attack requests");
        if (fi->resumed_at_line) {
            vg_bputs(&b, "; resumed after line ");
            put_num(&b, fi->resumed_at_line);
        }
        if (fi->status == VG_FILE_ERROR && fi->error) {
            vg_bprintf(&b, "\n    %sERROR%s: ", red, off);
            vg_bput_term(&b, (const uint8_t *)fi->error, strlen(fi->error));
        }
        vg_bputs(&b, "\n");
    }
    if (s->n_samples) {
        vg_bprintf(&b, "  lines that did not parse (first %zu, counted and skipped):\n",
                            s->n_samples);
        for (size_t i = 0; i < s->n_samples; i++) {
            const struct vg_sample *e = &s->samples[i];
            const char *p = sample_file(s, e->file_idx);
            vg_bputs(&b, "    ");
            vg_bput_term(&b, (const uint8_t *)p, strlen(p));
            vg_bprintf(&b, ":%" PRIu64 " (offset %" PRIu64 "): %s: \"", e->line_no,
                                e->offset, e->reason);
            vg_bput_term(&b, e->text.p, e->text.n);
            vg_bputs(&b, "\"\n");
        }
    }
    size_t row_cap;
    struct vg_row *rows = rows_for(s, &row_cap);
    if (!rows) {
        vg_buf_fini(&b);
        return VG_E_NOMEM;
    }
    for (size_t mi = 0; mi < s->n_months; mi++) {
        const struct vg_month *m = s->months[mi];
        char mk[16];
        vg_month_format(m->key, mk);
        vg_bprintf(&b, "\n%s%s%s  ", bold, mk, off);
        put_num(&b, m->requests);
        vg_bputs(&b, " requests, ");
        vg_bputs(&b, m->attacks ? red : "");
        put_num(&b, m->attacks);
        vg_bprintf(&b, " attack requests%s from ", m->attacks ? off : "");
        put_num(&b, m->n_src);
        vg_bprintf(&b, " source%s", m->n_src == 1 ? "" : "s");
        if (m->malformed) {
            vg_bputs(&b, ", ");
            put_num(&b, m->malformed);
            vg_bputs(&b, " malformed lines");
        }
        vg_bputs(&b, "\n");
        if (!m->attacks)
            continue;
        vg_bputs(&b, "  by class            attack requests    sources\n");
        for (int c = 0; c < VG_CLASS_COUNT; c++) {
            if (!m->class_attacks[c])
                continue;
            vg_bprintf(&b, "    %-16s %18" PRIu64 " %10" PRIu64 "\n",
                                vg_class_name((enum vg_class)c), m->class_attacks[c],
                                class_sources(m, c));
        }
        size_t n = month_countries(m, rows, row_cap);
        vg_bputs(&b, "  by country of the client address    attack requests    sources\n");
        for (size_t i = 0; i < n && i < VG_TOP_SHOWN; i++)
            vg_bprintf(&b, "    %-32s %18" PRIu64 " %10" PRIu64 "\n",
                                strcmp(rows[i].key, "??") ? rows[i].key : "unknown", rows[i].a,
                                rows[i].b);
        if (n > VG_TOP_SHOWN)
            vg_bprintf(&b, "    (%zu more countries)\n", n - VG_TOP_SHOWN);
        n = month_sources(m, rows);
        vg_bputs(&b, "  top sources         country    attack requests    classes\n");
        for (size_t i = 0; i < n && i < VG_TOP_SHOWN; i++) {
            const struct vg_source_stat *e = rows[i].ref;
            vg_bprintf(&b, "    %-39s %-4s %14" PRIu64 "    ", rows[i].key,
                                e->country[0] ? e->country : "-", rows[i].a);
            int first = 1;
            for (int c = 0; c < VG_CLASS_COUNT; c++)
                if (e->classes & (1u << c)) {
                    vg_bprintf(&b, "%s%s", first ? "" : ",",
                                        vg_class_name((enum vg_class)c));
                    first = 0;
                }
            vg_bputs(&b, "\n");
        }
        n = month_paths(m, rows);
        vg_bputs(&b, "  top targeted paths                      attack requests\n");
        for (size_t i = 0; i < n && i < VG_TOP_SHOWN; i++) {
            vg_bputs(&b, "    ");
            size_t shown = rows[i].key_len > 60 ? 60 : rows[i].key_len;
            size_t before = b.n;
            vg_bput_term(&b, (const uint8_t *)rows[i].key, shown);
            size_t w = b.n - before;
            vg_bprintf(&b, "%s%*s %14" PRIu64 "\n", shown < rows[i].key_len ? "..." : "",
                                w < 40 ? (int)(40 - w) : 1, "", rows[i].a);
        }
    }
    vg_free(rows);
    vg_bputs(&b, "\nTotal: ");
    put_num(&b, s->totals.attack_requests);
    vg_bputs(&b, " attack requests from ");
    put_num(&b, s->n_all);
    vg_bputs(&b, " distinct sources; ");
    put_num(&b, s->totals.malformed);
    vg_bputs(&b, " malformed and ");
    put_num(&b, s->totals.oversize);
    vg_bputs(&b, " oversize lines.\n");
    if (s->has_behave) {
        vg_bputs(&b, "Behaviour: ");
        put_num(&b, s->behave.incidents);
        vg_bputs(&b, " incidents opened; at most ");
        put_num(&b, s->behave.sources_peak);
        vg_bputs(&b, " sources tracked and ");
        put_num(&b, s->behave.pending_peak);
        vg_bputs(&b, " requests held at once; ");
        put_num(&b, s->behave.expired);
        vg_bputs(&b, " sources expired idle, ");
        put_num(&b, s->behave.evicted);
        vg_bputs(&b, " evicted at the cap.\n");
    }
    vg_bprintf(&b, "Rules: %zu (sha256 %.16s...). Geo: %s.\n%s\n",
                        s->rules, s->ruleset_hash ? s->ruleset_hash : "",
                        (s->geo && *s->geo) ? s->geo : "none", caveat_text());
    vg_status st = b.err;
    if (st == VG_OK && b.n && fwrite(b.p, 1, b.n, f) != b.n)
        st = VG_E_IO;
    vg_buf_fini(&b);
    return st;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void json_str(struct vg_buf *b, const char *s, size_t n)
{
    vg_bputc(b, '"');
    vg_bput_json(b, (const uint8_t *)s, n);
    vg_bputc(b, '"');
}

static void json_cstr(struct vg_buf *b, const char *s)
{
    json_str(b, s ? s : "", s ? strlen(s) : 0);
}

vg_status vg_summary_write_json(const vg_summary_t *s, FILE *f)
{
    static const char *status_names[] = {"ok", "skipped", "error"};
    struct vg_buf b;
    vg_buf_init(&b, 0);
    vg_bprintf(&b, "{\"vigil\":{\"version\":\"%s\",\"schema\":\"1\"},", vg_version());
    vg_bprintf(&b, "\"provenance\":{\"rules\":%zu,\"ruleset_sha256\":", s->rules);
    json_cstr(&b, s->ruleset_hash);
    vg_bputs(&b, ",\"geo\":");
    json_cstr(&b, s->geo);
    vg_bputs(&b, ",\"format\":");
    json_cstr(&b, s->format);
    vg_bprintf(&b,
                        "},\"totals\":{\"lines\":%" PRIu64 ",\"requests\":%" PRIu64
                        ",\"malformed\":%" PRIu64 ",\"oversize\":%" PRIu64
                        ",\"attack_requests\":%" PRIu64 ",\"sources\":%zu,\"skipped_files\":%" PRIu64
                        "},\"files\":[",
                        s->totals.lines, s->totals.requests, s->totals.malformed,
                        s->totals.oversize, s->totals.attack_requests, s->n_all,
                        s->totals.skipped_files);
    for (size_t i = 0; i < s->n_files; i++) {
        const struct vg_summary_file *fi = &s->files[i];
        vg_bputs(&b, i ? ",{\"path\":" : "{\"path\":");
        json_cstr(&b, fi->path);
        vg_bprintf(&b,
                            ",\"compression\":\"%s\",\"lines\":%" PRIu64 ",\"requests\":%" PRIu64
                            ",\"malformed\":%" PRIu64 ",\"oversize\":%" PRIu64
                            ",\"attack_requests\":%" PRIu64 ",\"status\":\"%s\","
                            "\"resumed_at_line\":%" PRIu64,
                            fi->compression, fi->lines, fi->requests, fi->malformed, fi->oversize,
                            fi->attacks, status_names[fi->status], fi->resumed_at_line);
        if (fi->format) {
            vg_bputs(&b, ",\"format\":");
            json_cstr(&b, fi->format);
        }
        if (fi->error) {
            vg_bputs(&b, ",\"error\":");
            json_cstr(&b, fi->error);
        }
        vg_bputc(&b, '}');
    }
    vg_bputs(&b, "],\"malformed_samples\":[");
    for (size_t i = 0; i < s->n_samples; i++) {
        const struct vg_sample *e = &s->samples[i];
        vg_bputs(&b, i ? ",{\"file\":" : "{\"file\":");
        json_cstr(&b, sample_file(s, e->file_idx));
        vg_bprintf(&b, ",\"line\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"reason\":",
                            e->line_no, e->offset);
        json_cstr(&b, e->reason);
        vg_bputs(&b, ",\"text\":");
        json_str(&b, (const char *)e->text.p, e->text.n);
        vg_bputc(&b, '}');
    }
    vg_bputs(&b, "],\"months\":[");
    size_t row_cap;
    struct vg_row *rows = rows_for(s, &row_cap);
    if (!rows) {
        vg_buf_fini(&b);
        return VG_E_NOMEM;
    }
    for (size_t mi = 0; mi < s->n_months; mi++) {
        const struct vg_month *m = s->months[mi];
        char mk[16];
        vg_month_format(m->key, mk);
        vg_bprintf(&b,
                            "%s{\"month\":\"%s\",\"requests\":%" PRIu64 ",\"malformed\":%" PRIu64
                            ",\"attack_requests\":%" PRIu64 ",\"sources\":%zu,\"classes\":[",
                            mi ? "," : "", mk, m->requests, m->malformed, m->attacks, m->n_src);
        int first = 1;
        for (int c = 0; c < VG_CLASS_COUNT; c++) {
            if (!m->class_attacks[c])
                continue;
            vg_bprintf(&b,
                                "%s{\"class\":\"%s\",\"attack_requests\":%" PRIu64
                                ",\"sources\":%" PRIu64 "}",
                                first ? "" : ",", vg_class_name((enum vg_class)c),
                                m->class_attacks[c], class_sources(m, c));
            first = 0;
        }
        vg_bputs(&b, "],\"countries\":[");
        size_t n = month_countries(m, rows, row_cap);
        for (size_t i = 0; i < n; i++)
            vg_bprintf(&b,
                                "%s{\"country\":\"%s\",\"attack_requests\":%" PRIu64
                                ",\"sources\":%" PRIu64 "}",
                                i ? "," : "", strcmp(rows[i].key, "??") ? rows[i].key : "",
                                rows[i].a, rows[i].b);
        vg_bputs(&b, "],\"top_sources\":[");
        n = month_sources(m, rows);
        for (size_t i = 0; i < n && i < VG_TOP_SHOWN; i++) {
            const struct vg_source_stat *e = rows[i].ref;
            vg_bprintf(&b,
                                "%s{\"ip\":\"%s\",\"country\":\"%s\",\"attack_requests\":%" PRIu64
                                ",\"classes\":[",
                                i ? "," : "", rows[i].key, e->country, rows[i].a);
            first = 1;
            for (int c = 0; c < VG_CLASS_COUNT; c++)
                if (e->classes & (1u << c)) {
                    vg_bprintf(&b, "%s\"%s\"", first ? "" : ",",
                                        vg_class_name((enum vg_class)c));
                    first = 0;
                }
            vg_bputs(&b, "]}");
        }
        vg_bputs(&b, "],\"top_paths\":[");
        n = month_paths(m, rows);
        for (size_t i = 0; i < n && i < VG_TOP_SHOWN; i++) {
            vg_bputs(&b, i ? ",{\"path\":" : "{\"path\":");
            json_str(&b, rows[i].key, rows[i].key_len);
            vg_bprintf(&b, ",\"attack_requests\":%" PRIu64 "}", rows[i].a);
        }
        vg_bputs(&b, "]}");
    }
    vg_free(rows);
    vg_bputs(&b, "]");
    if (s->has_behave)
        vg_bprintf(&b, ",\"behaviour\":{\"incidents_opened\":%" PRIu64
                            ",\"sources_peak\":%" PRIu64 ",\"pending_peak\":%" PRIu64
                            ",\"sources_expired\":%" PRIu64 ",\"sources_evicted\":%" PRIu64
                            ",\"pending_forced\":%" PRIu64 "}",
                            s->behave.incidents, s->behave.sources_peak, s->behave.pending_peak,
                            s->behave.expired, s->behave.evicted, s->behave.forced);
    vg_bputs(&b, ",\"caveat\":");
    json_cstr(&b, caveat_text());
    vg_bputs(&b, "}\n");
    vg_status st = b.err;
    if (st == VG_OK && fwrite(b.p, 1, b.n, f) != b.n)
        st = VG_E_IO;
    vg_buf_fini(&b);
    return st;
}
