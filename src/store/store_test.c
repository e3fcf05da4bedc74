/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_test.c: unit tests of the SQLite result store (store_sqlite.c). Every test works on real
 * SQLite files in its own mkdtemp directory and checks what was written with plain sqlite3
 * queries on a second connection, as a report or another process would see it.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
#include <sqlite3.h>

#include "store/store.h"

/* ---- fixture: a fresh directory per test -------------------------------------------------- */

struct fixture {
    char dir[64];
    char db[128];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/vg_store_test.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->db, sizeof fx->db, "%s/vigil.db", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    DIR *d = opendir(fx->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", fx->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* ---- plain sqlite3 access, as a reader of the store --------------------------------------- */

static sqlite3 *plain_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    return db;
}

static void plain_exec(const char *path, const char *sql)
{
    sqlite3 *db = plain_open(path);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

/* The single integer the query returns (fails the test when there is no row). */
static int64_t q_int(const char *path, const char *sql)
{
    sqlite3 *db = plain_open(path);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(s) != SQLITE_ROW)
        fail_msg("%s: no row", sql);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* The bytes of the single value the query returns, into out (NUL-added); returns the length,
   or -1 when the value is NULL. */
static long q_bytes(const char *path, const char *sql, char *out, size_t cap)
{
    sqlite3 *db = plain_open(path);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(s) != SQLITE_ROW)
        fail_msg("%s: no row", sql);
    long n = -1;
    if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
        const void *p = sqlite3_column_blob(s, 0);
        n = sqlite3_column_bytes(s, 0);
        assert_true((size_t)n < cap);
        if (n)
            memcpy(out, p, (size_t)n);
        out[n] = 0;
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void assert_text(const char *path, const char *sql, const char *want)
{
    char got[4096];
    long n = q_bytes(path, sql, got, sizeof got);
    if (!want) {
        assert_int_equal(n, -1);
        return;
    }
    assert_true(n >= 0);
    assert_string_equal(got, want);
}

/* ---- building inputs ---------------------------------------------------------------------- */

static struct vg_store *open_ok(const char *path)
{
    struct vg_store *st = NULL;
    struct vg_error err;
    vg_status r = vg_store_open(path, &st, &err);
    if (r != VG_OK)
        fail_msg("open %s: %s", path, err.message);
    assert_non_null(st);
    return st;
}

static int64_t run_ok(struct vg_store *st, int64_t started)
{
    struct vg_run_info info = {
        "0.1.0", "rules-abc", "geo (built 2026-06-17)", "combined", "vigil scan access.log",
        started, NULL, NULL, NULL};
    int64_t id = 0;
    assert_int_equal(vg_store_run_begin(st, &info, &id), VG_OK);
    assert_true(id > 0);
    return id;
}

static void fp_of(uint8_t hash[32], unsigned seed)
{
    for (unsigned i = 0; i < 32; i++)
        hash[i] = (uint8_t)(seed * 31u + i * 7u);
}

static int64_t file_ok(struct vg_store *st, int64_t run, unsigned seed, size_t fp_len,
                       const char *path)
{
    uint8_t h[32];
    fp_of(h, seed);
    int64_t id = 0;
    assert_int_equal(vg_store_file_add(st, run, path, h, fp_len, "combined", "none", &id), VG_OK);
    assert_true(id > 0);
    return id;
}

/* 2026-03-10T12:00:00Z and a month key for it (2026 * 12 + 2). */
#define T_MARCH 1773144000
#define M_MARCH (2026 * 12 + 2)
#define M_APRIL (2026 * 12 + 3)

static struct vg_event make_event(int64_t file_id, uint64_t offset, int64_t t, const char *ip)
{
    struct vg_event ev;
    memset(&ev, 0, sizeof ev);
    ev.time = t;
    snprintf(ev.ip, sizeof ev.ip, "%s", ip);
    snprintf(ev.country, sizeof ev.country, "NL");
    ev.method = VG_STR_LIT("GET");
    ev.host = VG_STR_LIT("www.example.gov");
    ev.target = VG_STR_LIT("/search?q=1%27%20OR%201=1--");
    ev.raw_line = VG_STR_LIT("203.0.113.7 - - [10/Mar/2026:12:00:00 +0000] \"GET /search?q=1%27"
                             "%20OR%201=1-- HTTP/1.1\" 200 5120 \"-\" \"sqlmap/1.7\"");
    ev.status = 200;
    ev.bytes = 5120;
    ev.score = 25;
    ev.classes = (1u << 0) | (1u << 3);
    ev.outcome = "possible-success";
    ev.file_path = "access.log";
    ev.file_id = file_id;
    ev.offset = offset;
    ev.line_no = offset / 100 + 1;
    return ev;
}

static void add_event_ok(struct vg_store *st, int64_t run, const struct vg_event *ev)
{
    static const char json[] = "{\"vigil\":{\"score\":25}}";
    vg_status r = vg_store_add_event(st, run, ev, (const uint8_t *)json, sizeof json - 1);
    if (r != VG_OK)
        fail_msg("add event: %s", vg_store_errmsg(st));
}

/*
 * One checkpoint's worth of a scan: events at offsets [from, to) step 100, counts for them, and
 * the file's progress at `to`, all in the caller's transaction.
 */
static void add_batch(struct vg_store *st, int64_t run, int64_t file, uint64_t from, uint64_t to)
{
    uint64_t n = 0;
    for (uint64_t off = from; off < to; off += 100, n++) {
        struct vg_event ev = make_event(file, off, T_MARCH + (int64_t)off, "203.0.113.7");
        add_event_ok(st, run, &ev);
    }
    assert_int_equal(vg_store_add_month(st, file, M_MARCH, n * 2, n, 1), VG_OK);
    assert_int_equal(vg_store_add_source(st, M_MARCH, "203.0.113.7", "NL", n,
                                         T_MARCH + (int64_t)from, T_MARCH + (int64_t)to - 100),
                     VG_OK);
    assert_int_equal(vg_store_file_progress(st, file, to, to / 100, false), VG_OK);
}

/* ---- open, schema, reopen ----------------------------------------------------------------- */

static void test_open_creates_schema_in_wal_mode(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    static const char *const objects[] = {"meta",         "runs",      "files",
                                          "month_counts", "sources",   "events",
                                          "events_month", "events_ip", "sources_ip"};
    for (size_t i = 0; i < VG_ARRAY_LEN(objects); i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
                 objects[i]);
        if (q_int(fx->db, sql) != 1)
            fail_msg("schema object %s missing", objects[i]);
    }
    assert_text(fx->db, "SELECT value FROM meta WHERE key = 'schema_version'", "2");
    assert_text(fx->db, "PRAGMA journal_mode", "wal");
    assert_int_equal(q_int(fx->db, "PRAGMA application_id"), 0x5647494c);
    assert_string_equal(vg_store_errmsg(st), "not an error");
    vg_store_close(st);
    vg_store_close(NULL); /* harmless */
}

static void test_reopen_keeps_data_and_schema(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1000);
    int64_t file = file_ok(st, run, 1, 1024, "access.log");
    assert_int_equal(vg_store_begin(st), VG_OK);
    add_batch(st, run, file, 0, 500);
    assert_int_equal(vg_store_commit(st), VG_OK);
    vg_store_close(st);

    st = open_ok(fx->db);
    uint8_t h[32];
    fp_of(h, 1);
    struct vg_file_state fs;
    bool found = false;
    assert_int_equal(vg_store_file_find(st, h, 1024, &fs, &found), VG_OK);
    assert_true(found);
    assert_int_equal(fs.file_id, file);
    assert_int_equal(fs.offset, 500);
    assert_int_equal(fs.lines, 5);
    vg_store_close(st);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM events"), 5);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM meta"), 1);
}

