// The plan's wire form (native/PLAN.md): tokens LEN ':' BYTES ',' — records of a keyword and fixed fields, each
// record as lib/native/records.ts describes it. The C stage parses exactly this; nothing here decides anything.
import type { Plan, MountOp } from '../plan/types';
import { PLAN_VERSION, RECORDS, type FieldType, type RecordName, type RecordValues } from './records';
import { landlockHandledRights, landlockPathRights } from '../plan/landlock';

export class PlanWriter {
  // Text tokens accumulate in one string, converted once: three small Buffers per token cost a plan of a few hundred
  // records a millisecond or two and a few hundred kB of short-lived objects in a process that just started.
  private parts: Buffer[] = [];
  private text = '';
  /** header: false for records alone, spliced into a plan written before (withRecords) */
  constructor(header = true) {
    if (header) this.token('sandbox-plan').token(PLAN_VERSION);
  }
  private token(v: string | number | bigint | Buffer): this {
    if (Buffer.isBuffer(v)) {
      this.parts.push(Buffer.from(`${this.text}${v.length}:`, 'latin1'), v);
      this.text = ',';
      return this;
    }
    const s = String(v);
    // eslint-disable-next-line no-control-regex
    const bytes = /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
    this.text += `${bytes.length}:${bytes},`;
    return this;
  }
  /** One record: its keyword, then its fields in the table's order. */
  record<K extends RecordName>(name: K, ...values: RecordValues<K>): this {
    const fields = RECORDS[name].fields as readonly { type: FieldType }[];
    if (values.length !== fields.length) throw new Error(`plan record ${name}: ${values.length} fields for ${fields.length}`);
    const missing = (v: unknown, t: FieldType) => v === undefined || (v === null && !(t.t === 'path' && t.orNone));
    if (values.some((v, i) => missing(v, fields[i].type))) throw new Error(`plan record ${name}: a field has no value`);
    this.token(name);
    (values as Array<string | number | bigint | boolean | Buffer | string[] | null>).forEach((v) => {
      if (v === null) this.token('');
      else if (Array.isArray(v)) this.token(v.map((p) => p.replace(/[\\:]/g, '\\$&')).join(':'));
      else this.token(typeof v === 'boolean' ? (v ? 1 : 0) : v);
    });
    return this;
  }
  done(): Buffer {
    this.token('end');
    this.parts.push(Buffer.from(this.text, 'latin1'));
    this.text = '';
    return Buffer.concat(this.parts);
  }
}

type OpOf<K> = Extract<MountOp, { op: K }>;
type FieldNames<K extends RecordName> = (typeof RECORDS)[K]['fields'][number]['name'];
/** The MountOp kinds whose record is missing, or has a field the kind lacks: none, or this does not compile. */
type Unwritable = { [K in MountOp['op']]: K extends RecordName ? ([Exclude<FieldNames<K>, keyof OpOf<K>>] extends [never] ? never : K) : K }[MountOp['op']];
const everyMountKindWritten: [Unwritable] extends [never] ? true : Unwritable = true;

/** A mount operation as its record: the record named after its kind, each field the kind's property of that name
 * (a flag the kind leaves out is 0). */
export function mountRecord(w: PlanWriter, m: MountOp): void {
  if (!everyMountKindWritten) return;
  const fields = RECORDS[m.op].fields as readonly { name: string; type: { t: string } }[];
  const values = fields.map((f) => {
    const v = (m as unknown as Record<string, unknown>)[f.name];
    return v === undefined && f.type.t === 'flag' ? false : v;
  });
  w.record(m.op, ...(values as RecordValues<typeof m.op>));
}

const END = Buffer.from('3:end,', 'latin1');

/** A plan written before (a kept one) with further records before its `end`: the registry record of this launch. */
export function withRecords(plan: Buffer, extra: (w: PlanWriter) => void): Buffer {
  if (plan.length < END.length || !plan.subarray(plan.length - END.length).equals(END)) throw new Error('plan: no end record');
  const w = new PlanWriter(false);
  extra(w);
  return Buffer.concat([plan.subarray(0, plan.length - END.length), w.done()]);
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
  if (plan.bwrap) {
    const b = plan.bwrap;
    w.record('diagnostic-prefix', b.diagnosticPrefix);
    if (b.argv0 !== undefined) w.record('argv0', b.argv0);
    const fds = [['info-fd', b.infoFd], ['json-status-fd', b.jsonStatusFd], ['sync-fd', b.syncFd], ['block-fd', b.blockFd],
      ['userns-block-fd', b.usernsBlockFd], ['userns-fd', b.usernsFd], ['userns2-fd', b.userns2Fd], ['pidns-fd', b.pidnsFd]] as const;
    for (const [k, fd] of fds) if (fd !== undefined) w.record(k, fd);
    for (const l of b.lockFiles) w.record('lock-file', l);
    for (const s of b.seccomp) w.record('seccomp-extra', s.origin, Buffer.from(s.bpf, 'base64'));
  }
  if (extra) extra(w);
  return w.done();
}
