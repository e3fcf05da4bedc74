/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_request.c: the pieces of a request record that do not depend on the log format: the
 * request-line split (method, target, path, query, protocol), $time_local parsing, the
 * query/form argument iterator and the texts of parse results.
 *
 * Pipeline position: called by vg_format_parse (ingest_format.c) for every line, and by later
 * stages (decode/, detect/) that walk arguments.
 *
 * Invariants: nothing here allocates or reads outside the (pointer, length) it is given; every
 * result is a view into the input.
 */
#include "ingest/ingest.h"

const char *vg_parse_strerror(enum vg_parse_result r)
{
    switch (r) {
    case VG_PARSE_OK:
        return "parsed";
    case VG_PARSE_EMPTY:
        return "empty or blank line";
    case VG_PARSE_LITERAL:
        return "a literal of the log format was not found where expected";
    case VG_PARSE_UNTERMINATED:
        return "a quoted or bracketed field has no closing quote or bracket";
    case VG_PARSE_ADDR:
        return "the client address is not an IPv4 or IPv6 address";
    case VG_PARSE_TIME:
        return "the time field does not parse";
    case VG_PARSE_STATUS:
        return "the status is not a 3-digit number";
    case VG_PARSE_NUMBER:
        return "a numeric field (bytes, port) is not a number";
    case VG_PARSE_TRAILING:
        return "unexpected bytes after the last field of the log format";
    case VG_PARSE_BINARY:
        return "NUL bytes outside the quoted fields";
    case VG_PARSE_DIRECTIVE:
        return "a directive or comment line of the log format";
    case VG_PARSE_JSON:
        return "not a well-formed JSON object";
    case VG_PARSE_MISSING:
        return "a field the log format needs (time, request) is missing";
    case VG_PARSE_LAYOUT:
        return "no valid W3C #Fields: directive describes the line";
    }
    return "unknown parse result";
}

/* ---- request line --------------------------------------------------------------------------- */

/*
 * RFC 9110 token characters (tchar): what an HTTP method may be made of. A request line whose
 * first word holds anything else (escaped TLS handshakes such as "\x16\x03\x01", binary probes) is
 * not METHOD SP TARGET and is marked VG_REQ_BAD_REQLINE.
 */
/* clang-format off */
static const uint8_t vg_tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};
/* clang-format on */

/* Splits a request-target at its first '?'. */
static void split_target(struct vg_str target, struct vg_request *req)
{
    req->target = target;
    const uint8_t *q = target.n ? memchr(target.p, '?', target.n) : NULL;
    if (q) {
        req->path = vg_str_make(target.p, (size_t)(q - target.p));
        req->query = vg_str_make(q + 1, target.n - (size_t)(q - target.p) - 1);
    } else {
        req->path = target;
        req->query = VG_STR_NULL;
    }
}

static bool starts_with_http(const uint8_t *p, size_t n)
{
    return n >= 5 && (p[0] | 0x20) == 'h' && (p[1] | 0x20) == 't' && (p[2] | 0x20) == 't' &&
           (p[3] | 0x20) == 'p' && p[4] == '/';
}

/*
 * Splits a request line "METHOD SP TARGET [SP PROTOCOL]" into views (see ingest.h).
 * IN: request, a view (usually into the log line). OUT: req->request, method, target, path, query,
 * protocol; the VG_REQ_BAD_REQLINE bit of req->flags is set or cleared. Other fields untouched.
 * The target may contain spaces (servers log what they received); the protocol is the last word
 * only when it starts with "HTTP/" (any case), so "GET /a b" has target "/a b" and no protocol.
 */
void vg_request_split(struct vg_str request, struct vg_request *req)
{
    req->request = request;
    req->method = VG_STR_NULL;
    req->protocol = VG_STR_NULL;
    req->flags &= ~(uint32_t)VG_REQ_BAD_REQLINE;

    const uint8_t *p = request.p;
    size_t n = request.n;
    /* The method: a run of token characters ended by a space. Performance note: methods are a
       few bytes, so one inline loop checks and finds the end at once. */
    size_t mlen = 0;
    while (mlen < n && vg_tchar[p[mlen]])
        mlen++;
    if (mlen == 0 || mlen == n || p[mlen] != ' ') {
        req->flags |= VG_REQ_BAD_REQLINE;
        split_target(request, req);
        return;
    }
    const uint8_t *rest = p + mlen + 1;
    size_t rest_n = n - mlen - 1;
    struct vg_str target = vg_str_make(rest, rest_n);
    /* The last space of the rest: the protocol follows it if it looks like one. Searched from
       the end, where "HTTP/1.1" is a few bytes away. */
    size_t k = rest_n;
    while (k > 0 && rest[k - 1] != ' ')
        k--;
    if (k > 0 && starts_with_http(rest + k, rest_n - k)) {
        target.n = k - 1;
        req->protocol = vg_str_make(rest + k, rest_n - k);
    }
    if (target.n == 0) {
        /* "GET " or "GET  HTTP/1.1": no target. */
        req->protocol = VG_STR_NULL;
        req->flags |= VG_REQ_BAD_REQLINE;
        split_target(request, req);
        return;
    }
    req->method = vg_str_make(p, mlen);
    split_target(target, req);
}

