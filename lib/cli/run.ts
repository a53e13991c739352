// `sandbox run`: options → spec (profile under the command line) → plan → hand-off to the C stage.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { nativeDir, packageRoot } from '../paths';
import { SandboxError, EXIT } from '../errors';
import { hiddenCommand, hiddenArguments, hiddenMessage, type HostLookup } from '../plan/hidden';
import { parseRunArgs, runHelp, type RunRequest } from './run-options';
import { parseBwrapArgs, bwrapHelp, bwrapSeccompPolicy, checkBwrapSources, finishBwrapPlan, BWRAP_VERSION } from './bwrap';
import { diagnostic } from './program';
import { buildPlan, type CallerContext } from '../plan/build';
import { LAUNCH_VARIABLES } from '../plan/launch-vars';
import { emptySpec, limitsOrigin, mergeSpecs, type SandboxSpec } from '../plan/spec';
import type { Plan } from '../plan/types';
import { makeDebug } from '../debug';
import { newSandboxId, planCgroup, type CgroupDecision } from '../cgroup/plan';
import { readCgroupHost } from '../cgroup/host';
import { ensureConfigDir, readCompiledPlans, sandboxConfigDir } from '../host/own-files';
import { cacheBase, copyEnv, unrecorded, type Recorder } from '../host/plan-cache';

const log = makeDebug('run');

export interface RunIo {
  out(text: string): void;
  err(text: string): void;
}

/** The parent pid as bin/sandbox read it before anything else: a parent that dies while Node starts is caught. */
let launchParent = 0;
export function setLaunchParent(pid: number): void {
  launchParent = pid;
}

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function callerContext(): CallerContext {
  return {
    parentPid: launchParent || process.ppid,
    uid: process.getuid ? process.getuid() : 0,
    gid: process.getgid ? process.getgid() : 0,
    cwd: process.cwd(),
    env: process.env,
  };
}

/** The profile (default: `default`) under the command line; --no-profile: the command line alone. */
interface ResolvedSpec {
  spec: SandboxSpec;
  profileFiles: string[];
  /** The profile's fileArgs: how --file-args profile binds the files. */
  fileArgs?: 'ro' | 'rw';
  /** One-line notes for stderr (a home bound read-only, a display left out). */
  notes?: string[];
}

function resolveSpec(profile: string | null | undefined, cli: SandboxSpec, command: string[], rootfs: RunRequest['rootfs']): ResolvedSpec {
  if (rootfs) {
    // The image brings its own system: the profile keeps only its non-system operations, the command line all.
    const { profileForRootfs, applyRootfs, imageHasDir } = require('../plan/rootfs') as typeof import('../plan/rootfs');
    const { imageReader } = require('../host/image') as typeof import('../host/image');
    const inner = resolveSpec(profile, emptySpec(), command, undefined);
    const c = callerContext();
    const dir = realpathOr(rootfs.dir);
    // a working directory the image lacks is made in the sandbox's own root, so the profile keeps its bind
    const lacksCwd = !imageHasDir(dir, c.cwd, imageReader.lstat);
    const merged = mergeSpecs(profileForRootfs(inner.spec, lacksCwd ? c.cwd : null), cli);
    return { spec: applyRootfs(merged, { ...rootfs, dir }, rootfsHost(merged)), profileFiles: inner.profileFiles, fileArgs: inner.fileArgs, notes: inner.notes };
  }
  if (profile === null) return { spec: cli, profileFiles: [] };
  const { loadProfile, hostProfileContext, ensureProfileDirs } = require('../profile/index') as typeof import('../profile/index');
  const loaded = loadProfile(profile ?? 'default', hostProfileContext(command[0]));
  log('profile %s from %s', loaded.name, loaded.file);
  ensureProfileDirs(loaded);
  const fileArgs = loaded.resolved.doc.fileArgs?.value;
  return { spec: mergeSpecs(loaded.spec, cli), profileFiles: loaded.resolved.chain, notes: loaded.notes, ...(fileArgs ? { fileArgs } : {}) };
}

