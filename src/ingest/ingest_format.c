/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_format.c: log formats as data. A line format (a preset, an nginx log_format string, an
 * Apache LogFormat string, a W3C #Fields list) is translated into one token list by a builder,
 * then laid out as a small program: a leading literal, then a sequence of steps "field, then
 * literal". vg_format_parse interprets that program over one line and fills a vg_request with
 * zero-copy views. JSON lines and HAProxy lines have their own parsers (ingest_json.c,
 * ingest_haproxy.c) behind the same entry point, and share the field store and the finishing
 * step (request line, target, --real-ip client) that live here.
 *
 * Pipeline position: first stage; called by the workers on every line of every input.
 *
 * Invariants: compiled formats are immutable (shareable between threads); parsing never
 * allocates, never reads outside [line, line + len), writes only inside the caller's
 * vg_parse_buf, and a line that does not fit yields a vg_parse_result, never a crash. Every
 * preset is a string in one of the specifier languages: there is one interpreter, not one per
 * format.
 */
#include <stdio.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ingest/ingest_int.h"

/* Performance note: the per-line path is a handful of small functions; forcing them inline
   keeps the interpreter one loop without calls, as it was before the other formats arrived. */
#define VG_ALWAYS_INLINE inline __attribute__((always_inline))

/* ---- nginx variables ------------------------------------------------------------------------ */

/* nginx variables that vigil understands; every other variable is VG_FF_IGNORE, except
   $http_<name>, which is a request header. */
static const struct {
    const char *name;
    uint8_t field;
} vg_nginx_vars[] = {
    {"remote_addr", VG_FF_CLIENT},
    {"realip_remote_addr", VG_FF_PEER},
    {"remote_user", VG_FF_USER},
    {"time_local", VG_FF_TIME_LOCAL},
    {"time_iso8601", VG_FF_TIME_ISO},
    {"msec", VG_FF_EPOCH},
    {"request", VG_FF_REQUEST},
    {"request_method", VG_FF_METHOD},
    {"request_uri", VG_FF_TARGET},
    {"uri", VG_FF_PATH},
    {"document_uri", VG_FF_PATH},
    {"args", VG_FF_QUERY},
    {"query_string", VG_FF_QUERY},
    {"is_args", VG_FF_IS_ARGS},
    {"server_protocol", VG_FF_PROTOCOL},
    {"status", VG_FF_STATUS},
    {"body_bytes_sent", VG_FF_BYTES},
    {"bytes_sent", VG_FF_BYTES},
    {"host", VG_FF_HOST},
    {"server_name", VG_FF_HOST},
    {"request_body", VG_FF_BODY},
    {"content_type", VG_FF_CTYPE},
    {"server_port", VG_FF_PORT},
};

/* The presets, written in the nginx specifier language. */
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
    /* nginx's documented default `main` (combined + the X-Forwarded-For header) */
    {"main", "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
             "\"$http_referer\" \"$http_user_agent\" \"$http_x_forwarded_for\""},
};

static bool ascii_ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x == '_')
            x = '-';
        if (y == '_')
            y = '-';
        if (x != y)
            return false;
    }
    return true;
}

/*
 * A request header's name -> the vg_request field that carries it, or VG_FF_HEADER. Names
 * compare case-insensitively, '_' equal to '-'.
 */
uint8_t vg_header_field(const char *name, size_t n)
{
    if (ascii_ieq(name, n, "referer") || ascii_ieq(name, n, "referrer"))
        return VG_FF_REFERER;
    if (ascii_ieq(name, n, "user-agent"))
        return VG_FF_UA;
    if (ascii_ieq(name, n, "cookie"))
        return VG_FF_COOKIE;
    if (ascii_ieq(name, n, "host"))
        return VG_FF_HOST;
    if (ascii_ieq(name, n, "content-type"))
        return VG_FF_CTYPE;
    return VG_FF_HEADER;
}

/*
 * nginx variable name -> field. $http_<x> is the request header <x>: its display name
 * ("X-Forwarded-For" for $http_x_forwarded_for) is written into hdr (cap bytes, NUL-terminated)
 * and *hdr_n, and the field is the header's (referer, user agent, ...) or VG_FF_HEADER.
 */
uint8_t vg_nginx_var_field(const char *name, size_t n, char *hdr, size_t cap, size_t *hdr_n)
{
    *hdr_n = 0;
    for (size_t i = 0; i < VG_ARRAY_LEN(vg_nginx_vars); i++)
        if (ascii_ieq(name, n, vg_nginx_vars[i].name))
            return vg_nginx_vars[i].field;
    const char *h = NULL;
    size_t hn = 0;
    if (n > 5 && ascii_ieq(name, 5, "http_")) {
        h = name + 5;
        hn = n - 5;
    } else if (ascii_ieq(name, n, "proxy_add_x_forwarded_for")) {
        h = "x_forwarded_for";
        hn = 15;
    }
    if (!h || hn + 1 > cap)
        return VG_FF_IGNORE;
    /* Display form: words capitalized, '_' -> '-' (x_forwarded_for -> X-Forwarded-For). */
    bool word = true;
    for (size_t i = 0; i < hn; i++) {
        char c = h[i];
        if (c == '_' || c == '-') {
            hdr[i] = '-';
            word = true;
            continue;
        }
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (word && c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        hdr[i] = c;
        word = false;
    }
    hdr[hn] = 0;
    *hdr_n = hn;
    return vg_header_field(hdr, hn);
}

/*
 * Normalized field name for --real-ip matching (see ingest_int.h): strips "$", "%{...}i",
 * "cs(...)", lower-cases, '-' -> '_', then strips a leading "http_".
 */
void vg_field_norm(const char *name, size_t n, char *out, size_t cap)
{
    if (cap == 0)
        return;
    if (n && name[0] == '$') {
        name++;
        n--;
    }
    if (n >= 4 && name[0] == '%' && name[1] == '{' && name[n - 1] == 'i' && name[n - 2] == '}') {
        name += 2;
        n -= 4;
    } else if (n >= 4 && (name[0] == 'c' || name[0] == 'C') && (name[1] == 's' || name[1] == 'S') &&
               name[2] == '(' && name[n - 1] == ')') {
        name += 3;
        n -= 4;
    }
    if (n >= 2 && name[0] == '{' && name[n - 1] == '}') {
        name++;
        n -= 2;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c == '-')
            c = '_';
        out[k++] = c;
    }
    out[k] = 0;
    if (k > 5 && memcmp(out, "http_", 5) == 0)
        memmove(out, out + 5, k - 5 + 1);
}

