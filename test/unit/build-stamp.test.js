// The tests run dist/ and native/build/: scripts/build-stamp.js (npm test's "pretest", and the last step of
// npm run build) stops a test run with one line when they are older than the sources, checked here on a copy of
// the script in a made-up checkout.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'build-stamp.js');

function checkout(t) {
  const dir = t.testdir({
    scripts: { 'build-stamp.js': fs.readFileSync(SCRIPT, 'utf8'), 'bundle.js': '// bundler\n' },
    bin: { 'loader.js': '// loader\n' },
    'tsconfig.json': '{}\n',
    lib: { 'errors.ts': 'export {};\n', plan: { 'build.ts': 'export const a = 1;\n' } },
    native: { 'stage.c': 'int main(void) { return 0; }\n', Makefile: 'all:\n', build: { 'sandbox-stage': 'ELF', sandbox: 'ELF', 'x.c': 'not a source' } },
    profiles: { 'default.json5': '{}\n' },
    dist: { 'sandbox.js': '', lib: { cli: { 'main.js': '' } } },
  });
  const run = (...args) => spawnSync(process.execPath, [path.join(dir, 'scripts', 'build-stamp.js'), ...args], { encoding: 'utf8' });
  return { dir, run };
}

t.test('a fresh build passes; a changed, added or removed source stops the run with one line', async (t) => {
  const { dir, run } = checkout(t);
  let r = run();
  t.equal(r.status, 1);
  t.equal(r.stderr, 'sandbox tests: dist/build-stamp is missing: the build was not made by npm run build; run npm run build before the tests\n');
  t.equal(run('--write').status, 0);
  r = run();
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '');

  fs.writeFileSync(path.join(dir, 'lib', 'plan', 'build.ts'), 'export const a = 2;\n');
  r = run();
  t.equal(r.status, 1);
  t.equal(r.stderr, 'sandbox tests: the build is older than its sources (lib/plan/build.ts changed since): run npm run build before the tests\n');
  fs.writeFileSync(path.join(dir, 'lib', 'plan', 'build.ts'), 'export const a = 1;\n');
  t.equal(run().status, 0, 'the same bytes again: fresh (a checkout that only touched the file is not stale)');

  fs.writeFileSync(path.join(dir, 'native', 'join.c'), '\n');
  fs.rmSync(path.join(dir, 'profiles', 'default.json5'));
  fs.writeFileSync(path.join(dir, 'lib', 'errors.ts'), 'export const b = 1;\n');
  fs.writeFileSync(path.join(dir, 'native', 'Makefile'), 'all: x\n');
  t.match(run().stderr, /^sandbox tests: the build is older than its sources \(lib\/errors\.ts, native\/Makefile, native\/join\.c and 1 more changed since\): run npm run build before the tests\n$/);
  run('--write');
  fs.writeFileSync(path.join(dir, 'native', 'build', 'x.c'), 'still not a source');
  t.equal(run().status, 0, 'what the build writes is not a source');
});

t.test('a build that did not finish stops the run', async (t) => {
  const { dir, run } = checkout(t);
  run('--write');
  fs.rmSync(path.join(dir, 'native', 'build', 'sandbox-stage'));
  const r = run();
  t.equal(r.status, 1);
  t.equal(r.stderr, 'sandbox tests: native/build/sandbox-stage is missing: run npm run build (or npm install) before the tests\n');
});

t.test('this checkout\'s build is as fresh as its sources', async (t) => {
  const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
});
