/**
 * The client side as ws's users rely on it: redirects (credentials, the 'redirect' event,
 * close()/terminate() from its listener), close() from the 'error' listener of a failed
 * handshake, `url`, and ws's error classes for bad arguments.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { InvalidURLError, WebSocket, type VerifyClientInfo } from '../../src/io';
import { cleanup, closeEvent, rawServer, startServer, switchingProtocols, track } from './helpers';

afterEach(cleanup);

/** An http server that answers every upgrade with a redirect to `location(req)`; records request headers. */
async function redirector(location: () => string): Promise<{ port: number; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer();
  server.on('upgrade', (req, socket) => {
    seen.push(req.headers);
    socket.end(`HTTP/1.1 302 Found\r\nLocation: ${location()}\r\nContent-Length: 0\r\n\r\n`);
  });
  track({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, seen };
}

/** A WebSocketServer recording the headers of each upgrade request. */
async function recordingServer(): Promise<{ port: number; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const { wss, port } = await startServer({ verifyClient: (info: VerifyClientInfo) => (seen.push(info.req.headers), true) });
  wss.on('connection', (ws) => ws.close());
  return { port, seen };
}

describe('redirects (followRedirects)', () => {
  it('drops the auth option and URL credentials when redirected to another host or port', async () => {
    const target = await recordingServer();
    const from = await redirector(() => `ws://127.0.0.1:${target.port}/`);
    for (const [url, opts] of [
      [`ws://127.0.0.1:${from.port}/`, { auth: 'user:secret' }],
      [`ws://user:secret@127.0.0.1:${from.port}/`, {}],
    ] as const) {
      const ws = track(new WebSocket(url, { ...opts, followRedirects: true, headers: { Cookie: 'a=b' } }));
      await closeEvent(ws);
    }
    expect(from.seen.map((h) => [h.authorization, h.cookie])).toEqual([
      [`Basic ${Buffer.from('user:secret').toString('base64')}`, 'a=b'],
      [`Basic ${Buffer.from('user:secret').toString('base64')}`, 'a=b'],
    ]);
    expect(target.seen.map((h) => [h.authorization, h.cookie])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
    ]);
  });

  it("keeps the headers when a 'redirect' listener is there, and gives it the new request before it is sent", async () => {
    const target = await recordingServer();
    const from = await redirector(() => `ws://127.0.0.1:${target.port}/next`);
    const ws = track(new WebSocket(`ws://127.0.0.1:${from.port}/`, { auth: 'user:secret', followRedirects: true, headers: { Cookie: 'a=b', 'X-Drop': '1' } }));
    const redirects: string[] = [];
    ws.on('redirect', (url, req) => {
      redirects.push(url);
      req.removeHeader('x-drop');
    });
    await closeEvent(ws);
    expect(redirects).toEqual([`ws://127.0.0.1:${target.port}/next`]);
    expect(target.seen.map((h) => [h.authorization, h.cookie, h['x-drop']])).toEqual([[`Basic ${Buffer.from('user:secret').toString('base64')}`, 'a=b', undefined]]);
  });

  it("close() and terminate() from a 'redirect' listener end the handshake with 'error' then 'close' 1006", async () => {
    for (const method of ['close', 'terminate'] as const) {
      const from = await redirector(() => '/elsewhere');
      const ws = track(new WebSocket(`ws://127.0.0.1:${from.port}/`, { followRedirects: true }));
      const events: string[] = [];
      ws.on('redirect', () => ws[method]());
      ws.on('open', () => events.push('open'));
      ws.on('error', (err) => events.push(`error: ${err.message}`));
      const [code] = await closeEvent(ws);
      expect([...events, code]).toEqual(['error: WebSocket was closed before the connection was established', 1006]);
    }
  });

  it("url follows a relative redirect and keeps the ws: scheme (also for an http: URL)", async () => {
    const target = await recordingServer();
    const from = await redirector(() => `http://127.0.0.1:${target.port}/there?x=1`);
    const ws = track(new WebSocket(`http://127.0.0.1:${from.port}/here`, { followRedirects: true }));
    expect(ws.url).toBe(`ws://127.0.0.1:${from.port}/here`);
    await once(ws, 'open');
    expect(ws.url).toBe(`ws://127.0.0.1:${target.port}/there?x=1`);
    const rel = await redirector(() => '/relative');
    const ws2 = track(new WebSocket(`ws://127.0.0.1:${rel.port}/`, { followRedirects: true, maxRedirects: 1 }));
    ws2.on('error', () => undefined);
    await closeEvent(ws2);
    expect(ws2.url).toBe(`ws://127.0.0.1:${rel.port}/relative`);
  });
});

