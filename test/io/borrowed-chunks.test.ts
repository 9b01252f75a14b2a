/**
 * A transport that lends its chunks (`chunksAreBorrowed`, src/io/transport.ts: the native
 * transport reads every connection's bytes into one shared buffer) overwrites a chunk's bytes
 * once onData returns. What the receive path hands to users or keeps across reads must be a
 * copy: here a MemoryTransport in `borrow` mode scribbles over its buffer after each onData,
 * so a kept view would read 0xee bytes.
 */
import * as dc from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';

import { FrameReader } from '../../src/protocol/reader';
import type { RawData } from '../../src/io/events';
import { openMemoryConnection } from '../helpers/memory-transport';
import { wire } from '../helpers/wire';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const masked = (opcode: number, payload: string | Uint8Array, fin = true): Uint8Array => wire({ opcode, payload, fin, mask: true });

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe('a connection over a transport that lends its chunks', () => {
  it('a message keeps its bytes after the next read (text, small and large binary)', async () => {
    const { ws, transport } = openMemoryConnection({ role: 'server', transport: { borrow: true } });
    const got: Array<[RawData, boolean]> = [];
    ws.on('message', (data, isBinary) => got.push([data, isBinary]));
    const big = pattern(40_000, 1);
    transport.push(masked(1, 'first message'));
    transport.push(masked(2, Uint8Array.of(1, 2, 3)));
    transport.push(masked(2, big));
    transport.push(masked(1, 'a later read'));
    await tick();
    expect(got.map(([d, b]) => [b, Buffer.isBuffer(d)])).toEqual([
      [false, true],
      [true, true],
      [true, true],
      [false, true],
    ]);
    expect(String(got[0]![0])).toBe('first message');
    expect([...(got[1]![0] as Buffer)]).toEqual([1, 2, 3]);
    expect((got[2]![0] as Buffer).equals(big)).toBe(true);
  });

  it('two messages of one read each keep their bytes once the read buffer is reused', () => {
    const { ws, transport } = openMemoryConnection({ role: 'server', transport: { borrow: true } });
    const got: Buffer[] = [];
    ws.on('message', (data) => got.push(data as Buffer));
    // Two messages in one read.
    transport.push(Buffer.concat([masked(2, Uint8Array.of(7)), masked(2, Uint8Array.of(8))]));
    // push() returned: the lent buffer was scribbled over.
    expect(got.map((b) => [...b])).toEqual([[7], [8]]);
  });

  it('binaryType arraybuffer, fragments and blob get their own bytes', async () => {
    for (const type of ['arraybuffer', 'fragments', 'blob'] as const) {
      const { ws, transport } = openMemoryConnection({ role: 'server', transport: { borrow: true } });
      ws.binaryType = type;
      const got: RawData[] = [];
      ws.on('message', (data) => got.push(data));
      transport.push(masked(2, Uint8Array.of(4, 5, 6)));
      transport.push(masked(2, Uint8Array.of(9)));
      const first = got[0]!;
      const bytes =
        type === 'arraybuffer' ? [...new Uint8Array(first as ArrayBuffer)] : type === 'fragments' ? [...Buffer.concat(first as Buffer[])] : [...new Uint8Array(await (first as Blob).arrayBuffer())];
      expect([type, bytes]).toEqual([type, [4, 5, 6]]);
    }
  });

  it('a fragmented message whose large fragments came in earlier reads is intact', async () => {
    for (const binaryType of ['nodebuffer', 'fragments'] as const) {
      const { ws, transport } = openMemoryConnection({ role: 'server', transport: { borrow: true } });
      ws.binaryType = binaryType;
      const got: RawData[] = [];
      ws.on('message', (data) => got.push(data));
      // Each fragment >= 32 KiB: most of the 64 KiB read buffer, which the assembler would
      // otherwise keep as a view.
      const a = pattern(40_000, 2);
      const b = pattern(40_000, 3);
      transport.push(masked(2, a, false));
      transport.push(masked(0, b, false));
      transport.push(masked(0, Uint8Array.of(0xab)));
      const data = got[0]!;
      const whole = Array.isArray(data) ? Buffer.concat(data) : (data as Buffer);
      expect([binaryType, whole.equals(Buffer.concat([a, b, Buffer.of(0xab)]))]).toEqual([binaryType, true]);
    }
  });

  it('ping and pong payloads and raw frames keep their bytes; the automatic pong carries the ping payload', async () => {
    const { ws, transport } = openMemoryConnection({ role: 'server', transport: { borrow: true }, options: { rawFrames: true } });
    const pings: Buffer[] = [];
    const pongs: Buffer[] = [];
    ws.on('ping', (p) => pings.push(p));
    ws.on('pong', (p) => pongs.push(p));
    const frameViews: Uint8Array[] = [];
    ws.on('frame', (f) => frameViews.push(f.data));
    transport.push(masked(9, 'ping-1'));
    transport.push(masked(10, 'pong-1'));
    transport.push(masked(1, 'x'));
    await tick();
    expect(pings.map(String)).toEqual(['ping-1']);
    expect(pongs.map(String)).toEqual(['pong-1']);
    expect(frameViews.map((p) => Buffer.from(p).toString())).toEqual(['ping-1', 'pong-1', 'x']);
    expect(transport.takeFrames().map((f) => [f.opcode, f.payload.toString()])).toEqual([[10, 'ping-1']]);
  });

  it("the 'wscore:frame:received' diagnostics channel's payloads keep their bytes", () => {
    const payloads: Uint8Array[] = [];
    const listener = (message: unknown): void => {
      payloads.push((message as { payload: Uint8Array }).payload);
    };
    dc.subscribe('wscore:frame:received', listener);
    try {
      const { transport } = openMemoryConnection({ role: 'server', transport: { borrow: true } });
      transport.push(masked(1, 'seen'));
      transport.push(masked(9, 'ping'));
    } finally {
      dc.unsubscribe('wscore:frame:received', listener);
    }
    expect(payloads.map((p) => Buffer.from(p).toString())).toEqual(['seen', 'ping']);
  });

  it('the async API yields messages that keep their bytes', async () => {
    const { ws, transport } = openMemoryConnection({ role: 'server', transport: { borrow: true } });
    const got: unknown[] = [];
    const done = (async () => {
      for await (const m of ws) got.push(Buffer.isBuffer(m) ? [...m] : m);
    })();
    transport.push(masked(2, Uint8Array.of(1, 1, 1)));
    transport.push(masked(1, 'two'));
    transport.push(masked(8, Buffer.of(0x03, 0xe8)));
    await done;
    expect(got).toEqual([[1, 1, 1], 'two']);
  });

  it('a frame split across reads (header and payload) is reassembled from copies', async () => {
    const { ws, transport } = openMemoryConnection({ role: 'server', transport: { borrow: true } });
    const got: string[] = [];
    ws.on('message', (d) => got.push(String(d)));
    const frame = masked(1, 'split across three reads');
    transport.push(frame.subarray(0, 1));
    transport.push(frame.subarray(1, 9));
    transport.push(frame.subarray(9));
    const big = pattern(100_000, 5);
    const bigFrame = masked(2, big);
    const bin: Buffer[] = [];
    ws.on('message', (d, isBinary) => isBinary && bin.push(d as Buffer));
    transport.push(bigFrame.subarray(0, 3));
    transport.push(bigFrame.subarray(3, 70_000));
    transport.push(bigFrame.subarray(70_000));
    expect(got[0]).toBe('split across three reads');
    expect(bin[0]!.equals(big)).toBe(true);
  });
});

describe('FrameReader and reused chunks', () => {
  it('keeps a copy of an incomplete header, not a view of the chunk', () => {
    const reader = new FrameReader({ role: 'client' });
    const chunk = Buffer.alloc(64);
    const frame = wire({ opcode: 1, payload: 'hello' });
    chunk.set(frame.subarray(0, 1));
    const got: string[] = [];
    reader.feed(chunk.subarray(0, 1), (_info, payload) => got.push(Buffer.from(payload).toString()));
    // The transport reuses its buffer for the next read.
    chunk.fill(0xee);
    chunk.set(frame.subarray(1));
    reader.feed(chunk.subarray(0, frame.length - 1), (_info, payload) => got.push(Buffer.from(payload).toString()));
    expect(got).toEqual(['hello']);
  });
});
