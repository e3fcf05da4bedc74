/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_engine.c: compiles a rule set into Vectorscan databases (per transformation view and
 * field group) plus PCRE2 codes, and runs them over the fields of each request. Third pipeline
 * stage; stateless per request.
 *
 * Compilation. Every rule gets a PCRE2 code (JIT when available): PCRE2 is the reference
 * semantics, used for exact spans and for confirmation. A rule whose pattern Vectorscan accepts
 * runs exactly in the view's databases. A pattern Vectorscan rejects (backreferences, lookaround,
 * atomic groups ...) is compiled in prefilter mode (a superset) and each prefilter hit is
 * confirmed with PCRE2; a pattern Vectorscan cannot even prefilter runs with PCRE2 alone.
 * Patterns that can match the empty string are errors. Lexer rules (operator: sqli | xss) have
 * no pattern: they are listed apart and run on the subjects of their fields after the regex
 * scan (see vg_scan_lexers and docs/internals/detect_lexers.md).
 *
 * Databases. Within a view, fields whose rule sets are identical share one database ("field
 * group"), so a field is scanned only with the rules that inspect it: the user agent is not run
 * through the SQL injection rules meant for arguments. Performance note: Vectorscan's cost per
 * call grows with the size of the database even for short subjects, and a request has a dozen
 * short subjects, so small per-field databases matter more than one shared database.
 *
 * Memo. Logs repeat themselves: the same user agents, referers, paths and argument values come
 * back line after line. Each scratch remembers, in a small direct-mapped table, the confirmed
 * matches of recent short subjects per (view, field group); a subject seen again replays them
 * instead of scanning. Entries are verified byte for byte, so the memo changes speed, never
 * results. An entry also remembers that the group's lexer rules found nothing in the subject
 * (field groups are formed over regex and lexer rules alike, so that holds for every field of
 * the group). Performance note: on the dev corpus most subjects hit; unseen input costs a hash.
 *
 * Scanning. For each field the request has (method, path, query, every argument name and value
 * of the query and of a logged urlencoded body, user agent, referer, host, cookie, body,
 * protocol, request line), and for each view with rules on that field, the view's bytes are
 * scanned: "raw" is the field as logged; "decoded" is the field's decode chain (decode.h), made
 * only when vg_decode_needed says it differs (otherwise it is the raw bytes, no copy). Each rule
 * counts once per request, at the first field where it fires.
 *
 * Rules that use the rule language (transformation chains, the newer operators, negate, chain,
 * exclude, the newer fields) are compiled and run by detect_lang.c after this engine's scan;
 * both record hits here (vg_record_hit), where an allowlist entry may drop a hit without marking
 * the rule fired. Scores are summed at the end (vg_score_rules: once per rule, once per
 * `group`, per class). The structures shared with detect_lang.c live in detect_int.h.
 *
 * Invariants: the detector is immutable after vg_detector_new and shared by threads; each
 * thread owns a vg_detect_scratch; once a scratch has grown to the longest request seen (and
 * its request memo to its largest size), vg_detect_request allocates nothing. A request seen
 * before on the same scratch gets its remembered verdict (the request memo, below).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "decode/decode.h"
#include "detect/detect_int.h"
#include "detect/detect_sqli.h"
#include "detect/detect_xss.h"

/* ---- PCRE2 allocation through the library allocator -------------------------------------- */

static void *vg_pcre_malloc(PCRE2_SIZE n, void *user)
{
    VG_UNUSED(user);
    return vg_malloc(n);
}

static void vg_pcre_free(void *p, void *user)
{
    VG_UNUSED(user);
    vg_free(p);
}

/* ---- compilation ------------------------------------------------------------------------- */

/*
 * HS_FLAG_SINGLEMATCH, unless the expression can match a single byte (one_byte: Vectorscan's
 * minimum width <= 1, or not known). Vectorscan 5.4.9 (Debian 12) misses the match of such a
 * pattern (a literal byte, "z+", "x?z", "z|abc"; caseless too) compiled with the flag when the
 * byte is the last of an input longer than about 64 bytes: a NUL at the end of a long argument
 * slipped past CRS 920270 that way. Without the flag it is found; the match callbacks keep the
 * first match of each expression themselves. (The same bug as vg_hs_scan's, found later: with
 * its end-aligned copy alone these matches are found too; both stay.)
 */
unsigned vg_hs_single(bool one_byte)
{
    return one_byte ? 0 : HS_FLAG_SINGLEMATCH;
}

/*
 * hs_scan of subject with s's Vectorscan scratch, from a copy whose end is 64-byte aligned.
 * Vectorscan 5.4.9 (Debian 12; its AVX-512 runtime at least) loses matches in the last bytes of
 * an input longer than about 60 bytes when the input ends at some offsets within a 64-byte line:
 * "union\s+select" beside "<script" in one database missed "1' UNION SELECT 1,2--" at the end
 * of a long argument for end offsets 16 to 48; other small databases of vigil's own expressions
 * miss for 12 to 52. Which requests were missed depended on where the allocator had put their
 * bytes (fuzz_detect_memo found it as two scratches disagreeing). Over randomized databases of
 * built-in and CRS expressions and payloads at every end offset, no match was lost with the end
 * at offset 0, so scans run from such a copy (a per-scratch buffer grown to the longest subject;
 * a subject that already ends there is scanned in place). Match offsets are relative to the
 * start, so callbacks see no difference.
 */
vg_status vg_hs_scan(struct vg_detect_scratch *s, const hs_database_t *db, struct vg_str subject,
                     match_event_handler on_match, void *ctx)
{
    const char *p = (const char *)subject.p;
    size_t n = subject.n;
    if (n && (((uintptr_t)p + n) & 63) != 0) {
        if (n + 64 > s->hsbuf_cap) {
            size_t cap = s->hsbuf_cap ? s->hsbuf_cap : 4096;
            while (cap < n + 64)
                cap *= 2;
            uint8_t *nb = vg_realloc(s->hsbuf, cap);
            if (!nb)
                return VG_E_NOMEM;
            s->hsbuf = nb;
            s->hsbuf_cap = cap;
        }
        /* the first place in the buffer at which the copy ends on a 64-byte boundary */
        uintptr_t end = ((uintptr_t)s->hsbuf + n + 63) & ~(uintptr_t)63;
        char *q = (char *)(end - n);
        memcpy(q, p, n);
        p = q;
    }
    /* Vectorscan takes an unsigned int length: longer subjects are scanned up to it (cannot
       happen with the pipeline's line limit, checked anyway). */
    unsigned int len = n > UINT_MAX ? UINT_MAX : (unsigned int)n;
    hs_error_t he = hs_scan(db, p, len, 0, s->hs, on_match, ctx);
    return he == HS_SUCCESS || he == HS_SCAN_TERMINATED ? VG_OK : VG_E_INTERNAL;
}

static unsigned vg_hs_flags(const struct vg_detector *det, size_t i)
{
    unsigned f = vg_hs_single(det->hs_one[i]);
    if (det->rs->rules[i].caseless)
        f |= HS_FLAG_CASELESS;
    if (det->mode[i] == VG_MODE_PREFILTER)
        f |= HS_FLAG_PREFILTER;
    return f;
}

/* Compiles rule i with PCRE2 and checks it cannot match the empty string. */
static vg_status vg_compile_pcre(struct vg_detector *det, size_t i, pcre2_compile_context *cctx,
                                 pcre2_match_data *md, struct vg_error *err)
{
    const struct vg_rule *r = &det->rs->rules[i];
    if (r->op != VG_OP_REGEX || r->extended)
        return VG_OK; /* lexer rules have no pattern (det->code[i] stays NULL); extended rules
                         are compiled by detect_lang.c */
    int ec;
    PCRE2_SIZE off;
    uint32_t opts = r->caseless ? PCRE2_CASELESS : 0;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)r->regex, strlen(r->regex), opts, &ec, &off,
                                     cctx);
    if (!code) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", ec);
        if (ec == PCRE2_ERROR_NOMEMORY || ec == PCRE2_ERROR_HEAP_FAILED)
            return vg_error_set(err, VG_E_NOMEM, r->source, 0, "out of memory");
        return vg_error_set(err, VG_E_REGEX, r->source, 0,
                            "rule %u (%s): pattern does not compile: %s at offset %zu", r->id,
                            r->source, (const char *)msg, (size_t)off);
    }
    det->code[i] = code;
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    int rc = pcre2_match(code, (PCRE2_SPTR) "", 0, 0, 0, md, NULL);
    if (rc >= 0)
        return vg_error_set(err, VG_E_REGEX, r->source, 0,
                            "rule %u (%s): pattern matches the empty string", r->id, r->source);
    return VG_OK;
}

/* Decides exact / prefilter / PCRE-only for rule i with hs_expression_info. */
static vg_status vg_classify_rule(struct vg_detector *det, size_t i, struct vg_error *err)
{
    const struct vg_rule *r = &det->rs->rules[i];
    if (r->extended) {
        det->mode[i] = VG_MODE_EXT;
        return VG_OK;
    }
    if (r->op != VG_OP_REGEX) {
        det->mode[i] = VG_MODE_LEXER;
        return VG_OK;
    }
    unsigned base = r->caseless ? HS_FLAG_CASELESS : 0;
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *ce = NULL;
    enum vg_rule_mode mode = VG_MODE_EXACT;
    if (hs_expression_info(r->regex, base, &info, &ce) != HS_SUCCESS) {
        hs_free_compile_error(ce);
        ce = NULL;
        mode = VG_MODE_PREFILTER;
        if (hs_expression_info(r->regex, base | HS_FLAG_PREFILTER, &info, &ce) != HS_SUCCESS) {
            hs_free_compile_error(ce);
            info = NULL;
            mode = VG_MODE_PCRE;
        }
    }
    /* Exact mode: Vectorscan's minimum width is exact. Otherwise PCRE2's minimum length (a
       lower bound) decides; a prefilter form that can still match empty is refused by the
       multi-pattern compile and demoted to PCRE2 alone. */
    bool empty = false;
    if (info && mode == VG_MODE_EXACT) {
        empty = info->min_width == 0;
    } else {
        uint32_t minlen = 0;
        if (pcre2_pattern_info(det->code[i], PCRE2_INFO_MINLENGTH, &minlen) == 0 && minlen == 0)
            empty = true;
    }
    det->hs_one[i] = !info || info->min_width <= 1;
    free(info); /* allocated by Vectorscan's default allocator; NULL is fine */
    if (empty)
        return vg_error_set(err, VG_E_REGEX, r->source, 0,
                            "rule %u (%s): pattern can match the empty string", r->id,
                            r->source);
    det->mode[i] = (uint8_t)mode;
    return VG_OK;
}

/* True when rule i belongs to the rule set of (view t, field f). */
static bool vg_rule_in(const struct vg_detector *det, size_t i, enum vg_transform t, int f)
{
    const struct vg_rule *r = &det->rs->rules[i];
    return !r->extended && r->op == VG_OP_REGEX && r->transform == t && (r->fields & (1u << f));
}

/* True when rule i (of any operator) inspects field f in view t. */
static bool vg_rule_on(const struct vg_detector *det, size_t i, enum vg_transform t, int f)
{
    const struct vg_rule *r = &det->rs->rules[i];
    return !r->extended && r->transform == t && (r->fields & (1u << f));
}

/* True when fields f and g of view t have exactly the same rules (lexer rules included, so
   that a memo entry's lexer verdict holds for every field of its group). */
