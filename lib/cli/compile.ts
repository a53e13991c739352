// `sandbox compile [RUN OPTIONS] -o FILE [--] [COMMAND ...]`: the plan written once, for `sandbox-exec FILE -- COMMAND`
// to launch with no Node and no JSON5 (job arrays, nodes without Node). The file starts with a #! line naming
// sandbox-exec, so it can be run directly. The environment travels as rules (the profile's keep, unset and set),
// applied to the environment of each launch; the inputs (profile files, bound paths) are checked at each launch.
import * as fs from 'fs';
import * as path from 'path';
import { SandboxError } from '../errors';
import { planFor, type RunIo } from './run';
import { stagePath } from '../paths';
import { serializePlan } from '../native/serialize';
import type { Plan } from '../plan/types';
import type { SandboxSpec } from '../plan/spec';

export const COMPILE_USAGE = 'usage: sandbox compile [RUN OPTIONS] -o FILE [--] [COMMAND [ARGS...]]';

export interface CompiledExtras {
  envClear: boolean;
  envKeep: string[];
  envUnset: string[];
  /** profile files: path, mtime (s, ns), size */
  files: { path: string; sec: bigint; nsec: bigint; size: bigint }[];
  /** bound sources: path, directory or not, optional */
  paths: { path: string; dir: boolean; optional: boolean }[];
}

export function compiledExtras(spec: SandboxSpec, plan: Plan, profileFiles: string[]): CompiledExtras {
  const files = profileFiles.map((p) => {
    const st = fs.statSync(p, { bigint: true });
    return { path: p, sec: st.mtimeNs / 1000000000n, nsec: st.mtimeNs % 1000000000n, size: st.size };
  });
  const paths = plan.mounts.flatMap((m) => {
    if (m.op !== 'bind') return [];
    let dir = false;
    try {
      dir = fs.statSync(m.src).isDirectory();
    } catch {
      /* a -try source that is missing now */
    }
    return [{ path: m.src, dir, optional: m.optional }];
  });
  return { envClear: spec.env.clear, envKeep: spec.env.keep, envUnset: spec.env.unset, files, paths };
}

/** The records a compiled plan carries besides the plan: written before `end`. */
export function compiledRecords(x: CompiledExtras): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [['env-rules', 1], ['env-clear', x.envClear ? 1 : 0]];
  for (const k of x.envKeep) out.push(['env-keep', k]);
  for (const u of x.envUnset) out.push(['env-unset', u]);
  for (const f of x.files) out.push(['input-file', f.path, f.sec.toString(), f.nsec.toString(), f.size.toString()]);
  for (const p of x.paths) out.push(['input-path', p.path, p.dir ? 1 : 2, p.optional ? 1 : 0, 0]);
  return out;
}

export function runCompileCommand(args: string[], io: RunIo): number {
  let output: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { rest.push(...args.slice(i)); break; }
    if (a === '-o' || a === '--output') {
      if (i + 1 >= args.length) throw new SandboxError(`${a}: expects FILE (${COMPILE_USAGE})`);
      output = args[++i];
    } else if (a.startsWith('--output=')) output = a.slice(9);
    else rest.push(a);
  }
  if (rest.includes('--help')) { io.out(COMPILE_USAGE); return 0; }
  if (!output) throw new SandboxError(`-o FILE is missing (${COMPILE_USAGE})`);
  const r = planFor(rest, io, { compiled: true });
  if ('help' in r) { io.out(COMPILE_USAGE); return 0; }
  if (r.printPlan) throw new SandboxError('--print-plan: use it with sandbox run; sandbox compile writes the plan to -o FILE');
  // Each launch has its own environment and parent: those are not frozen into the file.
  const plan: Plan = { ...r.plan, env: Object.entries(r.spec.env.set).map(([k, v]) => `${k}=${v}`), parentPid: 0 };
  const bytes = serializePlan(plan, compiledRecords(compiledExtras(r.spec, plan, r.profileFiles)));
  const exec = path.join(path.dirname(stagePath()), 'sandbox-exec');
  const file = path.resolve(output);
  try {
    fs.writeFileSync(file, Buffer.concat([Buffer.from(`#!${exec}\n`), bytes]), { mode: 0o755 });
    fs.chmodSync(file, 0o755);
  } catch (e) {
    throw new SandboxError(`-o ${output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  io.err(`sandbox: wrote ${file} (${bytes.length} bytes); run it with: sandbox-exec ${file} -- COMMAND, or ${file} -- COMMAND`);
  return 0;
}
