// lib/plan decides and reads nothing (DESIGN.md: profile -> plan is a function testable with no machine): its
// sources import no values from lib/host, lib/native or lib/profile (types are fine), no Node module that reaches
// the host (fs, os, child_process, ...), and call no require() of their own; they don't touch `process` either.
// Checked on the TypeScript sources with the compiler's own parser, so a type-only import is told from a value one.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const LIB = path.resolve(__dirname, '..', '..', 'lib');
const PLAN = path.join(LIB, 'plan');
const FORBIDDEN_DIRS = ['host', 'native', 'profile'].map((d) => path.join(LIB, d));
const HOST_MODULES = new Set(['fs', 'os', 'child_process', 'net', 'dgram', 'dns', 'http', 'https', 'worker_threads', 'cluster', 'koffi', 'fs/promises', 'v8', 'vm', 'readline', 'tty']);

/** What a source file imports as values, requires, or reaches through `process`: one line per offence. */
function offences(file, text) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out = [];
  const where = (node) => `${path.relative(LIB, file)}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const judge = (spec, node, what) => {
    const bare = spec.replace(/^node:/, '');
    if (HOST_MODULES.has(bare)) out.push(`${where(node)}: ${what} '${spec}' (reaches the host)`);
    if (!spec.startsWith('.')) return;
    const target = path.resolve(path.dirname(file), spec);
    const dir = FORBIDDEN_DIRS.find((d) => target === d || target.startsWith(d + path.sep));
    if (dir) out.push(`${where(node)}: ${what} '${spec}' (values of lib/${path.basename(dir)})`);
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const typeOnly = c && (c.isTypeOnly || (!c.name && c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      // `import 'x'` runs x; `import { type A }` with nothing else is erased
      if (!typeOnly) judge(node.moduleSpecifier.text, node, 'imports');
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly) {
      const allTypes = node.exportClause && ts.isNamedExports(node.exportClause) && node.exportClause.elements.every((e) => e.isTypeOnly);
      if (!allTypes) judge(node.moduleSpecifier.text, node, 're-exports');
    } else if (ts.isImportEqualsDeclaration(node) && !node.isTypeOnly) {
      out.push(`${where(node)}: import = require (a value import)`);
    } else if (ts.isCallExpression(node)) {
      if (ts.isIdentifier(node.expression) && node.expression.text === 'require') out.push(`${where(node)}: require() (a value import)`);
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) out.push(`${where(node)}: import() (a value import)`);
    } else if (ts.isIdentifier(node) && node.text === 'process' && ts.isPropertyAccessExpression(node.parent) && node.parent.expression === node) {
      out.push(`${where(node)}: process.${node.parent.name.text} (reads this process)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

t.test('lib/plan imports nothing that reads the host, nor values of lib/host, lib/native, lib/profile', async (t) => {
  const files = fs.readdirSync(PLAN).filter((n) => n.endsWith('.ts')).map((n) => path.join(PLAN, n));
  t.ok(files.length >= 8, `${files.length} sources`);
  const found = files.flatMap((f) => offences(f, fs.readFileSync(f, 'utf8')));
  t.same(found, [], found.join('\n'));
});

t.test('the check sees each kind of offence, and lets types through', async (t) => {
  const f = path.join(PLAN, 'example.ts');
  const bad = [
    "import * as fs from 'fs';",
    "import { readFileSync } from 'node:fs';",
    "import { discoverNvidia } from '../host/gpu';",
    "import { memfdWith, type DataFd } from '../native/memfd';",
    "import { DEVICE_SETS } from '../profile/tables';",
    "export { libc } from '../native/libc';",
    "const x = require('../host/gpu');",
    "const y = import('../native/libc');",
    "import k = require('koffi');",
    'const e = process.env.HOME;',
  ];
  for (const line of bad) t.equal(offences(f, line).length, 1, line);
  const fine = [
    "import type { NvidiaFound } from '../host/gpu';",
    "import { type DataFd } from '../native/memfd';",
    "import type { ProfileContext } from '../profile/context';",
    "export type { DataFd } from '../native/memfd';",
    "import * as path from 'path';",
    "import { createHash } from 'crypto';",
    "import { SandboxError } from '../errors';",
    "import { nvidiaMounts } from './nvidia';",
    "type L = typeof import('../native/libc');",
    'const o = { process: 1 }; const p = o.process;',
  ];
  for (const line of fine) t.same(offences(f, line), [], line);
});
