// From a merged profile to a SandboxSpec: variables expanded, `drop` applied, and the home, device sets
// and sockets turned into mount operations and environment settings, each carrying the file:line:col
// of the profile entry it came from. Reads the host only through the ProfileContext probes.
import { isJoinKey, JOIN_KEY_RULE } from '../plan/build';
import { LAUNCH_VARIABLES } from '../plan/launch-vars';
import path from 'node:path';
import { SandboxError } from '../errors';
import type { MountOp } from '../plan/types';
import { emptySpec, type SandboxSpec } from '../plan/spec';
import type { DbusDoc, FsEntry, ProfileDoc, Want } from './document';
import { abstractSocketsOf, canWriteOf, dataFdOf, dataHome, listDirOf, readLinkOf, realPathOf, x11CookieOf, type ProfileContext } from './context';
import { expandTemplate, type Template } from './template';
import { type DeviceName, type SocketName } from './tables';
import { deviceSetMounts } from '../plan/devices';
import { pulseInside, type PulseSpec } from '../session/pulse-rules';

export interface BuiltProfile {
  spec: SandboxSpec;
  persistHome?: string;
  /** The filesystem entries left after `drop`, as written (for `profile show`). */
  filesystem: FsEntry[];
  /** What the launcher changed in the profile's meaning and tells the user on stderr (one line each). */
  notes: string[];
}

const SPECIAL_HINT: Record<string, string> = {
  PROGRAM: 'the program\'s path, known only when a program is run',
  PROGRAM_DIR: 'the program\'s directory, known only when a program is run',
};

class Expander {
  readonly vars: Record<string, string | undefined>;
  constructor(ctx: ProfileContext) {
    // the environment below the names of our own, looked up name by name (not copied whole): the plan cache
    // records which variables a profile read (lib/host/plan-cache.ts)
    const own = { CWD: ctx.cwd, PROGRAM: ctx.programPath, PROGRAM_DIR: ctx.programPath ? path.dirname(ctx.programPath) : undefined };
    const env = ctx.env;
    this.vars = new Proxy(own as Record<string, string | undefined>, { get: (t, k) => (typeof k === 'string' && k in t ? t[k] : typeof k === 'string' ? env[k] : undefined) });
  }

  /** The expanded text; null when a variable is unset and the entry is optional. */
  text(t: Template, optional: boolean): string | null {
    const r = expandTemplate(t, this.vars);
    if ('value' in r) return r.value;
    if (optional) return null;
    const what = SPECIAL_HINT[r.unset] ?? `${r.unset} in the environment, a default (\${${r.unset}:-...}) or optional: true`;
    throw new SandboxError(`${t.at}: found ${JSON.stringify(t.text)} with ${r.unset} unset, expected ${what}`);
  }

  path(t: Template, optional: boolean): string | null {
    const s = this.text(t, optional);
    if (s === null) return null;
    if (!path.isAbsolute(s)) {
      const from = s === t.text ? '' : ` (from ${JSON.stringify(t.text)})`;
      throw new SandboxError(`${t.at}: found ${JSON.stringify(s)}${from}, expected an absolute path`);
    }
    const n = path.posix.normalize(s);
    return n.length > 1 ? n.replace(/\/+$/, '') : n;
  }
}

/** The variable a path begins with, when it is a launch variable and nothing else in the path is one. */
function launchVariableOf(t: Template | undefined): string | null {
  if (!t || t.parts.length === 0) return null;
  const [first, ...rest] = t.parts;
  if (first.kind !== 'var' || first.fallback !== undefined || !LAUNCH_VARIABLES.includes(first.name)) return null;
  return rest.every((p) => p.kind === 'text') ? first.name : null;
}

/** Host directories every program of the user shares: a variable that names one of them is never bound whole. */
const SHARED_TMP = ['/tmp', '/var/tmp', '/dev/shm'];


/**
 * A read-write bind of the home, or of a directory above it, from a variable (${CWD} when sandbox is started
 * from ~, a $SCRATCH that is the home) would let the program rewrite the user's shell start-up files and
 * sandbox's own configuration. Paths the profile names literally are the profile's choice. 'home': the source
 * is the home; below: the home's path under the source, which is above it.
 */
