#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/run.sh: vigil's throughput beside the physical floor and its peers, in one run.
#
#   bench/run.sh                      from anywhere; writes bench/out/throughput.md (+ stdout)
#   LINES=500000 RUNS=5 bench/run.sh  a smaller log, more repetitions
#
# Environment:
#   LINES=2000000   lines of the generated combined log (bench/data/big-LINES.log, cached)
#   RUNS=3          timed runs per measurement; min and median are reported
#   VIGIL=PATH      the vigil binary (default build/vigil of the source tree, built if absent)
#   MSC_LINES=20000 lines given to ModSecurity (it is ~1,000 times slower)
#   CORPUS=DIR      source of the big log (default ../shared/corpus/dev; else examples/access.log)
#   PEERS=DIR       the peers harness (default ../shared/peers)
#   SKIP_PEERS=1    vigil and the physical floor only (no GoAccess, no ModSecurity)
#
# The big log cycles through the source's lines, varying the client addresses at each cycle
# (so sources keep growing, as in a long real log) and giving increasing timestamps (one line
# every 10 ms from 2026-11-01, as ../shared/peers/make_big.sh does). Deterministic.
#
# Measured (each RUNS times, with /usr/bin/time -f '%e %U %S %M'): vigil scan --no-store
# --quiet with --events /dev/null and without --events, at --threads 1 and 2; vigil on half the
# lines (peak RSS must not grow with the input); vigil with and without --crs on one pass over
# the source as it comes (the big log's cycles repeat every request, which the request memo
# answers); the physical floor (cat, wc -l, a read+memchr line splitter, 10 passes per run);
# GoAccess 1.7; ModSecurity 3 + OWASP CRS at paranoia 1 on the first MSC_LINES lines (its
# processing time as it reports it, rule loading excluded).
# Missing Debian packages are installed (sudo when not root). Outputs go to bench/out/ and
# bench/data/ (both git-ignored).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
LINES=${LINES:-2000000}
RUNS=${RUNS:-3}
MSC_LINES=${MSC_LINES:-20000}
CORPUS=${CORPUS:-$root/../shared/corpus/dev}
PEERS=${PEERS:-$root/../shared/peers}
SKIP_PEERS=${SKIP_PEERS:-0}
data=$here/data
out=$here/out
mkdir -p "$data" "$out"

say() { printf '%s\n' "run.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# ---- packages -------------------------------------------------------------------------------
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot install packages"
  SUDO=sudo
fi
apt_updated=0
apt_update() {
  [ "$apt_updated" = 1 ] && return 0
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  apt_updated=1
}
apt_install() { # apt_install PKG...: installs those not installed yet
  need=""
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
  done
  [ -n "$need" ] || return 0
  say "installing$need"
  # package lists are missing on a fresh machine
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then apt_update; fi
  # (apt's output goes to stderr: stdout carries the report only)
  # shellcheck disable=SC2086
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >&2; then
    apt_update
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >&2
  fi
}
pkgs="time python3 gcc make"
[ "$SKIP_PEERS" = 1 ] || pkgs="$pkgs goaccess libmodsecurity-dev modsecurity-crs libjansson-dev pkg-config"
# shellcheck disable=SC2086
apt_install $pkgs

# ---- vigil ----------------------------------------------------------------------------------
VIGIL=${VIGIL:-$root/build/vigil}
if [ ! -x "$VIGIL" ]; then
  [ "$VIGIL" = "$root/build/vigil" ] || die "no vigil binary at $VIGIL"
  say "building vigil in $root/build"
  cmake -S "$root" -B "$root/build" >&2
  cmake --build "$root/build" -j"$(nproc)" --target vigil >&2
fi

# ---- the big log ----------------------------------------------------------------------------
if [ -f "$CORPUS/access.log.gz" ]; then src=$CORPUS/access.log.gz; srcname=corpus-$(basename "$CORPUS")
elif [ -f "$CORPUS/access.log" ]; then src=$CORPUS/access.log; srcname=corpus-$(basename "$CORPUS")
else src=$root/examples/access.log; srcname=examples
fi
[ -f "$src" ] || die "no source log ($CORPUS/access.log[.gz] or examples/access.log)"
big=$data/big-$srcname-$LINES.log
half=$data/big-$srcname-$LINES.half.log
if [ ! -f "$big" ]; then
  say "making $big from $src"
  python3 - "$src" "$big.tmp" "$LINES" <<'PY'
import datetime, gzip, ipaddress, re, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, "rb") as f:
    gz = f.read(2) == b"\x1f\x8b"
