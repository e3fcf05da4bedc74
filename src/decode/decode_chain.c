/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_chain.c: the standard decoding chains (one per field kind), the fast pre-scan that
 * tells whether a chain would change anything, and the names of the decode flags.
 *
 * Pipeline position: the decode stage calls vg_decode_needed on every field a detector will
 * read and vg_decode_chain only on those that need it; detect/ then sees canonical bytes.
 *
 * Invariants: vg_decode_chain writes at most n bytes into out and uses tmp (n bytes) as its only
 * scratch (each step reads one buffer and writes the other: no allocation, no aliasing);
 * vg_decode_needed returning false guarantees that the chain returns its input unchanged (the
 * pre-scan uses the decoders' own "does an escape start here?" tests, see decode_int.h).
 */
#include "decode/decode.h"
#include "decode/decode_int.h"

/* Byte classes for the pre-scan (bits of vg_dec_class[b]). */
enum {
    CL_PCT = 1u << 0,  /* '%' */
    CL_BSL = 1u << 1,  /* '\\' */
    CL_NUL = 1u << 2,  /* 0x00 */
    CL_OVL = 1u << 3,  /* lead byte of an overlong form: C0 C1 E0 F0 F8 FC */
    CL_AMP = 1u << 4,  /* '&' */
    CL_PLUS = 1u << 5, /* '+' */
    CL_DOT = 1u << 6,  /* '.' (paths: a dot segment starts with one) */
};

static const uint8_t vg_dec_class[256] = {
    [0x00] = CL_NUL, ['%'] = CL_PCT,  ['\\'] = CL_BSL, ['&'] = CL_AMP,
    ['+'] = CL_PLUS, ['.'] = CL_DOT,  [0xC0] = CL_OVL, [0xC1] = CL_OVL,
    [0xE0] = CL_OVL, [0xF0] = CL_OVL, [0xF8] = CL_OVL, [0xFC] = CL_OVL,
};

/*
 * Does a "." or ".." segment start at in[j]? Callers pass j = 0 or j just after a '/' (a '\'
 * anywhere already makes a path need decoding).
 */
static bool dot_segment_at(const uint8_t *in, size_t j, size_t n)
{
    if (j >= n || in[j] != '.')
        return false;
    if (j + 1 == n || in[j + 1] == '/' || in[j + 1] == '\\')
        return true;
    if (in[j + 1] != '.')
        return false;
    return j + 2 == n || in[j + 2] == '/' || in[j + 2] == '\\';
}

/*
 * True when vg_decode_chain(kind, in, n, ...) could return something other than (in, n). False
 * is exact (the chain would copy the input and set no flag); true may be conservative: any '%'
 * answers true (a malformed escape changes nothing but sets VG_DEC_BADPCT).
 *
 * Which bytes count: every kind: '%', NUL, an undoable log escape (\" \\ \n \r \t \xHH), an
 * overlong UTF-8 form of ASCII. QUERY also: '+', and an HTML reference vg_decode_html_entities
 * would decode; HEADER: the HTML reference. PATH also: any '\', "//", and a "." or ".." segment
 * (at the start, between slashes or at the end).
 *
 * Performance note: one pass over a 256-entry class table, eight bytes at a time while none of
 * them has a class of this kind (nearly all bytes of nearly all values); only a byte of a class
 * gets a closer look. In paths, dot segments are found from their '.', and "//" with memmem.
 * Thread-safe, no allocation.
 */
bool vg_decode_needed(enum vg_decode_kind kind, const uint8_t *in, size_t n)
{
    unsigned mask;
    switch (kind) {
    case VG_DECODE_PATH:
        /* "//" is looked for apart: '/' is too frequent in paths for the class loop. */
        if (n >= 2 && memmem(in, n, "//", 2) != NULL)
            return true;
        mask = CL_PCT | CL_BSL | CL_NUL | CL_OVL | CL_DOT;
        break;
    case VG_DECODE_QUERY:
        mask = CL_PCT | CL_BSL | CL_NUL | CL_OVL | CL_AMP | CL_PLUS;
        break;
    case VG_DECODE_HEADER:
        mask = CL_PCT | CL_BSL | CL_NUL | CL_OVL | CL_AMP;
        break;
    default:
        return false; /* not a kind: vg_decode_chain copies the input */
    }
    const uint8_t *cl = vg_dec_class;
    size_t i = 0;
    while (i < n) {
        /* Skip 8 bytes at a time while none of them has a class of this kind. */
        while (i + 8 <= n) {
            const uint8_t *p = in + i;
            unsigned any = (unsigned)(cl[p[0]] | cl[p[1]] | cl[p[2]] | cl[p[3]] | cl[p[4]] |
                                      cl[p[5]] | cl[p[6]] | cl[p[7]]);
            if (any & mask)
                break;
            i += 8;
        }
        size_t end = n - i > 8 ? i + 8 : n;
        for (; i < end; i++) {
            unsigned c = cl[in[i]] & mask;
            if (VG_LIKELY(c == 0))
                continue;
            if (c & (CL_PCT | CL_NUL | CL_PLUS))
                return true;
            if (c & CL_DOT) {
                if ((i == 0 || in[i - 1] == '/') && dot_segment_at(in, i, n))
                    return true;
            } else if (c & CL_BSL) {
                uint8_t b;
                if (kind == VG_DECODE_PATH || vg_log_escape_at(in + i, n - i, &b))
                    return true;
            } else if (c & CL_OVL) {
                uint8_t a;
                if (vg_overlong_at(in + i, n - i, &a))
                    return true;
            } else if (c & CL_AMP) {
                uint8_t u[4];
                size_t ulen;
                if (vg_html_ref_at(in + i, n - i, u, &ulen))
                    return true;
            }
        }
    }
    return false;
}

static bool has_overlong(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t a;
        if (VG_UNLIKELY(p[i] >= 0xC0) && vg_overlong_at(p + i, n - i, &a))
            return true;
    }
    return false;
}

