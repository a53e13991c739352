// The C stage's parser for the records bwrap mode and overlays add (native/PLAN.md): it fails closed on each.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { ROOT } = require('../lib/harness');
const { STAGE, plan, ok, runStage } = require('../lib/stage-plan');

if (!fs.existsSync(STAGE)) {
  t.skip('the C stage is not built');
  process.exit(0);
}

t.test('malformed bwrap-mode and overlay records', async (t) => {
  const cases = [
    ['overlay of no layer', plan(...ok, ['overlay', 'o', '/mnt', '', '', '', '0'], ['end']), /overlay lower: '' is not a normalised absolute path/],
    ['read-only overlay of one layer', plan(...ok, ['overlay', 'o', '/mnt', '/usr', '', '', '1'], ['end']), /read-only with 1 lower layer/],
    ['read-only overlay with an upper', plan(...ok, ['overlay', 'o', '/mnt', '/usr:/opt', '/u', '/w', '1'], ['end']), /read-only with an upper/],
    ['overlay relative layer', plan(...ok, ['overlay', 'o', '/mnt', '/opt:usr', '', '', '0'], ['end']), /overlay lower: 'usr' is not a normalised absolute path/],
    ['overlay upper without work', plan(...ok, ['overlay', 'o', '/mnt', '/usr', '/u', '', '0'], ['end']), /upper and work go together/],
    ['overlay relative upper', plan(...ok, ['overlay', 'o', '/mnt', '/usr', 'u', '/w', '0'], ['end']), /overlay upper is not a normalised absolute path/],
    ['too many layers', plan(...ok, ['overlay', 'o', '/mnt', Array(501).fill('/usr').join(':'), '', '', '0'], ['end']), /501 paths, not 1 to 500/],
    ['seccomp-extra of 7 bytes', plan(...ok, ['seccomp-extra', 'o', 'x'.repeat(7)], ['end']), /not 1 to 4096 units of 8 bytes/],
    ['lock-file relative', plan(...ok, ['lock-file', 'lock'], ['end']), /lock-file path is not a normalised absolute path/],
    ['info-fd not a number', plan(...ok, ['info-fd', 'x'], ['end']), /not a decimal number/],
    ['diagnostic-prefix with %', plan(...ok, ['diagnostic-prefix', 'b%s'], ['end']), /diagnostic-prefix/],
    ['data flag out of range', plan(...ok, ['data', 'o', '0', '/f', '420', '0', '0', '2'], ['end']), /out of range/],
    ['diagnostic-prefix too long', plan(...ok, ['diagnostic-prefix', 'b'.repeat(33)], ['end']), /longer than 32 bytes/],
  ];
  for (const [name, bytes, msg] of cases) {
    const r = runStage(bytes);
    t.equal(r.status, 125, name);
    t.match(r.stderr, msg, name);
    t.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
  }
});

t.test('an overlay layer with : or \\ in its name travels escaped', async (t) => {
  // the writer escapes (lib/native/serialize.ts), the stage unescapes: a bad path after unescaping is named as such
  const r = runStage(plan(...ok, ['overlay', 'o', '/mnt', '/a\\:b:/c\\\\d:x\\:y', '', '', '0'], ['end']));
  t.equal(r.status, 125);
  t.match(r.stderr, /overlay lower: 'x:y' is not a normalised absolute path/, 'the third layer, unescaped');
  const { PlanWriter } = require(path.join(ROOT, 'dist', 'lib', 'native', 'serialize.js'));
  const w = new PlanWriter();
  w.record('overlay', 'o', '/mnt', ['/a:b', '/c\\d'], null, null, false);
  t.match(w.done().toString('latin1'), /7:overlay,1:o,4:\/mnt,11:\/a\\:b:\/c\\\\d,0:,0:,1:0,/);
});
