#!/usr/bin/env bash
# npm run test:asan [-- vitest args]: the vitest suite against an AddressSanitizer +
# UndefinedBehaviorSanitizer build of the addon.
#
# - The sanitized addon is built from a copy of the native sources in build-asan/src
#   (binding.gyp's wscore_sanitize=1), so build/ -- the normal addon other work depends on --
#   is never touched and no build lock is needed. The result is build-asan/wscore.node.
# - The suite loads it through WSCORE_ADDON_PATH (src/backend/native.ts, loadNativeAddon).
# - node itself is not instrumented, so the ASan runtime is LD_PRELOADed: clang's
#   libclang_rt.asan when clang is installed (preferred; it carries the UBSan handlers too),
#   else gcc's libasan + libubsan.
# - detect_leaks=0: V8 and node keep memory alive until exit by design.
# Any sanitizer report aborts the process (halt_on_error; UBSan is built -fno-sanitize-recover),
# which fails the test file that triggered it. Tests that bound RSS growth can fail here for
# a reason of their own: ASan's redzones and freed-memory quarantine inflate RSS.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/build-asan"
src="$out/src"

if command -v clang >/dev/null && command -v clang++ >/dev/null; then
  export CC=clang CXX=clang++
  runtime="$(clang -print-file-name=libclang_rt.asan-x86_64.so)"
  compiler="clang ($(clang --version | head -n1))"
else
  export CC=gcc CXX=g++
  runtime="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
  compiler="gcc ($(gcc --version | head -n1))"
fi
for lib in ${runtime//:/ }; do
  if [ ! -f "$lib" ]; then
    echo "test-asan: sanitizer runtime not found: $lib (install libclang-rt-14-dev or libasan8)" >&2
    exit 1
  fi
done

echo "test-asan: building the sanitized addon with $compiler into $out"
rm -rf "$src"
mkdir -p "$src/scripts"
cp -R "$root/native" "$src/native"
cp "$root/binding.gyp" "$root/package.json" "$src/"
cp "$root/scripts/source-hash.js" "$src/scripts/"

nodegyp="$(node -p "require.resolve('node-gyp/bin/node-gyp.js', { paths: ['$root'] })")"
nodedir="$(node -p "require('path').resolve(process.execPath, '..', '..')")"
nodedir_arg=()
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$nodedir/include/node/node_api.h" ]; then
  nodedir_arg=("--nodedir=$nodedir") # offline: use the installed headers
fi
# build-asan/src sits inside the repository, so node-addon-api resolves from its node_modules.
(cd "$src" && node "$nodegyp" rebuild "${nodedir_arg[@]}" -- -Dwscore_sanitize=1 >"$out/build.log" 2>&1) || {
  tail -n 40 "$out/build.log" >&2
  echo "test-asan: build failed (full log: $out/build.log)" >&2
  exit 1
}
cp "$src/build/Release/wscore.node" "$out/wscore.node"
echo "test-asan: built $out/wscore.node"

export WSCORE_ADDON_PATH="$out/wscore.node"
export LD_PRELOAD="${runtime}${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0:print_summary=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# Prove the preload and the sanitized binary are what the suite will get.
node -e "
  const a = require(process.env.WSCORE_ADDON_PATH);
  const out = new Uint8Array(3);
  a.mask(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 1, 1, 1), out, 0, 0);
  if (out.join() !== '0,3,2' || !a.isUtf8(Buffer.from('\u20ac'))) throw new Error('sanitized addon misbehaves');
  console.log('test-asan: sanitized addon loads (mask kernel ' + a._maskKernel() + ', utf8 kernel ' + a._utf8Kernel() + ')');
"

cd "$root"
# Child processes inherit LD_PRELOAD. Python peers and ws run fine with the ASan runtime
# preloaded, but Chromium (test/interop/chromium.test.ts) does not start under it; the
# browser runs none of wscore's native code, so that suite is left to the normal run.
exec node "$root/node_modules/vitest/vitest.mjs" run --exclude '**/interop/chromium.test.ts' "$@"
