/** Pure-TS twin of native/mask.cc: RFC 6455 §5.3 XOR masking. */
import { requireBytes, requireMaskKey, requireOffset } from './args';

export function mask(source: Uint8Array, key: Uint8Array, target: Uint8Array, targetOffset?: number, keyOffset?: number): void {
  requireBytes(source, 'source');
  requireMaskKey(key);
  requireBytes(target, 'target');
  const at = requireOffset(targetOffset, 'targetOffset');
  const phase = requireOffset(keyOffset, 'keyOffset');
  const length = source.length;
  if (at > target.length || length > target.length - at) {
    throw new RangeError('source does not fit in target at targetOffset');
  }
  const k0 = key[phase & 3]!;
  const k1 = key[(phase + 1) & 3]!;
  const k2 = key[(phase + 2) & 3]!;
  const k3 = key[(phase + 3) & 3]!;
  let i = 0;
  for (const end = length & ~3; i < end; i += 4) {
    target[at + i] = source[i]! ^ k0;
    target[at + i + 1] = source[i + 1]! ^ k1;
    target[at + i + 2] = source[i + 2]! ^ k2;
    target[at + i + 3] = source[i + 3]! ^ k3;
  }
  for (; i < length; i++) target[at + i] = source[i]! ^ key[(phase + i) & 3]!;
}

export function unmask(data: Uint8Array, key: Uint8Array, keyOffset?: number): void {
  mask(requireBytes(data, 'data'), key, data, 0, keyOffset);
}
