/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_rules.c: rule sets and the YAML rule-file loader (libyaml document API).
 *
 * A rule file is one YAML document: a mapping with a single key `rules`, a sequence of rule
 * mappings (format in docs/rules.md). A rule has a `regex`, or `operator: sqli | xss` naming an
 * injection lexer instead (then no `regex` and no `caseless`). The loader is strict: unknown keys, duplicate keys,
 * duplicate ids, wrong types and out-of-range values are errors that name the file and line.
 * Loading is all-or-nothing: a file (or a directory) that fails leaves the rule set as it was.
 *
 * Security note: rule files may come from users (--rules). Every node of the YAML document is
 * visited at most once, so YAML aliases (which could make a document exponentially large, or
 * cyclic) are rejected rather than followed; the walk has a fixed depth (no recursion on input);
 * scalars are length-capped and may not contain NUL bytes (patterns go to Vectorscan as C strings).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <yaml.h>

#include "detect/detect_builtin.h"
#include "detect/detect_int.h"

/* ---- rule sets --------------------------------------------------------------------------- */

/* Creates an empty rule set. *out owns it (free with vg_ruleset_free). */
vg_status vg_ruleset_new(struct vg_ruleset **out)
{
    *out = vg_calloc(1, sizeof(**out));
    return *out ? VG_OK : VG_E_NOMEM;
}

static void vg_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        vg_free(v[i]);
    vg_free(v);
}

static void vg_example_fini(struct vg_rule_example *e)
{
    vg_free(e->target);
    vg_free(e->method);
    vg_free(e->user_agent);
    vg_free(e->referer);
    vg_free(e->body);
    vg_free(e->cookie);
    vg_free(e->content_type);
    vg_free(e->host);
    vg_strv_free(e->header_names, e->n_headers);
    vg_strv_free(e->header_values, e->n_headers);
    memset(e, 0, sizeof(*e));
}

/* Frees everything a condition owns and zeroes it. */
static void vg_cond_fini(struct vg_cond *cd)
{
    vg_strv_free(cd->header_names, cd->n_header_names);
    vg_strv_free(cd->exclude, cd->n_exclude);
    vg_strv_free(cd->phrases, cd->n_phrases);
    vg_free(cd->regex);
    vg_free(cd->value);
    memset(cd, 0, sizeof(*cd));
}

void vg_rule_fini(struct vg_rule *r)
{
    if (!r)
        return;
    vg_free(r->message);
    vg_free(r->regex);
    vg_free(r->source);
    vg_free(r->group);
    vg_free(r->author);
    vg_cond_fini(&r->cond);
    for (size_t i = 0; i < r->n_chain; i++)
        vg_cond_fini(&r->chain[i]);
    vg_free(r->chain);
    for (size_t i = 0; i < r->n_refs; i++)
        vg_free(r->refs[i]);
    vg_free(r->refs);
    for (size_t i = 0; i < r->n_examples; i++)
        vg_example_fini(&r->examples[i]);
    vg_free(r->examples);
    memset(r, 0, sizeof(*r));
}

void vg_ruleset_truncate(struct vg_ruleset *rs, size_t from)
{
    for (size_t i = from; i < rs->n; i++)
        vg_rule_fini(&rs->rules[i]);
    if (from < rs->n)
        rs->n = from;
}

/* Frees a rule set and every rule in it; NULL is harmless. */
void vg_ruleset_free(struct vg_ruleset *rs)
{
    if (!rs)
        return;
    vg_ruleset_truncate(rs, 0);
    vg_free(rs->rules);
    vg_free(rs);
}

/* Number of rules loaded so far. */
size_t vg_ruleset_count(const struct vg_ruleset *rs)
{
    return rs ? rs->n : 0;
}

/* The i-th rule in load order (borrowed; valid while rs lives); NULL when out of range. */
const struct vg_rule *vg_ruleset_get(const struct vg_ruleset *rs, size_t i)
{
    if (!rs || i >= rs->n)
        return NULL;
    return &rs->rules[i];
}

/* Makes room for `extra` more rules. */
static vg_status vg_ruleset_reserve(struct vg_ruleset *rs, size_t extra)
{
    if (extra > VG_RULE_MAX_RULES || rs->n > VG_RULE_MAX_RULES - extra)
        return VG_E_LIMIT;
    size_t need = rs->n + extra;
    if (need <= rs->cap)
        return VG_OK;
    size_t cap = rs->cap ? rs->cap : 64;
    while (cap < need)
        cap *= 2;
    struct vg_rule *p = vg_realloc(rs->rules, cap * sizeof(*p));
    if (!p)
        return VG_E_NOMEM;
    rs->rules = p;
    rs->cap = cap;
    return VG_OK;
}

/* ---- YAML walking ------------------------------------------------------------------------ */

struct vg_yctx {
    yaml_document_t *doc;
    uint8_t *seen;          /* one byte per node: visited already */
    size_t n_nodes;
    const char *src;        /* source name for messages */
    struct vg_error *err;
    vg_status st;           /* first error */
};

/* Records an error at a node (or at line 0 when node is NULL). Returns the status. */
static vg_status vg_yerr(struct vg_yctx *c, const yaml_node_t *node, const char *fmt, ...)
    VG_PRINTF(3, 4);

static vg_status vg_yerr(struct vg_yctx *c, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t line = node ? (size_t)node->start_mark.line + 1 : 0;
    c->st = VG_E_RULES;
    vg_error_set(c->err, VG_E_RULES, c->src, line, "%s:%zu: %s", c->src, line, msg);
    return VG_E_RULES;
}

/*
 * Fetches node `index`, marking it visited. A node reached a second time can only come from a
 * YAML alias: rejected (see the Security note at the top).
 */
static yaml_node_t *vg_yget(struct vg_yctx *c, int index, const yaml_node_t *parent)
{
    yaml_node_t *node = yaml_document_get_node(c->doc, index);
    if (!node || index < 1 || (size_t)index > c->n_nodes) {
        vg_yerr(c, parent, "malformed YAML document");
        return NULL;
    }
    if (c->seen[index - 1]) {
        vg_yerr(c, parent, "YAML aliases are not supported in rule files");
        return NULL;
    }
    c->seen[index - 1] = 1;
    return node;
}

static bool vg_yis_scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE;
}

/* The scalar as a view; NULL-free text is checked by the callers that need it. */
static struct vg_str vg_yscalar(const yaml_node_t *n)
{
    return vg_str_make(n->data.scalar.value, n->data.scalar.length);
}

/* True when a scalar is a plain (unquoted) null: empty, "~" or "null". */
static bool vg_yis_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    struct vg_str s = vg_yscalar(n);
    return s.n == 0 || vg_str_eq_lit(s, "~") || vg_str_eq_lit(s, "null") ||
           vg_str_eq_lit(s, "Null") || vg_str_eq_lit(s, "NULL");
}

