// Input generators for the CLI and profile fuzz tests: a seeded PRNG (so a failure reproduces from its
// seed and case number), random and mutated `sandbox run` command lines, and mutated profiles that start
// from the shipped ones. Nothing here runs anything.
'use strict';
const fs = require('fs');
const path = require('path');
const JSON5 = require('json5');

const ROOT = path.resolve(__dirname, '..', '..');

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    /** A derived generator, so that one case's draws don't shift the next case's. */
    fork: () => prng(Math.floor(next() * 2 ** 32)),
  };
  return r;
}

const RUN_FLAGS = {
  '--bind': ['path', 'dest'], '--bind-try': ['path', 'dest'], '--ro-bind': ['path', 'dest'], '--ro-bind-try': ['path', 'dest'],
  '--dev-bind': ['path', 'dest'], '--dev-bind-try': ['path', 'dest'], '--tmpfs': ['dest'], '--size': ['size'], '--perms': ['mode'],
  '--proc': ['dest'], '--dev': ['dest'], '--mqueue': ['dest'], '--dir': ['dest'], '--symlink': ['path', 'dest'],
  '--file': ['fd', 'dest'], '--bind-data': ['fd', 'dest'], '--ro-bind-data': ['fd', 'dest'], '--chmod': ['mode', 'dest'],
  '--remount-ro': ['dest'], '--share-net': [], '--unshare-net': [], '--uid': ['num'], '--gid': ['num'], '--hostname': ['host'],
  '--chdir': ['dest'], '--setenv': ['var', 'any'], '--unsetenv': ['var'], '--clearenv': [], '--cap-add': ['cap'],
  '--new-session': [], '--share-terminal': [], '--die-with-parent': [], '--as-pid-1': [], '--profile': ['profile'],
  '--no-profile': [], '--seccomp': ['path'], '--memory': ['size'], '--memory-swap': ['size'], '--cpus': ['cpus'],
  '--pids': ['num'], '--limits': ['limits'], '--print-plan': [], '--help': [],
  '--unshare-all': [], '--unshare-user': [], '--unshare-user-try': [], '--unshare-pid': [], '--unshare-ipc': [],
  '--unshare-uts': [], '--unshare-cgroup': [], '--unshare-cgroup-try': [],
};
const BAD_FLAGS = ['--bogus', '-x', '---', '--=', '-', '--BIND', '--bind=', '--ro-bind=/', '--tmpfs=', '--uid=', '--=x', '-b', '--no-profile=1',
  '--print-plan=yes', '--help=', '--profile=', '--\u00e9', '--bind\u0000', '--size=1G', '--perms=0700', '--unshare-all=1', '--__proto__', '--constructor', '--toString', '--hasOwnProperty'];

