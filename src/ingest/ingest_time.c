/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest_time.c: the time stamps servers write, parsed into unix seconds UTC: ISO 8601 / RFC
 * 3339 with any offset, epoch seconds / milliseconds / microseconds / nanoseconds, W3C date and
 * time fields, HAProxy's accept date, and Apache's %{strftime}t patterns. ($time_local is in
 * ingest_request.c.)
 *
 * Pipeline position: called by the format parsers for every line.
 *
 * Invariants: no libc time functions (which take locks and consult the local zone), no
 * allocation, no read outside (s, n). A time without an offset is taken as UTC.
 */
#include "ingest/ingest_int.h"

static const uint8_t vg_mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static bool leap(unsigned y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static bool valid_date(unsigned y, unsigned m, unsigned d)
{
    if (m < 1 || m > 12 || d < 1 || d > vg_mdays[m])
        return false;
    return !(m == 2 && d == 29 && !leap(y));
}

static int64_t to_unix(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                       int64_t off)
{
    return vg_days_from_civil(y, mo, d) * 86400 + (int64_t)(h * 3600u + mi * 60u + s) - off;
}

static const char *const vg_months[12] = {"January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December"};

/* English month abbreviation at s (3 bytes, case-insensitive); 0 if none. */
static unsigned month_abbrev(const uint8_t *s)
{
    for (unsigned m = 0; m < 12; m++) {
        const char *n = vg_months[m];
        if ((s[0] | 0x20) == (n[0] | 0x20) && (s[1] | 0x20) == n[1] && (s[2] | 0x20) == n[2])
            return m + 1;
    }
    return 0;
}

/* A zone offset "Z", "+HH:MM", "+HHMM", "+HH" at s[0 .. n): seconds east of UTC. */
static bool parse_offset(const uint8_t *s, size_t n, int64_t *off)
{
    if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) {
        *off = 0;
        return true;
    }
    if (n < 3 || (s[0] != '+' && s[0] != '-') || !VG_DIG(s[1]) || !VG_DIG(s[2]))
        return false;
    unsigned oh = VG_D2(s + 1), om = 0;
    if (n == 6 && s[3] == ':' && VG_DIG(s[4]) && VG_DIG(s[5]))
        om = VG_D2(s + 4);
    else if (n == 5 && VG_DIG(s[3]) && VG_DIG(s[4]))
        om = VG_D2(s + 3);
    else if (n != 3)
        return false;
    if (oh > 23 || om > 59)
        return false;
    *off = (int64_t)(oh * 3600u + om * 60u) * (s[0] == '-' ? -1 : 1);
    return true;
}

/*
 * ISO 8601 / RFC 3339: "2026-08-01T00:00:00+00:00". Also accepted: a space for the 'T', a
 * fraction of a second (dropped), "Z", offsets "+0000" and "+00", and no offset (UTC).
 */
bool vg_time_iso(const uint8_t *s, size_t n, int64_t *out)
{
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return false;
    static const uint8_t digit_at[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
    for (size_t k = 0; k < sizeof digit_at; k++)
        if (!VG_DIG(s[digit_at[k]]))
            return false;
    unsigned year = VG_D2(s) * 100u + VG_D2(s + 2), mon = VG_D2(s + 5), day = VG_D2(s + 8);
    unsigned hh = VG_D2(s + 11), mm = VG_D2(s + 14), ss = VG_D2(s + 17);
    if (!valid_date(year, mon, day) || hh > 23 || mm > 59 || ss > 60)
        return false;
    size_t i = 19;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        i++;
        size_t st = i;
        while (i < n && VG_DIG(s[i]))
            i++;
        if (i == st || i - st > 12)
            return false;
    }
    int64_t off = 0;
    if (i < n && !parse_offset(s + i, n - i, &off))
        return false;
    *out = to_unix(year, mon, day, hh, mm, ss, off);
    return true;
}

/*
 * Epoch time "1785542400", "1785542400.123" (nginx $msec), "1785542400123" (milliseconds),
 * micro- and nanoseconds. The unit comes from the number of integer digits: up to 11 are
 * seconds, 12-14 milliseconds, 15-17 microseconds, 18-19 nanoseconds.
 */
