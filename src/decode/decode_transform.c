/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode_transform.c: the ModSecurity / OWASP CRS transformation functions (t:urlDecodeUni,
 * t:htmlEntityDecode, t:cmdLine, t:normalisePath, ...) as pure byte-string functions.
 *
 * Pipeline position: decode/ stage; detect/ runs a rule's chain through vg_tfn_apply_chain.
 *
 * Invariants: no allocation, no global mutable state, no read past in + n. Each function writes
 * at most vg_tfn_max_out(t, n) bytes, and all but utf8toUnicode keep the write position at or
 * behind the read position and look only ahead in the input, which is what makes them safe in
 * place. The semantics are those of libmodsecurity 3.0.9, including its quirks, except where
 * docs/internals/transforms.md lists a deliberate difference (marked "Porting note:" here).
 */
#include "decode/decode_transform.h"
#include "decode/decode_int.h"

/* ---- names ----------------------------------------------------------------------------------- */

static const char *const tfn_names[VG_TFN_COUNT] = {
    [VG_TFN_NONE] = "none",
    [VG_TFN_URL_DECODE] = "urlDecode",
    [VG_TFN_URL_DECODE_UNI] = "urlDecodeUni",
    [VG_TFN_HTML_ENTITY_DECODE] = "htmlEntityDecode",
    [VG_TFN_JS_DECODE] = "jsDecode",
    [VG_TFN_CSS_DECODE] = "cssDecode",
    [VG_TFN_LOWERCASE] = "lowercase",
    [VG_TFN_UPPERCASE] = "uppercase",
    [VG_TFN_REMOVE_NULLS] = "removeNulls",
    [VG_TFN_REPLACE_NULLS] = "replaceNulls",
    [VG_TFN_REMOVE_WHITESPACE] = "removeWhitespace",
    [VG_TFN_COMPRESS_WHITESPACE] = "compressWhitespace",
    [VG_TFN_REPLACE_COMMENTS] = "replaceComments",
    [VG_TFN_REMOVE_COMMENTS] = "removeComments",
    [VG_TFN_REMOVE_COMMENTS_CHAR] = "removeCommentsChar",
    [VG_TFN_CMD_LINE] = "cmdLine",
    [VG_TFN_NORMALISE_PATH] = "normalisePath",
    [VG_TFN_NORMALISE_PATH_WIN] = "normalisePathWin",
    [VG_TFN_UTF8_TO_UNICODE] = "utf8toUnicode",
    [VG_TFN_BASE64_DECODE] = "base64Decode",
    [VG_TFN_BASE64_DECODE_EXT] = "base64DecodeExt",
    [VG_TFN_HEX_DECODE] = "hexDecode",
    [VG_TFN_SQL_HEX_DECODE] = "sqlHexDecode",
    [VG_TFN_ESCAPE_SEQ_DECODE] = "escapeSeqDecode",
    [VG_TFN_TRIM] = "trim",
    [VG_TFN_TRIM_LEFT] = "trimLeft",
    [VG_TFN_TRIM_RIGHT] = "trimRight",
    [VG_TFN_LENGTH] = "length",
};

/* Other spellings ModSecurity v3 accepts for supported transformations. */
static const struct {
    const char *name;
    enum vg_tfn t;
} tfn_aliases[] = {
    {"normalizePath", VG_TFN_NORMALISE_PATH},
    {"normalizePathWin", VG_TFN_NORMALISE_PATH_WIN},
    {"cmd_line", VG_TFN_CMD_LINE},
    {"compress_whitespace", VG_TFN_COMPRESS_WHITESPACE},
};

/* ModSecurity transformations vigil does not implement (hashes, encoders, parity). */
static const char *const tfn_unsupported[] = {
    "base64Encode",  "hexEncode",      "md5",       "sha1", "parityEven7bit",
    "parityOdd7bit", "parityZero7bit", "urlEncode",
};

static bool name_ieq(const char *name, size_t len, const char *lit)
{
    return vg_str_ieq(vg_str_make(name, len), vg_str_make(lit, strlen(lit)));
}

int vg_tfn_parse(const char *name, size_t len, enum vg_tfn *out)
{
    if (!name)
        return -1;
    for (size_t t = 0; t < VG_TFN_COUNT; t++) {
        if (name_ieq(name, len, tfn_names[t])) {
            *out = (enum vg_tfn)t;
            return 1;
        }
    }
    for (size_t k = 0; k < VG_ARRAY_LEN(tfn_aliases); k++) {
        if (name_ieq(name, len, tfn_aliases[k].name)) {
            *out = tfn_aliases[k].t;
            return 1;
        }
    }
    for (size_t k = 0; k < VG_ARRAY_LEN(tfn_unsupported); k++) {
        if (name_ieq(name, len, tfn_unsupported[k]))
            return 0;
    }
    return -1;
}

const char *vg_tfn_name(enum vg_tfn t)
{
    return (unsigned)t < VG_TFN_COUNT ? tfn_names[t] : "?";
}

/* ---- sizes ----------------------------------------------------------------------------------- */

