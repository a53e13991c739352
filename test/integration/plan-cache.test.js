// The plan cache (native/plan-cache.c reads, lib/host/plan-cache.ts writes): a repeated `sandbox run` runs the kept
// plan without Node, and every input of the plan, changed between two launches, makes the second one follow it.
// SANDBOX_CACHE_DEBUG=1 says on stderr whether a launch was a hit; those lines are taken out before comparing.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { sandbox, sandboxCli, userTmpdir, cleanEnv, cannotLaunch, IS_ROOT, TEST_UID, TEST_GID, RUN_UID } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.plan(0, why);
  process.exit(0);
}

/** A home of its own per test: its own cache ($XDG_CACHE_HOME/sandbox/plans, with XDG_CACHE_HOME=$HOME/.cache) and user profiles. */
function setup() {
  const home = userTmpdir('sbx-cache-');
  const profiles = path.join(home, '.config', 'sandbox', 'profiles');
  const write = (name, text) => {
    fs.mkdirSync(profiles, { recursive: true });
    const f = path.join(profiles, name);
    fs.writeFileSync(f, text);
    if (IS_ROOT) chownTree(home);
    return f;
  };
  return { home, profiles, write, plans: path.join(home, '.cache', 'sandbox', 'plans') };
}

function chownTree(dir) {
  fs.chownSync(dir, TEST_UID, TEST_GID);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(p);
    else fs.lchownSync(p, TEST_UID, TEST_GID);
  }
}

/** One launch: its output with the cache's own lines taken out, and whether the kept plan ran. */
function launch(s, args, { env = {}, cwd } = {}) {
  const r = sandbox(args, { env: cleanEnv({ HOME: s.home, XDG_CACHE_HOME: path.join(s.home, '.cache'), SANDBOX_CACHE_DEBUG: '1', ...env }), cwd: cwd ?? s.home });
  const lines = r.stderr.split('\n');
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: lines.filter((l) => !l.startsWith('sandbox: plan cache: ')).join('\n'),
    hit: lines.some((l) => l.startsWith('sandbox: plan cache: hit ')),
    kept: lines.some((l) => l.startsWith('sandbox: plan cache: kept ')),
    cache: lines.filter((l) => l.startsWith('sandbox: plan cache: ')).join('\n'),
  };
}

const SH = (script) => ['--', 'sh', '-c', script];

t.test('a second identical launch runs the kept plan, with the same output, notes and exit status', async (t) => {
  const s = setup();
  // from the home: the default profile says a note (the home is bound read-only), which a hit must say too
  const args = SH('echo out; echo err >&2; echo "TZ=$TZ HOME=$HOME"; exit 3');
  const first = launch(s, args, { env: { TZ: 'one' } });
  t.notOk(first.hit, first.cache);
  t.ok(first.kept, first.cache);
  const second = launch(s, args, { env: { TZ: 'one' } });
  t.ok(second.hit, second.cache);
  const plain = launch(s, args, { env: { TZ: 'one', SANDBOX_NO_CACHE: '1' } });
  t.notOk(plain.hit);
  t.notOk(plain.kept, 'SANDBOX_NO_CACHE writes nothing either');
  for (const r of [first, second, plain]) {
    t.equal(r.status, 3);
    t.equal(r.stdout, `out\nTZ=one HOME=${s.home}\n`, 'the environment is the launch\'s, by the profile\'s rules');
    t.match(r.stderr, /is the home directory: bound read-only/);
    t.match(r.stderr, /^err$/m);
  }
  t.equal(second.stderr, plain.stderr);
  // a variable the profile does not read is not part of the key, but the program still gets this launch's value
  const other = launch(s, args, { env: { TZ: 'two' } });
  t.ok(other.hit, 'TZ is kept by a pattern, not read: still a hit');
  t.match(other.stdout, /TZ=two/);
});

t.test('--print-plan is the same with a kept plan and without the cache, and is never run from the cache', async (t) => {
  const s = setup();
  launch(s, SH('true'));
  const kept = launch(s, ['--print-plan', ...SH('true')]);
  const plain = launch(s, ['--print-plan', ...SH('true')], { env: { SANDBOX_NO_CACHE: '1' } });
  t.notOk(kept.hit);
  t.equal(kept.status, 0);
  t.equal(kept.stdout, plain.stdout);
  t.ok(JSON.parse(kept.stdout).mounts.length > 0);
});

t.test('--no-cache and SANDBOX_NO_CACHE skip the cache', async (t) => {
  const s = setup();
  launch(s, SH('true'));
  t.ok(launch(s, SH('true')).hit);
  t.notOk(launch(s, SH('true'), { env: { SANDBOX_NO_CACHE: '1' } }).hit);
  const a = launch(s, ['--no-cache', ...SH('true')]);
  const b = launch(s, ['--no-cache', ...SH('true')]);
  t.notOk(a.kept || b.kept || b.hit, a.cache + b.cache);
});

