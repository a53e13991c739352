// The aarch64 build of the C programs, as scripts/prebuilt.js cross-compiles them for sandbox-linux-arm64:
// every program is an aarch64 executable; the stage, run under qemu-user, refuses malformed plans with the
// same one-line errors as the host's; and the stage's own plan parser, cross-built into native/test/plan-dump.c,
// reads a plan and the seccomp program in it exactly as the host's build does, instruction for instruction.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, have } = require('../lib/harness');

const CC = 'aarch64-linux-gnu-gcc';
const SYSROOT = '/usr/aarch64-linux-gnu';
const why = !have(CC) ? `${CC} is missing (Debian: gcc-aarch64-linux-gnu libc6-dev-arm64-cross)`
  : !have('qemu-aarch64') ? 'qemu-aarch64 is missing (Debian: qemu-user)'
    : !have('cc') ? 'no host C compiler (cc)'
      : !fs.existsSync(path.join(ROOT, 'dist', 'base-filter.json')) ? 'dist/ is not built (npm run build)' : null;
if (why) {
  t.skip(why);
  process.exit(0);
}

const { buildArch } = require(path.join(ROOT, 'scripts', 'prebuilt.js'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-aarch64-'));
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

const EM_AARCH64 = 183;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const tok = (s) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(String(s));
  return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(',')]);
};
const plan = (...records) => Buffer.concat(records.flat().map(tok));
const filters = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'base-filter.json'), 'utf8'));
const bpfOf = (arch) => Buffer.from(filters[arch].bpf, 'base64');

let stage;
t.test('scripts/prebuilt.js cross-builds every program for aarch64', async (t) => {
  const out = path.join(work, 'arm64');
  const files = buildArch('arm64', out, { withKoffi: false });
  t.same(files.sort(), ['sandbox', 'sandbox-exec', 'sandbox-probe', 'sandbox-pulse-proxy', 'sandbox-stage'], 'the programs of the package');
  for (const f of files) {
    const head = fs.readFileSync(path.join(out, f)).subarray(0, 20);
    t.equal(head.toString('latin1', 1, 4), 'ELF', `${f} is an ELF file`);
    t.equal(head.readUInt16LE(18), EM_AARCH64, `${f} is for aarch64`);
  }
  stage = path.join(out, 'sandbox-stage');
});

const qemu = (file, args, input) => spawnSync('qemu-aarch64', ['-L', SYSROOT, file, ...args], { input, encoding: 'utf8', timeout: 60000 });

t.test('the aarch64 stage under qemu refuses malformed plans in one line', async (t) => {
  const ok = [['sandbox-plan', '2'], ['argv', '/bin/true']];
  const cases = [
    ['empty', Buffer.alloc(0), /expected a token length/],
    ['wrong magic', plan(['not-a-plan', '1']), /not a sandbox plan/],
    ['unknown record', plan(...ok, ['format-disk', '1'], ['end']), /unknown record 'format-disk'/],
    ['relative path', plan(...ok, ['tmpfs', 'o', 'tmp', '0', '493'], ['end']), /not a normalised absolute path/],
    ['huge number', plan(...ok, ['uid', '99999999999999999999999'], ['end']), /too large/],
    ['seccomp not instructions', plan(...ok, ['seccomp', 'o', 'abc'], ['end']), /seccomp program of 3 bytes/],
  ];
  for (const [name, bytes, msg] of cases) {
    const f = path.join(work, 'plan');
    fs.writeFileSync(f, bytes);
    // sandbox-exec reads the plan from a file: the stage under that name, as the package installs it
    const r = qemu(path.join(path.dirname(stage), 'sandbox-exec'), [f]);
    t.equal(r.status, 125, `${name}: exit 125`);
    t.match(r.stderr, msg, name);
    t.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
  }
  const help = qemu(path.join(path.dirname(stage), 'sandbox-exec'), ['--help']);
  t.equal(help.status, 0, 'sandbox-exec --help');
  t.match(help.stdout, /^usage: sandbox-exec PLAN/, 'usage on stdout');
});

t.test('the aarch64 plan parser reads plans and their seccomp program as the host build does', async (t) => {
  const src = [path.join(ROOT, 'native', 'test', 'plan-dump.c'), path.join(ROOT, 'native', 'plan.c')];
  const arm = path.join(work, 'plan-dump-arm64');
  const host = path.join(work, 'plan-dump-host');
  for (const [cc, out, extra] of [[CC, arm, ['-static']], ['cc', host, []]]) {
    const r = spawnSync(cc, ['-O2', '-D_GNU_SOURCE', ...extra, '-o', out, ...src], { encoding: 'utf8' });
    t.equal(r.status, 0, `${cc} plan-dump: ${r.stderr}`);
  }
  for (const arch of ['aarch64', 'x86_64']) {
    const bpf = bpfOf(arch);
    const bytes = plan(['sandbox-plan', '2'], ['uid', '1000'], ['gid', '1000'], ['hostname', 'node1'], ['argv', '/bin/echo'], ['argv', 'hi'],
      ['tmpfs', '--tmpfs /tmp', '/tmp', '0', '493'], ['seccomp', `base filter (${arch})`, bpf], ['end']);
    const a = spawnSync('qemu-aarch64', [arm], { input: bytes, encoding: 'utf8' });
    const h = spawnSync(host, [], { input: bytes, encoding: 'utf8' });
    t.equal(a.status, 0, `${arch} filter: the aarch64 parser accepts the plan${a.status === 0 ? "" : ": " + a.stdout}`);
    t.equal(a.stdout, h.stdout, `${arch} filter: the aarch64 and host parsers read the same plan`);
    const lines = a.stdout.split('\n');
    t.ok(lines.includes('argv /bin/echo') && lines.includes('argv hi') && lines.includes('hostname node1') && lines.includes('ops 1'), 'argv, hostname and the mount op');
    const prog = lines.filter((l) => /^[0-9a-f]{4} \d+ \d+ [0-9a-f]{8}$/.test(l)).map((l) => l.split(' '));
    t.equal(prog.length, bpf.length / 8, `${arch} filter: every instruction arrived`);
    const expected = [];
    for (let i = 0; i < bpf.length; i += 8) expected.push([bpf.readUInt16LE(i), bpf[i + 2], bpf[i + 3], bpf.readUInt32LE(i + 4)]);
    t.same(prog.map(([c, jt, jf, k]) => [parseInt(c, 16), Number(jt), Number(jf), parseInt(k, 16)]), expected, `${arch} filter: decoded as the compiler wrote it`);
    if (arch === 'aarch64') {
      // the program starts by checking the architecture: load seccomp_data.arch (offset 4), compare with AARCH64
      t.same(expected[0], [0x20, 0, 0, 4], 'first: load the architecture');
      t.equal(expected[1][0], 0x15, 'then: jump if equal');
      t.equal(expected[1][3], AUDIT_ARCH_AARCH64, '... to AUDIT_ARCH_AARCH64');
    }
  }
});
