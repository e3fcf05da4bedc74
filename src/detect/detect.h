/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect.h: signature detection (third pipeline stage). Stateless per request.
 *
 * Rules live in YAML files (built-in ones in rules/, compiled into the binary by the build; more
 * with --rules). A rule set is compiled once into Vectorscan databases, one per transformation
 * view ("decoded", "raw") and field group; patterns Vectorscan cannot run exactly are compiled in
 * prefilter mode and confirmed with PCRE2 (JIT). Rules that use the rule language (transformation
 * chains, the operators beyond regex/sqli/xss, negate, chain, exclude, the fields added with it;
 * docs/rules.md) run in a second engine (detect_lang.c) with one database per distinct chain.
 * Allowlists (vg_allowlist) drop hits before scoring. Each worker thread owns a vg_detect_scratch (cloned
 * Vectorscan scratch, PCRE2 match data, decode buffers, the request memo that gives a repeated
 * request its verdict back); nothing is allocated per request once the scratch has grown to the
 * longest line seen and its memo to its largest size.
 *
 * Usage:
 *     struct vg_ruleset *rs; vg_ruleset_new(&rs);
 *     vg_ruleset_load_builtin(rs, &err);          // and/or vg_ruleset_load_path(rs, dir, &err)
 *     struct vg_detector *det;
 *     vg_detector_new(rs, paranoia, threshold, &det, &err);   // consumes rs
 *     struct vg_detect_scratch *s; vg_detect_scratch_new(det, &s);     // one per thread
 *     struct vg_verdict v;
 *     vg_detect_request(det, s, &req, &v);
 *     if (v.score >= vg_detector_threshold(det)) vg_detect_spans(det, s, &v);
 */
#ifndef VG_DETECT_H
#define VG_DETECT_H

#include "core/core.h"
#include "ingest/ingest.h"

/* ---- classes ----------------------------------------------------------------------------- */

enum vg_class {
    VG_CLASS_SQLI = 0,  /* "sqli": SQL injection */
    VG_CLASS_XSS,       /* "xss": cross-site scripting */
    VG_CLASS_TRAVERSAL, /* "traversal": path traversal / local file inclusion */
    VG_CLASS_RFI,       /* "rfi": remote file inclusion */
    VG_CLASS_CMDI,      /* "cmdi": OS command injection */
    VG_CLASS_CODE,      /* "code": code injection (PHP, Java, JS, expression languages) */
    VG_CLASS_SSTI,      /* "ssti": server-side template injection */
    VG_CLASS_PROBE,     /* "probe": sensitive-file and admin-panel probing */
    VG_CLASS_TOOL,      /* "tool": known attack-tool fingerprint */
    VG_CLASS_SCAN,      /* "scan": forced browsing / content discovery (behaviour, behave/) */
    VG_CLASS_BRUTEFORCE, /* "bruteforce": credential brute force or stuffing (behaviour) */
    VG_CLASS_FLOOD,     /* "flood": request flood against a site (behaviour) */
    VG_CLASS_PROTOCOL,  /* "protocol": method/protocol enforcement, request smuggling, header
                           injection, response splitting */
    VG_CLASS_SESSION,   /* "session": session fixation */
    VG_CLASS_COUNT
};

/* "sqli", "xss", ...; NULL when out of range. */
const char *vg_class_name(enum vg_class c);
/* Parses a class name; false when unknown. */
bool vg_class_parse(const char *name, enum vg_class *out);

/* ---- fields and views -------------------------------------------------------------------- */

