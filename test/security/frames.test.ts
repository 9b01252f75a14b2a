/**
 * Bad-input suite, frame level (docs/security.md): attacks by a peer past the opening
 * handshake, sent as raw bytes over TCP. For each attack: the bad connection is closed with
 * the right code, the server stays up, a witness client connected throughout still echoes,
 * and memory stays bounded.
 *
 * Frames are built by test/helpers/wire.ts, independently of src/, so that a bug in our
 * frame writer cannot hide the same bug in the parser.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';

import { afterEach, describe, expect, it } from 'vitest';

import { LocalProtocolError } from '../../src/errors';
import { WebSocket } from '../../src/io';
import { kConnection } from '../../src/io/transport-connection';
import {
  activeResources,
  arena,
  attacker,
  cat,
  cleanup,
  KiB,
  mb,
  memory,
  MiB,
  note,
  openClient,
  peakGrowth,
  rawServer,
  readFramesUntil,
  serverClose,
  sleep,
  track,
  wire,
  within,
  writeAll,
} from './helpers';

afterEach(cleanup);

const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

/** A masked client frame. */
const frame = (opcode: number, payload: Uint8Array | string = new Uint8Array(0), fin = true, rsv = 0): Uint8Array =>
  wire({ opcode, payload, fin, rsv, mask: true });