/* Files that are not SQLite databases, written where the store should be. */
static const struct {
    const char *name;
    const char *bytes;
    size_t n;
} not_sqlite[] = {
#define BYTES(s) s, sizeof(s) - 1
    {"text", BYTES("192.0.2.1 - - [10/Mar/2026:12:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n")},
    {"sqlite-magic-then-zeros", BYTES("SQLite format 3\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")},
    {"gzip", BYTES("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xfe\x00\x01")},
    {"zeros", BYTES("\0\0\0\0")},
#undef BYTES
};

static void test_open_rejects_files_that_are_not_sqlite(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < VG_ARRAY_LEN(not_sqlite); i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s.db", fx->dir, not_sqlite[i].name);
        /* Pad to a full page so SQLite reads a header rather than taking a tiny file for new. */
        char content[4096];
        memset(content, 'x', sizeof content);
        memcpy(content, not_sqlite[i].bytes, not_sqlite[i].n);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(content, 1, sizeof content, f), sizeof content);
        fclose(f);

        struct vg_store *st = (struct vg_store *)&st; /* must be reset to NULL */
        struct vg_error err;
        memset(&err, 0, sizeof err);
        assert_int_equal(vg_store_open(path, &st, &err), VG_E_STORE);
        assert_null(st);
        assert_int_equal(err.status, VG_E_STORE);
        if (strncmp(err.message, path, strlen(path)) != 0 ||
            !strstr(err.message, "not a vigil store"))
            fail_msg("%s: message \"%s\"", not_sqlite[i].name, err.message);
        assert_string_equal(err.where, path);

        /* The file was not touched. */
        char back[4096 + 1];
        f = fopen(path, "rb");
        assert_non_null(f);
        assert_int_equal(fread(back, 1, sizeof back, f), sizeof content);
        fclose(f);
        assert_memory_equal(back, content, sizeof content);
    }
}

static void test_open_refuses_newer_schema_version(void **state)
{
    struct fixture *fx = *state;
    vg_store_close(open_ok(fx->db));
    plain_exec(fx->db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    struct vg_store *st = NULL;
    struct vg_error err;
    assert_int_equal(vg_store_open(fx->db, &st, &err), VG_E_STORE);
    assert_null(st);
    assert_non_null(strstr(err.message, fx->db));
    assert_non_null(strstr(err.message, "schema version 99 is newer"));
    assert_text(fx->db, "SELECT value FROM meta WHERE key = 'schema_version'", "99");
}

static void test_open_refuses_store_without_schema_version(void **state)
{
    struct fixture *fx = *state;
    static const char *const damage[] = {
        "DELETE FROM meta",
        "UPDATE meta SET value = 'one' WHERE key = 'schema_version'",
        "UPDATE meta SET value = '0' WHERE key = 'schema_version'",
        "DROP TABLE meta",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(damage); i++) {
        unlink(fx->db);
        vg_store_close(open_ok(fx->db));
        plain_exec(fx->db, damage[i]);
        struct vg_store *st = NULL;
        struct vg_error err;
        assert_int_equal(vg_store_open(fx->db, &st, &err), VG_E_STORE);
        assert_null(st);
        if (!strstr(err.message, "not a vigil store: it has no schema version"))
            fail_msg("after %s: %s", damage[i], err.message);
    }
}

static void test_open_refuses_database_of_another_application(void **state)
{
    struct fixture *fx = *state;
    /* The second one even has a meta table that looks like vigil's. */
    static const char *const foreign[] = {
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO users(name) VALUES('alice')",
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES('schema_version', '1')",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(foreign); i++) {
        unlink(fx->db);
        plain_exec(fx->db, foreign[i]);
        struct vg_store *st = NULL;
        struct vg_error err;
        assert_int_equal(vg_store_open(fx->db, &st, &err), VG_E_STORE);
        assert_null(st);
        if (!strstr(err.message, "not a vigil store: it is a SQLite database of another"))
            fail_msg("foreign database %zu: %s", i, err.message);
        /* Nothing of vigil was added, and its journal mode was left alone. */
        assert_int_equal(q_int(fx->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"),
                         1);
        assert_text(fx->db, "PRAGMA journal_mode", "delete");
        assert_int_equal(q_int(fx->db, "PRAGMA application_id"), 0);
    }
}

static void test_open_reports_unopenable_path(void **state)
{
    struct fixture *fx = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/no/such/dir/vigil.db", fx->dir);
    struct vg_store *st = NULL;
    struct vg_error err;
    assert_int_equal(vg_store_open(path, &st, &err), VG_E_STORE);
    assert_null(st);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "cannot open store"));
    assert_int_equal(vg_store_open(NULL, &st, &err), VG_E_INVAL);
    assert_int_equal(vg_store_open(fx->db, NULL, NULL), VG_E_INVAL);
}

/* ---- out-of-memory (the library's own allocations; SQLite has its own allocator) ------------ */

static int alloc_budget; /* allocations that succeed before the next ones fail */

static void *budget_malloc(size_t n)
{
    return alloc_budget-- > 0 ? malloc(n) : NULL;
}

static void *budget_realloc(void *p, size_t n)
{
    return alloc_budget-- > 0 ? realloc(p, n) : NULL;
}

static const struct vg_allocator budget_alloc = {budget_malloc, budget_realloc, free};

static void test_out_of_memory_is_reported_not_fatal(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = NULL;
    struct vg_error err;
    alloc_budget = 0;
    vg_set_thread_allocator(&budget_alloc);
    vg_status r = vg_store_open(fx->db, &st, &err);
    vg_set_thread_allocator(NULL);
    assert_int_equal(r, VG_E_NOMEM);
    assert_null(st);
    assert_int_equal(err.status, VG_E_NOMEM);

    st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t file = file_ok(st, run, 1, 64, "a.log");
    struct vg_event ev = make_event(file, 0, T_MARCH, "192.0.2.1");
    ev.target = VG_STR_LIT("/\xff\xfe"); /* needs the scratch buffer */
    alloc_budget = 0;
    vg_set_thread_allocator(&budget_alloc);
    r = vg_store_add_event(st, run, &ev, (const uint8_t *)"{}", 2);
    vg_set_thread_allocator(NULL);
    assert_int_equal(r, VG_E_NOMEM);
    assert_non_null(strstr(vg_store_errmsg(st), "add event"));
    add_event_ok(st, run, &ev); /* works again once memory is back */
    vg_store_close(st);
    assert_text(fx->db, "SELECT hex(target) FROM events", "2FEFBFBDEFBFBD");
}

/* ---- runs --------------------------------------------------------------------------------- */

static void test_run_begin_and_end_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1773144000);
    int64_t run2 = run_ok(st, 1773144001);
    assert_true(run2 != run);
    assert_text(fx->db, "SELECT status FROM runs ORDER BY id LIMIT 1", "running");
    assert_int_equal(q_int(fx->db, "SELECT finished IS NULL FROM runs ORDER BY id LIMIT 1"), 1);

    struct vg_totals t = {.lines = 1000,
                          .requests = 990,
                          .malformed = 7,
                          .oversize = 3,
                          .attack_requests = 42,
                          .sources = 5,
                          .skipped_files = 1};
    int64_t before = (int64_t)time(NULL);
    assert_int_equal(vg_store_run_end(st, run, &t, "ok"), VG_OK);
    int64_t after = (int64_t)time(NULL);
    vg_store_close(st);

    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT started = 1773144000 AND vigil_version = '0.1.0' AND ruleset_hash = "
             "'rules-abc' AND geo_provenance = 'geo (built 2026-06-17)' AND format = 'combined' "
             "AND command = 'vigil scan access.log' AND status = 'ok' AND lines = 1000 AND "
             "requests = 990 AND malformed = 7 AND oversize = 3 AND attack_requests = 42 AND "
             "sources = 5 AND skipped_files = 1 FROM runs WHERE id = %lld",
             (long long)run);
    assert_int_equal(q_int(fx->db, sql), 1);
    snprintf(sql, sizeof sql, "SELECT finished FROM runs WHERE id = %lld", (long long)run);
    int64_t finished = q_int(fx->db, sql);
    assert_true(finished >= before && finished <= after);
}

