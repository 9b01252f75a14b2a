/**
 * A connection's side of topics (./topics.ts has the server's registry): the symbols a
 * connection carries, the topic-name rule, and what WebSocket's topic methods delegate to.
 * Apart from the registry so that the WebSocket façade reaches it without importing the
 * registry, which names WebSocket in its public signatures.
 */
import type { PreparedMessage, PublishOptions } from './broadcast';
import type { SendData } from './send-data';

/** The longest topic name, in UTF-16 code units (what `String#length` counts). */
export const MAX_TOPIC_LENGTH = 256;

/**
 * Set by WebSocketServer on each of its connections: the server that accepted it (the
 * registry is reached through it, so connections carry no property of their own for topics
 * until they subscribe).
 */
export const kServer: unique symbol = Symbol('wscore.server');
/** A connection's own topics; absent until its first subscribe, undefined once it has none. */
export const kTopics: unique symbol = Symbol('wscore.topics');
/**
 * Per topic, a connection's own way of receiving it instead of the plain frame: set by the
 * topic requests protocol (./topic-requests.ts), which wraps messages with their offset.
 */
export const kReceivers: unique symbol = Symbol('wscore.topicReceivers');

/**
 * The registry, as a connection reaches it through its server (TopicRegistry, whose
 * methods take the WebSocket where these take `object`).
 */
export interface TopicHost {
  readonly topics: {
    subscribe(ws: object, topic: string): boolean;
    unsubscribe(ws: object, topic: string): boolean;
    publish(topic: string, data: SendData | PreparedMessage, options: PublishOptions | undefined, except: object): number;
  };
}
/** What a connection carries for topics. */
export interface Subscriber {
  [kServer]?: TopicHost;
  [kTopics]?: Set<string> | undefined;
}

/**
 * Checks a topic name: a string (TypeError otherwise) of 1 to {@link MAX_TOPIC_LENGTH}
 * UTF-16 code units with no lone surrogate (RangeError otherwise). Well-formed, because a
 * name is UTF-8 once it leaves the process (e.g. a Redis channel), where two names that
 * differ only in lone surrogates would both become U+FFFD and collide.
 */
export function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string') throw new TypeError(`A topic must be a string, got ${topic === null ? 'null' : typeof topic}`);
  if (topic.length === 0) throw new RangeError('A topic must not be empty');
  if (topic.length > MAX_TOPIC_LENGTH) throw new RangeError(`A topic must be at most ${MAX_TOPIC_LENGTH} UTF-16 code units long, got ${topic.length}`);
  if (!(topic as string & { isWellFormed(): boolean }).isWellFormed()) throw new RangeError('A topic must not contain a lone surrogate');
}

/** The registry of the server that accepted `ws`; a client-side connection has none. */
function registryOf(ws: object): TopicHost['topics'] {
  const host = (ws as Subscriber)[kServer];
  if (host === undefined) throw new TypeError('Topics are for server-side connections: this WebSocket was not accepted by a WebSocketServer');
  return host.topics;
}

// What WebSocket's topic methods delegate to.
export function subscribe(ws: object, topic: string): boolean {
  return registryOf(ws).subscribe(ws, topic);
}
export function unsubscribe(ws: object, topic: string): boolean {
  return registryOf(ws).unsubscribe(ws, topic);
}
export function isSubscribed(ws: object, topic: string): boolean {
  checkTopic(topic);
  return (ws as Subscriber)[kTopics]?.has(topic) === true;
}
/** A frozen snapshot of the connection's topics, in subscription order. */
export function topicsOf(ws: object): readonly string[] {
  const mine = (ws as Subscriber)[kTopics];
  return Object.freeze(mine === undefined ? [] : [...mine]);
}
export function publishFrom(ws: object, topic: string, data: SendData | PreparedMessage, options?: PublishOptions): number {
  return registryOf(ws).publish(topic, data, options, ws);
}
