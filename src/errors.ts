/**
 * The error classes of wscore. Two families, as in wsproto:
 * - {@link LocalProtocolError}: the local program misused the API (send after close, a
 *   bad close code, an oversized control payload). Thrown synchronously; a bug to fix.
 * - {@link RemoteProtocolError}: the peer broke the protocol. Carries the close code
 *   (RFC 6455 §7.4.1) or HTTP status to answer with; the connection turns it into a close.
 */

/** Base class of every error wscore throws on purpose. */
export class WebSocketError extends Error {
  override name = 'WebSocketError';
}

/** The local program used the API in a way the protocol forbids. */
export class LocalProtocolError extends WebSocketError {
  override name = 'LocalProtocolError';
}

/**
 * The peer sent something the protocol forbids. `closeCode` is what to send back in the
 * close frame (1002, 1007, 1009, ...); during the opening handshake `statusCode` is the HTTP
 * status to reject with (400, 426, 431, ...).
 */
export class RemoteProtocolError extends WebSocketError {
  override name = 'RemoteProtocolError';
  readonly closeCode: number;
  readonly statusCode: number | undefined;
  constructor(message: string, closeCode: number, statusCode?: number) {
    super(message);
    this.closeCode = closeCode;
    this.statusCode = statusCode;
  }
}

/**
 * A frame could not be parsed (wsproto's ParseFailed): the peer's fault, with the close
 * code to answer with (default 1002, protocol error).
 */
export class ParseFailed extends RemoteProtocolError {
  override name = 'ParseFailed';
  /** ws's string code of the violation (`WS_ERR_INVALID_OPCODE`, ...; the table is src/error-codes.ts). */
  readonly errorCode: string | undefined;
  /** ws's short message for it ('Invalid WebSocket frame: invalid opcode 5'), when known. */
  readonly summary: string | undefined;
  constructor(message: string, closeCode = 1002, options?: { errorCode?: string; summary?: string }) {
    super(message, closeCode);
    this.errorCode = options?.errorCode;
    this.summary = options?.summary;
  }
  /** wsproto's name for the close code. */
  get code(): number {
    return this.closeCode;
  }
}
