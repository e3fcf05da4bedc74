/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attrib_asn.c: AS number and organisation of a client address, from ip-location-db's ASN ranges
 * (npm @ip-location-db/asn, CC BY 4.0: RouteViews, the five RIRs and DB-IP).
 *
 * The CSVs (about 0.5 million ranges, 30 MB of text) are compiled once into a compact binary
 * file beside them ("asn.vgasn"): a header, the IPv4 ranges (16 bytes each), the IPv6 ranges
 * (40 bytes each), both sorted by start and without overlaps, and a pool of NUL-terminated
 * organisation names (each distinct name once). Opening maps the file read-only and checks it
 * completely (sizes, offsets, order, a checksum over the body); a lookup is one binary search.
 * The cache is rebuilt whenever the CSVs (names, sizes, modification times) or the package
 * version file beside them change.
 *
 * Security note: the compiled file is data like any other: a damaged or crafted one is
 * rejected by the checks above and rebuilt from the CSVs, never followed blindly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "attrib/attrib_int.h"

#define VG_ASN_VERSION 1u
#define VG_ASN_ENDIAN 0x01020304u
#define VG_ASN_MAX_CSV 8
#define VG_ASN_MAX_RANGES (64u * 1024 * 1024)
#define VG_ASN_MAX_ORG 256 /* longer organisation names are cut (at a UTF-8 boundary) */
#define VG_ASN_VERSION_FILE "ASN_VERSION"

static const char vg_asn_magic[8] = {'V', 'G', 'A', 'S', 'N', 0, 0, 1};

struct asn_hdr {
    char magic[8];
    uint32_t version;
    uint32_t endian;
    uint64_t n4, n6, pool;
    uint64_t source_sig; /* identity of the CSVs it was built from */
    uint64_t body_hash;  /* vg_hash64 over everything after the header */
    uint32_t prov_off;   /* provenance text, in the pool */
    uint32_t reserved[9];
};
_Static_assert(sizeof(struct asn_hdr) == 96, "header layout");

struct asn_v4 {
    uint32_t start, end, asn, org;
};
struct asn_v6 {
    uint8_t start[16], end[16];
    uint32_t asn, org;
};
_Static_assert(sizeof(struct asn_v4) == 16 && sizeof(struct asn_v6) == 40, "range layout");

struct vg_asn {
    const uint8_t *base; /* the whole compiled image */
    size_t size;
    bool mapped;         /* base is an mmap (else vg_malloc'd) */
    const struct asn_v4 *v4;
    const struct asn_v6 *v6;
    size_t n4, n6;
    const char *pool;
    size_t pool_size;
    char provenance[256];
};

/* ---- helpers ----------------------------------------------------------------------------- */

static uint32_t v4_of(const struct vg_addr *a)
{
    return (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 |
           a->b[15];
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Directory part of p ("." when none) into out. */
static void dir_name(const char *p, char *out, size_t cap)
{
    const char *s = strrchr(p, '/');
    if (!s)
        snprintf(out, cap, ".");
    else if (s == p)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(s - p), p);
}

/* Reads a small text file (the package version) into out; "" when missing. */
static void read_small(const char *path, char *out, size_t cap)
{
    out[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = 0;
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        out[--n] = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
            out[i] = '?';
}

/*
 * Identity of the inputs: base names, sizes and modification times of the CSVs and the
 * package version text. Performance note: no content hash (30 MB); a changed CSV changes its
 * size or mtime in practice, and `touch` forces a rebuild.
 */
static vg_status source_signature(const char *const *paths, size_t n, const char *version,
                                  uint64_t *sig, struct vg_error *err)
{
    uint64_t h = vg_hash64(version, strlen(version), 0x5a);
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) != 0)
            return vg_error_set(err, VG_E_GEO, paths[i], 0, "%s: %s", paths[i], strerror(errno));
        const char *b = base_name(paths[i]);
        int64_t v[3] = {(int64_t)sb.st_size, (int64_t)sb.st_mtim.tv_sec,
                        (int64_t)sb.st_mtim.tv_nsec};
        h = vg_hash64(b, strlen(b), h);
        h = vg_hash64(v, sizeof v, h);
    }
    *sig = h;
    return VG_OK;
}