static size_t decimal_digits(size_t n)
{
    size_t d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

size_t vg_tfn_max_out(enum vg_tfn t, size_t n)
{
    switch (t) {
    case VG_TFN_UTF8_TO_UNICODE:
        if (n / 2 > (SIZE_MAX - 1) / 7)
            return SIZE_MAX;
        return 7 * (n / 2) + (n & 1);
    case VG_TFN_LENGTH:
        return decimal_digits(n);
    default:
        return n;
    }
}

bool vg_tfn_in_place(enum vg_tfn t)
{
    return t != VG_TFN_UTF8_TO_UNICODE;
}

size_t vg_tfn_chain_max_out(const enum vg_tfn *chain, size_t k, size_t n)
{
    size_t len = n, need = 0;
    for (size_t s = 0; s < k; s++) {
        if (chain[s] == VG_TFN_NONE)
            continue;
        len = vg_tfn_max_out(chain[s], len);
        if (len > need)
            need = len;
    }
    return need;
}

/* ---- character helpers (C locale, as ModSecurity's isspace/isxdigit calls) ------------------- */

/* isspace() in the C locale: space, \t \n \v \f \r. */
static bool c_isspace(uint8_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool is_hex(uint8_t c)
{
    return vg_hexval(c) >= 0;
}

static bool is_alnum(uint8_t c)
{
    return (unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u;
}

static bool is_odigit(uint8_t c)
{
    return c >= '0' && c <= '7';
}

static bool is_ff(uint8_t c)
{
    return (c | 0x20) == 'f';
}

/*
 * ModSecurity's x2c: two "hex digits" to a byte, computed for any bytes (hexDecode applies it
 * unchecked, so "zz" gives 0x53). For real hex digits it is the usual value.
 */
static uint8_t x2c_any(uint8_t a, uint8_t b)
{
    int hi = a >= 'A' ? ((a & 0xDF) - 'A') + 10 : a - '0';
    int lo = b >= 'A' ? ((b & 0xDF) - 'A') + 10 : b - '0';
    return (uint8_t)(unsigned)(hi * 16 + lo);
}

/* Value of two valid hex digits. */
static uint8_t hex2(uint8_t a, uint8_t b)
{
    return (uint8_t)(vg_hexval(a) << 4 | vg_hexval(b));
}

/* Copies in to out (memmove: out may equal in). */
static size_t copy_through(const uint8_t *in, size_t n, uint8_t *out)
{
    if (n && out != in)
        memmove(out, in, n);
    return n;
}

/* ---- urlDecode, urlDecodeUni ----------------------------------------------------------------- */

/*
 * %HH (either case) -> byte, '+' -> space; a '%' not followed by two hex digits is kept and the
 * bytes after it are read again ("%%41" -> "%A"). With uni, also IIS %uHHHH / %UHHHH: the low
 * byte of the code unit, plus 0x20 for the full-width forms U+FF01..U+FF5E (%uFF01 -> '!'); an
 * invalid or truncated %u keeps "%u" and goes on after it. Porting note: ModSecurity consults
 * SecUnicodeMapFile for %u when one is configured; vigil has no map and behaves as ModSecurity
 * without one.
 */
static size_t url_decode(const uint8_t *in, size_t n, uint8_t *out, bool uni)
{
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t c = in[i];
        if (c == '+') {
            out[o++] = ' ';
            i++;
            continue;
        }
        if (c != '%') {
            out[o++] = c;
            i++;
            continue;
        }
        if (uni && i + 1 < n && (in[i + 1] | 0x20) == 'u') {
            if (i + 5 < n && is_hex(in[i + 2]) && is_hex(in[i + 3]) && is_hex(in[i + 4]) &&
                is_hex(in[i + 5])) {
                uint8_t b = hex2(in[i + 4], in[i + 5]);
                if (b > 0x00 && b < 0x5F && is_ff(in[i + 2]) && is_ff(in[i + 3]))
                    b += 0x20;
                out[o++] = b;
                i += 6;
            } else {
                out[o++] = in[i];
                out[o++] = in[i + 1];
                i += 2;
            }
            continue;
        }
        if (i + 2 < n && is_hex(in[i + 1]) && is_hex(in[i + 2])) {
            out[o++] = hex2(in[i + 1], in[i + 2]);
            i += 3;
        } else {
            out[o++] = '%';
            i++;
        }
    }
    return o;
}

/* ---- htmlEntityDecode ------------------------------------------------------------------------ */

/*
 * Value of a run of digits as strtol(3) gives it on LP64 (saturating at LONG_MAX on overflow),
 * reduced to its low byte, which is all ModSecurity keeps.
 */
static uint8_t strtol_low_byte(const uint8_t *s, size_t len, unsigned base)
{
    const uint64_t max = (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (size_t k = 0; k < len; k++) {
        uint64_t d = (uint64_t)vg_hexval(s[k]);
        if (v > (max - d) / base)
            return 0xFF; /* LONG_MAX: 0x7fff...ff */
        v = v * base + d;
    }
    return (uint8_t)v;
}

/*
 * &#DDD, &#xHHH (x or X), with optional ';': one byte, the low byte of the number (so &#8250;
 * gives 0x3A and out-of-range values 0xFF, as ModSecurity's (unsigned char)strtol). Named:
 * quot amp lt gt nbsp only, any case, ';' optional; nbsp gives the single byte 0xA0. Anything else
 * is copied: "&#" or "&#x" without digits, an unknown name with the '&'.
 */
static size_t html_entity_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    static const struct {
        const char *name;
        uint8_t len, byte;
    } names[] = {
        {"quot", 4, '"'}, {"amp", 3, '&'}, {"lt", 2, '<'}, {"gt", 2, '>'}, {"nbsp", 4, 0xA0}};
    size_t i = 0, o = 0;
    while (i < n) {
        if (in[i] != '&' || i + 1 >= n) {
            out[o++] = in[i++];
            continue;
        }
        size_t j = i + 1, copy = 1;
        if (in[j] == '#') {
            copy = 2;
            j++;
            bool hex = j < n && (in[j] | 0x20) == 'x';
            if (hex) {
                copy = 3;
                j++;
            }
            size_t k = j;
            while (j < n && (hex ? is_hex(in[j]) : (in[j] >= '0' && in[j] <= '9')))
                j++;
            if (j > k) {
                out[o++] = strtol_low_byte(in + k, j - k, hex ? 16 : 10);
                i = j < n && in[j] == ';' ? j + 1 : j;
                continue;
            }
        } else {
            size_t k = j;
            while (j < n && is_alnum(in[j]))
                j++;
            if (j > k) {
                bool found = false;
                for (size_t e = 0; e < VG_ARRAY_LEN(names); e++) {
                    if (j - k == names[e].len &&
                        name_ieq((const char *)in + k, j - k, names[e].name)) {
                        out[o++] = names[e].byte;
                        found = true;
                        break;
                    }
                }
                if (found) {
                    i = j < n && in[j] == ';' ? j + 1 : j;
                    continue;
                }
                copy = j - i;
            }
        }
        /* Not decoded: copy the '&' and what was looked at ("&#", "&#x", "&name"). */
        memmove(out + o, in + i, copy);
        o += copy;
        i += copy;
    }
    return o;
}

/* ---- jsDecode, escapeSeqDecode, cssDecode ---------------------------------------------------- */

/* Byte for the single-letter escapes both jsDecode and escapeSeqDecode know, or -1. */
static int c_escape(uint8_t c)
{
    switch (c) {
    case 'a':
        return '\a';
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'v':
        return '\v';
    default:
        return -1;
    }
}

/* Number of octal digits (at most 3) at s[0..len). */
static size_t octal_run(const uint8_t *s, size_t len)
{
    size_t j = 0;
    while (j < len && j < 3 && is_odigit(s[j]))
        j++;
    return j;
}

static unsigned octal_value(const uint8_t *s, size_t len)
{
    unsigned v = 0;
    for (size_t k = 0; k < len; k++)
        v = v * 8 + (unsigned)(s[k] - '0');
    return v;
}

/*
 * JavaScript escapes: \uHHHH (lowercase u) -> the low byte, plus 0x20 for U+FF01..U+FF5E;
 * \xHH (lowercase x); \O, \OO, \OOO octal (a 3-digit form starting above '3' takes two digits
 * only, so the value fits a byte); \a \b \f \n \r \t \v; any other \c -> c. A lone trailing
 * backslash is kept.
 */
static size_t js_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        if (in[i] != '\\' || i + 1 >= n) {
            out[o++] = in[i++];
            continue;
        }
        uint8_t c = in[i + 1];
        if (c == 'u' && i + 5 < n && is_hex(in[i + 2]) && is_hex(in[i + 3]) && is_hex(in[i + 4]) &&
            is_hex(in[i + 5])) {
            uint8_t b = hex2(in[i + 4], in[i + 5]);
            if (b > 0x00 && b < 0x5F && is_ff(in[i + 2]) && is_ff(in[i + 3]))
                b += 0x20;
            out[o++] = b;
            i += 6;
        } else if (c == 'x' && i + 3 < n && is_hex(in[i + 2]) && is_hex(in[i + 3])) {
            out[o++] = hex2(in[i + 2], in[i + 3]);
            i += 4;
        } else if (is_odigit(c)) {
            size_t j = octal_run(in + i + 1, n - i - 1);
            if (j == 3 && in[i + 1] > '3')
                j = 2;
            out[o++] = (uint8_t)octal_value(in + i + 1, j);
            i += 1 + j;
        } else {
            int e = c_escape(c);
            out[o++] = e >= 0 ? (uint8_t)e : c;
            i += 2;
        }
    }
    return o;
}

