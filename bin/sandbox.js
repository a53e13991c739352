#!/usr/bin/env node
'use strict';
// The parent pid, as the launcher (native/launch.c) saw it before Node started, or as Node sees it now when
// run directly: the stage checks this parent is still there.
const parentPid = Number(process.env.SANDBOX_PARENT_PID) || process.ppid;
delete process.env.SANDBOX_PARENT_PID;
const path = require('path');
let main;
try {
  main = require('./loader.js').load(path.join(__dirname, '..', 'dist', 'sandbox.js'));
} catch (e) {
  process.stderr.write(`sandbox: cannot load ${path.join(__dirname, '..', 'dist', 'sandbox.js')} (${e.code || e.message}): run npm install\n`);
  process.exit(125);
}
main.entry(parentPid);
