/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_int.h: internals shared by the files of src/ingest/ (not part of the stage contract in
 * ingest.h): the compiled format program, the builder that every format language (nginx
 * log_format, Apache LogFormat, W3C #Fields) translates into, the value parsers (addresses,
 * times, numbers), and the per-kind parsers (JSON lines, HAProxy).
 *
 * Invariants: a compiled format is immutable once built; every parser here reads only inside
 * [line, line + len) and writes only inside the caller's vg_parse_buf, within its capacity.
 */
#ifndef VG_INGEST_INT_H
#define VG_INGEST_INT_H

#include "ingest/ingest.h"

/* ---- what a field feeds ---------------------------------------------------------------------- */

enum vg_fmt_field {
    VG_FF_IGNORE = 0, /* parsed as a field, then dropped */
    VG_FF_CLIENT,     /* client address (no port) */
    VG_FF_CLIENT_PORT,/* client address, a port allowed ("a.b.c.d:p", "[v6]:p", bare address) */
    VG_FF_USER,
    VG_FF_TIME_LOCAL, /* 10/Oct/2000:13:55:36 -0700 */
    VG_FF_TIME_ISO,   /* ISO 8601 / RFC 3339 */
    VG_FF_EPOCH,      /* seconds[.frac], or milli/micro/nanoseconds by digit count */
    VG_FF_TIME_STRF,  /* aux holds a strftime pattern (Apache %{...}t) */
    VG_FF_TIME_ANY,   /* any of the above, by shape (JSON values) */
    VG_FF_DATE,       /* W3C date: YYYY-MM-DD (UTC) */
    VG_FF_CLOCK,      /* W3C time: HH:MM:SS[.fff] (UTC) */
    VG_FF_REQUEST,    /* the request line, split into method / target / protocol */
    VG_FF_METHOD,
    VG_FF_TARGET,     /* request-target: path and query */
    VG_FF_PATH,       /* path only (W3C cs-uri-stem, Apache %U, nginx $uri) */
    VG_FF_QUERY,      /* query without '?' (W3C cs-uri-query, nginx $args) */
    VG_FF_QUERY_Q,    /* query with its leading '?' or empty (Apache %q) */
    VG_FF_IS_ARGS,    /* nginx $is_args: "?" or "" (only useful between $uri and $args) */
    VG_FF_PROTOCOL,
    VG_FF_STATUS,
    VG_FF_BYTES,
    VG_FF_REFERER,
    VG_FF_UA,
    VG_FF_HOST,
    VG_FF_COOKIE,
    VG_FF_BODY,
    VG_FF_CTYPE,
    VG_FF_PORT,       /* a port number, checked then dropped */
    VG_FF_HEADER,     /* another request header; aux holds its name */
    VG_FF_PEER,       /* the socket address, when the log also has the real client: peer */
    VG_FF_COUNT       /* the number of fields; in the builder only, marks a pending "$uri$is_args" */
};

/* Escaping rules of the quoted fields of a line format (nginx log_format escape=). */
enum vg_fmt_escape {
    VG_ESC_DEFAULT = 0, /* nginx \xHH, Apache \" \\ \xhh: left as logged, decode/ undoes them */
    VG_ESC_JSON,        /* nginx escape=json: \uXXXX, \/, \b, \f are rewritten (see below) */
    VG_ESC_NONE         /* nginx escape=none: nothing escaped, quotes found by lookahead */
};

enum vg_fmt_kind {
    VG_FK_LINE = 0, /* a program of steps (nginx, Apache, presets, W3C #Fields) */
    VG_FK_JSON,     /* JSON lines with a key map */
    VG_FK_W3C,      /* W3C extended before any #Fields: directive (IIS defaults) */
    VG_FK_HAPROXY   /* HAProxy "option httplog" lines, syslog prefix optional */
};

