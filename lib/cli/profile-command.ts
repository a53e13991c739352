// The profile subcommands: `sandbox profiles`, `sandbox profile show NAME`, `sandbox profile check FILE`.
// Prints through the io it is given and returns the exit code; errors travel up as SandboxError.
import { SandboxError } from '../errors';
import { didYouMean } from './suggest';
import { checkProfile, formatResolvedProfile, hostProfileContext, listProfiles, resolveProfile, type ProfileContext } from '../profile';

export interface CommandIO {
  out(s: string): void;
  err(s: string): void;
}

const USAGE = 'usage: sandbox profiles | sandbox profile show NAME | sandbox profile check FILE';

/** args: what follows "sandbox", e.g. ["profiles"] or ["profile", "check", "x.json5"]. */
export function runProfilesCommand(args: string[], io: CommandIO, ctx: ProfileContext = hostProfileContext()): number {
  const [cmd, sub, target, ...rest] = args;
  if (cmd === 'profiles') {
    if (args.length > 1) throw new SandboxError(`profiles: found extra argument "${args[1]}", expected none (${USAGE})`);
    const list = listProfiles(ctx);
    const width = Math.max(4, ...list.map((p) => p.name.length));
    // The programs `sandbox run PROGRAM` picks the profile for, without --profile.
    const programs = (p: (typeof list)[number]): string => (p.programs.length ? p.programs.join(',') : '-');
    const pwidth = Math.max(8, ...list.map((p) => programs(p).length));
    io.out(`${'NAME'.padEnd(width)}  SOURCE   ${'PROGRAMS'.padEnd(pwidth)}  DESCRIPTION\n`);
    for (const p of list) {
      const desc = p.error ? `(invalid: ${p.error})` : p.description + (p.shadows ? ' (overrides the shipped one)' : '');
      io.out(`${p.name.padEnd(width)}  ${p.source.padEnd(7)}  ${programs(p).padEnd(pwidth)}  ${desc}\n`);
    }
    return 0;
  }
  if (cmd !== 'profile') throw new SandboxError(`found command "${cmd ?? ''}", expected ${USAGE}`);
  if ((sub === 'show' || sub === 'check') && (!target || rest.length)) throw new SandboxError(`profile ${sub ?? ''}: expected exactly one NAME or FILE (${USAGE})`);
  if (sub === 'show') {
    io.out(formatResolvedProfile(resolveProfile(target, ctx)));
    return 0;
  }
  if (sub === 'check') {
    checkProfile(target, ctx);
    io.out(`${target}: ok\n`);
    return 0;
  }
  throw new SandboxError(`profile: found subcommand "${sub ?? ''}", expected show or check${didYouMean(sub ?? '', ['show', 'check'])} (${USAGE})`);
}