static bool vg_same_rules(const struct vg_detector *det, enum vg_transform t, int f, int g)
{
    for (size_t i = 0; i < det->n_rules; i++)
        if (vg_rule_on(det, i, t, f) != vg_rule_on(det, i, t, g))
            return false;
    return true;
}

/* Assigns the fields of view t to groups of identical rule sets. */
static void vg_plan_view(struct vg_detector *det, enum vg_transform t)
{
    struct vg_view_db *v = &det->views[t];
    int rep[VG_F_COUNT]; /* representative field of each group */
    v->n_groups = 0;
    v->fields = 0;
    for (int f = 0; f < VG_F_COUNT; f++) {
        v->group[f] = -1;
        if (t == VG_T_CHAIN || !(VG_F_LEGACY_MASK & (1u << f)))
            continue; /* the extended engine's */
        bool any = false;
        for (size_t i = 0; i < det->n_rules && !any; i++)
            any = vg_rule_in(det, i, t, f);
        if (!any)
            continue;
        v->fields |= 1u << f;
        for (int g = 0; g < v->n_groups && v->group[f] < 0; g++)
            if (vg_same_rules(det, t, f, rep[g]))
                v->group[f] = (int8_t)g;
        if (v->group[f] < 0) {
            rep[v->n_groups] = f;
            v->group[f] = (int8_t)v->n_groups++;
        }
    }
}

static void vg_free_groups(struct vg_detector *det)
{
    for (int t = 0; t < VG_T_COUNT; t++) {
        for (int g = 0; g < VG_F_COUNT; g++) {
            hs_free_database(det->views[t].groups[g].db);
            vg_free(det->views[t].groups[g].pcre);
            memset(&det->views[t].groups[g], 0, sizeof(det->views[t].groups[g]));
        }
    }
}

/* ---- compiled-database cache ------------------------------------------------------------- */

/*
 * Performance note: compiling the built-in rule set takes Vectorscan about a second (ten under
 * AddressSanitizer), far more than scanning a small log. A compiled database depends only on
 * the expressions, their flags and ids, the Vectorscan version and the CPU features, so it is
 * serialized into the cache directory under the SHA-256 of exactly those, and read back on the
 * next start. The file holds the BLAKE2b-256 of its payload first (faster than SHA-256 over tens
 * of MiB): a truncated or corrupted file is ignored (and rewritten), never deserialized. The
 * cache is an optimization only: every failure falls back to compiling.
 */
#define VG_HSDB_MAGIC "vigil-hsdb-2"

static void vg_hsdb_key(const char **exprs, const unsigned *flags, const unsigned *ids,
                        unsigned k, char hex[65])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)VG_HSDB_MAGIC, sizeof VG_HSDB_MAGIC);
    const char *ver = hs_version();
    crypto_hash_sha256_update(&h, (const uint8_t *)ver, strlen(ver) + 1);
    hs_platform_info_t plat;
    memset(&plat, 0, sizeof plat);
    if (hs_populate_platform(&plat) == HS_SUCCESS)
        crypto_hash_sha256_update(&h, (const uint8_t *)&plat, sizeof plat);
    for (unsigned i = 0; i < k; i++) {
        uint32_t meta[3] = {flags[i], ids[i], (uint32_t)strlen(exprs[i])};
        crypto_hash_sha256_update(&h, (const uint8_t *)meta, sizeof meta);
        crypto_hash_sha256_update(&h, (const uint8_t *)exprs[i], meta[2]);
    }
    uint8_t out[32];
    crypto_hash_sha256_final(&h, out);
    sodium_bin2hex(hex, 65, out, sizeof out);
}

/*
 * Memory for a database of n bytes. Performance note: the databases with the imported rule sets
 * are tens of MiB that every scan reads at random places; memory of 2 MiB or more is aligned and
 * advised onto huge pages (fewer page faults at start, fewer TLB misses while scanning). Freed by
 * hs_free_database: Vectorscan's allocator is the C library's (vigil never sets another).
 */
static void *vg_hsdb_mem(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    if (n < huge)
        return malloc(n);
    void *p = NULL;
    size_t rounded = (n + huge - 1) & ~(huge - 1);
    if (posix_memalign(&p, huge, rounded) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}

static hs_database_t *vg_hsdb_load(const char *dir, const char *key)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s.hsdb", dir, key) >= sizeof path)
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    hs_database_t *db = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > 32 && st.st_size < (64L << 20)) {
        size_t len = (size_t)st.st_size;
        /* Performance note: mapped, not read: the checksum and Vectorscan read the page cache
           in place. */
        const uint8_t *buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (buf != MAP_FAILED) {
            uint8_t sum[32];
            size_t n = 0;
            crypto_generichash(sum, sizeof sum, buf + 32, len - 32, NULL, 0);
            if (sodium_memcmp(sum, buf, 32) == 0 &&
                hs_serialized_database_size((const char *)buf + 32, len - 32, &n) ==
                    HS_SUCCESS) {
                void *mem = vg_hsdb_mem(n);
                if (mem && hs_deserialize_database_at((const char *)buf + 32, len - 32,
                                                      (hs_database_t *)mem) == HS_SUCCESS)
                    db = (hs_database_t *)mem;
                else
                    free(mem);
            }
            munmap((void *)buf, len);
        }
    }
    close(fd);
    return db;
}

static void vg_hsdb_store(const char *dir, const char *key, const hs_database_t *db)
{
    char *bytes = NULL;
    size_t n = 0;
    if (hs_serialize_database(db, &bytes, &n) != HS_SUCCESS)
        return;
    char path[4096], tmp[4200];
    uint8_t sum[32];
    crypto_generichash(sum, sizeof sum, (const uint8_t *)bytes, n, NULL, 0);
    if ((size_t)snprintf(path, sizeof path, "%s/%s.hsdb", dir, key) < sizeof path &&
        (size_t)snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) < sizeof tmp) {
        (void)mkdir(dir, 0700);
        FILE *f = fopen(tmp, "wb");
        if (f) {
            bool ok = fwrite(sum, 1, 32, f) == 32 && fwrite(bytes, 1, n, f) == n;
            ok = (fclose(f) == 0) && ok;
            if (!ok || rename(tmp, path) != 0)
                (void)unlink(tmp);
        }
    }
    free(bytes); /* allocated by Vectorscan's default allocator */
}

vg_status vg_hsdb_build(const char *cache_dir, const char **exprs, const unsigned *flags,
                        const unsigned *ids, unsigned k, hs_database_t **db, int *bad,
                        char *msg, size_t msg_cap)
{
    *db = NULL;
    *bad = -1;
    char key[65], path[4200];
    bool cached = cache_dir && (size_t)snprintf(path, sizeof path, "%s/", cache_dir) < sizeof path;
    if (cached) {
        vg_hsdb_key(exprs, flags, ids, k, key);
        *db = vg_hsdb_load(cache_dir, key);
        if (*db)
            return VG_OK;
        /* Performance note: a set Vectorscan refused before (one expression over its resource
           limits in a multi-pattern compile) is remembered too, with the refused expression,
           so that the demotions of a large imported rule set cost no compile next time. */
        snprintf(path, sizeof path, "%s/%s.refused", cache_dir, key);
        FILE *f = fopen(path, "r");
        if (f) {
            int b = -1;
            bool ok = fscanf(f, "%d", &b) == 1 && b >= 0 && (unsigned)b < k;
            fclose(f);
            if (ok) {
                *bad = b;
                snprintf(msg, msg_cap, "refused before (cached)");
                return VG_E_REGEX;
            }
        }
    }
    hs_compile_error_t *ce = NULL;
    if (hs_compile_multi(exprs, flags, ids, k, HS_MODE_BLOCK, NULL, db, &ce) == HS_SUCCESS) {
        if (cached)
            vg_hsdb_store(cache_dir, key, *db);
        return VG_OK;
    }
    *db = NULL;
    *bad = ce && ce->expression >= 0 && (unsigned)ce->expression < k ? ce->expression : -1;
    snprintf(msg, msg_cap, "%s", ce && ce->message ? ce->message : "unknown error");
    hs_free_compile_error(ce);
    if (cached && *bad >= 0) {
        (void)mkdir(cache_dir, 0700);
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "%d\n", *bad);
            fclose(f);
        }
    }
    return VG_E_REGEX;
}

/*
 * Compiles the database of one field group (rep: any field of the group). When Vectorscan
 * rejects one expression in the multi-pattern compile (it can refuse there what
 * expression_info accepted, e.g. on resource limits), *demoted receives that rule (exact ->
 * prefilter -> PCRE2 alone) and the caller compiles everything again.
 */
static vg_status vg_compile_group(struct vg_detector *det, enum vg_transform t, int rep,
                                  struct vg_group_db *gdb, const char **exprs, unsigned *flags,
                                  unsigned *ids, bool *demoted, struct vg_error *err)
{
    unsigned k = 0;
    size_t np = 0;
    for (size_t i = 0; i < det->n_rules; i++) {
        if (!vg_rule_in(det, i, t, rep))
            continue;
        if (det->mode[i] == VG_MODE_PCRE) {
            np++;
            continue;
        }
        const struct vg_rule *r = &det->rs->rules[i];
        exprs[k] = r->regex;
        flags[k] = vg_hs_flags(det, i);
        ids[k] = (unsigned)i;
        k++;
    }
    if (np) {
        gdb->pcre = vg_calloc(np, sizeof(*gdb->pcre));
        if (!gdb->pcre)
            return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
        for (size_t i = 0; i < det->n_rules; i++)
            if (vg_rule_in(det, i, t, rep) && det->mode[i] == VG_MODE_PCRE)
                gdb->pcre[gdb->n_pcre++] = (uint32_t)i;
    }
    if (k == 0)
        return VG_OK;
    char key[65];
    if (det->cache_dir) {
        vg_hsdb_key(exprs, flags, ids, k, key);
        gdb->db = vg_hsdb_load(det->cache_dir, key);
        if (gdb->db) {
            if (hs_alloc_scratch(gdb->db, &det->proto) != HS_SUCCESS)
                return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
            return VG_OK;
        }
    }
    hs_compile_error_t *ce = NULL;
    hs_error_t he = hs_compile_multi(exprs, flags, ids, k, HS_MODE_BLOCK, NULL, &gdb->db, &ce);
    if (he == HS_SUCCESS) {
        if (det->cache_dir)
            vg_hsdb_store(det->cache_dir, key, gdb->db);
        if (hs_alloc_scratch(gdb->db, &det->proto) != HS_SUCCESS)
            return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
        return VG_OK;
    }
    gdb->db = NULL;
    int bad = ce ? ce->expression : -1;
    if (bad < 0 || (unsigned)bad >= k) {
        vg_status st = vg_error_set(err, VG_E_REGEX, NULL, 0, "Vectorscan compile failed: %s",
                                    ce && ce->message ? ce->message : "unknown error");
        hs_free_compile_error(ce);
        return st;
    }
    hs_free_compile_error(ce);
    size_t ri = ids[bad];
    det->mode[ri] = det->mode[ri] == VG_MODE_EXACT ? VG_MODE_PREFILTER : VG_MODE_PCRE;
    det->hs_one[ri] = 1; /* the prefilter form's width is not known */
    *demoted = true;
    return VG_OK;
}

