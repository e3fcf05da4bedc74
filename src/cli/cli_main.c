/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_main.c: the `vigil` command, a thin layer over the public API in vigil.h.
 *
 * Exit codes (DESIGN.md section 3): 0 ok, 1 attacks found with --fail-on-attack, 2 usage,
 * 3 input error, 4 store error; other engine failures (rules, geo, memory) also exit 2..4 as
 * fits best and always print the reason.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil.h"
#include "../detect/detect_sigma.h" /* Sigma import: load-time translation only */

enum { EXIT_OK = 0, EXIT_ATTACKS = 1, EXIT_USAGE = 2, EXIT_INPUT = 3, EXIT_STORE = 4 };

static const char *prog = "vigil";

/* Help text of the input options shared by scan and parse. */
#define INPUT_OPTIONS_HELP                                                                         \
    "  FILE...            plain, gzip or zstd files (detected from the content), - for\n"         \
    "                     standard input, or globs ('logs/access.log*', expanded without a\n"     \
    "                     shell); rotated sets are read oldest first (access.log.2.gz,\n"         \
    "                     access.log.1, access.log)\n"                                          \
    "  --format F         auto (default: detected per file from its first lines) | combined |\n" \
    "                     common | vhost_combined | main | json | caddy | traefik | w3c |\n"     \
    "                     haproxy[:Header,...] | 'nginx:[escape=json ]<log_format string>' |\n"   \
    "                     'apache:<LogFormat string>', e.g.\n"                                   \
    "                     'nginx:$remote_addr - $remote_user [$time_local] \"$request\" ...'\n"  \
    "                     'apache:%%h %%l %%u %%t \\\"%%r\\\" %%>s %%b'\n"                            \
    "  --format-from FILE:NAME  the log format NAME of an nginx (log_format) or Apache\n"         \
    "                     (LogFormat) configuration file\n"                                      \
    "  --json-map F=KEY,...  JSON keys for fields (client, time, method, target, status,\n"       \
    "                     bytes, referer, user_agent, host, cookie, body, header:NAME, ignore,\n" \
    "                     ...); KEY may be a dotted path (request.uri)\n"                         \
    "  --real-ip FIELD    take the client from a logged forwarded chain (e.g.\n"                 \
    "                     X-Forwarded-For): its rightmost address not in --trusted-proxies,\n"    \
    "                     when the socket address is trusted\n"                                   \
    "  --trusted-proxies CIDR,...  the proxies whose forwarded chain is believed\n"              \
    "  --max-line BYTES   longest line accepted (default 65536); longer lines are\n"             \
    "                     counted as oversize, sampled and skipped\n"


static void usage_main(FILE *f)
{
    fprintf(f,
            "usage: vigil <command> [options]\n"
            "\n"
            "Find the attacks in web access logs, attribute and count them.\n"
            "\n"
            "commands:\n"
            "  scan FILE...     scan access logs (plain, .gz, .zst or - for stdin), write attack\n"
            "                   events and a store, print a summary per month\n"
            "  report           what the store holds: per month and site, attack requests,\n"
            "                   incidents, sources and campaigns by class, country, AS, outcome\n"
            "  parse FILE...    read logs without detection: the format of each file, counts,\n"
            "                   and with --records every parsed line as JSON\n"
            "  explain LINE     show how one log line is parsed, decoded, scored and attributed\n"
            "                   (also: explain - for lines on stdin, explain --line N FILE)\n"
            "  rules list       list the loaded rules (id, class, score, paranoia, fields)\n"
            "  rules test       run every rule's examples; exit 1 if one misbehaves\n"
            "  rules import-sigma PATH  print Sigma webserver rules as native rules\n"
            "  rules import-crs DIR     print OWASP CRS rules as native rules\n"
            "  version          print the version\n"
            "  help [COMMAND]   show help\n"
            "\n"
            "Run 'vigil help scan' for the options of scan.\n");
}

static void usage_scan(FILE *f)
{
    fprintf(f,
            "usage: vigil scan [options] FILE...\n"
            "\n"
            "Reads access logs (FILE may be -, plain, gzip or zstd: detected from the content),\n"
            "finds attack requests with the rule set, writes one JSON event per attack request,\n"
            "stores runs, files, monthly counts and events in SQLite, and prints per month:\n"
            "requests, attack requests, attacking sources, classes, countries, top sources and\n"
            "top targeted paths.\n"
            "\n"
            "input:\n"
            INPUT_OPTIONS_HELP

            "detection:\n"
            "  --rules PATH       extra YAML rule file or directory (repeatable): regex rules,\n"
            "                     or `operator: sqli|xss` (SQL grammar, HTML/JS lexer); docs/rules.md\n"
            "  --no-builtin-rules use only the --rules files\n"
            "  --paranoia N       1..4, rules above this level are off (default 1)\n"
            "  --threshold N      anomaly score that makes an attack request (default 5)\n"
            "  --sigma PATH       Sigma webserver rules: a .yml file or a directory (recursive;\n"
            "                     repeatable), translated into native rules; docs/sigma.md\n"
            "  --crs[=DIR]        OWASP CRS 3.3/4.x rules translated at start (docs/crs.md); DIR\n"
            "                     defaults to /usr/share/modsecurity-crs/rules (--rules also\n"
            "                     takes .conf files and directories of them)\n"
            "  --allow FILE       allowlist (repeatable): YAML entries {reason, paths, args, rules,\n"
            "                     sources}; a hit is dropped before scoring when every condition\n"
            "                     an entry gives holds: paths globs on the path, args argument\n"
            "                     names, rules ids or classes, sources client CIDRs. `vigil\n"
            "                     explain --allow FILE` shows what was allowed and why; docs/rules.md\n"
            "attribution:\n"
            "  --geo PATH         MMDB country database (repeatable); default: data/geo of the\n"
            "                     installation or source tree, or $VIGIL_GEO\n"
            "  --no-geo           no geolocation\n"
            "  --asn PATH         ASN ranges: ip-location-db CSV (asn-ipv4.csv, asn-ipv6.csv;\n"
            "                     repeatable) or a compiled .vgasn; default: data/geo of the\n"
            "                     installation or source tree, or $VIGIL_ASN. The CSVs are compiled\n"
            "                     once into asn.vgasn beside them\n"
            "  --no-asn           no AS attribution\n"
            "  --labels FILE      your labels for networks, \"CIDR label\" lines (tor-exit, cloud,\n"
            "                     partner, own-network ...), shown on every source\n"
            "behaviour (docs/internals/behave.md):\n"
            "  --behave-config FILE  thresholds, windows and lists read over the built-in\n"
            "                     defaults (config/behave.conf in the source tree)\n"
            "  --no-behave        signatures only: no forced browsing, probing, brute force,\n"
            "                     flood or tool-fingerprint detection\n"
            "  --incident-gap DUR longest quiet time inside one incident (default 30m; 90s,\n"
            "                     45m, 2h or seconds)\n"
            "output:\n"
            "  --events FILE|-    write one JSON object per attack request (- = stdout), in the\n"
            "                     order they are decided: a detection that needs several requests\n"
            "                     writes the earlier requests of its burst when it fires\n"
            "  --db PATH          SQLite store (default ./vigil.db); files already complete in it\n"
            "                     are skipped, interrupted ones resume where they stopped\n"
            "  --no-store         do not write a store\n"
            "  --json             print the summary as JSON\n"
            "  --quiet            print no summary\n"
            "  --progress WHEN    auto (default: on a terminal) | always | never\n"
            "  --fail-on-attack   exit 1 when attack requests were found\n"
            "  --threads N        worker threads (default: number of CPUs)\n"
            "  --no-cache         compile the rules even when a compiled copy is cached\n"
            "                     ($VIGIL_CACHE_DIR, else $XDG_CACHE_HOME/vigil or ~/.cache/vigil)\n"
            "\n"
            "The summary goes to stdout, or to stderr when --events - writes to stdout.\n"
            "Countries are those of the client addresses as logged, not of the people behind\n"
            "them.\n"
            "\n"
            "exit status: 0 ok, 1 attacks found (with --fail-on-attack), 2 usage or\n"
            "configuration error, 3 input error (missing, unreadable or corrupt input; every\n"
            "line before the damage is still counted), 4 store error.\n");
}