// Never a destructive program: whatever ends up as the command runs only as the unprivileged test user,
// but a fuzz test still only ever names harmless ones.
const VALUES = {
  path: ['/', '/usr', '/tmp', '/etc', '/etc/passwd', '/dev', '/dev/null', '/proc', '/sys', '/nonexistent', 'rel', '.', '..', '', '//', '/usr/', '/a/../b', '~', '~/x', '${HOME}', '/proc/self/fd/0', '/dev/shm'],
  dest: ['/', '/usr', '/tmp', '/x', '/x/y/z', '/tmp/a b', 'rel', '', '/..', '/a/../b', '/./.', '//', '/proc', '/dev', '/etc/passwd', '/x/', '/\u00e9t\u00e9', '/\ud83d\ude00', '/' + 'a'.repeat(300), '/a\\b'],
  size: ['64M', '1G', '0', '-5M', '1.5G', '1T', '10Z', 'M', '1e3', '99999999999T', '1kb', '1KiB', ' 1M', '0x10', 'NaN', ''],
  mode: ['0755', '755', '1777', '0999', '8', '07777', '017777', 'abc', '0o755', '-1', '', '00000', '4755'],
  num: ['0', '3', '-1', '1e9', '0x10', '077', '4294967294', '4294967295', '99999999999999999999', 'NaN', '', ' 1', '1.5', '65534'],
  fd: ['3', '0', '1', '2', '-1', '1048576', '1048577', 'x', '', '03', '99'],
  cpus: ['1', '1.5', '0', '0.0001', '4096', '4097', '-1', '1e3', '.5', 'x', ''],
  host: ['sandbox', 'a', '', '-a', 'a'.repeat(63), 'a'.repeat(64), 'h\u00f6st', 'a.b-c', 'a b'],
  var: ['A', 'PATH', 'HOME', '', 'A=B', 'A\tB', '\u00e9', '1X', '__proto__', 'constructor', 'LD_PRELOAD'],
  cap: ['CAP_NET_ADMIN', 'net_admin', 'cap_bogus', 'CAP_', 'CAP_SYS_ADMIN', 'ALL', '', '40', 'CAP_CHOWN'],
  profile: ['default', 'minimal', 'browser', 'hpc', 'build', 'desktop', '../x', '/etc/passwd', '/nonexistent.json5', 'nonexistent', 'a'.repeat(300), '', '.json5', 'default.json5', '/', '/dev/null', '__proto__', 'x/../default'],
  limits: ['strict', 'best-effort', 'STRICT', '', 'none'],
  any: ['', 'x', ' ', '=', '\u00e9', '\n', 'a\nb', '--', '-', '%s%n', '${X}'],
};

const WEIRD = ['\u0000', '\n', '\r', '\t', '\u00e9', '\ud83d\ude00', '\ud800', '\u202e', '"', "'", '\\', '$', '`', '=', ',', ':', '{', '}', '[', ']', '/', '*', '?', '%', ' ', '\u00a0', '\u2028', '\uffff'];

/** A random string: short garbage, unicode, control characters, or (rarely) a huge one. */
function garbage(r) {
  if (r.chance(0.03)) return r.pick(['a', '/', 'x/', '\u00e9']).repeat(r.pick([4096, 65536, 200000]));
  const n = r.int(12);
  let s = '';
  for (let i = 0; i < n; i++) s += r.chance(0.5) ? String.fromCharCode(32 + r.int(95)) : r.pick(WEIRD);
  return s;
}

function value(r, type) {
  if (r.chance(0.15)) return garbage(r);
  const v = r.pick(VALUES[type] ?? VALUES.any);
  return r.chance(0.1) ? mutateString(r, v) : v;
}

function mutateString(r, s) {
  const i = r.int(s.length + 1);
  switch (r.int(4)) {
    case 0: return s.slice(0, i) + s.slice(i + 1);
    case 1: return s.slice(0, i) + r.pick(WEIRD) + s.slice(i);
    case 2: return s.slice(0, i) + s.slice(i) + s.slice(i);
    default: return s.slice(0, i);
  }
}

/** One option with its arguments, sometimes too few, too many, or in the --flag=value form. */
function option(r) {
  if (r.chance(0.06)) return [r.pick(BAD_FLAGS)];
  const flag = r.pick(Object.keys(RUN_FLAGS));
  const types = RUN_FLAGS[flag];
  let args = types.map((ty) => value(r, ty));
  if (r.chance(0.08)) args = args.slice(0, r.int(args.length + 1));
  if (r.chance(0.05)) args.push(value(r, 'any'));
  if (args.length >= 1 && r.chance(0.1)) return [`${flag}=${args[0]}`, ...args.slice(1)];
  return [flag, ...args];
}

/**
 * A `sandbox run` argument list (without "run"): options, then usually "--" and `command`.
 * Sometimes mutated at the token level: a token dropped, doubled, swapped or cut.
 */
