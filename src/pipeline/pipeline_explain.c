/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline_explain.c: vg_explain_line, how one log line is parsed, decoded, scored and
 * attributed. For users who want to know why a request was (or was not) counted, and for us when
 * a number looks wrong.
 *
 * It runs the same code as a scan (vg_format_parse, vg_detect_request, vg_detect_spans, the event
 * writer), and shows in addition the decoded form of every field the detectors read, with the
 * decode chain's flags. Security note: every byte from the line is escaped for the terminal
 * (text) or for JSON.
 */
#include <inttypes.h>
#include <stdio.h>

#include "decode/decode.h"
#include "pipeline/pipeline.h"

struct explain_out {
    struct vg_buf b;
    bool json;
    bool first; /* JSON: no comma before the next member of the current object/array */
};

static void put_text_value(struct vg_buf *b, struct vg_str v)
{
    if (!v.n) {
        vg_bputs(b, "-");
        return;
    }
    vg_bputc(b, '"');
    vg_bput_term(b, v.p, v.n);
    vg_bputc(b, '"');
}

/* One "name value" row (text) or "name":"value" member (JSON). */
static void field_row(struct explain_out *o, const char *name, struct vg_str v)
{
    if (o->json) {
        vg_bprintf(&o->b, "%s\"%s\":\"", o->first ? "" : ",", name);
        vg_bput_json(&o->b, v.p, v.n);
        vg_bputc(&o->b, '"');
        o->first = false;
        return;
    }
    vg_bprintf(&o->b, "  %-14s ", name);
    put_text_value(&o->b, v);
    vg_bputc(&o->b, '\n');
}

/* The decoded form of one value as the detectors see it, with what decoding changed. */
static void decoded_row(struct explain_out *o, const char *name, struct vg_str name_suffix,
                        enum vg_decode_kind kind, struct vg_str v, uint8_t *out, uint8_t *tmp)
{
    if (!v.n)
        return;
    unsigned flags = 0;
    size_t n = v.n;
    const uint8_t *d = v.p;
    if (vg_decode_needed(kind, v.p, v.n)) {
        n = vg_decode_chain(kind, v.p, v.n, out, tmp, &flags);
        d = out;
    }
    char fl[256] = "";
    if (flags)
        vg_decode_flags_format(flags, fl, sizeof fl);
    if (o->json) {
        vg_bprintf(&o->b, "%s{\"field\":\"%s", o->first ? "" : ",", name);
        if (name_suffix.n) {
            vg_bputc(&o->b, ':');
            vg_bput_json(&o->b, name_suffix.p, name_suffix.n);
        }
        vg_bputs(&o->b, "\",\"decoded\":\"");
        vg_bput_json(&o->b, d, n);
        vg_bprintf(&o->b, "\",\"changed\":\"%s\"}", fl);
        o->first = false;
        return;
    }
    size_t before = o->b.n;
    vg_bprintf(&o->b, "  %s", name);
    if (name_suffix.n) {
        vg_bputc(&o->b, ':');
        vg_bput_term(&o->b, name_suffix.p, name_suffix.n > 40 ? 40 : name_suffix.n);
    }
    size_t w = o->b.n - before;
    vg_bprintf(&o->b, "%*s ", w < 17 ? (int)(17 - w) : 1, "");
    put_text_value(&o->b, vg_str_make(d, n));
    vg_bprintf(&o->b, flags ? "  [%s]\n" : "  (as logged)\n", fl);
}

static void section(struct explain_out *o, const char *json_key, const char *title, bool array)
{
    if (o->json)
        vg_bprintf(&o->b, ",\"%s\":%c", json_key, array ? '[' : '{');
    else
        vg_bprintf(&o->b, "%s:\n", title);
    o->first = true;
}

static void section_end(struct explain_out *o, bool array)
{
    if (o->json)
        vg_bputc(&o->b, array ? ']' : '}');
}

