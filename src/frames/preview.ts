/**
 * The payload previews of {@link Frame.toString} (src/frames/frame.ts): short, cheap renderings
 * of payloads of any size.
 */
import { backend } from '../backend';

// Previews render at most ~64 bytes, so printing a 64 MiB frame stays cheap.
const PREVIEW_HEAD = 48;
const PREVIEW_TAIL = 16;

export function hexPreview(data: Uint8Array): string {
  const hex = (part: Uint8Array): string => Buffer.from(part.buffer, part.byteOffset, part.length).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  if (data.length <= PREVIEW_HEAD + PREVIEW_TAIL) return hex(data);
  return `${hex(data.subarray(0, PREVIEW_HEAD))} ... ${hex(data.subarray(data.length - PREVIEW_TAIL))}`;
}

/** Quoted text if `data` is valid UTF-8 (checked in full only when short), else null. */
export function textPreview(data: Uint8Array): string | null {
  const quote = (text: string): string =>
    `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
  if (data.length <= PREVIEW_HEAD + PREVIEW_TAIL) {
    return backend.isUtf8(data) ? quote(Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8')) : null;
  }
  // A long payload may be a text fragment cut mid-character: decode the ends leniently.
  const head = Buffer.from(data.buffer, data.byteOffset, PREVIEW_HEAD).toString('utf8');
  const tail = Buffer.from(data.buffer, data.byteOffset + data.length - PREVIEW_TAIL, PREVIEW_TAIL).toString('utf8');
  return `${quote(head)}...${quote(tail)}`;
}
