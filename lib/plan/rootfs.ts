// --rootfs DIR: an unpacked image directory (debootstrap, docker export, umoci, ch-image) as the sandbox's
// root. Decides which of the profile's operations an image keeps, gives the image the caller's passwd and
// group entries and the host's resolv.conf, the NVIDIA driver's libraries when the nvidia set is bound,
// and the mount points the later operations need — without writing into a read-only image.
//
// Read-only (the default): the root stays the stage's own tmpfs, and each top-level entry of the image is
// bound into it read-only (symlinks are copied as symlinks). A mount point missing from the image (the
// caller's home under /home, the cwd, /usr/lib/sandbox-nvidia) is made by "splaying" its deepest existing
// directory: a tmpfs over it that gets the image's entries bound back one by one, the missing directories
// (or an empty file) created in it, then remount-ro before anything else is mounted there. The image on
// disk is never modified, so a shared image owned by someone else works.
// Writable (--rootfs-rw): the image is bound read-write on / and the stage creates missing mount points
// inside it, on disk.
import * as path from 'path';
import { SandboxError } from '../errors';
import type { MountOp, Origin } from './types';
import type { SandboxSpec } from './spec';
import { NVIDIA_ROOTFS_DIR, nvidiaMounts, type NvidiaFound } from './nvidia';
import type { DataFd } from '../native/memfd';

export interface RootfsRequest {
  dir: string;
  writable: boolean;
  /** --rootfs DIR --tmp-overlay /: the image under a throw-away writable overlay (nothing reaches the image). */
  overlay?: boolean;
  origin: Origin;
}

/**
 * Where an image brings its own system: a profile's operations at or below these places are dropped under
 * --rootfs (the host's /usr, /lib*, /etc files, /opt software would shadow the image's). Everything else a
 * profile mounts is kept: home, cwd, scratch and data binds, /tmp, /proc, /dev, /sys, /run sockets, devices.
 */
export const IMAGE_SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt', '/var', '/srv'];

const under = (p: string, dir: string): boolean => dir === '/' || p === dir || p.startsWith(dir + '/');
const dstOf = (m: MountOp): string => (m.op === 'chmod' ? m.path : m.dst);

export function isImageSystemPath(p: string): boolean {
  return IMAGE_SYSTEM_PATHS.some((d) => under(p, d));
}

/**
 * The profile's part of a spec as an image sees it: operations on system paths dropped. `cwd`: the caller's
 * working directory when the image lacks it; the profile's operations there stay even under a system path
 * (/var/tmp/work), since the cwd is the user's, not the image's, and nothing of the image is shadowed: its
 * mount point is made in the sandbox's own root.
 */
export function profileForRootfs(spec: SandboxSpec, cwd: string | null = null): SandboxSpec {
  const keep = (m: MountOp): boolean => !isImageSystemPath(dstOf(m)) || (cwd !== null && cwd !== '/' && under(dstOf(m), cwd));
  return { ...spec, mounts: spec.mounts.filter(keep) };
}

/** Does the image have directory `p` (every component a directory, symlinks not followed, as applyRootfs sees it)? */
export function imageHasDir(dir: string, p: string, lstat: RootfsHost['lstat']): boolean {
  let cur = dir.replace(/(.)\/+$/, '$1');
  for (const c of p.split('/').filter(Boolean)) {
    cur = cur === '/' ? `/${c}` : `${cur}/${c}`;
    if (lstat(cur)?.kind !== 'dir') return false;
  }
  return true;
}

export interface ImageEntry {
  kind: 'dir' | 'file' | 'symlink' | 'other';
  mode: number;
}

/** Reading the image and the host's files, read-only (lib/host/image.ts on this host; a fake in tests). */
export interface ImageReader {
  /** lstat of a host path; null when missing. */
  lstat(p: string): ImageEntry | null;
  /** Is this host path (symlinks followed) a directory? For bind sources. */
  isDir(p: string): boolean;
  readdir(p: string): string[];
  readlink(p: string): string | null;
  readFile(p: string): Buffer | null;
}

/** What --rootfs is given: the reader, the caller's facts, and where file contents become descriptors. */
export interface RootfsHost extends ImageReader {
  /** A descriptor, inherited by the sandbox, that reads back these bytes (lib/native/memfd.ts on this host). */
  dataFd: DataFd;
  /** The NVIDIA driver as found on this host; null when the nvidia set is not bound (it is not looked for then). */
  nvidia: NvidiaFound | null;
  /** uid and gid inside the sandbox. */
  uid: number;
  gid: number;
  env: Record<string, string | undefined>;
}

