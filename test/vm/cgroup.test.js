'use strict';
// Resource limits on a real cgroup v2 kernel: one VM boot (test/vm/harness.js) runs every check as an
// unprivileged user with a delegated subtree (and once without one); each t.test reads one check's result.
const t = require('tap');
// one VM boot runs every check under software emulation: its own limit (runVm's timeoutSeconds) is the one that counts
t.setTimeout(900 * 1000);
const fs = require('node:fs');
const path = require('node:path');
const { vmUnavailableReason, runVm } = require('./harness');

const REPO = path.resolve(__dirname, '../..');
const UID = 65534;

function skipReason() {
  const why = vmUnavailableReason();
  if (why) return why;
  if (!fs.existsSync(path.join(REPO, 'native/build/sandbox-stage'))) return 'native/build/sandbox-stage not built (npm run build)';
  if (!fs.existsSync(path.join(REPO, 'dist/lib/cgroup/index.js'))) return 'dist/ not built (npm run build)';
  // The guest runs the checkout as uid 65534 over a read-only 9p mount of /.
  for (let p = REPO; p !== '/'; p = path.dirname(p)) {
    if ((fs.statSync(p).mode & 0o005) !== 0o005) return `${p} is not readable by other users (the VM runs the checkout as uid ${UID})`;
  }
  return null;
}

// The sandbox as the user would run it: a root of the host's read-only /usr and friends.
const SB = `${REPO}/bin/sandbox run --no-profile --ro-bind /usr /usr --ro-bind /bin /bin --ro-bind /lib /lib --ro-bind-try /lib64 /lib64 --dev /dev --proc /proc`;

// watch.sh N SECONDS -- SANDBOX-ARGS...: start N sandboxes, wait for their N leaves, show the leaves'
// files, again after SECONDS, then wait for them to end and list what is left beside the launcher leaf.
const WATCH = String.raw`
n=$1; secs=$2; shift 3
for i in $(seq "$n"); do "$@" > /tmp/sb-out.$$.$i 2>&1 & done
base=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
case $base in */sandbox-launcher) base=$(dirname "$base");; esac
echo "base $base"
leaves() { for d in "$base"/sandbox-*-*; do [ -d "$d" ] && [ -n "$(cat "$d/cgroup.procs")" ] && echo "$d"; done; }
for i in $(seq 200); do [ "$(leaves | wc -l)" -ge "$n" ] && break; sleep 0.1; done
show() {
  for d in $(leaves); do
    exec 2>/dev/null  # a leaf has only the files of the controllers it needs
    echo "leaf $(basename "$d") procs=$(wc -l < "$d/cgroup.procs") memory.max=$(cat "$d/memory.max") memory.swap.max=$(cat "$d/memory.swap.max") cpu.max=$(cat "$d/cpu.max" | tr ' ' /) pids.max=$(cat "$d/pids.max") $(grep -E '^(usage_usec|nr_throttled) ' "$d/cpu.stat" | tr ' \n' '= ')"
  done
}
show; echo "t0 $(cut -d' ' -f1 /proc/uptime)"
sleep "$secs"
show; echo "t1 $(cut -d' ' -f1 /proc/uptime)"
wait
for i in $(seq "$n"); do sed "s/^/out$i: /" /tmp/sb-out.$$.$i; done
echo "after: $(cd "$base" && ls -d sandbox-* 2>/dev/null | tr '\n' ' ')"
`;

// after.sh CMD...: run CMD, then print its exit status and the leaves left beside the launcher leaf.
const AFTER = String.raw`
"$@"
echo "exit=$?"
base=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
case $base in */sandbox-launcher) base=$(dirname "$base");; esac
echo "after: $(cd "$base" && ls -d sandbox-* 2>/dev/null | tr '\n' ' ')"
`;

