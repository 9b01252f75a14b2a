/**
 * Options shared by both ends of a connection and how they are read. Their defaults are
 * defined, and documented, in src/limits.ts.
 */
import {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_PENDING_AUTO_PONGS,
} from '../limits';

/** The connection options a connection reads, checked and defaulted ({@link connectionSettings}). */
export interface ConnectionSettings {
  maxPayload: number;
  /** 0: no limit (the parser's convention). */
  maxFragments: number;
  closeTimeout: number;
  highWaterMark: number;
  maxBufferedAmount: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  rawFrames: boolean;
  autoPong: boolean;
  /** Infinity: no limit. */
  maxPendingAutoPongs: number;
}

/** The heartbeat: ping every `interval` ms, terminate when no pong came within `timeout` ms. */
export interface HeartbeatOptions {
  interval: number;
  /** Default: `interval`. */
  timeout?: number;
}

/**
 * Options every WebSocket accepts (client and server side). Not `ConnectionOptions`: that
 * name is the sans-IO Connection's (protocol/connection.ts).
 */
export interface WebSocketOptions {
  /** Largest message (and frame) accepted, in bytes; larger: close 1009. Default 64 MiB. */
  maxPayload?: number;
  /**
   * Most frames one message may be sent in; more: close 1008 (as ws). Default 131,072: a
   * 4 MiB message in 65,536 fragments of 64 bytes passes, 10^6 tiny fragments do not.
   * `0` or `Infinity` disables (docs/security.md).
   */
  maxFragments?: number;
  /**
   * How long to wait for the peer to finish the closing handshake and close TCP after a
   * close frame was sent, in ms; then the socket is destroyed. Default 30,000.
   */
  closeTimeout?: number;
  /**
   * send() returns false (and 'drain' follows) at or above this many bytes waiting to be
   * written (wire bytes, as for maxBufferedAmount). Default 16 KiB.
   */
  highWaterMark?: number;
  /**
   * Past this many bytes waiting to be written (wire bytes: frame headers, compressed sizes
   * and our own control frames included, unlike bufferedAmount) the peer is too slow: the
   * connection is closed (code 1008) instead of memory growing. A single message sent while
   * nothing is buffered never trips it. Default 16 MiB (Bun's backpressureLimit): what a
   * peer that sends and never reads can make us hold. `Infinity` disables.
   */
  maxBufferedAmount?: number;
  /** Ping every `interval` ms (a number is the interval), terminate when no pong follows. */
  heartbeat?: number | HeartbeatOptions;
  /** Emit every received frame as a 'frame' event (a Frame from wscore's frames module). */
  rawFrames?: boolean;
  /** Answer pings automatically (default true, as ws), each in order (RFC 6455 §5.5.2). */
  autoPong?: boolean;
  /**
   * Most pings left unanswered because the peer does not read what we send (our socket's
   * write buffer is full): past it the connection is closed (1008) and the socket
   * destroyed. Meanwhile only the latest ping keeps its pong (§5.5.3), sent at 'drain'.
   * Default 60 (ws 8.23's option and default); `0` or `Infinity` disables.
   */
  maxPendingAutoPongs?: number;
  /**
   * Accepted for ws compatibility and ignored: UTF-8 is validated inside the frame parser,
   * where it costs almost nothing (RFC 6455 §8.1 requires it).
   */
  skipUTF8Validation?: boolean;
  /** Accepted for ws compatibility and ignored: events are always emitted synchronously. */
  allowSynchronousEvents?: boolean;
}


function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`);
  }
  return value;
}

/**
 * Checked options by the frozen object they were read from: a server passes one frozen
 * object for every connection, which then share one ConnectionSettings instead of a copy each.
 * (Only frozen inputs: a caller's mutable options object may change between connections.)
 */
const checked = new WeakMap<WebSocketOptions, ConnectionSettings>();

/** Reads and checks the connection options (throws RangeError on nonsense). */
export function connectionSettings(o: WebSocketOptions = {}): ConnectionSettings {
  if (!Object.isFrozen(o)) return readConnectionSettings(o);
  let out = checked.get(o);
  if (out === undefined) {
    out = Object.freeze(readConnectionSettings(o));
    checked.set(o, out);
  }
  return out;
}

function readConnectionSettings(o: WebSocketOptions): ConnectionSettings {
  let interval = 0;
  let timeout = 0;
  if (o.heartbeat !== undefined) {
    const hb = typeof o.heartbeat === 'number' ? { interval: o.heartbeat } : o.heartbeat;
    interval = positive('heartbeat.interval', hb.interval, 0);
    timeout = positive('heartbeat.timeout', hb.timeout, interval);
  }
  const maxPayload = positive('maxPayload', o.maxPayload, DEFAULT_MAX_PAYLOAD, true);
  const maxFragments = positive('maxFragments', o.maxFragments, DEFAULT_MAX_FRAGMENTS, true);
  const maxPendingAutoPongs = positive('maxPendingAutoPongs', o.maxPendingAutoPongs, DEFAULT_MAX_PENDING_AUTO_PONGS, true);
  return {
    // The parser wants a safe integer; "unlimited" is capped at what a number holds exactly.
    maxPayload: Number.isFinite(maxPayload) ? Math.floor(maxPayload) : Number.MAX_SAFE_INTEGER,
    // The parser's "no limit" is 0, as ws's.
    maxFragments: Number.isFinite(maxFragments) ? Math.floor(maxFragments) : 0,
    closeTimeout: positive('closeTimeout', o.closeTimeout, DEFAULT_CLOSE_TIMEOUT),
    highWaterMark: positive('highWaterMark', o.highWaterMark, DEFAULT_HIGH_WATER_MARK, true),
    maxBufferedAmount: positive('maxBufferedAmount', o.maxBufferedAmount, DEFAULT_MAX_BUFFERED_AMOUNT),
    heartbeatInterval: interval,
    heartbeatTimeout: timeout,
    rawFrames: o.rawFrames === true,
    autoPong: o.autoPong !== false,
    maxPendingAutoPongs: maxPendingAutoPongs === 0 ? Infinity : maxPendingAutoPongs,
  };
}
