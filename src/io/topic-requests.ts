/**
 * Topic requests: the wire contract (docs/scale-out.md) by which a client subscribes itself
 * to a topic, with recovery of what it missed, on a server created with `topicRequests`.
 * Every message of the contract is a text frame holding a JSON object whose first member is
 * "wscore" (so a server checks only the prefix `{"wscore":` before parsing):
 *
 *   client -> server  {"wscore":"subscribe","topic":T[,"since":{"epoch":E,"offset":O}]}
 *                     {"wscore":"unsubscribe","topic":T}
 *   server -> client  {"wscore":"message","topic":T[,"epoch":E,"offset":O],"binary":B,"data":D}
 *                     {"wscore":"subscribed","topic":T,"recovered":R[,"epoch":E,"offset":O]}
 *                     {"wscore":"unsubscribed","topic":T}
 *                     {"wscore":"error","topic":T,"reason":S}
 *
 * D is the text, or the bytes in base64 when B is true. After a subscribe with `since`, the
 * server sends the missed messages (in order), then `subscribed` with recovered: true and the
 * position they end at, then live messages; or `subscribed` with recovered: false (other
 * epoch, trimmed, unknown offset) and the current position, then live messages. Live messages
 * that arrive while history is read are held (bounded) and sent after it, those already in it
 * dropped by offset: no gap, no duplicate.
 */
import { DEFAULT_TOPIC_RECOVERY_BUFFER, DEFAULT_TOPIC_REQUESTS_MAX_TOPICS } from '../limits';
import { OPEN } from './ready-state';
import { checkTopic, kReceivers } from './topic-membership';
import type { Delivery, Receiver, TopicRegistry } from './topics';
import { PreparedMessage } from './broadcast';
import type { HistoryPosition } from './pubsub';
import { compareOffsets } from './redis-history';
import type { RecoverResult } from './pubsub';
import type { RawData } from './events';
import type { WebSocket } from './websocket';

/** Options of the `topicRequests` server option. */
export interface TopicRequestOptions {
  /** Whether `ws` may subscribe to `topic` (default: every topic). Refused: an error reply. */
  authorize?: (ws: WebSocket, topic: string) => boolean;
  /** Most live messages held per connection while its history is read (default 10,000). */
  maxRecoveryBuffer?: number;
  /** Most topics per connection (default 1,000); a subscribe past it gets an error answer. */
  maxTopics?: number;
}

const PREFIX = Buffer.from('{"wscore":');

/** Whether a message is part of the topic requests contract (a text frame starting `{"wscore":`). */
export function isTopicRequest(data: RawData | string, isBinary: boolean): boolean {
  if (isBinary) return false;
  if (typeof data === 'string') return data.startsWith('{"wscore":');
  return Buffer.isBuffer(data) && data.length >= PREFIX.length && data.subarray(0, PREFIX.length).equals(PREFIX);
}

function envelope(topic: string, data: Uint8Array, binary: boolean, position: HistoryPosition | undefined): string {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return JSON.stringify({
    wscore: 'message',
    topic,
    ...(position === undefined ? {} : { epoch: position.epoch, offset: position.offset }),
    binary,
    data: binary ? bytes.toString('base64') : bytes.toString('utf8'),
  });
}

function reply(ws: WebSocket, body: Record<string, unknown>): void {
  if (ws.readyState === OPEN) ws.send(JSON.stringify(body));
}

/**
 * Handles `data` if it is a topic request (returns true), else returns false. Requests that
 * are not well-formed get an error reply; nothing of theirs throws.
 */
