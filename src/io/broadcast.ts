/**
 * Broadcast: a message framed once (and compressed once per distinct set of deflate
 * parameters, where compression is stateless) and written as the same bytes to many
 * server-side connections. The per-client cost is one write of the shared bytes when the
 * connection has nothing queued (Sender.pushShared), else queueing them after what is
 * queued: a reference (large messages) or one small copy into the write batch (small ones).
 */
import { encodeFrame } from '../frames/header';
import { Opcode } from '../frames/frame';
import { kCore, OPEN } from './core';
import type { SendCallback } from './sender';
import { toBytes, type SendData } from './send-data';
import type { WebSocket } from './websocket';

/** Options of {@link PreparedMessage} and `WebSocketServer#broadcast`. */
export interface BroadcastOptions {
  /** Send as binary (default: true unless the data is a string). */
  binary?: boolean;
  /** Compress for clients that negotiated permessage-deflate (default true). */
  compress?: boolean;
  /** broadcast() only: send to the clients for which this returns true. */
  filter?: (client: WebSocket) => boolean;
}

function bytesOf(data: SendData): Uint8Array {
  if (typeof data === 'string' || typeof data === 'number') return Buffer.from(String(data));
  // A message is framed once, synchronously: a Blob must be read by the caller first.
  if (typeof Blob !== 'undefined' && data instanceof Blob) throw new TypeError('broadcast() does not take a Blob: pass its bytes (await blob.arrayBuffer())');
  return toBytes(data as Exclude<SendData, Blob | string | number>);
}

/** A message prepared once for sending to many connections. */
export class PreparedMessage {
  /** The payload (UTF-8 for text). */
  readonly data: Uint8Array;
  readonly binary: boolean;
  readonly compress: boolean;
  private plain: Buffer | null = null;
  private compressed: Map<string, Buffer> | null = null;

  constructor(data: SendData, options: BroadcastOptions = {}) {
    this.binary = options.binary ?? !(typeof data === 'string' || typeof data === 'number');
    this.compress = options.compress !== false;
    // Copied once: the caller may reuse its buffer, every connection shares this one.
    this.data = Buffer.from(bytesOf(data));
  }

  /** The unmasked frame (RFC 6455 §5.2), built on first use. */
  get frame(): Buffer {
    return (this.plain ??= encodeFrame(0x80 | (this.binary ? Opcode.BINARY : Opcode.TEXT), this.data, null));
  }

  /**
   * Queues the message on `ws`. Server-side connections get the shared frame bytes; a client
   * connection (which must mask with its own keys, RFC 6455 §5.3) or one whose compressor
   * keeps context between messages gets an ordinary send. Returns send()'s backpressure hint.
   */
  sendTo(ws: WebSocket, cb?: SendCallback): boolean {
    const core = ws[kCore];
    if (!core.isServer || core.readyState !== OPEN || core.closeFrameSent || core.sendingFragmented !== 0) {
      return ws.send(this.data, { binary: this.binary, compress: this.compress }, cb);
    }
    let bytes = this.frame;
    const deflate = core.deflate;
    if (deflate !== null && this.compress && this.data.length >= (deflate.threshold ?? 1024)) {
      const key = deflate.sharedKey ?? null;
      // With context takeover the output depends on earlier messages: compress per connection.
      if (key === null) return ws.send(this.data, { binary: this.binary, compress: true }, cb);
      const cache = (this.compressed ??= new Map());
      let cached = cache.get(key);
      if (cached === undefined) {
        cached = encodeFrame(0xc0 | (this.binary ? Opcode.BINARY : Opcode.TEXT), deflate.compressMessage(this.data), null);
        cache.set(key, cached);
      }
      bytes = cached;
    }
    const queued = core.sender!.queuedBytes;
    const written = core.socket!.writableLength;
    core.sender!.pushShared(bytes, cb, this.data.length);
    return core.afterSend(queued, written);
  }
}
