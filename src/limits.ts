/**
 * Every default limit of wscore, one place each (DESIGN.md "Errors, limits, bad input";
 * docs/security.md). The modules that apply them import from here; their old export names
 * are re-exports. Sits low: imports only backend/types (the frame parser's own default).
 */
import { DEFAULT_MAX_FRAGMENTS } from './backend/types';

/**
 * Default most fragments (data frames) of one message: 131,072. Defined in backend/types
 * because the frame parser applies it; see its comment for why this number.
 */
export { DEFAULT_MAX_FRAGMENTS };

/** Default maxPayload, the largest message: 64 MiB (a larger one fails with 1009). */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;

/** Default wait for the peer to finish the closing handshake (RFC 6455 §7.1.1): 30 s (as ws). */
export const DEFAULT_CLOSE_TIMEOUT = 30_000;

/** Default opening handshake timeout: 10 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** Default high-water mark of send(): 16 KiB, the socket's own default. */
export const DEFAULT_HIGH_WATER_MARK = 16 * 1024;

/** Default bound on buffered outbound bytes before a slow peer is closed: 16 MiB (as Bun). */
export const DEFAULT_MAX_BUFFERED_AMOUNT = 16 * 1024 * 1024;

/**
 * Most bytes of a refused handshake's response body a client keeps (InvalidStatusError.body):
 * 64 KiB (over HTTP/1.1 and HTTP/2).
 */
export const MAX_REFUSAL_BODY = 64 * 1024;

/**
 * Default bound on the native transport's own write queue (bytes the kernel did not take):
 * 1 GiB. A backstop only: the connection closes a slow peer at maxBufferedAmount long
 * before, but one large message may go into an empty buffer whatever its size, so this
 * bound sits far above any sane message; past it the transport closes (ENOBUFS).
 */
export const DEFAULT_TRANSPORT_MAX_QUEUED = 1024 * 1024 * 1024;

/** Default most unanswered pings of a peer that does not read: 60 (as ws 8.23). */
export const DEFAULT_MAX_PENDING_AUTO_PONGS = 60;

/**
 * Default permessage-deflate threshold: messages under 1 KiB are sent uncompressed (RFC 7692
 * allows either; deflating small ones costs more CPU than it saves bytes).
 */
export const DEFAULT_DEFLATE_THRESHOLD = 1024;

/** Limits applied while parsing an HTTP/1.1 head (the opening handshake, RFC 6455 §4). */
export interface HttpLimits {
  /** Longest request line / status line, in bytes without CRLF (request: 414 beyond). */
  maxStartLineLength: number;
  /** Longest header line, in bytes without CRLF (431 beyond). */
  maxHeaderLineLength: number;
  /** Largest head: start line, header lines and every CRLF up to the blank line (431 beyond). */
  maxHeaderSize: number;
  /** Most header lines (431 beyond). */
  maxHeaderCount: number;
  /** Largest response body (Content-Length or read until close). */
  maxBodySize: number;
}

/** Default handshake parsing limits: 8 KiB lines, 16 KiB head, 100 headers, 1 MiB body. */
export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxStartLineLength: 8192,
  maxHeaderLineLength: 8192,
  maxHeaderSize: 16384,
  maxHeaderCount: 100,
  maxBodySize: 1024 * 1024,
});

/**
 * Default backoff of a reconnecting client (Python websockets' values, in ms): the first
 * retry after a random wait under `initialDelay` (RFC 6455 §7.2.3), then `minDelay`, each
 * next `factor` times longer, up to `maxDelay`.
 */
export const DEFAULT_RECONNECT_BACKOFF = Object.freeze({ initialDelay: 5000, minDelay: 3100, maxDelay: 90_000, factor: 1.618 });

/** Default bytes of send() a reconnecting WebSocket keeps while disconnected: none. */
export const DEFAULT_RECONNECT_SEND_BUFFER = 0;

/**
 * Default history kept per topic by the Redis pub/sub adapter when history is on: about
 * 1,000 messages (`XADD MAXLEN ~ 1000`: Redis trims whole stream nodes, so a few more may stay).
 */
export const DEFAULT_PUBSUB_HISTORY_LENGTH = 1000;

/** Default first delay before reconnecting to the pub/sub bus (Redis): 50 ms, doubling... */
export const DEFAULT_PUBSUB_RECONNECT_MIN_DELAY = 50;

/** ...up to 2 s between attempts (with jitter), for as long as the bus is unreachable. */
export const DEFAULT_PUBSUB_RECONNECT_MAX_DELAY = 2000;

/**
 * Default most live messages held for one connection while its history is being read (a
 * topic request with `since`): 10,000; past it the connection is closed with 1013 (try
 * again later) rather than buffering without bound.
 */
export const DEFAULT_TOPIC_RECOVERY_BUFFER = 10_000;

/**
 * Default most topics one connection may subscribe itself to with topic requests: 1,000
 * (each may cost a Redis subscription); past it the request gets an error answer.
 */
export const DEFAULT_TOPIC_REQUESTS_MAX_TOPICS = 1000;
