/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attrib_int.h: helpers shared by the attribution files (not part of the stage contract).
 */
#ifndef VG_ATTRIB_INT_H
#define VG_ATTRIB_INT_H

#include "core/core.h"

/*
 * Finds the first data directory that holds the file `marker`, among <exe dir>/../data/geo,
 * <exe dir>/data/geo, ./data/geo and /usr/share/vigil/geo. Writes the directory (no trailing
 * slash) into out and returns true when found.
 */
bool vg_attrib_find_data_dir(const char *marker, char *out, size_t cap);

#endif /* VG_ATTRIB_INT_H */
