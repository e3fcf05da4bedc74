/* SPDX-License-Identifier: Apache-2.0 */
/*
 * behave_campaign.c: campaigns (DESIGN.md section 1): incidents linked by shared traits.
 *
 * Two incidents are linked when they are close in time and share a trait:
 *   tool     the same identified tool with the same user agent          (within `window`)
 *   family   the same payload family: Jaccard similarity of their signature rule ids at least
 *            family_min_jaccard, with at least family_min_rules rules in common (`window`)
 *   network  the same /24 (IPv4) or /48 (IPv6), or the same address     (`network_window`)
 *   ASN      the same AS, together with the same tool (any user agent) or the same family
 *            (`window`)
 * "Close in time": the later one starts no more than the window after the earlier one ends
 * (overlapping incidents are always close). A campaign is a connected group of at least two
 * linked incidents; its "why" names each kind of link with an example and a count.
 *
 * Sharing only a popular tool or payload list weeks apart is not evidence of one actor, hence
 * the time bound on every link. The whole computation is a function of the incident set (any
 * order) and the parameters: incidents are sorted by (first, id) before anything else.
 *
 * Performance note: links are found by sweeping, per key (network, tool, AS, rule id), the
 * incidents sorted by time, comparing each with the recent ones of the same key only (at most
 * 64 back): O(n log n) for sorting plus bounded work per incident.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "behave/behave.h"

#define VG_LOOKBACK 64

struct item {
    size_t idx;   /* into the caller's array */
    uint64_t key; /* sweep key */
};

struct link {
    size_t a, b; /* sorted positions */
    uint32_t reason;
};

struct ctx {
    const struct vg_campaign_params *p;
    const struct vg_incident *inc;
    size_t n;
    size_t *order;   /* sorted position -> caller index */
    size_t *parent;  /* union-find over sorted positions */
    struct link *links;
    size_t n_links, cap_links;
};

static const struct vg_incident *at(const struct ctx *c, size_t pos)
{
    return &c->inc[c->order[pos]];
}

