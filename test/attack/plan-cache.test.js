// Attacks on the plan cache (native/plan-cache.c reads entries, lib/host/plan-cache.ts writes them). An entry names
// the program the launcher execs (its stage) and the plan that program runs, so whoever can put an entry where a
// later launch looks runs code outside every sandbox. Each attack runs as the unprivileged test user (and, where
// two users are needed, the host's uid 1000 as the other one); README.md ("The plan cache") lists them.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandbox, sandboxCli, cannotLaunch, cleanEnv, userTmpdir, ensureCheckoutReachable, asUser, SANDBOX, IS_ROOT, TEST_UID, TEST_GID, RUN_UID, RUN_GID } = require('../lib/harness');
const { forgeEntry, decodeEntry, userKey } = require('../lib/plan-cache-entry');
const { STAGE } = require('../lib/stage-plan');
const { serializePlan } = require('../../dist/lib/native/serialize');

const why = cannotLaunch();
if (why) {
  t.skip(`plan cache attacks: ${why}`);
  process.exit(0);
}

function own(p, uid = TEST_UID, gid = TEST_GID) {
  if (IS_ROOT) fs.lchownSync(p, uid, gid);
}
function mkdirOwn(p, mode = 0o755) {
  fs.mkdirSync(p, { recursive: true });
  fs.chmodSync(p, mode);
  own(p);
  return p;
}

/**
 * The attacker's kit: a directory bound read-only at /attack holding forged entries for `sandbox run -- true` from
 * victimCwd, for the victim's uid. `entry`: sandbox's own stage with the attacker's plan, which runs the attacker's
 * command with a host directory (out/) bound read-write, where it notes that it ran; `entry-exec`: a stage of the
 * attacker's own, a script that notes the same outside any sandbox. ran() is what was noted, or null.
 */
