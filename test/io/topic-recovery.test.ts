/**
 * Recovery (src/io/topic-requests.ts, topic-client.ts, redis-history.ts) against a real
 * redis-server: a client cut off mid-stream reconnects to another server process and gets
 * every message exactly once, in order; an offset out of the history window or of another
 * epoch gets an explicit recovered: false. Skipped with one loud line without redis-server.
 */
import { once } from 'node:events';

import { afterEach, expect, it } from 'vitest';

import { TopicClient, TopicRequestError, WebSocket, redisPubSub, type HistoryPosition, type WebSocketServer } from '../../src/io';
import { describeWithPeer } from '../interop/peers';
import { useRedisServer } from '../helpers/redis-server';
import { startWorker } from '../helpers/workers';
import { cleanup, openClient, startServer } from './helpers';

afterEach(cleanup);

async function historyServer(url: string, maxLength?: number): Promise<{ wss: WebSocketServer; url: string }> {
  const pubsub = redisPubSub({ url, history: maxLength === undefined ? true : { maxLength } });
  const started = await startServer({ pubsub, topicRequests: true });
  await pubsub.ready;
  return started;
}

/** Message i of the stream: text for even i, binary (with bytes JSON cannot hold raw) for odd. */
function message(i: number): [Buffer, boolean] {
  return i % 2 === 0 ? [Buffer.from(`tick ${i} ✓`), false] : [Buffer.from([0, 255, i >> 8, i & 255, 0x22, 0x5c]), true];
}