/* ---- time ----------------------------------------------------------------------------------- */

/* Month from its English abbreviation (case-sensitive, as servers write it); 0 if none. */
static unsigned month_from_abbrev(const uint8_t *m)
{
    switch (m[0]) {
    case 'J':
        if (m[1] == 'a' && m[2] == 'n')
            return 1;
        if (m[1] == 'u' && m[2] == 'n')
            return 6;
        if (m[1] == 'u' && m[2] == 'l')
            return 7;
        return 0;
    case 'F':
        return m[1] == 'e' && m[2] == 'b' ? 2 : 0;
    case 'M':
        if (m[1] == 'a' && m[2] == 'r')
            return 3;
        if (m[1] == 'a' && m[2] == 'y')
            return 5;
        return 0;
    case 'A':
        if (m[1] == 'p' && m[2] == 'r')
            return 4;
        if (m[1] == 'u' && m[2] == 'g')
            return 8;
        return 0;
    case 'S':
        return m[1] == 'e' && m[2] == 'p' ? 9 : 0;
    case 'O':
        return m[1] == 'c' && m[2] == 't' ? 10 : 0;
    case 'N':
        return m[1] == 'o' && m[2] == 'v' ? 11 : 0;
    case 'D':
        return m[1] == 'e' && m[2] == 'c' ? 12 : 0;
    default:
        return 0;
    }
}

#define VG_DIG(c) ((unsigned)(c) - '0' <= 9u)
#define VG_D2(p) (((unsigned)(p)[0] - '0') * 10u + ((unsigned)(p)[1] - '0'))

static bool all_digits(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!VG_DIG(p[i]))
            return false;
    return true;
}

/*
 * Parses "DD/Mon/YYYY:HH:MM:SS +HHMM" (nginx $time_local, Apache %t without brackets) into unix
 * seconds UTC. Exactly 26 bytes; the month is an English abbreviation (case-sensitive); the day
 * must exist in that month; a leap second (:60) is accepted and counted as the next second.
 * Performance note: called once per line; no libc time functions (which take locks and consult
 * the time zone), only vg_days_from_civil.
 */
bool vg_parse_time_local(const uint8_t *s, size_t n, int64_t *out)
{
    static const uint8_t mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' ||
        s[20] != ' ' || (s[21] != '+' && s[21] != '-'))
        return false;
    if (!all_digits(s, 2) || !all_digits(s + 7, 4) || !all_digits(s + 12, 2) ||
        !all_digits(s + 15, 2) || !all_digits(s + 18, 2) || !all_digits(s + 22, 4))
        return false;
    unsigned day = VG_D2(s), mon = month_from_abbrev(s + 3);
    unsigned year = VG_D2(s + 7) * 100u + VG_D2(s + 9);
    unsigned hh = VG_D2(s + 12), mm = VG_D2(s + 15), ss = VG_D2(s + 18);
    unsigned oh = VG_D2(s + 22), om = VG_D2(s + 24);
    if (mon == 0 || day == 0 || day > mdays[mon] || hh > 23 || mm > 59 || ss > 60 || oh > 23 ||
        om > 59)
        return false;
    if (mon == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return false;
    int64_t off = (int64_t)(oh * 3600u + om * 60u);
    if (s[21] == '-')
        off = -off;
    *out = vg_days_from_civil(year, mon, day) * 86400 + (int64_t)(hh * 3600u + mm * 60u + ss) - off;
    return true;
}

/* ---- arguments ------------------------------------------------------------------------------ */

/* Starts iterating over s (a query string or urlencoded body; borrowed for the iteration). */
void vg_args_init(struct vg_args_iter *it, struct vg_str s)
{
    it->cur = s.p;
    it->end = s.n ? s.p + s.n : s.p;
}

/*
 * Yields the next name=value pair. Empty segments ("a&&b", a leading or trailing '&') are skipped.
 * A segment without '=' has value {NULL, 0}; "=b" has an empty name. The value holds everything
 * after the first '=' (further '=' included). Returns false at the end.
 */
bool vg_args_next(struct vg_args_iter *it, struct vg_str *name, struct vg_str *value)
{
    while (it->cur && it->cur < it->end) {
        const uint8_t *seg = it->cur;
        size_t left = (size_t)(it->end - seg);
        const uint8_t *amp = memchr(seg, '&', left);
        const uint8_t *seg_end = amp ? amp : it->end;
        it->cur = amp ? amp + 1 : it->end;
        if (seg_end == seg)
            continue;
        size_t len = (size_t)(seg_end - seg);
        const uint8_t *eq = memchr(seg, '=', len);
        if (eq) {
            *name = vg_str_make(seg, (size_t)(eq - seg));
            *value = vg_str_make(eq + 1, (size_t)(seg_end - eq - 1));
        } else {
            *name = vg_str_make(seg, len);
            *value = VG_STR_NULL;
        }
        return true;
    }
    return false;
}
