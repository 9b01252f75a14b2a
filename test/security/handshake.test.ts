/**
 * Bad-input suite, opening handshake (docs/security.md): hostile request heads against the
 * server, hostile responses against the client, and header injection through options. For
 * each: the answer is the right HTTP status (or a typed client error), the server stays up,
 * and a witness client connected throughout still echoes.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { SecurityError, RequestParser } from '../../src/handshake/http11';
import { WebSocket, WebSocketServer, InvalidServerHandshakeError, InvalidURLError, type VerifyClientInfo } from '../../src/io';
import { ConnectionType, WSConnection } from '../../src/protocol';
import {
  arena,
  cleanup,
  collect,
  httpExchange,
  KiB,
  mb,
  MiB,
  note,
  openClient,
  peakGrowth,
  rawServer,
  rawSocket,
  sleep,
  statusOf,
  switchingProtocols,
  track,
  upgradeRequest,
  within,
} from './helpers';

afterEach(cleanup);

/** An http.Server on `host`:0 with `options`, listening, tracked. */
async function listen(server: http.Server | https.Server | net.Server, host = '127.0.0.1'): Promise<number> {
  track(server);
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/**
 * A WebSocketServer attached to an http.Server that accepts request heads up to `maxHeaderSize`
 * (so that a parser's behaviour on very long header values can be observed: the standalone
 * default of 16 KiB would stop them before any header parser runs), with an echo handler.
 */
async function bigHeadServer(maxHeaderSize: number, options: ConstructorParameters<typeof WebSocketServer>[0] = {}): Promise<{ port: number; url: string }> {
  const server = http.createServer({ maxHeaderSize });
  const wss = track(new WebSocketServer({ server, ...options }));
  wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d as Buffer, { binary: b })));
  const port = await listen(server);
  return { port, url: `ws://127.0.0.1:${port}` };
}

/** Sends `request` and returns [status, milliseconds until the full answer]. */
async function timedStatus(port: number, request: string | Buffer): Promise<[number, number]> {
  const started = performance.now();
  const response = await httpExchange(port, request);
  return [statusOf(response), performance.now() - started];
}

/**
 * A bound for work that must be linear: a 512 KiB header parsed in linear time takes
 * milliseconds; a quadratic parser needs ~10^11 steps (minutes), an exponential one never
 * ends. 5 s is ~100x the linear cost on a loaded 2-core machine and far below the others.
 */
const LINEAR_BOUND_MS = 5000;

describe('ReDoS in header parsing', () => {
  it('a long Sec-WebSocket-Protocol with pathological spacing is answered in linear time (ws CVE-2021-32640)', async () => {
    const { port, url } = await bigHeadServer(2 * MiB);
    const witness = await openClient(url);
    const n = 512 * KiB;
    const values = [
      `b${' '.repeat(n)}x`, // ws's proof of concept: spaces between two tokens
      `b${' ,'.repeat(n / 2)}x`,
      `${', '.repeat(n / 2)}b`,
      `b${'\t'.repeat(n)},c`,
      `${'a'.repeat(n)} x`,
    ];
    for (const value of values) {
      const [status, ms] = await timedStatus(port, upgradeRequest(port, `Sec-WebSocket-Protocol: ${value}\r\n`));
      note('Sec-WebSocket-Protocol ReDoS', { length: value.length, status, ms: Math.round(ms) });
      expect([101, 400]).toContain(status);
      expect(ms).toBeLessThan(LINEAR_BOUND_MS);
    }
    const echoed = once(witness, 'message');
    witness.send('still here');
    expect(String((await within(echoed, 5000, 'witness echo'))[0])).toBe('still here');
  });

  it('a long Sec-WebSocket-Extensions with pathological quoting and spacing is answered in linear time (websocket-extensions CVE-2020-7662)', async () => {
    const { port, url } = await bigHeadServer(2 * MiB, { perMessageDeflate: true });
    const witness = await openClient(url);
    const n = 256 * KiB;
    const values = [
      `a;b="${'\\c'.repeat(n)}`, // websocket-extensions' proof of concept: unterminated escapes
      `a;b="${'\\'.repeat(n)}`,
      `permessage-deflate${' ; '.repeat(n / 2)}x`,
      `permessage-deflate;${' '.repeat(n)}=`,
      `permessage-deflate; client_max_window_bits${';client_max_window_bits'.repeat(n / 24)}`,
      `${'a,'.repeat(n)}permessage-deflate`,
      `permessage-deflate; x="${'a'.repeat(n)}`,
      `permessage-deflate; ${'x=1; '.repeat(n / 5)}`,
    ];
    for (const value of values) {
      const [status, ms] = await timedStatus(port, upgradeRequest(port, `Sec-WebSocket-Extensions: ${value}\r\n`));
      note('Sec-WebSocket-Extensions ReDoS', { length: value.length, status, ms: Math.round(ms) });
      expect([101, 400]).toContain(status);
      expect(ms).toBeLessThan(LINEAR_BOUND_MS);
    }
    const echoed = once(witness, 'message');
    witness.send('still here');
    expect(String((await within(echoed, 5000, 'witness echo'))[0])).toBe('still here');
  });

  it('the standalone defaults cut a long header value at 16 KiB (431) before any parser sees it', async () => {
    const a = await arena({ perMessageDeflate: true });
    const [status] = await timedStatus(a.port, upgradeRequest(a.port, `Sec-WebSocket-Protocol: b${' '.repeat(64 * KiB)}x\r\n`));
    expect(status).toBe(431);
    await a.checkWitness();
  });
});

