/**
 * What an open, idle server-side connection keeps alive (issue 7: RSS per idle connection).
 * Each test pins one thing that used to be held per connection for its whole life: the
 * upgrade request (and with it the head buffer and the negotiation plan, captured by
 * per-connection closures), a batch buffer, an Error with its stack, per-connection listener
 * wrappers and option copies. bench/e2e's scale suite measures the bytes; these tests keep
 * the reasons from coming back.
 */
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';

import { NodeStreamTransport } from '../../src/io/node-stream-transport';
import { kConnection } from '../../src/io/transport-connection';
import type { WebSocket } from '../../src/io';
import { collectGarbage } from '../security/helpers';
import { cleanup, nextMessage, openClient, startServer, track } from './helpers';

afterEach(cleanup);

/** Lets pending ticks, immediates and socket events run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

async function connectedPair(): Promise<{ server: WebSocket; client: WebSocket; requestRef: WeakRef<object> }> {
  const { wss, url } = await startServer();
  let requestRef: WeakRef<object> | null = null;
  const accepted = new Promise<WebSocket>((resolve) =>
    wss.once('connection', (ws, req) => {
      requestRef = new WeakRef(req);
      resolve(ws);
    }),
  );
  const client = track(await openClient(url));
  const server = await accepted;
  return { server, client, requestRef: requestRef! };
}

describe('idle server-side connection footprint', () => {
  it('does not keep the upgrade request alive after the handshake', async () => {
    const { server, requestRef } = await connectedPair();
    await settle();
    expect(collectGarbage()).toBe(true);
    await settle();
    collectGarbage();
    expect(requestRef.deref()).toBeUndefined();
    expect(server.readyState).toBe(1);
  });

  it('removes its handshake listeners and timer from the socket once upgraded', async () => {
    const { wss, url } = await startServer();
    const accepted = new Promise<[WebSocket, Duplex]>((resolve) => wss.once('connection', (ws, req) => resolve([ws, req.socket])));
    track(await openClient(url));
    const [server, socket] = await accepted;
    const handshakeSymbols = Object.getOwnPropertySymbols(socket).filter((s) => /handshake/i.test(String(s.description)));
    for (const sym of handshakeSymbols) expect((socket as unknown as Record<symbol, unknown>)[sym]).toBeUndefined();
    // The connection's own listeners only: one shared, named function per event (Node's
    // net.Socket adds its own onReadableStreamEnd), and no once() wrapper anywhere.
    const names = (event: string): string[] =>
      socket
        .rawListeners(event)
        .map((l) => ((l as { listener?: unknown }).listener !== undefined ? 'once-wrapper' : (l as () => void).name))
        .filter((name) => name !== 'onReadableStreamEnd');
    const events = ['close', 'end', 'error', 'data', 'drain'];
    if (server.transport === 'native') {
      // Taken over (docs/transports.md): the Node socket is destroyed, and nothing of ours
      // listens to it or is reachable from the connection through it.
      expect(socket.destroyed).toBe(true);
      expect(events.map(names)).toEqual(events.map(() => []));
      return;
    }
    expect((server[kConnection].transport as NodeStreamTransport).stream).toBe(socket);
    expect(events.map(names)).toEqual([['socketOnClose'], ['socketOnEnd'], ['socketOnError'], ['socketOnData'], ['socketOnDrain']]);
  });

  it('holds no batch buffer or Error after its sends were flushed', async () => {
    const { server, client } = await connectedPair();
    const echoed = nextMessage(client);
    server.send('hello');
    await echoed;
    await settle();
    const sender = server[kConnection].sender! as unknown as Record<string, unknown>;
    expect(sender.run).toBeNull();
    expect(sender.queuedBytes).toBe(0);
    expect(sender.closedErrorMade).toBeNull();
  });

  it('holds no typed array of its own for the frame parser between messages', async () => {
    const { server, client } = await connectedPair();
    const echoed = nextMessage(client);
    client.send('ping me');
    server.on('message', (data) => server.send(data));
    await echoed;
    await settle();
    // The parser's control array is shared by all readers; a reader keeps its state in a
    // plain array, and only while a frame or message is in progress.
    const reader = server[kConnection].receivePath!.reader as unknown as Record<string, unknown>;
    const views = Object.entries(reader).filter(([, v]) => ArrayBuffer.isView(v));
    expect(views).toEqual([]);
    expect(reader.state).toBeNull();
  });

  it('shares one checked options object between the connections of a server', async () => {
    const { wss, url } = await startServer({ maxPayload: 1234 });
    const accepted: WebSocket[] = [];
    wss.on('connection', (ws) => accepted.push(ws));
    track(await openClient(url));
    track(await openClient(url));
    await settle();
    expect(accepted).toHaveLength(2);
    const [a, b] = accepted.map((ws) => ws[kConnection].options);
    expect(a).toBe(b);
    expect(a!.maxPayload).toBe(1234);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('forgets a closed client (clients set) without a per-connection closure', async () => {
    const { wss, url } = await startServer();
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = track(await openClient(url));
    const server = await accepted;
    expect(wss.clients!.has(server)).toBe(true);
    expect(server.rawListeners('close').every((l) => (l as { listener?: unknown }).listener === undefined)).toBe(true);
    const closed = new Promise((resolve) => server.once('close', resolve));
    client.close();
    await closed;
    expect(wss.clients!.has(server)).toBe(false);
  });
});
