#!/usr/bin/env node
// Build step: the manual pages (man/sandbox.1, man/sandbox-profile.5) and the shell completions
// (completions/sandbox.bash, completions/_sandbox, completions/sandbox.fish), written from the same tables as
// --help (lib/cli/commands.ts, lib/cli/run-options.ts) and the profile schema, so none is edited by hand.
// Runs on tsc's output (dist/lib), after `tsc`.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { manPages } = require(path.join(root, 'dist', 'lib', 'cli', 'manpage.js'));
const { completionScript } = require(path.join(root, 'dist', 'lib', 'cli', 'completion.js'));

const write = (dir, name, text) => {
  fs.mkdirSync(path.join(root, dir), { recursive: true });
  fs.writeFileSync(path.join(root, dir, name), text);
};
for (const [name, text] of Object.entries(manPages(root))) write('man', name, text);
write('completions', 'sandbox.bash', completionScript('bash'));
write('completions', '_sandbox', completionScript('zsh'));
write('completions', 'sandbox.fish', completionScript('fish'));