/* "ip-location-db asn 2.3.2026061719 (built 2026-06-17)" from "@ip-location-db/asn@2.3..." */
static void provenance_text(const char *version, const char *first_csv, char *out, size_t cap)
{
    const char *at = strrchr(version, '@');
    const char *ver = at ? at + 1 : version;
    const char *dot = strrchr(ver, '.');
    const char *d = dot ? dot + 1 : ver;
    size_t dl = strlen(d);
    bool dated = dl >= 8;
    for (size_t i = 0; dated && i < 8; i++)
        dated = d[i] >= '0' && d[i] <= '9';
    if (*version && dated) {
        snprintf(out, cap, "ip-location-db asn %.64s (built %.4s-%.2s-%.2s)", ver, d, d + 4,
                 d + 6);
        return;
    }
    struct stat sb;
    char date[24] = "unknown date";
    if (stat(first_csv, &sb) == 0) {
        vg_time_format_iso((int64_t)sb.st_mtim.tv_sec, date);
        date[10] = 0;
    }
    if (*version)
        snprintf(out, cap, "%.64s (%.64s, file of %s)", version, base_name(first_csv), date);
    else
        snprintf(out, cap, "%.64s (file of %s)", base_name(first_csv), date);
}

/* ---- loading a compiled image ------------------------------------------------------------ */

/* Checks a compiled image completely and points db's views into it. */
static bool image_check(struct vg_asn *db, const uint8_t *p, size_t size, uint64_t want_sig,
                        bool check_sig)
{
    struct asn_hdr h;
    if (size < sizeof h)
        return false;
    memcpy(&h, p, sizeof h);
    if (memcmp(h.magic, vg_asn_magic, 8) != 0 || h.version != VG_ASN_VERSION ||
        h.endian != VG_ASN_ENDIAN)
        return false;
    if (check_sig && h.source_sig != want_sig)
        return false;
    if (h.n4 > VG_ASN_MAX_RANGES || h.n6 > VG_ASN_MAX_RANGES || h.pool == 0 ||
        h.pool > (uint64_t)UINT32_MAX)
        return false;
    uint64_t need = sizeof h + h.n4 * sizeof(struct asn_v4) + h.n6 * sizeof(struct asn_v6) + h.pool;
    if (need != size)
        return false;
    if (vg_hash64(p + sizeof h, size - sizeof h, 0x41534e) != h.body_hash)
        return false;
    const struct asn_v4 *v4 = (const struct asn_v4 *)(p + sizeof h);
    const struct asn_v6 *v6 = (const struct asn_v6 *)(v4 + h.n4);
    const char *pool = (const char *)(v6 + h.n6);
    if (pool[h.pool - 1] != 0 || h.prov_off >= h.pool)
        return false;
    for (uint64_t i = 0; i < h.n4; i++) {
        if (v4[i].start > v4[i].end || v4[i].org >= h.pool)
            return false;
        if (i && v4[i].start <= v4[i - 1].end)
            return false;
    }
    for (uint64_t i = 0; i < h.n6; i++) {
        if (memcmp(v6[i].start, v6[i].end, 16) > 0 || v6[i].org >= h.pool)
            return false;
        if (i && memcmp(v6[i].start, v6[i - 1].end, 16) <= 0)
            return false;
    }
    db->base = p;
    db->size = size;
    db->v4 = v4;
    db->n4 = (size_t)h.n4;
    db->v6 = v6;
    db->n6 = (size_t)h.n6;
    db->pool = pool;
    db->pool_size = (size_t)h.pool;
    snprintf(db->provenance, sizeof db->provenance, "%s", pool + h.prov_off);
    return true;
}