/*
 * ANSI C escapes: \a \b \f \n \r \t \v \\ \? \' \", \xHH or \XHH, \O..\OOO octal (up to 0777,
 * truncated to a byte). An unrecognised or malformed escape drops the backslash and keeps the
 * next byte ("\q" -> "q", "\x4" -> "x4"); a lone trailing backslash is kept.
 */
static size_t escape_seq_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        if (in[i] != '\\' || i + 1 >= n) {
            out[o++] = in[i++];
            continue;
        }
        uint8_t c = in[i + 1];
        int e = c_escape(c);
        if (e < 0 && (c == '\\' || c == '?' || c == '\'' || c == '"'))
            e = c;
        if (e >= 0) {
            out[o++] = (uint8_t)e;
            i += 2;
        } else if ((c | 0x20) == 'x' && i + 3 < n && is_hex(in[i + 2]) && is_hex(in[i + 3])) {
            out[o++] = hex2(in[i + 2], in[i + 3]);
            i += 4;
        } else if (is_odigit(c)) {
            size_t j = octal_run(in + i + 1, n - i - 1);
            out[o++] = (uint8_t)octal_value(in + i + 1, j);
            i += 1 + j;
        } else {
            out[o++] = c;
            i += 2;
        }
    }
    return o;
}

/*
 * CSS 2.1 escapes: a backslash and 1..6 hex digits -> one byte, the value of the last two digits
 * (of the only digit when there is one); for 4 digits, and for 5 or 6 digits with leading zeros
 * ("0FFxx", "00FFxx"), the full-width forms FF01..FF5E map to ASCII (+0x20). One whitespace
 * byte after a hex escape is eaten. Backslash-newline is removed; a backslash before any other
 * byte is removed, the byte kept; a lone trailing backslash is removed.
 */
