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

static vg_status add_str(struct vg_buf *b, const char *key, struct vg_str s)
{
    TRY(vg_buf_adds(b, key));
    TRY(vg_buf_addc(b, '"'));
    TRY(vg_buf_add_json_str(b, s.p, s.n));
    return vg_buf_addc(b, '"');
}

static vg_status add_cstr(struct vg_buf *b, const char *key, const char *s)
{
    return add_str(b, key, vg_str_make(s, strlen(s)));
}

vg_status vg_event_write_json(const struct vg_event *ev, const char *geo_provenance,
                              struct vg_buf *b)
{
    char ts[24];
    vg_time_format_iso(ev->time, ts);
    TRY(vg_buf_printf(b, "{\"@timestamp\":\"%s\",\"event\":{\"kind\":\"alert\","
                         "\"category\":[\"web\",\"intrusion_detection\"],\"module\":\"vigil\"},",
                      ts));
    TRY(vg_buf_printf(b, "\"source\":{\"ip\":\"%s\"", ev->ip));
    if (ev->country[0])
        TRY(vg_buf_printf(b, ",\"geo\":{\"country_iso_code\":\"%s\"}", ev->country));
    TRY(vg_buf_adds(b, "},\"url\":{"));
    if (ev->host.n) {
        TRY(add_str(b, "\"domain\":", ev->host));
        TRY(vg_buf_addc(b, ','));
    }
    TRY(add_str(b, "\"original\":", ev->target));
    TRY(vg_buf_adds(b, "},\"http\":{\"request\":{"));
    if (ev->method.n)
        TRY(add_str(b, "\"method\":", ev->method));
    TRY(vg_buf_adds(b, "}"));
    if (ev->status >= 0 || ev->bytes >= 0) {
        TRY(vg_buf_adds(b, ",\"response\":{"));
        if (ev->status >= 0)
            TRY(vg_buf_printf(b, "\"status_code\":%" PRId32, ev->status));
        if (ev->bytes >= 0)
            TRY(vg_buf_printf(b, "%s\"body\":{\"bytes\":%" PRId64 "}", ev->status >= 0 ? "," : "",
                              ev->bytes));
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
    TRY(vg_buf_printf(b, ",\"vigil\":{\"schema\":\"" VG_EVENT_SCHEMA "\",\"score\":%d,\"classes\":[",
                      ev->score));
    int first = 1;
    for (int c = 0; c < VG_CLASS_COUNT; c++) {
        if (ev->classes & (1u << c)) {
            TRY(vg_buf_printf(b, "%s\"%s\"", first ? "" : ",", vg_class_name((enum vg_class)c)));
            first = 0;
        }
    }
    TRY(vg_buf_printf(b, "],\"outcome\":\"%s\"", ev->outcome ? ev->outcome : "unknown"));
    if (ev->decode_flags) {
        char flags[256];
        vg_decode_flags_format(ev->decode_flags, flags, sizeof flags);
        TRY(add_cstr(b, ",\"decoded\":", flags));
    }
    TRY(vg_buf_adds(b, ",\"hits\":["));
    for (unsigned i = 0; i < ev->n_hits; i++) {
        const struct vg_event_hit *h = &ev->hits[i];
        TRY(vg_buf_printf(b, "%s{\"rule\":%" PRIu32 ",\"class\":\"%s\"", i ? "," : "", h->rule_id,
                          h->class_name ? h->class_name : ""));
        TRY(add_cstr(b, ",\"message\":", h->message ? h->message : ""));
        TRY(add_str(b, ",\"field\":", h->field));
        TRY(add_str(b, ",\"match\":", h->match));
        TRY(add_cstr(b, ",\"transform\":", h->transform ? h->transform : ""));
        TRY(vg_buf_addc(b, '}'));
    }
    TRY(vg_buf_addc(b, ']'));
    if (geo_provenance && *geo_provenance)
        TRY(add_cstr(b, ",\"geo_db\":", geo_provenance));
    TRY(vg_buf_addc(b, '}'));
    TRY(add_cstr(b, ",\"log\":{\"file\":{\"path\":", ev->file_path ? ev->file_path : ""));
    TRY(vg_buf_printf(b, "},\"offset\":%" PRIu64 ",\"line\":%" PRIu64 "}}\n", ev->offset,
                      ev->line_no));
    return VG_OK;
}
