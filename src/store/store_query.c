/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_query.c: reading the store for reports (`vigil report`): events, incidents, campaigns,
 * addresses and monthly request counts, filtered by time, site, class, country and source.
 *
 * Rows are handed to a callback one at a time (memory does not grow with the store); every
 * string is borrowed until the callback returns. Filters that SQL can apply are applied there
 * (time, site, class, country); an address or network filter is applied here, on the parsed
 * address, because IPv6 prefixes do not compare as text.
 *
 * Security note: stored text came from logs: the columns read here are the TEXT columns that
 * the writer cleaned to valid UTF-8 without NUL, and the report escapes them for its medium.
 */
#include <stdio.h>
#include <stdlib.h>

#include "attrib/attrib.h"
#include "store/store_int.h"

static const char *text_col(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

static int bind_filter_common(sqlite3_stmt *s, const struct vg_store_filter *f)
{
    int64_t since = f && f->since ? f->since : INT64_MIN;
    int64_t until = f && f->until ? f->until : INT64_MAX;
    int rc = sqlite3_bind_int64(s, 1, since);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, until);
    if (rc == SQLITE_OK)
        rc = f && f->site ? sqlite3_bind_text(s, 3, f->site, -1, SQLITE_STATIC)
                          : sqlite3_bind_null(s, 3);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, f ? f->class_mask : 0);
    if (rc == SQLITE_OK)
        rc = f && f->country && *f->country ? sqlite3_bind_text(s, 5, f->country, -1, SQLITE_STATIC)
                                            : sqlite3_bind_null(s, 5);
    return rc;
}

static bool source_ok(const struct vg_store_filter *f, const char *ip)
{
    if (!f || !f->has_source)
        return true;
    struct vg_addr a;
    if (!vg_addr_parse((const uint8_t *)ip, strlen(ip), &a))
        return false;
    return vg_addr_in_prefix(&a, &f->source, f->source_len);
}

vg_status vg_store_iter_events(struct vg_store *st, const struct vg_store_filter *f,
                               vg_status (*cb)(void *user, const struct vg_event_row *r),
                               void *user)
{
    sqlite3 *db = vg_store_db(st);
    if (!db || !cb)
        return VG_E_INVAL;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(
        db,
        "SELECT time, month, ip, coalesce(host, ''), coalesce(country, ''), coalesce(asn, 0),"
        " classes_mask, coalesce(outcome, 'unknown'), size_anomaly, coalesce(incident, ''),"
        " coalesce(target, ''), coalesce(status, -1) FROM events"
        " WHERE time >= ?1 AND time < ?2 AND (?3 IS NULL OR coalesce(host, '') = ?3)"
        " AND (?4 = 0 OR (classes_mask & ?4) != 0) AND (?5 IS NULL OR country = ?5)"
        " ORDER BY time, id",
        -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = bind_filter_common(s, f);
    vg_status r = VG_OK;
    while (rc == SQLITE_OK && r == VG_OK) {
        int step = sqlite3_step(s);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = step;
            break;
        }
        struct vg_event_row row;
        row.time = sqlite3_column_int64(s, 0);
        row.month = sqlite3_column_int(s, 1);
        row.ip = text_col(s, 2);
        if (!source_ok(f, row.ip))
            continue;
        row.site = text_col(s, 3);
        row.country = text_col(s, 4);
        row.asn = (uint32_t)sqlite3_column_int64(s, 5);
        row.classes = (uint32_t)sqlite3_column_int64(s, 6);
        row.outcome = text_col(s, 7);
        row.size_anomaly = sqlite3_column_int(s, 8) != 0;
        row.incident = text_col(s, 9);
        const char *t = text_col(s, 10);
        row.target = vg_str_make(t, (size_t)sqlite3_column_bytes(s, 10));
        row.status = sqlite3_column_int(s, 11);
        r = cb(user, &row);
    }
    if (rc != SQLITE_OK && r == VG_OK)
        r = vg_store_fail_rc(st, rc, "read events");
    sqlite3_finalize(s);
    return r;
}

