'use strict';
// Issue 13 items 3 and 4, the pure parts: which profile a program gets without --profile (its `programs`),
// and how the files named on a command line map to binds of exactly those files (--file-args).
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const dist = fs.existsSync(path.join(__dirname, '../../dist/lib')) ? '../../dist/lib' : '../../dist';
const { profileForProgram, listProfiles, resolveProfile, hostProfileContext, shippedProfilesDir, formatResolvedProfile } = require(`${dist}/profile/index`);
const { forwardFileArgs, FILE_ARGS_DIR } = require(`${dist}/plan/file-args`);
const { parseRunArgs } = require(`${dist}/cli/run-options`);
const desk = require(`${dist}/desktop/install`);

function ctxFor(dir) {
  return { env: { HOME: '/home/u' }, cwd: dir, uid: 1, gid: 1, exists: fs.existsSync, shippedDir: path.join(dir, 'shipped'), userDir: path.join(dir, 'user') };
}

t.test('the profile made for a program: user over shipped, base name as typed, never inherited', async (t) => {
  const dir = t.testdir({
    shipped: {
      'viewer.json5': '{ description: "v", programs: ["feh", "eog"], fileArgs: "ro" }',
      'sub.json5': '{ description: "extends viewer, made for no program of its own", extends: "viewer" }',
      'web.json5': '{ description: "w", programs: ["firefox"] }',
      'other.json5': '// mentions feh in a comment only\n{ description: "o" }',
    },
    user: {
      'mine.json5': '{ description: "m", programs: ["eog"], extends: "viewer" }',
      'web.json5': '{ description: "my web, claims nothing" }',
    },
  });
  const ctx = ctxFor(dir);
  t.same(profileForProgram('feh', ctx), { name: 'viewer', file: path.join(dir, 'shipped/viewer.json5'), source: 'shipped', program: 'feh' });
  t.equal(profileForProgram('/usr/bin/feh', ctx).name, 'viewer', 'a path counts by its base name');
  t.equal(profileForProgram('./feh', ctx).name, 'viewer');
  t.equal(profileForProgram('eog', ctx).name, 'mine', "the user's claim wins over a shipped one");
  t.equal(profileForProgram('firefox', ctx), undefined, "a user profile of the same name hides the shipped one's claims");
  t.equal(profileForProgram('fe', ctx), undefined, 'whole names only');
  t.equal(profileForProgram('sh', ctx), undefined);
  t.equal(profileForProgram('', ctx), undefined);
  t.equal(resolveProfile('sub', ctx).doc.programs, undefined, 'programs is not inherited');
  t.equal(resolveProfile('sub', ctx).doc.fileArgs.value, 'ro', 'fileArgs is');
  t.same(listProfiles(ctx).map((p) => [p.name, p.programs]), [['mine', ['eog']], ['other', []], ['sub', []], ['viewer', ['feh', 'eog']], ['web', []]]);
});

t.test('two claims at one level are refused in one line', async (t) => {
  const dir = t.testdir({
    shipped: { 'a.json5': '{ programs: ["tool"] }' },
    user: { 'x.json5': '{ programs: ["tool"] }', 'y.json5': '{ programs: ["tool"] }' },
  });
  t.throws(() => profileForProgram('tool', ctxFor(dir)), { message: /x\.json5 and .*y\.json5: both list "tool" in programs, expected one profile per program/ });
  const bad = t.testdir({ shipped: { 'a.json5': '{ programs: ["a/b"] }' }, user: {} });
  t.throws(() => resolveProfile('a', ctxFor(bad)), { message: /a\.json5:1:14: found "a\/b", expected a program name as typed/ });
});

t.test('the shipped profiles: each program claimed once, the ones they are made for', async (t) => {
  const claims = new Map();
  const ctx = { ...hostProfileContext(), userDir: '/nonexistent' };
  for (const p of listProfiles(ctx)) {
    t.notOk(p.error, `${p.name} is valid`);
    for (const prog of p.programs) {
      t.notOk(claims.has(prog), `${prog} is claimed by ${p.name} only (also: ${claims.get(prog) ?? 'none'})`);
      claims.set(prog, p.name);
    }
  }
  const want = { firefox: 'browser', 'firefox-esr': 'browser', chromium: 'chromium', 'chromium-browser': 'chromium', feh: 'image', mutool: 'pdf', mupdf: 'pdf', mousepad: 'editor' };
  for (const [prog, name] of Object.entries(want)) t.equal(profileForProgram(prog, ctx)?.name, name, `${prog}: ${name}`);
  t.equal(profileForProgram('id', ctx), undefined, 'an ordinary command gets no profile of its own (default)');
  t.ok(fs.readdirSync(shippedProfilesDir()).length >= 12);
  t.equal(resolveProfile('editor', ctx).doc.fileArgs.value, 'rw');
  t.equal(resolveProfile('image', ctx).doc.fileArgs.value, 'ro');
  t.equal(resolveProfile('pdf', ctx).doc.fileArgs.value, 'ro');
  const shown = formatResolvedProfile(resolveProfile('image', ctx));
  t.match(shown, /\n  programs: \["feh", "eog"\],  \/\/ .*image\.json5:\d+:\d+\n/, 'profile show: programs');
  t.match(shown, /\n  fileArgs: "ro",  \/\/ .*image\.json5:\d+:\d+\n/, 'profile show: fileArgs');
});

