// Import of Docker / OCI runtime seccomp JSON (defaultAction SCMP_ACT_*, syscalls[] with args,
// includes/excludes by caps, arches and minKernel) into a SeccompPolicy, unchanged as written.
// The includes/excludes stay on the rules and are settled at compile time, when the kept
// capabilities and the architecture are known.
import { quoted } from '../json5-text';
import { SandboxError, ERRNO } from '../errors';
import { isKnownSyscall } from './arch';
import { capabilityName } from '../plan/capabilities';
import {
  ALL_ONES_64, ArgCondition, CmpOp, Locate, RuleApplies, RuleSyscall, SeccompAction, SeccompPolicy, SeccompRule,
  formatAction, formatCondition, parseErrno, parseU64,
} from './policy';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
function fail(where: string, msg: string): never {
  throw new SandboxError(`${where}: ${msg}`);
}

const { EPERM, ENOSYS } = ERRNO;

function ociAction(v: unknown, errnoRet: unknown, fallbackErrno: number, where: string, errWhere: string): SeccompAction {
  const errno = errnoRet === undefined || errnoRet === null ? fallbackErrno : parseErrno(errnoRet, errWhere);
  switch (v) {
    case 'SCMP_ACT_ALLOW': return { kind: 'allow' };
    case 'SCMP_ACT_LOG': return { kind: 'log' };
    case 'SCMP_ACT_ERRNO': return { kind: 'errno', errno };
    // With no tracer attached the kernel answers SECCOMP_RET_TRACE with ENOSYS; we never attach one.
    case 'SCMP_ACT_TRACE': return { kind: 'errno', errno: ENOSYS };
    case 'SCMP_ACT_TRAP': return { kind: 'trap' };
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return { kind: 'kill-thread' };
    case 'SCMP_ACT_KILL_PROCESS': return { kind: 'kill-process' };
    case 'SCMP_ACT_NOTIFY': return fail(where, 'SCMP_ACT_NOTIFY needs a user-space listener, which sandbox does not run');
    default: return fail(where, `unknown action ${quoted(v)} (expected SCMP_ACT_ALLOW, _ERRNO, _KILL, _KILL_PROCESS, _TRAP, _LOG or _TRACE)`);
  }
}

const OCI_OPS: Readonly<Record<string, CmpOp | 'masked'>> = {
  SCMP_CMP_NE: '!=', SCMP_CMP_LT: '<', SCMP_CMP_LE: '<=', SCMP_CMP_EQ: '==', SCMP_CMP_GE: '>=', SCMP_CMP_GT: '>',
  SCMP_CMP_MASKED_EQ: 'masked',
};

function ociArg(raw: unknown, locate: Locate, path: (string | number)[]): ArgCondition {
  if (!isObj(raw)) fail(locate(path), 'an args entry is {index, value, valueTwo, op}');
  const index = raw.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) fail(locate([...path, 'index']), 'index must be 0-5');
  const op = typeof raw.op === 'string' ? OCI_OPS[raw.op] : undefined;
  if (!op) fail(locate([...path, 'op']), `unknown op ${quoted(raw.op)} (expected ${Object.keys(OCI_OPS).join(', ')})`);
  const value = parseU64(raw.value ?? 0, locate([...path, 'value']));
  const valueTwo = parseU64(raw.valueTwo ?? 0, locate([...path, 'valueTwo']));
  // libseccomp's masked equality: value is the mask, valueTwo the datum.
  if (op === 'masked') return { arg: index, op: '==', mask: value, value: valueTwo };
  return { arg: index, op, value, mask: ALL_ONES_64 };
}

function strings(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return fail(where, 'expected a list of strings');
}

function ociFilter(raw: unknown, locate: Locate, path: (string | number)[]): Omit<RuleApplies, 'capsNone' | 'notArches'> {
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) fail(locate(path), 'expected an object with caps, arches or minKernel');
  const out: RuleApplies = {};
  const caps = strings(raw.caps, locate([...path, 'caps']));
  const arches = strings(raw.arches, locate([...path, 'arches']));
  if (caps.length) out.capsAll = caps.map(capabilityName);
  if (arches.length) out.arches = arches;
  if (raw.minKernel !== undefined && raw.minKernel !== '') {
    if (typeof raw.minKernel !== 'string' || !/^\d+(\.\d+)*$/.test(raw.minKernel)) fail(locate([...path, 'minKernel']), 'minKernel is a version like "4.8"');
    out.minKernel = raw.minKernel;
  }
  return out;
}

export function parseOciSeccomp(raw: unknown, locate: Locate): SeccompPolicy {
  const where = locate([]);
  if (!isObj(raw)) fail(where, 'a Docker/OCI seccomp profile is an object');
  const defaultAction = ociAction(raw.defaultAction, raw.defaultErrnoRet, EPERM, locate(['defaultAction']), locate(['defaultErrnoRet']));
  for (const k of ['architectures', 'archMap', 'flags'] as const) {
    if (raw[k] !== undefined && raw[k] !== null && !Array.isArray(raw[k])) fail(locate([k]), `${k} is a list`);
  }
  const rules: SeccompRule[] = [];
  const list = raw.syscalls ?? [];
  if (!Array.isArray(list)) fail(locate(['syscalls']), 'syscalls is a list');
  list.forEach((entry, i) => {
    const p = ['syscalls', i];
    if (!isObj(entry)) fail(locate(p), 'a syscalls entry is {names, action, args, ...}');
    const names = entry.names !== undefined ? strings(entry.names, locate([...p, 'names'])) : typeof entry.name === 'string' ? [entry.name] : [];
    if (names.length === 0) fail(locate(p), 'a syscalls entry needs names');
    // Docker's profiles list calls of every architecture at once; like libseccomp, a name the
    // target doesn't have is skipped, so every imported name is optional.
    const namesPath = entry.names !== undefined ? [...p, 'names'] : [...p, 'name'];
    const syscalls: RuleSyscall[] = names.map((name, j) => ({
      name, optional: true, origin: locate(entry.names !== undefined ? [...namesPath, j] : namesPath),
    }));
    const action = ociAction(entry.action, entry.errnoRet, EPERM, locate([...p, 'action']), locate([...p, 'errnoRet']));
    const args: ArgCondition[] = [];
    if (entry.args !== undefined && entry.args !== null) {
      if (!Array.isArray(entry.args)) fail(locate([...p, 'args']), 'args is a list');
      entry.args.forEach((a, j) => args.push(ociArg(a, locate, [...p, 'args', j])));
    }
    const inc = ociFilter(entry.includes, locate, [...p, 'includes']);
    const exc = ociFilter(entry.excludes, locate, [...p, 'excludes']);
    if (exc.minKernel) fail(locate([...p, 'excludes', 'minKernel']), 'excludes.minKernel is not supported');
    const applies: RuleApplies = { ...inc };
    if (exc.capsAll) applies.capsNone = exc.capsAll;
    if (exc.arches) applies.notArches = exc.arches;
    const known = names.filter(isKnownSyscall);
    const shown = known.length > 4 ? `${known.slice(0, 4).join(', ')} and ${known.length - 4} more` : known.join(', ') || names.join(', ');
    const cond = args.length ? ` if ${args.map(formatCondition).join(' && ')}` : '';
    rules.push({
      syscalls, action, args, origin: locate(p), applies,
      text: `syscalls[${i}] ${formatAction(action)} ${shown}${cond}`,
    });
  });
  return { defaultAction, defaultOrigin: locate(['defaultAction']), rules, loosen: [], format: 'oci', origin: where };
}