/* Compiles every field group of every view (see vg_compile_group for demotions). */
static vg_status vg_compile_views(struct vg_detector *det, struct vg_error *err)
{
    size_t n = det->n_rules ? det->n_rules : 1;
    const char **exprs = vg_calloc(n, sizeof(*exprs));
    unsigned *flags = vg_calloc(n, sizeof(*flags));
    unsigned *ids = vg_calloc(n, sizeof(*ids));
    vg_status st = (exprs && flags && ids) ? VG_OK
                                           : vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    for (int t = 0; st == VG_OK && t < VG_T_COUNT; t++)
        vg_plan_view(det, (enum vg_transform)t);
    /* Each round either succeeds or demotes one rule one step: at most 2n + 1 rounds. */
    for (size_t round = 0; st == VG_OK && round <= 2 * n + 1; round++) {
        bool demoted = false;
        for (int t = 0; st == VG_OK && !demoted && t < VG_T_COUNT; t++) {
            struct vg_view_db *v = &det->views[t];
            for (int f = 0; st == VG_OK && !demoted && f < VG_F_COUNT; f++) {
                int g = v->group[f];
                if (g < 0 || v->groups[g].db || v->groups[g].pcre)
                    continue; /* no rules, or the group was compiled via another field */
                st = vg_compile_group(det, (enum vg_transform)t, f, &v->groups[g], exprs, flags,
                                      ids, &demoted, err);
            }
        }
        if (st != VG_OK || !demoted)
            break;
        vg_free_groups(det);
    }
    vg_free(exprs);
    vg_free(flags);
    vg_free(ids);
    return st;
}

/* Lists the lexer rules and the fields each view runs them on. */
static vg_status vg_plan_lexers(struct vg_detector *det, struct vg_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < det->n_rules; i++)
        n += det->mode[i] == VG_MODE_LEXER;
    if (n == 0)
        return VG_OK;
    det->lexers = vg_calloc(n, sizeof(*det->lexers));
    if (!det->lexers)
        return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    for (size_t i = 0; i < det->n_rules; i++) {
        if (det->mode[i] != VG_MODE_LEXER)
            continue;
        const struct vg_rule *r = &det->rs->rules[i];
        det->lexers[det->n_lexers++] = (uint32_t)i;
        det->lex_fields[r->transform] |= r->fields;
    }
    return VG_OK;
}

/* Numbers the distinct `group` texts: det->group[i] for rule i, -1 without a group. */
static vg_status vg_plan_groups(struct vg_detector *det, struct vg_error *err)
{
    det->group = vg_calloc(det->n_rules ? det->n_rules : 1, sizeof(*det->group));
    if (!det->group)
        return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    int32_t n = 0;
    for (size_t i = 0; i < det->n_rules; i++) {
        const char *g = det->rs->rules[i].group;
        det->group[i] = -1;
        if (!g)
            continue;
        for (size_t j = 0; j < i && det->group[i] < 0; j++)
            if (det->rs->rules[j].group && strcmp(det->rs->rules[j].group, g) == 0)
                det->group[i] = det->group[j];
        if (det->group[i] < 0)
            det->group[i] = n++;
    }
    return VG_OK;
}

/* Appends the length-prefixed text s to b ("<len>:<bytes> "). */
static vg_status vg_make_fields_text(struct vg_detector *det)
{
    det->fields_text = vg_calloc(det->n_rules ? det->n_rules : 1, sizeof(*det->fields_text));
    if (!det->fields_text)
        return VG_E_NOMEM;
    for (size_t i = 0; i < det->n_rules; i++) {
        struct vg_buf b;
        vg_buf_init(&b, 4096);
        const struct vg_rule *r = &det->rs->rules[i];
        for (int f = 0; f < VG_F_COUNT; f++)
            if ((r->fields & (1u << f)) && f != VG_F_HEADER) {
                if (b.n)
                    vg_bputc(&b, ',');
                vg_bputs(&b, vg_field_name((enum vg_field)f));
            }
        for (size_t k = 0; k < r->cond.n_header_names; k++) {
            if (b.n)
                vg_bputc(&b, ',');
            vg_bprintf(&b, "header:%s", r->cond.header_names[k]);
        }
        if (b.err != VG_OK || !b.p) {
            vg_buf_fini(&b);
            det->fields_text[i] = vg_strdup("");
        } else {
            det->fields_text[i] = (char *)b.p; /* takes the buffer */
        }
        if (!det->fields_text[i])
            return VG_E_NOMEM;
    }
    return VG_OK;
}

static vg_status vg_hash_add(struct vg_buf *b, const char *key, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    vg_status st = vg_buf_printf(b, "%s=%zu:", key, n);
    if (st == VG_OK)
        st = vg_buf_add(b, s ? s : "", n);
    if (st == VG_OK)
        st = vg_buf_addc(b, ' ');
    return st;
}

/*
 * The provenance hash: SHA-256 over a canonical text of the compiled rules, in index order:
 * "vigil-rules-1\n", then per rule "id=N class=C score=N paranoia=N fields=a,b transform=T
 * caseless=0|1 " followed by the length-prefixed regex and message and a newline.
 */
static vg_status vg_compute_hash(struct vg_detector *det)
{
    struct vg_buf b;
    vg_buf_init(&b, 0);
    vg_status st = vg_buf_adds(&b, "vigil-rules-1\n");
    for (size_t i = 0; st == VG_OK && i < det->n_rules; i++) {
        const struct vg_rule *r = &det->rs->rules[i];
        st = vg_buf_printf(&b, "id=%u class=%s score=%d paranoia=%d fields=", r->id,
                           vg_class_name(r->class_), r->score, r->paranoia);
        bool first = true;
        for (int f = 0; st == VG_OK && f < VG_F_COUNT; f++) {
            if (!(r->fields & (1u << f)))
                continue;
            st = vg_buf_printf(&b, "%s%s", first ? "" : ",", vg_field_name((enum vg_field)f));
            first = false;
        }
        if (st == VG_OK && r->op == VG_OP_REGEX)
            st = vg_buf_printf(&b, " transform=%s caseless=%d ", vg_transform_name(r->transform),
                               r->caseless ? 1 : 0);
        else if (st == VG_OK)
            st = vg_buf_printf(&b, " transform=%s operator=%s ",
                               vg_transform_name(r->transform), vg_rule_op_name(r->op));
        if (st == VG_OK && r->op == VG_OP_REGEX)
            st = vg_hash_add(&b, "regex", r->regex);
        if (st == VG_OK)
            st = vg_hash_add(&b, "message", r->message);
        if (st == VG_OK && (r->extended || r->group || r->author))
            st = vg_rule_ext_text(r, &b); /* rules without the new keys hash as before */
        if (st == VG_OK)
            st = vg_buf_addc(&b, '\n');
    }
    if (st == VG_OK) {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, b.p, b.n);
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < sizeof h; i++) {
            det->hash[2 * i] = hex[h[i] >> 4];
            det->hash[2 * i + 1] = hex[h[i] & 15];
        }
        det->hash[2 * sizeof h] = 0;
    }
    vg_buf_fini(&b);
    return st;
}

/*
 * Compiles the rules of rs at or below `paranoia` into a detector; consumes rs (freed by the
 * detector, or here on failure). threshold (>= 1): score at or above which a request is an
 * attack. Returns VG_E_INVAL (bad paranoia/threshold), VG_E_REGEX (a pattern does not compile
 * or can match the empty string; err names the rule id and its source) or VG_E_NOMEM.
 * On success *out owns the detector (free with vg_detector_free); it is immutable and may be
 * shared by any number of threads.
 */
vg_status vg_detector_new(struct vg_ruleset *rs, int paranoia, int threshold,
                          struct vg_detector **out, struct vg_error *err)
{
    return vg_detector_new_cached(rs, paranoia, threshold, NULL, out, err);
}

/* As vg_detector_new, reading and writing compiled databases in cache_dir (NULL: no cache). */
vg_status vg_detector_new_cached(struct vg_ruleset *rs, int paranoia, int threshold,
                                 const char *cache_dir, struct vg_detector **out,
                                 struct vg_error *err)
{
    *out = NULL;
    if (!rs)
        return vg_error_set(err, VG_E_INVAL, NULL, 0, "no rule set");
    if (paranoia < 1 || paranoia > 4 || threshold < 1) {
        vg_ruleset_free(rs);
        return vg_error_set(err, VG_E_INVAL, NULL, 0,
                            "paranoia must be 1..4 and threshold at least 1");
    }
    struct vg_detector *det = vg_calloc(1, sizeof(*det));
    if (!det) {
        vg_ruleset_free(rs);
        return vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    }
    det->rs = rs;
    det->paranoia = paranoia;
    det->threshold = threshold;
    det->cache_dir = cache_dir;

    /* Keep the rules at or below the paranoia level, in load order. */
    size_t k = 0;
    for (size_t i = 0; i < rs->n; i++) {
        if (rs->rules[i].paranoia <= paranoia)
            rs->rules[k++] = rs->rules[i];
        else
            vg_rule_fini(&rs->rules[i]);
    }
    rs->n = k;
    det->n_rules = k;
    vg_status st = VG_OK;
    if (k > UINT32_MAX / 2)
        st = vg_error_set(err, VG_E_LIMIT, NULL, 0, "too many rules");

    det->gctx = pcre2_general_context_create(vg_pcre_malloc, vg_pcre_free, NULL);
    pcre2_compile_context *cctx = det->gctx ? pcre2_compile_context_create(det->gctx) : NULL;
    pcre2_match_data *md = det->gctx ? pcre2_match_data_create(1, det->gctx) : NULL;
    det->code = vg_calloc(k ? k : 1, sizeof(*det->code));
    det->mode = vg_calloc(k ? k : 1, 1);
    det->hs_one = vg_calloc(k ? k : 1, 1);
    if (st == VG_OK && (!det->gctx || !cctx || !md || !det->code || !det->mode || !det->hs_one))
        st = vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    if (st == VG_OK)
        pcre2_set_max_pattern_length(cctx, VG_RULE_TEXT_MAX);
    for (size_t i = 0; st == VG_OK && i < k; i++)
        st = vg_compile_pcre(det, i, cctx, md, err);
    pcre2_match_data_free(md);
    for (size_t i = 0; st == VG_OK && i < k; i++)
        st = vg_classify_rule(det, i, err);
    if (st == VG_OK)
        st = vg_plan_lexers(det, err);
    if (st == VG_OK)
        st = vg_compile_views(det, err);
    if (st == VG_OK)
        st = vg_plan_groups(det, err);
    if (st == VG_OK)
        st = vg_xengine_new(det, cctx, err);
    pcre2_compile_context_free(cctx);
    det->cache_dir = NULL;
    if (st == VG_OK && vg_make_fields_text(det) != VG_OK)
        st = vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    if (st == VG_OK && vg_compute_hash(det) != VG_OK)
        st = vg_error_set(err, VG_E_NOMEM, NULL, 0, "out of memory");
    if (st != VG_OK) {
        vg_detector_free(det);
        return st;
    }
    *out = det;
    return VG_OK;
}

/* Frees a detector and its rules; NULL is harmless. No scratch of it may be in use. */
void vg_detector_free(struct vg_detector *det)
{
    if (!det)
        return;
    for (size_t i = 0; det->code && i < det->n_rules; i++)
        pcre2_code_free(det->code[i]);
    vg_free(det->code);
    vg_free(det->mode);
    vg_free(det->hs_one);
    for (size_t i = 0; det->fields_text && i < det->n_rules; i++)
        vg_free(det->fields_text[i]);
    vg_free(det->fields_text);
    vg_free(det->lexers);
    vg_free(det->group);
    vg_xengine_free(det->x);
    vg_allowlist_free(det->allow);
    vg_free_groups(det);
    hs_free_scratch(det->proto);
    pcre2_general_context_free(det->gctx);
    vg_ruleset_free(det->rs);
    vg_free(det);
}

