/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_lang.c: the extended engine, for rules that use the rule language beyond a single
 * regex or lexer on the original fields (docs/rules.md): new fields (basename, target, cookies
 * one by one, headers, content_type, line, status), `transforms:` chains, the operators phrases
 * contains begins ends equals within eq ne gt ge lt le, `exclude`, `negate` and `chain`. Rules
 * that use none of these run in the fast engine (detect_engine.c) exactly as before; so do the
 * built-in rules.
 *
 * Instances and views. Per request, the fields some condition needs are cut into instances
 * (one per argument, cookie or header; one for a single-valued field), each with its raw bytes
 * (as logged), its BASE value (the server's log escapes undone; arguments also form-decoded
 * once) and, for collections, its name. A view is an (instance, chain) pair: "raw" (as logged),
 * "decoded" (the field's decode chain, decode.h) or a transformation chain applied to the base
 * value (decode_transform.h). Views are made lazily, at most once per request, into a block
 * arena of the scratch, and shared by every condition that needs them; a chain that does not
 * change the bytes gives the input itself (no copy).
 *
 * Databases. Per distinct chain, the FIRST conditions of the rules that Vectorscan can run
 * (regex exactly or in prefilter mode, phrases and contains as literals) form one Vectorscan
 * database (expression id = condition index); each instance of the chain's fields is scanned
 * once with it. Performance note (merged scans, vg_xmerged): per instance field, the databases
 * of the chains that inspect the field are also compiled into one merged database (ids are
 * still condition indices, which name their chain). Before the per-chain loop, each instance
 * gets the mask of chains that inspect it (vg_xwants: per-field masks, a header-name table);
 * its views for those chains are made (not yet listed for explanations) and grouped by
 * identical bytes; a group of two or more chains - typically the chains that change nothing
 * (vg_xsame, vg_tfn_may_change remembered per instance) - is scanned once with the field's
 * merged database, and its candidates are handed to each chain of the group in the per-chain
 * loop, which keeps its order of chains and instances (so hits, their instances and the
 * explained views are as with one scan per chain). A view alone in its group is scanned with
 * its chain's database. Merged-scan results are remembered in the same per-thread memo (key:
 * 2048 + field). A candidate is checked against the instance (header names, exclusions),
 * confirmed with PCRE2 when prefiltered, then the rule's chain conditions are evaluated
 * directly. Rules whose first condition Vectorscan cannot run (negated, begins/ends/equals/
 * within, numeric, lexers, patterns that can match empty) are evaluated directly on every
 * request.
 *
 * Invariants: the engine is immutable after vg_xengine_new; each thread owns a vg_xscratch;
 * once its arena and tables have grown to the largest request seen, a request allocates
 * nothing.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "decode/decode.h"
#include "detect/detect_int.h"

/* How a condition runs. */
enum vg_xmode {
    VG_XM_VS = 0,  /* in its chain's Vectorscan database, exact */
    VG_XM_VS_PRE,  /* in the database in prefilter mode, confirmed with PCRE2 */
    VG_XM_DIRECT   /* evaluated directly over the instances */
};

/* One `exclude:` item. */
struct vg_xexcl {
    uint32_t fields;      /* instance fields it applies to */
    const char *name;     /* exact name, compared caseless (borrowed from the rule) */
    size_t n;
    pcre2_code *re;       /* or a /regex/ on the name */
};

struct vg_xcond {
    uint32_t rule;
    uint32_t fields;
    uint32_t ifields;     /* instance fields it may inspect: fields, and headers for header:NAME */
    char *const *hdr;     /* header:NAME names (borrowed) */
    size_t *hdr_n;        /* their lengths (owned) */
    size_t n_hdr;
    struct vg_xexcl *excl;
    size_t n_excl;
    uint32_t chain;       /* index in vg_xengine.chains */
    uint8_t op;           /* enum vg_rule_op */
    uint8_t mode;         /* enum vg_xmode */
    bool hs_one;          /* in Vectorscan it may match a single byte (vg_hs_single) */
    bool caseless;
    bool negate;
    const char *regex;    /* borrowed */
    pcre2_code *code;     /* VG_OP_REGEX */
    uint8_t *val;         /* text operand (lower-cased when caseless); owned */
    size_t val_n;
    long long num;
    uint8_t **phr;        /* phrases (lower-cased when caseless); owned */
    size_t *phr_n;
    size_t n_phr;
};

struct vg_xchain {
    enum vg_transform t;
    int tfn[VG_RULE_MAX_TFN];
    size_t n_tfn;
    char *text;           /* "decoded", "raw", "none", "urlDecodeUni,lowercase" */
    hs_database_t *db;    /* first conditions Vectorscan runs; NULL when none */
    uint32_t db_fields;   /* instance fields scanned with db */
    bool all_headers;     /* some condition in db inspects every header (`headers`) */
    char *const **hdr;    /* else: the header:NAME lists of its conditions (borrowed) */
    size_t *n_hdr;
    size_t n_hdr_lists;
};

struct vg_xengine {
    struct vg_xcond *conds;
    size_t n_conds;
    uint32_t *first;      /* per rule: its first condition, UINT32_MAX when not extended */
    uint32_t *count;      /* per rule: number of conditions */
    struct vg_xchain *chains;
    size_t n_chains;
    uint32_t *direct;     /* rules whose first condition runs directly */
    size_t n_direct;
    uint32_t fields;      /* instance fields any condition needs */
    hs_database_t *mdb[VG_F_COUNT]; /* per instance field: the chain databases merged (NULL:
                                       none; see vg_xmerged) */
    bool masks;           /* n_chains <= 64: the chains an instance needs form a bit mask */
    uint64_t fchains[VG_F_COUNT]; /* per instance field: chains whose database inspects every
                                     instance of it */
    const char **hname;   /* header names some chain's database names (borrowed) ... */
    size_t *hname_n;
    uint64_t *hmask;      /* ... and the chains that name each */
    size_t n_hname;
};

/* One field instance of the current request. */
struct vg_xinst {
    uint8_t field;            /* enum vg_field (header:NAME instances are VG_F_HEADERS) */
    uint8_t kind;             /* enum vg_decode_kind of the decoded view */
    struct vg_str name;       /* argument / cookie / header name as logged (empty: none) */
    struct vg_str key;        /* the name as compared (arguments: form-decoded) */
    struct vg_str raw;        /* as logged */
    struct vg_str base;       /* the base value of `transforms:` */
    const uint8_t *hp;        /* the bytes last hashed for the memo (NULL: none) */
    size_t hn;
    uint64_t h0;              /* their hash, before the chain is mixed in */
    uint64_t tfn_known;       /* transformations whose vg_tfn_may_change on base is known */
    uint64_t tfn_change;      /* ... and of those, the ones that may change it */
    uint64_t wmask;           /* chains whose database inspects it (x->masks) */
    bool clean;               /* the instance memo knows it: nothing here can match */
    bool dirty;               /* a scan gave a candidate or a first condition held on it */
    unsigned dflags;          /* decode flags of its decoded views */
    uint64_t ih;              /* its instance-memo hash (0: too long to remember) ... */
    const uint8_t *kp;        /* ... and key (vg_xikey, in the block arena) */
    size_t kn;
};

struct vg_xview {
    uint32_t epoch;       /* made in this request when == xs->epoch */
    uint32_t rec;         /* listed in xs->order in this request when == xs->epoch */
    uint32_t mepoch;      /* candidates from a merged scan in this request when == xs->epoch: */
    uint32_t moff, mn;    /* xs->mc[moff, moff + mn) (of every chain) */
    const uint8_t *p;
    size_t n;
};

struct vg_xblk {
    uint8_t *p;
    size_t cap;
    size_t used;
};

#define VG_XMEMO_SLOTS 4096u /* remembered scans per scratch (power of two) */
#define VG_XMEMO_LEN 256u    /* longest view remembered */
#define VG_XMEMO_IDS 6u      /* views with more Vectorscan matches are not remembered */

/* The Vectorscan matches (before any filtering) of one view in one chain's database. */
struct vg_xmemo {
    uint64_t hash;            /* 0: empty */
    uint16_t len;
    uint16_t chain;
    uint8_t n;
    uint32_t id[VG_XMEMO_IDS];
    uint32_t end[VG_XMEMO_IDS];
    uint8_t bytes[VG_XMEMO_LEN];
};

#define VG_XIMEMO_SLOTS 2048u /* remembered clean instances per scratch (power of two) */
#define VG_XIMEMO_LEN 320u    /* longest key remembered (field, names, raw and base bytes) */

/* An instance in which no condition can match (see vg_xikey); its hash is in the tags. */
struct vg_ximemo {
    uint16_t len;
    uint8_t bytes[VG_XIMEMO_LEN];
};

struct vg_xscratch {
    struct vg_xinst *inst;
    size_t n_inst, cap_inst;
    struct vg_xview *views;   /* cap_views * n_chains */
    size_t cap_views;         /* instances the views (and order) have room for */
    uint32_t *order;          /* views made this request, in order (for explanations) */
    uint32_t *act;            /* the instances the memo does not know, in order (cap_views) */
    size_t n_act;
    size_t n_order;
    uint32_t epoch;
    struct vg_xblk *blk;      /* block arena: blocks never move while a request runs */
    size_t n_blk, cur;
    uint8_t *work;            /* second buffer of a transformation chain / decode tmp */
    size_t work_cap;
    struct vg_cand *cand;     /* candidates of one scan (n_conds slots) */
    uint32_t *chain_fail;     /* per rule: epoch of the request in which its chain failed */
    char (*notes)[48];        /* per condition: lexer note of a hit */
    struct vg_xmemo *memo;    /* VG_XMEMO_SLOTS entries */
    uint64_t seed;
    struct vg_cand *mc;       /* candidates of the merged scans of this request */
    size_t mc_n, mc_cap;
    struct vg_ximemo *imemo;  /* VG_XIMEMO_SLOTS entries ... */
    uint64_t *itag;           /* ... and their hashes (0: empty), apart: a miss reads 8 bytes */
    bool first_held;          /* a first condition run directly held in this request */
};

/* ---- small helpers ----------------------------------------------------------------------- */

static uint8_t vg_lc(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* First occurrence of needle (already lower-cased when caseless) in hay; SIZE_MAX if none. */
static size_t vg_xfind(const uint8_t *hay, size_t hn, const uint8_t *nd, size_t nn, bool caseless)
{
    if (nn == 0)
        return 0;
    if (nn > hn)
        return SIZE_MAX;
    if (!caseless) {
        const uint8_t *p = memmem(hay, hn, nd, nn);
        return p ? (size_t)(p - hay) : SIZE_MAX;
    }
    uint8_t f = nd[0];
    for (size_t i = 0; i + nn <= hn; i++) {
        if (vg_lc(hay[i]) != f)
            continue;
        size_t j = 1;
        while (j < nn && vg_lc(hay[i + j]) == nd[j])
            j++;
        if (j == nn)
            return i;
    }
    return SIZE_MAX;
}

static bool vg_xeq(const uint8_t *a, const uint8_t *b, size_t n, bool caseless)
{
    if (!caseless)
        return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (vg_lc(a[i]) != b[i])
            return false;
    return true;
}

/* The subject as an integer, as ModSecurity reads it: leading blanks, a sign, digits; anything
   else (or nothing) is 0. Saturates. */
static long long vg_xnum(struct vg_str s)
{
    size_t i = 0;
    while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t'))
        i++;
    bool neg = false;
    if (i < s.n && (s.p[i] == '-' || s.p[i] == '+'))
        neg = s.p[i++] == '-';
    long long v = 0;
    for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++)
        v = v > (LLONG_MAX - 9) / 10 ? LLONG_MAX : v * 10 + (s.p[i] - '0');
    return neg ? -v : v;
}

