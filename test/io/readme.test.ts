/**
 * The README's usage examples, as written there (port 0 instead of 8080), so that they
 * keep compiling (npm run typecheck) and working.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { afterEach, expect, it } from 'vitest';

import { connect, serve, WebSocket, WebSocketServer } from '../../src';
import { cleanup, track } from './helpers';

afterEach(cleanup);

it('README: server and client, ws style', async () => {
  const wss = track(new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true }));
  await once(wss, 'listening');
  wss.on('connection', (ws, _req) => {
    ws.on('error', console.error);
    ws.on('message', (data, isBinary) => {
      // Echo to the sender, and send to everyone else framed (and compressed) once.
      ws.send(data, { binary: isBinary });
      wss.broadcast(data, { binary: isBinary, filter: (client) => client !== ws });
    });
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const other = track(new WebSocket(url));
  await once(other, 'open');

  const log: string[] = [];
  const ws = track(new WebSocket(url, ['chat'], { headers: { Authorization: 'Bearer t0k3n' } }));
  ws.on('open', () => ws.send('hello'));
  const echoed = new Promise<void>((resolve) =>
    ws.on('message', (data, isBinary) => {
      log.push(isBinary ? 'binary' : data.toString());
      resolve();
    }),
  );
  const [broadcast] = (await once(other, 'message')) as [Buffer];
  await echoed;
  ws.on('close', (code, reason) => log.push(`closed ${code} ${reason.toString()}`));
  ws.close(1000, 'done');
  await ws.closed;
  expect(broadcast.toString()).toBe('hello');
  expect(log).toEqual(['hello', 'closed 1000 done']);
});

it('README: server and client, async style', async () => {
  const server = await serve(
    async (ws) => {
      for await (const message of ws) ws.send(message); // string for text, Buffer for binary
    },
    { port: 0 },
  );
  track(server);
  const ws = await connect(server.url);
  ws.send('hello');
  expect(await ws.recv()).toBe('hello');
  ws.close();
  expect(await ws.closed).toEqual({ code: 1005, reason: '' });
  await server.close();
});

it('README: topics, one process', async () => {
  const wss = track(new WebSocketServer({ port: 0, host: '127.0.0.1' }));
  await once(wss, 'listening');
  wss.on('connection', (ws) => {
    ws.subscribe('room/42');
    ws.on('message', (data, isBinary) => wss.publish('room/42', data, { binary: isBinary }));
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const alice = track(new WebSocket(url));
  const bob = track(new WebSocket(url));
  await Promise.all([once(alice, 'open'), once(bob, 'open')]);
  // Both are subscribed once the server ran its 'connection' listener for each.
  while (wss.topics.subscriberCount('room/42') < 2) await new Promise((resolve) => setImmediate(resolve));
  const heard = once(bob, 'message') as Promise<[Buffer, boolean]>;
  const echoed = once(alice, 'message') as Promise<[Buffer, boolean]>;
  alice.send('hi room');
  const [[toBob, bobBinary], [toAlice]] = await Promise.all([heard, echoed]);
  expect([toBob.toString(), bobBinary, toAlice.toString()]).toEqual(['hi room', false, 'hi room']);
});
