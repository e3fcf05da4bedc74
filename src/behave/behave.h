/* SPDX-License-Identifier: Apache-2.0 */
/*
 * behave.h: behaviour detection (fourth pipeline stage): forced browsing, sensitive-file and
 * admin-panel probing, credential brute force, floods, parameter sweeps (fuzzers) and
 * attack-tool fingerprints over a compact observation of *every* request, per source and per
 * site; then incidents (runs of attack requests from one source against one site) and
 * campaigns (incidents linked by shared traits). The full design, with the reasons and the
 * exactly-once argument, is in docs/internals/behave.md.
 *
 * Three parts, three threads of use:
 *
 *  - vg_behave_config: thresholds, windows and lists, read from config/behave.conf (built in)
 *    and an optional user file; immutable once built, shared by every thread.
 *  - vg_behave_observe (worker threads, stateless): turns one parsed request into a fixed-size
 *    struct vg_obs (hashes, feature bits, matched list entries). No allocation; a small per-thread
 *    vg_behave_scratch caches user-agent and path answers.
 *  - vg_behave (the consumer thread, in input order): per-source and per-site state that expires
 *    when idle, detectors with episodes, a bounded buffer of held ("pending") requests so that a
 *    detection covers the requests of its burst that came before the threshold was crossed, and
 *    an emit callback for every request that becomes an attack request.
 *
 * Ordering: the callback is called in *emission* order. A request that no open episode is still
 * judging is emitted at once; one that an open episode may still flag is held and emitted when
 * every episode judging it has decided (fired or closed). So events are in input order per
 * source and otherwise by emission; log.line / log.offset give the input position. Everything
 * depends only on the input, never on thread timing.
 *
 * Usage (consumer):
 *     struct vg_behave_env env = {cfg, asn_db, my_emit, my_ctx};
 *     struct vg_behave *b; vg_behave_new(&env, &b);
 *     for each request in input order: vg_behave_feed(b, &req);    // may call my_emit 0..n times
 *     at a checkpoint: vg_behave_pending_oldest / _pending_offsets / _export_state
 *     at the end: vg_behave_finish(b, keep_pending);
 *     vg_behave_free(b);
 */
#ifndef VG_BEHAVE_H
#define VG_BEHAVE_H

#include "attrib/attrib.h"
#include "core/core.h"
#include "core/event.h"
#include "ingest/ingest.h"

/* ---- detectors ------------------------------------------------------------------------------ */

enum vg_detector_id {
    VG_DET_SCAN = 0, /* "forced-browsing" -> class scan */
    VG_DET_PROBE,    /* "sensitive-probe" -> class probe */
    VG_DET_BRUTE,    /* "brute-force"     -> class bruteforce */
    VG_DET_FLOOD,    /* "flood"           -> class flood */
    VG_DET_TOOL,     /* "tool-fingerprint" -> class tool */
    VG_DET_FUZZ,     /* "fuzz"            -> the class of the sweep's injection hits */
    VG_DET_COUNT
};

/* "forced-browsing", ...; NULL when out of range. */
const char *vg_detector_name(enum vg_detector_id d);
/* The class (enum vg_class of detect.h) a detector gives its requests; -1 for VG_DET_FUZZ,
   whose class is that of each sweep (struct vg_behave_detection.cls). */
int vg_detector_class(enum vg_detector_id d);

/* ---- configuration --------------------------------------------------------------------------- */

/* Kinds of path patterns (config syntax in config/behave.conf). */
/* Kinds of path patterns (config syntax in config/behave.conf):
 *   EXACT   "/a/b"        the path, exactly
 *   PREFIX  "/a/b" + "/" + "*"   /a/b or anything below /a/b/ (text kept: "/a/b")
 *   NAME    "*" + "/name" the last segment equals name, at any depth (text kept: "name")
 *   SUFFIX  "*.sql"       the path ends with ".sql" (text kept: ".sql")
 *   GLOB    anything else with '*' (text kept: the whole pattern)
 *   QUERY   "?do=login"   the query holds this argument, name=value or just name
 *   NAME_PREFIX "*" + "/name*"  the last segment starts with name (text kept: "name") */
enum vg_pat_kind { VG_PAT_EXACT = 0, VG_PAT_PREFIX, VG_PAT_NAME, VG_PAT_SUFFIX, VG_PAT_GLOB,
                   VG_PAT_QUERY, VG_PAT_NAME_PREFIX };

