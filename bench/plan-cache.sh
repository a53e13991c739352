#!/usr/bin/env bash
# The plan cache (native/plan-cache.c): cold (no kept plan: Node plans, and the monitor keeps it), --no-cache (Node
# plans, nothing kept) and warm (the launcher runs the kept plan, no Node) launches of `sandbox run -- true` with the
# default, browser and hpc profiles, against bubblewrap, firejail and `node -e 0`, all in one run with a clean
# environment (env -i, plus a HOME of its own: the browser and hpc profiles need one).
#   bash bench/plan-cache.sh [RUNS]
# RUNS launches of each (default 31); the variants take turns (one of each per round), so load that comes and goes
# falls on all of them alike. Each figure is a median, with the middle half of its launches (p25-p75) to show noise.
# Run as root, the whole bench runs as the user SANDBOX_BENCH_USER (default: cloudsdk where it exists, else nobody):
# a real user's uid is what is measured, and firejail refuses system users and nobody.
# SANDBOX_BENCH_BASELINE=DIR: another built checkout whose sandbox runs beside this one (rows "baseline ...").
# SANDBOX_BENCH_MEASURE=cpu: CPU time of each launch's processes (perf stat's task-clock) instead of wall-clock time:
# steadier where others load the machine, but blind to work done in parallel (the monitor writing a kept plan).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-31}
if [ "$(id -u)" = 0 ]; then
  user=${SANDBOX_BENCH_USER:-}
  if [ -z "$user" ]; then user=nobody; getent passwd cloudsdk >/dev/null && user=cloudsdk; fi
  uid=$(id -u "$user") gid=$(id -g "$user")
  home=$(mktemp -d /tmp/sbx-bench-XXXXXX)
  chown "$uid:$gid" "$home"
  trap 'rm -rf "$home"' EXIT
  # not exec: the trap removes the home afterwards
  setpriv --reuid "$uid" --regid "$gid" --init-groups env -i HOME="$home" PATH=/usr/local/bin:/usr/bin:/bin \
    SANDBOX_BENCH_BASELINE="${SANDBOX_BENCH_BASELINE:-}" SANDBOX_BENCH_MEASURE="${SANDBOX_BENCH_MEASURE:-}" SANDBOX_BENCH_CHILD=1 \
    bash "$PWD/bench/plan-cache.sh" "$runs"
  exit
fi
if [ -z "${SANDBOX_BENCH_CHILD:-}" ]; then
  home=$(mktemp -d /tmp/sbx-bench-XXXXXX)
  trap 'rm -rf "$home"' EXIT
  env -i HOME="$home" PATH=/usr/local/bin:/usr/bin:/bin SANDBOX_BENCH_BASELINE="${SANDBOX_BENCH_BASELINE:-}" \
    SANDBOX_BENCH_MEASURE="${SANDBOX_BENCH_MEASURE:-}" SANDBOX_BENCH_CHILD=1 bash "$PWD/bench/plan-cache.sh" "$runs"
  exit
fi
unset SANDBOX_BENCH_CHILD
measure=${SANDBOX_BENCH_MEASURE:-wall}
unset SANDBOX_BENCH_MEASURE
if [ "$measure" = cpu ] && ! perf stat -x, -e task-clock true >/dev/null 2>&1; then
  echo "SANDBOX_BENCH_MEASURE=cpu: perf stat -e task-clock can't run here (perf missing, or perf_event_paranoid)" >&2
  exit 1
