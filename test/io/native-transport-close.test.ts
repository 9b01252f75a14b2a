/**
 * NativeTransport (issue 14) at the edges of a connection's life over real TCP pairs:
 * resets in mid-write, EPIPE without SIGPIPE, half-close, end() and destroy() with writes
 * queued, and silence after destroy(). The data path is in native-transport.test.ts.
 */
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { NativeTransport, takeOverSocket } from '../../src/io/native-transport';
import { PairFactory, RecordingSink, collect, fillUntilFull, pattern, takeOverInto, until, type TcpPair } from './native-transport-helpers';

const native = backendName === 'native' && process.platform === 'linux';

describe.runIf(native)('NativeTransport: ends, resets and closes', () => {
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
  it('a reset in mid-write closes with hadError, fails the queued writes, raises no SIGPIPE', async () => {
    let sigpipes = 0;
    const onSigpipe = (): void => void sigpipes++;
    process.on('SIGPIPE', onSigpipe); // installs a handler: an unsuppressed SIGPIPE would count
    try {
      const pair = await factory.pair();
      const { transport } = takeOver(pair);
      const sink = new RecordingSink();
      transport.attach(sink, Buffer.alloc(0));
      pair.client.pause();
      const cbs: Array<Error | null | undefined> = [];
      fillUntilFull(transport, cbs);
      pair.client.resetAndDestroy();
      expect(await sink.closed()).toBe(true);
      await until(() => cbs.every((c) => c !== undefined));
      const failed = cbs.filter((c) => c instanceof Error) as NodeJS.ErrnoException[];
      expect(failed.length).toBeGreaterThan(0);
      expect(['ECONNRESET', 'EPIPE']).toContain(failed[0].code);
      expect(transport.destroyed).toBe(true);
      expect(transport.writable).toBe(false);
      // Writing after the close is refused, asynchronously, and raises nothing.
      const late = await new Promise<Error | null | undefined>((resolve) => transport.write([Buffer.from('x')], resolve));
      expect(late).toBeInstanceOf(Error);
      expect(sigpipes).toBe(0);
      expect(sink.events.at(-1)).toBe('close:true');
    } finally {
      process.off('SIGPIPE', onSigpipe);
    }
  });

  it('writing into a connection the peer reset reports EPIPE/ECONNRESET without SIGPIPE', async () => {
    let sigpipes = 0;
    const onSigpipe = (): void => void sigpipes++;
    process.on('SIGPIPE', onSigpipe);
    try {
      const pair = await factory.pair();
      const { transport } = takeOver(pair);
      const sink = new RecordingSink();
      transport.attach(sink, Buffer.alloc(0));
      pair.client.resetAndDestroy();
      await once(pair.client, 'close');
      // Write until the kernel reports the reset (the first write may still succeed).
      while (transport.writable) {
        transport.write([pattern(1024)]);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await sink.closed()).toBe(true);
      expect(sigpipes).toBe(0);
    } finally {
      process.off('SIGPIPE', onSigpipe);
    }
  });

  it('a peer half-close reports onEnd; writing still works; end() then closes cleanly', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    transport.attach(sink, Buffer.alloc(0));
    pair.client.end('bye');
    await sink.ended();
    expect(sink.data().toString()).toBe('bye');
    expect(transport.writable).toBe(true);
    const got = collect(pair.client, 5);
    transport.write([Buffer.from('after')]);
    expect((await got).toString()).toBe('after');
    const peerEnded = once(pair.client, 'end');
    transport.end();
    expect(transport.writable).toBe(false);
    await peerEnded;
    expect(await sink.closed()).toBe(false);
    expect(sink.events).toEqual(['data', 'end', 'close:false']);
  });

  it('end() with writes queued flushes every byte before the FIN', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    transport.attach(sink, Buffer.alloc(0));
    pair.client.pause();
    const cbs: Array<Error | null | undefined> = [];
    const written = fillUntilFull(transport, cbs);
    transport.end();
    const parts: Buffer[] = [];
    pair.client.on('data', (c: Buffer) => parts.push(c));
    const ended = once(pair.client, 'end');
    pair.client.resume();
    await ended;
    expect(Buffer.concat(parts).length).toBe(written);
    pair.client.end();
    expect(await sink.closed()).toBe(false);
    expect(cbs.every((c) => c === null)).toBe(true);
  });

  it('end() with writes queued after the peer ended: every write completes, then a clean close', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    transport.attach(sink, Buffer.alloc(0));
    pair.client.pause();
    pair.client.end(); // the peer's FIN first
    await sink.ended();
    const cbs: Array<Error | null | undefined> = [];
    const written = fillUntilFull(transport, cbs);
    transport.end(); // both sides ended once the queue is written: the close follows the flush
    const got = collect(pair.client, written);
    expect(await sink.closed()).toBe(false);
    expect((await got).length).toBe(written);
    expect(cbs.every((c) => c === null)).toBe(true);
  });

  it('destroy() with writes queued drops them: their callbacks fail, onClose(false) comes last', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    transport.attach(sink, Buffer.alloc(0));
    pair.client.pause();
    const cbs: Array<Error | null | undefined> = [];
    fillUntilFull(transport, cbs);
    transport.destroy();
    expect(transport.destroyed).toBe(true);
    expect(transport.bufferedBytes).toBe(0);
    expect(await sink.closed()).toBe(false);
    expect(cbs.at(-1)).toBeInstanceOf(Error);
    expect(sink.events).toEqual(['close:false']);
    pair.client.resume();
    await once(pair.client, 'close');
  });

  it('after destroy() no callback but the one onClose, even with bytes arriving', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    transport.attach(sink, Buffer.alloc(0));
    pair.client.write(pattern(100_000));
    await sink.receivedAtLeast(1);
    sink.onChunk = () => transport.destroy(); // from inside onData
    pair.client.write(pattern(100_000));
    pair.client.end();
    expect(await sink.closed()).toBe(false);
    const atClose = sink.events.length;
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.events.length).toBe(atClose);
    expect(sink.events.filter((e) => e.startsWith('close'))).toEqual(['close:false']);
    transport.destroy(); // a second destroy is a no-op
    expect(sink.events.length).toBe(atClose);
  });

  it('onceFinished: after end(), once every queued byte went to the kernel; true when already so', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    transport.attach(new RecordingSink(), Buffer.alloc(0));
    pair.client.pause();
    const cbs: Array<Error | null | undefined> = [];
    fillUntilFull(transport, cbs);
    let finishedAt = -1;
    expect(transport.onceFinished(() => (finishedAt = transport.bufferedBytes))).toBe(false);
    transport.end();
    pair.client.resume();
    await until(() => finishedAt >= 0);
    expect(finishedAt).toBe(0);
    expect(transport.onceFinished(() => undefined)).toBe(true);
  });

  it('onceFinished with nothing queued reports on a later tick, and never after a destroy()', async () => {
    const pair = await factory.pair();
    const { transport } = takeOver(pair);
    const sink = new RecordingSink();
    transport.attach(sink, Buffer.alloc(0));
    let finished = 0;
    expect(transport.onceFinished(() => finished++)).toBe(false);
    transport.end();
    expect(finished).toBe(0);
    await until(() => finished === 1);
    const other = await factory.pair();
    const second = takeOver(other).transport;
    const secondSink = new RecordingSink();
    second.attach(secondSink, Buffer.alloc(0));
    let never = 0;
    second.onceFinished(() => never++);
    second.destroy();
    await secondSink.closed();
    expect(never).toBe(0);
  });
});
