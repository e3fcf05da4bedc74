/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest.h: from bytes to request records. First stage of the pipeline.
 *
 *  - vg_input: opens a file or stdin and yields decompressed bytes (plain, gzip, zstd; detected
 *    by magic bytes, not by name). Streaming: memory does not grow with the input.
 *  - vg_format: a log format compiled once from a specification (a named preset or an nginx
 *    log_format string) into a small program; vg_format_parse interprets it over one line.
 *  - vg_request: the parsed record, made of zero-copy views into the line.
 *
 * Invariants: parsing never allocates, never reads outside [line, line + len), and a line that
 * does not fit the format yields a reason code, never a crash.
 */
#ifndef VG_INGEST_H
#define VG_INGEST_H

#include "core/core.h"

/* ---- request record ---------------------------------------------------------------------- */

/* Bits of vg_request.flags */
enum {
    VG_REQ_HAS_ADDR = 1u << 0,    /* addr holds a parsed client address */
    VG_REQ_HAS_TIME = 1u << 1,    /* time is valid */
    VG_REQ_BAD_REQLINE = 1u << 2, /* the request line is not METHOD SP TARGET [SP PROTO] */
    VG_REQ_ESCAPED = 1u << 3      /* some quoted field contains a backslash escape (\" \\ \xHH) */
};

/*
 * One logged request. Every vg_str is a view into the line (borrowed: valid as long as the line
 * buffer). Fields the format does not log are {NULL, 0}. Quoted fields are given without their
 * quotes and still escaped as the server wrote them (\" or \xHH): decode/ undoes that. A logged
 * "-" for an empty value is given as {NULL, 0}.
 */
struct vg_request {
    struct vg_str line;       /* the whole line, without the line terminator */
    struct vg_str client;     /* client address text as logged */
    struct vg_str user;       /* remote user */
    struct vg_str request;    /* the whole request line, e.g. GET /a?b HTTP/1.1 */
    struct vg_str method;     /* GET */
    struct vg_str target;     /* /a?b (request-target as sent) */
    struct vg_str path;       /* /a  (target up to '?') */
    struct vg_str query;      /* b   (after the first '?', without it; {NULL,0} if none) */
    struct vg_str protocol;   /* HTTP/1.1 */
    struct vg_str referer;
    struct vg_str user_agent;
    struct vg_str host;       /* virtual host when logged */
    struct vg_str cookie;     /* when logged */
    struct vg_str body;       /* when logged */
    struct vg_str content_type; /* when logged */
    struct vg_addr addr;      /* valid when flags & VG_REQ_HAS_ADDR */
    int64_t time;             /* unix seconds, UTC; valid when flags & VG_REQ_HAS_TIME */
    int32_t status;           /* HTTP status, or -1 when not logged */
    int64_t bytes;            /* response bytes, or -1 when not logged or "-" */
    uint32_t flags;           /* VG_REQ_* */
    uint32_t file_id;         /* set by the pipeline */
    uint64_t offset;          /* byte offset of the line start in the (decompressed) input */
    uint64_t line_no;         /* 1-based line number in the input */
};

/* ---- formats ----------------------------------------------------------------------------- */

/* Why a line did not parse. */
enum vg_parse_result {
    VG_PARSE_OK = 0,
    VG_PARSE_EMPTY,         /* empty or blank line */
    VG_PARSE_LITERAL,       /* a literal of the format was not found where expected */
    VG_PARSE_UNTERMINATED,  /* a quoted or bracketed field has no closing quote or bracket */
    VG_PARSE_ADDR,          /* the client address is not an IPv4/IPv6 address */
    VG_PARSE_TIME,          /* the time field does not parse */
    VG_PARSE_STATUS,        /* the status is not a 3-digit number */
    VG_PARSE_NUMBER,        /* a numeric field (bytes, port) is not a number */
    VG_PARSE_TRAILING,      /* bytes left over after the last field */
    VG_PARSE_BINARY         /* the line holds NUL bytes where none can be */
};

