// `sandbox desktop` on the file system: finding an application's entry in the XDG data directories,
// writing the sandboxed copy (and an optional wrapper script) under the user's own directories, listing
// and removing them. Our entries are recognised by their X-Sandbox-Profile key, our wrappers by their
// marker comment; remove undoes exactly what install recorded, directories it created included.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { SandboxError } from '../errors';
import { systemProgram } from '../host/system-program';
import { MAIN_GROUP, escapeListItem, escapeString, execForWrapper, getKey, parseEntryLines, rewriteEntry, splitExec, splitList } from './entry';

export interface DesktopContext {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Absolute path of bin/sandbox. */
  sandbox: string;
  /** The profile as `sandbox run --profile` will take it: a name or an absolute path. Throws SandboxError when there is none. */
  resolveProfile(nameOrPath: string): string;
  /** Whether a shipped or user profile of this name exists. */
  hasProfile(name: string): boolean;
  /** The profile whose `programs` names this program, as `sandbox run PROGRAM` picks it. */
  profileFor?(program: string): string | undefined;
  /** Whether the profile says how files named on the command line are bound (fileArgs): its wrapper forwards them. */
  forwardsFiles?(profile: string): boolean;
}

export interface InstallOptions {
  profile?: string;
  wrapper?: boolean;
  force?: boolean;
}

export interface InstallResult {
  id: string;
  entry: string;
  profile: string;
  original: string;
  wrapper?: string;
  /** Lines for the user: validator or database tool complaints that didn't stop the install. */
  warnings: string[];
}

export interface ListedEntry {
  id: string;
  entry: string;
  profile: string;
  original: string;
  wrapper?: string;
  /** Directories (and a MIME cache) installs made, for remove to delete once empty. */
  created: string[];
}

export interface RemoveResult {
  id: string;
  removed: string[];
  warnings: string[];
}

const WRAPPER_MARK = '# sandbox desktop wrapper for ';
const DEFAULT_PROFILE = 'desktop';

function home(ctx: DesktopContext): string {
  const h = ctx.env.HOME || os.userInfo().homedir;
  if (!h) throw new SandboxError('HOME is not set, expected a home directory for ~/.local/share/applications');
  return h;
}

export function userApplicationsDir(ctx: DesktopContext): string {
  return path.join(ctx.env.XDG_DATA_HOME || path.join(home(ctx), '.local', 'share'), 'applications');
}

export function userBinDir(ctx: DesktopContext): string {
  return path.join(home(ctx), '.local', 'bin');
}

/** The application directories in the order the specification gives them precedence. */
export function applicationDirs(ctx: DesktopContext): string[] {
  const dataDirs = (ctx.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter((d) => d.startsWith('/'));
  return [userApplicationsDir(ctx), ...dataDirs.map((d) => path.join(d, 'applications'))];
}

/** APP as a desktop file id: "firefox-esr" → "firefox-esr.desktop". */
export function desktopId(app: string): string {
  const base = app.includes('/') ? path.basename(app) : app;
  return base.endsWith('.desktop') ? base : `${base}.desktop`;
}

const isFile = (f: string): boolean => {
  try {
    return fs.statSync(f).isFile();
  } catch {
    return false;
  }
};

/** A file in dir whose desktop file id (subdirectories joined by '-') is id. */
function findInDir(dir: string, id: string): string | undefined {
  const direct = path.join(dir, id);
  if (isFile(direct)) return direct;
  const walk = (d: string, prefix: string, depth: number): string | undefined => {
    if (depth > 4) return undefined;
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return undefined;
    }
    for (const n of names) {
      const p = path.join(d, n.name);
      if (n.isDirectory() && id.startsWith(`${prefix}${n.name}-`)) {
        const f = walk(p, `${prefix}${n.name}-`, depth + 1);
        if (f) return f;
      } else if (prefix && `${prefix}${n.name}` === id && isFile(p)) return p;
    }
    return undefined;
  };
  return walk(dir, '', 0);
}

