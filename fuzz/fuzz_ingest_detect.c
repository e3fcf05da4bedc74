/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest_detect.c: libFuzzer target for `--format auto`: the input is the first bytes of a
 * file, probed as complete and as cut (more to come); when a format is chosen, every line is
 * parsed with it.
 *
 * Checks, besides memory errors: detection either chooses a candidate, chooses nothing (no
 * line), or fails with VG_E_FORMAT, a message without raw control bytes and a line number
 * inside the input; the chosen format keeps the parser contract on every line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ingest_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vg_format_set *set;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!set) {
        struct vg_error err;
        if (vg_format_set_new(NULL, &set, &err) != VG_OK)
            abort();
    }
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    for (int eof = 0; eof < 2; eof++) {
        const struct vg_format *f = (const struct vg_format *)1;
        struct vg_detect_info info;
        struct vg_error err;
        memset(&err, 0, sizeof err);
        vg_status st = vg_format_detect(set, buf, size, eof != 0, &f, &info, &err);
        if (st != VG_OK) {
            CHECK(st == VG_E_FORMAT || st == VG_E_NOMEM);
            CHECK(f == NULL && err.message[0]);
            for (const char *m = err.message; *m; m++)
                CHECK((unsigned char)*m >= 0x20 && *m != 0x7f);
            size_t lines = 1;
            for (size_t i = 0; i < size; i++)
                lines += buf[i] == '\n';
            CHECK(err.line <= lines);
            continue;
        }
        CHECK(info.matched <= info.probed && info.probed <= VG_DETECT_LINES);
        if (!f)
            continue;
        const uint8_t *p = buf, *end = buf + size;
        int n = 0;
        while (p < end && n++ < VG_DETECT_LINES) {
            const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            struct fuzz_line fl;
            if (fuzz_line_init(&fl, p, len) != 0)
                break;
            fuzz_parse_check(f, &fl);
            fuzz_line_fini(&fl);
            p = nl ? nl + 1 : end;
        }
    }
    free(buf);
    return 0;
}
