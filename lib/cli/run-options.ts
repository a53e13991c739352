// `sandbox run` options: bubblewrap's command line. Options come first and are read in order (a mount
// option's place is its place in the plan); the first argument that is not an option starts the command.
import * as path from 'path';
import { SandboxError } from '../errors';
import { didYouMean } from './suggest';
import type { MountOp } from '../plan/types';
import { emptySpec, type SandboxSpec, type LimitName } from '../plan/spec';
import { parseCount, parseCpus, parseMode, readSize, MEMORY_FORMS, CPUS_FORMS, PIDS_FORMS, PIDS_MAX } from '../plan/units';
import { capabilityNumber } from '../plan/capabilities';
import { HOSTNAME_RULE, isHostname } from '../plan/hostname';
import { isJoinKey, JOIN_KEY_RULE } from '../plan/build';
import { isSandboxName, NAME_RULE } from '../running/registry';

export interface RunRequest {
  spec: SandboxSpec;
  /** --profile NAME, --no-profile (null), or not said (undefined: the default profile). */
  profile: string | null | undefined;
  printPlan: boolean;
  /** --no-cache: this launch neither reads nor writes the plan cache (lib/host/plan-cache.ts) */
  noCache?: boolean;
  help: boolean;
  /** bwrap mode's --version */
  bwrapVersion?: boolean;
  command: string[];
  /** --file-args MODE: the command's file arguments bound alone (lib/plan/file-args.ts); "profile": as the profile's fileArgs says. */
  fileArgs?: { mode: 'ro' | 'rw' | 'profile'; origin: string };
  /** --rootfs DIR (--rootfs-rw: writable; --tmp-overlay /: under a throw-away overlay): an image directory as the root. */
  rootfs?: { dir: string; writable: boolean; overlay?: boolean; origin: string };
  /** --name NAME: how `sandbox ps`, `enter` and `stop` call this sandbox (default: the program's base name and a short id). */
  name?: string;
  /** Said on stderr before the sandbox starts (a second --chdir). */
  warnings: string[];
  /** What only bwrap mode has (lib/cli/bwrap.ts): set by its own options. */
  bwrap?: import('./bwrap').BwrapRequest;
}

export interface State {
  req: RunRequest;
  cwd: string;
  /** --size and --perms apply to the next operation that takes them */
  nextSize?: number;
  nextPerms?: number;
  /** --overlay-src: the lower layers of the next overlay, bottom first */
  overlaySrc: string[];
  chdirSeen?: boolean;
}

export type Handler = (st: State, args: string[], flag: string) => void;
export interface OptionDef { args: string[]; help: string; run: Handler }

export function err(flag: string, args: string[], msg: string): never {
  throw new SandboxError(`${[flag, ...args].join(' ')}: ${msg}`);
}

/** Destinations are inside the sandbox: absolute, normalised, no "..". */
export function dest(flag: string, args: string[], p: string): string {
  if (!p.startsWith('/')) err(flag, args, `destination '${p}' must be an absolute path`);
  if (p.split('/').includes('..')) err(flag, args, `destination '${p}' must not contain '..'`);
  if (p.includes('\0')) err(flag, args, 'path contains a NUL byte');
  return path.posix.normalize(p).replace(/(.)\/$/, '$1');
}

/** Sources are on the host: relative to the current directory, like bubblewrap. */
export function source(st: State, flag: string, args: string[], p: string): string {
  if (p === '') err(flag, args, 'empty source path');
  if (p.includes('\0')) err(flag, args, 'path contains a NUL byte');
  const abs = path.posix.resolve(st.cwd, p);
  return abs;
}

export function origin(flag: string, args: string[]): string {
  return [flag, ...args].join(' ');
}

export function takePerms(st: State, fallback: number): number {
  const m = st.nextPerms ?? fallback;
  st.nextPerms = undefined;
  return m;
}

export function push(st: State, op: MountOp): void {
  st.req.spec.mounts.push(op);
}

const bind = (readOnly: boolean, devices: boolean, optional: boolean): Handler => (st, a, f) =>
  push(st, { op: 'bind', src: source(st, f, a, a[0]), dst: dest(f, a, a[1]), readOnly, devices, optional, origin: origin(f, a) });

