/**
 * Topics: in-process publish/subscribe on the server side (uWS.js's and Bun's model). A
 * server keeps one {@link TopicRegistry}: topic -> the set of its subscribed connections, and
 * each connection that ever subscribed keeps the set of its own topics (allocated on the first
 * subscribe, so a connection that never subscribes pays nothing), which makes leaving every
 * topic on close O(topics of that connection). A publish frames the message once (and
 * compresses it once per deflate parameter set, for peers without context takeover) through
 * {@link PreparedMessage} and writes the same bytes to every open subscriber.
 */
import { PreparedMessage, type PublishOptions } from './broadcast';
import { PubSubError, type BusMessage, type HistoryPosition, type PubSubAdapter } from './pubsub';
import { OPEN } from './ready-state';
import type { SendData } from './send-data';
import { checkTopic, kReceivers, kTopics, type Subscriber as Member } from './topic-membership';
import { kConnection } from './transport-connection';
import type { WebSocket } from './websocket';

/** One message being fanned out, as a {@link Receiver} sees it. */
export interface Delivery {
  readonly topic: string;
  readonly message: PreparedMessage;
  /** Its place in the topic's history, when the topic keeps one. */
  readonly position: HistoryPosition | undefined;
  /** A cache for receivers: what they built from the message, once per delivery. */
  wrapped?: PreparedMessage;
}
/** Receives `delivery` for `ws` (and counts as delivered). */
export type Receiver = (ws: WebSocket, delivery: Delivery) => void;

type Subscriber = WebSocket & Member & { [kReceivers]?: Map<string, Receiver> };

/** Counters of a {@link TopicRegistry}, since the server was created. */
export interface TopicStats {
  /** publish() calls (from the server or from a connection). */
  published: number;
  /** Subscribers a message was queued to (the sum of what publish() returned). */
  delivered: number;
  /** Subscribers passed over because they were not OPEN (closing, not yet removed). */
  skipped: number;
  /** Subscribers closed with 1008 by a publish: it took their queue past maxBufferedAmount. */
  closed: number;
  /**
   * Subscribers a message was not queued to because it would have taken their queue past
   * maxBufferedAmount (`slowSubscribers: 'skip'`); they stay open and miss that message.
   */
  overflowed: number;
  /** Messages from other processes, through the pub/sub adapter (`pubsub` option). */
  received: number;
}

/** The topics of one server's connections. */
export class TopicRegistry {
  private readonly subscribers = new Map<string, Set<WebSocket>>();
  /** Read-only to callers; the counters are reset only with the server. */
  readonly stats: Readonly<TopicStats> = { published: 0, delivered: 0, skipped: 0, closed: 0, overflowed: 0, received: 0 };
  /**
   * What a publish does to a subscriber that does not read fast enough (its queue would go
   * past maxBufferedAmount): 'close' it (1008, the policy of every send) or 'skip' it for
   * this message. The server's `slowSubscribers` option.
   */
  slowSubscribers: 'close' | 'skip' = 'close';
  /** The bus to other processes (./pubsub.ts), null for in-process topics only. */
  private bus: PubSubAdapter | null = null;
  private busError: (err: unknown) => void = () => undefined;
  /** Own publishes to history topics from ws.publish(), by token: the sender to leave out. */
  private readonly excepts = new Map<number, { ws: WebSocket; topic: string }>();
  private lastToken = 0;
  /** Per topic carried by the bus: settles once the bus subscription is in place. */
  private readonly busSubscriptions = new Map<string, Promise<void>>();

  /**
   * Applies a server's topic options: `slowSubscribers` (checked) and the `pubsub` adapter,
   * whose failures go to `onError`.
   */
  configure(options: { slowSubscribers?: 'close' | 'skip'; pubsub?: PubSubAdapter }, onError: (err: PubSubError) => void): void {
    const slow = options.slowSubscribers ?? 'close';
    if (slow !== 'close' && slow !== 'skip') throw new TypeError(`slowSubscribers must be 'close' or 'skip', got ${String(slow)}`);
    this.slowSubscribers = slow;
    if (options.pubsub !== undefined) this.attach(options.pubsub, onError);
  }