bool vg_time_epoch(const uint8_t *s, size_t n, int64_t *out)
{
    size_t ip = 0;
    uint64_t v = 0;
    while (ip < n && VG_DIG(s[ip])) {
        if (ip == 19)
            return false;
        v = v * 10 + (uint64_t)(s[ip] - '0');
        ip++;
    }
    if (ip == 0)
        return false;
    if (ip < n) {
        if (s[ip] != '.')
            return false;
        size_t fn = n - ip - 1;
        if (fn == 0 || fn > 9)
            return false;
        for (size_t k = 0; k < fn; k++)
            if (!VG_DIG(s[ip + 1 + k]))
                return false;
    }
    if (ip <= 11)
        *out = (int64_t)v;
    else if (ip <= 14)
        *out = (int64_t)(v / 1000u);
    else if (ip <= 17)
        *out = (int64_t)(v / 1000000u);
    else
        *out = (int64_t)(v / 1000000000u);
    return true;
}

/* W3C date "2026-08-01" -> days since the epoch. */
bool vg_time_date(const uint8_t *s, size_t n, int64_t *days)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    static const uint8_t digit_at[] = {0, 1, 2, 3, 5, 6, 8, 9};
    for (size_t k = 0; k < sizeof digit_at; k++)
        if (!VG_DIG(s[digit_at[k]]))
            return false;
    unsigned year = VG_D2(s) * 100u + VG_D2(s + 2), mon = VG_D2(s + 5), day = VG_D2(s + 8);
    if (!valid_date(year, mon, day))
        return false;
    *days = vg_days_from_civil(year, mon, day);
    return true;
}

/* W3C time "13:55:36" or "13:55:36.123" -> seconds of the day. */
bool vg_time_clock(const uint8_t *s, size_t n, int32_t *secs)
{
    if (n < 8 || s[2] != ':' || s[5] != ':' || !VG_DIG(s[0]) || !VG_DIG(s[1]) || !VG_DIG(s[3]) ||
        !VG_DIG(s[4]) || !VG_DIG(s[6]) || !VG_DIG(s[7]))
        return false;
    unsigned hh = VG_D2(s), mm = VG_D2(s + 3), ss = VG_D2(s + 6);
    if (hh > 23 || mm > 59 || ss > 60)
        return false;
    if (n > 8) {
        if (s[8] != '.' || n == 9 || n > 18)
            return false;
        for (size_t k = 9; k < n; k++)
            if (!VG_DIG(s[k]))
                return false;
    }
    *secs = (int32_t)(hh * 3600u + mm * 60u + ss);
    return true;
}

/* HAProxy accept date "06/Feb/2009:12:14:14.655" (local time without offset: taken as UTC). */
bool vg_time_haproxy(const uint8_t *s, size_t n, int64_t *out)
{
    if (n < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':')
        return false;
    static const uint8_t digit_at[] = {0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19};
    for (size_t k = 0; k < sizeof digit_at; k++)
        if (!VG_DIG(s[digit_at[k]]))
            return false;
    unsigned day = VG_D2(s), mon = month_abbrev(s + 3);
    unsigned year = VG_D2(s + 7) * 100u + VG_D2(s + 9);
    unsigned hh = VG_D2(s + 12), mm = VG_D2(s + 15), ss = VG_D2(s + 18);
    if (!valid_date(year, mon, day) || hh > 23 || mm > 59 || ss > 60)
        return false;
    if (n > 20) {
        if (s[20] != '.' || n == 21 || n > 30)
            return false;
        for (size_t k = 21; k < n; k++)
            if (!VG_DIG(s[k]))
                return false;
    }
    *out = to_unix(year, mon, day, hh, mm, ss, 0);
    return true;
}

/* ---- strftime patterns (Apache %{...}t) ------------------------------------------------------ */

/* ASCII case-insensitive equality of p[0 .. n) and a letter-only literal. */
static bool ascii_len_ieq(const uint8_t *p, size_t n, const char *lit)
{
    if (n != strlen(lit))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != (lit[i] | 0x20))
            return false;
    return true;
}

