// The audio server a desktop profile shares (issue 12, item 1). A private PulseAudio runs as the test user
// (null sink `sbx`, its own runtime directory); programs in `desktop` and `browser` reach it only through
// sandbox-pulse-proxy. What the host's server would do on request (load a module, and with it a .so the
// sandbox names; unload one; exit; change defaults, volumes, other programs' streams) must be refused with
// an access error and must not happen; playback must still work. A control run gives the same requests the
// server's raw socket (what every desktop profile bound before) and shows they worked there.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { userTmpdir, cannotLaunch, cleanEnv, have, sandboxCli, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { sandboxRun, sandboxStart, killGroup } = require('../integration/apps/run');
const { startPulse, runtimeDir, runAsUser, startAsUser, waitFor } = require('../integration/desktop-servers');

const why = cannotLaunch()
  || (have('pulseaudio') ? null : 'pulseaudio is not installed (Debian package pulseaudio)')
  || (have('pactl') && have('paplay') ? null : 'pactl/paplay are not installed (Debian package pulseaudio-utils)')
  || (have('cc') ? null : 'cc is missing (needed to build the planted LADSPA plugin)');
if (why) {
  t.skip(`shared audio: ${why}`);
  process.exit(0);
}

const PROFILES = ['desktop', 'browser'];
const RATE = 44100;

function wav(seconds) {
  const n = Math.round(RATE * seconds);
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0); b.writeUInt32LE(36 + n * 2, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(RATE, 24); b.writeUInt32LE(RATE * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 660 * i) / RATE)), 44 + i * 2);
  return b;
}

function own(p) {
  if (IS_ROOT) fs.chownSync(p, TEST_UID, TEST_GID);
}

let rt; let pa; let home; let data; let env; let plugin; let marker; let tone; let longTone;
/** pactl against the host's server, outside any sandbox. */
const hostPactl = (...args) => runAsUser('pactl', args, pa.env);
const modules = () => hostPactl('list', 'short', 'modules').stdout.trim().split('\n').filter(Boolean);
const sinks = () => hostPactl('list', 'short', 'sinks').stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t')[1]);
const sinkInputs = () => hostPactl('list', 'short', 'sink-inputs').stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
const inside = (profile, script, extra = []) => sandboxRun(['--profile', profile, ...extra, '--', 'sh', '-c', script], { env, timeout: 30000 });

