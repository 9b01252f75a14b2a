/**
 * Automatic pongs (RFC 6455 §5.5.2, §5.5.3), our server and our client facing a raw peer:
 * every ping answered, in order, ahead of what handlers send for later frames of the same
 * read (Autobahn 2.10, 2.11, 5.6-5.8, 5.19); and a ping flood at a peer that does not read
 * stays bounded (maxPendingAutoPongs, as ws 8.23).
 */
import { afterEach, describe, expect, it } from 'vitest';

import { cat } from '../helpers/wire';
import { cleanup } from './helpers';
import { backUp, echo, FrameLog, rawPair, type Role, type WireRead } from './raw-peer';

afterEach(cleanup);

const TEXT = 0x1;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

const pongs = (frames: WireRead[]): string[] => frames.filter((f) => f.opcode === PONG).map((f) => f.payload.toString());

describe.each<Role>(['server', 'client'])('automatic pongs, our %s', (role) => {
  it('10 pings in one chunk get 10 pongs, in order, with their payloads (Autobahn 2.10)', async () => {
    const pair = await rawPair(role);
    const log = new FrameLog(pair.peer, pair.head);
    const names = Array.from({ length: 10 }, (_, i) => `payload ${i}`);
    pair.peer.write(cat(...names.map((p) => pair.frame({ opcode: PING, payload: p }))));
    expect(pongs(await log.until((f) => pongs(f).length >= 10))).toEqual(names);
  });

  it('a ping between two fragments is answered before the echo of their message (Autobahn 5.6)', async () => {
    const pair = await rawPair(role);
    echo(pair.ours);
    const log = new FrameLog(pair.peer, pair.head);
    pair.peer.write(
      cat(
        pair.frame({ opcode: TEXT, fin: false, payload: 'fragment1' }),
        pair.frame({ opcode: PING, payload: 'ping payload' }),
        pair.frame({ opcode: 0, payload: 'fragment2' }),
      ),
    );
    const frames = await log.until((f) => f.some((x) => x.opcode === TEXT));
    expect(frames.map((f) => [f.opcode, f.payload.toString()])).toEqual([
      [PONG, 'ping payload'],
      [TEXT, 'fragment1fragment2'],
    ]);
  });

  it('pings and messages interleaved in one chunk: each pong leaves before the echoes of later messages', async () => {
    const pair = await rawPair(role);
    echo(pair.ours);
    const log = new FrameLog(pair.peer, pair.head);
    pair.peer.write(
      cat(
        pair.frame({ opcode: PING, payload: 'a' }),
        pair.frame({ opcode: TEXT, payload: 'x' }),
        pair.frame({ opcode: PING, payload: 'b' }),
        pair.frame({ opcode: TEXT, payload: 'y' }),
      ),
    );
    const frames = await log.until((f) => f.length >= 4);
    expect(frames.map((f) => `${f.opcode}:${f.payload.toString()}`)).toEqual([`${PONG}:a`, `${TEXT}:x`, `${PONG}:b`, `${TEXT}:y`]);
  });

  it('a ping then a close in one chunk: its pong leaves before the close echo; a ping after the close gets none', async () => {
    const pair = await rawPair(role);
    const log = new FrameLog(pair.peer, pair.head);
    const close = Buffer.from([0x03, 0xe8]);
    pair.peer.write(cat(pair.frame({ opcode: PING, payload: 'before' }), pair.frame({ opcode: CLOSE, payload: close }), pair.frame({ opcode: PING, payload: 'after' })));
    const frames = await log.until((f) => f.some((x) => x.opcode === CLOSE));
    expect(frames.map((f) => `${f.opcode}:${f.opcode === PONG ? f.payload.toString() : ''}`)).toEqual([`${PONG}:before`, `${CLOSE}:`]);
  });

  it('a reading peer is answered in full even past maxPendingAutoPongs in one burst (only unread pongs count)', async () => {
    const pair = await rawPair(role);
    const log = new FrameLog(pair.peer, pair.head);
    const names = Array.from({ length: 200 }, (_, i) => `${i}`);
    pair.peer.write(cat(...names.map((p) => pair.frame({ opcode: PING, payload: p }))));
    expect(pongs(await log.until((f) => pongs(f).length >= 200))).toEqual(names);
    expect(pair.ours.readyState).toBe(pair.ours.OPEN);
  });

  it('a ping flood at a peer that does not read: no pong is queued, and past maxPendingAutoPongs the peer is dropped (1008)', async () => {
    const pair = await rawPair(role, { maxPendingAutoPongs: 5 });
    const errors: Array<Error & { code?: string }> = [];
    pair.ours.on('error', (e) => errors.push(e));
    await backUp(pair);
    const buffered = pair.ours.bufferedAmount;
    const seen: number[] = [];
    pair.ours.on('ping', () => seen.push(pair.ours.bufferedAmount));
    const closed = new Promise<[number]>((resolve) => pair.ours.once('close', (code) => resolve([code])));
    pair.peer.write(cat(...Array.from({ length: 1000 }, (_, i) => pair.frame({ opcode: PING, payload: `${i}` }))));
    const [code] = await closed;
    expect(code).toBe(1008);
    expect(errors.map((e) => e.code)).toEqual(['WS_ERR_TOO_MANY_PENDING_PONGS']);
    // Five pings were kept waiting (no pong queued: the buffer never grew), the sixth dropped the peer.
    expect(seen).toHaveLength(5);
    expect(Math.max(...seen)).toBeLessThanOrEqual(buffered);
  });

  it('the limit counts from the last drain: the peer reads, then pings again, and stays', async () => {
    const pair = await rawPair(role, { maxPendingAutoPongs: 3 });
    await backUp(pair, 4 * 1024 * 1024);
    const burst = (from: number): Uint8Array => cat(...[0, 1, 2].map((i) => pair.frame({ opcode: PING, payload: `${from + i}` })));
    let pings = 0;
    pair.ours.on('ping', () => pings++);
    pair.peer.write(burst(0));
    while (pings < 3) await new Promise((resolve) => setImmediate(resolve));
    // The peer reads everything: our socket drains, and the latest ping's pong follows.
    const log = new FrameLog(pair.peer, pair.head);
    pair.peer.resume();
    expect(pongs(await log.until((f) => pongs(f).length >= 1))).toEqual(['2']);
    pair.peer.write(burst(3));
    expect(pongs(await log.until((f) => pongs(f).length >= 4))).toEqual(['2', '3', '4', '5']);
    expect(pair.ours.readyState).toBe(pair.ours.OPEN);
  });
});
