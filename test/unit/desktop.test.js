// sandbox desktop: the Exec quoting and the rewrite of sample entries, and install/list/remove on temp dirs.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const entry = require('../../dist/lib/desktop/entry.js');
const desk = require('../../dist/lib/desktop/install.js');

const SBX = '/opt/my sandbox/bin/sandbox';

function rewrite(text, profile = 'desktop') {
  return entry.rewriteEntry(text, { sandbox: SBX, profile, original: '/usr/share/applications/x.desktop', file: 'x.desktop' }).text;
}

t.test('splitExec and quoteExecArg follow the specification', async (t) => {
  t.same(entry.splitExec('foo %U', 'f'), ['foo', '%U']);
  t.same(entry.splitExec('"/opt/My App/run" --x "a\\"b" "\\$HOME" "\\`x\\`" "back\\\\slash" %f', 'f'),
    ['/opt/My App/run', '--x', 'a"b', '$HOME', '`x`', 'back\\slash', '%f']);
  t.same(entry.splitExec("sh -c 'echo a  b'", 'f'), ['sh', '-c', 'echo a  b']);
  t.same(entry.splitExec('  a\tb  ', 'f'), ['a', 'b']);
  t.same(entry.splitExec('a ""', 'f'), ['a', '']);
  t.throws(() => entry.splitExec('a "b', 'x.desktop:3'), /x\.desktop:3: Exec has an unterminated double quote/);
  t.equal(entry.quoteExecArg('plain'), 'plain');
  t.equal(entry.quoteExecArg('%U'), '%U');
  t.equal(entry.quoteExecArg('a b'), '"a b"');
  t.equal(entry.quoteExecArg('$x`y"z\\'), '"\\$x\\`y\\"z\\\\"');
  t.equal(entry.quoteExecArg(''), '""');
  for (const c of ' \t"\'\\><~|&;$*?#()`') t.match(entry.quoteExecArg(`a${c}b`), /^".*"$/, `reserved ${JSON.stringify(c)} quoted`);
  t.equal(entry.literalExecArg('/p/100%/sandbox'), '/p/100%%/sandbox');
  // round trip through the file's string escapes
  const args = ['/a b/c', 'x"y', '$V', 'back\\', '%u', '100%%'];
  const value = entry.formatExec([], args);
  t.same(entry.splitExec(entry.unescapeString(value), 'f'), args);
  t.same(entry.execForWrapper(['app', '--url=%u', '%F', '100%%', '-x']), ['app', '100%', '-x']);
});

const FIREFOX = `[Desktop Entry]
# Translators: keep this
Version=1.0
Name=Firefox ESR
Name[de]=Firefox ESR Webbrowser
Comment=Browse the Web
Comment[fr]=Naviguer sur le Web
Exec=/usr/lib/firefox-esr/firefox-esr %u
TryExec=firefox-esr
Terminal=false
Type=Application
Icon=firefox-esr
Categories=Network;WebBrowser;
MimeType=text/html;x-scheme-handler/http;
StartupWMClass=Firefox-esr
DBusActivatable=true
Actions=new-window;new-private-window;

[Desktop Action new-window]
Name=New Window
Name[de]=Neues Fenster
Exec=/usr/lib/firefox-esr/firefox-esr --new-window %u

[Desktop Action new-private-window]
Name=New Private Window
Exec=/usr/lib/firefox-esr/firefox-esr --private-window %u

[X-Other Group]
Exec=left alone
`;

t.test('firefox-like entry: every Exec of the main and action groups, DBusActivatable gone, the rest unchanged', async (t) => {
  const out = rewrite(FIREFOX, 'firefox-esr');
  const pre = '"/opt/my sandbox/bin/sandbox" run --profile firefox-esr --file-args profile --';
  t.match(out, `\nExec=${pre} /usr/lib/firefox-esr/firefox-esr @@u %u @@\n`);
  t.match(out, `\nExec=${pre} /usr/lib/firefox-esr/firefox-esr --new-window @@u %u @@\n`);
  t.match(out, `\nExec=${pre} /usr/lib/firefox-esr/firefox-esr --private-window @@u %u @@\n`);
  t.match(out, '\nExec=left alone\n', 'a non-action group is not ours to touch');
  t.notMatch(out, /DBusActivatable/);
  t.match(out, 'X-Sandbox-Profile=firefox-esr\nX-Sandbox-Original=/usr/share/applications/x.desktop\n\n[Desktop Action new-window]');
  // every other line byte for byte, in order
  const changed = (l) => l.startsWith('Exec=') || l.startsWith('DBusActivatable') || l.startsWith('X-Sandbox-');
  t.same(out.split('\n').filter((l) => !changed(l)), FIREFOX.split('\n').filter((l) => !changed(l)));
  t.match(out, 'TryExec=firefox-esr\n', 'TryExec still names the real program');
  t.match(out, '# Translators: keep this\n');
  t.match(out, 'Name[de]=Firefox ESR Webbrowser\n');
});

