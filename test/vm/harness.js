'use strict';
// The VM harness: boots the installed Debian kernel under qemu (software emulation) with a busybox
// initramfs that mounts the host's root read-only over 9p, mounts cgroup2 with every controller,
// delegates a subtree to an unprivileged user as systemd does for user@UID.service, and runs one
// script of checks. One boot per test suite; each check's output and exit code come back parsed.
// With `systemd` (runVm's option), the guest instead puts an overlayfs over the 9p root and boots the
// machine's own systemd as PID 1 (guest/systemd-init.sh), which runs the checks from vm-checks.service
// after starting the test user's user@UID.service (guest/systemd-stage2.sh).
//
// Usage (as root, since /boot/vmlinuz-* is root-only on Debian):
//   node test/vm/harness.js --script checks.sh      run a checks script (see guest/lib.sh for helpers)
//   node test/vm/harness.js -- unshare -Ur true     run one command as the delegated user
// Options: --uid N (default 65534), --timeout SECONDS (default 300), --keep (leave the work dir).
// Packages needed (Debian): qemu-system-x86, linux-image-amd64, busybox-static (see .ci/vm-packages).

const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const zlib = require('node:zlib');
const { spawn, execFileSync } = require('node:child_process');

const GUEST_DIR = path.join(__dirname, 'guest');
const MODULE_ORDER = ['virtio_ring', 'virtio', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio_pci',
  'netfs', 'fscache', '9pnet', '9p', '9pnet_virtio'];
const BUSYBOX = '/bin/busybox';

function findQemu() {
  for (const dir of (process.env.PATH || '/usr/bin:/bin').split(':')) {
    const p = path.join(dir, 'qemu-system-x86_64');
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** The newest /boot/vmlinuz-VER that has /lib/modules/VER, or null. */
function findKernel() {
  let names;
  try { names = fs.readdirSync('/boot'); } catch { return null; }
  const vers = names.filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => fs.existsSync(`/lib/modules/${v}/modules.dep`))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (!vers.length) return null;
  const version = vers[vers.length - 1];
  return { version, image: `/boot/vmlinuz-${version}`, modules: `/lib/modules/${version}` };
}

/** Why the VM can't run here, or null when it can. */
function vmUnavailableReason() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the VM test needs an x86-64 Linux host';
  if (!findQemu()) return 'qemu-system-x86_64 not found (apt-get install qemu-system-x86)';
  const k = findKernel();
  if (!k) return 'no /boot/vmlinuz-* with matching /lib/modules (apt-get install linux-image-amd64)';
  try { fs.accessSync(k.image, fs.constants.R_OK); } catch { return `${k.image} is not readable (run as root)`; }
  try {
    const out = execFileSync('file', ['-L', BUSYBOX], { encoding: 'utf8' });
    if (!/statically linked|static-pie/.test(out)) return `${BUSYBOX} is not static (apt-get install busybox-static)`;
  } catch {
    if (!fs.existsSync(BUSYBOX)) return `${BUSYBOX} not found (apt-get install busybox-static)`;
  }
  return null;
}

/** Module name → path of its .ko in the kernel's tree (built-in or absent modules are left out). */
function findModules(modulesDir, extra = []) {
  const dep = fs.readFileSync(path.join(modulesDir, 'modules.dep'), 'utf8');
  const byName = new Map();
  for (const line of dep.split('\n')) {
    const rel = line.split(':')[0];
    if (!rel) continue;
    const base = path.basename(rel).replace(/\.ko(\.(xz|zst|gz))?$/, '');
    byName.set(base.replace(/-/g, '_'), path.join(modulesDir, rel));
  }
  const found = [];
  for (const name of [...MODULE_ORDER, ...extra]) {
    const p = byName.get(name);
    if (p) found.push({ name, file: p });
  }
  return found;
}

function readModule(file) {
  if (file.endsWith('.ko')) return fs.readFileSync(file);
  if (file.endsWith('.ko.xz')) return execFileSync('xz', ['-dc', file]);
  if (file.endsWith('.ko.zst')) return execFileSync('zstd', ['-dcq', file]);
  if (file.endsWith('.ko.gz')) return zlib.gunzipSync(fs.readFileSync(file));
  throw new Error(`unknown module format: ${file}`);
}

