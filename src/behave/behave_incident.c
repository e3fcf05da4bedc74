/* SPDX-License-Identifier: Apache-2.0 */
/*
 * behave_incident.c: incidents (DESIGN.md section 1): a run of attack requests from one source
 * against one site with no gap longer than --incident-gap. Built by the consumer as attack
 * requests are emitted; the incidents changed since the last checkpoint are handed to the store
 * (upserts), and an incident that can no longer grow (its last request is more than a gap
 * before the latest log time) is forgotten, so memory follows the active attackers only.
 *
 * Ids are derived from (address, site, first time): the same input gives the same ids. After
 * a restart the lookup callback finds the stored incident a new request may continue.
 */
#include <stdio.h>

#include "behave/behave.h"

struct inc_entry {
    struct vg_incident inc;
    uint64_t key;
    uint32_t lru_prev, lru_next; /* by last update, oldest first */
    uint32_t dirty_next;         /* dirty list (index + 1) */
    bool dirty, used, retired;
};

struct vg_incidents {
    int64_t gap;
    vg_incident_lookup_fn lookup;
    void *user;
    struct inc_entry *e; /* index + 1 used as id */
    size_t n, cap;
    uint32_t free_head;  /* via lru_next */
    uint32_t *slots;
    size_t cap_slots;
    size_t live;         /* in the hash table */
    uint32_t lru_head, lru_tail;
    uint32_t dirty_head;
    uint64_t opened;     /* incidents started by this tracker */
};

vg_status vg_incidents_new(int64_t gap, vg_incident_lookup_fn lookup, void *user,
                           struct vg_incidents **out)
{
    *out = NULL;
    struct vg_incidents *t = vg_calloc(1, sizeof *t);
    if (!t)
        return VG_E_NOMEM;
    t->gap = gap > 0 ? gap : 1800;
    t->lookup = lookup;
    t->user = user;
    t->cap_slots = 256;
    t->slots = vg_calloc(t->cap_slots, sizeof *t->slots);
    if (!t->slots) {
        vg_free(t);
        return VG_E_NOMEM;
    }
    *out = t;
    return VG_OK;
}

void vg_incidents_free(struct vg_incidents *t)
{
    if (!t)
        return;
    vg_free(t->e);
    vg_free(t->slots);
    vg_free(t);
}

size_t vg_incidents_live(const struct vg_incidents *t)
{
    return t->live;
}

uint64_t vg_incidents_opened(const struct vg_incidents *t)
{
    return t ? t->opened : 0;
}

static struct inc_entry *ent(struct vg_incidents *t, uint32_t id)
{
    return &t->e[id - 1];
}

static uint64_t key_of(const struct vg_addr *a, struct vg_str site)
{
    uint64_t h = vg_hash64(a->b, 16, 0x696e63);
    return vg_hash64(site.p ? (const void *)site.p : "", site.n, h);
}

static uint32_t entry_new(struct vg_incidents *t)
{
    if (t->free_head) {
        uint32_t id = t->free_head;
        t->free_head = ent(t, id)->lru_next;
        memset(ent(t, id), 0, sizeof(struct inc_entry));
        return id;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct inc_entry *e = vg_realloc(t->e, cap * sizeof *e);
        if (!e)
            return 0;
        t->e = e;
        t->cap = cap;
    }
    memset(&t->e[t->n], 0, sizeof t->e[0]);
    return (uint32_t)++t->n;
}

static void entry_free(struct vg_incidents *t, uint32_t id)
{
    struct inc_entry *x = ent(t, id);
    x->used = false;
    x->lru_next = t->free_head;
    t->free_head = id;
}

static vg_status slots_grow(struct vg_incidents *t)
{
    size_t cap = t->cap_slots * 2;
    uint32_t *s = vg_calloc(cap, sizeof *s);
    if (!s)
        return VG_E_NOMEM;
    for (size_t i = 0; i < t->cap_slots; i++) {
        uint32_t id = t->slots[i];
        if (!id)
            continue;
        size_t h = (size_t)ent(t, id)->key & (cap - 1);
        while (s[h])
            h = (h + 1) & (cap - 1);
        s[h] = id;
    }
    vg_free(t->slots);
    t->slots = s;
    t->cap_slots = cap;
    return VG_OK;
}

