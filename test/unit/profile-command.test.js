'use strict';
// `sandbox profiles`, `sandbox profile show NAME`, `sandbox profile check FILE`.
const t = require('tap');
const fs = require('node:fs');
const path = require('node:path');
const dist = fs.existsSync(path.join(__dirname, '../../dist/lib')) ? '../../dist/lib' : '../../dist';
const { runProfilesCommand } = require(`${dist}/cli/profile-command`);
const { SandboxError } = require(`${dist}/errors`);

function setup(t) {
  const dir = t.testdir({
    shipped: {
      'base.json5': '{\n  description: "the base",\n  filesystem: [\n    { "ro-bind": "/usr" },\n    { tmpfs: "/tmp" },\n  ],\n  env: { keep: ["PATH"] },\n}\n',
      'app.json5': '{ description: "an app", extends: "base", filesystem: [ { drop: "/tmp" }, { bind: "~/x", optional: true } ], sockets: { x11: "optional" } }',
    },
    user: {
      'app.json5': '{ description: "my app", extends: "app", hostname: "me" }',
      'broken.json5': '{ description: "oops", hostnam: "x" }',
    },
  });
  const ctx = { env: { HOME: '/home/u' }, cwd: dir, uid: 1, gid: 1, exists: fs.existsSync, shippedDir: path.join(dir, 'shipped'), userDir: path.join(dir, 'user') };
  const out = [];
  const err = [];
  const io = { out: (s) => out.push(s), err: (s) => err.push(s) };
  return { dir, ctx, io, out, err };
}

t.test('profiles lists name, source and description', async (t) => {
  const { ctx, io, out } = setup(t);
  t.equal(runProfilesCommand(['profiles'], io, ctx), 0);
  const text = out.join('');
  t.match(text, /^NAME +SOURCE +PROGRAMS +DESCRIPTION\n/);
  t.match(text, /\napp +user +- +my app \(overrides the shipped one\)\n/);
  t.match(text, /\nbase +shipped +- +the base\n/);
  t.match(text, /\nbroken +user +- +\(invalid: .*broken\.json5:1:24: found unknown key "hostnam" in a profile, expected one of: /);
});

t.test('profile show: merged, each entry marked with its file:line:col', async (t) => {
  const { ctx, io, out } = setup(t);
  t.equal(runProfilesCommand(['profile', 'show', 'app'], io, ctx), 0);
  const text = out.join('');
  const base = path.join(ctx.shippedDir, 'base.json5');
  const app = path.join(ctx.shippedDir, 'app.json5');
  const mine = path.join(ctx.userDir, 'app.json5');
  t.match(text, `// profile app: ${mine}\n`);
  t.match(text, `// merged from (bases first): ${base}, ${app}, ${mine}\n`);
  t.match(text, `  description: "my app",  // ${mine}:1:16\n`);
  t.match(text, `  hostname: "me",  // ${mine}:1:52\n`);
  t.match(text, `    { "ro-bind": "/usr" },  // ${base}:4:5\n`);
  t.notMatch(text, 'tmpfs', 'the dropped entry is gone');
  t.match(text, `    { bind: "~/x", optional: true },  // ${app}:1:75\n`);
  t.match(text, `      "PATH",  // ${base}:7:17\n`);
  t.match(text, `    x11: "optional",  // ${app}:1:126\n`);
});

t.test('profile check', async (t) => {
  const { ctx, io, out, dir } = setup(t);
  const f = path.join(dir, 'shipped', 'app.json5');
  t.equal(runProfilesCommand(['profile', 'check', f], io, ctx), 0);
  t.same(out, [`${f}: ok\n`]);
  t.throws(() => runProfilesCommand(['profile', 'check', path.join(dir, 'user', 'broken.json5')], io, ctx), new SandboxError(`${path.join(dir, 'user', 'broken.json5')}:1:24: found unknown key "hostnam" in a profile, expected one of: description, programs, fileArgs, extends, namespaces, hostname, cwd, filesystem, env, capabilities, home, devices, sockets, seccomp, limits, dbus, landlock, newSession, dieWithParent, asPid1`));
  t.throws(() => runProfilesCommand(['profile', 'check'], io, ctx), { message: /expected exactly one NAME or FILE/ });
  t.throws(() => runProfilesCommand(['profile', 'lint', 'x'], io, ctx), { message: /found subcommand "lint", expected show or check/ });
  t.throws(() => runProfilesCommand(['profiles', 'x'], io, ctx), { message: /found extra argument "x"/ });
});

t.test('the shipped profiles through the commands, with the default context', async (t) => {
  const { io, out } = setup(t);
  t.equal(runProfilesCommand(['profiles'], io), 0);
  for (const n of ['minimal', 'default', 'desktop', 'browser', 'hpc', 'build']) t.match(out.join(''), new RegExp(`\\n${n} +(shipped|user) +\\S+ +\\S`));
  t.equal(runProfilesCommand(['profile', 'show', 'browser'], io), 0);
  t.match(out.join(''), /minimal\.json5:\d+:\d+\n/);
});