describeWithPeer('redis-server', 'recovery from Redis Streams history', () => {
  const redis = useRedisServer();

  it('a client cut off mid-stream reconnects elsewhere and gets every message exactly once', async () => {
    const a = await historyServer(redis().url);
    const b = await historyServer(redis().url);
    const publisher = await historyServer(redis().url);
    const got: Array<[string, boolean]> = [];
    const record = (data: Buffer, isBinary: boolean): void => void got.push([data.toString('hex'), isBinary]);
    const TOTAL = 400;
    let sent = 0;
    const publish = (n: number): void => {
      for (const end = sent + n; sent < end; sent++) {
        const [data, binary] = message(sent);
        publisher.wss.publish('feed', data, { binary });
      }
    };

    // First connection: subscribe, receive part of the stream, then the TCP connection dies.
    const c1 = await openClient(a.url);
    const t1 = new TopicClient(c1);
    const first = await t1.subscribe('feed', { onMessage: record });
    expect(first.recovered).toBe(false);
    publish(150);
    while (got.length < 60) await once(c1, 'message');
    c1.terminate();
    const cutAt = got.length;
    const since = t1.position('feed') as HistoryPosition;
    expect(since.epoch).toBe(first.position!.epoch);
    publish(100); // missed while disconnected

    // Second connection, to another server: recover, while publishing goes on.
    const c2 = await openClient(b.url);
    const t2 = new TopicClient(c2);
    const recovering = t2.subscribe('feed', { since, onMessage: record });
    publish(50); // during the history read: held, then deduplicated by offset
    const second = await recovering;
    expect(second.recovered).toBe(true);
    publish(TOTAL - sent);
    while (got.length < TOTAL) await once(c2, 'message');
    expect(cutAt).toBeLessThan(250);
    expect(got).toEqual(Array.from({ length: TOTAL }, (_, i) => [message(i)[0].toString('hex'), message(i)[1]]));
    // Exactly once: nothing after the last one (a round trip later).
    c2.ping();
    await once(c2, 'pong');
    expect(got).toHaveLength(TOTAL);
  });

  it('a server process killed with a client attached: the client recovers on another one', async () => {
    const [doomed, survivor] = await Promise.all([startWorker(redis().url, 'history'), startWorker(redis().url, 'history')]);
    try {
      const publisher = await historyServer(redis().url);
      const got: Array<[string, boolean]> = [];
      const record = (data: Buffer, isBinary: boolean): void => void got.push([data.toString('hex'), isBinary]);
      let sent = 0;
      const publish = (n: number): void => {
        for (const end = sent + n; sent < end; sent++) publisher.wss.publish('killed', ...([message(sent)[0], { binary: message(sent)[1] }] as const));
      };
      const c1 = await openClient(`ws://127.0.0.1:${doomed.port}`);
      const t1 = new TopicClient(c1);
      await t1.subscribe('killed', { onMessage: record });
      publish(100);
      while (got.length < 30) await once(c1, 'message');
      doomed.child.kill('SIGKILL');
      await once(c1, 'close');
      publish(100);
      const c2 = await openClient(`ws://127.0.0.1:${survivor.port}`);
      const answer = await new TopicClient(c2).subscribe('killed', { since: t1.position('killed'), onMessage: record });
      expect(answer.recovered).toBe(true);
      publish(50);
      while (got.length < 250) await once(c2, 'message');
      expect(got).toEqual(Array.from({ length: 250 }, (_, i) => [message(i)[0].toString('hex'), message(i)[1]]));
    } finally {
      await doomed.stop();
      expect(await survivor.stop()).toBe(0);
    }
  }, 60_000);

  it('answers recovered: false out of the window, for another epoch, and for a bad offset', async () => {
    const { url } = await historyServer(redis().url, 10);
    const publisher = await historyServer(redis().url, 10);
    const ws = await openClient(url);
    const client = new TopicClient(ws);
    let seen = 0;
    const start = await client.subscribe('short', { onMessage: () => void seen++ });
    // 300 messages in a history of ~10 (Redis trims whole nodes of 100): the start is gone.
    for (let i = 0; i < 300; i++) publisher.wss.publish('short', `m${i}`);
    while (seen < 300) await once(ws, 'message');
    const ws2 = await openClient(url);
    const again = new TopicClient(ws2);
    const late: string[] = [];
    const trimmed = await again.subscribe('short', { since: start.position, onMessage: (d) => late.push(d.toString()) });
    expect(trimmed.recovered).toBe(false);
    expect(trimmed.position!.epoch).toBe(start.position!.epoch);
    expect(trimmed.position!.offset).not.toBe(start.position!.offset);
    const ws3 = await openClient(url);
    const other = await new TopicClient(ws3).subscribe('short', { since: { epoch: 'not-this-one', offset: trimmed.position!.offset }, onMessage: () => undefined });
    expect(other).toEqual({ recovered: false, position: trimmed.position });
    const ws4 = await openClient(url);
    const bad = await new TopicClient(ws4).subscribe('short', { since: { epoch: trimmed.position!.epoch, offset: 'x' }, onMessage: () => undefined });
    expect(bad.recovered).toBe(false);
    // No history replayed on recovered: false.
    expect(late).toEqual([]);
  });

  it('ws.publish() on a topic with history leaves the sender out, here and elsewhere', async () => {
    const a = await historyServer(redis().url);
    const b = await historyServer(redis().url);
    const accepted = once(a.wss, 'connection') as Promise<[WebSocket]>;
    const sender = await openClient(a.url);
    const [senderSide] = await accepted;
    senderSide.subscribe('echoes');
    const local = await openClient(a.url);
    const remote = await openClient(b.url);
    const got = { sender: [] as string[], local: [] as string[], remote: [] as string[] };
    sender.on('message', (d) => got.sender.push((d as Buffer).toString()));
    await new TopicClient(local).subscribe('echoes', { onMessage: (d) => got.local.push(d.toString()) });
    await new TopicClient(remote).subscribe('echoes', { onMessage: (d) => got.remote.push(d.toString()) });
    // Delivered from the bus (history topics get their offset there): counted, not yet sent.
    expect(senderSide.publish('echoes', 'one')).toBe(1);
    a.wss.publish('echoes', 'two');
    while (got.local.length < 2 || got.remote.length < 2 || got.sender.length < 1) {
      await once(got.local.length < 2 ? local : got.remote.length < 2 ? remote : sender, 'message');
    }
    // 'one' would have reached the sender before 'two' (one fan-out order per server).
    expect(got).toEqual({ sender: ['two'], local: ['one', 'two'], remote: ['one', 'two'] });
  });

  it('refuses malformed requests with an error answer', async () => {
    const { url } = await historyServer(redis().url);
    const ws = await openClient(url);
    const answers: string[] = [];
    ws.on('message', (d) => answers.push((d as Buffer).toString()));
    ws.send('{"wscore":"subscribe","topic":""}');
    ws.send('{"wscore":"subscribe","topic":"t","since":5}');
    ws.send('{"wscore":"dance","topic":"t"}');
    ws.send('{"wscore": nope');
    while (answers.length < 4) await once(ws, 'message');
    expect(answers.map((a) => JSON.parse(a) as { wscore: string })).toMatchObject([
      { wscore: 'error', topic: '', reason: 'bad topic: A topic must not be empty' },
      { wscore: 'error', topic: 't', reason: 'since must be {"epoch": string, "offset": string}' },
      { wscore: 'error', topic: 't', reason: 'unknown request "dance"' },
      { wscore: 'error', reason: 'not JSON' },
    ]);
    await expect(new TopicClient(ws).subscribe('', { onMessage: () => undefined })).rejects.toBeInstanceOf(TopicRequestError);
    expect(WebSocket.OPEN).toBe(ws.readyState);
  });
});
