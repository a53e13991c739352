// Viewer profiles with the real Debian programs: `pdf` with MuPDF's mutool rendering a PDF bound read-only
// (headless, the PNG on stdout), `image` with feh showing a PNG on Xvfb through the bound X11 socket.
// Neither sees the network or the real home.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { userTmpdir, cannotLaunch, cleanEnv, have, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { sandboxRun, sandboxStart, startXvfb, killGroup } = require('./apps/run');
const { decodePng, decodeXwd, encodePng, colourShare } = require('./apps/image');

const why = cannotLaunch();
if (why) {
  t.skip(`viewer profiles: ${why}`);
  process.exit(0);
}
const MAGENTA = [255, 0, 255];

/** A one-page PDF, 200x200 pt, with a magenta square of 160x160 pt. */
function pdf() {
  const content = '1 0 1 rg 20 20 160 160 re f';
  const objs = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>', `<< /Length ${content.length} >>\nstream\n${content}\nendstream`];
  let out = '%PDF-1.4\n';
  const offs = objs.map((o, i) => { const at = out.length; out += `${i + 1} 0 obj\n${o}\nendobj\n`; return at; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offs.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function scratch(t) {
  const home = userTmpdir('sbx-home-');
  fs.writeFileSync(path.join(home, 'secret.txt'), 'private\n');
  if (IS_ROOT) fs.chownSync(path.join(home, 'secret.txt'), TEST_UID, TEST_GID);
  const files = userTmpdir('sbx-files-');
  t.teardown(() => [home, files].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  return { home, files, env: cleanEnv({ HOME: home }) };
}

t.test('pdf: mutool draw renders a document bound read-only', { skip: have('mutool') ? false : 'mutool is not installed (Debian package mupdf-tools)' }, async (t) => {
  const s = scratch(t);
  const doc = path.join(s.files, 'doc.pdf');
  fs.writeFileSync(doc, pdf());
  fs.chmodSync(doc, 0o644);
  const r = await sandboxRun(['--profile', 'pdf', '--ro-bind', doc, '/tmp/doc.pdf', '--', 'sh', '-c',
    'test -e "$HOME/secret.txt" && echo secret-visible >&2; touch /tmp/doc.pdf 2>/dev/null && echo doc-writable >&2; mutool draw -q -F png -o - -r 72 /tmp/doc.pdf 1 | base64 -w0'],
  { env: s.env, timeout: 30000 });
  t.comment(`mutool draw took ${r.ms} ms`);
  t.equal(r.status, 0, `mutool exited 0 (${r.stderr.trim().split('\n').slice(-2).join(' | ')})`);
  t.notMatch(r.stderr, /secret-visible|doc-writable/, 'the real home is not visible and the document is read-only');
  const img = decodePng(Buffer.from(r.stdout, "base64"));
  t.equal(`${img.width}x${img.height}`, '200x200', 'a page at 72 dpi');
  const share = colourShare(img, MAGENTA);
  t.ok(Math.abs(share - 0.64) < 0.05, `the magenta square covers 64% of the page (${(share * 100).toFixed(1)}%)`);
});

t.test('image: feh shows a PNG on Xvfb through the bound X11 socket', { skip: have('feh') ? (have('Xvfb') ? false : 'Xvfb is not installed') : 'feh is not installed (Debian package feh)' }, async (t) => {
  const s = scratch(t);
  const fbdir = userTmpdir('sbx-fb-');
  const x = await startXvfb(fbdir, { width: 640, height: 480 });
  const picture = path.join(s.files, 'a.png');
  const w = 320;
  const h = 240;
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([255, 0, 255, 255], i * 4);
  fs.writeFileSync(picture, encodePng({ width: w, height: h, rgba }));
  fs.chmodSync(picture, 0o644);
  let viewer = null;
  t.teardown(async () => { if (viewer) await killGroup(viewer.child); await x.stop(); fs.rmSync(fbdir, { recursive: true, force: true }); });
  const started = Date.now();
  viewer = sandboxStart(['--profile', 'image', '--ro-bind', picture, '/tmp/a.png', '--', 'feh', '--no-xinerama', '--fullscreen', '--zoom', 'fill', '/tmp/a.png'], { env: { ...s.env, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority } });
  let share = 0;
  while (Date.now() - started < 20000 && viewer.child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 250));
    share = colourShare(decodeXwd(fs.readFileSync(x.framebuffer)), MAGENTA);
    if (share > 0.5) break;
  }
  t.comment(`the picture showed after ${Date.now() - started} ms`);
  t.equal(viewer.child.exitCode, null, `feh was still running (${viewer.out.stderr.trim().split('\n').slice(-2).join(' | ')})`);
  t.ok(share > 0.5, `the picture fills the screen (${(share * 100).toFixed(1)}% magenta)`);
});
