/**
 * createWebSocketStream's lifecycle, as ws's: the Duplex is destroyed and emits 'close' when
 * the connection closes (both sides done), when the connection fails, and on destroy().
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { Frame, type Opcode } from '../../src/frames/frame';
import { createWebSocketStream, WebSocket } from '../../src/io';
import { cleanup, openClient, startServer, track } from './helpers';

afterEach(cleanup);

function closed(stream: Duplex): Promise<void> {
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

describe('createWebSocketStream lifecycle', () => {
  it("emits 'close' and is destroyed when the peer closes and the stream was read and ended", async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (ws) => {
      ws.send('hello');
      ws.close(1000);
    });
    const ws = track(new WebSocket(url));
    const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
    const chunks: string[] = [];
    duplex.on('data', (c: string) => chunks.push(c));
    duplex.on('end', () => duplex.end());
    await closed(duplex);
    expect([chunks, duplex.destroyed, ws.readyState]).toEqual([['hello'], true, WebSocket.CLOSED]);
  });

  it("destroy() terminates the connection, then the stream emits 'close'", async () => {
    const { wss, url } = await startServer();
    const serverSide = once(wss, 'connection');
    const ws = await openClient(url);
    const [peer] = (await serverSide) as [WebSocket];
    const peerClose = once(peer, 'close');
    const duplex = createWebSocketStream(ws);
    duplex.destroy();
    await closed(duplex);
    const [code] = (await peerClose) as [number];
    expect([duplex.destroyed, ws.readyState, code]).toEqual([true, WebSocket.CLOSED, 1006]);
  });

  it("destroy() on an already closed socket still emits 'close'", async () => {
    const { url } = await startServer();
    const ws = await openClient(url);
    ws.close();
    await once(ws, 'close');
    const duplex = createWebSocketStream(ws);
    duplex.destroy();
    await closed(duplex);
    expect(duplex.destroyed).toBe(true);
  });

  it("a connection error destroys the stream with that error, then 'close'", async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (ws) => {
      // A reserved opcode is a protocol error (RFC 6455 §5.2).
      ws.sendFrame(new Frame(3 as Opcode, ''), { check: false });
    });
    const ws = track(new WebSocket(url));
    const duplex = createWebSocketStream(ws);
    const errors: Error[] = [];
    duplex.on('error', (err) => errors.push(err));
    await closed(duplex);
    expect(errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['WS_ERR_INVALID_OPCODE']);
    expect(duplex.destroyed).toBe(true);
  });

  it('an unhandled stream error is re-emitted (it throws like any unhandled error event)', async () => {
    const { url } = await startServer();
    const ws = await openClient(url);
    const duplex = createWebSocketStream(ws);
    // The stream's own handler is the only listener: emitting must throw, not swallow.
    expect(() => duplex.emit('error', new Error('boom'))).toThrow('boom');
    await closed(duplex);
  });
});