static size_t uf_find(size_t *parent, size_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static vg_status add_link(struct ctx *c, size_t a, size_t b, uint32_t reason)
{
    if (c->n_links == c->cap_links) {
        size_t cap = c->cap_links ? c->cap_links * 2 : 64;
        struct link *l = vg_realloc(c->links, cap * sizeof *l);
        if (!l)
            return VG_E_NOMEM;
        c->links = l;
        c->cap_links = cap;
    }
    c->links[c->n_links++] = (struct link){a < b ? a : b, a < b ? b : a, reason};
    size_t ra = uf_find(c->parent, a), rb = uf_find(c->parent, b);
    if (ra != rb) {
        /* The smaller sorted position becomes the root: deterministic. */
        if (ra < rb)
            c->parent[rb] = ra;
        else
            c->parent[ra] = rb;
    }
    return VG_OK;
}

/* Close in time: b starts no later than window after a ends (a started first). */
static bool close_in_time(const struct vg_incident *a, const struct vg_incident *b, int64_t w)
{
    return b->first <= a->last + w;
}

static unsigned common_rules(const struct vg_incident *a, const struct vg_incident *b)
{
    unsigned i = 0, j = 0, k = 0;
    while (i < a->n_rules && j < b->n_rules) {
        if (a->rules[i] == b->rules[j]) {
            k++;
            i++;
            j++;
        } else if (a->rules[i] < b->rules[j]) {
            i++;
        } else {
            j++;
        }
    }
    return k;
}

static bool same_family(const struct ctx *c, const struct vg_incident *a,
                        const struct vg_incident *b)
{
    if (a->n_rules < c->p->family_min_rules || b->n_rules < c->p->family_min_rules)
        return false;
    unsigned k = common_rules(a, b);
    unsigned u = a->n_rules + b->n_rules - k;
    return k >= c->p->family_min_rules && u && (double)k / u >= c->p->family_min_jaccard;
}

static int item_cmp(const void *x, const void *y)
{
    const struct item *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx; /* idx = sorted position: time order */
}

/* Links incidents that share key (and pass test) within window, comparing each with the
   previous VG_LOOKBACK of the same key. */
static vg_status sweep(struct ctx *c, struct item *items, size_t m, int64_t window,
                       uint32_t reason,
                       bool (*test)(const struct ctx *, const struct vg_incident *,
                                    const struct vg_incident *))
{
    qsort(items, m, sizeof *items, item_cmp);
    for (size_t i = 0; i < m; i++) {
        const struct vg_incident *b = at(c, items[i].idx);
        for (size_t back = 1; back <= VG_LOOKBACK && back <= i; back++) {
            const struct item *it = &items[i - back];
            if (it->key != items[i].key)
                break;
            const struct vg_incident *a = at(c, it->idx);
            if (!close_in_time(a, b, window))
                continue;
            if (test && !test(c, a, b))
                continue;
            uint32_t why = reason;
            if (reason == VG_LINK_NETWORK && strcmp(a->ip, b->ip) == 0)
                why = VG_LINK_ADDRESS;
            vg_status st = add_link(c, it->idx, items[i].idx, why);
            if (st != VG_OK)
                return st;
        }
    }
    return VG_OK;
}

static bool tool_test(const struct ctx *c, const struct vg_incident *a, const struct vg_incident *b)
{
    (void)c;
    return strcmp(a->tool, b->tool) == 0 && a->ua_hash == b->ua_hash;
}

static bool asn_test(const struct ctx *c, const struct vg_incident *a, const struct vg_incident *b)
{
    return a->asn == b->asn &&
           ((a->tool[0] && strcmp(a->tool, b->tool) == 0) || same_family(c, a, b));
}

static bool family_test(const struct ctx *c, const struct vg_incident *a,
                        const struct vg_incident *b)
{
    return same_family(c, a, b);
}

static uint64_t str_key(const char *s)
{
    return vg_hash64(s, strlen(s), 0x6b6579);
}

static int order_cmp(const struct vg_incident *a, const struct vg_incident *b)
{
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return strcmp(a->id, b->id);
}

void vg_campaign_result_free(struct vg_campaign_result *r)
{
    if (!r)
        return;
    vg_free(r->campaign_of);
    vg_free(r->reasons);
    vg_free(r->links);
    vg_free(r->why);
    memset(r, 0, sizeof *r);
}

/* Sorts the order array by (first, id) without global state (qsort has no context): a merge
   sort with a scratch array. */
static void sort_order(size_t *order, size_t n, const struct vg_incident *inc, size_t *tmp)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_order(order, h, inc, tmp);
    sort_order(order + h, n - h, inc, tmp);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = order_cmp(&inc[order[j]], &inc[order[i]]) < 0 ? order[j++]
                                                                             : order[i++];
    while (i < h)
        tmp[k++] = order[i++];
    while (j < n)
        tmp[k++] = order[j++];
    memcpy(order, tmp, n * sizeof *order);
}