/* ---- compilation ------------------------------------------------------------------------- */

static vg_status vg_xnomem(struct vg_error *err)
{
    return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
}

/* Finds or adds the chain (t, tfn[0, n)). */
static vg_status vg_xchain_id(struct vg_xengine *x, enum vg_transform t, const int *tfn,
                              size_t n, uint32_t *out)
{
    for (size_t i = 0; i < x->n_chains; i++) {
        const struct vg_xchain *c = &x->chains[i];
        if (c->t == t && c->n_tfn == n && (n == 0 || memcmp(c->tfn, tfn, n * sizeof(*tfn)) == 0)) {
            *out = (uint32_t)i;
            return VG_OK;
        }
    }
    struct vg_xchain *nc = vg_realloc(x->chains, (x->n_chains + 1) * sizeof(*nc));
    if (!nc)
        return VG_E_NOMEM;
    x->chains = nc;
    struct vg_xchain *c = &nc[x->n_chains];
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->n_tfn = n;
    if (n)
        memcpy(c->tfn, tfn, n * sizeof(*tfn));
    struct vg_buf b;
    vg_buf_init(&b, 4096);
    if (t != VG_T_CHAIN)
        vg_bputs(&b, vg_transform_name(t));
    else if (n == 0)
        vg_bputs(&b, "none");
    for (size_t i = 0; i < n; i++) {
        if (i)
            vg_bputc(&b, ',');
#if VG_HAVE_TFN
        vg_bputs(&b, vg_tfn_name((enum vg_tfn)tfn[i]));
#endif
    }
    vg_bputc(&b, 0);
    if (b.err != VG_OK || !b.p) {
        vg_buf_fini(&b);
        return VG_E_NOMEM;
    }
    c->text = (char *)b.p;
    *out = (uint32_t)x->n_chains++;
    return VG_OK;
}

/* The instance fields a condition's fields stand for (header:NAME are VG_F_HEADERS). */
static uint32_t vg_xinst_fields(uint32_t fields)
{
    uint32_t f = fields & ~(1u << VG_F_HEADER);
    if (fields & (1u << VG_F_HEADER))
        f |= 1u << VG_F_HEADERS;
    return f;
}

static vg_status vg_xcompile_re(const char *re, size_t n, bool caseless,
                                pcre2_compile_context *cctx, pcre2_code **out, char *msg,
                                size_t msg_cap)
{
    int ec;
    PCRE2_SIZE off;
    *out = pcre2_compile((PCRE2_SPTR)re, n, caseless ? PCRE2_CASELESS : 0, &ec, &off, cctx);
    if (!*out) {
        PCRE2_UCHAR m[256];
        if (pcre2_get_error_message(ec, m, sizeof m) < 0)
            snprintf((char *)m, sizeof m, "error %d", ec);
        snprintf(msg, msg_cap, "%s at offset %zu", (const char *)m, (size_t)off);
        return ec == PCRE2_ERROR_NOMEMORY || ec == PCRE2_ERROR_HEAP_FAILED ? VG_E_NOMEM
                                                                         : VG_E_REGEX;
    }
    (void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
    return VG_OK;
}

/* Copies (p, n), lower-cased when caseless. */
static uint8_t *vg_xdup(const char *p, size_t n, bool caseless)
{
    uint8_t *d = vg_malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = caseless ? vg_lc((uint8_t)p[i]) : (uint8_t)p[i];
    d[n] = 0;
    return d;
}

/* Compiles one condition of rule ri (a copy of the rule's own or a chain item). */
static vg_status vg_xcond_init(struct vg_xengine *x, uint32_t ri, const struct vg_rule *r,
                               const struct vg_cond *cd, uint32_t fields, enum vg_transform t,
                               enum vg_rule_op op, const char *regex, bool caseless,
                               bool first, pcre2_compile_context *cctx, struct vg_xcond *xc,
                               struct vg_error *err)
{
    memset(xc, 0, sizeof(*xc));
    xc->rule = ri;
    xc->fields = fields;
    xc->hdr = cd->header_names;
    xc->n_hdr = cd->n_header_names;
    xc->ifields = fields | ((fields & (1u << VG_F_HEADER)) ? 1u << VG_F_HEADERS : 0);
    if (xc->n_hdr) {
        xc->hdr_n = vg_calloc(xc->n_hdr, sizeof(*xc->hdr_n));
        if (!xc->hdr_n)
            return vg_xnomem(err);
        for (size_t k = 0; k < xc->n_hdr; k++)
            xc->hdr_n[k] = strlen(xc->hdr[k]);
    }
    xc->op = (uint8_t)op;
    xc->caseless = caseless;
    xc->negate = cd->negate;
    xc->regex = regex;
    xc->num = cd->num;
    xc->mode = VG_XM_DIRECT;
    if (vg_xchain_id(x, t, cd->tfn, t == VG_T_CHAIN ? cd->n_tfn : 0, &xc->chain) != VG_OK)
        return vg_xnomem(err);
    char msg[300];
    if (cd->n_exclude) {
        xc->excl = vg_calloc(cd->n_exclude, sizeof(*xc->excl));
        if (!xc->excl)
            return vg_xnomem(err);
        for (size_t i = 0; i < cd->n_exclude; i++) {
            const char *e = cd->exclude[i];
            const char *colon = strchr(e, ':');
            size_t fl = (size_t)(colon - e);
            struct vg_xexcl *xe = &xc->excl[xc->n_excl++];
            if (fl == 4 && memcmp(e, "args", 4) == 0)
                xe->fields = 1u << VG_F_ARGS;
            else if (fl == 10 && memcmp(e, "args_names", 10) == 0)
                xe->fields = 1u << VG_F_ARGS_NAMES;
            else if (fl == 6 && memcmp(e, "cookie", 6) == 0)
                xe->fields = 1u << VG_F_COOKIE;
            else if (fl == 12 && memcmp(e, "cookie_names", 12) == 0)
                xe->fields = 1u << VG_F_COOKIE_NAMES;
            else if (fl == 12 && memcmp(e, "header_names", 12) == 0)
                xe->fields = 1u << VG_F_HEADER_NAMES;
            else
                xe->fields = 1u << VG_F_HEADERS;
            const char *nm = colon + 1;
            size_t nl = strlen(nm);
            if (nm[0] == '/' && nl >= 3 && nm[nl - 1] == '/') {
                vg_status st = vg_xcompile_re(nm + 1, nl - 2, true, cctx, &xe->re, msg,
                                              sizeof msg);
                if (st != VG_OK)
                    return vg_error_set(err, st, r->source, 0,
                                        "rule %u (%s): exclusion `%s` does not compile: %s",
                                        r->id, r->source, e, msg);
            } else {
                xe->name = nm;
                xe->n = nl;
            }
        }
    }
    switch (op) {
    case VG_OP_REGEX: {
        vg_status st = vg_xcompile_re(regex, strlen(regex), caseless, cctx, &xc->code, msg,
                                      sizeof msg);
        if (st != VG_OK)
            return vg_error_set(err, st, r->source, 0,
                                "rule %u (%s): pattern does not compile: %s", r->id, r->source,
                                msg);
        if (!first || xc->negate)
            break;
        uint32_t minlen = 0;
        if (pcre2_pattern_info(xc->code, PCRE2_INFO_MINLENGTH, &minlen) == 0 && minlen == 0)
            break; /* can match empty: Vectorscan refuses it; run directly */
        unsigned base = caseless ? HS_FLAG_CASELESS : 0;
        hs_expr_info_t *info = NULL;
        hs_compile_error_t *ce = NULL;
        if (hs_expression_info(regex, base, &info, &ce) == HS_SUCCESS) {
            xc->mode = info && info->min_width > 0 ? VG_XM_VS : VG_XM_DIRECT;
        } else {
            hs_free_compile_error(ce);
            ce = NULL;
            info = NULL;
            if (hs_expression_info(regex, base | HS_FLAG_PREFILTER, &info, &ce) == HS_SUCCESS)
                xc->mode = VG_XM_VS_PRE;
            else
                hs_free_compile_error(ce);
        }
        xc->hs_one = !info || info->min_width <= 1;
        free(info); /* Vectorscan's default allocator; NULL is fine */
        break;
    }
    case VG_OP_PHRASES:
        xc->phr = vg_calloc(cd->n_phrases, sizeof(*xc->phr));
        xc->phr_n = vg_calloc(cd->n_phrases, sizeof(*xc->phr_n));
        if (!xc->phr || !xc->phr_n)
            return vg_xnomem(err);
        for (size_t i = 0; i < cd->n_phrases; i++) {
            size_t n = strlen(cd->phrases[i]);
            xc->phr[i] = vg_xdup(cd->phrases[i], n, caseless);
            if (!xc->phr[i])
                return vg_xnomem(err);
            xc->phr_n[i] = n;
            xc->n_phr++;
        }
        if (first && !xc->negate)
            xc->mode = VG_XM_VS;
        break;
    case VG_OP_CONTAINS:
    case VG_OP_BEGINS:
    case VG_OP_ENDS:
    case VG_OP_EQUALS:
    case VG_OP_WITHIN:
        xc->val_n = strlen(cd->value);
        xc->val = vg_xdup(cd->value, xc->val_n, caseless);
        if (!xc->val)
            return vg_xnomem(err);
        if (first && !xc->negate && op == VG_OP_CONTAINS)
            xc->mode = VG_XM_VS;
        break;
    default:
        break;
    }
    return VG_OK;
}

/* A literal as a Vectorscan expression (every byte but letters and digits as \xHH). */
static char *vg_xliteral(const uint8_t *p, size_t n)
{
    char *e = vg_malloc(4 * n + 1);
    if (!e)
        return NULL;
    size_t k = 0;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        if (isalnum(p[i])) {
            e[k++] = (char)p[i];
        } else {
            e[k++] = '\\';
            e[k++] = 'x';
            e[k++] = hex[p[i] >> 4];
            e[k++] = hex[p[i] & 15];
        }
    }
    e[k] = 0;
    return e;
}

/*
 * Appends the Vectorscan expressions of condition c (id: its index) at exprs[*j]: its regex, or
 * one escaped literal per phrase / the contains value (owned[*j] keeps those). False on no
 * memory; the entries written so far stay listed for the caller to free.
 */
