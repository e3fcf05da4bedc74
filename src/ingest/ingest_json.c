/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_json.c: JSON-lines access logs (nginx escape=json, Caddy, Traefik, or any JSON with a
 * key map). A key map (a preset plus the user's --json-map) is compiled into a small tree of
 * key tables, one per nested object; the parser walks each line once, looks every key up in the
 * table of the object it is in, and stores the values of the mapped keys into the vg_request
 * through the same field store as the line formats.
 *
 * Pipeline position: first stage; called by the workers on every line of a JSON input.
 *
 * Invariants: no allocation per line (values are views into the line; strings whose escapes
 * decode/ does not know are rewritten into the caller's vg_parse_buf); nesting is bounded
 * (VG_JSON_MAX_DEPTH); a line that is not one well-formed JSON object is VG_PARSE_JSON.
 * Performance note: string bodies are scanned 16 bytes at a time for '"' and '\\'; keys are
 * found through a per-object hash table, so a line costs one pass plus one probe per key.
 */
#include <stdio.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ingest/ingest_int.h"

#define VG_JSON_MAX_DEPTH 16
#define VG_JSON_MAX_ENTRIES 256
#define VG_JSON_NONE UINT32_MAX

/* ---- presets ---------------------------------------------------------------------------------- */

/* One mapping: a dotted key path ("request.uri"; a trailing "*" makes a prefix rule whose keys
   are request headers), the field it feeds, and a priority (a higher one wins over a lower one
   when both are in a line, e.g. Caddy's client_ip over remote_ip). */
struct json_entry {
    const char *path;
    uint8_t field;
    uint8_t prio;
    const char *hdr; /* VG_FF_HEADER: the header's name */
};

/* Generic names: nginx variable names (escape=json logs often use them as keys) and the
   usual aliases. */
static const struct json_entry vg_json_generic[] = {
    {"time_iso8601", VG_FF_TIME_ANY, 1, NULL}, {"time_local", VG_FF_TIME_ANY, 1, NULL},
    {"msec", VG_FF_TIME_ANY, 0, NULL},         {"time", VG_FF_TIME_ANY, 0, NULL},
    {"timestamp", VG_FF_TIME_ANY, 0, NULL},    {"@timestamp", VG_FF_TIME_ANY, 0, NULL},
    {"ts", VG_FF_TIME_ANY, 0, NULL},           {"date", VG_FF_TIME_ANY, 0, NULL},
    {"datetime", VG_FF_TIME_ANY, 0, NULL},     {"start_time", VG_FF_TIME_ANY, 0, NULL},
    {"remote_addr", VG_FF_CLIENT_PORT, 1, NULL}, {"remote_ip", VG_FF_CLIENT_PORT, 0, NULL},
    {"client_ip", VG_FF_CLIENT_PORT, 0, NULL}, {"clientip", VG_FF_CLIENT_PORT, 0, NULL},
    {"client", VG_FF_CLIENT_PORT, 0, NULL},    {"client_addr", VG_FF_CLIENT_PORT, 0, NULL},
    {"ip", VG_FF_CLIENT_PORT, 0, NULL},        {"src_ip", VG_FF_CLIENT_PORT, 0, NULL},
    {"realip_remote_addr", VG_FF_PEER, 0, NULL},
    {"remote_user", VG_FF_USER, 0, NULL},      {"user", VG_FF_USER, 0, NULL},
    {"request", VG_FF_REQUEST, 0, NULL},
    {"request_method", VG_FF_METHOD, 0, NULL}, {"method", VG_FF_METHOD, 0, NULL},
    {"verb", VG_FF_METHOD, 0, NULL},
    {"request_uri", VG_FF_TARGET, 1, NULL},    {"uri", VG_FF_TARGET, 0, NULL},
    {"url", VG_FF_TARGET, 0, NULL},            {"request_url", VG_FF_TARGET, 0, NULL},
    {"path", VG_FF_PATH, 0, NULL},             {"args", VG_FF_QUERY, 0, NULL},
    {"query_string", VG_FF_QUERY, 0, NULL},    {"query", VG_FF_QUERY, 0, NULL},
    {"server_protocol", VG_FF_PROTOCOL, 0, NULL}, {"protocol", VG_FF_PROTOCOL, 0, NULL},
    {"proto", VG_FF_PROTOCOL, 0, NULL},        {"http_version", VG_FF_PROTOCOL, 0, NULL},
    {"status", VG_FF_STATUS, 0, NULL},         {"status_code", VG_FF_STATUS, 0, NULL},
    {"response_status", VG_FF_STATUS, 0, NULL},
    {"body_bytes_sent", VG_FF_BYTES, 1, NULL}, {"bytes_sent", VG_FF_BYTES, 0, NULL},
    {"bytes", VG_FF_BYTES, 0, NULL},           {"size", VG_FF_BYTES, 0, NULL},
    {"response_size", VG_FF_BYTES, 0, NULL},
    {"http_referer", VG_FF_REFERER, 0, NULL},  {"referer", VG_FF_REFERER, 0, NULL},
    {"referrer", VG_FF_REFERER, 0, NULL},
    {"http_user_agent", VG_FF_UA, 0, NULL},    {"user_agent", VG_FF_UA, 0, NULL},
    {"useragent", VG_FF_UA, 0, NULL},          {"agent", VG_FF_UA, 0, NULL},
    {"ua", VG_FF_UA, 0, NULL},
    {"host", VG_FF_HOST, 1, NULL},             {"http_host", VG_FF_HOST, 0, NULL},
    {"server_name", VG_FF_HOST, 0, NULL},      {"vhost", VG_FF_HOST, 0, NULL},
    {"http_cookie", VG_FF_COOKIE, 0, NULL},    {"cookie", VG_FF_COOKIE, 0, NULL},
    {"content_type", VG_FF_CTYPE, 0, NULL},    {"http_content_type", VG_FF_CTYPE, 0, NULL},
    {"request_body", VG_FF_BODY, 0, NULL},     {"body", VG_FF_BODY, 0, NULL},
    {"http_x_forwarded_for", VG_FF_HEADER, 0, "X-Forwarded-For"},
    {"x_forwarded_for", VG_FF_HEADER, 0, "X-Forwarded-For"},
    {"xff", VG_FF_HEADER, 0, "X-Forwarded-For"},
    {"http_x_real_ip", VG_FF_HEADER, 0, "X-Real-IP"},
    {"http_authorization", VG_FF_HEADER, 0, "Authorization"},
    {"http_*", VG_FF_HEADER, 0, NULL},
};

/* Caddy v2 (zap JSON encoder): https://caddyserver.com/docs/caddyfile/directives/log */
static const struct json_entry vg_json_caddy[] = {
    {"ts", VG_FF_TIME_ANY, 0, NULL},
    {"request.client_ip", VG_FF_CLIENT_PORT, 1, NULL},
    {"request.remote_ip", VG_FF_CLIENT_PORT, 0, NULL},
    {"request.remote_addr", VG_FF_CLIENT_PORT, 0, NULL},
    {"request.proto", VG_FF_PROTOCOL, 0, NULL},
    {"request.method", VG_FF_METHOD, 0, NULL},
    {"request.host", VG_FF_HOST, 0, NULL},
    {"request.uri", VG_FF_TARGET, 0, NULL},
    {"request.headers.*", VG_FF_HEADER, 0, NULL},
    {"user_id", VG_FF_USER, 0, NULL},
    {"status", VG_FF_STATUS, 0, NULL},
    {"size", VG_FF_BYTES, 0, NULL},
};

/* Traefik access log, format json: https://doc.traefik.io/traefik/observability/access-logs/ */
static const struct json_entry vg_json_traefik[] = {
    {"StartUTC", VG_FF_TIME_ANY, 1, NULL},
    {"StartLocal", VG_FF_TIME_ANY, 0, NULL},
    {"time", VG_FF_TIME_ANY, 0, NULL},
    {"ClientHost", VG_FF_CLIENT_PORT, 1, NULL},
    {"ClientAddr", VG_FF_CLIENT_PORT, 0, NULL},
    {"ClientUsername", VG_FF_USER, 0, NULL},
    {"RequestMethod", VG_FF_METHOD, 0, NULL},
    {"RequestPath", VG_FF_TARGET, 0, NULL},
    {"RequestProtocol", VG_FF_PROTOCOL, 0, NULL},
    {"RequestHost", VG_FF_HOST, 0, NULL},
    {"DownstreamStatus", VG_FF_STATUS, 1, NULL},
    {"OriginStatus", VG_FF_STATUS, 0, NULL},
    {"DownstreamContentSize", VG_FF_BYTES, 0, NULL},
    {"request_*", VG_FF_HEADER, 0, NULL},
};

/* --json-map field names. */
static const struct {
    const char *name;
    uint8_t field;
} vg_json_fields[] = {
    {"client", VG_FF_CLIENT_PORT}, {"ip", VG_FF_CLIENT_PORT},   {"peer", VG_FF_PEER},
    {"user", VG_FF_USER},          {"time", VG_FF_TIME_ANY},    {"request", VG_FF_REQUEST},
    {"method", VG_FF_METHOD},      {"target", VG_FF_TARGET},    {"uri", VG_FF_TARGET},
    {"url", VG_FF_TARGET},         {"path", VG_FF_PATH},        {"query", VG_FF_QUERY},
    {"protocol", VG_FF_PROTOCOL},  {"status", VG_FF_STATUS},    {"bytes", VG_FF_BYTES},
    {"referer", VG_FF_REFERER},    {"user_agent", VG_FF_UA},    {"host", VG_FF_HOST},
    {"cookie", VG_FF_COOKIE},      {"content_type", VG_FF_CTYPE}, {"body", VG_FF_BODY},
    {"ignore", VG_FF_IGNORE},
};

/* ---- the program ------------------------------------------------------------------------------ */

struct json_key {
    uint32_t name_off;
    uint16_t name_len;
    uint8_t field;
    uint8_t prio;
    uint8_t flags;   /* VG_FS_FORWARDED */
    uint32_t child;  /* node of the object under this key, or VG_JSON_NONE */
    uint32_t aux_off; /* header name */
    uint16_t aux_len;
};

struct json_node {
    uint32_t first, n;      /* keys[first .. first + n) */
    uint32_t slot_off;      /* hash table: slots[slot_off .. slot_off + mask + 1) */
    uint32_t mask;
    bool any_header;        /* keys not in the table, with the prefix, are request headers */
    uint32_t prefix_off;
    uint16_t prefix_len;
};

struct vg_json_prog {
    struct json_node *nodes;
    size_t n_nodes;
    struct json_key *keys;
    size_t n_keys;
    uint16_t *slots;
    char *pool;
    const char *real_ip; /* points into pool, or NULL */
};

void vg_json_prog_free(struct vg_json_prog *p)
{
    if (!p)
        return;
    vg_free(p->nodes);
    vg_free(p->keys);
    vg_free(p->slots);
    vg_free(p->pool);
    vg_free(p);
}

static inline uint32_t key_hash(const uint8_t *s, size_t n)
{
    if (n == 0)
        return 0;
    return (uint32_t)n * 31u + (uint32_t)s[0] * 7u + (uint32_t)s[n - 1] * 13u +
           (uint32_t)s[n / 2] * 3u;
}

/* A user's or preset's mapping, before layout. */
struct map_item {
    char path[256];
    uint8_t field;
    uint8_t prio;
    char hdr[128]; /* header name for VG_FF_HEADER */
};

struct tree_key {
    char name[128];
    uint8_t field, prio, flags;
    int child; /* index into tree nodes, -1 */
    char hdr[128];
};

struct tree_node {
    int keys[VG_JSON_MAX_ENTRIES];
    size_t n;
    bool any_header;
    char prefix[64];
};

struct tree {
    struct tree_node nodes[32];
    size_t n_nodes;
    struct tree_key keys[VG_JSON_MAX_ENTRIES];
    size_t n_keys;
};

static int tree_find(struct tree *t, int node, const char *name, size_t n)
{
    struct tree_node *nd = &t->nodes[node];
    for (size_t i = 0; i < nd->n; i++) {
        struct tree_key *k = &t->keys[nd->keys[i]];
        if (strlen(k->name) == n && memcmp(k->name, name, n) == 0)
            return nd->keys[i];
    }
    return -1;
}

static vg_status tree_add(struct tree *t, const struct map_item *it, const char *real_ip,
                          struct vg_error *err)
{
    int node = 0;
    const char *p = it->path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0)
            return vg_error_set(err, VG_E_FORMAT, "--json-map", 0,
                                "--json-map: empty key in '%s'", it->path);
        if (!dot && p[n - 1] == '*') {
            /* a prefix rule: keys starting with p[0 .. n-1) are request headers */
            struct tree_node *nd = &t->nodes[node];
            if (n - 1 >= sizeof nd->prefix)
                return vg_error_set(err, VG_E_FORMAT, "--json-map", 0,
                                    "--json-map: key prefix too long in '%s'", it->path);
            nd->any_header = true;
            memcpy(nd->prefix, p, n - 1);
            nd->prefix[n - 1] = 0;
            return VG_OK;
        }
        if (n >= sizeof t->keys[0].name)
            return vg_error_set(err, VG_E_FORMAT, "--json-map", 0,
                                "--json-map: key too long in '%.64s'", it->path);
        int k = tree_find(t, node, p, n);
        if (k < 0) {
            if (t->n_keys == VG_JSON_MAX_ENTRIES ||
                t->nodes[node].n == VG_JSON_MAX_ENTRIES)
                return vg_error_set(err, VG_E_FORMAT, "--json-map", 0,
                                    "--json-map: too many keys");
            k = (int)t->n_keys++;
            struct tree_key *nk = &t->keys[k];
            memset(nk, 0, sizeof *nk);
            memcpy(nk->name, p, n);
            nk->field = VG_FF_IGNORE;
            nk->child = -1;
            t->nodes[node].keys[t->nodes[node].n++] = k;
        }
        struct tree_key *tk = &t->keys[k];
        if (!dot) {
            tk->field = it->field;
            tk->prio = it->prio;
            tk->flags = 0;
            snprintf(tk->hdr, sizeof tk->hdr, "%s", it->hdr);
            if (real_ip && it->field == VG_FF_HEADER) {
                char norm[128];
                vg_field_norm(it->hdr, strlen(it->hdr), norm, sizeof norm);
                if (strcmp(norm, real_ip) == 0)
                    tk->flags |= VG_FS_FORWARDED;
            }
            return VG_OK;
        }
        if (tk->child < 0) {
            if (t->n_nodes == VG_ARRAY_LEN(t->nodes))
                return vg_error_set(err, VG_E_FORMAT, "--json-map", 0,
                                    "--json-map: keys nested too deeply or in too many objects");
            tk->child = (int)t->n_nodes++;
            memset(&t->nodes[tk->child], 0, sizeof t->nodes[0]);
        }
        node = tk->child;
        p = dot + 1;
    }
}