/** A close payload: code + reason bytes. */
function closePayload(code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(2 + reason.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(reason, 2);
  return out;
}

/** `count` copies of `unit` back to back (one allocation). */
function repeat(unit: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(unit.length * count);
  for (let i = 0; i < count; i++) out.set(unit, i * unit.length);
  return out;
}

/** Bytes held for the peer, on the wire (frame headers and our own pongs included): what memory bounds are about. */
function wireBacklog(ws: WebSocket): number {
  return ws[kConnection].wireBacklog;
}

describe('frame lengths', () => {
  it('a declared length >= 2^53 or >= 2^63 with no payload is refused at once (undici CVE-2026-1528, gorilla CVE-2020-27813)', async () => {
    const a = await arena();
    // 2^53 - 1 and above exceed maxPayload (1009); the most significant bit set is a
    // protocol error (RFC 6455 §5.2: "the most significant bit MUST be 0"; 1002).
    const cases: Array<[bigint, number]> = [
      [2n ** 53n - 1n, 1009],
      [2n ** 53n, 1009],
      [2n ** 53n + 1n, 1009],
      [2n ** 62n, 1009],
      [2n ** 63n, 1002],
      [2n ** 64n - 1n, 1002],
    ];
    for (const [length, expected] of cases) {
      const { socket, rest } = await attacker(a.port);
      // Only the header: the server must decide on it, without waiting for a payload.
      socket.write(wire({ opcode: BINARY, length64: length, mask: true }));
      const { code } = await serverClose(socket, rest);
      expect([length, code]).toEqual([length, expected]);
    }
    await a.checkWitness();
    expect(a.errors.map((e) => /exceeds maxPayload|most significant bit/.test((e.cause as Error).message))).toEqual(cases.map(() => true));
  });

  it('a huge declared length with a trickle of payload does not reserve the declared size (gorilla CVE-2020-27813 class)', async () => {
    // 40 peers each announce a frame of exactly maxPayload (64 MiB, so it is allowed) and
    // send 1 byte of it. Reserving the announced size up front would make 40 tiny headers
    // cost 2.5 GiB of buffers; memory must instead follow the bytes actually received.
    const a = await arena();
    const peers = 40;
    const growth = await peakGrowth(async () => {
      const sockets = [];
      for (let i = 0; i < peers; i++) {
        const { socket } = await attacker(a.port);
        const header = wire({ opcode: BINARY, length64: BigInt(64 * MiB), mask: true });
        socket.write(cat(header, new Uint8Array([0x42 ^ 0x37])));
        sockets.push(socket);
      }
      await sleep(200); // let the server read every header
      expect(a.connections.length).toBe(peers + 1);
      return sockets;
    });
    // Bound: 256 KiB per peer (the reader starts an assembly buffer at 64 KiB and grows it
    // with the data received) plus 8 MiB of slack for the test's own allocations.
    note('declared 64 MiB x 40, 1 byte sent', { buffers: growth.buffers, rss: growth.rss });
    expect(growth.buffers, `buffers grew by ${mb(growth.buffers)}`).toBeLessThan(peers * 256 * KiB + 8 * MiB);
    for (const s of growth.result) s.destroy();
    await within(
      (async () => {
        while (a.closes.length < peers) await sleep(10);
      })(),
      10_000,
      'the server to see every attacker go',
    );
    expect(a.closes.every((c) => c === 1006)).toBe(true);
    await a.checkWitness();
  });

  it('a frame over maxPayload is refused from its header (1009) while a legitimate large frame passes', async () => {
    const a = await arena({ maxPayload: 1 * MiB });
    const ok = await attacker(a.port);
    const big = randomBytes(1 * MiB);
    ok.socket.write(frame(BINARY, big));
    const echoed = await readFramesUntil(ok.socket, ok.rest, (f) => f.length >= 1);
    expect(echoed[0]!.payload.equals(big)).toBe(true);
    ok.socket.destroy();
    const bad = await attacker(a.port);
    bad.socket.write(wire({ opcode: BINARY, length64: BigInt(MiB + 1), mask: true }));
    expect((await serverClose(bad.socket, bad.rest)).code).toBe(1009);
    await a.checkWitness();
  });
});

describe('fragment floods (maxFragments: at most 131,072 frames per message by default)', () => {
  it('10^6 empty fragments are refused with 1008, memory bounded (ws CVE-2026-48779)', async () => {
    const a = await arena();
    const { socket, rest } = await attacker(a.port);
    const flood = cat(frame(BINARY, new Uint8Array(0), false), repeat(frame(0, new Uint8Array(0), false), 1_000_000 - 1));
    const growth = await peakGrowth(async () => {
      const closed = serverClose(socket, rest, 60_000);
      await writeAll(socket, flood);
      return closed;
    });
    note('10^6 empty fragments', { code: String(growth.result.code), heap: growth.heap, buffers: growth.buffers, rss: growth.rss });
    expect(growth.result.code).toBe(1008);
    expect(growth.result.reason).toMatch(/fragments/);
    // 131,072 fragments are accepted before the refusal; empty ones are not kept at all, so
    // what remains is the sockets' and parser's buffers and the collector's slack.
    expect(growth.heap + growth.buffers, `heap ${mb(growth.heap)}, buffers ${mb(growth.buffers)}`).toBeLessThan(32 * MiB);
    await a.checkWitness();
  });

  it('10^6 one-byte fragments are refused with 1008, memory bounded (ws CVE-2026-48779)', async () => {
    const a = await arena();
    const { socket, rest } = await attacker(a.port);
    const one = new Uint8Array([0x61]);
    const flood = cat(frame(BINARY, one, false), repeat(frame(0, one, false), 1_000_000 - 1));
    const growth = await peakGrowth(async () => {
      const closed = serverClose(socket, rest, 60_000);
      await writeAll(socket, flood);
      return closed;
    });
    note('10^6 one-byte fragments', { code: String(growth.result.code), heap: growth.heap, buffers: growth.buffers, rss: growth.rss });
    expect(growth.result.code).toBe(1008);
    // 131,072 one-byte fragments are held until the refusal: 128 KiB of data. As one Buffer
    // view each they would take ~14 MiB of heap; copied into run buffers, far less.
    expect(growth.heap + growth.buffers, `heap ${mb(growth.heap)}, buffers ${mb(growth.buffers)}`).toBeLessThan(32 * MiB);
    await a.checkWitness();
  });

  it('pings between fragments cannot make a message pin socket buffers (memory follows the message, not the traffic)', async () => {
    // Each fragment is followed by ~60 KiB of pings (control frames are not charged against
    // maxPayload): keeping each fragment as a view of its socket chunk would hold ~60 MiB
    // for a 1 MiB message (1 KiB fragments) or ~15x the message (4 KiB fragments).
    for (const size of [KiB, 4 * KiB]) await pinningAttack(size);
  });

  async function pinningAttack(size: number): Promise<void> {
    // The attacker reads nothing until the end, so its pings would trip maxPendingAutoPongs:
    // off here, this test is about what the half-received message holds.
    const a = await arena({ maxPendingAutoPongs: 0 });
    const { socket, rest } = await attacker(a.port);
    const server = a.connections[1]!;
    let pingsSeen = 0;
    server.on('ping', () => pingsSeen++);
    const units = MiB / size;
    const message = randomBytes(units * size);
    const pings = repeat(frame(PING, new Uint8Array(125)), 480);
    const base = memory();
    for (let i = 0; i < units - 1; i++) await writeAll(socket, cat(frame(i === 0 ? BINARY : 0, message.subarray(i * size, (i + 1) * size), false), pings));
    await within(
      (async () => {
        while (pingsSeen < (units - 1) * 480) await sleep(5);
      })(),
      30_000,
      'the server to read the fragments',
    );
    // What the half-received message holds now, garbage collected away.
    const held = memory();
    const retained = held.buffers + held.heap - base.buffers - base.heap;
    note(`${size}-byte fragments + 60 KiB of pings each`, { traffic: units * (size + pings.length), retained });
    // 1 MiB of message; 4 MiB allows for the run buffers and a collector that is not exact.
    expect(retained, `retained ${mb(retained)} for ${size}-byte fragments`).toBeLessThan(4 * MiB);
    socket.write(frame(0, message.subarray((units - 1) * size)));
    const frames = await readFramesUntil(socket, rest, (f) => f.some((x) => x.opcode === BINARY), 30_000);
    expect(frames.find((f) => f.opcode === BINARY)!.payload.equals(message)).toBe(true);
    await a.checkWitness();
  }

  it('the defaults accept a 4 MiB message sent as 65,536 fragments of 64 bytes (legitimate traffic)', async () => {
    const a = await arena();
    const { socket, rest } = await attacker(a.port);
    const message = randomBytes(4 * MiB);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 65_536; i++) parts.push(frame(i === 0 ? BINARY : 0, message.subarray(i * 64, i * 64 + 64), i === 65_535));
    await writeAll(socket, cat(...parts));
    const frames = await readFramesUntil(socket, rest, (f) => f.length >= 1, 60_000);
    expect(frames[0]!.opcode).toBe(BINARY);
    expect(createHash('sha256').update(frames[0]!.payload).digest('hex')).toBe(createHash('sha256').update(message).digest('hex'));
    expect(a.errors).toEqual([]);
    await a.checkWitness();
  });

  it('a client of ours accepts the same 65,536-fragment message from a server (both directions)', async () => {
    const a = await arena();
    const message = randomBytes(4 * MiB);
    const got = new Promise<Buffer>((resolve) => a.witness.once('message', (d) => resolve(d as Buffer)));
    const server = a.connections[0]!;
    for (let i = 0; i < 65_536; i++) server.send(message.subarray(i * 64, i * 64 + 64), { fin: i === 65_535 });
    expect((await within(got, 30_000, 'the fragmented message')).equals(message)).toBe(true);
  });
});

