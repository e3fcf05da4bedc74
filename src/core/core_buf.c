/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core_buf.c: bounded growable buffers and the escapers every writer uses (JSON, terminal).
 *
 * Security note: everything an attacker can put in a log line passes through these escapers
 * before it reaches a terminal or a JSON consumer.
 */
#include <stdio.h>

#include "core/core.h"

void vg_buf_init(struct vg_buf *b, size_t max)
{
    b->p = NULL;
    b->n = 0;
    b->cap = 0;
    b->max = max ? max : VG_BUF_MAX_DEFAULT;
    b->err = VG_OK;
}

void vg_buf_fini(struct vg_buf *b)
{
    vg_free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

vg_status vg_buf_reserve(struct vg_buf *b, size_t extra)
{
    if (extra > b->max || b->n > b->max - extra)
        return VG_E_LIMIT;
    size_t need = b->n + extra + 1; /* room for the terminating NUL */
    if (need <= b->cap)
        return VG_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return VG_E_LIMIT;
        cap *= 2;
    }
    if (cap > b->max + 1)
        cap = b->max + 1;
    uint8_t *p = vg_realloc(b->p, cap);
    if (!p)
        return VG_E_NOMEM;
    b->p = p;
    b->cap = cap;
    return VG_OK;
}

vg_status vg_buf_add(struct vg_buf *b, const void *p, size_t n)
{
    vg_status st = vg_buf_reserve(b, n);
    if (st != VG_OK)
        return st;
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
    return VG_OK;
}

vg_status vg_buf_addc(struct vg_buf *b, char c)
{
    return vg_buf_add(b, &c, 1);
}

vg_status vg_buf_adds(struct vg_buf *b, const char *s)
{
    return vg_buf_add(b, s, strlen(s));
}

vg_status vg_buf_printf(struct vg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int len = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (len < 0)
        return VG_E_INVAL;
    if ((size_t)len < sizeof small)
        return vg_buf_add(b, small, (size_t)len);
    vg_status st = vg_buf_reserve(b, (size_t)len);
    if (st != VG_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
    return VG_OK;
}

/*
 * Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF are invalid).
 */
size_t vg_utf8_seq_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0;
        if (c == 0xF4 && s[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

vg_status vg_buf_add_json_str(struct vg_buf *b, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case: every byte becomes \ufffd (6 bytes). */
    if (n > (SIZE_MAX - 1) / 6)
        return VG_E_LIMIT;
    vg_status st = vg_buf_reserve(b, n * 6);
    if (st != VG_OK)
        return st;
    uint8_t *o = b->p + b->n;
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = c;
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = vg_utf8_seq_len(s + i, n - i);
            if (l) {
                /* U+2028/2029 are valid JSON but break JavaScript consumers: escape them. */
                if (l == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] & 0xFE) == 0xA8) {
                    memcpy(o, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                    o += 6;
                } else {
                    memcpy(o, s + i, l);
                    o += l;
                }
                i += l;
            } else {
                memcpy(o, "\\ufffd", 6);
                o += 6;
                i++;
            }
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = (uint8_t)hex[c >> 4];
            *o++ = (uint8_t)hex[c & 15];
            break;
        }
        i++;
    }
    b->n = (size_t)(o - b->p);
    b->p[b->n] = 0;
    return VG_OK;
}

vg_status vg_buf_add_term_safe(struct vg_buf *b, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (n > (SIZE_MAX - 1) / 4)
        return VG_E_LIMIT;
    vg_status st = vg_buf_reserve(b, n * 4);
    if (st != VG_OK)
        return st;
    uint8_t *o = b->p + b->n;
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            *o++ = c;
            i++;
            continue;
        }
        if (c == '\\') {
            *o++ = '\\';
            *o++ = '\\';
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = vg_utf8_seq_len(s + i, n - i);
            /* C1 controls (U+0080..U+009F, encoded C2 80..C2 9F) can drive terminals too. */
            bool c1 = l == 2 && c == 0xC2 && s[i + 1] < 0xA0;
            if (l && !c1) {
                memcpy(o, s + i, l);
                o += l;
                i += l;
                continue;
            }
        }
        *o++ = '\\';
        *o++ = 'x';
        *o++ = (uint8_t)hex[c >> 4];
        *o++ = (uint8_t)hex[c & 15];
        i++;
    }
    b->n = (size_t)(o - b->p);
    b->p[b->n] = 0;
    return VG_OK;
}

/* ---- sticky variants ----------------------------------------------------------------------- */

static void latch(struct vg_buf *b, vg_status st)
{
    if (st != VG_OK && b->err == VG_OK)
        b->err = st;
}

void vg_bput(struct vg_buf *b, const void *p, size_t n)
{
    latch(b, vg_buf_add(b, p, n));
}

void vg_bputs(struct vg_buf *b, const char *s)
{
    latch(b, vg_buf_add(b, s, strlen(s)));
}

void vg_bputc(struct vg_buf *b, char c)
{
    latch(b, vg_buf_add(b, &c, 1));
}

void vg_bprintf(struct vg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[512];
    int len = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (len < 0) {
        latch(b, VG_E_INVAL);
        return;
    }
    if ((size_t)len < sizeof small) {
        latch(b, vg_buf_add(b, small, (size_t)len));
        return;
    }
    vg_status st = vg_buf_reserve(b, (size_t)len);
    if (st != VG_OK) {
        latch(b, st);
        return;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
}

void vg_bput_json(struct vg_buf *b, const uint8_t *s, size_t n)
{
    latch(b, vg_buf_add_json_str(b, s, n));
}

void vg_bput_term(struct vg_buf *b, const uint8_t *s, size_t n)
{
    latch(b, vg_buf_add_term_safe(b, s, n));
}
