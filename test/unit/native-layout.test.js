// The C stage's layout: one file per concept, no cycle between them (a file depends on another when it includes
// that one's header), the error path defined once (util.c), and every stage file built.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { ROOT } = require('../lib/harness');

const NATIVE = path.join(ROOT, 'native');
const TOOLS = new Set(['launch', 'plan-cache', 'launch-registry', 'pulse-proxy', 'plan-check']); // programs of their own (plan-cache, launch-registry: the launcher's), not parts of the stage
const files = fs.readdirSync(NATIVE).filter((f) => /\.[ch]$/.test(f));
const text = Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(NATIVE, f), 'utf8')]));
const mod = (f) => f.replace(/\.[ch]$/, '');

/** module → the modules it includes a header of */
function graph() {
  const g = new Map();
  for (const f of files) {
    const m = mod(f);
    if (!g.has(m)) g.set(m, new Set());
    for (const [, inc] of text[f].matchAll(/^#include "([^"]+)\.h"/gm)) {
      const dep = inc === 'plan-records' ? 'plan' : inc; // the generated table belongs to the plan reader
      if (dep !== m) g.get(m).add(dep);
    }
  }
  return g;
}

function findCycle(g) {
  const state = new Map();
  const stack = [];
  const visit = (m) => {
    state.set(m, 1);
    stack.push(m);
    for (const d of g.get(m) ?? []) {
      if (state.get(d) === 1) return [...stack.slice(stack.indexOf(d)), d];
      if (!state.has(d)) { const c = visit(d); if (c) return c; }
    }
    stack.pop();
    state.set(m, 2);
    return null;
  };
  for (const m of g.keys()) if (!state.has(m)) { const c = visit(m); if (c) return c; }
  return null;
}

t.test('no cycle between the C files', async (t) => {
  const g = graph();
  t.equal(findCycle(g), null, 'includes form no cycle');
  t.same(findCycle(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]])), ['a', 'b', 'c', 'a'], 'the check finds one');
  for (const [m, deps] of g) for (const d of deps) t.ok(files.includes(`${d}.h`), `${m} includes ${d}.h, which exists`);
  t.notOk(g.get('util').size, 'util.c and util.h depend on no other part');
  t.same([...g.get('plan')], [], 'the plan reader depends on nothing but its generated table');
});

t.test('die and die_errno are defined once, in util.c', async (t) => {
  for (const fn of ['die', 'die_errno', 'debug', 'errno_hint']) {
    const where = files.filter((f) => f.endsWith('.c') && new RegExp(`^[a-z_][^;\\n]*\\b${fn}\\([^;]*\\)\\s*\\{`, 'm').test(text[f]));
    t.same(where, ['util.c'], `${fn}: defined in util.c only`);
  }
});

t.test('the Makefile builds every part of the stage and nothing twice', async (t) => {
  const mk = fs.readFileSync(path.join(NATIVE, 'Makefile'), 'utf8');
  const srcs = /^SRCS := (.*)$/m.exec(mk)[1].split(/\s+/);
  const parts = files.filter((f) => f.endsWith('.c') && !TOOLS.has(mod(f))).sort();
  t.same([...srcs].sort(), parts);
  const hdrs = /^HDRS := (.*)$/m.exec(mk)[1].split(/\s+/);
  t.same([...hdrs].sort(), files.filter((f) => f.endsWith('.h') && !TOOLS.has(mod(f))).sort());
});

t.test('each part is one concept of a readable size', async (t) => {
  for (const f of files.filter((x) => x.endsWith('.c') && !TOOLS.has(mod(x)))) {
    const lines = text[f].split('\n').length;
    t.ok(lines <= 560, `${f}: ${lines} lines`);
    t.match(text[f], /^\/\* /, `${f} starts by saying what it holds`);
  }
});
