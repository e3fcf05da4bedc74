/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report_db.c: `vigil report`: what the store holds, per month and per site, in the four units
 * of DESIGN.md section 1 (attack requests, incidents, sources, campaigns), each broken down by
 * class, country of the client address, AS and outcome, with network roll-ups (/24, /48), top
 * sources, top targeted paths, and the campaigns with their member incidents and why they were
 * linked. Text (units next to every number, colour only when asked) or one JSON document.
 *
 * Counting: an attack request counts in the month of its time; an incident in the month of its
 * first request; a source is a distinct client address; a campaign counts where one of its
 * incidents counts. A breakdown row counts each unit that has the row's trait once (an incident
 * with classes sqli and tool counts once under each).
 *
 * Memory grows with distinct sources, incidents and paths of the filtered range (the store is
 * read one row at a time); the report is for people, so this is bounded by what they asked.
 *
 * Security note: sites, paths, organisations and labels come from logs or databases: every
 * one is escaped with vg_bput_term (text) or vg_bput_json (JSON).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "attrib/attrib.h"
#include "detect/detect.h"
#include "store/store.h"

#define VG_REPORT_PATH_KEEP 200
#define VG_KEY_MAX 96

/* ---- a set of 64-bit values (0 is mapped to 1) ------------------------------------------------ */

struct u64set {
    uint64_t *k;
    size_t n, cap;
};

static bool set_add(struct u64set *s, uint64_t v, bool *oom)
{
    if (!v)
        v = 1;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        uint64_t *k = vg_calloc(cap, sizeof *k);
        if (!k) {
            *oom = true;
            return false;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->k[i])
                continue;
            size_t h = (size_t)(s->k[i] * 0x9e3779b97f4a7c15ULL >> 20) & (cap - 1);
            while (k[h])
                h = (h + 1) & (cap - 1);
            k[h] = s->k[i];
        }
        vg_free(s->k);
        s->k = k;
        s->cap = cap;
    }
    size_t h = (size_t)(v * 0x9e3779b97f4a7c15ULL >> 20) & (s->cap - 1);
    while (s->k[h]) {
        if (s->k[h] == v)
            return false;
        h = (h + 1) & (s->cap - 1);
    }
    s->k[h] = v;
    s->n++;
    return true;
}

static uint64_t text_hash(const char *s)
{
    return vg_hash64(s, strlen(s), 0x7265);
}

/* ---- rows keyed by text ----------------------------------------------------------------------- */

struct row {
    char key[VG_KEY_MAX];
    uint64_t attacks, anomalies;
    struct u64set srcs, incs, camps;
    /* sources and ASes */
    uint32_t classes, asn;
    char cc[3];
    char extra[128]; /* AS organisation, or a source's labels */
    char extra2[128]; /* a source's AS organisation */
};

struct table {
    struct row *r;
    size_t n, cap;
    uint32_t *slots;
    size_t cap_slots;
};

static void table_fini(struct table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        vg_free(t->r[i].srcs.k);
        vg_free(t->r[i].incs.k);
        vg_free(t->r[i].camps.k);
    }
    vg_free(t->r);
    vg_free(t->slots);
}

/* The row of key (created at zero). NULL when out of memory. */
static struct row *table_get(struct table *t, const char *key, bool *created)
{
    char k[VG_KEY_MAX];
    snprintf(k, sizeof k, "%s", key);
    uint64_t h = text_hash(k);
    *created = false;
    if ((t->n + 1) * 2 > t->cap_slots) {
        size_t cap = t->cap_slots ? t->cap_slots * 2 : 16;
        uint32_t *slots = vg_calloc(cap, sizeof *slots);
        if (!slots)
            return NULL;
        for (size_t i = 0; i < t->n; i++) {
            size_t j = (size_t)text_hash(t->r[i].key) & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = (uint32_t)(i + 1);
        }
        vg_free(t->slots);
        t->slots = slots;
        t->cap_slots = cap;
    }
    size_t j = (size_t)h & (t->cap_slots - 1);
    while (t->slots[j]) {
        struct row *r = &t->r[t->slots[j] - 1];
        if (strcmp(r->key, k) == 0)
            return r;
        j = (j + 1) & (t->cap_slots - 1);
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct row *nr = vg_realloc(t->r, cap * sizeof *nr);
        if (!nr)
            return NULL;
        t->r = nr;
        t->cap = cap;
    }
    struct row *r = &t->r[t->n];
    memset(r, 0, sizeof *r);
    memcpy(r->key, k, sizeof k);
    t->slots[j] = (uint32_t)++t->n;
    *created = true;
    return r;
}

static int row_cmp(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    if (a->attacks != b->attacks)
        return a->attacks < b->attacks ? 1 : -1;
    if (a->incs.n != b->incs.n)
        return a->incs.n < b->incs.n ? 1 : -1;
    if (a->srcs.n != b->srcs.n)
        return a->srcs.n < b->srcs.n ? 1 : -1;
    return strcmp(a->key, b->key);
}

/* Sorting invalidates the hash slots: a table is sorted once, just before it is written. */
static void table_sort(struct table *t)
{
    if (t->n > 1)
        qsort(t->r, t->n, sizeof *t->r, row_cmp);
}

/* ---- groups: (month, site), and one for everything ----------------------------------------------- */

struct group {
    int32_t month; /* INT32_MIN: all months */
    char site[256];
    bool all_sites;
    uint64_t attacks;
    struct u64set srcs, incs, camps;
    struct table cls, cty, asn, out, net, src, path;
};

struct campaign_member {
    struct vg_incident inc;
    char campaign[VG_INCIDENT_ID_LEN + 2];
};

struct report {
    const struct vg_report_options *opt;
    struct vg_store *store;
    struct vg_labels *labels;
    struct vg_store_filter filter;
    struct group **groups;
    size_t n_groups, cap_groups;
    struct group total;
    struct campaign_member *members;
    size_t n_members, cap_members;
    struct table months; /* key "YYYY-MM": attacks = requests, anomalies = malformed */
    bool oom;
    vg_status st;
};

