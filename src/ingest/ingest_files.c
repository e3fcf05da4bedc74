/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_files.c: the order in which inputs are read. logrotate leaves a set such as
 * access.log, access.log.1, access.log.2.gz ... (or access.log-20260801.gz with dateext); the
 * lines of a set are in time order only when the set is read oldest first: highest number
 * first, then lower numbers, then the live file; dated files by date, before the live file.
 *
 * Pipeline position: before the scan (the CLI orders its arguments once globs are expanded).
 *
 * Invariants: a stable reordering inside each set; sets and unrelated files keep the relative
 * order in which they were given.
 */
#include <stdlib.h>

#include "ingest/ingest_int.h"

struct item {
    const char *path;
    size_t key_len;   /* the set's name: path without rotation and compression suffixes */
    int64_t order;    /* older first */
    size_t index;     /* position given */
    size_t group;     /* position of the set's first member */
};

static bool ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* Splits a path into its set name and its age order. */
static void classify(struct item *it)
{
    const char *s = it->path;
    size_t n = strlen(s);
    static const char *const comp[] = {".gz", ".zst", ".zstd", ".bz2", ".xz", ".z", ".Z"};
    for (size_t i = 0; i < VG_ARRAY_LEN(comp); i++)
        if (ends_with(s, n, comp[i])) {
            n -= strlen(comp[i]);
            break;
        }
    /* .N (rotation number) */
    size_t d = n;
    while (d > 0 && VG_DIG(s[d - 1]))
        d--;
    size_t digits = n - d;
    if (digits >= 1 && digits <= 4 && d > 1 && s[d - 1] == '.' && s[d - 2] != '/') {
        int64_t v = 0;
        for (size_t i = d; i < n; i++)
            v = v * 10 + (s[i] - '0');
        it->key_len = d - 1;
        it->order = -v; /* .3 before .2 before .1 */
        return;
    }
    /* -YYYYMMDD[HH] or .YYYYMMDD (logrotate dateext) */
    if ((digits == 8 || digits == 10) && d > 1 && (s[d - 1] == '-' || s[d - 1] == '.' ||
                                                   s[d - 1] == '_') &&
        s[d - 2] != '/') {
        int64_t v = 0;
        for (size_t i = d; i < n; i++)
            v = v * 10 + (s[i] - '0');
        if (digits == 8)
            v *= 100;
        it->key_len = d - 1;
        it->order = INT64_MIN / 2 + v; /* dated files before numbered ones and the live file */
        return;
    }
    it->key_len = n;
    it->order = INT64_MAX; /* the live file: newest */
}

static int by_key(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->path, y->path, n);
    if (c)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static int by_group(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* See vigil.h. */
vg_status vg_order_inputs(const char **paths, size_t n)
{
    if (n < 2)
        return VG_OK;
    struct item *it = vg_calloc(n, sizeof *it);
    if (!it)
        return VG_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        it[i].path = paths[i];
        it[i].index = i;
        classify(&it[i]);
    }
    /* A set's members have the same key: sort by key to give each the first member's index. */
    qsort(it, n, sizeof *it, by_key);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && it[j].key_len == it[i].key_len &&
               memcmp(it[j].path, it[i].path, it[i].key_len) == 0)
            j++;
        for (size_t k = i; k < j; k++)
            it[k].group = it[i].index; /* sorted by index within the key: the first member */
        i = j;
    }
    qsort(it, n, sizeof *it, by_group);
    for (size_t i = 0; i < n; i++)
        paths[i] = it[i].path;
    vg_free(it);
    return VG_OK;
}