static bool vg_xexprs(const struct vg_xcond *c, unsigned id, const char **exprs, char **owned,
                      unsigned *flags, unsigned *ids, size_t *j)
{
    unsigned f = c->caseless ? HS_FLAG_CASELESS : 0;
    if (c->op == VG_OP_REGEX) {
        exprs[*j] = c->regex;
        flags[*j] = f | vg_hs_single(c->hs_one) |
                    (c->mode == VG_XM_VS_PRE ? HS_FLAG_PREFILTER : 0);
        ids[(*j)++] = id;
        return true;
    }
    size_t np = c->op == VG_OP_PHRASES ? c->n_phr : 1;
    for (size_t p = 0; p < np; p++) {
        size_t len = c->op == VG_OP_PHRASES ? c->phr_n[p] : c->val_n;
        owned[*j] = vg_xliteral(c->op == VG_OP_PHRASES ? c->phr[p] : c->val, len);
        if (!owned[*j])
            return false;
        exprs[*j] = owned[*j];
        flags[*j] = f | vg_hs_single(len == 1);
        ids[(*j)++] = id;
    }
    return true;
}
/* Compiles the Vectorscan database of chain ci; demotes conditions Vectorscan refuses. */
static vg_status vg_xcompile_chain(struct vg_detector *det, struct vg_xengine *x, uint32_t ci,
                                   const char *cache_dir, struct vg_error *err)
{
    struct vg_xchain *ch = &x->chains[ci];
    for (;;) {
        size_t k = 0;
        for (size_t i = 0; i < x->n_conds; i++) {
            const struct vg_xcond *c = &x->conds[i];
            if (c->chain == ci && c->mode != VG_XM_DIRECT)
                k += c->op == VG_OP_PHRASES ? c->n_phr : 1;
        }
        if (k == 0)
            return VG_OK;
        if (k > UINT_MAX / 2)
            return vg_error_set(err, VG_E_LIMIT, NULL, 0, "too many phrases");
        const char **exprs = vg_calloc(k, sizeof(*exprs));
        char **owned = vg_calloc(k, sizeof(*owned));
        unsigned *flags = vg_calloc(k, sizeof(*flags));
        unsigned *ids = vg_calloc(k, sizeof(*ids));
        vg_status st = exprs && owned && flags && ids ? VG_OK : vg_xnomem(err);
        size_t j = 0;
        ch->db_fields = 0;
        for (size_t i = 0; st == VG_OK && i < x->n_conds; i++) {
            const struct vg_xcond *c = &x->conds[i];
            if (c->chain != ci || c->mode == VG_XM_DIRECT)
                continue;
            ch->db_fields |= vg_xinst_fields(c->fields);
            if (!vg_xexprs(c, (unsigned)i, exprs, owned, flags, ids, &j))
                st = vg_xnomem(err);
        }
        /* the headers worth scanning: all, or only those some condition names */
        ch->all_headers = false;
        ch->n_hdr_lists = 0;
        vg_free(ch->hdr);
        vg_free(ch->n_hdr);
        ch->hdr = vg_calloc(x->n_conds ? x->n_conds : 1, sizeof(*ch->hdr));
        ch->n_hdr = vg_calloc(x->n_conds ? x->n_conds : 1, sizeof(*ch->n_hdr));
        if (st == VG_OK && (!ch->hdr || !ch->n_hdr))
            st = vg_xnomem(err);
        for (size_t i = 0; st == VG_OK && i < x->n_conds; i++) {
            const struct vg_xcond *c = &x->conds[i];
            if (c->chain != ci || c->mode == VG_XM_DIRECT)
                continue;
            if (c->fields & (1u << VG_F_HEADERS))
                ch->all_headers = true;
            if (c->n_hdr) {
                ch->hdr[ch->n_hdr_lists] = c->hdr;
                ch->n_hdr[ch->n_hdr_lists++] = c->n_hdr;
            }
        }
        int bad = -1;
        char msg[256] = "";
        if (st == VG_OK)
            st = vg_hsdb_build(cache_dir, exprs, flags, ids, (unsigned)j, &ch->db, &bad, msg,
                               sizeof msg);
        if (st == VG_E_REGEX && bad >= 0) {
            /* exact -> prefilter -> direct; literals -> direct */
            struct vg_xcond *c = &x->conds[ids[bad]];
            c->mode = c->mode == VG_XM_VS && c->op == VG_OP_REGEX ? VG_XM_VS_PRE : VG_XM_DIRECT;
            st = VG_OK;
            ch->db = NULL;
            for (size_t i = 0; i < j; i++)
                vg_free(owned[i]);
            vg_free(exprs);
            vg_free(owned);
            vg_free(flags);
            vg_free(ids);
            continue;
        }
        if (st == VG_E_REGEX)
            vg_error_set(err, st, NULL, 0, "Vectorscan compile failed: %s", msg);
        if (st == VG_OK && hs_alloc_scratch(ch->db, &det->proto) != HS_SUCCESS)
            st = vg_xnomem(err);
        for (size_t i = 0; owned && i < j; i++)
            vg_free(owned[i]);
        vg_free(exprs);
        vg_free(owned);
        vg_free(flags);
        vg_free(ids);
        return st;
    }
}

/*
 * The merged database of instance field fld: the expressions of every chain database that
 * inspect fld, in one (expression id = condition index, which names its chain); only when two
 * or more chains inspect fld. An instance that several chains give the same bytes is scanned
 * once with it instead of once per chain (vg_xmerged). Best effort: on any failure there is no
 * merged database and every chain scans alone, with the same results.
 */
static void vg_xcompile_merged(struct vg_detector *det, struct vg_xengine *x, int fld,
                               const char *cache_dir)
{
    size_t n_db = 0, k = 0;
    uint32_t bit = 1u << fld;
    for (size_t i = 0; i < x->n_chains; i++)
        n_db += x->chains[i].db && (x->chains[i].db_fields & bit);
    if (n_db < 2 || x->n_chains > 64)
        return;
    for (size_t i = 0; i < x->n_conds; i++) {
        const struct vg_xcond *c = &x->conds[i];
        if (c->mode != VG_XM_DIRECT && x->chains[c->chain].db &&
            (vg_xinst_fields(c->fields) & bit))
            k += c->op == VG_OP_PHRASES ? c->n_phr : 1;
    }
    if (k == 0 || k > UINT_MAX / 2)
        return;
    const char **exprs = vg_calloc(k, sizeof(*exprs));
    char **owned = vg_calloc(k, sizeof(*owned));
    unsigned *flags = vg_calloc(k, sizeof(*flags));
    unsigned *ids = vg_calloc(k, sizeof(*ids));
    bool ok = exprs && owned && flags && ids;
    size_t j = 0;
    for (size_t i = 0; ok && i < x->n_conds; i++) {
        const struct vg_xcond *c = &x->conds[i];
        if (c->mode == VG_XM_DIRECT || !x->chains[c->chain].db ||
            !(vg_xinst_fields(c->fields) & bit))
            continue;
        ok = vg_xexprs(c, (unsigned)i, exprs, owned, flags, ids, &j);
    }
    int bad = -1;
    char msg[256] = "";
    hs_database_t **db = &x->mdb[fld];
    if (ok && vg_hsdb_build(cache_dir, exprs, flags, ids, (unsigned)j, db, &bad, msg,
                            sizeof msg) != VG_OK)
        *db = NULL;
    if (*db && hs_alloc_scratch(*db, &det->proto) != HS_SUCCESS) {
        hs_free_database(*db);
        *db = NULL;
    }
    for (size_t i = 0; owned && i < j; i++)
        vg_free(owned[i]);
    vg_free(exprs);
    vg_free(owned);
    vg_free(flags);
    vg_free(ids);
}

/* The per-field chain masks and the header-name table of vg_xwants (when n_chains <= 64). */
static vg_status vg_xmasks(struct vg_xengine *x, struct vg_error *err)
{
    if (x->n_chains > 64)
        return VG_OK;
    size_t nh = 0;
    for (size_t c = 0; c < x->n_chains; c++)
        for (size_t l = 0; l < x->chains[c].n_hdr_lists; l++)
            nh += x->chains[c].n_hdr[l];
    x->hname = vg_calloc(nh ? nh : 1, sizeof(*x->hname));
    x->hname_n = vg_calloc(nh ? nh : 1, sizeof(*x->hname_n));
    x->hmask = vg_calloc(nh ? nh : 1, sizeof(*x->hmask));
    if (!x->hname || !x->hname_n || !x->hmask)
        return vg_xnomem(err);
    for (size_t c = 0; c < x->n_chains; c++) {
        const struct vg_xchain *ch = &x->chains[c];
        if (!ch->db)
            continue;
        for (int f = 0; f < VG_F_COUNT; f++)
            if ((ch->db_fields & (1u << f)) && (f != VG_F_HEADERS || ch->all_headers))
                x->fchains[f] |= 1ull << c;
        if (!(ch->db_fields & (1u << VG_F_HEADERS)) || ch->all_headers)
            continue;
        for (size_t l = 0; l < ch->n_hdr_lists; l++)
            for (size_t k = 0; k < ch->n_hdr[l]; k++) {
                const char *nm = ch->hdr[l][k];
                size_t n = strlen(nm), h = 0;
                while (h < x->n_hname &&
                       !(x->hname_n[h] == n &&
                         vg_str_ieq(vg_str_make(x->hname[h], n), vg_str_make(nm, n))))
                    h++;
                if (h == x->n_hname) {
                    x->hname[h] = nm;
                    x->hname_n[h] = n;
                    x->n_hname++;
                }
                x->hmask[h] |= 1ull << c;
            }
    }
    x->masks = true;
    return VG_OK;
}

vg_status vg_xengine_new(struct vg_detector *det, pcre2_compile_context *cctx,
                         struct vg_error *err)
{
    const struct vg_ruleset *rs = det->rs;
    size_t nc = 0;
    for (size_t i = 0; i < det->n_rules; i++)
        if (rs->rules[i].extended)
            nc += 1 + rs->rules[i].n_chain;
    if (nc == 0)
        return VG_OK;
    struct vg_xengine *x = vg_calloc(1, sizeof(*x));
    if (!x)
        return vg_xnomem(err);
    det->x = x;
    x->conds = vg_calloc(nc, sizeof(*x->conds));
    x->first = vg_calloc(det->n_rules, sizeof(*x->first));
    x->count = vg_calloc(det->n_rules, sizeof(*x->count));
    x->direct = vg_calloc(det->n_rules, sizeof(*x->direct));
    if (!x->conds || !x->first || !x->count || !x->direct)
        return vg_xnomem(err);
    vg_status st = VG_OK;
    for (size_t i = 0; st == VG_OK && i < det->n_rules; i++) {
        const struct vg_rule *r = &rs->rules[i];
        x->first[i] = UINT32_MAX;
        if (!r->extended)
            continue;
        x->first[i] = (uint32_t)x->n_conds;
        x->count[i] = (uint32_t)(1 + r->n_chain);
        st = vg_xcond_init(x, (uint32_t)i, r, &r->cond, r->fields, r->transform, r->op,
                           r->regex, r->caseless, true, cctx, &x->conds[x->n_conds], err);
        x->n_conds++;
        for (size_t k = 0; st == VG_OK && k < r->n_chain; k++) {
            const struct vg_cond *cd = &r->chain[k];
            st = vg_xcond_init(x, (uint32_t)i, r, cd, cd->fields, cd->transform, cd->op,
                               cd->regex, cd->caseless, false, cctx, &x->conds[x->n_conds],
                               err);
            x->n_conds++;
        }
    }
    for (uint32_t c = 0; st == VG_OK && c < x->n_chains; c++)
        st = vg_xcompile_chain(det, x, c, det->cache_dir, err);
    for (int f = 0; st == VG_OK && f < VG_F_COUNT; f++)
        vg_xcompile_merged(det, x, f, det->cache_dir);
    if (st == VG_OK)
        st = vg_xmasks(x, err);
    for (size_t i = 0; st == VG_OK && i < det->n_rules; i++)
        if (x->first[i] != UINT32_MAX && x->conds[x->first[i]].mode == VG_XM_DIRECT)
            x->direct[x->n_direct++] = (uint32_t)i;
    for (size_t i = 0; i < x->n_conds; i++)
        x->fields |= vg_xinst_fields(x->conds[i].fields);
    return st;
}

