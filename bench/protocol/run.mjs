// npm run bench:protocol — the receive pipeline (bytes in -> message events out) and the
// send pipeline (messages -> frame bytes) of wscore (native and js backends) side by side
// with ws's Receiver / Sender.frame (with bufferutil + utf-8-validate, and without).
// One child process per environment (ws with bufferutil + wscore native; ws without addons
// + wscore js); inside a process the contestants' runs alternate, so load from elsewhere
// hits them alike; BENCH_ROUNDS rounds repeat that. Runs are timed in CPU time of the
// process (process.cpuUsage), so preemption on a shared machine does not count. The tables
// show the median over all runs and the interquartile range.
// Options (env): BENCH_ROUNDS (default 3), BENCH_RUNS (measured runs per round, default 5), BENCH_ONLY=recv|send,
// BENCH_JSON=path (also write raw results).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadWscore, summarize } from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
loadWscore(); // bundle once; the children reuse it

// Snapshot the addon (under the build lock other builds take) so a rebuild in build/ during
// the run cannot swap the binary under the children; they load it via WSCORE_ADDON_PATH.
if (!process.env.WSCORE_ADDON_PATH) {
  const built = path.join(here, '..', '..', 'build', 'Release', 'wscore.node');
  const snapshot = path.join(here, '..', '..', 'node_modules', '.cache', 'wscore-bench', 'wscore.node');
  const lock = fs.existsSync('/usr/bin/flock') ? ['flock', '/tmp/wscore-build.lock'] : [];
  const cp = spawnSync(lock[0] ?? 'cp', [...lock.slice(1), ...(lock.length ? ['cp'] : []), built, snapshot], { stdio: 'inherit' });
  if (cp.status === 0) process.env.WSCORE_ADDON_PATH = snapshot;
}

const NO_ADDONS = { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' };
// One process per environment; inside it the contestants' runs alternate.
// [impls, labels, env]
const groups = {
  recv: [
    // wscore-js: the reader on jsBackend.parseFrames, in the same process as native.
    [['ws', 'wscore', 'wscore-js', 'wscore-protocol'], ['ws (bufferutil)', 'wscore native', 'wscore js', 'FrameProtocol native'], { WSCORE_BACKEND: 'native' }],
    [['ws'], ['ws (no addons)'], NO_ADDONS],
  ],
  send: [
    [['ws', 'wscore'], ['ws (bufferutil)', 'wscore native'], { WSCORE_BACKEND: 'native' }],
    [['ws', 'wscore'], ['ws (no addons)', 'wscore js'], { WSCORE_BACKEND: 'js', ...NO_ADDONS }],
  ],
};

function runWorker(kind, impls, env) {
  const worker = path.join(here, `${kind}-worker.mjs`);
  const r = spawnSync(process.execPath, [worker, impls.join(',')], {
    env: { ...process.env, ...env, WSCORE_BENCH_NO_BUNDLE: '1' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${kind} ${impls} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()).results;
}

const fmtRate = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`);
const fmtMBs = (x) => `${(x / 1e6).toFixed(0)}`;
const sizeName = (s) => (s >= 1024 ? `${s / 1024} KiB` : `${s} B`);

function table(kind, all) {
  const labels = all.map(([label]) => label);
  const key = (r) => `${r.side ?? ''}|${r.size}|${r.kind}`;
  const cells = new Map();
  for (const [label, results] of all) {
    for (const r of results) {
      const { median, iqr } = summarize(r.seconds);
      const row = cells.get(key(r)) ?? { r, by: {} };
      row.by[label] = { msgs: r.msgs / median, bytes: r.bytes / median, iqr };
      cells.set(key(r), row);
    }
  }
  const lines = [];
  const head = [...(kind === 'send' ? ['side'] : []), 'size', 'kind', ...labels.map((l) => `${l} msg/s (MB/s) ±IQR`), 'native / ws', 'native / js'];
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const { r, by } of cells.values()) {
    const native = by['wscore native'];
    const ws = by['ws (bufferutil)'];
    const js = by['wscore js'];
    const row = [
      ...(kind === 'send' ? [r.side] : []),
      sizeName(r.size),
      r.kind,
      ...labels.map((l) => `${fmtRate(by[l].msgs)} (${fmtMBs(by[l].bytes)}) ±${(by[l].iqr * 100).toFixed(0)}%`),
      `${(native.msgs / ws.msgs).toFixed(2)}x`,
      `${(native.msgs / js.msgs).toFixed(2)}x`,
    ];
    lines.push(`| ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}

const only = process.env.BENCH_ONLY;
const raw = {};
console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu?'} x${os.cpus().length}, ${os.platform()}-${os.arch()}`);
for (const kind of ['recv', 'send']) {
  if (only && only !== kind) continue;
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const all = groups[kind].flatMap(([, labels]) => labels.map((label) => [label, null]));
  for (let round = 0; round < rounds; round++) {
    for (const [impls, labels, env] of groups[kind]) {
      process.stderr.write(`${kind} round ${round + 1}/${rounds}: ${labels.join(' + ')}\n`);
      const results = runWorker(kind, impls, env);
      impls.forEach((impl, k) => {
        const slot = all.find(([label]) => label === labels[k]);
        if (slot[1] === null) slot[1] = results[impl];
        else results[impl].forEach((r, j) => slot[1][j].seconds.push(...r.seconds));
      });
    }
  }
  raw[kind] = all;
  console.log(`\n### ${kind === 'recv' ? 'Receive: masked client frames in 64 KiB chunks -> message events' : 'Send: messages -> frame bytes'}\n`);
  console.log(table(kind, all));
}
if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(raw, null, 1));
