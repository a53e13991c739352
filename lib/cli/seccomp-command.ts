// `sandbox seccomp groups` and `sandbox seccomp explain FILE-OR-PROFILE SYSCALL [--arch A]`.
import * as fs from 'fs';
import { locatorFor, parseJson5Text } from '../json5-text';
import { SandboxError } from '../errors';
import { didYouMean } from './suggest';
import { ARCHES, Arch, hostArch } from '../seccomp/arch';
import { explainSyscall, formatGroups } from '../seccomp/explain';
import { SeccompPolicy, parseSeccompSection } from '../seccomp/policy';
import { sandboxPolicy } from '../seccomp/index';

export interface SeccompCommandIO {
  out: (s: string) => void;
}

export interface LoadedPolicy {
  /** The profile's seccomp policy, or null when it has none (the base filter alone then). */
  policy: SeccompPolicy | null;
  /** Capabilities the profile keeps, for Docker rules that depend on them. */
  keptCaps?: string[];
  /** The profile keeps the host's pid namespace: the base filter's host-pid-namespace items apply. */
  sharedPid?: boolean;
}

export type PolicyLoader = (nameOrPath: string) => LoadedPolicy;

const USAGE = 'usage: sandbox seccomp groups | sandbox seccomp explain FILE-OR-PROFILE SYSCALL [--arch x86_64|aarch64]';

/** A JSON or JSON5 file holding a seccomp section (ours or Docker/OCI). */
export function loadSeccompFile(path: string): LoadedPolicy {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw SandboxError.wrap(path, e);
  }
  const raw = parseJson5Text(path, text);
  return { policy: parseSeccompSection(raw, locatorFor(text, path)) };
}

export function runSeccompCommand(args: string[], io: SeccompCommandIO, loadPolicy: PolicyLoader = loadSeccompFile): number {
  const [sub, ...rest] = args;
  if (sub === 'groups' && rest.length === 0) {
    io.out(formatGroups());
    return 0;
  }
  if (sub === 'explain') {
    let arch: Arch | null = hostArch();
    const pos: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i];
      if (a === '--arch' || a.startsWith('--arch=')) {
        const v = a === '--arch' ? rest[++i] : a.slice(7);
        if (!ARCHES.includes(v as Arch)) throw new SandboxError(`--arch: expected ${ARCHES.join(' or ')}, got "${v ?? ''}"`);
        arch = v as Arch;
      } else pos.push(a);
    }
    if (pos.length !== 2) throw new SandboxError(USAGE);
    if (!arch) throw new SandboxError(`sandbox has no syscall table for ${process.arch}; pass --arch`);
    const loaded = loadPolicy(pos[0]);
    io.out(explainSyscall(sandboxPolicy(loaded.policy, { sharedPid: !!loaded.sharedPid }), arch, pos[1], { keptCaps: loaded.keptCaps ?? [] }));
    return 0;
  }
  if (sub !== 'groups' && sub !== 'explain') throw new SandboxError(`seccomp: found ${sub === undefined ? 'no subcommand' : `subcommand "${sub}"`}, expected groups or explain${didYouMean(sub ?? '', ['groups', 'explain'])} (${USAGE})`);
  throw new SandboxError(USAGE);
}
