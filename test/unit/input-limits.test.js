// Limits on input, found by the fuzzers: deep nesting, long globs, json5's warnings, stray options.
'use strict';
const t = require('tap');
const { parseJson5Text, excessiveNesting, quoted, MAX_NESTING } = require('../../dist/lib/json5-text');
const { main } = require('../../dist/lib/cli/main');

t.test('nesting deeper than the limit is one error with file:line:col', async (t) => {
  t.equal(excessiveNesting('{ a: [1, 2, {b: "[[[[["}] }'), null, 'brackets in strings do not count');
  t.equal(excessiveNesting('// [[[[[\n{ /* [[[[ */ a: 1 }', 2), null, 'nor in comments');
  t.same(excessiveNesting('{\n  a: [[[', 3), { line: 2, col: 8 });
  t.equal(excessiveNesting('{ a: "\\"[[[[", b: \'it\\\'s [[[[\' }', 2), null, 'escaped quotes do not end a string early');
  t.same(excessiveNesting('x[[[', 2), { line: 1, col: 4 }, 'garbage before brackets is passed over, the brackets still count');
  const deep = '{ filesystem: ' + '['.repeat(8000) + ']'.repeat(8000) + ' }';
  t.throws(() => parseJson5Text('d.json5', deep), { message: `d.json5:1:${15 + MAX_NESTING - 1}: found nesting deeper than ${MAX_NESTING} levels, expected a flatter document` });
});

t.test('json5 warnings do not reach stderr', async (t) => {
  const warned = [];
  const saved = console.warn;
  console.warn = (...a) => warned.push(a.join(' '));
  try {
    t.same(parseJson5Text('x.json5', '{ a: "x\u2028y" }'), { a: 'x\u2028y' });
  } finally {
    console.warn = saved;
  }
  t.same(warned, []);
});

t.test('syntax errors name file:line:col', async (t) => {
  t.throws(() => parseJson5Text('s.json5', '{\n  a: 1,,\n}'), { message: "s.json5:2:8: JSON5 syntax error: invalid character ','" });
});

t.test('values in messages are cut short', async (t) => {
  t.equal(quoted('x'.repeat(100)).length, 61);
  t.equal(quoted({ a: 1 }), '{"a":1}');
});

t.test('the top-level command line: one line for every mistake', async (t) => {
  const io = { out() {}, err() {} };
  t.throws(() => main([], io), { message: 'no command given (see sandbox --help)', exitCode: 125 });
  t.throws(() => main(['--bogus'], io), { message: '--bogus: unknown option (see sandbox --help)' });
  t.throws(() => main(['-x', 'run'], io), { message: '-x: unknown option (see sandbox --help)' });
  t.throws(() => main(['--={A.g='], io), { message: '--: unknown option (see sandbox --help)' });
  t.throws(() => main(['frob'], io), { message: 'frob: unknown command (see sandbox --help)' });
  t.equal(main(['--version'], io), 0);
});