/* Copies a string scalar into *out (caller frees). Rejects non-scalars, NULs, huge values. */
static vg_status vg_ystr(struct vg_yctx *c, const yaml_node_t *n, const char *what, char **out)
{
    if (!vg_yis_scalar(n) || vg_yis_null(n))
        return vg_yerr(c, n, "`%s` must be a string", what);
    struct vg_str s = vg_yscalar(n);
    if (s.n > VG_RULE_TEXT_MAX)
        return vg_yerr(c, n, "`%s` is longer than %u bytes", what, VG_RULE_TEXT_MAX);
    if (s.n && memchr(s.p, 0, s.n))
        return vg_yerr(c, n, "`%s` contains a NUL byte (write \\x00 in a pattern instead)",
                       what);
    char *d = vg_strndup((const char *)s.p, s.n);
    if (!d) {
        c->st = VG_E_NOMEM;
        return vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
    }
    vg_free(*out); /* only reached for the first assignment: duplicates are rejected earlier */
    *out = d;
    return VG_OK;
}

/* Parses a decimal integer scalar in [min, max]. */
static vg_status vg_yint(struct vg_yctx *c, const yaml_node_t *n, const char *what,
                         long long min, long long max, long long *out)
{
    if (!vg_yis_scalar(n))
        return vg_yerr(c, n, "`%s` must be an integer", what);
    struct vg_str s = vg_yscalar(n);
    size_t i = 0;
    bool neg = false;
    if (i < s.n && (s.p[i] == '-' || s.p[i] == '+'))
        neg = s.p[i++] == '-';
    if (i == s.n)
        return vg_yerr(c, n, "`%s` must be an integer", what);
    long long v = 0;
    for (; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return vg_yerr(c, n, "`%s` must be an integer", what);
        if (v > (LLONG_MAX - 9) / 10)
            return vg_yerr(c, n, "`%s` is out of range (%lld..%lld)", what, min, max);
        v = v * 10 + (s.p[i] - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max)
        return vg_yerr(c, n, "`%s` is out of range (%lld..%lld)", what, min, max);
    *out = v;
    return VG_OK;
}

/* Parses a boolean scalar: true/false (any case) or yes/no. */
static vg_status vg_ybool(struct vg_yctx *c, const yaml_node_t *n, const char *what, bool *out)
{
    if (vg_yis_scalar(n)) {
        struct vg_str s = vg_yscalar(n);
        static const char *const yes[] = {"true", "yes", "on"};
        static const char *const no[] = {"false", "no", "off"};
        for (size_t i = 0; i < VG_ARRAY_LEN(yes); i++) {
            if (vg_str_ieq(s, vg_str_make(yes[i], strlen(yes[i])))) {
                *out = true;
                return VG_OK;
            }
            if (vg_str_ieq(s, vg_str_make(no[i], strlen(no[i])))) {
                *out = false;
                return VG_OK;
            }
        }
    }
    return vg_yerr(c, n, "`%s` must be true or false", what);
}

/* Checks that a node is a sequence; returns its item count in *count. */
static vg_status vg_yseq(struct vg_yctx *c, const yaml_node_t *n, const char *what,
                         size_t *count)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return vg_yerr(c, n, "`%s` must be a list", what);
    *count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    return VG_OK;
}

/* Key of a mapping pair, which must be a scalar. */
static const yaml_node_t *vg_ykey(struct vg_yctx *c, const yaml_node_pair_t *p,
                                  const yaml_node_t *map)
{
    const yaml_node_t *k = vg_yget(c, p->key, map);
    if (!k)
        return NULL;
    if (!vg_yis_scalar(k)) {
        vg_yerr(c, k, "mapping keys must be plain words");
        return NULL;
    }
    return k;
}

/* Matches a key against a table of names; returns the index or -1 (unknown key error). */
static int vg_ykey_index(struct vg_yctx *c, const yaml_node_t *k, const char *const *names,
                         size_t n_names, unsigned *seen_mask, const char *where)
{
    struct vg_str s = vg_yscalar(k);
    for (size_t i = 0; i < n_names; i++) {
        if (vg_str_eq_lit(s, names[i])) {
            if (*seen_mask & (1u << i)) {
                vg_yerr(c, k, "duplicate key `%s` in %s", names[i], where);
                return -1;
            }
            *seen_mask |= 1u << i;
            return (int)i;
        }
    }
    char shown[64];
    size_t m = s.n < sizeof shown - 1 ? s.n : sizeof shown - 1;
    for (size_t i = 0; i < m; i++)
        shown[i] = (s.p[i] >= 0x20 && s.p[i] < 0x7f) ? (char)s.p[i] : '?';
    shown[m] = 0;
    vg_yerr(c, k, "unknown key `%s%s` in %s", shown, s.n > m ? "..." : "", where);
    return -1;
}

/* ---- examples ---------------------------------------------------------------------------- */

enum {
    VG_EX_TARGET,
    VG_EX_METHOD,
    VG_EX_UA,
    VG_EX_REFERER,
    VG_EX_BODY,
    VG_EX_COOKIE,
    VG_EX_CONTENT_TYPE,
    VG_EX_HOST,
    VG_EX_STATUS,
    VG_EX_HEADERS
};
static const char *const vg_example_keys[] = {
    "target", "method", "user_agent", "referer", "body",
    "cookie", "content_type", "host", "status", "headers",
};

/* Parses an example's `headers: {name: value, ...}`. */
static vg_status vg_parse_example_headers(struct vg_yctx *c, const yaml_node_t *v,
                                          struct vg_rule_example *ex)
{
    if (v->type != YAML_MAPPING_NODE)
        return vg_yerr(c, v, "an example's `headers` is a mapping of name: value");
    size_t cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (cnt > 64)
        return vg_yerr(c, v, "an example has more than 64 headers");
    ex->header_names = vg_calloc(cnt + 1, sizeof(char *));
    ex->header_values = vg_calloc(cnt + 1, sizeof(char *));
    if (!ex->header_names || !ex->header_values) {
        c->st = VG_E_NOMEM;
        return vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
    }
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = vg_ykey(c, p, v);
        if (!k)
            return c->st;
        const yaml_node_t *val = vg_yget(c, p->value, k);
        if (!val)
            return c->st;
        size_t i = ex->n_headers++;
        vg_status st = vg_ystr(c, k, "header name", &ex->header_names[i]);
        if (st == VG_OK)
            st = vg_ystr(c, val, "header value", &ex->header_values[i]);
        if (st != VG_OK)
            return st;
        for (const char *q = ex->header_names[i]; *q; q++)
            if (*q <= ' ' || *q >= 0x7f || *q == ':')
                return vg_yerr(c, k, "an example's header name must be one printable word");
    }
    return VG_OK;
}

