// The plan: the plain, serialisable object that TypeScript builds and the C stage executes.
// native/PLAN.md documents the wire form; lib/native/serialize.ts writes it.

/** Where an entry came from, for error messages: "--bind /data" or "browser.json5:12:5". */
export type Origin = string;

/** A bind whose src (and, with dst, its dst) begins with the value of a variable that differs from launch to launch
 * (the working directory, $PMIX_SERVER_TMPDIR): lib/plan/launch-vars.ts decides whether a kept or compiled plan
 * takes the launch's value there (records launch-var, launch-op). */
export interface LaunchVarMark { name: string; value: string; dst: boolean }

export type MountOp =
  /** bind, ro-bind, dev-bind and their -try forms. Read-only binds are read-only recursively. noFollow: src was
   * resolved when planned, and the stage refuses a symlink anywhere on it (one planted since). */
  | { op: 'bind'; src: string; dst: string; readOnly: boolean; devices: boolean; optional: boolean; origin: Origin; noFollow?: boolean; launchVar?: LaunchVarMark }
  /** A fresh tmpfs; size in bytes (0: the kernel's default), mode as a number (0o755). */
  | { op: 'tmpfs'; dst: string; size: number; mode: number; origin: Origin }
  | { op: 'proc'; dst: string; origin: Origin }
  | { op: 'dev'; dst: string; origin: Origin }
  | { op: 'mqueue'; dst: string; origin: Origin }
  | { op: 'dir'; dst: string; mode: number; origin: Origin }
  | { op: 'symlink'; target: string; dst: string; origin: Origin }
  /** Contents read from an inherited descriptor: a plain file (--file) or a bind-mounted one (--bind-data, --ro-bind-data). */
  | { op: 'data'; fd: number; dst: string; mode: number; mount: boolean; readOnly: boolean; origin: Origin;
      /** --perms gave the mode: parents made on the way lose the group/other bits it lacks (bwrap(1)); else 0755 */
      permsGiven?: boolean }
  | { op: 'chmod'; mode: number; path: string; origin: Origin }
  | { op: 'remount-ro'; dst: string; origin: Origin }
  /** overlayfs on dst (bwrap's --overlay, --tmp-overlay, --ro-overlay): lower are host directories, the first the
   * bottom layer; writes go to upper (with work beside it), to a throw-away tmpfs when upper is null and readOnly
   * is false, nowhere when readOnly. */
  | { op: 'overlay'; dst: string; lower: string[]; upper: string | null; work: string | null; readOnly: boolean; origin: Origin };

export type MountOpName = MountOp['op'];

/** Every mount kind, for tests that walk them all: a kind missing here does not compile. */
export const MOUNT_OP_KINDS = ['bind', 'tmpfs', 'proc', 'dev', 'mqueue', 'dir', 'symlink', 'data', 'chmod', 'remount-ro', 'overlay'] as const satisfies readonly MountOpName[];
type MissingKinds = Exclude<MountOpName, (typeof MOUNT_OP_KINDS)[number]>;
export const ALL_MOUNT_KINDS_LISTED: [MissingKinds] extends [never] ? true : MissingKinds = true;

export interface Namespaces {
  /** user, mount, ipc, uts and cgroup namespaces are always new; the network and the pid namespace can be shared. */
  net: boolean;
  /** false: the host's pid namespace (MPI ranks in separate sandboxes need it). */
  pid: boolean;
}

export interface CgroupPlan {
  /** Absolute path of the leaf cgroup the program is born in (created by TypeScript, removed by the monitor). */
  leaf: string;
  /** What the monitor reports at exit when memory.events oom_kill or pids.events max grew: e.g. "--memory 2G". */
  memoryLabel: string | null;
  pidsLabel: string | null;
}