t.before(async () => {
  rt = runtimeDir('sbx-audio-rt-');
  pa = await startPulse(rt);
  home = userTmpdir('sbx-audio-home-');
  data = userTmpdir('sbx-audio-data-');
  // A LADSPA "plugin" whose constructor marks that it ran: module-ladspa-sink dlopens whatever path it is given.
  marker = path.join(home, 'ladspa-ran');
  const src = path.join(home, 'evil.c');
  plugin = path.join(home, 'evil.so');
  fs.writeFileSync(src, `#include <fcntl.h>\n#include <unistd.h>\n__attribute__((constructor)) static void ran(void) { int fd = open("${marker}", O_CREAT | O_WRONLY, 0644); if (fd >= 0) { write(fd, "outside\\n", 8); close(fd); } }\n`);
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-o', plugin, src], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc: ${cc.stderr}`);
  fs.chmodSync(plugin, 0o755);
  tone = path.join(home, 'tone.wav');
  fs.writeFileSync(tone, wav(2));
  longTone = path.join(home, 'long.wav');
  fs.writeFileSync(longTone, wav(20));
  [src, plugin, tone, longTone].forEach(own);
  env = cleanEnv({ HOME: home, XDG_RUNTIME_DIR: rt, XDG_DATA_HOME: data });
});
t.teardown(async () => {
  if (pa) await pa.stop();
  for (const d of [rt, home, data]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

t.test('control (raw socket): through the server\'s raw socket the planted plugin runs outside and modules load', async (t) => {
  const raw = path.join(rt, 'pulse', 'native');
  const before = modules().length;
  const r = await inside('desktop', `export PULSE_SERVER=unix:/run/rawpulse; pactl load-module module-ladspa-sink sink_name=ctl plugin=${plugin} label=x; pactl load-module module-null-sink sink_name=ctlnull; echo done`, ['--bind', raw, '/run/rawpulse']);
  t.match(r.stdout, /done/, `the commands ran (${r.stderr.trim().split('\n').slice(-1)[0]})`);
  t.ok(fs.existsSync(marker), 'the planted .so ran in the host\'s server: this is the escape the proxy closes');
  t.ok(sinks().includes('ctlnull') && modules().length > before, 'module-null-sink loaded through the raw socket');
  fs.rmSync(marker, { force: true });
  const idx = modules().find((l) => l.includes('sink_name=ctlnull'));
  if (idx) hostPactl('unload-module', idx.split('\t')[0]);
});

for (const profile of PROFILES) {
  t.test(`audio-load-module (${profile}): the server loads nothing for the sandbox`, async (t) => {
    const before = modules();
    const r = await inside(profile, [
      `pactl load-module module-ladspa-sink sink_name=evil plugin=${plugin} label=x; echo "ladspa=$?"`,
      'pactl load-module module-null-sink sink_name=evilnull; echo "null=$?"',
      'pactl unload-module 0; echo "unload=$?"',
      'pactl unload-module module-null-sink; echo "unload-name=$?"',
    ].join('\n'));
    for (const k of ['ladspa', 'null', 'unload', 'unload-name']) t.match(r.stdout, new RegExp(`^${k}=1$`, 'm'), `${k}: pactl fails`);
    t.equal((r.stderr.match(/Access denied/g) || []).length, 4, `each is refused with an access error (${r.stderr.trim().split('\n').join(' | ')})`);
    t.notOk(fs.existsSync(marker), 'the planted .so was never opened');
    t.same(modules(), before, 'the host\'s module list is unchanged');
    t.notOk(sinks().includes('evilnull'), 'no sink appeared');
  });

  t.test(`audio-server-settings (${profile}): server settings, other clients and other programs' streams are refused`, async (t) => {
    // a stream of another program on the host, for the sandbox to aim at
    const other = startAsUser('paplay', ['--device=sbx', longTone], pa.env);
    t.teardown(() => killGroup(other.child));
    await waitFor(() => sinkInputs().length > 0, 5000, 'the host program\'s stream');
    const [theirs] = sinkInputs();
    const cmds = {
      'list-modules': 'pactl list modules',
      'list-clients': 'pactl list clients',
      'list-sink-inputs': 'pactl list sink-inputs',
      'list-samples': 'pactl list samples',
      'list-cards': 'pactl list cards',
      'mute-theirs': `pactl set-sink-input-mute ${theirs} 1`,
      'volume-theirs': `pactl set-sink-input-volume ${theirs} 10%`,
      'move-theirs': `pactl move-sink-input ${theirs} sbx`,
      'sink-volume': 'pactl set-sink-volume sbx 5%',
      'sink-mute': 'pactl set-sink-mute sbx 1',
      'default-sink': 'pactl set-default-sink sbx',
      'suspend': 'pactl suspend-sink sbx 1',
      'upload-sample': 'pactl upload-sample /tmp/tone.wav evilsample',
      'exit': 'pactl exit',
      'message': 'pactl send-message /core list-handlers',
    };
    const script = Object.entries(cmds).map(([k, c]) => `${c} >/dev/null 2>/tmp/err; echo "${k}=$? $(head -c 200 /tmp/err | tr '\\n' ' ')"`).join('\n');
    const r = await inside(profile, script, ['--ro-bind', tone, '/tmp/tone.wav']);
    // (pactl 16 exits 0 after a refused `list cards`; its message is what counts)
    for (const k of Object.keys(cmds)) t.match(r.stdout, new RegExp(`^${k}=\\d+ .*Access denied`, 'm'), `${k} is refused with an access error`);
    t.equal(hostPactl('info').status, 0, 'the host\'s server still runs (pactl exit was refused)');
    const info = hostPactl('list', 'sink-inputs').stdout;
    t.notMatch(info, /Mute: yes/, 'the host program\'s stream is not muted');
    t.ok(sinkInputs().includes(theirs), 'the host program\'s stream was neither killed nor replaced');
    t.notMatch(hostPactl('list', 'sinks').stdout, /Mute: yes/, 'the sink is not muted');
    t.notMatch(hostPactl('list', 'short', 'samples').stdout, /evilsample/, 'nothing entered the sample cache');
  });

  t.test(`audio-own-stream (${profile}): a program sets its own stream's volume, not another's`, async (t) => {
    if (!have('python3')) return t.skip('python3 is missing (the raw-protocol client is a Python script)');
    const other = startAsUser('paplay', ['--device=sbx', longTone], pa.env);
    t.teardown(() => killGroup(other.child));
    await waitFor(() => sinkInputs().length > 0, 5000, 'the host program\'s stream');
    const [theirs] = sinkInputs();
    const client = path.join(__dirname, 'lib', 'pulse-own-stream.py');
    const run = sandboxStart(['--profile', profile, '--ro-bind', client, '/tmp/client.py', '--setenv', 'HOLD', '1', '--', 'python3', '/tmp/client.py', theirs], { env });
    t.teardown(() => killGroup(run.child));
    await waitFor(() => /^holding$/m.test(run.out.stdout) || run.child.exitCode !== null, 15000, 'the client\'s stream');
    const volumes = hostPactl('list', 'sink-inputs').stdout;
    t.ok(await run.ended(20000), `the client ended (it holds its stream for 1 s): ${run.out.stderr.trim().split('\n').slice(-1)[0] || ''}`);
    const out = run.out.stdout;
    t.match(out, /^create 2 \[\d+, \d+/m, `the stream was created (${run.out.stderr.trim().split('\n').slice(-1)[0]})`);
    t.match(out, /^own-volume 2 \[\]$/m, 'its own volume: REPLY');
    t.match(out, new RegExp(`^other-volume ${theirs} 0 \\[1\\]$`, 'm'), 'the other program\'s volume: ERROR, access');
    t.match(out, new RegExp(`^other-info ${theirs} 0 \\[1\\]$`, 'm'), 'the other program\'s description: ERROR, access');
    const own = Number((/^create 2 \[\d+, (\d+)/m.exec(out) || [])[1]);
    const block = (i) => (volumes.split(/^Sink Input #/m).find((b) => b.startsWith(`${i}\n`)) || '');
    t.match(block(own), /Volume: mono: 16384 \/  25%/, 'on the host, its own stream is at 25%');
    t.match(block(theirs), /Volume: mono: 65536 \/ 100%/, 'the other program\'s stays at 100%');
  });

  t.test(`audio-playback (${profile}): playback still works through the proxy, and the proxy ends with the sandbox`, async (t) => {
    const seen = [];
    const poll = setInterval(() => { for (const i of sinkInputs()) if (!seen.includes(i)) seen.push(i); }, 200);
    const r = await inside(profile, 'paplay --device=sbx /tmp/tone.wav; echo "play=$?"; pactl info | grep -c "Server Name"', ['--ro-bind', tone, '/tmp/tone.wav']);
    clearInterval(poll);
    t.match(r.stdout, /^play=0$/m, `paplay exits 0 (${r.stderr.trim().split('\n').slice(-1)[0]})`);
    t.ok(seen.length > 0, `a sink input appeared on the host's server while the sandbox played (${seen.join(',')})`);
    const proxies = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return cmd.includes('sandbox-pulse-proxy') && cmd.includes(rt);
      } catch { return false; }
    });
    await waitFor(() => proxies().length === 0, 3000, 'the proxy to exit with its sandbox').catch(() => {});
    t.same(proxies(), [], 'no proxy outlives its sandbox');
    const dirs = fs.readdirSync(path.join(rt, 'sandbox')).filter((n) => n.startsWith('pulse-'));
    t.ok(dirs.length <= 1, `the next start removed earlier proxy directories (left: ${dirs.join(', ')})`);
  });
}

t.test('audio-pipewire: a profile that names the raw PipeWire socket is refused in one line', async (t) => {
  fs.writeFileSync(path.join(rt, 'pipewire-0'), '');
  own(path.join(rt, 'pipewire-0'));
  const prof = path.join(home, 'pw.json5');
  fs.writeFileSync(prof, '{ extends: "desktop", sockets: { pipewire: "optional" } }\n');
  own(prof);
  const r = await sandboxRun(['--profile', prof, '--', 'true'], { env, timeout: 20000 });
  t.equal(r.status, 125, 'exit 125');
  t.match(r.stderr, /^sandbox: .*pw\.json5:1:\d+: found sockets "pipewire", expected "pulseaudio" instead: [^\n]*\n$/, `one line naming the entry (${r.stderr.trim()})`);
  fs.rmSync(path.join(rt, 'pipewire-0'));
});

t.test('audio-no-server: a profile that requires pulseaudio on a host without a server stops in one line', async (t) => {
  const prof = path.join(home, 'needpulse.json5');
  fs.writeFileSync(prof, '{ extends: "desktop", sockets: { pulseaudio: true } }\n');
  own(prof);
  const empty = runtimeDir('sbx-audio-none-');
  t.teardown(() => fs.rmSync(empty, { recursive: true, force: true }));
  const r = await sandboxRun(['--profile', prof, '--', 'true'], { env: { ...env, XDG_RUNTIME_DIR: empty }, timeout: 20000 });
  t.equal(r.status, 125, 'exit 125');
  t.match(r.stderr, /^sandbox: .*needpulse\.json5:1:\d+: found no PulseAudio socket on this host \([^\n]*\n$/, `one line (${r.stderr.trim()})`);
});

t.test('--print-plan shows the proxy\'s socket without starting it; a compiled plan has no sound', async (t) => {
  const r = await sandboxRun(['--profile', 'desktop', '--print-plan', '--', 'true'], { env, timeout: 20000 });
  t.equal(r.status, 0);
  const plan = JSON.parse(r.stdout);
  const bind = plan.mounts.find((m) => m.dst === path.join(rt, 'pulse', 'native'));
  t.match(bind && bind.src, /\/sandbox\/pulse-\d+-XXXXXX\/native$/, 'the proxy\'s socket, not the server\'s, is what would be bound');
  t.notOk(plan.mounts.some((m) => m.src === path.join(rt, 'pulse', 'native')), 'the server\'s socket is not bound');
  t.ok(plan.env.includes(`PULSE_SERVER=unix:${path.join(rt, 'pulse', 'native')}`));
  const out = path.join(home, 'desktop.plan');
  const comp = sandboxCli(['compile', '--profile', 'desktop', '-o', out, '--', 'true'], { env, cwd: home });
  t.equal(comp.status, 0, `compile succeeds (${comp.stderr.trim()})`);
  t.match(comp.stderr, /^sandbox: .*desktop\.json5:\d+:\d+: the compiled plan has no sound \(sockets "pulseaudio" needs a proxy started by sandbox run\)\n/, 'and says the plan has no sound, in one line');
  const req = path.join(home, 'needpulse2.json5');
  fs.writeFileSync(req, '{ extends: "desktop", sockets: { pulseaudio: true } }\n');
  own(req);
  const bad = sandboxCli(['compile', '--profile', req, '-o', out, '--', 'true'], { env, cwd: home });
  t.equal(bad.status, 125, 'a required pulseaudio entry is refused by compile');
  t.match(bad.stderr, /^sandbox: .*needpulse2\.json5:1:\d+: sockets "pulseaudio" can't be compiled into a plan yet[^\n]*\n$/);
});
