/**
 * The body of a refused client handshake (InvalidStatusError.body), over HTTP/1.1 or
 * HTTP/2: at most MAX_REFUSAL_BODY bytes are kept, then the caller closes the stream.
 */
import type { Readable } from 'node:stream';

import { MAX_REFUSAL_BODY } from '../limits';

/** Collects `res`'s body; `done` runs once: at its end, error or close, or once the bound is reached. */
export function readRefusalBody(res: Readable, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks));
  };
  res.on('data', (chunk: Buffer) => {
    if (size < MAX_REFUSAL_BODY) chunks.push(chunk.subarray(0, MAX_REFUSAL_BODY - size));
    size += chunk.length;
    // Enough kept: the caller closes the stream instead of reading the rest.
    if (size >= MAX_REFUSAL_BODY) finish();
  });
  res.on('end', finish);
  res.on('error', finish);
  res.on('close', finish);
}
