#!/bin/bash
# Profiles one e2e server under the load generator, pinned like the benchmark (server on
# core 0, generator on core 1). Used for the profiles in docs/benchmarks.md
# ("End-to-end: the gaps, profiled").
#
#   bench/e2e/profile.sh TOOL IMPL "SERVER ARGS" "LOADGEN ARGS"
#     TOOL     perf       perf record -e cpu-clock -g on the server for 3 s (after 2 s of load),
#                         node --perf-basic-prof so JIT frames have names; prints the top symbols
#              cpu-prof   node --cpu-prof (written when the server exits)
#              trace-gc   node --trace-gc-nvp (one line per GC; counts printed at the end)
#     IMPL     wscore | ws | uws   (bench/e2e/servers/IMPL.mjs; wscore uses WSCORE_BACKEND, default native)
#   e.g. bench/e2e/profile.sh perf wscore "--mode echo --deflate off" \
#          "--mode throughput --conns 100 --size 1024 --inflight 32 --duration 5 --warmup 1 --deflate off"
#
# Needs bench/e2e/build/loadgen (any `npm run bench:e2e` run builds it) and, for uws, the shim
# that run.mjs prepares (LD_PRELOAD and WSCORE_UWS_ADDON as in lib/servers.mjs). Output goes
# to bench/results/profile-<time>/ (gitignored).
set -euo pipefail
TOOL=$1 IMPL=$2 SARGS=$3 LARGS=$4
E2E=$(cd "$(dirname "$0")" && pwd)
OUT="$E2E/../results/profile-$(date +%Y%m%dT%H%M%S)"
mkdir -p "$OUT"
PORT=$((20000 + RANDOM % 5000))
case "$TOOL" in
  perf) NFLAGS=--perf-basic-prof ;;
  cpu-prof) NFLAGS="--cpu-prof --cpu-prof-dir=$OUT" ;;
  trace-gc) NFLAGS=--trace-gc-nvp ;;
  *) echo "unknown tool $TOOL" >&2; exit 2 ;;
esac
mkfifo "$OUT/stdin"
# shellcheck disable=SC2086
WSCORE_BACKEND=${WSCORE_BACKEND:-native} taskset -c 0 node --expose-gc $NFLAGS "$E2E/servers/$IMPL.mjs" --port "$PORT" $SARGS \
  < "$OUT/stdin" > "$OUT/server.out" 2>&1 &
SERVER=$!
exec 3> "$OUT/stdin"
for _ in $(seq 50); do grep -q '^ready' "$OUT/server.out" 2>/dev/null && break; sleep 0.1; done
if [ "$TOOL" = perf ]; then
  (sleep 2; perf record -e cpu-clock -F 2000 -g -p "$SERVER" -o "$OUT/perf.data" -- sleep 3 > /dev/null 2>&1) &
fi
# shellcheck disable=SC2086
taskset -c 1 "$E2E/build/loadgen" --port "$PORT" --server-pid "$SERVER" $LARGS > "$OUT/loadgen.out" 2>&1 || true
wait %2 2> /dev/null || true
echo exit >&3
exec 3>&-
wait "$SERVER" || true
grep -o '"msgs_per_s":[0-9.]*\|"server_cpu":[0-9.]*\|"loadgen_cpu":[0-9.]*' "$OUT/loadgen.out" | tr '\n' ' '
echo
case "$TOOL" in
  perf)
    perf report -i "$OUT/perf.data" --no-children --sort dso -g none 2> /dev/null | grep -v '^#' | grep -v '^$' | head -8
    perf report -i "$OUT/perf.data" --no-children --sort sym -g none 2> /dev/null | grep -v '^#' | grep -v '^$' | head -30 ;;
  cpu-prof) ls "$OUT"/*.cpuprofile ;;
  trace-gc) echo "scavenges: $(grep -c 'gc=s ' "$OUT/server.out" || true), mark-compacts: $(grep -c 'gc=mc\|gc=mmc' "$OUT/server.out" || true)" ;;
esac
echo "files: $OUT"
