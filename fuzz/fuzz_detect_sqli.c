/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_detect_sqli.c: libFuzzer target for the SQL injection lexer and grammar
 * (src/detect/detect_sqli.c). The input is copied into a buffer of exactly its size (so ASan
 * reports any read past the value) and judged; the target aborts when a property breaks:
 *   - the result's span lies inside the value and the fingerprint is NUL-terminated;
 *   - a value without an injection leaves is_sqli false and the fingerprint empty;
 *   - the verdict does not depend on the state's previous contents (judged twice, once after
 *     a different value);
 *   - each context's tokens cover increasing, in-bounds ranges.
 * Also built as a replay test over fuzz/corpus/detect_sqli/ (see fuzz/replay_main.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_sqli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, what)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_detect_sqli: %s (input of %zu bytes)\n", what, size);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vg_sqli_state st;
    uint8_t *v = malloc(size ? size : 1);
    if (!v)
        abort();
    if (size)
        memcpy(v, data, size);
    struct vg_sqli_result r1, r2;
    bool pre = vg_sqli_precheck(v, size);
    bool a = vg_sqli_detect(&st, v, size, &r1);
    FUZZ_CHECK(r1.start <= r1.end && r1.end <= size, "span outside the value");
    FUZZ_CHECK(memchr(r1.fingerprint, 0, sizeof r1.fingerprint) != NULL, "fingerprint not ended");
    FUZZ_CHECK(a == r1.is_sqli, "return value and is_sqli disagree");
    FUZZ_CHECK(a || r1.fingerprint[0] == 0, "fingerprint without a finding");
    (void)pre;
    (void)vg_sqli_detect(&st, (const uint8_t *)"1' or '1'='1", 12, &r2);
    bool b = vg_sqli_detect(&st, v, size, &r2);
    FUZZ_CHECK(a == b && r1.reason == r2.reason && r1.ctx == r2.ctx && r1.start == r2.start &&
                   strcmp(r1.fingerprint, r2.fingerprint) == 0,
               "verdict depends on earlier input");
    for (int c = 0; c < VG_SQLI_CTX_COUNT; c++) {
        unsigned n = vg_sqli_tokenize(&st, v, size, (enum vg_sqli_ctx)c);
        FUZZ_CHECK(n <= VG_SQLI_MAX_TOKENS, "too many tokens");
        size_t last = 0;
        for (unsigned i = 0; i < n; i++) {
            const struct vg_sqli_token *t = &st.tok[i];
            FUZZ_CHECK(t->pos >= last && (size_t)t->pos + t->len <= size, "token out of order");
            FUZZ_CHECK(t->len > 0 || (i == 0 && c != VG_SQLI_CTX_NONE), "empty token");
            last = (size_t)t->pos + t->len;
        }
    }
    free(v);
    return 0;
}
