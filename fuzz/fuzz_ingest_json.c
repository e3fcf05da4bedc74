/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ingest_json.c: libFuzzer target for the JSON-lines parser (the generic, Caddy and Traefik
 * key maps, a --json-map with nested keys and --real-ip) and for the JSON string rewriting.
 * The whole input is one line.
 *
 * Checks, besides memory errors: the parser contract of fuzz_ingest_check.h for every map; the
 * rewrite of the input as a string body is at most 4 bytes per byte and holds no byte that
 * nginx's text logs escape (no raw quote, control or high byte, and every backslash starts
 * \xHH).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ingest_check.h"
#include "ingest/ingest_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vg_format *formats[5];

static void init_once(void)
{
    if (formats[0])
        return;
    static const struct vg_format_options map = {
        "client=src.ip,time=when,target=req.url,header:X-Api-Key=k,ignore=ua", NULL, NULL};
    static const struct vg_format_options rip = {NULL, "X-Forwarded-For", "10.0.0.0/8,::1"};
    const struct {
        const char *spec;
        const struct vg_format_options *o;
    } specs[5] = {{"json", NULL}, {"caddy", NULL}, {"traefik", NULL}, {"json", &map},
                  {"caddy", &rip}};
    for (int i = 0; i < 5; i++) {
        struct vg_error err;
        if (vg_format_compile_opts(specs[i].spec, specs[i].o, &formats[i], &err) != VG_OK)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    struct fuzz_line fl;
    if (fuzz_line_init(&fl, data, size) != 0)
        return 0;
    for (int i = 0; i < 5; i++)
        fuzz_parse_check(formats[i], &fl);
    /* The rewrite on its own. */
    fl.pb.used = 0;
    struct vg_str t = vg_json_transcode(fl.line, fl.n, &fl.pb);
    CHECK(fl.pb.used <= fl.pb.cap);
    if (size) {
        CHECK(t.p == fl.pb.p && t.n <= 4 * size && t.n == fl.pb.used);
        for (size_t i = 0; i < t.n; i++) {
            uint8_t c = t.p[i];
            CHECK(c >= 0x20 && c < 0x7f && c != '"');
            if (c == '\\') {
                CHECK(i + 3 < t.n && t.p[i + 1] == 'x');
                i += 3;
            }
        }
    }
    fuzz_line_fini(&fl);
    return 0;
}
