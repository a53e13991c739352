// The filesystem and process operations lib/cgroup needs, behind one interface so that the
// decisions can be tested on a fake tree; and the one helper every cgroup write goes through.
import * as fs from 'node:fs';
import { SandboxError, describeError } from '../errors';

export interface CgroupFs {
  readFile(path: string): string;
  writeFile(path: string, data: string): void;
  exists(path: string): boolean;
  /** access(2) W_OK for the calling user. */
  canWrite(path: string): boolean;
  /** Owner uid of a file or directory, or null when it can't be stat'ed. */
  ownerUid(path: string): number | null;
  /** Names of the subdirectories (child cgroups). */
  listDirs(path: string): string[];
  mkdir(path: string): void;
  rmdir(path: string): void;
  /** Whether a process with this pid exists (kill(pid, 0) succeeding or failing with EPERM). */
  pidAlive(pid: number): boolean;
}

export const realCgroupFs: CgroupFs = {
  readFile: (p) => fs.readFileSync(p, 'utf8'),
  // One write(2) per value: cgroup files take one value per write, and the error belongs to it.
  writeFile: (p, data) => {
    const fd = fs.openSync(p, 'w');
    try { fs.writeSync(fd, data); } finally { fs.closeSync(fd); }
  },
  exists: (p) => fs.existsSync(p),
  canWrite: (p) => {
    try { fs.accessSync(p, fs.constants.W_OK); return true; } catch { return false; }
  },
  ownerUid: (p) => {
    try { return fs.statSync(p).uid; } catch { return null; }
  },
  listDirs: (p) => {
    try { return fs.readdirSync(p, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name); } catch { return []; }
  },
  mkdir: (p) => fs.mkdirSync(p),
  rmdir: (p) => fs.rmdirSync(p),
  pidAlive: (pid) => {
    try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
  },
};

/** A Node fs error in the C library's words (lib/errors.ts). */
export function describeFsError(e: unknown): string {
  return describeError(e);
}

/** The one way a cgroup file is written: an error names the file ("write /sys/fs/cgroup/x/memory.max: Permission denied"). */
export function writeCgroupFile(ops: CgroupFs, file: string, value: string): void {
  try {
    ops.writeFile(file, value);
  } catch (e) {
    throw cgroupWriteError(file, e);
  }
}

export function cgroupWriteError(file: string, e: unknown): SandboxError {
  return new SandboxError(`write ${file}: ${describeFsError(e)}`);
}

export function errorCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}
