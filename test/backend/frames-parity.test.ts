/**
 * Differential test: the C++ parseFrames (raw addon) and its TS twin must agree on every
 * record, every ctl slot, every unmasked byte and every thrown error, for random frame
 * streams (valid and corrupted) delivered in random growing windows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { jsBackend } from '../../src/backend';
import { loadNativeAddon } from '../../src/backend/native';
import type { NativeAddon } from '../../src/backend/native-addon';
import { PARSE_CTL_SIZE, ParseCtl, ParseError } from '../../src/backend/types';
import { cat, wire, type WireFrame } from '../helpers/wire';

let addon: NativeAddon | null = null;
try {
  addon = loadNativeAddon();
} catch {
  addon = null;
}

type Parse = (buf: Uint8Array, start: number, end: number, ctl: Float64Array, records: Int32Array) => number;

const frameArb: fc.Arbitrary<WireFrame> = fc.record({
  opcode: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0, 1, 2, 8, 9, 10) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  fin: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.boolean() }),
  rsv: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }) }),
  mask: fc.oneof({ weight: 6, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }) }, { weight: 1, arbitrary: fc.constant(false) }),
  payload: fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.uint8Array({ minLength: 120, maxLength: 300 }),
    fc.constantFrom(Uint8Array.of(0x03, 0xe8), Uint8Array.of(0x03, 0xe8, 0xc3), Uint8Array.of(0x03), Uint8Array.of(0x0b, 0xb8, 0x68, 0x69)),
  ),
  lengthForm: fc.constantFrom(undefined, undefined, undefined, 16 as const, 64 as const),
}) as fc.Arbitrary<WireFrame>;

/** A well-formed message: TEXT or BINARY then CONTs, FIN on the last, controls in between. */
const messageArb: fc.Arbitrary<WireFrame[]> = fc
  .record({
    text: fc.boolean(),
    parts: fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 200 })), { minLength: 1, maxLength: 4 }),
    ping: fc.option(fc.integer({ min: 0, max: 3 })),
    key: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    rsv1: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .map(({ text, parts, ping, key, rsv1 }) => {
    // Split the UTF-8 of the whole text anywhere: characters may straddle frames.
    const all = new TextEncoder().encode(parts.join(''));
    const cutsAt = parts.map((_, i) => Math.floor((all.length * i) / parts.length));
    const frames: WireFrame[] = cutsAt.map((from, i) => ({
      opcode: i === 0 ? (text ? 1 : 2) : 0,
      rsv: i === 0 && rsv1 ? 4 : 0,
      fin: i === cutsAt.length - 1,
      payload: all.subarray(from, cutsAt[i + 1] ?? all.length),
      mask: key,
    }));
    if (ping !== null) frames.splice(Math.min(ping, frames.length - 1), 0, { opcode: 9, payload: 'p', mask: key });
    return frames;
  });

const caseArb = fc.record({
  frames: fc.oneof(fc.array(frameArb, { minLength: 1, maxLength: 12 }), fc.array(messageArb, { minLength: 1, maxLength: 4 }).map((m) => m.flat())),
  /** Byte corruptions: [position fraction, xor value]. */
  flips: fc.oneof(
    fc.constant([] as Array<[number, number]>),
    fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 1, max: 255 })), { maxLength: 2 }),
  ),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
  expectMask: fc.boolean(),
  allowedRsv: fc.oneof(fc.constant(4), fc.constant(0), fc.integer({ min: 0, max: 7 })),
  maxPayload: fc.oneof({ weight: 1, arbitrary: fc.constantFrom(0, 10, 125, 200) }, { weight: 3, arbitrary: fc.constantFrom(1 << 20, 2 ** 53 - 1) }),
  capacity: fc.integer({ min: 1, max: 5 }),
  /** Mostly no limit; sometimes so low that the random messages hit it. */
  maxFragments: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
});

interface Snapshot {
  n: number;
  records: number[];
  ctl: number[];
  bytes: number[];
}

