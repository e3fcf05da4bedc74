/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_config.c: `--format-from FILE:NAME`, the log format read straight out of the server's
 * configuration, so that the user never retypes it:
 *
 *   nginx   log_format NAME [escape=default|json|none] 'string' "string" ...;
 *           (strings are concatenated, as nginx does; the statement may span lines)
 *   Apache  LogFormat "string" NAME      (a trailing backslash continues a line)
 *
 * The result is a specification for vg_format_compile: "nginx:[escape=... ]<string>" or
 * "apache:<string>".
 *
 * Pipeline position: engine construction only.
 *
 * Invariants: the configuration is data: bounded (VG_CONFIG_MAX bytes), never executed;
 * include directives are not followed (the named format must be in the file given).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

#define VG_CONFIG_MAX ((size_t)16 << 20)
#define VG_CONFIG_MAX_TOKENS 64

/* ---- nginx --------------------------------------------------------------------------------- */

struct ntok {
    const uint8_t *p;
    size_t n;
    bool quoted; /* the token was a quoted string (its escapes are still in place) */
};

/* The next nginx token; ';', '{' and '}' are tokens of their own. Returns false at the end. */
static bool nginx_token(const uint8_t **cur, const uint8_t *end, struct ntok *t)
{
    const uint8_t *p = *cur;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p < end && *p == '#') {
            while (p < end && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    if (p >= end)
        return false;
    if (*p == ';' || *p == '{' || *p == '}') {
        *t = (struct ntok){p, 1, false};
        *cur = p + 1;
        return true;
    }
    if (*p == '"' || *p == '\'') {
        uint8_t q = *p;
        const uint8_t *s = ++p;
        while (p < end && *p != q) {
            if (*p == '\\' && p + 1 < end)
                p++;
            p++;
        }
        *t = (struct ntok){s, (size_t)(p - s), true};
        *cur = p < end ? p + 1 : end;
        return true;
    }
    const uint8_t *s = p;
    while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != ';' &&
           *p != '{' && *p != '}') {
        if (*p == '\\' && p + 1 < end)
            p++;
        p++;
    }
    *t = (struct ntok){s, (size_t)(p - s), false};
    *cur = p;
    return true;
}

/* Appends a token's text with nginx's escapes undone (\" \' \\ \t \r \n). */
static void nginx_unescape(struct vg_buf *b, const struct ntok *t)
{
    for (size_t i = 0; i < t->n; i++) {
        uint8_t c = t->p[i];
        if (c == '\\' && i + 1 < t->n) {
            uint8_t e = t->p[++i];
            switch (e) {
            case '"':
            case '\'':
            case '\\':
                vg_bputc(b, (char)e);
                continue;
            case 't':
                vg_bputc(b, '\t');
                continue;
            case 'r':
            case 'n':
                vg_bputc(b, ' '); /* a line break inside a format: nginx writes it; vigil cannot */
                continue;
            default:
                vg_bputc(b, '\\');
                vg_bputc(b, (char)e);
                continue;
            }
        }
        vg_bputc(b, (char)c);
    }
}

static bool tok_is(const struct ntok *t, const char *s)
{
    size_t n = strlen(s);
    return t->n == n && memcmp(t->p, s, n) == 0;
}