static size_t css_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        if (in[i] != '\\') {
            out[o++] = in[i++];
            continue;
        }
        if (i + 1 >= n) {
            i++; /* continuation to nothing */
            continue;
        }
        i++; /* the backslash */
        size_t j = 0;
        while (j < 6 && i + j < n && is_hex(in[i + j]))
            j++;
        if (j == 0) {
            if (in[i] == '\n')
                i++;
            else
                out[o++] = in[i++];
            continue;
        }
        uint8_t b = j == 1 ? (uint8_t)vg_hexval(in[i]) : hex2(in[i + j - 2], in[i + j - 1]);
        bool full =
            j == 4 || (j == 5 && in[i] == '0') || (j == 6 && in[i] == '0' && in[i + 1] == '0');
        if (full && b > 0x00 && b < 0x5F && is_ff(in[i + j - 3]) && is_ff(in[i + j - 4]))
            b += 0x20;
        out[o++] = b;
        if (i + j < n && c_isspace(in[i + j]))
            j++;
        i += j;
    }
    return o;
}

/* ---- case, NULs, whitespace, trim ------------------------------------------------------------ */

static size_t lowercase(const uint8_t *in, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        out[i] = (unsigned)(c - 'A') < 26u ? (uint8_t)(c | 0x20) : c;
    }
    return n;
}

static size_t uppercase(const uint8_t *in, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        out[i] = (unsigned)(c - 'a') < 26u ? (uint8_t)(c & ~0x20) : c;
    }
    return n;
}

static size_t remove_nulls(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i])
            out[o++] = in[i];
    }
    return o;
}

static size_t replace_nulls(const uint8_t *in, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] ? in[i] : ' ';
    return n;
}

/*
 * Removes every C-locale whitespace byte and every 0xA0 and 0xC2 byte (ModSecurity's test for
 * the non-breaking space, byte by byte: so it also eats the C2 lead of any U+0080..U+00BF).
 */
static size_t remove_whitespace(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (!c_isspace(c) && c != 0xA0 && c != 0xC2)
            out[o++] = c;
    }
    return o;
}

/*
 * Each run of C-locale whitespace becomes one space. Porting note: ModSecurity's source also
 * tests for 0xA0, but compares a signed char with 160, so 3.0.9 never matches it; vigil does
 * what 3.0.9 does.
 */
static size_t compress_whitespace(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    bool in_ws = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (c_isspace(c)) {
            if (!in_ws)
                out[o++] = ' ';
            in_ws = true;
        } else {
            out[o++] = c;
            in_ws = false;
        }
    }
    return o;
}

static size_t trim(const uint8_t *in, size_t n, uint8_t *out, bool left, bool right)
{
    size_t b = 0, e = n;
    if (left) {
        while (b < e && c_isspace(in[b]))
            b++;
    }
    if (right) {
        while (e > b && c_isspace(in[e - 1]))
            e--;
    }
    return copy_through(in + b, e - b, out);
}

/* ---- comments -------------------------------------------------------------------------------- */

static bool at2(const uint8_t *in, size_t n, size_t i, uint8_t a, uint8_t b)
{
    return i + 1 < n && in[i] == a && in[i + 1] == b;
}

static bool at3(const uint8_t *in, size_t n, size_t i, const char *s)
{
    return i + 2 < n && in[i] == (uint8_t)s[0] && in[i + 1] == (uint8_t)s[1] &&
           in[i + 2] == (uint8_t)s[2];
}

static bool at4(const uint8_t *in, size_t n, size_t i, const char *s)
{
    return i + 3 < n && at3(in, n, i, s) && in[i + 3] == (uint8_t)s[3];
}

/* Each C comment becomes one space; an unterminated one too. No nesting. */
static size_t replace_comments(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    bool comment = false;
    while (i < n) {
        if (!comment) {
            if (at2(in, n, i, '/', '*')) {
                comment = true;
                i += 2;
            } else {
                out[o++] = in[i++];
            }
        } else if (at2(in, n, i, '*', '/')) {
            comment = false;
            i += 2;
            out[o++] = ' ';
        } else {
            i++;
        }
    }
    if (comment)
        out[o++] = ' ';
    return o;
}

/*
 * Removes C comments and HTML comments (either closer ends either opener); "--" or '#' outside a
 * comment ends the value (the rest is dropped); an unterminated comment becomes one space. As in
 * ModSecurity, the byte right after a closer is copied without being looked at ("/ *x* /#y" keeps
 * "#y"). Porting note: ModSecurity 3.0.9 then appends a NUL when the closer ends the input
 * (it copies its string terminator); vigil does not.
 */