/* Step flags, decided at compile time so that the parse loop only tests bits. */
enum {
    VG_FS_QUOTED = 1u << 0,   /* between a literal ending in an opening '"' and one starting with
                                 '"': the end is found by the escape-aware quote search */
    VG_FS_CLOSER = 1u << 1,   /* the next literal starts with '"' or ']': a miss is UNTERMINATED */
    VG_FS_LAST = 1u << 2,     /* the last step: what follows must be end of line or ' ' */
    VG_FS_WORD = 1u << 3,     /* last step without literal, value never has spaces: ends at ' ' */
    VG_FS_IN_QUOTES = 1u << 4,/* inside a quoted region (odd number of '"' in the literals
                                 before it): NUL bytes allowed, backslashes set ESCAPED */
    VG_FS_FORWARDED = 1u << 5 /* the --real-ip field: its value is the forwarded chain */
};

/* One step: a field, then the literal that ends it (lit_len == 0 only for the last step). */
struct vg_fmt_step {
    uint32_t lit_off;
    uint32_t lit_len;
    uint32_t aux_off; /* header name or time pattern in the pool */
    uint16_t aux_len;
    uint8_t field;
    uint8_t flags;
};

/* A trusted proxy network. */
struct vg_cidr {
    struct vg_addr net;
    uint8_t bits; /* prefix length over the 16-byte (IPv4-mapped) form */
};

struct vg_json_prog;
struct vg_haproxy_prog;

struct vg_format {
    const char *name;    /* preset name or the specification (points into this allocation) */
    uint8_t kind;        /* enum vg_fmt_kind */
    uint8_t escape;      /* enum vg_fmt_escape */
    bool directives;     /* lines starting with '#' are directives (W3C) */
    bool needs_buf;      /* parsing may write into a vg_parse_buf (see ingest.h) */
    bool has_forwarded;  /* some field is the --real-ip field */
    const uint8_t *lits; /* literal and aux pool (points into this allocation) */
    uint32_t lead_off;   /* the leading literal is lits[lead_off .. lead_off + lead_len) */
    uint32_t lead_len;
    uint32_t n_steps;
    /* --real-ip: normalized field name and trusted networks (owned, may be NULL) */
    char *real_ip;
    struct vg_cidr *trusted;
    size_t n_trusted;
    /* kind-specific programs (owned) */
    struct vg_json_prog *json;
    struct vg_haproxy_prog *haproxy;
    struct vg_format *w3c_default; /* VG_FK_W3C: the IIS default layout */
    struct vg_fmt_step steps[];
};

/* Limits of a specification (formats are configuration, but still bounded). */
#define VG_FMT_MAX_SPEC 8192
#define VG_FMT_MAX_STEPS 128

/* ---- the builder: every line-format language becomes the same token list ------------------- */

struct vg_fmt_tok {
    uint32_t off, len;   /* literal: bytes in b->pool; variable: its aux (header name, pattern) */
    uint32_t src_pos;    /* position in the specification, for messages */
    uint8_t field;
    uint8_t flags;       /* VG_FS_FORWARDED only */
    bool is_var;
};

struct vg_fmt_builder {
    const char *src;     /* the specification text (messages quote it) */
    const char *what;    /* "log format", "Apache LogFormat", "W3C #Fields" */
    struct vg_fmt_tok toks[2 * VG_FMT_MAX_STEPS + 2];
    size_t n_toks, n_vars;
    uint8_t pool[2 * VG_FMT_MAX_SPEC + 256];
    size_t pool_n;
    const char *real_ip; /* normalized --real-ip field name, or NULL */
};

void vg_fb_init(struct vg_fmt_builder *b, const char *src, const char *what, const char *real_ip);
/* Appends literal bytes (merged with a literal just before). */
VG_NODISCARD vg_status vg_fb_lit(struct vg_fmt_builder *b, const void *p, size_t n, size_t pos,
                                 struct vg_error *err);
/*
 * Appends a variable feeding `field` (aux: header name or time pattern). Two variables with no
 * literal between them are refused, except the pairs that make one request-target
 * ($uri$is_args$args, %U%q). `pos` is the 0-based position in src, for messages.
 */
VG_NODISCARD vg_status vg_fb_var(struct vg_fmt_builder *b, uint8_t field, const void *aux,
                                 size_t aux_n, size_t pos, struct vg_error *err);
