/**
 * The transport choice wired into WebSocketServer and the client (issue 14): 'auto' puts
 * plain TCP connections on the native transport where it exists (Linux, native backend),
 * WSCORE_TRANSPORT=node (the native-node vitest project) or `transport: 'node'` keeps Node's
 * sockets, TLS always uses Node's. The takeover loses and reorders no byte: the 101 goes out
 * ahead of the first frame, bytes that came with the upgrade request are read.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { WebSocket, WebSocketServer } from '../../src/io';
import { selfSignedCert } from '../helpers/cert';
import { cleanup, clientFrame, closeEvent, nextMessage, openClient, parseServerFrames, startServer, track } from './helpers';

const nativeAvailable = backendName === 'native' && process.platform === 'linux';
const forced = process.env.WSCORE_TRANSPORT;
/** What 'auto' gives a plain TCP connection in this run. */
const expected = nativeAvailable && forced !== 'node' ? 'native' : 'node';

afterEach(cleanup);

describe('the transport of a connection', () => {
  it(`is '${expected}' on both ends of a plain TCP connection, and null while CONNECTING`, async () => {
    const { wss, url } = await startServer();
    const accepted = once(wss, 'connection');
    const client = track(new WebSocket(url));
    expect(client.transport).toBeNull();
    await once(client, 'open');
    const [server] = (await accepted) as [WebSocket];
    expect([client.transport, server.transport]).toEqual([expected, expected]);
    server.on('message', (data, isBinary) => server.send(data as Buffer, { binary: isBinary }));
    const big = randomBytes(300_000);
    client.send('hello');
    client.send(big);
    const [first] = await nextMessage(client);
    const [second] = await nextMessage(client);
    expect(first.toString()).toBe('hello');
    expect(second.equals(big)).toBe(true);
  });

  it("transport: 'node' keeps Node's sockets on both ends (unless WSCORE_TRANSPORT overrides it)", async () => {
    const want = forced === 'native' ? 'native' : 'node';
    const { wss, url } = await startServer({ transport: 'node' });
    const accepted = once(wss, 'connection');
    const client = await openClient(url, undefined, { transport: 'node' });
    const [server] = (await accepted) as [WebSocket];
    expect([client.transport, server.transport]).toEqual([want, want]);
  });

  it('a bad transport option throws at construction; native without the native transport too', () => {
    expect(() => new WebSocketServer({ noServer: true, transport: 'fast' as 'auto' })).toThrow(/must be "auto", "native" or "node"/);
    expect(() => new WebSocket('ws://127.0.0.1:1', { transport: 'uring' as 'auto' })).toThrow(TypeError);
    if (nativeAvailable) {
      track(new WebSocketServer({ noServer: true, transport: 'native' })).close();
    } else {
      expect(() => new WebSocketServer({ noServer: true, transport: 'native' })).toThrow(/not available/);
    }
  });

  it('the 101 leaves ahead of what the connection handler sends, and bytes sent with the request are read', async () => {
    const { wss, port } = await startServer();
    wss.on('connection', (ws) => {
      ws.send('welcome');
      ws.on('message', (data) => ws.send(`echo ${String(data)}`));
    });
    const socket = net.connect(port, '127.0.0.1');
    track({ close: () => socket.destroy() });
    await once(socket, 'connect');
    const key = randomBytes(16).toString('base64');
    // The request and a first frame in one write: the frame arrives as the upgrade's head.
    socket.write(
      Buffer.concat([
        Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`),
        clientFrame(1, 'early'),
      ]),
    );
    let buf = Buffer.alloc(0);
    let frames: ReturnType<typeof parseServerFrames> = [];
    while (frames.length < 2) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end !== -1) frames = parseServerFrames(buf.subarray(end + 4));
    }
    expect(buf.subarray(0, 12).toString()).toBe('HTTP/1.1 101');
    expect(frames.map((f) => f.payload.toString())).toEqual(['welcome', 'echo early']);
  });

  it("the request's socket still tells its addresses in the 'connection' handler", async () => {
    const { wss, url, port } = await startServer();
    const seen = new Promise<unknown[]>((resolve) => wss.on('connection', (_ws, req) => resolve([req.socket.remoteAddress, typeof req.socket.remotePort, req.socket.localAddress, req.socket.localPort])));
    await openClient(url);
    expect(await seen).toEqual(['127.0.0.1', 'number', '127.0.0.1', port]);
  });

  it('wss.close() closes every connection with 1001 after the messages queued before it', async () => {
    const { wss, url } = await startServer();
    const accepted = once(wss, 'connection');
    const client = await openClient(url);
    const [server] = (await accepted) as [WebSocket];
    const big = randomBytes(4 * 1024 * 1024);
    const got: Buffer[] = [];
    client.on('message', (data) => got.push(data as Buffer));
    const closed = closeEvent(client);
    server.send(big);
    server.send('last');
    await wss.close();
    expect(await closed).toEqual([1001, 'server shutting down']);
    expect(got.length).toBe(2);
    expect(got[0]!.equals(big)).toBe(true);
    expect(got[1]!.toString()).toBe('last');
    expect(server.readyState).toBe(WebSocket.CLOSED);
  });

  it("TLS connections use Node's transport under 'auto'", async (ctx) => {
    const cert = selfSignedCert();
    if (cert === null) {
      console.warn('SKIP: openssl is missing (apt-get install openssl): the TLS transport case is not run');
      if (process.env.WSCORE_REQUIRE_PEERS === '1') throw new Error('openssl is required');
      ctx.skip();
      return;
    }
    const server = https.createServer(cert);
    track({ close: () => new Promise((resolve) => server.close(resolve)) });
    const wss = track(new WebSocketServer({ server }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(wss, 'connection');
    const client = await openClient(`wss://127.0.0.1:${(server.address() as AddressInfo).port}`, undefined, { rejectUnauthorized: false });
    const [ws] = (await accepted) as [WebSocket];
    expect([client.transport, ws.transport]).toEqual(['node', 'node']);
    client.send('over tls');
    const [data] = await nextMessage(ws);
    expect(data.toString()).toBe('over tls');
  });
});
