/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_format.c: log formats as data. A format specification (a preset name or an nginx
 * log_format string) is compiled once into a small program: a leading literal, then a sequence
 * of steps "field, then literal". vg_format_parse interprets that program over one line and fills
 * a vg_request with zero-copy views.
 *
 * Pipeline position: first stage; called by the workers on every line of every input.
 *
 * Invariants: compiled formats are immutable (shareable between threads); parsing never
 * allocates, never reads outside [line, line + len), and a line that does not fit yields a
 * vg_parse_result, never a crash. Every preset is a string in the nginx specifier language: there
 * is one parser, not one per format.
 */
#include <stdio.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ingest/ingest.h"

/* ---- the program ---------------------------------------------------------------------------- */

/* What a variable feeds in vg_request. */
enum vg_fmt_field {
    VG_FF_IGNORE = 0, /* parsed as a field, then dropped */
    VG_FF_CLIENT,
    VG_FF_USER,
    VG_FF_TIME_LOCAL,
    VG_FF_TIME_ISO,
    VG_FF_MSEC,
    VG_FF_REQUEST,
    VG_FF_METHOD,
    VG_FF_TARGET,
    VG_FF_PROTOCOL,
    VG_FF_STATUS,
    VG_FF_BYTES,
    VG_FF_REFERER,
    VG_FF_UA,
    VG_FF_HOST,
    VG_FF_COOKIE,
    VG_FF_BODY,
    VG_FF_CTYPE,
    VG_FF_PORT
};

/* nginx variables that vigil understands; every other variable is VG_FF_IGNORE. */
static const struct {
    const char *name;
    uint8_t field;
} vg_fmt_vars[] = {
    {"remote_addr", VG_FF_CLIENT},
    {"remote_user", VG_FF_USER},
    {"time_local", VG_FF_TIME_LOCAL},
    {"time_iso8601", VG_FF_TIME_ISO},
    {"msec", VG_FF_MSEC},
    {"request", VG_FF_REQUEST},
    {"request_method", VG_FF_METHOD},
    {"request_uri", VG_FF_TARGET},
    {"server_protocol", VG_FF_PROTOCOL},
    {"status", VG_FF_STATUS},
    {"body_bytes_sent", VG_FF_BYTES},
    {"bytes_sent", VG_FF_BYTES},
    {"http_referer", VG_FF_REFERER},
    {"http_user_agent", VG_FF_UA},
    {"host", VG_FF_HOST},
    {"http_host", VG_FF_HOST},
    {"server_name", VG_FF_HOST},
    {"http_cookie", VG_FF_COOKIE},
    {"request_body", VG_FF_BODY},
    {"content_type", VG_FF_CTYPE},
    {"http_content_type", VG_FF_CTYPE},
    {"server_port", VG_FF_PORT},
};

/* The presets, written in the one specifier language. */
static const struct {
    const char *name;
    const char *nginx;
} vg_fmt_presets[] = {
    {"combined", "$remote_addr - $remote_user [$time_local] \"$request\" $status "
                 "$body_bytes_sent \"$http_referer\" \"$http_user_agent\""},
    {"common", "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent"},
    /* Apache: %v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" */
    {"vhost_combined", "$host:$server_port $remote_addr $remote_ident $remote_user [$time_local] "
                       "\"$request\" $status $bytes_sent \"$http_referer\" \"$http_user_agent\""},
};

/* Step flags. */
enum {
    VG_FS_QUOTED = 1u << 0,   /* between a literal ending in an opening '"' and one starting with
                                 '"': the end is found by the escape-aware quote search */
    VG_FS_CLOSER = 1u << 1,   /* the next literal starts with '"' or ']': a miss is UNTERMINATED */
    VG_FS_LAST = 1u << 2,     /* the last step: what follows must be end of line or ' ' */
    VG_FS_WORD = 1u << 3,     /* last step without literal, value never has spaces: ends at ' ' */
    VG_FS_IN_QUOTES = 1u << 4 /* inside a quoted region (odd number of '"' in the literals
                                 before it): NUL bytes allowed, backslashes set ESCAPED */
};

