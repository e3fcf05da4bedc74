/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_int.h: internals shared by the files of the detect module (rule loader and engine).
 * Not part of the module's contract (detect.h); nothing outside src/detect/ includes it.
 */
#ifndef VG_DETECT_INT_H
#define VG_DETECT_INT_H

#include "detect/detect.h"
#include "detect/detect_sqli.h"
#include "detect/detect_xss.h"

/* ModSecurity transformations (`transforms:`) come from decode/decode_transform.h; a build
   without it refuses rules that name a transformation. */
#if defined(__has_include)
#if __has_include("decode/decode_transform.h")
#include "decode/decode_transform.h"
#define VG_HAVE_TFN 1
#endif
#endif
#ifndef VG_HAVE_TFN
#define VG_HAVE_TFN 0
#endif

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>

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


/* ---- engine internals shared by detect_engine.c and detect_lang.c -------------------------- */

/* How a rule runs. */
enum vg_rule_mode {
    VG_MODE_EXACT = 0, /* Vectorscan, exact */
    VG_MODE_PREFILTER, /* Vectorscan prefilter, confirmed by PCRE2 */
    VG_MODE_PCRE,      /* PCRE2 alone (Vectorscan cannot even prefilter the pattern) */
    VG_MODE_LEXER,     /* an injection lexer (operator: sqli | xss), no pattern */
    VG_MODE_EXT        /* a rule of the extended engine (detect_lang.c) */
};

/* PCRE2 resource caps per match (Security note: bounds backtracking on hostile input). */
#define VG_PCRE_MATCH_LIMIT 200000u
#define VG_PCRE_HEAP_LIMIT_KIB 8192u
#define VG_PCRE_JIT_STACK_MIN (32u * 1024u)
#define VG_PCRE_JIT_STACK_MAX (512u * 1024u)

/* The rules of one view that inspect one group of fields. */
struct vg_group_db {
    hs_database_t *db;  /* NULL when none of the group's rules runs in Vectorscan */
    uint32_t *pcre;     /* the group's rules in VG_MODE_PCRE */
    size_t n_pcre;
};

struct vg_view_db {
    uint32_t fields;                     /* fields inspected by any rule of this view */
    int8_t group[VG_F_COUNT];            /* field -> index in groups, -1 when no rule */
    struct vg_group_db groups[VG_F_COUNT];
    int n_groups;
};

struct vg_detector {
    struct vg_ruleset *rs;    /* owned; rules [0, n_rules) are the compiled ones */
    size_t n_rules;
    pcre2_code **code;        /* per rule */
    uint8_t *mode;            /* enum vg_rule_mode per rule */
    uint8_t *hs_one;          /* per rule: its Vectorscan form may match one byte (vg_hs_single) */
    struct vg_view_db views[VG_T_COUNT];
    hs_scratch_t *proto;      /* prototype scratch, valid for every database */
    pcre2_general_context *gctx;
    int threshold;
    int paranoia;
    const char *cache_dir;    /* compiled-database cache (borrowed during vg_detector_new) */
    char **fields_text;       /* per rule: "args,cookie" ... (for listings) */
    uint32_t *lexers;         /* indexes of the lexer rules, in rule order */
    size_t n_lexers;
    uint32_t lex_fields[VG_T_COUNT]; /* fields some lexer rule of the view inspects */
    char hash[2 * 32 + 1];
    int32_t *group;           /* per rule: index of its `group`, -1 when none */
    struct vg_xengine *x;     /* the extended engine; NULL when no rule needs it */
    struct vg_allowlist *allow; /* owned; NULL when none */
    bool allow_by_source;       /* some entry of allow names sources (vg_allowlist_by_source) */
};

/* A Vectorscan match waiting for confirmation (collected by the callback). */
struct vg_cand {
    uint32_t rule;
    uint32_t end;
};

#define VG_MEMO_SLOTS 2048u   /* entries per scratch (power of two) */
#define VG_MEMO_MAX_LEN 144u  /* longest subject remembered */
#define VG_MEMO_MAX_HITS 4u   /* subjects with more confirmed matches are not remembered */