function runArgv(r, command = ['true']) {
  const argv = [];
  const n = r.int(9);
  for (let i = 0; i < n; i++) argv.push(...option(r));
  const tail = r.pick([['--', ...command], ['--', ...command], command, ['--'], [], ['--', '--', ...command]]);
  argv.push(...tail);
  const muts = r.chance(0.3) ? 1 + r.int(3) : 0;
  for (let m = 0; m < muts && argv.length; m++) {
    const i = r.int(argv.length);
    switch (r.int(5)) {
      case 0: argv.splice(i, 1); break;
      case 1: argv.splice(i, 0, argv[i]); break;
      case 2: { const j = r.int(argv.length); [argv[i], argv[j]] = [argv[j], argv[i]]; break; }
      case 3: argv[i] = mutateString(r, argv[i]); break;
      default: argv.splice(i, 0, garbage(r));
    }
  }
  return argv;
}

/** Global command lines: subcommands other than run, with random arguments. */
function globalArgv(r, profileFiles) {
  const p = () => (profileFiles.length && r.chance(0.6) ? r.pick(profileFiles) : value(r, 'profile'));
  const forms = [
    () => [],
    () => ['--help'], () => ['--version'], () => ['-h'], () => ['-V'], () => ['help'],
    () => [garbage(r)], () => ['--' + garbage(r)], () => ['-' + garbage(r), 'run'],
    () => ['profiles', ...(r.chance(0.3) ? [garbage(r)] : [])],
    () => ['profile', 'check', p()], () => ['profile', 'show', p()], () => ['profile', r.pick(['check', 'show', 'bogus', ''])],
    () => ['profile', 'check', p(), p()], () => ['profile'],
    () => ['seccomp', 'groups'], () => ['seccomp', 'explain', p(), r.pick(['ptrace', 'mount', 'read', 'bogus', '', '@mount', '999', '-1', garbage(r)])],
    () => ['seccomp', 'explain'], () => ['seccomp', r.pick(['bogus', '', 'groups'])], () => ['seccomp'],
  ];
  const argv = r.pick(forms)();
  if (r.chance(0.1) && argv.length) argv[r.int(argv.length)] = mutateString(r, argv[r.int(argv.length)]);
  return argv;
}

// ---- profiles ----

const SHIPPED = fs.readdirSync(path.join(ROOT, 'profiles')).filter((n) => n.endsWith('.json5')).sort()
  .map((n) => ({ name: n.slice(0, -6), text: fs.readFileSync(path.join(ROOT, 'profiles', n), 'utf8') }));

// Sections the shipped profiles don't use, so that mutation reaches their checks too.
const EXTRA = [
  '{ extends: "minimal", seccomp: { default: "allow", rules: [{ deny: ["ptrace", "@mount"], errno: "EPERM" }] } }',
  '{ limits: { memory: "1G", memorySwap: "0", cpus: 1.5, pids: 64, mode: "best-effort" }, capabilities: ["CAP_NET_ADMIN"] }',
  '{ extends: "desktop", sockets: { x11: "optional", "dbus-session": "optional" }, devices: { snd: "optional", video: "optional" } }',
  '{ extends: "minimal", filesystem: [{ symlink: "/x", target: "usr/bin" }, { chmod: "/tmp", mode: "0700" }, { "remount-ro": "/tmp" }, { mqueue: "/dev/mqueue" }, { tmpfs: "/run", size: "16M", mode: "0755" }, { dir: "/w", mode: "0700" }, { drop: "/etc/hosts" }], hostname: "box", uid: 0, gid: 0 }',
  '{ extends: "minimal", home: { base: "persist", share: [{ path: "Downloads", optional: true, readOnly: true }] }, env: { set: { A: "1", B: "${HOME}/x" }, unset: ["LANG"] }, newSession: true, dieWithParent: true, asPid1: false }',
];

