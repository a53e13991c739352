// Audio: PulseAudio as the test user with a null sink, in a private runtime directory. A tone played
// inside `desktop` through pulse/native (the socket of sandbox-pulse-proxy, never the server's own) is
// recorded on the host from the sink's monitor and its pitch measured (zero crossings); without the socket
// entry the play fails. What the proxy refuses is attacked in test/attack/shared-audio.test.js.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { userTmpdir, cannotLaunch, cleanEnv, have, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { sandboxRun, killGroup } = require('./apps/run');
const { startPulse, runtimeDir, startAsUser } = require('./desktop-servers');

const why = cannotLaunch() || (have('pulseaudio') ? null : 'pulseaudio is not installed (Debian package pulseaudio)') || (have('paplay') ? null : 'paplay is not installed (Debian package pulseaudio-utils)');
if (why) {
  t.skip(`audio: ${why}`);
  process.exit(0);
}
const RATE = 44100;
const PITCH = 880;

/** A mono 16-bit WAV: `seconds` of a sine at `hz`. */
function wav(hz, seconds) {
  const n = Math.round(RATE * seconds);
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0); b.writeUInt32LE(36 + n * 2, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(RATE, 24); b.writeUInt32LE(RATE * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / RATE)), 44 + i * 2);
  return b;
}

/** The pitch of the loud part of raw s16le mono samples, from upward zero crossings; and how many samples were loud. */
function pitch(raw) {
  const s = new Int16Array(raw.buffer, raw.byteOffset, Math.floor(raw.length / 2));
  const loud = [];
  for (let i = 0; i < s.length; i++) if (Math.abs(s[i]) > 2000) loud.push(i);
  if (loud.length < RATE / 4) return { hz: 0, loud: loud.length };
  const a = loud[0];
  const z = loud[loud.length - 1];
  let crossings = 0;
  for (let i = a + 1; i <= z; i++) if (s[i - 1] < 0 && s[i] >= 0) crossings++;
  return { hz: (crossings * RATE) / (z - a), loud: loud.length };
}

async function setup(t) {
  const rt = runtimeDir('sbx-rt-');
  const pa = await startPulse(rt);
  const home = userTmpdir('sbx-home-');
  const tone = path.join(home, 'tone.wav');
  fs.writeFileSync(tone, wav(PITCH, 1.5));
  if (IS_ROOT) fs.chownSync(tone, TEST_UID, TEST_GID);
  t.teardown(async () => { await pa.stop(); [rt, home].forEach((d) => fs.rmSync(d, { recursive: true, force: true })); });
  return { rt, pa, home, tone, env: cleanEnv({ HOME: home, XDG_RUNTIME_DIR: rt }) };
}

t.test('a tone played inside desktop reaches the host\'s sink at its pitch', async (t) => {
  const s = await setup(t);
  const rec = startAsUser('parecord', ['--device=sbx.monitor', '--raw', '--format=s16le', `--rate=${RATE}`, '--channels=1', '--latency-msec=50'], s.pa.env);
  const chunks = [];
  rec.child.stdout.on('data', (d) => chunks.push(d));
  t.teardown(() => killGroup(rec.child));
  await new Promise((r) => setTimeout(r, 500));
  const started = Date.now();
  const r = await sandboxRun(['--profile', 'desktop', '--ro-bind', s.tone, '/tmp/tone.wav', '--', 'sh', '-c', 'echo "PULSE_SERVER=$PULSE_SERVER"; exec paplay --device=sbx /tmp/tone.wav'], { env: s.env, timeout: 20000 });
  t.comment(`paplay inside took ${Date.now() - started} ms`);
  await new Promise((r) => setTimeout(r, 500));
  await killGroup(rec.child);
  t.equal(r.status, 0, `paplay exited 0 (${r.stderr.trim().split('\n').slice(-2).join(' | ')})`);
  t.match(r.stdout, /^PULSE_SERVER=unix:\/.*\/pulse\/native\n/, 'PULSE_SERVER names the bound socket');
  const p = pitch(Buffer.concat(chunks));
  t.comment(`recorded ${Buffer.concat(chunks).length / 2} samples, ${p.loud} loud, pitch ${p.hz.toFixed(1)} Hz`);
  t.ok(p.loud > RATE, 'more than a second of the tone was recorded on the host');
  t.ok(Math.abs(p.hz - PITCH) < 10, `the recorded pitch is ${PITCH} Hz (measured ${p.hz.toFixed(1)})`);
});

t.test('without the pulseaudio socket entry the play fails', async (t) => {
  const s = await setup(t);
  const prof = path.join(s.home, 'no-pulse.json5');
  fs.writeFileSync(prof, '{ extends: "desktop", sockets: { pulseaudio: false } }\n');
  if (IS_ROOT) fs.chownSync(prof, TEST_UID, TEST_GID);
  const r = await sandboxRun(['--profile', prof, '--ro-bind', s.tone, '/tmp/tone.wav', '--', 'paplay', '--device=sbx', '/tmp/tone.wav'], { env: s.env, timeout: 20000 });
  t.not(r.status, 0, `paplay fails (${r.stderr.trim().split('\n').slice(-1)[0]})`);
});