const CHECKS = String.raw`
cat > /tmp/watch.sh <<'EOF'
${WATCH}
EOF
cat > /tmp/after.sh <<'EOF'
${AFTER}
EOF
SB="${SB}"
check unshare as_user unshare -Ur true
check write-limits as_user sh -c 'c=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup); mkdir $c/probe && echo $$ > $c/probe/cgroup.procs' || true
check oom as_user sh /tmp/after.sh $SB --memory 64M -- tail /dev/zero
check pids as_user sh /tmp/after.sh $SB --pids 32 -- sh -c 'for i in $(seq 60); do sleep 3 & done 2>/dev/null; wait'
check cpu as_user sh /tmp/watch.sh 1 4 -- $SB --cpus 0.2 -- timeout 14 sh -c 'while :; do :; done'
check files as_user sh /tmp/watch.sh 1 0 -- $SB --memory 64M --cpus 1.5 --pids 100 -- sleep 8
check two as_user sh /tmp/watch.sh 2 0 -- $SB --pids 50 -- sleep 3
check stale as_user sh -c 'c=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup); mkdir $c/sandbox-999999-dead; '"$SB"' --pids 10 -- true; echo "rc=$?"; ls $c'
check undelegated as_user_undelegated $SB --memory 64M -- true
check best-effort as_user_undelegated $SB --memory 64M --limits best-effort -- echo ran
check print-plan as_user $SB --memory 64M --print-plan -- true
printf '{ extends: "minimal", limits: { pids: 24 } }' > /tmp/limited.json5; chmod 644 /tmp/limited.json5
check profile-limits as_user sh -c 'cd /tmp && ${REPO}/bin/sandbox run --profile /tmp/limited.json5 -- sh -c "cat /sys/fs/cgroup/pids.max 2>/dev/null || echo no-sys; for i in \$(seq 40); do sleep 2 & done 2>/dev/null; wait"; echo "rc=$?"'
check ps as_user sh -c '${SB} --memory 64M --pids 50 --name limited -- sh -c "sleep 20 & sleep 20 & wait" & for i in $(seq 100); do ${REPO}/bin/sandbox ps | grep -q "^limited " && break; sleep 0.1; done; sleep 1; ${REPO}/bin/sandbox ps --json; ${REPO}/bin/sandbox stop limited; wait $!; echo "rc=$?"'
check doctor as_user ${REPO}/bin/sandbox doctor
check doctor-json as_user ${REPO}/bin/sandbox doctor --json
`;

