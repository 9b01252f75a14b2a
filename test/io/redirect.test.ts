/**
 * Redirects (followRedirects), the cases the other suites leave out: credentials are kept on
 * the same host and port, and dropped on wss: to ws: even there (curl's and ws's rule);
 * without followRedirects a 3xx is an InvalidStatusError that keeps the Location.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

import { afterEach, beforeAll, expect, it } from 'vitest';

import { connect, InvalidStatusError, WebSocketServer } from '../../src/io';
import { describeWithPeer } from '../interop/peers';
import { selfSignedCert } from '../helpers/cert';
import { cleanup, track } from './helpers';

afterEach(cleanup);

let cert: { key: Buffer; cert: Buffer } | null = null;
beforeAll(() => {
  cert = selfSignedCert();
});

const BASIC = `Basic ${Buffer.from('user:secret').toString('base64')}`;

/**
 * One port serving TLS and plaintext (by the first byte: 0x16 is a TLS handshake record).
 * Upgrades to `/redirect` get a 302 to `location(port)`; others are accepted. Records headers.
 */
async function dualServer(location: (port: number) => string): Promise<{ port: number; seen: Array<[string, http.IncomingHttpHeaders]> }> {
  const seen: Array<[string, http.IncomingHttpHeaders]> = [];
  let port = 0;
  const plain = http.createServer();
  const secure = https.createServer({ key: cert!.key, cert: cert!.cert });
  for (const server of [plain, secure]) {
    const wss = track(new WebSocketServer({ noServer: true }));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      const scheme = server === secure ? 'wss' : 'ws';
      seen.push([`${scheme} ${req.url}`, req.headers]);
      if (req.url === '/redirect') socket.end(`HTTP/1.1 302 Found\r\nLocation: ${location(port)}\r\nContent-Length: 0\r\n\r\n`);
      else wss.handleUpgrade(req, socket, head, (ws) => ws.close());
    });
  }
  const front = track(
    net.createServer((socket) => {
      socket.once('readable', () => {
        const first = socket.read(1) as Buffer | null;
        if (first === null) return;
        socket.unshift(first);
        (first[0] === 0x16 ? secure : plain).emit('connection', socket);
      });
    }),
  );
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  port = (front.address() as AddressInfo).port;
  return { port, seen };
}

describeWithPeer('openssl', 'redirects: credentials by origin', () => {
  it('keeps credentials on the same host and port (relative Location), drops them from wss: to ws: on that same host and port', async () => {
    expect(cert, 'openssl made the test certificate').not.toBeNull();
    const same = await dualServer(() => '/next');
    const ws = track(await connect(`ws://localhost:${same.port}/redirect`, { auth: 'user:secret', headers: { Cookie: 'a=b' }, followRedirects: true }));
    await ws.closed;
    expect(same.seen.map(([what, h]) => [what, h.authorization, h.cookie])).toEqual([
      ['ws /redirect', BASIC, 'a=b'],
      ['ws /next', BASIC, 'a=b'],
    ]);

    const downgrade = await dualServer((port) => `ws://localhost:${port}/plain`);
    const ws2 = track(await connect(`wss://user:secret@localhost:${downgrade.port}/redirect`, { ca: cert!.cert, headers: { Cookie: 'a=b' }, followRedirects: true }));
    await ws2.closed;
    expect(downgrade.seen.map(([what, h]) => [what, h.authorization, h.cookie, h.host])).toEqual([
      ['wss /redirect', BASIC, 'a=b', `localhost:${downgrade.port}`],
      // Same host: Host stays; TLS to plaintext: the credentials do not.
      ['ws /plain', undefined, undefined, `localhost:${downgrade.port}`],
    ]);
  });
});

it('without followRedirects a 3xx is an InvalidStatusError keeping Location', async () => {
  const server = track(http.createServer());
  server.on('upgrade', (_req, socket: net.Socket) => socket.end('HTTP/1.1 301 Moved Permanently\r\nLocation: ws://elsewhere/\r\nContent-Length: 0\r\n\r\n'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const err = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidStatusError);
  expect([(err as InvalidStatusError).statusCode, (err as InvalidStatusError).headers.location]).toEqual([301, 'ws://elsewhere/']);
});
