'use strict';
// Loading profiles: the shipped set on this host, lookup order, extends and merge rules, removal of
// inherited entries, variables, home modes, device sets, sockets, and the spec that comes out.
const t = require('tap');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dist = fs.existsSync(path.join(__dirname, '../../dist/lib')) ? '../../dist/lib' : '../../dist';
const P = require(`${dist}/profile`);

const SHIPPED = path.join(__dirname, '../../profiles');

function setup(t, { shipped = {}, user = {}, env = {}, paths = [], dev = [], links = {}, programPath } = {}) {
  const dir = t.testdir({ shipped, user });
  const ctx = {
    env: { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000', ...env },
    cwd: '/home/u/proj',
    uid: 1000,
    gid: 1000,
    programPath,
    exists: (p) => fs.existsSync(p) || paths.includes(p),
    shippedDir: path.join(dir, 'shipped'),
    userDir: path.join(dir, 'user'),
    dataDir: path.join(dir, 'data'),
    listDir: () => dev,
    readLink: (p) => links[p] ?? null,
  };
  return { dir, ctx };
}
/** exists() with the X sockets and lock files of this host replaced by these. */
const hostX = (exists, xs) => (p) => (p.startsWith('/tmp/.X') ? xs.includes(p) : exists(p));
const mount = (spec, dst) => spec.mounts.filter((m) => m.dst === dst || m.path === dst);

t.test('every shipped profile loads on this host, with this process\'s environment', async (t) => {
  const ctx = P.hostProfileContext('/usr/bin/true');
  t.equal(ctx.shippedDir, path.resolve(SHIPPED), 'the shipped dir is found from the compiled module');
  const names = fs.readdirSync(SHIPPED).filter((n) => n.endsWith('.json5')).map((n) => n.slice(0, -6));
  t.same(names.sort(), ['browser', 'build', 'chromium', 'default', 'desktop', 'editor', 'hpc', 'image', 'minimal', 'notify', 'pdf']);
  // Run from a project-like directory so that ${CWD} is never "/".
  ctx.cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'proj-'));
  ctx.userDir = path.join(ctx.cwd, 'no-user-profiles');
  for (const name of names) {
    const l = P.loadProfile(name, ctx);
    t.equal(l.name, name);
    t.ok(l.spec.mounts.length > 10, `${name}: ${l.spec.mounts.length} mounts`);
    for (const m of l.spec.mounts) {
      t.match(m.origin, /\.json5:\d+:\d+$/, `${name}: origin of ${m.op} ${m.dst ?? m.path}`);
      for (const k of ['src', 'dst', 'path']) if (m[k] !== undefined) t.ok(path.isAbsolute(m[k]), `${name}: ${k} ${m[k]} absolute`);
    }
    t.equal(mount(l.spec, '/usr')[0].readOnly, true, `${name}: /usr read-only`);
  }
  const minimal = P.loadProfile('minimal', ctx).spec;
  t.equal(minimal.shareNet, false);
  t.same(mount(minimal, '/bin'), [{ op: 'symlink', target: 'usr/bin', dst: '/bin', origin: `${SHIPPED}/minimal.json5:10:5`.replace(SHIPPED, path.resolve(SHIPPED)) }], 'merged-/usr: /bin mirrored as a symlink');
  t.equal(minimal.env.clear, true);
  const def = P.loadProfile('default', ctx).spec;
  t.equal(def.cwd, ctx.cwd);
  t.match(mount(def, ctx.cwd), [{ op: 'bind', src: ctx.cwd, readOnly: false }]);
  t.match(mount(def, '/tmp'), [{ op: 'tmpfs', mode: 0o1777 }]);
  const hpc = P.loadProfile('hpc', ctx).spec;
  t.equal(hpc.shareNet, true);
  t.match(mount(hpc, '/tmp'), [{ op: 'tmpfs', mode: 0o1777 }], 'hpc keeps minimal\'s private /tmp (the host\'s holds tmux, ssh-agent and X11 sockets)');
  t.same(hpc.mounts.filter((m) => /^\/(run|etc)\/munge|^\/dev\/shm|^\/tmp$/.test(m.src ?? '')), [], 'no host /tmp, /dev/shm or MUNGE');
  t.ok(hpc.env.keep.includes('SLURM_*') && hpc.env.keep.includes('PATH'));
  const browser = P.loadProfile('browser', ctx);
  t.equal(browser.spec.shareNet, true);
  t.match(browser.persistHome, /\/sandbox\/homes\/browser$/);
  t.match(mount(browser.spec, os.homedir() + '/Downloads'), [{ op: 'bind', optional: true, readOnly: false }]);
  fs.rmSync(ctx.cwd, { recursive: true });
});

