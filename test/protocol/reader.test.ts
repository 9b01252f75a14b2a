/**
 * FrameReader: violations (close code + message), split invariance (every stream in
 * 1-byte pieces and random splits gives identical frames and errors), large frames
 * assembled with one allocation, the flood rule.
 */
import { describe, expect, it } from 'vitest';

import { LocalProtocolError, ParseFailed } from '../../src/errors';
import { DEFAULT_MAX_FRAGMENTS } from '../../src/limits';
import { FrameReader, type FrameReaderOptions } from '../../src/protocol/reader';
import { cat, split, wire, type WireFrame } from '../helpers/wire';

type Role = FrameReaderOptions['role'];

/** Frames as [info, hex payload], then the error as "code: message" if any. */
function readAll(pieces: Uint8Array[], options: FrameReaderOptions): { frames: Array<[number, string]>; error: string | null } {
  const reader = new FrameReader(options);
  const frames: Array<[number, string]> = [];
  let error: string | null = null;
  try {
    for (const p of pieces) reader.feed(p, (info, payload) => frames.push([info, Buffer.from(payload).toString('hex')]));
  } catch (err) {
    if (!(err instanceof ParseFailed)) throw err;
    error = `${err.code}: ${err.message}`;
  }
  return { frames, error };
}

/** The stream framed for `role`'s peer: clients mask. */
function stream(role: Role, frames: WireFrame[]): Uint8Array {
  return cat(...frames.map((f) => wire({ mask: role === 'server', ...f })));
}

const K = true; // masked with the test key

interface Violation {
  name: string;
  role?: Role;
  frames: WireFrame[];
  options?: Partial<FrameReaderOptions>;
  code: number;
  message: RegExp;
  /** Frames delivered before the error. */
  before?: number;
}