void vg_xengine_free(struct vg_xengine *x)
{
    if (!x)
        return;
    for (size_t i = 0; x->conds && i < x->n_conds; i++) {
        struct vg_xcond *c = &x->conds[i];
        pcre2_code_free(c->code);
        for (size_t k = 0; c->excl && k < c->n_excl; k++)
            pcre2_code_free(c->excl[k].re);
        vg_free(c->excl);
        vg_free(c->val);
        for (size_t k = 0; c->phr && k < c->n_phr; k++)
            vg_free(c->phr[k]);
        vg_free(c->phr);
        vg_free(c->phr_n);
        vg_free(c->hdr_n);
    }
    for (size_t i = 0; i < x->n_chains; i++) {
        hs_free_database(x->chains[i].db);
        vg_free(x->chains[i].text);
        vg_free(x->chains[i].hdr);
        vg_free(x->chains[i].n_hdr);
    }
    for (int f = 0; f < VG_F_COUNT; f++)
        hs_free_database(x->mdb[f]);
    vg_free(x->hname);
    vg_free(x->hname_n);
    vg_free(x->hmask);
    vg_free(x->chains);
    vg_free(x->conds);
    vg_free(x->first);
    vg_free(x->count);
    vg_free(x->direct);
    vg_free(x);
}

const char *vg_xengine_chain_text(const struct vg_detector *det, unsigned chain)
{
    if (!det->x || chain >= det->x->n_chains)
        return "";
    return det->x->chains[chain].text;
}

const char *vg_xengine_rule_view(const struct vg_detector *det, uint32_t rule)
{
    const struct vg_xengine *x = det->x;
    if (!x || rule >= det->n_rules || x->first[rule] == UINT32_MAX)
        return "";
    return x->chains[x->conds[x->first[rule]].chain].text;
}

/* ---- provenance -------------------------------------------------------------------------- */

static void vg_xtext_str(struct vg_buf *b, const char *key, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    vg_bprintf(b, " %s=%zu:", key, n);
    vg_bput(b, s ? s : "", n);
}

static void vg_xtext_cond(struct vg_buf *b, const struct vg_cond *cd, uint32_t fields,
                          enum vg_transform t, enum vg_rule_op op, const char *regex,
                          bool caseless)
{
    vg_bputs(b, " fields=");
    bool first = true;
    for (int f = 0; f < VG_F_COUNT; f++) {
        if (!(fields & (1u << f)) || f == VG_F_HEADER)
            continue;
        vg_bprintf(b, "%s%s", first ? "" : ",", vg_field_name((enum vg_field)f));
        first = false;
    }
    for (size_t i = 0; i < cd->n_header_names; i++)
        vg_bprintf(b, "%sheader:%s", first && i == 0 ? "" : ",", cd->header_names[i]);
    vg_bprintf(b, " transform=%s", vg_transform_name(t));
    if (t == VG_T_CHAIN) {
        vg_bputs(b, ":");
        for (size_t i = 0; i < cd->n_tfn; i++) {
#if VG_HAVE_TFN
            vg_bprintf(b, "%s%s", i ? "," : "", vg_tfn_name((enum vg_tfn)cd->tfn[i]));
#else
            vg_bprintf(b, "%s%d", i ? "," : "", cd->tfn[i]);
#endif
        }
    }
    vg_bprintf(b, " operator=%s caseless=%d negate=%d", vg_rule_op_name(op), caseless ? 1 : 0,
               cd->negate ? 1 : 0);
    if (regex)
        vg_xtext_str(b, "regex", regex);
    if (cd->value)
        vg_xtext_str(b, "value", cd->value);
    for (size_t i = 0; i < cd->n_phrases; i++)
        vg_xtext_str(b, "phrase", cd->phrases[i]);
    for (size_t i = 0; i < cd->n_exclude; i++)
        vg_xtext_str(b, "exclude", cd->exclude[i]);
}

vg_status vg_rule_ext_text(const struct vg_rule *r, struct vg_buf *b)
{
    vg_bputs(b, "ext");
    vg_xtext_cond(b, &r->cond, r->fields, r->transform, r->op, NULL, r->caseless);
    for (size_t i = 0; i < r->n_chain; i++) {
        const struct vg_cond *cd = &r->chain[i];
        vg_bputs(b, " chain");
        vg_xtext_cond(b, cd, cd->fields, cd->transform, cd->op, cd->regex, cd->caseless);
    }
    if (r->group)
        vg_xtext_str(b, "group", r->group);
    if (r->author)
        vg_xtext_str(b, "author", r->author);
    return b->err;
}

/* ---- scratch ----------------------------------------------------------------------------- */

vg_status vg_xscratch_new(const struct vg_detector *det, struct vg_xscratch **out)
{
    const struct vg_xengine *x = det->x;
    struct vg_xscratch *xs = vg_calloc(1, sizeof(*xs));
    if (!xs)
        return VG_E_NOMEM;
    xs->cand = vg_calloc(x->n_conds ? x->n_conds : 1, sizeof(*xs->cand));
    xs->chain_fail = vg_calloc(det->n_rules ? det->n_rules : 1, sizeof(*xs->chain_fail));
    xs->notes = vg_calloc(x->n_conds ? x->n_conds : 1, sizeof(*xs->notes));
    xs->memo = vg_calloc(VG_XMEMO_SLOTS, sizeof(*xs->memo));
    xs->imemo = vg_calloc(VG_XIMEMO_SLOTS, sizeof(*xs->imemo));
    xs->itag = vg_calloc(VG_XIMEMO_SLOTS, sizeof(*xs->itag));
    xs->seed = vg_hash64(&xs, sizeof(xs), 0x78656e67u); /* per scratch, like the fast engine */
    if (!xs->cand || !xs->chain_fail || !xs->notes || !xs->memo || !xs->imemo ||
        !xs->itag) {
        vg_xscratch_free(xs);
        return VG_E_NOMEM;
    }
    *out = xs;
    return VG_OK;
}

void vg_xscratch_free(struct vg_xscratch *xs)
{
    if (!xs)
        return;
    vg_free(xs->inst);
    vg_free(xs->views);
    vg_free(xs->order);
    vg_free(xs->act);
    for (size_t i = 0; i < xs->n_blk; i++)
        vg_free(xs->blk[i].p);
    vg_free(xs->blk);
    vg_free(xs->work);
    vg_free(xs->cand);
    vg_free(xs->chain_fail);
    vg_free(xs->notes);
    vg_free(xs->memo);
    vg_free(xs->imemo);
    vg_free(xs->itag);
    vg_free(xs->mc);
    vg_free(xs);
}

/* Room for n bytes in the block arena (stable until the next request); NULL on no memory. */
static uint8_t *vg_xalloc(struct vg_xscratch *xs, size_t n)
{
    if (n == 0)
        n = 1;
    while (xs->cur < xs->n_blk) {
        struct vg_xblk *b = &xs->blk[xs->cur];
        if (b->cap - b->used >= n) {
            uint8_t *p = b->p + b->used;
            b->used += n;
            return p;
        }
        if (b->used == 0) { /* an unused block too small: replace it */
            size_t cap = n > 65536 ? n : 65536;
            uint8_t *p = vg_malloc(cap);
            if (!p)
                return NULL;
            vg_free(b->p);
            b->p = p;
            b->cap = cap;
            continue;
        }
        xs->cur++;
    }
    struct vg_xblk *nb = vg_realloc(xs->blk, (xs->n_blk + 1) * sizeof(*nb));
    if (!nb)
        return NULL;
    xs->blk = nb;
    size_t cap = n > 65536 ? n : 65536;
    nb[xs->n_blk].p = vg_malloc(cap);
    if (!nb[xs->n_blk].p)
        return NULL;
    nb[xs->n_blk].cap = cap;
    nb[xs->n_blk].used = 0;
    xs->n_blk++;
    return vg_xalloc(xs, n);
}

/* Gives back the unused tail of the last allocation p (of `had` bytes) keeping `keep`. */
static void vg_xshrink(struct vg_xscratch *xs, uint8_t *p, size_t had, size_t keep)
{
    struct vg_xblk *b = &xs->blk[xs->cur];
    if (had < 1)
        had = 1;
    if (p + had == b->p + b->used && keep <= had)
        b->used -= had - keep;
}

static vg_status vg_xwork(struct vg_xscratch *xs, size_t n)
{
    if (n <= xs->work_cap)
        return VG_OK;
    size_t cap = xs->work_cap ? xs->work_cap : 4096;
    while (cap < n)
        cap = cap > SIZE_MAX / 2 ? n : cap * 2;
    uint8_t *p = vg_realloc(xs->work, cap);
    if (!p)
        return VG_E_NOMEM;
    xs->work = p;
    xs->work_cap = cap;
    return VG_OK;
}

/* ---- instances --------------------------------------------------------------------------- */

struct vg_xbuild {
    struct vg_xscratch *xs;
    const struct vg_request *req;
    uint32_t want;
    vg_status st;
};

/* The value with the server's log escapes undone (only when the line has some). */
static struct vg_str vg_xunesc(struct vg_xbuild *b, struct vg_str v)
{
    if (!(b->req->flags & VG_REQ_ESCAPED) || v.n == 0 || !memchr(v.p, '\\', v.n))
        return v;
    uint8_t *o = vg_xalloc(b->xs, v.n);
    if (!o) {
        b->st = VG_E_NOMEM;
        return v;
    }
    unsigned fl = 0;
    size_t n = vg_decode_log_escapes(v.p, v.n, o, &fl);
    vg_xshrink(b->xs, o, v.n, n);
    return vg_str_make(o, n);
}

/* One round of form URL-decoding ('+' is a space), after log unescaping. */
static struct vg_str vg_xform(struct vg_xbuild *b, struct vg_str v)
{
    v = vg_xunesc(b, v);
    if (v.n == 0 || (!memchr(v.p, '%', v.n) && !memchr(v.p, '+', v.n)))
        return v;
    uint8_t *o = vg_xalloc(b->xs, v.n);
    if (!o) {
        b->st = VG_E_NOMEM;
        return v;
    }
    unsigned fl = 0;
    size_t n = vg_decode_pct(v.p, v.n, o, true, &fl);
    if (n > v.n)
        n = v.n;
    vg_xshrink(b->xs, o, v.n, n);
    return vg_str_make(o, n);
}

static void vg_xadd(struct vg_xbuild *b, enum vg_field f, enum vg_decode_kind kind,
                    struct vg_str name, struct vg_str key, struct vg_str raw, struct vg_str base)
{
    struct vg_xscratch *xs = b->xs;
    if (b->st != VG_OK)
        return;
    if (xs->n_inst == xs->cap_inst) {
        size_t cap = xs->cap_inst ? xs->cap_inst * 2 : 64;
        struct vg_xinst *ni = vg_realloc(xs->inst, cap * sizeof(*ni));
        if (!ni) {
            b->st = VG_E_NOMEM;
            return;
        }
        xs->inst = ni;
        xs->cap_inst = cap;
    }
    struct vg_xinst *in = &xs->inst[xs->n_inst++];
    in->field = (uint8_t)f;
    in->kind = (uint8_t)kind;
    in->name = name;
    in->key = key;
    in->raw = raw;
    in->base = base;
    in->hp = NULL;
    in->hn = 0;
    in->h0 = 0;
    in->tfn_known = 0;
    in->tfn_change = 0;
    in->wmask = 0;
    in->clean = false;
    in->dirty = false;
    in->dflags = 0;
}

/* A single-valued field, when logged. */
static void vg_xsingle(struct vg_xbuild *b, enum vg_field f, enum vg_decode_kind kind,
                       struct vg_str v)
{
    if (!(b->want & (1u << f)) || !v.p)
        return;
    const struct vg_str none = VG_STR_NULL;
    vg_xadd(b, f, kind, none, none, v, vg_xunesc(b, v));
}

