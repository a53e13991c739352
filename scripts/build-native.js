#!/usr/bin/env node
// Build step: the C programs in native/build with make, or one line saying what to install where make is missing
// (the Makefile itself says so for a missing compiler).
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');

const r = spawnSync('make', ['-s', '-C', path.join(__dirname, '..', 'native')], { stdio: 'inherit' });
if (r.error && r.error.code === 'ENOENT') {
  process.stderr.write('sandbox: make is missing: install make and a C compiler (Debian: apt install gcc make), or install sandbox from its npm tarball, whose C programs are prebuilt\n');
  process.exit(1);
}
process.exit(r.status ?? 1);
