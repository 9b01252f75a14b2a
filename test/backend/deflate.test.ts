// Backend permessage-deflate streams (src/backend/deflate-types.ts): behaviour on the active
// backend, cross-checks against node:zlib and the bomb guard (native/js parity: deflate-parity.test.ts).
import * as zlib from 'node:zlib';
import { Worker } from 'node:worker_threads';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';

import { describe, expect, it } from 'vitest';

import { backend, backendName, InflateStatus } from '../../src/backend';
import { BIG, combos, nearWindowRepeats, ok, sample, SYNC, TAIL } from '../helpers/deflate-fixtures';

// pako's zlib, driven directly (the same low-level API src/backend/js/deflate.ts uses).
const requireHere = createRequire(__filename);
const pakoInflate = requireHere('pako/lib/zlib/inflate.js') as {
  inflateInit2(strm: object, windowBits: number): number;
  inflate(strm: object, flush: number): number;
};
const ZStream = requireHere('pako/lib/zlib/zstream.js') as new () => {
  input: Uint8Array; next_in: number; avail_in: number; output: Uint8Array; next_out: number; avail_out: number; msg: string;
};

describe(`deflate streams (${backendName})`, () => {
  it('round-trips every window size, context mode and zlib setting; node:zlib agrees', () => {
    const messages = [sample(3000, 1), sample(3000, 1), Buffer.alloc(0), sample(10, 2), nearWindowRepeats(2000), sample(70000, 3)];
    for (let windowBits = 8; windowBits <= 15; windowBits++) {
      for (const noContextTakeover of [false, true]) {
        for (const extra of combos) {
          const d = backend.createDeflater({ windowBits, noContextTakeover, ...extra });
          const f = backend.createInflater({ windowBits, noContextTakeover });
          const wire: Buffer[] = [];
          for (const m of messages) {
            const c = Buffer.from(d.deflate(m, true));
            expect(c.length).toBeGreaterThan(0); // never an empty compressed payload
            expect(ok(f.inflate(c, true, BIG)).equals(m)).toBe(true);
            wire.push(c, TAIL);
            if (noContextTakeover) {
              // A peer with exactly this window (8 included) decompresses it on its own.
              expect(zlib.inflateRawSync(Buffer.concat([c, TAIL]), { ...SYNC, windowBits }).equals(m)).toBe(true);
            }
          }
          if (!noContextTakeover) {
            // With context takeover the messages form one deflate stream for the receiver.
            const all = zlib.inflateRawSync(Buffer.concat(wire), { ...SYNC, windowBits });
            expect(all.equals(Buffer.concat(messages))).toBe(true);
          }
          d.close();
          f.close();
        }
      }
    }
  });

  it('takes context over between messages unless told not to', () => {
    const m = sample(2000, 9);
    const sizes = (nct: boolean): number[] => {
      const d = backend.createDeflater({ windowBits: 15, noContextTakeover: nct });
      return [d.deflate(m, true).length, d.deflate(m, true).length];
    };
    const [first, again] = sizes(false);
    expect(again).toBeLessThan(first! / 10);
    const [a, b] = sizes(true);
    expect(a).toBe(b);
  });

  it('window 8: every reference stays within 256 bytes (zlib compresses with 9, reaching back <= 250)', () => {
    const m = nearWindowRepeats(20000);
    for (const noContextTakeover of [true, false]) {
      const d = backend.createDeflater({ windowBits: 8, noContextTakeover });
      const c = Buffer.concat([d.deflate(m.subarray(0, 7000), true), TAIL, d.deflate(m.subarray(7000), true), TAIL]);
      expect(inflateThroughWindow(c, 8).equals(m)).toBe(true);
    }
    // The check has teeth: compressed with a 512-byte window, the same data refers back
    // up to 300 bytes, which a 256-byte window cannot hold.
    const far = zlib.deflateRawSync(m, { ...SYNC, windowBits: 15 });
    expect(() => inflateThroughWindow(far, 8)).toThrow(/too far/);
  });

  it('streams fragments: any split of the compressed bytes, empty pieces, empty messages', () => {
    const d = backend.createDeflater({ windowBits: 15, noContextTakeover: false });
    const f = backend.createInflater({ windowBits: 15, noContextTakeover: false });
    const m = sample(5000, 4);
    const pieces = [d.deflate(m.subarray(0, 1000), false), d.deflate(Buffer.alloc(0), false), d.deflate(m.subarray(1000), false), d.deflate(Buffer.alloc(0), true)];
    expect(Buffer.from(pieces[3]!)).toEqual(Buffer.of(0)); // nothing new: a lone empty-block header
    const wire = Buffer.concat(pieces);
    const out: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 7) out.push(ok(f.inflate(wire.subarray(i, i + 7), false, BIG)));
    out.push(ok(f.inflate(Buffer.alloc(0), true, BIG)));
    expect(Buffer.concat(out).equals(m)).toBe(true);
    // An empty message, then context still works.
    expect(ok(f.inflate(d.deflate(Buffer.alloc(0), true), true, BIG)).length).toBe(0);
    expect(ok(f.inflate(d.deflate(m, true), true, BIG)).equals(m)).toBe(true);
    // A message with no payload at all is empty and leaves the stream usable.
    expect(ok(f.inflate(Buffer.alloc(0), true, BIG)).length).toBe(0);
    expect(ok(f.inflate(d.deflate(m, true), true, BIG)).equals(m)).toBe(true);
  });

  it('accepts a message ending in a BFINAL block, ignoring what follows it', () => {
    const f = backend.createInflater({ windowBits: 15, noContextTakeover: false });
    const m = sample(4000, 5);
    const final = zlib.deflateRawSync(m); // Z_FINISH: the last block has BFINAL set
    expect(ok(f.inflate(Buffer.concat([final, Buffer.from('junk')]), true, BIG)).equals(m)).toBe(true);
    // A new deflate stream follows.
    const next = zlib.deflateRawSync(m, SYNC).subarray(0, -4);
    expect(ok(f.inflate(next, true, BIG)).equals(m)).toBe(true);
  });

  it('reports invalid data and recovers after reset', () => {
    const f = backend.createInflater({ windowBits: 15, noContextTakeover: false });
    expect(f.inflate(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), true, BIG)).toBe(InflateStatus.DATA_ERROR);
    const m = sample(100, 6);
    expect(ok(f.inflate(zlib.deflateRawSync(m, SYNC).subarray(0, -4), true, BIG)).equals(m)).toBe(true);
    // A stored block whose LEN and NLEN disagree.
    expect(f.inflate(Buffer.from([0x00, 0x05, 0x00, 0x00, 0x00]), true, BIG)).toBe(InflateStatus.DATA_ERROR);
  });

  it('caps the output exactly at maxOutput', () => {
    const m = sample(50000, 7);
    const c = zlib.deflateRawSync(m, SYNC).subarray(0, -4);
    const f = backend.createInflater({ windowBits: 15, noContextTakeover: true });
    expect(ok(f.inflate(c, true, m.length)).equals(m)).toBe(true);
    expect(f.inflate(c, true, m.length - 1)).toBe(InflateStatus.TOO_BIG);
    expect(ok(f.inflate(c, true, Infinity)).equals(m)).toBe(true);
    expect(ok(f.inflate(Buffer.of(0), true, 0)).length).toBe(0);
    // A 1 KiB message that inflates to ~1 MiB, against a 64 KiB limit.
    const bomb = zlib.deflateRawSync(Buffer.alloc(1 << 20), { ...SYNC, level: 9 }).subarray(0, -4);
    expect(bomb.length).toBeLessThan(1100);
    expect(f.inflate(bomb, true, 64 * 1024)).toBe(InflateStatus.TOO_BIG);
  });

  it('stops a 1 GiB bomb at the cap: RSS grows by less than 2x maxPayload', async () => {
    const maxPayload = 16 << 20;
    // Compressing zeros with context takeover: after the first megabyte every further
    // megabyte compresses to the same bytes, so repeating them builds a 1 GiB stream cheaply.
    const d = backend.createDeflater({ windowBits: 15, noContextTakeover: false, level: 9 });
    const zeros = Buffer.alloc(1 << 20);
    const head = Buffer.from(d.deflate(zeros, false));
    const unit = Buffer.from(d.deflate(zeros, false));
    expect(Buffer.from(d.deflate(zeros, false)).equals(unit)).toBe(true);
    const bomb = Buffer.concat([head, ...Array<Buffer>(1023).fill(unit)]);
    expect(zlib.inflateRawSync(Buffer.concat([head, unit, unit]), SYNC).length).toBe(3 << 20);
    const f = backend.createInflater({ windowBits: 15, noContextTakeover: true });
    const peak = await peakRssGrowth(() => expect(f.inflate(bomb, true, maxPayload)).toBe(InflateStatus.TOO_BIG));
    if (process.env.WSCORE_DEBUG_RSS) console.log(`bomb peak RSS growth ${backendName}: ${(peak / 1048576).toFixed(1)} MiB`);
    // Under AddressSanitizer freed blocks sit in its quarantine: RSS says nothing there.
    if (!(process.env.LD_PRELOAD ?? '').includes('asan')) expect(peak).toBeLessThan(2 * maxPayload);
  });

  it('checks its arguments, with the same errors on both backends', () => {
    expect(() => backend.createInflater({ windowBits: 7, noContextTakeover: false })).toThrow(new RangeError('windowBits must be an integer from 8 to 15'));
    expect(() => backend.createDeflater({ windowBits: 15, memLevel: 10, noContextTakeover: false })).toThrow(new RangeError('memLevel must be an integer from 1 to 9'));
    expect(() => backend.createDeflater({ windowBits: 15, level: 10, noContextTakeover: false })).toThrow(RangeError);
    expect(() => backend.createInflater({ windowBits: 15 } as never)).toThrow(new TypeError('noContextTakeover must be a boolean'));
    expect(() => backend.createInflater(null as never)).toThrow(new TypeError('options must be an object'));
    const f = backend.createInflater({ windowBits: 15, noContextTakeover: false });
    expect(() => f.inflate('x' as never, true, 1)).toThrow(new TypeError('data must be a Uint8Array'));
    expect(() => f.inflate(Buffer.of(0), 1 as never, 1)).toThrow(new TypeError('fin must be a boolean'));
    expect(() => f.inflate(Buffer.of(0), true, -1)).toThrow(new RangeError('maxOutput must be a non-negative number'));
    expect(() => f.inflate(Buffer.of(0), true, NaN)).toThrow(RangeError);
    f.close();
    f.close();
    expect(() => f.inflate(Buffer.of(0), true, 1)).toThrow(new Error('the inflater is closed'));
    const d = backend.createDeflater({ windowBits: 15, noContextTakeover: false });
    expect(() => d.deflate(new Uint16Array(2) as never, true)).toThrow(new TypeError('data must be a Uint8Array'));
    d.close();
    expect(() => d.deflate(Buffer.of(0), true)).toThrow(new Error('the deflater is closed'));
  });
});