/* One step: a field, then the literal that ends it (lit_len == 0 only for the last step). */
struct vg_fmt_step {
    uint32_t lit_off;
    uint32_t lit_len;
    uint8_t field;
    uint8_t flags;
};

struct vg_format {
    const char *name;    /* preset name or the specification (points into this allocation) */
    const uint8_t *lits; /* literal pool (points into this allocation) */
    uint32_t lead_len;   /* the leading literal is lits[0 .. lead_len) */
    uint32_t n_steps;
    struct vg_fmt_step steps[];
};

/* Limits of a specification (formats are configuration, but still bounded). */
#define VG_FMT_MAX_SPEC 8192
#define VG_FMT_MAX_STEPS 128

/* ---- compiler ------------------------------------------------------------------------------- */

static bool is_name_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static uint8_t lookup_var(const char *name, size_t n)
{
    struct vg_str s = vg_str_make(name, n);
    for (size_t i = 0; i < VG_ARRAY_LEN(vg_fmt_vars); i++) {
        const char *v = vg_fmt_vars[i].name;
        if (vg_str_ieq(s, vg_str_make(v, strlen(v))))
            return vg_fmt_vars[i].field;
    }
    return VG_FF_IGNORE;
}

/* Fields whose values never contain a space: as the last step they end at the first space. */
static bool field_is_word(uint8_t f)
{
    switch (f) {
    case VG_FF_CLIENT:
    case VG_FF_TIME_ISO:
    case VG_FF_MSEC:
    case VG_FF_METHOD:
    case VG_FF_PROTOCOL:
    case VG_FF_STATUS:
    case VG_FF_BYTES:
    case VG_FF_PORT:
        return true;
    default:
        return false;
    }
}

static vg_status compile_error(struct vg_error *err, const char *src, size_t pos, const char *what)
{
    size_t n = strlen(src);
    size_t ctx = n - pos < 24 ? n - pos : 24;
    return vg_error_set(err, VG_E_FORMAT, "log format", 0,
                        "invalid log format: %s at position %zu (near \"%.*s\")", what, pos + 1,
                        (int)ctx, src + pos);
}

/* A token of the nginx string: a literal [off, off+len) or a variable. */
struct vg_fmt_tok {
    uint32_t off, len;
    uint8_t field;
    bool is_var;
};

/*
 * Compiles a specification into a format program (see ingest.h).
 * OUT: *out owns the program (free with vg_format_free); NULL on failure.
 * Returns VG_OK, VG_E_INVAL (NULL spec), VG_E_FORMAT (err names the position and the fault) or
 * VG_E_NOMEM.
 */
