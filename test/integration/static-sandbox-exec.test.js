// The static sandbox-exec of the x86_64 prebuilt package (scripts/prebuilt.js, musl): one file with no program
// interpreter and no libraries, which, copied anywhere, runs a plan that `sandbox compile` wrote, seccomp and all.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, sandboxCli, userTmpdir, cannotLaunch, asUser, have } = require('../lib/harness');

const why = cannotLaunch() || (!have('musl-gcc') ? 'musl-gcc is missing (Debian: musl-tools)' : null) || (!have('make') ? 'make is missing' : null);
if (why) {
  t.skip(`static sandbox-exec: ${why}`);
  process.exit(0);
}
const { buildArch } = require(path.join(ROOT, 'scripts', 'prebuilt.js'));

/** True when the ELF file has a PT_INTERP program header (a dynamic loader). */
function hasInterpreter(file) {
  const b = fs.readFileSync(file);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const size = b.readUInt16LE(0x36);
  const count = b.readUInt16LE(0x38);
  for (let i = 0; i < count; i++) if (b.readUInt32LE(phoff + i * size) === 3) return true;
  return false;
}

t.test('static/sandbox-exec runs a compiled plan from wherever it is copied', async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-static-build-'));
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }));
  const files = buildArch(process.arch, out, { withKoffi: false });
  t.ok(files.includes('static/sandbox-exec'), 'built');
  const built = path.join(out, 'static', 'sandbox-exec');
  t.notOk(hasInterpreter(built), 'no program interpreter: statically linked');
  t.ok(hasInterpreter(path.join(out, 'sandbox-exec')), '(the ordinary build has one)');

  const dir = userTmpdir();
  const copy = path.join(dir, 'sandbox-exec');
  fs.copyFileSync(built, copy);
  fs.chmodSync(copy, 0o755);
  const plan = path.join(dir, 'job.plan');
  const c = sandboxCli(['compile', '--profile', 'minimal', '-o', plan, '--', '/bin/sh', '-c', 'echo ran; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'], { cwd: dir });
  t.equal(c.status, 0, `sandbox compile: ${c.stderr}`);
  const r = spawnSync(...asUser(copy, [plan]), { cwd: dir, env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'ran\nNoNewPrivs:\t1\nSeccomp:\t2\n', 'the plan\'s command, under its seccomp filter');
});