/* ---- the builder ---------------------------------------------------------------------------- */

vg_status vg_fmt_error(struct vg_error *err, const char *what, const char *src, size_t pos,
                       const char *msg)
{
    size_t n = strlen(src);
    if (pos > n)
        pos = n;
    size_t ctx = n - pos < 24 ? n - pos : 24;
    return vg_error_set(err, VG_E_FORMAT, what, 0, "invalid %s: %s at position %zu (near \"%.*s\")",
                        what, msg, pos + 1, (int)ctx, src + pos);
}

void vg_fb_init(struct vg_fmt_builder *b, const char *src, const char *what, const char *real_ip)
{
    b->src = src;
    b->what = what;
    b->n_toks = b->n_vars = 0;
    b->pool_n = 0;
    b->real_ip = real_ip && *real_ip ? real_ip : NULL;
}

vg_status vg_fb_lit(struct vg_fmt_builder *b, const void *p, size_t n, size_t pos,
                    struct vg_error *err)
{
    if (n == 0)
        return VG_OK;
    if (b->pool_n + n > sizeof b->pool)
        return vg_fmt_error(err, b->what, b->src, pos, "the format is too long");
    memcpy(b->pool + b->pool_n, p, n);
    if (b->n_toks && !b->toks[b->n_toks - 1].is_var &&
        b->toks[b->n_toks - 1].off + b->toks[b->n_toks - 1].len == b->pool_n) {
        b->toks[b->n_toks - 1].len += (uint32_t)n;
    } else {
        if (b->n_toks == VG_ARRAY_LEN(b->toks))
            return vg_fmt_error(err, b->what, b->src, pos, "too many fields");
        b->toks[b->n_toks++] =
            (struct vg_fmt_tok){(uint32_t)b->pool_n, (uint32_t)n, (uint32_t)pos, 0, 0, false};
    }
    b->pool_n += n;
    return VG_OK;
}

vg_status vg_fb_var(struct vg_fmt_builder *b, uint8_t field, const void *aux, size_t aux_n,
                    size_t pos, struct vg_error *err)
{
    if (b->n_toks && b->toks[b->n_toks - 1].is_var) {
        struct vg_fmt_tok *prev = &b->toks[b->n_toks - 1];
        /* $uri$is_args$args and %U%q are one request-target written in two or three parts. */
        if (prev->field == VG_FF_PATH && field == VG_FF_IS_ARGS) {
            prev->field = VG_FF_COUNT; /* "$uri$is_args": a target, if $args follows */
            return VG_OK;
        }
        if ((prev->field == VG_FF_COUNT && field == VG_FF_QUERY) ||
            (prev->field == VG_FF_PATH && field == VG_FF_QUERY_Q)) {
            prev->field = VG_FF_TARGET;
            return VG_OK;
        }
        return vg_fmt_error(err, b->what, b->src, pos,
                            "two variables with no literal between them (the parser could not "
                            "tell where the first one ends)");
    }
    if (b->n_vars == VG_FMT_MAX_STEPS || b->n_toks == VG_ARRAY_LEN(b->toks))
        return vg_fmt_error(err, b->what, b->src, pos, "too many fields");
    if (aux_n > UINT16_MAX || b->pool_n + aux_n > sizeof b->pool)
        return vg_fmt_error(err, b->what, b->src, pos, "the format is too long");
    uint8_t flags = 0;
    if (b->real_ip && field == VG_FF_HEADER && aux_n) {
        char norm[128];
        vg_field_norm(aux, aux_n, norm, sizeof norm);
        if (strcmp(norm, b->real_ip) == 0)
            flags |= VG_FS_FORWARDED;
    }
    if (aux_n)
        memcpy(b->pool + b->pool_n, aux, aux_n);
    b->toks[b->n_toks++] =
        (struct vg_fmt_tok){(uint32_t)b->pool_n, (uint32_t)aux_n, (uint32_t)pos, field, flags, true};
    b->pool_n += aux_n;
    b->n_vars++;
    return VG_OK;
}