static uint32_t find(struct vg_incidents *t, uint64_t key, const struct vg_addr *a,
                     struct vg_str site)
{
    size_t h = (size_t)key & (t->cap_slots - 1);
    while (t->slots[h]) {
        struct inc_entry *x = ent(t, t->slots[h]);
        if (x->key == key && memcmp(x->inc.addr.b, a->b, 16) == 0 &&
            strlen(x->inc.site) == site.n && (site.n == 0 || memcmp(x->inc.site, site.p, site.n) == 0))
            return t->slots[h];
        h = (h + 1) & (t->cap_slots - 1);
    }
    return 0;
}

static void slots_remove(struct vg_incidents *t, uint32_t id)
{
    size_t mask = t->cap_slots - 1;
    size_t i = (size_t)ent(t, id)->key & mask;
    while (t->slots[i] != id) {
        if (!t->slots[i])
            return;
        i = (i + 1) & mask;
    }
    size_t j = i;
    for (;;) {
        t->slots[i] = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (!t->slots[j])
                return;
            size_t k = (size_t)ent(t, t->slots[j])->key & mask;
            bool stay = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
            if (!stay)
                break;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
}

static void lru_unlink(struct vg_incidents *t, uint32_t id)
{
    struct inc_entry *x = ent(t, id);
    if (x->lru_prev)
        ent(t, x->lru_prev)->lru_next = x->lru_next;
    else
        t->lru_head = x->lru_next;
    if (x->lru_next)
        ent(t, x->lru_next)->lru_prev = x->lru_prev;
    else
        t->lru_tail = x->lru_prev;
    x->lru_prev = x->lru_next = 0;
}

static void lru_append(struct vg_incidents *t, uint32_t id)
{
    struct inc_entry *x = ent(t, id);
    x->lru_prev = t->lru_tail;
    x->lru_next = 0;
    if (t->lru_tail)
        ent(t, t->lru_tail)->lru_next = id;
    else
        t->lru_head = id;
    t->lru_tail = id;
}

static void mark_dirty(struct vg_incidents *t, uint32_t id)
{
    struct inc_entry *x = ent(t, id);
    if (x->dirty)
        return;
    x->dirty = true;
    x->dirty_next = t->dirty_head;
    t->dirty_head = id;
}

/* Takes an entry out of the table; kept (retired) until flushed when it has unsaved changes. */
static void retire(struct vg_incidents *t, uint32_t id)
{
    slots_remove(t, id);
    lru_unlink(t, id);
    t->live--;
    struct inc_entry *x = ent(t, id);
    if (x->dirty)
        x->retired = true;
    else
        entry_free(t, id);
}

static void make_id(const struct vg_addr *a, struct vg_str site, int64_t first,
                    char id[VG_INCIDENT_ID_LEN + 1])
{
    uint64_t h = vg_hash64(a->b, 16, 0x1d);
    h = vg_hash64(site.p ? (const void *)site.p : "", site.n, h);
    h = vg_hash64(&first, sizeof first, h);
    snprintf(id, VG_INCIDENT_ID_LEN + 1, "%016llx", (unsigned long long)h);
}

static void merge_rules(struct vg_incident *inc, const uint32_t *rules, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t r = rules[i];
        unsigned j = 0;
        while (j < inc->n_rules && inc->rules[j] < r)
            j++;
        if (j < inc->n_rules && inc->rules[j] == r)
            continue;
        if (inc->n_rules == VG_INCIDENT_RULES)
            continue; /* the first 16 distinct rules characterize the payload family */
        memmove(&inc->rules[j + 1], &inc->rules[j], (inc->n_rules - j) * sizeof inc->rules[0]);
        inc->rules[j] = r;
        inc->n_rules++;
    }
}

