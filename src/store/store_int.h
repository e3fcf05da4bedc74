/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_int.h: what the files of src/store/ share beyond the stage contract (store.h): the
 * SQLite handle of a store, for the report queries of store_query.c.
 */
#ifndef VG_STORE_INT_H
#define VG_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

/* The connection of st (borrowed; used by one thread at a time like the handle). */
sqlite3 *vg_store_db(struct vg_store *st);

/* Keeps "what: SQLite's text for rc" as st's last error; returns the status for rc. */
vg_status vg_store_fail_rc(struct vg_store *st, int rc, const char *what);

#endif /* VG_STORE_INT_H */
