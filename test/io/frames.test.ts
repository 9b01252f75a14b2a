/**
 * Frame-level access (sendFrame, rawFrames), broadcast of prepared messages, and the write
 * batching of the send path.
 */
import { once } from 'node:events';

import { afterEach, describe, expect, it } from 'vitest';

import { LocalProtocolError } from '../../src/errors';
import { Frame, Opcode } from '../../src/frames/frame';
import { PreparedMessage, WebSocket } from '../../src/io';
import { cleanup, closeEvent, nextMessage, openClient, parseServerFrames, rawClient, clientFrame, recordTransportWrites, startServer } from './helpers';

afterEach(cleanup);

async function pair(serverOptions = {}, clientOptions = {}): Promise<{ client: WebSocket; server: WebSocket }> {
  const { wss, url } = await startServer(serverOptions);
  const serverSide = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = await openClient(url, undefined, clientOptions);
  const [server] = await serverSide;
  return { client, server };
}

/** Counts the write calls a socket receives (write + writev both go through _write/_writev). */
/** Counts the batches `ws` hands to its transport (one write of the socket, either transport). */
function countWrites(ws: WebSocket): { readonly writes: number } {
  const batches = recordTransportWrites(ws);
  return {
    get writes() {
      return batches.length;
    },
  };
}

describe('low-level frames', () => {
  it('sendFrame() sends hand-made fragments and control frames', async () => {
    const { client, server } = await pair();
    const got = nextMessage(server);
    const ping = once(server, 'ping');
    client.sendFrame(Frame.create('Hel', Opcode.TEXT, false));
    client.sendFrame(new Frame(Opcode.PING, 'mid-message ping'));
    client.sendFrame(Frame.create('lo', Opcode.CONT, true));
    expect(((await ping)[0] as Buffer).toString()).toBe('mid-message ping');
    expect((await got)[0].toString()).toBe('Hello');
    expect(() => client.sendFrame(new Frame(Opcode.PING, Buffer.alloc(126)))).toThrow();
  });

  it('sendFrame() with a custom close payload starts the closing handshake', async () => {
    const { client, server } = await pair();
    const serverClosed = closeEvent(server);
    const clientClosed = closeEvent(client);
    const payload = Buffer.concat([Buffer.from([0x0b, 0xb8]), Buffer.from('custom')]); // 3000
    client.sendFrame(new Frame(Opcode.CLOSE, payload));
    expect(client.readyState).toBe(WebSocket.CLOSING);
    expect(await serverClosed).toEqual([3000, 'custom']);
    expect(await clientClosed).toEqual([3000, 'custom']);
  });

  it("rawFrames: true emits every received frame as a 'frame' event", async () => {
    const { client, server } = await pair({}, { rawFrames: true });
    const frames: Frame[] = [];
    client.on('frame', (f) => frames.push(f));
    const got = nextMessage(client);
    server.send('ab', { fin: false });
    server.send('cd');
    await got;
    expect(frames.map((f) => [f.opcode, f.fin, Buffer.from(f.data).toString()])).toEqual([
      [Opcode.TEXT, false, 'ab'],
      [Opcode.CONT, true, 'cd'],
    ]);
  });
});