t.test('tricky Exec lines', async (t) => {
  const cases = [
    ['env FOO=bar BAZ="a b" app %U', 'env FOO=bar "BAZ=a b" app @@u %U @@'],
    ['"/opt/My App/bin/app" --flag %F', '"/opt/My App/bin/app" --flag @@ %F @@'],
    ['sh -c "echo \\\\"hi\\\\" \\\\$1 100%%" sh %f', 'sh -c "echo \\\\"hi\\\\" \\\\$1 100%%" sh @@ %f @@'],
    ['app --file=%f', 'app --file=%f'],
    ['app --title=%c --icon %i %k', 'app --title=%c --icon %i %k'],
    ["app 'single quoted'", 'app "single quoted"'],
    ['app "back\\\\\\\\slash"', 'app "back\\\\\\\\slash"'],
  ];
  for (const [orig, want] of cases) {
    const out = rewrite(`[Desktop Entry]\nType=Application\nName=X\nExec=${orig}\n`);
    const files = want.includes('@@') ? '--file-args profile ' : '';
    t.match(out, `\nExec="/opt/my sandbox/bin/sandbox" run --profile desktop ${files}-- ${want}\n`, orig);
  }
  // a sandbox path with a percent sign and a backslash
  const odd = entry.rewriteEntry('[Desktop Entry]\nType=Application\nName=X\nExec=a\n', { sandbox: '/p/100%\\x/sandbox', profile: 'p', original: '/o', file: 'f' }).text;
  t.match(odd, 'Exec="/p/100%%\\\\\\\\x/sandbox" run --profile p -- a\n');
  // the launcher's view of the rewritten line: the sandbox prefix, then the original words
  const v = entry.unescapeString(/\nExec=(.*)\n/.exec(rewrite('[Desktop Entry]\nType=Application\nName=X\nExec=env A="x y" "/b c/d" %U\n'))[1]);
  t.same(entry.splitExec(v, 'f'), [SBX, 'run', '--profile', 'desktop', '--file-args', 'profile', '--', 'env', 'A=x y', '/b c/d', '@@u', '%U', '@@']);
  const plain = entry.rewriteEntry('[Desktop Entry]\nType=Application\nName=X\nExec=app %f\n', { sandbox: '/s', profile: 'p', original: '/o', file: 'f', forwardFiles: false }).text;
  t.match(plain, 'Exec=/s run --profile p -- app %f\n', 'forwardFiles: false leaves the field codes alone');
});

t.test('spaces around =, keys kept in place, header-only main group', async (t) => {
  const out = rewrite('[Desktop Entry]\nType=Application\nName=X\nExec = app %u\n\n\n[Desktop Action a]\nExec=app -a\n');
  t.match(out, 'Exec = "/opt/my sandbox/bin/sandbox" run --profile desktop --file-args profile -- app @@u %u @@\nX-Sandbox-Profile=desktop\n');
  t.match(out, '\n\n\n[Desktop Action a]', 'blank lines before the next group kept');
});

t.test('refusals', async (t) => {
  t.throws(() => rewrite('[Other]\nExec=a\n'), /found no \[Desktop Entry\] group/);
  t.throws(() => rewrite('[Desktop Entry]\nType=Link\nURL=http://x\n'), /found Type=Link, expected Type=Application/);
  t.throws(() => rewrite('[Desktop Entry]\nType=Application\nName=X\nDBusActivatable=true\n'), /found no Exec/);
  t.throws(() => rewrite('[Desktop Entry]\nType=Application\nExec=a\nX-Sandbox-Profile=p\n'), /already a sandboxed entry/);
  t.throws(() => rewrite('[Desktop Entry]\nType=Application\nExec="a\n'), /x\.desktop:3: Exec has an unterminated/);
});

function scratch(t) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-desktop-unit-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  fs.mkdirSync(path.join(d, 'home'));
  fs.mkdirSync(path.join(d, 'sys', 'applications', 'vendor'), { recursive: true });
  const ctx = {
    env: { HOME: path.join(d, 'home'), XDG_DATA_DIRS: path.join(d, 'sys'), PATH: process.env.PATH },
    cwd: d,
    sandbox: '/abs/bin/sandbox',
    resolveProfile: (p) => { if (p === 'nope') throw new Error('no profile'); return p; },
    hasProfile: (n) => n === 'withprofile',
  };
  return { d, ctx };
}

