/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attrib_net.c: address prefixes: parsing "addr/len", membership, and the /24 or /48 roll-up
 * that reports group sources by.
 *
 * Every address is the 16-byte form of core.h (IPv4 mapped into ::ffff:0:0/96), so an IPv4
 * prefix /n is the 16-byte prefix /(96 + n) and one code path serves both families.
 */
#include <stdio.h>

#include "attrib/attrib.h"

bool vg_addr_in_prefix(const struct vg_addr *a, const struct vg_addr *net, unsigned prefix_len)
{
    if (prefix_len > 128)
        return false;
    unsigned full = prefix_len / 8, rest = prefix_len % 8;
    if (memcmp(a->b, net->b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->b[full] & mask) == (net->b[full] & mask);
}

/* Clears every bit of a after the first prefix_len. */
static void prefix_mask(struct vg_addr *a, unsigned prefix_len)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned lo = i * 8;
        if (prefix_len >= lo + 8)
            continue;
        if (prefix_len <= lo)
            a->b[i] = 0;
        else
            a->b[i] &= (uint8_t)(0xff << (8 - (prefix_len - lo)));
    }
}

bool vg_prefix_parse(const uint8_t *s, size_t n, struct vg_addr *net, unsigned *prefix_len)
{
    const uint8_t *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    if (!vg_addr_parse(s, alen, net))
        return false;
    bool v4 = vg_addr_is_v4(net) && !memchr(s, ':', alen);
    unsigned max = v4 ? 32 : 128, len = max;
    if (slash) {
        const uint8_t *p = slash + 1, *e = s + n;
        if (p == e || e - p > 3)
            return false;
        len = 0;
        for (; p < e; p++) {
            if (*p < '0' || *p > '9')
                return false;
            len = len * 10 + (unsigned)(*p - '0');
        }
        if (len > max)
            return false;
    }
    unsigned full = v4 ? 96 + len : len;
    struct vg_addr masked = *net;
    prefix_mask(&masked, full);
    if (memcmp(masked.b, net->b, 16) != 0)
        return false; /* host bits set: "10.0.0.1/8" is a typo, not a network */
    *prefix_len = full;
    return true;
}

size_t vg_addr_network(const struct vg_addr *a, char *out)
{
    struct vg_addr net = *a;
    bool v4 = vg_addr_is_v4(a);
    prefix_mask(&net, v4 ? 96 + 24 : 48);
    char text[46];
    vg_addr_format(&net, text);
    int n = snprintf(out, VG_NET_TEXT_MAX, "%s/%d", text, v4 ? 24 : 48);
    return n > 0 ? (size_t)n : 0;
}
