/**
 * The table of protocol violations: for each reason the batch parser reports (a
 * {@link ParseError}), ws's string code, the close code (RFC 6455 §7.4.1), the error class
 * the ws-style API emits and ws's short message. Also the codes of violations found on a
 * whole message (inflating, UTF-8 of inflated text). The parsers (native and TS twin) only
 * report the reason; everything a reason means is read from here.
 *
 * The string codes and short messages are ws's (its receiver's `WS_ERR_*`), so code written
 * for ws that tests `err.code` keeps working; where our close code differs from ws's, RFC
 * 6455 decides (docs/migrating-from-ws.md).
 */
import { ParseError } from './backend/types';

/** The 64-bit payload length of the header at `at` (exact, as a decimal string). */
export function headerLength(buf: Uint8Array, at: number): string {
  const len7 = buf[at + 1]! & 0x7f;
  if (len7 < 126) return String(len7);
  if (len7 === 126) return String((buf[at + 2]! << 8) | buf[at + 3]!);
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(buf[at + 2 + i]!);
  return v.toString();
}

/** Where a violation was seen: the parsed buffer, the offending frame and byte. */
export interface ParseErrorSite {
  buf: Uint8Array;
  frameAt: number;
  offset: number;
}

/** One row of {@link PARSE_ERRORS}. */
export interface ParseErrorInfo {
  /** ws's string code (`err.code` on the 'error' event); RSV bits: it depends on which one. */
  code: string | ((site: ParseErrorSite) => string);
  /** The close code the connection is failed with (RFC 6455 §7.4.1). */
  closeCode: number;
  /** The class of the error the ws-style API emits (ws: RangeError, or Error for UTF-8). */
  errorClass: 'RangeError' | 'Error';
  /** ws's short message. */
  message: (site: ParseErrorSite) => string;
}

const FRAME = 'Invalid WebSocket frame: ';
const b0Of = (s: ParseErrorSite): number => s.buf[s.frameAt] ?? 0;
const opcodeOf = (s: ParseErrorSite): number => b0Of(s) & 0x0f;

function row(code: string, closeCode: number, errorClass: 'RangeError' | 'Error', message: string | ((site: ParseErrorSite) => string)): ParseErrorInfo {
  return { code, closeCode, errorClass, message: typeof message === 'string' ? () => message : message };
}

const RSV1 = row('WS_ERR_UNEXPECTED_RSV_1', 1002, 'RangeError', `${FRAME}RSV1 must be clear`);
const UTF8 = row('WS_ERR_INVALID_UTF8', 1007, 'Error', `${FRAME}invalid UTF-8 sequence`);
const TOO_BIG = row('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009, 'RangeError', 'Max payload size exceeded');
const BAD_OPCODE = row('WS_ERR_INVALID_OPCODE', 1002, 'RangeError', (s) => `${FRAME}invalid opcode ${opcodeOf(s)}`);

/** Each parser reason: string code, close code (§7.4.1), error class and short message. */
export const PARSE_ERRORS: Readonly<Record<Exclude<ParseError, ParseError.NONE>, ParseErrorInfo>> = {
  // §5.2: RSV1 and RSV2/RSV3 have separate codes in ws.
  [ParseError.RSV_NOT_ALLOWED]: {
    ...RSV1,
    code: (s) => (b0Of(s) & 0x40 ? 'WS_ERR_UNEXPECTED_RSV_1' : 'WS_ERR_UNEXPECTED_RSV_2_3'),
    message: (s) => (b0Of(s) & 0x40 ? RSV1.message(s) : `${FRAME}RSV2 and RSV3 must be clear`),
  },
  [ParseError.RESERVED_OPCODE]: BAD_OPCODE,
  [ParseError.CONTROL_FRAGMENTED]: row('WS_ERR_EXPECTED_FIN', 1002, 'RangeError', `${FRAME}FIN must be set`),
  [ParseError.CONTROL_TOO_LONG]: row('WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002, 'RangeError', (s) => `${FRAME}invalid payload length ${headerLength(s.buf, s.frameAt)}`),
  [ParseError.RSV1_ON_CONTROL]: RSV1,
  [ParseError.RSV1_ON_CONTINUATION]: RSV1,
  [ParseError.UNEXPECTED_CONTINUATION]: BAD_OPCODE,
  [ParseError.EXPECTED_CONTINUATION]: BAD_OPCODE,
  [ParseError.MASK_REQUIRED]: row('WS_ERR_EXPECTED_MASK', 1002, 'RangeError', `${FRAME}MASK must be set`),
  [ParseError.MASK_FORBIDDEN]: row('WS_ERR_UNEXPECTED_MASK', 1002, 'RangeError', `${FRAME}MASK must be clear`),
  [ParseError.LENGTH_MSB_SET]: row('WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1002, 'RangeError', 'Unsupported WebSocket frame: payload length > 2^53 - 1'),
  [ParseError.FRAME_TOO_BIG]: TOO_BIG,
  [ParseError.MESSAGE_TOO_BIG]: TOO_BIG,
  [ParseError.TOO_MANY_FRAGMENTS]: row('WS_ERR_TOO_MANY_BUFFERED_PARTS', 1008, 'RangeError', 'Too many message fragments'),
  [ParseError.INVALID_UTF8]: UTF8,
  [ParseError.INCOMPLETE_UTF8]: UTF8,
  [ParseError.CLOSE_PAYLOAD_ONE_BYTE]: row('WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002, 'RangeError', `${FRAME}invalid payload length 1`),
  [ParseError.CLOSE_CODE_INVALID]: row('WS_ERR_INVALID_CLOSE_CODE', 1002, 'RangeError', (s) => `${FRAME}invalid status code ${((s.buf[s.offset] ?? 0) << 8) | (s.buf[s.offset + 1] ?? 0)}`),
  [ParseError.CLOSE_REASON_INVALID_UTF8]: UTF8,
};

/**
 * The string codes of violations found after the parser (on a whole message): inflating
 * (RFC 7692) and the UTF-8 check of inflated text.
 */
export const MESSAGE_ERROR_CODES = Object.freeze({
  INVALID_UTF8: 'WS_ERR_INVALID_UTF8',
  MESSAGE_TOO_BIG: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  INVALID_COMPRESSED_DATA: 'WS_ERR_INVALID_COMPRESSED_DATA',
} as const);

/** ParseFailed options of invalid UTF-8 found in a whole message (§8.1). */
export const INVALID_UTF8_MESSAGE = Object.freeze({ errorCode: MESSAGE_ERROR_CODES.INVALID_UTF8, summary: UTF8.message({ buf: new Uint8Array(0), frameAt: 0, offset: 0 }) });

/** The error class of a string code: the table's (ws: RangeError except for UTF-8); Error for inflate errors. */
export function errorClassOf(code: string): 'RangeError' | 'Error' {
  for (const info of Object.values(PARSE_ERRORS) as ParseErrorInfo[]) {
    if (info.code === code) return info.errorClass;
  }
  // The RSV2/RSV3 row's code depends on the frame; zlib's errors are Errors in ws.
  return code === MESSAGE_ERROR_CODES.INVALID_COMPRESSED_DATA || !code.startsWith('WS_ERR_') ? 'Error' : 'RangeError';
}

/** The string code of a violation a ParseFailed carries: the table's, resolved for `site`. */
export function errorCodeOf(info: ParseErrorInfo, site: ParseErrorSite): string {
  return typeof info.code === 'string' ? info.code : info.code(site);
}
