/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/behave_gen.c: writes combined-format lines from N distinct client addresses, for
 * bench/behave_mem.sh. Every address sends one request (a page, or now and then a missing
 * path); one in eight addresses is IPv6. SPAN is the log time the N requests cover, in seconds:
 * a long span lets idle sources expire, a short one keeps them all within the idle time so
 * that only the max_sources cap bounds the state. Every 100,000th address also runs a short
 * directory scan, so detector state and held requests exist too.
 *
 *   behave_gen N SPAN > file
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *pages[] = {"/", "/doku.php?id=start", "/doku.php?id=wiki:syntax",
                              "/feed.php", "/lib/tpl/dokuwiki/images/logo.png",
                              "/doku.php?id=playground:playground"};
static const char *scan[] = {"/admin/", "/backup/", "/old/", "/test/", "/tmp/", "/dev/",
                             "/private/", "/config/", "/db/", "/logs/", "/stats/", "/temp/",
                             "/cgi-bin/", "/data/", "/files/", "/include/", "/lib/x/",
                             "/upload/", "/web/", "/www/", "/site/", "/shop/", "/new/",
                             "/beta/", "/demo/", "/docs/", "/install/", "/setup/", "/system/",
                             "/media/"};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: behave_gen N SPAN_SECONDS\n");
        return 2;
    }
    uint64_t n = strtoull(argv[1], NULL, 10), span = strtoull(argv[2], NULL, 10);
    time_t t0 = 1785542400; /* 2026-08-01T00:00:00Z */
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    char ts[64];
    time_t last_t = (time_t)-1;
    for (uint64_t i = 0; i < n; i++) {
        time_t t = t0 + (time_t)(n ? (span * i) / n : 0);
        if (t != last_t) {
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(ts, sizeof ts, "%d/%b/%Y:%H:%M:%S +0000", &tm);
            last_t = t;
        }
        /* distinct addresses: a bijection of i (odd multiplier mod 2^32) */
        uint32_t v = (uint32_t)(i * 2654435761u) ^ 0x5bd1e995u;
        char ip[64];
        if (i % 8 == 7)
            snprintf(ip, sizeof ip, "2001:db8:%x:%x::%x", (unsigned)(i >> 32) & 0xffff,
                     (v >> 16) & 0xffff, v & 0xffff);
        else
            snprintf(ip, sizeof ip, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255,
                     (v >> 8) & 255, v & 255);
        if (i % 10 == 3)
            printf("%s - - [%s] \"GET /nope-%" PRIu64 ".html HTTP/1.1\" 404 208 \"-\" "
                   "\"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\"\n",
                   ip, ts, i % 977);
        else
            printf("%s - - [%s] \"GET %s HTTP/1.1\" 200 %u \"-\" \"Mozilla/5.0 (Windows NT "
                   "10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 "
                   "Safari/537.36\"\n",
                   ip, ts, pages[i % 6], 4000 + (unsigned)(i % 5000));
        if (i % 100000 == 50000)
            for (unsigned k = 0; k < 30; k++)
                printf("%s - - [%s] \"GET %s HTTP/1.1\" 404 196 \"-\" \"Mozilla/5.0 (X11; "
                       "Linux x86_64) Gecko/20100101 Firefox/115.0\"\n",
                       ip, ts, scan[k]);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