/* Parses "field=key,field=key" into items (appended after n preset items). */
static vg_status parse_map(const char *map, struct map_item *items, size_t *n, size_t cap,
                           struct vg_error *err)
{
    const char *p = map;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (len == 0) {
            p = e ? e + 1 : p + len;
            continue;
        }
        if (!eq || eq == p || eq + 1 == p + len)
            return vg_error_set(err, VG_E_FORMAT, "--json-map", 0,
                                "--json-map: '%.*s' is not field=key", (int)(len > 80 ? 80 : len),
                                p);
        size_t fn = (size_t)(eq - p), kn = len - fn - 1;
        if (*n == cap)
            return vg_error_set(err, VG_E_FORMAT, "--json-map", 0, "--json-map: too many keys");
        struct map_item *it = &items[*n];
        memset(it, 0, sizeof *it);
        if (kn >= sizeof it->path)
            return vg_error_set(err, VG_E_FORMAT, "--json-map", 0,
                                "--json-map: key too long in '%.*s'", (int)(len > 80 ? 80 : len),
                                p);
        memcpy(it->path, eq + 1, kn);
        it->prio = 9; /* the user's word wins */
        bool found = false;
        if (fn > 7 && memcmp(p, "header:", 7) == 0) {
            if (fn - 7 >= sizeof it->hdr)
                return vg_error_set(err, VG_E_FORMAT, "--json-map", 0,
                                    "--json-map: header name too long");
            memcpy(it->hdr, p + 7, fn - 7);
            it->field = vg_header_field(it->hdr, fn - 7);
            found = true;
        }
        for (size_t i = 0; !found && i < VG_ARRAY_LEN(vg_json_fields); i++) {
            if (strlen(vg_json_fields[i].name) == fn && memcmp(vg_json_fields[i].name, p, fn) == 0) {
                it->field = vg_json_fields[i].field;
                found = true;
            }
        }
        if (!found)
            return vg_error_set(err, VG_E_FORMAT, "--json-map", 0,
                                "--json-map: unknown field '%.*s' (known: client, peer, user, "
                                "time, request, method, target, path, query, protocol, status, "
                                "bytes, referer, user_agent, host, cookie, content_type, body, "
                                "header:NAME, ignore)",
                                (int)(fn > 40 ? 40 : fn), p);
        (*n)++;
        p = e ? e + 1 : p + len;
    }
    return VG_OK;
}