static void group_fini(struct group *g)
{
    vg_free(g->srcs.k);
    vg_free(g->incs.k);
    vg_free(g->camps.k);
    table_fini(&g->cls);
    table_fini(&g->cty);
    table_fini(&g->asn);
    table_fini(&g->out);
    table_fini(&g->net);
    table_fini(&g->src);
    table_fini(&g->path);
}

static struct group *group_of(struct report *r, int32_t month, const char *site)
{
    for (size_t i = r->n_groups; i > 0; i--) {
        struct group *g = r->groups[i - 1];
        if (g->month == month && strcmp(g->site, site) == 0)
            return g;
    }
    if (r->n_groups == r->cap_groups) {
        size_t cap = r->cap_groups ? r->cap_groups * 2 : 16;
        struct group **ng = vg_realloc(r->groups, cap * sizeof *ng);
        if (!ng)
            return NULL;
        r->groups = ng;
        r->cap_groups = cap;
    }
    struct group *g = vg_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->month = month;
    snprintf(g->site, sizeof g->site, "%s", site);
    r->groups[r->n_groups++] = g;
    return g;
}

static int group_cmp(const void *x, const void *y)
{
    const struct group *a = *(const struct group *const *)x, *b = *(const struct group *const *)y;
    if (a->month != b->month)
        return a->month < b->month ? -1 : 1;
    return strcmp(a->site, b->site);
}

/* ---- gathering ----------------------------------------------------------------------------------- */

static const char *outcome_key(int o)
{
    switch (o) {
    case VG_OUT_SUCCESS:
        return "possible-success";
    case VG_OUT_REFUSED:
        return "refused";
    case VG_OUT_FAILED:
        return "failed";
    default:
        return "unknown";
    }
}

static void asn_key(uint32_t asn, char *out, size_t cap)
{
    if (asn)
        snprintf(out, cap, "AS%" PRIu32, asn);
    else
        snprintf(out, cap, "unknown");
}

/* Fills a source row's attribution (labels, organisation) from the store or --labels. */
static void source_info(struct report *r, struct row *row, const char *ip)
{
    struct vg_address_row a;
    bool found = false;
    if (vg_store_get_address(r->store, ip, &a, &found) == VG_OK && found) {
        snprintf(row->extra, sizeof row->extra, "%s", a.labels);
        snprintf(row->extra2, sizeof row->extra2, "%s", a.as_org);
        if (!row->asn)
            row->asn = a.asn;
        if (!row->cc[0])
            snprintf(row->cc, sizeof row->cc, "%s", a.country);
    }
    if (r->labels) {
        struct vg_addr addr;
        row->extra[0] = 0;
        if (vg_addr_parse((const uint8_t *)ip, strlen(ip), &addr))
            vg_labels_lookup(r->labels, &addr, row->extra, sizeof row->extra);
    }
}

static void add_one(struct report *r, struct table *t, const char *key, uint64_t src, bool attack,
                    bool anomaly, uint64_t inc, uint64_t camp)
{
    bool created;
    struct row *row = table_get(t, key, &created);
    if (!row) {
        r->oom = true;
        return;
    }
    if (attack)
        row->attacks++;
    if (anomaly)
        row->anomalies++;
    if (src)
        set_add(&row->srcs, src, &r->oom);
    if (inc)
        set_add(&row->incs, inc, &r->oom);
    if (camp)
        set_add(&row->camps, camp, &r->oom);
}

static void group_event(struct report *r, struct group *g, const struct vg_event_row *e)
{
    uint64_t src = text_hash(e->ip);
    g->attacks++;
    set_add(&g->srcs, src, &r->oom);
    for (int c = 0; c < VG_CLASS_COUNT; c++)
        if (e->classes & (1u << c))
            add_one(r, &g->cls, vg_class_name((enum vg_class)c), src, true, false, 0, 0);
    add_one(r, &g->cty, e->country[0] ? e->country : "unknown", src, true, false, 0, 0);
    char ak[32];
    asn_key(e->asn, ak, sizeof ak);
    bool created;
    struct row *arow = table_get(&g->asn, ak, &created);
    if (!arow) {
        r->oom = true;
        return;
    }
    if (created) {
        arow->asn = e->asn;
        struct vg_address_row a;
        bool found = false;
        if (e->asn && vg_store_get_address(r->store, e->ip, &a, &found) == VG_OK && found)
            snprintf(arow->extra, sizeof arow->extra, "%s", a.as_org);
    }
    arow->attacks++;
    set_add(&arow->srcs, src, &r->oom);
    int oc = strcmp(e->outcome, "possible-success") == 0 ? VG_OUT_SUCCESS
             : strcmp(e->outcome, "refused") == 0     ? VG_OUT_REFUSED
             : strcmp(e->outcome, "failed") == 0      ? VG_OUT_FAILED
                                                      : VG_OUT_UNKNOWN;
    add_one(r, &g->out, outcome_key(oc), src, true, e->size_anomaly, 0, 0);
    struct vg_addr addr;
    char net[VG_NET_TEXT_MAX] = "unknown";
    if (vg_addr_parse((const uint8_t *)e->ip, strlen(e->ip), &addr))
        vg_addr_network(&addr, net);
    add_one(r, &g->net, net, src, true, false, 0, 0);
    struct row *srow = table_get(&g->src, e->ip, &created);
    if (!srow) {
        r->oom = true;
        return;
    }
    if (created) {
        srow->asn = e->asn;
        snprintf(srow->cc, sizeof srow->cc, "%s", e->country);
        source_info(r, srow, e->ip);
    }
    srow->attacks++;
    srow->classes |= e->classes;
    /* the path: the request-target up to '?', cut at VG_REPORT_PATH_KEEP bytes */
    size_t pn = 0;
    while (pn < e->target.n && e->target.p[pn] != '?')
        pn++;
    char path[VG_KEY_MAX];
    size_t keep = pn < sizeof path - 1 ? pn : sizeof path - 1;
    memcpy(path, e->target.p, keep);
    path[keep] = 0;
    add_one(r, &g->path, keep ? path : "(none)", 0, true, false, 0, 0);
}

