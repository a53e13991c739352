// `sandbox compile [RUN OPTIONS] -o FILE [--] [COMMAND ...]`: the plan written once, for `sandbox-exec FILE -- COMMAND`
// to launch with no Node and no JSON5 (job arrays, nodes without Node). The file starts with a #! line naming
// sandbox-exec, so it can be run directly. The environment travels as rules (the profile's keep, unset and set),
// applied to the environment of each launch; the inputs (profile files, bound paths) are checked at each launch.
import * as fs from 'fs';
import * as path from 'path';
import { SandboxError } from '../errors';
import { planFor, type RunIo } from './run';
import { stagePath } from '../paths';
import { compiledPlansList, listedPlanShowing, readCompiledPlans, recordCompiledPlan, sandboxConfigDir, planDigest } from '../host/own-files';
import { serializePlan, type PlanWriter } from '../native/serialize';
import { compileEnvPattern } from '../plan/env-pattern';
import { DEFAULT_PATH } from '../plan/build';
import type { Plan } from '../plan/types';
import type { SandboxSpec } from '../plan/spec';
import { launchRecords, LAUNCH_VARIABLES, type LaunchRecords } from '../plan/launch-vars';
import { launchFacts } from '../host/launch-facts';

export const COMPILE_USAGE = 'usage: sandbox compile [RUN OPTIONS] -o FILE [--] [COMMAND [ARGS...]]';

function compileHelp(): string {
  return [COMPILE_USAGE.replace(/^usage/, 'Usage'), '',
    'Writes the plan of `sandbox run [RUN OPTIONS] [COMMAND]` to FILE once, for sandbox-exec to launch with no Node',
    '(job arrays, nodes without Node). FILE starts with a #! line naming sandbox-exec, so it runs by itself:',
    'FILE [-- COMMAND [ARGS...]]. Each launch builds the environment from its own with the profile\'s rules and',
    'checks the plan\'s inputs (profile files, bound paths) first.', '',
    'Options:',
    '  -o FILE, --output FILE         where to write the plan (required)',
    '  RUN OPTIONS                    every option of sandbox run (sandbox run --help), except --print-plan',
    '  --help                         this help'].join('\n');
}

export interface CompiledExtras {
  envClear: boolean;
  envKeep: string[];
  envUnset: string[];
  /** profile files: path, mtime (s, ns), size */
  files: { path: string; sec: bigint; nsec: bigint; size: bigint }[];
  /** bound sources: path, directory or not, optional; device and inode when it exists */
  paths: { path: string; dir: boolean; optional: boolean; dev?: bigint; ino?: bigint }[];
  /** this boot's id: device and inode numbers are checked only within it */
  bootId: string | null;
  /** the profile's join key, resolved at each launch */
  joinKey?: { text: string; kinds: string; origin: string };
  /** the paths taken from each launch (lib/plan/launch-vars.ts) */
  launch?: LaunchRecords;
}

export function compiledExtras(spec: SandboxSpec, plan: Plan, profileFiles: string[], launch?: LaunchRecords): CompiledExtras {
  const files = profileFiles.map((p) => {
    const st = fs.statSync(p, { bigint: true });
    return { path: p, sec: st.mtimeNs / 1000000000n, nsec: st.mtimeNs % 1000000000n, size: st.size };
  });
  // a bind taken from the launch is checked by the stage against the launch's value (launch-guard), not the planned one
  const atLaunch = new Set(launch?.ops.map((o) => o.index));
  const paths = plan.mounts.flatMap((m, i) => {
    if (m.op !== 'bind' || atLaunch.has(i)) return [];
    try {
      const st = fs.statSync(m.src, { bigint: true });
      return [{ path: m.src, dir: st.isDirectory(), optional: m.optional, dev: st.dev, ino: st.ino }];
    } catch {
      return [{ path: m.src, dir: false, optional: m.optional }]; /* a -try source that is missing now */
    }
  });
  let bootId: string | null = null;
  try {
    bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    /* no procfs: device and inode are not checked */
  }
  return { envClear: spec.env.clear, envKeep: spec.env.keep, envUnset: spec.env.unset, files, paths, bootId, ...(spec.joinTemplate ? { joinKey: spec.joinTemplate } : {}), ...(launch ? { launch } : {}) };
}

