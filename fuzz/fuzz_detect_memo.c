/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_detect_memo.c: libFuzzer target for the request memo (detect_engine.c). The input is one
 * combined log line; when it parses, its request runs through a small rule set that exercises
 * both engines (plain rules on several fields; transformation chains, a chain on the status and
 * one on the method, a negated condition, the SQL and XSS lexers) on two scratches that live
 * across inputs - one with its request memo, one without - and then again on the first, which
 * must answer from its memo. Invariants: the three verdicts are the same
 * (score, classes, decode flags, and per hit the rule, field, span, name and subject bytes);
 * no crash, no leak, no read outside the input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "fuzz_verdict.h"
#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define R(id, cls, body)                                                                           \
    "  - {id: " #id ", message: m" #id ", class: " cls ", severity: critical, " body "}\n"

static const char rules[] =
    "rules:\n"
    R(1, "sqli", "fields: [args, cookie], regex: 'union\\s+select'")
    R(2, "xss", "fields: [args, path, referer], regex: '<script'")
    R(3, "tool", "fields: [user_agent], regex: 'sqlmap|nikto'")
    R(4, "sqli", "fields: [args], operator: sqli")
    R(5, "xss", "fields: [args, referer], operator: xss")
    R(6, "traversal", "fields: [args, path], transforms: [urlDecodeUni, lowercase], "
                "regex: '\\.\\./|etc/passwd'")
    R(7, "sqli", "fields: [args], transforms: [lowercase], operator: contains, value: sleep(, "
                 "chain: [{fields: [status], operator: ge, value: '500'}]")
    R(8, "cmdi", "fields: [args_names, query], transforms: [urlDecodeUni, compressWhitespace], "
                "operator: phrases, phrases: [cmd, exec, system], "
                "chain: [{fields: [method], operator: equals, value: POST}]")
    R(9, "protocol", "fields: [method], operator: within, value: 'GET POST HEAD', negate: true")
    R(10, "xss", "fields: [referer, user_agent], transforms: [lowercase, removeWhitespace], "
                 "regex: 'javascript:'");

static struct vg_detector *det;
static struct vg_detect_scratch *with_memo, *without;
static struct vg_format *fmt;

static void init_once(void)
{
    if (det)
        return;
    struct vg_error err = {0};
    struct vg_ruleset *rs = NULL;
    bool ok = vg_format_compile("combined", &fmt, &err) == VG_OK && vg_ruleset_new(&rs) == VG_OK &&
              vg_ruleset_load_yaml(rs, (const uint8_t *)rules, sizeof rules - 1, "memo.yaml",
                                   &err) == VG_OK &&
              vg_detector_new(rs, 4, 5, &det, &err) == VG_OK &&
              vg_detect_scratch_new(det, &with_memo) == VG_OK &&
              vg_detect_scratch_new(det, &without) == VG_OK;
    if (!ok) {
        fprintf(stderr, "fuzz_detect_memo: %s\n", err.message);
        abort();
    }
    vg_detect_scratch_set_memo(without, false);
}

static void run(struct vg_detect_scratch *s, const struct vg_request *req, struct vg_verdict *v)
{
    if (vg_detect_request(det, s, req, v) != VG_OK)
        abort();
    vg_detect_spans(det, s, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    struct vg_request req;
    memset(&req, 0, sizeof req);
    if (vg_format_parse(fmt, data, size, &req) != VG_PARSE_OK)
        return 0;
    static struct fuzz_verdict ref;
    struct vg_verdict v;
    run(without, &req, &v);
    fuzz_verdict_keep(&ref, &v);
    run(with_memo, &req, &v);
    if (!fuzz_verdict_same(&ref, &v))
        abort();
    run(with_memo, &req, &v); /* seen just now: answered by the memo */
    if (!fuzz_verdict_same(&ref, &v))
        abort();
    return 0;
}
