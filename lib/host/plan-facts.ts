// What lib/plan/build.ts needs to know of this host, gathered in one place just before the plan is built and
// handed in as data: the bind sources' stat results and real paths, sandbox's own files and state directories
// as they are, and the descriptors this process has open.
import * as fs from 'fs';
import * as path from 'path';
import { ownStateDirs, type CallerContext, type PlanHostFacts } from '../plan/build';
import type { SandboxSpec } from '../plan/spec';

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** Whether this user could make dir: its nearest existing ancestor is a directory this user may write into. */
function creatable(dir: string): boolean {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    let st: fs.Stats;
    try {
      st = fs.statSync(d);
    } catch {
      if (d === '/') return false;
      continue;
    }
    if (!st.isDirectory()) return false;
    try {
      fs.accessSync(d, fs.constants.W_OK | fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
}

/** protectedPaths: sandbox's own files (real paths), of which those that exist are kept. */
export function gatherPlanFacts(spec: SandboxSpec, caller: CallerContext, protectedPaths: string[]): PlanHostFacts {
  const facts: PlanHostFacts = { sources: {}, realSources: {}, protectedPaths: protectedPaths.filter((p) => fs.existsSync(p)), stateDirs: {}, openFds: [] };
  for (const m of spec.mounts) {
    if (m.op !== 'bind' || m.src in facts.sources) continue;
    try {
      fs.statSync(m.src);
      facts.sources[m.src] = null;
    } catch (e) {
      facts.sources[m.src] = (e as NodeJS.ErrnoException).code ?? 'ENOENT';
    }
    if (!m.readOnly) facts.realSources[m.src] = realpathOr(m.src);
  }
  for (const dir of ownStateDirs(caller)) {
    try {
      const st = fs.lstatSync(dir);
      facts.stateDirs[dir] = { isDir: st.isDirectory(), uid: st.uid };
    } catch {
      // missing: made and covered only where this user could make it, as a program running as this user could
      // (a home that is not there, a cache under /usr: nothing to cover, and a mkdir that would fail the launch)
      if (creatable(dir)) facts.stateDirs[dir] = null;
    }
  }
  try {
    // the listing's own descriptor is in it and closed after: look again at each
    const listed = fs.readdirSync('/proc/self/fd').map(Number).filter((n) => Number.isInteger(n) && n > 2);
    facts.openFds = listed.filter((n) => fs.existsSync(`/proc/self/fd/${n}`)).sort((a, b) => a - b);
  } catch {
    /* no /proc: no descriptor is passed on by name */
  }
  return facts;
}
