#!/usr/bin/env bash
# The long fuzzing run of the plan parser, by hand: run-long.sh [SECONDS, default 900] [JOBS, default 1].
# Keeps its growing corpus in build/corpus-long (reused by the next run) and any crashing input in
# build/crashes/; ends with the executions, the corpus size and "0 crashes" or the inputs that crashed.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-900}
jobs=${2:-1}
command -v "${CLANG:-clang}" >/dev/null || { echo "run-long: clang is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
make -s build/fuzz-plan
[ -f ../../dist/lib/native/serialize.js ] || (cd ../.. && npx tsc -p .)
node make-corpus.js build/corpus >/dev/null
mkdir -p build/corpus-long build/crashes
log=build/run-long.log
start=$(date +%s)
set +e
if [ "$jobs" -gt 1 ]; then
  ./build/fuzz-plan -dict=plan.dict -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/crashes/ \
    -jobs="$jobs" -workers="$jobs" build/corpus-long build/corpus >"$log" 2>&1
else
  ./build/fuzz-plan -dict=plan.dict -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/crashes/ \
    build/corpus-long build/corpus >"$log" 2>&1
fi
rc=$?
set -e
end=$(date +%s)
execs=$( { grep -h 'stat::number_of_executed_units' "$log" fuzz-*.log 2>/dev/null || true; } | awk '{s+=$2} END {print s+0}')
crashes=$(find build/crashes -type f | wc -l)
echo "run-long: $((end - start)) s, $execs executions, corpus $(ls build/corpus-long | wc -l) inputs, exit $rc, $crashes crash file(s)"
if [ "$crashes" -gt 0 ] || [ "$rc" -ne 0 ]; then
  find build/crashes -type f -print
  grep -A30 'ERROR: ' "$log" | head -60
  exit 1
fi
echo "run-long: 0 crashes"
