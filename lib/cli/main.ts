// The command line of sandbox: subcommands, help, version, and the only place that prints errors and
// sets the exit status. Everything below throws SandboxError.
import * as fs from 'fs';
import * as path from 'path';
import minimist from 'minimist';
import { SandboxError, EXIT } from '../errors';
import { diagnostic, setProgram } from './program';
import { packageRoot } from '../paths';
import { runCommand, setLaunchParent, type RunIo } from './run';
import { asksHelp, commandHelp, COMMANDS, findCommand, GLOBAL_OPTIONS, mainHelp } from './commands';
import { didYouMean } from './suggest';

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
    if (!['--help', '-h', '--version', '-V'].includes(a)) {
      const flag = a.replace(/(.)=.*$/, '$1');
      throw new SandboxError(`${flag}: unknown option${didYouMean(flag, GLOBAL_OPTIONS.map((g) => g.name))} (see sandbox --help)`);
    }
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
  if (global.help || (cmd === 'help' && sub.length === 0)) {
    io.out(mainHelp());
    return 0;
  }
  if (cmd === undefined) throw new SandboxError('no command given (see sandbox --help)');
  // `sandbox help CMD [SUB]` is `sandbox CMD [SUB] --help`
  if (cmd === 'help') return main([...sub, '--help'], io);
  const def = findCommand(cmd);
  if (def?.subcommands && asksHelp(sub) && cmd !== 'desktop') {
    io.out(commandHelp(def, def.subcommands.find((s) => s.name === sub[0])));
    return 0;
  }
  if ((cmd === 'profiles' || cmd === 'completion' || cmd === 'install-bwrap-link') && asksHelp(sub)) {
    io.out(commandHelp(def!));
    return 0;
  }
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
    case 'ps':
    case 'enter':
    case 'stop': {
      const r = require('./running-commands') as typeof import('./running-commands');
      return (cmd === 'ps' ? r.runPsCommand : cmd === 'enter' ? r.runEnterCommand : r.runStopCommand)(sub, io);
    }
    case 'cache': {
      if (sub.length !== 1 || sub[0] !== 'clear') throw new SandboxError(`${sub[0] ?? 'cache'}: expected sandbox cache clear`);
      const { clearCache, cacheDir } = require('../host/plan-cache') as typeof import('../host/plan-cache');
      const n = clearCache(process.env);
      io.err(`sandbox: removed ${n} kept plan${n === 1 ? '' : 's'} from ${cacheDir(process.env)}`);
      return 0;
    }
    case 'doctor': {
      const { runDoctorCommand } = require('./doctor-command') as typeof import('./doctor-command');
      return runDoctorCommand(sub, io);
    }
    case 'desktop': {
      const { runDesktopCommand } = require('./desktop-command') as typeof import('./desktop-command');
      return runDesktopCommand(sub, io);
    }
    case 'completion': {
      const { runCompletionCommand } = require('./completion') as typeof import('./completion');
      return runCompletionCommand(sub, io);
    }
    default: throw new SandboxError(`${cmd}: unknown command${didYouMean(cmd, COMMANDS.map((c) => c.name))} (see sandbox --help)`);
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
    throw SandboxError.wrap(dir, e);
  }
  if (!st.isDirectory()) throw new SandboxError(`${dir}: not a directory`);
  let existing: string | null = null;
  try {
    existing = fs.readlinkSync(link);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EINVAL') throw new SandboxError(`${link} exists and is not a link: remove it first (it may be bubblewrap itself)`);
    if (code !== 'ENOENT') throw SandboxError.wrap(link, e);
  }
  if (existing !== null && path.resolve(dir, existing) !== target) throw new SandboxError(`${link} is a link to ${existing}: remove it first`);
  if (existing === null) {
    try {
      fs.symlinkSync(target, link);
    } catch (e) {
      throw SandboxError.wrap(link, e);
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
      // what the message was made from, for whoever debugs it (the message already says it in words)
      if (/sandbox/.test(process.env.DEBUG ?? '') && e.cause !== undefined) process.stderr.write(`sandbox: caused by: ${e.cause instanceof Error ? e.cause.stack : JSON.stringify(e.cause)}\n`);
      process.exitCode = e.exitCode;
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      io.err(diagnostic(3, `internal error: ${msg.split('\n')[0]}`));
      if (/sandbox/.test(process.env.DEBUG ?? '') && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = EXIT.SANDBOX;
    }
  }
}

/** The build's code cache warm-up of a miss's keeping (scripts/bundle.js). */
export { warmKeep } from './plan-cache-run';
