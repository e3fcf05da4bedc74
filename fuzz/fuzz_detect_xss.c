/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_detect_xss.c: libFuzzer target for the XSS lexer (src/detect/detect_xss.c). The input
 * is copied into a buffer of exactly its size (so ASan reports any read past the value) and
 * judged; the target aborts when a property breaks:
 *   - the result's span lies inside the value and its name is NUL-terminated;
 *   - a value without a finding leaves is_xss false;
 *   - the verdict does not depend on the state's previous contents;
 *   - a value the pre-check rejects is never an XSS (the pre-check is a sound filter).
 * Also built as a replay test over fuzz/corpus/detect_xss/ (see fuzz/replay_main.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_xss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, what)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_detect_xss: %s (input of %zu bytes)\n", what, size);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vg_xss_state st;
    uint8_t *v = malloc(size ? size : 1);
    if (!v)
        abort();
    if (size)
        memcpy(v, data, size);
    struct vg_xss_result r1, r2;
    bool pre = vg_xss_precheck(v, size);
    bool a = vg_xss_detect(&st, v, size, &r1);
    FUZZ_CHECK(r1.start <= r1.end && r1.end <= size, "span outside the value");
    FUZZ_CHECK(memchr(r1.what, 0, sizeof r1.what) != NULL, "name not ended");
    FUZZ_CHECK(a == r1.is_xss, "return value and is_xss disagree");
    FUZZ_CHECK(pre || !a, "pre-check rejected a value the lexer flags");
    (void)vg_xss_detect(&st, (const uint8_t *)"<img src=x onerror=alert(1)>", 28, &r2);
    bool b = vg_xss_detect(&st, v, size, &r2);
    FUZZ_CHECK(a == b && r1.reason == r2.reason && r1.ctx == r2.ctx && r1.start == r2.start &&
                   r1.end == r2.end,
               "verdict depends on earlier input");
    free(v);
    return 0;
}
