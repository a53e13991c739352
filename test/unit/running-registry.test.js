// The registry of running sandboxes and `sandbox ps`'s table, without launching anything: names, default names,
// liveness by pid and start time, a claim that refuses a live name and replaces a dead one, cgroup usage, formats.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const reg = require('../../dist/lib/running/registry');
const { formatPs, formatUptime, psRows } = require('../../dist/lib/cli/running-commands');

t.test('names: what --name accepts, and the default one', async (t) => {
  for (const ok of ['build', 'a', 'my-app_2.0', 'x'.repeat(64), '7zip']) t.ok(reg.isSandboxName(ok), ok);
  for (const bad of ['', '.hidden', 'a/b', 'x'.repeat(65), '1234', 'sp ace', 'é', '-']) t.equal(reg.isSandboxName(bad), bad === '-', JSON.stringify(bad));
  t.equal(reg.defaultName(['/usr/bin/firefox', '--new'], () => 'ab12'), 'firefox-ab12');
  t.equal(reg.defaultName(['.hidden prog'], () => '0000'), 'hidden_prog-0000');
  t.equal(reg.defaultName([], () => '0000'), 'sandbox-0000');
  t.ok(reg.isSandboxName(reg.defaultName(['x'.repeat(200)])), 'a long program name is cut to fit');
  t.ok(reg.isSandboxName(reg.defaultName(['123'])), 'an all-digit program name still gives a name, not a pid');
});

t.test('registry directories: $XDG_RUNTIME_DIR first when it is the caller\'s, /tmp/sandbox-UID always', async (t) => {
  const dirOf = (uid) => () => ({ isDirectory: () => true, uid });
  t.same(reg.registryBases(1000, { XDG_RUNTIME_DIR: '/run/user/1000/' }, dirOf(1000)), ['/run/user/1000/sandbox/running', '/tmp/sandbox-1000/sandbox/running']);
  t.same(reg.registryBases(1000, {}, dirOf(1000)), ['/tmp/sandbox-1000/sandbox/running']);
  t.same(reg.registryBases(1000, { XDG_RUNTIME_DIR: 'relative' }, dirOf(1000)), ['/tmp/sandbox-1000/sandbox/running'], 'a relative runtime dir is passed over');
  t.same(reg.registryBases(1000, { XDG_RUNTIME_DIR: '/run/user/0' }, dirOf(0)), ['/tmp/sandbox-1000/sandbox/running'], 'another user\'s runtime dir (sudo) is passed over');
  t.same(reg.registryBases(1000, { XDG_RUNTIME_DIR: '/run/user/1000' }, () => null), ['/tmp/sandbox-1000/sandbox/running'], 'a runtime dir that is gone is passed over');
});

t.test('liveness: a pid counts only with the start time it had', async (t) => {
  const start = reg.processStart(process.pid);
  t.match(start, /^\d+$/);
  const uid = process.getuid();
  const e = { pid: process.pid, start };
  t.ok(reg.isLive(e, uid));
  t.notOk(reg.isLive({ ...e, start: String(Number(start) + 1) }, uid), 'a reused pid is another process');
  t.notOk(reg.isLive(e, uid + 1), 'another user\'s process');
  t.equal(reg.processStart(4194303), null);
});

