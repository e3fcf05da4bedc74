/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_sigma.c: libFuzzer target for the Sigma importer (detect_sigma.c). The input is one Sigma
 * file; it is translated, and the translation is loaded by the native rule loader, compiled
 * (paranoia 4) and run over one fixed request. Invariants checked: no crash, no leak; the
 * emitted text is printable ASCII (plus newlines); every rule is either translated or skipped
 * with a reason; the emitted text always loads (a translation the native loader refuses is a
 * translator bug), with as many native rules as the result says, ids in the reserved range and
 * the author kept; a verdict consistent with its hits, and the same verdict when the request
 * runs again on the same scratch (through its memos).
 *
 * Inputs are capped so that one execution stays fast (the translator's own limits are larger).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "fuzz_verdict.h"
#include "detect/detect_sigma.h"

#define FUZZ_MAX_INPUT 8192u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const struct vg_detector *det, struct vg_detect_scratch *s,
                          struct fuzz_verdict *seen, bool again)
{
    static const char line[] =
        "203.0.113.7 - - [05/Aug/2026:10:00:00 +0000] \"POST /ecp/x.aspx?cmd=read&q=%24%7Bjndi:"
        "ldap://x%7D&f=..%2F..%2Fetc%2Fpasswd HTTP/1.1\" 200 1234 \"-\" \"sqlmap/1.7\"";
    struct vg_request req;
    memset(&req, 0, sizeof req);
    req.status = 200;
    req.bytes = 1234;
    req.line = vg_str_make(line, sizeof line - 1);
    const char *rq = strstr(line, "POST ");
    const char *end = strstr(rq, "\" 200");
    req.request = vg_str_make(rq, (size_t)(end - rq));
    vg_request_split(req.request, &req);
    req.user_agent = VG_STR_LIT("sqlmap/1.7");
    struct vg_verdict v;
    if (vg_detect_request(det, s, &req, &v) != VG_OK)
        abort();
    vg_detect_spans(det, s, &v);
    if (v.n_hits > VG_MAX_HITS || (v.n_hits == 0 && v.score != 0))
        abort();
    for (unsigned k = 0; k < v.n_hits; k++)
        if (!vg_detector_rule(det, v.hits[k].rule) || v.hits[k].match_end > v.hits[k].subject.n)
            abort();
    /* the same request again on the same scratch (through its request memo): the same verdict */
    if (again && !fuzz_verdict_same(seen, &v))
        abort();
    fuzz_verdict_keep(seen, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    struct vg_sigma_result res;
    vg_sigma_result_init(&res);
    struct vg_error err;
    if (vg_sigma_translate(&res, data, size, "fuzz.yml", &err) != VG_OK) {
        vg_sigma_result_fini(&res);
        return 0; /* out of memory only */
    }
    for (size_t i = 0; i < res.yaml_len; i++)
        if ((res.yaml[i] < 0x20 || res.yaml[i] > 0x7e) && res.yaml[i] != '\n')
            abort();
    for (size_t i = 0; i < res.n_skipped; i++)
        if (!res.skipped[i].reason[0])
            abort();
    size_t native = 0;
    for (size_t i = 0; i < res.n_rules; i++) {
        if (res.rules[i].first < VG_SIGMA_ID_BASE || res.rules[i].n_native == 0 ||
            res.rules[i].n_native > VG_SIGMA_MAX_CONJ)
            abort();
        native += res.rules[i].n_native;
    }
    if (native != res.n_native)
        abort();
    struct vg_ruleset *rs;
    if (vg_ruleset_new(&rs) != VG_OK) {
        vg_sigma_result_fini(&res);
        return 0;
    }
    vg_status st = vg_ruleset_load_yaml(rs, (const uint8_t *)res.yaml, res.yaml_len, "sigma", &err);
    if (st == VG_E_NOMEM) {
        vg_ruleset_free(rs);
        vg_sigma_result_fini(&res);
        return 0;
    }
    if (st != VG_OK || vg_ruleset_count(rs) != res.n_native)
        abort(); /* the translator wrote something the loader refuses */
    for (size_t i = 0; i < vg_ruleset_count(rs); i++) {
        const struct vg_rule *r = vg_ruleset_get(rs, i);
        if (r->id < VG_SIGMA_ID_BASE || !r->group)
            abort();
    }
    vg_sigma_result_fini(&res);
    struct vg_detector *det;
    if (vg_detector_new(rs, 4, 5, &det, &err) != VG_OK)
        return 0; /* rs consumed */
    struct vg_detect_scratch *s;
    if (vg_detect_scratch_new(det, &s) == VG_OK) {
        static struct fuzz_verdict seen;
        check_request(det, s, &seen, false);
        check_request(det, s, &seen, true); /* the second time through the memos */
        vg_detect_scratch_free(s);
    }
    vg_detector_free(det);
    return 0;
}