/**
 * The plan launches later, outside any sandbox: each bind source is taken by its resolved path and bound
 * without following symlinks, so one planted on the way since (by a sandbox that can write there) fails the
 * launch instead of leading to the home. configDir: sandbox's configuration directory, resolved.
 */
export function resolvedBinds(plan: Plan, realpath: (p: string) => string, configDir?: string): Plan {
  return {
    ...plan,
    mounts: plan.mounts.map((m) => {
      if (m.op !== 'bind') return m;
      const src = realpath(m.src);
      // the cover over sandbox's configuration must be there at each launch: a launch that finds the directory gone
      // is refused (else the program could make it and plant a profile for the next run)
      const cover = m.readOnly && src === configDir;
      return { ...m, src, noFollow: true, ...(cover ? { optional: false } : {}) };
    }),
  };
}

/** -o inside one of the plan's own writable binds would let the program rewrite the plan it runs under. */
export function checkOutputOutsideBinds(plan: Plan, file: string, option: string, realpath: (p: string) => string): void {
  const real = path.join(realpath(path.dirname(file)), path.basename(file));
  const under = (p: string, dir: string) => dir === '/' || p === dir || p.startsWith(dir + '/');
  const bind = plan.mounts.find((m) => m.op === 'bind' && !m.readOnly && under(real, realpath(m.src)));
  if (bind && bind.op === 'bind') {
    throw new SandboxError(`${option}: ${real} is inside ${bind.src}, which the plan binds read-write (${bind.origin}): the program could rewrite its own plan; write it elsewhere`);
  }
}

/** The records a compiled plan carries besides the plan: written before `end`. The environment is the launch's, so
 * the rules travel as patterns compiled to a form the stage applies without glob syntax of its own. */
export function compiledRecords(x: CompiledExtras): (w: PlanWriter) => void {
  return (w) => {
    w.record('env-launch', x.envClear);
    for (const k of x.envKeep) { const p = compileEnvPattern(k); w.record('env-keep', p.text, p.kinds); }
    // the launcher's hand-over to Node (native/launch.c) is no business of the program's
    for (const u of [...x.envUnset, 'SANDBOX_PARENT_PID']) { const p = compileEnvPattern(u); w.record('env-unset', p.text, p.kinds); }
    w.record('env-default', DEFAULT_PATH);
    if (x.joinKey) w.record('join-key', x.joinKey.origin, x.joinKey.text, x.joinKey.kinds);
    if (x.launch) launchRecordsWriter(x.launch)(w);
    for (const f of x.files) w.record('input-file', f.path, f.sec, f.nsec, f.size);
    for (const p of x.paths) w.record('input-path', p.path, p.dir, p.optional);
    if (x.bootId) {
      w.record('input-boot', x.bootId);
      for (const p of x.paths) if (p.dev !== undefined && p.ino !== undefined) w.record('input-node', p.path, p.dev, p.ino);
    }
  };
}

/** The launch-var, launch-guard, launch-op and launch-cwd records (a kept plan carries them too). */
export function launchRecordsWriter(l: LaunchRecords): (w: PlanWriter) => void {
  return (w) => {
    for (const v of l.vars) w.record('launch-var', v.origin, v.name, v.planned);
    for (const g of l.guards) w.record('launch-guard', g.name, g.relation, g.path);
    for (const o of l.ops) w.record('launch-op', o.name, o.index, o.dst);
    if (l.cwd) w.record('launch-cwd', l.cwd);
  };
}

