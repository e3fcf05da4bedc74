/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_test_util.h: helpers shared by the cmocka tests of src/ingest/ (not part of the
 * library). Include after <cmocka.h>.
 *
 * Every line is copied into an exact-size heap buffer before parsing, so that AddressSanitizer
 * sees any read past its end, and parsing gets a vg_parse_buf of 4 * len + 64 bytes (the size
 * ingest.h promises is enough), also exact-size.
 */
#ifndef VG_INGEST_TEST_UTIL_H
#define VG_INGEST_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "ingest/ingest.h"

#define VG_TEST_UNUSED __attribute__((unused))

struct tparsed {
    uint8_t *buf;
    struct vg_parse_buf pb;
    struct vg_request req;
};

static VG_TEST_UNUSED enum vg_parse_result tparse_n(struct tparsed *ps, const struct vg_format *f,
                                                    const void *line, size_t n)
{
    free(ps->buf);
    free(ps->pb.p);
    ps->buf = malloc(n ? n : 1);
    assert_non_null(ps->buf);
    memcpy(ps->buf, line, n);
    ps->pb.cap = 4 * n + 64;
    ps->pb.p = malloc(ps->pb.cap);
    ps->pb.used = 0;
    assert_non_null(ps->pb.p);
    enum vg_parse_result r = vg_format_parse_ex(f, ps->buf, n, &ps->req, &ps->pb);
    assert_true(ps->pb.used <= ps->pb.cap);
    return r;
}

static VG_TEST_UNUSED enum vg_parse_result tparse(struct tparsed *ps, const struct vg_format *f,
                                                  const char *line)
{
    return tparse_n(ps, f, line, strlen(line));
}

static VG_TEST_UNUSED void tparsed_fini(struct tparsed *ps)
{
    free(ps->buf);
    free(ps->pb.p);
    ps->buf = NULL;
    ps->pb.p = NULL;
}

static VG_TEST_UNUSED struct vg_format *tcompile_opts(const char *spec,
                                                      const struct vg_format_options *o)
{
    struct vg_format *f = NULL;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st = vg_format_compile_opts(spec, o, &f, &err);
    if (st != VG_OK)
        print_error("compile '%s': %s\n", spec, err.message);
    assert_int_equal(st, VG_OK);
    assert_non_null(f);
    return f;
}

static VG_TEST_UNUSED struct vg_format *tcompile(const char *spec)
{
    return tcompile_opts(spec, NULL);
}

/* Compiling must fail with st and a message containing `want`. */
static VG_TEST_UNUSED void tcompile_fails(const char *spec, const struct vg_format_options *o,
                                          vg_status st, const char *want)
{
    struct vg_format *f = (struct vg_format *)1;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status got = vg_format_compile_opts(spec, o, &f, &err);
    if (got != st || !strstr(err.message, want))
        print_error("compile '%s': status %d (want %d), message \"%s\" (want \"%s\")\n", spec, got,
                    st, err.message, want);
    assert_int_equal(got, st);
    assert_null(f);
    assert_non_null(strstr(err.message, want));
}

/* Asserts that a view holds exactly the text `want` (NULL: the view is {NULL, 0}). */
#define tassert_view(view, want) tassert_view_impl((view), (want), #view, __FILE__, __LINE__)
static VG_TEST_UNUSED void tassert_view_impl(struct vg_str v, const char *want, const char *what,
                                             const char *file, int line)
{
    if (!want) {
        if (v.p != NULL || v.n != 0) {
            print_error("%s:%d: %s: expected {NULL,0}, got \"%.*s\"\n", file, line, what, (int)v.n,
                        v.p ? (const char *)v.p : "");
            fail();
        }
        return;
    }
    size_t n = strlen(want);
    if (v.n != n || (n && memcmp(v.p, want, n) != 0)) {
        print_error("%s:%d: %s: expected \"%s\", got \"%.*s\" (len %zu)\n", file, line, what, want,
                    (int)v.n, v.p ? (const char *)v.p : "(null)", v.n);
        fail();
    }
}

/* The address text of a parsed request. */
static VG_TEST_UNUSED void tassert_addr(const struct vg_request *r, const char *want)
{
    assert_true(r->flags & VG_REQ_HAS_ADDR);
    char got[64];
    vg_addr_format(&r->addr, got);
    if (strcmp(got, want) != 0)
        print_error("address: expected %s, got %s\n", want, got);
    assert_string_equal(got, want);
}

/* The value of a logged header, or NULL. */
static VG_TEST_UNUSED const struct vg_header *theader(const struct vg_request *r, const char *name)
{
    for (unsigned i = 0; i < r->n_headers; i++)
        if (r->headers[i].name.n == strlen(name) &&
            memcmp(r->headers[i].name.p, name, r->headers[i].name.n) == 0)
            return &r->headers[i];
    return NULL;
}

/* Every view of a request lies inside the line or inside the parse buffer. */
static VG_TEST_UNUSED void tassert_views_inside(const struct tparsed *ps, size_t n)
{
    const struct vg_request *r = &ps->req;
    const struct vg_str views[] = {r->line,      r->client,   r->user,       r->request,
                                   r->method,    r->target,   r->path,       r->query,
                                   r->protocol,  r->referer,  r->user_agent, r->host,
                                   r->cookie,    r->body,     r->content_type, r->peer,
                                   r->forwarded};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        struct vg_str v = views[i];
        if (v.n == 0)
            continue;
        bool in_line = v.p >= ps->buf && v.p + v.n <= ps->buf + n;
        bool in_buf = v.p >= ps->pb.p && v.p + v.n <= ps->pb.p + ps->pb.used;
        assert_true(in_line || in_buf);
    }
}

#endif /* VG_INGEST_TEST_UTIL_H */
