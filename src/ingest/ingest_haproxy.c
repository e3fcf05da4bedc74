/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_haproxy.c: HAProxy's HTTP log format ("option httplog"), as syslog writes it to files:
 *
 *   Feb  6 12:14:14 lb haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in \
 *     static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET / HTTP/1.1"
 *
 * Whatever comes before the client address (an RFC 3164 or RFC 5424 syslog header, a journal
 * prefix, nothing) is skipped: the line is anchored on "ip:port [dd/Mon/yyyy:hh:mm:ss.mmm]".
 * Captured request headers ("capture request header Host len 64") are logged in braces in
 * declaration order without their names; the format "haproxy:Host,User-Agent" names them.
 * HAProxy escapes '"', '#', braces, '|' and control bytes in the request and the captures as
 * #XX; those are rewritten into nginx's \xHH (which decode/ undoes) in the caller's
 * vg_parse_buf.
 *
 * Pipeline position: first stage, like the other format parsers.
 *
 * Invariants: no allocation per line; the accept date has no zone and is taken as UTC (run
 * HAProxy with TZ=UTC, or accept the shift); TCP-mode lines (no status, no request) are not
 * HTTP requests and are reported as such.
 */
#include "ingest/ingest_int.h"

#define VG_HAPROXY_MAX_CAPTURES 16

struct vg_haproxy_prog {
    size_t n;
    struct {
        char name[64];
        uint8_t field;
        uint8_t flags;
    } cap[VG_HAPROXY_MAX_CAPTURES];
};

void vg_haproxy_prog_free(struct vg_haproxy_prog *p)
{
    vg_free(p);
}

/* "haproxy" or "haproxy:Host,User-Agent,X-Forwarded-For". */
vg_status vg_haproxy_compile(const char *name, const char *captures, const char *real_ip,
                             struct vg_format **out, struct vg_error *err)
{
    *out = NULL;
    size_t nn = strlen(name);
    struct vg_format *fmt = vg_calloc(1, sizeof *fmt + nn + 1);
    struct vg_haproxy_prog *pg = fmt ? vg_calloc(1, sizeof *pg) : NULL;
    if (!pg) {
        vg_free(fmt);
        return vg_error_set(err, VG_E_NOMEM, "log format", 0, "out of memory");
    }
    memcpy((char *)(fmt + 1), name, nn + 1);
    fmt->name = (const char *)(fmt + 1);
    fmt->kind = VG_FK_HAPROXY;
    fmt->needs_buf = true;
    fmt->haproxy = pg;
    const char *p = captures;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || len >= sizeof pg->cap[0].name || pg->n == VG_HAPROXY_MAX_CAPTURES) {
            vg_format_free(fmt);
            return vg_error_set(err, VG_E_FORMAT, "log format", 0,
                                "invalid HAProxy format '%.80s': expected haproxy:Header,Header,... "
                                "(at most %d names of up to 63 bytes)",
                                name, VG_HAPROXY_MAX_CAPTURES);
        }
        memcpy(pg->cap[pg->n].name, p, len);
        pg->cap[pg->n].name[len] = 0;
        pg->cap[pg->n].field = vg_header_field(p, len);
        if (real_ip) {
            char norm[128];
            vg_field_norm(p, len, norm, sizeof norm);
            if (strcmp(norm, real_ip) == 0) {
                pg->cap[pg->n].flags |= VG_FS_FORWARDED;
                fmt->has_forwarded = true;
            }
        }
        pg->n++;
        p = e ? e + 1 : p + len;
    }
    if (real_ip && !fmt->has_forwarded) {
        vg_format_free(fmt);
        return vg_error_set(err, VG_E_FORMAT, "--real-ip", 0,
                            "--real-ip: the HAProxy format '%.80s' does not capture that header "
                            "(name it: haproxy:Header,...)",
                            name);
    }
    *out = fmt;
    return VG_OK;
}

static int hexv(uint8_t c)
{
    if (VG_DIG(c))
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * HAProxy's #XX escapes (and raw backslashes) rewritten into nginx's escape=default dialect,
 * which decode/ undoes, into buf (when there is room and something to rewrite).
 */
static struct vg_str unescape(const uint8_t *s, size_t n, struct vg_parse_acc *acc)
{
    bool any = false;
    for (size_t i = 0; i < n && !any; i++)
        any = s[i] == '#' || vg_nginx_escapes(s[i]);
    if (!any)
        return vg_str_make(s, n);
    uint8_t *o = n <= SIZE_MAX / 4 ? vg_pbuf_room(acc->buf, 4 * n) : NULL;
    if (!o)
        return vg_str_make(s, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '#' && i + 2 < n) {
            int hi = hexv(s[i + 1]), lo = hexv(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (uint8_t)(hi << 4 | lo);
                i += 2;
            }
        }
        k += vg_put_nginx_byte(o + k, c);
    }
    acc->buf->used += k;
    return vg_str_make(o, k);
}

/* The next space-separated word at *p (at least one byte); false at the end of the line. */
static bool word(const uint8_t **p, const uint8_t *end, struct vg_str *w)
{
    const uint8_t *s = *p;
    if (s >= end || *s == ' ')
        return false;
    const uint8_t *e = memchr(s, ' ', (size_t)(end - s));
    if (!e)
        e = end;
    *w = vg_str_make(s, (size_t)(e - s));
    *p = e < end ? e + 1 : end;
    return true;
}

/* The accept date's opening bracket: '[' then "dd/". */
static const uint8_t *find_date(const uint8_t *p, const uint8_t *end)
{
    while (p < end) {
        const uint8_t *b = memchr(p, '[', (size_t)(end - p));
        if (!b || end - b < 25)
            return NULL;
        if (VG_DIG(b[1]) && VG_DIG(b[2]) && b[3] == '/' && b > p && b[-1] == ' ')
            return b;
        p = b + 1;
    }
    return NULL;
}