t.test('a profile edited in place, same size, same mtime to the second and nanosecond: the next launch follows', async (t) => {
  const s = setup();
  const when = new Date('2024-01-02T03:04:05Z');
  const f = s.write('p.json5', '{ extends: "minimal", env: { set: { V: "aaa" } } }\n');
  fs.utimesSync(f, when, when);
  const args = ['--profile', 'p', ...SH('echo $V')];
  t.equal(launch(s, args).stdout, 'aaa\n');
  t.ok(launch(s, args).hit);
  fs.writeFileSync(f, '{ extends: "minimal", env: { set: { V: "bbb" } } }\n');
  fs.utimesSync(f, when, when); // only the change time tells
  const r = launch(s, args);
  t.notOk(r.hit, r.cache);
  t.equal(r.stdout, 'bbb\n');
  t.ok(launch(s, args).hit, 'kept again');
});

t.test('a user profile added that shadows a shipped one: the next launch uses it', async (t) => {
  const s = setup();
  const args = ['--profile', 'minimal', ...SH('echo "[$V]"')];
  t.equal(launch(s, args).stdout, '[]\n');
  t.ok(launch(s, args).hit);
  s.write('minimal.json5', '{ filesystem: [{ "ro-bind": "/usr" }, { mirror: "/bin", optional: true }, { mirror: "/lib", optional: true }, { mirror: "/lib64", optional: true }], env: { set: { V: "mine" } } }\n');
  const r = launch(s, args);
  t.notOk(r.hit, r.cache);
  t.equal(r.stdout, '[mine]\n');
});

t.test('an extends parent edited: the child\'s launch follows', async (t) => {
  const s = setup();
  const parent = s.write('parent.json5', '{ extends: "minimal", env: { set: { V: "one" } } }\n');
  s.write('child.json5', '{ extends: "parent" }\n');
  const args = ['--profile', 'child', ...SH('echo $V')];
  t.equal(launch(s, args).stdout, 'one\n');
  t.ok(launch(s, args).hit);
  fs.writeFileSync(parent, '{ extends: "minimal", env: { set: { V: "two" } } }\n');
  const r = launch(s, args);
  t.notOk(r.hit);
  t.equal(r.stdout, 'two\n');
});

t.test('an environment variable the profile reads: a new value is a new plan', async (t) => {
  const s = setup();
  s.write('v.json5', '{ extends: "minimal", env: { set: { SEEN: "${WHICH:-none}" } } }\n');
  const args = ['--profile', 'v', ...SH('echo $SEEN')];
  t.equal(launch(s, args, { env: { WHICH: 'a' } }).stdout, 'a\n');
  t.ok(launch(s, args, { env: { WHICH: 'a' } }).hit);
  const b = launch(s, args, { env: { WHICH: 'b' } });
  t.notOk(b.hit);
  t.equal(b.stdout, 'b\n');
  const unset = launch(s, args);
  t.notOk(unset.hit);
  t.equal(unset.stdout, 'none\n');
});

t.test('the working directory: each has its own plan', async (t) => {
  const s = setup();
  const one = path.join(s.home, 'one');
  const two = path.join(s.home, 'two');
  for (const d of [one, two]) {
    fs.mkdirSync(d);
    if (IS_ROOT) fs.chownSync(d, TEST_UID, TEST_GID);
  }
  t.equal(launch(s, SH('pwd'), { cwd: one }).stdout, `${one}\n`);
  t.ok(launch(s, SH('pwd'), { cwd: one }).hit);
  const r = launch(s, SH('pwd'), { cwd: two });
  t.notOk(r.hit);
  t.equal(r.stdout, `${two}\n`);
});

t.test('a bound path removed, or replaced by a file: the next launch says what uncached would', async (t) => {
  const s = setup();
  const dir = path.join(s.home, 'data');
  fs.mkdirSync(dir);
  if (IS_ROOT) fs.chownSync(dir, TEST_UID, TEST_GID);
  const args = ['--ro-bind', dir, '/data', ...SH('test -d /data && echo dir || echo notdir')];
  t.equal(launch(s, args).stdout, 'dir\n');
  t.ok(launch(s, args).hit);
  fs.rmdirSync(dir);
  const gone = launch(s, args);
  const plain = launch(s, args, { env: { SANDBOX_NO_CACHE: '1' } });
  t.notOk(gone.hit);
  t.equal(gone.status, 125);
  t.equal(gone.stderr, plain.stderr);
  t.match(gone.stderr, /--ro-bind .*data/);
  fs.writeFileSync(dir, 'x');
  if (IS_ROOT) fs.chownSync(dir, TEST_UID, TEST_GID);
  const file = launch(s, args);
  t.notOk(file.hit);
  t.equal(file.stdout, 'notdir\n');
});

