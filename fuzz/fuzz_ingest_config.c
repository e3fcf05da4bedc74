/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest_config.c: libFuzzer target for --format-from: the input is an nginx or Apache
 * configuration file; the formats named main, combined and vhost_combined are looked up, and
 * what is found is compiled.
 *
 * Checks, besides memory errors: a lookup either returns a specification ("nginx:" or "apache:")
 * or fails with a message; a found specification compiles or fails with VG_E_FORMAT.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ingest_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"main", "combined", "vhost_combined"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *spec = (char *)1;
        struct vg_error err;
        memset(&err, 0, sizeof err);
        vg_status st = vg_format_from_config_text(data, size, "fuzz.conf", names[i], &spec, &err);
        if (st != VG_OK) {
            CHECK(spec == NULL && err.message[0]);
            CHECK(st == VG_E_FORMAT || st == VG_E_NOMEM);
            continue;
        }
        CHECK(strncmp(spec, "nginx:", 6) == 0 || strncmp(spec, "apache:", 7) == 0);
        struct vg_format *f = NULL;
        st = vg_format_compile(spec, &f, &err);
        CHECK((st == VG_OK) == (f != NULL));
        CHECK(st == VG_OK || st == VG_E_FORMAT);
        vg_format_free(f);
        vg_free(spec);
    }
    return 0;
}
