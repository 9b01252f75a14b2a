/**
 * Native vs js deflate parity. It drives both backends itself, so it runs in the native
 * project only (vitest.config.ts excludes it from the js project, where it would repeat the
 * same comparison); without the addon it fails instead of skipping.
 */
import * as zlib from 'node:zlib';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { createNativeBackend, jsBackend } from '../../src/backend';
import type { Backend, Deflater, Inflater } from '../../src/backend';
import { BIG, combos, nearWindowRepeats, ok, sample, SYNC } from '../helpers/deflate-fixtures';

describe('native/js parity', () => {
  const native = createNativeBackend();
  const backends: Array<[string, Backend]> = [
    ['native', native],
    ['js', jsBackend],
  ];
  const payload = fc.oneof(
    fc.uint8Array({ maxLength: 3000 }),
    fc.tuple(fc.nat(5000), fc.nat()).map(([n, seed]) => sample(n, seed)),
    fc.tuple(fc.nat(3000), fc.integer({ min: 1, max: 300 })).map(([n, period]) => Buffer.from(Array.from({ length: n }, (_, i) => (i % period) * 7))),
  );
  const settings = fc.record({
    windowBits: fc.integer({ min: 8, max: 15 }),
    noContextTakeover: fc.boolean(),
    memLevel: fc.integer({ min: 1, max: 9 }),
    level: fc.integer({ min: -1, max: 9 }),
    strategy: fc.integer({ min: 0, max: 4 }),
  });

  it('each backend decompresses what either compressed, for any settings', () => {
    fc.assert(
      fc.property(settings, fc.array(fc.tuple(payload, fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 4 }), (s, messages) => {
        const streams = backends.map(([, b]) => ({ d: b.createDeflater(s), inflaters: backends.map(([, b2]) => b2.createInflater(s)) }));
        for (const [m, fragments] of messages) {
          for (const { d, inflaters } of streams) {
            const step = Math.ceil(m.length / fragments) || 1;
            const wire: Uint8Array[] = [];
            for (let i = 0; i < fragments; i++) wire.push(d.deflate(m.subarray(i * step, (i + 1) * step), i === fragments - 1));
            const outs = inflaters.map((f) => Buffer.concat(wire.map((w, i) => ok(f.inflate(w, i === wire.length - 1, BIG)))));
            for (const out of outs) expect(out.equals(Buffer.from(m))).toBe(true);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('every window size, context mode and zlib setting: each side inflates the other', () => {
    const messages = [sample(2000, 21), sample(2000, 21), Buffer.alloc(0), nearWindowRepeats(3000)];
    for (let windowBits = 8; windowBits <= 15; windowBits++) {
      for (const noContextTakeover of [false, true]) {
        for (const extra of combos) {
          for (const [, from] of backends) {
            const d = from.createDeflater({ windowBits, noContextTakeover, ...extra });
            const inflaters = backends.map(([, to]) => to.createInflater({ windowBits, noContextTakeover }));
            for (const m of messages) {
              const c = d.deflate(m, true);
              for (const f of inflaters) expect(ok(f.inflate(c, true, BIG)).equals(m)).toBe(true);
            }
          }
        }
      }
    }
  });

  it('reset() mid-message forgets the message and the window, on either side', () => {
    const [m1, m2, m3] = [sample(3000, 31), sample(3000, 32), sample(3000, 31)];
    for (const [fromName, from] of backends) {
      for (const [toName, to] of backends) {
        const d = from.createDeflater({ windowBits: 15, noContextTakeover: false });
        const f = to.createInflater({ windowBits: 15, noContextTakeover: false });
        expect(ok(f.inflate(d.deflate(m1, true), true, BIG)).equals(m1), `${fromName} -> ${toName}`).toBe(true);
        // Half a message on both sides, then both reset (what a failed message does).
        const half = d.deflate(m2.subarray(0, 1500), false);
        ok(f.inflate(half, false, BIG));
        d.reset();
        f.reset();
        // m3 repeats m1: with the window kept it would be back-references into m1. A fresh
        // inflater must decode it, so the deflater forgot m1; the reset inflater must too.
        const c3 = d.deflate(m3, true);
        expect(ok(to.createInflater({ windowBits: 15, noContextTakeover: false }).inflate(c3, true, BIG)).equals(m3), `${fromName} -> fresh ${toName}`).toBe(true);
        expect(ok(f.inflate(c3, true, BIG)).equals(m3), `${fromName} -> reset ${toName}`).toBe(true);
      }
    }
  });

  it('gives the same bytes or the same status on any input, with any cap', () => {
    const valid = zlib.deflateRawSync(sample(3000, 11), SYNC).subarray(0, -4);
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.tuple(fc.nat(valid.length), fc.uint8Array({ minLength: 1, maxLength: 40 })).map(([cut, junk]) => Buffer.concat([valid.subarray(0, cut), junk])),
      fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, x]) => {
        const b = Buffer.from(valid);
        b[at] = x;
        return b;
      }),
    );
    fc.assert(
      fc.property(input, fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 8, max: 15 }), fc.boolean(), (data, cap, windowBits, fin) => {
        const results = backends.map(([, b]) => {
          const f = b.createInflater({ windowBits, noContextTakeover: false });
          const r = f.inflate(data, fin, cap);
          const again = f.inflate(valid, true, BIG); // then a valid message, or the error's aftermath
          return [typeof r === 'number' ? r : Buffer.from(r).toString('hex'), typeof again === 'number' ? again : Buffer.from(again).toString('hex')];
        });
        expect(results[1]).toEqual(results[0]);
      }),
      { numRuns: 400 },
    );
  });

  it('native streams are freed by close() and by the garbage collector', () => {
    const streams: Array<Inflater | Deflater> = [];
    for (let i = 0; i < 50; i++) {
      streams.push(native.createDeflater({ windowBits: 15, noContextTakeover: false }), native.createInflater({ windowBits: 15, noContextTakeover: false }));
    }
    for (const s of streams) s.close();
    // Closed means freed: every later use is refused (and a second close() is harmless).
    for (const s of streams) {
      s.close();
      if ('deflate' in s) expect(() => s.deflate(Buffer.from('x'), true)).toThrow(/the deflater is closed/);
      else expect(() => s.inflate(Buffer.from([0x00]), true, BIG)).toThrow(/the inflater is closed/);
    }
    // Unclosed streams are left to the collector's finalizers; the last one still works.
    let last: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < 200; i++) last = native.createDeflater({ windowBits: 9, noContextTakeover: false }).deflate(Buffer.from('x'), true);
    expect(ok(native.createInflater({ windowBits: 9, noContextTakeover: false }).inflate(last, true, BIG)).toString()).toBe('x');
  });
});
