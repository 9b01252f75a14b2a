import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { LocalProtocolError, ParseFailed } from '../../src/errors';
import type { Extension } from '../../src/extensions/extension';
import type { RsvBits } from '../../src/frames/rsv';
import {
  ACCEPT_GUID,
  Close,
  CLOSE_CODE_NAMES,
  CloseCode,
  CTRL_OPCODES,
  DATA_OPCODES,
  Frame,
  frameHeaderSize,
  generateMaskKey,
  isValidCloseCode,
  LOCAL_ONLY_CLOSE_CODES,
  LOCAL_ONLY_CLOSE_REASONS,
  MAX_CLOSE_REASON_BYTES,
  Opcode,
  writeFrameHeader,
} from '../../src/frames/frame';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const bytes = (...parts: Array<string | Uint8Array>): Uint8Array =>
  Uint8Array.from(Buffer.concat(parts.map((p) => (typeof p === 'string' ? hex(p) : p))));
const hexOf = (data: Uint8Array): string => Buffer.from(data).toString('hex');
const text = (data: Uint8Array): string => Buffer.from(data).toString('utf8');
const RFC_KEY = hex('37fa213d');
const ramp = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);

function expectParseFailed(fn: () => unknown, closeCode: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ParseFailed);
  expect((caught as ParseFailed).closeCode).toBe(closeCode);
}

// RFC 6455 §5.7 examples, plus the 256-byte and 64 KiB binary length encodings.
const fixtures: Array<{ name: string; wire: Uint8Array; mask: boolean; opcode: Opcode; fin: boolean; data: Uint8Array }> = [
  { name: 'unmasked text "Hello"', wire: hex('81 05 48656c6c6f'), mask: false, opcode: Opcode.TEXT, fin: true, data: hex('48656c6c6f') },
  { name: 'masked text "Hello"', wire: hex('81 85 37fa213d 7f9f4d5158'), mask: true, opcode: Opcode.TEXT, fin: true, data: hex('48656c6c6f') },
  { name: 'fragment "Hel"', wire: hex('01 03 48656c'), mask: false, opcode: Opcode.TEXT, fin: false, data: hex('48656c') },
  { name: 'fragment "lo"', wire: hex('80 02 6c6f'), mask: false, opcode: Opcode.CONT, fin: true, data: hex('6c6f') },
  { name: 'unmasked ping "Hello"', wire: hex('89 05 48656c6c6f'), mask: false, opcode: Opcode.PING, fin: true, data: hex('48656c6c6f') },
  { name: 'masked pong "Hello"', wire: hex('8a 85 37fa213d 7f9f4d5158'), mask: true, opcode: Opcode.PONG, fin: true, data: hex('48656c6c6f') },
  { name: '256-byte binary', wire: bytes('82 7e 0100', ramp(256)), mask: false, opcode: Opcode.BINARY, fin: true, data: ramp(256) },
  { name: '64 KiB binary', wire: bytes('82 7f 0000000000010000', ramp(65536)), mask: false, opcode: Opcode.BINARY, fin: true, data: ramp(65536) },
];

describe('Frame.parse: RFC 6455 §5.7 examples', () => {
  it.each(fixtures)('$name', ({ wire, mask, opcode, fin, data }) => {
    const result = Frame.parse(wire, { mask });
    expect(result).not.toBeNull();
    expect(result!.consumed).toBe(wire.length);
    expect(result!.frame.opcode).toBe(opcode);
    expect(result!.frame.fin).toBe(fin);
    expect([result!.frame.rsv1, result!.frame.rsv2, result!.frame.rsv3]).toEqual([false, false, false]);
    expect(Buffer.from(result!.frame.data).equals(data)).toBe(true);
  });

  it.each(fixtures)('$name: null for every incomplete prefix', ({ wire, mask }) => {
    for (let k = 0; k < wire.length; k++) {
      if (Frame.parse(wire.subarray(0, k), { mask }) !== null) throw new Error(`prefix of ${k} bytes parsed`);
    }
    expect(Frame.parse(wire, { mask })).not.toBeNull();
  });

  it('reports consumed bytes so that frames can be parsed back to back', () => {
    const stream = bytes(fixtures[2]!.wire, fixtures[4]!.wire, fixtures[3]!.wire, 'ff');
    const seen: string[] = [];
    let at = 0;
    for (let r = Frame.parse(stream, { mask: false }); r !== null; r = Frame.parse(stream.subarray(at), { mask: false })) {
      seen.push(`${Opcode[r.frame.opcode]}:${text(r.frame.data)}`);
      at += r.consumed;
      if (at === stream.length - 1) break;
    }
    expect(seen).toEqual(['TEXT:Hel', 'PING:Hello', 'CONT:lo']);
    expect(at).toBe(stream.length - 1);
  });

  it('does not modify the input when unmasking', () => {
    const wire = hex('81 85 37fa213d 7f9f4d5158');
    Frame.parse(wire, { mask: true });
    expect(Buffer.from(wire).toString('hex')).toBe('818537fa213d7f9f4d5158');
  });
});

