/**
 * The extension framework of RFC 6455 §9 (negotiation through Sec-WebSocket-Extensions)
 * and the per-frame hooks an extension such as permessage-deflate (RFC 7692) needs, shaped
 * after wsproto's Extension. Hooks report a peer's violation by throwing ParseFailed with
 * the close code to send.
 */
import type { FrameTransform } from '../frames/rsv';

/**
 * A negotiated extension: the per-frame hooks of {@link FrameTransform} plus the
 * negotiation of RFC 6455 §9.1.
 */
export interface Extension extends FrameTransform {
  /** The extension token, e.g. "permessage-deflate". */
  readonly name: string;

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
   * Frees resources (zlib streams). Called once, by the sans-IO Connection, when it reaches
   * CLOSED and no more frames will be framed or parsed.
   */
  dispose?(): void;
}
