/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attrib_labels.c: the user's labelled networks (--labels FILE): "CIDR label" lines such as
 * "185.220.100.0/22 tor-exit" or "2001:db8::/32 own-network", shown on every source in events
 * and reports.
 *
 * Layout: entries sorted by (prefix length, network); a lookup masks the address once per
 * distinct prefix length present and binary-searches that length's run, so it costs
 * O(lengths x log n) whatever the list size (a Tor exit list has thousands of /32s, a cloud
 * list thousands of shorter prefixes, and both use few distinct lengths).
 *
 * Security note: the file is user input: every line is length-checked, labels are restricted to
 * [A-Za-z0-9._:-] (they are printed in reports and JSON), and errors name the line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "attrib/attrib.h"

#define VG_LABEL_MAX 32
#define VG_LABELS_MAX_ENTRIES (16u * 1024 * 1024)
#define VG_LABELS_MAX_FILE ((size_t)512 * 1024 * 1024)

struct label_entry {
    struct vg_addr net;
    uint8_t len;     /* 0..128 over the 16-byte form */
    uint32_t label;  /* index into labels */
};

struct vg_labels {
    struct label_entry *e;
    size_t n, cap;
    char (*labels)[VG_LABEL_MAX + 1]; /* distinct label texts */
    size_t n_labels, cap_labels;
    uint8_t lengths[129]; /* distinct prefix lengths present, ascending */
    size_t n_lengths;
    size_t run_start[129], run_end[129]; /* entries of each length: [start, end) */
    char source[320];
};

void vg_labels_free(struct vg_labels *l)
{
    if (!l)
        return;
    vg_free(l->e);
    vg_free(l->labels);
    vg_free(l);
}

const char *vg_labels_source(const struct vg_labels *l)
{
    return l ? l->source : "";
}

static int entry_cmp(const void *x, const void *y)
{
    const struct label_entry *a = x, *b = y;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    int c = memcmp(a->net.b, b->net.b, 16);
    if (c)
        return c;
    return a->label < b->label ? -1 : a->label > b->label;
}

static bool label_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '-';
}

static vg_status label_index(struct vg_labels *l, const uint8_t *s, size_t n, uint32_t *out)
{
    for (size_t i = 0; i < l->n_labels; i++) {
        if (strlen(l->labels[i]) == n && memcmp(l->labels[i], s, n) == 0) {
            *out = (uint32_t)i;
            return VG_OK;
        }
    }
    if (l->n_labels == l->cap_labels) {
        size_t cap = l->cap_labels ? l->cap_labels * 2 : 16;
        void *p = vg_realloc(l->labels, cap * sizeof *l->labels);
        if (!p)
            return VG_E_NOMEM;
        l->labels = p;
        l->cap_labels = cap;
    }
    memcpy(l->labels[l->n_labels], s, n);
    l->labels[l->n_labels][n] = 0;
    *out = (uint32_t)l->n_labels++;
    return VG_OK;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

vg_status vg_labels_parse(const uint8_t *buf, size_t n, const char *source_name,
                          struct vg_labels **out, struct vg_error *err)
{
    *out = NULL;
    const char *name = source_name ? source_name : "labels";
    struct vg_labels *l = vg_calloc(1, sizeof *l);
    if (!l)
        return vg_error_set(err, VG_E_NOMEM, name, 0, "out of memory");
    const uint8_t *p = buf, *end = buf + n;
    size_t line_no = 0;
    vg_status st = VG_OK;
    while (p < end && st == VG_OK) {
        line_no++;
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        const uint8_t *hash = memchr(p, '#', (size_t)(le - p));
        const uint8_t *q = p, *e = hash ? hash : le;
        p = nl ? nl + 1 : end;
        while (q < e && is_space(*q))
            q++;
        while (e > q && is_space(e[-1]))
            e--;
        if (q == e)
            continue;
        const uint8_t *w1 = q;
        while (q < e && !is_space(*q))
            q++;
        size_t w1n = (size_t)(q - w1);
        while (q < e && is_space(*q))
            q++;
        const uint8_t *w2 = q;
        while (q < e && !is_space(*q))
            q++;
        size_t w2n = (size_t)(q - w2);
        while (q < e && is_space(*q))
            q++;
        if (w2n == 0 || q != e) {
            st = vg_error_set(err, VG_E_INVAL, name, line_no,
                              "%s:%zu: expected \"CIDR label\" (two words)", name, line_no);
            break;
        }
        struct label_entry ent;
        memset(&ent, 0, sizeof ent);
        unsigned len = 0;
        if (!vg_prefix_parse(w1, w1n, &ent.net, &len)) {
            st = vg_error_set(err, VG_E_INVAL, name, line_no,
                              "%s:%zu: not an address or network (address/length with no host "
                              "bits set)",
                              name, line_no);
            break;
        }
        ent.len = (uint8_t)len;
        bool ok = w2n <= VG_LABEL_MAX;
        for (size_t i = 0; ok && i < w2n; i++)
            ok = label_char(w2[i]);
        if (!ok) {
            st = vg_error_set(err, VG_E_INVAL, name, line_no,
                              "%s:%zu: a label is 1 to %d characters of A-Z a-z 0-9 . _ : -",
                              name, line_no, VG_LABEL_MAX);
            break;
        }
        st = label_index(l, w2, w2n, &ent.label);
        if (st != VG_OK)
            break;
        if (l->n == VG_LABELS_MAX_ENTRIES) {
            st = vg_error_set(err, VG_E_LIMIT, name, line_no, "%s: more than %u networks", name,
                              VG_LABELS_MAX_ENTRIES);
            break;
        }
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 64;
            void *np = vg_realloc(l->e, cap * sizeof *l->e);
            if (!np) {
                st = vg_error_set(err, VG_E_NOMEM, name, 0, "out of memory");
                break;
            }
            l->e = np;
            l->cap = cap;
        }
        l->e[l->n++] = ent;
    }
    if (st != VG_OK) {
        vg_labels_free(l);
        return st;
    }
    if (l->n)
        qsort(l->e, l->n, sizeof *l->e, entry_cmp);
    for (size_t i = 0; i < l->n;) {
        size_t j = i;
        while (j < l->n && l->e[j].len == l->e[i].len)
            j++;
        l->lengths[l->n_lengths] = l->e[i].len;
        l->run_start[l->n_lengths] = i;
        l->run_end[l->n_lengths] = j;
        l->n_lengths++;
        i = j;
    }
    snprintf(l->source, sizeof l->source, "%.256s (%zu network%s)", name, l->n,
             l->n == 1 ? "" : "s");
    *out = l;
    return VG_OK;
}