function coversHome(src: string, home: string | undefined, ctx: ProfileContext): 'home' | { below: string } | null {
  if (!home || !path.isAbsolute(home)) return null;
  const real = realPathOf(ctx);
  const h = real(path.posix.normalize(home));
  const s = real(src);
  if (s === h) return 'home';
  return h.startsWith(s === '/' ? '/' : s + '/') ? { below: h.slice(s === '/' ? 0 : s.length) } : null;
}

/**
 * A writable bind whose source comes from a variable ($TMPDIR, $SCRATCH, $PMIX_SERVER_TMPDIR): an earlier
 * sandbox may have planted a symlink on that path (/tmp/X -> ~) to have the next one bind what it points to.
 * Symlinks in directories only someone else (root) can write are the site's and are followed; one in a
 * directory this user can write is refused. True when the source came from a variable: it is then bound by its
 * resolved path, and the stage refuses a symlink planted on it between now and the mount.
 */
function checkVariableSource(t: Template, src: string, ctx: ProfileContext): boolean {
  if (!t.parts.some((p) => p.kind !== 'text')) return false;
  const link = readLinkOf(ctx);
  const real = realPathOf(ctx);
  const canWrite = canWriteOf(ctx);
  let cur = '/';
  for (const name of src.split('/').filter(Boolean)) {
    const next = path.posix.join(cur, name);
    const target = link(next);
    if (target === null) {
      cur = next;
      continue;
    }
    if (canWrite(cur)) {
      throw new SandboxError(`${t.at}: found ${src} (from ${JSON.stringify(t.text)}) going through the symlink ${next} -> ${target} in ${cur}, which this user can write (a sandbox may have planted it), expected a path without symlinks there: set the variable to the real directory`);
    }
    cur = real(next);
  }
  return true;
}

