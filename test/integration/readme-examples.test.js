// The shell examples of README.md, profiles/README.md and docs/*.md, run as written: in a fenced block, a
// line starting with `$ ` is a command and the lines after it (up to the next `$ ` or the end of the block)
// are its output, stdout and stderr together.
// Each command runs through `sh` as the unprivileged test user (uid 65534 when the tests run as root), with a
// clean environment, in a scratch directory of that user's that is also its $HOME; `sandbox` is the checkout's
// bin/sandbox (first on PATH) and relative paths (native/build/sandbox-exec) are the checkout's. Every
// command must exit 0 (an example that shows a failure ends in `; echo "exit $?"`), and its output must
// equal the document's after renaming only the named things of NAMES below.
//
// An example that can't be reproduced on any test host says so in its document itself, in one or more
// comments right before its block, which this test reads (an unknown word in one is an error, so a typo
// can't weaken the test):
//   <!-- example[ #N]: CLAUSE; CLAUSE ... -->       #N: only the N-th command of the block (else all)
//   skip (REASON)                   not run; the test says it skipped and why
//   host-dependent (REASON)         informational; goes with checks: or normalise:
//   checks: ITEM, ITEM ...          compare only these lines of the document's output: `first line` and
//                                   `last line` at their place, `line N` and `lines N-M` in order anywhere,
//                                   `line N up to "TEXT"` the start of that line up to and including TEXT
//   normalise: byte count           "(1234 bytes)" compared as a count, not a value
//   requires: no cgroup delegation  run only where `sandbox doctor --json` finds no delegated cgroup v2
//                                   subtree (the example shows such a host); elsewhere skipped, saying so
// Before a block with no `$ ` command (a profile snippet, a file the examples use), one clause:
//   saved as NAME                   the block's text is the file NAME in the scratch directory of every
//                                   block of the same document, so an example can run it
//   saved as NAME inside { }        the same, between a `{` line and a `}` line: a profile section as a profile
'use strict';
const t = require('tap');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, TEST_UID, TEST_GID, IS_ROOT, asUser, userTmpdir, cannotLaunch, ensureCheckoutReachable, sandboxCli } = require('../lib/harness');

const README = path.join(ROOT, 'README.md');
/** Every document whose examples are run, relative to the checkout. */
const DOCS = ['README.md', 'profiles/README.md',
  ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

/** Files some examples need, written into each block's scratch directory before it runs. */
const FIXTURES = {
  // `sandbox profile check my.json5` shows the error for a mode that is not octal, at 4:32
  'my.json5': '{\n  extends: "default",\n  filesystem: [\n    { tmpfs: "/scratch", mode: "0855" },\n  ],\n}\n',
};

/** Directories the examples name in the user's home. */
const FIXTURE_DIRS = ['project', 'plans'];

/** Parse a document into blocks of examples with their annotations, and the files it saves for them. */
function parseDoc(text, doc) {
  const lines = text.split('\n');
  const blocks = [];
  const errors = [];
  const files = [];
  let pending = []; // annotations seen right before the next fence
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const ann = /^<!--\s*example(?:\s+#(\d+))?\s*:\s*(.*?)\s*-->\s*$/.exec(line);
    if (ann) {
      pending.push({ line: i + 1, only: ann[1] ? Number(ann[1]) : null, text: ann[2] });
      continue;
    }
    if (/^<!--\s*example/.test(line)) errors.push(`${doc}:${i + 1}: an example comment this test can't read: ${line}`);
    if (!line.startsWith('```')) {
      for (const a of pending) errors.push(`${doc}:${a.line}: an example comment not right before a fenced block`);
      pending = [];
      continue;
    }
    const start = i + 1;
    const body = [];
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
    const commands = [];
    for (const [k, l] of body.entries()) {
      if (l.startsWith('$ ')) commands.push({ line: start + 1 + k, command: l.slice(2), expected: [] });
      else if (commands.length) commands[commands.length - 1].expected.push(l);
    }
    if (commands.length) blocks.push({ line: start, commands, annotations: pending });
    else {
      for (const a of pending) {
        const m = /^saved as ([A-Za-z0-9._-]+)( inside \{ \})?$/.exec(a.text);
        if (!m || a.only !== null) errors.push(`${doc}:${a.line}: before a block with no \`$ \` command, only "saved as NAME" (or "saved as NAME inside { }")`);
        else if (files.some((f) => f.name === m[1])) errors.push(`${doc}:${a.line}: ${m[1]} is saved twice`);
        else files.push({ name: m[1], content: `${(m[2] ? ['{', ...body, '}'] : body).join('\n')}\n` });
      }
    }
    pending = [];
  }
  for (const b of blocks) {
    for (const a of b.annotations) {
      if (a.only !== null && !(a.only >= 1 && a.only <= b.commands.length)) {
        errors.push(`${doc}:${a.line}: #${a.only}, but the block has ${b.commands.length} command(s)`);
        continue;
      }
      for (const [k, c] of b.commands.entries()) {
        if (a.only !== null && a.only !== k + 1) continue;
        try {
          applyClauses(c, a.text);
        } catch (e) {
          errors.push(`${doc}:${a.line}: ${e.message}`);
        }
      }
    }
  }
  return { blocks, errors, files };
}

/** Read an annotation's clauses into the command's settings; throws on anything unknown. */
function applyClauses(c, text) {
  for (const raw of splitOutside(text, ';')) {
    const clause = raw.trim();
    let m;
    if (!clause) continue;
    if ((m = /^skip \((.+)\)$/.exec(clause))) c.skip = m[1];
    else if ((m = /^host-dependent \((.+)\)$/.exec(clause))) c.hostDependent = m[1];
    else if ((m = /^checks:\s*(.+)$/.exec(clause))) c.checks = parseChecks(m[1], c.expected.length);
    else if (clause === 'normalise: byte count') c.byteCount = true;
    else if (clause === 'requires: no cgroup delegation') c.requires = 'no cgroup delegation';
    else throw new Error(`unknown clause "${clause}"`);
  }
  if (c.hostDependent && !c.checks && !c.byteCount) throw new Error('host-dependent, but says neither checks: nor normalise:');
}

/** Split at sep, except inside (...) and "..." (a reason may hold a ';', a checked text a ','). */
function splitOutside(text, sep) {
  const parts = [''];
  let depth = 0;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') depth = Math.max(0, depth - 1);
    if (ch === sep && depth === 0 && !quoted) parts.push('');
    else parts[parts.length - 1] += ch;
  }
  return parts;
}