static vg_status on_event(void *user, const struct vg_event_row *e)
{
    struct report *r = user;
    struct group *g = group_of(r, e->month, e->site);
    if (!g)
        return VG_E_NOMEM;
    group_event(r, g, e);
    group_event(r, &r->total, e);
    return r->oom ? VG_E_NOMEM : VG_OK;
}

static int incident_outcome(const struct vg_incident *inc)
{
    for (int o = 0; o < VG_OUT_COUNT; o++)
        if (inc->outcomes[o])
            return o;
    return VG_OUT_UNKNOWN;
}

static void group_incident(struct report *r, struct group *g, const struct vg_incident_row *row)
{
    const struct vg_incident *inc = &row->inc;
    uint64_t ih = text_hash(inc->id);
    uint64_t ch = row->campaign[0] ? text_hash(row->campaign) : 0;
    set_add(&g->incs, ih, &r->oom);
    if (ch)
        set_add(&g->camps, ch, &r->oom);
    for (int c = 0; c < VG_CLASS_COUNT; c++)
        if (inc->classes & (1u << c))
            add_one(r, &g->cls, vg_class_name((enum vg_class)c), 0, false, false, ih, ch);
    add_one(r, &g->cty, inc->country[0] ? inc->country : "unknown", 0, false, false, ih, ch);
    char ak[32];
    asn_key(inc->asn, ak, sizeof ak);
    bool created;
    struct row *arow = table_get(&g->asn, ak, &created);
    if (!arow) {
        r->oom = true;
        return;
    }
    if (created)
        arow->asn = inc->asn;
    set_add(&arow->incs, ih, &r->oom);
    if (ch)
        set_add(&arow->camps, ch, &r->oom);
    add_one(r, &g->out, outcome_key(incident_outcome(inc)), 0, false, false, ih, ch);
    add_one(r, &g->net, inc->net[0] ? inc->net : "unknown", 0, false, false, ih, ch);
    struct row *srow = table_get(&g->src, inc->ip, &created);
    if (!srow) {
        r->oom = true;
        return;
    }
    if (created) {
        srow->asn = inc->asn;
        snprintf(srow->cc, sizeof srow->cc, "%s", inc->country);
        source_info(r, srow, inc->ip);
    }
    set_add(&srow->incs, ih, &r->oom);
    if (ch)
        set_add(&srow->camps, ch, &r->oom);
}

static vg_status on_incident(void *user, const struct vg_incident_row *row)
{
    struct report *r = user;
    struct group *g = group_of(r, row->month, row->inc.site);
    if (!g)
        return VG_E_NOMEM;
    group_incident(r, g, row);
    group_incident(r, &r->total, row);
    if (row->campaign[0]) {
        if (r->n_members == r->cap_members) {
            size_t cap = r->cap_members ? r->cap_members * 2 : 16;
            struct campaign_member *m = vg_realloc(r->members, cap * sizeof *m);
            if (!m)
                return VG_E_NOMEM;
            r->members = m;
            r->cap_members = cap;
        }
        struct campaign_member *m = &r->members[r->n_members++];
        m->inc = row->inc;
        snprintf(m->campaign, sizeof m->campaign, "%s", row->campaign);
    }
    return r->oom ? VG_E_NOMEM : VG_OK;
}

static vg_status on_month(void *user, int32_t month, uint64_t requests, uint64_t malformed)
{
    struct report *r = user;
    char k[16];
    vg_month_format(month, k);
    bool created;
    struct row *row = table_get(&r->months, k, &created);
    if (!row)
        return VG_E_NOMEM;
    row->attacks = requests;
    row->anomalies = malformed;
    return VG_OK;
}

/* ---- filters --------------------------------------------------------------------------------- */

/* "YYYY-MM-DD[THH:MM:SS[Z]]", "YYYY-MM" or unix seconds; an until date or month is the end of
   that day or month (exclusive bound). */
static bool parse_when(const char *s, bool until, int64_t *out)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, n = 0;
    size_t len = strlen(s);
    if (len && strspn(s, "0123456789") == len && len <= 12) {
        *out = strtoll(s, NULL, 10);
        return true;
    }
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) == 6 &&
        (s[n] == 0 || (s[n] == 'Z' && s[n + 1] == 0))) {
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
            return false;
        *out = vg_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
        return true;
    }
    n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && s[n] == 0) {
        if (mo < 1 || mo > 12 || d < 1 || d > 31)
            return false;
        *out = vg_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + (until ? 86400 : 0);
        return true;
    }
    n = 0;
    if (sscanf(s, "%4d-%2d%n", &y, &mo, &n) == 2 && s[n] == 0) {
        if (mo < 1 || mo > 12)
            return false;
        if (until) {
            mo++;
            if (mo == 13) {
                mo = 1;
                y++;
            }
        }
        *out = vg_days_from_civil(y, (unsigned)mo, 1) * 86400;
        return true;
    }
    return false;
}

