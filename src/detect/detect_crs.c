/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_crs.c: OWASP CRS (ModSecurity rule language) to vigil native rules (detect_crs.h).
 *
 * Pipeline: read a .conf file -> split it into logical directives (Apache line continuations)
 * -> split a directive into words (Apache quoting: only backslash-quote is an escape) -> parse
 * SecRule's variables, operator and actions -> translate the rule and its chain links into one
 * native rule, written as one JSON-style YAML flow mapping -> check the operator's pattern with
 * PCRE2 -> load that one rule with vg_ruleset_load_yaml (a refusal is a skip) -> append the text
 * to the import's YAML. What cannot be translated exactly enough is recorded as a skip with a
 * reason (enum vg_crs_reason) and a detail.
 *
 * Security note: .conf and .data files may come from users. File sizes, directive sizes, chain
 * lengths and phrase counts are capped; the parsers are iterative cursors over (ptr, len) input;
 * every string written into the generated YAML goes through crs_yaml_str, which escapes quotes,
 * backslashes and control characters and never lets invalid UTF-8 through.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "decode/decode_transform.h"
#include "detect/detect_crs.h"
#include "detect/detect_int.h" /* also pcre2.h, 8-bit code units */
#include "detect/detect_sqli.h"
#include "detect/detect_xss.h"

/* ---- reasons ----------------------------------------------------------------------------- */

static const char *const crs_reason_names[VG_CRS_R_COUNT_] = {
    [VG_CRS_R_FILE] = "not a request-detection file",
    [VG_CRS_R_DIRECTIVE] = "no detection (SecAction, SecMarker, other directive)",
    [VG_CRS_R_CONTROL] = "control flow (skipAfter/skip)",
    [VG_CRS_R_NOSCORE] = "no anomaly score (sets variables or settings only)",
    [VG_CRS_R_VARIABLE] = "variables not in an access log",
    [VG_CRS_R_COUNT] = "counts a collection (&VAR)",
    [VG_CRS_R_SELECTOR] = "selects named instances vigil cannot select",
    [VG_CRS_R_OPERATOR] = "operator not supported",
    [VG_CRS_R_TRANSFORM] = "transformation not supported",
    [VG_CRS_R_MACRO] = "run-time macro in the operator argument",
    [VG_CRS_R_PATTERN] = "pattern not usable",
    [VG_CRS_R_SYNTAX] = "syntax error",
    [VG_CRS_R_LOADER] = "refused by the rule loader",
};

const char *vg_crs_reason_name(enum vg_crs_reason r)
{
    return (unsigned)r < VG_CRS_R_COUNT_ ? crs_reason_names[r] : NULL;
}

/* ---- the import -------------------------------------------------------------------------- */

void vg_crs_import_free(struct vg_crs_import *imp)
{
    if (!imp)
        return;
    vg_buf_fini(&imp->yaml);
    for (size_t i = 0; i < imp->n_skips; i++) {
        vg_free(imp->skips[i].source);
        vg_free(imp->skips[i].detail);
    }
    vg_free(imp->skips);
    vg_free(imp);
}

static vg_status crs_import_new(struct vg_crs_import **out)
{
    struct vg_crs_import *imp = vg_calloc(1, sizeof *imp);
    if (!imp)
        return VG_E_NOMEM;
    vg_buf_init(&imp->yaml, (size_t)64 << 20);
    vg_bputs(&imp->yaml, "rules:\n");
    if (imp->yaml.err != VG_OK) {
        vg_crs_import_free(imp);
        return VG_E_NOMEM;
    }
    *out = imp;
    return VG_OK;
}

/* A default value of a TX variable (from setvar:'tx.name=value'), for %{tx.name} macros. */
struct crs_txvar {
    char *name; /* lower case, without "tx." */
    char *value;
};

/* Translation state of one import. */
struct crs_ctx {
    struct vg_crs_import *imp;
    struct vg_ruleset *rs;  /* where translated rules are loaded (the target or a scratch) */
    const char *file;       /* base name of the current .conf file */
    const char *data_dir;   /* directory of .data files, or NULL */
    const char *file_class; /* class from the file name, or NULL */
    bool file_skip;         /* the file is not a request-detection file */
    const char *file_skip_why;
    int gate_pl; /* paranoia level of the last paranoia gate seen in the file */
    struct crs_txvar *tx;
    size_t n_tx;
    struct vg_arena arena; /* per-directive strings, reset after each directive */
    vg_status st;          /* first hard error (out of memory) */
};

/* Records a skip. Out of memory is remembered in c->st. */
static void crs_skip(struct crs_ctx *c, uint32_t id, size_t line, enum vg_crs_reason why,
                     const char *fmt, ...) VG_PRINTF(5, 6);

