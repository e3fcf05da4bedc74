/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h: the result store (SQLite, WAL). Written by the pipeline's consumer thread only.
 *
 * Exactly-once: events, counts and each file's read position are written in one transaction per
 * checkpoint, so a killed scan resumes at the last committed offset without missing or
 * double-counting anything. Files are identified by a fingerprint of their first bytes (BLAKE2b
 * over the first fp_len decompressed bytes), so a rotated file (access.log -> access.log.1) is
 * recognised under its new name.
 *
 * Schema (see docs/internals/store.md): runs, files, month_counts, sources, events, meta.
 */
#ifndef VG_STORE_H
#define VG_STORE_H

#include "core/core.h"
#include "core/event.h"

#define VG_FP_MAX 1024 /* bytes of a file's start that identify it */

struct vg_store;

/* Opens (creating if needed) the store at path. err says why it cannot. */
vg_status vg_store_open(const char *path, struct vg_store **out, struct vg_error *err);
/* Closes the store, rolling back an open transaction. NULL is harmless. */
void vg_store_close(struct vg_store *st);
/* Last SQLite error text of this handle (borrowed until the next call). */
const char *vg_store_errmsg(const struct vg_store *st);

struct vg_run_info {
    const char *vigil_version;
    const char *ruleset_hash;
    const char *geo_provenance;
    const char *format;
    const char *command;   /* the command line, for the record */
    int64_t started;       /* unix seconds */
};

vg_status vg_store_run_begin(struct vg_store *st, const struct vg_run_info *info,
                             int64_t *run_id);
/* status: "ok", "input-error", "interrupted" ... */
vg_status vg_store_run_end(struct vg_store *st, int64_t run_id, const struct vg_totals *t,
                           const char *status);

/* Distinct fingerprint lengths of the known files (at most cap; *n set). */
vg_status vg_store_fp_lengths(struct vg_store *st, size_t *lens, size_t cap, size_t *n);

struct vg_file_state {
    int64_t file_id;
    uint64_t offset;   /* decompressed bytes committed */
    uint64_t lines;    /* lines committed */
    bool complete;     /* the file was read to its end at that offset */
};

/* Finds a file by fingerprint. *found = false when unknown. */
vg_status vg_store_file_find(struct vg_store *st, const uint8_t hash[32], size_t fp_len,
                             struct vg_file_state *out, bool *found);

/* Records a new file (offset 0). */
vg_status vg_store_file_add(struct vg_store *st, int64_t run_id, const char *path,
                            const uint8_t hash[32], size_t fp_len, const char *format,
                            const char *compression, int64_t *file_id);

/* Updates the path under which a known file was last seen and resets it to offset 0 when
   restart is true (a --rescan). */
vg_status vg_store_file_touch(struct vg_store *st, int64_t file_id, int64_t run_id,
                              const char *path, bool restart);

/* Transactions: the consumer opens one, adds, and commits at each checkpoint. */
vg_status vg_store_begin(struct vg_store *st);
vg_status vg_store_commit(struct vg_store *st);
vg_status vg_store_rollback(struct vg_store *st);

/* Adds one event (columns, the event JSON and the raw line bytes). */
vg_status vg_store_add_event(struct vg_store *st, int64_t run_id, const struct vg_event *ev,
                             const uint8_t *json, size_t json_len);

/* Adds deltas to the per-file, per-month counters (upsert). */
vg_status vg_store_add_month(struct vg_store *st, int64_t file_id, int32_t month,
                             uint64_t requests, uint64_t attacks, uint64_t malformed);

/* Adds deltas to an attacking source's per-month row (upsert; first/last widen). */
vg_status vg_store_add_source(struct vg_store *st, int32_t month, const char *ip,
                              const char *country, uint64_t attacks, int64_t first,
                              int64_t last);

/* Records how far a file has been read (call inside the checkpoint's transaction). */
vg_status vg_store_file_progress(struct vg_store *st, int64_t file_id, uint64_t offset,
                                 uint64_t lines, bool complete);

#endif /* VG_STORE_H */