static size_t remove_comments(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    bool comment = false;
    while (i < n) {
        if (!comment) {
            if (at2(in, n, i, '/', '*')) {
                comment = true;
                i += 2;
            } else if (at4(in, n, i, "<!--")) {
                comment = true;
                i += 4;
            } else if (at2(in, n, i, '-', '-') || in[i] == '#') {
                break;
            } else {
                out[o++] = in[i++];
            }
        } else {
            size_t close = at2(in, n, i, '*', '/') ? 2 : at3(in, n, i, "-->") ? 3 : 0;
            if (close) {
                comment = false;
                i += close;
                if (i < n)
                    out[o++] = in[i];
                i++;
            } else {
                i++;
            }
        }
    }
    if (comment)
        out[o++] = ' ';
    return o;
}

/*
 * Deletes the comment characters themselves, wherever they are: "/ *", "* /", "<!--", "-->", "--"
 * and '#'. Deleting can join bytes into a new marker ("/ * / *" goes whole); earlier output is
 * never looked at again.
 */
static size_t remove_comments_char(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t skip = 0;
        if (at2(in, n, i, '/', '*') || at2(in, n, i, '*', '/'))
            skip = 2;
        else if (at4(in, n, i, "<!--"))
            skip = 4;
        else if (at3(in, n, i, "-->"))
            skip = 3;
        else if (at2(in, n, i, '-', '-'))
            skip = 2;
        else if (in[i] == '#')
            skip = 1;
        if (skip)
            i += skip;
        else
            out[o++] = in[i++];
    }
    return o;
}

/* ---- cmdLine --------------------------------------------------------------------------------- */

/*
 * Command-line evasion: deletes \ " ' ^; each run of space , ; \t \r \n becomes one space; a
 * space right before '/' or '(' is deleted; everything else is lowercased. Deleted characters
 * do not end a run ("a ' b" -> "a b").
 */
static size_t cmd_line(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        switch (c) {
        case '"':
        case '\'':
        case '\\':
        case '^':
            break;
        case ' ':
        case ',':
        case ';':
        case '\t':
        case '\r':
        case '\n':
            if (!space) {
                out[o++] = ' ';
                space = true;
            }
            break;
        case '/':
        case '(':
            if (space)
                o--;
            space = false;
            out[o++] = c;
            break;
        default:
            out[o++] = (unsigned)(c - 'A') < 26u ? (uint8_t)(c | 0x20) : c;
            space = false;
            break;
        }
    }
    return o;
}

/* ---- normalisePath, normalisePathWin --------------------------------------------------------- */

/*
 * ModSecurity's path normalization, reproduced step for step (its results on odd inputs are
 * part of what rules see): "//" collapses, "/./" and "/x/../" go, a trailing "/." or "/.."
 * resolves but keeps no trailing '/' unless the input had one, ".." above the root of an
 * absolute path is dropped and kept in a relative one ("../a" stays). With win, '\' is a
 * separator and becomes '/'.
 *
 * The state: s reads the input, d writes the output (d <= s always, so it works in place).
 * Porting note: in win mode ModSecurity converts '\' to '/' only at s and s + 1 as it steps, so
 * a '\' reached by skipping a run of separators is copied unconverted ("a/\\\\b" keeps one '\');
 * conv_hi tracks the highest input index converted so far to reproduce that.
 */
static size_t normalise_path(const uint8_t *in, size_t n, uint8_t *out, bool win)
{
    if (n == 0)
        return 0;
    const ptrdiff_t e = (ptrdiff_t)n - 1; /* index of the last byte */
    ptrdiff_t s = 0, d = 0, conv_hi = -1;
    bool hitroot = false, done = false;
#define RD(k) ((win && (k) <= conv_hi && in[k] == '\\') ? (uint8_t)'/' : in[k])
    const bool relative = !(in[0] == '/' || (win && in[0] == '\\'));
    const bool trailing = in[e] == '/' || (win && in[e] == '\\');

    while (!done && s <= e && d <= e) {
        if (win)
            conv_hi = s < e ? s + 1 : s;
        bool normalize;
        if (s == e) {
            done = true;
            normalize = true;
        } else {
            normalize = RD(s + 1) == '/';
        }
        if (normalize) {
            uint8_t c = RD(s);
            if (s != e && c == '/') {
                /* empty segment: the copy below collapses the run */
            } else if (c == '.') {
                if (d > 0 && out[d - 1] == '.') {
                    /* back-reference */
                    if (relative && (hitroot || d - 2 <= 0)) {
                        hitroot = true;
                        goto copy;
                    }
                    d -= 3;
                    while (d > 0 && out[d] != '/')
                        d--;
                    if (d <= 0) {
                        hitroot = true;
                        d = 0;
                        if (!relative && s == e)
                            d++;
                    }
                    if (done)
                        continue;
                    s++;
                } else if (d == 0) {
                    /* relative self-reference */
                    if (done)
                        continue;
                    s++;
                } else if (out[d - 1] == '/') {
                    /* self-reference */
                    if (done)
                        continue;
                    d--;
                    s++;
                }
            } else if (d > 0) {
                hitroot = false; /* a regular segment */
            }
        }
    copy:
        if (RD(s) == '/') {
            while (s < e && (in[s + 1] == '/' || (win && in[s + 1] == '\\')))
                s++;
            if (relative && d == 0) {
                s++;
                continue;
            }
        }
        out[d++] = RD(s);
        s++;
    }
#undef RD
    if (!trailing && d > 0 && out[d - 1] == '/')
        d--;
    return (size_t)d;
}

