/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_sqlite.c: the result store on SQLite (WAL). Last stage of the pipeline: the consumer
 * thread writes events, per-file per-month counters, attacking sources and each file's read
 * position here, one transaction per checkpoint.
 *
 * Invariants:
 *  - A file's read position (files.offset/lines/complete) and everything read before it are
 *    committed in the same transaction, so a killed scan resumes exactly where the last commit
 *    left it: nothing missed, nothing counted twice.
 *  - UNIQUE(file_id, offset) on events, with ON CONFLICT DO NOTHING, is a second guard: an event
 *    of a line already stored is ignored rather than stored twice.
 *  - raw keeps the log line byte for byte (BLOB). The TEXT columns taken from a log (method,
 *    host, target) hold valid UTF-8 without NUL: other bytes become U+FFFD, as in the JSON.
 *  - Every statement is prepared once at open and reused. The library never prints: every
 *    SQLite error becomes VG_E_STORE (VG_E_NOMEM for SQLITE_NOMEM) and its text is kept for
 *    vg_store_errmsg().
 *
 * Thread safety: a handle is used by one thread at a time (the connection is opened with
 * SQLITE_OPEN_NOMUTEX). Other processes may read the store while it is written (WAL), and two
 * writers serialize on BEGIN IMMEDIATE with a 5 s busy timeout.
 *
 * The schema and its reasons are in docs/internals/store.md.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store/store.h"
#include "store/store_int.h"

#define VG_STORE_SCHEMA_VERSION 2
/* PRAGMA application_id in the SQLite file header: 0x5647494c, "VGIL" (see file(1) magic). */
#define VG_STORE_APPLICATION_ID 1447512396
#define VG_STORE_APPLICATION_ID_SQL "PRAGMA application_id = 1447512396"
_Static_assert(VG_STORE_APPLICATION_ID == 0x5647494c, "application id is VGIL");
#define VG_STORE_BUSY_MS 5000

/* Tables and indexes new in schema 2 (fresh stores and the 1 -> 2 migration share them). */
#define VG_STORE_SCHEMA_V2_TABLES                                                                 \
    "CREATE TABLE IF NOT EXISTS addresses("                                                       \
    " ip TEXT PRIMARY KEY,"                                                                       \
    " country TEXT,"                                                                              \
    " asn INTEGER,"                                                                               \
    " as_org TEXT,"                                                                               \
    " net TEXT,"                                                                                  \
    " labels TEXT,"                                                                               \
    " first_seen INTEGER NOT NULL,"                                                               \
    " last_seen INTEGER NOT NULL) WITHOUT ROWID;"                                                 \
    "CREATE TABLE IF NOT EXISTS incidents("                                                       \
    " id TEXT PRIMARY KEY,"                                                                       \
    " ip TEXT NOT NULL,"                                                                          \
    " site TEXT NOT NULL,"                                                                        \
    " first_seen INTEGER NOT NULL,"                                                               \
    " last_seen INTEGER NOT NULL,"                                                                \
    " month INTEGER NOT NULL,"                                                                    \
    " attacks INTEGER NOT NULL,"                                                                  \
    " classes_mask INTEGER NOT NULL,"                                                             \
    " detectors_mask INTEGER NOT NULL,"                                                           \
    " tool TEXT,"                                                                                 \
    " ua_hash INTEGER,"                                                                           \
    " rules TEXT,"                                                                                \
    " net TEXT,"                                                                                  \
    " asn INTEGER,"                                                                               \
    " country TEXT,"                                                                              \
    " success INTEGER NOT NULL,"                                                                  \
    " refused INTEGER NOT NULL,"                                                                  \
    " failed INTEGER NOT NULL,"                                                                   \
    " unknown INTEGER NOT NULL,"                                                                  \
    " campaign TEXT) WITHOUT ROWID;"                                                              \
    "CREATE TABLE IF NOT EXISTS campaigns("                                                       \
    " id TEXT PRIMARY KEY,"                                                                       \
    " first_seen INTEGER NOT NULL,"                                                               \
    " last_seen INTEGER NOT NULL,"                                                                \
    " incidents INTEGER NOT NULL,"                                                                \
    " sources INTEGER NOT NULL,"                                                                  \
    " classes_mask INTEGER NOT NULL,"                                                             \
    " reasons INTEGER NOT NULL,"                                                                  \
    " why TEXT NOT NULL) WITHOUT ROWID;"                                                          \
    "CREATE TABLE IF NOT EXISTS behave_state("                                                    \
    " key TEXT PRIMARY KEY,"                                                                      \
    " blob BLOB NOT NULL);"
#define VG_STORE_SCHEMA_V2_INDEXES                                                                \
    "CREATE INDEX IF NOT EXISTS events_incident ON events(incident);"                             \
    "CREATE INDEX IF NOT EXISTS incidents_source ON incidents(ip, site, last_seen);"              \
    "CREATE INDEX IF NOT EXISTS incidents_month ON incidents(month);"

/* The logical schema (PostgreSQL will mirror it): INTEGER, TEXT and BLOB columns only. */
static const char vg_store_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta("
    " key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs("
    " id INTEGER PRIMARY KEY,"
    " started INTEGER NOT NULL,"
    " finished INTEGER,"
    " vigil_version TEXT,"
    " ruleset_hash TEXT,"
    " geo_provenance TEXT,"
    " format TEXT,"
    " command TEXT,"
    " status TEXT NOT NULL,"
    " lines INTEGER NOT NULL DEFAULT 0,"
    " requests INTEGER NOT NULL DEFAULT 0,"
    " malformed INTEGER NOT NULL DEFAULT 0,"
    " oversize INTEGER NOT NULL DEFAULT 0,"
    " attack_requests INTEGER NOT NULL DEFAULT 0,"
    " sources INTEGER NOT NULL DEFAULT 0,"
    " skipped_files INTEGER NOT NULL DEFAULT 0,"
    " asn_provenance TEXT,"
    " labels_source TEXT,"
    " behave_hash TEXT);"
    "CREATE TABLE IF NOT EXISTS files("
    " id INTEGER PRIMARY KEY,"
    " fp_hash BLOB NOT NULL,"
    " fp_len INTEGER NOT NULL,"
    " path TEXT NOT NULL,"
    " format TEXT,"
    " compression TEXT,"
    " first_run INTEGER REFERENCES runs(id),"
    " last_run INTEGER REFERENCES runs(id),"
    " \"offset\" INTEGER NOT NULL DEFAULT 0,"
    " lines INTEGER NOT NULL DEFAULT 0,"
    " complete INTEGER NOT NULL DEFAULT 0,"
    " replay_offset INTEGER,"
    " replay_lines INTEGER,"
    " pending BLOB,"
    " UNIQUE(fp_len, fp_hash));"
    "CREATE TABLE IF NOT EXISTS month_counts("
    " file_id INTEGER NOT NULL REFERENCES files(id),"
    " month INTEGER NOT NULL,"
    " requests INTEGER NOT NULL DEFAULT 0,"
    " attacks INTEGER NOT NULL DEFAULT 0,"
    " malformed INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(file_id, month)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS sources("
    " month INTEGER NOT NULL,"
    " ip TEXT NOT NULL,"
    " country TEXT,"
    " attacks INTEGER NOT NULL DEFAULT 0,"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " PRIMARY KEY(month, ip)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS events("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id),"
    " file_id INTEGER REFERENCES files(id),"
    " \"offset\" INTEGER NOT NULL,"
    " line INTEGER NOT NULL,"
    " time INTEGER NOT NULL,"
    " month INTEGER NOT NULL,"
    " ip TEXT NOT NULL,"
    " country TEXT,"
    " method TEXT,"
    " host TEXT,"
    " target TEXT,"
    " status INTEGER,"
    " bytes INTEGER,"
    " score INTEGER NOT NULL,"
    " classes_mask INTEGER NOT NULL,"
    " outcome TEXT,"
    " json TEXT NOT NULL,"
    " raw BLOB NOT NULL,"
    " incident TEXT,"
    " asn INTEGER,"
    " size_anomaly INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE(file_id, \"offset\"));"
    VG_STORE_SCHEMA_V2_TABLES
    "CREATE INDEX IF NOT EXISTS events_month ON events(month);"
    "CREATE INDEX IF NOT EXISTS events_ip ON events(ip);"
    "CREATE INDEX IF NOT EXISTS sources_ip ON sources(ip);"
    VG_STORE_SCHEMA_V2_INDEXES
    "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '2');";

/* Schema 1 -> 2: columns added to runs, files and events; the tables below created; incidents
   derived for the events already stored (store_migrate). */
static const char vg_store_migrate_1_2_sql[] =
    "ALTER TABLE runs ADD COLUMN asn_provenance TEXT;"
    "ALTER TABLE runs ADD COLUMN labels_source TEXT;"
    "ALTER TABLE runs ADD COLUMN behave_hash TEXT;"
    "ALTER TABLE files ADD COLUMN replay_offset INTEGER;"
    "ALTER TABLE files ADD COLUMN replay_lines INTEGER;"
    "ALTER TABLE files ADD COLUMN pending BLOB;"
    "ALTER TABLE events ADD COLUMN incident TEXT;"
    "ALTER TABLE events ADD COLUMN asn INTEGER;"
    "ALTER TABLE events ADD COLUMN size_anomaly INTEGER NOT NULL DEFAULT 0;"
    VG_STORE_SCHEMA_V2_TABLES
    VG_STORE_SCHEMA_V2_INDEXES
    "UPDATE meta SET value = '2' WHERE key = 'schema_version';";

