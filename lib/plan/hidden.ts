// Host paths on the command line that the sandbox won't show: the command (a path, or found on the sandbox's
// PATH only in host directories that aren't inside) and the arguments that name host files. Read from the plan's
// mounts alone (pure but for the host lookups passed in), so the error can say why instead of a bare ENOENT.
import * as path from 'path';
import type { Plan, MountOp } from './types';

export interface HostLookup {
  /** Existence as exec and open see it on the host: following symlinks. */
  exists(p: string): boolean;
  /** The name itself exists (a symlink counts, wherever it points). */
  lexists(p: string): boolean;
  isExecutableFile(p: string): boolean;
  /** The path with every symlink resolved, or null. */
  realpath(p: string): string | null;
}

const under = (p: string, dir: string) => dir === '/' || p === dir || p.startsWith(dir + '/');
/** Filesystems of the sandbox's own with contents of their own (a process's /proc files, /dev/null): not judged. */
const OWN = new Set(['proc', 'dev', 'mqueue']);

/**
 * Where the host's file at p would come from inside, following the plan's mounts in order: the host path that
 * shows at p (a bind's source plus the rest), or null when nothing of the host is there (no mount covers p, or
 * a fresh tmpfs does). A file the plan itself writes at p (data, dir), and whatever is under the sandbox's own
 * /proc, /dev and mqueue, count as there (p itself).
 */
export function hostSourceInside(p: string, mounts: MountOp[], depth = 0): string | null {
  if (depth > 16) return null;
  for (let i = mounts.length - 1; i >= 0; i--) {
    const m = mounts[i];
    if ((m.op === 'data' || m.op === 'dir') && m.dst === p) return p;
    if (m.op === 'symlink' && under(p, m.dst)) {
      const target = path.resolve(path.dirname(m.dst), m.target);
      return hostSourceInside(target + p.slice(m.dst.length), mounts, depth + 1);
    }
    if (m.op === 'bind' && under(p, m.dst)) {
      const rest = m.dst === '/' ? p : p.slice(m.dst.length);
      return m.src === '/' ? rest || '/' : m.src + rest;
    }
    if (m.op === 'tmpfs' && under(p, m.dst)) return null;
    if (OWN.has(m.op) && under(p, (m as { dst: string }).dst)) return p;
    // an overlay's union of layers is not judged here (the stage finds what it shows)
    if (m.op === 'overlay' && under(p, m.dst)) return p;
  }
  return null;
}

/** p exists on the host, and inside the sandbox at p there is not the same host file (nor one at all). */
function hiddenInside(p: string, mounts: MountOp[], host: HostLookup): boolean {
  if (!host.exists(p)) return false;
  // a mount point, or a directory on the way to one (/tmp, /home, /etc of a profile's binds), is there inside
  if (p === '/' || mounts.some((m) => { const d = m.op === 'chmod' ? m.path : m.dst; return d === p || d.startsWith(p + '/'); })) return false;
  const src = hostSourceInside(p, mounts);
  if (src === null) return true;
  if (src !== p) {
    // another host path shows there (an image's root, a bind from elsewhere): its symlinks resolve inside, which
    // the host can't follow for us; only a name missing outright, in a directory reached without symlinks, counts
    const dir = path.dirname(src);
    return !host.lexists(src) && host.realpath(dir) === dir;
  }
  // the same host file: a symlink whose target isn't inside (bin/app -> /opt/app with only the home bound)
  const real = host.realpath(p);
  if (real && real !== p) {
    return hostSourceInside(real, mounts) === null;
  }
  return false;
}

function pathFromEnv(env: string[]): string {
  const e = env.find((v) => v.startsWith('PATH='));
  return e ? e.slice(5) : '/usr/local/bin:/usr/bin:/bin';
}

/**
 * The command's host path when it can't be run inside for this reason, else null. hostCwd: the directory a
 * relative command or argument means (the caller's, or --chdir's).
 */
export function hiddenCommand(plan: Plan, hostCwd: string, host: HostLookup): string | null {
  const cmd = plan.argv[0];
  if (!cmd) return null;
  if (cmd.includes('/')) {
    const p = path.resolve(hostCwd, cmd);
    return hiddenInside(p, plan.mounts, host) ? p : null;
  }
  // as the stage looks it up: the first PATH entry that has it inside wins; a hint only if none has
  let hidden: string | null = null;
  for (const dir of pathFromEnv(plan.env).split(':')) {
    if (!dir.startsWith('/')) continue;
    const p = path.join(dir, cmd);
    const src = hostSourceInside(p, plan.mounts);
    // found inside: the same host file, or a name from another host directory (an image's, maybe a symlink)
    if (src !== null && (src === p ? host.isExecutableFile(src) : host.lexists(src))) return null;
    if (host.isExecutableFile(p) && hiddenInside(p, plan.mounts, host)) hidden ??= p;
  }
  return hidden;
}

/** Arguments that name a host file (a path with a slash) which the sandbox doesn't show. */
export function hiddenArguments(plan: Plan, hostCwd: string, host: HostLookup): string[] {
  const out: string[] = [];
  for (const a of plan.argv.slice(1)) {
    if (!a.includes('/') || a.includes('\n') || /^[a-z][a-z0-9+.-]*:\/\//i.test(a)) continue; // URLs are not files
    const p = path.resolve(hostCwd, a);
    if (hiddenInside(p, plan.mounts, host) && !out.includes(p)) out.push(p);
  }
  return out;
}

/** A path as a shell word: quoted when it holds anything a shell would read otherwise. */
export function shellWord(p: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

export function hiddenMessage(p: string): string {
  const w = shellWord(p);
  return `${p} exists on the host but is not visible in this sandbox; bind it with --ro-bind ${w} ${w}`;
}