vg_status vg_format_compile(const char *spec, struct vg_format **out, struct vg_error *err)
{
    *out = NULL;
    if (!spec)
        return vg_error_set(err, VG_E_INVAL, "log format", 0, "no log format given");
    const char *src = NULL;
    for (size_t i = 0; i < VG_ARRAY_LEN(vg_fmt_presets); i++)
        if (strcmp(spec, vg_fmt_presets[i].name) == 0)
            src = vg_fmt_presets[i].nginx;
    if (!src) {
        if (strncmp(spec, "nginx:", 6) != 0)
            return vg_error_set(err, VG_E_FORMAT, "log format", 0,
                                "unknown log format '%.64s' (expected combined, common, "
                                "vhost_combined or nginx:<log_format string>)",
                                spec);
        src = spec + 6;
    }
    size_t src_n = strlen(src);
    if (src_n > VG_FMT_MAX_SPEC)
        return vg_error_set(err, VG_E_FORMAT, "log format", 0,
                            "invalid log format: longer than %d bytes", VG_FMT_MAX_SPEC);

    /* Tokenize. Literal bytes are the source bytes themselves (no escapes in log_format). */
    struct vg_fmt_tok toks[2 * VG_FMT_MAX_STEPS + 1];
    size_t n_toks = 0, n_vars = 0;
    size_t i = 0;
    while (i < src_n) {
        if (src[i] != '$') {
            size_t j = i;
            while (j < src_n && src[j] != '$')
                j++;
            toks[n_toks++] = (struct vg_fmt_tok){(uint32_t)i, (uint32_t)(j - i), 0, false};
            i = j;
            continue;
        }
        size_t start = i, name_off, name_len;
        if (i + 1 < src_n && src[i + 1] == '{') {
            size_t j = i + 2;
            while (j < src_n && is_name_char((uint8_t)src[j]))
                j++;
            if (j >= src_n)
                return compile_error(err, src, start, "unterminated '${'");
            if (src[j] != '}')
                return compile_error(err, src, j, "invalid character in '${...}'");
            if (j == i + 2)
                return compile_error(err, src, start, "empty variable name '${}'");
            name_off = i + 2;
            name_len = j - i - 2;
            i = j + 1;
        } else {
            size_t j = i + 1;
            while (j < src_n && is_name_char((uint8_t)src[j]))
                j++;
            if (j == i + 1)
                return compile_error(err, src, start, "lone '$' (not followed by a variable name)");
            name_off = i + 1;
            name_len = j - i - 1;
            i = j;
        }
        if (n_toks > 0 && toks[n_toks - 1].is_var)
            return compile_error(err, src, start,
                                 "two variables with no literal between them (the parser "
                                 "could not tell where the first one ends)");
        if (n_vars == VG_FMT_MAX_STEPS)
            return compile_error(err, src, start, "too many variables");
        toks[n_toks++] = (struct vg_fmt_tok){(uint32_t)start, (uint32_t)(i - start),
                                             lookup_var(src + name_off, name_len), true};
        n_vars++;
    }
    if (n_vars == 0)
        return vg_error_set(err, VG_E_FORMAT, "log format", 0,
                            "invalid log format: no variables (a format needs at least one "
                            "$variable)");

    /* Lay out: header, steps, literal pool, name; one allocation. */
    size_t name_n = strlen(spec);
    size_t size =
        sizeof(struct vg_format) + n_vars * sizeof(struct vg_fmt_step) + src_n + name_n + 1;
    struct vg_format *fmt = vg_malloc(size);
    if (!fmt)
        return vg_error_set(err, VG_E_NOMEM, "log format", 0, "out of memory");
    uint8_t *pool = (uint8_t *)&fmt->steps[n_vars];
    char *name = (char *)pool + src_n;
    memcpy(name, spec, name_n + 1);
    fmt->name = name;
    fmt->lits = pool;
    fmt->n_steps = (uint32_t)n_vars;
    fmt->lead_len = 0;

    uint32_t pool_n = 0;
    size_t t = 0;
    if (n_toks > 0 && !toks[0].is_var) {
        memcpy(pool, src + toks[0].off, toks[0].len);
        fmt->lead_len = pool_n = toks[0].len;
        t = 1;
    }
    uint8_t prev_last = fmt->lead_len ? pool[fmt->lead_len - 1] : 0;
    unsigned quotes = 0; /* '"' seen in the literals so far: odd means inside a quoted region */
    for (uint32_t k = 0; k < fmt->lead_len; k++)
        quotes += pool[k] == '"';
    for (size_t s = 0; s < n_vars; s++, t++) {
        struct vg_fmt_step *st = &fmt->steps[s];
        assert(toks[t].is_var);
        st->field = toks[t].field;
        st->flags = 0;
        st->lit_off = pool_n;
        st->lit_len = 0;
        if (t + 1 < n_toks && !toks[t + 1].is_var) {
            t++;
            memcpy(pool + pool_n, src + toks[t].off, toks[t].len);
            st->lit_len = toks[t].len;
            pool_n += toks[t].len;
        }
        uint8_t next_first = st->lit_len ? pool[st->lit_off] : 0;
        if (quotes & 1) {
            st->flags |= VG_FS_IN_QUOTES;
            if (prev_last == '"' && next_first == '"')
                st->flags |= VG_FS_QUOTED;
        }
        if (next_first == '"' || next_first == ']')
            st->flags |= VG_FS_CLOSER;
        if (s + 1 == n_vars) {
            st->flags |= VG_FS_LAST;
            if (st->lit_len == 0 && field_is_word(st->field))
                st->flags |= VG_FS_WORD;
        }
        for (uint32_t k = 0; k < st->lit_len; k++)
            quotes += pool[st->lit_off + k] == '"';
        prev_last = st->lit_len ? pool[st->lit_off + st->lit_len - 1] : 0;
    }
    assert(pool_n <= src_n);
    *out = fmt;
    return VG_OK;
}