/** What --rootfs is given of this host: the image reader, memfds for file contents, the NVIDIA driver when bound. */
function rootfsHost(spec: SandboxSpec): import('../plan/rootfs').RootfsHost {
  const { imageReader } = require('../host/image') as typeof import('../host/image');
  const { inheritedMemfd } = require('../native/memfd') as typeof import('../native/memfd');
  const c = callerContext();
  const nvidia = (spec.devices ?? []).includes('nvidia') ? (require('../host/gpu') as typeof import('../host/gpu')).discoverNvidia({ env: c.env }) : null;
  return { ...imageReader, dataFd: inheritedMemfd, nvidia, uid: spec.uid ?? c.uid, gid: spec.gid ?? c.gid, env: c.env };
}

/**
 * With no --profile: the profile made for the command (its `programs` names the command's base name), said in
 * one line, else default. --profile and --no-profile choose explicitly and nothing is said.
 */
function chooseProfile(req: RunRequest, io: RunIo): string | null | undefined {
  if (req.profile !== undefined || req.command.length === 0) return req.profile;
  const { profileForProgram, hostProfileContext } = require('../profile/index') as typeof import('../profile/index');
  const found = profileForProgram(req.command[0], hostProfileContext(req.command[0]));
  if (!found) return undefined;
  io.err(`sandbox: using profile ${found.name} (made for ${found.program}); --profile default to use the default`);
  return found.name;
}

/** The command with its file arguments bound alone (--file-args), and the mounts that does. */
function forwardFiles(req: RunRequest, resolved: ResolvedSpec): { command: string[]; spec: SandboxSpec } {
  if (!req.fileArgs) return { command: req.command, spec: resolved.spec };
  const { forwardFileArgs } = require('../plan/file-args') as typeof import('../plan/file-args');
  const mode = req.fileArgs.mode === 'profile' ? resolved.fileArgs ?? 'ro' : req.fileArgs.mode;
  const host = {
    cwd: process.cwd(),
    kind: (p: string) => {
      try {
        const st = fs.statSync(p);
        return st.isFile() ? ('file' as const) : st.isDirectory() ? ('directory' as const) : ('other' as const);
      } catch {
        return null;
      }
    },
    realpath: (p: string) => fs.realpathSync(p),
    protectedPaths: ownFiles(),
  };
  const r = forwardFileArgs(req.command, mode, host, req.fileArgs.origin);
  const top = emptySpec();
  top.mounts = r.mounts;
  // A profile with Landlock rules would otherwise deny the files it was just given.
  if (r.dir && resolved.spec.landlock.length) top.landlock.push({ path: r.dir, write: mode === 'rw', origin: req.fileArgs.origin });
  return { command: r.argv, spec: mergeSpecs(resolved.spec, top) };
}

/**
 * What no sandbox may write: the installed package, the user's sandbox configuration, the plans the user compiled,
 * and the persistent homes' base (each profile's own home is bound below it, so it is not covered).
 */
function ownFiles(): string[] {
  const { dataHome } = require('../profile/context') as typeof import('../profile/context');
  let home = process.env.HOME;
  try {
    home ||= os.userInfo().homedir; // as the profile loader does when HOME is unset
  } catch {
    /* no passwd entry */
  }
  const env = copyEnv();
  env.HOME = home;
  const data = dataHome({ env });
  const cache = process.env.XDG_CACHE_HOME ? cacheBase({ XDG_CACHE_HOME: process.env.XDG_CACHE_HOME }) : null;
  // the C programs too, where npm put the prebuilt package beside sandbox rather than inside it (a hoisted install)
  const pkg = realpathOr(packageRoot());
  const native = realpathOr(nativeDir());
  return [
    pkg,
    ...(native === pkg || native.startsWith(pkg + '/') ? [] : [native]),
    realpathOr(sandboxConfigDir(process.env)),
    ...(data ? [realpathOr(path.join(data, 'sandbox'))] : []),
    // the plan cache's fallback (lib/host/plan-cache.ts); under the runtime directory it is in sandbox/, a state directory
    ...(cache ? [realpathOr(cache)] : []),
    ...readCompiledPlans(process.env).map((l) => realpathOr(l.plan)),
  ];
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * The base filter alone, compiled at build time (dist/base-filter.json, by scripts/bundle.js): the same bytes
 * for every sandbox without a seccomp policy, so the compiler is loaded only for a profile that has one.
 */
function prebuiltBaseFilter(sharedPid: boolean): Plan['seccomp'] | null {
  try {
    const all = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'dist', 'base-filter.json'), 'utf8')) as Record<string, { bpf: string; origin: string }>;
    const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : '';
    return all[sharedPid ? `${arch}+shared-pid` : arch] ?? null;
  } catch {
    return null;
  }
}

