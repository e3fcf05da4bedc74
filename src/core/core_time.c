/* SPDX-License-Identifier: Apache-2.0 */
/* core_time.c: UTC calendar arithmetic without libc's time zone state (thread-safe, fast). */
#include <stdio.h>

#include "core/core.h"

int64_t vg_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void vg_civil_from_unix(int64_t t, int *year, int *mon, int *day, int *hour, int *min, int *sec)
{
    int64_t days = t / 86400;
    int64_t rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    *hour = (int)(rem / 3600);
    *min = (int)(rem % 3600 / 60);
    *sec = (int)(rem % 60);
    int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(y + (m <= 2));
    *mon = (int)m;
    *day = (int)d;
}

int32_t vg_month_key(int64_t t)
{
    int y, mo, d, h, mi, s;
    vg_civil_from_unix(t, &y, &mo, &d, &h, &mi, &s);
    return (int32_t)(y * 12 + (mo - 1));
}

void vg_month_format(int32_t key, char *out)
{
    int y = key / 12, m = key % 12 + 1;
    if (key < 0 || y > 9999)
        snprintf(out, 16, "unknown");
    else
        snprintf(out, 16, "%04d-%02d", y, m);
}

void vg_time_format_iso(int64_t t, char *out)
{
    int y, mo, d, h, mi, s;
    vg_civil_from_unix(t, &y, &mo, &d, &h, &mi, &s);
    if (y < 0 || y > 9999)
        y = 0;
    /* The modulo bounds each field for the compiler's truncation check; the values are in range. */
    snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y % 10000u, (unsigned)mo % 100u,
             (unsigned)d % 100u, (unsigned)h % 100u, (unsigned)mi % 100u, (unsigned)s % 100u);
}
