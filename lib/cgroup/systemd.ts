// Asking a systemd user manager for a transient scope with Delegate=yes, over D-Bus through
// busctl (the way container runtimes get a delegated cgroup when the caller's isn't).
// Not testable end to end on the build machines (no user manager); the argument building is.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SandboxError } from '../errors';

/** busctl's argument list for Manager.StartTransientUnit(name, mode, properties, aux). */
export function transientScopeArgs(unit: string, pids: number[], description: string): string[] {
  if (!/^[A-Za-z0-9:_.\\-]+\.scope$/.test(unit)) throw new SandboxError(`invalid scope unit name ${unit}`);
  const props: string[][] = [
    ['Description', 's', description],
    ['PIDs', 'au', String(pids.length), ...pids.map(String)],
    ['Delegate', 'b', 'true'],
    // Removed once it stops, even after a failure, so scopes of crashed sandboxes don't pile up.
    ['CollectMode', 's', 'inactive-or-failed'],
  ];
  return [
    '--user', 'call', '--quiet',
    'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager',
    'StartTransientUnit', 'ssa(sv)a(sa(sv))',
    unit, 'fail',
    String(props.length), ...props.flat(),
    '0',
  ];
}

export type CommandRunner = (file: string, args: string[]) => void;

/**
 * A program by name from the absolute PATH entries only: busctl runs outside any sandbox, and a relative entry
 * (./node_modules/.bin, an empty one) would find one planted in a working directory a sandbox could write.
 */
export function absoluteProgram(name: string, pathVar: string | undefined): string {
  if (name.includes('/')) return name;
  for (const d of (pathVar ?? '').split(':').filter((e) => e.startsWith('/'))) {
    const p = path.posix.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return path.posix.join('/usr/bin', name);
}

const runBusctl: CommandRunner = (file, args) => {
  execFileSync(absoluteProgram(file, process.env.PATH), args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10000 });
};

/** Start the scope holding `pids`; the caller then waits until /proc/self/cgroup shows it. */
export function startTransientScope(unit: string, pids: number[], run: CommandRunner = runBusctl): void {
  try {
    run('busctl', transientScopeArgs(unit, pids, `sandbox ${unit.replace(/\.scope$/, '')}`));
  } catch (e) {
    const err = e as { stderr?: Buffer | string; message?: string };
    const detail = (err.stderr ? String(err.stderr) : err.message ?? String(e)).trim().split('\n')[0];
    throw new SandboxError(`systemd user manager: StartTransientUnit ${unit}: ${detail}`);
  }
}