/** A cpio "newc" archive (the initramfs format) from entries {name, mode, data?, rdev?}. */
function cpioNewc(entries) {
  const chunks = [];
  let ino = 1;
  const pad4 = (n) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n) => n.toString(16).padStart(8, '0');
  const push = (name, mode, data, rdevMajor, rdevMinor) => {
    const nameBuf = Buffer.from(name + '\0');
    const header = '070701' + [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdevMajor, rdevMinor, nameBuf.length, 0]
      .map(hex).join('');
    chunks.push(Buffer.from(header), nameBuf, pad4(110 + nameBuf.length), data, pad4(data.length));
  };
  for (const e of entries) {
    push(e.name, e.mode, e.data || Buffer.alloc(0), e.rdev ? e.rdev[0] : 0, e.rdev ? e.rdev[1] : 0);
  }
  push('TRAILER!!!', 0, Buffer.alloc(0), 0, 0);
  return Buffer.concat(chunks);
}

const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFCHR = 0o020000, S_IFLNK = 0o120000;

/**
 * Units the systemd guest boots to (guest/init.sh copies vm/systemd/* into /etc/systemd/system of the
 * overlay root): vm.target pulls only the checks service, which waits for D-Bus and logind.
 */
const SYSTEMD_UNITS = {
  'vm.target': '[Unit]\nDescription=sandbox VM checks\nRequires=vm-checks.service\nAllowIsolate=yes\n',
  'vm-checks.service': [
    '[Unit]', 'Description=sandbox VM checks', 'Wants=dbus.service systemd-logind.service',
    'After=dbus.service systemd-logind.service systemd-user-sessions.service',
    '[Service]', 'Type=simple', 'ExecStart=/bin/sh /etc/sandbox-vm/systemd-stage2.sh',
    'StandardOutput=journal+console', 'StandardError=journal+console', '',
  ].join('\n'),
};
/**
 * What a boot to vm.target would start and the checks don't need: under software emulation
 * systemd-tmpfiles-setup alone walks the 9p tree for minutes (DESIGN.md section 7).
 */
const SYSTEMD_MASK = [
  'systemd-tmpfiles-setup.service', 'systemd-tmpfiles-setup-dev.service', 'systemd-tmpfiles-clean.timer',
  'systemd-udevd.service', 'systemd-udev-trigger.service', 'systemd-udev-settle.service',
  'systemd-udevd-control.socket', 'systemd-udevd-kernel.socket',
  'systemd-journal-flush.service', 'systemd-random-seed.service', 'systemd-sysusers.service',
  'systemd-firstboot.service', 'systemd-binfmt.service', 'proc-sys-fs-binfmt_misc.automount',
  'systemd-update-utmp.service', 'systemd-pstore.service', 'systemd-timesyncd.service', 'systemd-repart.service',
  'systemd-machine-id-commit.service', 'systemd-pcrphase-sysinit.service', 'systemd-pcrphase.service',
  'sys-kernel-debug.mount', 'sys-kernel-tracing.mount', 'sys-kernel-config.mount', 'sys-fs-fuse-connections.mount',
  'dev-hugepages.mount', 'kmod-static-nodes.service', 'systemd-modules-load.service', 'systemd-remount-fs.service',
  'systemd-fsck-root.service', 'systemd-journald-audit.socket', 'systemd-ask-password-console.path',
  'apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer', 'e2scrub_all.timer', 'fstrim.timer', 'man-db.timer',
  'munge.service', 'slurmd.service', 'slurmctld.service', 'slurmdbd.service', 'getty@tty1.service', 'serial-getty@ttyS0.service',
];
/** User units of the host's packages that the user manager would start and the checks don't need. */
const SYSTEMD_USER_MASK = ['pulseaudio.service', 'pulseaudio.socket', 'pk-debconf-helper.socket'];

function systemdGuestFiles(opts) {
  const file = (name, data, mode = 0o644) => ({ name, mode: S_IFREG | mode, data: Buffer.from(data) });
  const userMask = opts.userMask || SYSTEMD_USER_MASK;
  return [
    { name: 'vm/systemd', mode: S_IFDIR | 0o755 },
    ...Object.entries(SYSTEMD_UNITS).map(([n, text]) => file(`vm/systemd/${n}`, text)),
    file('vm/systemd-init.sh', fs.readFileSync(path.join(GUEST_DIR, 'systemd-init.sh'))),
    file('vm/systemd-stage2.sh', fs.readFileSync(path.join(GUEST_DIR, 'systemd-stage2.sh')), 0o755),
    file('vm/user-mask', userMask.join('\n') + '\n'),
    // masked as /etc/systemd/system/UNIT -> /dev/null links (as systemd.mask= does; the kernel
    // command line has room for about 2 KB)
    file('vm/system-mask', (opts.mask || SYSTEMD_MASK).join('\n') + '\n'),
  ];
}

