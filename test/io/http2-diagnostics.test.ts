/**
 * WebSocket over HTTP/2 (RFC 8441) beside the server's diagnostics (the wscore:server:*
 * channels, stats()) and the client's proxy option: an extended CONNECT is counted and
 * published as an HTTP/1.1 upgrade is, and a proxied client does not try HTTP/2.
 */
import * as dc from 'node:diagnostics_channel';
import { once } from 'node:events';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { WebSocket, WebSocketServer } from '../../src/io';
import { httpConnectProxy } from '../helpers/proxies';
import { cleanup, closeEvent, nextMessage, openClient, track } from './helpers';
import { closable, listen } from './http2-helpers';

const subscriptions: Array<[string, (message: unknown) => void]> = [];

afterEach(async () => {
  for (const [name, fn] of subscriptions.splice(0)) dc.unsubscribe(name, fn);
  await cleanup();
});

function record<T>(name: string): T[] {
  const seen: T[] = [];
  const fn = (message: unknown): void => void seen.push(message as T);
  dc.subscribe(name, fn);
  subscriptions.push([name, fn]);
  return seen;
}

/** An h2c server advertising RFC 8441, with a WebSocketServer attached. */
async function h2cServer(options: Omit<ConstructorParameters<typeof WebSocketServer>[0], 'server' | 'port' | 'noServer'> = {}): Promise<{ wss: WebSocketServer; port: number }> {
  const server = http2.createServer({ settings: { enableConnectProtocol: true } });
  track(closable(server));
  const wss = track(new WebSocketServer({ server, ...options }));
  return { wss, port: await listen(server) };
}

describe('WebSocket over HTTP/2 and the diagnostics', () => {
  it('publishes wscore:server:upgrade and counts the connection and its messages', async () => {
    const upgrades = record<{ server: unknown; request: { url: string; httpVersion: string }; socket: unknown }>('wscore:server:upgrade');
    const { wss, port } = await h2cServer();
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
    const ws = await openClient(`ws://127.0.0.1:${port}/h2`, undefined, { http2: true });
    ws.send('12345');
    expect((await nextMessage(ws))[0].toString()).toBe('12345');
    expect(upgrades.map((u) => [u.server === wss, u.request.url, u.request.httpVersion])).toEqual([[true, '/h2', '2.0']]);
    const s = wss.stats();
    expect([s.connections, s.handshakes, s.accepted, s.messagesIn, s.messagesOut, s.rejected]).toEqual([1, 0, 1, 1, 1, 0]);
    // 5 payload bytes in a masked frame with a 2-byte header (RFC 6455 §5.2).
    expect(s.bytesIn).toBe(5 + 6);
  });

  it('publishes wscore:server:reject for a refused extended CONNECT and counts it', async () => {
    const rejects = record<{ statusCode: number; message: string }>('wscore:server:reject');
    const { wss, port } = await h2cServer({ verifyClient: () => false });
    const ws = track(new WebSocket(`ws://127.0.0.1:${port}/`, { http2: true }));
    const errors: Error[] = [];
    ws.on('error', (e) => errors.push(e));
    expect((await closeEvent(ws))[0]).toBe(1006);
    expect(errors.map((e) => (e as Error & { statusCode?: number }).statusCode)).toEqual([401]);
    expect(rejects.map((r) => [r.statusCode, r.message])).toEqual([[401, 'Unauthorized']]);
    expect(wss.stats().rejected).toBe(1);
  });
});

describe('WebSocket over HTTP/2 and the proxy option', () => {
  it("http2: true with a proxy throws a TypeError (HTTP/2 through a tunnel is not implemented)", () => {
    expect(() => new WebSocket('ws://127.0.0.1:9/', { http2: true, proxy: 'http://127.0.0.1:9' })).toThrow(TypeError);
  });

  it("http2: 'auto' with a proxy goes through it over HTTP/1.1", async () => {
    const proxy = track(await httpConnectProxy());
    const server = http.createServer();
    const wss = track(new WebSocketServer({ server }));
    track({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    // Every TCP connection the server gets: the proxy's tunnel only, no direct HTTP/2 try.
    let connections = 0;
    server.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const versions: string[] = [];
    wss.on('connection', (ws, req) => {
      versions.push(req.httpVersion);
      ws.send('via proxy');
    });
    const ws = track(new WebSocket(`ws://127.0.0.1:${port}/`, { http2: 'auto', proxy: `http://127.0.0.1:${proxy.port}` }));
    const [data] = await nextMessage(ws);
    expect(data.toString()).toBe('via proxy');
    expect(versions).toEqual(['1.1']);
    expect(proxy.seen.map((s) => s.target)).toEqual([`127.0.0.1:${port}`]);
    expect(connections).toBe(1);
    ws.close();
    await once(ws, 'close');
  });
});
