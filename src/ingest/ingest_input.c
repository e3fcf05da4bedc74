/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_input.c: byte sources. Opens a file or standard input, detects gzip or zstd from the
 * magic bytes (never from the name) and yields decompressed bytes in caller-sized pieces.
 *
 * Pipeline position: the reader thread pulls from a vg_input and cuts the bytes into lines.
 *
 * Invariants: memory is bounded (one raw block plus the decompressor state) whatever the input
 * size; every good byte before a truncation or corruption is returned before the error; errors
 * name the path and, for damaged data, how many decompressed bytes were good.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createDStream_advanced: allocations through vg_malloc */
#include <zstd.h>
#include <zstd_errors.h>

#include "ingest/ingest.h"

/*
 * Raw read size. Performance note: big blocks keep system calls rare (a gzip'd year of logs is
 * read in a few thousand calls) and feed the decompressors long runs.
 */
#define VG_INPUT_BLOCK ((size_t)256 * 1024)

struct vg_input {
    char *path;    /* as given ("-" for standard input) */
    char *display; /* for messages: the path, or "(standard input)" */
    int fd;
    bool own_fd;
    enum vg_compression comp;
    uint8_t *raw;      /* VG_INPUT_BLOCK bytes */
    size_t raw_pos;    /* next unconsumed raw byte */
    size_t raw_len;    /* valid raw bytes */
    bool raw_eof;      /* read() returned 0 */
    uint64_t raw_read; /* raw bytes read from the file so far */
    uint64_t raw_size; /* file size when known */
    uint64_t produced; /* decompressed bytes handed out so far */
    /* decompressors */
    z_stream z;
    bool z_ready;
    bool member_done; /* gzip: between members (or after the last) */
    bool padding;     /* gzip: inside trailing zero padding */
    ZSTD_DStream *zs;
    bool frame_done; /* zstd: between frames (or after the last) */
    /* state */
    bool done;         /* end of input reached */
    vg_status pending; /* an error to report on the next call (after good bytes) */
    char pending_msg[sizeof(((struct vg_error *)0)->message)];
};

/* ---- allocator glue: every library allocation goes through vg_malloc ------------------------ */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    VG_UNUSED(opaque);
    if (size && items > SIZE_MAX / size)
        return Z_NULL;
    return vg_malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    VG_UNUSED(opaque);
    vg_free(p);
}

static void *zstd_alloc(void *opaque, size_t n)
{
    VG_UNUSED(opaque);
    return vg_malloc(n);
}

static void zstd_free(void *opaque, void *p)
{
    VG_UNUSED(opaque);
    vg_free(p);
}

/* ---- raw reading ---------------------------------------------------------------------------- */

static const char *errno_text(int e, char *buf, size_t n)
{
    /* GNU strerror_r (we build with _GNU_SOURCE): thread-safe, returns the text. */
    return strerror_r(e, buf, n);
}

/*
 * Tops up the raw buffer: keeps the unconsumed bytes (moved to the front) and reads until the
 * block is full, end of file or one short read. Returns VG_OK or VG_E_IO (message set).
 */
static vg_status raw_fill(struct vg_input *in, struct vg_error *err)
{
    if (in->raw_eof)
        return VG_OK;
    if (in->raw_pos > 0) {
        size_t keep = in->raw_len - in->raw_pos;
        if (keep)
            memmove(in->raw, in->raw + in->raw_pos, keep);
        in->raw_len = keep;
        in->raw_pos = 0;
    }
    if (in->raw_len == VG_INPUT_BLOCK)
        return VG_OK;
    for (;;) {
        ssize_t r = read(in->fd, in->raw + in->raw_len, VG_INPUT_BLOCK - in->raw_len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            char eb[128];
            return vg_error_set(err, VG_E_IO, in->display, 0, "%s: read error after %llu bytes: %s",
                                in->display, (unsigned long long)in->raw_read,
                                errno_text(errno, eb, sizeof eb));
        }
        if (r == 0)
            in->raw_eof = true;
        in->raw_len += (size_t)r;
        in->raw_read += (uint64_t)r;
        return VG_OK;
    }
}

/* ---- open / close --------------------------------------------------------------------------- */

