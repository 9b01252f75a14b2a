// SVG plots of the e2e results, written by hand (no plotting dependency):
//   throughput vs payload size (messages/s, log-log), one chart per compression mode and
//   connection count; latency CDF (round-trip time against percentile on a "nines" axis,
//   so the tail gets the room), one per latency cell.
// CLI: node bench/e2e/plots.mjs <results.json> <out-dir>
import fs from 'node:fs';
import path from 'node:path';

import { SERVERS, SERVER_ORDER } from './lib/servers.mjs';

const COLORS = {
  'wscore-native': '#d62728',
  'wscore-js': '#ff9896',
  ws: '#1f77b4',
  'ws-plain': '#aec7e8',
  uws: '#2ca02c',
};

const W = 640;
const H = 400;
const M = { l: 70, r: 150, t: 40, b: 50 };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (x) => Number(x.toFixed(1));

function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  return ticks;
}

const si = (v) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : `${v}`);
const us = (v) => (v >= 1e6 ? `${v / 1e6} s` : v >= 1e3 ? `${v / 1e3} ms` : `${v} µs`);
const plural = (n, w) => `${n} ${w}${Number(n) === 1 ? '' : 's'}`;

// Generic chart: x and y mapped by the given scales to [0,1]; series of [x, y] points.
function chart({ title, xLabel, yLabel, series, x, y }) {
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const px = (v) => M.l + x.map(v) * pw;
  const py = (v) => M.t + (1 - y.map(v)) * ph;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const t of x.ticks) {
    const X = num(px(t.v));
    parts.push(`<line x1="${X}" y1="${M.t}" x2="${X}" y2="${M.t + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${X}" y="${M.t + ph + 15}" text-anchor="middle">${esc(t.label)}</text>`);
  }
  for (const t of y.ticks) {
    const Y = num(py(t.v));
    parts.push(`<line x1="${M.l}" y1="${Y}" x2="${M.l + pw}" y2="${Y}" stroke="#eee"/>`);
    parts.push(`<text x="${M.l - 5}" y="${Y + 4}" text-anchor="end">${esc(t.label)}</text>`);
  }
  parts.push(`<rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${M.l + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${M.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && b > 0);
    if (!pts.length) return;
    const d = pts.map(([a, b]) => `${num(px(a))},${num(py(b))}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${d}"/>`);
    if (s.markers) for (const [a, b] of pts) parts.push(`<circle cx="${num(px(a))}" cy="${num(py(b))}" r="3" fill="${s.color}"/>`);
    const ly = M.t + 10 + i * 18;
    parts.push(`<line x1="${M.l + pw + 10}" y1="${ly}" x2="${M.l + pw + 30}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${M.l + pw + 35}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function logScale(lo, hi, fmt) {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return {
    map: (v) => (Math.log10(v) - a) / (b - a || 1),
    ticks: logTicks(lo, hi).map((v) => ({ v, label: fmt(v) })),
  };
}

function paddedRange(values) {
  const v = values.filter((x) => Number.isFinite(x) && x > 0);
  if (!v.length) return [1, 10];
  return [Math.min(...v) / 1.5, Math.max(...v) * 1.5];
}

export function throughputSvg(results, deflate, conns) {
  const cells = results.echo.filter((c) => c.suite === 'throughput' && c.deflate === deflate && c.conns === conns).sort((a, b) => a.size - b.size);
  if (cells.length < 2) return null;
  const series = SERVER_ORDER.filter((s) => cells.some((c) => c.servers[s])).map((s) => ({
    name: SERVERS[s].label,
    color: COLORS[s],
    markers: true,
    points: cells.filter((c) => c.servers[s]).map((c) => [c.size, c.servers[s].summary.msgs_per_s]),
  }));
  const sizes = cells.map((c) => c.size);
  const x = logScale(Math.min(...sizes) / 1.3, Math.max(...sizes) * 1.3, (v) => (v >= 1024 ? `${v / 1024} KiB` : `${v} B`));
  x.ticks = sizes.map((v) => ({ v, label: v >= 1024 ? `${v / 1024} KiB` : `${v} B` }));
  const [lo, hi] = paddedRange(series.flatMap((s) => s.points.map((p) => p[1])));
  return chart({
    title: `Echo throughput, ${plural(conns, 'connection')}, compression ${deflate}`,
    xLabel: 'payload size',
    yLabel: 'messages / s (log)',
    series,
    x,
    y: logScale(lo, hi, si),
  });
}

const NINES_MAX = 4; // 99.99th percentile
const nines = (p) => Math.min(NINES_MAX, -Math.log10(Math.max(1e-9, 1 - p / 100)));

export function latencySvg(results, cell) {
  const series = SERVER_ORDER.filter((s) => cell.servers[s]?.summary?.cdf).map((s) => ({
    name: SERVERS[s].label,
    color: COLORS[s],
    points: cell.servers[s].summary.cdf.filter(([p]) => p < 100).map(([p, us]) => [nines(p), us]),
  }));
  if (!series.length) return null;
  const x = {
    map: (v) => v / NINES_MAX,
    ticks: [0, 50, 90, 99, 99.9, 99.99].map((p) => ({ v: nines(p), label: `${p}%` })),
  };
  const [lo, hi] = paddedRange(series.flatMap((s) => s.points.map((p) => p[1])));
  const size = cell.size >= 1024 ? `${cell.size / 1024} KiB` : `${cell.size} B`;
  return chart({
    title: `Round-trip time CDF, ${size}, ${plural(cell.conns, 'connection')}, compression ${cell.deflate}`,
    xLabel: 'percentile',
    yLabel: 'round-trip time (log)',
    series,
    x,
    y: logScale(lo, hi, us),
  });
}

// Write every plot the results allow; returns [{ file, title, kind }].
export function writePlots(results, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const written = [];
  const echo = results.echo ?? [];
  const combos = new Set(echo.filter((c) => c.suite === 'throughput').map((c) => `${c.deflate}|${c.conns}`));
  for (const k of combos) {
    const [deflate, conns] = k.split('|');
    const svg = throughputSvg(results, deflate, Number(conns));
    if (!svg) continue;
    const file = path.join(dir, `e2e-throughput-${deflate}-${conns}c.svg`);
    fs.writeFileSync(file, svg);
    written.push({ file, kind: 'throughput', title: `throughput vs payload, ${plural(conns, 'connection')}, compression ${deflate}` });
  }
  for (const cell of echo.filter((c) => c.suite === 'latency')) {
    const svg = latencySvg(results, cell);
    if (!svg) continue;
    const file = path.join(dir, `e2e-latency-${cell.deflate}-${cell.conns}c-${cell.size}b.svg`);
    fs.writeFileSync(file, svg);
    written.push({ file, kind: 'latency', title: `latency CDF, ${cell.size} B, ${plural(cell.conns, 'connection')}, compression ${cell.deflate}` });
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, dir] = process.argv.slice(2);
  if (!file || !dir) {
    console.error('usage: node bench/e2e/plots.mjs <results.json> <out-dir>');
    process.exit(2);
  }
  for (const w of writePlots(JSON.parse(fs.readFileSync(file, 'utf8')), dir)) console.log(w.file);
}
