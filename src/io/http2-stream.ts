/**
 * What an HTTP/2 stream that carries a WebSocket needs beyond being a Duplex (RFC 8441 §5):
 * an abrupt end of the connection (a TCP RST over HTTP/1.1) is an RST_STREAM with the CANCEL
 * error code. Node sends NO_ERROR for a stream destroyed without an error, and the connection
 * code destroys its socket without one (terminate(), timeouts, a slow peer), so the streams
 * of WebSockets get a destroy() that resets with CANCEL first.
 */
import * as http2 from 'node:http2';

type Destroy = (this: http2.Http2Stream, error?: Error) => http2.Http2Stream;

const kPlainDestroy = Symbol('wscore.plainDestroy');

function destroyWithCancel(this: http2.Http2Stream & { [kPlainDestroy]: Destroy }, error?: Error): http2.Http2Stream {
  // close() sends RST_STREAM(CANCEL) and marks the stream closed; Node's destroy then keeps
  // that code instead of choosing NO_ERROR.
  if (error === undefined && !this.closed && !this.destroyed) this.close(http2.constants.NGHTTP2_CANCEL);
  return this[kPlainDestroy].call(this, error);
}

/** Makes destroying `stream` without an error reset it with CANCEL (RFC 8441 §5). */
export function cancelOnDestroy(stream: http2.Http2Stream): void {
  const s = stream as http2.Http2Stream & { [kPlainDestroy]?: Destroy };
  if (s[kPlainDestroy] !== undefined) return;
  s[kPlainDestroy] = stream.destroy as Destroy;
  stream.destroy = destroyWithCancel as unknown as typeof stream.destroy;
}
