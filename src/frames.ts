/**
 * Frame-level vocabulary of RFC 6455 §5 and §7: opcodes, close codes and constants.
 * (Frame, Close and their parse/serialize helpers are added below by the frames module.)
 */

/** RFC 6455 §5.2 / §11.8: frame opcodes. 3-7 and 11-15 are reserved. */
export enum Opcode {
  CONT = 0x0,
  TEXT = 0x1,
  BINARY = 0x2,
  CLOSE = 0x8,
  PING = 0x9,
  PONG = 0xa,
}

/** Opcodes that carry message data (RFC 6455 §5.6). */
export const DATA_OPCODES: readonly Opcode[] = Object.freeze([Opcode.CONT, Opcode.TEXT, Opcode.BINARY]);
/** Control opcodes (RFC 6455 §5.5). */
export const CTRL_OPCODES: readonly Opcode[] = Object.freeze([Opcode.CLOSE, Opcode.PING, Opcode.PONG]);

/** Whether `opcode` is a control opcode: the high bit of the 4-bit opcode (RFC 6455 §5.5). */
export function isControl(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** RFC 6455 §7.4.1 and the IANA registry (§11.7): close status codes. */
export enum CloseCode {
  NORMAL_CLOSURE = 1000,
  GOING_AWAY = 1001,
  PROTOCOL_ERROR = 1002,
  UNSUPPORTED_DATA = 1003,
  /** Reserved; never sent. */
  RESERVED = 1004,
  /** No status code was present. Local only: never sent on the wire. */
  NO_STATUS_RCVD = 1005,
  /** The connection closed without a close frame. Local only: never sent on the wire. */
  ABNORMAL_CLOSURE = 1006,
  INVALID_DATA = 1007,
  POLICY_VIOLATION = 1008,
  MESSAGE_TOO_BIG = 1009,
  MANDATORY_EXTENSION = 1010,
  INTERNAL_ERROR = 1011,
  SERVICE_RESTART = 1012,
  TRY_AGAIN_LATER = 1013,
  BAD_GATEWAY = 1014,
  /** TLS handshake failed. Local only: never sent on the wire. */
  TLS_HANDSHAKE = 1015,
}

/** Payload lengths 126 and 127 announce a 2- or 8-byte extended length (RFC 6455 §5.2). */
export const PAYLOAD_LENGTH_TWO_BYTE = 126;
export const PAYLOAD_LENGTH_EIGHT_BYTE = 127;
/** The largest payload a 7-bit length holds, and the limit for control frames (§5.5). */
export const MAX_PAYLOAD_NORMAL = 125;
/** Control frames carry at most 125 bytes (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/** A close reason fits after the 2-byte code in 125 bytes (RFC 6455 §5.5.1). */
export const MAX_CLOSE_REASON_BYTES = 123;
/** RFC 6455 §1.3: appended to Sec-WebSocket-Key before hashing. */
export const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC11B85';
/** RFC 6455 §4.1: the only version this implementation speaks. */
export const WEBSOCKET_VERSION = '13';
