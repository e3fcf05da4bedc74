/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_record.c: a parsed request as one JSON object (`vigil parse --records`), so that a
 * user can see exactly what vigil read from each line of their log before trusting a format.
 *
 * Pipeline position: workers of a parse-only scan, one call per request.
 *
 * Invariants: text values have the server's log escapes undone (\" \\ \n \r \t \xHH: the
 * dialect every parser leaves its values in) and are then JSON-escaped (invalid UTF-8 becomes
 * U+FFFD); nothing is allocated.
 */
#include "ingest/ingest_int.h"

static int hexv(uint8_t c)
{
    if (VG_DIG(c))
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Appends a JSON string of v with log escapes undone, in bounded pieces. */
static void put_text(struct vg_buf *b, struct vg_str v)
{
    uint8_t tmp[4096];
    size_t k = 0, i = 0;
    vg_bputc(b, '"');
    while (i < v.n) {
        uint8_t c = v.p[i];
        size_t used = 1;
        uint8_t out = c;
        if (c == '\\' && i + 1 < v.n) {
            uint8_t e = v.p[i + 1];
            used = 2;
            switch (e) {
            case '"':
            case '\\':
                out = e;
                break;
            case 'n':
                out = '\n';
                break;
            case 'r':
                out = '\r';
                break;
            case 't':
                out = '\t';
                break;
            case 'x':
                if (i + 3 < v.n && hexv(v.p[i + 2]) >= 0 && hexv(v.p[i + 3]) >= 0) {
                    out = (uint8_t)(hexv(v.p[i + 2]) << 4 | hexv(v.p[i + 3]));
                    used = 4;
                    break;
                }
                used = 1;
                break;
            default:
                used = 1;
                break;
            }
        }
        tmp[k++] = out;
        i += used;
        /* Flush at a UTF-8 boundary so that a character is never split between pieces; a run
           of continuation bytes longer than any character is invalid anyway and is cut when
           the buffer is full. */
        if (k == sizeof tmp || (k >= sizeof tmp - 8 && (i >= v.n || (v.p[i] & 0xc0) != 0x80))) {
            vg_bput_json(b, tmp, k);
            k = 0;
        }
    }
    if (k)
        vg_bput_json(b, tmp, k);
    vg_bputc(b, '"');
}

static void field(struct vg_buf *b, bool *first, const char *name, struct vg_str v)
{
    if (!v.p && !v.n)
        return;
    vg_bprintf(b, "%s\"%s\":", *first ? "" : ",", name);
    *first = false;
    put_text(b, v);
}

/* See ingest.h. */
void vg_request_write_json(const struct vg_request *r, struct vg_buf *b)
{
    bool first = true;
    vg_bputc(b, '{');
    if (r->flags & VG_REQ_HAS_TIME) {
        char t[32];
        vg_time_format_iso(r->time, t);
        vg_bprintf(b, "\"time\":\"%s\"", t);
        first = false;
    }
    if (r->flags & VG_REQ_HAS_ADDR) {
        char ip[64];
        vg_addr_format(&r->addr, ip);
        vg_bprintf(b, "%s\"client\":\"%s\"", first ? "" : ",", ip);
        first = false;
    }
    field(b, &first, "peer", r->peer);
    field(b, &first, "forwarded", r->forwarded);
    field(b, &first, "user", r->user);
    field(b, &first, "method", r->method);
    field(b, &first, "target", r->target);
    field(b, &first, "path", r->path);
    field(b, &first, "query", r->query);
    field(b, &first, "protocol", r->protocol);
    if (r->status >= 0) {
        vg_bprintf(b, "%s\"status\":%d", first ? "" : ",", (int)r->status);
        first = false;
    }
    if (r->bytes >= 0) {
        vg_bprintf(b, "%s\"bytes\":%lld", first ? "" : ",", (long long)r->bytes);
        first = false;
    }
    field(b, &first, "referer", r->referer);
    field(b, &first, "user_agent", r->user_agent);
    field(b, &first, "host", r->host);
    field(b, &first, "cookie", r->cookie);
    field(b, &first, "content_type", r->content_type);
    field(b, &first, "body", r->body);
    if (r->n_headers) {
        vg_bputs(b, first ? "\"headers\":{" : ",\"headers\":{");
        first = false;
        for (unsigned i = 0; i < r->n_headers && i < VG_REQ_MAX_HEADERS; i++) {
            if (i)
                vg_bputc(b, ',');
            vg_bputc(b, '"');
            vg_bput_json(b, r->headers[i].name.p, r->headers[i].name.n);
            vg_bputs(b, "\":");
            put_text(b, r->headers[i].value);
        }
        vg_bputc(b, '}');
    }
    vg_bputc(b, '}');
}
