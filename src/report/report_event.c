/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_event.c: the JSON-lines writer of attack events (DESIGN.md section 4, ECS names).
 *
 * Security note: every string that came from a log goes through vg_buf_add_json_str.
 */
#include <inttypes.h>

#include "core/event.h"
#include "decode/decode.h"
#include "detect/detect.h"

const char *vg_outcome_name(int32_t status)
{
    if (status >= 200 && status < 400)
        return "possible-success";
    if (status >= 400 && status < 500)
        return "refused";
    if (status >= 500 && status < 600)
        return "failed";
    return "unknown";
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        vg_status st_ = (x);                                                                       \
        if (st_ != VG_OK)                                                                          \
            return st_;                                                                            \
    } while (0)

/*
 * Performance note: with behaviour detection most events of a scan come in bursts (every probe
 * of a directory scan is one), so this writer avoids printf: literals are appended with their
 * known length, numbers and the timestamp are formatted by hand.
 */
#define PUT(b, lit) vg_buf_add((b), (lit), sizeof(lit) - 1)

static vg_status put_cstr(struct vg_buf *b, const char *s)
{
    return vg_buf_add(b, s, strlen(s));
}

static vg_status put_u64(struct vg_buf *b, uint64_t v)
{
    char t[24];
    size_t i = sizeof t;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return vg_buf_add(b, t + i, sizeof t - i);
}