/* One argument (name, value) of the query or a body. */
static void vg_xarg(struct vg_xbuild *b, struct vg_str name, struct vg_str value, bool encoded)
{
    struct vg_str key = encoded ? vg_xform(b, name) : name;
    if (b->want & (1u << VG_F_ARGS_NAMES))
        vg_xadd(b, VG_F_ARGS_NAMES, VG_DECODE_QUERY, name, key, name, key);
    if (b->want & (1u << VG_F_ARGS))
        vg_xadd(b, VG_F_ARGS, VG_DECODE_QUERY, name, key, value,
                encoded ? vg_xform(b, value) : value);
}

static void vg_xargs_form(struct vg_xbuild *b, struct vg_str list)
{
    struct vg_args_iter it;
    vg_args_init(&it, list);
    struct vg_str name, value;
    while (b->st == VG_OK && vg_args_next(&it, &name, &value))
        vg_xarg(b, name, value, true);
}

/* Case-insensitive prefix test of a content type. */
static bool vg_xct_is(struct vg_str ct, const char *type)
{
    size_t n = strlen(type);
    size_t i = 0;
    while (i < ct.n && ct.p[i] == ' ')
        i++;
    if (ct.n - i < n || !vg_str_ieq(vg_str_make(ct.p + i, n), vg_str_make(type, n)))
        return false;
    return ct.n - i == n || ct.p[i + n] == ';' || ct.p[i + n] == ' ' ||
           (type[n - 1] == '/' || ct.p[i + n] == '+');
}

/*
 * JSON body: every scalar becomes an argument named by its path ("json.a.b", arrays by index
 * "json.a.0"), as ModSecurity names them. A small iterative reader (depth-capped); the body is
 * used as logged (log escapes undone).
 */
#define VG_XJSON_DEPTH 32
static void vg_xargs_json(struct vg_xbuild *b, struct vg_str body)
{
    struct vg_str v = vg_xunesc(b, body);
    const uint8_t *p = v.p, *e = v.p + v.n;
    /* path: stack of (offset in the name buffer, is_array, index) */
    size_t plen[VG_XJSON_DEPTH + 1];
    bool arr[VG_XJSON_DEPTH + 1];
    unsigned idx[VG_XJSON_DEPTH + 1];
    int depth = 0;
    uint8_t name[512];
    size_t nlen = 4;
    memcpy(name, "json", 4);
    plen[0] = nlen;
    arr[0] = false;
    idx[0] = 0;
    const uint8_t *key = NULL;
    size_t key_n = 0;
    bool have_key = false;
    while (p < e && b->st == VG_OK) {
        uint8_t c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':') {
            p++;
            continue;
        }
        /* the name of the value that starts here */
        size_t cur = depth ? plen[depth] : nlen;
        bool is_value = depth > 0 && (arr[depth] || have_key);
        if (c == '"' && depth > 0 && !arr[depth] && !have_key) {
            const uint8_t *q = p + 1;
            while (q < e && *q != '"')
                q += (*q == '\\' && q + 1 < e) ? 2 : 1;
            key = p + 1;
            key_n = (size_t)(q - key);
            have_key = true;
            p = q < e ? q + 1 : e;
            continue;
        }
        size_t n = cur;
        if (is_value) {
            char tmp[16];
            const uint8_t *part = key;
            size_t part_n = key_n;
            if (arr[depth]) {
                int tn = snprintf(tmp, sizeof tmp, "%u", idx[depth]++);
                part = (const uint8_t *)tmp;
                part_n = (size_t)tn;
            }
            if (n + 1 + part_n < sizeof name) {
                name[n] = '.';
                memcpy(name + n + 1, part, part_n);
                n += 1 + part_n;
            }
            have_key = false;
        }
        if (c == '{' || c == '[') {
            if (depth >= VG_XJSON_DEPTH)
                return;
            depth++;
            plen[depth] = n;
            arr[depth] = c == '[';
            idx[depth] = 0;
            p++;
            continue;
        }
        if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
            have_key = false;
            p++;
            continue;
        }
        /* a scalar: string, number, true, false, null */
        const uint8_t *s0, *s1;
        if (c == '"') {
            const uint8_t *q = p + 1;
            while (q < e && *q != '"')
                q += (*q == '\\' && q + 1 < e) ? 2 : 1;
            s0 = p + 1;
            s1 = q < e ? q : e;
            p = q < e ? q + 1 : e;
        } else {
            s0 = p;
            while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n')
                p++;
            s1 = p;
        }
        if (depth == 0)
            return; /* not an object or array */
        uint8_t *nm = vg_xalloc(b->xs, n);
        if (!nm) {
            b->st = VG_E_NOMEM;
            return;
        }
        memcpy(nm, name, n);
        struct vg_str nms = vg_str_make(nm, n);
        vg_xarg(b, nms, vg_str_make(s0, (size_t)(s1 - s0)), false);
    }
}

/* multipart/form-data body: each part with a name is an argument (its content the value). */
static void vg_xargs_multipart(struct vg_xbuild *b, struct vg_str body, struct vg_str ct)
{
    const uint8_t *bd = NULL;
    size_t bn = 0;
    for (size_t i = 0; i + 9 <= ct.n; i++)
        if (vg_str_ieq(vg_str_make(ct.p + i, 9), vg_str_make("boundary=", 9))) {
            bd = ct.p + i + 9;
            bn = ct.n - i - 9;
            if (bn && *bd == '"') {
                bd++;
                bn--;
                const uint8_t *q = memchr(bd, '"', bn);
                if (q)
                    bn = (size_t)(q - bd);
            }
            for (size_t k = 0; k < bn; k++)
                if (bd[k] == ';' || bd[k] == ' ') {
                    bn = k;
                    break;
                }
            break;
        }
    if (!bd || bn == 0 || bn > 200)
        return;
    struct vg_str v = vg_xunesc(b, body);
    /* Logged bodies often show CR LF as \r\n text; after unescaping they may still be the two
       characters "\r\n" (nginx escapes them as \x0D\x0A, undone above). */
    uint8_t delim[204];
    delim[0] = '-';
    delim[1] = '-';
    memcpy(delim + 2, bd, bn);
    size_t dn = bn + 2;
    const uint8_t *p = v.p, *e = v.p + v.n;
    const uint8_t *part = memmem(p, v.n, delim, dn);
    while (part && b->st == VG_OK) {
        const uint8_t *hs = part + dn;
        const uint8_t *next = hs < e ? memmem(hs, (size_t)(e - hs), delim, dn) : NULL;
        const uint8_t *pe = next ? next : e;
        /* headers end at the first blank line */
        const uint8_t *cd = NULL;
        size_t cdn = 0;
        const uint8_t *body0 = NULL;
        for (const uint8_t *q = hs; q + 1 < pe; q++) {
            if (q + 3 < pe && q[0] == '\r' && q[1] == '\n' && q[2] == '\r' && q[3] == '\n') {
                body0 = q + 4;
                break;
            }
            if (q[0] == '\n' && q[1] == '\n') {
                body0 = q + 2;
                break;
            }
        }
        if (body0) {
            size_t hn = (size_t)(body0 - hs);
            static const char key[] = "name=\"";
            for (size_t i = 0; i + sizeof key - 1 <= hn; i++) {
                if (memcmp(hs + i, key, sizeof key - 1) == 0 &&
                    (i == 0 || hs[i - 1] == ' ' || hs[i - 1] == ';')) {
                    cd = hs + i + sizeof key - 1;
                    const uint8_t *q = memchr(cd, '"', (size_t)(body0 - cd));
                    cdn = q ? (size_t)(q - cd) : 0;
                    break;
                }
            }
            const uint8_t *be = pe;
            if (be - body0 >= 2 && be[-2] == '\r' && be[-1] == '\n')
                be -= 2;
            else if (be - body0 >= 1 && be[-1] == '\n')
                be -= 1;
            if (cd && cdn)
                vg_xarg(b, vg_str_make(cd, cdn), vg_str_make(body0, (size_t)(be - body0)),
                        false);
        }
        part = next;
    }
}

static void vg_xcookies(struct vg_xbuild *b, struct vg_str ck)
{
    if (!(b->want & ((1u << VG_F_COOKIE) | (1u << VG_F_COOKIE_NAMES))) || !ck.p)
        return;
    struct vg_str v = vg_xunesc(b, ck);
    const uint8_t *p = v.p, *e = v.p + v.n;
    while (p < e && b->st == VG_OK) {
        while (p < e && (*p == ' ' || *p == ';'))
            p++;
        const uint8_t *q = p;
        while (q < e && *q != ';')
            q++;
        if (q > p) {
            const uint8_t *eq = memchr(p, '=', (size_t)(q - p));
            struct vg_str name = vg_str_make(p, (size_t)((eq ? eq : q) - p));
            struct vg_str val = eq ? vg_str_make(eq + 1, (size_t)(q - eq - 1)) : vg_str_make(q, 0);
            if (b->want & (1u << VG_F_COOKIE_NAMES))
                vg_xadd(b, VG_F_COOKIE_NAMES, VG_DECODE_QUERY, name, name, name, name);
            if (b->want & (1u << VG_F_COOKIE))
                vg_xadd(b, VG_F_COOKIE, VG_DECODE_QUERY, name, name, val, val);
        }
        p = q;
    }
}

static void vg_xheader(struct vg_xbuild *b, const char *lit, struct vg_str name, struct vg_str v)
{
    if (!v.p)
        return;
    if (lit)
        name = vg_str_make(lit, strlen(lit));
    if (b->want & (1u << VG_F_HEADERS))
        vg_xadd(b, VG_F_HEADERS, VG_DECODE_HEADER, name, name, v, vg_xunesc(b, v));
    if (b->want & (1u << VG_F_HEADER_NAMES))
        vg_xadd(b, VG_F_HEADER_NAMES, VG_DECODE_HEADER, name, name, name, name);
}

