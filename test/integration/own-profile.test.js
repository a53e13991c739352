// Issue 13 items 3 and 4 with real sandboxes, as the unprivileged test user: `sandbox run PROGRAM` picks the
// profile made for PROGRAM and says so in one line; --file-args binds exactly the files a command names (a
// wrapper's arguments, a menu entry's %F and %U), and the attacks on that: symlinks, directories, "..",
// names starting with "-", sandbox's own files, the file's neighbours.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { sandbox, sandboxCli, userTmpdir, cleanEnv, cannotLaunch, have, asUser, ensureCheckoutReachable, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`own profile and file arguments: ${why}`);
  process.exit(0);
}
const dist = fs.existsSync(path.join(__dirname, '../../dist/lib')) ? '../../dist/lib' : '../../dist';
const entry = require(`${dist}/desktop/entry`);

const own = (f) => { if (IS_ROOT) fs.chownSync(f, TEST_UID, TEST_GID); };
function write(f, text, mode = 0o644) {
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text, { mode });
  fs.chmodSync(f, mode);
}
/** Everything under dir owned by the test user. */
function ownTree(dir) {
  own(dir);
  for (const n of fs.readdirSync(dir)) {
    const p = path.join(dir, n);
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) { if (IS_ROOT) fs.lchownSync(p, TEST_UID, TEST_GID); } else if (st.isDirectory()) ownTree(p);
    else own(p);
  }
}

/** A home with a user profile claiming a test program, and a pictures directory with a file and its neighbours. */
function scratch(t) {
  const root = userTmpdir('sbx-ownprofile-');
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const home = path.join(root, 'home');
  const work = path.join(root, 'work');
  const pics = path.join(root, 'pics');
  write(path.join(home, '.config/sandbox/profiles/sbxtool.json5'), '{ description: "made for the test tool", extends: "default", programs: ["sbx-own-tool"], hostname: "tool-profile" }\n');
  write(path.join(home, '.config/sandbox/secret.txt'), 'config secret\n');
  write(path.join(work, 'sbx-own-tool'), '#!/bin/sh\nhostname\n', 0o755);
  write(path.join(pics, 'a.txt'), 'picture a\n');
  write(path.join(pics, 'neighbour.txt'), 'neighbour\n');
  write(path.join(pics, '-dash.txt'), 'dash\n');
  write(path.join(pics, 'sub/deep.txt'), 'deep\n');
  fs.symlinkSync('a.txt', path.join(pics, 'link.txt'));
  fs.symlinkSync(path.join(home, '.config/sandbox/secret.txt'), path.join(pics, 'to-config.txt'));
  ownTree(root);
  return { root, home, work, pics, env: cleanEnv({ HOME: home }) };
}

t.test('sandbox run PROGRAM picks the profile made for it and says so in one line', async (t) => {
  const s = scratch(t);
  const r = sandbox(['./sbx-own-tool'], { env: s.env, cwd: s.work });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'tool-profile\n', 'the user profile claiming sbx-own-tool ran it');
  t.equal(r.stderr, 'sandbox: using profile sbxtool (made for sbx-own-tool); --profile default to use the default\n');
  const d = sandbox(['--profile', 'default', './sbx-own-tool'], { env: s.env, cwd: s.work });
  t.equal(d.stdout, 'sandbox\n', '--profile default picks the default');
  t.equal(d.stderr, '', 'and says nothing');
  const other = sandbox(['--', 'sh', '-c', 'hostname'], { env: s.env, cwd: s.work });
  t.same([other.stdout, other.stderr], ['sandbox\n', ''], 'a program no profile claims gets default, silently');
  const listing = sandboxCli(['profiles'], { env: s.env, cwd: s.work });
  t.match(listing.stdout, /\nsbxtool +user +sbx-own-tool +made for the test tool\n/, 'sandbox profiles shows the programs');
  t.match(listing.stdout, /\nbrowser +shipped +firefox,firefox-esr +/);
});

t.test('firefox-esr --version gets browser', { skip: have('firefox-esr') ? false : 'firefox-esr is not installed' }, async (t) => {
  const s = scratch(t);
  const r = sandbox(['firefox-esr', '--version'], { env: s.env, cwd: s.work, timeout: 60000 });
  t.match(r.stderr, /^sandbox: using profile browser \(made for firefox-esr\); --profile default to use the default\n/);
  t.match(r.stdout, /Mozilla Firefox/);
});