/*
 * Opens path ("-" = standard input, which vg_input_close leaves open) and detects compression
 * from the first bytes (gzip 1f 8b, zstd 28 b5 2f fd). Reads up to one block to do so.
 * OUT: *out owns the input (vg_input_close); NULL on failure.
 * Returns VG_OK, VG_E_IO ("<path>: <system error>"), VG_E_NOMEM.
 */
vg_status vg_input_open(const char *path, struct vg_input **out, struct vg_error *err)
{
    *out = NULL;
    if (!path)
        return vg_error_set(err, VG_E_INVAL, NULL, 0, "no input path given");
    bool is_stdin = strcmp(path, "-") == 0;
    const char *display = is_stdin ? "(standard input)" : path;
    char eb[128];
    int fd = STDIN_FILENO;
    if (!is_stdin) {
        do
            fd = open(path, O_RDONLY | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0)
            return vg_error_set(err, VG_E_IO, display, 0, "%s: %s", display,
                                errno_text(errno, eb, sizeof eb));
    }
    uint64_t raw_size = 0;
    struct stat sb;
    if (fstat(fd, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            if (!is_stdin)
                close(fd);
            return vg_error_set(err, VG_E_IO, display, 0, "%s: %s", display,
                                errno_text(EISDIR, eb, sizeof eb));
        }
        if (S_ISREG(sb.st_mode))
            raw_size = (uint64_t)sb.st_size;
    }
    struct vg_input *in = vg_calloc(1, sizeof *in);
    char *p = in ? vg_strdup(path) : NULL;
    char *d = p ? vg_strdup(display) : NULL;
    uint8_t *raw = d ? vg_malloc(VG_INPUT_BLOCK) : NULL;
    if (!raw) {
        vg_free(d);
        vg_free(p);
        vg_free(in);
        if (!is_stdin)
            close(fd);
        return vg_error_set(err, VG_E_NOMEM, display, 0, "%s: out of memory", display);
    }
    in->path = p;
    in->display = d;
    in->fd = fd;
    in->own_fd = !is_stdin;
    in->raw = raw;
    in->raw_size = raw_size;

    /* Enough bytes to see a magic number: pipes may deliver them in pieces. */
    while (in->raw_len < 4 && !in->raw_eof) {
        vg_status st = raw_fill(in, err);
        if (st != VG_OK) {
            vg_input_close(in);
            return st;
        }
    }
    const uint8_t *m = in->raw;
    if (in->raw_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        in->comp = VG_COMP_GZIP;
        in->z.zalloc = z_alloc;
        in->z.zfree = z_free;
        in->z.opaque = Z_NULL;
        int zr = inflateInit2(&in->z, 15 + 32);
        if (zr != Z_OK) {
            vg_input_close(in);
            return vg_error_set(err, zr == Z_MEM_ERROR ? VG_E_NOMEM : VG_E_INTERNAL, display, 0,
                                "%s: cannot start gzip decompression", display);
        }
        in->z_ready = true;
    } else if (in->raw_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        in->comp = VG_COMP_ZSTD;
        ZSTD_customMem mem = {zstd_alloc, zstd_free, NULL};
        in->zs = ZSTD_createDStream_advanced(mem);
        if (!in->zs || ZSTD_isError(ZSTD_initDStream(in->zs))) {
            vg_input_close(in);
            return vg_error_set(err, VG_E_NOMEM, display, 0, "%s: cannot start zstd decompression",
                                display);
        }
    }
    *out = in;
    return VG_OK;
}

/* Closes the input (not standard input's descriptor) and frees it; NULL is harmless. */
void vg_input_close(struct vg_input *in)
{
    if (!in)
        return;
    if (in->z_ready)
        inflateEnd(&in->z);
    if (in->zs)
        ZSTD_freeDStream(in->zs);
    if (in->own_fd)
        close(in->fd);
    vg_free(in->raw);
    vg_free(in->display);
    vg_free(in->path);
    vg_free(in);
}

/* ---- readers -------------------------------------------------------------------------------- */

/* Records an error to return once the good bytes already produced have been handed out. */
static void set_pending(struct vg_input *in, vg_status st, const char *fmt, ...) VG_PRINTF(3, 4);
static void set_pending(struct vg_input *in, vg_status st, const char *fmt, ...)
{
    in->pending = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->pending_msg, sizeof in->pending_msg, fmt, ap);
    va_end(ap);
}