  /** The pub/sub adapter, or null. */
  get adapter(): PubSubAdapter | null {
    return this.bus;
  }

  /**
   * Resolves once the bus carries `topic` to this process (at once without a bus); rejects
   * when subscribing failed, or when the topic has no local subscriber.
   */
  busSubscribed(topic: string): Promise<void> {
    if (this.bus === null) return Promise.resolve();
    return this.busSubscriptions.get(topic) ?? Promise.reject(new PubSubError(`No local subscriber of ${JSON.stringify(topic)}`, 'WS_ERR_PUBSUB_UNAVAILABLE', topic));
  }

  /**
   * @internal Carries the topics through `adapter` (once, by the server): subscriptions are
   * reference-counted into it, publishes forwarded, its messages fanned out here. Bus
   * failures go to `onError`, as PubSubErrors.
   */
  attach(adapter: PubSubAdapter, onError: (err: PubSubError) => void): void {
    if (this.bus !== null) throw new Error('This registry already has a pub/sub adapter');
    this.bus = adapter;
    this.busError = (err) => onError(err instanceof PubSubError ? err : new PubSubError(String((err as Error)?.message ?? err), 'WS_ERR_PUBSUB_UNAVAILABLE', undefined, { cause: err }));
    adapter.start({ deliver: (m) => this.deliver(m), error: onError });
  }

  /** How many topics have at least one subscriber. */
  get size(): number {
    return this.subscribers.size;
  }

  /** How many connections are subscribed to `topic` (0 for an unknown one). */
  subscriberCount(topic: string): number {
    checkTopic(topic);
    return this.subscribers.get(topic)?.size ?? 0;
  }

  /**
   * Adds `ws` to `topic`. Returns false when it already was subscribed, or when it is not
   * OPEN (a closing connection would never be removed: its 'close' already ran or is due).
   */
  subscribe(ws: WebSocket, topic: string): boolean {
    checkTopic(topic);
    const s = ws as Subscriber;
    if (ws[kConnection].readyState !== OPEN) return false;
    const mine = (s[kTopics] ??= new Set());
    if (mine.has(topic)) return false;
    mine.add(topic);
    let set = this.subscribers.get(topic);
    if (set === undefined) {
      this.subscribers.set(topic, (set = new Set()));
      // The first local subscriber: the bus starts carrying the topic here (refcount 0 -> 1).
      if (this.bus !== null) {
        const subscribed = this.bus.subscribe(topic);
        this.busSubscriptions.set(topic, subscribed);
        subscribed.catch(this.busError);
      }
    }
    set.add(ws);
    return true;
  }

  /** Removes `ws` from `topic`. Returns whether it was subscribed. */
  unsubscribe(ws: WebSocket, topic: string): boolean {
    checkTopic(topic);
    const s = ws as Subscriber;
    const mine = s[kTopics];
    if (mine === undefined || !mine.delete(topic)) return false;
    // Set to undefined rather than deleted: deleting a property would slow the object down.
    if (mine.size === 0) s[kTopics] = undefined;
    this.leave(ws, topic);
    return true;
  }

  /** Removes `ws` from all its topics: O(its topics). Called when it closes. */
  unsubscribeAll(ws: WebSocket): void {
    const s = ws as Subscriber;
    const mine = s[kTopics];
    if (mine === undefined) return;
    s[kTopics] = undefined;
    for (const topic of mine) this.leave(ws, topic);
  }

