/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_sigma.c: Sigma `webserver` rules translated into native rules (detect stage, load time).
 *
 * Per Sigma rule: the detection section becomes a small expression graph (atoms: one native
 * regex condition on one set of fields; AND, OR, NOT, TRUE, FALSE), the condition string is
 * parsed over it, the result is brought to disjunctive normal form, and every conjunction is
 * written as one native rule (first positive atom + `chain`) in JSON-style flow YAML. The mapping
 * and its reasons are in docs/sigma.md.
 *
 * Invariants: translation never fails on rule content (a rule it cannot translate faithfully is
 * skipped with a reason); only memory and size limits are errors. The emitted text is ASCII, its
 * strings double-quoted with YAML escapes, so attacker- or author-controlled text cannot change
 * the structure of the native rule file.
 *
 * Security note: Sigma files may come from anywhere. The walk over a YAML document has a fixed
 * depth (detection -> selection -> [list ->] map -> values), so YAML aliases cannot make it loop;
 * atoms, selections, conjunctions, literals per conjunction and condition nesting are capped;
 * `re` patterns are compiled with PCRE2 before they are emitted, so one bad pattern skips one
 * rule instead of failing the whole rule set.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <yaml.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/core.h"
#include "detect/detect.h"
#include "detect/detect_sigma.h"

#define SG_MAX_ATOMS 256u   /* atoms per Sigma rule */
#define SG_MAX_NODES 4096u  /* expression nodes per Sigma rule */
#define SG_MAX_SELS 128u    /* named selections per Sigma rule */
#define SG_MAX_LITS 32u     /* atoms in one conjunction */
#define SG_MAX_DEPTH 32     /* nesting of the condition */
#define SG_MAX_VALUES 4096u /* values under one key */
#define SG_MAX_REFS 24u     /* references kept per rule */
#define SG_TEXT_MAX 60000u  /* longest regex or string emitted (the loader's cap is 65536) */
#define SG_FILE_MAX ((size_t)4 << 20) /* largest Sigma file read */
#define SG_MAX_DIR_DEPTH 16           /* directory recursion */

/* ---- result ------------------------------------------------------------------------------ */

struct sg_priv {
    struct vg_buf body; /* the rule entries emitted so far (after "rules:\n") */
};

void vg_sigma_result_init(struct vg_sigma_result *res)
{
    memset(res, 0, sizeof(*res));
}

void vg_sigma_result_fini(struct vg_sigma_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->n_skipped; i++) {
        vg_free(res->skipped[i].path);
        vg_free(res->skipped[i].id);
        vg_free(res->skipped[i].title);
        vg_free(res->skipped[i].reason);
    }
    vg_free(res->skipped);
    for (size_t i = 0; i < res->n_rules; i++) {
        vg_free(res->rules[i].path);
        vg_free(res->rules[i].id);
        vg_free(res->rules[i].title);
        vg_free(res->rules[i].author);
    }
    vg_free(res->rules);
    struct sg_priv *p = res->priv;
    if (p) {
        vg_buf_fini(&p->body);
        vg_free(p);
    }
    vg_free(res->yaml);
    memset(res, 0, sizeof(*res));
}

static char *sg_dup0(const char *s)
{
    return vg_strdup(s ? s : "");
}

static vg_status sg_add_skip(struct vg_sigma_result *res, const char *path, const char *id,
                             const char *title, const char *reason)
{
    if (res->n_skipped >= 100000u)
        return VG_E_LIMIT;
    struct vg_sigma_skip *p = vg_realloc(res->skipped, (res->n_skipped + 1) * sizeof(*p));
    if (!p)
        return VG_E_NOMEM;
    res->skipped = p;
    struct vg_sigma_skip *s = &p[res->n_skipped];
    s->path = sg_dup0(path);
    s->id = sg_dup0(id);
    s->title = sg_dup0(title);
    s->reason = sg_dup0(reason);
    res->n_skipped++;
    if (!s->path || !s->id || !s->title || !s->reason)
        return VG_E_NOMEM;
    return VG_OK;
}

/* ---- small YAML helpers ------------------------------------------------------------------ */

static bool sg_is_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE;
}

