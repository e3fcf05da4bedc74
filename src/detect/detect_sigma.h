/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_sigma.h: Sigma rule import (detect stage, load time only). Reads Sigma rules written for
 * `logsource: category: webserver` (libyaml) and translates each into vigil's native rule format
 * (docs/rules.md), as the text of a native rule file that vg_ruleset_load_yaml() loads. Nothing
 * here runs per request: a translated rule is an ordinary native rule.
 *
 * Translation (docs/sigma.md): the condition is brought to disjunctive normal form; each
 * conjunction becomes one native rule whose first condition is a positive atom and whose other
 * atoms are `chain` entries (negated ones with `negate: true`). The native rules of one Sigma rule
 * share `group: <sigma id>`, so a request scores a Sigma rule once. Values match the raw logged
 * text (`transforms: []`), caseless, with Sigma wildcards and escapes turned into regexes. Ids
 * are 3,000,000,000 + 100 * (FNV-1a(sigma id) mod 12,000,000) + conjunction number.
 *
 * Rules that cannot be translated faithfully are skipped with a reason (not an error): another
 * log source, an aggregation, an unsupported modifier, a field vigil does not read ...
 *
 * This header includes only the public vigil.h, so the command-line tool can use it.
 *
 * Usage:
 *     struct vg_sigma_result res; vg_sigma_result_init(&res);
 *     vg_sigma_translate_path(&res, "sigma/rules", &err);    // repeatable
 *     vg_ruleset_load_yaml(rs, (const uint8_t *)res.yaml, res.yaml_len, "sigma", &err);
 *     for (i < res.n_skipped) ... res.skipped[i].reason
 *     vg_sigma_result_fini(&res);
 */
#ifndef VG_DETECT_SIGMA_H
#define VG_DETECT_SIGMA_H

#include <stdbool.h>

#include "vigil.h"

/* Reserved id range of translated Sigma rules: [VG_SIGMA_ID_BASE, VG_SIGMA_ID_BASE + 1.2e9). */
#define VG_SIGMA_ID_BASE 3000000000u
#define VG_SIGMA_ID_SLOTS 12000000u /* distinct Sigma rules (hash buckets) */
#define VG_SIGMA_MAX_CONJ 100u      /* native rules per Sigma rule (ids base+0 .. base+99) */

/* One Sigma rule that was not translated, and why. */
struct vg_sigma_skip {
    char *path;   /* file it came from */
    char *id;     /* Sigma id (UUID); "" when the rule has none */
    char *title;  /* "" when none */
    char *reason; /* e.g. "aggregation (| count() ...) is not supported" */
};

/* One Sigma rule that was translated. */
struct vg_sigma_rule {
    char *path;
    char *id;
    char *title;
    char *author;   /* "" when the rule names none */
    uint32_t first; /* native ids first .. first + n_native - 1 */
    unsigned n_native;
};

/* What translation produced so far. Caller-allocated; init before, fini after. */
struct vg_sigma_result {
    char *yaml; /* a complete native rule file ("rules:" ...), NUL-terminated; owned */
    size_t yaml_len;
    struct vg_sigma_rule *rules;
    size_t n_rules;
    struct vg_sigma_skip *skipped;
    size_t n_skipped;
    size_t n_native; /* native rules in yaml */
    size_t n_files;  /* Sigma files read */
    void *priv;      /* internal (rule text being built) */
};

void vg_sigma_result_init(struct vg_sigma_result *res);
/* Frees everything res owns; harmless on an initialized or finalized result. */
void vg_sigma_result_fini(struct vg_sigma_result *res);

/*
 * Translates the Sigma rules of one file's text (one or more YAML documents) and appends them to
 * res (res->yaml is rebuilt to hold every rule translated so far). A rule that cannot be
 * translated, or a file that is not valid YAML, is recorded in res->skipped; that is not an
 * error. Returns VG_OK, or VG_E_NOMEM / VG_E_LIMIT (err says why; res keeps what it had).
 */
vg_status vg_sigma_translate(struct vg_sigma_result *res, const uint8_t *buf, size_t n,
                             const char *source_name, struct vg_error *err);

/*
 * Translates a Sigma file (any name), or every *.yml / *.yaml file under a directory, recursively
 * (dot files and dot directories skipped, names in byte order). VG_E_IO when path cannot be read.
 */
vg_status vg_sigma_translate_path(struct vg_sigma_result *res, const char *path,
                                  struct vg_error *err);

struct vg_ruleset;
/*
 * Convenience: translates path and loads the result into rs (all or nothing). res (may be NULL)
 * receives the translation report; when given, the caller finalizes it.
 */
vg_status vg_sigma_load_path(struct vg_ruleset *rs, const char *path, struct vg_sigma_result *res,
                             struct vg_error *err);

#endif /* VG_DETECT_SIGMA_H */
