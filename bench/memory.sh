#!/usr/bin/env bash
# Resident memory of what stays behind while a sandbox runs (the monitor and the sandbox's init),
# against bubblewrap's two processes. Run by hand: bash bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
S=$PWD/bin/sandbox
user=()
[ "$(id -u)" = 0 ] && user=(setpriv --reuid 65534 --regid 65534 --clear-groups)
rss_tree() { # pid → "pid comm rss_kB" for it and its descendants, excluding the final program (sleep)
  local pid=$1
  for p in $pid $(pgrep -P "$pid" 2>/dev/null); do
    [ "$(cat /proc/$p/comm)" = sleep ] && continue
    echo "  $(cat /proc/$p/comm) pid $p: $(awk '/^VmRSS/ {print $2}' /proc/$p/status) kB"
    for q in $(pgrep -P "$p" 2>/dev/null); do
      [ "$(cat /proc/$q/comm)" = sleep ] && continue
      echo "  $(cat /proc/$q/comm) pid $q: $(awk '/^VmRSS/ {print $2}' /proc/$q/status) kB"
    done
  done
}
cd /tmp
"${user[@]}" env -i "$S" run --no-profile --ro-bind / / --dev /dev --proc /proc -- sleep 3 &
sleep 1; echo "sandbox:"; rss_tree $!; wait
if command -v bwrap >/dev/null; then
  "${user[@]}" env -i bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc sleep 3 &
  sleep 1; echo "bwrap:"; rss_tree $!; wait
fi
