/**
 * `new WebSocket(url, { reconnect })`: one WebSocket object across connections. When the
 * connection drops (or an attempt fails with an error the policy retries), a fresh
 * connection is opened after a backoff delay (RFC 6455 §7.2.3) and the same listeners keep
 * working:
 * - 'open' fires for every connection (resubscribe there);
 * - 'reconnecting' ({ attempt, delay, error, code, reason }) replaces the 'close' (and the
 *   'error' of a failed attempt) of each drop that will be retried;
 * - 'error' then 'close' come once, at the end: after close()/terminate(), or when an
 *   attempt fails with an error that is not retried or `maxRetries` is reached;
 * - meanwhile readyState is CONNECTING, and send() does not throw: the message is kept for
 *   the next connection within `sendBuffer` bytes (sent after its 'open' listeners ran),
 *   else it returns false and its callback gets a NotOpenError.
 * A failed attempt's error stays out of 'error' (it is in 'reconnecting'): an application
 * without an 'error' listener is not told twice.
 */
import { EventEmitter } from 'node:events';

import { startClient, type ClientOptions } from './client';
import { CLOSED, CONNECTING } from './ready-state';
import { kConnection, TransportConnection } from './transport-connection';
import { NotOpenError } from './errors';
import type { ReconnectingInfo, WebSocketEventMap } from './events';
import { connectionSettings } from './options';
import { backoff, reconnectPolicy, type ReconnectPolicy } from './reconnect-policy';
import type { SendCallback } from './sender';
import { byteSize, type SendData, type SendOptions } from './send-data';

/** The reconnection state of a WebSocket created with `reconnect`. */
export const kReconnect: unique symbol = Symbol('wscore.reconnect');

/** What the reconnector needs of a WebSocket (the façade, seen from below). */
interface ReconnectingSocket {
  [kConnection]: TransportConnection;
  _url: string;
  emit<K extends keyof WebSocketEventMap>(event: K, ...args: WebSocketEventMap[K]): boolean;
  listenerCount(event: string): number;
  send(data?: SendData, options?: SendOptions | SendCallback, cb?: SendCallback): boolean;
}

type Queued = [data: SendData | undefined, options: SendOptions | undefined, cb: SendCallback | undefined, size: number];

const emit = EventEmitter.prototype.emit;

export class Reconnector {
  private readonly policy: ReconnectPolicy;
  /** close()/terminate() was called, or the last attempt failed for good: events pass as they are. */
  private stopped = false;
  /** The current connection reached OPEN. */
  private opened = false;
  /** Failed attempts since the last connection opened. */
  private failures = 0;
  private delays: Generator<number, never> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastError: Error | null = null;
  private queue: Queued[] = [];
  private queuedBytes = 0;

  constructor(
    private readonly ws: ReconnectingSocket,
    private readonly address: string | URL,
    private readonly protocols: readonly string[],
    private readonly options: ClientOptions,
  ) {
    this.policy = reconnectPolicy(options.reconnect);
    this.watch(ws[kConnection]);
    // An own property: the prototype's emit, shared by every WebSocket, stays as it is.
    const self = this;
    ws.emit = function (this: ReconnectingSocket, event, ...args) {
      if (!self.stopped) {
        if (event === 'error' && !self.opened && self.onAttemptError(args[0] as Error)) return false;
        if (event === 'close') {
          self.onClose(args[0] as number, args[1] as Buffer);
          if (!self.stopped) return false;
        }
      }
      // Opened before the 'open' listeners run: one that throws fails this connection
      // (1011), which is then a drop like any other, not a failed attempt.
      if (event === 'open' && !self.stopped) self.opened = true;
      const result = emit.call(this, event, ...args);
      if (event === 'open' && !self.stopped) self.flush();
      return result;
    } as ReconnectingSocket['emit'];
  }

  /** A connection attempt is in progress or scheduled (send() is kept or refused, not thrown). */
  get active(): boolean {
    return !this.stopped;
  }

  /** Errors nobody listens to still reach us (the connection's sink), so 'reconnecting' can carry them. */
  private watch(connection: TransportConnection): void {
    connection.errorSink = (err, isHandlerError) => {
      if (!this.opened && !this.stopped && this.ws[kConnection] === connection) this.onAttemptError(err);
      if (isHandlerError) process.emitWarning(err);
    };
  }

  /** A failed attempt's error: true when it will be retried (so it is not emitted). */
  private onAttemptError(err: Error): boolean {
    this.lastError = err;
    let retry = false;
    try {
      retry = this.failures < this.policy.maxRetries && this.policy.shouldRetry(err);
    } finally {
      if (!retry) this.stop();
    }
    return retry;
  }

  /** After the 'open' listeners: the run of failures is over; buffered sends leave. */
  private flush(): void {
    this.failures = 0;
    this.delays = null;
    this.lastError = null;
    // After the 'open' listeners (which may resubscribe or authenticate first), in order.
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const [data, options, cb] of queue) this.ws.send(data, options, cb);
  }

  /** A 'close' while not stopped: the connection dropped or an attempt failed; plan the next. */
  private onClose(code: number, reason: Buffer): void {
    const error = this.opened ? null : this.lastError;
    if (this.opened) {
      // RFC 6455 §7.2.3: after a drop, the first attempt waits a random time too.
      this.opened = false;
      this.delays = null;
    } else {
      this.failures++;
    }
    this.lastError = null;
    const old = this.ws[kConnection];
    const connection = new TransportConnection(this.ws, connectionSettings(this.options));
    connection.binaryType = old.binaryType;
    this.watch(connection);
    this.ws[kConnection] = connection;
    this.delays ??= backoff(this.policy);
    const delay = this.delays.next().value;
    this.timer = setTimeout(() => this.attempt(), delay);
    const info: ReconnectingInfo = { attempt: this.failures + 1, delay, error, code, reason: reason.toString() };
    emit.call(this.ws, 'reconnecting', info);
  }

  private attempt(): void {
    this.timer = null;
    if (this.stopped) return;
    startClient(this.ws, this.address, this.protocols, this.options);
  }

  /**
   * close()/terminate(): no more attempts. True when it ended the WebSocket itself (it was
   * waiting for the next attempt: 'close' 1006 now, as closing a CONNECTING WebSocket does).
   */
  stop(): boolean {
    if (this.stopped) return false;
    this.stopped = true;
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const [, , cb, size] of queue) refuse(this.ws, cb, size);
    if (this.timer === null) return false;
    clearTimeout(this.timer);
    this.timer = null;
    this.ws[kConnection].closeUnopened();
    return true;
  }

  /** ping()/pong() while no connection is open: the callback gets a NotOpenError. */
  refuse(cb: SendCallback | undefined): void {
    refuse(this.ws, cb, 0);
  }

  /** send() while no connection is open: kept for the next one within `sendBuffer`, else refused. */
  send(data: SendData | undefined, options: SendOptions | undefined, cb: SendCallback | undefined): boolean {
    const size = byteSize(data);
    if (this.stopped || this.queuedBytes + size > this.policy.sendBuffer) refuse(this.ws, cb, size);
    else {
      this.queue.push([data, options, cb, size]);
      this.queuedBytes += size;
    }
    return false;
  }
}

function refuse(ws: ReconnectingSocket, cb: SendCallback | undefined, _size: number): void {
  const state = ws[kConnection].readyState === CONNECTING ? 'CONNECTING' : ws[kConnection].readyState === CLOSED ? 'CLOSED' : 'CLOSING';
  if (cb) process.nextTick(cb, new NotOpenError(`WebSocket is not open: readyState ${ws[kConnection].readyState} (${state})`, ws[kConnection].readyState));
}