struct vg_pat {
    char *text;  /* lower case, as written after the kind's marker */
    char *desc;  /* what it is, for "why" texts ("" when not given) */
    size_t len;  /* strlen(text) */
    uint8_t kind;
};

/* A compiled list of path patterns. Matching is O(path segments) plus the few SUFFIX/GLOB/
   QUERY patterns; exact, prefix and name patterns are hashed. */
struct vg_patset {
    struct vg_pat *p;
    size_t n, cap;
    uint32_t *slots; /* open addressing: pattern index + 1 for EXACT, PREFIX, NAME */
    size_t cap_slots;
    uint32_t *linear; /* indices of SUFFIX patterns by their last byte, then GLOB, QUERY and
                         NAME_PREFIX ones */
    size_t n_linear;
    uint16_t sfx_at[257]; /* SUFFIX patterns ending in byte c: linear[sfx_at[c] .. sfx_at[c+1]) */
    size_t n_sfx;
    /* Performance note: one bit per key of each hashed kind (EXACT, PREFIX by its first
       segment, NAME), so that a path none of the set's patterns can match costs three bit
       tests instead of a probe per prefix. */
    uint64_t filter[3][16];
};

/* A set of lower-case words (wordlist, user-name fields). */
struct vg_wordset {
    uint64_t *keys; /* hashes; 0 = empty */
    size_t cap, n;
};

/* Purposes of attack tools: what a tool is for, to tell e.g. sqlmap's login-form POSTs (SQL
   injection) from a password guesser's. */
enum vg_tool_purpose {
    VG_TOOL_ANY = 0, /* a general fuzzer or framework (wfuzz, Burp): may do anything */
    VG_TOOL_SQLI,
    VG_TOOL_SCAN,    /* content discovery and vulnerability scanners */
    VG_TOOL_BRUTE,   /* password guessers */
    VG_TOOL_RECON    /* port scanners and banner grabbers */
};

/* One signal of a tool: a user-agent substring or exact value, a path, a path prefix, or a
   query substring. Strong signals identify the tool alone; weak ones need a second. */
enum vg_signal_kind { VG_SIG_UA_SUB = 0, VG_SIG_UA_EXACT, VG_SIG_PATH, VG_SIG_PATH_PREFIX,
                      VG_SIG_QUERY_SUB };

struct vg_tool_signal {
    char *text; /* lower case except VG_SIG_UA_EXACT */
    size_t len;
    uint16_t tool;
    uint8_t kind;
    bool weak;
};

#define VG_BEHAVE_MAX_TOOLS 64
#define VG_BEHAVE_MAX_WEAK 32
#define VG_BEHAVE_MAX_AGENTS 128

struct vg_behave_tool {
    char name[32];
    uint8_t purpose;
};

enum vg_agent_kind { VG_AGENT_CRAWLER = 1, VG_AGENT_MONITOR = 2 };

struct vg_behave_agent {
    char name[32];
    char ua[64];     /* lower-case substring of the user agent */
    uint8_t kind;
    uint32_t asn[8]; /* the operator's AS numbers; none: not verifiable, trusted by name */
    uint8_t n_asn;
};

/* The behaviour configuration: every threshold, window and list (see config/behave.conf for
   the meaning and the default of each). Durations in seconds. */
