// The D-Bus section's vocabulary: which bus names and call/broadcast rules xdg-dbus-proxy accepts, checked
// here so a typo is a file:line:col error instead of a proxy that silently filters nothing; and the
// proxy's argument list built from a checked section. Pure: no host access.

/** A profile's `dbus` section after validation and merging (session bus only). */
export interface DbusSpec {
  /** Names the app may see (list, get the owner of), nothing more. */
  see: string[];
  /** Names the app may call and receive signals from; the whole connection owning each name. */
  talk: string[];
  /** Names the app may own (and talk to). */
  own: string[];
  /** NAME → rules "METHOD[@PATH]": only these method calls reach NAME. */
  call: Record<string, string[]>;
  /** NAME → rules "METHOD[@PATH]": broadcast signals from NAME the app may receive. */
  broadcast: Record<string, string[]>;
  /** Run without a bus (and without the proxy) when the host has no session bus. */
  optional: boolean;
  /** file:line:col of the section, for errors at run time. */
  origin: string;
}

export const DBUS_KEYS = ['see', 'talk', 'own', 'call', 'broadcast', 'optional'] as const;

const ELEMENT = '[A-Za-z_-][A-Za-z0-9_-]*';
const IFACE_ELEMENT = '[A-Za-z_][A-Za-z0-9_]*';
/** A well-known bus name, optionally ending in ".*" (the proxy's prefix match). Unique names (":1.5") are refused. */
export const BUS_NAME_PATTERN = `^${ELEMENT}(?:\\.${ELEMENT})*\\.(?:${ELEMENT}|\\*)$`;
const BUS_NAME = new RegExp(BUS_NAME_PATTERN);
const INTERFACE = `${IFACE_ELEMENT}(?:\\.${IFACE_ELEMENT})+`;
const METHOD = `(?:\\*|${INTERFACE}\\.\\*|${INTERFACE}\\.${IFACE_ELEMENT})`;
const OBJECT_PATH = `(?:/\\*|/|(?:/${IFACE_ELEMENT})+(?:/\\*)?)`;
/** schema/profile.schema.json holds the same two patterns (test/unit/dbus-profile.test.js compares them). */
export const RULE_PATTERN = `^${METHOD}(?:@${OBJECT_PATH})?$`;
const RULE = new RegExp(RULE_PATTERN);

/** Null when valid, else what was expected (for "found X, expected Y"). */
export function busNameProblem(name: string): string | null {
  if (name.length > 255 || !BUS_NAME.test(name)) {
    return 'a well-known bus name like "org.freedesktop.Notifications" (at least two dot-separated parts of letters, digits, "_" and "-", not starting with a digit; "org.example.*" for a prefix)';
  }
  return null;
}

export function ruleProblem(rule: string): string | null {
  if (rule.length > 1024 || !RULE.test(rule)) {
    return 'a rule "METHOD[@PATH]": METHOD is "*", "Interface.*" or "Interface.Method", PATH an object path like "/org/example/Obj" (ending in "/*" for a subtree)';
  }
  return null;
}

/**
 * xdg-dbus-proxy's arguments, one per element (sent NUL-separated through --args=FD): the upstream address,
 * the socket to listen on, --filter, then the section's rules. --fd is added by the caller.
 */
export function dbusProxyArgs(spec: DbusSpec, upstream: string, socketPath: string): string[] {
  const out = [upstream, socketPath, '--filter'];
  for (const n of spec.see) out.push(`--see=${n}`);
  for (const n of spec.talk) out.push(`--talk=${n}`);
  for (const n of spec.own) out.push(`--own=${n}`);
  for (const [n, rules] of Object.entries(spec.call)) for (const r of rules) out.push(`--call=${n}=${r}`);
  for (const [n, rules] of Object.entries(spec.broadcast)) for (const r of rules) out.push(`--broadcast=${n}=${r}`);
  return out;
}

/**
 * The host's session bus as a socket path, from DBUS_SESSION_BUS_ADDRESS (only unix:path= can be proxied
 * from a file the proxy opens; abstract sockets and tcp are refused) or $XDG_RUNTIME_DIR/bus.
 */
export function sessionBusPath(env: Record<string, string | undefined>): { path: string; address: string } | { missing: string } {
  const addr = env.DBUS_SESSION_BUS_ADDRESS;
  if (addr) {
    for (const a of addr.split(';')) {
      const m = /^unix:(?:.*,)?path=([^,]+)/.exec(a);
      if (m) {
        const p = decodeURIComponent(m[1]);
        return { path: p, address: `unix:path=${p}` };
      }
    }
    return { missing: `DBUS_SESSION_BUS_ADDRESS=${addr} has no unix:path=` };
  }
  const rt = env.XDG_RUNTIME_DIR;
  if (!rt) return { missing: 'DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR are both unset' };
  const p = `${rt.replace(/\/+$/, '')}/bus`;
  return { path: p, address: `unix:path=${p}` };
}
