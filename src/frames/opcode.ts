/**
 * Opcodes (RFC 6455 §5.2, §11.8) and the protocol constants next to them. Re-exported by
 * `src/frames/frame.ts`; import from there.
 */

/** RFC 6455 §5.2 / §11.8: frame opcodes. 3-7 and 11-15 are reserved. */
export enum Opcode {
  /**
   * wsproto's name for {@link Opcode.CONT}. Declared first so that the reverse mapping
   * `Opcode[0]` stays "CONT" (a TypeScript enum maps a value to its LAST name).
   */
  CONTINUATION = 0x0,
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

/** Control frames carry at most 125 bytes (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/**
 * RFC 6455 §1.3: appended to Sec-WebSocket-Key before hashing. (Checked against the RFC's
 * example: key "dGhlIHNhbXBsZSBub25jZQ==" gives accept "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".)
 */
export const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** RFC 6455 §4.1: the only version this implementation speaks. */
export const WEBSOCKET_VERSION = '13';
/** Whether `opcode` is one RFC 6455 defines (not reserved 3-7 / 11-15, §5.2). */
export function isKnownOpcode(opcode: number): opcode is Opcode {
  return opcode === 0 || opcode === 1 || opcode === 2 || opcode === 8 || opcode === 9 || opcode === 10;
}
