// Programs the launcher runs outside the sandbox (xdg-dbus-proxy, xauth, busctl, unshare, the desktop
// database tools) are looked up in the system's directories only, never through PATH: PATH often names
// directories a sandbox can write (an activated virtualenv's bin in the project, ~/bin, a project's bin
// added by direnv), and a program planted there would run outside with the user's rights at the next launch.
import * as fs from 'fs';
import * as path from 'path';

/** Root-owned directories of installed programs, in the order a Debian PATH has them. */
export const SYSTEM_PROGRAM_DIRS = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The first executable regular file NAME in the system's directories, or null. NAME is a bare name. */
export function systemProgram(name: string, dirs: string[] = SYSTEM_PROGRAM_DIRS): string | null {
  if (!name || name.includes('/')) return null;
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // next
    }
  }
  return null;
}