/* Parses one example: a target string, or a mapping (target, method, user_agent, referer,
   body, cookie, content_type, host, status, headers). */
static vg_status vg_parse_example(struct vg_yctx *c, const yaml_node_t *n, bool must_match,
                                  struct vg_rule_example *ex)
{
    memset(ex, 0, sizeof(*ex));
    ex->must_match = must_match;
    ex->status = -1;
    if (vg_yis_scalar(n))
        return vg_ystr(c, n, "example", &ex->target);
    if (n->type != YAML_MAPPING_NODE)
        return vg_yerr(c, n, "an example is a request-target string or a mapping");
    unsigned seen = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = vg_ykey(c, p, n);
        if (!k)
            return c->st;
        int ki = vg_ykey_index(c, k, vg_example_keys, VG_ARRAY_LEN(vg_example_keys), &seen,
                               "an example");
        if (ki < 0)
            return c->st;
        const yaml_node_t *v = vg_yget(c, p->value, k);
        if (!v)
            return c->st;
        vg_status st = VG_OK;
        if (ki == VG_EX_STATUS) {
            long long x = 0;
            st = vg_yint(c, v, "status", 100, 999, &x);
            ex->status = (int)x;
        } else if (ki == VG_EX_HEADERS) {
            st = vg_parse_example_headers(c, v, ex);
        } else {
            char **dst = ki == VG_EX_TARGET         ? &ex->target
                         : ki == VG_EX_METHOD       ? &ex->method
                         : ki == VG_EX_UA           ? &ex->user_agent
                         : ki == VG_EX_REFERER      ? &ex->referer
                         : ki == VG_EX_BODY         ? &ex->body
                         : ki == VG_EX_COOKIE       ? &ex->cookie
                         : ki == VG_EX_CONTENT_TYPE ? &ex->content_type
                                                    : &ex->host;
            st = vg_ystr(c, v, vg_example_keys[ki], dst);
        }
        if (st != VG_OK)
            return st;
    }
    if (ex->target && ex->target[0] == 0)
        return vg_yerr(c, n, "an example's target may not be empty");
    if (ex->method) {
        for (const char *m = ex->method; *m; m++)
            if (*m <= ' ' || *m >= 0x7f)
                return vg_yerr(c, n, "an example's method must be one printable word");
        if (!ex->method[0])
            return vg_yerr(c, n, "an example's method may not be empty");
    }
    return VG_OK;
}

static const char *const vg_examples_keys[] = {"match", "no_match"};

/* Parses `examples: {match: [...], no_match: [...]}` into r->examples. */
static vg_status vg_parse_examples(struct vg_yctx *c, const yaml_node_t *n, struct vg_rule *r)
{
    if (n->type != YAML_MAPPING_NODE)
        return vg_yerr(c, n, "`examples` must be a mapping with `match` and/or `no_match`");
    unsigned seen = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = vg_ykey(c, p, n);
        if (!k)
            return c->st;
        int ki = vg_ykey_index(c, k, vg_examples_keys, 2, &seen, "`examples`");
        if (ki < 0)
            return c->st;
        const yaml_node_t *v = vg_yget(c, p->value, k);
        if (!v)
            return c->st;
        size_t cnt = 0;
        vg_status st = vg_yseq(c, v, vg_examples_keys[ki], &cnt);
        if (st != VG_OK)
            return st;
        if (cnt > VG_RULE_MAX_RULES - r->n_examples)
            return vg_yerr(c, v, "too many examples");
        struct vg_rule_example *ex =
            vg_realloc(r->examples, (r->n_examples + cnt + 1) * sizeof(*ex));
        if (!ex) {
            c->st = VG_E_NOMEM;
            return vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
        }
        r->examples = ex;
        for (yaml_node_item_t *it = v->data.sequence.items.start;
             it < v->data.sequence.items.top; it++) {
            const yaml_node_t *item = vg_yget(c, *it, v);
            if (!item)
                return c->st;
            st = vg_parse_example(c, item, ki == 0, &r->examples[r->n_examples]);
            r->n_examples++; /* counted even on failure so that vg_rule_fini frees it */
            if (st != VG_OK)
                return st;
        }
    }
    return VG_OK;
}

/* ---- references ---------------------------------------------------------------------- */

static vg_status vg_parse_refs(struct vg_yctx *c, const yaml_node_t *v, struct vg_rule *r)
{
    size_t cnt = 0;
    vg_status st = vg_yseq(c, v, "references", &cnt);
    if (st != VG_OK)
        return st;
    r->refs = vg_calloc(cnt + 1, sizeof(char *));
    if (!r->refs) {
        c->st = VG_E_NOMEM;
        return vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        const yaml_node_t *f = vg_yget(c, *it, v);
        if (!f)
            return c->st;
        st = vg_ystr(c, f, "references", &r->refs[r->n_refs]);
        if (st != VG_OK)
            return st;
        r->n_refs++;
    }
    return VG_OK;
}

/* Short word of a scalar for messages ("critical"), printable ASCII only. */
static void vg_yword(const yaml_node_t *n, char *out, size_t cap)
{
    size_t m = 0;
    if (vg_yis_scalar(n)) {
        struct vg_str s = vg_yscalar(n);
        for (; m < s.n && m + 1 < cap; m++)
            out[m] = (s.p[m] >= 0x20 && s.p[m] < 0x7f) ? (char)s.p[m] : '?';
    }
    out[m] = 0;
}

/* ---- conditions -------------------------------------------------------------------------- */

/* Keys of a condition: a rule's own and each item of `chain:`. */
enum {
    VG_CK_FIELDS,
    VG_CK_EXCLUDE,
    VG_CK_TRANSFORM,
    VG_CK_TRANSFORMS,
    VG_CK_OPERATOR,
    VG_CK_REGEX,
    VG_CK_VALUE,
    VG_CK_PHRASES,
    VG_CK_PHRASES_FILE,
    VG_CK_CASELESS,
    VG_CK_NEGATE,
    VG_CK_COUNT
};
static const char *const vg_cond_keys[] = {
    "fields", "exclude", "transform", "transforms", "operator", "regex",
    "value",  "phrases", "phrases_file", "caseless", "negate",
};

/* Rule keys beyond the condition keys (their index in `seen` is VG_CK_COUNT + k). */
enum {
    VG_RK_ID,
    VG_RK_MESSAGE,
    VG_RK_CLASS,
    VG_RK_SEVERITY,
    VG_RK_SCORE,
    VG_RK_PARANOIA,
    VG_RK_REFERENCES,
    VG_RK_EXAMPLES,
    VG_RK_CHAIN,
    VG_RK_GROUP,
    VG_RK_AUTHOR,
    VG_RK_SOURCE,
    VG_RK_COUNT
};
static const char *const vg_rule_keys[] = {
    "id",       "message",  "class", "severity", "score",  "paranoia",
    "references", "examples", "chain", "group",  "author", "source",
};