static void usage_parse(FILE *f)
{
    fprintf(f,
            "usage: vigil parse [options] FILE...\n"
            "\n"
            "Reads access logs as scan does (same formats, detection, inputs) but runs no\n"
            "detection and writes no store: it says which format each file was read with and how\n"
            "many lines parsed, and with --records writes every line as one JSON object (the\n"
            "fields vigil read, log escapes undone; malformed lines with the reason). Use it to\n"
            "check a format before a scan, and to measure parsing speed.\n"
            "\n"
            "input:\n"
            INPUT_OPTIONS_HELP
            "output:\n"
            "  --records FILE|-   every line as JSON: file, line, offset, time (UTC), client,\n"
            "                     peer, forwarded, user, method, target, path, query, protocol,\n"
            "                     status, bytes, referer, user_agent, host, cookie,\n"
            "                     content_type, body, headers; or malformed and text\n"
            "  --json             print the summary as JSON      --quiet   print no summary\n"
            "  --progress WHEN    auto (default: on a terminal) | always | never\n"
            "  --threads N        worker threads (default: number of CPUs)\n"
            "\n"
            "exit status: 0 ok, 2 usage, 3 input error (missing, corrupt, format not detected).\n");
}

static void usage_rules(FILE *f)
{
    fprintf(f, "usage: vigil rules list|test [--rules PATH]... [--no-builtin-rules] [--paranoia N]\n"
               "                       [--sigma PATH]... [--skipped]\n"
               "       vigil rules import-sigma PATH...\n"
               "       vigil rules list --crs[=DIR] [--skipped]    vigil rules import-crs DIR\n"
               "\n"
               "list  prints every rule loaded at the paranoia level: id, class, score, paranoia,\n"
               "      transform, fields, message and where it was defined; with --skipped, also\n"
               "      the --sigma rules that were not translated, and why.\n"
               "import-sigma  prints the Sigma webserver rules of PATH (file or directory) as a\n"
               "      native rule file (docs/sigma.md); skipped rules are listed as comments.\n"
               "import-crs  prints the OWASP CRS rules of DIR (.conf file or directory) translated\n"
               "      into a native rule file (docs/crs.md); skipped rules are listed as comments.\n"
               "--crs[=DIR]  loads the CRS (default /usr/share/modsecurity-crs/rules); with list\n"
               "      --skipped, every CRS rule not imported is listed with its file:line and why.\n"
               "test  runs every rule's examples (docs/rules.md) through the full detector and\n"
               "      prints those that do not behave as written; exit status 1 when any fails.\n");
}

/* The rule-language properties of a rule in `rules list`: " [operator phrases, negated,
   exclude args:password +1, chain 2, group g, author a]"; nothing for a plain rule. */
static void print_safe(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; p && *p; p++)
        fputc(*p >= 0x20 && *p != 0x7f ? *p : '?', stdout);
}

static void print_rule_lang(const struct vg_rule_info *ri)
{
    bool op = ri->operator_name && strcmp(ri->operator_name, "regex") != 0 &&
              strcmp(ri->operator_name, "sqli") != 0 && strcmp(ri->operator_name, "xss") != 0;
    if (!op && !ri->negate && !ri->n_exclude && !ri->n_chain && !ri->group && !ri->author)
        return;
    const char *sep = " [";
    if (op) {
        printf("%soperator %s", sep, ri->operator_name);
        sep = ", ";
    }
    if (ri->negate) {
        printf("%snegated", sep);
        sep = ", ";
    }
    if (ri->n_exclude) {
        printf("%sexclude ", sep);
        print_safe(ri->exclude);
        if (ri->n_exclude > 1)
            printf(" +%d", ri->n_exclude - 1);
        sep = ", ";
    }
    if (ri->n_chain) {
        printf("%schain %d", sep, ri->n_chain);
        sep = ", ";
    }
    if (ri->group) {
        printf("%sgroup ", sep);
        print_safe(ri->group);
        sep = ", ";
    }
    if (ri->author) {
        printf("%sauthor ", sep);
        print_safe(ri->author);
    }
    putchar(']');
}

static void usage_explain(FILE *f)
{
    fprintf(f,
            "usage: vigil explain [options] LINE\n"
            "       vigil explain [options] -              (each line of standard input)\n"
            "       vigil explain [options] --line N FILE  (line N of FILE, plain/gzip/zstd)\n"
            "\n"
            "Shows the parsed fields, the decoded form of every field the detectors read and what\n"
            "decoding changed, the views the rule language made (field, transformations, bytes),\n"
            "every rule that matched (field, span, matched text, source), the hits an allowlist\n"
            "dropped and which entry did, the score per class, the verdict, and the event a scan\n"
            "would write.\n"
            "\n"
            "  --json             one JSON object per line explained\n"
            "  --allow FILE       allowlist, as for scan (repeatable)\n"
            "  --format F, --rules PATH, --no-builtin-rules, --paranoia N, --threshold N,\n"
            "  --sigma PATH, --crs[=DIR], --geo PATH, --no-geo, --no-cache   as for scan\n"
            "\n"
            "exit status: 0 explained (whatever the verdict), 2 usage, 3 input error.\n");
}

/* The input options shared by scan and parse. Returns 1 when handled, 0 when not an input
   option. */
enum { O_FORMAT_FROM = 200, O_JSON_MAP, O_REAL_IP, O_TRUSTED };
/* The reading options of scan and parse (run_option). */
enum { O_THREADS = 220, O_MAX_LINE, O_CHUNK, O_PROGRESS };
#define INPUT_LONG_OPTIONS                                                                         \
    {"format-from", required_argument, NULL, O_FORMAT_FROM},                                       \
        {"json-map", required_argument, NULL, O_JSON_MAP},                                         \
        {"real-ip", required_argument, NULL, O_REAL_IP},                                           \
        {"trusted-proxies", required_argument, NULL, O_TRUSTED}

static int input_option(int opt, const char *arg, struct vg_engine_config *cfg)
{
    switch (opt) {
    case O_FORMAT_FROM:
        cfg->format_from = arg;
        return 1;
    case O_JSON_MAP:
        cfg->json_map = arg;
        return 1;
    case O_REAL_IP:
        cfg->real_ip = arg;
        return 1;
    case O_TRUSTED:
        cfg->trusted_proxies = arg;
        return 1;
    default:
        return 0;
    }
}

