#!/usr/bin/env bash
# Cost of the seccomp filter on allowed syscalls, by hand: a C loop of 10 million getppid() and `find /usr`,
# bare, inside sandbox (no profile: the base filter; default profile), and inside firejail's default filter
# when firejail is installed. Best of ROUNDS for each, all in the same run; compare ratios, not absolutes.
#   bash bench/seccomp.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
S=$PWD/bin/sandbox
tmp=$(mktemp -d); chmod 755 "$tmp"
cc -O2 -o "$tmp/getppid" bench/getppid.c
user=()
[ "$(id -u)" = 0 ] && user=(setpriv --reuid 65534 --regid 65534 --clear-groups)
cd "$tmp"
best() { sort -n | head -1; }
loop() { for ((r = 0; r < rounds; r++)); do "$@" "$tmp/getppid" 10000000; done | best; }
# find is timed inside the environment, so the launch itself doesn't count
findt() {
  for ((r = 0; r < rounds; r++)); do
    "$@" sh -c 's=$(date +%s%N); find /usr >/dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000000 ))'
  done | best
}
bare=(env -i "${user[@]}")
base=("${user[@]}" env -i "$S" run --no-profile --ro-bind / / --dev /dev --proc /proc --)
dflt=("${user[@]}" env -i HOME=/tmp "$S" run --ro-bind "$tmp" "$tmp" --)
allow_all() { for ((r = 0; r < rounds; r++)); do "${bare[@]}" "$tmp/getppid" 10000000 allow-all; done | best; }
echo "getppid ns/call (best of $rounds): bare $(loop "${bare[@]}"), any filter (allow-all) $(allow_all), base filter $(loop "${base[@]}"), default profile $(loop "${dflt[@]}")"
echo "find /usr ms (best of $rounds):   bare $(findt "${bare[@]}"), base filter $(findt "${base[@]}"), default profile $(findt "${dflt[@]}")"
if command -v firejail >/dev/null; then
  fj=(firejail --quiet --noprofile --seccomp) # as the caller: firejail is setuid root and refuses uid 65534 here
  echo "firejail --seccomp:               getppid $(loop "${fj[@]}") ns, find /usr $(findt "${fj[@]}") ms"
else
  echo "firejail is not installed: no firejail reference (apt-get install firejail)"
fi
rm -rf "$tmp"
