/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_crs.c: libFuzzer target for the OWASP CRS importer (detect_crs.h): the ModSecurity
 * directive splitter, the Apache word quoting, the actions and variables parsers, the
 * translation into native rule text and the native loader that checks each translated rule.
 * The input is one .conf file (no .data directory). Invariants checked: no crash, no leak, no
 * read outside the input; every directive becomes a rule or a skip record; the emitted YAML
 * text loads as a whole into a fresh rule set with exactly n_rules rules (the escaping is
 * right); when few enough, those rules compile.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_crs.h"

#define FUZZ_MAX_INPUT 16384u
#define FUZZ_MAX_COMPILE 16u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    /* the first byte picks the file name, and so the class and file-level skips */
    static const char *const names[] = {"REQUEST-942-APPLICATION-ATTACK-SQLI.conf",
                                        "REQUEST-920-PROTOCOL-ENFORCEMENT.conf",
                                        "RESPONSE-951-DATA-LEAKAGES-SQL.conf", "local.conf"};
    const char *name = names[size ? data[0] % 4 : 0];
    struct vg_crs_import *imp = NULL;
    struct vg_error err;
    vg_status st = vg_crs_import_buf(NULL, data, size, name, NULL, &imp, &err);
    if (st != VG_OK) {
        if (st != VG_E_NOMEM && st != VG_E_LIMIT)
            abort();
        return 0;
    }
    for (size_t i = 0; i < imp->n_skips; i++)
        if (!imp->skips[i].source || !imp->skips[i].detail ||
            !vg_crs_reason_name(imp->skips[i].reason))
            abort();
    struct vg_ruleset *rs = NULL;
    if (vg_ruleset_new(&rs) != VG_OK) {
        vg_crs_import_free(imp);
        return 0;
    }
    st = vg_ruleset_load_yaml(rs, imp->yaml.p, imp->yaml.n, "crs.yaml", &err);
    if (st != VG_OK || vg_ruleset_count(rs) != imp->n_rules)
        abort(); /* each rule loaded alone, so all of them load together */
    size_t n = imp->n_rules;
    vg_crs_import_free(imp);
    if (n == 0 || n > FUZZ_MAX_COMPILE) {
        vg_ruleset_free(rs);
        return 0;
    }
    struct vg_detector *det = NULL;
    if (vg_detector_new(rs, 4, 5, &det, &err) == VG_OK) /* consumes rs */
        vg_detector_free(det);
    return 0;
}