describe('control frame floods', () => {
  it('ping flood from a peer that never reads: dropped (1008) once our socket backs up, memory bounded', async () => {
    const a = await arena();
    const { socket } = await attacker(a.port);
    const server = a.connections[1]!;
    let pings = 0;
    server.on('ping', () => pings++);
    const closed = a.nextClose();
    const count = 100_000;
    // 125-byte pings, 13 MB in all; the attacker never reads. Each read's pings are answered
    // (one write); once the kernel buffers are full, our socket backs up, only the latest
    // ping is kept, and past maxPendingAutoPongs (60) such pings the peer is dropped.
    const flood = repeat(frame(PING, Buffer.alloc(125, 0x20)), count);
    let peakBuffered = 0;
    const growth = await peakGrowth(async () => {
      void writeAll(socket, flood).catch(() => undefined);
      const poll = setInterval(() => (peakBuffered = Math.max(peakBuffered, wireBacklog(server))), 2);
      try {
        return await within(closed, 30_000, 'the flooding peer to be dropped');
      } finally {
        clearInterval(poll);
      }
    });
    note('ping flood 100,000 x 125 B, never reading', { pings, peakBufferedAmount: peakBuffered, buffers: growth.buffers, rss: growth.rss });
    expect(growth.result).toBe(1008);
    expect(a.errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['WS_ERR_TOO_MANY_PENDING_PONGS']);
    expect(pings).toBeLessThan(count);
    // What waits in our socket: at most the high-water mark plus one read's pongs.
    expect(peakBuffered, `bufferedAmount peaked at ${peakBuffered}`).toBeLessThan(256 * KiB);
    expect(growth.buffers, `buffers grew by ${mb(growth.buffers)}`).toBeLessThan(32 * MiB);
    await a.checkWitness();
  });

  /** An arena whose attacker connection has an 8 MiB echo it does not read queued (our socket backed up). */
  async function backedUp(options: Parameters<typeof arena>[0]) {
    const a = await arena(options);
    const { socket, rest } = await attacker(a.port);
    const server = a.connections[1]!;
    let pings = 0;
    server.on('ping', () => pings++);
    const big = randomBytes(8 * MiB);
    let messages = 0;
    server.on('message', () => messages++);
    await writeAll(socket, frame(BINARY, big));
    await within(
      (async () => {
        while (messages < 1 || wireBacklog(server) === 0) await sleep(5);
      })(),
      10_000,
      'the echo to be queued',
    );
    return { a, socket, rest, server, big, pings: () => pings };
  }

  it('ping flood while our socket is backed up: no pong is queued, and the 61st ping drops the peer (maxPendingAutoPongs)', async () => {
    const { a, socket, server, pings } = await backedUp({});
    const before = wireBacklog(server);
    let maxBuffered = before;
    server.on('ping', () => (maxBuffered = Math.max(maxBuffered, wireBacklog(server))));
    const closed = a.nextClose();
    const flood: Uint8Array[] = [];
    for (let i = 0; i < 20_000; i++) flood.push(frame(PING, `${i}`));
    void writeAll(socket, cat(...flood)).catch(() => undefined);
    expect(await within(closed, 10_000, 'the peer to be dropped')).toBe(1008);
    // Not one byte more while the peer did not read, and the 61st ping was not processed.
    expect(maxBuffered).toBe(before);
    expect(pings()).toBe(60);
    await a.checkWitness();
  });

  it('without the limit (maxPendingAutoPongs: 0), pings while backed up keep one pong, for the latest ping, sent at drain', async () => {
    const { a, socket, rest, server, big, pings } = await backedUp({ maxPendingAutoPongs: 0 });
    const backedUpBy = wireBacklog(server);
    const count = 20_000;
    const flood: Uint8Array[] = [];
    for (let i = 0; i < count; i++) flood.push(frame(PING, `${i}`));
    await writeAll(socket, cat(...flood));
    await within(
      (async () => {
        while (pings() < count) await sleep(5);
      })(),
      10_000,
      'the server to read every ping',
    );
    // Not one byte more: every pong waits for 'drain', and only the latest is kept.
    expect(wireBacklog(server)).toBe(backedUpBy);
    const frames = await readFramesUntil(socket, rest, (f) => f.some((x) => x.opcode === PONG), 30_000);
    expect(frames[0]!.payload.equals(big)).toBe(true);
    expect(frames.filter((f) => f.opcode === PONG).map((f) => f.payload.toString())).toEqual([`${count - 1}`]);
    await a.checkWitness();
  });

  it('a peer that reads gets a pong for each ping of separate reads (legitimate heartbeats)', async () => {
    const a = await arena();
    const server = a.connections[0]!;
    for (let i = 0; i < 20; i++) {
      const pong = new Promise<Buffer>((resolve) => a.witness.once('pong', resolve));
      a.witness.ping(`hb${i}`);
      expect((await within(pong, 5000, 'a pong')).toString()).toBe(`hb${i}`);
    }
    expect(server.readyState).toBe(WebSocket.OPEN);
  });

  it('close flood: 10,000 close frames, then pings and data, get exactly one close answer', async () => {
    const a = await arena();
    const { socket, rest } = await attacker(a.port);
    const flood = cat(
      frame(CLOSE, closePayload(4001, Buffer.from('first'))),
      repeat(frame(CLOSE, closePayload(1000)), 10_000),
      repeat(frame(PING, 'p'), 10_000),
      repeat(frame(TEXT, 'data'), 10_000),
    );
    const closing = a.nextClose();
    socket.write(flood);
    socket.end(); // the attacker's side of TCP ends after its flood
    const { code, reason, frames } = await serverClose(socket, rest);
    // Nothing after the first close frame is processed (RFC 6455 §5.5.1): one echo of its
    // code, no pong, no message.
    expect([code, reason]).toEqual([4001, 'first']);
    expect(frames.map((f) => f.opcode)).toEqual([CLOSE]);
    expect(await within(closing, 5000, 'the server-side close event')).toBe(4001);
    await a.checkWitness();
  });

  it('connection churn: 300 clients connect and vanish at once, the server ends with none and no leaked handles', async () => {
    const a = await arena();
    await sleep(50);
    const before = activeResources();
    const sockets = await Promise.all(Array.from({ length: 300 }, () => attacker(a.port)));
    // Half close politely with a close frame, half vanish with a reset.
    sockets.forEach(({ socket }, i) => {
      if (i % 2 === 0) {
        socket.resume();
        socket.write(frame(CLOSE, closePayload(1000)));
      } else {
        socket.destroy();
      }
    });
    await within(
      (async () => {
        while (a.wss.clients!.size > 1) await sleep(10);
      })(),
      20_000,
      'every attacker connection to close',
    );
    for (const { socket } of sockets) socket.destroy();
    await sleep(100);
    const after = activeResources();
    // TCP handles back to what they were (the witness's two ends and the listener).
    expect(after.get('TCPSocketWrap') ?? 0).toBeLessThanOrEqual(before.get('TCPSocketWrap') ?? 0);
    expect(a.closes.filter((c) => c !== 1000 && c !== 1006)).toEqual([]);
    await a.checkWitness();
  });
});