function parseChecks(text, n) {
  const items = [];
  const at = (k) => {
    if (!(k >= 1 && k <= n)) throw new Error(`checks: line ${k}, but the example shows ${n} line(s)`);
    return k - 1;
  };
  for (const raw of splitOutside(text, ',')) {
    const item = raw.trim();
    let m;
    if (item === 'first line') items.push({ index: 0, anchor: 'first' });
    else if (item === 'last line') items.push({ index: at(n), anchor: 'last' });
    else if ((m = /^line (\d+|first|last) up to "([^"]+)"$/.exec(item))) {
      const index = m[1] === 'first' ? 0 : m[1] === 'last' ? at(n) : at(Number(m[1]));
      items.push({ index, upTo: m[2], anchor: m[1] === 'first' || m[1] === 'last' ? m[1] : null });
    } else if ((m = /^line (\d+)$/.exec(item))) items.push({ index: at(Number(m[1])) });
    else if ((m = /^lines (\d+)-(\d+)$/.exec(item))) {
      for (let k = Number(m[1]); k <= Number(m[2]); k++) items.push({ index: at(k) });
    } else throw new Error(`checks: unknown item "${item}"`);
  }
  return items;
}

// The named things that differ between the README's host and this one. The README was written as uid 65534
// (nobody/nogroup), from a checkout at /work/main, in /home/u; its kernel release is the one its doctor example
// shows.
function names(readmeText, scratch) {
  const kernel = /^ok +kernel +Linux (\S+): /m.exec(readmeText);
  const uid = process.getuid() === 0 ? TEST_UID : process.getuid();
  const gid = process.getuid() === 0 ? TEST_GID : process.getgid();
  const idName = (flag) => spawnSync('id', [flag, String(uid)], { encoding: 'utf8' }).stdout.trim();
  const list = [
    { what: 'the checkout', here: ROOT, readme: '/work/main' },
    { what: 'the scratch directory (cwd and $HOME)', here: scratch, readme: '/home/u' },
  ];
  if (kernel) list.push({ what: 'the kernel release', here: os.release(), readme: kernel[1] });
  // the ids only where the output shows them as ids (`id`, uid_map, doctor's and --memory's "uid N"), never
  // a bare number or name, which may be part of other text
  if (uid !== 65534) {
    const name = idName('-un');
    list.push({ what: 'the user', here: `uid=${uid}(${name})`, readme: 'uid=65534(nobody)' });
    list.push({ what: 'the user', here: `allows ${name} (uid ${uid})`, readme: 'allows nobody (uid 65534)' });
    list.push({ what: 'the uid', here: `for uid ${uid} `, readme: 'for uid 65534 ' });
    // /proc/self/uid_map: "%10u %10u %10u"
    list.push({ what: 'the uid_map', here: `${uid} ${uid} 1`, readme: '65534 65534 1', re: new RegExp(`^ *${uid} +${uid} +1$`, 'gm'), to: [65534, 65534, 1].map((v) => String(v).padStart(10)).join(' ') });
  }
  if (gid !== 65534) {
    const group = spawnSync('id', ['-gn', String(uid)], { encoding: 'utf8' }).stdout.trim();
    list.push({ what: 'the group', here: `gid=${gid}(${group})`, readme: 'gid=65534(nogroup)' });
    list.push({ what: 'the group', here: `groups=${gid}(${group})`, readme: 'groups=65534(nogroup)' });
  }
  return list;
}