enum vg_field {
    VG_F_METHOD = 0,   /* "method" */
    VG_F_PATH,         /* "path" */
    VG_F_QUERY,        /* "query": the whole query string */
    VG_F_ARGS,         /* "args": each argument value (query, and urlencoded body when logged) */
    VG_F_ARGS_NAMES,   /* "args_names": each argument name */
    VG_F_USER_AGENT,   /* "user_agent" */
    VG_F_REFERER,      /* "referer" */
    VG_F_HOST,         /* "host" */
    VG_F_COOKIE,       /* "cookie" */
    VG_F_BODY,         /* "body": the whole logged body */
    VG_F_PROTOCOL,     /* "protocol" */
    VG_F_REQUEST_LINE, /* "request_line": the request line as logged */
    /* Fields below were added with the rule language (docs/rules.md, "Fields"); rules on them
       run in the extended engine (detect_lang.c). */
    VG_F_BASENAME,     /* "basename": last path segment, as logged */
    VG_F_TARGET,       /* "target": path and query as logged (CRS REQUEST_URI) */
    VG_F_COOKIE_NAMES, /* "cookie_names": each cookie name */
    VG_F_CONTENT_TYPE, /* "content_type" */
    VG_F_HEADER,       /* "header:NAME": one logged header (names in the rule) */
    VG_F_HEADERS,      /* "headers": every logged header value */
    VG_F_HEADER_NAMES, /* "header_names": every logged header name */
    VG_F_LINE,         /* "line": the whole raw log line */
    VG_F_STATUS,       /* "status": the response status as decimal text */
    VG_F_COUNT
};
/* Fields the original (fast) engine scans; rules on others use the extended engine. */
#define VG_F_LEGACY_MASK ((1u << (VG_F_REQUEST_LINE + 1)) - 1u)

const char *vg_field_name(enum vg_field f);
bool vg_field_parse(const char *name, enum vg_field *out);

enum vg_transform {
    VG_T_DECODED = 0, /* "decoded": the decode chain of the field (decode.h), the default */
    VG_T_RAW,         /* "raw": as logged */
    VG_T_CHAIN,       /* `transforms: [...]`: a ModSecurity t: chain over the field's base value */
    VG_T_COUNT
};

const char *vg_transform_name(enum vg_transform t);

/* ---- rules ------------------------------------------------------------------------------- */

/* An example request of a rule: must (or must not) make the rule fire. */
struct vg_rule_example {
    char *target;     /* request-target, e.g. "/search?q=1%27+or+1=1--" */
    char *method;     /* default "GET" */
    char *user_agent; /* may be NULL */
    char *referer;    /* may be NULL */
    char *body;       /* may be NULL (and the rest below) */
    char *cookie;
    char *content_type;
    char *host;
    int status;       /* -1 when not given */
    char **header_names;  /* `headers: {name: value}` */
    char **header_values;
    size_t n_headers;
    bool must_match;
};

/* How a rule decides: a regular expression, or one of the injection lexers. */
enum vg_rule_op {
    VG_OP_REGEX = 0, /* "regex": the pattern in `regex` (Vectorscan / PCRE2) */
    VG_OP_SQLI,      /* "sqli": SQL injection by grammar (detect_sqli.h) */
    VG_OP_XSS,       /* "xss": cross-site scripting by an HTML/JS lexer (detect_xss.h) */
    VG_OP_PHRASES,   /* "phrases": any of a list of phrases occurs (CRS @pm) */
    VG_OP_CONTAINS,  /* "contains": `value` occurs */
    VG_OP_BEGINS,    /* "begins": the subject starts with `value` */
    VG_OP_ENDS,      /* "ends": the subject ends with `value` */
    VG_OP_EQUALS,    /* "equals": the subject is `value` */
    VG_OP_WITHIN,    /* "within": the subject occurs in `value` */
    VG_OP_EQ,        /* "eq" .. "le": the subject as an integer compared with `value` */
    VG_OP_NE,
    VG_OP_GT,
    VG_OP_GE,
    VG_OP_LT,
    VG_OP_LE,
    VG_OP_COUNT
};

/* Most transformations in one `transforms:` chain. */
#define VG_RULE_MAX_TFN 16

/*
 * One condition of a rule: the rule's own (the fields of struct vg_rule) or one of its `chain:`
 * conditions. A rule fires when all of its conditions hold on the same request.
 */
