// The plan cache's entries (lib/host/plan-cache.ts writes them, native/plan-cache.c reads them) taken apart for
// tests, and forged as a program that can write where the launcher looks would forge them. Uses the built writer
// (dist/) for the key and the encoding, so a forged entry is exactly one the launcher accepts.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { encodeEntry, keyMaterial, checksum, HEADER } = require('../../dist/lib/host/plan-cache');

/** Records in their wire form (a type byte, a field count, each field as u32le length and bytes), taken apart:
 * [{ type, fields: [Buffer] }]. */
function decodeRecords(body) {
  const recs = [];
  for (let o = 0; o < body.length;) {
    const type = String.fromCharCode(body[o]);
    const n = body[o + 1];
    o += 2;
    const fields = [];
    for (let i = 0; i < n; i++) {
      const l = body.readUInt32LE(o);
      fields.push(body.subarray(o + 4, o + 4 + l));
      o += 4 + l;
    }
    recs.push({ type, fields });
  }
  return recs;
}

/** decodeRecords backwards: fields may be Buffers or strings. */
function encodeRecords(recs) {
  const parts = [];
  for (const { type, fields } of recs) {
    parts.push(Buffer.from([type.charCodeAt(0), fields.length]));
    for (const f of fields) {
      const b = Buffer.isBuffer(f) ? f : Buffer.from(f);
      const n = Buffer.alloc(4);
      n.writeUInt32LE(b.length);
      parts.push(n, b);
    }
  }
  return Buffer.concat(parts);
}

/** An entry's records, after checking its header. */
function decodeEntry(bytes) {
  if (bytes.subarray(0, 8).toString('latin1') !== 'SBXPLANC') throw new Error('not an entry');
  const len = Number(bytes.readBigUInt64LE(16));
  if (len !== bytes.length - HEADER) throw new Error('truncated entry');
  return decodeRecords(bytes.subarray(HEADER));
}

/** The plan an entry keeps (its P record). */
function keptPlan(bytes) {
  const p = decodeEntry(bytes).find((r) => r.type === 'P');
  if (!p) throw new Error('no plan record');
  return p.fields[0];
}

/** A plan's wire form (native/PLAN.md) as its tokens, strings. */
function planTokens(buf) {
  const out = [];
  for (let o = 0; o < buf.length;) {
    const colon = buf.indexOf(0x3a, o);
    const n = Number(buf.subarray(o, colon).toString('latin1'));
    if (!Number.isInteger(n) || colon < 0 || buf[colon + 1 + n] !== 0x2c) throw new Error(`bad token at ${o}`);
    out.push(buf.subarray(colon + 1, colon + 1 + n).toString('latin1'));
    o = colon + 2 + n;
  }
  return out;
}

function bootId() {
  return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

/** The user's signing key (/tmp/sandbox-UID/plan-key, made by the first launch that keeps a plan), as only a process
 * outside any sandbox can read it (the tests run as root). */
function userKey(uid) {
  return fs.readFileSync(`/tmp/sandbox-${uid}/plan-key`);
}

/**
 * An entry for `sandbox ARGV` by uid:gid in cwd that the launcher takes as a hit: no dependencies, this boot, the
 * given stage (the launcher execs it) and plan. Returns { name, bytes }: name is the file name the launcher opens.
 * secret: the key it is signed with; by default one the forger made up, as a program in a sandbox (which can't read
 * the user's) would have to.
 */
function forgeEntry({ argv, uid, gid, cwd, stage, plan = Buffer.from('3:end,'), secret = crypto.randomBytes(32) }) {
  const key = keyMaterial(argv, uid, gid, cwd);
  const bytes = encodeEntry({ key, deps: [], env: new Map(), stderr: '', stage, plan, boot: bootId() }, secret);
  return { name: `${checksum(key).toString(16).padStart(8, '0')}.0`, bytes }; // the first of the launch's slots
}

/**
 * `sandbox run ARGS` as the test user with SANDBOX_CACHE_DEBUG=1: its output with the cache's own lines taken out,
 * those lines (cache), and whether the kept plan ran (hit) or this launch kept one (kept).
 */
function cachedRun(args, { env, cwd }) {
  const { sandbox, cleanEnv } = require('./harness');
  const r = sandbox(args, { env: cleanEnv({ SANDBOX_CACHE_DEBUG: '1', ...env }), cwd, timeout: 60000 });
  const lines = r.stderr.split('\n');
  const ours = (l) => l.startsWith('sandbox: plan cache: ');
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: lines.filter((l) => !ours(l)).join('\n'),
    cache: lines.filter(ours).join(' | '),
    hit: lines.some((l) => l.startsWith('sandbox: plan cache: hit ')),
    kept: lines.some((l) => l.startsWith('sandbox: plan cache: kept ')),
  };
}

module.exports = { decodeRecords, encodeRecords, decodeEntry, keptPlan, planTokens, forgeEntry, bootId, cachedRun, userKey };
