// bwrap mode: sandbox standing in for bubblewrap (`sandbox bwrap ARGS...`, or the launcher run under the name
// `bwrap`). The command line is bubblewrap's, read by the same option table as `sandbox run` (run-options.ts)
// with bubblewrap's set of names and the few options whose meaning differs here (--seccomp takes a descriptor,
// --cap-add takes ALL). Nothing comes from a profile: only what the arguments say is set up. The base seccomp
// filter stays, less its `namespaces` item, since programs that drive bwrap nest sandboxes (--disable-userns
// keeps it). README ("bwrap mode") lists what the filter still changes.
import * as fs from 'fs';
import * as os from 'os';
import { SandboxError, describeError } from '../errors';
import { ALL_CAPABILITIES, capabilityNumber } from '../plan/capabilities';
import type { BwrapPlan, Plan } from '../plan/types';
import type { SandboxSpec } from '../plan/spec';
import type { SeccompPolicy } from '../seccomp/policy';
import { programName, setProgram } from './program';
import { RUN_OPTIONS, dest, origin, push, parseRunArgs, type OptionDef, type RunRequest, type State } from './run-options';

/** The bubblewrap release whose command line this follows. */
export const BWRAP_VERSION = '0.11.0';

/** What bubblewrap's options asked for: the stage's part (BwrapPlan) as given, the seccomp programs as read, and
 * what the TypeScript side settles itself. */
export type BwrapRequest = Omit<BwrapPlan, 'diagnosticPrefix' | 'seccomp'> & {
  /** --seccomp FD (replace: only the last counts) and --add-seccomp-fd FD, read when given, in order */
  seccomp: { bpf: Buffer; origin: string; replace: boolean }[];
  disableUserns: boolean;
  assertUsernsDisabled: boolean;
  levelPrefix: boolean;
  /** a --chdir was given: PWD follows it, as bubblewrap sets it */
  chdir: boolean;
};

function newBwrapRequest(): BwrapRequest {
  return { lockFiles: [], seccomp: [], disableUserns: false, assertUsernsDisabled: false, levelPrefix: false, chdir: false };
}

/** Options that are always in force here (every namespace but the network is always new): accepted, nothing to do. */
const BWRAP_ALWAYS_ON = ['--unshare-user', '--unshare-user-try', '--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup', '--unshare-cgroup-try'];

/** Options of `sandbox run` that bubblewrap has with the same meaning, in bwrap --help's order. */
const SHARED = [
  '--share-net', '--uid', '--gid', '--hostname', '--chdir', '--clearenv', '--setenv', '--unsetenv',
  '--bind', '--bind-try', '--dev-bind', '--dev-bind-try', '--ro-bind', '--ro-bind-try', '--remount-ro',
  '--proc', '--dev', '--tmpfs', '--mqueue', '--dir', '--file', '--bind-data', '--ro-bind-data', '--symlink',
  '--new-session', '--die-with-parent', '--as-pid-1', '--perms', '--size', '--chmod',
  '--overlay-src', '--overlay', '--tmp-overlay', '--ro-overlay',
];

function bw(st: State): BwrapRequest {
  st.req.bwrap ??= newBwrapRequest();
  return st.req.bwrap;
}

/** A descriptor number as bubblewrap reads one: digits, 0 or more. */
function fdArg(f: string, a: string[]): number {
  if (!/^[0-9]+$/.test(a[0]) || Number(a[0]) > 1 << 20) throw new SandboxError(`Invalid fd: ${a[0]}`);
  return Number(a[0]);
}

/** What a descriptor option may bring: a plan is at most 64 MiB, a seccomp program 4096 instructions. */
const ARGS_MAX = 16 << 20;
const BPF_MAX = 4096 * 8;

