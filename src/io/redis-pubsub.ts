/**
 * The Redis pub/sub adapter (./pubsub.ts's seam), on node-redis v5 (the `redis` package, an
 * optional peer dependency loaded only when redisPubSub() is called with a URL).
 *
 * Sharded pub/sub (SPUBLISH / SSUBSCRIBE, Redis >= 7): a topic is the shard channel
 * `<prefix>:{<topic>}`; the braces make it a cluster hash tag, so a topic's channel, history
 * stream and metadata live in one slot. Two connections: one in subscriber mode, one for
 * commands (publish, history).
 *
 * Own messages: a local publish is delivered locally at once (no round trip) and sent on the
 * bus tagged with this adapter's instance id; the echo is dropped. Topics with history are
 * the exception: their offset is the stream id Redis assigns, so they are delivered from the
 * bus only, own messages included (once, since none was delivered before).
 *
 * Faults: node-redis reconnects with the backoff below and re-subscribes every channel it
 * had; the command connection has no offline queue, so a publish while Redis is unreachable
 * rejects at once (PubSubError WS_ERR_PUBSUB_UNAVAILABLE) instead of piling up in memory.
 */
import { DEFAULT_PUBSUB_HISTORY_LENGTH, DEFAULT_PUBSUB_RECONNECT_MAX_DELAY, DEFAULT_PUBSUB_RECONNECT_MIN_DELAY } from '../limits';
import { busHeader, decodeBusMessage, encodeBusMessage, newInstanceId, PubSubError, type HistoryEntry, type BusMessage, type HistoryPosition, type PubSubAdapter, type PubSubHost, type RecoverResult } from './pubsub';
import { HISTORY_PAGE, PUBLISH_WITH_HISTORY, POSITION, compareOffsets, historyKeys, isStreamId } from './redis-history';

/** The part of a node-redis v5 client (createClient()) the adapter uses. */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  duplicate(overrides?: Record<string, unknown>): RedisClientLike;
  on(event: 'error' | 'ready' | 'end' | 'reconnecting', listener: (err?: Error) => void): unknown;
  once(event: 'ready', listener: () => void): unknown;
  sPublish(channel: string, message: Buffer): Promise<unknown>;
  sSubscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void>;
  sUnsubscribe(channel?: string, listener?: (message: Buffer, channel: Buffer) => void, bufferMode?: true): Promise<void>;
  sendCommand(args: ReadonlyArray<string | Buffer>, options?: { typeMapping?: Record<number, unknown> }): Promise<unknown>;
}

/** Options of {@link redisPubSub}: `url` (the adapter creates its clients) or `client`. */
export interface RedisPubSubOptions {
  /** `redis[s]://[[user][:password]@][host][:port][/db]`. */
  url?: string;
  /**
   * A node-redis v5 client to publish with (connected or not; the adapter connects it if
   * needed and leaves it open on close()). Its subscriber connection is `client.duplicate()`.
   * Its own offline-queue setting decides what a publish does during an outage.
   */
  client?: RedisClientLike;
  /** Key and channel prefix (default 'wscore'). */
  prefix?: string;
  /**
   * Per-topic history in Redis Streams, for recovery (docs/scale-out.md): `maxLength`
   * (default 1,000; `XADD MAXLEN ~`), and `topics`, which topics keep it (default all).
   */
  history?: { maxLength?: number; topics?: (topic: string) => boolean } | boolean;
  /** Backoff between reconnection attempts, ms: min doubles up to max (defaults 50, 2,000). */
  reconnect?: { minDelay?: number; maxDelay?: number };
}

/** The Redis adapter: a {@link PubSubAdapter}, plus history reads used by recovery. */
export interface RedisPubSub extends PubSubAdapter {
  /** This adapter's tag on the bus. */
  readonly instanceId: string;
  /** Resolves once both connections are up for the first time. */
  readonly ready: Promise<void>;
  /** The current epoch and last offset of `topic`'s history (creating its epoch if none). */
  position(topic: string): Promise<HistoryPosition>;
  /** What `topic` published after `since`, in order, or recovered: false (docs/scale-out.md). */
  recover(topic: string, since: HistoryPosition): Promise<RecoverResult>;
}

type Listener = (message: Buffer, channel: Buffer) => void;
type DeliveredMessage = BusMessage & { readonly topic: string };
const BLOB_STRING = 36; // RESP '$': replies as Buffers, binary-safe.
const asBuffers = { typeMapping: { [BLOB_STRING]: Buffer } };

