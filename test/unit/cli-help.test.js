// Help on every command and subcommand, one usage error shape everywhere, and "did you mean" for a misspelled
// option, command, subcommand or profile. In process (lib/cli/main), no sandbox started.
'use strict';
const t = require('tap');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT } = require('../lib/harness');
const { main } = require('../../dist/lib/cli/main');
const { COMMANDS } = require('../../dist/lib/cli/commands');
const { closest, editDistance } = require('../../dist/lib/cli/suggest');
const { SandboxError } = require('../../dist/lib/errors');

function cli(args) {
  const out = [];
  const err = [];
  try {
    const code = main(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } catch (e) {
    if (!(e instanceof SandboxError)) throw e;
    return { code: e.exitCode, out: out.join('\n'), err: e.message };
  }
}

t.test('--help on every command and subcommand: usage on stdout, exit 0', async (t) => {
  const lines = [['--help'], ['help'], ['run', '--help'], ['compile', '--help'], ['doctor', '--help'], ['completion', '--help'],
    ['profiles', '--help'], ['profile', '--help'], ['profile', 'show', '--help'], ['profile', 'check', '--help'], ['profile', 'show', 'default', '-h'],
    ['seccomp', '--help'], ['seccomp', 'groups', '--help'], ['seccomp', 'explain', '--help'],
    ['desktop', '--help'], ['desktop', 'install', '--help'], ['desktop', 'list', '--help'], ['desktop', 'remove', '--help'],
    ['help', 'profile'], ['help', 'seccomp', 'explain']];
  for (const args of lines) {
    const r = cli(args);
    t.equal(r.code, 0, `sandbox ${args.join(' ')}: exit 0 (${r.err})`);
    t.match(r.out, /^Usage: sandbox|^usage: sandbox/i, `sandbox ${args.join(' ')}: a usage`);
  }
  const subs = cli(['profile', 'show', '--help']).out;
  t.match(subs, /sandbox profile show NAME/, 'a subcommand\'s help is its own');
});

t.test('sandbox --help lists every command of the table', async (t) => {
  const help = cli(['--help']).out;
  for (const c of COMMANDS) t.match(help, new RegExp(`^  ${c.name}\\b`, 'm'), c.name);
});

t.test('usage errors: one line, exit 125, the same for desktop without a subcommand', async (t) => {
  for (const args of [['desktop'], ['profile'], ['seccomp'], ['completion'], []]) {
    const r = cli(args);
    t.equal(r.code, 125, `sandbox ${args.join(' ')}: exit 125`);
    t.equal(r.out, '', `sandbox ${args.join(' ')}: nothing on stdout`);
    t.equal(r.err.split('\n').length, 1, `sandbox ${args.join(' ')}: one line`);
  }
});

t.test('did you mean', async (t) => {
  const cases = [
    [['run', '--profle', 'browser', '--', 'true'], /^--profle: unknown option, did you mean --profile\? \(see sandbox run --help\)$/],
    [['run', '--profile', 'browsr', '--print-plan', '--', 'true'], /found no profile "browsr".*; did you mean browser\?$/],
    [['rn', '--', 'true'], /^rn: unknown command, did you mean run\?/],
    [['--hlep'], /^--hlep: unknown option, did you mean --help\?/],
    [['profile', 'shw', 'default'], /did you mean show\?/],
    [['seccomp', 'grops'], /did you mean groups\?/],
    [['desktop', 'instal', 'x'], /did you mean install\?/],
    [['completion', 'bsh'], /did you mean bash\?/],
    [['compile', '--ro-bnd', '/', '/', '-o', '/nonexistent/x'], /did you mean --ro-bind\?/],
  ];
  for (const [args, msg] of cases) {
    const r = cli(args);
    t.equal(r.code, 125, `sandbox ${args.join(' ')}: exit 125`);
    t.match(r.err, msg, `sandbox ${args.join(' ')}`);
  }
  t.equal(cli(['frobnicate']).err, 'frobnicate: unknown command (see sandbox --help)', 'no guess when nothing is close');
  t.equal(editDistance('browsr', 'browser'), 1, 'one insertion');
  t.equal(editDistance('porfile', 'profile'), 1, 'a swap of neighbours is one edit');
  t.equal(closest('--x', ['--bind', '--dev']), undefined, 'a short word is not stretched to a guess');
});

t.test('sandbox-exec --help answers, exit 0', async (t) => {
  const r = spawnSync(path.join(ROOT, 'bin', 'sandbox-exec'), ['--help'], { encoding: 'utf8' });
  t.equal(r.status, 0, 'exit 0');
  t.match(r.stdout, /^usage: sandbox-exec PLAN/, 'usage on stdout');
  const bad = spawnSync(path.join(ROOT, 'bin', 'sandbox-exec'), [], { encoding: 'utf8' });
  t.equal(bad.status, 125, 'no plan: exit 125');
});
