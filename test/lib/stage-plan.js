// Hand-made plans in the wire form (native/PLAN.md) and a run of the built C stage on one, for the tests of the
// stage's plan reader. The temporary directory of each run is removed when it is done.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT } = require('./harness');

const STAGE = path.join(ROOT, 'native', 'build', 'sandbox-stage');
const tok = (s) => `${Buffer.byteLength(s)}:${s},`;
/** Records (arrays of strings) as one plan text. */
const plan = (...records) => records.flat().map(tok).join('');
/** The two records every plan starts with: the magic and version, and a program. */
const ok = [['sandbox-plan', '2'], ['argv', '/bin/true']];

function runStage(bytes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
  const f = path.join(dir, 'plan');
  fs.writeFileSync(f, bytes);
  const fd = fs.openSync(f, 'r');
  try {
    return spawnSync(STAGE, ['--plan-fd', '3'], { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' });
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { STAGE, tok, plan, ok, runStage };
