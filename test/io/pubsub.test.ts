/**
 * The pub/sub seam without Redis (src/io/pubsub.ts, topics.ts, topic-requests.ts): the bus
 * message format, the calls a server makes on its adapter (reference-counted subscribe,
 * forwarded publishes, deliveries fanned out), and topic requests in one process.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { PubSubError, TopicClient, WebSocketServer, isTopicRequest, redisPubSub, type BusMessage, type PubSubAdapter, type PubSubHost, type WebSocket } from '../../src/io';
import { busHeader, decodeBusMessage, encodeBusMessage } from '../../src/io/pubsub';
import { compareOffsets } from '../../src/io/redis-history';
import { freePort } from '../helpers/redis-server';
import { cleanup, nextMessage, openClient, startServer, track } from './helpers';

afterEach(cleanup);

/** An adapter that records what the server asks of it (a bus with no other process). */
class RecordingAdapter implements PubSubAdapter {
  calls: string[] = [];
  host: PubSubHost | null = null;
  start(host: PubSubHost): void {
    this.host = host;
  }
  async subscribe(topic: string): Promise<void> {
    this.calls.push(`subscribe ${topic}`);
  }
  async unsubscribe(topic: string): Promise<void> {
    this.calls.push(`unsubscribe ${topic}`);
  }
  async publish(topic: string, data: Uint8Array, binary: boolean): Promise<void> {
    this.calls.push(`publish ${topic} ${Buffer.from(data).toString('hex')} ${binary}`);
    if (topic === 'refused') throw new PubSubError('refused', 'WS_ERR_PUBSUB_UNAVAILABLE', topic);
  }
  hasHistory(): boolean {
    return false;
  }
  async close(): Promise<void> {
    this.calls.push('close');
  }
  deliver(m: BusMessage): void {
    this.host!.deliver(m);
  }
}

async function accept(wss: WebSocketServer, url: string): Promise<[WebSocket, WebSocket]> {
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = await openClient(url);
  return [client, (await accepted)[0]];
}

describe('bus messages', () => {
  it('carry the payload untouched, the binary flag, the origin and a position', () => {
    const payload = Buffer.from([0, 1, 255, 0x7b]);
    expect(decodeBusMessage(encodeBusMessage('abc', payload, true), 't')).toEqual({ origin: 'abc', binary: true, position: undefined, data: payload });
    const withPosition = Buffer.concat([busHeader('me.7', false, true), Buffer.from([2]), Buffer.from('ep'), Buffer.from([3]), Buffer.from('1-0'), Buffer.from('hi')]);
    expect(decodeBusMessage(withPosition, 't')).toEqual({ origin: 'me.7', binary: false, position: { epoch: 'ep', offset: '1-0' }, data: Buffer.from('hi') });
  });

  it('that this version cannot read are a PubSubError WS_ERR_PUBSUB_BAD_MESSAGE', () => {
    for (const bad of [Buffer.from([1]), Buffer.from([2, 0, 1, 0x61]), Buffer.from([1, 0, 5, 0x61]), Buffer.from([1, 2, 1, 0x61, 9, 0x61])]) {
      expect(() => decodeBusMessage(bad, 't')).toThrow(expect.objectContaining({ name: 'PubSubError', code: 'WS_ERR_PUBSUB_BAD_MESSAGE', topic: 't' }) as Error);
    }
  });

  it('offsets compare as numbers, and only {"wscore": text frames are topic requests', () => {
    expect(compareOffsets('9-0', '10-0')).toBe(-1);
    expect(compareOffsets('10-2', '10-10')).toBe(-1);
    expect(compareOffsets('10-2', '10-2')).toBe(0);
    expect(compareOffsets('18446744073709551615-1', '18446744073709551615-0')).toBe(1);
    expect(isTopicRequest(Buffer.from('{"wscore":"subscribe"}'), false)).toBe(true);
    expect(isTopicRequest(Buffer.from('{"wscore":"subscribe"}'), true)).toBe(false);
    expect(isTopicRequest(Buffer.from(' {"wscore":1}'), false)).toBe(false);
    expect(isTopicRequest('{"wscore":1}', false)).toBe(true);
  });
});