interface RunConfig {
  expectMask: boolean;
  allowedRsv: number;
  maxPayload: number;
  capacity: number;
  maxFragments?: number;
}

function run(parse: Parse, input: Uint8Array, cutsAt: number[], c: RunConfig): Snapshot[] {
  const buf = input.slice();
  const ctl = new Float64Array(PARSE_CTL_SIZE);
  ctl[ParseCtl.FLAGS] = c.expectMask ? 1 : 0;
  ctl[ParseCtl.ALLOWED_RSV] = c.allowedRsv;
  ctl[ParseCtl.MAX_PAYLOAD] = c.maxPayload;
  ctl[ParseCtl.MAX_FRAGMENTS] = c.maxFragments ?? 0;
  const records = new Int32Array(c.capacity * 3);
  const out: Snapshot[] = [];
  let start = 0;
  for (const cut of [...cutsAt, buf.length]) {
    const end = Math.max(cut, start);
    for (let guard = 0; guard < 10_000; guard++) {
      records.fill(-1);
      const n = parse(buf, start, end, ctl, records);
      out.push({ n, records: Array.from(records.subarray(0, n * 3)), ctl: Array.from(ctl), bytes: [] });
      if (ctl[ParseCtl.ERROR] !== 0) {
        out[out.length - 1]!.bytes = Array.from(buf);
        return out;
      }
      const consumed = ctl[ParseCtl.CONSUMED]!;
      const progressed = consumed !== start;
      start = consumed;
      if (!progressed || n < c.capacity) break;
    }
  }
  out[out.length - 1]!.bytes = Array.from(buf);
  return out;
}

