/**
 * Close-frame rules shared by the sans-IO Connection/FrameProtocol and by io: how a close
 * reason is clipped to fit a control frame and how the payload is laid out (RFC 6455 §5.5.1).
 */
import { encodeClosePayload, MAX_CLOSE_REASON_BYTES } from '../frames/close';

export { encodeClosePayload };

/**
 * `reason` cut so its UTF-8 is at most 123 bytes (§5.5.1: the 125-byte control payload minus
 * the 2-byte code), only between code points: a cut surrogate pair would send U+FFFD. When it
 * is cut, `suffix` (e.g. "...") is appended within the same 123 bytes. A lone surrogate
 * counts as the 3 bytes of the U+FFFD it is encoded as. No allocation when it fits.
 */
export function clipCloseReason(reason: string, suffix = ''): string {
  if (reason.length * 3 <= MAX_CLOSE_REASON_BYTES) return reason;
  const budget = MAX_CLOSE_REASON_BYTES - utf8Length(suffix);
  let bytes = 0;
  let cut = -1;
  for (let i = 0; i < reason.length; ) {
    const c = reason.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < reason.length && (reason.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    i += pair ? 2 : 1;
    if (cut < 0 && bytes > budget) cut = i - (pair ? 2 : 1);
    if (bytes > MAX_CLOSE_REASON_BYTES) return reason.slice(0, cut) + suffix;
  }
  return reason;
}

/** UTF-8 byte length of `s` (lone surrogates as U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return n;
}
