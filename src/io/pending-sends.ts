/**
 * Sends that cannot leave now: those made after the connection closed (an error for their
 * callback, as ws gives) and those queued behind a Blob being read (ws >= 8.18 reads Blobs
 * asynchronously; every send after one leaves after it, in call order).
 */
import { NotOpenError } from './errors';
import { byteSize, isBlob, type SendData } from './send-data';
import type { SendCallback } from './sender';
import { kConnection, type TransportConnection } from './transport-connection';

/** Bytes given to send()/ping()/pong() that never left (sent after close) or wait for a Blob's read. */
export const kUnsent: unique symbol = Symbol('wscore.unsent');
/** Sends waiting behind a Blob being read, in order (null: none). */
export const kChain: unique symbol = Symbol('wscore.sendChain');

/** What these functions need of a WebSocket (structural: no import of the façade). */
export interface PendingSends {
  readonly readyState: number;
  readonly [kConnection]: TransportConnection;
  [kUnsent]: number;
  [kChain]: Promise<void> | null;
}

/**
 * Calls `cb` with the error ws gives for a send on a socket that is not open. As in ws,
 * the data counts in `bufferedAmount` from then on (it was "queued" but will never leave).
 */
export function sendAfterClose(ws: PendingSends, data: SendData | undefined, cb: SendCallback | undefined): void {
  ws[kUnsent] += byteSize(data);
  if (cb) {
    const state = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'][ws.readyState];
    process.nextTick(cb, new NotOpenError(`WebSocket is not open: readyState ${ws.readyState} (${state})`, ws.readyState));
  }
}

/**
 * Runs `then` with the bytes of `data` once every send queued before it ran (a Blob is
 * read first; a read error fails the connection, as ws's NotReadableError does).
 */
export function afterPending<D extends SendData>(ws: PendingSends, data: D, then: (bytes: Exclude<SendData, Blob> | null) => void, cb: SendCallback | undefined): void {
  const prev = ws[kChain] ?? Promise.resolve();
  const step = prev.then(async () => {
    let bytes: Exclude<SendData, Blob>;
    try {
      bytes = isBlob(data) ? Buffer.from(await data.arrayBuffer()) : (data as Exclude<SendData, Blob>);
    } catch (err) {
      // Out of the promise chain: an exception from a listener must not become a rejection.
      process.nextTick(() => {
        then(null);
        const e = err instanceof Error ? err : new Error(String(err));
        cb?.(e);
        ws[kConnection].fail(1011, 'the blob could not be read', e, false);
      });
      return;
    }
    process.nextTick(then, bytes);
  });
  ws[kChain] = step;
  void step.then(() => {
    if (ws[kChain] === step) ws[kChain] = null;
  });
}
