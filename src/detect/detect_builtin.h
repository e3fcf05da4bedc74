/* SPDX-License-Identifier: Apache-2.0 */
/* detect_builtin.h: the built-in rule files, embedded at build time by tools/embed.c. */
#ifndef VG_DETECT_BUILTIN_H
#define VG_DETECT_BUILTIN_H

struct vg_builtin_file {
    const char *name;          /* file name in rules/, e.g. "sqli.yaml" */
    const unsigned char *data; /* its bytes (NUL-terminated for convenience) */
    unsigned long len;
};

/* Sorted by name; terminated by an entry with name == 0. */
extern const struct vg_builtin_file vg_builtin_rule_files[];
extern const unsigned long vg_builtin_rule_file_count;

#endif /* VG_DETECT_BUILTIN_H */