fi
S=$PWD/bin/sandbox
direct=$PWD/native/build/sandbox
base=${SANDBOX_BENCH_BASELINE:-}
[ -n "$base" ] && base=$(cd "$base" && pwd)/bin/sandbox
[ -n "$base" ] && unset SANDBOX_BENCH_BASELINE
ok() { "$@" >/dev/null 2>&1; }
declare -A t   # variant -> launch times in microseconds, space-separated
declare -a order=()
# one timed launch of variant $1: the command after it
launch() {
  local v=$1 s e c
  shift
  if [ "$measure" = cpu ]; then
    c=$(perf stat -x, -e task-clock -- "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ { printf "%d", $1 * 1000 }')
    t[$v]+="${c:-0} "
    return
  fi
  s=${EPOCHREALTIME/./}
  "$@" >/dev/null 2>&1 || true
  e=${EPOCHREALTIME/./}
  t[$v]+="$((e - s)) "
}
add() { order+=("$1"); }
bw=(bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true)
fj=(firejail --quiet --noprofile true)
add node
if command -v bwrap >/dev/null && ok "${bw[@]}"; then add bwrap; fi
fj_why=
if ! command -v firejail >/dev/null; then fj_why="not installed"
elif [ "$measure" = cpu ]; then fj_why="setuid root: perf stat can't count its CPU time as this user"
elif ! ok "${fj[@]}"; then
  fj_why="$(firejail --quiet --noprofile true 2>&1 | head -n1 || true)"
  # without /etc/firejail/firejail.users, firejail lets in only users from UID_MIN (login.defs) up, never nobody
  if [ "$(id -u)" -lt 1000 ] || [ "$(id -u)" = 65534 ]; then fj_why+=" (firejail refuses nobody and system users, here uid $(id -u), unless /etc/firejail/firejail.users lists them)"; fi
else add firejail
fi
# the sandbox variants: a build (this one, and the baseline's) in a directory of its own (the working directory is
# part of the key, so the two never share an entry)
builds=(this)
[ -n "$base" ] && builds+=(baseline)
for b in "${builds[@]}"; do mkdir -p "$HOME/$b"; done
profiles=()
for p in default browser hpc; do
  if ! (cd "$HOME/this" && ok "$S" run --profile "$p" -- true); then echo "sandbox run --profile $p -- true fails here: left out" >&2; continue; fi
  profiles+=("$p")
done
for ((i = 0; i < runs; i++)); do
  launch node node -e 0
  if [[ " ${order[*]} " == *" bwrap "* ]]; then launch bwrap "${bw[@]}"; fi
  if [[ " ${order[*]} " == *" firejail "* ]]; then launch firejail "${fj[@]}"; fi
  for p in "${profiles[@]}"; do
    for b in "${builds[@]}"; do
      x=$S
      [ "$b" = baseline ] && x=$base
      cd "$HOME/$b"
      "$x" cache clear >/dev/null 2>&1
      launch "$b $p cold" "$x" run --profile "$p" -- true
      launch "$b $p warm" "$x" run --profile "$p" -- true
      # the same kept plan, the launcher started directly: what bin/sandbox's sh costs before it (about 1 ms)
      if [ "$b" = this ] && [ "$p" = default ] && [ -x "$direct" ]; then launch "$b $p direct" "$direct" run --profile "$p" -- true; fi
      launch "$b $p nocache" env SANDBOX_NO_CACHE=1 "$x" run --profile "$p" -- true
    done
  done
done
cd "$HOME"
# median and quartiles in ms of a variant's launches
stats() { tr ' ' '\n' <<<"${t[$1]}" | grep . | sort -n | awk '{ a[NR] = $1 } END {
  m = a[int((NR + 1) / 2)]; lo = a[int((NR + 3) / 4)]; hi = a[int((3 * NR + 1) / 4)]
  printf "%.1f %.1f %.1f", m / 1000, lo / 1000, hi / 1000 }'; }
read -r bwm _ _ <<<"$( [ -n "${t[bwrap]:-}" ] && stats bwrap || echo "- - -")"
row() { # label variant
  local m lo hi r=""
  read -r m lo hi <<<"$(stats "$2")"
  [ "$bwm" != - ] && r=$(awk -v a="$m" -v b="$bwm" 'BEGIN { printf "%.2fx bwrap", a / b }')
  printf '  %-52s %7s ms  (p25-p75 %s-%s)  %s\n' "$1" "$m" "$lo" "$hi" "$r"
}
echo "$([ "$measure" = cpu ] && echo 'CPU time (task-clock), ')medians of $runs launches each, taking turns (uid $(id -u), $(id -un 2>/dev/null || echo '?'); env -i HOME=...; load average $(cut -d' ' -f1-3 /proc/loadavg)):"
row "node -e 0" node
if [ -n "${t[bwrap]:-}" ]; then row "bwrap --unshare-all --ro-bind / / ... true" bwrap; else echo "  bwrap: not runnable here"; fi
if [ -n "${t[firejail]:-}" ]; then row "firejail --quiet --noprofile true" firejail; else echo "  firejail: not runnable here: $fj_why"; fi
for p in "${profiles[@]}"; do
  for b in "${builds[@]}"; do
    for w in cold nocache warm; do row "$([ "$b" = baseline ] && echo 'baseline ')sandbox run --profile $p -- true, $w" "$b $p $w"; done
    if [ -n "${t["$b $p direct"]:-}" ]; then row "  warm, native/build/sandbox without bin/sandbox's sh" "$b $p direct"; fi
  done
  for b in "${builds[@]}"; do
    awk -v c="$(stats "$b $p cold" | cut -d' ' -f1)" -v n="$(stats "$b $p nocache" | cut -d' ' -f1)" -v l="$([ "$b" = baseline ] && echo 'baseline ')$p: a miss costs (cold - nocache)" \
      'BEGIN { printf "  %-52s %+7.1f ms\n", l, c - n }'
  done
done