static vg_status make_filter(const struct vg_report_options *o, struct vg_store_filter *f,
                             char *cc, struct vg_error *err)
{
    memset(f, 0, sizeof *f);
    if (o->since && !parse_when(o->since, false, &f->since))
        return vg_error_set(err, VG_E_INVAL, "--since", 0,
                            "--since wants YYYY-MM-DD, YYYY-MM, YYYY-MM-DDTHH:MM:SSZ or unix "
                            "seconds, not '%.80s'",
                            o->since);
    if (o->until && !parse_when(o->until, true, &f->until))
        return vg_error_set(err, VG_E_INVAL, "--until", 0,
                            "--until wants YYYY-MM-DD, YYYY-MM, YYYY-MM-DDTHH:MM:SSZ or unix "
                            "seconds, not '%.80s'",
                            o->until);
    if (f->since && f->until && f->until <= f->since)
        return vg_error_set(err, VG_E_INVAL, "--until", 0, "--until is not after --since");
    if (o->site)
        f->site = strcmp(o->site, "-") == 0 ? "" : o->site;
    if (o->class_name) {
        enum vg_class c;
        if (!vg_class_parse(o->class_name, &c)) {
            char names[256] = "";
            for (int i = 0; i < VG_CLASS_COUNT; i++) {
                size_t u = strlen(names);
                snprintf(names + u, sizeof names - u, "%s%s", i ? ", " : "",
                         vg_class_name((enum vg_class)i));
            }
            return vg_error_set(err, VG_E_INVAL, "--class", 0,
                                "--class wants one of %s, not '%.40s'", names, o->class_name);
        }
        f->class_mask = 1u << c;
    }
    if (o->country) {
        const char *c = o->country;
        bool ok = strlen(c) == 2;
        for (int i = 0; ok && i < 2; i++)
            ok = (c[i] >= 'A' && c[i] <= 'Z') || (c[i] >= 'a' && c[i] <= 'z');
        if (!ok)
            return vg_error_set(err, VG_E_INVAL, "--country", 0,
                                "--country wants a two-letter ISO code, not '%.40s'", c);
        cc[0] = (char)(c[0] & ~0x20);
        cc[1] = (char)(c[1] & ~0x20);
        cc[2] = 0;
        f->country = cc;
    }
    if (o->source) {
        unsigned len = 0;
        if (!vg_prefix_parse((const uint8_t *)o->source, strlen(o->source), &f->source, &len))
            return vg_error_set(err, VG_E_INVAL, "--source", 0,
                                "--source wants an address or a network (203.0.113.0/24, "
                                "2001:db8::/48), not '%.80s'",
                                o->source);
        f->has_source = true;
        f->source_len = len;
    }
    return VG_OK;
}

/* ---- text ------------------------------------------------------------------------------------ */

static void put_num(struct vg_buf *b, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            vg_bputc(b, ',');
        vg_bputc(b, digits[i]);
    }
}

/* "1 incident", "2 incidents": the unit next to every number. */
static void put_unit(struct vg_buf *b, uint64_t v, const char *one, const char *many)
{
    put_num(b, v);
    vg_bputc(b, ' ');
    vg_bputs(b, v == 1 ? one : many);
}

/* Length of the longest prefix of s with at most max characters, cut at a UTF-8 boundary. */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t i = 0, chars = 0;
    while (s[i]) {
        if (((uint8_t)s[i] & 0xC0) != 0x80 && chars++ == max)
            break;
        i++;
    }
    return i;
}

/* Pads the text written since `from` to width columns (counting UTF-8 characters). */
static void pad(struct vg_buf *b, size_t from, size_t width)
{
    size_t chars = 0;
    for (size_t i = from; i < b->n; i++)
        chars += (b->p[i] & 0xC0) != 0x80;
    do
        vg_bputc(b, ' ');
    while (++chars < width);
}

static void put_units4(struct vg_buf *b, uint64_t att, uint64_t inc, uint64_t src, uint64_t camp)
{
    size_t at = b->n;
    put_unit(b, att, "attack request", "attack requests");
    pad(b, at, 26);
    at = b->n;
    put_unit(b, inc, "incident", "incidents");
    pad(b, at, 17);
    at = b->n;
    put_unit(b, src, "source", "sources");
    pad(b, at, 15);
    put_unit(b, camp, "campaign", "campaigns");
}

static void put_classes(struct vg_buf *b, uint32_t classes)
{
    int first = 1;
    for (int c = 0; c < VG_CLASS_COUNT; c++)
        if (classes & (1u << c)) {
            vg_bprintf(b, "%s%s", first ? "" : ",", vg_class_name((enum vg_class)c));
            first = 0;
        }
}

static const char *outcome_text(const char *key)
{
    if (strcmp(key, "possible-success") == 0)
        return "possible success (2xx/3xx)";
    if (strcmp(key, "refused") == 0)
        return "refused (4xx)";
    if (strcmp(key, "failed") == 0)
        return "failed (5xx)";
    return "unknown (no status)";
}

static const char *caveat(void)
{
    return "Countries, networks and AS are those of the client addresses as logged, from the "
           "named databases of the named dates: not necessarily the location of the people "
           "behind them (proxies, VPNs, Tor, cloud hosts and spoofed X-Forwarded-For headers hide "
           "the origin).";
}

static void text_table(struct vg_buf *b, const char *title, struct table *t, unsigned top,
                       int kind /* 0 plain, 1 asn, 2 outcome, 3 class */)
{
    if (!t->n)
        return;
    table_sort(t);
    vg_bprintf(b, "  %s\n", title);
    for (size_t i = 0; i < t->n && i < top; i++) {
        const struct row *r = &t->r[i];
        size_t at = b->n;
        vg_bputs(b, "    ");
        if (kind == 2) {
            vg_bputs(b, outcome_text(r->key));
        } else {
            vg_bput_term(b, (const uint8_t *)r->key, strlen(r->key));
            if (kind == 1 && r->extra[0]) {
                /* The organisation fills what the column leaves after "    ASnnn ". */
                size_t used = 4 + strlen(r->key) + 1, room = used + 8 < 43 ? 43 - used : 8;
                vg_bputc(b, ' ');
                vg_bput_term(b, (const uint8_t *)r->extra, utf8_cut(r->extra, room));
            }
        }
        pad(b, at, 44);
        put_units4(b, r->attacks, r->incs.n, r->srcs.n, r->camps.n);
        if (kind == 2 && r->anomalies) {
            vg_bputs(b, " (");
            put_unit(b, r->anomalies, "with an unusual answer size", "with an unusual answer size");
            vg_bputc(b, ')');
        }
        vg_bputc(b, '\n');
    }
    if (t->n > top)
        vg_bprintf(b, "    (%zu more)\n", t->n - top);
}

