'use strict';
const t = require('tap');
const h = require('./seccomp-helpers');
const { unknownGroupMembers, GROUPS, expandGroup } = require('../../dist/lib/seccomp/groups');
const { formatGroups, explainSyscall } = require('../../dist/lib/seccomp/explain');
const { sandboxPolicy } = require('../../dist/lib/seccomp/index');
const { runSeccompCommand } = require('../../dist/lib/cli/seccomp-command');
const fs = require('fs');
const os = require('os');
const path = require('path');

const err = (text, re, file = 'p.json5') => ({ name: 'SandboxError', message: re });

t.test('errors name file:line:col of the entry at fault', async (t) => {
  const cases = [
    [`{\n  default: 'errno',\n  rules: [\n    { allow: ['read', 'reed'] },\n  ],\n}`, /^p\.json5:4:23: unknown syscall "reed"/],
    [`{\n  default: 'errno',\n  rules: [{ allow: '@mounts' }],\n}`, /^p\.json5:3:13: unknown syscall group "@mounts"/],
    [`{\n  default: 'nope',\n}`, /^p\.json5:2:3: action must be one of/],
    [`{ rules: [] }`, /^p\.json5:1:1: the seccomp section needs "default"/],
    [`{\n  default: 'allow',\n  rules: [\n    { deny: 'read', errno: 'EWHAT' },\n  ],\n}`, /^p\.json5:4:21: unknown errno "EWHAT"/],
    [`{\n  default: 'allow',\n  rules: [\n    { deny: 'read', args: [{ arg: 6, op: '==', value: 1 }] },\n  ],\n}`, /^p\.json5:4:30: arg must be an argument index 0-5/],
    [`{\n  default: 'allow',\n  rules: [\n    { deny: 'read', args: [{ arg: 0, op: '=~', value: 1 }] },\n  ],\n}`, /^p\.json5:4:38: op must be one of/],
    [`{\n  default: 'allow',\n  rules: [\n    { deny: 'read', args: [{ arg: 0, op: '&', value: 1 }] },\n  ],\n}`, /^p\.json5:4:28: op "&" needs a mask/],
    [`{\n  default: 'allow',\n  rules: [\n    { deny: 'read', args: [{ arg: 0, op: '==', value: 18446744073709551615 }] },\n  ],\n}`, /^p\.json5:4:48: .* write 64-bit values as a string/],
    [`{\n  default: 'allow',\n  rules: [\n    { deny: 'read', colour: 'red' },\n  ],\n}`, /^p\.json5:4:21: unknown key "colour"/],
    [`{\n  default: 'allow',\n  rules: [\n    { deny: 'read', allow: 'write' },\n  ],\n}`, /^p\.json5:4:5: a rule has exactly one of/],
    [`{\n  default: 'allow',\n  rules: [\n    { allow: 'read', errno: 'EPERM' },\n  ],\n}`, /^p\.json5:4:22: errno only goes with the errno action/],
    [`{\n  default: 'allow',\n  loosenBase: [{ item: 'bpf' }],\n}`, /^p\.json5:3:16: loosening the base filter item "bpf" needs a reason/],
  ];
  for (const [text, re] of cases) t.throws(() => h.parseText(text, 'p.json5'), err(text, re), String(re));
});

