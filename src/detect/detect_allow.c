/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_allow.c: allowlists (--allow FILE), the users' control against false positives.
 *
 * A file is one YAML document: a mapping with the single key `allow`, a list of entries
 *
 *     allow:
 *       - reason: "the wiki editor posts HTML"   # required
 *         paths: ["/doku.php", "/api/[*]"]        # globs on the path as logged
 *         args: [wikitext, content]               # argument names (hits in them)
 *         rules: [941100, xss]                    # rule ids or classes
 *         sources: [10.0.0.0/8, "2001:db8::/32"]  # client CIDRs
 *
 * An entry allows a hit when every condition it gives holds; the detector drops allowed hits
 * before scoring (vg_detect_request) and keeps the first few, with the entry, for explanations.
 * The loader is strict like the rule loader: unknown keys, wrong types and bad values are errors
 * naming the file and line, and YAML aliases are refused.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

#include "decode/decode.h"
#include "detect/detect_int.h"

#define VG_ALLOW_MAX_ENTRIES 100000u
#define VG_ALLOW_FILE_MAX ((size_t)16 << 20)

struct vg_allow_net {
    struct vg_addr a;
    int bits;                 /* of the 128-bit (IPv4-mapped) address */
};

struct vg_allow_entry {
    char *reason;
    char *source;             /* "file:line" */
    char **paths;
    size_t n_paths;
    char **args;
    size_t n_args;
    uint32_t *ids;
    size_t n_ids;
    uint32_t classes;         /* bit (1u << enum vg_class) */
    bool has_rules;
    struct vg_allow_net *nets;
    size_t n_nets;
};

struct vg_allowlist {
    struct vg_allow_entry *e;
    size_t n;
};

static void vg_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        vg_free(v[i]);
    vg_free(v);
}

static void vg_allow_entry_fini(struct vg_allow_entry *e)
{
    vg_free(e->reason);
    vg_free(e->source);
    vg_strv_free(e->paths, e->n_paths);
    vg_strv_free(e->args, e->n_args);
    vg_free(e->ids);
    vg_free(e->nets);
    memset(e, 0, sizeof(*e));
}

void vg_allowlist_free(struct vg_allowlist *al)
{
    if (!al)
        return;
    for (size_t i = 0; i < al->n; i++)
        vg_allow_entry_fini(&al->e[i]);
    vg_free(al->e);
    vg_free(al);
}

size_t vg_allowlist_count(const struct vg_allowlist *al)
{
    return al ? al->n : 0;
}

bool vg_allowlist_by_source(const struct vg_allowlist *al)
{
    for (size_t i = 0; al && i < al->n; i++)
        if (al->e[i].n_nets)
            return true;
    return false;
}

const char *vg_allowlist_reason(const struct vg_allowlist *al, size_t i)
{
    return al && i < al->n ? al->e[i].reason : NULL;
}

const char *vg_allowlist_source(const struct vg_allowlist *al, size_t i)
{
    return al && i < al->n ? al->e[i].source : NULL;
}

/* ---- loading ----------------------------------------------------------------------------- */

struct vg_actx {
    yaml_document_t *doc;
    uint8_t *seen;
    size_t n_nodes;
    const char *src;
    struct vg_error *err;
};

static vg_status vg_aerr(struct vg_actx *c, const yaml_node_t *n, const char *fmt, ...)
    VG_PRINTF(3, 4);

static vg_status vg_aerr(struct vg_actx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t line = n ? (size_t)n->start_mark.line + 1 : 0;
    return vg_error_set(c->err, VG_E_RULES, c->src, line, "%s:%zu: %s", c->src, line, msg);
}

static yaml_node_t *vg_aget(struct vg_actx *c, int index, const yaml_node_t *parent,
                            vg_status *st)
{
    yaml_node_t *n = yaml_document_get_node(c->doc, index);
    if (!n || index < 1 || (size_t)index > c->n_nodes) {
        *st = vg_aerr(c, parent, "malformed YAML document");
        return NULL;
    }
    if (c->seen[index - 1]) {
        *st = vg_aerr(c, parent, "YAML aliases are not supported in allowlists");
        return NULL;
    }
    c->seen[index - 1] = 1;
    return n;
}

/* A scalar's text as a new string (no NULs, capped). */
static vg_status vg_astr(struct vg_actx *c, const yaml_node_t *n, const char *what, char **out)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
        return vg_aerr(c, n, "`%s` must be a non-empty string", what);
    size_t len = n->data.scalar.length;
    if (len > 65536 || memchr(n->data.scalar.value, 0, len))
        return vg_aerr(c, n, "`%s` is too long or contains a NUL byte", what);
    *out = vg_strndup((const char *)n->data.scalar.value, len);
    return *out ? VG_OK : vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
}

