// Markdown tables (printed by run.mjs and written to docs/benchmarks.md) and the list of
// target ratios from the issue. Ratios are reported, never asserted: the machine is shared
// and noisy, and a benchmark that fails a build on a noisy neighbour helps nobody.
import { SERVERS, SERVER_ORDER, SUBJECT } from './servers.mjs';

export const fmtSize = (n) => (n >= 1048576 ? `${n / 1048576} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`);

export function fmtRate(x) {
  if (x == null) return '—';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(x >= 1e5 ? 0 : 1)}k`;
  return x.toFixed(0);
}

export function fmtUs(us) {
  if (us == null) return '—';
  if (us >= 1e4) return `${(us / 1e3).toFixed(0)} ms`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(2)} ms`;
  return `${us.toFixed(us >= 100 ? 0 : 1)} µs`;
}

const fmtPct = (s) => (s == null ? '' : ` ±${(s * 100).toFixed(0)}%`);
const fmtRatio = (r) => (r == null || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}x`);
const fmtBytes = (b) => (b == null ? '—' : b >= 1048576 ? `${(b / 1048576).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const label = (s) => SERVERS[s]?.label ?? s;
const deflateName = { off: 'compression off', nctx: 'permessage-deflate, no context takeover', ctx: 'permessage-deflate, context takeover' };

function table(head, rows) {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? ' ---: ' : ' --- ')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

function present(results, section) {
  const seen = new Set();
  for (const c of results[section] ?? []) for (const s of Object.keys(c.servers)) seen.add(s);
  return SERVER_ORDER.filter((s) => seen.has(s));
}

// Flags that make a number suspect: errors, the load generator near a full core, or a
// process that spent over 10% of the window waiting for its core (a neighbour had it).
function flags(sum) {
  let f = '';
  if (sum.errors > 0) f += ' ‼';
  if (sum.loadgen_cpu > 0.9) f += ' †';
  if (sum.contention > 0.1) f += ' ≈';
  return f;
}

// One line under a table: how busy the two sides were.
function cpuLine(cells) {
  const sums = cells.flatMap((c) => Object.values(c.servers).map((s) => s.summary)).filter(Boolean);
  if (!sums.length) return '';
  const gen = Math.max(...sums.map((m) => m.loadgen_cpu ?? 0));
  const srv = sums.map((m) => m.server_cpu).filter(Number.isFinite);
  const wait = Math.max(...sums.map((m) => m.contention ?? 0));
  return (
    `Load generator: at most ${gen.toFixed(2)} of its core. Server: ${srv.length ? `${Math.min(...srv).toFixed(2)}–${Math.max(...srv).toFixed(2)}` : '?'} of its core. ` +
    `Worst wait for a core (either side): ${(wait * 100).toFixed(0)}% of the window.`
  );
}

const ratio = (a, b) => (a != null && b ? a / b : null);

// A table cell for one server: its text, or "failed" when no run of it was clean.
const cell = (m, text) => (!m ? '—' : m.failed ? `failed${flags(m)}` : `${text(m)}${flags(m)}`);
const fixed = (x, d) => (Number.isFinite(x) ? x.toFixed(d) : '—');

export function throughputTables(results) {
  const servers = present(results, 'echo');
  const out = [];
  const cells = (results.echo ?? []).filter((c) => c.suite === 'throughput');
  const groups = new Map();
  for (const c of cells) {
    const k = `${c.deflate}|${c.conns}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(c);
  }
  for (const [k, group] of groups) {
    const [deflate, conns] = k.split('|');
    const head = ['payload', 'K', ...servers.map(label), `${label(SUBJECT)} / ws`, `${label(SUBJECT)} / uWS`];
    const rows = group
      .sort((a, b) => a.size - b.size)
      .map((c) => {
        const s = c.servers;
        const cols = servers.map((n) => cell(s[n]?.summary, (m) => `${fmtRate(m.msgs_per_s)}${fmtPct(m.spread)}`));
        const subj = s[SUBJECT]?.summary.msgs_per_s;
        return [fmtSize(c.size), String(c.inflight), ...cols, fmtRatio(ratio(subj, s.ws?.summary.msgs_per_s)), fmtRatio(ratio(subj, s.uws?.summary.msgs_per_s))];
      });
    out.push(`#### Throughput, ${deflateName[deflate]}, ${conns} connection${conns === '1' ? '' : 's'} (messages/s)\n\n${table(head, rows)}`);
    // MB/s is msgs/s x payload: shown once, for the largest payload, where it matters
    const big = group.reduce((a, b) => (b.size > a.size ? b : a));
    const mb = servers.map((n) => (big.servers[n] ? `${label(n)} ${fixed(big.servers[n].summary.MBps, 0)}` : null)).filter(Boolean);
    out.push(`MB/s at ${fmtSize(big.size)}: ${mb.join(', ')}. ${cpuLine(group)}`);
  }
  return out;
}

export function latencyTables(results) {
  const servers = present(results, 'echo');
  const out = [];
  const cells = (results.echo ?? []).filter((c) => c.suite === 'latency');
  const groups = new Map();
  for (const c of cells) {
    const k = `${c.deflate}|${c.conns}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(c);
  }
  for (const [k, group] of groups) {
    const [deflate, conns] = k.split('|');
    const head = ['payload', ...servers.map(label), `p99 ${label(SUBJECT)} / ws`, `p99 ${label(SUBJECT)} / uWS`];
    const rows = group
      .sort((a, b) => a.size - b.size)
      .map((c) => {
        const s = c.servers;
        const cols = servers.map((n) => cell(s[n]?.summary, (m) => `${fmtUs(m.p50_us)} / ${fmtUs(m.p99_us)} / ${fmtUs(m.p999_us)}`));
        const subj = s[SUBJECT]?.summary.p99_us;
        return [fmtSize(c.size), ...cols, fmtRatio(ratio(subj, s.ws?.summary.p99_us)), fmtRatio(ratio(subj, s.uws?.summary.p99_us))];
      });
    out.push(`#### Round-trip latency, one message in flight per connection, ${deflateName[deflate]}, ${conns} connection${conns === '1' ? '' : 's'} (p50 / p99 / p99.9)\n\n${table(head, rows)}`);
    out.push(cpuLine(group));
  }
  return out;
}

export function scaleTable(results) {
  const out = [];
  for (const sc of results.scale ?? []) {
    const servers = SERVER_ORDER.filter((s) => sc.servers[s]);
    const ws = sc.servers.ws?.summary;
    const uws = sc.servers.uws?.summary;
    const rows = servers.map((n) => {
      const m = sc.servers[n].summary;
      if (m.failed) return [label(n), cell(m), '—', '—', '—', '—', '—', '—'];
      return [
        label(n),
        `${m.opened}${flags(m)}`,
        `${fixed(m.open_ms, 0)} ms`,
        fmtBytes(m.rss_per_conn),
        fmtBytes(m.heap_per_conn),
        fmtBytes(m.external_per_conn),
        fmtRatio(ratio(m.rss_per_conn, ws?.rss_per_conn)),
        fmtRatio(ratio(m.rss_per_conn, uws?.rss_per_conn)),
      ];
    });
    out.push(
      `#### ${sc.conns.toLocaleString('en-US')} idle connections\n\n` +
        table(['server', 'opened', 'time to open', 'RSS / conn', 'JS heap / conn', 'external / conn', 'RSS vs ws', 'RSS vs uWS'], rows),
    );
  }
  return out;
}

export function broadcastTable(results) {
  const out = [];
  for (const bc of results.broadcast ?? []) {
    const servers = SERVER_ORDER.filter((s) => bc.servers[s]);
    const ws = bc.servers.ws?.summary.all_ms;
    const uws = bc.servers.uws?.summary.all_ms;
    const rows = servers.map((n) => {
      const m = bc.servers[n].summary;
      if (m.failed) return [label(n), m.method ?? '—', cell(m), '—', '—', '—', '—', '—'];
      return [
        label(n),
        m.method ?? '—',
        `${fixed(m.all_ms, 2)} ms${fmtPct(m.spread)}${flags(m)}`,
        `${fixed(m.first_ms, 2)} ms`,
        fmtRate(m.all_ms ? (bc.conns / m.all_ms) * 1000 : null),
        `${fixed(m.loadgen_cpu_ms, 2)} ms`,
        fmtRatio(ratio(ws, m.all_ms)),
        fmtRatio(ratio(uws, m.all_ms)),
      ];
    });
    out.push(
      `#### Broadcast of one ${fmtSize(bc.size)} message to ${bc.conns.toLocaleString('en-US')} clients (median over rounds)\n\n` +
        table(['server', 'how', 'until all have it', 'first has it', 'deliveries/s', 'load generator CPU', 'speed vs ws', 'speed vs uWS'], rows),
    );
  }
  return out;
}

// The issue's targets. `need` is the required ratio of wscore native to ws (speed-up, or for
// latency and memory the fraction); every row also shows the same ratio against uWS.
export function targets(results) {
  const rows = [];
  const echo = results.echo ?? [];
  const find = (suite, deflate, conns, size) => echo.find((c) => c.suite === suite && c.deflate === deflate && c.conns === conns && c.size === size);
  const add = (what, need, higherBetter, subj, ws, uws) => {
    const r = ratio(subj, ws);
    const met = r == null ? '—' : (higherBetter ? r >= need : r <= need) ? 'yes' : 'no';
    rows.push([what, `${higherBetter ? '≥' : '≤'} ${need}x`, fmtRatio(r), met, fmtRatio(ratio(subj, uws))]);
  };
  const get = (c, n, k) => c?.servers[n]?.summary[k] ?? null;
  for (const [size, need] of [[16, 4], [1024, 2.5], [65536, 1.3]])
    for (const conns of [100, 1000]) {
      const c = find('throughput', 'off', conns, size);
      if (c) add(`msgs/s, ${fmtSize(size)}, ${conns} conns`, need, true, get(c, SUBJECT, 'msgs_per_s'), get(c, 'ws', 'msgs_per_s'), get(c, 'uws', 'msgs_per_s'));
    }
  for (const conns of [1, 100])
    for (const c of echo.filter((x) => x.suite === 'latency' && x.deflate === 'off' && x.conns === conns).sort((a, b) => a.size - b.size))
      add(`p99 RTT, ${fmtSize(c.size)}, ${conns} conn${conns > 1 ? 's' : ''}`, 0.5, false, get(c, SUBJECT, 'p99_us'), get(c, 'ws', 'p99_us'), get(c, 'uws', 'p99_us'));
  for (const c of echo.filter((x) => x.suite === 'throughput' && x.deflate !== 'off' && x.size === 1024).sort((a, b) => a.conns - b.conns))
    add(`msgs/s with deflate (${c.deflate}), 1 KiB, ${c.conns} conns`, 5, true, get(c, SUBJECT, 'msgs_per_s'), get(c, 'ws', 'msgs_per_s'), get(c, 'uws', 'msgs_per_s'));
  for (const c of results.scale ?? [])
    add(`RSS per idle conn, ${c.conns} conns`, 0.5, false, c.servers[SUBJECT]?.summary.rss_per_conn, c.servers.ws?.summary.rss_per_conn, c.servers.uws?.summary.rss_per_conn);
  for (const c of results.broadcast ?? []) {
    // speed = 1 / time: ratio of ws's time to ours
    const t = (n) => c.servers[n]?.summary.all_ms;
    const subj = t(SUBJECT) ? 1 / t(SUBJECT) : null;
    if (c.conns >= 10000 || (results.broadcast ?? []).every((x) => x.conns < 10000))
      add(`broadcast speed, ${c.conns} clients`, 3, true, subj, t('ws') ? 1 / t('ws') : null, t('uws') ? 1 / t('uws') : null);
  }
  return table(['target', 'needed (vs ws)', `${label(SUBJECT)} / ws`, 'met', `${label(SUBJECT)} / uWS`], rows);
}

export const LEGEND =
  '± is half the range over the repeated runs, relative to the median. ‼ marks a cell with errors ' +
  '(see the results file), † one where the load generator used more than 0.9 of its core (it may have been the limit), ' +
  '≈ one where the server or the load generator spent more than 10% of the measured time waiting for its core ' +
  '(another process was running there: the number says more about the machine than the implementation). ' +
  'K is the number of messages kept in flight per connection.';

export function allTables(results) {
  return [
    '### Targets\n\n' + targets(results),
    ...throughputTables(results),
    ...latencyTables(results),
    ...scaleTable(results),
    ...broadcastTable(results),
    LEGEND,
  ].join('\n\n');
}
