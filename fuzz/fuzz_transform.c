/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_transform.c: libFuzzer target for the ModSecurity/CRS transformations
 * (src/decode/decode_transform.h). Runs every transformation on the input with an output buffer
 * of exactly vg_tfn_max_out bytes and an exact-size copy of the input (so ASan reports any write
 * past the bound or read past n), then a chain picked by the first input bytes, and aborts when
 * a property breaks:
 *   - no transformation returns more than vg_tfn_max_out(t, n);
 *   - in place equals out of place for every vg_tfn_in_place transformation;
 *   - vg_tfn_may_change false implies the output equals the input;
 *   - vg_tfn_apply_chain with vg_tfn_chain_max_out bytes succeeds and equals step-by-step
 *     application; with fewer bytes it fails or gives the same result;
 *   - vg_tfn_parse on the input as a name returns -1, 0 or 1, and 1 only with a valid value.
 * Also built as a replay test over fuzz/corpus/transform/ (see fuzz/replay_main.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "decode/decode_transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, what, t)                                                                  \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_transform: %s: %s (input of %zu bytes)\n", vg_tfn_name(t), what, \
                    size);                                                                         \
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

/* Step-by-step application of chain[0..k) with one fresh exact-size buffer per step. */
static uint8_t *reference_chain(const enum vg_tfn *chain, size_t k, const uint8_t *in, size_t n,
                                size_t *out_n)
{
    uint8_t *cur = fuzz_alloc(n);
    if (n)
        memcpy(cur, in, n);
    size_t len = n;
    for (size_t s = 0; s < k; s++) {
        uint8_t *next = fuzz_alloc(vg_tfn_max_out(chain[s], len));
        len = vg_tfn_apply(chain[s], cur, len, next);
        free(cur);
        cur = next;
    }
    *out_n = len;
    return cur;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = fuzz_alloc(size);
    if (size)
        memcpy(in, data, size);

    for (int ti = 0; ti < VG_TFN_COUNT; ti++) {
        enum vg_tfn t = (enum vg_tfn)ti;
        size_t cap = vg_tfn_max_out(t, size);
        uint8_t *out = fuzz_alloc(cap);
        size_t len = vg_tfn_apply(t, in, size, out);
        FUZZ_CHECK(len <= cap, "output longer than vg_tfn_max_out", t);
        if (vg_tfn_in_place(t)) {
            uint8_t *buf = fuzz_alloc(cap > size ? cap : size);
            if (size)
                memcpy(buf, in, size);
            size_t len2 = vg_tfn_apply(t, buf, size, buf);
            FUZZ_CHECK(len2 == len && (len == 0 || memcmp(buf, out, len) == 0),
                       "in place differs from out of place", t);
            free(buf);
        }
        if (!vg_tfn_may_change(t, in, size))
            FUZZ_CHECK(len == size && (size == 0 || memcmp(out, in, size) == 0),
                       "vg_tfn_may_change false but the output differs", t);
        free(out);
    }

    /* A chain of 1..8 steps chosen by the first bytes; the rest of the input is the value. */
    enum vg_tfn chain[8];
    size_t k = size > 0 ? 1 + data[0] % 8 : 1;
    size_t skip = size > k ? k + 1 : 0;
    for (size_t s = 0; s < k; s++)
        chain[s] = (enum vg_tfn)((size > s + 1 ? data[s + 1] : s) % VG_TFN_COUNT);
    const uint8_t *val = in + skip;
    size_t n = size - skip;
    size_t need = vg_tfn_chain_max_out(chain, k, n);
    uint8_t *a = fuzz_alloc(need), *b = fuzz_alloc(need);
    const uint8_t *res = NULL;
    size_t res_n = 0;
    FUZZ_CHECK(vg_tfn_apply_chain(chain, k, val, n, a, b, need, &res, &res_n),
               "chain failed with vg_tfn_chain_max_out bytes", chain[0]);
    size_t ref_n;
    uint8_t *ref = reference_chain(chain, k, val, n, &ref_n);
    FUZZ_CHECK(ref_n == res_n && (ref_n == 0 || memcmp(ref, res, ref_n) == 0),
               "chain differs from step-by-step application", chain[0]);
    if (need > 1) {
        size_t small = need / 2;
        uint8_t *a2 = fuzz_alloc(small), *b2 = fuzz_alloc(small);
        const uint8_t *r2 = NULL;
        size_t r2n = 0;
        if (vg_tfn_apply_chain(chain, k, val, n, a2, b2, small, &r2, &r2n))
            FUZZ_CHECK(r2n == ref_n && (r2n == 0 || memcmp(r2, ref, r2n) == 0),
                       "chain with smaller buffers gave another result", chain[0]);
        free(a2);
        free(b2);
    }
    free(ref);
    free(a);
    free(b);

    /* the input as a transformation name */
    enum vg_tfn parsed = VG_TFN_COUNT;
    int rc = vg_tfn_parse((const char *)in, size, &parsed);
    FUZZ_CHECK(rc >= -1 && rc <= 1, "vg_tfn_parse result out of range", VG_TFN_NONE);
    if (rc == 1)
        FUZZ_CHECK((unsigned)parsed < VG_TFN_COUNT, "vg_tfn_parse gave an invalid value", parsed);
    else
        FUZZ_CHECK(parsed == VG_TFN_COUNT, "vg_tfn_parse wrote *out without success", parsed);

    free(in);
    return 0;
}
