#!/usr/bin/env bash
# Per-step cost of a sandbox under SLURM: inside ONE `salloc -n1` of a one-node SLURM of our own
# (test/hpc/slurm.js, daemons as root, stopped by pid), N rounds of `srun -n1 X` for each X below, as
# uid 65534 with `env -i`; each round's times are paired against that round's plain `srun -n1 true`
# and the median of those differences is reported. `sleep 0.01` is the calibration: if it doesn't
# show about +10 ms, srun's own waits hide the task's time and small differences mean little (the order inside a round rotates, so drift and
# warm caches fall on every variant alike). run-hpc launches from the plan cache after the warm-up step (each step has its own
# PMIx namespace and directory, which the kept plan takes from the launch); run-hpc-nocache plans in Node every step. Run by hand, as root:
#   bash bench/srun-step.sh [ROUNDS]
set -euo pipefail
if [ "${1:-}" = --inner ]; then
  # Runs as the unprivileged user inside the allocation: $2 rounds, $3 the checkout, $4 the plan dir.
  rounds=$2 root=$3 plans=$4
  names=(plain sleep10ms node bwrap exec-hpc exec-bare run-hpc run-hpc-nocache run-bare)
  cmds=(
    "true"
    "sleep 0.01"
    "/usr/bin/node -e 0"
    "bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true"
    "$root/native/build/sandbox-exec $plans/hpc.plan -- true"
    "$root/native/build/sandbox-exec $plans/bare.plan -- true"
    "$root/bin/sandbox run --profile hpc -- true"
    "$root/bin/sandbox run --no-cache --profile hpc -- true"
    "$root/bin/sandbox run --no-profile --ro-bind / / --dev /dev --proc /proc -- true"
  )
  n=${#names[@]}
  # one warm-up step of each, not counted
  for ((k = 0; k < n; k++)); do srun -n1 ${cmds[k]} >/dev/null 2>&1 || { echo "warm-up failed: srun -n1 ${cmds[k]}" >&2; srun -n1 ${cmds[k]} >&2 || true; exit 1; }; done
  for ((i = 0; i < rounds; i++)); do
    for ((j = 0; j < n; j++)); do
      k=$(((i + j) % n))
      s=$(date +%s%N)
      srun -n1 ${cmds[k]} >/dev/null 2>&1 || echo "round $i: ${names[k]} failed" >&2
      e=$(date +%s%N)
      echo "$i ${names[k]} $(((e - s) / 1000))"
      # the same command without srun, in the same round: what the task itself costs
      s=$(date +%s%N)
      ${cmds[k]} >/dev/null 2>&1 || echo "round $i: ${names[k]} without srun failed" >&2
      e=$(date +%s%N)
      echo "$i direct:${names[k]} $(((e - s) / 1000))"
    done
  done
  exit 0
fi
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: the SLURM daemons need it (steps run as uid 65534)" >&2; exit 2; }
exec node bench/srun-step.js "${1:-40}"
