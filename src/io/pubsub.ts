/**
 * The pub/sub adapter seam: what a {@link TopicRegistry} calls to carry topics beyond one
 * process. With no adapter (the default) topics are in-process only and nothing here runs.
 *
 * The registry reference-counts: it calls `subscribe(topic)` when the first local subscriber
 * of a topic appears and `unsubscribe(topic)` when the last one leaves, so the bus carries
 * only what some local connection wants. A local publish is delivered to the local
 * subscribers at once (frame-once fan-out) and forwarded with `publish()`; the adapter tags
 * it with its instance id and, when the bus echoes it back, drops it: a process never
 * delivers its own publish twice. A message from another process comes in through the
 * `deliver` callback and goes through the same frame-once fan-out.
 *
 * The bytes on the bus (an adapter may use this format or its own): one header then the
 * payload, untouched (binary-safe; the message boundary is the bus message's):
 *   u8 version (1) | u8 flags (bit 0: binary, bit 1: position follows) |
 *   u8 n, n bytes origin (ASCII instance id) |
 *   [u8 n, n bytes epoch | u8 n, n bytes offset]  (with bit 1) | payload
 */
import { randomBytes } from 'node:crypto';

import { WebSocketError } from '../errors';

/** Where a message sits in a topic's history (recovery): offset within epoch. */
export interface HistoryPosition {
  /** Changes when the history is lost (e.g. Redis restarted empty): older offsets are void. */
  readonly epoch: string;
  /** The message's offset (a Redis stream id, `<ms>-<seq>`). */
  readonly offset: string;
}

/** A message the bus delivers to this process. */
export interface BusMessage {
  readonly topic: string;
  readonly data: Uint8Array;
  readonly binary: boolean;
  /** Set when the topic keeps history. */
  readonly position?: HistoryPosition | undefined;
  /** True when this process published it (only history topics deliver own messages). */
  readonly own?: boolean;
  /** On an own message: the token given to publish(), if any. */
  readonly token?: number | undefined;
}

/** One message read back from history. */
export interface HistoryEntry {
  readonly offset: string;
  readonly binary: boolean;
  readonly data: Buffer;
}

/**
 * The answer to "what did `topic` publish after `since`": recovered with every message after
 * it (in order, up to `position.offset`), or recovered: false (other epoch, trimmed, unknown
 * offset) with the current position to start again from.
 */
export interface RecoverResult {
  readonly recovered: boolean;
  readonly position: HistoryPosition;
  readonly messages: readonly HistoryEntry[];
}

/** What the server gives its adapter when it starts. */
export interface PubSubHost {
  /** Fans a message from the bus out to the local subscribers of its topic. */
  deliver(message: BusMessage): void;
  /** A failure of the bus outside any call (lost connection, failed re-subscribe). */
  error(err: PubSubError): void;
}

/**
 * A bus carrying topics between processes (see the module comment). One adapter serves one
 * WebSocketServer.
 */
export interface PubSubAdapter {
  /** Called once, by the server the adapter was given to, before any other method. */
  start(host: PubSubHost): void;
  /** The first local subscriber of `topic` appeared. Rejects with a PubSubError. */
  subscribe(topic: string): Promise<void>;
  /** The last local subscriber of `topic` left. */
  unsubscribe(topic: string): Promise<void>;
  /**
   * Sends a local publish to the other processes. Resolves once the bus took it; rejects
   * with a {@link PubSubError} (code WS_ERR_PUBSUB_UNAVAILABLE) when it cannot (never queued).
   * `token` (history topics) comes back on the own message, so that the registry can leave
   * out the connection that published it (ws.publish()).
   */
  publish(topic: string, data: Uint8Array, binary: boolean, token?: number): Promise<void>;
  /**
   * Whether `topic` keeps history: its publishes are then delivered to local subscribers
   * through the bus too (own messages included, once), because the offset comes from the bus.
   */
  hasHistory(topic: string): boolean;
  /** History (recovery), for adapters that keep it: the current position of `topic`. */
  position?(topic: string): Promise<HistoryPosition>;
  /** History: what `topic` published after `since`, or recovered: false. */
  recover?(topic: string, since: HistoryPosition): Promise<RecoverResult>;
  /** Unsubscribes everything and closes the adapter's connections. */
  close(): Promise<void>;
}

/** A pub/sub bus failed (or its peer dependency is missing). `code` says which. */
export class PubSubError extends WebSocketError {
  override name = 'PubSubError';
  /**
   * WS_ERR_PUBSUB_UNAVAILABLE (the bus is not connected or refused a command),
   * WS_ERR_PUBSUB_MISSING_DEPENDENCY (the optional client package is not installed),
   * WS_ERR_PUBSUB_CLOSED (the adapter was closed), WS_ERR_PUBSUB_BAD_MESSAGE (a bus message
   * this version cannot read), WS_ERR_PUBSUB_HISTORY_LOST (messages published while this
   * process was cut off are not in history: its subscribers of `topic` missed some), WS_ERR_PUBSUB_DELIVERY (fanning a bus message out threw, e.g.
   * from an application listener).
   */
  readonly code: string;
  /** The topic concerned, when there is one. */
  readonly topic: string | undefined;
  constructor(message: string, code: string, topic?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.topic = topic;
  }
}

const VERSION = 1;
const FLAG_BINARY = 1;
const FLAG_POSITION = 2;

/** A random id naming one adapter instance (one server) on the bus: 16 hex characters. */
export function newInstanceId(): string {
  return randomBytes(8).toString('hex');
}

/** The header of a bus message, up to the position (see the module comment). */
export function busHeader(origin: string, binary: boolean, withPosition: boolean): Buffer {
  const id = Buffer.from(origin, 'latin1');
  if (id.length === 0 || id.length > 255) throw new RangeError('An instance id is 1 to 255 bytes');
  const out = Buffer.allocUnsafe(3 + id.length);
  out[0] = VERSION;
  out[1] = (binary ? FLAG_BINARY : 0) | (withPosition ? FLAG_POSITION : 0);
  out[2] = id.length;
  id.copy(out, 3);
  return out;
}

/** A bus message without position: header and payload in one buffer. */
export function encodeBusMessage(origin: string, data: Uint8Array, binary: boolean): Buffer {
  return Buffer.concat([busHeader(origin, binary, false), data]);
}

/** A bus message read back; throws a PubSubError (WS_ERR_PUBSUB_BAD_MESSAGE) on bad bytes. */
export interface DecodedBusMessage {
  origin: string;
  binary: boolean;
  position: HistoryPosition | undefined;
  data: Buffer;
}

export function decodeBusMessage(bytes: Buffer, topic: string): DecodedBusMessage {
  const bad = (why: string): PubSubError => new PubSubError(`Unreadable bus message on topic ${JSON.stringify(topic)}: ${why}`, 'WS_ERR_PUBSUB_BAD_MESSAGE', topic);
  if (bytes.length < 3) throw bad('shorter than its header');
  if (bytes[0] !== VERSION) throw bad(`version ${bytes[0]}, expected ${VERSION}`);
  const flags = bytes[1]!;
  let at = 2;
  const field = (): string => {
    const n = bytes[at];
    if (n === undefined || at + 1 + n > bytes.length) throw bad('truncated header');
    const s = bytes.toString('latin1', at + 1, at + 1 + n);
    at += 1 + n;
    return s;
  };
  const origin = field();
  let position: HistoryPosition | undefined;
  if ((flags & FLAG_POSITION) !== 0) {
    const epoch = field();
    position = { epoch, offset: field() };
  }
  return { origin, binary: (flags & FLAG_BINARY) !== 0, position, data: bytes.subarray(at) };
}
