// xdotool as the test user against one display, for driving a real application's keyboard on Xvfb
// (no window manager there: windows are focused with windowfocus, not windowactivate).
'use strict';
const { spawn } = require('child_process');
const { asUser } = require('../lib/harness');
const { authorityOf } = require('./apps/run');

/** Runs `xdotool ARGS` on :display; resolves { status, stdout, stderr } (status null on timeout). */
function xdotool(display, args, timeout = 10000) {
  const [cmd, argv] = asUser('xdotool', args);
  // the display's own cookie: xdotool plays the user, who is trusted (the sandboxed app is not)
  const auth = authorityOf.get(Number(display));
  const child = spawn(cmd, argv, { env: { DISPLAY: `:${display}`, PATH: '/usr/bin:/bin', ...(auth ? { XAUTHORITY: auth } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  return new Promise((resolve) => child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); }));
}

/** Polls for a visible window of the class until ms pass; resolves its id or null. */
async function findWindow(display, cls, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await xdotool(display, ['search', '--onlyvisible', '--class', cls]);
    const id = r.stdout.trim().split('\n')[0];
    if (r.status === 0 && id) return id;
    await new Promise((res) => setTimeout(res, 250));
  }
  return null;
}

module.exports = { xdotool, findWindow };
