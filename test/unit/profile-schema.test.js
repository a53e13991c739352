'use strict';
// schema/profile.schema.json (for editors) against the validator (lib/profile): the same keys in every
// section, and the same verdict on every shipped profile and on a set of good and bad samples.
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const JSON5 = require('json5');
const dist = fs.existsSync(path.join(__dirname, '../../dist/lib')) ? '../../dist/lib' : '../../dist';
const P = require(`${dist}/profile`);
const T = require(`${dist}/profile/tables`);

const root = path.join(__dirname, '../..');
const schema = JSON.parse(fs.readFileSync(path.join(root, 'schema/profile.schema.json'), 'utf8'));

/** A small validator for the draft-07 keywords the schema uses; any other keyword fails loudly. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description']);
function typeOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}
function validate(s, v, at = '$') {
  const errors = [];
  const sub = (ss, vv, aa) => errors.push(...validate(ss, vv, aa));
  for (const [k, x] of Object.entries(s)) {
    if (ANNOTATIONS.has(k) || k === 'definitions') continue;
    switch (k) {
      case '$ref': sub(x.split('/').slice(1).reduce((o, p) => o[p], schema), v, at); break;
      case 'type': {
        const types = [].concat(x);
        const ty = typeOf(v);
        if (!types.includes(ty) && !(ty === 'integer' && types.includes('number'))) errors.push(`${at}: type ${ty}, not ${types}`);
        break;
      }
      case 'enum': if (!x.includes(v)) errors.push(`${at}: not in enum`); break;
      case 'pattern': if (typeof v === 'string' && !new RegExp(x, 'u').test(v)) errors.push(`${at}: pattern`); break;
      case 'minLength': if (typeof v === 'string' && v.length < x) errors.push(`${at}: minLength`); break;
      case 'minimum': if (typeof v === 'number' && v < x) errors.push(`${at}: minimum`); break;
      case 'maximum': if (typeof v === 'number' && v > x) errors.push(`${at}: maximum`); break;
      case 'exclusiveMinimum': if (typeof v === 'number' && v <= x) errors.push(`${at}: exclusiveMinimum`); break;
      case 'required': if (typeOf(v) === 'object') for (const r of x) if (!(r in v)) errors.push(`${at}: missing ${r}`); break;
      case 'properties': if (typeOf(v) === 'object') for (const [p, ps] of Object.entries(x)) if (p in v) sub(ps, v[p], `${at}.${p}`); break;
      case 'additionalProperties':
        if (typeOf(v) === 'object') {
          for (const [p, pv] of Object.entries(v)) {
            if (s.properties && p in s.properties) continue;
            if (x === false) errors.push(`${at}: extra key ${p}`);
            else if (typeof x === 'object') sub(x, pv, `${at}.${p}`);
          }
        }
        break;
      case 'propertyNames': if (typeOf(v) === 'object') for (const p of Object.keys(v)) sub(x, p, `${at}[key ${p}]`); break;
      case 'items': if (Array.isArray(v)) v.forEach((e, i) => sub(x, e, `${at}[${i}]`)); break;
      case 'anyOf': if (!x.some((ss) => validate(ss, v, at).length === 0)) errors.push(`${at}: matches none of anyOf`); break;
      case 'oneOf': {
        const n = x.filter((ss) => validate(ss, v, at).length === 0).length;
        if (n !== 1) errors.push(`${at}: matches ${n} of oneOf`);
        break;
      }
      default: throw new Error(`schema keyword ${k} at ${at} is not understood by the test's validator`);
    }
  }
  return errors;
}

const keysOf = (s) => Object.keys(s.properties).sort();
const sorted = (a) => [...a].sort();

t.test('the schema and the validator allow the same keys', async (t) => {
  const props = schema.properties;
  t.same(keysOf(schema), sorted(T.TOP_KEYS), 'top level');
  t.same(keysOf(props.namespaces), sorted(T.NAMESPACES_KEYS), 'namespaces');
  t.same(props.namespaces.properties.network.enum, [...T.NETWORK_VALUES]);
  t.same(keysOf(props.env), sorted(T.ENV_KEYS), 'env');
  const homeObj = props.home.anyOf.find((s) => s.type === 'object');
  t.same(props.home.anyOf.find((s) => s.enum).enum, [...T.HOME_BASES]);
  t.same(keysOf(homeObj), sorted(T.HOME_KEYS), 'home');
  t.same(homeObj.properties.base.enum, [...T.HOME_BASES]);
  t.same(keysOf(homeObj.properties.share.items.anyOf.find((s) => s.type === 'object')), sorted(T.HOME_SHARE_KEYS), 'home.share');
  t.same(keysOf(props.limits), sorted(T.LIMITS_KEYS), 'limits');
  t.same(props.limits.properties.mode.enum.filter((x) => x !== null), [...T.LIMITS_MODES]);
  t.same(keysOf(props.devices), sorted(T.DEVICE_NAMES), 'devices');
  t.same(keysOf(props.sockets), sorted(T.SOCKET_NAMES), 'sockets');
  t.same(schema.definitions.want.enum, [...T.WANT_VALUES]);
  const ops = schema.definitions.fsEntry.oneOf;
  t.same(ops.map((o) => o.title).sort(), sorted(T.FS_OP_NAMES), 'filesystem operations');
  for (const o of ops) {
    t.same(keysOf(o), sorted([o.title, ...T.FS_OPS[o.title]]), `keys of ${o.title}`);
    t.same(o.required, [o.title, ...(T.FS_REQUIRED[o.title] || [])], `required keys of ${o.title}`);
  }
});

/** Both verdicts on one profile text: the validator's (null or the message) and the schema's errors. */
function verdicts(t, text) {
  const dir = t.testdir({ 'x.json5': text });
  const ctx = { env: {}, cwd: dir, uid: 1, gid: 1, exists: fs.existsSync, shippedDir: dir, userDir: dir };
  let validator = null;
  try {
    P.checkProfile(path.join(dir, 'x.json5'), ctx);
  } catch (e) {
    validator = e.message;
  }
  return { validator, schema: validate(schema, JSON5.parse(text)) };
}