/* A list of strings (a single string is taken as a list of one). */
static vg_status vg_alist(struct vg_actx *c, const yaml_node_t *n, const char *what,
                          char ***out, size_t *count)
{
    vg_status st = VG_OK;
    if (n->type == YAML_SCALAR_NODE) {
        *out = vg_calloc(1, sizeof(char *));
        if (!*out)
            return vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
        st = vg_astr(c, n, what, &(*out)[0]);
        if (st == VG_OK)
            *count = 1;
        return st;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return vg_aerr(c, n, "`%s` must be a list", what);
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt == 0)
        return vg_aerr(c, n, "`%s` may not be empty", what);
    *out = vg_calloc(cnt, sizeof(char *));
    if (!*out)
        return vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        const yaml_node_t *item = vg_aget(c, *it, n, &st);
        if (!item)
            return st;
        st = vg_astr(c, item, what, &(*out)[*count]);
        if (st != VG_OK)
            return st;
        (*count)++;
    }
    return VG_OK;
}

/* "10.0.0.0/8", "2001:db8::/32" or a single address. */
static bool vg_parse_cidr(const char *s, struct vg_allow_net *out)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (!vg_addr_parse((const uint8_t *)s, n, &out->a))
        return false;
    bool v4 = vg_addr_is_v4(&out->a);
    int max = v4 ? 32 : 128, bits = max;
    if (slash) {
        char *end = NULL;
        errno = 0;
        long b = strtol(slash + 1, &end, 10);
        if (!slash[1] || errno || !end || *end || b < 0 || b > max)
            return false;
        bits = (int)b;
    }
    out->bits = v4 ? bits + 96 : bits;
    return true;
}

