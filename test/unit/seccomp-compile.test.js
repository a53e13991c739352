'use strict';
const t = require('tap');
const path = require('path');
const fs = require('fs');
const h = require('./seccomp-helpers');
const { baseFilterPolicy } = require('../../dist/lib/seccomp/base');
const { sandboxPolicy } = require('../../dist/lib/seccomp/index');
const { SECCOMP_DATA } = require('../../dist/lib/seccomp/bpf');
const { AUDIT_ARCH } = require('../../dist/lib/seccomp/arch');

const PROFILE = `{
  default: 'errno', errno: 'EACCES',
  rules: [
    { allow: ['@system-service'] },
    { deny: ['@privileged', 'ptrace'], errno: 'ENOSYS' },
    { names: 'kexec_load', action: 'kill-process' },
    { names: 'swapon', action: 'trap' },
    { names: 'sync', action: 'log' },
    { deny: 'ioctl', args: [{arg: 1, op: '&', mask: '0xffffffff', value: 0x5401}] },
    { deny: 'fcntl', args: [{arg: 1, op: '>', value: '0x100000000'}] },
    { deny: 'fcntl', args: [{arg: 1, op: '<', value: 2}, {arg: 2, op: '!=', value: -1}], errno: 'EBADF' },
    { allow: 'mount', args: [{arg: 3, op: '>=', value: '0xffffffff00000001'}] },
    { deny: 'lseek', args: [{arg: 2, op: '<=', value: 1}, {arg: 0, op: '==', value: 3, mask: 0xff}] },
    { deny: 'madvise', args: [{arg: 2, op: '&', mask: '0xffff000000000000', value: '0x8000000000000000'}] },
    { deny: 'mprotect', args: [{arg: 5, op: '>', value: 0, mask: '0xffffffff00000000'}] },
    { allow: 'chroot', args: [{arg: 0, op: '==', value: 7}] },
  ],
}`;

const dockerFile = require('../lib/shared-testdata').sharedTestdata('seccomp', 'docker-default.json');

function policies() {
  const list = [['base filter', baseFilterPolicy()], ['profile', h.parseText(PROFILE)], ['profile over base', sandboxPolicy(h.parseText(PROFILE))]];
  if (fs.existsSync(dockerFile)) {
    const docker = h.parseText(fs.readFileSync(dockerFile, 'utf8'), 'docker-default.json');
    list.push(['docker', docker], ['docker over base', sandboxPolicy(docker)]);
  }
  return list;
}

t.test('every syscall number gives the decision the policy states', async (t) => {
  for (const [name, policy] of policies()) for (const arch of h.ARCHES) {
    const c = h.compileFilter(policy, arch);
    h.checkProgram(h.decodeProgram(c.bytes));
    let checked = 0, wrong = [];
    const extra = [0x3fffffff, 0x40000000, 0x40000001, 0x7fffffff, 0xffffffff, 1000, 4095];
    for (let nr = 0; nr <= h.maxSyscall(arch) + 64; nr++) extra.push(nr);
    for (const nr of extra) {
      const got = h.run(c, arch, nr).ret;
      let want = h.retValue(h.decide(c.resolved, nr >= 0x80000000 ? nr - 0x100000000 : nr).action);
      if (arch === 'x86_64' && nr >= 0x40000000) want = 0x50000 | 38; // x32 and beyond: ENOSYS
      if (got !== want) wrong.push(`${nr}: ${h.describeRet(got)} != ${h.describeRet(want)}`);
      checked++;
    }
    t.same(wrong, [], `${name} on ${arch}: ${checked} numbers, ${c.instructions} instructions`);
  }
});

t.test('argument edge cases agree with the policy evaluated directly', async (t) => {
  for (const [name, policy] of policies()) for (const arch of h.ARCHES) {
    const c = h.compileFilter(policy, arch);
    let cases = 0;
    const wrong = [];
    for (const [nr, entries] of c.resolved.bySyscall) {
      const conds = entries.flatMap((e) => e.args);
      if (!conds.length) continue;
      const values = h.edgeValues(conds);
      const argIdx = [...new Set(conds.map((x) => x.arg))];
      for (const v of values) for (const i of argIdx) for (const other of [0n, v, (1n << 64n) - 1n]) {
        const args = [other, other, other, other, other, other];
        args[i] = v;
        const got = h.run(c, arch, nr, args).ret;
        const want = h.retValue(h.decide(c.resolved, nr, args).action);
        cases++;
        if (got !== want && wrong.length < 5) wrong.push(`nr ${nr} arg${i}=0x${v.toString(16)}: ${h.describeRet(got)} != ${h.describeRet(want)}`);
      }
    }
    t.same(wrong, [], `${name} on ${arch}: ${cases} argument cases`);
  }
});