vg_status vg_store_iter_incidents(struct vg_store *st, const struct vg_store_filter *f,
                                  vg_status (*cb)(void *user, const struct vg_incident_row *r),
                                  void *user)
{
    sqlite3 *db = vg_store_db(st);
    if (!db || !cb)
        return VG_E_INVAL;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(
        db,
        "SELECT id, ip, site, first_seen, last_seen, attacks, classes_mask, detectors_mask, tool,"
        " ua_hash, rules, net, asn, country, success, refused, failed, unknown, month,"
        " coalesce(campaign, '') FROM incidents"
        " WHERE last_seen >= ?1 AND first_seen < ?2 AND (?3 IS NULL OR site = ?3)"
        " AND (?4 = 0 OR (classes_mask & ?4) != 0) AND (?5 IS NULL OR country = ?5)"
        " ORDER BY first_seen, id",
        -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = bind_filter_common(s, f);
    vg_status r = VG_OK;
    while (rc == SQLITE_OK && r == VG_OK) {
        int step = sqlite3_step(s);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = step;
            break;
        }
        struct vg_incident_row row;
        memset(&row, 0, sizeof row);
        struct vg_incident *inc = &row.inc;
        snprintf(inc->id, sizeof inc->id, "%s", text_col(s, 0));
        snprintf(inc->ip, sizeof inc->ip, "%s", text_col(s, 1));
        if (!source_ok(f, inc->ip))
            continue;
        if (!vg_addr_parse((const uint8_t *)inc->ip, strlen(inc->ip), &inc->addr))
            memset(&inc->addr, 0, sizeof inc->addr);
        snprintf(inc->site, sizeof inc->site, "%s", text_col(s, 2));
        inc->first = sqlite3_column_int64(s, 3);
        inc->last = sqlite3_column_int64(s, 4);
        int64_t a = sqlite3_column_int64(s, 5);
        inc->attacks = a > 0 ? (uint64_t)a : 0;
        inc->classes = (uint32_t)sqlite3_column_int64(s, 6);
        inc->detectors = (uint32_t)sqlite3_column_int64(s, 7);
        snprintf(inc->tool, sizeof inc->tool, "%s", text_col(s, 8));
        inc->ua_hash = (uint64_t)sqlite3_column_int64(s, 9);
        const char *rules = text_col(s, 10);
        while (*rules && inc->n_rules < VG_INCIDENT_RULES) {
            char *end;
            unsigned long v = strtoul(rules, &end, 10);
            if (end == rules)
                break;
            inc->rules[inc->n_rules++] = (uint32_t)v;
            rules = *end == ',' ? end + 1 : end;
        }
        snprintf(inc->net, sizeof inc->net, "%s", text_col(s, 11));
        inc->asn = (uint32_t)sqlite3_column_int64(s, 12);
        snprintf(inc->country, sizeof inc->country, "%s", text_col(s, 13));
        for (int i = 0; i < VG_OUT_COUNT; i++) {
            int64_t v = sqlite3_column_int64(s, 14 + i);
            inc->outcomes[i] = v > 0 ? (uint64_t)v : 0;
        }
        row.month = sqlite3_column_int(s, 18);
        snprintf(row.campaign, sizeof row.campaign, "%s", text_col(s, 19));
        r = cb(user, &row);
    }
    if (rc != SQLITE_OK && r == VG_OK)
        r = vg_store_fail_rc(st, rc, "read incidents");
    sqlite3_finalize(s);
    return r;
}

vg_status vg_store_iter_campaigns(struct vg_store *st,
                                  vg_status (*cb)(void *user, const struct vg_campaign_row *r),
                                  void *user)
{
    sqlite3 *db = vg_store_db(st);
    if (!db || !cb)
        return VG_E_INVAL;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, first_seen, last_seen, incidents, sources, classes_mask,"
                                " reasons, why FROM campaigns ORDER BY first_seen, id",
                                -1, &s, NULL);
    vg_status r = VG_OK;
    while (rc == SQLITE_OK && r == VG_OK) {
        int step = sqlite3_step(s);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = step;
            break;
        }
        struct vg_campaign_row row;
        row.id = text_col(s, 0);
        row.first = sqlite3_column_int64(s, 1);
        row.last = sqlite3_column_int64(s, 2);
        int64_t a = sqlite3_column_int64(s, 3), b = sqlite3_column_int64(s, 4);
        row.incidents = a > 0 ? (uint64_t)a : 0;
        row.sources = b > 0 ? (uint64_t)b : 0;
        row.classes = (uint32_t)sqlite3_column_int64(s, 5);
        row.reasons = (uint32_t)sqlite3_column_int64(s, 6);
        row.why = text_col(s, 7);
        r = cb(user, &row);
    }
    if (rc != SQLITE_OK && r == VG_OK)
        r = vg_store_fail_rc(st, rc, "read campaigns");
    sqlite3_finalize(s);
    return r;
}