/* Plain null: empty, ~, null (any case). */
static bool sg_is_null(const yaml_node_t *n)
{
    if (!sg_is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    return len == 0 || (len == 1 && s[0] == '~') || (len == 4 && strncasecmp(s, "null", 4) == 0);
}

static bool sg_scalar_eq(const yaml_node_t *n, const char *lit)
{
    size_t len = strlen(lit);
    return sg_is_scalar(n) && n->data.scalar.length == len &&
           strncasecmp((const char *)n->data.scalar.value, lit, len) == 0;
}

/* Value of key `key` in mapping `map`; NULL when absent or map is not a mapping. */
static yaml_node_t *sg_map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    size_t len = strlen(key);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (sg_is_scalar(k) && k->data.scalar.length == len &&
            memcmp(k->data.scalar.value, key, len) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* NUL-terminated copy of a scalar's text ("" for anything else); NULL only on NOMEM. */
static char *sg_scalar_dup(const yaml_node_t *n)
{
    if (!sg_is_scalar(n) || sg_is_null(n))
        return vg_strdup("");
    return vg_strndup((const char *)n->data.scalar.value, n->data.scalar.length);
}

/* ---- expression graph -------------------------------------------------------------------- */

enum sg_kind { SG_ATOM, SG_AND, SG_OR, SG_NOT, SG_TRUE, SG_FALSE };

struct sg_node {
    enum sg_kind k;
    int a, b; /* ATOM: a = atom; NOT: a; AND, OR: a, b */
};

struct sg_atom {
    const char *fields; /* native field list, e.g. "[target]" (static text) */
    char *regex;        /* owned */
    bool caseless;
    int weight; /* how selective (longest literal that must occur); picks the first atom */
};

struct sg_sel {
    char *name;
    int node;
};

struct sg_ctx {
    yaml_document_t *doc;
    struct sg_atom atoms[SG_MAX_ATOMS];
    size_t n_atoms;
    struct sg_node nodes[SG_MAX_NODES];
    size_t n_nodes;
    struct sg_sel sels[SG_MAX_SELS];
    size_t n_sels;
    char reason[300];     /* why the rule is skipped (first reason wins) */
    char unavailable[80]; /* a field vigil does not read, met in the detection */
    vg_status st;         /* VG_E_NOMEM */
    /* the condition being parsed */
    const char *cp;
    const char *cend;
    int depth;
};

static void sg_ctx_fini(struct sg_ctx *c)
{
    for (size_t i = 0; i < c->n_atoms; i++)
        vg_free(c->atoms[i].regex);
    for (size_t i = 0; i < c->n_sels; i++)
        vg_free(c->sels[i].name);
}

static int sg_fail(struct sg_ctx *c, const char *fmt, ...) VG_PRINTF(2, 3);

/* Records the skip reason (the first one wins); returns -1 for the callers' convenience. */
static int sg_fail(struct sg_ctx *c, const char *fmt, ...)
{
    if (!c->reason[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->reason, sizeof c->reason, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int sg_nomem(struct sg_ctx *c)
{
    c->st = VG_E_NOMEM;
    return sg_fail(c, "out of memory");
}

static int sg_node(struct sg_ctx *c, enum sg_kind k, int a, int b)
{
    if (a < -1 || b < -1)
        return -1;
    if (c->n_nodes >= SG_MAX_NODES)
        return sg_fail(c, "detection too large (more than %u expression nodes)", SG_MAX_NODES);
    c->nodes[c->n_nodes] = (struct sg_node){k, a, b};
    return (int)c->n_nodes++;
}

/* AND/OR of two nodes, with TRUE/FALSE folded. */
static int sg_bin(struct sg_ctx *c, enum sg_kind k, int a, int b)
{
    if (a < 0 || b < 0)
        return -1;
    enum sg_kind ka = c->nodes[a].k, kb = c->nodes[b].k;
    if (k == SG_AND) {
        if (ka == SG_FALSE || kb == SG_TRUE)
            return a;
        if (kb == SG_FALSE || ka == SG_TRUE)
            return b;
    } else {
        if (ka == SG_TRUE || kb == SG_FALSE)
            return a;
        if (kb == SG_TRUE || ka == SG_FALSE)
            return b;
    }
    return sg_node(c, k, a, b);
}

static int sg_not(struct sg_ctx *c, int a)
{
    if (a < 0)
        return -1;
    if (c->nodes[a].k == SG_TRUE)
        return sg_node(c, SG_FALSE, -1, -1);
    if (c->nodes[a].k == SG_FALSE)
        return sg_node(c, SG_TRUE, -1, -1);
    if (c->nodes[a].k == SG_NOT)
        return c->nodes[a].a;
    return sg_node(c, SG_NOT, a, -1);
}

/* Adds an atom (takes ownership of regex) and returns its node. */
static int sg_atom(struct sg_ctx *c, const char *fields, char *regex, bool caseless, int weight)
{
    if (!regex)
        return sg_nomem(c);
    for (size_t i = 0; i < c->n_atoms; i++) { /* the same condition twice is one atom */
        if (c->atoms[i].fields == fields && c->atoms[i].caseless == caseless &&
            strcmp(c->atoms[i].regex, regex) == 0) {
            vg_free(regex);
            for (size_t j = 0; j < c->n_nodes; j++)
                if (c->nodes[j].k == SG_ATOM && c->nodes[j].a == (int)i)
                    return (int)j;
            return sg_node(c, SG_ATOM, (int)i, -1);
        }
    }
    if (c->n_atoms >= SG_MAX_ATOMS) {
        vg_free(regex);
        return sg_fail(c, "detection too large (more than %u conditions)", SG_MAX_ATOMS);
    }
    if (strlen(regex) > SG_TEXT_MAX) {
        vg_free(regex);
        return sg_fail(c, "a condition is longer than %u bytes as a regex", SG_TEXT_MAX);
    }
    c->atoms[c->n_atoms] = (struct sg_atom){fields, regex, caseless, weight};
    return sg_node(c, SG_ATOM, (int)c->n_atoms++, -1);
}

/* ---- fields ------------------------------------------------------------------------------ */

/* Native field lists (static, compared by pointer to merge equal atoms). */
static const char SG_F_METHOD[] = "[method]";
static const char SG_F_PATH[] = "[path]";
static const char SG_F_TARGET[] = "[target]";
static const char SG_F_TARGET_QUERY[] = "[target, query]";
static const char SG_F_QUERY[] = "[query]";
static const char SG_F_STATUS[] = "[status]";
static const char SG_F_UA[] = "[user_agent]";
static const char SG_F_REFERER[] = "[referer]";
static const char SG_F_HOST[] = "[host]";
static const char SG_F_COOKIE[] = "[cookie]";
static const char SG_F_CTYPE[] = "[content_type]";
static const char SG_F_PROTOCOL[] = "[protocol]";
static const char SG_F_LINE[] = "[line]";

enum sg_match { SG_M_CONTAINS, SG_M_STARTS, SG_M_ENDS, SG_M_EXACT, SG_M_RE };

/*
 * A Sigma webserver field: where its values are matched (per match kind), and where `null` is
 * checked. NULL fields: a field vigil does not read (treated as absent).
 */
struct sg_field_map {
    const char *sigma;
    const char *contains; /* contains, endswith */
    const char *anchored; /* startswith, exact, re */
    const char *null;     /* null, exists */
    int weight_penalty;   /* fields whose values are short and common (method, status) */
};

/*
 * cs-uri-query: the README of the test set explains the ambiguity. vigil reads it as "the whole
 * request target, or the query string": contains/endswith on the target (which holds the query),
 * startswith/exact/re on either, null = no query string.
 */
static const struct sg_field_map sg_fields[] = {
    {"cs-method", SG_F_METHOD, SG_F_METHOD, SG_F_METHOD, 1},
    {"cs-uri-stem", SG_F_PATH, SG_F_PATH, SG_F_PATH, 0},
    {"cs-uri-query", SG_F_TARGET, SG_F_TARGET_QUERY, SG_F_QUERY, 0},
    {"cs-uri", SG_F_TARGET, SG_F_TARGET, SG_F_TARGET, 0},
    {"sc-status", SG_F_STATUS, SG_F_STATUS, SG_F_STATUS, 1},
    {"cs-user-agent", SG_F_UA, SG_F_UA, SG_F_UA, 0},
    {"c-useragent", SG_F_UA, SG_F_UA, SG_F_UA, 0},
    {"cs-referer", SG_F_REFERER, SG_F_REFERER, SG_F_REFERER, 0},
    {"cs-referrer", SG_F_REFERER, SG_F_REFERER, SG_F_REFERER, 0},
    {"cs-host", SG_F_HOST, SG_F_HOST, SG_F_HOST, 0},
    {"cs-cookie", SG_F_COOKIE, SG_F_COOKIE, SG_F_COOKIE, 0},
    {"cs-content-type", SG_F_CTYPE, SG_F_CTYPE, SG_F_CTYPE, 0},
    {"cs-version", SG_F_PROTOCOL, SG_F_PROTOCOL, SG_F_PROTOCOL, 1},
    /* read by vigil's log parsers, but not a field of native rules (yet): absent */
    {"cs-username", NULL, NULL, NULL, 0},
};

/* ---- values to regexes ------------------------------------------------------------------- */

/* A regex literal byte. Bytes outside printable ASCII are \xHH (patterns match bytes). */
static void sg_put_lit(struct vg_buf *b, unsigned char ch)
{
    if (isalnum(ch) || strchr("_/-% =&,:;@!~'\"<>`#", ch) != NULL) {
        if (ch)
            vg_bputc(b, (char)ch);
        else
            vg_bputs(b, "\\x00");
    } else if (ch > 0x20 && ch < 0x7f) {
        vg_bputc(b, '\\');
        vg_bputc(b, (char)ch);
    } else {
        vg_bprintf(b, "\\x%02x", ch);
    }
}

enum { SG_TOK_LIT, SG_TOK_STAR, SG_TOK_QMARK };

/*
 * Appends the regex of one Sigma value (wildcards * and ?, escapes \* \? \\; a backslash before
 * anything else is itself) matched as `m` (not SG_M_RE). Sets *any when the value matches every
 * non-null text (e.g. "*"), *longest to its longest literal run.
 */
static void sg_value_regex(struct vg_buf *b, const char *v, size_t n, enum sg_match m, bool *any,
                           int *longest)
{
    /* tokenize into (kind, byte) */
    unsigned char *kind = vg_malloc(n + 1), *byte = vg_malloc(n + 1);
    if (!kind || !byte) {
        vg_free(kind);
        vg_free(byte);
        b->err = VG_E_NOMEM;
        return;
    }
    size_t t = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch == '\\' && i + 1 < n && (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
            kind[t] = SG_TOK_LIT;
            byte[t++] = (unsigned char)v[++i];
        } else if (ch == '*') {
            if (t == 0 || kind[t - 1] != SG_TOK_STAR) /* ** is * */
                kind[t] = SG_TOK_STAR, byte[t++] = 0;
        } else if (ch == '?') {
            kind[t] = SG_TOK_QMARK, byte[t++] = 0;
        } else {
            kind[t] = SG_TOK_LIT, byte[t++] = ch;
        }
    }
    bool anchor_start = m == SG_M_STARTS || m == SG_M_EXACT;
    bool anchor_end = m == SG_M_ENDS || m == SG_M_EXACT;
    size_t lo = 0, hi = t;
    if (lo < hi && kind[lo] == SG_TOK_STAR)
        lo++, anchor_start = false;
    while (!anchor_start && lo < hi && kind[lo] == SG_TOK_STAR)
        lo++;
    if (hi > lo && kind[hi - 1] == SG_TOK_STAR)
        hi--, anchor_end = false;
    bool has_match = false;
    int run = 0;
    *longest = 0;
    for (size_t i = lo; i < hi; i++) {
        if (kind[i] != SG_TOK_STAR)
            has_match = true;
        if (kind[i] == SG_TOK_LIT) {
            if (++run > *longest)
                *longest = run;
        } else {
            run = 0;
        }
    }
    *any = !has_match;
    if (!has_match) {
        vg_free(kind);
        vg_free(byte);
        return;
    }
    if (anchor_start)
        vg_bputc(b, '^');
    for (size_t i = lo; i < hi; i++) {
        if (kind[i] == SG_TOK_STAR)
            vg_bputs(b, ".*");
        else if (kind[i] == SG_TOK_QMARK)
            vg_bputc(b, '.');
        else
            sg_put_lit(b, byte[i]);
    }
    if (anchor_end)
        vg_bputc(b, '$');
    vg_free(kind);
    vg_free(byte);
}

/* A field holds a value: a character other than '-', or "--" (a lone "-" is "not logged"). */
#define SG_NONNULL_REGEX "[^-]|--"

/*
 * Compiles a Sigma `re` pattern with PCRE2 as vigil will (caseless or not); false with a reason
 * when it does not compile or matches the empty string (which native rules refuse).
 */
static bool sg_check_re(struct sg_ctx *c, const char *re, bool caseless)
{
    int ec = 0;
    PCRE2_SIZE eo = 0;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                                     caseless ? PCRE2_CASELESS : 0, &ec, &eo, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        sg_fail(c, "`re` pattern does not compile: %s at offset %zu", (const char *)msg,
                (size_t)eo);
        return false;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    int rc = md ? pcre2_match(code, (PCRE2_SPTR) "", 0, 0, 0, md, NULL) : -1;
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    if (rc >= 0) {
        sg_fail(c, "`re` pattern matches the empty string");
        return false;
    }
    return true;
}

struct sg_mods {
    enum sg_match m;
    bool all, cased, exists, re_i, re_m, re_s;
};

/* Parses "contains|all" ...; false with a reason for modifiers vigil does not translate. */
static bool sg_parse_mods(struct sg_ctx *c, const char *s, size_t n, struct sg_mods *out)
{
    memset(out, 0, sizeof(*out));
    out->m = SG_M_EXACT;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '|')
            j++;
        size_t len = j - i;
        const char *w = s + i;
#define SG_IS(lit) (len == sizeof(lit) - 1 && strncasecmp(w, lit, len) == 0)
        if (SG_IS("contains"))
            out->m = SG_M_CONTAINS;
        else if (SG_IS("startswith"))
            out->m = SG_M_STARTS;
        else if (SG_IS("endswith"))
            out->m = SG_M_ENDS;
        else if (SG_IS("re"))
            out->m = SG_M_RE;
        else if (SG_IS("all"))
            out->all = true;
        else if (SG_IS("cased"))
            out->cased = true;
        else if (SG_IS("exists"))
            out->exists = true;
        else if (SG_IS("i") && out->m == SG_M_RE)
            out->re_i = true;
        else if (SG_IS("m") && out->m == SG_M_RE)
            out->re_m = true;
        else if (SG_IS("s") && out->m == SG_M_RE)
            out->re_s = true;
        else {
            char shown[40];
            size_t k = 0;
            for (; k < len && k < sizeof shown - 1; k++)
                shown[k] = isprint((unsigned char)w[k]) ? w[k] : '?';
            shown[k] = 0;
            sg_fail(c, "unsupported modifier `%s`", shown);
            return false;
        }
#undef SG_IS
        i = j + 1;
    }
    return true;
}

/* The regex of one or more values matched alike (OR), as one atom node. */
static int sg_match_atom(struct sg_ctx *c, const struct sg_field_map *f, const struct sg_mods *md,
                         const yaml_node_t *const *vals, size_t n)
{
    const char *fields = md->m == SG_M_CONTAINS || md->m == SG_M_ENDS ? f->contains : f->anchored;
    struct vg_buf b;
    vg_buf_init(&b, (size_t)SG_TEXT_MAX * 2);
    int weight = 1 << 20;
    bool any = false;
    bool caseless = !md->cased;
    if (md->m == SG_M_RE) {
        caseless = md->re_i;
        if (md->re_m || md->re_s)
            vg_bprintf(&b, "(?%s%s)", md->re_m ? "m" : "", md->re_s ? "s" : "");
        for (size_t i = 0; i < n; i++) {
            const char *v = (const char *)vals[i]->data.scalar.value;
            size_t len = vals[i]->data.scalar.length;
            if (memchr(v, 0, len)) {
                vg_buf_fini(&b);
                return sg_fail(c, "`re` pattern contains a NUL byte");
            }
            if (n > 1)
                vg_bputs(&b, i ? "|(?:" : "(?:");
            vg_bput(&b, v, len);
            if (n > 1)
                vg_bputc(&b, ')');
        }
        weight = 0;
    } else {
        for (size_t i = 0; i < n && !any; i++) {
            size_t mark = b.n;
            if (i)
                vg_bputc(&b, '|');
            int longest = 0;
            bool a = false;
            sg_value_regex(&b, (const char *)vals[i]->data.scalar.value,
                           vals[i]->data.scalar.length, md->m, &a, &longest);
            if (a) {
                any = true;
                b.n = mark;
            } else if (longest < weight) {
                weight = longest;
            }
        }
    }
    if (b.err != VG_OK) {
        vg_status st = b.err;
        vg_buf_fini(&b);
        return st == VG_E_NOMEM ? sg_nomem(c) : sg_fail(c, "a condition is too long as a regex");
    }
    char *re;
    if (any) { /* "*" and the like: any value at all */
        re = vg_strdup(SG_NONNULL_REGEX);
        fields = f->null;
        weight = 0;
        caseless = true;
    } else {
        re = vg_strndup(b.p ? (const char *)b.p : "", b.n);
    }
    vg_buf_fini(&b);
    if (!re)
        return sg_nomem(c);
    if (md->m == SG_M_RE && !any && !sg_check_re(c, re, caseless)) {
        vg_free(re);
        return -1;
    }
    if (f->weight_penalty)
        weight = 0;
    return sg_atom(c, fields, re, caseless, weight);
}

/* "field is null": the value is absent, empty or "-". */
static int sg_null_node(struct sg_ctx *c, const struct sg_field_map *f)
{
    if (!f->null) /* a field vigil does not read is always absent */
        return sg_node(c, SG_TRUE, -1, -1);
    return sg_not(c, sg_atom(c, f->null, vg_strdup(SG_NONNULL_REGEX), true, 0));
}

static const struct sg_field_map sg_keyword_field = {"(keywords)", SG_F_LINE, SG_F_LINE, SG_F_LINE,
                                                     0};

/*
 * One `field|mods: value(s)` pair of a selection map (field may be empty: keywords). Returns the
 * node, or -1 with a reason.
 */
static int sg_pair(struct sg_ctx *c, const yaml_node_t *key, const yaml_node_t *val)
{
    const char *k = (const char *)key->data.scalar.value;
    size_t klen = key->data.scalar.length;
    size_t bar = 0;
    while (bar < klen && k[bar] != '|')
        bar++;
    const struct sg_field_map *f = NULL;
    if (bar == 0) {
        f = &sg_keyword_field;
    } else {
        for (size_t i = 0; i < VG_ARRAY_LEN(sg_fields); i++)
            if (strlen(sg_fields[i].sigma) == bar && strncasecmp(sg_fields[i].sigma, k, bar) == 0)
                f = &sg_fields[i];
        if (!f) {
            char shown[48];
            size_t j = 0;
            for (; j < bar && j < sizeof shown - 1; j++)
                shown[j] = isprint((unsigned char)k[j]) ? k[j] : '?';
            shown[j] = 0;
            return sg_fail(c, "field `%s` is not a Sigma webserver field vigil maps", shown);
        }
    }
    struct sg_mods md;
    if (!sg_parse_mods(c, bar < klen ? k + bar + 1 : k + klen, bar < klen ? klen - bar - 1 : 0,
                       &md))
        return -1;
    if (f == &sg_keyword_field && md.m == SG_M_EXACT) /* keywords are searched for */
        md.m = SG_M_CONTAINS;
    if (!f->contains && !c->unavailable[0])
        snprintf(c->unavailable, sizeof c->unavailable, "%s", f->sigma);

    /* the values */
    const yaml_node_t *one[1];
    const yaml_node_t **vals = one;
    size_t n = 0;
    yaml_node_t **heap = NULL;
    if (val->type == YAML_SEQUENCE_NODE) {
        size_t cnt = (size_t)(val->data.sequence.items.top - val->data.sequence.items.start);
        if (cnt == 0)
            return sg_fail(c, "empty list of values");
        if (cnt > SG_MAX_VALUES)
            return sg_fail(c, "more than %u values under one key", SG_MAX_VALUES);
        heap = vg_calloc(cnt, sizeof(*heap));
        if (!heap)
            return sg_nomem(c);
        for (size_t i = 0; i < cnt; i++) {
            heap[i] = yaml_document_get_node(c->doc, val->data.sequence.items.start[i]);
            if (!sg_is_scalar(heap[i])) {
                vg_free(heap);
                return sg_fail(c, "a value is a list or a mapping");
            }
        }
        vals = (const yaml_node_t **)heap;
        n = cnt;
    } else if (sg_is_scalar(val)) {
        one[0] = val;
        n = 1;
    } else {
        return sg_fail(c, "a value is a mapping");
    }

    int node = -1;
    if (md.exists) {
        if (n != 1 || !(sg_scalar_eq(vals[0], "true") || sg_scalar_eq(vals[0], "false"))) {
            vg_free(heap);
            return sg_fail(c, "`exists` wants true or false");
        }
        int isnull = sg_null_node(c, f);
        node = sg_scalar_eq(vals[0], "true") ? sg_not(c, isnull) : isnull;
        vg_free(heap);
        return node;
    }
    /* nulls apart; the other values matched together (OR) or one by one (|all) */
    const yaml_node_t **plain = vg_calloc(n, sizeof(*plain));
    if (!plain) {
        vg_free(heap);
        return sg_nomem(c);
    }
    size_t np = 0, nnull = 0;
    for (size_t i = 0; i < n; i++) {
        if (sg_is_null(vals[i]) ||
            (vals[i]->data.scalar.length == 0 && md.m == SG_M_EXACT)) /* '' is null too */
            nnull++;
        else
            plain[np++] = vals[i];
    }
    if (nnull && md.m == SG_M_RE) {
        vg_free(plain);
        vg_free(heap);
        return sg_fail(c, "`re` with a null value");
    }
    if (np == 0) {
        node = sg_null_node(c, f);
    } else if (!f->contains) {
        node = sg_node(c, SG_FALSE, -1, -1); /* never read: never matches */
    } else if (md.all && np > 1) {
        node = sg_node(c, SG_TRUE, -1, -1);
        for (size_t i = 0; i < np && node >= 0; i++)
            node = sg_bin(c, SG_AND, node, sg_match_atom(c, f, &md, &plain[i], 1));
    } else {
        node = sg_match_atom(c, f, &md, plain, np);
    }
    if (node >= 0 && np && nnull) {
        if (md.all)
            node = sg_fail(c, "`all` with a null value");
        else
            node = sg_bin(c, SG_OR, node, sg_null_node(c, f));
    }
    vg_free(plain);
    vg_free(heap);
    return node;
}

/* A selection map: AND of its pairs. */
static int sg_map(struct sg_ctx *c, const yaml_node_t *map)
{
    int node = sg_node(c, SG_TRUE, -1, -1);
    if (map->data.mapping.pairs.top == map->data.mapping.pairs.start)
        return sg_fail(c, "empty selection");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top && node >= 0; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (!sg_is_scalar(k) || !v)
            return sg_fail(c, "a selection key is not a string");
        node = sg_bin(c, SG_AND, node, sg_pair(c, k, v));
    }
    return node;
}

/* A selection: a map (AND), a list of maps (OR), a list of keywords (OR) or one keyword. */
static int sg_selection(struct sg_ctx *c, const yaml_node_t *sel)
{
    if (sel->type == YAML_MAPPING_NODE)
        return sg_map(c, sel);
    if (sg_is_scalar(sel)) {
        if (sg_is_null(sel))
            return sg_fail(c, "empty selection");
        struct sg_mods md = {.m = SG_M_CONTAINS};
        const yaml_node_t *one[1] = {sel};
        return sg_match_atom(c, &sg_keyword_field, &md, one, 1);
    }
    size_t cnt = (size_t)(sel->data.sequence.items.top - sel->data.sequence.items.start);
    if (cnt == 0)
        return sg_fail(c, "empty selection");
    /* keywords (scalars) are merged into one atom; maps are OR-ed */
    const yaml_node_t **kw = vg_calloc(cnt, sizeof(*kw));
    if (!kw)
        return sg_nomem(c);
    size_t nkw = 0;
    int node = sg_node(c, SG_FALSE, -1, -1);
    for (size_t i = 0; i < cnt && node >= 0; i++) {
        yaml_node_t *it = yaml_document_get_node(c->doc, sel->data.sequence.items.start[i]);
        if (!it)
            node = sg_fail(c, "malformed selection");
        else if (it->type == YAML_MAPPING_NODE)
            node = sg_bin(c, SG_OR, node, sg_map(c, it));
        else if (sg_is_scalar(it) && !sg_is_null(it))
            kw[nkw++] = it;
        else
            node = sg_fail(c, "a keyword list holds a list or a null");
    }
    if (node >= 0 && nkw) {
        struct sg_mods md = {.m = SG_M_CONTAINS};
        node = sg_bin(c, SG_OR, node, sg_match_atom(c, &sg_keyword_field, &md, kw, nkw));
    }
    vg_free(kw);
    return node;
}

/* ---- condition --------------------------------------------------------------------------- */

static void sg_skip_ws(struct sg_ctx *c)
{
    while (c->cp < c->cend && isspace((unsigned char)*c->cp))
        c->cp++;
}

/* The next word (identifier or pattern: letters, digits, _ - . * ?); length 0 when none. */
static size_t sg_word(struct sg_ctx *c, const char **w)
{
    sg_skip_ws(c);
    *w = c->cp;
    const char *p = c->cp;
    while (p < c->cend && (isalnum((unsigned char)*p) || strchr("_-.*?", *p)))
        p++;
    return (size_t)(p - c->cp);
}

static bool sg_word_is(const char *w, size_t n, const char *lit)
{
    return n == strlen(lit) && strncasecmp(w, lit, n) == 0;
}

/* Glob match of a selection name against a pattern with * and ?. */
static bool sg_glob(const char *pat, size_t pn, const char *s)
{
    size_t sn = strlen(s);
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && (pat[pi] == '?' || pat[pi] == s[si])) {
            pi++, si++;
        } else if (pi < pn && pat[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < pn && pat[pi] == '*')
        pi++;
    return pi == pn;
}

static int sg_cond_or(struct sg_ctx *c);

static int sg_cond_primary(struct sg_ctx *c)
{
    sg_skip_ws(c);
    if (c->cp >= c->cend)
        return sg_fail(c, "condition ends too early");
    if (*c->cp == '(') {
        c->cp++;
        if (++c->depth > SG_MAX_DEPTH)
            return sg_fail(c, "condition nested too deeply");
        int node = sg_cond_or(c);
        c->depth--;
        sg_skip_ws(c);
        if (node >= 0 && (c->cp >= c->cend || *c->cp != ')'))
            return sg_fail(c, "condition: missing `)`");
        c->cp++;
        return node;
    }
    if (*c->cp == '|')
        return sg_fail(c, "aggregation (`| count() ...`) is not supported");
    const char *w;
    size_t n = sg_word(c, &w);
    if (n == 0)
        return sg_fail(c, "condition: unexpected `%c`",
                       isprint((unsigned char)*c->cp) ? *c->cp : '?');
    c->cp += n;
    bool one = sg_word_is(w, n, "1") || sg_word_is(w, n, "any");
    bool all = sg_word_is(w, n, "all");
    if (one || all) {
        const char *w2;
        size_t n2 = sg_word(c, &w2);
        if (!sg_word_is(w2, n2, "of"))
            return sg_fail(c, "condition: `%s` without `of`", one ? "1" : "all");
        c->cp += n2;
        const char *pat;
        size_t pn = sg_word(c, &pat);
        if (pn == 0)
            return sg_fail(c, "condition: `of` without a name");
        c->cp += pn;
        bool them = sg_word_is(pat, pn, "them");
        int node = sg_node(c, one ? SG_FALSE : SG_TRUE, -1, -1);
        size_t hits = 0;
        for (size_t i = 0; i < c->n_sels && node >= 0; i++) {
            if (them ? c->sels[i].name[0] == '_' : !sg_glob(pat, pn, c->sels[i].name))
                continue;
            hits++;
            node = sg_bin(c, one ? SG_OR : SG_AND, node, c->sels[i].node);
        }
        if (node >= 0 && hits == 0)
            return sg_fail(c, "condition: no selection matches `%.*s`", (int)(pn > 60 ? 60 : pn),
                           pat);
        return node;
    }
    if (sg_word_is(w, n, "of") || sg_word_is(w, n, "and") || sg_word_is(w, n, "or"))
        return sg_fail(c, "condition: unexpected `%.*s`", (int)n, w);
    if (isdigit((unsigned char)w[0]))
        return sg_fail(c, "condition: `%.*s of` is not supported (only 1 of / all of)",
                       (int)(n > 20 ? 20 : n), w);
    for (size_t i = 0; i < c->n_sels; i++)
        if (strlen(c->sels[i].name) == n && memcmp(c->sels[i].name, w, n) == 0)
            return c->sels[i].node;
    return sg_fail(c, "condition names an unknown selection `%.*s`", (int)(n > 60 ? 60 : n), w);
}

static int sg_cond_not(struct sg_ctx *c)
{
    const char *w;
    size_t n = sg_word(c, &w);
    if (sg_word_is(w, n, "not")) {
        c->cp += n;
        if (++c->depth > SG_MAX_DEPTH)
            return sg_fail(c, "condition nested too deeply");
        int node = sg_not(c, sg_cond_not(c));
        c->depth--;
        return node;
    }
    return sg_cond_primary(c);
}

static int sg_cond_and(struct sg_ctx *c)
{
    int node = sg_cond_not(c);
    for (;;) {
        const char *w;
        size_t n = sg_word(c, &w);
        if (node < 0 || !sg_word_is(w, n, "and"))
            return node;
        c->cp += n;
        node = sg_bin(c, SG_AND, node, sg_cond_not(c));
    }
}

static int sg_cond_or(struct sg_ctx *c)
{
    int node = sg_cond_and(c);
    for (;;) {
        const char *w;
        size_t n = sg_word(c, &w);
        if (node < 0 || !sg_word_is(w, n, "or"))
            return node;
        c->cp += n;
        node = sg_bin(c, SG_OR, node, sg_cond_and(c));
    }
}

static int sg_condition(struct sg_ctx *c, const char *s, size_t n)
{
    c->cp = s;
    c->cend = s + n;
    c->depth = 0;
    int node = sg_cond_or(c);
    sg_skip_ws(c);
    if (node >= 0 && c->cp < c->cend) {
        if (*c->cp == '|')
            return sg_fail(c, "aggregation (`| count() ...`) is not supported");
        return sg_fail(c, "condition: unexpected text after the expression");
    }
    return node;
}

/* ---- disjunctive normal form ------------------------------------------------------------- */

struct sg_lit {
    uint16_t atom;
    bool neg;
};

struct sg_conj {
    struct sg_lit lits[SG_MAX_LITS];
    unsigned n;
};

/* A set of conjunctions: empty = FALSE; one empty conjunction = TRUE. */
struct sg_dnf {
    struct sg_conj *c;
    size_t n;
};

static void sg_dnf_free(struct sg_dnf *d)
{
    vg_free(d->c);
    d->c = NULL;
    d->n = 0;
}

static int sg_lit_cmp(const void *a, const void *b)
{
    const struct sg_lit *x = a, *y = b;
    if (x->atom != y->atom)
        return x->atom < y->atom ? -1 : 1;
    return (int)x->neg - (int)y->neg;
}

/* Adds a conjunction unless it is already there. */
static bool sg_dnf_add(struct sg_ctx *c, struct sg_dnf *d, const struct sg_conj *k)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->c[i].n == k->n && memcmp(d->c[i].lits, k->lits, k->n * sizeof(k->lits[0])) == 0)
            return true;
    if (d->n >= VG_SIGMA_MAX_CONJ) {
        sg_fail(c, "condition too complex (more than %u alternatives in normal form)",
                VG_SIGMA_MAX_CONJ);
        return false;
    }
    struct sg_conj *p = vg_realloc(d->c, (d->n + 1) * sizeof(*p));
    if (!p) {
        sg_nomem(c);
        return false;
    }
    d->c = p;
    d->c[d->n++] = *k;
    return true;
}