static void crs_skip(struct crs_ctx *c, uint32_t id, size_t line, enum vg_crs_reason why,
                     const char *fmt, ...)
{
    struct vg_crs_import *imp = c->imp;
    if (imp->n_skips == imp->cap_skips) {
        size_t cap = imp->cap_skips ? imp->cap_skips * 2 : 64;
        struct vg_crs_skip *p = vg_realloc(imp->skips, cap * sizeof *p);
        if (!p) {
            c->st = VG_E_NOMEM;
            return;
        }
        imp->skips = p;
        imp->cap_skips = cap;
    }
    char src[512], detail[512];
    snprintf(src, sizeof src, "%s:%zu", c->file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    struct vg_crs_skip *s = &imp->skips[imp->n_skips];
    s->id = id;
    s->reason = why;
    s->source = vg_strdup(src);
    s->detail = vg_strdup(detail);
    if (!s->source || !s->detail) {
        vg_free(s->source);
        vg_free(s->detail);
        c->st = VG_E_NOMEM;
        return;
    }
    imp->n_skips++;
    imp->by_reason[why]++;
}

/* ---- small string helpers ---------------------------------------------------------------- */

static bool crs_ieq(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

static bool crs_iprefix(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool crs_is_space(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* Copies [p, p+n) into the arena as a NUL-terminated string; NULL on failure. */
static char *crs_dup(struct crs_ctx *c, const char *p, size_t n)
{
    char *d = vg_arena_alloc(&c->arena, n + 1);
    if (!d) {
        c->st = VG_E_NOMEM;
        return NULL;
    }
    if (n)
        memcpy(d, p, n);
    d[n] = 0;
    return d;
}

/* ---- files ------------------------------------------------------------------------------- */

/* Reads a whole regular file of at most VG_CRS_FILE_MAX bytes (caller frees *out). */
static vg_status crs_read_file(const char *path, uint8_t **out, size_t *n, struct vg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    size_t cap = 65536, len = 0;
    uint8_t *buf = vg_malloc(cap + 1);
    vg_status st = buf ? VG_OK : VG_E_NOMEM;
    while (st == VG_OK) {
        if (len == cap) {
            if (cap >= VG_CRS_FILE_MAX) {
                st = vg_error_set(err, VG_E_LIMIT, path, 0, "%s: larger than %zu bytes", path,
                                  VG_CRS_FILE_MAX);
                break;
            }
            uint8_t *nb = vg_realloc(buf, cap * 2 + 1);
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
    buf[len] = 0;
    *out = buf;
    *n = len;
    return VG_OK;
}

/* ---- directives -------------------------------------------------------------------------- */

struct crs_reader {
    const uint8_t *p, *end;
    size_t line; /* lines consumed so far */
};

/*
 * Joins the next logical directive into buf (comments and blank lines skipped; a line ending in
 * a backslash continues on the next line, whose leading white space is dropped, as Apache
 * does). *line: 1-based line where it starts. Returns false at the end of input.
 */
static bool crs_next_directive(struct crs_reader *r, struct vg_buf *buf, size_t *line)
{
    vg_buf_reset(buf);
    bool cont = false;
    while (r->p < r->end) {
        const uint8_t *s = r->p;
        const uint8_t *eol = memchr(s, '\n', (size_t)(r->end - s));
        const uint8_t *e = eol ? eol : r->end;
        r->p = eol ? eol + 1 : r->end;
        r->line++;
        while (s < e && crs_is_space(*s))
            s++;
        while (e > s && crs_is_space(e[-1]))
            e--;
        if (!cont && (s == e || *s == '#'))
            continue;
        if (!cont)
            *line = r->line;
        cont = e > s && e[-1] == '\\';
        if (cont)
            e--;
        if (buf->n + (size_t)(e - s) <= VG_CRS_DIRECTIVE_MAX)
            vg_bput(buf, s, (size_t)(e - s));
        if (!cont)
            return true;
    }
    return cont || buf->n > 0;
}

/*
 * Next word of a directive (Apache ap_getword_conf / substring_conf): white space separates
 * words; a word in double or single quotes ends at the matching quote. Backslash + backslash
 * is one backslash (so CRS writes a literal backslash of a pattern as \\\\), and inside quotes
 * backslash + that quote is the quote; every other backslash is kept as it is.
 * Returns 1 and a copy in *out, 0 at the end, -1 on an unterminated quote.
 */
static int crs_word(struct crs_ctx *c, const char **cur, const char *end, char **out)
{
    const char *p = *cur;
    while (p < end && crs_is_space((unsigned char)*p))
        p++;
    if (p == end) {
        *cur = p;
        return 0;
    }
    char q = *p;
    bool quoted = q == '"' || q == '\'';
    if (quoted)
        p++;
    else
        q = 0;
    char *d = vg_arena_alloc(&c->arena, (size_t)(end - p) + 1);
    if (!d) {
        c->st = VG_E_NOMEM;
        return -1;
    }
    size_t n = 0;
    while (p < end && (quoted ? *p != q : !crs_is_space((unsigned char)*p))) {
        if (*p == '\\' && p + 1 < end && (p[1] == '\\' || (quoted && p[1] == q))) {
            d[n++] = p[1];
            p += 2;
        } else {
            d[n++] = *p++;
        }
    }
    if (quoted && p == end)
        return -1;
    d[n] = 0;
    *out = d;
    *cur = quoted ? p + 1 : p;
    return 1;
}

/* ---- actions ----------------------------------------------------------------------------- */

#define CRS_MAX_T 32

struct crs_actions {
    uint32_t id;
    bool has_id;
    const char *msg;
    const char *severity;
    const char *ver;
    const char *attack_tag; /* first "attack-*" tag */
    const char *capec;      /* last number of a "capec/..." tag */
    int tag_pl;             /* from tag paranoia-level/N; 0 when absent */
    int score_level;        /* from setvar ...anomaly_score...=+%{tx.LEVEL_anomaly_score} */
    bool anomaly;           /* some setvar adds to an anomaly score */
    bool chain, control, multimatch;
    const char *transforms[CRS_MAX_T];
    size_t n_t;
    const char *setvars[16]; /* "tx.name=value" texts (for TX defaults) */
    size_t n_setvars;
};

/* Score of a severity word or number (ModSecurity: 2 critical .. 5 notice); 0 when unknown. */
static int crs_severity_score(const char *s)
{
    if (!s)
        return 0;
    if (crs_ieq(s, "CRITICAL") || strcmp(s, "2") == 0)
        return 5;
    if (crs_ieq(s, "ERROR") || strcmp(s, "3") == 0)
        return 4;
    if (crs_ieq(s, "WARNING") || strcmp(s, "4") == 0)
        return 3;
    if (crs_ieq(s, "NOTICE") || strcmp(s, "5") == 0)
        return 2;
    if (crs_ieq(s, "EMERGENCY") || crs_ieq(s, "ALERT") || strcmp(s, "0") == 0 ||
        strcmp(s, "1") == 0)
        return 5;
    return 0;
}

static void crs_note_setvar(struct crs_actions *a, const char *v)
{
    if (a->n_setvars < VG_ARRAY_LEN(a->setvars))
        a->setvars[a->n_setvars++] = v;
    const char *eq = strchr(v, '=');
    if (!eq)
        return;
    /* "tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}" (3.x), "tx.inbound_anomaly_score_pl1"
       (4.x) */
    bool anomaly = false;
    for (const char *p = v; p + 13 <= eq; p++)
        if (strncasecmp(p, "anomaly_score", 13) == 0)
            anomaly = true;
    if (!anomaly || eq[1] != '+')
        return;
    a->anomaly = true;
    static const struct {
        const char *name;
        int score;
    } lv[] = {{"critical_anomaly_score", 5},
              {"error_anomaly_score", 4},
              {"warning_anomaly_score", 3},
              {"notice_anomaly_score", 2}};
    for (size_t i = 0; i < VG_ARRAY_LEN(lv); i++)
        if (strcasestr(eq, lv[i].name))
            a->score_level = lv[i].score;
    if (!a->score_level) {
        long n = strtol(eq + 2, NULL, 10);
        if (n > 0 && n <= 1000)
            a->score_level = (int)n;
    }
}

/*
 * Parses a ModSecurity actions list: name[:value] items separated by commas; a value may be in
 * single quotes (\' and \\ are escapes inside them). Returns false on a syntax error.
 */
static bool crs_parse_actions(struct crs_ctx *c, const char *s, struct crs_actions *a)
{
    const char *p = s, *end = s + strlen(s);
    while (p < end) {
        while (p < end && (crs_is_space((unsigned char)*p) || *p == ','))
            p++;
        if (p == end)
            break;
        const char *ns = p;
        while (p < end && *p != ':' && *p != ',' && !crs_is_space((unsigned char)*p))
            p++;
        char *name = crs_dup(c, ns, (size_t)(p - ns));
        if (!name)
            return false;
        while (p < end && crs_is_space((unsigned char)*p))
            p++;
        char *val = NULL;
        if (p < end && *p == ':') {
            p++;
            while (p < end && crs_is_space((unsigned char)*p))
                p++;
            if (p < end && *p == '\'') {
                p++;
                char *d = vg_arena_alloc(&c->arena, (size_t)(end - p) + 1);
                if (!d) {
                    c->st = VG_E_NOMEM;
                    return false;
                }
                size_t n = 0;
                while (p < end && *p != '\'') {
                    if (*p == '\\' && p + 1 < end && (p[1] == '\'' || p[1] == '\\'))
                        p++;
                    d[n++] = *p++;
                }
                if (p == end)
                    return false;
                p++;
                d[n] = 0;
                val = d;
            } else {
                const char *vs = p;
                while (p < end && *p != ',')
                    p++;
                const char *ve = p;
                while (ve > vs && crs_is_space((unsigned char)ve[-1]))
                    ve--;
                val = crs_dup(c, vs, (size_t)(ve - vs));
                if (!val)
                    return false;
            }
        }
        if (crs_ieq(name, "id") && val) {
            char *e;
            unsigned long id = strtoul(val, &e, 10);
            if (*e || id == 0 || id > 0xffffffffUL)
                return false;
            a->id = (uint32_t)id;
            a->has_id = true;
        } else if (crs_ieq(name, "msg") && val) {
            a->msg = val;
        } else if (crs_ieq(name, "severity") && val) {
            a->severity = val;
        } else if (crs_ieq(name, "ver") && val) {
            a->ver = val;
        } else if (crs_ieq(name, "tag") && val) {
            if (crs_iprefix(val, "paranoia-level/"))
                a->tag_pl = atoi(val + 15);
            else if (crs_iprefix(val, "attack-") && !a->attack_tag)
                a->attack_tag = val;
            else if (crs_iprefix(val, "capec/")) {
                const char *last = strrchr(val, '/');
                a->capec = last + 1;
            }
        } else if (crs_ieq(name, "t") && val) {
            if (crs_ieq(val, "none"))
                a->n_t = 0;
            else if (a->n_t < CRS_MAX_T)
                a->transforms[a->n_t++] = val;
            else
                return false;
        } else if (crs_ieq(name, "chain")) {
            a->chain = true;
        } else if (crs_ieq(name, "skipAfter") || crs_ieq(name, "skip")) {
            a->control = true;
        } else if (crs_ieq(name, "multiMatch")) {
            a->multimatch = true;
        } else if (crs_ieq(name, "setvar") && val) {
            crs_note_setvar(a, val);
        }
    }
    return true;
}

/* ---- TX defaults ------------------------------------------------------------------------- */

/* Remembers tx.name=value (first one wins; values holding macros or increments are ignored). */
static void crs_tx_remember(struct crs_ctx *c, const char *sv)
{
    if (!crs_iprefix(sv, "tx."))
        return;
    const char *eq = strchr(sv, '=');
    if (!eq || eq == sv + 3 || eq[1] == '+' || eq[1] == '-' || strstr(eq, "%{"))
        return;
    size_t nl = (size_t)(eq - sv - 3);
    for (size_t i = 0; i < c->n_tx; i++)
        if (strlen(c->tx[i].name) == nl && strncasecmp(c->tx[i].name, sv + 3, nl) == 0)
            return;
    if (c->n_tx >= VG_CRS_MAX_TXVARS)
        return;
    if (c->n_tx % 32 == 0) {
        struct crs_txvar *p = vg_realloc(c->tx, (c->n_tx + 32) * sizeof *p);
        if (!p) {
            c->st = VG_E_NOMEM;
            return;
        }
        c->tx = p;
    }
    char *name = vg_strndup(sv + 3, nl);
    char *value = vg_strdup(eq + 1);
    if (!name || !value) {
        vg_free(name);
        vg_free(value);
        c->st = VG_E_NOMEM;
        return;
    }
    for (char *q = name; *q; q++)
        *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
    c->tx[c->n_tx].name = name;
    c->tx[c->n_tx].value = value;
    c->n_tx++;
}

static const char *crs_tx_lookup(const struct crs_ctx *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->n_tx; i++)
        if (strlen(c->tx[i].name) == n && strncasecmp(c->tx[i].name, name, n) == 0)
            return c->tx[i].value;
    return NULL;
}

/*
 * Expands %{tx.name} macros of an operator argument with the TX defaults. Returns the expanded
 * string (arena), or NULL with *bad naming the first macro that has no static value.
 */
static char *crs_expand(struct crs_ctx *c, const char *arg, const char **bad)
{
    if (!strstr(arg, "%{"))
        return (char *)arg;
    struct vg_buf b;
    vg_buf_init(&b, VG_CRS_DIRECTIVE_MAX);
    const char *p = arg;
    char *res = NULL;
    while (*p) {
        const char *m = strstr(p, "%{");
        if (!m) {
            vg_bputs(&b, p);
            break;
        }
        vg_bput(&b, p, (size_t)(m - p));
        const char *close = strchr(m, '}');
        if (!close) {
            vg_bputs(&b, m);
            break;
        }
        const char *name = m + 2;
        size_t n = (size_t)(close - name);
        const char *v = NULL;
        if (n > 3 && strncasecmp(name, "tx.", 3) == 0)
            v = crs_tx_lookup(c, name + 3, n - 3);
        if (!v) {
            *bad = crs_dup(c, m, (size_t)(close - m + 1));
            vg_buf_fini(&b);
            return NULL;
        }
        vg_bputs(&b, v);
        p = close + 1;
    }
    if (b.err == VG_OK)
        res = crs_dup(c, b.p ? (const char *)b.p : "", b.n);
    else
        c->st = b.err;
    vg_buf_fini(&b);
    return res;
}

/* ---- variables --------------------------------------------------------------------------- */

struct crs_var {
    bool neg, count;
    const char *name;
    const char *sel; /* selector text (quotes removed), or NULL */
};

#define CRS_MAX_VARS 48

/* End (just past the closing '/') of a /regex/ selector starting at p, or NULL when p does
   not start one (XML:/\* is an XPath expression, not a regex). */
static const char *crs_regex_sel_end(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\' && p + 1 < end)
            p++;
        else if (*p == '/' && (p + 1 == end || p[1] == '|'))
            return p + 1;
    }
    return NULL;
}

/* Splits "ARGS|!REQUEST_COOKIES:/__utm/|&TX:x" into vars. false on a syntax error. */
static bool crs_parse_vars(struct crs_ctx *c, const char *s, struct crs_var *v, size_t *n)
{
    const char *p = s, *end = s + strlen(s);
    *n = 0;
    while (p < end) {
        while (p < end && (crs_is_space((unsigned char)*p) || *p == '|'))
            p++;
        if (p == end)
            break;
        if (*n == CRS_MAX_VARS)
            return false;
        struct crs_var *x = &v[(*n)++];
        memset(x, 0, sizeof *x);
        if (*p == '!')
            x->neg = true, p++;
        else if (*p == '&')
            x->count = true, p++;
        const char *ns = p;
        while (p < end && *p != ':' && *p != '|' && !crs_is_space((unsigned char)*p))
            p++;
        if (p == ns)
            return false;
        x->name = crs_dup(c, ns, (size_t)(p - ns));
        if (!x->name)
            return false;
        if (p < end && *p == ':') {
            p++;
            const char *ss = p, *se;
            if (p < end && *p == '\'') {
                ss = ++p;
                while (p < end && *p != '\'')
                    p++;
                if (p == end)
                    return false;
                se = p++;
            } else if (p < end && *p == '/' && crs_regex_sel_end(p, end)) {
                /* a regex selector ends at a '/' followed by '|' or the end */
                p = crs_regex_sel_end(p, end);
                se = p;
            } else {
                while (p < end && *p != '|')
                    p++;
                se = p;
            }
            x->sel = crs_dup(c, ss, (size_t)(se - ss));
            if (!x->sel)
                return false;
        }
    }
    return *n > 0;
}

/* How a ModSecurity variable maps onto a vigil field. */
struct crs_varmap {
    const char *name;
    const char *field; /* vigil field */
    const char *pre;   /* transformation ModSecurity has already applied, or NULL */
    const char *excl;  /* field name used in `exclude` for !VAR:name */
};

static const struct crs_varmap crs_varmaps[] = {
    {"ARGS", "args", NULL, "args"},
    {"ARGS_GET", "args", NULL, "args"},
    {"ARGS_POST", "args", NULL, "args"},
    {"ARGS_NAMES", "args_names", NULL, "args_names"},
    {"ARGS_GET_NAMES", "args_names", NULL, "args_names"},
    {"ARGS_POST_NAMES", "args_names", NULL, "args_names"},
    {"REQUEST_COOKIES", "cookie", NULL, "cookie"},
    {"REQUEST_COOKIES_NAMES", "cookie_names", NULL, "cookie_names"},
    {"REQUEST_HEADERS", "headers", NULL, "headers"},
    {"REQUEST_HEADERS_NAMES", "header_names", NULL, "header_names"},
    {"REQUEST_URI", "target", "urlDecode", NULL},
    {"REQUEST_URI_RAW", "target", NULL, NULL},
    {"REQUEST_FILENAME", "path", "urlDecode", NULL},
    {"PATH_INFO", "path", "urlDecode", NULL},
    {"REQUEST_BASENAME", "basename", "urlDecode", NULL},
    {"QUERY_STRING", "query", NULL, NULL},
    {"REQUEST_LINE", "request_line", NULL, NULL},
    {"REQUEST_METHOD", "method", NULL, NULL},
    {"REQUEST_PROTOCOL", "protocol", NULL, NULL},
    {"REQUEST_BODY", "body", NULL, NULL},
};

static const struct crs_varmap *crs_find_var(const char *name)
{
    for (size_t i = 0; i < VG_ARRAY_LEN(crs_varmaps); i++)
        if (crs_ieq(crs_varmaps[i].name, name))
            return &crs_varmaps[i];
    return NULL;
}

/* Field of one named request header: the dedicated ones, else "header:Name". */
static const char *crs_header_field(struct crs_ctx *c, const char *name)
{
    if (crs_ieq(name, "User-Agent"))
        return "user_agent";
    if (crs_ieq(name, "Referer"))
        return "referer";
    if (crs_ieq(name, "Host"))
        return "host";
    if (crs_ieq(name, "Content-Type"))
        return "content_type";
    size_t n = strlen(name);
    char *f = vg_arena_alloc(&c->arena, n + 8);
    if (!f) {
        c->st = VG_E_NOMEM;
        return NULL;
    }
    memcpy(f, "header:", 7);
    memcpy(f + 7, name, n + 1);
    return f;
}

/* ---- transformations --------------------------------------------------------------------- */

/* Canonical name of a supported transformation (decode_transform.h), or NULL; *known says
   whether ModSecurity has it at all. */
static const char *crs_transform_name(const char *name, bool *known)
{
    enum vg_tfn t;
    int r = vg_tfn_parse(name, strlen(name), &t);
    *known = r >= 0;
    return r == 1 ? vg_tfn_name(t) : NULL;
}

/* ---- YAML text --------------------------------------------------------------------------- */

enum crs_ymode {
    CRS_Y_TEXT,  /* message-like text: invalid UTF-8 becomes '?' */
    CRS_Y_EXACT, /* literal operand: invalid UTF-8 or NUL makes the rule unusable */
    CRS_Y_REGEX  /* pattern: bytes >= 0x80 and NUL become \xHH regex escapes */
};

/*
 * Appends a double-quoted YAML scalar holding s. Returns false (nothing usable) only in
 * CRS_Y_EXACT mode on a NUL or invalid UTF-8.
 */
static bool crs_yaml_str(struct vg_buf *b, const char *s, size_t n, enum crs_ymode mode)
{
    const uint8_t *p = (const uint8_t *)s;
    vg_bputc(b, '"');
    for (size_t i = 0; i < n;) {
        uint8_t ch = p[i];
        if (ch == '"' || ch == '\\') {
            vg_bputc(b, '\\');
            vg_bputc(b, (char)ch);
            i++;
        } else if (ch == 0) {
            if (mode == CRS_Y_EXACT)
                return false;
            vg_bputs(b, mode == CRS_Y_REGEX ? "\\\\x00" : "?");
            i++;
        } else if (ch < 0x20 || ch == 0x7f) {
            vg_bprintf(b, "\\x%02x", ch);
            i++;
        } else if (ch < 0x80) {
            vg_bputc(b, (char)ch);
            i++;
        } else if (mode == CRS_Y_REGEX) {
            vg_bprintf(b, "\\\\x%02x", ch);
            i++;
        } else {
            size_t k = vg_utf8_seq_len(p + i, n - i);
            if (k == 0) {
                if (mode == CRS_Y_EXACT)
                    return false;
                vg_bputc(b, '?');
                i++;
            } else {
                vg_bput(b, p + i, k);
                i += k;
            }
        }
    }
    vg_bputc(b, '"');
    return true;
}

static bool crs_yaml_cstr(struct vg_buf *b, const char *s, enum crs_ymode mode)
{
    return crs_yaml_str(b, s, strlen(s), mode);
}

/* Escapes a literal for use inside a regex (every non-alphanumeric byte as \xHH). */
static void crs_regex_literal(struct vg_buf *b, const char *s)
{
    for (const uint8_t *p = (const uint8_t *)s; *p; p++) {
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
            vg_bputc(b, (char)*p);
        else
            vg_bprintf(b, "\\x%02x", *p);
    }
}

/* ---- operators --------------------------------------------------------------------------- */

/* Output of one translated link, plus what validation needs. */
struct crs_link_out {
    struct vg_buf text; /* "fields: [...], ..., operator: X, ..." */
    const char *regex;  /* the pattern for PCRE2 validation (arena), or NULL */
    bool caseless, negate;
    size_t fields_len; /* bytes of text holding "fields: [...][, exclude: [...]]" */
    int fold;          /* can a final t:lowercase become caseless matching? 0 no,
                          1 yes (caseless phrases, lexers), 2 if `regex` has no upper-case
                          literal, 3 if `value` has none */
    const char *value; /* the operand of contains .. within (arena) */
    bool presence;     /* the operator also holds on an absent field (negated, numeric):
                          a presence condition is added (ModSecurity skips absent ones) */
    const char *pre;   /* transformation ModSecurity had applied to those fields */
};

/* Splits a .data file or @pm argument into phrases and appends them as a YAML list. */
static size_t crs_add_phrases(struct vg_buf *b, const char *s, size_t n, bool lines, bool *bad)
{
    size_t count = 0;
    const char *p = s, *end = s + n;
    while (p < end && count < VG_CRS_MAX_PHRASES) {
        const char *e = p;
        if (lines) {
            while (e < end && *e != '\n')
                e++;
        } else {
            while (p < end && crs_is_space((unsigned char)*p))
                p++;
            e = p;
            while (e < end && !crs_is_space((unsigned char)*e))
                e++;
        }
        const char *ps = p, *pe = e;
        p = e < end ? e + 1 : end;
        while (ps < pe && crs_is_space((unsigned char)*ps))
            ps++;
        while (pe > ps && crs_is_space((unsigned char)pe[-1]))
            pe--;
        if (ps == pe || (lines && *ps == '#'))
            continue;
        vg_bputs(b, count ? ", " : "");
        if (!crs_yaml_str(b, ps, (size_t)(pe - ps), CRS_Y_EXACT))
            *bad = true;
        count++;
    }
    return count;
}

/*
 * Translates an operator ("@rx ...", "!@pm ...", or a bare pattern) into `operator: ...` keys
 * of out. Returns the reason on failure (detail in why).
 */
static int crs_xlate_op(struct crs_ctx *c, const char *opstr, struct crs_link_out *out, char *why,
                        size_t whyn)
{
    struct vg_buf *b = &out->text;
    const char *p = opstr;
    bool neg = false;
    while (crs_is_space((unsigned char)*p))
        p++;
    if (*p == '!')
        neg = true, p++;
    const char *name = "rx";
    size_t name_n = 2;
    const char *arg = p;
    if (*p == '@') {
        name = ++p;
        while (*p && !crs_is_space((unsigned char)*p))
            p++;
        name_n = (size_t)(p - name);
        if (*p)
            p++; /* one separating space; the rest is the argument as written */
        arg = p;
    }
    char opname[40];
    snprintf(opname, sizeof opname, "%.*s", (int)(name_n < 39 ? name_n : 39), name);
    bool needs_arg = !(crs_ieq(opname, "detectSQLi") || crs_ieq(opname, "detectXSS"));
    const char *bad = NULL;
    const char *x = needs_arg ? crs_expand(c, arg, &bad) : arg;
    if (!x) {
        if (c->st != VG_OK)
            return VG_CRS_R_SYNTAX;
        snprintf(why, whyn, "@%s %s", opname, bad ? bad : "");
        return VG_CRS_R_MACRO;
    }
    out->negate = neg;
    if (crs_ieq(opname, "rx")) {
        if (!*x) {
            snprintf(why, whyn, "@rx with an empty pattern");
            return VG_CRS_R_PATTERN;
        }
        vg_bputs(b, "operator: regex, regex: ");
        crs_yaml_cstr(b, x, CRS_Y_REGEX);
        vg_bputs(b, ", caseless: false");
        out->regex = x;
        out->fold = 2;
    } else if (crs_ieq(opname, "pm") || crs_ieq(opname, "pmFromFile") || crs_ieq(opname, "pmf")) {
        bool from_file = !crs_ieq(opname, "pm");
        bool bad_bytes = false;
        size_t count = 0;
        vg_bputs(b, "operator: phrases, phrases: [");
        if (!from_file) {
            count = crs_add_phrases(b, x, strlen(x), false, &bad_bytes);
        } else {
            if (!c->data_dir) {
                snprintf(why, whyn, "@%s %s: no directory for .data files", opname, x);
                return VG_CRS_R_OPERATOR;
            }
            const char *q = x;
            while (*q) {
                while (crs_is_space((unsigned char)*q))
                    q++;
                const char *fs = q;
                while (*q && !crs_is_space((unsigned char)*q))
                    q++;
                if (q == fs)
                    break;
                char fname[512], path[4096];
                snprintf(fname, sizeof fname, "%.*s", (int)(q - fs), fs);
                if (strchr(fname, '/') || strstr(fname, "..")) {
                    snprintf(why, whyn, "@%s %.100s: only .data files beside the rules", opname,
                             fname);
                    return VG_CRS_R_OPERATOR;
                }
                snprintf(path, sizeof path, "%s/%s", c->data_dir, fname);
                uint8_t *data = NULL;
                size_t dn = 0;
                struct vg_error e2;
                if (crs_read_file(path, &data, &dn, &e2) != VG_OK) {
                    snprintf(why, whyn, "@%s %.100s: %.200s", opname, fname, e2.message);
                    return VG_CRS_R_OPERATOR;
                }
                if (count)
                    vg_bputs(b, ", ");
                count += crs_add_phrases(b, (const char *)data, dn, true, &bad_bytes);
                vg_free(data);
            }
        }
        vg_bputs(b, "]");
        if (bad_bytes) {
            snprintf(why, whyn, "@%s: a phrase holds a NUL or invalid UTF-8", opname);
            return VG_CRS_R_PATTERN;
        }
        if (count == 0) {
            snprintf(why, whyn, "@%s without phrases", opname);
            return VG_CRS_R_PATTERN;
        }
        out->fold = 1;
    } else if (crs_ieq(opname, "contains") || crs_ieq(opname, "beginsWith") ||
               crs_ieq(opname, "endsWith") || crs_ieq(opname, "streq") ||
               crs_ieq(opname, "within")) {
        const char *op = crs_ieq(opname, "contains")     ? "contains"
                         : crs_ieq(opname, "beginsWith") ? "begins"
                         : crs_ieq(opname, "endsWith")   ? "ends"
                         : crs_ieq(opname, "streq")      ? "equals"
                                                         : "within";
        if (!*x && strcmp(op, "equals") != 0 && strcmp(op, "within") != 0) {
            snprintf(why, whyn, "@%s with an empty argument", opname);
            return VG_CRS_R_PATTERN;
        }
        vg_bprintf(b, "operator: %s, value: ", op);
        if (!crs_yaml_cstr(b, x, CRS_Y_EXACT)) {
            snprintf(why, whyn, "@%s: argument holds a NUL or invalid UTF-8", opname);
            return VG_CRS_R_PATTERN;
        }
        vg_bputs(b, ", caseless: false");
        out->value = x;
        out->fold = 3;
    } else if (crs_ieq(opname, "containsWord")) {
        if (!*x) {
            snprintf(why, whyn, "@containsWord with an empty argument");
            return VG_CRS_R_PATTERN;
        }
        struct vg_buf rb;
        vg_buf_init(&rb, VG_CRS_DIRECTIVE_MAX * 4);
        vg_bputs(&rb, "(?:^|[^0-9A-Za-z_])");
        crs_regex_literal(&rb, x);
        vg_bputs(&rb, "(?:[^0-9A-Za-z_]|$)");
        if (rb.err != VG_OK) {
            c->st = rb.err;
            vg_buf_fini(&rb);
            return VG_CRS_R_SYNTAX;
        }
        out->regex = crs_dup(c, (const char *)rb.p, rb.n);
        vg_buf_fini(&rb);
        if (!out->regex)
            return VG_CRS_R_SYNTAX;
        vg_bputs(b, "operator: regex, regex: ");
        crs_yaml_cstr(b, out->regex, CRS_Y_REGEX);
        vg_bputs(b, ", caseless: false");
    } else if (crs_ieq(opname, "eq") || crs_ieq(opname, "ne") || crs_ieq(opname, "gt") ||
               crs_ieq(opname, "ge") || crs_ieq(opname, "lt") || crs_ieq(opname, "le")) {
        char *e;
        errno = 0;
        long long v = strtoll(x, &e, 10);
        while (*e && crs_is_space((unsigned char)*e))
            e++;
        if (*e || errno || e == x) {
            snprintf(why, whyn, "@%s wants an integer, not '%.60s'", opname, x);
            return VG_CRS_R_PATTERN;
        }
        char low[4] = {(char)(opname[0] | 32), (char)(opname[1] | 32), 0, 0};
        vg_bprintf(b, "operator: %s, value: \"%lld\"", low, v);
        out->presence = true;
    } else if (crs_ieq(opname, "detectSQLi")) {
        vg_bputs(b, "operator: sqli");
        out->fold = 1;
    } else if (crs_ieq(opname, "detectXSS")) {
        vg_bputs(b, "operator: xss");
        out->fold = 1;
    } else if (crs_ieq(opname, "validateByteRange")) {
        /* "1-255" or "9,10,13,32-126": allowed bytes; the rule matches any other byte */
        bool allowed[256] = {false};
        const char *q = x;
        while (*q) {
            while (*q == ',' || crs_is_space((unsigned char)*q))
                q++;
            if (!*q)
                break;
            char *e;
            long lo = strtol(q, &e, 10), hi = lo;
            if (e == q || lo < 0 || lo > 255) {
                snprintf(why, whyn, "@validateByteRange '%.60s'", x);
                return VG_CRS_R_SYNTAX;
            }
            q = e;
            if (*q == '-') {
                hi = strtol(q + 1, &e, 10);
                if (e == q + 1 || hi < lo || hi > 255) {
                    snprintf(why, whyn, "@validateByteRange '%.60s'", x);
                    return VG_CRS_R_SYNTAX;
                }
                q = e;
            }
            for (long k = lo; k <= hi; k++)
                allowed[k] = true;
        }
        struct vg_buf rb;
        vg_buf_init(&rb, 4096);
        vg_bputs(&rb, "[^");
        size_t n_allowed = 0;
        for (int k = 0; k < 256; k++) {
            if (!allowed[k])
                continue;
            int e = k;
            while (e + 1 < 256 && allowed[e + 1])
                e++;
            if (e == k)
                vg_bprintf(&rb, "\\x%02x", k);
            else
                vg_bprintf(&rb, "\\x%02x-\\x%02x", k, e);
            n_allowed += (size_t)(e - k + 1);
            k = e;
        }
        vg_bputs(&rb, "]");
        if (n_allowed == 0 || n_allowed == 256 || rb.err != VG_OK) {
            vg_buf_fini(&rb);
            snprintf(why, whyn, "@validateByteRange %.60s allows %s byte", x,
                     n_allowed ? "every" : "no");
            return VG_CRS_R_PATTERN;
        }
        out->regex = crs_dup(c, (const char *)rb.p, rb.n);
        vg_buf_fini(&rb);
        if (!out->regex)
            return VG_CRS_R_SYNTAX;
        vg_bputs(b, "operator: regex, regex: ");
        crs_yaml_cstr(b, out->regex, CRS_Y_REGEX);
        vg_bputs(b, ", caseless: false");
    } else {
        snprintf(why, whyn, "@%s", opname);
        return VG_CRS_R_OPERATOR;
    }
    if (neg) {
        vg_bputs(b, ", negate: true");
        out->presence = true;
    }
    return -1;
}

/* ---- one link ---------------------------------------------------------------------------- */

#define CRS_MAX_FIELDS 32

/* Adds s to a small set of strings (arena pointers); false when full. */
static bool crs_set_add(const char **set, size_t *n, size_t cap, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(set[i], s) == 0)
            return true;
    if (*n == cap)
        return false;
    set[(*n)++] = s;
    return true;
}

static int crs_xlate_tail(struct crs_ctx *c, const char *op, const struct crs_actions *a,
                          const char *pre, struct crs_link_out *out, char *why, size_t whyn);

/* Transformations that treat upper and lower case alike (they commute with lowercase). */
static bool crs_case_blind(const char *t)
{
    static const char *const blind[] = {"removeNulls",        "replaceNulls", "removeWhitespace",
                                        "compressWhitespace", "trim",         "trimLeft",
                                        "trimRight"};
    for (size_t i = 0; i < VG_ARRAY_LEN(blind); i++)
        if (strcmp(t, blind[i]) == 0)
            return true;
    return false;
}

/* True when a pattern has no upper-case literal letter, no upper-case POSIX class or property
   (so it matches a lower-cased value exactly as it matches the value caselessly). */
static bool crs_no_upper_regex(const char *re)
{
    if (!re || strstr(re, "upper") || strstr(re, "(?-i") || strstr(re, "\\p") || strstr(re, "\\P"))
        return false;
    for (const char *p = re; *p; p++) {
        if (*p == '\\') {
            if (p[1] == 'x' && isxdigit((unsigned char)p[2]) && isxdigit((unsigned char)p[3])) {
                int v = (int)strtol((char[]){p[2], p[3], 0}, NULL, 16);
                if (v >= 'A' && v <= 'Z')
                    return false;
                p += 3;
                continue;
            }
            if (p[1] == 'x' || p[1] == 'c' || p[1] == 'o' || p[1] == 'N')
                return false; /* \x{41}, \cA, \o{101}, \N{U+..} may name a letter */
            if (p[1])
                p++;
            continue;
        }
        if (*p >= 'A' && *p <= 'Z')
            return false;
    }
    return true;
}

static bool crs_no_upper_text(const char *s)
{
    for (; s && *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            return false;
    return s != NULL;
}

/*
 * A chain link on MATCHED_VAR / MATCHED_VARS tests what the previous link matched. Porting
 * note: vigil has no per-value hand-over between conditions, so the link runs on the previous
 * link's fields (any instance of them), which is a superset of ModSecurity's matched values.
 */
static int crs_xlate_matched(struct crs_ctx *c, const char *op, const struct crs_actions *a,
                             const struct crs_link_out *prev, struct crs_link_out *out, char *why,
                             size_t whyn)
{
    vg_bput(&out->text, prev->text.p, prev->fields_len);
    out->fields_len = prev->fields_len;
    out->pre = prev->pre;
    return crs_xlate_tail(c, op, a, prev->pre, out, why, whyn);
}

/*
 * Translates one link (variables, operator, its transformations) into out->text. Returns -1 on
 * success, or a reason with the detail in why.
 */
static int crs_xlate_link(struct crs_ctx *c, const char *vars, const char *op,
                          const struct crs_actions *a, const struct crs_link_out *prev,
                          struct crs_link_out *out, char *why, size_t whyn)
{
    struct crs_var v[CRS_MAX_VARS];
    size_t nv = 0;
    if (!crs_parse_vars(c, vars, v, &nv)) {
        snprintf(why, whyn, "variables '%.80s'", vars);
        return VG_CRS_R_SYNTAX;
    }
    if (prev && nv == 1 && !v[0].neg && !v[0].count && !v[0].sel &&
        (crs_ieq(v[0].name, "MATCHED_VAR") || crs_ieq(v[0].name, "MATCHED_VARS")))
        return crs_xlate_matched(c, op, a, prev, out, why, whyn);
    const char *fields[CRS_MAX_FIELDS], *excl[CRS_MAX_FIELDS];
    size_t nf = 0, nx = 0;
    const char *pre = NULL;
    bool pre_conflict = false;
    char absent[256] = "", counts[256] = "", selectors[256] = "";
    for (size_t i = 0; i < nv; i++) {
        const struct crs_var *x = &v[i];
        char shown[160];
        snprintf(shown, sizeof shown, "%s%s%s%s", x->count ? "&" : "", x->name, x->sel ? ":" : "",
                 x->sel ? x->sel : "");
        if (x->neg)
            continue; /* exclusions: handled below, once the fields are known */
        if (x->count) {
            snprintf(counts + strlen(counts), sizeof counts - strlen(counts), "%s%s",
                     counts[0] ? ", " : "", shown);
            continue;
        }
        const struct crs_varmap *m = crs_find_var(x->name);
        const char *field = m ? m->field : NULL;
        if (m && x->sel) {
            if (crs_ieq(x->name, "REQUEST_HEADERS") && x->sel[0] != '/') {
                field = crs_header_field(c, x->sel);
                if (!field)
                    return VG_CRS_R_SYNTAX;
            } else {
                snprintf(selectors + strlen(selectors), sizeof selectors - strlen(selectors),
                         "%s%s", selectors[0] ? ", " : "", shown);
                continue;
            }
        }
        if (!field) {
            snprintf(absent + strlen(absent), sizeof absent - strlen(absent), "%s%s",
                     absent[0] ? ", " : "", shown);
            continue;
        }
        size_t before = nf;
        if (!crs_set_add(fields, &nf, CRS_MAX_FIELDS, field)) {
            snprintf(why, whyn, "too many variables");
            return VG_CRS_R_SYNTAX;
        }
        if (nf > before || m) {
            const char *p2 = m ? m->pre : NULL;
            if (nf == 1 && before == 0)
                pre = p2;
            else if ((pre == NULL) != (p2 == NULL) || (pre && p2 && strcmp(pre, p2) != 0))
                pre_conflict = true;
        }
    }
    if (nf == 0) {
        if (counts[0]) {
            snprintf(why, whyn, "%s", counts);
            return VG_CRS_R_COUNT;
        }
        if (selectors[0]) {
            snprintf(why, whyn, "%s", selectors);
            return VG_CRS_R_SELECTOR;
        }
        snprintf(why, whyn, "%s", absent);
        return VG_CRS_R_VARIABLE;
    }
    if (pre_conflict)
        pre = NULL; /* Porting note: fields that ModSecurity decodes and fields it does not share
                       one transformation list in vigil; the rule then starts from the raw
                       values of all of them (docs/crs.md) */
    for (size_t i = 0; i < nv; i++) {
        const struct crs_var *x = &v[i];
        if (!x->neg)
            continue;
        const struct crs_varmap *m = crs_find_var(x->name);
        if (!m || !m->excl || !x->sel)
            continue; /* excluding a variable the rule does not read, or a whole collection */
        bool used = false;
        for (size_t k = 0; k < nf; k++)
            used |= strcmp(fields[k], m->field) == 0;
        if (!used)
            continue;
        size_t n = strlen(m->excl) + strlen(x->sel) + 2;
        char *e = vg_arena_alloc(&c->arena, n);
        if (!e) {
            c->st = VG_E_NOMEM;
            return VG_CRS_R_SYNTAX;
        }
        snprintf(e, n, "%s:%s", m->excl, x->sel);
        if (!crs_set_add(excl, &nx, CRS_MAX_FIELDS, e)) {
            snprintf(why, whyn, "too many exclusions");
            return VG_CRS_R_SYNTAX;
        }
    }
    struct vg_buf *b = &out->text;
    vg_bputs(b, "fields: [");
    for (size_t i = 0; i < nf; i++) {
        vg_bputs(b, i ? ", " : "");
        crs_yaml_cstr(b, fields[i], CRS_Y_TEXT);
    }
    vg_bputs(b, "]");
    if (nx) {
        vg_bputs(b, ", exclude: [");
        for (size_t i = 0; i < nx; i++) {
            vg_bputs(b, i ? ", " : "");
            crs_yaml_cstr(b, excl[i], CRS_Y_TEXT);
        }
        vg_bputs(b, "]");
    }
    out->fields_len = b->n;
    out->pre = pre;
    return crs_xlate_tail(c, op, a, pre, out, why, whyn);
}

/*
 * Appends ", transforms: [...], operator..." to out->text: the link's t: list after pre (the
 * decoding ModSecurity's variable has already had). Returns -1 or a reason.
 */
static int crs_xlate_tail(struct crs_ctx *c, const char *op, const struct crs_actions *a,
                          const char *pre, struct crs_link_out *out, char *why, size_t whyn)
{
    const char *tl[CRS_MAX_T + 1];
    size_t nt = 0;
    if (pre)
        tl[nt++] = pre;
    for (size_t i = 0; i < a->n_t; i++) {
        bool known = false;
        const char *tn = crs_transform_name(a->transforms[i], &known);
        if (!tn) {
            snprintf(why, whyn, "t:%s%s", a->transforms[i], known ? "" : " (unknown)");
            return VG_CRS_R_TRANSFORM;
        }
        /* Porting note: multiMatch runs the operator after every step; vigil runs it on the end
           result, so a multiMatch rule drops its base64 step and matches the plain value. */
        if (a->multimatch && crs_iprefix(tn, "base64Decode"))
            continue;
        if (strcmp(tn, "none") != 0)
            tl[nt++] = tn;
    }
    /* the operator first, into a scratch link: whether a final t:lowercase can fold into
       caseless matching depends on it */
    struct crs_link_out o2;
    memset(&o2, 0, sizeof o2);
    vg_buf_init(&o2.text, VG_RULE_FILE_MAX);
    int r = crs_xlate_op(c, op, &o2, why, whyn);
    if (r >= 0 || o2.text.err != VG_OK) {
        if (o2.text.err != VG_OK)
            c->st = o2.text.err;
        vg_buf_fini(&o2.text);
        return r >= 0 ? r : VG_CRS_R_SYNTAX;
    }
    /* Performance note: `t:lowercase` last (or followed only by case-blind steps, which
       commute with it), then a pattern without upper-case literals, is the same as caseless
       matching without it; folding it lets the rule share the view (and Vectorscan database)
       of the rules with the shorter transformation list. */
    size_t lc = nt;
    for (size_t i = nt; i-- > 0;) {
        if (strcmp(tl[i], "lowercase") == 0) {
            lc = i;
            break;
        }
        if (!crs_case_blind(tl[i]))
            break;
    }
    bool fold = lc < nt && (o2.fold == 1 || (o2.fold == 2 && crs_no_upper_regex(o2.regex)) ||
                            (o2.fold == 3 && crs_no_upper_text(o2.value)));
    if (fold) {
        memmove(&tl[lc], &tl[lc + 1], (nt - lc - 1) * sizeof tl[0]);
        nt--;
    }
    struct vg_buf *b = &out->text;
    vg_bputs(b, ", transforms: [");
    for (size_t i = 0; i < nt; i++)
        vg_bprintf(b, "%s%s", i ? ", " : "", tl[i]);
    vg_bputs(b, "], ");
    const char *t = o2.text.p ? (const char *)o2.text.p : "";
    const char *cf = fold && o2.fold >= 2 ? strstr(t, ", caseless: false") : NULL;
    if (cf) {
        vg_bput(b, t, (size_t)(cf - t));
        vg_bputs(b, ", caseless: true");
        vg_bputs(b, cf + strlen(", caseless: false"));
    } else {
        vg_bputs(b, t);
    }
    out->regex = o2.regex;
    out->caseless = cf != NULL;
    out->negate = o2.negate;
    out->presence = o2.presence;
    vg_buf_fini(&o2.text);
    return -1;
}

/* ---- pattern validation ------------------------------------------------------------------ */

/* Checks a pattern the way the engine will: PCRE2 compiles it and it cannot match empty
   (unless negated: a negated pattern is evaluated as a whole). */
static int crs_check_regex(const struct crs_link_out *o, char *why, size_t whyn)
{
    if (!o->regex)
        return -1;
    int ec;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)o->regex, strlen(o->regex),
                                     o->caseless ? PCRE2_CASELESS : 0, &ec, &off, NULL);
    if (!code) {
        PCRE2_UCHAR msg[200];
        if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", ec);
        snprintf(why, whyn, "does not compile: %s at offset %zu", (const char *)msg, (size_t)off);
        return VG_CRS_R_PATTERN;
    }
    uint32_t minlen = 1;
    (void)pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &minlen);
    pcre2_code_free(code);
    if (minlen == 0 && !o->negate) {
        snprintf(why, whyn, "can match the empty string");
        return VG_CRS_R_PATTERN;
    }
    return -1;
}

/* ---- rules ------------------------------------------------------------------------------- */

struct crs_link_in {
    const char *vars, *op, *actions;
    size_t line;
};

/* Class of a rule from its attack-* tag (used when the file name says nothing). */
static const char *crs_tag_class(const char *tag)
{
    static const struct {
        const char *tag, *cls;
    } m[] = {{"attack-sqli", "sqli"},
             {"attack-xss", "xss"},
             {"attack-lfi", "traversal"},
             {"attack-rfi", "rfi"},
             {"attack-ssrf", "rfi"},
             {"attack-rce", "cmdi"},
             {"attack-injection-php", "code"},
             {"attack-injection-java", "code"},
             {"attack-injection-generic", "code"},
             {"attack-protocol", "protocol"},
             {"attack-multipart-header", "protocol"},
             {"attack-reputation-scanner", "tool"},
             {"attack-fixation", "session"}};
    if (!tag)
        return NULL;
    for (size_t i = 0; i < VG_ARRAY_LEN(m); i++)
        if (crs_ieq(tag, m[i].tag))
            return m[i].cls;
    return NULL;
}

static const char *crs_score_word(int s)
{
    return s == 5 ? "critical" : s == 4 ? "error" : s == 3 ? "warning" : s == 2 ? "notice" : NULL;
}

/* The variable a paranoia gate tests: TX:EXECUTING_PARANOIA_LEVEL (3.x) and friends. */
static bool crs_is_pl_var(const char *vars)
{
    return crs_ieq(vars, "TX:EXECUTING_PARANOIA_LEVEL") ||
           crs_ieq(vars, "TX:DETECTION_PARANOIA_LEVEL") || crs_ieq(vars, "TX:PARANOIA_LEVEL");
}

/* Loads one translated rule line into c->rs and appends it to the import's YAML. */
static void crs_commit(struct crs_ctx *c, uint32_t id, size_t line, const struct vg_buf *rule)
{
    struct vg_buf doc;
    vg_buf_init(&doc, VG_RULE_FILE_MAX);
    vg_bputs(&doc, "rules:\n");
    vg_bput(&doc, rule->p, rule->n);
    if (doc.err != VG_OK) {
        c->st = doc.err;
        vg_buf_fini(&doc);
        return;
    }
    char src[512];
    snprintf(src, sizeof src, "%s", c->file);
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st = vg_ruleset_load_yaml(c->rs, doc.p, doc.n, src, &err);
    vg_buf_fini(&doc);
    if (st == VG_E_NOMEM) {
        c->st = st;
        return;
    }
    if (st != VG_OK) {
        /* the loader's message starts with "<file>:<line>: "; keep what follows */
        const char *m = err.message;
        const char *colon = strstr(m, ": ");
        crs_skip(c, id, line, VG_CRS_R_LOADER, "%s", colon ? colon + 2 : m);
        return;
    }
    /* the source the loader recorded says "<file>:2"; point it at the CRS line instead */
    size_t last = vg_ruleset_count(c->rs);
    if (last) {
        struct vg_rule *r = (struct vg_rule *)vg_ruleset_get(c->rs, last - 1);
        char s2[512];
        snprintf(s2, sizeof s2, "%s:%zu", c->file, line);
        char *d = vg_strdup(s2);
        if (d) {
            vg_free(r->source);
            r->source = d;
        }
    }
    vg_bput(&c->imp->yaml, rule->p, rule->n);
    c->imp->n_rules++;
}

/* Offsets of the first capturing group of a pattern: *open at its '(', *close at its ')'. */
static bool crs_first_group(const char *re, size_t *open, size_t *close)
{
    size_t depth = 0, start = 0;
    bool in_class = false, found = false;
    for (size_t i = 0; re[i]; i++) {
        char ch = re[i];
        if (ch == '\\') {
            if (re[i + 1])
                i++;
        } else if (in_class) {
            in_class = ch != ']';
        } else if (ch == '[') {
            in_class = true;
            if (re[i + 1] == '^')
                i++;
            if (re[i + 1] == ']')
                i++;
        } else if (ch == '(') {
            if (!found && re[i + 1] != '?' && re[i + 1] != '*') {
                found = true;
                start = i;
                depth = 0;
            }
            depth++;
        } else if (ch == ')' && depth > 0) {
            depth--;
            if (found && depth == 0) {
                *open = start;
                *close = i;
                return true;
            }
        }
    }
    return false;
}

/*
 * CRS's "capture, then test the capture against a list" idiom (920440, restricted extensions):
 *     SecRule REQUEST_BASENAME "@rx \.([^.]+)$" "capture,setvar:'tx.extension=.%{tx.1}/',chain"
 *         SecRule TX:EXTENSION "@within %{tx.restricted_extensions}" "t:urlDecodeUni,t:lowercase"
 * becomes one link whose pattern has the list in place of the group, with the second link's
 * transformations: REQUEST_BASENAME "@rx \.(?:asa|asax|...)$". true when it applied.
 */
static bool crs_fold_capture(struct crs_ctx *c, const struct crs_link_in *links,
                             const struct crs_actions *acts, struct crs_link_in *out)
{
    const char *name = NULL, *pre = NULL, *post = NULL;
    size_t name_n = 0, pre_n = 0;
    for (size_t k = 0; k < acts[0].n_setvars && !name; k++) {
        const char *sv = acts[0].setvars[k];
        const char *eq = strchr(sv, '=');
        const char *m = eq ? strcasestr(eq, "%{tx.1}") : NULL;
        if (!crs_iprefix(sv, "tx.") || !m)
            continue;
        name = sv + 3;
        name_n = (size_t)(eq - name);
        pre = eq + 1;
        pre_n = (size_t)(m - pre);
        post = m + 7;
    }
    const char *v2 = links[1].vars;
    if (!name || !crs_iprefix(v2, "TX:") || strlen(v2 + 3) != name_n ||
        strncasecmp(v2 + 3, name, name_n) != 0 || strstr(post, "%{"))
        return false;
    const char *op2 = links[1].op, *op1 = links[0].op;
    while (crs_is_space((unsigned char)*op2))
        op2++;
    while (crs_is_space((unsigned char)*op1))
        op1++;
    if (!crs_iprefix(op2, "@within ") || !crs_iprefix(op1, "@rx "))
        return false;
    const char *bad = NULL;
    const char *list = crs_expand(c, op2 + 8, &bad);
    size_t open = 0, close = 0;
    if (!list || strstr(op1, "(?<") || strstr(op1, "(?P<") || strstr(op1, "(?'") ||
        !crs_first_group(op1 + 4, &open, &close))
        return false; /* named groups count too: only plain ones are understood */
    struct vg_buf b;
    vg_buf_init(&b, VG_CRS_DIRECTIVE_MAX * 4);
    vg_bputs(&b, "@rx ");
    vg_bput(&b, op1 + 4, open);
    vg_bputs(&b, "(?:");
    size_t n_items = 0, post_n = strlen(post);
    for (const char *p = list; *p;) {
        while (crs_is_space((unsigned char)*p))
            p++;
        const char *e = p;
        while (*e && !crs_is_space((unsigned char)*e))
            e++;
        size_t n = (size_t)(e - p);
        if (n > pre_n + post_n && strncmp(p, pre, pre_n) == 0 &&
            strncmp(e - post_n, post, post_n) == 0) {
            char item[256];
            size_t in = n - pre_n - post_n;
            if (in < sizeof item) {
                memcpy(item, p + pre_n, in);
                item[in] = 0;
                vg_bputs(&b, n_items++ ? "|" : "");
                crs_regex_literal(&b, item);
            }
        }
        p = e;
    }
    vg_bputs(&b, ")");
    vg_bputs(&b, op1 + 4 + close + 1);
    char *op = b.err == VG_OK && n_items ? crs_dup(c, (const char *)b.p, b.n) : NULL;
    vg_buf_fini(&b);
    if (!op)
        return false;
    out->vars = links[0].vars;
    out->op = op;
    out->actions = NULL;
    out->line = links[0].line;
    return true;
}

/* Translates a SecRule and its chain links (n links). */
static void crs_rule(struct crs_ctx *c, const struct crs_link_in *links, size_t n)
{
    struct crs_actions acts[VG_CRS_MAX_CHAIN];
    size_t line = links[0].line;
    memset(acts, 0, sizeof acts);
    for (size_t i = 0; i < n; i++) {
        if (!crs_parse_actions(c, links[i].actions ? links[i].actions : "", &acts[i])) {
            crs_skip(c, acts[0].id, links[i].line, VG_CRS_R_SYNTAX, "actions of link %zu", i + 1);
            return;
        }
        for (size_t k = 0; k < acts[i].n_setvars; k++)
            crs_tx_remember(c, acts[i].setvars[k]);
    }
    const struct crs_actions *a = &acts[0];
    uint32_t id = a->id;
    if (!a->has_id) {
        crs_skip(c, 0, line, VG_CRS_R_SYNTAX, "SecRule without an id");
        return;
    }
    if (c->file_skip) {
        crs_skip(c, id, line, VG_CRS_R_FILE, "%s", c->file_skip_why);
        return;
    }
    bool control = false, anomaly = false;
    int level = 0;
    for (size_t i = 0; i < n; i++) {
        control |= acts[i].control;
        anomaly |= acts[i].anomaly;
        if (acts[i].score_level)
            level = acts[i].score_level;
    }
    if (control) {
        /* paranoia gates: SecRule TX:EXECUTING_PARANOIA_LEVEL "@lt N" ... skipAfter:END-... */
        if (n == 1 && crs_is_pl_var(links[0].vars)) {
            const char *p = links[0].op;
            while (crs_is_space((unsigned char)*p))
                p++;
            if (crs_iprefix(p, "@lt ")) {
                int pl = atoi(p + 4);
                if (pl >= 1 && pl <= 4 && pl > c->gate_pl)
                    c->gate_pl = pl;
            }
            crs_skip(c, id, line, VG_CRS_R_CONTROL, "paranoia gate %s %s", links[0].vars,
                     links[0].op);
        } else {
            crs_skip(c, id, line, VG_CRS_R_CONTROL, "skipAfter/skip");
        }
        return;
    }
    int score = crs_severity_score(a->severity);
    if (!anomaly || (!score && !level)) {
        crs_skip(c, id, line, VG_CRS_R_NOSCORE, "%s",
                 anomaly ? "no severity" : "adds to no anomaly score");
        return;
    }
    if (!score || (level && level != score))
        score = level; /* what the rule adds is what counts */
    const char *cls = c->file_class ? c->file_class : crs_tag_class(a->attack_tag);
    if (!cls) {
        crs_skip(c, id, line, VG_CRS_R_FILE, "no attack class (file name or attack-* tag)");
        return;
    }
    int pl = a->tag_pl >= 1 && a->tag_pl <= 4 ? a->tag_pl : c->gate_pl ? c->gate_pl : 1;
    struct crs_link_in folded;
    if (n == 2 && crs_fold_capture(c, links, acts, &folded)) {
        links = &folded;
        n = 1;
        memcpy(acts[0].transforms, acts[1].transforms, sizeof acts[0].transforms);
        acts[0].n_t = acts[1].n_t;
        acts[0].multimatch = false;
    }

    struct crs_link_out outs[VG_CRS_MAX_CHAIN];
    for (size_t i = 0; i < n; i++) {
        memset(&outs[i], 0, sizeof outs[i]);
        vg_buf_init(&outs[i].text, VG_RULE_FILE_MAX);
    }
    struct vg_buf rule;
    vg_buf_init(&rule, VG_RULE_FILE_MAX);
    char why[400] = "";
    int reason = -1;
    size_t bad_link = 0;
    for (size_t i = 0; i < n && reason < 0; i++) {
        reason = crs_xlate_link(c, links[i].vars, links[i].op, &acts[i], i ? &outs[i - 1] : NULL,
                                &outs[i], why, sizeof why);
        if (reason < 0)
            reason = crs_check_regex(&outs[i], why, sizeof why);
        if (reason < 0 && outs[i].text.err != VG_OK) {
            c->st = outs[i].text.err;
            reason = VG_CRS_R_SYNTAX;
        }
        bad_link = i;
    }
    if (reason >= 0) {
        if (c->st == VG_OK) {
            if (bad_link > 0) {
                char w2[440];
                snprintf(w2, sizeof w2, "chain link %zu (line %zu): %s", bad_link + 1,
                         links[bad_link].line, why);
                crs_skip(c, id, line, (enum vg_crs_reason)reason, "%s", w2);
            } else {
                crs_skip(c, id, line, (enum vg_crs_reason)reason, "%s", why);
            }
        }
    } else {
        vg_bprintf(&rule, "- {id: %u, message: ", id);
        crs_yaml_cstr(&rule, a->msg ? a->msg : "OWASP CRS rule", CRS_Y_TEXT);
        vg_bprintf(&rule, ", class: %s, severity: %s, paranoia: %d, ", cls, crs_score_word(score),
                   pl);
        vg_bput(&rule, outs[0].text.p, outs[0].text.n);
        /* Porting note: ModSecurity does not run an operator on a variable the request does
           not have, while vigil sees an absent field as empty, where a negated or numeric
           operator would hold; such links get a condition that the field is present. */
        size_t n_extra = 0;
        for (size_t i = 0; i < n; i++)
            n_extra += outs[i].presence;
        if (n > 1 || n_extra) {
            vg_bputs(&rule, ", chain: [");
            bool first = true;
            for (size_t i = 0; i < n; i++) {
                if (i > 0) {
                    vg_bputs(&rule, first ? "{" : ", {");
                    vg_bput(&rule, outs[i].text.p, outs[i].text.n);
                    vg_bputs(&rule, "}");
                    first = false;
                }
                if (outs[i].presence) {
                    vg_bputs(&rule, first ? "{" : ", {");
                    vg_bput(&rule, outs[i].text.p, outs[i].fields_len);
                    vg_bputs(&rule, ", transforms: [], operator: regex, regex: \"[\\\\s\\\\S]\", "
                                    "caseless: false}");
                    first = false;
                }
            }
            vg_bputs(&rule, "]");
        }
        vg_bputs(&rule, ", author: ");
        crs_yaml_cstr(&rule, a->ver ? a->ver : "OWASP CRS", CRS_Y_TEXT);
        char src[600];
        snprintf(src, sizeof src, "%s:%zu", c->file, line);
        vg_bputs(&rule, ", source: ");
        crs_yaml_cstr(&rule, src, CRS_Y_TEXT);
        if (a->capec && *a->capec) {
            vg_bputs(&rule, ", references: [");
            char ref[64];
            snprintf(ref, sizeof ref, "CAPEC-%.40s", a->capec);
            crs_yaml_cstr(&rule, ref, CRS_Y_TEXT);
            vg_bputs(&rule, "]");
        }
        vg_bputs(&rule, "}\n");
        if (rule.err != VG_OK)
            c->st = rule.err;
        else
            crs_commit(c, id, line, &rule);
    }
    for (size_t i = 0; i < n; i++)
        vg_buf_fini(&outs[i].text);
    vg_buf_fini(&rule);
}

/* ---- files ------------------------------------------------------------------------------- */

/* Class of a rule file from its name ("REQUEST-942-..."); sets file_skip for the others. */
static void crs_file_setup(struct crs_ctx *c, const char *base)
{
    c->file = base;
    c->file_class = NULL;
    c->file_skip = false;
    c->file_skip_why = NULL;
    c->gate_pl = 0;
    if (crs_iprefix(base, "RESPONSE-")) {
        c->file_skip = true;
        c->file_skip_why = "response rules (the response body and headers are not logged)";
        return;
    }
    if (!crs_iprefix(base, "REQUEST-"))
        return; /* a user's own file: classes come from attack-* tags */
    int num = atoi(base + 8);
    switch (num) {
    case 911:
    case 920:
    case 921:
    case 922:
        c->file_class = "protocol";
        break;
    case 913:
        c->file_class = "tool";
        break;
    case 930:
        c->file_class = "traversal";
        break;
    case 931:
        c->file_class = "rfi";
        break;
    case 932:
        c->file_class = "cmdi";
        break;
    case 933:
    case 934:
    case 944:
    case 945:
        c->file_class = "code";
        break;
    case 941:
        c->file_class = "xss";
        break;
    case 942:
        c->file_class = "sqli";
        break;
    case 943:
        c->file_class = "session";
        break;
    default:
        c->file_skip = true;
        c->file_skip_why =
            "setup, exclusion, reputation, DoS or evaluation rules (no attack signatures)";
        break;
    }
}

/* First pass over a file: remembers the TX defaults it sets (for %{tx.*} macros). */
static void crs_collect_tx(struct crs_ctx *c, const uint8_t *buf, size_t n)
{
    struct crs_reader r = {buf, buf + n, 0};
    struct vg_buf d;
    vg_buf_init(&d, VG_CRS_DIRECTIVE_MAX + 1);
    size_t line = 0;
    while (c->st == VG_OK && crs_next_directive(&r, &d, &line)) {
        if (d.err != VG_OK)
            break;
        const char *cur = (const char *)d.p, *end = cur + d.n;
        char *w[4] = {NULL, NULL, NULL, NULL};
        int k = 0;
        while (k < 4 && crs_word(c, &cur, end, &w[k]) == 1)
            k++;
        const char *acts = NULL;
        if (k >= 1 && crs_ieq(w[0], "SecAction") && k >= 2)
            acts = w[1];
        else if (k >= 4 && crs_ieq(w[0], "SecRule"))
            acts = w[3];
        if (acts) {
            struct crs_actions a;
            memset(&a, 0, sizeof a);
            if (crs_parse_actions(c, acts, &a))
                for (size_t i = 0; i < a.n_setvars; i++)
                    crs_tx_remember(c, a.setvars[i]);
        }
        vg_arena_reset(&c->arena);
    }
    vg_buf_fini(&d);
}

/* Second pass: translates every directive of one file. */
static void crs_translate_file(struct crs_ctx *c, const uint8_t *buf, size_t n)
{
    struct crs_reader r = {buf, buf + n, 0};
    struct vg_buf d;
    vg_buf_init(&d, VG_CRS_DIRECTIVE_MAX + 1);
    struct crs_link_in links[VG_CRS_MAX_CHAIN];
    size_t n_links = 0;
    bool chain_open = false, chain_broken = false;
    size_t line = 0;
    c->imp->n_files++;
    while (c->st == VG_OK && crs_next_directive(&r, &d, &line)) {
        if (d.err != VG_OK) {
            c->st = d.err;
            break;
        }
        const char *cur = (const char *)d.p, *end = cur + d.n;
        char *w[5] = {NULL, NULL, NULL, NULL, NULL};
        int k = 0, rc = 0;
        while (k < 5 && (rc = crs_word(c, &cur, end, &w[k])) == 1)
            k++;
        if (c->st != VG_OK)
            break;
        bool is_rule = k >= 1 && crs_ieq(w[0], "SecRule");
        if (chain_open && !is_rule) {
            crs_skip(c, 0, links[0].line, VG_CRS_R_SYNTAX, "chain not completed");
            chain_open = false;
            n_links = 0;
            vg_arena_reset(&c->arena);
        }
        if (rc < 0 || k == 0) {
            crs_skip(c, 0, line, VG_CRS_R_SYNTAX, "unterminated quote");
            if (!chain_open)
                vg_arena_reset(&c->arena);
            continue;
        }
        if (!is_rule) {
            if (crs_ieq(w[0], "SecAction") && k >= 2) {
                struct crs_actions a;
                memset(&a, 0, sizeof a);
                (void)crs_parse_actions(c, w[1], &a);
                crs_skip(c, a.id, line, VG_CRS_R_DIRECTIVE, "SecAction");
            } else if (crs_ieq(w[0], "SecMarker")) {
                crs_skip(c, 0, line, VG_CRS_R_DIRECTIVE, "SecMarker %.200s", k >= 2 ? w[1] : "");
            } else {
                crs_skip(c, 0, line, VG_CRS_R_DIRECTIVE, "%.100s", w[0]);
            }
            vg_arena_reset(&c->arena);
            continue;
        }
        if (k < 3 || k > 4) {
            crs_skip(c, 0, line, VG_CRS_R_SYNTAX, "SecRule wants 2 or 3 arguments, not %d", k - 1);
            if (!chain_open)
                vg_arena_reset(&c->arena);
            chain_broken = chain_open;
            if (!chain_open)
                continue;
        }
        /* A chained rule's directive text lives in d only until the next one is read: copy
           the words into the arena (crs_word already did) and keep their pointers. */
        if (!chain_broken) {
            if (n_links == VG_CRS_MAX_CHAIN) {
                chain_broken = true;
            } else {
                links[n_links].vars = w[1];
                links[n_links].op = w[2];
                links[n_links].actions = k == 4 ? w[3] : NULL;
                links[n_links].line = line;
                n_links++;
            }
        }
        /* does this link continue the chain? */
        bool more = false;
        if (k == 4) {
            struct crs_actions a;
            memset(&a, 0, sizeof a);
            if (crs_parse_actions(c, w[3], &a))
                more = a.chain;
        }
        if (more) {
            chain_open = true;
            continue;
        }
        if (chain_broken) {
            crs_skip(c, 0, links[0].line, VG_CRS_R_SYNTAX, "chain too long or malformed");
        } else {
            crs_rule(c, links, n_links);
        }
        chain_open = chain_broken = false;
        n_links = 0;
        vg_arena_reset(&c->arena);
    }
    if (chain_open && c->st == VG_OK)
        crs_skip(c, 0, links[0].line, VG_CRS_R_SYNTAX, "chain not completed at end of file");
    vg_arena_reset(&c->arena);
    vg_buf_fini(&d);
}

/* ---- entry points ------------------------------------------------------------------------ */

/* An import without rules still reads as a valid (empty) rule file. */
static void crs_finish(struct vg_crs_import *imp)
{
    if (imp->n_rules == 0) {
        vg_buf_reset(&imp->yaml);
        vg_bputs(&imp->yaml, "rules: []\n");
    }
}

static void crs_ctx_fini(struct crs_ctx *c)
{
    for (size_t i = 0; i < c->n_tx; i++) {
        vg_free(c->tx[i].name);
        vg_free(c->tx[i].value);
    }
    vg_free(c->tx);
    vg_arena_fini(&c->arena);
}

static bool crs_has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && strcmp(name + n - k, suffix) == 0;
}