/* Cuts the request into the instances of the fields some condition needs. */
static vg_status vg_xbuild_instances(struct vg_detect_scratch *s)
{
    struct vg_xscratch *xs = s->x;
    const struct vg_request *req = s->req;
    struct vg_xbuild b = {xs, req, s->det->x->fields, VG_OK};
    xs->n_inst = 0;
    vg_xsingle(&b, VG_F_METHOD, VG_DECODE_HEADER, req->method);
    vg_xsingle(&b, VG_F_PATH, VG_DECODE_PATH, req->path);
    if ((b.want & (1u << VG_F_BASENAME)) && req->path.p) {
        size_t i = req->path.n;
        while (i > 0 && req->path.p[i - 1] != '/')
            i--;
        vg_xsingle(&b, VG_F_BASENAME, VG_DECODE_PATH,
                   vg_str_make(req->path.p + i, req->path.n - i));
    }
    vg_xsingle(&b, VG_F_QUERY, VG_DECODE_QUERY, req->query);
    vg_xsingle(&b, VG_F_TARGET, VG_DECODE_HEADER, req->target);
    if (b.want & ((1u << VG_F_ARGS) | (1u << VG_F_ARGS_NAMES))) {
        if (req->query.n)
            vg_xargs_form(&b, req->query);
        if (req->body.n) {
            struct vg_str ct = req->content_type;
            if (ct.n == 0 || vg_xct_is(ct, "application/x-www-form-urlencoded"))
                vg_xargs_form(&b, req->body);
            else if (vg_xct_is(ct, "application/json") || vg_xct_is(ct, "text/json") ||
                     (vg_xct_is(ct, "application/") && memmem(ct.p, ct.n, "+json", 5)))
                vg_xargs_json(&b, req->body);
            else if (vg_xct_is(ct, "multipart/form-data"))
                vg_xargs_multipart(&b, req->body, ct);
        }
    }
    vg_xcookies(&b, req->cookie);
    vg_xsingle(&b, VG_F_USER_AGENT, VG_DECODE_HEADER, req->user_agent);
    vg_xsingle(&b, VG_F_REFERER, VG_DECODE_HEADER, req->referer);
    vg_xsingle(&b, VG_F_HOST, VG_DECODE_HEADER, req->host);
    vg_xsingle(&b, VG_F_CONTENT_TYPE, VG_DECODE_HEADER, req->content_type);
    if (b.want & ((1u << VG_F_HEADERS) | (1u << VG_F_HEADER_NAMES))) {
        const struct vg_str none = VG_STR_NULL;
        vg_xheader(&b, "Host", none, req->host);
        vg_xheader(&b, "User-Agent", none, req->user_agent);
        vg_xheader(&b, "Referer", none, req->referer);
        vg_xheader(&b, "Cookie", none, req->cookie);
        vg_xheader(&b, "Content-Type", none, req->content_type);
        for (unsigned i = 0; i < req->n_headers && i < VG_REQ_MAX_HEADERS; i++)
            vg_xheader(&b, NULL, req->headers[i].name, req->headers[i].value);
    }
    vg_xsingle(&b, VG_F_BODY, VG_DECODE_QUERY, req->body);
    vg_xsingle(&b, VG_F_PROTOCOL, VG_DECODE_HEADER, req->protocol);
    vg_xsingle(&b, VG_F_REQUEST_LINE, VG_DECODE_HEADER, req->request);
    vg_xsingle(&b, VG_F_LINE, VG_DECODE_HEADER, req->line);
    if ((b.want & (1u << VG_F_STATUS)) && req->status >= 0) {
        uint8_t *t = vg_xalloc(xs, 12);
        if (!t)
            return VG_E_NOMEM;
        int n = snprintf((char *)t, 12, "%d", (int)req->status);
        struct vg_str v = vg_str_make(t, (size_t)n);
        const struct vg_str none = VG_STR_NULL;
        vg_xadd(&b, VG_F_STATUS, VG_DECODE_HEADER, none, none, v, v);
    }
    return b.st;
}

/* ---- the instance memo ------------------------------------------------------------------- */

/*
 * Performance note (the instance memo): field values repeat from line to line (user agents,
 * referers, paths, common arguments) and in most of them no condition can match. What the
 * per-instance work computes - its views, their Vectorscan candidates, the first conditions run
 * directly on it - depends on nothing but the instance's field, decode kind, names, raw and base
 * bytes, which together are its key. An instance whose key the memo holds is skipped by the
 * scans and by the first conditions run directly; conditions that read the whole request (chain
 * conditions, negated first conditions) still read it. An instance is remembered only when no
 * scan gave a candidate in it, no first condition held on it, its decoded views raised no decode
 * flag, and no first condition run directly held anywhere in the request (such a rule stops at
 * its first instance, so it did not look at the later ones). Keys are compared byte for byte:
 * the memo changes speed, never results.
 */

/* Appends a length and the bytes of v at k[at]; the new end. */
static size_t vg_xikey_put(uint8_t *k, size_t at, struct vg_str v)
{
    k[at] = (uint8_t)(v.n >> 8);
    k[at + 1] = (uint8_t)v.n;
    if (v.n)
        memcpy(k + at + 2, v.p, v.n);
    return at + 2 + v.n;
}

/* Instance in's key (field, kind, name, key, raw, base) into k: its length, 0 when longer
   than VG_XIMEMO_LEN. k has VG_XIMEMO_LEN bytes. */
static size_t vg_xikey(const struct vg_xinst *in, uint8_t *k)
{
    bool key_is_name = in->key.p == in->name.p && in->key.n == in->name.n;
    bool base_is_raw = in->base.p == in->raw.p && in->base.n == in->raw.n;
    size_t need = 2 + 8 + in->name.n + in->raw.n + (key_is_name ? 0 : in->key.n) +
                  (base_is_raw ? 0 : in->base.n);
    if (need > VG_XIMEMO_LEN)
        return 0;
    k[0] = in->field;
    k[1] = in->kind;
    size_t at = vg_xikey_put(k, 2, in->name);
    if (key_is_name) {
        k[at] = k[at + 1] = 0xff; /* longer than any key: "the name itself" */
        at += 2;
    } else {
        at = vg_xikey_put(k, at, in->key);
    }
    at = vg_xikey_put(k, at, in->raw);
    if (base_is_raw) {
        k[at] = k[at + 1] = 0xff;
        at += 2;
    } else {
        at = vg_xikey_put(k, at, in->base);
    }
    return at;
}

static size_t vg_ximemo_slot(uint64_t h)
{
    return (size_t)(h >> 1) & (VG_XIMEMO_SLOTS - 1);
}

/*
 * Looks every instance of the request up: sets in->clean, and in->ih / in->kp when it can be
 * remembered. Performance note: the keys are made and hashed first and their slots prefetched,
 * then compared, so the cache misses of a request's lookups overlap.
 */
static vg_status vg_ximemo_find(struct vg_xscratch *xs)
{
    for (size_t i = 0; i < xs->n_inst; i++) {
        struct vg_xinst *in = &xs->inst[i];
        in->ih = 0;
        in->kp = NULL;
        in->kn = 0;
        uint8_t *k = vg_xalloc(xs, VG_XIMEMO_LEN);
        if (!k)
            return VG_E_NOMEM;
        size_t n = vg_xikey(in, k);
        vg_xshrink(xs, k, VG_XIMEMO_LEN, n);
        if (n == 0)
            continue;
        in->kp = k;
        in->kn = n;
        in->ih = vg_hash64_mem(k, n, xs->seed ^ 0x696e7374u) | 1;
        const struct vg_ximemo *m = &xs->imemo[vg_ximemo_slot(in->ih)];
        __builtin_prefetch(m);
        __builtin_prefetch((const uint8_t *)m + 64);
    }
    for (size_t i = 0; i < xs->n_inst; i++) {
        struct vg_xinst *in = &xs->inst[i];
        size_t sl = vg_ximemo_slot(in->ih);
        in->clean = in->ih && xs->itag[sl] == in->ih && xs->imemo[sl].len == in->kn &&
                    memcmp(xs->imemo[sl].bytes, in->kp, in->kn) == 0;
    }
    return VG_OK;
}

/* Remembers the instances of this request that turned out clean (see the note above). */
static void vg_ximemo_keep(struct vg_xscratch *xs)
{
    if (xs->first_held)
        return;
    for (size_t i = 0; i < xs->n_inst; i++) {
        const struct vg_xinst *in = &xs->inst[i];
        if (in->clean || in->dirty || in->dflags || !in->ih)
            continue;
        size_t sl = vg_ximemo_slot(in->ih);
        xs->itag[sl] = in->ih;
        xs->imemo[sl].len = (uint16_t)in->kn;
        memcpy(xs->imemo[sl].bytes, in->kp, in->kn);
    }
}

/* ---- views ------------------------------------------------------------------------------- */

/*
 * True when chain ch gives instance in's base value itself (same bytes, no copy): the chain is
 * the identity or none of its steps may change the value (vg_tfn_may_change, remembered per
 * instance and transformation), or the raw / decoded view that is the base value. Performance
 * note: exactly the cases in which vg_xview shares the input.
 */
static bool vg_xsame(const struct vg_xchain *ch, struct vg_xinst *in)
{
    if (ch->t == VG_T_RAW || ch->t == VG_T_DECODED) {
        if (in->raw.p != in->base.p || in->raw.n != in->base.n)
            return false;
        return ch->t == VG_T_RAW || in->raw.n == 0 ||
               !vg_decode_needed((enum vg_decode_kind)in->kind, in->raw.p, in->raw.n);
    }
    if (ch->n_tfn == 0 || in->base.n == 0)
        return true;
#if VG_HAVE_TFN
    for (size_t k = 0; k < ch->n_tfn; k++) {
        int t = ch->tfn[k];
        if (t == VG_TFN_NONE)
            continue;
        if (t < 0 || t >= 64)
            return false;
        uint64_t bit = 1ull << t;
        if (!(in->tfn_known & bit)) {
            in->tfn_known |= bit;
            if (vg_tfn_may_change((enum vg_tfn)t, in->base.p, in->base.n))
                in->tfn_change |= bit;
        }
        if (in->tfn_change & bit)
            return false;
    }
    return true;
#else
    return false;
#endif
}

/* The view (instance i, chain c), made at most once per request; listed in xs->order (for
   explanations) when first asked for with record (the merged scans look at views early without
   listing them, so that the list stays in the order of the per-chain evaluation). */
static vg_status vg_xview_make(struct vg_detect_scratch *s, size_t i, uint32_t c,
                               struct vg_str *out, bool record)
{
    struct vg_xscratch *xs = s->x;
    const struct vg_xengine *x = s->det->x;
    struct vg_xview *v = &xs->views[i * x->n_chains + c];
    if (v->epoch == xs->epoch) {
        if (record && v->rec != xs->epoch) {
            v->rec = xs->epoch;
            xs->order[xs->n_order++] = (uint32_t)(i * x->n_chains + c);
        }
        *out = vg_str_make(v->p, v->n);
        return VG_OK;
    }
    struct vg_xinst *in = &xs->inst[i];
    const struct vg_xchain *ch = &x->chains[c];
    struct vg_str r = in->raw;
    if (ch->t == VG_T_RAW) {
        /* as logged */
    } else if (ch->t == VG_T_DECODED) {
        if (r.n && vg_decode_needed((enum vg_decode_kind)in->kind, r.p, r.n)) {
            uint8_t *o = vg_xalloc(xs, r.n);
            if (!o || vg_xwork(xs, r.n) != VG_OK)
                return VG_E_NOMEM;
            unsigned fl = 0;
            size_t n = vg_decode_chain((enum vg_decode_kind)in->kind, r.p, r.n, o, xs->work, &fl);
            if (n > r.n)
                n = r.n;
            s->dec_flags |= fl;
            in->dflags |= fl;
            vg_xshrink(xs, o, r.n, n);
            r = vg_str_make(o, n);
        }
    } else {
        r = in->base;
#if VG_HAVE_TFN
        if (ch->n_tfn && r.n && !vg_xsame(ch, in)) {
            enum vg_tfn tc[VG_RULE_MAX_TFN];
            for (size_t k = 0; k < ch->n_tfn; k++)
                tc[k] = (enum vg_tfn)ch->tfn[k];
            size_t cap = vg_tfn_chain_max_out(tc, ch->n_tfn, r.n);
            if (cap < r.n)
                cap = r.n;
            uint8_t *a = vg_xalloc(xs, cap);
            if (!a || vg_xwork(xs, cap) != VG_OK)
                return VG_E_NOMEM;
            const uint8_t *o = NULL;
            size_t on = 0;
            if (!vg_tfn_apply_chain(tc, ch->n_tfn, r.p, r.n, a, xs->work, cap, &o, &on) || !o ||
                on > cap) {
                vg_xshrink(xs, a, cap, 0);
            } else if (o == r.p) {
                vg_xshrink(xs, a, cap, 0); /* the chain changed nothing: share the input */
                r.n = on <= r.n ? on : r.n;
            } else {
                if (o != a)
                    memcpy(a, o, on);
                vg_xshrink(xs, a, cap, on);
                r = vg_str_make(a, on);
            }
        }
#endif
    }
    v->epoch = xs->epoch;
    v->rec = 0;
    v->mepoch = 0;
    v->p = r.p;
    v->n = r.n;
    if (record) {
        v->rec = xs->epoch;
        xs->order[xs->n_order++] = (uint32_t)(i * x->n_chains + c);
    }
    *out = r;
    return VG_OK;
}