/* The confirmed matches of one subject in one (view, field group). */
struct vg_memo {
    uint64_t hash;            /* 0: empty slot (real hashes are odd) */
    uint16_t len;
    uint8_t view;
    uint8_t group;
    uint8_t n;
    uint8_t lex_clean;        /* the group's lexer rules ran on the subject and found nothing */
    struct vg_cand m[VG_MEMO_MAX_HITS];
    uint8_t bytes[VG_MEMO_MAX_LEN];
};

#define VG_LMEMO_SLOTS 1024u /* lexer verdicts remembered per scratch (power of two) */
#define VG_CMEMO_SLOTS 2048u /* clean raw subjects remembered per scratch (power of two) */

/*
 * A raw field value whose decoded view nothing fired on (no regex match, lexers clean): seen
 * again, its decoded view is neither made nor scanned, nor its raw view when that was clean too.
 * Keyed by the raw bytes, the field, the decode kind and the field group of the decoded view;
 * keeps the decode flags the value produced.
 */
struct vg_cmemo {
    uint64_t hash;            /* 0: empty slot */
    uint16_t len;
    uint8_t kind;             /* enum vg_decode_kind */
    uint8_t group;
    uint8_t field;            /* enum vg_field */
    bool raw_clean;           /* the raw view found nothing either (so is not looked at) */
    unsigned flags;           /* VG_DEC_* the decode of the value set */
    uint8_t bytes[VG_MEMO_MAX_LEN];
};

/* A lexer's verdict on one short subject (see vg_lex_verdict). */
struct vg_lmemo {
    uint64_t hash;            /* 0: empty slot */
    uint16_t len;
    uint8_t op;               /* enum vg_rule_op */
    uint8_t found;
    uint16_t start, end;      /* span when found */
    char note[48];
    uint8_t bytes[VG_MEMO_MAX_LEN];
};

struct vg_detect_scratch {
    const struct vg_detector *det;
    hs_scratch_t *hs;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
    uint32_t *fired;          /* per rule: epoch of the request in which it fired */
    uint32_t epoch;
    struct vg_hit *hits;      /* every rule that fired in this request (n_rules slots) */
    size_t n_hits;
    struct vg_cand *cand;     /* matches of one scan (n_rules slots) */
    struct vg_memo *memo;     /* VG_MEMO_SLOTS entries */
    uint64_t memo_seed;
    uint8_t *dec;             /* decoded views of the current request */
    size_t dec_cap;
    size_t dec_used;
    uint8_t *tmp;             /* decode work buffer */
    size_t tmp_cap;
    unsigned dec_flags;
    int score;
    uint32_t classes;
    struct vg_sqli_state sqli; /* lexer states (fixed size, no allocation per value) */
    struct vg_xss_state xss;
    struct vg_lmemo *lmemo;    /* VG_LMEMO_SLOTS entries */
    struct vg_cmemo *cmemo;    /* VG_CMEMO_SLOTS entries */
    char (*notes)[48];         /* per lexer rule (det->lexers order): the note of its hit */
    struct vg_xscratch *x;     /* the extended engine's per-thread state; NULL when unused */
    const struct vg_request *req; /* the request being scanned */
    struct vg_hit allowed[VG_MAX_ALLOWED]; /* hits an allowlist dropped, this request */
    unsigned n_allowed;
    struct vg_hit allow_sink;  /* where allowed hits beyond VG_MAX_ALLOWED are written */
    struct vg_rmemo *rm;       /* the request memo (detect_engine.c); NULL until first used */
    bool replayed;             /* the last request's verdict came from the request memo */
    bool memo_off;             /* never use the request memo (rule examples read s->fired) */
    uint8_t *hsbuf;            /* subjects copied to end on a 64-byte boundary (vg_hs_scan) */
    size_t hsbuf_cap;
};