/* The views the rule language's engine made (field, instance name, chain, bytes). */
static void explain_views(struct explain_out *o, const struct vg_detect_scratch *s)
{
    enum vg_field f;
    struct vg_str name, bytes;
    const char *view;
    if (!vg_detect_view(s, 0, &f, &name, &view, &bytes))
        return;
    section(o, "views", "views (rule language: field, transformations, bytes)", true);
    for (size_t i = 0; vg_detect_view(s, i, &f, &name, &view, &bytes); i++) {
        const char *fn = vg_field_name(f);
        if (o->json) {
            vg_bprintf(&o->b, "%s{\"field\":\"%s", o->first ? "" : ",", fn ? fn : "");
            if (name.n) {
                vg_bputc(&o->b, ':');
                vg_bput_json(&o->b, name.p, name.n);
            }
            vg_bputs(&o->b, "\",\"transform\":\"");
            vg_bput_json(&o->b, (const uint8_t *)view, strlen(view));
            vg_bputs(&o->b, "\",\"bytes\":\"");
            vg_bput_json(&o->b, bytes.p, bytes.n);
            vg_bputs(&o->b, "\"}");
            o->first = false;
            continue;
        }
        vg_bprintf(&o->b, "  %s", fn ? fn : "");
        if (name.n) {
            vg_bputc(&o->b, ':');
            vg_bput_term(&o->b, name.p, name.n > 40 ? 40 : name.n);
        }
        vg_bputs(&o->b, " (");
        vg_bput_term(&o->b, (const uint8_t *)view, strlen(view));
        vg_bputs(&o->b, ") ");
        put_text_value(&o->b, bytes);
        vg_bputc(&o->b, '\n');
    }
    section_end(o, true);
}

/* Hits an allowlist entry dropped, with the entry's reason. */
static void explain_allowed(struct explain_out *o, const vg_engine_t *eng,
                            const struct vg_verdict *v)
{
    if (!v->n_allowed)
        return;
    const struct vg_allowlist *al = vg_detector_allowlist(eng->det);
    section(o, "allowed", "allowed (dropped by --allow, not scored)", true);
    for (unsigned i = 0; i < v->n_allowed && i < VG_MAX_ALLOWED; i++) {
        const struct vg_hit *h = &v->allowed[i];
        const struct vg_rule *r = vg_detector_rule(eng->det, h->rule);
        const char *reason = vg_allowlist_reason(al, (size_t)h->allow);
        const char *src = vg_allowlist_source(al, (size_t)h->allow);
        const char *fn = vg_field_name(h->field);
        if (!r)
            continue;
        if (o->json) {
            vg_bprintf(&o->b, "%s{\"rule\":%" PRIu32 ",\"class\":\"%s\",\"score\":%d,"
                       "\"field\":\"%s", o->first ? "" : ",", r->id, vg_class_name(r->class_),
                       r->score, fn ? fn : "");
            if (h->name.n) {
                vg_bputc(&o->b, ':');
                vg_bput_json(&o->b, h->name.p, h->name.n);
            }
            vg_bprintf(&o->b, "\",\"entry\":%d,\"reason\":\"", h->allow);
            vg_bput_json(&o->b, (const uint8_t *)(reason ? reason : ""), reason ? strlen(reason) : 0);
            vg_bputs(&o->b, "\",\"allow_source\":\"");
            vg_bput_json(&o->b, (const uint8_t *)(src ? src : ""), src ? strlen(src) : 0);
            vg_bputs(&o->b, "\"}");
            o->first = false;
            continue;
        }
        vg_bprintf(&o->b, "  %" PRIu32 " %s +%d on %s", r->id, vg_class_name(r->class_),
                   r->score, fn ? fn : "");
        if (h->name.n) {
            vg_bputc(&o->b, ':');
            vg_bput_term(&o->b, h->name.p, h->name.n > 40 ? 40 : h->name.n);
        }
        vg_bputs(&o->b, " allowed by ");
        vg_bput_term(&o->b, (const uint8_t *)(src ? src : "?"), src ? strlen(src) : 1);
        vg_bputs(&o->b, ": ");
        vg_bput_term(&o->b, (const uint8_t *)(reason ? reason : ""), reason ? strlen(reason) : 0);
        vg_bputc(&o->b, '\n');
    }
    section_end(o, true);
}