/** All of fd, up to max bytes: more is an error, read no further (a descriptor on /dev/zero must not fill memory). */
function readFd(fd: number, what: string, max: number, flag: string): Buffer {
  try {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(1 << 20, max + 1 - total));
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      parts.push(buf.subarray(0, n));
      total += n;
      if (total > max) throw new SandboxError(`${flag} ${fd}: more than ${max} bytes of ${what}`);
    }
    return Buffer.concat(parts, total);
  } catch (e) {
    if (e instanceof SandboxError) throw e;
    throw new SandboxError(`Can't read ${what} from descriptor ${fd}: ${describeError(e)}`, undefined, { cause: e });
  } finally {
    try { fs.closeSync(fd); } catch { /* consumed, as bubblewrap closes it */ }
  }
}

/** A compiled classic BPF program, as seccomp_export_bpf writes it: whole 8-byte instructions, 1 to 4096 of them. */
function readBpf(fd: number, flag: string): Buffer {
  const bpf = readFd(fd, 'seccomp data', BPF_MAX, flag);
  if (bpf.length === 0 || bpf.length % 8 !== 0) throw new SandboxError('Invalid seccomp data, must be multiple of 8');
  if (bpf.length / 8 > 4096) throw new SandboxError(`${flag} ${fd}: a seccomp program has at most 4096 instructions`);
  return bpf;
}

const fdOption = (key: 'infoFd' | 'jsonStatusFd' | 'syncFd' | 'blockFd' | 'usernsBlockFd' | 'usernsFd' | 'userns2Fd' | 'pidnsFd', help: string): OptionDef => ({
  args: ['FD'], help,
  run: (st, a, f) => {
    const fd = fdArg(f, a);
    bw(st)[key] = fd;
    if (fd > 2 && !st.req.spec.keepFds.includes(fd)) st.req.spec.keepFds.push(fd);
  },
});

function selinuxEnabled(): boolean {
  return fs.existsSync('/sys/fs/selinux/enforce');
}

const label = (help: string): OptionDef => ({
  args: ['LABEL'], help,
  run: (_st, _a, f) => {
    throw new SandboxError(selinuxEnabled() ? `${f}: SELinux labels are not supported by sandbox` : `${f}: SELinux is not enabled on this system, so no label can be applied`);
  },
});

