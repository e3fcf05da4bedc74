/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core_misc.c: status texts, error helper, string comparison, hashing and the library version.
 */
#include <stdio.h>

#include "core/core.h"

const char *vg_strerror(vg_status st)
{
    switch (st) {
    case VG_OK:
        return "success";
    case VG_E_NOMEM:
        return "out of memory";
    case VG_E_INVAL:
        return "invalid argument";
    case VG_E_IO:
        return "input/output error";
    case VG_E_FORMAT:
        return "invalid log format";
    case VG_E_RULES:
        return "invalid rule file";
    case VG_E_REGEX:
        return "rule pattern does not compile";
    case VG_E_GEO:
        return "geolocation database error";
    case VG_E_STORE:
        return "store error";
    case VG_E_CORRUPT:
        return "compressed input is truncated or corrupt";
    case VG_E_LIMIT:
        return "size limit exceeded";
    case VG_E_INTERNAL:
        return "internal error";
    }
    return "unknown status";
}

const char *vg_version(void)
{
    return VG_VERSION_STRING;
}

vg_status vg_error_set(struct vg_error *err, vg_status st, const char *where, size_t line,
                       const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    err->line = line;
    snprintf(err->where, sizeof err->where, "%s", where ? where : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return st;
}

bool vg_str_ieq(struct vg_str a, struct vg_str b)
{
    if (a.n != b.n)
        return false;
    for (size_t i = 0; i < a.n; i++) {
        uint8_t x = a.p[i], y = b.p[i];
        if (x >= 'A' && x <= 'Z')
            x = (uint8_t)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (uint8_t)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* 64-bit FNV-1a on 8-byte words with a final avalanche (splitmix64): fast and good enough for
   hash tables keyed by addresses and short strings. Not for anything adversarial beyond load:
   tables that take attacker-chosen keys seed it per run. */
uint64_t vg_hash64(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *s = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    while (n--) {
        h = (h ^ *s++) * 0x100000001b3ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}
