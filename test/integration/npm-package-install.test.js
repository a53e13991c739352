// The package as a user gets it: the tarball `npm pack` makes, installed with `npm install -g --prefix` by an
// unprivileged user, offline, with no C compiler and no make on PATH (only node, npm and the few programs the
// launcher script and man use). The installed `sandbox` runs sandboxes, its man page and completion work,
// sandbox-exec is on PATH, and `npm uninstall -g` leaves nothing behind.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, IS_ROOT, TEST_UID, TEST_GID, cannotLaunch, have, userTmpdir, ensureCheckoutReachable } = require('../lib/harness');

const ARCH = process.arch;
const why = cannotLaunch()
  || (!have('npm') ? 'npm is not installed' : null)
  || (!fs.existsSync(path.join(ROOT, 'node_modules', `sandbox-linux-${ARCH}`)) ? `node_modules/sandbox-linux-${ARCH} is missing (npm install links it)` : null)
  || (!fs.existsSync(path.join(ROOT, 'dist', 'sandbox.js')) || !fs.existsSync(path.join(ROOT, 'man', 'sandbox.1')) ? 'the package is not built (npm run build)' : null);
if (why) {
  t.skip(why);
  process.exit(0);
}

const VERSION = require(path.join(ROOT, 'package.json')).version;
const work = userTmpdir('sbx-npm-install-');
const prefix = path.join(work, 'prefix');
const home = path.join(work, 'home');
const bin = path.join(work, 'bin');
const project = path.join(work, 'project');
for (const d of [prefix, home, bin, project]) {
  fs.mkdirSync(d);
  if (IS_ROOT) fs.chownSync(d, TEST_UID, TEST_GID);
}
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

// A PATH of one directory: node and npm, what bin/sandbox runs (readlink, uname), man for the man-page check.
const which = (p) => spawnSync('sh', ['-c', `command -v ${p}`], { encoding: 'utf8' }).stdout.trim();
for (const p of ['node', 'npm', 'readlink', 'uname', 'man']) {
  const real = which(p);
  if (real) fs.symlinkSync(fs.realpathSync(real), path.join(bin, p));
}
const PATH = `${bin}:${path.join(prefix, 'bin')}`;

/** Runs argv as the test user with only HOME, PATH, an npm cache of its own and extra variables. */
function asUser(argv, opts = {}) {
  const env = ['HOME=' + home, 'PATH=' + PATH, `npm_config_cache=${path.join(home, '.npm')}`, 'npm_config_update_notifier=false', ...(opts.env ?? [])];
  const cmd = IS_ROOT ? ['setpriv', '--reuid', String(TEST_UID), '--regid', String(TEST_GID), '--clear-groups', 'env', '-i', ...env, ...argv] : ['env', '-i', ...env, ...argv];
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: opts.cwd ?? project, encoding: 'utf8', timeout: opts.timeout ?? 60000 });
  r.seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return r;
}

t.test('a PATH without a compiler', async (t) => {
  for (const tool of ['cc', 'gcc', 'make', 'tsc']) {
    const r = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env: { PATH }, encoding: 'utf8' });
    t.not(r.status, 0, `${tool} is not on the install's PATH`);
  }
});

let tarball;
t.test('npm pack makes the tarball, with the prebuilt programs for this CPU', async (t) => {
  // the prebuilt package for this CPU only (both with `npm pack`'s prepack); the rest is the build npm install made
  const built = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'prebuilt.js'), ARCH], { cwd: ROOT, encoding: 'utf8' });
  t.equal(built.status, 0, `scripts/prebuilt.js ${ARCH}: ${built.stderr}`);
  const out = userTmpdir('sbx-npm-pack-');
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: ROOT, encoding: 'utf8' });
  t.equal(r.status, 0, `npm pack: ${r.stderr}`);
  const [info] = JSON.parse(r.stdout);
  tarball = path.join(work, info.filename);
  fs.copyFileSync(path.join(out, info.filename), tarball);
  fs.chmodSync(tarball, 0o644);
  t.ok(info.bundled.includes(`sandbox-linux-${ARCH}`), `sandbox-linux-${ARCH} is bundled`);
  t.comment(`tarball ${(fs.statSync(tarball).size / 1024).toFixed(0)} KiB, unpacked ${(info.unpackedSize / 1024).toFixed(0)} KiB`);
});