struct vg_cond {
    uint32_t fields;          /* bit (1u << enum vg_field) */
    char **header_names;      /* names of `header:NAME` fields */
    size_t n_header_names;
    char **exclude;           /* "args:password", "cookie:/^__utm/" ... */
    size_t n_exclude;
    enum vg_transform transform; /* VG_T_CHAIN: tfn[0, n_tfn) (enum vg_tfn values) */
    int tfn[VG_RULE_MAX_TFN];
    size_t n_tfn;
    enum vg_rule_op op;
    char *regex;              /* VG_OP_REGEX */
    char *value;              /* contains .. within (text), eq .. le (integer text) */
    long long num;            /* eq .. le */
    char **phrases;           /* VG_OP_PHRASES (phrases and phrases_file together) */
    size_t n_phrases;
    bool caseless;
    bool negate;
};

/* "regex", "sqli", "xss", "phrases", ...; NULL when out of range. */
const char *vg_rule_op_name(enum vg_rule_op op);

struct vg_rule {
    uint32_t id;
    char *message;
    enum vg_class class_;
    int score;           /* anomaly score added when the rule fires (severity: critical 5,
                            error 4, warning 3, notice 2) */
    int paranoia;        /* 1..4 */
    uint32_t fields;     /* bit (1u << enum vg_field) per field the rule inspects */
    enum vg_transform transform;
    enum vg_rule_op op;  /* VG_OP_REGEX unless `operator:` names a lexer */
    char *regex;         /* PCRE syntax; NULL for lexer operators */
    bool caseless;       /* default true */
    char **refs;         /* "CAPEC-66", "CWE-89", "CVE-2021-41773", "T1190", ... */
    size_t n_refs;
    struct vg_rule_example *examples;
    size_t n_examples;
    char *source;        /* "file.yaml:12" where the rule was defined (or `source:`) */
    /* The rule language (docs/rules.md); zero/NULL for a rule that does not use it. */
    struct vg_cond cond;  /* the rest of the rule's own condition: header_names, exclude, tfn,
                             value, num, phrases, negate (its fields, transform, op, regex and
                             caseless are the members above; those of cond are unused) */
    struct vg_cond *chain; /* further conditions (`chain:`) */
    size_t n_chain;
    char *group;         /* rules of one group add their score once per request (the highest) */
    char *author;        /* credited in hits */
    bool extended;       /* needs the extended engine (new fields, operators, transforms,
                            exclude, negate or chain) */
};

struct vg_ruleset;

vg_status vg_ruleset_new(struct vg_ruleset **out);
void vg_ruleset_free(struct vg_ruleset *rs);

/*
 * Parses YAML rule text (a document with a top-level `rules:` sequence; see docs/rules.md) and
 * appends its rules. source_name is used in error messages and vg_rule.source. On error nothing
 * is appended and err names the file, the line and the problem (unknown key, missing id,
 * duplicate id, bad class, bad field ...).
 */
vg_status vg_ruleset_load_yaml(struct vg_ruleset *rs, const uint8_t *buf, size_t n,
                               const char *source_name, struct vg_error *err);

/* Loads a YAML file, or every *.yaml / *.yml file of a directory in name order. */
vg_status vg_ruleset_load_path(struct vg_ruleset *rs, const char *path, struct vg_error *err);

/* Loads the built-in rules compiled into the library from rules/. */
vg_status vg_ruleset_load_builtin(struct vg_ruleset *rs, struct vg_error *err);

size_t vg_ruleset_count(const struct vg_ruleset *rs);
const struct vg_rule *vg_ruleset_get(const struct vg_ruleset *rs, size_t i);

/* ---- compiled detector ------------------------------------------------------------------- */

struct vg_detector;

