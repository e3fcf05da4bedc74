/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_input_test.c: unit tests of vg_input (plain, gzip, zstd, standard input, pipes, damaged
 * and missing files), plus the dev corpus read end to end through vg_input and vg_format_parse.
 *
 * Files are real files in a mkdtemp directory. The corpus tests need
 * $VG_SHARED_DIR/corpus/dev/ (default ../shared, from the source root); without it the program prints
 * "skipped: <path> not found" and exits 77 (CTest's skip code) once the other tests passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "ingest/ingest.h"

/* ---- fixtures ------------------------------------------------------------------------------- */

static char tmp_dir[256];
static uint8_t *sample; /* log-like text, larger than one raw block */
static size_t sample_n;

static const char *tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    return path;
}

static void write_file(const char *name, const void *p, size_t n)
{
    FILE *f = fopen(tmp_path(name), "wb");
    assert_non_null(f);
    if (n)
        assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_file(const char *name, size_t *n)
{
    FILE *f = fopen(tmp_path(name), "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long sz = ftell(f);
    assert_true(sz >= 0);
    rewind(f);
    uint8_t *p = malloc((size_t)sz + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return p;
}

/* Writes data as one gzip member (append: another member after the existing ones). */
static void write_gzip(const char *name, const void *p, size_t n, bool append)
{
    gzFile g = gzopen(tmp_path(name), append ? "ab" : "wb");
    assert_non_null(g);
    size_t done = 0;
    while (done < n) {
        unsigned k = n - done > (1u << 20) ? (1u << 20) : (unsigned)(n - done);
        assert_int_equal(gzwrite(g, (const uint8_t *)p + done, k), (int)k);
        done += k;
    }
    assert_int_equal(gzclose(g), Z_OK);
}

/* One zstd frame with a content checksum; caller frees. */
static uint8_t *zstd_frame(const void *p, size_t n, size_t *out_n)
{
    size_t cap = ZSTD_compressBound(n);
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    assert_non_null(c);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)));
    size_t r = ZSTD_compress2(c, out, cap, p, n);
    assert_false(ZSTD_isError(r));
    ZSTD_freeCCtx(c);
    *out_n = r;
    return out;
}

/* Everything an input yields: the bytes, the final status and its message. */
struct drained {
    uint8_t *p;
    size_t n;
    vg_status st;
    struct vg_error err;
    size_t calls;
};

static void drain(struct vg_input *in, size_t bufsize, struct drained *d)
{
    memset(d, 0, sizeof *d);
    uint8_t *buf = malloc(bufsize);
    assert_non_null(buf);
    size_t cap = 1 << 16;
    d->p = malloc(cap);
    assert_non_null(d->p);
    uint64_t last_pos = 0;
    for (;;) {
        size_t got = 12345;
        vg_status st = vg_input_read(in, buf, bufsize, &got, &d->err);
        d->calls++;
        uint64_t pos = vg_input_raw_pos(in);
        assert_true(pos >= last_pos);
        last_pos = pos;
        if (st != VG_OK) {
            assert_int_equal(got, 0);
            d->st = st;
            break;
        }
        if (got == 0)
            break;
        assert_true(got <= bufsize);
        while (d->n + got > cap) {
            cap *= 2;
            d->p = realloc(d->p, cap);
            assert_non_null(d->p);
        }
        memcpy(d->p + d->n, buf, got);
        d->n += got;
    }
    free(buf);
}

static struct vg_input *open_ok(const char *path, enum vg_compression want)
{
    struct vg_input *in = NULL;
    struct vg_error err;
    vg_status st = vg_input_open(path, &in, &err);
    if (st != VG_OK)
        print_error("open %s: %s\n", path, err.message);
    assert_int_equal(st, VG_OK);
    assert_non_null(in);
    assert_int_equal(vg_input_compression(in), want);
    return in;
}

