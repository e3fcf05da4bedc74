/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_int.h: internals shared by the files of the detect module (rule loader and engine).
 * Not part of the module's contract (detect.h); nothing outside src/detect/ includes it.
 */
#ifndef VG_DETECT_INT_H
#define VG_DETECT_INT_H

#include "detect/detect.h"

/* Limits of rule files (Security note: rule files may come from users; every size is capped). */
#define VG_RULE_FILE_MAX ((size_t)16 << 20) /* bytes in one rule file */
#define VG_RULE_MAX_RULES 100000u           /* rules in one rule set */
#define VG_RULE_SCORE_MAX 1000              /* largest `score:` */
#define VG_RULE_TEXT_MAX 65536u             /* bytes in one scalar (regex, message, example) */

/* An ordered collection of rules; owns every string of every rule. */
struct vg_ruleset {
    struct vg_rule *rules;
    size_t n;
    size_t cap;
};

/* Frees everything a rule owns and zeroes it. NULL-safe. */
void vg_rule_fini(struct vg_rule *r);

/* Frees rules [from, rs->n) and sets rs->n = from. */
void vg_ruleset_truncate(struct vg_ruleset *rs, size_t from);

#endif /* VG_DETECT_INT_H */
