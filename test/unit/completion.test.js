// The shell completions `sandbox completion SHELL` prints (and the build writes to completions/): bash driven
// through COMP_WORDS as bash itself calls it, fish through `complete -C`, zsh checked by `zsh -n`. Profile
// names come from `sandbox profiles`, user profiles included.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, have } = require('../lib/harness');
const { completionScript } = require('../../dist/lib/cli/completion');
const { RUN_OPTIONS } = require('../../dist/lib/cli/run-options');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-completion-'));
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
// a user profile, which --profile must offer beside the shipped ones
const config = path.join(work, 'config');
fs.mkdirSync(path.join(config, 'sandbox', 'profiles'), { recursive: true });
fs.writeFileSync(path.join(config, 'sandbox', 'profiles', 'mytool.json5'), '{ extends: "minimal", description: "mine" }\n');
const env = { PATH: `${path.join(ROOT, 'bin')}:/usr/bin:/bin`, HOME: work, XDG_CONFIG_HOME: config, LANG: 'C.UTF-8' };

t.test('the built completions are what sandbox completion prints', async (t) => {
  for (const [shell, file] of [['bash', 'sandbox.bash'], ['zsh', '_sandbox'], ['fish', 'sandbox.fish']]) {
    const built = path.join(ROOT, 'completions', file);
    if (!fs.existsSync(built)) { t.skip(`${file} is not built (npm run build)`); continue; }
    t.equal(fs.readFileSync(built, 'utf8'), completionScript(shell), `completions/${file}`);
  }
  const r = spawnSync(path.join(ROOT, 'bin', 'sandbox'), ['completion', 'bash'], { env, encoding: 'utf8' });
  t.equal(r.status, 0, 'sandbox completion bash');
  t.equal(r.stdout, completionScript('bash'), 'prints the script');
});

const bashScript = path.join(work, 'sandbox.bash');
fs.writeFileSync(bashScript, completionScript('bash'));