function loadRedis(): { createClient(options: Record<string, unknown>): RedisClientLike } {
  try {
    // Lazily, so that wscore loads and works without the optional peer dependency.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('redis') as { createClient(options: Record<string, unknown>): RedisClientLike };
  } catch (err) {
    throw new PubSubError('redisPubSub() needs the optional peer dependency "redis" (node-redis v5): npm install redis', 'WS_ERR_PUBSUB_MISSING_DEPENDENCY', undefined, { cause: err });
  }
}

/**
 * A pub/sub adapter on Redis: `new WebSocketServer({ port, pubsub: redisPubSub({ url }) })`.
 * Throws a PubSubError (WS_ERR_PUBSUB_MISSING_DEPENDENCY) when `redis` is not installed.
 */
export function redisPubSub(options: RedisPubSubOptions): RedisPubSub {
  if ((options.url === undefined) === (options.client === undefined)) throw new TypeError('redisPubSub() takes exactly one of { url } or { client }');
  const min = options.reconnect?.minDelay ?? DEFAULT_PUBSUB_RECONNECT_MIN_DELAY;
  const max = options.reconnect?.maxDelay ?? DEFAULT_PUBSUB_RECONNECT_MAX_DELAY;
  // Exponential with jitter, so that many processes do not reconnect in step.
  const reconnectStrategy = (retries: number): number => Math.min(max, min * 2 ** Math.min(retries, 20)) * (0.5 + Math.random() / 2);
  let pub: RedisClientLike;
  let ownsPub = false;
  if (options.url !== undefined) {
    pub = loadRedis().createClient({ url: options.url, disableOfflineQueue: true, socket: { reconnectStrategy } });
    ownsPub = true;
  } else {
    pub = options.client!;
  }
  // Subscriptions do queue while disconnected (bounded by the topics), and are redone on reconnect.
  const sub = pub.duplicate({ disableOfflineQueue: false, socket: { reconnectStrategy } });
  const history = options.history === true ? {} : options.history === false ? undefined : options.history;
  return new RedisAdapter(pub, ownsPub, sub, options.prefix ?? 'wscore', history);
}

class RedisAdapter implements RedisPubSub {
  readonly instanceId = newInstanceId();
  readonly ready: Promise<void>;
  private host: PubSubHost | null = null;
  private readonly listeners = new Map<string, Listener>();
  private closed = false;
  /** Set while a lost connection has been reported and not yet restored: one report per outage. */
  private down = false;
  private readonly maxLength: number;
  /** History topics: the position of the last message delivered here (where to catch up from). */
  private readonly last = new Map<string, HistoryPosition>();
  /** History topics while the subscriber connection is down or catching up: live messages held. */
  private readonly holding = new Map<string, DeliveredMessage[]>();