/** A host for forwardFileArgs over a real scratch tree. */
function fileHost(t) {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-fileargs-')));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  fs.mkdirSync(path.join(d, 'pics/sub'), { recursive: true });
  fs.mkdirSync(path.join(d, 'cfg/sandbox/profiles'), { recursive: true });
  for (const f of ['pics/a.png', 'pics/b.png', 'pics/-x.png', 'pics/sub/c.png', 'cfg/sandbox/profiles/p.json5']) fs.writeFileSync(path.join(d, f), 'x');
  fs.symlinkSync('a.png', path.join(d, 'pics/link.png'));
  fs.symlinkSync('../cfg/sandbox/profiles/p.json5', path.join(d, 'pics/sneaky.png'));
  fs.symlinkSync('sub', path.join(d, 'pics/dirlink'));
  const host = {
    cwd: path.join(d, 'pics'),
    kind: (p) => { try { const s = fs.statSync(p); return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other'; } catch { return null; } },
    realpath: (p) => fs.realpathSync(p),
    protectedPaths: [path.join(d, 'cfg/sandbox')],
  };
  return { d, host };
}

t.test('file arguments: each file bound alone, the program gets the inside path', async (t) => {
  const { d, host } = fileHost(t);
  const r = forwardFileArgs(['feh', '-F', 'a.png', `${d}/pics/sub/c.png`, '../pics/a.png', 'link.png'], 'ro', host, '--file-args ro');
  t.same(r.argv, ['feh', '-F', `${FILE_ARGS_DIR}/1/a.png`, `${FILE_ARGS_DIR}/2/c.png`, `${FILE_ARGS_DIR}/1/a.png`, `${FILE_ARGS_DIR}/1/a.png`],
    'options pass; a path with .. and a symlink to the same file share its bind');
  t.same(r.mounts.map((m) => [m.op, m.dst, m.src, m.readOnly, m.mode]), [
    ['tmpfs', FILE_ARGS_DIR, undefined, undefined, 0o555],
    ['dir', `${FILE_ARGS_DIR}/1`, undefined, undefined, 0o555],
    ['bind', `${FILE_ARGS_DIR}/1/a.png`, `${d}/pics/a.png`, true, undefined],
    ['dir', `${FILE_ARGS_DIR}/2`, undefined, undefined, 0o555],
    ['bind', `${FILE_ARGS_DIR}/2/c.png`, `${d}/pics/sub/c.png`, true, undefined],
  ], 'only the named files, never their directory');
  const rw = forwardFileArgs(['mousepad', 'link.png'], 'rw', host, '--file-args rw');
  t.same(rw.mounts.filter((m) => m.op === 'bind').map((m) => [m.src, m.dst, m.readOnly]), [[`${d}/pics/a.png`, `${FILE_ARGS_DIR}/1/link.png`, false]],
    'a symlink binds its target under the name given, read-write for an editor');
  t.same(forwardFileArgs(['feh', '--', '-x.png'], 'ro', host, 'f').argv, ['feh', '--', `${FILE_ARGS_DIR}/1/-x.png`], 'after --, a name starting with - is a file');
  t.same(forwardFileArgs(['feh', '-x.png'], 'ro', host, 'f').argv, ['feh', '-x.png'], 'before --, an option, as the program reads it');
  t.same(forwardFileArgs(['feh'], 'ro', host, 'f'), { argv: ['feh'], mounts: [], dir: null });
});

t.test('file arguments: marked ranges (a menu entry\'s %f/%F/%u/%U) and URIs', async (t) => {
  const { d, host } = fileHost(t);
  const r = forwardFileArgs(['sh', '-c', 'script', 'sh', '@@', '-x.png', '@@', '--opt', '@@u', `file://${d}/pics/b.png#page=2`, 'https://example.com/a.png', 'a.png', '@@'], 'ro', host, 'f');
  t.same(r.argv, ['sh', '-c', 'script', 'sh', `${FILE_ARGS_DIR}/1/-x.png`, '--opt', `file://${FILE_ARGS_DIR}/2/b.png#page=2`, 'https://example.com/a.png', `${FILE_ARGS_DIR}/3/a.png`],
    'outside the marks nothing is touched; in them every argument is a file; other schemes pass');
  const odd = forwardFileArgs(['v', '@@u', `file://${d}/pics/a%20b%23.png`], 'ro', { ...host, kind: () => 'file', realpath: (p) => p }, 'f');
  t.same(odd.argv, ['v', `file://${FILE_ARGS_DIR}/1/a%20b%23.png`], 'percent-encoded names decoded for the bind, encoded again for the program');
  t.equal(odd.mounts[2].src, `${d}/pics/a b#.png`);
  t.throws(() => forwardFileArgs(['v', '@@u', 'file://otherhost/etc/passwd', '@@'], 'ro', host, 'f'), { message: /^f: "file:\/\/otherhost\/etc\/passwd": not a local file URI/ });
  t.throws(() => forwardFileArgs(['v', '@@', '@@u', 'x'], 'ro', host, 'f'), { message: /a range opened inside another/ });
});

t.test('file arguments: refusals, each one line naming the argument', async (t) => {
  const { d, host } = fileHost(t);
  const cases = [
    ['sub', /"sub": .*\/pics\/sub is a directory, expected a file/],
    ['dirlink', /"dirlink": .*is a directory/],
    ['missing.png', /"missing.png": found no file .*missing\.png, expected an existing file/],
    ['', /"": empty file name/],
    ['/dev/null', /"\/dev\/null": \/dev\/null is not a regular file/],
    [`${d}/cfg/sandbox/profiles/p.json5`, /is part of sandbox's own files/],
    ['sneaky.png', /"sneaky.png": .*cfg\/sandbox\/profiles\/p\.json5 is part of sandbox's own files/],
    [`../cfg/sandbox/../sandbox/profiles/p.json5`, /is part of sandbox's own files/],
  ];
  for (const [arg, re] of cases) {
    t.throws(() => forwardFileArgs(['feh', '--', arg], 'ro', host, '--file-args ro'), { message: re }, JSON.stringify(arg));
    try {
      forwardFileArgs(['feh', '--', arg], 'ro', host, '--file-args ro');
    } catch (e) {
      t.notMatch(e.message, /\n/, 'one line');
      t.match(e.message, /^--file-args ro: /, 'names the option');
    }
  }
});

t.test('--file-args on the command line', async (t) => {
  t.same(parseRunArgs(['--file-args', 'rw', '--', 'mousepad', 'a'], '/').fileArgs, { mode: 'rw', origin: '--file-args rw' });
  t.same(parseRunArgs(['--file-args=profile', 'feh'], '/').fileArgs.mode, 'profile');
  t.throws(() => parseRunArgs(['--file-args', 'yes', 'feh'], '/'), { message: '--file-args yes: expected ro, rw or profile' });
});

t.test('desktop install: the program\'s own profile, and wrappers that forward files when the profile says how', async (t) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-ownprofile-desk-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  fs.mkdirSync(path.join(d, 'home'));
  fs.mkdirSync(path.join(d, 'sys/applications'), { recursive: true });
  const bin = path.join(d, 'bin');
  fs.mkdirSync(bin);
  for (const p of ['feh', 'firefox-esr']) fs.writeFileSync(path.join(bin, p), '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(d, 'sys/applications/feh.desktop'), '[Desktop Entry]\nType=Application\nName=Feh\nExec=feh %F\n');
  fs.writeFileSync(path.join(d, 'sys/applications/firefox-esr.desktop'), '[Desktop Entry]\nType=Application\nName=Firefox\nExec=firefox-esr %u\n');
  const ctx = {
    env: { HOME: path.join(d, 'home'), XDG_DATA_DIRS: path.join(d, 'sys'), PATH: bin },
    cwd: d,
    sandbox: '/abs/bin/sandbox',
    resolveProfile: (p) => p,
    hasProfile: () => false,
    profileFor: (prog) => ({ feh: 'image', 'firefox-esr': 'browser' })[prog],
    forwardsFiles: (p) => p === 'image',
  };
  const ff = desk.installEntry('firefox-esr', {}, ctx);
  t.equal(ff.profile, 'browser', 'firefox-esr gets browser (it got desktop, offline with a throwaway home, before)');
  const feh = desk.installEntry('feh', { wrapper: true }, ctx);
  t.equal(feh.profile, 'image');
  t.match(fs.readFileSync(feh.entry, 'utf8'), '\nExec=/abs/bin/sandbox run --profile image --file-args profile -- feh @@ %F @@\n');
  t.match(fs.readFileSync(feh.wrapper, 'utf8'), `exec '/abs/bin/sandbox' 'run' '--profile' 'image' '--file-args' 'profile' '--' '${bin}/feh' "$@"\n`);
  const plain = desk.installEntry('firefox-esr', { wrapper: true }, ctx);
  t.match(fs.readFileSync(plain.wrapper, 'utf8'), `exec '/abs/bin/sandbox' 'run' '--profile' 'browser' '--' '${bin}/firefox-esr' "$@"\n`, 'no fileArgs: the wrapper passes its arguments as they are');
});
