#!/usr/bin/env bash
# The plan cache (native/plan-cache.c): cold (no kept plan: Node plans and keeps it) and warm (the launcher runs the
# kept plan, no Node) launches of `sandbox run -- true` with the default, browser and hpc profiles, against
# bubblewrap, firejail (where it runs as this user) and `node -e 0`, all in one run, as uid 65534 (when run as root)
# with a clean environment (env -i, plus a HOME of its own: the browser and hpc profiles need one). Medians of RUNS.
#   bash bench/plan-cache.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-31}
S=$PWD/bin/sandbox
user=()
home=$(mktemp -d /tmp/sbx-bench-XXXXXX)
mkdir -p "$home/project"
if [ "$(id -u)" = 0 ]; then
  user=(setpriv --reuid 65534 --regid 65534 --clear-groups)
  chown -R 65534:65534 "$home"
fi
trap 'rm -rf "$home"' EXIT
cd "$home/project"
E=(env -i HOME="$home" PATH=/usr/local/bin:/usr/bin:/bin)
median_ms() { # the median of $runs launches of "$@"; BEFORE (a command) runs untimed before each
  local t=() s e
  for ((i = 0; i < runs; i++)); do
    [ -n "${BEFORE:-}" ] && eval "$BEFORE"
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s%N)
    t+=($(((e - s) / 1000)))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2) { printf "%.1f", $1 / 1000 }'
}
ok() { "$@" >/dev/null 2>&1; }
declare -A ms
ms[node]=$(median_ms "${user[@]}" "${E[@]}" node -e 0)
bw=(bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true)
if command -v bwrap >/dev/null && ok "${user[@]}" "${E[@]}" "${bw[@]}"; then ms[bwrap]=$(median_ms "${user[@]}" "${E[@]}" "${bw[@]}"); fi
fj=(firejail --quiet --noprofile true)
if command -v firejail >/dev/null && ok "${user[@]}" "${E[@]}" "${fj[@]}"; then ms[firejail]=$(median_ms "${user[@]}" "${E[@]}" "${fj[@]}"); fi
for p in default browser hpc; do
  args=(run --profile "$p" -- true)
  if ! ok "${user[@]}" "${E[@]}" "$S" "${args[@]}"; then echo "sandbox run --profile $p -- true fails here: left out" >&2; continue; fi
  ms[$p-cold]=$(BEFORE='"${user[@]}" "${E[@]}" "$S" cache clear >/dev/null 2>&1' median_ms "${user[@]}" "${E[@]}" "$S" "${args[@]}")
  ms[$p-nocache]=$(median_ms "${user[@]}" "${E[@]}" SANDBOX_NO_CACHE=1 "$S" "${args[@]}")
  ok "${user[@]}" "${E[@]}" "$S" "${args[@]}"
  ms[$p-warm]=$(median_ms "${user[@]}" "${E[@]}" "$S" "${args[@]}")
done
ratio() { [ -n "${ms[bwrap]:-}" ] && awk -v a="$1" -v b="${ms[bwrap]}" 'BEGIN { printf " (%.2fx bwrap)", a / b }' || true; }
echo "medians of $runs launches, ms (uid $(${user[@]+"${user[@]}"} id -u), env -i HOME=...):"
for k in node bwrap firejail; do [ -n "${ms[$k]:-}" ] && echo "  $k: ${ms[$k]}$(ratio "${ms[$k]}")" || echo "  $k: not runnable here"; done
for p in default browser hpc; do
  for w in cold nocache warm; do [ -n "${ms[$p-$w]:-}" ] && echo "  sandbox run --profile $p -- true, $w: ${ms[$p-$w]}$(ratio "${ms[$p-$w]}")"; done
done