static vg_status vg_xview(struct vg_detect_scratch *s, size_t i, uint32_t c, struct vg_str *out)
{
    return vg_xview_make(s, i, c, out, true);
}

bool vg_detect_view(const struct vg_detect_scratch *s, size_t i, enum vg_field *field,
                    struct vg_str *name, const char **view, struct vg_str *bytes)
{
    if (!s || !s->x || !s->det->x || s->replayed || i >= s->x->n_order)
        return false;
    const struct vg_xengine *x = s->det->x;
    uint32_t k = s->x->order[i];
    const struct vg_xinst *in = &s->x->inst[k / x->n_chains];
    const struct vg_xview *v = &s->x->views[k];
    *field = (enum vg_field)in->field;
    *name = in->name;
    *view = x->chains[k % x->n_chains].text;
    *bytes = vg_str_make(v->p, v->n);
    return true;
}

/* ---- evaluation -------------------------------------------------------------------------- */

/* True when condition c inspects instance in (field, header name, exclusions). Performance
   note: callers that walk every instance test c->ifields first, inline. */
static bool vg_xinst_ok(const struct vg_xcond *c, const struct vg_xinst *in)
{
    uint32_t bit = 1u << in->field;
    bool ok = (c->fields & bit) != 0;
    if (!ok && in->field == VG_F_HEADERS && (c->fields & (1u << VG_F_HEADER)))
        for (size_t k = 0; k < c->n_hdr && !ok; k++)
            ok = in->key.n == c->hdr_n[k] &&
                 vg_str_ieq(in->key, vg_str_make(c->hdr[k], c->hdr_n[k]));
    if (!ok)
        return false;
    for (size_t k = 0; k < c->n_excl; k++) {
        const struct vg_xexcl *e = &c->excl[k];
        if (!(e->fields & bit))
            continue;
        if (!e->re && vg_str_ieq(in->key, vg_str_make(e->name, e->n)))
            return false;
    }
    return true;
}

/* The regex exclusions of c that drop instance in (run with the scratch's match data). */
static bool vg_xexcluded_re(struct vg_detect_scratch *s, const struct vg_xcond *c,
                            const struct vg_xinst *in)
{
    uint32_t bit = 1u << in->field;
    for (size_t k = 0; k < c->n_excl; k++) {
        const struct vg_xexcl *e = &c->excl[k];
        size_t a, b;
        if (e->re && (e->fields & bit) && vg_pcre_run_code(e->re, s, in->key, &a, &b, false))
            return true;
    }
    return false;
}

/* The operator of c on subject (before negation); span of the match in [*a, *b). */
static bool vg_xop(struct vg_detect_scratch *s, const struct vg_xcond *c, struct vg_str v,
                   size_t *a, size_t *b)
{
    *a = *b = 0;
    switch ((enum vg_rule_op)c->op) {
    case VG_OP_REGEX:
        return vg_pcre_run_code(c->code, s, v, a, b, true);
    case VG_OP_PHRASES:
        for (size_t k = 0; k < c->n_phr; k++) {
            size_t at = vg_xfind(v.p, v.n, c->phr[k], c->phr_n[k], c->caseless);
            if (at != SIZE_MAX) {
                *a = at;
                *b = at + c->phr_n[k];
                return true;
            }
        }
        return false;
    case VG_OP_CONTAINS: {
        size_t at = vg_xfind(v.p, v.n, c->val, c->val_n, c->caseless);
        if (at == SIZE_MAX)
            return false;
        *a = at;
        *b = at + c->val_n;
        return true;
    }
    case VG_OP_BEGINS:
        *b = c->val_n;
        return v.n >= c->val_n && vg_xeq(v.p, c->val, c->val_n, c->caseless);
    case VG_OP_ENDS:
        *a = v.n >= c->val_n ? v.n - c->val_n : 0;
        *b = v.n;
        return v.n >= c->val_n && vg_xeq(v.p + v.n - c->val_n, c->val, c->val_n, c->caseless);
    case VG_OP_EQUALS:
        *b = v.n;
        return v.n == c->val_n && vg_xeq(v.p, c->val, c->val_n, c->caseless);
    case VG_OP_WITHIN: {
        if (v.n == 0)
            return false;
        /* the subject occurs in the value: search the (lower-cased) value for it */
        for (size_t i = 0; i + v.n <= c->val_n; i++) {
            size_t j = 0;
            while (j < v.n && (c->caseless ? vg_lc(v.p[j]) : v.p[j]) == c->val[i + j])
                j++;
            if (j == v.n) {
                *b = v.n;
                return true;
            }
        }
        return false;
    }
    case VG_OP_EQ:
    case VG_OP_NE:
    case VG_OP_GT:
    case VG_OP_GE:
    case VG_OP_LT:
    case VG_OP_LE: {
        long long x = vg_xnum(v), y = c->num;
        *b = v.n;
        switch ((enum vg_rule_op)c->op) {
        case VG_OP_EQ:
            return x == y;
        case VG_OP_NE:
            return x != y;
        case VG_OP_GT:
            return x > y;
        case VG_OP_GE:
            return x >= y;
        case VG_OP_LT:
            return x < y;
        default:
            return x <= y;
        }
    }
    case VG_OP_SQLI:
    case VG_OP_XSS: {
        char note[48];
        if (!vg_lex_verdict(s, (enum vg_rule_op)c->op, v, a, b, note, sizeof note))
            return false;
        size_t ci = (size_t)(c - s->det->x->conds);
        memcpy(s->x->notes[ci], note, sizeof note);
        if (*b > v.n)
            *b = v.n;
        if (*a > *b)
            *a = *b;
        return true;
    }
    default:
        return false;
    }
}

struct vg_xfound {
    size_t inst;      /* SIZE_MAX: none (a negated condition that holds) */
    struct vg_str subject;
    size_t a, b;
};

/* Evaluates condition c directly over every instance; *f says where it matched. */
static vg_status vg_xeval(struct vg_detect_scratch *s, const struct vg_xcond *c, bool *holds,
                          struct vg_xfound *f)
{
    struct vg_xscratch *xs = s->x;
    f->inst = SIZE_MAX;
    f->subject = (struct vg_str)VG_STR_NULL;
    f->a = f->b = 0;
    bool any = false;
    for (size_t i = 0; i < xs->n_inst && !any; i++) {
        const struct vg_xinst *in = &xs->inst[i];
        if (!(c->ifields & (1u << in->field)) || !vg_xinst_ok(c, in) ||
            (c->n_excl && vg_xexcluded_re(s, c, in)))
            continue;
        struct vg_str v;
        vg_status st = vg_xview(s, i, c->chain, &v);
        if (st != VG_OK)
            return st;
        size_t a, b;
        if (vg_xop(s, c, v, &a, &b)) {
            any = true;
            f->inst = i;
            f->subject = v;
            f->a = a;
            f->b = b;
        }
    }
    *holds = c->negate ? !any : any;
    if (c->negate)
        f->inst = SIZE_MAX;
    return VG_OK;
}

/* True when every chain condition of rule ri holds (remembered per request when not). */
static vg_status vg_xchain_ok(struct vg_detect_scratch *s, uint32_t ri, bool *ok)
{
    const struct vg_xengine *x = s->det->x;
    struct vg_xscratch *xs = s->x;
    *ok = xs->chain_fail[ri] != xs->epoch;
    for (uint32_t k = 1; *ok && k < x->count[ri]; k++) {
        struct vg_xfound f;
        vg_status st = vg_xeval(s, &x->conds[x->first[ri] + k], ok, &f);
        if (st != VG_OK)
            return st;
    }
    if (!*ok)
        xs->chain_fail[ri] = xs->epoch;
    return VG_OK;
}

/* Records rule ri's hit on instance inst (SIZE_MAX: a negated condition, no instance). */
static struct vg_hit *vg_xhit(struct vg_detect_scratch *s, const struct vg_xcond *c,
                              size_t inst, struct vg_str subject, size_t a, size_t b)
{
    const struct vg_xengine *x = s->det->x;
    enum vg_field field = VG_F_COUNT;
    struct vg_str name = VG_STR_NULL;
    if (inst != SIZE_MAX) {
        const struct vg_xinst *in = &s->x->inst[inst];
        field = (enum vg_field)in->field;
        name = in->name;
        if (field == VG_F_HEADERS && !(c->fields & (1u << VG_F_HEADERS)))
            field = VG_F_HEADER;
    } else {
        for (int f = 0; f < VG_F_COUNT && field == VG_F_COUNT; f++)
            if (c->fields & (1u << f))
                field = (enum vg_field)f;
        if (field == VG_F_HEADER && c->n_hdr)
            name = vg_str_make(c->hdr[0], strlen(c->hdr[0]));
        subject = (struct vg_str)VG_STR_NULL;
        a = b = 0;
    }
    if (b > subject.n)
        b = subject.n;
    if (a > b)
        a = b;
    const struct vg_xchain *ch = &x->chains[c->chain];
    struct vg_hit *h = vg_record_hit(s, c->rule, field, ch->t, name, subject, b);
    h->match_start = a;
    h->view = ch->text;
    if (c->op == VG_OP_SQLI || c->op == VG_OP_XSS)
        h->note = s->x->notes[c - x->conds];
    return h;
}

struct vg_xscan_ctx {
    const struct vg_xengine *x;
    struct vg_cand *cand;
    uint32_t n_cand;
};

/* Collects every match (the instance's fields and fired rules are filtered afterwards, so
   that the result depends on the bytes alone and can be remembered). */
static int vg_xon_match(unsigned int id, unsigned long long from, unsigned long long to,
                        unsigned int flags, void *ctx)
{
    VG_UNUSED(from);
    VG_UNUSED(flags);
    struct vg_xscan_ctx *c = ctx;
    if (VG_NEVER(id >= c->x->n_conds))
        return 0;
    for (uint32_t k = 0; k < c->n_cand; k++)
        if (c->cand[k].rule == id)
            return 0; /* phrases share an id: once is enough */
    c->cand[c->n_cand].rule = id;
    c->cand[c->n_cand].end = (uint32_t)(to > UINT32_MAX ? UINT32_MAX : to);
    c->n_cand++;
    return 0;
}

/*
 * The Vectorscan matches of chain c's database in view v, into xs->cand[0, *n): remembered
 * for short views (Performance note: field values repeat from line to line; a remembered view
 * costs a hash. Entries are verified byte for byte, so the memo changes speed, never results).
 */
static vg_status vg_xmatches(struct vg_detect_scratch *s, const hs_database_t *db, uint32_t c,
                             struct vg_xinst *in, struct vg_str v, uint32_t *n)
{
    const struct vg_xengine *x = s->det->x;
    struct vg_xscratch *xs = s->x;
    struct vg_xmemo *m = NULL;
    uint64_t h = 0;
    if (v.n <= VG_XMEMO_LEN) {
        /* Performance note: chains that change nothing share the instance's bytes; their hash
           is computed once per instance and the chain mixed in. */
        if (in->hp != v.p || in->hn != v.n) {
            in->hp = v.p;
            in->hn = v.n;
            in->h0 = vg_hash64_mem(v.p, v.n, xs->seed);
        }
        h = (in->h0 ^ ((uint64_t)(c + 1) * 0x9e3779b97f4a7c15ull)) | 1;
        m = &xs->memo[(h >> 1) & (VG_XMEMO_SLOTS - 1)];
        if (m->hash == h && m->len == v.n && m->chain == c && memcmp(m->bytes, v.p, v.n) == 0) {
            for (unsigned k = 0; k < m->n; k++) {
                xs->cand[k].rule = m->id[k];
                xs->cand[k].end = m->end[k];
            }
            *n = m->n;
            return VG_OK;
        }
    }
    struct vg_xscan_ctx ctx = {x, xs->cand, 0};
    vg_status st = vg_hs_scan(s, db, v, vg_xon_match, &ctx);
    if (st != VG_OK)
        return st;
    *n = ctx.n_cand;
    if (m && ctx.n_cand <= VG_XMEMO_IDS) {
        m->hash = h;
        m->len = (uint16_t)v.n;
        m->chain = (uint16_t)c;
        m->n = (uint8_t)ctx.n_cand;
        for (unsigned k = 0; k < ctx.n_cand; k++) {
            m->id[k] = xs->cand[k].rule;
            m->end[k] = xs->cand[k].end;
        }
        memcpy(m->bytes, v.p, v.n);
    } else if (m && m->hash == h) {
        m->hash = 0;
    }
    return VG_OK;
}

