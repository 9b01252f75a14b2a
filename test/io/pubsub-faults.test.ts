/**
 * The Redis adapter under faults, against a real redis-server killed with SIGKILL and
 * restarted on the same port mid-stream: the outage is reported, a publish during it is
 * rejected (never queued), the adapter reconnects with backoff and re-subscribes every live
 * topic, and a server closes cleanly while Redis is down. Skipped with one loud line without
 * redis-server; fails under WSCORE_REQUIRE_PEERS=1.
 */
import { once } from 'node:events';

import { createClient } from 'redis';
import { afterEach, expect, it } from 'vitest';

import { PubSubError, TopicClient, redisPubSub, type RedisPubSub, type WebSocketServer } from '../../src/io';
import { describeWithPeer } from '../interop/peers';
import { useRedisServer } from '../helpers/redis-server';
import { cleanup, openClient, startServer } from './helpers';

afterEach(cleanup);

const reconnect = { minDelay: 10, maxDelay: 100 };

async function redisServer(url: string, history = false, delays = reconnect): Promise<{ wss: WebSocketServer; url: string; pubsub: RedisPubSub; errors: PubSubError[] }> {
  const pubsub = redisPubSub({ url, reconnect: delays, history });
  const started = await startServer({ pubsub, topicRequests: true });
  const errors: PubSubError[] = [];
  started.wss.on('error', (err) => errors.push(err as PubSubError));
  await pubsub.ready;
  return { ...started, pubsub, errors };
}

async function shardSubscribers(url: string, topic: string): Promise<number> {
  const admin = createClient({ url });
  await admin.connect();
  try {
    const reply = (await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `wscore:{${topic}}`])) as [string, number];
    return Number(reply[1]);
  } finally {
    await admin.close();
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

describeWithPeer('redis-server', 'the Redis adapter when Redis dies and comes back', () => {
  const redis = useRedisServer();

  it('reports the outage, rejects publishes during it, reconnects and re-subscribes', async () => {
    const a = await redisServer(redis().url);
    const b = await redisServer(redis().url);
    const closeWhileDown = await redisServer(redis().url);
    b.wss.on('connection', (ws) => ws.subscribe('live'));
    const client = await openClient(b.url);
    const got: string[] = [];
    client.on('message', (d) => got.push((d as Buffer).toString()));
    while ((await shardSubscribers(redis().url, 'live')) !== 1) await tick();
    a.wss.publish('live', 'before');
    while (got.length < 1) await once(client, 'message');

    await redis().kill();
    // One report per outage and server, as a PubSubError.
    while (a.errors.length === 0 || b.errors.length === 0) await tick();
    expect(a.errors[0]).toBeInstanceOf(PubSubError);
    expect(a.errors[0]).toMatchObject({ code: 'WS_ERR_PUBSUB_UNAVAILABLE' });
    // A publish now: delivered to local subscribers only, its forwarding rejected and reported.
    await expect(a.pubsub.publish('live', Buffer.from('during'), false)).rejects.toMatchObject({ code: 'WS_ERR_PUBSUB_UNAVAILABLE', topic: 'live' });
    const reported = a.errors.length;
    a.wss.publish('live', 'during');
    while (a.errors.length === reported) await tick();
    expect(a.errors.at(-1)).toMatchObject({ code: 'WS_ERR_PUBSUB_UNAVAILABLE', topic: 'live' });
    // A server closes while Redis is down, with a subscription queued for it: close() resolves.
    closeWhileDown.wss.on('connection', (ws) => ws.subscribe('queued'));
    await openClient(closeWhileDown.url);
    while (closeWhileDown.wss.topics.size === 0) await tick();
    await closeWhileDown.wss.close();

    await redis().restart();
    // The adapters reconnect (backoff) and b re-subscribes its live topic by itself.
    while ((await shardSubscribers(redis().url, 'live')) !== 1) await tick();
    while (!(await a.pubsub.publish('probe', Buffer.from('p'), false).then(() => true, () => false))) await tick();
    for (let i = 0; i < 20; i++) a.wss.publish('live', `after ${i}`);
    while (got.length < 21) await once(client, 'message');
    // Nothing was queued during the outage: 'during' never arrives, the rest in order.
    expect(got).toEqual(['before', ...Array.from({ length: 20 }, (_, i) => `after ${i}`)]);
  });

  it('with history, what was published while a subscriber connection was cut is caught up, once', async () => {
    const a = await redisServer(redis().url, true);
    // A slow reconnection: publishes land in the gap while b's subscriber connection is away.
    const b = await redisServer(redis().url, true, { minDelay: 300, maxDelay: 300 });
    const plain = await openClient(b.url);
    b.wss.clients.forEach((ws) => ws.subscribe('gap'));
    const viaRequest = await openClient(b.url);
    const got = { plain: [] as string[], request: [] as string[] };
    plain.on('message', (d) => got.plain.push((d as Buffer).toString()));
    await new TopicClient(viaRequest).subscribe('gap', { onMessage: (d) => got.request.push(d.toString()) });
    for (let i = 0; i < 20; i++) a.wss.publish('gap', `m${i}`);
    while (got.plain.length < 20 || got.request.length < 20) await once(got.plain.length < 20 ? plain : viaRequest, 'message');
    // Cut b's subscriber connection (Redis stays up), and publish while it is away.
    const admin = createClient({ url: redis().url });
    await admin.connect();
    expect(Number(await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']))).toBe(1);
    await admin.close();
    for (let i = 20; i < 80; i++) a.wss.publish('gap', `m${i}`);
    while (b.errors.length === 0) await tick();
    for (let i = 80; i < 100; i++) a.wss.publish('gap', `m${i}`);
    while (got.plain.length < 100 || got.request.length < 100) await once(got.plain.length < 100 ? plain : viaRequest, 'message');
    const all = Array.from({ length: 100 }, (_, i) => `m${i}`);
    expect(got).toEqual({ plain: all, request: all });
    // Exactly once: nothing after a round trip.
    plain.ping();
    await once(plain, 'pong');
    expect(got.plain).toHaveLength(100);
  });
});
