/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest_check.h: the contract every format parser must keep, checked by the ingest fuzz
 * targets after each parse (a broken contract traps, so libFuzzer reports it):
 *  - the result is a known vg_parse_result;
 *  - every view lies inside the line or inside the used part of the parse buffer;
 *  - the buffer was never written past its capacity (a canary after it stays intact);
 *  - a parsed address equals vg_addr_parse of its text; time, status and bytes are in range;
 *  - file_id, offset and line_no are left untouched.
 */
#ifndef VG_FUZZ_INGEST_CHECK_H
#define VG_FUZZ_INGEST_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#define FUZZ_CANARY 16

/* An exact-size copy of the line and a parse buffer of 4 * n + 64 bytes plus a canary. */
struct fuzz_line {
    uint8_t *line;
    size_t n;
    struct vg_parse_buf pb;
};

static inline int fuzz_line_init(struct fuzz_line *fl, const uint8_t *p, size_t n)
{
    fl->line = malloc(n ? n : 1);
    fl->n = n;
    fl->pb.cap = 4 * n + 64;
    fl->pb.p = malloc(fl->pb.cap + FUZZ_CANARY);
    fl->pb.used = 0;
    if (!fl->line || !fl->pb.p) {
        free(fl->line);
        free(fl->pb.p);
        return -1;
    }
    if (n)
        memcpy(fl->line, p, n);
    memset(fl->pb.p + fl->pb.cap, 0xc3, FUZZ_CANARY);
    return 0;
}

static inline void fuzz_line_fini(struct fuzz_line *fl)
{
    free(fl->line);
    free(fl->pb.p);
}

static inline void fuzz_check_view(struct vg_str v, const struct fuzz_line *fl)
{
    if (v.n == 0)
        return;
    CHECK(v.p != NULL);
    bool in_line = v.p >= fl->line && v.p <= fl->line + fl->n &&
                   v.n <= (size_t)(fl->line + fl->n - v.p);
    bool in_buf = v.p >= fl->pb.p && v.p <= fl->pb.p + fl->pb.used &&
                  v.n <= (size_t)(fl->pb.p + fl->pb.used - v.p);
    CHECK(in_line || in_buf);
}

/* Parses fl with fmt and checks the contract; returns the result. */
static inline enum vg_parse_result fuzz_parse_check(const struct vg_format *fmt,
                                                    struct fuzz_line *fl)
{
    struct vg_request r;
    memset(&r, 0x5a, sizeof r);
    r.file_id = 3;
    r.offset = 77;
    r.line_no = 9;
    fl->pb.used = 0;
    enum vg_parse_result res = vg_format_parse_ex(fmt, fl->line, fl->n, &r, &fl->pb);
    CHECK(res >= VG_PARSE_OK && res <= VG_PARSE_RESULT_MAX);
    CHECK(r.file_id == 3 && r.offset == 77 && r.line_no == 9);
    CHECK(fl->pb.used <= fl->pb.cap);
    for (size_t i = 0; i < FUZZ_CANARY; i++)
        CHECK(fl->pb.p[fl->pb.cap + i] == 0xc3);
    const struct vg_str views[] = {r.line,     r.client,   r.user,         r.request, r.method,
                                   r.target,   r.path,     r.query,        r.protocol,
                                   r.referer,  r.user_agent, r.host,       r.cookie,  r.body,
                                   r.content_type, r.peer, r.forwarded};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        fuzz_check_view(views[i], fl);
    CHECK(r.n_headers <= VG_REQ_MAX_HEADERS);
    for (unsigned i = 0; i < r.n_headers; i++)
        fuzz_check_view(r.headers[i].value, fl); /* names are the format's or the line's */
    if (res != VG_PARSE_OK)
        return res;
    if (r.flags & VG_REQ_HAS_ADDR) {
        struct vg_addr a;
        CHECK(vg_addr_parse(r.client.p, r.client.n, &a));
        CHECK(memcmp(&a, &r.addr, sizeof a) == 0);
    }
    CHECK(r.status >= -1 && r.status <= 999);
    CHECK(r.bytes >= -1);
    if (r.flags & VG_REQ_HAS_TIME)
        CHECK(r.time > -100000000000LL && r.time < 400000000000LL);
    /* The split pieces lie inside the request line or the buffer, and args iterate. */
    struct vg_args_iter it;
    struct vg_str name, value;
    vg_args_init(&it, r.query);
    while (vg_args_next(&it, &name, &value)) {
        fuzz_check_view(name, fl);
        fuzz_check_view(value, fl);
    }
    struct vg_buf b;
    vg_buf_init(&b, 0);
    vg_request_write_json(&r, &b);
    CHECK(b.err != VG_OK || (b.n >= 2 && b.p[0] == '{' && b.p[b.n - 1] == '}'));
    vg_buf_fini(&b);
    return res;
}

#endif /* VG_FUZZ_INGEST_CHECK_H */
