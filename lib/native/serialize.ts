// The plan's wire form (native/PLAN.md): tokens LEN ':' BYTES ',' — records of a keyword and fixed fields.
// The C stage parses exactly this; nothing here decides anything.
import type { Plan, MountOp } from '../plan/types';

class Writer {
  private parts: Buffer[] = [];
  token(v: string | number | Buffer): this {
    const b = Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
    this.parts.push(Buffer.from(`${b.length}:`, 'latin1'), b, Buffer.from(',', 'latin1'));
    return this;
  }
  record(...fields: Array<string | number | Buffer>): this {
    for (const f of fields) this.token(f);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const BIND_RO = 1, BIND_DEV = 2, BIND_TRY = 4, BIND_NOFOLLOW = 8, DATA_MOUNT = 1, DATA_RO = 2, DATA_PERMS = 4;

function mountRecord(w: Writer, m: MountOp): void {
  switch (m.op) {
    case 'bind':
      w.record('bind', m.origin, m.src, m.dst, (m.readOnly ? BIND_RO : 0) | (m.devices ? BIND_DEV : 0) | (m.optional ? BIND_TRY : 0) | (m.noFollow ? BIND_NOFOLLOW : 0));
      break;
    case 'tmpfs': w.record('tmpfs', m.origin, m.dst, m.size, m.mode); break;
    case 'proc': case 'dev': case 'mqueue': case 'remount-ro': w.record(m.op, m.origin, m.dst); break;
    case 'dir': w.record('dir', m.origin, m.dst, m.mode); break;
    case 'symlink': w.record('symlink', m.origin, m.target, m.dst); break;
    case 'data': w.record('data', m.origin, m.fd, m.dst, m.mode, (m.mount ? DATA_MOUNT : 0) | (m.readOnly ? DATA_RO : 0) | (m.permsGiven ? DATA_PERMS : 0)); break;
    case 'chmod': w.record('chmod', m.origin, m.mode, m.path); break;
    // new record (overlays, native/overlay.c): KIND 0 upper+work, 1 tmpfs upper, 2 read-only; then the lower layers
    case 'overlay': {
      const kind = m.upper !== null ? 0 : m.readOnly ? 2 : 1;
      w.record('overlay', m.origin, m.dst, kind, m.lower.length, ...m.lower, ...(kind === 0 ? [m.upper as string, m.work as string] : []));
      break;
    }
  }
}

/** extra: further records written before `end` (a compiled plan's environment rules and inputs). */
export function serializePlan(plan: Plan, extra: Array<Array<string | number>> = []): Buffer {
  const w = new Writer();
  w.record('sandbox-plan', plan.version);
  w.record('share-net', plan.namespaces.net ? 0 : 1);
  if (!plan.namespaces.pid) w.record('share-pid', 1);
  w.record('uid', plan.uid).record('gid', plan.gid);
  w.record('hostname', plan.hostname).record('cwd', plan.cwd).record('cwd-fallback', plan.cwdFallback ? 1 : 0);
  w.record('new-session', plan.newSession ? 1 : 0).record('die-with-parent', plan.dieWithParent ? 1 : 0).record('as-pid-1', plan.asPid1 ? 1 : 0);
  if (plan.terminalNode) w.record('terminal-node', 1);
  if (plan.parentPid > 0) w.record('parent-pid', plan.parentPid);
  if (plan.landlockScopes) w.record('landlock-scopes', plan.landlockScopes);
  for (const l of plan.landlockPaths) w.record(l.write ? 'landlock-rw' : 'landlock-ro', l.origin, l.path);
  if (plan.verbose) w.record('verbose', 1);
  for (const c of plan.capabilities) w.record('cap', c);
  for (const fd of plan.keepFds) w.record('keep-fd', fd);
  for (const m of plan.mounts) mountRecord(w, m);
  for (const e of plan.env) w.record('env', e);
  for (const a of plan.argv) w.record('argv', a);
  if (plan.seccomp) w.record('seccomp', plan.seccomp.origin, Buffer.from(plan.seccomp.bpf, 'base64'));
  if (plan.joinDir) w.record('join-dir', plan.joinDir);
  if (plan.joinPolicy) w.record('join-policy', plan.joinPolicy);
  if (plan.cgroup) {
    w.record('cgroup', plan.cgroup.leaf);
    if (plan.cgroup.memoryLabel) w.record('cgroup-memory-label', plan.cgroup.memoryLabel);
    if (plan.cgroup.pidsLabel) w.record('cgroup-pids-label', plan.cgroup.pidsLabel);
    for (const p of plan.cgroup.removeAlso) w.record('cgroup-remove', p);
  }
  // bwrap mode (native/bwrap.c) -- new records, kept together for the port onto the shared record table
  if (plan.bwrap) {
    const b = plan.bwrap;
    w.record('diagnostic-prefix', b.diagnosticPrefix);
    if (b.argv0 !== undefined) w.record('argv0', b.argv0);
    if (b.infoFd !== undefined) w.record('info-fd', b.infoFd);
    if (b.jsonStatusFd !== undefined) w.record('json-status-fd', b.jsonStatusFd);
    if (b.syncFd !== undefined) w.record('sync-fd', b.syncFd);
    if (b.blockFd !== undefined) w.record('block-fd', b.blockFd);
    if (b.usernsBlockFd !== undefined) w.record('userns-block-fd', b.usernsBlockFd);
    if (b.usernsFd !== undefined) w.record('userns-fd', b.usernsFd);
    if (b.userns2Fd !== undefined) w.record('userns2-fd', b.userns2Fd);
    if (b.pidnsFd !== undefined) w.record('pidns-fd', b.pidnsFd);
    for (const l of b.lockFiles) w.record('lock-file', l);
    for (const s of b.seccomp) w.record('seccomp-extra', s.origin, Buffer.from(s.bpf, 'base64'));
  }
  for (const r of extra) w.record(...r);
  w.record('end');
  return w.done();
}
