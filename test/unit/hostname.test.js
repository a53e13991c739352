'use strict';
// The hostname rule, once: the command line and profiles take what sethostname(2) takes (up to 64 bytes,
// __NEW_UTS_LEN) and refuse the rest with the same words; the JSON schema says the same.
const t = require('tap');
const { parseRunArgs } = require('../../dist/lib/cli/run-options');
const { readProfileText } = require('../../dist/lib/profile/document');
const { HOSTNAME_MAX, HOSTNAME_RULE } = require('../../dist/lib/plan/hostname');
const schema = require('../../schema/profile.schema.json');

const GOOD = ['box', 'a', 'node-1.cluster', '9lives', 'x'.repeat(64)];
const BAD = ['', 'bad host', '-lead', '.lead', 'x'.repeat(65), 'under_score', 'ünï'];

const cli = (h) => parseRunArgs(['--hostname', h, 'true'], '/').spec.hostname;
const profile = (h) => readProfileText('/p.json5', `{ hostname: ${JSON.stringify(h)} }`).hostname.value;

t.test('the kernel\'s limit, on both paths', async (t) => {
  t.equal(HOSTNAME_MAX, 64);
  for (const h of GOOD) {
    t.equal(cli(h), h, `--hostname ${h}`);
    t.equal(profile(h), h, `hostname: ${h}`);
  }
  for (const h of BAD) {
    t.throws(() => cli(h), { message: `--hostname ${h}: expected ${HOSTNAME_RULE}` });
    t.throws(() => profile(h), { message: `/p.json5:1:13: found ${JSON.stringify(h)}, expected ${HOSTNAME_RULE}` });
  }
  t.match(HOSTNAME_RULE, /1 to 64 /);
});

t.test('the schema agrees', async (t) => {
  const re = new RegExp(schema.properties.hostname.pattern);
  for (const h of GOOD) t.ok(re.test(h), h);
  for (const h of BAD) t.notOk(re.test(h), h);
});