/* Frees a compiled format; NULL is harmless. No parse may be running with it. */
void vg_format_free(struct vg_format *fmt)
{
    vg_free(fmt);
}

/* The specification the format was compiled from (borrowed: valid until vg_format_free). */
const char *vg_format_name(const struct vg_format *fmt)
{
    return fmt->name;
}

/* ---- field scanners ------------------------------------------------------------------------- */

/*
 * memchr for short fields. Performance note: most unquoted fields (address, user, status,
 * bytes) are a few bytes long, where the call and setup of a vectorized memchr cost more than a
 * plain loop; longer fields still get memchr after the first 16 bytes.
 */
static inline const uint8_t *scan_byte(const uint8_t *s, const uint8_t *end, uint8_t c)
{
    const uint8_t *stop = (size_t)(end - s) > 16 ? s + 16 : end;
    for (; s < stop; s++)
        if (*s == c)
            return s;
    return s < end ? memchr(s, c, (size_t)(end - s)) : NULL;
}

/* Whether the literal lit[1 .. n) is at p (the first byte was already matched). */
static inline bool lit_rest_at(const uint8_t *p, const uint8_t *end, const uint8_t *lit, size_t n)
{
    if ((size_t)(end - p) < n)
        return false;
    for (size_t k = 1; k < n; k++)
        if (p[k] != lit[k])
            return false;
    return true;
}

/*
 * Finds where an unquoted field starting at p ends: at the first occurrence of its following
 * literal (and, for the last step, one followed by end of line or a space).
 * OUT: *fe = end of the field, *next = after the literal. Returns VG_PARSE_OK or the reason.
 */
static enum vg_parse_result find_literal(const uint8_t *p, const uint8_t *end, const uint8_t *lit,
                                         size_t lit_n, unsigned flags, const uint8_t **fe,
                                         const uint8_t **next)
{
    bool seen = false;
    const uint8_t *s = p;
    while (s < end) {
        const uint8_t *c = scan_byte(s, end, lit[0]);
        if (!c)
            break;
        if (lit_rest_at(c, end, lit, lit_n)) {
            const uint8_t *after = c + lit_n;
            if (!(flags & VG_FS_LAST) || after == end || *after == ' ') {
                *fe = c;
                *next = after;
                return VG_PARSE_OK;
            }
            if (!seen)
                *next = after; /* where the unexpected bytes start */
            seen = true;
        }
        s = c + 1;
    }
    if (seen)
        return VG_PARSE_TRAILING;
    return (flags & VG_FS_CLOSER) ? VG_PARSE_UNTERMINATED : VG_PARSE_LITERAL;
}

/*
 * First byte in [s, end) equal to a or b, or end. Performance note: quoted fields (request line,
 * referer, user agent) are the long ones; this looks for the closing quote and for backslashes
 * (VG_REQ_ESCAPED) in one pass, 16 bytes at a time where SSE2 exists. Loads stay inside
 * [s, end): the tail is done bytewise.
 */