/** bubblewrap's options that sandbox run lacks or reads differently. */
const BWRAP_OWN: Record<string, OptionDef> = {
  '--help': RUN_OPTIONS['--help'],
  '--version': { args: [], help: 'print the version and exit', run: (st) => { st.req.help = true; st.req.bwrapVersion = true; } },
  '--argv0': { args: ['VALUE'], help: 'argv[0] of the program', run: (st, a) => { bw(st).argv0 = a[0]; } },
  '--level-prefix': {
    args: [], help: 'prefix diagnostics with a syslog level: <3> error, <4> warning',
    run: (st) => { bw(st).levelPrefix = true; setProgram(programName(), true); },
  },
  '--unshare-all': { args: [], help: 'new namespaces of every kind, the network too', run: (st) => { st.req.spec.shareNet = false; } },
  '--unshare-net': { args: [], help: 'a new network namespace with only lo', run: (st) => { st.req.spec.shareNet = false; } },
  '--userns': fdOption('usernsFd', 'build the sandbox in this user namespace (its maps as they are) instead of a new one'),
  '--userns2': fdOption('userns2Fd', 'enter this user namespace (a child of --userns\'s) before running the program'),
  '--pidns': fdOption('pidnsFd', 'run the sandbox in this pid namespace (owned by --userns\'s user namespace)'),
  '--userns-block-fd': fdOption('usernsBlockFd', 'write no uid/gid maps: wait for data on FD while someone else does (with --info-fd)'),
  '--disable-userns': { args: [], help: 'the program may not make further user namespaces', run: (st) => { bw(st).disableUserns = true; } },
  '--assert-userns-disabled': { args: [], help: 'fail unless further user namespaces are disabled', run: (st) => { bw(st).assertUsernsDisabled = true; } },
  '--lock-file': {
    args: ['DEST'], help: 'hold a lock on DEST (inside) while the sandbox runs',
    run: (st, a, f) => { bw(st).lockFiles.push(dest(f, a, a[0])); },
  },
  '--sync-fd': fdOption('syncFd', 'keep FD open while the sandbox runs'),
  '--block-fd': fdOption('blockFd', 'wait for data on FD before running the program'),
  '--info-fd': fdOption('infoFd', 'write the child\'s pid and namespace ids as JSON to FD'),
  '--json-status-fd': fdOption('jsonStatusFd', 'write JSON lines to FD: the child\'s pid and namespaces, then its exit code'),
  '--seccomp': {
    args: ['FD'], help: 'a compiled seccomp program from FD, over the base filter (the last one given counts)',
    run: (st, a, f) => {
      const b = bw(st);
      if (b.seccomp.some((s) => !s.replace)) throw new SandboxError('--seccomp cannot be combined with --add-seccomp-fd');
      const fd = fdArg(f, a);
      b.seccomp = [{ bpf: readBpf(fd, f), origin: origin(f, a), replace: true }];
    },
  },
  '--add-seccomp-fd': {
    args: ['FD'], help: 'a compiled seccomp program from FD, stacked after those before it',
    run: (st, a, f) => {
      const b = bw(st);
      if (b.seccomp.some((s) => s.replace)) throw new SandboxError('--add-seccomp-fd cannot be combined with --seccomp');
      const fd = fdArg(f, a);
      b.seccomp.push({ bpf: readBpf(fd, f), origin: origin(f, a), replace: false });
    },
  },
  '--exec-label': label('SELinux label of the program (refused: not supported)'),
  '--file-label': label('SELinux label of the files made (refused: not supported)'),
  '--cap-add': {
    args: ['CAP'], help: 'keep a capability inside the user namespace; ALL: every one',
    run: (st, a, f) => {
      const caps = st.req.spec.capAdd;
      if (a[0] === 'ALL') { for (const c of ALL_CAPABILITIES) if (!caps.includes(c)) caps.push(c); return; }
      if (capabilityNumber(a[0]) === undefined) throw new SandboxError(`Unknown cap: ${a[0]}`);
      const n = capabilityNumber(a[0]);
      if (!caps.some((c) => capabilityNumber(c) === n)) caps.push(a[0]);
    },
  },
  '--cap-drop': {
    args: ['CAP'], help: 'drop a capability an earlier --cap-add kept; ALL: every one',
    run: (st, a) => {
      if (a[0] === 'ALL') { st.req.spec.capAdd = []; return; }
      const n = capabilityNumber(a[0]);
      if (n === undefined) throw new SandboxError(`Unknown cap: ${a[0]}`);
      st.req.spec.capAdd = st.req.spec.capAdd.filter((c) => capabilityNumber(c) !== n);
    },
  },
  '--bind-fd': {
    args: ['FD', 'DEST'], help: 'bind what the open descriptor FD is on DEST',
    run: (st, a, f) => bindFd(st, a, f, false),
  },
  '--ro-bind-fd': {
    args: ['FD', 'DEST'], help: 'same, read-only',
    run: (st, a, f) => bindFd(st, a, f, true),
  },
};

/** What the descriptor is open on, bound by its path: the stage works in a mount namespace of its own, where
 * the descriptor's mount can't be cloned. The path may contain no symlink at bind time (noFollow), so it can't
 * be swapped for another on the way. */
function bindFd(st: State, a: string[], f: string, readOnly: boolean): void {
  const fd = fdArg(f, a);
  let src: string;
  try {
    src = fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    throw new SandboxError(`Invalid fd: ${a[0]}`);
  }
  if (!src.startsWith('/') || src.endsWith(' (deleted)')) throw new SandboxError(`${f} ${a[0]}: descriptor ${fd} is not open on a path (${src})`);
  push(st, { op: 'bind', src, dst: dest(f, a, a[1]), readOnly, devices: false, optional: false, noFollow: true, origin: origin(f, a) });
  try { fs.closeSync(fd); } catch { /* consumed, as bubblewrap closes it */ }
}

