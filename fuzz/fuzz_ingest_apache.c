/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest_apache.c: libFuzzer target for the Apache LogFormat compiler (and through it the
 * format builder and the strftime time parser) and the line interpreter. The first line of the
 * input is a LogFormat string (compiled as "apache:<line>"); the rest is one log line parsed
 * with it when it compiles.
 *
 * Checks, besides memory errors: compile errors are VG_E_FORMAT with a message; a compiled
 * format keeps the parser contract of fuzz_ingest_check.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ingest_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t spec_n = nl ? (size_t)(nl - data) : size;
    if (spec_n > 9000)
        return 0;
    char *spec = malloc(spec_n + 8);
    if (!spec)
        return 0;
    memcpy(spec, "apache:", 7);
    memcpy(spec + 7, data, spec_n);
    spec[7 + spec_n] = 0; /* an embedded NUL just ends the specification early */
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
    struct fuzz_line fl;
    if (nl && fuzz_line_init(&fl, nl + 1, size - spec_n - 1) == 0) {
        fuzz_parse_check(fmt, &fl);
        fuzz_line_fini(&fl);
    }
    vg_format_free(fmt);
    free(spec);
    return 0;
}