// Modes as bwrap(1) gives them: --file 0666, --bind-data and --ro-bind-data 0600. A standard descriptor may be
// read too (--file 0 DST reads the standard input, and consumes it, as bwrap does).
const data = (mount: boolean, readOnly: boolean): Handler => (st, a, f) => {
  const fd = parseCount(a[0], 1 << 20);
  if (fd === undefined) err(f, a, `'${a[0]}' is not a descriptor number`);
  const permsGiven = st.nextPerms !== undefined;
  push(st, { op: 'data', fd, dst: dest(f, a, a[1]), mode: takePerms(st, mount ? 0o600 : 0o666), mount, readOnly, origin: origin(f, a), ...(permsGiven ? { permsGiven } : {}) });
  if (fd > 2) st.req.spec.keepFds.push(fd);
};

const device = (required: boolean): Handler => (st, a, f) => {
  const { DEVICE_NAMES } = require('../profile/tables') as typeof import('../profile/tables');
  const name = a[0] as import('../profile/tables').DeviceName;
  if (!DEVICE_NAMES.includes(name)) err(f, a, `unknown device set, expected one of: ${DEVICE_NAMES.join(', ')}`);
  const fs = require('fs') as typeof import('fs');
  const { deviceSetMounts } = require('../plan/devices') as typeof import('../plan/devices');
  const probe = {
    exists: (p: string) => fs.existsSync(p),
    listDir: (p: string) => { try { return fs.readdirSync(p); } catch { return []; } },
    env: process.env,
  };
  const r = deviceSetMounts(name, required, origin(f, a), probe, `use --device-try ${name} to run without it`);
  for (const m of r.mounts) push(st, m);
  Object.assign(st.req.spec.env.set, r.env);
  if (r.mounts.length > 0) st.req.spec.devices = [...new Set([...(st.req.spec.devices ?? []), name])];
};

/** bwrap's overlays: the --overlay-src given just before are the lower layers. */
const OVERLAY_FLAGS = ['--overlay-src', '--overlay', '--tmp-overlay', '--ro-overlay'];
const overlay = (kind: 'rw' | 'tmp' | 'ro'): Handler => (st, a, f) => {
  const lower = st.overlaySrc;
  st.overlaySrc = [];
  if (kind === 'tmp' && lower.length === 0 && a[0] === '/' && st.req.rootfs && st.req.rootfs.dir) {
    st.req.rootfs = { ...st.req.rootfs, overlay: true }; // --rootfs IMG --tmp-overlay /: the image is the lower layer
    return;
  }
  if (lower.length < (kind === 'ro' ? 2 : 1)) throw new SandboxError(`${f} requires at least ${kind === 'ro' ? 'two' : 'one'} --overlay-src`);
  const dst = dest(f, a, a[kind === 'rw' ? 2 : 0]);
  const upper = kind === 'rw' ? source(st, f, a, a[0]) : null;
  const work = kind === 'rw' ? source(st, f, a, a[1]) : null;
  push(st, { op: 'overlay', dst, lower, upper, work, readOnly: kind === 'ro', origin: origin(f, a) });
};

function setLimit(st: State, f: string, a: string[], key: LimitName, v: number): void {
  st.req.spec.limits = { ...(st.req.spec.limits ?? {}), [key]: { value: v, origin: origin(f, a), from: 'option' } };
}

/** A size limit: one parser with profiles (lib/plan/units.ts); memory itself must be more than 0. */
const sizeLimit = (key: 'memory' | 'memorySwap'): Handler => (st, a, f) => {
  const r = readSize(a[0]);
  if (!('bytes' in r)) err(f, a, `'${a[0]}' is ${r.problem}`);
  if (key === 'memory' && r.bytes === 0) err(f, a, `'${a[0]}' is not ${MEMORY_FORMS}`);
  setLimit(st, f, a, key, r.bytes);
};

