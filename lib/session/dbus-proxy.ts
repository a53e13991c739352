// The session bus through xdg-dbus-proxy: started before the hand-off to the C stage, it listens on a
// socket in a private directory and filters by the profile's dbus rules; the sandbox gets that socket
// alone. Lifetime: the proxy's --fd pipe has its read end kept by the monitor (and the program, as a
// kept descriptor); when the sandbox is gone the pipe hangs up and the proxy exits. The launcher execs
// into the C stage, so no Node code runs afterwards: each directory is named with the monitor's pid
// (this pid) and the next start removes directories whose pid is gone.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { SandboxError, describeError } from '../errors';
import type { MountOp, Plan } from '../plan/types';
import { startReadyHelper } from './helper-process';
import { dbusProxyArgs, sessionBusPath, type DbusSpec } from './dbus-rules';
import { systemProgram } from '../host/system-program';

export interface DbusProxyResult {
  mounts: MountOp[];
  env: Record<string, string>;
  keepFds: number[];
  /** The running proxy (null for a described one, or when an optional bus is missing). */
  pid: number | null;
  /** The proxy's private directory on the host. */
  dir: string | null;
}

export interface DbusProxyOptions {
  /** The monitor's pid: this process's, since the launcher execs the C stage. Names the private directory. */
  pid: number;
  uid: number;
  /** How long to wait for the proxy's readiness byte. */
  timeoutMs?: number;
  /** The proxy program; default: xdg-dbus-proxy in the system's directories (never through PATH: lib/host/system-program.ts). */
  program?: string;
}

function nothing(): DbusProxyResult {
  return { mounts: [], env: {}, keepFds: [], pid: null, dir: null };
}

/** Where the socket is bound inside: $XDG_RUNTIME_DIR/bus (where clients look by default), else the host path. */
function insidePath(env: Record<string, string | undefined>, hostSocket: string): string {
  const rt = env.XDG_RUNTIME_DIR;
  return rt && path.isAbsolute(rt) ? path.posix.join(path.posix.normalize(rt), 'bus') : hostSocket;
}

function result(spec: DbusSpec, env: Record<string, string | undefined>, hostSocket: string, fds: number[], pid: number | null, dir: string | null): DbusProxyResult {
  const dst = insidePath(env, hostSocket);
  return {
    mounts: [{ op: 'bind', src: hostSocket, dst, readOnly: false, devices: false, optional: false, origin: spec.origin }],
    env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${dst}` },
    keepFds: fds,
    pid,
    dir,
  };
}

/** The upstream bus, or null when it is missing and the section is optional. */
function upstreamBus(spec: DbusSpec, env: Record<string, string | undefined>): { path: string; address: string } | null {
  const bus = sessionBusPath(env);
  let missing = 'missing' in bus ? bus.missing : null;
  if (!missing && 'path' in bus) {
    try {
      if (!fs.statSync(bus.path).isSocket()) missing = `${bus.path} is not a socket`;
    } catch (e) {
      missing = `${bus.path}: ${describeError(e)}`;
    }
  }
  if (!missing) return bus as { path: string; address: string };
  if (spec.optional) return null;
  throw new SandboxError(`${spec.origin}: found no session bus on this host (${missing}), expected one for the dbus section; write optional: true in dbus to run without it`);
}

/** The base directory for proxy sockets: $XDG_RUNTIME_DIR/sandbox, else /tmp/sandbox-UID; ours, 0700, no symlink. */
export function proxyBaseDir(env: Record<string, string | undefined>, uid: number, what = 'dbus proxy'): string {
  const rt = env.XDG_RUNTIME_DIR;
  const base = rt && path.isAbsolute(rt) ? path.join(rt, 'sandbox') : path.join('/tmp', `sandbox-${uid}`);
  try {
    fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw SandboxError.wrap(`${what}: mkdir ${base}`, e);
  }
  const st = fs.lstatSync(base);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new SandboxError(`${what}: ${base} is not a directory owned by uid ${uid} with mode 0700; remove it or set XDG_RUNTIME_DIR`);
  }
  return base;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes proxy directories (D-Bus and PulseAudio) whose monitor is gone (the sandbox ended: its proxy has exited too). */
export function removeStaleProxyDirs(base: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(base);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = /^(?:dbus|pulse)-(\d+)-[0-9a-f]+$/.exec(n);
    if (!m || pidAlive(Number(m[1]))) continue;
    try {
      fs.rmSync(path.join(base, n), { recursive: true, force: true });
      removed.push(n);
    } catch {
      // another launcher removing it at the same time, or not ours: the next run tries again
    }
  }
  return removed;
}

/** What startDbusProxy would give, without starting anything (for --print-plan). */
export function describeDbusProxy(spec: DbusSpec, env: Record<string, string | undefined>, opts: DbusProxyOptions): DbusProxyResult {
  const bus = upstreamBus(spec, env);
  if (!bus) return nothing();
  const rt = env.XDG_RUNTIME_DIR;
  const base = rt && path.isAbsolute(rt) ? path.join(rt, 'sandbox') : path.join('/tmp', `sandbox-${opts.uid}`);
  return result(spec, env, path.join(base, `dbus-${opts.pid}-XXXXXX`, 'bus'), [], null, null);
}

/**
 * Starts xdg-dbus-proxy for the session bus with the section's rules and waits until it listens.
 * Returns what to merge into the spec: the socket's bind, DBUS_SESSION_BUS_ADDRESS, and the pipe's read
 * end to keep open for as long as the sandbox lives.
 */
export function startDbusProxy(spec: DbusSpec, env: Record<string, string | undefined>, opts: DbusProxyOptions): DbusProxyResult {
  const bus = upstreamBus(spec, env);
  if (!bus) return nothing();
  const program = opts.program ?? systemProgram('xdg-dbus-proxy');
  if (!program) throw new SandboxError(`${spec.origin}: found no xdg-dbus-proxy in /usr/bin, expected it for the dbus section (Debian package xdg-dbus-proxy)`);
  const base = proxyBaseDir(env, opts.uid);
  removeStaleProxyDirs(base);
  const dir = path.join(base, `dbus-${opts.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(dir, { mode: 0o700 });
  const socket = path.join(dir, 'bus');

  const { memfdWith } = require('../native/memfd') as typeof import('../native/memfd');
  const text = Buffer.from(dbusProxyArgs(spec, bus.address, socket).map((a) => a + '\0').join(''));
  // close-on-exec: spawn hands the proxy its own copy as descriptor 4
  const argsFd = memfdWith('sandbox-dbus-proxy-args', text, { cloexec: true });
  const { pid, readEnd } = startReadyHelper({
    label: 'dbus proxy', program, args: ['--fd=3', '--args=4'], extraFds: [argsFd],
    env: { PATH: env.PATH ?? '/usr/bin:/bin' }, dir, socket, timeoutMs: opts.timeoutMs,
  });
  return result(spec, env, socket, [readEnd], pid, dir);
}

/** For --print-plan: a described proxy's bind (its source doesn't exist yet, so it can't pass buildPlan) and variable. */
export function addToPlan(plan: Plan, r: DbusProxyResult): void {
  plan.mounts.push(...r.mounts);
  const names = Object.keys(r.env);
  plan.env = [...plan.env.filter((e) => !names.includes(e.slice(0, e.indexOf('=')))), ...Object.entries(r.env).map(([k, v]) => `${k}=${v}`)];
}