/* ---- utf8toUnicode --------------------------------------------------------------------------- */

static bool is_cont(uint8_t c)
{
    return (c & 0xC0) == 0x80;
}

/* Writes "%u" and cp in lowercase hex, at least 4 digits. */
static size_t put_pct_u(uint8_t *p, uint32_t cp)
{
    static const char hex[] = "0123456789abcdef";
    size_t digits = cp > 0xFFFFF ? 6 : cp > 0xFFFF ? 5 : 4;
    p[0] = '%';
    p[1] = 'u';
    for (size_t k = 0; k < digits; k++)
        p[2 + k] = (uint8_t)hex[(cp >> (4 * (digits - 1 - k))) & 0xF];
    return 2 + digits;
}

/*
 * Each well-formed-looking UTF-8 sequence (lead + continuation bytes, not checked further) ->
 * %uHHHH (lowercase, 4 to 6 digits). ModSecurity's error handling is kept: after an overlong
 * form or a surrogate the lead byte is copied too ("C0 AE" -> "%u002e" C0); a lead of F5..F7 is
 * copied before its %u; a lead without its continuation bytes is dropped; stray continuation
 * bytes and F8..FF are copied; NUL bytes are dropped (ModSecurity loses them to a C-string
 * round trip).
 */
static size_t utf8_to_unicode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t c = in[i];
        size_t len = 0; /* sequence length when valid */
        uint32_t d = 0;
        if (c < 0x80) {
            if (c)
                out[o++] = c;
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            if (i + 1 < n && is_cont(in[i + 1])) {
                len = 2;
                d = (uint32_t)(c & 0x1F) << 6 | (in[i + 1] & 0x3F);
            }
        } else if ((c & 0xF0) == 0xE0) {
            if (i + 2 < n && is_cont(in[i + 1]) && is_cont(in[i + 2])) {
                len = 3;
                d = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(in[i + 1] & 0x3F) << 6 |
                    (in[i + 2] & 0x3F);
            }
        } else if ((c & 0xF8) == 0xF0) {
            if (c >= 0xF5)
                out[o++] = c;
            if (i + 3 < n && is_cont(in[i + 1]) && is_cont(in[i + 2]) && is_cont(in[i + 3])) {
                len = 4;
                d = (uint32_t)(c & 0x07) << 18 | (uint32_t)(in[i + 1] & 0x3F) << 12 |
                    (uint32_t)(in[i + 2] & 0x3F) << 6 | (in[i + 3] & 0x3F);
            }
        } else {
            out[o++] = c; /* continuation byte or F8..FF */
            i++;
            continue;
        }
        if (!len) {
            i++; /* lead without its continuation bytes: dropped */
            continue;
        }
        o += put_pct_u(out + o, d);
        if (d >= 0xD800 && d <= 0xDFFF)
            out[o++] = c;
        if ((len == 4 && d < 0x10000) || (len == 3 && d < 0x800) || (len == 2 && d < 0x80))
            out[o++] = c;
        i += len;
    }
    return o;
}

/* ---- base64Decode, base64DecodeExt ----------------------------------------------------------- */

/* Value of a standard base64 digit, or -1. */
static int b64_std(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * Strict decoding, as ModSecurity's base64Decode (mbed TLS): the input ends at its first NUL
 * (ModSecurity passes a C string); "\r\n" and "\n" are skipped, spaces only right before a line
 * end or at the very end; at most two '=', and nothing but line ends after them. Any other byte
 * makes the whole result empty. A last group of fewer than four digits is dropped ("YWJjZA" ->
 * "abc"). Reads the input twice (check, then decode), so it works in place.
 */
static size_t base64_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    const uint8_t *nul = memchr(in, 0, n);
    if (nul)
        n = (size_t)(nul - in);
    unsigned equals = 0;
    for (size_t i = 0; i < n; i++) {
        bool spaces = false;
        while (i < n && in[i] == ' ') {
            i++;
            spaces = true;
        }
        if (i == n)
            break;
        if (in[i] == '\n' || (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n'))
            continue;
        if (spaces)
            return 0;
        if (in[i] == '=') {
            if (++equals > 2)
                return 0;
        } else if (equals || b64_std(in[i]) < 0) {
            return 0;
        }
    }
    size_t o = 0;
    uint32_t x = 0;
    unsigned digits = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (c == '\r' || c == '\n' || c == ' ')
            continue;
        x <<= 6;
        if (c == '=')
            pad++;
        else
            x |= (uint32_t)b64_std(c);
        if (++digits == 4) {
            digits = 0;
            out[o++] = (uint8_t)(x >> 16);
            if (pad <= 1)
                out[o++] = (uint8_t)(x >> 8);
            if (pad == 0)
                out[o++] = (uint8_t)x;
        }
    }
    return o;
}

/*
 * Forgiving decoding, as ModSecurity's base64DecodeExt: bytes outside the base64 alphabet are
 * skipped, NUL included (so are '-' and '_': no URL-safe alphabet); '=' is skipped too, except that
 * a '=' right after the first digit of a group and not followed by another '=' empties the result;
 * a trailing partial group gives its complete bytes ("YWJjZA" -> "abcd"). Quirk kept: when the last
 * byte looked at is '=' or the digit '9' (whose value, 61, is the code of '=') and one digit of a
 * group is pending, the result is empty too.
 */
static size_t base64_decode_ext(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    unsigned digits = 0; /* total digits mod 4 */
    int last = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (c == '=') {
            if ((i + 1 >= n || in[i + 1] != '=') && digits == 1)
                return 0;
            last = '=';
            continue;
        }
        int v = b64_std(c);
        last = v;
        if (v < 0)
            continue;
        acc = acc << 6 | (uint32_t)v;
        if (digits == 1)
            out[o++] = (uint8_t)(acc >> 4);
        else if (digits == 2)
            out[o++] = (uint8_t)(acc >> 2);
        else if (digits == 3)
            out[o++] = (uint8_t)acc;
        digits = (digits + 1) & 3;
    }
    if (last == '=' && digits == 1)
        return 0;
    return o;
}

