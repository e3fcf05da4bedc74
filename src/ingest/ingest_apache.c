/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_apache.c: Apache httpd LogFormat strings (mod_log_config) translated into the format
 * builder's tokens, so that an Apache log is read by the same interpreter as an nginx one.
 *
 * Pipeline position: compile time only (vg_format_compile_opts with "apache:<LogFormat>").
 *
 * What each directive feeds (others are parsed as fields and dropped): %h %a client, %{c}a the
 * connection's peer, %u user, %t time ("[" time_local "]"), %{fmt}t strftime / sec / msec /
 * usec, %r request line, %m %U %q %H method, path, query, protocol (%U%q is one target), %s %>s
 * status, %b %B %O bytes, %v %V host, %p port, %{Name}i request headers (Referer, User-Agent,
 * Cookie, Host, Content-Type have fields; any other is a header). Condition modifiers
 * (%400,501{User-agent}i, %!200{Referer}i) and < > are accepted and ignored: Apache writes "-"
 * when the condition does not hold, which reads as "not given".
 *
 * Invariants: the string is data; every fault is reported with its 1-based position.
 */
#include <stdio.h>

#include "ingest/ingest_int.h"

static vg_status lit(struct vg_fmt_builder *b, const char *p, size_t n, size_t pos,
                     struct vg_error *err)
{
    return vg_fb_lit(b, p, n, pos, err);
}

/* One %-directive: `c` with an optional {arg}. */
static vg_status directive(struct vg_fmt_builder *b, char c, const char *arg, size_t arg_n,
                           bool has_arg, size_t pos, struct vg_error *err)
{
    uint8_t f = VG_FF_IGNORE;
    switch (c) {
    case 'h':
        f = VG_FF_CLIENT;
        break;
    case 'a':
        f = has_arg && arg_n == 1 && arg[0] == 'c' ? VG_FF_PEER : VG_FF_CLIENT;
        break;
    case 'u':
        f = VG_FF_USER;
        break;
    case 'r':
        f = VG_FF_REQUEST;
        break;
    case 'm':
        f = VG_FF_METHOD;
        break;
    case 'U':
        f = VG_FF_PATH;
        break;
    case 'q':
        f = VG_FF_QUERY_Q;
        break;
    case 'H':
        f = VG_FF_PROTOCOL;
        break;
    case 's':
        f = VG_FF_STATUS;
        break;
    case 'b':
    case 'B':
    case 'O':
        f = VG_FF_BYTES;
        break;
    case 'v':
    case 'V':
        f = VG_FF_HOST;
        break;
    case 'p':
        f = VG_FF_PORT;
        break;
    case 'i':
        if (!has_arg || arg_n == 0)
            return vg_fmt_error(err, b->what, b->src, pos, "%i needs a header name: %{Name}i");
        f = vg_header_field(arg, arg_n);
        return vg_fb_var(b, f, arg, f == VG_FF_HEADER ? arg_n : 0, pos, err);
    case 't':
        if (!has_arg) {
            /* %t is "[10/Oct/2000:13:55:36 -0700]", brackets included. */
            vg_status st = vg_fb_lit(b, "[", 1, pos, err);
            if (st == VG_OK)
                st = vg_fb_var(b, VG_FF_TIME_LOCAL, NULL, 0, pos, err);
            if (st == VG_OK)
                st = vg_fb_lit(b, "]", 1, pos, err);
            return st;
        }
        if (arg_n >= 6 && memcmp(arg, "begin:", 6) == 0) {
            arg += 6;
            arg_n -= 6;
        } else if (arg_n >= 4 && memcmp(arg, "end:", 4) == 0) {
            arg += 4;
            arg_n -= 4;
        }
        if ((arg_n == 3 && memcmp(arg, "sec", 3) == 0) ||
            (arg_n == 4 && memcmp(arg, "msec", 4) == 0) ||
            (arg_n == 4 && memcmp(arg, "usec", 4) == 0))
            return vg_fb_var(b, VG_FF_EPOCH, NULL, 0, pos, err);
        if ((arg_n == 9 && memcmp(arg, "msec_frac", 9) == 0) ||
            (arg_n == 9 && memcmp(arg, "usec_frac", 9) == 0))
            return vg_fb_var(b, VG_FF_IGNORE, NULL, 0, pos, err);
        if (arg_n == 0)
            return vg_fmt_error(err, b->what, b->src, pos, "empty time format in %{}t");
        {
            char bad = 0;
            if (!vg_time_strf_valid(arg, arg_n, &bad)) {
                char msg[96];
                snprintf(msg, sizeof msg, "strftime conversion '%%%c' in %%{...}t is not supported",
                         bad);
                return vg_fmt_error(err, b->what, b->src, pos, msg);
            }
        }
        return vg_fb_var(b, VG_FF_TIME_STRF, arg, arg_n, pos, err);
    case 'A': case 'C': case 'D': case 'e': case 'f': case 'I': case 'k': case 'l': case 'L':
    case 'n': case 'o': case 'P': case 'R': case 'S': case 'T': case 'X': case '^':
        f = VG_FF_IGNORE;
        break;
    default: {
        char msg[64];
        snprintf(msg, sizeof msg, "unknown directive '%%%c'", c >= 0x20 && c < 0x7f ? c : '?');
        return vg_fmt_error(err, b->what, b->src, pos, msg);
    }
    }
    return vg_fb_var(b, f, NULL, 0, pos, err);
}

