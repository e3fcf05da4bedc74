/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_url.c: the byte-level decoders of the decode stage: server log escapes, percent
 * encoding (%HH, IIS %uHHHH, '+'), repeated percent rounds, overlong UTF-8, NUL removal.
 *
 * Pipeline position: ingest/ hands out raw field views; decode_chain.c runs these decoders (in a
 * fixed order per field kind) before detect/ sees the bytes.
 *
 * Invariants: every decoder writes at most n bytes for n input bytes (each escape it replaces is
 * at least as long as what it writes), never allocates, never reads past in + n, and only ORs
 * bits into *flags, and only for what it actually changed (VG_DEC_BADPCT excepted: it reports a
 * malformed escape that was kept).
 */
#include "decode/decode.h"
#include "decode/decode_int.h"

/* ---- server log escapes ---------------------------------------------------------------------- */

size_t vg_log_escape_at(const uint8_t *s, size_t len, uint8_t *byte)
{
    if (len < 2)
        return 0;
    switch (s[1]) {
    case '"':
    case '\\':
        *byte = s[1];
        return 2;
    case 'n':
        *byte = '\n';
        return 2;
    case 'r':
        *byte = '\r';
        return 2;
    case 't':
        *byte = '\t';
        return 2;
    case 'x':
        if (len >= 4) {
            int hi = vg_hexval(s[2]), lo = vg_hexval(s[3]);
            if (hi >= 0 && lo >= 0) {
                *byte = (uint8_t)(hi << 4 | lo);
                return 4;
            }
        }
        return 0;
    default:
        return 0;
    }
}

/*
 * Undoes the escaping web servers apply when they log request fields: nginx writes '"', '\' and
 * bytes < 0x20 or >= 0x7F as \xHH; Apache writes \" \\ \n \r \t and \xHH. Both styles are
 * undone (they never conflict: nginx logs a literal backslash as \x5C, so "\n" cannot come from
 * nginx). Any other backslash, and a truncated \x, are copied verbatim.
 *
 * in, n: the logged bytes. out: room for n bytes, must not alias in. flags: VG_DEC_LOGESC is ORed
 * in when an escape was undone. Returns the length written. Thread-safe, no allocation.
 */
size_t vg_decode_log_escapes(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags)
{
    size_t i = 0, o = 0;
    bool changed = false;
    while (i < n) {
        const uint8_t *p = memchr(in + i, '\\', n - i);
        size_t run = p ? (size_t)(p - (in + i)) : n - i;
        memcpy(out + o, in + i, run);
        o += run;
        i += run;
        if (!p)
            break;
        uint8_t b;
        size_t used = vg_log_escape_at(in + i, n - i, &b);
        if (used) {
            out[o++] = b;
            i += used;
            changed = true;
        } else {
            out[o++] = '\\';
            i++;
        }
    }
    if (changed)
        *flags |= VG_DEC_LOGESC;
    return o;
}

/* ---- percent decoding ------------------------------------------------------------------------ */