describe('Frame.parse: protocol errors', () => {
  const cases: Array<[string, Uint8Array, boolean, number, number?]> = [
    ['reserved data opcode 3', hex('83 00'), false, 1002],
    ['reserved control opcode 0xB', hex('8b 00'), false, 1002],
    ['RSV1 without extension', hex('c1 00'), false, 1002],
    ['RSV2 without extension', hex('a1 00'), false, 1002],
    ['RSV3 without extension', hex('91 00'), false, 1002],
    ['unmasked frame to a server', hex('81 05 48656c6c6f'), true, 1002],
    ['masked frame to a client', hex('81 85 37fa213d 7f9f4d5158'), false, 1002],
    ['fragmented ping', hex('09 00'), false, 1002],
    ['close of 126 bytes (16-bit length)', hex('88 7e 007e'), false, 1002],
    ['ping announcing 64-bit length', hex('89 7f 0000000000000001'), false, 1002],
    ['64-bit length with the most significant bit set', hex('82 7f 8000000000000000'), false, 1002],
    ['64-bit length of 2^53', hex('82 7f 0020000000000000'), false, 1009],
    ['64-bit length of 2^63-1', hex('82 7f 7fffffffffffffff'), false, 1009],
    ['payload over maxSize (7-bit)', hex('82 0b'), false, 1009, 10],
    ['payload over maxSize (16-bit)', hex('82 7e 0401'), false, 1009, 1024],
  ];
  it.each(cases)('%s -> %d, from the header alone', (_name, wire, mask, code, maxSize) => {
    // No payload bytes follow: errors are detected before the payload arrives.
    expectParseFailed(() => Frame.parse(wire, { mask, maxSize }), code);
  });

  it('keeps 2^53-1 exact: an incomplete frame (null), or 1009 naming the exact size', () => {
    const wire = hex('82 7f 001fffffffffffff');
    expect(Frame.parse(wire, { mask: false })).toBeNull();
    expect(() => Frame.parse(wire, { mask: false, maxSize: 1 << 20 })).toThrow(/9007199254740991/);
  });

  it('accepts a frame of exactly maxSize bytes', () => {
    expect(hexOf(Frame.parse(hex('82 02 0102'), { mask: false, maxSize: 2 })!.frame.data)).toBe('0102');
  });
});

/** A stand-in extension that claims RSV1 and upper-cases ASCII payloads it marked. */
function upperCaseExtension(): Extension & { calls: string[] } {
  let active = false;
  const calls: string[] = [];
  return {
    calls,
    name: 'x-upper',
    rsvMask: 0x4,
    enabled: () => true,
    offer: () => true,
    accept: () => true,
    finalize: () => undefined,
    frameInboundHeader(opcode: Opcode, rsv: RsvBits): RsvBits {
      calls.push(`header ${opcode}`);
      if (opcode !== Opcode.CONT) active = rsv.rsv1;
      return { ...rsv, rsv1: false };
    },
    frameInboundPayloadData(data: Uint8Array): Uint8Array {
      calls.push('data');
      return active ? Buffer.from(text(data).toUpperCase()) : data;
    },
    frameInboundComplete(fin: boolean): Uint8Array | null {
      calls.push(`complete ${fin}`);
      return active && fin ? Buffer.from('!') : null;
    },
    frameOutbound: (_opcode, rsv, data) => ({ rsv, data }),
  };
}

