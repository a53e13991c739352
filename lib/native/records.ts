// The plan's records, each described once: its keyword, its fields and their types, what it means.
// lib/native/serialize.ts writes records through this table (a record or field it lacks does not compile);
// scripts/gen-plan-records.js derives the C stage's dispatch (native/plan-records.h) and PLAN.md's tables from it,
// and test/unit/plan-records.test.js fails when either is stale. native/plan.c stores each record's fields.

/** The wire format's version: the first record is `sandbox-plan VERSION`; the stage refuses any other. */
export const PLAN_VERSION = 2;

export type FieldType =
  /** 0 or 1 */
  | { t: 'flag' }
  /** unsigned decimal, min..max ('u63': up to 2^63-1) */
  | { t: 'number'; min?: number; max: number | 'u63' }
  /** any bytes but NUL, at most max bytes; nonEmpty; oneLine: no newline */
  | { t: 'string'; max?: number; nonEmpty?: boolean; oneLine?: boolean }
  /** absolute and normalised: no `.` or `..` components, under 4096 bytes; orNone: or empty, for none (null) */
  | { t: 'path'; orNone?: boolean }
  /** min..max paths as `path` is, in one token: separated by `:`, with `\:` and `\\` for `:` and `\` within one */
  | { t: 'paths'; min: number; max: number }
  /** NAME=VALUE with a non-empty NAME */
  | { t: 'assignment' }
  /** raw bytes, a whole number of units of `unit` bytes, minUnits..maxUnits of them */
  | { t: 'bytes'; unit: number; minUnits: number; maxUnits: number };

export interface FieldSpec { readonly name: string; readonly type: FieldType; readonly doc?: string }
export interface RecordSpec {
  /** which table of PLAN.md it is listed in; 'mount': an operation on the new root, carried out in order */
  readonly group: 'process' | 'compiled' | 'mount';
  readonly fields: readonly FieldSpec[];
  readonly doc: string;
  /** may appear more than once */
  readonly repeat?: boolean;
}

const flag = { t: 'flag' } as const;
const path = { t: 'path' } as const;
const string = { t: 'string' } as const;
const origin = { name: 'origin', type: string, doc: 'prefixes any error' } as const;
const mode = { t: 'number', max: 0o7777 } as const;
const u63 = { t: 'number', max: 'u63' } as const;
const fdType = { t: 'number', max: 1 << 20 } as const;

/** Keyword → record. The order is PLAN.md's; the stage accepts the records in any order (mounts run in theirs).
 * A mount record is named after its MountOp kind (lib/plan/types.ts) and its fields after the kind's properties:
 * the writer and the stage's reader take them as they are, so a new kind is its MountOp entry, its record here and
 * its work in native/mounts.c. */
