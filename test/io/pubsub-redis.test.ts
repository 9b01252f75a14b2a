/**
 * Topics across processes through Redis (src/io/redis-pubsub.ts), against a real
 * redis-server started on a free port: reference-counted shard subscriptions, binary-safe
 * payloads with their text/binary flag, own publishes delivered once, and 3 server processes
 * with clients spread over them, every message checked (content, flag, order per publisher,
 * exactly once). Skipped with one loud line without redis-server; fails under
 * WSCORE_REQUIRE_PEERS=1.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';

import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';

import { PubSubError, WebSocket, redisPubSub, type RedisPubSub, type WebSocketServer } from '../../src/io';
import { describeWithPeer } from '../interop/peers';
import { useRedisServer } from '../helpers/redis-server';
import { startWorker, type Worker } from '../helpers/workers';
import { cleanup, nextMessage, openClient, startServer, track } from './helpers';

afterEach(cleanup);

/** Shard subscribers of `topic`'s channel, as Redis counts them (PUBSUB SHARDNUMSUB). */
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

/** Waits until Redis reports `n` shard subscribers of `topic` (subscribing is asynchronous). */
async function untilShardSubscribers(url: string, topic: string, n: number): Promise<void> {
  while ((await shardSubscribers(url, topic)) !== n) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** A server with a Redis adapter, its adapter connected. */
async function redisServer(url: string, history = false): Promise<{ wss: WebSocketServer; url: string; pubsub: RedisPubSub }> {
  const pubsub = redisPubSub({ url, history });
  const started = await startServer({ pubsub });
  await pubsub.ready;
  return { ...started, pubsub };
}

/** A subscribed client: its server-side socket subscribed to `topic` on connection. */
async function subscriber(wss: WebSocketServer, url: string, topic: string): Promise<[WebSocket, WebSocket]> {
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = await openClient(url);
  const [server] = await accepted;
  server.subscribe(topic);
  return [client, server];
}

describeWithPeer('redis-server', 'topics across processes through Redis', () => {
  const redis = useRedisServer();

  it('subscribes in Redis while the topic has a local subscriber (reference-counted)', async () => {
    const { wss, url } = await redisServer(redis().url);
    const [, s1] = await subscriber(wss, url, 'rc');
    const [c2, s2] = await subscriber(wss, url, 'rc');
    await untilShardSubscribers(redis().url, 'rc', 1);
    s1.unsubscribe('rc');
    // One local subscriber left: still one shard subscription; a publish from Redis reaches s2.
    const other = await redisServer(redis().url);
    other.wss.publish('rc', 'still here');
    expect((await nextMessage(c2))[0].toString()).toBe('still here');
    expect(await shardSubscribers(redis().url, 'rc')).toBe(1);
    // The last one leaves (here by closing): the shard subscription goes.
    s2.close();
    await untilShardSubscribers(redis().url, 'rc', 0);
    expect(wss.topics.size).toBe(0);
    await subscriber(wss, url, 'rc');
    await untilShardSubscribers(redis().url, 'rc', 1);
  });

  it('carries text and binary messages, binary-safe, and never delivers an own publish twice', async () => {
    const a = await redisServer(redis().url);
    const b = await redisServer(redis().url);
    const [ca] = await subscriber(a.wss, a.url, 'bin');
    const [cb] = await subscriber(b.wss, b.url, 'bin');
    await untilShardSubscribers(redis().url, 'bin', 2);
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
    const got = { a: [] as Array<[Buffer, boolean]>, b: [] as Array<[Buffer, boolean]> };
    ca.on('message', (d, bin) => got.a.push([d as Buffer, bin]));
    cb.on('message', (d, bin) => got.b.push([d as Buffer, bin]));
    expect(a.wss.publish('bin', 'héllo ✓')).toBe(1);
    expect(a.wss.publish('bin', bytes)).toBe(1);
    expect(a.wss.publish('bin', Buffer.alloc(0), { binary: true })).toBe(1);
    // A last message from b: once a and b both have it, everything a published has too (same
    // order per publisher; a's own were delivered locally at once, b gets 'end' locally first).
    b.wss.publish('bin', 'end');
    while (got.a.length < 4 || got.b.length < 4) await once(got.a.length < 4 ? ca : cb, 'message');
    const hex = (list: Array<[Buffer, boolean]>): Array<[string, boolean]> => list.map(([d, bin]) => [d.toString('hex'), bin]);
    const fromA: Array<[string, boolean]> = [
      [Buffer.from('héllo ✓').toString('hex'), false],
      [bytes.toString('hex'), true],
      ['', true],
    ];
    const end: [string, boolean] = [Buffer.from('end').toString('hex'), false];
    expect(hex(got.a)).toEqual([...fromA, end]);
    expect(hex(got.b)).toEqual([end, ...fromA]);
    expect(a.wss.topics.stats).toMatchObject({ published: 3, received: 1 });
    expect(b.wss.topics.stats).toMatchObject({ published: 1, received: 3 });
  });

  it('works with a client of the application ({ client }), which it leaves open', async () => {
    const own = createClient({ url: redis().url });
    const pubsub = redisPubSub({ client: own });
    const { wss, url } = await startServer({ pubsub });
    await pubsub.ready;
    expect(own.isReady).toBe(true);
    const [client] = await subscriber(wss, url, 'mine');
    await untilShardSubscribers(redis().url, 'mine', 1);
    const other = await redisServer(redis().url);
    other.wss.publish('mine', Buffer.from([9, 0, 9]));
    expect(await nextMessage(client)).toEqual([Buffer.from([9, 0, 9]), true]);
    await wss.close();
    // Its subscriber connection (a duplicate) is closed; the application's client is not.
    await untilShardSubscribers(redis().url, 'mine', 0);
    expect(own.isReady).toBe(true);
    await own.close();
  });

  it('rejects a publish when Redis is unreachable, and reports it on the server', async () => {
    const { wss, pubsub } = await redisServer(redis().url);
    await pubsub.close();
    await expect(pubsub.publish('x', Buffer.from('a'), false)).rejects.toMatchObject({ name: 'PubSubError', code: 'WS_ERR_PUBSUB_CLOSED' });
    const reported = once(wss, 'error') as Promise<[PubSubError]>;
    wss.publish('x', 'lost');
    const [err] = await reported;
    expect(err).toBeInstanceOf(PubSubError);
    expect(err).toMatchObject({ code: 'WS_ERR_PUBSUB_CLOSED', topic: 'x' });
  });

  it('3 server processes, clients spread over them: every message once, in order per publisher', async () => {
    const workers: Worker[] = await Promise.all([0, 1, 2].map(() => startWorker(redis().url)));
    try {
      const PER = 150;
      // Two subscribers per process; one publisher per process (publishing with wss.publish,
      // so the publisher's own process delivers locally and drops the Redis echo).
      const subs = await Promise.all(workers.flatMap((w) => [0, 1].map(() => openClient(`ws://127.0.0.1:${w.port}/?sub=room`))));
      await untilShardSubscribers(redis().url, 'room', 3);
      const pubs = await Promise.all(workers.map((w) => openClient(`ws://127.0.0.1:${w.port}/?pub=room`)));
      const expected = (p: number, i: number): [Buffer, boolean] =>
        i % 2 === 0 ? [Buffer.from(`p${p} #${i} ✓`), false] : [Buffer.from([p, i >> 8, i & 255, 0, 255, 0x80, ...Buffer.from(`\r\n${i}`)]), true];
      const done = subs.map(
        (ws) =>
          new Promise<void>((resolve, reject) => {
            const next = [0, 0, 0];
            let total = 0;
            ws.on('message', (data, isBinary) => {
              const buf = data as Buffer;
              // Which publisher: text starts with p<N>, binary with the byte N.
              const p = isBinary ? buf[0]! : Number(buf.toString().slice(1, 2));
              const i = next[p]!;
              const [want, wantBinary] = expected(p, i);
              if (!buf.equals(want) || isBinary !== wantBinary) reject(new Error(`publisher ${p}: message #${i} is ${buf.toString('hex')} (${isBinary}), expected ${want.toString('hex')} (${wantBinary})`));
              next[p] = i + 1;
              if (++total === 3 * PER) resolve();
            });
          }),
      );
      pubs.forEach((ws, p) => {
        for (let i = 0; i < PER; i++) {
          const [data, binary] = expected(p, i);
          ws.send(data, { binary });
        }
      });
      await Promise.all(done);
      // Exactly once: after a round trip through every process nothing more arrived.
      const extra: unknown[] = [];
      for (const ws of subs) ws.on('message', (d) => extra.push(d));
      for (const ws of subs) {
        ws.ping();
        await once(ws, 'pong');
      }
      expect(extra).toEqual([]);
    } finally {
      const codes = await Promise.all(workers.map((w) => w.stop()));
      // Each exited by itself after wss.close(): no Redis handle left open.
      expect(codes, workers.map((w) => w.stderr()).join('\n')).toEqual([0, 0, 0]);
    }
  }, 90_000);
});

describe('without the optional peer dependency redis', () => {
  it('wscore loads, in-process topics work, and redisPubSub() throws a typed error', () => {
    const root = path.resolve(__dirname, '..', '..');
    const r = spawnSync(
      process.execPath,
      ['-r', path.join(root, 'test/helpers/block-redis.cjs'), path.join(root, 'node_modules/vite-node/vite-node.mjs'), path.join(root, 'test/helpers/without-redis.ts')],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({
      delivered: 'in-process',
      error: {
        name: 'PubSubError',
        code: 'WS_ERR_PUBSUB_MISSING_DEPENDENCY',
        message: 'redisPubSub() needs the optional peer dependency "redis" (node-redis v5): npm install redis',
      },
    });
  });
});