t.test('claim: a live name is refused, a dead entry replaced, entries 0600 in a 0700 directory', async (t) => {
  const rt = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-reg-'));
  fs.chmodSync(rt, 0o700);
  const env = { XDG_RUNTIME_DIR: rt };
  const uid = process.getuid();
  const fields = { profile: 'default', command: ['sleep', '1'], started: Date.now(), cgroup: null, enter: true };
  const e = reg.claimName('one', fields, uid, env);
  const dir = path.join(rt, 'sandbox', 'running');
  t.equal(e.dir, dir);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700);
  t.equal(fs.statSync(path.join(dir, 'one.json')).mode & 0o777, 0o600);
  t.same(reg.listRunning(uid, env), [], 'this process is alive but not a monitor (comm): not listed');
  t.ok(fs.existsSync(path.join(dir, 'one.json')), '... nor removed (a launch still in Node looks the same)');
  t.throws(() => reg.findRunning(String(process.pid), uid, env), /not the monitor of a running sandbox of yours/, 'nor found by pid (after a wait for the stage to name itself)');
  const title = process.title;
  process.title = 'sandbox:one'; // what the stage sets as a monitor's comm
  t.same(reg.listRunning(uid, env).map((x) => x.name), ['one'], 'named as a monitor is: listed');
  t.throws(() => reg.claimName('one', fields, uid, env), /--name one: a sandbox of that name is running \(monitor pid \d+\)/);
  // a dead monitor's entry (a start time that no longer matches): replaced by the next claim, pruned by a read
  const dead = { ...JSON.parse(fs.readFileSync(path.join(dir, 'one.json'), 'utf8')), start: '1' };
  fs.writeFileSync(path.join(dir, 'one.json'), JSON.stringify(dead));
  fs.writeFileSync(path.join(dir, 'stale.json'), JSON.stringify({ ...dead, name: 'stale' }));
  fs.writeFileSync(path.join(dir, 'stale.sock'), '');
  t.same(reg.listRunning(uid, env), [], 'dead entries are not listed');
  t.same(fs.readdirSync(dir), [], 'and removed, sockets too');
  t.equal(reg.claimName('one', fields, uid, env).name, 'one');
  t.match(reg.claimName(undefined, fields, uid, env).name, /^sleep-[0-9a-f]{4}$/);
  t.throws(() => reg.findRunning('two', uid, env), /^two: no running sandbox of yours has that name/);
  process.title = title;
  t.throws(() => reg.findRunning(String(process.pid), uid, env), /not the monitor/, 'this process is no monitor now');
  t.throws(() => reg.findRunning('a/b', uid, env), /not a sandbox name or pid/);
  // a registry directory open to others is refused, not used
  fs.chmodSync(dir, 0o755);
  t.throws(() => reg.claimName('three', fields, uid, env), /mode 755, open to others/);
  let unavailable = null;
  try { reg.claimName(undefined, fields, uid, env); } catch (e) { unavailable = e; }
  t.ok(unavailable instanceof reg.RegistryUnavailable, 'a launch with no --name may go on unregistered');
  fs.rmSync(rt, { recursive: true, force: true });
});

t.test('cgroup usage: memory.current, cpu.stat usage_usec, pids.current; null where there is none', async (t) => {
  const files = { '/cg/memory.current': '1048576\n', '/cg/cpu.stat': 'usage_usec 2500000\nuser_usec 2000000\n', '/cg/pids.current': '3\n' };
  const read = (p) => { if (!(p in files)) throw new Error('ENOENT'); return files[p]; };
  t.same(reg.cgroupUsage('/cg', read), { memoryCurrent: 1048576, cpuUsageUsec: 2500000, pidsCurrent: 3 });
  t.same(reg.cgroupUsage(null, read), { memoryCurrent: null, cpuUsageUsec: null, pidsCurrent: null });
  t.same(reg.cgroupUsage('/other', read), { memoryCurrent: null, cpuUsageUsec: null, pidsCurrent: null });
});

t.test('ps: the table and its columns', async (t) => {
  t.equal(formatUptime(42), '42s');
  t.equal(formatUptime(723), '12m03s');
  t.equal(formatUptime(3 * 3600 + 5 * 60), '3h05m');
  t.equal(formatUptime(2 * 86400 + 3600), '2d01h');
  const started = Date.now() - 65000;
  const entries = [
    { name: 'web', pid: 10, profile: 'browser', command: ['firefox', 'a b'], started, cgroup: '/cg', enter: true },
    { name: 'job', pid: 11, profile: 'none', command: ['sleep', '60'], started, cgroup: null, enter: true },
  ];
  const usage = (leaf) => (leaf ? { memoryCurrent: 3 * 1024 * 1024, cpuUsageUsec: 1500000, pidsCurrent: 4 } : { memoryCurrent: null, cpuUsageUsec: null, pidsCurrent: null });
  const rows = psRows(entries, started + 65000, usage);
  t.equal(rows[0].uptimeSeconds, 65);
  const lines = formatPs(rows).split('\n');
  const cells = lines.map((l) => l.split(/ {2,}/));
  t.same(cells[0], ['NAME', 'PID', 'PROFILE', 'STARTED', 'UPTIME', 'MEM', 'CPU', 'PIDS', 'COMMAND']);
  t.same(cells[1].filter((_, i) => i !== 3), ['web', '10', 'browser', '1m05s', '3.0M', '1.50s', '4', "firefox 'a b'"]);
  t.same(cells[2].filter((_, i) => i !== 3), ['job', '11', 'none', '1m05s', '-', '-', '-', 'sleep 60']);
  t.match(cells[1][3], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  t.equal(new Set(lines.map((l) => l.indexOf('COMMAND') >= 0 ? l.indexOf('COMMAND') : l.search(/(firefox|sleep)/))).size, 1, 'columns line up');
});
