/**
 * The native backend: the addon's kernels, with the pure-TS path kept for inputs so small
 * that crossing into C++ costs more than it saves (thresholds measured by bench/micro,
 * see docs/benchmarks.md).
 */
import type { Backend } from './types';
import { loadNativeAddon } from './native';
import * as jsMask from './js/mask';
import * as jsUtf8 from './js/utf8';

/**
 * Below this many bytes the JS loop masks faster than a native call returns.
 * Measured by `npm run bench:micro` (docs/benchmarks.md, "mask crossover").
 */
export const MASK_NATIVE_MIN_BYTES = 0;
/** Below this many bytes JS validates UTF-8 faster than a native call returns. */
export const UTF8_NATIVE_MIN_BYTES = 0;

export function createNativeBackend(): Backend & { readonly sourceHash: string } {
  const addon = loadNativeAddon();
  return Object.freeze({
    name: 'native' as const,
    sourceHash: addon.sourceHash,
    mask(source: Uint8Array, key: Uint8Array, target: Uint8Array, targetOffset = 0, keyOffset = 0): void {
      if (source instanceof Uint8Array && source.length < MASK_NATIVE_MIN_BYTES) {
        jsMask.mask(source, key, target, targetOffset, keyOffset);
      } else {
        addon.mask(source, key, target, targetOffset, keyOffset);
      }
    },
    unmask(data: Uint8Array, key: Uint8Array, keyOffset = 0): void {
      if (data instanceof Uint8Array && data.length < MASK_NATIVE_MIN_BYTES) jsMask.unmask(data, key, keyOffset);
      else addon.unmask(data, key, keyOffset);
    },
    isUtf8(data: Uint8Array): boolean {
      if (data instanceof Uint8Array && data.length < UTF8_NATIVE_MIN_BYTES) return jsUtf8.isUtf8(data);
      return addon.isUtf8(data);
    },
    utf8Step(data: Uint8Array, state: number): number {
      if (data instanceof Uint8Array && data.length < UTF8_NATIVE_MIN_BYTES) return jsUtf8.utf8Step(data, state);
      return addon.utf8Step(data, state);
    },
  });
}