/* Lays the tree out into the flat program. */
static vg_status layout(const struct tree *t, const char *real_ip, struct vg_json_prog **out)
{
    struct vg_json_prog *pg = vg_calloc(1, sizeof *pg);
    if (!pg)
        return VG_E_NOMEM;
    size_t pool_cap = 16 + (real_ip ? strlen(real_ip) + 1 : 0);
    size_t slots = 0;
    for (size_t i = 0; i < t->n_keys; i++)
        pool_cap += strlen(t->keys[i].name) + strlen(t->keys[i].hdr) + 2;
    for (size_t i = 0; i < t->n_nodes; i++) {
        pool_cap += strlen(t->nodes[i].prefix) + 1;
        size_t m = 4;
        while (m < 2 * t->nodes[i].n)
            m *= 2;
        slots += m;
    }
    pg->nodes = vg_calloc(t->n_nodes, sizeof *pg->nodes);
    pg->keys = vg_calloc(t->n_keys ? t->n_keys : 1, sizeof *pg->keys);
    pg->slots = vg_calloc(slots, sizeof *pg->slots);
    pg->pool = vg_malloc(pool_cap);
    if (!pg->nodes || !pg->keys || !pg->slots || !pg->pool) {
        vg_json_prog_free(pg);
        return VG_E_NOMEM;
    }
    size_t pool_n = 0, key_n = 0, slot_n = 0;
    pg->n_nodes = t->n_nodes;
    for (size_t ni = 0; ni < t->n_nodes; ni++) {
        const struct tree_node *tn = &t->nodes[ni];
        struct json_node *nd = &pg->nodes[ni];
        nd->first = (uint32_t)key_n;
        nd->n = (uint32_t)tn->n;
        size_t m = 4;
        while (m < 2 * tn->n)
            m *= 2;
        nd->mask = (uint32_t)(m - 1);
        nd->slot_off = (uint32_t)slot_n;
        nd->any_header = tn->any_header;
        size_t pl = strlen(tn->prefix);
        memcpy(pg->pool + pool_n, tn->prefix, pl + 1);
        nd->prefix_off = (uint32_t)pool_n;
        nd->prefix_len = (uint16_t)pl;
        pool_n += pl + 1;
        for (size_t j = 0; j < tn->n; j++) {
            const struct tree_key *tk = &t->keys[tn->keys[j]];
            struct json_key *k = &pg->keys[key_n];
            size_t nl = strlen(tk->name), hl = strlen(tk->hdr);
            memcpy(pg->pool + pool_n, tk->name, nl + 1);
            k->name_off = (uint32_t)pool_n;
            k->name_len = (uint16_t)nl;
            pool_n += nl + 1;
            memcpy(pg->pool + pool_n, tk->hdr, hl + 1);
            k->aux_off = (uint32_t)pool_n;
            k->aux_len = (uint16_t)hl;
            pool_n += hl + 1;
            k->field = tk->field;
            k->prio = tk->prio;
            k->flags = tk->flags;
            k->child = tk->child < 0 ? VG_JSON_NONE : (uint32_t)tk->child;
            uint32_t h = key_hash((const uint8_t *)tk->name, nl) & nd->mask;
            while (pg->slots[slot_n + h])
                h = (h + 1) & nd->mask;
            pg->slots[slot_n + h] = (uint16_t)(j + 1);
            key_n++;
        }
        slot_n += m;
    }
    pg->n_keys = key_n;
    if (real_ip) {
        size_t rl = strlen(real_ip);
        memcpy(pg->pool + pool_n, real_ip, rl + 1);
        pg->real_ip = pg->pool + pool_n;
        pool_n += rl + 1;
    }
    assert(pool_n <= pool_cap);
    *out = pg;
    return VG_OK;
}

