#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/parse.sh: how fast vigil reads each log format (parse only: `vigil parse`, no
# detection), on one thread and on two, beside GoAccess 1.7 on the same combined file, in one run.
#
#   bench/parse.sh                    writes bench/out/parse.md (and prints it)
#   LINES=500000 RUNS=5 bench/parse.sh
#
# Environment:
#   LINES=1000000  lines per format file (bench/data/parse/*.log, generated once, cached)
#   RUNS=5         timed runs per measurement; the best and the median are reported
#   VIGIL=PATH     the vigil binary (default build/vigil, built if absent)
#   CORPUS=DIR     source of the lines (default ../shared/corpus/dev)
#   SKIP_GOACCESS=1, SKIP_JANSSON=1   leave those comparisons out
#
# Every format file carries the same requests (the dev corpus's combined lines, cycled, written
# in each format by a converter below; the JSON file cycles the corpus's own escape=json log).
# vigil's figure is the scan's own clock (vg_summary_elapsed: reading, decompression, framing,
# parsing, counting; the engine's start-up is excluded, and reported apart); the process's CPU
# time is given too. GoAccess is timed as a whole process (its start-up is negligible). Files
# are read once before timing so that every run reads from the page cache.
# Also: the hand-written JSON scanner against jansson (bench/json_jansson.c), one thread.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
LINES=${LINES:-1000000}
RUNS=${RUNS:-5}
CORPUS=${CORPUS:-$root/../shared/corpus/dev}
data=$here/data/parse
out=$here/out
mkdir -p "$data" "$out"
say() { printf '%s\n' "parse.sh: $*" >&2; }
die() { say "$*"; exit 1; }

VIGIL=${VIGIL:-$root/build/vigil}
if [ ! -x "$VIGIL" ]; then
  [ "$VIGIL" = "$root/build/vigil" ] || die "no vigil binary at $VIGIL"
  say "building vigil in $root/build"
  cmake -S "$root" -B "$root/build" >&2
  cmake --build "$root/build" -j"$(nproc)" >&2
fi
[ -f "$CORPUS/access.log.gz" ] && [ -f "$CORPUS/access.jsonl.gz" ] ||
  die "no corpus at $CORPUS (access.log.gz, access.jsonl.gz)"
export VIGIL_CACHE_DIR=${VIGIL_CACHE_DIR:-$data/rule-cache}

# ---- the files --------------------------------------------------------------------------------
stamp=$data/.made-$LINES
if [ ! -f "$stamp" ]; then
  say "writing $LINES lines in each format into $data"
  python3 - "$CORPUS" "$data" "$LINES" <<'PY'
import gzip, itertools, json, os, re, sys
corpus, data, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
comb = gzip.open(os.path.join(corpus, "access.log.gz"), "rb").read().splitlines()
jl = gzip.open(os.path.join(corpus, "access.jsonl.gz"), "rb").read().splitlines()
pat = re.compile(rb'^(\S+) \S+ (\S+) \[(\d\d)/(\w{3})/(\d{4}):(\d\d:\d\d:\d\d) ([+-]\d{4})\] '
                 rb'"((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"')
