// The NVIDIA driver as a sandbox gets it, decided from what was found: which device nodes and sockets (from a
// listing of /dev passed in), and the mounts for a found driver. Finding it on the host (the ld.so cache, the
// tools on PATH) is lib/host/gpu.ts; this half reads nothing itself.
import * as path from 'path';
import type { MountOp } from './types';

/** Control nodes every CUDA program opens (those that exist are bound). */
export const NVIDIA_CONTROL_DEVICES = ['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidia-modeset'];
/** MIG capability nodes live below this directory. */
export const NVIDIA_CAPS_DIR = '/dev/nvidia-caps';
/** Daemons' sockets the driver library talks to when present. */
export const NVIDIA_SOCKETS = ['/run/nvidia-persistenced/socket'];

/** Where a rootfs gets the driver's libraries, and its tools below bin/. */
export const NVIDIA_ROOTFS_DIR = '/usr/lib/sandbox-nvidia';

/** What device selection reads: existence and directory listings (null: missing), real or faked. */
export interface NvidiaDeviceFs {
  exists(file: string): boolean;
  /** Entry names, or null when the directory is missing or unreadable. */
  readdir(dir: string): string[] | null;
}

/** Which GPU indices the job's environment selects: null for all of them, [] for none. */
export function visibleDevices(env: Record<string, string | undefined>): number[] | null {
  // NVIDIA_VISIBLE_DEVICES is the container-level choice and wins; CUDA_VISIBLE_DEVICES is what SLURM's
  // gres plugin and users set. Both count devices in /dev/nvidiaN order here.
  const raw = env.NVIDIA_VISIBLE_DEVICES ?? env.CUDA_VISIBLE_DEVICES;
  if (raw === undefined) return null;
  const v = raw.trim();
  if (v === '' || v === 'none' || v === 'void' || v === 'NoDevFiles') return [];
  if (v === 'all') return null;
  const out: number[] = [];
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    // UUIDs and MIG names can't be mapped to a device node without asking the driver: give all devices and
    // let CUDA itself apply the variable, which is passed through unchanged.
    if (!/^\d+$/.test(part)) return null;
    const n = Number(part);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

export interface NvidiaFound {
  /** Device nodes to bind (the selected /dev/nvidiaN, the control nodes, /dev/nvidia-caps/*). */
  devices: string[];
  /** Absolute paths of driver libraries, one per soname, as the ld.so cache names them (often symlinks). */
  libraries: string[];
  /** Absolute paths of driver tools. */
  binaries: string[];
  sockets: string[];
  /** GPU indices selected by the environment, null when all were taken. */
  selected: number[] | null;
}

/** The device nodes and driver sockets to bind, and the GPU indices the environment selects. */
export function nvidiaDevices(f: NvidiaDeviceFs, env: Record<string, string | undefined>): Pick<NvidiaFound, 'devices' | 'sockets' | 'selected'> {
  const selected = visibleDevices(env);
  const gpus = (f.readdir('/dev') ?? [])
    .map((n) => /^nvidia(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .filter((n) => selected === null || selected.includes(n))
    .sort((a, b) => a - b);
  const devices = [...NVIDIA_CONTROL_DEVICES.filter((d) => f.exists(d)), ...gpus.map((n) => `/dev/nvidia${n}`)];
  // MIG instances are reached through capability nodes; give the whole directory's entries when it exists.
  const caps = f.readdir(NVIDIA_CAPS_DIR);
  if (caps) devices.push(...caps.sort().map((n) => `${NVIDIA_CAPS_DIR}/${n}`));

  const sockets = NVIDIA_SOCKETS.filter((s) => f.exists(s));
  return { devices, sockets, selected };
}

export interface NvidiaMounts {
  mounts: MountOp[];
  /** Variables to set inside: the library and search paths for a rootfs, the renumbered device list. */
  env: Record<string, string>;
}

/**
 * Mounts for what discoverNvidia found. On the host's own /usr the libraries and tools are visible already,
 * so only devices and sockets are bound; an image (forRootfs) gets the host's libraries under
 * NVIDIA_ROOTFS_DIR and its tools under NVIDIA_ROOTFS_DIR/bin, read-only, on LD_LIBRARY_PATH and PATH.
 * inheritedEnv is the job's environment the paths are prepended to.
 */
export function nvidiaMounts(found: NvidiaFound, forRootfs: boolean, inheritedEnv: Record<string, string | undefined> = {}): NvidiaMounts {
  const origin = 'devices: nvidia';
  const mounts: MountOp[] = [];
  const env: Record<string, string> = {};
  for (const d of found.devices) mounts.push({ op: 'bind', src: d, dst: d, readOnly: false, devices: true, optional: false, origin });
  // connect(2) on a unix socket needs write access to it, so sockets are bound read-write.
  for (const s of found.sockets) mounts.push({ op: 'bind', src: s, dst: s, readOnly: false, devices: false, optional: true, origin });
  if (forRootfs && (found.libraries.length > 0 || found.binaries.length > 0)) {
    const dir = NVIDIA_ROOTFS_DIR;
    // A tmpfs of our own: the image stays untouched and needs no such directory of its own.
    mounts.push({ op: 'tmpfs', dst: dir, size: 0, mode: 0o755, origin });
    for (const lib of found.libraries) {
      mounts.push({ op: 'bind', src: lib, dst: `${dir}/${path.posix.basename(lib)}`, readOnly: true, devices: false, optional: false, origin });
    }
    for (const bin of found.binaries) {
      mounts.push({ op: 'bind', src: bin, dst: `${dir}/bin/${path.posix.basename(bin)}`, readOnly: true, devices: false, optional: false, origin });
    }
    mounts.push({ op: 'remount-ro', dst: dir, origin });
    const prepend = (v: string | undefined, p: string): string => (v ? `${p}:${v}` : p);
    if (found.libraries.length > 0) env.LD_LIBRARY_PATH = prepend(inheritedEnv.LD_LIBRARY_PATH, dir);
    if (found.binaries.length > 0) env.PATH = `${inheritedEnv.PATH ?? '/usr/local/bin:/usr/bin:/bin'}:${dir}/bin`;
  }
  // Only the selected /dev/nvidiaN are inside, and the driver numbers what it can open from 0: CUDA's
  // indices inside are 0..k-1, so a host-side list like "2,3" would select nothing.
  const bound = found.devices.filter((d) => /^\/dev\/nvidia\d+$/.test(d)).length;
  if (found.selected !== null && bound > 0 && /^[\d,\s]+$/.test(inheritedEnv.CUDA_VISIBLE_DEVICES ?? '')) {
    env.CUDA_VISIBLE_DEVICES = Array.from({ length: bound }, (_, i) => String(i)).join(',');
  }
  return { mounts, env };
}