function kit(victimCwd, { uid = RUN_UID, gid = RUN_GID } = {}) {
  const dir = userTmpdir('sbx-cache-attack-');
  const out = mkdirOwn(path.join(dir, 'out'), 0o777);
  const marker = path.join(out, 'RAN');
  const payload = path.join(dir, 'payload.sh');
  fs.writeFileSync(payload, `#!/bin/sh\necho "the attacker's stage, uid=$(id -u) args=$*" > ${marker}\nexit 0\n`, { mode: 0o755 });
  // the plan as `sandbox run` would make it for the attacker's command line (anyone can print one)
  const printed = sandbox(['--print-plan', '--no-profile', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--bind', out, out, '--', 'sh', '-c', `echo "the attacker's plan, uid=$(id -u)" > ${marker}`], { env: cleanEnv() });
  if (printed.status !== 0) throw new Error(`--print-plan: ${printed.stderr}`);
  const plan = serializePlan({ ...JSON.parse(printed.stdout), parentPid: 0 });
  const argv = ['run', '--', 'true'];
  const forged = forgeEntry({ argv, uid, gid, cwd: victimCwd, stage: STAGE, plan });
  fs.writeFileSync(path.join(dir, 'entry'), forged.bytes, { mode: 0o644 });
  fs.writeFileSync(path.join(dir, 'entry-exec'), forgeEntry({ argv, uid, gid, cwd: victimCwd, stage: payload }).bytes, { mode: 0o644 });
  return { dir, marker, name: forged.name, ran: () => (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : null) };
}

/** What a program inside does to plant the kit's entry in DIR/plans, made 0700 as the launcher wants it. */
const plantScript = (base, name) => `mkdir -p ${base}/plans && chmod 700 ${base} ${base}/plans && cp /attack/entry ${base}/plans/${name} && chmod 600 ${base}/plans/${name} && echo planted`;

/** The victim's next launch, `sandbox run -- true`, with the cache's own lines. */
function victim(env, cwd) {
  const r = sandbox(['--', 'true'], { env: cleanEnv({ SANDBOX_CACHE_DEBUG: '1', ...env }), cwd });
  return { status: r.status, cache: r.stderr.split('\n').filter((l) => l.startsWith('sandbox: plan cache: ')).join(' | '), stderr: r.stderr };
}

// A launch without a runtime directory keeps its plans in $XDG_CACHE_HOME/sandbox/plans. The sandbox that runs
// first need not have that variable, or may keep its own plans in the runtime directory; the directory must be
// out of its reach all the same, or it leaves an entry for the later launch.
const plants = [
  {
    what: 'XDG_CACHE_HOME unset in the sandbox (default, cwd ~/.cache); the later launch sets it to ~/.cache, the XDG default',
    profile: 'default',
    setup: (home) => ({ cwd: mkdirOwn(path.join(home, '.cache')), base: './sandbox', env: {}, later: { XDG_CACHE_HOME: path.join(home, '.cache') }, laterCwd: home }),
  },
  {
    what: 'the sandbox keeps its plans in the runtime directory; its XDG_CACHE_HOME is in the project, without sandbox/ yet (default)',
    profile: 'default',
    setup: (home, rt) => {
      const proj = mkdirOwn(path.join(home, 'proj'));
      mkdirOwn(path.join(proj, '.cache'));
      return { cwd: proj, base: './.cache/sandbox', env: { XDG_RUNTIME_DIR: rt, XDG_CACHE_HOME: path.join(proj, '.cache') }, later: { XDG_CACHE_HOME: path.join(proj, '.cache') }, laterCwd: proj };
    },
  },
  {
    what: 'the same from hpc (the job directory read-write), the later launch a batch step without a runtime directory',
    profile: 'hpc',
    setup: (home, rt) => {
      const proj = mkdirOwn(path.join(home, 'job'));
      mkdirOwn(path.join(proj, '.cache'));
      return { cwd: proj, base: './.cache/sandbox', env: { XDG_RUNTIME_DIR: rt, XDG_CACHE_HOME: path.join(proj, '.cache') }, later: { XDG_CACHE_HOME: path.join(proj, '.cache') }, laterCwd: proj };
    },
  },
];

for (const p of plants) {
  t.test(`planting an entry for a later launch: ${p.what}`, async (t) => {
    const home = userTmpdir('sbx-cache-home-');
    const rt = userTmpdir('sbx-cache-rt-');
    fs.chmodSync(rt, 0o700);
    const s = p.setup(home, rt);
    const k = kit(s.laterCwd);
    t.teardown(() => [home, rt, k.dir].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    const r = sandbox(['--profile', p.profile, '--ro-bind', k.dir, '/attack', '--', 'sh', '-c', plantScript(s.base, k.name)], { env: cleanEnv({ HOME: home, ...s.env }), cwd: s.cwd });
    t.notMatch(r.stdout, /planted/, `the program could not write the entry (${r.stderr.trim().split('\n').pop()})`);
    const v = victim({ HOME: home, ...s.later }, s.laterCwd);
    t.notMatch(v.cache, /hit /, `the later launch did not run a planted entry (${v.cache})`);
    t.equal(k.ran(), null, 'the planted plan did not run');
    t.equal(v.status, 0, v.stderr);
  });
}

t.test('a cache place that this user can\'t make is neither made nor covered, and the launch runs', async (t) => {
  // / bound read-write, with a home that is not there and a cache under /usr: the program could make neither
  for (const extra of [{ HOME: '/nonexistent' }, { HOME: '/nonexistent', XDG_CACHE_HOME: '/usr/sbx-no-cache' }]) {
    const r = sandbox(['--no-profile', '--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--', 'echo', 'ran'], { env: cleanEnv(extra) });
    t.equal(r.stdout, 'ran\n', `${JSON.stringify(extra)}: ran (${r.stderr.trim()})`);
    t.equal(r.status, 0);
  }
  t.notOk(fs.existsSync('/nonexistent') || fs.existsSync('/usr/sbx-no-cache'), 'nothing made');
});

t.test('a state directory that becomes the caller\'s between two launches is covered at the second', { skip: !IS_ROOT && 'needs root to change an owner' }, async (t) => {
  // Another user's directory at a state place is left alone (nothing of ours is in it). Once it is the caller's (here
  // root gives it; a directory removed by its owner and made again by the caller can get the same inode number),
  // the kept plan that left it alone must not run: its stat record was type, device and inode only.
  const home = userTmpdir('sbx-cache-home-');
  const rt = userTmpdir('sbx-cache-rt-');
  fs.chmodSync(rt, 0o700);
  // ~/.cache/sandbox (where a later launch setting XDG_CACHE_HOME=~/.cache keeps plans), shown read-write
  const xc = mkdirOwn(path.join(home, '.cache'));
  const state = path.join(xc, 'sandbox');
  fs.mkdirSync(state, { mode: 0o755 });
  t.teardown(() => [home, rt].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const env = cleanEnv({ HOME: home, XDG_RUNTIME_DIR: rt, SANDBOX_CACHE_DEBUG: '1' });
  const args = ['--bind', xc, xc, '--', 'sh', '-c', `touch ${state}/planted 2>/dev/null && echo wrote || echo refused`];
  const first = sandbox(args, { env, cwd: home });
  t.equal(first.stdout, 'refused\n', 'root\'s directory: the program can\'t write it');
  t.match(first.stderr, /plan cache: kept /);
  fs.chownSync(state, TEST_UID, TEST_GID);
  const second = sandbox(args, { env, cwd: home });
  t.notMatch(second.stderr, /plan cache: hit /, 'not the plan kept while it was another user\'s');
  t.equal(second.stdout, 'refused\n', `now the caller's: covered (${second.stderr.trim().split('\n').pop()})`);
  t.notOk(fs.existsSync(path.join(state, 'planted')));
});

// A later launch whose XDG_CACHE_HOME names a directory that no earlier launch knew of as the cache's (here: a
// directory in the project, while the sandbox had no XDG_CACHE_HOME) finds what a sandbox wrote there, unsigned.
t.test('planting an entry where a later launch\'s XDG_CACHE_HOME, unknown to the sandbox, will point', async (t) => {
  const home = userTmpdir('sbx-cache-home-');
  const proj = mkdirOwn(path.join(home, 'proj'));
  const k = kit(proj);
  t.teardown(() => [home, k.dir].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  sandbox(['--ro-bind', k.dir, '/attack', '--', 'sh', '-c', plantScript('./cache/sandbox', k.name)], { env: cleanEnv({ HOME: home }), cwd: proj });
  const v = victim({ HOME: home, XDG_CACHE_HOME: path.join(proj, 'cache') }, proj);
  t.equal(k.ran(), null, 'the planted plan did not run');
  t.match(v.cache, /not signed with your key/, v.cache);
});

t.test('an entry naming a stage that is not sandbox\'s own is not run, wherever it came from', async (t) => {
  const home = userTmpdir('sbx-cache-home-');
  const k = kit(home);
  t.teardown(() => [home, k.dir].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const env = { HOME: home, XDG_CACHE_HOME: path.join(home, '.cache') };
  t.match(victim(env, home).cache, /kept /, 'the cache directory made, as by any launch');
  // the user's own file in the user's own directory, signed with the user's key: what only a process outside any
  // sandbox could make, naming a program of its choice as the stage
  const entry = path.join(home, '.cache', 'sandbox', 'plans', k.name);
  fs.writeFileSync(entry, forgeEntry({ argv: ['run', '--', 'true'], uid: RUN_UID, gid: RUN_GID, cwd: home, stage: path.join(k.dir, 'payload.sh'), secret: userKey(RUN_UID) }).bytes);
  fs.chmodSync(entry, 0o600);
  own(entry);
  const v = victim(env, home);
  t.equal(k.ran(), null, 'the named program did not run');
  t.notMatch(v.cache, /hit /);
  t.match(v.cache, /names a stage that is not this launcher's/, v.cache);
  t.equal(v.status, 0, v.stderr);
});

t.test('a plan kept by another installation of sandbox is not run by this one', async (t) => {
  const { ROOT } = require('../lib/harness');
  // a second copy of this build, its shipped minimal profile setting a variable: what a newer version would differ in
  const other = fs.mkdtempSync('/tmp/sbx-cache-install-');
  fs.chmodSync(other, 0o755);
  const home = userTmpdir('sbx-cache-home-');
  t.teardown(() => [other, home].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  for (const p of ['bin', 'dist', 'profiles', 'package.json', path.join('native', 'build')]) fs.cpSync(path.join(ROOT, p), path.join(other, p), { recursive: true, verbatimSymlinks: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(other, 'node_modules'));
  const minimal = path.join(other, 'profiles', 'minimal.json5');
  fs.writeFileSync(minimal, fs.readFileSync(minimal, 'utf8').replace('keep: [', 'set: { V: "other install" }, keep: ['));
  const env = cleanEnv({ HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), SANDBOX_CACHE_DEBUG: '1' });
  const args = ['--profile', 'minimal', '--', 'sh', '-c', 'echo "[$V]"'];
  const here = sandbox(args, { env, cwd: home });
  t.equal(here.stdout, '[]\n', here.stderr);
  t.match(here.stderr, /plan cache: kept /);
  const [cmd, argv] = asUser(path.join(other, 'bin', 'sandbox'), ['run', ...args]);
  for (const round of ['first', 'second']) {
    const r = spawnSync(cmd, argv, { env, cwd: home, encoding: 'utf8', timeout: 30000 });
    t.equal(r.stdout, '[other install]\n', `${round} launch of the other installation: its own profile (${r.stderr.trim()})`);
  }
  const back = sandbox(args, { env, cwd: home });
  t.equal(back.stdout, '[]\n', 'and this one its own again');
});

t.test('from inside default, browser and hpc: the cache directories that exist can be neither written nor read', async (t) => {
  const home = userTmpdir('sbx-cache-home-');
  const rt = userTmpdir('sbx-cache-rt-');
  fs.chmodSync(rt, 0o700);
  const cache = mkdirOwn(path.join(home, 'xdg-cache'));
  const k = kit(home);
  t.teardown(() => [home, rt, k.dir].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  // each place holds a kept plan: a launch with that place as the cache
  const places = [
    { dir: path.join(rt, 'sandbox', 'plans'), env: { XDG_RUNTIME_DIR: rt }, show: ['--bind', rt, rt] },
    { dir: path.join(cache, 'sandbox', 'plans'), env: { XDG_CACHE_HOME: cache }, show: ['--bind', cache, cache] },
    { dir: `/tmp/sandbox-${RUN_UID}/plans`, env: {}, show: ['--bind', '/tmp', '/tmp'] },
  ];
  // the entry of `sandbox run -- true` from this home, in each place (the kit's name: the same key); only it and what
  // the program would leave are looked at, since /tmp/sandbox-UID/plans is every test's of this user
  const before = new Map();
  for (const pl of places) {
    const first = victim({ HOME: home, ...pl.env }, home);
    t.match(first.cache, /kept |hit /, `a plan is kept in ${pl.dir} (${first.cache})`);
    before.set(pl.dir, { entry: fs.readFileSync(path.join(pl.dir, k.name)).toString('hex'), ino: fs.statSync(pl.dir).ino });
  }
  const env = { HOME: home, XDG_RUNTIME_DIR: rt, XDG_CACHE_HOME: cache };
  for (const profile of ['default', 'browser', 'hpc']) {
    for (const pl of places) {
      const d = pl.dir;
      // read, write beside, replace, link, move the directory aside and put another in its place
      const script = [
        `ls ${d} >/dev/null 2>&1 && echo "list ok"`,
        `cp /attack/entry ${d}/${k.name} 2>/dev/null && echo "replace ok"`,
        `touch ${d}/planted 2>/dev/null && echo "create ok"`,
        `ln -s /attack/entry ${d}/link 2>/dev/null && echo "symlink ok"`,
        `mv ${d} ${d}.old 2>/dev/null && echo "move ok"`,
        `mkdir -p ${path.dirname(d)}/plans.new 2>/dev/null && mv ${path.dirname(d)}/plans.new ${d} 2>/dev/null && echo "swap ok"`,
        'echo done',
      ].join('; ');
      // without the cache of their own, so that whatever appears there afterwards was put there by the program
      const r = sandbox(['--profile', profile, ...pl.show, '--ro-bind', k.dir, '/attack', '--', 'sh', '-c', script], { env: cleanEnv({ ...env, SANDBOX_NO_CACHE: '1' }), cwd: home });
      t.equal(r.stdout, 'done\n', `${profile}, ${d} shown by ${pl.show.join(' ')}: nothing done there (${r.stderr.trim().split('\n').pop()})`);
    }
  }
  for (const pl of places) {
    const was = before.get(pl.dir);
    t.equal(fs.statSync(pl.dir).ino, was.ino, `${pl.dir}: the same directory`);
    t.notOk(fs.existsSync(`${pl.dir}.old`), `${pl.dir}: not moved`);
    t.equal(fs.readFileSync(path.join(pl.dir, k.name)).toString('hex'), was.entry, `${pl.dir}: the entry unchanged`);
    for (const n of ['planted', 'link']) t.notOk(fs.existsSync(path.join(pl.dir, n)), `${pl.dir}: no ${n}`);
  }
  t.equal(k.ran(), null);
});

/** `sandbox run ARGS` as uid:gid (root runs the tests: setpriv), from cwd with env. */
function runAs(uid, gid, args, env, cwd) {
  ensureCheckoutReachable();
  const r = spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', 'env', '-u', 'NODE_OPTIONS', SANDBOX, 'run', ...args], { env, cwd, encoding: 'utf8', timeout: 30000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, cache: r.stderr.split('\n').filter((l) => l.startsWith('sandbox: plan cache: ')).join(' | '), stderr: r.stderr };
}

const OTHER_UID = 1000;
const otherUser = () => {
  if (!IS_ROOT) return 'needs root to run as two users';
  const r = spawnSync('getent', ['passwd', String(OTHER_UID)], { encoding: 'utf8' });
  return r.status === 0 ? false : `no user ${OTHER_UID} on this host`;
};

t.test('another user\'s cache: a forged entry for me in a directory someone else made is not used, and nothing of mine goes there', { skip: otherUser() }, async (t) => {
  for (const [attacker, victimUid] of [[OTHER_UID, TEST_UID], [TEST_UID, OTHER_UID]]) {
    const shared = fs.mkdtempSync('/tmp/sbx-cache-shared-');
    fs.chmodSync(shared, 0o1777);
    const work = fs.mkdtempSync('/tmp/sbx-cache-victim-');
    fs.chmodSync(work, 0o755);
    fs.chownSync(work, victimUid, victimUid);
    const k = kit(work, { uid: victimUid, gid: victimUid });
    t.teardown(() => [shared, work, k.dir].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    // as the attacker would: its own directories, open to the victim (a shared XDG_CACHE_HOME, or the runtime
    // directory named by a variable the victim took over), holding an entry for the victim's next launch
    const base = path.join(shared, 'sandbox');
    for (const [d, mode] of [[base, 0o777], [path.join(base, 'plans'), 0o777]]) {
      fs.mkdirSync(d);
      fs.chmodSync(d, mode);
      fs.chownSync(d, attacker, attacker);
    }
    const planted = path.join(base, 'plans', k.name);
    fs.copyFileSync(path.join(k.dir, 'entry'), planted);
    fs.chmodSync(planted, 0o644);
    fs.chownSync(planted, attacker, attacker);
    for (const env of [{ XDG_CACHE_HOME: shared }, { XDG_RUNTIME_DIR: shared }]) {
      const v = runAs(victimUid, victimUid, ['--', 'true'], { PATH: '/usr/bin:/bin', HOME: work, SANDBOX_CACHE_DEBUG: '1', ...env }, work);
      const label = `uid ${victimUid} with ${Object.keys(env)[0]} in uid ${attacker}'s directory`;
      t.equal(v.status, 0, `${label}: ran (${v.stderr.trim()})`);
      t.notMatch(v.cache, /hit /, `${label}: no hit (${v.cache})`);
      t.equal(k.ran(), null, `${label}: the forged plan did not run`);
      t.same(fs.readdirSync(path.join(base, 'plans')), [k.name], `${label}: nothing written there`);
    }
  }
});

t.test('sandbox cache clear in a cache directory another user made removes nothing it points to', { skip: otherUser() }, async (t) => {
  // The victim (the test user) has a directory of files; the attacker (uid 1000) makes the victim's cache base (as it
  // can make /tmp/sandbox-UID before the victim's first launch without a runtime directory), its plans a symlink to
  // the victim's files. Here the base is named by XDG_RUNTIME_DIR, which the same code reads.
  const important = userTmpdir('sbx-cache-victim-files-');
  for (const n of ['thesis.tex', 'data.csv']) { fs.writeFileSync(path.join(important, n), n); own(path.join(important, n)); }
  const base = fs.mkdtempSync('/tmp/sbx-cache-foreign-');
  t.teardown(() => [important, base].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  fs.chmodSync(base, 0o755);
  fs.chownSync(base, OTHER_UID, OTHER_UID);
  fs.mkdirSync(path.join(base, 'sandbox'), { mode: 0o777 });
  fs.chmodSync(path.join(base, 'sandbox'), 0o777);
  fs.chownSync(path.join(base, 'sandbox'), OTHER_UID, OTHER_UID);
  fs.symlinkSync(important, path.join(base, 'sandbox', 'plans'));
  fs.lchownSync(path.join(base, 'sandbox', 'plans'), OTHER_UID, OTHER_UID);
  const r = sandboxCli(['cache', 'clear'], { env: cleanEnv({ XDG_RUNTIME_DIR: base }) });
  t.same(fs.readdirSync(important).sort(), ['data.csv', 'thesis.tex'], `the victim's files are still there (${r.stderr.trim()})`);
  t.equal(r.status, 125, 'refused');
  t.match(r.stderr, /^sandbox: .*sandbox(\/plans)?: .*\n$/, 'one line naming the directory');
  // the victim's own cache, with plans a symlink (of the victim's own making): not followed either
  for (const n of ['thesis.tex', 'data.csv']) if (!fs.existsSync(path.join(important, n))) { fs.writeFileSync(path.join(important, n), n); own(path.join(important, n)); }
  const home = userTmpdir('sbx-cache-home-');
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
  const mine = mkdirOwn(path.join(home, 'sandbox'), 0o700);
  fs.symlinkSync(important, path.join(mine, 'plans'));
  fs.lchownSync(path.join(mine, 'plans'), TEST_UID, TEST_GID);
  const r2 = sandboxCli(['cache', 'clear'], { env: cleanEnv({ XDG_RUNTIME_DIR: home }) });
  t.same(fs.readdirSync(important).sort(), ['data.csv', 'thesis.tex'], `a symlinked plans directory is not followed (${r2.stderr.trim()})`);
  t.equal(r2.status, 125);
});

t.test('the entry\'s name taken by a FIFO, a directory or a huge file: the launch goes on at once, through Node', async (t) => {
  const home = userTmpdir('sbx-cache-home-');
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
  const env = { HOME: home, XDG_CACHE_HOME: path.join(home, '.cache') };
  t.match(victim(env, home).cache, /kept /);
  const plans = path.join(home, '.cache', 'sandbox', 'plans');
  const [name] = fs.readdirSync(plans);
  const entry = path.join(plans, name);
  const cases = [
    ['a FIFO', () => { spawnSync('mkfifo', ['-m', '600', entry]); }],
    ['a huge sparse file', () => { const fd = fs.openSync(entry, 'w', 0o600); fs.ftruncateSync(fd, 65 * 1024 * 1024); fs.closeSync(fd); }],
    ['a directory', () => { fs.mkdirSync(entry, { mode: 0o700 }); }],
  ];
  for (const [what, make] of cases) {
    fs.rmSync(entry, { recursive: true, force: true });
    make();
    own(entry);
    const started = Date.now();
    const v = victim(env, home);
    t.equal(v.status, 0, `${what}: the launch ran (${v.stderr.trim()})`);
    t.ok(Date.now() - started < 20000, `${what}: without waiting on it`);
    t.notMatch(v.cache, /hit /, `${what}: not used (${v.cache})`);
    const st = fs.lstatSync(entry);
    if (what !== 'a directory') t.ok(st.isFile() && st.size < 1024 * 1024, `${what}: replaced by an entry`);
  }
  fs.rmSync(entry, { recursive: true, force: true });
});

t.test('an entry under another launch\'s name is not run for it', async (t) => {
  const home = userTmpdir('sbx-cache-home-');
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
  const env = cleanEnv({ HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), SANDBOX_CACHE_DEBUG: '1' });
  const plans = path.join(home, '.cache', 'sandbox', 'plans');
  sandbox(['--', 'echo', 'one'], { env, cwd: home });
  const [one] = fs.readdirSync(plans);
  sandbox(['--', 'echo', 'two'], { env, cwd: home });
  const two = fs.readdirSync(plans).find((n) => n !== one);
  fs.copyFileSync(path.join(plans, one), path.join(plans, two));
  own(path.join(plans, two));
  const r = sandbox(['--', 'echo', 'two'], { env, cwd: home });
  t.equal(r.stdout, 'two\n', 'the launch ran its own command');
  t.match(r.stderr, /another launch's entry/);
  t.equal(decodeEntry(fs.readFileSync(path.join(plans, two))).find((x) => x.type === 'K').fields[0].toString().split('\0').slice(-2, -1)[0], 'two', 'and the entry was replaced by its own');
});

t.test('a variable the profile reads: set but empty is not taken for unset, and one byte more is another value', async (t) => {
  const home = userTmpdir('sbx-cache-home-');
  const profiles = path.join(home, '.config', 'sandbox', 'profiles');
  fs.mkdirSync(profiles, { recursive: true });
  fs.writeFileSync(path.join(profiles, 'v.json5'), '{ extends: "minimal", env: { set: { SEEN: "[${WHICH:-unset}]" } } }\n');
  for (const d of [path.join(home, '.config'), path.join(home, '.config', 'sandbox'), profiles, path.join(profiles, 'v.json5')]) own(d);
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
  const run = (extra) => {
    const r = sandbox(['--profile', 'v', '--', 'sh', '-c', 'echo "$SEEN"'], { env: cleanEnv({ HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), SANDBOX_CACHE_DEBUG: '1', ...extra }), cwd: home });
    return { out: r.stdout, hit: /plan cache: hit /.test(r.stderr), err: r.stderr };
  };
  run({});
  t.ok(run({}).hit, 'unset twice: a hit');
  const empty = run({ WHICH: '' });
  t.notOk(empty.hit, 'then set but empty: a miss (the recorded value is compared, not what planning made of it)');
  t.equal(empty.out, '[unset]\n', empty.err);
  t.ok(run({ WHICH: '' }).hit);
  const a = run({ WHICH: 'a' });
  run({ WHICH: 'a' });
  const more = run({ WHICH: 'a ' });
  t.notOk(more.hit, 'a trailing space: a miss');
  t.equal(more.out, '[a ]\n');
  t.equal(a.out, '[a]\n');
});
