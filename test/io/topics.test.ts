/**
 * Topics (src/io/topics.ts): subscribe/unsubscribe on server-side connections, publish()
 * framed once to exactly the subscribers, the sender left out of ws.publish(), cleanup on
 * close, topic name checks, and the backpressure policy for slow subscribers.
 */
import { once } from 'node:events';

import { afterEach, describe, expect, it } from 'vitest';

import { MAX_TOPIC_LENGTH, PreparedMessage, WebSocket, WebSocketServer as WebSocketServerClass, type WebSocketServer } from '../../src/io';
import { NodeStreamTransport } from '../../src/io/node-stream-transport';
import { kConnection } from '../../src/io/transport-connection';
import { cleanup, nextMessage, openClient, recordTransportWrites, startServer } from './helpers';

afterEach(cleanup);

/** Opens `n` clients one after the other; returns [client, server-side socket] pairs. */
async function connectMany(wss: WebSocketServer, url: string, n: number, clientOptions = {}): Promise<Array<[WebSocket, WebSocket]>> {
  const pairs: Array<[WebSocket, WebSocket]> = [];
  for (let i = 0; i < n; i++) {
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const client = await openClient(url, undefined, clientOptions);
    const [server] = await accepted;
    pairs.push([client, server]);
  }
  return pairs;
}

/** A round trip on every pair, so the server side has nothing queued (its writes are direct). */
async function settle(pairs: Array<[WebSocket, WebSocket]>): Promise<void> {
  await Promise.all(pairs.map(([client]) => new Promise<void>((resolve) => client.ping('', false, () => resolve()))));
  await Promise.all(pairs.map(([client]) => once(client, 'pong')));
}

