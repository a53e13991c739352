'use strict';
// The base filter under a policy answers as two stacked kernel filters would (base installed first, the
// policy after): the stricter action wins, and where both deny with the same kind of action (two errnos)
// the policy's value wins, the kernel's rule for the most recently installed filter. Checked against that
// reference, computed from the two filters' own decisions, for every syscall and the interesting arguments.
const t = require('tap');
const fs = require('fs');
const h = require('./seccomp-helpers');
const { sandboxPolicy, seccompForPlan, baseFilterPolicy } = require('../../dist/lib/seccomp/index');
const { resolvePolicy } = require('../../dist/lib/seccomp/resolve');
const { actionRank, sameAction } = require('../../dist/lib/seccomp/policy');
const { maxSyscall } = require('../../dist/lib/seccomp/arch');

const file = require('../lib/shared-testdata').sharedTestdata('seccomp', 'docker-default.json');
const have = fs.existsSync(file);
const EPERM = 0x50001, EAFNOSUPPORT = 0x50061, ALLOW = 0x7fff0000;
const AF_VSOCK = 40n;

/** The kernel's answer for two stacked filters: the stricter action; on a tie, the later (policy's) one. */
const stacked = (base, own) => (actionRank(base) > actionRank(own) ? base : own);

t.test('socket(AF_VSOCK) under Docker\'s default profile answers the policy\'s EPERM', { skip: !have && `no ${file}` }, async (t) => {
  const policy = h.parseText(fs.readFileSync(file, 'utf8'), 'docker-default.json');
  for (const arch of h.ARCHES) {
    const plan = seccompForPlan(policy, arch, []);
    const bytes = Buffer.from(plan.bpf, 'base64');
    const nr = h.syscallNumber(arch, 'socket');
    const run = (args) => h.runFilter(bytes, { nr, arch: h.NATIVE_AUDIT_ARCH[arch], args }).ret;
    t.equal(run([AF_VSOCK, 1n, 0n]), EPERM, `${arch}: Docker's EPERM, not the base filter's EAFNOSUPPORT`);
    t.equal(run([2n, 1n, 0n]), ALLOW, `${arch}: AF_INET allowed by both`);
    // AF_BLUETOOTH (31): Docker allows it (below 38), the base filter denies it: the base filter's answer.
    t.equal(run([31n, 1n, 0n]), EAFNOSUPPORT, `${arch}: what only the base filter denies keeps its errno`);
  }
});

t.test('without a policy, the base filter answers alone, as before', async (t) => {
  const c = h.compileFilter(sandboxPolicy(null), 'x86_64');
  t.equal(h.run(c, 'x86_64', h.syscallNumber('x86_64', 'socket'), [AF_VSOCK]).ret, EAFNOSUPPORT);
});

t.test('every syscall and argument answers as the two filters stacked', { skip: !have && `no ${file}` }, async (t) => {
  const docker = h.parseText(fs.readFileSync(file, 'utf8'), 'docker-default.json');
  const own = h.parseText(`{ default: "errno", errno: "EACCES", rules: [
    { allow: ["@system-service"] },
    { deny: ["socket"], errno: "EPERM", args: [{ arg: 0, op: "==", value: 40 }] },
    { deny: ["personality", "clone3"], errno: "EACCES" },
    { names: ["ptrace"], action: "kill-process" } ] }`, 'own.json5');
  for (const [name, policy] of [['docker-default.json', docker], ['a sandbox policy', own]]) {
    for (const arch of h.ARCHES) {
      const opts = { kernel: '6.18.0' };
      const c = h.compileFilter(sandboxPolicy(policy), arch, opts);
      const base = resolvePolicy(baseFilterPolicy(), arch, opts);
      const alone = resolvePolicy(policy, arch, opts);
      let checked = 0, bad = 0;
      for (let nr = 0; nr <= maxSyscall(arch); nr++) {
        const conds = [...(base.bySyscall.get(nr) ?? []), ...(alone.bySyscall.get(nr) ?? [])].flatMap((e) => e.args);
        const argIdx = [...new Set(conds.map((x) => x.arg))];
        const vectors = [[]];
        for (const i of argIdx) {
          for (const v of h.edgeValues(conds.filter((x) => x.arg === i)).slice(0, 40)) {
            const a = [0n, 0n, 0n, 0n, 0n, 0n];
            a[i] = v;
            vectors.push(a);
          }
        }
        for (const args of vectors) {
          const want = stacked(h.decide(base, nr, args).action, h.decide(alone, nr, args).action);
          const got = h.run(c, arch, nr, args).ret;
          checked++;
          if (got !== h.retValue(want)) {
            bad++;
            if (bad <= 5) t.fail(`${name} ${arch} nr ${nr} args ${args.map((x) => x.toString(16))}: ${h.describeRet(got)} != ${h.describeRet(h.retValue(want))}`);
          }
          if (!sameAction(h.decide(c.resolved, nr, args).action, want)) bad++;
        }
      }
      t.equal(bad, 0, `${name} on ${arch}: ${checked} cases`);
    }
  }
});
