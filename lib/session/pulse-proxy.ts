// The host's PulseAudio server through native/pulse-proxy.c: a sandbox never gets the server's own socket,
// whose module loader runs code outside the sandbox on request (`pactl load-module module-ladspa-sink
// plugin=/path/x.so`). Started before the hand-off to the C stage like the D-Bus proxy (lib/session/
// dbus-proxy.ts): it listens in a private 0700 directory named by the monitor's pid, reports readiness by
// one byte on a pipe, and exits when the sandbox's end of that pipe closes; the next start removes the
// directories of monitors that are gone.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { SandboxError } from '../errors';
import { stagePath } from '../paths';
import { debugEnabled } from '../debug';
import type { MountOp, Plan } from '../plan/types';
import { proxyBaseDir, removeStaleProxyDirs } from './dbus-proxy';
import { pulseProxyArgs, type PulseSpec } from './pulse-rules';
import { startReadyHelper } from './helper-process';

export interface PulseProxyResult {
  mounts: MountOp[];
  env: Record<string, string>;
  keepFds: number[];
  pid: number | null;
  dir: string | null;
}

export interface PulseProxyOptions {
  /** The monitor's pid (this process's: the launcher execs the C stage); names the private directory. */
  pid: number;
  uid: number;
  timeoutMs?: number;
  /** Default: sandbox-pulse-proxy beside the stage. */
  program?: string;
}

export function pulseProxyProgram(): string {
  return path.join(path.dirname(stagePath()), 'sandbox-pulse-proxy');
}

function result(spec: PulseSpec, socket: string, fds: number[], pid: number | null, dir: string | null): PulseProxyResult {
  return {
    mounts: [{ op: 'bind', src: socket, dst: spec.inside, readOnly: false, devices: false, optional: false, origin: spec.origin }],
    env: spec.env,
    keepFds: fds,
    pid,
    dir,
  };
}

/** What startPulseProxy would give, starting nothing (for --print-plan). */
export function describePulseProxy(spec: PulseSpec, env: Record<string, string | undefined>, opts: PulseProxyOptions): PulseProxyResult {
  const rt = env.XDG_RUNTIME_DIR;
  const base = rt && path.isAbsolute(rt) ? path.join(rt, 'sandbox') : path.join('/tmp', `sandbox-${opts.uid}`);
  return result(spec, path.join(base, `pulse-${opts.pid}-XXXXXX`, 'native'), [], null, null);
}

/**
 * Starts the proxy in front of spec.upstream and waits until it listens. Returns what to merge into the
 * spec: the proxy's socket bound at spec.inside, PULSE_SERVER, and the pipe's read end to keep open for
 * as long as the sandbox lives.
 */
export function startPulseProxy(spec: PulseSpec, env: Record<string, string | undefined>, opts: PulseProxyOptions): PulseProxyResult {
  const program = opts.program ?? pulseProxyProgram();
  try {
    fs.accessSync(program, fs.constants.X_OK);
  } catch {
    throw new SandboxError(`${spec.origin}: found no ${program}, expected the PulseAudio proxy built with sandbox (npm run build) for sockets "pulseaudio"`);
  }
  const base = proxyBaseDir(env, opts.uid, 'pulse proxy');
  removeStaleProxyDirs(base);
  const dir = path.join(base, `pulse-${opts.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(dir, { mode: 0o700 });
  const socket = path.join(dir, 'native');

  const args = pulseProxyArgs({ listen: socket, upstream: spec.upstream, fd: 3, verbose: debugEnabled() });
  const { pid, readEnd } = startReadyHelper({ label: 'pulse proxy', program, args, env: {}, dir, socket, timeoutMs: opts.timeoutMs });
  return result(spec, socket, [readEnd], pid, dir);
}

/** For --print-plan: the described proxy's bind and variables. */
export function addPulseToPlan(plan: Plan, r: PulseProxyResult): void {
  plan.mounts.push(...r.mounts);
  const names = Object.keys(r.env);
  plan.env = [...plan.env.filter((e) => !names.includes(e.slice(0, e.indexOf('=')))), ...Object.entries(r.env).map(([k, v]) => `${k}=${v}`)];
}