/* Fields whose values never contain a space: as the last step they end at the first space. */
static bool field_is_word(uint8_t f)
{
    switch (f) {
    case VG_FF_CLIENT:
    case VG_FF_CLIENT_PORT:
    case VG_FF_PEER:
    case VG_FF_TIME_ISO:
    case VG_FF_EPOCH:
    case VG_FF_DATE:
    case VG_FF_CLOCK:
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

/* Fields whose value may need a vg_parse_buf (joined target, request line). */
static bool field_needs_buf(uint8_t f)
{
    return f == VG_FF_METHOD || f == VG_FF_TARGET || f == VG_FF_PATH || f == VG_FF_QUERY ||
           f == VG_FF_QUERY_Q;
}

vg_status vg_fb_build(struct vg_fmt_builder *b, const char *name, uint8_t kind, uint8_t escape,
                      struct vg_format **out, struct vg_error *err)
{
    *out = NULL;
    for (size_t t = 0; t < b->n_toks; t++)
        if (b->toks[t].is_var && b->toks[t].field == VG_FF_COUNT)
            b->toks[t].field = VG_FF_TARGET; /* "$uri$is_args" alone: "/path" or "/path?" */
    if (b->n_vars == 0)
        return vg_error_set(err, VG_E_FORMAT, b->what, 0,
                            "invalid %s: no variables (a format needs at least one field)",
                            b->what);
    size_t name_n = strlen(name);
    size_t n_vars = b->n_vars;
    size_t size = sizeof(struct vg_format) + n_vars * sizeof(struct vg_fmt_step) + b->pool_n +
                  name_n + 1;
    struct vg_format *fmt = vg_calloc(1, size);
    if (!fmt)
        return vg_error_set(err, VG_E_NOMEM, b->what, 0, "out of memory");
    uint8_t *pool = (uint8_t *)&fmt->steps[n_vars];
    memcpy(pool, b->pool, b->pool_n);
    char *nm = (char *)pool + b->pool_n;
    memcpy(nm, name, name_n + 1);
    fmt->name = nm;
    fmt->lits = pool;
    fmt->kind = kind;
    fmt->escape = escape;
    fmt->n_steps = (uint32_t)n_vars;
    fmt->needs_buf = escape == VG_ESC_JSON;

    size_t t = 0;
    const uint8_t *prev_lit = NULL;
    size_t prev_lit_n = 0;
    unsigned quotes = 0; /* '"' seen in the literals so far: odd means inside a quoted region */
    if (b->n_toks > 0 && !b->toks[0].is_var) {
        fmt->lead_off = b->toks[0].off;
        fmt->lead_len = b->toks[0].len;
        prev_lit = pool + fmt->lead_off;
        prev_lit_n = fmt->lead_len;
        for (uint32_t k = 0; k < fmt->lead_len; k++)
            quotes += prev_lit[k] == '"';
        t = 1;
    }
    for (size_t s = 0; s < n_vars; s++, t++) {
        struct vg_fmt_step *st = &fmt->steps[s];
        const struct vg_fmt_tok *tk = &b->toks[t];
        assert(tk->is_var);
        st->field = tk->field;
        st->flags = tk->flags;
        st->aux_off = tk->off;
        st->aux_len = (uint16_t)tk->len;
        st->lit_off = 0;
        st->lit_len = 0;
        if (tk->flags & VG_FS_FORWARDED)
            fmt->has_forwarded = true;
        if (field_needs_buf(tk->field))
            fmt->needs_buf = true;
        if (t + 1 < b->n_toks && !b->toks[t + 1].is_var) {
            t++;
            st->lit_off = b->toks[t].off;
            st->lit_len = b->toks[t].len;
        }
        const uint8_t *lit = pool + st->lit_off;
        uint8_t next_first = st->lit_len ? lit[0] : 0;
        uint8_t prev_last = prev_lit_n ? prev_lit[prev_lit_n - 1] : 0;
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
            quotes += lit[k] == '"';
        if (st->lit_len) {
            prev_lit = lit;
            prev_lit_n = st->lit_len;
        } else {
            prev_lit = NULL;
            prev_lit_n = 0;
        }
    }
    *out = fmt;
    return VG_OK;
}

/* ---- nginx log_format strings ---------------------------------------------------------------- */

static bool is_name_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Tokenizes an nginx log_format string (literal bytes are the source bytes, no escapes). */
static vg_status nginx_tokens(struct vg_fmt_builder *b, const char *src, size_t src_n,
                              struct vg_error *err)
{
    size_t i = 0;
    while (i < src_n) {
        if (src[i] != '$') {
            size_t j = i;
            while (j < src_n && src[j] != '$')
                j++;
            vg_status st = vg_fb_lit(b, src + i, j - i, i, err);
            if (st != VG_OK)
                return st;
            i = j;
            continue;
        }
        size_t start = i, name_off, name_len;
        if (i + 1 < src_n && src[i + 1] == '{') {
            size_t j = i + 2;
            while (j < src_n && is_name_char((uint8_t)src[j]))
                j++;
            if (j >= src_n)
                return vg_fmt_error(err, b->what, src, start, "unterminated '${'");
            if (src[j] != '}')
                return vg_fmt_error(err, b->what, src, j, "invalid character in '${...}'");
            if (j == i + 2)
                return vg_fmt_error(err, b->what, src, start, "empty variable name '${}'");
            name_off = i + 2;
            name_len = j - i - 2;
            i = j + 1;
        } else {
            size_t j = i + 1;
            while (j < src_n && is_name_char((uint8_t)src[j]))
                j++;
            if (j == i + 1)
                return vg_fmt_error(err, b->what, src, start,
                                    "lone '$' (not followed by a variable name)");
            name_off = i + 1;
            name_len = j - i - 1;
            i = j;
        }
        char hdr[128];
        size_t hdr_n = 0;
        uint8_t field = vg_nginx_var_field(src + name_off, name_len, hdr, sizeof hdr, &hdr_n);
        vg_status st = vg_fb_var(b, field, hdr, field == VG_FF_HEADER ? hdr_n : 0, start, err);
        if (st != VG_OK)
            return st;
    }
    return VG_OK;
}

static vg_status nginx_compile(const char *name, const char *src, uint8_t escape,
                               const char *real_ip, struct vg_format **out, struct vg_error *err)
{
    size_t src_n = strlen(src);
    if (src_n > VG_FMT_MAX_SPEC)
        return vg_error_set(err, VG_E_FORMAT, "log format", 0,
                            "invalid log format: longer than %d bytes", VG_FMT_MAX_SPEC);
    struct vg_fmt_builder *b = vg_malloc(sizeof *b);
    if (!b)
        return vg_error_set(err, VG_E_NOMEM, "log format", 0, "out of memory");
    vg_fb_init(b, src, "log format", real_ip);
    vg_status st = nginx_tokens(b, src, src_n, err);
    if (st == VG_OK)
        st = vg_fb_build(b, name, VG_FK_LINE, escape, out, err);
    vg_free(b);
    return st;
}

/* ---- --real-ip -------------------------------------------------------------------------------- */

static bool parse_cidr(const char *s, size_t n, struct vg_cidr *out)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash ? (size_t)(slash - s) : n;
    if (!vg_addr_parse((const uint8_t *)s, an, &out->net))
        return false;
    bool v4 = vg_addr_is_v4(&out->net);
    unsigned bits = v4 ? 32 : 128;
    if (slash) {
        size_t bn = n - an - 1;
        if (bn == 0 || bn > 3)
            return false;
        unsigned v = 0;
        for (size_t i = 0; i < bn; i++) {
            if (!VG_DIG(slash[1 + i]))
                return false;
            v = v * 10 + (unsigned)(slash[1 + i] - '0');
        }
        if (v > bits)
            return false;
        bits = v;
    }
    out->bits = (uint8_t)(v4 ? bits + 96 : bits);
    /* Clear host bits so that matching is a masked compare. */
    for (unsigned i = out->bits; i < 128; i++)
        out->net.b[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
    return true;
}

static bool cidr_match(const struct vg_cidr *c, size_t n, const struct vg_addr *a)
{
    for (size_t i = 0; i < n; i++) {
        unsigned bits = c[i].bits, full = bits / 8;
        if (memcmp(c[i].net.b, a->b, full) != 0)
            continue;
        if (bits % 8) {
            uint8_t mask = (uint8_t)(0xff00u >> (bits % 8));
            if ((a->b[full] & mask) != c[i].net.b[full])
                continue;
        }
        return true;
    }
    return false;
}

vg_status vg_fmt_attach_real_ip(struct vg_format *fmt, const struct vg_format_options *opt,
                                struct vg_error *err)
{
    if (!opt || !opt->real_ip || !*opt->real_ip)
        return VG_OK;
    if (!opt->trusted || !*opt->trusted)
        return vg_error_set(err, VG_E_INVAL, "--trusted-proxies", 0,
                            "--real-ip needs --trusted-proxies (the proxies whose %s is believed)",
                            opt->real_ip);
    char norm[128];
    vg_field_norm(opt->real_ip, strlen(opt->real_ip), norm, sizeof norm);
    size_t n = 1;
    for (const char *p = opt->trusted; *p; p++)
        n += *p == ',';
    fmt->trusted = vg_calloc(n, sizeof *fmt->trusted);
    fmt->real_ip = vg_strdup(norm);
    if (!fmt->trusted || !fmt->real_ip)
        return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    fmt->n_trusted = 0;
    const char *p = opt->trusted;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *a = p;
        size_t an = len;
        while (an && (*a == ' ' || *a == '\t')) {
            a++;
            an--;
        }
        while (an && (a[an - 1] == ' ' || a[an - 1] == '\t'))
            an--;
        if (an && !parse_cidr(a, an, &fmt->trusted[fmt->n_trusted++]))
            return vg_error_set(err, VG_E_INVAL, "--trusted-proxies", 0,
                                "--trusted-proxies: '%.*s' is not an IPv4/IPv6 address or network "
                                "(a.b.c.d/n, x::/n)",
                                (int)(an > 64 ? 64 : an), a);
        p = e ? e + 1 : p + len;
    }
    if (fmt->n_trusted == 0)
        return vg_error_set(err, VG_E_INVAL, "--trusted-proxies", 0,
                            "--trusted-proxies lists no network");
    if (fmt->kind == VG_FK_LINE && !fmt->has_forwarded)
        return vg_error_set(err, VG_E_FORMAT, "--real-ip", 0,
                            "--real-ip %s: the format '%.200s' does not log that field",
                            opt->real_ip, fmt->name);
    return VG_OK;
}

/*
 * The client behind trusted proxies: when the socket address is trusted, the rightmost address
 * of the chain that is not trusted (or the leftmost, when all are). Elements may carry a port
 * or brackets; an element that is not an address ends the walk (the last good hop is kept).
 */
static void apply_real_ip(const struct vg_format *fmt, struct vg_request *req, struct vg_str chain)
{
    if (!(req->flags & VG_REQ_HAS_ADDR) || !cidr_match(fmt->trusted, fmt->n_trusted, &req->addr))
        return;
    const uint8_t *p = chain.p, *end = chain.p + chain.n;
    struct vg_str best_text = VG_STR_NULL;
    struct vg_addr best;
    while (end > p) {
        const uint8_t *e = end;
        while (e > p && e[-1] != ',')
            e--;
        const uint8_t *a = e, *z = end;
        while (a < z && (*a == ' ' || *a == '\t'))
            a++;
        while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
            z--;
        end = e > p ? e - 1 : p;
        if (a == z)
            continue;
        struct vg_addr ad;
        struct vg_str ip;
        if (!vg_parse_client_port(a, (size_t)(z - a), &ad, &ip))
            break;
        best = ad;
        best_text = ip;
        if (!cidr_match(fmt->trusted, fmt->n_trusted, &ad))
            break;
    }
    if (best_text.n == 0)
        return;
    req->peer = req->client;
    req->client = best_text;
    req->addr = best;
    req->flags |= VG_REQ_FORWARDED;
}

/* ---- compile dispatch ------------------------------------------------------------------------ */

/*
 * Compiles a specification into a format program (see ingest.h).
 * OUT: *out owns the program (free with vg_format_free); NULL on failure.
 * Returns VG_OK, VG_E_INVAL (NULL spec, bad --trusted-proxies), VG_E_FORMAT (err names the
 * position and the fault) or VG_E_NOMEM.
 */
vg_status vg_format_compile_opts(const char *spec, const struct vg_format_options *opt,
                                 struct vg_format **out, struct vg_error *err)
{
    *out = NULL;
    if (!spec)
        return vg_error_set(err, VG_E_INVAL, "log format", 0, "no log format given");
    char norm[128] = "";
    if (opt && opt->real_ip && *opt->real_ip)
        vg_field_norm(opt->real_ip, strlen(opt->real_ip), norm, sizeof norm);
    const char *real_ip = norm[0] ? norm : NULL;
    vg_status st;
    struct vg_format *fmt = NULL;
    const char *preset = NULL;
    for (size_t i = 0; i < VG_ARRAY_LEN(vg_fmt_presets); i++)
        if (strcmp(spec, vg_fmt_presets[i].name) == 0)
            preset = vg_fmt_presets[i].nginx;
    if (preset) {
        st = nginx_compile(spec, preset, VG_ESC_DEFAULT, real_ip, &fmt, err);
    } else if (strncmp(spec, "nginx:", 6) == 0) {
        const char *src = spec + 6;
        uint8_t esc = VG_ESC_DEFAULT;
        static const struct {
            const char *kw;
            uint8_t esc;
        } modes[] = {{"escape=default ", VG_ESC_DEFAULT},
                     {"escape=json ", VG_ESC_JSON},
                     {"escape=none ", VG_ESC_NONE}};
        for (size_t i = 0; i < VG_ARRAY_LEN(modes); i++) {
            size_t kn = strlen(modes[i].kw);
            if (strncmp(src, modes[i].kw, kn) == 0) {
                esc = modes[i].esc;
                src += kn;
                break;
            }
        }
        st = nginx_compile(spec, src, esc, real_ip, &fmt, err);
    } else if (strncmp(spec, "apache:", 7) == 0) {
        st = vg_apache_compile(spec, spec + 7, real_ip, &fmt, err);
    } else if (strcmp(spec, "json") == 0 || strcmp(spec, "caddy") == 0 ||
               strcmp(spec, "traefik") == 0) {
        st = vg_json_compile(spec, spec, opt ? opt->json_map : NULL, real_ip, &fmt, err);
    } else if (strcmp(spec, "w3c") == 0 || strcmp(spec, "iis") == 0) {
        st = vg_w3c_compile_base(spec, real_ip, &fmt, err);
    } else if (strcmp(spec, "haproxy") == 0 || strncmp(spec, "haproxy:", 8) == 0) {
        st = vg_haproxy_compile(spec, spec[7] == ':' ? spec + 8 : "", real_ip, &fmt, err);
    } else {
        return vg_error_set(err, VG_E_FORMAT, "log format", 0,
                            "unknown log format '%.64s' (expected auto, combined, common, "
                            "vhost_combined, main, json, caddy, traefik, w3c, haproxy, "
                            "nginx:<log_format string> or apache:<LogFormat string>)",
                            spec);
    }
    if (st == VG_OK)
        st = vg_fmt_attach_real_ip(fmt, opt, err);
    if (st != VG_OK) {
        vg_format_free(fmt);
        return st;
    }
    *out = fmt;
    return VG_OK;
}

vg_status vg_format_compile(const char *spec, struct vg_format **out, struct vg_error *err)
{
    return vg_format_compile_opts(spec, NULL, out, err);
}

/* Frees a compiled format; NULL is harmless. No parse may be running with it. */
void vg_format_free(struct vg_format *fmt)
{
    if (!fmt)
        return;
    vg_json_prog_free(fmt->json);
    vg_haproxy_prog_free(fmt->haproxy);
    vg_format_free(fmt->w3c_default);
    vg_free(fmt->trusted);
    vg_free(fmt->real_ip);
    vg_free(fmt);
}

/* The specification the format was compiled from (borrowed: valid until vg_format_free). */
const char *vg_format_name(const struct vg_format *fmt)
{
    return fmt->name;
}

bool vg_format_needs_buf(const struct vg_format *fmt)
{
    return fmt->needs_buf;
}

bool vg_format_has_directives(const struct vg_format *fmt)
{
    return fmt->directives;
}

/* ---- field scanners ------------------------------------------------------------------------- */

/*
 * memchr for short fields. Performance note: most unquoted fields (address, user, status,
 * bytes) are a few bytes long, where the call and setup of a vectorized memchr cost more than a
 * plain loop; longer fields still get memchr after the first 16 bytes.
 */
static VG_ALWAYS_INLINE const uint8_t *scan_byte(const uint8_t *s, const uint8_t *end, uint8_t c)
{
    const uint8_t *stop = (size_t)(end - s) > 16 ? s + 16 : end;
    for (; s < stop; s++)
        if (*s == c)
            return s;
    return s < end ? memchr(s, c, (size_t)(end - s)) : NULL;
}

/* Whether the literal lit[1 .. n) is at p (the first byte was already matched). */
static VG_ALWAYS_INLINE bool lit_rest_at(const uint8_t *p, const uint8_t *end, const uint8_t *lit, size_t n)
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
static VG_ALWAYS_INLINE enum vg_parse_result find_literal(const uint8_t *p, const uint8_t *end, const uint8_t *lit,
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
static VG_ALWAYS_INLINE const uint8_t *scan_two(const uint8_t *s, const uint8_t *end, uint8_t a,
                                                uint8_t b)
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

const uint8_t *vg_scan_two(const uint8_t *s, const uint8_t *end, uint8_t a, uint8_t b)
{
    return scan_two(s, end, a, b);
}

/*
 * Finds the closing quote of a quoted field starting at p (just after its opening quote): the
 * first '"' not escaped by an odd run of backslashes (unless escapes are off: escape=none)
 * after which the rest of the following literal matches. Stray unescaped quotes inside the
 * value (old Apache, some proxies) are skipped by that lookahead. The literal starts with '"'.
 * *escaped is set when the field holds a backslash.
 * Security note: the backslash walk only covers the run just before each quote, so the scan is
 * linear in the line length whatever the input.
 */
static VG_ALWAYS_INLINE enum vg_parse_result find_quote_close(const uint8_t *p, const uint8_t *end,
                                             const uint8_t *lit, size_t lit_n, unsigned flags,
                                             bool esc_on, const uint8_t **fe, const uint8_t **next,
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
        if (esc_on) {
            const uint8_t *b = c;
            while (b > p && b[-1] == '\\')
                b--;
            if ((c - b) & 1)
                continue;
        }
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
    memset(out->b, 0, 10);
    out->b[10] = 0xff;
    out->b[11] = 0xff;
    memcpy(out->b + 12, v4, 4);
    return true;
}

/* The client address: IPv4 on a fast path, anything with a colon through vg_addr_parse. */
static VG_ALWAYS_INLINE bool parse_client(const uint8_t *s, size_t n, struct vg_addr *out)
{
    if (parse_ipv4_fast(s, n, out))
        return true;
    return n && memchr(s, ':', n) && vg_addr_parse(s, n, out);
}

bool vg_parse_client(const uint8_t *s, size_t n, struct vg_addr *out)
{
    return parse_client(s, n, out);
}

/*
 * An address with an optional port: "a.b.c.d", "a.b.c.d:p", "v6", "[v6]", "[v6]:p".
 * OUT: *ip = the address part (a view into s).
 */
bool vg_parse_client_port(const uint8_t *s, size_t n, struct vg_addr *out, struct vg_str *ip)
{
    if (vg_parse_client(s, n, out)) {
        *ip = vg_str_make(s, n);
        return true;
    }
    if (n > 2 && s[0] == '[') {
        const uint8_t *close = memchr(s, ']', n);
        if (!close)
            return false;
        size_t an = (size_t)(close - s) - 1;
        size_t rest = n - an - 2;
        if (rest) {
            if (close[1] != ':' || rest < 2 || rest > 6)
                return false;
            for (size_t i = 2; i < rest + 1; i++)
                if (!VG_DIG(close[i]))
                    return false;
        }
        if (!vg_addr_parse(s + 1, an, out))
            return false;
        *ip = vg_str_make(s + 1, an);
        return true;
    }
    /* a.b.c.d:port (a colon in an IPv6 address without brackets is never a port) */
    const uint8_t *colon = memchr(s, ':', n);
    if (!colon || memchr(colon + 1, ':', n - (size_t)(colon - s) - 1))
        return false;
    size_t pn = n - (size_t)(colon - s) - 1;
    if (pn == 0 || pn > 5)
        return false;
    for (size_t i = 0; i < pn; i++)
        if (!VG_DIG(colon[1 + i]))
            return false;
    if (!parse_ipv4_fast(s, (size_t)(colon - s), out))
        return false;
    *ip = vg_str_make(s, (size_t)(colon - s));
    return true;
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

static inline bool is_dash(const uint8_t *s, size_t n)
{
    return n == 1 && s[0] == '-';
}

/* A free-text field: "-" (nginx, Apache) and "" (escape=json) mean not given. */
static inline struct vg_str text_or_null(const uint8_t *s, size_t n)
{
    return n == 0 || is_dash(s, n) ? VG_STR_NULL : vg_str_make(s, n);
}

/* The reason for a failed validation: NUL bytes outside quotes say "binary", else `r`. */
static inline enum vg_parse_result fail_or_binary(const uint8_t *s, size_t n, unsigned flags,
                                                  enum vg_parse_result r)
{
    if (!(flags & VG_FS_IN_QUOTES) && n && memchr(s, 0, n))
        return VG_PARSE_BINARY;
    return r;
}

uint8_t *vg_pbuf_room(struct vg_parse_buf *buf, size_t n)
{
    if (!buf || !buf->p || buf->used > buf->cap || buf->cap - buf->used < n)
        return NULL;
    return buf->p + buf->used;
}

void vg_acc_init(struct vg_parse_acc *acc, struct vg_parse_buf *buf, uint8_t escape)
{
    acc->buf = buf;
    acc->date_days = INT64_MIN;
    acc->clock = -1;
    acc->escape = escape;
    acc->fwd = VG_STR_NULL;
    acc->peer_text = VG_STR_NULL;
}

/*
 * Clears every field of a request except file_id, offset and line_no.
 * Performance note: field by field rather than memset, which compilers turn into a slow
 * `rep stos` for a struct this size (the header array is not touched: n_headers says how much
 * of it is valid).
 */
static VG_ALWAYS_INLINE void request_clear(struct vg_request *req)
{
    req->client = req->user = req->request = req->method = req->target = VG_STR_NULL;
    req->path = req->query = req->protocol = req->referer = req->user_agent = VG_STR_NULL;
    req->host = req->cookie = req->body = req->content_type = VG_STR_NULL;
    req->peer = req->forwarded = VG_STR_NULL;
    memset(req->addr.b, 0, sizeof req->addr.b);
    req->time = 0;
    req->status = -1;
    req->bytes = -1;
    req->flags = 0;
    req->n_headers = 0;
}

void vg_request_clear(struct vg_request *req)
{
    request_clear(req);
}

/* Stores one field's value [s, s + n) into req (see vg_store_field). */
static VG_ALWAYS_INLINE enum vg_parse_result store_field(uint8_t field, unsigned flags, const uint8_t *s,
                                               size_t n, struct vg_str aux, struct vg_request *req,
                                               struct vg_parse_acc *acc)
{
    int64_t v;
    struct vg_str ip;
    switch ((enum vg_fmt_field)field) {
    case VG_FF_CLIENT:
        if (!parse_client(s, n, &req->addr))
            return fail_or_binary(s, n, flags, VG_PARSE_ADDR);
        req->client = vg_str_make(s, n);
        req->flags |= VG_REQ_HAS_ADDR;
        return VG_PARSE_OK;
    case VG_FF_CLIENT_PORT:
        if (!vg_parse_client_port(s, n, &req->addr, &ip))
            return fail_or_binary(s, n, flags, VG_PARSE_ADDR);
        req->client = ip;
        req->flags |= VG_REQ_HAS_ADDR;
        return VG_PARSE_OK;
    case VG_FF_TIME_LOCAL:
        if (!vg_parse_time_local(s, n, &req->time))
            return fail_or_binary(s, n, flags, VG_PARSE_TIME);
        req->flags |= VG_REQ_HAS_TIME;
        return VG_PARSE_OK;
    case VG_FF_TIME_ISO:
        if (!vg_time_iso(s, n, &req->time))
            return fail_or_binary(s, n, flags, VG_PARSE_TIME);
        req->flags |= VG_REQ_HAS_TIME;
        return VG_PARSE_OK;
    case VG_FF_EPOCH:
        if (!vg_time_epoch(s, n, &req->time))
            return fail_or_binary(s, n, flags, VG_PARSE_TIME);
        req->flags |= VG_REQ_HAS_TIME;
        return VG_PARSE_OK;
    case VG_FF_TIME_STRF:
        if (!vg_time_strf(aux.p, aux.n, s, n, &req->time))
            return fail_or_binary(s, n, flags, VG_PARSE_TIME);
        req->flags |= VG_REQ_HAS_TIME;
        return VG_PARSE_OK;
    case VG_FF_TIME_ANY:
        if (!vg_time_any(s, n, &req->time))
            return fail_or_binary(s, n, flags, VG_PARSE_TIME);
        req->flags |= VG_REQ_HAS_TIME;
        return VG_PARSE_OK;
    case VG_FF_DATE:
        if (!vg_time_date(s, n, &acc->date_days))
            return fail_or_binary(s, n, flags, VG_PARSE_TIME);
        return VG_PARSE_OK;
    case VG_FF_CLOCK:
        if (!vg_time_clock(s, n, &acc->clock))
            return fail_or_binary(s, n, flags, VG_PARSE_TIME);
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
    if (acc->escape == VG_ESC_JSON && n && vg_json_needs_transcode(s, n)) {
        struct vg_str t = vg_json_transcode(s, n, acc->buf);
        s = t.p;
        n = t.n;
    }
    if (flags & VG_FS_FORWARDED)
        acc->fwd = text_or_null(s, n);
    switch ((enum vg_fmt_field)field) {
    case VG_FF_USER:
        req->user = text_or_null(s, n);
        break;
    case VG_FF_REQUEST:
        vg_request_split(vg_str_make(s, n), req);
        break;
    case VG_FF_METHOD:
        req->method = text_or_null(s, n);
        break;
    case VG_FF_TARGET: {
        struct vg_str t = vg_str_make(s, n);
        const uint8_t *q = n ? memchr(s, '?', n) : NULL;
        req->target = t;
        req->path = q ? vg_str_make(s, (size_t)(q - s)) : t;
        req->query = q ? vg_str_make(q + 1, n - (size_t)(q - s) - 1) : VG_STR_NULL;
        break;
    }
    case VG_FF_PATH:
        req->path = text_or_null(s, n);
        break;
    case VG_FF_QUERY:
        if (n && !is_dash(s, n))
            req->query = vg_str_make(s, n);
        break;
    case VG_FF_QUERY_Q:
        if (n && s[0] == '?')
            req->query = vg_str_make(s + 1, n - 1);
        break;
    case VG_FF_PROTOCOL:
        req->protocol = text_or_null(s, n);
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
    case VG_FF_PEER:
        acc->peer_text = text_or_null(s, n);
        break;
    case VG_FF_HEADER:
        if (n && !is_dash(s, n) && req->n_headers < VG_REQ_MAX_HEADERS) {
            req->headers[req->n_headers].name = aux;
            req->headers[req->n_headers].value = vg_str_make(s, n);
            req->n_headers++;
        }
        break;
    default:
        break;
    }
    return VG_PARSE_OK;
}

enum vg_parse_result vg_store_field(uint8_t field, unsigned flags, const uint8_t *s, size_t n,
                                    struct vg_str aux, struct vg_request *req,
                                    struct vg_parse_acc *acc)
{
    return store_field(field, flags, s, n, aux, req, acc);
}

/*
 * After the fields (see ingest_int.h). The joined values are written into acc->buf when it has
 * room; without room the target stays the path and no request line is made up.
 */
enum vg_parse_result vg_request_finish(const struct vg_format *fmt, struct vg_request *req,
                                       struct vg_parse_acc *acc)
{
    if (acc->date_days != INT64_MIN || acc->clock >= 0) {
        if (acc->date_days == INT64_MIN || acc->clock < 0)
            return VG_PARSE_MISSING; /* a W3C date without a time, or the reverse */
        req->time = acc->date_days * 86400 + acc->clock;
        req->flags |= VG_REQ_HAS_TIME;
    }
    if (req->target.n == 0 && req->request.n == 0 && (req->path.p || req->query.p)) {
        /* A logged path and query make the request-target "path?query". */
        req->target = req->path;
        if (req->query.p) {
            size_t need = req->path.n + 1 + req->query.n;
            uint8_t *o = vg_pbuf_room(acc->buf, need);
            if (o) {
                if (req->path.n)
                    memcpy(o, req->path.p, req->path.n);
                o[req->path.n] = '?';
                if (req->query.n)
                    memcpy(o + req->path.n + 1, req->query.p, req->query.n);
                req->target = vg_str_make(o, need);
                acc->buf->used += need;
            }
        }
    }
    if (req->request.n == 0 && req->method.n && req->target.n) {
        /* Detectors look at the request line too: make it from its parts. */
        size_t need = req->method.n + 1 + req->target.n + (req->protocol.n ? 1 + req->protocol.n : 0);
        uint8_t *o = vg_pbuf_room(acc->buf, need);
        if (o) {
            size_t k = 0;
            memcpy(o, req->method.p, req->method.n);
            k += req->method.n;
            o[k++] = ' ';
            memcpy(o + k, req->target.p, req->target.n);
            k += req->target.n;
            if (req->protocol.n) {
                o[k++] = ' ';
                memcpy(o + k, req->protocol.p, req->protocol.n);
                k += req->protocol.n;
            }
            req->request = vg_str_make(o, k);
            acc->buf->used += k;
        }
    }
    if (acc->peer_text.n && !req->peer.n)
        req->peer = acc->peer_text;
    if (acc->fwd.n) {
        req->forwarded = acc->fwd;
        if (fmt->n_trusted)
            apply_real_ip(fmt, req, acc->fwd);
    }
    return VG_PARSE_OK;
}

/* ---- the interpreter ------------------------------------------------------------------------ */

/* Where a strftime time field ends: where its pattern stops matching, if the step's literal
   follows there. */
static bool strf_end(const struct vg_fmt_step *st, const uint8_t *lits, const uint8_t *p,
                     const uint8_t *end, unsigned flags, const uint8_t **fe, const uint8_t **next)
{
    int64_t t;
    size_t used;
    if (!vg_time_strf_prefix(lits + st->aux_off, st->aux_len, p, (size_t)(end - p), &t, &used))
        return false;
    const uint8_t *e = p + used;
    if ((size_t)(end - e) < st->lit_len || memcmp(e, lits + st->lit_off, st->lit_len) != 0)
        return false;
    const uint8_t *after = e + st->lit_len;
    if ((flags & VG_FS_LAST) && after != end && *after != ' ')
        return false;
    *fe = e;
    *next = after;
    return true;
}

/*
 * Interprets a line program. Performance note: one memchr per field to find its end (plus a
 * literal check), one pass over the short numeric fields; no allocation, no locale, no libc
 * time functions.
 */
static VG_ALWAYS_INLINE enum vg_parse_result parse_line(const struct vg_format *fmt,
                                                        const uint8_t *line,
                                       size_t len, struct vg_request *req,
                                       struct vg_parse_acc *acc)
{
    if (fmt->directives && line[0] == '#')
        return VG_PARSE_DIRECTIVE;
    const uint8_t *p = line, *end = line + len;
    const uint8_t *lits = fmt->lits;
    bool esc_on = fmt->escape != VG_ESC_NONE;
    if (fmt->lead_len) {
        size_t ln = fmt->lead_len;
        if ((size_t)(end - p) < ln || memcmp(p, lits + fmt->lead_off, ln) != 0) {
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
                r = find_quote_close(p, end, lits + st->lit_off, st->lit_len, flags, esc_on, &fe,
                                     &next, &esc);
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
            } else if (st->field == VG_FF_TIME_STRF &&
                       strf_end(st, lits, p, end, flags, &fe, &next)) {
                /* A strftime time may hold spaces: the pattern says where it ends. */
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
        enum vg_parse_result r =
            store_field(st->field, flags, fs, (size_t)(fe - fs),
                        vg_str_make(lits + st->aux_off, st->aux_len), req, acc);
        if (r != VG_PARSE_OK)
            return r;
        p = next;
    }
    if (p < end && *p != ' ')
        return memchr(p, 0, (size_t)(end - p)) ? VG_PARSE_BINARY : VG_PARSE_TRAILING;
    if (fmt->directives && p < end) {
        /* W3C values never hold a space: more values than #Fields lists is a mismatch. */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end)
            return memchr(p, 0, (size_t)(end - p)) ? VG_PARSE_BINARY : VG_PARSE_TRAILING;
    }
    /* Most lines log the request line and nothing the finishing step joins or rewrites. */
    if (VG_LIKELY(req->request.n && acc->date_days == INT64_MIN && acc->clock < 0 &&
                  !acc->fwd.n && !acc->peer_text.n))
        return VG_PARSE_OK;
    return vg_request_finish(fmt, req, acc);
}

/* W3C lines before any #Fields: the IIS default layout (kept out of the hot function). */
static __attribute__((noinline)) enum vg_parse_result
parse_w3c_default(const struct vg_format *fmt, const uint8_t *line, size_t len,
                  struct vg_request *req, struct vg_parse_acc *acc)
{
    if (line[0] == '#')
        return VG_PARSE_DIRECTIVE;
    acc->escape = fmt->w3c_default->escape;
    return parse_line(fmt->w3c_default, line, len, req, acc);
}

/*
 * Parses one line with a compiled format (see ingest.h). Every field of *req except file_id,
 * offset and line_no is overwritten; on a result other than VG_PARSE_OK the fields are
 * unspecified (but still views into the line or buf).
 */
enum vg_parse_result vg_format_parse_ex(const struct vg_format *fmt, const uint8_t *line,
                                        size_t len, struct vg_request *req,
                                        struct vg_parse_buf *buf)
{
    request_clear(req);
    while (len && line[len - 1] == '\r') /* CRLF, and the CRCRLF of twice-converted files */
        len--;
    if (VG_UNLIKELY(len >= 3 && line[0] == 0xef && line[1] == 0xbb && line[2] == 0xbf)) {
        line += 3; /* a UTF-8 byte order mark (Windows tools write one at a file's start) */
        len -= 3;
    }
    req->line = vg_str_make(line, len);
    size_t b = 0;
    while (b < len && (line[b] == ' ' || line[b] == '\t'))
        b++;
    if (b == len)
        return VG_PARSE_EMPTY;
    struct vg_parse_acc acc;
    vg_acc_init(&acc, buf, fmt->escape);
    switch ((enum vg_fmt_kind)fmt->kind) {
    case VG_FK_LINE:
        return parse_line(fmt, line, len, req, &acc);
    case VG_FK_JSON:
        return vg_json_parse(fmt, line, len, req, &acc);
    case VG_FK_W3C:
        return parse_w3c_default(fmt, line, len, req, &acc);
    case VG_FK_HAPROXY:
        return vg_haproxy_parse(fmt, line, len, req, &acc);
    }
    return VG_PARSE_LITERAL;
}

enum vg_parse_result vg_format_parse(const struct vg_format *fmt, const uint8_t *line, size_t len,
                                     struct vg_request *req)
{
    return vg_format_parse_ex(fmt, line, len, req, NULL);
}