t.test('syscalls without argument rules read only arch and nr', async (t) => {
  for (const [name, policy] of policies()) for (const arch of h.ARCHES) {
    const c = h.compileFilter(policy, arch);
    const bad = [];
    let constant = 0, dependent = 0;
    for (let nr = 0; nr <= h.maxSyscall(arch) + 8; nr++) {
      const { entries } = h.effectiveChain(c.resolved, nr);
      const loads = h.run(c, arch, nr, [1n, 2n, 3n, 4n, 5n, 6n]).loads;
      const onlyArchNr = loads.every((o) => o === SECCOMP_DATA.NR || o === SECCOMP_DATA.ARCH);
      if (entries.length === 0) { constant++; if (!onlyArchNr) bad.push(`${nr} read ${loads}`); }
      else { dependent++; if (onlyArchNr) bad.push(`${nr} has argument rules but read no argument`); }
    }
    t.same(bad, [], `${name} on ${arch}: ${constant} constant, ${dependent} argument-dependent`);
  }
});

t.test('architecture checks', async (t) => {
  const c64 = h.compileFilter(baseFilterPolicy(), 'x86_64');
  const run = (arch, nr) => h.runFilter(c64.bytes, { nr, arch, args: [] }).ret;
  t.equal(run(AUDIT_ARCH.X86_64, 39), 0x7fff0000, 'native getpid allowed');
  t.equal(run(AUDIT_ARCH.I386, 20), 0x80000000, 'i386 entry kills the process');
  t.equal(run(AUDIT_ARCH.AARCH64, 172), 0x80000000, 'foreign arch kills');
  t.equal(run(AUDIT_ARCH.X86_64, 0x40000000 | 39), 0x50026, 'x32 getpid answers ENOSYS');
  const arm = h.compileFilter(baseFilterPolicy(), 'aarch64');
  t.equal(h.runFilter(arm.bytes, { nr: 172, arch: AUDIT_ARCH.AARCH64 }).ret, 0x7fff0000, 'aarch64 getpid allowed');
  t.equal(h.runFilter(arm.bytes, { nr: 20, arch: AUDIT_ARCH.ARM }).ret, 0x80000000, 'arm32 compat kills');
  t.equal(h.runFilter(arm.bytes, { nr: 0x40000000, arch: AUDIT_ARCH.AARCH64 }).ret, 0x7fff0000, 'aarch64 has no x32 rule');
});

t.test('precedence: strictest matching rule wins, then the first written', async (t) => {
  const p = h.parseText(`{default: 'allow', rules: [
    {allow: 'read'}, {deny: 'read'},
    {deny: 'write', errno: 'EPERM'}, {deny: 'write', errno: 'ENOSYS'},
    {deny: 'close'}, {names: 'close', action: 'kill-process'},
    {names: 'dup', action: 'log'}, {allow: 'dup'},
    {names: 'dup2', action: 'trap'}, {deny: 'dup2'},
    {allow: 'lseek', args: [{arg: 0, op: '==', value: 5}]}, {deny: 'lseek'},
    {deny: 'getpid', args: [{arg: 0, op: '==', value: 5}]}, {allow: 'getpid'},
  ]}`);
  const c = h.compileFilter(p, 'x86_64');
  const r = (n, a = []) => h.describeRet(h.run(c, 'x86_64', h.syscallNumber('x86_64', n), a).ret);
  t.equal(r('read'), 'errno 1', 'deny beats allow whatever the order');
  t.equal(r('write'), 'errno 1', 'two errnos: the first written');
  t.equal(r('close'), 'kill the process', 'kill beats errno');
  t.equal(r('dup'), 'log (allowed, and logged)', 'log beats allow');
  t.equal(r('dup2'), 'trap (SIGSYS)', 'trap beats errno');
  t.equal(r('lseek', [5n]), 'errno 1', 'an unconditional deny beats a conditional allow');
  t.equal(r('getpid', [5n]), 'errno 1', 'a conditional deny carves out of an allow');
  t.equal(r('getpid', [6n]), 'allow');
});