describe('topics', () => {
  it('subscribe, unsubscribe, isSubscribed and topics', async () => {
    const { wss, url } = await startServer();
    const [[, s]] = (await connectMany(wss, url, 1)) as [[WebSocket, WebSocket]];
    expect(s.topics).toEqual([]);
    expect(s.isSubscribed('a')).toBe(false);
    expect(s.subscribe('a')).toBe(true);
    expect(s.subscribe('a')).toBe(false);
    expect(s.subscribe('b')).toBe(true);
    expect(s.isSubscribed('a')).toBe(true);
    const topics = s.topics;
    expect(topics).toEqual(['a', 'b']);
    // A frozen snapshot: it neither changes the subscriptions nor follows them.
    expect(Object.isFrozen(topics)).toBe(true);
    expect(wss.topics.size).toBe(2);
    expect(wss.topics.subscriberCount('a')).toBe(1);
    expect(s.unsubscribe('a')).toBe(true);
    expect(s.unsubscribe('a')).toBe(false);
    expect(s.isSubscribed('a')).toBe(false);
    expect(topics).toEqual(['a', 'b']);
    expect(s.topics).toEqual(['b']);
    expect(wss.topics.size).toBe(1);
    expect(wss.topics.subscriberCount('a')).toBe(0);
  });

  it('publish reaches exactly the subscribers, keeps text/binary and returns the count', async () => {
    const { wss, url } = await startServer();
    const pairs = await connectMany(wss, url, 3);
    const [[c0, s0], [c1, s1], [c2, s2]] = pairs as [[WebSocket, WebSocket], [WebSocket, WebSocket], [WebSocket, WebSocket]];
    s0.subscribe('x');
    s1.subscribe('x');
    s2.subscribe('y');
    const got = [nextMessage(c0), nextMessage(c1), nextMessage(c2)];
    expect(wss.publish('x', 'hello')).toBe(2);
    const bin = Buffer.from([1, 2, 3, 0, 255]);
    expect(wss.publish('y', bin)).toBe(1);
    const [m0, m1, m2] = await Promise.all(got);
    expect([m0[0].toString(), m0[1]]).toEqual(['hello', false]);
    expect([m1[0].toString(), m1[1]]).toEqual(['hello', false]);
    // c2's first message is the 'y' one: it did not get 'x'.
    expect(m2[0].equals(bin)).toBe(true);
    expect(m2[1]).toBe(true);
    // The flags: text sent as binary, binary as text.
    const next = [nextMessage(c0), nextMessage(c1)];
    expect(wss.publish('x', 'as binary', { binary: true })).toBe(2);
    for (const [data, isBinary] of await Promise.all(next)) expect([data.toString(), isBinary]).toEqual(['as binary', true]);
    const text = nextMessage(c2);
    expect(wss.publish('y', Buffer.from('as text'), { binary: false })).toBe(1);
    expect((await text)[1]).toBe(false);
    expect(wss.publish('nobody', 'lost')).toBe(0);
    expect(wss.topics.stats).toMatchObject({ published: 5, delivered: 6, skipped: 0, closed: 0 });
  });

  it('ws.publish leaves out the sender', async () => {
    const { wss, url } = await startServer();
    const pairs = await connectMany(wss, url, 3);
    const [[c0, s0], [c1, s1], [c2, s2]] = pairs as [[WebSocket, WebSocket], [WebSocket, WebSocket], [WebSocket, WebSocket]];
    for (const s of [s0, s1, s2]) s.subscribe('room');
    const got = [nextMessage(c0), nextMessage(c1), nextMessage(c2)];
    expect(s0.publish('room', 'from s0')).toBe(2);
    expect(wss.publish('room', 'from the server')).toBe(3);
    const [m0, m1, m2] = await Promise.all(got);
    // The sender's first message is the server's publish: its own never reached it.
    expect(m0[0].toString()).toBe('from the server');
    expect(m1[0].toString()).toBe('from s0');
    expect(m2[0].toString()).toBe('from s0');
    // A connection may publish to a topic it is not subscribed to.
    s1.unsubscribe('room');
    const later = nextMessage(c0);
    expect(s1.publish('room', 'outsider')).toBe(2);
    expect((await later)[0].toString()).toBe('outsider');
  });

  it('frames once: every idle subscriber is written the same Buffer', async () => {
    const { wss, url } = await startServer();
    const pairs = await connectMany(wss, url, 3);
    for (const [, s] of pairs) s.subscribe('t');
    await settle(pairs);
    const writes = pairs.map(([, s]) => recordTransportWrites(s));
    const got = pairs.map(([c]) => nextMessage(c));
    expect(wss.publish('t', Buffer.alloc(5000, 9))).toBe(3);
    for (const w of writes) expect(w).toHaveLength(1);
    expect(writes[1]![0]).toBe(writes[0]![0]);
    expect(writes[2]![0]).toBe(writes[0]![0]);
    for (const [data] of await Promise.all(got)) expect(data.equals(Buffer.alloc(5000, 9))).toBe(true);
    // A PreparedMessage is used as given (its frame is the bytes written).
    const message = new PreparedMessage('prepared');
    const again = pairs.map(([c]) => nextMessage(c));
    expect(wss.publish('t', message)).toBe(3);
    for (const w of writes) expect(w[1]).toBe(message.frame);
    for (const [data] of await Promise.all(again)) expect(data.toString()).toBe('prepared');
  });

  it('compresses once for subscribers without context takeover, and each inflates it right', async () => {
    const { wss, url } = await startServer({ perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 } });
    const pairs = await connectMany(wss, url, 3);
    let compressions = 0;
    for (const [, s] of pairs) {
      expect(s.extensions).toMatch(/server_no_context_takeover/);
      s.subscribe('z');
      const deflate = s[kConnection].deflate!;
      const original = deflate.compressMessage.bind(deflate);
      deflate.compressMessage = (data: Uint8Array) => {
        compressions++;
        return original(data);
      };
    }
    await settle(pairs);
    const writes = pairs.map(([, s]) => recordTransportWrites(s));
    const text = 'compress me once '.repeat(300);
    for (let round = 0; round < 2; round++) {
      const got = pairs.map(([c]) => nextMessage(c));
      expect(wss.publish('z', `${text}${round}`)).toBe(3);
      for (const [data, isBinary] of await Promise.all(got)) {
        expect(data.toString()).toBe(`${text}${round}`);
        expect(isBinary).toBe(false);
      }
    }
    expect(compressions).toBe(2);
    const frame = writes[0]![0] as Buffer;
    // RSV1 set (RFC 7692 §6) and much smaller than the text: the compressed frame, shared.
    expect(frame[0]! & 0x40).toBe(0x40);
    expect(frame.length).toBeLessThan(text.length / 4);
    for (const w of writes) expect(w[0]).toBe(frame);
  });

  it('a closed connection leaves all its topics', async () => {
    const { wss, url } = await startServer();
    const pairs = await connectMany(wss, url, 2);
    const [[c0, s0], [, s1]] = pairs as [[WebSocket, WebSocket], [WebSocket, WebSocket]];
    for (const t of ['a', 'b', 'c']) s0.subscribe(t);
    s1.subscribe('a');
    expect(wss.topics.size).toBe(3);
    const closed = once(s0, 'close');
    c0.close();
    await closed;
    expect(s0.topics).toEqual([]);
    expect(wss.topics.size).toBe(1);
    expect(wss.topics.subscriberCount('a')).toBe(1);
    // A socket that is not OPEN cannot subscribe (it would never be removed).
    expect(s0.subscribe('d')).toBe(false);
    expect(wss.topics.size).toBe(1);
    const gone = once(s1, 'close');
    s1.terminate();
    await gone;
    expect(wss.topics.size).toBe(0);
  });

  it('skips subscribers that are closing, and never writes to them', async () => {
    const { wss, url } = await startServer();
    const pairs = await connectMany(wss, url, 2);
    const [[, s0], [c1, s1]] = pairs as [[WebSocket, WebSocket], [WebSocket, WebSocket]];
    s0.subscribe('t');
    s1.subscribe('t');
    s0.close();
    const writes = recordTransportWrites(s0);
    const got = nextMessage(c1);
    expect(wss.publish('t', 'only s1')).toBe(1);
    expect(writes).toHaveLength(0);
    expect((await got)[0].toString()).toBe('only s1');
    expect(wss.topics.stats).toMatchObject({ skipped: 1, delivered: 1 });
  });

  it('a subscriber past maxBufferedAmount is closed with 1008 and counted', async () => {
    const { wss, url } = await startServer({ maxBufferedAmount: 4096 });
    const pairs = await connectMany(wss, url, 2);
    const [[, slow], [fast, s1]] = pairs as [[WebSocket, WebSocket], [WebSocket, WebSocket]];
    slow.subscribe('t');
    s1.subscribe('t');
    slow.on('error', () => undefined);
    // A peer that does not read: its bytes stay queued (here held by corking its sender).
    slow[kConnection].cork();
    const received: Buffer[] = [];
    const both = new Promise<void>((resolve) =>
      fast.on('message', (data) => {
        received.push(data as Buffer);
        if (received.length === 2) resolve();
      }),
    );
    expect(wss.publish('t', Buffer.alloc(3000))).toBe(2);
    // (events.once would reject on the 'error' that reports the drop.)
    const closed = new Promise<number>((resolve) => slow.once('close', resolve));
    expect(wss.publish('t', Buffer.alloc(3000, 1))).toBe(1);
    expect(wss.topics.stats).toMatchObject({ closed: 1, delivered: 3 });
    expect(await closed).toBe(1008);
    expect(wss.topics.subscriberCount('t')).toBe(1);
    await both;
    expect(received[1]!.equals(Buffer.alloc(3000, 1))).toBe(true);
  });

  it("slowSubscribers: 'skip' passes over a subscriber past maxBufferedAmount, keeps it open and counts it", async () => {
    const { wss, url } = await startServer({ maxBufferedAmount: 4096, slowSubscribers: 'skip' });
    const pairs = await connectMany(wss, url, 2);
    const [[slowClient, slow], [fast, s1]] = pairs as [[WebSocket, WebSocket], [WebSocket, WebSocket]];
    slow.subscribe('t');
    s1.subscribe('t');
    const errors: Error[] = [];
    slow.on('error', (err) => errors.push(err));
    // A peer that does not read: its bytes stay queued (held by corking its sender).
    slow[kConnection].cork();
    const slowGot: Buffer[] = [];
    slowClient.on('message', (data) => slowGot.push(data as Buffer));
    const fastGot: Buffer[] = [];
    const three = new Promise<void>((resolve) =>
      fast.on('message', (data) => {
        fastGot.push(data as Buffer);
        if (fastGot.length === 3) resolve();
      }),
    );
    expect(wss.publish('t', Buffer.alloc(3000, 1))).toBe(2);
    // Would take the slow one's queue to ~6 KiB > 4 KiB: skipped, not closed.
    expect(wss.publish('t', Buffer.alloc(3000, 2))).toBe(1);
    expect(wss.publish('t', Buffer.alloc(3000, 3))).toBe(1);
    expect(wss.topics.stats).toMatchObject({ closed: 0, overflowed: 2, delivered: 4 });
    expect(slow.readyState).toBe(WebSocket.OPEN);
    await three;
    // Once it reads again, the slow subscriber gets what was queued for it, and later publishes.
    slow[kConnection].uncork();
    const later = nextMessage(slowClient);
    await new Promise((resolve) => setImmediate(resolve));
    expect(wss.publish('t', Buffer.alloc(10, 4))).toBe(2);
    await later;
    while (slowGot.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(slowGot.map((b) => b[0])).toEqual([1, 4]);
    expect(errors).toEqual([]);
  });

  it('slowSubscribers must be close or skip', () => {
    expect(() => new WebSocketServerClass({ noServer: true, slowSubscribers: 'drop' as 'skip' })).toThrow(TypeError);
  });

  it('rejects bad topic names with TypeError or RangeError', async () => {
    const { wss, url } = await startServer();
    const [[, s]] = (await connectMany(wss, url, 1)) as [[WebSocket, WebSocket]];
    expect(() => s.subscribe(42 as unknown as string)).toThrow(TypeError);
    expect(() => s.subscribe(undefined as unknown as string)).toThrow(TypeError);
    expect(() => s.subscribe('')).toThrow(RangeError);
    expect(() => s.subscribe('x'.repeat(MAX_TOPIC_LENGTH + 1))).toThrow(RangeError);
    expect(() => s.subscribe('a\ud800b')).toThrow(RangeError);
    expect(() => wss.publish('', 'x')).toThrow(RangeError);
    expect(() => s.publish(null as unknown as string, 'x')).toThrow(TypeError);
    expect(() => s.isSubscribed('')).toThrow(RangeError);
    expect(() => s.unsubscribe('x'.repeat(MAX_TOPIC_LENGTH + 1))).toThrow(RangeError);
    expect(wss.topics.size).toBe(0);
    // The longest name and a well-formed surrogate pair are fine.
    expect(s.subscribe('x'.repeat(MAX_TOPIC_LENGTH))).toBe(true);
    expect(s.subscribe('😀')).toBe(true);
    expect(wss.publish('empty', 'x')).toBe(0);
  });

  it('topics are for server-side connections', async () => {
    const { url } = await startServer();
    const client = await openClient(url);
    expect(() => client.subscribe('a')).toThrow(TypeError);
    expect(() => client.publish('a', 'x')).toThrow(TypeError);
    expect(client.isSubscribed('a')).toBe(false);
    expect(client.topics).toEqual([]);
  });
});
