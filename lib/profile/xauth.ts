// X authority files (the format Xlib reads from $XAUTHORITY): parsing, and the copy a sandbox gets.
// A sandbox has a hostname of its own, so a host cookie keyed by the host's name (FamilyLocal) stops
// matching inside; the copy holds only the wanted display's cookies, re-keyed as FamilyWild (any host).

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
