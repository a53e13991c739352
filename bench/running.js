// `sandbox ps` with 1 and with 100 sandboxes running, and `sandbox enter NAME -- true` against
// `nsenter -t PID -U -m -p -n -i -u -C --preserve-credentials true` into the same sandbox, in the same run.
// Everything runs as uid 65534 (through setpriv when started as root) with a runtime directory of its own;
// every sandbox started here is stopped and its pids checked gone at the end. Run by hand:
//   node bench/running.js [ROUNDS]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const S = path.join(root, 'bin', 'sandbox');
const rounds = Number(process.argv[2] || 20);
const IS_ROOT = process.getuid() === 0;
const rt = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-bench-running-'));
fs.chmodSync(rt, 0o700);
if (IS_ROOT) fs.chownSync(rt, 65534, 65534);
const env = { PATH: '/usr/bin:/bin', HOME: rt, XDG_RUNTIME_DIR: rt, LANG: 'C.UTF-8' };
const BASE = ['--no-profile', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];

const asUser = (cmd, args) => (IS_ROOT ? ['setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'env', '-u', 'NODE_OPTIONS', cmd, ...args]] : ['env', ['-u', 'NODE_OPTIONS', cmd, ...args]]);
const runSync = (cmd, args) => {
  const [c, a] = asUser(cmd, args);
  return spawnSync(c, a, { env, cwd: rt, encoding: 'utf8' });
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Median wall time in ms of `rounds` runs of fn (after one warm-up), and the spread. */
function time(fn) {
  fn();
  const ms = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { median: median(ms), min: ms[0], max: ms[ms.length - 1] };
}
const fmt = (r) => `median ${r.median.toFixed(1)} ms (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)})`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const started = [];
function startSandbox(name) {
  const [c, a] = asUser(S, ['run', ...BASE, '--name', name, '--', 'sleep', '600']);
  const p = spawn(c, a, { env, cwd: rt, stdio: 'ignore' });
  started.push(p);
  return p;
}
async function waitEntries(n) {
  const dir = path.join(rt, 'sandbox', 'running');
  for (let i = 0; i < 6000; i++) {
    const socks = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.sock')).length : 0;
    if (socks >= n) return;
    await sleep(20);
  }
  throw new Error(`only some of ${n} sandboxes registered`);
}
/** What `sandbox ps` does once Node runs: read the registry (a /proc check per entry) and format the table. */
function psInProcess() {
  const { listRunning } = require('../dist/lib/running/registry');
  const { psRows, formatPs } = require('../dist/lib/cli/running-commands');
  return formatPs(psRows(listRunning(IS_ROOT ? 65534 : process.getuid(), env), Date.now()));
}
function ps() {
  const r = runSync(S, ['ps']);
  if (r.status !== 0) throw new Error(`sandbox ps: ${r.stderr}`);
  return r.stdout;
}

async function main() {
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, kernel ${os.release()}, ${rounds} rounds each`);
  startSandbox('bench-0');
  await waitEntries(1);
  const one = time(ps);
  const oneIn = time(psInProcess);
  if (ps().trim().split('\n').length !== 2) throw new Error('ps does not list exactly one sandbox');

  // enter against nsenter, same sandbox, alternating
  const entry = JSON.parse(fs.readFileSync(path.join(rt, 'sandbox', 'running', 'bench-0.json'), 'utf8'));
  const init = Number(fs.readFileSync(`/proc/${entry.pid}/task/${entry.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  // the program, not the enter helper beside it (not dumpable: nsenter can't open its namespaces)
  const program = fs.readFileSync(`/proc/${init}/task/${init}/children`, 'utf8').trim().split(/\s+/).map(Number)
    .find((p) => fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sleep');
  const enter = () => { const r = runSync(S, ['enter', 'bench-0', '--', 'true']); if (r.status !== 0) throw new Error(`enter: ${r.stderr}`); };
  const ns = () => { const r = runSync('nsenter', ['-t', String(program), '-U', '-m', '-p', '-n', '-i', '-u', '-C', '--preserve-credentials', 'true']); if (r.status !== 0) throw new Error(`nsenter: ${r.stderr}`); };
  const stage = path.join(root, 'native', 'build', 'sandbox-stage');
  const client = () => { const r = runSync(stage, ['--enter', path.join(rt, 'sandbox', 'running'), 'bench-0', String(entry.pid), '--', 'true']); if (r.status !== 0) throw new Error(`client: ${r.stderr}`); };
  const baseline = () => { const r = runSync('true', []); if (r.status !== 0) throw new Error('true'); };
  const tEnter = time(enter);
  const tClient = time(client);
  const tNs = time(ns);
  const tBase = time(baseline);
  const tNode = time(() => runSync(S, ['--version']));

  for (let i = 1; i < 100; i++) startSandbox(`bench-${i}`);
  await waitEntries(100);
  await sleep(500);
  const hundred = time(ps);
  const hundredIn = time(psInProcess);
  if (psInProcess().trim().split('\n').length !== 101) throw new Error('the registry does not list 100 sandboxes');
  if (ps().trim().split('\n').length !== 101) throw new Error('ps does not list 100 sandboxes');

  console.log(`sandbox ps, 1 sandbox running:     ${fmt(one)}`);
  console.log(`sandbox ps, 100 sandboxes running: ${fmt(hundred)}`);
  console.log(`  its work in Node, 1 sandbox:     ${fmt(oneIn)}`);
  console.log(`  its work in Node, 100 sandboxes: ${fmt(hundredIn)}`);
  console.log(`sandbox enter NAME -- true:        ${fmt(tEnter)}`);
  console.log(`  its C client alone (no Node):    ${fmt(tClient)}`);
  console.log(`nsenter -U -m -p -n -i -u -C true: ${fmt(tNs)}  (no seccomp, Landlock, capability drop)`);
  console.log(`sandbox --version (Node's start):  ${fmt(tNode)}`);
  console.log(`setpriv ... true (the baseline):   ${fmt(tBase)}`);
}

async function cleanup() {
  const dir = path.join(rt, 'sandbox', 'running');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)) : [];
  await Promise.all(names.map((n) => new Promise((resolve) => {
    const [c, a] = asUser(S, ['stop', '--timeout', '2', n]);
    spawn(c, a, { env, cwd: rt, stdio: 'ignore' }).on('close', resolve);
  })));
  await Promise.all(started.map((p) => (p.exitCode !== null || p.signalCode !== null ? null : new Promise((r) => p.on('close', r)))));
  const left = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  console.log(`cleaned up: ${started.length} sandboxes stopped, ${left.length} registry files left`);
  fs.rmSync(rt, { recursive: true, force: true });
}

main().then(cleanup, async (e) => { console.error(e.message); await cleanup(); process.exitCode = 1; });
