/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_html.c: HTML character references (&#60; &#x3c; &lt; ...) for the decode stage.
 *
 * Pipeline position: run by the QUERY and HEADER chains (decode_chain.c) after percent decoding,
 * so that "%26lt%3B" and "&lt;" both reach detect/ as '<'.
 *
 * Invariants: one pass (the output of a reference is never decoded again: "&amp;lt;" gives
 * "&lt;"); a reference's UTF-8 is never longer than the reference, so out never needs more than
 * n bytes (the named table is generated with that check, see decode_html_gen.py).
 */
#include "decode/decode.h"
#include "decode/decode_html_table.h"
#include "decode/decode_int.h"

static bool is_alnum(uint8_t c)
{
    return (unsigned)(c - '0') < 10u || (unsigned)((c | 0x20) - 'a') < 26u;
}

/* Bytewise comparison of a (len bytes) with the NUL-terminated table name b. */
static int name_cmp(const uint8_t *a, size_t len, const char *b)
{
    for (size_t k = 0; k < len; k++) {
        uint8_t c = (uint8_t)b[k];
        if (c == 0)
            return 1; /* b is a proper prefix of a */
        if (a[k] != c)
            return a[k] < c ? -1 : 1;
    }
    return b[len] == 0 ? 0 : -1;
}

/*
 * Finds a name in the generated table (sorted bytewise; case-sensitive, as HTML is).
 * Performance note: vg_html_first narrows the search to the names with the same first byte
 * (at most a few dozen), then a binary search runs over those.
 */
static const struct vg_html_entity *entity_find(const uint8_t *name, size_t len)
{
    if (name[0] >= 128)
        return NULL;
    size_t lo = vg_html_first[name[0]], hi = vg_html_first[name[0] + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct vg_html_entity *e = &vg_html_entities[mid];
        int c = name_cmp(name, len, e->name);
        if (c == 0)
            return e;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* &#DDD / &#xHHH, ';' optional. Code point 0, surrogates and > U+10FFFF become U+FFFD. */
static size_t numeric_ref_at(const uint8_t *s, size_t len, uint8_t utf8[4], size_t *utf8_len)
{
    size_t j = 2; /* s[0] == '&', s[1] == '#' */
    unsigned base = 10;
    if (j < len && (s[j] | 0x20) == 'x') {
        base = 16;
        j++;
    }
    size_t start = j;
    uint32_t v = 0;
    while (j < len) {
        int d = base == 16 ? vg_hexval(s[j]) : ((unsigned)(s[j] - '0') < 10u ? s[j] - '0' : -1);
        if (d < 0)
            break;
        /* Security note: clamp instead of overflowing; any number of leading zeros is fine. */
        v = v * base + (uint32_t)d;
        if (v > 0x10FFFF)
            v = 0x110000;
        j++;
    }
    if (j == start)
        return 0;
    if (j < len && s[j] == ';')
        j++;
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        v = 0xFFFD;
    size_t u = vg_utf8_put(utf8, v);
    /* "&#N" is 3 bytes for N <= 9 (1 byte out), U+FFFD's 3 bytes need "&#0" or longer, and
       every larger code point needs more digits than UTF-8 bytes. */
    if (VG_NEVER(u > j))
        return 0;
    *utf8_len = u;
    return j;
}

size_t vg_html_ref_at(const uint8_t *s, size_t len, uint8_t utf8[4], size_t *utf8_len)
{
    if (len < 2)
        return 0;
    if (s[1] == '#')
        return numeric_ref_at(s, len, utf8, utf8_len);
    size_t j = 1;
    while (j < len && j <= VG_HTML_NAME_MAX + 1 && is_alnum(s[j]))
        j++;
    size_t name_len = j - 1;
    if (name_len == 0 || name_len > VG_HTML_NAME_MAX)
        return 0;
    bool semi = j < len && s[j] == ';';
    /* Without ';', a name followed by '=' is not a reference (HTML's rule for attribute values,
       which also keeps query parameters such as "&lt=5" or "&copy=1" intact). */
    if (!semi && j < len && s[j] == '=')
        return 0;
    const struct vg_html_entity *e = entity_find(s + 1, name_len);
    if (!e)
        return 0;
    memcpy(utf8, e->utf8, e->utf8_len);
    *utf8_len = e->utf8_len;
    return j + (semi ? 1 : 0);
}

/*
 * Decodes HTML character references: &#DDD; and &#xHHH; (either case of x, ';' optional, any
 * number of leading zeros; code point 0, surrogates and values above U+10FFFF, however long,
 * become U+FFFD) and the named references of decode_html_table.h (the HTML 4 set plus the HTML5
 * names for ASCII punctuation), case-sensitive, with ';' or without it, except that a name
 * without ';' followed by '=' is left alone. A name is the whole run of ASCII letters and digits
 * after '&' (no prefix matching: "&ltscript" stays as is). Anything else after '&' is copied.
 *
 * in, n: bytes. out: room for n bytes, must not alias in. flags: VG_DEC_ENTITY when a reference
 * was decoded. Returns the length written. Performance note: '&' is found with memchr.
 */
size_t vg_decode_html_entities(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags)
{
    size_t i = 0, o = 0;
    bool changed = false;
    while (i < n) {
        const uint8_t *p = memchr(in + i, '&', n - i);
        size_t run = p ? (size_t)(p - (in + i)) : n - i;
        memcpy(out + o, in + i, run);
        o += run;
        i += run;
        if (!p)
            break;
        uint8_t u[4];
        size_t ulen = 0;
        size_t used = vg_html_ref_at(in + i, n - i, u, &ulen);
        if (used) {
            memcpy(out + o, u, ulen);
            o += ulen;
            i += used;
            changed = true;
        } else {
            out[o++] = '&';
            i++;
        }
    }
    if (changed)
        *flags |= VG_DEC_ENTITY;
    return o;
}
