#!/usr/bin/env node
// Writes the fuzzer's seed corpus: the wire form of plans that the real CLI builds (through planFor and
// serializePlan from dist/, so run `npx tsc -p .` first), plus a few hand-made ones for the records the
// CLI doesn't emit yet (seccomp, cgroup, data). Usage: node make-corpus.js OUTDIR
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const root = path.resolve(__dirname, '..', '..');
const { planFor } = require(path.join(root, 'dist/lib/cli/run.js'));
const { serializePlan } = require(path.join(root, 'dist/lib/native/serialize.js'));

const out = process.argv[2] || path.join(__dirname, 'build', 'corpus');
fs.mkdirSync(out, { recursive: true });
const io = { out() {}, err() {} };
// The plans carry the environment: give them a plain one, not whatever the caller has.
process.env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/home/user', LANG: 'C.UTF-8', TERM: 'xterm' };

const commandLines = [
  ['--no-profile', '--', 'true'],
  ['--no-profile', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--', 'id', '-u'],
  ['--no-profile', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--tmpfs', '/tmp', '--', 'sh', '-c', 'ls /'],
  ['--no-profile', '--ro-bind', '/', '/', '--bind', '/tmp', '/tmp', '--share-net', '--hostname', 'fuzz', '--chdir', '/tmp', '--', 'env'],
  ['--no-profile', '--ro-bind', '/', '/', '--dir', '/run/x', '--remount-ro', '/run', '--mqueue', '/dev/mqueue', '--', 'true'],
  ['--no-profile', '--ro-bind', '/', '/', '--setenv', 'A', 'b', '--unsetenv', 'HOME', '--new-session', '--die-with-parent', '--as-pid-1', '--', 'cat'],
  ['--no-profile', '--ro-bind', '/', '/', '--cap-add', 'CAP_NET_RAW', '--uid', '1000', '--gid', '1000', '--', 'true'],
];

const seeds = [];
for (const argv of commandLines) {
  try {
    const r = planFor(argv, io);
    if (!('help' in r)) seeds.push(serializePlan(r.plan));
  } catch (e) {
    process.stderr.write(`make-corpus: skipped ${argv.join(' ')}: ${e.message}\n`);
  }
}

// Records the CLI can't produce yet, written in the same token form.
function tok(v) { const b = Buffer.isBuffer(v) ? v : Buffer.from(String(v)); return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(',')]); }
function plan(...records) { return Buffer.concat([['sandbox-plan', 2], ...records, ['end']].flat().map(tok)); }
const bpf = Buffer.alloc(16); bpf.writeUInt16LE(6, 8); bpf.writeUInt32LE(0x7fff0000, 12);
seeds.push(plan(['argv', 'true'], ['seccomp', 'default.json5:3:1', bpf]));
seeds.push(plan(['argv', 'true'], ['cgroup', '/sys/fs/cgroup/user/sbx-1'], ['cgroup-memory-label', 'memory 1G'], ['cgroup-pids-label', 'pids 100']));
seeds.push(plan(['keep-fd', 5], ['data', '--file 5 /etc/x', 5, '/etc/x', 420, 1, 1], ['chmod', '--chmod', 493, '/etc'], ['tmpfs', '--tmpfs', '/tmp', 1048576, 1023], ['argv', 'sh'], ['env', 'A=1']));

// a compiled plan's records (environment patterns, inputs) and Landlock rules, through the real writer
const { compiledRecords } = require(path.join(root, 'dist/lib/cli/compile.js'));
try {
  const r = planFor(['--no-profile', '--ro-bind', '/usr', '/usr', '--', 'true'], io);
  const plan = { ...r.plan, landlockPaths: [{ path: '/usr', write: false, origin: 'p.json5:3:5' }, { path: '/tmp', write: true, origin: 'p.json5:4:5' }] };
  seeds.push(serializePlan(plan, compiledRecords({ envClear: true, envKeep: ['SLURM_*', 'LC_?'], envUnset: ['A[B]'], bootId: 'b',
    files: [{ path: '/p.json5', sec: 1n, nsec: 2n, size: 3n }], paths: [{ path: '/usr', dir: true, optional: false, dev: 1n, ino: 2n }] })));
} catch (e) {
  process.stderr.write(`make-corpus: skipped the compiled plan: ${e.message}\n`);
}

for (const s of seeds) {
  const name = crypto.createHash('sha1').update(s).digest('hex');
  fs.writeFileSync(path.join(out, name), s);
}
process.stdout.write(`make-corpus: ${seeds.length} plans in ${out}\n`);
