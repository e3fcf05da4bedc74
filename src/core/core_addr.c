/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core_addr.c: client addresses as 16 bytes (IPv4 mapped into IPv6), parsed from log text without
 * the resolver (inet_pton accepts only NUL-terminated strings, so we copy into a bounded stack
 * buffer first).
 */
#include <arpa/inet.h>

#include "core/core.h"

bool vg_addr_parse(const uint8_t *s, size_t n, struct vg_addr *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (memchr(tmp, 0, n))
        return false;
    if (memchr(tmp, ':', n)) {
        return inet_pton(AF_INET6, tmp, out->b) == 1;
    }
    uint8_t v4[4];
    if (inet_pton(AF_INET, tmp, v4) != 1)
        return false;
    vg_addr_from_v4(v4, out);
    return true;
}

void vg_addr_from_v4(const uint8_t v4[4], struct vg_addr *out)
{
    memset(out->b, 0, 10);
    out->b[10] = 0xff;
    out->b[11] = 0xff;
    memcpy(out->b + 12, v4, 4);
}

bool vg_addr_is_v4(const struct vg_addr *a)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a->b, prefix, 12) == 0;
}

size_t vg_addr_format(const struct vg_addr *a, char *out)
{
    if (vg_addr_is_v4(a)) {
        if (!inet_ntop(AF_INET, a->b + 12, out, 46))
            out[0] = 0;
    } else if (!inet_ntop(AF_INET6, a->b, out, 46)) {
        out[0] = 0;
    }
    return strlen(out);
}