/* Conjunction of two conjunctions; false (and *drop) when contradictory (x and not x). */
static bool sg_conj_merge(struct sg_ctx *c, const struct sg_conj *a, const struct sg_conj *b,
                          struct sg_conj *out, bool *drop)
{
    *drop = false;
    *out = *a;
    for (unsigned i = 0; i < b->n; i++) {
        bool dup = false;
        for (unsigned j = 0; j < out->n; j++) {
            if (out->lits[j].atom != b->lits[i].atom)
                continue;
            if (out->lits[j].neg != b->lits[i].neg) {
                *drop = true;
                return true;
            }
            dup = true;
        }
        if (dup)
            continue;
        if (out->n >= SG_MAX_LITS) {
            sg_fail(c, "condition too complex (more than %u conditions in one alternative)",
                    SG_MAX_LITS);
            return false;
        }
        out->lits[out->n++] = b->lits[i];
    }
    qsort(out->lits, out->n, sizeof(out->lits[0]), sg_lit_cmp);
    return true;
}

static bool sg_to_dnf(struct sg_ctx *c, int node, bool neg, struct sg_dnf *out, int depth)
{
    out->c = NULL;
    out->n = 0;
    if (depth > 200) {
        sg_fail(c, "condition nested too deeply");
        return false;
    }
    const struct sg_node *nd = &c->nodes[node];
    struct sg_conj k = {.n = 0};
    switch (nd->k) {
    case SG_TRUE:
    case SG_FALSE:
        if ((nd->k == SG_TRUE) != neg)
            return sg_dnf_add(c, out, &k);
        return true;
    case SG_ATOM:
        k.lits[0] = (struct sg_lit){(uint16_t)nd->a, neg};
        k.n = 1;
        return sg_dnf_add(c, out, &k);
    case SG_NOT:
        return sg_to_dnf(c, nd->a, !neg, out, depth + 1);
    case SG_AND:
    case SG_OR: {
        bool is_and = (nd->k == SG_AND) != neg;
        struct sg_dnf l, r;
        if (!sg_to_dnf(c, nd->a, neg, &l, depth + 1))
            return false;
        if (!sg_to_dnf(c, nd->b, neg, &r, depth + 1)) {
            sg_dnf_free(&l);
            return false;
        }
        bool ok = true;
        if (!is_and) {
            for (size_t i = 0; i < l.n && ok; i++)
                ok = sg_dnf_add(c, out, &l.c[i]);
            for (size_t i = 0; i < r.n && ok; i++)
                ok = sg_dnf_add(c, out, &r.c[i]);
        } else {
            for (size_t i = 0; i < l.n && ok; i++)
                for (size_t j = 0; j < r.n && ok; j++) {
                    bool drop;
                    ok = sg_conj_merge(c, &l.c[i], &r.c[j], &k, &drop);
                    if (ok && !drop)
                        ok = sg_dnf_add(c, out, &k);
                }
        }
        sg_dnf_free(&l);
        sg_dnf_free(&r);
        if (!ok)
            sg_dnf_free(out);
        return ok;
    }
    }
    return false;
}