/* Per-connection scratch for a --rescan restart (TEMP: never written to the store file). */
static const char vg_store_temp_sql[] = "CREATE TEMP TABLE IF NOT EXISTS vg_restart("
                                        " month INTEGER NOT NULL,"
                                        " ip TEXT NOT NULL,"
                                        " n INTEGER NOT NULL,"
                                        " PRIMARY KEY(month, ip)) WITHOUT ROWID;"
                                        "CREATE TEMP TABLE IF NOT EXISTS vg_restart_inc("
                                        " id TEXT PRIMARY KEY) WITHOUT ROWID;";

enum vg_store_stmt {
    VG_SQL_BEGIN,
    VG_SQL_COMMIT,
    VG_SQL_ROLLBACK,
    VG_SQL_SAVEPOINT,
    VG_SQL_RELEASE,
    VG_SQL_ROLLBACK_TO,
    VG_SQL_RUN_BEGIN,
    VG_SQL_RUN_END,
    VG_SQL_FP_LENGTHS,
    VG_SQL_FILE_FIND,
    VG_SQL_FILE_ADD,
    VG_SQL_FILE_TOUCH,
    VG_SQL_FILE_PROGRESS,
    VG_SQL_ADD_EVENT,
    VG_SQL_ADD_MONTH,
    VG_SQL_ADD_SOURCE,
    VG_SQL_RS_CLEAR,
    VG_SQL_RS_COLLECT,
    VG_SQL_RS_DEL_EVENTS,
    VG_SQL_RS_LIST,
    VG_SQL_RS_FIX_SOURCE,
    VG_SQL_RS_DROP_SOURCE,
    VG_SQL_RS_DEL_MONTHS,
    VG_SQL_RS_RESET_FILE,
    VG_SQL_RS_INC_COLLECT,
    VG_SQL_RS_INC_DROP,
    VG_SQL_RS_INC_FIX,
    VG_SQL_FILE_PENDING,
    VG_SQL_PUT_ADDRESS,
    VG_SQL_PUT_INCIDENT,
    VG_SQL_FIND_INCIDENT,
    VG_SQL_HAS_INCIDENTS,
    VG_SQL_PUT_STATE,
    VG_SQL_GET_STATE,
    VG_SQL_COUNT
};

static const char *const vg_store_sql[VG_SQL_COUNT] = {
    [VG_SQL_BEGIN] = "BEGIN IMMEDIATE",
    [VG_SQL_COMMIT] = "COMMIT",
    [VG_SQL_ROLLBACK] = "ROLLBACK",
    [VG_SQL_SAVEPOINT] = "SAVEPOINT vg_restart",
    [VG_SQL_RELEASE] = "RELEASE vg_restart",
    [VG_SQL_ROLLBACK_TO] = "ROLLBACK TO vg_restart",
    [VG_SQL_RUN_BEGIN] = "INSERT INTO runs(started, vigil_version, ruleset_hash, geo_provenance,"
                         " format, command, status, asn_provenance, labels_source, behave_hash)"
                         " VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8, ?9)",
    [VG_SQL_RUN_END] = "UPDATE runs SET finished = ?2, status = ?3, lines = ?4, requests = ?5,"
                       " malformed = ?6, oversize = ?7, attack_requests = ?8, sources = ?9,"
                       " skipped_files = ?10 WHERE id = ?1",
    [VG_SQL_FP_LENGTHS] = "SELECT DISTINCT fp_len FROM files ORDER BY fp_len DESC",
    [VG_SQL_FILE_FIND] = "SELECT id, \"offset\", lines, complete, replay_offset, replay_lines,"
                         " pending FROM files"
                         " WHERE fp_len = ?1 AND fp_hash = ?2",
    [VG_SQL_FILE_ADD] = "INSERT INTO files(fp_hash, fp_len, path, format, compression, first_run,"
                        " last_run) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    [VG_SQL_FILE_TOUCH] = "UPDATE files SET path = ?2, last_run = ?3 WHERE id = ?1",
    [VG_SQL_FILE_PROGRESS] = "UPDATE files SET \"offset\" = ?2, lines = ?3, complete = ?4"
                             " WHERE id = ?1",
    [VG_SQL_ADD_EVENT] = "INSERT INTO events(run_id, file_id, \"offset\", line, time, month, ip,"
                         " country, method, host, target, status, bytes, score, classes_mask,"
                         " outcome, json, raw, incident, asn, size_anomaly) VALUES(?1, ?2, ?3,"
                         " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
                         " ?19, ?20, ?21)"
                         " ON CONFLICT(file_id, \"offset\") DO NOTHING",
    [VG_SQL_ADD_MONTH] = "INSERT INTO month_counts(file_id, month, requests, attacks, malformed)"
                         " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(file_id, month) DO UPDATE SET"
                         " requests = requests + excluded.requests,"
                         " attacks = attacks + excluded.attacks,"
                         " malformed = malformed + excluded.malformed",
    [VG_SQL_ADD_SOURCE] = "INSERT INTO sources(month, ip, country, attacks, first_seen, last_seen)"
                          " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(month, ip) DO UPDATE SET"
                          " attacks = attacks + excluded.attacks,"
                          " country = coalesce(excluded.country, country),"
                          " first_seen = min(first_seen, excluded.first_seen),"
                          " last_seen = max(last_seen, excluded.last_seen)",
    [VG_SQL_RS_CLEAR] = "DELETE FROM temp.vg_restart",
    [VG_SQL_RS_COLLECT] = "INSERT INTO temp.vg_restart(month, ip, n)"
                          " SELECT month, ip, count(*) FROM events WHERE file_id = ?1"
                          " GROUP BY month, ip",
    [VG_SQL_RS_DEL_EVENTS] = "DELETE FROM events WHERE file_id = ?1",
    [VG_SQL_RS_LIST] = "SELECT month, ip, n FROM temp.vg_restart",
    /* Performance note: point statements by primary key, one per (month, ip) the file had,
       rather than a join whose plan could scan all of sources. */
    [VG_SQL_RS_FIX_SOURCE] =
        "UPDATE sources SET attacks = attacks - ?3,"
        " first_seen = coalesce((SELECT min(time) FROM events INDEXED BY events_ip"
        " WHERE ip = ?2 AND month = ?1),"
        "  first_seen),"
        " last_seen = coalesce((SELECT max(time) FROM events INDEXED BY events_ip"
        " WHERE ip = ?2 AND month = ?1),"
        "  last_seen)"
        " WHERE month = ?1 AND ip = ?2",
    [VG_SQL_RS_DROP_SOURCE] = "DELETE FROM sources WHERE month = ?1 AND ip = ?2 AND attacks <= 0",
    [VG_SQL_RS_DEL_MONTHS] = "DELETE FROM month_counts WHERE file_id = ?1",
    [VG_SQL_RS_INC_COLLECT] = "INSERT OR IGNORE INTO temp.vg_restart_inc(id)"
                              " SELECT DISTINCT incident FROM events"
                              " WHERE file_id = ?1 AND incident IS NOT NULL",
    [VG_SQL_RS_INC_DROP] = "DELETE FROM incidents WHERE id IN (SELECT id FROM temp.vg_restart_inc)"
                           " AND NOT EXISTS (SELECT 1 FROM events INDEXED BY events_incident"
                           " WHERE events.incident = incidents.id)",
    [VG_SQL_RS_INC_FIX] =
        "UPDATE incidents SET"
        " attacks = (SELECT count(*) FROM events INDEXED BY events_incident"
        "  WHERE incident = incidents.id),"
        " first_seen = (SELECT min(time) FROM events INDEXED BY events_incident"
        "  WHERE incident = incidents.id),"
        " last_seen = (SELECT max(time) FROM events INDEXED BY events_incident"
        "  WHERE incident = incidents.id)"
        " WHERE id IN (SELECT id FROM temp.vg_restart_inc)",
    [VG_SQL_FILE_PENDING] = "UPDATE files SET replay_offset = ?2, replay_lines = ?3, pending = ?4"
                            " WHERE id = ?1",
    [VG_SQL_PUT_ADDRESS] = "INSERT INTO addresses(ip, country, asn, as_org, net, labels, first_seen,"
                           " last_seen) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                           " ON CONFLICT(ip) DO UPDATE SET"
                           " country = coalesce(excluded.country, country),"
                           " asn = coalesce(excluded.asn, asn),"
                           " as_org = coalesce(excluded.as_org, as_org),"
                           " net = excluded.net, labels = excluded.labels,"
                           " first_seen = min(first_seen, excluded.first_seen),"
                           " last_seen = max(last_seen, excluded.last_seen)",
    [VG_SQL_PUT_INCIDENT] =
        "INSERT INTO incidents(id, ip, site, first_seen, last_seen, month, attacks, classes_mask,"
        " detectors_mask, tool, ua_hash, rules, net, asn, country, success, refused, failed,"
        " unknown) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
        " ?17, ?18, ?19) ON CONFLICT(id) DO UPDATE SET first_seen = excluded.first_seen,"
        " last_seen = excluded.last_seen, attacks = excluded.attacks,"
        " classes_mask = excluded.classes_mask, detectors_mask = excluded.detectors_mask,"
        " tool = excluded.tool, ua_hash = excluded.ua_hash, rules = excluded.rules,"
        " net = excluded.net, asn = excluded.asn, country = excluded.country,"
        " success = excluded.success, refused = excluded.refused, failed = excluded.failed,"
        " unknown = excluded.unknown",
    [VG_SQL_FIND_INCIDENT] =
        "SELECT id, ip, site, first_seen, last_seen, attacks, classes_mask, detectors_mask, tool,"
        " ua_hash, rules, net, asn, country, success, refused, failed, unknown FROM incidents"
        " WHERE ip = ?1 AND site = ?2 ORDER BY last_seen DESC LIMIT 1",
    [VG_SQL_HAS_INCIDENTS] = "SELECT EXISTS(SELECT 1 FROM incidents)",
    [VG_SQL_PUT_STATE] = "INSERT INTO behave_state(key, blob) VALUES(?1, ?2)"
                         " ON CONFLICT(key) DO UPDATE SET blob = excluded.blob",
    [VG_SQL_GET_STATE] = "SELECT blob FROM behave_state WHERE key = ?1",
    [VG_SQL_RS_RESET_FILE] = "UPDATE files SET \"offset\" = 0, lines = 0, complete = 0,"
                             " replay_offset = NULL, replay_lines = NULL, pending = NULL"
                             " WHERE id = ?1",
};

