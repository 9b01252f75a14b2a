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
import { OPEN } from './ready-state';
import type { SendData } from './send-data';
import { checkTopic, kTopics, type Subscriber } from './topic-membership';
import { kConnection } from './transport-connection';
import type { WebSocket } from './websocket';

export { checkTopic, kServer, MAX_TOPIC_LENGTH } from './topic-membership';
export type { PublishOptions } from './broadcast';

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
}

/** The topics of one server's connections. */
export class TopicRegistry {
  private readonly subscribers = new Map<string, Set<WebSocket>>();
  /** Read-only to callers; the counters are reset only with the server. */
  readonly stats: Readonly<TopicStats> = { published: 0, delivered: 0, skipped: 0, closed: 0 };

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
    const s = ws as WebSocket & Subscriber;
    if (ws[kConnection].readyState !== OPEN) return false;
    const mine = (s[kTopics] ??= new Set());
    if (mine.has(topic)) return false;
    mine.add(topic);
    let set = this.subscribers.get(topic);
    if (set === undefined) this.subscribers.set(topic, (set = new Set()));
    set.add(ws);
    return true;
  }

  /** Removes `ws` from `topic`. Returns whether it was subscribed. */
  unsubscribe(ws: WebSocket, topic: string): boolean {
    checkTopic(topic);
    const s = ws as WebSocket & Subscriber;
    const mine = s[kTopics];
    if (mine === undefined || !mine.delete(topic)) return false;
    // Set to undefined rather than deleted: deleting a property would slow the object down.
    if (mine.size === 0) s[kTopics] = undefined;
    this.leave(ws, topic);
    return true;
  }

  /** Removes `ws` from all its topics: O(its topics). Called when it closes. */
  unsubscribeAll(ws: WebSocket): void {
    const s = ws as WebSocket & Subscriber;
    const mine = s[kTopics];
    if (mine === undefined) return;
    s[kTopics] = undefined;
    for (const topic of mine) this.leave(ws, topic);
  }

  private leave(ws: WebSocket, topic: string): void {
    const set = this.subscribers.get(topic);
    if (set === undefined) return;
    set.delete(ws);
    if (set.size === 0) this.subscribers.delete(topic);
  }

  /**
   * Sends `data` to every OPEN subscriber of `topic` but `except`, framed (and compressed)
   * once. A subscriber whose queue this takes past its maxBufferedAmount is closed with 1008,
   * as with broadcast() and send(). Returns how many subscribers it was queued to.
   */
  publish(topic: string, data: SendData | PreparedMessage, options?: PublishOptions, except?: WebSocket): number {
    checkTopic(topic);
    const stats = this.stats as TopicStats;
    stats.published++;
    const set = this.subscribers.get(topic);
    if (set === undefined) return 0;
    let message = data instanceof PreparedMessage ? data : null;
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
      message.sendTo(ws);
      if (connection.readyState === OPEN) n++;
      else stats.closed++;
    }
    stats.delivered += n;
    return n;
  }
}

