/**
 * What the connection needs from permessage-deflate (RFC 7692): whole-message compression
 * and decompression once negotiation is done, from src/extensions/permessage-deflate.ts.
 */
import type { ZlibOptions } from 'node:zlib';

import type { Extension } from '../extensions/extension';
import type { MessageInflater } from '../protocol/message-assembler';
import {
  PerMessageDeflate,
  type PerMessageDeflateOptions as ExtensionOptions,
  type ZlibDeflateOptions,
} from '../extensions/permessage-deflate';

/**
 * The `perMessageDeflate` option of WebSocket and WebSocketServer: the extension's options
 * plus the fields of ws's that have no effect here, accepted so code written for ws (and
 * @types/ws) keeps compiling: `concurrencyLimit` (ws queues its asynchronous zlib calls;
 * ours are synchronous, one message at a time, so there is nothing to limit),
 * `zlibInflateOptions` and zlib stream settings (`chunkSize`, ...) of `zlibDeflateOptions`
 * (our streams size their own buffers; decompression is capped by maxPayload instead).
 */
export interface PerMessageDeflateOptions extends Omit<ExtensionOptions, 'zlibDeflateOptions'> {
  /** Our compressor's zlib settings (level, memLevel, strategy, windowBits); the rest is ignored. */
  zlibDeflateOptions?: ZlibDeflateOptions & Omit<ZlibOptions, keyof ZlibDeflateOptions>;
  /** Accepted for ws compatibility and ignored (see above). */
  zlibInflateOptions?: ZlibOptions;
  /** Accepted for ws compatibility and ignored (see above). */
  concurrencyLimit?: number;
}

/** @internal The message-level API of a negotiated permessage-deflate extension. */
export interface MessageCompressor extends MessageInflater {
  /** RFC 7692 §7.2.1: deflate a whole message (the trailing 00 00 ff ff removed). */
  compressMessage(data: Uint8Array): Uint8Array;
  /**
   * When this side compresses without context takeover (RFC 7692 §7.1.1), the output for a
   * message depends only on the parameters: a string naming them, so connections with the
   * same key can share compressed bytes (broadcast). Null or absent otherwise.
   */
  readonly sharedKey?: string | null;
  /** Messages shorter than this are sent uncompressed (ws's `threshold`). */
  readonly threshold?: number;
  /** The RSV bits its frames may carry (RFC 7692 §6: RSV1), for the frame reader. */
  readonly rsvMask: number;
  /** Frees the zlib streams. */
  dispose?(): void;
}

/** A permessage-deflate extension usable by the connection. */
export type DeflateExtension = Extension & MessageCompressor;

/** Identity of an options object, so connections configured alike can share output. */
const optionIds = new WeakMap<object, number>();
let nextOptionId = 1;

/**
 * PerMessageDeflate plus what broadcast needs: a key naming the compression parameters when
 * our side compresses without context takeover (the output then depends only on them).
 */
class IoPerMessageDeflate extends PerMessageDeflate implements MessageCompressor {
  private readonly optionId: number;

  constructor(options: PerMessageDeflateOptions) {
    super(options);
    let id = optionIds.get(options);
    if (id === undefined) optionIds.set(options, (id = nextOptionId++));
    this.optionId = id;
  }

  get sharedKey(): string | null {
    const a = this.agreement;
    if (a === null || !a.deflateNoContextTakeover) return null;
    return `${this.optionId}/${a.deflateWindowBits}`;
  }
}

/** A permessage-deflate extension for one connection, configured by `options`. */
export function createDeflate(options: PerMessageDeflateOptions, _isServer: boolean, _maxPayload: number): DeflateExtension {
  return new IoPerMessageDeflate(options);
}