static void test_run_end_rejects_unknown_run_and_huge_totals(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    struct vg_totals t = {0};
    assert_int_equal(vg_store_run_end(st, run + 100, &t, "ok"), VG_E_INVAL);
    assert_non_null(strstr(vg_store_errmsg(st), "no run"));
    t.lines = (uint64_t)INT64_MAX + 1;
    assert_int_equal(vg_store_run_end(st, run, &t, "ok"), VG_E_INVAL);
    assert_int_equal(vg_store_run_end(st, run, NULL, "ok"), VG_E_INVAL);
    vg_store_close(st);
    assert_text(fx->db, "SELECT status FROM runs", "running");
}

/* ---- files -------------------------------------------------------------------------------- */

static void test_file_find_distinguishes_fingerprint_lengths(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    /* Same hash bytes, different lengths: two different files. */
    int64_t short_id = file_ok(st, run, 7, 100, "short.log");
    int64_t long_id = file_ok(st, run, 7, VG_FP_MAX, "long.log.gz");
    assert_true(short_id != long_id);

    uint8_t h[32];
    fp_of(h, 7);
    struct vg_file_state fs;
    bool found = false;
    assert_int_equal(vg_store_file_find(st, h, 100, &fs, &found), VG_OK);
    assert_true(found);
    assert_int_equal(fs.file_id, short_id);
    assert_int_equal(fs.offset, 0);
    assert_int_equal(fs.lines, 0);
    assert_false(fs.complete);
    assert_int_equal(vg_store_file_find(st, h, VG_FP_MAX, &fs, &found), VG_OK);
    assert_true(found);
    assert_int_equal(fs.file_id, long_id);

    /* Unknown: another length, another hash, a length no file can have. */
    assert_int_equal(vg_store_file_find(st, h, 101, &fs, &found), VG_OK);
    assert_false(found);
    fp_of(h, 8);
    assert_int_equal(vg_store_file_find(st, h, 100, &fs, &found), VG_OK);
    assert_false(found);
    assert_int_equal(vg_store_file_find(st, h, VG_FP_MAX + 1, &fs, &found), VG_OK);
    assert_false(found);

    /* The same fingerprint twice is refused, with SQLite's reason. */
    fp_of(h, 7);
    int64_t id = 0;
    assert_int_equal(vg_store_file_add(st, run, "again.log", h, 100, NULL, NULL, &id), VG_E_STORE);
    assert_non_null(strstr(vg_store_errmsg(st), "UNIQUE constraint failed"));
    assert_int_equal(vg_store_file_add(st, run, "x.log", h, VG_FP_MAX + 1, NULL, NULL, &id),
                     VG_E_INVAL);
    vg_store_close(st);

    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT path = 'long.log.gz' AND format = 'combined' AND compression = 'none' AND "
             "first_run = %lld AND last_run = %lld AND length(fp_hash) = 32 FROM files "
             "WHERE id = %lld",
             (long long)run, (long long)run, (long long)long_id);
    assert_int_equal(q_int(fx->db, sql), 1);
}

static void test_fp_lengths_lists_each_length_once_longest_first(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    size_t lens[VG_FP_MAX + 1], n = 99;
    assert_int_equal(vg_store_fp_lengths(st, lens, VG_ARRAY_LEN(lens), &n), VG_OK);
    assert_int_equal(n, 0);

    int64_t run = run_ok(st, 1);
    file_ok(st, run, 1, VG_FP_MAX, "a.log");
    file_ok(st, run, 2, 300, "b.log");
    file_ok(st, run, 3, VG_FP_MAX, "c.log");
    file_ok(st, run, 4, 17, "d.log");
    assert_int_equal(vg_store_fp_lengths(st, lens, VG_ARRAY_LEN(lens), &n), VG_OK);
    assert_int_equal(n, 3);
    assert_int_equal(lens[0], VG_FP_MAX);
    assert_int_equal(lens[1], 300);
    assert_int_equal(lens[2], 17);

    /* Too small an array: the longest are given and the cut is an error, not silence. */
    assert_int_equal(vg_store_fp_lengths(st, lens, 2, &n), VG_E_LIMIT);
    assert_int_equal(n, 2);
    assert_int_equal(lens[1], 300);
    vg_store_close(st);
}

static void test_file_progress_records_offset_lines_and_complete(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t file = file_ok(st, run, 1, 512, "a.log");
    uint8_t h[32];
    fp_of(h, 1);
    struct vg_file_state fs;
    bool found;

    assert_int_equal(vg_store_file_progress(st, file, 4096, 37, false), VG_OK);
    assert_int_equal(vg_store_file_find(st, h, 512, &fs, &found), VG_OK);
    assert_true(found);
    assert_int_equal(fs.offset, 4096);
    assert_int_equal(fs.lines, 37);
    assert_false(fs.complete);

    uint64_t big = (uint64_t)1 << 40; /* beyond 32 bits */
    assert_int_equal(vg_store_file_progress(st, file, big, 70000, true), VG_OK);
    assert_int_equal(vg_store_file_find(st, h, 512, &fs, &found), VG_OK);
    assert_int_equal(fs.offset, big);
    assert_int_equal(fs.lines, 70000);
    assert_true(fs.complete);

    assert_int_equal(vg_store_file_progress(st, file + 1, 1, 1, false), VG_E_INVAL);
    assert_non_null(strstr(vg_store_errmsg(st), "no file"));
    assert_int_equal(vg_store_file_progress(st, file, (uint64_t)INT64_MAX + 1, 1, false),
                     VG_E_INVAL);
    assert_int_equal(vg_store_file_find(st, h, 512, &fs, &found), VG_OK);
    assert_int_equal(fs.offset, big);
    vg_store_close(st);
}

static void test_file_touch_updates_path_and_last_run(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run1 = run_ok(st, 1);
    int64_t file = file_ok(st, run1, 1, 512, "access.log");
    assert_int_equal(vg_store_file_progress(st, file, 900, 9, true), VG_OK);
    int64_t run2 = run_ok(st, 2);
    /* Rotated: the same file under a new name, inside a transaction and outside one. */
    assert_int_equal(vg_store_begin(st), VG_OK);
    assert_int_equal(vg_store_file_touch(st, file, run2, "access.log.1", false), VG_OK);
    assert_int_equal(vg_store_commit(st), VG_OK);
    assert_int_equal(vg_store_file_touch(st, file, run2, "access.log.2", false), VG_OK);
    assert_int_equal(vg_store_file_touch(st, file + 5, run2, "x", false), VG_E_INVAL);
    assert_non_null(strstr(vg_store_errmsg(st), "no file"));
    vg_store_close(st);

    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT path = 'access.log.2' AND first_run = %lld AND last_run = %lld AND "
             "\"offset\" = 900 AND lines = 9 AND complete = 1 FROM files WHERE id = %lld",
             (long long)run1, (long long)run2, (long long)file);
    assert_int_equal(q_int(fx->db, sql), 1);
}

