// The plan cache's writing side (lib/host/plan-cache.ts), against what native/plan-cache.c expects of it: the
// checksum, the key, the header, where entries go, and what recording notes while planning.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const pc = require('../../dist/lib/host/plan-cache.js');

t.test('the checksum: FNV-1a over little-endian 32-bit words, the last padded with zeros (as the launcher computes it)', async (t) => {
  const ref = (b) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < b.length; i += 4) {
      let w = 0;
      for (let k = 0; k < 4 && i + k < b.length; k++) w += b[i + k] * 2 ** (8 * k);
      h = Number((BigInt(h ^ w >>> 0 >>> 0) * 0x01000193n) & 0xffffffffn);
      h = h >>> 0;
    }
    return h;
  };
  t.equal(pc.checksum(Buffer.from('')), 0x811c9dc5);
  for (let n = 0; n < 300; n += 7) {
    const b = Buffer.from(Array.from({ length: n }, (_, i) => (i * 151 + n) & 255));
    t.equal(pc.checksum(b), ref(b), `${n} bytes`);
  }
});

t.test('the key: every argument, uid, gid and working directory, each NUL-terminated', async (t) => {
  t.equal(pc.keyMaterial(['run', '--', 'a b', ''], 1000, 100, '/w').toString('latin1'), 'sandbox-plan-cache 4\x00' + '1000\x00100\x00/w\x00run\x00--\x00a b\x00\x00');
  t.not(pc.keyMaterial(['a', 'b'], 1, 1, '/').toString(), pc.keyMaterial(['a\x00b'], 1, 1, '/').toString().replace('a\x00b', 'a\x00b\x00x'));
});

const SECRET = Buffer.alloc(32, 7);

t.test('the entry: magic, version, body length and its HMAC-SHA-256 with the user\'s key, then records', async (t) => {
  const e = pc.encodeEntry({ key: Buffer.from('k'), deps: [{ kind: 's', path: '/x', mode: 0, state: '!2' }], env: new Map([['HOME', '/h'], ['GONE', undefined]]), stderr: '', stage: '/s', plan: Buffer.from('p'), boot: 'b' }, SECRET);
  t.equal(e.subarray(0, 8).toString(), 'SBXPLANC');
  t.equal(e.readUInt32LE(8), 4, 'version 4: entries are signed (older entries are not used)');
  t.equal(Number(e.readBigUInt64LE(16)), e.length - 64);
  t.same(e.subarray(32, 64), require('crypto').createHmac('sha256', SECRET).update(e.subarray(64)).digest());
  t.ok(pc.entryConditions(e, SECRET) !== null, 'sound with its key');
  t.equal(pc.entryConditions(e, Buffer.alloc(32, 8)), null, 'not with another');
  const body = e.subarray(64).toString('latin1');
  t.match(body, /E\x02\x04\x00\x00\x00HOME\x03\x00\x00\x001\/h/, 'a variable with its value');
  t.match(body, /E\x02\x04\x00\x00\x00GONE\x01\x00\x00\x000/, 'a variable that must stay unset');
  t.ok(body.endsWith('P\x01\x01\x00\x00\x00p'), 'the plan last');
});

t.test('the registry record: what the launcher needs to claim a fresh name at a hit, before the stage and plan', async (t) => {
  const registry = { base: 'sh', label: 'none', profileJson: '"none"', commandJson: '["sh","-c","echo \\"x\\""]', flags: 'e' };
  const e = pc.encodeEntry({ key: Buffer.from('k'), deps: [], env: new Map(), stderr: '', stage: '/s', plan: Buffer.from('p'), boot: 'b', registry }, SECRET);
  const body = e.subarray(64).toString('latin1');
  const field = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(Buffer.byteLength(v)); return b.toString('latin1') + v; };
  t.ok(body.includes('R\x05' + ['sh', 'none', '"none"', registry.commandJson, 'e'].map(field).join('') + 'X\x01'), 'R: base, label, profile and command as JSON, flags; then X');
  const none = pc.encodeEntry({ key: Buffer.from('k'), deps: [], env: new Map(), stderr: '', stage: '/s', plan: Buffer.from('p'), boot: 'b' }, SECRET);
  t.notOk(none.subarray(64).toString('latin1').includes('R\x05'), 'no registry: no record');
});

