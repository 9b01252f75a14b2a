/**
 * The seam's promise (src/backend/types.ts): native and js give identical results, errors
 * included, for identical inputs. fast-check feeds both the same random inputs: the raw
 * addon (every SIMD kernel the CPU has) against the pure-TS twins, and the active backend
 * (with its small-input thresholds) against both. The addon is required in both vitest
 * projects: CI builds it, and a parity test that silently skips proves nothing.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { backend, jsBackend } from '../../src/backend';
import { loadNativeAddon } from '../../src/backend/native';
import { NATIVE_KERNELS } from '../../src/backend/native-backend';
import type { NativeAddon } from '../../src/backend/native-addon';

const addon = loadNativeAddon();
const bestMask = addon._maskKernel();
const bestUtf8 = addon._utf8Kernel();
afterAll(() => {
  addon._maskKernel(bestMask);
  addon._utf8Kernel(bestUtf8);
});

type Outcome = { threw: string } | { value: unknown; bytes: number[] };

/** Runs fn and records what a caller could observe: the error (class + message) or the result and the written bytes. */
function outcome(fn: () => unknown, written: () => Uint8Array | undefined): Outcome {
  try {
    const value = fn();
    return { value, bytes: Array.from(written() ?? []) };
  } catch (err) {
    return { threw: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
}

// Bytes biased towards the interesting ones: ASCII, continuations, every kind of lead.
const interestingByte = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff),
);
const randomBytes = fc.array(interestingByte, { maxLength: 400 }).map((a) => Uint8Array.from(a));
const validText = fc
  .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme-ascii', maxLength: 80 })), { maxLength: 12 })
  .map((parts) => new Uint8Array(Buffer.from(parts.join(''), 'utf8')));
const corruptedText = fc.tuple(validText, fc.nat(), interestingByte).map(([data, at, b]) => {
  const out = data.slice();
  if (out.length > 0) out[at % out.length] = b;
  return out;
});
// ... placed at a random byteOffset inside a larger buffer (the js twin reads aligned words).
const anyText = fc.tuple(fc.oneof(randomBytes, validText, corruptedText), fc.nat(7)).map(([data, lead]) => {
  const holder = new Uint8Array(data.length + lead);
  holder.set(data, lead);
  return holder.subarray(lead);
});

// Offsets: mostly small valid ones, sometimes huge, negative, fractional or not numbers.
const offset = fc.oneof(
  { weight: 8, arbitrary: fc.nat(16) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 32 + 1, 2 ** 53, 2 ** 60 + 4, -1, -0, 1.5, NaN, Infinity, undefined, null, '1') },
);
const key = fc.uint8Array({ minLength: 4, maxLength: 4 });
const maskCase = fc.record({
  source: fc.uint8Array({ maxLength: 700 }),
  lead: fc.nat(7), // the source starts this far into a larger buffer
  key,
  keyOffset: offset,
  targetOffset: offset,
  targetLength: fc.nat(720),
});

type MaskFn = (...args: unknown[]) => void;

function runMask(mask: MaskFn, c: { source: Uint8Array; lead: number; key: Uint8Array; keyOffset: unknown; targetOffset: unknown; targetLength: number }): Outcome {
  const holder = new Uint8Array(c.source.length + c.lead);
  holder.set(c.source, c.lead);
  const target = new Uint8Array(c.targetLength).fill(0x5a);
  return outcome(
    () => mask(holder.subarray(c.lead), c.key, target, c.targetOffset, c.keyOffset),
    () => target,
  );
}