/* ---- hexDecode, sqlHexDecode ----------------------------------------------------------------- */

/* Pairs of bytes -> one byte each (ModSecurity's x2c, digits not checked); an odd last byte goes.
 */
static size_t hex_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        out[o++] = x2c_any(in[i], in[i + 1]);
    return o;
}

/*
 * "0x" or "0X" followed by at least two hex digits: the pairs are decoded (an odd last digit
 * stays); as in ModSecurity, the byte right after a decoded run is copied without being looked
 * at ("0x410x42" -> "A0x42"). Porting note: ModSecurity 3.0.9 also stops at the first NUL, cuts
 * its output at a decoded NUL, and drops the last byte of every input ("abc" -> "ab"); vigil
 * does none of these.
 */
static size_t sql_hex_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        if (in[i] == '0' && i + 3 < n && (in[i + 1] | 0x20) == 'x' && is_hex(in[i + 2]) &&
            is_hex(in[i + 3])) {
            i += 2;
            while (i + 1 < n && is_hex(in[i]) && is_hex(in[i + 1])) {
                out[o++] = hex2(in[i], in[i + 1]);
                i += 2;
            }
            if (i < n)
                out[o++] = in[i++];
            continue;
        }
        out[o++] = in[i++];
    }
    return o;
}

/* ---- length ---------------------------------------------------------------------------------- */

static size_t length_of(size_t n, uint8_t *out)
{
    size_t digits = decimal_digits(n);
    for (size_t k = digits; k-- > 0;) {
        out[k] = (uint8_t)('0' + n % 10);
        n /= 10;
    }
    return digits;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

size_t vg_tfn_apply(enum vg_tfn t, const uint8_t *in, size_t n, uint8_t *out)
{
    switch (t) {
    case VG_TFN_NONE:
        return copy_through(in, n, out);
    case VG_TFN_URL_DECODE:
        return url_decode(in, n, out, false);
    case VG_TFN_URL_DECODE_UNI:
        return url_decode(in, n, out, true);
    case VG_TFN_HTML_ENTITY_DECODE:
        return html_entity_decode(in, n, out);
    case VG_TFN_JS_DECODE:
        return js_decode(in, n, out);
    case VG_TFN_CSS_DECODE:
        return css_decode(in, n, out);
    case VG_TFN_LOWERCASE:
        return lowercase(in, n, out);
    case VG_TFN_UPPERCASE:
        return uppercase(in, n, out);
    case VG_TFN_REMOVE_NULLS:
        return remove_nulls(in, n, out);
    case VG_TFN_REPLACE_NULLS:
        return replace_nulls(in, n, out);
    case VG_TFN_REMOVE_WHITESPACE:
        return remove_whitespace(in, n, out);
    case VG_TFN_COMPRESS_WHITESPACE:
        return compress_whitespace(in, n, out);
    case VG_TFN_REPLACE_COMMENTS:
        return replace_comments(in, n, out);
    case VG_TFN_REMOVE_COMMENTS:
        return remove_comments(in, n, out);
    case VG_TFN_REMOVE_COMMENTS_CHAR:
        return remove_comments_char(in, n, out);
    case VG_TFN_CMD_LINE:
        return cmd_line(in, n, out);
    case VG_TFN_NORMALISE_PATH:
        return normalise_path(in, n, out, false);
    case VG_TFN_NORMALISE_PATH_WIN:
        return normalise_path(in, n, out, true);
    case VG_TFN_UTF8_TO_UNICODE:
        return utf8_to_unicode(in, n, out);
    case VG_TFN_BASE64_DECODE:
        return base64_decode(in, n, out);
    case VG_TFN_BASE64_DECODE_EXT:
        return base64_decode_ext(in, n, out);
    case VG_TFN_HEX_DECODE:
        return hex_decode(in, n, out);
    case VG_TFN_SQL_HEX_DECODE:
        return sql_hex_decode(in, n, out);
    case VG_TFN_ESCAPE_SEQ_DECODE:
        return escape_seq_decode(in, n, out);
    case VG_TFN_TRIM:
        return trim(in, n, out, true, true);
    case VG_TFN_TRIM_LEFT:
        return trim(in, n, out, true, false);
    case VG_TFN_TRIM_RIGHT:
        return trim(in, n, out, false, true);
    case VG_TFN_LENGTH:
        return length_of(n, out);
    case VG_TFN_COUNT:
        break;
    }
    return copy_through(in, n, out);
}

/* ---- the pre-check --------------------------------------------------------------------------- */

static bool has_byte_in(const uint8_t *in, size_t n, const bool *set)
{
    for (size_t i = 0; i < n; i++) {
        if (set[in[i]])
            return true;
    }
    return false;
}

static bool has_pair(const uint8_t *in, size_t n, uint8_t a, uint8_t b)
{
    const uint8_t *p = in, *end = in + n;
    while (p < end && (p = memchr(p, a, (size_t)(end - p))) != NULL) {
        if (p + 1 < end && p[1] == b)
            return true;
        p++;
    }
    return false;
}

static bool has_range(const uint8_t *in, size_t n, uint8_t lo, uint8_t hi)
{
    for (size_t i = 0; i < n; i++) {
        if (in[i] >= lo && in[i] <= hi)
            return true;
    }
    return false;
}

static bool has_ws(const uint8_t *in, size_t n, bool with_c2)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (c_isspace(c) || c == 0xA0 || (with_c2 && c == 0xC2))
            return true;
    }
    return false;
}

