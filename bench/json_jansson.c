/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_jansson.c: is a hand-written JSON scanner worth it? Reads a JSON-lines file into memory
 * and, on one thread, times three ways of getting the request out of every line:
 *
 *   vigil     vg_format_parse_ex with the "json" format (the scanner in src/ingest/ingest_json.c:
 *             no allocation, values are views into the line)
 *   jansson   json_loadb + json_object_get of the same keys (a tree allocated per line), then the
 *             same field parsing as vigil (time, address, status, request split) on the strings
 *   jansson-only  json_loadb + json_decref alone (the floor of the library approach)
 *
 * Usage: json_jansson FILE [REPS]  (prints one line per method: lines/s, CPU seconds)
 * Built and run by bench/parse.sh against the static libvigil of the build directory.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/ingest.h"
#include "ingest/ingest_int.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct lines {
    char *buf;
    size_t n;
    size_t *off, *len;
    size_t count;
};

static int load(const char *path, struct lines *l)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    l->buf = malloc((size_t)n + 1);
    if (!l->buf || fread(l->buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return -1;
    }
    fclose(f);
    l->n = (size_t)n;
    size_t cap = 1024;
    l->off = malloc(cap * sizeof *l->off);
    l->len = malloc(cap * sizeof *l->len);
    l->count = 0;
    for (size_t p = 0; p < l->n;) {
        char *nl = memchr(l->buf + p, '\n', l->n - p);
        size_t e = nl ? (size_t)(nl - l->buf) : l->n;
        if (l->count == cap) {
            cap *= 2;
            l->off = realloc(l->off, cap * sizeof *l->off);
            l->len = realloc(l->len, cap * sizeof *l->len);
        }
        l->off[l->count] = p;
        l->len[l->count] = e - p;
        l->count++;
        p = e + 1;
    }
    return 0;
}

/* The keys of the dev corpus's escape=json log, as vigil's generic map reads them. */
static const char *const keys[] = {"time_iso8601", "remote_addr", "request_method", "request_uri",
                                   "server_protocol", "status", "body_bytes_sent", "http_host",
                                   "http_referer", "http_user_agent", "http_cookie",
                                   "content_type", "request_body"};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [REPS]\n", argv[0]);
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    struct lines l;
    if (load(argv[1], &l) != 0) {
        perror(argv[1]);
        return 1;
    }
    struct vg_format *fmt = NULL, *line_fmt = NULL;
    struct vg_error err;
    if (vg_format_compile("json", &fmt, &err) != VG_OK ||
        vg_format_compile("nginx:$remote_addr $status", &line_fmt, &err) != VG_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    size_t longest = 0;
    for (size_t i = 0; i < l.count; i++)
        if (l.len[i] > longest)
            longest = l.len[i];
    struct vg_parse_buf pb = {malloc(4 * longest + 64), 4 * longest + 64, 0};
    struct vg_request req;

    /* vigil's scanner */
    double best = 1e9;
    size_t ok = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = cpu_now();
        ok = 0;
        for (size_t i = 0; i < l.count; i++) {
            pb.used = 0;
            ok += vg_format_parse_ex(fmt, (const uint8_t *)l.buf + l.off[i], l.len[i], &req,
                                     &pb) == VG_PARSE_OK;
        }
        double t = cpu_now() - t0;
        if (t < best)
            best = t;
    }
    printf("vigil-json\t%.0f lines/s\t%.3f s\t%zu ok of %zu\n", (double)l.count / best, best, ok,
           l.count);

    /* jansson: tree per line, then the same field work on the strings */
    best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = cpu_now();
        ok = 0;
        for (size_t i = 0; i < l.count; i++) {
            json_error_t je;
            json_t *o = json_loadb(l.buf + l.off[i], l.len[i], JSON_ALLOW_NUL, &je);
            if (!o)
                continue;
            int got = 0;
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                json_t *v = json_object_get(o, keys[k]);
                if (!v)
                    continue;
                got++;
                if (k == 0 && json_is_string(v)) {
                    /* the same time parser vigil uses, on the decoded string */
                    int64_t t;
                    (void)vg_time_any((const uint8_t *)json_string_value(v),
                                      json_string_length(v), &t);
                }
                if (k == 3 && json_is_string(v)) {
                    struct vg_request rq;
                    memset(&rq, 0, sizeof rq);
                    vg_request_split(vg_str_make(json_string_value(v), json_string_length(v)),
                                     &rq);
                }
            }
            json_t *ip = json_object_get(o, "remote_addr");
            if (ip && json_is_string(ip)) {
                char tmp[128];
                snprintf(tmp, sizeof tmp, "%s 200", json_string_value(ip));
                (void)vg_format_parse(line_fmt, (const uint8_t *)tmp, strlen(tmp), &req);
            }
            ok += got > 0;
            json_decref(o);
        }
        double t = cpu_now() - t0;
        if (t < best)
            best = t;
    }
    printf("jansson+fields\t%.0f lines/s\t%.3f s\t%zu ok of %zu\n", (double)l.count / best, best,
           ok, l.count);

    /* jansson alone */
    best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = cpu_now();
        for (size_t i = 0; i < l.count; i++) {
            json_error_t je;
            json_t *o = json_loadb(l.buf + l.off[i], l.len[i], JSON_ALLOW_NUL, &je);
            json_decref(o);
        }
        double t = cpu_now() - t0;
        if (t < best)
            best = t;
    }
    printf("jansson-only\t%.0f lines/s\t%.3f s\n", (double)l.count / best, best);
    vg_format_free(fmt);
    vg_format_free(line_fmt);
    free(pb.p);
    free(l.buf);
    free(l.off);
    free(l.len);
    return 0;
}
