/**
 * When and how soon a client reconnects (RFC 6455 §7.2.3 "Recovering from Abnormal
 * Closure"): which failures are worth another attempt, and the delays between attempts —
 * a random first one, so that clients dropped together do not come back together, then
 * truncated exponential backoff. Shared by `for await (const ws of connect(url))` and
 * `new WebSocket(url, { reconnect })`.
 */
import { DEFAULT_RECONNECT_BACKOFF, DEFAULT_RECONNECT_SEND_BUFFER } from '../limits';
import { ConnectError, InvalidStatusError, ProxyStatusError, SocksError } from './errors';

/** How a client reconnects. Delays are in milliseconds. */
export interface ReconnectOptions {
  /** The first retry waits a random time under this (RFC 6455 §7.2.3). Default 5,000. */
  initialDelay?: number;
  /** The second retry waits this long, each next one `factor` times longer. Default 3,100. */
  minDelay?: number;
  /** The longest wait between attempts. Default 90,000. */
  maxDelay?: number;
  /** Growth of the wait from one failed attempt to the next. Default 1.618. */
  factor?: number;
  /** Give up after this many failed attempts in a row (the error is then thrown/emitted). Default Infinity. */
  maxRetries?: number;
  /** Whether a failed attempt is worth retrying. Default {@link isRetryable}. */
  shouldRetry?: (error: Error) => boolean;
  /**
   * `new WebSocket()` only: bytes of messages given to send() while reconnecting that are
   * kept and sent once the next connection's 'open' listeners ran. Default 0: such a send
   * returns false and its callback gets a NotOpenError.
   */
  sendBuffer?: number;
}

/** The options with their defaults applied and checked. */
export interface ReconnectPolicy {
  initialDelay: number;
  minDelay: number;
  maxDelay: number;
  factor: number;
  maxRetries: number;
  shouldRetry: (error: Error) => boolean;
  sendBuffer: number;
}

/** Failures that say nothing about the next attempt: the network, or the server being away. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ENOENT', // a Unix socket not there (yet)
  'ENOTFOUND',
  'EAI_AGAIN',
  'WS_ERR_CLOSED',
  'WS_ERR_PROXY_CLOSED', // the proxy hung up before answering (restarting, overloaded)
  'WS_ERR_HANDSHAKE_TIMEOUT',
]);

/**
 * The default of `shouldRetry`, Python websockets' rule extended to proxies: network
 * errors, DNS failures and handshake timeouts are retried, and so are the answers of a
 * server or proxy that is temporarily unable — HTTP 500, 502, 503, 504 from the server,
 * 502, 503, 504 from an HTTP proxy, SOCKS5 replies 1, 3, 4, 5, 6 (RFC 1928 §6). Anything
 * else (a 4xx, a bad 101, a TLS certificate error, refused proxy credentials) is fatal.
 */
export function isRetryable(error: Error): boolean {
  if (error instanceof InvalidStatusError) return [500, 502, 503, 504].includes(error.statusCode);
  if (error instanceof ProxyStatusError) return [502, 503, 504].includes(error.statusCode);
  if (error instanceof SocksError) return error.stage === 'connect' && [1, 3, 4, 5, 6].includes(error.reply);
  if (error instanceof ConnectError) return TRANSIENT_CODES.has(error.code);
  return false;
}

function number(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) throw new RangeError(`reconnect.${name} must be a number >= ${min}, got ${String(value)}`);
  return value;
}

/** Reads `reconnect` (true: the defaults). Throws RangeError on nonsense. */
export function reconnectPolicy(options: boolean | ReconnectOptions | undefined): ReconnectPolicy {
  const o = typeof options === 'object' && options !== null ? options : {};
  const d = DEFAULT_RECONNECT_BACKOFF;
  if (o.shouldRetry !== undefined && typeof o.shouldRetry !== 'function') throw new TypeError('reconnect.shouldRetry must be a function');
  return {
    initialDelay: number('initialDelay', o.initialDelay, d.initialDelay, 0),
    minDelay: number('minDelay', o.minDelay, d.minDelay, 0),
    maxDelay: number('maxDelay', o.maxDelay, d.maxDelay, 0),
    factor: number('factor', o.factor, d.factor, 1),
    maxRetries: number('maxRetries', o.maxRetries, Infinity, 0),
    shouldRetry: o.shouldRetry ?? isRetryable,
    sendBuffer: number('sendBuffer', o.sendBuffer, DEFAULT_RECONNECT_SEND_BUFFER, 0),
  };
}

/**
 * The waits before each retry of a run of failed attempts, in ms: random under
 * `initialDelay`, then `minDelay` growing by `factor` up to `maxDelay` (RFC 6455 §7.2.3:
 * "truncated binary exponential backoff", with Python websockets' golden-ratio factor).
 */
export function* backoff(policy: ReconnectPolicy): Generator<number, never> {
  yield Math.random() * policy.initialDelay;
  let delay = policy.minDelay;
  while (delay < policy.maxDelay) {
    yield delay;
    // A factor of 1 (or a zero minDelay) would never reach maxDelay: stay at minDelay.
    if (policy.factor === 1 || delay === 0) for (;;) yield delay;
    delay *= policy.factor;
  }
  for (;;) yield policy.maxDelay;
}