/** This host's output in the README's names. */
function normalise(out, list, c) {
  for (const n of list) {
    if (n.here === n.readme) continue;
    if (n.re) out = out.replace(n.re, n.to ?? n.readme);
    else out = out.split(n.here).join(n.readme);
  }
  if (c.byteCount) out = out.replace(/\(\d+ bytes\)/g, '(N bytes)');
  return out;
}

function expectedText(c) {
  const s = c.expected.join('\n');
  return c.byteCount ? s.replace(/\(\d+ bytes\)/g, '(N bytes)') : s;
}

/** Run one command line as the test user, stdout and stderr in one stream as a terminal shows them. */
function runExample(command, scratch) {
  const [cmd, argv] = asUser('sh', ['-c', `exec 2>&1\n${command}`]);
  const r = spawnSync(cmd, argv, {
    cwd: scratch,
    env: { PATH: `${path.join(ROOT, 'bin')}:/usr/local/bin:/usr/bin:/bin`, HOME: scratch, LANG: 'C.UTF-8' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60000,
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return r;
}

/** Prepare a scratch directory for one block: the user's own, under the system's tmp (never /tmp itself), with
 * the fixtures and the files its document saves. */
function scratchFor(saved = []) {
  const dir = userTmpdir('sbx-readme-');
  for (const [name, content] of [...Object.entries(FIXTURES), ...saved.map((f) => [f.name, f.content])]) {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    if (IS_ROOT) fs.chownSync(p, TEST_UID, TEST_GID);
  }
  // the compile example runs from ~/project and writes into ~/plans (a plan is never written where it binds read-write)
  for (const d of FIXTURE_DIRS) {
    const p = path.join(dir, d);
    fs.mkdirSync(p);
    if (IS_ROOT) fs.chownSync(p, TEST_UID, TEST_GID);
  }
  return dir;
}

/** Whether `sandbox doctor --json` finds no delegated cgroup v2 subtree for the test user. */
let cgroupCache;
function noCgroupDelegation() {
  if (cgroupCache === undefined) {
    const r = sandboxCli(['doctor', '--json']);
    const f = JSON.parse(r.stdout).findings.find((x) => x.id === 'cgroup');
    cgroupCache = { none: f.verdict !== 'ok', summary: f.summary };
  }
  return cgroupCache;
}

function checkPartly(t, c, actualLines, expected) {
  let from = 0;
  for (const item of c.checks) {
    const want = expected[item.index];
    const wantText = item.upTo !== undefined ? want.slice(0, want.indexOf(item.upTo) + item.upTo.length) : want;
    if (item.upTo !== undefined && !want.includes(item.upTo)) {
      t.fail(`line ${item.index + 1} of the document's output has no "${item.upTo}"`);
      continue;
    }
    const ok = (line) => (item.upTo !== undefined ? line.startsWith(wantText) : line === wantText);
    const label = `output line ${item.index + 1}${item.upTo !== undefined ? ` up to "${item.upTo}"` : ''}: ${wantText}`;
    if (item.anchor === 'first' || item.anchor === 'last') {
      const got = item.anchor === 'first' ? actualLines[0] : actualLines[actualLines.length - 1];
      t.ok(got !== undefined && ok(got), `${item.anchor} line, ${label}`, { found: got, wanted: wantText });
      continue;
    }
    const k = actualLines.findIndex((l, j) => j >= from && ok(l));
    t.ok(k >= 0, `in order, ${label}`, { found: actualLines.slice(from), wanted: wantText });
    if (k >= 0) from = k + 1;
  }
}

const why = cannotLaunch();
// the README's doctor example names the kernel its output came from, for every document
const readmeText = fs.readFileSync(README, 'utf8');
const docs = DOCS.map((doc) => ({ doc, ...parseDoc(fs.readFileSync(path.join(ROOT, doc), 'utf8'), doc) }));

t.test('every example comment is understood', async (t) => {
  for (const d of docs) t.same(d.errors, [], `${d.doc}: no unreadable or misplaced example comments`);
  t.ok(docs[0].blocks.length > 0, `README.md: found ${docs[0].blocks.reduce((n, b) => n + b.commands.length, 0)} examples in ${docs[0].blocks.length} blocks`);
  for (const d of docs.slice(1)) t.comment(`${d.doc}: ${d.blocks.reduce((n, b) => n + b.commands.length, 0)} examples, ${d.files.length} saved files`);
});

t.test('profiles/README.md: the table of shipped profiles names every one of them', async (t) => {
  const text = fs.readFileSync(path.join(ROOT, 'profiles', 'README.md'), 'utf8');
  const section = text.slice(text.indexOf('## Shipped profiles'), text.indexOf('\n## ', text.indexOf('## Shipped profiles') + 1));
  const listed = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]).sort();
  const shipped = fs.readdirSync(path.join(ROOT, 'profiles')).filter((f) => f.endsWith('.json5')).map((f) => f.slice(0, -6)).sort();
  t.same(listed, shipped, `${shipped.length} shipped profiles, each with its row`);
});

if (why) {
  t.skip(`examples: ${why}`);
} else {
  ensureCheckoutReachable();
  const tally = { exact: 0, partly: 0, skipped: 0 };
  for (const { doc, blocks, files } of docs) {
    for (const b of blocks) {
      t.test(`${doc}:${b.line}`, async (t) => {
        const scratch = scratchFor(files);
        t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
        const list = names(readmeText, scratch);
        for (const c of b.commands) {
          const title = `${doc}:${c.line}: $ ${c.command}`;
          if (c.skip) {
            tally.skipped++;
            t.skip(`${title}: ${c.skip}`);
            continue;
          }
          if (c.requires === 'no cgroup delegation') {
            const cg = noCgroupDelegation();
            if (!cg.none) {
              tally.skipped++;
              t.skip(`${title}: the example shows a host with no delegated cgroup v2 subtree, and this host has one (${cg.summary})`);
              continue;
            }
          }
          await t.test(title, async (t) => {
            const r = runExample(c.command, scratch);
            t.equal(r.status, 0, 'the command line exits 0', { signal: r.signal, stderr: r.stderr });
            const actual = normalise(r.stdout.replace(/\n$/, ''), list, c);
            if (c.byteCount) {
              // the count is not compared with the document's, but it must be the size of what was written: the
              // plan, which is the file less its `#!` line (lib/cli/compile.ts counts the plan alone)
              for (const [, file, bytes] of r.stdout.matchAll(/wrote (\S+) \((\d+) bytes\)/g)) {
                const data = fs.readFileSync(path.resolve(scratch, file));
                const plan = data[0] === 0x23 && data[1] === 0x21 ? data.subarray(data.indexOf(0x0a) + 1) : data;
                t.equal(plan.length, Number(bytes), `${file} holds a plan of the ${bytes} bytes it says`);
              }
            }
            const renamed = list.filter((n) => n.here !== n.readme && (n.re ? r.stdout.search(n.re) >= 0 : r.stdout.includes(n.here)));
            if (renamed.length || c.byteCount) {
              t.comment(`renamed: ${[...renamed.map((n) => `${n.what} ${n.here} -> ${n.readme}`), ...(c.byteCount ? ['byte counts -> N'] : [])].join('; ')}`);
            }
            if (c.checks) {
              tally.partly++;
              t.comment(`host-dependent (${c.hostDependent || `see ${doc}`}): checking only ${c.checks.length} of ${c.expected.length} lines`);
              checkPartly(t, c, actual.split('\n'), c.expected);
              if (actual === expectedText(c)) t.comment(`(the whole output is as ${doc} shows it on this host too)`);
              else t.comment(`output here:\n${actual}`);
            } else {
              tally.exact++;
              t.equal(actual, expectedText(c), `output as ${doc} shows it`);
            }
          });
        }
      });
    }
  }
  t.teardown(() => {
    console.log(`# examples: ${tally.exact} checked exactly, ${tally.partly} partly, ${tally.skipped} skipped`);
  });
}