/*
 * Compiles a JSON format: the preset's key map ("json", "caddy", "traefik") plus the user's
 * --json-map (which wins on the same key). OUT: *out owns the format.
 */
vg_status vg_json_compile(const char *name, const char *preset, const char *map,
                          const char *real_ip, struct vg_format **out, struct vg_error *err)
{
    *out = NULL;
    const struct json_entry *pe = vg_json_generic;
    size_t pn = VG_ARRAY_LEN(vg_json_generic);
    if (strcmp(preset, "caddy") == 0) {
        pe = vg_json_caddy;
        pn = VG_ARRAY_LEN(vg_json_caddy);
    } else if (strcmp(preset, "traefik") == 0) {
        pe = vg_json_traefik;
        pn = VG_ARRAY_LEN(vg_json_traefik);
    }
    struct map_item *items = vg_calloc(VG_JSON_MAX_ENTRIES, sizeof *items);
    struct tree *t = vg_calloc(1, sizeof *t);
    vg_status st = VG_OK;
    if (!items || !t) {
        st = vg_error_set(err, VG_E_NOMEM, "log format", 0, "out of memory");
        goto done;
    }
    size_t n = 0;
    for (size_t i = 0; i < pn; i++) {
        struct map_item *it = &items[n++];
        snprintf(it->path, sizeof it->path, "%s", pe[i].path);
        snprintf(it->hdr, sizeof it->hdr, "%s", pe[i].hdr ? pe[i].hdr : "");
        it->field = pe[i].field;
        it->prio = pe[i].prio;
    }
    if (map && *map) {
        st = parse_map(map, items, &n, VG_JSON_MAX_ENTRIES, err);
        if (st != VG_OK)
            goto done;
    }
    t->n_nodes = 1;
    for (size_t i = 0; i < n && st == VG_OK; i++)
        st = tree_add(t, &items[i], real_ip, err);
    if (st != VG_OK)
        goto done;
    size_t nn = strlen(name);
    struct vg_format *fmt = vg_calloc(1, sizeof *fmt + nn + 1);
    if (!fmt) {
        st = vg_error_set(err, VG_E_NOMEM, "log format", 0, "out of memory");
        goto done;
    }
    memcpy((char *)(fmt + 1), name, nn + 1);
    fmt->name = (const char *)(fmt + 1);
    fmt->kind = VG_FK_JSON;
    fmt->escape = VG_ESC_JSON;
    fmt->needs_buf = true;
    st = layout(t, real_ip, &fmt->json);
    if (st != VG_OK) {
        vg_format_free(fmt);
        st = vg_error_set(err, VG_E_NOMEM, "log format", 0, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < fmt->json->n_keys; i++)
        if (fmt->json->keys[i].flags & VG_FS_FORWARDED)
            fmt->has_forwarded = true;
    for (size_t i = 0; i < fmt->json->n_nodes; i++)
        if (fmt->json->nodes[i].any_header && real_ip)
            fmt->has_forwarded = true;
    *out = fmt;
done:
    vg_free(items);
    vg_free(t);
    return st;
}

/* ---- JSON string escapes ---------------------------------------------------------------------- */

static int hexv(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool hex4(const uint8_t *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexv(s[i]);
        if (h < 0)
            return false;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return true;
}

bool vg_json_needs_transcode(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (vg_nginx_escapes(s[i]))
            return true;
    return false;
}

static inline size_t put_hex(uint8_t *o, uint8_t c)
{
    o[0] = '\\';
    o[1] = 'x';
    o[2] = (uint8_t)"0123456789ABCDEF"[c >> 4];
    o[3] = (uint8_t)"0123456789ABCDEF"[c & 15];
    return 4;
}

#define put_byte vg_put_nginx_byte

static size_t put_utf8(uint8_t *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xc0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xe0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* See ingest_int.h. At most 4 bytes per input byte (a raw byte >= 0x80 becomes \xHH). */
struct vg_str vg_json_transcode(const uint8_t *s, size_t n, struct vg_parse_buf *buf)
{
    if (n > SIZE_MAX / 4)
        return vg_str_make(s, n);
    uint8_t *o = vg_pbuf_room(buf, 4 * n);
    if (!o)
        return vg_str_make(s, n);
    size_t k = 0, i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c != '\\' || i + 1 == n) {
            k += put_byte(o + k, c);
            i++;
            continue;
        }
        uint8_t e = s[i + 1];
        unsigned cp, lo;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            k += put_byte(o + k, e);
            i += 2;
            continue;
        case 'b':
            k += put_hex(o + k, 0x08);
            i += 2;
            continue;
        case 'f':
            k += put_hex(o + k, 0x0c);
            i += 2;
            continue;
        case 'n':
            k += put_hex(o + k, 0x0a);
            i += 2;
            continue;
        case 'r':
            k += put_hex(o + k, 0x0d);
            i += 2;
            continue;
        case 't':
            k += put_hex(o + k, 0x09);
            i += 2;
            continue;
        case 'u':
            if (i + 6 > n || !hex4(s + i + 2, &cp))
                break;
            i += 6;
            if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' &&
                hex4(s + i + 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                cp = 0xfffd; /* a lone surrogate */
            }
            uint8_t u[4];
            size_t un = put_utf8(u, cp);
            for (size_t j = 0; j < un; j++)
                k += put_byte(o + k, u[j]);
            continue;
        default:
            break;
        }
        /* an unknown or cut escape: its bytes as they are */
        k += put_byte(o + k, c);
        i++;
    }
    assert(k <= 4 * n);
    buf->used += k;
    return vg_str_make(o, k);
}