struct vg_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[VG_SQL_COUNT];
    /* Scratch for TEXT columns whose log bytes are not clean UTF-8 (kept between events). */
    struct vg_buf clean[3];
    char msg[512]; /* the last error, for vg_store_errmsg */
    bool inserted; /* the last add_event stored a row */
};

/* ---- errors ------------------------------------------------------------------------------- */

static vg_status store_status_of(int rc)
{
    return (rc & 0xff) == SQLITE_NOMEM ? VG_E_NOMEM : VG_E_STORE;
}

/* Keeps "what: <SQLite's text for rc>" as the handle's last error; returns the status for rc. */
static vg_status store_fail(struct vg_store *st, int rc, const char *what)
{
    const char *text =
        sqlite3_errcode(st->db) == (rc & 0xff) ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
    snprintf(st->msg, sizeof st->msg, "%s: %s", what, text);
    return store_status_of(rc);
}

/* Keeps a message for an error found before SQLite was asked (bad argument, unknown id). */
static vg_status store_fail_msg(struct vg_store *st, vg_status status, const char *fmt, ...)
    VG_PRINTF(3, 4);
static vg_status store_fail_msg(struct vg_store *st, vg_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    va_end(ap);
    return status;
}

/* ---- statement helpers -------------------------------------------------------------------- */

/* Steps statement id to its end (it returns no rows), then resets it. */
static vg_status store_exec(struct vg_store *st, enum vg_store_stmt id, const char *what)
{
    sqlite3_stmt *s = st->stmt[id];
    int rc = sqlite3_step(s);
    vg_status r = VG_OK;
    if (rc != SQLITE_DONE)
        r = store_fail(st, rc, what);
    sqlite3_reset(s);
    return r;
}

/* SQLite integers are signed 64-bit: counters beyond that cannot be stored faithfully. */
static bool store_fits_i64(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX;
}

/* Binds a C string as TEXT, or NULL when s is NULL. Performance note: SQLITE_STATIC, no copy. */
static int store_bind_cstr(sqlite3_stmt *s, int col, const char *v)
{
    return v ? sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, col);
}

/* Index of the first byte of v that is NUL or not valid UTF-8; v.n when there is none. */
static size_t store_first_unclean(struct vg_str v)
{
    size_t i = 0;
    while (i < v.n) {
        uint8_t c = v.p[i];
        if (c >= 0x01 && c < 0x80) {
            i++;
            continue;
        }
        size_t l = c ? vg_utf8_seq_len(v.p + i, v.n - i) : 0;
        if (!l)
            return i;
        i += l;
    }
    return v.n;
}

/*
 * Binds log bytes as TEXT: NULL when empty (not logged), else valid UTF-8 without NUL, each
 * invalid byte and each NUL replaced by U+FFFD (into scratch; clean input is bound in place).
 *
 * Security note: SQLite stores TEXT as given, but expressions over text with NUL or invalid
 * UTF-8 are undefined and PostgreSQL rejects both, so the columns reports query are made clean
 * here; the exact bytes stay in events.raw.
 */
static vg_status store_bind_log_text(sqlite3_stmt *s, int col, struct vg_str v,
                                     struct vg_buf *scratch, int *rc)
{
    if (v.n == 0) {
        *rc = sqlite3_bind_null(s, col);
        return VG_OK;
    }
    size_t i = store_first_unclean(v);
    if (i == v.n) {
        *rc = sqlite3_bind_text64(s, col, (const char *)v.p, v.n, SQLITE_STATIC, SQLITE_UTF8);
        return VG_OK;
    }
    static const uint8_t repl[3] = {0xEF, 0xBF, 0xBD}; /* U+FFFD */
    vg_buf_reset(scratch);
    if (v.n > (SIZE_MAX - 1) / 3)
        return VG_E_LIMIT;
    vg_status r = vg_buf_reserve(scratch, v.n * 3);
    if (r != VG_OK)
        return r;
    memcpy(scratch->p, v.p, i);
    uint8_t *o = scratch->p + i;
    while (i < v.n) {
        uint8_t c = v.p[i];
        size_t l = c ? vg_utf8_seq_len(v.p + i, v.n - i) : 0;
        if (l) {
            memcpy(o, v.p + i, l);
            o += l;
            i += l;
        } else {
            memcpy(o, repl, sizeof repl);
            o += sizeof repl;
            i++;
        }
    }
    scratch->n = (size_t)(o - scratch->p);
    scratch->p[scratch->n] = 0;
    *rc = sqlite3_bind_text64(s, col, (const char *)scratch->p, scratch->n, SQLITE_STATIC,
                              SQLITE_UTF8);
    return VG_OK;
}

/* ---- open and close ----------------------------------------------------------------------- */

/* Turns a failure during open into err: a file SQLite cannot read as a database is "not a
   vigil store", anything else "cannot open store". */
static vg_status store_open_fail(struct vg_store *st, struct vg_error *err, const char *path,
                                 int rc)
{
    const char *text = st->db && sqlite3_errcode(st->db) == (rc & 0xff) ? sqlite3_errmsg(st->db)
                                                                        : sqlite3_errstr(rc);
    int prim = rc & 0xff;
    if (prim == SQLITE_NOMEM)
        return vg_error_set(err, VG_E_NOMEM, path, 0, "%s: out of memory opening the store", path);
    if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
        return vg_error_set(err, VG_E_STORE, path, 0, "%s: not a vigil store: %s", path, text);
    return vg_error_set(err, VG_E_STORE, path, 0, "%s: cannot open store: %s", path, text);
}

/* Runs a one-row, one-column integer query. */
static int store_query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_NOTFOUND;
    }
    sqlite3_finalize(s);
    return rc;
}

/*
 * Reads meta.schema_version as a plain decimal. Returns SQLITE_OK with *version set, or
 * SQLITE_NOTFOUND when the row is missing or not a number.
 */
static int store_read_version(sqlite3 *db, int64_t *version)
{
    sqlite3_stmt *s = NULL;
    int rc =
        sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(s, 0);
        int n = sqlite3_column_bytes(s, 0);
        int64_t x = 0;
        rc = (v && n > 0 && n <= 9) ? SQLITE_OK : SQLITE_NOTFOUND;
        for (int i = 0; rc == SQLITE_OK && i < n; i++) {
            if (v[i] < '0' || v[i] > '9')
                rc = SQLITE_NOTFOUND;
            else
                x = x * 10 + (v[i] - '0');
        }
        *version = x;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_NOTFOUND;
    }
    sqlite3_finalize(s);
    return rc;
}

/* ---- incidents: binding, reading, migration ---------------------------------------------------- */

/* "942100,942190" from an incident's sorted rule ids. */
static void rules_text(const struct vg_incident *inc, char *out, size_t cap)
{
    size_t pos = 0;
    out[0] = 0;
    for (unsigned i = 0; i < inc->n_rules && i < VG_INCIDENT_RULES; i++) {
        int n = snprintf(out + pos, cap - pos, "%s%u", i ? "," : "", (unsigned)inc->rules[i]);
        if (n < 0 || (size_t)n >= cap - pos)
            break;
        pos += (size_t)n;
    }
}

static void rules_parse(const char *s, struct vg_incident *inc)
{
    inc->n_rules = 0;
    while (s && *s && inc->n_rules < VG_INCIDENT_RULES) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s)
            break;
        inc->rules[inc->n_rules++] = (uint32_t)v;
        s = *end == ',' ? end + 1 : end;
        if (*end != ',')
            break;
    }
}

/* Binds an incident to the 19 parameters of VG_SQL_PUT_INCIDENT (and the migration's copy). */
static int bind_incident(sqlite3_stmt *s, const struct vg_incident *inc)
{
    char rules[VG_INCIDENT_RULES * 11 + 1];
    rules_text(inc, rules, sizeof rules);
    int rc = sqlite3_bind_text(s, 1, inc->id, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 2, inc->ip, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 3, inc->site, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, inc->first);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 5, inc->last);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 6, vg_month_key(inc->first));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 7, inc->attacks > INT64_MAX ? INT64_MAX : (int64_t)inc->attacks);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 8, inc->classes);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 9, inc->detectors);
    if (rc == SQLITE_OK)
        rc = inc->tool[0] ? sqlite3_bind_text(s, 10, inc->tool, -1, SQLITE_TRANSIENT)
                          : sqlite3_bind_null(s, 10);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 11, (int64_t)inc->ua_hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 12, rules, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 13, inc->net, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = inc->asn ? sqlite3_bind_int64(s, 14, inc->asn) : sqlite3_bind_null(s, 14);
    if (rc == SQLITE_OK)
        rc = inc->country[0] ? sqlite3_bind_text(s, 15, inc->country, -1, SQLITE_TRANSIENT)
                             : sqlite3_bind_null(s, 15);
    for (int i = 0; rc == SQLITE_OK && i < VG_OUT_COUNT; i++)
        rc = sqlite3_bind_int64(s, 16 + i,
                                inc->outcomes[i] > INT64_MAX ? INT64_MAX : (int64_t)inc->outcomes[i]);
    return rc;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