describe('Frame.parse with extensions', () => {
  it('lets an extension claim RSV1 and transform the payload', () => {
    const ext = upperCaseExtension();
    const result = Frame.parse(hex('c1 02 6869'), { mask: false, extensions: [ext] });
    expect(result!.frame.rsv1).toBe(false);
    expect(text(result!.frame.data)).toBe('HI!');
    expect(ext.calls).toEqual(['header 1', 'data', 'complete true']);
  });

  it('still rejects bits no extension claims, and control frames skip payload hooks', () => {
    const ext = upperCaseExtension();
    expectParseFailed(() => Frame.parse(hex('a1 00'), { mask: false, extensions: [ext] }), 1002);
    expect(text(Frame.parse(hex('89 02 6869'), { mask: false, extensions: [ext] })!.frame.data)).toBe('hi');
    expect(ext.calls).toEqual(['header 9']);
  });
});

describe('Frame.serialize', () => {
  it.each(fixtures.filter((f) => !f.mask))('$name: unmasked bytes equal the fixture', ({ wire, opcode, fin, data }) => {
    expect(Buffer.from(new Frame(opcode, data, { fin }).serialize({ mask: false })).equals(wire)).toBe(true);
  });

  it.each(fixtures.filter((f) => f.mask))('$name: masked with key 37 fa 21 3d equals the fixture', ({ wire, opcode, data }) => {
    const frame = new Frame(opcode, data);
    expect(Buffer.from(frame.serialize({ mask: true, maskKey: RFC_KEY })).equals(wire)).toBe(true);
    expect(text(frame.data)).toBe('Hello'); // the frame's payload is left unmasked
  });

  it.each([
    [0, '8200'],
    [125, '827d'],
    [126, '827e007e'],
    [65535, '827effff'],
    [65536, '827f0000000000010000'],
  ])('uses the shortest length encoding for %d bytes', (length, header) => {
    const wire = new Frame(Opcode.BINARY, new Uint8Array(length)).serialize({ mask: false });
    expect(wire.length).toBe(header.length / 2 + length);
    expect(Buffer.from(wire.subarray(0, header.length / 2)).toString('hex')).toBe(header);
  });

  it('writes 64-bit lengths above 2^32 in network byte order', () => {
    const target = new Uint8Array(14);
    const key = hex('01020304');
    const size = writeFrameHeader(target, 0, { opcode: Opcode.BINARY, length: 2 ** 40 + 2 ** 32 + 5, rsv: 0x4, maskKey: key });
    expect(size).toBe(14);
    expect(size).toBe(frameHeaderSize(2 ** 40, true));
    expect(Buffer.from(target).toString('hex')).toBe('c2ff000001010000000501020304');
    expect(() => writeFrameHeader(target, 0, { opcode: 2, length: 2 ** 53 })).toThrow(RangeError);
  });

  it('masks with a fresh random key that parses back', () => {
    const frame = new Frame(Opcode.TEXT, 'random key');
    const keys = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const wire = frame.serialize({ mask: true });
      keys.add(Buffer.from(wire.subarray(2, 6)).toString('hex'));
      expect(text(Frame.parse(wire, { mask: true })!.frame.data)).toBe('random key');
    }
    expect(keys.size).toBeGreaterThan(1);
    expect(generateMaskKey()).toHaveLength(4);
  });

  it('writes the RSV bits it is given and rejects control-frame violations', () => {
    const wire = new Frame(Opcode.TEXT, 'x', { rsv1: true, rsv3: true }).serialize({ mask: false });
    expect(wire[0]).toBe(0xd1);
    expect(() => new Frame(Opcode.PING, new Uint8Array(126)).serialize({ mask: false })).toThrow(LocalProtocolError);
    expect(() => new Frame(Opcode.CLOSE, '', { fin: false }).serialize({ mask: false })).toThrow(LocalProtocolError);
    expect(() => new Frame(3 as Opcode, '').serialize({ mask: false })).toThrow(LocalProtocolError);
    expect(() => new Frame(Opcode.TEXT, 'x').serialize({ mask: true, maskKey: hex('0102') })).toThrow(LocalProtocolError);
    // check: false lets a test tool send an invalid frame on purpose.
    expect(hexOf(new Frame(Opcode.PING, new Uint8Array(126)).serialize({ mask: false, check: false }).subarray(0, 4))).toBe('897e007e');
  });
});

