/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest.h: from bytes to request records. First stage of the pipeline.
 *
 *  - vg_input: opens a file or stdin and yields decompressed bytes (plain, gzip, zstd; detected
 *    by magic bytes, not by name). Streaming: memory does not grow with the input.
 *  - vg_format: a log format compiled once from a specification (a preset, an nginx log_format
 *    or Apache LogFormat string, a JSON key map, W3C extended, HAProxy) into a small program;
 *    vg_format_parse interprets it over one line.
 *  - vg_format_set: the candidates of `--format auto`, and the probe that picks one per file.
 *  - vg_request: the parsed record, made of zero-copy views into the line (or, for values the
 *    parser had to rewrite or join, into a caller-provided vg_parse_buf).
 *
 * Invariants: parsing never allocates, never reads outside [line, line + len), never writes
 * outside the caller's vg_parse_buf, and a line that does not fit the format yields a reason
 * code, never a crash.
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
    VG_REQ_ESCAPED = 1u << 3,     /* some quoted field contains a backslash escape (\" \\ \xHH) */
    VG_REQ_FORWARDED = 1u << 4    /* client/addr come from the --real-ip chain; peer is the
                                     socket address */
};

/* Request headers a format logs beyond those vg_request has a field for (X-Forwarded-For,
   Authorization, X-Api-Key, ...): the first VG_REQ_MAX_HEADERS of them. */
#define VG_REQ_MAX_HEADERS 8
struct vg_header {
    struct vg_str name;  /* as the format names it, e.g. "X-Forwarded-For" (borrowed from the
                            format: valid as long as it) */
    struct vg_str value; /* as logged */
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
    struct vg_str peer;       /* with VG_REQ_FORWARDED: the socket address the chain came from */
    struct vg_str forwarded;  /* the logged --real-ip field (e.g. an X-Forwarded-For chain) */
    struct vg_addr addr;      /* valid when flags & VG_REQ_HAS_ADDR */
    int64_t time;             /* unix seconds, UTC; valid when flags & VG_REQ_HAS_TIME */
    int32_t status;           /* HTTP status, or -1 when not logged */
    int64_t bytes;            /* response bytes, or -1 when not logged or "-" */
    uint32_t flags;           /* VG_REQ_* */
    uint32_t file_id;         /* set by the pipeline */
    uint64_t offset;          /* byte offset of the line start in the (decompressed) input */
    uint64_t line_no;         /* 1-based line number in the input */
    unsigned n_headers;
    struct vg_header headers[VG_REQ_MAX_HEADERS];
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
    VG_PARSE_BINARY,        /* the line holds NUL bytes where none can be */
    VG_PARSE_DIRECTIVE,     /* a directive or comment line of the format (W3C "#Fields: ..."):
                               counted as a line, neither a request nor malformed */
    VG_PARSE_JSON,          /* not a well-formed JSON object */
    VG_PARSE_MISSING,       /* a field the format needs (time, request) is not in the line */
    VG_PARSE_LAYOUT         /* no valid layout: the W3C #Fields: directive before it is bad */
};
#define VG_PARSE_RESULT_MAX VG_PARSE_LAYOUT

/* Static text for a parse result, e.g. "expected '\"' before the request line". Never NULL. */
const char *vg_parse_strerror(enum vg_parse_result r);

struct vg_format; /* compiled, immutable, shareable between threads */

/* Options that change how a specification compiles (all may be NULL). */
struct vg_format_options {
    const char *json_map; /* "field=key,..." added to JSON formats (see docs/internals/ingest.md) */
    const char *real_ip;  /* field holding a forwarded chain, e.g. "X-Forwarded-For" */
    const char *trusted;  /* "CIDR,CIDR,...": proxies whose forwarded chain is believed */
};

/*
 * Compiles a format specification:
 *   "combined", "common", "vhost_combined", "main"   nginx/Apache presets
 *   "nginx:[escape=default|json|none ]<log_format string>"
 *   "apache:<LogFormat string>"       as written in the config (\" for a quote)
 *   "json", "caddy", "traefik"        JSON lines (generic key names, Caddy, Traefik)
 *   "w3c" (or "iis")                  W3C extended; the layout comes from #Fields: lines
 *   "haproxy[:Header,Header...]"      HAProxy httplog lines; the names of the captured
 *                                     request headers, in their declaration order
 * With opt->real_ip, the format must log that field (VG_E_FORMAT otherwise; JSON formats are
 * not checked, since any key may appear), and the client becomes the rightmost address of the
 * chain that is not in opt->trusted, when the socket address is trusted.
 * On success *out owns the program (free with vg_format_free). On failure err says which
 * variable or position is at fault.
 */
vg_status vg_format_compile_opts(const char *spec, const struct vg_format_options *opt,
                                 struct vg_format **out, struct vg_error *err);
/* vg_format_compile_opts without options. */
vg_status vg_format_compile(const char *spec, struct vg_format **out, struct vg_error *err);
void vg_format_free(struct vg_format *fmt);

/* The preset name or the specification the format was compiled from. */
const char *vg_format_name(const struct vg_format *fmt);

/*
 * Room for values a parser must rewrite or join: JSON strings (rewritten into nginx's text-log
 * escaping, so that both logs of a server give the same bytes), HAProxy's #XX escapes, a target
 * joined from a logged path and query, a request line joined from method, target and protocol.
 * Views into it stay valid until the caller resets `used`. Room for 4 * len + 64 bytes per line
 * is enough for every rewrite; joins take what is left. With too little room (or buf NULL),
 * values are left as logged and nothing is joined.
 */