/* ---- output ------------------------------------------------------------------------------ */

/* Appends s as a YAML double-quoted scalar, ASCII only (\uXXXX for the rest). */
static void sg_put_str(struct vg_buf *b, const char *s, size_t n)
{
    vg_bputc(b, '"');
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        uint8_t ch = p[i];
        if (ch == '"' || ch == '\\') {
            vg_bputc(b, '\\');
            vg_bputc(b, (char)ch);
            i++;
        } else if (ch >= 0x20 && ch < 0x7f) {
            vg_bputc(b, (char)ch);
            i++;
        } else if (ch == 0) { /* native rule text may not hold NUL bytes */
            vg_bputs(b, "\\uFFFD");
            i++;
        } else if (ch < 0x80) {
            vg_bprintf(b, "\\x%02x", ch);
            i++;
        } else {
            size_t len = vg_utf8_seq_len(p + i, n - i);
            if (len == 0) { /* not UTF-8 (libyaml does not hand us such text): U+FFFD */
                vg_bputs(b, "\\uFFFD");
                i++;
                continue;
            }
            uint32_t cp = len == 2   ? (uint32_t)(ch & 0x1f)
                          : len == 3 ? (uint32_t)(ch & 0x0f)
                                     : (uint32_t)(ch & 0x07);
            for (size_t j = 1; j < len; j++)
                cp = (cp << 6) | (p[i + j] & 0x3f);
            if (cp > 0xffff)
                vg_bprintf(b, "\\U%08X", (unsigned)cp);
            else
                vg_bprintf(b, "\\u%04X", (unsigned)cp);
            i += len;
        }
    }
    vg_bputc(b, '"');
}

