/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil.h: the public API of libvigil, the engine behind the `vigil` command.
 *
 * libvigil finds attacks in web access logs, attributes them to client addresses and counts them.
 * The life cycle is:
 *
 *     struct vg_error err;
 *     vg_engine_t *eng;
 *     struct vg_engine_config cfg = VG_ENGINE_CONFIG_INIT;
 *     if (vg_engine_new(&cfg, &eng, &err) != VG_OK) { puts(err.message); ... }
 *     struct vg_scan_options opt = VG_SCAN_OPTIONS_INIT;
 *     vg_summary_t *sum;
 *     vg_status st = vg_scan(eng, &opt, paths, n_paths, &sum, &err);
 *     vg_summary_write_text(sum, stdout, 0);
 *     vg_summary_free(sum);
 *     vg_engine_free(eng);
 *
 * The engine is immutable once built and may be shared by any number of threads; a scan owns its
 * own worker threads and scratch. The library never prints, exits or aborts on bad input.
 */
#ifndef VIGIL_H
#define VIGIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VG_VERSION_STRING "0.1.0"

/* Status of every fallible call. Negative values are errors. */
typedef enum {
    VG_OK = 0,
    VG_E_NOMEM = -1,    /* out of memory */
    VG_E_INVAL = -2,    /* invalid argument or option */
    VG_E_IO = -3,       /* a file could not be opened, read or written */
    VG_E_FORMAT = -4,   /* a log format specification is invalid */
    VG_E_RULES = -5,    /* a rule file is invalid */
    VG_E_REGEX = -6,    /* a rule's pattern does not compile */
    VG_E_GEO = -7,      /* a geolocation database cannot be used */
    VG_E_STORE = -8,    /* the result store failed */
    VG_E_CORRUPT = -9,  /* compressed input is truncated or corrupt */
    VG_E_LIMIT = -10,   /* a size limit was exceeded */
    VG_E_INTERNAL = -11 /* a bug: an internal invariant did not hold */
} vg_status;

/* Static, human-readable text for a status. Never NULL. */
const char *vg_strerror(vg_status st);

/* The library version, e.g. "0.1.0". */
const char *vg_version(void);

/*
 * Detailed error for calls that take user-supplied programs (rules, formats, configuration) or
 * inputs. Caller-allocated; the library fills it on failure. `where` names the file, rule or
 * option at fault (may be empty); `line` is a 1-based line number within it, or 0.
 */
struct vg_error {
    vg_status status;
    char message[512];
    char where[256];
    size_t line;
};

/* ---------------------------------------------------------------------------------------- */
/* Engine: built once (rules compiled, geo databases opened, log format compiled), read-only. */

typedef struct vg_engine vg_engine_t;

struct vg_engine_config {
    const char *format;            /* "auto" (default when NULL: detected per input), "combined",
                                      "common", "vhost_combined", "main", "json", "caddy",
                                      "traefik", "w3c", "haproxy[:Hdr,...]",
                                      "nginx:<log_format string>", "apache:<LogFormat string>"
                                      (docs/internals/ingest.md) */
    const char *const *rule_paths; /* extra rule files or directories (YAML), may be NULL */
    size_t n_rule_paths;
    int no_builtin_rules;          /* 1: load only rule_paths */
    const char *const *geo_paths;  /* MMDB files; NULL: look in the default places */
    size_t n_geo_paths;
    int no_geo;                    /* 1: no geolocation at all */
    int paranoia;                  /* 1..4; rules above it are not loaded (0 = 1) */
    int threshold;                 /* anomaly score that makes an attack request (0 = 5) */
    const char *cache_dir;         /* where compiled rule databases are kept between runs
                                      (created if missing); NULL = compile every time */
    const char *format_from;       /* "FILE:NAME": the log format NAME read from an nginx or
                                      Apache configuration file (overrides format) */
    const char *json_map;          /* "field=key,...": extra keys of JSON formats */
    const char *real_ip;           /* field holding a forwarded chain (e.g. "X-Forwarded-For"):
                                      the client is its rightmost address not in
                                      trusted_proxies; NULL = the socket address */
    const char *trusted_proxies;   /* "CIDR,CIDR,...", required with real_ip */
    /* behaviour and attribution (docs/internals/behave.md) */
    const char *behave_config;     /* behaviour configuration file read over the built-in
                                      defaults (config/behave.conf); NULL = defaults only */
    int no_behave;                 /* 1: signatures only (no behaviour, no incidents) */
    long long incident_gap;        /* seconds (0 = the configuration's, default 1800) */
    const char *const *asn_paths;  /* ASN CSVs (or one compiled .vgasn); NULL: the default
                                      data/geo/asn-ipv4.csv and asn-ipv6.csv when present */
    size_t n_asn_paths;
    int no_asn;                    /* 1: no AS attribution */
    const char *labels_path;       /* the user's labels, "CIDR label" lines; NULL = none */
    const char *const *allow_paths; /* allowlist YAML files (--allow; docs/rules.md), may be
                                       NULL: hits they allow are dropped before scoring */
    size_t n_allow_paths;
};