/* Maps path and checks it; false (nothing kept) when missing or invalid. */
static bool image_map(struct vg_asn *db, const char *path, uint64_t want_sig, bool check_sig)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < (off_t)sizeof(struct asn_hdr)) {
        close(fd);
        return false;
    }
    size_t size = (size_t)sb.st_size;
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return false;
    if (!image_check(db, m, size, want_sig, check_sig)) {
        munmap(m, size);
        return false;
    }
    db->mapped = true;
    return true;
}

/* ---- compiling CSVs ---------------------------------------------------------------------- */

struct org_map {
    uint32_t *slots; /* pool offset + 1; 0 = empty */
    size_t cap, n;
};

struct compile_ctx {
    struct asn_v4 *v4;
    size_t n4, cap4;
    struct asn_v6 *v6;
    size_t n6, cap6;
    struct vg_buf pool;
    struct org_map orgs;
};

static vg_status org_intern(struct compile_ctx *c, const char *s, size_t n, uint32_t *off)
{
    struct org_map *m = &c->orgs;
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4096;
        uint32_t *slots = vg_calloc(cap, sizeof *slots);
        if (!slots)
            return VG_E_NOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i])
                continue;
            const char *t = (const char *)c->pool.p + m->slots[i] - 1;
            size_t h = (size_t)vg_hash64(t, strlen(t), 3) & (cap - 1);
            while (slots[h])
                h = (h + 1) & (cap - 1);
            slots[h] = m->slots[i];
        }
        vg_free(m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    size_t h = (size_t)vg_hash64(s, n, 3) & (m->cap - 1);
    while (m->slots[h]) {
        const char *t = (const char *)c->pool.p + m->slots[h] - 1;
        if (strlen(t) == n && memcmp(t, s, n) == 0) {
            *off = m->slots[h] - 1;
            return VG_OK;
        }
        h = (h + 1) & (m->cap - 1);
    }
    if (c->pool.n + n + 1 >= UINT32_MAX)
        return VG_E_LIMIT;
    uint32_t o = (uint32_t)c->pool.n;
    vg_status st = vg_buf_add(&c->pool, s, n);
    if (st == VG_OK)
        st = vg_buf_addc(&c->pool, 0);
    if (st != VG_OK)
        return st;
    m->slots[h] = o + 1;
    m->n++;
    *off = o;
    return VG_OK;
}

/*
 * Splits one CSV record (RFC 4180 quoting: "a ""b""" is a "b") into at most 4 fields, written
 * into out as NUL-separated copies. Returns the number of fields, or -1 on bad quoting.
 */
