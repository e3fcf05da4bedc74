#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/behave_mem.sh: memory of the behaviour stage with millions of distinct client
# addresses (docs/internals/behave.md, "Memory"). Peak RSS of `vigil scan` over generated logs
# in which every address is new (bench/behave_gen.c), in three shapes:
#
#   spread   N addresses over 100 days of log time: idle sources expire (idle = 30m)
#   dense    N addresses within one hour: nothing is idle, only max_sources bounds the state
#   capped   dense, with max_sources lowered to 200000 by a --behave-config file
#   baseline dense with --no-behave (signatures only), for comparison
#
#   bench/behave_mem.sh                writes bench/out/behave_mem.md (and prints it)
#   N=1000000 bench/behave_mem.sh
#
# Environment:
#   N=10000000   distinct addresses (one request each; every 100,000th also scans 30 paths)
#   THREADS=2    worker threads
#   VIGIL=PATH   the vigil binary (default build/vigil, built if absent)
#   SHAPES="spread dense capped baseline"
# The lines are generated on the fly into a pipe (nothing is written to disk); --no-store and
# --events /dev/null keep the store and the output out of the figure.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
N=${N:-10000000}
THREADS=${THREADS:-2}
SHAPES=${SHAPES:-spread dense capped baseline}
out=$here/out
mkdir -p "$out"
say() { printf '%s\n' "behave_mem.sh: $*" >&2; }
die() { say "$*"; exit 1; }

VIGIL=${VIGIL:-$root/build/vigil}
if [ ! -x "$VIGIL" ]; then
  [ "$VIGIL" = "$root/build/vigil" ] || die "no vigil binary at $VIGIL"
  say "building vigil in $root/build"
  cmake -S "$root" -B "$root/build" >&2
  cmake --build "$root/build" -j"$(nproc)" >&2
fi
[ -x /usr/bin/time ] || die "needs GNU time (/usr/bin/time) for the peak RSS"
gen=$out/behave_gen
${CC:-cc} -O2 -o "$gen" "$here/behave_gen.c" || die "cannot build $here/behave_gen.c"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
printf '[behave]\nmax_sources = 200000\n' >"$tmp/capped.conf"

report=$out/behave_mem.md
{
  echo "# Behaviour stage memory: $N distinct client addresses"
  echo
  echo "$("$VIGIL" --version 2>/dev/null | head -1), $THREADS worker threads, $(date -u +%Y-%m-%d)."
  echo "Generated combined lines (bench/behave_gen.c), read from a pipe; --no-store, --events /dev/null."
  echo
  echo "| shape | lines | peak RSS | wall | sources tracked at most | expired idle | evicted at cap | held at most | attack requests |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$report"

for shape in $SHAPES; do
  extra=
  case $shape in
    spread) span=8640000 ;;
    dense) span=3600 ;;
    capped) span=3600; extra="--behave-config $tmp/capped.conf" ;;
    baseline) span=3600; extra="--no-behave" ;;
    *) die "unknown shape $shape" ;;
  esac
  say "$shape: $N addresses over $span s of log time"
  # shellcheck disable=SC2086
  "$gen" "$N" "$span" |
    /usr/bin/time -v -o "$tmp/time" "$VIGIL" scan - --no-store --events /dev/null --json \
      --threads "$THREADS" --progress never $extra >"$tmp/sum.json" 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; die "$shape: vigil scan failed"; }
  python3 - "$shape" "$tmp/time" "$tmp/sum.json" >>"$report" <<'PY'
import json, re, sys
shape, tf, sf = sys.argv[1:4]
t = open(tf).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
s = json.load(open(sf))
tot = s.get("totals", {})
b = s.get("behaviour") or {}
def g(k):
    v = b.get(k)
    return "-" if v is None or shape == "baseline" else f"{v:,}"
print(f"| {shape} | {tot.get('lines', 0):,} | {rss / 1024:,.0f} MiB | {wall} | {g('sources_peak')} "
      f"| {g('sources_expired')} | {g('sources_evicted')} | {g('pending_peak')} "
      f"| {tot.get('attack_requests', 0):,} |")
PY
done
cat "$report"
