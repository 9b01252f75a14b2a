/**
 * `wscore serve --topic T` (a room in one process) and `--redis URL [--history N]` (the room
 * shared by every server on that Redis, with recovery), against a real redis-server.
 */
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { main, serveCommand, type CliIO } from '../../src/cli';
import { TopicClient, type RedisPubSub, type WebSocketServer } from '../../src/io';
import { describeWithPeer } from '../interop/peers';
import { useRedisServer } from '../helpers/redis-server';
import { cleanup, nextMessage, openClient, track } from './helpers';

afterEach(cleanup);

function testIO(): CliIO & { out: () => string } {
  let text = '';
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => (text += d.toString()));
  return { stdin: new PassThrough(), stdout: sink, stderr: sink, setExitCode: () => undefined, out: () => text };
}

async function serve(args: string[], io = testIO()): Promise<{ wss: WebSocketServer; url: string; io: ReturnType<typeof testIO> }> {
  const wss = track(await serveCommand(['--port', '0', ...args], io));
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, io };
}

describe('wscore serve --topic', () => {
  it('makes a room: every message goes to every client of the topic', async () => {
    const { url, io } = await serve(['--topic', 'lobby']);
    expect(io.out()).toMatch(/wscore topic server listening on ws:\/\/127\.0\.0\.1:\d+\/ .*topic lobby\)/);
    const a = await openClient(url);
    const b = await openClient(url);
    const atB = nextMessage(b);
    const atA = nextMessage(a);
    a.send('hi all');
    expect((await atB)[0].toString()).toBe('hi all');
    expect((await atA)[0].toString()).toBe('hi all');
  });

  it('refuses --history without --redis, and two modes at once', async () => {
    const io = testIO();
    await main(['serve', '--port', '0', '--history', '10'], io);
    expect(io.out()).toMatch(/--history takes a positive count, with --redis/);
    const io2 = testIO();
    await main(['serve', '--port', '0', '--echo', '--topic', 'x'], io2);
    expect(io2.out()).toMatch(/exclude each other/);
  });
});

describeWithPeer('redis-server', 'wscore serve --redis', () => {
  const redis = useRedisServer();

  it('shares the room between two servers, with recovery under --history', async () => {
    const one = await serve(['--redis', redis().url, '--history', '100']);
    const two = await serve(['--redis', redis().url, '--history', '100']);
    expect(one.io.out()).toContain(`topic chat, redis ${redis().url})`);
    const a = await openClient(one.url);
    const b = await openClient(two.url);
    // Both subscribed on connection; wait until b's server carries the topic from Redis.
    await (one.wss.pubsub as RedisPubSub).ready;
    await one.wss.topics.busSubscribed('chat');
    await two.wss.topics.busSubscribed('chat');
    const atA = nextMessage(a);
    b.send('from two');
    expect((await atA)[0].toString()).toBe('from two');
    // A client that subscribes itself with a topic request gets positions, and recovers.
    const c = await openClient(one.url);
    const tc = new TopicClient(c);
    const got: string[] = [];
    const start = await tc.subscribe('chat', { onMessage: (d) => got.push(d.toString()) });
    expect(start.position?.epoch).toMatch(/^[0-9a-f]{16}$/);
    b.send('missed?');
    const d = await openClient(two.url);
    const recovered: string[] = [];
    const answer = await new TopicClient(d).subscribe('chat', { since: start.position, onMessage: (m) => recovered.push(m.toString()) });
    expect(answer.recovered).toBe(true);
    expect(recovered).toEqual(['missed?']);
  });
});
