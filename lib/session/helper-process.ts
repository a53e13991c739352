// Starting a helper that lives beside a sandbox (xdg-dbus-proxy, sandbox-pulse-proxy): it gets the write end
// of a pipe as descriptor 3, writes one byte there once it listens, and exits when the sandbox's end (the
// read end, kept by the monitor and the program) closes. Its own session, so a ^C meant for the program
// doesn't take the helper away under it.
import * as fs from 'fs';
import { spawn } from 'child_process';
import { SandboxError, describeError, errnoText } from '../errors';

const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
const F_SETFL = 4;

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

export interface ReadyHelper {
  /** What names it in errors ("dbus proxy"). */
  label: string;
  program: string;
  args: string[];
  /** Descriptors it gets from 4 on (closed here once it has them). */
  extraFds?: number[];
  env: Record<string, string>;
  /** Its private directory, removed when it fails; socket: where it listens, for the messages. */
  dir: string;
  socket: string;
  timeoutMs?: number;
}

/** Starts the helper and waits for its byte. Returns its pid and the pipe's read end (blocking again). */
export function startReadyHelper(h: ReadyHelper): { pid: number; readEnd: number } {
  const { libc } = require('../native/libc') as typeof import('../native/libc');
  const c = libc();
  const pipe = c.pipe2(O_CLOEXEC);
  if (!pipe) throw SandboxError.errno(`${h.label}: pipe2`, c.errno());
  const [readEnd, writeEnd] = pipe;
  const extra = h.extraFds ?? [];
  const child = spawn(h.program, h.args, { stdio: ['ignore', 'ignore', 'inherit', writeEnd, ...extra], detached: true, env: h.env });
  child.unref();
  fs.closeSync(writeEnd);
  for (const fd of extra) fs.closeSync(fd);
  const fail = (why: string): never => {
    if (child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.closeSync(readEnd);
    fs.rmSync(h.dir, { recursive: true, force: true });
    throw new SandboxError(`${h.label}: ${h.program} ${why}`);
  };
  if (!child.pid) fail('could not be started');
  if (c.fcntl(readEnd, F_SETFL, O_NONBLOCK) < 0) fail(`(readiness pipe: ${errnoText(c.errno())})`);
  const timeout = h.timeoutMs ?? 5000;
  const deadline = Date.now() + timeout;
  const byte = Buffer.alloc(1);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(readEnd, byte, 0, 1, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') fail(`readiness pipe: ${describeError(e)}`);
      if (Date.now() > deadline) fail(`did not report listening on ${h.socket} within ${timeout} ms`);
      sleep(1);
      continue;
    }
    if (n === 0) fail(`exited before listening on ${h.socket} (its message is above)`);
    break;
  }
  c.fcntl(readEnd, F_SETFL, 0);
  return { pid: child.pid as number, readEnd };
}
