// Topics across 2 server processes through one Redis (issue 15's second target): wscore with
// redisPubSub({ url }) against socket.io 4 with @socket.io/redis-adapter, on the same
// redis-server in the same run, interleaved.
//
//   npm run build:ts && node bench/topics/redis.mjs [--subscribers 200] [--messages 5000]
//        [--size 256] [--window 64] [--paced 300] [--repeat 3] [--cpus 0,1] [--out FILE]
//
// Per run and implementation: a fresh redis-server was started by this script on a free port
// (once, no persistence); two fresh server processes A and B (bench/topics/servers/redis-*.mjs)
// pinned with taskset to the first cpu; this process (the clients) and redis-server pinned to
// the second. K subscribers are spread evenly over A and B; one publisher is connected to A.
// Each message carries its sequence number and its send time (performance.now() of this
// process, so one clock), padded to --size bytes of text.
//   loaded: --messages messages, at most --window of them not yet delivered to every
//           subscriber at any time; deliveries/s = deliveries / (last delivery - first send),
//           and publish->deliver latency p50/p99 over every delivery;
//   paced:  --paced messages one at a time (the next once every subscriber has the last):
//           latency without queueing, p50/p99.
// Every delivery is counted per subscriber: missing, duplicated or out-of-order messages are
// reported (and make the run count as failed). Medians over --repeat runs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, start, stop } from './procs.mjs';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const { WebSocket } = require(path.join(ROOT, 'dist/cjs/index.js'));
const { io: ioClient } = require('socket.io-client');

const { values: o } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '200' },
    messages: { type: 'string', default: '5000' },
    size: { type: 'string', default: '256' },
    window: { type: 'string', default: '64' },
    paced: { type: 'string', default: '300' },
    repeat: { type: 'string', default: '3' },
    cpus: { type: 'string', default: '0,1' },
    out: { type: 'string' },
  },
});
const K = Number(o.subscribers);
const M = Number(o.messages);
const SIZE = Number(o.size);
const WINDOW = Number(o.window);
const PACED = Number(o.paced);
const REPEAT = Number(o.repeat);
const [serverCpu, clientCpu] = o.cpus.split(',').map(Number);
const STALL_MS = 10_000; // a phase with no delivery for this long ends; what is missing is counted
const log = (...a) => console.error(...a);

// --- the two implementations' clients: subscriber(url, onText) and publisher(url) ---
const IMPLS = {
  wscore: {
    label: 'wscore + redisPubSub',
    script: 'redis-wscore.mjs',
    async subscriber(url, onText) {
      const ws = new WebSocket(url);
      ws.on('message', (data) => onText(data.toString('latin1', 0, 32)));
      await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
      return { close: () => ws.terminate() };
    },
    async publisher(url) {
      const ws = new WebSocket(`${url}/?pub=1`);
      await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
      return { send: (text) => ws.send(text), close: () => ws.terminate() };
    },
  },
  socketio: {
    label: 'socket.io + redis-adapter',
    script: 'redis-socketio.mjs',
    async subscriber(url, onText) {
      const s = ioClient(url, { transports: ['websocket'], forceNew: true, reconnection: false });
      s.on('m', (text) => onText(text));
      await new Promise((resolve, reject) => (s.once('connect', resolve), s.once('connect_error', reject)));
      return { close: () => s.close() };
    },
    async publisher(url) {
      const s = ioClient(url, { transports: ['websocket'], forceNew: true, reconnection: false, query: { pub: '1' } });
      await new Promise((resolve, reject) => (s.once('connect', resolve), s.once('connect_error', reject)));
      return { send: (text) => s.emit('m', text), close: () => s.close() };
    },
  },
};

const PAD = 'x'.repeat(SIZE);
const message = (seq, t) => {
  const head = `${seq} ${t.toFixed(3)} `;
  return head + PAD.slice(0, Math.max(0, SIZE - head.length));
};

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null;
}