static bool has_glob_chars(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* The inputs of a command: *paths borrows from argv and from the owned copies in owned. */
struct inputs {
    const char **paths;
    size_t n;
    char **owned;
    size_t n_owned;
};

static void inputs_free(struct inputs *in)
{
    for (size_t i = 0; i < in->n_owned; i++)
        free(in->owned[i]);
    free(in->owned);
    free(in->paths);
    memset(in, 0, sizeof *in);
}

/*
 * The inputs to read: arguments as given, globs expanded (with glob(3), never a shell; a glob
 * that matches nothing stays as it is, so that its absence is reported; a file whose name holds
 * glob characters is taken as it is), then rotated sets put oldest first. Returns false on
 * memory errors.
 */
static bool expand_inputs(int argc, char **argv, int first, struct inputs *in)
{
    memset(in, 0, sizeof *in);
    size_t cap = (size_t)(argc - first) + 1;
    in->paths = calloc(cap, sizeof *in->paths);
    if (!in->paths)
        return false;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        glob_t g;
        memset(&g, 0, sizeof g);
        if (strcmp(a, "-") == 0 || !has_glob_chars(a) || access(a, F_OK) == 0 ||
            glob(a, GLOB_ERR, NULL, &g) != 0 || g.gl_pathc == 0) {
            globfree(&g);
            in->paths[in->n++] = a;
            continue;
        }
        const char **np = realloc(in->paths, (cap + g.gl_pathc) * sizeof *np);
        char **no = realloc(in->owned, (in->n_owned + g.gl_pathc) * sizeof *no);
        if (np)
            in->paths = np;
        if (no)
            in->owned = no;
        if (!np || !no) {
            globfree(&g);
            return false;
        }
        cap += g.gl_pathc;
        for (size_t j = 0; j < g.gl_pathc; j++) {
            char *d = strdup(g.gl_pathv[j]);
            if (!d) {
                globfree(&g);
                return false;
            }
            in->owned[in->n_owned++] = d;
            in->paths[in->n++] = d;
        }
        globfree(&g);
    }
    return vg_order_inputs(in->paths, in->n) == VG_OK;
}

static int exit_for(vg_status st)
{
    switch (st) {
    case VG_OK:
        return EXIT_OK;
    case VG_E_IO:
    case VG_E_CORRUPT:
        return EXIT_INPUT;
    case VG_E_STORE:
        return EXIT_STORE;
    case VG_E_NOMEM:
    case VG_E_INVAL:
    case VG_E_FORMAT:
    case VG_E_RULES:
    case VG_E_REGEX:
    case VG_E_GEO:
    case VG_E_LIMIT:
    case VG_E_INTERNAL:
        break;
    }
    return EXIT_USAGE;
}

static void print_error(const struct vg_error *err, vg_status st)
{
    if (err->message[0]) {
        if (err->where[0] && !strstr(err->message, err->where) && err->line)
            fprintf(stderr, "%s: %s:%zu: %s\n", prog, err->where, err->line, err->message);
        else if (err->where[0] && !strstr(err->message, err->where))
            fprintf(stderr, "%s: %s: %s\n", prog, err->where, err->message);
        else
            fprintf(stderr, "%s: %s\n", prog, err->message);
    } else {
        fprintf(stderr, "%s: %s\n", prog, vg_strerror(st));
    }
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max || *s == '-')
        return false;
    *out = v;
    return true;
}

/*
 * The reading options scan and parse share (--threads, --max-line, --chunk-size, --progress).
 * Returns 1 when opt was one of them, 0 when not, -1 on a bad value (printed).
 */