/** The base filter always, with the profile's or --seccomp's policy over it. */
function seccompFor(spec: SandboxSpec): Plan['seccomp'] {
  if (!spec.seccomp) {
    const pre = prebuiltBaseFilter(!!spec.sharePid);
    if (pre) return pre;
  }
  const { seccompForPlan, hostArch } = require('../seccomp/index') as typeof import('../seccomp/index');
  const arch = hostArch();
  if (!arch) throw new SandboxError(`no seccomp syscall table for ${process.arch}: sandbox supports x86_64 and aarch64`);
  return seccompForPlan(spec.seccomp?.policy ?? null, arch, spec.capAdd, os.release(), { sharedPid: !!spec.sharePid });
}

/** Decides everything and returns the plan; pure apart from reading the host (sources, profile files). */
export interface Planned {
  plan: Plan;
  printPlan: boolean;
  cgroup: CgroupDecision;
  /** What the plan was built from, for a compiled plan's checks. */
  spec: SandboxSpec;
  profileFiles: string[];
  /** --name, when given. */
  name?: string;
  /** The profile as `sandbox ps` shows it: its name, "none" for --no-profile. */
  profileLabel: string;
  /** plan cache: the per-launch work in Node that keeps this launch from being cached, if any */
  uncached: string | null;
  /** who planned, and sandbox's own files: what decides which paths a kept or compiled plan takes at each launch */
  caller: CallerContext;
  ownFiles: string[];
}

function profileLabel(p: string | null | undefined): string {
  if (p === null) return 'none';
  return path.basename(p ?? 'default').replace(/\.json5?$/, '').replace(/[^\x21-\x7e]/g, '_');
}

