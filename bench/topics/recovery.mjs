// Recovery from Redis Streams history (issue 15's third target): how long a reconnecting
// TopicClient takes to catch up on messages it missed.
//
//   npm run build:ts && node bench/topics/recovery.mjs [--missed 10000] [--size 256] [--repeat 5] [--cpus 0,1] [--out FILE]
//
// A redis-server started by this script on a free port (no persistence); one wscore server
// process (bench/topics/servers/redis-wscore.mjs with history of about missed + 1,000 messages
// and topic requests on) pinned with taskset to the first cpu; the clients in this process,
// pinned with redis-server to the second. Per run:
//   1. a TopicClient subscribes to a fresh topic and keeps its position; its socket is cut;
//   2. a publisher connection publishes --missed messages (each goes through the history
//      script: XADD + SPUBLISH); a live witness subscriber tells when all are in history;
//   3. timed: a new WebSocket connects and its TopicClient subscribes `since` the kept
//      position; measured until the last missed message arrived (connect + catch-up), and
//      from the subscribe request on (catch-up). Every message is checked: all of them, in
//      order, none twice, and the answer says recovered: true.
// Reported: medians over --repeat runs, and messages/s of the catch-up.
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
const { WebSocket, TopicClient } = require(path.join(ROOT, 'dist/cjs/index.js'));

const { values: o } = parseArgs({
  options: {
    missed: { type: 'string', default: '10000' },
    size: { type: 'string', default: '256' },
    repeat: { type: 'string', default: '5' },
    cpus: { type: 'string', default: '0,1' },
    out: { type: 'string' },
  },
});
const N = Number(o.missed);
const SIZE = Number(o.size);
const REPEAT = Number(o.repeat);
const [serverCpu, clientCpu] = o.cpus.split(',').map(Number);
const log = (...a) => console.error(...a);

async function open(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  return ws;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no end within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

const PAD = 'x'.repeat(SIZE);
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null);
const median = (xs) => pct([...xs].sort((a, b) => a - b), 50);

async function runOne(url, topic) {
  const sockets = [];
  try {
    // 1. a subscriber that will miss everything, and a live witness
    const first = await open(url);
    sockets.push(first);
    const kept = await new TopicClient(first).subscribe(topic, { onMessage: () => {} });
    const since = kept.position;
    if (since === undefined) throw new Error('the server answered without a position: is history on?');
    first.terminate();
    const witnessWs = await open(url);
    sockets.push(witnessWs);
    let witnessed = 0;
    let allIn;
    const allInHistory = new Promise((resolve) => (allIn = resolve));
    await new TopicClient(witnessWs).subscribe(topic, { onMessage: () => ++witnessed === N && allIn() });

    // 2. what it misses
    const pub = await open(`${url}/?pub=1&topic=${encodeURIComponent(topic)}`);
    sockets.push(pub);
    for (let i = 0; i < N; i++) pub.send(`${i} ${PAD}`.slice(0, Math.max(SIZE, String(i).length + 1)));
    await withTimeout(allInHistory, 120_000, 'publishing');

    // 3. timed: reconnect and catch up
    let got = 0;
    let next = 0;
    let badOrder = 0;
    let done;
    const caughtUp = new Promise((resolve) => (done = resolve));
    const t0 = performance.now();
    const again = await open(url);
    sockets.push(again);
    const t1 = performance.now();
    const answer = await withTimeout(
      new TopicClient(again).subscribe(topic, {
        since,
        onMessage: (data) => {
          const seq = Number(data.toString('latin1', 0, data.indexOf(32)));
          if (seq !== next) badOrder++;
          next = seq + 1;
          if (++got === N) done(performance.now());
        },
      }),
      120_000,
      'recovery',
    );
    const tEnd = await withTimeout(caughtUp, 120_000, 'catch-up');
    return { ok: answer.recovered === true && got === N && badOrder === 0, recovered: answer.recovered, got, badOrder, totalMs: tEnd - t0, catchUpMs: tEnd - t1, connectMs: t1 - t0 };
  } finally {
    for (const ws of sockets) ws.terminate();
  }
}

if (spawnSync('redis-server', ['--version']).status !== 0) {
  log('redis-server is not installed (Debian: apt-get install redis-server)');
  process.exit(2);
}
const redisPort = await freePort();
const redis = await start('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], clientCpu, /Ready to accept connections/);
redis.child.stdout.resume();
const serverPort = await freePort();
const server = await start(process.execPath, [path.join(HERE, 'servers/redis-wscore.mjs'), String(serverPort), `redis://127.0.0.1:${redisPort}`, String(N + 1000)], serverCpu, /^ready (\d+)/);
spawnSync('taskset', ['-pc', String(clientCpu), String(process.pid)]);
const url = `ws://127.0.0.1:${server.match[1]}`;
log(`redis-server on ${redisPort}, wscore server on cpu ${serverCpu}, clients and redis-server on cpu ${clientCpu}; ${N} missed messages of ${SIZE} B`);

const runs = [];
try {
  for (let r = 0; r < REPEAT; r++) {
    const res = await runOne(url, `bench/${r}`);
    runs.push(res);
    log(`run ${r + 1}/${REPEAT}: recovered ${res.recovered}, ${res.got}/${N} messages (${res.badOrder} out of order); connect + catch-up ${res.totalMs.toFixed(1)} ms (connect ${res.connectMs.toFixed(1)} ms, catch-up ${res.catchUpMs.toFixed(1)} ms)`);
  }
} finally {
  await stop(server.child);
  await stop(redis.child);
}
const ok = runs.filter((r) => r.ok);
const total = ok.length ? median(ok.map((r) => r.totalMs)) : null;
const catchUp = ok.length ? median(ok.map((r) => r.catchUpMs)) : null;
console.log(`\nrecovery of ${N} missed messages of ${SIZE} B from Redis Streams history, medians of ${REPEAT} runs\n`);
console.log('| connect + catch-up | catch-up (subscribe since -> last message) | messages/s | clean runs |');
console.log('|-|-|-|-|');
console.log(`| ${total?.toFixed(1) ?? 'failed'} ms | ${catchUp?.toFixed(1) ?? '-'} ms | ${catchUp ? Math.round(N / (catchUp / 1000)).toLocaleString('en-US') : '-'} | ${ok.length}/${REPEAT} |`);
const out = o.out ?? path.join(ROOT, 'bench/results', `topics-recovery-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ N, SIZE, REPEAT, cpus: [serverCpu, clientCpu], runs }, null, 1));
log(`results: ${path.relative(ROOT, out)}`);
process.exit(0);