function fsOps(e: FsEntry, x: Expander, ctx: ProfileContext, notes: string[]): { dst: string; ops: MountOp[] } | null {
  const origin = e.at;
  const main = x.path(e.path, e.optional);
  if (main === null) return null;
  switch (e.op) {
    case 'bind':
    case 'ro-bind':
    case 'dev-bind': {
      const dst = e.dst ? x.path(e.dst, e.optional) : main;
      if (dst === null) return null;
      if (main === '/' && e.op !== 'ro-bind') {
        const from = e.path.text === '/' ? '' : ` (from ${JSON.stringify(e.path.text)})`;
        throw new SandboxError(`${e.path.at}: found a read-write bind of the host's /${from}, expected a narrower directory (run sandbox from a project directory, or use --no-profile)`);
      }
      if (SHARED_TMP.includes(main) && e.path.parts.some((p) => p.kind === 'var')) {
        // $TMPDIR=/tmp (SLURM sets it so when a job has none) would hand over every socket in the host's /tmp
        // (tmux, ssh-agent, X11); the sandbox's own /tmp stands in for it
        if (e.optional) return null;
        const fromCwd = e.path.parts.some((p) => p.kind === 'var' && p.name === 'CWD');
        const hint = fromCwd ? 'run sandbox from a directory of its own, or use --no-profile' : 'the sandbox\'s private /tmp serves otherwise; optional: true skips it';
        throw new SandboxError(`${e.path.at}: found ${JSON.stringify(e.path.text)} naming the host's shared ${main}, expected a directory of its own (${hint})`);
      }
      let readOnly = e.op === 'ro-bind';
      let src = main;
      let noFollow = false;
      if (!readOnly && checkVariableSource(e.path, main, ctx)) {
        src = realPathOf(ctx)(main);
        noFollow = true;
      }
      const home = noFollow ? coversHome(main, x.vars.HOME, ctx) : null;
      const from = e.path.text === main ? '' : ` (from ${JSON.stringify(e.path.text)})`;
      const cover: MountOp[] = [];
      if (home === 'home') {
        readOnly = true;
        notes.push(`${e.path.at}: ${main}${from} is the home directory: bound read-only (run sandbox from a project directory for a writable one, or add --bind ${main} ${dst} to mean it)`);
      } else if (home) {
        // the directory stays writable (a shared /tmp above a home under it); the home in it does not
        const inside = dst === '/' ? home.below : dst + home.below;
        cover.push({ op: 'bind', src: src === '/' ? home.below : src + home.below, dst: inside, readOnly: true, devices: false, optional: true, origin, noFollow: true });
        notes.push(`${e.path.at}: ${main}${from} holds the home directory: the home in it is bound read-only (run sandbox from a project directory, or add --bind ${inside} ${inside} to mean it)`);
      }
      const op: MountOp = { op: 'bind', src, dst, readOnly, devices: e.op === 'dev-bind', optional: e.optional, origin };
      const lv = launchVariableOf(e.path);
      const value = lv ? x.path({ ...e.path, parts: [e.path.parts[0]] }, true) : null;
      if (lv && value !== null && !cover.length) op.launchVar = { name: lv, value, dst: !e.dst || launchVariableOf(e.dst) === lv };
      return { dst, ops: [noFollow ? { ...op, noFollow } : op, ...cover] };
    }
    case 'tmpfs':
      return { dst: main, ops: [{ op: 'tmpfs', dst: main, size: e.size ?? 0, mode: e.mode ?? 0o755, origin }] };
    case 'proc':
    case 'dev':
    case 'mqueue':
    case 'remount-ro':
      return { dst: main, ops: [{ op: e.op, dst: main, origin }] };
    case 'overlay': {
      const host = (tpl: Template | undefined) => (tpl ? x.path(tpl, e.optional) : null);
      const lower = (e.lower ?? []).map((l) => host(l));
      if (lower.some((l) => l === null)) return null;
      const upper = host(e.upper);
      const work = host(e.work);
      if (e.upper && (upper === null || work === null)) return null;
      return { dst: main, ops: [{ op: 'overlay', dst: main, lower: lower as string[], upper, work, readOnly: !!e.readOnly, origin }] };
    }
    case 'dir':
      return { dst: main, ops: [{ op: 'dir', dst: main, mode: e.mode ?? 0o755, origin }] };
    case 'chmod':
      return { dst: main, ops: [{ op: 'chmod', path: main, mode: e.mode ?? 0o755, origin }] };
    case 'symlink': {
      const target = x.text(e.target as Template, e.optional);
      if (target === null) return null;
      return { dst: main, ops: [{ op: 'symlink', target, dst: main, origin }] };
    }
    case 'mirror': {
      const link = readLinkOf(ctx)(main);
      if (link !== null) return { dst: main, ops: [{ op: 'symlink', target: link, dst: main, origin }] };
      if (ctx.exists(main)) return { dst: main, ops: [{ op: 'bind', src: main, dst: main, readOnly: true, devices: false, optional: e.optional, origin }] };
      if (e.optional) return null;
      throw new SandboxError(`${e.path.at}: found no ${main} on this host, expected it for "mirror" (or optional: true)`);
    }
    case 'drop':
      return { dst: main, ops: [] };
  }
}

