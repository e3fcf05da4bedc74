#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/detect_peers.sh: vigil's detection beside ModSecurity + OWASP CRS on the same inputs, in
# one run, scored by the peers' own scorer (../shared/peers/eval.py) against the same labels.
#
#   bench/detect_peers.sh                 writes bench/out/detect_peers.md (and prints it)
#
# Inputs (each scored for every tool):
#   combined   the corpus's access.log (nginx combined)
#   spoofed    the same log with every user agent replaced by a desktop browser's, as if every
#              attack tool spoofed one (bench/corpus_eval.py --spoof-ua does the same rewrite)
# Tools: ModSecurity 3 + CRS (Debian's) at paranoia 1 and 2 through ../shared/peers/msc_replay;
# vigil with its built-in rules at paranoia 1 and 2; with VIGIL_EXTRA='...' one more vigil row
# with those options (e.g. VIGIL_EXTRA='--crs' for the imported CRS).
#
# Environment:
#   VIGIL=PATH     the vigil binary (default build/vigil)
#   CORPUS=DIR     labelled corpus (default ../shared/corpus/dev)
#   PEERS=DIR      the peers harness (default ../shared/peers)
#   SKIP_MSC=1     leave ModSecurity out (it replays ~1,200 lines/s: ~80 s per input and level)
# ModSecurity results are cached in bench/data/detect_peers/ by input checksum.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
VIGIL=${VIGIL:-$root/build/vigil}
CORPUS=${CORPUS:-$root/../shared/corpus/dev}
PEERS=${PEERS:-$root/../shared/peers}
data=$here/data/detect_peers
out=$here/out
mkdir -p "$data" "$out"
say() { printf '%s\n' "detect_peers.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$VIGIL" ] || die "no vigil binary at $VIGIL (run scripts/build)"
[ -f "$CORPUS/labels.tsv.gz" ] || [ -f "$CORPUS/labels.tsv" ] || die "no labels in $CORPUS"
labels=$CORPUS/labels.tsv.gz
[ -f "$labels" ] || labels=$CORPUS/labels.tsv
log=$CORPUS/access.log.gz
[ -f "$log" ] || log=$CORPUS/access.log
[ -f "$PEERS/eval.py" ] || die "no $PEERS/eval.py"

# ---- inputs -------------------------------------------------------------------------------------
zcat -f "$log" > "$data/combined.log"
python3 -c "
import sys; sys.path.insert(0, '$here')
import corpus_eval
corpus_eval.spoof_user_agents('$data/combined.log', '$data/spoofed.log', False)
"

# ---- ModSecurity + CRS ----------------------------------------------------------------------------
msc_ok=0
if [ "${SKIP_MSC:-0}" != 1 ] && [ -f "$PEERS/msc_replay.c" ]; then
  if [ ! -x "$data/peers/build/msc_replay" ]; then
    rm -rf "$data/peers"
    mkdir -p "$data/peers"
    cp -rp "$PEERS/." "$data/peers/"
    chmod -R u+w "$data/peers"
    rm -rf "$data/peers/data" "$data/peers/out"
    for p in libmodsecurity-dev modsecurity-crs; do
      dpkg -s "$p" >/dev/null 2>&1 || die "ModSecurity needs the Debian package $p (or SKIP_MSC=1)"
    done
    make -s -C "$data/peers" build/msc_replay build/msc/modsecurity.conf >"$data/make.log" 2>&1 ||
      die "cannot build msc_replay: $(tail -5 "$data/make.log")"
  fi
  msc_ok=1
  for input in combined spoofed; do
    sum=$(sha256sum "$data/$input.log" | cut -c1-16)
    for pl in 1 2; do
      res=$data/msc-$input-pl$pl-$sum.tsv
      if [ ! -s "$res" ]; then
        say "ModSecurity + CRS, paranoia $pl, $input log (about a minute and a half)"
        (cd "$data/peers" && build/msc_replay -p "$pl" -m build/msc/modsecurity.conf \
           "$data/$input.log") > "$res.tmp" 2>"$data/msc.err" ||
          die "msc_replay failed: $(tail -5 "$data/msc.err")"
        mv "$res.tmp" "$res"
      fi
      ln -sf "$res" "$data/msc-$input-pl$pl.tsv"
    done
  done
fi

# ---- vigil --------------------------------------------------------------------------------------
# vigil's events as the msc TSV shape eval.py reads: line, ip, detected
vigil_tsv() { # vigil_tsv INPUT OUT ARGS...
  input=$1 res=$2
  shift 2
  "$VIGIL" scan --no-store --no-geo --quiet --events "$data/events.jsonl" "$@" "$data/$input.log" \
    >/dev/null 2>"$data/vigil.err" || die "vigil failed: $(tail -5 "$data/vigil.err")"
  python3 - "$data/events.jsonl" "$res" <<'EOF'
import json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    for raw in f:
        e = json.loads(raw)
        o.write("%d\t%s\t1\n" % (e["log"]["line"], e.get("source", {}).get("ip", "-")))
EOF
}

rows=$data/rows.tsv
: > "$rows"
score() { # score INPUT NAME TSV
  python3 "$PEERS/eval.py" "$labels" "$data/$1.log" "$2=msc:$3" | tail -n +2 |
    awk -v input="$1" 'BEGIN{FS=OFS="\t"} {print input, $0}' >> "$rows"
}
for input in combined spoofed; do
  if [ "$msc_ok" = 1 ]; then
    score "$input" "ModSecurity+CRS PL1" "$data/msc-$input-pl1.tsv"
    score "$input" "ModSecurity+CRS PL2" "$data/msc-$input-pl2.tsv"
  fi
  for pl in 1 2; do
    vigil_tsv "$input" "$data/vigil-$input-pl$pl.tsv" --paranoia "$pl"
    score "$input" "vigil PL$pl" "$data/vigil-$input-pl$pl.tsv"
  done
  if [ -n "${VIGIL_EXTRA:-}" ]; then
    # shellcheck disable=SC2086 # VIGIL_EXTRA is a list of options
    vigil_tsv "$input" "$data/vigil-$input-extra.tsv" $VIGIL_EXTRA
    score "$input" "vigil $VIGIL_EXTRA" "$data/vigil-$input-extra.tsv"
  fi
done

report=$out/detect_peers.md
{
  echo "# Detection side by side: vigil and ModSecurity + CRS on $(basename "$CORPUS")"
  echo
  echo "$("$VIGIL" --version 2>/dev/null | head -1); ModSecurity $(dpkg-query -W -f '${Version}' libmodsecurity3 2>/dev/null || echo '?') + CRS $(dpkg-query -W -f '${Version}' modsecurity-crs 2>/dev/null || echo '?'); $(date -u +%Y-%m-%d)."
  echo "Scored by ../shared/peers/eval.py: det = payload=1 attack requests flagged, fp = benign requests flagged,"
  echo "ip_det / ip_fp = attacking / benign-only client addresses with at least one flagged request."
  echo "\`spoofed\`: every user agent replaced by a desktop browser's."
  echo
  echo "| input | tool | det (payload) | det (all attack) | fp (benign) | ip_det | ip_fp |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  awk 'BEGIN{FS="\t"} {printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7}' "$rows"
} > "$report"
cat "$report"