static int crs_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the regular files of dir ending in suffix, sorted (caller frees each and the array). */
static vg_status crs_list_dir(const char *dir, const char *suffix, char ***out, size_t *n_out,
                              struct vg_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return vg_error_set(err, VG_E_IO, dir, 0, "%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    vg_status st = VG_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !crs_has_suffix(e->d_name, suffix))
            continue;
        if (n == VG_CRS_MAX_FILES) {
            st = vg_error_set(err, VG_E_LIMIT, dir, 0, "%s: more than %u %s files", dir,
                              VG_CRS_MAX_FILES, suffix);
            break;
        }
        if (n % 32 == 0) {
            char **nn = vg_realloc(names, (n + 32) * sizeof *nn);
            if (!nn) {
                st = VG_E_NOMEM;
                break;
            }
            names = nn;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = vg_malloc(len);
        if (!names[n]) {
            st = VG_E_NOMEM;
            break;
        }
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(names[n], &sb) != 0 || !S_ISREG(sb.st_mode)) {
            vg_free(names[n]);
            continue;
        }
        n++;
    }
    closedir(d);
    if (st == VG_E_NOMEM)
        vg_error_set(err, st, dir, 0, "out of memory");
    if (st != VG_OK) {
        for (size_t i = 0; i < n; i++)
            vg_free(names[i]);
        vg_free(names);
        return st;
    }
    if (n)
        qsort(names, n, sizeof *names, crs_cmp_names);
    *out = names;
    *n_out = n;
    return VG_OK;
}

