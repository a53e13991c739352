// The plan cache's writing end in the monitor (native/plan-cache-keep.c): on a miss, Node hands the entry to the stage
// (`--keep-fd`), and the monitor looks at every recorded state again and writes the file while the child builds the
// sandbox. Here the stage is run by hand with a hand-over made from an entry a real launch wrote, so each case is exact:
// the same hand-over gives the same bytes; a state that changed, or a cache directory that is a symlink or open to
// others, gives no entry.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandbox, userTmpdir, cleanEnv, cannotLaunch, asUser, IS_ROOT, TEST_UID, TEST_GID, ROOT } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.plan(0, why);
  process.exit(0);
}

const STAGE = path.join(ROOT, 'native', 'build', 'sandbox-stage');
const { decodeEntry, encodeRecords } = require('../lib/plan-cache-entry');

/** A home whose cache holds the entry of one real launch; returns it with that entry's bytes. */
function kept(t) {
  const home = userTmpdir('sbx-keep-');
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
  const env = cleanEnv({ HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), SANDBOX_CACHE_DEBUG: '1' });
  const args = ['--', 'sh', '-c', 'echo ran'];
  const first = sandbox(args, { env, cwd: home });
  t.equal(first.stdout, 'ran\n');
  t.match(first.stderr, /plan cache: kept [0-9a-f]{8}\.0/, 'the monitor of a miss writes the entry, in the first slot');
  const base = path.join(home, '.cache', 'sandbox');
  const plans = path.join(base, 'plans');
  const names = fs.readdirSync(plans);
  t.equal(names.length, 1, `one entry, no temporary file left: ${names}`);
  const file = path.join(plans, names[0]);
  const st = fs.lstatSync(file);
  t.ok(st.isFile());
  t.equal(st.mode & 0o777, 0o600);
  if (IS_ROOT) t.equal(st.uid, TEST_UID);
  const second = sandbox(args, { env, cwd: home });
  t.match(second.stderr, /plan cache: hit /, 'the next launch runs it');
  t.equal(second.stdout, 'ran\n');
  return { home, env, base, plans, name: names[0], entry: fs.readFileSync(file) };
}

/** The stage run by hand on the entry's plan with this hand-over; the cache emptied first. */
function handOver(k, handover) {
  for (const n of fs.readdirSync(k.plans)) fs.unlinkSync(path.join(k.plans, n));
  const plan = decodeEntry(k.entry).find((r) => r.type === 'P').fields[0];
  const planFile = path.join(k.home, 'plan');
  const keepFile = path.join(k.home, 'keep');
  fs.writeFileSync(planFile, plan);
  fs.writeFileSync(keepFile, handover);
  if (IS_ROOT) for (const f of [planFile, keepFile]) fs.chownSync(f, TEST_UID, TEST_GID);
  const [cmd, args] = asUser('/bin/sh', ['-c', `exec "$0" --plan-fd 3 --keep-fd 4 3<"$1" 4<"$2"`, STAGE, planFile, keepFile]);
  return spawnSync(cmd, args, { env: k.env, cwd: k.home, encoding: 'utf8' });
}

/** The hand-over Node makes for that entry: W (the cache base and the slot), the records less the boot's, no header. */
function handoverOf(k, change = (recs) => recs) {
  const recs = decodeEntry(k.entry).filter((r) => r.type !== 'B');
  return encodeRecords([{ type: 'W', fields: [k.base, k.name] }, ...change(recs)]);
}

t.test('the monitor writes what the launcher reads: header, signature and the boot after the key, byte for byte', async (t) => {
  const k = kept(t);
  const recs = decodeEntry(k.entry);
  t.same(recs.slice(0, 2).map((r) => r.type), ['K', 'B'], 'the key first, then the boot');
  t.equal(recs[1].fields[0].toString(), fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  const r = handOver(k, handoverOf(k));
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'ran\n');
  t.match(r.stderr, new RegExp(`plan cache: kept ${k.name}`));
  t.same(fs.readdirSync(k.plans), [k.name], 'renamed into place, no temporary file left');
  t.ok(fs.readFileSync(path.join(k.plans, k.name)).equals(k.entry), 'the same bytes as the launch wrote');
});

t.test('a state that differs from the one planning saw: nothing is kept, the launch runs as ever', async (t) => {
  const k = kept(t);
  let changed = '';
  const r = handOver(k, handoverOf(k, (recs) => {
    const dep = recs.find(({ type, fields: f }) => type === 'D' && f[0].toString() === 'c' && /^\d/.test(f[3].toString()));
    changed = dep.fields[1].toString();
    dep.fields[3] = Buffer.from(dep.fields[3].toString().replace(/ (\d+) /, (_, n) => ` ${Number(n) + 1} `));
    return recs;
  }));
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'ran\n');
  t.ok(r.stderr.includes(`plan cache: not kept: ${changed} changed while the plan was made`), r.stderr);
  t.same(fs.readdirSync(k.plans), [], 'no entry, no temporary file');
});

t.test('a cache directory that is a symlink, or open to others, gets no entry', async (t) => {
  const k = kept(t);
  const other = path.join(k.home, 'other');
  fs.mkdirSync(other, { mode: 0o700 });
  if (IS_ROOT) fs.chownSync(other, TEST_UID, TEST_GID);
  // emptied by handOver first, then replaced by a link
  for (const n of fs.readdirSync(k.plans)) fs.unlinkSync(path.join(k.plans, n));
  fs.rmdirSync(k.plans);
  fs.symlinkSync(other, k.plans);
  if (IS_ROOT) fs.lchownSync(k.plans, TEST_UID, TEST_GID);
  const handover = handoverOf(k);
  const planFile = path.join(k.home, 'plan');
  const keepFile = path.join(k.home, 'keep');
  fs.writeFileSync(planFile, decodeEntry(k.entry).find((r) => r.type === 'P').fields[0]);
  fs.writeFileSync(keepFile, handover);
  if (IS_ROOT) for (const f of [planFile, keepFile]) fs.chownSync(f, TEST_UID, TEST_GID);
  const [cmd, args] = asUser('/bin/sh', ['-c', `exec "$0" --plan-fd 3 --keep-fd 4 3<"$1" 4<"$2"`, STAGE, planFile, keepFile]);
  let r = spawnSync(cmd, args, { env: k.env, cwd: k.home, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /plan cache: not kept: .*plans is not a directory of yours alone/);
  t.same(fs.readdirSync(other), [], 'nothing written through the link');

  fs.unlinkSync(k.plans);
  fs.mkdirSync(k.plans, { mode: 0o700 });
  if (IS_ROOT) fs.chownSync(k.plans, TEST_UID, TEST_GID);
  fs.chmodSync(k.plans, 0o770);
  r = handOver(k, handover);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /plan cache: not kept: .*plans is not a directory of yours alone/);
  t.same(fs.readdirSync(k.plans), []);
  fs.chmodSync(k.plans, 0o700);
  r = handOver(k, handover);
  t.same(fs.readdirSync(k.plans), [k.name], 'closed again: kept');
});

t.test('a bad hand-over is dropped: the launch runs, nothing is kept', async (t) => {
  const k = kept(t);
  for (const bad of [Buffer.alloc(0), Buffer.from('junk'), handoverOf(k).subarray(0, 40), ...[['relative', k.name], [k.base, '../x.0'], [k.base]].map((w) => encodeRecords([{ type: 'W', fields: w }, ...decodeEntry(k.entry)]))]) {
    const r = handOver(k, bad);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'ran\n');
    t.same(fs.readdirSync(k.plans), []);
  }
});