export function planFor(argv: string[], io: RunIo, opts: { compiled?: boolean; bwrap?: boolean; launchVars?: string[] } = {}): Planned | { help: true; version?: boolean } {
  const req = opts.bwrap ? parseBwrapArgs(argv, process.cwd()) : parseRunArgs(argv, process.cwd());
  if (req.help) return { help: true, version: req.bwrapVersion };
  // warnings wait until the plan is made: a launch refused later says one line, its error
  const warnings = req.warnings.map((w) => diagnostic(4, w));
  if (opts.compiled && req.fileArgs) throw new SandboxError(`${req.fileArgs.origin}: file arguments can't be compiled into a plan (each launch names its own files): use sandbox run`);
  const chosen = chooseProfile(req, io);
  const resolved = resolveSpec(chosen, req.spec, req.command, req.rootfs);
  for (const n of resolved.notes ?? []) io.err(diagnostic(5, `note: ${n}`));
  const forwarded = forwardFiles(req, resolved);
  const command = forwarded.command;
  let spec = forwarded.spec;
  // a compiled plan resolves the profile's join key at each launch (record join-key): it is built as a joined one
  if (opts.compiled && spec.joinTemplate && spec.join === undefined) spec = { ...spec, join: 'at-launch' };
  const profileFiles = resolved.profileFiles;
  if (opts.compiled && spec.limits) throw new SandboxError(`${limitsOrigin(spec.limits)}: resource limits can't be compiled into a plan yet (each launch needs its own cgroup): use sandbox run`);
  if (opts.compiled && spec.dbus) throw new SandboxError('a dbus section can\'t be compiled into a plan yet (each launch needs its own proxy): use sandbox run');
  if (opts.compiled && spec.pulse) {
    if (!spec.pulse.optional) throw new SandboxError(`${spec.pulse.origin}: sockets "pulseaudio" can't be compiled into a plan yet (each launch needs its own audio proxy): use sandbox run, or make it "optional"`);
    io.err(`sandbox: ${spec.pulse.origin}: the compiled plan has no sound (sockets "pulseaudio" needs a proxy started by sandbox run)`);
    spec = { ...spec, pulse: null };
  }
  const dbus = spec.dbus ? dbusProxyFor(spec, req.printPlan) : null;
  if (dbus && !req.printPlan) spec = mergeSpecs(spec, dbus.spec);
  const pulse = spec.pulse ? pulseProxyFor(spec, req.printPlan) : null;
  if (pulse && !req.printPlan) spec = mergeSpecs(spec, pulse.spec);
  // The sandbox id names the monitor (this pid: the launcher execs it), so a later run can tell a stale leaf.
  const cgroup = planCgroup(spec.limits, newSandboxId(process.pid), spec.limits ? readCgroupHost() : emptyHost());
  warnings.push(...cgroup.warnings.map((w) => diagnostic(4, w)));
  if (req.bwrap) {
    // bwrap mode: the base filter less its namespaces item, bubblewrap's words for a missing source
    const policy = bwrapSeccompPolicy(req.bwrap);
    if (policy) spec = { ...spec, seccomp: { policy, origin: 'bwrap mode' } };
    checkBwrapSources(spec);
  }
  if (!req.printPlan) ensureConfigDir(spec.mounts, sandboxConfigDir(process.env));
  if (!req.bwrap) {
    try {
      // The registry of running sandboxes exists before any plan is built, and stays: hideOwnState covers what exists,
      // so every sandbox (compiled plans too) has it hidden, even one started before another sandbox made it.
      // bwrap mode makes only what its arguments ask for, and registers nothing.
      const { ensureRegistryDir } = require('../running/registry') as typeof import('../running/registry');
      ensureRegistryDir(process.getuid ? process.getuid() : 0, process.env);
    } catch {
      /* claimName says what is wrong, at launch */
    }
  }
  const caller = callerContext();
  const { gatherPlanFacts } = require('../host/plan-facts') as typeof import('../host/plan-facts');
  const own = ownFiles();
  const facts = gatherPlanFacts(spec, caller, own);
  const seccomp = seccompFor(spec);
  const launchVars = opts.compiled ? LAUNCH_VARIABLES : opts.launchVars ?? [];
  // plan cache: the environment reaches the plan through its rules, which a cached plan carries (env-launch)
  let plan = unrecorded(() => buildPlan(spec, command, caller, { seccomp, cgroup: cgroup.plan, launchVars }, facts, opts.compiled));
  if (req.bwrap) plan = finishBwrapPlan(plan, spec, req.bwrap, process.env, process.cwd());
  if (dbus && req.printPlan) dbus.describe(plan);
  if (pulse && req.printPlan) pulse.describe(plan);
  log('plan: %d mounts, argv %o', plan.mounts.length, plan.argv);
  for (const w of warnings) io.err(w);
  // --join is not here: the stage does all of it (native/join.c) from the plan's join-dir and join-policy.
  // A launch without --name is kept without its registry record: the launcher claims a fresh name at each hit.
  const perLaunch = req.bwrap ? 'bwrap mode' : req.noCache ? '--no-cache' : req.name !== undefined ? '--name' : req.fileArgs ? req.fileArgs.origin : req.rootfs ? req.rootfs.origin : dbus ? 'the D-Bus proxy' : pulse ? 'the audio proxy' : cgroup.setup ? 'the cgroup leaf for limits' : null;
  return { plan, printPlan: req.printPlan, cgroup, spec, profileFiles, name: req.name, profileLabel: profileLabel(chosen), uncached: perLaunch, caller, ownFiles: own };
}

/**
 * The session bus through xdg-dbus-proxy: started now, before the hand-off, and merged into the spec; for
 * --print-plan nothing starts and the socket that would be bound is added to the printed plan.
 */