t.test('--file-args: exactly the named files, read-only or read-write, and nothing of their directory', async (t) => {
  const s = scratch(t);
  const probe = 'for f in "$@"; do echo "arg $f"; cat "$f"; done; ls -A /run/sandbox-files/1; ls "$0" 2>&1 | head -1; cat "$0/neighbour.txt" 2>&1; (echo x >> "$1") 2>&1 || echo ro';
  const r = sandbox(['--file-args', 'ro', '--', 'sh', '-c', probe, s.pics, '@@', '../pics/a.txt', '@@'], { env: s.env, cwd: s.work });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^arg \/run\/sandbox-files\/1\/a\.txt\npicture a\na\.txt\n/, 'the program got the inside path of the file (a path with "..")');
  t.match(r.stdout, /No such file or directory\n.*No such file or directory\n/, 'the directory and its other files are not there');
  t.match(r.stdout, /Read-only file system\nro\n$/, 'read-only');
  t.equal(fs.readFileSync(path.join(s.pics, 'a.txt'), 'utf8'), 'picture a\n');

  const w = sandbox(['--file-args', 'rw', '--', 'sh', '-c', 'echo edited >> "$1"; mv "$1" "$1.new" 2>/dev/null && echo renamed; cat "$1"', 'sh', '@@', path.join(s.pics, 'link.txt'), '@@'], { env: s.env, cwd: s.work });
  t.equal(w.status, 0, w.stderr);
  t.equal(w.stdout, 'picture a\nedited\n', 'read-write through a symlink: the target is written, nothing renamed');
  t.equal(fs.readFileSync(path.join(s.pics, 'a.txt'), 'utf8'), 'picture a\nedited\n', 'the host file changed');
  t.ok(fs.lstatSync(path.join(s.pics, 'link.txt')).isSymbolicLink(), 'the symlink is still a symlink');

  const dash = sandbox(['--file-args', 'ro', '--', 'cat', '--', '-dash.txt'], { env: s.env, cwd: s.pics });
  t.equal(dash.stdout, 'dash\n', 'after --, a name starting with - is a file');
  const opt = sandbox(['--file-args', 'ro', '--', 'sh', '-c', 'echo "$@"', 'sh', '@@', '-dash.txt', '@@'], { env: s.env, cwd: s.pics });
  t.equal(opt.stdout, '/run/sandbox-files/1/-dash.txt\n', 'in a marked range it is a file, and reaches the program as an absolute path, never an option');
});

t.test('attacks from inside on a forwarded read-write file: its directory stays out of reach', async (t) => {
  const s = scratch(t);
  const before = fs.readdirSync(s.pics).sort();
  const script = [
    'f=/run/sandbox-files/1/a.txt',
    // mountinfo names the host directory; the neighbour by that path, and by climbing from the file's own directory
    'root=$(grep " $f " /proc/self/mountinfo | cut -d" " -f4); echo "hint ${root%/*}"',
    'cat "${root%/*}/neighbour.txt" 2>/dev/null && echo NEIGHBOUR-BY-HINT',
    'cat /run/sandbox-files/1/../neighbour.txt /run/sandbox-files/neighbour.txt 2>/dev/null && echo NEIGHBOUR-BY-CLIMB',
    'ln "$f" ./hard 2>/dev/null && echo HARDLINK',
    'mv "$f" ./moved 2>/dev/null && echo MOVED',
    'umount "$f" 2>/dev/null && echo UNMOUNTED',
    'chmod 755 /run/sandbox-files/1 2>/dev/null; ln -s /etc/passwd /run/sandbox-files/1/planted 2>/dev/null; echo "inside: $(ls /run/sandbox-files/1 | tr "\\n" " ")"',
    'echo written > "$f" && echo wrote',
  ].join('; ');
  const r = sandbox(['--file-args', 'rw', '--', 'sh', '-c', script, 'sh', '@@', path.join(s.pics, 'a.txt'), '@@'], { env: s.env, cwd: s.work });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, `hint ${s.pics}\n`, 'mountinfo shows where the file came from (a name, not a way in)');
  t.notMatch(r.stdout, /NEIGHBOUR|HARDLINK|MOVED|UNMOUNTED/, 'no neighbour, no link, move or unmount of the bind');
  t.match(r.stdout, /\nwrote\n$/, 'the file itself takes the write');
  t.equal(fs.readFileSync(path.join(s.pics, 'a.txt'), 'utf8'), 'written\n');
  t.same(fs.readdirSync(s.pics).sort(), before, 'nothing appeared beside the file on the host (a link planted inside stays inside)');
  // mv across devices copies, then fails to remove the bind: a copy of what the program could read anyway
  t.notOk(fs.existsSync(path.join(s.work, 'hard')), 'no hard link (EXDEV)');
  t.ok(fs.existsSync(path.join(s.pics, 'a.txt')), 'the host file is still in place');
});

