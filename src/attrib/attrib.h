/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attrib.h: attribution of client addresses (country from MMDB files via libmaxminddb).
 *
 * A vg_geo is opened once (part of the engine) and read-only afterwards: lookups are thread-safe.
 * Attribution is stated for what it is: the country of the client address as logged, from a named
 * database of a named build date (vg_geo_provenance).
 */
#ifndef VG_ATTRIB_H
#define VG_ATTRIB_H

#include "core/core.h"

struct vg_geo;

/*
 * Opens the MMDB files (tried in order for each lookup; the first with an answer wins). Each
 * database must hold a country code at "country_code" (ip-location-db) or "country.iso_code"
 * (MaxMind/DB-IP layout). On failure err names the file.
 */
vg_status vg_geo_open(const char *const *paths, size_t n, struct vg_geo **out,
                      struct vg_error *err);
void vg_geo_free(struct vg_geo *geo);

/* "name (built YYYY-MM-DD)" of each database, joined with "; ". Borrowed from geo. */
const char *vg_geo_provenance(const struct vg_geo *geo);

/*
 * Country of an address: writes the ISO code (2 letters + NUL) into cc, or "" when no database
 * knows it. Returns false only on a database error (cc is then "").
 */
bool vg_geo_country(const struct vg_geo *geo, const struct vg_addr *addr, char cc[3]);

/*
 * Default database paths: $VIGIL_GEO (colon-separated) when set, else the first directory among
 * <exe dir>/../data/geo, <exe dir>/data/geo, ./data/geo, /usr/share/vigil/geo that holds
 * geo-whois-asn-country.mmdb. Writes up to cap paths into out (caller frees each with vg_free).
 */
size_t vg_geo_default_paths(char **out, size_t cap);

#endif /* VG_ATTRIB_H */
