// Capability names and numbers (linux/capability.h), so the plan carries numbers and users write names.
const NAMES = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner',
  'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice',
  'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap',
  'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
] as const;

/** "CAP_NET_ADMIN", "cap_net_admin" or "net_admin" → 12; undefined when unknown. */
export function capabilityNumber(name: string): number | undefined {
  const bare = name.toLowerCase().replace(/^cap_/, '');
  const i = (NAMES as readonly string[]).indexOf(bare);
  return i < 0 ? undefined : i;
}

/** Every capability by name ("CAP_CHOWN", ...): bwrap mode's --cap-add ALL. */
export const ALL_CAPABILITIES: readonly string[] = NAMES.map((n) => `CAP_${n.toUpperCase()}`);

/** "net_admin", "cap_net_admin" or "CAP_NET_ADMIN" → "CAP_NET_ADMIN", the form profiles and Docker rules compare in. */
export function capabilityName(s: string): string {
  const up = s.trim().toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}
