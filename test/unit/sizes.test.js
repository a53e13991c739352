'use strict';
// Sizes: one table of accepted and refused sizes, run through the command line (--memory-swap, --size)
// and through a profile (limits.memorySwap, a tmpfs size), so the two paths can't drift apart again.
const t = require('tap');
const { parseRunArgs } = require('../../dist/lib/cli/run-options');
const { readProfileText } = require('../../dist/lib/profile/document');
const { formatSize } = require('../../dist/lib/plan/units');

const K = 1024;
const ACCEPTED = [
  ['512M', 512 * K ** 2],
  ['1.5G', 1.5 * K ** 3],
  ['2GiB', 2 * K ** 3],
  ['64MB', 64 * K ** 2],
  ['2gib', 2 * K ** 3],
  ['2GIB', 2 * K ** 3],
  ['1.5K', 1536],
  ['0.5m', 512 * K],
  ['4096', 4096],
  ['10B', 10],
  ['0', 0],
];
const REFUSED = [
  ['1.5', /a fraction of a byte \(a plain number counts bytes\): write a unit, like 1\.5G/],
  ['-1', /a size like 512M, 2G, 1\.5G or a whole number of bytes/],
  ['', /a size like/],
  ['2 gigs', /a size like/],
  ['64Q', /a size like/],
  ['1e3', /a size like/],
  ['0x10', /a size like/],
  ['9999999999T', /too large/],
];

const cliSwap = (v) => parseRunArgs(['--memory-swap', v, 'true'], '/').spec.limits.memorySwap.value;
const cliTmpfs = (v) => parseRunArgs(['--size', v, '--tmpfs', '/t', 'true'], '/').spec.mounts[0].size;
const profileSwap = (v) => readProfileText('/p.json5', `{ limits: { memorySwap: ${JSON.stringify(v)} } }`).limits.memorySwap.value;
const profileTmpfs = (v) => readProfileText('/p.json5', `{ filesystem: [ { tmpfs: "/t", size: ${JSON.stringify(v)} } ] }`).filesystem[0].size;
const PATHS = { '--memory-swap': cliSwap, '--size': cliTmpfs, 'limits.memorySwap': profileSwap, 'tmpfs size': profileTmpfs };

t.test('accepted sizes mean the same bytes on every path', async (t) => {
  for (const [text, bytes] of ACCEPTED) {
    for (const [name, read] of Object.entries(PATHS)) t.equal(read(text), bytes, `${name} ${JSON.stringify(text)}`);
  }
});

t.test('refused sizes are refused on every path, for the same reason, in one line', async (t) => {
  for (const [text, why] of REFUSED) {
    for (const [name, read] of Object.entries(PATHS)) {
      let msg = null;
      try { read(text); } catch (e) { msg = e.message; }
      t.match(msg, why, `${name} ${JSON.stringify(text)}: ${msg}`);
      t.notMatch(msg ?? '', /\n/);
    }
  }
  t.throws(() => parseRunArgs(['--memory-swap', '1.5', 'true'], '/'), { message: "--memory-swap 1.5: '1.5' is a fraction of a byte (a plain number counts bytes): write a unit, like 1.5G" });
  t.throws(() => readProfileText('/p.json5', '{ limits: { memorySwap: "1.5" } }'),
    { message: '/p.json5:1:25: found "1.5", expected a size like 512M, 2G, 1.5G or a whole number of bytes; "1.5" is a fraction of a byte (a plain number counts bytes): write a unit, like 1.5G' });
});

t.test('--memory 1.5 is refused, not a 1-byte limit', async (t) => {
  t.throws(() => parseRunArgs(['--memory', '1.5', 'true'], '/'), /^--memory 1\.5: '1\.5' is a fraction of a byte/);
  t.equal(parseRunArgs(['--memory', '1.5G', 'true'], '/').spec.limits.memory.value, 1.5 * K ** 3);
});

t.test('a memory limit of 0 is refused the same way on both paths; swap and tmpfs take 0', async (t) => {
  t.throws(() => parseRunArgs(['--memory', '0', 'true'], '/'), { message: "--memory 0: '0' is not a size above 0, like 512M, 2G or 1.5G" });
  for (const v of ['"0"', '0', '"0K"']) {
    t.throws(() => readProfileText('/p.json5', `{ limits: { memory: ${v} } }`), { message: new RegExp(`^/p\\.json5:1:21: found ${v.replace(/"/g, '"')}, expected a size above 0, like 512M, 2G or 1\\.5G$`) });
  }
  t.equal(cliSwap('0'), 0);
  t.equal(profileSwap(0), 0, 'a JSON number of bytes');
  t.equal(profileTmpfs(0), 0, 'the kernel\'s default size');
});

t.test('profiles also take a JSON number of bytes, whole and not negative', async (t) => {
  t.equal(profileSwap(4096), 4096);
  t.throws(() => profileSwap(1.5), /found 1\.5, expected a size like/);
  t.throws(() => profileSwap(-1), /found -1, expected a size like/);
});

t.test('one formatter', async (t) => {
  t.equal(formatSize(64 * 2 ** 20), '64M');
  t.equal(formatSize(2 * 2 ** 30), '2G');
  t.equal(formatSize(1.5 * 2 ** 30), '1536M');
  t.equal(formatSize(1500), '1500');
  t.equal(formatSize(0), '0');
});