/* Context of one hs_scan call. Performance note: the callback only filters and records; it
   never runs PCRE2 and never touches the Vectorscan scratch it runs in. */
struct vg_scan_ctx {
    const struct vg_rule *rules;
    uint32_t n_rules;
    uint32_t field_bit;
    const uint32_t *fired;
    uint32_t epoch;
    struct vg_cand *cand;
    uint32_t n_cand;
};


struct vg_xengine;
struct vg_xscratch;
struct vg_allowlist;

/* detect_engine.c */
bool vg_pcre_run(const struct vg_detector *det, struct vg_detect_scratch *s, uint32_t i,
                 struct vg_str subject, size_t *start, size_t *end, bool limit_is_match);
bool vg_pcre_run_code(const pcre2_code *code, struct vg_detect_scratch *s,
                      struct vg_str subject, size_t *start, size_t *end, bool limit_is_match);
/* Records a hit of rule (or, when an allowlist entry allows it, an allowed hit that does not
   mark the rule fired). Returns the hit for the caller to complete (span start, note). */
struct vg_hit *vg_record_hit(struct vg_detect_scratch *s, uint32_t rule, enum vg_field field,
                             enum vg_transform t, struct vg_str name, struct vg_str subject,
                             size_t end);
bool vg_lex_verdict(struct vg_detect_scratch *s, enum vg_rule_op op, struct vg_str subject,
                    size_t *a, size_t *b, char *note, size_t note_cap);
/* Reads a compiled database from the cache or compiles it (cache_dir may be NULL). On a
   rejected expression returns VG_E_REGEX with *bad its index (-1: not one expression). */
/* HS_FLAG_SINGLEMATCH, or 0 for an expression that can match a single byte (a Vectorscan bug). */
unsigned vg_hs_single(bool one_byte);
/* hs_scan of subject with s's Vectorscan scratch, from a copy ending on a 64-byte boundary
   (works around a Vectorscan 5.4.9 bug; see detect_engine.c). VG_E_NOMEM, VG_E_INTERNAL. */
vg_status vg_hs_scan(struct vg_detect_scratch *s, const hs_database_t *db, struct vg_str subject,
                     match_event_handler on_match, void *ctx);
vg_status vg_hsdb_build(const char *cache_dir, const char **exprs, const unsigned *flags,
                        const unsigned *ids, unsigned k, hs_database_t **db, int *bad,
                        char *msg, size_t msg_cap);

/* detect_lang.c: the extended engine (rules with new fields, operators, transforms, exclude,
   negate or chain). */
vg_status vg_xengine_new(struct vg_detector *det, pcre2_compile_context *cctx,
                         struct vg_error *err);
void vg_xengine_free(struct vg_xengine *x);
vg_status vg_xscratch_new(const struct vg_detector *det, struct vg_xscratch **out);
void vg_xscratch_free(struct vg_xscratch *xs);
/* Runs the extended rules over s->req (after the fast engine). */
vg_status vg_xengine_run(struct vg_detect_scratch *s);
/* The fields (bits 1u << enum vg_field) any condition of x reads. */
uint32_t vg_xengine_fields(const struct vg_xengine *x);
/* The chain text of rule's own condition ("" when it is not an extended rule). */
const char *vg_xengine_rule_view(const struct vg_detector *det, uint32_t rule);
/* Chain text of a hit's view ("urlDecodeUni,lowercase", "none") for VG_T_CHAIN hits. */
const char *vg_xengine_chain_text(const struct vg_detector *det, unsigned chain);
/* Builds the canonical text of a rule's extended parts for the provenance hash. */
vg_status vg_rule_ext_text(const struct vg_rule *r, struct vg_buf *b);

/* detect_allow.c */
/* Index of the first allowlist entry that allows hit h of request req, or -1. */
int vg_allowlist_match(const struct vg_allowlist *al, const struct vg_detector *det,
                       const struct vg_request *req, const struct vg_hit *h);

#endif /* VG_DETECT_INT_H */
