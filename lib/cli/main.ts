// The command line of sandbox: subcommands, help, version, and the only place that prints errors and
// sets the exit status. Everything below throws SandboxError.
import * as fs from 'fs';
import * as path from 'path';
import minimist from 'minimist';
import { SandboxError, EXIT, errnoMessage } from '../errors';
import { diagnostic, setProgram } from './program';
import { packageRoot } from '../paths';
import { runCommand, setLaunchParent, type RunIo } from './run';

const HELP = `Usage: sandbox COMMAND [OPTIONS]

A rootless sandbox launcher: programs run in new namespaces on a root built from a profile,
with a seccomp filter and cgroup limits, as an ordinary user (no setuid, no daemon).

Commands:
  run [OPTIONS] [--] PROGRAM [ARGS...]   run PROGRAM in a new sandbox (sandbox run --help)
  compile [OPTIONS] -o FILE [-- CMD]     write the plan once, for sandbox-exec FILE -- CMD (no Node at launch)
  profiles                               list the profiles: name, shipped or user, the programs each is made for, description
  profile show NAME                      the fully resolved profile, each entry marked with its file
  profile check FILE                     validate a profile
  seccomp groups                         the syscall groups (@mount, @privileged, ...)
  seccomp explain PROFILE SYSCALL        what the compiled filter does for SYSCALL, and which rule decided
  doctor [--json]                        what this host allows a sandbox, and what to do about it
  bwrap [OPTIONS] [--] PROGRAM [ARGS...] bubblewrap's command line (bwrap mode; sandbox bwrap --help)
  install-bwrap-link DIR                 a link DIR/bwrap to sandbox: programs that run bwrap get bwrap mode
  desktop install|list|remove APP        menu entries and ~/.local/bin wrappers that run APP in a sandbox
  --help                                 this help
  --version                              the version

Examples:
  sandbox run --no-profile --ro-bind / / --dev /dev --proc /proc -- id
  sandbox run --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib64 /lib64 --symlink usr/lib /lib sh -c 'ls /'
`;

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** `seccomp explain` takes a profile name, a profile file, or a bare seccomp policy file. */
function profilePolicyLoader(nameOrPath: string): import('./seccomp-command').LoadedPolicy {
  const { loadSeccompFile } = require('./seccomp-command') as typeof import('./seccomp-command');
  const { loadProfile, hostProfileContext, findProfile } = require('../profile/index') as typeof import('../profile/index');
  const ctx = hostProfileContext();
  let isProfile = true;
  try {
    findProfile(nameOrPath, ctx);
  } catch {
    isProfile = false;
  }
  if (!isProfile || (/\.json$/.test(nameOrPath) && !/\.json5$/.test(nameOrPath))) return loadSeccompFile(nameOrPath);
  const loaded = loadProfile(nameOrPath, ctx);
  return { policy: loaded.spec.seccomp?.policy ?? null, keptCaps: loaded.spec.capAdd, sharedPid: !!loaded.spec.sharePid };
}

