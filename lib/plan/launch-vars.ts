// Which of a plan's paths a kept (plan cache) or compiled plan takes from each launch rather than from the launch it
// was made in: the binds the profile wrote as ${CWD}... or ${PMIX_SERVER_TMPDIR}... (marked by lib/profile/build.ts)
// and a cwd written so. A plan may take another value only where nothing it decided depended on this one: the
// value is a plain directory (no symlink on it), no other path of the plan begins with it, and it stands to every
// path that decided something (the home, the shared /tmp, sandbox's own files and state) as the launch's value
// must stand too, which the stage checks (launch-guard records, native/launch-paths.c). Else the plan keeps the value
// it was made with: a compiled plan then runs there only, a kept plan is used only where the value is the same.
import { beginsWith } from './build';
import type { Plan } from './types';

/** Variables whose value is a directory that changes from launch to launch while the plan stays the same: the working
 * directory (a compiled plan launched in another job's directory) and the PMIx server's session directory (each srun
 * step has its own). lib/profile/build.ts marks a bind whose path begins with one. */
export const LAUNCH_VARIABLES = ['CWD', 'PMIX_SERVER_TMPDIR'];

export type Relation = 'e' | 'b' | 'a' | 'd';

/** How x stands to s: the same, x strictly below s, s strictly below x, neither (native/launch-paths.c alike). */
export function relation(x: string, s: string): Relation {
  if (x === s) return 'e';
  if (beginsWith(x, s)) return 'b';
  if (beginsWith(s, x)) return 'a';
  return 'd';
}

/** The shared directories a variable must not name (lib/profile/build.ts refuses them), and the root: with the home,
 * the value may be inside them or not, but neither one of them nor above one (guard `n`). Of sandbox's own files and
 * state it must be neither inside nor above (guard `d`: a bind inside the state is made read-only). */
const NEUTRAL = ['/', '/tmp', '/var/tmp', '/dev/shm'];

export interface LaunchFacts {
  /** the real path of p, or null when p is missing or not a directory */
  realDir: (p: string) => string | null;
  /** the home as the environment gives it, and its real path */
  homes: string[];
  /** sandbox's own files and state directories: the value may be below none and above none of them */
  own: string[];
  /** sandbox compile: the plan file (as own) and the list of compiled plans (none may be under the launch's value) */
  planFile?: string;
  compiledList?: string;
}

/** The paths a value must stand to as the planned one did, each once: `n` (neither it nor above it) the shared
 * directories and the home, `d` (neither inside nor above) sandbox's own files, state and the plan file. */
function guardPaths(facts: LaunchFacts): { relation: 'n' | 'd'; path: string }[] {
  const out = new Map<string, 'n' | 'd'>();
  for (const p of [...NEUTRAL, ...facts.homes]) if (!out.has(p)) out.set(p, 'n');
  for (const p of [...facts.own, ...(facts.planFile ? [facts.planFile] : [])]) if (!out.has(p)) out.set(p, 'd');
  return [...out].map(([path, relation]) => ({ relation, path }));
}

export interface LaunchRecords {
  vars: { origin: string; name: string; planned: string }[];
  guards: { name: string; relation: 'n' | 'd' | 'L'; path: string }[];
  ops: { name: string; index: number; dst: boolean }[];
  cwd: string | null;
}

/** The launch records for names (the variables this kind of plan may take at launch), and why the others stay as
 * planned. cwdVar: the variable the plan's cwd begins with, if any. */
export function launchRecords(plan: Plan, names: string[], cwdVar: { name: string; value: string } | null, facts: LaunchFacts): { records: LaunchRecords; kept: { name: string; why: string }[] } {
  const records: LaunchRecords = { vars: [], guards: [], ops: [], cwd: null };
  const kept: { name: string; why: string }[] = [];
  for (const name of names) {
    const marked = plan.mounts.flatMap((m, index) => (m.op === 'bind' && m.launchVar?.name === name ? [{ m, index }] : []));
    const cwdMarked = cwdVar?.name === name;
    if (!marked.length && !cwdMarked) continue;
    const values = new Set(marked.map(({ m }) => m.launchVar!.value));
    if (cwdMarked) values.add(cwdVar!.value);
    const why = fixedBecause(plan, name, values, marked.map((x) => x.index), cwdMarked, facts);
    if (why) {
      kept.push({ name, why });
      continue;
    }
    const value = [...values][0];
    const origin = marked[0]?.m.origin ?? 'cwd';
    records.vars.push({ origin, name, planned: value });
    for (const { m, index } of marked) records.ops.push({ name, index, dst: !!m.launchVar!.dst && beginsWith(m.dst, value) });
    if (cwdMarked) records.cwd = name;
    if (!marked.length) continue; // the cwd alone decided nothing else
    for (const g of guardPaths(facts)) records.guards.push({ name, ...g });
    if (facts.compiledList) records.guards.push({ name, relation: 'L', path: facts.compiledList });
  }
  return { records, kept };
}

function fixedBecause(plan: Plan, name: string, values: Set<string>, indices: number[], cwdMarked: boolean, facts: LaunchFacts): string | null {
  if (values.size > 1) return `$${name} stands for more than one path`;
  const value = [...values][0];
  // the cwd alone: where the program starts, which the stage falls back from to / where it is not inside
  if (!indices.length) return null;
  if (value === '/') return 'it is /';
  if (facts.realDir(value) !== value) return `${value} is not a directory with no symlink on its path`;
  if (cwdMarked && !beginsWith(plan.cwd, value)) return 'the cwd does not begin with it';
  // every other path of the plan that begins with the value was decided for it (a cover made over a file in it)
  const others: string[] = [];
  let bad: string | null = null;
  plan.mounts.forEach((m, i) => {
    const mine = indices.includes(i) && m.op === 'bind';
    if (mine) {
      if (!beginsWith(m.src, value)) bad = m.src;
      if (!m.launchVar!.dst || !beginsWith(m.dst, value)) others.push(m.dst);
      return;
    }
    switch (m.op) {
      case 'bind': others.push(m.src, m.dst); break;
      case 'chmod': others.push(m.path); break;
      case 'symlink': others.push(m.dst, m.target); break;
      case 'overlay': others.push(m.dst, ...m.lower, ...(m.upper ? [m.upper] : []), ...(m.work ? [m.work] : [])); break;
      default: others.push(m.dst);
    }
  });
  if (bad !== null) return `${bad} does not begin with ${value}`;
  others.push(...plan.landlockPaths.map((l) => l.path));
  if (!cwdMarked) others.push(plan.cwd);
  const other = others.find((p) => beginsWith(p, value));
  if (other !== undefined) return `${other} is planned inside ${value}`;
  const env = plan.env.find((e) => e.includes(value));
  if (env) return `the environment names it (${env.split('=')[0]})`;
  for (const g of guardPaths(facts)) {
    const r = relation(value, g.path);
    if (g.relation === 'n' ? r === 'e' || r === 'a' : r !== 'd') return `it ${r === 'e' ? 'is' : r === 'a' ? 'holds' : 'is inside'} ${g.path}${g.relation === 'd' ? ", sandbox's own" : ''}`;
  }
  return null;
}
