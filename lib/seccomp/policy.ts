// The seccomp policy model and sandbox's own policy language (a profile's `seccomp` section or
// `--seccomp FILE`): default action, ordered rules over names and @groups, argument conditions.
// Docker/OCI JSON is recognised here and handed to ./oci.
import { SandboxError, errnoName, errnoNumber, ERRNO } from '../errors';
import { Arch, ARCHES, isKnownSyscall } from './arch';
import { GROUPS, expandGroup } from './groups';
import { parseOciSeccomp } from './oci';

export type ActionKind = 'allow' | 'log' | 'errno' | 'trap' | 'kill-thread' | 'kill-process';
export type SeccompAction =
  | { kind: 'allow' }
  | { kind: 'log' }
  | { kind: 'errno'; errno: number }
  | { kind: 'trap' }
  | { kind: 'kill-thread' }
  | { kind: 'kill-process' };

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** (args[arg] & mask) OP value, all unsigned 64-bit. */
export interface ArgCondition {
  arg: number;
  op: CmpOp;
  value: bigint;
  mask: bigint;
}

export interface RuleSyscall {
  name: string;
  /** Skip (rather than fail) on an architecture that lacks the call. */
  optional: boolean;
  /** Where the name was written, for "unknown on aarch64" errors. */
  origin: string;
}

/** Conditions under which an imported Docker rule applies (its includes/excludes). */
export interface RuleApplies {
  capsAll?: string[];
  capsNone?: string[];
  arches?: string[];
  notArches?: string[];
  minKernel?: string;
}

export interface SeccompRule {
  syscalls: RuleSyscall[];
  action: SeccompAction;
  /** All must hold (AND). Empty: the rule matches every call of its syscalls. */
  args: ArgCondition[];
  /** file:line:col of the rule (or "base filter: ITEM"). */
  origin: string;
  /** How a person would name the rule: "allow @system-service". */
  text: string;
  /** Set on rules of the base filter: the item a profile can loosen with a reason. */
  baseItem?: string;
  applies?: RuleApplies;
}

export interface BaseLoosening {
  item: string;
  reason: string;
  origin: string;
}

export interface SeccompPolicy {
  defaultAction: SeccompAction;
  /** Where the default action was written. */
  defaultOrigin: string;
  rules: SeccompRule[];
  /** Base-filter items this policy switches off, each with its reason. */
  loosen: BaseLoosening[];
  /** 'sandbox' for our language, 'oci' for an imported Docker/OCI profile. */
  format: 'sandbox' | 'oci';
  origin: string;
}

export type Locate = (path: (string | number)[]) => string;

export const ALL_ONES_64 = (1n << 64n) - 1n;
const ACTION_NAMES: readonly ActionKind[] = ['allow', 'log', 'errno', 'trap', 'kill-thread', 'kill-process'];
const OPS: readonly string[] = ['==', '!=', '<', '<=', '>', '>=', '&'];

/**
 * How strict an action is. When several rules match one call the strictest wins, the order the
 * kernel itself uses between stacked filters; among equally strict rules the first written wins.
 */
export function actionRank(a: SeccompAction): number {
  return { allow: 0, log: 1, errno: 2, trap: 3, 'kill-thread': 4, 'kill-process': 5 }[a.kind];
}

export function sameAction(a: SeccompAction, b: SeccompAction): boolean {
  return a.kind === b.kind && (a.kind !== 'errno' || a.errno === (b as { errno: number }).errno);
}

export { errnoName };

export function formatAction(a: SeccompAction): string {
  return a.kind === 'errno' ? `errno ${errnoName(a.errno)}` : a.kind;
}

export function formatCondition(c: ArgCondition): string {
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  const lhs = c.mask === ALL_ONES_64 ? `arg${c.arg}` : `(arg${c.arg} & ${hex(c.mask)})`;
  return `${lhs} ${c.op} ${c.value < 1024n ? c.value.toString() : hex(c.value)}`;
}

function fail(where: string, msg: string): never {
  throw new SandboxError(`${where}: ${msg}`);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An errno given by name ("EPERM", any of <errno.h>: lib/errno-table.ts) or number. */
export function parseErrno(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4095) return v;
  if (typeof v === 'string') {
    const n = errnoNumber(v.toUpperCase());
    if (n !== undefined) return n;
    fail(where, `unknown errno "${v}" (use a name such as EPERM or ENOSYS, or a number 0-4095)`);
  }
  return fail(where, 'errno must be a name such as "EPERM" or a number 0-4095');
}

