/* SPDX-License-Identifier: Apache-2.0 */
/*
 * behave_int.h: pieces shared by the files of src/behave/ (not part of the stage contract).
 */
#ifndef VG_BEHAVE_INT_H
#define VG_BEHAVE_INT_H

#include "behave/behave.h"
#include "detect/detect.h"

/* The built-in configuration (config/behave.conf), embedded by cmake/embed_text.cmake. */
extern const char vg_behave_builtin_conf[];
extern const unsigned long vg_behave_builtin_conf_len;

/* Injection classes: a request carrying one of them is not a credential guess. */
#define VG_INJECTION_CLASSES                                                                      \
    ((1u << VG_CLASS_SQLI) | (1u << VG_CLASS_XSS) | (1u << VG_CLASS_TRAVERSAL) |                  \
     (1u << VG_CLASS_RFI) | (1u << VG_CLASS_CMDI) | (1u << VG_CLASS_CODE) | (1u << VG_CLASS_SSTI))

/* Seeds of the parameter keys of vg_obs_arg (behave_observe.c makes them, behave_state.c finds a
   parameter's name again from its key): the raw path and the method, and where it was sent. */
#define VG_ARG_SEED_BODY 0x626f6479u
static inline uint64_t vg_behave_arg_seed(const struct vg_obs *o)
{
    return o->path_hash ^ (o->feat & (VG_OBS_GET | VG_OBS_HEAD | VG_OBS_POST));
}

/* ASCII lower case of c. */
static inline uint8_t vg_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

/* Hash of the lower-case form of s (for word sets). Never 0. */
uint64_t vg_behave_word_hash(const uint8_t *s, size_t n);

/* Glob match: '*' matches any run of bytes (including '/'); everything else literally. */
bool vg_behave_glob(const char *pat, const uint8_t *s, size_t n);

/* Key of a hashed pattern of `kind` from the FNV-1a state over its text. */
uint64_t vg_behave_pat_key(uint64_t fnv_state, int kind);

/* The pattern of `kind` whose text is s[0..n) in set, by key: index + 1, or 0. */
uint32_t vg_patset_probe(const struct vg_patset *set, uint64_t key, int kind, const uint8_t *s,
                         size_t n);

/* Does the raw query hold the argument "name=value" (or "name" with any value)? */
bool vg_behave_query_has(const char *want, struct vg_str query);

/*
 * The hash keys of one lower-case path, computed once and probed in every pattern set: the
 * exact path, each prefix that ends before a '/' (and the whole path), and the last segment.
 */
struct vg_path_keys {
    const uint8_t *path;
    size_t n;
    uint64_t exact;
    size_t n_pre;
    uint64_t pre[24];
    size_t pre_len[24];
    uint64_t name;
    size_t name_b, name_e;
};
void vg_path_keys_make(const uint8_t *path, size_t n, struct vg_path_keys *k);
uint32_t vg_patset_match_keys(const struct vg_patset *s, const struct vg_path_keys *k,
                              struct vg_str query);

/* Whether the HTTP status is in the configured miss set. */
static inline bool vg_behave_is_miss(const struct vg_behave_config *cfg, int32_t status)
{
    return status >= 0 && status < 1024 && (cfg->miss_status[status >> 3] >> (status & 7)) & 1;
}

#endif /* VG_BEHAVE_INT_H */