static void text_group(struct report *r, struct vg_buf *b, struct group *g, unsigned top,
                       const char *bold, const char *off)
{
    if (g->month == INT32_MIN) {
        vg_bprintf(b, "\n%sAll months, all sites%s\n", bold, off);
    } else {
        char mk[16];
        vg_month_format(g->month, mk);
        vg_bprintf(b, "\n%s%s  site: ", bold, mk);
        if (g->site[0])
            vg_bput_term(b, (const uint8_t *)g->site, strlen(g->site));
        else
            vg_bputs(b, "(not logged)");
        vg_bputs(b, off);
        bool created;
        struct row *m = table_get(&r->months, mk, &created);
        if (m && !created) {
            vg_bputs(b, "  (");
            put_unit(b, m->attacks, "request", "requests");
            vg_bputs(b, " logged that month, all sites)");
        }
        vg_bputc(b, '\n');
    }
    vg_bputs(b, "  ");
    put_unit(b, g->attacks, "attack request", "attack requests");
    vg_bputs(b, ", ");
    put_unit(b, g->incs.n, "incident", "incidents");
    vg_bputs(b, ", ");
    put_unit(b, g->srcs.n, "source", "sources");
    vg_bputs(b, ", ");
    put_unit(b, g->camps.n, "campaign", "campaigns");
    vg_bputc(b, '\n');
    text_table(b, "by class", &g->cls, VG_CLASS_COUNT, 3);
    text_table(b, "by country of the client address", &g->cty, top, 0);
    text_table(b, "by AS of the client address", &g->asn, top, 1);
    text_table(b, "by outcome", &g->out, 4, 2);
    text_table(b, "by network (/24 IPv4, /48 IPv6)", &g->net, top, 0);
    if (g->src.n) {
        table_sort(&g->src);
        vg_bputs(b, "  top sources\n");
        for (size_t i = 0; i < g->src.n && i < top; i++) {
            const struct row *s = &g->src.r[i];
            size_t at = b->n;
            vg_bprintf(b, "    %s", s->key);
            pad(b, at, 30);
            vg_bprintf(b, "%-3s ", s->cc[0] ? s->cc : "-");
            at = b->n;
            if (s->asn)
                vg_bprintf(b, "AS%" PRIu32 " ", s->asn);
            vg_bput_term(b, (const uint8_t *)s->extra2, utf8_cut(s->extra2, 28));
            pad(b, at, 38);
            at = b->n;
            put_unit(b, s->attacks, "attack request", "attack requests");
            pad(b, at, 26);
            at = b->n;
            put_unit(b, s->incs.n, "incident", "incidents");
            pad(b, at, 14);
            put_classes(b, s->classes);
            if (s->extra[0]) {
                vg_bputs(b, "  labels: ");
                vg_bput_term(b, (const uint8_t *)s->extra, strlen(s->extra));
            }
            vg_bputc(b, '\n');
        }
        if (g->src.n > top)
            vg_bprintf(b, "    (%zu more sources)\n", g->src.n - top);
    }
    if (g->path.n) {
        table_sort(&g->path);
        vg_bputs(b, "  top targeted paths\n");
        for (size_t i = 0; i < g->path.n && i < top; i++) {
            const struct row *p = &g->path.r[i];
            size_t at = b->n;
            vg_bputs(b, "    ");
            size_t n = strlen(p->key);
            vg_bput_term(b, (const uint8_t *)p->key, n > 60 ? 60 : n);
            if (n > 60)
                vg_bputs(b, "...");
            pad(b, at, 68);
            put_unit(b, p->attacks, "attack request", "attack requests");
            vg_bputc(b, '\n');
        }
        if (g->path.n > top)
            vg_bprintf(b, "    (%zu more paths)\n", g->path.n - top);
    }
}

static void put_time(struct vg_buf *b, int64_t t)
{
    char ts[24];
    vg_time_format_iso(t, ts);
    vg_bputs(b, ts);
}

struct campaign_ctx {
    struct report *r;
    struct vg_buf *b;
    bool json;
    size_t n;
    const char *bold, *off;
};

static vg_status text_campaign(void *user, const struct vg_campaign_row *c)
{
    struct campaign_ctx *x = user;
    struct report *r = x->r;
    struct vg_buf *b = x->b;
    /* only campaigns with a member in the filtered range */
    bool shown = false;
    for (size_t i = 0; i < r->n_members && !shown; i++)
        shown = strcmp(r->members[i].campaign, c->id) == 0;
    if (!shown)
        return VG_OK;
    x->n++;
    vg_bprintf(b, "  %s%s%s  ", x->bold, c->id, x->off);
    put_time(b, c->first);
    vg_bputs(b, " .. ");
    put_time(b, c->last);
    vg_bputs(b, "\n    ");
    put_unit(b, c->incidents, "incident", "incidents");
    vg_bputs(b, ", ");
    put_unit(b, c->sources, "source", "sources");
    vg_bputs(b, "; classes ");
    put_classes(b, c->classes);
    vg_bputs(b, "\n    linked by: ");
    vg_bput_term(b, (const uint8_t *)c->why, strlen(c->why));
    vg_bputs(b, "\n    members:\n");
    for (size_t i = 0; i < r->n_members; i++) {
        const struct campaign_member *m = &r->members[i];
        if (strcmp(m->campaign, c->id) != 0)
            continue;
        const struct vg_incident *inc = &m->inc;
        vg_bprintf(b, "      incident %s  %s  %s", inc->id, inc->ip,
                   inc->country[0] ? inc->country : "-");
        if (inc->asn)
            vg_bprintf(b, " AS%" PRIu32, inc->asn);
        vg_bputs(b, "  ");
        put_time(b, inc->first);
        vg_bputs(b, "  ");
        put_unit(b, inc->attacks, "attack request", "attack requests");
        vg_bputs(b, "  ");
        put_classes(b, inc->classes);
        if (inc->tool[0]) {
            vg_bputs(b, "  tool ");
            vg_bput_term(b, (const uint8_t *)inc->tool, strlen(inc->tool));
        }
        vg_bputc(b, '\n');
    }
    return VG_OK;
}

