/**
 * Limits against bad input (docs/security.md), our server and our client facing a raw peer:
 * the per-message fragment limit (maxFragments, close 1008 as ws) and the default bound on
 * what a peer that does not read can make us buffer (maxBufferedAmount, 16 MiB).
 */
import { createHash } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { ParseFailed } from '../../src/errors';
import { WebSocket } from '../../src/io';
import { CloseConnection, Connection, ConnectionType } from '../../src/protocol';
import { wire } from '../helpers/wire';
import { DEFAULT_MAX_BUFFERED_AMOUNT, DEFAULT_MAX_FRAGMENTS } from '../../src/limits';
import { cleanup } from './helpers';
import { echo, FrameLog, rawPair, type RawPair, type Role } from './raw-peer';

afterEach(cleanup);

const BINARY = 0x2;
const CLOSE = 0x8;
const MiB = 1024 * 1024;

/** One message of `count` fragments of `size` bytes each (bytes i*size.. of `data`). */
function fragmented(pair: RawPair, count: number, size: number, data?: Buffer): Uint8Array {
  const unit = pair.frame({ opcode: 0, fin: false, payload: Buffer.alloc(size, 0x61) });
  const out = new Uint8Array(unit.length * count);
  for (let i = 0; i < count; i++) {
    const payload = data ? data.subarray(i * size, (i + 1) * size) : Buffer.alloc(size, 0x61);
    out.set(i === 0 || i === count - 1 || data ? pair.frame({ opcode: i === 0 ? BINARY : 0, fin: i === count - 1, payload }) : unit, i * unit.length);
  }
  return out;
}

/** Resolves with [close code, 'error' codes] when `ws` closes. */
function closing(ws: WebSocket): Promise<[number, string[]]> {
  const errors: string[] = [];
  ws.on('error', (e: Error & { code?: unknown }) => errors.push(String(e.code)));
  return new Promise((resolve) => ws.once('close', (code) => resolve([code, errors])));
}

describe.each<Role>(['server', 'client'])('fragment limit, our %s', (role) => {
  it('a message of 200,000 one-byte fragments is refused with 1008 at fragment 131,073', async () => {
    const pair = await rawPair(role);
    const log = new FrameLog(pair.peer, pair.head);
    let messages = 0;
    pair.ours.on('message', () => messages++);
    const closed = closing(pair.ours);
    pair.peer.write(fragmented(pair, 200_000, 1));
    const frames = await log.until((f) => f.some((x) => x.opcode === CLOSE));
    const close = frames.find((f) => f.opcode === CLOSE)!;
    expect(close.payload.readUInt16BE(0)).toBe(1008);
    expect(close.payload.subarray(2).toString()).toMatch(/maxFragments/);
    pair.peer.end();
    expect((await closed)[0]).toBe(1008);
    expect(messages).toBe(0);
    expect(DEFAULT_MAX_FRAGMENTS).toBe(131_072);
  });

  it('a 4 MiB message in 65,536 fragments of 64 bytes passes under the defaults (Autobahn 9.3.1)', async () => {
    const pair = await rawPair(role);
    const message = Buffer.alloc(4 * MiB);
    for (let i = 0; i < message.length; i++) message[i] = (i * 7) & 0xff;
    const got = new Promise<Buffer>((resolve) => pair.ours.once('message', (d) => resolve(d as Buffer)));
    pair.peer.write(fragmented(pair, 65_536, 64, message));
    const hash = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    expect(hash(await got)).toBe(hash(message));
    expect(pair.ours.readyState).toBe(WebSocket.OPEN);
  });

  it('maxFragments: n fragments pass, n + 1 are refused; 0 disables the limit', async () => {
    const pair = await rawPair(role, { maxFragments: 10 });
    echo(pair.ours);
    const log = new FrameLog(pair.peer, pair.head);
    pair.peer.write(fragmented(pair, 10, 3));
    expect((await log.until((f) => f.length >= 1))[0]!.payload.length).toBe(30);
    pair.peer.write(fragmented(pair, 11, 3));
    const frames = await log.until((f) => f.some((x) => x.opcode === CLOSE));
    expect(frames.find((f) => f.opcode === CLOSE)!.payload.readUInt16BE(0)).toBe(1008);

    const open = await rawPair(role, { maxFragments: 0 });
    const got = new Promise<Buffer>((resolve) => open.ours.once('message', (d) => resolve(d as Buffer)));
    open.peer.write(fragmented(open, 200_000, 1));
    expect((await got).length).toBe(200_000);
  });
});

describe.each<Role>(['server', 'client'])('default maxBufferedAmount, our %s', (role) => {
  it('is 16 MiB: 10 + 10 MiB queued for a peer that does not read closes it (1008); 6 + 6 MiB do not', async () => {
    expect(DEFAULT_MAX_BUFFERED_AMOUNT).toBe(16 * MiB);
    const fits = await rawPair(role);
    fits.peer.pause();
    expect(() => {
      fits.ours.send(Buffer.alloc(6 * MiB));
      fits.ours.send(Buffer.alloc(6 * MiB));
    }).not.toThrow();
    expect(fits.ours.readyState).toBe(WebSocket.OPEN);
    // Still in our sender's batch: the payload bytes, as ws counts them.
    expect(fits.ours.bufferedAmount).toBe(12 * MiB);

    const pair = await rawPair(role);
    pair.peer.pause();
    const closed = closing(pair.ours);
    // Both in one tick: nothing reaches the kernel in between, so the second send finds
    // 10 MiB queued and would make it 20 MiB (> 16 MiB; under the old 64 MiB default it passed).
    pair.ours.send(Buffer.alloc(10 * MiB));
    expect(pair.ours.send(Buffer.alloc(10 * MiB))).toBe(false);
    expect(await closed).toEqual([1008, ['WS_ERR_BUFFER_LIMIT']]);
  });
});

describe('fragment limit in the sans-IO Connection (it parses with the same FrameReader)', () => {
  it('200,000 one-byte fragments: a CloseConnection 1008 after the default 131,072', () => {
    const conn = new Connection(ConnectionType.SERVER);
    const unit = wire({ opcode: 0, fin: false, payload: 'a', mask: true });
    const bytes = new Uint8Array(unit.length * 200_000);
    bytes.set(wire({ opcode: BINARY, fin: false, payload: 'a', mask: true }), 0);
    for (let i = 1; i < 200_000; i++) bytes.set(unit, i * unit.length);
    conn.receiveData(bytes);
    const events = [...conn.events()];
    const last = events[events.length - 1] as CloseConnection;
    expect(last).toBeInstanceOf(CloseConnection);
    expect(last.code).toBe(1008);
    expect(last.error).toBeInstanceOf(ParseFailed);
    // Every data event before it is a piece of the refused message (at most 131,072 frames).
    expect(events.length - 1).toBeLessThanOrEqual(131_072);
  });
});
