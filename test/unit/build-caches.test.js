// The build-time caches (dist/profiles.cache.json, dist/sandbox.js.cache) change speed, never results.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const JSON5 = require('json5');
const { ROOT } = require('../lib/harness');
const { readProfileText } = require('../../dist/lib/profile/document');
const { scanPositions } = require('../../dist/lib/json5-text');

const cacheFile = path.join(ROOT, 'dist', 'profiles.cache.json');

t.test('every shipped profile is in the cache, parsed exactly as json5 parses it', async (t) => {
  const cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
  const dir = path.join(ROOT, 'profiles');
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.json5'))) {
    const file = path.join(dir, name);
    const text = fs.readFileSync(file, 'utf8');
    const entry = cache[`profiles/${name}`];
    t.ok(entry, `${name} cached`);
    t.same(entry.raw, JSON5.parse(text), `${name}: same value`);
    const fresh = scanPositions(text);
    for (const [k, pos] of entry.positions.values) t.same(fresh.value(JSON.parse(k)), pos);
  }
  // the package is installed elsewhere than where it was built: no entry names the build's checkout
  t.notOk(Object.keys(cache).some((k) => path.isAbsolute(k)), 'keyed by the path inside the package');
});

t.test('a changed file is read afresh, not from the cache', async (t) => {
  const file = path.join(ROOT, 'profiles', 'minimal.json5');
  const text = fs.readFileSync(file, 'utf8').replace(/description: "[^"]*"/, 'description: "changed"');
  t.equal(readProfileText(file, text).description.value, 'changed');
});

t.test('the bundle runs with and without its code cache', async (t) => {
  const { spawnSync } = require('child_process');
  const withCache = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'sandbox.js'), '--version'], { encoding: 'utf8' });
  t.match(withCache.stdout, /^sandbox \d+\.\d+\.\d+\n$/);
  const { load } = require('../../bin/loader.js');
  const tmp = fs.mkdtempSync(path.join(require('os').tmpdir(), 'bundle-'));
  fs.copyFileSync(path.join(ROOT, 'dist', 'sandbox.js'), path.join(tmp, 'sandbox.js'));
  fs.writeFileSync(path.join(tmp, 'sandbox.js.cache'), 'not a v8 cache');
  t.type(load(path.join(tmp, 'sandbox.js')).main, 'function', 'a rejected cache falls back to compiling');
});

t.test('the prebuilt base filter is what the compiler gives today', async (t) => {
  const { seccompForPlan, ARCHES } = require('../../dist/lib/seccomp/index');
  const pre = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'base-filter.json'), 'utf8'));
  for (const a of ARCHES) {
    t.same(pre[a], seccompForPlan(null, a), a);
    t.same(pre[`${a}+shared-pid`], seccompForPlan(null, a, [], undefined, { sharedPid: true }), `${a}, host pid namespace`);
  }
});