with (gzip.open(src, "rb") if gz else open(src, "rb")) as f:
    lines = [l.rstrip(b"\n") for l in f]
pat = re.compile(rb"^(\S+)( \S+ \S+ )\[[^\]]*\](.*)$")
parsed = []
for l in lines:
    m = pat.match(l)
    if not m:
        parsed.append((None, l))  # kept as is: a malformed line stays malformed
        continue
    ip, mid, rest = m.groups()
    try:
        a = ipaddress.ip_address(ip.decode("ascii"))
    except ValueError:
        a = None
    parsed.append(((a, ip, mid, rest), None))
t0 = datetime.datetime(2026, 11, 1)
step = datetime.timedelta(milliseconds=10)
L = len(parsed)
with open(out, "wb", buffering=1 << 20) as f:
    buf = []
    for i in range(n):
        rec, raw = parsed[i % L]
        if rec is None:
            buf.append(raw)
        else:
            a, ip, mid, rest = rec
            cyc = i // L
            if a is not None and a.version == 4 and cyc:
                o = a.packed
                ip = b"%d.%d.%d.%d" % (o[0], (o[1] + cyc // 256) % 256, (o[2] + cyc) % 256, o[3])
            elif a is not None and a.version == 6 and cyc:
                ip = str(ipaddress.IPv6Address((int(a) + (cyc << 64)) % (1 << 128))).encode()
            ts = (t0 + step * i).strftime("%d/%b/%Y:%H:%M:%S +0000").encode()
            buf.append(ip + mid + b"[" + ts + b"]" + rest)
        if len(buf) >= 65536:
            f.write(b"\n".join(buf) + b"\n")
            buf = []
    if buf:
        f.write(b"\n".join(buf) + b"\n")
PY
  mv "$big.tmp" "$big"
fi
NB=$(wc -l < "$big")
NH=$((NB / 2))
[ -f "$half" ] || head -n "$NH" "$big" > "$half"
MB=$(du -m "$big" | cut -f1)
say "input: $big ($NB lines, $MB MB)"

# ---- timing helpers -------------------------------------------------------------------------
T=$out/timings.tsv
printf 'tool\trun\tlines\twall_s\tuser_s\tsys_s\tmaxrss_kb\n' > "$T"
: > "$out/stderr.log"

timed() { # timed NAME LINES CMD...: RUNS runs of CMD under /usr/bin/time, stdout discarded
  name=$1; lines=$2; shift 2
  i=1
  while [ "$i" -le "$RUNS" ]; do
    if ! /usr/bin/time -o "$out/.t" -f '%e %U %S %M' "$@" >/dev/null 2>>"$out/stderr.log"; then
      die "$name failed (see $out/stderr.log): $*"
    fi
    read -r e u s m < "$out/.t"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$i" "$lines" "$e" "$u" "$s" "$m" >> "$T"
    say "$name run $i: ${e}s wall, ${u}s user, ${s}s sys, ${m} KB"
    i=$((i + 1))
  done
}

cat "$big" "$half" > /dev/null # page cache

# ---- vigil ----------------------------------------------------------------------------------
# one untimed run with the JSON summary: it warms up and says what vigil counted
"$VIGIL" scan --no-store --json --events /dev/null --threads 2 "$big" > "$out/vigil-summary.json" \
  2>>"$out/stderr.log" || die "vigil scan failed (see $out/stderr.log)"
vsum=$(python3 - "$out/vigil-summary.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1])).get("totals", {})
print("vigil counted %s lines, %s requests, %s malformed, %s attack requests from %s sources"
      % tuple(t.get(k, "?") for k in ("lines", "requests", "malformed", "attack_requests",
                                      "sources")))
PY
)
say "$vsum"
for th in 1 2; do
  timed "vigil --threads $th --events /dev/null" "$NB" \
    "$VIGIL" scan --no-store --quiet --events /dev/null --threads "$th" "$big"
done
for th in 1 2; do
  timed "vigil --threads $th (no events)" "$NB" \
    "$VIGIL" scan --no-store --quiet --threads "$th" "$big"
done
# with the OWASP CRS rules translated at start (Debian's modsecurity-crs) beside the built-in ones
if [ -d /usr/share/modsecurity-crs/rules ]; then
  for th in 1 2; do
    timed "vigil --crs --threads $th --events /dev/null" "$NB" \
      "$VIGIL" scan --no-store --quiet --crs --events /dev/null --threads "$th" "$big"
  done
fi
timed "vigil --threads 2 --events /dev/null (half input)" "$NH" \
  "$VIGIL" scan --no-store --quiet --events /dev/null --threads 2 "$half"
# One pass over the source as it comes: the big log repeats it, so after its first cycle every
# request is one the request memo has seen (docs/rules.md); here only the corpus's own repeats.
once=$data/once-$srcname.log
if [ ! -f "$once" ]; then
  case $src in
    *.gz) gzip -dc "$src" > "$once.tmp" ;;
    *) cp "$src" "$once.tmp" ;;
  esac
  mv "$once.tmp" "$once"
