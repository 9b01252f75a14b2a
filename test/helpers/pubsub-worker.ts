/**
 * A server process for the multi-process pub/sub tests, run with vite-node:
 *   vite-node test/helpers/pubsub-worker.ts <redis url> [history]
 * (`history`: topics keep history and clients may send topic requests.)
 * Prints `{"port":N,"instance":"..."}` once listening and the adapter connected. A client
 * connects with `?sub=T` (repeatable) to subscribe and `?pub=T` to have each of its messages
 * published to T with the same text/binary flag (`&self=0`: ws.publish, which leaves the
 * sender out). SIGTERM: wss.close(), then the process must exit on its own (a pub/sub handle
 * left open would keep it alive and fail the test waiting for the exit).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { WebSocketServer, redisPubSub } from '../../src/io';

async function main(): Promise<void> {
  const [url, mode] = process.argv.slice(2);
  const pubsub = redisPubSub({ url: url!, history: mode === 'history' });
  // With history, clients may subscribe themselves with topic requests (and recover).
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, pubsub, topicRequests: mode === 'history' });
  wss.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));
  wss.on('connection', (ws, req) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    for (const topic of q.getAll('sub')) ws.subscribe(topic);
    const target = q.get('pub');
    if (target === null) return;
    const self = q.get('self') !== '0';
    ws.on('message', (data, isBinary) => {
      if (self) wss.publish(target, data as Buffer, { binary: isBinary });
      else ws.publish(target, data as Buffer, { binary: isBinary });
    });
  });
  await Promise.all([once(wss, 'listening'), pubsub.ready]);
  process.stdout.write(`${JSON.stringify({ port: (wss.address() as AddressInfo).port, instance: pubsub.instanceId })}\n`);
  process.once('SIGTERM', () => void wss.close());
}

void main();
