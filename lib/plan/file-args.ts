// Files named on the command line (`sandbox run --file-args MODE`, the %f/%F/%u/%U of a menu entry, a
// wrapper's "$@"): each file the program is given is bound alone, read-only or read-write, at
// /run/sandbox-files/N/NAME, and the program gets that inside path (or its file:// URI) in place of the host
// one. Nothing else of the file's directory becomes visible. Pure apart from the host probes passed in.
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import { SandboxError } from '../errors';
import type { MountOp } from './types';

export type FileArgMode = 'ro' | 'rw';

/** Where forwarded files appear: a read-only tmpfs (mode 0555) with one directory per file. */
export const FILE_ARGS_DIR = '/run/sandbox-files';

/** A range of arguments that are files: `@@ ... @@` paths, `@@u ... @@` URIs or paths. */
export const PATHS_MARK = '@@';
export const URIS_MARK = '@@u';

export interface FileArgHost {
  cwd: string;
  /** What a path is after following symlinks, or null when it doesn't exist. */
  kind(p: string): 'file' | 'directory' | 'other' | null;
  /** The path with every symlink resolved (it exists). */
  realpath(p: string): string;
  /** Real paths no sandbox is given: sandbox's own files (the package, ~/.config/sandbox). */
  protectedPaths: string[];
}

export interface ForwardedFiles {
  argv: string[];
  mounts: MountOp[];
  /** Inside directories the files were bound in (for a Landlock rule). */
  dir: string | null;
}

const URI_RE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

const within = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/**
 * Maps command (argv[0] first) for the sandbox. Without markers every argument after the program is in one
 * range of paths where, as programs read them, arguments starting with "-" before a "--" are options and pass
 * unchanged. With markers only the marked ranges are files, every argument in them (a launcher's %f is a file
 * even when its name starts with "-"); the markers themselves are removed.
 */
export function forwardFileArgs(command: string[], mode: FileArgMode, host: FileArgHost, flag: string): ForwardedFiles {
  if (command.length === 0) return { argv: command, mounts: [], dir: null };
  const out = [command[0]];
  const rest = command.slice(1);
  const marked = rest.includes(PATHS_MARK) || rest.includes(URIS_MARK);
  const mounts: MountOp[] = [];
  const byReal = new Map<string, string>();
  const fail = (arg: string, msg: string): never => {
    throw new SandboxError(`${flag}: ${JSON.stringify(arg)}: ${msg}`);
  };

  const bindFile = (arg: string, hostPath: string): string => {
    if (hostPath === '') fail(arg, 'empty file name, expected a file');
    const abs = path.posix.resolve(host.cwd, hostPath);
    const kind = host.kind(abs);
    if (kind === null) fail(arg, `found no file ${abs}, expected an existing file (the program sees only the files it is given)`);
    if (kind === 'directory') fail(arg, `${abs} is a directory, expected a file (bind a directory with --ro-bind or --bind)`);
    if (kind !== 'file') fail(arg, `${abs} is not a regular file, expected a file`);
    const real = host.realpath(abs);
    for (const p of host.protectedPaths) {
      if (within(real, p)) fail(arg, `${real} is part of sandbox's own files (${p}), which no sandbox is given`);
    }
    const seen = byReal.get(real);
    if (seen) return seen;
    // One directory per file keeps two files of one name apart; the name is the one given (a symlink's, not its target's).
    const n = byReal.size + 1;
    const inside = `${FILE_ARGS_DIR}/${n}/${path.posix.basename(abs)}`;
    if (n === 1) mounts.push({ op: 'tmpfs', dst: FILE_ARGS_DIR, size: 1 << 20, mode: 0o555, origin: flag });
    mounts.push({ op: 'dir', dst: `${FILE_ARGS_DIR}/${n}`, mode: 0o555, origin: flag });
    mounts.push({ op: 'bind', src: real, dst: inside, readOnly: mode === 'ro', devices: false, optional: false, origin: `${flag} ${hostPath}` });
    byReal.set(real, inside);
    return inside;
  };

  const mapUri = (arg: string): string => {
    if (!URI_RE.test(arg)) return bindFile(arg, arg);
    if (!/^file:/i.test(arg)) return arg;
    let url: URL;
    let hostPath: string;
    try {
      url = new URL(arg);
      hostPath = fileURLToPath(url);
    } catch (e) {
      return fail(arg, `not a local file URI (${(e as Error).message.split('\n')[0]}), expected file:///PATH`);
    }
    const inside = pathToFileURL(bindFile(arg, hostPath));
    return `${inside.href}${url.search}${url.hash}`;
  };

  if (!marked) {
    let options = true;
    for (const a of rest) {
      if (options && a === '--') {
        options = false;
        out.push(a);
      } else if (options && a.startsWith('-')) out.push(a);
      else out.push(bindFile(a, a));
    }
    return { argv: out, mounts, dir: mounts.length ? FILE_ARGS_DIR : null };
  }
  let range: 'none' | 'paths' | 'uris' = 'none';
  for (const a of rest) {
    if (a === PATHS_MARK && range !== 'none') range = 'none';
    else if (a === PATHS_MARK || a === URIS_MARK) {
      if (range !== 'none') fail(a, `a range opened inside another, expected ${PATHS_MARK} to close the first`);
      range = a === URIS_MARK ? 'uris' : 'paths';
    } else if (range === 'paths') out.push(bindFile(a, a));
    else if (range === 'uris') out.push(mapUri(a));
    else out.push(a);
  }
  return { argv: out, mounts, dir: mounts.length ? FILE_ARGS_DIR : null };
}
