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
 * Schema version 2 (see docs/internals/store.md): runs, files, month_counts, sources, events,
 * addresses, incidents, campaigns, behave_state, meta. A version-1 store is migrated in place
 * when opened (docs/internals/store.md, "Migrations").
 */
#ifndef VG_STORE_H
#define VG_STORE_H

#include "behave/behave.h"
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
    const char *asn_provenance;   /* ASN database name and date; NULL when none */
    const char *labels_source;    /* the user's label file ("FILE (N networks)"); NULL when none */
    const char *behave_hash;      /* hash of the behaviour configuration; NULL when off */
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
    /* Behaviour: requests still held when the checkpoint was taken (docs/internals/behave.md).
       replay_offset <= offset; equal (and no pending offsets) when none were held. */
    uint64_t replay_offset;
    uint64_t replay_lines; /* lines before replay_offset */
    uint8_t *pending;      /* the held requests' offsets (vg_behave_pending_offsets blob);
                              allocated, caller frees with vg_free; NULL when none */
    size_t pending_len;
};

/* Finds a file by fingerprint. *found = false when unknown. On a hit out->pending is
   allocated (free it with vg_free). */
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

/* Whether the last vg_store_add_event stored a row (false: a line already stored was ignored).
   Counters must only count stored rows. */
bool vg_store_event_inserted(const struct vg_store *st);

/*
 * Records which held (pending) requests of file_id were still undecided at this checkpoint:
 * the offset and line number to resume reading from, and their offsets (blob of
 * vg_behave_pending_offsets; n 0 when none). Call inside the checkpoint's transaction.
 */
vg_status vg_store_file_pending(struct vg_store *st, int64_t file_id, uint64_t replay_offset,
                                uint64_t replay_lines, const uint8_t *blob, size_t n);

/* ---- attribution, incidents, campaigns, behaviour state (schema 2) ----------------------------- */

/* What is known about one client address (upserted; the latest attribution wins). */
struct vg_address_info {
    const char *ip;
    const char *country;    /* "" when unknown */
    uint32_t asn;           /* 0 when unknown */
    const char *as_org;     /* "" when unknown */
    const char *net;        /* /24 or /48 roll-up */
    const char *labels;     /* "a,b"; "" when none */
    int64_t first, last;    /* attack requests seen from it (widened) */
};
vg_status vg_store_put_address(struct vg_store *st, const struct vg_address_info *a);

/* Upserts an incident (all its fields; campaign untouched). */
vg_status vg_store_put_incident(struct vg_store *st, const struct vg_incident *inc);

/* The stored incident of (ip, site) with the latest last_seen. *found false when none. */
vg_status vg_store_find_incident(struct vg_store *st, const char *ip, const char *site,
                                 struct vg_incident *out, bool *found);

/* Whether any incident is stored (a scan only looks incidents up when so). */
vg_status vg_store_has_incidents(struct vg_store *st, bool *any);

/*
 * Recomputes every campaign from the stored incidents (vg_campaigns_build with p) and replaces
 * the campaigns table and incidents.campaign, in one transaction of its own (call outside the
 * scan's transaction). *n_campaigns receives the number found.
 */
vg_status vg_store_rebuild_campaigns(struct vg_store *st, const struct vg_campaign_params *p,
                                     size_t *n_campaigns);

/* A named blob of behaviour state (replaced), and reading it back (*blob allocated, free with
   vg_free; NULL and n 0 when absent). */
vg_status vg_store_put_state(struct vg_store *st, const char *key, const uint8_t *blob, size_t n);
vg_status vg_store_get_state(struct vg_store *st, const char *key, uint8_t **blob, size_t *n);

/* ---- reading for reports (store_query.c) ------------------------------------------------------ */

/* Which rows a report looks at. Zero/NULL fields do not filter. */
struct vg_store_filter {
    int64_t since, until;   /* unix seconds, [since, until); until 0 = no end */
    const char *site;       /* exact logged host; "" = requests without a logged host */
    uint32_t class_mask;    /* any of these classes */
    const char *country;    /* ISO code */
    bool has_source;        /* source: an address or network */
    struct vg_addr source;
    unsigned source_len;    /* prefix length over the 16-byte form */
};

struct vg_event_row {
    int64_t time;
    int32_t month;
    const char *ip;
    const char *site;       /* "" when not logged */
    const char *country;    /* "" when unknown */
    uint32_t asn;
    uint32_t classes;
    const char *outcome;
    bool size_anomaly;
    const char *incident;   /* "" when none */
    struct vg_str target;   /* request-target */
    int32_t status;
};
vg_status vg_store_iter_events(struct vg_store *st, const struct vg_store_filter *f,
                               vg_status (*cb)(void *user, const struct vg_event_row *r),
                               void *user);

struct vg_incident_row {
    struct vg_incident inc;
    int32_t month;
    char campaign[VG_INCIDENT_ID_LEN + 2];
};
vg_status vg_store_iter_incidents(struct vg_store *st, const struct vg_store_filter *f,
                                  vg_status (*cb)(void *user, const struct vg_incident_row *r),
                                  void *user);

struct vg_campaign_row {
    const char *id;
    int64_t first, last;
    uint64_t incidents, sources;
    uint32_t classes, reasons;
    const char *why;
};
vg_status vg_store_iter_campaigns(struct vg_store *st,
                                  vg_status (*cb)(void *user, const struct vg_campaign_row *r),
                                  void *user);

struct vg_address_row {
    const char *ip, *country, *as_org, *net, *labels; /* point into storage */
    uint32_t asn;
    char storage[5][320];
};
/* Looks up one address; *found false when unknown. The strings point into out->storage. */
vg_status vg_store_get_address(struct vg_store *st, const char *ip, struct vg_address_row *out,
                               bool *found);

/* Requests and malformed lines per month over all files (filter: since/until only). */
vg_status vg_store_iter_months(struct vg_store *st, const struct vg_store_filter *f,
                               vg_status (*cb)(void *user, int32_t month, uint64_t requests,
                                               uint64_t malformed),
                               void *user);

/* Distinct provenance texts of the runs (geo, asn, rules, labels), with counts of runs. */
struct vg_store_summary {
    uint64_t runs, files;
    char geo[512], asn[256], rules[80], labels[320], behave[80];
    int64_t first_run, last_run;
};
vg_status vg_store_summary_info(struct vg_store *st, struct vg_store_summary *out);

#endif /* VG_STORE_H */
