// NVIDIA GPU discovery for the `nvidia` device set: which device nodes, driver sockets, user-space driver
// libraries and tools this host has, and the mounts that give them to a sandbox. Pure: every file access
// goes through GpuFs so the discovery is tested against fake device trees and fake ld.so caches.
// The driver's user-space half must match the kernel module exactly, which is why an image (--rootfs)
// gets the host's libraries bound in rather than whatever the image ships.
import * as fs from 'fs';
import * as path from 'path';
import { SandboxError } from '../errors';
import { nvidiaDevices, type NvidiaFound, type NvidiaDeviceFs } from '../plan/nvidia';

// The pure half (what to bind for what was found) is lib/plan/nvidia.ts; its names stay reachable from here.
export {
  NVIDIA_CONTROL_DEVICES, NVIDIA_CAPS_DIR, NVIDIA_SOCKETS, NVIDIA_ROOTFS_DIR, visibleDevices, nvidiaMounts, type NvidiaFound, type NvidiaMounts,
} from '../plan/nvidia';

/** The few file operations discovery needs. */
export interface GpuFs extends NvidiaDeviceFs {
  /** Bytes, or null when missing or unreadable. */
  readFile(file: string): Uint8Array | null;
}

export const realGpuFs: GpuFs = {
  exists: (f) => fs.existsSync(f),
  readdir: (d) => {
    try {
      return fs.readdirSync(d);
    } catch {
      return null;
    }
  },
  readFile: (f) => {
    try {
      return fs.readFileSync(f);
    } catch {
      return null;
    }
  },
};

/**
 * Driver libraries by soname stem (the part before ".so"). Compute, management, video, graphics and ray
 * tracing: the set a container runtime gives a GPU job, so that CUDA, NVML, NVENC/NVDEC, EGL/GLX and OptiX
 * programs in an image find the host's driver.
 */
export const NVIDIA_LIBRARIES = [
  // compute
  'libcuda', 'libcudadebugger', 'libnvidia-ptxjitcompiler', 'libnvidia-nvvm', 'libnvidia-fatbinaryloader',
  'libnvidia-opencl', 'libnvidia-compiler', 'libnvidia-gpucomp', 'libnvidia-allocator',
  // management
  'libnvidia-ml', 'libnvidia-cfg',
  // video
  'libnvcuvid', 'libnvidia-encode', 'libnvidia-opticalflow',
  // graphics
  'libnvidia-eglcore', 'libnvidia-glcore', 'libnvidia-tls', 'libnvidia-glsi', 'libnvidia-glvkspirv',
  'libEGL_nvidia', 'libGLX_nvidia', 'libGLESv2_nvidia', 'libGLESv1_CM_nvidia', 'libnvidia-fbc', 'libnvidia-ifr',
  // ray tracing
  'libnvidia-rtcore', 'libnvoptix',
];

/** Driver tools (found on the search path). */
export const NVIDIA_BINARIES = ['nvidia-smi', 'nvidia-debugdump', 'nvidia-persistenced', 'nvidia-cuda-mps-control', 'nvidia-cuda-mps-server'];

const DEFAULT_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface LdCacheEntry {
  /** The soname or file name the cache is keyed by, e.g. "libcuda.so.1". */
  name: string;
  /** Absolute path, e.g. "/usr/lib/x86_64-linux-gnu/libcuda.so.1". */
  path: string;
  /** ld.so's flags word: the low byte is the type (3: ELF libc6), the next the architecture. */
  flags: number;
}

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const OLD_MAGIC = 'ld.so-1.7.0';
/** ld.so's flags for 64-bit ELF libc6 libraries, by Node's process.arch. */
const ARCH_FLAGS: Record<string, number> = { x64: 0x0303, arm64: 0x0a03, ppc64: 0x0503, s390x: 0x0603, riscv64: 0x1003, loong64: 0x1303 };

function cString(buf: Uint8Array, at: number): string {
  let end = at;
  while (end < buf.length && buf[end] !== 0) end++;
  return Buffer.from(buf.buffer, buf.byteOffset + at, end - at).toString('utf8');
}

/**
 * Entries of a binary /etc/ld.so.cache: the new format (glibc 2.32 and later write only this), alone or
 * after an old-format table. String offsets count from the start of the new-format header.
 */
