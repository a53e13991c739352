// How `sandbox doctor` looks at the host: every file read, access check and probe goes through HostReader,
// so the diagnosis can be tested against fake /proc trees. realHostReader() is the host itself, seen as the
// user who runs sandbox (access(2) checks use the real uid, which is what the stage will run as).
import { stagePath } from '../paths';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { systemProgram } from './system-program';
import type { CgroupHost } from '../cgroup/host';

/** The sandbox-probe's answers: key=value lines, e.g. {landlock_abi: '7', clone3: 'ok', userns: 'EPERM'}. */
export type ProbeAnswers = Record<string, string>;

export interface HostReader {
  /** The file's text, or null when it is missing or unreadable. */
  readFile(file: string): string | null;
  /** Whether the caller may write the file or create entries in the directory. */
  writable(file: string): boolean;
  /** Whether the file exists and the caller may execute it. */
  executable(file: string): boolean;
  /** The program's full path on PATH, or null. */
  which(program: string): string | null;
  /** Runs native/build/sandbox-probe; null when it is not built. */
  probe(): ProbeAnswers | null;
  /** Runs `unshare -Ur true`; null when unshare is not installed. */
  unshareProbe(): { ok: boolean; detail: string } | null;
  uid: number;
  gid: number;
  /** Where the C stage is (an AppArmor profile must name this path). */
  stagePath: string;
  /** The cgroup facts `sandbox run` decides from (lib/cgroup's one discoverer), so doctor can't disagree with it. */
  cgroup(): CgroupHost;
}

const NATIVE_BUILD = path.dirname(stagePath());

export function parseProbeOutput(text: string): ProbeAnswers {
  const out: ProbeAnswers = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

export function realHostReader(): HostReader {
  // the system's directories, not PATH: what is found here is run outside (lib/host/system-program.ts)
  const which = (program: string): string | null => systemProgram(program);
  const executable = (file: string): boolean => {
    try { fs.accessSync(file, fs.constants.X_OK); return fs.statSync(file).isFile(); } catch { return false; }
  };
  return {
    readFile(file) {
      try { return fs.readFileSync(file, 'utf8'); } catch { return null; }
    },
    writable(file) {
      try { fs.accessSync(file, fs.constants.W_OK); return true; } catch { return false; }
    },
    executable,
    which,
    probe() {
      const bin = path.join(NATIVE_BUILD, 'sandbox-probe');
      if (!executable(bin)) return null;
      const r = spawnSync(bin, [], { encoding: 'utf8', timeout: 10000, env: { PATH: '/usr/bin:/bin' } });
      if (r.error || r.status !== 0) return null;
      return parseProbeOutput(r.stdout);
    },
    unshareProbe() {
      const bin = which('unshare');
      if (!bin) return null;
      const r = spawnSync(bin, ['-Ur', 'true'], { encoding: 'utf8', timeout: 10000 });
      if (r.error) return { ok: false, detail: r.error.message };
      return { ok: r.status === 0, detail: (r.stderr || '').trim().split('\n')[0] ?? '' };
    },
    uid: process.getuid ? process.getuid() : 0,
    gid: process.getgid ? process.getgid() : 0,
    stagePath: path.join(NATIVE_BUILD, 'sandbox-stage'),
    cgroup: () => (require('../cgroup/host') as typeof import('../cgroup/host')).readCgroupHost(),
  };
}