t.test('every shipped profile passes both', async (t) => {
  const dir = path.join(root, 'profiles');
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json5'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    t.same(validate(schema, JSON5.parse(text)), [], `${f}: schema`);
    t.doesNotThrow(() => P.checkProfile(path.join(dir, f), { env: {}, cwd: '/', uid: 1, gid: 1, exists: fs.existsSync, shippedDir: dir, userDir: '/nonexistent' }), `${f}: validator`);
  }
});

const GOOD = [
  '{}',
  '{ description: "d", namespaces: { network: "shared", uid: 0, gid: 0 }, hostname: "box-1", cwd: "~/x", newSession: true, dieWithParent: false, asPid1: false }',
  '{ filesystem: [ { bind: "/a", dst: "/b", optional: true }, { "ro-bind": "/c" }, { "dev-bind": "/dev/dri" }, { tmpfs: "/t", size: "64M", mode: "1777" }, { tmpfs: "/u", size: 4096 } ] }',
  '{ filesystem: [ { proc: "/proc" }, { dev: "/dev" }, { mqueue: "/dev/mqueue" }, { dir: "/d", mode: "0700" }, { symlink: "/bin", target: "usr/bin" }, { chmod: "/d", mode: "755" }, { "remount-ro": "/d" }, { mirror: "/lib64", optional: true }, { drop: "/t" } ] }',
  '{ env: { clear: true, keep: ["PATH", "SLURM_*", "!SSH_*"], set: { A: "1", B: null }, unset: ["X", "!Y"] } }',
  '{ capabilities: ["net_admin", "CAP_SYS_PTRACE", "!CAP_NET_RAW"] }',
  '{ home: "persist" }',
  '{ home: { base: "host", readOnly: false, share: ["Downloads", "!Music", { path: ".ssh", readOnly: true, optional: true }] } }',
  '{ devices: { dri: true, snd: false, video: "optional", nvidia: "optional" }, sockets: { x11: true, wayland: false, pulseaudio: "optional", pipewire: true, "dbus-session": "optional" } }',
  '{ seccomp: { default: "allow", rules: [{ deny: ["@mount"] }] }, limits: { memory: "2G", memorySwap: "1.5G", cpus: 1.5, pids: 256, mode: "best-effort" } }',
  '{ seccomp: null, limits: null }',
  '{ limits: { memory: null, mode: null, pids: null } }',
  '{ limits: { memory: 1, memorySwap: "0", cpus: 0.01 } }',
  '{ limits: { memory: "0.5K", memorySwap: 0, cpus: 4096 } }',
];
const BAD = [
  '{ filesytem: [] }',
  '{ namespaces: { network: "host" } }',
  '{ namespaces: { uid: -1 } }',
  '{ namespaces: { uid: 1.5 } }',
  '{ hostname: "bad host" }',
  '{ hostname: 3 }',
  '{ filesystem: [ { bind: "/a", size: "1M" } ] }',
  '{ filesystem: [ { bind: "/a", tmpfs: "/b" } ] }',
  '{ filesystem: [ { optional: true } ] }',
  '{ filesystem: [ { symlink: "/bin" } ] }',
  '{ filesystem: [ { chmod: "/bin" } ] }',
  '{ filesystem: [ { tmpfs: "/t", size: "64Q" } ] }',
  '{ filesystem: [ { tmpfs: "/t", size: "1.5" } ] }',
  '{ filesystem: [ { tmpfs: "/t", mode: "0855" } ] }',
  '{ filesystem: [ { tmpfs: "/t", mode: 493 } ] }',
  '{ filesystem: [ { bind: "" } ] }',
  '{ env: { keep: ["A-B"] } }',
  '{ env: { set: { A: 1 } } }',
  '{ env: { unset: ["A*"] } }',
  '{ env: { bogus: true } }',
  '{ capabilities: ["net admin"] }',
  '{ home: "ram" }',
  '{ home: { base: "tmpfs", share: [{ readOnly: true }] } }',
  '{ home: { share: [{ path: "a", extra: 1 }] } }',
  '{ devices: { gpu: true } }',
  '{ devices: { dri: "yes" } }',
  '{ sockets: { ssh: true } }',
  '{ seccomp: [] }',
  '{ seccomp: "strict" }',
  '{ limits: { memory: "2 gigs" } }',
  '{ limits: { cpus: 0 } }',
  '{ limits: { cpus: 0.001 } }',
  '{ limits: { cpus: 5000 } }',
  '{ limits: { memory: "0" } }',
  '{ limits: { memory: 0 } }',
  '{ limits: { memory: "0.0G" } }',
  '{ limits: { memory: "1.5" } }',
  '{ limits: { pids: 0 } }',
  '{ limits: { mode: "lenient" } }',
  '{ extends: 3 }',
  '{ newSession: "yes" }',
];

t.test('good samples pass both, bad samples fail both', async (t) => {
  for (const text of GOOD) {
    const v = verdicts(t, text);
    t.same(v, { validator: null, schema: [] }, `good: ${text}`);
  }
  for (const text of BAD) {
    const v = verdicts(t, text);
    t.ok(v.validator, `validator refuses ${text}: ${v.validator}`);
    t.ok(v.schema.length > 0, `schema refuses ${text}: ${v.schema[0]}`);
  }
});
