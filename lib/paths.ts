// Where sandbox's own files are: the package root holds package.json, profiles/ and dist/; the C programs are
// in native/build/ of a checkout that built them (make), else in the prebuilt package sandbox-linux-ARCH that
// `npm install` put beside or below it (scripts/prebuilt.js).
// Found by walking up from this module, so the same code works from dist/lib/... and from the bundle.
import * as fs from 'fs';
import * as path from 'path';

let root: string | undefined;
let native: string | undefined;

export function packageRoot(from: string = __dirname): string {
  if (root && from === __dirname) return root;
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'profiles'))) {
      if (from === __dirname) root = dir;
      return dir;
    }
    if (path.dirname(dir) === dir) return path.resolve(from, '../../..');
  }
}

/** The prebuilt package for this CPU, where Node's resolution from the package root finds it; undefined when none. */
export function prebuiltDir(pkgRoot: string = packageRoot(), arch: string = process.arch): string | undefined {
  try {
    return path.dirname(require.resolve(`sandbox-linux-${arch}/package.json`, { paths: [pkgRoot] }));
  } catch {
    return undefined;
  }
}

/** The directory of the C programs: native/build when make built the stage there, else the prebuilt package's. */
export function nativeDir(): string {
  if (native) return native;
  const built = path.join(packageRoot(), 'native', 'build');
  const prebuilt = fs.existsSync(path.join(built, 'sandbox-stage')) ? undefined : prebuiltDir();
  native = prebuilt && fs.existsSync(path.join(prebuilt, 'sandbox-stage')) ? prebuilt : built;
  return native;
}

export function stagePath(): string {
  return path.join(nativeDir(), 'sandbox-stage');
}

/** What to do when the C programs are missing: names the package or the compiler to install. */
export function nativeMissingHint(): string {
  return `neither the prebuilt package sandbox-linux-${process.arch} is installed nor native/build built; ` +
    'reinstall sandbox with optional dependencies, or install a C compiler and make (Debian: apt install gcc make) and run npm run build';
}