static bool vg_net_has(const struct vg_allow_net *net, const struct vg_addr *a)
{
    int full = net->bits / 8, rest = net->bits % 8;
    if (memcmp(net->a.b, a->b, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (net->a.b[full] & mask) == (a->b[full] & mask);
}

static const char *const vg_allow_keys[] = {"reason", "paths", "args", "rules", "sources"};

static vg_status vg_parse_entry(struct vg_actx *c, const yaml_node_t *n,
                                struct vg_allow_entry *e)
{
    if (n->type != YAML_MAPPING_NODE)
        return vg_aerr(c, n, "each item of `allow` must be a mapping");
    char src[300];
    snprintf(src, sizeof src, "%s:%zu", c->src, (size_t)n->start_mark.line + 1);
    e->source = vg_strdup(src);
    if (!e->source)
        return vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
    unsigned seen = 0;
    vg_status st = VG_OK;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = vg_aget(c, p->key, n, &st);
        if (!k)
            return st;
        const yaml_node_t *v = vg_aget(c, p->value, k, &st);
        if (!v)
            return st;
        int ki = -1;
        for (size_t i = 0; k->type == YAML_SCALAR_NODE && i < VG_ARRAY_LEN(vg_allow_keys); i++)
            if (k->data.scalar.length == strlen(vg_allow_keys[i]) &&
                memcmp(k->data.scalar.value, vg_allow_keys[i], k->data.scalar.length) == 0)
                ki = (int)i;
        if (ki < 0)
            return vg_aerr(c, k, "unknown key in an allowlist entry (reason paths args rules "
                           "sources)");
        if (seen & (1u << ki))
            return vg_aerr(c, k, "duplicate key `%s`", vg_allow_keys[ki]);
        seen |= 1u << ki;
        char **list = NULL;
        size_t cnt = 0;
        switch (ki) {
        case 0:
            st = vg_astr(c, v, "reason", &e->reason);
            break;
        case 1:
            st = vg_alist(c, v, "paths", &e->paths, &e->n_paths);
            break;
        case 2:
            st = vg_alist(c, v, "args", &e->args, &e->n_args);
            break;
        case 3:
            st = vg_alist(c, v, "rules", &list, &cnt);
            e->has_rules = true;
            e->ids = st == VG_OK ? vg_calloc(cnt, sizeof(*e->ids)) : NULL;
            if (st == VG_OK && !e->ids)
                st = vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
            for (size_t i = 0; st == VG_OK && i < cnt; i++) {
                enum vg_class cl;
                char *end = NULL;
                unsigned long id = strtoul(list[i], &end, 10);
                if (list[i][0] >= '1' && list[i][0] <= '9' && end && !*end && id <= UINT32_MAX)
                    e->ids[e->n_ids++] = (uint32_t)id;
                else if (vg_class_parse(list[i], &cl))
                    e->classes |= 1u << cl;
                else
                    st = vg_aerr(c, v, "`rules` lists rule ids or classes, not `%.60s`", list[i]);
            }
            break;
        default:
            st = vg_alist(c, v, "sources", &list, &cnt);
            e->nets = st == VG_OK ? vg_calloc(cnt, sizeof(*e->nets)) : NULL;
            if (st == VG_OK && !e->nets)
                st = vg_error_set(c->err, VG_E_NOMEM, c->src, 0, "out of memory");
            for (size_t i = 0; st == VG_OK && i < cnt; i++) {
                if (!vg_parse_cidr(list[i], &e->nets[e->n_nets]))
                    st = vg_aerr(c, v, "`sources` lists addresses or CIDR blocks, not `%.60s`",
                                 list[i]);
                else
                    e->n_nets++;
            }
            break;
        }
        vg_strv_free(list, cnt);
        if (st != VG_OK)
            return st;
    }
    if (!e->reason)
        return vg_aerr(c, n, "an allowlist entry needs a `reason`");
    return VG_OK;
}

vg_status vg_allowlist_load_yaml(struct vg_allowlist **al, const uint8_t *buf, size_t n,
                                 const char *source_name, struct vg_error *err)
{
    const char *src = source_name ? source_name : "<allow>";
    if (!al || (!buf && n))
        return vg_error_set(err, VG_E_INVAL, src, 0, "invalid argument");
    if (n > VG_ALLOW_FILE_MAX)
        return vg_error_set(err, VG_E_LIMIT, src, 0, "%s: larger than %zu bytes", src,
                            VG_ALLOW_FILE_MAX);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return vg_error_set(err, VG_E_NOMEM, src, 0, "out of memory");
    static const unsigned char empty[1] = {0};
    yaml_parser_set_input_string(&parser, buf ? buf : empty, n);
    yaml_document_t doc;
    if (!yaml_parser_load(&parser, &doc)) {
        size_t line = (size_t)parser.problem_mark.line + 1;
        vg_status st = vg_error_set(err, VG_E_RULES, src, line, "%s:%zu: YAML error: %s", src,
                                    line, parser.problem ? parser.problem : "syntax error");
        yaml_parser_delete(&parser);
        return st;
    }
    yaml_parser_delete(&parser);
    struct vg_actx c = {&doc, NULL, (size_t)(doc.nodes.top - doc.nodes.start), src, err};
    c.seen = vg_calloc(c.n_nodes ? c.n_nodes : 1, 1);
    struct vg_allow_entry *arr = NULL;
    size_t cnt = 0, done = 0;
    vg_status st = c.seen ? VG_OK : vg_error_set(err, VG_E_NOMEM, src, 0, "out of memory");
    yaml_node_t *root = st == VG_OK ? yaml_document_get_root_node(&doc) : NULL;
    const yaml_node_t *list = NULL;
    if (st == VG_OK && (!root || root->type != YAML_MAPPING_NODE))
        st = vg_aerr(&c, root, "an allowlist is a mapping with an `allow:` list");
    if (st == VG_OK) {
        c.seen[0] = 1;
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
             st == VG_OK && p < root->data.mapping.pairs.top; p++) {
            const yaml_node_t *k = vg_aget(&c, p->key, root, &st);
            if (!k)
                break;
            if (k->type != YAML_SCALAR_NODE || k->data.scalar.length != 5 ||
                memcmp(k->data.scalar.value, "allow", 5) != 0 || list) {
                st = vg_aerr(&c, k, "the only key at the top level is `allow`");
                break;
            }
            list = vg_aget(&c, p->value, k, &st);
        }
    }
    if (st == VG_OK && (!list || list->type != YAML_SEQUENCE_NODE))
        st = vg_aerr(&c, root, "no `allow:` list");
    if (st == VG_OK) {
        cnt = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
        if (cnt > VG_ALLOW_MAX_ENTRIES)
            st = vg_aerr(&c, list, "too many entries");
        else if (!(arr = vg_calloc(cnt ? cnt : 1, sizeof(*arr))))
            st = vg_error_set(err, VG_E_NOMEM, src, 0, "out of memory");
    }
    for (yaml_node_item_t *it = st == VG_OK ? list->data.sequence.items.start : NULL;
         st == VG_OK && it < list->data.sequence.items.top; it++) {
        const yaml_node_t *item = vg_aget(&c, *it, list, &st);
        if (!item)
            break;
        st = vg_parse_entry(&c, item, &arr[done]);
        done++;
    }
    vg_free(c.seen);
    yaml_document_delete(&doc);
    struct vg_allowlist *dst = *al;
    if (st == VG_OK && !dst) {
        dst = vg_calloc(1, sizeof(*dst));
        if (!dst)
            st = vg_error_set(err, VG_E_NOMEM, src, 0, "out of memory");
    }
    struct vg_allow_entry *ne = NULL;
    if (st == VG_OK && (ne = vg_realloc(dst->e, (dst->n + done + 1) * sizeof(*ne))) == NULL)
        st = vg_error_set(err, VG_E_NOMEM, src, 0, "out of memory");
    if (st != VG_OK) {
        for (size_t i = 0; i < done; i++)
            vg_allow_entry_fini(&arr[i]);
        vg_free(arr);
        if (dst != *al)
            vg_allowlist_free(dst);
        return st;
    }
    dst->e = ne;
    if (done)
        memcpy(dst->e + dst->n, arr, done * sizeof(*arr));
    dst->n += done;
    vg_free(arr);
    *al = dst;
    return VG_OK;
}

