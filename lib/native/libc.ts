// The whole native surface of the TypeScript side: six libc functions through koffi.
// koffi's native module is loaded directly (its JavaScript layer costs ~5 ms of start-up);
// the plain `require('koffi')` is the fallback. A load error lists every place tried.
import * as fs from 'fs';
import * as path from 'path';
import { SandboxError } from '../errors';

/** The part of koffi's API we use. */
interface KoffiFunction { (...args: unknown[]): number }
interface KoffiLib { func(decl: string): KoffiFunction }
interface Koffi { load(name: string): KoffiLib; errno(): number }

export interface Libc {
  memfd_create(name: string, flags: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  execve(file: string, argv: (string | null)[], envp: (string | null)[]): number;
  /** [read end, write end], or null with errno set; Node has no pipe() of its own (helpers' readiness pipes). */
  pipe2(flags: number): [number, number] | null;
  /** The registry of running sandboxes is claimed and pruned under a lock on its directory (lib/running). */
  flock(fd: number, op: number): number;
  errno(): number;
}

function loadKoffi(): Koffi {
  const tried: string[] = [];
  // the prebuilt package carries koffi's module for its CPU (scripts/prebuilt.js): no koffi install needed
  const { prebuiltDir } = require('../paths') as typeof import('../paths');
  const prebuilt = prebuiltDir();
  if (prebuilt && fs.existsSync(path.join(prebuilt, 'koffi.node'))) {
    try {
      const m = { exports: {} as Koffi };
      process.dlopen(m, path.join(prebuilt, 'koffi.node'));
      return m.exports;
    } catch (e) {
      tried.push(`${path.join(prebuilt, 'koffi.node')} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  const arch = process.arch;
  for (const pkg of [`@koromix/koffi-linux-${arch}`]) {
    for (const sub of ['linux_' + arch, 'musl_' + arch]) {
      let file: string;
      try {
        file = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), sub, 'koffi.node');
      } catch {
        tried.push(`${pkg} (not installed)`);
        break;
      }
      try {
        const m = { exports: {} as Koffi };
        process.dlopen(m, file);
        return m.exports;
      } catch (e) {
        tried.push(`${file} (${(e as Error).message.split('\n')[0]})`);
      }
    }
  }
  try {
    return require('koffi') as Koffi;
  } catch (e) {
    tried.push(`koffi (${(e as Error).message.split('\n')[0]})`);
  }
  throw new SandboxError(`cannot load koffi; tried: ${tried.join('; ')} (run npm install)`);
}

let cached: Libc | undefined;

export function libc(): Libc {
  if (cached) return cached;
  const k = loadKoffi();
  const lib = k.load('libc.so.6');
  const memfd = lib.func('int memfd_create(const char *name, unsigned int flags)');
  const fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
  const execve = lib.func('int execve(const char *path, const char **argv, const char **envp)');
  const pipe2 = lib.func('int pipe2(_Out_ int *fds, int flags)');
  const flock = lib.func('int flock(int fd, int op)');
  cached = {
    memfd_create: (name, flags) => memfd(name, flags),
    fcntl: (fd, cmd, arg) => fcntl(fd, cmd, 'int', arg),
    execve: (file, argv, envp) => execve(file, argv, envp),
    pipe2: (flags) => {
      const fds = new Int32Array(2);
      return pipe2(fds, flags) < 0 ? null : [fds[0], fds[1]];
    },
    flock: (fd, op) => flock(fd, op),
    errno: () => k.errno(),
  };
  return cached;
}
