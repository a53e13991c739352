// The plan cache and the X server: the cookie a sandbox gets, and whether it gets one at all, is the server's answer
// (its access control, the cookie in $XAUTHORITY that xauth reads), which no recorded file or variable carries. A
// launch that asked is never kept, whatever the answer, also where nothing else of it would stop the keeping.
'use strict';
const t = require('tap');
const pc = require('../../dist/lib/host/plan-cache.js');
const { untrustedX11Cookie } = require('../../dist/lib/profile/xauth.js');

t.test('asking the X server for a cookie refuses keeping the plan, whatever it answers', async (t) => {
  // /bin/false as xauth: the server "refuses" every request; /bin/true: it "lets everyone in"
  for (const xauth of ['/bin/false', '/bin/true']) {
    const rec = new pc.Recorder();
    rec.start();
    let access;
    try {
      access = untrustedX11Cookie(4242, '/nonexistent/Xauthority', xauth);
    } finally {
      rec.stop();
    }
    t.ok('refused' in access, `${xauth}: no cookie (${access.refused})`);
    t.equal(rec.refused, 'the X server :4242 was asked for a cookie', `${xauth}: the launch is not kept`);
  }
});

t.test('outside planning (no recorder), asking refuses nothing', async (t) => {
  t.doesNotThrow(() => untrustedX11Cookie(4242, null, '/bin/false'));
});