static vg_status put_i64(struct vg_buf *b, int64_t v)
{
    if (v < 0) {
        TRY(vg_buf_addc(b, '-'));
        return put_u64(b, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(b, (uint64_t)v);
}

/* key (a literal with its quotes and colon), then the JSON string s. */
static vg_status add_strn(struct vg_buf *b, const char *key, size_t key_n, struct vg_str s)
{
    TRY(vg_buf_reserve(b, key_n + 2));
    memcpy(b->p + b->n, key, key_n);
    b->n += key_n;
    b->p[b->n++] = '"';
    b->p[b->n] = 0;
    TRY(vg_buf_add_json_str(b, s.p, s.n));
    return vg_buf_addc(b, '"');
}
#define add_str(b, key, s) add_strn((b), (key), sizeof(key) - 1, (s))
#define add_cstr(b, key, s) add_strn((b), (key), sizeof(key) - 1, vg_str_make((s), strlen(s)))

/* As vg_time_format_iso: YYYY-MM-DDTHH:MM:SSZ. */
static vg_status put_time(struct vg_buf *b, int64_t t)
{
    int v[6];
    vg_civil_from_unix(t, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
    if (v[0] < 0 || v[0] > 9999)
        v[0] = 0;
    char o[20];
    o[0] = (char)('0' + v[0] / 1000);
    o[1] = (char)('0' + v[0] / 100 % 10);
    o[2] = (char)('0' + v[0] / 10 % 10);
    o[3] = (char)('0' + v[0] % 10);
    static const char sep[] = "--T::Z";
    for (int i = 1; i < 6; i++) {
        o[4 + (i - 1) * 3] = sep[i - 1];
        o[5 + (i - 1) * 3] = (char)('0' + v[i] / 10 % 10);
        o[6 + (i - 1) * 3] = (char)('0' + v[i] % 10);
    }
    o[19] = 'Z';
    return vg_buf_add(b, o, sizeof o);
}

vg_status vg_event_write_json(const struct vg_event *ev, const char *geo_provenance,
                              struct vg_buf *b)
{
    TRY(PUT(b, "{\"@timestamp\":\""));
    TRY(put_time(b, ev->time));
    TRY(PUT(b, "\",\"event\":{\"kind\":\"alert\","
               "\"category\":[\"web\",\"intrusion_detection\"],\"module\":\"vigil\"},"
               "\"source\":{\"ip\":\""));
    TRY(put_cstr(b, ev->ip));
    TRY(vg_buf_addc(b, '"'));
    if (ev->country[0]) {
        TRY(PUT(b, ",\"geo\":{\"country_iso_code\":\""));
        TRY(vg_buf_add(b, ev->country, strnlen(ev->country, sizeof ev->country)));
        TRY(PUT(b, "\"}"));
    }
    if (ev->asn) {
        TRY(PUT(b, ",\"as\":{\"number\":"));
        TRY(put_u64(b, ev->asn));
        if (ev->as_org && *ev->as_org) {
            TRY(add_cstr(b, ",\"organization\":{\"name\":", ev->as_org));
            TRY(vg_buf_addc(b, '}'));
        }
        TRY(vg_buf_addc(b, '}'));
    }
    TRY(PUT(b, "},\"url\":{"));
    if (ev->host.n) {
        TRY(add_str(b, "\"domain\":", ev->host));
        TRY(vg_buf_addc(b, ','));
    }
    TRY(add_str(b, "\"original\":", ev->target));
    TRY(PUT(b, "},\"http\":{\"request\":{"));
    if (ev->method.n)
        TRY(add_str(b, "\"method\":", ev->method));
    TRY(vg_buf_addc(b, '}'));
    if (ev->status >= 0 || ev->bytes >= 0) {
        TRY(PUT(b, ",\"response\":{"));
        if (ev->status >= 0) {
            TRY(PUT(b, "\"status_code\":"));
            TRY(put_i64(b, ev->status));
        }
        if (ev->bytes >= 0) {
            if (ev->status >= 0)
                TRY(vg_buf_addc(b, ','));
            TRY(PUT(b, "\"body\":{\"bytes\":"));
            TRY(put_i64(b, ev->bytes));
            TRY(vg_buf_addc(b, '}'));
        }
        TRY(vg_buf_addc(b, '}'));
    }
    if (ev->protocol.n > 5 && memcmp(ev->protocol.p, "HTTP/", 5) == 0)
        TRY(add_str(b, ",\"version\":", vg_str_make(ev->protocol.p + 5, ev->protocol.n - 5)));
    TRY(vg_buf_addc(b, '}'));
    if (ev->user_agent.n) {
        TRY(add_str(b, ",\"user_agent\":{\"original\":", ev->user_agent));
        TRY(vg_buf_addc(b, '}'));
    }
    if (ev->referer.n) {
        TRY(add_str(b, ",\"http_referer\":{\"original\":", ev->referer));
        TRY(vg_buf_addc(b, '}'));
    }
    TRY(PUT(b, ",\"vigil\":{\"schema\":\"" VG_EVENT_SCHEMA "\",\"score\":"));
    TRY(put_i64(b, ev->score));
    if (ev->class_scores) {
        /* vigil.scores: the score per class, classes that add nothing left out */
        TRY(PUT(b, ",\"scores\":{"));
        int any = 0;
        for (int c = 0; c < VG_CLASS_COUNT && c < VG_EVENT_CLASSES; c++) {
            if (!ev->class_scores[c])
                continue;
            TRY(any ? PUT(b, ",\"") : PUT(b, "\""));
            TRY(put_cstr(b, vg_class_name((enum vg_class)c)));
            TRY(PUT(b, "\":"));
            TRY(put_i64(b, ev->class_scores[c]));
            any = 1;
        }
        TRY(vg_buf_addc(b, '}'));
    }
    TRY(PUT(b, ",\"classes\":["));
    int first = 1;
    for (int c = 0; c < VG_CLASS_COUNT; c++) {
        if (ev->classes & (1u << c)) {
            TRY(first ? PUT(b, "\"") : PUT(b, ",\""));
            TRY(put_cstr(b, vg_class_name((enum vg_class)c)));
            TRY(vg_buf_addc(b, '"'));
            first = 0;
        }
    }
    TRY(PUT(b, "],\"outcome\":\""));
    TRY(put_cstr(b, ev->outcome ? ev->outcome : "unknown"));
    TRY(vg_buf_addc(b, '"'));
    if (ev->size_anomaly)
        TRY(PUT(b, ",\"size_anomaly\":true"));
    if (ev->incident && *ev->incident)
        TRY(add_cstr(b, ",\"incident\":", ev->incident));
    if (ev->tool && *ev->tool)
        TRY(add_cstr(b, ",\"tool\":", ev->tool));
    if (ev->net && *ev->net)
        TRY(add_cstr(b, ",\"network\":", ev->net));
    if (ev->labels && *ev->labels) {
        /* "a,b" -> ["a","b"] (labels are restricted to [A-Za-z0-9._:-] when loaded) */
        TRY(PUT(b, ",\"labels\":[\""));
        for (const char *p = ev->labels; *p; p++)
            TRY(*p == ',' ? PUT(b, "\",\"") : vg_buf_add_json_str(b, (const uint8_t *)p, 1));
        TRY(PUT(b, "\"]"));
    }
    if (ev->n_detections) {
        TRY(PUT(b, ",\"detections\":["));
        for (unsigned i = 0; i < ev->n_detections; i++) {
            const struct vg_event_detection *d = &ev->detections[i];
            if (i)
                TRY(vg_buf_addc(b, ','));
            TRY(add_cstr(b, "{\"detector\":", d->detector ? d->detector : ""));
            TRY(add_cstr(b, ",\"class\":", d->class_name ? d->class_name : ""));
            TRY(add_cstr(b, ",\"why\":", d->why ? d->why : ""));
            TRY(vg_buf_addc(b, '}'));
        }
        TRY(vg_buf_addc(b, ']'));
    }
    if (ev->decode_flags) {
        char flags[256];
        vg_decode_flags_format(ev->decode_flags, flags, sizeof flags);
        TRY(add_cstr(b, ",\"decoded\":", flags));
    }
    TRY(PUT(b, ",\"hits\":["));
    for (unsigned i = 0; i < ev->n_hits; i++) {
        const struct vg_event_hit *h = &ev->hits[i];
        TRY(i ? PUT(b, ",{\"rule\":") : PUT(b, "{\"rule\":"));
        TRY(put_u64(b, h->rule_id));
        TRY(PUT(b, ",\"class\":\""));
        TRY(put_cstr(b, h->class_name ? h->class_name : ""));
        TRY(vg_buf_addc(b, '"'));
        TRY(add_cstr(b, ",\"message\":", h->message ? h->message : ""));
        TRY(add_str(b, ",\"field\":", h->field));
        TRY(add_str(b, ",\"match\":", h->match));
        if (h->detail.n)
            TRY(add_str(b, ",\"detail\":", h->detail));
        TRY(add_cstr(b, ",\"transform\":", h->transform ? h->transform : ""));
        if (h->author && *h->author)
            TRY(add_cstr(b, ",\"author\":", h->author));
        TRY(vg_buf_addc(b, '}'));
    }
    TRY(vg_buf_addc(b, ']'));
    if (geo_provenance && *geo_provenance)
        TRY(add_cstr(b, ",\"geo_db\":", geo_provenance));
    if (ev->asn_provenance && *ev->asn_provenance)
        TRY(add_cstr(b, ",\"asn_db\":", ev->asn_provenance));
    TRY(vg_buf_addc(b, '}'));
    TRY(add_cstr(b, ",\"log\":{\"file\":{\"path\":", ev->file_path ? ev->file_path : ""));
    TRY(PUT(b, "},\"offset\":"));
    TRY(put_u64(b, ev->offset));
    TRY(PUT(b, ",\"line\":"));
    TRY(put_u64(b, ev->line_no));
    return PUT(b, "}}\n");
}