/*
 * Lays the program out in one allocation. name is copied. OUT: *out owns the format.
 * Returns VG_OK, VG_E_FORMAT (no variables) or VG_E_NOMEM.
 */
VG_NODISCARD vg_status vg_fb_build(struct vg_fmt_builder *b, const char *name, uint8_t kind,
                                   uint8_t escape, struct vg_format **out, struct vg_error *err);

/* A compile error naming the 1-based position in src and the text near it. */
vg_status vg_fmt_error(struct vg_error *err, const char *what, const char *src, size_t pos,
                       const char *msg);

/* nginx variable -> field (and, for $http_*, the header name written into name/cap). */
uint8_t vg_nginx_var_field(const char *name, size_t n, char *hdr, size_t cap, size_t *hdr_n);
/* A header name -> the field that carries it (referer, user agent, ...) or VG_FF_HEADER. */
uint8_t vg_header_field(const char *name, size_t n);
/*
 * Normalizes a field name for --real-ip matching: "$http_x_forwarded_for", "X-Forwarded-For",
 * "%{X-Forwarded-For}i", "cs(X-Forwarded-For)" and "request_X-Forwarded-For" all give
 * "x_forwarded_for". Writes at most cap - 1 bytes and a NUL.
 */
void vg_field_norm(const char *name, size_t n, char *out, size_t cap);

/* Attaches --real-ip options (copied) to a built format; checks the field is logged. */
VG_NODISCARD vg_status vg_fmt_attach_real_ip(struct vg_format *fmt,
                                             const struct vg_format_options *opt,
                                             struct vg_error *err);

/* Compilers of the other languages (ingest_apache.c, ingest_w3c.c, ingest_json.c,
   ingest_haproxy.c). Each returns a complete format or an error naming the fault. */
vg_status vg_apache_compile(const char *name, const char *src, const char *real_ip,
                            struct vg_format **out, struct vg_error *err);
vg_status vg_w3c_compile_fields(const uint8_t *fields, size_t n, const char *real_ip,
                                struct vg_format **out, struct vg_error *err);
vg_status vg_w3c_compile_base(const char *name, const char *real_ip, struct vg_format **out,
                              struct vg_error *err);
vg_status vg_json_compile(const char *name, const char *preset, const char *map,
                          const char *real_ip, struct vg_format **out, struct vg_error *err);
void vg_json_prog_free(struct vg_json_prog *p);
vg_status vg_haproxy_compile(const char *name, const char *captures, const char *real_ip,
                             struct vg_format **out, struct vg_error *err);
void vg_haproxy_prog_free(struct vg_haproxy_prog *p);

/* ---- parsing helpers ------------------------------------------------------------------------- */

/* State of one line's parse that outlives a single field. */
struct vg_parse_acc {
    struct vg_parse_buf *buf; /* may be NULL */
    int64_t date_days;        /* W3C date, or INT64_MIN */
    int32_t clock;            /* W3C time of day in seconds, or -1 */
    uint8_t escape;           /* enum vg_fmt_escape of the value being stored */
    struct vg_str fwd;        /* the forwarded chain (--real-ip), when logged */
    struct vg_str peer_text;  /* VG_FF_PEER */
};

void vg_request_clear(struct vg_request *req);
void vg_acc_init(struct vg_parse_acc *acc, struct vg_parse_buf *buf, uint8_t escape);

/*
 * Stores one field's value [s, s + n) into req (validating addresses, times, numbers). `flags`
 * are the step flags (VG_FS_IN_QUOTES decides whether NUL bytes are binary); aux is the header
 * name or time pattern. Returns VG_PARSE_OK or the reason.
 */
enum vg_parse_result vg_store_field(uint8_t field, unsigned flags, const uint8_t *s, size_t n,
                                    struct vg_str aux, struct vg_request *req,
                                    struct vg_parse_acc *acc);

/*
 * After the fields: W3C date + time, the request-target from a path and a query, a request
 * line from method + target + protocol (written into acc->buf when there is room), the
 * --real-ip client. Returns VG_PARSE_OK or VG_PARSE_MISSING.
 */