struct vg_parse_buf {
    uint8_t *p;
    size_t cap;
    size_t used;
};

/* True when parsing with fmt may write into a vg_parse_buf (callers may skip allocating one). */
bool vg_format_needs_buf(const struct vg_format *fmt);

/*
 * Parses one line (without its terminator; trailing '\r's are tolerated) into *req. Fields not in
 * the format are cleared; file_id/offset/line_no are left untouched. Never allocates. buf may
 * be NULL (see vg_parse_buf).
 * Thread safety: fmt is read-only; any number of threads may parse with it at once.
 */
enum vg_parse_result vg_format_parse_ex(const struct vg_format *fmt, const uint8_t *line,
                                        size_t len, struct vg_request *req,
                                        struct vg_parse_buf *buf);
/* vg_format_parse_ex without a buffer. */
enum vg_parse_result vg_format_parse(const struct vg_format *fmt, const uint8_t *line,
                                     size_t len, struct vg_request *req);

/*
 * Formats whose layout is declared inside the log (W3C "#Fields:"): a line for which the parse
 * returns VG_PARSE_DIRECTIVE may change the layout of the lines after it.
 *
 * vg_format_bind compiles the layout a directive line declares. OUT: *out owns the new format
 * (parse the following lines with it), or is NULL when the line declares no layout (#Date,
 * #Software, comments). VG_E_FORMAT when the directive is invalid (err says why).
 * vg_format_last_directive finds the last layout directive in a block of lines, so that a
 * reader cutting the input into chunks can hand each chunk the layout active at its start.
 *
 * Usage (one thread, one input):
 *     const struct vg_format *cur = fmt; struct vg_format *bound = NULL;
 *     r = vg_format_parse_ex(cur, line, n, &req, buf);
 *     if (r == VG_PARSE_DIRECTIVE && vg_format_bind(fmt, line, n, &nb, &err) == VG_OK && nb) {
 *         vg_format_free(bound); bound = nb; cur = nb;
 *     }
 */
bool vg_format_has_directives(const struct vg_format *fmt);
vg_status vg_format_bind(const struct vg_format *fmt, const uint8_t *line, size_t len,
                         struct vg_format **out, struct vg_error *err);
bool vg_format_last_directive(const struct vg_format *fmt, const uint8_t *p, size_t n,
                              struct vg_str *out);

/*
 * Reads a log format out of a server configuration file: nginx `log_format NAME [escape=..]
 * 'string' ...;` or Apache `LogFormat "string" NAME`. OUT: *spec (caller frees with vg_free)
 * is a specification for vg_format_compile ("nginx:..." or "apache:..."). VG_E_IO when the
 * file cannot be read, VG_E_FORMAT when NAME is not defined in it (err lists the names found).
 */
vg_status vg_format_from_config(const char *path, const char *name, char **spec,
                                struct vg_error *err);
/* The same over a configuration already in memory (path names it in messages). */
vg_status vg_format_from_config_text(const uint8_t *text, size_t n, const char *path,
                                     const char *name, char **spec, struct vg_error *err);

/* ---- auto-detection ---------------------------------------------------------------------- */

struct vg_format_set; /* the candidates of `auto`, compiled once, shareable between threads */

/*
 * Compiles the candidate formats (every preset, JSON presets, W3C, HAProxy) with opt. With
 * opt->real_ip, only candidates that log that field are kept (VG_E_FORMAT if none does).
 */
vg_status vg_format_set_new(const struct vg_format_options *opt, struct vg_format_set **out,
                            struct vg_error *err);
void vg_format_set_free(struct vg_format_set *set);
/* The preferred candidate (combined, unless --real-ip left it out); borrowed from set. */
const struct vg_format *vg_format_set_default(const struct vg_format_set *set);

/* How a format was chosen. */
struct vg_detect_info {
    size_t probed;  /* non-empty lines looked at */
    size_t matched; /* of them, lines the chosen format parses */
};

/*
 * Picks the format of a file from its first bytes (buf, n; at_eof when that is the whole
 * file): up to VG_DETECT_LINES non-empty lines are parsed with every candidate; the one that
 * parses the most (then the one that fills the most fields) wins. OUT: *out (borrowed from
 * set), NULL when there is no line at all (an empty file). Fails with VG_E_FORMAT, and err
 * naming the line and what each candidate expected, when no candidate parses most of the
 * lines, or when the lines fit different formats (a file mixing formats).
 */
#define VG_DETECT_LINES 16
vg_status vg_format_detect(const struct vg_format_set *set, const uint8_t *buf, size_t n,
                           bool at_eof, const struct vg_format **out,
                           struct vg_detect_info *info, struct vg_error *err);

/* ---- parsed records ---------------------------------------------------------------------- */

/*
 * Appends one parsed request as a JSON object (no newline) to b: time (UTC), client, peer,
 * user, method, target, path, query, protocol, status, bytes, referer, user_agent, host, cookie,
 * content_type, body, headers, forwarded; only the fields the line logged. Text values have the
 * server's log escapes undone and are JSON-escaped. Used by `vigil parse --records`.
 */
void vg_request_write_json(const struct vg_request *req, struct vg_buf *b);

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