function homeOps(doc: ProfileDoc, name: string, x: Expander, ctx: ProfileContext): { ops: MountOp[]; persistHome?: string } {
  const home = doc.home;
  if (!home) return { ops: [] };
  const base = home.base?.value ?? (home.share.length > 0 ? 'tmpfs' : 'none');
  const at = home.base?.at ?? home.at;
  if (base === 'none') {
    if (home.share.length > 0) throw new SandboxError(`${home.share[0].at}: found a home share with home base "none", expected base "tmpfs", "persist" or "host"`);
    return { ops: [] };
  }
  const h = x.vars.HOME;
  if (!h || !path.isAbsolute(h)) throw new SandboxError(`${at}: found HOME ${h ? `"${h}"` : 'unset'}, expected an absolute HOME in the environment for home "${base}"`);
  const dst = path.posix.normalize(h);
  const ops: MountOp[] = [];
  let persistHome: string | undefined;
  const readOnly = home.readOnly?.value;
  if (base === 'tmpfs') ops.push({ op: 'tmpfs', dst, size: 0, mode: 0o700, origin: at });
  else if (base === 'host') ops.push({ op: 'bind', src: dst, dst, readOnly: readOnly ?? true, devices: false, optional: false, origin: at });
  else {
    const data = dataHome(ctx);
    if (!data) throw new SandboxError(`${at}: found neither XDG_DATA_HOME nor HOME set, expected one of them for home "persist"`);
    persistHome = path.join(data, 'sandbox', 'homes', name);
    // a sandbox that could write the data directory may have made homes/NAME a symlink to the real home
    const link = readLinkOf(ctx);
    for (const p of [path.join(data, 'sandbox'), path.join(data, 'sandbox', 'homes'), persistHome]) {
      const target = link(p);
      if (target !== null) throw new SandboxError(`${at}: found ${p} a symlink (to ${target}), expected a directory for the persistent home (a sandbox may have planted it: remove it)`);
    }
    ops.push({ op: 'bind', src: realPathOf(ctx)(persistHome), dst, readOnly: readOnly ?? false, devices: false, optional: false, origin: at, noFollow: true });
  }
  for (const s of home.share) {
    const p = path.posix.join(dst, s.path);
    ops.push({ op: 'bind', src: p, dst: p, readOnly: s.readOnly, devices: false, optional: s.optional, origin: s.at });
  }
  return { ops, persistHome };
}

const wantedHint = (kind: string, name: string): string => `write "${name}": "optional" in ${kind} to run without it`;

function deviceOps(doc: ProfileDoc, ctx: ProfileContext): { ops: MountOp[]; env: Record<string, string>; names: string[] } {
  const ops: MountOp[] = [];
  const names: string[] = [];
  let env: Record<string, string> = {};
  const probe = { exists: ctx.exists, listDir: listDirOf(ctx), env: ctx.env };
  for (const [name, want] of Object.entries(doc.devices) as [DeviceName, { value: Want; at: string }][]) {
    if (want.value === false) continue;
    const r = deviceSetMounts(name, want.value === true, want.at, probe, wantedHint('devices', name));
    if (r.mounts.length === 0) continue;
    ops.push(...r.mounts);
    env = { ...env, ...r.env };
    names.push(name);
  }
  return { ops, env, names };
}

/** x11: the host's display number and the screen part of DISPLAY ('.1', or ''). */
type SocketFound = { path: string; env: Record<string, string>; x11?: { display: number; screen: string } } | { missing: string };