describe('header rule violations', () => {
  it('an unmasked client frame closes 1002 (RFC 6455 §5.1)', async () => {
    const a = await arena();
    const { socket, rest } = await attacker(a.port);
    socket.write(wire({ opcode: TEXT, payload: 'unmasked', mask: false }));
    expect((await serverClose(socket, rest)).code).toBe(1002);
    expect(a.errors[0]?.message).toMatch(/mask/i);
    await a.checkWitness();
  });

  it('RSV1 on control frames and continuation frames closes 1002 (RFC 7692 §6.1), with and without deflate', async () => {
    for (const deflate of [false, true]) {
      const a = await arena({ perMessageDeflate: deflate });
      const ext = deflate ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '';
      const cases: Array<[string, Uint8Array]> = [
        ['RSV1 ping', frame(PING, 'x', true, 4)],
        ['RSV1 pong', frame(PONG, 'x', true, 4)],
        ['RSV1 close', frame(CLOSE, closePayload(1000), true, 4)],
        ['RSV1 continuation', cat(frame(BINARY, 'a', false), frame(0, 'b', true, 4))],
        ['RSV2 data', frame(BINARY, 'a', true, 2)],
        ['RSV3 data', frame(BINARY, 'a', true, 1)],
      ];
      if (!deflate) cases.push(['RSV1 data without deflate', frame(BINARY, 'a', true, 4)]);
      for (const [name, bytes] of cases) {
        const { socket, response, rest } = await attacker(a.port, ext);
        expect(response.includes('permessage-deflate')).toBe(deflate);
        socket.write(bytes);
        expect([name, (await serverClose(socket, rest)).code]).toEqual([name, 1002]);
      }
      await a.checkWitness();
    }
  });

  it('reserved opcodes, fragmented and oversized control frames close 1002', async () => {
    const a = await arena();
    const cases: Array<[string, Uint8Array]> = [
      ['opcode 3', frame(3, 'x')],
      ['opcode 0xb', frame(0xb, 'x')],
      ['fragmented ping', frame(PING, 'x', false)],
      ['126-byte ping', frame(PING, new Uint8Array(126))],
      ['continuation without a message', frame(0, 'x')],
      ['new message inside a fragmented one', cat(frame(TEXT, 'a', false), frame(TEXT, 'b'))],
    ];
    for (const [name, bytes] of cases) {
      const { socket, rest } = await attacker(a.port);
      socket.write(bytes);
      expect([name, (await serverClose(socket, rest)).code]).toEqual([name, 1002]);
    }
    await a.checkWitness();
  });
});