function tree(dir) {
  const out = [];
  const walk = (p) => {
    for (const n of fs.readdirSync(p).sort()) {
      const f = path.join(p, n);
      out.push(path.relative(dir, f));
      if (fs.statSync(f).isDirectory()) walk(f);
    }
  };
  walk(dir);
  return out;
}

t.test('install, list, remove on temp dirs', async (t) => {
  const { d, ctx } = scratch(t);
  fs.writeFileSync(path.join(d, 'sys/applications/withprofile.desktop'), '[Desktop Entry]\nType=Application\nName=W\nExec=sh %F\n');
  fs.writeFileSync(path.join(d, 'sys/applications/vendor/sub.desktop'), '[Desktop Entry]\nType=Application\nName=S\nExec=sub\n');
  const before = tree(d);
  const r = desk.installEntry('withprofile', { wrapper: true }, ctx);
  t.equal(r.profile, 'withprofile', 'the app\'s own profile when one exists');
  t.equal(r.entry, path.join(d, 'home/.local/share/applications/withprofile.desktop'));
  const wrap = fs.readFileSync(r.wrapper, 'utf8');
  t.match(wrap, /^#!\/bin\/sh\n/);
  t.match(wrap, `exec '/abs/bin/sandbox' 'run' '--profile' 'withprofile' '--' '${fs.realpathSync('/bin') === '/usr/bin' ? '/usr/bin/sh' : '/bin/sh'}' "$@"\n`);
  t.equal(fs.statSync(r.wrapper).mode & 0o777, 0o755);
  const r2 = desk.installEntry('vendor-sub.desktop', {}, ctx);
  t.equal(r2.profile, 'desktop', 'desktop when the app has no profile');
  t.equal(r2.original, path.join(d, 'sys/applications/vendor/sub.desktop'), 'subdirectory ids');
  t.same(desk.listEntries(ctx).map((e) => [e.id, e.profile, !!e.wrapper]), [['vendor-sub.desktop', 'desktop', false], ['withprofile.desktop', 'withprofile', true]]);
  // reinstall over our own entry is fine; over a foreign one needs --force
  desk.installEntry('withprofile', { profile: 'other', wrapper: true }, ctx);
  fs.writeFileSync(path.join(d, 'home/.local/share/applications/foreign.desktop'), '[Desktop Entry]\nType=Application\nName=F\nExec=f\n');
  fs.writeFileSync(path.join(d, 'sys/applications/foreign.desktop'), '[Desktop Entry]\nType=Application\nName=F\nExec=f\n');
  t.throws(() => desk.installEntry(path.join(d, 'sys/applications/foreign.desktop'), {}, ctx), /exists and was not written by sandbox desktop.*--force/);
  t.throws(() => desk.removeEntry('foreign', ctx), /was not written by sandbox desktop/);
  t.throws(() => desk.installEntry('foreign', {}, ctx), /is the entry to sandbox itself/);
  fs.unlinkSync(path.join(d, 'home/.local/share/applications/foreign.desktop'));
  fs.writeFileSync(path.join(d, 'home/.local/bin/vendor-sub'), '#!/bin/sh\necho mine\n');
  t.throws(() => desk.installEntry('vendor-sub', { wrapper: true }, ctx), /\.local\/bin\/vendor-sub: exists and was not written/);
  fs.unlinkSync(path.join(d, 'home/.local/bin/vendor-sub'));
  t.throws(() => desk.installEntry('missing-app', {}, ctx), /found no missing-app\.desktop in/);
  fs.unlinkSync(path.join(d, 'sys/applications/foreign.desktop'));
  desk.installEntry('withprofile', {}, ctx);
  t.ok(desk.listEntries(ctx).find((e) => e.id === 'withprofile.desktop').wrapper, 'a reinstall keeps the earlier wrapper recorded');
  desk.removeEntry('withprofile', ctx);
  desk.removeEntry('vendor-sub.desktop', ctx);
  t.same(tree(d), before, 'remove undid everything, the directories install made included');
  t.throws(() => desk.removeEntry('withprofile', ctx), /found no .*withprofile\.desktop/);
});

t.test('desktop-file-validate accepts rewritten samples', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v desktop-file-validate']).status !== 0) return t.skip('desktop-file-validate is not installed (Debian package desktop-file-utils)');
  const { d } = scratch(t);
  const f = path.join(d, 'firefox-esr.desktop');
  fs.writeFileSync(f, rewrite(FIREFOX.replace(/\n\[X-Other Group\][^]*$/, '\n'), 'firefox-esr'));
  const r = spawnSync('desktop-file-validate', [f], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.notMatch(r.stdout + r.stderr, /error/i);
});