t.test('lookup: a user profile wins by name and may extend the shipped one of the same name', async (t) => {
  const { ctx } = setup(t, {
    shipped: { 'base.json5': '{ description: "shipped base", hostname: "shipped" }' },
    user: { 'base.json5': '{ description: "mine", extends: "base", cwd: "/w" }' },
  });
  const l = P.loadProfile('base', ctx);
  t.equal(l.file, path.join(ctx.userDir, 'base.json5'));
  t.equal(l.spec.hostname, 'shipped', 'inherited from the shipped base');
  t.equal(l.spec.cwd, '/w');
  t.same(l.resolved.chain, [path.join(ctx.shippedDir, 'base.json5'), path.join(ctx.userDir, 'base.json5')]);
  t.equal(l.resolved.doc.description.value, 'mine');
  // Paths: relative to the cwd on the command line, relative to the file in extends.
  fs.mkdirSync(path.join(ctx.userDir, 'sub'));
  fs.writeFileSync(path.join(ctx.userDir, 'sub', 'x.json5'), '{ extends: "../base.json5" }');
  const x = P.loadProfile(path.join(ctx.userDir, 'sub', 'x.json5'), ctx);
  t.equal(x.name, 'x');
  t.equal(x.spec.cwd, '/w');
});

t.test('merge rules: lists append, maps merge, the child wins on scalars; each file once', async (t) => {
  const { ctx } = setup(t, {
    shipped: {
      'a.json5': `{ hostname: "a", namespaces: { network: "private", uid: 0 },
        filesystem: [ { tmpfs: "/a" } ], capabilities: ["net_admin"],
        env: { clear: true, keep: ["PATH"], set: { A: "1", B: "2" } },
        limits: { memory: "1G", pids: 100 }, sockets: { x11: "optional" } }`,
      'b.json5': `{ extends: "a", hostname: "b", filesystem: [ { tmpfs: "/b" } ], env: { keep: ["LANG"], set: { B: "b" } } }`,
      'c.json5': `{ extends: "a", filesystem: [ { tmpfs: "/c" } ], limits: { memory: "2G", mode: "best-effort" } }`,
      'd.json5': `{ extends: ["b", "c"], namespaces: { network: "shared" }, env: { set: { C: "3" } }, capabilities: ["CAP_SYS_PTRACE"] }`,
    },
  });
  const l = P.loadProfile('d', ctx);
  t.same(l.resolved.chain.map((f) => path.basename(f)), ['a.json5', 'b.json5', 'c.json5', 'd.json5'], 'the shared base once, first');
  t.same(l.spec.mounts.map((m) => m.dst), ['/a', '/b', '/c']);
  t.equal(l.spec.hostname, 'b');
  t.equal(l.spec.shareNet, true);
  t.equal(l.spec.uid, 0);
  t.same(l.spec.capAdd, ['CAP_NET_ADMIN', 'CAP_SYS_PTRACE']);
  t.same(l.spec.env, { clear: true, keep: ['PATH', 'LANG'], set: { A: '1', B: 'b', C: '3' }, unset: [] });
  // Each limit keeps the position of its own value: pids from a.json5, memory and mode from c.json5.
  const at = (f, line, col) => `${ctx.shippedDir}/${f}:${line}:${col}`;
  t.same(l.spec.limits, {
    memory: { value: 2 * 1024 ** 3, origin: at('c.json5', 1, 68), from: 'profile' },
    pids: { value: 100, origin: at('a.json5', 4, 39), from: 'profile' },
    mode: { value: 'best-effort', origin: at('c.json5', 1, 80), from: 'profile' },
  });
});

