import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { WebSocket, WebSocketServer } from '../../src/io';
import { cleanup, clientFrame, closeEvent, nextMessage, openClient, parseServerFrames, rawClient, readAll, startServer, track } from './helpers';

afterEach(cleanup);

/** Sends raw bytes to a port and returns everything until the server closes. */
async function rawRequest(port: number, text: string | Buffer): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  track({ close: () => socket.destroy() });
  await once(socket, 'connect');
  socket.write(text);
  return (await readAll(socket)).toString('latin1');
}

function upgradeRequest(port: number, extra = '', path = '/'): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

async function listen(server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('WebSocketServer modes', () => {
  it('requires exactly one of port, server and noServer', () => {
    expect(() => new WebSocketServer({})).toThrow(TypeError);
    expect(() => new WebSocketServer({ port: 0, noServer: true })).toThrow(TypeError);
  });

  it('standalone: listens, reports address(), tracks clients, answers 426 to plain HTTP', async () => {
    const { wss, port } = await startServer();
    expect((wss.address() as AddressInfo).port).toBe(port);
    const ws = await openClient(`ws://127.0.0.1:${port}`);
    expect(wss.clients!.size).toBe(1);
    const response = await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 426 Upgrade Required/);
    ws.close();
    await closeEvent(ws);
    await vi.waitFor(() => expect(wss.clients!.size).toBe(0));
  });

  it('attaches to an existing http.Server and leaves its requests alone', async () => {
    const server = track(http.createServer((_req, res) => res.end('plain http')));
    const wss = track(new WebSocketServer({ server }));
    const port = await listen(server);
    wss.on('connection', (ws) => ws.send('hi'));
    const ws = track(new WebSocket(`ws://127.0.0.1:${port}`));
    expect((await nextMessage(ws))[0].toString()).toBe('hi');
    const body = await new Promise<string>((resolve) => http.get(`http://127.0.0.1:${port}/`, (res) => res.on('data', (d: Buffer) => resolve(d.toString()))));
    expect(body).toBe('plain http');
  });

  it('noServer: handleUpgrade() with routing by path on a shared server', async () => {
    const server = track(http.createServer());
    const chat = track(new WebSocketServer({ noServer: true }));
    const feed = track(new WebSocketServer({ noServer: true }));
    expect(() => chat.address()).toThrow(/noServer/);
    server.on('upgrade', (req, socket, head) => {
      const target = req.url === '/chat' ? chat : req.url === '/feed' ? feed : null;
      if (target === null) {
        socket.destroy();
        return;
      }
      target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
    });
    chat.on('connection', (ws) => ws.send('chat'));
    feed.on('connection', (ws) => ws.send('feed'));
    const port = await listen(server);
    const a = track(new WebSocket(`ws://127.0.0.1:${port}/chat`));
    const b = track(new WebSocket(`ws://127.0.0.1:${port}/feed`));
    expect((await nextMessage(a))[0].toString()).toBe('chat');
    expect((await nextMessage(b))[0].toString()).toBe('feed');
  });

  it('checks the path option (400 otherwise)', async () => {
    const { port } = await startServer({ path: '/ws' });
    await openClient(`ws://127.0.0.1:${port}/ws?x=1`);
    const response = await rawRequest(port, upgradeRequest(port, '', '/other'));
    expect(response).toMatch(/^HTTP\/1\.1 400/);
  });

  it('works on a unix socket (ws+unix: URLs)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wscore-'));
    const path = join(dir, 'ws.sock');
    const server = track(http.createServer());
    const wss = track(new WebSocketServer({ server }));
    wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d as Buffer, { binary: false })));
    server.listen(path);
    await once(server, 'listening');
    try {
      const ws = await openClient(`ws+unix:${path}:/echo`);
      ws.send('over unix');
      expect((await nextMessage(ws))[0].toString()).toBe('over unix');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('handshake policy', () => {
  it('verifyClient (sync) refuses with 401 and sees origin and secure', async () => {
    const seen: Array<{ origin: string | undefined; secure: boolean }> = [];
    const { port } = await startServer({
      verifyClient: (info: { origin: string | undefined; secure: boolean }) => {
        seen.push({ origin: info.origin, secure: info.secure });
        return info.origin === 'https://good.example';
      },
    });
    await openClient(`ws://127.0.0.1:${port}`, undefined, { origin: 'https://good.example' });
    const response = await rawRequest(port, upgradeRequest(port, 'Origin: https://evil.example\r\n'));
    expect(response).toMatch(/^HTTP\/1\.1 401/);
    expect(seen).toEqual([
      { origin: 'https://good.example', secure: false },
      { origin: 'https://evil.example', secure: false },
    ]);
  });

  it('verifyClient (async) can refuse with a code, message and headers', async () => {
    const { port } = await startServer({
      verifyClient: (info, cb) => {
        setTimeout(() => {
          if (info.req.headers['x-token'] === 'ok') cb(true);
          else cb(false, 403, 'no token', { 'X-Why': 'token' });
        }, 5);
      },
    });
    await openClient(`ws://127.0.0.1:${port}`, undefined, { headers: { 'X-Token': 'ok' } });
    const response = await rawRequest(port, upgradeRequest(port));
    expect(response).toMatch(/^HTTP\/1\.1 403/);
    expect(response).toMatch(/X-Why: token/);
    expect(response).toMatch(/no token$/);
  });

  it('handleProtocols picks the subprotocol; the default is the first offered', async () => {
    const { url } = await startServer({ handleProtocols: (protocols) => (protocols.has('b') ? 'b' : false) });
    const ws = await openClient(url, ['a', 'b']);
    expect(ws.protocol).toBe('b');
    const none = await openClient(url, ['c']);
    expect(none.protocol).toBe('');
    const plain = await startServer();
    const first = await openClient(plain.url, ['x', 'y']);
    expect(first.protocol).toBe('x');
  });

  it("emits 'headers' so that headers can be added to the 101", async () => {
    const { wss, url } = await startServer();
    wss.on('headers', (headers) => headers.push('Set-Cookie: a=1'));
    const ws = track(new WebSocket(url));
    const [response] = (await once(ws, 'upgrade')) as [http.IncomingMessage];
    expect(response.headers['set-cookie']).toEqual(['a=1']);
  });

  it('clientTracking: false leaves clients undefined', async () => {
    const { wss, url } = await startServer({ clientTracking: false });
    await openClient(url);
    expect(wss.clients).toBeUndefined();
  });

  it('refuses a bad version with 426 and Sec-WebSocket-Version: 13', async () => {
    const { port } = await startServer();
    const response = await rawRequest(port, upgradeRequest(port).replace('Version: 13', 'Version: 8'));
    expect(response).toMatch(/^HTTP\/1\.1 426/);
    expect(response).toMatch(/Sec-WebSocket-Version: 13/);
  });
});

describe('bad input', () => {
  it('drops a slowloris client at the handshake timeout', async () => {
    const { port } = await startServer({ handshakeTimeout: 150 });
    const socket = net.connect(port, '127.0.0.1');
    track({ close: () => socket.destroy() });
    socket.on('error', () => undefined); // a reset is as good as a close here
    await once(socket, 'connect');
    const request = upgradeRequest(port);
    let i = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed && i < request.length) socket.write(request[i++]!);
    }, 20);
    const started = Date.now();
    await new Promise((resolve) => socket.once('close', resolve));
    clearInterval(trickle);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(100);
    expect(elapsed).toBeLessThan(2000);
    expect(i).toBeLessThan(request.length);
  });

  it('drops a handshake whose async verifyClient never answers, in noServer mode too', async () => {
    const server = track(http.createServer());
    const wss = track(new WebSocketServer({ noServer: true, handshakeTimeout: 100, verifyClient: (_info, _cb) => undefined }));
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => undefined));
    const port = await listen(server);
    const response = await rawRequest(port, upgradeRequest(port));
    expect(response).toBe('');
  });

  it('destroys handshakes in progress on close()', async () => {
    const { wss, port } = await startServer({ verifyClient: (_info, _cb) => undefined });
    const socket = net.connect(port, '127.0.0.1');
    track({ close: () => socket.destroy() });
    await once(socket, 'connect');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write(upgradeRequest(port));
    await new Promise((r) => setTimeout(r, 30));
    const closed = once(socket, 'close');
    await wss.close();
    await closed;
    // Closed by the server without ever being answered 101.
    expect(socket.destroyed).toBe(true);
    expect(Buffer.concat(received).toString('latin1')).not.toMatch(/^HTTP\/1\.1 101/);
  });

  it('answers 431 to more header lines than the limit, and keeps serving', async () => {
    const { port, url } = await startServer();
    const many = Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join('');
    expect(await rawRequest(port, upgradeRequest(port, many))).toMatch(/^HTTP\/1\.1 431/);
    const huge = `X-Big: ${'a'.repeat(20_000)}\r\n`;
    expect(await rawRequest(port, upgradeRequest(port, huge))).toMatch(/^HTTP\/1\.1 431/);
    await openClient(url);
  });

  it('closes 1002 on a protocol violation (an unmasked client frame)', async () => {
    const { wss, port } = await startServer();
    const errors: Error[] = [];
    wss.on('connection', (ws) => ws.on('error', (e) => errors.push(e)));
    const { socket, head } = await rawClient(port);
    socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // unmasked "hi"
    const frames = parseServerFrames(await readAll(socket, head));
    const close = frames.find((f) => f.opcode === 8)!;
    expect(close.payload.readUInt16BE(0)).toBe(1002);
    // ws's short message and code; the detailed ParseFailed is the cause.
    expect([errors[0]?.message, (errors[0] as Error & { code?: string }).code]).toEqual(['Invalid WebSocket frame: MASK must be set', 'WS_ERR_EXPECTED_MASK']);
    expect((errors[0]?.cause as Error).message).toMatch(/unmasked/);
  });

  it('a throwing connection handler closes with 1011', async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (ws) => {
      ws.on('error', () => undefined);
      throw new Error('connection handler bug');
    });
    const ws = await openClient(url);
    expect((await closeEvent(ws))[0]).toBe(1011);
  });

  it('processes nothing after the close frame and delivers everything before it', async () => {
    const { wss, port } = await startServer();
    const received: string[] = [];
    wss.on('connection', (ws) => ws.on('message', (d) => received.push((d as Buffer).toString())));
    const { socket, head } = await rawClient(port);
    const closePayload = Buffer.from([0x03, 0xe8]);
    socket.write(Buffer.concat([clientFrame(1, 'a'), clientFrame(1, 'b'), clientFrame(8, closePayload), clientFrame(1, 'after')]));
    const frames = parseServerFrames(await readAll(socket, head));
    expect(received).toEqual(['a', 'b']);
    expect(frames.map((f) => f.opcode)).toEqual([8]);
    expect(frames[0]!.payload.readUInt16BE(0)).toBe(1000);
  });
});

describe('close()', () => {
  it('sends 1001 to every client and resolves when all are closed', async () => {
    const { wss, url } = await startServer();
    const clients = await Promise.all([openClient(url), openClient(url), openClient(url)]);
    const codes = clients.map((c) => closeEvent(c));
    const closeEmitted = once(wss, 'close');
    await wss.close();
    expect((await Promise.all(codes)).map(([c]) => c)).toEqual([1001, 1001, 1001]);
    await closeEmitted;
    expect(clients.every((c) => c.readyState === WebSocket.CLOSED)).toBe(true);
    await expect(new Promise((resolve) => wss.close(resolve))).resolves.toBeInstanceOf(Error);
  });

  it('does not close an attached http.Server', async () => {
    const server = track(http.createServer());
    const wss = new WebSocketServer({ server });
    await listen(server);
    await wss.close();
    expect(server.listening).toBe(true);
  });
});