function findSocket(name: SocketName, env: Record<string, string | undefined>, exists: (p: string) => boolean): SocketFound {
  const runtime = env.XDG_RUNTIME_DIR;
  const inRuntime = (rel: string, what: string): string | { missing: string } =>
    path.isAbsolute(rel) ? rel : runtime ? path.join(runtime, rel) : { missing: `XDG_RUNTIME_DIR is unset, so ${what} has no place` };
  const withRuntime = (p: string, e: Record<string, string>): Record<string, string> =>
    runtime && p.startsWith(runtime + '/') ? { XDG_RUNTIME_DIR: runtime, ...e } : e;
  let p: string | { missing: string };
  let setEnv: Record<string, string> = {};
  switch (name) {
    case 'x11': {
      const d = env.DISPLAY;
      if (!d) return { missing: 'DISPLAY is unset' };
      // :N, unix:N and unix/:N (Xlib's forms of the local socket) and the socket's own path (libxcb 1.14+ takes it,
      // Xlib 1.8 does not), each with an optional screen; any of them is :99 (or so) inside, which both take
      const m = /^(?:unix\/?)?:(\d+)(\.\d+)?$/.exec(d) ?? /^\/tmp\/\.X11-unix\/X(\d+)(\.\d+)?$/.exec(d);
      if (!m) return { missing: `DISPLAY=${d} is not a local display` };
      const xp = `/tmp/.X11-unix/X${m[1]}`;
      if (!exists(xp)) return { missing: `${xp} does not exist` };
      return { path: xp, env: {}, x11: { display: Number(m[1]), screen: m[2] ?? '' } };
    }
    case 'wayland': {
      const w = env.WAYLAND_DISPLAY || 'wayland-0';
      p = inRuntime(w, `the Wayland socket ${w}`);
      setEnv = { WAYLAND_DISPLAY: w };
      break;
    }
    case 'pulseaudio': {
      const server = env.PULSE_SERVER;
      p = server && server.startsWith('unix:') ? server.slice(5) : inRuntime('pulse/native', 'the PulseAudio socket');
      if (typeof p === 'string') setEnv = { PULSE_SERVER: `unix:${p}` };
      break;
    }
    case 'pipewire':
      // refused before the host is looked at (refusePipewire)
      return { missing: 'the raw PipeWire socket is never shared' };
    case 'dbus-session': {
      const addr = env.DBUS_SESSION_BUS_ADDRESS;
      if (addr) {
        const unix = addr.split(';').filter((a) => a.startsWith('unix:'));
        const withPath = unix.map((a) => /(?:^unix:|,)path=([^,]+)/.exec(a)).find((m) => m);
        if (withPath) p = decodeURIComponent(withPath[1]);
        else if (unix.some((a) => /abstract=/.test(a))) return { missing: 'DBUS_SESSION_BUS_ADDRESS names an abstract socket, which no bind can carry into a sandbox' };
        else return { missing: `DBUS_SESSION_BUS_ADDRESS=${addr} has no unix:path=` };
      } else {
        p = inRuntime('bus', 'the session bus socket');
      }
      if (typeof p === 'string') setEnv = { DBUS_SESSION_BUS_ADDRESS: `unix:path=${p}` };
      break;
    }
    case 'munge':
      // libmunge has no variable for its socket: the compiled-in path is what sbatch and srun use
      p = MUNGE_SOCKET;
      break;
  }
  if (typeof p !== 'string') return p;
  if (!exists(p)) return { missing: `${p} does not exist` };
  return { path: p, env: withRuntime(p, setEnv) };
}

const SOCKET_TITLE: Record<SocketName, string> = {
  x11: 'X11 display socket',
  wayland: 'Wayland socket',
  pulseaudio: 'PulseAudio socket',
  pipewire: 'PipeWire socket',
  'dbus-session': 'D-Bus session bus socket',
  munge: 'MUNGE socket',
};

/** MUNGE's default socket: whoever reaches it gets credentials as the user, so SLURM runs their jobs unsandboxed. */
export const MUNGE_SOCKET = '/run/munge/munge.socket.2';

/**
 * The raw PipeWire socket is never shared by a profile: through it a client creates objects with the
 * server's factories (adapters, links, modules' nodes) and changes the graph for every program, and
 * PipeWire's own access control for sandboxed clients relies on a portal the host may not run. Sound
 * reaches PipeWire hosts through pipewire-pulse, which the pulseaudio entry gives through the filtering proxy.
 */
function refusePipewire(at: string): never {
  throw new SandboxError(`${at}: found sockets "pipewire", expected "pulseaudio" instead: the raw PipeWire socket lets a program create objects in the host's audio server outside the sandbox; pipewire-pulse serves the pulseaudio entry through sandbox's filtering proxy (a program that needs PipeWire itself can be given the socket by an explicit bind of $XDG_RUNTIME_DIR/pipewire-0)`);
}