static void sg_put_cstr(struct vg_buf *b, const char *s)
{
    sg_put_str(b, s, strlen(s));
}

/* One condition: fields, transforms, operator, caseless, regex [, negate]. */
static void sg_put_cond(struct vg_buf *b, const struct sg_atom *a, bool neg)
{
    vg_bprintf(b, "fields: %s, transforms: [], operator: regex, caseless: %s, ", a->fields,
               a->caseless ? "true" : "false");
    if (neg)
        vg_bputs(b, "negate: true, ");
    vg_bputs(b, "regex: ");
    sg_put_cstr(b, a->regex);
}

/* needle occurs in hay as whole words, or a plural (ASCII case-insensitive): "rce" is not in
   "Source", "user-agent" is in "User-Agents". */
static bool sg_has(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = strcasestr(hay, needle); p; p = strcasestr(p + 1, needle)) {
        bool left = p == hay || !isalnum((unsigned char)p[-1]);
        bool right = !isalnum((unsigned char)p[n]) ||
                     ((p[n] == 's' || p[n] == 'S') && !isalnum((unsigned char)p[n + 1]));
        if (left && right)
            return true;
    }
    return false;
}

/*
 * The native class of a Sigma rule, from its title, then its tags (docs/sigma.md).
 */
static const char *sg_class(const char *title, yaml_document_t *doc, const yaml_node_t *tags)
{
    static const struct {
        const char *word, *cls;
    } by_title[] = {
        {"sql injection", "sqli"},
        {"sqli", "sqli"},
        {"cross site scripting", "xss"},
        {"cross-site scripting", "xss"},
        {"xss", "xss"},
        {"template injection", "ssti"},
        {"ssti", "ssti"},
        {"remote file inclusion", "rfi"},
        {"path traversal", "traversal"},
        {"directory traversal", "traversal"},
        {"traversal", "traversal"},
        {"local file inclusion", "traversal"},
        {"command injection", "cmdi"},
        {"command execution", "cmdi"},
        {"os command", "cmdi"},
        {"user-agent", "tool"},
        {"useragent", "tool"},
        {"user agent", "tool"},
        {"webshell", "code"},
        {"web shell", "code"},
        {"enumeration", "probe"},
        {"fuzzing", "probe"},
        {"scan", "probe"},
        {"information disclosure", "probe"},
        {"log4j", "code"},
        {"jndi", "code"},
        {"java payload", "code"},
        {"rce", "code"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(by_title); i++)
        if (sg_has(title, by_title[i].word))
            return by_title[i].cls;
    bool exploit = strcasestr(title, "exploit") != NULL || strcasestr(title, "cve-") != NULL;
    if (tags && tags->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = tags->data.sequence.items.start;
             it < tags->data.sequence.items.top; it++) {
            const yaml_node_t *t = yaml_document_get_node(doc, *it);
            if (!sg_is_scalar(t))
                continue;
            const char *s = (const char *)t->data.scalar.value;
            size_t n = t->data.scalar.length;
            if ((n >= 16 && strncasecmp(s, "attack.t1505.003", 16) == 0))
                return "code";
            if ((n >= 11 && strncasecmp(s, "attack.t1190", 11) == 0) ||
                (n >= 4 && strncasecmp(s, "cve.", 4) == 0))
                exploit = true;
            if ((n >= 16 && strncasecmp(s, "attack.discovery", 16) == 0) ||
                (n >= 21 && strncasecmp(s, "attack.reconnaissance", 21) == 0) ||
                (n >= 12 && strncasecmp(s, "attack.t1595", 12) == 0))
                return "probe";
        }
    }
    return exploit ? "code" : "probe";
}

