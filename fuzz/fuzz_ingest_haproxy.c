/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest_haproxy.c: libFuzzer target for HAProxy httplog lines (syslog prefixes, captures,
 * #XX escapes, cut request lines), with and without named captures and --real-ip. The whole
 * input is one line.
 *
 * Checks, besides memory errors: the parser contract of fuzz_ingest_check.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ingest_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vg_format *formats[3];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!formats[0]) {
        static const struct vg_format_options rip = {NULL, "X-Forwarded-For",
                                                     "10.0.0.0/8,2001:db8::/32"};
        struct vg_error err;
        if (vg_format_compile("haproxy", &formats[0], &err) != VG_OK ||
            vg_format_compile("haproxy:Host,User-Agent,Cookie,Referer", &formats[1], &err) !=
                VG_OK ||
            vg_format_compile_opts("haproxy:Host,X-Forwarded-For", &rip, &formats[2], &err) !=
                VG_OK)
            abort();
    }
    struct fuzz_line fl;
    if (fuzz_line_init(&fl, data, size) != 0)
        return 0;
    for (int i = 0; i < 3; i++)
        fuzz_parse_check(formats[i], &fl);
    fuzz_line_fini(&fl);
    return 0;
}
