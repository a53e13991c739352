// The plan's wire format from one table (lib/native/records.ts): the C reader's dispatch and PLAN.md are derived
// from it, every record and every mount kind the TypeScript writer knows reaches the C stage's reader with its
// values, and both sides read an environment pattern alike.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, have } = require('../lib/harness');

const dist = (p) => require(path.join(ROOT, 'dist', 'lib', p));
const { RECORDS, PLAN_VERSION } = dist('native/records.js');
const { serializePlan, PlanWriter } = dist('native/serialize.js');
const { MOUNT_OP_KINDS } = dist('plan/types.js');
const { buildEnv } = dist('plan/build.js');
const { compiledRecords } = dist('cli/compile.js');
const { landlockHandledRights, landlockPathRights } = dist('plan/landlock.js');

const CHECK = path.join(ROOT, 'native', 'build', 'plan-check');
const built = have('make') ? spawnSync('make', ['-s', '-C', path.join(ROOT, 'native'), 'build/plan-check'], { encoding: 'utf8' }) : null;
// make there and the tool not built is a failure of the build, not a reason to skip what it checks
const checkWhy = !built ? 'make is missing' : null;
t.test('native/build/plan-check builds', { skip: checkWhy }, async (t) => {
  t.equal(built.status, 0, `make build/plan-check: ${built.stderr.trim().split('\n').slice(-3).join(' | ')}`);
});