struct vg_behave_config {
    /* [behave] */
    int64_t idle;
    size_t max_sources;
    size_t pending_per_source;
    size_t pending_budget; /* bytes */
    int64_t max_pending_age;
    size_t max_sites;
    /* [scan] forced browsing */
    int64_t scan_gap;
    unsigned scan_min_distinct;
    double scan_min_misses;
    double scan_referer_weight;
    double scan_min_ratio;
    unsigned scan_min_wordlist;
    uint8_t miss_status[128]; /* bit per HTTP status 0..1023 */
    int scan_score;
    struct vg_wordset wordlist;
    /* [probe] */
    int probe_score;
    unsigned admin_min_panels;
    struct vg_patset sensitive, admin, wordpress, wordpress_marker;
    /* [bruteforce] */
    int64_t brute_gap;
    unsigned brute_min_failures;
    unsigned brute_min_usernames;
    unsigned dist_min_sources;
    unsigned dist_min_failures;
    int brute_score;
    struct vg_patset login;
    struct vg_wordset username_fields;
    /* [flood] */
    int64_t flood_window;
    unsigned flood_min;
    unsigned flood_spike_min;
    int64_t flood_burst_window; /* a short burst: burst_min identical answers within it */
    unsigned flood_burst_min;
    double site_factor;
    unsigned site_min;
    int flood_score;
    /* [fuzz] parameter sweeps */
    int64_t fuzz_gap;
    int64_t fuzz_window;
    unsigned fuzz_min_values;
    unsigned fuzz_min_hits;
    double fuzz_min_hit_share;
    double fuzz_min_same_rest;
    int fuzz_score;
    /* [outcome] */
    double size_factor;
    unsigned size_min_samples;
    /* [incident] */
    int64_t incident_gap;
    /* [campaign] */
    int64_t campaign_window;
    int64_t network_window;
    double family_min_jaccard;
    unsigned family_min_rules;
    /* [tools] and [agents] */
    int tool_score;
    struct vg_behave_tool tools[VG_BEHAVE_MAX_TOOLS];
    size_t n_tools;
    struct vg_tool_signal *signals; /* strong first, then weak (bit i of vg_obs.tool_weak is
                                       weak signal i) */
    size_t n_signals, n_strong, cap_signals;
    uint16_t path_signals[VG_BEHAVE_MAX_TOOLS * 4]; /* indices of path= path^ query~ signals */
    size_t n_path_signals;
    struct vg_behave_agent agents[VG_BEHAVE_MAX_AGENTS];
    size_t n_agents;
    /* provenance: BLAKE2b-256 hex of the effective configuration text */
    char hash[65];
};

/*
 * Builds a configuration: the built-in defaults (config/behave.conf, compiled in), then the
 * file at path when not NULL (see the syntax there: a setting replaces the default; a list key
 * replaces the default list unless written "key += value"). On error err names the file, the
 * line and the problem. Caller frees *out with vg_behave_config_free.
 */
vg_status vg_behave_config_new(const char *path, struct vg_behave_config **out,
                               struct vg_error *err);

/* As vg_behave_config_new with the user text given in memory (name for messages). */
vg_status vg_behave_config_from_text(const uint8_t *text, size_t n, const char *name,
                                     struct vg_behave_config **out, struct vg_error *err);

void vg_behave_config_free(struct vg_behave_config *cfg);

/* The built-in default configuration text (config/behave.conf). */
const char *vg_behave_default_text(size_t *len);

/* Matches a lower-case path (and raw query) against a pattern set: pattern index + 1, or 0. */
uint32_t vg_patset_match(const struct vg_patset *s, const uint8_t *path, size_t n,
                         struct vg_str query);
bool vg_wordset_has(const struct vg_wordset *w, const uint8_t *s, size_t n);

/* ---- observations (worker side) -------------------------------------------------------------- */

/* vg_obs.feat bits */
enum {
    VG_OBS_GET = 1u << 0,
    VG_OBS_HEAD = 1u << 1,
    VG_OBS_POST = 1u << 2,
    VG_OBS_REFERER = 1u << 3,      /* a referer was logged */
    VG_OBS_MISS = 1u << 4,         /* status in [scan] miss_status */
    VG_OBS_OK = 1u << 5,           /* 2xx or 3xx */
    VG_OBS_2XX = 1u << 6,
    VG_OBS_LOGIN = 1u << 7,        /* a credential attempt: POST to a login endpoint, or a
                                      request answered 401 with a user name */
    VG_OBS_LOGIN_FAIL = 1u << 8,   /* ... that was not accepted (no redirect) */
    VG_OBS_WORDLIST = 1u << 9,     /* the last path segment (without extension) is a common
                                      content-discovery word */
    VG_OBS_SENSITIVE = 1u << 10,   /* probe: a sensitive file (probe = pattern + 1) */
    VG_OBS_ADMIN = 1u << 11,       /* probe: an admin panel */
    VG_OBS_WORDPRESS = 1u << 12,   /* probe: a WordPress path */
    VG_OBS_WP_MARKER = 1u << 13,   /* a path that shows a site runs WordPress */
    VG_OBS_INJECTION = 1u << 14,   /* signature classes include an injection class */
    VG_OBS_HAS_ADDR = 1u << 15,    /* addr is valid */
    VG_OBS_HAS_TIME = 1u << 16
};

/* One parameter of a request (query string, or a logged urlencoded body), for the parameter
   sweep detector: hashes only. */