/* Gives det an allowlist (owned from now on). */
void vg_detector_set_allowlist(struct vg_detector *det, struct vg_allowlist *al)
{
    if (!det) {
        vg_allowlist_free(al);
        return;
    }
    if (det->allow != al)
        vg_allowlist_free(det->allow);
    det->allow = al;
    det->allow_by_source = vg_allowlist_by_source(al);
}

const struct vg_allowlist *vg_detector_allowlist(const struct vg_detector *det)
{
    return det ? det->allow : NULL;
}

/* Score at or above which a request is an attack. */
int vg_detector_threshold(const struct vg_detector *det)
{
    return det->threshold;
}

/* Number of compiled rules (those at or below the paranoia level). */
size_t vg_detector_rule_count(const struct vg_detector *det)
{
    return det ? det->n_rules : 0;
}

/* Compiled rule i (borrowed, valid while det lives); NULL when out of range. */
const struct vg_rule *vg_detector_rule(const struct vg_detector *det, uint32_t i)
{
    if (!det || i >= det->n_rules)
        return NULL;
    return &det->rs->rules[i];
}

/* Comma-separated field names of rule i (borrowed, valid while det lives); "" if out of range. */
const char *vg_detector_rule_fields_text(const struct vg_detector *det, uint32_t i)
{
    if (!det || i >= det->n_rules || !det->fields_text)
        return "";
    return det->fields_text[i];
}

/* The view of rule i's own condition: "decoded", "raw" or its transformations (borrowed). */
const char *vg_detector_rule_view(const struct vg_detector *det, uint32_t i)
{
    if (!det || i >= det->n_rules)
        return "";
    const struct vg_rule *r = &det->rs->rules[i];
    if (r->transform == VG_T_CHAIN && det->x)
        return vg_xengine_rule_view(det, i);
    return vg_transform_name(r->transform);
}

static void vg_score_rules(const struct vg_detector *det, const struct vg_hit *hits, size_t n,
                           int *score, int *class_scores, uint32_t *classes);

int vg_detector_score_ids(const struct vg_detector *det, const uint32_t *ids, size_t n,
                          int *class_scores)
{
    struct vg_hit hits[VG_MAX_HITS];
    size_t k = 0;
    for (size_t i = 0; i < n && k < VG_MAX_HITS; i++)
        for (size_t r = 0; r < det->n_rules; r++)
            if (det->rs->rules[r].id == ids[i]) {
                memset(&hits[k], 0, sizeof(hits[k]));
                hits[k++].rule = (uint32_t)r;
                break;
            }
    struct {
        int score;
        int class_scores[VG_CLASS_COUNT];
        uint32_t classes;
    } acc;
    memset(&acc, 0, sizeof acc);
    vg_score_rules(det, hits, k, &acc.score, acc.class_scores, &acc.classes);
    memcpy(class_scores, acc.class_scores, sizeof acc.class_scores);
    return acc.score;
}

/* Hex SHA-256 of the compiled rules (64 characters; borrowed, valid while det lives). */
const char *vg_detector_hash(const struct vg_detector *det)
{
    return det->hash;
}

/* ---- the request memo -------------------------------------------------------------------- */

/*
 * Performance note (the request memo): access logs repeat whole requests - the same page, user
 * agent and referer from feeds, monitors, crawlers and returning visitors, the same probes from
 * scanners - and a request's verdict depends on nothing but the request fields the rules read:
 * method, path, query, target, protocol, request line, user agent, referer, host, cookie, body,
 * content type, logged headers, the escape and request-line flags, and the status when a rule
 * reads it. Together they are its key; a request whose key the memo holds gets the remembered
 * verdict and skips both engines. Allowlists drop hits only after they are found
 * (vg_record_hit): a verdict with no hit and no allowed hit is the same whatever the client
 * address and is always remembered (as its decode flags alone); a verdict with hits is
 * remembered when no hit was allowed and no allowlist entry names sources. Not used when a rule
 * reads the whole log line (it differs every line).
 *
 * Keys are not stored: a slot holds the key's 128-bit SipHash-2-4 (libsodium) under a secret
 * key drawn at random per scratch. Security note: a request is taken for a remembered one only
 * when its 128-bit keyed hash equals that one's; without the secret key an attacker cannot aim
 * at a collision, and by chance it happens less than once in 2^100 requests. Sets of four ways;
 * the way written longest ago is replaced.
 *
 * A verdict with hits is a record in a ring of VG_RMEMO_RING bytes (oldest overwritten first):
 * its scores and hits, each hit's name, subject and note either as a place in one of the key's
 * fields (the same bytes in every request with that key) or copied into the record. A record
 * is still there while the ring's end plus the room of one record (where a record that turns
 * out too long has been partly written) is less than VG_RMEMO_RING bytes past its start; a
 * replayed verdict borrows from it until the next vg_detect_request, as a computed one borrows
 * from the scratch.
 */
#define VG_RMEMO_WAYS 4u
#define VG_RMEMO_SETS0 (1u << 10)             /* 4,096 slots of 32 bytes at first; ... */
#define VG_RMEMO_SETS (1u << 16)              /* ... 262,144 (8 MiB) after as many stores */
#define VG_RMEMO_MAXKEY 4096u                 /* longer requests are not remembered */
#define VG_RMEMO_RING ((uint64_t)16 << 20)    /* bytes of verdicts with hits */
#define VG_RMEMO_MAXREC (16u << 10)           /* longer records are not kept */
#define VG_RKEY_FIELDS (12 + 2 * VG_REQ_MAX_HEADERS)

struct vg_rslot {
    uint64_t h[2];   /* the key's keyed hash (h[0] | 1; 0: empty) */
    uint64_t rec;    /* 0: no hit; else 1 + the absolute ring position of the verdict */
    uint32_t flags;  /* the request's decode flags */
    uint32_t age;    /* when written (rm->clock) */
};

/* Where a string of a remembered hit is: NULL, in key field `field` at off, or in the record's
   bytes at off. */
enum { VG_RREF_NULL, VG_RREF_FIELD, VG_RREF_OWN };
struct vg_rref {
    uint8_t kind;
    uint8_t field;
    uint32_t off;
    uint32_t n;
};

struct vg_rhit {
    uint32_t rule;
    uint32_t field;      /* enum vg_field */
    uint32_t transform;  /* enum vg_transform */
    size_t match_start, match_end;
    const char *view;    /* borrowed from the detector, which outlives the scratch */
    struct vg_rref name, subject, note;
};

struct vg_rrec {
    uint32_t len;        /* of the whole record, a multiple of 8 */
    uint32_t n_hits;
    int score;
    int class_scores[VG_CLASS_COUNT];
    uint32_t classes;
    bool truncated;
    struct vg_rhit hit[]; /* n_hits, then the copied bytes */
};

struct vg_rmemo {
    struct vg_rslot *slot;  /* n_sets * VG_RMEMO_WAYS, in mem (aligned for huge pages) */
    void *mem;
    size_t n_sets;
    uint8_t *ring;          /* VG_RMEMO_RING bytes, allocated with the first record */
    uint64_t wpos;          /* absolute write position in the ring */
    uint32_t clock;
    uint64_t h[2];          /* this request's keyed hash (h[0] == 0: not rememberable) */
    struct vg_str kf[VG_RKEY_FIELDS]; /* this request's key fields */
    uint8_t sk[crypto_shorthash_siphashx24_KEYBYTES];
    uint8_t key[VG_RMEMO_MAXKEY];
};

/* True when the bytes of v lie inside those of outer (a slice of the same buffer). */
static bool vg_str_inside(struct vg_str v, struct vg_str outer)
{
    return outer.p && v.p >= outer.p && v.n <= outer.n && (size_t)(v.p - outer.p) <= outer.n - v.n;
}

/* Appends field v to the key at k[*at]: 0 when absent ({NULL, 0}), 2 and an offset and length
   when its bytes lie in the request line rl (already in the key), else 1, length and bytes.
   False when the key would be longer than VG_RMEMO_MAXKEY. */
static bool vg_rkey_put(uint8_t *k, size_t *at, struct vg_str v, struct vg_str rl)
{
    size_t i = *at;
    if (!v.p) {
        if (i + 1 > VG_RMEMO_MAXKEY)
            return false;
        k[i++] = 0;
    } else if (vg_str_inside(v, rl)) {
        if (i + 9 > VG_RMEMO_MAXKEY)
            return false;
        uint32_t off = (uint32_t)(v.p - rl.p), n = (uint32_t)v.n;
        k[i++] = 2;
        memcpy(k + i, &off, 4);
        memcpy(k + i + 4, &n, 4);
        i += 8;
    } else {
        if (v.n > VG_RMEMO_MAXKEY || i + 5 + v.n > VG_RMEMO_MAXKEY)
            return false;
        uint32_t n = (uint32_t)v.n;
        k[i++] = 1;
        memcpy(k + i, &n, 4);
        if (v.n)
            memcpy(k + i + 4, v.p, v.n);
        i += 4 + v.n;
    }
    *at = i;
    return true;
}

/* The request's key fields into rm->kf and its keyed hash into rm->h (h[0] == 0: not
   rememberable). */
static void vg_rkey(const struct vg_detector *det, struct vg_rmemo *rm,
                    const struct vg_request *req)
{
    uint8_t *k = rm->key;
    size_t at = 0;
    rm->h[0] = 0;
    struct vg_str *kf = rm->kf;
    const struct vg_str none = VG_STR_NULL;
    kf[0] = req->request;
    kf[1] = req->method;
    kf[2] = req->target;
    kf[3] = req->path;
    kf[4] = req->query;
    kf[5] = req->protocol;
    kf[6] = req->user_agent;
    kf[7] = req->referer;
    kf[8] = req->host;
    kf[9] = req->cookie;
    kf[10] = req->body;
    kf[11] = req->content_type;
    unsigned nh = req->n_headers < VG_REQ_MAX_HEADERS ? req->n_headers : VG_REQ_MAX_HEADERS;
    for (unsigned h = 0; h < VG_REQ_MAX_HEADERS; h++) {
        kf[12 + 2 * h] = h < nh ? req->headers[h].name : none;
        kf[13 + 2 * h] = h < nh ? req->headers[h].value : none;
    }
    bool ok = true;
    for (size_t f = 0; ok && f < 12 + 2 * (size_t)nh; f++)
        ok = vg_rkey_put(k, &at, kf[f], f == 0 || f >= 12 ? none : req->request);
    if (!ok || at + 6 > VG_RMEMO_MAXKEY)
        return;
    int32_t status = (vg_xengine_fields(det->x) & (1u << VG_F_STATUS)) ? req->status : 0;
    k[at++] = (uint8_t)nh;
    k[at++] = (uint8_t)(req->flags & (VG_REQ_ESCAPED | VG_REQ_BAD_REQLINE));
    memcpy(k + at, &status, 4);
    at += 4;
    uint8_t out[crypto_shorthash_siphashx24_BYTES];
    crypto_shorthash_siphashx24(out, k, at, rm->sk);
    memcpy(rm->h, out, sizeof rm->h);
    rm->h[0] |= 1;
}

