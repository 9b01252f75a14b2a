// Memory per topic subscription (docs/api.md, "Topics"), on real server-side connections.
//
//   npm run build:ts && node --expose-gc bench/topics/memory.mjs [connections] [topicsEach] [pool]
//
// Opens `connections` (default 1,000) wscore clients to a wscore server on 127.0.0.1 in this
// process, then measures the V8 heap (after forced GCs) around:
//   first  - every connection subscribes to one topic: its first subscription, which also
//            allocates the connection's own topic set (a connection that never subscribes has none);
//   more   - every connection subscribes to `topicsEach` (default 10) more topics drawn from a
//            pool of `pool` (default 100) names: connections x topicsEach subscriptions
//            (10,000 by default) into topics that already exist or are created on the way;
//   after  - every connection unsubscribes from everything (the registry must be empty).
// The topic names are created before the baseline: they are the application's strings.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { WebSocket, WebSocketServer } = require(path.join(root, 'dist/cjs/index.js'));

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const connections = Number(process.argv[2] ?? 1000);
const topicsEach = Number(process.argv[3] ?? 10);
const pool = Number(process.argv[4] ?? 100);

async function heap() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await once(wss, 'listening');
const url = `ws://127.0.0.1:${wss.address().port}`;
const servers = [];
wss.on('connection', (ws) => servers.push(ws));
const clients = [];
for (let i = 0; i < connections; i += 100) {
  const batch = [];
  for (let j = i; j < Math.min(connections, i + 100); j++) {
    const c = new WebSocket(url);
    clients.push(c);
    batch.push(once(c, 'open'));
  }
  await Promise.all(batch);
}
while (servers.length < connections) await new Promise((resolve) => setTimeout(resolve, 10));

const names = Array.from({ length: pool }, (_, i) => `topic/${i}`);
// Each connection's picks: topicsEach distinct names of the pool, spread evenly.
const picks = servers.map((_, i) => Array.from({ length: topicsEach }, (_, k) => names[(i + k * 7) % pool]));
const first = 'room/first';

const base = await heap();
for (const ws of servers) ws.subscribe(first);
const afterFirst = await heap();
let n = 0;
for (let i = 0; i < servers.length; i++) for (const t of picks[i]) n += servers[i].subscribe(t) ? 1 : 0;
const afterMore = await heap();
for (const ws of servers) for (const t of ws.topics) ws.unsubscribe(t);
const afterAll = await heap();

const perFirst = (afterFirst - base) / connections;
const perMore = (afterMore - afterFirst) / n;
console.log(`node ${process.version}, ${connections} server-side connections, ${pool}-topic pool`);
console.log(`first subscription of a connection (includes its topic set): ${perFirst.toFixed(1)} bytes`);
console.log(`each further subscription (${n} of them, ~${Math.round(n / pool)} subscribers per topic): ${perMore.toFixed(1)} bytes`);
console.log(`after unsubscribing everything: registry size ${wss.topics.size}, heap ${((afterAll - base) / 1024).toFixed(1)} KiB over the baseline`);

for (const c of clients) c.terminate();
await wss.close();
