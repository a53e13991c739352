#!/usr/bin/env node
// Build step: bundle lib/ into dist/sandbox.js (one file loads faster than forty), then warm a V8 code
// cache for it (dist/sandbox.js.cache) by compiling it and running its start-up paths once. The cache
// is tied to this Node and V8; bin/sandbox.js falls back to a plain compile when V8 rejects it.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'sandbox.js');
require('esbuild').buildSync({
  entryPoints: [path.join(root, 'lib', 'cli', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: out,
  logLevel: 'warning',
  legalComments: 'none',
});

// Shipped profiles, parsed once here; lib/profile uses an entry only when the file's text is unchanged.
// Keyed by the path in the package (profiles/NAME.json5): the installed package is elsewhere than this checkout.
const { prepareProfileText } = require(path.join(root, 'dist', 'lib', 'profile', 'document.js'));
const profilesDir = path.join(root, 'profiles');
const cache = {};
for (const name of fs.readdirSync(profilesDir).filter((n) => n.endsWith('.json5'))) {
  const file = path.join(profilesDir, name);
  cache[`profiles/${name}`] = prepareProfileText(file, fs.readFileSync(file, 'utf8'));
}
fs.writeFileSync(path.join(root, 'dist', 'profiles.cache.json'), JSON.stringify(cache));

// The base filter alone, for each architecture: what every sandbox without a seccomp policy gets (ARCH), and
// what one in the host's pid namespace gets (ARCH+shared-pid).
const { seccompForPlan, ARCHES } = require(path.join(root, 'dist', 'lib', 'seccomp', 'index.js'));
fs.writeFileSync(path.join(root, 'dist', 'base-filter.json'), JSON.stringify(Object.fromEntries(ARCHES.flatMap((a) => [
  [a, seccompForPlan(null, a)], [`${a}+shared-pid`, seccompForPlan(null, a, [], undefined, { sharedPid: true })]]))));

const { wrapper } = require(path.join(root, 'bin', 'loader.js'));
const source = fs.readFileSync(out, 'utf8');
const script = new vm.Script(wrapper(source), { filename: out });
// Run the module body and the common paths so their lazily compiled functions enter the cache.
const mod = { exports: {} };
script.runInThisContext()(mod.exports, require, mod, out, path.dirname(out));
const sink = { out() {}, err() {} };
// `compile` serializes a plan as the hand-over does (a miss keeps one the same way, and every launch serializes)
const warmPlan = path.join(fs.mkdtempSync(path.join(require('os').tmpdir(), 'sandbox-bundle-')), 'warm.plan');
for (const argv of [['--version'], ['run', '--print-plan', '--', 'true'], ['run', '--no-profile', '--ro-bind', '/', '/', '--print-plan', '--', 'true'],
  ['compile', '-o', warmPlan, '--', 'true']]) {
  try { mod.exports.main(argv, sink); } catch { /* a missing host feature only means less in the cache */ }
}
fs.rmSync(path.dirname(warmPlan), { recursive: true, force: true });
try { mod.exports.warmKeep(); } catch { /* only less in the cache */ }
fs.writeFileSync(out + '.cache', script.createCachedData());

