/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event.h: the attack event, the one immutable result model that every writer reads (JSON lines,
 * store, reports). Built by the pipeline's consumer after attribution, in input order.
 *
 * The JSON form follows DESIGN.md section 4 (Elastic Common Schema names where one exists) and is
 * versioned by vigil.schema ("1"). Every string that came from a log is escaped; invalid UTF-8
 * becomes U+FFFD in JSON (the raw bytes stay in the store).
 */
#ifndef VG_EVENT_H
#define VG_EVENT_H

#include "core/core.h"

#define VG_EVENT_SCHEMA "1"
#define VG_EVENT_CLASSES 16 /* room for enum vg_class (checked in pipeline.h) */

struct vg_event_hit {
    uint32_t rule_id;
    const char *message;   /* the rule's message */
    const char *class_name;
    struct vg_str field;   /* "path", "args:q", "user_agent", ... */
    struct vg_str match;   /* the matched bytes, as the rule saw them (after transform) */
    const char *transform; /* "decoded", "raw" or the transformation chain ("urlDecodeUni,
                              lowercase"; "none") */
    struct vg_str detail;  /* lexer rules: what the lexer recognised ("sqli single-quote
                              tautology s&n=nc"); empty for regex rules */
    const char *author;    /* the rule's `author`, NULL when none */
};

/* A behaviour detection of an event: which detector, its class, and why (vigil.detections). */
struct vg_event_detection {
    const char *detector;       /* "forced-browsing", "brute-force", ... */
    const char *class_name;     /* "scan", "bruteforce", ... */
    const char *why;            /* e.g. "412 misses (HTTP 404 and the like) on 409 distinct paths" */
};

struct vg_event {
    int64_t time;               /* unix seconds UTC */
    struct vg_addr addr;
    char ip[46];                /* canonical text of addr */
    char country[3];            /* ISO 3166-1 alpha-2, "" when unknown */
    struct vg_str method;
    struct vg_str host;         /* logged virtual host, may be empty */
    struct vg_str target;       /* request-target as logged */
    struct vg_str protocol;
    struct vg_str user_agent;
    struct vg_str referer;
    struct vg_str raw_line;     /* the log line as read (no terminator) */
    int32_t status;             /* -1 when not logged */
    int64_t bytes;              /* -1 when not logged */
    int score;
    const int *class_scores;    /* per class (enum vg_class, VG_EVENT_CLASSES entries): the
                                   score each class adds up to; NULL when not known */
    uint32_t classes;           /* bit (1u << enum vg_class) */
    unsigned decode_flags;      /* VG_DEC_* */
    const char *outcome;        /* vg_outcome_name() */
    unsigned n_hits;
    const struct vg_event_hit *hits;
    const char *file_path;      /* the input as named by the user ("-" for stdin) */
    int64_t file_id;            /* store id of the file, 0 without store */
    uint64_t offset;            /* byte offset of the line in the decompressed input */
    uint64_t line_no;           /* 1-based */
    /* attribution beyond the country, and behaviour (behave/); zero/NULL when not known */
    uint32_t asn;               /* AS number, 0 when unknown */
    const char *as_org;         /* AS organisation, NULL when unknown */
    const char *asn_provenance; /* ASN database name and date, NULL when none */
    const char *labels;         /* the user's labels of the address ("tor-exit,cloud"), or NULL */
    const char *net;            /* /24 or /48 roll-up of the address, or NULL */
    const char *incident;       /* incident id, or NULL when incidents are not tracked */
    const char *tool;           /* attack tool the source was identified as, or NULL */
    unsigned n_detections;
    const struct vg_event_detection *detections;
    int size_anomaly;           /* 1: a 2xx answer unusually large or small for its path */
    char net_buf[64];           /* storage net and labels may point into */
    char labels_buf[96];
};

/* "possible-success" (2xx/3xx), "refused" (4xx), "failed" (5xx), "unknown" (else). */
const char *vg_outcome_name(int32_t status);

/*
 * Appends the event as one JSON object and a newline to out. geo_provenance names the country
 * database (may be NULL). Class names come from detect/.
 */
VG_NODISCARD vg_status vg_event_write_json(const struct vg_event *ev, const char *geo_provenance,
                                           struct vg_buf *out);

#endif /* VG_EVENT_H */
