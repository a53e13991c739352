// Carrying out a CgroupSetup: remove stale leaves, move the caller out of the way of the
// no-internal-processes rule, enable the controllers, create the leaf and write its limits.
// The monitor later places the program in the leaf, reports limit hits and removes the leaf.
import * as path from 'node:path';
import { makeDebug } from '../debug';
import { SandboxError } from '../errors';
import type { CgroupPlan } from '../plan/types';
import { CgroupFs, realCgroupFs, writeCgroupFile, cgroupWriteError, describeFsError, errorCode } from './fsops';
import { readCgroupHost, CgroupHost, CgroupDir } from './host';
import type { CgroupSetup } from './plan';
import { startTransientScope, CommandRunner } from './systemd';

const debug = makeDebug('cgroup');

/** In a sandbox's own systemd scope, where the monitor goes. */
export const SCOPE_MONITOR_LEAF = 'monitor';

export interface CreateLeafOptions {
  ops?: CgroupFs;
  /** The launcher's pid (the monitor's to be). */
  pid?: number;
  /** For the systemd path: runs busctl. */
  run?: CommandRunner;
  /** For the systemd path: re-reads the host once the scope is asked for. */
  rereadHost?: () => CgroupHost;
  /** For the systemd path: how long to wait for the scope's start job and for the scope to hold us. */
  scopeWaitMs?: number;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Kill what is left in a leaf (cgroup.kill where the kernel has it) and remove it. Failures are only logged. */
export function removeLeaf(ops: CgroupFs, leaf: string): boolean {
  const kill = path.posix.join(leaf, 'cgroup.kill');
  if (ops.exists(kill)) {
    try { ops.writeFile(kill, '1'); } catch (e) { debug('write %s: %s', kill, describeFsError(e)); }
  }
  for (let i = 0; i < 20; i++) {
    try { ops.rmdir(leaf); return true; } catch (e) {
      if (errorCode(e) === 'ENOENT') return true;
      if (errorCode(e) !== 'EBUSY') { debug('rmdir %s: %s', leaf, describeFsError(e)); return false; }
      sleepMs(10); // killed processes take a moment to leave
    }
  }
  debug('rmdir %s: still busy', leaf);
  return false;
}

function mkdirOnce(ops: CgroupFs, dir: string, existingOk: boolean): void {
  try { ops.mkdir(dir); } catch (e) {
    if (existingOk && errorCode(e) === 'EEXIST') return;
    throw new SandboxError(`mkdir ${dir}: ${describeFsError(e)}`);
  }
}

/** Move every process of `from` into `to` (retried: a process may fork while we move). */
function moveAllProcesses(ops: CgroupFs, from: string, to: string): void {
  const procsFile = path.posix.join(to, 'cgroup.procs');
  for (let round = 0; round < 5; round++) {
    let pids: string[];
    try { pids = ops.readFile(path.posix.join(from, 'cgroup.procs')).split(/\s+/).filter(Boolean); } catch (e) {
      throw new SandboxError(`read ${path.posix.join(from, 'cgroup.procs')}: ${describeFsError(e)}`);
    }
    if (pids.length === 0) return;
    for (const pid of pids) {
      try { ops.writeFile(procsFile, pid); } catch (e) {
        if (errorCode(e) === 'ESRCH') continue; // exited meanwhile
        throw new SandboxError(`write ${procsFile}: ${describeFsError(e)} (moving pid ${pid} out of ${from})`);
      }
    }
  }
}

/** The systemd path: ask for the scope, wait until we are in it, and return it as the base. */
function enterScope(setup: CgroupSetup, opts: CreateLeafOptions, ops: CgroupFs, pid: number): CgroupDir {
  const unit = setup.scopeUnit!;
  startTransientScope(unit, [pid], { run: opts.run, timeoutMs: opts.scopeWaitMs });
  // the scope is ours: no need to ask the manager about its unit again
  const reread = opts.rereadHost ?? ((): CgroupHost => readCgroupHost({ ops, pid, unitOfPid: () => null }));
  const deadline = Date.now() + (opts.scopeWaitMs ?? 3000);
  for (;;) {
    const host = reread();
    if (host.own && path.posix.basename(host.own.path) === unit) {
      if (!host.own.canWriteProcs || !host.own.canWriteSubtreeControl) {
        throw new SandboxError(`systemd scope ${host.own.path} is not writable by uid ${host.uid} (Delegate=yes was not honoured)`);
      }
      return host.own;
    }
    if (Date.now() > deadline) throw new SandboxError(`systemd user manager: scope ${unit} did not take pid ${pid} within ${opts.scopeWaitMs ?? 3000} ms`);
    sleepMs(20);
  }
}

/** Perform the setup; returns the final plan for the monitor. On failure nothing made here is left behind. */
export function createCgroupLeaf(setup: CgroupSetup, opts: CreateLeafOptions = {}): CgroupPlan {
  const ops = opts.ops ?? realCgroupFs;
  const pid = opts.pid ?? process.pid;
  let base = setup.base;
  let moveCallerTo = setup.moveCallerTo;
  let controllersEnabled: string[] | null = null;
  if (setup.via === 'systemd-scope') {
    const scope = enterScope(setup, opts, ops, pid);
    base = scope.path;
    // the scope holds the launcher, the monitor to be; it moves to a cgroup of its own beside the
    // leaf (no internal processes), inside the scope made for this sandbox alone
    moveCallerTo = scope.pids.length > 0 ? SCOPE_MONITOR_LEAF : null;
    const missing = setup.controllers.filter((c) => !scope.controllers.includes(c));
    if (missing.length) throw new SandboxError(`systemd scope ${scope.path} lacks the ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''}`);
    controllersEnabled = scope.subtreeControl;
  }
  if (!base) throw new SandboxError('cgroup setup has no parent cgroup');

  for (const stale of setup.staleLeaves) {
    debug('removing stale leaf %s', stale);
    removeLeaf(ops, stale);
  }

  if (moveCallerTo) {
    const to = path.posix.join(base, moveCallerTo);
    mkdirOnce(ops, to, true);
    moveAllProcesses(ops, base, to);
  }

  if (controllersEnabled === null) {
    try {
      controllersEnabled = ops.readFile(path.posix.join(base, 'cgroup.subtree_control')).split(/\s+/).filter(Boolean);
    } catch { controllersEnabled = []; }
  }
  const enable = setup.controllers.filter((c) => !controllersEnabled!.includes(c));
  if (enable.length) {
    const file = path.posix.join(base, 'cgroup.subtree_control');
    const value = enable.map((c) => `+${c}`).join(' ');
    // EBUSY: a process was born in base after we emptied it (the caller's shell forking); move it and retry.
    for (let attempt = 1; ; attempt++) {
      try { ops.writeFile(file, value); break; } catch (e) {
        if (errorCode(e) !== 'EBUSY' || !moveCallerTo || attempt >= 5) throw cgroupWriteError(file, e);
        moveAllProcesses(ops, base, path.posix.join(base, moveCallerTo!));
      }
    }
  }

  const leaf = path.posix.join(base, setup.leafName);
  mkdirOnce(ops, leaf, false);
  try {
    for (const w of setup.writes) {
      const file = path.posix.join(leaf, w.file);
      if (w.optional && !ops.exists(file)) { debug('%s absent, skipped', file); continue; }
      writeCgroupFile(ops, file, w.value);
    }
  } catch (e) {
    removeLeaf(ops, leaf);
    throw e;
  }
  debug('leaf %s ready', leaf);
  return { ...setup.plan, leaf };
}