t.test('installed by an unprivileged user, offline, with no compiler', async (t) => {
  ensureCheckoutReachable();
  const r = asUser(['npm', 'install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball]);
  t.equal(r.status, 0, `npm install -g: ${r.stderr}`);
  t.comment(`npm install -g took ${r.seconds.toFixed(1)} s`);
  t.ok(fs.existsSync(path.join(prefix, 'bin', 'sandbox')), 'PREFIX/bin/sandbox');
  t.ok(fs.existsSync(path.join(prefix, 'bin', 'sandbox-exec')), 'PREFIX/bin/sandbox-exec');
  t.notOk(fs.existsSync(path.join(prefix, 'lib', 'node_modules', 'sandbox', 'native', 'build')), 'nothing was compiled');
});

t.test('the installed sandbox works', async (t) => {
  const v = asUser(['sandbox', '--version']);
  t.equal(v.stdout.trim(), `sandbox ${VERSION}`, 'sandbox --version');
  for (const args of [['run', '--', '/bin/true'], ['run', '--profile', 'browser', '--', '/bin/true'], ['run', '--no-profile', '--ro-bind', '/', '/', '--', '/usr/bin/id', '-u']]) {
    const r = asUser(['sandbox', ...args]);
    t.equal(r.status, 0, `sandbox ${args.join(' ')}: ${r.stderr}`);
  }
  const stage = asUser(['sandbox', 'doctor']);
  t.match(stage.stdout, new RegExp(`C stage .*node_modules/sandbox-linux-${ARCH}/sandbox-stage`), 'the stage is the prebuilt one');
  const exec = asUser(['sandbox-exec', '--help']);
  t.equal(exec.status, 0, 'sandbox-exec --help');
  t.match(exec.stdout, /^usage: sandbox-exec PLAN/, 'sandbox-exec on PATH is the stage');
});

t.test('man sandbox and man sandbox-profile', { skip: have('man') ? false : 'man is not installed (man-db)' }, async (t) => {
  const man = path.join(prefix, 'share', 'man');
  const one = asUser(['man', '-w', 'sandbox'], { env: [`MANPATH=${man}`] });
  // man-db prints the page's real path: the package's man/, linked from PREFIX/share/man
  const pkgMan = path.join(prefix, 'lib', 'node_modules', 'sandbox', 'man');
  t.equal(one.stdout.trim(), path.join(pkgMan, 'sandbox.1'), 'man -w sandbox');
  t.equal(fs.realpathSync(path.join(man, 'man1', 'sandbox.1')), path.join(pkgMan, 'sandbox.1'), 'linked from PREFIX/share/man/man1');
  const five = asUser(['man', '-w', '5', 'sandbox-profile'], { env: [`MANPATH=${man}`] });
  t.equal(five.stdout.trim(), path.join(pkgMan, 'sandbox-profile.5'), 'man -w 5 sandbox-profile');
});

t.test('bash completion of the installed sandbox', { skip: fs.existsSync('/bin/bash') ? false : 'no bash' }, async (t) => {
  const script = 'source <(sandbox completion bash); COMP_WORDS=(sandbox run --profile br); COMP_CWORD=3; _sandbox sandbox; echo "${COMPREPLY[*]}"';
  const r = asUser(['/bin/bash', '-c', script]);
  t.equal(r.stdout.trim(), 'browser', `--profile br<TAB>: ${r.stderr}`);
});

t.test('a hoisted layout (the prebuilt package beside sandbox) runs, and its programs stay read-only', async (t) => {
  // as npm lays out a registry install into a project: node_modules/sandbox and node_modules/sandbox-linux-ARCH
  const nm = path.join(project, 'node_modules');
  const r0 = asUser(['/bin/sh', '-c', `mkdir -p ${nm}/sandbox && tar xzf ${tarball} -C ${nm}/sandbox --strip-components=1 && mv ${nm}/sandbox/node_modules/sandbox-linux-${ARCH} ${nm}/`],
    { env: ['PATH=/usr/bin:/bin'] });
  t.equal(r0.status, 0, `unpacked: ${r0.stderr}`);
  const sandbox = path.join(nm, 'sandbox', 'bin', 'sandbox');
  const run = asUser([sandbox, 'run', '--', '/bin/true']);
  t.equal(run.status, 0, `node_modules/sandbox/bin/sandbox run: ${run.stderr}`);
  const plan = asUser([sandbox, 'run', '--print-plan', '--no-profile', '--bind', project, project, '--', '/bin/true']);
  t.equal(plan.status, 0, plan.stderr);
  const mounts = JSON.parse(plan.stdout).mounts;
  const prebuilt = path.join(nm, `sandbox-linux-${ARCH}`);
  t.ok(mounts.some((m) => m.op === 'bind' && m.readOnly && m.src === prebuilt && m.dst === prebuilt), 'the prebuilt programs are bound read-only over the writable project');
  fs.rmSync(nm, { recursive: true, force: true });
});

t.test('npm uninstall -g leaves nothing behind', async (t) => {
  const r = asUser(['npm', 'uninstall', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', 'sandbox']);
  t.equal(r.status, 0, `npm uninstall -g: ${r.stderr}`);
  const left = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else left.push(path.relative(prefix, p));
    }
  };
  walk(prefix);
  t.same(left, [], 'no file or link is left under the prefix');
});
