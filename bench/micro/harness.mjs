// Timing harness for bench/micro: median of N timed runs after warm-up, each run long
// enough for the clock to be meaningful.
//
// Every case gets its own loop function compiled with `new Function`, so each call site
// sees exactly one callee and one argument shape. A shared `for (...) fn()` loop would go
// megamorphic after a few cases and charge every later case for it.

/**
 * @param {string} body  JS statement run once per iteration, using the names in `names`
 * @param {string[]} names  names of the values passed in `args`
 * @returns {(n: number, ...args: unknown[]) => void}
 */
export function compileLoop(body, names) {
  // eslint-disable-next-line no-new-func
  return new Function('n', ...names, `for (let i = 0; i < n; i++) { ${body} }`);
}

// The clock. "cpu" (default) is the process's CPU time (user + system): on a shared machine
// it leaves out the time this process waits while other processes run. The bench runs with
// V8's --single-threaded (run.mjs re-executes itself with it), so no background compiler or
// GC thread adds its CPU time; GC work is done, and counted, on the main thread.
// "wall" is elapsed time.
let useCpuClock = true;
export function setClock(name) {
  if (name !== 'cpu' && name !== 'wall') throw new Error(`--clock must be cpu or wall, not ${name}`);
  useCpuClock = name === 'cpu';
}

function now() {
  if (useCpuClock) {
    const u = process.cpuUsage();
    return BigInt(u.user + u.system) * 1000n;
  }
  return process.hrtime.bigint();
}

function calibrate(loop, args, { minRunMs, warmupMs }) {
  // Warm up (tiers the loop and the callee up to optimized code) and find `n` such that one
  // run lasts at least minRunMs.
  let n = 1;
  const warmEnd = Number(now()) / 1e6 + warmupMs;
  for (;;) {
    const t0 = now();
    loop(n, ...args);
    const spent = Number(now() - t0) / 1e6;
    if (spent >= minRunMs && Number(now()) / 1e6 >= warmEnd) return n;
    if (spent < minRunMs) n = Math.max(n + 1, Math.ceil(n * Math.min(8, (minRunMs * 1.2) / Math.max(spent, 0.001))));
  }
}

function summarize(perIter, bytesPerIter, runs) {
  perIter.sort((a, b) => a - b);
  const median = perIter[perIter.length >> 1];
  return {
    nsPerIter: median,
    nsMin: perIter[0],
    gbps: bytesPerIter / median,
    min: bytesPerIter / perIter[perIter.length - 1],
    max: bytesPerIter / perIter[0],
    runs,
  };
}

/**
 * Times `loop(n, ...args)` and reports throughput for `bytesPerIter` bytes per iteration.
 * @returns {{ gbps: number, min: number, max: number, nsPerIter: number, nsMin: number, runs: number }}
 */
export function measure(loop, args, bytesPerIter, { runs = 7, minRunMs = 10, warmupMs = 30 } = {}) {
  if (typeof globalThis.gc === 'function') globalThis.gc();
  const n = calibrate(loop, args, { minRunMs, warmupMs });
  const perIter = [];
  for (let r = 0; r < runs; r++) {
    const t0 = now();
    loop(n, ...args);
    perIter.push(Number(now() - t0) / n);
  }
  return summarize(perIter, bytesPerIter, runs);
}

/**
 * Like measure() for several contenders at once, interleaved: run r of every contender is
 * taken before run r + 1 of any, so a slow spell of the (shared) machine hits them all
 * alike and their ratios stay meaningful.
 * @param {Record<string, { loop: Function, args: unknown[] }>} cases
 * @returns {Record<string, ReturnType<typeof measure>>}
 */
export function measureGroup(cases, bytesPerIter, { runs = 7, minRunMs = 10, warmupMs = 30 } = {}) {
  if (typeof globalThis.gc === 'function') globalThis.gc();
  const names = Object.keys(cases);
  const counts = Object.fromEntries(names.map((k) => [k, calibrate(cases[k].loop, cases[k].args, { minRunMs, warmupMs })]));
  const perIter = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < runs; r++) {
    for (const k of names) {
      const { loop, args } = cases[k];
      const t0 = now();
      loop(counts[k], ...args);
      perIter[k].push(Number(now() - t0) / counts[k]);
    }
  }
  return Object.fromEntries(names.map((k) => [k, summarize(perIter[k], bytesPerIter, runs)]));
}

export function formatSize(bytes) {
  if (bytes >= 1 << 20) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** Prints rows as an aligned Markdown table. */
export function printTable(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  console.log(line(all[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of all.slice(1)) console.log(line(r));
  console.log('');
}
