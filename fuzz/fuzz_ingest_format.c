/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest_format.c: libFuzzer target for the log format compiler and interpreter. The first
 * line of the input is an nginx log_format string (compiled as "nginx:<line>"); the rest is one
 * log line parsed with it when it compiles.
 *
 * Checks, besides memory errors: compile errors carry a message; a compiled format parses
 * without reading outside the line and every view it returns lies inside the line; with a
 * parse buffer, the contract of fuzz_ingest_check.h holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ingest_check.h"
#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_view(struct vg_str v, const uint8_t *base, size_t n)
{
    if (v.n == 0)
        return;
    CHECK(v.p != NULL);
    CHECK(v.p >= base && v.p <= base + n && v.n <= (size_t)(base + n - v.p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t spec_n = nl ? (size_t)(nl - data) : size;
    if (spec_n > 9000)
        return 0;
    char *spec = malloc(spec_n + 7);
    if (!spec)
        return 0;
    memcpy(spec, "nginx:", 6);
    memcpy(spec + 6, data, spec_n);
    spec[6 + spec_n] = 0; /* an embedded NUL just ends the specification early */

    struct vg_format *fmt = NULL;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st = vg_format_compile(spec, &fmt, &err);
    if (st != VG_OK) {
        CHECK(fmt == NULL);
        CHECK(st == VG_E_FORMAT);
        CHECK(err.message[0] != 0);
        CHECK(memchr(err.message, 0, sizeof err.message) != NULL);
        free(spec);
        return 0;
    }
    CHECK(strcmp(vg_format_name(fmt), spec) == 0);

    /* Copy the line into its own exact-size buffer so that ASan sees any overread. */
    size_t line_n = nl ? size - spec_n - 1 : 0;
    uint8_t *line = malloc(line_n ? line_n : 1);
    if (line) {
        if (line_n)
            memcpy(line, nl + 1, line_n);
        struct vg_request r;
        memset(&r, 0x5a, sizeof r);
        r.line_no = 9;
        enum vg_parse_result res = vg_format_parse(fmt, line, line_n, &r);
        CHECK(res >= VG_PARSE_OK && res <= VG_PARSE_RESULT_MAX);
        CHECK(r.line_no == 9);
        const struct vg_str views[] = {r.line,     r.client,  r.user,        r.request,
                                       r.method,   r.target,  r.path,        r.query,
                                       r.protocol, r.referer, r.user_agent,  r.host,
                                       r.cookie,   r.body,    r.content_type};
        for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
            check_view(views[i], line, line_n);
        if (res == VG_PARSE_OK && (r.flags & VG_REQ_HAS_ADDR)) {
            struct vg_addr a;
            CHECK(vg_addr_parse(r.client.p, r.client.n, &a));
            CHECK(memcmp(&a, &r.addr, sizeof a) == 0);
        }
        /* With a parse buffer (escape=json rewrites, joined targets and request lines). */
        struct fuzz_line fl;
        if (fuzz_line_init(&fl, line, line_n) == 0) {
            fuzz_parse_check(fmt, &fl);
            fuzz_line_fini(&fl);
        }
        free(line);
    }
    vg_format_free(fmt);
    free(spec);
    return 0;
}