static inline const uint8_t *scan_two(const uint8_t *s, const uint8_t *end, uint8_t a, uint8_t b)
{
#ifdef __SSE2__
    const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);
    while (end - s >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)));
        if (m)
            return s + __builtin_ctz(m);
        s += 16;
    }
#endif
    for (; s < end; s++)
        if (*s == a || *s == b)
            return s;
    return end;
}

/*
 * Finds the closing quote of a quoted field starting at p (just after its opening quote): the
 * first '"' not escaped by an odd run of backslashes after which the rest of the following
 * literal matches. Stray unescaped quotes inside the value (old Apache, some proxies) are
 * skipped by that lookahead. The literal starts with '"'. *escaped is set when the field holds a
 * backslash.
 * Security note: the backslash walk only covers the run just before each quote, so the scan is
 * linear in the line length whatever the input.
 */
static enum vg_parse_result find_quote_close(const uint8_t *p, const uint8_t *end,
                                             const uint8_t *lit, size_t lit_n, unsigned flags,
                                             const uint8_t **fe, const uint8_t **next,
                                             bool *escaped)
{
    bool seen = false;
    const uint8_t *s = p;
    while (s < end) {
        const uint8_t *c = scan_two(s, end, '"', '\\');
        if (c == end)
            break;
        s = c + 1;
        if (*c == '\\') {
            *escaped = true;
            continue;
        }
        const uint8_t *b = c;
        while (b > p && b[-1] == '\\')
            b--;
        if ((c - b) & 1)
            continue;
        if (lit_rest_at(c, end, lit, lit_n)) {
            const uint8_t *after = c + lit_n;
            if (!(flags & VG_FS_LAST) || after == end || *after == ' ') {
                *fe = c;
                *next = after;
                return VG_PARSE_OK;
            }
            if (!seen)
                *next = after; /* where the unexpected bytes start */
            seen = true;
        }
    }
    return seen ? VG_PARSE_TRAILING : VG_PARSE_UNTERMINATED;
}

/* ---- value parsers -------------------------------------------------------------------------- */

#define VG_DIG(c) ((unsigned)(c) - '0' <= 9u)
#define VG_D2(p) (((unsigned)(p)[0] - '0') * 10u + ((unsigned)(p)[1] - '0'))

/* Strict dotted-quad IPv4 (the inet_pton rules: four decimal parts <= 255, no leading zeros). */
static inline bool parse_ipv4_fast(const uint8_t *s, size_t n, struct vg_addr *out)
{
    if (n < 7 || n > 15)
        return false;
    uint8_t v4[4];
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        size_t st = i;
        unsigned v = 0;
        while (i < n && VG_DIG(s[i]) && i - st < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == st || v > 255 || (i - st > 1 && s[st] == '0'))
            return false;
        v4[part] = (uint8_t)v;
    }
    if (i != n)
        return false;
    vg_addr_from_v4(v4, out);
    return true;
}

/* The client address: IPv4 on a fast path, anything with a colon through vg_addr_parse. */
static inline bool parse_client(const uint8_t *s, size_t n, struct vg_addr *out)
{
    if (parse_ipv4_fast(s, n, out))
        return true;
    return n && memchr(s, ':', n) && vg_addr_parse(s, n, out);
}