t.test('an optional source appearing (as a device node or a GPU would): the next launch binds it', async (t) => {
  const s = setup();
  const node = path.join(s.home, 'node0');
  const args = ['--ro-bind-try', node, '/node0', ...SH('test -e /node0 && echo there || echo absent')];
  t.equal(launch(s, args).stdout, 'absent\n');
  t.ok(launch(s, args).hit);
  fs.writeFileSync(node, '');
  const r = launch(s, args);
  t.notOk(r.hit);
  t.equal(r.stdout, 'there\n');
});

/** The one entry of this home's cache. */
function entryOf(s) {
  const names = fs.readdirSync(s.plans).filter((n) => !n.startsWith('.'));
  return path.join(s.plans, names[0]);
}

t.test('a damaged, foreign, open or symlinked entry is not used, and is replaced', async (t) => {
  const s = setup();
  const args = SH('echo ok');
  launch(s, args);
  t.ok(launch(s, args).hit);
  const entry = entryOf(s);
  const good = fs.readFileSync(entry);

  const flip = Buffer.from(good);
  flip[flip.length - 3] ^= 1;
  fs.writeFileSync(entry, flip);
  let r = launch(s, args);
  t.notOk(r.hit, 'a flipped byte');
  t.match(r.cache, /damaged/);
  t.equal(r.stdout, 'ok\n');
  t.ok(launch(s, args).hit, 'replaced');

  fs.writeFileSync(entry, good.subarray(0, good.length - 10));
  r = launch(s, args);
  t.notOk(r.hit, 'truncated');
  t.ok(launch(s, args).hit);

  fs.chmodSync(entry, 0o622);
  r = launch(s, args);
  t.notOk(r.hit, 'writable by others');
  t.match(r.cache, /not a file of yours alone/);
  t.ok(launch(s, args).hit);

  // the real entry elsewhere, reached by a symlink under its name
  const elsewhere = path.join(s.home, 'elsewhere');
  fs.copyFileSync(entryOf(s), elsewhere);
  if (IS_ROOT) fs.chownSync(elsewhere, TEST_UID, TEST_GID);
  fs.chmodSync(elsewhere, 0o600);
  fs.unlinkSync(entry);
  fs.symlinkSync(elsewhere, entry);
  if (IS_ROOT) fs.lchownSync(entry, TEST_UID, TEST_GID);
  r = launch(s, args);
  t.notOk(r.hit, 'a symlink is not followed');
  t.equal(r.stdout, 'ok\n');
  t.notOk(fs.lstatSync(entry).isSymbolicLink(), 'the link was replaced by an entry');
  t.ok(launch(s, args).hit);

  if (IS_ROOT) {
    fs.chownSync(entry, 0, 0);
    r = launch(s, args);
    t.notOk(r.hit, 'owned by another user');
    t.equal(r.stdout, 'ok\n');
  }
});

t.test('a sandbox can\'t write the cache, even with the home bound read-write', async (t) => {
  const s = setup();
  launch(s, SH('true'));
  t.ok(fs.existsSync(s.plans));
  const r = launch(s, ['--bind', s.home, s.home, ...SH(`touch ${s.plans}/planted && echo wrote; ls ${s.plans} | wc -l`)]);
  t.notMatch(r.stdout, /wrote/);
  t.notOk(fs.existsSync(path.join(s.plans, 'planted')));
});

t.test('launches with per-launch work in Node are not kept; --join (all in the stage) is', async (t) => {
  const s = setup();
  const fileArgs = ['--file-args', 'ro', '--', 'cat', '/etc/hostname'];
  launch(s, fileArgs);
  const r = launch(s, fileArgs);
  t.notOk(r.hit || r.kept, `--file-args: ${r.cache}`);
  // a name is one launch's: a kept plan would run a second sandbox under it
  const named = ['--name', `cache-named-${process.pid}`, ...SH('echo named')];
  for (const round of [1, 2]) {
    const n = launch(s, named);
    t.notOk(n.hit || n.kept, `--name, launch ${round}: ${n.cache}`);
    t.equal(n.stdout, 'named\n', n.stderr);
  }
  const join = ['--join', `cache-test-${process.pid}`, ...SH('echo joined')];
  t.ok(launch(s, join).kept);
  const j = launch(s, join);
  t.ok(j.hit, j.cache);
  t.equal(j.status, 0, j.stderr);
  t.equal(j.stdout, 'joined\n');
});

t.test('sandbox cache clear empties the cache', async (t) => {
  const s = setup();
  launch(s, SH('true'));
  t.ok(fs.readdirSync(s.plans).length > 0);
  const r = sandboxCli(['cache', 'clear'], { env: cleanEnv({ HOME: s.home, XDG_CACHE_HOME: path.join(s.home, '.cache') }), cwd: s.home });
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readdirSync(s.plans).length, 0);
  t.notOk(launch(s, SH('true')).hit);
});

