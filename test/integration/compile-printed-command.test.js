// `sandbox compile` prints how to run the plan it wrote: that command line, run as printed by a shell in
// another directory (with sandbox-exec not on PATH), runs the plan.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { sandboxCli, userTmpdir, cannotLaunch, asUser } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`compiled plans: ${why}`);
  process.exit(0);
}

/** The command after "run it with: ", up to the first " (or". */
const printed = (stderr) => (/run it with: (.*?) \(or /.exec(stderr) || [])[1];
const shell = (line, cwd) => spawnSync(...asUser('/bin/sh', ['-c', line]), { cwd, env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });

t.test('a plan with its command: the printed command runs it from anywhere', async (t) => {
  const dir = userTmpdir();
  const plans = path.join(dir, 'my plans');
  fs.mkdirSync(plans);
  spawnSync('chown', ['-R', '65534:65534', dir]);
  const c = sandboxCli(['compile', '--profile', 'minimal', '-o', 'my plans/job.plan', '--', '/bin/echo', 'printed'], { cwd: dir });
  t.equal(c.status, 0, c.stderr);
  const line = printed(c.stderr);
  t.ok(line && line.startsWith("'/"), `an absolute path, quoted for the shell: ${line}`);
  const r = shell(line, '/');
  t.equal(r.status, 0, `sh -c ${line} (in /): ${r.stderr}`);
  t.equal(r.stdout, 'printed\n', 'the plan\'s command ran');
  const alt = /\(or (.*?)\)/.exec(c.stderr)[1];
  const a = shell(alt, '/');
  t.equal(a.stdout, 'printed\n', `the alternative with sandbox-exec's path runs too: ${alt}`);
});

t.test('a plan without a command: the printed command with COMMAND filled in', async (t) => {
  const dir = userTmpdir();
  const c = sandboxCli(['compile', '--profile', 'minimal', '-o', 'job.plan'], { cwd: dir });
  t.equal(c.status, 0, c.stderr);
  const line = printed(c.stderr);
  t.match(line, /^\/\S+\/job\.plan -- COMMAND$/, 'PLAN -- COMMAND');
  const r = shell(line.replace('COMMAND', '/bin/echo filled'), '/');
  t.equal(r.stdout, 'filled\n', r.stderr);
});
