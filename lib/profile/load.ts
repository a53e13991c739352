// Finding profiles by name or path, following `extends` (each file once, bases first, cycles refused),
// and the entry points: loadProfile (to a SandboxSpec), checkProfile (validation only), listProfiles,
// and ensureProfileDirs, the one function here that writes (the persistent home).
import fs from 'node:fs';
import path from 'node:path';
import { SandboxError, describeError } from '../errors';
import type { SandboxSpec } from '../plan/spec';
import { buildSpec, entriesAfterDrops, parseProfileSeccomp } from './build';
import { listDirOf, readFileOf, type ProfileContext } from './context';
import { PROGRAM_NAME_RE } from './tables';
import { readProfileText, type Locate, type ProfileDoc } from './document';
import { mergeChain } from './merge';

export interface ResolvedProfile {
  name: string;
  file: string;
  /** Every file that contributed, most basic first (the order they were merged in). */
  chain: string[];
  /** The merged profile; every entry carries the file:line:col it came from. */
  doc: ProfileDoc;
}

export interface LoadedProfile {
  name: string;
  file: string;
  spec: SandboxSpec;
  resolved: ResolvedProfile;
  /** A directory to create (mode 0700) before launch: the persistent home. */
  persistHome?: string;
  /** Positions inside the merged seccomp section, for lib/seccomp's messages. */
  seccompLocate?: Locate;
  /** One-line notes for stderr: what the launcher changed in the profile's meaning (a home bound read-only). */
  notes: string[];
}

/** A value with a slash, or ending in .json5, is a path; anything else is a profile name. */
export const isProfilePath = (s: string): boolean => s.includes('/') || s.endsWith('.json5');

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The candidates for a name, user's first; `except` skips a file so a user profile can extend the shipped one of its own name. */
function findByName(name: string, ctx: ProfileContext, except?: string): string | undefined {
  for (const dir of [ctx.userDir, ctx.shippedDir]) {
    const f = path.resolve(dir, `${name}.json5`);
    if (f !== except && ctx.exists(f)) return f;
  }
  return undefined;
}

const notFound = (name: string, ctx: ProfileContext): string =>
  `a profile name (a file NAME.json5 in ${ctx.userDir} or ${ctx.shippedDir}) or a path to a .json5 file`;

/** Resolves what --profile says to a file, or throws naming the option. */
export function findProfile(nameOrPath: string, ctx: ProfileContext): string {
  if (isProfilePath(nameOrPath)) {
    const f = path.resolve(ctx.cwd, nameOrPath);
    if (!ctx.exists(f)) throw new SandboxError(`--profile ${nameOrPath}: found no file ${f}, expected a profile file`);
    return f;
  }
  const f = NAME_RE.test(nameOrPath) ? findByName(nameOrPath, ctx) : undefined;
  if (!f) {
    const { didYouMean } = require('../cli/suggest') as typeof import('../cli/suggest');
    const known = [...new Set([...profileNamesIn(ctx.userDir), ...profileNamesIn(ctx.shippedDir)])];
    throw new SandboxError(`--profile ${nameOrPath}: found no profile "${nameOrPath}", expected ${notFound(nameOrPath, ctx)}${didYouMean(nameOrPath, known, '; ')}`);
  }
  return f;
}

export const profileName = (file: string): string => path.basename(file).replace(/\.json5$/, '');

/** Reads a file and all it extends; returns the chain bases first, each file once. */
export function readChain(file: string, ctx: ProfileContext): ProfileDoc[] {
  const read = readFileOf(ctx);
  const order: ProfileDoc[] = [];
  const done = new Set<string>();
  const visit = (f: string, stack: string[]): void => {
    if (done.has(f)) return;
    let text: string;
    try {
      text = read(f);
    } catch (e) {
      throw SandboxError.wrap(`${f}: can't read the profile`, e);
    }
    const doc = readProfileText(f, text);
    for (const ext of doc.extends) {
      let target: string | undefined;
      if (isProfilePath(ext.value)) {
        target = path.resolve(path.dirname(f), ext.value);
        if (!ctx.exists(target)) target = undefined;
      } else if (NAME_RE.test(ext.value)) {
        // A user profile may extend the shipped one of its own name; only a file naming itself is a cycle.
        target = findByName(ext.value, ctx, f) ?? (findByName(ext.value, ctx) === f ? f : undefined);
      }
      if (!target) throw new SandboxError(`${ext.at}: found extends ${JSON.stringify(ext.value)}, which names no profile; expected ${notFound(ext.value, ctx)}`);
      const loop = [...stack, f];
      if (loop.includes(target)) {
        const cycle = [...loop.slice(loop.indexOf(target)), target].map((p) => path.basename(p)).join(' -> ');
        throw new SandboxError(`${ext.at}: found extends ${JSON.stringify(ext.value)} making a cycle (${cycle}), expected a profile that doesn't extend itself`);
      }
      visit(target, loop);
    }
    done.add(f);
    order.push(doc);
  };
  visit(file, []);
  return order;
}

/** Parses, validates and merges (applying `drop`) without probing the host: what `profile check` and `show` do. */
export function resolveProfile(nameOrPath: string, ctx: ProfileContext): ResolvedProfile {
  const r = resolveWithDrops(nameOrPath, ctx);
  return { ...r, doc: { ...r.doc, filesystem: entriesAfterDrops(r.doc.filesystem, ctx) } };
}

/** The merged profile with its `drop` entries still in the filesystem list (buildSpec applies them). */
function resolveWithDrops(nameOrPath: string, ctx: ProfileContext): ResolvedProfile {
  const file = findProfile(nameOrPath, ctx);
  const chain = readChain(file, ctx);
  const doc = mergeChain(chain);
  return { name: profileName(file), file, chain: chain.map((d) => d.file), doc };
}