/* A non-negative decimal of at most 18 digits (no sign, no spaces). */
static bool parse_u63(const uint8_t *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 18)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!VG_DIG(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/*
 * nginx $time_iso8601: "2026-08-01T00:00:00+00:00". Also accepted: a fraction of a second
 * (dropped), "Z", and an offset without colon (+0000).
 */
static bool parse_time_iso(const uint8_t *s, size_t n, int64_t *out)
{
    static const uint8_t mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return false;
    static const uint8_t digit_at[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
    for (size_t k = 0; k < sizeof digit_at; k++)
        if (!VG_DIG(s[digit_at[k]]))
            return false;
    unsigned year = VG_D2(s) * 100u + VG_D2(s + 2), mon = VG_D2(s + 5), day = VG_D2(s + 8);
    unsigned hh = VG_D2(s + 11), mm = VG_D2(s + 14), ss = VG_D2(s + 17);
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon] || hh > 23 || mm > 59 || ss > 60)
        return false;
    if (mon == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return false;
    size_t i = 19;
    if (i < n && s[i] == '.') {
        i++;
        size_t st = i;
        while (i < n && VG_DIG(s[i]))
            i++;
        if (i == st)
            return false;
    }
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        bool neg = s[i] == '-';
        const uint8_t *o = s + i + 1;
        size_t left = n - i - 1;
        unsigned oh, om;
        if (left == 5 && o[2] == ':' && VG_DIG(o[0]) && VG_DIG(o[1]) && VG_DIG(o[3]) &&
            VG_DIG(o[4])) {
            oh = VG_D2(o);
            om = VG_D2(o + 3);
        } else if (left == 4 && VG_DIG(o[0]) && VG_DIG(o[1]) && VG_DIG(o[2]) && VG_DIG(o[3])) {
            oh = VG_D2(o);
            om = VG_D2(o + 2);
        } else {
            return false;
        }
        if (oh > 23 || om > 59)
            return false;
        off = (int64_t)(oh * 3600u + om * 60u);
        if (neg)
            off = -off;
        i = n;
    } else {
        return false;
    }
    if (i != n)
        return false;
    *out = vg_days_from_civil(year, mon, day) * 86400 + (int64_t)(hh * 3600u + mm * 60u + ss) - off;
    return true;
}

/* nginx $msec: "1785542400.123" (seconds since the epoch, milliseconds optional). */
static bool parse_msec(const uint8_t *s, size_t n, int64_t *out)
{
    const uint8_t *dot = memchr(s, '.', n);
    size_t ip = dot ? (size_t)(dot - s) : n;
    if (ip == 0 || ip > 12 || !parse_u63(s, ip, out))
        return false;
    if (dot) {
        size_t fn = n - ip - 1;
        if (fn == 0 || fn > 9)
            return false;
        for (size_t k = 0; k < fn; k++)
            if (!VG_DIG(dot[1 + k]))
                return false;
    }
    return true;
}

static inline bool is_dash(const uint8_t *s, size_t n)
{
    return n == 1 && s[0] == '-';
}

/* A free-text field: "-" means not given. */
static inline struct vg_str text_or_null(const uint8_t *s, size_t n)
{
    return is_dash(s, n) ? VG_STR_NULL : vg_str_make(s, n);
}

/* The reason for a failed validation: NUL bytes outside quotes say "binary", else `r`. */
static inline enum vg_parse_result fail_or_binary(const uint8_t *s, size_t n, unsigned flags,
                                                  enum vg_parse_result r)
{
    if (!(flags & VG_FS_IN_QUOTES) && n && memchr(s, 0, n))
        return VG_PARSE_BINARY;
    return r;
}