bool vg_crs_is_crs_path(const char *path)
{
    struct stat sb;
    if (!path || stat(path, &sb) != 0)
        return false;
    if (S_ISREG(sb.st_mode))
        return crs_has_suffix(path, ".conf");
    if (!S_ISDIR(sb.st_mode))
        return false;
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL)
        found = e->d_name[0] != '.' && crs_has_suffix(e->d_name, ".conf");
    closedir(d);
    return found;
}

/*
 * Translates the n CRS files in bufs (names[i]: their paths or names) into rs (a scratch rule
 * set when NULL) with a fresh context: the SecAction tx values of every file first, then each
 * file's rules. On failure rs is left as it was; src names the input in the error.
 */
static vg_status crs_import_bufs(struct vg_ruleset *rs, const char *const *names,
                                 const uint8_t *const *bufs, const size_t *lens, size_t n,
                                 const char *data_dir, const char *src,
                                 struct vg_crs_import **out, struct vg_error *err)
{
    struct vg_crs_import *imp = NULL;
    if (crs_import_new(&imp) != VG_OK)
        return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    struct vg_ruleset *scratch = NULL;
    if (!rs) {
        if (vg_ruleset_new(&scratch) != VG_OK) {
            vg_crs_import_free(imp);
            return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
        }
        rs = scratch;
    }
    size_t before = vg_ruleset_count(rs);
    struct crs_ctx c;
    memset(&c, 0, sizeof c);
    c.imp = imp;
    c.rs = rs;
    c.data_dir = data_dir;
    vg_arena_init(&c.arena, 65536, (size_t)64 << 20);
    for (size_t i = 0; i < n && c.st == VG_OK; i++)
        crs_collect_tx(&c, bufs[i], lens[i]);
    for (size_t i = 0; i < n && c.st == VG_OK; i++) {
        const char *base = strrchr(names[i], '/');
        crs_file_setup(&c, base ? base + 1 : names[i]);
        crs_translate_file(&c, bufs[i], lens[i]);
    }
    vg_status st = c.st != VG_OK ? c.st : imp->yaml.err;
    crs_ctx_fini(&c);
    if (st != VG_OK) {
        vg_ruleset_truncate(rs, before);
        vg_ruleset_free(scratch);
        vg_crs_import_free(imp);
        return vg_error_set(err, st, src, 0, "CRS import: %s", vg_strerror(st));
    }
    vg_ruleset_free(scratch);
    crs_finish(imp);
    *out = imp;
    return VG_OK;
}