vg_status vg_allowlist_load_path(struct vg_allowlist **al, const char *path,
                                 struct vg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror(errno));
    struct vg_buf b;
    vg_buf_init(&b, VG_ALLOW_FILE_MAX);
    uint8_t tmp[8192];
    size_t got;
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (vg_buf_add(&b, tmp, got) != VG_OK)
            break;
    bool bad = ferror(f) != 0;
    fclose(f);
    vg_status st;
    if (bad)
        st = vg_error_set(err, VG_E_IO, path, 0, "%s: read error", path);
    else if (b.err != VG_OK)
        st = vg_error_set(err, b.err, path, 0, "%s: too large or out of memory", path);
    else
        st = vg_allowlist_load_yaml(al, b.p, b.n, path, err);
    vg_buf_fini(&b);
    return st;
}

/* ---- matching ---------------------------------------------------------------------------- */

static bool vg_allow_entry_match(const struct vg_allow_entry *e, const struct vg_rule *r,
                                 const struct vg_request *req, const struct vg_hit *h)
{
    if (e->has_rules) {
        bool ok = (e->classes & (1u << r->class_)) != 0;
        for (size_t i = 0; i < e->n_ids && !ok; i++)
            ok = e->ids[i] == r->id;
        if (!ok)
            return false;
    }
    if (e->n_args) {
        if (h->field != VG_F_ARGS && h->field != VG_F_ARGS_NAMES)
            return false;
        uint8_t name[256];
        size_t nn = h->name.n < sizeof name ? h->name.n : sizeof name;
        unsigned fl = 0;
        size_t dn = h->name.n ? vg_decode_pct(h->name.p, nn, name, true, &fl) : 0;
        bool ok = false;
        for (size_t i = 0; i < e->n_args && !ok; i++)
            ok = vg_str_ieq(vg_str_make(name, dn), vg_str_make(e->args[i], strlen(e->args[i])));
        if (!ok)
            return false;
    }
    if (e->n_paths) {
        char path[4096];
        if (!req->path.p || req->path.n >= sizeof path)
            return false;
        memcpy(path, req->path.p, req->path.n);
        path[req->path.n] = 0;
        bool ok = false;
        for (size_t i = 0; i < e->n_paths && !ok; i++)
            ok = fnmatch(e->paths[i], path, 0) == 0;
        if (!ok)
            return false;
    }
    if (e->n_nets) {
        if (!(req->flags & VG_REQ_HAS_ADDR))
            return false;
        bool ok = false;
        for (size_t i = 0; i < e->n_nets && !ok; i++)
            ok = vg_net_has(&e->nets[i], &req->addr);
        if (!ok)
            return false;
    }
    return true;
}

int vg_allowlist_match(const struct vg_allowlist *al, const struct vg_detector *det,
                       const struct vg_request *req, const struct vg_hit *h)
{
    const struct vg_rule *r = vg_detector_rule(det, h->rule);
    if (!al || !r)
        return -1;
    for (size_t i = 0; i < al->n && i < INT32_MAX; i++)
        if (vg_allow_entry_match(&al->e[i], r, req, h))
            return (int)i;
    return -1;
}