static void test_file_touch_restart_takes_back_the_files_counts(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t a = file_ok(st, run, 1, 512, "a.log");
    int64_t b = file_ok(st, run, 2, 512, "b.log");
    assert_int_equal(vg_store_begin(st), VG_OK);
    add_batch(st, run, a, 0, 500);   /* 5 events of 203.0.113.7, times +0..+400 */
    add_batch(st, run, b, 100, 400); /* 3 events of 203.0.113.7, times +100..+300 */
    struct vg_event only_a = make_event(a, 600, T_MARCH + 9000, "198.51.100.9");
    add_event_ok(st, run, &only_a);
    assert_int_equal(
        vg_store_add_source(st, M_MARCH, "198.51.100.9", "DE", 1, T_MARCH + 9000, T_MARCH + 9000),
        VG_OK);
    assert_int_equal(vg_store_file_progress(st, a, 700, 7, true), VG_OK);
    assert_int_equal(vg_store_commit(st), VG_OK);
    assert_int_equal(q_int(fx->db, "SELECT attacks FROM sources WHERE ip = '203.0.113.7'"), 8);

    /* --rescan of a: everything a contributed is taken back; b's share stays. */
    int64_t run2 = run_ok(st, 2);
    assert_int_equal(vg_store_file_touch(st, a, run2, "a.log", true), VG_OK);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE file_id = %lld", (long long)a);
    assert_int_equal(q_int(fx->db, sql), 0);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM events"), 3);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM month_counts WHERE file_id = %lld",
             (long long)a);
    assert_int_equal(q_int(fx->db, sql), 0);
    assert_int_equal(q_int(fx->db, "SELECT attacks FROM sources WHERE ip = '203.0.113.7'"), 3);
    /* first/last seen narrow to b's events: a's reached both further back and further on. */
    assert_int_equal(q_int(fx->db, "SELECT first_seen FROM sources WHERE ip = '203.0.113.7'"),
                     T_MARCH + 100);
    assert_int_equal(q_int(fx->db, "SELECT last_seen FROM sources WHERE ip = '203.0.113.7'"),
                     T_MARCH + 300);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM sources WHERE ip = '198.51.100.9'"), 0);
    uint8_t h[32];
    fp_of(h, 1);
    struct vg_file_state fs;
    bool found;
    assert_int_equal(vg_store_file_find(st, h, 512, &fs, &found), VG_OK);
    assert_true(found && fs.offset == 0 && fs.lines == 0 && !fs.complete);

    /* Scanning a again gives the same totals as the first time: counted once, not twice. */
    assert_int_equal(vg_store_begin(st), VG_OK);
    add_batch(st, run2, a, 0, 500);
    assert_int_equal(vg_store_commit(st), VG_OK);
    vg_store_close(st);
    assert_int_equal(q_int(fx->db, "SELECT attacks FROM sources WHERE ip = '203.0.113.7'"), 8);
    assert_int_equal(q_int(fx->db, "SELECT sum(attacks) FROM month_counts"), 8);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM events"), 8);
}

/* ---- transactions and resuming ------------------------------------------------------------ */

/* What a resumed scan sees: the file's committed offset and the stored totals. */
static void assert_committed(const char *db, int64_t file, uint64_t offset, int64_t events,
                             int64_t attacks)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT \"offset\" FROM files WHERE id = %lld", (long long)file);
    assert_int_equal(q_int(db, sql), offset);
    assert_int_equal(q_int(db, "SELECT count(*) FROM events"), events);
    assert_int_equal(q_int(db, "SELECT coalesce(sum(attacks), 0) FROM month_counts"), attacks);
    assert_int_equal(q_int(db, "SELECT coalesce(sum(attacks), 0) FROM sources"), attacks);
}

static void test_rollback_leaves_offset_and_events_unchanged(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t file = file_ok(st, run, 1, 512, "a.log");
    assert_int_equal(vg_store_begin(st), VG_OK);
    add_batch(st, run, file, 0, 200);
    assert_int_equal(vg_store_commit(st), VG_OK);

    assert_int_equal(vg_store_begin(st), VG_OK);
    add_batch(st, run, file, 200, 400);
    assert_int_equal(vg_store_rollback(st), VG_OK);
    assert_committed(fx->db, file, 200, 2, 2);
    assert_int_equal(vg_store_rollback(st), VG_OK); /* none open: harmless */
    vg_store_close(st);
    assert_committed(fx->db, file, 200, 2, 2);
}

static void test_close_without_commit_resumes_at_last_commit(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t file = file_ok(st, run, 1, 512, "a.log");
    assert_int_equal(vg_store_begin(st), VG_OK);
    add_batch(st, run, file, 0, 300);
    assert_int_equal(vg_store_commit(st), VG_OK);
    assert_int_equal(vg_store_begin(st), VG_OK);
    add_batch(st, run, file, 300, 700);
    vg_store_close(st); /* interrupted before the checkpoint's commit */

    st = open_ok(fx->db);
    uint8_t h[32];
    fp_of(h, 1);
    struct vg_file_state fs;
    bool found;
    assert_int_equal(vg_store_file_find(st, h, 512, &fs, &found), VG_OK);
    assert_true(found);
    assert_int_equal(fs.offset, 300);
    assert_int_equal(fs.lines, 3);
    /* Resume from the committed offset: the totals come out as if never interrupted. */
    assert_int_equal(vg_store_begin(st), VG_OK);
    add_batch(st, run, file, fs.offset, 700);
    assert_int_equal(vg_store_commit(st), VG_OK);
    vg_store_close(st);
    assert_committed(fx->db, file, 700, 7, 7);
}

/* Child of test_killed_writer_resumes_at_last_commit: no cmocka here, exit codes only. */
static void killed_writer(const char *db)
{
    struct vg_store *st = NULL;
    struct vg_run_info info = {"0.1.0", NULL, NULL, "combined", "vigil scan", 1, NULL, NULL, NULL};
    int64_t run, file;
    uint8_t h[32];
    fp_of(h, 1);
    if (vg_store_open(db, &st, NULL) != VG_OK || vg_store_run_begin(st, &info, &run) != VG_OK ||
        vg_store_file_add(st, run, "a.log", h, 512, NULL, NULL, &file) != VG_OK)
        _exit(10);
    if (vg_store_begin(st) != VG_OK)
        _exit(11);
    for (uint64_t off = 0; off < 1000; off += 100) {
        struct vg_event ev = make_event(file, off, T_MARCH, "203.0.113.7");
        if (vg_store_add_event(st, run, &ev, (const uint8_t *)"{}", 2) != VG_OK)
            _exit(12);
    }
    if (vg_store_add_month(st, file, M_MARCH, 10, 10, 0) != VG_OK ||
        vg_store_file_progress(st, file, 1000, 10, false) != VG_OK || vg_store_commit(st) != VG_OK)
        _exit(13);
    /* A large uncommitted checkpoint, big enough that SQLite spills pages into the WAL. */
    static char big[8192];
    memset(big, 'A', sizeof big);
    if (vg_store_begin(st) != VG_OK)
        _exit(14);
    for (uint64_t off = 1000; off < 1000 + 5000 * 100; off += 100) { /* 40 MB > the cache */
        struct vg_event ev = make_event(file, off, T_MARCH, "203.0.113.7");
        ev.raw_line = vg_str_make(big, sizeof big);
        if (vg_store_add_event(st, run, &ev, (const uint8_t *)"{}", 2) != VG_OK)
            _exit(15);
    }
    if (vg_store_add_month(st, file, M_MARCH, 5000, 5000, 0) != VG_OK ||
        vg_store_file_progress(st, file, 501000, 5010, true) != VG_OK)
        _exit(16);
    raise(SIGKILL); /* no close, no rollback: a crash */
    _exit(17);
}

static void test_killed_writer_resumes_at_last_commit(void **state)
{
    struct fixture *fx = *state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        killed_writer(fx->db);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status))
        fail_msg("writer exited with %d instead of being killed", WEXITSTATUS(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    /* The crash left uncommitted pages in the WAL: recovery must ignore them. */
    char wal[160];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", fx->db);
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size > 4 * 1024 * 1024);

    struct vg_store *st = open_ok(fx->db);
    uint8_t h[32];
    fp_of(h, 1);
    struct vg_file_state fs;
    bool found;
    assert_int_equal(vg_store_file_find(st, h, 512, &fs, &found), VG_OK);
    assert_true(found);
    assert_int_equal(fs.offset, 1000);
    assert_int_equal(fs.lines, 10);
    assert_false(fs.complete);
    vg_store_close(st);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM events"), 10);
    assert_int_equal(q_int(fx->db, "SELECT sum(attacks) FROM month_counts"), 10);
    assert_text(fx->db, "PRAGMA integrity_check", "ok");
}

