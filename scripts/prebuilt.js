#!/usr/bin/env node
// Builds the prebuilt packages packages/sandbox-linux-x64 and packages/sandbox-linux-arm64 from native/: the
// launcher, the stage (also as sandbox-exec: the stage picks its mode by the name it runs under), the probe,
// the PulseAudio proxy and koffi's native module, so `npm install` of the packed tarball needs no compiler.
// x64 also gets static/sandbox-exec, linked statically against musl, to copy to nodes that have no Node.
//
// Reproducible: the same sources and compilers give the same bytes (no build paths, no debug info, no build
// machine's node path, SOURCE_DATE_EPOCH-free). `node scripts/prebuilt.js --check` builds twice and compares.
//
// Usage: node scripts/prebuilt.js [x64|arm64 ...] [--check]   (default: every architecture whose compiler is here)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const NATIVE = path.join(ROOT, 'native');
const VERSION = require(path.join(ROOT, 'package.json')).version;

/** Per architecture: the cross compiler's name, Debian's package for it, the kernel headers' asm directory. */
const ARCHES = {
  x64: { gnu: 'x86_64-linux-gnu', deb: 'gcc-x86-64-linux-gnu', uname: 'x86_64' },
  arm64: { gnu: 'aarch64-linux-gnu', deb: 'gcc-aarch64-linux-gnu libc6-dev-arm64-cross', uname: 'aarch64' },
};
const PROGRAMS = ['sandbox', 'sandbox-stage', 'sandbox-probe', 'sandbox-pulse-proxy'];
// The Makefile's warnings and hardening, without -g (debug info records build paths) and stripped.
const CFLAGS = `-O2 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -fstack-protector-strong -D_FORTIFY_SOURCE=2 -ffile-prefix-map=${NATIVE}=.`;

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** The C compiler for arch here: the native cc for the host's own architecture, else the cross compiler. */
function compilerFor(arch) {
  const cross = `${ARCHES[arch].gnu}-gcc`;
  if (arch === process.arch) return process.env.CC || (have('cc') ? 'cc' : have(cross) ? cross : null);
  return have(cross) ? cross : null;
}

/** Copies by a rename, so a program running (or a test reading) the old file never sees half of the new one. */
function install(from, to, mode) {
  const tmp = `${to}.${process.pid}.new`;
  fs.copyFileSync(from, tmp);
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, to);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error ? r.error.message : `exit ${r.status}`})`);
}

/** koffi's native module for arch, of the koffi version the bundle was built with. */
function koffiModule(arch, scratch) {
  const version = require(path.join(ROOT, 'node_modules', 'koffi', 'package.json')).version;
  const pkg = `@koromix/koffi-linux-${arch}`;
  const local = path.join(ROOT, 'node_modules', pkg);
  let dir = local;
  if (!fs.existsSync(path.join(local, 'package.json')) || require(path.join(local, 'package.json')).version !== version) {
    // not installed for this architecture (npm skips other CPUs' optional packages): its tarball, from npm's cache or the registry
    const r = spawnSync('npm', ['pack', `${pkg}@${version}`, '--pack-destination', scratch, '--silent'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm pack ${pkg}@${version} failed: ${(r.stderr || '').trim().split('\n').pop()}`);
    run('tar', ['xzf', path.join(scratch, r.stdout.trim().split('\n').pop()), '-C', scratch]);
    dir = path.join(scratch, 'package');
  }
  return { file: path.join(dir, `linux_${arch}`, 'koffi.node'), license: path.join(ROOT, 'node_modules', 'koffi', 'LICENSE.txt'), version };
}

/** Linux's uapi headers for a musl build (musl ships none): linux/, asm-generic/ and the architecture's asm/. */
function kernelHeaders(arch, scratch) {
  const dir = path.join(scratch, 'kernel-headers');
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, target] of [['linux', '/usr/include/linux'], ['asm-generic', '/usr/include/asm-generic'], ['asm', `/usr/include/${ARCHES[arch].gnu}/asm`]]) {
    if (!fs.existsSync(target)) return null;
    fs.symlinkSync(target, path.join(dir, name));
  }
  return dir;
}