/*
 * Compiles the rules at or below `paranoia` (1..4) into a detector. Consumes rs (freed by the
 * detector, even on failure). threshold: score at or above which a request is an attack.
 * On a pattern that neither Vectorscan nor PCRE2 accepts, err names the rule id and its source.
 */
vg_status vg_detector_new(struct vg_ruleset *rs, int paranoia, int threshold,
                          struct vg_detector **out, struct vg_error *err);

/*
 * As vg_detector_new, but reads compiled Vectorscan databases from cache_dir when an identical
 * one was compiled before (same expressions, flags, Vectorscan version and CPU features), and
 * writes them there after compiling (the directory is created, mode 0700). NULL: no cache.
 * Cache files are checksummed; a damaged one is ignored. Results never depend on the cache.
 */
vg_status vg_detector_new_cached(struct vg_ruleset *rs, int paranoia, int threshold,
                                 const char *cache_dir, struct vg_detector **out,
                                 struct vg_error *err);
void vg_detector_free(struct vg_detector *det);

int vg_detector_threshold(const struct vg_detector *det);
/* Number of compiled rules and the rule with index i (0 <= i < count). */
size_t vg_detector_rule_count(const struct vg_detector *det);
const struct vg_rule *vg_detector_rule(const struct vg_detector *det, uint32_t i);
/* Comma-separated field names of compiled rule i, e.g. "args,cookie" (borrowed). */
const char *vg_detector_rule_fields_text(const struct vg_detector *det, uint32_t i);

/* The view of rule i's own condition: "decoded", "raw" or its transformation chain
   ("urlDecodeUni,lowercase"; "none"), borrowed. */
const char *vg_detector_rule_view(const struct vg_detector *det, uint32_t i);

/*
 * Scores rules by id as vg_detect_request scores its hits (each once; a `group` adds its
 * highest score once): per class into class_scores[VG_CLASS_COUNT]; returns the total. Ids not
 * in the detector add nothing.
 */
int vg_detector_score_ids(const struct vg_detector *det, const uint32_t *ids, size_t n,
                          int *class_scores);

/* Hex SHA-256 over the canonical text of the compiled rules (provenance). */
const char *vg_detector_hash(const struct vg_detector *det);

struct vg_detect_scratch;

/* Per-thread scratch. Not shareable between threads. */
vg_status vg_detect_scratch_new(const struct vg_detector *det, struct vg_detect_scratch **out);
void vg_detect_scratch_free(struct vg_detect_scratch *s);
/* Turns the scratch's request memo (docs/rules.md) on (the default) or off: off, every request
   runs through the engines (for tests that compare, and for measuring them). */
void vg_detect_scratch_set_memo(struct vg_detect_scratch *s, bool on);

#define VG_MAX_HITS 32

struct vg_hit {
    uint32_t rule;              /* index for vg_detector_rule */
    enum vg_field field;
    enum vg_transform transform;
    struct vg_str name;         /* argument name (raw view into the line) for args/args_names */
    struct vg_str subject;      /* the bytes the rule matched in (borrowed from the scratch or
                                   the line; valid until the next vg_detect_request) */
    size_t match_start;         /* span of the match in subject; start is exact only after */
    size_t match_end;           /*   vg_detect_spans (before: start == end); lexer rules: the
                                     part of the value the lexer says broke out, always exact */
    const char *note;           /* lexer rules: what the lexer saw, e.g. "sqli single-quote
                                   tautology s&n=nc" (borrowed like subject); NULL for regex
                                   rules */
    const char *view;           /* the view's name: "decoded", "raw", or the transformation
                                   chain ("urlDecodeUni,lowercase"; "none" for the base value);
                                   borrowed from the detector */
    int allow;                  /* in vg_verdict.allowed: the allowlist entry that dropped it */
};

#define VG_MAX_ALLOWED 8

