/**
 * The client side of topic requests (./topic-requests.ts, docs/scale-out.md): subscribe to
 * server topics over one WebSocket, remember the position of each, and on a new connection
 * subscribe again `since` that position to get what was missed, exactly once, or be told it
 * cannot be recovered. Works on any object with ws's event API (a wscore or ws WebSocket).
 */
import type { HistoryPosition } from './pubsub';
import { isTopicRequest } from './topic-requests';

/** The part of a WebSocket that TopicClient uses (wscore's and ws's have it). */
export interface TopicSocket {
  send(data: string): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  off(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
}

/** What `subscribe()` resolves with: the server's `subscribed` answer. */
export interface Subscribed {
  /** True when `since` was given and every message after it was (or is being) delivered. */
  readonly recovered: boolean;
  /** Where the topic's history stands (absent on a server without history for it). */
  readonly position: HistoryPosition | undefined;
}

/** Options of {@link TopicClient#subscribe}. */
export interface TopicSubscribeOptions {
  /** Ask for what was published after this position (from `position()` on an earlier connection). */
  since?: HistoryPosition;
  /** Each message of the topic, recovered ones first, in order. */
  onMessage: (data: Buffer, isBinary: boolean, position: HistoryPosition | undefined) => void;
}

/** A server's refusal of a topic request (its `error` answer). */
export class TopicRequestError extends Error {
  override name = 'TopicRequestError';
  constructor(
    readonly topic: string | undefined,
    readonly reason: string,
  ) {
    super(`Topic request${topic === undefined ? '' : ` for ${JSON.stringify(topic)}`} refused: ${reason}`);
  }
}

interface Entry {
  onMessage: TopicSubscribeOptions['onMessage'];
  position: HistoryPosition | undefined;
  pending: { resolve(s: Subscribed): void; reject(e: Error): void } | null;
}

type Incoming = { wscore?: string; topic?: string; epoch?: string; offset?: string; binary?: boolean; data?: string; recovered?: boolean; reason?: string };

export class TopicClient {
  private readonly entries = new Map<string, Entry>();
  private readonly listener = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void => this.receive(data, isBinary);

  constructor(private readonly ws: TopicSocket) {
    ws.on('message', this.listener);
  }

  /** Subscribes (or re-subscribes, with `since`); resolves with the server's answer. */
  subscribe(topic: string, options: TopicSubscribeOptions): Promise<Subscribed> {
    if (this.entries.get(topic)?.pending != null) return Promise.reject(new TopicRequestError(topic, 'a subscribe is already pending'));
    return new Promise<Subscribed>((resolve, reject) => {
      this.entries.set(topic, { onMessage: options.onMessage, position: options.since, pending: { resolve, reject } });
      this.ws.send(JSON.stringify({ wscore: 'subscribe', topic, ...(options.since === undefined ? {} : { since: options.since }) }));
    });
  }

  unsubscribe(topic: string): void {
    this.entries.delete(topic);
    this.ws.send(JSON.stringify({ wscore: 'unsubscribe', topic }));
  }

  /** The position of the last message received on `topic` (or the subscribe answer's). */
  position(topic: string): HistoryPosition | undefined {
    return this.entries.get(topic)?.position;
  }

  /** Stops listening to the socket. */
  detach(): void {
    this.ws.off('message', this.listener);
  }

  private receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isTopicRequest(bytes, isBinary)) return;
    let m: Incoming;
    try {
      m = JSON.parse(bytes.toString('utf8')) as Incoming;
    } catch {
      return;
    }
    const entry = m.topic === undefined ? undefined : this.entries.get(m.topic);
    const position = typeof m.epoch === 'string' && typeof m.offset === 'string' ? { epoch: m.epoch, offset: m.offset } : undefined;
    switch (m.wscore) {
      case 'message':
        if (entry === undefined || typeof m.data !== 'string') return;
        if (position !== undefined) entry.position = position;
        entry.onMessage(m.binary === true ? Buffer.from(m.data, 'base64') : Buffer.from(m.data, 'utf8'), m.binary === true, position);
        return;
      case 'subscribed':
        if (entry === undefined) return;
        entry.position = position ?? entry.position;
        entry.pending?.resolve({ recovered: m.recovered === true, position });
        entry.pending = null;
        return;
      case 'error':
        if (entry?.pending != null) {
          entry.pending.reject(new TopicRequestError(m.topic, m.reason ?? 'unknown'));
          this.entries.delete(m.topic!);
        }
        return;
    }
  }
}
