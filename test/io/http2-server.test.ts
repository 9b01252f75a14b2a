/**
 * WebSocket over HTTP/2 (RFC 8441), server side, with wscore's client and Node's own HTTP/2
 * client (nghttp2) as peers: extended CONNECT and HTTP/1.1 upgrades side by side on one
 * server (the pitfall of docs/http2.md), h2c, the compatibility API, noServer's
 * handleStream(), and the refusals with their HTTP/2 statuses.
 */
import { once } from 'node:events';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';

import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

import { InvalidStatusError, WebSocket, WebSocketServer } from '../../src/io';
import { describeWithPeer } from '../interop/peers';
import { cleanup, closeEvent, nextMessage, openClient, track } from './helpers';
import { closable, listen, rawConnect, secureServer } from './http2-helpers';
import { makeCert, removeCert, type TestCert } from '../helpers/cert';

afterEach(cleanup);

let cert: TestCert | null = null;
beforeAll(() => {
  cert = makeCert();
});
afterAll(() => removeCert(cert));

/** A TLS http2 server (HTTP/1.1 allowed) with a WebSocketServer attached; echoes messages. */
async function echoServer(
  options: Omit<ConstructorParameters<typeof WebSocketServer>[0], 'server' | 'port' | 'noServer'> = {},
  enableConnectProtocol = true,
): Promise<{ port: number; wss: WebSocketServer; requests: IncomingMessage[]; server: http2.Http2SecureServer }> {
  expect(cert, 'openssl made the test certificate').not.toBeNull();
  const server = secureServer(cert!, enableConnectProtocol);
  track(closable(server));
  const wss = track(new WebSocketServer({ server, ...options }));
  const requests: IncomingMessage[] = [];
  wss.on('connection', (ws, req) => {
    requests.push(req);
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
  return { port: await listen(server), wss, requests, server };
}

async function failure(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<Error> {
  const ws = track(new WebSocket(url, options));
  const errors: Error[] = [];
  ws.on('error', (e) => errors.push(e));
  const [code] = await closeEvent(ws);
  expect(code).toBe(1006);
  expect(errors).toHaveLength(1);
  return errors[0]!;
}

describeWithPeer('openssl', 'WebSocket over HTTP/2, server', () => {
  it('serves extended CONNECT and HTTP/1.1 upgrades on one server, with the same API', async () => {
    const { port, requests } = await echoServer({ perMessageDeflate: true });
    const url = `wss://localhost:${port}/chat?room=1`;
    const over2 = await openClient(url, ['v2.chat', 'v1.chat'], { ca: cert!.cert, http2: true });
    const over1 = await openClient(url, ['v2.chat'], { ca: cert!.cert });
    // The server saw one request per HTTP version: the first on an HTTP/2 stream.
    expect(requests.map((r) => r.httpVersion)).toEqual(['2.0', '1.1']);
    expect((requests[0] as unknown as http2.Http2ServerRequest).stream).toBeInstanceOf(Object);
    expect(requests[0]!.url).toBe('/chat?room=1');
    expect(requests[0]!.headers[':protocol']).toBe('websocket');
    for (const ws of [over2, over1]) {
      expect(ws.protocol).toBe('v2.chat');
      expect(ws.extensions).toMatch(/^permessage-deflate/);
      ws.send('héllo');
      expect(await nextMessage(ws)).toEqual([Buffer.from('héllo'), false]);
      ws.send(Buffer.from([0, 1, 2, 255]));
      expect(await nextMessage(ws)).toEqual([Buffer.from([0, 1, 2, 255]), true]);
      const closed = closeEvent(ws);
      ws.close(4001, 'done');
      expect(await closed).toEqual([4001, 'done']);
    }
  });

  it('carries a 16 MiB message each way over one stream (HTTP/2 flow control)', async () => {
    const { port } = await echoServer({ maxPayload: 32 * 1024 * 1024 });
    const ws = await openClient(`wss://localhost:${port}/`, undefined, { ca: cert!.cert, http2: true, maxPayload: 32 * 1024 * 1024 });
    const big = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    ws.send(big);
    const [echo, isBinary] = await nextMessage(ws);
    expect(isBinary).toBe(true);
    expect(echo.equals(big)).toBe(true);
  });

  it('sends 1001 to HTTP/2 clients on close() and reports the server-side close code', async () => {
    const { port, wss } = await echoServer();
    const codes: number[] = [];
    wss.on('connection', (ws) => ws.on('close', (code) => codes.push(code)));
    const ws = await openClient(`wss://localhost:${port}/`, undefined, { ca: cert!.cert, http2: true });
    const closed = closeEvent(ws);
    await wss.close();
    expect((await closed)[0]).toBe(1001);
    expect(codes).toEqual([1001]);
  });

  it('runs over h2c (cleartext HTTP/2 with prior knowledge)', async () => {
    const server = http2.createServer({ settings: { enableConnectProtocol: true } });
    track(closable(server));
    const wss = track(new WebSocketServer({ server }));
    const versions: string[] = [];
    wss.on('connection', (ws, req) => {
      versions.push(req.httpVersion);
      ws.send('over h2c');
    });
    const port = await listen(server);
    const ws = track(new WebSocket(`ws://127.0.0.1:${port}/`, { http2: true }));
    const [data] = await nextMessage(ws);
    expect(data.toString()).toBe('over h2c');
    expect(versions).toEqual(['2.0']);
  });

  it('answers refusals with their HTTP/2 status and never crashes', async () => {
    const { port, wss } = await echoServer({
      path: '/ws',
      verifyClient: (info, cb) => {
        if (info.req.headers['x-token'] === 'ok') cb(true);
        // Headers from application code: a forbidden connection-specific field and a value
        // with CR/LF are dropped, the rest is sent.
        else cb(false, 403, 'no token', { 'X-Reason': 'token', Connection: 'close', 'X-Bad': 'a\r\nSet-Cookie: x=1' });
      },
    });
    const errors: Error[] = [];
    wss.on('error', (e) => errors.push(e));
    const url = `https://localhost:${port}`;
    const tls = { ca: cert!.cert };
    const version = await rawConnect(`${url}/ws`, { 'sec-websocket-version': '8', 'x-token': 'ok' }, tls);
    expect(version.status).toBe(426);
    expect(version.headers['sec-websocket-version']).toBe('13');
    expect((await rawConnect(`${url}/ws`, { 'x-token': 'ok' }, tls)).status).toBe(426);
    expect((await rawConnect(`${url}/other`, { 'sec-websocket-version': '13' }, tls)).status).toBe(400);
    const badOffer = await rawConnect(`${url}/ws`, { 'sec-websocket-version': '13', 'x-token': 'ok', 'sec-websocket-protocol': 'a b' }, tls);
    expect(badOffer.status).toBe(400);
    const refused = await rawConnect(`${url}/ws`, { 'sec-websocket-version': '13' }, tls);
    expect(refused.status).toBe(403);
    expect(refused.body).toBe('no token');
    expect(refused.headers['x-reason']).toBe('token');
    expect(refused.headers['x-bad']).toBeUndefined();
    expect(refused.headers['set-cookie']).toBeUndefined();
    // wscore's client reports the status as over HTTP/1.1.
    const err = await failure(`wss://localhost:${port}/ws`, { ca: cert!.cert, http2: true });
    expect(err).toBeInstanceOf(InvalidStatusError);
    expect((err as InvalidStatusError).statusCode).toBe(403);
    expect((err as InvalidStatusError).body.toString()).toBe('no token');
    // And the server still serves.
    const ok = await openClient(`wss://localhost:${port}/ws`, undefined, { ca: cert!.cert, http2: true, headers: { 'x-token': 'ok' } });
    expect(ok.readyState).toBe(WebSocket.OPEN);
    expect(errors).toEqual([]);
  });

  it('answers 500 when handleProtocols throws, and reports the error', async () => {
    const { port, wss } = await echoServer({
      handleProtocols: () => {
        throw new Error('handler bug');
      },
    });
    const errors: Error[] = [];
    wss.on('error', (e) => errors.push(e));
    const answer = await rawConnect(`https://localhost:${port}/`, { 'sec-websocket-version': '13', 'sec-websocket-protocol': 'chat' }, { ca: cert!.cert });
    expect(answer.status).toBe(500);
    expect(errors.map((e) => e.message)).toEqual(['handler bug']);
  });

  it("answers 200 with the negotiated fields and what 'headers' listeners add, no Sec-WebSocket-Accept", async () => {
    const { port, wss } = await echoServer({ perMessageDeflate: true });
    const lines: string[][] = [];
    wss.on('headers', (h) => {
      lines.push([...h]);
      h.push('Set-Cookie: session=1', 'Upgrade: websocket', 'Bad Name: x');
    });
    const connected = once(wss, 'connection');
    // The raw peer leaves once it has the response (its connection is reset: 1006 here).
    const got = await rawConnect(`https://localhost:${port}/`, { 'sec-websocket-version': '13', 'sec-websocket-protocol': 'chat', 'sec-websocket-extensions': 'permessage-deflate' }, { ca: cert!.cert }, false);
    const [ws] = (await connected) as [WebSocket];
    expect((await closeEvent(ws))[0]).toBe(1006);
    expect(got.status).toBe(200);
    expect(got.headers['sec-websocket-protocol']).toBe('chat');
    expect(got.headers['sec-websocket-extensions']).toBe('permessage-deflate');
    expect(got.headers['sec-websocket-accept']).toBeUndefined();
    expect(got.headers['set-cookie']).toEqual(['session=1']);
    expect(got.headers.upgrade).toBeUndefined();
    expect(lines).toEqual([['HTTP/2 200', 'sec-websocket-protocol: chat', 'sec-websocket-extensions: permessage-deflate']]);
  });

  it('works beside the compatibility API: plain requests still served, other CONNECTs get 405', async () => {
    expect(cert).not.toBeNull();
    const server = secureServer(cert!, true, (_req, res) => res.end('page'));
    track(closable(server));
    const wss = track(new WebSocketServer({ server }));
    wss.on('connection', (ws) => ws.send('ws'));
    const port = await listen(server);
    const ws = track(new WebSocket(`wss://localhost:${port}/`, { ca: cert!.cert, http2: true }));
    expect((await nextMessage(ws))[0].toString()).toBe('ws');
    const page = await new Promise<string>((resolve, reject) => {
      https.get({ host: 'localhost', port, ca: cert!.cert, path: '/' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    expect(page).toBe('page');
    // A plain CONNECT (a proxy request) is not ours: the compatibility API's 405 stands.
    const session = http2.connect(`https://localhost:${port}`, { ca: cert!.cert });
    try {
      const stream = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
      const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
      expect(headers[':status']).toBe(405);
    } finally {
      session.destroy();
    }
  });

  it('serves two WebSocketServers by path on one http2 server; other paths get 400', async () => {
    expect(cert).not.toBeNull();
    const server = secureServer(cert!);
    track(closable(server));
    const a = track(new WebSocketServer({ server, path: '/a' }));
    const b = track(new WebSocketServer({ server, path: '/b' }));
    a.on('connection', (ws) => ws.send('a'));
    b.on('connection', (ws) => ws.send('b'));
    const port = await listen(server);
    for (const name of ['a', 'b']) {
      const ws = track(new WebSocket(`wss://localhost:${port}/${name}`, { ca: cert!.cert, http2: true }));
      expect((await nextMessage(ws))[0].toString()).toBe(name);
    }
    expect((await rawConnect(`https://localhost:${port}/c`, { 'sec-websocket-version': '13' }, { ca: cert!.cert })).status).toBe(400);
  });

  it('reports a stream reset by the client as 1006 and keeps serving', async () => {
    const { port, wss } = await echoServer();
    const closes: number[] = [];
    wss.on('connection', (ws) => ws.on('close', (code) => closes.push(code)));
    const session = http2.connect(`https://localhost:${port}`, { ca: cert!.cert });
    try {
      await once(session, 'remoteSettings');
      const connected = once(wss, 'connection');
      const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', ':authority': `localhost:${port}`, 'sec-websocket-version': '13' }, { endStream: false });
      await once(stream, 'response');
      const [ws] = (await connected) as [WebSocket];
      const closed = closeEvent(ws);
      stream.close(http2.constants.NGHTTP2_CANCEL);
      expect((await closed)[0]).toBe(1006);
    } finally {
      session.destroy();
    }
    expect(closes).toEqual([1006]);
    const ok = await openClient(`wss://localhost:${port}/`, undefined, { ca: cert!.cert, http2: true });
    expect(ok.readyState).toBe(WebSocket.OPEN);
  });

  it('drops a stream whose handshake outlives handshakeTimeout (an async verifyClient that never answers)', async () => {
    const { port, wss } = await echoServer({ handshakeTimeout: 200, verifyClient: (_info, _cb) => undefined });
    const session = http2.connect(`https://localhost:${port}`, { ca: cert!.cert });
    try {
      await once(session, 'remoteSettings');
      const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', ':authority': `localhost:${port}`, 'sec-websocket-version': '13' }, { endStream: false });
      stream.on('error', () => undefined);
      await once(stream, 'close');
      // RFC 8441 §5: an abrupt end is RST_STREAM(CANCEL), as a TCP RST would be.
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    } finally {
      session.destroy();
    }
    expect(wss.clients.size).toBe(0);
  });

  it('terminate() resets the stream with CANCEL (RFC 8441 §5), close() ends it with END_STREAM', async () => {
    const { port, wss } = await echoServer();
    const session = http2.connect(`https://localhost:${port}`, { ca: cert!.cert });
    try {
      await once(session, 'remoteSettings');
      const open = async (): Promise<[http2.ClientHttp2Stream, WebSocket]> => {
        const connected = once(wss, 'connection');
        const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', ':authority': `localhost:${port}`, 'sec-websocket-version': '13' }, { endStream: false });
        stream.on('error', () => undefined);
        await once(stream, 'response');
        return [stream, ((await connected) as [WebSocket])[0]];
      };
      const [reset, ws1] = await open();
      ws1.terminate();
      await once(reset, 'close');
      expect(reset.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
      const [ended, ws2] = await open();
      ended.resume();
      const closed = closeEvent(ws2);
      ws2.close(1000);
      // The peer ends its side without a close frame (a TCP FIN): ours ends too, with
      // END_STREAM and no reset, and the connection reports 1006 (no close frame came).
      ended.end();
      await once(ended, 'close');
      expect(ended.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
      expect((await closed)[0]).toBe(1006);
    } finally {
      session.destroy();
    }
  });

  it("hands failed checks to a 'wsClientError' listener with the stream to answer on", async () => {
    const { port, wss } = await echoServer();
    const seen: number[] = [];
    wss.on('wsClientError', (err, socket) => {
      seen.push((err as Error & { statusCode: number }).statusCode);
      const stream = socket as http2.ServerHttp2Stream;
      stream.respond({ ':status': 418 });
      stream.end('mine');
    });
    const answer = await rawConnect(`https://localhost:${port}/`, { 'sec-websocket-version': '7' }, { ca: cert!.cert });
    expect(seen).toEqual([426]);
    expect(answer.status).toBe(418);
    expect(answer.body).toBe('mine');
  });

  it("handleStream() completes extended CONNECTs for noServer users", async () => {
    expect(cert).not.toBeNull();
    const server = secureServer(cert!);
    track(closable(server));
    const wss = track(new WebSocketServer({ noServer: true }));
    server.on('stream', (stream, headers) => {
      if (headers[':protocol'] === undefined) return;
      wss.handleStream(stream, headers, (ws, req) => ws.send(`hello ${req.httpVersion}`));
    });
    const port = await listen(server);
    const ws = track(new WebSocket(`wss://localhost:${port}/`, { ca: cert!.cert, http2: true }));
    expect((await nextMessage(ws))[0].toString()).toBe('hello 2.0');
  });
});