export const RUN_OPTIONS: Record<string, OptionDef> = {
  '--bind': { args: ['SRC', 'DST'], help: 'bind SRC on DST read-write', run: bind(false, false, false) },
  '--bind-try': { args: ['SRC', 'DST'], help: 'same, skipped when SRC is missing', run: bind(false, false, true) },
  '--ro-bind': { args: ['SRC', 'DST'], help: 'bind SRC on DST read-only (submounts too)', run: bind(true, false, false) },
  '--ro-bind-try': { args: ['SRC', 'DST'], help: 'same, skipped when SRC is missing', run: bind(true, false, true) },
  '--dev-bind': { args: ['SRC', 'DST'], help: 'bind SRC on DST with device access', run: bind(false, true, false) },
  '--dev-bind-try': { args: ['SRC', 'DST'], help: 'same, skipped when SRC is missing', run: bind(false, true, true) },
  '--tmpfs': {
    args: ['DST'], help: 'mount a new tmpfs on DST (--size, --perms before it)',
    run: (st, a, f) => {
      const size = st.nextSize ?? 0;
      st.nextSize = undefined;
      push(st, { op: 'tmpfs', dst: dest(f, a, a[0]), size, mode: takePerms(st, 0o755), origin: origin(f, a) });
    },
  },
  '--size': {
    args: ['BYTES'], help: 'size of the next --tmpfs (512M, 2G or bytes)',
    run: (st, a, f) => {
      if (st.nextSize !== undefined) throw new SandboxError('--size given twice for the same action');
      const r = readSize(a[0]);
      st.nextSize = 'bytes' in r ? r.bytes : err(f, a, `'${a[0]}' is ${r.problem}`);
    },
  },
  '--perms': {
    args: ['OCTAL'], help: 'mode of the next --tmpfs, --dir, --file or --bind-data',
    run: (st, a, f) => {
      if (st.nextPerms !== undefined) throw new SandboxError('--perms given twice for the same action');
      st.nextPerms = parseMode(a[0]) ?? err(f, a, `'${a[0]}' is not an octal mode (like 0755)`);
    },
  },
  '--overlay-src': {
    args: ['SRC'], help: 'a lower layer (host directory) for the next overlay; the first given is the bottom',
    run: (st, a, f) => { st.overlaySrc.push(source(st, f, a, a[0])); },
  },
  '--overlay': { args: ['RWSRC', 'WORKDIR', 'DEST'], help: 'overlayfs on DEST over the --overlay-src layers, writes going to RWSRC', run: overlay('rw') },
  '--tmp-overlay': { args: ['DEST'], help: 'the same, writes going to a throw-away tmpfs', run: overlay('tmp') },
  '--ro-overlay': { args: ['DEST'], help: 'the same, read-only (two --overlay-src at least)', run: overlay('ro') },
  '--proc': { args: ['DST'], help: 'mount a new procfs on DST', run: (st, a, f) => push(st, { op: 'proc', dst: dest(f, a, a[0]), origin: origin(f, a) }) },
  '--dev': { args: ['DST'], help: 'mount a minimal /dev on DST', run: (st, a, f) => push(st, { op: 'dev', dst: dest(f, a, a[0]), origin: origin(f, a) }) },
  '--mqueue': { args: ['DST'], help: 'mount a new mqueue on DST', run: (st, a, f) => push(st, { op: 'mqueue', dst: dest(f, a, a[0]), origin: origin(f, a) }) },
  '--dir': {
    args: ['DST'], help: 'create a directory',
    run: (st, a, f) => push(st, { op: 'dir', dst: dest(f, a, a[0]), mode: takePerms(st, 0o755), origin: origin(f, a) }),
  },
  '--symlink': {
    args: ['TARGET', 'DST'], help: 'create a symbolic link DST pointing to TARGET',
    run: (st, a, f) => {
      if (a[0] === '' || a[0].includes('\0')) err(f, a, 'bad symlink target');
      push(st, { op: 'symlink', target: a[0], dst: dest(f, a, a[1]), origin: origin(f, a) });
    },
  },
  '--file': { args: ['FD', 'DST'], help: 'copy the contents of descriptor FD to a file DST', run: data(false, false) },
  '--bind-data': { args: ['FD', 'DST'], help: 'bind a file holding the contents of FD on DST', run: data(true, false) },
  '--ro-bind-data': { args: ['FD', 'DST'], help: 'same, read-only', run: data(true, true) },
  '--chmod': {
    args: ['OCTAL', 'PATH'], help: 'change the mode of PATH',
    run: (st, a, f) => push(st, { op: 'chmod', mode: parseMode(a[0]) ?? err(f, a, `'${a[0]}' is not an octal mode`), path: dest(f, a, a[1]), origin: origin(f, a) }),
  },
  '--remount-ro': { args: ['DST'], help: 'make DST and its submounts read-only', run: (st, a, f) => push(st, { op: 'remount-ro', dst: dest(f, a, a[0]), origin: origin(f, a) }) },
  '--rootfs': {
    args: ['DIR'], help: 'an unpacked image directory as the root, read-only (the profile keeps only its non-system binds)',
    run: (st, a, f) => {
      const dir = source(st, f, a, a[0]);
      st.req.rootfs = { dir, writable: st.req.rootfs?.writable ?? false, origin: origin(f, a) };
    },
  },
  '--rootfs-rw': {
    args: [], help: 'the --rootfs image writable (missing mount points are created in it)',
    run: (st) => { st.req.rootfs = st.req.rootfs ? { ...st.req.rootfs, writable: true } : { dir: '', writable: true, origin: '--rootfs-rw' }; },
  },
  '--device': { args: ['NAME'], help: 'bind a device set: nvidia, dri, snd or video (error when the host has none)', run: device(true) },
  '--device-try': { args: ['NAME'], help: 'same, nothing when the host has none', run: device(false) },
  '--share-net': { args: [], help: 'keep the host network (default: a new network namespace with only lo)', run: (st) => { st.req.spec.shareNet = true; } },
  '--join': {
    args: ['KEY'], help: 'share the namespaces (and root) of your other sandboxes on this node that name KEY',
    run: (st, a, f) => {
      if (!isJoinKey(a[0])) err(f, a, JOIN_KEY_RULE);
      st.req.spec.join = a[0];
    },
  },
  '--share-pid': { args: [], help: 'keep the host\'s pid namespace (/proc shows the host\'s processes; for MPI ranks)', run: (st) => { st.req.spec.sharePid = true; } },
  '--unshare-net': { args: [], help: 'a new network namespace (the default)', run: (st) => { st.req.spec.shareNet = false; } },
  '--uid': {
    args: ['UID'], help: 'uid inside (default: yours)',
    run: (st, a, f) => { st.req.spec.uid = parseCount(a[0], 0xfffffffe) ?? err(f, a, `'${a[0]}' is not a uid`); },
  },
  '--gid': {
    args: ['GID'], help: 'gid inside (default: yours)',
    run: (st, a, f) => { st.req.spec.gid = parseCount(a[0], 0xfffffffe) ?? err(f, a, `'${a[0]}' is not a gid`); },
  },
  '--hostname': {
    args: ['NAME'], help: 'hostname inside (default: sandbox)',
    run: (st, a, f) => {
      if (!isHostname(a[0])) err(f, a, `expected ${HOSTNAME_RULE}`);
      st.req.spec.hostname = a[0];
    },
  },
  '--chdir': {
    args: ['DIR'], help: 'working directory inside (default: the current one if visible, else /)',
    run: (st, a, f) => {
      if (st.chdirSeen) st.req.warnings.push('Only the last --chdir option will take effect');
      st.chdirSeen = true;
      st.req.spec.cwd = dest(f, a, a[0]);
    },
  },
  '--setenv': {
    args: ['VAR', 'VALUE'], help: 'set an environment variable',
    run: (st, a, f) => {
      if (!/^[^=\0]+$/.test(a[0])) err(f, a, `'${a[0]}' is not a variable name`);
      st.req.spec.env.set[a[0]] = a[1];
      st.req.spec.env.unset = st.req.spec.env.unset.filter((v) => v !== a[0]);
    },
  },
  '--unsetenv': {
    args: ['VAR'], help: 'remove an environment variable',
    run: (st, a) => { st.req.spec.env.unset.push(a[0]); delete st.req.spec.env.set[a[0]]; },
  },
  '--clearenv': {
    // as bwrap(1): what an earlier --setenv set goes too; only later ones (and PWD, in bwrap mode) are left
    args: [], help: 'start from an empty environment (only later --setenv are kept)',
    run: (st) => { st.req.spec.env.clear = true; st.req.spec.env.set = {}; },
  },
  '--cap-add': {
    args: ['CAP'], help: 'keep a capability inside (e.g. CAP_NET_ADMIN; useful with --uid 0)',
    run: (st, a, f) => {
      if (capabilityNumber(a[0]) === undefined) err(f, a, `unknown capability '${a[0]}'`);
      st.req.spec.capAdd.push(a[0]);
    },
  },
  '--new-session': { args: [], help: 'run the program in a new session, detached from the terminal', run: (st) => { st.req.spec.newSession = true; } },
  '--share-terminal': { args: [], help: 'keep the terminal\'s session (the default; TIOCSTI, TIOCSETD... filtered; put back as found at the end)', run: (st) => { st.req.spec.newSession = false; } },
  '--die-with-parent': { args: [], help: 'end the sandbox when its parent dies (the default)', run: (st) => { st.req.spec.dieWithParent = true; } },
  '--as-pid-1': { args: [], help: 'run the program as pid 1 (no init)', run: (st) => { st.req.spec.asPid1 = true; } },
  '--name': {
    args: ['NAME'], help: 'the sandbox\'s name in sandbox ps, enter and stop (default: the program\'s name and a short id; unique among yours)',
    run: (st, a, f) => {
      if (!isSandboxName(a[0])) err(f, a, NAME_RULE);
      st.req.name = a[0];
    },
  },
  '--profile': { args: ['NAME'], help: 'a profile by name or path (default: default)', run: (st, a) => { st.req.profile = a[0]; } },
  '--file-args': {
    args: ['MODE'], help: 'bind the files the command names, alone, ro or rw ("profile": as its fileArgs says); @@ ... @@ (@@u for URIs) marks which',
    run: (st, a, f) => {
      if (a[0] !== 'ro' && a[0] !== 'rw' && a[0] !== 'profile') err(f, a, 'expected ro, rw or profile');
      st.req.fileArgs = { mode: a[0], origin: origin(f, a) };
    },
  },
  '--no-profile': { args: [], help: 'only what the command line says', run: (st) => { st.req.profile = null; } },
  '--seccomp': {
    args: ['FILE'], help: 'a seccomp policy (JSON5, or Docker/OCI JSON)',
    run: (st, a, f) => {
      const { loadSeccompFile } = require('./seccomp-command') as typeof import('./seccomp-command');
      const { policy } = loadSeccompFile(source(st, f, a, a[0]));
      if (policy) st.req.spec.seccomp = { policy, origin: origin(f, a) };
    },
  },
  '--memory': { args: ['SIZE'], help: 'memory limit (512M, 2G)', run: sizeLimit('memory') },
  '--memory-swap': { args: ['SIZE'], help: 'swap allowed beyond --memory (default 0)', run: sizeLimit('memorySwap') },
  '--cpus': {
    args: ['N'], help: 'CPU limit as a number of CPUs (1.5)',
    run: (st, a, f) => setLimit(st, f, a, 'cpus', parseCpus(a[0]) ?? err(f, a, `'${a[0]}' is not ${CPUS_FORMS}`)),
  },
  '--pids': {
    args: ['N'], help: 'limit on processes and threads',
    run: (st, a, f) => setLimit(st, f, a, 'pids', parseCount(a[0], PIDS_MAX, 1) ?? err(f, a, `'${a[0]}' is not ${PIDS_FORMS}`)),
  },
  '--limits': {
    args: ['MODE'], help: 'strict (default: fail when limits can\'t apply) or best-effort',
    run: (st, a, f) => {
      if (a[0] !== 'strict' && a[0] !== 'best-effort') err(f, a, 'expected strict or best-effort');
      st.req.spec.limits = { ...(st.req.spec.limits ?? {}), mode: { value: a[0], origin: origin(f, a), from: 'option' } };
    },
  },
  '--landlock-ro': {
    args: ['PATH'], help: 'a Landlock rule: the program may read and run what is under PATH (inside); with any rule, only that',
    run: (st, a, f) => { st.req.spec.landlock.push({ path: dest(f, a, a[0]), write: false, origin: origin(f, a) }); },
  },
  '--landlock-rw': {
    args: ['PATH'], help: 'a Landlock rule: the program may read and write under PATH (inside)',
    run: (st, a, f) => { st.req.spec.landlock.push({ path: dest(f, a, a[0]), write: true, origin: origin(f, a) }); },
  },
  '--verbose': { args: [], help: 'say what the kernel could not give (e.g. an older Landlock ABI)', run: (st) => { st.req.spec.verbose = true; } },
  '--print-plan': { args: [], help: 'print the plan as JSON and run nothing', run: (st) => { st.req.printPlan = true; } },
  '--no-cache': { args: [], help: 'build the plan afresh and keep no copy of it (see SANDBOX_NO_CACHE)', run: (st) => { st.req.noCache = true; } },
  '--help': { args: [], help: 'this help', run: (st) => { st.req.help = true; } },
};