/** A 64-bit argument value: a safe integer (negative means two's complement) or a string. */
export function parseU64(v: unknown, where: string): bigint {
  let b: bigint;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail(where, `${v} is not exact as a number; write 64-bit values as a string ("0xffffffffffffffff")`);
    b = BigInt(v);
  } else if (typeof v === 'string' && /^-?(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)$/i.test(v.trim())) {
    const s = v.trim();
    b = s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
  } else {
    return fail(where, 'value must be an integer or a string holding one');
  }
  if (b < -(1n << 63n) || b > ALL_ONES_64) fail(where, `${v} does not fit in 64 bits`);
  return BigInt.asUintN(64, b);
}

function parseAction(kind: unknown, errno: unknown, where: string, errnoWhere: string): SeccompAction {
  if (typeof kind !== 'string' || !ACTION_NAMES.includes(kind as ActionKind)) {
    fail(where, `action must be one of ${ACTION_NAMES.join(', ')}`);
  }
  if (kind === 'errno') return { kind: 'errno', errno: errno === undefined ? ERRNO.EPERM : parseErrno(errno, errnoWhere) };
  if (errno !== undefined) fail(errnoWhere, `errno only goes with the errno action, not ${kind}`);
  return { kind } as SeccompAction;
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], locate: Locate, path: (string | number)[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(locate([...path, k]), `unknown key "${k}" (expected ${allowed.join(', ')})`);
  }
}

function parseCondition(raw: unknown, locate: Locate, path: (string | number)[]): ArgCondition {
  const where = locate(path);
  if (!isObj(raw)) fail(where, 'an argument condition is an object like {arg: 0, op: "==", value: 1}');
  checkKeys(raw, ['arg', 'op', 'value', 'mask'], locate, path);
  const arg = raw.arg;
  if (typeof arg !== 'number' || !Number.isInteger(arg) || arg < 0 || arg > 5) fail(locate([...path, 'arg']), 'arg must be an argument index 0-5');
  if (typeof raw.op !== 'string' || !OPS.includes(raw.op)) fail(locate([...path, 'op']), `op must be one of ${OPS.join(' ')}`);
  if (raw.value === undefined) fail(where, 'a condition needs a value');
  const value = parseU64(raw.value, locate([...path, 'value']));
  if (raw.op === '&' && raw.mask === undefined) fail(where, 'op "&" needs a mask: (arg & mask) == value');
  const mask = raw.mask === undefined ? ALL_ONES_64 : parseU64(raw.mask, locate([...path, 'mask']));
  return { arg, op: raw.op === '&' ? '==' : (raw.op as CmpOp), value, mask };
}

function nameList(v: unknown, locate: Locate, path: (string | number)[]): { name: string; path: (string | number)[] }[] {
  if (typeof v === 'string') return [{ name: v, path }];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v.map((name: string, i) => ({ name, path: [...path, i] }));
  return fail(locate(path), 'expected a syscall name, an @group, or a non-empty list of them');
}