/* The explanation; path/line_no/offset say where the line came from (for the event). */
static vg_status explain(const vg_engine_t *eng, const uint8_t *line, size_t len, FILE *f,
                         int json, const char *path, uint64_t line_no, uint64_t offset)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    struct explain_out o = {.json = json != 0, .first = true};
    vg_buf_init(&o.b, 0);
    struct vg_request req;
    memset(&req, 0, sizeof req);
    enum vg_parse_result pr = vg_format_parse(eng->fmt, line, len, &req);
    if (o.json) {
        vg_bputs(&o.b, "{\"line\":\"");
        vg_bput_json(&o.b, line, len);
        vg_bputs(&o.b, "\",\"format\":\"");
        const char *fn = vg_format_name(eng->fmt);
        vg_bput_json(&o.b, (const uint8_t *)fn, strlen(fn));
        vg_bputc(&o.b, '"');
    } else {
        vg_bputs(&o.b, "line:   ");
        put_text_value(&o.b, vg_str_make(line, len));
        vg_bprintf(&o.b, "\nformat: ");
        const char *fn = vg_format_name(eng->fmt);
        vg_bput_term(&o.b, (const uint8_t *)fn, strlen(fn));
        vg_bputc(&o.b, '\n');
    }
    if (pr != VG_PARSE_OK) {
        if (o.json)
            vg_bprintf(&o.b, ",\"parsed\":false,\"reason\":\"%s\",\"verdict\":\"malformed\"}\n",
                       vg_parse_strerror(pr));
        else
            vg_bprintf(&o.b, "parsed: no: %s\nverdict: malformed line (counted, sampled, "
                             "skipped)\n",
                       vg_parse_strerror(pr));
        goto write;
    }

    /* ---- parsed fields ---- */
    char ip[46] = "", cc[3] = "", ts[24] = "";
    if (req.flags & VG_REQ_HAS_ADDR) {
        vg_addr_format(&req.addr, ip);
        if (eng->geo)
            vg_geo_country(eng->geo, &req.addr, cc);
    }
    if (req.flags & VG_REQ_HAS_TIME)
        vg_time_format_iso(req.time, ts);
    section(&o, "parsed", "parsed", false);
    field_row(&o, "client", vg_str_make(ip, strlen(ip)));
    field_row(&o, "country", vg_str_make(cc, strlen(cc)));
    field_row(&o, "time_utc", vg_str_make(ts, strlen(ts)));
    field_row(&o, "method", req.method);
    field_row(&o, "target", req.target);
    field_row(&o, "path", req.path);
    field_row(&o, "query", req.query);
    field_row(&o, "protocol", req.protocol);
    char num[32];
    snprintf(num, sizeof num, "%" PRId32, req.status);
    field_row(&o, "status", req.status >= 0 ? vg_str_make(num, strlen(num)) : VG_STR_NULL);
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%" PRId64, req.bytes);
    field_row(&o, "bytes", req.bytes >= 0 ? vg_str_make(bytes, strlen(bytes)) : VG_STR_NULL);
    field_row(&o, "host", req.host);
    field_row(&o, "referer", req.referer);
    field_row(&o, "user_agent", req.user_agent);
    field_row(&o, "cookie", req.cookie);
    field_row(&o, "content_type", req.content_type);
    field_row(&o, "body", req.body);
    section_end(&o, false);
    if (!o.json && (req.flags & VG_REQ_BAD_REQLINE))
        vg_bputs(&o.b, "  (the request line is not METHOD TARGET PROTOCOL: read whole as the "
                       "target)\n");

    /* ---- decoded forms ---- */
    uint8_t *dec = vg_malloc(len + 1), *tmp = vg_malloc(len + 1);
    if (!dec || !tmp) {
        vg_free(dec);
        vg_free(tmp);
        vg_buf_fini(&o.b);
        return VG_E_NOMEM;
    }
    section(&o, "decoded", "decoded (what the detectors read)", true);
    decoded_row(&o, "path", VG_STR_NULL, VG_DECODE_PATH, req.path, dec, tmp);
    struct vg_args_iter it;
    struct vg_str an, av;
    vg_args_init(&it, req.query);
    while (vg_args_next(&it, &an, &av)) {
        decoded_row(&o, "args_name", VG_STR_NULL, VG_DECODE_QUERY, an, dec, tmp);
        decoded_row(&o, "args", an, VG_DECODE_QUERY, av, dec, tmp);
    }
    decoded_row(&o, "referer", VG_STR_NULL, VG_DECODE_HEADER, req.referer, dec, tmp);
    decoded_row(&o, "user_agent", VG_STR_NULL, VG_DECODE_HEADER, req.user_agent, dec, tmp);
    decoded_row(&o, "cookie", VG_STR_NULL, VG_DECODE_QUERY, req.cookie, dec, tmp);
    decoded_row(&o, "body", VG_STR_NULL, VG_DECODE_QUERY, req.body, dec, tmp);
    section_end(&o, true);
    vg_free(dec);
    vg_free(tmp);

    /* ---- rules, scores, verdict ---- */
    struct vg_detect_scratch *s = NULL;
    vg_status st = vg_detect_scratch_new(eng->det, &s);
    if (st != VG_OK) {
        vg_buf_fini(&o.b);
        return st;
    }
    struct vg_verdict v;
    st = vg_detect_request(eng->det, s, &req, &v);
    if (st != VG_OK) {
        vg_detect_scratch_free(s);
        vg_buf_fini(&o.b);
        return st;
    }
    vg_detect_spans(eng->det, s, &v);
    const int *class_score = v.class_scores;
    explain_views(&o, s);
    section(&o, "hits", "rules that matched", true);
    for (unsigned i = 0; i < v.n_hits; i++) {
        const struct vg_hit *h = &v.hits[i];
        const struct vg_rule *r = vg_detector_rule(eng->det, h->rule);
        const char *view = h->view ? h->view : vg_transform_name(h->transform);
        size_t ms = h->match_start, me = h->match_end;
        if (me > h->subject.n)
            me = h->subject.n;
        if (ms > me)
            ms = me;
        struct vg_str m = h->subject.p ? vg_str_make(h->subject.p + ms, me - ms)
                                       : (struct vg_str)VG_STR_NULL;
        if (o.json) {
            vg_bprintf(&o.b, "%s{\"rule\":%" PRIu32 ",\"class\":\"%s\",\"score\":%d,\"field\":\"%s",
                       i ? "," : "", r->id, vg_class_name(r->class_), r->score,
                       vg_field_name(h->field));
            if (h->name.n) {
                vg_bputc(&o.b, ':');
                vg_bput_json(&o.b, h->name.p, h->name.n);
            }
            vg_bputs(&o.b, "\",\"transform\":\"");
            vg_bput_json(&o.b, (const uint8_t *)view, strlen(view));
            vg_bprintf(&o.b, "\",\"span\":[%zu,%zu],\"match\":\"", ms, me);
            vg_bput_json(&o.b, m.p, m.n);
            vg_bputs(&o.b, "\",\"message\":\"");
            vg_bput_json(&o.b, (const uint8_t *)r->message, strlen(r->message));
            vg_bputs(&o.b, "\",\"source\":\"");
            vg_bput_json(&o.b, (const uint8_t *)r->source, r->source ? strlen(r->source) : 0);
            if (r->group) {
                vg_bputs(&o.b, "\",\"group\":\"");
                vg_bput_json(&o.b, (const uint8_t *)r->group, strlen(r->group));
            }
            if (r->author) {
                vg_bputs(&o.b, "\",\"author\":\"");
                vg_bput_json(&o.b, (const uint8_t *)r->author, strlen(r->author));
            }
            vg_bputs(&o.b, "\"}");
        } else {
            vg_bprintf(&o.b, "  %" PRIu32 " %s +%d on %s", r->id, vg_class_name(r->class_),
                       r->score, vg_field_name(h->field));
            if (h->name.n) {
                vg_bputc(&o.b, ':');
                vg_bput_term(&o.b, h->name.p, h->name.n > 40 ? 40 : h->name.n);
            }
            vg_bputs(&o.b, " (");
            vg_bput_term(&o.b, (const uint8_t *)view, strlen(view));
            vg_bprintf(&o.b, ") at %zu..%zu: ", ms, me);
            put_text_value(&o.b, m);
            vg_bputs(&o.b, "\n      ");
            vg_bput_term(&o.b, (const uint8_t *)r->message, strlen(r->message));
            vg_bputs(&o.b, " [");
            vg_bput_term(&o.b, (const uint8_t *)r->source, r->source ? strlen(r->source) : 0);
            vg_bputs(&o.b, "]");
            if (r->group) {
                vg_bputs(&o.b, " group ");
                vg_bput_term(&o.b, (const uint8_t *)r->group, strlen(r->group));
            }
            if (r->author) {
                vg_bputs(&o.b, " by ");
                vg_bput_term(&o.b, (const uint8_t *)r->author, strlen(r->author));
            }
            vg_bputc(&o.b, '\n');
        }
    }
    if (!o.json && v.n_hits == 0)
        vg_bputs(&o.b, "  (none)\n");
    if (!o.json && v.hits_truncated)
        vg_bprintf(&o.b, "  (more than %d rules matched; all are scored)\n", VG_MAX_HITS);
    section_end(&o, true);
    explain_allowed(&o, eng, &v);
    int threshold = vg_detector_threshold(eng->det);
    bool attack = v.score >= threshold;
    if (o.json) {
        vg_bputs(&o.b, ",\"scores\":{");
        bool first = true;
        for (int c = 0; c < VG_CLASS_COUNT; c++)
            if (class_score[c]) {
                vg_bprintf(&o.b, "%s\"%s\":%d", first ? "" : ",", vg_class_name((enum vg_class)c),
                           class_score[c]);
                first = false;
            }
        vg_bprintf(&o.b, "},\"score\":%d,\"threshold\":%d,\"verdict\":\"%s\"", v.score, threshold,
                   attack ? "attack" : "not-attack");
    } else {
        vg_bputs(&o.b, "score per class:");
        bool any = false;
        for (int c = 0; c < VG_CLASS_COUNT; c++)
            if (class_score[c]) {
                vg_bprintf(&o.b, " %s %d", vg_class_name((enum vg_class)c), class_score[c]);
                any = true;
            }
        vg_bprintf(&o.b, "%s\ntotal: %d (threshold %d)\n", any ? "" : " none", v.score,
                   threshold);
        vg_bprintf(&o.b, "verdict: %s\n", attack ? "ATTACK REQUEST" : "not an attack request");
    }
    if (attack) {
        /* The event exactly as a scan would write it (attribution included). */
        struct vg_arena arena;
        vg_arena_init(&arena, 16 * 1024, 0);
        struct vg_attack_rec rec;
        bool is_attack = false;
        req.line_no = line_no;
        req.offset = offset;
        st = vg_pipeline_analyze(eng, s, &req, &arena, &rec, &is_attack);
        if (st == VG_OK && is_attack) {
            struct vg_event ev;
            vg_pipeline_make_event(eng, &rec, line_no, path, 0, &ev);
            memcpy(ev.country, cc, 3);
            struct vg_buf eb;
            vg_buf_init(&eb, 0);
            st = vg_event_write_json(&ev, vg_geo_provenance(eng->geo), &eb);
            if (st == VG_OK && eb.n) {
                eb.p[--eb.n] = 0; /* the newline */
                if (o.json) {
                    vg_bputs(&o.b, ",\"event\":");
                    vg_bput(&o.b, eb.p, eb.n);
                } else {
                    vg_bputs(&o.b, "event:\n  ");
                    vg_bput_term(&o.b, eb.p, eb.n);
                    vg_bputc(&o.b, '\n');
                }
            }
            vg_buf_fini(&eb);
        }
        vg_arena_fini(&arena);
    }
    vg_detect_scratch_free(s);
    if (st != VG_OK) {
        vg_buf_fini(&o.b);
        return st;
    }
    if (o.json)
        vg_bputs(&o.b, "}\n");
    if (!o.json && eng->geo && ip[0])
        vg_bprintf(&o.b, "country is that of the client address as logged (%s)\n",
                   vg_geo_provenance(eng->geo));