static void set_pending_from(struct vg_input *in, const struct vg_error *e)
{
    set_pending(in, e->status, "%s", e->message);
}

static void read_plain(struct vg_input *in, uint8_t *buf, size_t cap, size_t *got)
{
    size_t n = 0;
    struct vg_error e;
    while (n < cap) {
        if (in->raw_pos < in->raw_len) {
            size_t k = in->raw_len - in->raw_pos;
            if (k > cap - n)
                k = cap - n;
            memcpy(buf + n, in->raw + in->raw_pos, k);
            in->raw_pos += k;
            n += k;
            continue;
        }
        if (in->raw_eof || n > 0) {
            /* Return what we have rather than block on a pipe for more. */
            if (in->raw_eof && n == 0)
                in->done = true;
            break;
        }
        if (cap - n >= VG_INPUT_BLOCK) {
            /* Performance note: a big caller buffer is filled straight from the file. */
            ssize_t r = read(in->fd, buf + n, cap - n);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                char eb[128];
                set_pending(in, VG_E_IO, "%s: read error after %llu bytes: %s", in->display,
                            (unsigned long long)in->raw_read, errno_text(errno, eb, sizeof eb));
                break;
            }
            if (r == 0) {
                in->raw_eof = true;
                continue;
            }
            in->raw_read += (uint64_t)r;
            n += (size_t)r;
            continue;
        }
        in->raw_pos = in->raw_len = 0;
        if (raw_fill(in, &e) != VG_OK) {
            set_pending_from(in, &e);
            break;
        }
    }
    *got = n;
}

static void read_gzip(struct vg_input *in, uint8_t *buf, size_t cap, size_t *got)
{
    size_t n = 0;
    struct vg_error e;
    while (n < cap) {
        if (in->raw_pos == in->raw_len && !in->raw_eof) {
            if (raw_fill(in, &e) != VG_OK) {
                set_pending_from(in, &e);
                break;
            }
            continue;
        }
        if (in->member_done) {
            /* Between members: another member, zero padding (tolerated, as gzip does), or the
               end. Anything else is garbage. */
            if (in->raw_pos == in->raw_len) {
                in->done = true;
                break;
            }
            const uint8_t *r = in->raw + in->raw_pos;
            size_t avail = in->raw_len - in->raw_pos;
            if (!in->padding && r[0] == 0x1f) {
                if (avail < 2 && !in->raw_eof) {
                    if (raw_fill(in, &e) != VG_OK) {
                        set_pending_from(in, &e);
                        break;
                    }
                    continue;
                }
                if (avail >= 2 && r[1] == 0x8b) {
                    inflateReset(&in->z);
                    in->member_done = false;
                    continue;
                }
            } else if (r[0] == 0) {
                in->padding = true;
                size_t k = 0;
                while (k < avail && r[k] == 0)
                    k++;
                in->raw_pos += k;
                if (k == avail)
                    continue;
            }
            set_pending(in, VG_E_CORRUPT,
                        "%s: corrupt gzip data after %llu decompressed bytes: trailing garbage "
                        "after the last member",
                        in->display, (unsigned long long)(in->produced + n));
            break;
        }
        in->z.next_in = in->raw + in->raw_pos;
        in->z.avail_in = (uInt)(in->raw_len - in->raw_pos);
        size_t room = cap - n;
        if (room > UINT_MAX)
            room = UINT_MAX;
        in->z.next_out = buf + n;
        in->z.avail_out = (uInt)room;
        int zr = inflate(&in->z, Z_NO_FLUSH);
        size_t used_in = (in->raw_len - in->raw_pos) - in->z.avail_in;
        size_t made = room - in->z.avail_out;
        in->raw_pos += used_in;
        n += made;
        if (zr == Z_STREAM_END) {
            in->member_done = true;
            continue;
        }
        if (zr == Z_OK && (used_in > 0 || made > 0))
            continue;
        if (zr == Z_BUF_ERROR || zr == Z_OK) {
            /* No progress: more input is needed (output room is never the cause here). */
            if (in->raw_pos < in->raw_len) {
                set_pending(in, VG_E_CORRUPT,
                            "%s: corrupt gzip data after %llu decompressed bytes: no progress",
                            in->display, (unsigned long long)(in->produced + n));
                break;
            }
            if (in->raw_eof) {
                set_pending(in, VG_E_CORRUPT,
                            "%s: truncated gzip data after %llu decompressed bytes", in->display,
                            (unsigned long long)(in->produced + n));
                break;
            }
            continue;
        }
        if (zr == Z_MEM_ERROR) {
            set_pending(in, VG_E_NOMEM, "%s: out of memory in gzip decompression", in->display);
            break;
        }
        set_pending(in, VG_E_CORRUPT, "%s: corrupt gzip data after %llu decompressed bytes: %s",
                    in->display, (unsigned long long)(in->produced + n),
                    in->z.msg ? in->z.msg : "invalid data");
        break;
    }
    *got = n;
}

