// The plan cache around `sandbox run`: whether this launch uses it, and keeping the plan it made for the next one.
// The launcher (native/plan-cache.c) looks entries up; lib/host/plan-cache.ts records what planning read.
import * as path from 'path';
import { packageRoot, stagePath } from '../paths';
import { cacheBase, cacheDir, chooseSlot, conditionsOf, encodeHandover, ensureMacKey, keptDeps, keyMaterial, macKey, stateOf, type Recorder } from '../host/plan-cache';
import type { Planned } from './run';
import { defaultName } from '../running/registry';
import type { Plan } from '../plan/types';

const on = (v: string | undefined) => !!v && v !== '0';

/** Why the cache is not used at all for this launch (SANDBOX_NO_CACHE, debug output wanted). */
export function cacheOff(env: NodeJS.ProcessEnv): string | null {
  if (on(env.SANDBOX_NO_CACHE)) return 'SANDBOX_NO_CACHE';
  // debug lines come from Node: a cached launch would not print them
  if (on(env.SANDBOX_DEBUG) || /sandbox/.test(env.DEBUG ?? '')) return 'debug output';
  return null;
}

/** Why this plan can't be launched again from a copy: work Node does at each launch, or fds it hands over. */
export function uncacheable(r: Planned, rec: Recorder): string | null {
  if (r.uncached) return r.uncached;
  // the contents' descriptors are among those handed over: named first, as the more telling reason
  if (r.plan.mounts.some((m) => m.op === 'data')) return 'file contents made at each launch (e.g. the X11 cookie)';
  if (rec.env.get('PMI_FD') !== undefined || r.plan.keepFds.length) return 'descriptors handed to the program';
  if (r.plan.cgroup) return 'a cgroup leaf';
  // after the per-launch work: an X display's launch reads /proc/net/unix too, and the cookie is the reason to give
  if (rec.refused) return rec.refused;
  return null;
}

/** The variables a join key template names (kinds: `V` starts a name, `v` goes on with it). */
function joinVariables(t: { text: string; kinds: string }): string[] {
  const names: string[] = [];
  for (let i = 0; i < t.kinds.length; i++) if (t.kinds[i] === 'V') {
    let j = i + 1;
    while (j < t.kinds.length && t.kinds[j] === 'v') j++;
    names.push(t.text.slice(i, j));
  }
  return names;
}

function say(text: string): void {
  if (on(process.env.SANDBOX_CACHE_DEBUG)) process.stderr.write(`sandbox: plan cache: ${text}\n`);
}

/** The entry for this launch, when it can be cached: the kept plan's bytes (this launch runs them too, so a miss and a
 * hit hand the stage the same plan) and the entry for the monitor to write (encodeHandover): the states planning saw
 * are looked at again and the file written there, after the sandbox is on its way, not on this launch's path. null
 * when nothing is kept. Never fails the launch. */