static void text_report(struct report *r, struct vg_buf *b, const struct vg_store_summary *info)
{
    const struct vg_report_options *o = r->opt;
    const char *bold = o->color ? "\033[1m" : "", *off = o->color ? "\033[0m" : "";
    unsigned top = o->top ? o->top : 10;
    vg_bprintf(b, "%svigil %s report%s: ", bold, vg_version(), off);
    vg_bput_term(b, (const uint8_t *)o->db_path, strlen(o->db_path));
    vg_bputs(b, " (");
    put_unit(b, info->runs, "run", "runs");
    vg_bputs(b, ", ");
    put_unit(b, info->files, "input file", "input files");
    vg_bputs(b, ")\n");
    if (o->since || o->until || o->site || o->class_name || o->country || o->source) {
        vg_bputs(b, "filters:");
        const char *names[] = {"since", "until", "site", "class", "country", "source"};
        const char *vals[] = {o->since, o->until, o->site, o->class_name, o->country, o->source};
        for (int i = 0; i < 6; i++) {
            if (!vals[i])
                continue;
            vg_bprintf(b, " --%s ", names[i]);
            vg_bput_term(b, (const uint8_t *)vals[i], strlen(vals[i]));
        }
        vg_bputc(b, '\n');
    }
    vg_bputs(b, "units: attack request = one logged request flagged by a detector; incident = a run "
                "of attack requests from one source against one site with no gap longer than the "
                "incident gap; source = one client address; campaign = incidents linked by shared "
                "traits (see \"linked by\")\n");
    text_group(r, b, &r->total, top, bold, off);
    for (size_t i = 0; i < r->n_groups; i++)
        text_group(r, b, r->groups[i], top, bold, off);
    vg_bprintf(b, "\n%sCampaigns%s\n", bold, off);
    struct campaign_ctx cx = {r, b, false, 0, bold, off};
    r->st = vg_store_iter_campaigns(r->store, text_campaign, &cx);
    if (!cx.n)
        vg_bputs(b, "  none: no incidents were linked by a shared tool, payload family, network or "
                    "AS within the campaign windows\n");
    vg_bputs(b, "\nProvenance: geolocation ");
    vg_bput_term(b, (const uint8_t *)(info->geo[0] ? info->geo : "none"),
                 strlen(info->geo[0] ? info->geo : "none"));
    vg_bputs(b, "; AS ");
    vg_bput_term(b, (const uint8_t *)(info->asn[0] ? info->asn : "none"),
                 strlen(info->asn[0] ? info->asn : "none"));
    if (info->labels[0] || r->labels) {
        vg_bputs(b, "; labels ");
        const char *l = r->labels ? vg_labels_source(r->labels) : info->labels;
        vg_bput_term(b, (const uint8_t *)l, strlen(l));
    }
    vg_bputs(b, "; rules sha256 ");
    vg_bput_term(b, (const uint8_t *)info->rules, strlen(info->rules) > 64 ? 64 : strlen(info->rules));
    vg_bputs(b, ".\n");
    vg_bputs(b, caveat());
    vg_bputc(b, '\n');
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static void jstr(struct vg_buf *b, const char *s)
{
    vg_bputc(b, '"');
    vg_bput_json(b, (const uint8_t *)s, strlen(s));
    vg_bputc(b, '"');
}

static void json_classes(struct vg_buf *b, uint32_t classes)
{
    vg_bputc(b, '[');
    int first = 1;
    for (int c = 0; c < VG_CLASS_COUNT; c++)
        if (classes & (1u << c)) {
            vg_bprintf(b, "%s\"%s\"", first ? "" : ",", vg_class_name((enum vg_class)c));
            first = 0;
        }
    vg_bputc(b, ']');
}

static void json_units(struct vg_buf *b, const struct row *r)
{
    vg_bprintf(b,
               "\"attack_requests\":%" PRIu64 ",\"incidents\":%zu,\"sources\":%zu,"
               "\"campaigns\":%zu",
               r->attacks, r->incs.n, r->srcs.n, r->camps.n);
}

static void json_table(struct vg_buf *b, const char *name, const char *key, struct table *t,
                       int kind)
{
    table_sort(t);
    vg_bprintf(b, ",\"%s\":[", name);
    for (size_t i = 0; i < t->n; i++) {
        const struct row *r = &t->r[i];
        vg_bprintf(b, "%s{\"%s\":", i ? "," : "", key);
        if (kind == 1) {
            vg_bprintf(b, "%" PRIu32 ",\"organization\":", r->asn);
            jstr(b, r->extra);
        } else {
            jstr(b, strcmp(r->key, "unknown") == 0 && kind == 0 ? "" : r->key);
        }
        vg_bputc(b, ',');
        json_units(b, r);
        if (kind == 2)
            vg_bprintf(b, ",\"size_anomalies\":%" PRIu64, r->anomalies);
        vg_bputc(b, '}');
    }
    vg_bputc(b, ']');
}

static void json_labels(struct vg_buf *b, const char *labels)
{
    vg_bputc(b, '[');
    const char *p = labels;
    int first = 1;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        vg_bputs(b, first ? "\"" : ",\"");
        vg_bput_json(b, (const uint8_t *)p, n);
        vg_bputc(b, '"');
        first = 0;
        p += n;
        if (*p == ',')
            p++;
    }
    vg_bputc(b, ']');
}

