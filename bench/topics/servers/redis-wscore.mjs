// A wscore server for bench/topics/redis.mjs: `node redis-wscore.mjs <port> <redis url>`.
// Every connection subscribes to topic "bench", except `?pub=1`, whose messages are published
// to it (wss.publish: frame once for the local subscribers, one SPUBLISH for the others).
// With a third argument N (bench/topics/recovery.mjs): topics keep about N messages of history
// and clients subscribe themselves with topic requests (TopicClient), nobody automatically.
// Prints "ready <port>" once listening; exits on SIGTERM or when stdin ends.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { WebSocketServer, redisPubSub } = require(path.join(root, 'dist/cjs/index.js'));

const [port, url, history] = process.argv.slice(2);
const pubsub = redisPubSub({ url, history: history === undefined ? false : { maxLength: Number(history) } });
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(port), pubsub, topicRequests: history !== undefined });
wss.on('error', (err) => process.stderr.write(`wscore server: ${err.message}\n`));
wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  const q = new URL(req.url ?? '/', 'http://x').searchParams;
  const topic = q.get('topic') ?? 'bench'; // ?topic=T: publish to T instead
  if (q.get('pub') === '1') ws.on('message', (data, isBinary) => wss.publish(topic, data, { binary: isBinary }));
  else if (history === undefined) ws.subscribe('bench');
});
wss.on('listening', () => process.stdout.write(`ready ${wss.address().port}\n`));
const stop = () => wss.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop).resume();