function dbusProxyFor(spec: SandboxSpec, describeOnly: boolean): { spec: SandboxSpec; describe(plan: Plan): void } {
  const { startDbusProxy, describeDbusProxy, addToPlan } = require('../session/dbus-proxy') as typeof import('../session/dbus-proxy');
  const opts = { pid: process.pid, uid: process.getuid ? process.getuid() : 0 };
  const r = (describeOnly ? describeDbusProxy : startDbusProxy)(spec.dbus!, process.env, opts);
  return { spec: helperSpec(r), describe: (plan) => addToPlan(plan, r) };
}

/** What a helper beside the sandbox adds: its socket's bind, its variables, the pipe end the sandbox keeps. */
function helperSpec(r: { mounts: SandboxSpec['mounts']; env: Record<string, string>; keepFds: number[] }): SandboxSpec {
  const top = emptySpec();
  top.mounts = r.mounts;
  top.env.set = r.env;
  top.keepFds = r.keepFds;
  return top;
}

/**
 * The host's audio server through sandbox-pulse-proxy (never its raw socket): started now, before the
 * hand-off, like the D-Bus proxy; for --print-plan the socket that would be bound is described.
 */
function pulseProxyFor(spec: SandboxSpec, describeOnly: boolean): { spec: SandboxSpec; describe(plan: Plan): void } {
  const { startPulseProxy, describePulseProxy, addPulseToPlan } = require('../session/pulse-proxy') as typeof import('../session/pulse-proxy');
  const opts = { pid: process.pid, uid: process.getuid ? process.getuid() : 0 };
  const r = (describeOnly ? describePulseProxy : startPulseProxy)(spec.pulse!, process.env, opts);
  return { spec: helperSpec(r), describe: (plan) => addPulseToPlan(plan, r) };
}

function emptyHost(): ReturnType<typeof readCgroupHost> {
  return { uid: 0, pid: process.pid, mount: null, rootControllers: [], cgroupPath: null, own: null, ownParent: null, systemd: { available: false, reason: '' }, ownUnit: null };
}

/** The host lookup for lib/plan/hidden: what exists, as this user sees it. */
const hostLookup: HostLookup = {
  exists: (p) => fs.existsSync(p),
  lexists: (p) => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  },
  isExecutableFile: (p) => {
    try {
      if (!fs.statSync(p).isFile()) return false;
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
  realpath: (p) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return null;
    }
  },
};

/**
 * A command the sandbox doesn't show fails with exit 127 here, saying why (the stage could only say ENOENT);
 * arguments naming host files it doesn't show get a note, since the program may not need them.
 */
function checkCommandVisible(plan: Plan, io: RunIo): void {
  // a relative command means the caller's directory when the sandbox starts in / because that isn't inside
  const hostCwd = plan.cwdFallback && plan.cwd === '/' ? process.cwd() : plan.cwd;
  const cmd = hiddenCommand(plan, hostCwd, hostLookup);
  if (cmd) throw new SandboxError(hiddenMessage(cmd), EXIT.NOT_FOUND);
  for (const a of hiddenArguments(plan, hostCwd, hostLookup)) io.err(diagnostic(5, `note: ${hiddenMessage(a)}`));
}

export function runCommand(argv: string[], io: RunIo, mode: { bwrap?: boolean } = {}): number {
  // bwrap mode is another command line language, and the launcher looks entries up only as `sandbox`
  if (mode.bwrap) return runPlanned(argv, io, null, mode);
  const { cacheOff } = require('./plan-cache-run') as typeof import('./plan-cache-run');
  const off = cacheOff(process.env);
  if (off) return runPlanned(argv, io, null, mode);
  const { Recorder, ensureCacheDir, cacheDir } = require('../host/plan-cache') as typeof import('../host/plan-cache');
  try {
    ensureCacheDir(cacheDir(process.env));
  } catch {
    return runPlanned(argv, io, null, mode); // no place to keep it
  }
  return runPlanned(argv, io, new Recorder(), mode);
}

