/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode.h: normalization before detection (second pipeline stage).
 *
 * Attackers hide payloads behind encodings; detectors see the canonical bytes. Every decoder here
 * reads (in, n) and writes into out, which must have room for n bytes: none of these decodings
 * ever makes the text longer, so a caller can always size out as n. Decoders never allocate and
 * set bits in *flags saying what they changed (so a detector or an explanation can tell that a
 * value was double-encoded, carried NULs, overlong UTF-8 and so on).
 *
 * out may NOT alias in, unless stated otherwise.
 */
#ifndef VG_DECODE_H
#define VG_DECODE_H

#include "core/core.h"

/* What a decoder changed (bits of *flags; decoders OR into it, never clear it). */
enum {
    VG_DEC_LOGESC = 1u << 0,   /* server log escapes undone (\" \\ \xHH) */
    VG_DEC_PCT = 1u << 1,      /* %HH decoded */
    VG_DEC_DOUBLE = 1u << 2,   /* a second (or third) round of %-decoding changed something */
    VG_DEC_UNI = 1u << 3,      /* %uHHHH decoded (IIS-style) */
    VG_DEC_PLUS = 1u << 4,     /* '+' turned into space (query strings and forms only) */
    VG_DEC_BADPCT = 1u << 5,   /* '%' not followed by two hex digits (kept as is) */
    VG_DEC_ENTITY = 1u << 6,   /* HTML character references decoded */
    VG_DEC_NUL = 1u << 7,      /* NUL bytes removed */
    VG_DEC_OVERLONG = 1u << 8, /* overlong UTF-8 for ASCII (e.g. %c0%ae) folded to ASCII */
    VG_DEC_PATH = 1u << 9,     /* path normalized (//, /./, /../, backslashes) */
    VG_DEC_TRAVERSAL = 1u << 10, /* a /../ went above the root */
    VG_DEC_WS = 1u << 11,      /* whitespace runs compressed */
    VG_DEC_COMMENT = 1u << 12  /* C-style comments removed */
};

/* Undoes server log escaping: \" -> ", \\ -> \, \xHH -> byte. Other backslashes are kept. */
size_t vg_decode_log_escapes(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags);

/*
 * One round of percent-decoding: %HH -> byte, %uHHHH -> UTF-8 (surrogate pairs joined; a lone
 * surrogate becomes U+FFFD), and, when plus_is_space, '+' -> ' '. Invalid escapes are kept
 * verbatim (VG_DEC_BADPCT).
 */
size_t vg_decode_pct(const uint8_t *in, size_t n, uint8_t *out, bool plus_is_space,
                     unsigned *flags);

/*
 * Percent-decodes up to max_rounds times (stops early when a round changes nothing), to undo
 * double encoding (%2527 -> %27 -> '). '+' is turned into space in the first round only.
 * tmp must have room for n bytes. Returns the length written to out.
 */
size_t vg_decode_pct_multi(const uint8_t *in, size_t n, uint8_t *out, uint8_t *tmp,
                           bool plus_is_space, int max_rounds, unsigned *flags);

/*
 * HTML character references: &#DDD; &#xHH; (semicolon optional), and the named references
 * attackers use (&lt; &gt; &amp; &quot; &apos; &sol; &lpar; &rpar; &colon; &Tab; &NewLine;
 * &nbsp; &grave; &equals; &plus; &semi; &comma; &period; &excl; &num; &percnt; &lsqb; &rsqb;
 * &lcub; &rcub; &bsol; &vert; ... ; case-sensitive as in HTML). Code point 0 and invalid
 * code points become U+FFFD. A name without ';' is decoded unless '=' follows it (HTML's rule
 * for attribute values; it keeps query parameters such as "&lt=5" intact).
 */
size_t vg_decode_html_entities(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags);

/*
 * Folds overlong UTF-8 encodings of ASCII (2-byte C0 AE, 3-byte E0 80 AE, and the 4- to 6-byte
 * forms F0 80 80 AE, F8 80 80 80 AE, FC 80 80 80 80 AE found in traversal lists) to the ASCII byte.
 */
size_t vg_decode_overlong_utf8(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags);

/* Removes NUL bytes. out may alias in. */
size_t vg_decode_remove_nuls(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags);

/*
 * Normalizes a URL path: backslashes become '/', runs of '/' collapse, "/./" segments go,
 * "/x/../" pops x. A ".." above the root is dropped and sets VG_DEC_TRAVERSAL. A relative input
 * stays relative. Works on already percent-decoded bytes.
 */
size_t vg_normalize_path(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags);

/* Replaces each run of whitespace (space, \t \n \v \f \r, U+00A0 as C2 A0) with one space. */
size_t vg_compress_whitespace(const uint8_t *in, size_t n, uint8_t *out, unsigned *flags);

/* ---- the standard chains ----------------------------------------------------------------- */

/* Which field a value comes from decides the chain. */
enum vg_decode_kind {
    VG_DECODE_PATH,   /* log unescape, %-decode x3 (no '+'), overlong, NULs, path normalize */
    VG_DECODE_QUERY,  /* log unescape, %-decode x3 with '+', overlong, HTML entities, NULs */
    VG_DECODE_HEADER  /* log unescape, %-decode x2 (no '+'), overlong, HTML entities, NULs */
};

/*
 * Applies the chain of `kind` to (in, n). out and tmp must each have room for n bytes; out must
 * not alias in or tmp. Returns the decoded length. When nothing in the input could be decoded
 * (no '%', '\\', '&', '+', NUL, 0xC0/0xC1/0xE0/0xF0/0xF8/0xFC lead bytes, and for paths no "/."
 * "//"), it copies the input and leaves *flags untouched; callers may test vg_decode_needed first
 * and skip the copy. Step order and rationale: docs/internals/decode.md.
 */
size_t vg_decode_chain(enum vg_decode_kind kind, const uint8_t *in, size_t n, uint8_t *out,
                       uint8_t *tmp, unsigned *flags);

/* True when vg_decode_chain(kind, in, n, ...) could produce something other than the input. */
bool vg_decode_needed(enum vg_decode_kind kind, const uint8_t *in, size_t n);

/* Static names of the flag bits set in flags, comma-separated, into out (>= 256 bytes). */
void vg_decode_flags_format(unsigned flags, char *out, size_t cap);

#endif /* VG_DECODE_H */