bool vg_tfn_may_change(enum vg_tfn t, const uint8_t *in, size_t n)
{
    switch (t) {
    case VG_TFN_NONE:
        return false;
    case VG_TFN_URL_DECODE:
    case VG_TFN_URL_DECODE_UNI:
        return memchr(in, '%', n) || memchr(in, '+', n);
    case VG_TFN_HTML_ENTITY_DECODE:
        return memchr(in, '&', n) != NULL;
    case VG_TFN_JS_DECODE:
    case VG_TFN_CSS_DECODE:
    case VG_TFN_ESCAPE_SEQ_DECODE:
        return memchr(in, '\\', n) != NULL;
    case VG_TFN_LOWERCASE:
        return has_range(in, n, 'A', 'Z');
    case VG_TFN_UPPERCASE:
        return has_range(in, n, 'a', 'z');
    case VG_TFN_REMOVE_NULLS:
    case VG_TFN_REPLACE_NULLS:
        return memchr(in, 0, n) != NULL;
    case VG_TFN_REMOVE_WHITESPACE:
        return has_ws(in, n, true);
    case VG_TFN_COMPRESS_WHITESPACE:
        for (size_t i = 0; i < n; i++) {
            uint8_t c = in[i];
            if ((c_isspace(c) && c != ' ') || (c == ' ' && i + 1 < n && c_isspace(in[i + 1])))
                return true;
        }
        return false;
    case VG_TFN_REPLACE_COMMENTS:
        return has_pair(in, n, '/', '*');
    case VG_TFN_REMOVE_COMMENTS:
        return memchr(in, '#', n) || has_pair(in, n, '/', '*') || has_pair(in, n, '-', '-');
    case VG_TFN_REMOVE_COMMENTS_CHAR:
        return memchr(in, '#', n) || has_pair(in, n, '/', '*') || has_pair(in, n, '*', '/') ||
               has_pair(in, n, '-', '-');
    case VG_TFN_CMD_LINE: {
        static const bool set[256] = {
            ['"'] = true, ['\''] = true, ['\\'] = true, ['^'] = true,  [' '] = true,
            [','] = true, [';'] = true,  ['\t'] = true, ['\r'] = true, ['\n'] = true};
        return has_byte_in(in, n, set) || has_range(in, n, 'A', 'Z');
    }
    case VG_TFN_NORMALISE_PATH:
        return memchr(in, '.', n) || has_pair(in, n, '/', '/');
    case VG_TFN_NORMALISE_PATH_WIN:
        return memchr(in, '.', n) || memchr(in, '\\', n) || has_pair(in, n, '/', '/');
    case VG_TFN_UTF8_TO_UNICODE:
        return memchr(in, 0, n) || has_range(in, n, 0x80, 0xFF);
    case VG_TFN_SQL_HEX_DECODE:
        return has_pair(in, n, '0', 'x') || has_pair(in, n, '0', 'X');
    case VG_TFN_TRIM:
        return n > 0 && (c_isspace(in[0]) || c_isspace(in[n - 1]));
    case VG_TFN_TRIM_LEFT:
        return n > 0 && c_isspace(in[0]);
    case VG_TFN_TRIM_RIGHT:
        return n > 0 && c_isspace(in[n - 1]);
    case VG_TFN_BASE64_DECODE:
    case VG_TFN_BASE64_DECODE_EXT:
    case VG_TFN_HEX_DECODE:
        return n > 0;
    case VG_TFN_LENGTH:
    case VG_TFN_COUNT:
        return true;
    }
    return true;
}

/* ---- chains ---------------------------------------------------------------------------------- */

bool vg_tfn_apply_chain(const enum vg_tfn *chain, size_t k, const uint8_t *in, size_t n, uint8_t *a,
                        uint8_t *b, size_t cap, const uint8_t **out, size_t *out_n)
{
    const uint8_t *cur = in;
    uint8_t *held = NULL; /* the buffer (a or b) that holds cur, NULL while cur is in */
    size_t len = n;
    for (size_t s = 0; s < k; s++) {
        enum vg_tfn t = chain[s];
        if (t == VG_TFN_NONE || !vg_tfn_may_change(t, cur, len))
            continue;
        if (vg_tfn_max_out(t, len) > cap)
            return false;
        uint8_t *dst;
        if (!held)
            dst = a;
        else if (vg_tfn_in_place(t))
            dst = held;
        else
            dst = held == a ? b : a;
        len = vg_tfn_apply(t, cur, len, dst);
        cur = held = dst;
    }
    *out = cur;
    *out_n = len;
    return true;
}
