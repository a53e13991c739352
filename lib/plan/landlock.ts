// Landlock filesystem rights, decided here and carried in the plan as numbers (records landlock-fs and
// landlock-path): the C stage only intersects them with what its kernel's ABI handles.

/** LANDLOCK_ACCESS_FS_* bits: 0-12 since ABI 1 (execute .. make_sym), refer (13) ABI 2, truncate (14) ABI 3,
 * ioctl_dev (15) ABI 5. */
export const LL_FS = {
  execute: 1 << 0, writeFile: 1 << 1, readFile: 1 << 2, readDir: 1 << 3,
  refer: 1 << 13, truncate: 1 << 14, ioctlDev: 1 << 15,
} as const;
const ABI1_ALL = (1 << 13) - 1;

/** The rights a ruleset handles, by the lowest Landlock ABI that knows them all. */
export function landlockHandledRights(): { abi: number; rights: number }[] {
  const abi2 = ABI1_ALL | LL_FS.refer;
  const abi3 = abi2 | LL_FS.truncate;
  return [{ abi: 1, rights: ABI1_ALL }, { abi: 2, rights: abi2 }, { abi: 3, rights: abi3 }, { abi: 5, rights: abi3 | LL_FS.ioctlDev }];
}

/** Read-only: execute, read files, list directories; read-write: every right handled. A path that is not a
 * directory takes only the rights that apply to files. */
export function landlockPathRights(write: boolean): { dir: number; file: number } {
  const all = landlockHandledRights().at(-1)!.rights;
  const dir = write ? all : LL_FS.execute | LL_FS.readFile | LL_FS.readDir;
  const fileOnly = LL_FS.execute | LL_FS.writeFile | LL_FS.readFile | LL_FS.truncate | LL_FS.ioctlDev;
  return { dir, file: dir & fileOnly };
}
