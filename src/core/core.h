/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core.h: shared building blocks of every pipeline stage: byte views, the bump arena, bounded
 * growable buffers, client addresses, UTC time, error helpers and assertion tiers.
 *
 * Invariants: nothing here keeps global mutable state; every buffer has a ceiling; every input is
 * (pointer, length), never a NUL-terminated assumption.
 */
#ifndef VG_CORE_H
#define VG_CORE_H

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil.h"

#define VG_NODISCARD __attribute__((warn_unused_result))
#define VG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define VG_UNUSED(x) ((void)(x))
#define VG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define VG_LIKELY(x) __builtin_expect(!!(x), 1)
#define VG_UNLIKELY(x) __builtin_expect(!!(x), 0)

/*
 * Assertion tiers (see SQLite's ALWAYS/NEVER): assert() for internal invariants only;
 * VG_ALWAYS/VG_NEVER wrap defensive branches: they assert in debug builds and are plain
 * conditions in release builds. Never assert on input bytes.
 */
#ifndef NDEBUG
#define VG_ALWAYS(x) ((x) ? 1 : (assert(0 && #x), 0))
#define VG_NEVER(x) ((x) ? (assert(0 && #x), 1) : 0)
#else
#define VG_ALWAYS(x) (x)
#define VG_NEVER(x) (x)
#endif

/* ---- byte views ------------------------------------------------------------------------- */

/* A borrowed view of bytes: {p, n}. p may be NULL when n == 0. Not NUL-terminated. */
struct vg_str {
    const uint8_t *p;
    size_t n;
};

#define VG_STR_NULL ((struct vg_str){NULL, 0})
#define VG_STR_LIT(s) ((struct vg_str){(const uint8_t *)(s), sizeof(s) - 1})

static inline struct vg_str vg_str_make(const void *p, size_t n)
{
    struct vg_str s = {(const uint8_t *)p, n};
    return s;
}

