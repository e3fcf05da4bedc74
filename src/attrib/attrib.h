/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attrib.h: attribution of client addresses: country from MMDB files (libmaxminddb), AS number
 * and organisation from ip-location-db's ASN ranges, the user's own labels (CIDR -> label), and
 * the /24 or /48 network roll-up.
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

/* ---- autonomous systems (ip-location-db ASN CSV, compiled) ---------------------------------- */

/*
 * ASN data: an IPv4/IPv6 range table (start, end, AS number, organisation) read from
 * ip-location-db's `asn-ipv4.csv` / `asn-ipv6.csv` (columns ip_range_start, ip_range_end,
 * autonomous_system_number, autonomous_system_organization; addresses as text) and compiled
 * once into a compact binary lookup file cached beside the CSVs (see docs/internals/behave.md,
 * "Attribution"). Read-only after opening: lookups are thread-safe.
 */
struct vg_asn;

/*
 * Opens ASN data. paths: CSV files (any mix of IPv4 and IPv6 ranges), or one compiled file
 * (*.vgasn). For CSV input the compiled file cache_path (NULL: "asn.vgasn" in the directory of
 * the first CSV) is used when it was built from exactly these CSVs (names, sizes, modification
 * times and the package version file), otherwise the CSVs are compiled and the result written
 * to cache_path (atomically; when the directory is not writable the table stays in memory).
 * A damaged compiled file is rebuilt, never trusted. On failure err names the file and line.
 */
vg_status vg_asn_open(const char *const *paths, size_t n, const char *cache_path,
                      struct vg_asn **out, struct vg_error *err);
void vg_asn_free(struct vg_asn *db);

/* "ip-location-db asn 2.3.2026061719 (built 2026-06-17)" or "<file> (file of YYYY-MM-DD)";
   "" for NULL. Borrowed from db. */
const char *vg_asn_provenance(const struct vg_asn *db);

/* Number of IPv4 and IPv6 ranges. */
void vg_asn_counts(const struct vg_asn *db, size_t *v4, size_t *v6);

/*
 * Looks an address up. On a hit *asn is the AS number and *org its organisation (borrowed from
 * db, NUL-terminated, may be ""); on a miss *asn = 0 and *org = "". Returns true on a hit.
 * db NULL: always a miss.
 */
bool vg_asn_lookup(const struct vg_asn *db, const struct vg_addr *a, uint32_t *asn,
                   const char **org);

/*
 * Default ASN CSVs: $VIGIL_ASN (colon-separated) when set, else asn-ipv4.csv and asn-ipv6.csv
 * of the first geo data directory (as for vg_geo_default_paths) that holds asn-ipv4.csv.
 * Writes up to cap paths into out (caller frees each with vg_free).
 */
size_t vg_asn_default_paths(char **out, size_t cap);

/* ---- user labels (CIDR -> label) ------------------------------------------------------------ */

/*
 * A user's labelled networks: lines "CIDR<space or tab>label" ("203.0.113.0/24 partner",
 * "2001:db8::/32 own-network", a bare address is a /32 or /128); '#' starts a comment; labels
 * are 1..32 characters of [A-Za-z0-9._:-]. An address may carry several labels.
 */
struct vg_labels;

/* Parses label text; source_name is used in errors and vg_labels_source. err names the line. */
vg_status vg_labels_parse(const uint8_t *buf, size_t n, const char *source_name,
                          struct vg_labels **out, struct vg_error *err);
/* Reads and parses a label file. */
vg_status vg_labels_load(const char *path, struct vg_labels **out, struct vg_error *err);
void vg_labels_free(struct vg_labels *l);

/* "FILE (N networks)"; "" for NULL. Borrowed. */
const char *vg_labels_source(const struct vg_labels *l);

/*
 * Writes the labels of every listed network that contains a into out as "label1,label2"
 * (sorted, without duplicates, truncated at a label boundary to fit cap bytes incl. NUL).
 * Returns the number of labels written; out is "" when none (or l is NULL).
 */
size_t vg_labels_lookup(const struct vg_labels *l, const struct vg_addr *a, char *out,
                        size_t cap);

/* ---- network roll-ups ------------------------------------------------------------------------ */

#define VG_NET_TEXT_MAX 64

/* The /24 (IPv4) or /48 (IPv6) network of a as text, "203.0.113.0/24", "2001:db8:1::/48".
   out holds at least VG_NET_TEXT_MAX bytes; returns the length. */
size_t vg_addr_network(const struct vg_addr *a, char *out);

/* True when a lies in the network net/prefix_len (prefix_len 0..128 over the 16-byte form;
   an IPv4 /n is /(96+n) there). */
bool vg_addr_in_prefix(const struct vg_addr *a, const struct vg_addr *net, unsigned prefix_len);

/*
 * Parses "address[/len]" (IPv4 or IPv6; IPv4 lengths 0..32 are mapped to 96..128). A bare
 * address is a full-length prefix. Host bits set in the address are an error (false).
 */
bool vg_prefix_parse(const uint8_t *s, size_t n, struct vg_addr *net, unsigned *prefix_len);

#endif /* VG_ATTRIB_H */
