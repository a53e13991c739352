// The cached and uncached runs give the same plan (issue 16, "Tests"). `--print-plan` always goes through Node, so
// the plan a hit runs is read from the entry itself (its P record, which the launcher hands the stage with only a
// `registry` record added) and compared, record by record in the wire form the stage parses, with the plan Node
// prints for the same launch without the cache, written by the same serializer Node hands the stage with. The
// environment is the one difference by design: the kept plan carries the profile's rules (the `compiled` records)
// and the stage applies them to each launch's environment, so it is compared by what the program gets. Last, what
// the stage built is compared: the program's environment and its mount table, on a hit and with --no-cache.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { cannotLaunch, userTmpdir, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { cachedRun, keptPlan, planTokens } = require('../lib/plan-cache-entry');
const { RECORDS } = require('../../dist/lib/native/records');
const { serializePlan } = require('../../dist/lib/native/serialize');

const why = cannotLaunch();
if (why) {
  t.skip(`plan cache, same plan: ${why}`);
  process.exit(0);
}

/** A plan's records, [keyword, ...fields], by the field counts of lib/native/records.ts; the header and end checked. */
function records(bytes) {
  const tok = planTokens(bytes);
  if (tok[0] !== 'sandbox-plan' || tok[tok.length - 1] !== 'end') throw new Error('not a whole plan');
  const out = [];
  for (let i = 2; i < tok.length - 1;) {
    const spec = RECORDS[tok[i]];
    if (!spec) throw new Error(`unknown record ${tok[i]}`);
    out.push(tok.slice(i, i + 1 + spec.fields.length));
    i += 1 + spec.fields.length;
  }
  return out;
}

/** What the stage made: the program's environment (sorted) and its mounts (where, options, type; not their ids). */
const INSIDE = 'env | sort; echo ---; awk \'{ for (i = 7; $i != "-"; i++); print $5, $6, $(i + 1) }\' /proc/self/mountinfo';

const profiles = [
  ['default', []],
  ['browser', []],
  ['hpc', []],
];

for (const [profile, extra] of profiles) {
  t.test(`${profile}: the kept plan is Node's plan for the launch without the cache, and a hit builds the same sandbox`, async (t) => {
    const home = userTmpdir('sbx-cache-same-');
    const proj = path.join(home, 'proj');
    fs.mkdirSync(path.join(home, '.config', 'sandbox'), { recursive: true });
    fs.mkdirSync(proj);
    if (IS_ROOT) for (const p of [home, path.join(home, '.config'), path.join(home, '.config', 'sandbox'), proj]) fs.chownSync(p, TEST_UID, TEST_GID);
    t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
    // DISPLAY and the rest unset: browser without a display (a launch with one is never kept)
    const env = { HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), TZ: 'UTC' };
    const args = ['--profile', profile, ...extra, '--', 'sh', '-c', INSIDE];

    const first = cachedRun(args, { env, cwd: proj });
    t.ok(first.kept, `kept (${first.cache})`);
    const plans = path.join(home, '.cache', 'sandbox', 'plans');
    const entries = fs.readdirSync(plans).filter((n) => !n.startsWith('.'));
    t.equal(entries.length, 1);
    const kept = records(keptPlan(fs.readFileSync(path.join(plans, entries[0]))));

    const printed = cachedRun(['--print-plan', ...args], { env: { ...env, SANDBOX_NO_CACHE: '1' }, cwd: proj });
    t.equal(printed.status, 0, printed.stderr);
    const plan = JSON.parse(printed.stdout);
    delete plan.cgroupWhy;
    // the parent pid is the launch's own (the kept plan's stage finds its parent itself)
    const node = records(serializePlan({ ...plan, parentPid: 0 }));

    const isEnv = (r) => r[0] === 'env';
    const compiled = (r) => RECORDS[r[0]].group === 'compiled';
    t.same(kept.filter((r) => !isEnv(r) && !compiled(r)), node.filter((r) => !isEnv(r)), 'every record but the environment: the same, in the same order');
    t.notOk(kept.some((r) => r[0] === 'registry' || r[0] === 'parent-pid'), 'no name and no parent in the kept plan: each hit gets its own');
    t.ok(kept.some((r) => r[0] === 'env-launch'), 'the environment as rules');
    const nodeEnv = new Set(node.filter(isEnv).map((r) => r[1]));
    for (const [, e] of kept.filter(isEnv)) t.ok(nodeEnv.has(e), `the kept plan's ${e.split('=')[0]} is Node's`);

    const hit = cachedRun(args, { env, cwd: proj });
    t.ok(hit.hit, hit.cache);
    const plain = cachedRun(['--no-cache', ...args], { env, cwd: proj });
    t.notOk(plain.hit || plain.kept, plain.cache);
    t.equal(hit.status, 0, hit.stderr);
    const [hitEnv, hitMounts] = hit.stdout.split('---\n');
    const [plainEnv, plainMounts] = plain.stdout.split('---\n');
    t.equal(hitEnv, plainEnv, 'the program\'s environment: the same');
    t.equal(hitMounts, plainMounts, 'its mounts: the same');
    t.ok(hitMounts.split('\n').length > 5, 'and there are mounts to compare');
    t.equal(hit.stderr, plain.stderr, 'the same notes');
  });
}