function socketOps(doc: ProfileDoc, ctx: ProfileContext, notes: string[]): { ops: MountOp[]; env: Record<string, string>; unset: string[]; fds: number[]; pulse: PulseSpec | null } {
  const ops: MountOp[] = [];
  const unset: string[] = [];
  const fds: number[] = [];
  let env: Record<string, string> = {};
  let pulse: PulseSpec | null = null;
  for (const [name, want] of Object.entries(doc.sockets) as [SocketName, { value: Want; at: string }][]) {
    if (want.value === false) continue;
    if (name === 'pipewire') refusePipewire(want.at);
    const r = findSocket(name, ctx.env, ctx.exists);
    if ('missing' in r) {
      if (want.value === 'optional') continue;
      throw new SandboxError(`${want.at}: found no ${SOCKET_TITLE[name]} on this host (${r.missing}), expected one for sockets "${name}"; ${wantedHint('sockets', name)}`);
    }
    if (name === 'pulseaudio') {
      // the server's socket is the proxy's upstream; the sandbox gets the proxy's (lib/session/pulse-proxy.ts)
      pulse = { upstream: r.path, ...pulseInside(ctx.env, r.path), optional: want.value === 'optional', origin: want.at };
      continue;
    }
    let dst = r.path;
    let auth: ReturnType<typeof x11Authority> | null = null;
    if (r.x11) {
      const inside = x11InsideDisplay(ctx);
      // The display only with an untrusted cookie: a display that can't give one is treated as absent.
      auth = x11Authority(ctx, r.x11.display, inside, want.at);
      if ('refused' in auth) {
        if (want.value === 'optional') {
          // said, not silent: the program then finds no display, and the user should know why
          notes.push(`${want.at}: X11 left out: ${auth.refused}`);
          unset.push('DISPLAY', 'XAUTHORITY'); // else toolkits try the display first instead of Wayland
          continue;
        }
        throw new SandboxError(`${want.at}: found no ${SOCKET_TITLE[name]} a sandbox can be given safely (${auth.refused}), expected one for sockets "${name}"; ${wantedHint('sockets', name)}`);
      }
      dst = `/tmp/.X11-unix/X${inside}`;
      r.env.DISPLAY = `:${inside}${r.x11.screen}`;
    }
    ops.push({ op: 'bind', src: r.path, dst, readOnly: false, devices: false, optional: false, origin: want.at });
    env = { ...env, ...r.env };
    if (auth && 'op' in auth) {
      ops.push(auth.op);
      fds.push(auth.op.fd);
      env = { ...env, XAUTHORITY: auth.op.dst };
    }
  }
  return { ops, env, unset, fds, pulse };
}

/** The display number a sandbox reaches the host's display under, when nothing on the host answers to it (as flatpak does). */
export const X11_INSIDE_DISPLAY = 99;

/**
 * The host's X socket goes in under a display number of the sandbox's own, never the host's: X servers as they
 * ship listen on an abstract socket (@/tmp/.X11-unix/XN) as well as on the path, and libxcb tries the abstract
 * one first. Where the sandbox shares the host's network, the Landlock scope refuses that connect with EPERM,
 * on which libxcb gives up instead of trying the path; so the number must be one that no abstract socket of the
 * host's answers to (nothing, ECONNREFUSED, and libxcb goes on to the bound path). The host's path sockets and
 * lock files are avoided too, so that a server starting there is less likely to take the number afterwards.
 */
export function x11InsideDisplay(ctx: ProfileContext): number {
  const abstract = new Set(abstractSocketsOf(ctx)());
  const taken = (n: number): boolean => abstract.has(`/tmp/.X11-unix/X${n}`) || ctx.exists(`/tmp/.X11-unix/X${n}`) || ctx.exists(`/tmp/.X${n}-lock`);
  let n = X11_INSIDE_DISPLAY;
  while (taken(n) && n < 65535) n++;
  return n;
}

/** Where the sandbox finds its copy of the X cookie (on the sandbox's own root, never on a bound host directory). */
export const SANDBOX_XAUTHORITY = '/run/sandbox/Xauthority';

/**
 * An untrusted cookie for this display (lib/profile/xauth.ts says why the user's own cookie is never given),
 * asked for with the host's authority file ($XAUTHORITY, else ~/.Xauthority), keyed FamilyWild because the
 * sandbox's hostname differs from the host's; passed as a read-only file through an inherited descriptor.
 */