async function runOne(name, redisUrl) {
  const impl = IMPLS[name];
  const servers = [];
  const subs = [];
  let pub;
  try {
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      servers.push(await start(process.execPath, [path.join(HERE, 'servers', impl.script), String(port), redisUrl], serverCpu, /^ready (\d+)/));
    }
    const urls = servers.map((s) => `ws://127.0.0.1:${s.match[1]}`);
    // state per phase; onText routes every delivery to it
    let phase = null;
    const subState = Array.from({ length: K }, () => ({ last: -1, got: 0, dup: 0, gap: 0, warm: false }));
    for (let i = 0; i < K; i++) {
      const st = subState[i];
      subs.push(
        await impl.subscriber(urls[i % 2], (text) => {
          const now = performance.now();
          const sp = text.indexOf(' ');
          const seqText = text.slice(0, sp);
          if (seqText === 'w') return void (st.warm = true);
          phase?.deliver(st, Number(seqText), now - Number(text.slice(sp + 1, text.indexOf(' ', sp + 1))), now);
        }),
      );
    }
    pub = await impl.publisher(urls[0]);

    // warm-up: until every subscriber (on both processes) has seen a message
    const warmStart = performance.now();
    while (!subState.every((s) => s.warm)) {
      if (performance.now() - warmStart > 15_000) throw new Error(`warm-up: ${subState.filter((s) => !s.warm).length} subscribers never got a message`);
      pub.send(message('w', performance.now()));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // let stragglers of the warm-up drain

    const runPhase = (count, window, offset) =>
      new Promise((resolve) => {
        const lat = new Float64Array(count * K);
        let n = 0;
        const perSeq = new Uint32Array(count);
        let sent = 0;
        let completed = 0;
        let firstSend = 0;
        let lastDelivery = 0;
        let lastProgress = performance.now();
        const pump = () => {
          while (sent < count && sent - completed < window) {
            const t = performance.now();
            if (sent === 0) firstSend = t;
            pub.send(message(offset + sent, t));
            sent++;
          }
        };
        const finish = () => {
          clearInterval(watchdog);
          phase = null;
          const sorted = lat.subarray(0, n).sort();
          resolve({ deliveries: n, expected: count * K, seconds: (lastDelivery - firstSend) / 1000, p50: pct(sorted, 50), p99: pct(sorted, 99) });
        };
        phase = {
          deliver(st, seq, latency, now) {
            const i = seq - offset;
            if (i < 0 || i >= count) return; // a late message of the previous phase
            if (seq <= st.last) st.dup++;
            else if (seq > st.last + 1 && st.last >= offset) st.gap += seq - st.last - 1;
            st.last = Math.max(st.last, seq);
            st.got++;
            lat[n++] = latency;
            lastDelivery = lastProgress = now;
            if (++perSeq[i] === K) {
              completed++;
              if (completed === count) return finish();
              pump();
            }
          },
        };
        const watchdog = setInterval(() => performance.now() - lastProgress > STALL_MS && finish(), 500);
        pump();
      });

    for (const st of subState) st.last = -1;
    const loaded = await runPhase(M, WINDOW, 0);
    for (const st of subState) st.last = M - 1;
    const paced = await runPhase(PACED, 1, M);
    const dup = subState.reduce((a, s) => a + s.dup, 0);
    const gap = subState.reduce((a, s) => a + s.gap, 0);
    const missing = loaded.expected - loaded.deliveries + (paced.expected - paced.deliveries);
    return {
      impl: name,
      deliveriesPerSec: loaded.deliveries / loaded.seconds,
      loaded,
      paced,
      missing,
      duplicates: dup,
      outOfOrder: gap,
      ok: missing === 0 && dup === 0 && gap === 0,
      serverStderr: servers.map((s) => s.stderr().trim()).filter(Boolean),
    };
  } finally {
    pub?.close();
    for (const s of subs) s.close();
    for (const s of servers) await stop(s.child);
  }
}

// --- main ---
if (spawnSync('redis-server', ['--version']).status !== 0) {
  log('redis-server is not installed (Debian: apt-get install redis-server)');
  process.exit(2);
}
const redisPort = await freePort();
const redis = await start('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], clientCpu, /Ready to accept connections/);
redis.child.stdout.resume();
const redisUrl = `redis://127.0.0.1:${redisPort}`;
spawnSync('taskset', ['-pc', String(clientCpu), String(process.pid)]); // the clients: this process
log(`redis-server on ${redisPort}; servers on cpu ${serverCpu}, clients and redis-server on cpu ${clientCpu}; ${K} subscribers (half per process), ${M} + ${PACED} messages of ${SIZE} B`);

const runs = [];
try {
  for (let r = 0; r < REPEAT; r++) {
    for (const name of Object.keys(IMPLS)) {
      const res = await runOne(name, redisUrl);
      runs.push(res);
      log(
        `run ${r + 1}/${REPEAT} ${name}: ${Math.round(res.deliveriesPerSec).toLocaleString('en-US')} deliveries/s, loaded p50 ${res.loaded.p50?.toFixed(2)} ms p99 ${res.loaded.p99?.toFixed(2)} ms, paced p50 ${res.paced.p50?.toFixed(2)} ms p99 ${res.paced.p99?.toFixed(2)} ms; missing ${res.missing}, duplicates ${res.duplicates}, out of order ${res.outOfOrder}`,
      );
    }
  }
} finally {
  await stop(redis.child);
}

const median = (xs) => pct([...xs].sort((a, b) => a - b), 50);
const rows = Object.keys(IMPLS).map((name) => {
  const mine = runs.filter((r) => r.impl === name && r.ok);
  const m = (f) => (mine.length ? median(mine.map(f)) : null);
  return { name, label: IMPLS[name].label, ok: mine.length, dps: m((r) => r.deliveriesPerSec), lp50: m((r) => r.loaded.p50), lp99: m((r) => r.loaded.p99), pp50: m((r) => r.paced.p50), pp99: m((r) => r.paced.p99) };
});
const f2 = (x) => (x === null ? '-' : x.toFixed(2));
console.log(`\n${K} subscribers over 2 processes, publisher on one, ${SIZE} B text; loaded: ${M} messages, window ${WINDOW}; paced: ${PACED} one at a time; medians of ${REPEAT} runs\n`);
console.log('| | deliveries/s | loaded p50 | loaded p99 | paced p50 | paced p99 | clean runs |');
console.log('|-|-|-|-|-|-|-|');
for (const r of rows) console.log(`| ${r.label} | ${r.dps === null ? 'failed' : Math.round(r.dps).toLocaleString('en-US')} | ${f2(r.lp50)} ms | ${f2(r.lp99)} ms | ${f2(r.pp50)} ms | ${f2(r.pp99)} ms | ${r.ok}/${REPEAT} |`);
const [w, s] = rows;
if (w.dps && s.dps) {
  console.log(`\nwscore / socket.io: deliveries/s ${(w.dps / s.dps).toFixed(2)}x (target >= 3), loaded p99 ${(w.lp99 / s.lp99).toFixed(2)}x, paced p99 ${(w.pp99 / s.pp99).toFixed(2)}x (target <= 0.5)`);
}
const out = o.out ?? path.join(ROOT, 'bench/results', `topics-redis-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ K, M, SIZE, WINDOW, PACED, REPEAT, cpus: [serverCpu, clientCpu], rows, runs }, null, 1));
log(`results: ${path.relative(ROOT, out)}`);
process.exit(0);
