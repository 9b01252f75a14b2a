'use strict';
// npm run prebuild:arm64: cross-compiles the addon for linux-arm64 on an x86-64 Linux host
// with Debian's cross g++ (apt package g++-aarch64-linux-gnu, installed here if missing) into
// prebuilds/linux-arm64/wscore.node, stripped. scripts/test-arm64.sh loads it and runs the
// suite under qemu-user with an arm64 Node. Rerun both after changing native/ or binding.gyp:
// test/package/prebuild.test.ts fails while any committed prebuild is stale.
//
// Same binding.gyp, so the same defines, flags and WSCORE_SOURCE_HASH as the host prebuild.
// N-API is ABI-stable, so the host Node's headers (NAPI_VERSION=8) serve the arm64 binary.
// The SIMD kernels in native/ are x86-64 only (#if defined(__x86_64__)); on arm64 the compiler
// builds the portable ones, which -O3 vectorizes for NEON (a baseline of every arm64 CPU).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { nativeSourceFiles, sourceHash } = require('./source-hash.js');

const root = path.resolve(__dirname, '..');
const TARGETS = {
  // node arch -> GNU triplet, Debian cross compiler package, ELF e_machine
  arm64: { triplet: 'aarch64-linux-gnu', aptPackage: 'g++-aarch64-linux-gnu', elfMachine: 183 },
};

function fail(msg) {
  process.stderr.write(`prebuild-cross: ${msg}\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (result.error) fail(`${cmd}: ${result.error.message}`);
  return result.status === 0;
}

function haveCommand(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function ensureCompiler(t) {
  if (haveCommand(`${t.triplet}-g++`)) return;
  const canApt = process.getuid?.() === 0 && haveCommand('apt-get');
  if (!canApt) fail(`${t.triplet}-g++ not found: install ${t.aptPackage} (Debian/Ubuntu) and rerun`);
  process.stderr.write(`prebuild-cross: installing ${t.aptPackage}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['install', '-y', '-qq', '--no-install-recommends', t.aptPackage];
  if (!run('apt-get', install, { env }) && !(run('apt-get', ['update', '-qq'], { env }) && run('apt-get', install, { env }))) {
    fail(`could not install ${t.aptPackage}`);
  }
}

// The build happens in a copy of the native sources at a fixed path under build/ (ignored by
// git), not in the root: node-gyp always writes ./build/Release, which would overwrite the
// host build the test suite loads. A fixed path keeps the output byte-for-byte reproducible;
// node_modules (node-addon-api) is still found by walking up to the root.
function stage(arch) {
  const dir = path.join(root, 'build', `cross-linux-${arch}`);
  fs.rmSync(dir, { recursive: true, force: true });
  for (const file of [...nativeSourceFiles(), 'scripts/source-hash.js']) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(dir, file));
  }
  return dir;
}

function nodeGyp() {
  return require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
}

function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (!fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    fail(`no Node headers under ${prefix}/include/node: set npm_config_nodedir`);
  }
  return prefix;
}

function main() {
  const arch = process.argv[2] ?? 'arm64';
  const t = TARGETS[arch];
  if (!t) fail(`unsupported arch ${arch} (known: ${Object.keys(TARGETS).join(', ')})`);
  if (process.platform !== 'linux') fail('cross builds run on Linux only');
  ensureCompiler(t);

  const dir = stage(arch);
  const env = {
    ...process.env,
    CC: `${t.triplet}-gcc`,
    CXX: `${t.triplet}-g++`,
    LINK: `${t.triplet}-g++`,
    AR: `${t.triplet}-ar`,
    npm_config_arch: arch,
  };
  if (!run(process.execPath, [nodeGyp(), 'rebuild', `--arch=${arch}`, `--nodedir=${nodedir()}`], { cwd: dir, env })) {
    fail('node-gyp failed');
  }

  const built = path.join(dir, 'build', 'Release', 'wscore.node');
  const outDir = path.join(root, 'prebuilds', `linux-${arch}`);
  const out = path.join(outDir, 'wscore.node');
  fs.mkdirSync(outDir, { recursive: true });
  fs.copyFileSync(built, out);
  if (!run(`${t.triplet}-strip`, ['--strip-all', out])) fail('strip failed');

  // The addon cannot be loaded on this host, so check what can be checked from the bytes:
  // the ELF machine, and the source hash baked in by binding.gyp.
  const bytes = fs.readFileSync(out);
  if (bytes.readUInt32BE(0) !== 0x7f454c46 || bytes.readUInt16LE(18) !== t.elfMachine) {
    fail(`${out} is not an ELF for ${arch}`);
  }
  const hash = sourceHash();
  if (!bytes.includes(Buffer.from(`${hash}\0`, 'latin1'))) fail(`${out} does not carry source hash ${hash}`);
  process.stdout.write(`prebuild-cross: ${path.relative(root, out)} (${bytes.length} bytes, source hash ${hash})\n`);
}

main();