  constructor(
    private readonly pub: RedisClientLike,
    private readonly ownsPub: boolean,
    private readonly sub: RedisClientLike,
    private readonly prefix: string,
    private readonly history: { maxLength?: number; topics?: (topic: string) => boolean } | undefined,
  ) {
    this.maxLength = history?.maxLength ?? DEFAULT_PUBSUB_HISTORY_LENGTH;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 1) throw new RangeError('history.maxLength must be a positive integer');
    for (const client of [pub, sub]) {
      client.on('error', (err) => this.lost(err));
      client.on('ready', () => {
        if (this.pub.isReady && this.sub.isReady) this.down = false;
      });
    }
    // The subscriber connection dropped: what history topics publish until it is back (and
    // re-subscribed: node-redis emits 'ready' after that) is read from history, not lost.
    sub.on('reconnecting', () => {
      for (const topic of this.listeners.keys()) if (this.hasHistory(topic) && !this.holding.has(topic)) this.holding.set(topic, []);
    });
    sub.on('ready', () => void this.catchUp());
    this.ready = Promise.all([pub.isOpen ? undefined : pub.connect(), sub.connect()]).then(() => undefined);
    // A failed first connection is also reported through host.error (via 'error' events).
    this.ready.catch(() => undefined);
  }

  private lost(err: Error | undefined): void {
    if (this.closed || this.down) return;
    this.down = true;
    this.host?.error(new PubSubError(`Redis unreachable, reconnecting: ${err?.message ?? 'closed'}`, 'WS_ERR_PUBSUB_UNAVAILABLE', undefined, { cause: err }));
  }

  start(host: PubSubHost): void {
    if (this.host !== null) throw new Error('This pub/sub adapter already serves a server: create one per WebSocketServer');
    this.host = host;
  }

  channel(topic: string): string {
    return `${this.prefix}:{${topic}}`;
  }

  hasHistory(topic: string): boolean {
    return this.history !== undefined && (this.history.topics?.(topic) ?? true);
  }

  async subscribe(topic: string): Promise<void> {
    if (this.closed || this.listeners.has(topic)) return;
    const history = this.hasHistory(topic);
    const listener: Listener = (bytes) => {
      let m;
      try {
        m = decodeBusMessage(bytes, topic);
      } catch (err) {
        this.host?.error(err as PubSubError);
        return;
      }
      // The origin is `<instance id>[.<token>]`.
      const dot = m.origin.indexOf('.');
      const own = (dot < 0 ? m.origin : m.origin.slice(0, dot)) === this.instanceId;
      // Plain topics: own messages were delivered when published. History topics: not yet.
      if (own && !history) return;
      const token = own && dot >= 0 ? Number(m.origin.slice(dot + 1)) : undefined;
      const message: DeliveredMessage = { topic, data: m.data, binary: m.binary, position: m.position, own, token };
      const held = this.holding.get(topic);
      if (held !== undefined) held.push(message);
      else this.deliver(message);
    };
    this.listeners.set(topic, listener);
    try {
      await this.sub.sSubscribe(this.channel(topic), listener, true);
      // Where this process starts in the topic's history, in case its connection drops
      // before a first message: then it catches up from here.
      if (history && !this.last.has(topic) && this.pub.isReady) {
        const start = await this.position(topic);
        if (this.listeners.get(topic) === listener && !this.last.has(topic)) this.last.set(topic, start);
      }
    } catch (err) {
      // Destroyed by close() while waiting for Redis: nothing to report.
      if (this.closed) return;
      throw new PubSubError(`SSUBSCRIBE ${topic} failed: ${(err as Error).message}`, 'WS_ERR_PUBSUB_UNAVAILABLE', topic, { cause: err });
    }
  }

  private deliver(message: DeliveredMessage): void {
    if (message.position !== undefined) this.last.set(message.topic, message.position);
    try {
      this.host?.deliver(message);
    } catch (err) {
      // Never into node-redis's reply parser: reported, and the next message is delivered.
      this.host?.error(new PubSubError(`Delivering a message of ${JSON.stringify(message.topic)} failed: ${(err as Error).message}`, 'WS_ERR_PUBSUB_DELIVERY', message.topic, { cause: err }));
    }
  }

  /**
   * After the subscriber connection came back (re-subscribed): for each history topic, what
   * was published since the last message delivered here is read from history and delivered,
   * then the live messages held meanwhile that are newer. When history cannot say (Redis lost
   * it, or it was trimmed), a WS_ERR_PUBSUB_HISTORY_LOST error says which topic has a gap.
   */
  private async catchUp(): Promise<void> {
    if (this.holding.size === 0) return;
    if (!this.pub.isReady) await new Promise<void>((resolve) => this.pub.once('ready', resolve));
    for (const [topic, held] of [...this.holding]) {
      const since = this.last.get(topic);
      let upTo: HistoryPosition | undefined;
      try {
        if (since !== undefined) {
          const result = await this.recover(topic, since);
          if (result.recovered) {
            for (const m of result.messages) this.deliver({ topic, data: m.data, binary: m.binary, position: { epoch: result.position.epoch, offset: m.offset } });
            upTo = result.position;
          } else {
            this.host?.error(new PubSubError(`Messages of ${JSON.stringify(topic)} published while the Redis connection was down are not in its history`, 'WS_ERR_PUBSUB_HISTORY_LOST', topic));
          }
        }
      } catch (err) {
        this.host?.error(new PubSubError(`Catching up ${JSON.stringify(topic)} failed: ${(err as Error).message}`, 'WS_ERR_PUBSUB_UNAVAILABLE', topic, { cause: err }));
      }
      // Synchronously from here: nothing new is held between the flush and the release.
      this.holding.delete(topic);
      for (const m of held) {
        if (upTo !== undefined && m.position !== undefined && m.position.epoch === upTo.epoch && compareOffsets(m.position.offset, upTo.offset) <= 0) continue;
        this.deliver(m);
      }
    }
  }

  async unsubscribe(topic: string): Promise<void> {
    const listener = this.listeners.get(topic);
    if (listener === undefined) return;
    this.listeners.delete(topic);
    this.last.delete(topic);
    this.holding.delete(topic);
    if (this.closed) return;
    try {
      await this.sub.sUnsubscribe(this.channel(topic), listener, true);
    } catch (err) {
      if (this.closed) return;
      throw new PubSubError(`SUNSUBSCRIBE ${topic} failed: ${(err as Error).message}`, 'WS_ERR_PUBSUB_UNAVAILABLE', topic, { cause: err });
    }
  }

  /** Rejects unless the command connection is up: a publish is never queued. */
  private usable(topic: string): void {
    if (this.closed) throw new PubSubError('The Redis pub/sub adapter is closed', 'WS_ERR_PUBSUB_CLOSED', topic);
    if (!this.pub.isReady) throw new PubSubError(`Redis is unreachable: publish to ${JSON.stringify(topic)} not sent`, 'WS_ERR_PUBSUB_UNAVAILABLE', topic);
  }

  async publish(topic: string, data: Uint8Array, binary: boolean, token?: number): Promise<void> {
    this.usable(topic);
    const payload = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    try {
      if (!this.hasHistory(topic)) {
        await this.pub.sPublish(this.channel(topic), encodeBusMessage(this.instanceId, payload, binary));
        return;
      }
      const { stream, meta } = historyKeys(this.channel(topic));
      const header = busHeader(token === undefined ? this.instanceId : `${this.instanceId}.${token}`, binary, true);
      await this.pub.sendCommand(['EVAL', PUBLISH_WITH_HISTORY, '2', stream, meta, this.channel(topic), String(this.maxLength), header, binary ? '1' : '0', payload, newInstanceId()]);
    } catch (err) {
      throw new PubSubError(`Publish to ${JSON.stringify(topic)} failed: ${(err as Error).message}`, 'WS_ERR_PUBSUB_UNAVAILABLE', topic, { cause: err });
    }
  }

  async position(topic: string): Promise<HistoryPosition> {
    this.usable(topic);
    const { stream, meta } = historyKeys(this.channel(topic));
    const [epoch, offset] = (await this.pub.sendCommand(['EVAL', POSITION, '2', stream, meta, newInstanceId()])) as [string, string];
    return { epoch, offset };
  }

  async recover(topic: string, since: HistoryPosition): Promise<RecoverResult> {
    const position = await this.position(topic);
    const no: RecoverResult = { recovered: false, position, messages: [] };
    if (since.epoch !== position.epoch || !isStreamId(since.offset)) return no;
    if (since.offset === position.offset) return { recovered: true, position, messages: [] };
    const { stream } = historyKeys(this.channel(topic));
    const messages: HistoryEntry[] = [];
    let after = since.offset;
    // Pages up to the last offset read above; later messages arrive live (the caller buffers them).
    for (;;) {
      const page = (await this.pub.sendCommand(['XRANGE', stream, `(${after}`, position.offset, 'COUNT', String(HISTORY_PAGE)], asBuffers)) as Array<[Buffer, Buffer[]]>;
      for (const [id, fields] of page) {
        const entry: Record<string, Buffer> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) entry[fields[i]!.toString('latin1')] = fields[i + 1]!;
        const offset = id.toString('latin1');
        // The first entry after `since` must follow it directly: otherwise the gap was trimmed.
        if (messages.length === 0 && entry.p?.toString('latin1') !== since.offset) return no;
        messages.push({ offset, binary: entry.b?.toString('latin1') === '1', data: entry.d ?? Buffer.alloc(0) });
        after = offset;
      }
      if (page.length < HISTORY_PAGE || after === position.offset) break;
    }
    // `since` is not in this history (nothing follows it, yet it is not the last offset).
    if (messages.length === 0) return no;
    return { recovered: true, position, messages };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    // Closing the subscriber connection drops its subscriptions with it. A client that is
    // not connected is destroyed: close() would wait for its queued commands, i.e. for Redis.
    const end = async (client: RedisClientLike): Promise<void> => {
      if (!client.isOpen) return;
      if (client.isReady) await client.close();
      else client.destroy();
    };
    await Promise.allSettled([end(this.sub), this.ownsPub ? end(this.pub) : undefined]);
  }
}