/* The slot holding rm->h, or NULL. */
static struct vg_rslot *vg_rmemo_find(struct vg_rmemo *rm)
{
    struct vg_rslot *set =
        &rm->slot[((size_t)(rm->h[0] >> 1) & (rm->n_sets - 1)) * VG_RMEMO_WAYS];
    for (unsigned w = 0; w < VG_RMEMO_WAYS; w++)
        if (set[w].h[0] == rm->h[0] && set[w].h[1] == rm->h[1])
            return &set[w];
    return NULL;
}

/* The record of slot sl while the ring still holds it, else NULL. */
static const struct vg_rrec *vg_rmemo_rec(const struct vg_rmemo *rm, const struct vg_rslot *sl)
{
    uint64_t pos = sl->rec - 1;
    if (!rm->ring || rm->wpos + VG_RMEMO_MAXREC > pos + VG_RMEMO_RING)
        return NULL;
    return (const struct vg_rrec *)(rm->ring + pos % VG_RMEMO_RING);
}

static struct vg_str vg_rref_get(const struct vg_rmemo *rm, const struct vg_rrec *r,
                                 struct vg_rref ref)
{
    if (ref.kind == VG_RREF_FIELD)
        return vg_str_make(rm->kf[ref.field].p + ref.off, ref.n);
    if (ref.kind == VG_RREF_OWN)
        return vg_str_make((const uint8_t *)r + ref.off, ref.n);
    const struct vg_str none = VG_STR_NULL;
    return none;
}

/* The remembered verdict of record r into *out. */
static void vg_rmemo_replay(const struct vg_rmemo *rm, const struct vg_rrec *r, unsigned flags,
                            struct vg_verdict *out)
{
    out->score = r->score;
    memcpy(out->class_scores, r->class_scores, sizeof out->class_scores);
    out->classes = r->classes;
    out->decode_flags = flags;
    out->n_hits = r->n_hits;
    out->hits_truncated = r->truncated;
    for (uint32_t k = 0; k < r->n_hits; k++) {
        const struct vg_rhit *rh = &r->hit[k];
        struct vg_hit *h = &out->hits[k];
        h->rule = rh->rule;
        h->field = (enum vg_field)rh->field;
        h->transform = (enum vg_transform)rh->transform;
        h->name = vg_rref_get(rm, r, rh->name);
        h->subject = vg_rref_get(rm, r, rh->subject);
        struct vg_str note = vg_rref_get(rm, r, rh->note);
        h->note = (const char *)note.p;
        h->match_start = rh->match_start;
        h->match_end = rh->match_end;
        h->view = rh->view;
        h->allow = -1;
    }
}

/* Where string v of a hit is (see vg_rref), adding its bytes at rec[*own] when it is in no key
   field (with_nul: and a NUL after them). False when the record would grow past cap. */
static bool vg_rref_put(const struct vg_rmemo *rm, struct vg_str v, bool with_nul, uint8_t *rec,
                        size_t *own, size_t cap, struct vg_rref *ref)
{
    memset(ref, 0, sizeof *ref);
    if (!v.p)
        return true;
    for (size_t f = 0; f < VG_RKEY_FIELDS && !with_nul; f++) {
        if (vg_str_inside(v, rm->kf[f])) {
            ref->kind = VG_RREF_FIELD;
            ref->field = (uint8_t)f;
            ref->off = (uint32_t)(v.p - rm->kf[f].p);
            ref->n = (uint32_t)v.n;
            return true;
        }
    }
    size_t need = v.n + (with_nul ? 1 : 0);
    if (need > cap - *own)
        return false;
    memcpy(rec + *own, v.p, v.n);
    if (with_nul)
        rec[*own + v.n] = 0;
    ref->kind = VG_RREF_OWN;
    ref->off = (uint32_t)*own;
    ref->n = (uint32_t)v.n;
    *own += need;
    return true;
}

/* Writes verdict v as a record at the ring's end; its absolute position + 1, or 0 when it does
   not fit a record (or memory is short). */
static uint64_t vg_rmemo_put_rec(struct vg_rmemo *rm, const struct vg_verdict *v)
{
    size_t head = sizeof(struct vg_rrec) + v->n_hits * sizeof(struct vg_rhit);
    if (head > VG_RMEMO_MAXREC)
        return 0;
    if (!rm->ring && !(rm->ring = vg_malloc((size_t)VG_RMEMO_RING)))
        return 0;
    uint64_t room = VG_RMEMO_RING - rm->wpos % VG_RMEMO_RING;
    if (room < VG_RMEMO_MAXREC)
        rm->wpos += room; /* a record never wraps */
    uint8_t *p = rm->ring + rm->wpos % VG_RMEMO_RING;
    struct vg_rrec *r = (struct vg_rrec *)p;
    size_t own = head;
    for (unsigned k = 0; k < v->n_hits; k++) {
        const struct vg_hit *h = &v->hits[k];
        struct vg_rhit *rh = &r->hit[k];
        rh->rule = h->rule;
        rh->field = (uint32_t)h->field;
        rh->transform = (uint32_t)h->transform;
        rh->match_start = h->match_start;
        rh->match_end = h->match_end;
        rh->view = h->view;
        struct vg_str note = VG_STR_NULL;
        if (h->note)
            note = vg_str_make(h->note, strlen(h->note));
        if (!vg_rref_put(rm, h->name, false, p, &own, VG_RMEMO_MAXREC, &rh->name) ||
            !vg_rref_put(rm, h->subject, false, p, &own, VG_RMEMO_MAXREC, &rh->subject) ||
            !vg_rref_put(rm, note, true, p, &own, VG_RMEMO_MAXREC, &rh->note))
            return 0; /* nothing was committed: the ring's end has not moved */
    }
    r->n_hits = v->n_hits;
    r->score = v->score;
    memcpy(r->class_scores, v->class_scores, sizeof r->class_scores);
    r->classes = v->classes;
    r->truncated = v->hits_truncated;
    r->len = (uint32_t)((own + 7) & ~(size_t)7);
    uint64_t at = rm->wpos;
    rm->wpos += r->len;
    return at + 1;
}

/* Writes slot v into the table of rm (in the way of its set written longest ago). */
static void vg_rslot_put(struct vg_rmemo *rm, const struct vg_rslot *v)
{
    struct vg_rslot *set =
        &rm->slot[((size_t)(v->h[0] >> 1) & (rm->n_sets - 1)) * VG_RMEMO_WAYS];
    struct vg_rslot *old = &set[0];
    for (unsigned w = 0; w < VG_RMEMO_WAYS && old->h[0]; w++)
        if (!set[w].h[0] ||
            (uint32_t)(rm->clock - set[w].age) > (uint32_t)(rm->clock - old->age))
            old = &set[w];
    *old = *v;
}

/*
 * A zeroed table of n_sets sets: its memory into *mem, the aligned table returned. Performance
 * note: the pages come zeroed from the kernel when first touched. The small first table costs
 * a short-lived scratch (an explanation, a test, a fuzz input) next to nothing; the large one,
 * made once the scratch has stored as many verdicts as the small one has slots, is advised onto
 * huge pages: every lookup lands in a random place of it and costs a cache miss instead of a
 * cache miss and a TLB miss (a tenth of a scan's time with --crs on the cycled benchmark log).
 */
static struct vg_rslot *vg_rmemo_table(size_t n_sets, void **mem)
{
    size_t bytes = n_sets * VG_RMEMO_WAYS * sizeof(struct vg_rslot);
    size_t huge = (size_t)2 << 20;
    if (bytes < huge) {
        *mem = vg_calloc(1, bytes);
        return *mem;
    }
    *mem = vg_calloc(1, bytes + huge);
    if (!*mem)
        return NULL;
    uintptr_t at = ((uintptr_t)*mem + huge - 1) & ~(uintptr_t)(huge - 1);
    struct vg_rslot *t = (struct vg_rslot *)at;
#ifdef MADV_HUGEPAGE
    (void)madvise(t, bytes, MADV_HUGEPAGE);
#endif
    return t;
}

/* Remembers verdict v (see the note) under rm->h. */
static void vg_rmemo_keep(struct vg_rmemo *rm, const struct vg_verdict *v)
{
    uint64_t rec = 0;
    if (v->n_hits && !(rec = vg_rmemo_put_rec(rm, v)))
        return;
    if (rm->n_sets < VG_RMEMO_SETS && rm->clock >= VG_RMEMO_SETS0 * VG_RMEMO_WAYS) {
        /* the large table, with what the small one holds (it stays when memory is short) */
        void *mem;
        struct vg_rslot *t = vg_rmemo_table(VG_RMEMO_SETS, &mem), *small = rm->slot;
        size_t n = rm->n_sets;
        if (t) {
            rm->slot = t;
            rm->n_sets = VG_RMEMO_SETS;
            for (size_t i = 0; i < n * VG_RMEMO_WAYS; i++)
                if (small[i].h[0])
                    vg_rslot_put(rm, &small[i]);
            vg_free(rm->mem);
            rm->mem = mem;
        }
    }
    const struct vg_rslot sl = {{rm->h[0], rm->h[1]}, rec, v->decode_flags, rm->clock++};
    vg_rslot_put(rm, &sl);
}

/* The scratch's memo, made on first use; NULL when memory is short (the memo is skipped). */
static struct vg_rmemo *vg_rmemo_get(struct vg_detect_scratch *s)
{
    if (s->rm)
        return s->rm;
    if (sodium_init() < 0)
        return NULL;
    struct vg_rmemo *rm = vg_malloc(sizeof(*rm));
    if (!rm)
        return NULL;
    rm->n_sets = VG_RMEMO_SETS0;
    rm->slot = vg_rmemo_table(rm->n_sets, &rm->mem);
    if (!rm->slot) {
        vg_free(rm);
        return NULL;
    }
    rm->ring = NULL;
    rm->wpos = 0;
    rm->clock = 0;
    rm->h[0] = rm->h[1] = 0;
    randombytes_buf(rm->sk, sizeof rm->sk);
    s->rm = rm;
    return rm;
}

static void vg_rmemo_free(struct vg_rmemo *rm)
{
    if (!rm)
        return;
    sodium_memzero(rm->sk, sizeof rm->sk);
    vg_free(rm->mem);
    vg_free(rm->ring);
    vg_free(rm);
}

/* ---- scratch ----------------------------------------------------------------------------- */

/*
 * Creates a per-thread scratch for det: a clone of the prototype Vectorscan scratch, PCRE2
 * match data with a JIT stack and resource limits, and per-rule bookkeeping. Decode buffers
 * start empty and grow to the longest request seen. Free with vg_detect_scratch_free, before
 * det. Returns VG_E_NOMEM on failure.
 */