fi
NO=$(wc -l < "$once")
timed "vigil --threads 1 --events /dev/null (source once)" "$NO" \
  "$VIGIL" scan --no-store --quiet --events /dev/null --threads 1 "$once"
if [ -d /usr/share/modsecurity-crs/rules ]; then
  timed "vigil --crs --threads 1 --events /dev/null (source once)" "$NO" \
    "$VIGIL" scan --no-store --quiet --crs --events /dev/null --threads 1 "$once"
fi

# ---- physical floor ---------------------------------------------------------------------------
ls_src=$PEERS/linesplit.c
if [ -f "$ls_src" ]; then
  cc -O2 -o "$data/linesplit" "$ls_src"
fi
# shellcheck disable=SC2016 # $1, $2: the inner shell's arguments
timed "cat (x10)" $((NB * 10)) sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do cat "$1"; done' sh "$big"
# shellcheck disable=SC2016
timed "wc -l (x10)" $((NB * 10)) sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do wc -l "$1"; done' sh "$big"
if [ -x "$data/linesplit" ]; then
  # shellcheck disable=SC2016
  timed "linesplit read+memchr (x10)" $((NB * 10)) \
    sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do "$2" "$1"; done' sh "$big" "$data/linesplit"
else
  say "no $ls_src: linesplit skipped"
fi