/**
 * Inflates with pako's zlib one output byte per call, so that every back-reference must be
 * served from the window (zlib also copies from the output of the current call, which
 * would hide a reference farther back than the window).
 */
function inflateThroughWindow(data: Uint8Array, windowBits: number): Buffer {
  const strm = new ZStream();
  expect(pakoInflate.inflateInit2(strm, -windowBits)).toBe(0);
  strm.input = data;
  strm.next_in = 0;
  strm.avail_in = data.length;
  const out: number[] = [];
  const one = new Uint8Array(1);
  for (;;) {
    strm.output = one;
    strm.next_out = 0;
    strm.avail_out = 1;
    const ret = pakoInflate.inflate(strm, 2);
    if (strm.avail_out === 0) out.push(one[0]!);
    if (ret !== 0 && ret !== -5) throw new Error(`inflate: ${ret} ${String(strm.msg)}`);
    if (strm.avail_out !== 0) return Buffer.from(out);
  }
}

/**
 * Runs `fn` (synchronous) while a worker samples the process's RSS from /proc every
 * millisecond; returns the peak growth in bytes over the RSS before the call.
 */
async function peakRssGrowth(fn: () => void): Promise<number> {
  if (!fs.existsSync('/proc/self/statm')) {
    const before = process.memoryUsage().rss;
    fn();
    return process.memoryUsage().rss - before;
  }
  const shared = new Int32Array(new SharedArrayBuffer(12)); // [stop, ready, peak pages]
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads'); const fs = require('node:fs');
     const s = new Int32Array(workerData); const page = () => +fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1];
     Atomics.store(s, 1, 1); Atomics.notify(s, 1);
     while (Atomics.load(s, 0) === 0) { const p = page(); if (p > s[2]) s[2] = p; Atomics.wait(s, 0, 0, 1); }
     const p = page(); if (p > s[2]) s[2] = p;`,
    { eval: true, workerData: shared.buffer },
  );
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  while (Atomics.load(shared, 1) === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 20));
  const pageSize = 4096;
  const before = Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * pageSize;
  Atomics.store(shared, 2, 0);
  try {
    fn();
  } finally {
    await new Promise((r) => setTimeout(r, 5));
    Atomics.store(shared, 0, 1);
    Atomics.notify(shared, 0);
    await exited;
  }
  return shared[2]! * pageSize - before;
}