/* Reads the columns of VG_SQL_FIND_INCIDENT (from index 0) into inc. */
static void read_incident(sqlite3_stmt *s, int base, struct vg_incident *inc)
{
    memset(inc, 0, sizeof *inc);
    snprintf(inc->id, sizeof inc->id, "%s", col_text(s, base + 0));
    snprintf(inc->ip, sizeof inc->ip, "%s", col_text(s, base + 1));
    if (!vg_addr_parse((const uint8_t *)inc->ip, strlen(inc->ip), &inc->addr))
        memset(&inc->addr, 0, sizeof inc->addr);
    snprintf(inc->site, sizeof inc->site, "%s", col_text(s, base + 2));
    inc->first = sqlite3_column_int64(s, base + 3);
    inc->last = sqlite3_column_int64(s, base + 4);
    int64_t a = sqlite3_column_int64(s, base + 5);
    inc->attacks = a > 0 ? (uint64_t)a : 0;
    inc->classes = (uint32_t)sqlite3_column_int64(s, base + 6);
    inc->detectors = (uint32_t)sqlite3_column_int64(s, base + 7);
    snprintf(inc->tool, sizeof inc->tool, "%s", col_text(s, base + 8));
    inc->ua_hash = (uint64_t)sqlite3_column_int64(s, base + 9);
    rules_parse(col_text(s, base + 10), inc);
    snprintf(inc->net, sizeof inc->net, "%s", col_text(s, base + 11));
    inc->asn = (uint32_t)sqlite3_column_int64(s, base + 12);
    snprintf(inc->country, sizeof inc->country, "%s", col_text(s, base + 13));
    for (int i = 0; i < VG_OUT_COUNT; i++) {
        int64_t v = sqlite3_column_int64(s, base + 14 + i);
        inc->outcomes[i] = v > 0 ? (uint64_t)v : 0;
    }
}

struct derive_ctx {
    sqlite3 *db;
    sqlite3_stmt *put;
    int rc;
};

static vg_status derive_flush(void *user, const struct vg_incident *inc)
{
    struct derive_ctx *d = user;
    int rc = bind_incident(d->put, inc);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(d->put) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(d->db);
    sqlite3_reset(d->put);
    d->rc = rc;
    return rc == SQLITE_OK ? VG_OK : VG_E_STORE;
}

static int outcome_index(const char *o)
{
    if (!o)
        return VG_OUT_UNKNOWN;
    if (strcmp(o, "possible-success") == 0)
        return VG_OUT_SUCCESS;
    if (strcmp(o, "refused") == 0)
        return VG_OUT_REFUSED;
    if (strcmp(o, "failed") == 0)
        return VG_OUT_FAILED;
    return VG_OUT_UNKNOWN;
}

/*
 * Migration 1 -> 2: the incidents of the events already stored, with the default gap (30 min)
 * over each (address, site) in time order, as a scan of schema 2 would have built them; each
 * event gets its incident id. Runs inside the open's transaction.
 */
static vg_status store_derive_incidents(sqlite3 *db)
{
    sqlite3_stmt *sel = NULL, *upd = NULL, *put = NULL;
    struct vg_incidents *t = NULL;
    struct derive_ctx d = {db, NULL, SQLITE_OK};
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, ip, coalesce(host, ''), time, classes_mask, outcome,"
                                " country FROM events WHERE incident IS NULL"
                                " ORDER BY ip, host, time, id",
                                -1, &sel, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "UPDATE events SET incident = ?2 WHERE id = ?1", -1, &upd,
                                NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, vg_store_sql[VG_SQL_PUT_INCIDENT], -1, &put, NULL);
    vg_status st = rc == SQLITE_OK ? vg_incidents_new(1800, NULL, NULL, &t) : VG_E_STORE;
    d.put = put;
    int64_t clock = INT64_MIN;
    while (st == VG_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
        struct vg_addr a;
        const char *ip = col_text(sel, 1);
        if (!vg_addr_parse((const uint8_t *)ip, strlen(ip), &a))
            memset(&a, 0, sizeof a);
        const char *site = col_text(sel, 2);
        struct vg_incident_add x;
        memset(&x, 0, sizeof x);
        x.addr = &a;
        x.ip = ip;
        x.site = vg_str_make(site, strlen(site));
        x.time = sqlite3_column_int64(sel, 3);
        x.classes = (uint32_t)sqlite3_column_int64(sel, 4);
        x.outcome = outcome_index((const char *)sqlite3_column_text(sel, 5));
        x.country = col_text(sel, 6);
        char id[VG_INCIDENT_ID_LEN + 1];
        st = vg_incidents_add(t, &x, id);
        if (st != VG_OK)
            break;
        if (x.time > clock)
            clock = x.time;
        rc = sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 0));
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(upd, 2, id, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK && sqlite3_step(upd) != SQLITE_DONE)
            rc = sqlite3_errcode(db);
        sqlite3_reset(upd);
        if (rc != SQLITE_OK)
            st = VG_E_STORE;
    }
    if (st == VG_OK && rc != SQLITE_DONE)
        st = VG_E_STORE;
    if (st == VG_OK)
        st = vg_incidents_flush(t, INT64_MAX, derive_flush, &d);
    vg_incidents_free(t);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_finalize(put);
    return st;
}

/*
 * Inside the open transaction: decides whether the file is an empty database (create the
 * schema), a vigil store of this version (keep it), or something else (refuse, in err).
 */
static vg_status store_check_and_create(struct vg_store *st, const char *path, struct vg_error *err)
{
    int64_t app_id = 0, tables = 0, version = 0;
    int rc = store_query_int(st->db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = store_query_int(st->db,
                             "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                             " AND substr(name, 1, 7) <> 'sqlite_'",
                             &tables);
    if (rc != SQLITE_OK)
        return store_open_fail(st, err, path, rc);

    if (tables > 0 || app_id != 0) {
        /* Security note: never add vigil's tables to another application's database. */
        if (app_id != VG_STORE_APPLICATION_ID)
            return vg_error_set(err, VG_E_STORE, path, 0,
                                "%s: not a vigil store: it is a SQLite database of another "
                                "application",
                                path);
        rc = store_read_version(st->db, &version);
        if (rc == SQLITE_NOTFOUND || (rc & 0xff) == SQLITE_ERROR || (rc == SQLITE_OK && !version))
            return vg_error_set(err, VG_E_STORE, path, 0,
                                "%s: not a vigil store: it has no schema version", path);
        if (rc != SQLITE_OK)
            return store_open_fail(st, err, path, rc);
        if (version > VG_STORE_SCHEMA_VERSION)
            return vg_error_set(err, VG_E_STORE, path, 0,
                                "%s: store schema version %lld is newer than this vigil "
                                "supports (%d): use a newer vigil or another store",
                                path, (long long)version, VG_STORE_SCHEMA_VERSION);
    }
    /* An older store is migrated in this same transaction: all of it or none of it. */
    if (version == 1) {
        rc = sqlite3_exec(st->db, vg_store_migrate_1_2_sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return store_open_fail(st, err, path, rc);
        vg_status r = store_derive_incidents(st->db);
        if (r != VG_OK)
            return vg_error_set(err, r, path, 0, "%s: migrating the store to schema 2: %s", path,
                                st->db ? sqlite3_errmsg(st->db) : vg_strerror(r));
    }
    /* Fresh file: create everything. Known store: IF NOT EXISTS makes this a no-op. */
    rc = sqlite3_exec(st->db, vg_store_schema_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK && app_id == 0)
        rc = sqlite3_exec(st->db, VG_STORE_APPLICATION_ID_SQL, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_open_fail(st, err, path, rc);
    return VG_OK;
}

/* Frees everything the handle holds; the connection must have no open transaction. */
static void store_destroy(struct vg_store *st)
{
    for (size_t i = 0; i < VG_SQL_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close_v2(st->db);
    for (size_t i = 0; i < VG_ARRAY_LEN(st->clean); i++)
        vg_buf_fini(&st->clean[i]);
    vg_free(st);
}

/*
 * vg_store_open: opens (creating if needed) the store at path.
 *
 * IN path: a file name ("" or ":memory:" give a private temporary store). OUT *out: the
 * handle, to be closed with vg_store_close; NULL on failure. OUT err (may be NULL): why not.
 *
 * A new or empty file gets the schema (one transaction). A vigil store of this schema version
 * is used as it is; a newer one is refused, as is any file that is not a SQLite database
 * ("<path>: not a vigil store: ...") and a SQLite database of another application. The
 * connection is then switched to WAL with synchronous=NORMAL and foreign keys on, and every
 * statement is prepared.
 *
 * Returns VG_OK, VG_E_INVAL (NULL argument), VG_E_NOMEM or VG_E_STORE.
 */
vg_status vg_store_open(const char *path, struct vg_store **out, struct vg_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return vg_error_set(err, VG_E_INVAL, NULL, 0, "vg_store_open: no path or no handle");
    struct vg_store *st = vg_calloc(1, sizeof *st);
    if (!st)
        return vg_error_set(err, VG_E_NOMEM, path, 0, "%s: out of memory opening the store", path);
    for (size_t i = 0; i < VG_ARRAY_LEN(st->clean); i++)
        vg_buf_init(&st->clean[i], 0);
    snprintf(st->msg, sizeof st->msg, "not an error");

    vg_status r = VG_OK;
    int rc = sqlite3_open_v2(
        path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(st->db, VG_STORE_BUSY_MS);
    /* BEGIN IMMEDIATE reads the header (a non-database fails here) and makes two vigils that
       open one new file at once create the schema one after the other. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        r = store_open_fail(st, err, path, rc);
        goto fail;
    }
    r = store_check_and_create(st, path, err);
    if (r == VG_OK) {
        rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            r = store_open_fail(st, err, path, rc);
    }
    if (r != VG_OK) {
        if (!sqlite3_get_autocommit(st->db))
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        goto fail;
    }

    /* Porting note: journal_mode cannot change inside a transaction, hence after the schema.
       A file system without shared memory keeps its old mode; the store still works. */
    /* Performance note: events arrive in 1000s per commit and each commit touches leaf pages
       all over the events(ip) index. A 32 MiB page cache keeps them in memory, and checkpoints
       every ~40 MiB of WAL (not every 4 MiB) stop the same pages being copied back to the
       database file over and over: about 1.4x the insert rate of the defaults (see store.md). */
    rc = sqlite3_exec(st->db,
                      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                      " PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;"
                      " PRAGMA wal_autocheckpoint = 10000;",
                      NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(st->db, vg_store_temp_sql, NULL, NULL, NULL);
    /* Performance note: prepared once, reused for every row. */
    for (size_t i = 0; rc == SQLITE_OK && i < VG_SQL_COUNT; i++)
        rc = sqlite3_prepare_v3(st->db, vg_store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &st->stmt[i], NULL);
    if (rc != SQLITE_OK) {
        r = store_open_fail(st, err, path, rc);
        goto fail;
    }
    *out = st;
    return VG_OK;

fail:
    store_destroy(st);
    return r;
}

/*
 * vg_store_close: rolls back an open transaction (so what was not committed is as if never
 * written), finalizes the statements and closes the connection. NULL is harmless.
 */
void vg_store_close(struct vg_store *st)
{
    if (!st)
        return;
    if (st->db && !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    store_destroy(st);
}

/*
 * vg_store_errmsg: the text of the last failure of a call on this handle, "not an error" before
 * any. Borrowed: valid until the next call on the handle.
 */
const char *vg_store_errmsg(const struct vg_store *st)
{
    return st ? st->msg : "no store";
}

/* ---- runs --------------------------------------------------------------------------------- */

/*
 * vg_store_run_begin: records the start of a run (status "running" until vg_store_run_end).
 * IN info: provenance; NULL strings are stored as NULL. OUT *run_id: the new run's id.
 * Returns VG_OK, VG_E_INVAL, VG_E_NOMEM or VG_E_STORE.
 */
vg_status vg_store_run_begin(struct vg_store *st, const struct vg_run_info *info, int64_t *run_id)
{
    if (!st)
        return VG_E_INVAL;
    if (!info || !run_id)
        return store_fail_msg(st, VG_E_INVAL, "run begin: no run information");
    sqlite3_stmt *s = st->stmt[VG_SQL_RUN_BEGIN];
    int rc = sqlite3_bind_int64(s, 1, info->started);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 2, info->vigil_version);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 3, info->ruleset_hash);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 4, info->geo_provenance);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 5, info->format);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 6, info->command);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 7, info->asn_provenance && *info->asn_provenance
                                       ? info->asn_provenance
                                       : NULL);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 8, info->labels_source && *info->labels_source
                                       ? info->labels_source
                                       : NULL);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 9, info->behave_hash && *info->behave_hash ? info->behave_hash
                                                                            : NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "run begin");
    vg_status r = store_exec(st, VG_SQL_RUN_BEGIN, "run begin");
    if (r == VG_OK)
        *run_id = sqlite3_last_insert_rowid(st->db);
    return r;
}

