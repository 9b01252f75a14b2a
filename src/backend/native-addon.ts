/**
 * The raw exports of the C++ addon (native/addon.cc). Only backend/ sees this type; the
 * rest of the package sees {@link Backend}. Argument checking happens in C++, so a wrong
 * call throws a TypeError/RangeError instead of reading out of bounds.
 */
export interface NativeAddon {
  /** Hash of the native sources the binary was built from (scripts/source-hash.js). */
  readonly sourceHash: string;
  mask(source: Uint8Array, key: Uint8Array, target: Uint8Array, targetOffset: number, keyOffset: number): void;
  unmask(data: Uint8Array, key: Uint8Array, keyOffset: number): void;
  isUtf8(data: Uint8Array): boolean;
  utf8Step(data: Uint8Array, state: number): number;
}
