// The C stage's parser for the records bwrap mode and overlays add (native/PLAN.md): it fails closed on each.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT } = require('../lib/harness');

const STAGE = path.join(ROOT, 'native', 'build', 'sandbox-stage');
if (!fs.existsSync(STAGE)) {
  t.skip('the C stage is not built');
  process.exit(0);
}
const tok = (s) => `${Buffer.byteLength(s)}:${s},`;
const plan = (...records) => records.flat().map(tok).join('');
const ok = [['sandbox-plan', '1'], ['argv', '/bin/true']];

function runStage(bytes) {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'plan-')), 'plan');
  fs.writeFileSync(f, bytes);
  const fd = fs.openSync(f, 'r');
  const r = spawnSync(STAGE, ['--plan-fd', '3'], { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' });
  fs.closeSync(fd);
  return r;
}

t.test('malformed bwrap-mode and overlay records', async (t) => {
  const cases = [
    ['overlay of no layer', plan(...ok, ['overlay', 'o', '/mnt', '1', '0'], ['end']), /overlay with 0 lower layers/],
    ['read-only overlay of one layer', plan(...ok, ['overlay', 'o', '/mnt', '2', '1', '/usr'], ['end']), /overlay with 1 lower layers/],
    ['overlay kind out of range', plan(...ok, ['overlay', 'o', '/mnt', '3', '1', '/usr'], ['end']), /out of range/],
    ['overlay relative layer', plan(...ok, ['overlay', 'o', '/mnt', '1', '1', 'usr'], ['end']), /overlay layer is not a normalised absolute path/],
    ['overlay without upper', plan(...ok, ['overlay', 'o', '/mnt', '0', '1', '/usr'], ['end']), /overlay upper is not a normalised absolute path/],
    ['too many layers', plan(...ok, ['overlay', 'o', '/mnt', '1', '501'], ['end']), /out of range/],
    ['seccomp-extra of 7 bytes', plan(...ok, ['seccomp-extra', 'o', 'x'.repeat(7)], ['end']), /not 1 to 4096 instructions/],
    ['lock-file relative', plan(...ok, ['lock-file', 'lock'], ['end']), /lock-file is not a normalised absolute path/],
    ['info-fd not a number', plan(...ok, ['info-fd', 'x'], ['end']), /not a decimal number/],
    ['diagnostic-prefix with %', plan(...ok, ['diagnostic-prefix', 'b%s'], ['end']), /diagnostic-prefix/],
    ['data flags out of range', plan(...ok, ['data', 'o', '0', '/f', '420', '8'], ['end']), /out of range/],
  ];
  for (const [name, bytes, msg] of cases) {
    const r = runStage(bytes);
    t.equal(r.status, 125, name);
    t.match(r.stderr, msg, name);
    t.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
  }
});
