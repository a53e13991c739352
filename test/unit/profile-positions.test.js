'use strict';
// The JSON5 position scanner: every value and key is found at its line:col, through comments,
// quoted and unquoted keys, escapes, multi-line strings and nested lists.
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const dist = fs.existsSync(path.join(__dirname, '../../dist/lib')) ? '../../dist/lib' : '../../dist';
const { scanPositions, locatorFor } = require(`${dist}/json5-text`);

t.test('values and keys of a tricky document', async (t) => {
  const text = [
    '// leading comment',                      // 1
    '{',                                       // 2
    "  a: 1, /* x: 2 */ 'b-c': \"str\\\"}\",",  // 3
    '  "d\\u0065": [ true, { e: null },',      // 4
    '    -0x1F, ],',                           // 5
    '  $f_: \'line\\',                         // 6
    'two\',',                                  // 7
    '  g: [[1,2],[3]],',                       // 8
    '}',                                       // 9
  ].join('\n');
  const p = scanPositions(text);
  t.same(p.value([]), { line: 2, col: 1 });
  t.same(p.key(['a']), { line: 3, col: 3 });
  t.same(p.value(['a']), { line: 3, col: 6 });
  t.same(p.key(['b-c']), { line: 3, col: 20 });
  t.same(p.value(['b-c']), { line: 3, col: 27 });
  t.equal(p.value(['x']), undefined, 'commented-out keys are not keys');
  t.same(p.key(['de']), { line: 4, col: 3 }, 'escaped key decoded');
  t.same(p.value(['de', 0]), { line: 4, col: 16 });
  t.same(p.value(['de', 1]), { line: 4, col: 22 });
  t.same(p.value(['de', 1, 'e']), { line: 4, col: 27 });
  t.same(p.value(['de', 2]), { line: 5, col: 5 });
  t.same(p.value(['$f_']), { line: 6, col: 8 });
  t.same(p.key(['g']), { line: 8, col: 3 }, 'positions continue after a string with a line continuation');
  t.same(p.value(['g', 1, 0]), { line: 8, col: 14 });
});

t.test('one scanner for profiles and --seccomp files: the locator names a member by its key', async (t) => {
  const text = '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  syscalls: [ { names: ["read"] },\n    { names: ["bad"] } ] }';
  const at = locatorFor(text, 'f.json');
  const p = scanPositions(text);
  t.equal(at(['defaultAction']), 'f.json:2:3', 'the key');
  t.same(p.key(['defaultAction']), { line: 2, col: 3 });
  t.equal(at(['syscalls', 1]), 'f.json:4:5', 'an array element: its value');
  t.equal(at(['syscalls', 1, 'names', 0]), 'f.json:4:15');
  t.equal(at(['syscalls', 1, 'nope', 3]), 'f.json:4:5', 'a path not in the text: its nearest parent');
  t.equal(at([]), 'f.json:1:1');
});