/** The C reader's view of a plan: its lines, and the environment it builds (with env-launch). */
function cRead(bytes, env = {}) {
  // through env -i: tap adds its own variables to every child's environment
  const r = spawnSync('env', ['-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), CHECK], { input: bytes, encoding: 'utf8' });
  const [lines, built] = r.stdout.split('env\n');
  return { status: r.status, stderr: r.stderr, lines: lines.split('\n').filter(Boolean), env: built === undefined ? null : built.split('\0').filter(Boolean) };
}

const basePlan = () => ({
  version: 2, namespaces: { net: true, pid: true }, uid: 1000, gid: 1000, hostname: 'h', cwd: '/', cwdFallback: false, mounts: [], env: [], argv: ['true'],
  capabilities: [], newSession: false, terminalNode: false, dieWithParent: true, parentPid: 0, asPid1: false, keepFds: [], landlockScopes: 0,
  landlockPaths: [], verbose: false, seccomp: null, cgroup: null, joinDir: null, joinPolicy: null,
});

t.test('native/plan-records.h and PLAN.md are derived from the table', async (t) => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-plan-records.js'), '--check'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr || 'up to date');
  const header = fs.readFileSync(path.join(ROOT, 'native', 'plan-records.h'), 'utf8');
  t.match(header, new RegExp(`#define PLAN_VERSION ${PLAN_VERSION}\\n`));
  const doc = fs.readFileSync(path.join(ROOT, 'native', 'PLAN.md'), 'utf8');
  t.match(doc, new RegExp(`^# The plan: wire format, version ${PLAN_VERSION}$`, 'm'));
  for (const name of Object.keys(RECORDS)) {
    t.ok(header.includes(`"${name}"`), `${name}: in the C table`);
    t.ok(doc.includes(`| \`${name}\``), `${name}: in PLAN.md`);
  }
  const plan = fs.readFileSync(path.join(ROOT, 'native', 'plan.c'), 'utf8');
  t.notMatch(plan, /kw\[\d+\]/, 'plan.c picks no field by peeking at a keyword\'s characters');
  t.ok(plan.includes('PLAN_MOUNT_RECORD_CASES'), 'plan.c stores every mount record alike');
  for (const [name, spec] of Object.entries(RECORDS)) {
    if (spec.group === 'mount') t.ok(header.includes(`case REC_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}:`), `${name}: a mount record of the generated cases`);
    else t.ok(plan.includes(`case REC_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`), `${name}: plan.c stores it`);
  }
  const mounts = fs.readFileSync(path.join(ROOT, 'native', 'mounts.c'), 'utf8');
  for (const [name, spec] of Object.entries(RECORDS)) {
    if (spec.group === 'mount') t.ok(mounts.includes(`case MOUNT_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}:`), `${name}: mounts.c carries it out`);
  }
});

t.test('the writer refuses a record with the wrong number of fields', async (t) => {
  t.throws(() => new PlanWriter().record('bind', 'o', '/a'), /plan record bind: 2 fields for 7/);
  t.throws(() => new PlanWriter().record('dir', 'o', '/a', undefined), /plan record dir: a field has no value/);
});

// A value of each field type that the C reader accepts, and how plan-check prints it.
function sample(field, i) {
  switch (field.type.t) {
    case 'flag': return 1;
    case 'number': return Math.max(field.type.min ?? 0, Math.min(3 + i, field.type.max === 'u63' ? 1e9 : field.type.max));
    case 'path': return `/p${i}`;
    case 'paths': return [`/p${i}`, `/q${i}`];
    case 'assignment': return `N${i}=v`;
    case 'bytes': return Buffer.alloc(field.type.unit * field.type.minUnits);
    default: return field.name === 'kinds' ? 'l' : 'x';
  }
}

t.test('every record of the table is one the C reader knows', { skip: checkWhy }, async (t) => {
  for (const [name, spec] of Object.entries(RECORDS)) {
    const w = new PlanWriter();
    const values = spec.fields.map(sample);
    if (name === 'env-keep' || name === 'env-unset') values.splice(0, 2, 'x', 'l');
    if (name === 'overlay') values[5] = false; // read-only takes no upper
    // the launch records name a launch-var, and a launch-op a bind that begins with its value
    if (name.startsWith('launch-') && name !== 'launch-var') {
      w.record('bind', 'o', '/p2/a', '/p2/a', false, false, false, false).record('cwd', '/p2');
      w.record('launch-var', 'o', 'x', '/p2');
      if (name === 'launch-guard') values.splice(0, 3, 'x', 'n', '/home');
      if (name === 'launch-op') values.splice(0, 3, 'x', 0, true);
    }
    w.record(name, ...values);
    if (name !== 'argv') w.record('argv', 'true');
    const r = cRead(w.done());
    t.equal(r.status, 0, `${name}: read (${r.stderr.trim()})`);
  }
  const launch = (f) => { const w = new PlanWriter(); f(w); w.record('argv', 'true'); return cRead(w.done()).stderr; };
  t.match(launch((w) => w.record('launch-guard', 'y', 'n', '/h')), /launch-guard: no launch-var y/);
  t.match(launch((w) => w.record('launch-var', 'o', 'y', '/v').record('launch-guard', 'y', 'a', '/h')), /relation 'a' is not n, d or L/);
  t.match(launch((w) => w.record('tmpfs', 'o', '/v', 0, 0o755).record('launch-var', 'o', 'y', '/v').record('launch-op', 'y', 0, false)), /launch-op y: mount 0 is not a bind/);
  t.match(launch((w) => w.record('bind', 'o', '/w', '/w', false, false, false, false).record('launch-var', 'o', 'y', '/v').record('launch-op', 'y', 0, false)), /launch-op y: mount 0 does not begin with \/v/);
  t.match(launch((w) => w.record('bind', 'o', '/v/a', '/w', false, false, false, false).record('launch-var', 'o', 'y', '/v').record('launch-op', 'y', 0, true)), /does not begin with/);
  t.match(launch((w) => w.record('cwd', '/w').record('launch-var', 'o', 'y', '/v').record('launch-cwd', 'y')), /launch-cwd: cwd \/w does not begin with \/v/);
  t.match(launch((w) => w.record('launch-var', 'o', 'y', '/v').record('launch-var', 'o', 'y', '/w')), /launch-var y: given twice/);
  const unknown = new PlanWriter();
  unknown.record('argv', 'true');
  const bytes = Buffer.concat([unknown.done().subarray(0, -'3:end,'.length), Buffer.from('6:mqueux,1:o,2:/m,3:end,')]);
  t.match(cRead(bytes).stderr, /unknown record 'mqueux'/);
});

const mountSamples = {
  bind: { op: 'bind', src: '/usr', dst: '/usr', readOnly: true, devices: false, optional: true, noFollow: true, origin: '--ro-bind-try /usr /usr' },
  tmpfs: { op: 'tmpfs', dst: '/tmp', size: 1048576, mode: 0o1777, origin: '--tmpfs /tmp' },
  proc: { op: 'proc', dst: '/proc', origin: '--proc /proc' },
  dev: { op: 'dev', dst: '/dev', origin: '--dev /dev' },
  mqueue: { op: 'mqueue', dst: '/dev/mqueue', origin: '--mqueue /dev/mqueue' },
  dir: { op: 'dir', dst: '/run/x', mode: 0o700, origin: '--dir /run/x' },
  symlink: { op: 'symlink', target: 'usr/bin', dst: '/bin', origin: '--symlink usr/bin /bin' },
  data: { op: 'data', fd: 5, dst: '/etc/x', mode: 0o644, mount: true, readOnly: true, origin: '--ro-bind-data 5 /etc/x' },
  overlay: { op: 'overlay', dst: '/usr', lower: ['/a:b', '/usr'], upper: null, work: null, readOnly: false, origin: '--tmp-overlay /usr' },
  chmod: { op: 'chmod', mode: 0o755, path: '/run/x', origin: '--chmod 0755 /run/x' },
  'remount-ro': { op: 'remount-ro', dst: '/run', origin: '--remount-ro /run' },
};
// as plan-check prints a struct op: keyword, then every field, numbers in decimal
const mountLines = {
  bind: 'op bind --ro-bind-try /usr /usr /usr /usr 1 0 1 1',
  tmpfs: 'op tmpfs --tmpfs /tmp /tmp 1048576 1023',
  proc: 'op proc --proc /proc /proc',
  dev: 'op dev --dev /dev /dev',
  mqueue: 'op mqueue --mqueue /dev/mqueue /dev/mqueue',
  dir: 'op dir --dir /run/x /run/x 448',
  symlink: 'op symlink --symlink usr/bin /bin usr/bin /bin',
  data: 'op data --ro-bind-data 5 /etc/x 5 /etc/x 420 1 1 0',
  overlay: 'op overlay --tmp-overlay /usr /usr [/a:b /usr] - - 0',
  chmod: 'op chmod --chmod 0755 /run/x 493 /run/x',
  'remount-ro': 'op remount-ro --remount-ro /run /run',
};

t.test('every MountOp kind reaches the stage, in order, with its values', { skip: checkWhy }, async (t) => {
  t.same(Object.keys(mountSamples).sort(), [...MOUNT_OP_KINDS].sort(), 'a sample for every kind of lib/plan/types.ts');
  const plan = { ...basePlan(), mounts: MOUNT_OP_KINDS.map((k) => mountSamples[k]) };
  const r = cRead(serializePlan(plan));
  t.equal(r.status, 0, r.stderr);
  t.same(r.lines.filter((l) => l.startsWith('op ')), MOUNT_OP_KINDS.map((k) => mountLines[k]));
});

t.test('a MountOp kind the writer does not know fails to compile, and so does a record field the kind lacks', { skip: have('npx') ? false : 'npx is missing' }, async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mount-kind-'));
  fs.cpSync(path.join(ROOT, 'lib'), path.join(work, 'lib'), { recursive: true });
  const types = path.join(work, 'lib', 'plan', 'types.ts');
  fs.writeFileSync(types, fs.readFileSync(types, 'utf8').replace("| { op: 'remount-ro'; dst: string; origin: Origin }\n",
    "| { op: 'remount-ro'; dst: string; origin: Origin }\n  | { op: 'devpts'; dst: string; origin: Origin }\n"));
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'));
  config.compilerOptions.noEmit = true;
  config.include = ['lib/native/serialize.ts', 'lib/plan/types.ts']; // and what they import: the writer's part alone
  config.compilerOptions.typeRoots = [path.join(ROOT, 'node_modules', '@types')];
  fs.writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify(config));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'));
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', work], { encoding: 'utf8', cwd: work });
  t.not(r.status, 0, 'tsc refuses it');
  t.match(r.stdout, /lib\/native\/serialize\.ts\(\d+,\d+\): error TS2322: Type 'true' is not assignable to type '"devpts"'/, 'at the writer: no record for it');
  t.match(r.stdout, /lib\/plan\/types\.ts\(\d+,\d+\): error/, 'and at MOUNT_OP_KINDS');
  // a record whose field the kind lacks
  fs.writeFileSync(types, fs.readFileSync(path.join(ROOT, 'lib', 'plan', 'types.ts'), 'utf8'));
  const records = path.join(work, 'lib', 'native', 'records.ts');
  fs.writeFileSync(records, fs.readFileSync(records, 'utf8').replace("mqueue: { group: 'mount', repeat: true, fields: [origin, { name: 'dst', type: path }]",
    "mqueue: { group: 'mount', repeat: true, fields: [origin, { name: 'dst', type: path }, { name: 'size', type: u63 }]"));
  const r2 = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', work], { encoding: 'utf8', cwd: work });
  t.match(r2.stdout, /lib\/native\/serialize\.ts\(\d+,\d+\): error TS2322: Type 'true' is not assignable to type '"mqueue"'/, 'a field the kind has no value for');
  fs.rmSync(work, { recursive: true, force: true });
});