/** The image's entries plus the host's line for `id` (field 3) when the image has none for it. */
function withHostEntry(image: string, hostText: string | null, id: number): string | null {
  const has = (text: string) => text.split('\n').some((l) => l.split(':')[2] === String(id));
  if (has(image)) return null;
  const line = (hostText ?? '').split('\n').find((l) => l.split(':')[2] === String(id));
  if (!line) return null;
  return (image && !image.endsWith('\n') ? image + '\n' : image) + line + '\n';
}

type Need = 'dir' | 'file' | 'write';

/**
 * The spec with its mounts replaced by: the image as root, the prepared mount points, the identity files,
 * then the spec's own operations (the profile's already filtered by profileForRootfs, the command line's
 * as given), and the NVIDIA libraries.
 */
export function applyRootfs(spec: SandboxSpec, req: RootfsRequest, host: RootfsHost): SandboxSpec {
  const D = req.dir.replace(/(.)\/+$/, '$1');
  const origin = req.origin;
  const img = (p: string) => (p === '/' ? D : D + p);
  const root = host.lstat(D);
  if (!root || root.kind !== 'dir') throw new SandboxError(`${origin}: ${D} is not a directory`);
  const keepFds = [...spec.keepFds];
  const env = { ...spec.env, set: { ...spec.env.set } };

  const body: MountOp[] = [];
  const has = (op: MountOp['op'], dst: string) => spec.mounts.some((m) => m.op === op && dstOf(m) === dst);
  if (!has('proc', '/proc')) body.push({ op: 'proc', dst: '/proc', origin });
  if (!has('dev', '/dev')) body.push({ op: 'dev', dst: '/dev', origin });
  if (!spec.mounts.some((m) => m.op !== 'chmod' && m.dst === '/tmp')) body.push({ op: 'tmpfs', dst: '/tmp', size: 0, mode: 0o1777, origin });

  // The caller's name and groups resolve, and names resolve through the host's resolver.
  const identity: [string, string | null][] = [];
  const imageText = (f: string): string => {
    const e = host.lstat(img(f));
    return e?.kind === 'file' ? (host.readFile(img(f))?.toString('utf8') ?? '') : '';
  };
  identity.push(['/etc/passwd', withHostEntry(imageText('/etc/passwd'), host.readFile('/etc/passwd')?.toString('utf8') ?? null, host.uid)]);
  identity.push(['/etc/group', withHostEntry(imageText('/etc/group'), host.readFile('/etc/group')?.toString('utf8') ?? null, host.gid)]);
  identity.push(['/etc/resolv.conf', host.readFile('/etc/resolv.conf')?.toString('utf8') ?? null]);
  for (const [dst, text] of identity) {
    if (text === null) continue;
    const fd = host.dataFd(`sandbox-rootfs${dst.replace(/\//g, '-')}`, Buffer.from(text));
    keepFds.push(fd);
    body.push({ op: 'data', fd, dst, mode: 0o444, mount: true, readOnly: true, origin: `${origin} (${dst})` });
  }
  body.push(...spec.mounts);

  if ((spec.devices ?? []).includes('nvidia') && host.nvidia) {
    const nv = nvidiaMounts(host.nvidia, true, { ...host.env, ...env.set });
    const from = nv.mounts.findIndex((m) => m.op === 'tmpfs' && m.dst === NVIDIA_ROOTFS_DIR);
    if (from >= 0) body.push(...nv.mounts.slice(from).map((m) => ({ ...m, origin: `${origin} (NVIDIA driver)` })));
    for (const k of ['LD_LIBRARY_PATH', 'PATH']) if (nv.env[k]) env.set[k] = nv.env[k];
  }

  if (req.overlay) {
    // writes land on a tmpfs of the stage's, so mount points are made there, not in the image
    return { ...spec, env, keepFds, mounts: [{ op: 'overlay', dst: '/', lower: [D], upper: null, work: null, readOnly: false, origin }, ...body] };
  }
  if (req.writable) {
    return { ...spec, env, keepFds, mounts: [{ op: 'bind', src: D, dst: '/', readOnly: false, devices: false, optional: false, origin }, ...body] };
  }

  // Read-only: which image directories to splay, and what to create in them before they turn read-only.
  const splayed = new Map<string, Set<string>>([['/', new Set()]]); // dir -> names not bound back
  const createDirs: { dst: string; mode: number }[] = [];
  const createFiles: string[] = [];
  const covered: string[] = [];
  const kept: MountOp[] = [];
  const created = (p: string) => createDirs.some((d) => d.dst === p) || createFiles.includes(p);

  /** Make `dst` exist as `need` (a directory or a file) in the image region; false when it already does. */
  const prepare = (dst: string, need: 'dir' | 'file'): boolean => {
    const comps = dst.split('/').filter(Boolean);
    let cur = '/';
    for (let i = 0; i < comps.length; i++) {
      const next = path.posix.join(cur, comps[i]);
      const last = i === comps.length - 1;
      if (created(next) || splayed.has(next)) { cur = next; continue; }
      const e = host.lstat(img(next));
      const fits = e !== null && (last ? (need === 'dir' ? e.kind === 'dir' : e.kind === 'file' || e.kind === 'other') : e.kind === 'dir');
      if (fits) { cur = next; continue; }
      // cur is the deepest directory the image has on the way: splay it, leaving out what is replaced.
      if (!splayed.has(cur)) splayed.set(cur, new Set());
      if (e) splayed.get(cur)!.add(comps[i]);
      for (let j = i; j < comps.length; j++) {
        const p = '/' + comps.slice(0, j + 1).join('/');
        if (j < comps.length - 1 || need === 'dir') createDirs.push({ dst: p, mode: 0o755 });
        else createFiles.push(p);
      }
      return true;
    }
    return false;
  };

  for (const m of body) {
    const dst = dstOf(m);
    const inMount = covered.some((c) => under(dst, c));
    if (!inMount) {
      let need: Need;
      if (m.op === 'bind') need = host.isDir(m.src) ? 'dir' : 'file';
      else if (m.op === 'data') need = m.mount ? 'file' : 'write';
      else if (m.op === 'tmpfs' || m.op === 'proc' || m.op === 'dev' || m.op === 'mqueue') need = 'dir';
      else if (m.op === 'dir') {
        if (prepare(dst, 'dir')) createDirs[createDirs.length - 1].mode = m.mode;
        continue; // a directory of the image, or made above before the image turns read-only
      } else need = 'write';
      if (need === 'write') {
        throw new SandboxError(`${m.origin}: ${dst} would be written inside the read-only image (${origin}); put it under a --tmpfs, or use --rootfs-rw`);
      }
      prepare(dst, need);
    }
    kept.push(m);
    if ((m.op === 'bind' && host.isDir(m.src)) || m.op === 'tmpfs' || m.op === 'proc' || m.op === 'dev' || m.op === 'mqueue') covered.push(dst);
  }

  const ops: MountOp[] = [];
  const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);
  const dirs = [...splayed.keys()].sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
  for (const dir of dirs) {
    if (dir !== '/') ops.push({ op: 'tmpfs', dst: dir, size: 0, mode: host.lstat(img(dir))?.mode ?? 0o755, origin: `${origin} (splay ${dir})` });
    for (const name of host.readdir(img(dir))) {
      const inside = path.posix.join(dir, name);
      if (splayed.get(dir)!.has(name) || splayed.has(inside)) continue;
      const e = host.lstat(img(inside));
      if (!e) continue;
      if (e.kind === 'symlink') {
        const target = host.readlink(img(inside));
        if (target !== null) ops.push({ op: 'symlink', target, dst: inside, origin });
      } else {
        ops.push({ op: 'bind', src: img(inside), dst: inside, readOnly: true, devices: false, optional: false, origin });
      }
    }
  }
  for (const d of createDirs) ops.push({ op: 'dir', dst: d.dst, mode: d.mode, origin: `${origin} (mount point)` });
  for (const f of createFiles) {
    const fd = host.dataFd('sandbox-mount-point', Buffer.alloc(0));
    keepFds.push(fd);
    ops.push({ op: 'data', fd, dst: f, mode: 0o444, mount: false, readOnly: false, origin: `${origin} (mount point)` });
  }
  for (const dir of dirs) {
    if (dir !== '/' && !dirs.some((o) => o !== '/' && o !== dir && under(dir, o))) ops.push({ op: 'remount-ro', dst: dir, origin });
  }
  return { ...spec, env, keepFds, mounts: [...ops, ...kept] };
}