describe('a malicious server', () => {
  /** A raw server that completes the handshake and then writes `bytes`. */
  async function serverSending(bytes: Uint8Array): Promise<string> {
    return (await rawServer((socket) => socket.write(bytes))).url;
  }

  it('closes our client with the right code: masked frames, bad opcodes, huge lengths, bad UTF-8, bad close codes', async () => {
    const cases: Array<[string, Uint8Array, number]> = [
      ['masked server frame (§5.1)', wire({ opcode: TEXT, payload: 'x', mask: true }), 1002],
      ['reserved opcode', wire({ opcode: 0x3, payload: 'x' }), 1002],
      ['RSV1 without deflate', wire({ opcode: TEXT, payload: 'x', rsv: 4 }), 1002],
      ['length 2^63', wire({ opcode: BINARY, length64: 2n ** 63n }), 1002],
      ['length 2^53', wire({ opcode: BINARY, length64: 2n ** 53n }), 1009],
      ['over maxPayload', wire({ opcode: BINARY, length64: BigInt(MiB + 1) }), 1009],
      ['invalid UTF-8 text', wire({ opcode: TEXT, payload: Uint8Array.from([0xc0, 0xaf]) }), 1007],
      ['close code 1005 on the wire', wire({ opcode: CLOSE, payload: closePayload(1005) }), 1002],
      ['10^6 empty fragments', cat(wire({ opcode: BINARY, fin: false }), repeat(wire({ opcode: 0, fin: false }), 1_000_000 - 1)), 1008],
    ];
    for (const [name, bytes, expected] of cases) {
      const url = await serverSending(bytes);
      const ws = track(new WebSocket(url, { maxPayload: MiB }));
      ws.on('error', () => undefined);
      const code = await within(new Promise<number>((resolve) => ws.once('close', resolve)), 20_000, name);
      expect([name, code]).toEqual([name, expected]);
    }
  });
});