/** COMPREPLY for a command line, the last word being completed; prelude runs first (e.g. a fake _command_offset). */
function bash(words, prelude = '') {
  const arr = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `${prelude}\nsource ${bashScript}\nCOMP_WORDS=(${arr}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _sandbox sandbox; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { env, encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

t.test('bash: commands, options, option values, profiles', { skip: have('bash') ? false : 'bash is missing' }, async (t) => {
  t.same(bash(['sandbox', 'ru']), ['run'], 'a command');
  t.same(bash(['sandbox', 'prof']), ['profiles', 'profile'], 'commands sharing a prefix');
  t.same(bash(['sandbox', '--ver']), ['--version'], 'a global option');
  t.same(bash(['sandbox', 'run', '--ro-b']).sort(), ['--ro-bind', '--ro-bind-data', '--ro-bind-try'], 'run options');
  t.same(bash(['sandbox', 'run', '--']).length >= Object.keys(RUN_OPTIONS).length, true, 'every run option after "--"-prefixed word');
  const profiles = bash(['sandbox', 'run', '--profile', '']);
  t.ok(profiles.includes('browser') && profiles.includes('default'), 'shipped profiles');
  t.ok(profiles.includes('mytool'), 'the user\'s profile');
  t.same(bash(['sandbox', 'run', '--profile', 'my']), ['mytool'], '--profile my<TAB>');
  t.same(bash(['sandbox', 'run', '--device', 'dr']), ['dri'], 'a device set');
  t.same(bash(['sandbox', 'run', '--file-args', '']), ['ro', 'rw', 'profile'], '--file-args values');
  t.same(bash(['sandbox', 'run', '--ro-bind', '/us']), ['/usr'], 'a host path for SRC');
  t.same(bash(['sandbox', 'run', '--ro-bind', '/usr', '/us']), ['/usr'], 'a path for DST (the second argument)');
  t.same(bash(['sandbox', 'profile', 'show', 'brow']), ['browser'], 'profile show NAME');
  t.same(bash(['sandbox', 'profile', '']), ['show', 'check', '--help'], 'profile subcommands');
  t.same(bash(['sandbox', 'seccomp', 'explain', 'default', 'read', '--arch', '']), ['x86_64', 'aarch64'], '--arch values');
  t.same(bash(['sandbox', 'desktop', 'install', '--profile', 'my']), ['mytool'], 'desktop install --profile');
  t.same(bash(['sandbox', 'completion', '']), ['bash', 'zsh', 'fish'], 'completion shells');
});

t.test('bash: the command after the options completes as a command', { skip: have('bash') ? false : 'bash is missing' }, async (t) => {
  t.ok(bash(['sandbox', 'run', '--ro-bind', '/', '/', '--dev', '/dev', 'ech']).includes('echo'), 'the command name, after options with arguments');
  t.ok(bash(['sandbox', 'run', '--', 'ech']).includes('echo'), 'after --');
  t.ok(bash(['sandbox', 'run', '--share-net', 'ech']).includes('echo'), 'after an option without argument');
  // with bash-completion loaded, the rest of the line is handed to the command's own completion
  const fake = '_command_offset() { COMPREPLY=("offset:$1:${COMP_WORDS[$1]}"); }';
  t.same(bash(['sandbox', 'run', '--profile', 'default', '--ro-bind', '/a', '/b', 'git', 'sta'], fake), ['offset:7:git'], '_command_offset at the command\'s word');
  t.same(bash(['sandbox', 'compile', '-o', 'x.plan', '--', 'make', ''], fake), ['offset:5:make'], 'compile -o FILE -- COMMAND');
});

t.test('zsh: the script parses', { skip: have('zsh') ? false : 'zsh is missing (Debian: zsh)' }, async (t) => {
  const f = path.join(work, '_sandbox');
  fs.writeFileSync(f, completionScript('zsh'));
  const r = spawnSync('zsh', ['-n', f], { encoding: 'utf8' });
  t.equal(r.status, 0, `zsh -n: ${r.stderr}`);
});

t.test('zsh: the completion function, with stand-ins for zsh\'s completion builtins', { skip: have('zsh') ? false : 'zsh is missing (Debian: zsh)' }, async (t) => {
  const f = path.join(work, '_sandbox');
  fs.writeFileSync(f, completionScript('zsh'));
  // compadd and friends print what they were given; zsh itself filters the candidates by $PREFIX
  const harness = `compadd() { print -r -- "compadd $*"; }
_describe() { print -r -- "describe \${(P)2}"; }
_files() { print -r -- files; }
_normal() { print -r -- "normal $CURRENT \${words[*]}"; }
_values() { shift; print -r -- "values $*"; }
_message() { print -r -- "message $*"; }
compdef() { :; }
source ${f}
words=("$@"); CURRENT=\${#words}; PREFIX=\${words[-1]}; _sandbox`;
  const z = (...w) => spawnSync('zsh', ['-f', '-c', harness, 'zsh', ...w], { env, encoding: 'utf8' }).stdout.trim();
  t.match(z('sandbox', 'ru'), /^describe run:.* compile:/, 'the commands, described');
  t.match(z('sandbox', 'run', '--profile', 'my'), /^compadd -- .*\bmytool\b/, 'profiles after --profile, the user\'s included');
  t.match(z('sandbox', 'run', '--profile', 'my'), /\bbrowser\b/, '... and the shipped ones');
  t.equal(z('sandbox', 'run', '--ro-bind', '/', '/', 'ech'), 'normal 1 ech', 'the command after the options, as a command line of its own');
  t.equal(z('sandbox', 'run', '--', 'ls', '-l'), 'normal 2 ls -l', 'its arguments as that command\'s');
  t.equal(z('sandbox', 'run', '--ro-bind', '/us'), 'files', 'a path for SRC');
  t.equal(z('sandbox', 'completion', ''), 'compadd -- bash zsh fish', 'completion shells');
});

t.test('fish: the script parses and completes', { skip: have('fish') ? false : 'fish is missing (Debian: fish)' }, async (t) => {
  const f = path.join(work, 'sandbox.fish');
  fs.writeFileSync(f, completionScript('fish'));
  const n = spawnSync('fish', ['-n', f], { encoding: 'utf8' });
  t.equal(n.status, 0, `fish -n: ${n.stderr}`);
  const c = (line) => spawnSync('fish', ['--no-config', '-c', `source ${f}; complete -C '${line}'`], { env, encoding: 'utf8' }).stdout.split('\n').map((l) => l.split('\t')[0]).filter(Boolean);
  t.ok(c('sandbox ru').includes('run'), 'a command');
  t.ok(c('sandbox run --profile ').includes('mytool'), 'the user\'s profile after --profile');
  t.ok(c('sandbox run --ro-b').includes('--ro-bind'), 'a run option');
  t.ok(c('sandbox run -- ech').includes('echo'), 'the command after --');
});