vg_status vg_labels_load(const char *path, struct vg_labels **out, struct vg_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    struct vg_buf b;
    vg_buf_init(&b, VG_LABELS_MAX_FILE);
    uint8_t tmp[65536];
    size_t got;
    vg_status st = VG_OK;
    while (st == VG_OK && (got = fread(tmp, 1, sizeof tmp, f)) > 0)
        st = vg_buf_add(&b, tmp, got);
    if (st == VG_OK && ferror(f))
        st = vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    else if (st != VG_OK)
        vg_error_set(err, st, path, 0, "%s: %s", path, vg_strerror(st));
    fclose(f);
    if (st == VG_OK)
        st = vg_labels_parse(b.p ? b.p : (const uint8_t *)"", b.n, path, out, err);
    vg_buf_fini(&b);
    return st;
}

static int label_name_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

size_t vg_labels_lookup(const struct vg_labels *l, const struct vg_addr *a, char *out, size_t cap)
{
    if (cap)
        out[0] = 0;
    if (!l || !l->n || cap == 0)
        return 0;
    const char *found[64];
    size_t nf = 0;
    for (size_t k = 0; k < l->n_lengths; k++) {
        unsigned len = l->lengths[k];
        /* Binary search for the first entry of this length whose network is >= a masked. */
        size_t lo = l->run_start[k], hi = l->run_end[k];
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            /* Compare the masked address with the entry's network: equal prefix means match. */
            const struct label_entry *e = &l->e[mid];
            int c = 0;
            unsigned full = len / 8, rest = len % 8;
            c = memcmp(e->net.b, a->b, full);
            if (c == 0 && rest) {
                uint8_t m = (uint8_t)(0xff << (8 - rest));
                uint8_t x = e->net.b[full] & m, y = a->b[full] & m;
                c = x < y ? -1 : x > y;
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo; i < l->run_end[k] && nf < VG_ARRAY_LEN(found); i++) {
            if (!vg_addr_in_prefix(a, &l->e[i].net, len))
                break;
            found[nf++] = l->labels[l->e[i].label];
        }
    }
    if (!nf)
        return 0;
    qsort(found, nf, sizeof *found, label_name_cmp);
    size_t used = 0, count = 0;
    for (size_t i = 0; i < nf; i++) {
        if (i && strcmp(found[i], found[i - 1]) == 0)
            continue;
        size_t ln = strlen(found[i]);
        size_t need = ln + (count ? 1 : 0);
        if (used + need + 1 > cap)
            break;
        if (count)
            out[used++] = ',';
        memcpy(out + used, found[i], ln);
        used += ln;
        out[used] = 0;
        count++;
    }
    return count;
}
