#!/usr/bin/env node
// The tests run the build (dist/, native/build/), not the sources: a build older than lib/ or native/ would be
// tested in their place. `npm run build` ends with `node scripts/build-stamp.js --write`, which records a digest
// of everything the build is made from in dist/build-stamp; `npm test` runs this script first (package.json
// "pretest"), and it stops the run with one line when the sources no longer match the build.
// Usage: node scripts/build-stamp.js [--write]
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const STAMP = path.join(root, 'dist', 'build-stamp');
/** What the build reads: TypeScript, the bundler and its code-cache warm-up, the shipped profiles (their parse is
 * cached in dist), the C sources and their makefiles. */
const INPUTS = [
  { dir: 'lib', match: /\.ts$/ },
  { dir: 'native', match: /(\.[ch]|Makefile)$/, skip: /^native\/(build|fuzz)(\/|$)/ },
  { dir: 'profiles', match: /\.json5$/ },
  { file: 'scripts/bundle.js' },
  { file: 'bin/loader.js' },
  { file: 'tsconfig.json' },
];
/** What the build makes and the tests load; a missing one is a build that did not finish. */
const OUTPUTS = ['dist/sandbox.js', 'dist/lib/cli/main.js', 'native/build/sandbox-stage', 'native/build/sandbox'];

function walk(rel, match, skip) {
  const out = [];
  for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const p = `${rel}/${d.name}`;
    if (skip && skip.test(p)) continue;
    if (d.isDirectory()) out.push(...walk(p, match, skip));
    else if (d.isFile() && match.test(d.name)) out.push(p);
  }
  return out;
}

/** file -> sha256 of its bytes, for every input. */
function sourceDigests() {
  const files = INPUTS.flatMap((i) => (i.file ? [i.file] : walk(i.dir, i.match, i.skip))).sort();
  return Object.fromEntries(files.map((f) => [f, crypto.createHash('sha256').update(fs.readFileSync(path.join(root, f))).digest('hex')]));
}

function check() {
  const missing = OUTPUTS.find((f) => !fs.existsSync(path.join(root, f)));
  if (missing) return `${missing} is missing: run npm run build (or npm install) before the tests`;
  let recorded;
  try {
    recorded = JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    return 'dist/build-stamp is missing: the build was not made by npm run build; run npm run build before the tests';
  }
  const now = sourceDigests();
  const changed = [...new Set([...Object.keys(now), ...Object.keys(recorded)])].filter((f) => now[f] !== recorded[f]).sort();
  if (changed.length === 0) return null;
  const more = changed.length > 3 ? ` and ${changed.length - 3} more` : '';
  return `the build is older than its sources (${changed.slice(0, 3).join(', ')}${more} changed since): run npm run build before the tests`;
}

if (process.argv.includes('--write')) {
  fs.writeFileSync(STAMP, JSON.stringify(sourceDigests(), null, 1) + '\n');
} else {
  const why = check();
  if (why) {
    process.stderr.write(`sandbox tests: ${why}\n`);
    process.exit(1);
  }
}