t.test('removing inherited entries', async (t) => {
  const { ctx } = setup(t, {
    shipped: {
      'base.json5': `{ filesystem: [ { tmpfs: "/tmp" }, { "ro-bind": "/usr" }, { bind: "/data", dst: "~/data" } ],
        env: { keep: ["PATH", "SSH_*"], set: { A: "1" }, unset: ["X"] }, capabilities: ["net_raw"],
        limits: { memory: "1G", pids: 10 }, seccomp: { defaultAction: "allow" },
        home: { base: "tmpfs", share: ["Downloads", ".ssh"] }, devices: { dri: "optional" } }`,
      'child.json5': `{ extends: "base", filesystem: [ { drop: "/tmp" }, { bind: "/tmp" }, { drop: "$HOME/data" } ],
        env: { keep: ["!SSH_*"], set: { A: null }, unset: ["!X"] }, capabilities: ["!CAP_NET_RAW"],
        limits: { memory: null }, seccomp: null, home: { share: ["!.ssh"] }, devices: { dri: false } }`,
    },
  });
  const l = P.loadProfile('child', ctx);
  t.same(l.spec.mounts.map((m) => `${m.op} ${m.dst}`), ['tmpfs /home/u', 'bind /home/u/Downloads', 'bind /usr', 'bind /tmp']);
  t.same(l.spec.env, { clear: false, keep: ['PATH'], set: {}, unset: [] });
  t.same(l.spec.capAdd, []);
  t.same(l.spec.limits, { pids: { value: 10, origin: `${ctx.shippedDir}/base.json5:3:39`, from: 'profile' } });
  t.equal(l.spec.seccomp, null);
  t.same(l.resolved.doc.filesystem.map((f) => f.op), ['ro-bind', 'bind'], 'show lists what survived');
  const noLimits = setup(t, { shipped: { 'b.json5': '{ limits: { pids: 5 } }', 'c.json5': '{ extends: "b", limits: null }' } });
  t.equal(P.loadProfile('c', noLimits.ctx).spec.limits, null);
});

t.test('variables', async (t) => {
  const { ctx } = setup(t, {
    env: { SCRATCH: '/scratch/u', EMPTY: '' },
    programPath: '/opt/app/bin/app',
    shipped: {
      'v.json5': `{ cwd: "\${CWD}", filesystem: [
        { bind: "~" , dst: "/h"},
        { bind: "$SCRATCH/run", dst: "\${SCRATCH}/x/../y/" },
        { bind: "\${NOPE:-/fallback}" },
        { bind: "\${EMPTY:-/empty-means-unset}" },
        { "ro-bind": "\${PROGRAM_DIR}/../lib", dst: "/app/lib" },
        { "ro-bind": "\${PROGRAM}", dst: "/app/prog" },
        { bind: "\${UNSET_OPTIONAL}/x", optional: true },
        { symlink: "/cost$$", target: "rel/\${USER:-nobody}" },
      ], env: { set: { WHERE: "\${CWD}:$HOME", LIT: "a$$b" } } }`,
    },
  });
  const s = P.loadProfile('v', ctx).spec;
  t.equal(s.cwd, '/home/u/proj');
  t.same(s.mounts.map((m) => [m.src ?? m.target, m.dst]), [
    ['/home/u', '/h'],
    ['/scratch/u/run', '/scratch/u/y'],
    ['/fallback', '/fallback'],
    ['/empty-means-unset', '/empty-means-unset'],
    ['/opt/app/lib', '/app/lib'],
    ['/opt/app/bin/app', '/app/prog'],
    ['rel/nobody', '/cost$'],
  ], 'optional entries with unset variables are left out');
  t.same(s.env.set, { WHERE: '/home/u/proj:/home/u', LIT: 'a$b' });
});

