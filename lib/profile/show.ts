// `profile show`: a merged profile written back as JSON5, each entry followed by a comment naming the
// file:line:col it came from, so users see which file to edit. Values are shown as written (unexpanded).
import type { Marked } from './document';
import type { ResolvedProfile } from './load';

const KEY = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (k: string): string => (KEY.test(k) ? k : JSON.stringify(k));
const inline = (v: unknown): string => {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  return `{ ${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${key(k)}: ${inline(x)}`).join(', ')} }`;
};

export function formatResolvedProfile(r: ResolvedProfile): string {
  const d = r.doc;
  const lines: string[] = [`// profile ${r.name}: ${r.file}`];
  if (r.chain.length > 1) lines.push(`// merged from (bases first): ${r.chain.join(', ')}`);
  lines.push('{');
  const entry = (indent: number, text: string, at: string): void => {
    lines.push(`${' '.repeat(indent)}${text},  // ${at}`);
  };
  const scalar = <T>(indent: number, k: string, m: Marked<T> | undefined): void => {
    if (m) entry(indent, `${key(k)}: ${inline(m.value)}`, m.at);
  };
  const open = (indent: number, text: string): void => {
    lines.push(`${' '.repeat(indent)}${text}`);
  };

  scalar(2, 'description', d.description);
  if (d.programs?.length) entry(2, `programs: ${inline(d.programs.map((m) => m.value))}`, d.programs[0].at);
  scalar(2, 'fileArgs', d.fileArgs);
  if (d.network || d.uid || d.gid) {
    open(2, 'namespaces: {');
    scalar(4, 'network', d.network);
    scalar(4, 'uid', d.uid);
    scalar(4, 'gid', d.gid);
    open(2, '},');
  }
  scalar(2, 'hostname', d.hostname);
  if (d.cwd) entry(2, `cwd: ${JSON.stringify(d.cwd.text)}`, d.cwd.at);
  scalar(2, 'newSession', d.newSession);
  scalar(2, 'dieWithParent', d.dieWithParent);
  scalar(2, 'asPid1', d.asPid1);
  if (d.home) {
    open(2, 'home: {');
    scalar(4, 'base', d.home.base);
    scalar(4, 'readOnly', d.home.readOnly);
    if (d.home.share.length) {
      open(4, 'share: [');
      for (const s of d.home.share) entry(6, inline({ path: s.path, readOnly: s.readOnly, optional: s.optional }), s.at);
      open(4, '],');
    }
    open(2, '},');
  }
  if (d.filesystem.length) {
    open(2, 'filesystem: [');
    for (const f of d.filesystem) entry(4, inline(f.written), f.at);
    open(2, '],');
  }
  const env = d.env;
  if (env.clear || env.keep.length || env.unset.length || Object.keys(env.set).length) {
    open(2, 'env: {');
    scalar(4, 'clear', env.clear);
    for (const list of ['keep', 'unset'] as const) {
      if (!env[list].length) continue;
      open(4, `${list}: [`);
      for (const m of env[list]) entry(6, JSON.stringify(m.value), m.at);
      open(4, '],');
    }
    const set = Object.entries(env.set);
    if (set.length) {
      open(4, 'set: {');
      for (const [k, m] of set) entry(6, `${key(k)}: ${JSON.stringify(m.value?.text ?? null)}`, m.at);
      open(4, '},');
    }
    open(2, '},');
  }
  if (d.capabilities.length) {
    open(2, 'capabilities: [');
    for (const c of d.capabilities) entry(4, JSON.stringify(c.value), c.at);
    open(2, '],');
  }
  for (const section of ['devices', 'sockets'] as const) {
    const items = Object.entries(d[section]) as [string, Marked<unknown>][];
    if (!items.length) continue;
    open(2, `${section}: {`);
    for (const [k, m] of items) scalar(4, k, m);
    open(2, '},');
  }
  if (d.seccomp) entry(2, `seccomp: ${inline(d.seccomp.policy)}`, d.seccomp.at);
  if (d.limits) {
    open(2, `limits: {  // ${d.limits.at}`);
    for (const k of ['memory', 'memorySwap', 'cpus', 'pids', 'mode'] as const) scalar<unknown>(4, k, d.limits[k] ?? undefined);
    open(2, '},');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
