/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core_alloc.c: the library's allocation layer. Every allocation goes through here so that tests
 * can inject out-of-memory failures (vg_set_thread_allocator), as Hyperscan's hs_set_allocator
 * and SQLite's fault tests do.
 */
#include <stdlib.h>

#include "core/core.h"

static _Thread_local const struct vg_allocator *vg_thread_alloc;

void vg_set_thread_allocator(const struct vg_allocator *a)
{
    vg_thread_alloc = a;
}

void *vg_malloc(size_t n)
{
    if (vg_thread_alloc)
        return vg_thread_alloc->malloc_fn(n ? n : 1);
    return malloc(n ? n : 1);
}

void *vg_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    size_t n = count * size;
    if (!vg_thread_alloc)
        return calloc(n ? n : 1, 1); /* large blocks come zeroed from the kernel, untouched */
    void *p = vg_malloc(n);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

void *vg_realloc(void *p, size_t n)
{
    if (vg_thread_alloc)
        return vg_thread_alloc->realloc_fn(p, n ? n : 1);
    return realloc(p, n ? n : 1);
}

void vg_free(void *p)
{
    if (!p)
        return;
    if (vg_thread_alloc)
        vg_thread_alloc->free_fn(p);
    else
        free(p);
}

char *vg_strndup(const char *s, size_t n)
{
    char *d = vg_malloc(n + 1);
    if (!d)
        return NULL;
    if (n)
        memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *vg_strdup(const char *s)
{
    return s ? vg_strndup(s, strlen(s)) : NULL;
}
