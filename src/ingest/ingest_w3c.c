/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_w3c.c: W3C extended log files (IIS and others). Their layout is declared inside the
 * log by "#Fields:" directives and may change in the middle of a file (IIS writes a new header
 * when its configuration changes). Each #Fields list is translated into the format builder's
 * tokens (fields separated by single spaces) and becomes an ordinary line program; the lines
 * before any #Fields use IIS's default field list.
 *
 * Pipeline position: compile time (the base format), and whenever a worker meets a #Fields line
 * (vg_format_bind); the reader carries the layout active at each chunk's start
 * (vg_format_last_directive) so that workers stay parallel.
 *
 * Invariants: directive lines are data like any other (bounded, never trusted); times are UTC
 * (the W3C format says so); "-" is an empty field.
 */
#include "ingest/ingest_int.h"

/* IIS's default W3C field list (the layout of a log without a #Fields line). */
static const char vg_iis_default[] =
    "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

static bool name_is(const uint8_t *s, size_t n, const char *lit)
{
    size_t ln = strlen(lit);
    if (n != ln)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        if (c != (uint8_t)lit[i])
            return false;
    }
    return true;
}

/* A W3C field identifier -> field (*aux set for headers). */
static uint8_t w3c_field(const uint8_t *s, size_t n, const char *real_ip, struct vg_str *aux)
{
    static const struct {
        const char *name;
        uint8_t field;
    } known[] = {
        {"date", VG_FF_DATE},          {"time", VG_FF_CLOCK},
        {"c-ip", VG_FF_CLIENT},        {"cs-method", VG_FF_METHOD},
        {"cs-uri-stem", VG_FF_PATH},   {"cs-uri-query", VG_FF_QUERY},
        {"cs-uri", VG_FF_TARGET},      {"s-port", VG_FF_PORT},
        {"cs-username", VG_FF_USER},   {"sc-status", VG_FF_STATUS},
        {"sc-bytes", VG_FF_BYTES},     {"cs-version", VG_FF_PROTOCOL},
        {"cs-host", VG_FF_HOST},       {"s-ip", VG_FF_IGNORE},
    };
    *aux = VG_STR_NULL;
    for (size_t i = 0; i < VG_ARRAY_LEN(known); i++)
        if (name_is(s, n, known[i].name))
            return known[i].field;
    if (n > 4 && (s[0] == 'c' || s[0] == 'C') && (s[1] == 's' || s[1] == 'S') && s[2] == '(' &&
        s[n - 1] == ')') {
        /* cs(Header-Name): a request header */
        uint8_t f = vg_header_field((const char *)s + 3, n - 4);
        if (f == VG_FF_HEADER)
            *aux = vg_str_make(s + 3, n - 4);
        return f;
    }
    if (real_ip) {
        /* IIS enhanced logging writes custom fields by their own name ("X-Forwarded-For"). */
        char norm[128];
        vg_field_norm((const char *)s, n, norm, sizeof norm);
        if (strcmp(norm, real_ip) == 0) {
            *aux = vg_str_make(s, n);
            return VG_FF_HEADER;
        }
    }
    return VG_FF_IGNORE;
}

/*
 * Compiles a #Fields list ("date time c-ip ...", the text after "#Fields:") into a line
 * program. OUT: *out owns it. VG_E_FORMAT when the list is empty or too long.
 */
vg_status vg_w3c_compile_fields(const uint8_t *fields, size_t n, const char *real_ip,
                                struct vg_format **out, struct vg_error *err)
{
    *out = NULL;
    if (n > VG_FMT_MAX_SPEC)
        return vg_error_set(err, VG_E_FORMAT, "W3C #Fields", 0,
                            "invalid W3C #Fields: longer than %d bytes", VG_FMT_MAX_SPEC);
    struct vg_fmt_builder *b = vg_malloc(sizeof *b + n + 1);
    if (!b)
        return vg_error_set(err, VG_E_NOMEM, "W3C #Fields", 0, "out of memory");
    char *src = (char *)(b + 1);
    for (size_t i = 0; i < n; i++)
        src[i] = fields[i] ? (char)fields[i] : ' '; /* messages quote it as a C string */
    src[n] = 0;
    vg_fb_init(b, src, "W3C #Fields", real_ip);
    vg_status st = VG_OK;
    size_t i = 0, k = 0;
    while (st == VG_OK && i < n) {
        while (i < n && (fields[i] == ' ' || fields[i] == '\t'))
            i++;
        if (i == n)
            break;
        size_t j = i;
        while (j < n && fields[j] != ' ' && fields[j] != '\t')
            j++;
        if (k++ > 0)
            st = vg_fb_lit(b, " ", 1, i, err);
        struct vg_str aux;
        uint8_t f = w3c_field(fields + i, j - i, real_ip, &aux);
        if (st == VG_OK)
            st = vg_fb_var(b, f, aux.p, aux.n, i, err);
        i = j;
    }
    if (st == VG_OK && k == 0)
        st = vg_error_set(err, VG_E_FORMAT, "W3C #Fields", 0,
                          "invalid W3C #Fields: the directive lists no field");
    if (st == VG_OK)
        st = vg_fb_build(b, "w3c", VG_FK_LINE, VG_ESC_DEFAULT, out, err);
    vg_free(b);
    if (st == VG_OK) {
        (*out)->directives = true;
        (*out)->needs_buf = true;
    }
    return st;
}

