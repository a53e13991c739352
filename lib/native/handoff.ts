// The hand-off: the plan goes into a memfd, and this process becomes the C stage by execve.
// Node is multithreaded, so it can't unshare a user namespace itself; after execve the pid the user
// started is the monitor, and Node's memory is gone.
import * as fs from 'fs';
import * as os from 'os';
import { stagePath } from '../paths';
import { SandboxError } from '../errors';
import { libc } from './libc';
import { debugEnabled } from '../debug';

const F_SETFD = 2;


function errnoName(n: number): string {
  const e = Object.entries(os.constants.errno).find(([, v]) => v === n);
  return e ? e[0] : `errno ${n}`;
}

/** Never returns: on success this process is the C stage. title: its argv[0], what `ps` shows for the monitor. */
export function execStage(planBytes: Buffer, keepFds: number[], title?: string): never {
  const stage = stagePath();
  try {
    fs.accessSync(stage, fs.constants.X_OK);
  } catch {
    throw new SandboxError(`the C stage ${stage} is missing or not executable (run npm install)`);
  }
  const c = libc();
  const fd = c.memfd_create('sandbox-plan', 0); // no MFD_CLOEXEC: the stage inherits it
  if (fd < 0) throw new SandboxError(`memfd_create: ${errnoName(c.errno())}`);
  let off = 0;
  while (off < planBytes.length) off += fs.writeSync(fd, planBytes, off, planBytes.length - off, off);
  // Node marks 0-2 close-on-exec at start-up; the program needs them, and the kept descriptors too.
  for (const k of [0, 1, 2, ...keepFds]) {
    if (c.fcntl(k, F_SETFD, 0) < 0 && k > 2) throw new SandboxError(`descriptor ${k}: ${errnoName(c.errno())}`);
  }
  const env: (string | null)[] = [];
  if (debugEnabled()) env.push('SANDBOX_DEBUG=1');
  env.push(null);
  c.execve(stage, [title ?? stage, '--plan-fd', String(fd), null], env);
  throw new SandboxError(`execve ${stage}: ${errnoName(c.errno())}`);
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
  throw new SandboxError(`execve ${stage}: ${errnoName(c.errno())}`);
}