function x11Authority(ctx: ProfileContext, display: number, inside: number, at: string): { op: Extract<MountOp, { op: 'data' }> } | { refused: string } {
  const file = ctx.env.XAUTHORITY || (ctx.env.HOME ? path.join(ctx.env.HOME, '.Xauthority') : null);
  const access = x11CookieOf(ctx)(display, file);
  if ('refused' in access) return access;
  const { renumbered } = require('./xauth') as typeof import('./xauth');
  const fd = dataFdOf(ctx)('sandbox-xauthority', renumbered(access.cookie, inside));
  return { op: { op: 'data', fd, dst: SANDBOX_XAUTHORITY, mode: 0o400, mount: true, readOnly: true, origin: at } };
}

/** Entries left after `drop`, matching destinations expanded where they can be (unset variables stay as written): for `profile show`. */
export function entriesAfterDrops(entries: FsEntry[], ctx: ProfileContext): FsEntry[] {
  const x = new Expander(ctx);
  const dstOf = (e: FsEntry): string => {
    const t = e.dst ?? e.path;
    const r = expandTemplate(t, x.vars);
    return path.posix.normalize('value' in r ? r.value : t.text).replace(/(.)\/+$/, '$1');
  };
  let kept: FsEntry[] = [];
  for (const e of entries) {
    if (e.op === 'drop') kept = kept.filter((k) => dstOf(k) !== dstOf(e));
    else kept.push(e);
  }
  return kept;
}

/** The join key in the form a compiled plan resolves at launch; null for one the stage can't (`~`, `${V:-x}`). */
function joinTemplate(t: Template): SandboxSpec['joinTemplate'] | null {
  let text = '';
  let kinds = '';
  for (const p of t.parts) {
    if (p.kind === 'home' || (p.kind === 'var' && p.fallback !== undefined)) return null;
    if (p.kind === 'text') { text += p.text; kinds += 'l'.repeat(Buffer.byteLength(p.text)); }
    else { text += p.name; kinds += 'V' + 'v'.repeat(p.name.length - 1); }
  }
  return t.parts.some((p) => p.kind === 'var') ? { text, kinds, origin: t.at } : null;
}