vg_status vg_detect_scratch_new(const struct vg_detector *det, struct vg_detect_scratch **out)
{
    *out = NULL;
    struct vg_detect_scratch *s = vg_calloc(1, sizeof(*s));
    if (!s)
        return VG_E_NOMEM;
    s->det = det;
    size_t n = det->n_rules ? det->n_rules : 1;
    s->fired = vg_calloc(n, sizeof(*s->fired));
    s->hits = vg_calloc(n, sizeof(*s->hits));
    s->cand = vg_calloc(n, sizeof(*s->cand));
    s->memo = vg_calloc(VG_MEMO_SLOTS, sizeof(*s->memo));
    s->lmemo = vg_calloc(VG_LMEMO_SLOTS, sizeof(*s->lmemo));
    s->cmemo = vg_calloc(VG_CMEMO_SLOTS, sizeof(*s->cmemo));
    s->notes = vg_calloc(det->n_lexers ? det->n_lexers : 1, sizeof(*s->notes));
    s->memo_seed = vg_hash64(&s, sizeof(s), 0x76696769u); /* per scratch: see vg_scan_view */
    s->md = pcre2_match_data_create(1, det->gctx);
    s->mctx = pcre2_match_context_create(det->gctx);
    s->jit = pcre2_jit_stack_create(VG_PCRE_JIT_STACK_MIN, VG_PCRE_JIT_STACK_MAX, det->gctx);
    bool ok = s->fired && s->hits && s->cand && s->memo && s->lmemo && s->cmemo && s->notes &&
              s->md && s->mctx;
    if (ok && det->proto && hs_clone_scratch(det->proto, &s->hs) != HS_SUCCESS)
        ok = false;
    if (ok && det->x && vg_xscratch_new(det, &s->x) != VG_OK)
        ok = false;
    if (!ok) {
        vg_detect_scratch_free(s);
        return VG_E_NOMEM;
    }
    pcre2_set_match_limit(s->mctx, VG_PCRE_MATCH_LIMIT);
    pcre2_set_heap_limit(s->mctx, VG_PCRE_HEAP_LIMIT_KIB);
    if (s->jit)
        pcre2_jit_stack_assign(s->mctx, NULL, s->jit);
    *out = s;
    return VG_OK;
}

void vg_detect_scratch_set_memo(struct vg_detect_scratch *s, bool on)
{
    s->memo_off = !on;
}

/* Frees a scratch; NULL is harmless. */
void vg_detect_scratch_free(struct vg_detect_scratch *s)
{
    if (!s)
        return;
    hs_free_scratch(s->hs);
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    pcre2_jit_stack_free(s->jit);
    vg_free(s->fired);
    vg_free(s->hits);
    vg_free(s->cand);
    vg_free(s->memo);
    vg_free(s->lmemo);
    vg_free(s->cmemo);
    vg_free(s->notes);
    vg_xscratch_free(s->x);
    vg_rmemo_free(s->rm);
    vg_free(s->dec);
    vg_free(s->tmp);
    vg_free(s->hsbuf);
    vg_free(s);
}

/* ---- scanning ---------------------------------------------------------------------------- */

static int vg_on_match(unsigned int id, unsigned long long from, unsigned long long to,
                       unsigned int flags, void *ctx)
{
    VG_UNUSED(from);
    VG_UNUSED(flags);
    struct vg_scan_ctx *c = ctx;
    if (VG_NEVER(id >= c->n_rules))
        return 0;
    if (!(c->rules[id].fields & c->field_bit) || (c->fired && c->fired[id] == c->epoch))
        return 0;
    for (uint32_t k = 0; k < c->n_cand; k++)
        if (c->cand[k].rule == id)
            return 0; /* a one-byte pattern matches at every place (see vg_hs_single) */
    c->cand[c->n_cand].rule = id;
    c->cand[c->n_cand].end = (uint32_t)(to > UINT32_MAX ? UINT32_MAX : to);
    c->n_cand++;
    return 0;
}

/*
 * Runs PCRE2 rule i over subject. Returns true on a match (span in *start, *end). Security
 * note: when PCRE2 gives up (match or heap limit on a hostile subject), the rule counts as
 * matched: the cheaper engine already saw the pattern's outline, and an attacker must not be
 * able to hide a payload by making it expensive to confirm.
 */
bool vg_pcre_run(const struct vg_detector *det, struct vg_detect_scratch *s, uint32_t i,
                 struct vg_str subject, size_t *start, size_t *end, bool limit_is_match)
{
    return vg_pcre_run_code(det->code[i], s, subject, start, end, limit_is_match);
}

/* vg_pcre_run with a given code (the extended engine's conditions). */
bool vg_pcre_run_code(const pcre2_code *code, struct vg_detect_scratch *s,
                      struct vg_str subject, size_t *start, size_t *end, bool limit_is_match)
{
    int rc = pcre2_match(code, subject.p ? subject.p : (PCRE2_SPTR) "", subject.n, 0, 0, s->md,
                         s->mctx);
    if (rc >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
        *start = ov[0] <= subject.n ? ov[0] : subject.n;
        *end = ov[1] <= subject.n && ov[1] >= *start ? ov[1] : *start;
        return true;
    }
    if (rc == PCRE2_ERROR_NOMATCH)
        return false;
    *start = *end = subject.n;
    return limit_is_match;
}

struct vg_hit *vg_record_hit(struct vg_detect_scratch *s, uint32_t rule, enum vg_field field,
                             enum vg_transform t, struct vg_str name, struct vg_str subject,
                             size_t end)
{
    struct vg_hit tmp = {.rule = rule, .field = field, .name = name};
    int allow = s->det->allow ? vg_allowlist_match(s->det->allow, s->det, s->req, &tmp) : -1;
    struct vg_hit *h;
    if (allow >= 0) {
        /* Security note: an allowed hit does not mark the rule fired, so the rule still counts
           in any other field it matches (a payload in an allowed argument cannot hide one in
           another). Allowed hits are kept apart, not scored. */
        h = s->n_allowed < VG_MAX_ALLOWED ? &s->allowed[s->n_allowed] : &s->allow_sink;
        if (s->n_allowed < UINT_MAX)
            s->n_allowed++;
    } else {
        s->fired[rule] = s->epoch;
        h = &s->hits[s->n_hits++];
    }
    h->rule = rule;
    h->field = field;
    h->transform = t;
    h->name = name;
    h->subject = subject;
    h->match_start = end;
    h->match_end = end;
    h->note = NULL;
    h->view = vg_transform_name(t);
    h->allow = allow;
    return h;
}

/*
 * Finds the confirmed matches of field group v in subject into s->cand[0, *n): Vectorscan
 * candidates (prefilter ones confirmed by PCRE2), then the group's PCRE2-only rules. With
 * skip_fired, rules that already fired in this request are not looked at (cheaper); without it
 * the result depends on the subject alone and may be remembered.
 */
static vg_status vg_find_matches(struct vg_detect_scratch *s, const struct vg_group_db *v,
                                 uint32_t bit, struct vg_str subject, bool skip_fired,
                                 uint32_t *n)
{
    const struct vg_detector *det = s->det;
    uint32_t k = 0;
    if (v->db) {
        struct vg_scan_ctx c = {det->rs->rules, (uint32_t)det->n_rules, bit,
                                skip_fired ? s->fired : NULL, s->epoch, s->cand, 0};
        vg_status st = vg_hs_scan(s, v->db, subject, vg_on_match, &c);
        if (st != VG_OK)
            return st;
        for (uint32_t j = 0; j < c.n_cand; j++) {
            uint32_t i = s->cand[j].rule;
            size_t start, end = s->cand[j].end;
            if (det->mode[i] == VG_MODE_PREFILTER) {
                if (!vg_pcre_run(det, s, i, subject, &start, &end, true))
                    continue;
                s->cand[j].end = (uint32_t)(end > UINT32_MAX ? UINT32_MAX : end);
            }
            s->cand[k++] = s->cand[j];
        }
    }
    for (size_t j = 0; j < v->n_pcre; j++) {
        uint32_t i = v->pcre[j];
        if (skip_fired && s->fired[i] == s->epoch)
            continue;
        size_t start, end;
        if (vg_pcre_run(det, s, i, subject, &start, &end, true)) {
            s->cand[k].rule = i;
            s->cand[k].end = (uint32_t)(end > UINT32_MAX ? UINT32_MAX : end);
            k++;
        }
    }
    *n = k;
    return VG_OK;
}

static bool vg_scan_lexers(struct vg_detect_scratch *s, enum vg_transform t,
                           enum vg_field field, struct vg_str name, struct vg_str subject);

/* Scans one view of one field instance (through the memo for short subjects; the memo also
   remembers that the field group's lexer rules found nothing). */
static vg_status vg_scan_view(struct vg_detect_scratch *s, enum vg_transform t,
                              enum vg_field field, struct vg_str name, struct vg_str subject,
                              bool *clean_out)
{
    const struct vg_detector *det = s->det;
    int g = det->views[t].group[field];
    *clean_out = false;
    if (subject.n == 0)
        return VG_OK;
    bool lex = (det->lex_fields[t] & (1u << field)) != 0;
    if (g < 0) {
        if (lex)
            (void)vg_scan_lexers(s, t, field, name, subject);
        return VG_OK;
    }
    const struct vg_group_db *v = &det->views[t].groups[g];
    struct vg_memo *m = NULL;
    uint64_t h = 0;
    if (subject.n <= VG_MEMO_MAX_LEN) {
        /* Security note: the seed differs per scratch, so crafted collisions cost an attacker
           speed at most; equality is always checked on the bytes. */
        h = vg_hash64_mem(subject.p, subject.n,
                          s->memo_seed ^ ((uint64_t)t << 8 | (uint64_t)g)) | 1;
        m = &s->memo[(h >> 1) & (VG_MEMO_SLOTS - 1)];
        if (m->hash == h && m->len == subject.n && m->view == t && m->group == g &&
            memcmp(m->bytes, subject.p, subject.n) == 0) {
            for (unsigned j = 0; j < m->n; j++)
                if (s->fired[m->m[j].rule] != s->epoch)
                    vg_record_hit(s, m->m[j].rule, field, t, name, subject, m->m[j].end);
            if (lex && !m->lex_clean)
                (void)vg_scan_lexers(s, t, field, name, subject);
            *clean_out = m->n == 0 && (!lex || m->lex_clean);
            return VG_OK;
        }
    }
    uint32_t n = 0;
    vg_status st = vg_find_matches(s, v, 1u << field, subject, m == NULL, &n);
    if (st != VG_OK)
        return st;
    for (uint32_t j = 0; j < n; j++)
        if (s->fired[s->cand[j].rule] != s->epoch)
            vg_record_hit(s, s->cand[j].rule, field, t, name, subject, s->cand[j].end);
    bool clean = lex ? vg_scan_lexers(s, t, field, name, subject) : true;
    /* with a memo slot the matches were not filtered by earlier hits: n is complete */
    *clean_out = m != NULL && n == 0 && clean;
    if (m) {
        if (n <= VG_MEMO_MAX_HITS) {
            m->lex_clean = clean;
            m->hash = h;
            m->len = (uint16_t)subject.n;
            m->view = (uint8_t)t;
            m->group = (uint8_t)g;
            m->n = (uint8_t)n;
            memcpy(m->m, s->cand, n * sizeof(*s->cand));
            memcpy(m->bytes, subject.p, subject.n);
        } else if (m->hash == h) {
            m->hash = 0;
        }
    }
    return VG_OK;
}

/*
 * The verdict of lexer op on subject: true with the span [*a, *b) and a note when it finds an
 * injection. The pre-check runs first; a short subject that passes it is looked up in the
 * scratch's lexer memo (verified byte for byte, so the memo changes speed, never results).
 */