/** Build the gzipped initramfs; returns its bytes. */
function buildInitramfs({ kernel, checksScript, uid, gid, systemd = null }) {
  const modules = findModules(kernel.modules, systemd ? ['overlay'] : []);
  const file = (name, data, mode = 0o644) => ({ name, mode: S_IFREG | mode, data: Buffer.from(data) });
  const dir = (name) => ({ name, mode: S_IFDIR | 0o755 });
  const entries = [
    dir('bin'), dir('dev'), dir('proc'), dir('sys'), dir('host'), dir('vm'), dir('vm/modules'),
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] },
    { name: 'dev/ttyS0', mode: S_IFCHR | 0o600, rdev: [4, 64] },
    file('bin/busybox', fs.readFileSync(BUSYBOX), 0o755),
    { name: 'bin/sh', mode: S_IFLNK | 0o777, data: Buffer.from('busybox') },
    file('init', fs.readFileSync(path.join(GUEST_DIR, 'init.sh')), 0o755),
    file('vm/stage2.sh', fs.readFileSync(path.join(GUEST_DIR, 'stage2.sh')), 0o755),
    file('vm/lib.sh', fs.readFileSync(path.join(GUEST_DIR, 'lib.sh'))),
    file('vm/checks.sh', checksScript),
    // VM_KEEP: the checkout, seen through the tmpfs the guest puts on /tmp, /run, /home and /var/tmp
    file('vm/env', `VM_UID=${uid}\nVM_GID=${gid}\nVM_KEEP='${path.resolve(__dirname, '../..')}'\nVM_SYSTEMD=${systemd ? 1 : ''}\nexport VM_UID VM_GID VM_KEEP VM_SYSTEMD\n`),
    ...(systemd ? systemdGuestFiles(systemd) : []),
    file('vm/modules.order', modules.map((m) => m.name).join('\n') + '\n'),
    ...modules.map((m) => file(`vm/modules/${m.name}.ko`, readModule(m.file))),
  ];
  return zlib.gzipSync(cpioNewc(entries), { level: 1 });
}

/**
 * Parse the results channel: "@@VM-CHECK-BEGIN name@@" ... "@@VM-CHECK-END name rc=N@@".
 * Returns { ready, done, userManager, checks: Map<name, {rc, output}> } (userManager: uptime when the systemd
 * guest's user@UID.service was up); a check cut off by the time limit has rc null.
 */
function parseResults(text) {
  const lines = text.replace(/\r/g, '').split('\n');
  const checks = new Map();
  let current = null;
  let buf = [];
  let ready = null, done = null, setupFailed = false, userManager = null;
  for (const line of lines) {
    let m;
    if ((m = /^@@VM-READY uptime=([\d.]+)@@$/.exec(line))) { ready = Number(m[1]); continue; }
    if ((m = /^@@VM-DONE rc=(\d+) uptime=([\d.]+)@@$/.exec(line))) { done = Number(m[2]); continue; }
    if (line === '@@VM-SETUP-FAILED@@') { setupFailed = true; continue; }
    if ((m = /^@@VM-USER-MANAGER uptime=([\d.]+) started=([\d.]+)@@$/.exec(line))) { userManager = Number(m[1]); continue; }
    if ((m = /^@@VM-CHECK-BEGIN (\S+)@@$/.exec(line))) { current = m[1]; buf = []; continue; }
    if ((m = /^@@VM-CHECK-END (\S+) rc=(\d+)@@$/.exec(line)) && m[1] === current) {
      checks.set(current, { rc: Number(m[2]), output: buf.join('\n') });
      current = null;
      continue;
    }
    if (current) buf.push(line); else if (line.trim()) (checks.get('_loose') || checks.set('_loose', { rc: 0, output: '' }).get('_loose')).output += line + '\n';
  }
  if (current) checks.set(current, { rc: null, output: buf.join('\n') });
  return { ready, done, setupFailed, userManager, checks };
}

/**
 * Boot the VM once and run `checksScript` (POSIX sh, run as root after delegation; guest/lib.sh's
 * helpers are sourced). Resolves { checks, bootSeconds, totalSeconds, console, results, timedOut }.
 * systemd: {mask?, userMask?} boots systemd as PID 1 with these units masked (SYSTEMD_MASK by default)
 * and the checks run once user@UID.service is up (then VM_UID is a user of its own, added to the guest).
 */
