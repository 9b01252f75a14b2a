/**
 * What the connection needs from permessage-deflate (RFC 7692): whole-message compression
 * and decompression once negotiation is done, from src/extensions/permessage-deflate.ts.
 */
import type { Extension } from '../extensions/extension';
import { PerMessageDeflate, type PerMessageDeflateOptions } from '../extensions/permessage-deflate';

export type { PerMessageDeflateOptions } from '../extensions/permessage-deflate';

/** @internal The message-level API of a negotiated permessage-deflate extension. */
export interface MessageCompressor {
  /** RFC 7692 §7.2.1: deflate a whole message (the trailing 00 00 ff ff removed). */
  compressMessage(data: Uint8Array): Uint8Array;
  /**
   * RFC 7692 §7.2.2: inflate a whole message. Throws a ParseFailed (1007 bad data, 1009 past
   * `maxOutput`).
   */
  decompressMessage(data: Uint8Array | readonly Uint8Array[], maxOutput: number): Uint8Array;
  /**
   * When this side compresses without context takeover (RFC 7692 §7.1.1), the output for a
   * message depends only on the parameters: a string naming them, so connections with the
   * same key can share compressed bytes (broadcast). Null or absent otherwise.
   */
  readonly sharedKey?: string | null;
  /** Messages shorter than this are sent uncompressed (ws's `threshold`). */
  readonly threshold?: number;
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
