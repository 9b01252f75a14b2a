import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  connect,
  ConnectionRefusedError,
  DNSError,
  HandshakeTimeoutError,
  InvalidServerHandshakeError,
  InvalidStatusError,
  InvalidURLError,
  TooManyRedirectsError,
  WebSocket,
  WebSocketServer,
} from '../../src/io';
import { selfSignedCert } from '../helpers/cert';
import { describeWithPeer } from '../interop/peers';
import { cleanup, nextMessage, openClient, rawServer, startServer, track } from './helpers';

afterEach(cleanup);

/** A self-signed certificate for CN=localhost, made with openssl for this run. */
let cert: { key: Buffer; cert: Buffer } | null = null;
beforeAll(() => {
  cert = selfSignedCert();
});

async function failure(url: string, options = {}): Promise<Error> {
  const ws = track(new WebSocket(url, options));
  const errors: Error[] = [];
  ws.on('error', (e) => errors.push(e));
  // (events.once would reject on the 'error' event itself.)
  const code = await new Promise<number>((resolve) => ws.once('close', resolve));
  expect(code).toBe(1006);
  expect(errors).toHaveLength(1);
  return errors[0]!;
}

async function httpServer(handler: http.RequestListener): Promise<{ port: number; server: http.Server }> {
  const server = track(http.createServer(handler));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, server };
}

describe('client connection errors', () => {
  it('throws synchronously on an invalid URL', () => {
    expect(() => new WebSocket('ftp://x')).toThrow(InvalidURLError);
    expect(() => new WebSocket('not a url')).toThrow(InvalidURLError);
  });

  it('reports a refused connection', async () => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await failure(`ws://127.0.0.1:${port}`);
    expect(err).toBeInstanceOf(ConnectionRefusedError);
    expect((err as ConnectionRefusedError).code).toBe('ECONNREFUSED');
  });

  it('reports a DNS failure', async () => {
    const err = await failure('ws://does-not-exist.invalid:1/', {
      lookup: (_host: string, _opts: unknown, cb: (err: Error | null) => void) => cb(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND', hostname: 'does-not-exist.invalid' })),
    });
    expect(err).toBeInstanceOf(DNSError);
    expect((err as DNSError).hostname).toBe('does-not-exist.invalid');
  });

  it('times out a handshake the server never answers', async () => {
    const silent = net.createServer(() => undefined);
    track({ close: () => silent.close() });
    const sockets: net.Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const err = await failure(`ws://127.0.0.1:${(silent.address() as AddressInfo).port}`, { handshakeTimeout: 100 });
    for (const s of sockets) s.destroy();
    expect(err).toBeInstanceOf(HandshakeTimeoutError);
  });

  it('exposes status, headers and body of a non-101 response', async () => {
    const { port } = await httpServer((_req, res) => {
      res.writeHead(403, { 'X-Reason': 'nope', 'Content-Type': 'text/plain' });
      res.end('forbidden here');
    });
    const err = (await failure(`ws://127.0.0.1:${port}`)) as InvalidStatusError;
    expect(err).toBeInstanceOf(InvalidStatusError);
    expect(err.statusCode).toBe(403);
    expect(err.headers['x-reason']).toBe('nope');
    expect(err.body.toString()).toBe('forbidden here');
    expect(err.message).toBe('Unexpected server response: 403');
  });

  it("lets an 'unexpected-response' listener handle the response instead", async () => {
    const { port } = await httpServer((_req, res) => {
      res.writeHead(418);
      res.end();
    });
    const ws = track(new WebSocket(`ws://127.0.0.1:${port}`));
    const [, res] = (await once(ws, 'unexpected-response')) as [http.ClientRequest, http.IncomingMessage];
    expect(res.statusCode).toBe(418);
    ws.on('error', () => undefined);
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.terminate();
    await closed;
  });

  it('rejects a wrong Sec-WebSocket-Accept', async () => {
    const { url } = await rawServer(
      () => undefined,
      () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n',
    );
    const err = await failure(url);
    expect(err).toBeInstanceOf(InvalidServerHandshakeError);
    expect(err.message).toMatch(/Accept/);
  });

  it('connect() rejects with the typed error', async () => {
    const { port } = await httpServer((_req, res) => {
      res.writeHead(404);
      res.end('no');
    });
    await expect(connect(`ws://127.0.0.1:${port}`)).rejects.toBeInstanceOf(InvalidStatusError);
  });
});