static void test_transaction_misuse_is_reported(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    assert_int_equal(vg_store_commit(st), VG_E_STORE);
    assert_non_null(strstr(vg_store_errmsg(st), "commit: "));
    assert_non_null(strstr(vg_store_errmsg(st), "no transaction is active"));
    assert_int_equal(vg_store_begin(st), VG_OK);
    assert_int_equal(vg_store_begin(st), VG_E_STORE);
    assert_non_null(strstr(vg_store_errmsg(st), "within a transaction"));
    assert_int_equal(vg_store_commit(st), VG_OK);
    vg_store_close(st);
}

static void test_second_writer_waits_then_reports_busy(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    /* Another process holds the write lock; a reader keeps an older snapshot meanwhile. */
    sqlite3 *other = plain_open(fx->db);
    sqlite3_busy_timeout(other, 0);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    time_t t0 = time(NULL);
    assert_int_equal(vg_store_begin(st), VG_E_STORE);
    assert_true(time(NULL) - t0 >= 4); /* the 5 s busy timeout was honoured */
    assert_non_null(strstr(vg_store_errmsg(st), "database is locked"));
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);

    assert_int_equal(sqlite3_exec(other, "BEGIN; SELECT count(*) FROM runs;", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(vg_store_begin(st), VG_OK);
    run_ok(st, 5);
    assert_int_equal(vg_store_commit(st), VG_OK); /* WAL: a reader does not block a writer */
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    vg_store_close(st);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM runs"), 1);
}

/* ---- counters ----------------------------------------------------------------------------- */

static void test_month_upsert_accumulates(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t a = file_ok(st, run, 1, 512, "a.log");
    int64_t b = file_ok(st, run, 2, 512, "b.log");
    assert_int_equal(vg_store_add_month(st, a, M_MARCH, 100, 5, 1), VG_OK);
    assert_int_equal(vg_store_add_month(st, a, M_MARCH, 50, 0, 2), VG_OK);
    assert_int_equal(vg_store_add_month(st, a, M_APRIL, 7, 7, 0), VG_OK);
    assert_int_equal(vg_store_add_month(st, b, M_MARCH, 1, 1, 1), VG_OK);
    assert_int_equal(vg_store_add_month(st, a, M_MARCH, (uint64_t)1 << 40, 0, 0), VG_OK);
    assert_int_equal(vg_store_add_month(st, a, M_MARCH, (uint64_t)INT64_MAX + 1, 0, 0), VG_E_INVAL);
    /* A counter of a file the store does not know is refused (foreign key). */
    assert_int_equal(vg_store_add_month(st, b + 10, M_MARCH, 1, 1, 1), VG_E_STORE);
    assert_non_null(strstr(vg_store_errmsg(st), "FOREIGN KEY constraint failed"));
    vg_store_close(st);

    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT requests = 150 + (1 << 40) AND attacks = 5 AND malformed = 3 FROM "
             "month_counts WHERE file_id = %lld AND month = %d",
             (long long)a, M_MARCH);
    assert_int_equal(q_int(fx->db, sql), 1);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM month_counts"), 3);
}

static void test_source_upsert_accumulates_and_widens_span(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    const char *ip = "2001:db8::7";
    assert_int_equal(vg_store_add_source(st, M_MARCH, ip, "US", 2, 100, 200), VG_OK);
    assert_int_equal(vg_store_add_source(st, M_MARCH, ip, NULL, 3, 50, 150), VG_OK);
    assert_int_equal(vg_store_add_source(st, M_MARCH, ip, "", 1, 120, 300), VG_OK);
    assert_int_equal(vg_store_add_source(st, M_APRIL, ip, NULL, 4, 400, 400), VG_OK);
    assert_int_equal(vg_store_add_source(st, M_MARCH, ip, "US", 1, 9, 8), VG_E_INVAL);
    assert_int_equal(vg_store_add_source(st, M_MARCH, "", "US", 1, 1, 1), VG_E_INVAL);
    vg_store_close(st);

    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT attacks = 6 AND first_seen = 50 AND last_seen = 300 AND country = 'US' "
             "FROM sources WHERE month = %d AND ip = '2001:db8::7'",
             M_MARCH);
    assert_int_equal(q_int(fx->db, sql), 1);
    snprintf(sql, sizeof sql, "SELECT country FROM sources WHERE month = %d", M_APRIL);
    assert_text(fx->db, sql, NULL);

    st = open_ok(fx->db);
    assert_int_equal(vg_store_add_source(st, M_MARCH, ip, "DE", 1, 200, 200), VG_OK);
    vg_store_close(st);
    snprintf(sql, sizeof sql, "SELECT country FROM sources WHERE month = %d", M_MARCH);
    assert_text(fx->db, sql, "DE"); /* a newer known country wins */
}

/* ---- events ------------------------------------------------------------------------------- */

static void test_event_columns_match_the_event(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t file = file_ok(st, run, 1, 512, "a.log");
    struct vg_event ev = make_event(file, 123456, T_MARCH + 3, "203.0.113.7");
    ev.line_no = 812;
    static const char json[] = "{\"@timestamp\":\"2026-03-10T12:00:03Z\"}";
    assert_int_equal(vg_store_add_event(st, run, &ev, (const uint8_t *)json, sizeof json - 1),
                     VG_OK);
    /* Not logged: no country, no host, no status, no size, no method. */
    struct vg_event bare = make_event(file, 200000, T_MARCH, "192.0.2.1");
    bare.country[0] = 0;
    bare.host = VG_STR_NULL;
    bare.method = VG_STR_NULL;
    bare.status = -1;
    bare.bytes = -1;
    bare.outcome = "unknown";
    add_event_ok(st, run, &bare);
    vg_store_close(st);

    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT run_id = %lld AND file_id = %lld AND line = 812 AND time = %d AND month = %d"
             " AND ip = '203.0.113.7' AND country = 'NL' AND method = 'GET' AND host = "
             "'www.example.gov' AND target = '/search?q=1%%27%%20OR%%201=1--' AND status = 200"
             " AND bytes = 5120 AND score = 25 AND classes_mask = 9 AND outcome = "
             "'possible-success' AND typeof(raw) = 'blob' FROM events WHERE \"offset\" = 123456",
             (long long)run, (long long)file, T_MARCH + 3, M_MARCH);
    assert_int_equal(q_int(fx->db, sql), 1);
    assert_text(fx->db, "SELECT json FROM events WHERE \"offset\" = 123456", json);
    assert_int_equal(q_int(fx->db, "SELECT country IS NULL AND host IS NULL AND method IS NULL"
                                   " AND status IS NULL AND bytes IS NULL FROM events"
                                   " WHERE \"offset\" = 200000"),
                     1);
}

static void test_duplicate_event_offset_is_ignored(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t a = file_ok(st, run, 1, 512, "a.log");
    int64_t b = file_ok(st, run, 2, 512, "b.log");
    struct vg_event ev = make_event(a, 500, T_MARCH, "203.0.113.7");
    assert_int_equal(vg_store_add_event(st, run, &ev, (const uint8_t *)"{\"first\":1}", 11), VG_OK);
    assert_int_equal(vg_store_add_event(st, run, &ev, (const uint8_t *)"{\"again\":1}", 11), VG_OK);
    ev.file_id = b; /* the same offset in another file is another line */
    add_event_ok(st, run, &ev);
    ev.file_id = 0; /* no file identity: nothing to deduplicate on, both kept */
    add_event_ok(st, run, &ev);
    add_event_ok(st, run, &ev);
    vg_store_close(st);

    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM events"), 4);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT json FROM events WHERE file_id = %lld", (long long)a);
    assert_text(fx->db, sql, "{\"first\":1}");
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM events WHERE file_id IS NULL"), 2);
}

