/**
 * Broadcast: a message framed once (and compressed once per distinct set of deflate
 * parameters, where compression is stateless) and written as the same bytes to many
 * server-side connections. The per-client cost is one write of the shared bytes when the
 * connection has nothing queued (Sender.pushShared), else queueing them after what is
 * queued: a reference (large messages) or one small copy into the write batch (small ones).
 */
import { encodeFrame } from '../frames/header';
import { Opcode } from '../frames/frame';
import type { MessageCompressor } from './deflate-glue';
import { OPEN } from './ready-state';
import type { SendCallback } from './sender';
import { toBytes, type SendData, type SendOptions } from './send-data';
import type { SharedFrames } from './sending-connection';
import { kConnection, type TransportConnection } from './transport-connection';

/** Options of {@link PreparedMessage} and of `publish()`. */
export interface PublishOptions {
  /** Send as binary (default: true unless the data is a string). */
  binary?: boolean;
  /** Compress for clients that negotiated permessage-deflate (default true). */
  compress?: boolean;
}

/** What a message is sent to: a WebSocket, seen from below (no import of the façade). */
export interface BroadcastTarget {
  readonly [kConnection]: TransportConnection;
  send(data: SendData, options: SendOptions, cb?: SendCallback): boolean;
}

function bytesOf(data: SendData): Uint8Array {
  if (typeof data === 'string' || typeof data === 'number') return Buffer.from(String(data));
  // A message is framed once, synchronously: a Blob must be read by the caller first.
  if (typeof Blob !== 'undefined' && data instanceof Blob) throw new TypeError('broadcast() does not take a Blob: pass its bytes (await blob.arrayBuffer())');
  return toBytes(data as Exclude<SendData, Blob | string | number>);
}

/** A message prepared once for sending to many connections. */
export class PreparedMessage implements SharedFrames {
  /** The payload (UTF-8 for text). */
  readonly data: Uint8Array;
  readonly binary: boolean;
  readonly compress: boolean;
  private plain: Buffer | null = null;
  private compressed: Map<string, Buffer> | null = null;

  constructor(data: SendData, options: PublishOptions = {}) {
    this.binary = options.binary ?? !(typeof data === 'string' || typeof data === 'number');
    this.compress = options.compress !== false;
    // Copied once: the caller may reuse its buffer, every connection shares this one.
    this.data = Buffer.from(bytesOf(data));
  }

  /** The unmasked frame (RFC 6455 §5.2), built on first use. */
  get frame(): Buffer {
    return (this.plain ??= encodeFrame(0x80 | (this.binary ? Opcode.BINARY : Opcode.TEXT), this.data, null));
  }

  /** The frame compressed by `deflate` (cached per compressor key: compressed once). */
  compressedFrame(key: string, deflate: MessageCompressor): Buffer {
    const cache = (this.compressed ??= new Map());
    let cached = cache.get(key);
    if (cached === undefined) {
      cached = encodeFrame(0xc0 | (this.binary ? Opcode.BINARY : Opcode.TEXT), deflate.compressMessage(this.data), null);
      cache.set(key, cached);
    }
    return cached;
  }

  /**
   * Queues the message on `ws`: the shared frame bytes where the connection can take them
   * (TransportConnection#sendShared), else an ordinary send. Returns send()'s backpressure
   * hint.
   */
  sendTo(ws: BroadcastTarget, cb?: SendCallback): boolean {
    return ws[kConnection].sendShared(this, cb) ?? ws.send(this.data, { binary: this.binary, compress: this.compress }, cb);
  }
}

/**
 * Sends one message to every OPEN client of `clients` that `filter` (if any) accepts: framed
 * once, and compressed once per deflate parameter set where a connection allows it
 * (`WebSocketServer#broadcast`). Returns the number of clients it was queued for.
 */
export function broadcast<W extends BroadcastTarget & { readonly readyState: number }>(
  clients: Iterable<W>,
  data: SendData | PreparedMessage,
  options: PublishOptions & { filter?: (client: W) => boolean },
): number {
  const message = data instanceof PreparedMessage ? data : new PreparedMessage(data, options);
  let n = 0;
  for (const ws of clients) {
    if (ws.readyState !== OPEN) continue;
    if (options.filter !== undefined && !options.filter(ws)) continue;
    message.sendTo(ws);
    n++;
  }
  return n;
}