vg_status vg_incidents_add(struct vg_incidents *t, const struct vg_incident_add *a,
                           char id[VG_INCIDENT_ID_LEN + 1])
{
    struct vg_str site = a->site;
    if (site.n >= sizeof(((struct vg_incident *)0)->site))
        site.n = sizeof(((struct vg_incident *)0)->site) - 1;
    uint64_t key = key_of(a->addr, site);
    uint32_t xid = find(t, key, a->addr, site);
    if (xid) {
        struct inc_entry *x = ent(t, xid);
        if (a->time > x->inc.last + t->gap || a->time < x->inc.first - t->gap) {
            retire(t, xid);
            xid = 0;
        }
    }
    if (!xid) {
        if ((t->live + 1) * 2 > t->cap_slots && slots_grow(t) != VG_OK)
            return VG_E_NOMEM;
        xid = entry_new(t);
        if (!xid)
            return VG_E_NOMEM;
        struct inc_entry *x = ent(t, xid);
        x->used = true;
        x->key = key;
        bool found = false;
        if (t->lookup) {
            struct vg_incident prev;
            memset(&prev, 0, sizeof prev);
            vg_status st = t->lookup(t->user, a, &prev, &found);
            if (st != VG_OK) {
                entry_free(t, xid);
                return st;
            }
            if (found && (a->time > prev.last + t->gap || a->time < prev.first - t->gap))
                found = false;
            if (found)
                x->inc = prev;
        }
        x = ent(t, xid);
        if (!found) {
            struct vg_incident *inc = &x->inc;
            inc->addr = *a->addr;
            snprintf(inc->ip, sizeof inc->ip, "%s", a->ip ? a->ip : "");
            memcpy(inc->site, site.p ? (const void *)site.p : "", site.n);
            inc->site[site.n] = 0;
            inc->first = inc->last = a->time;
            make_id(a->addr, site, a->time, inc->id);
            t->opened++;
            vg_addr_network(a->addr, inc->net);
        }
        size_t h = (size_t)key & (t->cap_slots - 1);
        while (t->slots[h])
            h = (h + 1) & (t->cap_slots - 1);
        t->slots[h] = xid;
        t->live++;
        lru_append(t, xid);
    } else {
        lru_unlink(t, xid);
        lru_append(t, xid);
    }
    struct vg_incident *inc = &ent(t, xid)->inc;
    if (a->time < inc->first)
        inc->first = a->time;
    if (a->time > inc->last)
        inc->last = a->time;
    inc->attacks++;
    inc->classes |= a->classes;
    inc->detectors |= a->detectors;
    if (a->outcome >= 0 && a->outcome < VG_OUT_COUNT)
        inc->outcomes[a->outcome]++;
    if (!inc->tool[0] && a->tool && *a->tool)
        snprintf(inc->tool, sizeof inc->tool, "%s", a->tool);
    if (!inc->ua_hash)
        inc->ua_hash = a->ua_hash;
    merge_rules(inc, a->rules, a->n_rules);
    if (!inc->asn)
        inc->asn = a->asn;
    if (!inc->country[0] && a->country && a->country[0])
        snprintf(inc->country, sizeof inc->country, "%s", a->country);
    mark_dirty(t, xid);
    memcpy(id, inc->id, VG_INCIDENT_ID_LEN + 1);
    return VG_OK;
}

vg_status vg_incidents_flush(struct vg_incidents *t, int64_t clock,
                             vg_status (*cb)(void *user, const struct vg_incident *inc),
                             void *user)
{
    /* Oldest first: a retired incident and its successor are then written in time order. */
    uint32_t ids[64], id = t->dirty_head;
    while (id) {
        size_t k = 0;
        while (id && k < VG_ARRAY_LEN(ids)) {
            ids[k++] = id;
            id = ent(t, id)->dirty_next;
        }
        for (size_t i = 0; i < k; i++) {
            struct inc_entry *x = ent(t, ids[i]);
            vg_status st = cb ? cb(user, &x->inc) : VG_OK;
            if (st != VG_OK)
                return st;
            x->dirty = false;
            x->dirty_next = 0;
            if (x->retired) {
                x->retired = false;
                entry_free(t, ids[i]);
            }
        }
        t->dirty_head = id;
    }
    t->dirty_head = 0;
    while (t->lru_head) {
        struct inc_entry *x = ent(t, t->lru_head);
        if (x->inc.last + t->gap >= clock)
            break;
        retire(t, t->lru_head);
    }
    return VG_OK;
}