t.test('the runtime directory holds the cache when there is one', { skip: RUN_UID === 0 && 'needs a user' }, async (t) => {
  const s = setup();
  const rt = userTmpdir('sbx-cache-rt-');
  fs.chmodSync(rt, 0o700);
  const env = { XDG_RUNTIME_DIR: rt };
  launch(s, SH('true'), { env });
  t.ok(launch(s, SH('true'), { env }).hit);
  t.ok(fs.readdirSync(path.join(rt, 'sandbox', 'plans')).length > 0);
  t.notOk(fs.existsSync(s.plans) && fs.readdirSync(s.plans).length, 'nothing under the home');
});

t.test('a hit claims a fresh default name: sandbox ps lists it as it lists the launch that kept the plan', { skip: RUN_UID === 0 && 'needs a user' }, async (t) => {
  const { BASE, sandboxAsync } = require('../lib/harness');
  const s = setup();
  const rt = userTmpdir('sbx-cache-rt-');
  fs.chmodSync(rt, 0o700);
  const env = cleanEnv({ HOME: s.home, XDG_RUNTIME_DIR: rt, SANDBOX_CACHE_DEBUG: '1' });
  // a command no other test runs: ps also lists /tmp/sandbox-UID, where other tests' sandboxes may be
  const command = ['sleep', `${30 + (process.pid % 1000) / 1000}`];
  const ps = () => JSON.parse(sandboxCli(['ps', '--json'], { env, cwd: s.home }).stdout).filter((e) => JSON.stringify(e.command) === JSON.stringify(command));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const names = [];
  for (const round of ['first', 'second']) {
    const p = sandboxAsync([...BASE, '--', ...command], { env, cwd: s.home });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    const ended = new Promise((resolve) => p.on('close', (code, signal) => resolve({ code, signal })));
    let rows = [];
    for (let i = 0; i < 600 && rows.length === 0; i++) {
      await sleep(25);
      rows = ps();
    }
    t.equal(rows.length, 1, `${round} launch: listed once by sandbox ps --json (${err})`);
    if (!rows.length) { p.kill('SIGKILL'); break; }
    const e = rows[0];
    t.match(e.name, /^sleep-[0-9a-f]{4}$/, `${round}: a default name`);
    t.equal(e.profile, 'none');
    t.notOk(names.includes(e.name), `${round}: a name of its own`);
    names.push(e.name);
    t.equal(fs.readFileSync(`/proc/${e.pid}/cmdline`, 'utf8').replace(/\0+$/, ''), `sandbox: ${e.name} [none]`, `${round}: the monitor's title`);
    const entry = JSON.parse(fs.readFileSync(path.join(rt, 'sandbox', 'running', `${e.name}.json`), 'utf8'));
    t.same(Object.keys(entry), ['version', 'name', 'pid', 'start', 'profile', 'command', 'started', 'cgroup', 'enter'], `${round}: the entry's fields, in Node's order`);
    t.same(entry.command, command);
    t.equal(entry.enter, true);
    t.equal(sandboxCli(['stop', e.name], { env, cwd: s.home }).status, 0, `${round}: sandbox stop`);
    await ended;
    t.equal(/plan cache: hit /.test(err), round === 'second', `${round}: ${round === 'second' ? 'a hit' : 'not a hit'} (${err.trim()})`);
    t.same(fs.readdirSync(path.join(rt, 'sandbox', 'running')), [], `${round}: the entry is gone with the sandbox`);
  }
});

t.test('a hit whose registry directory is not usable runs unnamed, with the note Node says', { skip: RUN_UID === 0 && 'needs a user' }, async (t) => {
  const s = setup();
  const rt = userTmpdir('sbx-cache-rt-');
  fs.chmodSync(rt, 0o700);
  const env = { XDG_RUNTIME_DIR: rt };
  const first = launch(s, SH('echo hi'), { env });
  t.ok(first.kept, first.cache);
  const running = path.join(rt, 'sandbox', 'running');
  fs.chmodSync(running, 0o750); // open to the group: neither Node nor the launcher registers there
  const miss = launch(s, ['--no-cache', ...SH('echo hi')], { env });
  const hit = launch(s, SH('echo hi'), { env });
  t.ok(hit.hit, hit.cache);
  t.equal(hit.status, 0, hit.stderr);
  t.equal(hit.stdout, 'hi\n');
  t.match(miss.stderr, /^sandbox: note: .*running: mode 750, open to others .*: this sandbox runs without a name \(sandbox ps, enter and stop won't see it\)$/m);
  t.equal(hit.stderr, miss.stderr, 'the same note as Node');
  t.same(fs.readdirSync(running), []);
});