write:;
    vg_status ws = o.b.err;
    if (ws == VG_OK && o.b.n && fwrite(o.b.p, 1, o.b.n, f) != o.b.n)
        ws = VG_E_IO;
    vg_buf_fini(&o.b);
    return ws;
}

vg_status vg_explain_line(const vg_engine_t *eng, const uint8_t *line, size_t len, FILE *f,
                          int json)
{
    return explain(eng, line, len, f, json, "-", 1, 0);
}

vg_status vg_explain_file_line(const vg_engine_t *eng, const char *path, uint64_t line_no,
                               FILE *f, int json, struct vg_error *err)
{
    if (line_no == 0)
        return vg_error_set(err, VG_E_INVAL, NULL, 0, "line numbers start at 1");
    struct vg_input *in = NULL;
    vg_status st = vg_input_open(path, &in, err);
    if (st != VG_OK)
        return st;
    /* Stream through the input keeping only the current line (bounded by the same 64 MiB cap
       as --max-line's largest value). */
    struct vg_buf cur;
    vg_buf_init(&cur, (size_t)64 << 20);
    uint8_t *buf = vg_malloc(64 * 1024);
    uint64_t n = 1, pos = 0, line_off = 0;
    bool found = false;
    if (!buf)
        st = VG_E_NOMEM;
    while (st == VG_OK && !found) {
        size_t got = 0;
        st = vg_input_read(in, buf, 64 * 1024, &got, err);
        if (st != VG_OK || got == 0)
            break;
        const uint8_t *p = buf, *end = buf + got;
        while (p < end) {
            const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
            const uint8_t *e = nl ? nl : end;
            if (n == line_no) {
                if (cur.n == 0)
                    line_off = pos + (uint64_t)(p - buf);
                if (vg_buf_add(&cur, p, (size_t)(e - p)) != VG_OK) {
                    st = vg_error_set(err, VG_E_LIMIT, path, 0, "%s: line %" PRIu64
                                      " is longer than 64 MiB", path, line_no);
                    break;
                }
                if (nl) {
                    found = true;
                    break;
                }
            }
            if (!nl)
                break;
            n++;
            p = nl + 1;
        }
        pos += got;
    }
    if (st == VG_OK && !found && n == line_no && cur.n)
        found = true; /* last line without a newline */
    vg_free(buf);
    vg_input_close(in);
    if (st == VG_OK && !found)
        st = vg_error_set(err, VG_E_INVAL, path, 0, "%s has no line %" PRIu64, path, line_no);
    if (st == VG_OK)
        st = explain(eng, cur.p ? cur.p : (const uint8_t *)"", cur.n, f, json, path, line_no,
                     line_off);
    vg_buf_fini(&cur);
    return st;
}