describe('the adapter seam', () => {
  it('subscribes with the first local subscriber and unsubscribes with the last', async () => {
    const adapter = new RecordingAdapter();
    const { wss, url } = await startServer({ pubsub: adapter });
    const [, a] = await accept(wss, url);
    const [, b] = await accept(wss, url);
    a.subscribe('t');
    b.subscribe('t');
    a.subscribe('u');
    expect(adapter.calls).toEqual(['subscribe t', 'subscribe u']);
    a.unsubscribe('t');
    expect(adapter.calls).toHaveLength(2);
    b.unsubscribe('t');
    a.close();
    await once(a, 'close');
    expect(adapter.calls).toEqual(['subscribe t', 'subscribe u', 'unsubscribe t', 'unsubscribe u']);
    await wss.close();
    expect(adapter.calls.at(-1)).toBe('close');
  });

  it('forwards publishes with their flag, and fans deliveries out to local subscribers only', async () => {
    const adapter = new RecordingAdapter();
    const { wss, url } = await startServer({ pubsub: adapter });
    const [client, server] = await accept(wss, url);
    server.subscribe('t');
    expect(wss.publish('t', Buffer.from([1, 2]))).toBe(1);
    expect(await nextMessage(client)).toEqual([Buffer.from([1, 2]), true]);
    expect(adapter.calls).toContain('publish t 0102 true');
    const next = nextMessage(client);
    adapter.deliver({ topic: 'other', data: Buffer.from('not subscribed'), binary: false });
    adapter.deliver({ topic: 't', data: Buffer.from('from afar'), binary: false });
    expect(await next).toEqual([Buffer.from('from afar'), false]);
    expect(wss.topics.stats).toMatchObject({ published: 1, received: 1 });
  });

  it("reports a forwarding failure on the server's 'error', typed", async () => {
    const adapter = new RecordingAdapter();
    const { wss } = await startServer({ pubsub: adapter });
    const failed = once(wss, 'error') as Promise<[PubSubError]>;
    expect(wss.publish('refused', 'x')).toBe(0);
    const [err] = await failed;
    expect(err).toBeInstanceOf(PubSubError);
    expect(err).toMatchObject({ code: 'WS_ERR_PUBSUB_UNAVAILABLE', topic: 'refused' });
  });
});

describe('redisPubSub() with nothing listening at its URL', () => {
  it('reports it once, rejects publishes, and closes without waiting or reporting more', async () => {
    const pubsub = redisPubSub({ url: `redis://127.0.0.1:${await freePort()}`, reconnect: { minDelay: 10, maxDelay: 50 } });
    // Listening first: once(wss, 'listening') would also take the first 'error', this one.
    const wss = track(new WebSocketServer({ host: '127.0.0.1', port: 0, pubsub }));
    const errors: PubSubError[] = [];
    wss.on('error', (err) => errors.push(err as PubSubError));
    while (wss.address() === null) await new Promise((resolve) => setTimeout(resolve, 5));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const [client, server] = await accept(wss, url);
    server.subscribe('t');
    while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    // Local subscribers still get it; the other processes cannot: rejected, reported.
    expect(wss.publish('t', 'local only')).toBe(1);
    expect((await nextMessage(client))[0].toString()).toBe('local only');
    while (errors.length === 1) await new Promise((resolve) => setTimeout(resolve, 10));
    client.close();
    await wss.close();
    expect(errors.map((e) => [e.code, e.topic])).toEqual([
      ['WS_ERR_PUBSUB_UNAVAILABLE', undefined],
      ['WS_ERR_PUBSUB_UNAVAILABLE', 't'],
    ]);
    expect(errors[0]!.message).toMatch(/^Redis unreachable, reconnecting: .*ECONNREFUSED/);
  });
});

describe('topic requests in one process', () => {
  it('subscribe and unsubscribe by request; messages come in the envelope, without position', async () => {
    const { wss, url } = await startServer({ topicRequests: true });
    const ws = await openClient(url);
    const topics = new TopicClient(ws);
    const got: Array<[string, boolean]> = [];
    expect(await topics.subscribe('room', { onMessage: (d, bin, position) => void got.push([d.toString('hex'), bin && position === undefined]) })).toEqual({ recovered: false, position: undefined });
    expect(wss.topics.subscriberCount('room')).toBe(1);
    wss.publish('room', Buffer.from([0, 0xff]));
    wss.publish('room', 'text');
    while (got.length < 2) await once(ws, 'message');
    expect(got).toEqual([['00ff', true], [Buffer.from('text').toString('hex'), false]]);
    topics.unsubscribe('room');
    await once(ws, 'message');
    expect(wss.topics.subscriberCount('room')).toBe(0);
  });

  it('refuses what authorize refuses (or throws on), and past maxTopics', async () => {
    const { url } = await startServer({
      topicRequests: {
        maxTopics: 2,
        authorize: (_ws, topic) => {
          if (topic === 'boom') throw new Error('check failed');
          return topic !== 'secret';
        },
      },
    });
    const topics = new TopicClient(await openClient(url));
    const none = { onMessage: () => undefined };
    await expect(topics.subscribe('secret', none)).rejects.toThrow('refused: not authorized');
    await expect(topics.subscribe('boom', none)).rejects.toThrow('refused: not authorized');
    await topics.subscribe('a', none);
    await topics.subscribe('b', none);
    await expect(topics.subscribe('c', none)).rejects.toThrow('refused: too many topics');
  });
});
