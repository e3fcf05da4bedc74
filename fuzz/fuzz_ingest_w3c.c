/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest_w3c.c: libFuzzer target for W3C extended logs: the input is a block of lines, read
 * as a worker reads a chunk (a #Fields line changes the layout of the lines after it), and
 * searched as the reader searches a chunk for its last layout directive.
 *
 * Checks, besides memory errors: the parser contract of fuzz_ingest_check.h on every line with
 * whatever layout is active; bind either compiles or fails with a message; the last directive
 * is a view inside the block that starts with "#Fields:" at a line start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ingest_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vg_format *base[2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base[0]) {
        static const struct vg_format_options rip = {NULL, "X-Forwarded-For", "10.0.0.0/8"};
        struct vg_error err;
        if (vg_format_compile("w3c", &base[0], &err) != VG_OK ||
            vg_format_compile_opts("w3c", &rip, &base[1], &err) != VG_OK)
            abort();
    }
    uint8_t *block = malloc(size ? size : 1);
    if (!block)
        return 0;
    if (size)
        memcpy(block, data, size);
    struct vg_str d;
    if (vg_format_last_directive(base[0], block, size, &d)) {
        CHECK(d.p >= block && d.p + d.n <= block + size && d.n >= 8);
        CHECK(memcmp(d.p, "#Fields:", 8) == 0 && (d.p == block || d.p[-1] == '\n'));
    }
    for (int b = 0; b < 2; b++) {
        const struct vg_format *cur = base[b];
        struct vg_format *bound = NULL;
        const uint8_t *p = block, *end = block + size;
        int lines = 0;
        while (p < end && lines++ < 64) {
            const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            struct fuzz_line fl;
            if (fuzz_line_init(&fl, p, len) != 0)
                break;
            enum vg_parse_result r = cur                    ? fuzz_parse_check(cur, &fl)
                                     : fl.n && fl.line[0] == '#' ? VG_PARSE_DIRECTIVE
                                                                 : VG_PARSE_LAYOUT;
            if (r == VG_PARSE_DIRECTIVE) {
                struct vg_format *nf = NULL;
                struct vg_error err;
                memset(&err, 0, sizeof err);
                vg_status st = vg_format_bind(base[b], fl.line, fl.n, &nf, &err);
                if (st != VG_OK) {
                    CHECK(nf == NULL && err.message[0]);
                    vg_format_free(bound);
                    bound = NULL;
                    cur = NULL;
                } else if (nf) {
                    vg_format_free(bound);
                    bound = nf;
                    cur = nf;
                }
            }
            fuzz_line_fini(&fl);
            p = nl ? nl + 1 : end;
        }
        vg_format_free(bound);
    }
    free(block);
    return 0;
}