t.test('a name missing on one architecture fails there unless optional', async (t) => {
  const p = h.parseText(`{\n  default: 'errno',\n  rules: [\n    { allow: ['read', 'open'] },\n  ],\n}`, 'p.json5');
  t.ok(h.compileFilter(p, 'x86_64').bytes.length > 0, 'fine on x86_64');
  t.throws(() => h.compileFilter(p, 'aarch64'), { message: /^p\.json5:4:23: syscall "open" does not exist on aarch64 \(add optional: true/ });
  const q = h.parseText(`{ default: 'errno', rules: [{ allow: ['read', 'open'], optional: true }] }`);
  const c = h.compileFilter(q, 'aarch64');
  t.equal(h.run(c, 'aarch64', 63).ret, 0x7fff0000, 'read still allowed on aarch64');
  const g = h.parseText(`{ default: 'errno', rules: [{ allow: '@file-system' }] }`);
  t.ok(h.compileFilter(g, 'aarch64'), 'group members missing on aarch64 are skipped');
});

t.test('values: numbers, strings, negatives, masks, errno names and numbers', async (t) => {
  const p = h.parseText(`{ default: 'allow', rules: [
    { deny: 'read', args: [{ arg: 0, op: '==', value: -100 }] },
    { deny: 'write', errno: 13, args: [{ arg: 1, op: '==', value: '0xffffffffffffffff' }] },
    { deny: 'close', errno: 'eacces', args: [{ arg: 0, op: '&', mask: 0xff00, value: 0x1200 }] },
  ] }`);
  t.same(p.rules[0].args[0], { arg: 0, op: '==', value: (1n << 64n) - 100n, mask: (1n << 64n) - 1n }, '-100 is two\'s complement');
  t.equal(p.rules[1].action.errno, 13);
  t.equal(p.rules[2].action.errno, os.constants.errno.EACCES);
  t.same(p.rules[2].args[0].mask, 0xff00n);
  const c = h.compileFilter(p, 'x86_64');
  t.equal(h.run(c, 'x86_64', 0, [BigInt.asUintN(64, -100n)]).ret, 0x50001, 'AT_FDCWD-like value matched');
  t.equal(h.run(c, 'x86_64', 0, [BigInt.asUintN(32, -100n)]).ret, 0x7fff0000, 'zero-extended -100 is a different 64-bit value');
  t.equal(h.run(c, 'x86_64', 3, [0xab12ffn]).ret, 0x5000d, 'masked equality');
});

t.test('groups', async (t) => {
  t.same(unknownGroupMembers(), [], 'every member is a syscall on x86_64 or aarch64, every nested group exists');
  for (const g of ['@mount', '@privileged', '@debug', '@module', '@raw-io', '@reboot', '@swap', '@clock', '@cpu-emulation',
    '@obsolete', '@keyring', '@resources', '@system-service', '@basic-io', '@file-system', '@io-event', '@ipc', '@network-io',
    '@process', '@signal', '@sync', '@timer', '@aio', '@chown', '@setuid', '@memlock', '@pkey', '@sandbox', '@default']) {
    t.ok(GROUPS.has(g), g);
  }
  const ss = expandGroup('@system-service');
  for (const n of ['read', 'openat', 'clone', 'execve', 'socket', 'futex', 'setuid']) t.ok(ss.includes(n), `@system-service has ${n}`);
  for (const n of ['mount', 'reboot', 'init_module', 'kexec_load', 'swapon', 'ptrace', 'bpf', 'iopl', 'settimeofday']) t.notOk(ss.includes(n), `@system-service lacks ${n}`);
  t.ok(expandGroup('@privileged').includes('setuid') && expandGroup('@privileged').includes('reboot'), '@privileged includes nested groups');
  const text = formatGroups();
  t.match(text, /^@mount: .*\n.*pivot_root/m);
  t.equal(text.split('\n').filter((l) => l.startsWith('@')).length, GROUPS.size);
});

t.test('explain says the verdict and the deciding rule', async (t) => {
  const text = `{\n  default: 'errno',\n  rules: [\n    { allow: '@system-service' },\n    { deny: 'ptrace', errno: 'ENOSYS' },\n  ],\n}`;
  const p = sandboxPolicy(h.parseText(text, 'x.json5'));
  t.match(explainSyscall(p, 'x86_64', 'read'), /^read \(x86_64 nr 0\): allow, whatever the arguments\.\n  decided by rule "allow @system-service" \(x\.json5:4:5\)/);
  t.match(explainSyscall(p, 'x86_64', 'ptrace'), /errno ENOSYS, whatever the arguments\.\n  decided by rule "deny ptrace" \(x\.json5:5:5\)/);
  t.match(explainSyscall(p, 'x86_64', 'mount'), /errno EPERM, whatever.*\n  decided by the default action \(x\.json5:2:3\)/);
  t.match(explainSyscall(p, 'aarch64', 'ioctl'), /depends on arg1.*\n  1\. if \(arg1 & 0xffffffff\) == 0x5412: errno EPERM  \(rule "deny ioctl TIOCSTI", base filter: tiocsti\)/);
  t.match(explainSyscall(p, 'aarch64', 'open'), /does not exist on aarch64/);
  t.throws(() => explainSyscall(p, 'x86_64', 'frobnicate'), { message: /unknown syscall "frobnicate"/ });
});

t.test('sandbox seccomp command', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seccomp-cmd-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'p.json5');
  fs.writeFileSync(file, `{ default: 'allow', rules: [{ deny: 'mkdir', errno: 'EROFS' }] }`);
  const out = [];
  const io = { out: (s) => out.push(s) };
  t.equal(runSeccompCommand(['groups'], io), 0);
  t.match(out.pop(), /@system-service/);
  t.equal(runSeccompCommand(['explain', file, 'mkdir', '--arch', 'x86_64'], io), 0);
  t.match(out.pop(), /errno EROFS, whatever the arguments\.\n  decided by rule "deny mkdir" \(.*p\.json5:1:29\)/);
  t.equal(runSeccompCommand(['explain', 'myprofile', 'bpf', '--arch=aarch64'], io, (n) => { t.equal(n, 'myprofile'); return { policy: null }; }), 0);
  t.match(out.pop(), /bpf \(aarch64 nr 280\): errno EPERM.*\n  decided by rule "deny bpf" \(base filter: bpf\)/);
  t.throws(() => runSeccompCommand(['explain', file], io), { message: /^usage: sandbox seccomp/ });
  t.throws(() => runSeccompCommand(['explain', file, 'read', '--arch', 'mips'], io), { message: /--arch: expected x86_64 or aarch64/ });
  t.throws(() => runSeccompCommand(['explain', path.join(dir, 'none.json'), 'read'], io), { message: /none\.json: No such file or directory$/ });
  fs.writeFileSync(file, `{ default: 'allow',\n  rules: [ { deny: 'mkdir' ] }`);
  t.throws(() => runSeccompCommand(['explain', file, 'read'], io), { message: /p\.json5:2:\d+: / });
});
