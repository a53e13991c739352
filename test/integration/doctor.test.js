// `sandbox doctor` on this machine, as the unprivileged test user: it must agree with what the harness
// itself finds (user namespaces work or not), and --json must carry the same findings.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, RUN_UID, RUN_USER, sandboxCli, cannotLaunch, have } = require('../lib/harness');

// The probe is built by native/probe/Makefile; build it here when a fresh clone has only the stage.
const PROBE = path.join(ROOT, 'native', 'build', 'sandbox-probe');
if (!fs.existsSync(PROBE) && have('make') && have('cc')) spawnSync('make', ['-s', '-C', path.join(ROOT, 'native', 'probe')], { stdio: 'inherit' });
const probeBuilt = fs.existsSync(PROBE);

const why = cannotLaunch();

t.test('sandbox doctor, in words', async (t) => {
  const r = sandboxCli(['doctor']);
  t.equal(r.stderr, '', 'nothing on stderr');
  t.equal(r.status, why ? 1 : 0, `exit status follows the harness's own check (${why || 'sandboxes can run'})`);
  const out = r.stdout;
  t.match(out, new RegExp(`what this host allows ${RUN_USER} \\(uid ${RUN_UID}\\)`), 'names the user it runs as');
  for (const title of ['C stage', 'kernel', 'user namespaces', 'kernel calls', 'cgroup v2', 'seccomp', 'Landlock', 'newuidmap']) {
    t.match(out, new RegExp(`^(ok  |warn|FAIL)  ${title} `, 'm'), `a line for ${title}`);
  }
  t.notMatch(out, /who is asking/, 'run as the test user, not root');
  t.match(out, why ? /Sandboxes can't run here/ : /Sandboxes can run here/);
  t.comment(out);
});

t.test('sandbox doctor --json', async (t) => {
  const r = sandboxCli(['doctor', '--json']);
  t.equal(r.status, why ? 1 : 0);
  const j = JSON.parse(r.stdout);
  t.equal(j.uid, RUN_UID, 'the uid of the user it runs as');
  t.equal(j.canRun, !why);
  const byId = Object.fromEntries(j.findings.map((f) => [f.id, f]));
  t.same(Object.keys(byId).sort(), ['cgroup', 'idmap', 'kernel', 'landlock', 'seccomp', 'stage', 'syscalls', 'userns']);
  t.equal(byId.userns.verdict, why ? 'fail' : 'ok');
  t.equal(byId.kernel.facts.release, fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const v1 = / - cgroup /.test(mountinfo);
  const v2 = / - cgroup2 /.test(mountinfo);
  t.equal(byId.cgroup.facts.layout, v2 ? (v1 ? 'hybrid' : 'unified') : v1 ? 'legacy' : 'none');
  if (probeBuilt) {
    t.equal(byId.syscalls.facts.source, 'sandbox-probe');
    t.equal(byId.userns.facts.probe, 'sandbox-probe');
    t.equal(byId.syscalls.facts.mount_setattr, true, 'the stage runs here, so mount_setattr is there');
  } else {
    t.comment('sandbox-probe is not built (no cc): the kernel calls were judged from the version');
  }
});

t.test('doctor\'s cgroup verdict is what `sandbox run` with limits does here', { skip: why || false }, async (t) => {
  const j = JSON.parse(sandboxCli(['doctor', '--json']).stdout);
  const cgroup = j.findings.find((f) => f.id === 'cgroup');
  const r = sandboxCli(['run', '--no-profile', '--ro-bind', '/', '/', '--memory', '64M', '--cpus', '1', '--pids', '64', '--', '/bin/true']);
  t.equal(r.status === 0, cgroup.verdict === 'ok', `doctor: ${cgroup.verdict} (${cgroup.summary}); run: exit ${r.status} ${r.stderr.trim()}`);
  if (r.status !== 0) {
    t.equal(r.status, 125);
    // The same reason in both: run's line (less its advice) is in doctor's summary.
    const reason = r.stderr.trim().replace(/^sandbox: /, '').replace(/; (run under a systemd user session|ask your admin to delegate).*$/, '');
    t.ok(cgroup.summary.includes(reason), `doctor names run's reason: ${reason}`);
  }
});
