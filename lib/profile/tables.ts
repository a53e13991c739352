// The vocabulary of a profile: which keys each section allows, the filesystem operations and their keys,
// the device sets and sockets. The validator reads these tables and a unit test compares them with
// schema/profile.schema.json, so the editor schema and the validator can't drift apart.

export const TOP_KEYS = [
  'description',
  'programs',
  'fileArgs',
  'extends',
  'namespaces',
  'hostname',
  'cwd',
  'filesystem',
  'env',
  'capabilities',
  'home',
  'devices',
  'sockets',
  'seccomp',
  'limits',
  'dbus',
  'landlock',
  'newSession',
  'dieWithParent',
  'asPid1',
] as const;

/** How the files named on a command line (--file-args, a menu entry's %f/%u) are bound: read-only or read-write. */
export const FILE_ARG_MODES = ['ro', 'rw'] as const;
export type FileArgMode = (typeof FILE_ARG_MODES)[number];

/** A program name a profile is made for, matched against the command's base name as typed. */
export const PROGRAM_NAME_RE = /^[^/\0\s]+$/;

export const NAMESPACES_KEYS = ['network', 'pid', 'join', 'uid', 'gid'] as const;
export const NETWORK_VALUES = ['shared', 'private'] as const;

export const ENV_KEYS = ['clear', 'keep', 'set', 'unset'] as const;

/** Landlock filesystem rules: paths inside the sandbox the program may read (and run), or also write. */
export const LANDLOCK_KEYS = ['readOnly', 'readWrite'] as const;

export const HOME_KEYS = ['base', 'readOnly', 'share'] as const;
export const HOME_BASES = ['none', 'tmpfs', 'persist', 'host'] as const;
export const HOME_SHARE_KEYS = ['path', 'readOnly', 'optional'] as const;

export const LIMITS_KEYS = ['memory', 'memorySwap', 'cpus', 'pids', 'mode'] as const;
export const LIMITS_MODES = ['strict', 'best-effort'] as const;

/**
 * Filesystem operations: the key naming the operation holds its main path (the source for binds, the
 * place inside for the rest); the listed keys are the others it accepts. `mirror` and `drop` exist only
 * in profiles: mirror copies a host symlink or read-only binds a real directory, drop removes earlier entries.
 */
export const FS_OPS = {
  bind: ['dst', 'optional'],
  'ro-bind': ['dst', 'optional'],
  'dev-bind': ['dst', 'optional'],
  tmpfs: ['size', 'mode', 'optional'],
  proc: ['optional'],
  dev: ['optional'],
  mqueue: ['optional'],
  dir: ['mode', 'optional'],
  symlink: ['target', 'optional'],
  chmod: ['mode', 'optional'],
  'remount-ro': ['optional'],
  overlay: ['lower', 'upper', 'work', 'readOnly', 'optional'],
  mirror: ['optional'],
  drop: [],
} as const;

export type FsOpName = keyof typeof FS_OPS;
export const FS_OP_NAMES = Object.keys(FS_OPS) as FsOpName[];
/** Keys an operation can't do without. */
export const FS_REQUIRED: Partial<Record<FsOpName, string[]>> = { symlink: ['target'], chmod: ['mode'], overlay: ['lower'] };

/** Device sets: lib/plan/devices.ts decides what each binds; the profile's `devices` keys are their names. */
export { DEVICE_SETS, DEVICE_NAMES, type DeviceName } from '../plan/devices';

export const SOCKET_NAMES = ['x11', 'wayland', 'pulseaudio', 'pipewire', 'dbus-session', 'munge'] as const;
export type SocketName = (typeof SOCKET_NAMES)[number];

/** What a device or socket entry may say: wanted (error when the host lacks it), wanted if present, or off. */
export const WANT_VALUES = [true, false, 'optional'] as const;

/** The `dbus` section (session bus through xdg-dbus-proxy): see lib/session/dbus-rules.ts for what each holds. */
export { DBUS_KEYS } from '../session/dbus-rules';
