/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rules_yaml.c: libFuzzer target for the rule-file loader and the rule compiler. The input
 * is loaded as a YAML rule file; when it loads, it is compiled (paranoia 4) and one fixed request
 * runs through the detector, with spans and the rules' own examples. The input is also loaded as
 * an allowlist (--allow). Invariants checked: no crash, no leak, no read outside the input, a
 * verdict consistent with its hits, and the same verdict when the request runs again on the
 * same scratch (through its memos).
 *
 * Inputs are capped (size and rule count) so that one execution stays fast: the loader's own
 * limits are far larger and are covered by the unit tests.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "fuzz_verdict.h"

#define FUZZ_MAX_INPUT 8192u
#define FUZZ_MAX_RULES 24u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const struct vg_detector *det, struct vg_detect_scratch *s,
                          struct fuzz_verdict *seen, bool again)
{
    static const char line[] =
        "GET /search.php?q=1%27+or+%271%27%3D%271&x=%3Cscript%3Ealert(1)%3C/script%3E"
        "&f=..%2F..%2Fetc%2Fpasswd&%24%7Bjndi%3Aldap%3A%2F%2Fx%7D=1 HTTP/1.1";
    struct vg_request req;
    memset(&req, 0, sizeof req);
    req.status = -1;
    req.bytes = -1;
    req.line = vg_str_make(line, sizeof line - 1);
    req.request = req.line;
    vg_request_split(req.request, &req);
    req.user_agent = VG_STR_LIT("sqlmap/1.7 () { :; }; /bin/id");
    req.referer = VG_STR_LIT("http://example.org/?q=%2527");
    req.cookie = VG_STR_LIT("session=abc; pref=%3Csvg%3E");
    req.body = VG_STR_LIT("a=1&b=%27%22%3E");
    /* fields of the rule language: status, content type, logged headers */
    req.status = 500;
    req.content_type = VG_STR_LIT("application/x-www-form-urlencoded");
    req.host = VG_STR_LIT("www.example.org");
    req.headers[0].name = VG_STR_LIT("X-Forwarded-Host");
    req.headers[0].value = VG_STR_LIT("a%0d%0aSet-Cookie:x=1");
    req.n_headers = 1;
    struct vg_verdict v;
    if (vg_detect_request(det, s, &req, &v) != VG_OK)
        abort();
    vg_detect_spans(det, s, &v);
    if (v.n_hits > VG_MAX_HITS || (v.n_hits == 0 && v.score != 0))
        abort();
    for (unsigned k = 0; k < v.n_hits; k++) {
        const struct vg_hit *h = &v.hits[k];
        if (!vg_detector_rule(det, h->rule) || h->match_start > h->match_end ||
            h->match_end > h->subject.n)
            abort();
    }
    /* the same request again on the same scratch (through its request memo): the same verdict */
    if (again && !fuzz_verdict_same(seen, &v))
        abort();
    fuzz_verdict_keep(seen, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    struct vg_error err;
    /* The same bytes as an allowlist (--allow): its loader shares the YAML walk's hazards. */
    struct vg_allowlist *al = NULL;
    if (vg_allowlist_load_yaml(&al, data, size, "fuzz.yaml", &err) == VG_OK && !al)
        abort();
    for (size_t i = 0; i < vg_allowlist_count(al); i++)
        if (!vg_allowlist_reason(al, i) || !vg_allowlist_source(al, i))
            abort(); /* every entry has a reason and a place */
    vg_allowlist_free(al);
    struct vg_ruleset *rs;
    if (vg_ruleset_new(&rs) != VG_OK)
        return 0;
    if (vg_ruleset_load_yaml(rs, data, size, "fuzz.yaml", &err) != VG_OK) {
        if (vg_ruleset_count(rs) != 0)
            abort(); /* a failed load appends nothing */
        vg_ruleset_free(rs);
        return 0;
    }
    if (vg_ruleset_count(rs) > FUZZ_MAX_RULES) {
        vg_ruleset_free(rs);
        return 0;
    }
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
    size_t checked, failed;
    (void)vg_detector_check_examples(det, NULL, NULL, &checked, &failed);
    if (strlen(vg_detector_hash(det)) != 64)
        abort();
    vg_detector_free(det);
    return 0;
}