/** The launch; with a recorder, the planning's reads are recorded and the plan kept for the next identical launch. */
function runPlanned(argv: string[], io: RunIo, rec: Recorder | null, mode: { bwrap?: boolean }): number {
  const uid = process.getuid ? process.getuid() : 0;
  const registry = require('../running/registry') as typeof import('../running/registry');
  const said: string[] = [];
  const sayIo: RunIo = rec ? { out: io.out, err: (t) => { said.push(t); io.err(t); } } : io;
  rec?.start();
  let r: ReturnType<typeof planFor>;
  try {
    // a kept plan takes $PMIX_SERVER_TMPDIR from each launch (every srun step has its own): lib/plan/launch-vars.ts
    r = planFor(argv, sayIo, { ...mode, launchVars: rec ? ['PMIX_SERVER_TMPDIR'] : [] });
    if (!('help' in r) && !r.printPlan) checkCommandVisible(r.plan, sayIo);
    rec?.readVar('PMI_FD'); // a descriptor it names is kept (lib/plan/build.ts): such a launch is not cached below
  } finally {
    rec?.stop();
  }
  if ('help' in r) {
    if (mode.bwrap) io.out(r.version ? `bubblewrap ${BWRAP_VERSION} (sandbox ${packageVersion()})` : bwrapHelp());
    else io.out(runHelp());
    return 0;
  }
  if (r.printPlan) {
    // the plan, and beside it why this cgroup (or none) was chosen
    io.out(JSON.stringify({ ...r.plan, cgroupWhy: r.cgroup.explain }, null, 2));
    return 0;
  }
  // the name is claimed before anything is made for the sandbox, so a name in use leaves nothing behind
  // bwrap mode registers nothing: it makes only what bubblewrap's arguments say (no entry, no enter socket, no title)
  const enter = !r.plan.asPid1 && !r.plan.joinDir;
  const fields = { profile: r.profileLabel, command: r.plan.argv, started: Date.now(), cgroup: null as string | null, enter };
  let entry: ReturnType<typeof registry.claimName> | null = null;
  try {
    if (!mode.bwrap) entry = registry.claimName(r.name, fields, uid, process.env);
  } catch (e) {
    // a registry directory someone else made (/tmp/sandbox-UID taken by another user) must not stop every launch
    if (!(e instanceof registry.RegistryUnavailable) || r.name !== undefined) throw e;
    // a --join member can't be entered anyway, and its state lives beside the registry: the stage names that
    // directory's fault in its one line, so no note before it (native/launch-registry.c says the same on a hit)
    if (!r.plan.joinDir) io.err(diagnostic(5, `note: ${e.message}: this sandbox runs without a name (sandbox ps, enter and stop won't see it)`));
  }
  try {
    // Loaded only on the launch path: the serializer and koffi.
    const { serializePlan, withRecords } = require('../native/serialize') as typeof import('../native/serialize');
    const { execStage } = require('../native/handoff') as typeof import('../native/handoff');
    const claimed = entry;
    const addRegistry = claimed ? (w: import('../native/serialize').PlanWriter) => { w.record('registry', claimed.dir, claimed.name, enter); } : undefined;
    const title = entry ? `sandbox: ${entry.name} [${r.profileLabel}]` : undefined;
    if (rec) {
      const { keepPlan } = require('./plan-cache-run') as typeof import('./plan-cache-run');
      // kept without the registry record: each launch from it claims a name of its own
      const kept = keepPlan(rec, r, said, enter);
      // the kept plan itself: its environment rules need this process's environment, as the launcher passes on a hit
      if (kept) return execStage(addRegistry ? withRecords(kept.plan, addRegistry) : kept.plan, [], { withEnvironment: true, title, keep: kept.handover });
    }
    if (r.cgroup.setup) {
      const { createCgroupLeaf } = require('../cgroup/leaf') as typeof import('../cgroup/leaf');
      r.plan.cgroup = createCgroupLeaf(r.cgroup.setup);
      if (entry) registry.updateEntry(entry, { cgroup: r.plan.cgroup.leaf });
    }
    return execStage(serializePlan(r.plan, addRegistry), r.plan.keepFds, { title });
  } catch (e) {
    if (entry) registry.removeEntry(entry);
    throw e;
  }
}