vg_status vg_store_get_address(struct vg_store *st, const char *ip, struct vg_address_row *out,
                               bool *found)
{
    /* Performance note: one lookup per reported source; the strings live in the caller's
       out->storage. */
    sqlite3 *db = vg_store_db(st);
    if (!db || !ip || !out || !found)
        return VG_E_INVAL;
    *found = false;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT ip, coalesce(country, ''), coalesce(as_org, ''),"
                                " coalesce(net, ''), coalesce(labels, ''), coalesce(asn, 0)"
                                " FROM addresses WHERE ip = ?1",
                                -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 1, ip, -1, SQLITE_STATIC);
    vg_status r = VG_OK;
    if (rc == SQLITE_OK) {
        int step = sqlite3_step(s);
        if (step == SQLITE_ROW) {
            for (int i = 0; i < 5; i++)
                snprintf(out->storage[i], sizeof out->storage[i], "%s", text_col(s, i));
            out->ip = out->storage[0];
            out->country = out->storage[1];
            out->as_org = out->storage[2];
            out->net = out->storage[3];
            out->labels = out->storage[4];
            out->asn = (uint32_t)sqlite3_column_int64(s, 5);
            *found = true;
        } else if (step != SQLITE_DONE) {
            rc = step;
        }
    }
    if (rc != SQLITE_OK)
        r = vg_store_fail_rc(st, rc, "read address");
    sqlite3_finalize(s);
    return r;
}

vg_status vg_store_iter_months(struct vg_store *st, const struct vg_store_filter *f,
                               vg_status (*cb)(void *user, int32_t month, uint64_t requests,
                                               uint64_t malformed),
                               void *user)
{
    sqlite3 *db = vg_store_db(st);
    if (!db || !cb)
        return VG_E_INVAL;
    int32_t from = f && f->since ? vg_month_key(f->since) : INT32_MIN;
    int32_t to = f && f->until ? vg_month_key(f->until - 1) : INT32_MAX;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT month, sum(requests), sum(malformed) FROM month_counts"
                                " WHERE month >= ?1 AND month <= ?2 GROUP BY month ORDER BY month",
                                -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 1, from);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 2, to);
    vg_status r = VG_OK;
    while (rc == SQLITE_OK && r == VG_OK) {
        int step = sqlite3_step(s);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = step;
            break;
        }
        int64_t q = sqlite3_column_int64(s, 1), m = sqlite3_column_int64(s, 2);
        r = cb(user, sqlite3_column_int(s, 0), q > 0 ? (uint64_t)q : 0, m > 0 ? (uint64_t)m : 0);
    }
    if (rc != SQLITE_OK && r == VG_OK)
        r = vg_store_fail_rc(st, rc, "read month counts");
    sqlite3_finalize(s);
    return r;
}

/* Joins the distinct non-empty values of a runs column, in run order, into out. */
static int distinct_texts(sqlite3 *db, const char *column, char *out, size_t cap)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM runs WHERE coalesce(%s, '') <> '' GROUP BY %s ORDER BY min(id)",
             column, column, column);
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    size_t pos = 0;
    out[0] = 0;
    while (rc == SQLITE_OK) {
        int step = sqlite3_step(s);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = step;
            break;
        }
        int n = snprintf(out + pos, cap - pos, "%s%s", pos ? "; " : "", text_col(s, 0));
        if (n < 0 || (size_t)n >= cap - pos)
            break;
        pos += (size_t)n;
    }
    sqlite3_finalize(s);
    return rc;
}

vg_status vg_store_summary_info(struct vg_store *st, struct vg_store_summary *out)
{
    sqlite3 *db = vg_store_db(st);
    if (!db || !out)
        return VG_E_INVAL;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM files),"
                                " (SELECT min(started) FROM runs), (SELECT max(started) FROM runs)",
                                -1, &s, NULL);
    if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        out->runs = (uint64_t)sqlite3_column_int64(s, 0);
        out->files = (uint64_t)sqlite3_column_int64(s, 1);
        out->first_run = sqlite3_column_int64(s, 2);
        out->last_run = sqlite3_column_int64(s, 3);
    } else if (rc == SQLITE_OK) {
        rc = sqlite3_errcode(db);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_OK)
        rc = distinct_texts(db, "geo_provenance", out->geo, sizeof out->geo);
    if (rc == SQLITE_OK)
        rc = distinct_texts(db, "asn_provenance", out->asn, sizeof out->asn);
    if (rc == SQLITE_OK)
        rc = distinct_texts(db, "ruleset_hash", out->rules, sizeof out->rules);
    if (rc == SQLITE_OK)
        rc = distinct_texts(db, "labels_source", out->labels, sizeof out->labels);
    if (rc == SQLITE_OK)
        rc = distinct_texts(db, "behave_hash", out->behave, sizeof out->behave);
    return rc == SQLITE_OK ? VG_OK : vg_store_fail_rc(st, rc, "read runs");
}