/* Static text for a parse result, e.g. "expected '\"' before the request line". Never NULL. */
const char *vg_parse_strerror(enum vg_parse_result r);

struct vg_format; /* compiled, immutable, shareable between threads */

/*
 * Compiles a format specification:
 *   "combined", "common", "vhost_combined"  the nginx/Apache presets
 *   "nginx:<log_format string>"             e.g. "nginx:$remote_addr - $remote_user [$time_local]
 *                                            \"$request\" $status $body_bytes_sent"
 * On success *out owns the program (free with vg_format_free). On failure err says which
 * variable or position is at fault.
 */
vg_status vg_format_compile(const char *spec, struct vg_format **out, struct vg_error *err);
void vg_format_free(struct vg_format *fmt);

/* The preset name or the specification the format was compiled from. */
const char *vg_format_name(const struct vg_format *fmt);

/*
 * Parses one line (without its terminator; a trailing '\r' is tolerated) into *req. Fields not in
 * the format are cleared; file_id/offset/line_no are left untouched. Never allocates.
 * Thread safety: fmt is read-only; any number of threads may parse with it at once.
 */
enum vg_parse_result vg_format_parse(const struct vg_format *fmt, const uint8_t *line,
                                     size_t len, struct vg_request *req);

/*
 * Splits a request line into method, target, path, query and protocol (views into it). Sets
 * VG_REQ_BAD_REQLINE in *flags when it is not "METHOD SP TARGET [SP PROTOCOL]": then target
 * holds the whole request line and method/protocol are empty.
 */
void vg_request_split(struct vg_str request, struct vg_request *req);

/*
 * Parses nginx $time_local / Apache %t ("10/Oct/2000:13:55:36 -0700", without brackets) into
 * unix seconds UTC. Returns false when it does not parse.
 */
bool vg_parse_time_local(const uint8_t *s, size_t n, int64_t *out);

/* ---- query / form arguments ------------------------------------------------------------- */

/*
 * Iterates over name=value pairs of a query string or urlencoded body, split on '&' (and ';'
 * is NOT a separator). A pair without '=' has an empty value. Views are raw (not decoded).
 * Usage:
 *     struct vg_args_iter it; vg_args_init(&it, req->query);
 *     struct vg_str name, value;
 *     while (vg_args_next(&it, &name, &value)) { ... }
 */
struct vg_args_iter {
    const uint8_t *cur;
    const uint8_t *end;
};
void vg_args_init(struct vg_args_iter *it, struct vg_str s);
bool vg_args_next(struct vg_args_iter *it, struct vg_str *name, struct vg_str *value);

/* ---- inputs ------------------------------------------------------------------------------ */

enum vg_compression { VG_COMP_NONE = 0, VG_COMP_GZIP, VG_COMP_ZSTD };

struct vg_input; /* an open input; one reader thread at a time */

/*
 * Opens a path ("-" = standard input, not closed by vg_input_close) and detects compression from
 * the first bytes. On failure err names the path and the system error.
 */
vg_status vg_input_open(const char *path, struct vg_input **out, struct vg_error *err);

/*
 * Reads up to cap decompressed bytes into buf. *got = 0 means end of input. Returns VG_E_IO on
 * a read error and VG_E_CORRUPT on truncated or corrupt compressed data (err says where, in
 * decompressed bytes); bytes returned before the error are valid.
 */
vg_status vg_input_read(struct vg_input *in, uint8_t *buf, size_t cap, size_t *got,
                        struct vg_error *err);

enum vg_compression vg_input_compression(const struct vg_input *in);
const char *vg_input_path(const struct vg_input *in);
/* Size of the underlying file in bytes (compressed size for compressed files); 0 if unknown. */
uint64_t vg_input_raw_size(const struct vg_input *in);
/* Compressed bytes consumed so far (for progress); equals decompressed bytes for plain input. */
uint64_t vg_input_raw_pos(const struct vg_input *in);
void vg_input_close(struct vg_input *in);

#endif /* VG_INGEST_H */