  private leave(ws: WebSocket, topic: string): void {
    (ws as Subscriber)[kReceivers]?.delete(topic);
    const set = this.subscribers.get(topic);
    if (set === undefined) return;
    set.delete(ws);
    if (set.size === 0) {
      this.subscribers.delete(topic);
      if (this.bus !== null) {
        this.busSubscriptions.delete(topic);
        // No echo will come for publishes in flight: forget their senders.
        for (const [token, e] of this.excepts) if (e.topic === topic) this.excepts.delete(token);
        this.bus.unsubscribe(topic).catch(this.busError);
      }
    }
  }

  /**
   * Sends `data` to every OPEN subscriber of `topic` but `except`, framed (and compressed)
   * once. A subscriber whose queue this takes past its maxBufferedAmount is closed with 1008,
   * as with broadcast() and send(). Returns how many subscribers it was queued to.
   */
  publish(topic: string, data: SendData | PreparedMessage, options?: PublishOptions, except?: WebSocket): number {
    checkTopic(topic);
    (this.stats as TopicStats).published++;
    const bus = this.bus;
    if (bus === null) return this.fanOut(topic, data, options, except);
    const message = data instanceof PreparedMessage ? data : new PreparedMessage(data, options);
    if (!bus.hasHistory(topic)) {
      // A failure is reported (the server's 'error'), never queued: see docs/scale-out.md.
      bus.publish(topic, message.data, message.binary).catch(this.busError);
      return this.fanOut(topic, message, undefined, except);
    }
    // A topic with history is delivered here when the bus echoes it, with its offset; the
    // token says which sender to leave out then (only while the topic has local subscribers,
    // else no echo comes).
    let token: number | undefined;
    if (except !== undefined && this.subscribers.has(topic)) this.excepts.set((token = ++this.lastToken), { ws: except, topic });
    bus.publish(topic, message.data, message.binary, token).catch((err: unknown) => {
      if (token !== undefined) this.excepts.delete(token);
      this.busError(err);
    });
    return this.countOpen(topic, except);
  }

  /** A message from the bus: the same frame-once fan-out as a local publish. */
  private deliver(m: BusMessage): void {
    if (!this.subscribers.has(m.topic)) return;
    let except: WebSocket | undefined;
    if (m.own !== true) (this.stats as TopicStats).received++;
    else if (m.token !== undefined) {
      except = this.excepts.get(m.token)?.ws;
      this.excepts.delete(m.token);
    }
    this.fanOut(m.topic, new PreparedMessage(m.data, { binary: m.binary }), undefined, except, m.position);
  }

  private countOpen(topic: string, except: WebSocket | undefined): number {
    let n = 0;
    for (const ws of this.subscribers.get(topic) ?? []) if (ws !== except && ws[kConnection].readyState === OPEN) n++;
    return n;
  }

  private fanOut(topic: string, data: SendData | PreparedMessage, options?: PublishOptions, except?: WebSocket, position?: HistoryPosition): number {
    const stats = this.stats as TopicStats;
    const set = this.subscribers.get(topic);
    if (set === undefined) return 0;
    let message = data instanceof PreparedMessage ? data : null;
    let delivery: Delivery | undefined;
    let n = 0;
    // A subscriber dropped below emits 'error' synchronously; its listener may (un)subscribe
    // others: iterating a Set copes (removed ones are not visited, added ones are).
    for (const ws of set) {
      if (ws === except) continue;
      const connection = ws[kConnection];
      if (connection.readyState !== OPEN) {
        stats.skipped++;
        continue;
      }
      // Built on the first open subscriber: a topic of closing sockets costs no framing.
      message ??= new PreparedMessage(data as SendData, options);
      // The plain frame's size stands for the compressed one: a bound, not an exact count.
      if (this.slowSubscribers === 'skip' && connection.wouldOverflow(message.frame.length)) {
        stats.overflowed++;
        continue;
      }
      const receiver = (ws as Subscriber)[kReceivers]?.get(topic);
      if (receiver === undefined) message.sendTo(ws);
      else receiver(ws, (delivery ??= { topic, message, position }));
      if (connection.readyState === OPEN) n++;
      else stats.closed++;
    }
    stats.delivered += n;
    return n;
  }
}