/* Score of a Sigma level (docs/sigma.md); -1 for an unknown level. */
static int sg_score(const char *level)
{
    if (!level[0])
        return 3;
    static const struct {
        const char *name;
        int score;
    } levels[] = {{"critical", 5}, {"high", 5}, {"medium", 3}, {"low", 2}, {"informational", 0}};
    for (size_t i = 0; i < VG_ARRAY_LEN(levels); i++)
        if (strcasecmp(level, levels[i].name) == 0)
            return levels[i].score;
    return -1;
}

/*
 * Paranoia of a Sigma rule: 2 when its own `falsepositives:` says that what users type into search
 * boxes matches it (the generic SQL injection, XSS, template injection and web shell string rules:
 * keyword lists such as `=powershell+` or `=%3Cscript%3E` that a search for "powershell -enc" or
 * "<script> tag" contains), else 1. The authors' word, not a measurement, decides.
 */
static int sg_paranoia(yaml_document_t *doc, const yaml_node_t *fps)
{
    if (!fps || fps->type != YAML_SEQUENCE_NODE)
        return 1;
    for (yaml_node_item_t *it = fps->data.sequence.items.start; it < fps->data.sequence.items.top;
         it++) {
        const yaml_node_t *t = yaml_document_get_node(doc, *it);
        if (!sg_is_scalar(t) || t->data.scalar.length > 1000)
            continue;
        char text[1024];
        memcpy(text, t->data.scalar.value, t->data.scalar.length);
        text[t->data.scalar.length] = 0;
        if (strcasestr(text, "user search") || strcasestr(text, "search box"))
            return 2;
    }
    return 1;
}

/* 32-bit FNV-1a over the lowercase id. */
static uint32_t sg_fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (uint8_t)tolower((unsigned char)*s);
        h *= 16777619u;
    }
    return h;
}

/* Appends the references: "sigma:<id>", ATT&CK techniques and CVEs from tags, then URLs. */
static void sg_put_refs(struct vg_buf *b, const char *id, yaml_document_t *doc,
                        const yaml_node_t *tags, const yaml_node_t *refs)
{
    vg_bputs(b, "references: [");
    char first[200];
    snprintf(first, sizeof first, "sigma:%s", id);
    sg_put_cstr(b, first);
    unsigned n = 1;
    if (tags && tags->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = tags->data.sequence.items.start;
             it < tags->data.sequence.items.top && n < SG_MAX_REFS; it++) {
            const yaml_node_t *t = yaml_document_get_node(doc, *it);
            if (!sg_is_scalar(t) || t->data.scalar.length > 40)
                continue;
            char tag[48];
            memcpy(tag, t->data.scalar.value, t->data.scalar.length);
            tag[t->data.scalar.length] = 0;
            char out[64];
            if (strncasecmp(tag, "attack.t", 8) == 0 && isdigit((unsigned char)tag[8])) {
                snprintf(out, sizeof out, "T%s", tag + 8);
            } else if (strncasecmp(tag, "cve.", 4) == 0) {
                snprintf(out, sizeof out, "CVE-%s", tag + 4);
            } else {
                continue;
            }
            for (char *q = out; *q; q++)
                *q = (char)toupper((unsigned char)*q);
            vg_bputs(b, ", ");
            sg_put_cstr(b, out);
            n++;
        }
    }
    if (refs && refs->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = refs->data.sequence.items.start;
             it < refs->data.sequence.items.top && n < SG_MAX_REFS; it++) {
            const yaml_node_t *r = yaml_document_get_node(doc, *it);
            if (!sg_is_scalar(r) || r->data.scalar.length == 0 || r->data.scalar.length > 1000 ||
                memchr(r->data.scalar.value, 0, r->data.scalar.length))
                continue;
            vg_bputs(b, ", ");
            sg_put_str(b, (const char *)r->data.scalar.value, r->data.scalar.length);
            n++;
        }
    }
    vg_bputc(b, ']');
}

/* Text safe for a YAML comment line: printable ASCII, at most max bytes. */
static void sg_put_comment_text(struct vg_buf *b, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max; i++)
        vg_bputc(b, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
}

/* ---- one Sigma rule ---------------------------------------------------------------------- */

struct sg_meta {
    char *id, *title, *author, *level, *status;
};

static void sg_meta_fini(struct sg_meta *m)
{
    vg_free(m->id);
    vg_free(m->title);
    vg_free(m->author);
    vg_free(m->level);
    vg_free(m->status);
}

/* Builds the selections and the condition of a rule into c; returns the root node or -1. */
static int sg_detection(struct sg_ctx *c, const yaml_node_t *det)
{
    if (!det || det->type != YAML_MAPPING_NODE)
        return sg_fail(c, "no `detection` mapping");
    const yaml_node_t *cond = NULL;
    for (yaml_node_pair_t *p = det->data.mapping.pairs.start; p < det->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (!sg_is_scalar(k) || !v)
            return sg_fail(c, "a detection key is not a string");
        if (sg_scalar_eq(k, "condition")) {
            cond = v;
            continue;
        }
        if (sg_scalar_eq(k, "timeframe"))
            return sg_fail(c, "`timeframe` (aggregation over time) is not supported");
        if (c->n_sels >= SG_MAX_SELS)
            return sg_fail(c, "more than %u selections", SG_MAX_SELS);
        char *name = sg_scalar_dup(k);
        if (!name)
            return sg_nomem(c);
        int node = sg_selection(c, v);
        if (node < 0) {
            vg_free(name);
            return -1;
        }
        c->sels[c->n_sels++] = (struct sg_sel){name, node};
    }
    if (!cond)
        return sg_fail(c, "no `condition`");
    if (sg_is_scalar(cond) && !sg_is_null(cond))
        return sg_condition(c, (const char *)cond->data.scalar.value, cond->data.scalar.length);
    if (cond->type == YAML_SEQUENCE_NODE) { /* old Sigma: a list of conditions, OR-ed */
        int node = sg_node(c, SG_FALSE, -1, -1);
        for (yaml_node_item_t *it = cond->data.sequence.items.start;
             it < cond->data.sequence.items.top && node >= 0; it++) {
            const yaml_node_t *s = yaml_document_get_node(c->doc, *it);
            if (!sg_is_scalar(s))
                return sg_fail(c, "a condition is not a string");
            node =
                sg_bin(c, SG_OR, node,
                       sg_condition(c, (const char *)s->data.scalar.value, s->data.scalar.length));
        }
        return node;
    }
    return sg_fail(c, "`condition` is not a string");
}

