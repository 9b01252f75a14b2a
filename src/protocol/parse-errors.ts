/**
 * Turns what the batch parser reported (a {@link ParseError} and where) into a ParseFailed:
 * the detailed message is worded here, in one place; the string code, class and short
 * message come from the table in ../error-codes.
 */
import { ParseError } from '../backend/types';
import { errorCodeOf, headerLength, PARSE_ERRORS, type ParseErrorInfo, type ParseErrorSite } from '../error-codes';
import { ParseFailed } from '../errors';

const OPCODE_NAMES: Record<number, string> = { 0: 'CONT', 1: 'TEXT', 2: 'BINARY', 8: 'CLOSE', 9: 'PING', 10: 'PONG' };

function opcodeName(op: number): string {
  return OPCODE_NAMES[op] ?? `0x${op.toString(16)}`;
}

/** The ParseFailed for what the parser reported: the detailed message, the table's code. */
export function parseFailure(reason: number, site: ParseErrorSite, maxPayload: number, closeCode: number, where: string): ParseFailed {
  const text = describeParseError(reason, site.buf, site.frameAt, site.offset, maxPayload);
  const info = PARSE_ERRORS[reason as Exclude<ParseError, ParseError.NONE>] as ParseErrorInfo | undefined;
  return new ParseFailed(`${text}${where}`, closeCode, info === undefined ? undefined : { errorCode: errorCodeOf(info, site), summary: info.message(site) });
}

/**
 * @param reason the parser's reason code
 * @param buf the buffer that was parsed
 * @param frameAt index in `buf` of the offending frame's header (or payload piece)
 * @param offset index in `buf` of the offending byte
 * @param maxPayload the configured limit
 */
export function describeParseError(reason: number, buf: Uint8Array, frameAt: number, offset: number, maxPayload: number): string {
  const b0 = buf[frameAt] ?? 0;
  const op = b0 & 0x0f;
  switch (reason as ParseError) {
    case ParseError.RSV_NOT_ALLOWED: {
      const bits = ['RSV1', 'RSV2', 'RSV3'].filter((_, i) => (b0 & (0x40 >> i)) !== 0).join('+');
      return `reserved bits ${bits} set on a ${opcodeName(op)} frame without a negotiated extension that defines them`;
    }
    case ParseError.RESERVED_OPCODE:
      return `reserved opcode ${opcodeName(op)}`;
    case ParseError.CONTROL_FRAGMENTED:
      return `fragmented control frame: ${opcodeName(op)} without FIN`;
    case ParseError.CONTROL_TOO_LONG:
      return `control frame ${opcodeName(op)} with a payload longer than 125 bytes`;
    case ParseError.RSV1_ON_CONTROL:
      return `RSV1 set on control frame ${opcodeName(op)}`;
    case ParseError.RSV1_ON_CONTINUATION:
      return 'RSV1 set on a continuation frame (only the first frame of a message may set it)';
    case ParseError.UNEXPECTED_CONTINUATION:
      return 'continuation frame without a fragmented message to continue';
    case ParseError.EXPECTED_CONTINUATION:
      return `new ${opcodeName(op)} frame inside a fragmented message (expected a continuation frame)`;
    case ParseError.MASK_REQUIRED:
      return 'unmasked frame from a client (client frames must be masked)';
    case ParseError.MASK_FORBIDDEN:
      return 'masked frame from a server (server frames must not be masked)';
    case ParseError.LENGTH_MSB_SET:
      return '64-bit payload length with the most significant bit set';
    case ParseError.FRAME_TOO_BIG:
      return `frame payload of ${headerLength(buf, frameAt)} bytes exceeds maxPayload (${maxPayload} bytes)`;
    case ParseError.MESSAGE_TOO_BIG:
      return `fragmented message exceeds maxPayload (${maxPayload} bytes)`;
    case ParseError.TOO_MANY_FRAGMENTS:
      return 'fragmented message has more fragments than maxFragments allows';
    case ParseError.INVALID_UTF8:
      return `invalid UTF-8 in a text message (byte 0x${(buf[offset] ?? 0).toString(16).padStart(2, '0')})`;
    case ParseError.INCOMPLETE_UTF8:
      return 'text message ends inside a UTF-8 sequence';
    case ParseError.CLOSE_PAYLOAD_ONE_BYTE:
      return 'close frame with a 1-byte payload (a close code takes 2 bytes)';
    case ParseError.CLOSE_CODE_INVALID:
      return `invalid close code ${((buf[offset] ?? 0) << 8) | (buf[offset + 1] ?? 0)}`;
    case ParseError.CLOSE_REASON_INVALID_UTF8:
      return 'close reason is not valid UTF-8';
    default:
      return `frame parser error ${reason}`;
  }
}