export function buildSpec(doc: ProfileDoc, name: string, ctx: ProfileContext): BuiltProfile {
  const x = new Expander(ctx);
  const spec = emptySpec();
  if (doc.network) spec.shareNet = doc.network.value === 'shared';
  if (doc.pid) spec.sharePid = doc.pid.value === 'shared';
  if (doc.join) {
    const key = x.text(doc.join, true);
    if (key !== null) {
      if (!isJoinKey(key)) throw new SandboxError(`${doc.join.at}: found ${JSON.stringify(key)}, expected a join key: ${JOIN_KEY_RULE}`);
      spec.join = key;
    }
    const t = joinTemplate(doc.join);
    if (t) spec.joinTemplate = t;
  }
  if (doc.uid) spec.uid = doc.uid.value;
  if (doc.gid) spec.gid = doc.gid.value;
  if (doc.hostname) spec.hostname = doc.hostname.value;
  if (doc.cwd) {
    spec.cwd = x.path(doc.cwd, false) as string;
    const lv = launchVariableOf(doc.cwd);
    const value = lv ? x.path({ ...doc.cwd, parts: [doc.cwd.parts[0]] }, true) : null;
    if (lv && value !== null) spec.cwdVar = { name: lv, value };
  }
  if (doc.newSession) spec.newSession = doc.newSession.value;
  if (doc.dieWithParent) spec.dieWithParent = doc.dieWithParent.value;
  if (doc.asPid1) spec.asPid1 = doc.asPid1.value;

  const home = homeOps(doc, name, x, ctx);
  const notes: string[] = [];
  let kept: { entry: FsEntry; dst: string; ops: MountOp[] }[] = [];
  for (const entry of doc.filesystem) {
    const r = fsOps(entry, x, ctx, notes);
    if (entry.op === 'drop') {
      if (r) kept = kept.filter((k) => k.dst !== r.dst);
      continue;
    }
    kept.push({ entry, dst: r?.dst ?? '', ops: r?.ops ?? [] });
  }
  const direct = doc.sockets['dbus-session'];
  if (doc.dbus && direct && direct.value !== false) {
    throw new SandboxError(`${direct.at}: found sockets "dbus-session" beside a dbus section (${doc.dbus.at}), expected one of them: the socket binds the whole bus, unfiltered`);
  }
  const sockets = socketOps(doc, ctx, notes);
  const devices = deviceOps(doc, ctx);
  // The home goes after the entries that would cover it (a tmpfs /tmp or /home above $HOME) and before
  // the rest, so that entries under $HOME (a project dir, ~/Downloads) land on top of it.
  const homeDst = home.ops[0]?.op === 'bind' || home.ops[0]?.op === 'tmpfs' ? home.ops[0].dst : null;
  const covers = (k: { dst: string; ops: MountOp[] }): boolean =>
    homeDst !== null && k.ops.length > 0 && (k.dst === '/' ? homeDst !== '/' : homeDst.startsWith(k.dst + '/'));
  spec.mounts = [
    ...kept.filter(covers).flatMap((k) => k.ops),
    ...home.ops,
    ...kept.filter((k) => !covers(k)).flatMap((k) => k.ops),
    ...devices.ops,
    ...sockets.ops,
  ];

  const set: Record<string, string> = { ...devices.env, ...sockets.env };
  if (devices.names.length > 0) spec.devices = devices.names;
  for (const [k, v] of Object.entries(doc.env.set)) if (v.value) set[k] = x.text(v.value, false) as string;
  spec.env = {
    clear: doc.env.clear?.value ?? false,
    keep: doc.env.keep.map((k) => k.value),
    set,
    unset: [...doc.env.unset.map((u) => u.value), ...sockets.unset],
  };
  spec.capAdd = doc.capabilities.map((c) => c.value);
  for (const [list, write] of [[doc.landlock.readOnly, false], [doc.landlock.readWrite, true]] as const) {
    for (const tpl of list) {
      const p = x.path(tpl, false);
      if (p !== null) spec.landlock.push({ path: p, write, origin: tpl.at });
    }
  }
  spec.keepFds = [...spec.keepFds, ...sockets.fds];
  if (sockets.pulse) spec.pulse = sockets.pulse;
  if (doc.seccomp) spec.seccomp = { policy: parseProfileSeccomp(doc.seccomp.policy, doc.seccomp.locate), origin: doc.seccomp.at };
  if (doc.limits) {
    const l = doc.limits;
    // Each limit keeps the position of its own value (through extends too), so messages name the line.
    const from = <T>(m: { value: T; at: string }) => ({ value: m.value, origin: m.at, from: 'profile' as const });
    spec.limits = {};
    if (l.memory) spec.limits.memory = from(l.memory);
    if (l.memorySwap) spec.limits.memorySwap = from(l.memorySwap);
    if (l.cpus) spec.limits.cpus = from(l.cpus);
    if (l.pids) spec.limits.pids = from(l.pids);
    if (l.mode) spec.limits.mode = from(l.mode);
  }
  if (doc.dbus) {
    const d = doc.dbus;
    const names = (l: { value: string }[]): string[] => l.map((e) => e.value).filter((n) => !n.startsWith('!'));
    const rules = (m: DbusDoc['call']): Record<string, string[]> =>
      Object.fromEntries(Object.entries(m).flatMap(([k, v]) => (v ? [[k, v.value]] : [])));
    spec.dbus = { see: names(d.see), talk: names(d.talk), own: names(d.own), call: rules(d.call), broadcast: rules(d.broadcast), optional: d.optional?.value ?? false, origin: d.at };
  }
  return { spec, persistHome: home.persistHome, filesystem: kept.map((k) => k.entry), notes };
}

/** The seccomp section, checked by lib/seccomp with positions in the profile (loaded only when a profile has one). */
export function parseProfileSeccomp(raw: unknown, locate: (path: (string | number)[]) => string): import('../seccomp/policy').SeccompPolicy {
  const { parseSeccompSection } = require('../seccomp/policy') as typeof import('../seccomp/policy');
  return parseSeccompSection(raw, locate);
}
