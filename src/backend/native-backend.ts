/**
 * The native backend: the addon's kernels, with the pure-TS path kept for inputs so small
 * that crossing into C++ costs more than it saves (thresholds measured by bench/micro,
 * see docs/benchmarks.md).
 */
import type { Backend } from './types';
import { MASK_NATIVE_MIN_BYTES } from './thresholds';
import { loadNativeAddon } from './native';
import * as jsMask from './js/mask';
import * as jsUtf8 from './js/utf8';
import { checkDeflaterOptions, checkInflaterOptions } from './js/deflate';
import type { Deflater, DeflaterOptions, Inflater, InflaterOptions } from './deflate-types';

export { MASK_NATIVE_MIN_BYTES };
/**
 * Below this many bytes JS validates UTF-8 faster than a native call returns. Same runs:
 * crossover (see ./thresholds.ts for the runs) 48-64 B on ASCII text (isUtf8 and utf8Step), 24-32 B on mixed Latin/CJK text.
 */
export const UTF8_NATIVE_MIN_BYTES = 64;

/** The addon exports the native backend is built from (test/backend/backend-parity.test.ts pins the list). */
export const NATIVE_KERNELS = ['mask', 'unmask', 'isUtf8', 'utf8Step', 'parseFrames', 'Inflater', 'Deflater'] as const;

export function createNativeBackend(): Backend & { readonly sourceHash: string } {
  const addon = loadNativeAddon();
  // A stale binary (an old prebuild) missing a kernel must not pass for native.
  for (const name of NATIVE_KERNELS) {
    if (typeof addon[name] !== 'function') throw new Error(`the native addon has no ${name}: it is stale (npm run build:native)`);
  }
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
    // One call per socket chunk, whatever its size: never worth a JS detour.
    parseFrames: addon.parseFrames,
    // The native objects are returned as they are: their methods are the interface.
    createInflater(options: InflaterOptions): Inflater {
      const o = checkInflaterOptions(options);
      return new addon.Inflater(o.windowBits, o.noContextTakeover);
    },
    createDeflater(options: DeflaterOptions): Deflater {
      const o = checkDeflaterOptions(options);
      return new addon.Deflater(o.windowBits, o.memLevel, o.level, o.strategy, o.noContextTakeover);
    },
  });
}