/* ---- the parser ------------------------------------------------------------------------------- */

struct jp {
    const uint8_t *p, *end;
    const struct vg_format *fmt;
    const struct vg_json_prog *pg;
    struct vg_request *req;
    struct vg_parse_acc *acc;
    uint8_t seen[VG_FF_COUNT]; /* priority + 1 of the value stored per field, 0 = none */
    enum vg_parse_result err;
};

static inline void skip_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/*
 * First '"' or '\\' in [s, end), or end; *odd is set when a byte before it is one nginx's
 * escape=default would escape (controls, DEL, 0x80..0xFF). Performance note: 16 bytes at a
 * time where SSE2 exists: one compare finds both the controls and the high bytes (signed).
 */
static inline const uint8_t *json_scan(const uint8_t *s, const uint8_t *end, bool *odd)
{
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
    while (end - s >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)));
        unsigned o = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmplt_epi8(x, sp), _mm_cmpeq_epi8(x, del)));
        if (m) {
            unsigned at = (unsigned)__builtin_ctz(m);
            if (o & ((1u << at) - 1u))
                *odd = true;
            return s + at;
        }
        if (o)
            *odd = true;
        s += 16;
    }
#endif
    for (; s < end; s++) {
        if (*s == '"' || *s == '\\')
            return s;
        if (*s < 0x20 || *s >= 0x7f)
            *odd = true;
    }
    return end;
}

