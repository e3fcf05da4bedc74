/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core_arena.c: bump allocator for per-line and per-batch memory. Reset keeps one block so that a
 * worker reaches a steady state where processing a line allocates nothing from the system.
 */
#include "core/core.h"

struct vg_arena_block {
    struct vg_arena_block *next;
    size_t cap;
    size_t used;
    _Alignas(16) uint8_t data[];
};

void vg_arena_init(struct vg_arena *a, size_t block_size, size_t limit)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->limit = limit;
    a->used_total = 0;
}

void vg_arena_fini(struct vg_arena *a)
{
    struct vg_arena_block *b = a->head;
    while (b) {
        struct vg_arena_block *next = b->next;
        vg_free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

void vg_arena_reset(struct vg_arena *a)
{
    struct vg_arena_block *keep = NULL, *b = a->head;
    /* Keep the largest block: after a burst of big lines the arena stays big enough. */
    while (b) {
        struct vg_arena_block *next = b->next;
        if (!keep || b->cap > keep->cap) {
            if (keep)
                vg_free(keep);
            keep = b;
        } else {
            vg_free(b);
        }
        b = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
    a->used_total = 0;
}

void *vg_arena_alloc(struct vg_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return NULL; /* overflow */
    if (a->limit && (need > a->limit || a->used_total > a->limit - need))
        return NULL;
    struct vg_arena_block *b = a->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = a->block_size;
        if (cap < need)
            cap = need;
        if (cap > SIZE_MAX - sizeof(struct vg_arena_block))
            return NULL;
        struct vg_arena_block *nb = vg_malloc(sizeof(*nb) + cap);
        if (!nb)
            return NULL;
        nb->cap = cap;
        nb->used = 0;
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->used_total += need;
    return p;
}

struct vg_str vg_arena_dup(struct vg_arena *a, struct vg_str s)
{
    if (s.n == 0)
        return VG_STR_NULL;
    uint8_t *p = vg_arena_alloc(a, s.n);
    if (!p)
        return VG_STR_NULL;
    memcpy(p, s.p, s.n);
    return vg_str_make(p, s.n);
}

char *vg_arena_strdup(struct vg_arena *a, const char *s)
{
    size_t n = strlen(s);
    char *p = vg_arena_alloc(a, n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}