static vg_status sg_add_rule_record(struct vg_sigma_result *res, const char *path,
                                    const struct sg_meta *m, uint32_t first, unsigned n)
{
    struct vg_sigma_rule *p = vg_realloc(res->rules, (res->n_rules + 1) * sizeof(*p));
    if (!p)
        return VG_E_NOMEM;
    res->rules = p;
    struct vg_sigma_rule *r = &p[res->n_rules++];
    r->path = sg_dup0(path);
    r->id = sg_dup0(m->id);
    r->title = sg_dup0(m->title);
    r->author = sg_dup0(m->author);
    r->first = first;
    r->n_native = n;
    return r->path && r->id && r->title && r->author ? VG_OK : VG_E_NOMEM;
}

/* Index of the positive literal that should lead the native rule (most selective), or -1. */
static int sg_pick_first(const struct sg_ctx *c, const struct sg_conj *k)
{
    int best = -1, bw = -1;
    for (unsigned i = 0; i < k->n; i++) {
        if (k->lits[i].neg)
            continue;
        int w = c->atoms[k->lits[i].atom].weight;
        if (w > bw)
            best = (int)i, bw = w;
    }
    return best;
}

/* Translates one Sigma document (its root mapping). */
static vg_status sg_translate_doc(struct vg_sigma_result *res, yaml_document_t *doc,
                                  const char *path, struct vg_buf *out)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root)
        return VG_OK; /* empty document */
    if (root->type != YAML_MAPPING_NODE)
        return sg_add_skip(res, path, "", "", "not a Sigma rule (the document is not a mapping)");
    struct sg_meta m = {0};
    m.id = sg_scalar_dup(sg_map_get(doc, root, "id"));
    m.title = sg_scalar_dup(sg_map_get(doc, root, "title"));
    m.author = sg_scalar_dup(sg_map_get(doc, root, "author"));
    m.level = sg_scalar_dup(sg_map_get(doc, root, "level"));
    m.status = sg_scalar_dup(sg_map_get(doc, root, "status"));
    if (!m.id || !m.title || !m.author || !m.level || !m.status) {
        sg_meta_fini(&m);
        return VG_E_NOMEM;
    }
    struct sg_ctx *c = vg_calloc(1, sizeof(*c));
    if (!c) {
        sg_meta_fini(&m);
        return VG_E_NOMEM;
    }
    c->doc = doc;
    vg_status st = VG_OK;
    const yaml_node_t *ls = sg_map_get(doc, root, "logsource");
    const yaml_node_t *cat = sg_map_get(doc, ls, "category");
    int score = sg_score(m.level);
    struct sg_dnf dnf = {NULL, 0};
    if (sg_map_get(doc, root, "action")) {
        sg_fail(c, "Sigma rule collections (`action:`) are not supported");
    } else if (!sg_map_get(doc, root, "detection") && sg_map_get(doc, root, "correlation")) {
        sg_fail(c, "correlation rules are not supported");
    } else if (!sg_scalar_eq(cat, "webserver")) {
        char what[80] = "none";
        const yaml_node_t *src = cat ? cat : sg_map_get(doc, ls, "service");
        if (!src)
            src = sg_map_get(doc, ls, "product");
        if (sg_is_scalar(src)) {
            size_t n = src->data.scalar.length < 60 ? src->data.scalar.length : 60;
            for (size_t i = 0; i < n; i++)
                what[i] =
                    isprint(src->data.scalar.value[i]) ? (char)src->data.scalar.value[i] : '?';
            what[n] = 0;
        }
        sg_fail(c, "logsource is not `category: webserver` (%s: %s)",
                cat                              ? "category"
                : sg_map_get(doc, ls, "service") ? "service"
                                                 : "product",
                what);
    } else if (!m.id[0]) {
        sg_fail(c, "the rule has no `id`");
    } else if (strlen(m.id) > 100 || memchr(m.id, '\n', strlen(m.id))) {
        sg_fail(c, "the rule's `id` is too long");
    } else if (!m.title[0]) {
        sg_fail(c, "the rule has no `title`");
    } else if (strlen(m.title) > 1000 || strlen(m.author) > 4000 || strlen(path) > 4000) {
        sg_fail(c, "the rule's title, author or file name is too long");
    } else if (score < 0) {
        sg_fail(c, "unknown level `%.40s`", m.level);
    } else {
        int node = sg_detection(c, sg_map_get(doc, root, "detection"));
        if (node >= 0 && sg_to_dnf(c, node, false, &dnf, 0) && dnf.n == 0) {
            if (c->unavailable[0])
                sg_fail(c, "needs field %s, which native rules cannot read", c->unavailable);
            else
                sg_fail(c, "the condition can never be true");
        }
        for (size_t i = 0; i < dnf.n && !c->reason[0]; i++)
            if (dnf.c[i].n == 0)
                sg_fail(c, "the condition holds for every request%s%s%s",
                        c->unavailable[0] ? " (it only excludes by field " : "",
                        c->unavailable[0] ? c->unavailable : "", c->unavailable[0] ? ")" : "");
        if (c->reason[0] == 0 &&
            (strcasecmp(m.status, "deprecated") == 0 || strcasecmp(m.status, "unsupported") == 0))
            sg_fail(c, "status: %s", m.status);
    }
    if (c->st != VG_OK) {
        st = c->st;
        goto done;
    }
    /* ids, and collisions with rules translated before */
    uint32_t base = VG_SIGMA_ID_BASE + (sg_fnv1a(m.id) % VG_SIGMA_ID_SLOTS) * VG_SIGMA_MAX_CONJ;
    if (!c->reason[0]) {
        for (size_t i = 0; i < res->n_rules; i++) {
            if (strcasecmp(res->rules[i].id, m.id) == 0) {
                sg_fail(c, "duplicate Sigma id (already loaded from %.150s)", res->rules[i].path);
                break;
            }
            if (res->rules[i].first == base) {
                sg_fail(c, "id collision: %u is also the id of Sigma rule %.60s (%.120s)", base,
                        res->rules[i].id, res->rules[i].path);
                break;
            }
        }
    }
    if (c->reason[0]) {
        st = sg_add_skip(res, path, m.id, m.title, c->reason);
        goto done;
    }

    const char *cls = sg_class(m.title, doc, sg_map_get(doc, root, "tags"));
    int paranoia = sg_paranoia(doc, sg_map_get(doc, root, "falsepositives"));
    struct vg_buf *b = out;
    size_t mark = b->n;
    vg_bputs(b, "  # Sigma ");
    sg_put_comment_text(b, m.id, 100);
    vg_bputs(b, ": ");
    sg_put_comment_text(b, m.title, 160);
    vg_bputc(b, '\n');
    for (size_t i = 0; i < dnf.n; i++) {
        const struct sg_conj *k = &dnf.c[i];
        int first = sg_pick_first(c, k);
        vg_bprintf(b, "  - {id: %u, message: ", base + (uint32_t)i);
        sg_put_cstr(b, m.title);
        vg_bprintf(b, ", class: %s, score: %d, paranoia: %d,\n     group: ", cls, score, paranoia);
        sg_put_cstr(b, m.id);
        if (m.author[0]) {
            vg_bputs(b, ", author: ");
            sg_put_cstr(b, m.author);
        }
        vg_bputs(b, ", source: ");
        sg_put_cstr(b, path);
        vg_bputs(b, ",\n     ");
        sg_put_refs(b, m.id, doc, sg_map_get(doc, root, "tags"),
                    sg_map_get(doc, root, "references"));
        vg_bputs(b, ",\n     ");
        if (first >= 0) {
            sg_put_cond(b, &c->atoms[k->lits[first].atom], false);
        } else { /* only negated conditions: lead with one that holds for every line */
            struct sg_atom always = {SG_F_LINE, (char *)"^[\\s\\S]", false, 0};
            sg_put_cond(b, &always, false);
        }
        unsigned rest = k->n - (first >= 0 ? 1u : 0u);
        if (rest) {
            vg_bputs(b, ",\n     chain: [");
            unsigned put = 0;
            for (unsigned j = 0; j < k->n; j++) {
                if ((int)j == first)
                    continue;
                vg_bputs(b, put++ ? ",\n       {" : "\n       {");
                sg_put_cond(b, &c->atoms[k->lits[j].atom], k->lits[j].neg);
                vg_bputc(b, '}');
            }
            vg_bputc(b, ']');
        }
        vg_bputs(b, "}\n");
    }
    if (b->err != VG_OK) {
        st = b->err;
        b->n = mark;
        b->err = VG_OK;
        goto done;
    }
    st = sg_add_rule_record(res, path, &m, base, (unsigned)dnf.n);
    if (st == VG_OK)
        res->n_native += dnf.n;
    else
        b->n = mark;
