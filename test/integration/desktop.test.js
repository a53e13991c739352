// sandbox desktop through the real CLI as uid 65534: install a fake app's entry, validate it, run its
// rewritten Exec through sh and see the program inside a sandbox, then list/remove undo it exactly.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const h = require('../lib/harness.js');
const entry = require('../../dist/lib/desktop/entry.js');

function tree(dir) {
  const out = [];
  const walk = (p) => {
    for (const n of fs.readdirSync(p).sort()) {
      const f = path.join(p, n);
      const st = fs.lstatSync(f);
      out.push(`${path.relative(dir, f)} ${st.mode.toString(8)} ${st.size}`);
      if (st.isDirectory()) walk(f);
    }
  };
  walk(dir);
  return out;
}

t.test('install, validate, launch, list, remove', async (t) => {
  const d = h.userTmpdir('sbx-desktop-');
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  const home = path.join(d, 'home');
  const sys = path.join(d, 'sys');
  for (const p of [home, sys, path.join(sys, 'applications'), path.join(home, 'keep')]) {
    fs.mkdirSync(p, { recursive: true });
    if (h.IS_ROOT) fs.chownSync(p, h.TEST_UID, h.TEST_GID);
  }
  // The fake app prints its uid map and NoNewPrivs: outside a sandbox uid 65534 maps the whole range.
  const app = path.join(sys, 'fake-app');
  fs.writeFileSync(app, '#!/bin/sh\necho "args:$*"\necho "map:$(cat /proc/self/uid_map | tr -s " " | tr "\\n" "|")"\ngrep NoNewPrivs /proc/self/status\n', { mode: 0o755 });
  fs.chmodSync(app, 0o755);
  fs.writeFileSync(path.join(sys, 'applications', 'fake-app.desktop'), [
    '[Desktop Entry]', '# fake', 'Type=Application', 'Name=Fake', 'Name[de]=Falsch',
    `Exec=env GREETING="hello world" ${app} --x "a b" %U`, `TryExec=${app}`, 'DBusActivatable=true',
    'MimeType=text/x-fake;', 'Actions=other;', '', '[Desktop Action other]', 'Name=Other', `Exec=${app} --other`, '',
  ].join('\n'));
  // minimal has no /tmp: a profile of the test's own adds the fake app's directory, read-only.
  const profile = path.join(d, 'fake.json5');
  fs.writeFileSync(profile, `{ description: "fake app", extends: "minimal", filesystem: [{ "ro-bind": ${JSON.stringify(sys)} }] }\n`);
  const env = h.cleanEnv({ HOME: home, XDG_DATA_DIRS: sys });
  const before = tree(home);

  const inst = h.sandboxCli(['desktop', 'install', 'fake-app', '--profile', profile, '--wrapper'], { env });
  t.equal(inst.status, 0, inst.stderr);
  const file = path.join(home, '.local/share/applications/fake-app.desktop');
  const text = fs.readFileSync(file, 'utf8');
  t.notMatch(text, /DBusActivatable/);
  t.match(text, `X-Sandbox-Profile=${profile}\n`);
  t.equal(fs.statSync(path.join(home, '.local/bin/fake-app')).mode & 0o777, 0o755);

  if (h.have('desktop-file-validate')) {
    const v = spawnSync('desktop-file-validate', [file], { encoding: 'utf8' });
    t.equal(v.status, 0, `desktop-file-validate: ${v.stdout}${v.stderr}`);
  } else t.skip('desktop-file-validate is not installed (Debian package desktop-file-utils)');

  const list = h.sandboxCli(['desktop', 'list'], { env });
  t.equal(list.status, 0);
  t.match(list.stdout, /fake-app\.desktop\s+\S+fake\.json5\s+\S+sys\/applications\/fake-app\.desktop/);

  const foreign = path.join(home, '.local/share/applications/mine.desktop');
  fs.writeFileSync(foreign, '[Desktop Entry]\nType=Application\nName=M\nExec=true\n');
  const refuse = h.sandboxCli(['desktop', 'remove', 'mine'], { env });
  t.equal(refuse.status, 125);
  t.equal(refuse.stderr.trim().split('\n').length, 1, 'one line');
  fs.unlinkSync(foreign);

  const why = h.cannotLaunch();
  if (why) t.skip(`launching: ${why}`);
  else {
    // The launcher's job done by hand: field codes expanded, the rest quoted for sh, as uid 65534. The file
    // of %U reaches the program at its inside path (sandbox run --file-args, bound alone).
    const doc = path.join(d, 'doc one');
    fs.writeFileSync(doc, 'x');
    if (h.IS_ROOT) fs.chownSync(doc, h.TEST_UID, h.TEST_GID);
    for (const [group, want] of [['Desktop Entry', /args:--x a b \/run\/sandbox-files\/1\/doc one\n/], ['Desktop Action other', /args:--other/]]) {
      const lines = entry.parseEntryLines(text);
      const exec = entry.splitExec(entry.getKey(lines, group, 'Exec'), file)
        .flatMap((a) => (a === '%U' ? [doc] : [a.replace(/%%/g, '%')]));
      const sh = exec.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
      const [cmd, argv] = h.asUser('sh', ['-c', sh]);
      const r = spawnSync(cmd, argv, { env, encoding: 'utf8', timeout: 30000 });
      t.equal(r.status, 0, `${group}: ${r.stderr}`);
      t.match(r.stdout, want, group);
      t.notMatch(r.stdout, /map:\s*0\s+0\s+4294967295/, `${group}: not the host's user namespace`);
      t.match(r.stdout, /NoNewPrivs:\s*1/, `${group}: no_new_privs set, as the sandbox does`);
    }
    const [cmd, argv] = h.asUser(path.join(home, '.local/bin/fake-app'), ['w1']);
    const w = spawnSync(cmd, argv, { env, encoding: 'utf8', timeout: 30000 });
    t.equal(w.status, 0, w.stderr);
    t.match(w.stdout, /args:--x a b w1/, 'the wrapper passes its arguments');
    t.match(w.stdout, /NoNewPrivs:\s*1/);
  }

  const rm = h.sandboxCli(['desktop', 'remove', 'fake-app'], { env });
  t.equal(rm.status, 0, rm.stderr);
  t.same(tree(home), before, 'remove leaves the home exactly as it was');
  const empty = h.sandboxCli(['desktop', 'list'], { env });
  t.equal(empty.stdout.trim().split('\n').length, 1, 'list shows only its header');
});
