// bwrap mode's command line (lib/cli/bwrap.ts): bubblewrap's options read by the shared option table.
'use strict';
const t = require('tap');
const { parseBwrapArgs, expandArgsFds, bwrapSeccompPolicy, BWRAP_OPTIONS } = require('../../dist/lib/cli/bwrap');
const { SandboxError } = require('../../dist/lib/errors');

t.test('--args FD: NUL-separated arguments take its place, anywhere among the options', async (t) => {
  const read = (fd) => Buffer.from(fd === 5 ? '--setenv\0A\0b c\0' : '--dir\0/x');
  t.same(expandArgsFds(['--args', '5', '--args', '6', 'cmd', '--args', '5'], read), ['--setenv', 'A', 'b c', '--dir', '/x', 'cmd', '--args', '5'], 'the command\'s own arguments are left alone');
  t.same(expandArgsFds(['--setenv', '--args', '5', 'true'], read), ['--setenv', '--args', '5', 'true'], 'an option\'s value is not an option');
  t.throws(() => expandArgsFds(['--args', '5'], () => Buffer.from('--args\x005\0')), /^--args not supported in arguments file$/);
  t.throws(() => expandArgsFds(['--args', 'x']), /^Invalid fd: x$/);
});

t.test('bubblewrap\'s defaults: no profile, the host network, no die-with-parent; --unshare-all and --unshare-net', async (t) => {
  const r = parseBwrapArgs(['--ro-bind', '/', '/', 'true'], '/');
  t.equal(r.profile, null);
  t.equal(r.spec.shareNet, true);
  t.equal(r.spec.dieWithParent, false);
  t.equal(parseBwrapArgs(['--unshare-all', 'true'], '/').spec.shareNet, false);
  t.equal(parseBwrapArgs(['--unshare-net', '--share-net', 'true'], '/').spec.shareNet, true);
  t.same(parseBwrapArgs(['--unshare-user', '--unshare-pid', '--unshare-cgroup-try', 'x'], '/').command, ['x']);
});

t.test('sandbox-only options and --opt=value forms are unknown, in bubblewrap\'s words', async (t) => {
  for (const a of ['--profile', '--join', '--memory', '--print-plan', '--hostname=x']) {
    const e = t.throws(() => parseBwrapArgs([a, 'v', 'true'], '/'));
    t.ok(e instanceof SandboxError);
    t.equal(e.message, `Unknown option ${a}`);
  }
});

t.test('--cap-add ALL, --cap-drop in order', async (t) => {
  const caps = (a) => parseBwrapArgs([...a, 'true'], '/').spec.capAdd;
  t.ok(caps(['--cap-add', 'ALL']).length >= 41);
  t.notOk(caps(['--cap-add', 'ALL', '--cap-drop', 'CAP_SYS_ADMIN']).includes('CAP_SYS_ADMIN'));
  t.same(caps(['--cap-add', 'CAP_NET_RAW', '--cap-drop', 'ALL', '--cap-add', 'CAP_CHOWN']), ['CAP_CHOWN']);
  t.throws(() => caps(['--cap-add', 'CAP_FLY']), /^Unknown cap: CAP_FLY$/);
});

t.test('--chdir twice: a warning; descriptors: bubblewrap\'s Invalid fd', async (t) => {
  const r = parseBwrapArgs(['--chdir', '/a', '--chdir', '/b', 'true'], '/');
  t.equal(r.spec.cwd, '/b');
  t.same(r.warnings, ['Only the last --chdir option will take effect']);
  t.throws(() => parseBwrapArgs(['--info-fd', '-1', 'true'], '/'), /^Invalid fd: -1$/);
  t.same(parseBwrapArgs(['--json-status-fd', '7', 'true'], '/').spec.keepFds, [7]);
  t.throws(() => parseBwrapArgs(['--pidns', '5', 'true'], '/'), /^--pidns requires --userns/);
  t.throws(() => parseBwrapArgs(['--userns', '5', '--uid', '0', 'true'], '/'), /^--uid and --gid cannot be used with --userns/);
  t.equal(parseBwrapArgs(['--userns', '5', '--assert-userns-disabled', 'true'], '/').bwrap.disableUserns, true, 'asserted: the filter makes sure');
});

t.test('the seccomp policy: the base filter less namespaces, unless --disable-userns', async (t) => {
  const p = bwrapSeccompPolicy(parseBwrapArgs(['true'], '/').bwrap);
  t.same(p.loosen.map((l) => l.item), ['namespaces']);
  t.equal(bwrapSeccompPolicy(parseBwrapArgs(['--disable-userns', 'true'], '/').bwrap), null);
});

t.test('every bubblewrap 0.11 option has a place in the table', async (t) => {
  const bwrap011 = ['--help', '--version', '--argv0', '--level-prefix', '--unshare-all', '--share-net', '--unshare-net',
    '--userns', '--userns2', '--disable-userns', '--assert-userns-disabled', '--pidns', '--uid', '--gid', '--hostname',
    '--chdir', '--clearenv', '--setenv', '--unsetenv', '--lock-file', '--sync-fd', '--bind', '--bind-try', '--dev-bind',
    '--dev-bind-try', '--ro-bind', '--ro-bind-try', '--bind-fd', '--ro-bind-fd', '--remount-ro', '--overlay-src', '--overlay',
    '--tmp-overlay', '--ro-overlay', '--exec-label', '--file-label', '--proc', '--dev', '--tmpfs', '--mqueue', '--dir',
    '--file', '--bind-data', '--ro-bind-data', '--symlink', '--seccomp', '--add-seccomp-fd', '--block-fd',
    '--userns-block-fd', '--info-fd', '--json-status-fd', '--new-session', '--die-with-parent', '--as-pid-1', '--cap-add',
    '--cap-drop', '--perms', '--size', '--chmod'];
  for (const o of bwrap011) t.ok(BWRAP_OPTIONS[o], o);
});

t.test('README\'s bwrap mode section names every base filter item the mode keeps', async (t) => {
  const fs = require('fs');
  const path = require('path');
  const { BASE_ITEMS } = require('../../dist/lib/seccomp/base');
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## bwrap mode'), readme.indexOf('\n## ', readme.indexOf('## bwrap mode') + 3));
  for (const b of BASE_ITEMS) {
    if (b.item === 'namespaces' || b.sharedPidOnly) continue; // loosened in bwrap mode; never a shared pid namespace there
    t.match(section, `\`${b.item}\``, b.item);
  }
});