/* True when chain ch's database inspects instance in (its fields; headers some condition names). */
static bool vg_xchain_wants(const struct vg_xchain *ch, const struct vg_xinst *in)
{
    if (!ch->db || !(ch->db_fields & (1u << in->field)))
        return false;
    if (in->field != VG_F_HEADERS || ch->all_headers)
        return true;
    for (size_t l = 0; l < ch->n_hdr_lists; l++)
        for (size_t k = 0; k < ch->n_hdr[l]; k++)
            if (vg_str_ieq(in->key, vg_str_make(ch->hdr[l][k], strlen(ch->hdr[l][k]))))
                return true;
    return false;
}

/*
 * The merged scans: each instance that at least two chains' databases inspect and leave
 * unchanged (vg_xsame) is scanned once with the merged database; its candidates are kept in
 * xs->mc and handed out per chain by the chain loop, in the same order of chains and instances
 * as the per-chain scans, so the results (and the order of views and hits) do not change.
 */
/* The chains whose database inspects instance in, as a mask (x->masks): vg_xchain_wants. */
static uint64_t vg_xwants(const struct vg_xengine *x, const struct vg_xinst *in)
{
    uint64_t m = x->fchains[in->field];
    if (in->field == VG_F_HEADERS)
        for (size_t h = 0; h < x->n_hname; h++)
            if (in->key.n == x->hname_n[h] &&
                vg_str_ieq(in->key, vg_str_make(x->hname[h], x->hname_n[h])))
                m |= x->hmask[h];
    return m;
}

static vg_status vg_xmerged(struct vg_detect_scratch *s)
{
    const struct vg_xengine *x = s->det->x;
    struct vg_xscratch *xs = s->x;
    xs->mc_n = 0;
    if (!x->masks)
        return VG_OK;
    for (size_t i = 0; i < xs->n_inst; i++) {
        struct vg_xinst *in = &xs->inst[i];
        in->wmask = in->clean ? 0 : vg_xwants(x, in);
        const hs_database_t *mdb = x->mdb[in->field];
        if (!mdb || (in->wmask & (in->wmask - 1)) == 0)
            continue;
        /* the distinct views of the chains that inspect it, and the chains giving each */
        struct {
            struct vg_str v;
            uint64_t m;
        } g[64];
        unsigned ng = 0;
        for (uint64_t w = in->wmask; w; w &= w - 1) {
            uint32_t c = (uint32_t)__builtin_ctzll(w);
            struct vg_str v;
            vg_status st = vg_xview_make(s, i, c, &v, false);
            if (st != VG_OK)
                return st;
            if (v.n == 0)
                continue;
            unsigned k = 0;
            while (k < ng && !(g[k].v.n == v.n &&
                               (g[k].v.p == v.p || memcmp(g[k].v.p, v.p, v.n) == 0)))
                k++;
            if (k == ng) {
                g[ng].v = v;
                g[ng++].m = 0;
            }
            g[k].m |= 1ull << c;
        }
        for (unsigned k = 0; k < ng; k++) {
            if ((g[k].m & (g[k].m - 1)) == 0)
                continue; /* one chain: its own database is smaller */
            if (xs->mc_cap - xs->mc_n < x->n_conds) {
                size_t cap = xs->mc_cap ? xs->mc_cap : 256;
                while (cap - xs->mc_n < x->n_conds)
                    cap *= 2;
                struct vg_cand *nc = vg_realloc(xs->mc, cap * sizeof(*nc));
                if (!nc)
                    return VG_E_NOMEM;
                xs->mc = nc;
                xs->mc_cap = cap;
            }
            uint32_t n = 0;
            vg_status st = vg_xmatches(s, mdb, (uint32_t)(x->n_chains + in->field), in, g[k].v,
                                       &n);
            if (st != VG_OK)
                return st;
            memcpy(xs->mc + xs->mc_n, xs->cand, n * sizeof(*xs->cand));
            for (uint64_t w = g[k].m; w; w &= w - 1) {
                struct vg_xview *vw = &xs->views[i * x->n_chains + (size_t)__builtin_ctzll(w)];
                vw->mepoch = xs->epoch;
                vw->moff = (uint32_t)xs->mc_n;
                vw->mn = n;
            }
            xs->mc_n += n;
        }
    }
    return VG_OK;
}

uint32_t vg_xengine_fields(const struct vg_xengine *x)
{
    return x ? x->fields : 0;
}

vg_status vg_xengine_run(struct vg_detect_scratch *s)
{
    const struct vg_detector *det = s->det;
    const struct vg_xengine *x = det->x;
    struct vg_xscratch *xs = s->x;
    if (!x || !xs)
        return VG_OK;
    if (++xs->epoch == 0) {
        memset(xs->chain_fail, 0, (det->n_rules ? det->n_rules : 1) * sizeof(*xs->chain_fail));
        for (size_t i = 0; xs->views && i < xs->cap_views * x->n_chains; i++)
            xs->views[i].epoch = xs->views[i].rec = xs->views[i].mepoch = 0;
        xs->epoch = 1;
    }
    for (size_t i = 0; i < xs->n_blk; i++)
        xs->blk[i].used = 0;
    xs->cur = 0;
    xs->n_order = 0;
    vg_status st = vg_xbuild_instances(s);
    if (st != VG_OK)
        return st;
    xs->first_held = false;
    st = vg_ximemo_find(xs);
    if (st != VG_OK)
        return st;
    if (xs->cap_views < xs->cap_inst || !xs->views) {
        size_t ci = xs->cap_inst ? xs->cap_inst : 1;
        if (ci > SIZE_MAX / sizeof(struct vg_xview) / x->n_chains)
            return VG_E_NOMEM;
        size_t n = ci * x->n_chains;
        struct vg_xview *nv = vg_realloc(xs->views, n * sizeof(*nv));
        if (!nv)
            return VG_E_NOMEM;
        xs->views = nv;
        xs->cap_views = 0; /* until order has grown too */
        uint32_t *no = vg_realloc(xs->order, n * sizeof(*no));
        if (!no)
            return VG_E_NOMEM;
        xs->order = no;
        uint32_t *na = vg_realloc(xs->act, ci * sizeof(*na));
        if (!na)
            return VG_E_NOMEM;
        xs->act = na;
        memset(xs->views, 0, n * sizeof(*nv)); /* epochs restart: every view stale */
        xs->cap_views = ci;
    }

    st = vg_xmerged(s);
    if (st != VG_OK)
        return st;
    xs->n_act = 0;
    for (size_t i = 0; i < xs->n_inst; i++)
        if (!xs->inst[i].clean)
            xs->act[xs->n_act++] = (uint32_t)i;
    /* Vectorscan: each chain's database over the instances of its fields. */
    for (uint32_t c = 0; c < x->n_chains; c++) {
        const struct vg_xchain *ch = &x->chains[c];
        if (!ch->db)
            continue;
        for (size_t ai = 0; ai < xs->n_act; ai++) {
            size_t i = xs->act[ai];
            struct vg_xinst *in = &xs->inst[i];
            uint32_t bit = 1u << in->field;
            if (x->masks ? !((in->wmask >> c) & 1) : !vg_xchain_wants(ch, in))
                continue;
            struct vg_str v;
            st = vg_xview(s, i, c, &v);
            if (st != VG_OK)
                return st;
            if (v.n == 0)
                continue;
            if (in->field == VG_F_HEADERS)
                bit |= 1u << VG_F_HEADER;
            uint32_t n_cand = 0;
            const struct vg_xview *vw = &xs->views[i * x->n_chains + c];
            if (vw->mepoch == xs->epoch) {
                for (uint32_t k = vw->moff; k < vw->moff + vw->mn; k++)
                    if (x->conds[xs->mc[k].rule].chain == c)
                        xs->cand[n_cand++] = xs->mc[k];
            } else {
                st = vg_xmatches(s, ch->db, c, in, v, &n_cand);
                if (st != VG_OK)
                    return st;
            }
            if (n_cand)
                in->dirty = true;
            for (uint32_t k = 0; k < n_cand; k++) {
                const struct vg_xcond *xc = &x->conds[xs->cand[k].rule];
                if (!(xc->fields & bit) || s->fired[xc->rule] == s->epoch ||
                    !vg_xinst_ok(xc, in) ||
                    (xc->n_excl && vg_xexcluded_re(s, xc, in)))
                    continue;
                size_t a = xs->cand[k].end, b = xs->cand[k].end;
                if (xc->mode == VG_XM_VS_PRE || xc->op != VG_OP_REGEX) {
                    /* confirm (prefilter) or find the span (literals) */
                    if (!vg_xop(s, xc, v, &a, &b))
                        continue;
                } else if (!vg_pcre_run_code(xc->code, s, v, &a, &b, true)) {
                    a = b = xs->cand[k].end; /* exact already: PCRE2 only gives the span */
                }
                bool ok;
                st = vg_xchain_ok(s, xc->rule, &ok);
                if (st != VG_OK)
                    return st;
                if (ok)
                    vg_xhit(s, xc, i, v, a, b);
            }
        }
    }
    /* Rules whose first condition runs directly. */
    for (size_t k = 0; k < x->n_direct; k++) {
        uint32_t ri = x->direct[k];
        if (s->fired[ri] == s->epoch)
            continue;
        const struct vg_xcond *xc = &x->conds[x->first[ri]];
        if (!xc->negate) {
            /* every instance, so that one an allowlist allows does not hide the others */
            for (size_t ai = 0; ai < xs->n_act && s->fired[ri] != s->epoch; ai++) {
                size_t i = xs->act[ai];
                struct vg_xinst *in = &xs->inst[i];
                if (!(xc->ifields & (1u << in->field)) || !vg_xinst_ok(xc, in) ||
                    (xc->n_excl && vg_xexcluded_re(s, xc, in)))
                    continue;
                struct vg_str v;
                size_t a, b;
                st = vg_xview(s, i, xc->chain, &v);
                if (st != VG_OK)
                    return st;
                if (!vg_xop(s, xc, v, &a, &b))
                    continue;
                in->dirty = true;
                xs->first_held = true;
                bool ok;
                st = vg_xchain_ok(s, ri, &ok);
                if (st != VG_OK)
                    return st;
                if (!ok)
                    break;
                vg_xhit(s, xc, i, v, a, b);
            }
            continue;
        }
        bool holds;
        struct vg_xfound f;
        st = vg_xeval(s, xc, &holds, &f);
        if (st != VG_OK)
            return st;
        if (!holds)
            continue;
        bool ok;
        st = vg_xchain_ok(s, ri, &ok);
        if (st != VG_OK)
            return st;
        if (ok)
            vg_xhit(s, xc, f.inst, f.subject, f.a, f.b);
    }
    vg_ximemo_keep(xs);
    return VG_OK;
}
