// Device sets (dri, snd, video, nvidia): which host nodes each binds, for a profile's `devices` section and
// for --device on the command line alike. The NVIDIA set goes through lib/host/gpu.ts, which also knows
// the persistenced socket and the GPU selection by CUDA_VISIBLE_DEVICES / NVIDIA_VISIBLE_DEVICES.
import { SandboxError } from '../errors';
import type { MountOp, Origin } from './types';
import { DEVICE_SETS, type DeviceName } from '../profile/tables';
import { discoverNvidia, type GpuFs } from '../host/gpu';

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
    const gfs: GpuFs = { exists: probe.exists, readdir: (d) => (d === '/dev' || probe.exists(d) ? probe.listDir(d) : null), readFile: () => null };
    const found = discoverNvidia({ fs: gfs, env: probe.env, ldconfigOutput: '' });
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