/*
 * vg_store_run_end: records the end of run run_id: finish time (now), status ("ok",
 * "input-error", "interrupted", ...) and totals. Returns VG_E_INVAL for an unknown run or
 * totals beyond 2^63-1, else VG_OK, VG_E_NOMEM or VG_E_STORE.
 */
vg_status vg_store_run_end(struct vg_store *st, int64_t run_id, const struct vg_totals *t,
                           const char *status)
{
    if (!st)
        return VG_E_INVAL;
    if (!t || !status)
        return store_fail_msg(st, VG_E_INVAL, "run end: no totals or no status");
    const uint64_t v[7] = {t->lines,           t->requests, t->malformed,    t->oversize,
                           t->attack_requests, t->sources,  t->skipped_files};
    for (size_t i = 0; i < VG_ARRAY_LEN(v); i++)
        if (!store_fits_i64(v[i]))
            return store_fail_msg(st, VG_E_INVAL, "run end: a total exceeds 2^63-1");
    sqlite3_stmt *s = st->stmt[VG_SQL_RUN_END];
    int rc = sqlite3_bind_int64(s, 1, run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
    for (int i = 0; rc == SQLITE_OK && i < (int)VG_ARRAY_LEN(v); i++)
        rc = sqlite3_bind_int64(s, 4 + i, (int64_t)v[i]);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "run end");
    vg_status r = store_exec(st, VG_SQL_RUN_END, "run end");
    if (r == VG_OK && sqlite3_changes(st->db) != 1)
        return store_fail_msg(st, VG_E_INVAL, "run end: no run %lld", (long long)run_id);
    return r;
}

/* ---- files -------------------------------------------------------------------------------- */

/*
 * vg_store_fp_lengths: the distinct fingerprint lengths of the known files, longest first, into
 * lens[0..cap). OUT *n: how many were written. Lengths lie in 0..VG_FP_MAX, so cap VG_FP_MAX + 1
 * always suffices; when more than cap exist, the first cap are written and VG_E_LIMIT is
 * returned (a silent cut could let a known file pass for new and be counted twice).
 */
vg_status vg_store_fp_lengths(struct vg_store *st, size_t *lens, size_t cap, size_t *n)
{
    if (!st)
        return VG_E_INVAL;
    if (!n || (!lens && cap))
        return store_fail_msg(st, VG_E_INVAL, "fingerprint lengths: no output");
    *n = 0;
    sqlite3_stmt *s = st->stmt[VG_SQL_FP_LENGTHS];
    vg_status r = VG_OK;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            r = store_fail_msg(st, VG_E_LIMIT,
                               "fingerprint lengths: more than %zu distinct lengths", cap);
            break;
        }
        int64_t len = sqlite3_column_int64(s, 0);
        lens[(*n)++] = len < 0 ? 0 : (size_t)len;
    }
    if (r == VG_OK && rc != SQLITE_DONE)
        r = store_fail(st, rc, "fingerprint lengths");
    sqlite3_reset(s);
    return r;
}

/*
 * vg_store_file_find: looks a file up by fingerprint (hash of its first fp_len bytes). OUT *out:
 * its id and committed read position, when *found. Returns VG_OK whether found or not.
 */
vg_status vg_store_file_find(struct vg_store *st, const uint8_t hash[32], size_t fp_len,
                             struct vg_file_state *out, bool *found)
{
    if (!st)
        return VG_E_INVAL;
    if (!hash || !out || !found)
        return store_fail_msg(st, VG_E_INVAL, "file find: missing argument");
    *found = false;
    if (fp_len > VG_FP_MAX)
        return VG_OK; /* no stored file has such a fingerprint */
    sqlite3_stmt *s = st->stmt[VG_SQL_FILE_FIND];
    int rc = sqlite3_bind_int64(s, 1, (int64_t)fp_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, 2, hash, 32, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "file find");
    vg_status r = VG_OK;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int64_t off = sqlite3_column_int64(s, 1), lines = sqlite3_column_int64(s, 2);
        out->file_id = sqlite3_column_int64(s, 0);
        out->offset = off < 0 ? 0 : (uint64_t)off;
        out->lines = lines < 0 ? 0 : (uint64_t)lines;
        out->complete = sqlite3_column_int64(s, 3) != 0;
        /* Held requests of the last checkpoint: resume reading at the oldest of them. */
        out->replay_offset = out->offset;
        out->replay_lines = out->lines;
        out->pending = NULL;
        out->pending_len = 0;
        if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
            int64_t ro = sqlite3_column_int64(s, 4), rl = sqlite3_column_int64(s, 5);
            if (ro >= 0 && (uint64_t)ro <= out->offset && rl >= 0 && (uint64_t)rl <= out->lines) {
                out->replay_offset = (uint64_t)ro;
                out->replay_lines = (uint64_t)rl;
            }
            int bn = sqlite3_column_bytes(s, 6);
            const void *bp = sqlite3_column_blob(s, 6);
            if (bp && bn > 0) {
                out->pending = vg_malloc((size_t)bn);
                if (!out->pending) {
                    sqlite3_reset(s);
                    return store_fail_msg(st, VG_E_NOMEM, "file find: out of memory");
                }
                memcpy(out->pending, bp, (size_t)bn);
                out->pending_len = (size_t)bn;
            }
        }
        *found = true;
    } else if (rc != SQLITE_DONE) {
        r = store_fail(st, rc, "file find");
    }
    sqlite3_reset(s);
    return r;
}

/*
 * vg_store_file_add: records a new file at offset 0, first and last seen by run_id. IN path,
 * format, compression: for the record (format and compression may be NULL). OUT *file_id.
 * A file with the same (fp_len, hash) already known fails with VG_E_STORE (UNIQUE).
 */
