// sandbox's own state on the host that no sandbox may change: the user's configuration directory (profiles
// there win over the shipped ones) and the list of plans the user compiled (each one runs outside any
// sandbox when launched). Every sandbox binds these read-only wherever one of its writable binds shows them.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SandboxError } from '../errors';
import type { MountOp } from '../plan/types';

/** $XDG_CONFIG_HOME/sandbox, else ~/.config/sandbox (the passwd home when HOME is unset). */
export function sandboxConfigDir(env: Record<string, string | undefined>): string {
  const home = env.HOME || os.userInfo().homedir;
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return path.join(config, 'sandbox');
}

/** The list of compiled plans: one JSON object a line, { plan, rw } (see ListedPlan). */
export function compiledPlansList(env: Record<string, string | undefined>): string {
  return path.join(sandboxConfigDir(env), 'compiled-plans');
}

const under = (p: string, dir: string): boolean => dir === '/' || p === dir || p.startsWith(dir + '/');

/** A path with its longest existing part resolved (the rest, not there yet, appended as it is). */
export function resolvedPath(p: string, realpath: (q: string) => string = fs.realpathSync): string {
  const rest: string[] = [];
  for (let cur = path.resolve(p); ; cur = path.dirname(cur)) {
    try {
      return path.join(realpath(cur), ...rest.reverse());
    } catch {
      if (cur === '/') return path.resolve(p);
      rest.push(path.basename(cur));
    }
  }
}

/**
 * The read-write bind that shows host path p inside (the last one, which decides), or null. Compared by resolved
 * paths, as the kernel binds them: a ~/.config linked into a dotfiles checkout is shown by a bind of the checkout.
 */
export function writableBindShowing(mounts: MountOp[], p: string, realpath: (q: string) => string = fs.realpathSync): Extract<MountOp, { op: 'bind' }> | null {
  const target = resolvedPath(p, realpath);
  let found: Extract<MountOp, { op: 'bind' }> | null = null;
  for (const m of mounts) if (m.op === 'bind' && !m.readOnly && under(target, resolvedPath(m.src, realpath))) found = m;
  return found;
}

/** A compiled plan as listed: its file, and the host directories it binds read-write. */
export interface ListedPlan {
  plan: string;
  rw: string[];
  /** HMAC-SHA-256 of the file's bytes keyed with PLAN_DIGEST_KEY (a plain digest: the list is protected, not secret):
   * sandbox-exec runs the file at this path only with these bytes (a sandbox that could rename the directory holding
   * it had the next one, which no longer found it there to cover, rewrite it) */
  digest?: string;
}

export const PLAN_DIGEST_KEY = 'sandbox compiled plan';

export function planDigest(bytes: Buffer): string {
  const { createHmac } = require('crypto') as typeof import('crypto');
  return createHmac('sha256', PLAN_DIGEST_KEY).update(bytes).digest('hex');
}

/** One JSON object a line; lines that are not one, or name a relative path, are left out. */
export function parseCompiledPlans(text: string): ListedPlan[] {
  const out = new Map<string, ListedPlan>();
  for (const line of text.split('\n')) {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    const o = v as { plan?: unknown; rw?: unknown; digest?: unknown };
    if (typeof o?.plan !== 'string' || !o.plan.startsWith('/')) continue;
    const rw = Array.isArray(o.rw) ? o.rw.filter((r): r is string => typeof r === 'string' && r.startsWith('/')) : [];
    const digest = typeof o.digest === 'string' && /^[0-9a-f]{64}$/.test(o.digest) ? { digest: o.digest } : {};
    out.set(path.posix.normalize(o.plan), { plan: path.posix.normalize(o.plan), rw, ...digest });
  }
  return [...out.values()];
}

export function readCompiledPlans(env: Record<string, string | undefined>): ListedPlan[] {
  try {
    return parseCompiledPlans(fs.readFileSync(compiledPlansList(env), 'utf8'));
  } catch {
    return [];
  }
}

/** A listed plan (other than `file`) that binds read-write a directory holding `file`: a plan written there could be
 * rewritten by that plan's program. */
export function listedPlanShowing(listed: ListedPlan[], file: string): { plan: string; dir: string } | null {
  for (const l of listed) {
    if (l.plan === file || !fs.existsSync(l.plan)) continue;
    const dir = l.rw.find((d) => under(file, d));
    if (dir) return { plan: l.plan, dir };
  }
  return null;
}

/**
 * The configuration directory, made (mode 0700) when it is missing and a writable bind would show where it
 * goes: else the program could create it, and a profile planted there would rule the next `sandbox run`.
 * Where it can't be made (no home), the program can't make it either.
 */
export function ensureConfigDir(mounts: MountOp[], dir: string): void {
  if (fs.existsSync(dir) || !writableBindShowing(mounts, dir)) return;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    /* not ours to make */
  }
}

/** A directory this user owns, not a symlink, with no write bits for others: the list's home. */
function checkedDir(dir: string, uid: number): void {
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new SandboxError(`${dir}: not a directory (sandbox's configuration directory)`);
  if (st.uid !== uid) throw new SandboxError(`${dir}: owned by uid ${st.uid}, not by you (sandbox's configuration directory)`);
  if (st.mode & 0o022) throw new SandboxError(`${dir}: writable by others (mode ${(st.mode & 0o777).toString(8)}): chmod go-w it`);
}

/** Adds a compiled plan to the list (plans that no longer exist are dropped), written whole and renamed into place. */
export function recordCompiledPlan(env: Record<string, string | undefined>, file: string, uid: number, rw: string[] = [], digest?: string): void {
  const dir = sandboxConfigDir(env);
  const list = compiledPlansList(env);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    checkedDir(dir, uid);
    const plans = readCompiledPlans(env).filter((p) => p.plan !== file && fs.existsSync(p.plan));
    plans.push({ plan: file, rw, ...(digest ? { digest } : {}) });
    const tmp = `${list}.${process.pid}.new`;
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      fs.writeSync(fd, plans.map((p) => JSON.stringify(p) + '\n').join(''));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, list);
  } catch (e) {
    if (e instanceof SandboxError) throw e;
    throw SandboxError.wrap(`${list}: can't record the compiled plan`, e);
  }
}
