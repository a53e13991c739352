// The `editor` profile with the real Debian editor Mousepad on Xvfb: it opens a file bound read-write into
// /edit, xdotool types a line and presses Ctrl+S, and the host file has the line; the screen shows the text.
// Beside it, from a shell in the same profile: the bound file is writable, its host siblings, the real home
// and the network are not there, and /edit itself takes no new files.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { userTmpdir, cannotLaunch, cleanEnv, have, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { sandboxRun, sandboxStart, startXvfb, killGroup } = require('./apps/run');
const { decodeXwd, encodePng } = require('./apps/image');
const { xdotool, findWindow } = require('./xdotool');

const why = cannotLaunch();
if (why) {
  t.skip(`editor profile: ${why}`);
  process.exit(0);
}

function chownUser(p) {
  if (IS_ROOT) fs.chownSync(p, TEST_UID, TEST_GID);
}

/** A home with a secret, a directory with the document and a sibling, both owned by the test user. */
function scratch(t) {
  const home = userTmpdir('sbx-home-');
  const files = userTmpdir('sbx-files-');
  const doc = path.join(files, 'notes.txt');
  fs.writeFileSync(path.join(home, 'secret.txt'), 'private\n');
  fs.writeFileSync(doc, 'first line\n');
  fs.writeFileSync(path.join(files, 'sibling.txt'), 'next door\n');
  for (const f of [path.join(home, 'secret.txt'), doc, path.join(files, 'sibling.txt')]) chownUser(f);
  t.teardown(() => [home, files].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  return { home, files, doc, env: cleanEnv({ HOME: home }) };
}

t.test('editor: only the bound file is there, and it is writable', async (t) => {
  const s = scratch(t);
  const script = [
    'echo appended >> /edit/notes.txt && echo doc-writable',
    `test -e ${s.files}/sibling.txt && echo sibling-visible`,
    'ls -A /edit',
    'test -e "$HOME/secret.txt" && echo secret-visible',
    'touch /edit/new.txt 2>/dev/null && echo edit-dir-writable',
    'echo "net: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" " ")"',
  ].join('; ');
  const r = await sandboxRun(['--profile', 'editor', '--bind', s.doc, '/edit/notes.txt', '--', 'sh', '-c', script], { env: s.env, timeout: 30000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /doc-writable/, 'the bound file takes a write');
  t.equal(fs.readFileSync(s.doc, 'utf8'), 'first line\nappended\n', 'the write reached the host file');
  t.notMatch(r.stdout, /sibling-visible|secret-visible|edit-dir-writable/, 'no sibling, no real home, no new files in /edit');
  t.match(r.stdout, /^notes\.txt$/m, '/edit holds only the document');
  t.match(r.stdout, /^net: lo $/m, 'no network device but lo');
});

const guiSkip = !have('mousepad') ? 'mousepad is not installed (Debian package mousepad)'
  : !have('Xvfb') ? 'Xvfb is not installed (Debian package xvfb)'
    : !have('xdotool') ? 'xdotool is not installed (Debian package xdotool)' : false;

/** Mousepad in the editor profile on a fresh Xvfb, the document bound at dst: types a line, presses Ctrl+S and
 * waits (waitMs at most) for the line in the host file. Resolves { text, img, stderr, running, ms }. */
async function typeAndSave(t, s, dst, waitMs, control = false, args = null) {
  const fbdir = userTmpdir('sbx-fb-');
  const x = await startXvfb(fbdir, { width: 800, height: 600 });
  let editor = null;
  t.teardown(async () => { if (editor) await killGroup(editor.child); await x.stop(); fs.rmSync(fbdir, { recursive: true, force: true }); });
  const started = Date.now();
  editor = sandboxStart(args ?? ['--profile', 'editor', '--bind', s.doc, dst, '--', 'mousepad', dst], { env: { ...s.env, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority } });
  const win = await findWindow(x.display, 'mousepad', 30000);
  t.ok(win, `Mousepad's window is on the screen after ${Date.now() - started} ms`);
  if (!win) return { text: '', img: null, stderr: editor.out.stderr, running: editor.child.exitCode === null };
  // the window maps before GTK takes keys; give it a moment after the focus
  const steps = [['windowfocus', '--sync', win], ['sleep', '0.5'], ['key', '--clearmodifiers', 'ctrl+End'], ['type', '--delay', '20', 'typed in the sandbox'], ['key', '--clearmodifiers', 'ctrl+s']];
  for (const step of steps) {
    const r = await xdotool(x.display, step);
    // the control only shows a documented limit; a display lost under load makes it inconclusive, not failed
    if (control && r.status !== 0 && /Can't open display|connection to .* broken/.test(r.stderr)) return { inconclusive: r.stderr.trim() };
    t.equal(r.status, 0, `xdotool ${step.join(' ')} ${r.stderr.trim()}`);
  }
  const saving = Date.now();
  let text = '';
  while (Date.now() - saving < waitMs) {
    text = fs.readFileSync(s.doc, 'utf8');
    if (text.includes('typed in the sandbox')) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const ms = Date.now() - started;
  const img = decodeXwd(fs.readFileSync(x.framebuffer));
  if (process.env.SANDBOX_TEST_SCREENSHOTS) fs.writeFileSync(path.join(process.env.SANDBOX_TEST_SCREENSHOTS, `editor${dst.replace(/\//g, '-')}.png`), encodePng(img));
  return { text, img, stderr: editor.out.stderr, running: editor.child.exitCode === null, ms };
}

t.test('editor: Mousepad on Xvfb saves typed text into the bound file', { skip: guiSkip }, async (t) => {
  const s = scratch(t);
  const r = await typeAndSave(t, s, '/edit/notes.txt', 15000);
  t.comment(`saved ${r.ms} ms after the start`);
  t.equal(r.text, 'first line\ntyped in the sandbox', 'Ctrl+S wrote the typed line into the host file (in place: GLib cannot make its temporary file in /edit)');
  t.ok(r.running, 'Mousepad is still running');
  t.notMatch(r.stderr, /Failed to save|Device or resource busy/, 'no save error');
  if (!r.img) return;
  // Xvfb's screen starts black; the editor's window is mostly white
  let white = 0;
  const n = r.img.width * r.img.height;
  for (let i = 0; i < n; i++) if (r.img.rgba[i * 4] > 240 && r.img.rgba[i * 4 + 1] > 240 && r.img.rgba[i * 4 + 2] > 240) white++;
  t.ok(white / n > 0.2, `the window is drawn (${(100 * white / n).toFixed(1)}% of the screen white)`);
});

t.test('why /edit: bound into a writable directory, the save fails', { skip: guiSkip }, async (t) => {
  const s = scratch(t);
  // GLib writes .goutputstream-XXXXXX in /tmp, then its rename over the bind mount fails with EBUSY
  const r = await typeAndSave(t, s, '/tmp/notes.txt', 3000, true);
  if (r.inconclusive) return t.skip(`the X display went away under load: ${r.inconclusive}`);
  // a weak check alone (keys that never arrived would pass it too): the same steps save under /edit above
  t.equal(r.text, 'first line\n', 'the host file is unchanged 3 s after Ctrl+S (Mousepad shows "Error renaming temporary file: Device or resource busy")');
});

t.test('editor by itself: `sandbox run --file-args profile mousepad FILE` picks editor and saves into FILE', { skip: guiSkip }, async (t) => {
  const s = scratch(t);
  // no --profile: editor is made for mousepad, its fileArgs is "rw", and the file is bound alone under /run/sandbox-files
  const r = await typeAndSave(t, s, 'file-args', 15000, false, ['--file-args', 'profile', 'mousepad', s.doc]);
  t.comment(`saved ${r.ms} ms after the start`);
  t.match(r.stderr, /^sandbox: using profile editor \(made for mousepad\)/, 'the selection line');
  t.equal(r.text, 'first line\ntyped in the sandbox', 'Ctrl+S wrote the typed line into the host file through the forwarded bind');
  t.ok(r.running, 'Mousepad is still running');
  t.notMatch(r.stderr, /Failed to save|Device or resource busy/, 'no save error');
});