#define VG_OBS_ARGS 8
struct vg_obs_arg {
    uint32_t key;    /* hash of (method, path, query or body, parameter name); never 0 */
    uint32_t val;    /* hash of the value as logged; never 0 */
    uint16_t pre[3]; /* 16-bit hashes of the value without its last 1, 2, 3 bytes (0: shorter,
                        or too long to tell), comparable with (uint16_t)val: typing one more
                        character into a search-as-you-type box is not a new value */
    uint16_t pad;
};

/* A compact observation of one request (fixed size, no pointers): hashes and feature bits. The
   fields an event would show travel beside it (vg_behave_req.req). */
struct vg_obs {
    struct vg_addr addr;
    int64_t time;
    uint64_t offset;     /* absolute offset of the line in the decompressed input */
    uint64_t path_hash;  /* the path as logged (no query) */
    uint64_t stem_hash;  /* the lower-case decoded path without its last extension */
    uint64_t ua_hash;    /* exact user agent; 0 when none */
    uint64_t host_hash;  /* logged virtual host; 0 when none */
    uint64_t user_hash;  /* user name of a login attempt; 0 when unknown */
    int64_t bytes;       /* -1 when not logged */
    int32_t status;      /* -1 when not logged */
    uint32_t rel_line;   /* line index within its chunk */
    uint32_t line_len;
    uint32_t attack;     /* chunk attack record index + 1; 0 when no signature fired */
    uint32_t sig_classes;
    uint32_t feat;       /* VG_OBS_* */
    uint32_t tool_weak;  /* bit i: weak tool signal i matched */
    uint16_t tool;       /* tool index + 1 of a strong signal; 0 none */
    uint16_t agent;      /* crawler/monitor index + 1 by user agent; 0 none */
    uint16_t probe;      /* pattern index + 1 in the list named by the SENSITIVE/ADMIN/WORDPRESS
                            bit */
    uint16_t ext;        /* short hash of the last extension; 0 none */
    uint8_t n_args;      /* parameters in args (the first VG_OBS_ARGS of query, then body);
                            entries from n_args on are undefined */
    struct vg_obs_arg args[VG_OBS_ARGS];
};

/* Per-thread scratch of vg_behave_observe (user-agent and path answer caches). */
struct vg_behave_scratch;
vg_status vg_behave_scratch_new(struct vg_behave_scratch **out);
void vg_behave_scratch_free(struct vg_behave_scratch *s);

/*
 * Fills *o from a parsed request (req->line must be the line; req->offset set). sig_classes:
 * the signature classes when the request is a signature attack, else 0. Never allocates.
 * Thread safety: cfg shared, s per thread.
 */
void vg_behave_observe(const struct vg_behave_config *cfg, struct vg_behave_scratch *s,
                       const struct vg_request *req, uint32_t sig_classes, struct vg_obs *o);

/* ---- the stage (consumer side) --------------------------------------------------------------- */

/* A signature verdict handed to the stage (NULL/zero when the request is not one). */
struct vg_behave_sig {
    int score;
    uint32_t classes;
    unsigned decode_flags;
    unsigned n_hits;
    const struct vg_event_hit *hits;
};

struct vg_behave_detection {
    uint8_t detector;  /* enum vg_detector_id */
    int cls;           /* the class it gives (enum vg_class) */
    const char *why;   /* borrowed for the callback */
};

/* One attack request leaving the stage. Everything is borrowed for the callback. */
struct vg_behave_emit {
    struct vg_str line;       /* the raw line */
    struct vg_request req;    /* the fields an event shows (method, host, target, protocol, user
                                 agent, referer, time, address, status, bytes): views into the
                                 chunk (live) or into the held copy */
    uint64_t offset, line_no;
    uint32_t file_no;
    bool live;                /* it is the request of the current vg_behave_feed call */
    const struct vg_obs *obs;
    struct vg_behave_sig sig; /* the signature part (n_hits 0 when behaviour only) */
    uint32_t classes;         /* behaviour classes (bit 1 << enum vg_class) */
    int score;                /* behaviour score */
    unsigned n_det;
    struct vg_behave_detection det[VG_DET_COUNT];
    bool size_anomaly;        /* 2xx answer unusually large or small for its path */
    const char *tool;         /* the tool the source was identified as, or NULL */
};

typedef vg_status (*vg_behave_emit_fn)(void *user, const struct vg_behave_emit *e);

struct vg_behave_env {
    const struct vg_behave_config *cfg;
    const struct vg_asn *asn; /* to verify crawlers by AS number; may be NULL */
    vg_behave_emit_fn emit;
    void *user;
};

