// The one error type of sandbox: a one-line message and the exit code it stands for, with the error that
// caused it kept as `cause`. Only lib/cli prints these and sets the exit status. Also the one way an errno
// becomes words: the C library's strerror(3) text from lib/errno-table.ts (generated), as the C stage prints
// it, so that a message reads "Permission denied" whichever half of sandbox failed.
import { ERRNO_TABLE, ERRNO_ALIASES } from './errno-table';

/** Exit codes, as bubblewrap and container runtimes use them. */
export const EXIT = {
  /** An error of sandbox itself: bad option, bad profile, failed setup. */
  SANDBOX: 125,
  /** The command exists but can't be executed. */
  CANNOT_EXECUTE: 126,
  /** The command was not found. */
  NOT_FOUND: 127,
} as const;

export class SandboxError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.SANDBOX, options: { cause?: unknown } = {}) {
    // One line always: a newline in a message would break "exactly one line on stderr".
    super(message.replace(/[\r\n]+/g, ' '), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SandboxError';
    this.exitCode = exitCode;
  }

  /**
   * `context: what went wrong`, keeping the exit code of a SandboxError and the error itself as the cause: how a
   * layer says where an error from below happened ("enable controllers +memory: Permission denied").
   */
  static wrap(context: string, e: unknown): SandboxError {
    return new SandboxError(`${context}: ${describeError(e)}`, e instanceof SandboxError ? e.exitCode : EXIT.SANDBOX, { cause: e });
  }

  /** A failed system call by its errno number (koffi's c.errno()): "memfd_create: Cannot allocate memory". */
  static errno(context: string, errno: number): SandboxError {
    return new SandboxError(`${context}: ${errnoText(errno)}`, EXIT.SANDBOX, { cause: { errno, code: errnoName(errno) } });
  }
}

const byName = new Map<string, { n: number; text: string }>();
const byNumber = new Map<number, { name: string; text: string }>();
for (const [name, n, text] of ERRNO_TABLE) {
  byName.set(name, { n, text });
  if (!byNumber.has(n)) byNumber.set(n, { name, text });
}
for (const [alias, name] of Object.entries(ERRNO_ALIASES)) {
  const e = byName.get(name);
  if (e) byName.set(alias, e);
}

/** The number of an errno name (EPERM, ENOTSUP), case as written in <errno.h>; undefined when there is none. */
export function errnoNumber(name: string): number | undefined {
  return byName.get(name)?.n;
}

/** The name of an errno number (1 -> EPERM), or the number itself for one with none (a policy may return any 0-4095). */
export function errnoName(n: number): string {
  return byNumber.get(n)?.name ?? String(n);
}

/** The errno numbers by name, for code that builds policies (EPERM, ENOSYS, ...). */
export const ERRNO: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries([...byName].map(([k, v]) => [k, v.n])));

/**
 * What an errno says, in the C library's words: a name (Node's err.code, "EACCES") or a number (koffi's errno())
 * -> "Permission denied". A name or number the table lacks is shown as it is, an absent one as "unknown error".
 */
export function errnoText(code: string | number | undefined): string {
  if (code === undefined || code === '') return 'unknown error';
  if (typeof code === 'number') return byNumber.get(code)?.text ?? `Unknown error ${code}`;
  return byName.get(code)?.text ?? code;
}

/** The former name of errnoText, so that code written against it still builds. */
export const errnoMessage = errnoText;

/**
 * One line for any error caught: a SandboxError's message; a Node system error's errno in words (its code, as
 * "No such file or directory", not "ENOENT: no such file or directory, open '/x'", since the caller names
 * the path); anything else by the first line of its message.
 */
export function describeError(e: unknown): string {
  if (e instanceof SandboxError) return e.message;
  const err = e as NodeJS.ErrnoException | undefined;
  if (err && typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code) && byName.has(err.code)) return errnoText(err.code);
  // libuv's errno numbers are negated
  if (err && typeof err.errno === 'number' && byNumber.has(Math.abs(err.errno))) return errnoText(Math.abs(err.errno));
  const message = err instanceof Error ? err.message : String(e);
  return message.split('\n')[0] || 'unknown error';
}
