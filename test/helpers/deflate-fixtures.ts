/**
 * Inputs and helpers shared by the deflate suites (test/backend/deflate.test.ts runs on each backend,
 * test/backend/deflate-parity.test.ts compares the two).
 */
import * as zlib from 'node:zlib';

import { InflateStatus } from '../../src/backend';
import type { DeflaterOptions } from '../../src/backend';

export const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
export const BIG = 1 << 30;

/** Deterministic test data: text-like with repeats at short and long distances. */
export function sample(size: number, seed: number): Buffer {
  const words = ['{"id":', '"price":', '"qty":', ',', '}', '[', ']', 'alpha', 'bravo', ' ', '12.5', '"side":"buy"'];
  let s = seed >>> 0 || 1;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const w = rnd() < 0.1 ? String(Math.floor(rnd() * 1e6)) : words[Math.floor(rnd() * words.length)]!;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('').slice(0, size));
}

/** Bytes with many repeats at distances 250..300 (around the 256-byte window of bits 8). */
export function nearWindowRepeats(size: number): Buffer {
  const b = Buffer.alloc(size);
  let s = 7;
  for (let i = 0; i < size; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    b[i] = i >= 300 && s % 7 < 5 ? b[i - 250 - (s % 51)]! : s >>> 24;
  }
  return b;
}

export function ok(r: Uint8Array | InflateStatus): Buffer {
  if (typeof r === 'number') throw new Error(`inflate failed with status ${InflateStatus[r]}`);
  return Buffer.from(r);
}

export const combos: Array<Omit<DeflaterOptions, 'windowBits' | 'noContextTakeover'>> = [
  {},
  { memLevel: 1, level: 1 },
  { memLevel: 9, level: 9 },
  { level: 0 },
  { strategy: 1 },
  { strategy: 2, memLevel: 4 },
  { strategy: 3, level: 4 },
  { strategy: 4 },
];