export const BWRAP_OPTIONS: Record<string, OptionDef> = {
  ...Object.fromEntries(SHARED.map((n) => [n, RUN_OPTIONS[n]])),
  ...BWRAP_OWN,
};

/** --args FD, wherever it stands among the options: the NUL-separated arguments read from FD take its place. */
export function expandArgsFds(argv: string[], read: (fd: number) => Buffer = (fd) => readFd(fd, '--args data', ARGS_MAX, '--args')): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i];
    if (a === '--' || !a.startsWith('-')) break;
    if (a === '--args') {
      if (i + 1 >= argv.length) throw new SandboxError('--args takes an argument');
      if (!/^[0-9]+$/.test(argv[i + 1])) throw new SandboxError(`Invalid fd: ${argv[i + 1]}`);
      const data = read(Number(argv[i + 1])).toString('utf8');
      const inner = data.split('\0');
      if (inner.length && inner[inner.length - 1] === '') inner.pop();
      if (inner.includes('--args')) throw new SandboxError('--args not supported in arguments file');
      for (const x of inner) out.push(x); // one by one: a spread of a huge list overflows the stack
      i += 2;
      continue;
    }
    const def = BWRAP_OPTIONS[a];
    const n = def ? def.args.length : 0;
    out.push(...argv.slice(i, i + 1 + n));
    i += 1 + n;
  }
  for (const x of argv.slice(i)) out.push(x);
  return out;
}

export function parseBwrapArgs(argv: string[], cwd: string): RunRequest {
  const req = parseRunArgs(expandArgsFds(argv), cwd, {
    table: BWRAP_OPTIONS,
    bwrap: true,
    alwaysOn: BWRAP_ALWAYS_ON,
    unknown: (flag) => `Unknown option ${flag}`,
    // bubblewrap's defaults: the network shared, the sandbox left running when its parent dies
    initial: (spec) => { spec.shareNet = true; spec.dieWithParent = false; },
  });
  req.profile = null;
  req.bwrap ??= newBwrapRequest();
  if (req.spec.cwd !== undefined) req.bwrap.chdir = true;
  // with a user namespace of the caller's the filter's namespaces item makes sure of it; otherwise ours is new and open
  if (req.bwrap.assertUsernsDisabled && req.bwrap.usernsFd !== undefined) req.bwrap.disableUserns = true;
  if (req.bwrap.assertUsernsDisabled && !req.bwrap.disableUserns) throw new SandboxError('creation of new user namespaces was not disabled as requested');
  if (req.bwrap.userns2Fd !== undefined && req.bwrap.usernsFd === undefined) throw new SandboxError('--userns2 requires --userns');
  if (req.bwrap.usernsBlockFd !== undefined && req.bwrap.infoFd === undefined) throw new SandboxError('--userns-block-fd requires --info-fd');
  if (req.bwrap.usernsBlockFd !== undefined && req.bwrap.usernsFd !== undefined) throw new SandboxError('--userns-block-fd cannot be used with --userns');
  if (req.bwrap.pidnsFd !== undefined && req.bwrap.usernsFd === undefined) throw new SandboxError('--pidns requires --userns (the pid namespace must be owned by the user namespace the sandbox is built in)');
  if (req.bwrap.usernsFd !== undefined && (req.spec.uid !== undefined || req.spec.gid !== undefined)) throw new SandboxError('--uid and --gid cannot be used with --userns (its maps decide the ids)');
  return req;
}

/** bubblewrap's words for a missing bind source, checked before anything starts. */
export function checkBwrapSources(spec: SandboxSpec): void {
  const sources = spec.mounts.flatMap((m) => m.op === 'bind' && !m.optional ? [m.src]
    : m.op === 'overlay' ? [...m.lower, ...(m.upper ? [m.upper] : []), ...(m.work ? [m.work] : [])] : []);
  for (const src of sources) {
    try {
      fs.statSync(src);
    } catch (e) {
      throw new SandboxError(`Can't find source path ${src}: ${describeError(e)}`, undefined, { cause: e });
    }
  }
}