#define VG_ENGINE_CONFIG_INIT                                                                     \
    {NULL, NULL, 0, 0, NULL, 0, 0, 1, 5, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, 0, 0, NULL, \
     NULL, 0}

/*
 * Builds an engine. On success *out owns the engine (free with vg_engine_free). On failure
 * *out is NULL and err (if not NULL) says why. Thread safety: the result may be used by many
 * threads at once.
 */
vg_status vg_engine_new(const struct vg_engine_config *cfg, vg_engine_t **out,
                        struct vg_error *err);

/* Frees an engine; NULL is harmless. No scan may be running on it. */
void vg_engine_free(vg_engine_t *eng);

/* Number of rules loaded, and a hex digest of the rule set (provenance). */
size_t vg_engine_rule_count(const vg_engine_t *eng);
const char *vg_engine_ruleset_hash(const vg_engine_t *eng);

/* What a user sees of one loaded rule (strings borrowed from the engine). */
struct vg_rule_info {
    uint32_t id;
    const char *message;
    const char *class_name; /* "sqli", "xss", ... */
    int score;
    int paranoia;
    const char *fields;     /* e.g. "args,args_names,cookie" */
    const char *transform;  /* "decoded", "raw" or the transformations ("urlDecodeUni,lowercase",
                               "none") */
    const char *source;     /* "builtin/sqli.yaml:12" or the file the rule came from */
    /* the rule language (docs/rules.md); NULL / 0 when the rule does not use it */
    const char *operator_name; /* "regex", "phrases", "sqli", ... */
    int negate;             /* 1: the rule's own condition is negated */
    const char *exclude;    /* the first `exclude` item, e.g. "args:password" */
    int n_exclude;
    int n_chain;            /* further conditions (`chain:`) */
    const char *group;
    const char *author;
};

/* Fills *out with rule i (0 <= i < vg_engine_rule_count). VG_E_INVAL when out of range. */
vg_status vg_engine_rule_info(const vg_engine_t *eng, size_t i, struct vg_rule_info *out);

/*
 * Runs every loaded rule's examples (those that must and must not match) through the engine's
 * detector. For each example that does not behave as written, calls fail (if not NULL) with the
 * rule id, its source, the example request-target and whether it should have matched.
 * *checked and *failed receive the counts.
 */
vg_status vg_engine_test_rules(const vg_engine_t *eng,
                               void (*fail)(uint32_t id, const char *source, const char *target,
                                            int must_match, void *user),
                               void *user, size_t *checked, size_t *failed);

/*
 * Translates OWASP CRS rule files (path: one .conf file or a directory of them, e.g.
 * /usr/share/modsecurity-crs/rules) into vigil's native YAML rule text (docs/crs.md). On VG_OK
 * *yaml (if yaml is not NULL) holds the text (free with vg_free), *n_rules and *n_skipped the
 * counts, and skipped (if not NULL) was called once per directive not imported, with its rule id
 * (0 if none), "FILE.conf:LINE", the reason and a detail (strings valid during the call only).
 * A path given in vg_engine_config.rule_paths that holds .conf files is imported the same way.
 */
