/**
 * What send(), ping() and pong() accept, and how it becomes bytes: strings, numbers, binary
 * views, arrays of buffers and (as in ws >= 8.18) Blobs, which are read asynchronously.
 */

import { LocalProtocolError } from '../errors';

/**
 * What send() accepts. Numbers are sent as their decimal text (as ws does); an array of
 * buffers (a 'message' received with binaryType 'fragments') is sent as their concatenation.
 */
export type SendData = string | Buffer | ArrayBuffer | SharedArrayBuffer | ArrayBufferView | Blob | number | readonly Uint8Array[];

/** Options of `WebSocket.send`. */
export interface SendOptions {
  /** Send as a binary message (default: true unless `data` is a string). */
  binary?: boolean;
  /** Compress when permessage-deflate was negotiated (default true; small messages never are). */
  compress?: boolean;
  /** Whether this is the last fragment of the message (default true). */
  fin?: boolean;
  /** Accepted for ws compatibility: clients always mask and servers never do (RFC 6455 §5.1). */
  mask?: boolean;
}

export const EMPTY = Buffer.alloc(0);
/** ws's error for sends that were waiting for a Blob when the connection went away. */
export const BLOB_SOCKET_CLOSED = 'The socket was closed while the blob was being read';

/** The bytes of a non-text payload (no copy except for an array of buffers). */
export function toBytes(data: Exclude<SendData, string | number | Blob>): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (Array.isArray(data)) return Buffer.concat(data as readonly Uint8Array[]);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) {
    return new Uint8Array(data as ArrayBuffer);
  }
  throw new TypeError('data must be a string, a Buffer, an ArrayBuffer or an ArrayBufferView');
}

export function controlPayload(data: Exclude<SendData, Blob> | undefined): Uint8Array {
  if (data === undefined) return EMPTY;
  return typeof data === 'string' || typeof data === 'number' ? Buffer.from(String(data)) : toBytes(data);
}

export function isBlob(data: unknown): data is Blob {
  return typeof Blob !== 'undefined' && data instanceof Blob;
}

/** The payload size of what send()/ping()/pong() were given. */
export function byteSize(data: SendData | undefined): number {
  if (data === undefined) return 0;
  if (typeof data === 'string' || typeof data === 'number') return Buffer.byteLength(String(data));
  return isBlob(data) ? data.size : toBytes(data).length;
}

/**
 * close()'s reason as bytes: at most 123 (RFC 6455 §5.5: a control payload is at most 125,
 * 2 of which are the code). A TypedArray/DataView/ArrayBuffer gives the bytes it views,
 * counted in bytes: a Uint16Array's `length` counts elements, and copying it element-wise
 * would send other bytes than the ones given (the ws CVE-2026-45736 / CVE-2016-10518 class;
 * docs/security.md).
 */
export function closeReasonBytes(reason: string | Buffer | ArrayBuffer | SharedArrayBuffer | ArrayBufferView | undefined): Uint8Array {
  let r: Uint8Array;
  if (reason === undefined) r = EMPTY;
  else if (typeof reason === 'string') r = Buffer.from(reason);
  else if (ArrayBuffer.isView(reason) || reason instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && reason instanceof SharedArrayBuffer)) r = toBytes(reason);
  else throw new TypeError('The close reason must be a string, a Buffer, an ArrayBuffer or an ArrayBufferView');
  if (r.byteLength > 123) throw new LocalProtocolError('The close reason must not be greater than 123 bytes');
  return r;
}
