'use strict';
// Resource limits on a systemd desktop: one VM boot (test/vm/harness.js, systemd: systemd 252 of this
// machine as PID 1 over an overlay of the host root) with the test user's manager (user@UID.service,
// started as linger would). Every check runs as that user from a login-like environment
// (XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS) in a root-owned cgroup, as an ssh login's session scope
// is, or from scopes the user manager made; the sandbox asks the manager for a transient scope with
// Delegate=yes over D-Bus (busctl) and builds its leaf there.
const t = require('tap');
// one VM boot runs every check under software emulation: its own limit (runVm's timeoutSeconds) is the one that counts
t.setTimeout(900 * 1000);
const fs = require('node:fs');
const path = require('node:path');
const { vmUnavailableReason, runVm } = require('./harness');

const REPO = path.resolve(__dirname, '../..');
// a uid of its own: the guest adds it to its (overlay) /etc/passwd with a home, as a desktop user has
const UID = 2000;
// SANDBOX_VM_MANY_SECONDS: how long the leftovers check starts sandboxes one after another
const MANY_SECONDS = Number(process.env.SANDBOX_VM_MANY_SECONDS || 60);

function skipReason() {
  const why = vmUnavailableReason();
  if (why) return why;
  if (!fs.existsSync('/lib/systemd/systemd')) return '/lib/systemd/systemd not installed (apt-get install systemd)';
  if (!fs.existsSync('/usr/lib/systemd/user/dbus.socket')) return 'no user bus socket unit (apt-get install dbus-user-session)';
  if (!fs.existsSync('/usr/bin/busctl')) return '/usr/bin/busctl not installed (apt-get install systemd)';
  if (!fs.existsSync(path.join(REPO, 'native/build/sandbox-stage'))) return 'native/build/sandbox-stage not built (npm run build)';
  if (!fs.existsSync(path.join(REPO, 'dist/lib/cgroup/index.js'))) return 'dist/ not built (npm run build)';
  for (let p = REPO; p !== '/'; p = path.dirname(p)) {
    if ((fs.statSync(p).mode & 0o005) !== 0o005) return `${p} is not readable by other users (the VM runs the checkout as uid ${UID})`;
  }
  return null;
}

const SB = `${REPO}/bin/sandbox run --no-profile --ro-bind /usr /usr --ro-bind /bin /bin --ro-bind /lib /lib --ro-bind-try /lib64 /lib64 --dev /dev --proc /proc`;
const APP = `/sys/fs/cgroup/user.slice/user-${UID}.slice/user@${UID}.service/app.slice`;

// scopes.sh: what the user manager has of ours, and what is left in app.slice
const SCOPES = String.raw`
echo "units: $(systemctl --user list-units --all --no-legend --plain 'sandbox-*' | awk '{print $1}' | tr '\n' ' ')"
echo "cgroups: $(cd ${APP} && ls -d sandbox-* 2>/dev/null | tr '\n' ' ')"
echo "failed: $(systemctl --user list-units --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')"
`;

// after.sh CMD...: run CMD, print its exit status and what is left.
const AFTER = String.raw`
"$@"
echo "exit=$?"
sh /tmp/scopes.sh
`;

