// `sandbox desktop install|list|remove`: menu entries and wrapper commands that start an application
// through `sandbox run`. Parses the options and prints; the work is lib/desktop/install.ts.
import * as path from 'path';
import { SandboxError } from '../errors';
import { didYouMean } from './suggest';
import { packageRoot } from '../paths';
import { installEntry, listEntries, removeEntry, type DesktopContext } from '../desktop/install';

export interface DesktopIo {
  out(s: string): void;
  err(s: string): void;
}

const HELP = `Usage: sandbox desktop install APP [--profile P] [--wrapper] [--force]
       sandbox desktop list
       sandbox desktop remove APP

install  copies APP's menu entry (a desktop file id like firefox-esr, or the path of a .desktop file) to
         ~/.local/share/applications with every Exec run through "sandbox run --profile P --".
         P defaults to the profile made for the application (the one whose programs list APP or its
         Exec's program, as sandbox run picks it), else one named after it, else "desktop".
         Files of %f/%F/%u/%U are bound alone into the sandbox (sandbox run --file-args profile).
         --wrapper also writes ~/.local/bin/APP, a script that runs the program the same way (binding
         the files it is given when the profile has fileArgs).
         --force replaces an entry of that name that sandbox did not write.
list     the entries sandbox desktop installed: name, profile, original entry, wrapper.
remove   deletes what install wrote for APP (entry, wrapper, directories it created).`;

function hostContext(): DesktopContext {
  const { findProfile, hostProfileContext, profileForProgram, resolveProfile } = require('../profile/index') as typeof import('../profile/index');
  const pctx = hostProfileContext();
  return {
    env: process.env,
    cwd: process.cwd(),
    sandbox: path.join(packageRoot(), 'bin', 'sandbox'),
    resolveProfile: (p) => {
      const file = findProfile(p, pctx);
      return p.includes('/') || p.endsWith('.json5') ? file : p;
    },
    profileFor: (program) => profileForProgram(program, pctx)?.name,
    forwardsFiles: (p) => {
      try {
        return resolveProfile(p, pctx).doc.fileArgs !== undefined;
      } catch {
        return false;
      }
    },
    hasProfile: (n) => {
      try {
        findProfile(n, pctx);
        return true;
      } catch {
        return false;
      }
    },
  };
}

export function runDesktopCommand(args: string[], io: DesktopIo, ctx: DesktopContext = hostContext()): number {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new SandboxError('desktop: expected a subcommand: install, list or remove (see sandbox desktop --help)');
  if (sub === '--help' || sub === '-h' || sub === 'help' || rest.some((a) => a === '--help' || a === '-h')) {
    io.out(HELP);
    return 0;
  }
  const positional: string[] = [];
  const opts: { profile?: string; wrapper?: boolean; force?: boolean } = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (sub === 'install' && name === '--profile') {
      const v = inline ?? rest[++i];
      if (v === undefined || v === '') throw new SandboxError('desktop install --profile: expected a profile name or file');
      opts.profile = v;
    } else if (sub === 'install' && (a === '--wrapper' || a === '--force')) {
      opts[a === '--wrapper' ? 'wrapper' : 'force'] = true;
    } else if (a === '--') {
      positional.push(...rest.slice(i + 1));
      break;
    } else if (a.startsWith('-')) {
      throw new SandboxError(`desktop ${sub}: ${name}: unknown option (see sandbox desktop --help)`);
    } else positional.push(a);
  }
  switch (sub) {
    case 'install': {
      if (positional.length !== 1) throw new SandboxError(`desktop install: expected exactly one APP, found ${positional.length}`);
      const r = installEntry(positional[0], opts, ctx);
      for (const w of r.warnings) io.err(`sandbox: warning: ${w}`);
      io.out(`installed ${r.entry} (profile ${r.profile}, from ${r.original})${r.wrapper ? `\ninstalled ${r.wrapper}` : ''}`);
      return 0;
    }
    case 'list': {
      if (positional.length) throw new SandboxError(`desktop list: found extra argument "${positional[0]}", expected none`);
      const list = listEntries(ctx);
      const w = Math.max(4, ...list.map((e) => e.id.length));
      const pw = Math.max(7, ...list.map((e) => e.profile.length));
      io.out(`${'NAME'.padEnd(w)}  ${'PROFILE'.padEnd(pw)}  ORIGINAL`);
      for (const e of list) io.out(`${e.id.padEnd(w)}  ${e.profile.padEnd(pw)}  ${e.original}${e.wrapper ? `  (wrapper ${e.wrapper})` : ''}`);
      return 0;
    }
    case 'remove': {
      if (positional.length !== 1) throw new SandboxError(`desktop remove: expected exactly one APP, found ${positional.length}`);
      const r = removeEntry(positional[0], ctx);
      for (const w of r.warnings) io.err(`sandbox: warning: ${w}`);
      for (const f of r.removed) io.out(`removed ${f}`);
      return 0;
    }
    default:
      throw new SandboxError(`desktop: found subcommand "${sub}", expected install, list or remove${didYouMean(sub, ['install', 'list', 'remove'])} (see sandbox desktop --help)`);
  }
}