describe('failed handshakes and bad arguments', () => {
  it("a 101 that breaks RFC 6455 §4.1 fails with ws's message (the detail is the cause)", async () => {
    const cases: Array<[string, (key: string) => string, string[]]> = [
      ['Invalid Upgrade header', (key) => switchingProtocols(key).replace('Upgrade: websocket', 'Upgrade: foo'), []],
      ['Invalid Sec-WebSocket-Accept header', () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n', []],
      ['Server sent a subprotocol but none was requested', (key) => switchingProtocols(key, 'Sec-WebSocket-Protocol: chat\r\n'), []],
      ['Server sent an invalid subprotocol', (key) => switchingProtocols(key, 'Sec-WebSocket-Protocol: other\r\n'), ['chat']],
      ['Server indicated an extension that was not requested', (key) => switchingProtocols(key, 'Sec-WebSocket-Extensions: foo\r\n'), []],
      ['Invalid Sec-WebSocket-Extensions header', (key) => switchingProtocols(key, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=99\r\n'), []],
    ];
    for (const [message, response, protocols] of cases) {
      const { url } = await rawServer(() => undefined, response);
      const ws = track(new WebSocket(url, protocols));
      const errors: Error[] = [];
      ws.on('error', (err) => errors.push(err));
      await closeEvent(ws);
      expect([errors[0]?.message, errors[0]?.cause instanceof Error]).toEqual([message, true]);
    }
  });

  it('createConnection gets the host and the port as the URL writes it (as ws passes them)', async () => {
    const { port } = await startServer();
    const seen: Array<[unknown, unknown]> = [];
    const ws = track(
      new WebSocket('ws://example.invalid:22/', {
        createConnection: ((options: { host?: unknown; port?: unknown }) => {
          seen.push([options.host, options.port]);
          return net.createConnection({ host: '127.0.0.1', port });
        }) as never,
      }),
    );
    await once(ws, 'open');
    expect([seen, ws.url]).toEqual([[['example.invalid', '22']], 'ws://example.invalid:22/']);
  });

  it("the handshake timeout has ws's message", async () => {
    const { url } = await rawServer(() => undefined, () => '');
    const ws = track(new WebSocket(url, { handshakeTimeout: 50 }));
    const errors: Error[] = [];
    ws.on('error', (err) => errors.push(err));
    await closeEvent(ws);
    expect(errors.map((e) => e.message)).toEqual(['Opening handshake has timed out']);
  });

  it("close() or terminate() from the 'error' listener of a failed handshake does not throw", async () => {
    // A peer that answers the upgrade request with a line that is not HTTP.
    const { port } = await rawServer(() => undefined, () => 'foo\r\n');
    for (const method of ['close', 'terminate'] as const) {
      const ws = track(new WebSocket(`ws://127.0.0.1:${port}/`));
      const thrown: unknown[] = [];
      ws.on('error', () => {
        try {
          ws[method]();
        } catch (err) {
          thrown.push(err);
        }
      });
      const [code] = await closeEvent(ws);
      expect([thrown, code]).toEqual([[], 1006]);
    }
  });

  it("throws ws's error classes: SyntaxError for a bad URL or subprotocol, RangeError for a version", () => {
    const urlErr = (() => {
      try {
        new WebSocket('foo');
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(urlErr).toBeInstanceOf(SyntaxError);
    expect(urlErr).toBeInstanceOf(InvalidURLError);
    expect(String(urlErr)).toBe('SyntaxError: Invalid URL: foo');
    const thrown = (url: string): string => {
      try {
        new WebSocket(url);
      } catch (err) {
        return err instanceof SyntaxError ? String(err) : `not a SyntaxError: ${String(err)}`;
      }
      return 'nothing thrown';
    };
    expect(['bad-scheme://x', 'ws+unix:', 'wss://x/#foo'].map(thrown)).toEqual([
      'SyntaxError: The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"',
      "SyntaxError: The URL's pathname is empty",
      'SyntaxError: The URL contains a fragment identifier',
    ]);
    for (const protocols of [['a', 'a'], ['bad protocol'], [''], '', 'a,b', null]) {
      expect(() => new WebSocket('ws://127.0.0.1:9/', protocols as string[])).toThrow(new SyntaxError('An invalid or duplicated subprotocol was specified'));
    }
    expect(() => new WebSocket('ws://127.0.0.1:9/', { protocolVersion: 8 })).toThrow(RangeError);
  });
});
