// sandbox doctor against fake hosts: every file, access check and probe answer comes from a table, so each
// kind of host (Ubuntu's AppArmor restriction, user namespaces off, hybrid cgroups, delegated cgroup v2,
// an old kernel, no probe) gets the verdicts and advice it should.
'use strict';
const t = require('tap');
const { diagnoseHost } = require('../../dist/lib/host/doctor');
const { readCgroupHost, parseMountinfo, cgroupLayout } = require('../../dist/lib/cgroup/host');
const { planCgroup } = require('../../dist/lib/cgroup/plan');
const { parseProbeOutput } = require('../../dist/lib/host/reader');
const { runDoctorCommand, formatReport } = require('../../dist/lib/cli/doctor-command');
const { SandboxError } = require('../../dist/lib/errors');

const STAGE = '/opt/sandbox/native/build/sandbox-stage';
const GOOD_PROBE = {
  kernel: '6.8.0', clone3: 'ok', clone_into_cgroup: 'ok', open_tree: 'ok', openat2: 'ok', mount_setattr: 'ok',
  landlock_abi: '6', userns: 'ok', userns_mount: 'ok',
};
const UNIFIED_MOUNTINFO = [
  '22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw',
  '30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
].join('\n');
const HYBRID_MOUNTINFO = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const USER_SERVICE = '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service';

const TERM_SCOPE = `${USER_SERVICE}/app.slice/term.scope`;
/** The user manager's answer for the caller's pid: the terminal's scope, the manager's own (no Delegate=yes). */
const TERM_UNIT = { unit: 'app-term.scope', delegate: false };

/**
 * A host where uid 1000 (alice) may do everything an ordinary Ubuntu 24.04 desktop allows, minus AppArmor:
 * a systemd user manager reachable over the user bus, the caller in its terminal's scope.
 */
function fakeHost(over = {}) {
  const files = {
    '/proc/sys/kernel/osrelease': '6.8.0-45-generic\n',
    '/proc/sys/user/max_user_namespaces': '63459\n',
    '/proc/self/mountinfo': UNIFIED_MOUNTINFO,
    '/proc/self/cgroup': '0::/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope\n',
    '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids\n',
    [`${USER_SERVICE}/cgroup.controllers`]: 'cpuset cpu io memory pids\n',
    [`${USER_SERVICE}/cgroup.subtree_control`]: 'cpu io memory pids\n',
    [`${TERM_SCOPE}/cgroup.controllers`]: 'cpu io memory pids\n',
    [`${TERM_SCOPE}/cgroup.procs`]: '4000\n4242\n',
    '/proc/self/status': 'Name:\tnode\nSeccomp:\t0\nSeccomp_filters:\t0\n',
    '/proc/sys/kernel/seccomp/actions_avail': 'kill_process kill_thread trap errno user_notif trace log allow\n',
    '/sys/kernel/security/lsm': 'lockdown,capability,landlock,yama,apparmor\n',
    '/etc/passwd': 'root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n',
    '/etc/subuid': 'alice:100000:65536\n',
    ...(over.files || {}),
  };
  for (const [k, v] of Object.entries(over.files || {})) if (v === null) delete files[k];
  const writable = over.writable || [USER_SERVICE, `${USER_SERVICE}/cgroup.procs`, `${USER_SERVICE}/cgroup.subtree_control`,
    `${USER_SERVICE}/app.slice`, `${USER_SERVICE}/app.slice/cgroup.procs`, `${USER_SERVICE}/app.slice/cgroup.subtree_control`,
    TERM_SCOPE, `${TERM_SCOPE}/cgroup.procs`, `${TERM_SCOPE}/cgroup.subtree_control`];
  // What exists beyond the files: busctl and the user manager's sockets (none of them: no systemd user manager).
  const present = over.present || ['/usr/bin/busctl', '/run/user/1000/systemd/private', '/run/user/1000/bus'];
  // The cgroup facts come from lib/cgroup's one discoverer, over the same tables, as `sandbox run` would read them.
  const cgroupFs = {
    readFile: (f) => { if (f in files) return files[f]; throw Object.assign(new Error(`ENOENT: ${f}`), { code: 'ENOENT' }); },
    exists: (f) => f in files || writable.includes(f) || present.includes(f),
    canWrite: (f) => writable.includes(f),
    ownerUid: (f) => (writable.includes(f) ? 1000 : 0),
    listDirs: () => [],
    pidAlive: () => true,
    writeFile: () => { throw new Error('doctor writes nothing'); },
    mkdir: () => { throw new Error('doctor writes nothing'); },
    rmdir: () => { throw new Error('doctor writes nothing'); },
  };
  const cgroup = () => readCgroupHost({ ops: cgroupFs, uid: over.uid ?? 1000, pid: 4242, env: { XDG_RUNTIME_DIR: '/run/user/1000' },
    unitOfPid: () => ('unit' in over ? over.unit : TERM_UNIT) });
  return {
    readFile: (f) => (f in files ? files[f] : null),
    writable: (f) => writable.includes(f),
    executable: (f) => f === STAGE && over.stageBuilt !== false,
    which: (p) => (over.programs || ['newuidmap', 'newgidmap', 'unshare']).includes(p) ? `/usr/bin/${p}` : null,
    probe: () => ('probe' in over ? over.probe : { ...GOOD_PROBE, ...(over.probeOver || {}) }),
    unshareProbe: () => ('unshare' in over ? over.unshare : { ok: true, detail: '' }),
    uid: over.uid ?? 1000,
    gid: over.gid ?? 1000,
    stagePath: STAGE,
    cgroup,
  };
}