describe('invalid UTF-8', () => {
  const bad: Array<[string, number[]]> = [
    ['lone continuation byte', [0x80]],
    ['overlong encoding of /', [0xc0, 0xaf]],
    ['UTF-16 surrogate U+D800', [0xed, 0xa0, 0x80]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['0xFF', [0x61, 0xff]],
    ['truncated sequence at the end', [0x61, 0xe2, 0x82]],
  ];

  it('invalid UTF-8 in text messages closes 1007, whole or split across fragments (RFC 6455 §8.1)', async () => {
    const a = await arena();
    for (const [name, bytes] of bad) {
      for (const split of [false, true]) {
        const { socket, rest } = await attacker(a.port);
        const payload = Uint8Array.from([0x68, 0x69, ...bytes]);
        // Split inside the bad sequence: the validator must carry its state across frames.
        const at = payload.length - 1;
        socket.write(split ? cat(frame(TEXT, payload.subarray(0, at), false), frame(0, payload.subarray(at))) : frame(TEXT, payload));
        expect([name, split, (await serverClose(socket, rest)).code]).toEqual([name, split, 1007]);
      }
    }
    await a.checkWitness();
  });

  it('invalid UTF-8 in a close reason closes 1007 (RFC 6455 §5.5.1)', async () => {
    const a = await arena();
    for (const [name, bytes] of bad) {
      const { socket, rest } = await attacker(a.port);
      socket.write(frame(CLOSE, closePayload(1000, Uint8Array.from(bytes))));
      expect([name, (await serverClose(socket, rest)).code]).toEqual([name, 1007]);
    }
    await a.checkWitness();
  });
});

describe('close codes', () => {
  it('close codes that may not be on the wire close 1002: 0, 999, 1004-1006, 1015, 1016, 1100, 2000, 2999, 5000 (RFC 6455 §7.4)', async () => {
    const a = await arena();
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
      const { socket, rest } = await attacker(a.port);
      socket.write(frame(CLOSE, closePayload(code)));
      expect([code, (await serverClose(socket, rest)).code]).toEqual([code, 1002]);
    }
    // A 1-byte close payload is malformed too.
    const { socket, rest } = await attacker(a.port);
    socket.write(frame(CLOSE, new Uint8Array([0x03])));
    expect((await serverClose(socket, rest)).code).toBe(1002);
    await a.checkWitness();
  });

  it('valid close codes are echoed (1000-1003, 1007-1014, 3000-4999) and an empty close is answered empty', async () => {
    const a = await arena();
    for (const code of [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 3999, 4000, 4999]) {
      const { socket, rest } = await attacker(a.port);
      socket.write(frame(CLOSE, closePayload(code)));
      expect([code, (await serverClose(socket, rest)).code]).toEqual([code, code]);
    }
    const { socket, rest } = await attacker(a.port);
    socket.write(frame(CLOSE));
    expect((await serverClose(socket, rest)).code).toBe(1005);
    await a.checkWitness();
  });

  it('the local program cannot send those codes either (LocalProtocolError)', async () => {
    const a = await arena();
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000]) {
      expect(() => a.witness.close(code)).toThrow(LocalProtocolError);
    }
    expect(a.witness.readyState).toBe(WebSocket.OPEN);
    await a.checkWitness();
  });
});