done:
    sg_dnf_free(&dnf);
    sg_ctx_fini(c);
    vg_free(c);
    sg_meta_fini(&m);
    return st;
}

/* Rebuilds res->yaml from the entries. */
static vg_status sg_finish(struct vg_sigma_result *res)
{
    struct sg_priv *p = res->priv;
    size_t body = p ? p->body.n : 0;
    static const char head[] =
        "# Sigma rules translated by vigil (docs/sigma.md). Generated: edit the Sigma rules.\n"
        "# Sigma rules (e.g. https://github.com/SigmaHQ/sigma) are under the Detection Rule\n"
        "# License 1.1: keep each rule's author and a link to its rule set.\n";
    size_t need = sizeof head + 16 + body;
    char *y = vg_malloc(need);
    if (!y)
        return VG_E_NOMEM;
    int n = snprintf(y, need, "%srules:%s", head, body ? "\n" : " []\n");
    if (body)
        memcpy(y + n, p->body.p, body);
    y[(size_t)n + body] = 0;
    vg_free(res->yaml);
    res->yaml = y;
    res->yaml_len = (size_t)n + body;
    return VG_OK;
}

/* Translates one file's text into res (without rebuilding res->yaml). */
static vg_status sg_translate_buf(struct vg_sigma_result *res, const uint8_t *buf, size_t n,
                                  const char *source_name, struct vg_error *err)
{
    if (!res || (!buf && n))
        return vg_error_set(err, VG_E_INVAL, source_name, 0, "invalid argument");
    const char *src = source_name ? source_name : "<sigma>";
    if (!res->priv) {
        struct sg_priv *p = vg_calloc(1, sizeof(*p));
        if (!p)
            return vg_error_set(err, VG_E_NOMEM, src, 0, "out of memory");
        vg_buf_init(&p->body, ((size_t)16 << 20) - 4096); /* the loader reads up to 16 MiB */
        res->priv = p;
    }
    struct sg_priv *p = res->priv;
    res->n_files++;
    vg_status st = VG_OK;
    if (n > SG_FILE_MAX) {
        st = sg_add_skip(res, src, "", "", "file larger than 4 MiB");
    } else {
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
            return vg_error_set(err, VG_E_NOMEM, src, 0, "out of memory");
        static const unsigned char empty[1] = {0};
        yaml_parser_set_input_string(&parser, buf ? buf : empty, n);
        for (unsigned docs = 0; st == VG_OK; docs++) {
            yaml_document_t doc;
            if (!yaml_parser_load(&parser, &doc)) {
                char why[300];
                snprintf(why, sizeof why, "YAML error at line %zu: %s",
                         (size_t)parser.problem_mark.line + 1,
                         parser.problem ? parser.problem : "syntax error");
                st = parser.error == YAML_MEMORY_ERROR ? VG_E_NOMEM
                                                       : sg_add_skip(res, src, "", "", why);
                break;
            }
            if (!yaml_document_get_root_node(&doc)) {
                yaml_document_delete(&doc);
                break;
            }
            if (docs >= 64)
                st = sg_add_skip(res, src, "", "", "more than 64 YAML documents in one file");
            else
                st = sg_translate_doc(res, &doc, src, &p->body);
            yaml_document_delete(&doc);
            if (docs >= 64)
                break;
        }
        yaml_parser_delete(&parser);
    }
    if (st != VG_OK)
        return vg_error_set(err, st, src, 0, "%s: %s", src,
                            st == VG_E_LIMIT ? "too many Sigma rules" : "out of memory");
    return VG_OK;
}

vg_status vg_sigma_translate(struct vg_sigma_result *res, const uint8_t *buf, size_t n,
                             const char *source_name, struct vg_error *err)
{
    vg_status st = sg_translate_buf(res, buf, n, source_name, err);
    if (st == VG_OK && sg_finish(res) != VG_OK)
        st = vg_error_set(err, VG_E_NOMEM, source_name, 0, "out of memory");
    return st;
}

/* ---- files and directories --------------------------------------------------------------- */

static vg_status sg_read_file(const char *path, uint8_t **out, size_t *n, struct vg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    struct vg_buf b;
    vg_buf_init(&b, SG_FILE_MAX + 1);
    uint8_t chunk[16384];
    size_t got;
    vg_status st = VG_OK;
    while (st == VG_OK && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = vg_buf_add(&b, chunk, got);
    bool bad = ferror(f);
    fclose(f);
    if (st == VG_E_LIMIT) { /* too large: handed on as such, translate says so */
        vg_buf_fini(&b);
        *out = NULL;
        *n = SG_FILE_MAX + 1;
        return VG_OK;
    }
    if (st != VG_OK || bad) {
        vg_buf_fini(&b);
        return vg_error_set(err, bad ? VG_E_IO : st, path, 0, "%s: %s", path,
                            bad ? "read error" : "out of memory");
    }
    *out = b.p;
    *n = b.n;
    return VG_OK;
}

static vg_status sg_file(struct vg_sigma_result *res, const char *path, struct vg_error *err)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    vg_status st = sg_read_file(path, &buf, &n, err);
    if (st != VG_OK)
        return st;
    if (!buf && n) {
        res->n_files++;
        st = sg_add_skip(res, path, "", "", "file larger than 4 MiB");
        return st == VG_OK ? VG_OK : vg_error_set(err, st, path, 0, "out of memory");
    }
    st = sg_translate_buf(res, buf, n, path, err);
    vg_free(buf);
    return st;
}

static bool sg_is_yaml_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && ((n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
                              (n > 5 && strcmp(name + n - 5, ".yaml") == 0));
}

static int sg_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static vg_status sg_dir(struct vg_sigma_result *res, const char *path, int depth,
                        struct vg_error *err)
{
    if (depth > SG_MAX_DIR_DEPTH)
        return vg_error_set(err, VG_E_LIMIT, path, 0, "%s: directories nested too deeply", path);
    DIR *d = opendir(path);
    if (!d)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    vg_status st = VG_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nn = vg_realloc(names, nc * sizeof(*nn));
            if (!nn) {
                st = VG_E_NOMEM;
                break;
            }
            names = nn;
            cap = nc;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = vg_malloc(len);
        if (!names[n]) {
            st = VG_E_NOMEM;
            break;
        }
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (st != VG_OK)
        vg_error_set(err, st, path, 0, "out of memory");
    if (st == VG_OK && n)
        qsort(names, n, sizeof(*names), sg_cmp_names);
    for (size_t i = 0; i < n && st == VG_OK; i++) {
        struct stat sb;
        if (stat(names[i], &sb) != 0)
            continue;
        const char *base = strrchr(names[i], '/');
        base = base ? base + 1 : names[i];
        if (S_ISDIR(sb.st_mode))
            st = sg_dir(res, names[i], depth + 1, err);
        else if (S_ISREG(sb.st_mode) && sg_is_yaml_name(base))
            st = sg_file(res, names[i], err);
    }
    for (size_t i = 0; i < n; i++)
        vg_free(names[i]);
    vg_free(names);
    return st;
}

vg_status vg_sigma_translate_path(struct vg_sigma_result *res, const char *path,
                                  struct vg_error *err)
{
    if (!res || !path)
        return vg_error_set(err, VG_E_INVAL, path, 0, "invalid argument");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    vg_status st = S_ISDIR(sb.st_mode) ? sg_dir(res, path, 0, err) : sg_file(res, path, err);
    /* res->yaml is rebuilt once per call, not once per file */
    if (sg_finish(res) != VG_OK && st == VG_OK)
        st = vg_error_set(err, VG_E_NOMEM, path, 0, "out of memory");
    return st;
}

vg_status vg_sigma_load_path(struct vg_ruleset *rs, const char *path, struct vg_sigma_result *res,
                             struct vg_error *err)
{
    struct vg_sigma_result local;
    struct vg_sigma_result *r = res ? res : &local;
    if (!res)
        vg_sigma_result_init(&local);
    vg_status st = vg_sigma_translate_path(r, path, err);
    if (st == VG_OK) {
        char src[300];
        snprintf(src, sizeof src, "sigma:%s", path);
        st = vg_ruleset_load_yaml(rs, (const uint8_t *)r->yaml, r->yaml_len, src, err);
    }
    if (!res)
        vg_sigma_result_fini(&local);
    return st;
}
