/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_detect.c: `--format auto`. The candidate formats are compiled once into a set; for each
 * input, the first non-empty lines (VG_DETECT_LINES) are parsed with every candidate and the
 * one that parses the most lines wins, ties going to the one that fills the most fields (then
 * to the earlier candidate: combined before common, before vhost_combined, before main). A
 * file whose first lines fit nothing, fit only a minority, or fit formats of different kinds
 * (text lines and JSON, say) is refused with a message that names the line and what the
 * candidates expected there (GoAccess's test_format() does the same with NUM_TESTS lines).
 *
 * Pipeline position: once per input, on the bytes read before the scan starts.
 *
 * Invariants: the set is immutable after vg_format_set_new; detection reads only buf[0 .. n)
 * and allocates one scratch buffer per call (not per line of the scan).
 */
#include <stdio.h>

#include "ingest/ingest_int.h"

/* In order of preference when two candidates fit the same lines equally well. */
static const char *const vg_candidates[] = {"combined", "common", "vhost_combined", "main",
                                            "json",     "caddy",  "traefik",        "w3c",
                                            "haproxy"};

#define VG_MAX_CANDIDATES 16

struct vg_format_set {
    size_t n;
    struct vg_format *fmts[VG_MAX_CANDIDATES];
};

void vg_format_set_free(struct vg_format_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        vg_format_free(set->fmts[i]);
    vg_free(set);
}

/*
 * Compiles the candidates (see ingest.h). Candidates that cannot log the --real-ip field are
 * left out; any other compile error (a bad --json-map, a bad --trusted-proxies) is returned.
 */
vg_status vg_format_set_new(const struct vg_format_options *opt, struct vg_format_set **out,
                            struct vg_error *err)
{
    *out = NULL;
    struct vg_format_set *set = vg_calloc(1, sizeof *set);
    if (!set)
        return vg_error_set(err, VG_E_NOMEM, "log format", 0, "out of memory");
    for (size_t i = 0; i < VG_ARRAY_LEN(vg_candidates); i++) {
        struct vg_error e;
        memset(&e, 0, sizeof e);
        struct vg_format *f = NULL;
        vg_status st = vg_format_compile_opts(vg_candidates[i], opt, &f, &e);
        if (st == VG_E_FORMAT && strcmp(e.where, "--real-ip") == 0)
            continue; /* this format does not log the --real-ip field */
        if (st != VG_OK) {
            if (err)
                *err = e;
            vg_format_set_free(set);
            return st;
        }
        set->fmts[set->n++] = f;
    }
    if (set->n == 0) {
        vg_format_set_free(set);
        return vg_error_set(err, VG_E_FORMAT, "--real-ip", 0,
                            "--real-ip %s: no built-in format logs that field; give the format "
                            "with --format or --format-from",
                            opt && opt->real_ip ? opt->real_ip : "");
    }
    *out = set;
    return VG_OK;
}

const struct vg_format *vg_format_set_default(const struct vg_format_set *set)
{
    return set->fmts[0];
}

/* How many fields a parsed request has (the tie-break between candidates). */
static unsigned richness(const struct vg_request *r)
{
    const struct vg_str *v[] = {&r->client, &r->user,     &r->method, &r->target,
                                &r->protocol, &r->referer, &r->user_agent, &r->host,
                                &r->cookie, &r->body,     &r->content_type};
    unsigned n = 0;
    for (size_t i = 0; i < VG_ARRAY_LEN(v); i++)
        n += v[i]->n > 0;
    n += r->status >= 0;
    n += r->bytes >= 0;
    n += (r->flags & VG_REQ_HAS_TIME) != 0;
    /* Headers do not count: any quoted field after the user agent reads as main's
       X-Forwarded-For, so they would make main win over combined on every extended log. */
    return n;
}

/* Per-candidate probe state: W3C layouts change with #Fields lines, even while probing. */
struct probe {
    const struct vg_format *cur;
    struct vg_format *bound;
    size_t score;
    unsigned rich;
    uint32_t oks;  /* bit i: probed line i parses as a request */
    uint32_t dirs; /* bit i: probed line i is a directive of this format */
    enum vg_parse_result first_reason; /* what line 1 gave */
};

static enum vg_parse_result probe_line(struct probe *pr, const struct vg_format *base,
                                       const uint8_t *line, size_t len, struct vg_parse_buf *pb,
                                       struct vg_request *req)
{
    pb->used = 0;
    enum vg_parse_result r = pr->cur       ? vg_format_parse_ex(pr->cur, line, len, req, pb)
                             : line[0] == '#' ? VG_PARSE_DIRECTIVE
                                              : VG_PARSE_LAYOUT;
    if (r == VG_PARSE_DIRECTIVE) {
        struct vg_format *nb = NULL;
        struct vg_error e;
        vg_status st = vg_format_bind(base, line, len, &nb, &e);
        if (st != VG_OK) {
            vg_format_free(pr->bound);
            pr->bound = NULL;
            pr->cur = NULL;
        } else if (nb) {
            vg_format_free(pr->bound);
            pr->bound = nb;
            pr->cur = nb;
        }
    }
    if (r == VG_PARSE_OK && !(req->flags & VG_REQ_HAS_TIME))
        r = VG_PARSE_TIME;
    return r;
}

/* Appends a terminal-safe excerpt of a line to a message. */
static void excerpt(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < cap; i++) {
        uint8_t c = p[i];
        if (i == 72) {
            memcpy(out + k, "...", 3);
            k += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[k++] = (char)c;
        } else {
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", c);
        }
    }
    out[k < cap ? k : cap - 1] = 0;
}

