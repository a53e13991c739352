// Device sets (dri, snd, video, nvidia): which host nodes each binds, for a profile's `devices` section and
// for --device on the command line alike, from the probes passed in. The NVIDIA set goes through
// ./nvidia.ts, which also knows the persistenced socket and the GPU selection by CUDA_VISIBLE_DEVICES /
// NVIDIA_VISIBLE_DEVICES.
import { SandboxError } from '../errors';
import type { MountOp, Origin } from './types';
import { nvidiaDevices, type NvidiaDeviceFs } from './nvidia';

/** Device sets and the host paths each binds (those that exist); names ending in a pattern are matched in /dev. */
export const DEVICE_SETS = {
  dri: { paths: ['/dev/dri'], patterns: [] as RegExp[] },
  snd: { paths: ['/dev/snd'], patterns: [] as RegExp[] },
  video: { paths: [] as string[], patterns: [/^video\d+$/, /^media\d+$/] },
  nvidia: {
    paths: ['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidia-modeset', '/dev/nvidia-caps'],
    patterns: [/^nvidia\d+$/],
  },
} as const;
export type DeviceName = keyof typeof DEVICE_SETS;
export const DEVICE_NAMES = Object.keys(DEVICE_SETS) as DeviceName[];

export interface DeviceProbe {
  exists(p: string): boolean;
  /** Entry names, [] when missing. */
  listDir(p: string): string[];
  env: Record<string, string | undefined>;
}

export interface DeviceSetMounts {
  mounts: MountOp[];
  env: Record<string, string>;
}

/** What the error says the host lacks: the set's paths and its /dev patterns. */
function describeSet(name: DeviceName): string {
  const set = DEVICE_SETS[name];
  return [...set.paths, ...set.patterns.map((re: RegExp) => `/dev/${re.source.replace(/^\^|\$$/g, '').replace('\\d+', 'N')}`)].join(', ');
}

/**
 * The binds for one device set; `required` makes a host without any of its nodes an error, `hint` ends that
 * error's message with how to do without.
 */
export function deviceSetMounts(name: DeviceName, required: boolean, origin: Origin, probe: DeviceProbe, hint: string): DeviceSetMounts {
  const env: Record<string, string> = {};
  let nodes: string[];
  const mounts: MountOp[] = [];
  if (name === 'nvidia') {
    const dfs: NvidiaDeviceFs = { exists: probe.exists, readdir: (d) => (d === '/dev' || probe.exists(d) ? probe.listDir(d) : null) };
    const found = nvidiaDevices(dfs, probe.env);
    nodes = found.devices;
    for (const s of found.sockets) mounts.push({ op: 'bind', src: s, dst: s, readOnly: false, devices: false, optional: true, origin });
    // Only the selected /dev/nvidiaN are inside and the driver numbers them from 0 there (see nvidiaMounts).
    const bound = nodes.filter((d) => /^\/dev\/nvidia\d+$/.test(d)).length;
    if (found.selected !== null && bound > 0 && /^[\d,\s]+$/.test(probe.env.CUDA_VISIBLE_DEVICES ?? '')) {
      env.CUDA_VISIBLE_DEVICES = Array.from({ length: bound }, (_, i) => String(i)).join(',');
    }
  } else {
    const set = DEVICE_SETS[name];
    nodes = [
      ...set.paths.filter((p) => probe.exists(p)),
      ...probe.listDir('/dev').filter((n) => set.patterns.some((re: RegExp) => re.test(n))).sort().map((n) => `/dev/${n}`),
    ];
  }
  if (nodes.length === 0) {
    if (required) throw new SandboxError(`${origin}: found none of ${describeSet(name)} on this host, expected them for device set "${name}"; ${hint}`);
    return { mounts: [], env: {} };
  }
  return { mounts: [...nodes.map((p): MountOp => ({ op: 'bind', src: p, dst: p, readOnly: false, devices: true, optional: true, origin })), ...mounts], env };
}
