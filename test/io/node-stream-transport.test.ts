/**
 * NodeStreamTransport (src/io/node-stream-transport.ts): the transport over any Node Duplex.
 * Two connections, a server and a client, talk through an in-process Duplex pair that
 * passes the written chunks on as they are (so their buffers must never be reused), and a
 * TCP socket is recognised as one whose written bytes the kernel copied.
 */
import { once } from 'node:events';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';

import { NodeStreamTransport } from '../../src/io/node-stream-transport';
import { kConnection } from '../../src/io/transport-connection';
import { WebSocket } from '../../src/io/websocket';

/** Two Duplex ends: what one writes, the other reads, the very chunk objects. */
function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (other: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, cb) {
        other().push(chunk);
        cb();
      },
      final(cb) {
        other().push(null);
        cb();
      },
    });
  ends.push(make(() => ends[1]!), make(() => ends[0]!));
  return [ends[0]!, ends[1]!];
}

function over(stream: Duplex, role: 'server' | 'client'): WebSocket {
  const ws = new WebSocket(null);
  ws[kConnection].attach(new NodeStreamTransport(stream), Buffer.alloc(0), role);
  return ws;
}

const sockets: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  sockets.length = servers.length = 0;
});

describe('NodeStreamTransport', () => {
  it('carries a connection over a Duplex that keeps the written chunks, bytes intact, and closes cleanly', async () => {
    const [a, b] = duplexPair();
    const server = over(a, 'server');
    const client = over(b, 'client');
    expect((server[kConnection].transport as NodeStreamTransport).reusesWrittenChunks).toBe(false);
    server.on('message', (data, isBinary) => server.send(data as Buffer, { binary: isBinary }));
    const expected: string[] = [];
    const got: string[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('message', (data) => {
        got.push(String(data));
        if (got.length === expected.length) resolve();
      }),
    );
    // Several ticks of small messages while the server does not read: the pair holds each
    // batch's chunk, whose run buffer the next batch would overwrite if it were reused.
    server.pause();
    for (let tick = 0; tick < 5; tick++) {
      for (let i = 0; i < 200; i++) {
        const text = `${tick}:${i}:${'x'.repeat(i % 50)}`;
        expected.push(text);
        client.send(text);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    server.resume();
    // Corrupted bytes would fail the connection instead: then the comparison below tells.
    await Promise.race([all, once(client, 'close')]);
    expect(got).toEqual(expected);
    const closes = Promise.all([once(server, 'close'), once(client, 'close')]);
    client.close(1000, 'done');
    const [[serverCode], [clientCode]] = (await closes) as [[number], [number]];
    expect([serverCode, clientCode]).toEqual([1000, 1000]);
    expect(a.destroyed && b.destroyed).toBe(true);
  });

  it('reports a plain TCP socket as copying written bytes, with its peer address', async () => {
    const server = net.createServer();
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    sockets.push(socket);
    await once(socket, 'connect');
    sockets.push((await accepted)[0]);
    const transport = new NodeStreamTransport(socket);
    expect(transport.kind).toBe('node');
    expect(transport.reusesWrittenChunks).toBe(true);
    expect(transport.remoteAddress).toBe('127.0.0.1');
    expect(transport.remotePort).toBe((server.address() as net.AddressInfo).port);
    expect(transport.writable).toBe(true);
    transport.destroy();
    expect(transport.destroyed).toBe(true);
    expect(transport.writable).toBe(false);
  });
});