describe('dead and slow peers', () => {
  it('half-open TCP: a peer that vanished without FIN is terminated by the heartbeat (200 ms pings, 1 s timeout)', async () => {
    // A peer whose machine is gone sends nothing, not even a FIN or RST: from here it is a
    // connection that never answers pings. The heartbeat must end it; the witness, which
    // answers pings, must stay.
    // (Timeouts generous enough for a loaded machine: the witness must answer in time.)
    const a = await arena({ heartbeat: { interval: 200, timeout: 1000 } });
    const { socket } = await attacker(a.port);
    // The attacker never writes again and reads nothing (its kernel still ACKs, which a
    // vanished host would not: that changes nothing the server can see at this layer).
    const closed = a.nextClose();
    const code = await within(closed, 10_000, 'the heartbeat to terminate the silent peer');
    expect(code).toBe(1006);
    // The server destroyed its end: once the attacker looks, the connection is gone.
    const gone = once(socket, 'close');
    socket.resume();
    await within(gone, 5000, 'the TCP connection to be gone');
    await sleep(1500); // several more heartbeat rounds: the witness answers them
    expect(a.witness.readyState).toBe(WebSocket.OPEN);
    await a.checkWitness();
  });

  it('a slow reader during broadcast is closed at maxBufferedAmount (1008); the others receive everything', async () => {
    const maxBufferedAmount = 1 * MiB;
    const a = await arena({ maxBufferedAmount });
    const fast: WebSocket[] = [a.witness];
    for (let i = 0; i < 7; i++) fast.push(await openClient(a.url));
    const received = fast.map(() => ({ count: 0, hash: createHash('sha256') }));
    let counting = true;
    fast.forEach((ws, i) =>
      ws.on('message', (d) => {
        if (!counting) return; // (the witness's own echo check comes after the digests)
        received[i]!.count++;
        received[i]!.hash.update(d as Buffer);
      }),
    );
    const slow = await attacker(a.port); // never reads after the handshake
    await sleep(50);
    const slowServer = a.connections[a.connections.length - 1]!;
    const slowClosed = a.nextClose();
    const sent = createHash('sha256');
    let rounds = 0;
    let peakBuffered = 0;
    const growth = await peakGrowth(async () => {
      // Bounded: at most 1,000 rounds of 64 KiB (64 MiB), far more than the kernel buffers
      // (a few MiB on loopback) plus maxBufferedAmount.
      while (slowServer.readyState === WebSocket.OPEN && rounds < 1000) {
        const message = randomBytes(64 * KiB);
        sent.update(message);
        a.wss.broadcast(message);
        rounds++;
        peakBuffered = Math.max(peakBuffered, wireBacklog(slowServer));
        // Pace the broadcast by the fast clients: wait until they have read this round.
        await within(
          (async () => {
            while (received.some((r) => r.count < rounds)) await sleep(1);
          })(),
          10_000,
          'the fast clients to read a round',
        );
      }
    });
    expect(await within(slowClosed, 5000, 'the slow reader to be closed')).toBe(1008);
    note('slow reader broadcast', { rounds, sentBytes: rounds * 64 * KiB, peakBufferedAmount: peakBuffered, buffers: growth.buffers, rss: growth.rss });
    expect(a.errors.some((e) => (e as { code?: string }).code === 'WS_ERR_BUFFER_LIMIT')).toBe(true);
    // The slow one was cut as soon as its buffer passed the limit (plus one message).
    expect(peakBuffered).toBeLessThanOrEqual(maxBufferedAmount + 64 * KiB);
    expect(rounds).toBeLessThan(1000);
    counting = false;
    const digest = sent.digest('hex');
    for (const r of received) expect([r.count, r.hash.digest('hex')]).toEqual([rounds, digest]);
    // Memory: the slow client's queue is bounded by maxBufferedAmount; generous bound for
    // 8 receivers' in-flight messages and the sockets' buffers.
    expect(growth.buffers, `buffers grew by ${mb(growth.buffers)}`).toBeLessThan(64 * MiB);
    slow.socket.destroy();
    await a.checkWitness();
  });
});