export function loadProfile(nameOrPath: string, ctx: ProfileContext): LoadedProfile {
  const resolved = resolveWithDrops(nameOrPath, ctx);
  const built = buildSpec(resolved.doc, resolved.name, ctx);
  const loaded: LoadedProfile = {
    name: resolved.name,
    file: resolved.file,
    spec: built.spec,
    resolved: { ...resolved, doc: { ...resolved.doc, filesystem: built.filesystem } },
    notes: built.notes,
  };
  if (built.persistHome) loaded.persistHome = built.persistHome;
  if (resolved.doc.seccomp) loaded.seccompLocate = resolved.doc.seccomp.locate;
  return loaded;
}

/** Validates a file (and what it extends) without expanding anything; returns the resolved profile. */
export function checkProfile(fileOrName: string, ctx: ProfileContext): ResolvedProfile {
  const r = resolveProfile(fileOrName, ctx);
  if (r.doc.seccomp) parseProfileSeccomp(r.doc.seccomp.policy, r.doc.seccomp.locate);
  return r;
}

export interface ProfileListing {
  name: string;
  source: 'user' | 'shipped';
  file: string;
  description: string;
  /** The programs it is made for (its own `programs`). */
  programs: string[];
  /** A shipped profile of the same name that this user profile hides. */
  shadows?: string;
  /** Set when the file doesn't parse or validate: the one-line error. */
  error?: string;
}

/** The profile names a directory holds (NAME.json5), [] when it can't be read. */
export function profileNamesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => n.endsWith('.json5')).map((n) => n.slice(0, -6)).filter((n) => NAME_RE.test(n));
  } catch {
    return [];
  }
}

export function listProfiles(ctx: ProfileContext): ProfileListing[] {
  const read = readFileOf(ctx);
  const names = profileNamesIn;
  const shipped = new Set(names(ctx.shippedDir));
  const out: ProfileListing[] = [];
  const add = (name: string, source: 'user' | 'shipped', dir: string): void => {
    const file = path.join(dir, `${name}.json5`);
    const entry: ProfileListing = { name, source, file, description: '', programs: [] };
    if (source === 'user' && shipped.has(name)) entry.shadows = path.join(ctx.shippedDir, `${name}.json5`);
    try {
      const doc = readProfileText(file, read(file));
      entry.description = doc.description?.value ?? '';
      entry.programs = (doc.programs ?? []).map((m) => m.value);
    } catch (e) {
      entry.error = e instanceof SandboxError ? e.message : `${file}: ${describeError(e)}`;
    }
    out.push(entry);
  };
  const user = names(ctx.userDir);
  for (const n of user) add(n, 'user', ctx.userDir);
  for (const n of shipped) if (!user.includes(n)) add(n, 'shipped', ctx.shippedDir);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Creates the persistent home (mode 0700) of a loaded profile; the only write of this module. */
export function ensureProfileDirs(loaded: Pick<LoadedProfile, 'persistHome' | 'resolved'>): void {
  if (!loaded.persistHome) return;
  try {
    fs.mkdirSync(loaded.persistHome, { recursive: true, mode: 0o700 });
    fs.chmodSync(loaded.persistHome, 0o700);
  } catch (e) {
    throw SandboxError.wrap(`${loaded.resolved.doc.home?.at ?? loaded.resolved.file}: can't create the persistent home ${loaded.persistHome}`, e);
  }
}

/** A profile chosen for a program because its `programs` list names it. */
export interface ProgramProfile {
  name: string;
  file: string;
  source: 'user' | 'shipped';
  /** The name matched: the command's base name as typed. */
  program: string;
}

/**
 * The profile made for COMMAND (argv[0] as typed; a path counts by its base name, nothing is resolved), or
 * undefined. User profiles win over shipped ones, and a user profile hides the shipped one of its name (and
 * its claims). Two claims at the same level are refused: which one ran would depend on directory order.
 */
export function profileForProgram(command: string, ctx: ProfileContext): ProgramProfile | undefined {
  const program = path.posix.basename(command);
  if (!program || !PROGRAM_NAME_RE.test(program)) return undefined;
  const read = readFileOf(ctx);
  const names = (dir: string): string[] => listDirOf(ctx)(dir).filter((n) => n.endsWith('.json5') && NAME_RE.test(n.slice(0, -6))).sort();
  const userNames = names(ctx.userDir);
  const levels: Array<{ source: 'user' | 'shipped'; dir: string; files: string[] }> = [
    { source: 'user', dir: ctx.userDir, files: userNames },
    { source: 'shipped', dir: ctx.shippedDir, files: names(ctx.shippedDir).filter((n) => !userNames.includes(n)) },
  ];
  for (const level of levels) {
    const claims: ProgramProfile[] = [];
    for (const n of level.files) {
      const file = path.join(level.dir, n);
      let text: string;
      try {
        text = read(file);
      } catch {
        continue;
      }
      // Most launches name a program no profile lists: skip the parse unless the name is there as a quoted
      // string (a list entry always is; a name written with JSON5 escapes is the one claim this misses).
      if (!text.includes(`"${program}"`) && !text.includes(`'${program}'`)) continue;
      const doc = readProfileText(file, text);
      if (doc.programs?.some((m) => m.value === program)) claims.push({ name: n.slice(0, -6), file, source: level.source, program });
    }
    if (claims.length > 1) {
      throw new SandboxError(`${claims.map((c) => c.file).join(' and ')}: both list "${program}" in programs, expected one profile per program (or give --profile)`);
    }
    if (claims.length) return claims[0];
  }
  return undefined;
}
