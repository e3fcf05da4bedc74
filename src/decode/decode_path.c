/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_path.c: URL path normalization (RFC 3986 remove_dot_segments, plus '\' as a separator
 * and collapsed "//") and whitespace compression, for the decode stage.
 *
 * Pipeline position: vg_normalize_path is the last step of the PATH chain, after percent
 * decoding, overlong folding and NUL removal, so "%2e%2e%2f", "%c0%ae%c0%ae/" and "..\" are
 * all seen as "../" and resolved here.
 *
 * Invariants: the output is never longer than the input (every byte written stands for an input
 * byte), and it holds no '\', no "//" and no "." or ".." segment.
 */
#include "decode/decode.h"

static bool is_sep(uint8_t c)
{
    return c == '/' || c == '\\';
}

/*
 * Normalizes a path. An input starting with '/' or '\' is absolute: the output starts with one
 * '/'. Otherwise it stays relative (no '/' is added in front). Separators are '/' and '\' and a
 * run of them counts as one; it is written as '/'. A "." segment is dropped; a ".." segment drops
 * the segment before it. A ".." with nothing left to drop (above the root, or above the start of
 * a relative path) is dropped too and sets VG_DEC_TRAVERSAL. A path ending in "/." or "/.." keeps
 * its trailing '/' ("/a/b/.." -> "/a/"), as in RFC 3986. Segments such as "..." or ". " are
 * ordinary names.
 *
 * in, n: percent-decoded path bytes (no query). out: room for n bytes, must not alias in. flags:
 * VG_DEC_PATH when the output differs from the input, VG_DEC_TRAVERSAL as above. Returns the
 * length written.
 *
 * Security note: a traversal above the root leaves no ".." in the output; detectors must use
 * VG_DEC_TRAVERSAL (or the raw value) to see it.
 */
size_t vg_normalize_path(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags)
{
    size_t i = 0, o = 0, root = 0;
    bool above = false;
    if (n > 0 && is_sep(in[0])) {
        out[o++] = '/';
        root = 1;
    }
    /* Invariant at the top of the loop: out[0..o) is the root (empty or "/") or ends with '/'. */
    while (i < n) {
        while (i < n && is_sep(in[i]))
            i++;
        if (i >= n)
            break;
        size_t j = i;
        while (j < n && !is_sep(in[j]))
            j++;
        size_t len = j - i;
        bool more = j < n; /* a separator follows */
        if (len == 1 && in[i] == '.') {
            /* dropped */
        } else if (len == 2 && in[i] == '.' && in[i + 1] == '.') {
            if (o > root) {
                o--; /* the '/' that ends the last segment */
                while (o > root && out[o - 1] != '/')
                    o--;
            } else {
                above = true;
            }
        } else {
            memcpy(out + o, in + i, len);
            o += len;
            if (more)
                out[o++] = '/';
        }
        i = j;
    }
    if (above)
        *flags |= VG_DEC_TRAVERSAL;
    if (o != n || (n > 0 && memcmp(out, in, n) != 0))
        *flags |= VG_DEC_PATH;
    return o;
}

/* Length of the whitespace character at s (1, or 2 for C2 A0), or 0. */
static size_t ws_at(const uint8_t *s, size_t len)
{
    switch (s[0]) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
        return 1;
    case 0xC2:
        return len >= 2 && s[1] == 0xA0 ? 2 : 0;
    default:
        return 0;
    }
}

/*
 * Replaces each run of whitespace (space, \t \n \v \f \r, and U+00A0 written as C2 A0) with one
 * space. Not part of the standard chains; detectors of token-based payloads (SQL) call it on
 * decoded values.
 *
 * in, n: bytes. out: room for n bytes, must not alias in. flags: VG_DEC_WS when the output
 * differs from the input (a run longer than one byte, or a lone whitespace other than ' ').
 * Returns the length written.
 */
size_t vg_compress_whitespace(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags)
{
    size_t i = 0, o = 0;
    bool changed = false;
    while (i < n) {
        size_t w = ws_at(in + i, n - i);
        if (!w) {
            out[o++] = in[i++];
            continue;
        }
        size_t start = i;
        i += w;
        while (i < n && (w = ws_at(in + i, n - i)) != 0)
            i += w;
        if (i - start != 1 || in[start] != ' ')
            changed = true;
        out[o++] = ' ';
    }
    if (changed)
        *flags |= VG_DEC_WS;
    return o;
}