/* Reads the files (paths) and runs the import over them. */
static vg_status crs_import_files(struct vg_ruleset *rs, char **paths, size_t n,
                                  const char *data_dir, struct vg_crs_import **out,
                                  struct vg_error *err)
{
    uint8_t **bufs = vg_calloc(n ? n : 1, sizeof *bufs);
    size_t *lens = vg_calloc(n ? n : 1, sizeof *lens);
    vg_status st = bufs && lens ? VG_OK : vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    for (size_t i = 0; i < n && st == VG_OK; i++)
        st = crs_read_file(paths[i], &bufs[i], &lens[i], err);
    if (st == VG_OK)
        st = crs_import_bufs(rs, (const char *const *)paths, (const uint8_t *const *)bufs, lens,
                             n, data_dir, NULL, out, err);
    for (size_t i = 0; bufs && i < n; i++)
        vg_free(bufs[i]);
    vg_free(bufs);
    vg_free(lens);
    return st;
}

vg_status vg_crs_import_buf(struct vg_ruleset *rs, const uint8_t *buf, size_t n,
                            const char *file_name, const char *data_dir, struct vg_crs_import **out,
                            struct vg_error *err)
{
    *out = NULL;
    if ((!buf && n) || !file_name)
        return vg_error_set(err, VG_E_INVAL, NULL, 0, "invalid argument");
    if (n > VG_CRS_FILE_MAX)
        return vg_error_set(err, VG_E_LIMIT, file_name, 0, "%s: larger than %zu bytes", file_name,
                            VG_CRS_FILE_MAX);
    static const uint8_t empty[1] = {0};
    const uint8_t *p = buf ? buf : empty;
    return crs_import_bufs(rs, &file_name, &p, &n, 1, data_dir, file_name, out, err);
}