/* Stores one field's value [s, s + n) into req. */
static enum vg_parse_result store_field(uint8_t field, unsigned flags, const uint8_t *s, size_t n,
                                        struct vg_request *req)
{
    int64_t v;
    switch ((enum vg_fmt_field)field) {
    case VG_FF_CLIENT:
        if (!parse_client(s, n, &req->addr))
            return fail_or_binary(s, n, flags, VG_PARSE_ADDR);
        req->client = vg_str_make(s, n);
        req->flags |= VG_REQ_HAS_ADDR;
        return VG_PARSE_OK;
    case VG_FF_TIME_LOCAL:
        if (!vg_parse_time_local(s, n, &req->time))
            return fail_or_binary(s, n, flags, VG_PARSE_TIME);
        req->flags |= VG_REQ_HAS_TIME;
        return VG_PARSE_OK;
    case VG_FF_TIME_ISO:
        if (!parse_time_iso(s, n, &req->time))
            return fail_or_binary(s, n, flags, VG_PARSE_TIME);
        req->flags |= VG_REQ_HAS_TIME;
        return VG_PARSE_OK;
    case VG_FF_MSEC:
        if (!parse_msec(s, n, &req->time))
            return fail_or_binary(s, n, flags, VG_PARSE_TIME);
        req->flags |= VG_REQ_HAS_TIME;
        return VG_PARSE_OK;
    case VG_FF_STATUS:
        if (n != 3 || !VG_DIG(s[0]) || !VG_DIG(s[1]) || !VG_DIG(s[2]))
            return fail_or_binary(s, n, flags, VG_PARSE_STATUS);
        req->status = (int32_t)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
        return VG_PARSE_OK;
    case VG_FF_BYTES:
        if (is_dash(s, n)) {
            req->bytes = -1;
            return VG_PARSE_OK;
        }
        if (!parse_u63(s, n, &req->bytes))
            return fail_or_binary(s, n, flags, VG_PARSE_NUMBER);
        return VG_PARSE_OK;
    case VG_FF_PORT:
        if (!is_dash(s, n) && (n > 5 || !parse_u63(s, n, &v) || v > 65535))
            return fail_or_binary(s, n, flags, VG_PARSE_NUMBER);
        return VG_PARSE_OK;
    default:
        break;
    }
    /* Free-text fields: outside quotes they may not hold NUL bytes. */
    if (!(flags & VG_FS_IN_QUOTES) && n && scan_byte(s, s + n, 0))
        return VG_PARSE_BINARY;
    switch ((enum vg_fmt_field)field) {
    case VG_FF_USER:
        req->user = text_or_null(s, n);
        break;
    case VG_FF_REQUEST:
        vg_request_split(vg_str_make(s, n), req);
        break;
    case VG_FF_METHOD:
        req->method = vg_str_make(s, n);
        break;
    case VG_FF_TARGET: {
        struct vg_str t = vg_str_make(s, n);
        const uint8_t *q = n ? memchr(s, '?', n) : NULL;
        req->target = t;
        req->path = q ? vg_str_make(s, (size_t)(q - s)) : t;
        req->query = q ? vg_str_make(q + 1, n - (size_t)(q - s) - 1) : VG_STR_NULL;
        break;
    }
    case VG_FF_PROTOCOL:
        req->protocol = vg_str_make(s, n);
        break;
    case VG_FF_REFERER:
        req->referer = text_or_null(s, n);
        break;
    case VG_FF_UA:
        req->user_agent = text_or_null(s, n);
        break;
    case VG_FF_HOST:
        /* $host, $http_host and $server_name all feed host: the first non-empty one wins. */
        if (req->host.n == 0)
            req->host = text_or_null(s, n);
        break;
    case VG_FF_COOKIE:
        req->cookie = text_or_null(s, n);
        break;
    case VG_FF_BODY:
        req->body = text_or_null(s, n);
        break;
    case VG_FF_CTYPE:
        req->content_type = text_or_null(s, n);
        break;
    default:
        break;
    }
    return VG_PARSE_OK;
}

/* ---- the interpreter ------------------------------------------------------------------------ */

/*
 * Parses one line with a compiled format (see ingest.h). Every field of *req except file_id,
 * offset and line_no is overwritten; on a result other than VG_PARSE_OK the fields are
 * unspecified (but still views into the line).
 * Performance note: one memchr per field to find its end (plus a literal check), one pass over
 * the short numeric fields; no allocation, no locale, no libc time functions.
 */
enum vg_parse_result vg_format_parse(const struct vg_format *fmt, const uint8_t *line, size_t len,
                                     struct vg_request *req)
{
    /* Performance note: field by field rather than memset, which compilers turn into a slow
       `rep stos` for a struct this size. */
    req->client = req->user = req->request = req->method = req->target = VG_STR_NULL;
    req->path = req->query = req->protocol = req->referer = req->user_agent = VG_STR_NULL;
    req->host = req->cookie = req->body = req->content_type = VG_STR_NULL;
    memset(req->addr.b, 0, sizeof req->addr.b);
    req->time = 0;
    req->status = -1;
    req->bytes = -1;
    req->flags = 0;