struct vg_severity_name {
    const char *name;
    int score;
};
/* CRS anomaly scores per severity. */
static const struct vg_severity_name vg_severities[] = {
    {"critical", 5}, {"error", 4}, {"warning", 3}, {"notice", 2},
};

static vg_status vg_ynomem(struct vg_yctx *c)
{
    c->st = VG_E_NOMEM;
    return vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
}

/* Appends a copy of (p, n) to the string vector *v (count *n_v). */
static vg_status vg_strv_add(struct vg_yctx *c, char ***v, size_t *n_v, const char *p, size_t n)
{
    if (*n_v >= VG_RULE_MAX_RULES)
        return vg_yerr(c, NULL, "list too long");
    char **nv = vg_realloc(*v, (*n_v + 1) * sizeof(char *));
    if (!nv)
        return vg_ynomem(c);
    *v = nv;
    nv[*n_v] = vg_strndup(p, n);
    if (!nv[*n_v])
        return vg_ynomem(c);
    (*n_v)++;
    return VG_OK;
}

/* `fields: [args, header:Referer, ...]` */
static vg_status vg_parse_fields(struct vg_yctx *c, const yaml_node_t *v, struct vg_cond *cd)
{
    size_t cnt = 0;
    vg_status st = vg_yseq(c, v, "fields", &cnt);
    if (st != VG_OK)
        return st;
    if (cnt == 0)
        return vg_yerr(c, v, "`fields` may not be empty");
    uint32_t mask = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        const yaml_node_t *f = vg_yget(c, *it, v);
        if (!f)
            return c->st;
        char name[32];
        struct vg_str s = vg_yis_scalar(f) ? vg_yscalar(f) : VG_STR_NULL;
        enum vg_field fld;
        if (vg_yis_scalar(f) && s.n > 7 && memcmp(s.p, "header:", 7) == 0) {
            for (size_t i = 7; i < s.n; i++)
                if (s.p[i] <= ' ' || s.p[i] >= 0x7f || s.p[i] == ':')
                    return vg_yerr(c, f, "bad header name in `fields`");
            st = vg_strv_add(c, &cd->header_names, &cd->n_header_names, (const char *)s.p + 7,
                             s.n - 7);
            if (st != VG_OK)
                return st;
            mask |= 1u << VG_F_HEADER;
            continue;
        }
        if (!vg_yis_scalar(f) || s.n == 0 || s.n >= sizeof name)
            return vg_yerr(c, f, "unknown field in `fields` (see docs/rules.md)");
        memcpy(name, s.p, s.n);
        name[s.n] = 0;
        if (strlen(name) != s.n || !vg_field_parse(name, &fld) || fld == VG_F_HEADER)
            return vg_yerr(c, f, "unknown field `%s` in `fields`%s", name,
                           strcmp(name, "header") == 0 ? " (write header:NAME)" : "");
        mask |= 1u << fld;
    }
    cd->fields = mask;
    return VG_OK;
}

/* Field families an exclusion can name: the collection fields. */
static bool vg_exclude_field_ok(const char *p, size_t n)
{
    static const char *const names[] = {"args",   "args_names", "cookie",      "cookie_names",
                                        "header", "headers",    "header_names"};
    for (size_t i = 0; i < VG_ARRAY_LEN(names); i++)
        if (strlen(names[i]) == n && memcmp(names[i], p, n) == 0)
            return true;
    return false;
}

/* `exclude: ["args:password", "cookie:/^__utm/"]` */
static vg_status vg_parse_exclude(struct vg_yctx *c, const yaml_node_t *v, struct vg_cond *cd)
{
    size_t cnt = 0;
    vg_status st = vg_yseq(c, v, "exclude", &cnt);
    if (st != VG_OK)
        return st;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        const yaml_node_t *f = vg_yget(c, *it, v);
        if (!f)
            return c->st;
        char *x = NULL;
        st = vg_ystr(c, f, "exclude", &x);
        if (st != VG_OK)
            return st;
        const char *colon = strchr(x, ':');
        size_t nl = colon ? strlen(colon + 1) : 0;
        bool ok = colon && nl > 0 && vg_exclude_field_ok(x, (size_t)(colon - x));
        if (ok && colon[1] == '/' && (nl < 3 || colon[nl] != '/'))
            ok = false;
        if (!ok) {
            vg_free(x);
            return vg_yerr(c, f, "`exclude` items are FIELD:NAME or FIELD:/regex/ with FIELD one "
                           "of args args_names cookie cookie_names header headers header_names");
        }
        char **nv = vg_realloc(cd->exclude, (cd->n_exclude + 1) * sizeof(char *));
        if (!nv) {
            vg_free(x);
            return vg_ynomem(c);
        }
        cd->exclude = nv;
        nv[cd->n_exclude++] = x;
    }
    return VG_OK;
}

/* `transforms: [urlDecodeUni, lowercase]` ([] or [none]: the base value). */
static vg_status vg_parse_tfns(struct vg_yctx *c, const yaml_node_t *v, struct vg_cond *cd)
{
    size_t cnt = 0;
    vg_status st = vg_yseq(c, v, "transforms", &cnt);
    if (st != VG_OK)
        return st;
    cd->transform = VG_T_CHAIN;
    cd->n_tfn = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        const yaml_node_t *f = vg_yget(c, *it, v);
        if (!f)
            return c->st;
        char word[64];
        vg_yword(f, word, sizeof word);
        if (!vg_yis_scalar(f) || strlen(word) != f->data.scalar.length || !word[0])
            return vg_yerr(c, f, "a transformation is a name such as urlDecodeUni");
        if (strcmp(word, "none") == 0) {
            cd->n_tfn = 0; /* as in ModSecurity: t:none clears the chain so far */
            continue;
        }
#if VG_HAVE_TFN
        enum vg_tfn t;
        int rc = vg_tfn_parse(word, strlen(word), &t);
        if (rc < 0)
            return vg_yerr(c, f, "unknown transformation `%s`", word);
        if (rc == 0)
            return vg_yerr(c, f, "transformation `%s` is not supported", word);
        if (cd->n_tfn >= VG_RULE_MAX_TFN)
            return vg_yerr(c, f, "more than %d transformations", VG_RULE_MAX_TFN);
        cd->tfn[cd->n_tfn++] = (int)t;
#else
        return vg_yerr(c, f, "transformation `%s` is not supported (this build has no "
                       "transformations)", word);
#endif
    }
    return VG_OK;
}