t.test('Landlock rights: numbers from TypeScript, read as they are', { skip: checkWhy }, async (t) => {
  t.same(landlockHandledRights(), [{ abi: 1, rights: 0x1fff }, { abi: 2, rights: 0x3fff }, { abi: 3, rights: 0x7fff }, { abi: 5, rights: 0xffff }]);
  t.same(landlockPathRights(false), { dir: 1 | 4 | 8, file: 1 | 4 }, 'read-only: execute, read files, read directories');
  t.same(landlockPathRights(true), { dir: 0xffff, file: 1 | 2 | 4 | (1 << 14) | (1 << 15) }, 'read-write: everything; a file only what files take');
  const plan = { ...basePlan(), landlockScopes: 3, landlockPaths: [{ path: '/usr', write: false, origin: 'p:1:1' }, { path: '/tmp', write: true, origin: 'p:2:1' }] };
  const r = cRead(serializePlan(plan));
  t.equal(r.status, 0, r.stderr);
  t.same(r.lines.filter((l) => l.startsWith('landlock')), [
    'landlock-fs 1 8191', 'landlock-fs 2 16383', 'landlock-fs 3 32767', 'landlock-fs 5 65535',
    'landlock-path /usr 13 5', `landlock-path /tmp 65535 ${1 | 2 | 4 | (1 << 14) | (1 << 15)}`,
  ]);
  t.notOk(serializePlan(basePlan()).includes('landlock-fs'), 'no rules: no rights');
});

