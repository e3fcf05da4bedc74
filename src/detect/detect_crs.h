/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_crs.h: import of OWASP Core Rule Set (CRS 3.3 and 4.x) rule files. Part of detect/,
 * run once while the engine is built; nothing here runs per request.
 *
 * A parser for ModSecurity's SecRule / SecAction / SecMarker syntax (line continuations, Apache
 * quoting, actions lists, variable lists with exclusions and counts, chains) that TRANSLATES each
 * rule an access log can evaluate into vigil's native rule format (docs/rules.md) and loads the
 * result with vg_ruleset_load_yaml(). Everything else (response rules, rules on request bodies
 * parsed as multipart or XML, TX/IP collections, control flow, operators or transformations
 * vigil does not have) is skipped with a reason. The mapping is documented in docs/crs.md.
 *
 * Invariants: the translation is deterministic (files in name order, rules in file order); every
 * directive either becomes exactly one native rule or one skip record; each translated rule is
 * checked by the native loader one at a time, so a rule the loader refuses is a skip, never a
 * failed import. Input files may come from users: every size is capped, no recursion on input.
 */
#ifndef VG_DETECT_CRS_H
#define VG_DETECT_CRS_H

#include "core/core.h"
#include "detect/detect.h"

/* Limits (Security note: a CRS directory may come from a user). */
#define VG_CRS_FILE_MAX ((size_t)8 << 20)      /* bytes in one .conf or .data file */
#define VG_CRS_MAX_FILES 256u                  /* .conf files in one directory */
#define VG_CRS_DIRECTIVE_MAX ((size_t)1 << 20) /* bytes in one directive (continuations joined) */
#define VG_CRS_MAX_CHAIN 8u                    /* links in one chained rule */
#define VG_CRS_MAX_PHRASES 20000u              /* phrases of one @pm / @pmFromFile operator */
#define VG_CRS_MAX_TXVARS 512u                 /* default TX values remembered for %{tx.*} */

/* Why a directive was not imported (one per skip record; names in vg_crs_reason_name). */
enum vg_crs_reason {
    VG_CRS_R_FILE = 0,  /* "not a request-detection file": response, setup, exclusion files */
    VG_CRS_R_DIRECTIVE, /* "no detection": SecAction, SecMarker, other directives */
    VG_CRS_R_CONTROL,   /* "control flow": skipAfter/skip (paranoia gates and the like) */
    VG_CRS_R_NOSCORE,   /* "no anomaly score": sets variables or changes settings only */
    VG_CRS_R_VARIABLE,  /* "variables not in an access log" */
    VG_CRS_R_COUNT,     /* "counts a collection (&VAR)" */
    VG_CRS_R_SELECTOR,  /* "selects named instances vigil cannot select" */
    VG_CRS_R_OPERATOR,  /* "operator not supported" */
    VG_CRS_R_TRANSFORM, /* "transformation not supported" */
    VG_CRS_R_MACRO,     /* "run-time macro in the operator argument" */
    VG_CRS_R_PATTERN,   /* "pattern not usable" (does not compile, matches empty, bad bytes) */
    VG_CRS_R_SYNTAX,    /* "syntax error" in the directive */
    VG_CRS_R_LOADER,    /* "refused by the rule loader" (e.g. a duplicate id) */
    VG_CRS_R_COUNT_     /* number of reasons */
};

/* Short text of a reason, e.g. "variables not in an access log"; NULL when out of range. */
const char *vg_crs_reason_name(enum vg_crs_reason r);

/* One directive that was not imported. Strings owned by the vg_crs_import. */
struct vg_crs_skip {
    uint32_t id; /* 0 when the directive has no id (SecMarker, broken rule) */
    enum vg_crs_reason reason;
    char *source; /* "REQUEST-942-APPLICATION-ATTACK-SQLI.conf:123" */
    char *detail; /* what exactly, e.g. "FILES, MULTIPART_PART_HEADERS" */
};

/* The result of translating CRS files: native rule text plus the skip records. */
struct vg_crs_import {
    struct vg_buf yaml; /* "rules:\n- {...}\n..." (one flow mapping per imported rule) */
    size_t n_rules;     /* rules in yaml (and, for vg_crs_load_path, appended to rs) */
    size_t n_files;     /* .conf files read */
    struct vg_crs_skip *skips;
    size_t n_skips;
    size_t cap_skips;
    size_t by_reason[VG_CRS_R_COUNT_];
};

/* Frees an import and everything it owns; NULL is harmless. */
void vg_crs_import_free(struct vg_crs_import *imp);

/* True when path is a *.conf file, or a directory that holds at least one *.conf file. */
bool vg_crs_is_crs_path(const char *path);

/*
 * Translates CRS rule files: path is one .conf file or a directory whose *.conf files are read
 * in name order (its .data files serve @pmFromFile). Every translated rule is loaded into rs (when
 * rs is not NULL) or into a scratch rule set, one rule at a time; rules the loader refuses become
 * skip records. On VG_OK *out owns the result (free with vg_crs_import_free). Errors (unreadable
 * path, no .conf file, out of memory) return a status and fill err; rs is then as before.
 */
vg_status vg_crs_import_path(struct vg_ruleset *rs, const char *path, struct vg_crs_import **out,
                             struct vg_error *err);

/*
 * As vg_crs_import_path for one file's text held in memory (buf, n), named file_name (used for the
 * rule class, skip sources and messages). data_dir: where @pmFromFile looks for .data files
 * (NULL: such rules are skipped). Defaults for %{tx.*} come from the text itself. rs may be NULL.
 */
vg_status vg_crs_import_buf(struct vg_ruleset *rs, const uint8_t *buf, size_t n,
                            const char *file_name, const char *data_dir, struct vg_crs_import **out,
                            struct vg_error *err);

/*
 * Loads a rule path into rs: CRS files (vg_crs_is_crs_path) are translated and imported; a
 * directory with CRS files may also hold native *.yaml files, which are loaded too; anything
 * else goes to vg_ruleset_load_path. All or nothing, like vg_ruleset_load_path.
 */
vg_status vg_crs_ruleset_load_path(struct vg_ruleset *rs, const char *path, struct vg_error *err);

#endif /* VG_DETECT_CRS_H */
