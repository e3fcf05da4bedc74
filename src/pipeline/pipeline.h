/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline.h: the engine object behind vigil.h and the pieces of the scan pipeline shared by its
 * files: the reader cuts input into chunks at line boundaries, worker threads parse, decode and
 * detect each chunk into a chunk result, and the consumer (the calling thread) takes results in
 * input order for attribution, events, the store and the summary.
 */
#ifndef VG_PIPELINE_H
#define VG_PIPELINE_H

#include "attrib/attrib.h"
#include "behave/behave.h"
#include "core/core.h"
#include "core/event.h"
#include "detect/detect.h"
#include "ingest/ingest.h"

_Static_assert(VG_CLASS_COUNT <= VG_EVENT_CLASSES, "VG_EVENT_CLASSES too small");

struct vg_engine {
    /* The configured format; with `auto`, a borrowed candidate (combined) for lines read out of
       context. Inputs of a scan use vg_format_detect on fmts instead. */
    const struct vg_format *fmt;
    struct vg_format *fmt_owned;  /* the compiled configured format (NULL with auto) */
    struct vg_format_set *fmts;   /* auto: the candidates, else NULL */
    const char *format_name;      /* "auto" or the configured format's name */
    char *format_spec;            /* --format-from: the specification read from the config */
    struct vg_detector *det;
    struct vg_geo *geo; /* NULL without geolocation */
    struct vg_behave_config *behave; /* NULL with --no-behave */
    struct vg_asn *asn;              /* NULL without AS data */
    struct vg_labels *labels;        /* NULL without --labels */
    int64_t incident_gap;
};

/*
 * The format for one line read out of context (vg_analyze_line, explain): the configured one,
 * or with `auto` the candidate that fits the line (eng->fmt when none does).
 */
const struct vg_format *vg_engine_line_format(const struct vg_engine *eng, const uint8_t *line,
                                              size_t len);

/* One attack request found by a worker: views into the chunk's data and result arena. */
struct vg_attack_rec {
    uint64_t rel_line;  /* 0-based line index within the chunk */
    uint64_t offset;    /* absolute offset of the line */
    struct vg_request req;
    int score;
    int class_scores[VG_EVENT_CLASSES]; /* per enum vg_class */
    uint32_t classes;
    unsigned decode_flags;
    unsigned n_hits;
    struct vg_event_hit *hits;
};

/* A line that did not parse or was too long, kept as a sample. */
struct vg_bad_rec {
    uint64_t rel_line;
    uint64_t offset;
    const char *reason;
    struct vg_str text; /* first bytes, copied into the result arena */
};

/* Per-month request counts of a chunk. */
struct vg_month_count {
    int32_t month;
    uint64_t requests;
    uint64_t malformed;
};

#define VG_CHUNK_MONTHS 8
#define VG_CHUNK_BAD_SAMPLES 4

/*
 * Builds an event from an attack record (consumer side). The event borrows from rec and from
 * the given strings; it is valid as long as they are.
 */
void vg_pipeline_make_event(const struct vg_engine *eng, const struct vg_attack_rec *rec,
                            uint64_t line_no, const char *file_path, int64_t file_id,
                            struct vg_event *ev);

/*
 * The per-class scores of an event (vigil.scores) from its hits (rule ids; a `group` adds its
 * highest score once); what `score` holds beyond them (behaviour detections) goes to the class
 * named behave_class (when not NULL). out has VG_EVENT_CLASSES entries.
 */
void vg_pipeline_class_scores(const struct vg_engine *eng, const struct vg_event_hit *hits,
                              unsigned n_hits, int score, const char *behave_class, int *out);

/*
 * Worker side: analyzes one parsed request; on an attack copies what the event needs (hits,
 * matched bytes, field names) into arena and fills *rec. Returns VG_OK with *is_attack set.
 */
vg_status vg_pipeline_analyze(const struct vg_engine *eng, struct vg_detect_scratch *scratch,
                              const struct vg_request *req, struct vg_arena *arena,
                              struct vg_attack_rec *rec, bool *is_attack);

#endif /* VG_PIPELINE_H */