/* Scans a string starting at the opening quote. OUT: body view, *esc: had a backslash,
   *tx: has an escape or a byte that vg_json_transcode rewrites. */
static bool scan_string(struct jp *j, struct vg_str *body, bool *esc, bool *tx)
{
    const uint8_t *s = j->p + 1;
    bool odd = false;
    *esc = false;
    for (;;) {
        const uint8_t *c = json_scan(s, j->end, &odd);
        if (c == j->end)
            return false;
        if (*c == '"') {
            *body = vg_str_make(j->p + 1, (size_t)(c - j->p - 1));
            j->p = c + 1;
            *tx = *esc || odd;
            return true;
        }
        if (c + 1 >= j->end)
            return false;
        *esc = true;
        s = c + 2;
    }
}

static bool scan_number(struct jp *j, struct vg_str *out)
{
    const uint8_t *s = j->p, *p = s, *e = j->end;
    if (p < e && *p == '-')
        p++;
    if (p >= e || !VG_DIG(*p))
        return false;
    if (*p == '0')
        p++;
    else
        while (p < e && VG_DIG(*p))
            p++;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !VG_DIG(*p))
            return false;
        while (p < e && VG_DIG(*p))
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !VG_DIG(*p))
            return false;
        while (p < e && VG_DIG(*p))
            p++;
    }
    *out = vg_str_make(s, (size_t)(p - s));
    j->p = p;
    return true;
}