t.test('home modes', async (t) => {
  const { ctx } = setup(t, {
    shipped: {
      't.json5': '{ home: "tmpfs" }',
      'p.json5': '{ home: { base: "persist", share: [{ path: "Downloads", optional: true }] } }',
      'h.json5': '{ home: "host" }',
      'hw.json5': '{ home: { base: "host", readOnly: false } }',
      's.json5': '{ home: { share: ["Music", { path: "Pictures", readOnly: true }] } }',
      'n.json5': '{ home: "none" }',
    },
  });
  t.same(P.loadProfile('t', ctx).spec.mounts, [{ op: 'tmpfs', dst: '/home/u', size: 0, mode: 0o700, origin: `${ctx.shippedDir}/t.json5:1:9` }]);
  const p = P.loadProfile('p', ctx);
  t.equal(p.persistHome, path.join(ctx.dataDir, 'sandbox/homes/p'));
  t.match(p.spec.mounts, [{ op: 'bind', src: p.persistHome, dst: '/home/u', readOnly: false }, { src: '/home/u/Downloads', dst: '/home/u/Downloads', optional: true }]);
  t.notOk(fs.existsSync(p.persistHome), 'loading writes nothing');
  P.ensureProfileDirs(p);
  t.equal(fs.statSync(p.persistHome).mode & 0o7777, 0o700, 'ensureProfileDirs creates it 0700');
  P.ensureProfileDirs(p);
  t.match(P.loadProfile('h', ctx).spec.mounts, [{ op: 'bind', src: '/home/u', dst: '/home/u', readOnly: true }]);
  t.match(P.loadProfile('hw', ctx).spec.mounts, [{ op: 'bind', readOnly: false }]);
  t.match(P.loadProfile('s', ctx).spec.mounts, [{ op: 'tmpfs', dst: '/home/u' }, { src: '/home/u/Music', readOnly: false }, { src: '/home/u/Pictures', readOnly: true }], 'shares without a base get a tmpfs home');
  t.same(P.loadProfile('n', ctx).spec.mounts, []);
  // XDG_DATA_HOME decides where persistent homes live when no dataDir is given.
  delete ctx.dataDir;
  ctx.env.XDG_DATA_HOME = '/data';
  t.equal(P.loadProfile('p', ctx).persistHome, '/data/sandbox/homes/p');
  delete ctx.env.XDG_DATA_HOME;
  t.equal(P.loadProfile('p', ctx).persistHome, '/home/u/.local/share/sandbox/homes/p');
});

t.test('the home is mounted after the entries that would cover it and before the rest', async (t) => {
  const { ctx } = setup(t, {
    env: { HOME: '/tmp/h' },
    shipped: { 'o.json5': '{ home: "tmpfs", filesystem: [ { "ro-bind": "/usr" }, { tmpfs: "/tmp" }, { bind: "/data", dst: "/tmp/h/data" }, { tmpfs: "/tmp/h" } ] }' },
  });
  t.same(P.loadProfile('o', ctx).spec.mounts.map((m) => `${m.op} ${m.dst}`), ['tmpfs /tmp', 'tmpfs /tmp/h', 'bind /usr', 'bind /tmp/h/data', 'tmpfs /tmp/h']);
});

t.test('devices bind what exists', async (t) => {
  const { ctx } = setup(t, {
    paths: ['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/dri'],
    dev: ['nvidia0', 'nvidia1', 'nvidia-uvm', 'video0', 'null', 'nvidiactl'],
    shipped: { 'd.json5': '{ devices: { nvidia: true, dri: true, video: "optional", snd: "optional" } }' },
  });
  const s = P.loadProfile('d', ctx).spec;
  t.same(s.mounts.map((m) => `${m.op} ${m.src} ${m.devices}`), [
    'bind /dev/nvidiactl true', 'bind /dev/nvidia-uvm true', 'bind /dev/nvidia0 true', 'bind /dev/nvidia1 true',
    'bind /dev/dri true', 'bind /dev/video0 true',
  ]);
});