/* Directory part of the rule file's name ("." when none), for phrases_file. */
static void vg_src_dir(const char *src, char *out, size_t cap)
{
    const char *slash = strrchr(src, '/');
    if (!slash) {
        snprintf(out, cap, ".");
        return;
    }
    size_t n = (size_t)(slash - src);
    snprintf(out, cap, "%.*s", (int)(n ? n : 1), n ? src : "/");
}

/* Reads `phrases_file:` (one phrase a line, # comments, blank lines skipped). */
static vg_status vg_parse_phrases_file(struct vg_yctx *c, const yaml_node_t *v,
                                       struct vg_cond *cd)
{
    char *name = NULL;
    vg_status st = vg_ystr(c, v, "phrases_file", &name);
    if (st != VG_OK)
        return st;
    if (strncmp(c->src, "builtin/", 8) == 0 || strcmp(c->src, "<rules>") == 0) {
        vg_free(name);
        return vg_yerr(c, v, "`phrases_file` needs a rule file on disk");
    }
    if (name[0] == '/') {
        vg_free(name);
        return vg_yerr(c, v, "`phrases_file` is a path relative to the rule file's directory");
    }
    char dir[4096], path[8192];
    vg_src_dir(c->src, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        vg_free(name);
        return vg_yerr(c, v, "phrases_file %s is not a regular file", path);
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        st = vg_yerr(c, v, "cannot read phrases_file %s: %s", path, strerror(errno));
        vg_free(name);
        return st;
    }
    vg_free(name);
    char line[VG_RULE_TEXT_MAX];
    size_t total = 0;
    while (st == VG_OK && fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        total += n;
        if (total > VG_RULE_FILE_MAX) {
            st = vg_yerr(c, v, "phrases_file larger than %zu bytes", VG_RULE_FILE_MAX);
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        size_t a = 0;
        while (a < n && (line[a] == ' ' || line[a] == '\t'))
            a++;
        while (n > a && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (a == n || line[a] == '#')
            continue;
        st = vg_strv_add(c, &cd->phrases, &cd->n_phrases, line + a, n - a);
    }
    fclose(f);
    return st;
}

/* `phrases: [a, b]` */
static vg_status vg_parse_phrases(struct vg_yctx *c, const yaml_node_t *v, struct vg_cond *cd)
{
    size_t cnt = 0;
    vg_status st = vg_yseq(c, v, "phrases", &cnt);
    if (st != VG_OK)
        return st;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        const yaml_node_t *f = vg_yget(c, *it, v);
        if (!f)
            return c->st;
        char *x = NULL;
        st = vg_ystr(c, f, "phrases", &x);
        if (st != VG_OK)
            return st;
        bool empty = x[0] == 0;
        if (!empty)
            st = vg_strv_add(c, &cd->phrases, &cd->n_phrases, x, strlen(x));
        vg_free(x);
        if (empty)
            return vg_yerr(c, f, "a phrase may not be empty");
        if (st != VG_OK)
            return st;
    }
    return VG_OK;
}

/* Parses a decimal integer (optional sign) of a whole string. */
static bool vg_parse_num(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!s[0] || errno || !end || *end)
        return false;
    *out = v;
    return true;
}

/* Parses the value of one condition key ki into cd. */
static vg_status vg_parse_cond_key(struct vg_yctx *c, int ki, const yaml_node_t *v,
                                   struct vg_cond *cd)
{
    char word[40];
    switch (ki) {
    case VG_CK_FIELDS:
        return vg_parse_fields(c, v, cd);
    case VG_CK_EXCLUDE:
        return vg_parse_exclude(c, v, cd);
    case VG_CK_TRANSFORM:
        vg_yword(v, word, sizeof word);
        if (vg_yis_scalar(v) && strcmp(word, "decoded") == 0 && v->data.scalar.length == 7)
            cd->transform = VG_T_DECODED;
        else if (vg_yis_scalar(v) && strcmp(word, "raw") == 0 && v->data.scalar.length == 3)
            cd->transform = VG_T_RAW;
        else
            return vg_yerr(c, v, "unknown transform `%s` (decoded raw; or a `transforms:` list)",
                           word);
        return VG_OK;
    case VG_CK_TRANSFORMS:
        return vg_parse_tfns(c, v, cd);
    case VG_CK_OPERATOR: {
        vg_yword(v, word, sizeof word);
        for (int op = 0; op < VG_OP_COUNT && vg_yis_scalar(v); op++)
            if (strlen(word) == v->data.scalar.length &&
                strcmp(word, vg_rule_op_name((enum vg_rule_op)op)) == 0) {
                cd->op = (enum vg_rule_op)op;
                return VG_OK;
            }
        return vg_yerr(c, v, "unknown operator `%s` (regex phrases contains begins ends equals "
                       "within eq ne gt ge lt le sqli xss)", word);
    }
    case VG_CK_REGEX: {
        vg_status st = vg_ystr(c, v, "regex", &cd->regex);
        if (st == VG_OK && cd->regex[0] == 0)
            st = vg_yerr(c, v, "`regex` may not be empty");
        return st;
    }
    case VG_CK_VALUE:
        return vg_ystr(c, v, "value", &cd->value);
    case VG_CK_PHRASES:
        return vg_parse_phrases(c, v, cd);
    case VG_CK_PHRASES_FILE:
        return vg_parse_phrases_file(c, v, cd);
    case VG_CK_CASELESS:
        return vg_ybool(c, v, "caseless", &cd->caseless);
    case VG_CK_NEGATE:
        return vg_ybool(c, v, "negate", &cd->negate);
    default:
        return vg_yerr(c, v, "internal: unhandled key");
    }
}