/* Reads "%uHHHH" (or "%UHHHH") at s; returns the 16-bit value or -1. */
static long pct_u_at(const uint8_t *s, size_t len)
{
    if (len < 6 || s[0] != '%' || (s[1] | 0x20) != 'u')
        return -1;
    long v = 0;
    for (size_t k = 2; k < 6; k++) {
        int h = vg_hexval(s[k]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/*
 * One round of percent decoding: %HH (either case) -> byte; %uHHHH / %UHHHH (IIS) -> UTF-8, a
 * high surrogate followed by a %u low surrogate joined into one 4-byte sequence, any other
 * surrogate -> U+FFFD; '+' -> ' ' when plus_is_space. A '%' that starts neither form is copied
 * and the bytes after it are read again as text ("%%41" -> "%A").
 *
 * in, n: bytes. out: room for n bytes, must not alias in. flags: VG_DEC_PCT, VG_DEC_UNI,
 * VG_DEC_PLUS for what was decoded, VG_DEC_BADPCT for a kept '%'. Returns the length written.
 * Performance note: a plain byte loop; field values are short (tens of bytes) and attack values
 * dense with escapes, where memchr + memcpy per run cost more than they save.
 */
size_t vg_decode_pct(const uint8_t *in, size_t n, uint8_t *out, bool plus_is_space, unsigned *flags)
{
    size_t i = 0, o = 0;
    unsigned f = 0;
    const uint8_t plus = plus_is_space ? '+' : '%';
    while (i < n) {
        uint8_t c = in[i];
        if (VG_LIKELY(c != '%' && c != plus)) {
            out[o++] = c;
            i++;
            continue;
        }
        if (c == '+') {
            out[o++] = ' ';
            i++;
            f |= VG_DEC_PLUS;
            continue;
        }
        /* in[i] == '%' */
        if (i + 2 < n) {
            int hi = vg_hexval(in[i + 1]), lo = vg_hexval(in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out[o++] = (uint8_t)(hi << 4 | lo);
                i += 3;
                f |= VG_DEC_PCT;
                continue;
            }
        }
        long u = pct_u_at(in + i, n - i);
        if (u >= 0) {
            uint32_t cp = (uint32_t)u;
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo = pct_u_at(in + i, n - i);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                    i += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            /* 6 input bytes give at most 3 (BMP), 12 give 4 (a joined pair). */
            o += vg_utf8_put(out + o, cp);
            f |= VG_DEC_UNI;
            continue;
        }
        out[o++] = '%';
        i++;
        f |= VG_DEC_BADPCT;
    }
    *flags |= f;
    return o;
}

const uint8_t *vg_decode_pct_rounds(const uint8_t *src, size_t n, uint8_t *a, uint8_t *b,
                                    bool plus_is_space, int max_rounds, unsigned *flags,
                                    size_t *out_n)
{
    const uint8_t *cur = src;
    size_t len = n;
    uint8_t *dst = a;
    for (int round = 1; round <= max_rounds && len > 0; round++) {
        bool plus = plus_is_space && round == 1;
        if (!memchr(cur, '%', len) && !(plus && memchr(cur, '+', len)))
            break;
        unsigned rf = 0;
        size_t m = vg_decode_pct(cur, len, dst, plus, &rf);
        *flags |= rf;
        if (!(rf & (VG_DEC_PCT | VG_DEC_UNI | VG_DEC_PLUS)))
            break; /* nothing decoded: dst holds a copy of cur */
        if (round >= 2)
            *flags |= VG_DEC_DOUBLE;
        cur = dst;
        len = m;
        dst = dst == a ? b : a;
    }
    *out_n = len;
    return cur;
}

/*
 * Up to max_rounds rounds of vg_decode_pct, stopping at the first that decodes nothing; '+' is a
 * space in round 1 only (a %2B decoded then stays '+'). VG_DEC_DOUBLE when round 2 or later
 * decoded something. out and tmp: room for n bytes each, distinct, neither aliasing in.
 * max_rounds < 1 copies the input unchanged. Returns the length written to out.
 *
 * Security note: the rounds stop at max_rounds even when the result still decodes, so a value
 * encoded more often than that reaches detectors partly encoded; VG_DEC_DOUBLE tells them.
 */
size_t vg_decode_pct_multi(const uint8_t *in, size_t n, uint8_t *out, uint8_t *tmp,
                           bool plus_is_space, int max_rounds, unsigned *flags)
{
    if (n == 0)
        return 0;
    size_t len;
    const uint8_t *res =
        vg_decode_pct_rounds(in, n, out, tmp, plus_is_space, max_rounds, flags, &len);
    if (res != out)
        memcpy(out, res, len);
    return len;
}

/* ---- overlong UTF-8 -------------------------------------------------------------------------- */

/*
 * An overlong form of an ASCII character c (< 0x80) has a lead byte whose payload bits are all
 * zero (C0 or C1 for two bytes, E0, F0, F8, FC for three to six), continuation bytes that are
 * exactly 0x80 except the last two, the next-to-last 0x80 or 0x81 (bit 6 of c), and a last
 * continuation byte carrying bits 0..5. For two bytes, bit 6 is the low bit of the lead.
 */
size_t vg_overlong_at(const uint8_t *s, size_t len, uint8_t *ascii)
{
    size_t k; /* continuation bytes */
    switch (s[0]) {
    case 0xC0:
    case 0xC1:
        if (len >= 2 && (s[1] & 0xC0) == 0x80) {
            *ascii = (uint8_t)((s[0] & 1) << 6 | (s[1] & 0x3F));
            return 2;
        }
        return 0;
    case 0xE0:
        k = 2;
        break;
    case 0xF0:
        k = 3;
        break;
    case 0xF8:
        k = 4;
        break;
    case 0xFC:
        k = 5;
        break;
    default:
        return 0;
    }
    if (len < k + 1)
        return 0;
    for (size_t j = 1; j + 1 < k; j++) {
        if (s[j] != 0x80)
            return 0;
    }
    if ((s[k - 1] & 0xFE) != 0x80 || (s[k] & 0xC0) != 0x80)
        return 0;
    *ascii = (uint8_t)((s[k - 1] & 1) << 6 | (s[k] & 0x3F));
    return k + 1;
}

/*
 * Folds overlong UTF-8 encodings of ASCII characters (C0 AE, E0 80 AE, F0 80 80 AE, and the
 * obsolete five- and six-byte forms F8.., FC..) to the character itself; everything else,
 * including other invalid UTF-8, is copied unchanged. C0 80 folds to NUL (modified UTF-8).
 *
 * in, n: bytes (usually percent-decoded). out: room for n bytes, must not alias in. flags:
 * VG_DEC_OVERLONG when something was folded. Returns the length written.
 */
size_t vg_decode_overlong_utf8(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags)
{
    size_t i = 0, o = 0;
    bool changed = false;
    while (i < n) {
        uint8_t c = in[i];
        if (VG_LIKELY(c < 0xC0)) {
            out[o++] = c;
            i++;
            continue;
        }
        uint8_t a;
        size_t used = vg_overlong_at(in + i, n - i, &a);
        if (used) {
            out[o++] = a;
            i += used;
            changed = true;
        } else {
            out[o++] = c;
            i++;
        }
    }
    if (changed)
        *flags |= VG_DEC_OVERLONG;
    return o;
}

/* ---- NUL bytes ------------------------------------------------------------------------------- */

/*
 * Removes every NUL byte. out may alias in (the write position never passes the read position).
 * flags: VG_DEC_NUL when at least one NUL was removed. Returns the length written.
 */
size_t vg_decode_remove_nuls(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags)
{
    size_t i = 0, o = 0;
    bool changed = false;
    while (i < n) {
        const uint8_t *p = memchr(in + i, 0, n - i);
        size_t run = p ? (size_t)(p - (in + i)) : n - i;
        if (out + o != in + i)
            memmove(out + o, in + i, run);
        o += run;
        i += run;
        if (!p)
            break;
        i++;
        changed = true;
    }
    if (changed)
        *flags |= VG_DEC_NUL;
    return o;
}
