/**
 * NativeTransport (issue 14) over real TCP pairs on 127.0.0.1: takeover from a net.Socket,
 * reads into the shared buffer, writev and the EAGAIN queue, drain, half-close, resets,
 * destroy, and fd hygiene. On the js backend (and off Linux): ./native-transport-unavailable.test.ts.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { nativeSocketBinding } from '../../src/backend/socket-binding';
import { NativeTransport, takeOverSocket } from '../../src/io/native-transport';
import { PairFactory, RecordingSink, collect, fillUntilFull, pattern, takeOverInto, until, type TcpPair } from './native-transport-helpers';

const native = backendName === 'native' && process.platform === 'linux';

describe.runIf(native)('NativeTransport', () => {
  let factory: PairFactory;
  const transports: NativeTransport[] = [];

  beforeEach(async () => {
    factory = new PairFactory();
    await factory.listen();
  });
  afterEach(async () => {
    for (const t of transports.splice(0)) t.destroy();
    await factory.close();
  });

  const takeOver = (pair: TcpPair, head?: Buffer, options?: Parameters<typeof takeOverSocket>[2]) => takeOverInto(transports, pair, head, options);

  it('has the binding on the native backend', () => {
    expect(nativeSocketBinding()).not.toBeNull();
  });

  it('takes over mid-stream without losing a byte: head, Node-buffered bytes, later bytes', async () => {
    const pair = await factory.pair();
    const { server, client } = pair;
    // A reader that paused: the bytes it did not take must go to the transport, not to it.
    const seenByNode: Buffer[] = [];
    server.on('data', (c: Buffer) => seenByNode.push(c));
    server.pause();
    const buffered = pattern(3000, 1);
    client.write(buffered);
    // Node reads into the paused socket's buffer up to its high-water mark.
    await until(() => server.readableLength === buffered.length);
    const head = Buffer.from('HEAD');
    const taken = takeOver(pair, head);
    expect(server.destroyed).toBe(true);
    expect(seenByNode).toEqual([]);
    expect(taken.head.equals(Buffer.concat([head, buffered]))).toBe(true);
    expect(taken.transport.remotePort).toBe(client.localPort);
    expect(taken.transport.remoteAddress).toBe('127.0.0.1');
    const sink = new RecordingSink();
    taken.transport.attach(sink, taken.head);
    expect(sink.received).toBe(0); // the head comes on a later tick
    const later = pattern(1024 * 1024, 2);
    client.write(later);
    await sink.receivedAtLeast(head.length + buffered.length + later.length);
    // (equals(): toEqual compares a MiB byte by byte, slowly)
    expect(sink.data().equals(Buffer.concat([head, buffered, later]))).toBe(true);
    // The Node socket's destruction closed only its own fd: the connection is still up.
    const back = collect(client, 4);
    taken.transport.write([Buffer.from('pong')]);
    expect((await back).toString()).toBe('pong');
  });

  it('writes a batch of thousands of chunks (more than one writev) in order, then calls back', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    transport.attach(sink, Buffer.alloc(0));
    const chunks: Buffer[] = [];
    for (let i = 0; i < 3000; i++) chunks.push(pattern(1 + (i % 97), i));
    chunks.splice(10, 0, Buffer.alloc(0)); // an empty chunk is fine
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const got = collect(pair.client, total);
    let called = 0;
    let sync = true;
    transport.write(chunks, (err) => {
      expect(err).toBeFalsy();
      expect(sync).toBe(false); // never synchronously
      called++;
    });
    sync = false;
    expect((await got).equals(Buffer.concat(chunks))).toBe(true);
    await until(() => called === 1);
  });

  it('queues what a peer that stops reading cannot take (EAGAIN), then drains in order', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    transport.attach(sink, Buffer.alloc(0));
    pair.client.pause();
    const cbs: Array<Error | null | undefined> = [];
    const written = fillUntilFull(transport, cbs);
    expect(transport.needsDrain).toBe(true);
    expect(transport.bufferedBytes).toBeGreaterThan(0);
    expect(cbs.at(-1)).toBeUndefined(); // the last batch is not fully written yet
    const drained = sink.drained();
    const expected = Buffer.concat(Array.from({ length: cbs.length }, (_, i) => pattern(64 * 1024, i)));
    expect(expected.length).toBe(written);
    const got = collect(pair.client, written);
    await drained;
    expect(transport.needsDrain).toBe(false);
    expect(transport.bufferedBytes).toBe(0);
    expect((await got).equals(expected)).toBe(true);
    await until(() => cbs.every((c) => c !== undefined));
    expect(cbs.every((c) => c === null)).toBe(true);
    expect(sink.events.filter((e) => e === 'drain')).toHaveLength(1);
  });

  it('a partial write inside a many-chunk batch queues the rest of that chunk and every later one', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    transport.attach(new RecordingSink(), Buffer.alloc(0));
    pair.client.pause();
    const sent: Buffer[] = [];
    let queuedAfterFirstBlock = -1;
    for (let batch = 0; batch < 4096 && queuedAfterFirstBlock < 0; batch++) {
      // 100 chunks of odd sizes: the kernel's cut falls inside a chunk, mid-batch.
      const chunks = Array.from({ length: 100 }, (_, i) => pattern(997 + ((batch + i) % 13), batch * 100 + i));
      sent.push(...chunks);
      const before = transport.bufferedBytes;
      transport.write(chunks);
      if (before === 0 && transport.bufferedBytes > 0) queuedAfterFirstBlock = transport.bufferedBytes;
    }
    expect(queuedAfterFirstBlock).toBeGreaterThan(0);
    // A few more batches behind the queue, to be appended in order.
    for (let batch = 0; batch < 3; batch++) {
      const chunks = Array.from({ length: 50 }, (_, i) => pattern(501 + i, 999_000 + batch * 50 + i));
      sent.push(...chunks);
      transport.write(chunks);
    }
    const expected = Buffer.concat(sent);
    const got = await collect(pair.client, expected.length);
    expect(got.equals(expected)).toBe(true);
  });

  it('pause() stops reading (the peer sees backpressure); resume() delivers everything', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    transport.pause(); // before attach: nothing is delivered until resume(), not even the head (as a paused net.Socket)
    transport.attach(sink, Buffer.from('h'));
    const big = pattern(16 * 1024 * 1024, 3); // more than loopback buffers hold
    const accepted = pair.client.write(big);
    // The peer's writes back up: nothing of `big` was read by us.
    await until(() => pair.client.writableLength > 0);
    expect(accepted).toBe(false);
    expect(sink.received).toBe(0);
    transport.resume();
    await sink.receivedAtLeast(1 + big.length);
    expect(sink.data().subarray(1).equals(big)).toBe(true);
  });

  it('a sink that pauses while handling the head gets nothing more until it resumes', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    sink.onChunk = () => {
      sink.onChunk = undefined;
      transport.pause();
    };
    transport.attach(sink, Buffer.from('head'));
    await sink.receivedAtLeast(4);
    const later = pattern(16 * 1024 * 1024, 9); // more than loopback buffers hold
    pair.client.write(later);
    await until(() => pair.client.writableLength > 0); // backpressure: we do not read
    expect(sink.received).toBe(4);
    transport.resume();
    await sink.receivedAtLeast(4 + later.length);
    expect(sink.data().subarray(4).equals(later)).toBe(true);
  });

  it('a listener exception in onData does not break the transport for the next event', async () => {
    // The sink of io never throws; this pins that the addon reports an exception as
    // uncaught (like a net.Socket 'data' listener) rather than swallowing it or crashing.
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    transport.attach(sink, Buffer.alloc(0));
    const boom = new Error('listener bug');
    let thrown = true;
    sink.onChunk = () => {
      if (thrown) {
        thrown = false;
        throw boom;
      }
    };
    const errors: unknown[] = [];
    const onUncaught = (err: unknown): void => void errors.push(err);
    const saved = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      pair.client.write('one');
      await until(() => errors.length === 1);
      expect(errors[0]).toBe(boom);
      pair.client.write('two');
      await sink.receivedAtLeast(6);
      expect(sink.data().toString()).toBe('onetwo');
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const l of saved) process.on('uncaughtException', l);
    }
  });

  it('declines a non-socket Duplex, a socket with unsent bytes and one already ended', async () => {
    expect(takeOverSocket(new PassThrough(), Buffer.alloc(0))).toBeNull();
    const pair = await factory.pair();
    pair.client.pause();
    // Fill the kernel buffers so that Node keeps bytes of its own.
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 64 && pair.server.writableLength === 0; i++) pair.server.write(chunk);
    expect(pair.server.writableLength).toBeGreaterThan(0);
    expect(takeOverSocket(pair.server, Buffer.alloc(0))).toBeNull();
    expect(pair.server.destroyed).toBe(false);
    // Node was asked to send its FIN: writing natively after it would be out of order.
    const ended = await factory.pair();
    ended.server.end();
    expect(takeOverSocket(ended.server, Buffer.alloc(0))).toBeNull();
  });

  it('declines a TLS socket (the fd carries ciphertext; the session lives in Node)', async () => {
    const fixtures = path.join(__dirname, '..', 'security', 'fixtures');
    const options = { key: fs.readFileSync(path.join(fixtures, 'localhost-key.pem')), cert: fs.readFileSync(path.join(fixtures, 'localhost-cert.pem')) };
    const server = tls.createServer(options);
    const accepted = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
    try {
      const [socket] = await accepted;
      expect(takeOverSocket(socket, Buffer.alloc(0))).toBeNull();
      expect(socket.destroyed).toBe(false);
      const got = collect(socket, 6);
      client.write('secret');
      expect((await got).toString()).toBe('secret');
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('checks its options', () => {
    const binding = nativeSocketBinding()!;
    expect(() => new NativeTransport(binding, 1, undefined, undefined, { highWaterMark: -1 })).toThrow(RangeError);
    expect(() => new NativeTransport(binding, 1, undefined, undefined, { maxQueuedBytes: 0 })).toThrow(RangeError);
    // The takeover throws too (a caller's bug), before touching the socket.
    expect(() => takeOverSocket(new PassThrough(), Buffer.alloc(0), { highWaterMark: 1.5 })).toThrow(RangeError);
    const file = fs.openSync(__filename, 'r');
    try {
      expect(() => new NativeTransport(binding, file, undefined, undefined)).toThrow(/not a socket/);
    } finally {
      fs.closeSync(file);
    }
    expect(() => new NativeTransport(binding, -1, undefined, undefined)).toThrow(RangeError);
    expect(() => new NativeTransport(binding, 1.5, undefined, undefined)).toThrow(RangeError);
  });

  it('closes with ENOBUFS when a caller ignores backpressure past maxQueuedBytes', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair, Buffer.alloc(0), { maxQueuedBytes: 1024 * 1024 });
    const sink = new RecordingSink();
    transport.attach(sink, Buffer.alloc(0));
    pair.client.pause();
    let err: NodeJS.ErrnoException | null | undefined;
    for (let i = 0; i < 1024 && transport.writable; i++) transport.write([pattern(64 * 1024, i)], (e) => (err = e));
    expect(transport.writable).toBe(false);
    expect(await sink.closed()).toBe(true);
    expect(err?.code).toBe('ENOBUFS');
  });

  it('bad chunks throw a TypeError and write nothing', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    transport.attach(new RecordingSink(), Buffer.alloc(0));
    expect(() => transport.write([Buffer.from('ok'), 'no' as unknown as Uint8Array])).toThrow(TypeError);
    const got = collect(pair.client, 2);
    transport.write([Buffer.from('ok')]);
    expect((await got).toString()).toBe('ok'); // the refused batch sent nothing
  });

  it('net.Socket still reports close for the taken-over socket (its own fd only)', async () => {
    const pair = await factory.pair();
    const closed = once(pair.server, 'close');
    takeOver(pair);
    const [hadError] = (await closed) as [boolean];
    expect(hadError).toBe(false);
    expect(pair.client.destroyed).toBe(false);
  });
});
