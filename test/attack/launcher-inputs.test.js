// Escapes through the launcher's own inputs (issue 12 items 4, 6, 10, 13, 14, 16): a compiled plan the sandbox
// could rewrite, the working directory being the home, sandbox's configuration directory before it exists,
// bind sources from variables that are symlinks planted by an earlier sandbox, the `node` the launcher runs,
// and protective mounts under CAP_SYS_ADMIN. Each one is done the way the attacker did it, as the test user
// (uid 65534) with a scratch home it owns, and must now fail without changing a host file.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');
const { sandboxCli, asUser, userTmpdir, cleanEnv, cannotLaunch, have, IS_ROOT, TEST_UID, TEST_GID, ROOT } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`the launcher's inputs: ${why}`);
  process.exit(0);
}
const EXEC = path.join(ROOT, 'native', 'build', 'sandbox-exec');

function own(p, mode) {
  if (mode !== undefined) fs.chmodSync(p, mode);
  if (IS_ROOT) fs.chownSync(p, TEST_UID, TEST_GID);
  return p;
}
const mkdir = (p, mode = 0o755) => {
  fs.mkdirSync(p, { recursive: true });
  return own(p, mode);
};
const write = (p, text, mode = 0o644) => {
  fs.writeFileSync(p, text);
  return own(p, mode);
};
const hash = (p) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
const lines = (s) => s.split('\n').filter(Boolean);