static bool scan_literal(struct jp *j)
{
    static const char *const lits[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, lits[i], n) == 0) {
            j->p += n;
            return true;
        }
    }
    return false;
}

/* What a key maps to, once looked up. */
struct jtarget {
    uint8_t field;
    uint8_t prio;
    uint8_t flags;
    struct vg_str aux;
};

/* Stores a scalar value for target t (strings: body; numbers: text). */
static bool store(struct jp *j, const struct jtarget *t, struct vg_str v, bool esc, bool tx)
{
    uint8_t f = t->field;
    if (f == VG_FF_IGNORE || v.n == 0 || (v.n == 1 && v.p[0] == '-'))
        return true;
    uint8_t slot = f;
    if (f == VG_FF_CLIENT || f == VG_FF_CLIENT_PORT)
        slot = VG_FF_CLIENT;
    else if (f == VG_FF_TIME_ANY || f == VG_FF_TIME_ISO || f == VG_FF_EPOCH)
        slot = VG_FF_TIME_ANY;
    if (f != VG_FF_HEADER) {
        if (j->seen[slot] > t->prio)
            return true; /* a value of higher or equal priority is already there */
        j->seen[slot] = (uint8_t)(t->prio + 1);
    }
    if (esc)
        j->req->flags |= VG_REQ_ESCAPED;
    j->acc->escape = tx ? VG_ESC_JSON : VG_ESC_DEFAULT;
    enum vg_parse_result r =
        vg_store_field(f, VG_FS_IN_QUOTES | t->flags, v.p, v.n, t->aux, j->req, j->acc);
    if (r != VG_PARSE_OK) {
        j->err = r;
        return false;
    }
    return true;
}

static bool parse_value(struct jp *j, const struct jtarget *t, uint32_t child, int depth);