# ---- peers ------------------------------------------------------------------------------------
notes=""
if [ "$SKIP_PEERS" != 1 ]; then
  gv=$(goaccess --version 2>/dev/null | sed -n 's/^GoAccess - \([0-9][0-9.]*[0-9]\).*/\1/p' | head -1)
  timed "GoAccess ${gv:-?}" "$NB" \
    goaccess "$big" --log-format=COMBINED --no-progress --no-global-config -o "$data/goaccess.json"

  if [ -f "$PEERS/msc_replay.c" ]; then
    # a writable copy (shared/ may be read-only); -p keeps mtimes so make rebuilds only on change
    mkdir -p "$data/peers"
    cp -rp "$PEERS/." "$data/peers/"
    chmod -R u+w "$data/peers"
    rm -rf "$data/peers/data" "$data/peers/out"
    # msc_conf.sh fetches the v3 modsecurity.conf with apt-get download: it needs package lists
    ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt_update
    make -s -C "$data/peers" build/msc_replay build/msc/modsecurity.conf >>"$out/stderr.log" 2>&1 \
      || die "building the ModSecurity harness failed (see $out/stderr.log)"
    head -n "$MSC_LINES" "$big" > "$data/big.msc.log"
    i=1
    while [ "$i" -le "$RUNS" ]; do
      (cd "$data/peers" && /usr/bin/time -o "$out/.t" -f '%e %U %S %M' \
        build/msc_replay -q -p 1 -m build/msc/modsecurity.conf "$data/big.msc.log") \
        >/dev/null 2>"$out/.msc" || die "msc_replay failed: $(cat "$out/.msc")"
      cat "$out/.msc" >> "$out/stderr.log"
      proc=$(sed -n 's/.*proc_s=\([0-9.]*\) proc_cpu_s=\([0-9.]*\).*/\1 \2/p' "$out/.msc")
      load=$(sed -n 's/.*load_s=\([0-9.]*\).*/\1/p' "$out/.msc")
      [ -n "$proc" ] || die "msc_replay printed no proc_s= line: $(cat "$out/.msc")"
      read -r e u s m < "$out/.t"
      ps=${proc% *}; pc=${proc#* }
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "ModSecurity + CRS PL1" "$i" "$MSC_LINES" "$ps" "$pc" 0 "$m" >> "$T"
      say "ModSecurity run $i: proc ${ps}s, cpu ${pc}s, rule load ${load}s, ${m} KB"
      i=$((i + 1))
    done
    notes="$notes
- ModSecurity + CRS: \`msc_replay -q -p 1\` from ../shared/peers on the first $MSC_LINES lines; its own processing time (rule load of ~${load:-?} s excluded), CPU = its process CPU over the same span. Version: $(dpkg-query -W -f '${Version}' libmodsecurity3 2>/dev/null || echo '?') / CRS $(dpkg-query -W -f '${Version}' modsecurity-crs 2>/dev/null || echo '?')."
  else
    say "no $PEERS/msc_replay.c: ModSecurity skipped"
  fi
fi

# ---- report -------------------------------------------------------------------------------------
python3 - "$T" "$NB" "$MB" "$big" "$RUNS" "$vsum" "$notes" > "$out/throughput.md" <<'PY'
import collections, os, platform, statistics as st, sys
tsv, nb, mb, big, runs, vsum, notes = sys.argv[1:8]
rows = [l.rstrip("\n").split("\t") for l in open(tsv)][1:]
by = collections.OrderedDict()
for r in rows:
    by.setdefault(r[0], []).append(r)
def si(x):
    for d, s in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= d:
            return "%.3g%s" % (x / d, s)
    return "%.0f" % x
cpu = "?"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
except OSError:
    pass
print("# Throughput\n")
print("Input: `%s`, %s lines, %s MB (%.0f bytes a line); %s runs each; %d CPUs (%s), %s." % (
    os.path.basename(big), nb, mb, int(mb) * 1048576.0 / max(int(nb), 1), runs, os.cpu_count(),
    cpu, platform.platform()))
print("%s.\n" % vsum)
print("| tool | input lines | lines/s min / median | lines per CPU-s | peak RSS MB |")
print("| --- | ---: | ---: | ---: | ---: |")
for name, rs in by.items():
    n = int(rs[0][2])
    rates = sorted(n / max(float(r[3]), 1e-3) for r in rs)
    cpus = [max(float(r[4]) + float(r[5]), 1e-3) for r in rs]
    rss = max(int(r[6]) for r in rs) / 1024.0
    print("| %s | %s | %s / %s | %s | %.1f |" % (name, si(n), si(rates[0]), si(st.median(rates)),
                                                si(st.median(n / c for c in cpus)), rss))
print("""
Wall-clock lines/s = input lines / elapsed seconds of the whole process (start-up included);
lines per CPU-s = input lines / (user + sys), median of the runs; peak RSS = largest maximum
resident set size of the runs. `(x10)`: ten passes over the file per run (input lines counted
ten times), one pass being too short to time. `(source once)`: one pass over the corpus the big
log cycles through, as it comes - the big log repeats every request after its first cycle, which
vigil's request memo answers without running the engines (docs/rules.md), so these rows give the
rate on a log with only its own repeats, start-up (about 0.2 s with `--crs`) included.""")
if notes.strip():
    print(notes)
PY
cat "$out/throughput.md"
say "wrote $out/throughput.md (raw runs: $T)"
