/**
 * WebSocket over HTTP/2 (RFC 8441), client side (`http2: true | 'auto'`), against wscore's
 * server and against Node's own http2 server (nghttp2) answering by hand: the SETTINGS
 * check (§3), the fallback to HTTP/1.1, the checks of the 2xx (§5), timeouts and aborts.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

import {
  connect,
  ConnectionRefusedError,
  ExtendedConnectUnsupportedError,
  HandshakeTimeoutError,
  InvalidServerHandshakeError,
  InvalidStatusError,
  WebSocket,
  WebSocketServer,
} from '../../src/io';
import { describeWithPeer } from '../interop/peers';
import { cleanup, closeEvent, nextMessage, track } from './helpers';
import { closable, listen, secureServer } from './http2-helpers';
import { makeCert, removeCert, type TestCert } from '../helpers/cert';

afterEach(cleanup);

let cert: TestCert | null = null;
beforeAll(() => {
  cert = makeCert();
});
afterAll(() => removeCert(cert));

async function failure(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<Error> {
  const ws = track(new WebSocket(url, options));
  const errors: Error[] = [];
  ws.on('error', (e) => errors.push(e));
  const [code] = await closeEvent(ws);
  expect(code).toBe(1006);
  expect(errors).toHaveLength(1);
  return errors[0]!;
}

/** A wscore server on a TLS http2 server; reports the HTTP version of each connection. */
async function versionServer(enableConnectProtocol: boolean): Promise<{ port: number; versions: string[] }> {
  expect(cert, 'openssl made the test certificate').not.toBeNull();
  const server = secureServer(cert!, enableConnectProtocol);
  track(closable(server));
  const wss = track(new WebSocketServer({ server }));
  const versions: string[] = [];
  wss.on('connection', (ws, req) => {
    versions.push(req.httpVersion);
    ws.send(req.httpVersion);
  });
  return { port: await listen(server), versions };
}

/** A TLS http2 server advertising RFC 8441 whose streams `onStream` answers by hand. */
async function handServer(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): Promise<{ port: number; sessions: http2.ServerHttp2Session[] }> {
  expect(cert, 'openssl made the test certificate').not.toBeNull();
  const server = secureServer(cert!);
  track(closable(server));
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => sessions.push(s));
  server.on('stream', onStream);
  return { port: await listen(server), sessions };
}

