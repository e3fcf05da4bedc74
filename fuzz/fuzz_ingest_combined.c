/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest_combined.c: libFuzzer target for the line parser with the three presets
 * (combined, common, vhost_combined), the request-line split, $time_local and the argument
 * iterator. The input is one log line (without its terminator).
 *
 * Besides memory errors (ASan/UBSan), it checks the parser's contract and traps when it breaks:
 * every view lies inside the line, a parsed address re-parses to the same bytes, numbers are in
 * range, and the argument iterator covers only bytes of the query.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static void check_view(struct vg_str v, const uint8_t *base, size_t n)
{
    if (v.n == 0)
        return;
    CHECK(v.p != NULL);
    CHECK(v.p >= base && v.p <= base + n && v.n <= (size_t)(base + n - v.p));
}

static void check_args(struct vg_str s, const uint8_t *base, size_t n)
{
    struct vg_args_iter it;
    struct vg_str name, value;
    vg_args_init(&it, s);
    size_t pairs = 0;
    while (vg_args_next(&it, &name, &value)) {
        check_view(name, s.p, s.n);
        check_view(value, s.p, s.n);
        check_view(name, base, n);
        CHECK(name.n > 0 || value.p != NULL); /* empty segments are skipped */
        CHECK(++pairs <= s.n);
    }
}

static void check_request(const struct vg_request *r, enum vg_parse_result res, const uint8_t *data,
                          size_t size)
{
    CHECK(res >= VG_PARSE_OK && res <= VG_PARSE_RESULT_MAX);
    CHECK(vg_parse_strerror(res) != NULL);
    const struct vg_str views[] = {r->line,     r->client,  r->user,        r->request,
                                   r->method,   r->target,  r->path,        r->query,
                                   r->protocol, r->referer, r->user_agent,  r->host,
                                   r->cookie,   r->body,    r->content_type};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        check_view(views[i], data, size);
    CHECK(r->file_id == 77 && r->offset == 1234 && r->line_no == 5);
    if (res != VG_PARSE_OK)
        return;
    /* The line is the input without a leading byte order mark and trailing carriage returns. */
    size_t off = (size_t)(r->line.p - data);
    CHECK(off == 0 || (off == 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf));
    CHECK(off + r->line.n <= size);
    for (size_t i = off + r->line.n; i < size; i++)
        CHECK(data[i] == '\r');
    if (r->flags & VG_REQ_HAS_ADDR) {
        struct vg_addr a;
        CHECK(vg_addr_parse(r->client.p, r->client.n, &a));
        CHECK(memcmp(&a, &r->addr, sizeof a) == 0);
    }
    CHECK(r->status >= -1 && r->status <= 999);
    CHECK(r->bytes >= -1);
    /* The split pieces lie inside the request line. */
    if (r->request.n) {
        check_view(r->method, r->request.p, r->request.n);
        check_view(r->target, r->request.p, r->request.n);
        check_view(r->protocol, r->request.p, r->request.n);
    }
    check_view(r->path, r->target.p, r->target.n);
    check_view(r->query, r->target.p, r->target.n);
    check_args(r->query, data, size);
    check_args(r->body, data, size);
}

static struct vg_format *formats[3];

static void init_once(void)
{
    static const char *const specs[3] = {"combined", "common", "vhost_combined"};
    if (formats[0])
        return;
    for (int i = 0; i < 3; i++) {
        struct vg_error err;
        if (vg_format_compile(specs[i], &formats[i], &err) != VG_OK)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    struct vg_request req;
    for (int i = 0; i < 3; i++) {
        memset(&req, 0xa5, sizeof req);
        req.file_id = 77;
        req.offset = 1234;
        req.line_no = 5;
        enum vg_parse_result r = vg_format_parse(formats[i], data, size, &req);
        check_request(&req, r, data, size);
    }
    /* The pieces on their own, over the whole input. */
    memset(&req, 0, sizeof req);
    vg_request_split(vg_str_make(data, size), &req);
    check_view(req.method, data, size);
    check_view(req.target, data, size);
    check_view(req.path, data, size);
    check_view(req.query, data, size);
    check_view(req.protocol, data, size);
    CHECK((req.flags & VG_REQ_BAD_REQLINE) || (req.method.n > 0 && req.target.n > 0));
    check_args(vg_str_make(data, size), data, size);
    int64_t t;
    if (vg_parse_time_local(data, size, &t))
        CHECK(size == 26 && t > -100000000000LL && t < 400000000000LL);
    return 0;
}