function runVm({ checksScript, uid = 65534, gid = uid, timeoutSeconds = 300, memoryMiB = 1024, keep = false, systemd = null }) {
  const kernel = findKernel();
  if (!kernel) return Promise.reject(new Error('no kernel with modules in /boot'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-vm-'));
  const initrd = path.join(work, 'initrd.gz');
  const resultsFile = path.join(work, 'results.txt');
  fs.writeFileSync(initrd, buildInitramfs({ kernel, checksScript: `. /run/vm/lib.sh\n${checksScript}`, uid, gid, systemd }));
  // systemd as PID 1 (after init.sh's switch_root) reads its options from the kernel command line
  const systemdArgs = systemd
    ? ' systemd.unit=vm.target systemd.show_status=1 systemd.log_target=console'
    : '';
  const args = [
    '-accel', 'tcg', '-cpu', 'max', '-m', String(memoryMiB), '-smp', '1', '-nographic', '-no-reboot',
    '-kernel', kernel.image, '-initrd', initrd,
    '-append', `console=ttyS0 panic=-1 quiet loglevel=1 rdinit=/init${systemdArgs}`,
    '-virtfs', 'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap',
    '-serial', 'mon:stdio', '-serial', `file:${resultsFile}`,
    '-nic', 'none',
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const qemu = spawn(findQemu(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleText = '';
    // SANDBOX_VM_CONSOLE=FILE: the console as it comes, to watch a slow boot
    const live = process.env.SANDBOX_VM_CONSOLE ? fs.createWriteStream(process.env.SANDBOX_VM_CONSOLE) : null;
    qemu.stdout.on('data', (d) => { consoleText += d; if (live) live.write(d); });
    qemu.stderr.on('data', (d) => { consoleText += d; if (live) live.write(d); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; qemu.kill('SIGKILL'); }, timeoutSeconds * 1000);
    qemu.on('error', (e) => { clearTimeout(timer); reject(e); });
    qemu.on('close', () => {
      clearTimeout(timer);
      const totalSeconds = (Date.now() - started) / 1000;
      let results = '';
      try { results = fs.readFileSync(resultsFile, 'utf8'); } catch { /* never started */ }
      const parsed = parseResults(results);
      if (!keep) fs.rmSync(work, { recursive: true, force: true });
      resolve({ ...parsed, bootSeconds: parsed.ready, totalSeconds, console: consoleText, results, timedOut, work });
    });
  });
}

function shellQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

async function main(argv) {
  let script = null, uid = 65534, timeoutSeconds = 300, keep = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--script') script = fs.readFileSync(argv[++i], 'utf8');
    else if (a === '--uid') uid = Number(argv[++i]);
    else if (a === '--timeout') timeoutSeconds = Number(argv[++i]);
    else if (a === '--keep') keep = true;
    else if (a === '--') { script = `check command as_user ${argv.slice(i + 1).map(shellQuote).join(' ')}\n`; break; }
    else throw new Error(`unknown argument ${a}`);
  }
  if (!script) throw new Error('usage: harness.js [--uid N] [--timeout S] [--keep] (--script FILE | -- COMMAND...)');
  const why = vmUnavailableReason();
  if (why) { process.stderr.write(`vm: ${why}\n`); return 77; }
  const r = await runVm({ checksScript: script, uid, timeoutSeconds, keep });
  if (r.results.length === 0 || r.timedOut) process.stderr.write(r.console);
  for (const [name, c] of r.checks) process.stdout.write(`--- ${name} rc=${c.rc}\n${c.output}${c.output.endsWith('\n') || !c.output ? '' : '\n'}`);
  process.stdout.write(`vm: guest ready at ${r.bootSeconds}s uptime, done at ${r.done}s, ${r.totalSeconds.toFixed(1)}s wall${r.timedOut ? ', TIMED OUT' : ''}${keep ? `, work dir ${r.work}` : ''}\n`);
  const failed = [...r.checks.entries()].some(([n, c]) => n !== '_loose' && c.rc !== 0);
  return r.timedOut || r.setupFailed || failed || r.done === null ? 1 : 0;
}

module.exports = { SYSTEMD_MASK, vmUnavailableReason, findKernel, findModules, buildInitramfs, cpioNewc, parseResults, runVm };

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; },
    (e) => { process.stderr.write(`vm: ${e.message}\n`); process.exitCode = 1; });
}
