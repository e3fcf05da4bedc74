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

/* The high and low halves of the 128-bit product, folded. */
static inline uint64_t vg_fold_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t vg_rd64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint64_t vg_rd32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Performance note: 48 bytes per round in three lanes whose multiplies do not wait on each
   other; the tail is read as two overlapping words, so every length costs one or two more
   multiplies. The constants are odd 64-bit values with balanced bits (digits of pi). */
uint64_t vg_hash64_mem(const void *p, size_t n, uint64_t seed)
{
    static const uint64_t k0 = 0x243f6a8885a308d3ull, k1 = 0x13198a2e03707345ull,
                          k2 = 0xa4093822299f31d1ull, k3 = 0x082efa98ec4e6c89ull;
    const uint8_t *s = p;
    size_t len = n;
    uint64_t h0 = seed ^ k0, h1 = seed ^ k1, h2 = seed ^ k2;
    while (n >= 48) {
        h0 = vg_fold_mul(vg_rd64(s) ^ k1, vg_rd64(s + 8) ^ h0);
        h1 = vg_fold_mul(vg_rd64(s + 16) ^ k2, vg_rd64(s + 24) ^ h1);
        h2 = vg_fold_mul(vg_rd64(s + 32) ^ k3, vg_rd64(s + 40) ^ h2);
        s += 48;
        n -= 48;
    }
    h0 ^= h1 ^ h2;
    while (n > 16) {
        h0 = vg_fold_mul(vg_rd64(s) ^ k1, vg_rd64(s + 8) ^ h0);
        s += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = vg_rd64(s);
        b = vg_rd64(s + n - 8);
    } else if (n >= 4) {
        a = vg_rd32(s);
        b = vg_rd32(s + n - 4);
    } else if (n > 0) {
        a = (uint64_t)s[0] << 16 | (uint64_t)s[n >> 1] << 8 | s[n - 1];
    }
    return vg_fold_mul(k3 ^ len, vg_fold_mul(a ^ k1, b ^ h0 ^ k2));
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
