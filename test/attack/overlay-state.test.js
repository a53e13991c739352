// An overlay shows its layers as a bind would: where a lower (or the upper) holds sandbox's own state, the state is
// covered at the overlay's place like under a bind (lib/plan/build.ts hideOwnState). Without it, a program given
// `--overlay-src /tmp --tmp-overlay /mnt` read /tmp/sandbox-UID/plan-key (the key that signs plan cache entries, so it
// could forge entries for a later launch) and the registry and join state under it.
'use strict';
const t = require('tap');
const fs = require('fs');
const { sandbox, BASE, cannotLaunch, RUN_UID } = require('../lib/harness');

const why = cannotLaunch();
if (why) {
  t.skip(`overlays over sandbox's state: ${why}`);
  process.exit(0);
}
const state = `/tmp/sandbox-${RUN_UID}`;
const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/nonexistent', LANG: 'C.UTF-8', SANDBOX_NO_CACHE: '1' };

// the state directory exists once any launch of this user kept its plan or ran; make sure it does
t.before(() => {
  const r = sandbox([...BASE, '--', 'true'], { env: { ...env, SANDBOX_NO_CACHE: undefined } });
  if (r.status !== 0) throw new Error(r.stderr);
});

const cases = [
  ['a lower layer /tmp, a throw-away upper', ['--overlay-src', '/tmp', '--tmp-overlay', '/mnt'], `/mnt/sandbox-${RUN_UID}`],
  ['two lower layers, read-only', ['--overlay-src', '/usr', '--overlay-src', '/tmp', '--ro-overlay', '/mnt'], `/mnt/sandbox-${RUN_UID}`],
];
for (const [what, args, inside] of cases) {
  t.test(`${what}: the state is covered`, async (t) => {
    t.ok(fs.existsSync(state), `${state} exists on the host`);
    const r = sandbox([...BASE, ...args, '--', 'sh', '-c', `ls -A ${inside}; cat ${inside}/plan-key >/dev/null 2>&1 && echo read-key; ls ${inside}/sandbox >/dev/null 2>&1 && echo read-registry; true`], { env });
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout, '', 'an empty directory: no key, no registry');
  });
}