describe('client options', () => {
  it('sends extra headers, origin and subprotocols', async () => {
    const { wss, url } = await startServer();
    const seen = once(wss, 'connection') as Promise<[WebSocket, http.IncomingMessage]>;
    const ws = await openClient(url, ['chat', 'json'], { headers: { 'X-Custom': 'v1', Cookie: 'a=b' }, origin: 'https://app.example' });
    const [, req] = await seen;
    expect(req.headers['x-custom']).toBe('v1');
    expect(req.headers.cookie).toBe('a=b');
    expect(req.headers.origin).toBe('https://app.example');
    expect(req.headers['sec-websocket-protocol']).toBe('chat, json');
    expect(ws.protocol).toBe('chat');
  });

  it("lets the handshake's own headers win over extra headers, and uses a given Host", async () => {
    const { wss, url } = await startServer();
    const seen = once(wss, 'connection') as Promise<[WebSocket, http.IncomingMessage]>;
    await openClient(url, undefined, { headers: { Host: 'example.test', Upgrade: 'nope', 'Sec-WebSocket-Key': 'bad', Origin: 'https://o.example' } });
    const [, req] = await seen;
    expect(req.headers.host).toBe('example.test');
    expect(req.headers.upgrade).toBe('websocket');
    expect(req.headers.origin).toBe('https://o.example');
  });

  it('uses an http.Agent when given', async () => {
    const { url } = await startServer();
    const agent = new http.Agent();
    let created = 0;
    const original = agent.createConnection.bind(agent);
    agent.createConnection = ((...args: Parameters<typeof original>) => {
      created++;
      return original(...args);
    }) as typeof agent.createConnection;
    await openClient(url, undefined, { agent });
    expect(created).toBe(1);
    agent.destroy();
  });

  it('follows redirects, dropping credentials on a host change', async () => {
    const { wss, port: wsPort } = await startServer();
    const seen: http.IncomingHttpHeaders[] = [];
    wss.on('connection', (_ws, req) => seen.push(req.headers));
    // Same host, another port counts as another origin for credentials.
    const { port } = await httpServer((req, res) => {
      res.writeHead(302, { Location: req.url === '/a' ? '/b' : `ws://localhost:${wsPort}/final` });
      res.end();
    });
    const ws = await openClient(`ws://127.0.0.1:${port}/a`, undefined, {
      followRedirects: true,
      headers: { Authorization: 'Bearer secret', Cookie: 'sid=1', 'X-Keep': 'yes' },
    });
    expect(ws.url).toBe(`ws://localhost:${wsPort}/final`);
    expect(seen[0]!.authorization).toBeUndefined();
    expect(seen[0]!.cookie).toBeUndefined();
    expect(seen[0]!['x-keep']).toBe('yes');
  });

  it('stops after maxRedirects', async () => {
    const { port } = await httpServer((_req, res) => {
      res.writeHead(302, { Location: '/again' });
      res.end();
    });
    const err = await failure(`ws://127.0.0.1:${port}/`, { followRedirects: true, maxRedirects: 2 });
    expect(err).toBeInstanceOf(TooManyRedirectsError);
  });
});

describeWithPeer('openssl', 'TLS (wss://)', () => {
  it('connects to a wss server with a self-signed certificate', async () => {
    expect(cert, 'openssl made the test certificate').not.toBeNull();
    const server = track(https.createServer({ key: cert!.key, cert: cert!.cert }));
    const wss = track(new WebSocketServer({ server }));
    const secure: boolean[] = [];
    wss.on('connection', (ws, req) => {
      secure.push(Boolean((req.socket as { encrypted?: boolean }).encrypted));
      ws.on('message', (d) => ws.send(d as Buffer, { binary: false }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const ws = await openClient(`wss://localhost:${port}`, undefined, { ca: cert!.cert });
    ws.send('secret');
    expect((await nextMessage(ws))[0].toString()).toBe('secret');
    expect(secure).toEqual([true]);
    // Without the CA the certificate is refused.
    const err = await failure(`wss://localhost:${port}`);
    expect((err as { code?: string }).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    // With servername set explicitly and an IP address.
    const byIp = await openClient(`wss://127.0.0.1:${port}`, undefined, { ca: cert!.cert, servername: 'localhost' });
    expect(byIp.readyState).toBe(WebSocket.OPEN);
  });
});