/** The base filter's items, less `namespaces` (unless --disable-userns), as a policy sandbox's compiler takes. */
export function bwrapSeccompPolicy(req: BwrapRequest): SeccompPolicy | null {
  if (req.disableUserns) return null;
  const o = 'bwrap mode';
  return {
    defaultAction: { kind: 'allow' }, defaultOrigin: o, rules: [], format: 'sandbox', origin: o,
    loosen: [{ item: 'namespaces', reason: 'bubblewrap lets the program make nested user namespaces (--disable-userns closes them)', origin: o }],
  };
}

/** Whether a mount of the plan shows path (a directory it binds or mounts, or one below). */
function visibleInside(p: string, mounts: Plan['mounts']): boolean {
  return mounts.some((m) => (m.op === 'bind' || m.op === 'tmpfs') && (m.dst === '/' || p === m.dst || p.startsWith(m.dst + '/')));
}

/** What bubblewrap does differently from sandbox run once the plan is built: the environment and the host name. */
export function finishBwrapPlan(plan: Plan, spec: SandboxSpec, req: BwrapRequest, hostEnv: Record<string, string | undefined>, callerCwd: string): Plan {
  let env = plan.env;
  // bubblewrap adds no PATH of its own; --clearenv keeps PWD
  const pathKept = spec.env.set.PATH !== undefined || (!spec.env.clear && hostEnv.PATH !== undefined && !spec.env.unset.includes('PATH'));
  if (!pathKept) env = env.filter((e) => !e.startsWith('PATH='));
  if (spec.env.clear && hostEnv.PWD !== undefined && !env.some((e) => e.startsWith('PWD=')) && !spec.env.unset.includes('PWD')) env = [...env, `PWD=${hostEnv.PWD}`];
  // Without --chdir bubblewrap stays in the caller's directory where it can, else goes to $HOME, else to /, and
  // says where in PWD when it moved
  let cwd = plan.cwd;
  if (!req.chdir && plan.cwdFallback && cwd === '/' && callerCwd !== '/') {
    const home = hostEnv.HOME;
    if (home && home.startsWith('/') && visibleInside(home, plan.mounts)) cwd = home;
  }
  if (req.chdir || cwd !== callerCwd) env = [...env.filter((e) => !e.startsWith('PWD=')), `PWD=${cwd}`];
  const extra: Plan['bwrap'] = {
    diagnosticPrefix: `${req.levelPrefix ? '<3>' : ''}bwrap`,
    argv0: req.argv0, infoFd: req.infoFd, jsonStatusFd: req.jsonStatusFd, syncFd: req.syncFd, blockFd: req.blockFd,
    usernsBlockFd: req.usernsBlockFd, usernsFd: req.usernsFd, userns2Fd: req.userns2Fd, pidnsFd: req.pidnsFd,
    lockFiles: req.lockFiles, seccomp: req.seccomp.map((s) => ({ bpf: s.bpf.toString('base64'), origin: s.origin })),
  };
  return { ...plan, cwd, env, hostname: spec.hostname ?? os.hostname(), bwrap: extra };
}

export function bwrapHelp(): string {
  const lines = ['usage: bwrap [OPTIONS...] [--] COMMAND [ARGS...]', '',
    'sandbox in bwrap mode: bubblewrap\'s command line, run by sandbox. Only what the options say is set up; the',
    'base seccomp filter stays, less its namespaces item (see the README, "bwrap mode").', '',
    '    --help                       this help', '    --version                    the version',
    '    --args FD                    read NUL-separated arguments from FD'];
  for (const [name, def] of Object.entries(BWRAP_OPTIONS)) {
    if (name === '--help' || name === '--version') continue;
    const left = `    ${name}${def.args.length ? ' ' + def.args.join(' ') : ''}`;
    lines.push(left.padEnd(33) + def.help);
  }
  lines.push('', `Accepted, always in force: ${BWRAP_ALWAYS_ON.join(' ')}`);
  return lines.join('\n');
}

