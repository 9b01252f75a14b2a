/**
 * The native socket transport's binding (native/transport.cc, issue 14), or null when it
 * cannot be used: the js backend is active, the addon lacks it (not Linux, or a stale
 * binary), or it failed to set up. Only backend/ knows whether the addon exists; io's
 * NativeTransport asks here and falls back to Node's sockets on null.
 */
import { backendName } from './index';
import type { NativeSocketHandle } from './native-addon';
import { loadNativeAddon } from './native';

export type { NativeSocketHandle };

/** What a connection's owner object answers; the addon calls these with `this` = owner. */
export interface NativeSocketOwner {
  /** Bytes [0, length) of the shared read buffer are new; valid only during the call. */
  onNativeData(length: number): void;
  /** A queued write made progress; `queued` bytes still wait for the kernel. */
  onNativeFlush(queued: number): void;
  /** The peer's FIN. */
  onNativeEnd(): void;
  /** Last call: the fd is closed; `errno` is 0 or the error that closed it. */
  onNativeClose(errno: number): void;
}

export interface NativeSocketBinding {
  /**
   * The one read buffer of this thread's loop: every connection's bytes land here, one
   * read at a time, and are handed out as views (hence "borrowed" chunks).
   */
  readonly readBuffer: Buffer;
  /**
   * dup()s `fd` (a connected TCP socket) and polls the copy, reads paused. The caller closes
   * its own fd afterwards (a dup pair's first close sends no FIN). Throws when the dup or the
   * poll handle cannot be had (EMFILE...), before anything was taken.
   */
  open(fd: number, owner: NativeSocketOwner, maxQueued: number): NativeSocketHandle;
  /** Test hook: native sockets of this thread whose C++ state is not freed yet. */
  live(): number;
}

// The dispatchers the addon calls: one set per thread, no closure per connection.
function onData(this: NativeSocketOwner, length: number): void {
  this.onNativeData(length);
}
function onFlush(this: NativeSocketOwner, queued: number): void {
  this.onNativeFlush(queued);
}
function onEnd(this: NativeSocketOwner): void {
  this.onNativeEnd();
}
function onClose(this: NativeSocketOwner, errno: number): void {
  this.onNativeClose(errno);
}

let cached: NativeSocketBinding | null | undefined;

/** The binding, set up on first use; null when the native transport is unavailable. */
export function nativeSocketBinding(): NativeSocketBinding | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (backendName !== 'native' || process.platform !== 'linux') return cached;
  try {
    const addon = loadNativeAddon();
    const { transportSetup, NativeSocket, _transportLive } = addon;
    if (typeof transportSetup !== 'function' || typeof NativeSocket !== 'function' || typeof _transportLive !== 'function') return cached;
    const readBuffer = Buffer.from(transportSetup(onData, onFlush, onEnd, onClose));
    cached = Object.freeze({
      readBuffer,
      open: (fd: number, owner: NativeSocketOwner, maxQueued: number) => {
        const handle = new NativeSocket(fd, owner, maxQueued);
        // Reads start when the transport is attached (its sink exists then).
        handle.pause();
        return handle;
      },
      live: () => _transportLive(),
    });
  } catch {
    cached = null;
  }
  return cached;
}