t.test('sockets bind the host socket and set the variable; pulseaudio goes to the proxy', async (t) => {
  const { ctx } = setup(t, {
    env: { DISPLAY: ':1.0', WAYLAND_DISPLAY: 'wayland-1', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus,guid=abc' },
    paths: ['/tmp/.X11-unix/X1', '/run/user/1000/wayland-1', '/run/user/1000/pulse/native', '/run/user/1000/bus'],
    shipped: { 's.json5': '{ sockets: { x11: true, wayland: true, pulseaudio: true, "dbus-session": true } }' },
  });
  const asked = [];
  ctx.x11Cookie = (display, hostAuth) => { asked.push([display, hostAuth]); return { cookie: Buffer.from('untrusted') }; };
  ctx.dataFd = () => 99;
  ctx.abstractSockets = () => [];
  ctx.exists = hostX(ctx.exists, ['/tmp/.X11-unix/X1']);
  const s = P.loadProfile('s', ctx).spec;
  t.same(s.mounts.map((m) => m.src ?? `${m.op} fd ${m.fd} ${m.dst}`), ['/tmp/.X11-unix/X1', 'data fd 99 /run/sandbox/Xauthority', '/run/user/1000/wayland-1', '/run/user/1000/bus'], 'the PulseAudio socket is never bound raw');
  t.equal(s.mounts[0].dst, '/tmp/.X11-unix/X99', 'the X socket goes in as display 99');
  t.same(asked, [[1, '/home/u/.Xauthority']], 'an untrusted cookie is asked for display 1 with the host authority file');
  t.same(s.env.set, {
    DISPLAY: ':99.0',
    XAUTHORITY: '/run/sandbox/Xauthority',
    XDG_RUNTIME_DIR: '/run/user/1000',
    WAYLAND_DISPLAY: 'wayland-1',
    DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus',
  });
  t.same(s.pulse, {
    upstream: '/run/user/1000/pulse/native',
    inside: '/run/user/1000/pulse/native',
    env: { XDG_RUNTIME_DIR: '/run/user/1000', PULSE_SERVER: 'unix:/run/user/1000/pulse/native' },
    optional: false,
    origin: `${ctx.shippedDir}/s.json5:1:52`,
  }, 'the server is the proxy\'s upstream; the proxy\'s socket goes where libpulse looks');
  const opt = setup(t, { shipped: { 'o.json5': '{ sockets: { x11: "optional", wayland: "optional", pulseaudio: "optional", "dbus-session": "optional" } }' } });
  opt.ctx.exists = (p) => p.startsWith(opt.dir) && fs.existsSync(p);
  opt.ctx.env = { HOME: '/home/u', DISPLAY: ':0', XDG_RUNTIME_DIR: '/nonexistent-runtime' };
  const o = P.loadProfile('o', opt.ctx).spec;
  t.same([o.mounts, o.env.set, o.pulse], [[], {}, undefined], 'optional sockets the host lacks are left out');
});

t.test('x11: the host\'s socket goes in under a display number nothing on the host answers to, the cookie re-keyed for it', async (t) => {
  const { encodeXauthority, parseXauthority, FAMILY_WILD } = require('../../dist/lib/profile/xauth');
  const cookie = encodeXauthority([{ family: FAMILY_WILD, address: Buffer.alloc(0), number: '7', name: 'MIT-MAGIC-COOKIE-1', data: Buffer.from('untrusted') }]);
  const run = (display, { abstract = [], paths = [] } = {}) => {
    const { ctx } = setup(t, { env: { DISPLAY: display }, shipped: { 'x.json5': '{ sockets: { x11: true } }' } });
    const asked = [];
    const given = [];
    ctx.x11Cookie = (n) => { asked.push(n); return { cookie }; };
    ctx.dataFd = (name, bytes) => { given.push(bytes); return 99; };
    ctx.abstractSockets = () => abstract;
    ctx.exists = hostX(ctx.exists, ['/tmp/.X11-unix/X7', ...paths]);
    const s = P.loadProfile('x', ctx).spec;
    return { bind: [s.mounts[0].src, s.mounts[0].dst], display: s.env.set.DISPLAY, asked, numbers: parseXauthority(given[0]).map((e) => e.number) };
  };
  t.same(run(':7'), { bind: ['/tmp/.X11-unix/X7', '/tmp/.X11-unix/X99'], display: ':99', asked: [7], numbers: ['99'] }, ':7 goes in as :99, its cookie for 99');
  for (const [form, inside] of [['unix:7', ':99'], [':7.1', ':99.1'], ['unix:7.2', ':99.2'], ['unix/:7', ':99'], ['/tmp/.X11-unix/X7', ':99'], ['/tmp/.X11-unix/X7.1', ':99.1']]) {
    t.same(run(form).display, inside, `DISPLAY=${form} is ${inside} inside`);
  }
  t.same(run(':7', { abstract: ['/tmp/.X11-unix/X99', '/tmp/.X11-unix/X100', 'other'] }), { bind: ['/tmp/.X11-unix/X7', '/tmp/.X11-unix/X101'], display: ':101', asked: [7], numbers: ['101'] }, 'numbers the host\'s abstract sockets answer to are skipped');
  t.same(run(':7', { paths: ['/tmp/.X99-lock'] }).display, ':100', 'a host lock file for :99 moves it too');
  for (const bad of ['host:7', ':x', 'localhost:10.0', '/tmp/elsewhere/X7']) {
    const { ctx } = setup(t, { env: { DISPLAY: bad }, shipped: { 'x.json5': '{ sockets: { x11: true } }' } });
    t.throws(() => P.loadProfile('x', ctx), { message: new RegExp(`DISPLAY=${bad.replace(/\./g, '\\.')} is not a local display`) }, `DISPLAY=${bad} is not local`);
  }
});

t.test('sockets "pipewire" is refused in one line, whether wanted or optional', async (t) => {
  for (const want of ['true', '"optional"']) {
    const { ctx } = setup(t, { paths: ['/run/user/1000/pipewire-0'], shipped: { 'w.json5': `{ sockets: { pipewire: ${want} } }` } });
    t.throws(() => P.loadProfile('w', ctx), { message: new RegExp(`^${ctx.shippedDir}/w.json5:1:24: found sockets "pipewire", expected "pulseaudio" instead: the raw PipeWire socket lets a program create objects in the host's audio server outside the sandbox; [^\\n]*$`) });
  }
  const off = setup(t, { shipped: { 'f.json5': '{ sockets: { pipewire: false } }' } });
  t.same(P.loadProfile('f', off.ctx).spec.mounts, [], 'pipewire: false stays valid');
});

t.test('a display that gives no untrusted cookie is left out (optional) or refused (required)', async (t) => {
  const { ctx } = setup(t, {
    env: { DISPLAY: ':1' },
    paths: ['/tmp/.X11-unix/X1'],
    shipped: { 'o.json5': '{ sockets: { x11: "optional" } }', 'r.json5': '{ sockets: { x11: true } }' },
  });
  ctx.x11Cookie = () => ({ refused: 'the X server :1 lets this user\'s programs in without a cookie' });
  const o = P.loadProfile('o', ctx).spec;
  t.same([o.mounts, o.env.set], [[], {}], 'optional: no socket, no DISPLAY');
  t.throws(() => P.loadProfile('r', ctx), { message: `${ctx.shippedDir}/r.json5:1:19: found no X11 display socket a sandbox can be given safely (the X server :1 lets this user's programs in without a cookie), expected one for sockets "x11"; write "x11": "optional" in sockets to run without it` });
});

t.test('the seccomp section is parsed by lib/seccomp, with its origin and positions in the profile', async (t) => {
  const { ctx } = setup(t, { shipped: { 's.json5': '{\n  seccomp: {\n    default: "allow",\n    rules: [{ deny: ["ptrace"] }] } }' } });
  const l = P.loadProfile('s', ctx);
  t.equal(l.spec.seccomp.origin, `${ctx.shippedDir}/s.json5:2:12`);
  t.equal(l.spec.seccomp.policy.defaultAction.kind, 'allow');
  t.equal(l.seccompLocate(['rules', 0]), `${ctx.shippedDir}/s.json5:4:13`);
  t.equal(l.seccompLocate(['nope']), `${ctx.shippedDir}/s.json5:2:12`, 'unknown paths fall back to the nearest parent');
  const bad = setup(t, { shipped: { 'b.json5': '{\n  seccomp: {\n    default: "allow",\n    rules: [{ deny: ["no_such_call"] }] } }' } });
  t.throws(() => P.loadProfile('b', bad.ctx), new RegExp(`^${bad.ctx.shippedDir}/b.json5:4:\\d+: .*no_such_call`));
});

// Sizes: test/unit/sizes.test.js runs one table through both the command line and profiles.
t.test('modes', async (t) => {
  t.equal(P.parseMode('0755'), 0o755);
  t.equal(P.parseMode('1777'), 0o1777);
  t.equal(P.parseMode('755'), 0o755);
  t.equal(P.parseMode('0855'), null);
  t.equal(P.parseMode(493), null);
});

t.test('the munge socket: named by the profile, bound at its default path', async (t) => {
  const { ctx } = setup(t, { paths: ['/run/munge/munge.socket.2'], shipped: { 'm.json5': '{ sockets: { munge: true } }', 'n.json5': '{ extends: "m", sockets: { munge: false } }' } });
  t.match(P.loadProfile('m', ctx).spec.mounts, [{ op: 'bind', src: '/run/munge/munge.socket.2', dst: '/run/munge/munge.socket.2', readOnly: false }]);
  t.same(P.loadProfile('n', ctx).spec.mounts, [], 'false removes the inherited one');
  const none = setup(t, { shipped: { 'm.json5': '{ sockets: { munge: true } }', 'o.json5': '{ sockets: { munge: "optional" } }' } });
  none.ctx.exists = (p) => p.startsWith(none.dir) && fs.existsSync(p);
  t.throws(() => P.loadProfile('m', none.ctx), /m\.json5:1:\d+: found no MUNGE socket on this host \(\/run\/munge\/munge\.socket\.2 does not exist\)/);
  t.same(P.loadProfile('o', none.ctx).spec.mounts, []);
});

t.test('a variable naming the host\'s shared /tmp, /var/tmp or /dev/shm is never bound whole', async (t) => {
  const profile = '{ filesystem: [{ bind: "${TMPDIR}", optional: true }, { "ro-bind": "${SHM}/", dst: "/x", optional: true }, { bind: "/tmp" }] }';
  const { ctx } = setup(t, { env: { TMPDIR: '/tmp', SHM: '/dev/shm' }, shipped: { 't.json5': profile, 'r.json5': '{ filesystem: [{ bind: "${TMPDIR}" }] }' } });
  t.same(P.loadProfile('t', ctx).spec.mounts.map((m) => m.src), ['/tmp'], 'optional: skipped; a literal "/tmp" is what the profile asked for');
  t.throws(() => P.loadProfile('r', ctx), /r\.json5:1:\d+: found "\$\{TMPDIR\}" naming the host's shared \/tmp, expected a directory of its own/);
  ctx.env.TMPDIR = '/tmp/job-1';
  t.same(P.loadProfile('r', ctx).spec.mounts.map((m) => m.src), ['/tmp/job-1'], 'a directory of the job\'s own is bound');
});

t.test('run from /tmp, a profile binding ${CWD} read-write would share all of it: refused', async (t) => {
  const { ctx } = setup(t, { shipped: { 'c.json5': '{ filesystem: [{ bind: "${CWD}" }] }' } });
  ctx.cwd = '/tmp';
  t.throws(() => P.loadProfile('c', ctx), /c\.json5:1:\d+: found "\$\{CWD\}" naming the host's shared \/tmp, expected a directory of its own \(run sandbox from a directory of its own, or use --no-profile\)/);
});
