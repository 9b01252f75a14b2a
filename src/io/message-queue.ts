/**
 * The message queue behind `for await (const msg of ws)` and `ws.recv()` (the async API of
 * Python websockets). Exists only when that API is in use, so the ws-style event path pays
 * nothing for it.
 *
 * Flow control as in websockets' `max_queue`: when more than `highWaterMark` messages wait
 * unread, reading from the socket stops (TCP then slows the peer down) until the consumer
 * catches up to `lowWaterMark`.
 */
import { WebSocketError } from '../errors';

/**
 * A message as the async API yields it (`ws.recv()`, `for await`): text as a string, binary
 * as a Buffer. Not `Message`: that name is the sans-IO core's event (protocol/events.ts).
 */
export type ReceivedMessage = string | Buffer;

/**
 * The connection closed while a message was awaited (websockets' ConnectionClosed).
 * Iteration ends without it on a normal closure (1000, 1001, 1005); `recv()` throws it.
 */
export class ConnectionClosedError extends WebSocketError {
  override name = 'ConnectionClosedError';
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`connection closed: ${code}${reason ? ` ${reason}` : ''}`);
  }
  /** Whether the closure was normal (1000, 1001, or a close frame without a code). */
  get ok(): boolean {
    return this.code === 1000 || this.code === 1001 || this.code === 1005;
  }
}

interface Waiter {
  resolve(value: ReceivedMessage): void;
  reject(err: Error): void;
}

/** @internal */
export class MessageQueue {
  private items: ReceivedMessage[] = [];
  private head = 0;
  private waiters: Waiter[] = [];
  private closedWith: ConnectionClosedError | null = null;
  private paused = false;
  /** Whether anything ever read from the queue. */
  used = false;

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
    readonly highWaterMark = 16,
    readonly lowWaterMark = Math.max(0, highWaterMark >> 2),
  ) {}

  /** Messages waiting. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Whether reading from the socket is paused because the queue is full. */
  get isPausing(): boolean {
    return this.paused;
  }

  /** A message arrived. */
  push(msg: ReceivedMessage): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(msg);
      return;
    }
    this.items.push(msg);
    if (!this.paused && this.size > this.highWaterMark) {
      this.paused = true;
      this.pause();
    }
  }

  /** The connection closed: waiters get the error; queued messages can still be read. */
  close(code: number, reason: string): void {
    if (this.closedWith !== null) return;
    this.closedWith = new ConnectionClosedError(code, reason);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(this.closedWith);
  }

  /** The next message; rejects with {@link ConnectionClosedError} once closed and drained. */
  next(): Promise<ReceivedMessage> {
    this.used = true;
    if (this.head < this.items.length) return Promise.resolve(this.take());
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    return new Promise<ReceivedMessage>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  private take(): ReceivedMessage {
    const msg = this.items[this.head]!;
    this.items[this.head++] = '';
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.size <= this.lowWaterMark) {
      this.paused = false;
      this.resume();
    }
    return msg;
  }

  /** An async iterator over the messages; ends on a normal closure, throws otherwise. */
  async *iterate(): AsyncGenerator<ReceivedMessage, void, undefined> {
    for (;;) {
      try {
        yield await this.next();
      } catch (err) {
        if (err instanceof ConnectionClosedError && err.ok) return;
        throw err;
      }
    }
  }
}