const violations: Violation[] = [
  { name: 'RSV1 without an extension', frames: [{ opcode: 1, rsv: 4, payload: 'a' }], code: 1002, message: /reserved bits RSV1 set on a TEXT frame/ },
  { name: 'RSV2', frames: [{ opcode: 2, rsv: 2 }], code: 1002, message: /reserved bits RSV2/ },
  { name: 'RSV3 with RSV1 allowed', frames: [{ opcode: 2, rsv: 1 }], options: { allowedRsv: 4 }, code: 1002, message: /RSV3/ },
  { name: 'RSV1 on a continuation', frames: [{ opcode: 1, rsv: 4, fin: false }, { opcode: 0, rsv: 4 }], options: { allowedRsv: 4 }, code: 1002, message: /RSV1 set on a continuation frame/, before: 1 },
  { name: 'RSV1 on a ping', frames: [{ opcode: 9, rsv: 4 }], options: { allowedRsv: 4 }, code: 1002, message: /RSV1 set on control frame PING/ },
  ...[3, 7, 11, 15].map((op) => ({ name: `reserved opcode ${op}`, frames: [{ opcode: op }], code: 1002, message: new RegExp(`reserved opcode 0x${op.toString(16)}`) })),
  { name: 'ping without FIN', frames: [{ opcode: 9, fin: false }], code: 1002, message: /fragmented control frame: PING without FIN/ },
  { name: 'ping of 126 bytes', frames: [{ opcode: 9, payload: new Uint8Array(126) }], code: 1002, message: /control frame PING with a payload longer than 125/ },
  { name: 'close of 1 byte', frames: [{ opcode: 8, payload: Uint8Array.of(3) }], code: 1002, message: /close frame with a 1-byte payload/ },
  ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535].map((c) => ({
    name: `close code ${c}`,
    frames: [{ opcode: 8, payload: Uint8Array.of(c >> 8, c & 0xff) }],
    code: 1002,
    message: new RegExp(`invalid close code ${c}\\b`),
  })),
  { name: 'close reason not UTF-8', frames: [{ opcode: 8, payload: Uint8Array.of(3, 232, 0xc0, 0x80) }], code: 1007, message: /close reason is not valid UTF-8/ },
  { name: 'close reason cut in a sequence', frames: [{ opcode: 8, payload: Uint8Array.of(3, 232, 0xe2, 0x82) }], code: 1007, message: /close reason/ },
  { name: 'unmasked client frame', frames: [{ opcode: 1, payload: 'a', mask: false }], code: 1002, message: /unmasked frame from a client/ },
  { name: 'masked server frame', role: 'client', frames: [{ opcode: 1, payload: 'a', mask: K }], code: 1002, message: /masked frame from a server/ },
  { name: '64-bit length with the MSB set', frames: [{ opcode: 2, length64: 2n ** 63n }], code: 1002, message: /most significant bit/ },
  { name: 'length 2^53', frames: [{ opcode: 2, length64: 2n ** 53n }], code: 1009, message: /frame payload of 9007199254740992 bytes exceeds maxPayload/ },
  { name: 'frame over maxPayload', frames: [{ opcode: 2, payload: new Uint8Array(101) }], options: { maxPayload: 100 }, code: 1009, message: /frame payload of 101 bytes exceeds maxPayload \(100 bytes\)/ },
  {
    name: 'fragments over maxPayload',
    frames: [{ opcode: 2, fin: false, payload: new Uint8Array(60) }, { opcode: 0, payload: new Uint8Array(41) }],
    options: { maxPayload: 100 },
    code: 1009,
    message: /fragmented message exceeds maxPayload \(100 bytes\)/,
    before: 1,
  },
  { name: 'continuation without a message', frames: [{ opcode: 0, payload: 'x' }], code: 1002, message: /continuation frame without a fragmented message/ },
  { name: 'new message inside a fragmented one', frames: [{ opcode: 1, fin: false, payload: 'a' }, { opcode: 9 }, { opcode: 2 }], code: 1002, message: /new BINARY frame inside a fragmented message/, before: 2 },
  { name: 'invalid UTF-8', frames: [{ opcode: 1, payload: Uint8Array.of(0x61, 0xff) }], code: 1007, message: /invalid UTF-8 in a text message \(byte 0xff\) \(at stream byte 7\)/ },
  { name: 'surrogate in text', frames: [{ opcode: 1, payload: Uint8Array.of(0xed, 0xa0, 0x80) }], code: 1007, message: /invalid UTF-8.*0xa0/ },
  { name: 'overlong in text', frames: [{ opcode: 1, payload: Uint8Array.of(0xc0, 0xaf) }], code: 1007, message: /invalid UTF-8.*0xc0/ },
  { name: 'text ends inside a sequence', frames: [{ opcode: 1, fin: false, payload: 'a' }, { opcode: 0, payload: Uint8Array.of(0xe2, 0x82) }], code: 1007, message: /text message ends inside a UTF-8 sequence/, before: 1 },
  {
    name: 'invalid UTF-8 in a non-final fragment fails before the message ends',
    frames: [{ opcode: 1, fin: false, payload: 'ok' }, { opcode: 0, fin: false, payload: Uint8Array.of(0xf5) }],
    code: 1007,
    message: /invalid UTF-8/,
    before: 1,
  },
];

function violationStream(v: Violation): Uint8Array {
  return stream(v.role ?? 'server', v.frames);
}