describe('extension and parameter names that are Object.prototype members (ws NSP-550)', () => {
  const hostile = [
    'constructor',
    '__proto__',
    ',;constructor',
    'constructor; constructor=1',
    '__proto__; polluted=1',
    'hasOwnProperty, toString, valueOf',
    'permessage-deflate; __proto__',
    'permessage-deflate; constructor=1',
    'permessage-deflate; hasOwnProperty; toString=9',
    'permessage-deflate, __proto__; permessage-deflate',
  ];

  it('the server answers every such offer (101 without the extension, or 400) and nothing is polluted', async () => {
    const a = await arena({ perMessageDeflate: true });
    for (const value of hostile) {
      const response = await httpExchange(a.port, upgradeRequest(a.port, `Sec-WebSocket-Extensions: ${value}\r\n`));
      const status = statusOf(response);
      expect([value, [101, 400].includes(status)]).toEqual([value, true]);
      if (status === 101) {
        // Only a well-formed permessage-deflate offer may be accepted, never the hostile names.
        const ext = /sec-websocket-extensions: *([^\r]*)/i.exec(response)?.[1];
        expect([value, ext === undefined || ext.startsWith('permessage-deflate')]).toEqual([value, true]);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    await a.checkWitness();
  });

  it('the client fails a response naming such extensions (InvalidServerHandshakeError), without crashing', async () => {
    for (const value of ['constructor', '__proto__', 'permessage-deflate; __proto__=1', 'toString']) {
      const { port } = await rawServer(
        () => undefined,
        (key) => switchingProtocols(key, `Sec-WebSocket-Extensions: ${value}\r\n`),
      );
      const ws = track(new WebSocket(`ws://127.0.0.1:${port}`));
      const [err] = (await within(once(ws, 'error'), 5000, 'the client error')) as [Error];
      expect([value, err instanceof InvalidServerHandshakeError]).toEqual([value, true]);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('header count and size floods', () => {
  it('too many headers get 431 in every mode, and headers Node drops past maxHeadersCount cannot crash the server (ws CVE-2024-37890)', async () => {
    const a = await arena();
    for (const count of [101, 1000, 2500]) {
      const many = Array.from({ length: count }, (_, i) => `X-H${i}: v\r\n`).join('');
      expect([count, statusOf(await httpExchange(a.port, upgradeRequest(a.port, many)))]).toEqual([count, 431]);
    }
    // ws's crash: Node keeps only the first http.Server#maxHeadersCount (2000) headers, so
    // Sec-WebSocket-Key after 2,500 junk headers vanishes and ws read `undefined`. Here a
    // server that allows the count and the size sees the key missing and answers 400.
    const { port, url } = await bigHeadServer(4 * MiB, { maxHeaderCount: 5000 });
    const witness = await openClient(url);
    const junk = Array.from({ length: 2500 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${junk}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const status = statusOf(await httpExchange(port, request));
    expect([400, 426]).toContain(status);
    const echoed = once(witness, 'message');
    witness.send('alive');
    expect(String((await within(echoed, 5000, 'witness echo'))[0])).toBe('alive');
    await a.checkWitness();
  });

  it('a 20 MB header fed one byte at a time is cut at 16 KiB with 431, memory bounded', async () => {
    const a = await arena();
    const socket = await rawSocket(a.port);
    socket.setNoDelay(true);
    const response = collect(socket, 60_000);
    const head = Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: `);
    const total = 20 * 1000 * 1000;
    let sent = 0;
    const growth = await peakGrowth(async () => {
      // One byte per write, each waiting for the previous one to be handed to the kernel;
      // the loop stops as soon as the server has closed (bounded by `total` in any case).
      while (sent < total && !socket.destroyed && socket.writable) {
        const byte = sent < head.length ? head.subarray(sent, sent + 1) : Buffer.from('a');
        await new Promise<void>((resolve) => socket.write(byte, () => resolve()));
        sent++;
        if (sent % 64 === 0) await new Promise((r) => setImmediate(r));
      }
      return response;
    });
    const text = (await growth.result).toString('latin1');
    note('20 MB header one byte at a time', { bytesSent: sent, status: statusOf(text), rss: growth.rss });
    expect(statusOf(text)).toBe(431);
    // The server stopped reading at its 16 KiB limit: we could not push more than that and
    // the kernel buffers (a few hundred KiB at most) before the connection was gone.
    expect(sent).toBeLessThan(2 * MiB);
    expect(growth.rss, `rss grew by ${mb(growth.rss)}`).toBeLessThan(64 * MiB);
    await a.checkWitness();
  });

  it('the sans-IO parsers stop a 20 MB head fed byte by byte at their limit, scanning each byte once', () => {
    const parser = new RequestParser();
    const head = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Big: ');
    let fed = 0;
    let error: unknown = null;
    try {
      for (; fed < 20_000_000; fed++) parser.feed(fed < head.length ? head.subarray(fed, fed + 1) : Buffer.from('a'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SecurityError);
    expect((error as SecurityError).statusCode).toBe(431);
    expect(fed).toBeLessThanOrEqual(16 * KiB);
    // The same through the server-side WSConnection (the sans-IO handshake).
    const conn = new WSConnection(ConnectionType.SERVER);
    let thrown: unknown = null;
    let i = 0;
    try {
      for (; i < 20_000_000; i++) {
        conn.receiveData(i < head.length ? head.subarray(i, i + 1) : Buffer.from('a'));
        for (const _ of conn.events()) void _;
      }
    } catch (err) {
      thrown = err;
    }
    expect((thrown as { statusCode?: number }).statusCode).toBe(431);
    expect(i).toBeLessThanOrEqual(16 * KiB);
  });

  it('slowloris: 60 handshakes trickled or idle are dropped at handshakeTimeout while a new client gets in', async () => {
    // 1.5 s: a legitimate handshake on a loaded machine fits; the trickle (a byte per
    // 20 ms of a ~200-byte request) does not.
    const a = await arena({ handshakeTimeout: 1500 });
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 60; i++) sockets.push(await rawSocket(a.port));
    const request = upgradeRequest(a.port);
    let at = 0;
    // Half trickle a byte every 20 ms (never finishing in time), half send nothing.
    const trickle = setInterval(() => {
      for (let i = 0; i < sockets.length; i += 2) if (!sockets[i]!.destroyed && at < request.length) sockets[i]!.write(request[at]!);
      at++;
    }, 20);
    try {
      const closed = Promise.all(sockets.map((s) => new Promise((resolve) => (s.destroyed ? resolve(null) : s.once('close', resolve)))));
      // Meanwhile a legitimate client connects and talks.
      const fresh = await openClient(a.url);
      const echoed = once(fresh, 'message');
      fresh.send('during the attack');
      expect(String((await within(echoed, 5000, 'echo'))[0])).toBe('during the attack');
      await within(closed, 10_000, 'every slowloris connection to be dropped');
    } finally {
      clearInterval(trickle);
    }
    expect(at).toBeLessThan(request.length);
    await a.checkWitness();
  });
});

describe('CR/LF injection (undici CVE-2026-1527)', () => {
  /** A TCP server recording every byte a client sends it. */
  async function recorder(): Promise<{ port: number; bytes: () => string }> {
    const got: Buffer[] = [];
    const server = net.createServer((s) => {
      s.on('data', (d: Buffer) => got.push(d));
      s.on('error', () => undefined);
    });
    const port = await listen(server);
    return { port, bytes: () => Buffer.concat(got).toString('latin1') };
  }

  it('client: subprotocols, header names and values, Origin, Host and the URL cannot smuggle header lines', async () => {
    const { port, bytes } = await recorder();
    const base = `ws://127.0.0.1:${port}`;
    const attempts: Array<[string, () => WebSocket]> = [
      ['subprotocol', () => new WebSocket(`${base}/`, ['chat\r\nX-Injected: 1'])],
      ['subprotocol with a space', () => new WebSocket(`${base}/`, ['chat X-Injected'])],
      ['header value', () => new WebSocket(`${base}/`, { headers: { 'X-A': 'v\r\nX-Injected: 1' } })],
      ['header value, bare LF', () => new WebSocket(`${base}/`, { headers: { 'X-A': 'v\nX-Injected: 1' } })],
      ['header value, U+010A (latin1 line feed)', () => new WebSocket(`${base}/`, { headers: { 'X-A': 'v\u010aX-Injected: 1' } })],
      ['header name', () => new WebSocket(`${base}/`, { headers: { 'X-A\r\nX-Injected': '1' } })],
      ['origin', () => new WebSocket(`${base}/`, { origin: 'http://a\r\nX-Injected: 1' })],
      ['host', () => new WebSocket(`${base}/`, { headers: { Host: 'a\r\nX-Injected: 1' } })],
      ['url path', () => new WebSocket(`${base}/a\r\nX-Injected: 1`)],
      ['url with a request line', () => new WebSocket(`${base}/a HTTP/1.1\r\nX-Injected: 1\r\n\r\n`)],
    ];
    for (const [name, make] of attempts) {
      let thrown: unknown = null;
      try {
        const ws = make();
        track(ws);
        ws.on('error', () => undefined);
      } catch (err) {
        thrown = err;
      }
      // Refused synchronously, as ws does for invalid options (a TypeError for headers,
      // as Node's ERR_INVALID_CHAR; InvalidURLError for URLs; LocalProtocolError for tokens).
      expect([name, thrown instanceof Error]).toEqual([name, true]);
    }
    // Percent-encoding stays encoded: the path is sent as given, no line is added.
    const ws = track(new WebSocket(`${base}/a%0d%0aX-Injected:%201`));
    ws.on('error', () => undefined);
    await sleep(200);
    const sent = bytes();
    expect(sent).toContain('GET /a%0d%0aX-Injected:%201 HTTP/1.1\r\n');
    expect(sent.split('\r\n').filter((l) => /^x-injected/i.test(l))).toEqual([]);
    expect(InvalidURLError).toBeDefined();
  });

  it('server: header lines from verifyClient and a subprotocol from handleProtocols cannot inject lines either', async () => {
    const a = await arena({
      verifyClient: (info: VerifyClientInfo, cb: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => {
        // An application that echoes request data into a rejection's headers.
        if (info.req.headers['x-reject'] !== undefined) cb(false, 403, 'no', { 'X-Echo': `a\r\nSet-Cookie: pwned=1`, 'X-Ok': 'fine', 'Bad Name': 'x' });
        else if (info.req.headers['x-bad-status'] !== undefined) cb(false, '200\r\nSet-Cookie: pwned=1' as unknown as number);
        else cb(true);
      },
      handleProtocols: (protocols) => (protocols.has('evil') ? 'x\r\nSet-Cookie: pwned=1' : false),
    });
    const warnings: Array<string | Error> = [];
    const emitWarning = process.emitWarning;
    process.emitWarning = ((w: string | Error) => void warnings.push(w)) as typeof process.emitWarning;
    try {
      const rejected = await httpExchange(a.port, upgradeRequest(a.port, 'X-Reject: 1\r\n'));
      expect(statusOf(rejected)).toBe(403);
      expect(rejected).toContain('\r\nX-Ok: fine\r\n');
      expect(rejected).not.toMatch(/set-cookie/i);
      const badStatus = await httpExchange(a.port, upgradeRequest(a.port, 'X-Bad-Status: 1\r\n'));
      expect(statusOf(badStatus)).toBe(500);
      expect(badStatus).not.toMatch(/set-cookie/i);
      // A handleProtocols answer with CR/LF: 500 for that request, a warning (no 'error'
      // listener), and the server keeps serving.
      const evil = await httpExchange(a.port, upgradeRequest(a.port, 'Sec-WebSocket-Protocol: evil\r\n'));
      expect(statusOf(evil)).toBe(500);
      expect(evil).not.toMatch(/set-cookie/i);
      expect(warnings.some((w) => /token/.test(String(w instanceof Error ? w.message : w)))).toBe(true);
    } finally {
      process.emitWarning = emitWarning;
    }
    await a.checkWitness();
  });

  it('server: a verifyClient that throws on unexpected input answers 500 and the server lives', async () => {
    const a = await arena({
      verifyClient: (info: VerifyClientInfo) => {
        if (info.req.headers.cookie !== undefined) JSON.parse(info.req.headers.cookie); // throws on junk
        return true;
      },
    });
    const warnings: Array<string | Error> = [];
    const emitWarning = process.emitWarning;
    process.emitWarning = ((w: string | Error) => void warnings.push(w)) as typeof process.emitWarning;
    try {
      const response = await httpExchange(a.port, upgradeRequest(a.port, 'Cookie: {not json\r\n'));
      expect(statusOf(response)).toBe(500);
      expect(warnings.map((w) => (w instanceof Error ? w.name : w))).toEqual(['SyntaxError']);
    } finally {
      process.emitWarning = emitWarning;
    }
    await a.checkWitness();
  });
});

describe('invalid UTF-8 and bytes in headers', () => {
  it('non-UTF-8 and non-token bytes in handshake headers get 400, others pass as latin1, nothing crashes', async () => {
    const seen: Array<string | undefined> = [];
    const a = await arena({ verifyClient: (info: VerifyClientInfo) => (seen.push(info.origin), true) });
    const raw = (extra: Buffer): Buffer => Buffer.concat([Buffer.from(upgradeRequest(a.port, '').slice(0, -2), 'latin1'), extra, Buffer.from('\r\n')]);
    const cases: Array<[string, Buffer, number[]]> = [
      ['subprotocol with 0xC3 0x28', Buffer.from([...Buffer.from('Sec-WebSocket-Protocol: ch'), 0xc3, 0x28, ...Buffer.from('at\r\n')]), [400]],
      ['subprotocol with 0xFF', Buffer.from([...Buffer.from('Sec-WebSocket-Protocol: '), 0xff, 0xfe, 0x0d, 0x0a]), [400]],
      ['extension with 0x80', Buffer.from([...Buffer.from('Sec-WebSocket-Extensions: permessage-deflate; a='), 0x80, 0x0d, 0x0a]), [101, 400]],
      ['key with 0xFF', Buffer.from([...Buffer.from('Sec-WebSocket-Key: '), 0xff, 0x0d, 0x0a]), [400]],
      ['origin with invalid UTF-8', Buffer.from([...Buffer.from('Origin: http://'), 0xed, 0xa0, 0x80, 0x0d, 0x0a]), [101]],
      ['header name with 0x80', Buffer.from([0x58, 0x80, ...Buffer.from(': v\r\n')]), [400]],
      ['NUL in a value', Buffer.from([...Buffer.from('X-A: a'), 0x00, ...Buffer.from('b\r\n')]), [400]],
    ];
    for (const [name, extra, allowed] of cases) {
      const status = statusOf(await httpExchange(a.port, raw(extra)));
      expect([name, allowed.includes(status)]).toEqual([name, true]);
    }
    expect(seen.some((o) => o?.startsWith('http://'))).toBe(true);
    await a.checkWitness();
  });

  it('the client fails a 101 whose Sec-WebSocket-Protocol is not a token or was not offered', async () => {
    for (const value of [Buffer.from([0x63, 0xff]), Buffer.from('other'), Buffer.from('chat, other')]) {
      // The header value is raw bytes (0xFF is not text): the head is built as a Buffer.
      const { port } = await rawServer(
        () => undefined,
        (key) => Buffer.concat([Buffer.from(switchingProtocols(key).slice(0, -2), 'latin1'), Buffer.from('Sec-WebSocket-Protocol: '), value, Buffer.from('\r\n\r\n')]),
      );
      const ws = track(new WebSocket(`ws://127.0.0.1:${port}`, ['chat']));
      const [err] = (await within(once(ws, 'error'), 5000, 'the client error')) as [Error];
      expect(err).toBeInstanceOf(InvalidServerHandshakeError);
    }
  });
});

describe('redirects carrying credentials', () => {
  /** A WebSocketServer on `host` recording the headers of each handshake. */
  async function recordingServer(host: string): Promise<{ port: number; seen: http.IncomingHttpHeaders[] }> {
    const wss = track(new WebSocketServer({ host, port: 0 }));
    await once(wss, 'listening');
    const seen: http.IncomingHttpHeaders[] = [];
    wss.on('connection', (_ws, req) => seen.push(req.headers));
    return { port: (wss.address() as AddressInfo).port, seen };
  }

  const credentials = { Authorization: 'Bearer secret', Cookie: 'sid=1', 'X-Keep': 'yes' };

  it('a redirect to another host (127.0.0.2) drops Authorization and Cookie, URL credentials included', async () => {
    const target = await recordingServer('127.0.0.2');
    const redirector = http.createServer((_req, res) => {
      res.writeHead(302, { Location: `ws://127.0.0.2:${target.port}/landing` });
      res.end();
    });
    const port = await listen(redirector);
    const ws = await openClient(`ws://user:pass@127.0.0.1:${port}/start`, undefined, { followRedirects: true, headers: credentials });
    expect(ws.url).toBe(`ws://127.0.0.2:${target.port}/landing`);
    expect(target.seen[0]!.authorization).toBeUndefined();
    expect(target.seen[0]!.cookie).toBeUndefined();
    expect(target.seen[0]!['x-keep']).toBe('yes');
  });

  it('a redirect within the same host and port keeps them (the control case)', async () => {
    const target = await recordingServer('127.0.0.1');
    const server = http.createServer();
    const wss = track(new WebSocketServer({ noServer: true }));
    const seen: http.IncomingHttpHeaders[] = [];
    server.on('request', (_req, res) => {
      res.writeHead(302, { Location: '/landing' });
      res.end();
    });
    server.on('upgrade', (req: http.IncomingMessage, socket, head) => {
      if (req.url !== '/landing') {
        socket.end('HTTP/1.1 302 Found\r\nLocation: /landing\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      seen.push(req.headers);
      wss.handleUpgrade(req, socket, head, () => undefined);
    });
    const port = await listen(server);
    await openClient(`ws://127.0.0.1:${port}/start`, undefined, { followRedirects: true, headers: credentials });
    expect(seen[0]!.authorization).toBe('Bearer secret');
    expect(seen[0]!.cookie).toBe('sid=1');
    expect(target.seen).toEqual([]);
  });

  it('a redirect from wss to ws on the same host and port drops them (https -> http, as ws)', async () => {
    // One port speaking both TLS and plain HTTP (the first byte tells), so that only the
    // scheme changes: wss://localhost:P/start -> ws://localhost:P/landing.
    const fixtures = join(__dirname, 'fixtures');
    const tls = { key: readFileSync(join(fixtures, 'localhost-key.pem')), cert: readFileSync(join(fixtures, 'localhost-cert.pem')) };
    const secure = https.createServer(tls);
    const plain = http.createServer();
    const wss = track(new WebSocketServer({ noServer: true }));
    const seen: Array<{ secure: boolean; headers: http.IncomingHttpHeaders }> = [];
    const onUpgrade = (isSecure: boolean) => (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void => {
      if (req.url === '/start') {
        socket.end(`HTTP/1.1 302 Found\r\nLocation: ws://localhost:${port}/landing\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        return;
      }
      seen.push({ secure: isSecure, headers: req.headers });
      wss.handleUpgrade(req, socket, head, () => undefined);
    };
    secure.on('upgrade', onUpgrade(true));
    plain.on('upgrade', onUpgrade(false));
    const front = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('readable', () => {
        const first = socket.read(1) as Buffer | null;
        if (first === null) return;
        socket.unshift(first);
        (first[0] === 0x16 ? secure : plain).emit('connection', socket);
      });
    });
    track({ close: () => (secure.close(), plain.close()) });
    const port = await listen(front);
    const ws = await openClient(`wss://localhost:${port}/start`, undefined, { followRedirects: true, headers: credentials, ca: tls.cert });
    expect(ws.url).toBe(`ws://localhost:${port}/landing`);
    expect(seen.map((s) => s.secure)).toEqual([false]);
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(seen[0]!.headers.cookie).toBeUndefined();
    expect(seen[0]!.headers['x-keep']).toBe('yes');
  });

  it('a redirect to a non-WebSocket scheme fails the connection', async () => {
    const redirector = http.createServer((_req, res) => {
      res.writeHead(302, { Location: 'file:///etc/passwd' });
      res.end();
    });
    const port = await listen(redirector);
    const ws = track(new WebSocket(`ws://127.0.0.1:${port}/`, { followRedirects: true, headers: credentials }));
    const [err] = (await within(once(ws, 'error'), 5000, 'the client error')) as [Error];
    expect(err).toBeInstanceOf(InvalidURLError);
  });
});
