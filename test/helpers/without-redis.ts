/**
 * Run with `node -r ./block-redis.cjs vite-node without-redis.ts`: wscore must load and its
 * in-process topics work without `redis`; redisPubSub() must throw its typed error. Prints
 * one JSON line with what happened.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import * as wscore from '../../src/index';

async function main(): Promise<void> {
  const wss = new wscore.WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  wss.on('connection', (ws) => ws.subscribe('t'));
  const client = new wscore.WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await once(client, 'open');
  while (wss.topics.subscriberCount('t') === 0) await new Promise((resolve) => setImmediate(resolve));
  const got = once(client, 'message') as Promise<[Buffer]>;
  wss.publish('t', 'in-process');
  const [data] = await got;
  let error: { name: string; code: string; message: string } | null = null;
  try {
    wscore.redisPubSub({ url: 'redis://127.0.0.1:1' });
  } catch (err) {
    const e = err as wscore.PubSubError;
    error = { name: e.name, code: e.code, message: e.message };
  }
  client.close();
  await wss.close();
  process.stdout.write(`${JSON.stringify({ delivered: data.toString(), error })}\n`);
}

void main();