t.test('--file-args refusals: one line naming the argument, exit 125, nothing run', async (t) => {
  const s = scratch(t);
  const cases = [
    [s.pics, /is a directory, expected a file/],
    ['sub', /"sub": .*\/pics\/sub is a directory/],
    ['missing.txt', /found no file .*missing\.txt/],
    [path.join(s.home, '.config/sandbox/secret.txt'), /is part of sandbox's own files/],
    ['to-config.txt', /"to-config.txt": .*\.config\/sandbox\/secret\.txt is part of sandbox's own files/],
    ['../home/.config/sandbox/profiles/sbxtool.json5', /is part of sandbox's own files/],
    ['/dev/null', /is not a regular file/],
  ];
  for (const [arg, re] of cases) {
    const r = sandbox(['--file-args', 'ro', '--', 'sh', '-c', 'echo ran', 'sh', '@@', arg, '@@'], { env: s.env, cwd: s.pics });
    t.equal(r.status, 125, `${arg}: exit 125`);
    t.equal(r.stdout, '', 'nothing ran');
    t.match(r.stderr, re, arg);
    t.match(r.stderr, /^sandbox: --file-args ro: "[^\n]*\n$/, 'one line naming the option and the argument');
  }
});

/** Runs FILE (a wrapper) as the test user; resolves {status, stdout, stderr}. */
function runAsUser(file, args, { env, cwd, timeout = 30000 }) {
  ensureCheckoutReachable();
  const [cmd, argv] = asUser(file, args);
  const child = spawn(cmd, argv, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, timeout);
  return { child, out: () => ({ stdout, stderr }), done: new Promise((resolve) => child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); })) };
}

/** The command a desktop launcher runs for the installed entry's Exec, with %F and %U given these values. */
function launcherArgv(entryFile, values) {
  const lines = entry.parseEntryLines(fs.readFileSync(entryFile, 'utf8'));
  const exec = entry.splitExec(entry.getKey(lines, entry.MAIN_GROUP, 'Exec'), entryFile);
  return exec.flatMap((a) => (a === '%F' || a === '%U' ? values : a === '%f' || a === '%u' ? values.slice(0, 1) : [a.replace(/%%/g, '%')]));
}

t.test("a menu entry's %F and %U: the launcher's files bound alone, file:// URIs mapped, other URLs passed", async (t) => {
  const s = scratch(t);
  const probe = 'for f in "$@"; do echo "arg $f"; done; cat /run/sandbox-files/*/*; ls /run/sandbox-files/1; cat "$0" 2>&1 | head -1';
  write(path.join(s.root, 'apps/files.desktop'), `[Desktop Entry]\nType=Application\nName=Files\nExec=sh -c '${probe}' ${path.join(s.pics, 'neighbour.txt')} %F\n`);
  write(path.join(s.root, 'apps/uris.desktop'), `[Desktop Entry]\nType=Application\nName=Uris\nExec=sh -c 'echo "$@"; cat /run/sandbox-files/1/*' sh %U\n`);
  ownTree(path.join(s.root, 'apps'));
  const inst = sandboxCli(['desktop', 'install', path.join(s.root, 'apps/files.desktop'), '--profile', 'image'], { env: s.env, cwd: s.work });
  t.equal(inst.status, 0, inst.stderr);
  const installed = path.join(s.home, '.local/share/applications/files.desktop');
  t.match(fs.readFileSync(installed, 'utf8'), / run --profile image --file-args profile -- sh -c .* @@ %F @@\n/);
  const argv = launcherArgv(installed, [path.join(s.pics, 'a.txt'), path.join(s.pics, 'link.txt'), path.join(s.pics, '-dash.txt')]);
  const r = await runAsUser(argv[0], argv.slice(1), { env: s.env, cwd: s.work }).done;
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'arg /run/sandbox-files/1/a.txt\narg /run/sandbox-files/1/a.txt\narg /run/sandbox-files/2/-dash.txt\npicture a\ndash\na.txt\n' +
    `cat: ${path.join(s.pics, 'neighbour.txt')}: No such file or directory\n`, 'each file once, alone; a path outside %F is not forwarded');
  const u = sandboxCli(['desktop', 'install', path.join(s.root, 'apps/uris.desktop'), '--profile', 'image'], { env: s.env, cwd: s.work });
  t.equal(u.status, 0, u.stderr);
  const uargv = launcherArgv(path.join(s.home, '.local/share/applications/uris.desktop'), [`file://${s.pics}/a.txt`, 'https://example.com/x.png']);
  const ur = await runAsUser(uargv[0], uargv.slice(1), { env: s.env, cwd: s.work }).done;
  t.equal(ur.status, 0, ur.stderr);
  t.equal(ur.stdout, 'file:///run/sandbox-files/1/a.txt https://example.com/x.png\npicture a\n');
});