vg_status vg_crs_translate(const char *path, char **yaml, size_t *n_rules, size_t *n_skipped,
                           void (*skipped)(uint32_t id, const char *source, const char *reason,
                                           const char *detail, void *user),
                           void *user, struct vg_error *err);

/* Geolocation provenance, e.g. "geo-whois-asn-country.mmdb (built 2026-06-17)"; "" if none. */
const char *vg_engine_geo_provenance(const vg_engine_t *eng);

/* ASN provenance, e.g. "ip-location-db asn 2.3.2026061719 (built 2026-06-17)"; "" if none. */
const char *vg_engine_asn_provenance(const vg_engine_t *eng);

/* ---------------------------------------------------------------------------------------- */
/* Scan: read logs, detect, write events, store, summarize.                                  */

typedef struct vg_summary vg_summary_t;

enum vg_progress { VG_PROGRESS_AUTO = 0, VG_PROGRESS_ALWAYS, VG_PROGRESS_NEVER };

struct vg_scan_options {
    unsigned threads;     /* worker threads; 0 = number of online CPUs */
    FILE *events;         /* JSON lines, one per attack request; NULL = none (borrowed) */
    const char *db_path;  /* SQLite store; NULL = no store */
    size_t max_line;      /* longest accepted line in bytes (0 = 64 KiB) */
    enum vg_progress progress;
    FILE *diag;           /* where notes and the progress bar go (borrowed); NULL = nowhere */
    const char *command;  /* the command line, recorded with the run in the store; may be NULL */
    size_t chunk_size;    /* bytes per work unit (0 = 1 MiB); for tests */
    int parse_only;       /* 1: read and parse only (no detection, no events; db_path ignored) */
    FILE *records;        /* parse_only: every parsed line as a JSON object (borrowed), or NULL */
};

#define VG_SCAN_OPTIONS_INIT {0, NULL, NULL, 0, VG_PROGRESS_AUTO, NULL, NULL, 0, 0, NULL}

/*
 * Scans the given inputs in order ("-" is standard input; gzip and zstd are detected from their
 * magic bytes). On VG_OK, *out holds the summary (free with vg_summary_free). Inputs that cannot
 * be opened, or compressed input that turns out corrupt, make the call return VG_E_IO or
 * VG_E_CORRUPT after everything before the damage was counted, stored and summarized: *out is
 * set in that case too. The same inputs give byte-identical events and summaries whatever the
 * thread count.
 */
vg_status vg_scan(const vg_engine_t *eng, const struct vg_scan_options *opt,
                  const char *const *inputs, size_t n_inputs, vg_summary_t **out,
                  struct vg_error *err);

/* Frees a summary; NULL is harmless. */
void vg_summary_free(vg_summary_t *sum);

/*
 * Orders inputs so that each rotated set is read oldest first (access.log.2.gz, access.log.1,
 * access.log; dated access.log-YYYYMMDD[.gz] by date, before the live file). Sets and other
 * files keep the relative order in which they were given. Sorts paths in place (the strings are
 * not copied). Returns VG_OK or VG_E_NOMEM.
 */
vg_status vg_order_inputs(const char **paths, size_t n);

/* Totals of a summary. */
struct vg_totals {
    uint64_t lines;           /* physical lines read */
    uint64_t requests;        /* lines parsed into requests */
    uint64_t malformed;       /* lines that did not parse (counted, sampled, skipped) */
    uint64_t oversize;        /* lines longer than max_line (counted, sampled, skipped) */
    uint64_t attack_requests; /* requests flagged as attacks */
    uint64_t sources;         /* distinct attacking client addresses */
    uint64_t skipped_files;   /* inputs already complete in the store */
};
void vg_summary_totals(const vg_summary_t *sum, struct vg_totals *out);