    if (len && line[len - 1] == '\r')
        len--;
    req->line = vg_str_make(line, len);
    size_t b = 0;
    while (b < len && (line[b] == ' ' || line[b] == '\t'))
        b++;
    if (b == len)
        return VG_PARSE_EMPTY;

    const uint8_t *p = line, *end = line + len;
    const uint8_t *lits = fmt->lits;
    if (fmt->lead_len) {
        size_t ln = fmt->lead_len;
        if ((size_t)(end - p) < ln || memcmp(p, lits, ln) != 0) {
            size_t avail = (size_t)(end - p) < ln ? (size_t)(end - p) : ln;
            return memchr(p, 0, avail) ? VG_PARSE_BINARY : VG_PARSE_LITERAL;
        }
        p += ln;
    }
    for (uint32_t i = 0; i < fmt->n_steps; i++) {
        const struct vg_fmt_step *st = &fmt->steps[i];
        unsigned flags = st->flags;
        const uint8_t *fs = p, *fe, *next;
        if (st->lit_len == 0) {
            fe = end;
            if (flags & VG_FS_WORD) {
                const uint8_t *sp = memchr(p, ' ', (size_t)(end - p));
                if (sp)
                    fe = sp;
            }
            next = fe;
            if ((flags & VG_FS_IN_QUOTES) && fe > p && memchr(p, '\\', (size_t)(fe - p)))
                req->flags |= VG_REQ_ESCAPED;
        } else {
            enum vg_parse_result r;
            if (flags & VG_FS_QUOTED) {
                bool esc = false;
                r = find_quote_close(p, end, lits + st->lit_off, st->lit_len, flags, &fe, &next,
                                     &esc);
                if (esc)
                    req->flags |= VG_REQ_ESCAPED;
            } else if (st->field == VG_FF_TIME_LOCAL && (size_t)(end - p) >= 26 + st->lit_len &&
                       p[26] == lits[st->lit_off] &&
                       lit_rest_at(p + 26, end, lits + st->lit_off, st->lit_len) &&
                       (!(flags & VG_FS_LAST) || p + 26 + st->lit_len == end ||
                        p[26 + st->lit_len] == ' ')) {
                /* $time_local is fixed-width and has a space inside: when its literal is where
                   26 bytes end it, take them (an unbracketed "$time_local $remote_addr"). */
                fe = p + 26;
                next = fe + st->lit_len;
                r = VG_PARSE_OK;
            } else {
                r = find_literal(p, end, lits + st->lit_off, st->lit_len, flags, &fe, &next);
                if (r == VG_PARSE_OK && (flags & VG_FS_IN_QUOTES) && fe > p &&
                    memchr(p, '\\', (size_t)(fe - p)))
                    req->flags |= VG_REQ_ESCAPED;
            }
            if (r != VG_PARSE_OK) {
                /* NULs outside quotes make the reason "binary": in the unquoted field itself,
                   or in the bytes after the last literal. */
                const uint8_t *from = r == VG_PARSE_TRAILING      ? next
                                      : (flags & VG_FS_IN_QUOTES) ? end
                                                                  : p;
                if (from < end && memchr(from, 0, (size_t)(end - from)))
                    return VG_PARSE_BINARY;
                return r;
            }
        }
        enum vg_parse_result r = store_field(st->field, flags, fs, (size_t)(fe - fs), req);
        if (r != VG_PARSE_OK)
            return r;
        p = next;
    }
    if (p < end && *p != ' ')
        return memchr(p, 0, (size_t)(end - p)) ? VG_PARSE_BINARY : VG_PARSE_TRAILING;
    return VG_PARSE_OK;
}
