// What the profile loader may know about the caller and the host, passed in as data so that loading
// stays a pure function in tests: the environment, ids, directories, and read-only file system probes.
import * as os from 'os';
import fs from 'node:fs';
import path from 'node:path';

export interface ProfileContext {
  env: Record<string, string | undefined>;
  cwd: string;
  uid: number;
  gid: number;
  /** Absolute path of the program about to run, for ${PROGRAM} and ${PROGRAM_DIR}. */
  programPath?: string;
  /** Does this host path exist (following symlinks)? */
  exists: (p: string) => boolean;
  /** Shipped profiles (the package's profiles/). */
  shippedDir: string;
  /** The user's profiles, which win by name: $XDG_CONFIG_HOME/sandbox/profiles. */
  userDir: string;
  /** Base of persistent homes; default $XDG_DATA_HOME or ~/.local/share. */
  dataDir?: string;
  /** Defaults to fs.readFileSync(p, 'utf8'). */
  readFile?: (p: string) => string;
  /** Names in a directory, [] when it can't be read. Defaults to fs.readdirSync. */
  listDir?: (p: string) => string[];
  /** A symlink's target, or null when p is not a symlink. Defaults to fs.readlinkSync. */
  readLink?: (p: string) => string | null;
  /** A file's bytes, or null when it can't be read (the X authority file). Defaults to fs.readFileSync. */
  readBytes?: (p: string) => Buffer | null;
  /** A descriptor, inherited by the sandbox, that reads back these bytes (the X cookie copy). Defaults to a memfd. */
  dataFd?: (name: string, bytes: Buffer) => number;
  /** The sandbox's cookie for display :N given the host's authority file. Defaults to an untrusted one from xauth. */
  x11Cookie?: (display: number, hostAuth: string | null) => import('./xauth').X11Access;
  /** The path with every symlink resolved, or the path itself when it can't be. Defaults to fs.realpathSync. */
  realPath?: (p: string) => string;
  /** May this user create or replace entries in this directory? Defaults to: it owns it, or access(W_OK). */
  canWrite?: (dir: string) => boolean;
  /** Names of the abstract unix sockets the launcher's network namespace has, without the '@'. Defaults to /proc/net/unix. */
  abstractSockets?: () => string[];
}

export { packageRoot } from '../paths';

import { packageRoot } from '../paths';
import { copyEnv, recordInput } from '../host/plan-cache';

export function shippedProfilesDir(): string {
  return path.join(packageRoot(), 'profiles');
}

export function userProfilesDir(env: Record<string, string | undefined>): string {
  const config = env.XDG_CONFIG_HOME || path.join(env.HOME || '/nonexistent', '.config');
  return path.join(config, 'sandbox', 'profiles');
}

export function dataHome(ctx: Pick<ProfileContext, 'env' | 'dataDir'>): string | undefined {
  if (ctx.dataDir) return ctx.dataDir;
  if (ctx.env.XDG_DATA_HOME) return ctx.env.XDG_DATA_HOME;
  return ctx.env.HOME ? path.join(ctx.env.HOME, '.local', 'share') : undefined;
}

/** The context of this process on this host. */
export function hostProfileContext(programPath?: string): ProfileContext {
  const env = copyEnv();
  // `env -i` leaves HOME unset; the home the profile means is then the user's passwd entry.
  if (!env.HOME) {
    recordInput('/etc/passwd');
    try {
      env.HOME = os.userInfo().homedir;
    } catch {
      /* no passwd entry: profiles that need HOME say so */
    }
  }
  return {
    env,
    cwd: process.cwd(),
    uid: process.getuid ? process.getuid() : 0,
    gid: process.getgid ? process.getgid() : 0,
    programPath,
    exists: (p) => fs.existsSync(p),
    shippedDir: shippedProfilesDir(),
    userDir: userProfilesDir(env),
  };
}

export const readFileOf = (ctx: ProfileContext) => ctx.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8'));

export const listDirOf = (ctx: ProfileContext) =>
  ctx.listDir ??
  ((p: string) => {
    try {
      return fs.readdirSync(p);
    } catch {
      return [];
    }
  });

export const readLinkOf = (ctx: ProfileContext) =>
  ctx.readLink ??
  ((p: string) => {
    try {
      return fs.readlinkSync(p);
    } catch {
      return null;
    }
  });

export const readBytesOf = (ctx: ProfileContext) =>
  ctx.readBytes ??
  ((p: string) => {
    try {
      return fs.readFileSync(p);
    } catch {
      return null;
    }
  });

export const realPathOf = (ctx: ProfileContext) =>
  ctx.realPath ??
  ((p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  });

export const canWriteOf = (ctx: ProfileContext) =>
  ctx.canWrite ??
  ((dir: string) => {
    // the owner may chmod it writable first, so owning it counts as writing it
    try {
      if (process.getuid && fs.statSync(dir).uid === process.getuid()) return true;
      fs.accessSync(dir, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  });

export const dataFdOf = (ctx: ProfileContext) =>
  ctx.dataFd ??
  ((name: string, bytes: Buffer): number => {
    // loaded only here: most launches have no cookie to pass, and koffi costs start-up time
    const { inheritedMemfd } = require('../native/memfd') as typeof import('../native/memfd');
    return inheritedMemfd(name, bytes);
  });

export const x11CookieOf = (ctx: ProfileContext) =>
  ctx.x11Cookie ??
  ((display: number, hostAuth: string | null) => {
    const { untrustedX11Cookie } = require('./xauth') as typeof import('./xauth');
    return untrustedX11Cookie(display, hostAuth);
  });

export const abstractSocketsOf = (ctx: ProfileContext) =>
  ctx.abstractSockets ??
  ((): string[] => {
    let text: string;
    try {
      text = fs.readFileSync('/proc/net/unix', 'utf8');
    } catch {
      return [];
    }
    // the last column is the path; an abstract name is shown with a leading '@'
    return text
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/).slice(7).join(' '))
      .filter((n) => n.startsWith('@'))
      .map((n) => n.slice(1));
  });