/* Finds `log_format NAME ...;`. Returns 1 found (spec in b), 0 not found, -1 malformed. */
static int nginx_find(const uint8_t *text, size_t n, const char *name, struct vg_buf *b,
                      struct vg_buf *names, size_t *line)
{
    const uint8_t *cur = text, *end = text + n;
    struct ntok t;
    bool stmt_start = true;
    while (nginx_token(&cur, end, &t)) {
        if (t.n == 1 && !t.quoted && (t.p[0] == ';' || t.p[0] == '{' || t.p[0] == '}')) {
            stmt_start = true;
            continue;
        }
        if (!stmt_start || t.quoted || !tok_is(&t, "log_format")) {
            stmt_start = false;
            continue;
        }
        stmt_start = false;
        struct ntok nm;
        if (!nginx_token(&cur, end, &nm))
            return 0;
        if (names->n)
            vg_bputs(names, ", ");
        vg_bput(names, nm.p, nm.n > 64 ? 64 : nm.n);
        bool match = !nm.quoted && nm.n == strlen(name) && memcmp(nm.p, name, nm.n) == 0;
        const char *esc = NULL;
        size_t parts = 0;
        if (match) {
            *line = 1;
            for (const uint8_t *q = text; q < t.p; q++)
                *line += *q == '\n';
            vg_bputs(b, "nginx:");
        }
        while (nginx_token(&cur, end, &t)) {
            if (t.n == 1 && !t.quoted && t.p[0] == ';')
                break;
            if (t.n == 1 && !t.quoted && (t.p[0] == '{' || t.p[0] == '}'))
                return match ? -1 : 0;
            if (!match)
                continue;
            if (parts == 0 && !esc && !t.quoted && t.n > 7 && memcmp(t.p, "escape=", 7) == 0) {
                if (tok_is(&t, "escape=json"))
                    esc = "escape=json ";
                else if (tok_is(&t, "escape=none"))
                    esc = "escape=none ";
                else if (tok_is(&t, "escape=default"))
                    esc = "escape=default ";
                else
                    return -1;
                vg_bputs(b, esc);
                continue;
            }
            nginx_unescape(b, &t);
            parts++;
        }
        stmt_start = true;
        if (match)
            return parts ? 1 : -1;
    }
    return 0;
}

/* ---- Apache -------------------------------------------------------------------------------- */

static bool word_ieq(const uint8_t *p, size_t n, const char *w)
{
    size_t wn = strlen(w);
    if (n != wn)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != (w[i] | 0x20))
            return false;
    return true;
}

/*
 * Finds `LogFormat "string" NAME`. A backslash at the end of a physical line continues the
 * logical line (inside quotes too, as httpd joins lines before it reads arguments). Returns 1
 * found (spec in b), 0 not found. Lines that do not read as LogFormat lines are skipped.
 */
