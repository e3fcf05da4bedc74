/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_int.h: internals shared by the files of the decode module (not part of its contract;
 * other modules use decode.h only).
 *
 * The chain (decode_chain.c) needs a few things the public decoders do not offer: percent rounds
 * that leave the result in whichever buffer the last round wrote (so no extra copy), and the
 * exact "would this byte start a change?" tests that vg_decode_needed uses, which must agree with
 * the decoders byte for byte (soundness of the pre-scan depends on it).
 */
#ifndef VG_DECODE_INT_H
#define VG_DECODE_INT_H

#include "decode/decode.h"

/* Value of an ASCII hex digit, or -1. */
static inline int vg_hexval(uint8_t c)
{
    if ((unsigned)(c - '0') < 10u)
        return c - '0';
    c |= 0x20;
    if ((unsigned)(c - 'a') < 6u)
        return c - 'a' + 10;
    return -1;
}

/* Writes the UTF-8 of code point cp (< 0x110000, not a surrogate) into p; returns 1..4. */
static inline size_t vg_utf8_put(uint8_t *p, uint32_t cp)
{
    if (cp < 0x80) {
        p[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (uint8_t)(0xC0 | (cp >> 6));
        p[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (uint8_t)(0xE0 | (cp >> 12));
        p[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        p[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (uint8_t)(0xF0 | (cp >> 18));
    p[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    p[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    p[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Percent-decodes (src, n) up to max_rounds times, ping-ponging between a and b (each with room
 * for n bytes; neither may alias src, a != b). Returns a pointer to the result, which is src
 * itself when the first round changed nothing, else a or b; *out_n gets its length. Flags as
 * vg_decode_pct_multi. Performance note: a round is skipped without a pass when its input holds
 * no '%' (and, in round 1 with plus_is_space, no '+').
 */
const uint8_t *vg_decode_pct_rounds(const uint8_t *src, size_t n, uint8_t *a, uint8_t *b,
                                    bool plus_is_space, int max_rounds, unsigned *flags,
                                    size_t *out_n);

/*
 * If s (len >= 1, s[0] == '\\') starts a server log escape that vg_decode_log_escapes undoes,
 * returns its length (2 or 4) and the byte in *byte; else 0.
 */
size_t vg_log_escape_at(const uint8_t *s, size_t len, uint8_t *byte);

/*
 * If s (len >= 1) starts an overlong UTF-8 form of an ASCII character that
 * vg_decode_overlong_utf8 folds, returns its length (2..6) and the character in *ascii; else 0.
 */
size_t vg_overlong_at(const uint8_t *s, size_t len, uint8_t *ascii);

/*
 * If s (len >= 1, s[0] == '&') starts an HTML character reference that vg_decode_html_entities
 * decodes, returns its length and writes its UTF-8 (1..4 bytes, never more than the returned
 * length) into utf8[4], its length into *utf8_len; else 0.
 */
size_t vg_html_ref_at(const uint8_t *s, size_t len, uint8_t utf8[4], size_t *utf8_len);

#endif /* VG_DECODE_INT_H */