t.test('long jumps: a policy too big for 8-bit offsets', async (t) => {
  const rules = [];
  let n = 0;
  for (const name of Object.keys(require('../../dist/lib/seccomp/tables/x86_64').SYSCALLS_X86_64)) {
    if (!h.syscallNumber('aarch64', name)) continue;
    rules.push(`{deny: '${name}', errno: ${1 + (n % 120)}, args: [{arg: ${n % 6}, op: '==', value: ${n * 7919}}, {arg: ${(n + 1) % 6}, op: '<', value: '0x${(n + 1).toString(16)}00000000'}]}`);
    if (++n >= 200) break;
  }
  const p = h.parseText(`{default: 'kill-process', rules: [{allow: '@default'}, ${rules.join(',')}]}`);
  for (const arch of h.ARCHES) {
    const c = h.compileFilter(p, arch);
    t.ok(c.longJumps > 0, `${arch}: ${c.longJumps} trampolines in ${c.instructions} instructions`);
    const prog = h.decodeProgram(c.bytes);
    h.checkProgram(prog);
    t.ok(prog.some((i) => i.code === 0x05 && i.k > 255), `${arch}: BPF_JA carries jumps beyond 255`);
    const rets = prog.filter((i) => i.code === 0x06).map((i) => i.k);
    t.ok(new Set(rets).size < rets.length, `${arch}: far returns copied next to their users`);
    const wrong = [];
    for (const [nr, entries] of c.resolved.bySyscall) {
      for (const v of h.edgeValues(entries.flatMap((e) => e.args))) {
        const args = [v, v, v, v, v, v];
        const got = h.run(c, arch, nr, args).ret;
        const want = h.retValue(h.decide(c.resolved, nr, args).action);
        if (got !== want) wrong.push(`${nr} 0x${v.toString(16)}`);
      }
      const got = h.run(c, arch, nr, [0n, 0n, 0n, 0n, 0n, 0n]).ret;
      if (got !== h.retValue(h.decide(c.resolved, nr, []).action)) wrong.push(`${nr} zero`);
    }
    t.same(wrong.slice(0, 5), [], `${arch}: all decisions agree across long jumps`);
  }
});

t.test('a filter over the kernel limit is refused with the policy location', async (t) => {
  const rules = [];
  for (let i = 0; i < 1100; i++) rules.push(`{deny: 'ioctl', errno: ${1 + (i % 100)}, args: [{arg: 1, op: '==', value: ${i}}]}`);
  const p = h.parseText(`{default: 'allow', rules: [${rules.join(',')}]}`, 'big.json5');
  t.throws(() => h.compileFilter(p, 'x86_64'), { name: 'SandboxError', message: /^big\.json5:1:1: .*more than the kernel's 4096/ });
});

t.test('bytes are struct sock_filter, little endian, and end in shared returns', async (t) => {
  const c = h.compileFilter(baseFilterPolicy(), 'x86_64');
  t.equal(c.bytes.length % 8, 0);
  t.same([...c.bytes.subarray(0, 8)], [0x20, 0, 0, 0, 4, 0, 0, 0], 'first: ld [4] (arch)');
  t.equal(c.bytes.readUInt16LE(8), 0x15, 'then jeq');
  t.equal(c.bytes.readUInt32LE(12), 0xc000003e, 'AUDIT_ARCH_X86_64');
  const prog = h.decodeProgram(c.bytes);
  const rets = prog.filter((i) => i.code === 0x06).map((i) => i.k);
  t.equal(new Set(rets).size, rets.length, 'each return value appears once');
});

t.test('random 64-bit arguments agree with the policy evaluated directly', async (t) => {
  let seed = 0x2545f491n;
  const rnd = () => { seed = BigInt.asUintN(64, seed * 6364136223846793005n + 1442695040888963407n); return seed; };
  for (const [name, policy] of policies()) for (const arch of h.ARCHES) {
    const c = h.compileFilter(policy, arch);
    const wrong = [];
    let cases = 0;
    for (const [nr] of c.resolved.bySyscall) {
      for (let k = 0; k < 300; k++) {
        // Mix fully random words with ones whose high or low half is zero.
        const args = Array.from({ length: 6 }, () => { const r = rnd(); const m = r & 3n; return m === 0n ? r >> 32n : m === 1n ? r & 0xffffffff00000000n : r; });
        const got = h.run(c, arch, nr, args).ret;
        const want = h.retValue(h.decide(c.resolved, nr, args).action);
        cases++;
        if (got !== want && wrong.length < 5) wrong.push(`nr ${nr} ${args.map((a) => a.toString(16))}`);
      }
    }
    t.same(wrong, [], `${name} on ${arch}: ${cases} random cases`);
  }
});
