// Where sandbox's own files are: the package root holds package.json, profiles/ and native/build/.
// Found by walking up from this module, so the same code works from dist/lib/... and from the bundle.
import * as fs from 'fs';
import * as path from 'path';

let root: string | undefined;

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

export function stagePath(): string {
  return path.join(packageRoot(), 'native', 'build', 'sandbox-stage');
}