MON = {m: i for i, m in enumerate([b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul",
                                   b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"], 1)}
recs = []
for l in comb:
    m = pat.match(l)
    if m:
        recs.append(m.groups())
def unesc(b):  # nginx \xHH -> bytes
    return re.sub(rb"\\x([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), b)
def jstr(b):
    return json.dumps(unesc(b).decode("utf-8", "replace"))[1:-1].encode()
def split(req):
    p = req.split(b" ")
    if len(p) >= 3:
        return p[0], b" ".join(p[1:-1]), p[-1]
    return b"GET", req or b"/", b"HTTP/1.1"
def conv(fmt, g, i):
    ip, user, dd, mon, yyyy, hms, off, req, st, by, ref, ua = g
    iso = b"%s-%02d-%sT%s+00:00" % (yyyy, MON[mon], dd, hms)
    meth, target, proto = split(unesc(req).replace(b" ", b"%20") if fmt == "w3c" else req)
    if fmt == "vhost":
        return b"www.example.test:443 %s - %s [%s/%s/%s:%s %s] \"%s\" %s %s \"%s\" \"%s\"" % (
            ip, user, dd, mon, yyyy, hms, off, req, st, by, ref, ua)
    if fmt == "w3c":
        path, _, q = target.partition(b"?")
        uaw = unesc(ua).replace(b" ", b"+") if ua != b"-" else b"-"
        return b"%s-%02d-%s %s 10.0.0.5 %s %s %s 443 - %s %s %s %s 0 0 15" % (
            yyyy, MON[mon], dd, hms, meth, path or b"/", q or b"-", ip, uaw, ref, st)
    if fmt == "haproxy":
        return (b"%s %s %s lb1 haproxy[1402]: %s:40122 [%s/%s/%s:%s.123] www~ www_be/web1 "
                b"0/0/1/12/13 %s %s - - ---- 10/10/2/1/0 0/0 {www.example.test|%s} \"%s\"") % (
            mon, dd, hms, ip, dd, mon, yyyy, hms, st, by if by != b"-" else b"0",
            unesc(ua).replace(b"|", b"#7c").replace(b"}", b"#7d")[:128],
            unesc(req).replace(b'"', b"#22"))
    if fmt == "caddy":
        return (b'{"level":"info","ts":%d.%03d,"logger":"http.log.access","msg":"handled request",'
                b'"request":{"remote_ip":"%s","remote_port":"40122","client_ip":"%s","proto":"%s",'
                b'"method":"%s","host":"www.example.test","uri":"%s","headers":{"User-Agent":["%s"],'
                b'"Referer":["%s"]}},"bytes_read":0,"user_id":"","duration":0.0012,"size":%s,'
                b'"status":%s}') % (1785542400 + i, i % 1000, ip, ip, jstr(proto), jstr(meth),
                                    jstr(target), jstr(ua), jstr(ref),
                                    by if by != b"-" else b"0", st)
    if fmt == "traefik":
        return (b'{"ClientAddr":"%s:40122","ClientHost":"%s","ClientPort":"40122","ClientUsername":"-",'
                b'"DownstreamContentSize":%s,"DownstreamStatus":%s,"Duration":1234567,'
                b'"RequestHost":"www.example.test","RequestMethod":"%s","RequestPath":"%s",'
                b'"RequestProtocol":"%s","StartUTC":"%s","entryPointName":"web","level":"info",'
                b'"msg":"","request_User-Agent":"%s","request_Referer":"%s","time":"%s"}') % (
            ip, ip, by if by != b"-" else b"0", st, jstr(meth), jstr(target), jstr(proto),
            iso[:-6] + b"Z", jstr(ua), jstr(ref), iso)
    raise ValueError(fmt)
def write(name, lines):
    with open(os.path.join(data, name), "wb") as f:
        for l in itertools.islice(itertools.cycle(lines), n):
            f.write(l + b"\n")
write("combined.log", comb)
write("json.log", jl)
for fmt in ("vhost", "w3c", "haproxy", "caddy", "traefik"):
    lines = [conv(fmt, g, i) for i, g in enumerate(recs)]
    if fmt == "w3c":
        lines = [b"#Software: IIS\r", b"#Fields: date time s-ip cs-method cs-uri-stem "
                 b"cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status "
                 b"sc-substatus sc-win32-status time-taken"] + lines
    write(fmt + ".log", lines)
PY
  touch "$stamp"
fi

# ---- measuring ----------------------------------------------------------------------------------
results=$out/parse.tsv
: > "$results"
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# vigil_run FORMAT-NAME FILE THREADS ARGS...: RUNS runs; appends "name threads best median cpu"
vigil_run() {
  name=$1 file=$2 threads=$3
  shift 3
  cat "$file" > /dev/null
  rates=""
  cpu=""
  i=0
  while [ $i -lt "$RUNS" ]; do
    r=$(/usr/bin/time -o "$data/time.txt" -f '%U %S' "$VIGIL" parse --progress never \
          --threads "$threads" "$@" "$file" 2>/dev/null |
        sed -n 's/^parsed \([0-9]*\) lines in \([0-9.]*\) s.*/\1 \2/p')
    rates="$rates $(echo "$r" | awk '{printf "%.0f", $1 / $2}')"
    cpu="$cpu $(awk '{print $1 + $2}' "$data/time.txt")"
    i=$((i + 1))
  done
  best=$(for x in $rates; do echo "$x"; done | sort -n | tail -1)
  med=$(for x in $rates; do echo "$x"; done | median)
  cpum=$(for x in $cpu; do echo "$x"; done | median)
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$threads" "$best" "$med" "$cpum" >> "$results"
  say "$name, $threads thread(s): best $best lines/s, median $med, process CPU $cpum s"
}

startup=$( /usr/bin/time -f '%e' "$VIGIL" parse --quiet --progress never /dev/null 2>&1 | tail -1)
# CPU the engine's start-up takes (subtracted from the process CPU to give the scan's own)
startcpu=$( /usr/bin/time -f '%U %S' "$VIGIL" parse --quiet --progress never /dev/null 2>&1 |
            tail -1 | awk '{print $1 + $2}')
for t in 1 2; do
  vigil_run combined "$data/combined.log" $t --format combined
  vigil_run "combined (auto)" "$data/combined.log" $t
  vigil_run vhost_combined "$data/vhost.log" $t --format vhost_combined
  vigil_run "apache: LogFormat" "$data/vhost.log" $t \
    --format 'apache:%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"'
  vigil_run "json (nginx escape=json)" "$data/json.log" $t --format json --max-line 1048576
  vigil_run caddy "$data/caddy.log" $t --format caddy
  vigil_run traefik "$data/traefik.log" $t --format traefik
  vigil_run "w3c (IIS)" "$data/w3c.log" $t --format w3c
  vigil_run haproxy "$data/haproxy.log" $t --format haproxy:Host,User-Agent
done

ga=""
if [ "${SKIP_GOACCESS:-0}" != 1 ] && command -v goaccess >/dev/null 2>&1; then
  gv=$(goaccess --version 2>/dev/null | sed -n 's/^GoAccess - \([0-9][0-9.]*[0-9]\).*/\1/p' | head -1)
  cat "$data/combined.log" > /dev/null
  walls=""
  i=0
  while [ $i -lt "$RUNS" ]; do
    w=$( /usr/bin/time -f '%e' goaccess "$data/combined.log" --log-format=COMBINED --no-progress \
          --no-global-config -o "$data/goaccess.json" 2>&1 >/dev/null | tail -1)
    walls="$walls $w"
    i=$((i + 1))
  done
  gbest=$(for x in $walls; do echo "$x"; done | sort -n | head -1)
  gmed=$(for x in $walls; do echo "$x"; done | median)
  ga="GoAccess ${gv:-?}"
  printf '%s\t1\t%.0f\t%.0f\t-\n' "$ga" "$(echo "$LINES $gbest" | awk '{print $1 / $2}')" \
    "$(echo "$LINES $gmed" | awk '{print $1 / $2}')" >> "$results"
  say "$ga: best $(echo "$LINES $gbest" | awk '{printf "%.0f", $1 / $2}') lines/s"
fi

jans=""
if [ "${SKIP_JANSSON:-0}" != 1 ] && pkg-config --exists jansson 2>/dev/null; then
  lib=$(dirname "$VIGIL")/libvigil.a
  if [ -f "$lib" ]; then
    cc -O2 -std=c11 -D_GNU_SOURCE -I"$root/include" -I"$root/src" "$here/json_jansson.c" "$lib" \
      $(pkg-config --cflags --libs jansson) -lhs -lpcre2-8 -lmaxminddb -lsqlite3 -lsodium -lz \
      -lzstd -lyaml -lpthread -lm -o "$data/json_jansson"
    head -n 200000 "$data/json.log" > "$data/json-200k.log"
    jans=$("$data/json_jansson" "$data/json-200k.log" "$RUNS")
  else
    say "no $lib: JSON scanner vs jansson left out"
  fi
fi

# ---- the report -----------------------------------------------------------------------------
{
  echo "# vigil parse throughput ($(date -u +%Y-%m-%d), $(nproc) CPUs, $LINES lines per file)"
  echo
  echo "\`vigil parse\` (read, frame, parse, count; no detection), lines/s, best / median of $RUNS runs;"
  echo "engine start-up (excluded): ${startup} s. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| format | 1 thread best | 1 thread median | 2 threads best | 2 threads median | 2/1 (best) | lines per CPU-second |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' -v lines="$LINES" -v sc="$startcpu" '
              $2 == 1 {b1[$1] = $3; m1[$1] = $4; c1[$1] = $5; order[++n] = $1}
              $2 == 2 {b2[$1] = $3; m2[$1] = $4}
              END {for (i = 1; i <= n; i++) { f = order[i];
                     cps = (c1[f] == "-" || c1[f] - sc <= 0) ? "-" : sprintf("%d", lines / (c1[f] - sc));
                     if (f in b2) printf "| %s | %d | %d | %d | %d | %.2f | %s |\n", f, b1[f], m1[f], b2[f], m2[f], b2[f] / b1[f], cps;
                     else printf "| %s | %d | %d | - | - | - | %s |\n", f, b1[f], m1[f], cps } }' "$results"
  echo
  echo "lines per CPU-second: lines / (median process CPU at 1 thread - start-up CPU ${startcpu} s): the"
  echo "reader, worker and consumer together; independent of the machine's other load."
  if [ -n "$ga" ]; then
    echo
    awk -F'\t' -v ga="$ga" '$1 == "combined" && $2 == 1 {v = $3} $1 == ga {g = $3}
        END {printf "vigil (combined, 1 thread) / %s on the same file: %.1fx\n", ga, v / g}' "$results"
  fi
  if [ -n "$jans" ]; then
    echo
    echo "JSON lines, one thread, 200,000 lines of the corpus's escape=json log, CPU time:"
    echo
    echo "| method | lines/s |"
    echo "|---|---:|"
    echo "$jans" | awk -F'\t' '{printf "| %s | %s |\n", $1, $2}'
  fi
} > "$out/parse.md"
cat "$out/parse.md"