/* Reads exactly `w` digits (w > 0), or, when lenient, 1..w digits (with a leading space for %e). */
static bool take_num(const uint8_t **p, const uint8_t *end, unsigned w, bool lenient,
                     unsigned *out)
{
    const uint8_t *s = *p;
    if (lenient && s < end && *s == ' ')
        s++;
    unsigned v = 0, k = 0;
    while (k < w && s < end && VG_DIG(*s)) {
        v = v * 10 + (unsigned)(*s - '0');
        s++;
        k++;
    }
    if (k == 0 || (!lenient && k != w))
        return false;
    *out = v;
    *p = s;
    return true;
}

static bool take_alpha(const uint8_t **p, const uint8_t *end, size_t *n)
{
    const uint8_t *s = *p;
    while (s < end && (((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z')))
        s++;
    *n = (size_t)(s - *p);
    *p = s;
    return *n > 0;
}

struct strf_acc {
    unsigned y, mo, d, h, mi, s, yday, hour12;
    int pm; /* -1 unknown, 0 am, 1 pm */
    int64_t off;
    bool have_epoch, have_yday;
    int64_t epoch;
};

/* Matches one conversion; returns false when the text does not fit. */
static bool strf_conv(uint8_t c, const uint8_t **p, const uint8_t *end, struct strf_acc *a)
{
    size_t n;
    unsigned v;
    const uint8_t *s;
    switch (c) {
    case 'Y':
        return take_num(p, end, 4, false, &a->y);
    case 'y':
        if (!take_num(p, end, 2, false, &v))
            return false;
        a->y = v < 69 ? 2000 + v : 1900 + v;
        return true;
    case 'm':
        return take_num(p, end, 2, true, &a->mo);
    case 'd':
        return take_num(p, end, 2, true, &a->d);
    case 'e':
        return take_num(p, end, 2, true, &a->d);
    case 'H':
    case 'k':
        return take_num(p, end, 2, true, &a->h);
    case 'I':
    case 'l':
        return take_num(p, end, 2, true, &a->hour12);
    case 'M':
        return take_num(p, end, 2, true, &a->mi);
    case 'S':
        return take_num(p, end, 2, true, &a->s);
    case 'j':
        a->have_yday = true;
        return take_num(p, end, 3, true, &a->yday);
    case 'b':
    case 'h':
        if (end - *p < 3 || !(a->mo = month_abbrev(*p)))
            return false;
        *p += 3;
        return true;
    case 'B':
        s = *p;
        if (!take_alpha(&s, end, &n))
            return false;
        for (unsigned m = 0; m < 12; m++)
            if (ascii_len_ieq(*p, n, vg_months[m])) {
                a->mo = m + 1;
                *p = s;
                return true;
            }
        return false;
    case 'a':
    case 'A':
        return take_alpha(p, end, &n); /* weekday names are redundant with the date */
    case 'p':
        if (end - *p < 2 || ((**p | 0x20) != 'a' && (**p | 0x20) != 'p') || ((*p)[1] | 0x20) != 'm')
            return false;
        a->pm = (**p | 0x20) == 'p';
        *p += 2;
        return true;
    case 'z':
        s = *p;
        if (s < end && (*s == 'Z' || *s == 'z')) {
            a->off = 0;
            *p = s + 1;
            return true;
        }
        if (end - s >= 6 && s[3] == ':' && parse_offset(s, 6, &a->off)) {
            *p = s + 6;
            return true;
        }
        if (end - s >= 5 && parse_offset(s, 5, &a->off)) {
            *p = s + 5;
            return true;
        }
        return false;
    case 'Z':
        s = *p;
        if (!take_alpha(&s, end, &n))
            return false;
        if (!(ascii_len_ieq(*p, n, "UTC") || ascii_len_ieq(*p, n, "GMT") ||
              ascii_len_ieq(*p, n, "Z")))
            return false; /* a zone name vigil cannot resolve without a time zone database */
        a->off = 0;
        *p = s;
        return true;
    case 's':
        s = *p;
        while (s < end && VG_DIG(*s))
            s++;
        if (s == *p || !vg_time_epoch(*p, (size_t)(s - *p), &a->epoch))
            return false;
        a->have_epoch = true;
        *p = s;
        return true;
    default:
        return false;
    }
}

/* Expansions of the composite conversions. */
static const char *strf_expand(uint8_t c)
{
    switch (c) {
    case 'T':
        return "%H:%M:%S";
    case 'D':
        return "%m/%d/%y";
    case 'F':
        return "%Y-%m-%d";
    case 'R':
        return "%H:%M";
    case 'r':
        return "%I:%M:%S %p";
    default:
        return NULL;
    }
}

static bool strf_known(uint8_t c)
{
    return strchr("YymdeHkIlMSjbhBaApzZsTDFRrnt%", c) != NULL && c != 0;
}

bool vg_time_strf_valid(const char *pat, size_t n, char *bad)
{
    for (size_t i = 0; i < n; i++) {
        if (pat[i] != '%')
            continue;
        if (i + 1 == n || !strf_known((uint8_t)pat[i + 1])) {
            *bad = i + 1 < n ? pat[i + 1] : '%';
            return false;
        }
        i++;
    }
    return true;
}

static bool strf_run(const uint8_t *pat, size_t pn, const uint8_t **p, const uint8_t *end,
                     struct strf_acc *a, int depth)
{
    for (size_t i = 0; i < pn; i++) {
        uint8_t c = pat[i];
        if (c != '%') {
            if (*p >= end || **p != c)
                return false;
            (*p)++;
            continue;
        }
        if (++i == pn)
            return false;
        c = pat[i];
        if (c == '%') {
            if (*p >= end || **p != '%')
                return false;
            (*p)++;
            continue;
        }
        if (c == 'n' || c == 't') {
            while (*p < end && (**p == ' ' || **p == '\t' || **p == '\n'))
                (*p)++;
            continue;
        }
        const char *x = strf_expand(c);
        if (x) {
            if (depth > 2 || !strf_run((const uint8_t *)x, strlen(x), p, end, a, depth + 1))
                return false;
            continue;
        }
        if (!strf_conv(c, p, end, a))
            return false;
    }
    return true;
}

/*
 * Parses s with a strftime pattern (the conversions of vg_time_strf_valid). Without %z/%Z the
 * time is taken as UTC. Missing date parts default to 1970-01-01.
 */
bool vg_time_strf(const uint8_t *pat, size_t pn, const uint8_t *s, size_t n, int64_t *out)
{
    size_t used;
    return vg_time_strf_prefix(pat, pn, s, n, out, &used) && used == n;
}

/*
 * As vg_time_strf, over the start of s: *used is how many bytes the pattern took. Lets a
 * line format find where a time with spaces inside ("%d %b %Y %T") ends.
 */
bool vg_time_strf_prefix(const uint8_t *pat, size_t pn, const uint8_t *s, size_t n, int64_t *out,
                         size_t *used)
{
    struct strf_acc a = {1970, 1, 1, 0, 0, 0, 0, 0, -1, 0, false, false, 0};
    const uint8_t *p = s, *end = s + n;
    if (!strf_run(pat, pn, &p, end, &a, 0))
        return false;
    *used = (size_t)(p - s);
    if (a.have_epoch) {
        *out = a.epoch;
        return true;
    }
    if (a.pm >= 0) {
        if (a.hour12 < 1 || a.hour12 > 12)
            return false;
        a.h = a.hour12 % 12 + (a.pm ? 12u : 0u);
    }
    if (a.have_yday) {
        if (a.yday < 1 || a.yday > (leap(a.y) ? 366u : 365u))
            return false;
        *out = (vg_days_from_civil(a.y, 1, 1) + a.yday - 1) * 86400 +
               (int64_t)(a.h * 3600u + a.mi * 60u + a.s) - a.off;
        return a.h <= 23 && a.mi <= 59 && a.s <= 60;
    }
    if (!valid_date(a.y, a.mo, a.d) || a.h > 23 || a.mi > 59 || a.s > 60)
        return false;
    *out = to_unix(a.y, a.mo, a.d, a.h, a.mi, a.s, a.off);
    return true;
}

/* Any of the time shapes, as JSON values carry them: time_local (bracketed or not), ISO 8601,
   epoch numbers. */
bool vg_time_any(const uint8_t *s, size_t n, int64_t *out)
{
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (n == 26 && s[2] == '/')
        return vg_parse_time_local(s, n, out);
    if (n >= 19 && s[4] == '-')
        return vg_time_iso(s, n, out);
    if (n >= 20 && s[2] == '/')
        return vg_time_haproxy(s, n, out);
    return vg_time_epoch(s, n, out);
}