struct vg_verdict {
    int score;                  /* sum of the scores of the distinct rules that fired (a
                                   `group` of rules adds its highest score once), allowed hits
                                   left out */
    int class_scores[VG_CLASS_COUNT]; /* the same sum per class */
    uint32_t classes;           /* bit (1u << enum vg_class) per class of those rules */
    unsigned decode_flags;      /* VG_DEC_* seen while decoding the request's fields */
    unsigned n_hits;
    bool hits_truncated;        /* more than VG_MAX_HITS rules fired (all are scored) */
    struct vg_hit hits[VG_MAX_HITS]; /* [0, n_hits), in rule index order (the slots past
                                        n_hits and n_allowed are not written) */
    unsigned n_allowed;         /* hits an allowlist entry dropped (not scored; first
                                   VG_MAX_ALLOWED kept, with .allow set) */
    struct vg_hit allowed[VG_MAX_ALLOWED];
};

/* ---- allowlists ------------------------------------------------------------------------- */

/*
 * Allowlists (--allow FILE): YAML files of entries `{reason, paths, args, rules, sources}`
 * (docs/rules.md, "Allowlists"). A hit is dropped before scoring when all the conditions an
 * entry gives hold for it.
 */
struct vg_allowlist;

/* Parses allowlist YAML text and appends its entries to *al (created when NULL). All or
   nothing; err names the file and line. */
vg_status vg_allowlist_load_yaml(struct vg_allowlist **al, const uint8_t *buf, size_t n,
                                 const char *source_name, struct vg_error *err);
vg_status vg_allowlist_load_path(struct vg_allowlist **al, const char *path,
                                 struct vg_error *err);
void vg_allowlist_free(struct vg_allowlist *al);
size_t vg_allowlist_count(const struct vg_allowlist *al);
/* True when some entry allows by source address (its verdicts depend on the client). */
bool vg_allowlist_by_source(const struct vg_allowlist *al);
/* Entry i's reason and "file:line" (borrowed); NULL when out of range. */
const char *vg_allowlist_reason(const struct vg_allowlist *al, size_t i);
const char *vg_allowlist_source(const struct vg_allowlist *al, size_t i);

/* Gives det an allowlist (det owns it from now; replaces any earlier one). Call before the
   detector is shared between threads. */
void vg_detector_set_allowlist(struct vg_detector *det, struct vg_allowlist *al);
const struct vg_allowlist *vg_detector_allowlist(const struct vg_detector *det);

/* ---- detection --------------------------------------------------------------------------- */

/*
 * One view the extended engine computed for the last request (for explanations): the field,
 * the instance name (argument, cookie or header name; may be empty), the view's name and
 * bytes (borrowed from s until the next vg_detect_request). Returns false past the last, and
 * for every i when the request memo gave the verdict (a repeated request on a scratch that saw
 * it before: explanations use a fresh scratch).
 */
bool vg_detect_view(const struct vg_detect_scratch *s, size_t i, enum vg_field *field,
                    struct vg_str *name, const char **view, struct vg_str *bytes);

/*
 * Decodes the request's fields and runs every rule over them. *out is fully overwritten.
 * Returns VG_E_INTERNAL only if Vectorscan fails. Thread safety: det shared, s per thread.
 */
vg_status vg_detect_request(const struct vg_detector *det, struct vg_detect_scratch *s,
                            const struct vg_request *req, struct vg_verdict *out);

/* Fills exact match_start/match_end of each hit (PCRE2). Call before the next request. */
void vg_detect_spans(const struct vg_detector *det, struct vg_detect_scratch *s,
                     struct vg_verdict *v);

/*
 * Runs every rule's examples through the detector (the request built from the example, with
 * fields not given left empty). For each example that does not behave as written calls
 * fail(rule, example, user). Returns the number of examples checked in *checked and of failures
 * in *failed.
 */
vg_status vg_detector_check_examples(const struct vg_detector *det,
                                     void (*fail)(const struct vg_rule *,
                                                  const struct vg_rule_example *, void *),
                                     void *user, size_t *checked, size_t *failed);

#endif /* VG_DETECT_H */