vg_status vg_store_file_add(struct vg_store *st, int64_t run_id, const char *path,
                            const uint8_t hash[32], size_t fp_len, const char *format,
                            const char *compression, int64_t *file_id)
{
    if (!st)
        return VG_E_INVAL;
    if (!path || !hash || !file_id)
        return store_fail_msg(st, VG_E_INVAL, "file add: missing argument");
    if (fp_len > VG_FP_MAX)
        return store_fail_msg(st, VG_E_INVAL, "file add: fingerprint length %zu over %d", fp_len,
                              VG_FP_MAX);
    sqlite3_stmt *s = st->stmt[VG_SQL_FILE_ADD];
    int rc = sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, (int64_t)fp_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 3, path, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 4, format);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 5, compression);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 6, run_id);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "file add");
    vg_status r = store_exec(st, VG_SQL_FILE_ADD, "file add");
    if (r == VG_OK)
        *file_id = sqlite3_last_insert_rowid(st->db);
    return r;
}

/* Runs statement id with file_id as its only parameter. */
static vg_status store_exec_id(struct vg_store *st, enum vg_store_stmt id, int64_t file_id)
{
    int rc = sqlite3_bind_int64(st->stmt[id], 1, file_id);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "file restart");
    return store_exec(st, id, "file restart");
}

/*
 * Takes back what file_id contributed to sources: for each (month, ip) of its events (listed in
 * temp.vg_restart, the events themselves already deleted), subtracts their number and narrows
 * first/last seen to the events that remain; a row left with no attacks is deleted.
 */
static vg_status store_restart_sources(struct vg_store *st)
{
    sqlite3_stmt *list = st->stmt[VG_SQL_RS_LIST];
    sqlite3_stmt *fix = st->stmt[VG_SQL_RS_FIX_SOURCE];
    sqlite3_stmt *drop = st->stmt[VG_SQL_RS_DROP_SOURCE];
    vg_status r = VG_OK;
    int rc;
    while (r == VG_OK && (rc = sqlite3_step(list)) == SQLITE_ROW) {
        int64_t month = sqlite3_column_int64(list, 0);
        int64_t n = sqlite3_column_int64(list, 2);
        /* SQLITE_TRANSIENT: the column text is only valid until the list steps again. */
        const char *ip = (const char *)sqlite3_column_text(list, 1);
        int ip_len = sqlite3_column_bytes(list, 1);
        rc = ip ? SQLITE_OK : SQLITE_NOMEM;
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(fix, 1, month);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(fix, 2, ip, ip_len, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(fix, 3, n);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(drop, 1, month);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(drop, 2, ip, ip_len, SQLITE_TRANSIENT);
        if (rc != SQLITE_OK)
            r = store_fail(st, rc, "file restart");
        if (r == VG_OK)
            r = store_exec(st, VG_SQL_RS_FIX_SOURCE, "file restart");
        if (r == VG_OK)
            r = store_exec(st, VG_SQL_RS_DROP_SOURCE, "file restart");
    }
    if (r == VG_OK && rc != SQLITE_DONE)
        r = store_fail(st, rc, "file restart");
    sqlite3_reset(list);
    return r;
}

/* Removes everything file_id contributed (events, its month counts, its share of the sources)
   and puts it back at offset 0. Runs inside the caller's savepoint or transaction. */
static vg_status store_file_restart(struct vg_store *st, int64_t file_id)
{
    vg_status r = store_exec(st, VG_SQL_RS_CLEAR, "file restart");
    if (r == VG_OK)
        r = store_exec_id(st, VG_SQL_RS_COLLECT, file_id);
    if (r == VG_OK)
        r = sqlite3_exec(st->db, "DELETE FROM temp.vg_restart_inc", NULL, NULL, NULL) == SQLITE_OK
                ? VG_OK
                : store_fail(st, sqlite3_errcode(st->db), "file restart");
    if (r == VG_OK)
        r = store_exec_id(st, VG_SQL_RS_INC_COLLECT, file_id);
    if (r == VG_OK)
        r = store_exec_id(st, VG_SQL_RS_DEL_EVENTS, file_id);
    if (r == VG_OK)
        r = store_exec(st, VG_SQL_RS_INC_DROP, "file restart");
    if (r == VG_OK)
        r = store_exec(st, VG_SQL_RS_INC_FIX, "file restart");
    if (r == VG_OK)
        r = store_restart_sources(st);
    if (r == VG_OK)
        r = store_exec_id(st, VG_SQL_RS_DEL_MONTHS, file_id);
    if (r == VG_OK)
        r = store_exec_id(st, VG_SQL_RS_RESET_FILE, file_id);
    if (r == VG_OK)
        r = store_exec(st, VG_SQL_RS_CLEAR, "file restart");
    return r;
}

/*
 * vg_store_file_touch: notes that a known file was seen as path by run_id. With restart (a
 * --rescan), also takes back everything the file contributed (its events, its month counts and
 * its share of the sources' counts) and resets it to offset 0, so that scanning it again counts
 * it once, not twice. All of it is atomic: inside the caller's transaction when one is open
 * (as a savepoint), else in a transaction of its own. Unknown file_id: VG_E_INVAL.
 */
vg_status vg_store_file_touch(struct vg_store *st, int64_t file_id, int64_t run_id,
                              const char *path, bool restart)
{
    if (!st)
        return VG_E_INVAL;
    if (!path)
        return store_fail_msg(st, VG_E_INVAL, "file touch: no path");
    /* Outside a transaction, BEGIN IMMEDIATE (not a deferred SAVEPOINT) takes the write lock
       up front, so another writer cannot make the later upgrade fail with SQLITE_BUSY. */
    bool own_tx = sqlite3_get_autocommit(st->db) != 0;
    vg_status r = store_exec(st, own_tx ? VG_SQL_BEGIN : VG_SQL_SAVEPOINT, "file touch");
    if (r != VG_OK)
        return r;
    sqlite3_stmt *s = st->stmt[VG_SQL_FILE_TOUCH];
    int rc = sqlite3_bind_int64(s, 1, file_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, run_id);
    r = rc == SQLITE_OK ? store_exec(st, VG_SQL_FILE_TOUCH, "file touch")
                        : store_fail(st, rc, "file touch");
    if (r == VG_OK && sqlite3_changes(st->db) != 1)
        r = store_fail_msg(st, VG_E_INVAL, "file touch: no file %lld", (long long)file_id);
    if (r == VG_OK && restart)
        r = store_file_restart(st, file_id);
    if (r == VG_OK)
        return store_exec(st, own_tx ? VG_SQL_COMMIT : VG_SQL_RELEASE, "file touch");
    /* Undo the partial work; the first error's message is the one kept. */
    char keep[sizeof st->msg];
    memcpy(keep, st->msg, sizeof keep);
    if (own_tx) {
        if (!sqlite3_get_autocommit(st->db))
            (void)store_exec(st, VG_SQL_ROLLBACK, "file touch");
    } else {
        (void)store_exec(st, VG_SQL_ROLLBACK_TO, "file touch");
        (void)store_exec(st, VG_SQL_RELEASE, "file touch");
    }
    memcpy(st->msg, keep, sizeof keep);
    return r;
}

/*
 * vg_store_file_progress: records that file_id has been read to offset (decompressed bytes,
 * lines lines), and whether that is its end. Call it inside the checkpoint's transaction, with
 * the events and counts read up to there. Unknown file or values over 2^63-1: VG_E_INVAL.
 */
vg_status vg_store_file_progress(struct vg_store *st, int64_t file_id, uint64_t offset,
                                 uint64_t lines, bool complete)
{
    if (!st)
        return VG_E_INVAL;
    if (!store_fits_i64(offset) || !store_fits_i64(lines))
        return store_fail_msg(st, VG_E_INVAL, "file progress: offset or lines over 2^63-1");
    sqlite3_stmt *s = st->stmt[VG_SQL_FILE_PROGRESS];
    int rc = sqlite3_bind_int64(s, 1, file_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, (int64_t)offset);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, (int64_t)lines);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 4, complete ? 1 : 0);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "file progress");
    vg_status r = store_exec(st, VG_SQL_FILE_PROGRESS, "file progress");
    if (r == VG_OK && sqlite3_changes(st->db) != 1)
        return store_fail_msg(st, VG_E_INVAL, "file progress: no file %lld", (long long)file_id);
    return r;
}

/* ---- transactions ------------------------------------------------------------------------- */

/*
 * vg_store_begin: opens a write transaction (BEGIN IMMEDIATE: the write lock is taken now,
 * waiting up to 5 s for another writer). Usage, once per checkpoint:
 *
 *     vg_store_begin(st);
 *     vg_store_add_event(...) ...; vg_store_add_month(...) ...; vg_store_add_source(...) ...;
 *     vg_store_file_progress(st, file_id, offset, lines, complete);
 *     if (vg_store_commit(st) != VG_OK) { vg_store_rollback(st); ... }
 *
 * A transaction already open is an error (VG_E_STORE).
 */
vg_status vg_store_begin(struct vg_store *st)
{
    if (!st)
        return VG_E_INVAL;
    return store_exec(st, VG_SQL_BEGIN, "begin");
}

/*
 * vg_store_commit: commits the open transaction. On failure (VG_E_STORE, message kept) the
 * transaction may still be open: call vg_store_rollback, which is harmless if it is not.
 */
vg_status vg_store_commit(struct vg_store *st)
{
    if (!st)
        return VG_E_INVAL;
    return store_exec(st, VG_SQL_COMMIT, "commit");
}

/* vg_store_rollback: undoes the open transaction; VG_OK when none is open. */
vg_status vg_store_rollback(struct vg_store *st)
{
    if (!st)
        return VG_E_INVAL;
    if (sqlite3_get_autocommit(st->db))
        return VG_OK;
    return store_exec(st, VG_SQL_ROLLBACK, "rollback");
}