static void test_event_of_unknown_run_is_refused(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t file = file_ok(st, run, 1, 512, "a.log");
    struct vg_event ev = make_event(file, 0, T_MARCH, "203.0.113.7");
    assert_int_equal(vg_store_add_event(st, run + 1, &ev, (const uint8_t *)"{}", 2), VG_E_STORE);
    assert_non_null(strstr(vg_store_errmsg(st), "add event: FOREIGN KEY constraint failed"));
    ev.file_id = file + 1;
    assert_int_equal(vg_store_add_event(st, run, &ev, (const uint8_t *)"{}", 2), VG_E_STORE);
    ev.file_id = file;
    ev.offset = (uint64_t)INT64_MAX + 1;
    assert_int_equal(vg_store_add_event(st, run, &ev, (const uint8_t *)"{}", 2), VG_E_INVAL);
    assert_int_equal(vg_store_add_event(st, run, NULL, (const uint8_t *)"{}", 2), VG_E_INVAL);
    assert_int_equal(vg_store_add_event(st, run, &ev, NULL, 2), VG_E_INVAL);
    ev.offset = 0;
    ev.target = vg_str_make(NULL, 5);
    assert_int_equal(vg_store_add_event(st, run, &ev, (const uint8_t *)"{}", 2), VG_E_INVAL);
    assert_non_null(strstr(vg_store_errmsg(st), "byte view"));
    vg_store_close(st);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM events"), 0);
}

/* Hostile log bytes: raw keeps them exactly; target holds them as clean UTF-8. */
static const struct {
    const char *name;
    const char *bytes;
    size_t n;
    const char *target_hex; /* what the target column holds, hex */
} hostile[] = {
    {"nul", "/a\0b", 4, "2F61EFBFBD62"},
    {"only-nul", "\0", 1, "EFBFBD"},
    {"invalid-byte", "/\xff", 2, "2FEFBFBD"},
    {"overlong-slash", "/\xc0\xaf", 3, "2FEFBFBDEFBFBD"},
    {"lone-continuation", "\x80x", 2, "EFBFBD78"},
    {"surrogate", "\xed\xa0\x80", 3, "EFBFBDEFBFBDEFBFBD"},
    {"truncated-sequence", "/\xe2\x82", 3, "2FEFBFBDEFBFBD"},
    {"above-u10ffff", "\xf4\x90\x80\x80", 4, "EFBFBDEFBFBDEFBFBDEFBFBD"},
    {"quotes-and-sql", "/'\";--\\\"", 8, "2F27223B2D2D5C22"},
    {"terminal-escape", "/\x1b]0;pwned\x07\r", 12, "2F1B5D303B70776E6564070D"},
    {"valid-utf8", "/\xc3\xa9\xe2\x82\xac\xf0\x9f\x92\xa9", 10, "2FC3A9E282ACF09F92A9"},
};

static void test_event_hostile_bytes_round_trip_in_raw(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t file = file_ok(st, run, 1, 512, "a.log");
    for (size_t i = 0; i < VG_ARRAY_LEN(hostile); i++) {
        struct vg_event ev = make_event(file, i * 1000, T_MARCH, "203.0.113.7");
        ev.raw_line = vg_str_make(hostile[i].bytes, hostile[i].n);
        ev.target = ev.raw_line;
        ev.host = ev.raw_line;
        add_event_ok(st, run, &ev);
    }
    vg_store_close(st);

    for (size_t i = 0; i < VG_ARRAY_LEN(hostile); i++) {
        char sql[200], got[256];
        snprintf(sql, sizeof sql, "SELECT raw FROM events WHERE \"offset\" = %zu", i * 1000);
        long n = q_bytes(fx->db, sql, got, sizeof got);
        if (n != (long)hostile[i].n || memcmp(got, hostile[i].bytes, hostile[i].n) != 0)
            fail_msg("%s: raw differs (%ld bytes)", hostile[i].name, n);
        snprintf(sql, sizeof sql,
                 "SELECT hex(target) || '|' || hex(host) FROM events WHERE \"offset\" = %zu",
                 i * 1000);
        char want[256];
        snprintf(want, sizeof want, "%s|%s", hostile[i].target_hex, hostile[i].target_hex);
        q_bytes(fx->db, sql, got, sizeof got);
        if (strcmp(got, want) != 0)
            fail_msg("%s: target %s, want %s", hostile[i].name, got, want);
    }
    /* An empty line is stored as an empty BLOB, not NULL. */
    st = open_ok(fx->db);
    struct vg_event ev = make_event(file, 99999, T_MARCH, "203.0.113.7");
    ev.raw_line = VG_STR_NULL;
    add_event_ok(st, run, &ev);
    vg_store_close(st);
    assert_int_equal(q_int(fx->db, "SELECT typeof(raw) = 'blob' AND length(raw) = 0 FROM events"
                                   " WHERE \"offset\" = 99999"),
                     1);
}

/* ---- argument checks (table-driven) ------------------------------------------------------- */

static vg_status call_run_begin_null(struct vg_store *st)
{
    int64_t id;
    return vg_store_run_begin(st, NULL, &id);
}
static vg_status call_run_end_null_status(struct vg_store *st)
{
    struct vg_totals t = {0};
    return vg_store_run_end(st, 1, &t, NULL);
}
static vg_status call_fp_lengths_null(struct vg_store *st)
{
    size_t n;
    return vg_store_fp_lengths(st, NULL, 4, &n);
}
static vg_status call_file_find_null(struct vg_store *st)
{
    bool found;
    return vg_store_file_find(st, NULL, 10, NULL, &found);
}
static vg_status call_file_add_null_path(struct vg_store *st)
{
    uint8_t h[32] = {0};
    int64_t id;
    return vg_store_file_add(st, 1, NULL, h, 10, NULL, NULL, &id);
}
static vg_status call_file_touch_null_path(struct vg_store *st)
{
    return vg_store_file_touch(st, 1, 1, NULL, false);
}
static vg_status call_add_source_null_ip(struct vg_store *st)
{
    return vg_store_add_source(st, M_MARCH, NULL, "US", 1, 1, 1);
}
static vg_status call_add_source_huge(struct vg_store *st)
{
    return vg_store_add_source(st, M_MARCH, "192.0.2.1", "US", (uint64_t)INT64_MAX + 1, 1, 1);
}

static const struct {
    const char *name;
    vg_status (*call)(struct vg_store *);
    const char *msg; /* what vg_store_errmsg must then say */
} bad_calls[] = {
    {"run_begin without info", call_run_begin_null, "run begin: no run information"},
    {"run_end without status", call_run_end_null_status, "run end: no totals or no status"},
    {"fp_lengths without array", call_fp_lengths_null, "fingerprint lengths: no output"},
    {"file_find without hash", call_file_find_null, "file find: missing argument"},
    {"file_add without path", call_file_add_null_path, "file add: missing argument"},
    {"file_touch without path", call_file_touch_null_path, "file touch: no path"},
    {"add_source without address", call_add_source_null_ip, "add source: no address"},
    {"add_source over 2^63-1", call_add_source_huge, "add source: bad count or time span"},
};

static void test_invalid_arguments_are_rejected(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    for (size_t i = 0; i < VG_ARRAY_LEN(bad_calls); i++) {
        if (bad_calls[i].call(st) != VG_E_INVAL)
            fail_msg("%s: not VG_E_INVAL", bad_calls[i].name);
        if (strcmp(vg_store_errmsg(st), bad_calls[i].msg) != 0)
            fail_msg("%s: message \"%s\"", bad_calls[i].name, vg_store_errmsg(st));
        if (bad_calls[i].call(NULL) != VG_E_INVAL)
            fail_msg("%s: NULL store not VG_E_INVAL", bad_calls[i].name);
    }
    assert_int_equal(vg_store_begin(NULL), VG_E_INVAL);
    assert_int_equal(vg_store_commit(NULL), VG_E_INVAL);
    assert_int_equal(vg_store_rollback(NULL), VG_E_INVAL);
    assert_non_null(vg_store_errmsg(NULL));
    vg_store_close(st);
}


/* ---- schema 2: migration, incidents, campaigns, held requests, state ------------------------- */

