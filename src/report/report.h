/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.h: the scan summary (per month: requests, attack requests, attacking sources, classes,
 * countries, top sources, top targeted paths) built by the pipeline's consumer, and its text and
 * JSON writers (vg_summary_write_text / vg_summary_write_json in vigil.h).
 *
 * Only the consumer thread mutates a summary, in input order, so the result is deterministic
 * whatever the number of worker threads. Memory is bounded by the number of distinct attacking
 * sources (exact counts) and by a fixed number of tracked paths per month (space-saving top-k:
 * exact while a month has fewer distinct attacked paths than VG_TOP_PATHS_TRACKED).
 */
#ifndef VG_REPORT_H
#define VG_REPORT_H

#include "core/core.h"
#include "core/event.h"

#define VG_TOP_PATHS_TRACKED 512
#define VG_TOP_SHOWN 10
#define VG_MALFORMED_SAMPLES 10

enum vg_file_status { VG_FILE_OK = 0, VG_FILE_SKIPPED, VG_FILE_ERROR };

struct vg_summary_file {
    char *path;
    const char *compression;  /* "none", "gzip", "zstd" */
    uint64_t lines, requests, malformed, oversize, attacks;
    uint64_t resumed_at_line;  /* lines already in the store before this scan */
    enum vg_file_status status;
    char *error;               /* message when status is VG_FILE_ERROR */
    char *format;              /* the log format read (configured or detected); NULL if none */
};

vg_status vg_summary_new(vg_summary_t **out);

/* Provenance shown in reports (copied). */
vg_status vg_summary_set_provenance(vg_summary_t *sum, size_t rules, const char *ruleset_hash,
                                    const char *geo, const char *format);

/* Adds an input; returns its index in *idx. */
vg_status vg_summary_add_file(vg_summary_t *sum, const char *path, const char *compression,
                              size_t *idx);
struct vg_summary_file *vg_summary_file(vg_summary_t *sum, size_t idx);

/* Adds n requests (and m malformed lines) of a month (vg_month_key; -1 = unknown month). */
vg_status vg_summary_add_month_requests(vg_summary_t *sum, int32_t month, uint64_t requests,
                                        uint64_t malformed);

/* Adds one attack request (path: the request path as logged). */
vg_status vg_summary_add_attack(vg_summary_t *sum, const struct vg_event *ev, struct vg_str path);

/* Keeps a sample of a malformed or oversize line (the first VG_MALFORMED_SAMPLES only). */
vg_status vg_summary_add_sample(vg_summary_t *sum, size_t file_idx, uint64_t line_no,
                                uint64_t offset, const char *reason, struct vg_str text);

/* Adds to the line counters of the totals. */
void vg_summary_add_totals(vg_summary_t *sum, uint64_t lines, uint64_t requests,
                           uint64_t malformed, uint64_t oversize);
void vg_summary_count_skipped_file(vg_summary_t *sum);

/* Seconds the scan took (for the throughput line of the text report). */
void vg_summary_set_elapsed(vg_summary_t *sum, double seconds);

/* What the behaviour stage held (docs/internals/behave.md): shown so memory use is visible. */
struct vg_summary_behaviour {
    uint64_t sources_peak;  /* sources tracked at once, at most */
    uint64_t pending_peak;  /* requests held back at once, at most */
    uint64_t expired;       /* sources dropped when idle */
    uint64_t evicted;       /* sources dropped at the max_sources cap */
    uint64_t forced;        /* held requests decided early (budget, cap, age) */
    uint64_t incidents;     /* incidents opened by this scan */
};
void vg_summary_set_behaviour(vg_summary_t *sum, const struct vg_summary_behaviour *b);

#endif /* VG_REPORT_H */