/* Checks that the keys given (seen: bits of VG_CK_*) fit the operator. */
static vg_status vg_check_cond(struct vg_yctx *c, const yaml_node_t *n, uint32_t id,
                               unsigned seen, struct vg_cond *cd)
{
    enum vg_rule_op op = cd->op;
    const char *opn = vg_rule_op_name(op);
    bool lexer = op == VG_OP_SQLI || op == VG_OP_XSS;
    bool text = op >= VG_OP_CONTAINS && op <= VG_OP_WITHIN;
    bool numeric = op >= VG_OP_EQ && op <= VG_OP_LE;
    if ((seen & (1u << VG_CK_TRANSFORM)) && (seen & (1u << VG_CK_TRANSFORMS)))
        return vg_yerr(c, n, "rule %u: `transform` and `transforms` exclude each other", id);
    if (op == VG_OP_REGEX && !(seen & (1u << VG_CK_REGEX)))
        return vg_yerr(c, n, "rule %u has no `regex` (or `operator: sqli|xss`)", id);
    if (op != VG_OP_REGEX && (seen & (1u << VG_CK_REGEX)))
        return vg_yerr(c, n, "rule %u has both `operator: %s` and `regex`", id, opn);
    if (op == VG_OP_PHRASES && cd->n_phrases == 0)
        return vg_yerr(c, n, "rule %u: `operator: phrases` needs `phrases` or `phrases_file` "
                       "(with at least one phrase)", id);
    if (op != VG_OP_PHRASES &&
        (seen & ((1u << VG_CK_PHRASES) | (1u << VG_CK_PHRASES_FILE))))
        return vg_yerr(c, n, "rule %u: `phrases` need `operator: phrases`", id);
    if ((text || numeric) && !cd->value)
        return vg_yerr(c, n, "rule %u: `operator: %s` needs a `value`", id, opn);
    if (!text && !numeric && cd->value)
        return vg_yerr(c, n, "rule %u: `value` applies to operators contains begins ends "
                       "equals within eq ne gt ge lt le", id);
    if ((op == VG_OP_CONTAINS || op == VG_OP_BEGINS || op == VG_OP_ENDS) && !cd->value[0])
        return vg_yerr(c, n, "rule %u: `value` of `operator: %s` may not be empty", id, opn);
    if (numeric && !vg_parse_num(cd->value, &cd->num))
        return vg_yerr(c, n, "rule %u: `value` of `operator: %s` must be an integer", id, opn);
    if ((lexer || numeric) && (seen & (1u << VG_CK_CASELESS)))
        return vg_yerr(c, n, "rule %u: `caseless` does not apply to `operator: %s`", id, opn);
    return VG_OK;
}

/* True when a condition needs the extended engine. */
static bool vg_cond_extended(const struct vg_cond *cd, uint32_t fields, enum vg_transform t,
                             enum vg_rule_op op)
{
    return (fields & ~VG_F_LEGACY_MASK) || t == VG_T_CHAIN || op > VG_OP_XSS ||
           cd->n_exclude || cd->negate;
}

/* Parses one `chain:` item. */
static vg_status vg_parse_chain_item(struct vg_yctx *c, const yaml_node_t *n, uint32_t id,
                                     struct vg_cond *cd)
{
    memset(cd, 0, sizeof(*cd));
    cd->fields = 1u << VG_F_ARGS;
    cd->transform = VG_T_DECODED;
    cd->caseless = true;
    if (n->type != YAML_MAPPING_NODE)
        return vg_yerr(c, n, "each item of `chain` must be a mapping");
    unsigned seen = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = vg_ykey(c, p, n);
        if (!k)
            return c->st;
        int ki = vg_ykey_index(c, k, vg_cond_keys, VG_CK_COUNT, &seen, "a chain condition");
        if (ki < 0)
            return c->st;
        const yaml_node_t *v = vg_yget(c, p->value, k);
        if (!v)
            return c->st;
        vg_status st = vg_parse_cond_key(c, ki, v, cd);
        if (st != VG_OK)
            return st;
    }
    return vg_check_cond(c, n, id, seen, cd);
}

/* `chain: [{...}, ...]` */
static vg_status vg_parse_chain(struct vg_yctx *c, const yaml_node_t *v, struct vg_rule *r)
{
    size_t cnt = 0;
    vg_status st = vg_yseq(c, v, "chain", &cnt);
    if (st != VG_OK)
        return st;
    if (cnt > 64)
        return vg_yerr(c, v, "a rule may chain at most 64 conditions");
    r->chain = vg_calloc(cnt ? cnt : 1, sizeof(*r->chain));
    if (!r->chain)
        return vg_ynomem(c);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        const yaml_node_t *item = vg_yget(c, *it, v);
        if (!item)
            return c->st;
        st = vg_parse_chain_item(c, item, r->id, &r->chain[r->n_chain]);
        r->n_chain++; /* counted even on failure so that vg_rule_fini frees it */
        if (st != VG_OK)
            return st;
    }
    return VG_OK;
}

/* ---- rules ------------------------------------------------------------------------------- */

/* A one-line printable text (message, group, author, source). */
static vg_status vg_yline(struct vg_yctx *c, const yaml_node_t *v, const char *what, char **out)
{
    vg_status st = vg_ystr(c, v, what, out);
    if (st == VG_OK && !(*out)[0])
        st = vg_yerr(c, v, "`%s` may not be empty", what);
    return st;
}