enum vg_feed_mode {
    VG_FEED_NORMAL = 0,
    VG_FEED_REPLAY, /* a line already accounted for before a restart: rebuilds per-source
                       state only; never emitted, never held as pending evidence */
    VG_FEED_REVIVE  /* a line that was pending at the last checkpoint: judged again, may be
                       emitted; site state (already restored) is not updated */
};

struct vg_behave_req {
    const struct vg_obs *obs;
    const struct vg_request *req; /* the parsed request (borrowed for the call) */
    struct vg_str line;      /* raw line (borrowed for the call) */
    struct vg_str host;      /* the site name as logged (may be empty) */
    uint64_t line_no;
    uint32_t file_no;
    const struct vg_behave_sig *sig; /* NULL when not a signature attack */
    enum vg_feed_mode mode;
};

struct vg_behave;

vg_status vg_behave_new(const struct vg_behave_env *env, struct vg_behave **out);
void vg_behave_free(struct vg_behave *b);

/*
 * Feeds one request (in input order). Calls env->emit for this request and/or earlier held
 * requests that became attack requests. A request without an address only passes its
 * signature verdict through. Errors: VG_E_NOMEM, or what emit returned.
 */
vg_status vg_behave_feed(struct vg_behave *b, const struct vg_behave_req *r);

/*
 * End of input. Emits every held request that is already an attack request (a still-open
 * episode can only add classes to it). keep_pending: the other held requests stay pending (a
 * later run with a store resumes them); else they are dropped.
 */
vg_status vg_behave_finish(struct vg_behave *b, bool keep_pending);

/* Counters, for tests, the bench and the docs. */
struct vg_behave_stats {
    size_t sources;        /* tracked now */
    size_t sources_peak;
    size_t exts;           /* sources with detector state now */
    size_t sweeps;         /* sources with parameter sweep state now */
    size_t pending;        /* held requests now */
    size_t pending_peak;
    size_t pending_bytes;
    size_t sites;
    uint64_t expired;      /* sources dropped when idle */
    uint64_t evicted;      /* sources dropped for max_sources */
    uint64_t forced;       /* held requests resolved early (budget, cap, age) */
    uint64_t emitted;
};
void vg_behave_get_stats(const struct vg_behave *b, struct vg_behave_stats *out);

/* ---- checkpoints (exactly-once: docs/internals/behave.md) -------------------------------------- */

/* The oldest held request of input file_no: its offset and 1-based line number. false: none. */
bool vg_behave_pending_oldest(const struct vg_behave *b, uint32_t file_no, uint64_t *offset,
                              uint64_t *line_no);

/* Appends the offsets of file_no's held requests (ascending, LEB128 deltas) to out. */
vg_status vg_behave_pending_offsets(const struct vg_behave *b, uint32_t file_no,
                                    struct vg_buf *out);

/* Decodes such a blob into a sorted array (caller frees with vg_free). VG_E_CORRUPT on bad
   data. */
vg_status vg_behave_offsets_decode(const uint8_t *blob, size_t n, uint64_t **out,
                                   size_t *count);

/*
 * The state that outlives a checkpoint besides held requests: detections in progress (fired
 * episodes per source) and what the stage learned about each site (known paths, WordPress,
 * traffic baseline, response sizes). Appended to out as one versioned blob; import restores it
 * into a fresh stage before the replay of a resumed scan.
 */
vg_status vg_behave_export_state(const struct vg_behave *b, struct vg_buf *out);
vg_status vg_behave_import_state(struct vg_behave *b, const uint8_t *blob, size_t n);

/* ---- incidents -------------------------------------------------------------------------------- */

#define VG_INCIDENT_ID_LEN 16 /* hex characters */
#define VG_INCIDENT_RULES 16

/* outcome counters of an incident, by vg_outcome_name order */
enum { VG_OUT_SUCCESS = 0, VG_OUT_REFUSED, VG_OUT_FAILED, VG_OUT_UNKNOWN, VG_OUT_COUNT };

struct vg_incident {
    char id[VG_INCIDENT_ID_LEN + 1];
    struct vg_addr addr;
    char ip[46];
    char site[256];           /* logged host ("" when not logged) */
    int64_t first, last;
    uint64_t attacks;
    uint32_t classes;
    uint32_t detectors;       /* bit per enum vg_detector_id */
    uint64_t outcomes[VG_OUT_COUNT];
    char tool[32];            /* identified tool, "" when none */
    uint64_t ua_hash;         /* user agent of the first attack request */
    uint32_t rules[VG_INCIDENT_RULES]; /* signature rule ids seen (first 16, sorted) */
    unsigned n_rules;
    uint32_t asn;
    char country[3];
    char net[VG_NET_TEXT_MAX];
};