/* Opens, drains with bufsize, closes; asserts VG_OK and the expected bytes. */
static void assert_reads_back(const char *name, enum vg_compression comp, const uint8_t *want,
                              size_t want_n, size_t bufsize)
{
    struct vg_input *in = open_ok(tmp_path(name), comp);
    struct drained d;
    drain(in, bufsize, &d);
    if (d.st != VG_OK)
        print_error("%s (buffer %zu): %s\n", name, bufsize, d.err.message);
    assert_int_equal(d.st, VG_OK);
    assert_int_equal(d.n, want_n);
    assert_memory_equal(d.p, want, want_n);
    /* Progress: everything consumed, and the end stays the end. */
    assert_int_equal(vg_input_raw_pos(in), vg_input_raw_size(in));
    size_t got = 1;
    struct vg_error err;
    uint8_t b[4];
    assert_int_equal(vg_input_read(in, b, sizeof b, &got, &err), VG_OK);
    assert_int_equal(got, 0);
    free(d.p);
    vg_input_close(in);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "%s/vg_input_test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp_dir))
        return -1;
    /* About 700 KB of log-like lines: more than two raw blocks, compressible but not trivial. */
    sample_n = 0;
    size_t cap = 800 * 1024;
    sample = malloc(cap);
    if (!sample)
        return -1;
    uint32_t x = 2463534242u;
    for (unsigned i = 0; sample_n + 300 < cap; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        sample_n += (size_t)snprintf(
            (char *)sample + sample_n, cap - sample_n,
            "10.%u.%u.%u - - [01/Aug/2026:00:%02u:%02u +0000] \"GET /p/%08x?q=%u HTTP/1.1\" %u "
            "%u \"-\" \"agent-%u\"\n",
            x & 255, (x >> 8) & 255, (x >> 16) & 255, (i / 60) % 60, i % 60, x, i, 200 + x % 5,
            x % 100000, x % 13);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *names[] = {
        "plain.log",     "log.gz",         "multi.gz",    "log.zst",    "multi.zst",
        "gz_named.log",  "plain_named.gz", "trunc.gz",    "trunc.zst",  "corrupt.gz",
        "crc.gz",        "corrupt.zst",    "padded.gz",   "garbage.gz", "empty.log",
        "magic_only.gz", "magic_only.zst", "one_byte.log"};
    for (size_t i = 0; i < VG_ARRAY_LEN(names); i++)
        unlink(tmp_path(names[i]));
    rmdir(tmp_dir);
    free(sample);
    return 0;
}

static const size_t buffer_sizes[] = {1, 7, 4096, 256 * 1024, 1 << 20};

/* ---- good inputs ---------------------------------------------------------------------------- */

static void test_input_reads_plain_files_with_any_buffer_size(void **state)
{
    (void)state;
    write_file("plain.log", sample, sample_n);
    for (size_t i = 0; i < VG_ARRAY_LEN(buffer_sizes); i++)
        assert_reads_back("plain.log", VG_COMP_NONE, sample, sample_n, buffer_sizes[i]);
    struct vg_input *in = open_ok(tmp_path("plain.log"), VG_COMP_NONE);
    assert_int_equal(vg_input_raw_size(in), sample_n);
    assert_int_equal(vg_input_raw_pos(in), 0);
    assert_string_equal(vg_input_path(in), tmp_path("plain.log"));
    vg_input_close(in);
}

static void test_input_decompresses_gzip(void **state)
{
    (void)state;
    write_gzip("log.gz", sample, sample_n, false);
    for (size_t i = 0; i < VG_ARRAY_LEN(buffer_sizes); i++)
        assert_reads_back("log.gz", VG_COMP_GZIP, sample, sample_n, buffer_sizes[i]);
}

static void test_input_decompresses_every_member_of_a_multi_member_gzip(void **state)
{
    (void)state;
    size_t a = sample_n / 3, b = sample_n / 2;
    write_gzip("multi.gz", sample, a, false);
    write_gzip("multi.gz", sample + a, b - a, true);
    write_gzip("multi.gz", sample + b, 0, true); /* an empty member */
    write_gzip("multi.gz", sample + b, sample_n - b, true);
    for (size_t i = 0; i < VG_ARRAY_LEN(buffer_sizes); i++)
        assert_reads_back("multi.gz", VG_COMP_GZIP, sample, sample_n, buffer_sizes[i]);
}

static void test_input_decompresses_zstd_single_and_multi_frame(void **state)
{
    (void)state;
    size_t n1, n2;
    uint8_t *f1 = zstd_frame(sample, sample_n, &n1);
    write_file("log.zst", f1, n1);
    for (size_t i = 0; i < VG_ARRAY_LEN(buffer_sizes); i++)
        assert_reads_back("log.zst", VG_COMP_ZSTD, sample, sample_n, buffer_sizes[i]);
    free(f1);
    /* Two frames made with the one-shot API, with a skippable frame between them. */
    size_t half = sample_n / 2;
    size_t cap = ZSTD_compressBound(sample_n) + 64;
    uint8_t *multi = malloc(cap);
    assert_non_null(multi);
    n1 = ZSTD_compress(multi, cap, sample, half, 3);
    assert_false(ZSTD_isError(n1));
    static const uint8_t skippable[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'v', 'i', 'g', 'l'};
    memcpy(multi + n1, skippable, sizeof skippable);
    n1 += sizeof skippable;
    n2 = ZSTD_compress(multi + n1, cap - n1, sample + half, sample_n - half, 19);
    assert_false(ZSTD_isError(n2));
    write_file("multi.zst", multi, n1 + n2);
    for (size_t i = 0; i < VG_ARRAY_LEN(buffer_sizes); i++)
        assert_reads_back("multi.zst", VG_COMP_ZSTD, sample, sample_n, buffer_sizes[i]);
    free(multi);
}

static void test_input_detects_compression_by_magic_not_by_name(void **state)
{
    (void)state;
    write_gzip("gz_named.log", sample, 1000, false);
    assert_reads_back("gz_named.log", VG_COMP_GZIP, sample, 1000, 4096);
    write_file("plain_named.gz", sample, 1000);
    assert_reads_back("plain_named.gz", VG_COMP_NONE, sample, 1000, 4096);
    /* One byte that starts like gzip magic is just a byte. */
    write_file("one_byte.log", "\x1f", 1);
    assert_reads_back("one_byte.log", VG_COMP_NONE, (const uint8_t *)"\x1f", 1, 16);
}

static void test_input_tolerates_zero_padding_after_gzip_data(void **state)
{
    (void)state;
    write_gzip("padded.gz", sample, 5000, false);
    size_t n;
    uint8_t *p = read_file("padded.gz", &n);
    uint8_t *q = calloc(1, n + 4096);
    assert_non_null(q);
    memcpy(q, p, n);
    write_file("padded.gz", q, n + 4096);
    assert_reads_back("padded.gz", VG_COMP_GZIP, sample, 5000, 1000);
    free(p);
    free(q);
}

static void test_input_reads_an_empty_file_as_end_of_input(void **state)
{
    (void)state;
    write_file("empty.log", "", 0);
    struct vg_input *in = open_ok(tmp_path("empty.log"), VG_COMP_NONE);
    assert_int_equal(vg_input_raw_size(in), 0);
    struct drained d;
    drain(in, 4096, &d);
    assert_int_equal(d.st, VG_OK);
    assert_int_equal(d.n, 0);
    assert_int_equal(d.calls, 1);
    free(d.p);
    vg_input_close(in);
}

static void test_input_reads_standard_input_and_leaves_it_open(void **state)
{
    (void)state;
    write_gzip("log.gz", sample, sample_n, false);
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    int fd = open(tmp_path("log.gz"), O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    struct vg_input *in = open_ok("-", VG_COMP_GZIP);
    assert_string_equal(vg_input_path(in), "-");
    struct drained d;
    drain(in, 65536, &d);
    assert_int_equal(d.st, VG_OK);
    assert_int_equal(d.n, sample_n);
    assert_memory_equal(d.p, sample, sample_n);
    free(d.p);
    vg_input_close(in);
    assert_int_not_equal(fcntl(STDIN_FILENO, F_GETFD), -1); /* still open */
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
}

/* A pipe that delivers the magic bytes one at a time still gets detected. */
static void test_input_detects_magic_split_across_pipe_reads(void **state)
{
    (void)state;
    size_t n1;
    uint8_t *z = zstd_frame(sample, 20000, &n1);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        for (size_t i = 0; i < 6; i++) {
            if (write(fds[1], z + i, 1) != 1)
                _exit(1);
            usleep(20000);
        }
        size_t off = 6;
        while (off < n1) {
            ssize_t w = write(fds[1], z + off, n1 - off);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
    struct vg_input *in = open_ok(path, VG_COMP_ZSTD);
    assert_int_equal(vg_input_raw_size(in), 0); /* a pipe has no size */
    struct drained d;
    drain(in, 3000, &d);
    assert_int_equal(d.st, VG_OK);
    assert_int_equal(d.n, 20000);
    assert_memory_equal(d.p, sample, 20000);
    free(d.p);
    vg_input_close(in);
    close(fds[0]);
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    free(z);
}

/* ---- damaged and missing inputs ------------------------------------------------------------- */

/* Drains a damaged input: the good bytes must be a prefix of `orig`, then VG_E_CORRUPT whose
   message starts with "<path>: <what> after N decompressed bytes" with N the bytes returned. */
static void assert_corrupt_after_good_prefix(const char *name, enum vg_compression comp,
                                             const char *what, size_t bufsize, bool exact_prefix,
                                             size_t *good)
{
    struct vg_input *in = open_ok(tmp_path(name), comp);
    struct drained d;
    drain(in, bufsize, &d);
    assert_int_equal(d.st, VG_E_CORRUPT);
    assert_int_equal(d.err.status, VG_E_CORRUPT);
    char want[600];
    snprintf(want, sizeof want, "%s: %s after %zu decompressed bytes", tmp_path(name), what, d.n);
    if (strncmp(d.err.message, want, strlen(want)) != 0)
        print_error("message \"%s\"\nwanted   \"%s...\"\n", d.err.message, want);
    assert_int_equal(strncmp(d.err.message, want, strlen(want)), 0);
    if (exact_prefix) {
        assert_true(d.n <= sample_n);
        assert_memory_equal(d.p, sample, d.n);
    }
    /* The error is sticky. */
    size_t got = 1;
    struct vg_error err;
    uint8_t b[16];
    assert_int_equal(vg_input_read(in, b, sizeof b, &got, &err), VG_E_CORRUPT);
    assert_int_equal(got, 0);
    *good = d.n;
    free(d.p);
    vg_input_close(in);
}

static void test_input_reports_truncated_gzip_after_returning_the_good_prefix(void **state)
{
    (void)state;
    write_gzip("log.gz", sample, sample_n, false);
    size_t n;
    uint8_t *p = read_file("log.gz", &n);
    write_file("trunc.gz", p, n / 2);
    for (size_t i = 0; i < VG_ARRAY_LEN(buffer_sizes); i++) {
        size_t good;
        assert_corrupt_after_good_prefix("trunc.gz", VG_COMP_GZIP, "truncated gzip data",
                                         buffer_sizes[i], true, &good);
        assert_true(good > sample_n / 4); /* most of the first half came out */
    }
    /* Cut in the 8-byte trailer: every byte was good, the check could not be made. */
    write_file("trunc.gz", p, n - 3);
    size_t good;
    assert_corrupt_after_good_prefix("trunc.gz", VG_COMP_GZIP, "truncated gzip data", 65536, true,
                                     &good);
    assert_int_equal(good, sample_n);
    /* Only the magic. */
    write_file("magic_only.gz", "\x1f\x8b", 2);
    assert_corrupt_after_good_prefix("magic_only.gz", VG_COMP_GZIP, "truncated gzip data", 64, true,
                                     &good);
    assert_int_equal(good, 0);
    free(p);
}

static void test_input_reports_truncated_zstd_after_returning_the_good_prefix(void **state)
{
    (void)state;
    size_t n;
    uint8_t *z = zstd_frame(sample, sample_n, &n);
    write_file("trunc.zst", z, n / 2);
    for (size_t i = 0; i < VG_ARRAY_LEN(buffer_sizes); i++) {
        size_t good;
        assert_corrupt_after_good_prefix("trunc.zst", VG_COMP_ZSTD, "truncated zstd data",
                                         buffer_sizes[i], true, &good);
        assert_true(good > sample_n / 4);
    }
    write_file("magic_only.zst", "\x28\xb5\x2f\xfd", 4);
    size_t good;
    assert_corrupt_after_good_prefix("magic_only.zst", VG_COMP_ZSTD, "truncated zstd data", 64,
                                     true, &good);
    assert_int_equal(good, 0);
    free(z);
}

static void test_input_reports_corrupt_gzip_with_the_zlib_message(void **state)
{
    (void)state;
    write_gzip("log.gz", sample, sample_n, false);
    size_t n;
    uint8_t *p = read_file("log.gz", &n);
    /* Damage in the middle of the deflate data. */
    uint8_t *q = malloc(n);
    assert_non_null(q);
    memcpy(q, p, n);
    for (size_t i = n / 2; i < n / 2 + 64; i++)
        q[i] ^= 0xa5;
    write_file("corrupt.gz", q, n);
    size_t good;
    struct vg_input *in = open_ok(tmp_path("corrupt.gz"), VG_COMP_GZIP);
    struct drained d;
    drain(in, 65536, &d);
    assert_int_equal(d.st, VG_E_CORRUPT);
    /* "...: corrupt gzip data after N decompressed bytes: <zlib's reason>" */
    const char *why = strstr(d.err.message, "decompressed bytes: ");
    assert_non_null(why);
    assert_true(strlen(why) > strlen("decompressed bytes: "));
    free(d.p);
    vg_input_close(in);
    assert_corrupt_after_good_prefix("corrupt.gz", VG_COMP_GZIP, "corrupt gzip data", 7, false,
                                     &good);
    /* Damage in the CRC: all data came out, then the check fails. */
    memcpy(q, p, n);
    q[n - 6] ^= 0xff;
    write_file("crc.gz", q, n);
    in = open_ok(tmp_path("crc.gz"), VG_COMP_GZIP);
    drain(in, 65536, &d);
    assert_int_equal(d.st, VG_E_CORRUPT);
    assert_int_equal(d.n, sample_n);
    assert_memory_equal(d.p, sample, sample_n);
    assert_non_null(strstr(d.err.message, "incorrect data check"));
    free(d.p);
    vg_input_close(in);
    /* Garbage after the last member. */
    memcpy(q, p, n);
    write_file("garbage.gz", q, n);
    FILE *f = fopen(tmp_path("garbage.gz"), "ab");
    assert_non_null(f);
    fputs("this is not gzip", f);
    fclose(f);
    assert_corrupt_after_good_prefix("garbage.gz", VG_COMP_GZIP, "corrupt gzip data", 4096, true,
                                     &good);
    assert_int_equal(good, sample_n);
    free(q);
    free(p);
}

static void test_input_reports_corrupt_zstd(void **state)
{
    (void)state;
    size_t n;
    uint8_t *z = zstd_frame(sample, sample_n, &n);
    for (size_t i = n / 2; i < n / 2 + 64; i++)
        z[i] ^= 0x5a;
    write_file("corrupt.zst", z, n);
    size_t good;
    assert_corrupt_after_good_prefix("corrupt.zst", VG_COMP_ZSTD, "corrupt zstd data", 65536, false,
                                     &good);
    free(z);
}

static void test_input_open_reports_missing_files_and_directories(void **state)
{
    (void)state;
    struct vg_input *in = (struct vg_input *)1;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    const char *missing = tmp_path("does-not-exist.log");
    char want[600];
    snprintf(want, sizeof want, "%s: %s", missing, strerror(ENOENT));
    assert_int_equal(vg_input_open(missing, &in, &err), VG_E_IO);
    assert_null(in);
    assert_string_equal(err.message, want);
    assert_int_equal(err.status, VG_E_IO);

    in = (struct vg_input *)1;
    assert_int_equal(vg_input_open(tmp_dir, &in, &err), VG_E_IO);
    assert_null(in);
    snprintf(want, sizeof want, "%s: %s", tmp_dir, strerror(EISDIR));
    assert_string_equal(err.message, want);
    vg_input_close(NULL);
}

/* An allocator that fails every allocation once its budget is spent (fault injection). */
static int alloc_budget;
static void *budget_malloc(size_t n)
{
    if (alloc_budget <= 0)
        return NULL;
    alloc_budget--;
    return malloc(n);
}
static void *budget_realloc(void *p, size_t n)
{
    if (alloc_budget <= 0)
        return NULL;
    alloc_budget--;
    return realloc(p, n);
}
static const struct vg_allocator budget_allocator = {budget_malloc, budget_realloc, free};

static void test_input_open_and_read_fail_cleanly_when_memory_runs_out(void **state)
{
    (void)state;
    write_file("plain.log", sample, 10000);
    write_gzip("log.gz", sample, 10000, false);
    size_t zn;
    uint8_t *z = zstd_frame(sample, 10000, &zn);
    write_file("log.zst", z, zn);
    free(z);
    const char *names[] = {"plain.log", "log.gz", "log.zst"};
    for (size_t k = 0; k < VG_ARRAY_LEN(names); k++) {
        bool succeeded = false;
        for (int budget = 0; budget < 64 && !succeeded; budget++) {
            struct vg_input *in = NULL;
            struct vg_error err;
            alloc_budget = budget;
            vg_set_thread_allocator(&budget_allocator);
            vg_status st = vg_input_open(tmp_path(names[k]), &in, &err);
            struct drained d = {0};
            if (st == VG_OK)
                drain(in, 4096, &d);
            vg_input_close(in);
            vg_set_thread_allocator(NULL);
            if (st == VG_OK && d.st == VG_OK) {
                assert_int_equal(d.n, 10000);
                succeeded = true;
            } else {
                assert_int_equal(st == VG_OK ? d.st : st, VG_E_NOMEM);
                if (st != VG_OK)
                    assert_null(in);
            }
            free(d.p);
        }
        assert_true(succeeded);
    }
}

/* ---- the dev corpus, end to end ------------------------------------------------------------- */

static char corpus_log[512], corpus_jsonl[512];

/* Per-line facts from the combined log, to cross-check the JSON log of the same requests. */
struct line_facts {
    int64_t time;
    int64_t bytes;
    int32_t status;
    struct vg_addr addr;
};

struct corpus_run {
    uint64_t lines, malformed;
    uint64_t bad_reqline;
    struct line_facts *facts;
    size_t facts_cap;
    uint64_t mismatches;
};

/* Reads a whole input through vg_input, frames lines, parses each with fmt. */
static void run_corpus(const char *path, const char *spec, struct corpus_run *run, bool record)
{
    struct vg_format *fmt = NULL;
    struct vg_error err;
    assert_int_equal(vg_format_compile(spec, &fmt, &err), VG_OK);
    struct vg_input *in = open_ok(path, VG_COMP_GZIP);
    size_t cap = 1 << 20, have = 0;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    struct vg_request req;
    memset(&req, 0, sizeof req);
    bool eof = false;
    while (!eof) {
        if (have == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t got = 0;
        assert_int_equal(vg_input_read(in, buf + have, cap - have, &got, &err), VG_OK);
        if (got == 0)
            eof = true;
        have += got;
        size_t start = 0;
        for (;;) {
            uint8_t *nl = memchr(buf + start, '\n', have - start);
            if (!nl && !(eof && start < have))
                break;
            size_t end = nl ? (size_t)(nl - buf) : have;
            req.line_no = run->lines + 1;
            enum vg_parse_result r = vg_format_parse(fmt, buf + start, end - start, &req);
            run->lines++;
            if (r != VG_PARSE_OK) {
                if (run->malformed < 5)
                    print_error("line %llu: %s: %.*s\n", (unsigned long long)run->lines,
                                vg_parse_strerror(r), (int)(end - start),
                                (const char *)buf + start);
                run->malformed++;
            } else {
                if (req.flags & VG_REQ_BAD_REQLINE)
                    run->bad_reqline++;
                assert_true(req.flags & VG_REQ_HAS_ADDR);
                assert_true(req.flags & VG_REQ_HAS_TIME);
                size_t i = (size_t)run->lines - 1;
                if (record) {
                    if (i >= run->facts_cap) {
                        run->facts_cap = run->facts_cap ? run->facts_cap * 2 : 1 << 17;
                        run->facts = realloc(run->facts, run->facts_cap * sizeof *run->facts);
                        assert_non_null(run->facts);
                    }
                    run->facts[i] = (struct line_facts){req.time, req.bytes, req.status, req.addr};
                } else if (run->facts && i < run->facts_cap) {
                    const struct line_facts *f = &run->facts[i];
                    if (f->time != req.time || f->bytes != req.bytes || f->status != req.status ||
                        memcmp(&f->addr, &req.addr, sizeof f->addr) != 0)
                        run->mismatches++;
                }
            }
            start = end + 1;
            if (!nl)
                break;
        }
        if (start > have)
            start = have;
        memmove(buf, buf + start, have - start);
        have -= start;
    }
    free(buf);
    vg_input_close(in);
    vg_format_free(fmt);
}

static struct corpus_run combined_run;

static void test_dev_corpus_parses_every_line_as_combined(void **state)
{
    (void)state;
    run_corpus(corpus_log, "combined", &combined_run, true);
    assert_int_equal(combined_run.lines, 92987);
    assert_int_equal(combined_run.malformed, 0);
}

/* The same requests logged as nginx escape=json: a custom format must agree line by line. */
static void test_dev_corpus_json_log_agrees_with_the_combined_log(void **state)
{
    (void)state;
    if (access(corpus_jsonl, R_OK) != 0) {
        print_message("%s not found: cross-check not run\n", corpus_jsonl);
        skip();
    }
    struct corpus_run run = {0};
    run.facts = combined_run.facts;
    run.facts_cap = combined_run.lines;
    run_corpus(corpus_jsonl,
               "nginx:{\"time_iso8601\":\"$time_iso8601\",\"remote_addr\":\"$remote_addr\","
               "\"request_method\":\"$request_method\",\"request_uri\":\"$request_uri\","
               "\"server_protocol\":\"$server_protocol\",\"status\":$status,"
               "\"body_bytes_sent\":$body_bytes_sent,\"request_time\":$request_time,"
               "\"http_host\":\"$http_host\",\"http_referer\":\"$http_referer\","
               "\"http_user_agent\":\"$http_user_agent\",\"http_cookie\":\"$http_cookie\","
               "\"content_type\":\"$content_type\",\"request_body\":\"$request_body\","
               "\"request_id\":\"$request_id\"}",
               &run, false);
    assert_int_equal(run.lines, 92987);
    assert_int_equal(run.malformed, 0);
    assert_int_equal(run.mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_reads_plain_files_with_any_buffer_size),
        cmocka_unit_test(test_input_decompresses_gzip),
        cmocka_unit_test(test_input_decompresses_every_member_of_a_multi_member_gzip),
        cmocka_unit_test(test_input_decompresses_zstd_single_and_multi_frame),
        cmocka_unit_test(test_input_detects_compression_by_magic_not_by_name),
        cmocka_unit_test(test_input_tolerates_zero_padding_after_gzip_data),
        cmocka_unit_test(test_input_reads_an_empty_file_as_end_of_input),
        cmocka_unit_test(test_input_reads_standard_input_and_leaves_it_open),
        cmocka_unit_test(test_input_detects_magic_split_across_pipe_reads),
        cmocka_unit_test(test_input_reports_truncated_gzip_after_returning_the_good_prefix),
        cmocka_unit_test(test_input_reports_truncated_zstd_after_returning_the_good_prefix),
        cmocka_unit_test(test_input_reports_corrupt_gzip_with_the_zlib_message),
        cmocka_unit_test(test_input_reports_corrupt_zstd),
        cmocka_unit_test(test_input_open_reports_missing_files_and_directories),
        cmocka_unit_test(test_input_open_and_read_fail_cleanly_when_memory_runs_out),
    };
    int failed = cmocka_run_group_tests_name("input", tests, setup, teardown);
    if (failed)
        return failed;

    const char *shared = getenv("VG_SHARED_DIR");
    if (!shared || !*shared)
        shared = "../shared"; /* CTest sets VG_SHARED_DIR; this is relative to the source root */
    snprintf(corpus_log, sizeof corpus_log, "%s/corpus/dev/access.log.gz", shared);
    snprintf(corpus_jsonl, sizeof corpus_jsonl, "%s/corpus/dev/access.jsonl.gz", shared);
    if (access(corpus_log, R_OK) != 0) {
        printf("skipped: %s not found\n", corpus_log);
        return 77;
    }
    const struct CMUnitTest corpus_tests[] = {
        cmocka_unit_test(test_dev_corpus_parses_every_line_as_combined),
        cmocka_unit_test(test_dev_corpus_json_log_agrees_with_the_combined_log),
    };
    failed = cmocka_run_group_tests_name("dev corpus", corpus_tests, NULL, NULL);
    free(combined_run.facts);
    return failed;
}
