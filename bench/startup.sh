#!/usr/bin/env bash
# Launch cost of `sandbox run` against `node -e 0` and bubblewrap, as an unprivileged user in a clean
# environment, measured in the same run (ratios only: machines are noisy). Run by hand:
#   bash bench/startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
S=$PWD/bin/sandbox
user=()
[ "$(id -u)" = 0 ] && user=(setpriv --reuid 65534 --regid 65534 --clear-groups)
cd /tmp
time_it() { # prints mean ms of running "$@" $runs times
  local start end
  start=$(date +%s%N)
  for ((i = 0; i < runs; i++)); do "$@" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  echo "scale=2; ($end - $start) / $runs / 1000000" | bc
}
node_ms=$(time_it "${user[@]}" env -i /usr/bin/node -e 0)
sbx_ms=$(time_it "${user[@]}" env -i "$S" run --no-profile --ro-bind / / --dev /dev --proc /proc -- true)
dflt_ms=$(time_it "${user[@]}" env -i "$S" run -- true)
echo "node -e 0:                  $node_ms ms"
echo "sandbox run ... true:       $sbx_ms ms (above node: $(echo "$sbx_ms - $node_ms" | bc) ms)"
echo "sandbox run -- true:        $dflt_ms ms with the default profile (above node: $(echo "$dflt_ms - $node_ms" | bc) ms)"
if command -v bwrap >/dev/null; then
  bw_ms=$(time_it "${user[@]}" env -i bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true)
  echo "bwrap --unshare-all ... true: $bw_ms ms"
  echo "ratio (sandbox - node) / bwrap: $(echo "scale=2; ($sbx_ms - $node_ms) / $bw_ms" | bc)"
else
  echo "bwrap not installed: no reference (apt-get install bubblewrap)"
fi