describe.each(addon._maskKernels())('mask parity, native kernel %s', (kernel) => {
  it('mask: same bytes or same error for random inputs', () => {
    addon._maskKernel(kernel);
    fc.assert(
      fc.property(maskCase, (c) => {
        const js = runMask(jsBackend.mask as MaskFn, c);
        expect(runMask(addon.mask as MaskFn, c)).toEqual(js);
        expect(runMask(backend.mask as MaskFn, c)).toEqual(js);
      }),
      { numRuns: 300 },
    );
  });

  it('unmask: same bytes or same error for random inputs', () => {
    addon._maskKernel(kernel);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), key, offset, (data, k, keyOffset) => {
        const run = (unmask: MaskFn): Outcome => {
          const copy = data.slice();
          return outcome(() => unmask(copy, k, keyOffset), () => copy);
        };
        const js = run(jsBackend.unmask as MaskFn);
        expect(run(addon.unmask as MaskFn)).toEqual(js);
        expect(run(backend.unmask as MaskFn)).toEqual(js);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the addon exports', () => {
  // A new native export must come with its TypeScript twin (and a parity test): this list
  // changes only together with src/backend/native-addon.ts and the Backend interface.
  it('exactly the kernels the Backend interface maps, plus build metadata and test hooks', () => {
    // The socket transport (native/transport.cc, Linux only) is the exception: its js
    // counterpart is Node's own sockets (NodeStreamTransport), tested in test/io/native-transport*.
    const transport = process.platform === 'linux' ? ['NativeSocket', '_transportLive', 'transportSetup'] : [];
    expect(Object.keys(addon).sort()).toEqual(
      ['Deflater', 'Inflater', '_maskKernel', '_maskKernels', '_utf8Kernel', '_utf8Kernels', 'isUtf8', 'mask', 'parseFrames', 'sourceHash', 'unmask', 'utf8Step', ...transport].sort(),
    );
    // Each kernel's twin: the Backend method the native backend builds from it.
    const twins: Record<(typeof NATIVE_KERNELS)[number], keyof typeof jsBackend> = {
      mask: 'mask',
      unmask: 'unmask',
      isUtf8: 'isUtf8',
      utf8Step: 'utf8Step',
      parseFrames: 'parseFrames',
      Inflater: 'createInflater',
      Deflater: 'createDeflater',
    };
    expect(Object.keys(twins).sort()).toEqual([...NATIVE_KERNELS].sort());
    for (const [name, twin] of Object.entries(twins)) {
      expect(typeof (addon as unknown as Record<string, unknown>)[name], name).toBe('function');
      expect(typeof jsBackend[twin], twin).toBe('function');
    }
  });
});

describe('argument checking parity', () => {
  const weird = fc.oneof(
    fc.anything(),
    fc.constantFrom(new Uint8ClampedArray(4), new Int8Array(4), new Uint16Array(2), new DataView(new ArrayBuffer(4)), new ArrayBuffer(4), Buffer.alloc(4), new Uint8Array(3)),
    fc.uint8Array({ maxLength: 8 }),
  );
  it('mask/unmask/isUtf8/utf8Step throw the same thing for any argument values', () => {
    fc.assert(
      fc.property(weird, weird, weird, weird, weird, (a, b, c, d, e) => {
        const call = (impl: typeof jsBackend | NativeAddon, name: 'mask' | 'unmask' | 'isUtf8' | 'utf8Step'): Outcome => {
          const fn = impl[name] as unknown as MaskFn;
          const target = c instanceof Uint8Array ? c.slice() : c; // each run writes into its own copy
          return outcome(() => fn(a instanceof Uint8Array ? a.slice() : a, b, target, d, e), () => (target instanceof Uint8Array ? target : undefined));
        };
        for (const name of ['mask', 'unmask', 'isUtf8', 'utf8Step'] as const) {
          expect(call(addon, name), name).toEqual(call(jsBackend, name));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe.each(addon._utf8Kernels())('UTF-8 parity, native kernel %s', (kernel) => {
  it('isUtf8 and utf8Step agree on random bytes, valid text and corrupted text', () => {
    addon._utf8Kernel(kernel);
    fc.assert(
      fc.property(anyText, fc.integer({ min: 0, max: 7 }), (data, state) => {
        const js = jsBackend.isUtf8(data);
        expect(addon.isUtf8(data)).toBe(js);
        expect(backend.isUtf8(data)).toBe(js);
        const step = jsBackend.utf8Step(data, state);
        expect(addon.utf8Step(data, state)).toBe(step);
        expect(backend.utf8Step(data, state)).toBe(step);
      }),
      { numRuns: 400 },
    );
  });

  it('utf8Step agrees piece by piece at random split points, and states cross backends', () => {
    addon._utf8Kernel(kernel);
    fc.assert(
      fc.property(anyText, fc.array(fc.nat(), { maxLength: 6 }), (data, rawCuts) => {
        const cuts = [...new Set(rawCuts.map((c) => c % (data.length + 1)))].sort((x, y) => x - y);
        const bounds = [0, ...cuts, data.length];
        let sJs = 0;
        let sNative = 0;
        let sMixed = 0; // alternate backends piece by piece
        for (let p = 0; p + 1 < bounds.length && sJs >= 0; p++) {
          const piece = data.subarray(bounds[p], bounds[p + 1]);
          sJs = jsBackend.utf8Step(piece, sJs);
          sNative = addon.utf8Step(piece, sNative);
          sMixed = (p % 2 === 0 ? addon : jsBackend).utf8Step(piece, sMixed);
          expect(sNative).toBe(sJs);
          expect(sMixed).toBe(sJs);
        }
        if (sJs >= 0) expect(sJs === 0).toBe(jsBackend.isUtf8(data));
      }),
      { numRuns: 400 },
    );
  });
});
