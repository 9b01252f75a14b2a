/**
 * Pure-TS twin of native/mask.cc: RFC 6455 §5.3 XOR masking ("octet i of the transformed
 * data is the XOR of octet i of the original data with octet at index i modulo 4 of the
 * masking key").
 *
 * Short inputs run a byte loop unrolled by the key period. Long ones XOR 32 bits at a time:
 * through Uint32Array views when source and target share their alignment modulo 4 (the
 * common case), through DataView otherwise. A view costs an allocation, so that only pays
 * off above WORDS_MIN_BYTES.
 */
import { requireBytes, requireMaskKey, requireOffset } from './args';

// Views cost ~400 ns here (two Uint32Arrays and the key word) against ~2.2 ns per byte for the
// byte loop; measured crossover 192 B (Xeon, node 20; see docs/benchmarks.md).
const WORDS_MIN_BYTES = 192;

// Four key bytes -> one 32-bit word in the platform's byte order, which is the order a
// Uint32Array view reads the payload in.
const probeBytes = new Uint8Array(4);
const probeWord = new Uint32Array(probeBytes.buffer);

function keyWord(k0: number, k1: number, k2: number, k3: number): number {
  probeBytes[0] = k0;
  probeBytes[1] = k1;
  probeBytes[2] = k2;
  probeBytes[3] = k3;
  return probeWord[0]!;
}

/** Byte loop: dst[at + i] = src[from + i] ^ key byte, for i < n, starting at key phase 0 = k0. */
function maskBytes(src: Uint8Array, from: number, dst: Uint8Array, at: number, n: number, k0: number, k1: number, k2: number, k3: number): void {
  let i = 0;
  for (const end = n - 3; i < end; i += 4) {
    dst[at + i] = src[from + i]! ^ k0;
    dst[at + i + 1] = src[from + i + 1]! ^ k1;
    dst[at + i + 2] = src[from + i + 2]! ^ k2;
    dst[at + i + 3] = src[from + i + 3]! ^ k3;
  }
  if (i < n) dst[at + i] = src[from + i]! ^ k0;
  if (i + 1 < n) dst[at + i + 1] = src[from + i + 1]! ^ k1;
  if (i + 2 < n) dst[at + i + 2] = src[from + i + 2]! ^ k2;
}

/** 32 bits at a time; `keys` is [k0, k1, k2, k3] at the phase of src[0]. */
function maskWords(src: Uint8Array, dst: Uint8Array, at: number, n: number, keys: readonly number[]): void {
  const srcStart = src.byteOffset;
  const dstStart = dst.byteOffset + at;
  if (((srcStart ^ dstStart) & 3) === 0) {
    const head = (4 - (srcStart & 3)) & 3; // bytes until both are 4-aligned
    maskBytes(src, 0, dst, at, head, keys[0]!, keys[1]!, keys[2]!, keys[3]!);
    const count = (n - head) >>> 2;
    const w = keyWord(keys[head & 3]!, keys[(head + 1) & 3]!, keys[(head + 2) & 3]!, keys[(head + 3) & 3]!);
    const s32 = new Uint32Array(src.buffer, srcStart + head, count);
    const d32 = s32.buffer === dst.buffer && srcStart === dstStart ? s32 : new Uint32Array(dst.buffer, dstStart + head, count);
    let j = 0;
    for (const end = count - 3; j < end; j += 4) {
      d32[j] = s32[j]! ^ w;
      d32[j + 1] = s32[j + 1]! ^ w;
      d32[j + 2] = s32[j + 2]! ^ w;
      d32[j + 3] = s32[j + 3]! ^ w;
    }
    for (; j < count; j++) d32[j] = s32[j]! ^ w;
    const done = head + count * 4; // a multiple of 4 past head: the phase is keys[head & 3] again
    const p = done & 3;
    maskBytes(src, done, dst, at + done, n - done, keys[p]!, keys[(p + 1) & 3]!, keys[(p + 2) & 3]!, keys[(p + 3) & 3]!);
    return;
  }
  // Different alignments: unaligned 32-bit access through DataView, little-endian on both
  // sides, so the key word is little-endian too.
  const sv = new DataView(src.buffer, srcStart, n);
  const dv = new DataView(dst.buffer, dstStart, n);
  const w = keys[0]! | (keys[1]! << 8) | (keys[2]! << 16) | (keys[3]! << 24);
  let i = 0;
  for (const end = n - 3; i < end; i += 4) dv.setInt32(i, sv.getInt32(i, true) ^ w, true);
  maskBytes(src, i, dst, at + i, n - i, keys[0]!, keys[1]!, keys[2]!, keys[3]!);
}

export function mask(source: Uint8Array, key: Uint8Array, target: Uint8Array, targetOffset?: number, keyOffset?: number): void {
  requireBytes(source, 'source');
  requireMaskKey(key);
  requireBytes(target, 'target');
  const at = requireOffset(targetOffset, 'targetOffset');
  // % on doubles is exact, so the phase is right even past 2^53 (where `+ i` would round).
  const phase = requireOffset(keyOffset, 'keyOffset') % 4;
  const n = source.length;
  if (at > target.length || n > target.length - at) {
    throw new RangeError('source does not fit in target at targetOffset');
  }
  if (n === 0) return;
  // Read the key before writing anything: it may live inside the target.
  const k0 = key[phase]!;
  const k1 = key[(phase + 1) & 3]!;
  const k2 = key[(phase + 2) & 3]!;
  const k3 = key[(phase + 3) & 3]!;
  let src = source;
  // A source partly overlapping the target behaves as if copied first (as native does);
  // TypedArray#set copes with the overlap. The byte ranges are compared before the buffers:
  // `.buffer` costs more than the whole loop of a small mask, and unrelated arrays rarely
  // have overlapping offsets.
  const s = source.byteOffset;
  const d = target.byteOffset + at;
  if (s !== d && s < d + n && d < s + n && source.buffer === target.buffer) {
    target.set(source, at);
    src = target.subarray(at, at + n);
  }
  if (n < WORDS_MIN_BYTES) maskBytes(src, 0, target, at, n, k0, k1, k2, k3);
  else maskWords(src, target, at, n, [k0, k1, k2, k3]);
}

export function unmask(data: Uint8Array, key: Uint8Array, keyOffset?: number): void {
  mask(requireBytes(data, 'data'), key, data, 0, keyOffset);
}