const KEYS = ['asPid1', 'base', 'bind', 'capabilities', 'chmod', 'clear', 'cpus', 'cwd', 'dbus-session', 'description', 'dev', 'dev-bind', 'devices',
  'dieWithParent', 'dir', 'dri', 'drop', 'dst', 'env', 'extends', 'filesystem', 'gid', 'home', 'hostname', 'keep', 'limits', 'memory', 'memorySwap',
  'mirror', 'mode', 'mqueue', 'namespaces', 'network', 'newSession', 'nvidia', 'optional', 'path', 'pids', 'pipewire', 'proc', 'pulseaudio',
  'readOnly', 'remount-ro', 'ro-bind', 'seccomp', 'set', 'share', 'size', 'snd', 'sockets', 'symlink', 'target', 'tmpfs', 'uid', 'unset', 'video',
  'wayland', 'x11', 'bogus', '__proto__', 'constructor', 'default', 'rules', 'errno', 'deny', 'allow'];

function wrongValue(r, names) {
  switch (r.int(18)) {
    case 0: return r.int(1e6) - 5e5;
    case 1: return r.pick([1e309, -1e309, 2 ** 53 + 1, 1e21, -0, 0.5, Number.MAX_VALUE, 4294967296]);
    case 2: return r.pick([true, false, null]);
    case 3: return [];
    case 4: return {};
    case 5: return garbage(r);
    case 6: return r.pick(['0999', '0o777', '0x1ff', '09', '-0755', '99999', '7777777', '1777', '0755', '']);
    case 7: return r.pick(['1G', '-1M', '1.5T', '0', '99999999999999T', 'lots', '1e400']);
    case 8: return r.pick(['/usr', '/', '~', '~/x', '${HOME}', '${NOPE}', '${', '$${X}', '${CWD}/..', 'relative', '/a/../b', '/proc/self/root']);
    case 9: return [r.pick(['CAP_NET_ADMIN', 'bogus', 'ALL', 1, null])];
    case 10: return { [r.pick(KEYS)]: wrongValue(r, names) };
    case 11: return [{ [r.pick(KEYS)]: r.pick(['/x', '/usr', 1, null]) }];
    case 12: return r.pick(names);
    case 13: return r.pick(['private', 'shared', 'optional', 'required', 'tmpfs', 'host', 'persist', 'allow', 'deny', 'EPERM', 'strict', 'best-effort']);
    case 14: return r.pick(['NaN', 'Infinity', 'undefined', 'null', 'true']);
    case 15: { let v = []; for (let i = 0, d = r.int(60); i < d; i++) v = [v]; return v; }
    case 16: return 'x'.repeat(r.pick([1000, 70000]));
    default: return { path: wrongValue(r, names), optional: wrongValue(r, names), readOnly: r.pick([true, 'yes', 1]) };
  }
}

/** Every [container, key] in a parsed value, for picking a node to mutate. */
function slots(v, out = []) {
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      out.push([v, k]);
      slots(v[k], out);
    }
  }
  return out;
}

function mutateStructure(r, text, names) {
  let obj;
  try {
    obj = JSON5.parse(text);
  } catch {
    return text;
  }
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const all = slots(obj);
    const op = r.int(6);
    if (op === 0 || !all.length) {
      obj[r.pick(KEYS)] = wrongValue(r, names);
    } else {
      const [c, k] = r.pick(all);
      if (op === 1) c[k] = wrongValue(r, names);
      else if (op === 2) { if (Array.isArray(c)) c.splice(Number(k), 1); else delete c[k]; }
      else if (op === 3) { if (Array.isArray(c)) c.push(c[k]); else c[r.pick(KEYS)] = c[k]; }
      else if (op === 4) { if (c[k] && typeof c[k] === 'object' && !Array.isArray(c[k])) c[k][r.pick(KEYS)] = wrongValue(r, names); else c[k] = wrongValue(r, names); }
      else if (Array.isArray(c)) c.reverse();
      else c[k] = String(c[k]);
    }
  }
  let out = r.chance(0.5) ? JSON5.stringify(obj, null, 2) : JSON.stringify(obj, null, r.int(3));
  if (out === undefined) out = 'undefined';
  // Duplicate keys can only be made in text: repeat one "key: value," line.
  if (r.chance(0.15)) {
    const lines = out.split('\n');
    const i = r.int(lines.length);
    if (/:/.test(lines[i])) lines.splice(i, 0, lines[i].replace(/,?$/, ','));
    out = lines.join('\n');
  }
  return out;
}