t.test('a kept plan gets this launch\'s registry record before its end', async (t) => {
  const { withRecords, PlanWriter } = require('../../dist/lib/native/serialize.js');
  const kept = new PlanWriter().record('argv', 'x').done();
  const named = withRecords(kept, (w) => w.record('registry', '/r', 'x-0a1b', true));
  t.equal(named.toString(), kept.toString().slice(0, -'3:end,'.length) + '8:registry,2:/r,6:x-0a1b,1:1,3:end,');
  t.throws(() => withRecords(Buffer.from('1:x,'), () => {}), /no end record/);
});

t.test('where entries go', async (t) => {
  t.equal(pc.cacheDir({ XDG_RUNTIME_DIR: '/run/user/7/', HOME: '/h' }), '/run/user/7/sandbox/plans');
  t.equal(pc.cacheDir({ XDG_RUNTIME_DIR: 'rel', XDG_CACHE_HOME: '/c', HOME: '/h' }), '/c/sandbox/plans');
  t.match(pc.cacheDir({ HOME: '/h' }), /^\/tmp\/sandbox-\d+\/plans$/, 'not the home: an entry is good for one boot');
  t.equal(pc.cacheBase({}, 42), '/tmp/sandbox-42');
});

t.test('recording: variables by name, paths by state; reading the whole environment refuses', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-cache-unit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const f = path.join(dir, 'f');
  fs.writeFileSync(f, 'x');
  const r = new pc.Recorder();
  r.start();
  try {
    void process.env.PLAN_CACHE_UNIT_SET;
    void process.env.PLAN_CACHE_UNIT_UNSET_VAR;
    fs.readFileSync(f);
    fs.existsSync(path.join(dir, 'missing'));
    t.equal(r.refused, null);
    pc.unrecorded(() => Object.keys(process.env));
    t.equal(r.refused, null, 'paused: not recorded');
    void { ...process.env };
  } finally {
    r.stop();
  }
  t.match(r.refused, /whole environment/);
  t.ok(r.env.has('PLAN_CACHE_UNIT_UNSET_VAR'));
  const deps = pc.keptDeps(r);
  t.ok(deps.some((d) => d.kind === 'c' && d.path === f && /^100000 \d+ \d+ 1 \d+\.\d+ \d+\.\d+$/.test(d.state)), 'a file read: its identity, size and times');
  t.ok(deps.some((d) => d.kind === 's' && d.state === '!2'), 'a missing path: ENOENT');
  t.equal(fs.readFileSync, require('fs').readFileSync);
  t.notOk(r.deps.size > 10, 'stop() ends recording');
});

t.test('a file read through a descriptor, or a kernel file\'s contents: the plan is not kept', async (t) => {
  for (const read of [() => fs.readFileSync('/dev/fd/0'), () => fs.readFileSync('/proc/self/status'), () => fs.readFileSync('/proc/cpuinfo')]) {
    const r = new pc.Recorder();
    r.start();
    try {
      try { read(); } catch { /* only that it was asked */ }
    } finally {
      r.stop();
    }
    t.match(r.refused, / was read$/);
  }
  const r = new pc.Recorder();
  r.start();
  try {
    fs.readdirSync('/proc/self/fd');
    fs.existsSync('/proc/self/fd/1');
  } finally {
    r.stop();
  }
  t.equal(r.refused, null, 'the descriptor listing (lib/host/plan-facts) is no input');
  t.equal(r.deps.size, 0);
});

