// The plan's wire form (native/PLAN.md): tokens LEN ':' BYTES ',' — records of a keyword and fixed fields, each
// record as lib/native/records.ts describes it. The C stage parses exactly this; nothing here decides anything.
import type { Plan, MountOp } from '../plan/types';
import { PLAN_VERSION, RECORDS, BIND_RO, BIND_DEV, BIND_TRY, BIND_NOFOLLOW, DATA_MOUNT, DATA_RO, type RecordName, type RecordValues } from './records';
import { landlockHandledRights, landlockPathRights } from '../plan/landlock';

export class PlanWriter {
  private parts: Buffer[] = [];
  constructor() {
    this.token('sandbox-plan').token(PLAN_VERSION);
  }
  private token(v: string | number | bigint | Buffer): this {
    const b = Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
    this.parts.push(Buffer.from(`${b.length}:`, 'latin1'), b, Buffer.from(',', 'latin1'));
    return this;
  }
  /** One record: its keyword, then its fields in the table's order. */
  record<K extends RecordName>(name: K, ...values: RecordValues<K>): this {
    const fields = RECORDS[name].fields as readonly unknown[];
    if (values.length !== fields.length) throw new Error(`plan record ${name}: ${values.length} fields for ${fields.length}`);
    this.token(name);
    for (const v of values as Array<string | number | bigint | boolean | Buffer>) this.token(typeof v === 'boolean' ? (v ? 1 : 0) : v);
    return this;
  }
  done(): Buffer {
    this.token('end');
    return Buffer.concat(this.parts);
  }
}

/** Every MountOp kind has its record here: a kind added to the plan type without one does not compile. */
export function mountRecord(w: PlanWriter, m: MountOp): void {
  switch (m.op) {
    case 'bind':
      w.record('bind', m.origin, m.src, m.dst, (m.readOnly ? BIND_RO : 0) | (m.devices ? BIND_DEV : 0) | (m.optional ? BIND_TRY : 0) | (m.noFollow ? BIND_NOFOLLOW : 0));
      return;
    case 'tmpfs': w.record('tmpfs', m.origin, m.dst, m.size, m.mode); return;
    case 'proc': case 'dev': case 'mqueue': case 'remount-ro': w.record(m.op, m.origin, m.dst); return;
    case 'dir': w.record('dir', m.origin, m.dst, m.mode); return;
    case 'symlink': w.record('symlink', m.origin, m.target, m.dst); return;
    case 'data': w.record('data', m.origin, m.fd, m.dst, m.mode, (m.mount ? DATA_MOUNT : 0) | (m.readOnly ? DATA_RO : 0)); return;
    case 'chmod': w.record('chmod', m.origin, m.mode, m.path); return;
    default: {
      const unknown: never = m;
      throw new Error(`plan: no record for mount kind ${(unknown as { op: string }).op}`);
    }
  }
}

/** extra: further records written before `end` (a compiled plan's environment rules and inputs). */
export function serializePlan(plan: Plan, extra?: (w: PlanWriter) => void): Buffer {
  const w = new PlanWriter();
  w.record('share-net', !plan.namespaces.net);
  if (!plan.namespaces.pid) w.record('share-pid', true);
  w.record('uid', plan.uid).record('gid', plan.gid);
  w.record('hostname', plan.hostname).record('cwd', plan.cwd).record('cwd-fallback', plan.cwdFallback);
  w.record('new-session', plan.newSession).record('die-with-parent', plan.dieWithParent).record('as-pid-1', plan.asPid1);
  if (plan.terminalNode) w.record('terminal-node', true);
  if (plan.parentPid > 0) w.record('parent-pid', plan.parentPid);
  if (plan.landlockScopes) w.record('landlock-scopes', plan.landlockScopes);
  if (plan.landlockPaths.length) {
    for (const h of landlockHandledRights()) w.record('landlock-fs', h.abi, h.rights);
    for (const l of plan.landlockPaths) {
      const r = landlockPathRights(l.write);
      w.record('landlock-path', l.origin, l.path, r.dir, r.file);
    }
  }
  if (plan.verbose) w.record('verbose', true);
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
  }
  if (extra) extra(w);
  return w.done();
}