export const RECORDS = {
  'share-net': { group: 'process', fields: [{ name: 'shared', type: flag }], doc: '1: no new network namespace' },
  'share-pid': { group: 'process', fields: [{ name: 'shared', type: flag }], doc: "1: no new pid namespace: the init is a subreaper that ends every descendant at the end" },
  uid: { group: 'process', fields: [{ name: 'id', type: { t: 'number', max: 0xfffffffe } }], doc: "id inside; the one-entry map sends it to the caller's own" },
  gid: { group: 'process', fields: [{ name: 'id', type: { t: 'number', max: 0xfffffffe } }], doc: "id inside; the one-entry map sends it to the caller's own" },
  hostname: { group: 'process', fields: [{ name: 'name', type: { t: 'string', max: 64 } }], doc: 'default `sandbox`' },
  cwd: { group: 'process', fields: [{ name: 'dir', type: path }], doc: 'working directory inside (default `/`)' },
  'cwd-fallback': { group: 'process', fields: [{ name: 'fallback', type: flag }], doc: '1: chdir to `/` when `cwd` is not visible inside' },
  'new-session': { group: 'process', fields: [{ name: 'setsid', type: flag }], doc: 'setsid before running the program' },
  'die-with-parent': { group: 'process', fields: [{ name: 'die', type: flag }], doc: 'the monitor gets PR_SET_PDEATHSIG(SIGKILL)' },
  'parent-pid': { group: 'process', fields: [{ name: 'pid', type: { t: 'number', max: 0x3fffffff } }], doc: 'the parent sandbox was started by; with die-with-parent, the stage exits 125 if its parent is no longer that one' },
  'as-pid-1': { group: 'process', fields: [{ name: 'pid1', type: flag }], doc: 'exec the program as pid 1 instead of under the init' },
  'terminal-node': { group: 'process', fields: [{ name: 'show', type: flag }], doc: "1: when one of fds 0-2 is the caller's controlling terminal and it is `/dev/pts/K` of the host, a `dev` at `/dev` shows that node at `/dev/pts/K` (pty K of the new devpts is reserved, the init holds its master). Not with `as-pid-1`" },
  verbose: { group: 'process', fields: [{ name: 'say', type: flag }], doc: 'say on stderr what the kernel could not give (an older Landlock ABI)' },
  cap: { group: 'process', repeat: true, fields: [{ name: 'capability', type: { t: 'number', max: 63 } }], doc: 'a capability kept' },
  'keep-fd': { group: 'process', repeat: true, fields: [{ name: 'fd', type: { t: 'number', min: 3, max: 1 << 20 } }], doc: 'a descriptor the program inherits (0-2 always are)' },
  env: { group: 'process', repeat: true, fields: [{ name: 'entry', type: { t: 'assignment' } }], doc: "the program's environment, in order" },
  argv: { group: 'process', repeat: true, fields: [{ name: 'arg', type: string }], doc: "the program's arguments, argv[0] first (at least one, unless a compiled plan's launch gives them)" },
  seccomp: { group: 'process', fields: [origin, { name: 'program', type: { t: 'bytes', unit: 8, minUnits: 1, maxUnits: 4096 } }], doc: 'a `struct sock_filter` array (8 bytes each, native order)' },
  'landlock-scopes': { group: 'process', fields: [{ name: 'scopes', type: { t: 'number', max: 3 } }], doc: 'LANDLOCK_SCOPE_* bits (1 abstract unix sockets, 2 signals), applied where the kernel has them (ABI 6+)' },
  'landlock-fs': { group: 'process', repeat: true, fields: [{ name: 'abi', type: { t: 'number', min: 1, max: 255 } }, { name: 'rights', type: u63 }], doc: 'the filesystem rights the ruleset handles when the kernel\'s Landlock ABI is at least `abi` (the record with the highest such `abi` counts)' },
  'landlock-path': { group: 'process', repeat: true, fields: [origin, { name: 'path', type: path }, { name: 'dir-rights', type: u63 }, { name: 'file-rights', type: u63 }], doc: 'a path the program may reach: the rights granted beneath it when it is a directory, or on it when it is not (each limited to the handled rights)' },
  'join-dir': { group: 'process', fields: [{ name: 'dir', type: path }], doc: "`--join KEY`: the key's state directory, `BASE/sandbox/join/KEY` (see Joining below)" },
  'join-policy': { group: 'process', fields: [{ name: 'words', type: { t: 'string', max: 1024, oneLine: true } }], doc: "`--join`: `key=value` words for what a joiner can't apply itself; a joiner whose words differ from the first member's is refused" },
  cgroup: { group: 'process', fields: [{ name: 'leaf', type: path }], doc: 'leaf cgroup the program is born in; removed at exit' },
  'cgroup-memory-label': { group: 'process', fields: [{ name: 'label', type: string }], doc: 'what the exit report names when memory.events `oom_kill` grew' },
  'cgroup-pids-label': { group: 'process', fields: [{ name: 'label', type: string }], doc: 'what the exit report names when pids.events `max` grew' },
  // bwrap mode (lib/cli/bwrap.ts; native/bwrap.c carries them out)
  'diagnostic-prefix': { group: 'process', fields: [{ name: 'prefix', type: { t: 'string', max: 32, nonEmpty: true, oneLine: true } }], doc: 'bwrap mode: what the stage\'s error lines begin with (`bwrap`, `<3>bwrap` with --level-prefix; no `%`); default `sandbox`' },
  argv0: { group: 'process', fields: [{ name: 'arg', type: string }], doc: "bwrap mode `--argv0`: the program's argv[0] (the command is still the first `argv`)" },
  'info-fd': { group: 'process', fields: [{ name: 'fd', type: fdType }], doc: 'bwrap mode: the monitor writes `{"child-pid": N, "<kind>-namespace": INODE, ...}` (the namespaces it made) and closes it' },
  'json-status-fd': { group: 'process', fields: [{ name: 'fd', type: fdType }], doc: 'bwrap mode: the monitor writes the same object as one line, then `{ "exit-code": N }` at the end' },
  'sync-fd': { group: 'process', fields: [{ name: 'fd', type: fdType }], doc: 'bwrap mode: held open by the monitor until it exits' },
  'block-fd': { group: 'process', fields: [{ name: 'fd', type: fdType }], doc: 'bwrap mode: the init reads one byte (or EOF) from it before the program runs' },
  'userns-block-fd': { group: 'process', fields: [{ name: 'fd', type: fdType }], doc: 'bwrap mode: the monitor writes no setgroups/uid_map/gid_map; the child, once let go, waits for a byte (or EOF) on it' },
  'userns-fd': { group: 'process', fields: [{ name: 'fd', type: fdType }], doc: 'bwrap mode `--userns`: the monitor enters this user namespace (setns) and clones without CLONE_NEWUSER; no maps are written' },
  'userns2-fd': { group: 'process', fields: [{ name: 'fd', type: fdType }], doc: 'bwrap mode `--userns2`: the init enters this user namespace once its capabilities are dropped, before the program runs' },
  'pidns-fd': { group: 'process', fields: [{ name: 'fd', type: fdType }], doc: 'bwrap mode `--pidns`: the monitor enters this pid namespace; the child is made in it, with no new pid namespace of its own' },
  'lock-file': { group: 'process', repeat: true, fields: [{ name: 'path', type: path }], doc: 'bwrap mode: opened inside once the root is built, read-locked (`F_SETLKW`, `F_RDLCK`) by the init for the sandbox\'s life' },
  'seccomp-extra': { group: 'process', repeat: true, fields: [origin, { name: 'program', type: { t: 'bytes', unit: 8, minUnits: 1, maxUnits: 4096 } }], doc: 'bwrap mode `--seccomp`, `--add-seccomp-fd`: a filter installed after the base one, in order' },
  registry: { group: 'process', fields: [{ name: 'dir', type: path }, { name: 'name', type: { t: 'string', max: 64, nonEmpty: true }, doc: 'letters, digits and `._-`, not starting with `.`' }, { name: 'enter', type: flag }], doc: "`sandbox run`: the entry `NAME.json` in the registry directory `dir` (removed by the monitor at its end); the process titles; enter 1: the monitor listens on `dir/NAME.sock` and the init serves `sandbox enter` (native/enter.c). Not in compiled plans" },

  'env-launch': { group: 'compiled', fields: [{ name: 'clear', type: flag }], doc: "the environment is the launch's own, filtered by the `env-keep` (when `clear`) and `env-unset` patterns, with the `env` records on top (they win) and the `env-default` ones where nothing gave the name" },
  'env-keep': { group: 'compiled', repeat: true, fields: [{ name: 'text', type: { t: 'string', nonEmpty: true } }, { name: 'kinds', type: { t: 'string', nonEmpty: true } }], doc: 'a name pattern, compiled: `kinds` has one letter per byte of `text`: `l` that byte itself, `?` any one character (a whole UTF-8 sequence), `*` any run of bytes (the byte in `text` is then ignored)' },
  'env-unset': { group: 'compiled', repeat: true, fields: [{ name: 'text', type: { t: 'string', nonEmpty: true } }, { name: 'kinds', type: { t: 'string', nonEmpty: true } }], doc: 'a name pattern removed, in the form of `env-keep`' },
  'env-default': { group: 'compiled', repeat: true, fields: [{ name: 'entry', type: { t: 'assignment' } }], doc: 'set when neither the launch environment (as filtered) nor an `env` record has the name' },
  'join-key': { group: 'compiled', fields: [origin, { name: 'text', type: { t: 'string', nonEmpty: true } }, { name: 'kinds', type: { t: 'string', nonEmpty: true } }], doc: "the profile's join key, resolved at each launch from its environment: `kinds` has one letter per byte of `text`: `l` that byte, `V` the first byte of a variable's name, `v` the rest of it. A variable unset or empty: no joining; else the join directory is `BASE/sandbox/join/KEY` (as `join-dir`) and `join-policy` applies" },
  // per-launch paths (lib/plan/launch-vars.ts decides which; native/launch-vars.c applies them)
  'launch-var': { group: 'compiled', repeat: true, fields: [origin, { name: 'name', type: { t: 'string', max: 128, nonEmpty: true, oneLine: true }, doc: '`CWD`: the working directory; else an environment variable' }, { name: 'planned', type: path }], doc: "a variable whose value is taken at each launch: the `launch-op` binds and the `launch-cwd` directory begin with `planned`, and get the launch's value in its place. The value must be an absolute directory with no symlink on its path and stand to each `launch-guard` path as `planned` did, else the launch is refused; unset at launch: the optional binds are skipped, a required one refuses the launch. The `join-policy` word `launch-NAME` gets the value" },
  'launch-guard': { group: 'compiled', repeat: true, fields: [{ name: 'name', type: { t: 'string', max: 128, nonEmpty: true, oneLine: true } }, { name: 'relation', type: { t: 'string', max: 1, nonEmpty: true }, doc: '`d`: neither is under the other; `n`: the value is not the path and not above it; `L`: the path is the list of compiled plans, none of which may be under the value' }, { name: 'path', type: path }], doc: 'how the value of `launch-var` NAME must stand to a path that decided the plan (the home, sandbox\'s own files and state, the shared /tmp)' },
  'launch-op': { group: 'compiled', repeat: true, fields: [{ name: 'name', type: { t: 'string', max: 128, nonEmpty: true, oneLine: true } }, { name: 'index', type: { t: 'number', max: 65535 }, doc: 'the bind\'s place among the mount records, from 0' }, { name: 'dst', type: flag, doc: '1: its dst begins with the variable too' }], doc: 'a bind whose src (and dst) begin with the value of `launch-var` NAME' },
  'launch-cwd': { group: 'compiled', fields: [{ name: 'name', type: { t: 'string', max: 128, nonEmpty: true, oneLine: true } }], doc: 'the `cwd` record begins with the value of `launch-var` NAME' },
  'input-file': { group: 'compiled', repeat: true, fields: [{ name: 'path', type: path }, { name: 'mtime-s', type: u63 }, { name: 'mtime-ns', type: u63 }, { name: 'size', type: u63 }], doc: 'a profile file; any change refuses the launch' },
  'input-path': { group: 'compiled', repeat: true, fields: [{ name: 'path', type: path }, { name: 'directory', type: flag }, { name: 'optional', type: flag }], doc: 'a bind source; gone (unless optional) or of another type (directory or not) refuses the launch' },
  'input-boot': { group: 'compiled', fields: [{ name: 'id', type: string }], doc: '`/proc/sys/kernel/random/boot_id` when compiled' },
  'input-node': { group: 'compiled', repeat: true, fields: [{ name: 'path', type: path }, { name: 'device', type: u63 }, { name: 'inode', type: u63 }], doc: "a bind source's device and inode; checked only in the boot `input-boot` names (another boot or node has other numbers)" },

  bind: { group: 'mount', repeat: true, fields: [origin, { name: 'src', type: path }, { name: 'dst', type: path }, { name: 'readOnly', type: flag }, { name: 'devices', type: flag }, { name: 'optional', type: flag }, { name: 'noFollow', type: flag }], doc: 'readOnly: read-only, recursively; devices: no nodev; optional: skipped when src is missing; noFollow: src was resolved when planned, and no symlink may be on it now (`openat2` with `RESOLVE_NO_SYMLINKS`, else ELOOP)' },
  tmpfs: { group: 'mount', repeat: true, fields: [origin, { name: 'dst', type: path }, { name: 'size', type: u63, doc: 'bytes, 0: default' }, { name: 'mode', type: mode }], doc: 'a new tmpfs (size in bytes, 0: the kernel\'s default)' },
  proc: { group: 'mount', repeat: true, fields: [origin, { name: 'dst', type: path }], doc: 'procfs of the new pid namespace; sys, sysrq-trigger, irq, bus, fs read-only; kcore, keys, timer_list, sched_debug, kallsyms, latency_stats masked; acpi, scsi hidden' },
  dev: { group: 'mount', repeat: true, fields: [origin, { name: 'dst', type: path }], doc: 'tmpfs with null, zero, full, random, urandom, tty bound from the host, a new devpts, shm, and links' },
  mqueue: { group: 'mount', repeat: true, fields: [origin, { name: 'dst', type: path }], doc: 'a POSIX message queue filesystem' },
  dir: { group: 'mount', repeat: true, fields: [origin, { name: 'dst', type: path }, { name: 'mode', type: mode }], doc: 'mkdir -p: what it makes gets mode (parents 0755 less the group and other bits mode lacks); an existing directory keeps its own' },
  symlink: { group: 'mount', repeat: true, fields: [origin, { name: 'target', type: { t: 'string', nonEmpty: true } }, { name: 'dst', type: path }], doc: 'an existing identical link is fine' },
  data: { group: 'mount', repeat: true, fields: [origin, { name: 'fd', type: { t: 'number', max: 1 << 20 } }, { name: 'dst', type: path }, { name: 'mode', type: mode }, { name: 'mount', type: flag }, { name: 'readOnly', type: flag }, { name: 'permsGiven', type: flag }], doc: "the fd's contents (0-2 too: it is consumed), as a file (mount: a bind-mounted one, readOnly: read-only); permsGiven: the mode came from --perms, and parents made on the way lose the group and other bits it lacks (bwrap(1)), else 0755" },
  chmod: { group: 'mount', repeat: true, fields: [origin, { name: 'mode', type: mode }, { name: 'path', type: path }], doc: 'chmod an existing path' },
  overlay: { group: 'mount', repeat: true, fields: [origin, { name: 'dst', type: path }, { name: 'lower', type: { t: 'paths', min: 1, max: 500 }, doc: 'bottom layer first' }, { name: 'upper', type: { t: 'path', orNone: true } }, { name: 'work', type: { t: 'path', orNone: true } }, { name: 'readOnly', type: flag }], doc: 'overlayfs in the sandbox\'s user namespace: writes go to `upper` (with `work`, both or neither), to a throw-away tmpfs when there is none and not `readOnly`; `readOnly` takes no upper and two lower layers at least' },
  'remount-ro': { group: 'mount', repeat: true, fields: [origin, { name: 'dst', type: path }], doc: 'the mount at dst and its submounts become read-only' },
} as const satisfies Record<string, RecordSpec>;

export type RecordName = keyof typeof RECORDS;

type ValueOf<F> = F extends { type: { t: 'flag' } } ? boolean
  : F extends { type: { t: 'number' } } ? number | bigint
  : F extends { type: { t: 'bytes' } } ? Buffer
  : F extends { type: { t: 'paths' } } ? string[]
  : F extends { type: { t: 'path'; orNone: true } } ? string | null
  : string;

/** The values of a record's fields, in the table's order and types. */
type Values<T extends readonly unknown[]> = { -readonly [I in keyof T]: ValueOf<T[I]> };
export type RecordValues<K extends RecordName> = Values<(typeof RECORDS)[K]['fields']>;