static int run_option(int opt, const char *arg, struct vg_scan_options *sopt)
{
    unsigned long v;
    switch (opt) {
    case O_THREADS:
        if (!parse_uint(arg, 256, &v) || v == 0) {
            fprintf(stderr, "%s: --threads wants a number from 1 to 256, not '%s'\n", prog, arg);
            return -1;
        }
        sopt->threads = (unsigned)v;
        return 1;
    case O_MAX_LINE:
        if (!parse_uint(arg, 64ul * 1024 * 1024, &v) || v < 256) {
            fprintf(stderr, "%s: --max-line wants a byte count from 256 to 67108864, not '%s'\n",
                    prog, arg);
            return -1;
        }
        sopt->max_line = v;
        return 1;
    case O_CHUNK:
        if (!parse_uint(arg, 256ul * 1024 * 1024, &v) || v < 1024) {
            fprintf(stderr, "%s: --chunk-size wants at least 1024 bytes\n", prog);
            return -1;
        }
        sopt->chunk_size = v;
        return 1;
    case O_PROGRESS:
        if (strcmp(arg, "auto") == 0)
            sopt->progress = VG_PROGRESS_AUTO;
        else if (strcmp(arg, "always") == 0)
            sopt->progress = VG_PROGRESS_ALWAYS;
        else if (strcmp(arg, "never") == 0)
            sopt->progress = VG_PROGRESS_NEVER;
        else {
            fprintf(stderr, "%s: --progress wants auto, always or never\n", prog);
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

/* Joins argv into one string for the run record (arguments are data: no shell is ever used). */
static char *join_args(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    char *s = malloc(n);
    if (!s)
        return NULL;
    s[0] = 0;
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

/*
 * Where compiled rule databases are cached: $VIGIL_CACHE_DIR, else $XDG_CACHE_HOME/vigil, else
 * $HOME/.cache/vigil. VIGIL_CACHE_DIR set to "" (or --no-cache) disables the cache.
 */
static bool default_cache_dir(char *out, size_t cap)
{
    const char *v = getenv("VIGIL_CACHE_DIR");
    if (v)
        return *v && (size_t)snprintf(out, cap, "%s", v) < cap;
    v = getenv("XDG_CACHE_HOME");
    if (v && *v == '/')
        return (size_t)snprintf(out, cap, "%s/vigil", v) < cap;
    v = getenv("HOME");
    if (v && *v == '/') {
        char parent[4096];
        if ((size_t)snprintf(parent, sizeof parent, "%s/.cache", v) >= sizeof parent)
            return false;
        (void)mkdir(parent, 0700);
        return (size_t)snprintf(out, cap, "%s/vigil", parent) < cap;
    }
    return false;
}

#define MAX_MULTI 64

/* Rule selection shared by `scan` and `rules`: --rules (repeatable), --no-builtin-rules,
   --paranoia. Returns 1 when opt was one of them, 0 when not, -1 on a usage error (printed). */
struct rule_opts {
    const char *paths[MAX_MULTI];
    size_t n;
};

/* --allow FILE (scan, explain): option value outside every command's enum, handled by
   rule_option, which points cfg->allow_paths at this list. */
#define O_ALLOW_FILE 4096
static const char *allow_paths[MAX_MULTI];
static size_t n_allow_paths;

static int rule_option(int opt, const char *arg, int o_rules, int o_no_builtin, int o_paranoia,
                       struct rule_opts *ro, struct vg_engine_config *cfg)
{
    unsigned long v;
    if (opt == O_ALLOW_FILE) {
        if (n_allow_paths == MAX_MULTI) {
            fprintf(stderr, "%s: too many --allow options\n", prog);
            return -1;
        }
        allow_paths[n_allow_paths++] = arg;
        cfg->allow_paths = allow_paths;
        cfg->n_allow_paths = n_allow_paths;
        return 1;
    }
    if (opt == o_rules) {
        if (ro->n == MAX_MULTI) {
            fprintf(stderr, "%s: too many --rules options\n", prog);
            return -1;
        }
        ro->paths[ro->n++] = arg;
        return 1;
    }
    if (opt == o_no_builtin) {
        cfg->no_builtin_rules = 1;
        return 1;
    }
    if (opt == o_paranoia) {
        if (!parse_uint(arg, 4, &v) || v < 1) {
            fprintf(stderr, "%s: --paranoia wants 1, 2, 3 or 4, not '%s'\n", prog, arg);
            return -1;
        }
        cfg->paranoia = (int)v;
        return 1;
    }
    return 0;
}

/*
 * --sigma PATH (repeatable): Sigma webserver rules (a file, or a directory searched recursively)
 * translated into native rules (docs/sigma.md) and handed to the engine as one more rule file:
 * an unlinked temporary file named through /proc/self/fd, open until the engine is built.
 */
struct sigma_opts {
    const char *paths[MAX_MULTI];
    size_t n;
    FILE *tmp;
    char tmp_path[64];
};

static int sigma_option(struct sigma_opts *so, const char *arg)
{
    if (so->n == MAX_MULTI) {
        fprintf(stderr, "%s: too many --sigma options\n", prog);
        return -1;
    }
    so->paths[so->n++] = arg;
    return 1;
}

/* Printable ASCII of untrusted text (Sigma titles and reasons) on one line. */
static void put_safe(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fputc(*p >= 0x20 && *p < 0x7f ? *p : '?', f);
}

static int sigma_translate_all(const char *const *paths, size_t n, struct vg_sigma_result *res)
{
    for (size_t i = 0; i < n; i++) {
        struct vg_error err;
        memset(&err, 0, sizeof err);
        vg_status st = vg_sigma_translate_path(res, paths[i], &err);
        if (st != VG_OK) {
            print_error(&err, st);
            return st == VG_E_IO ? EXIT_INPUT : EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

/* Translates the --sigma paths and adds them to ro; one summary line on stderr unless quiet. */
static int sigma_prepare(struct sigma_opts *so, struct rule_opts *ro, bool quiet)
{
    if (!so->n)
        return EXIT_OK;
    struct vg_sigma_result res;
    vg_sigma_result_init(&res);
    int rc = sigma_translate_all(so->paths, so->n, &res);
    if (rc == EXIT_OK && ro->n == MAX_MULTI) {
        fprintf(stderr, "%s: too many --rules options\n", prog);
        rc = EXIT_USAGE;
    }
    if (rc == EXIT_OK) {
        so->tmp = tmpfile();
        if (!so->tmp || fwrite(res.yaml, 1, res.yaml_len, so->tmp) != res.yaml_len ||
            fflush(so->tmp) != 0) {
            fprintf(stderr, "%s: cannot write the translated Sigma rules: %s\n", prog,
                    strerror(errno));
            rc = EXIT_INPUT;
        } else {
            snprintf(so->tmp_path, sizeof so->tmp_path, "/proc/self/fd/%d", fileno(so->tmp));
            ro->paths[ro->n++] = so->tmp_path;
            if (!quiet)
                fprintf(stderr,
                        "%s: sigma: %zu rules translated into %zu native rules, %zu skipped "
                        "(vigil rules list --sigma PATH --skipped)\n",
                        prog, res.n_rules, res.n_native, res.n_skipped);
        }
    }
    vg_sigma_result_fini(&res);
    return rc;
}

static void sigma_done(struct sigma_opts *so)
{
    if (so->tmp)
        fclose(so->tmp);
    so->tmp = NULL;
}

#define CRS_DEFAULT_DIR "/usr/share/modsecurity-crs/rules"

/* True when path is a directory holding a *.conf file (a CRS rules directory). */
static bool crs_dir_like(const char *path)
{
    struct stat sb;
    if (!path || stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return false;
    DIR *d = opendir(path);
    bool found = false;
    struct dirent *e;
    while (d && !found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        found = e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0;
    }
    if (d)
        closedir(d);
    return found;
}

/*
 * --crs[=DIR]: the CRS rules directory joins the rule paths (the engine translates .conf files,
 * docs/crs.md). "--crs DIR" works too when the next word is a directory of .conf files (a log
 * file never is). *crs_dir receives the directory. Returns 1, or -1 on a usage error (printed).
 */
static int crs_option(int argc, char **argv, const char *arg, struct rule_opts *ro,
                      const char **crs_dir)
{
    if (!arg && optind < argc && crs_dir_like(argv[optind]))
        arg = argv[optind++];
    if (!arg)
        arg = CRS_DEFAULT_DIR;
    if (!crs_dir_like(arg) && access(arg, R_OK) != 0) {
        fprintf(stderr, "%s: --crs: no CRS rules at %s (install modsecurity-crs or give --crs=DIR)\n",
                prog, arg);
        return -1;
    }
    if (ro->n == MAX_MULTI) {
        fprintf(stderr, "%s: too many --rules options\n", prog);
        return -1;
    }
    ro->paths[ro->n++] = arg;
    *crs_dir = arg;
    return 1;
}

/* One CRS rule that was not imported (vg_crs_translate callback): "PREFIX ID SOURCE: why". */
static void print_crs_skip(uint32_t id, const char *source, const char *reason,
                           const char *detail, void *user)
{
    const char *prefix = user;
    fputs(prefix, stdout);
    if (id)
        printf("%u ", id);
    else
        fputs("- ", stdout);
    put_safe(stdout, source);
    fputs(": ", stdout);
    put_safe(stdout, reason);
    if (detail && *detail) {
        fputs(": ", stdout);
        put_safe(stdout, detail);
    }
    fputc('\n', stdout);
}

/* vigil rules import-crs DIR: the translated native rule file on stdout (skips as comments). */
static int cmd_rules_import_crs(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "%s rules import-crs: give one CRS rules directory or .conf file\n", prog);
        return EXIT_USAGE;
    }
    char *yaml = NULL;
    size_t n_rules = 0, n_skipped = 0;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    printf("# OWASP CRS rules of ");
    put_safe(stdout, argv[1]);
    printf(" translated by vigil (docs/crs.md)\n");
    vg_status st = vg_crs_translate(argv[1], &yaml, &n_rules, &n_skipped, print_crs_skip,
                                    (void *)"# skipped: ", &err);
    if (st != VG_OK) {
        fflush(stdout);
        print_error(&err, st);
        return st == VG_E_IO ? EXIT_INPUT : EXIT_USAGE;
    }
    printf("# %zu rules translated, %zu directives skipped\n", n_rules, n_skipped);
    fputs(yaml, stdout);
    vg_free(yaml);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_INPUT;
}

/* "90s", "30m", "2h", "1d" or plain seconds; -1 when it is none of these. */
static long long parse_duration(const char *s)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    long long mult = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        mult = 60, end++;
    else if (*end == 'h')
        mult = 3600, end++;
    else if (*end == 'd')
        mult = 86400, end++;
    if (*end || v > 365LL * 86400 / mult)
        return -1;
    return v * mult;
}

static int cmd_scan(int argc, char **argv)
{
    enum {
        O_FORMAT = 256, O_EVENTS, O_DB, O_NO_STORE, O_QUIET, O_JSON, O_GEO, O_NO_GEO,
        O_RULES, O_NO_BUILTIN, O_PARANOIA, O_THRESHOLD, O_FAIL, O_HELP,
        O_NO_CACHE, O_BEHAVE_CONFIG, O_NO_BEHAVE, O_INCIDENT_GAP, O_ASN, O_NO_ASN,
        O_LABELS, O_SIGMA, O_CRS
    };
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        INPUT_LONG_OPTIONS,
        {"events", required_argument, NULL, O_EVENTS},
        {"db", required_argument, NULL, O_DB},
        {"no-store", no_argument, NULL, O_NO_STORE},
        {"threads", required_argument, NULL, O_THREADS},
        {"quiet", no_argument, NULL, O_QUIET},
        {"json", no_argument, NULL, O_JSON},
        {"geo", required_argument, NULL, O_GEO},
        {"no-geo", no_argument, NULL, O_NO_GEO},
        {"rules", required_argument, NULL, O_RULES},
        {"no-builtin-rules", no_argument, NULL, O_NO_BUILTIN},
        {"paranoia", required_argument, NULL, O_PARANOIA},
        {"threshold", required_argument, NULL, O_THRESHOLD},
        {"max-line", required_argument, NULL, O_MAX_LINE},
        {"progress", required_argument, NULL, O_PROGRESS},
        {"fail-on-attack", no_argument, NULL, O_FAIL},
        {"chunk-size", required_argument, NULL, O_CHUNK}, /* undocumented: tests */
        {"no-cache", no_argument, NULL, O_NO_CACHE},
        {"behave-config", required_argument, NULL, O_BEHAVE_CONFIG},
        {"no-behave", no_argument, NULL, O_NO_BEHAVE},
        {"incident-gap", required_argument, NULL, O_INCIDENT_GAP},
        {"asn", required_argument, NULL, O_ASN},
        {"no-asn", no_argument, NULL, O_NO_ASN},
        {"labels", required_argument, NULL, O_LABELS},
        {"sigma", required_argument, NULL, O_SIGMA},
        {"crs", optional_argument, NULL, O_CRS},
        {"allow", required_argument, NULL, O_ALLOW_FILE},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *crs_dir = NULL;
    struct vg_engine_config cfg = VG_ENGINE_CONFIG_INIT;
    struct vg_scan_options sopt = VG_SCAN_OPTIONS_INIT;
    struct rule_opts ro = {{0}, 0};
    struct sigma_opts so = {{0}, 0, NULL, ""};
    const char *asns[MAX_MULTI];
    size_t n_asns = 0;
    const char *geos[MAX_MULTI];
    size_t n_geos = 0;
    const char *events_path = NULL, *db = "vigil.db";
    bool no_store = false, quiet = false, json = false, fail_on_attack = false, no_cache = false;
    unsigned long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = rule_option(c, optarg, O_RULES, O_NO_BUILTIN, O_PARANOIA, &ro, &cfg);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0 || input_option(c, optarg, &cfg))
            continue;
        r = run_option(c, optarg, &sopt);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        switch (c) {
        case O_FORMAT:
            cfg.format = optarg;
            break;
        case O_EVENTS:
            events_path = optarg;
            break;
        case O_DB:
            db = optarg;
            break;
        case O_NO_STORE:
            no_store = true;
            break;
        case O_QUIET:
            quiet = true;
            break;
        case O_JSON:
            json = true;
            break;
        case O_GEO:
            if (n_geos == MAX_MULTI) {
                fprintf(stderr, "%s: too many --geo options\n", prog);
                return EXIT_USAGE;
            }
            geos[n_geos++] = optarg;
            break;
        case O_NO_GEO:
            cfg.no_geo = 1;
            break;
        case O_THRESHOLD:
            if (!parse_uint(optarg, 1000000, &v) || v < 1) {
                fprintf(stderr, "%s: --threshold wants a positive number, not '%s'\n", prog,
                        optarg);
                return EXIT_USAGE;
            }
            cfg.threshold = (int)v;
            break;
        case O_FAIL:
            fail_on_attack = true;
            break;
        case O_NO_CACHE:
            no_cache = true;
            break;
        case O_BEHAVE_CONFIG:
            cfg.behave_config = optarg;
            break;
        case O_NO_BEHAVE:
            cfg.no_behave = 1;
            break;
        case O_INCIDENT_GAP: {
            long long gap = parse_duration(optarg);
            if (gap <= 0) {
                fprintf(stderr, "%s: --incident-gap wants a duration (90s, 30m, 2h, 1d or "
                                "seconds), not '%s'\n",
                        prog, optarg);
                return EXIT_USAGE;
            }
            cfg.incident_gap = gap;
            break;
        }
        case O_ASN:
            if (n_asns == MAX_MULTI) {
                fprintf(stderr, "%s: too many --asn options\n", prog);
                return EXIT_USAGE;
            }
            asns[n_asns++] = optarg;
            break;
        case O_NO_ASN:
            cfg.no_asn = 1;
            break;
        case O_LABELS:
            cfg.labels_path = optarg;
            break;
        case O_SIGMA:
            if (sigma_option(&so, optarg) < 0)
                return EXIT_USAGE;
            break;
        case O_CRS:
            if (crs_option(argc, argv, optarg, &ro, &crs_dir) < 0)
                return EXIT_USAGE;
            break;
        case O_HELP:
        case 'h':
            usage_scan(stdout);
            return EXIT_OK;
        default:
            fprintf(stderr, "Try 'vigil help scan'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s scan: no input files (use - for standard input)\n", prog);
        usage_scan(stderr);
        return EXIT_USAGE;
    }
    int src = sigma_prepare(&so, &ro, quiet);
    if (src != EXIT_OK)
        return src;
    if (crs_dir && !quiet) {
        size_t n_crs = 0, n_skip = 0;
        struct vg_error cerr;
        memset(&cerr, 0, sizeof cerr);
        if (vg_crs_translate(crs_dir, NULL, &n_crs, &n_skip, NULL, NULL, &cerr) == VG_OK)
            fprintf(stderr, "%s: crs: %zu rules imported from %s (all paranoia levels), %zu "
                    "directives skipped (vigil rules list --crs --skipped)\n", prog, n_crs,
                    crs_dir, n_skip);
    }
    cfg.rule_paths = ro.n ? ro.paths : NULL;
    cfg.n_rule_paths = ro.n;
    cfg.geo_paths = n_geos ? geos : NULL;
    cfg.n_geo_paths = n_geos;
    cfg.asn_paths = n_asns ? asns : NULL;
    cfg.n_asn_paths = n_asns;
    char cache[4096];
    if (!no_cache && default_cache_dir(cache, sizeof cache))
        cfg.cache_dir = cache;

    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_engine_t *eng = NULL;
    vg_status st = vg_engine_new(&cfg, &eng, &err);
    sigma_done(&so);
    if (st != VG_OK) {
        print_error(&err, st);
        return st == VG_E_NOMEM ? EXIT_STORE : EXIT_USAGE;
    }
    FILE *events = NULL;
    bool events_stdout = false;
    if (events_path) {
        if (strcmp(events_path, "-") == 0) {
            events = stdout;
            events_stdout = true;
        } else {
            events = fopen(events_path, "w");
            if (!events) {
                fprintf(stderr, "%s: cannot write events to %s: %s\n", prog, events_path,
                        strerror(errno));
                vg_engine_free(eng);
                return EXIT_INPUT;
            }
        }
    }
    FILE *out = events_stdout ? stderr : stdout;
    char *command = join_args(argc, argv);
    sopt.events = events;
    sopt.db_path = no_store ? NULL : db;
    sopt.diag = stderr;
    sopt.command = command;

    vg_summary_t *sum = NULL;
    memset(&err, 0, sizeof err);
    struct inputs inputs;
    if (!expand_inputs(argc, argv, optind, &inputs)) {
        fprintf(stderr, "%s: out of memory\n", prog);
        inputs_free(&inputs);
        if (events && !events_stdout)
            fclose(events);
        vg_engine_free(eng);
        free(command);
        return EXIT_STORE;
    }
    st = vg_scan(eng, &sopt, inputs.paths, inputs.n, &sum, &err);
    inputs_free(&inputs);
    /* A format that cannot be detected in a file is a problem of that input. */
    int rc = st == VG_E_FORMAT ? EXIT_INPUT : exit_for(st);
    if (st != VG_OK)
        print_error(&err, st);
    if (events && !events_stdout && fclose(events) != 0) {
        fprintf(stderr, "%s: cannot write events to %s: %s\n", prog, events_path,
                strerror(errno));
        if (rc == EXIT_OK)
            rc = EXIT_INPUT;
    }
    if (events_stdout && fflush(stdout) != 0 && rc == EXIT_OK)
        rc = EXIT_INPUT;
    if (sum) {
        if (!quiet) {
            bool color = !json && isatty(fileno(out)) && !getenv("NO_COLOR");
            vg_status ws = json ? vg_summary_write_json(sum, out)
                                : vg_summary_write_text(sum, out, color ? 1 : 0);
            if (ws != VG_OK && rc == EXIT_OK)
                rc = EXIT_INPUT;
            struct vg_totals t;
            vg_summary_totals(sum, &t);
            double secs = vg_summary_elapsed(sum);
            if (!json && isatty(fileno(stderr)))
                fprintf(stderr, "scanned %llu lines in %.2f s (%.0f lines/s)\n",
                        (unsigned long long)t.lines, secs, secs > 0 ? (double)t.lines / secs : 0.0);
        }
        struct vg_totals t;
        vg_summary_totals(sum, &t);
        if (rc == EXIT_OK && fail_on_attack && t.attack_requests > 0)
            rc = EXIT_ATTACKS;
    }
    vg_summary_free(sum);
    vg_engine_free(eng);
    free(command);
    return rc;
}

/* `vigil parse`: the scan pipeline without detection (formats, counts, parsed records). */
static int cmd_parse(int argc, char **argv)
{
    enum {
        O_FORMAT = 256, O_RECORDS, O_QUIET, O_JSON,
        O_NO_CACHE, O_HELP
    };
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        INPUT_LONG_OPTIONS,
        {"records", required_argument, NULL, O_RECORDS},
        {"threads", required_argument, NULL, O_THREADS},
        {"quiet", no_argument, NULL, O_QUIET},
        {"json", no_argument, NULL, O_JSON},
        {"max-line", required_argument, NULL, O_MAX_LINE},
        {"progress", required_argument, NULL, O_PROGRESS},
        {"chunk-size", required_argument, NULL, O_CHUNK}, /* undocumented: tests */
        {"no-cache", no_argument, NULL, O_NO_CACHE},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    struct vg_engine_config cfg = VG_ENGINE_CONFIG_INIT;
    struct vg_scan_options sopt = VG_SCAN_OPTIONS_INIT;
    const char *records_path = NULL;
    bool quiet = false, json = false, no_cache = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (input_option(c, optarg, &cfg))
            continue;
        int r = run_option(c, optarg, &sopt);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        switch (c) {
        case O_FORMAT:
            cfg.format = optarg;
            break;
        case O_RECORDS:
            records_path = optarg;
            break;
        case O_QUIET:
            quiet = true;
            break;
        case O_JSON:
            json = true;
            break;
        case O_NO_CACHE:
            no_cache = true;
            break;
        case O_HELP:
        case 'h':
            usage_parse(stdout);
            return EXIT_OK;
        default:
            fprintf(stderr, "Try 'vigil help parse'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s parse: no input files (use - for standard input)\n", prog);
        usage_parse(stderr);
        return EXIT_USAGE;
    }
    cfg.no_geo = 1;
    char cache[4096];
    if (!no_cache && default_cache_dir(cache, sizeof cache))
        cfg.cache_dir = cache;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_engine_t *eng = NULL;
    vg_status st = vg_engine_new(&cfg, &eng, &err);
    if (st != VG_OK) {
        print_error(&err, st);
        return st == VG_E_NOMEM ? EXIT_STORE : EXIT_USAGE;
    }
    FILE *records = NULL;
    bool records_stdout = records_path && strcmp(records_path, "-") == 0;
    if (records_path) {
        records = records_stdout ? stdout : fopen(records_path, "w");
        if (!records) {
            fprintf(stderr, "%s: cannot write records to %s: %s\n", prog, records_path,
                    strerror(errno));
            vg_engine_free(eng);
            return EXIT_INPUT;
        }
    }
    FILE *out = records_stdout ? stderr : stdout;
    sopt.parse_only = 1;
    sopt.records = records;
    sopt.diag = stderr;
    struct inputs inputs;
    vg_summary_t *sum = NULL;
    if (!expand_inputs(argc, argv, optind, &inputs)) {
        fprintf(stderr, "%s: out of memory\n", prog);
        st = VG_E_NOMEM;
    } else {
        st = vg_scan(eng, &sopt, inputs.paths, inputs.n, &sum, &err);
    }
    inputs_free(&inputs);
    int rc = st == VG_E_FORMAT ? EXIT_INPUT : exit_for(st);
    if (st != VG_OK && st != VG_E_NOMEM)
        print_error(&err, st);
    if (records && !records_stdout && fclose(records) != 0 && rc == EXIT_OK)
        rc = EXIT_INPUT;
    if (records_stdout && fflush(stdout) != 0 && rc == EXIT_OK)
        rc = EXIT_INPUT;
    if (sum && !quiet) {
        vg_status ws;
        if (json) {
            ws = vg_summary_write_json(sum, out);
        } else {
            ws = vg_summary_write_text(sum, out, 0);
            struct vg_totals t;
            vg_summary_totals(sum, &t);
            double secs = vg_summary_elapsed(sum);
            fprintf(out, "parsed %llu lines in %.3f s (%.0f lines/s)\n",
                    (unsigned long long)t.lines, secs, secs > 0 ? (double)t.lines / secs : 0.0);
        }
        if (ws != VG_OK && rc == EXIT_OK)
            rc = EXIT_INPUT;
    }
    vg_summary_free(sum);
    vg_engine_free(eng);
    return rc;
}

static void print_example_failure(uint32_t id, const char *source, const char *target,
                                  int must_match, void *user)
{
    (void)user;
    /* Security note: rule files may come from anywhere; their text is data. */
    fprintf(stdout, "FAIL rule %u (%s): %s example did not behave: ", id, source,
            must_match ? "match" : "no_match");
    for (const unsigned char *p = (const unsigned char *)target; *p; p++)
        fputc(*p >= 0x20 && *p < 0x7f ? *p : '?', stdout);
    fputc('\n', stdout);
}

/* The Sigma rules that were not translated, one per line (untrusted text made printable). */
static void print_sigma_skipped(FILE *f, const struct vg_sigma_result *res, const char *prefix)
{
    for (size_t i = 0; i < res->n_skipped; i++) {
        const struct vg_sigma_skip *k = &res->skipped[i];
        fputs(prefix, f);
        put_safe(f, k->path);
        if (k->title[0]) {
            fputs(" (", f);
            put_safe(f, k->title);
            fputc(')', f);
        }
        fputs(": ", f);
        put_safe(f, k->reason);
        fputc('\n', f);
    }
}

/* vigil rules import-sigma PATH...: the translated rule file on stdout. */
static int cmd_rules_import_sigma(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "%s rules import-sigma: give a Sigma rule file or directory\n", prog);
        return EXIT_USAGE;
    }
    struct vg_sigma_result res;
    vg_sigma_result_init(&res);
    int rc = sigma_translate_all((const char *const *)argv + 1, (size_t)argc - 1, &res);
    if (rc == EXIT_OK) {
        fwrite(res.yaml, 1, res.yaml_len, stdout);
        printf("# %zu Sigma rules translated into %zu native rules, %zu skipped\n", res.n_rules,
               res.n_native, res.n_skipped);
        print_sigma_skipped(stdout, &res, "# skipped: ");
        if (fflush(stdout) != 0)
            rc = EXIT_INPUT;
    }
    vg_sigma_result_fini(&res);
    return rc;
}

static int cmd_rules(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage_rules(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "import-sigma") == 0)
        return cmd_rules_import_sigma(argc - 1, argv + 1);
    if (strcmp(sub, "import-crs") == 0)
        return cmd_rules_import_crs(argc - 1, argv + 1);
    if (strcmp(sub, "list") != 0 && strcmp(sub, "test") != 0) {
        fprintf(stderr, "%s rules: unknown subcommand '%s'\n", prog, sub);
        usage_rules(stderr);
        return EXIT_USAGE;
    }
    enum { O_RULES = 256, O_NO_BUILTIN, O_PARANOIA, O_SIGMA, O_SKIPPED, O_CRS };
    static const struct option opts[] = {
        {"rules", required_argument, NULL, O_RULES},
        {"no-builtin-rules", no_argument, NULL, O_NO_BUILTIN},
        {"paranoia", required_argument, NULL, O_PARANOIA},
        {"sigma", required_argument, NULL, O_SIGMA},
        {"skipped", no_argument, NULL, O_SKIPPED},
        {"crs", optional_argument, NULL, O_CRS},
        {NULL, 0, NULL, 0},
    };
    const char *crs_dir = NULL;
    struct vg_engine_config cfg = VG_ENGINE_CONFIG_INIT;
    struct rule_opts ro = {{0}, 0};
    struct sigma_opts so = {{0}, 0, NULL, ""};
    bool skipped = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        int r = rule_option(c, optarg, O_RULES, O_NO_BUILTIN, O_PARANOIA, &ro, &cfg);
        if (r == 0 && c == O_SIGMA)
            r = sigma_option(&so, optarg);
        else if (r == 0 && c == O_SKIPPED)
            r = 1, skipped = true;
        else if (r == 0 && c == O_CRS)
            r = crs_option(argc - 1, argv + 1, optarg, &ro, &crs_dir);
        if (r <= 0) {
            if (r == 0)
                usage_rules(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc - 1) {
        fprintf(stderr, "%s rules %s: unexpected argument '%s'\n", prog, sub, argv[optind + 1]);
        return EXIT_USAGE;
    }
    int src = sigma_prepare(&so, &ro, true);
    if (src != EXIT_OK)
        return src;
    cfg.rule_paths = ro.n ? ro.paths : NULL;
    cfg.n_rule_paths = ro.n;
    cfg.no_geo = 1;
    char cache[4096];
    if (default_cache_dir(cache, sizeof cache))
        cfg.cache_dir = cache;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_engine_t *eng = NULL;
    vg_status st = vg_engine_new(&cfg, &eng, &err);
    sigma_done(&so);
    if (st != VG_OK) {
        print_error(&err, st);
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    size_t n = vg_engine_rule_count(eng);
    if (strcmp(sub, "list") == 0) {
        printf("%-8s %-9s %5s %3s %-8s %-40s %s\n", "id", "class", "score", "pl", "view",
               "fields", "message (source)");
        for (size_t i = 0; i < n; i++) {
            struct vg_rule_info ri;
            if (vg_engine_rule_info(eng, i, &ri) != VG_OK)
                continue;
            printf("%-8u %-9s %5d %3d %-8s %-40s ", ri.id, ri.class_name, ri.score, ri.paranoia,
                   ri.transform, ri.fields);
            for (const unsigned char *p = (const unsigned char *)ri.message; *p; p++)
                fputc(*p >= 0x20 && *p != 0x7f ? *p : '?', stdout);
            print_rule_lang(&ri);
            printf(" (%s)\n", ri.source);
        }
        printf("%zu rules, rule set sha256 %s\n", n, vg_engine_ruleset_hash(eng));
        if (so.n) {
            struct vg_sigma_result res;
            vg_sigma_result_init(&res);
            if (sigma_translate_all(so.paths, so.n, &res) == EXIT_OK) {
                printf("sigma: %zu rules translated into %zu native rules, %zu skipped\n",
                       res.n_rules, res.n_native, res.n_skipped);
                if (skipped)
                    print_sigma_skipped(stdout, &res, "skipped: ");
            }
            vg_sigma_result_fini(&res);
        }
        if (crs_dir) {
            size_t n_crs = 0, n_skip = 0;
            struct vg_error cerr;
            memset(&cerr, 0, sizeof cerr);
            if (vg_crs_translate(crs_dir, NULL, &n_crs, &n_skip, skipped ? print_crs_skip : NULL,
                                 (void *)"skipped: ", &cerr) == VG_OK)
                printf("crs: %zu rules imported (all paranoia levels), %zu directives skipped\n",
                       n_crs, n_skip);
        }
    } else {
        size_t checked = 0, failed = 0;
        st = vg_engine_test_rules(eng, print_example_failure, NULL, &checked, &failed);
        if (st != VG_OK) {
            fprintf(stderr, "%s: %s\n", prog, vg_strerror(st));
            rc = EXIT_USAGE;
        } else {
            printf("%zu rules, %zu examples checked, %zu failed\n", n, checked, failed);
            rc = failed ? EXIT_ATTACKS : EXIT_OK;
        }
    }
    vg_engine_free(eng);
    return rc;
}

static int cmd_explain(int argc, char **argv)
{
    enum {
        O_FORMAT = 256, O_RULES, O_NO_BUILTIN, O_PARANOIA, O_THRESHOLD, O_GEO, O_NO_GEO, O_JSON,
        O_LINE, O_NO_CACHE, O_HELP, O_SIGMA, O_CRS_EXPLAIN
    };
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        {"rules", required_argument, NULL, O_RULES},
        {"no-builtin-rules", no_argument, NULL, O_NO_BUILTIN},
        {"paranoia", required_argument, NULL, O_PARANOIA},
        {"threshold", required_argument, NULL, O_THRESHOLD},
        {"geo", required_argument, NULL, O_GEO},
        {"no-geo", no_argument, NULL, O_NO_GEO},
        {"json", no_argument, NULL, O_JSON},
        {"line", required_argument, NULL, O_LINE},
        {"no-cache", no_argument, NULL, O_NO_CACHE},
        {"help", no_argument, NULL, O_HELP},
        {"sigma", required_argument, NULL, O_SIGMA},
        {"allow", required_argument, NULL, O_ALLOW_FILE},
        {"crs", optional_argument, NULL, O_CRS_EXPLAIN},
        {NULL, 0, NULL, 0},
    };
    struct vg_engine_config cfg = VG_ENGINE_CONFIG_INIT;
    struct rule_opts ro = {{0}, 0};
    struct sigma_opts so = {{0}, 0, NULL, ""};
    const char *crs_dir = NULL;
    const char *geos[MAX_MULTI];
    size_t n_geos = 0;
    bool json = false, no_cache = false;
    unsigned long long line_no = 0;
    unsigned long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = rule_option(c, optarg, O_RULES, O_NO_BUILTIN, O_PARANOIA, &ro, &cfg);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        switch (c) {
        case O_FORMAT:
            cfg.format = optarg;
            break;
        case O_THRESHOLD:
            if (!parse_uint(optarg, 1000000, &v) || v < 1) {
                fprintf(stderr, "%s: --threshold wants a positive number, not '%s'\n", prog,
                        optarg);
                return EXIT_USAGE;
            }
            cfg.threshold = (int)v;
            break;
        case O_GEO:
            if (n_geos == MAX_MULTI) {
                fprintf(stderr, "%s: too many --geo options\n", prog);
                return EXIT_USAGE;
            }
            geos[n_geos++] = optarg;
            break;
        case O_NO_GEO:
            cfg.no_geo = 1;
            break;
        case O_JSON:
            json = true;
            break;
        case O_NO_CACHE:
            no_cache = true;
            break;
        case O_SIGMA:
            if (sigma_option(&so, optarg) < 0)
                return EXIT_USAGE;
            break;
        case O_CRS_EXPLAIN:
            if (crs_option(argc, argv, optarg, &ro, &crs_dir) < 0)
                return EXIT_USAGE;
            break;
        case O_LINE: {
            char *end;
            errno = 0;
            line_no = strtoull(optarg, &end, 10);
            if (errno || *end || line_no == 0 || *optarg == '-') {
                fprintf(stderr, "%s: --line wants a line number from 1, not '%s'\n", prog,
                        optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case O_HELP:
        case 'h':
            usage_explain(stdout);
            return EXIT_OK;
        default:
            usage_explain(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "%s explain: give exactly one LINE, '-' or (with --line) FILE\n", prog);
        usage_explain(stderr);
        return EXIT_USAGE;
    }
    const char *arg = argv[optind];
    int src = sigma_prepare(&so, &ro, true);
    if (src != EXIT_OK)
        return src;
    cfg.rule_paths = ro.n ? ro.paths : NULL;
    cfg.n_rule_paths = ro.n;
    cfg.geo_paths = n_geos ? geos : NULL;
    cfg.n_geo_paths = n_geos;
    char cache[4096];
    if (!no_cache && default_cache_dir(cache, sizeof cache))
        cfg.cache_dir = cache;
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_engine_t *eng = NULL;
    vg_status st = vg_engine_new(&cfg, &eng, &err);
    sigma_done(&so);
    if (st != VG_OK) {
        print_error(&err, st);
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    if (line_no) {
        st = vg_explain_file_line(eng, arg, line_no, stdout, json ? 1 : 0, &err);
        if (st != VG_OK) {
            print_error(&err, st);
            rc = st == VG_E_INVAL ? EXIT_USAGE : EXIT_INPUT;
        }
    } else if (strcmp(arg, "-") == 0) {
        char *buf = NULL;
        size_t cap = 0;
        ssize_t n;
        bool first = true;
        while ((n = getline(&buf, &cap, stdin)) > 0) {
            if (!first && !json)
                fputc('\n', stdout);
            first = false;
            st = vg_explain_line(eng, (const uint8_t *)buf, (size_t)n, stdout, json ? 1 : 0);
            if (st != VG_OK) {
                fprintf(stderr, "%s: %s\n", prog, vg_strerror(st));
                rc = EXIT_INPUT;
                break;
            }
        }
        free(buf);
    } else {
        st = vg_explain_line(eng, (const uint8_t *)arg, strlen(arg), stdout, json ? 1 : 0);
        if (st != VG_OK) {
            fprintf(stderr, "%s: %s\n", prog, vg_strerror(st));
            rc = EXIT_INPUT;
        }
    }
    vg_engine_free(eng);
    return rc;
}

static void usage_report(FILE *f)
{
    fprintf(f,
            "usage: vigil report [options]\n"
            "\n"
            "Summarizes what the store holds, per month and per site (the logged virtual host),\n"
            "in the four counting units: attack requests (flagged log lines), incidents (runs of\n"
            "attack requests from one source against one site), sources (client addresses) and\n"
            "campaigns (incidents linked by a shared tool, payload family, network or AS at\n"
            "close times). Each is broken down by class, country and AS of the client address,\n"
            "and outcome (possible success 2xx/3xx, refused 4xx, failed 5xx), with networks\n"
            "(/24, /48), top sources, top targeted paths, and every campaign with its members\n"
            "and why they were linked.\n"
            "\n"
            "  --db PATH          the store (default ./vigil.db)\n"
            "  --since WHEN       from this time: YYYY-MM-DD, YYYY-MM, YYYY-MM-DDTHH:MM:SSZ or\n"
            "                     unix seconds\n"
            "  --until WHEN       up to this time (a day or month is included whole)\n"
            "  --site HOST        one site (- for requests logged without a host)\n"
            "  --class CLASS      sqli, xss, traversal, rfi, cmdi, code, ssti, probe, tool, scan,\n"
            "                     bruteforce, flood\n"
            "  --country CC       client addresses of one country (ISO code)\n"
            "  --source ADDR|CIDR one address or network (IPv4 or IPv6)\n"
            "  --labels FILE      show these labels (\"CIDR label\" lines) instead of the stored ones\n"
            "  --top N            rows in the top lists (default 10; 0 = all)\n"
            "  --json             one JSON document instead of text\n"
            "\n"
            "Colour is used on a terminal unless NO_COLOR is set. Countries, networks and AS are\n"
            "those of the client addresses as logged, from the databases named at the end of the\n"
            "report, not necessarily where the people are.\n"
            "\n"
            "exit status: 0 ok, 2 usage (a bad filter), 4 store error (no store, unreadable).\n");
}

static int cmd_report(int argc, char **argv)
{
    enum { O_DB = 256, O_SINCE, O_UNTIL, O_SITE, O_CLASS, O_COUNTRY, O_SOURCE, O_LABELS, O_TOP,
           O_JSON, O_HELP };
    static const struct option opts[] = {
        {"db", required_argument, NULL, O_DB},
        {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL},
        {"site", required_argument, NULL, O_SITE},
        {"class", required_argument, NULL, O_CLASS},
        {"country", required_argument, NULL, O_COUNTRY},
        {"source", required_argument, NULL, O_SOURCE},
        {"labels", required_argument, NULL, O_LABELS},
        {"top", required_argument, NULL, O_TOP},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    struct vg_report_options ro = VG_REPORT_OPTIONS_INIT;
    ro.db_path = "vigil.db";
    unsigned long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DB:
            ro.db_path = optarg;
            break;
        case O_SINCE:
            ro.since = optarg;
            break;
        case O_UNTIL:
            ro.until = optarg;
            break;
        case O_SITE:
            ro.site = optarg;
            break;
        case O_CLASS:
            ro.class_name = optarg;
            break;
        case O_COUNTRY:
            ro.country = optarg;
            break;
        case O_SOURCE:
            ro.source = optarg;
            break;
        case O_LABELS:
            ro.labels_path = optarg;
            break;
        case O_TOP:
            if (!parse_uint(optarg, 1000000, &v)) {
                fprintf(stderr, "%s: --top wants a number (0 = all), not '%s'\n", prog, optarg);
                return EXIT_USAGE;
            }
            ro.top = v ? (unsigned)v : VG_REPORT_ALL;
            break;
        case O_JSON:
            ro.json = 1;
            break;
        case O_HELP:
        case 'h':
            usage_report(stdout);
            return EXIT_OK;
        default:
            fprintf(stderr, "Try 'vigil help report'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s report: unexpected argument '%s'\n", prog, argv[optind]);
        return EXIT_USAGE;
    }
    ro.color = !ro.json && isatty(fileno(stdout)) && !getenv("NO_COLOR");
    struct vg_error err;
    memset(&err, 0, sizeof err);
    vg_status st = vg_report(&ro, stdout, &err);
    if (st != VG_OK) {
        print_error(&err, st);
        return st == VG_E_INVAL || st == VG_E_IO ? (st == VG_E_IO ? EXIT_INPUT : EXIT_USAGE)
                                                : EXIT_STORE;
    }
    if (fflush(stdout) != 0)
        return EXIT_INPUT;
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "scan") == 0)
        return cmd_scan(argc - 1, argv + 1);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "parse") == 0)
        return cmd_parse(argc - 1, argv + 1);
    if (strcmp(cmd, "explain") == 0)
        return cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("vigil %s\n", vg_version());
        return EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2 && strcmp(argv[2], "scan") == 0)
            usage_scan(stdout);
        else if (argc > 2 && strcmp(argv[2], "rules") == 0)
            usage_rules(stdout);
        else if (argc > 2 && strcmp(argv[2], "report") == 0)
            usage_report(stdout);
        else if (argc > 2 && strcmp(argv[2], "parse") == 0)
            usage_parse(stdout);
        else if (argc > 2 && strcmp(argv[2], "explain") == 0)
            usage_explain(stdout);
        else
            usage_main(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    usage_main(stderr);
    return EXIT_USAGE;
}