static const char *kind_name(const struct vg_format *f)
{
    switch ((enum vg_fmt_kind)f->kind) {
    case VG_FK_JSON:
        return "JSON";
    case VG_FK_W3C:
        return "W3C";
    case VG_FK_HAPROXY:
        return "HAProxy";
    case VG_FK_LINE:
        break;
    }
    return "text";
}

/*
 * Picks a file's format (see ingest.h). err->line is the 1-based number of the line at fault.
 */
vg_status vg_format_detect(const struct vg_format_set *set, const uint8_t *buf, size_t n,
                           bool at_eof, const struct vg_format **out,
                           struct vg_detect_info *info, struct vg_error *err)
{
    *out = NULL;
    struct vg_detect_info local;
    if (!info)
        info = &local;
    info->probed = info->matched = 0;
    struct {
        const uint8_t *p;
        size_t n;
        uint64_t line_no;
    } lines[VG_DETECT_LINES];
    size_t nl = 0;
    uint64_t line_no = 0;
    size_t longest = 0;
    const uint8_t *p = buf, *end = buf + n;
    while (p < end && nl < VG_DETECT_LINES) {
        const uint8_t *e = memchr(p, '\n', (size_t)(end - p));
        if (!e && !at_eof)
            break; /* an incomplete last line: not probed */
        const uint8_t *le = e ? e : end;
        line_no++;
        size_t len = (size_t)(le - p);
        if (len && p[len - 1] == '\r')
            len--;
        size_t b = 0;
        while (b < len && (p[b] == ' ' || p[b] == '\t'))
            b++;
        if (b < len) {
            lines[nl].p = p;
            lines[nl].n = len;
            lines[nl].line_no = line_no;
            nl++;
            if (len > longest)
                longest = len;
        }
        p = e ? e + 1 : end;
    }
    info->probed = nl;
    if (nl == 0) {
        if (n > 0 && !at_eof)
            return vg_error_set(err, VG_E_FORMAT, NULL, 1,
                                "cannot detect the log format: line 1 is longer than the %zu "
                                "bytes looked at; give --format",
                                n);
        return VG_OK; /* nothing but blank lines: nothing to parse */
    }
    struct vg_parse_buf pb = {vg_malloc(4 * longest + 64), 4 * longest + 64, 0};
    struct probe *pr = vg_calloc(set->n, sizeof *pr);
    if (!pb.p || !pr) {
        vg_free(pb.p);
        vg_free(pr);
        return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    }
    struct vg_request req;
    for (size_t c = 0; c < set->n; c++)
        pr[c].cur = set->fmts[c];
    for (size_t i = 0; i < nl; i++) {
        for (size_t c = 0; c < set->n; c++) {
            enum vg_parse_result r =
                probe_line(&pr[c], set->fmts[c], lines[i].p, lines[i].n, &pb, &req);
            if (i == 0)
                pr[c].first_reason = r;
            if (r == VG_PARSE_OK) {
                pr[c].score++;
                pr[c].rich += richness(&req);
                pr[c].oks |= 1u << i;
            } else if (r == VG_PARSE_DIRECTIVE) {
                pr[c].dirs |= 1u << i;
            }
        }
    }
    size_t best = 0;
    for (size_t c = 1; c < set->n; c++) {
        int dc = __builtin_popcount(pr[c].dirs), db = __builtin_popcount(pr[best].dirs);
        if (pr[c].score > pr[best].score || (pr[c].score == pr[best].score && dc > db) ||
            (pr[c].score == pr[best].score && dc == db && pr[c].rich > pr[best].rich))
            best = c;
    }
    /* Lines that count: those that are not directives of the winner. */
    size_t counted = nl - (size_t)__builtin_popcount(pr[best].dirs);
    vg_status st = VG_OK;
    char ex[128];
    if (counted == 0) {
        /* only directives so far (a W3C header, no request yet): the winner takes them */
    } else if (pr[best].score == 0) {
        excerpt(ex, sizeof ex, lines[0].p, lines[0].n);
        const struct vg_format *text = NULL, *json = NULL;
        enum vg_parse_result rt = VG_PARSE_OK, rj = VG_PARSE_OK;
        for (size_t c = 0; c < set->n; c++) {
            if (!text && set->fmts[c]->kind == VG_FK_LINE) {
                text = set->fmts[c];
                rt = pr[c].first_reason;
            }
            if (!json && set->fmts[c]->kind == VG_FK_JSON) {
                json = set->fmts[c];
                rj = pr[c].first_reason;
            }
        }
        st = vg_error_set(err, VG_E_FORMAT, NULL, lines[0].line_no,
                          "cannot detect the log format: line %llu \"%s\" fits none of the known "
                          "formats (as %s: %s; as %s: %s); give --format or --format-from",
                          (unsigned long long)lines[0].line_no, ex, text ? text->name : "text",
                          text ? vg_parse_strerror(rt) : "-", json ? json->name : "json",
                          json ? vg_parse_strerror(rj) : "-");
    } else {
        /* The first probed line the winner does not parse, and whether another kind does. */
        size_t miss = nl;
        for (size_t i = 0; i < nl && miss == nl; i++)
            if (!((pr[best].oks | pr[best].dirs) & (1u << i)))
                miss = i;
        size_t other = set->n;
        for (size_t c = 0; miss < nl && c < set->n && other == set->n; c++)
            if ((pr[c].oks & (1u << miss)) && set->fmts[c]->kind != set->fmts[best]->kind)
                other = c;
        if (other < set->n) {
            excerpt(ex, sizeof ex, lines[miss].p, lines[miss].n);
            st = vg_error_set(err, VG_E_FORMAT, NULL, lines[miss].line_no,
                              "the file mixes log formats: most of the first lines are %s (%s), "
                              "but line %llu \"%s\" is %s (%s); scan the parts separately or give "
                              "--format",
                              set->fmts[best]->name, kind_name(set->fmts[best]),
                              (unsigned long long)lines[miss].line_no, ex,
                              set->fmts[other]->name, kind_name(set->fmts[other]));
        } else if (pr[best].score * 2 <= counted) {
            excerpt(ex, sizeof ex, lines[miss].p, lines[miss].n);
            enum vg_parse_result r =
                probe_line(&pr[best], set->fmts[best], lines[miss].p, lines[miss].n, &pb, &req);
            st = vg_error_set(err, VG_E_FORMAT, NULL, lines[miss].line_no,
                              "cannot detect the log format: only %zu of the first %zu lines fit "
                              "any one format (the best is %s); line %llu \"%s\" does not: %s; "
                              "give --format",
                              pr[best].score, counted, set->fmts[best]->name,
                              (unsigned long long)lines[miss].line_no, ex, vg_parse_strerror(r));
        }
    }
    if (st == VG_OK) {
        *out = set->fmts[best];
        info->matched = pr[best].score + (size_t)__builtin_popcount(pr[best].dirs);
    }
    for (size_t c = 0; c < set->n; c++)
        vg_format_free(pr[c].bound);
    vg_free(pr);
    vg_free(pb.p);
    return st;
}