static inline bool vg_str_eq_lit(struct vg_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

/* ASCII case-insensitive equality. */
bool vg_str_ieq(struct vg_str a, struct vg_str b);

/* ---- errors ----------------------------------------------------------------------------- */

/* Fills err (if not NULL) and returns st. `where` may be NULL. */
vg_status vg_error_set(struct vg_error *err, vg_status st, const char *where, size_t line,
                       const char *fmt, ...) VG_PRINTF(5, 6);

/* ---- allocator hook (for out-of-memory fault injection in tests) ------------------------ */

struct vg_allocator {
    void *(*malloc_fn)(size_t);
    void *(*realloc_fn)(void *, size_t);
    void (*free_fn)(void *);
};

/* All library allocations go through these. vg_malloc(0) returns a unique pointer or NULL. */
void *vg_malloc(size_t n);
void *vg_calloc(size_t count, size_t size);
void *vg_realloc(void *p, size_t n);
char *vg_strndup(const char *s, size_t n);
char *vg_strdup(const char *s);
/* (vg_free is public, in vigil.h) */

/*
 * Test-only: the allocator used by a thread. Porting note: it is thread-local so that a test can
 * fail the n-th allocation of one call without touching other threads; NULL restores libc.
 */
void vg_set_thread_allocator(const struct vg_allocator *a);

/* ---- arena ------------------------------------------------------------------------------ */

/*
 * A bump allocator over a list of blocks. vg_arena_reset keeps the first block so that a
 * per-line or per-batch arena reaches a steady state with no malloc at all. `limit` caps the
 * total bytes it may hold (0 = no cap); an allocation over the cap returns NULL.
 */
struct vg_arena_block;
struct vg_arena {
    struct vg_arena_block *head; /* current block (newest first) */
    size_t block_size;           /* default block payload size */
    size_t limit;                /* 0 = unlimited */
    size_t used_total;           /* bytes handed out since the last reset */
};

void vg_arena_init(struct vg_arena *a, size_t block_size, size_t limit);
void vg_arena_fini(struct vg_arena *a);
/* Frees every block except one, making all earlier allocations invalid. */
void vg_arena_reset(struct vg_arena *a);
/* Returns n bytes aligned to 16, or NULL (out of memory or over the limit). */
void *vg_arena_alloc(struct vg_arena *a, size_t n);
/* Copies the view into the arena; returns a view of the copy ({NULL,0} on failure or n == 0). */
struct vg_str vg_arena_dup(struct vg_arena *a, struct vg_str s);
char *vg_arena_strdup(struct vg_arena *a, const char *s);

/* ---- bounded growable buffer ------------------------------------------------------------- */

/* Growable bytes with a ceiling (curl dynbuf). Always NUL-terminated after a successful add. */
struct vg_buf {
    uint8_t *p;
    size_t n;
    size_t cap;
    size_t max;     /* growing past this fails with VG_E_LIMIT */
    vg_status err;  /* sticky: first failure of a vg_bput* call (VG_OK if none) */
};

#define VG_BUF_MAX_DEFAULT ((size_t)1 << 30)

void vg_buf_init(struct vg_buf *b, size_t max);
void vg_buf_fini(struct vg_buf *b);
static inline void vg_buf_reset(struct vg_buf *b)
{
    b->n = 0;
    if (b->p)
        b->p[0] = 0;
}
VG_NODISCARD vg_status vg_buf_reserve(struct vg_buf *b, size_t extra);
VG_NODISCARD vg_status vg_buf_add(struct vg_buf *b, const void *p, size_t n);
VG_NODISCARD vg_status vg_buf_addc(struct vg_buf *b, char c);
VG_NODISCARD vg_status vg_buf_adds(struct vg_buf *b, const char *s);
VG_NODISCARD vg_status vg_buf_printf(struct vg_buf *b, const char *fmt, ...) VG_PRINTF(2, 3);

/*
 * Length of the valid UTF-8 sequence at s (1..4; n >= 1 bytes available), or 0 when the bytes
 * there are not valid UTF-8 (overlong forms, surrogates and code points above U+10FFFF are
 * invalid). The one rule every writer uses to decide what becomes U+FFFD.
 */
size_t vg_utf8_seq_len(const uint8_t *s, size_t n);

/*
 * Appends s as the inside of a JSON string (no quotes): ", \ and control characters escaped,
 * valid UTF-8 kept, each byte of an invalid UTF-8 sequence replaced by U+FFFD.
 */
VG_NODISCARD vg_status vg_buf_add_json_str(struct vg_buf *b, const uint8_t *s, size_t n);

/*
 * Appends s made safe for a terminal: printable ASCII and valid non-control UTF-8 kept; control
 * characters (C0, DEL, C1), ESC and invalid bytes written as \xHH; backslash doubled.
 */
VG_NODISCARD vg_status vg_buf_add_term_safe(struct vg_buf *b, const uint8_t *s, size_t n);

/*
 * Sticky variants for writers that emit many pieces: they return nothing and record the first
 * failure in b->err, which the writer checks once at the end.
 */
void vg_bput(struct vg_buf *b, const void *p, size_t n);
void vg_bputs(struct vg_buf *b, const char *s);
void vg_bputc(struct vg_buf *b, char c);
void vg_bprintf(struct vg_buf *b, const char *fmt, ...) VG_PRINTF(2, 3);
void vg_bput_json(struct vg_buf *b, const uint8_t *s, size_t n);
void vg_bput_term(struct vg_buf *b, const uint8_t *s, size_t n);

/* ---- client addresses -------------------------------------------------------------------- */

/* An IPv4 or IPv6 address; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d). */
struct vg_addr {
    uint8_t b[16];
};

/* Parses a textual IPv4 or IPv6 address (no brackets, no port, no zone). true on success. */
bool vg_addr_parse(const uint8_t *s, size_t n, struct vg_addr *out);
bool vg_addr_is_v4(const struct vg_addr *a);
/* Stores an IPv4 address (4 bytes, network order) IPv4-mapped into out. */
void vg_addr_from_v4(const uint8_t v4[4], struct vg_addr *out);
/* Writes the canonical text (RFC 5952 for IPv6) into out (>= 46 bytes); returns its length. */
size_t vg_addr_format(const struct vg_addr *a, char *out);

/* ---- time -------------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
int64_t vg_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Splits unix seconds into a UTC date and time. */
void vg_civil_from_unix(int64_t t, int *year, int *mon, int *day, int *hour, int *min, int *sec);
/* Month key of a unix time: year * 12 + (month - 1). */
int32_t vg_month_key(int64_t t);
/* Writes "YYYY-MM" (or "unknown" for a negative key) into out (>= 16 bytes). */
void vg_month_format(int32_t key, char *out);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" into out (>= 21 bytes). */
void vg_time_format_iso(int64_t t, char *out);

/* ---- hashing ----------------------------------------------------------------------------- */

/* A fast non-cryptographic 64-bit hash (for hash tables only). */
uint64_t vg_hash64(const void *p, size_t n, uint64_t seed);
/* A faster hash for in-memory memos keyed by field values (up to a few hundred bytes): three
   independent 128-bit multiply lanes. Never persisted: its values may change between versions. */
uint64_t vg_hash64_mem(const void *p, size_t n, uint64_t seed);

#endif /* VG_CORE_H */
