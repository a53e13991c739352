// Reading an image directory (--rootfs) and the host's own files as lib/plan/rootfs.ts asks for them:
// read-only, every failure an absent answer (the plan decides what a missing entry means).
import * as fs from 'fs';
import type { ImageReader } from '../plan/rootfs';

export const imageReader: ImageReader = {
  lstat: (p) => {
    try {
      const st = fs.lstatSync(p);
      return { kind: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other', mode: st.mode & 0o7777 };
    } catch {
      return null;
    }
  },
  isDir: (p) => {
    try {
      return fs.statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
  readdir: (p) => {
    try {
      return fs.readdirSync(p).sort();
    } catch {
      return [];
    }
  },
  readlink: (p) => {
    try {
      return fs.readlinkSync(p);
    } catch {
      return null;
    }
  },
  readFile: (p) => {
    try {
      return fs.readFileSync(p);
    } catch {
      return null;
    }
  },
};