static void json_group(struct report *r, struct vg_buf *b, struct group *g, unsigned top)
{
    vg_bputc(b, '{');
    if (g->month != INT32_MIN) {
        char mk[16];
        vg_month_format(g->month, mk);
        vg_bprintf(b, "\"month\":\"%s\",\"site\":", mk);
        jstr(b, g->site);
        bool created;
        struct row *m = table_get(&r->months, mk, &created);
        vg_bprintf(b, ",\"requests_logged_that_month\":%" PRIu64 ",",
                   m && !created ? m->attacks : 0);
    }
    vg_bprintf(b,
               "\"attack_requests\":%" PRIu64 ",\"incidents\":%zu,\"sources\":%zu,"
               "\"campaigns\":%zu",
               g->attacks, g->incs.n, g->srcs.n, g->camps.n);
    json_table(b, "by_class", "class", &g->cls, 3);
    json_table(b, "by_country", "country", &g->cty, 0);
    json_table(b, "by_asn", "asn", &g->asn, 1);
    json_table(b, "by_outcome", "outcome", &g->out, 2);
    json_table(b, "by_network", "network", &g->net, 0);
    table_sort(&g->src);
    vg_bputs(b, ",\"top_sources\":[");
    for (size_t i = 0; i < g->src.n && i < top; i++) {
        const struct row *s = &g->src.r[i];
        vg_bputs(b, i ? ",{\"ip\":" : "{\"ip\":");
        jstr(b, s->key);
        vg_bputs(b, ",\"country\":");
        jstr(b, s->cc);
        vg_bprintf(b, ",\"asn\":%" PRIu32 ",\"organization\":", s->asn);
        jstr(b, s->extra2);
        struct vg_addr a;
        char net[VG_NET_TEXT_MAX] = "";
        if (vg_addr_parse((const uint8_t *)s->key, strlen(s->key), &a))
            vg_addr_network(&a, net);
        vg_bputs(b, ",\"network\":");
        jstr(b, net);
        vg_bputs(b, ",\"labels\":");
        json_labels(b, s->extra);
        vg_bputc(b, ',');
        json_units(b, s);
        vg_bputs(b, ",\"classes\":");
        json_classes(b, s->classes);
        vg_bputc(b, '}');
    }
    vg_bputs(b, "]");
    table_sort(&g->path);
    vg_bputs(b, ",\"top_paths\":[");
    for (size_t i = 0; i < g->path.n && i < top; i++) {
        vg_bputs(b, i ? ",{\"path\":" : "{\"path\":");
        jstr(b, g->path.r[i].key);
        vg_bprintf(b, ",\"attack_requests\":%" PRIu64 "}", g->path.r[i].attacks);
    }
    vg_bputs(b, "]}");
}

static vg_status json_campaign(void *user, const struct vg_campaign_row *c)
{
    struct campaign_ctx *x = user;
    struct report *r = x->r;
    struct vg_buf *b = x->b;
    bool shown = false;
    for (size_t i = 0; i < r->n_members && !shown; i++)
        shown = strcmp(r->members[i].campaign, c->id) == 0;
    if (!shown)
        return VG_OK;
    vg_bputs(b, x->n++ ? ",{\"id\":" : "{\"id\":");
    jstr(b, c->id);
    char ts[24];
    vg_time_format_iso(c->first, ts);
    vg_bprintf(b, ",\"first\":\"%s\"", ts);
    vg_time_format_iso(c->last, ts);
    vg_bprintf(b, ",\"last\":\"%s\",\"incidents\":%" PRIu64 ",\"sources\":%" PRIu64 ",\"classes\":",
               ts, c->incidents, c->sources);
    json_classes(b, c->classes);
    vg_bputs(b, ",\"linked_by\":");
    jstr(b, c->why);
    vg_bputs(b, ",\"members\":[");
    size_t k = 0;
    for (size_t i = 0; i < r->n_members; i++) {
        const struct campaign_member *m = &r->members[i];
        if (strcmp(m->campaign, c->id) != 0)
            continue;
        const struct vg_incident *inc = &m->inc;
        vg_bputs(b, k++ ? ",{\"incident\":" : "{\"incident\":");
        jstr(b, inc->id);
        vg_bputs(b, ",\"ip\":");
        jstr(b, inc->ip);
        vg_bputs(b, ",\"site\":");
        jstr(b, inc->site);
        vg_bputs(b, ",\"country\":");
        jstr(b, inc->country);
        vg_time_format_iso(inc->first, ts);
        vg_bprintf(b, ",\"asn\":%" PRIu32 ",\"first\":\"%s\"", inc->asn, ts);
        vg_time_format_iso(inc->last, ts);
        vg_bprintf(b, ",\"last\":\"%s\",\"attack_requests\":%" PRIu64 ",\"classes\":", ts,
                   inc->attacks);
        json_classes(b, inc->classes);
        vg_bputs(b, ",\"tool\":");
        jstr(b, inc->tool);
        vg_bputc(b, '}');
    }
    vg_bputs(b, "]}");
    return VG_OK;
}

struct incident_list_ctx {
    struct vg_buf *b;
    size_t n;
};

static vg_status incident_list(void *user, const struct vg_incident_row *row)
{
    struct incident_list_ctx *x = user;
    struct vg_buf *b = x->b;
    const struct vg_incident *inc = &row->inc;
    char ts[24];
    vg_bputs(b, x->n++ ? ",{\"id\":" : "{\"id\":");
    jstr(b, inc->id);
    vg_bputs(b, ",\"ip\":");
    jstr(b, inc->ip);
    vg_bputs(b, ",\"site\":");
    jstr(b, inc->site);
    vg_time_format_iso(inc->first, ts);
    vg_bprintf(b, ",\"first\":\"%s\"", ts);
    vg_time_format_iso(inc->last, ts);
    vg_bprintf(b, ",\"last\":\"%s\",\"attack_requests\":%" PRIu64 ",\"classes\":", ts,
               inc->attacks);
    json_classes(b, inc->classes);
    vg_bputs(b, ",\"country\":");
    jstr(b, inc->country);
    vg_bprintf(b, ",\"asn\":%" PRIu32 ",\"network\":", inc->asn);
    jstr(b, inc->net);
    vg_bputs(b, ",\"tool\":");
    jstr(b, inc->tool);
    vg_bprintf(b,
               ",\"outcomes\":{\"possible_success\":%" PRIu64 ",\"refused\":%" PRIu64
               ",\"failed\":%" PRIu64 ",\"unknown\":%" PRIu64 "},\"campaign\":",
               inc->outcomes[0], inc->outcomes[1], inc->outcomes[2], inc->outcomes[3]);
    jstr(b, row->campaign);
    vg_bputc(b, '}');
    return VG_OK;
}