/* The schema of version 1 as vigil 0.1 wrote it (for the migration test). */
static const char v1_schema[] =
    "PRAGMA application_id = 1447512396;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE runs(id INTEGER PRIMARY KEY, started INTEGER NOT NULL, finished INTEGER,"
    " vigil_version TEXT, ruleset_hash TEXT, geo_provenance TEXT, format TEXT, command TEXT,"
    " status TEXT NOT NULL, lines INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0,"
    " malformed INTEGER NOT NULL DEFAULT 0, oversize INTEGER NOT NULL DEFAULT 0,"
    " attack_requests INTEGER NOT NULL DEFAULT 0, sources INTEGER NOT NULL DEFAULT 0,"
    " skipped_files INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE files(id INTEGER PRIMARY KEY, fp_hash BLOB NOT NULL, fp_len INTEGER NOT NULL,"
    " path TEXT NOT NULL, format TEXT, compression TEXT, first_run INTEGER REFERENCES runs(id),"
    " last_run INTEGER REFERENCES runs(id), \"offset\" INTEGER NOT NULL DEFAULT 0,"
    " lines INTEGER NOT NULL DEFAULT 0, complete INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE(fp_len, fp_hash));"
    "CREATE TABLE month_counts(file_id INTEGER NOT NULL REFERENCES files(id),"
    " month INTEGER NOT NULL, requests INTEGER NOT NULL DEFAULT 0,"
    " attacks INTEGER NOT NULL DEFAULT 0, malformed INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(file_id, month)) WITHOUT ROWID;"
    "CREATE TABLE sources(month INTEGER NOT NULL, ip TEXT NOT NULL, country TEXT,"
    " attacks INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL, PRIMARY KEY(month, ip)) WITHOUT ROWID;"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),"
    " file_id INTEGER REFERENCES files(id), \"offset\" INTEGER NOT NULL, line INTEGER NOT NULL,"
    " time INTEGER NOT NULL, month INTEGER NOT NULL, ip TEXT NOT NULL, country TEXT,"
    " method TEXT, host TEXT, target TEXT, status INTEGER, bytes INTEGER,"
    " score INTEGER NOT NULL, classes_mask INTEGER NOT NULL, outcome TEXT, json TEXT NOT NULL,"
    " raw BLOB NOT NULL, UNIQUE(file_id, \"offset\"));"
    "CREATE INDEX events_month ON events(month);"
    "CREATE INDEX events_ip ON events(ip);"
    "CREATE INDEX sources_ip ON sources(ip);"
    "INSERT INTO meta VALUES('schema_version', '1');"
    "INSERT INTO runs(id, started, status) VALUES(1, 1, 'ok');"
    "INSERT INTO files(id, fp_hash, fp_len, path, \"offset\", lines, complete)"
    " VALUES(1, x'00', 1, 'a.log', 500, 5, 1);"
    /* 203.0.113.7: two runs of attacks 1 h apart (two incidents); 198.51.100.1: one */
    "INSERT INTO events(run_id, file_id, \"offset\", line, time, month, ip, host, score,"
    " classes_mask, outcome, json, raw) VALUES"
    " (1, 1, 0, 1, 1000, 24313, '203.0.113.7', NULL, 5, 1, 'refused', '{}', x'61'),"
    " (1, 1, 100, 2, 1600, 24313, '203.0.113.7', NULL, 5, 2, 'possible-success', '{}', x'61'),"
    " (1, 1, 200, 3, 9000, 24313, '203.0.113.7', NULL, 5, 1, 'refused', '{}', x'61'),"
    " (1, 1, 300, 4, 1200, 24313, '198.51.100.1', 'www.example.org', 5, 1, 'failed', '{}',"
    "  x'61');";

static void test_open_migrates_a_version_1_store_and_derives_its_incidents(void **state)
{
    struct fixture *fx = *state;
    plain_exec(fx->db, v1_schema);
    struct vg_store *st = open_ok(fx->db);
    vg_store_close(st);
    assert_text(fx->db, "SELECT value FROM meta WHERE key = 'schema_version'", "2");
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM incidents"), 3);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM events WHERE incident IS NULL"), 0);
    assert_int_equal(q_int(fx->db, "SELECT count(DISTINCT incident) FROM events"
                                   " WHERE ip = '203.0.113.7'"),
                     2);
    assert_int_equal(q_int(fx->db, "SELECT attacks FROM incidents WHERE ip = '203.0.113.7'"
                                   " AND first_seen = 1000"),
                     2);
    assert_int_equal(q_int(fx->db, "SELECT classes_mask FROM incidents"
                                   " WHERE ip = '203.0.113.7' AND first_seen = 1000"),
                     3);
    assert_int_equal(q_int(fx->db, "SELECT success FROM incidents"
                                   " WHERE ip = '203.0.113.7' AND first_seen = 1000"),
                     1);
    assert_text(fx->db, "SELECT site FROM incidents WHERE ip = '198.51.100.1'", "www.example.org");
    /* the file's position is kept and nothing is held */
    st = open_ok(fx->db);
    uint8_t h[32] = {0};
    struct vg_file_state fs;
    bool found = false;
    assert_int_equal(vg_store_file_find(st, h, 0, &fs, &found), VG_OK);
    vg_store_close(st);
    assert_int_equal(q_int(fx->db, "SELECT \"offset\" FROM files WHERE id = 1"), 500);
    assert_int_equal(q_int(fx->db, "SELECT replay_offset IS NULL FROM files WHERE id = 1"), 1);
}

static void test_migration_that_fails_leaves_the_version_1_store_untouched(void **state)
{
    struct fixture *fx = *state;
    plain_exec(fx->db, v1_schema);
    /* A table in the way of the migration's CREATE INDEX makes it fail half-way. */
    plain_exec(fx->db, "CREATE TABLE incidents(x INTEGER);");
    struct vg_store *st = NULL;
    struct vg_error err;
    assert_int_equal(vg_store_open(fx->db, &st, &err), VG_E_STORE);
    assert_null(st);
    assert_text(fx->db, "SELECT value FROM meta WHERE key = 'schema_version'", "1");
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM pragma_table_info('events')"
                                   " WHERE name = 'incident'"),
                     0);
}

static struct vg_incident incident_of(const char *id, const char *ip, const char *site,
                                      int64_t first, int64_t last)
{
    struct vg_incident i;
    memset(&i, 0, sizeof i);
    snprintf(i.id, sizeof i.id, "%s", id);
    snprintf(i.ip, sizeof i.ip, "%s", ip);
    snprintf(i.site, sizeof i.site, "%s", site);
    assert_true(vg_addr_parse((const uint8_t *)ip, strlen(ip), &i.addr));
    vg_addr_network(&i.addr, i.net);
    i.first = first;
    i.last = last;
    i.attacks = 3;
    i.classes = 1;
    i.outcomes[VG_OUT_REFUSED] = 3;
    return i;
}

