/**
 * RFC 6455 §5.3 masking through the active backend (the suite runs once per backend), and
 * in the native project through every SIMD kernel the CPU has (the addon's _maskKernel
 * hook), since the backend alone would exercise only the widest one.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { backend, backendName, jsBackend } from '../../src/backend';
import { loadNativeAddon } from '../../src/backend/native';
import type { NativeAddon } from '../../src/backend/native-addon';

type MaskFn = NativeAddon['mask'];
type UnmaskFn = NativeAddon['unmask'];
interface Impl {
  name: string;
  mask: MaskFn;
  unmask: UnmaskFn;
  /** Makes this implementation's kernel the active one (native kernels share global state). */
  select(): void;
}

const addon = loadNativeAddon();
const bestKernel = addon._maskKernel();
afterAll(() => {
  addon._maskKernel(bestKernel);
});

const impls: Impl[] = [{ name: `backend (${backendName})`, mask: backend.mask, unmask: backend.unmask, select: () => addon._maskKernel(bestKernel) }];
if (backendName === 'native') {
  for (const kernel of addon._maskKernels()) {
    impls.push({ name: `addon/${kernel}`, mask: addon.mask, unmask: addon.unmask, select: () => addon._maskKernel(kernel) });
  }
} else {
  impls.push({ name: 'jsBackend', mask: jsBackend.mask, unmask: jsBackend.unmask, select: () => undefined });
}

const KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

function reference(source: Uint8Array, key: Uint8Array, keyOffset: number): Uint8Array {
  const out = new Uint8Array(source.length);
  for (let i = 0; i < source.length; i++) out[i] = source[i]! ^ key[(keyOffset + i) % 4]!;
  return out;
}

function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Byte equality without the cost of a deep-equality diff on every call of a sweep. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

function allEqual(a: Uint8Array, value: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== value) return false;
  return true;
}

function expectThrow(fn: () => unknown, cls: typeof TypeError | typeof RangeError, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(cls);
  expect((caught as Error).constructor).toBe(cls);
  expect((caught as Error).message).toBe(message);
}