describeWithPeer('openssl', 'WebSocket over HTTP/2, client', () => {
  it('fails with ExtendedConnectUnsupportedError when the server does not advertise the setting', async () => {
    const { port, versions } = await versionServer(false);
    const err = await failure(`wss://localhost:${port}/`, { ca: cert!.cert, http2: true });
    expect(err).toBeInstanceOf(ExtendedConnectUnsupportedError);
    expect((err as ExtendedConnectUnsupportedError).code).toBe('WS_ERR_NO_EXTENDED_CONNECT');
    expect(versions).toEqual([]);
  });

  it("with http2: 'auto', falls back to HTTP/1.1 when the setting is missing, uses HTTP/2 when present", async () => {
    const without = await versionServer(false);
    const ws1 = track(new WebSocket(`wss://localhost:${without.port}/`, { ca: cert!.cert, http2: 'auto' }));
    expect((await nextMessage(ws1))[0].toString()).toBe('1.1');
    const withIt = await versionServer(true);
    const ws2 = track(new WebSocket(`wss://localhost:${withIt.port}/`, { ca: cert!.cert, http2: 'auto' }));
    expect((await nextMessage(ws2))[0].toString()).toBe('2.0');
  });

  it("with http2: 'auto', falls back to HTTP/1.1 when the server does not speak HTTP/2 (TLS and cleartext)", async () => {
    expect(cert).not.toBeNull();
    const tlsServer = track(https.createServer({ key: cert!.key, cert: cert!.cert }));
    const plainServer = track(http.createServer());
    for (const server of [tlsServer, plainServer]) {
      const wss = track(new WebSocketServer({ server }));
      wss.on('connection', (ws, req) => ws.send(req.httpVersion));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    }
    const tlsPort = (tlsServer.address() as AddressInfo).port;
    const plainPort = (plainServer.address() as AddressInfo).port;
    const a = track(new WebSocket(`wss://localhost:${tlsPort}/`, { ca: cert!.cert, http2: 'auto' }));
    expect((await nextMessage(a))[0].toString()).toBe('1.1');
    const b = track(new WebSocket(`ws://127.0.0.1:${plainPort}/`, { http2: 'auto' }));
    expect((await nextMessage(b))[0].toString()).toBe('1.1');
    // http2: true does not fall back: a typed error instead.
    const err = await failure(`wss://localhost:${tlsPort}/`, { ca: cert!.cert, http2: true });
    expect(err.name).toBe('ConnectError');
  });

  it("does not retry over HTTP/1.1 when the certificate does not verify ('auto')", async () => {
    expect(cert).not.toBeNull();
    const server = secureServer(cert!);
    track(closable(server));
    let connections = 0;
    server.on('connection', () => connections++);
    const port = await listen(server);
    const err = await failure(`wss://localhost:${port}/`, { http2: 'auto' });
    expect((err as { code?: string }).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    expect(connections).toBe(1);
  });

  it("does not retry over HTTP/1.1 when the TCP connect itself fails ('auto')", async () => {
    const probe = http.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await failure(`ws://127.0.0.1:${port}/`, { http2: 'auto' });
    expect(err).toBeInstanceOf(ConnectionRefusedError);
  });

  it('sends the extended CONNECT of RFC 8441 §4-§5 with the extra headers, auth and origin', async () => {
    const seen: http2.IncomingHttpHeaders[] = [];
    const { port } = await handServer((stream, headers) => {
      seen.push(headers);
      stream.respond({ ':status': 200 });
    });
    const ws = track(
      new WebSocket(`wss://user:pw@localhost:${port}/path?q=1`, ['chat'], {
        ca: cert!.cert,
        http2: true,
        origin: 'https://example.com',
        perMessageDeflate: false,
        headers: { Cookie: 'a=1', Connection: 'keep-alive', 'X-Extra': 'yes' },
      }),
    );
    await once(ws, 'open');
    const h = seen[0]!;
    expect(h[':method']).toBe('CONNECT');
    expect(h[':protocol']).toBe('websocket');
    expect(h[':scheme']).toBe('https');
    expect(h[':path']).toBe('/path?q=1');
    expect(h[':authority']).toBe(`localhost:${port}`);
    expect(h['sec-websocket-version']).toBe('13');
    expect(h['sec-websocket-protocol']).toBe('chat');
    expect(h['sec-websocket-key']).toBeUndefined();
    expect(h.origin).toBe('https://example.com');
    expect(h.authorization).toBe(`Basic ${Buffer.from('user:pw').toString('base64')}`);
    expect(h.cookie).toBe('a=1');
    expect(h['x-extra']).toBe('yes');
    expect(h.connection).toBeUndefined();
    // The server chose no subprotocol (allowed: RFC 6455 §4.1).
    expect(ws.protocol).toBe('');
  });

  it('fails the connection when the 200 names a subprotocol or extension that was not offered', async () => {
    const { port } = await handServer((stream, headers) => {
      if (headers[':path'] === '/protocol') stream.respond({ ':status': 200, 'sec-websocket-protocol': 'other' });
      else stream.respond({ ':status': 200, 'sec-websocket-extensions': 'x-unknown' });
    });
    const a = await failure(`wss://localhost:${port}/protocol`, { ca: cert!.cert, http2: true, protocols: ['chat'] });
    expect(a).toBeInstanceOf(InvalidServerHandshakeError);
    expect(a.message).toBe('Server sent an invalid subprotocol');
    const b = await failure(`wss://localhost:${port}/extension`, { ca: cert!.cert, http2: true });
    expect(b).toBeInstanceOf(InvalidServerHandshakeError);
  });

  it('reports a refusal as InvalidStatusError with at most 64 KiB of its body', async () => {
    const { port } = await handServer((stream) => {
      stream.respond({ ':status': 403, 'x-why': 'banned' });
      stream.end(Buffer.alloc(200 * 1024, 0x61));
    });
    const err = await failure(`wss://localhost:${port}/`, { ca: cert!.cert, http2: true });
    expect(err).toBeInstanceOf(InvalidStatusError);
    const e = err as InvalidStatusError;
    expect(e.statusCode).toBe(403);
    expect(e.headers['x-why']).toBe('banned');
    expect(e.headers[':status']).toBeUndefined();
    expect(e.body.length).toBe(64 * 1024);
  });

  it('times out a server that never answers, and closes its HTTP/2 connection', async () => {
    const { port, sessions } = await handServer(() => undefined);
    const err = await failure(`wss://localhost:${port}/`, { ca: cert!.cert, http2: true, handshakeTimeout: 200 });
    expect(err).toBeInstanceOf(HandshakeTimeoutError);
    expect(sessions).toHaveLength(1);
    if (!sessions[0]!.closed && !sessions[0]!.destroyed) await once(sessions[0]!, 'close');
  });

  it('close() during the HTTP/2 handshake ends it quietly (1006) and closes the connection', async () => {
    let arrived!: () => void;
    const streamArrived = new Promise<void>((resolve) => (arrived = resolve));
    const { port, sessions } = await handServer(() => arrived());
    const ws = track(new WebSocket(`wss://localhost:${port}/`, { ca: cert!.cert, http2: true }));
    const errors: Error[] = [];
    ws.on('error', (e) => errors.push(e));
    // Once the CONNECT reached the server, the abort tears down a live session.
    await streamArrived;
    ws.close();
    expect((await closeEvent(ws))[0]).toBe(1006);
    expect(errors).toHaveLength(1);
    if (!sessions[0]!.closed && !sessions[0]!.destroyed) await once(sessions[0]!, 'close');
  });

  it('the async connect() takes http2 too', async () => {
    const { port } = await versionServer(true);
    const ws = track(await connect(`wss://localhost:${port}/`, { ca: cert!.cert, http2: true }));
    expect((await ws.recv()).toString()).toBe('2.0');
  });
});