/* The "w3c" format: directives, and IIS's default layout for lines before any #Fields. */
vg_status vg_w3c_compile_base(const char *name, const char *real_ip, struct vg_format **out,
                              struct vg_error *err)
{
    *out = NULL;
    size_t nn = strlen(name);
    struct vg_format *fmt = vg_calloc(1, sizeof *fmt + nn + 1);
    if (!fmt)
        return vg_error_set(err, VG_E_NOMEM, "log format", 0, "out of memory");
    memcpy((char *)(fmt + 1), name, nn + 1);
    fmt->name = (const char *)(fmt + 1);
    fmt->kind = VG_FK_W3C;
    fmt->directives = true;
    fmt->needs_buf = true;
    fmt->has_forwarded = real_ip != NULL; /* checked per #Fields directive */
    vg_status st = vg_w3c_compile_fields((const uint8_t *)vg_iis_default,
                                         sizeof vg_iis_default - 1, NULL, &fmt->w3c_default, err);
    if (st != VG_OK) {
        vg_format_free(fmt);
        return st;
    }
    *out = fmt;
    return VG_OK;
}

static bool is_fields_directive(const uint8_t *p, size_t n)
{
    return n >= 8 && memcmp(p, "#Fields:", 8) == 0;
}

/*
 * Compiles the layout a directive line declares (see ingest.h). Only "#Fields:" declares one.
 * With --real-ip, a layout that does not list that field is refused: reading the proxy's
 * address as the client's would be wrong without a word.
 */
vg_status vg_format_bind(const struct vg_format *fmt, const uint8_t *line, size_t len,
                         struct vg_format **out, struct vg_error *err)
{
    *out = NULL;
    if (!fmt->directives)
        return VG_OK;
    while (len && line[len - 1] == '\r')
        len--;
    if (len >= 3 && line[0] == 0xef && line[1] == 0xbb && line[2] == 0xbf) {
        line += 3; /* a UTF-8 byte order mark */
        len -= 3;
    }
    if (!is_fields_directive(line, len))
        return VG_OK;
    struct vg_format *nf = NULL;
    vg_status st = vg_w3c_compile_fields(line + 8, len - 8, fmt->real_ip, &nf, err);
    if (st != VG_OK)
        return st;
    if (fmt->real_ip && !nf->has_forwarded) {
        vg_format_free(nf);
        return vg_error_set(err, VG_E_FORMAT, "W3C #Fields", 0,
                            "the W3C #Fields: directive does not list the --real-ip field");
    }
    if (fmt->n_trusted) {
        nf->trusted = vg_calloc(fmt->n_trusted, sizeof *nf->trusted);
        nf->real_ip = fmt->real_ip ? vg_strdup(fmt->real_ip) : NULL;
        if (!nf->trusted || (fmt->real_ip && !nf->real_ip)) {
            vg_format_free(nf);
            return vg_error_set(err, VG_E_NOMEM, "W3C #Fields", 0, "out of memory");
        }
        memcpy(nf->trusted, fmt->trusted, fmt->n_trusted * sizeof *nf->trusted);
        nf->n_trusted = fmt->n_trusted;
    }
    *out = nf;
    return VG_OK;
}

/*
 * The last "#Fields:" line in [p, p + n) (a view without its line terminator). Performance
 * note: one memmem pass per chunk, and only for formats with directives.
 */
bool vg_format_last_directive(const struct vg_format *fmt, const uint8_t *p, size_t n,
                              struct vg_str *out)
{
    if (!fmt->directives)
        return false;
    bool found = false;
    const uint8_t *s = p, *end = p + n;
    while (s < end) {
        const uint8_t *h = memmem(s, (size_t)(end - s), "#Fields:", 8);
        if (!h)
            break;
        bool bom = h - p == 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf;
        if (h == p || h[-1] == '\n' || bom) {
            const uint8_t *e = memchr(h, '\n', (size_t)(end - h));
            size_t ln = e ? (size_t)(e - h) : (size_t)(end - h);
            if (ln && h[ln - 1] == '\r')
                ln--;
            *out = vg_str_make(h, ln);
            found = true;
        }
        s = h + 8;
    }
    return found;
}