vg_status vg_campaigns_build(const struct vg_campaign_params *p, const struct vg_incident *inc,
                             size_t n, struct vg_campaign_result *out)
{
    memset(out, 0, sizeof *out);
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.inc = inc;
    c.n = n;
    out->campaign_of = vg_malloc((n ? n : 1) * sizeof *out->campaign_of);
    c.order = vg_malloc((n ? n : 1) * sizeof *c.order);
    c.parent = vg_malloc((n ? n : 1) * sizeof *c.parent);
    size_t *tmp = vg_malloc((n ? n : 1) * sizeof *tmp);
    struct item *items = vg_malloc((n ? n : 1) * VG_INCIDENT_RULES * sizeof *items);
    vg_status st = VG_OK;
    if (!out->campaign_of || !c.order || !c.parent || !tmp || !items) {
        st = VG_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        c.order[i] = i;
        c.parent[i] = i;
    }
    sort_order(c.order, n, inc, tmp);
    size_t m;
    /* network */
    m = 0;
    for (size_t i = 0; i < n; i++)
        if (at(&c, i)->net[0])
            items[m++] = (struct item){i, str_key(at(&c, i)->net)};
    st = sweep(&c, items, m, p->network_window, VG_LINK_NETWORK, NULL);
    /* tool + user agent */
    if (st == VG_OK) {
        m = 0;
        for (size_t i = 0; i < n; i++)
            if (at(&c, i)->tool[0])
                items[m++] = (struct item){i, str_key(at(&c, i)->tool) ^ at(&c, i)->ua_hash};
        st = sweep(&c, items, m, p->window, VG_LINK_TOOL, tool_test);
    }
    /* AS with tool or family */
    if (st == VG_OK) {
        m = 0;
        for (size_t i = 0; i < n; i++)
            if (at(&c, i)->asn)
                items[m++] = (struct item){i, at(&c, i)->asn};
        st = sweep(&c, items, m, p->window, VG_LINK_ASN, asn_test);
    }
    /* payload family: every rule id is a key */
    if (st == VG_OK) {
        m = 0;
        for (size_t i = 0; i < n; i++) {
            const struct vg_incident *x = at(&c, i);
            if (x->n_rules < p->family_min_rules)
                continue;
            for (unsigned r = 0; r < x->n_rules; r++)
                items[m++] = (struct item){i, 0x100000000ull | x->rules[r]};
        }
        st = sweep(&c, items, m, p->window, VG_LINK_FAMILY, family_test);
    }
    if (st != VG_OK)
        goto done;
    /* Campaigns: roots with at least two members, numbered in time order of their first. */
    size_t *size = tmp;
    memset(size, 0, n * sizeof *size);
    for (size_t i = 0; i < n; i++)
        size[uf_find(c.parent, i)]++;
    long *num = vg_malloc((n ? n : 1) * sizeof *num);
    if (!num) {
        st = VG_E_NOMEM;
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        num[i] = (c.parent[i] == i && size[i] >= 2) ? (long)k++ : -1;
    out->n_campaigns = k;
    out->reasons = vg_calloc(k ? k : 1, sizeof *out->reasons);
    out->links = vg_calloc(k ? k : 1, sizeof *out->links);
    out->why = vg_calloc(k ? k : 1, sizeof *out->why);
    uint32_t(*counts)[5] = vg_calloc(k ? k : 1, sizeof *counts);
    size_t(*example)[5] = vg_calloc(k ? k : 1, sizeof *example);
    if (!out->reasons || !out->links || !out->why || !counts || !example) {
        vg_free(num);
        vg_free(counts);
        vg_free(example);
        st = VG_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        out->campaign_of[c.order[i]] = num[uf_find(c.parent, i)];
    for (size_t l = 0; l < c.n_links; l++) {
        long cn = num[uf_find(c.parent, c.links[l].a)];
        if (cn < 0)
            continue;
        unsigned r = c.links[l].reason == VG_LINK_TOOL      ? 0
                     : c.links[l].reason == VG_LINK_FAMILY  ? 1
                     : c.links[l].reason == VG_LINK_NETWORK ? 2
                     : c.links[l].reason == VG_LINK_ASN     ? 3
                                                            : 4;
        if (!counts[cn][r])
            example[cn][r] = l;
        counts[cn][r]++;
        out->reasons[cn] |= c.links[l].reason;
        out->links[cn]++;
    }
    for (size_t cn = 0; cn < k; cn++) {
        size_t pos = 0;
        char *w = out->why[cn];
        for (unsigned r = 0; r < 5; r++) {
            if (!counts[cn][r])
                continue;
            const struct link *lk = &c.links[example[cn][r]];
            const struct vg_incident *a = at(&c, lk->a), *b = at(&c, lk->b);
            char part[160];
            switch (r) {
            case 0:
                snprintf(part, sizeof part, "same tool %s with one user agent", a->tool);
                break;
            case 1:
                snprintf(part, sizeof part, "same payload family (%u signature rules in common)",
                         common_rules(a, b));
                break;
            case 2:
                snprintf(part, sizeof part, "same network %s", a->net);
                break;
            case 4:
                snprintf(part, sizeof part, "same address %s", a->ip);
                break;
            default:
                snprintf(part, sizeof part, "same AS%" PRIu32 " with %s", a->asn,
                         a->tool[0] && strcmp(a->tool, b->tool) == 0 ? "the same tool"
                                                                      : "the same payloads");
                break;
            }
            int wn = snprintf(w + pos, sizeof out->why[0] - pos, "%s%s (%u link%s)",
                              pos ? "; " : "", part, counts[cn][r], counts[cn][r] == 1 ? "" : "s");
            if (wn > 0)
                pos += (size_t)wn < sizeof out->why[0] - pos ? (size_t)wn
                                                             : sizeof out->why[0] - pos - 1;
        }
    }
    vg_free(num);
    vg_free(counts);
    vg_free(example);
done:
    vg_free(c.order);
    vg_free(c.parent);
    vg_free(c.links);
    vg_free(tmp);
    vg_free(items);
    if (st != VG_OK)
        vg_campaign_result_free(out);
    return st;
}
