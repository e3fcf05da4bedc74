/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_transform.h: the OWASP CRS / ModSecurity transformation functions (`t:urlDecodeUni`,
 * `t:lowercase`, `t:cmdLine`, ...) as named, pure functions over byte strings, so that rules
 * written for ModSecurity can be imported with their transformation chains and see the same
 * bytes they would see in ModSecurity v3.
 *
 * Pipeline position: decode/ stage, beside the fixed chains of decode.h. detect/ applies a rule's
 * chain (vg_tfn_apply_chain) to a field value before matching; the importer maps `t:name` with
 * vg_tfn_parse.
 *
 * Invariants: nothing here allocates or keeps state; every function is thread-safe; inputs are
 * (pointer, length) and may hold any byte, NUL included; no function reads past in + n. The
 * output of vg_tfn_apply is never longer than vg_tfn_max_out(t, n), which is n for every
 * transformation except utf8toUnicode (which expands) and length (decimal digits of n).
 *
 * Semantics follow libmodsecurity 3.0.9 (the version the project's peer baseline runs) byte for
 * byte, checked against it by differential testing; the few deliberate differences (an input
 * cut at the first NUL, a dropped last byte, a stray NUL appended) are listed in
 * docs/internals/transforms.md.
 */
#ifndef VG_DECODE_TRANSFORM_H
#define VG_DECODE_TRANSFORM_H

#include "core/core.h"

/* The supported transformations. VG_TFN_NONE is the identity (`t:none`). */
enum vg_tfn {
    VG_TFN_NONE = 0,
    VG_TFN_URL_DECODE,
    VG_TFN_URL_DECODE_UNI,
    VG_TFN_HTML_ENTITY_DECODE,
    VG_TFN_JS_DECODE,
    VG_TFN_CSS_DECODE,
    VG_TFN_LOWERCASE,
    VG_TFN_UPPERCASE,
    VG_TFN_REMOVE_NULLS,
    VG_TFN_REPLACE_NULLS,
    VG_TFN_REMOVE_WHITESPACE,
    VG_TFN_COMPRESS_WHITESPACE,
    VG_TFN_REPLACE_COMMENTS,
    VG_TFN_REMOVE_COMMENTS,
    VG_TFN_REMOVE_COMMENTS_CHAR,
    VG_TFN_CMD_LINE,
    VG_TFN_NORMALISE_PATH,
    VG_TFN_NORMALISE_PATH_WIN,
    VG_TFN_UTF8_TO_UNICODE,
    VG_TFN_BASE64_DECODE,
    VG_TFN_BASE64_DECODE_EXT,
    VG_TFN_HEX_DECODE,
    VG_TFN_SQL_HEX_DECODE,
    VG_TFN_ESCAPE_SEQ_DECODE,
    VG_TFN_TRIM,
    VG_TFN_TRIM_LEFT,
    VG_TFN_TRIM_RIGHT,
    VG_TFN_LENGTH,
    VG_TFN_COUNT
};

/*
 * Parses a ModSecurity/CRS transformation name (without the "t:" prefix), ASCII
 * case-insensitively, with the aliases ModSecurity accepts (normalizePath, normalizePathWin,
 * cmd_line, compress_whitespace).
 *
 * name, len: the name bytes (not NUL-terminated). out: OUT, set only when 1 is returned.
 * Returns 1 when supported (*out set); 0 when the name is a ModSecurity transformation that vigil
 * does not support (md5, sha1, parityEven7bit, ... : an importer reports why it skipped a rule);
 * -1 when unknown.
 */
int vg_tfn_parse(const char *name, size_t len, enum vg_tfn *out);

/* Canonical CRS spelling of t ("urlDecodeUni", "normalisePath", ...); "?" when out of range. */
const char *vg_tfn_name(enum vg_tfn t);

/*
 * Output capacity that vg_tfn_apply(t, ...) needs for an n-byte input: n for every
 * transformation except utf8toUnicode (7 * (n / 2) + n % 2: a 2-byte overlong sequence becomes
 * "%u002e" plus the lead byte) and length (the decimal digits of n, at least 1). Saturates at
 * SIZE_MAX instead of overflowing.
 */
size_t vg_tfn_max_out(enum vg_tfn t, size_t n);

/*
 * True when vg_tfn_apply(t, in, in, n) (output over the input) is allowed: every transformation
 * except utf8toUnicode, whose output outruns its input.
 */
bool vg_tfn_in_place(enum vg_tfn t);

/*
 * Applies t to in[0..n), writing out, which has room for vg_tfn_max_out(t, n) bytes. out may
 * equal in only when vg_tfn_in_place(t); otherwise the two must not overlap. Returns the output
 * length. Never allocates, never reads past in + n; any byte is valid input (malformed escapes
 * are data, handled as ModSecurity handles them). An out-of-range t copies the input.
 */
size_t vg_tfn_apply(enum vg_tfn t, const uint8_t *in, size_t n, uint8_t *out);

/*
 * Cheap pre-check: false only when vg_tfn_apply(t, in, n, ...) would certainly return the input
 * unchanged (lowercase on input without A-Z, urlDecode without '%' or '+', ...), so a caller can
 * keep sharing the input view. True means "may change" (a conservative answer). One pass at
 * most, usually memchr.
 */
bool vg_tfn_may_change(enum vg_tfn t, const uint8_t *in, size_t n);

/*
 * Applies chain[0..k) in order (VG_TFN_NONE steps are skipped: an importer resolves `t:none`,
 * which in ModSecurity clears the transformations inherited so far, before building the chain).
 *
 * in, n: the value (never written). a, b: two caller buffers of cap bytes each, distinct and not
 * overlapping in (ping-pong: a step writes the buffer its input is not in, or works in place).
 * out, out_n: OUT, the result (in itself when no step changed anything, else a or b) and its
 * length; the pointer is borrowed until a or b is next written. Steps for which
 * vg_tfn_may_change is false are skipped without a copy.
 *
 * Returns false (and leaves *out, *out_n unset) when some step needs more than cap bytes; a
 * caller that sizes a and b with vg_tfn_chain_max_out(chain, k, n) never sees false.
 *
 * Usage example:
 *     size_t need = vg_tfn_chain_max_out(chain, k, n);
 *     (grow a and b to need bytes, from a per-thread arena)
 *     const uint8_t *v; size_t vn;
 *     if (vg_tfn_apply_chain(chain, k, in, n, a, b, need, &v, &vn)) match(v, vn);
 */
bool vg_tfn_apply_chain(const enum vg_tfn *chain, size_t k, const uint8_t *in, size_t n, uint8_t *a,
                        uint8_t *b, size_t cap, const uint8_t **out, size_t *out_n);

/*
 * Capacity each of the two buffers of vg_tfn_apply_chain needs for an n-byte input: the largest
 * vg_tfn_max_out bound over the steps (0 for an empty chain). Saturates at SIZE_MAX.
 */
size_t vg_tfn_chain_max_out(const enum vg_tfn *chain, size_t k, size_t n);

#endif /* VG_DECODE_TRANSFORM_H */
