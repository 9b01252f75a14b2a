// Medians and spreads over repeated runs. Spread is half the range relative to the median
// ("±x%"): with 3 runs it is what the eye sees, and it does not pretend to be a deviation.
export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function spread(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  const m = median(v);
  if (!v.length || !m) return null;
  return (Math.max(...v) - Math.min(...v)) / 2 / m;
}

// Medians are taken over the runs without errors only: a run whose echoes did not all come
// back intact measured something else. If every run had errors the cell is "failed".
function clean(runs) {
  const ok = runs.filter((r) => !r.failed && !r.error_total);
  const errors = runs.reduce((a, r) => a + (r.error_total || 0), 0);
  return { ok, errors, failed: ok.length === 0 };
}

export function summarizeEcho(all) {
  const { ok: runs, errors, failed } = clean(all);
  if (failed) return { failed, errors };
  const pick = (f) => runs.map(f);
  const rate = pick((r) => r.msgs_per_s);
  return {
    msgs_per_s: median(rate),
    spread: spread(rate),
    MBps: median(pick((r) => r.MBps)),
    p50_us: median(pick((r) => r.rtt_us?.p50)),
    p99_us: median(pick((r) => r.rtt_us?.p99)),
    p999_us: median(pick((r) => r.rtt_us?.p999)),
    p99_spread: spread(pick((r) => r.rtt_us?.p99)),
    errors,
    loadgen_cpu: Math.max(...pick((r) => r.loadgen_cpu || 0)),
    server_cpu: median(pick((r) => r.server_cpu)),
    // share of the window a process was runnable but another one had its core (worst run)
    contention: Math.max(0, ...pick((r) => Math.max(r.server_runq_wait ?? 0, r.loadgen_runq_wait ?? 0))),
    compressed_frac: median(pick((r) => (r.rx_msgs ? r.rx_compressed / r.rx_msgs : null))),
    wire_ratio: median(pick((r) => (r.MBps ? r.wire_rx_MBps / r.MBps : null))),
    // a CDF for the plots: the run with the median p99
    cdf: [...runs].sort((a, b) => (a.rtt_us?.p99 ?? 0) - (b.rtt_us?.p99 ?? 0))[runs.length >> 1]?.cdf ?? null,
  };
}

export function summarizeScale(all) {
  const { ok: runs, errors, failed } = clean(all);
  if (failed) return { failed, errors };
  return {
    opened: Math.min(...runs.map((r) => r.opened)),
    open_ms: median(runs.map((r) => r.open_ms)),
    rss_per_conn: median(runs.map((r) => r.rss_per_conn)),
    heap_per_conn: median(runs.map((r) => r.heap_per_conn)),
    external_per_conn: median(runs.map((r) => r.external_per_conn)),
    errors,
  };
}

export function summarizeBroadcast(every) {
  const { ok: runs, errors, failed } = clean(every);
  if (failed) return { failed, errors, method: every[0]?.method ?? null };
  const all = runs.map((r) => r.broadcast?.median_all_ms);
  return {
    all_ms: median(all),
    spread: spread(all),
    first_ms: median(runs.map((r) => r.broadcast?.median_first_ms)),
    loadgen_cpu_ms: median(runs.map((r) => r.broadcast?.median_loadgen_cpu_ms)),
    contention: Math.max(0, ...runs.map((r) => Math.max(r.server_runq_wait ?? 0, r.loadgen_runq_wait ?? 0))),
    method: runs[0]?.method ?? null,
    errors,
  };
}