describe.each(impls)('mask: $name', (impl) => {
  it('masks every length 0..300 at every key phase, from and into subarrays, touching nothing else', () => {
    impl.select();
    const guard = 0xa5;
    const failures: string[] = [];
    for (let n = 0; n <= 300; n++) {
      const big = pattern(n + 7, n);
      const source = big.subarray(3, 3 + n); // byteOffset 3: unaligned
      for (let phase = 0; phase < 4; phase++) {
        const outer = new Uint8Array(n + 16).fill(guard);
        const target = outer.subarray(5, 5 + n + 6); // target view itself at offset 5
        impl.mask(source, KEY, target, 2, phase);
        if (!same(outer.subarray(7, 7 + n), reference(source, KEY, phase))) failures.push(`n=${n} phase=${phase}: wrong bytes`);
        if (!allEqual(outer.subarray(0, 7), guard) || !allEqual(outer.subarray(7 + n), guard)) failures.push(`n=${n} phase=${phase}: wrote outside`);
      }
      if (!same(big, pattern(n + 7, n))) failures.push(`n=${n}: source modified`);
    }
    expect(failures).toEqual([]);
  });

  it('unmasks every length 0..300 in place, inside a larger buffer', () => {
    impl.select();
    const failures: string[] = [];
    for (let n = 0; n <= 300; n++) {
      const outer = pattern(n + 9, n + 1000);
      const before = outer.slice();
      const data = outer.subarray(1, 1 + n);
      impl.unmask(data, KEY, n & 3);
      if (!same(data, reference(before.subarray(1, 1 + n), KEY, n & 3))) failures.push(`n=${n}: wrong bytes`);
      if (outer[0] !== before[0] || !same(outer.subarray(1 + n), before.subarray(1 + n))) failures.push(`n=${n}: wrote outside`);
    }
    expect(failures).toEqual([]);
  });

  it('masks 1 MiB + 3 bytes, copying and in place, at a phase of 1', () => {
    impl.select();
    const n = 1024 * 1024 + 3;
    const source = pattern(n, 7);
    const expected = reference(source, KEY, 1);
    const target = new Uint8Array(n + 1);
    impl.mask(source, KEY, target, 1, 1);
    expect(same(target.subarray(1), expected)).toBe(true);
    impl.unmask(source, KEY, 1);
    expect(same(source, expected)).toBe(true);
  });

  it('masks lengths around the 32 KiB switch between 512- and 256-bit loops', () => {
    impl.select();
    const failures: string[] = [];
    for (const n of [32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 32 * 1024 + 63, 32 * 1024 + 64, 32 * 1024 + 65, 40_003]) {
      const source = pattern(n, n);
      for (let phase = 0; phase < 4; phase++) {
        const target = new Uint8Array(n + 2);
        impl.mask(source, KEY, target, 1, phase);
        if (!same(target.subarray(1, 1 + n), reference(source, KEY, phase)) || target[0] !== 0 || target[n + 1] !== 0) failures.push(`n=${n} phase=${phase}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('handles every pair of source/target alignments (mod 8)', () => {
    impl.select();
    const n = 777;
    const base = pattern(n + 8, 3);
    for (let s = 0; s < 8; s++) {
      const source = base.subarray(s, s + n);
      const expected = reference(source, KEY, 3);
      for (let t = 0; t < 8; t++) {
        const target = new Uint8Array(n + 8);
        impl.mask(source, KEY, target.subarray(t), 0, 3);
        expect(same(target.subarray(t, t + n), expected)).toBe(true);
      }
    }
  });

  it('continues the key phase across split calls (and far offsets keep their phase)', () => {
    impl.select();
    const n = 200;
    const source = pattern(n, 9);
    const whole = reference(source, KEY, 0);
    for (let cut = 0; cut <= n; cut += 7) {
      const target = new Uint8Array(n);
      impl.mask(source.subarray(0, cut), KEY, target, 0, 0);
      impl.mask(source.subarray(cut), KEY, target, cut, cut);
      expect(target).toEqual(whole);
    }
    const far = new Uint8Array(n);
    impl.mask(source, KEY, far, 0, 2 ** 40 + 1); // phase 1
    expect(far).toEqual(reference(source, KEY, 1));
    const beyond = new Uint8Array(n);
    impl.mask(source, KEY, beyond, 0, 2 ** 60); // an exact multiple of 4
    expect(beyond).toEqual(whole);
  });

  it('treats an undefined offset as 0 and masks in place when source is target', () => {
    impl.select();
    const data = pattern(100, 4);
    const expected = reference(data, KEY, 0);
    const copy = new Uint8Array(100);
    (impl.mask as (s: Uint8Array, k: Uint8Array, t: Uint8Array) => void)(data, KEY, copy);
    expect(copy).toEqual(expected);
    impl.mask(data, KEY, data, 0, 0);
    expect(data).toEqual(expected);
  });

  it('behaves as if an overlapping source were copied first, and reads the key before writing', () => {
    impl.select();
    for (const [n, from, to] of [
      [300, 0, 5],
      [300, 5, 0],
      [10, 1, 0],
      [10, 0, 1],
    ] as const) {
      const buf = pattern(n + 10, n + from);
      const expected = reference(buf.slice(from, from + n), KEY, 1);
      impl.mask(buf.subarray(from, from + n), KEY, buf, to, 1);
      expect(buf.subarray(to, to + n)).toEqual(expected);
    }
    const buf = pattern(64, 5);
    const key = buf.subarray(0, 4); // the key is inside the bytes being overwritten
    const expected = reference(buf.slice(), buf.slice(0, 4), 0);
    impl.unmask(buf, key, 0);
    expect(buf).toEqual(expected);
  });

  it('works on Buffers and on SharedArrayBuffer-backed arrays', () => {
    impl.select();
    const shared = new Uint8Array(new SharedArrayBuffer(150));
    shared.set(pattern(150, 2));
    const expected = reference(shared.slice(), KEY, 0);
    impl.unmask(shared, KEY, 0);
    expect(shared.slice()).toEqual(expected);
    const buf = Buffer.from(pattern(150, 2));
    const out = Buffer.alloc(150);
    impl.mask(buf, Buffer.from(KEY), out, 0, 0);
    expect(new Uint8Array(out)).toEqual(expected);
  });

  it('rejects bad arguments with the documented error class and message', () => {
    impl.select();
    const src = new Uint8Array(8);
    const dst = new Uint8Array(8);
    const loose = impl.mask as unknown as (...args: unknown[]) => void;
    const looseUnmask = impl.unmask as unknown as (...args: unknown[]) => void;
    for (const bad of [undefined, null, 'abcd', 42, [1, 2, 3, 4], new ArrayBuffer(8), new Uint8ClampedArray(8), new Int8Array(8), new Uint16Array(4), new DataView(new ArrayBuffer(8))]) {
      expectThrow(() => loose(bad, KEY, dst, 0, 0), TypeError, 'source must be a Uint8Array');
      expectThrow(() => loose(src, bad, dst, 0, 0), TypeError, 'key must be a Uint8Array');
      expectThrow(() => loose(src, KEY, bad, 0, 0), TypeError, 'target must be a Uint8Array');
      expectThrow(() => looseUnmask(bad, KEY, 0), TypeError, 'data must be a Uint8Array');
      expectThrow(() => looseUnmask(dst, bad, 0), TypeError, 'key must be a Uint8Array');
    }
    for (const key of [new Uint8Array(0), new Uint8Array(3), new Uint8Array(5), Buffer.alloc(8).subarray(1, 4)]) {
      expectThrow(() => impl.mask(src, key, dst, 0, 0), TypeError, 'key must be exactly 4 bytes');
      expectThrow(() => impl.unmask(dst, key, 0), TypeError, 'key must be exactly 4 bytes');
    }
    for (const off of [-1, -0.5, 1.5, NaN, Infinity, -Infinity, '1', null, true, 1n, {}]) {
      expectThrow(() => loose(src, KEY, dst, off, 0), RangeError, 'targetOffset must be a non-negative integer');
      expectThrow(() => loose(src, KEY, dst, 0, off), RangeError, 'keyOffset must be a non-negative integer');
      expectThrow(() => looseUnmask(dst, KEY, off), RangeError, 'keyOffset must be a non-negative integer');
    }
    expectThrow(() => impl.mask(src, KEY, new Uint8Array(7), 0, 0), RangeError, 'source does not fit in target at targetOffset');
    expectThrow(() => impl.mask(src, KEY, dst, 1, 0), RangeError, 'source does not fit in target at targetOffset');
    expectThrow(() => impl.mask(new Uint8Array(0), KEY, dst, 9, 0), RangeError, 'source does not fit in target at targetOffset');
    expectThrow(() => impl.mask(src, KEY, dst, 2 ** 64, 0), RangeError, 'source does not fit in target at targetOffset');
    // Checked in order: the first bad argument decides.
    expectThrow(() => loose(null, null, null, -1, -1), TypeError, 'source must be a Uint8Array');
    expectThrow(() => loose(src, KEY, dst, -1, -1), RangeError, 'targetOffset must be a non-negative integer');
    expect(allEqual(dst, 0)).toBe(true); // nothing was written by a rejected call
  });

  it('accepts zero-length input (a no-op) and detached buffers without crashing', () => {
    impl.select();
    const dst = pattern(8, 6);
    const before = dst.slice();
    impl.mask(new Uint8Array(0), KEY, dst, 8, 0); // at the very end: fits
    impl.mask(new Uint8Array(0), KEY, new Uint8Array(0), 0, 3);
    impl.unmask(new Uint8Array(0), KEY, 0);
    expect(dst).toEqual(before);

    const detach = (a: Uint8Array): Uint8Array => {
      structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
      return a;
    };
    const gone = detach(pattern(16, 8));
    expect(gone.length).toBe(0);
    impl.mask(gone, KEY, dst, 0, 0);
    impl.unmask(gone, KEY, 1);
    impl.mask(gone, KEY, detach(new Uint8Array(4)), 0, 0);
    expect(dst).toEqual(before);
    expectThrow(() => impl.mask(pattern(4), KEY, detach(new Uint8Array(8)), 0, 0), RangeError, 'source does not fit in target at targetOffset');
    expectThrow(() => impl.unmask(dst, detach(KEY.slice()), 0), TypeError, 'key must be exactly 4 bytes');
  });
});