describe('FrameReader: violations', () => {
  for (const v of violations) {
    it(`${v.name} -> ${v.code}`, () => {
      const { frames, error } = readAll([violationStream(v)], { role: v.role ?? 'server', ...v.options });
      expect(error).toMatch(new RegExp(`^${v.code}: `));
      expect(error!.slice(6)).toMatch(v.message);
      expect(frames.length).toBe(v.before ?? 0);
    });
  }

  it('processes nothing after an error, and keeps throwing it', () => {
    const reader = new FrameReader({ role: 'server' });
    const seen: number[] = [];
    const bad = cat(wire({ opcode: 1, payload: 'a', mask: true }), wire({ opcode: 3, mask: true }), wire({ opcode: 1, payload: 'b', mask: true }));
    expect(() => reader.feed(bad, (info) => seen.push(info))).toThrow(ParseFailed);
    expect(seen.length).toBe(1);
    expect(() => reader.feed(wire({ opcode: 1, payload: 'c', mask: true }), (info) => seen.push(info))).toThrow(/reserved opcode/);
    expect(seen.length).toBe(1);
  });

  it('accepts every close code valid on the wire and an empty close', () => {
    for (const c of [1000, 1003, 1007, 1011, 1014, 3000, 3999, 4000, 4999]) {
      const { error } = readAll([wire({ opcode: 8, payload: Uint8Array.of(c >> 8, c & 0xff, 0x68, 0x69), mask: true })], { role: 'server' });
      expect(error).toBeNull();
    }
    expect(readAll([wire({ opcode: 8, mask: true })], { role: 'server' }).error).toBeNull();
  });
});

const validStreams: Array<{ name: string; role: Role; frames: WireFrame[] }> = [
  {
    name: 'mixed messages with controls between fragments',
    role: 'server',
    frames: [
      { opcode: 1, payload: 'Hello, ' , fin: false },
      { opcode: 9, payload: 'ping' },
      { opcode: 0, payload: 'wörld ', fin: false },
      { opcode: 0, payload: '€𝄞' },
      { opcode: 2, payload: new Uint8Array(300).fill(1) },
      { opcode: 2, payload: new Uint8Array(70000).map((_, i) => i) },
      { opcode: 10 },
      { opcode: 1, payload: '' },
      { opcode: 8, payload: Uint8Array.of(3, 232, 0x62, 0x79, 0x65) },
    ],
  },
  {
    name: 'a character split across fragments',
    role: 'client',
    frames: [
      { opcode: 1, payload: Uint8Array.of(0xf0, 0x9d), fin: false },
      { opcode: 0, payload: Uint8Array.of(0x84), fin: false },
      { opcode: 0, payload: Uint8Array.of(0x9e, 0x61) },
    ],
  },
];

describe('FrameReader: every split gives the same result', () => {
  const cases = [
    ...validStreams.map((s) => ({ name: s.name, role: s.role, bytes: stream(s.role, s.frames), options: {} })),
    ...violations.map((v) => ({ name: v.name, role: v.role ?? ('server' as Role), bytes: violationStream(v), options: v.options ?? {} })),
  ];
  for (const c of cases) {
    it(c.name, () => {
      const opts = { role: c.role, ...c.options };
      const whole = readAll([c.bytes.slice()], opts);
      if (validStreams.some((s) => s.name === c.name)) expect(whole.error).toBeNull();
      // Pieces are fresh copies: the reader unmasks in place.
      expect(readAll(split(c.bytes, 1), opts)).toEqual(whole);
      for (const seed of [1, 2, 3]) expect(readAll(split(c.bytes, 'random', seed), opts)).toEqual(whole);
      expect(readAll(split(c.bytes, 130), { ...opts, batchSize: 1 })).toEqual(whole);
    });
  }

  it('the queue API gives the same frames as feed()', () => {
    const bytes = stream('server', validStreams[0]!.frames);
    const reader = new FrameReader({ role: 'server' });
    for (const p of split(bytes, 'random', 9)) reader.push(p);
    const frames = [...reader.frames()].map((f) => [f.info, Buffer.from(f.payload).toString('hex')]);
    expect(frames).toEqual(readAll([bytes.slice()], { role: 'server' }).frames);
  });
});

