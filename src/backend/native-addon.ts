/**
 * The raw exports of the C++ addon (native/addon.cc). Only backend/ sees this type; the
 * rest of the package sees {@link Backend}. Argument checking happens in C++, so a wrong
 * call throws a TypeError/RangeError instead of reading out of bounds.
 */
import type { Deflater, Inflater } from './deflate-types';

export interface NativeAddon {
  /** Hash of the native sources the binary was built from (scripts/source-hash.js). */
  readonly sourceHash: string;
  /**
   * Test hooks (native/mask.cc, native/utf8.cc): the SIMD kernels this CPU can run, and the
   * active one (`name` selects another). The backend never calls them; tests and fuzz/
   * use them to check every kernel.
   */
  _maskKernels(): string[];
  _maskKernel(name?: string): string;
  _utf8Kernels(): string[];
  _utf8Kernel(name?: string): string;
  mask(source: Uint8Array, key: Uint8Array, target: Uint8Array, targetOffset: number, keyOffset: number): void;
  unmask(data: Uint8Array, key: Uint8Array, keyOffset: number): void;
  isUtf8(data: Uint8Array): boolean;
  utf8Step(data: Uint8Array, state: number): number;
  /** native/frames.cc; see Backend.parseFrames. */
  parseFrames(buf: Uint8Array, start: number, end: number, ctl: Float64Array, records: Int32Array): number;
  /** native/deflate.cc; see Backend.createInflater (options are checked in TS first). */
  Inflater: new (windowBits: number, noContextTakeover: boolean) => Inflater;
  /** native/deflate.cc; see Backend.createDeflater. */
  Deflater: new (windowBits: number, memLevel: number, level: number, strategy: number, noContextTakeover: boolean) => Deflater;
  /** native/transport.cc (Linux only; absent elsewhere); see ./socket-binding.ts. */
  // Generic in the owner type: the addon calls the four functions with `this` = the owner
  // passed to NativeSocket.
  transportSetup?: <Owner extends object>(
    onData: (this: Owner, length: number) => void,
    onFlush: (this: Owner, queued: number) => void,
    onEnd: (this: Owner) => void,
    onClose: (this: Owner, errno: number) => void,
  ) => ArrayBuffer;
  NativeSocket?: new (fd: number, owner: object, maxQueued: number) => NativeSocketHandle;
  /** Test hook: native sockets of this thread not yet freed. */
  _transportLive?: () => number;
}

/** One connection's fd, owned by the addon (native/transport.cc). */
export interface NativeSocketHandle {
  /** Queued bytes after the call (0: the kernel took everything), or -errno: the socket is closing. */
  write(chunks: readonly Uint8Array[]): number;
  pause(): void;
  resume(): void;
  /** shutdown(SHUT_WR) once the queue is empty. */
  end(): void;
  /** Closes now, dropping the queue. */
  destroy(): void;
}
