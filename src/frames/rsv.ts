/**
 * The reserved bits of a frame header (RFC 6455 §5.2) and the per-frame hooks an extension
 * applies to them (RFC 6455 §9). They live with the frames so that frame parsing can run
 * extensions without depending on how extensions are negotiated (src/extensions/).
 */
import { ParseFailed } from '../errors';
import { isControl, type Opcode } from './opcode';

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

/**
 * Runs the negotiated extensions' inbound hooks over one received frame, in wsproto's
 * order (RFC 6455 §9): each header hook claims the RSV bits it understands, and a bit no one
 * claims fails the frame (§5.2: 1002); for a data frame the payload hooks then transform the
 * payload (e.g. inflate it) and the completion hooks append what the frame's end releases.
 * The one place extensions are applied to received frames: {@link Frame.parse} and the
 * sans-IO FrameDecoder both call it.
 * @param rsv the frame's RSV bits as one number (RSV1 | RSV2 | RSV3 values)
 * @param maxOutput the most bytes the frame's payload may grow to (what is left of maxPayload)
 * @returns the payload after the hooks (control frames: as it was)
 * @throws ParseFailed from this check or a hook (1009 past `maxOutput`)
 */
export function applyInboundExtensions(extensions: readonly FrameTransform[], opcode: Opcode, rsv: number, payload: Uint8Array, fin: boolean, maxOutput: number): Uint8Array {
  let left = maskToRsv(rsv);
  for (const ext of extensions) left = ext.frameInboundHeader(opcode, left, payload.length);
  if (rsvToMask(left) !== 0) throw new ParseFailed('reserved bits set that no extension claimed', 1002);
  if (isControl(opcode)) return payload;
  let data = payload;
  for (const ext of extensions) data = ext.frameInboundPayloadData(data, maxOutput);
  for (const ext of extensions) {
    const tail = ext.frameInboundComplete(fin, maxOutput - data.length);
    if (tail !== null && tail.length > 0) data = Buffer.concat([data, tail]);
  }
  return data;
}
