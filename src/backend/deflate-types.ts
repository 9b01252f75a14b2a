/**
 * The permessage-deflate streams of the backend seam (RFC 7692 §7.2): a raw-DEFLATE
 * {@link Inflater} and {@link Deflater} per connection and direction. native/deflate.cc
 * implements them over Node's own zlib, src/backend/js/deflate.ts over pako (a JS port of
 * zlib). Both are synchronous and behave identically (test/backend/deflate-parity.test.ts); the
 * compressed bytes may differ (two zlib builds choose different matches), the
 * decompressed bytes and every status never do.
 */

/** Why {@link Inflater.inflate} stopped instead of returning bytes. */
export enum InflateStatus {
  /** Not valid DEFLATE data (RFC 1951): the connection closes with 1007. */
  DATA_ERROR = 1,
  /** The message grew past `maxOutput`: the connection closes with 1009 (message too big). */
  TOO_BIG = 2,
  /** zlib could not allocate memory (native backend only): close with 1011. */
  NO_MEMORY = 3,
}

/** Options of {@link Backend.createInflater}. */
export interface InflaterOptions {
  /**
   * Base-2 logarithm of the LZ77 window, 8..15: at least the window the peer compresses
   * with (its `*_max_window_bits`, RFC 7692 §7.1.2). Memory: 2^windowBits bytes + ~7 KiB.
   */
  windowBits: number;
  /**
   * The peer does not use context takeover (RFC 7692 §7.1.1): reset after every message,
   * so each message is decompressed from an empty window.
   */
  noContextTakeover: boolean;
}

/** Options of {@link Backend.createDeflater}. */
export interface DeflaterOptions {
  /**
   * Base-2 logarithm of the LZ77 window, 8..15 (the negotiated `*_max_window_bits`). zlib
   * has no raw 256-byte window; 8 compresses with 9, whose output still never refers back
   * more than 250 bytes, so a peer limited to 8 can decompress it.
   */
  windowBits: number;
  /** zlib memLevel 1..9 (default 8): memory for the match finder and the pending output. */
  memLevel?: number;
  /** zlib compression level -1..9 (default -1 = zlib's default, 6). */
  level?: number;
  /** zlib strategy 0..4 (default 0, Z_DEFAULT_STRATEGY). */
  strategy?: number;
  /** Our side does not use context takeover (RFC 7692 §7.1.1): reset after every message. */
  noContextTakeover: boolean;
}

/** Decompresses the payloads of compressed messages from one peer, in order. */
export interface Inflater {
  /**
   * Inflates a piece of a compressed message (a frame's payload or part of it).
   * `fin` ends the message: the 00 00 FF FF the sender removed is appended first
   * (RFC 7692 §7.2.2); a message with no payload bytes at all decompresses to nothing.
   * @param maxOutput how many bytes this call may produce (the rest of maxPayload); one
   *   more stops inflation at once, having allocated at most maxOutput + 64 KiB.
   * @returns the decompressed bytes (a Buffer), or an {@link InflateStatus}; after a
   *   status the inflater has been reset (the connection is expected to close).
   * @throws TypeError / RangeError on a bad argument, Error if closed
   */
  inflate(data: Uint8Array, fin: boolean, maxOutput: number): Uint8Array | InflateStatus;
  /** Forgets the window and any message in progress. */
  reset(): void;
  /** Frees the zlib state now (otherwise the garbage collector does). Idempotent. */
  close(): void;
}

/** Compresses the payloads of the messages sent to one peer, in order. */
export interface Deflater {
  /**
   * Compresses a piece of a message with Z_SYNC_FLUSH (the peer can decompress everything
   * sent so far). `fin` ends the message: its trailing 00 00 FF FF is removed (RFC 7692
   * §7.2.1), and a message whose last piece adds nothing ends in a single 0x00 (§7.2.3.6)
   * so that a compressed payload is never empty.
   * @throws TypeError on a bad argument, Error if closed
   */
  deflate(data: Uint8Array, fin: boolean): Uint8Array;
  /** Forgets the window and any message in progress. */
  reset(): void;
  /** Frees the zlib state now (otherwise the garbage collector does). Idempotent. */
  close(): void;
}

/** The deflate part of the {@link Backend} interface. */
export interface DeflateBackend {
  /** @throws RangeError / TypeError on invalid options */
  createInflater(options: InflaterOptions): Inflater;
  /** @throws RangeError / TypeError on invalid options */
  createDeflater(options: DeflaterOptions): Deflater;
}