/*
 * Compiles an Apache LogFormat string (the text between the quotes of a LogFormat or CustomLog
 * line: \" is a quote, \\ a backslash, \t a tab). OUT: *out owns the format.
 */
vg_status vg_apache_compile(const char *name, const char *src, const char *real_ip,
                            struct vg_format **out, struct vg_error *err)
{
    *out = NULL;
    size_t n = strlen(src);
    if (n > VG_FMT_MAX_SPEC)
        return vg_error_set(err, VG_E_FORMAT, "Apache LogFormat", 0,
                            "invalid Apache LogFormat: longer than %d bytes", VG_FMT_MAX_SPEC);
    struct vg_fmt_builder *b = vg_malloc(sizeof *b);
    if (!b)
        return vg_error_set(err, VG_E_NOMEM, "Apache LogFormat", 0, "out of memory");
    vg_fb_init(b, src, "Apache LogFormat", real_ip);
    vg_status st = VG_OK;
    size_t i = 0;
    while (st == VG_OK && i < n) {
        char c = src[i];
        if (c == '\\') {
            if (i + 1 == n) {
                st = vg_fmt_error(err, b->what, src, i, "a lone backslash at the end");
                break;
            }
            char e = src[i + 1];
            if (e == 'n' || e == 'r') {
                st = vg_fmt_error(err, b->what, src, i,
                                  "a line break inside the format (vigil reads one line per "
                                  "request)");
                break;
            }
            char v = e == 't' ? '\t' : e;
            st = lit(b, &v, 1, i, err);
            i += 2;
            continue;
        }
        if (c != '%') {
            size_t j = i;
            while (j < n && src[j] != '%' && src[j] != '\\')
                j++;
            st = lit(b, src + i, j - i, i, err);
            i = j;
            continue;
        }
        size_t start = i++;
        if (i < n && src[i] == '%') {
            st = lit(b, "%", 1, start, err);
            i++;
            continue;
        }
        /* modifiers: [!]status,status... and < > */
        if (i < n && src[i] == '!')
            i++;
        while (i < n && ((src[i] >= '0' && src[i] <= '9') || src[i] == ','))
            i++;
        while (i < n && (src[i] == '<' || src[i] == '>'))
            i++;
        const char *arg = NULL;
        size_t arg_n = 0;
        bool has_arg = false;
        if (i < n && src[i] == '{') {
            const char *close = memchr(src + i + 1, '}', n - i - 1);
            if (!close) {
                st = vg_fmt_error(err, b->what, src, start, "unterminated '%{'");
                break;
            }
            arg = src + i + 1;
            arg_n = (size_t)(close - arg);
            has_arg = true;
            i = (size_t)(close - src) + 1;
        }
        if (i < n && src[i] == '^' && i + 2 < n) {
            /* %{Name}^ti / %{Name}^to: trailers */
            i += 3;
            st = vg_fb_var(b, VG_FF_IGNORE, NULL, 0, start, err);
            continue;
        }
        if (i >= n) {
            st = vg_fmt_error(err, b->what, src, start, "'%' at the end, with no directive");
            break;
        }
        st = directive(b, src[i], arg, arg_n, has_arg, start, err);
        i++;
    }
    if (st == VG_OK)
        st = vg_fb_build(b, name, VG_FK_LINE, VG_ESC_DEFAULT, out, err);
    vg_free(b);
    return st;
}
