// Step-by-step output under DEBUG=sandbox:* — the `debug` package is loaded only when asked for,
// so a normal launch doesn't pay for it.
type Logger = (fmt: string, ...args: unknown[]) => void;

const wanted = /(^|,)\s*(sandbox(:\*|:[a-z-]+)?|\*)\s*(,|$)/.test(process.env.DEBUG ?? '');

export function debugEnabled(): boolean {
  return wanted;
}

export function makeDebug(ns: string): Logger {
  if (!wanted) return () => {};
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const createDebug = require('debug') as (n: string) => Logger;
  return createDebug(`sandbox:${ns}`);
}