function parseRule(raw: unknown, locate: Locate, path: (string | number)[]): SeccompRule {
  const where = locate(path);
  if (!isObj(raw)) fail(where, 'a rule is an object like {allow: ["read", "@basic-io"]}');
  checkKeys(raw, ['allow', 'deny', 'names', 'action', 'errno', 'args', 'optional', 'comment'], locate, path);
  const forms = (['allow', 'deny', 'names'] as const).filter((k) => raw[k] !== undefined);
  if (forms.length !== 1) fail(where, 'a rule has exactly one of allow, deny, or names (with action)');
  const form = forms[0];
  let action: SeccompAction;
  if (form === 'names') {
    if (raw.action === undefined) fail(where, 'a rule with names needs an action');
    action = parseAction(raw.action, raw.errno, locate([...path, 'action']), locate([...path, 'errno']));
  } else {
    if (raw.action !== undefined) fail(locate([...path, 'action']), `"${form}" already says the action`);
    action = form === 'allow' ? parseAction('allow', raw.errno, where, locate([...path, 'errno'])) : parseAction('errno', raw.errno, where, locate([...path, 'errno']));
  }
  if (raw.optional !== undefined && typeof raw.optional !== 'boolean') fail(locate([...path, 'optional']), 'optional must be true or false');
  const optional = raw.optional === true;
  const syscalls: RuleSyscall[] = [];
  const written: string[] = [];
  for (const { name, path: p } of nameList(raw[form], locate, [...path, form])) {
    written.push(name);
    const origin = locate(p);
    if (name.startsWith('@')) {
      if (!GROUPS.has(name)) fail(origin, `unknown syscall group "${name}" (see: sandbox seccomp groups)`);
      // A group spans architectures; its members missing on one are simply absent there.
      for (const m of expandGroup(name)) syscalls.push({ name: m, optional: true, origin });
    } else {
      if (!isKnownSyscall(name)) fail(origin, `unknown syscall "${name}" (not on ${ARCHES.join(' or ')})`);
      syscalls.push({ name, optional, origin });
    }
  }
  const args: ArgCondition[] = [];
  if (raw.args !== undefined) {
    if (!Array.isArray(raw.args)) fail(locate([...path, 'args']), 'args is a list of conditions');
    raw.args.forEach((c, i) => args.push(parseCondition(c, locate, [...path, 'args', i])));
  }
  const verb = form === 'allow' ? 'allow' : form === 'deny' ? 'deny' : action.kind;
  const cond = args.length ? ` if ${args.map(formatCondition).join(' && ')}` : '';
  return { syscalls, action, args, origin: where, text: `${verb} ${written.join(', ')}${cond}` };
}

function parseLoosen(raw: unknown, locate: Locate, path: (string | number)[]): BaseLoosening[] {
  if (!Array.isArray(raw)) fail(locate(path), 'loosenBase is a list of {item, reason}');
  return raw.map((e, i) => {
    const p = [...path, i];
    if (!isObj(e)) fail(locate(p), 'each entry is {item: "...", reason: "..."}');
    checkKeys(e, ['item', 'reason'], locate, p);
    if (typeof e.item !== 'string') fail(locate([...p, 'item']), 'item names a base filter item (see docs/seccomp-base-filter.md)');
    if (typeof e.reason !== 'string' || e.reason.trim().length < 3) fail(locate([...p, 'reason']), `loosening the base filter item "${e.item}" needs a reason`);
    return { item: e.item, reason: e.reason.trim(), origin: locate(p) };
  });
}

/** Docker/OCI profiles say defaultAction with SCMP_ACT_* values; ours never does. */
export function looksLikeOci(raw: unknown): boolean {
  return isObj(raw) && (raw.defaultAction !== undefined || raw.syscalls !== undefined);
}

/**
 * Parse a seccomp section as written. `locate` turns a JSON path inside the section into
 * "file:line:col"; every error starts with it. Names are checked against all known
 * architectures here; whether a name exists on the target architecture is checked at compile.
 */
export function parseSeccompSection(raw: unknown, locate: Locate): SeccompPolicy {
  if (looksLikeOci(raw)) return parseOciSeccomp(raw, locate);
  const where = locate([]);
  if (!isObj(raw)) fail(where, 'the seccomp section is an object with "default" and "rules"');
  checkKeys(raw, ['default', 'errno', 'rules', 'loosenBase', 'comment'], locate, []);
  if (raw.default === undefined) fail(where, 'the seccomp section needs "default" (allow, errno, kill-process, trap or log)');
  const defaultAction = parseAction(raw.default, raw.errno, locate(['default']), locate(['errno']));
  const rules: SeccompRule[] = [];
  if (raw.rules !== undefined) {
    if (!Array.isArray(raw.rules)) fail(locate(['rules']), 'rules is a list');
    raw.rules.forEach((r, i) => rules.push(parseRule(r, locate, ['rules', i])));
  }
  const loosen = raw.loosenBase === undefined ? [] : parseLoosen(raw.loosenBase, locate, ['loosenBase']);
  return { defaultAction, defaultOrigin: locate(['default']), rules, loosen, format: 'sandbox', origin: where };
}

/** Arch names Docker uses in includes/excludes (Go's GOARCH) and in architectures (SCMP_ARCH_*). */
export const DOCKER_ARCH: Readonly<Record<Arch, { goarch: string; scmp: string }>> = {
  x86_64: { goarch: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  aarch64: { goarch: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
};
