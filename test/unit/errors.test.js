// The one error path (lib/errors.ts): one errno table (lib/errno-table.ts, generated from <errno.h> and strerror by
// scripts/gen-errno.js), errno in the C library's words as the C stage prints them, SandboxError with a cause and a
// context added by each layer, and no other place in lib/ that renders an errno its own way.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const E = require('../../dist/lib/errors');

const ROOT = path.resolve(__dirname, '..', '..');

t.test('the table agrees with Node\'s numbers and has the C library\'s words', async (t) => {
  for (const [name, n] of Object.entries(os.constants.errno)) {
    if (E.errnoNumber(name) !== undefined) t.equal(E.errnoNumber(name), n, name);
  }
  t.equal(E.ERRNO.EPERM, 1);
  t.equal(E.ERRNO.ENOTSUP, E.ERRNO.EOPNOTSUPP, 'aliases share the number');
  t.equal(E.errnoName(95), 'EOPNOTSUPP', 'a number is named by its first name');
  t.equal(E.errnoName(4000), '4000', 'a number with no name stays a number (a policy may return any 0-4095)');
  t.equal(E.errnoText('EACCES'), 'Permission denied');
  t.equal(E.errnoText(13), 'Permission denied');
  t.equal(E.errnoText('EBUSY'), 'Device or resource busy');
  t.equal(E.errnoText('EWHAT'), 'EWHAT', 'a name the table lacks is shown as it is');
  t.equal(E.errnoText(undefined), 'unknown error');
  t.equal(E.errnoMessage, E.errnoText, 'the former name still works');
});

t.test('the committed table is what this machine\'s headers and C library give', { skip: spawnSync('gcc', ['--version']).status === 0 ? false : 'no gcc here' }, async (t) => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-errno.js'), '--check'], { encoding: 'utf8', cwd: ROOT });
  t.equal(r.status, 0, r.stdout + r.stderr);
});

t.test('describeError: a Node error in words, without its own path and syscall', async (t) => {
  let err;
  try {
    fs.statSync('/definitely/not/here');
  } catch (e) {
    err = e;
  }
  t.equal(E.describeError(err), 'No such file or directory');
  t.equal(E.describeError(new E.SandboxError('x: y')), 'x: y');
  t.equal(E.describeError(new Error('first\nsecond')), 'first');
  t.equal(E.describeError('plain'), 'plain');
});

t.test('SandboxError: one line, an exit code, a cause, context added by each layer', async (t) => {
  const io = Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES', errno: -13 });
  const inner = E.SandboxError.wrap('write /sys/fs/cgroup/x/cgroup.subtree_control', io);
  t.equal(inner.message, 'write /sys/fs/cgroup/x/cgroup.subtree_control: Permission denied');
  t.equal(inner.cause, io);
  t.equal(inner.exitCode, 125);
  const outer = E.SandboxError.wrap('enable controllers +memory', inner);
  t.equal(outer.message, 'enable controllers +memory: write /sys/fs/cgroup/x/cgroup.subtree_control: Permission denied');
  t.equal(outer.cause, inner);
  const notFound = E.SandboxError.wrap('run', new E.SandboxError('foo: not found', E.EXIT.NOT_FOUND));
  t.equal(notFound.exitCode, 127, 'the exit code of the error below is kept');
  const sys = E.SandboxError.errno('memfd_create sandbox-plan', 24);
  t.equal(sys.message, 'memfd_create sandbox-plan: Too many open files');
  t.same(sys.cause, { errno: 24, code: 'EMFILE' });
  t.equal(new E.SandboxError('a\nb').message, 'a b', 'one line always');
  t.equal(new E.SandboxError('a').cause, undefined);
});

/** Every .ts file under lib/, recursively. */
function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
}

t.test('no other place in lib/ renders an errno its own way', async (t) => {
  const rules = [
    [/constants\.errno|osConstants\.errno/, 'errno numbers from os.constants: use ERRNO of lib/errors'],
    [/\$\{\s*\w+\.errno\(\)\s*\}/, 'a raw errno number in a message: use SandboxError.errno or errnoText'],
    [/\$\{[^}]*\.code \?\?[^}]*\}|\$\{\(e as NodeJS\.ErrnoException\)\.code\}/, 'an errno name (EACCES) in a message: use describeError or SandboxError.wrap'],
    [/kind: 'errno', errno: \d/, 'a hand-typed errno number: use ERRNO of lib/errors'],
    [/\bmemfd_create\(/, 'a memfd made outside lib/native/memfd.ts'],
  ];
  const own = new Set(['errors.ts', 'errno-table.ts'].map((f) => path.join(ROOT, 'lib', f)));
  const allowed = { [path.join(ROOT, 'lib', 'native', 'memfd.ts')]: 'memfd', [path.join(ROOT, 'lib', 'native', 'libc.ts')]: 'memfd' };
  const found = [];
  for (const f of sources(path.join(ROOT, 'lib'))) {
    if (own.has(f) || f.includes(`${path.sep}seccomp${path.sep}tables${path.sep}`)) continue;
    fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      for (const [re, why] of rules) {
        if (allowed[f] === 'memfd' && why.includes('memfd')) continue;
        if (re.test(line)) found.push(`${path.relative(ROOT, f)}:${i + 1}: ${why}`);
      }
    });
  }
  t.same(found, [], found.join('\n'));
});

t.test('the command line prints one line; DEBUG=sandbox adds what caused it', async (t) => {
  const cli = (env) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'sandbox.js'), 'seccomp', 'explain', '/definitely/missing.json', 'read'], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  const plain = cli({});
  t.equal(plain.status, 125);
  t.equal(plain.stderr, 'sandbox: /definitely/missing.json: No such file or directory\n');
  const debug = cli({ DEBUG: 'sandbox:*' });
  t.match(debug.stderr, /^sandbox: \/definitely\/missing\.json: No such file or directory\nsandbox: caused by: Error: ENOENT: no such file or directory, open '\/definitely\/missing\.json'\n/);
});