/* What one attack request adds to its incident. */
struct vg_incident_add {
    const struct vg_addr *addr;
    const char *ip;
    struct vg_str site;
    int64_t time;
    uint32_t classes, detectors;
    int outcome;              /* VG_OUT_* */
    const char *tool;         /* may be NULL */
    uint64_t ua_hash;
    const uint32_t *rules;
    unsigned n_rules;
    uint32_t asn;
    const char *country;
};

/* Looks up the latest stored incident of (addr, site) for continuity after a restart; fills
   *out and sets *found. May be NULL (no store). */
typedef vg_status (*vg_incident_lookup_fn)(void *user, const struct vg_incident_add *a,
                                           struct vg_incident *out, bool *found);

struct vg_incidents;

/* gap: the longest quiet time inside one incident (--incident-gap). */
vg_status vg_incidents_new(int64_t gap, vg_incident_lookup_fn lookup, void *user,
                           struct vg_incidents **out);
void vg_incidents_free(struct vg_incidents *t);

/*
 * Adds one attack request. Writes the incident id (VG_INCIDENT_ID_LEN hex characters and a
 * NUL) into id. An incident is a run of attack requests from one source against one site with
 * no gap longer than `gap`; its id is derived from (address, site, first time), so the same
 * input gives the same ids.
 */
vg_status vg_incidents_add(struct vg_incidents *t, const struct vg_incident_add *a,
                           char id[VG_INCIDENT_ID_LEN + 1]);

/*
 * Calls cb for every incident changed since the last flush, then forgets those that ended
 * before clock - gap (they can no longer grow). clock: the latest log time seen.
 */
vg_status vg_incidents_flush(struct vg_incidents *t, int64_t clock,
                             vg_status (*cb)(void *user, const struct vg_incident *inc),
                             void *user);

/* Number of incidents held in memory. */
size_t vg_incidents_live(const struct vg_incidents *t);

/* Number of incidents this tracker started (not continued from the store). */
uint64_t vg_incidents_opened(const struct vg_incidents *t);

/* ---- campaigns --------------------------------------------------------------------------------- */

/* Why two incidents were linked (bit per reason). */
enum {
    VG_LINK_TOOL = 1u << 0,    /* same identified tool and the same user agent */
    VG_LINK_FAMILY = 1u << 1,  /* the same payload family (signature rule ids) */
    VG_LINK_NETWORK = 1u << 2, /* the same /24 or /48 */
    VG_LINK_ASN = 1u << 3,     /* the same AS and the same tool or payload family */
    VG_LINK_ADDRESS = 1u << 4  /* the same client address (it came back) */
};

struct vg_campaign_params {
    int64_t window;          /* tool, family and AS links: incidents this close in time */
    int64_t network_window;  /* network links */
    double family_min_jaccard;
    unsigned family_min_rules;
};

/* Result: campaign index per incident (-1: not linked), and per campaign its reasons. */
struct vg_campaign_result {
    long *campaign_of;      /* n entries */
    size_t n_campaigns;
    uint32_t *reasons;      /* n_campaigns entries, VG_LINK_* */
    uint32_t *links;        /* n_campaigns entries: number of links found */
    char (*why)[256];       /* n_campaigns entries: "same tool sqlmap (2 links); ..." */
};

/*
 * Links incidents into campaigns: two incidents are linked when they are close in time
 * (overlapping, or within the window) and share a trait: the same identified tool with the
 * same user agent, the same payload family (Jaccard similarity of their signature rule ids at
 * least family_min_jaccard, with at least family_min_rules rules in common), the same /24 or
 * /48 network, or the same AS together with the same tool or family. A campaign is a connected
 * group of at least two linked incidents. Deterministic: depends only on the incidents (in any
 * order) and the parameters. Free the result with vg_campaign_result_free.
 */
vg_status vg_campaigns_build(const struct vg_campaign_params *p, const struct vg_incident *inc,
                             size_t n, struct vg_campaign_result *out);
void vg_campaign_result_free(struct vg_campaign_result *r);

#endif /* VG_BEHAVE_H */