/* ---- rows --------------------------------------------------------------------------------- */

/*
 * vg_store_add_event: stores one attack event of run run_id: its columns, its JSON (json_len
 * bytes, valid UTF-8 as vg_event_write_json makes it) and the raw line bytes (exact, BLOB).
 * ev->file_id 0 (no file identity) is stored as NULL. An event at an (file_id, offset) already
 * stored is ignored (VG_OK). Nothing is copied to the heap unless method/host/target need U+FFFD
 * replacement (into scratch kept by the handle). Performance note: one persistent statement,
 * SQLITE_STATIC bindings.
 */
vg_status vg_store_add_event(struct vg_store *st, int64_t run_id, const struct vg_event *ev,
                             const uint8_t *json, size_t json_len)
{
    if (!st)
        return VG_E_INVAL;
    if (!ev || (!json && json_len))
        return store_fail_msg(st, VG_E_INVAL, "add event: missing argument");
    if ((!ev->method.p && ev->method.n) || (!ev->host.p && ev->host.n) ||
        (!ev->target.p && ev->target.n) || (!ev->raw_line.p && ev->raw_line.n))
        return store_fail_msg(st, VG_E_INVAL, "add event: a byte view has a length but no bytes");
    if (!store_fits_i64(ev->offset) || !store_fits_i64(ev->line_no))
        return store_fail_msg(st, VG_E_INVAL, "add event: offset or line over 2^63-1");
    sqlite3_stmt *s = st->stmt[VG_SQL_ADD_EVENT];
    size_t ip_len = strnlen(ev->ip, sizeof ev->ip);
    size_t cc_len = strnlen(ev->country, sizeof ev->country);
    const struct vg_str cols[3] = {ev->method, ev->host, ev->target};
    vg_status r = VG_OK;

    int rc = sqlite3_bind_int64(s, 1, run_id);
    if (rc == SQLITE_OK)
        rc = ev->file_id ? sqlite3_bind_int64(s, 2, ev->file_id) : sqlite3_bind_null(s, 2);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, (int64_t)ev->offset);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, (int64_t)ev->line_no);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 5, ev->time);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 6, vg_month_key(ev->time));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 7, ev->ip, (int)ip_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = cc_len ? sqlite3_bind_text(s, 8, ev->country, (int)cc_len, SQLITE_STATIC)
                    : sqlite3_bind_null(s, 8);
    for (int i = 0; rc == SQLITE_OK && r == VG_OK && i < 3; i++)
        r = store_bind_log_text(s, 9 + i, cols[i], &st->clean[i], &rc);
    if (r != VG_OK)
        return store_fail_msg(st, r, "add event: %s", vg_strerror(r));
    if (rc == SQLITE_OK)
        rc = ev->status >= 0 ? sqlite3_bind_int(s, 12, ev->status) : sqlite3_bind_null(s, 12);
    if (rc == SQLITE_OK)
        rc = ev->bytes >= 0 ? sqlite3_bind_int64(s, 13, ev->bytes) : sqlite3_bind_null(s, 13);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 14, ev->score);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 15, (int64_t)ev->classes);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 16, ev->outcome);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text64(s, 17, json ? (const char *)json : "", json_len, SQLITE_STATIC,
                                 SQLITE_UTF8);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob64(s, 18, ev->raw_line.n ? (const void *)ev->raw_line.p : "",
                                 ev->raw_line.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 19, ev->incident && *ev->incident ? ev->incident : NULL);
    if (rc == SQLITE_OK)
        rc = ev->asn ? sqlite3_bind_int64(s, 20, ev->asn) : sqlite3_bind_null(s, 20);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 21, ev->size_anomaly ? 1 : 0);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "add event");
    st->inserted = false;
    r = store_exec(st, VG_SQL_ADD_EVENT, "add event");
    if (r == VG_OK)
        st->inserted = sqlite3_changes(st->db) == 1;
    return r;
}

/*
 * vg_store_add_month: adds deltas to file_id's counters for month (year * 12 + month - 1),
 * creating the row at zero first. Deltas over 2^63-1: VG_E_INVAL.
 */
vg_status vg_store_add_month(struct vg_store *st, int64_t file_id, int32_t month, uint64_t requests,
                             uint64_t attacks, uint64_t malformed)
{
    if (!st)
        return VG_E_INVAL;
    if (!store_fits_i64(requests) || !store_fits_i64(attacks) || !store_fits_i64(malformed))
        return store_fail_msg(st, VG_E_INVAL, "add month: a delta exceeds 2^63-1");
    sqlite3_stmt *s = st->stmt[VG_SQL_ADD_MONTH];
    int rc = sqlite3_bind_int64(s, 1, file_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 2, month);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, (int64_t)requests);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, (int64_t)attacks);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 5, (int64_t)malformed);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "add month");
    return store_exec(st, VG_SQL_ADD_MONTH, "add month");
}

/*
 * vg_store_add_source: adds attacks to the (month, ip) row of an attacking source and widens
 * its [first_seen, last_seen] to include [first, last]. country: ISO code, NULL or "" when
 * unknown (an unknown country does not overwrite a known one). first > last: VG_E_INVAL.
 */
vg_status vg_store_add_source(struct vg_store *st, int32_t month, const char *ip,
                              const char *country, uint64_t attacks, int64_t first, int64_t last)
{
    if (!st)
        return VG_E_INVAL;
    if (!ip || !*ip)
        return store_fail_msg(st, VG_E_INVAL, "add source: no address");
    if (!store_fits_i64(attacks) || first > last)
        return store_fail_msg(st, VG_E_INVAL, "add source: bad count or time span");
    sqlite3_stmt *s = st->stmt[VG_SQL_ADD_SOURCE];
    int rc = sqlite3_bind_int(s, 1, month);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 2, ip, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = store_bind_cstr(s, 3, country && *country ? country : NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, (int64_t)attacks);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 5, first);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 6, last);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "add source");
    return store_exec(st, VG_SQL_ADD_SOURCE, "add source");
}

/* ---- schema 2: attribution, incidents, campaigns, behaviour state ----------------------------- */

/* vg_store_event_inserted: whether the last vg_store_add_event stored a row. */
bool vg_store_event_inserted(const struct vg_store *st)
{
    return st && st->inserted;
}

/*
 * vg_store_file_pending: records the held requests of file_id at this checkpoint (resume
 * offset and line, and their offsets as a blob; n 0 clears them). Unknown file: VG_E_INVAL.
 */
vg_status vg_store_file_pending(struct vg_store *st, int64_t file_id, uint64_t replay_offset,
                                uint64_t replay_lines, const uint8_t *blob, size_t n)
{
    if (!st)
        return VG_E_INVAL;
    if (!store_fits_i64(replay_offset) || !store_fits_i64(replay_lines) || (n && !blob))
        return store_fail_msg(st, VG_E_INVAL, "file pending: bad argument");
    sqlite3_stmt *s = st->stmt[VG_SQL_FILE_PENDING];
    int rc = sqlite3_bind_int64(s, 1, file_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, (int64_t)replay_offset);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, (int64_t)replay_lines);
    if (rc == SQLITE_OK)
        rc = n ? sqlite3_bind_blob64(s, 4, blob, n, SQLITE_STATIC) : sqlite3_bind_null(s, 4);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "file pending");
    vg_status r = store_exec(st, VG_SQL_FILE_PENDING, "file pending");
    if (r == VG_OK && sqlite3_changes(st->db) != 1)
        return store_fail_msg(st, VG_E_INVAL, "file pending: no file %lld", (long long)file_id);
    return r;
}

/* Binds a C string, NULL when empty. */
static int bind_opt(sqlite3_stmt *s, int col, const char *v)
{
    return v && *v ? sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, col);
}

/*
 * vg_store_put_address: records the attribution of an attacking address (upsert: a known
 * country/AS is not overwritten by an unknown one; labels and network are replaced).
 */
vg_status vg_store_put_address(struct vg_store *st, const struct vg_address_info *a)
{
    if (!st)
        return VG_E_INVAL;
    if (!a || !a->ip || !*a->ip || a->first > a->last)
        return store_fail_msg(st, VG_E_INVAL, "put address: bad argument");
    sqlite3_stmt *s = st->stmt[VG_SQL_PUT_ADDRESS];
    int rc = sqlite3_bind_text(s, 1, a->ip, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = bind_opt(s, 2, a->country);
    if (rc == SQLITE_OK)
        rc = a->asn ? sqlite3_bind_int64(s, 3, a->asn) : sqlite3_bind_null(s, 3);
    if (rc == SQLITE_OK)
        rc = bind_opt(s, 4, a->as_org);
    if (rc == SQLITE_OK)
        rc = bind_opt(s, 5, a->net);
    if (rc == SQLITE_OK)
        rc = bind_opt(s, 6, a->labels);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 7, a->first);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 8, a->last);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "put address");
    return store_exec(st, VG_SQL_PUT_ADDRESS, "put address");
}

/* vg_store_put_incident: inserts or replaces the counters of one incident (by id). */
vg_status vg_store_put_incident(struct vg_store *st, const struct vg_incident *inc)
{
    if (!st)
        return VG_E_INVAL;
    if (!inc || !inc->id[0] || !inc->ip[0] || inc->first > inc->last)
        return store_fail_msg(st, VG_E_INVAL, "put incident: bad argument");
    int rc = bind_incident(st->stmt[VG_SQL_PUT_INCIDENT], inc);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "put incident");
    return store_exec(st, VG_SQL_PUT_INCIDENT, "put incident");
}