static int csv_fields(const uint8_t *p, size_t n, char out[4][VG_ASN_MAX_ORG + 1])
{
    int f = 0;
    size_t i = 0;
    while (f < 4) {
        size_t o = 0;
        if (i < n && p[i] == '"') {
            i++;
            for (;;) {
                if (i >= n)
                    return -1;
                if (p[i] == '"') {
                    if (i + 1 < n && p[i + 1] == '"') {
                        if (o < VG_ASN_MAX_ORG)
                            out[f][o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (o < VG_ASN_MAX_ORG)
                    out[f][o++] = (char)p[i];
                i++;
            }
            if (i < n && p[i] != ',')
                return -1;
        } else {
            while (i < n && p[i] != ',') {
                if (o < VG_ASN_MAX_ORG)
                    out[f][o++] = (char)p[i];
                i++;
            }
        }
        out[f][o] = 0;
        f++;
        if (i >= n)
            break;
        i++; /* the comma */
        if (f == 3) {
            /* The organisation is the rest of the line (an unquoted one may hold commas). */
            size_t o2 = 0;
            if (i < n && p[i] == '"')
                continue;
            while (i < n && o2 < VG_ASN_MAX_ORG)
                out[f][o2++] = (char)p[i++];
            out[f][o2] = 0;
            f++;
            break;
        }
    }
    return f;
}

/* Cuts s to a valid UTF-8 prefix and replaces control bytes, so the pool is clean text. */
static size_t clean_org(char *s)
{
    size_t n = strlen(s), o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = vg_utf8_seq_len((const uint8_t *)s + i, n - i);
        if (l == 0) {
            s[o++] = '?';
            i++;
            continue;
        }
        if (l == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)) {
            s[o++] = ' ';
            i++;
            continue;
        }
        memmove(s + o, s + i, l);
        o += l;
        i += l;
    }
    s[o] = 0;
    return o;
}

static vg_status add_range(struct compile_ctx *c, const struct vg_addr *s, const struct vg_addr *e,
                           uint32_t asn, uint32_t org)
{
    if (vg_addr_is_v4(s)) {
        if (c->n4 == VG_ASN_MAX_RANGES)
            return VG_E_LIMIT;
        if (c->n4 == c->cap4) {
            size_t cap = c->cap4 ? c->cap4 * 2 : 65536;
            void *p = vg_realloc(c->v4, cap * sizeof *c->v4);
            if (!p)
                return VG_E_NOMEM;
            c->v4 = p;
            c->cap4 = cap;
        }
        c->v4[c->n4++] = (struct asn_v4){v4_of(s), v4_of(e), asn, org};
    } else {
        if (c->n6 == VG_ASN_MAX_RANGES)
            return VG_E_LIMIT;
        if (c->n6 == c->cap6) {
            size_t cap = c->cap6 ? c->cap6 * 2 : 16384;
            void *p = vg_realloc(c->v6, cap * sizeof *c->v6);
            if (!p)
                return VG_E_NOMEM;
            c->v6 = p;
            c->cap6 = cap;
        }
        struct asn_v6 *r = &c->v6[c->n6++];
        memcpy(r->start, s->b, 16);
        memcpy(r->end, e->b, 16);
        r->asn = asn;
        r->org = org;
    }
    return VG_OK;
}

/* Parses one line of a CSV; a blank line, or a header as the first line, is skipped. */
static vg_status parse_line(struct compile_ctx *c, const uint8_t *p, size_t n, const char *path,
                            size_t line_no, struct vg_error *err)
{
    while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
        n--;
    if (n == 0)
        return VG_OK;
    char f[4][VG_ASN_MAX_ORG + 1];
    int nf = csv_fields(p, n, f);
    if (nf < 3)
        return vg_error_set(err, VG_E_GEO, path, line_no,
                            "%s:%zu: expected ip_range_start,ip_range_end,asn,organization", path,
                            line_no);
    struct vg_addr s, e;
    bool ok_s = vg_addr_parse((const uint8_t *)f[0], strlen(f[0]), &s);
    bool ok_e = vg_addr_parse((const uint8_t *)f[1], strlen(f[1]), &e);
    if (!ok_s || !ok_e) {
        bool numeric = f[0][0] != 0 && strspn(f[0], "0123456789") == strlen(f[0]);
        if (line_no == 1 && !ok_s && strspn(f[0], "0123456789abcdefABCDEF.:") != strlen(f[0]))
            return VG_OK; /* a header line ("ip_range_start,...") */
        return vg_error_set(err, VG_E_GEO, path, line_no, "%s:%zu: %s", path, line_no,
                            numeric ? "numeric ranges (the *-num.csv files) are not supported: "
                                      "use asn-ipv4.csv / asn-ipv6.csv"
                                    : "not an IPv4 or IPv6 address range");
    }
    if (vg_addr_is_v4(&s) != vg_addr_is_v4(&e) || memcmp(s.b, e.b, 16) > 0)
        return vg_error_set(err, VG_E_GEO, path, line_no,
                            "%s:%zu: the range's end is before its start or in another family",
                            path, line_no);
    uint64_t asn = 0;
    size_t al = strlen(f[2]);
    const char *a = f[2];
    if (al > 2 && (a[0] == 'A' || a[0] == 'a') && (a[1] == 'S' || a[1] == 's')) {
        a += 2;
        al -= 2;
    }
    if (al == 0 || al > 10)
        return vg_error_set(err, VG_E_GEO, path, line_no, "%s:%zu: bad AS number", path, line_no);
    for (size_t i = 0; i < al; i++) {
        if (a[i] < '0' || a[i] > '9')
            return vg_error_set(err, VG_E_GEO, path, line_no, "%s:%zu: bad AS number", path,
                                line_no);
        asn = asn * 10 + (uint64_t)(a[i] - '0');
    }
    if (asn > UINT32_MAX)
        return vg_error_set(err, VG_E_GEO, path, line_no, "%s:%zu: AS number over 2^32-1", path,
                            line_no);
    const char *org = "";
    size_t on = 0;
    if (nf >= 4) {
        on = clean_org(f[3]);
        org = f[3];
    }
    uint32_t off;
    vg_status st = org_intern(c, org, on, &off);
    if (st == VG_OK)
        st = add_range(c, &s, &e, (uint32_t)asn, off);
    if (st != VG_OK)
        return vg_error_set(err, st, path, line_no, "%s:%zu: %s", path, line_no, vg_strerror(st));
    return VG_OK;
}

static vg_status parse_csv(struct compile_ctx *c, const char *path, struct vg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_error_set(err, VG_E_GEO, path, 0, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 20, len = 0, line_no = 0;
    uint8_t *buf = vg_malloc(cap);
    if (!buf) {
        fclose(f);
        return VG_E_NOMEM;
    }
    vg_status st = VG_OK;
    for (;;) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        bool eof = got == 0;
        size_t start = 0;
        for (;;) {
            uint8_t *nl = memchr(buf + start, '\n', len - start);
            if (!nl && !(eof && start < len))
                break;
            size_t end = nl ? (size_t)(nl - buf) : len;
            line_no++;
            st = parse_line(c, buf + start, end - start, path, line_no, err);
            if (st != VG_OK)
                break;
            start = nl ? end + 1 : len;
        }
        if (st != VG_OK || eof)
            break;
        memmove(buf, buf + start, len - start);
        len -= start;
        if (len == cap) {
            st = vg_error_set(err, VG_E_GEO, path, line_no + 1, "%s:%zu: line too long", path,
                              line_no + 1);
            break;
        }
    }
    if (st == VG_OK && ferror(f))
        st = vg_error_set(err, VG_E_GEO, path, 0, "%s: %s", path, strerror(errno));
    vg_free(buf);
    fclose(f);
    return st;
}

static int cmp_v4(const void *x, const void *y)
{
    const struct asn_v4 *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->end < b->end ? -1 : a->end > b->end;
}

static int cmp_v6(const void *x, const void *y)
{
    const struct asn_v6 *a = x, *b = y;
    int c = memcmp(a->start, b->start, 16);
    return c ? c : memcmp(a->end, b->end, 16);
}

/* Sorts and drops ranges that overlap an earlier one (first one wins, as in the CSV order). */
static void normalize(struct compile_ctx *c)
{
    if (c->n4) {
        qsort(c->v4, c->n4, sizeof *c->v4, cmp_v4);
        size_t o = 1;
        for (size_t i = 1; i < c->n4; i++)
            if (c->v4[i].start > c->v4[o - 1].end)
                c->v4[o++] = c->v4[i];
        c->n4 = o;
    }
    if (c->n6) {
        qsort(c->v6, c->n6, sizeof *c->v6, cmp_v6);
        size_t o = 1;
        for (size_t i = 1; i < c->n6; i++)
            if (memcmp(c->v6[i].start, c->v6[o - 1].end, 16) > 0)
                c->v6[o++] = c->v6[i];
        c->n6 = o;
    }
}

/* Builds the compiled image in memory (caller frees with vg_free). */
static vg_status build_image(struct compile_ctx *c, uint64_t sig, const char *prov, uint8_t **out,
                             size_t *out_size)
{
    uint32_t prov_off;
    vg_status st = org_intern(c, prov, strlen(prov), &prov_off);
    if (st != VG_OK)
        return st;
    struct asn_hdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, vg_asn_magic, 8);
    h.version = VG_ASN_VERSION;
    h.endian = VG_ASN_ENDIAN;
    h.n4 = c->n4;
    h.n6 = c->n6;
    h.pool = c->pool.n;
    h.source_sig = sig;
    h.prov_off = prov_off;
    size_t size = sizeof h + c->n4 * sizeof *c->v4 + c->n6 * sizeof *c->v6 + c->pool.n;
    uint8_t *img = vg_malloc(size);
    if (!img)
        return VG_E_NOMEM;
    uint8_t *p = img + sizeof h;
    if (c->n4)
        memcpy(p, c->v4, c->n4 * sizeof *c->v4);
    p += c->n4 * sizeof *c->v4;
    if (c->n6)
        memcpy(p, c->v6, c->n6 * sizeof *c->v6);
    p += c->n6 * sizeof *c->v6;
    memcpy(p, c->pool.p, c->pool.n);
    h.body_hash = vg_hash64(img + sizeof h, size - sizeof h, 0x41534e);
    memcpy(img, &h, sizeof h);
    *out = img;
    *out_size = size;
    return VG_OK;
}