export function parseLdCache(buf: Uint8Array, file = '/etc/ld.so.cache'): LdCacheEntry[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const ascii = (at: number, n: number): string => Buffer.from(buf.buffer, buf.byteOffset + at, Math.min(n, Math.max(0, buf.length - at))).toString('latin1');
  let base = 0;
  if (ascii(0, OLD_MAGIC.length) === OLD_MAGIC) {
    if (buf.length < 16) throw new SandboxError(`${file}: truncated ld.so cache header`);
    const oldCount = view.getUint32(12, true);
    base = 16 + oldCount * 12;
    base = (base + 7) & ~7; // the new table follows aligned to its own alignment
    while (base < buf.length && ascii(base, NEW_MAGIC.length) !== NEW_MAGIC) base += 4;
  }
  if (ascii(base, NEW_MAGIC.length) !== NEW_MAGIC) throw new SandboxError(`${file}: not an ld.so cache in a format this sandbox reads`);
  if (buf.length < base + 48) throw new SandboxError(`${file}: truncated ld.so cache header`);
  // The flags byte after the counts says the writer's byte order (2 little, 3 big; 0 unset: little, as
  // every architecture this sandbox runs on).
  const little = (buf[base + 28] & 3) !== 3;
  const nlibs = view.getUint32(base + 20, little);
  const entries: LdCacheEntry[] = [];
  const first = base + 48;
  if (first + nlibs * 24 > buf.length) throw new SandboxError(`${file}: ${nlibs} entries don't fit in ${buf.length} bytes`);
  for (let i = 0; i < nlibs; i++) {
    const at = first + i * 24;
    const flags = view.getInt32(at, little);
    const key = view.getUint32(at + 4, little);
    const value = view.getUint32(at + 8, little);
    if (base + key >= buf.length || base + value >= buf.length) continue;
    entries.push({ name: cString(buf, base + key), path: cString(buf, base + value), flags });
  }
  return entries;
}

/** Entries of `ldconfig -p` output: "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1". */
export function parseLdconfigOutput(text: string): LdCacheEntry[] {
  const out: LdCacheEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s+(\S+)\s+\(([^)]*)\)(?:\s+OS ABI:[^=]*)?\s*=>\s*(\S+)\s*$/.exec(line);
    if (!m) continue;
    const tags = m[2].split(',');
    const arch = tags.includes('x86-64') ? 0x0303 : tags.includes('AArch64') ? 0x0a03 : tags.includes('64bit') ? 0x0503 : 0x0003;
    out.push({ name: m[1], path: m[3], flags: tags[0] === 'libc6' ? arch : 0 });
  }
  return out;
}

export interface DiscoverOptions {
  fs?: GpuFs;
  /** The job's environment (CUDA_VISIBLE_DEVICES, NVIDIA_VISIBLE_DEVICES, PATH). */
  env?: Record<string, string | undefined>;
  /** Node's process.arch naming: picks the cache entries of that ABI. */
  arch?: string;
  /** The binary cache's path. */
  ldCache?: string;
  /** `ldconfig -p` output, used instead of the binary cache when given. */
  ldconfigOutput?: string;
}

const LIB_RE = new RegExp(`^(${NVIDIA_LIBRARIES.map((s) => s.replace(/[-]/g, '\\-')).join('|')})\\.so(\\.[0-9.]+)?$`);

/** The NVIDIA devices, sockets, libraries and tools this host has. An empty result means no NVIDIA driver. */
export function discoverNvidia(opts: DiscoverOptions = {}): NvidiaFound {
  const f = opts.fs ?? realGpuFs;
  const env = opts.env ?? process.env;
  const arch = opts.arch ?? process.arch;

  const { devices, sockets, selected } = nvidiaDevices(f, env);

  let entries: LdCacheEntry[] = [];
  if (opts.ldconfigOutput !== undefined) entries = parseLdconfigOutput(opts.ldconfigOutput);
  else {
    const file = opts.ldCache ?? '/etc/ld.so.cache';
    const buf = f.readFile(file);
    if (buf) entries = parseLdCache(buf, file);
  }
  const want = ARCH_FLAGS[arch];
  const bySoname = new Map<string, string>();
  for (const e of entries) {
    if (want !== undefined && e.flags !== want) continue;
    if (!LIB_RE.test(e.name)) continue;
    // The unversioned development link (libcuda.so) is only for linking: keep the runtime sonames.
    if (!/\.so\.[0-9]/.test(e.name) && entries.some((o) => o.name.startsWith(`${e.name}.`) && o.flags === e.flags)) continue;
    if (!bySoname.has(e.name)) bySoname.set(e.name, e.path);
  }
  const libraries = [...bySoname.values()].filter((p) => f.exists(p));

  const binDirs = [...new Set([...(env.PATH ?? '').split(':').filter((d) => d.startsWith('/')), ...DEFAULT_BIN_DIRS])];
  const binaries: string[] = [];
  for (const b of NVIDIA_BINARIES) {
    const dir = binDirs.find((d) => f.exists(path.posix.join(d, b)));
    if (dir) binaries.push(path.posix.join(dir, b));
  }
  return { devices, libraries, binaries, sockets, selected };
}