/* Parses one rule mapping into *r (zeroed first). */
static vg_status vg_parse_rule(struct vg_yctx *c, const yaml_node_t *n, struct vg_rule *r)
{
    memset(r, 0, sizeof(*r));
    if (n->type != YAML_MAPPING_NODE)
        return vg_yerr(c, n, "each item of `rules` must be a mapping");
    r->paranoia = 1;
    r->score = -1;
    struct vg_cond *cd = &r->cond; /* the rule's own condition, whole until the end */
    cd->fields = 1u << VG_F_ARGS;
    cd->transform = VG_T_DECODED;
    cd->caseless = true;

    char src[300];
    snprintf(src, sizeof src, "%s:%zu", c->src, (size_t)n->start_mark.line + 1);
    r->source = vg_strdup(src);
    if (!r->source)
        return vg_ynomem(c);

    /* Key names: the condition keys, then the rule keys. */
    const char *names[VG_CK_COUNT + VG_RK_COUNT];
    for (int i = 0; i < VG_CK_COUNT; i++)
        names[i] = vg_cond_keys[i];
    for (int i = 0; i < VG_RK_COUNT; i++)
        names[VG_CK_COUNT + i] = vg_rule_keys[i];
    const yaml_node_t *chain_node = NULL;
    unsigned seen = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = vg_ykey(c, p, n);
        if (!k)
            return c->st;
        int ki = vg_ykey_index(c, k, names, VG_ARRAY_LEN(names), &seen, "a rule");
        if (ki < 0)
            return c->st;
        const yaml_node_t *v = vg_yget(c, p->value, k);
        if (!v)
            return c->st;
        vg_status st = VG_OK;
        long long x;
        char word[40];
        if (ki < VG_CK_COUNT) {
            st = vg_parse_cond_key(c, ki, v, cd);
            if (st != VG_OK)
                return st;
            continue;
        }
        switch (ki - VG_CK_COUNT) {
        case VG_RK_ID:
            st = vg_yint(c, v, "id", 1, UINT32_MAX, &x);
            r->id = (uint32_t)x;
            break;
        case VG_RK_MESSAGE:
            st = vg_ystr(c, v, "message", &r->message);
            break;
        case VG_RK_CLASS: {
            enum vg_class cl;
            vg_yword(v, word, sizeof word);
            if (!vg_yis_scalar(v) || strlen(word) != v->data.scalar.length ||
                !vg_class_parse(word, &cl))
                st = vg_yerr(c, v, "unknown class `%s` (sqli xss traversal rfi cmdi code ssti "
                             "probe tool protocol session)", word);
            else
                r->class_ = cl;
            break;
        }
        case VG_RK_SEVERITY: {
            int score = -1;
            vg_yword(v, word, sizeof word);
            for (size_t i = 0; i < VG_ARRAY_LEN(vg_severities); i++)
                if (vg_yis_scalar(v) && strlen(word) == v->data.scalar.length &&
                    strcmp(word, vg_severities[i].name) == 0)
                    score = vg_severities[i].score;
            if (score < 0)
                st = vg_yerr(c, v, "unknown severity `%s` (critical error warning notice)",
                             word);
            else
                r->score = score;
            break;
        }
        case VG_RK_SCORE:
            st = vg_yint(c, v, "score", 0, VG_RULE_SCORE_MAX, &x);
            r->score = (int)x;
            break;
        case VG_RK_PARANOIA:
            st = vg_yint(c, v, "paranoia", 1, 4, &x);
            r->paranoia = (int)x;
            break;
        case VG_RK_REFERENCES:
            st = vg_parse_refs(c, v, r);
            break;
        case VG_RK_EXAMPLES:
            st = vg_parse_examples(c, v, r);
            break;
        case VG_RK_CHAIN:
            chain_node = v; /* parsed once the id is known */
            break;
        case VG_RK_GROUP:
            st = vg_yline(c, v, "group", &r->group);
            break;
        case VG_RK_AUTHOR:
            st = vg_yline(c, v, "author", &r->author);
            break;
        case VG_RK_SOURCE: {
            char *s2 = NULL;
            st = vg_yline(c, v, "source", &s2);
            if (st == VG_OK) {
                vg_free(r->source);
                r->source = s2;
            }
            break;
        }
        default:
            st = vg_yerr(c, k, "internal: unhandled key");
            break;
        }
        if (st != VG_OK)
            return st;
    }
    unsigned rseen = seen >> VG_CK_COUNT;
    if (!(rseen & (1u << VG_RK_ID)))
        return vg_yerr(c, n, "rule has no `id`");
    if (!(rseen & (1u << VG_RK_MESSAGE)))
        return vg_yerr(c, n, "rule %u has no `message`", r->id);
    if (!(rseen & (1u << VG_RK_CLASS)))
        return vg_yerr(c, n, "rule %u has no `class`", r->id);
    vg_status st = vg_check_cond(c, n, r->id, seen & ((1u << VG_CK_COUNT) - 1), cd);
    if (st != VG_OK)
        return st;
    if ((rseen & (1u << VG_RK_SEVERITY)) && (rseen & (1u << VG_RK_SCORE)))
        return vg_yerr(c, n, "rule %u has both `severity` and `score`", r->id);
    if (r->score < 0)
        return vg_yerr(c, n, "rule %u has neither `severity` nor `score`", r->id);
    if (chain_node) {
        st = vg_parse_chain(c, chain_node, r);
        if (st != VG_OK)
            return st;
    }
    /* The rule's own condition: fields, transform, op, regex and caseless move to the rule. */
    r->fields = cd->fields;
    r->transform = cd->transform;
    r->op = cd->op;
    r->regex = cd->regex;
    cd->regex = NULL;
    r->caseless = cd->caseless;
    r->extended = vg_cond_extended(cd, r->fields, r->transform, r->op) || r->n_chain > 0;
    return VG_OK;
}

/* Parses the whole document into a fresh array of rules (*out, *n_out). */
static vg_status vg_parse_document(struct vg_yctx *c, const struct vg_ruleset *rs,
                                   struct vg_rule **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (!root)
        return vg_yerr(c, NULL, "empty rule file (expected a mapping with `rules:`)");
    c->seen[0] = 1; /* the root is node 1 */
    if (root->type != YAML_MAPPING_NODE)
        return vg_yerr(c, root, "a rule file is a mapping with a `rules:` list");
    const yaml_node_t *rules = NULL;
    static const char *const top_keys[] = {"rules"};
    unsigned seen = 0;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = vg_ykey(c, p, root);
        if (!k)
            return c->st;
        if (vg_ykey_index(c, k, top_keys, 1, &seen, "the top level") < 0)
            return c->st;
        rules = vg_yget(c, p->value, k);
        if (!rules)
            return c->st;
    }
    if (!rules)
        return vg_yerr(c, root, "no `rules:` list");
    size_t cnt = 0;
    vg_status st = vg_yseq(c, rules, "rules", &cnt);
    if (st != VG_OK)
        return st;
    if (cnt > VG_RULE_MAX_RULES)
        return vg_yerr(c, rules, "too many rules (more than %u)", VG_RULE_MAX_RULES);
    struct vg_rule *arr = vg_calloc(cnt ? cnt : 1, sizeof(*arr));
    if (!arr) {
        c->st = VG_E_NOMEM;
        return vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
    }
    size_t n = 0;
    st = VG_OK;
    for (yaml_node_item_t *it = rules->data.sequence.items.start;
         it < rules->data.sequence.items.top; it++) {
        const yaml_node_t *item = vg_yget(c, *it, rules);
        if (!item) {
            st = c->st;
            break;
        }
        st = vg_parse_rule(c, item, &arr[n]);
        n++;
        if (st != VG_OK)
            break;
        uint32_t id = arr[n - 1].id;
        for (size_t i = 0; i + 1 < n && st == VG_OK; i++)
            if (arr[i].id == id)
                st = vg_yerr(c, item, "duplicate rule id %u (first defined at %s)", id,
                             arr[i].source);
        for (size_t i = 0; i < rs->n && st == VG_OK; i++)
            if (rs->rules[i].id == id)
                st = vg_yerr(c, item, "duplicate rule id %u (already defined at %s)", id,
                             rs->rules[i].source);
        if (st != VG_OK)
            break;
    }
    if (st != VG_OK) {
        for (size_t i = 0; i < n; i++)
            vg_rule_fini(&arr[i]);
        vg_free(arr);
        return st;
    }
    *out = arr;
    *n_out = n;
    return VG_OK;
}

/*
 * Parses YAML rule text and appends its rules to rs. On error nothing is appended and err names
 * source_name, the 1-based line and the problem. Returns VG_E_RULES (bad file), VG_E_NOMEM or
 * VG_E_LIMIT. Patterns are not compiled here (vg_detector_new does that).
 */