describe('FrameReader: large frames and limits', () => {
  it('assembles a 16 MiB frame from 64 KiB chunks with few allocations and linear copying', () => {
    const size = 16 * 1024 * 1024;
    const header = wire({ opcode: 2, length64: BigInt(size), mask: true });
    const bytes = new Uint8Array(header.length + size);
    bytes.set(header);
    // payload byte i is (i * 7) & 0xff after unmasking
    const key = header.subarray(header.length - 4);
    for (let i = 0; i < size; i++) bytes[header.length + i] = ((i * 7) & 0xff) ^ key[i & 3]!;
    const reader = new FrameReader({ role: 'server' });
    const got: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += 65536) reader.feed(bytes.subarray(at, at + 65536), (_i, p) => got.push(p));
    expect(got.length).toBe(1);
    expect(got[0]!.length).toBe(size);
    expect(reader.stats.assemblies).toBe(1);
    expect(reader.stats.assembledBytes).toBe(size);
    // The buffer grows with the data (64 KiB doubling to 16 MiB): 9 allocations, < 2x bytes.
    expect(reader.stats.allocations).toBeLessThanOrEqual(10);
    expect(reader.stats.allocatedBytes).toBeLessThan(2 * size);
    for (const i of [0, 1, 65535, 65536, size - 1]) expect(got[0]![i]).toBe((i * 7) & 0xff);
  });

  it('reserves memory for the bytes received, not the length a header announces', () => {
    // A header announcing 64 MiB followed by 1 byte must not allocate 64 MiB (docs/security.md).
    const reader = new FrameReader({ role: 'server' });
    const header = wire({ opcode: 2, length64: BigInt(64 * 1024 * 1024), mask: true });
    reader.feed(cat(header, new Uint8Array(1)), () => undefined);
    expect(reader.stats.allocatedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(reader.pending).toBe(true);
  });

  it('allocates a small split frame once at its final size', () => {
    const reader = new FrameReader({ role: 'server' });
    const bytes = wire({ opcode: 2, payload: new Uint8Array(5000).fill(1), mask: true });
    const got: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += 1000) reader.feed(bytes.slice(at, at + 1000), (_i, p) => got.push(p));
    expect(got.map((p) => p.length)).toEqual([5000]);
    expect([reader.stats.allocations, reader.stats.allocatedBytes]).toEqual([1, 5000]);
  });

  it('delivers frames inside one chunk zero-copy', () => {
    const chunk = cat(wire({ opcode: 2, payload: 'abc', mask: true }), wire({ opcode: 2, payload: 'de', mask: true }));
    const reader = new FrameReader({ role: 'server' });
    const got: Uint8Array[] = [];
    reader.feed(chunk, (_i, p) => got.push(p));
    expect(got.map((p) => p.buffer === chunk.buffer)).toEqual([true, true]);
    expect(reader.stats.assemblies).toBe(0);
  });

  it('fragment limit: 65,536 fragments of 64 bytes pass under the default limits', () => {
    const n = 65536;
    const mid = wire({ opcode: 0, fin: false, payload: new Uint8Array(64), mask: true });
    const bytes = cat(wire({ opcode: 2, fin: false, payload: new Uint8Array(64), mask: true }), new Uint8Array(mid.length * (n - 2)), wire({ opcode: 0, payload: new Uint8Array(64), mask: true }));
    for (let i = 0; i < n - 2; i++) bytes.set(mid, mid.length * (i + 1));
    const reader = new FrameReader({ role: 'server' });
    let frames = 0;
    let total = 0;
    for (let at = 0; at < bytes.length; at += 65536) {
      reader.feed(bytes.subarray(at, at + 65536), (_i, p) => {
        frames++;
        total += p.length;
      });
    }
    expect(frames).toBe(n);
    expect(total).toBe(4 * 1024 * 1024);
  });

  it('fragment limit: 10^6 empty fragments are refused with 1008 after maxFragments', () => {
    const n = 1_000_000;
    const mid = wire({ opcode: 0, fin: false, mask: true });
    const bytes = new Uint8Array(mid.length * n);
    bytes.set(wire({ opcode: 2, fin: false, mask: true }), 0);
    for (let i = 1; i < n; i++) bytes.set(mid, mid.length * i);
    const reader = new FrameReader({ role: 'server' });
    let frames = 0;
    let error: unknown = null;
    try {
      for (let at = 0; at < bytes.length; at += 65536) reader.feed(bytes.subarray(at, at + 65536), () => frames++);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ParseFailed);
    expect((error as ParseFailed).code).toBe(1008);
    expect((error as ParseFailed).message).toMatch(/more fragments than maxFragments/);
    expect(frames).toBe(DEFAULT_MAX_FRAGMENTS);
  });

  it('fragment limit: maxFragments frames pass, one more is refused; a new message starts from zero; 0 disables', () => {
    const message = (n: number): Uint8Array => {
      const mid = wire({ opcode: 0, fin: false, payload: 'x', mask: true });
      const out = new Uint8Array(mid.length * n);
      for (let i = 0; i < n; i++) out.set(i === 0 || i === n - 1 ? wire({ opcode: i === 0 ? 1 : 0, fin: i === n - 1, payload: 'x', mask: true }) : mid, i * mid.length);
      return out;
    };
    const count = (reader: FrameReader, bytes: Uint8Array): number => {
      let frames = 0;
      reader.feed(bytes, () => frames++);
      return frames;
    };
    const reader = new FrameReader({ role: 'server', maxFragments: 3 });
    expect(count(reader, cat(message(3), message(1), message(3)))).toBe(7);
    expect(() => count(reader, message(4))).toThrow(/more fragments than maxFragments/);
    expect((reader.error as ParseFailed).code).toBe(1008);
    expect(count(new FrameReader({ role: 'server', maxFragments: 0 }), message(200_000))).toBe(200_000);
    expect(() => new FrameReader({ role: 'server', maxFragments: -1 })).toThrow(RangeError);
  });

  it('a handler that throws: the exception propagates, and the reader refuses to go on with a gap', () => {
    const reader = new FrameReader({ role: 'server' });
    const two = cat(wire({ opcode: 1, payload: 'a', mask: true }), wire({ opcode: 1, payload: 'b', mask: true }));
    const boom = new Error('listener bug');
    expect(() =>
      reader.feed(two, () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(() => reader.feed(wire({ opcode: 1, payload: 'c', mask: true }), () => undefined)).toThrow(LocalProtocolError);
  });
});

describe('FrameReader: parser state is per reader (one ctl array serves all of them)', () => {
  // Two streams whose readers are mid-frame and mid-message at different points: a
  // fragmented text message with a multi-byte character cut between fragments, a large
  // binary frame, pings in between; and a different masked stream with its own message.
  const streamA = stream('server', [
    { opcode: 1, fin: false, payload: 'héllo ' },
    { opcode: 9, payload: 'pingA' },
    { opcode: 0, fin: false, payload: Uint8Array.of(0xe2, 0x82) },
    { opcode: 0, payload: Uint8Array.of(0xac, 0x21) },
    { opcode: 2, payload: new Uint8Array(70_000).map((_, i) => i * 7) },
    { opcode: 1, payload: 'done' },
  ]);
  const streamB = stream('server', [
    { opcode: 2, fin: false, payload: new Uint8Array(3000).fill(0xb0) },
    { opcode: 10, payload: 'pongB' },
    { opcode: 0, payload: new Uint8Array(5000).fill(0xb1) },
    { opcode: 1, payload: 'ünïcode B' },
  ]);
  // Readers unmask in place: every use gets its own copy of a stream.
  const fresh = (bytes: Uint8Array): Uint8Array => Uint8Array.from(bytes);
  const alone = (bytes: Uint8Array): ReturnType<typeof readAll> => readAll([fresh(bytes)], { role: 'server' });

  it('interleaved readers give the same frames as each read alone', () => {
    for (const seed of [1, 2, 3, 4]) {
      const piecesA = split(fresh(streamA), 'random', seed);
      const piecesB = split(fresh(streamB), 'random', seed + 10);
      const a = new FrameReader({ role: 'server' });
      const b = new FrameReader({ role: 'server' });
      const gotA: Array<[number, string]> = [];
      const gotB: Array<[number, string]> = [];
      for (let i = 0; i < Math.max(piecesA.length, piecesB.length); i++) {
        if (i < piecesA.length) a.feed(piecesA[i]!, (info, p) => gotA.push([info, Buffer.from(p).toString('hex')]));
        if (i < piecesB.length) b.feed(piecesB[i]!, (info, p) => gotB.push([info, Buffer.from(p).toString('hex')]));
      }
      expect(gotA).toEqual(alone(streamA).frames);
      expect(gotB).toEqual(alone(streamB).frames);
      expect(a.pending).toBe(false);
      expect(b.pending).toBe(false);
    }
  });

  it('a frame handler that feeds another reader does not disturb the reader calling it', () => {
    // batchSize 1: every frame of A is its own parse call, so A parses again after each
    // handler has run B's parser.
    const a = new FrameReader({ role: 'server', batchSize: 1 });
    const b = new FrameReader({ role: 'server' });
    const piecesB = split(fresh(streamB), 'random', 5);
    const gotA: Array<[number, string]> = [];
    const gotB: Array<[number, string]> = [];
    for (const piece of split(fresh(streamA), 'random', 6)) {
      a.feed(piece, (info, p) => {
        gotA.push([info, Buffer.from(p).toString('hex')]);
        const next = piecesB.shift();
        if (next !== undefined) b.feed(next, (bi, bp) => gotB.push([bi, Buffer.from(bp).toString('hex')]));
      });
    }
    for (const rest of piecesB) b.feed(rest, (bi, bp) => gotB.push([bi, Buffer.from(bp).toString('hex')]));
    expect(gotA).toEqual(alone(streamA).frames);
    expect(gotB).toEqual(alone(streamB).frames);
  });

  it('keeps no state object between messages, and one while a frame is in progress', () => {
    const reader = new FrameReader({ role: 'server' });
    const internals = reader as unknown as { state: number[] | null };
    const frame = wire({ opcode: 1, payload: 'complete', mask: true });
    reader.feed(frame, () => {});
    expect(internals.state).toBeNull();
    expect(reader.pending).toBe(false);
    const big = wire({ opcode: 2, payload: new Uint8Array(1000), mask: true });
    reader.feed(big.subarray(0, 500), () => {});
    expect(reader.pending).toBe(true);
    expect(internals.state).not.toBeNull();
    let delivered = 0;
    reader.feed(big.subarray(500), (_info, payload) => (delivered = payload.length));
    expect(delivered).toBe(1000);
    expect(reader.pending).toBe(false);
  });

  it('a violation found by a later parse call is reported with the reader’s own limit', () => {
    const reader = new FrameReader({ role: 'server', maxPayload: 100 });
    const other = new FrameReader({ role: 'server', maxPayload: 1 << 20 });
    other.feed(wire({ opcode: 2, payload: new Uint8Array(50), mask: true }).subarray(0, 10), () => {});
    expect(() => reader.feed(wire({ opcode: 2, payload: new Uint8Array(101), mask: true }), () => {})).toThrow(/exceeds maxPayload \(100 bytes\)/);
  });
});

describe('FrameReader: a violation survives a handler that parses with another reader', () => {
  it('the error of the outer reader is the one it found, after the frames before it', () => {
    // Outer: a good frame, then an RSV2 violation in the same chunk. Its handler feeds another
    // reader a valid frame, whose parse call rewrites the shared ctl's result slots.
    const outer = new FrameReader({ role: 'server' });
    const inner = new FrameReader({ role: 'server' });
    const bad = cat(wire({ opcode: 1, payload: 'first', mask: true }), wire({ opcode: 2, rsv: 2, payload: 'x', mask: true }));
    const innerGot: number[] = [];
    const outerGot: string[] = [];
    expect(() =>
      outer.feed(bad, (_info, payload) => {
        outerGot.push(Buffer.from(payload).toString());
        inner.feed(wire({ opcode: 2, payload: new Uint8Array(3), mask: true }), (_i, p) => innerGot.push(p.length));
      }),
    ).toThrow(/reserved bits RSV2/);
    expect(outerGot).toEqual(['first']);
    expect(innerGot).toEqual([3]);
    expect(outer.error?.code).toBe(1002);
    expect(inner.error).toBeNull();
  });
});