function isOurEntry(file: string): boolean {
  try {
    return getKey(parseEntryLines(fs.readFileSync(file, 'utf8')), MAIN_GROUP, 'X-Sandbox-Profile') !== undefined;
  } catch {
    return false;
  }
}

function isOurWrapper(file: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').split('\n', 3).some((l) => l.startsWith(WRAPPER_MARK));
  } catch {
    return false;
  }
}

/** The application's own entry: a path, or the first entry of that id in the data directories that isn't ours. */
export function findEntry(app: string, ctx: DesktopContext): string {
  if (app.includes('/')) {
    const f = path.resolve(ctx.cwd, app);
    if (!isFile(f)) throw new SandboxError(`${app}: found no such file, expected a .desktop file`);
    return f;
  }
  const id = desktopId(app);
  if (id.startsWith('.') || id === '.desktop') throw new SandboxError(`${app}: expected a desktop file id like firefox-esr or firefox-esr.desktop`);
  const dirs = applicationDirs(ctx);
  for (const dir of dirs) {
    const f = findInDir(dir, id);
    if (f && !isOurEntry(f)) return f;
  }
  throw new SandboxError(`${app}: found no ${id} in ${dirs.join(', ')}, expected an installed application (or give the path of its .desktop file)`);
}

function which(prog: string, env: Record<string, string | undefined>): string | undefined {
  if (prog.includes('/')) return isFile(prog) ? path.resolve(prog) : undefined;
  for (const d of (env.PATH || '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (!d) continue;
    const f = path.join(d, prog);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      if (isFile(f)) return f;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** The missing directories mkdir -p would make for dir, outermost first. */
function missingDirs(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) {
    out.unshift(d);
    if (path.dirname(d) === d) break;
  }
  return out;
}

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.sandbox-tmp-${process.pid}`);
  fs.writeFileSync(tmp, text, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

interface ToolRun {
  ok: boolean;
  output: string;
}

/** A desktop tool runs outside, with the user's rights: from the system's directories, never through PATH. */
function runTool(tool: string, args: string[], env: Record<string, string | undefined>): ToolRun | undefined {
  const exe = systemProgram(tool);
  if (!exe) return undefined;
  const r = spawnSync(exe, args, { encoding: 'utf8', env: env as NodeJS.ProcessEnv, timeout: 30000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return { ok: r.status === 0, output: r.error ? r.error.message : output };
}

/** desktop-file-validate on text as if it were a file called id. undefined when the tool isn't installed. */
function validate(text: string, id: string, env: Record<string, string | undefined>): ToolRun | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-desktop-'));
  try {
    fs.writeFileSync(path.join(dir, id), text);
    return runTool('desktop-file-validate', [path.join(dir, id)], env);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** update-desktop-database DIR, only where the tool exists and there is a MIME cache to keep right. */
function refreshDatabase(dir: string, hasMime: boolean, ctx: DesktopContext, warnings: string[]): void {
  if (!hasMime && !fs.existsSync(path.join(dir, 'mimeinfo.cache'))) return;
  const r = runTool('update-desktop-database', [dir], ctx.env);
  if (r && !r.ok) warnings.push(`update-desktop-database ${dir}: ${r.output.split('\n')[0] || 'failed'}`);
}

/** The profile made for the application (its programs list the entry's id or Exec's program), else one named after it, else desktop. */
function defaultProfile(id: string, exec: string[], ctx: DesktopContext): string {
  const candidates = [id.replace(/\.desktop$/, '')];
  const prog = exec[0] === 'env' ? exec.slice(1).find((a) => !a.includes('=') && !a.startsWith('-')) : exec[0];
  if (prog) candidates.push(path.basename(prog));
  for (const c of candidates) {
    const p = ctx.profileFor?.(c);
    if (p) return p;
  }
  return candidates.find((n) => ctx.hasProfile(n)) ?? DEFAULT_PROFILE;
}

export function installEntry(app: string, opts: InstallOptions, ctx: DesktopContext): InstallResult {
  const source = findEntry(app, ctx);
  // The id the user named (vendor-sub.desktop for vendor/sub.desktop); a path gives its file name.
  const id = desktopId(app.includes('/') ? source : app);
  const appsDir = userApplicationsDir(ctx);
  const target = path.join(appsDir, id);
  const sourceText = fs.readFileSync(source, 'utf8');
  const lines = parseEntryLines(sourceText);
  const execValue = getKey(lines, MAIN_GROUP, 'Exec');
  const exec = execValue === undefined ? [] : splitExec(execValue, source);
  const profile = opts.profile !== undefined ? ctx.resolveProfile(opts.profile) : defaultProfile(id, exec, ctx);

  if (fs.existsSync(target) && path.resolve(source) === path.resolve(target)) {
    throw new SandboxError(`${target}: is the entry to sandbox itself, expected it elsewhere (copy it out of ${appsDir} and give that path)`);
  }
  if (fs.existsSync(target) && !isOurEntry(target) && !opts.force) {
    throw new SandboxError(`${target}: exists and was not written by sandbox desktop, expected no entry there (--force replaces it)`);
  }
  // The home itself is never ours to create or to remove later.
  const h = path.resolve(home(ctx));
  const mine = (d: string): boolean => path.resolve(d) !== h && !h.startsWith(`${path.resolve(d)}/`);
  const created = missingDirs(appsDir).filter(mine);
  // What earlier installs made (this entry's, when reinstalling, and the other entries'): whichever entry is
  // removed last then finds those directories empty and knows they are ours to delete.
  for (const e of listEntries(ctx)) for (const p of e.created) if (!created.includes(p)) created.push(p);
  const previousWrapper = fs.existsSync(target) && isOurEntry(target) ? readOurEntry(target)?.wrapper : undefined;
  let wrapper: string | undefined;
  let wrapperText: string | undefined;
  if (opts.wrapper) {
    const binDir = userBinDir(ctx);
    wrapper = path.join(binDir, id.replace(/\.desktop$/, ''));
    if (fs.existsSync(wrapper) && !isOurWrapper(wrapper)) {
      throw new SandboxError(`${wrapper}: exists and was not written by sandbox desktop, expected no file there`);
    }
    const cmd = execForWrapper(exec);
    const real = cmd.length ? which(cmd[0], ctx.env) : undefined;
    if (!real) throw new SandboxError(`${source}: found no program "${cmd[0] ?? ''}" of Exec in PATH, expected one for --wrapper`);
    cmd[0] = real;
    wrapperText = [
      '#!/bin/sh',
      `${WRAPPER_MARK}${id}: runs it in the sandbox profile ${profile} (sandbox desktop remove ${id} deletes this file)`,
      // A viewer's or editor's wrapper binds the files it is given (sandbox run --file-args): ~/.local/bin/feh ~/a.png.
      `exec ${[ctx.sandbox, 'run', '--profile', profile, ...(ctx.forwardsFiles?.(profile) ? ['--file-args', 'profile'] : []), '--', ...cmd].map(shQuote).join(' ')} "$@"`,
      '',
    ].join('\n');
    for (const d of missingDirs(binDir)) if (mine(d) && !created.includes(d)) created.push(d);
  }
  const hasMime = getKey(lines, MAIN_GROUP, 'MimeType') !== undefined;
  const cache = path.join(appsDir, 'mimeinfo.cache');
  if (!fs.existsSync(cache) && hasMime && systemProgram('update-desktop-database')) created.push(cache);
  const extra: Record<string, string> = {};
  const recordedWrapper = wrapper ?? (previousWrapper && isOurWrapper(previousWrapper) ? previousWrapper : undefined);
  if (recordedWrapper) extra.Wrapper = escapeString(recordedWrapper);
  if (created.length) extra.Created = created.map(escapeListItem).join(';') + ';';
  const { text } = rewriteEntry(sourceText, { sandbox: ctx.sandbox, profile, original: source, extra, file: source });

  const warnings: string[] = [];
  const check = validate(text, id, ctx.env);
  if (check && !check.ok) {
    const before = validate(sourceText, id, ctx.env);
    if (before?.ok) throw new SandboxError(`desktop-file-validate refused the sandboxed entry for ${source} (a bug of sandbox desktop): ${check.output.split('\n')[0]}`);
    warnings.push(`${source}: desktop-file-validate already refuses the original entry: ${check.output.split('\n')[0]}`);
  }

  fs.mkdirSync(appsDir, { recursive: true });
  if (wrapper && wrapperText) {
    fs.mkdirSync(path.dirname(wrapper), { recursive: true });
    writeAtomic(wrapper, wrapperText, 0o755);
  }
  writeAtomic(target, text, 0o644);
  refreshDatabase(appsDir, hasMime, ctx, warnings);
  return { id, entry: target, profile, original: source, wrapper, warnings };
}

function readOurEntry(file: string): ListedEntry | undefined {
  let lines;
  try {
    lines = parseEntryLines(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const profile = getKey(lines, MAIN_GROUP, 'X-Sandbox-Profile');
  if (profile === undefined) return undefined;
  const wrapper = getKey(lines, MAIN_GROUP, 'X-Sandbox-Wrapper');
  const created = lines.find((l) => l.kind === 'key' && l.group === MAIN_GROUP && l.key === 'X-Sandbox-Created' && l.locale === undefined)?.value;
  return { id: path.basename(file), entry: file, profile, original: getKey(lines, MAIN_GROUP, 'X-Sandbox-Original') ?? '', created: created ? splitList(created) : [], ...(wrapper ? { wrapper } : {}) };
}

export function listEntries(ctx: DesktopContext): ListedEntry[] {
  const dir = userApplicationsDir(ctx);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.desktop')).sort();
  } catch {
    return [];
  }
  return names.map((n) => readOurEntry(path.join(dir, n))).filter((e): e is ListedEntry => e !== undefined);
}

/** A MIME cache with no entries left (only its group header). */
function emptyCache(file: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').every((l) => !l.trim() || /^\[.*\]$/.test(l.trim()));
  } catch {
    return false;
  }
}

export function removeEntry(app: string, ctx: DesktopContext): RemoveResult {
  const id = desktopId(app);
  const appsDir = userApplicationsDir(ctx);
  const target = path.join(appsDir, id);
  if (!fs.existsSync(target)) throw new SandboxError(`${app}: found no ${target}, expected an entry installed by sandbox desktop install`);
  const lines = parseEntryLines(fs.readFileSync(target, 'utf8'));
  if (getKey(lines, MAIN_GROUP, 'X-Sandbox-Profile') === undefined) {
    throw new SandboxError(`${target}: was not written by sandbox desktop (no X-Sandbox-Profile), expected one of ours (sandbox desktop list)`);
  }
  const warnings: string[] = [];
  const removed: string[] = [];
  const wrapper = getKey(lines, MAIN_GROUP, 'X-Sandbox-Wrapper');
  if (wrapper && fs.existsSync(wrapper)) {
    if (isOurWrapper(wrapper)) {
      fs.unlinkSync(wrapper);
      removed.push(wrapper);
    } else warnings.push(`${wrapper}: kept, it is no longer the wrapper sandbox desktop wrote`);
  }
  fs.unlinkSync(target);
  removed.push(target);
  refreshDatabase(appsDir, false, ctx, warnings);
  const createdRaw = lines.find((l) => l.kind === 'key' && l.group === MAIN_GROUP && l.key === 'X-Sandbox-Created' && l.locale === undefined)?.value;
  const created = createdRaw ? splitList(createdRaw) : [];
  // Deepest first, and only what is empty now: another entry may live in a directory this install made.
  for (const p of [...created].sort((a, b) => b.length - a.length)) {
    try {
      if (path.basename(p) === 'mimeinfo.cache') {
        if (emptyCache(p)) {
          fs.unlinkSync(p);
          removed.push(p);
        }
      } else if (fs.readdirSync(p).length === 0) {
        fs.rmdirSync(p);
        removed.push(p);
      }
    } catch {
      /* already gone or not ours to judge */
    }
  }
  return { id, removed, warnings };
}

