// The one error type of sandbox: a one-line message and the exit code it stands for.
// Only lib/cli prints these and sets the exit status.

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
  constructor(message: string, exitCode: number = EXIT.SANDBOX) {
    // One line always: a newline in a message would break "exactly one line on stderr".
    super(message.replace(/[\r\n]+/g, ' '));
    this.name = 'SandboxError';
    this.exitCode = exitCode;
  }
}

/** errno name → message, from Node's own tables (never a hand-typed list). */
export function errnoMessage(code: string | undefined): string {
  if (!code) return 'unknown error';
  const known: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    EPERM: 'Operation not permitted',
    ENOTDIR: 'Not a directory',
    EISDIR: 'Is a directory',
    ELOOP: 'Too many levels of symbolic links',
    EEXIST: 'File exists',
    EINVAL: 'Invalid argument',
    EROFS: 'Read-only file system',
    EBADF: 'Bad file descriptor',
  };
  return known[code] ?? code;
}
