/**
 * The WebSocket and WebSocketServer API details ws's users meet: send(Blob) and binaryType
 * 'blob' (ws >= 8.18), send() with no data, bufferedAmount after close, pause()/resume()
 * when not open, the constants and attributes as properties, a second wss.close(), and a
 * server attached with `path` answering other paths with 400.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { WebSocket, WebSocketServer } from '../../src/io';
import { cleanup, closeEvent, openClient, startServer, track } from './helpers';

afterEach(cleanup);

async function pair(): Promise<{ client: WebSocket; server: WebSocket; wss: WebSocketServer }> {
  const { wss, url } = await startServer();
  const serverSide = once(wss, 'connection');
  const client = await openClient(url);
  const [server] = (await serverSide) as [WebSocket];
  return { client, server, wss };
}

function messages(ws: WebSocket, n: number): Promise<Array<[unknown, boolean]>> {
  const got: Array<[unknown, boolean]> = [];
  return new Promise((resolve) => {
    ws.on('message', (data, isBinary) => {
      got.push([data, isBinary]);
      if (got.length === n) resolve(got);
    });
  });
}

describe('sending', () => {
  it('send(Blob) sends its bytes, in order with the sends around it', async () => {
    const { client, server } = await pair();
    const got = messages(server, 3);
    client.send('before');
    client.send(new Blob(['blob ', 'bytes']));
    client.send('after');
    const out = await got;
    expect(out.map(([d, b]) => [(d as Buffer).toString(), b])).toEqual([
      ['before', false],
      ['blob bytes', true],
      ['after', false],
    ]);
  });

  it("binaryType 'blob' delivers binary messages as Blobs (text stays a Buffer)", async () => {
    const { client, server } = await pair();
    client.binaryType = 'blob';
    expect(client.binaryType).toBe('blob');
    const got = messages(client, 2);
    server.send(Buffer.from([1, 2, 3]));
    server.send('text');
    const [[bin, isBinary], [text]] = await got;
    expect(bin).toBeInstanceOf(Blob);
    expect([isBinary, Buffer.from(await (bin as Blob).arrayBuffer())]).toEqual([true, Buffer.from([1, 2, 3])]);
    expect(Buffer.isBuffer(text)).toBe(true);
  });

  it("a Blob still being read when the connection is destroyed: it and the sends behind it get ws's error", async () => {
    const { client } = await pair();
    const first = new Promise<Error | undefined>((resolve) => client.send(new Blob(['late']), resolve));
    const second = new Promise<Error | undefined>((resolve) => client.send('behind', resolve));
    client.terminate();
    expect([(await first)?.message, (await second)?.message]).toEqual([
      'The socket was closed while the blob was being read',
      'The socket was closed while the blob was being read',
    ]);
  });

  it('close() right after send(Blob): the Blob leaves before the close frame', async () => {
    const { client, server } = await pair();
    const got = messages(server, 2);
    client.send(new Blob(['one']));
    client.send(new Blob(['two']));
    client.close(1000);
    expect(client.readyState).toBe(WebSocket.CLOSING);
    expect(() => client.send('after close', () => undefined)).not.toThrow();
    const out = await got;
    expect(out.map(([d]) => (d as Buffer).toString())).toEqual(['one', 'two']);
    const [code] = await closeEvent(server);
    expect(code).toBe(1000);
  });

  it('send() with no data sends an empty binary message', async () => {
    const { client, server } = await pair();
    const got = messages(server, 1);
    client.send();
    const [[data, isBinary]] = await got;
    expect([(data as Buffer).length, isBinary]).toEqual([0, true]);
  });

  it('bufferedAmount grows with what is sent after close (as in ws), payload bytes only', async () => {
    const { client } = await pair();
    client.close();
    const before = client.bufferedAmount;
    client.send('abc');
    client.ping('hi');
    client.pong(Buffer.from([1]));
    expect(client.bufferedAmount - before).toBe(6);
    await closeEvent(client);
    const after = client.bufferedAmount;
    client.send(new Blob(['xy']));
    expect(client.bufferedAmount - after).toBe(2);
  });
});

describe('state', () => {
  it('pause() and resume() do nothing while CONNECTING or once CLOSED', async () => {
    const { url } = await startServer();
    const ws = track(new WebSocket(url));
    ws.pause();
    expect(ws.isPaused).toBe(false);
    await once(ws, 'open');
    ws.close();
    await closeEvent(ws);
    ws.pause();
    expect(ws.isPaused).toBe(false);
    ws.resume();
    expect(ws.isPaused).toBe(false);
  });

  it('CONNECTING/OPEN/CLOSING/CLOSED are enumerable, read-only on the class and its prototype', () => {
    for (const [name, value] of [['CONNECTING', 0], ['OPEN', 1], ['CLOSING', 2], ['CLOSED', 3]] as const) {
      for (const target of [WebSocket, WebSocket.prototype]) {
        expect(Object.getOwnPropertyDescriptor(target, name)).toEqual({ value, enumerable: true, writable: false, configurable: false });
      }
    }
  });

  it('addEventListener ignores types other than open, message, close and error', () => {
    const ws = new WebSocket(null);
    ws.addEventListener('foo' as 'open', () => undefined);
    expect(ws.listenerCount('foo')).toBe(0);
  });

  it('the attributes are enumerable, configurable accessors of the prototype', () => {
    for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'transport', 'url', 'onopen', 'onmessage', 'onclose', 'onerror']) {
      const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, name)!;
      expect([name, d.enumerable, d.configurable, typeof d.get]).toEqual([name, true, true, 'function']);
    }
  });
});

describe('WebSocketServer', () => {
  it("without options throws ws's TypeError", () => {
    expect(() => new (WebSocketServer as unknown as new () => WebSocketServer)()).toThrow(
      new TypeError('One and only one of the "port", "server", or "noServer" options must be specified'),
    );
  });

  it("answers a refused handshake with ws's message for the header at fault (RFC status codes)", async () => {
    const { port } = await startServer();
    const ask = async (head: string): Promise<string> => {
      const socket = net.connect(port, '127.0.0.1');
      track({ close: () => socket.destroy() });
      socket.write(`${head}\r\nHost: x\r\n\r\n`);
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      await once(socket, 'end');
      const text = Buffer.concat(chunks).toString('latin1');
      return `${text.split('\r\n')[0]} | ${text.slice(text.indexOf('\r\n\r\n') + 4)}`;
    };
    const up = 'Upgrade: websocket\r\nConnection: Upgrade';
    const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==';
    expect(await ask(`GET / HTTP/1.1\r\n${up}\r\nSec-WebSocket-Version: 13`)).toBe('HTTP/1.1 400 Bad Request | Missing or invalid Sec-WebSocket-Key header');
    expect(await ask(`GET / HTTP/1.1\r\n${up}\r\n${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a b`)).toBe(
      'HTTP/1.1 400 Bad Request | Invalid Sec-WebSocket-Protocol header',
    );
    // RFC 6455 §4.4: an unsupported version is answered 426 with the versions we speak (ws: 400).
    expect(await ask(`GET / HTTP/1.1\r\n${up}\r\n${key}\r\nSec-WebSocket-Version: 8`)).toBe('HTTP/1.1 426 Upgrade Required | Missing or invalid Sec-WebSocket-Version header');
  });

  it("a second close() emits 'close' again and gives the callback an error", async () => {
    const { wss } = await startServer();
    await wss.close();
    const closed = once(wss, 'close');
    const err = await new Promise<Error | undefined>((resolve) => void wss.close(resolve));
    await closed;
    expect(err?.message).toBe('The server is not running');
  });

  it('attached with `path`: an upgrade for another path gets 400 instead of hanging', async () => {
    const server = http.createServer();
    track({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const wss = track(new WebSocketServer({ server, path: '/ws' }));
    // A second wscore server on another path of the same http server keeps working.
    const other = track(new WebSocketServer({ server, path: '/other' }));
    other.on('connection', (ws) => ws.close());
    const { port } = server.address() as AddressInfo;
    const ok = track(new WebSocket(`ws://127.0.0.1:${port}/other`));
    const [code] = await closeEvent(ok);
    expect(code).toBe(1005);
    const socket = net.connect(port, '127.0.0.1');
    track({ close: () => socket.destroy() });
    socket.write('GET /nowhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    const [first] = (await once(socket, 'data')) as [Buffer];
    expect(first.toString('latin1').split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(wss.clients?.size).toBe(0);
  });
});
