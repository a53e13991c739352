// A short libFuzzer run of the C stage's plan parser (native/fuzz): 20 s from seeds made of real plans,
// under ASan and UBSan, must end with 0 crashes. The long run is native/fuzz/run-long.sh, by hand.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, have } = require('../lib/harness');

const FUZZ_DIR = path.join(ROOT, 'native', 'fuzz');
const FUZZER = path.join(FUZZ_DIR, 'build', 'fuzz-plan');
const SECONDS = Number(process.env.SANDBOX_FUZZ_SECONDS || 20);

function whyNot() {
  if (!have('clang')) return 'clang is missing (Debian: apt-get install clang libclang-rt-14-dev)';
  if (!have('make')) return 'make is missing';
  const b = spawnSync('make', ['-s', '-C', FUZZ_DIR, 'build/fuzz-plan'], { encoding: 'utf8' });
  if (b.status !== 0) {
    const msg = (b.stderr || b.stdout || '').trim().split('\n').pop();
    return /fuzzer|libclang_rt|cannot find/i.test(b.stderr || '') ? `clang has no libFuzzer runtime (libclang-rt-*-dev): ${msg}` : `the fuzzer did not build: ${msg}`;
  }
  return null;
}

const why = whyNot();
if (why) {
  t.skip(`plan parser fuzzing: ${why}`);
} else {
  t.test(`fuzz plan_parse for ${SECONDS} s: 0 crashes`, async (t) => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-plan-'));
    const seeds = path.join(work, 'seeds');
    const corpus = path.join(work, 'corpus');
    const crashes = path.join(work, 'crashes') + '/';
    fs.mkdirSync(corpus);
    fs.mkdirSync(crashes);
    const c = spawnSync(process.execPath, [path.join(FUZZ_DIR, 'make-corpus.js'), seeds], { encoding: 'utf8' });
    t.equal(c.status, 0, `seed corpus: ${(c.stdout || c.stderr).trim()}`);
    t.ok(fs.readdirSync(seeds).length >= 5, 'at least 5 seed plans');
    const r = spawnSync(FUZZER, [`-max_total_time=${SECONDS}`, '-print_final_stats=1', `-artifact_prefix=${crashes}`,
      `-dict=${path.join(FUZZ_DIR, 'plan.dict')}`, '-rss_limit_mb=2048', corpus, seeds],
    { encoding: 'utf8', timeout: (SECONDS + 60) * 1000, maxBuffer: 64 << 20 });
    const log = r.stderr || '';
    const execs = /stat::number_of_executed_units:\s*(\d+)/.exec(log);
    t.comment(`${execs ? execs[1] : '?'} executions in ${SECONDS} s; corpus grew to ${fs.readdirSync(corpus).length} inputs`);
    const found = fs.readdirSync(crashes);
    t.same(found, [], 'no crash, leak, timeout or out-of-memory input');
    t.equal(r.status, 0, r.status === 0 ? 'the fuzzer ended cleanly' : log.split('\n').filter((l) => /ERROR|SUMMARY|#\d+ 0x/.test(l)).slice(0, 20).join('\n'));
    t.ok(execs && Number(execs[1]) > 1000, 'it really ran');
    if (found.length === 0 && r.status === 0) fs.rmSync(work, { recursive: true, force: true });
  });
}