t.test('what a miss hands over: the states planning saw, less those another recorded state implies', async (t) => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'plan-cache-unit-')));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const deep = path.join(dir, 'a', 'b');
  fs.mkdirSync(deep, { recursive: true });
  const f = path.join(dir, 'f');
  fs.writeFileSync(f, 'x');
  fs.symlinkSync(dir, path.join(dir, 'link'));
  const r = new pc.Recorder();
  r.start();
  try {
    fs.readFileSync(f);
    fs.statSync(f); // implied by the contents' state
    fs.existsSync(f);
    fs.realpathSync.native(path.join(dir, 'a')); // implied by the longer one
    fs.realpathSync.native(deep);
    for (const p of [dir, path.join(dir, 'a'), deep]) try { fs.readlinkSync(p); } catch { /* not a link */ }
    fs.readlinkSync(path.join(dir, 'link')); // a link: kept
    fs.realpathSync.native(path.join(dir, 'link')); // not itself: kept
    fs.existsSync(path.join(dir, 'missing'));
    fs.mkdirSync(path.join(dir, 'made'));
    fs.statSync(path.join(dir, 'made'));
    fs.lstatSync(path.join(dir, 'link'));
    fs.statSync(path.join(dir, 'a'), { bigint: true });
    fs.lstatSync(path.join(dir, 'gone'), { throwIfNoEntry: false });
    try { fs.statSync(path.join(f, 'under-a-file')); } catch { /* ENOTDIR */ }
  } finally {
    r.stop();
  }
  const kept = pc.keptDeps(r);
  const has = (kind, p) => kept.some((d) => d.kind === kind && d.path === p);
  t.ok(has('c', f));
  t.notOk(has('s', f), 'a stat state where the contents were recorded: left out');
  t.ok(has('r', deep));
  t.notOk(has('r', path.join(dir, 'a')), 'a realpath the longer one implies');
  for (const p of [dir, path.join(dir, 'a'), deep]) t.notOk(has('k', p), `readlink of ${p}: implied`);
  t.ok(has('k', path.join(dir, 'link')) && has('r', path.join(dir, 'link')), 'a symlink\'s own look-ups stay');
  t.equal(kept.find((d) => d.path === path.join(dir, 'missing')).state, '!2', 'a missing path: ENOENT, without an exception');
  t.match(kept.find((d) => d.kind === 's' && d.path === path.join(dir, 'made')).state, /^40000 /, 'a directory this process made: as it is now');
  t.equal(kept.find((d) => d.kind === 'c' && d.path === f).state, pc.stateOf('c', f), 'states as the launcher will compare them');
  // statSync and lstatSync: the state from the caller's own result, as stateOf prints it
  for (const [kind, p] of [['l', path.join(dir, 'link')], ['s', path.join(dir, 'a')], ['l', path.join(dir, 'gone')], ['s', path.join(f, 'under-a-file')]]) {
    t.equal(kept.find((d) => d.kind === kind && d.path === p).state, pc.stateOf(kind, p), `${kind} ${path.basename(p)}`);
  }
  t.match(kept.find((d) => d.kind === 'l' && d.path === path.join(dir, 'link')).state, /^120000 /);
  t.equal(kept.find((d) => d.kind === 's' && d.path === path.join(f, 'under-a-file')).state, '!20', 'ENOTDIR');
});

t.test('the hand-over: W (the cache base and the slot) and the key first, no boot and no header; fields as UTF-8 bytes', async (t) => {
  const e = { key: Buffer.from('k\0'), deps: [{ kind: 's', path: '/é', mode: 0, state: '!2' }], env: new Map([['V', 'ü']]), setVars: [{ name: 'N', set: true }],
    launch: [{ name: 'P', planned: '/p', guards: [{ relation: 'n', path: '/' }] }], stderr: '', stage: '/s', plan: Buffer.from([0, 255]) };
  const h = pc.encodeHandover('/run/user/7/sandbox', '0000abcd.2', e);
  const field = (v) => { const b = Buffer.from(v); const n = Buffer.alloc(4); n.writeUInt32LE(b.length); return Buffer.concat([n, b]); };
  const want = Buffer.concat([Buffer.from('W\x02'), field('/run/user/7/sandbox'), field('0000abcd.2'), Buffer.from('K\x01'), field('k\0'), Buffer.from('E\x02'), field('V'), field('1ü'),
    Buffer.from('S\x02'), field('N'), field('1'), Buffer.from('V\x03'), field('P'), field('/p'), field('n /\n'),
    Buffer.from('D\x04'), field('s'), field('/é'), field('0'), field('!2'), Buffer.from('X\x01'), field('/s'), Buffer.from('P\x01'), field(Buffer.from([0, 255]))]);
  t.ok(h.equals(want), h.toString('hex'));
  // the conditions a slot is chosen by are those the entry, written, reads back as
  const written = pc.encodeEntry({ ...e, boot: 'b' }, SECRET);
  t.equal(pc.entryConditions(written, SECRET), pc.conditionsOf(e));
});
