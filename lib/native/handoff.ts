// The hand-off: the plan goes into a memfd, and this process becomes the C stage by execve.
// Node is multithreaded, so it can't unshare a user namespace itself; after execve the pid the user
// started is the monitor, and Node's memory is gone.
import * as fs from 'fs';
import { nativeMissingHint, stagePath } from '../paths';
import { SandboxError } from '../errors';
import { libc } from './libc';
import { memfdWith } from './memfd';
import { debugEnabled } from '../debug';

const F_SETFD = 2;

/** Never returns: on success this process is the C stage. title: its argv[0], what `ps` shows for the monitor. keep: a
 * plan cache entry for the monitor to write (lib/cli/plan-cache-run.ts), handed over on a descriptor of its own. */
export function execStage(planBytes: Buffer, keepFds: number[], opts: { withEnvironment?: boolean; title?: string; keep?: Buffer } = {}): never {
  const stage = stagePath();
  try {
    fs.accessSync(stage, fs.constants.X_OK);
  } catch {
    throw new SandboxError(`the C stage ${stage} is missing or not executable: ${nativeMissingHint()}`);
  }
  const c = libc();
  const fd = memfdWith('sandbox-plan', planBytes); // not close-on-exec: the stage inherits it
  // Node marks 0-2 close-on-exec at start-up; the program needs them, and the kept descriptors too.
  for (const k of [0, 1, 2, ...keepFds]) {
    if (c.fcntl(k, F_SETFD, 0) < 0 && k > 2) throw SandboxError.errno(`descriptor ${k}`, c.errno());
  }
  const env: (string | null)[] = [];
  // a plan with environment rules (env-launch: a kept one) builds the program's from the stage's own
  if (opts.withEnvironment) {
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env.push(`${k}=${v}`);
  } else if (debugEnabled()) env.push('SANDBOX_DEBUG=1');
  env.push(null);
  const keep = opts.keep ? ['--keep-fd', String(memfdWith('sandbox-keep', opts.keep))] : [];
  c.execve(stage, [opts.title ?? stage, '--plan-fd', String(fd), ...keep, null], env);
  throw SandboxError.errno(`execve ${stage}`, c.errno());
}

/** Never returns: this process becomes the C stage in another of its modes (`--enter`), with stdio kept. */
export function execStageMode(args: string[]): never {
  const stage = stagePath();
  const c = libc();
  for (const k of [0, 1, 2]) c.fcntl(k, F_SETFD, 0);
  const env: (string | null)[] = [];
  if (debugEnabled()) env.push('SANDBOX_DEBUG=1');
  env.push(null);
  c.execve(stage, [stage, ...args, null], env);
  throw SandboxError.errno(`execve ${stage}`, c.errno());
}
