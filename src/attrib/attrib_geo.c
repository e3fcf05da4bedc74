/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attrib_geo.c: country lookup over one or more MMDB files with libmaxminddb.
 *
 * Performance note: MMDB_lookup_sockaddr walks the search tree (~30 node reads); the pipeline
 * caches the answer per distinct source, so this runs once per attacking address, not per line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib/attrib.h"
#include "attrib/attrib_int.h"

#define VG_GEO_MAX_DBS 8

struct vg_geo {
    MMDB_s dbs[VG_GEO_MAX_DBS];
    size_t n;
    char provenance[1024];
};

vg_status vg_geo_open(const char *const *paths, size_t n, struct vg_geo **out,
                      struct vg_error *err)
{
    *out = NULL;
    if (n > VG_GEO_MAX_DBS)
        return vg_error_set(err, VG_E_INVAL, NULL, 0, "at most %d geo databases", VG_GEO_MAX_DBS);
    struct vg_geo *g = vg_calloc(1, sizeof *g);
    if (!g)
        return VG_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = MMDB_open(paths[i], MMDB_MODE_MMAP, &g->dbs[g->n]);
        if (rc != MMDB_SUCCESS) {
            vg_geo_free(g);
            return vg_error_set(err, VG_E_GEO, paths[i], 0, "%s: %s", paths[i],
                                rc == MMDB_IO_ERROR ? strerror(errno) : MMDB_strerror(rc));
        }
        g->n++;
        const char *base = strrchr(paths[i], '/');
        base = base ? base + 1 : paths[i];
        char date[24];
        vg_time_format_iso((int64_t)g->dbs[i].metadata.build_epoch, date);
        date[10] = 0;
        size_t used = strlen(g->provenance);
        snprintf(g->provenance + used, sizeof g->provenance - used, "%s%s (built %s)",
                 used ? "; " : "", base, date);
    }
    *out = g;
    return VG_OK;
}

void vg_geo_free(struct vg_geo *geo)
{
    if (!geo)
        return;
    for (size_t i = 0; i < geo->n; i++)
        MMDB_close(&geo->dbs[i]);
    vg_free(geo);
}

const char *vg_geo_provenance(const struct vg_geo *geo)
{
    return geo ? geo->provenance : "";
}

static bool entry_cc(MMDB_entry_s *entry, char cc[3])
{
    MMDB_entry_data_s data;
    int rc = MMDB_get_value(entry, &data, "country_code", NULL);
    if (rc != MMDB_SUCCESS || !data.has_data)
        rc = MMDB_get_value(entry, &data, "country", "iso_code", NULL);
    if (rc != MMDB_SUCCESS || !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING ||
        data.data_size != 2)
        return false;
    /* Security note: database bytes are data too; accept only two ASCII letters. */
    for (int i = 0; i < 2; i++) {
        char c = data.utf8_string[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
        cc[i] = (char)(c & ~0x20);
    }
    cc[2] = 0;
    return true;
}

bool vg_geo_country(const struct vg_geo *geo, const struct vg_addr *addr, char cc[3])
{
    cc[0] = 0;
    if (!geo)
        return true;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    if (vg_addr_is_v4(addr)) {
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, addr->b + 12, 4);
        sa = (const struct sockaddr *)&sin;
    } else {
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, addr->b, 16);
        sa = (const struct sockaddr *)&sin6;
    }
    bool ok = true;
    for (size_t i = 0; i < geo->n; i++) {
        /* An IPv4-only database cannot take IPv6 addresses. */
        if (sa->sa_family == AF_INET6 && geo->dbs[i].metadata.ip_version == 4)
            continue;
        int mmdb_err = 0;
        MMDB_lookup_result_s r =
            MMDB_lookup_sockaddr((MMDB_s *)&geo->dbs[i], sa, &mmdb_err);
        if (mmdb_err != MMDB_SUCCESS) {
            ok = false;
            continue;
        }
        if (r.found_entry && entry_cc(&r.entry, cc))
            return true;
    }
    return ok;
}

static bool file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

bool vg_attrib_find_data_dir(const char *marker, char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char dirs[4][PATH_MAX + 32];
    size_t nd = 0;
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(dirs[nd++], sizeof dirs[0], "%s/../data/geo", exe);
            snprintf(dirs[nd++], sizeof dirs[0], "%s/data/geo", exe);
        }
    }
    snprintf(dirs[nd++], sizeof dirs[0], "./data/geo");
    snprintf(dirs[nd++], sizeof dirs[0], "/usr/share/vigil/geo");
    for (size_t i = 0; i < nd; i++) {
        char path[sizeof dirs[0] + 256];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dirs[i], marker) >= sizeof path)
            continue;
        if (file_exists(path)) {
            if ((size_t)snprintf(out, cap, "%s", dirs[i]) >= cap)
                return false;
            return true;
        }
    }
    return false;
}

size_t vg_geo_default_paths(char **out, size_t cap)
{
    size_t n = 0;
    const char *env = getenv("VIGIL_GEO");
    if (env && *env) {
        const char *p = env;
        while (*p && n < cap) {
            const char *e = strchr(p, ':');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if (len) {
                char *s = vg_strndup(p, len);
                if (s)
                    out[n++] = s;
            }
            if (!e)
                break;
            p = e + 1;
        }
        return n;
    }
    char dir[PATH_MAX + 64];
    static const char name[] = "geo-whois-asn-country.mmdb";
    if (n < cap && vg_attrib_find_data_dir(name, dir, sizeof dir)) {
        char path[sizeof dir + sizeof name + 1];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        char *s = vg_strdup(path);
        if (s)
            out[n++] = s;
    }
    return n;
}