export function handleTopicRequest(registry: TopicRegistry, ws: WebSocket, data: RawData | string, isBinary: boolean, options: TopicRequestOptions = {}): boolean {
  if (!isTopicRequest(data, isBinary)) return false;
  let request: { wscore?: unknown; topic?: unknown; since?: { epoch?: unknown; offset?: unknown } };
  try {
    request = JSON.parse(typeof data === 'string' ? data : (data as Buffer).toString('utf8')) as typeof request;
  } catch {
    reply(ws, { wscore: 'error', reason: 'not JSON' });
    return true;
  }
  const topic = request.topic;
  try {
    checkTopic(topic);
  } catch (err) {
    reply(ws, { wscore: 'error', ...(typeof topic === 'string' ? { topic } : {}), reason: `bad topic: ${(err as Error).message}` });
    return true;
  }
  if (options.authorize !== undefined) {
    let allowed = false;
    try {
      allowed = options.authorize(ws, topic);
    } catch {
      // A throwing check refuses (and throws nothing into the socket's 'message' event).
    }
    if (!allowed) {
      reply(ws, { wscore: 'error', topic, reason: 'not authorized' });
      return true;
    }
  }
  if (request.wscore === 'unsubscribe') {
    registry.unsubscribe(ws, topic);
    reply(ws, { wscore: 'unsubscribed', topic });
    return true;
  }
  if (request.wscore !== 'subscribe') {
    reply(ws, { wscore: 'error', topic, reason: `unknown request ${JSON.stringify(request.wscore)}` });
    return true;
  }
  if (ws.topics.length >= (options.maxTopics ?? DEFAULT_TOPIC_REQUESTS_MAX_TOPICS) && !ws.isSubscribed(topic)) {
    reply(ws, { wscore: 'error', topic, reason: 'too many topics' });
    return true;
  }
  const since = request.since;
  let from: HistoryPosition | undefined;
  if (since !== undefined) {
    if (typeof since !== 'object' || since === null || typeof since.epoch !== 'string' || typeof since.offset !== 'string') {
      reply(ws, { wscore: 'error', topic, reason: 'since must be {"epoch": string, "offset": string}' });
      return true;
    }
    from = { epoch: since.epoch, offset: since.offset };
  }
  void subscribeAndRecover(registry, ws, topic, from, options.maxRecoveryBuffer ?? DEFAULT_TOPIC_RECOVERY_BUFFER);
  return true;
}

type Receiving = WebSocket & { [kReceivers]?: Map<string, Receiver> };

async function subscribeAndRecover(registry: TopicRegistry, ws: WebSocket, topic: string, since: HistoryPosition | undefined, bound: number): Promise<void> {
  const receivers = ((ws as Receiving)[kReceivers] ??= new Map());
  if (receivers.has(topic)) {
    reply(ws, { wscore: 'error', topic, reason: 'already subscribed' });
    return;
  }
  // Live messages are held while history is read, then those not in it are sent.
  let held: Delivery[] | null = [];
  const receiver: Receiver = (target, d) => {
    if (held === null) {
      d.wrapped ??= new PreparedMessage(envelope(d.topic, d.message.data, d.message.binary, d.position));
      d.wrapped.sendTo(target);
    } else if (held.length < bound) {
      held.push(d);
    } else {
      // RFC 6455 §7.4.1: 1013, try again later (the client may reconnect and recover).
      target.close(1013, 'recovery fell behind');
    }
  };
  registry.subscribe(ws, topic);
  if (!ws.isSubscribed(topic)) return; // not OPEN
  receivers.set(topic, receiver);
  const adapter = registry.adapter;
  let result: RecoverResult | null = null;
  try {
    await registry.busSubscribed(topic);
    if (adapter?.hasHistory(topic) === true && adapter.position !== undefined && adapter.recover !== undefined) {
      result = since === undefined ? { recovered: false, position: await adapter.position(topic), messages: [] } : await adapter.recover(topic, since);
    }
  } catch (err) {
    if (receivers.get(topic) === receiver) registry.unsubscribe(ws, topic);
    reply(ws, { wscore: 'error', topic, reason: (err as Error).message });
    return;
  }
  // Unsubscribed or closed meanwhile: nothing to send.
  if (receivers.get(topic) !== receiver || ws.readyState !== OPEN) return;
  const position = result?.position;
  for (const m of result?.messages ?? []) ws.send(envelope(topic, m.data, m.binary, { epoch: position!.epoch, offset: m.offset }));
  reply(ws, { wscore: 'subscribed', topic, recovered: result?.recovered === true && since !== undefined, ...(position ?? {}) });
  const backlog = held;
  held = null;
  for (const d of backlog) {
    // Already sent from history: same epoch, offset not past the history read.
    if (position !== undefined && d.position !== undefined && d.position.epoch === position.epoch && compareOffsets(d.position.offset, position.offset) <= 0) continue;
    receiver(ws, d);
  }
}