// watch.sh SECONDS -- SANDBOX-ARGS...: start one sandbox, wait for its scope, show the scope as
// the leaf's files, again after SECONDS, the scope as systemctl --user status and show print it and its
// cgroups (the program must still run then: under software emulation systemctl takes seconds); then its end.
const WATCH = String.raw`
secs=$1; shift 2
"$@" > /tmp/watch-out.$$ 2>&1 &
# the leaf is made before the stage moves the program in: wait for a process in it, not only for the directory
# (cgroup files say size 0: read it)
for i in $(seq 300); do s=$(cd ${APP} && ls -d sandbox-*.scope 2>/dev/null | head -1); [ -n "$s" ] && l=$(ls -d ${APP}/$s/sandbox-* 2>/dev/null | head -1) && [ -n "$l" ] && [ -n "$(cat "$l/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.1; done
echo "scope $s"
leaf=$(ls -d ${APP}/$s/sandbox-* | head -1)
show() {
  exec 2>/dev/null
  echo "leaf $(basename "$leaf") procs=$(wc -l < "$leaf/cgroup.procs") memory.max=$(cat "$leaf/memory.max") memory.swap.max=$(cat "$leaf/memory.swap.max") cpu.max=$(cat "$leaf/cpu.max" | tr ' ' /) pids.max=$(cat "$leaf/pids.max") $(grep -E '^(usage_usec|nr_throttled) ' "$leaf/cpu.stat" | tr ' \n' '= ')"
}
show; echo "t0 $(cut -d' ' -f1 /proc/uptime)"
sleep "$secs"
show; echo "t1 $(cut -d' ' -f1 /proc/uptime)"
echo "--- systemctl --user status"
systemctl --user status --no-pager --lines=0 "$s" | sed 's/^/status: /'
echo "--- systemctl --user show"
systemctl --user show -p Id,Delegate,ControlGroup,ActiveState,SubState,CollectMode,Slice "$s" | sed 's/^/show: /'
echo "--- cgroup tree"
(cd ${APP}/$s && find . -mindepth 1 -maxdepth 1 -type d | sort | while read -r d; do echo "tree: $d procs=$(tr '\n' ' ' < "$d/cgroup.procs")"; done; echo "tree: . procs=$(tr '\n' ' ' < cgroup.procs) subtree_control=$(cat cgroup.subtree_control) owner=$(stat -c %u .)")
wait
sed 's/^/out: /' /tmp/watch-out.$$
sleep 0.5
sh /tmp/scopes.sh
`;

// many.sh SECONDS: sandboxes with limits one after another for SECONDS, then the leftovers.
const MANY = String.raw`
end=$(( $(cut -d. -f1 /proc/uptime) + $1 )); n=0; bad=0
while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
  out=$(${SB} --memory 64M --pids 50 --cpus 1 -- true 2>&1) || { bad=$((bad + 1)); echo "run $n: $out"; }
  n=$((n + 1))
done
echo "ran=$n failed=$bad"
sleep 1
sh /tmp/scopes.sh
# what a launch costs here, with a scope and without limits
for kind in limits none; do
  a=$(cut -d' ' -f1 /proc/uptime)
  for i in 1 2 3; do if [ $kind = limits ]; then ${SB} --pids 50 -- true; else ${SB} -- true; fi; done
  echo "launch-$kind: $(echo "$(cut -d' ' -f1 /proc/uptime) $a" | awk '{printf "%.2f", ($1 - $2) / 3}') s"
done
`;

// escape.sh: a program under --pids 20 tries to leave its leaf: through the user manager (a scope of its
// own, as the launcher got one) and through the cgroup tree; then what the manager has.
const ESCAPE = String.raw`
${SB} --pids 20 -- sh -c '
  echo "inside: $(cat /proc/self/cgroup)"
  busctl --user call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager StartTransientUnit "ssa(sv)a(sa(sv))" escape-1.scope fail 1 PIDs au 1 $$ 0 2>&1 | sed "s/^/busctl: /"
  { echo $$ > /sys/fs/cgroup/cgroup.procs; } 2>&1 | sed "s/^/write: /"
  { mkdir /sys/fs/cgroup/x; } 2>&1 | sed "s/^/mkdir: /"
  echo "still: $(cat /proc/self/cgroup) pids.max=$(cat /sys/fs/cgroup/pids.max 2>/dev/null || echo unseen)"
'
echo "escape units: $(systemctl --user list-units --all --no-legend --plain 'escape-*' | tr '\n' ' ')"
sh /tmp/scopes.sh
`;

