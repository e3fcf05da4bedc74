/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_decode.c: libFuzzer target for the decode stage (src/decode/). Runs every decoder and the
 * three standard chains on the input, with output buffers of exactly n bytes (so ASan reports
 * any write past n), and aborts when a property breaks:
 *   - no decoder returns a length above n;
 *   - vg_decode_remove_nuls gives the same result in place and out of place;
 *   - each chain equals the plain composition of the public decoders (bytes and flags);
 *   - vg_decode_needed is false exactly when the chain leaves the bytes and the flags alone;
 *   - vg_decode_flags_format always NUL-terminates within its capacity.
 * Also built as a replay test over fuzz/corpus/decode/ (see fuzz/replay_main.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, what)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_decode: %s (input of %zu bytes)\n", what, size);                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static uint8_t *fuzz_alloc(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

/* The chain of `kind` as the plain composition of the public decoders (no steps skipped). */
static size_t reference_chain(enum vg_decode_kind kind, const uint8_t *in, size_t n, uint8_t *out,
                              uint8_t *a, uint8_t *b, uint8_t *t, unsigned *flags)
{
    size_t len = vg_decode_log_escapes(in, n, a, flags);
    len = vg_decode_pct_multi(a, len, b, t, kind == VG_DECODE_QUERY,
                              kind == VG_DECODE_HEADER ? 2 : 3, flags);
    len = vg_decode_overlong_utf8(b, len, a, flags);
    if (kind != VG_DECODE_PATH) {
        len = vg_decode_html_entities(a, len, b, flags);
        memcpy(a, b, len);
    }
    len = vg_decode_remove_nuls(a, len, a, flags);
    if (kind == VG_DECODE_PATH)
        return vg_normalize_path(a, len, out, flags);
    memcpy(out, a, len);
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *out = fuzz_alloc(size), *tmp = fuzz_alloc(size), *ref = fuzz_alloc(size);
    uint8_t *a = fuzz_alloc(size), *b = fuzz_alloc(size), *t = fuzz_alloc(size);
    unsigned f = 0;

    FUZZ_CHECK(vg_decode_log_escapes(data, size, out, &f) <= size, "log_escapes grew");
    FUZZ_CHECK(vg_decode_pct(data, size, out, true, &f) <= size, "pct grew");
    FUZZ_CHECK(vg_decode_pct(data, size, out, false, &f) <= size, "pct grew");
    for (int rounds = 0; rounds <= 4; rounds++)
        FUZZ_CHECK(vg_decode_pct_multi(data, size, out, tmp, rounds & 1, rounds, &f) <= size,
                   "pct_multi grew");
    FUZZ_CHECK(vg_decode_html_entities(data, size, out, &f) <= size, "html_entities grew");
    FUZZ_CHECK(vg_decode_overlong_utf8(data, size, out, &f) <= size, "overlong grew");
    FUZZ_CHECK(vg_normalize_path(data, size, out, &f) <= size, "normalize_path grew");
    FUZZ_CHECK(vg_compress_whitespace(data, size, out, &f) <= size, "compress_whitespace grew");

    size_t n1 = vg_decode_remove_nuls(data, size, out, &f);
    memcpy(tmp, data, size);
    size_t n2 = vg_decode_remove_nuls(tmp, size, tmp, &f);
    FUZZ_CHECK(n1 <= size && n1 == n2 && memcmp(out, tmp, n1) == 0, "remove_nuls differs in place");

    static const enum vg_decode_kind kinds[] = {VG_DECODE_PATH, VG_DECODE_QUERY, VG_DECODE_HEADER};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        unsigned cf = 0, rf = 0;
        size_t len = vg_decode_chain(kinds[k], data, size, out, tmp, &cf);
        FUZZ_CHECK(len <= size, "chain grew");
        size_t rlen = reference_chain(kinds[k], data, size, ref, a, b, t, &rf);
        FUZZ_CHECK(len == rlen && memcmp(out, ref, len) == 0 && cf == rf,
                   "chain differs from the composition of its decoders");
        bool needed = vg_decode_needed(kinds[k], data, size);
        if (!needed)
            FUZZ_CHECK(len == size && memcmp(out, data, size) == 0 && cf == 0,
                       "vg_decode_needed false but the chain changed something");
        else
            FUZZ_CHECK(cf != 0, "vg_decode_needed true but the chain changed nothing");
    }

    char names[256];
    size_t cap = size > 0 ? data[0] % sizeof(names) : 0;
    unsigned bits = size >= 3 ? (unsigned)data[1] | (unsigned)data[2] << 8 : f;
    memset(names, 'X', sizeof(names));
    vg_decode_flags_format(bits, names, cap);
    if (cap > 0)
        FUZZ_CHECK(memchr(names, 0, cap) != NULL, "flags_format not terminated");
    FUZZ_CHECK(cap >= sizeof(names) || names[cap] == 'X', "flags_format overflow");

    free(out);
    free(tmp);
    free(ref);
    free(a);
    free(b);
    free(t);
    return 0;
}