const skip = skipReason();
if (skip) {
  t.plan(0, `VM test skipped: ${skip}`);
} else {
  let vm;
  t.before(async () => {
    vm = await runVm({ checksScript: CHECKS, uid: UID, timeoutSeconds: 280 });
    // SANDBOX_VM_RESULTS=FILE keeps the guest's raw results channel for debugging.
    if (process.env.SANDBOX_VM_RESULTS) fs.writeFileSync(process.env.SANDBOX_VM_RESULTS, vm.results);
    t.comment(`VM: guest ready at ${vm.bootSeconds}s uptime, checks done at ${vm.done}s, ${vm.totalSeconds.toFixed(1)}s wall`);
  });
  const result = (t, name) => {
    const r = vm.checks.get(name);
    if (!r) {
      t.fail(`check ${name} produced no result`, { console: vm.console.slice(-3000), results: vm.results.slice(-3000) });
      return { rc: null, output: '' };
    }
    return r;
  };
  const leafLines = (out) => out.split('\n').filter((l) => l.startsWith('leaf '));

  t.test('the VM booted and ran every check', async (t) => {
    t.notOk(vm.timedOut, 'no time-out');
    t.notOk(vm.setupFailed, 'delegation set up');
    t.ok(vm.done !== null, 'checks finished');
  });

  t.test('user namespaces and delegated cgroup writes work for the test user', async (t) => {
    t.equal(result(t, 'unshare').rc, 0, 'unshare -Ur true');
    t.equal(result(t, 'write-limits').rc, 0, 'mkdir and move in the delegated subtree');
  });

  t.test('--memory 64M: the hog is OOM-killed and reported', async (t) => {
    const r = result(t, 'oom');
    t.match(r.output, /^exit=137$/m, 'killed by SIGKILL');
    t.match(r.output, /sandbox: memory limit reached \(--memory 64M\): the kernel killed \d+ process/);
    t.match(r.output, /^after: sandbox-launcher $/m, 'leaf removed');
  });

  t.test('--pids 32: forks are refused and reported', async (t) => {
    const r = result(t, 'pids');
    t.match(r.output, /sandbox: process limit reached \(--pids 32\): \d+ forks? (was|were) refused/);
    t.match(r.output, /^after: sandbox-launcher $/m, 'leaf removed');
  });

  t.test('--cpus 0.2: a busy loop is throttled', async (t) => {
    const r = result(t, 'cpu');
    const ls = leafLines(r.output);
    t.equal(ls.length, 2, 'leaf seen twice', { output: r.output });
    const num = (l, k) => Number((new RegExp(`${k}=(\\d+)`).exec(l) || [])[1]);
    const t0 = Number(/^t0 ([\d.]+)/m.exec(r.output)?.[1]), t1 = Number(/^t1 ([\d.]+)/m.exec(r.output)?.[1]);
    t.match(ls[0], /cpu\.max=20000\/100000/);
    t.ok(num(ls[1], 'nr_throttled') > num(ls[0], 'nr_throttled'), `nr_throttled grows: ${num(ls[0], 'nr_throttled')} → ${num(ls[1], 'nr_throttled')}`);
    const share = (num(ls[1], 'usage_usec') - num(ls[0], 'usage_usec')) / 1e6 / (t1 - t0);
    t.ok(share < 0.3, `cpu share over ${(t1 - t0).toFixed(1)}s: ${share.toFixed(3)} (limit 0.2)`);
    t.match(r.output, /^after: sandbox-launcher $/m, 'leaf removed');
  });

  t.test('limits written to the leaf, program born in it, leaf removed at exit', async (t) => {
    const r = result(t, 'files');
    const [l] = leafLines(r.output);
    t.match(l, /procs=[1-9]/, 'program in the leaf');
    t.match(l, /memory\.max=67108864 memory\.swap\.max=0 cpu\.max=150000\/100000 pids\.max=100/);
    t.match(r.output, /^base \/sys\/fs\/cgroup\/user\.slice\/user-65534\.slice\/user@65534\.service\/app\.slice\/run-\d+-\d+\.scope$/m);
    t.match(r.output, /^after: sandbox-launcher $/m, 'only the launcher leaf is left');
  });

  t.test('two sandboxes at once get separate leaves', async (t) => {
    const r = result(t, 'two');
    const names = leafLines(r.output).map((l) => l.split(' ')[1]);
    t.equal(new Set(names).size, 2, `leaves: ${names.join(' ')}`);
    t.match(r.output, /^after: sandbox-launcher $/m);
  });

  t.test('a stale leaf of a dead monitor is removed by the next run', async (t) => {
    const r = result(t, 'stale');
    t.match(r.output, /rc=0/);
    t.notMatch(r.output, /sandbox-999999-dead/);
  });

  t.test('sandbox ps shows the leaf\'s memory.current, cpu usage and pids.current; stop ends it', async (t) => {
    const r = result(t, 'ps');
    const json = /^\[[\s\S]*?^\]$/m.exec(r.output);
    t.ok(json, r.output);
    const rows = json ? JSON.parse(json[0]) : [];
    const row = rows.find((x) => x.name === 'limited');
    t.ok(row, 'listed');
    if (row) {
      t.match(row.cgroup, /\/sandbox-\d+-/);
      t.ok(row.usage.memoryCurrent > 0, `memory.current ${row.usage.memoryCurrent}`);
      t.ok(row.usage.cpuUsageUsec > 0, `cpu usage ${row.usage.cpuUsageUsec}`);
      t.ok(row.usage.pidsCurrent >= 3, `pids.current ${row.usage.pidsCurrent}: sh and two sleeps`);
    }
    t.match(r.output, /rc=143/, 'stop: the run ends as its program did (SIGTERM)');
  });

  t.test('without delegation: one clear line, exit 125', async (t) => {
    const r = result(t, 'undelegated');
    t.equal(r.rc, 125);
    t.equal(r.output.trim().split('\n').length, 1, 'one line');
    t.match(r.output, /^sandbox: --memory: no delegated cgroup v2 subtree for uid 65534 \(\/sys\/fs\/cgroup\/system\.slice\/undelegated\.scope is owned by uid 0 and is not writable; .*\); run under a systemd user session, ask your admin to delegate one, or use --limits=best-effort$/);
  });

  t.test('best-effort without delegation: runs and says so once', async (t) => {
    const r = result(t, 'best-effort');
    t.equal(r.rc, 0);
    const lines = r.output.trim().split('\n');
    t.equal(lines.filter((l) => l.startsWith('sandbox:')).length, 1, 'one warning');
    t.match(r.output, /running without limits/);
    t.match(r.output, /^ran$/m);
  });

  t.test('--print-plan names the cgroup and why', async (t) => {
    const r = result(t, 'print-plan');
    t.equal(r.rc, 0);
    t.match(r.output, /"leaf": "\/sys\/fs\/cgroup\/user\.slice\/user-65534\.slice\/user@65534\.service\/app\.slice\/run-\d+-\d+\.scope\/sandbox-\d+-[0-9a-f]+"/);
    t.match(r.output, /"cgroupWhy": \[\s*"caller's cgroup .* is writable by uid 65534/);
  });

  t.test('a profile\'s limits act like the options', async (t) => {
    const r = result(t, 'profile-limits');
    t.match(r.output, /sandbox: process limit reached \(limits\.pids 24 \(\/tmp\/limited\.json5:\d+:\d+\)\)/);
    t.match(r.output, /rc=(?!125\b)\d+/, 'the program ran (its fork failed), not a sandbox error');
  });

  t.test('sandbox doctor on a host with delegated cgroup v2', async (t) => {
    const r = result(t, 'doctor');
    t.equal(r.rc, 0, r.output);
    t.match(r.output, /^ok\s+cgroup v2\s/m);
    t.match(r.output, /^ok\s+user namespaces\s/m);
    const j = JSON.parse(result(t, 'doctor-json').output);
    t.equal(j.canRun, true);
    t.equal(j.findings.find((f) => f.id === 'cgroup').verdict, 'ok');
  });
}