const CHECKS = String.raw`
cat > /tmp/scopes.sh <<'EOF'
${SCOPES}
EOF
cat > /tmp/after.sh <<'EOF'
${AFTER}
EOF
cat > /tmp/watch.sh <<'EOF'
${WATCH}
EOF
cat > /tmp/escape.sh <<'EOF'
${ESCAPE}
EOF
cat > /tmp/many.sh <<'EOF'
${MANY}
EOF
chmod 644 /tmp/*.sh
SB="${SB}"
check manager as_login sh -c 'systemctl --user is-system-running; ls $XDG_RUNTIME_DIR/systemd/private $XDG_RUNTIME_DIR/bus; cat /proc/self/cgroup'
check print-plan as_login $SB --memory 64M --print-plan -- true
check scope as_login sh /tmp/watch.sh 0 -- $SB --memory 64M --cpus 1.5 --pids 100 -- sleep 20
check oom as_login sh /tmp/after.sh $SB --memory 64M -- tail /dev/zero
check pids as_login sh /tmp/after.sh $SB --pids 32 -- sh -c 'for i in $(seq 60); do sleep 3 & done 2>/dev/null; wait'
check cpu as_login sh /tmp/watch.sh 4 -- $SB --cpus 0.2 -- timeout 20 sh -c 'while :; do :; done'
check app-scope as_login systemd-run --user --scope --quiet -u app-term-1.scope sh -c "$SB --pids 20 --print-plan -- true | grep -A1 cgroupWhy; $SB --pids 20 -- true; echo rc=\$?; c=/sys/fs/cgroup\$(sed -n 's/^0:://p' /proc/self/cgroup); echo own=\$c; echo dirs=\$(cd \$c && find . -mindepth 1 -type d | tr '\n' ' '); echo procs=\$(cat \$c/cgroup.procs | wc -l)"
check delegated-scope as_login systemd-run --user --scope --quiet -p Delegate=yes -u app-deleg-1.scope sh -c "$SB --pids 20 --print-plan -- true | grep -A2 cgroupWhy; $SB --pids 20 -- true; echo rc=\$?"
check escape as_login sh /tmp/escape.sh
VM_CHECK_TIMEOUT=${MANY_SECONDS + 90}
check many as_login sh /tmp/many.sh ${MANY_SECONDS}
VM_CHECK_TIMEOUT=60
check failed as_login sh -c 'systemctl --user --failed --no-pager; systemctl --user is-system-running'
check journal sh -c "journalctl --no-pager -o short-monotonic | grep -E 'sandbox-[0-9]+-|oom|OOM' | tail -n 12"
`;