enum vg_parse_result vg_request_finish(const struct vg_format *fmt, struct vg_request *req,
                                       struct vg_parse_acc *acc);

/*
 * Rewrites a JSON string body into nginx's escape=default dialect: every escape is undone and
 * '"', '\\', control bytes, DEL and bytes >= 0x80 are written \xHH (upper-case hex), as nginx
 * writes them in a text log; so a JSON log and a text log of the same server give byte-identical
 * fields (decode/ undoes both). The result takes at most 4 bytes per input byte. Returns a view
 * of the result in buf, or the input itself when buf has no room.
 */
struct vg_str vg_json_transcode(const uint8_t *s, size_t n, struct vg_parse_buf *buf);
/* True when a string body holds a byte vg_json_transcode rewrites. */
bool vg_json_needs_transcode(const uint8_t *s, size_t n);

/* Bytes nginx's escape=default writes as \xHH: controls, '"', '\\', DEL and 0x80..0xFF. */
static inline bool vg_nginx_escapes(uint8_t c)
{
    return c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
}

/* Writes c as nginx's escape=default does (1 or 4 bytes); returns the length. */
static inline size_t vg_put_nginx_byte(uint8_t *o, uint8_t c)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!vg_nginx_escapes(c)) {
        o[0] = c;
        return 1;
    }
    o[0] = '\\';
    o[1] = 'x';
    o[2] = (uint8_t)hex[c >> 4];
    o[3] = (uint8_t)hex[c & 15];
    return 4;
}

/* Room for n more bytes in buf (NULL when buf is NULL or full). */
uint8_t *vg_pbuf_room(struct vg_parse_buf *buf, size_t n);

/* Addresses: the address with an optional port; a strict dotted quad on a fast path. */
bool vg_parse_client(const uint8_t *s, size_t n, struct vg_addr *out);
bool vg_parse_client_port(const uint8_t *s, size_t n, struct vg_addr *out, struct vg_str *ip);

/* Times (ingest_time.c). All return false when the text does not parse; results are unix UTC. */
bool vg_time_iso(const uint8_t *s, size_t n, int64_t *out);
bool vg_time_epoch(const uint8_t *s, size_t n, int64_t *out);
bool vg_time_strf(const uint8_t *pat, size_t pn, const uint8_t *s, size_t n, int64_t *out);
bool vg_time_strf_prefix(const uint8_t *pat, size_t pn, const uint8_t *s, size_t n, int64_t *out,
                         size_t *used);
bool vg_time_any(const uint8_t *s, size_t n, int64_t *out);
bool vg_time_date(const uint8_t *s, size_t n, int64_t *days);
bool vg_time_clock(const uint8_t *s, size_t n, int32_t *secs);
/* "06/Feb/2009:12:14:14.655" (HAProxy accept date; no zone: taken as UTC). */
bool vg_time_haproxy(const uint8_t *s, size_t n, int64_t *out);
/* Checks that a strftime pattern uses only the conversions vg_time_strf knows. */
bool vg_time_strf_valid(const char *pat, size_t n, char *bad);

/* Line-kind parsers. */
enum vg_parse_result vg_json_parse(const struct vg_format *fmt, const uint8_t *line, size_t len,
                                   struct vg_request *req, struct vg_parse_acc *acc);
enum vg_parse_result vg_haproxy_parse(const struct vg_format *fmt, const uint8_t *line,
                                      size_t len, struct vg_request *req,
                                      struct vg_parse_acc *acc);

/*
 * First byte in [s, end) equal to a or b, or end (SSE2 where available; loads stay inside).
 */
const uint8_t *vg_scan_two(const uint8_t *s, const uint8_t *end, uint8_t a, uint8_t b);

#define VG_DIG(c) ((unsigned)(c) - '0' <= 9u)
#define VG_D2(p) (((unsigned)(p)[0] - '0') * 10u + ((unsigned)(p)[1] - '0'))

#endif /* VG_INGEST_INT_H */
