// What `npm pack` puts in the tarball, and the package.json a published CLI needs: the list of files is held
// here, so a file that starts shipping (or stops) is a decision someone makes, not an accident.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, have } = require('../lib/harness');

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

t.test('package.json is a publishable CLI that needs no install scripts', async (t) => {
  t.notOk('private' in pkg, 'not private');
  t.equal(pkg.license, 'MIT', 'a license');
  t.same(pkg.os, ['linux'], 'os: linux');
  t.match(pkg.engines.node, />=\s*20/, 'engines: node 20 or newer');
  t.same(pkg.bin, { sandbox: 'bin/sandbox', 'sandbox-exec': 'bin/sandbox-exec' }, 'bin: sandbox and sandbox-exec');
  t.same(pkg.man, ['man/sandbox.1', 'man/sandbox-profile.5'], 'man: sandbox(1), sandbox-profile(5)');
  for (const s of ['preinstall', 'install', 'postinstall']) t.notOk(pkg.scripts[s], `no ${s} script`);
  t.same(pkg.dependencies ?? {}, {}, 'no runtime dependencies: dist/sandbox.js bundles them');
  t.same(Object.keys(pkg.optionalDependencies).sort(), ['sandbox-linux-arm64', 'sandbox-linux-x64'], 'the prebuilt packages are optional dependencies');
  t.same(pkg.bundleDependencies.sort(), ['sandbox-linux-arm64', 'sandbox-linux-x64'], '... bundled in the tarball where built');
  for (const arch of ['x64', 'arm64']) {
    const sub = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages', `sandbox-linux-${arch}`, 'package.json'), 'utf8'));
    t.equal(sub.version, pkg.version, `sandbox-linux-${arch} has sandbox's version`);
    t.same([sub.os, sub.cpu], [['linux'], [arch]], `sandbox-linux-${arch}: os linux, cpu ${arch}`);
    t.notOk(sub.scripts, `sandbox-linux-${arch} has no scripts`);
  }
  for (const b of Object.values(pkg.bin)) t.equal(fs.statSync(path.join(ROOT, b)).mode & 0o111, 0o111, `${b} is executable`);
});

const OWN_FILES = [
  'LICENSE', 'README.md', 'bin/loader.js', 'bin/sandbox', 'bin/sandbox-exec', 'bin/sandbox.js',
  'completions/_sandbox', 'completions/sandbox.bash', 'completions/sandbox.fish',
  'dist/base-filter.json', 'dist/profiles.cache.json', 'dist/sandbox.js', 'dist/sandbox.js.cache',
  'man/sandbox-profile.5', 'man/sandbox.1', 'package.json',
  ...fs.readdirSync(path.join(ROOT, 'profiles')).filter((f) => f.endsWith('.json5')).map((f) => `profiles/${f}`), 'profiles/README.md',
  'schema/profile.schema.json',
].sort();
const PREBUILT_FILES = ['koffi.LICENSE.txt', 'koffi.node', 'package.json', 'sandbox', 'sandbox-exec', 'sandbox-probe', 'sandbox-pulse-proxy', 'sandbox-stage', 'static/sandbox-exec'];

t.test('npm pack --dry-run lists only what runs', { skip: have('npm') ? false : 'npm is not installed' }, async (t) => {
  if (!fs.existsSync(path.join(ROOT, 'man', 'sandbox.1'))) return t.skip('the package is not built (npm run build)');
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(r.status, 0, `npm pack --dry-run: ${r.stderr}`);
  const [info] = JSON.parse(r.stdout);
  const files = info.files.map((f) => f.path).sort();
  t.same(files.filter((f) => !f.startsWith('node_modules/')), OWN_FILES, 'the package\'s own files');
  for (const f of files.filter((x) => x.startsWith('node_modules/'))) {
    const m = /^node_modules\/(sandbox-linux-(?:x64|arm64))\/(.*)$/.exec(f);
    t.ok(m && PREBUILT_FILES.includes(m[2]), `${f} is a file of a prebuilt package`);
  }
  t.notOk(files.some((f) => /^(test|bench|\.ci|lib|scripts|native|docs|packages)\//.test(f)), 'no tests, sources, CI or benchmarks');
});

t.test('bin/sandbox and bin/sandbox-exec with neither native/build nor a prebuilt package say what to install', async (t) => {
  const os = require('os');
  const pkgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-no-programs-'));
  t.teardown(() => fs.rmSync(pkgDir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(pkgDir, 'bin'));
  for (const f of ['sandbox', 'sandbox-exec', 'sandbox.js']) fs.copyFileSync(path.join(ROOT, 'bin', f), path.join(pkgDir, 'bin', f));
  for (const f of ['sandbox', 'sandbox-exec']) {
    fs.chmodSync(path.join(pkgDir, 'bin', f), 0o755);
    const r = spawnSync(path.join(pkgDir, 'bin', f), ['--version'], { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
    t.equal(r.status, 125, `${f}: exit 125`);
    t.match(r.stderr, /^sandbox(-exec)?: no sandbox-linux-(x64|arm64) package .*install a C compiler and make \(Debian: apt install gcc make\)/, `${f}: names the package and the compiler`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${f}: one line`);
  }
});

t.test('the prebuilt launcher looks for node on PATH only, and says so when there is none', async (t) => {
  const launcher = path.join(ROOT, 'packages', `sandbox-linux-${process.arch}`, 'sandbox');
  if (!fs.existsSync(launcher)) return t.skip('the prebuilt package is not built (node scripts/prebuilt.js)');
  const strings = fs.readFileSync(launcher, 'latin1');
  t.notOk(strings.includes(process.execPath), 'no build machine\'s node path inside');
  const r = spawnSync(launcher, ['--version'], { env: { PATH: '/nonexistent' }, encoding: 'utf8' });
  t.equal(r.status, 125, 'exit 125');
  t.match(r.stderr, /^sandbox: no node on PATH \(install Node\.js 20 or later, or set SANDBOX_NODE/, 'one line naming what to install');
});

t.test('building from a checkout without a compiler or make says what to install', { skip: have('make') ? false : 'make is missing' }, async (t) => {
  const m = spawnSync('make', ['-s', '-C', path.join(ROOT, 'native'), 'CC=no-such-cc'], { encoding: 'utf8' });
  t.not(m.status, 0, 'make fails');
  t.match(m.stderr, /no C compiler "no-such-cc": install one and make \(Debian: apt install gcc make\), or install sandbox from its npm tarball/, 'names the compiler');
  const b = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-native.js')], { env: { PATH: '/nonexistent' }, encoding: 'utf8' });
  t.equal(b.status, 1, 'no make: exit 1');
  t.match(b.stderr, /^sandbox: make is missing: install make and a C compiler/, 'names make');
});