/** A scratch world: base/ (the test user's) holding home/ (with a .bashrc and ~/.config) and home/proj/. */
function world({ config = true } = {}) {
  const base = userTmpdir('sbx-inputs-');
  const home = mkdir(path.join(base, 'home'), 0o700);
  write(path.join(home, '.bashrc'), '# the user\'s own\n');
  if (config) mkdir(path.join(home, '.config'), 0o700);
  const proj = mkdir(path.join(home, 'proj'));
  return { base, home, proj, env: cleanEnv({ HOME: home }) };
}
const run = (w, args, opts = {}) => sandboxCli(['run', ...args], { cwd: opts.cwd ?? w.proj, env: { ...w.env, ...(opts.env ?? {}) } });
const cli = (w, args, opts = {}) => sandboxCli(args, { cwd: opts.cwd ?? w.proj, env: { ...w.env, ...(opts.env ?? {}) } });
const exec = (w, plan, args, env = {}) => spawnSync(...asUser(EXEC, [plan, '--', ...args]), { cwd: w.proj, env: { ...w.env, ...env }, encoding: 'utf8' });
/** Plants what an earlier sandbox would: run as the test user inside a sandbox that binds dir read-write. */
const plant = (w, dir, script) => run(w, ['--no-profile', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--bind', dir, dir, '--', 'sh', '-c', script], { cwd: dir });

t.test('item 6: cd ~ && sandbox run -- sh -c "echo x >> ~/.bashrc"', async (t) => {
  const w = world();
  const before = hash(path.join(w.home, '.bashrc'));
  for (const profile of ['default', 'build', 'hpc']) {
    const r = run(w, ['--profile', profile, '--', 'sh', '-c', 'echo x >> ~/.bashrc && echo WROTE'], { cwd: w.home });
    t.not(r.stdout, 'WROTE\n', `${profile}: the write fails`);
    t.match(r.stderr, new RegExp(`^sandbox: note: \\S+\\.json5:\\d+:\\d+: ${w.home} \\(from "\\$\\{CWD\\}"\\) is the home directory: bound read-only`, 'm'), `${profile}: says why`);
    t.match(r.stderr, /Read-only file system/, `${profile}: EROFS`);
    // ordinary use from a project directory is unchanged
    const proj = run(w, ['--profile', profile, '--', 'sh', '-c', 'touch made && echo WROTE'], { cwd: w.proj });
    t.equal(proj.stdout, 'WROTE\n', `${profile}: a project directory stays writable`);
    t.notMatch(proj.stderr, /note:/, `${profile}: no note from a project directory`);
  }
  // from a directory above the home, in a profile that puts nothing else at $HOME: the home in it is read-only
  const cwdOnly = write(path.join(w.base, 'cwd-only.json5'), '{ extends: "minimal", filesystem: [{ bind: "${CWD}" }] }\n');
  const above = run(w, ['--profile', cwdOnly, '--', 'sh', '-c', 'echo x >> home/.bashrc; touch planted && echo WROTE'], { cwd: w.base });
  t.equal(above.stdout, 'WROTE\n', `the directory above stays writable: ${above.stderr}`);
  t.match(above.stderr, new RegExp(`^sandbox: note: ${cwdOnly}:1:\\d+: ${w.base} \\(from "\\$\\{CWD\\}"\\) holds the home directory: the home in it is bound read-only`, 'm'));
  t.match(above.stderr, /home\/\.bashrc: Read-only file system/);
  t.equal(hash(path.join(w.home, '.bashrc')), before, '~/.bashrc unchanged');
});

t.test('item 10: a program creates ~/.config/sandbox/profiles/default.json5 before the directory exists', async (t) => {
  const w = world();
  const cfg = path.join(w.home, '.config', 'sandbox');
  const evil = 'mkdir -p ~/.config/sandbox/profiles; echo "{ extends: \\"minimal\\", filesystem: [{ bind: \\"~\\" }] }" > ~/.config/sandbox/profiles/default.json5 && echo PLANTED';
  const r = run(w, ['--bind', path.join(w.home, '.config'), path.join(w.home, '.config'), '--', 'sh', '-c', evil]);
  t.not(r.stdout, 'PLANTED\n', 'the profile is not written');
  t.notOk(fs.existsSync(path.join(cfg, 'profiles', 'default.json5')), 'no user profile on the host');
  t.equal(fs.statSync(cfg).mode & 0o777, 0o700, 'the launcher made ~/.config/sandbox first, mode 0700');
  t.equal(fs.statSync(cfg).uid, IS_ROOT ? TEST_UID : process.getuid(), 'owned by the user');
  t.same(fs.readdirSync(cfg), [], 'and it stays empty');
  // with no ~/.config at all and the whole home bound
  const w2 = world({ config: false });
  const r2 = run(w2, ['--bind', w2.home, w2.home, '--', 'sh', '-c', `${evil}; ln -s /tmp ~/.config/sandbox/profiles 2>/dev/null; rmdir ~/.config/sandbox 2>/dev/null; true`]);
  t.equal(r2.status, 0, r2.stderr);
  t.not(r2.stdout, 'PLANTED\n');
  t.same(fs.readdirSync(path.join(w2.home, '.config', 'sandbox')), [], 'nothing planted in the new ~/.config/sandbox');
  const show = cli(w2, ['profile', 'show', 'default']);
  t.match(show.stdout + show.stderr, new RegExp(path.join(ROOT, 'profiles', 'default.json5').replace(/[.]/g, '\\.')), 'the next run uses the shipped default');
});

t.test('item 16: --bind ~ ~ --uid 0 --cap-add CAP_SYS_ADMIN, then umount ~/.config/sandbox', { skip: !have('mount') && 'mount (util-linux) is missing' }, async (t) => {
  const w = world();
  const cfg = mkdir(path.join(w.home, '.config', 'sandbox'), 0o700);
  const script = [
    'umount ~/.config/sandbox 2>/dev/null; echo umount $?',
    'umount -l ~/.config/sandbox 2>/dev/null; echo umount_lazy $?',
    'mount -o remount,rw,bind ~/.config/sandbox 2>/dev/null; echo remount_rw $?',
    'touch ~/.config/sandbox/planted 2>/dev/null; echo write $?',
    'mkdir -p /tmp/m && mount --bind ~ /tmp/m 2>/dev/null; echo bind_home $?',
    'touch /tmp/m/.config/sandbox/planted 2>/dev/null; echo write_through_bind $?',
    'mkdir -p /tmp/t && mount -t tmpfs none /tmp/t; echo tmpfs $?',
  ].join('; ');
  const r = run(w, ['--bind', w.home, w.home, '--uid', '0', '--cap-add', 'CAP_SYS_ADMIN', '--', 'sh', '-c', script]);
  t.equal(r.status, 0, r.stderr);
  const got = Object.fromEntries(lines(r.stdout).map((l) => l.split(' ')));
  for (const k of ['umount', 'umount_lazy', 'remount_rw', 'write', 'bind_home', 'write_through_bind']) t.not(got[k], '0', `${k} fails`);
  t.equal(got.tmpfs, '0', 'CAP_SYS_ADMIN still mounts new file systems');
  t.same(fs.readdirSync(cfg), [], 'nothing planted in ~/.config/sandbox');
  // a read-only bind stays read-only too
  const ro = run(w, ['--ro-bind', w.home, w.home, '--uid', '0', '--cap-add', 'CAP_SYS_ADMIN', '--', 'sh', '-c',
    'mount -o remount,rw,bind ~ 2>/dev/null; echo remount_rw $?; touch ~/planted 2>/dev/null; echo write $?']);
  t.equal(ro.stdout, 'remount_rw 32\nwrite 1\n', ro.stderr);
  t.notOk(fs.existsSync(path.join(w.home, 'planted')));
});

t.test('item 4: compiled plans', async (t) => {
  const w = world();
  // -o inside the plan's own writable binds
  for (const [profile, out] of [['default', ['-o', 'job.plan']], ['hpc', ['--output=job.plan']]]) {
    const r = cli(w, ['compile', '--profile', profile, ...out, '--', 'true']);
    t.equal(r.status, 125, `${profile}: refused`);
    // default binds the working directory; hpc also the host's /tmp, above this scratch home
    t.match(r.stderr, new RegExp(`^sandbox: (-o|--output) job\\.plan: ${w.proj}/job\\.plan is inside (${w.proj}|/tmp), which the plan binds read-write \\(\\S+\\): the program could rewrite its own plan; write it elsewhere\\n$`));
    t.notOk(fs.existsSync(path.join(w.proj, 'job.plan')), `${profile}: no plan written`);
  }

  // a plan outside them is protected in every later sandbox
  const plans = mkdir(path.join(w.home, 'plans'));
  const plan = path.join(plans, 'job.plan');
  const c = cli(w, ['compile', '--no-profile', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '-o', plan, '--', 'true']);
  t.equal(c.status, 0, c.stderr);
  const list = path.join(w.home, '.config', 'sandbox', 'compiled-plans');
  t.match(fs.existsSync(list) ? fs.readFileSync(list, 'utf8') : '', new RegExp(`^\\{"plan":"${plan}","rw":\\[\\],"digest":"[0-9a-f]{64}"\\}\\n$`), 'listed in sandbox\'s own state, with its digest');
  const before = hash(plan);
  const rewrite = [
    'printf "#!/bin/sh\\ntouch /tmp/pwned\\n" > job.plan 2>/dev/null; echo replace $?',
    'echo "3:cap,2:21," >> job.plan 2>/dev/null; echo append $?',
    'mv job.plan old.plan 2>/dev/null; echo rename $?',
    'rm -f job.plan 2>/dev/null; echo remove $?',
    'chmod 666 job.plan 2>/dev/null; echo chmod $?',
  ].join('; ');
  for (const [what, args, cwd] of [
    ['--bind of its directory', ['--bind', plans, plans, '--', 'sh', '-c', `cd ${plans}; ${rewrite}`], w.proj],
    ['default from its directory', ['--', 'sh', '-c', rewrite], plans],
    ['--bind ~ ~', ['--bind', w.home, w.home, '--', 'sh', '-c', `cd ${plans}; ${rewrite}`], w.proj],
  ]) {
    const r = run(w, args, { cwd });
    t.equal(r.status, 0, `${what}: ${r.stderr}`);
    t.notMatch(r.stdout, / 0$/m, `${what}: every change fails`);
    t.equal(hash(plan), before, `${what}: the plan is unchanged`);
  }
  t.equal(exec(w, plan, ['true']).status, 0, 'the plan still runs');

  // a plan written where an earlier compiled plan binds read-write
  const a = cli(w, ['compile', '--no-profile', '--ro-bind', '/', '/', '--bind', w.proj, w.proj, '-o', path.join(plans, 'a.plan'), '--', 'true']);
  t.equal(a.status, 0, a.stderr);
  const b = cli(w, ['compile', '--no-profile', '--ro-bind', '/', '/', '-o', path.join(w.proj, 'b.plan'), '--', 'true'], { cwd: w.home });
  t.equal(b.status, 125);
  t.equal(b.stderr, `sandbox: -o ${w.proj}/b.plan: ${w.proj}/b.plan is inside ${w.proj}, which the compiled plan ${plans}/a.plan binds read-write: its program could rewrite this plan; write it elsewhere\n`);
  t.notOk(fs.existsSync(path.join(w.proj, 'b.plan')));

  // sandbox-exec refuses a plan others could have written
  fs.chmodSync(plan, 0o666);
  const loose = exec(w, plan, ['true']);
  t.equal(loose.status, 125);
  t.equal(loose.stderr, `sandbox: ${plan}: writable by others (mode 666): chmod go-w it, or compile it again\n`);
  fs.chmodSync(plan, 0o755);
  if (IS_ROOT) {
    fs.chownSync(plan, 0, 0);
    const foreign = exec(w, plan, ['true']);
    t.equal(foreign.status, 125);
    t.equal(foreign.stderr, `sandbox: ${plan}: owned by uid 0, not by you (uid ${TEST_UID}): a plan runs only for the user who compiled it\n`);
    own(plan);
  }
});

t.test('item 13: bind sources from variables that are symlinks planted by an earlier sandbox', async (t) => {
  const w = world();
  const link = path.join(w.base, 'X');
  t.equal(plant(w, w.base, `ln -s ${w.home} ${link}`).status, 0, 'an earlier sandbox planted X -> ~');
  for (const v of ['TMPDIR', 'SCRATCH', 'PMIX_SERVER_TMPDIR']) {
    const r = run(w, ['--profile', 'hpc', '--', 'sh', '-c', `touch "$${v}/pwned" && echo WROTE`], { env: { [v]: link } });
    t.equal(r.status, 125, `${v}: refused`);
    t.equal(lines(r.stderr).length, 1, `${v}: one line`);
    t.match(r.stderr, new RegExp(`^sandbox: \\S+hpc\\.json5:\\d+:\\d+: found ${link} \\(from "\\$\\{${v}\\}"\\) going through the symlink ${link} -> ${w.home} in ${w.base}, which this user can write`));
  }
  t.notOk(fs.existsSync(path.join(w.home, 'pwned')), 'nothing written in the home');
  const real = mkdir(path.join(w.base, 'real-tmp'));
  const ok = run(w, ['--profile', 'hpc', '--', 'sh', '-c', 'touch "$TMPDIR/fine" && echo WROTE'], { env: { TMPDIR: real } });
  t.equal(ok.stdout, 'WROTE\n', `a real directory still works: ${ok.stderr}`);
});

t.test('item 13: a persistent home planted as a symlink to the real home', async (t) => {
  const w = world();
  // before sandbox has made its data directory, a sandbox with the home read-write plants browser's home
  const p = run(w, ['--bind', w.home, w.home, '--', 'sh', '-c', 'mkdir -p ~/.local/share/sandbox/homes && ln -s ~ ~/.local/share/sandbox/homes/browser']);
  t.equal(p.status, 0, p.stderr);
  const r = run(w, ['--profile', 'browser', '--', 'sh', '-c', 'echo x >> ~/.bashrc && echo WROTE'], { cwd: '/' });
  t.equal(r.status, 125);
  t.equal(lines(r.stderr).length, 1);
  t.match(r.stderr, new RegExp(`^sandbox: \\S+browser\\.json5:\\d+:\\d+: found ${w.home}/\\.local/share/sandbox/homes/browser a symlink \\(to ${w.home}\\), expected a directory for the persistent home`));
  t.equal(fs.readFileSync(path.join(w.home, '.bashrc'), 'utf8'), '# the user\'s own\n', '~/.bashrc unchanged');
  // once the directory is there, it is sandbox's own: read-only wherever a writable bind shows it
  fs.rmSync(path.join(w.home, '.local', 'share', 'sandbox', 'homes', 'browser'));
  const again = run(w, ['--bind', w.home, w.home, '--', 'sh', '-c', 'ln -s ~ ~/.local/share/sandbox/homes/browser 2>/dev/null; echo $?']);
  t.equal(again.stdout, '1\n', 'no symlink planted');
  t.notOk(fs.existsSync(path.join(w.home, '.local', 'share', 'sandbox', 'homes', 'browser')));
});

t.test('item 13: a compiled plan\'s bind source swapped for a symlink', async (t) => {
  const w = world();
  const data = mkdir(path.join(w.base, 'data'));
  const plan = path.join(w.base, 'p.plan');
  const c = cli(w, ['compile', '--no-profile', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--bind', data, data, '-o', plan, '--', 'true']);
  t.equal(c.status, 0, c.stderr);
  t.equal(exec(w, plan, ['sh', '-c', `touch ${data}/ok`]).status, 0);
  // another directory, then a symlink to the home, where the bound directory was
  t.equal(plant(w, w.base, `mv ${data} ${data}.orig && ln -s ${w.home} ${data}`).status, 0);
  const r = exec(w, plan, ['sh', '-c', `touch ${data}/pwned`]);
  t.equal(r.status, 125);
  t.equal(r.stderr, `sandbox: ${plan}: ${data} is not the one the plan was compiled with (another file or directory is there now, or a symlink leads elsewhere): run sandbox compile again\n`);
  // a symlink to the same directory passes the inode check; the stage binds without following symlinks
  fs.rmSync(data);
  t.equal(plant(w, w.base, `ln -s ${data}.orig ${data}`).status, 0);
  const same = exec(w, plan, ['sh', '-c', `touch ${data}/pwned`]);
  t.equal(same.status, 125);
  t.equal(same.stderr, `sandbox: --bind ${data} ${data}: Too many levels of symbolic links\n`);
  // another boot (device and inode numbers are not comparable then): the stage alone still refuses
  const bytes = fs.readFileSync(plan, 'latin1');
  const boot = /10:input-boot,(\d+):([^,]+),/.exec(bytes);
  t.ok(boot, 'the plan records its boot');
  if (boot) {
    const other = path.join(w.base, 'other-boot.plan');
    write(other, Buffer.from(bytes.replace(boot[0], `10:input-boot,${boot[1]}:${'0'.repeat(Number(boot[1]))},`), 'latin1'), 0o755);
    fs.rmSync(data);
    t.equal(plant(w, w.base, `ln -s ${w.home} ${data}`).status, 0);
    const r2 = exec(w, other, ['sh', '-c', `touch ${data}/pwned`]);
    t.equal(r2.status, 125);
    t.equal(r2.stderr, `sandbox: --bind ${data} ${data}: Too many levels of symbolic links\n`);
  }
  t.notOk(fs.existsSync(path.join(w.home, 'pwned')), 'nothing written in the home');
});

t.test('item 14: the launcher never runs a node from a relative PATH entry', async (t) => {
  const w = world();
  const marker = path.join(w.base, 'ran-outside');
  const fake = `#!/bin/sh\\ntouch ${marker}\\nexit 3\\n`;
  // the sandbox (default binds the working directory read-write) plants node where a relative PATH finds it
  const p = run(w, ['--', 'sh', '-c', `mkdir -p node_modules/.bin && printf '${fake}' > node_modules/.bin/node && chmod +x node_modules/.bin/node && cp node_modules/.bin/node node`]);
  t.equal(p.status, 0, p.stderr);
  t.ok(fs.existsSync(path.join(w.proj, 'node_modules', '.bin', 'node')), 'planted');
  for (const [what, env] of [
    ['PATH=./node_modules/.bin:...', { PATH: './node_modules/.bin:/usr/local/bin:/usr/bin:/bin' }],
    ['an empty PATH entry (the working directory)', { PATH: ':/usr/local/bin:/usr/bin:/bin' }],
    ['PATH=.:...', { PATH: '.:/usr/local/bin:/usr/bin:/bin' }],
    ['an absolute PATH entry into the bound directory', { PATH: `${w.proj}/node_modules/.bin:/usr/local/bin:/usr/bin:/bin` }],
  ]) {
    const r = cli(w, ['--version'], { env });
    t.equal(r.status, 0, `${what}: ${r.stderr}`);
    t.match(r.stdout, /^sandbox \d+\.\d+\.\d+\n$/, `${what}: the real sandbox answered`);
    t.notOk(fs.existsSync(marker), `${what}: the planted node did not run`);
  }
  const forced = cli(w, ['--version'], { env: { SANDBOX_NODE: './node' } });
  t.equal(forced.status, 0);
  t.equal(forced.stderr, 'sandbox: SANDBOX_NODE=./node is not an absolute path: ignored\n');
  t.notOk(fs.existsSync(marker), 'a relative SANDBOX_NODE is not run');
});