static void json_report(struct report *r, struct vg_buf *b, const struct vg_store_summary *info)
{
    const struct vg_report_options *o = r->opt;
    unsigned top = o->top ? o->top : 10;
    vg_bprintf(b, "{\"vigil\":{\"version\":\"%s\",\"report_schema\":\"1\"},\"store\":{\"path\":",
               vg_version());
    jstr(b, o->db_path);
    vg_bprintf(b, ",\"runs\":%" PRIu64 ",\"files\":%" PRIu64 "},\"filters\":{", info->runs,
               info->files);
    const char *names[] = {"since", "until", "site", "class", "country", "source"};
    const char *vals[] = {o->since, o->until, o->site, o->class_name, o->country, o->source};
    int first = 1;
    for (int i = 0; i < 6; i++) {
        if (!vals[i])
            continue;
        vg_bprintf(b, "%s\"%s\":", first ? "" : ",", names[i]);
        jstr(b, vals[i]);
        first = 0;
    }
    vg_bputs(b, "},\"provenance\":{\"geo\":");
    jstr(b, info->geo);
    vg_bputs(b, ",\"asn\":");
    jstr(b, info->asn);
    vg_bputs(b, ",\"labels\":");
    jstr(b, r->labels ? vg_labels_source(r->labels) : info->labels);
    vg_bputs(b, ",\"rules_sha256\":");
    jstr(b, info->rules);
    vg_bputs(b, ",\"behaviour_config\":");
    jstr(b, info->behave);
    vg_bputs(b, "},\"caveat\":");
    jstr(b, caveat());
    vg_bputs(b, ",\"units\":{\"attack_request\":\"one logged request flagged by a detector\","
                "\"incident\":\"a run of attack requests from one source against one site with "
                "no gap longer than the incident gap\",\"source\":\"one client address\","
                "\"campaign\":\"incidents linked by shared traits\"},\"total\":");
    json_group(r, b, &r->total, top);
    vg_bputs(b, ",\"months\":[");
    for (size_t i = 0; i < r->n_groups; i++) {
        if (i)
            vg_bputc(b, ',');
        json_group(r, b, r->groups[i], top);
    }
    vg_bputs(b, "],\"incidents\":[");
    struct incident_list_ctx ix = {b, 0};
    if (r->st == VG_OK)
        r->st = vg_store_iter_incidents(r->store, &r->filter, incident_list, &ix);
    vg_bputs(b, "],\"campaigns\":[");
    struct campaign_ctx cx = {r, b, true, 0, "", ""};
    if (r->st == VG_OK)
        r->st = vg_store_iter_campaigns(r->store, json_campaign, &cx);
    vg_bputs(b, "]}\n");
}

/* ---- entry --------------------------------------------------------------------------------- */

vg_status vg_report(const struct vg_report_options *opt, FILE *out, struct vg_error *err)
{
    static const struct vg_report_options defaults = VG_REPORT_OPTIONS_INIT;
    if (!opt)
        opt = &defaults;
    if (!opt->db_path)
        return vg_error_set(err, VG_E_INVAL, "--db", 0, "no store given");
    struct report r;
    memset(&r, 0, sizeof r);
    r.opt = opt;
    r.total.month = INT32_MIN;
    char cc[3];
    vg_status st = make_filter(opt, &r.filter, cc, err);
    if (st != VG_OK)
        return st;
    struct stat sb;
    if (stat(opt->db_path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return vg_error_set(err, VG_E_STORE, opt->db_path, 0,
                            "%s: no store there (run vigil scan --db %s first)", opt->db_path,
                            opt->db_path);
    if (opt->labels_path) {
        st = vg_labels_load(opt->labels_path, &r.labels, err);
        if (st != VG_OK)
            return st;
    }
    st = vg_store_open(opt->db_path, &r.store, err);
    if (st != VG_OK) {
        vg_labels_free(r.labels);
        return st;
    }
    struct vg_store_summary info;
    st = vg_store_summary_info(r.store, &info);
    if (st == VG_OK)
        st = vg_store_iter_months(r.store, &r.filter, on_month, &r);
    if (st == VG_OK)
        st = vg_store_iter_events(r.store, &r.filter, on_event, &r);
    if (st == VG_OK)
        st = vg_store_iter_incidents(r.store, &r.filter, on_incident, &r);
    struct vg_buf b;
    vg_buf_init(&b, 0);
    if (st == VG_OK) {
        if (r.n_groups > 1)
            qsort(r.groups, r.n_groups, sizeof *r.groups, group_cmp);
        r.st = VG_OK;
        if (opt->json)
            json_report(&r, &b, &info);
        else
            text_report(&r, &b, &info);
        st = r.st != VG_OK ? r.st : b.err;
    }
    if (st == VG_E_STORE || st == VG_E_NOMEM) {
        if (!err || !err->message[0])
            vg_error_set(err, st, opt->db_path, 0, "%s: %s", opt->db_path,
                         st == VG_E_STORE ? vg_store_errmsg(r.store) : vg_strerror(st));
    }
    if (st == VG_OK && b.n && fwrite(b.p, 1, b.n, out) != b.n)
        st = vg_error_set(err, VG_E_IO, NULL, 0, "cannot write the report");
    vg_buf_fini(&b);
    for (size_t i = 0; i < r.n_groups; i++) {
        group_fini(r.groups[i]);
        vg_free(r.groups[i]);
    }
    vg_free(r.groups);
    group_fini(&r.total);
    table_fini(&r.months);
    vg_free(r.members);
    vg_labels_free(r.labels);
    vg_store_close(r.store);
    return st;
}
