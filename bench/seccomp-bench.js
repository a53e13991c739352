#!/usr/bin/env node
// Run by hand: node bench/seccomp-bench.js [--calls N] [--policy FILE]
// Measures the cost of our seccomp filter on allowed syscalls: a loop of getppid() calls and a
// syscall-heavy workload (find /usr), bare and under the filter (base filter alone, and over
// Docker's profile when ../shared/testdata is there). Each case runs in a fresh child process that
// installs the filter on itself (no_new_privs, then seccomp with TSYNC) through koffi.
// The getppid loop pays koffi's call overhead in both cases; compare the difference.
'use strict';
const { spawnSync, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };

if (process.env.SECCOMP_BENCH_CHILD) {
  const koffi = require('koffi');
  const libc = koffi.load('libc.so.6');
  const getppid = libc.func('int getppid()');
  const prctl = libc.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)');
  const Fprog = koffi.struct('sock_fprog', { len: 'uint16', filter: 'void *' });
  const seccomp = libc.func('long syscall(long nr, long op, long flags, _Inout_ sock_fprog *prog)');
  const mode = process.env.SECCOMP_BENCH_CHILD;
  if (mode !== 'bare') {
    const bpf = Buffer.from(fs.readFileSync(mode, 'utf8'), 'base64');
    if (prctl(38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0) !== 0) throw new Error('PR_SET_NO_NEW_PRIVS failed');
    const nr = process.arch === 'x64' ? 317 : 277;
    const rc = seccomp(nr, 1 /* SECCOMP_SET_MODE_FILTER */, 1 /* TSYNC */, { len: bpf.length / 8, filter: bpf });
    if (rc !== 0) throw new Error(`seccomp() failed: ${rc}`);
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    if (!/^Seccomp:\s+2$/m.test(status)) throw new Error('filter not in place');
  }
  const calls = Number(process.env.SECCOMP_BENCH_CALLS);
  for (let i = 0; i < 100000; i++) getppid();
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) getppid();
  const loopNs = Number(process.hrtime.bigint() - t0) / calls;
  t0 = process.hrtime.bigint();
  const r = spawnSync('find', ['/usr'], { stdio: ['ignore', 'ignore', 'ignore'] });
  const findMs = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ loopNs, findMs, findStatus: r.status }) + '\n');
  process.exit(0);
}

const calls = Number(opt('--calls', '10000000'));
const rounds = Number(opt('--rounds', '3'));
execFileSync('npx', ['tsc', '-p', root], { stdio: 'inherit' });
const { seccompForPlan, hostArch } = require(path.join(root, 'dist', 'lib', 'seccomp', 'index'));
const { parseSeccompSection } = require(path.join(root, 'dist', 'lib', 'seccomp', 'policy'));
const { locatorFor: jsonLocator } = require(path.join(root, 'dist', 'lib', 'json5-text'));
const arch = hostArch();
const tmp = fs.mkdtempSync('/tmp/seccomp-bench-');
const cases = [['bare', 'bare']];
const write = (name, plan) => { const f = path.join(tmp, name); fs.writeFileSync(f, plan.bpf); cases.push([name, f]); };
// One `ret ALLOW`: what merely having a filter costs (the slow syscall entry), for comparison.
const trivial = Buffer.alloc(8); trivial.writeUInt16LE(0x06, 0); trivial.writeUInt32LE(0x7fff0000, 4);
write('allow-all filter', { bpf: trivial.toString('base64') });
write('base filter', seccompForPlan(null, arch, []));
const docker = path.join(root, '..', 'shared', 'testdata', 'seccomp', 'docker-default.json');
if (fs.existsSync(docker)) {
  const text = fs.readFileSync(docker, 'utf8');
  write('docker over base', seccompForPlan(parseSeccompSection(JSON.parse(text), jsonLocator(text, docker)), arch, []));
}
const pol = opt('--policy');
if (pol) {
  const text = fs.readFileSync(pol, 'utf8');
  write(path.basename(pol), seccompForPlan(parseSeccompSection(require('json5').parse(text), jsonLocator(text, pol)), arch, []));
}
const results = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, mode] of cases) {
    const out = spawnSync(process.execPath, [__filename], { env: { ...process.env, SECCOMP_BENCH_CHILD: mode, SECCOMP_BENCH_CALLS: String(calls) }, encoding: 'utf8' });
    if (out.status !== 0) { process.stderr.write(out.stderr); process.exit(1); }
    const v = JSON.parse(out.stdout);
    (results[name] ??= []).push(v);
  }
}
const best = (xs, k) => Math.min(...xs.map((x) => x[k]));
const bare = results.bare;
console.log(`${calls} getppid() calls through koffi, find /usr; best of ${rounds}; ${arch}`);
for (const [name] of cases) {
  const l = best(results[name], 'loopNs'), f = best(results[name], 'findMs');
  const dl = ((l / best(bare, 'loopNs')) - 1) * 100, df = ((f / best(bare, 'findMs')) - 1) * 100;
  console.log(`${name.padEnd(18)} getppid ${l.toFixed(1)} ns/call (${dl >= 0 ? '+' : ''}${dl.toFixed(1)}%)   find /usr ${f.toFixed(0)} ms (${df >= 0 ? '+' : ''}${df.toFixed(1)}%)`);
}
fs.rmSync(tmp, { recursive: true, force: true });