/*
 * Applies the chain of `kind`:
 *
 *   PATH:   log unescape -> %-decode x3 (no '+') -> overlong -> remove NULs -> normalize path
 *   QUERY:  log unescape -> %-decode x3, '+' is space in round 1 -> overlong -> HTML references
 *           -> remove NULs
 *   HEADER: log unescape -> %-decode x2 (no '+') -> overlong -> HTML references -> remove NULs
 *
 * Overlong folding runs after percent decoding because overlong bytes arrive percent-encoded
 * (%c0%ae); HTML references after both, so "%26lt;" is '<'. NULs are removed after every step
 * that can produce one (%00, \x00, %u0000, C0 80), so none survives to split a keyword or a
 * "..", and paths are normalized last, on the final bytes. Each step reads one buffer and writes
 * the other (in -> out/tmp -> ...), and is skipped when its trigger byte is absent.
 *
 * in, n: the raw field as logged. out, tmp: room for n bytes each; out must not alias in or tmp.
 * flags: ORed with what changed. Returns the decoded length (<= n). When vg_decode_needed would
 * say false, copies the input and leaves *flags untouched. Thread-safe, no allocation.
 */
size_t vg_decode_chain(enum vg_decode_kind kind, const uint8_t *in, size_t n, uint8_t *out,
                       uint8_t *tmp, unsigned *flags)
{
    if (n == 0)
        return 0;
    if (!vg_decode_needed(kind, in, n)) {
        memcpy(out, in, n);
        return n;
    }
    int rounds;
    bool plus, html, path;
    switch (kind) {
    case VG_DECODE_PATH:
        rounds = 3, plus = false, html = false, path = true;
        break;
    case VG_DECODE_QUERY:
        rounds = 3, plus = true, html = true, path = false;
        break;
    case VG_DECODE_HEADER:
        rounds = 2, plus = false, html = true, path = false;
        break;
    default:
        memcpy(out, in, n);
        return n;
    }

    const uint8_t *cur = in;
    size_t len = n;
    uint8_t *dst;
#define VG_NEXT_DST() (cur == out ? tmp : out)

    if (memchr(cur, '\\', len)) {
        dst = VG_NEXT_DST();
        len = vg_decode_log_escapes(cur, len, dst, flags);
        cur = dst;
    }
    if (len > 0) {
        uint8_t *a = VG_NEXT_DST();
        uint8_t *b = a == out ? tmp : out;
        cur = vg_decode_pct_rounds(cur, len, a, b, plus, rounds, flags, &len);
    }
    if (len > 0 && has_overlong(cur, len)) {
        dst = VG_NEXT_DST();
        len = vg_decode_overlong_utf8(cur, len, dst, flags);
        cur = dst;
    }
    if (html && len > 0 && memchr(cur, '&', len)) {
        dst = VG_NEXT_DST();
        len = vg_decode_html_entities(cur, len, dst, flags);
        cur = dst;
    }
    if (len > 0 && memchr(cur, 0, len)) {
        dst = VG_NEXT_DST();
        len = vg_decode_remove_nuls(cur, len, dst, flags);
        cur = dst;
    }
    if (path && len > 0) {
        dst = VG_NEXT_DST();
        len = vg_normalize_path(cur, len, dst, flags);
        cur = dst;
    }
#undef VG_NEXT_DST
    if (cur != out && len > 0)
        memcpy(out, cur, len);
    return len;
}

/* Short names of the flag bits, in bit order. */
static const char *const vg_dec_flag_names[] = {
    "logesc", "pct",      "double", "uni",       "plus", "badpct",  "entity",
    "nul",    "overlong", "path",   "traversal", "ws",   "comment",
};
_Static_assert(1u << (VG_ARRAY_LEN(vg_dec_flag_names) - 1) == VG_DEC_COMMENT,
               "one name per VG_DEC_* bit, in bit order");

/*
 * Writes the names of the bits set in flags, in bit order, comma-separated ("pct,double,nul"),
 * NUL-terminated, into out (cap bytes; 256 always holds every name). Unknown bits are ignored;
 * no bit gives "". A name that would not fit is left out whole, never cut. cap == 0 writes
 * nothing. Thread-safe.
 */
void vg_decode_flags_format(unsigned flags, char *out, size_t cap)
{
    if (cap == 0)
        return;
    size_t o = 0;
    out[0] = 0;
    for (size_t b = 0; b < VG_ARRAY_LEN(vg_dec_flag_names); b++) {
        if (!(flags & (1u << b)))
            continue;
        size_t len = strlen(vg_dec_flag_names[b]);
        size_t need = len + (o > 0 ? 1 : 0);
        if (o + need + 1 > cap)
            continue;
        if (o > 0)
            out[o++] = ',';
        memcpy(out + o, vg_dec_flag_names[b], len);
        o += len;
        out[o] = 0;
    }
}
