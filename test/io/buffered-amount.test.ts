/**
 * `bufferedAmount` counts what ws 8 counts: the user payload (before compression) of what
 * waits in our sender, plus the bytes the socket still holds, plus what was sent after close.
 * Frame headers and frames of our own (the close frame, automatic pongs, the 101 response
 * queued with what a 'connection' handler sends) do not count.
 */
import { once } from 'node:events';

import { afterEach, describe, expect, it } from 'vitest';

import type { WebSocket } from '../../src/io';
import { cleanup, openClient, startServer, track } from './helpers';

afterEach(cleanup);

/** Error of a send callback, and `ws.bufferedAmount` read inside that callback. */
function callbackState(ws: WebSocket): { cb: (err?: Error) => void; done: Promise<[Error | undefined, number]> } {
  let resolve!: (v: [Error | undefined, number]) => void;
  const done = new Promise<[Error | undefined, number]>((r) => (resolve = r));
  return { cb: (err) => resolve([err, ws.bufferedAmount]), done };
}

/** A server whose 'connection' handler is `handler`, and a client connected to it. */
async function connectWith<T>(handler: (ws: WebSocket) => T): Promise<{ result: T; client: WebSocket }> {
  const { wss, url } = await startServer();
  const result = new Promise<T>((resolve) => wss.once('connection', (ws: WebSocket) => resolve(handler(ws))));
  const client = await openClient(url);
  return { result: await result, client };
}

/** A connected pair, the server side's 'connection' handler long done. */
async function pair(clientOptions?: Parameters<typeof openClient>[2], serverOptions?: Parameters<typeof startServer>[0]): Promise<{ client: WebSocket; server: WebSocket }> {
  const { wss, url } = await startServer(serverOptions);
  const serverSide = once(wss, 'connection');
  const client = await openClient(url, undefined, clientOptions);
  const [server] = (await serverSide) as [WebSocket];
  return { client, server };
}

describe('bufferedAmount (as ws counts it)', () => {
  it("in the 'connection' handler, close() leaves it at 0; a ping after close counts its payload, also once CLOSED", async () => {
    const { result } = await connectWith((ws) => {
      ws.close();
      const afterClose = ws.bufferedAmount;
      const first = callbackState(ws);
      ws.ping('hi', first.cb);
      return { ws, afterClose, first: first.done };
    });
    const { ws, afterClose } = result;
    expect(afterClose).toBe(0);
    const [err, inCallback] = await result.first;
    expect(err?.message).toBe('WebSocket is not open: readyState 2 (CLOSING)');
    expect(inCallback).toBe(2);
    if (ws.readyState !== ws.CLOSED) await once(ws, 'close');
    const second = callbackState(ws);
    ws.ping(second.cb);
    const [err2, atClosed] = await second.done;
    expect(err2?.message).toBe('WebSocket is not open: readyState 3 (CLOSED)');
    expect(atClosed).toBe(2);
  });

  it('with permessage-deflate, a queued message counts its uncompressed size; 0 once written', async () => {
    const { client } = await pair({ perMessageDeflate: { threshold: 0 } }, { perMessageDeflate: true });
    expect(client.extensions).toContain('permessage-deflate');
    client.send('foo');
    expect(client.bufferedAmount).toBe(3);
    const bar = callbackState(client);
    client.send('bar', bar.cb);
    expect(client.bufferedAmount).toBe(6);
    // Compresses to far fewer bytes than it counts for.
    client.send('a'.repeat(5000));
    expect(client.bufferedAmount).toBe(5006);
    const [err, inCallback] = await bar.done;
    expect(err).toBeUndefined();
    expect(inCallback).toBe(0);
  });

  it("a server's text send of N bytes counts N (not N + header), in the 'connection' handler too, and 0 after its callback", async () => {
    const text = 'é'.repeat(50); // 100 bytes of UTF-8
    const { result } = await connectWith((ws) => {
      const state = callbackState(ws);
      ws.send(text, state.cb);
      return { queued: ws.bufferedAmount, done: state.done };
    });
    expect(result.queued).toBe(100);
    const [err, after] = await result.done;
    expect(err).toBeUndefined();
    expect(after).toBe(0);

    const { server } = await pair();
    const state = callbackState(server);
    server.send(text, state.cb);
    expect(server.bufferedAmount).toBe(100);
    expect((await state.done)[1]).toBe(0);
  });

  it('large and binary payloads, from either side (masked or not), count their payload bytes', async () => {
    const { client, server } = await pair();
    for (const ws of [client, server]) {
      ws.send(Buffer.alloc(10_000, 1));
      expect(ws.bufferedAmount).toBe(10_000);
      ws.send(new Uint16Array(3));
      expect(ws.bufferedAmount).toBe(10_006);
      ws.send('x'.repeat(5000));
      expect(ws.bufferedAmount).toBe(15_006);
      const state = callbackState(ws);
      ws.send('y', state.cb);
      expect(ws.bufferedAmount).toBe(15_007);
      expect((await state.done)[1]).toBe(0);
    }
  });

  it('ping() and pong() count their payload while queued; the automatic pong does not', async () => {
    const { client, server } = await pair();
    server.ping('abc');
    server.pong(Buffer.from([1, 2]));
    expect(server.bufferedAmount).toBe(5);
    // The pong answering this ping is queued before 'ping' is emitted (same read).
    const inListener = new Promise<number>((resolve) => client.once('ping', () => resolve(client.bufferedAmount)));
    expect(await inListener).toBe(0);
  });

  it('a broadcast queued behind other frames counts its payload', async () => {
    const { wss, url } = await startServer();
    const queued = new Promise<number>((resolve) =>
      wss.once('connection', (ws: WebSocket) => {
        // The 101 is still queued here, so the broadcast waits behind it in our sender.
        wss.broadcast('hello');
        resolve(ws.bufferedAmount);
      }),
    );
    track(await openClient(url));
    expect(await queued).toBe(5);
  });
});
