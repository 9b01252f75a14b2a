/**
 * The Sender's run buffers are shared through a free list once a socket has taken their
 * bytes (src/io/sender.ts, through the NodeStreamTransport). Reuse must never change bytes someone still holds: proven here
 * over real TCP sockets (reused), and over a Duplex that keeps its chunks (never reused).
 */
import { once } from 'node:events';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';

import { NodeStreamTransport } from '../../src/io/node-stream-transport';
import { Sender } from '../../src/io/sender';

const open: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const s of open) s.destroy();
  for (const s of servers) s.close();
  open.length = servers.length = 0;
});

/** A connected loopback pair: [our end, the peer's end]. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = await accepted;
  open.push(client, peer);
  return [client, peer];
}

/** The unmasked frames in `bytes` (payloads < 126 bytes). */
function payloads(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const len = bytes[at + 1]! & 0x7f;
    out.push(bytes.subarray(at + 2, at + 2 + len).toString());
    at += 2 + len;
  }
  return out;
}

function runOf(sender: Sender): Buffer | null {
  return (sender as unknown as { run: Buffer | null }).run;
}

describe('Sender run buffers', () => {
  it('reuses a run another TCP connection has written, and every byte arrives intact', async () => {
    const pairs = await Promise.all([socketPair(), socketPair(), socketPair()]);
    const senders = pairs.map(([ours]) => new Sender(new NodeStreamTransport(ours)));
    const received = pairs.map(() => [] as Buffer[]);
    pairs.forEach(([, peer], i) => peer.on('data', (chunk: Buffer) => received[i]!.push(chunk)));

    senders[0]!.pushFrame(0x81, Buffer.from('first'), false);
    const firstRun = runOf(senders[0]!)!;
    senders[0]!.flush();
    senders[1]!.pushFrame(0x81, Buffer.from('second'), false);
    // The same memory, now holding the second connection's batch.
    const secondRun = runOf(senders[1]!)!;
    expect([secondRun.buffer, secondRun.byteOffset]).toEqual([firstRun.buffer, firstRun.byteOffset]);
    expect(secondRun.buffer).toBe(firstRun.buffer);

    const expected: string[][] = pairs.map(() => []);
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < senders.length; i++) {
        for (let k = 0; k <= round % 4; k++) {
          const text = `c${i} r${round} k${k} ${'x'.repeat((round * 7 + k) % 90)}`;
          senders[i]!.pushFrame(0x81, Buffer.from(text), false);
          expected[i]!.push(text);
        }
      }
      for (const s of senders) s.flush();
    }
    senders[1]!.flush();
    expected[1]!.unshift('second');
    expected[0]!.unshift('first');
    const want = expected.map((list) => list.reduce((n, t) => n + 2 + Buffer.byteLength(t), 0));
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (received.every((chunks, i) => chunks.reduce((n, c) => n + c.length, 0) >= want[i]!)) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
    received.forEach((chunks, i) => expect(payloads(Buffer.concat(chunks))).toEqual(expected[i]));
  });

  it('never reuses a run given to a Duplex that may keep its chunks', () => {
    const kept: Buffer[] = [];
    const keeper = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        kept.push(chunk); // a PassThrough-like stream hands the same bytes on, uncopied
        callback();
      },
    });
    const sender = new Sender(new NodeStreamTransport(keeper));
    sender.pushFrame(0x81, Buffer.from('kept one'), false);
    sender.flush();
    const other = new Sender(new NodeStreamTransport(keeper));
    other.pushFrame(0x81, Buffer.from('overwrite?'), false);
    other.flush();
    expect(payloads(Buffer.concat(kept))).toEqual(['kept one', 'overwrite?']);
  });
});

describe('Sender batch list', () => {
  it('keeps one chunk list for its life and holds no payload after a flush', async () => {
    // A list made per flush and stored on the long-lived sender outlived scavenges and was
    // promoted; dead, it kept the next batch's payloads (64 KiB buffers) alive until a
    // mark-compact (docs/benchmarks.md, "Throughput at 1,000 connections").
    const [ours, peer] = await socketPair();
    const sender = new Sender(new NodeStreamTransport(ours));
    const list = (): Uint8Array[] => (sender as unknown as { chunks: Uint8Array[] }).chunks;
    const first = list();
    const big = Buffer.alloc(64 * 1024, 0x61);
    let got = 0;
    peer.on('data', (c: Buffer) => (got += c.length));
    for (let i = 0; i < 3; i++) {
      sender.pushFrame(0x82, big, false);
      sender.pushFrame(0x81, Buffer.from('small'), false);
      expect(list().length).toBeGreaterThan(0);
      sender.flush();
      expect(list()).toBe(first);
      expect(list()).toHaveLength(0);
    }
    const want = 3 * (10 + 64 * 1024 + 2 + 5);
    await new Promise<void>((resolve) => {
      const check = (): void => (got >= want ? resolve() : void setTimeout(check, 5));
      check();
    });
    expect(got).toBe(want);
  });
});