/** bubblewrap flags that are always in force here, accepted so command lines carry over. */
export const ALWAYS_ON = ['--unshare-all', '--unshare-user', '--unshare-user-try', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup', '--unshare-cgroup-try'];

export interface ParseOptions {
  /** The options to know (default RUN_OPTIONS); bwrap mode passes bubblewrap's set. */
  table?: Record<string, OptionDef>;
  bwrap?: boolean;
  /** Options that are always in force and take no value (default ALWAYS_ON). */
  alwaysOn?: readonly string[];
  unknown?: (flag: string) => string;
  /** Defaults of this mode, set before the options are read. */
  initial?: (spec: SandboxSpec) => void;
}

export function parseRunArgs(argv: string[], cwd: string, opts: ParseOptions = {}): RunRequest {
  const table = opts.table ?? RUN_OPTIONS;
  const alwaysOn = opts.alwaysOn ?? ALWAYS_ON;
  const st: State = { req: { spec: emptySpec(), profile: undefined, printPlan: false, help: false, command: [], warnings: [] }, cwd, overlaySrc: [] };
  opts.initial?.(st.req.spec);
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i];
    if (arg === '--') { i++; break; }
    if (!arg.startsWith('-') || arg === '-') break;
    let flag = arg;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (!opts.bwrap && arg.startsWith('--') && eq > 0) { flag = arg.slice(0, eq); inline = arg.slice(eq + 1); }
    if (alwaysOn.includes(flag) && inline === undefined) { i++; continue; }
    const def = Object.prototype.hasOwnProperty.call(table, flag) ? table[flag] : undefined;
    if (!def) throw new SandboxError(opts.unknown ? opts.unknown(flag) : `${flag}: unknown option${didYouMean(flag, [...Object.keys(table), ...alwaysOn])} (see sandbox run --help)`);
    let args: string[];
    if (inline !== undefined) {
      if (def.args.length !== 1) throw new SandboxError(`${flag}: takes ${def.args.length ? def.args.join(' ') : 'no value'}, not '=${inline}'`);
      args = [inline];
      i += 1;
    } else {
      args = argv.slice(i + 1, i + 1 + def.args.length);
      if (args.length < def.args.length) throw new SandboxError(`${flag}: expects ${def.args.join(' ')}`);
      i += 1 + def.args.length;
    }
    def.run(st, args, flag);
    // --perms and --size belong to the very next operation (bwrap's rule, and its wording): one that can't take them is an error
    if (st.overlaySrc.length && !OVERLAY_FLAGS.includes(flag)) throw new SandboxError('--overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, --ro-overlay');
    if (flag !== '--perms' && flag !== '--size') {
      if (st.nextPerms !== undefined) throw new SandboxError('--perms must be followed by an option that creates a file');
      if (st.nextSize !== undefined) throw new SandboxError('--size must be followed by --tmpfs');
    }
  }
  if (st.nextPerms !== undefined) throw new SandboxError('--perms must be followed by an option that creates a file');
  if (st.nextSize !== undefined) throw new SandboxError('--size must be followed by --tmpfs');
  if (st.overlaySrc.length) throw new SandboxError('--overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, --ro-overlay');
  if (st.req.rootfs && st.req.rootfs.dir === '') throw new SandboxError('--rootfs-rw: needs --rootfs DIR');
  st.req.command = argv.slice(i);
  return st.req;
}

export function runHelp(): string {
  const lines = ['Usage: sandbox run [OPTIONS] [--] COMMAND [ARGS...]', '',
    'Runs COMMAND in new namespaces (user, mount, pid, ipc, uts, cgroup, network) on a fresh root built',
    'from the profile and the options, in the order given. The first argument that is not an option',
    'starts the command. Exit status: the command\'s; 128+N if killed by signal N; 125 for an error of',
    'sandbox itself; 126 if COMMAND cannot be executed; 127 if it is not found.', '', 'Options:'];
  for (const [name, def] of Object.entries(RUN_OPTIONS)) {
    const left = `  ${name}${def.args.length ? ' ' + def.args.join(' ') : ''}`;
    lines.push(left.padEnd(30) + ' ' + def.help);
  }
  lines.push('', `Accepted for bubblewrap compatibility (always in force): ${ALWAYS_ON.join(' ')}`);
  return lines.join('\n');
}