describe('close reasons given as TypedArrays (ws CVE-2026-45736, CVE-2016-10518)', () => {
  /** Opens a raw attacker and returns its server-side WebSocket. */
  async function serverSide(): Promise<{ ws: WebSocket; socket: import('node:net').Socket; rest: Buffer }> {
    const a = await arena();
    const { socket, rest } = await attacker(a.port);
    await sleep(20);
    return { ws: a.connections[a.connections.length - 1]!, socket, rest };
  }

  it('sends exactly the bytes a TypedArray or DataView views, never other memory', async () => {
    const backing = new Uint8Array(64);
    for (let i = 0; i < backing.length; i++) backing[i] = 0x41 + (i % 26); // A..Z
    const u16 = new Uint16Array(backing.buffer, 8, 10); // 20 bytes: I..Z,A,B
    const cases: Array<[string, ArrayBufferView | ArrayBuffer, Buffer]> = [
      ['Uint16Array view', u16, Buffer.from(backing.buffer, 8, 20)],
      ['Uint8Array subarray', backing.subarray(3, 9), Buffer.from(backing.buffer, 3, 6)],
      ['Float64Array', new Float64Array([1.5]), Buffer.from(new Float64Array([1.5]).buffer)],
      ['DataView', new DataView(backing.buffer, 30, 5), Buffer.from(backing.buffer, 30, 5)],
      ['ArrayBuffer', backing.buffer.slice(0, 4), Buffer.from(backing.buffer, 0, 4)],
    ];
    for (const [name, reason, expected] of cases) {
      const { ws, socket, rest } = await serverSide();
      ws.close(1000, reason as Buffer);
      // The close frame arrives; the attacker never answers (the close timeout would end it).
      const frames = await readFramesUntil(socket, rest, (f) => f.some((x) => x.opcode === CLOSE));
      const wire = frames.find((f) => f.opcode === CLOSE)!.payload;
      expect([name, wire.subarray(2).toString('hex')]).toEqual([name, expected.toString('hex')]);
      expect(wire.length).toBe(2 + expected.length);
    }
  });

  it('a reason over 123 bytes throws, counted in bytes, not elements', async () => {
    const { ws } = await serverSide();
    expect(() => ws.close(1000, new Uint16Array(62) as unknown as Buffer)).toThrow(LocalProtocolError); // 124 bytes
    expect(() => ws.close(1000, 'é'.repeat(62))).toThrow(LocalProtocolError); // 124 bytes of UTF-8
    expect(() => ws.close(1000, 12 as unknown as Buffer)).toThrow(TypeError); // a number is no reason
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close(1000, new Uint8Array(123) as Buffer);
    expect(ws.readyState).toBe(WebSocket.CLOSING);
  });

  it('pings and pongs given TypedArrays send the viewed bytes (the same conversion)', async () => {
    const { ws, socket, rest } = await serverSide();
    const backing = Uint8Array.from({ length: 32 }, (_, i) => i);
    ws.ping(new Uint16Array(backing.buffer, 4, 3)); // bytes 4..9
    ws.pong(new DataView(backing.buffer, 30, 2)); // bytes 30, 31
    ws.close(1000);
    const frames = await readFramesUntil(socket, rest, (f) => f.some((x) => x.opcode === CLOSE));
    expect(frames.map((f) => [f.opcode, f.payload.toString('hex')])).toEqual([
      [PING, '040506070809'],
      [PONG, '1e1f'],
      [CLOSE, '03e8'],
    ]);
  });
});