/* Writes the image next to the CSVs: temporary file, then rename (readers never see half). */
static bool write_cache(const char *path, const uint8_t *img, size_t size)
{
    char tmp[PATH_MAX + 32];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return false;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, img + done, size - done);
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return false;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return false;
    }
    return true;
}

/* ---- public ------------------------------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

vg_status vg_asn_open(const char *const *paths, size_t n, const char *cache_path,
                      struct vg_asn **out, struct vg_error *err)
{
    *out = NULL;
    if (n == 0 || n > VG_ASN_MAX_CSV)
        return vg_error_set(err, VG_E_INVAL, "--asn", 0, "give 1 to %d ASN files", VG_ASN_MAX_CSV);
    struct vg_asn *db = vg_calloc(1, sizeof *db);
    if (!db)
        return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    /* A compiled file given directly. */
    if (n == 1 && ends_with(paths[0], ".vgasn")) {
        if (!image_map(db, paths[0], 0, false)) {
            vg_free(db);
            return vg_error_set(err, VG_E_GEO, paths[0], 0,
                                "%s: not a valid compiled ASN file (rebuild it from the CSVs)",
                                paths[0]);
        }
        *out = db;
        return VG_OK;
    }
    char dir[PATH_MAX], version_path[PATH_MAX + 32], version[128], cache[PATH_MAX + 32];
    dir_name(paths[0], dir, sizeof dir);
    snprintf(version_path, sizeof version_path, "%s/%s", dir, VG_ASN_VERSION_FILE);
    read_small(version_path, version, sizeof version);
    if (cache_path)
        snprintf(cache, sizeof cache, "%s", cache_path);
    else
        snprintf(cache, sizeof cache, "%s/asn.vgasn", dir);
    uint64_t sig = 0;
    vg_status st = source_signature(paths, n, version, &sig, err);
    if (st != VG_OK) {
        vg_free(db);
        return st;
    }
    if (image_map(db, cache, sig, true)) {
        *out = db;
        return VG_OK;
    }
    struct compile_ctx c;
    memset(&c, 0, sizeof c);
    vg_buf_init(&c.pool, (size_t)UINT32_MAX - 1);
    for (size_t i = 0; i < n && st == VG_OK; i++)
        st = parse_csv(&c, paths[i], err);
    uint8_t *img = NULL;
    size_t size = 0;
    if (st == VG_OK) {
        normalize(&c);
        char prov[256];
        provenance_text(version, paths[0], prov, sizeof prov);
        st = build_image(&c, sig, prov, &img, &size);
        if (st != VG_OK)
            vg_error_set(err, st, NULL, 0, "compiling the ASN ranges: %s", vg_strerror(st));
    }
    vg_free(c.v4);
    vg_free(c.v6);
    vg_free(c.orgs.slots);
    vg_buf_fini(&c.pool);
    if (st != VG_OK) {
        vg_free(db);
        return st;
    }
    /* Prefer the mapped file (shared between processes); keep the image in memory when the
       directory is read-only. */
    if (write_cache(cache, img, size) && image_map(db, cache, sig, true)) {
        vg_free(img);
        *out = db;
        return VG_OK;
    }
    if (!image_check(db, img, size, sig, true)) {
        vg_free(img);
        vg_free(db);
        return vg_error_set(err, VG_E_INTERNAL, NULL, 0, "compiled ASN table failed its check");
    }
    db->mapped = false;
    *out = db;
    return VG_OK;
}