t.test('compiled inputs: each kind its own record and fields', { skip: checkWhy }, async (t) => {
  const x = { envClear: false, envKeep: [], envUnset: [], bootId: 'b00t',
    files: [{ path: '/p/a.json5', sec: 1700000000n, nsec: 123n, size: 42n }],
    paths: [{ path: '/data', dir: true, optional: false, dev: 2049n, ino: 77n }, { path: '/opt/x', dir: false, optional: true }] };
  const r = cRead(serializePlan(basePlan(), compiledRecords(x)));
  t.equal(r.status, 0, r.stderr);
  t.same(r.lines.filter((l) => l.startsWith('input-')), [
    'input-file /p/a.json5 1700000000 123 42', 'input-path /data 1 0', 'input-path /opt/x 0 1', 'input-node /data 2049 77',
  ]);
});

t.test('environment patterns: TypeScript and the C stage agree on *, ? and [...]', { skip: checkWhy }, async (t) => {
  const host = {
    PATH: '/bin', HOME: '/h', 'A[B]': '1', AB: '2', 'A[': '3', SLURM_JOB: '4', SLURM_: '5', SLURMX: '6', XYZ: '7', XZ: '8', XYYZ: '9',
    'LC_ALL': 'C', LC_X: 'x', 'Q*': 'star', QQ: 'q', 'a.b': 'dot', axb: 'nodot', 'x\\y': 'bs', SANDBOX_PARENT_PID: '1', 'Ué': 'utf8', 'U€x': 'utf8-3',
  };
  const specs = [
    { clear: true, keep: ['SLURM_*', 'A[B]', 'LC_??', 'X?Z', 'Q*', 'a.b', 'x\\y', 'PATH'], unset: [] },
    { clear: false, keep: [], unset: ['A[B]', 'SLURM_?*', '*Z', 'LC_?', 'HOME', 'PATH'] },
    { clear: true, keep: ['*'], unset: ['[AQ]*', '?'] },
    { clear: true, keep: ['A[', 'X*Y*Z'], unset: [] },
    { clear: true, keep: ['U?', 'U?x', 'Ué'], unset: [] },
  ];
  for (const spec of specs) {
    const want = buildEnv({ ...spec, set: {} }, { ...host, SANDBOX_PARENT_PID: undefined }).sort();
    const x = { envClear: spec.clear, envKeep: spec.keep, envUnset: spec.unset, files: [], paths: [], bootId: null };
    const r = cRead(serializePlan({ ...basePlan(), argv: [] }, compiledRecords(x)), host);
    t.equal(r.status, 0, r.stderr);
    t.same(r.env.sort(), want, `keep ${JSON.stringify(spec.keep)}, unset ${JSON.stringify(spec.unset)}`);
  }
  // the plan's own values win over the launch's, and PATH is the default only where nothing gave one
  const x = { envClear: false, envKeep: [], envUnset: ['PATH'], files: [], paths: [], bootId: null };
  const r = cRead(serializePlan({ ...basePlan(), env: ['HOME=/plan'] }, compiledRecords(x)), { HOME: '/launch', PATH: '/x' });
  t.same(r.env.sort(), ['HOME=/plan', 'PATH=/usr/local/bin:/usr/bin:/bin']);
});

t.test('sandbox-exec refuses a plan of another version in one line', async (t) => {
  const exec = path.join(ROOT, 'native', 'build', 'sandbox-exec');
  if (!fs.existsSync(exec)) return t.skip('the C stage is not built');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-version-'));
  const file = path.join(dir, 'old.plan');
  const tok = (s) => `${Buffer.byteLength(s)}:${s},`;
  fs.writeFileSync(file, ['sandbox-plan', '1', 'argv', 'true', 'end'].map(tok).join(''), { mode: 0o600 });
  const r = spawnSync(exec, [file, '--', 'true'], { encoding: 'utf8' });
  t.equal(r.status, 125);
  t.equal(r.stderr, `sandbox: ${file}: plan: byte 20: plan version 1, this stage reads version ${PLAN_VERSION} (written by another version of sandbox: compile or run it again with this one)\n`);
  t.equal(r.stdout, '');
  fs.rmSync(dir, { recursive: true, force: true });
});