function mutateText(r, text) {
  let s = text;
  const n = 1 + r.int(6);
  for (let i = 0; i < n; i++) {
    const p = r.int(s.length + 1);
    switch (r.int(8)) {
      case 0: s = s.slice(0, p) + s.slice(p + 1 + r.int(8)); break;
      case 1: s = s.slice(0, p) + s.slice(p, p + 1 + r.int(20)) + s.slice(p); break;
      case 2: { const q = r.int(s.length); const a = s[p] ?? ''; const b = s[q] ?? ''; s = s.slice(0, p) + b + s.slice(p + 1); s = s.slice(0, q) + a + s.slice(q + 1); break; }
      case 3: s = s.slice(0, p) + r.pick(WEIRD) + s.slice(p); break;
      case 4: s = s.slice(0, p); break;
      case 5: s = s.slice(0, p) + r.pick(['"', '//', '/*', '}', ']', ',', ':', 'null', '0x', '-', 'Infinity', '\\u00', "'"]) + s.slice(p); break;
      case 6: s = s.slice(0, p) + garbage(r) + s.slice(p); break;
      default: s = s.replace(/"[^"\n]*"/, () => JSON.stringify(garbage(r)));
    }
  }
  return s;
}

/** Nesting well past what a recursive reader can take: lists, objects, or a mix. */
function deepText(r) {
  // The loader's cost grows with depth; the deepest are rare so that npm test stays quick.
  const d = r.chance(0.1) ? r.pick([20000, 100000]) : r.pick([100, 1000, 3000, 5000]);
  const open = r.pick(['[', '{a:', '[{b:']);
  const close = open === '[' ? ']' : open === '{a:' ? '}' : '}]';
  const where = r.pick(['filesystem', 'env', 'seccomp', 'home', 'bogus', 'description']);
  return `{ ${where}: ${open.repeat(d)}1${close.repeat(d)} }`;
}

/**
 * A set of profile files (name → text) and the one to load. Most start from a shipped profile and are
 * mutated structurally or as text; some form `extends` cycles or chains through other generated files.
 */
function profileSet(r) {
  const names = ['p0', 'p1', 'p2'];
  const shippedNames = SHIPPED.map((s) => s.name);
  const files = {};
  const base = () => (r.chance(0.8) ? r.pick(SHIPPED).text : r.pick(EXTRA));
  for (const n of names) {
    const kind = r.int(10);
    let text = base();
    if (kind < 4) text = mutateStructure(r, text, [...names, ...shippedNames]);
    else if (kind < 7) text = mutateText(r, text);
    else if (kind < 8) text = mutateText(r, mutateStructure(r, text, [...names, ...shippedNames]));
    else if (kind < 9) {
      // extends chains and cycles among the generated files
      const target = r.pick([...names, ...shippedNames, './p1.json5', 'p0.json5', '../p0.json5', '', 'nonexistent', '/p2.json5', garbage(r)]);
      text = text.replace(/extends:\s*"[^"]*"/, `extends: ${JSON.stringify(target)}`);
      if (!/extends/.test(text)) text = text.replace(/^\{/m, `{ extends: ${JSON.stringify(target)},`);
    } else text = r.chance(0.1) ? deepText(r) : r.pick(['', '{}', '[]', 'null', '1', '"x"', '{', '\u0000', '\ufeff{}', '{ extends: ["p1", "p2"] }', '{ extends: "p0" }']);
    files[n] = text;
  }
  return { files, main: 'p0' };
}

module.exports = { prng, runArgv, globalArgv, profileSet, garbage, SHIPPED };