/* Looks a key up in node ni. */
static void lookup(const struct jp *j, uint32_t ni, struct vg_str key, struct jtarget *t,
                   uint32_t *child)
{
    const struct vg_json_prog *pg = j->pg;
    const struct json_node *nd = &pg->nodes[ni];
    t->field = VG_FF_IGNORE;
    t->prio = 0;
    t->flags = 0;
    t->aux = VG_STR_NULL;
    *child = VG_JSON_NONE;
    if (nd->n) {
        uint32_t h = key_hash(key.p, key.n) & nd->mask;
        for (;;) {
            uint16_t s = pg->slots[nd->slot_off + h];
            if (!s)
                break;
            const struct json_key *k = &pg->keys[nd->first + s - 1u];
            if (k->name_len == key.n && memcmp(pg->pool + k->name_off, key.p, key.n) == 0) {
                t->field = k->field;
                t->prio = k->prio;
                t->flags = k->flags;
                t->aux = vg_str_make(pg->pool + k->aux_off, k->aux_len);
                *child = k->child;
                return;
            }
            h = (h + 1) & nd->mask;
        }
    }
    if (nd->any_header && key.n > nd->prefix_len &&
        memcmp(key.p, pg->pool + nd->prefix_off, nd->prefix_len) == 0) {
        struct vg_str name = vg_str_make(key.p + nd->prefix_len, key.n - nd->prefix_len);
        t->field = vg_header_field((const char *)name.p, name.n);
        t->aux = t->field == VG_FF_HEADER ? name : VG_STR_NULL;
        if (pg->real_ip && name.n < 128) {
            char norm[128];
            vg_field_norm((const char *)name.p, name.n, norm, sizeof norm);
            if (strcmp(norm, pg->real_ip) == 0)
                t->flags |= VG_FS_FORWARDED;
        }
    }
}

static bool parse_object(struct jp *j, uint32_t ni, int depth)
{
    if (depth > VG_JSON_MAX_DEPTH)
        return false;
    j->p++; /* '{' */
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return true;
    }
    for (;;) {
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"')
            return false;
        struct vg_str key;
        bool esc, tx;
        if (!scan_string(j, &key, &esc, &tx))
            return false;
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return false;
        j->p++;
        skip_ws(j);
        struct jtarget t = {VG_FF_IGNORE, 0, 0, VG_STR_NULL};
        uint32_t child = VG_JSON_NONE;
        if (ni != VG_JSON_NONE)
            lookup(j, ni, key, &t, &child);
        if (!parse_value(j, &t, child, depth))
            return false;
        skip_ws(j);
        if (j->p >= j->end)
            return false;
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == '}') {
            j->p++;
            return true;
        }
        return false;
    }
}

/* An array: the first scalar element is the value of t (Caddy logs headers as lists). */
static bool parse_array(struct jp *j, const struct jtarget *t, int depth)
{
    if (depth > VG_JSON_MAX_DEPTH)
        return false;
    j->p++; /* '[' */
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return true;
    }
    static const struct jtarget none = {VG_FF_IGNORE, 0, 0, {NULL, 0}};
    bool first = true;
    for (;;) {
        skip_ws(j);
        if (!parse_value(j, first ? t : &none, VG_JSON_NONE, depth))
            return false;
        first = false;
        skip_ws(j);
        if (j->p >= j->end)
            return false;
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == ']') {
            j->p++;
            return true;
        }
        return false;
    }
}

static bool parse_value(struct jp *j, const struct jtarget *t, uint32_t child, int depth)
{
    if (j->p >= j->end)
        return false;
    uint8_t c = *j->p;
    struct vg_str v;
    bool esc, tx;
    switch (c) {
    case '"':
        if (!scan_string(j, &v, &esc, &tx))
            return false;
        return store(j, t, v, esc, tx);
    case '{':
        return parse_object(j, child, depth + 1);
    case '[':
        return parse_array(j, t, depth + 1);
    case 't':
    case 'f':
    case 'n':
        return scan_literal(j);
    default:
        if (!scan_number(j, &v))
            return false;
        return store(j, t, v, false, false);
    }
}

/* Parses one JSON line (see ingest.h for the contract; acc is set up by the caller). */
enum vg_parse_result vg_json_parse(const struct vg_format *fmt, const uint8_t *line, size_t len,
                                   struct vg_request *req, struct vg_parse_acc *acc)
{
    struct jp j;
    j.p = line;
    j.end = line + len;
    j.fmt = fmt;
    j.pg = fmt->json;
    j.req = req;
    j.acc = acc;
    j.err = VG_PARSE_OK;
    memset(j.seen, 0, sizeof j.seen);
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '{')
        return memchr(line, 0, len) ? VG_PARSE_BINARY : VG_PARSE_JSON;
    if (!parse_object(&j, 0, 1))
        return j.err != VG_PARSE_OK ? j.err : VG_PARSE_JSON;
    skip_ws(&j);
    if (j.p != j.end)
        return VG_PARSE_TRAILING;
    if (!(req->flags & VG_REQ_HAS_TIME))
        return VG_PARSE_MISSING;
    if (!req->request.n && !req->target.n && !req->path.p && !req->method.n)
        return VG_PARSE_MISSING;
    return vg_request_finish(fmt, req, acc);
}
