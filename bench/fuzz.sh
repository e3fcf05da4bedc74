#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/fuzz.sh: a longer libFuzzer campaign than the test suite's (scripts/test runs each
# target 20 s from seed 1). Each target runs SECONDS_EACH from a random seed (or SEED) over a
# fresh copy of its checked-in corpus; findings are kept in bench/out/fuzz/<target>/.
#
#   bench/fuzz.sh                          every target, 300 s each
#   SECONDS_EACH=60 bench/fuzz.sh detect_xss ingest_json     some targets, 60 s each
#   SEED=1 SECONDS_EACH=60 bench/fuzz.sh   what CI runs, three times longer
#
# A finding is reproduced with: build-fuzz/fuzz_<target> bench/out/fuzz/<target>/crash-...
# Add the reduced input to fuzz/corpus/<target>/ once fixed: the replay tests run it forever.
# Performance note: targets run one at a time (a fuzzer takes a core; the timeout per input is
# wall time, so do not pause them).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SECONDS_EACH=${SECONDS_EACH:-300}
out=$here/out/fuzz
cd "$root"
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DVG_BUILD_FUZZERS=ON -DBUILD_TESTING=OFF \
  -DCMAKE_C_COMPILER=clang -DCMAKE_C_FLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
  >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
if [ $# -eq 0 ]; then
  set --
  for f in fuzz/fuzz_*.c; do
    n=$(basename "$f" .c)
    set -- "$@" "${n#fuzz_}"
  done
fi
failed=0
for t in "$@"; do
  bin=build-fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "no target fuzz_$t" >&2; exit 2; }
  rm -rf "$out/$t/corpus" # each run starts from the checked-in corpus, as the suite's does
  mkdir -p "$out/$t/corpus"
  cp -r "fuzz/corpus/$t"/. "$out/$t/corpus"/ 2>/dev/null || true
  seed=${SEED:-0}
  printf '%-20s ' "$t"
  if (cd "$out/$t" && "$root/$bin" -seed="$seed" -max_total_time="$SECONDS_EACH" -max_len=8192 \
        -timeout=10 -print_final_stats=1 corpus >log.txt 2>&1); then
    grep -E '^stat::number_of_executed_units' "$out/$t/log.txt" | sed 's/.*: */runs /' | tr '\n' ' '
    echo ok
  else
    failed=1
    echo "FOUND: $(ls "$out/$t" | grep -E '^(crash|timeout|leak|oom|slow-unit)-' | tr '\n' ' ')"
    grep -E 'ERROR|SUMMARY|fuzz_' "$out/$t/log.txt" | head -n 5
  fi
done
exit "$failed"