vg_status vg_crs_import_path(struct vg_ruleset *rs, const char *path, struct vg_crs_import **out,
                             struct vg_error *err)
{
    *out = NULL;
    if (!path)
        return vg_error_set(err, VG_E_INVAL, NULL, 0, "invalid argument");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    char **paths = NULL;
    size_t n = 0;
    char data_dir[4096];
    if (S_ISDIR(sb.st_mode)) {
        vg_status st = crs_list_dir(path, ".conf", &paths, &n, err);
        if (st != VG_OK)
            return st;
        if (n == 0) {
            vg_free(paths);
            return vg_error_set(err, VG_E_RULES, path, 0, "%s: no CRS .conf file", path);
        }
        snprintf(data_dir, sizeof data_dir, "%s", path);
    } else {
        paths = vg_malloc(sizeof *paths);
        if (paths)
            paths[0] = vg_strdup(path);
        if (!paths || !paths[0]) {
            vg_free(paths);
            return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
        }
        n = 1;
        snprintf(data_dir, sizeof data_dir, "%s", path);
        char *slash = strrchr(data_dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(data_dir, sizeof data_dir, ".");
    }
    vg_status st = crs_import_files(rs, paths, n, data_dir, out, err);
    for (size_t i = 0; i < n; i++)
        vg_free(paths[i]);
    vg_free(paths);
    return st;
}

vg_status vg_crs_ruleset_load_path(struct vg_ruleset *rs, const char *path, struct vg_error *err)
{
    if (!vg_crs_is_crs_path(path))
        return vg_ruleset_load_path(rs, path, err);
    size_t before = vg_ruleset_count(rs);
    struct vg_crs_import *imp = NULL;
    vg_status st = vg_crs_import_path(rs, path, &imp, err);
    vg_crs_import_free(imp);
    if (st != VG_OK)
        return st;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        char **yaml = NULL, **yml = NULL;
        size_t ny = 0, nyl = 0;
        st = crs_list_dir(path, ".yaml", &yaml, &ny, err);
        if (st == VG_OK)
            st = crs_list_dir(path, ".yml", &yml, &nyl, err);
        for (size_t i = 0; i < ny && st == VG_OK; i++)
            st = vg_ruleset_load_path(rs, yaml[i], err);
        for (size_t i = 0; i < nyl && st == VG_OK; i++)
            st = vg_ruleset_load_path(rs, yml[i], err);
        for (size_t i = 0; i < ny; i++)
            vg_free(yaml[i]);
        for (size_t i = 0; i < nyl; i++)
            vg_free(yml[i]);
        vg_free(yaml);
        vg_free(yml);
    }
    if (st != VG_OK)
        vg_ruleset_truncate(rs, before);
    return st;
}

/* ---- public API (include/vigil.h) -------------------------------------------------------- */

vg_status vg_crs_translate(const char *path, char **yaml, size_t *n_rules, size_t *n_skipped,
                           void (*skipped)(uint32_t id, const char *source, const char *reason,
                                           const char *detail, void *user),
                           void *user, struct vg_error *err)
{
    if (yaml)
        *yaml = NULL;
    struct vg_crs_import *imp = NULL;
    vg_status st = vg_crs_import_path(NULL, path, &imp, err);
    if (st != VG_OK)
        return st;
    if (skipped)
        for (size_t i = 0; i < imp->n_skips; i++)
            skipped(imp->skips[i].id, imp->skips[i].source,
                    vg_crs_reason_name(imp->skips[i].reason), imp->skips[i].detail, user);
    if (n_rules)
        *n_rules = imp->n_rules;
    if (n_skipped)
        *n_skipped = imp->n_skips;
    if (yaml) {
        *yaml = vg_strndup((const char *)imp->yaml.p, imp->yaml.n);
        if (!*yaml) {
            vg_crs_import_free(imp);
            return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
        }
    }
    vg_crs_import_free(imp);
    return VG_OK;
}
