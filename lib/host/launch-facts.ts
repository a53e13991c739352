// What lib/plan/launch-vars.ts needs of the host to decide which paths a kept or compiled plan may take from each
// launch: real paths, the home, sandbox's own files and state directories.
import * as fs from 'fs';
import * as path from 'path';
import { ownStateDirs, type CallerContext } from '../plan/build';
import type { LaunchFacts } from '../plan/launch-vars';

function realDir(p: string): string | null {
  try {
    const real = fs.realpathSync(p);
    return fs.statSync(real).isDirectory() ? real : null;
  } catch {
    return null;
  }
}

export function launchFacts(caller: CallerContext, protectedPaths: string[], extra: { planFile?: string; compiledList?: string } = {}): LaunchFacts {
  const homes: string[] = [];
  const home = caller.env.HOME;
  if (home && path.isAbsolute(home)) {
    homes.push(path.normalize(home).replace(/(.)\/+$/, '$1'));
    const real = realDir(home);
    if (real && !homes.includes(real)) homes.push(real);
  }
  return { realDir, homes, own: [...protectedPaths, ...ownStateDirs(caller)], ...extra };
}