export interface Plan {
  /** the wire format's too (lib/native/records.ts PLAN_VERSION) */
  version: 2;
  namespaces: Namespaces;
  /** uid and gid inside; the one-entry map sends them to the caller's own. */
  uid: number;
  gid: number;
  hostname: string;
  /** Working directory inside. */
  cwd: string;
  /** When cwd is not visible inside, start in / instead of failing (the default cwd is the caller's, which may not be bound). */
  cwdFallback: boolean;
  mounts: MountOp[];
  /** The program's whole environment, KEY=VALUE. */
  env: string[];
  /** argv[0] is looked up in the sandbox's PATH (from env) unless it contains a slash. */
  argv: string[];
  /** Capability numbers kept inside (bounding, permitted, effective, inheritable, ambient). */
  capabilities: number[];
  /** Run the program in a new session (setsid), so TIOCSTI can't reach the outer terminal. */
  newSession: boolean;
  /** With the terminal shared and the sandbox's own /dev at /dev: the caller's controlling terminal, a pts of the
   * host, visible at its host path (/dev/pts/K), so ttyname() and tty work inside. The stage finds the terminal
   * at launch (a compiled plan runs on whatever terminal it is started from). Never with --join: the members
   * share one /dev. */
  terminalNode: boolean;
  /** Kill the sandbox when the process that started sandbox dies. */
  dieWithParent: boolean;
  /** That process's pid as sandbox saw it first (0: unknown); the stage refuses to start if it is already gone. */
  parentPid: number;
  /** Run the program as pid 1 instead of under our init. */
  asPid1: boolean;
  /** Descriptors (besides 0-2) the program inherits. */
  keepFds: number[];
  /** Landlock scopes (1: abstract unix sockets, 2: signals) applied where the kernel has them (ABI 6+). */
  landlockScopes: number;
  /** Landlock filesystem rules: the program reaches only these paths (read, or read and write); none: no rules. */
  landlockPaths: { path: string; write: boolean; origin: Origin }[];
  /** Say on stderr what the kernel could not give (an older Landlock ABI). */
  verbose: boolean;
  /** Classic BPF program (struct sock_filter[], native byte order), base64; null: no filter. */
  seccomp: { bpf: string; origin: Origin } | null;
  cgroup: CgroupPlan | null;
  /** --join KEY: the key's state directory (under $XDG_RUNTIME_DIR/sandbox/join); null: no joining. */
  joinDir: string | null;
  /** --join: what a joiner can't apply itself ("key=value ..."); the stage refuses one whose words differ from the first member's. */
  joinPolicy: string | null;
  /** bwrap mode only (lib/cli/bwrap.ts): what bubblewrap's own options ask of the stage. */
  bwrap?: BwrapPlan;
}

/** bubblewrap's monitoring and lockdown options, as the stage carries them out (native/bwrap.c). */
export interface BwrapPlan {
  /** What the stage's error lines begin with: "bwrap", or "<3>bwrap" with --level-prefix. */
  diagnosticPrefix: string;
  /** argv[0] the program gets (the command is still looked up as given). */
  argv0?: string;
  /** The monitor writes {"child-pid", "*-namespace"} as JSON here, then closes it. */
  infoFd?: number;
  /** The monitor writes JSON lines here: the child's pid and namespaces, then {"exit-code"}. */
  jsonStatusFd?: number;
  /** Held open by the monitor while the sandbox runs; never the program's. */
  syncFd?: number;
  /** The init waits for data (or end of file) on it before the program runs. */
  blockFd?: number;
  /** --userns-block-fd: no maps written; the child waits for data on it while someone else writes them. */
  usernsBlockFd?: number;
  /** --userns: the monitor enters this user namespace and builds the sandbox there (no maps written). */
  usernsFd?: number;
  /** --userns2: the init enters this one (a child of usernsFd's) before the program runs. */
  userns2Fd?: number;
  /** --pidns: the monitor enters this pid namespace first; the sandbox's is a child of it. */
  pidnsFd?: number;
  /** Paths inside, read-locked by the init (fcntl F_RDLCK) while the sandbox runs. */
  lockFiles: string[];
  /** Compiled BPF programs installed after the base filter, in this order. */
  seccomp: { bpf: string; origin: Origin }[];
}