describe('broadcast', () => {
  it('wss.broadcast() frames once and reaches every open client', async () => {
    const { wss, url } = await startServer();
    const clients = await Promise.all([openClient(url), openClient(url), openClient(url)]);
    const got = clients.map((c) => nextMessage(c));
    expect(wss.broadcast('news')).toBe(3);
    for (const [data, isBinary] of await Promise.all(got)) {
      expect(data.toString()).toBe('news');
      expect(isBinary).toBe(false);
    }
    // A large prepared message to all but the first client (by the server-side socket).
    const first = [...wss.clients!][0]!;
    const later = clients.slice(1).map((c) => nextMessage(c));
    const big = Buffer.alloc(100_000, 7);
    const message = new PreparedMessage(big);
    expect(wss.broadcast(message, { filter: (c) => c !== first })).toBe(2);
    for (const [data, isBinary] of await Promise.all(later)) {
      expect(data.equals(big)).toBe(true);
      expect(isBinary).toBe(true);
    }
  });

  it('shares one compressed copy among clients without context takeover', async () => {
    const { wss, url } = await startServer({ perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 } });
    const stateless = await Promise.all([openClient(url), openClient(url)]);
    // A ws peer that refuses no-context-takeover cannot connect with compression; use a
    // plain client (no deflate) as the third, which must get the uncompressed frame.
    const plain = await openClient(url, undefined, { perMessageDeflate: false });
    expect(stateless[0]!.extensions).toMatch(/server_no_context_takeover/);
    expect(plain.extensions).toBe('');
    const text = 'broadcast me '.repeat(200);
    const message = new PreparedMessage(text);
    const got = [...stateless, plain].map((c) => nextMessage(c));
    expect(wss.broadcast(message)).toBe(3);
    for (const [data] of await Promise.all(got)) expect(data.toString()).toBe(text);
    const cache = (message as unknown as { compressed: Map<string, Buffer> }).compressed;
    expect(cache.size).toBe(1);
    expect([...cache.values()][0]!.length).toBeLessThan(text.length / 4);
    // Clients with context takeover compress per connection and still decode correctly.
    const { wss: wss2, url: url2 } = await startServer({ perMessageDeflate: { threshold: 0 } });
    const ctx = await Promise.all([openClient(url2), openClient(url2)]);
    for (let round = 0; round < 3; round++) {
      const next = ctx.map((c) => nextMessage(c));
      wss2.broadcast(`${text} ${round}`);
      for (const [data] of await Promise.all(next)) expect(data.toString()).toBe(`${text} ${round}`);
    }
  });

  it('writes to idle connections during the call, and after what a connection has queued', async () => {
    const { wss, url } = await startServer();
    const accepted: WebSocket[] = [];
    wss.on('connection', (ws) => accepted.push(ws));
    const clients = await Promise.all([openClient(url), openClient(url)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [busy, idle] = accepted as [WebSocket, WebSocket];
    const busyWrites = countWrites(busy);
    const idleWrites = countWrites(idle);
    const busyClient = clients[accepted.indexOf(busy)]!;
    const received: string[] = [];
    const both = new Promise<void>((resolve) =>
      busyClient.on('message', (data) => {
        received.push(String(data));
        if (received.length === 2) resolve();
      }),
    );
    busy.send('queued first');
    expect(wss.broadcast('then the broadcast')).toBe(2);
    // The idle connection got its write inside broadcast(); the busy one keeps its order.
    expect(idleWrites.writes).toBe(1);
    expect(busyWrites.writes).toBe(0);
    await both;
    expect(received).toEqual(['queued first', 'then the broadcast']);
    expect(busyWrites.writes).toBe(1);
  });

  it('a PreparedMessage sent from a client is masked per connection', async () => {
    const { client, server } = await pair();
    const got = nextMessage(server);
    new PreparedMessage('from client').sendTo(client);
    expect((await got)[0].toString()).toBe('from client');
  });
});

describe('write batching', () => {
  it('answers every frame of one socket read with one write', async () => {
    const { wss, port } = await startServer();
    let serverWs: WebSocket | null = null;
    wss.on('connection', (ws) => {
      serverWs = ws;
      ws.on('message', (data) => ws.send(data as Buffer, { binary: false }));
    });
    const { socket, head } = await rawClient(port);
    const counter = countWrites(serverWs!);
    const frames = Array.from({ length: 100 }, (_, i) => clientFrame(Opcode.TEXT, `m${i}`));
    frames.push(clientFrame(Opcode.PING, 'p'));
    socket.write(Buffer.concat(frames));
    const received: Buffer[] = [head];
    let total = 0;
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        total += chunk.length;
        if (parseServerFrames(Buffer.concat(received)).length >= 101) resolve();
      });
    });
    const replies = parseServerFrames(Buffer.concat(received));
    expect(replies.slice(0, 100).map((f) => f.payload.toString())).toEqual(frames.slice(0, 100).map((_, i) => `m${i}`));
    expect(replies[100]!.opcode).toBe(Opcode.PONG);
    expect(counter.writes).toBe(1);
    expect(total).toBeGreaterThan(0);
  });

  it('coalesces sends made in one tick into one write, and copies small payloads at once', async () => {
    const { client, server } = await pair();
    const counter = countWrites(client);
    const reused = Buffer.from('aaaa');
    const received: string[] = [];
    server.on('message', (d) => received.push((d as Buffer).toString()));
    for (let i = 0; i < 50; i++) {
      reused.fill(String.fromCharCode(97 + (i % 26)));
      client.send(reused);
    }
    await new Promise<void>((resolve) => server.on('message', () => received.length === 50 && resolve()));
    expect(counter.writes).toBe(1);
    expect(received[1]).toBe('bbbb');
    expect(received[49]).toBe('xxxx');
  });

  it('sendFrame refuses invalid frames unless check is off', async () => {
    const { client, server } = await pair();
    expect(() => client.sendFrame(new Frame(Opcode.PONG, Buffer.alloc(200)))).toThrow();
    expect(() => client.sendFrame(new Frame(3 as Opcode, 'x'))).toThrow();
    // With check: false a reserved opcode reaches the peer, which fails the connection.
    server.on('error', () => undefined);
    const closed = closeEvent(client);
    client.sendFrame(new Frame(3 as Opcode, 'x'), { check: false });
    expect((await closed)[0]).toBe(1002);
    expect(LocalProtocolError).toBeDefined();
  });
});