describe('Frame.check', () => {
  const cases: Array<[string, Frame, number | undefined, boolean]> = [
    ['text frame', new Frame(Opcode.TEXT, 'hi'), undefined, true],
    ['continuation, not final', new Frame(Opcode.CONT, 'hi', { fin: false }), undefined, true],
    ['ping of 125 bytes', new Frame(Opcode.PING, new Uint8Array(125)), undefined, true],
    ['ping of 126 bytes', new Frame(Opcode.PING, new Uint8Array(126)), undefined, false],
    ['fragmented close', new Frame(Opcode.CLOSE, '', { fin: false }), undefined, false],
    ['reserved opcode 7', new Frame(7 as Opcode, ''), undefined, false],
    ['RSV1 not allowed', new Frame(Opcode.TEXT, 'x', { rsv1: true }), undefined, false],
    ['RSV1 allowed', new Frame(Opcode.TEXT, 'x', { rsv1: true }), 0x4, true],
    ['RSV2 when only RSV1 is allowed', new Frame(Opcode.TEXT, 'x', { rsv2: true }), 0x4, false],
  ];
  it.each(cases)('%s', (_name, frame, allowedRsv, ok) => {
    if (ok) expect(() => frame.check({ allowedRsv })).not.toThrow();
    else expectParseFailed(() => frame.check({ allowedRsv }), 1002);
  });

  it('takes the allowed bits from extensions', () => {
    const frame = new Frame(Opcode.BINARY, 'x', { rsv1: true });
    expect(() => frame.check({ extensions: [{ rsvMask: 0x4 }] })).not.toThrow();
  });

  it('classifies opcodes', () => {
    expect(DATA_OPCODES.map((op) => new Frame(op).isDataFrame)).toEqual([true, true, true]);
    expect(CTRL_OPCODES.map((op) => new Frame(op).isControlFrame)).toEqual([true, true, true]);
    expect(new Frame(Opcode.TEXT).isControlFrame).toBe(false);
    expect(new Frame(Opcode.PING).isDataFrame).toBe(false);
  });
});

describe('Frame.create / mask / toString', () => {
  it('creates frames like ABNF.create_frame', () => {
    const frame = Frame.create('héllo', Opcode.TEXT, false);
    expect([frame.opcode, frame.fin, text(frame.data)]).toEqual([Opcode.TEXT, false, 'héllo']);
    expect(Frame.create(hex('0102'), Opcode.BINARY).fin).toBe(true);
  });

  it('masks and unmasks like ABNF.mask (RFC 6455 §5.7 key)', () => {
    const masked = Frame.mask(RFC_KEY, 'Hello');
    expect(Buffer.from(masked).toString('hex')).toBe('7f9f4d5158');
    expect(text(Frame.unmask(RFC_KEY, masked))).toBe('Hello');
    const data = ramp(1000);
    expect(Frame.unmask(RFC_KEY, Frame.mask(RFC_KEY, data))).toEqual(data);
    expect(data).toEqual(ramp(1000)); // input untouched
  });

  it.each([
    ["TEXT 'hello' [text, 5 bytes]", new Frame(Opcode.TEXT, 'hello')],
    ["TEXT 'it\\'s' [text, 4 bytes, continued]", new Frame(Opcode.TEXT, "it's", { fin: false })],
    ['BINARY 00 01 02 [binary, 3 bytes]', new Frame(Opcode.BINARY, hex('000102'))],
    ['PING ff [binary, 1 byte]', new Frame(Opcode.PING, hex('ff'))],
    ["PONG '' [0 bytes]", new Frame(Opcode.PONG)],
    ['CLOSE 1000 (Normal Closure) bye [5 bytes]', new Frame(Opcode.CLOSE, hex('03e8 627965'))],
    ['CLOSE 03 [invalid, 1 byte]', new Frame(Opcode.CLOSE, hex('03'))],
  ])('toString gives %s', (expected, frame) => {
    expect(frame.toString()).toBe(expected);
  });

  it('toString shortens long payloads', () => {
    const long = new Frame(Opcode.BINARY, new Uint8Array(1 << 20)).toString();
    expect(long.length).toBeLessThan(300);
    expect(long).toContain(' ... ');
    expect(long).toMatch(/\[binary, 1048576 bytes\]$/);
    expect(new Frame(Opcode.TEXT, 'a'.repeat(500)).toString()).toMatch(/^TEXT 'a{48}'\.\.\.'a{16}' \[text, 500 bytes\]$/);
  });
});