/** Builds arch's package into outDir; returns the names of the files written. withKoffi false: the C programs alone (tests). */
function buildArch(arch, outDir, { withKoffi = true } = {}) {
  const cc = compilerFor(arch);
  if (!cc) throw new Error(`no C compiler for ${arch}: install ${arch === process.arch ? 'gcc (cc) and make' : ARCHES[arch].deb}`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `sandbox-prebuilt-${arch}-`));
  try {
    const build = path.join(scratch, 'build');
    const targets = PROGRAMS.map((p) => path.join(build, p));
    // NODE= : no build machine's node in the launcher; it looks on PATH (native/launch.c)
    // STATIC_PIE= : linked as the packages always were (native/Makefile links a local build statically)
    run('make', ['-s', '-C', NATIVE, `BUILD=${build}`, `CC=${cc}`, `CFLAGS=${CFLAGS}`, 'LDFLAGS=-s', 'STATIC_PIE=', 'NODE=', ...targets]);
    fs.mkdirSync(outDir, { recursive: true });
    for (const p of PROGRAMS) install(path.join(build, p), path.join(outDir, p), 0o755);
    install(path.join(build, 'sandbox-stage'), path.join(outDir, 'sandbox-exec'), 0o755);
    const written = [...PROGRAMS, 'sandbox-exec'];
    if (arch === process.arch && have('musl-gcc')) {
      const headers = kernelHeaders(arch, scratch);
      if (headers) {
        const sbuild = path.join(scratch, 'static');
        run('make', ['-s', '-C', NATIVE, `BUILD=${sbuild}`, 'CC=musl-gcc', `CFLAGS=${CFLAGS} -include limits.h -isystem ${headers}`, 'LDFLAGS=-static -s', 'STATIC_PIE=', path.join(sbuild, 'sandbox-stage')]);
        fs.mkdirSync(path.join(outDir, 'static'), { recursive: true });
        install(path.join(sbuild, 'sandbox-stage'), path.join(outDir, 'static', 'sandbox-exec'), 0o755);
        written.push('static/sandbox-exec');
      }
    } else if (arch === process.arch) {
      process.stderr.write(`prebuilt: ${arch}: no musl-gcc (Debian: musl-tools), so no static/sandbox-exec\n`);
    }
    if (withKoffi) {
      const koffi = koffiModule(arch, scratch);
      install(koffi.file, path.join(outDir, 'koffi.node'), 0o755);
      install(koffi.license, path.join(outDir, 'koffi.LICENSE.txt'), 0o644);
      written.push('koffi.node', 'koffi.LICENSE.txt');
    }
    return written;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The package directory: package.json (committed, version kept in step with sandbox's) plus the binaries. */
function writePackage(arch, dir) {
  const file = path.join(dir, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (pkg.version !== VERSION) {
    pkg.version = VERSION;
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
  }
  return buildArch(arch, dir);
}

function digest(dir, files) {
  return Object.fromEntries(files.map((f) => [f, crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex').slice(0, 16)]));
}

function main(argv) {
  const check = argv.includes('--check');
  let arches = argv.filter((a) => !a.startsWith('--'));
  for (const a of arches) if (!ARCHES[a]) throw new Error(`${a}: unknown architecture (x64 or arm64)`);
  const explicit = arches.length > 0;
  if (!explicit) arches = Object.keys(ARCHES);
  let failed = false;
  for (const arch of arches) {
    const dir = path.join(ROOT, 'packages', `sandbox-linux-${arch}`);
    if (!compilerFor(arch)) {
      const msg = `prebuilt: ${arch}: no C compiler (install ${arch === process.arch ? 'gcc and make' : ARCHES[arch].deb}); not built`;
      process.stderr.write(msg + '\n');
      if (explicit || arch === process.arch) failed = true;
      continue;
    }
    const files = writePackage(arch, dir);
    if (check) {
      const again = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-prebuilt-again-'));
      buildArch(arch, again);
      const a = digest(dir, files);
      const b = digest(again, files);
      fs.rmSync(again, { recursive: true, force: true });
      for (const f of files) {
        if (a[f] !== b[f]) { process.stderr.write(`prebuilt: ${arch}: ${f} differs between two builds\n`); failed = true; }
      }
    }
    process.stdout.write(`prebuilt: ${arch}: ${files.join(' ')}${check ? ' (two builds, same bytes)' : ''}\n`);
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`prebuilt: ${e.message}\n`);
    process.exitCode = 1;
  }
}

module.exports = { ARCHES, compilerFor, buildArch, CFLAGS };
