// X authority files (the format Xlib reads from $XAUTHORITY): parsing, and the cookie a sandbox gets.
// The user's own cookie makes a client trusted, and a trusted client owns the session: it can type into
// any window (XTEST, so into a terminal: code outside), read every window's pixels and every keystroke.
// So a sandbox gets a cookie of its own, made by the server's SECURITY extension as "untrusted": the
// server then hides other clients' windows, input and most extensions from it. A sandbox has a hostname of
// its own, so the copy is re-keyed as FamilyWild (any host).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { systemProgram } from '../host/system-program';
import { describeError } from '../errors';
import { refuseCaching } from '../host/plan-cache';

/** One record: family (256 local, 65535 wild, 0 internet, ...), address, display number, auth name and data. */
export interface XauthEntry {
  family: number;
  address: Buffer;
  number: string;
  name: string;
  data: Buffer;
}

export const FAMILY_LOCAL = 256;
export const FAMILY_WILD = 0xffff;

/** The records of an authority file; a truncated last record is dropped (as Xlib stops reading there). */
export function parseXauthority(buf: Buffer): XauthEntry[] {
  const out: XauthEntry[] = [];
  let off = 0;
  const field = (): Buffer | null => {
    if (off + 2 > buf.length) return null;
    const len = buf.readUInt16BE(off);
    if (off + 2 + len > buf.length) return null;
    const b = buf.subarray(off + 2, off + 2 + len);
    off += 2 + len;
    return b;
  };
  while (off + 2 <= buf.length) {
    const family = buf.readUInt16BE(off);
    off += 2;
    const address = field();
    const number = field();
    const name = field();
    const data = field();
    if (!address || !number || !name || !data) break;
    out.push({ family, address: Buffer.from(address), number: number.toString('latin1'), name: name.toString('latin1'), data: Buffer.from(data) });
  }
  return out;
}

export function encodeXauthority(entries: XauthEntry[]): Buffer {
  const parts: Buffer[] = [];
  const u16 = (n: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return b;
  };
  const field = (b: Buffer): void => {
    parts.push(u16(b.length), b);
  };
  for (const e of entries) {
    parts.push(u16(e.family));
    field(e.address);
    field(Buffer.from(e.number, 'latin1'));
    field(Buffer.from(e.name, 'latin1'));
    field(e.data);
  }
  return Buffer.concat(parts);
}

/**
 * The authority file a sandbox gets for display `display`: that display's local and wild cookies as
 * FamilyWild records, one per auth name (local ones first, as Xlib would pick them on the host); null when the
 * file has none. Internet-family records are left out: the sandbox reaches the display through its socket.
 */
export function wildCopy(buf: Buffer, display: number): Buffer | null {
  const want = String(display);
  const found = parseXauthority(buf).filter((e) => e.number === want && (e.family === FAMILY_LOCAL || e.family === FAMILY_WILD));
  found.sort((a, b) => (a.family === FAMILY_LOCAL ? 0 : 1) - (b.family === FAMILY_LOCAL ? 0 : 1));
  const seen = new Set<string>();
  const kept: XauthEntry[] = [];
  for (const e of found) {
    if (seen.has(e.name)) continue;
    seen.add(e.name);
    kept.push({ family: FAMILY_WILD, address: Buffer.alloc(0), number: want, name: e.name, data: e.data });
  }
  return kept.length ? encodeXauthority(kept) : null;
}

/**
 * The same records for display number `number`: the sandbox reaches the display under a number of its own
 * (lib/profile/build.ts, x11InsideDisplay), and Xlib picks a cookie by the number in DISPLAY.
 */
export function renumbered(buf: Buffer, number: number): Buffer {
  return encodeXauthority(parseXauthority(buf).map((e) => ({ ...e, number: String(number) })));
}

/** What the launcher may give a sandbox for a display: an untrusted cookie, or why nothing safe can be given. */
export type X11Access = { cookie: Buffer } | { refused: string };

/** `xauth generate` for display :N into a fresh file, authenticating with hostAuth; the new file's bytes, or the error. */
function generate(xauth: string, display: number, hostAuth: string, dir: string, out: string): { bytes: Buffer } | { error: string } {
  const r = spawnSync(xauth, ['-q', '-f', out, 'generate', `:${display}`, '.', 'untrusted', 'timeout', '0'], {
    // timeout 0: the authorization lives as long as the server, since no one is left to revoke it after the
    // launcher has become the sandbox, and a program may open its first connection at any time
    env: { DISPLAY: `:${display}`, XAUTHORITY: hostAuth, HOME: dir, PATH: '/usr/bin:/bin' },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 5000,
  });
  if (r.error) return { error: `${xauth}: ${describeError(r.error)}` };
  const why = (r.stderr || '').trim().split('\n').filter((l) => !/does not exist|creating new authority/i.test(l)).pop();
  if (r.status !== 0) return { error: why || `xauth exited ${r.status ?? r.signal}` };
  try {
    return { bytes: fs.readFileSync(out) };
  } catch (e) {
    return { error: `xauth wrote no ${out}: ${describeError(e)}` };
  }
}

/**
 * An untrusted cookie for display :N from the X server (SECURITY extension), as a FamilyWild authority file.
 * Refused when the server lets this user in without any cookie (`xhost +si:localuser:USER`, or no access
 * control): a hostile program would then simply connect without the untrusted cookie and be trusted. Also
 * refused when xauth is missing or the server can't make untrusted cookies.
 */
export function untrustedX11Cookie(display: number, hostAuth: string | null, xauth: string | null = systemProgram('xauth')): X11Access {
  // what the server answers (its access control, whether it takes the cookie, which xauth reads) is in no file or
  // variable the plan cache compares: a plan that asked, with or without a display in the end, is never kept
  refuseCaching(`the X server :${display} was asked for a cookie`);
  if (!xauth) return { refused: 'no xauth in /usr/bin to make an untrusted cookie for the sandbox (Debian package xauth)' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-xauth-'));
  try {
    const empty = path.join(dir, 'none');
    fs.writeFileSync(empty, '', { mode: 0o600 });
    const open = generate(xauth, display, empty, dir, path.join(dir, 'probe'));
    if ('bytes' in open) {
      return { refused: `the X server :${display} lets this user's programs in without a cookie (xhost +si:localuser, or access control off), so a sandboxed program could take the whole session; give it a cookie (xhost -si:localuser:$USER) or use Wayland` };
    }
    if (!hostAuth) return { refused: `no X authority file (XAUTHORITY, ~/.Xauthority) to ask the server :${display} for an untrusted cookie` };
    const made = generate(xauth, display, hostAuth, dir, path.join(dir, 'untrusted'));
    if ('error' in made) {
      // Xwayland has no SECURITY extension: its X clients can't be made untrusted (Wayland clients can't be reached
      // through it; the program can use the Wayland socket)
      if (/Security extension/i.test(made.error)) return { refused: `the X server :${display} has no SECURITY extension (Xwayland has none), so it can't give the sandbox an untrusted connection; the program can use Wayland` };
      return { refused: `the X server :${display} gave no untrusted cookie (${made.error})` };
    }
    const copy = wildCopy(made.bytes, display);
    return copy ? { cookie: copy } : { refused: `xauth gave no cookie for :${display}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
