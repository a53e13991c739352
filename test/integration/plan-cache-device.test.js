// The plan cache and device nodes (issue 16, "a device node appearing"): a profile's optional `dev-bind` of a node
// that is missing is kept without it; once the node exists the next launch binds it, and a node removed, or replaced
// by another device under the same name, is followed as well. The nodes are made by root with mknod in a private
// temporary directory (never under /dev); the launches run as the test user.
'use strict';
const t = require('tap');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { cannotLaunch, userTmpdir, IS_ROOT, TEST_UID, TEST_GID } = require('../lib/harness');
const { cachedRun } = require('../lib/plan-cache-entry');

const why = cannotLaunch() || (!IS_ROOT && 'making a device node (mknod) needs root');
if (why) {
  t.skip(`plan cache and device nodes: ${why}`);
  process.exit(0);
}

function own(p) {
  fs.chownSync(p, TEST_UID, TEST_GID);
}

/** A character device at p (as /dev/null is 1:3 and /dev/zero 1:5), readable and writable by everyone. */
function mknod(p, major, minor) {
  const r = spawnSync('mknod', ['-m', '666', p, 'c', String(major), String(minor)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mknod ${p}: ${r.stderr}`);
}

t.test('an optional dev-bind: the node appearing, replaced by another device, and removed, each followed by the next launch', async (t) => {
  const home = userTmpdir('sbx-cache-dev-');
  const devdir = userTmpdir('sbx-cache-nodes-');
  t.teardown(() => [home, devdir].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const node = path.join(devdir, 'node0');
  const profiles = path.join(home, '.config', 'sandbox', 'profiles');
  fs.mkdirSync(profiles, { recursive: true });
  fs.writeFileSync(path.join(profiles, 'withdev.json5'), `{ extends: "default", filesystem: [{ "dev-bind": ${JSON.stringify(node)}, dst: "/dev/node0", optional: true }] }\n`);
  for (const p of [path.join(home, '.config'), path.join(home, '.config', 'sandbox'), profiles, path.join(profiles, 'withdev.json5')]) own(p);
  // what the program finds: a character device, and what reading four bytes from it gives (/dev/null: nothing)
  const script = 'if test -c /dev/node0; then echo "char $(head -c 4 /dev/node0 | od -An -tx1 | tr -d " ")"; else echo absent; fi';
  const env = { HOME: home, XDG_CACHE_HOME: path.join(home, '.cache') };
  const run = (extra = {}) => cachedRun(['--profile', 'withdev', '--', 'sh', '-c', script], { env: { ...env, ...extra }, cwd: home });
  const same = (r, what) => {
    const plain = run({ SANDBOX_NO_CACHE: '1' });
    t.equal(r.stdout, plain.stdout, `${what}: as without the cache`);
    t.equal(r.status, plain.status);
  };

  const none = run();
  t.ok(none.kept, `no node: kept (${none.cache})`);
  t.equal(none.stdout, 'absent\n', none.stderr);
  t.ok(run().hit, 'and used');

  mknod(node, 1, 3);
  const made = run();
  t.notOk(made.hit, `the node appeared: not a hit (${made.cache})`);
  t.match(made.cache, /changed/);
  t.equal(made.stdout, 'char \n', `the program sees it, a device (/dev/null's numbers) (${made.stderr.trim()})`);
  t.ok(made.kept, 'kept with the node');
  const again = run();
  t.ok(again.hit, again.cache);
  same(again, 'with the node');

  // the same name, another device (/dev/zero's numbers). The file system may give it the inode number the old one
  // had (ext4 often does), and then the kept plan runs: right all the same, since a plan binds the path, whatever
  // device is there at the launch, never the device numbers it saw
  fs.unlinkSync(node);
  mknod(node, 1, 5);
  const other = run();
  t.equal(other.stdout, 'char 00000000\n', `replaced by another device: the program reads the new one (${other.cache})`);
  same(other, 'another device');

  fs.unlinkSync(node);
  const gone = run();
  t.notOk(gone.hit, `the node removed: not a hit (${gone.cache})`);
  t.equal(gone.stdout, 'absent\n', gone.stderr);
  same(gone, 'without the node');
});