void vg_asn_free(struct vg_asn *db)
{
    if (!db)
        return;
    if (db->mapped)
        munmap((void *)db->base, db->size);
    else
        vg_free((void *)db->base);
    vg_free(db);
}

const char *vg_asn_provenance(const struct vg_asn *db)
{
    return db ? db->provenance : "";
}

void vg_asn_counts(const struct vg_asn *db, size_t *v4, size_t *v6)
{
    *v4 = db ? db->n4 : 0;
    *v6 = db ? db->n6 : 0;
}

bool vg_asn_lookup(const struct vg_asn *db, const struct vg_addr *a, uint32_t *asn,
                   const char **org)
{
    *asn = 0;
    *org = "";
    if (!db)
        return false;
    uint32_t found_asn = 0, found_org = 0;
    bool hit = false;
    if (vg_addr_is_v4(a)) {
        uint32_t x = v4_of(a);
        size_t lo = 0, hi = db->n4;
        while (lo < hi) { /* first range with start > x */
            size_t mid = lo + (hi - lo) / 2;
            if (db->v4[mid].start <= x)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo && x <= db->v4[lo - 1].end) {
            hit = true;
            found_asn = db->v4[lo - 1].asn;
            found_org = db->v4[lo - 1].org;
        }
    } else {
        size_t lo = 0, hi = db->n6;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (memcmp(db->v6[mid].start, a->b, 16) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo && memcmp(a->b, db->v6[lo - 1].end, 16) <= 0) {
            hit = true;
            found_asn = db->v6[lo - 1].asn;
            found_org = db->v6[lo - 1].org;
        }
    }
    if (!hit)
        return false;
    *asn = found_asn;
    *org = db->pool + found_org;
    return true;
}

size_t vg_asn_default_paths(char **out, size_t cap)
{
    size_t n = 0;
    const char *env = getenv("VIGIL_ASN");
    if (env && *env) {
        const char *p = env;
        while (*p && n < cap) {
            const char *e = strchr(p, ':');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if (len) {
                char *s = vg_strndup(p, len);
                if (s)
                    out[n++] = s;
            }
            if (!e)
                break;
            p = e + 1;
        }
        return n;
    }
    char dir[PATH_MAX + 64];
    if (!vg_attrib_find_data_dir("asn-ipv4.csv", dir, sizeof dir))
        return 0;
    static const char *const names[] = {"asn-ipv4.csv", "asn-ipv6.csv"};
    for (size_t i = 0; i < VG_ARRAY_LEN(names) && n < cap; i++) {
        char path[PATH_MAX + 96];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (access(path, R_OK) != 0)
            continue;
        char *s = vg_strdup(path);
        if (s)
            out[n++] = s;
    }
    return n;
}