/* vg_store_find_incident: the latest stored incident of (ip, site). */
vg_status vg_store_find_incident(struct vg_store *st, const char *ip, const char *site,
                                 struct vg_incident *out, bool *found)
{
    if (!st)
        return VG_E_INVAL;
    if (!ip || !out || !found)
        return store_fail_msg(st, VG_E_INVAL, "find incident: bad argument");
    *found = false;
    sqlite3_stmt *s = st->stmt[VG_SQL_FIND_INCIDENT];
    int rc = sqlite3_bind_text(s, 1, ip, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 2, site ? site : "", -1, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "find incident");
    vg_status r = VG_OK;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        read_incident(s, 0, out);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        r = store_fail(st, rc, "find incident");
    }
    sqlite3_reset(s);
    return r;
}

/* vg_store_has_incidents: whether the store holds any incident. */
vg_status vg_store_has_incidents(struct vg_store *st, bool *any)
{
    if (!st || !any)
        return VG_E_INVAL;
    sqlite3_stmt *s = st->stmt[VG_SQL_HAS_INCIDENTS];
    int rc = sqlite3_step(s);
    vg_status r = VG_OK;
    if (rc == SQLITE_ROW)
        *any = sqlite3_column_int(s, 0) != 0;
    else
        r = store_fail(st, rc, "has incidents");
    sqlite3_reset(s);
    return r;
}

/* vg_store_put_state: stores a named behaviour state blob (replacing the previous one). */
vg_status vg_store_put_state(struct vg_store *st, const char *key, const uint8_t *blob, size_t n)
{
    if (!st)
        return VG_E_INVAL;
    if (!key || (n && !blob))
        return store_fail_msg(st, VG_E_INVAL, "put state: bad argument");
    sqlite3_stmt *s = st->stmt[VG_SQL_PUT_STATE];
    int rc = sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob64(s, 2, n ? (const void *)blob : "", n, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "put state");
    return store_exec(st, VG_SQL_PUT_STATE, "put state");
}

/* vg_store_get_state: reads a named behaviour state blob (*blob allocated; NULL when absent). */
vg_status vg_store_get_state(struct vg_store *st, const char *key, uint8_t **blob, size_t *n)
{
    if (!st)
        return VG_E_INVAL;
    if (!key || !blob || !n)
        return store_fail_msg(st, VG_E_INVAL, "get state: bad argument");
    *blob = NULL;
    *n = 0;
    sqlite3_stmt *s = st->stmt[VG_SQL_GET_STATE];
    int rc = sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "get state");
    vg_status r = VG_OK;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int bn = sqlite3_column_bytes(s, 0);
        const void *bp = sqlite3_column_blob(s, 0);
        if (bp && bn > 0) {
            *blob = vg_malloc((size_t)bn);
            if (!*blob)
                r = store_fail_msg(st, VG_E_NOMEM, "get state: out of memory");
            else {
                memcpy(*blob, bp, (size_t)bn);
                *n = (size_t)bn;
            }
        }
    } else if (rc != SQLITE_DONE) {
        r = store_fail(st, rc, "get state");
    }
    sqlite3_reset(s);
    return r;
}

/*
 * vg_store_rebuild_campaigns: recomputes every campaign from the stored incidents and replaces
 * the campaigns table and incidents.campaign, in a transaction of its own. Campaign ids are
 * "c" followed by the id of the campaign's first incident, so they stay stable as long as that
 * incident stays the first.
 */
vg_status vg_store_rebuild_campaigns(struct vg_store *st, const struct vg_campaign_params *p,
                                     size_t *n_campaigns)
{
    if (!st || !p)
        return VG_E_INVAL;
    if (n_campaigns)
        *n_campaigns = 0;
    if (!sqlite3_get_autocommit(st->db))
        return store_fail_msg(st, VG_E_INVAL, "rebuild campaigns: a transaction is open");
    struct vg_incident *inc = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *sel = NULL, *set = NULL, *ins = NULL;
    struct vg_campaign_result res;
    memset(&res, 0, sizeof res);
    vg_status r = store_exec(st, VG_SQL_BEGIN, "rebuild campaigns");
    if (r != VG_OK)
        return r;
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT id, ip, site, first_seen, last_seen, attacks, classes_mask,"
                                " detectors_mask, tool, ua_hash, rules, net, asn, country, success,"
                                " refused, failed, unknown FROM incidents ORDER BY first_seen, id",
                                -1, &sel, NULL);
    while (rc == SQLITE_OK && r == VG_OK) {
        int step = sqlite3_step(sel);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = step;
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            struct vg_incident *ni = vg_realloc(inc, nc * sizeof *ni);
            if (!ni) {
                r = store_fail_msg(st, VG_E_NOMEM, "rebuild campaigns: out of memory");
                break;
            }
            inc = ni;
            cap = nc;
        }
        read_incident(sel, 0, &inc[n++]);
    }
    if (r == VG_OK && rc == SQLITE_OK && n)
        r = vg_campaigns_build(p, inc, n, &res);
    if (r == VG_OK && rc == SQLITE_OK)
        rc = sqlite3_exec(st->db, "DELETE FROM campaigns; UPDATE incidents SET campaign = NULL"
                                  " WHERE campaign IS NOT NULL;",
                          NULL, NULL, NULL);
    if (r == VG_OK && rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(st->db, "UPDATE incidents SET campaign = ?2 WHERE id = ?1", -1,
                                &set, NULL);
    if (r == VG_OK && rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(st->db,
                                "INSERT INTO campaigns(id, first_seen, last_seen, incidents,"
                                " sources, classes_mask, reasons, why)"
                                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                -1, &ins, NULL);
    if (r == VG_OK && rc == SQLITE_OK && res.n_campaigns) {
        /* Per campaign: its first incident (the id), span, members, distinct sources, classes. */
        struct agg {
            size_t first_idx;
            int64_t first, last;
            uint64_t incidents;
            uint32_t classes;
        } *ag = vg_calloc(res.n_campaigns, sizeof *ag);
        char (*ids)[VG_INCIDENT_ID_LEN + 2] = vg_calloc(res.n_campaigns, sizeof *ids);
        if (!ag || !ids) {
            r = store_fail_msg(st, VG_E_NOMEM, "rebuild campaigns: out of memory");
        } else {
            for (size_t i = 0; i < n; i++) {
                long c = res.campaign_of[i];
                if (c < 0)
                    continue;
                struct agg *g = &ag[c];
                if (!g->incidents || inc[i].first < g->first ||
                    (inc[i].first == g->first && strcmp(inc[i].id, inc[g->first_idx].id) < 0)) {
                    g->first_idx = i;
                    g->first = inc[i].first;
                }
                if (!g->incidents || inc[i].last > g->last)
                    g->last = inc[i].last;
                g->incidents++;
                g->classes |= inc[i].classes;
            }
            for (size_t c = 0; c < res.n_campaigns; c++)
                snprintf(ids[c], sizeof ids[c], "c%s", inc[ag[c].first_idx].id);
            for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
                long c = res.campaign_of[i];
                if (c < 0)
                    continue;
                rc = sqlite3_bind_text(set, 1, inc[i].id, -1, SQLITE_STATIC);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_text(set, 2, ids[c], -1, SQLITE_STATIC);
                if (rc == SQLITE_OK)
                    rc = sqlite3_step(set) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(st->db);
                sqlite3_reset(set);
            }
            for (size_t c = 0; rc == SQLITE_OK && c < res.n_campaigns; c++) {
                /* distinct sources: members of c sharing an ip are counted once */
                uint64_t sources = 0;
                for (size_t i = 0; i < n; i++) {
                    if (res.campaign_of[i] != (long)c)
                        continue;
                    bool dup = false;
                    for (size_t j = 0; j < i && !dup; j++)
                        dup = res.campaign_of[j] == (long)c && strcmp(inc[j].ip, inc[i].ip) == 0;
                    sources += !dup;
                }
                rc = sqlite3_bind_text(ins, 1, ids[c], -1, SQLITE_STATIC);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_int64(ins, 2, ag[c].first);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_int64(ins, 3, ag[c].last);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_int64(ins, 4, (int64_t)ag[c].incidents);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_int64(ins, 5, (int64_t)sources);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_int64(ins, 6, ag[c].classes);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_int64(ins, 7, res.reasons[c]);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_text(ins, 8, res.why[c], -1, SQLITE_STATIC);
                if (rc == SQLITE_OK)
                    rc = sqlite3_step(ins) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(st->db);
                sqlite3_reset(ins);
            }
        }
        vg_free(ag);
        vg_free(ids);
    }
    if (r == VG_OK && rc != SQLITE_OK)
        r = store_fail(st, rc, "rebuild campaigns");
    sqlite3_finalize(sel);
    sqlite3_finalize(set);
    sqlite3_finalize(ins);
    if (r == VG_OK)
        r = store_exec(st, VG_SQL_COMMIT, "rebuild campaigns");
    if (r != VG_OK) {
        char keep[sizeof st->msg];
        memcpy(keep, st->msg, sizeof keep);
        vg_store_rollback(st);
        memcpy(st->msg, keep, sizeof keep);
    } else if (n_campaigns) {
        *n_campaigns = res.n_campaigns;
    }
    vg_campaign_result_free(&res);
    vg_free(inc);
    return r;
}

sqlite3 *vg_store_db(struct vg_store *st)
{
    return st ? st->db : NULL;
}

vg_status vg_store_fail_rc(struct vg_store *st, int rc, const char *what)
{
    return store_fail(st, rc, what);
}