export function keepPlan(rec: Recorder, r: Planned, said: string[], enter: boolean): { plan: Buffer; handover: Buffer } | null {
  try {
    const why = uncacheable(r, rec);
    if (why) return say(`not kept: ${why}`), null;
    const deps = keptDeps(rec);
    // what decides more than the plan: this code, and the stage it hands over to
    for (const p of [path.join(packageRoot(), 'dist', 'sandbox.js'), stagePath()]) deps.push({ kind: 'c', path: p, mode: 0, state: stateOf('c', p) });
    const { serializePlan } = require('../native/serialize') as typeof import('../native/serialize');
    const { compiledRecords } = require('./compile') as typeof import('./compile');
    const { launchRecords } = require('../plan/launch-vars') as typeof import('../plan/launch-vars');
    const { launchFacts } = require('../host/launch-facts') as typeof import('../host/launch-facts');
    // the join key's variables (srun: each step's PMIx namespace) are resolved by the stage (record join-key): the
    // entry holds only whether they were set, which decides the plan's shape
    const join = r.spec.joinTemplate && r.plan.joinDir ? r.spec.joinTemplate : null;
    // as sandbox compile writes it: the environment as rules applied at each launch, the parent as the stage finds it
    const plan: Plan = { ...r.plan, env: Object.entries(r.spec.env.set).map(([k, v]) => `${k}=${v}`), parentPid: 0, ...(join ? { joinDir: null } : {}) };
    // the cwd is part of the key; $PMIX_SERVER_TMPDIR (every srun step has its own) is taken at each launch
    const launch = launchRecords(plan, ['PMIX_SERVER_TMPDIR'], null, launchFacts(r.caller, r.ownFiles)).records;
    const bytes = serializePlan(plan, compiledRecords({ envClear: r.spec.env.clear, envKeep: r.spec.env.keep, envUnset: r.spec.env.unset, files: [], paths: [], bootId: null, ...(join ? { joinKey: join } : {}), launch }));
    const env = new Map(rec.env);
    const setVars = join ? joinVariables(join).map((name) => ({ name, set: !!env.get(name) })) : [];
    for (const v of setVars) env.delete(v.name);
    const entryLaunch = launch.vars.map((v) => ({ name: v.name, planned: v.planned, guards: launch.guards.filter((g) => g.name === v.name) }));
    for (const v of launch.vars) env.delete(v.name);
    // what planning looked at in the variable's directory is the stage's to check at each launch (launch-guard)
    const inLaunchDir = (p: string) => launch.vars.some((v) => p === v.planned || p.startsWith(v.planned + '/'));
    const kept = deps.filter((d) => !inLaunchDir(path.resolve(d.path)));
    const uid = process.getuid ? process.getuid() : 0;
    const gid = process.getgid ? process.getgid() : 0;
    const key = keyMaterial(process.argv.slice(2), uid, gid, process.cwd());
    // the entry's fields as claimName writes them (lib/running/registry.ts); the name is the launcher's to choose
    const base = defaultName(r.plan.argv, () => '').slice(0, -1);
    const registry = { base, label: r.profileLabel, profileJson: JSON.stringify(r.profileLabel), commandJson: JSON.stringify(r.plan.argv), flags: (enter ? 'e' : '') + (r.plan.joinDir ? 'j' : '') };
    if (!ensureMacKey(uid)) return say(`not kept: no key to sign it (/tmp/sandbox-${uid}/plan-key: not a file of yours alone)`), null;
    const stderr = said.map((t) => (t.endsWith('\n') ? t : t + '\n')).join('');
    const entry = { key, deps: kept, env, setVars, launch: entryLaunch, stderr, stage: stagePath(), plan: bytes, registry };
    const slot = chooseSlot(cacheDir(process.env), key, conditionsOf(entry), uid, () => macKey(uid, false));
    return { plan: bytes, handover: encodeHandover(cacheBase(process.env, uid), slot, entry) };
  } catch (e) {
    say(`not kept: ${(e as Error).message}`);
    return null;
  }
}

/** For the build's code cache (scripts/bundle.js): what a miss runs after planning, on a made-up launch, so that a
 * miss runs it from the cache instead of compiling it first. Reads two states, writes nothing. */
export function warmKeep(): void {
  const { Recorder } = require('../host/plan-cache') as typeof import('../host/plan-cache');
  const rec = new Recorder();
  rec.deps.set('r0:/', { kind: 'r', path: '/', mode: 0, first: stateOf('r', '/') });
  rec.deps.set('c0:/', { kind: 'c', path: '/', mode: 0, first: stateOf('c', '/') });
  rec.created.push('/nonexistent');
  const registry = { base: defaultName(['true'], () => '').slice(0, -1), label: 'x', profileJson: JSON.stringify('x'), commandJson: JSON.stringify(['true']), flags: 'e' };
  const entry = { key: keyMaterial(['run'], 0, 0, '/'), deps: keptDeps(rec), env: new Map([['A', undefined], ['B', 'é']]), setVars: [{ name: 'C', set: true }], launch: [{ name: 'D', planned: '/d', guards: [{ relation: 'n', path: '/' }] }], stderr: 'x\n', stage: '/', plan: Buffer.alloc(8), registry };
  conditionsOf(entry);
  encodeHandover(cacheBase({}, 0), '00000000.0', entry);
}