static void read_zstd(struct vg_input *in, uint8_t *buf, size_t cap, size_t *got)
{
    size_t n = 0;
    struct vg_error e;
    while (n < cap) {
        if (in->raw_pos == in->raw_len && !in->raw_eof) {
            if (raw_fill(in, &e) != VG_OK) {
                set_pending_from(in, &e);
                break;
            }
            continue;
        }
        bool no_input = in->raw_pos == in->raw_len; /* and raw_eof */
        if (no_input && in->frame_done) {
            in->done = true;
            break;
        }
        ZSTD_inBuffer ib = {in->raw + in->raw_pos, in->raw_len - in->raw_pos, 0};
        ZSTD_outBuffer ob = {buf + n, cap - n, 0};
        size_t zr = ZSTD_decompressStream(in->zs, &ob, &ib);
        in->raw_pos += ib.pos;
        n += ob.pos;
        if (ZSTD_isError(zr) && ZSTD_getErrorCode(zr) == ZSTD_error_memory_allocation) {
            set_pending(in, VG_E_NOMEM, "%s: out of memory in zstd decompression", in->display);
            break;
        }
        if (ZSTD_isError(zr)) {
            set_pending(in, VG_E_CORRUPT, "%s: corrupt zstd data after %llu decompressed bytes: %s",
                        in->display, (unsigned long long)(in->produced + n), ZSTD_getErrorName(zr));
            break;
        }
        in->frame_done = zr == 0;
        if (no_input && !in->frame_done && ob.pos == 0) {
            /* End of file in the middle of a frame, nothing left to flush. */
            set_pending(in, VG_E_CORRUPT, "%s: truncated zstd data after %llu decompressed bytes",
                        in->display, (unsigned long long)(in->produced + n));
            break;
        }
    }
    *got = n;
}

/*
 * Reads up to cap decompressed bytes (see ingest.h). A short count is not the end: only *got == 0
 * with VG_OK is. After an error the same error is returned again on every later call.
 * Ownership: buf is the caller's; nothing is kept.
 */
vg_status vg_input_read(struct vg_input *in, uint8_t *buf, size_t cap, size_t *got,
                        struct vg_error *err)
{
    *got = 0;
    if (in->pending != VG_OK)
        return vg_error_set(err, in->pending, in->display, 0, "%s", in->pending_msg);
    if (in->done || cap == 0)
        return VG_OK;
    size_t n = 0;
    switch (in->comp) {
    case VG_COMP_NONE:
        read_plain(in, buf, cap, &n);
        break;
    case VG_COMP_GZIP:
        read_gzip(in, buf, cap, &n);
        break;
    case VG_COMP_ZSTD:
        read_zstd(in, buf, cap, &n);
        break;
    }
    in->produced += n;
    *got = n;
    if (n == 0 && in->pending != VG_OK)
        return vg_error_set(err, in->pending, in->display, 0, "%s", in->pending_msg);
    return VG_OK;
}

/* Accessors (see ingest.h). vg_input_path returns the path as given ("-" for stdin), borrowed
   until vg_input_close. */
enum vg_compression vg_input_compression(const struct vg_input *in)
{
    return in->comp;
}

const char *vg_input_path(const struct vg_input *in)
{
    return in->path;
}

uint64_t vg_input_raw_size(const struct vg_input *in)
{
    return in->raw_size;
}

uint64_t vg_input_raw_pos(const struct vg_input *in)
{
    return in->raw_read - (in->raw_len - in->raw_pos);
}