describe('close codes', () => {
  const valid = new Set([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]);
  const table = [0, 999, ...Array.from({ length: 17 }, (_, i) => 1000 + i), 1100, 2000, 2999, 3000, 4999, 5000];
  it.each(table)('isValidCloseCode(%d)', (code) => {
    expect(isValidCloseCode(code)).toBe(valid.has(code));
  });

  it('rejects non-integers', () => {
    expect([1000.5, Number.NaN, Infinity].map(isValidCloseCode)).toEqual([false, false, false]);
  });

  it('names codes and lists the local-only ones', () => {
    expect(CLOSE_CODE_NAMES[1000]).toBe('Normal Closure');
    expect(CLOSE_CODE_NAMES[1014]).toBe('Bad Gateway');
    expect([...LOCAL_ONLY_CLOSE_CODES].sort()).toEqual([1005, 1006, 1015]);
    expect(LOCAL_ONLY_CLOSE_REASONS).toBe(LOCAL_ONLY_CLOSE_CODES);
    expect(LOCAL_ONLY_CLOSE_CODES.some(isValidCloseCode)).toBe(false);
  });

  it('keeps the shared constants', () => {
    expect([Opcode.CONT, Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE, Opcode.PING, Opcode.PONG]).toEqual([0, 1, 2, 8, 9, 10]);
    expect(CloseCode.TLS_HANDSHAKE).toBe(1015);
    // RFC 6455 §1.3 example: the GUID must turn this key into this accept value.
    const accept = createHash('sha1').update(`dGhlIHNhbXBsZSBub25jZQ==${ACCEPT_GUID}`).digest('base64');
    expect(accept).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});

describe('Close', () => {
  it.each([
    ['empty payload', '', 1005, ''],
    ['code only', '03e8', 1000, ''],
    ['code and reason', '03e9 627965', 1001, 'bye'],
    ['private code, UTF-8 reason', '0fa0 c3a9', 4000, 'é'],
  ])('parses %s', (_name, payload, code, reason) => {
    expect(Close.parse(hex(payload))).toEqual(new Close(code, reason));
  });

  it.each([
    ['1 byte', '03', 1002],
    ['code 999', '03e7', 1002],
    ['code 1005 on the wire', '03ed', 1002],
    ['code 1006 on the wire', '03ee', 1002],
    ['code 5000', '1388', 1002],
    ['invalid UTF-8 reason', '03e8 ff', 1007],
    ['truncated UTF-8 reason', '03e8 c3', 1007],
    ['surrogate in reason', '03e8 eda080', 1007],
  ])('rejects %s with %d', (_name, payload, code) => {
    expectParseFailed(() => Close.parse(hex(payload)), code);
  });

  it('serializes and round-trips', () => {
    expect(Buffer.from(new Close(1000, 'bye').serialize()).toString('hex')).toBe('03e8627965');
    expect(new Close(CloseCode.NO_STATUS_RCVD).serialize()).toHaveLength(0);
    const reason = 'é'.repeat(61) + 'a'; // 123 bytes of UTF-8
    expect(Close.parse(new Close(4999, reason).serialize())).toEqual(new Close(4999, reason));
  });

  it.each([
    ['local-only code 1006', new Close(1006)],
    ['1005 with a reason', new Close(1005, 'x')],
    ['reserved code 1004', new Close(1004)],
    ['code 2000', new Close(2000)],
  ])('refuses to serialize %s', (_name, close) => {
    expect(() => close.serialize()).toThrow(LocalProtocolError);
  });

  it('has readable strings', () => {
    expect(MAX_CLOSE_REASON_BYTES).toBe(123);
    expect(new Close(1001, 'bye').toString()).toBe('1001 (Going Away) bye');
    expect(new Close(3001).toString()).toBe('3001 (registered)');
    expect(new Close(4001).toString()).toBe('4001 (private use)');
    expect(new Close(2500).toString()).toBe('2500 (unknown)');
  });
});
