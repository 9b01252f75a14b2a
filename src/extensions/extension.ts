/**
 * The extension framework of RFC 6455 §9 (negotiation through Sec-WebSocket-Extensions)
 * and the per-frame hooks an extension such as permessage-deflate (RFC 7692) needs, shaped
 * after wsproto's Extension. Hooks report a peer's violation by throwing ParseFailed with
 * the close code to send.
 */
import type { Opcode } from '../frames';

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

export interface Extension {
  /** The extension token, e.g. "permessage-deflate". */
  readonly name: string;
  /** The RSV bits this extension may set once negotiated (RSV1 | RSV2 | RSV3 values). */
  readonly rsvMask: number;

  /** Whether negotiation succeeded (finalize() or accept() agreed on parameters). */
  enabled(): boolean;

  /**
   * Client: the one offer to send (RFC 6455 §9.1). A string holds the offer's parameters as
   * they appear in Sec-WebSocket-Extensions after the name and its ";" (e.g.
   * "client_max_window_bits; server_no_context_takeover"); `true` offers the bare name;
   * `false` offers nothing. One offer only: fallbacks go in {@link Extension.offers}.
   * Parameters must be tokens or token=token (RFC 6455 §9.1); malformed ones make the
   * handshake throw LocalProtocolError.
   */
  offer(): string | boolean;

  /**
   * Client, optional: several offers in order of preference (RFC 7692 §5: fallbacks).
   * Each entry is what {@link Extension.offer} would return. When present it is used
   * instead of {@link Extension.offer}.
   */
  offers?(): Array<string | boolean>;

  /**
   * Server: the client's offer parameters (everything after the name, "" if none,
   * normalized to "p1; p2=v" with quoted values unquoted). Returns the response parameters
   * (string), `true` to accept with none, or `null` (or `false`) to decline this offer: the
   * server then tries the client's next offer of this extension, if any (RFC 7692 §5).
   * Once an offer is accepted, later offers of the same extension are not passed here.
   */
  accept(offer: string): string | boolean | null;

  /**
   * Client: the server's accepted parameters. Throws RemoteProtocolError if the server
   * answered with something that was not offered or is invalid (the client must fail the
   * connection, RFC 6455 §4.1 / RFC 7692 §7.1).
   */
  finalize(response: string): void;

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

  /**
   * Frees resources (zlib streams). Called once, by the sans-IO Connection, when it reaches
   * CLOSED and no more frames will be framed or parsed.
   */
  dispose?(): void;
}