static void test_incidents_upsert_find_latest_and_campaigns_rebuild(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    bool any = true;
    assert_int_equal(vg_store_has_incidents(st, &any), VG_OK);
    assert_false(any);
    struct vg_incident a = incident_of("00000000000000aa", "203.0.113.7", "", 1000, 2000);
    snprintf(a.tool, sizeof a.tool, "sqlmap");
    a.ua_hash = 42;
    a.rules[0] = 942100;
    a.rules[1] = 942190;
    a.n_rules = 2;
    /* the same address ten days later: too late for a network link (7 days) */
    struct vg_incident b = incident_of("00000000000000bb", "203.0.113.7", "", 10 * 86400,
                                       10 * 86400 + 100);
    struct vg_incident c = incident_of("00000000000000cc", "2001:db8::7", "", 3000, 3100);
    snprintf(c.tool, sizeof c.tool, "sqlmap");
    c.ua_hash = 42;
    assert_int_equal(vg_store_begin(st), VG_OK);
    assert_int_equal(vg_store_put_incident(st, &a), VG_OK);
    assert_int_equal(vg_store_put_incident(st, &b), VG_OK);
    assert_int_equal(vg_store_put_incident(st, &c), VG_OK);
    a.attacks = 7; /* an update, not a second row */
    assert_int_equal(vg_store_put_incident(st, &a), VG_OK);
    assert_int_equal(vg_store_commit(st), VG_OK);
    assert_int_equal(vg_store_has_incidents(st, &any), VG_OK);
    assert_true(any);
    struct vg_incident got;
    bool found = false;
    assert_int_equal(vg_store_find_incident(st, "203.0.113.7", "", &got, &found), VG_OK);
    assert_true(found);
    assert_string_equal(got.id, "00000000000000bb");
    assert_int_equal(vg_store_find_incident(st, "203.0.113.7", "other.site", &got, &found), VG_OK);
    assert_false(found);
    assert_int_equal(q_int(fx->db, "SELECT attacks FROM incidents WHERE id = '00000000000000aa'"),
                     7);
    assert_text(fx->db, "SELECT rules FROM incidents WHERE id = '00000000000000aa'",
                "942100,942190");
    struct vg_campaign_params p = {86400, 7 * 86400, 0.5, 3};
    size_t n = 99;
    assert_int_equal(vg_store_rebuild_campaigns(st, &p, &n), VG_OK);
    assert_int_equal(n, 1); /* a and c: same tool and user agent within a day */
    assert_text(fx->db, "SELECT campaign FROM incidents WHERE id = '00000000000000cc'",
                "c00000000000000aa");
    assert_text(fx->db, "SELECT campaign FROM incidents WHERE id = '00000000000000bb'", NULL);
    assert_int_equal(q_int(fx->db, "SELECT sources FROM campaigns"), 2);
    assert_int_equal(q_int(fx->db, "SELECT incidents FROM campaigns"), 2);
    /* rebuilding again gives the same, not twice as much */
    assert_int_equal(vg_store_rebuild_campaigns(st, &p, &n), VG_OK);
    assert_int_equal(q_int(fx->db, "SELECT count(*) FROM campaigns"), 1);
    /* inside a transaction it is refused */
    assert_int_equal(vg_store_begin(st), VG_OK);
    assert_int_equal(vg_store_rebuild_campaigns(st, &p, &n), VG_E_INVAL);
    assert_int_equal(vg_store_rollback(st), VG_OK);
    vg_store_close(st);
}

static void test_pending_offsets_and_state_blobs_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t file = file_ok(st, run, 5, 512, "access.log");
    static const uint8_t blob[] = {0x00, 0x64, 0x80, 0x01};
    assert_int_equal(vg_store_begin(st), VG_OK);
    assert_int_equal(vg_store_file_progress(st, file, 1000, 10, true), VG_OK);
    assert_int_equal(vg_store_file_pending(st, file, 300, 3, blob, sizeof blob), VG_OK);
    assert_int_equal(vg_store_put_state(st, "behave", blob, 3), VG_OK);
    assert_int_equal(vg_store_commit(st), VG_OK);
    uint8_t h[32];
    fp_of(h, 5);
    struct vg_file_state fs;
    bool found = false;
    assert_int_equal(vg_store_file_find(st, h, 512, &fs, &found), VG_OK);
    assert_true(found);
    assert_int_equal(fs.offset, 1000);
    assert_int_equal(fs.replay_offset, 300);
    assert_int_equal(fs.replay_lines, 3);
    assert_int_equal(fs.pending_len, sizeof blob);
    assert_memory_equal(fs.pending, blob, sizeof blob);
    vg_free(fs.pending);
    uint8_t *got = NULL;
    size_t n = 0;
    assert_int_equal(vg_store_get_state(st, "behave", &got, &n), VG_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(got, blob, 3);
    vg_free(got);
    assert_int_equal(vg_store_get_state(st, "nothing", &got, &n), VG_OK);
    assert_null(got);
    /* a replay offset past the committed offset is not believed */
    assert_int_equal(vg_store_begin(st), VG_OK);
    assert_int_equal(vg_store_file_pending(st, file, 5000, 50, NULL, 0), VG_OK);
    assert_int_equal(vg_store_commit(st), VG_OK);
    assert_int_equal(vg_store_file_find(st, h, 512, &fs, &found), VG_OK);
    assert_int_equal(fs.replay_offset, 1000);
    assert_null(fs.pending);
    assert_int_equal(vg_store_file_pending(st, 999, 0, 0, NULL, 0), VG_E_INVAL);
    vg_store_close(st);
}

static void test_duplicate_event_is_not_reported_as_inserted(void **state)
{
    struct fixture *fx = *state;
    struct vg_store *st = open_ok(fx->db);
    int64_t run = run_ok(st, 1);
    int64_t file = file_ok(st, run, 1, 512, "access.log");
    struct vg_event ev = make_event(file, 100, T_MARCH, "203.0.113.7");
    ev.incident = "0123456789abcdef";
    ev.asn = 64500;
    ev.size_anomaly = 1;
    assert_int_equal(vg_store_begin(st), VG_OK);
    add_event_ok(st, run, &ev);
    assert_true(vg_store_event_inserted(st));
    add_event_ok(st, run, &ev);
    assert_false(vg_store_event_inserted(st));
    struct vg_address_info ai = {"203.0.113.7", "NL", 64500, "Example AS", "203.0.113.0/24",
                                 "partner", T_MARCH, T_MARCH};
    assert_int_equal(vg_store_put_address(st, &ai), VG_OK);
    struct vg_address_info unknown = {"203.0.113.7", "", 0, "", "203.0.113.0/24", "", T_MARCH - 5,
                                      T_MARCH};
    assert_int_equal(vg_store_put_address(st, &unknown), VG_OK);
    assert_int_equal(vg_store_commit(st), VG_OK);
    assert_text(fx->db, "SELECT incident FROM events", "0123456789abcdef");
    assert_int_equal(q_int(fx->db, "SELECT asn FROM events"), 64500);
    assert_int_equal(q_int(fx->db, "SELECT size_anomaly FROM events"), 1);
    /* a known country and AS are not overwritten by unknown ones; the span widens */
    assert_text(fx->db, "SELECT country FROM addresses", "NL");
    assert_text(fx->db, "SELECT as_org FROM addresses", "Example AS");
    assert_int_equal(q_int(fx->db, "SELECT first_seen FROM addresses"), T_MARCH - 5);
    struct vg_address_row row;
    bool found = false;
    assert_int_equal(vg_store_get_address(st, "203.0.113.7", &row, &found), VG_OK);
    assert_true(found);
    assert_int_equal(row.asn, 64500);
    assert_string_equal(row.net, "203.0.113.0/24");
    vg_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_schema_in_wal_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_rejects_files_that_are_not_sqlite, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_newer_schema_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_store_without_schema_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_database_of_another_application, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_reports_unopenable_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory_is_reported_not_fatal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_begin_and_end_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_end_rejects_unknown_run_and_huge_totals, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_file_find_distinguishes_fingerprint_lengths, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fp_lengths_lists_each_length_once_longest_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_file_progress_records_offset_lines_and_complete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_file_touch_updates_path_and_last_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_touch_restart_takes_back_the_files_counts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_offset_and_events_unchanged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close_without_commit_resumes_at_last_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_killed_writer_resumes_at_last_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_misuse_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_writer_waits_then_reports_busy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_month_upsert_accumulates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_upsert_accumulates_and_widens_span, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_event_columns_match_the_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_event_offset_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_of_unknown_run_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_hostile_bytes_round_trip_in_raw, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invalid_arguments_are_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_open_migrates_a_version_1_store_and_derives_its_incidents, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_migration_that_fails_leaves_the_version_1_store_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incidents_upsert_find_latest_and_campaigns_rebuild,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_offsets_and_state_blobs_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_event_is_not_reported_as_inserted, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