bool vg_lex_verdict(struct vg_detect_scratch *s, enum vg_rule_op op, struct vg_str subject,
                    size_t *a, size_t *b, char *note, size_t note_cap)
{
    bool pre = op == VG_OP_SQLI ? vg_sqli_precheck(subject.p, subject.n)
                                : vg_xss_precheck(subject.p, subject.n);
    if (!pre)
        return false;
    struct vg_lmemo *m = NULL;
    uint64_t h = 0;
    if (subject.n <= VG_MEMO_MAX_LEN) {
        h = vg_hash64_mem(subject.p, subject.n, s->memo_seed ^ (0x6c6578ull + (uint64_t)op)) | 1;
        m = &s->lmemo[(h >> 1) & (VG_LMEMO_SLOTS - 1)];
        if (m->hash == h && m->len == subject.n && m->op == op &&
            memcmp(m->bytes, subject.p, subject.n) == 0) {
            if (!m->found)
                return false;
            *a = m->start;
            *b = m->end;
            snprintf(note, note_cap, "%s", m->note);
            return true;
        }
    }
    bool found;
    if (op == VG_OP_SQLI) {
        struct vg_sqli_result r;
        found = vg_sqli_detect(&s->sqli, subject.p, subject.n, &r);
        if (found) {
            *a = r.start;
            *b = r.end;
            snprintf(note, note_cap, "sqli %s %s %s", vg_sqli_ctx_name(r.ctx),
                     vg_sqli_reason_name(r.reason), r.fingerprint);
        }
    } else {
        struct vg_xss_result r;
        found = vg_xss_detect(&s->xss, subject.p, subject.n, &r);
        if (found) {
            *a = r.start;
            *b = r.end;
            snprintf(note, note_cap, "xss %s %s %s", vg_xss_ctx_name(r.ctx),
                     vg_xss_reason_name(r.reason), r.what);
        }
    }
    if (m) {
        m->hash = h;
        m->len = (uint16_t)subject.n;
        m->op = (uint8_t)op;
        m->found = found;
        m->start = found ? (uint16_t)*a : 0;
        m->end = found ? (uint16_t)*b : 0;
        snprintf(m->note, sizeof m->note, "%s", found ? note : "");
        memcpy(m->bytes, subject.p, subject.n);
    }
    return found;
}

/*
 * Runs the lexer rules of view t that inspect field over subject. Each lexer runs at most once
 * per subject, and only when its cheap pre-check says the value could carry an injection
 * (Performance note: the pre-checks reject most values in one table pass; repeated values are
 * answered from the lexer memo).
 */
static bool vg_scan_lexers(struct vg_detect_scratch *s, enum vg_transform t,
                           enum vg_field field, struct vg_str name, struct vg_str subject)
{
    const struct vg_detector *det = s->det;
    uint32_t bit = 1u << field;
    bool clean = true;
    int done[VG_OP_COUNT] = {0};  /* 0: not run yet, 1: clean, 2: found */
    size_t sa[VG_OP_COUNT] = {0}, sb[VG_OP_COUNT] = {0};
    char notes[VG_OP_COUNT][sizeof(*s->notes)];
    for (size_t k = 0; k < det->n_lexers; k++) {
        uint32_t i = det->lexers[k];
        const struct vg_rule *r = &det->rs->rules[i];
        if (r->transform != t || !(r->fields & bit) || r->op <= VG_OP_REGEX ||
            r->op >= VG_OP_COUNT)
            continue;
        if (s->fired[i] == s->epoch) {
            clean = false; /* not looked at: the verdict on this subject stays unknown */
            continue;
        }
        if (!done[r->op])
            done[r->op] = vg_lex_verdict(s, r->op, subject, &sa[r->op], &sb[r->op],
                                         notes[r->op], sizeof notes[r->op]) ? 2 : 1;
        if (done[r->op] != 2)
            continue;
        clean = false;
        size_t a = sa[r->op], b = sb[r->op];
        if (b > subject.n)
            b = subject.n;
        if (a > b)
            a = b;
        struct vg_hit *h = vg_record_hit(s, i, field, t, name, subject, b);
        h->match_start = a;
        memcpy(s->notes[k], notes[r->op], sizeof(*s->notes));
        h->note = s->notes[k];
    }
    return clean;
}

/*
 * Scans one field instance in every view that has rules for the field. The decoded view is
 * made only when a decoded rule inspects the field and the bytes need decoding.
 */
static vg_status vg_scan_field(struct vg_detect_scratch *s, enum vg_field field,
                               enum vg_decode_kind kind, struct vg_str name, struct vg_str raw)
{
    if (raw.n == 0)
        return VG_OK;
    const struct vg_detector *det = s->det;
    uint32_t bit = 1u << field;
    vg_status st = VG_OK;
    bool clean = false;
    struct vg_cmemo *keep = NULL; /* the entry made for this value: raw_clean is set below */
    int g = det->views[VG_T_DECODED].group[field];
    if (g >= 0) {
        /* Performance note: a raw value seen before whose decoded view nothing fired on is
           answered here, without decoding it again (verified byte for byte). */
        struct vg_cmemo *c = NULL;
        uint64_t h = 0;
        if (raw.n <= VG_MEMO_MAX_LEN) {
            h = vg_hash64_mem(raw.p, raw.n,
                          s->memo_seed ^ (0x636c65616e000000ull | (uint64_t)kind << 8 |
                                          (uint64_t)g)) | 1;
            c = &s->cmemo[(h >> 1) & (VG_CMEMO_SLOTS - 1)];
            if (c->hash == h && c->len == raw.n && c->kind == kind && c->group == g &&
                c->field == field && memcmp(c->bytes, raw.p, raw.n) == 0) {
                s->dec_flags |= c->flags;
                if (c->raw_clean)
                    return VG_OK;
                goto raw_view;
            }
        }
        struct vg_str dec = raw;
        unsigned flags = 0;
        if (vg_decode_needed(kind, raw.p, raw.n) &&
            VG_ALWAYS(s->dec_used + raw.n <= s->dec_cap && raw.n <= s->tmp_cap)) {
            uint8_t *out = s->dec + s->dec_used;
            size_t n = vg_decode_chain(kind, raw.p, raw.n, out, s->tmp, &flags);
            if (n > raw.n) /* decoders never lengthen; defend the bookkeeping anyway */
                n = raw.n;
            s->dec_used += n;
            s->dec_flags |= flags;
            dec = vg_str_make(out, n);
        }
        if (dec.n)
            st = vg_scan_view(s, VG_T_DECODED, field, name, dec, &clean);
        else
            clean = true;
        if (st == VG_OK && c && clean) {
            c->hash = h;
            c->len = (uint16_t)raw.n;
            c->kind = (uint8_t)kind;
            c->group = (uint8_t)g;
            c->field = (uint8_t)field;
            c->raw_clean = false;
            c->flags = flags;
            memcpy(c->bytes, raw.p, raw.n);
            keep = c;
        }
    } else if (det->lex_fields[VG_T_DECODED] & bit) {
        /* lexer rules only: decode and run them (no regex group to remember by) */
        struct vg_str dec = raw;
        if (vg_decode_needed(kind, raw.p, raw.n) &&
            VG_ALWAYS(s->dec_used + raw.n <= s->dec_cap && raw.n <= s->tmp_cap)) {
            uint8_t *out = s->dec + s->dec_used;
            size_t n = vg_decode_chain(kind, raw.p, raw.n, out, s->tmp, &s->dec_flags);
            if (n > raw.n)
                n = raw.n;
            s->dec_used += n;
            dec = vg_str_make(out, n);
        }
        if (dec.n)
            st = vg_scan_view(s, VG_T_DECODED, field, name, dec, &clean);
    }
raw_view:
    if (st == VG_OK && ((det->views[VG_T_RAW].fields | det->lex_fields[VG_T_RAW]) & bit)) {
        st = vg_scan_view(s, VG_T_RAW, field, name, raw, &clean);
        if (keep && st == VG_OK && clean)
            keep->raw_clean = true;
    } else if (keep) {
        keep->raw_clean = true; /* no raw rule looks at the field */
    }
    return st;
}

static bool vg_is_form(struct vg_str ct)
{
    static const char form[] = "application/x-www-form-urlencoded";
    size_t n = sizeof form - 1;
    if (ct.n == 0)
        return true;
    if (ct.n < n || !vg_str_ieq(vg_str_make(ct.p, n), vg_str_make(form, n)))
        return false;
    return ct.n == n || ct.p[n] == ';' || ct.p[n] == ' ';
}

/* Scans every name and value of a query string or urlencoded body. */
static vg_status vg_scan_args(struct vg_detect_scratch *s, struct vg_str list)
{
    uint32_t want = s->det->views[VG_T_DECODED].fields | s->det->views[VG_T_RAW].fields |
                    s->det->lex_fields[VG_T_DECODED] | s->det->lex_fields[VG_T_RAW];
    if (!(want & ((1u << VG_F_ARGS) | (1u << VG_F_ARGS_NAMES))) || list.n == 0)
        return VG_OK;
    struct vg_args_iter it;
    vg_args_init(&it, list);
    struct vg_str name, value;
    vg_status st = VG_OK;
    while (st == VG_OK && vg_args_next(&it, &name, &value)) {
        st = vg_scan_field(s, VG_F_ARGS_NAMES, VG_DECODE_QUERY, name, name);
        if (st == VG_OK)
            st = vg_scan_field(s, VG_F_ARGS, VG_DECODE_QUERY, name, value);
    }
    return st;
}

/* Makes sure the decode buffers can hold every decoded view of a request of this size. */
static vg_status vg_reserve_decode(struct vg_detect_scratch *s, size_t need, size_t longest)
{
    if (need > s->dec_cap) {
        size_t cap = s->dec_cap ? s->dec_cap : 4096;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        uint8_t *p = vg_realloc(s->dec, cap);
        if (!p)
            return VG_E_NOMEM;
        s->dec = p;
        s->dec_cap = cap;
    }
    if (longest > s->tmp_cap) {
        size_t cap = s->tmp_cap ? s->tmp_cap : 1024;
        while (cap < longest)
            cap = cap > SIZE_MAX / 2 ? longest : cap * 2;
        uint8_t *p = vg_realloc(s->tmp, cap);
        if (!p)
            return VG_E_NOMEM;
        s->tmp = p;
        s->tmp_cap = cap;
    }
    return VG_OK;
}

static void vg_add_size(size_t *sum, size_t *longest, size_t n, unsigned times)
{
    for (unsigned i = 0; i < times; i++)
        *sum = *sum > SIZE_MAX - n ? SIZE_MAX : *sum + n;
    if (n > *longest)
        *longest = n;
}

static int vg_cmp_hits(const void *a, const void *b)
{
    const struct vg_hit *x = a, *y = b;
    return (x->rule > y->rule) - (x->rule < y->rule);
}

/*
 * Scores the hits (in rule order): each rule adds its score once; the rules of one `group` add
 * the highest score among them once (ties: the first rule). Fills score, class_scores and
 * classes of v.
 */
static void vg_score_rules(const struct vg_detector *det, const struct vg_hit *hits, size_t n,
                           int *score, int *class_scores, uint32_t *classes)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t ri = hits[i].rule;
        const struct vg_rule *r = &det->rs->rules[ri];
        *classes |= 1u << r->class_;
        int32_t g = det->group[ri];
        if (g >= 0) {
            bool beaten = false;
            for (size_t j = 0; j < n && !beaten; j++) {
                uint32_t rj = hits[j].rule;
                if (j == i || det->group[rj] != g)
                    continue;
                int sj = det->rs->rules[rj].score;
                beaten = sj > r->score || (sj == r->score && j < i);
            }
            if (beaten)
                continue;
        }
        *score += r->score;
        class_scores[r->class_] += r->score;
    }
}