/** A path as one shell word: as it is when it is plain, else single-quoted. */
export function shellWord(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

export function runCompileCommand(args: string[], io: RunIo): number {
  let output: string | undefined;
  let option = '-o';
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { rest.push(...args.slice(i)); break; }
    if (a === '-o' || a === '--output') {
      if (i + 1 >= args.length) throw new SandboxError(`${a}: expects FILE (${COMPILE_USAGE})`);
      option = a;
      output = args[++i];
    } else if (a.startsWith('--output=')) {
      option = '--output';
      output = a.slice(9);
    }
    else rest.push(a);
  }
  if (rest.includes('--help') || rest.includes('-h')) { io.out(compileHelp()); return 0; }
  if (!output) throw new SandboxError(`-o FILE is missing (${COMPILE_USAGE})`);
  const r = planFor(rest, io, { compiled: true });
  if ('help' in r) { io.out(compileHelp()); return 0; }
  if (r.printPlan) throw new SandboxError('--print-plan: use it with sandbox run; sandbox compile writes the plan to -o FILE');
  // Each launch has its own environment and parent: those are not frozen into the file.
  // the join key of the profile (`pmix-${PMIX_NAMESPACE}`) is the launch's: the stage resolves it (record join-key)
  const joinDir = r.spec.joinTemplate ? null : r.plan.joinDir;
  const plan: Plan = resolvedBinds({ ...r.plan, env: Object.entries(r.spec.env.set).map(([k, v]) => `${k}=${v}`), parentPid: 0, joinDir }, realpathOr, realpathOr(sandboxConfigDir(process.env)));
  const file = path.resolve(output);
  checkOutputOutsideBinds(plan, file, `${option} ${output}`, realpathOr);
  // the working directory (and $PMIX_SERVER_TMPDIR) of each launch, where nothing planned depended on this one's
  const planFile = path.join(realpathOr(path.dirname(file)), path.basename(file));
  const cwdVar = r.spec.cwdVar ?? (r.spec.cwd === undefined && plan.cwd === r.caller.cwd ? { name: 'CWD', value: r.caller.cwd } : null);
  const facts = launchFacts(r.caller, r.ownFiles, { planFile, compiledList: compiledPlansList(process.env) });
  const launch = launchRecords(plan, LAUNCH_VARIABLES, cwdVar, facts);
  for (const k of launch.kept) if (k.name === 'CWD') io.err(`sandbox: note: the plan runs in ${plan.cwd} only (${k.why}): compile another where it should run elsewhere`);
  const bytes = serializePlan(plan, compiledRecords(compiledExtras(r.spec, plan, r.profileFiles, launch.records)));
  const exec = path.join(path.dirname(stagePath()), 'sandbox-exec');
  const real = path.join(realpathOr(path.dirname(file)), path.basename(file));
  const other = listedPlanShowing(readCompiledPlans(process.env), real);
  if (other) throw new SandboxError(`${option} ${output}: ${real} is inside ${other.dir}, which the compiled plan ${other.plan} binds read-write: its program could rewrite this plan; write it elsewhere`);
  // listed first: a plan on the list is protected in every later sandbox, even if writing it fails half way
  const rw = plan.mounts.flatMap((m) => (m.op === 'bind' && !m.readOnly ? [m.src] : []));
  const whole = Buffer.concat([Buffer.from(`#!${exec}\n`), bytes]);
  recordCompiledPlan(process.env, real, process.getuid ? process.getuid() : 0, rw, planDigest(whole));
  try {
    fs.writeFileSync(file, whole, { mode: 0o755 });
    fs.chmodSync(file, 0o755);
  } catch (e) {
    throw SandboxError.wrap(`${option} ${output}`, e);
  }
  // absolute paths only, so the command runs as printed from any directory, with or without sandbox-exec on PATH
  const [f, x] = [shellWord(file), shellWord(exec)];
  const how = plan.argv.length > 0 ? `${f} (or ${x} ${f}); ${f} -- COMMAND runs another command` : `${f} -- COMMAND (or ${x} ${f} -- COMMAND)`;
  io.err(`sandbox: wrote ${file} (${bytes.length} bytes); run it with: ${how}`);
  return 0;
}
