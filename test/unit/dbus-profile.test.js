'use strict';
// The profile's dbus section: names and rules checked with FILE:LINE:COL, merged over extends, turned
// into xdg-dbus-proxy's arguments; the schema's patterns are the validator's; the proxy's socket
// directories are named by the monitor's pid and removed once it is gone.
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const dist = fs.existsSync(path.join(__dirname, '../../dist/lib')) ? '../../dist/lib' : '../../dist';
const P = require(`${dist}/profile`);
const R = require(`${dist}/session/dbus-rules`);
const D = require(`${dist}/session/dbus-proxy`);
const T = require(`${dist}/profile/tables`);

function setup(t, files, env = {}) {
  const dir = t.testdir({ shipped: files, user: {} });
  const ctx = {
    env: { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000', ...env },
    cwd: '/home/u/proj', uid: 1000, gid: 1000,
    exists: (p) => fs.existsSync(p),
    shippedDir: path.join(dir, 'shipped'), userDir: path.join(dir, 'user'), dataDir: path.join(dir, 'data'),
    listDir: () => [], readLink: () => null,
  };
  return { ctx, file: path.join(dir, 'shipped', 'p.json5') };
}
const load = (t, files, env) => P.loadProfile('p', setup(t, files, env).ctx).spec;
function errorOf(t, text) {
  const { ctx, file } = setup(t, { 'p.json5': text });
  try {
    P.loadProfile('p', ctx);
  } catch (e) {
    t.notMatch(e.message, /\n/, 'one line');
    return e.message.split(file).join('P');
  }
  t.fail('no error');
  return '';
}

t.test('a section becomes the spec\'s dbus', async (t) => {
  const spec = load(t, { 'p.json5': '{ dbus: { see: ["org.a.See"], talk: ["org.a.Talk"], own: ["org.a.Own", "org.a.Own.*"], call: { "org.a.C": ["*", "org.a.I.*@/org/a", "org.a.I.M@/org/a/*"] }, broadcast: { "org.a.B": ["org.a.I.Sig@/"] } } }' });
  t.same(spec.dbus, { see: ['org.a.See'], talk: ['org.a.Talk'], own: ['org.a.Own', 'org.a.Own.*'], call: { 'org.a.C': ['*', 'org.a.I.*@/org/a', 'org.a.I.M@/org/a/*'] }, broadcast: { 'org.a.B': ['org.a.I.Sig@/'] }, optional: false, origin: spec.dbus.origin });
  t.match(spec.dbus.origin, /p\.json5:1:9$/);
  t.same(R.dbusProxyArgs(spec.dbus, 'unix:path=/run/user/1000/bus', '/s/bus'), [
    'unix:path=/run/user/1000/bus', '/s/bus', '--filter',
    '--see=org.a.See', '--talk=org.a.Talk', '--own=org.a.Own', '--own=org.a.Own.*',
    '--call=org.a.C=*', '--call=org.a.C=org.a.I.*@/org/a', '--call=org.a.C=org.a.I.M@/org/a/*',
    '--broadcast=org.a.B=org.a.I.Sig@/',
  ]);
  t.equal(load(t, { 'p.json5': '{}' }).dbus, undefined, 'no section, no bus');
});

t.test('extends: lists append with "!NAME", rules replace per name, null removes', async (t) => {
  const files = {
    'base.json5': '{ dbus: { talk: ["org.a.T", "org.a.U"], call: { "org.a.C": ["*"], "org.a.D": ["*"] }, optional: true } }',
    'p.json5': '{ extends: "base", dbus: { talk: ["!org.a.U", "org.a.V"], call: { "org.a.C": ["org.a.I.M"], "org.a.D": null } } }',
  };
  const d = load(t, files).dbus;
  t.same(d.talk, ['org.a.T', 'org.a.V']);
  t.same(d.call, { 'org.a.C': ['org.a.I.M'] });
  t.equal(d.optional, true, 'inherited');
  t.equal(load(t, { ...files, 'p.json5': '{ extends: "base", dbus: null }' }).dbus, undefined, 'null drops the section');
});

t.test('errors name the place and what was expected', async (t) => {
  t.match(errorOf(t, '{ dbus: { talk: [":1.5"] } }'), /^P:1:18: found ":1\.5", expected a well-known bus name/);
  t.match(errorOf(t, '{ dbus: { see: ["org"] } }'), /^P:1:17: found "org", expected a well-known bus name/);
  t.match(errorOf(t, '{ dbus: {\n  call: { "org.a": ["org.a.M@/x/"] } } }'), /^P:2:21: found "org\.a\.M@\/x\/", expected a rule "METHOD\[@PATH\]"/);
  t.match(errorOf(t, '{ dbus: { call: { "1org.a": ["*"] } } }'), /^P:1:19: found "1org\.a", expected a well-known bus name/);
  t.match(errorOf(t, '{ dbus: { call: { "org.a": [] } } }'), /^P:1:28: found an empty list of rules/);
  t.match(errorOf(t, '{ dbus: { talk: "org.a.B" } }'), /^P:1:17: found "org\.a\.B", expected a list/);
  t.match(errorOf(t, '{ dbus: { system: true } }'), /^P:1:11: found unknown key "system" in "dbus", expected one of: see, talk, own, call, broadcast, optional/);
  t.match(errorOf(t, '{ sockets: { "dbus-session": true }, dbus: { talk: ["org.a.B"] } }'), /^P:1:30: found sockets "dbus-session" beside a dbus section \(P:1:44\), expected one of them/);
});

t.test('rules: the proxy\'s forms', async (t) => {
  for (const ok of ['*', 'org.a.*', 'org.a.M', '*@/', '*@/*', 'org.a.M@/o/p', 'org.a.I.*@/o/*']) t.equal(R.ruleProblem(ok), null, ok);
  for (const bad of ['', 'M', 'org.M', '@/o', 'org.a.M@o', 'org.a.M@/o//p', 'org.a.M@/o/', 'org.a.M@/o/p*', 'a b.c.M']) t.ok(R.ruleProblem(bad), `refused: ${bad}`);
  for (const ok of ['org.a', 'org.a-b.C_d', 'org.a.*', 'a.*']) t.equal(R.busNameProblem(ok), null, ok);
  for (const bad of ['org', ':1.0', 'org..a', '.org.a', 'org.1a', 'org.*.a', '*', 'org.a.']) t.ok(R.busNameProblem(bad), `refused: ${bad}`);
});

t.test('the schema holds the validator\'s keys and patterns', async (t) => {
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../schema/profile.schema.json'), 'utf8'));
  const d = schema.properties.dbus;
  t.same(Object.keys(d.properties).sort(), [...T.DBUS_KEYS].sort());
  t.equal(d.properties.call.propertyNames.pattern, R.BUS_NAME_PATTERN);
  t.equal(d.properties.call.additionalProperties.anyOf[0].items.pattern, R.RULE_PATTERN);
  t.equal(d.properties.talk.items.pattern, '^!?' + R.BUS_NAME_PATTERN.slice(1));
});

t.test('the session bus address', async (t) => {
  t.same(R.sessionBusPath({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1/bus' }), { path: '/run/user/1/bus', address: 'unix:path=/run/user/1/bus' });
  t.same(R.sessionBusPath({ DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/x;unix:guid=1,path=/a%20b' }), { path: '/a b', address: 'unix:path=/a b' });
  t.match(R.sessionBusPath({ DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/x' }), { missing: /no unix:path=/ });
  t.same(R.sessionBusPath({ XDG_RUNTIME_DIR: '/run/user/1/' }), { path: '/run/user/1/bus', address: 'unix:path=/run/user/1/bus' });
  t.match(R.sessionBusPath({}), { missing: /both unset/ });
});

t.test('socket directories: private, and removed once their monitor is gone', async (t) => {
  const rt = t.testdir({});
  const uid = process.getuid();
  const base = D.proxyBaseDir({ XDG_RUNTIME_DIR: rt }, uid);
  t.equal(base, path.join(rt, 'sandbox'));
  t.equal(fs.statSync(base).mode & 0o777, 0o700);
  // a pid that can't exist (above pid_max's ceiling) and our own
  fs.mkdirSync(path.join(base, 'dbus-4194305-ab12'));
  fs.mkdirSync(path.join(base, `dbus-${process.pid}-cd34`));
  fs.mkdirSync(path.join(base, 'other'));
  t.same(D.removeStaleProxyDirs(base), ['dbus-4194305-ab12']);
  t.same(fs.readdirSync(base).sort(), [`dbus-${process.pid}-cd34`, 'other']);
  fs.chmodSync(base, 0o755);
  t.throws(() => D.proxyBaseDir({ XDG_RUNTIME_DIR: rt }, uid), /not a directory owned by uid \d+ with mode 0700/);
});

t.test('described, not started: the bind and variable a run would get', async (t) => {
  const rt = t.testdir({});
  const spec = { see: [], talk: [], own: [], call: {}, broadcast: {}, optional: false, origin: 'p:1:1' };
  t.throws(() => D.describeDbusProxy(spec, { XDG_RUNTIME_DIR: rt }, { pid: 7, uid: 1 }), /^p:1:1: found no session bus on this host \(.*\/bus: No such file or directory\), expected one for the dbus section; write optional: true in dbus to run without it$/);
  t.same(D.describeDbusProxy({ ...spec, optional: true }, { XDG_RUNTIME_DIR: rt }, { pid: 7, uid: 1 }).mounts, []);
});