static int apache_find(const uint8_t *text, size_t n, const char *name, struct vg_buf *b,
                       struct vg_buf *names, size_t *line)
{
    const uint8_t *p = text, *end = text + n;
    size_t ln = 1;
    struct vg_buf fmt;
    vg_buf_init(&fmt, VG_FMT_MAX_SPEC * 2);
    int found = 0;
    while (p < end && !found) {
        size_t this_line = ln;
        const uint8_t *s = p;
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        const uint8_t *w = s;
        while (s < end && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            s++;
        bool is_lf = word_ieq(w, (size_t)(s - w), "LogFormat");
        /* Arguments: a quoted string (continuations joined) and a name. */
        const uint8_t *q = s;
        vg_buf_reset(&fmt);
        bool have_fmt = false, bad = !is_lf;
        const uint8_t *nm = NULL;
        size_t nm_n = 0;
        for (;;) {
            while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
                q++;
            if (q + 1 < end && *q == '\\' && (q[1] == '\n' || (q[1] == '\r' && q + 2 < end &&
                                                                q[2] == '\n'))) {
                q += q[1] == '\n' ? 2 : 3;
                ln++;
                continue;
            }
            if (q >= end || *q == '\n')
                break;
            if (*q == '"' && !have_fmt && !bad) {
                q++;
                for (;;) {
                    if (q >= end || *q == '\n') {
                        bad = true;
                        break;
                    }
                    if (*q == '\\' && q + 1 < end && q[1] == '\n') {
                        q += 2;
                        ln++;
                        continue;
                    }
                    if (*q == '\\' && q + 2 < end && q[1] == '\r' && q[2] == '\n') {
                        q += 3;
                        ln++;
                        continue;
                    }
                    if (*q == '"')
                        break;
                    if (*q == '\\' && q + 1 < end && q[1] != '\n') {
                        vg_bput(&fmt, q, 2);
                        q += 2;
                        continue;
                    }
                    vg_bputc(&fmt, (char)*q);
                    q++;
                }
                if (bad)
                    continue;
                q++;
                have_fmt = true;
                continue;
            }
            const uint8_t *st = q;
            while (q < end && *q != ' ' && *q != '\t' && *q != '\n' && *q != '\r')
                q++;
            if (have_fmt && !nm) {
                nm = st;
                nm_n = (size_t)(q - st);
            }
        }
        if (is_lf && !bad && have_fmt && nm) {
            if (names->n)
                vg_bputs(names, ", ");
            vg_bput(names, nm, nm_n > 64 ? 64 : nm_n);
            if (nm_n == strlen(name) && memcmp(nm, name, nm_n) == 0 && fmt.err == VG_OK) {
                *line = this_line;
                vg_bputs(b, "apache:");
                vg_bput(b, fmt.p ? fmt.p : (const uint8_t *)"", fmt.n);
                found = 1;
            }
        }
        p = q < end ? q + 1 : end;
        ln++;
    }
    vg_buf_fini(&fmt);
    return found;
}

/*
 * Finds format NAME in a configuration text (see ingest.h). The spec keeps Apache's \" escapes
 * (vg_format_compile undoes them) and has nginx's undone.
 */
vg_status vg_format_from_config_text(const uint8_t *text, size_t n, const char *path,
                                     const char *name, char **spec, struct vg_error *err)
{
    *spec = NULL;
    if (!name || !*name)
        return vg_error_set(err, VG_E_INVAL, "--format-from", 0,
                            "--format-from wants FILE:NAME (the name of the log format)");
    struct vg_buf b, names;
    vg_buf_init(&b, VG_FMT_MAX_SPEC * 2);
    vg_buf_init(&names, 4096);
    size_t line = 0;
    int r = nginx_find(text, n, name, &b, &names, &line);
    if (r == 0) {
        vg_buf_reset(&b);
        r = apache_find(text, n, name, &b, &names, &line);
    }
    vg_status st = VG_OK;
    if (r < 0) {
        st = vg_error_set(err, VG_E_FORMAT, path, line,
                          "%s:%zu: the log format '%.64s' is not written as vigil expects "
                          "(log_format NAME [escape=..] 'string' ...; or LogFormat \"string\" NAME)",
                          path, line, name);
    } else if (r == 0) {
        vg_bputc(&names, 0);
        st = vg_error_set(err, VG_E_FORMAT, path, 0,
                          "%s: no log format named '%.64s' (formats defined there: %.300s)", path,
                          name, names.n > 1 && names.err == VG_OK ? (const char *)names.p : "none");
    } else if (b.err != VG_OK) {
        st = vg_error_set(err, b.err == VG_E_NOMEM ? VG_E_NOMEM : VG_E_FORMAT, path, line,
                          "%s:%zu: the log format '%.64s' is too long", path, line, name);
    } else {
        *spec = vg_strndup((const char *)b.p, b.n);
        if (!*spec)
            st = vg_error_set(err, VG_E_NOMEM, path, 0, "out of memory");
    }
    vg_buf_fini(&b);
    vg_buf_fini(&names);
    return st;
}

vg_status vg_format_from_config(const char *path, const char *name, char **spec,
                                struct vg_error *err)
{
    *spec = NULL;
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    char eb[128];
    if (fd < 0)
        return vg_error_set(err, VG_E_IO, path, 0, "%s: %s", path, strerror_r(errno, eb, sizeof eb));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > VG_CONFIG_MAX) {
        close(fd);
        return vg_error_set(err, VG_E_IO, path, 0, "%s: not a regular file of at most %zu bytes",
                            path, VG_CONFIG_MAX);
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *text = vg_malloc(n ? n : 1);
    if (!text) {
        close(fd);
        return vg_error_set(err, VG_E_NOMEM, path, 0, "out of memory");
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, text + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    vg_status st = vg_format_from_config_text(text, got, path, name, spec, err);
    vg_free(text);
    return st;
}
