/**
 * The reserved bits of a frame header (RFC 6455 §5.2) and the per-frame hooks an extension
 * applies to them (RFC 6455 §9). They live with the frames so that frame parsing can run
 * extensions without depending on how extensions are negotiated (src/extensions/).
 */
import type { Opcode } from './opcode';

/** The three reserved bits of a frame header (RFC 6455 §5.2). */
export interface RsvBits {
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
}

/** Bit values used where RSV bits travel as one number (the native parser's `allowedRsv`). */
export const RSV1 = 0x4;
export const RSV2 = 0x2;
export const RSV3 = 0x1;

export function rsvToMask(rsv: RsvBits): number {
  return (rsv.rsv1 ? RSV1 : 0) | (rsv.rsv2 ? RSV2 : 0) | (rsv.rsv3 ? RSV3 : 0);
}

export function maskToRsv(mask: number): RsvBits {
  return { rsv1: (mask & RSV1) !== 0, rsv2: (mask & RSV2) !== 0, rsv3: (mask & RSV3) !== 0 };
}

/**
 * What frame parsing needs of an extension: its RSV bits and its per-frame transforms.
 * Hooks report a peer's violation by throwing ParseFailed with the close code to send.
 */
export interface FrameTransform {
  /** The RSV bits this extension may set once negotiated (RSV1 | RSV2 | RSV3 values). */
  readonly rsvMask: number;

  /**
   * A frame header arrived. Returns the RSV bits this extension did not claim (so the
   * caller can reject them); throws ParseFailed to fail the connection.
   */
  frameInboundHeader(opcode: Opcode, rsv: RsvBits, payloadLength: number): RsvBits;

  /**
   * Payload bytes of the current frame (already unmasked). Returns the transformed bytes.
   * `maxOutput` is how many more bytes the message may grow to (the remaining maxPayload):
   * an extension that expands data must stop and throw ParseFailed(1009) past it.
   */
  frameInboundPayloadData(data: Uint8Array, maxOutput: number): Uint8Array;

  /**
   * The current frame ended (`fin` says whether the message did too). Returns bytes to
   * append to the message, or null.
   */
  frameInboundComplete(fin: boolean, maxOutput: number): Uint8Array | null;

  /**
   * A frame is about to be sent: returns the RSV bits and payload to put on the wire.
   */
  frameOutbound(opcode: Opcode, rsv: RsvBits, data: Uint8Array, fin: boolean): { rsv: RsvBits; data: Uint8Array };
}
