// `sandbox doctor`: prints what this host allows the user who runs it, in words or (--json) for scripts.
// The diagnosis itself is lib/host/doctor.ts; this file parses the options and lays the report out.
import { SandboxError } from '../errors';
import { diagnoseHost, type DoctorReport, type Finding } from '../host/doctor';
import { realHostReader, type HostReader } from '../host/reader';

export interface DoctorIo {
  out(s: string): void;
  err(s: string): void;
}

const HELP = `Usage: sandbox doctor [--json]

Checks, as you, what this host allows a rootless sandbox: user namespaces, the kernel calls the stage
uses, cgroup v2 delegation, seccomp, Landlock, newuidmap. Needs no root.

Options:
  --json    the same findings as one JSON object (canRun, uid, user, findings[])
  --help    this help

Exit status: 0 when sandboxes can run here, 1 when they can't.`;

const MARK: Record<Finding['verdict'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export function formatReport(report: DoctorReport): string {
  const who = report.user ? `${report.user} (uid ${report.uid})` : `uid ${report.uid}`;
  const lines = [`sandbox doctor: what this host allows ${who}`, ''];
  const width = Math.max(...report.findings.map((f) => f.title.length));
  for (const f of report.findings) {
    lines.push(`${MARK[f.verdict]}  ${f.title.padEnd(width)}  ${f.summary}`);
    if (f.fix) {
      const [first, ...rest] = f.fix.split('\n');
      const pad = ' '.repeat(6 + width + 2);
      lines.push(`${pad}what to do: ${first}`);
      for (const r of rest) lines.push(`${pad}    ${r}`);
    }
  }
  const fails = report.findings.filter((f) => f.verdict === 'fail').length;
  const warns = report.findings.filter((f) => f.verdict === 'warn').length;
  lines.push('');
  if (report.canRun) {
    lines.push(warns ? `Sandboxes can run here; ${warns} warning${warns > 1 ? 's' : ''}: some protections or limits are weaker or missing (see above).` : 'Sandboxes can run here, with every protection.');
  } else {
    lines.push(`Sandboxes can't run here: ${fails} problem${fails > 1 ? 's' : ''} above must be fixed first.`);
  }
  return lines.join('\n');
}

/** The host is injectable for tests; the CLI passes nothing and gets the real one. */
export function runDoctorCommand(args: string[], io: DoctorIo, host: HostReader = realHostReader()): number {
  let json = false;
  for (const a of args) {
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') { io.out(HELP); return 0; }
    else throw new SandboxError(`doctor: ${a}: unknown ${a.startsWith('-') ? 'option' : 'argument'} (see sandbox doctor --help)`);
  }
  const report = diagnoseHost(host);
  io.out(json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.canRun ? 0 : 1;
}