/*
 * Decodes the request's fields and runs every rule over them; *out is fully overwritten (unused
 * hit slots are zeroed). Hits borrow from the request line and from s until the next
 * call with s. Returns VG_OK, VG_E_NOMEM (decode buffers could not grow) or VG_E_INTERNAL
 * (Vectorscan failed). Thread safety: det shared, s owned by the calling thread.
 */
vg_status vg_detect_request(const struct vg_detector *det, struct vg_detect_scratch *s,
                            const struct vg_request *req, struct vg_verdict *out)
{
    out->score = 0;
    memset(out->class_scores, 0, sizeof(out->class_scores));
    out->classes = 0;
    out->decode_flags = 0;
    out->n_hits = 0;
    out->hits_truncated = false;
    out->n_allowed = 0;
    if (VG_NEVER(s->det != det)) {
        memset(out->hits, 0, sizeof(out->hits));
        return VG_E_INVAL;
    }

    /* the request memo (see its note) */
    struct vg_rmemo *rm = NULL;
    if (!s->memo_off && !(vg_xengine_fields(det->x) & (1u << VG_F_LINE)) &&
        (rm = vg_rmemo_get(s)) != NULL) {
        vg_rkey(det, rm, req);
        struct vg_rslot *sl = rm->h[0] ? vg_rmemo_find(rm) : NULL;
        const struct vg_rrec *r = sl && sl->rec ? vg_rmemo_rec(rm, sl) : NULL;
        if (sl && sl->rec && !r) {
            sl->h[0] = sl->h[1] = 0; /* its record was overwritten */
        } else if (sl) {
            if (r)
                vg_rmemo_replay(rm, r, sl->flags, out);
            else
                out->decode_flags = sl->flags;
            s->replayed = true;
            return VG_OK;
        }
    }
    s->replayed = false;

    bool body_form = req->body.n && vg_is_form(req->content_type);
    /* Room for every decoded view: each is at most as long as its raw field; query and form
       body are decoded whole and again per argument. */
    size_t need = 0, longest = 0;
    vg_add_size(&need, &longest, req->method.n, 1);
    vg_add_size(&need, &longest, req->path.n, 1);
    vg_add_size(&need, &longest, req->query.n, 2);
    vg_add_size(&need, &longest, req->user_agent.n, 1);
    vg_add_size(&need, &longest, req->referer.n, 1);
    vg_add_size(&need, &longest, req->host.n, 1);
    vg_add_size(&need, &longest, req->cookie.n, 1);
    vg_add_size(&need, &longest, req->body.n, body_form ? 2 : 1);
    vg_add_size(&need, &longest, req->protocol.n, 1);
    vg_add_size(&need, &longest, req->request.n, 1);
    vg_status st = vg_reserve_decode(s, need, longest);
    if (st != VG_OK) {
        memset(out->hits, 0, sizeof(out->hits));
        return st;
    }

    if (++s->epoch == 0) { /* wrapped: forget every epoch */
        memset(s->fired, 0, (det->n_rules ? det->n_rules : 1) * sizeof(*s->fired));
        s->epoch = 1;
    }
    s->n_hits = 0;
    s->dec_used = 0;
    s->dec_flags = 0;
    s->score = 0;
    s->classes = 0;
    s->req = req;
    s->n_allowed = 0;

    const struct vg_str none = VG_STR_NULL;
    st = vg_scan_field(s, VG_F_METHOD, VG_DECODE_HEADER, none, req->method);
    if (st == VG_OK)
        st = vg_scan_field(s, VG_F_PATH, VG_DECODE_PATH, none, req->path);
    if (st == VG_OK)
        st = vg_scan_field(s, VG_F_QUERY, VG_DECODE_QUERY, none, req->query);
    if (st == VG_OK)
        st = vg_scan_args(s, req->query);
    if (st == VG_OK && body_form)
        st = vg_scan_args(s, req->body);
    if (st == VG_OK)
        st = vg_scan_field(s, VG_F_USER_AGENT, VG_DECODE_HEADER, none, req->user_agent);
    if (st == VG_OK)
        st = vg_scan_field(s, VG_F_REFERER, VG_DECODE_HEADER, none, req->referer);
    if (st == VG_OK)
        st = vg_scan_field(s, VG_F_HOST, VG_DECODE_HEADER, none, req->host);
    if (st == VG_OK)
        st = vg_scan_field(s, VG_F_COOKIE, VG_DECODE_QUERY, none, req->cookie);
    if (st == VG_OK)
        st = vg_scan_field(s, VG_F_BODY, VG_DECODE_QUERY, none, req->body);
    if (st == VG_OK)
        st = vg_scan_field(s, VG_F_PROTOCOL, VG_DECODE_HEADER, none, req->protocol);
    if (st == VG_OK)
        st = vg_scan_field(s, VG_F_REQUEST_LINE, VG_DECODE_HEADER, none, req->request);
    if (st == VG_OK && det->x)
        st = vg_xengine_run(s);
    if (st != VG_OK) {
        memset(out->hits, 0, sizeof(out->hits));
        memset(out->allowed, 0, sizeof(out->allowed));
        return st;
    }

    if (s->n_hits > 1)
        qsort(s->hits, s->n_hits, sizeof(*s->hits), vg_cmp_hits);
    /* Hits an allowlist dropped (vg_record_hit) are reported apart, unscored. */
    out->n_allowed = s->n_allowed < VG_MAX_ALLOWED ? s->n_allowed : VG_MAX_ALLOWED;
    if (out->n_allowed)
        memcpy(out->allowed, s->allowed, out->n_allowed * sizeof(*out->allowed));
    vg_score_rules(det, s->hits, s->n_hits, &out->score, out->class_scores, &out->classes);
    size_t keep = s->n_hits < VG_MAX_HITS ? s->n_hits : VG_MAX_HITS;
    if (keep)
        memcpy(out->hits, s->hits, keep * sizeof(*s->hits));
    out->n_hits = (unsigned)keep;
    out->hits_truncated = s->n_hits > VG_MAX_HITS;
    out->decode_flags = s->dec_flags;
    if (rm && rm->h[0] && s->n_allowed == 0 && (s->n_hits == 0 || !det->allow_by_source))
        vg_rmemo_keep(rm, out);
    return VG_OK;
}

/*
 * Fills the exact span of every hit of v with PCRE2 (leftmost match in the hit's subject). Must
 * run before the next vg_detect_request with s (the subjects borrow from it). A hit whose
 * pattern PCRE2 cannot finish keeps start == end.
 */
void vg_detect_spans(const struct vg_detector *det, struct vg_detect_scratch *s,
                     struct vg_verdict *v)
{
    for (unsigned k = 0; k < v->n_hits && k < VG_MAX_HITS; k++) {
        struct vg_hit *h = &v->hits[k];
        if (h->rule >= det->n_rules || det->mode[h->rule] == VG_MODE_LEXER ||
            det->mode[h->rule] == VG_MODE_EXT)
            continue; /* lexer and extended hits carry their exact span already */
        size_t a, b;
        if (vg_pcre_run(det, s, h->rule, h->subject, &a, &b, false)) {
            h->match_start = a;
            h->match_end = b;
        } else if (h->match_end > h->subject.n) {
            h->match_start = h->match_end = h->subject.n;
        }
    }
}

/* ---- examples ---------------------------------------------------------------------------- */

/* Builds the request of an example into *req, with its request line in *line (caller frees). */
static vg_status vg_example_request(const struct vg_rule_example *ex, struct vg_buf *line,
                                    struct vg_request *req)
{
    vg_buf_reset(line);
    vg_status st = vg_buf_printf(line, "%s %s HTTP/1.1", ex->method ? ex->method : "GET",
                                 ex->target ? ex->target : "/");
    if (st != VG_OK)
        return st;
    memset(req, 0, sizeof(*req));
    req->bytes = -1;
    req->line = vg_str_make(line->p, line->n);
    req->request = req->line;
    vg_request_split(req->request, req);
    if (ex->user_agent)
        req->user_agent = vg_str_make(ex->user_agent, strlen(ex->user_agent));
    if (ex->referer)
        req->referer = vg_str_make(ex->referer, strlen(ex->referer));
    if (ex->body)
        req->body = vg_str_make(ex->body, strlen(ex->body));
    if (ex->cookie)
        req->cookie = vg_str_make(ex->cookie, strlen(ex->cookie));
    if (ex->content_type)
        req->content_type = vg_str_make(ex->content_type, strlen(ex->content_type));
    if (ex->host)
        req->host = vg_str_make(ex->host, strlen(ex->host));
    req->status = ex->status;
    for (size_t i = 0; i < ex->n_headers && req->n_headers < VG_REQ_MAX_HEADERS; i++) {
        /* Headers vg_request has a field for go there, as a log format would put them. */
        struct vg_str nm = vg_str_make(ex->header_names[i], strlen(ex->header_names[i]));
        struct vg_str val = vg_str_make(ex->header_values[i], strlen(ex->header_values[i]));
        if (vg_str_ieq(nm, vg_str_make("User-Agent", 10)))
            req->user_agent = val;
        else if (vg_str_ieq(nm, vg_str_make("Referer", 7)))
            req->referer = val;
        else if (vg_str_ieq(nm, vg_str_make("Host", 4)))
            req->host = val;
        else if (vg_str_ieq(nm, vg_str_make("Cookie", 6)))
            req->cookie = val;
        else if (vg_str_ieq(nm, vg_str_make("Content-Type", 12)))
            req->content_type = val;
        else
            req->headers[req->n_headers++] = (struct vg_header){nm, val};
    }
    return VG_OK;
}

/*
 * Runs every example of every compiled rule: a `match` example must make its rule fire, a
 * `no_match` example must not. Calls fail(rule, example, user) for each that misbehaves (fail
 * may be NULL). *checked and *failed receive the counts. Returns VG_E_NOMEM or VG_E_INTERNAL
 * when detection itself fails.
 */
vg_status vg_detector_check_examples(const struct vg_detector *det,
                                     void (*fail)(const struct vg_rule *,
                                                  const struct vg_rule_example *, void *),
                                     void *user, size_t *checked, size_t *failed)
{
    *checked = 0;
    *failed = 0;
    struct vg_detect_scratch *s;
    vg_status st = vg_detect_scratch_new(det, &s);
    if (st != VG_OK)
        return st;
    vg_detect_scratch_set_memo(s, false); /* an example's rule is known fired from s->fired */
    struct vg_verdict *v = vg_malloc(sizeof(*v));
    struct vg_buf line;
    vg_buf_init(&line, 1u << 20);
    if (!v)
        st = VG_E_NOMEM;
    for (size_t i = 0; st == VG_OK && i < det->n_rules; i++) {
        const struct vg_rule *r = &det->rs->rules[i];
        for (size_t e = 0; st == VG_OK && e < r->n_examples; e++) {
            const struct vg_rule_example *ex = &r->examples[e];
            struct vg_request req;
            st = vg_example_request(ex, &line, &req);
            if (st == VG_OK)
                st = vg_detect_request(det, s, &req, v);
            if (st != VG_OK)
                break;
            bool fired = s->fired[i] == s->epoch;
            (*checked)++;
            if (fired != ex->must_match) {
                (*failed)++;
                if (fail)
                    fail(r, ex, user);
            }
        }
    }
    vg_buf_fini(&line);
    vg_free(v);
    vg_detect_scratch_free(s);
    return st;
}