t.test('pdf: mutool picks pdf by itself and opens a document named on its command line', { skip: have('mutool') ? false : 'mutool is not installed (Debian package mupdf-tools)' }, async (t) => {
  const s = scratch(t);
  const doc = path.join(s.pics, 'doc.pdf');
  write(doc, onePagePdf());
  own(doc);
  const r = sandbox(['--file-args', 'profile', 'mutool', 'info', '@@', doc, '@@'], { env: s.env, cwd: s.work, timeout: 30000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /^sandbox: using profile pdf \(made for mutool\)/);
  t.match(r.stdout, /\/run\/sandbox-files\/1\/doc\.pdf/, 'mutool opened the inside path');
  t.match(r.stdout, /Pages: 1/);
});

function onePagePdf() {
  const objs = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>'];
  let out = '%PDF-1.4\n';
  const offs = objs.map((o, i) => { const at = out.length; out += `${i + 1} 0 obj\n${o}\nendobj\n`; return at; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offs.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return out;
}

t.test('image: `sandbox desktop install feh --wrapper`, then ~/.local/bin/feh PICTURE shows it on Xvfb', { skip: !have('feh') ? 'feh is not installed (Debian package feh)' : !have('Xvfb') ? 'Xvfb is not installed' : !fs.existsSync('/usr/share/applications/feh.desktop') ? 'feh.desktop is missing' : false }, async (t) => {
  const { startXvfb, killGroup } = require('./apps/run');
  const { decodeXwd, encodePng, colourShare } = require('./apps/image');
  const s = scratch(t);
  const inst = sandboxCli(['desktop', 'install', 'feh', '--wrapper'], { env: s.env, cwd: s.work });
  t.equal(inst.status, 0, inst.stderr);
  t.match(inst.stdout, /\(profile image, from \/usr\/share\/applications\/feh\.desktop\)/, 'feh gets image, the profile made for it');
  const wrapper = path.join(s.home, '.local/bin/feh');
  t.match(fs.readFileSync(wrapper, 'utf8'), /'--profile' 'image' '--file-args' 'profile' '--' '\/usr\/bin\/feh' "\$@"/);
  const w = 320;
  const h = 240;
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([255, 0, 255, 255], i * 4);
  const picture = path.join(s.pics, 'a.png');
  fs.writeFileSync(picture, encodePng({ width: w, height: h, rgba }));
  fs.chmodSync(picture, 0o644);
  own(picture);
  const fbdir = userTmpdir('sbx-fb-');
  const x = await startXvfb(fbdir, { width: 640, height: 480 });
  let viewer = null;
  t.teardown(async () => { if (viewer) await killGroup(viewer.child); await x.stop(); fs.rmSync(fbdir, { recursive: true, force: true }); });
  const started = Date.now();
  // a relative path, from the pictures directory, as a user types it
  viewer = runAsUser(wrapper, ['--no-xinerama', '--fullscreen', '--zoom=fill', 'a.png'], { env: { ...s.env, DISPLAY: `:${x.display}`, XAUTHORITY: x.xauthority }, cwd: s.pics, timeout: 60000 });
  let share = 0;
  while (Date.now() - started < 20000 && viewer.child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 250));
    share = colourShare(decodeXwd(fs.readFileSync(x.framebuffer)), [255, 0, 255]);
    if (share > 0.5) break;
  }
  t.comment(`the picture showed after ${Date.now() - started} ms`);
  t.equal(viewer.child.exitCode, null, `feh was still running (${viewer.out().stderr.trim().split('\n').slice(-2).join(' | ')})`);
  t.ok(share > 0.5, `the picture fills the screen (${(share * 100).toFixed(1)}% magenta)`);
});

t.test('with Landlock rules the forwarded files are allowed too; a compiled plan refuses --file-args', async (t) => {
  const s = scratch(t);
  const ll = ['--landlock-ro', '/usr', '--landlock-ro', '/etc', '--landlock-ro', '/lib', '--landlock-ro', '/lib64', '--landlock-ro', '/bin'];
  const control = sandbox([...ll, '--ro-bind', path.join(s.pics, 'a.txt'), '/tmp/a.txt', '--', '/usr/bin/cat', '/tmp/a.txt'], { env: s.env, cwd: s.work });
  if (control.status === 0) t.skip('the kernel applies no Landlock filesystem rules here');
  else {
    const r = sandbox([...ll, '--file-args', 'ro', '--', '/usr/bin/cat', '@@', path.join(s.pics, 'a.txt'), '@@'], { env: s.env, cwd: s.work });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, 'picture a\n', 'a rule for /run/sandbox-files comes with the files');
  }
  const c = sandboxCli(['compile', '--file-args', 'ro', '-o', path.join(s.work, 'x.plan'), '--', 'cat', '@@', path.join(s.pics, 'a.txt'), '@@'], { env: s.env, cwd: s.work });
  t.equal(c.status, 125);
  t.equal(c.stderr, "sandbox: --file-args ro: file arguments can't be compiled into a plan (each launch names its own files): use sandbox run\n");
  t.notOk(fs.existsSync(path.join(s.work, 'x.plan')));
});
