/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_verdict.h: what the detection fuzz targets compare of two verdicts of one request - the
 * parts that must not depend on a scratch's memos: score, classes, decode flags and, per hit,
 * the rule, field, view, span, name and subject bytes. fuzz_verdict_keep copies a verdict with
 * its bytes, so that it outlives the next vg_detect_request; fuzz_verdict_same compares.
 */
#ifndef VIGIL_FUZZ_VERDICT_H
#define VIGIL_FUZZ_VERDICT_H

#include <stdbool.h>
#include <string.h>

#include "detect/detect.h"

struct fuzz_verdict {
    struct vg_verdict v;
    uint8_t bytes[1 << 16];
    size_t used;
};

static inline void fuzz_verdict_keep(struct fuzz_verdict *k, const struct vg_verdict *v)
{
    k->v = *v;
    k->used = 0;
    for (unsigned i = 0; i < v->n_hits && i < VG_MAX_HITS; i++) {
        struct vg_str *s[2] = {&k->v.hits[i].name, &k->v.hits[i].subject};
        for (int j = 0; j < 2; j++) {
            if (!s[j]->p || s[j]->n > sizeof k->bytes - k->used) {
                s[j]->p = NULL; /* not compared */
                continue;
            }
            memcpy(k->bytes + k->used, s[j]->p, s[j]->n);
            s[j]->p = k->bytes + k->used;
            k->used += s[j]->n;
        }
    }
}

static inline bool fuzz_verdict_str_same(struct vg_str a, struct vg_str b)
{
    return a.n == b.n && (!a.p || !b.p || a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool fuzz_verdict_same(const struct fuzz_verdict *k, const struct vg_verdict *v)
{
    const struct vg_verdict *a = &k->v;
    if (a->score != v->score || a->classes != v->classes || a->n_hits != v->n_hits ||
        a->decode_flags != v->decode_flags || a->hits_truncated != v->hits_truncated ||
        memcmp(a->class_scores, v->class_scores, sizeof a->class_scores) != 0)
        return false;
    for (unsigned i = 0; i < v->n_hits && i < VG_MAX_HITS; i++) {
        const struct vg_hit *x = &a->hits[i], *y = &v->hits[i];
        if (x->rule != y->rule || x->field != y->field || x->transform != y->transform ||
            x->match_start != y->match_start || x->match_end != y->match_end ||
            x->view != y->view || !fuzz_verdict_str_same(x->name, y->name) ||
            !fuzz_verdict_str_same(x->subject, y->subject))
            return false;
    }
    return true;
}

#endif