const skip = skipReason();
if (skip) {
  t.plan(0, `VM test skipped: ${skip}`);
} else {
  let vm;
  t.before(async () => {
    vm = await runVm({ checksScript: CHECKS, uid: UID, timeoutSeconds: 900, memoryMiB: 1536, systemd: {} });
    if (process.env.SANDBOX_VM_RESULTS) fs.writeFileSync(process.env.SANDBOX_VM_RESULTS, vm.results);
    t.comment(`VM (systemd): checks service started at ${vm.bootSeconds}s uptime, user manager up at ${vm.userManager}s, checks done at ${vm.done}s, ${vm.totalSeconds.toFixed(1)}s wall`);
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
  const nothingLeft = (t, out) => {
    t.match(out, /^units: $/m, 'no sandbox scope left in the user manager');
    t.match(out, /^cgroups: $/m, 'no sandbox cgroup left in app.slice');
    t.match(out, /^failed: $/m, 'no failed user unit');
  };

  t.test('systemd booted and the user manager runs', async (t) => {
    t.notOk(vm.timedOut, 'no time-out');
    t.notOk(vm.setupFailed, 'user@UID.service started');
    t.ok(vm.done !== null, 'checks finished');
    const r = result(t, 'manager');
    t.match(r.output, /^running$/m, 'systemctl --user is-system-running');
    t.match(r.output, /^0::\/system\.slice\/vm-checks\.service$/m, 'the checks run in a root-owned cgroup, as a login session does');
  });

  t.test('--print-plan: a transient scope is asked for', async (t) => {
    const r = result(t, 'print-plan');
    t.equal(r.rc, 0, r.output);
    t.match(r.output, /"cgroupWhy": \[\s*"caller's cgroup isn't delegated with memory \(\/sys\/fs\/cgroup\/system\.slice\/vm-checks\.service is owned by uid 0 and is not writable; .*\); asking the systemd user manager for scope sandbox-\d+-[0-9a-f]+\.scope with Delegate=yes"/);
  });

  t.test('the sandbox runs in a transient scope with Delegate=yes; limits in its leaf; scope gone after exit', async (t) => {
    const r = result(t, 'scope');
    t.equal(r.rc, 0, r.output);
    const [l] = leafLines(r.output);
    t.match(l, /procs=[1-9]/, 'program in the leaf');
    t.match(l, /memory\.max=67108864 memory\.swap\.max=0 cpu\.max=150000\/100000 pids\.max=100/);
    t.match(r.output, /^scope sandbox-\d+-[0-9a-f]+\.scope$/m);
    t.match(r.output, /^show: Delegate=yes$/m);
    t.match(r.output, /^show: ActiveState=active$/m);
    t.match(r.output, /^show: CollectMode=inactive-or-failed$/m);
    t.match(r.output, new RegExp(`^show: ControlGroup=/user\\.slice/user-${UID}\\.slice/user@${UID}\\.service/app\\.slice/sandbox-\\d+-[0-9a-f]+\\.scope$`, 'm'));
    t.match(r.output, /^tree: \.\/monitor procs=\d+ $/m, 'the monitor in its own cgroup of the scope');
    t.match(r.output, /^tree: \.\/sandbox-\d+-[0-9a-f]+ procs=\d+/m, 'the leaf beside it');
    t.match(r.output, new RegExp(`^tree: \\. procs= subtree_control=.*memory.* owner=${UID}$`, 'm'), 'the scope itself holds no process, is the user\'s');
    t.match(r.output, /^status: .*sandbox-\d+-[0-9a-f]+\.scope - sandbox \d+-[0-9a-f]+$/m, 'systemctl --user status names it');
    nothingLeft(t, r.output);
  });

  t.test('--memory 64M: the hog is OOM-killed and reported, the scope is gone', async (t) => {
    const r = result(t, 'oom');
    t.match(r.output, /^exit=137$/m, 'killed by SIGKILL');
    t.match(r.output, /sandbox: memory limit reached \(--memory 64M\): the kernel killed \d+ process/);
    nothingLeft(t, r.output);
  });

  t.test('--pids 32: forks are refused and reported, the scope is gone', async (t) => {
    const r = result(t, 'pids');
    t.match(r.output, /sandbox: process limit reached \(--pids 32\): \d+ forks? (was|were) refused/);
    nothingLeft(t, r.output);
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
    nothingLeft(t, r.output);
  });

  t.test('from an app\'s scope the user owns but systemd manages: nothing is made in it', async (t) => {
    const r = result(t, 'app-scope');
    t.match(r.output, /^rc=0$/m, r.output);
    t.match(r.output, /^own=.*\/app\.slice\/app-term-1\.scope$/m);
    t.match(r.output, /^dirs=$/m, 'no sandbox-launcher or leaf inside the app\'s scope');
    t.match(r.output, /"caller's cgroup \/sys\/fs\/cgroup\/.*\/app-term-1\.scope belongs to app-term-1\.scope, which the systemd user manager manages \(no Delegate=yes\): nothing is made there; asking the systemd user manager for scope sandbox-\d+-[0-9a-f]+\.scope with Delegate=yes"/);
  });

  t.test('from a scope with Delegate=yes: its own cgroup is used', async (t) => {
    const r = result(t, 'delegated-scope');
    t.match(r.output, /caller's cgroup .*app-deleg-1\.scope is writable by uid \d+ \(app-deleg-1\.scope has Delegate=yes\)/);
    t.match(r.output, /^rc=0$/m);
  });

  t.test('a program in the sandbox can\'t leave its leaf: no user bus, no writable cgroup tree', async (t) => {
    const r = result(t, 'escape');
    t.match(r.output, /^busctl: .*(Failed to connect|No such file|not found)/mi, 'no way to the user manager from inside');
    t.notMatch(r.output, /^busctl: o "\/org\/freedesktop\/systemd1\/job/m);
    t.match(r.output, /^escape units: $/m, 'the manager made no scope for it');
    t.match(r.output, /^write: /m, 'writing cgroup.procs fails');
    t.match(r.output, /^mkdir: /m, 'making a cgroup fails');
    nothingLeft(t, r.output);
  });

  t.test(`sandboxes with limits one after another for ${MANY_SECONDS}s leave nothing behind`, async (t) => {
    const r = result(t, 'many');
    const m = /^ran=(\d+) failed=(\d+)$/m.exec(r.output);
    t.ok(m, r.output);
    if (m) {
      t.comment(`${m[1]} sandboxes in ${MANY_SECONDS}s under software emulation; one launch: ${/launch-limits: (\S+)/.exec(r.output)?.[1]} s with a scope, ${/launch-none: (\S+)/.exec(r.output)?.[1]} s without limits`);
      t.ok(Number(m[1]) > 0, 'some ran');
      t.equal(Number(m[2]), 0, 'none failed');
    }
    nothingLeft(t, r.output);
  });

  t.test('systemctl --user shows nothing broken', async (t) => {
    const r = result(t, 'failed');
    t.match(r.output, /^0 loaded units listed\.$/m);
    t.match(r.output, /^running$/m);
  });
}