/* Wall-clock seconds the scan took (not part of the written summaries, which stay identical
   from run to run). */
double vg_summary_elapsed(const vg_summary_t *sum);

/*
 * Writes the per-month summary as text. color: 1 to use ANSI colours. Every byte that came
 * from a log is escaped so that it cannot drive the terminal.
 */
vg_status vg_summary_write_text(const vg_summary_t *sum, FILE *f, int color);

/* Writes the per-month summary as one JSON document. */
vg_status vg_summary_write_json(const vg_summary_t *sum, FILE *f);

/* ---------------------------------------------------------------------------------------- */
/* Reports from the store (`vigil report`).                                                  */

/*
 * What a report covers and how it is written. Filters are text as a user types them (NULL: no
 * filter): since/until "YYYY-MM-DD", "YYYY-MM", "YYYY-MM-DDTHH:MM:SSZ" or unix seconds (until a
 * day or month includes all of it); site the logged host ("-" for requests without one);
 * class a class name ("sqli", "scan", ...); country an ISO code; source an address or a CIDR
 * network (IPv4 or IPv6).
 */
struct vg_report_options {
    const char *db_path;     /* the store (must exist) */
    const char *since, *until;
    const char *site, *class_name, *country, *source;
    const char *labels_path; /* show these labels on sources instead of the stored ones */
    unsigned top;            /* rows of the top lists (0 = 10; VG_REPORT_ALL = every row) */
    int json;                /* 1: one JSON document */
    int color;               /* 1: ANSI colours (text only) */
};

#define VG_REPORT_ALL 0xffffffffu
#define VG_REPORT_OPTIONS_INIT {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0}

/*
 * Writes the report of what the store holds: per month and per site, the four counting units
 * (attack requests, incidents, sources, campaigns) by class, country of the client address,
 * AS and outcome; networks (/24, /48); top sources and top targeted paths; then the campaigns
 * with their member incidents and why they were linked; provenance and the attribution caveat.
 * Every byte from a log is escaped for the terminal or JSON. Errors: VG_E_INVAL (a bad filter,
 * err says which), VG_E_STORE (no store or an unreadable one), VG_E_IO (cannot write).
 */
vg_status vg_report(const struct vg_report_options *opt, FILE *out, struct vg_error *err);

/* ---------------------------------------------------------------------------------------- */
/* One-call convenience: analyze a single log line.                                           */

/*
 * Parses, decodes and scores one log line with the engine's format and rules. On VG_OK,
 * *json_out is the event JSON (no trailing newline) when the line is an attack request, or NULL
 * when it is not; *malformed is 1 when the line does not parse. The caller frees *json_out with
 * vg_free. Thread safety: safe to call concurrently; allocates per call (not for bulk use).
 */
vg_status vg_analyze_line(const vg_engine_t *eng, const uint8_t *line, size_t len,
                          char **json_out, int *malformed);

/*
 * Explains one log line: the parsed fields, the decoded form of every field the detectors read
 * (and what decoding changed), every rule that matched with its field and matched span, the
 * score per class, the verdict and, for an attack request, the event a scan would write.
 * Writes text (json = 0) or one JSON object (json = 1) to f. A line that does not parse is
 * explained too (the reason); the call fails only on output or memory errors.
 */
vg_status vg_explain_line(const vg_engine_t *eng, const uint8_t *line, size_t len, FILE *f,
                          int json);

/*
 * As vg_explain_line for line number line_no (1-based) of a file (plain, gzip or zstd, or "-").
 * VG_E_INVAL with err set when the file has no such line; VG_E_IO / VG_E_CORRUPT on input errors.
 */
vg_status vg_explain_file_line(const vg_engine_t *eng, const char *path, uint64_t line_no,
                               FILE *f, int json, struct vg_error *err);

/* Frees memory returned by the library. NULL is harmless. */
void vg_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* VIGIL_H */
