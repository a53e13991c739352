// The manual pages: sandbox(1) carries every command and every run option of the tables --help prints,
// sandbox-profile(5) every field of the profile schema; the built files are what the generator writes now;
// man renders them without warnings; the page's example profile is valid.
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, have } = require('../lib/harness');
const { manPages, PROFILE_EXAMPLE } = require('../../dist/lib/cli/manpage');
const { COMMANDS } = require('../../dist/lib/cli/commands');
const { RUN_OPTIONS } = require('../../dist/lib/cli/run-options');

const pages = manPages(ROOT);
const text = (roff) => roff.replace(/\\f[BIR]/g, '').replace(/\\-/g, '-').replace(/\\e/g, '\\').replace(/\\&/g, '');

t.test('sandbox(1) has every command and run option', async (t) => {
  const page = text(pages['sandbox.1']);
  for (const c of COMMANDS) t.match(page, new RegExp(`^${c.name}\\b`, 'm'), `command ${c.name}`);
  for (const [name, def] of Object.entries(RUN_OPTIONS)) {
    t.ok(page.includes(`\n${name}${def.args.map((a) => ' ' + a).join('')}\n${def.help}\n`), `option ${name}, with its arguments and help`);
  }
});

t.test('sandbox-profile(5) has every field of the schema and every shipped profile', async (t) => {
  const page = text(pages['sandbox-profile.5']);
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'profile.schema.json'), 'utf8'));
  for (const k of Object.keys(schema.properties)) t.match(page, new RegExp(`^${k} \\(`, 'm'), `field ${k}`);
  for (const f of fs.readdirSync(path.join(ROOT, 'profiles')).filter((x) => x.endsWith('.json5'))) t.match(page, new RegExp(`^${f.slice(0, -6)}$`, 'm'), `profile ${f}`);
});

t.test('the built pages are current', async (t) => {
  for (const [name, roff] of Object.entries(pages)) {
    const f = path.join(ROOT, 'man', name);
    if (!fs.existsSync(f)) { t.skip(`man/${name} is not built (npm run build)`); continue; }
    t.equal(fs.readFileSync(f, 'utf8'), roff, `man/${name}`);
  }
});

t.test('man renders them without warnings', { skip: have('man') ? false : 'man is missing (Debian: man-db)' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-man-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, roff] of Object.entries(pages)) {
    fs.writeFileSync(path.join(dir, name), roff);
    const r = spawnSync('man', ['--warnings', '-l', path.join(dir, name)], { env: { PATH: process.env.PATH, MANWIDTH: '80', LANG: 'C.UTF-8' }, encoding: 'utf8' });
    t.equal(r.status, 0, `man -l ${name}`);
    t.equal(r.stderr, '', `${name}: no warnings`);
    t.match(r.stdout, /NAME/, `${name}: rendered`);
  }
});

t.test('the example profile of sandbox-profile(5) is valid', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-man-example-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'example.json5'), PROFILE_EXAMPLE);
  const r = spawnSync(path.join(ROOT, 'bin', 'sandbox'), ['profile', 'check', path.join(dir, 'example.json5')], { env: { PATH: '/usr/bin:/bin', HOME: dir }, encoding: 'utf8' });
  t.equal(r.status, 0, `sandbox profile check: ${r.stderr}`);
});