export function main(argv: string[], io: RunIo): number {
  setProgram('sandbox'); // bwrap mode names itself below; a caller running main twice starts afresh
  // Only the global flags before the subcommand; stopEarly leaves the subcommand's own arguments alone.
  // Anything else that looks like an option is refused before minimist sees it (it throws on some, like "--=x").
  for (const a of argv) {
    if (!a.startsWith('-')) break;
    if (!['--help', '-h', '--version', '-V'].includes(a)) throw new SandboxError(`${a.replace(/(.)=.*$/, '$1')}: unknown option (see sandbox --help)`);
  }
  const global = minimist(argv, {
    boolean: ['help', 'version'],
    alias: { h: 'help', V: 'version' },
    stopEarly: true,
    unknown: (arg) => {
      if (arg.startsWith('-')) throw new SandboxError(`${arg.replace(/=.*$/, '')}: unknown option (see sandbox --help)`);
      return true;
    },
  });
  const cmd = global._.length ? String(global._[0]) : undefined;
  const sub = cmd === undefined ? [] : argv.slice(argv.indexOf(cmd) + 1);
  if (global.version) { io.out(`sandbox ${version()}`); return 0; }
  if (global.help || cmd === 'help') {
    io.out(HELP.trimEnd());
    return 0;
  }
  if (cmd === undefined) throw new SandboxError('no command given (see sandbox --help)');
  switch (cmd) {
    case 'run': return runCommand(sub, io);
    case 'bwrap':
      setProgram('bwrap');
      return runCommand(sub, io, { bwrap: true });
    case 'install-bwrap-link': return installBwrapLink(sub, io);
    case 'compile': {
      const { runCompileCommand } = require('./compile') as typeof import('./compile');
      return runCompileCommand(sub, io);
    }
    case 'profiles':
    case 'profile': {
      const { runProfilesCommand } = require('./profile-command') as typeof import('./profile-command');
      return runProfilesCommand([cmd, ...sub], io);
    }
    case 'seccomp': {
      const { runSeccompCommand } = require('./seccomp-command') as typeof import('./seccomp-command');
      return runSeccompCommand(sub, io, profilePolicyLoader);
    }
    case 'doctor': {
      const { runDoctorCommand } = require('./doctor-command') as typeof import('./doctor-command');
      return runDoctorCommand(sub, io);
    }
    case 'desktop': {
      const { runDesktopCommand } = require('./desktop-command') as typeof import('./desktop-command');
      return runDesktopCommand(sub, io);
    }
    default: throw new SandboxError(`${cmd}: unknown command (see sandbox --help)`);
  }
}

/** `sandbox install-bwrap-link DIR`: DIR/bwrap, a symbolic link to the launcher (native/launch.c runs it in bwrap mode). */
function installBwrapLink(args: string[], io: RunIo): number {
  if (args.length !== 1 || args[0].startsWith('-')) throw new SandboxError('usage: sandbox install-bwrap-link DIR');
  const dir = path.resolve(args[0]);
  const link = path.join(dir, 'bwrap');
  const target = path.join(packageRoot(), 'bin', 'sandbox');
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw new SandboxError(`${dir}: ${errnoMessage((e as NodeJS.ErrnoException).code)}`);
  }
  if (!st.isDirectory()) throw new SandboxError(`${dir}: not a directory`);
  let existing: string | null = null;
  try {
    existing = fs.readlinkSync(link);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EINVAL') throw new SandboxError(`${link} exists and is not a link: remove it first (it may be bubblewrap itself)`);
    if (code !== 'ENOENT') throw new SandboxError(`${link}: ${errnoMessage(code)}`);
  }
  if (existing !== null && path.resolve(dir, existing) !== target) throw new SandboxError(`${link} is a link to ${existing}: remove it first`);
  if (existing === null) {
    try {
      fs.symlinkSync(target, link);
    } catch (e) {
      throw new SandboxError(`${link}: ${errnoMessage((e as NodeJS.ErrnoException).code)}`);
    }
  }
  io.out(`${link} -> ${target}`);
  return 0;
}

/** The entry: prints one line for any error, sets process.exitCode, never a stack trace unless DEBUG asks. */
export function entry(parentPid?: number): void {
  if (parentPid) setLaunchParent(parentPid);
  const io: RunIo = {
    out: (t) => { process.stdout.write(t.endsWith('\n') ? t : t + '\n'); },
    err: (t) => { process.stderr.write(t.endsWith('\n') ? t : t + '\n'); },
  };
  try {
    process.exitCode = main(process.argv.slice(2), io);
  } catch (e) {
    if (e instanceof SandboxError) {
      io.err(diagnostic(3, e.message));
      process.exitCode = e.exitCode;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      io.err(diagnostic(3, `internal error: ${msg.split('\n')[0]}`));
      if (/sandbox/.test(process.env.DEBUG ?? '') && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = EXIT.SANDBOX;
    }
  }
}