const find = (report, id) => report.findings.find((f) => f.id === id);

t.test('a good unified host with delegation: everything ok, exit 0', async (t) => {
  const r = diagnoseHost(fakeHost());
  t.equal(r.canRun, true);
  t.equal(r.user, 'alice');
  for (const f of r.findings) t.equal(f.verdict, 'ok', `${f.id}: ${f.summary}`);
  const cg = find(r, 'cgroup');
  t.equal(cg.facts.layout, 'unified');
  t.equal(cg.facts.via, 'systemd-scope', 'the terminal\'s scope is the manager\'s: limits come from a transient scope, as run does it');
  t.equal(cg.facts.own_unit, 'app-term.scope');
  t.match(cg.summary, /transient scope with Delegate=yes.*memory, cpu and pids limits work/);
  t.match(find(r, 'idmap').summary, /installed.*100000\+65536.*not needed/);
  const lines = [];
  t.equal(runDoctorCommand([], { out: (s) => lines.push(s), err: () => {} }, fakeHost()), 0);
  t.match(lines.join('\n'), /Sandboxes can run here, with every protection/);
});

t.test("Ubuntu 24.04's AppArmor restriction: fail, with the profile and the sysctl", async (t) => {
  const host = fakeHost({
    files: { '/proc/sys/kernel/apparmor_restrict_unprivileged_userns': '1\n' },
    probeOver: { userns: 'ok', userns_mount: 'EPERM' },
  });
  const r = diagnoseHost(host);
  t.equal(r.canRun, false);
  const u = find(r, 'userns');
  t.equal(u.verdict, 'fail');
  t.match(u.summary, /AppArmor restriction is on/);
  t.match(u.fix, /\/etc\/apparmor\.d\/sandbox-stage/);
  t.match(u.fix, new RegExp(`profile sandbox-stage ${STAGE} flags=\\(unconfined\\)`));
  t.match(u.fix, /userns,/);
  t.match(u.fix, /kernel\.apparmor_restrict_unprivileged_userns=0/);
  t.equal(u.facts.apparmor_restrict_unprivileged_userns, 1);
  t.equal(u.facts.mount, false);
  const out = [];
  t.equal(runDoctorCommand([], { out: (s) => out.push(s), err: () => {} }, host), 1, 'exit 1: sandboxes cannot run');
  t.match(out.join('\n'), /FAIL {2}user namespaces/);
  t.match(out.join('\n'), /Sandboxes can't run here: 1 problem/);
});

t.test("the restriction on, and the stage's AppArmor profile loaded: ok, though the probe itself is refused", async (t) => {
  const files = { '/proc/sys/kernel/apparmor_restrict_unprivileged_userns': '1', '/sys/kernel/security/apparmor/profiles': 'snap.x (enforce)\nsandbox-stage (unconfined)\n' };
  const probeOver = { userns_mount: 'EPERM' };
  const r = diagnoseHost(fakeHost({ files, probeOver }));
  t.equal(find(r, 'userns').verdict, 'ok');
  t.match(find(r, 'userns').summary, /profile sandbox-stage is loaded/);
  const other = diagnoseHost(fakeHost({ files: { ...files, '/etc/apparmor.d/sandbox-stage': 'profile sandbox-stage /elsewhere/sandbox-stage flags=(unconfined) { userns, }' }, probeOver }));
  t.equal(find(other, 'userns').verdict, 'fail');
  t.match(find(other, 'userns').summary, /names another path/);
});

t.test('the restriction on, but a profile lets the user through: ok with a note', async (t) => {
  const r = diagnoseHost(fakeHost({ files: { '/proc/sys/kernel/apparmor_restrict_unprivileged_userns': '1' } }));
  t.equal(find(r, 'userns').verdict, 'ok');
  t.match(find(r, 'userns').summary, /restriction is on, but something lets you through/);
});

t.test('user namespaces switched off', async (t) => {
  const off = diagnoseHost(fakeHost({ files: { '/proc/sys/user/max_user_namespaces': '0\n' }, probeOver: { userns: 'ENOSPC', userns_mount: 'skipped' } }));
  t.equal(off.canRun, false);
  t.match(find(off, 'userns').summary, /max_user_namespaces is 0/);
  t.match(find(off, 'userns').fix, /sysctl -w user\.max_user_namespaces=/);
  const debian = diagnoseHost(fakeHost({ files: { '/proc/sys/kernel/unprivileged_userns_clone': '0\n' }, probeOver: { userns: 'EPERM', userns_mount: 'skipped' } }));
  t.equal(find(debian, 'userns').verdict, 'fail');
  t.match(find(debian, 'userns').fix, /kernel\.unprivileged_userns_clone=1/);
  const unknown = diagnoseHost(fakeHost({ probeOver: { userns: 'EPERM', userns_mount: 'skipped' } }));
  t.match(find(unknown, 'userns').summary, /creating it: EPERM/);
  t.match(find(unknown, 'userns').fix, /container/);
});

t.test('no probe: unshare decides, or the switches do', async (t) => {
  const viaUnshare = diagnoseHost(fakeHost({ probe: null, unshare: { ok: false, detail: 'unshare failed: Operation not permitted' } }));
  t.equal(find(viaUnshare, 'userns').verdict, 'fail');
  t.equal(find(viaUnshare, 'userns').facts.probe, 'unshare -Ur true');
  const noTools = diagnoseHost(fakeHost({ probe: null, unshare: null }));
  t.equal(noTools.canRun, true);
  t.equal(find(noTools, 'userns').verdict, 'warn');
  t.match(find(noTools, 'userns').summary, /not tested/);
  t.equal(find(noTools, 'syscalls').facts.source, 'kernel version');
  t.equal(find(noTools, 'syscalls').verdict, 'warn');
  t.match(find(noTools, 'landlock').summary, /ABI unknown/);
});

t.test('an old kernel: no mount_setattr, no Landlock, no CLONE_INTO_CGROUP', async (t) => {
  const r = diagnoseHost(fakeHost({
    files: { '/proc/sys/kernel/osrelease': '5.10.0-28-amd64\n', '/sys/kernel/security/lsm': 'capability,yama,apparmor' },
    probeOver: { mount_setattr: 'ENOSYS', landlock_abi: 'ENOSYS' },
  }));
  t.equal(r.canRun, false);
  t.equal(find(r, 'kernel').verdict, 'fail');
  t.match(find(r, 'syscalls').summary, /lacks mount_setattr/);
  t.equal(find(r, 'landlock').verdict, 'warn');
  t.match(find(r, 'landlock').summary, /no Landlock/);
  const noCgroupClone = diagnoseHost(fakeHost({ probeOver: { clone_into_cgroup: 'EINVAL' } }));
  t.equal(find(noCgroupClone, 'syscalls').verdict, 'warn');
  t.match(find(noCgroupClone, 'syscalls').summary, /CLONE_INTO_CGROUP missing/);
  const disabled = diagnoseHost(fakeHost({ probeOver: { landlock_abi: 'EOPNOTSUPP' } }));
  t.match(disabled.findings.find((f) => f.id === 'landlock').fix, /lsm=/);
  const abi4 = diagnoseHost(fakeHost({ probeOver: { landlock_abi: '4' } }));
  t.equal(find(abi4, 'landlock').verdict, 'warn');
  t.match(find(abi4, 'landlock').summary, /not the scopes/);
});

/** doctor's verdict and what `sandbox run --memory 1M --cpus 1 --pids 1` would do on the same host: one decision. */
function agrees(t, host) {
  const f = find(diagnoseHost(host), 'cgroup');
  let runs = true;
  const limits = { memory: { value: 1 << 20, origin: '--memory 1M', from: 'option' }, cpus: { value: 1, origin: '--cpus 1', from: 'option' }, pids: { value: 1, origin: '--pids 1', from: 'option' } };
  try { planCgroup(limits, '1-a', host.cgroup()); } catch { runs = false; }
  t.equal(f.verdict === 'ok', runs, `doctor says ${f.verdict}, run would ${runs ? 'apply the limits' : 'refuse them'}`);
  return f;
}

t.test('hybrid cgroups (this CI machine): warn, limits off, sandboxes still run', async (t) => {
  const host = fakeHost({
    files: { '/proc/self/mountinfo': HYBRID_MOUNTINFO, '/proc/self/cgroup': '4:memory:/x\n1:cpu:/\n0::/\n', '/sys/fs/cgroup/unified/cgroup.controllers': '' },
    writable: [], present: [],
  });
  const cg = host.cgroup();
  t.equal(cg.mount, '/sys/fs/cgroup/unified');
  t.equal(cg.own.path, '/sys/fs/cgroup/unified');
  t.same(cgroupLayout(HYBRID_MOUNTINFO), { layout: 'hybrid', v1Controllers: ['cpu', 'memory', 'pids'] });
  const r = diagnoseHost(host);
  t.equal(r.canRun, true);
  const f = agrees(t, host);
  t.equal(f.verdict, 'warn');
  t.match(f.summary, /no delegated cgroup v2 subtree for uid 1000 \(host has cgroup v2 at \/sys\/fs\/cgroup\/unified with no memory, cpu, pids controllers\) \(hybrid layout: the controllers cpu, memory, pids are on cgroup v1\)/);
  t.match(f.summary, /--limits best-effort/);
  t.match(f.fix, /systemd\.unified_cgroup_hierarchy=1/);
});

t.test('doctor and run decide alike: delegated by hand, a session scope, missing controllers, a terminal scope', async (t) => {
  // Delegated by hand (an HPC node, no user manager): the caller's own cgroup is the base, as run uses it.
  const byHand = fakeHost({ files: { '/proc/self/cgroup': '0::/user.slice/user-1000.slice/user@1000.service\n', [`${USER_SERVICE}/cgroup.procs`]: '' }, present: [] });
  const d = agrees(t, byHand);
  t.equal(d.verdict, 'ok');
  t.equal(d.facts.via, 'delegated');
  t.equal(d.facts.base, USER_SERVICE);
  // The session scope, not writable, no user manager.
  const scope = agrees(t, fakeHost({ files: { '/proc/self/cgroup': '0::/user.slice/user-1000.slice/session-2.scope\n' }, writable: [], present: [] }));
  t.equal(scope.verdict, 'warn');
  t.match(scope.fix, /systemd-run --user --scope/);
  // Delegated, but without memory (or without cpu: run refuses --cpus then, so doctor warns too).
  for (const controllers of ['cpu pids', 'memory pids']) {
    const f = agrees(t, fakeHost({ files: { '/proc/self/cgroup': '0::/user.slice/user-1000.slice/user@1000.service\n', [`${USER_SERVICE}/cgroup.controllers`]: `${controllers}\n`, [`${USER_SERVICE}/cgroup.procs`]: '' }, present: [] }));
    t.equal(f.verdict, 'warn', controllers);
    t.match(f.summary, /lacks the (memory|cpu) controller/);
    t.match(f.fix, /Delegate=memory pids cpu io/);
  }
  // The terminal's scope on a desktop: writable, but the manager's; without a user bus run can't ask for a scope.
  const noBus = agrees(t, fakeHost({ present: ['/usr/bin/busctl', '/run/user/1000/systemd/private'] }));
  t.equal(noBus.verdict, 'ok', 'no manager reachable: the writable scope is used as delegated by hand, as run does');
  t.equal(noBus.facts.base, TERM_SCOPE);
  const legacy = diagnoseHost(fakeHost({ files: { '/proc/self/mountinfo': HYBRID_MOUNTINFO.split('\n').slice(0, 5).join('\n') } }));
  t.equal(find(legacy, 'cgroup').facts.layout, 'legacy');
});

t.test('inside a cgroup namespace the mount root is stripped; mountinfo escapes are undone', async (t) => {
  const host = fakeHost({
    files: {
      '/proc/self/mountinfo': '30 22 0:26 /user.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
      '/proc/self/cgroup': '0::/user.slice/app\n',
      '/sys/fs/cgroup/app/cgroup.controllers': 'cpu memory pids\n',
      '/sys/fs/cgroup/app/cgroup.procs': '',
    },
    writable: ['/sys/fs/cgroup/app', '/sys/fs/cgroup/app/cgroup.procs', '/sys/fs/cgroup/app/cgroup.subtree_control'],
    present: [],
  });
  const f = agrees(t, host);
  t.equal(f.facts.own_dir, '/sys/fs/cgroup/app');
  t.equal(f.facts.base, '/sys/fs/cgroup/app');
  t.same(f.facts.controllers, ['cpu', 'memory', 'pids']);
  t.equal(parseMountinfo('1 2 0:1 / /a\\040b rw - cgroup2 none rw')[0].point, '/a b');
});

t.test('seccomp: stacked filters are fine, none is a warning', async (t) => {
  const stacked = diagnoseHost(fakeHost({ files: { '/proc/self/status': 'Seccomp:\t2\nSeccomp_filters:\t3\n' } }));
  t.equal(find(stacked, 'seccomp').verdict, 'ok');
  t.match(find(stacked, 'seccomp').summary, /already run under 3 seccomp filter/);
  const none = diagnoseHost(fakeHost({ files: { '/proc/self/status': 'Name:\tx\n' } }));
  t.equal(find(none, 'seccomp').verdict, 'warn');
  t.equal(none.canRun, true);
});

t.test('root is told the answers are about root; a missing stage fails', async (t) => {
  const r = diagnoseHost(fakeHost({ uid: 0, gid: 0 }));
  t.equal(r.findings[0].id, 'caller');
  t.equal(r.findings[0].verdict, 'warn');
  t.equal(r.user, 'root');
  const noStage = diagnoseHost(fakeHost({ stageBuilt: false }));
  t.equal(find(noStage, 'stage').verdict, 'fail');
  t.match(find(noStage, 'stage').fix, /npm install/);
  const noTools = diagnoseHost(fakeHost({ programs: [], files: { '/etc/subuid': '' } }));
  t.equal(find(noTools, 'idmap').verdict, 'ok');
  t.match(find(noTools, 'idmap').summary, /not installed.*no entry for you/);
});

t.test('--json, --help and bad arguments', async (t) => {
  const out = [];
  const io = { out: (s) => out.push(s), err: () => {} };
  t.equal(runDoctorCommand(['--json'], io, fakeHost()), 0);
  const j = JSON.parse(out.join(''));
  t.equal(j.canRun, true);
  t.equal(j.uid, 1000);
  t.ok(Array.isArray(j.findings) && j.findings.length >= 7);
  for (const f of j.findings) {
    t.ok(['ok', 'warn', 'fail'].includes(f.verdict));
    t.type(f.summary, 'string');
    t.notOk(f.summary.includes('\n'), `${f.id}: one line`);
  }
  out.length = 0;
  t.equal(runDoctorCommand(['--help'], io, fakeHost()), 0);
  t.match(out[0], /Usage: sandbox doctor/);
  t.throws(() => runDoctorCommand(['--frobnicate'], io, fakeHost()), SandboxError);
  t.throws(() => runDoctorCommand(['extra'], io, fakeHost()), /doctor: extra: unknown argument/);
  t.match(formatReport(diagnoseHost(fakeHost({ uid: 4242 }))), /what this host allows uid 4242/);
  t.same(parseProbeOutput('a=1\nb=EPERM\n\njunk\n'), { a: '1', b: 'EPERM' });
});
