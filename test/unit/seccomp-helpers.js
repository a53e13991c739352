// Shared helpers for the seccomp tests (not a test file itself).
'use strict';
const { compileFilter } = require('../../dist/lib/seccomp/compile');
const { runFilter, decodeProgram, checkProgram } = require('../../dist/lib/seccomp/interpret');
const { decide, effectiveChain } = require('../../dist/lib/seccomp/resolve');
const { retValue, describeRet } = require('../../dist/lib/seccomp/bpf');
const { NATIVE_AUDIT_ARCH, maxSyscall, syscallNumber } = require('../../dist/lib/seccomp/arch');
const { locatorFor: jsonLocator } = require('../../dist/lib/json5-text');
const { parseSeccompSection } = require('../../dist/lib/seccomp/policy');
const JSON5 = require('json5');

const ARCHES = ['x86_64', 'aarch64'];

function parseText(text, file = 'test.json5') {
  return parseSeccompSection(JSON5.parse(text), jsonLocator(text, file));
}

function run(compiled, arch, nr, args = []) {
  return runFilter(compiled.bytes, { nr, arch: NATIVE_AUDIT_ARCH[arch], args });
}

/** Interesting 64-bit values around every constant a condition uses. */
function edgeValues(conds) {
  const M64 = (1n << 64n) - 1n;
  const v = new Set([0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 32n) + 1n, 1n << 63n, M64, M64 - 1n]);
  for (const c of conds) {
    for (const base of [c.value, c.value & c.mask, c.mask]) {
      for (const d of [-1n, 0n, 1n]) {
        const x = BigInt.asUintN(64, base + d);
        v.add(x);
        v.add(x | (1n << 32n)); // high bits set, low bits matching
        v.add(x | (0xffffffffn << 32n));
        v.add(x & 0xffffffffn);
      }
    }
  }
  return [...v];
}

module.exports = { compileFilter, runFilter, decodeProgram, checkProgram, decide, effectiveChain, retValue, describeRet,
  NATIVE_AUDIT_ARCH, maxSyscall, syscallNumber, jsonLocator, parseSeccompSection, parseText, run, edgeValues, ARCHES };
