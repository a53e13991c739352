// The C stage's plan parser fails closed: malformed plans get one line and exit 125, and nothing runs.
'use strict';
const t = require('tap');
const fs = require('fs');
const { spawnSync } = require('child_process');
const { STAGE, plan, ok, runStage } = require('../lib/stage-plan');

if (!fs.existsSync(STAGE)) {
  t.skip('the C stage is not built');
  process.exit(0);
}

t.test('malformed plans', async (t) => {
  const cases = [
    ['empty', '', /expected a token length/],
    ['wrong magic', plan(['not-a-plan', '1']), /not a sandbox plan/],
    ['future version', plan(['sandbox-plan', '3']), /plan version 3, this stage reads version 2/],
    ['old version', plan(['sandbox-plan', '1']), /plan version 1, this stage reads version 2/],
    ['no end', plan(...ok), /expected a token length/],
    ['trailing bytes', plan(...ok, ['end']) + 'x', /trailing bytes/],
    ['unknown record', plan(...ok, ['format-disk', '1'], ['end']), /unknown record 'format-disk'/],
    ['relative path', plan(...ok, ['tmpfs', 'o', 'tmp', '0', '493'], ['end']), /not a normalised absolute path/],
    ['dotdot path', plan(...ok, ['tmpfs', 'o', '/a/../b', '0', '493'], ['end']), /not a normalised absolute path/],
    ['bad number', plan(...ok, ['uid', '-1'], ['end']), /not a decimal number/],
    ['huge number', plan(...ok, ['uid', '99999999999999999999999'], ['end']), /too large/],
    ['bad mode', plan(...ok, ['dir', 'o', '/a', '99999'], ['end']), /out of range/],
    ['bad bind flags', plan(...ok, ['bind', 'o', '/a', '/b', '16'], ['end']), /out of range/],
    ['token past end', '999:abc,', /runs past the end/],
    ['missing comma', '3:abc;', /expected ','/],
    ['NUL in string', plan(['sandbox-plan', '2'], ['argv', 'a\0b'], ['end']), /NUL/],
    ['no command', plan(['sandbox-plan', '2'], ['end']), /no command/],
    ['seccomp not instructions', plan(...ok, ['seccomp', 'o', 'abc'], ['end']), /seccomp program of 3 bytes/],
    ['env without =', plan(...ok, ['env', 'NOEQUALS'], ['end']), /env entry without NAME=/],
    ['a version 1 record', plan(...ok, ['landlock-ro', 'o', '/usr'], ['end']), /unknown record 'landlock-ro'/],
    ['removed record', plan(...ok, ['cgroup-remove', '/sys/fs/cgroup/x'], ['end']), /unknown record 'cgroup-remove'/],
    ['long hostname', plan(...ok, ['hostname', 'h'.repeat(65)], ['end']), /hostname name: longer than 64 bytes/],
    ['join-policy newline', plan(...ok, ['join-policy', 'a=1\nb=2'], ['end']), /join-policy words: holds a newline/],
    ['empty symlink target', plan(...ok, ['symlink', 'o', '', '/l'], ['end']), /symlink target: empty/],
    ['pattern kinds', plan(...ok, ['env-keep', 'A*', 'lx'], ['end']), /env-keep: kinds 'lx' do not describe 'A\*'/],
    ['pattern kinds length', plan(...ok, ['env-unset', 'AB', 'l'], ['end']), /env-unset: kinds 'l' do not describe 'AB'/],
    ['keep-fd below 3', plan(...ok, ['keep-fd', '1'], ['end']), /keep-fd fd: number out of range: '1' \(at least 3\)/],
  ];
  for (const [name, bytes, msg] of cases) {
    const r = runStage(bytes);
    t.equal(r.status, 125, name);
    t.match(r.stderr, msg, name);
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${name}: one line`);
    t.equal(r.stdout, '', `${name}: nothing ran`);
  }
});

t.test('usage', async (t) => {
  const r = spawnSync(STAGE, [], { encoding: 'utf8' });
  t.equal(r.status, 125);
  t.match(r.stderr, /usage: sandbox-stage --plan-fd N/);
});