vg_status vg_ruleset_load_yaml(struct vg_ruleset *rs, const uint8_t *buf, size_t n,
                               const char *source_name, struct vg_error *err)
{
    if (!rs || (!buf && n))
        return vg_error_set(err, VG_E_INVAL, source_name, 0, "invalid argument");
    const char *src = source_name ? source_name : "<rules>";
    if (n > VG_RULE_FILE_MAX)
        return vg_error_set(err, VG_E_LIMIT, src, 0, "%s: rule file larger than %zu bytes",
                            src, VG_RULE_FILE_MAX);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return vg_error_set(err, VG_E_NOMEM, src, 0, "out of memory");
    static const unsigned char empty[1] = {0};
    yaml_parser_set_input_string(&parser, buf ? buf : empty, n);
    yaml_document_t doc;
    if (!yaml_parser_load(&parser, &doc)) {
        size_t line = (size_t)parser.problem_mark.line + 1;
        vg_status st = parser.error == YAML_MEMORY_ERROR ? VG_E_NOMEM : VG_E_RULES;
        vg_error_set(err, st, src, line, "%s:%zu: YAML error: %s%s%s", src, line,
                     parser.problem ? parser.problem : "syntax error",
                     parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return st;
    }
    struct vg_yctx c = {.doc = &doc, .src = src, .err = err, .st = VG_OK};
    c.n_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
    c.seen = vg_calloc(c.n_nodes ? c.n_nodes : 1, 1);
    struct vg_rule *arr = NULL;
    size_t cnt = 0;
    vg_status st;
    if (!c.seen)
        st = vg_error_set(err, VG_E_NOMEM, src, 0, "out of memory");
    else
        st = vg_parse_document(&c, rs, &arr, &cnt);
    vg_free(c.seen);
    yaml_document_delete(&doc);

    if (st == VG_OK) {
        /* A second document in the same file is a mistake we refuse to ignore silently. */
        yaml_document_t doc2;
        if (!yaml_parser_load(&parser, &doc2)) {
            size_t line = (size_t)parser.problem_mark.line + 1;
            st = vg_error_set(err, VG_E_RULES, src, line, "%s:%zu: YAML error: %s", src, line,
                              parser.problem ? parser.problem : "syntax error");
        } else {
            yaml_node_t *r2 = yaml_document_get_root_node(&doc2);
            if (r2) {
                size_t line = (size_t)r2->start_mark.line + 1;
                st = vg_error_set(err, VG_E_RULES, src, line,
                                  "%s:%zu: more than one YAML document in a rule file", src,
                                  line);
            }
            yaml_document_delete(&doc2);
        }
    }
    yaml_parser_delete(&parser);
    if (st == VG_OK)
        st = vg_ruleset_reserve(rs, cnt);
    if (st == VG_E_LIMIT)
        vg_error_set(err, st, src, 0, "%s: too many rules in the rule set", src);
    if (st != VG_OK) {
        for (size_t i = 0; i < cnt; i++)
            vg_rule_fini(&arr[i]);
        vg_free(arr);
        return st;
    }
    if (cnt)
        memcpy(rs->rules + rs->n, arr, cnt * sizeof(*arr));
    rs->n += cnt;
    vg_free(arr);
    return VG_OK;
}

/* ---- files and directories --------------------------------------------------------------- */

/* Reads a whole regular file (at most VG_RULE_FILE_MAX bytes) into *out (caller frees). */
static vg_status vg_read_file(const char *path, uint8_t **out, size_t *n, struct vg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    size_t cap = 8192, len = 0;
    uint8_t *buf = vg_malloc(cap);
    vg_status st = buf ? VG_OK : VG_E_NOMEM;
    while (st == VG_OK) {
        if (len == cap) {
            if (cap > VG_RULE_FILE_MAX) {
                st = vg_error_set(err, VG_E_LIMIT, path, 0, "%s: larger than %zu bytes", path,
                                  VG_RULE_FILE_MAX);
                break;
            }
            uint8_t *nb = vg_realloc(buf, cap * 2);
            if (!nb) {
                st = VG_E_NOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                st = vg_error_set(err, VG_E_IO, path, 0, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st == VG_E_NOMEM)
        vg_error_set(err, st, path, 0, "out of memory");
    if (st != VG_OK) {
        vg_free(buf);
        return st;
    }
    *out = buf;
    *n = len;
    return VG_OK;
}

static vg_status vg_load_file(struct vg_ruleset *rs, const char *path, struct vg_error *err)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    vg_status st = vg_read_file(path, &buf, &n, err);
    if (st != VG_OK)
        return st;
    st = vg_ruleset_load_yaml(rs, buf, n, path, err);
    vg_free(buf);
    return st;
}

static bool vg_is_rule_file_name(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.')
        return false;
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int vg_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static vg_status vg_load_dir(struct vg_ruleset *rs, const char *path, struct vg_error *err)
{
    DIR *d = opendir(path);
    if (!d)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    vg_status st = VG_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!vg_is_rule_file_name(e->d_name))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
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
    if (st == VG_E_NOMEM)
        vg_error_set(err, st, path, 0, "out of memory");
    if (st == VG_OK && n)
        qsort(names, n, sizeof(*names), vg_cmp_names);
    for (size_t i = 0; i < n && st == VG_OK; i++) {
        struct stat sb;
        if (stat(names[i], &sb) == 0 && !S_ISREG(sb.st_mode))
            continue;
        st = vg_load_file(rs, names[i], err);
    }
    for (size_t i = 0; i < n; i++)
        vg_free(names[i]);
    vg_free(names);
    return st;
}

/*
 * Loads a YAML rule file, or every *.yaml / *.yml regular file of a directory (not recursive,
 * dot files skipped) in byte order of their names. All or nothing: on error the rule set is as
 * before the call and err names the file and line.
 */
vg_status vg_ruleset_load_path(struct vg_ruleset *rs, const char *path, struct vg_error *err)
{
    if (!rs || !path)
        return vg_error_set(err, VG_E_INVAL, path, 0, "invalid argument");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    size_t before = rs->n;
    vg_status st = S_ISDIR(sb.st_mode) ? vg_load_dir(rs, path, err) : vg_load_file(rs, path, err);
    if (st != VG_OK)
        vg_ruleset_truncate(rs, before);
    return st;
}

/*
 * Loads the built-in rules (the rules/ YAML files embedded at build time, in name order). Their sources
 * read "builtin/<file>:<line>". All or nothing, like vg_ruleset_load_path.
 */
vg_status vg_ruleset_load_builtin(struct vg_ruleset *rs, struct vg_error *err)
{
    if (!rs)
        return vg_error_set(err, VG_E_INVAL, NULL, 0, "invalid argument");
    size_t before = rs->n;
    vg_status st = VG_OK;
    for (unsigned long i = 0; i < vg_builtin_rule_file_count && vg_builtin_rule_files[i].name;
         i++) {
        char src[256];
        snprintf(src, sizeof src, "builtin/%s", vg_builtin_rule_files[i].name);
        st = vg_ruleset_load_yaml(rs, vg_builtin_rule_files[i].data,
                                  (size_t)vg_builtin_rule_files[i].len, src, err);
        if (st != VG_OK)
            break;
    }
    if (st != VG_OK)
        vg_ruleset_truncate(rs, before);
    return st;
}