describe('parseFrames parity: native vs js', () => {
  // Both projects compare the raw addon with the twin, so the addon must load in both:
  // without it this suite would compare nothing (CI always has the prebuild).
  it('has the native addon to compare with', () => {
    expect(addon, 'the native addon could not be loaded').not.toBeNull();
  });
  it('agrees on random frame streams, valid and corrupted, in random windows', () => {
    const native = addon!.parseFrames;
    const stats = { records: 0, errors: {} as Record<number, number> };
    fc.assert(
      fc.property(caseArb, (c) => {
        // Mostly the role's masking; f.mask === false makes it the wrong one.
        const stream = cat(...c.frames.map((f) => wire({ ...f, mask: c.expectMask ? f.mask : f.mask === false })));
        for (const [at, x] of c.flips) stream[Math.floor(at * stream.length)]! ^= x;
        const cuts = c.cuts.map((f) => Math.floor(f * stream.length)).sort((a, b) => a - b);
        const a = run(native, stream, cuts, c);
        const b = run(jsBackend.parseFrames, stream, cuts, c);
        expect(a).toEqual(b);
        const last = a[a.length - 1]!;
        stats.records += a.reduce((k, x) => k + x.n, 0);
        stats.errors[last.ctl[ParseCtl.ERROR_REASON]!] = (stats.errors[last.ctl[ParseCtl.ERROR_REASON]!] ?? 0) + 1;
      }),
      { numRuns: 400 },
    );
    // The generator must reach deep into streams and hit many different errors.
    if (process.env.PARITY_STATS) console.log(stats);
    expect(stats.records).toBeGreaterThan(400);
    expect(Object.keys(stats.errors).length).toBeGreaterThan(8);
    expect(stats.errors[ParseError.TOO_MANY_FRAGMENTS], 'the fragment limit was never reached').toBeGreaterThan(0);
  });

  it('agrees under every SIMD kernel the CPU has (unmasking and UTF-8 checks inside the parser)', () => {
    const a = addon!;
    const [bestMask, bestUtf8] = [a._maskKernel(), a._utf8Kernel()];
    const maskKernels = a._maskKernels();
    const utf8Kernels = a._utf8Kernels();
    try {
      // Every mask kernel with every UTF-8 kernel would be n^2 runs; each pairing below puts
      // each kernel of both lists under the random streams at least once.
      for (let i = 0; i < Math.max(maskKernels.length, utf8Kernels.length); i++) {
        const pair = [maskKernels[i % maskKernels.length]!, utf8Kernels[i % utf8Kernels.length]!];
        a._maskKernel(pair[0]);
        a._utf8Kernel(pair[1]);
        fc.assert(
          fc.property(caseArb, (c) => {
            const stream = cat(...c.frames.map((f) => wire({ ...f, mask: c.expectMask ? f.mask : f.mask === false })));
            for (const [at, x] of c.flips) stream[Math.floor(at * stream.length)]! ^= x;
            const cuts = c.cuts.map((f) => Math.floor(f * stream.length)).sort((p, q) => p - q);
            expect(run(a.parseFrames, stream, cuts, c), pair.join('+')).toEqual(run(jsBackend.parseFrames, stream, cuts, c));
          }),
          { numRuns: 100 },
        );
      }
    } finally {
      a._maskKernel(bestMask);
      a._utf8Kernel(bestUtf8);
    }
  });

  it('agrees on frames with wrong masking and big announced lengths', () => {
    const native = addon!.parseFrames;
    const cases: Uint8Array[] = [
      wire({ opcode: 2, length64: 2n ** 53n, mask: true }),
      wire({ opcode: 2, length64: 2n ** 63n, mask: true }),
      wire({ opcode: 2, length64: 2n ** 53n - 1n, mask: true }),
      wire({ opcode: 2, length64: 2n ** 32n + 5n, mask: true }),
      wire({ opcode: 1, payload: 'abc', mask: false }),
    ];
    for (const input of cases) {
      for (const maxPayload of [0, 100, 2 ** 53 - 1]) {
        const c = { expectMask: true, allowedRsv: 0, maxPayload, capacity: 2 };
        expect(run(native, input, [], c)).toEqual(run(jsBackend.parseFrames, input, [], c));
      }
    }
  });

  it('throws the same errors for bad arguments and bad ctl states', () => {
    const native = addon!.parseFrames;
    const good = () => [new Uint8Array(4), 0, 4, new Float64Array(PARSE_CTL_SIZE), new Int32Array(3)] as unknown[];
    const variants: Array<(a: unknown[]) => void> = [
      (a) => (a[0] = [1, 2]),
      (a) => (a[0] = new Uint16Array(2)),
      (a) => (a[1] = -1),
      (a) => (a[1] = 1.5),
      (a) => (a[1] = '0'),
      (a) => (a[2] = 5),
      (a) => (a[1] = 3) && (a[2] = 2),
      (a) => (a[3] = new Float32Array(16)),
      (a) => (a[3] = new Float64Array(15)),
      (a) => (a[4] = new Uint32Array(3)),
      (a) => (a[4] = new Int32Array(2)),
      ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15].flatMap((slot) =>
        [-1, 0.5, NaN, Infinity, 2 ** 53, 0x100, 5].map((v) => (a: unknown[]) => {
          (a[3] as Float64Array)[slot] = v;
        }),
      ),
      (a) => {
        (a[3] as Float64Array)[ParseCtl.FRAME] = 0x181;
      },
      (a) => {
        (a[3] as Float64Array)[ParseCtl.FRAME] = 0x181;
        (a[3] as Float64Array)[ParseCtl.FRAME_REMAINING] = 3;
      },
      (a) => {
        (a[3] as Float64Array)[ParseCtl.FRAME] = 0x183;
        (a[3] as Float64Array)[ParseCtl.FRAME_REMAINING] = 3;
      },
    ];
    const call = (f: Parse, args: unknown[]): string => {
      try {
        return `ok ${(f as (...x: unknown[]) => number)(...args)}`;
      } catch (err) {
        return `${(err as Error).constructor.name}: ${(err as Error).message}`;
      }
    };
    for (const v of variants) {
      const a1 = good();
      v(a1);
      const a2 = good();
      v(a2);
      expect(call(native, a1)).toEqual(call(jsBackend.parseFrames, a2));
    }
  });
});