enum vg_parse_result vg_haproxy_parse(const struct vg_format *fmt, const uint8_t *line,
                                      size_t len, struct vg_request *req,
                                      struct vg_parse_acc *acc)
{
    const uint8_t *end = line + len;
    const uint8_t *b = find_date(line, end);
    if (!b)
        return memchr(line, 0, len) ? VG_PARSE_BINARY : VG_PARSE_LITERAL;
    /* The client "ip:port" is the word before the bracket. */
    const uint8_t *ce = b - 1, *cs = ce;
    while (cs > line && cs[-1] != ' ')
        cs--;
    if (cs == ce)
        return VG_PARSE_ADDR;
    const uint8_t *colon = ce;
    while (colon > cs && colon[-1] != ':')
        colon--;
    struct vg_str ip = vg_str_make(cs, (size_t)(ce - cs));
    if (colon > cs) {
        size_t pn = (size_t)(ce - colon);
        bool digits = pn > 0 && pn <= 5;
        for (size_t i = 0; digits && i < pn; i++)
            digits = VG_DIG(colon[i]);
        if (digits)
            ip = vg_str_make(cs, (size_t)(colon - 1 - cs));
    }
    if (ip.n && ip.p[0] == '[' && ip.p[ip.n - 1] == ']')
        ip = vg_str_make(ip.p + 1, ip.n - 2);
    if (!vg_parse_client(ip.p, ip.n, &req->addr))
        return memchr(cs, 0, (size_t)(ce - cs)) ? VG_PARSE_BINARY : VG_PARSE_ADDR;
    req->client = ip;
    req->flags |= VG_REQ_HAS_ADDR;
    const uint8_t *close = memchr(b, ']', (size_t)(end - b));
    if (!close)
        return VG_PARSE_UNTERMINATED;
    if (!vg_time_haproxy(b + 1, (size_t)(close - b - 1), &req->time))
        return VG_PARSE_TIME;
    req->flags |= VG_REQ_HAS_TIME;
    const uint8_t *p = close + 1;
    if (p >= end || *p != ' ')
        return VG_PARSE_LITERAL;
    p++;
    struct vg_str w[10];
    for (int i = 0; i < 10; i++)
        if (!word(&p, end, &w[i]))
            return VG_PARSE_LITERAL; /* a TCP log line, or a cut one */
    /* w: 0 frontend, 1 backend/server, 2 timers, 3 status, 4 bytes, 5 6 cookies,
       7 termination state, 8 connections, 9 queues */
    struct vg_str st = w[3];
    if (st.n == 2 && st.p[0] == '-' && st.p[1] == '1') {
        req->status = -1;
    } else if (st.n == 3 && VG_DIG(st.p[0]) && VG_DIG(st.p[1]) && VG_DIG(st.p[2])) {
        req->status = (int32_t)((st.p[0] - '0') * 100 + (st.p[1] - '0') * 10 + (st.p[2] - '0'));
    } else {
        return VG_PARSE_STATUS;
    }
    struct vg_str by = w[4];
    if (by.n && by.p[0] == '+')
        by = vg_str_make(by.p + 1, by.n - 1);
    int64_t v = 0;
    if (by.n == 0 || by.n > 18)
        return VG_PARSE_NUMBER;
    for (size_t i = 0; i < by.n; i++) {
        if (!VG_DIG(by.p[i]))
            return VG_PARSE_NUMBER;
        v = v * 10 + (by.p[i] - '0');
    }
    req->bytes = v;
    if (memchr(w[8].p, '/', w[8].n) == NULL || memchr(w[9].p, '/', w[9].n) == NULL)
        return VG_PARSE_LITERAL;
    /* Optional capture blocks, then the quoted request. */
    const struct vg_haproxy_prog *pg = fmt->haproxy;
    for (int blk = 0; blk < 2 && p < end && *p == '{'; blk++) {
        const uint8_t *cb = memchr(p, '}', (size_t)(end - p));
        if (!cb)
            return VG_PARSE_UNTERMINATED;
        if (blk == 0) {
            /* request captures, split on '|' (HAProxy escapes a '|' inside a value) */
            const uint8_t *s = p + 1;
            for (size_t i = 0; s <= cb; i++) {
                const uint8_t *bar = memchr(s, '|', (size_t)(cb - s));
                const uint8_t *e = bar ? bar : cb;
                if (i < pg->n && e > s) {
                    struct vg_str val = unescape(s, (size_t)(e - s), acc);
                    enum vg_parse_result r = vg_store_field(
                        pg->cap[i].field, VG_FS_IN_QUOTES | pg->cap[i].flags, val.p, val.n,
                        vg_str_make(pg->cap[i].name, strlen(pg->cap[i].name)), req, acc);
                    if (r != VG_PARSE_OK)
                        return r;
                }
                if (!bar)
                    break;
                s = bar + 1;
            }
        }
        p = cb + 1;
        if (p < end && *p == ' ')
            p++;
    }
    if (p >= end || *p != '"')
        return VG_PARSE_MISSING;
    const uint8_t *rq = p + 1;
    const uint8_t *rqe = memchr(rq, '"', (size_t)(end - rq));
    if (!rqe)
        rqe = end; /* HAProxy cuts long request lines without closing the quote */
    else if (rqe + 1 < end && rqe[1] != ' ')
        return VG_PARSE_TRAILING;
    if (memchr(rq, 0, (size_t)(rqe - rq)))
        return VG_PARSE_BINARY;
    struct vg_str r = unescape(rq, (size_t)(rqe - rq), acc);
    vg_request_split(r, req);
    return vg_request_finish(fmt, req, acc);
}
