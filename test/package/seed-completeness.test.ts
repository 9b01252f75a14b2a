/**
 * Issue 17: the seed items that were partial or missing — frames, close codes, headers,
 * constants and type aliases. Each block names its seed. Runs on both backends (masking and
 * UTF-8 checks go through the backend).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';

import { backend } from '../../src/backend';
import {
  type AsyncHandler,
  type ExtensionName,
  Headers,
  type LoggerLike,
  MultipleValuesError,
  type Origin,
  type StatusLike,
  type Subprotocol,
  type SyncHandler,
} from '../../src/handshake/datastructures';
import { LocalProtocolError, ParseFailed } from '../../src/errors';
import { RSV1, RSV2, RSV3 } from '../../src/frames/rsv';
import {
  Close,
  CloseCode,
  CloseReason,
  FIN_MASK,
  Frame,
  LENGTH_7,
  LENGTH_16,
  LENGTH_63,
  MASK_MASK,
  type MaskingCallable,
  type MaskKeyType,
  MAX_FRAME_PAYLOAD,
  MAX_PAYLOAD_EIGHT_BYTE,
  MAX_PAYLOAD_TWO_BYTE,
  NULL_MASK,
  Opcode,
  OPCODE_MASK,
  PAYLOAD_LEN_MASK,
  RSV1_MASK,
  RSV2_MASK,
  RSV3_MASK,
  type ValidationCallable,
  writeFrameHeader,
} from '../../src/frames/frame';
import { wire } from '../helpers/wire';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

function parseFailed(fn: () => unknown): ParseFailed {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ParseFailed);
    return err as ParseFailed;
  }
  throw new Error('expected ParseFailed');
}

describe('FIN bug: flags given as 0/1 (websocket-client idiom)', () => {
  it('Frame.create(data, opcode, 0) writes FIN=0 on the wire', () => {
    const frame = Frame.create('Hel', Opcode.TEXT, 0);
    expect(frame.fin).toBe(false);
    expect(frame.serialize({ mask: false })[0]).toBe(0x01);
    expect(Frame.create('lo', Opcode.CONT, 1).fin).toBe(true);
  });

  it('new Frame(op, data, { fin: 0, rsv1: 1 }) stores booleans and writes them', () => {
    const frame = new Frame(Opcode.BINARY, 'x', { fin: 0, rsv1: 1, rsv2: 0 });
    expect([frame.fin, frame.rsv1, frame.rsv2, frame.rsv3]).toEqual([false, true, false, false]);
    expect(frame.serialize({ mask: false })[0]).toBe(0x42);
  });

  it('writeFrameHeader reads fin: 0 as a cleared FIN bit', () => {
    const out = new Uint8Array(2);
    writeFrameHeader(out, 0, { opcode: 1, length: 0, fin: 0 });
    expect(out[0]).toBe(0x01);
    writeFrameHeader(out, 0, { opcode: 1, length: 0 });
    expect(out[0]).toBe(0x81);
  });
});

describe('Headers (seed 000)', () => {
  it('get(name, default) returns the default only for a missing header', () => {
    const h = new Headers({ 'Content-Type': 'application/json' });
    expect(h.get('authorization', 'None')).toBe('None');
    expect(h.get('content-type', 'None')).toBe('application/json');
    expect(h.get('authorization')).toBeUndefined();
    h.add('Accept', 'text/html');
    h.add('Accept', 'application/json');
    expect(() => h.get('accept', 'x')).toThrow(MultipleValuesError);
  });

  it('nameCount counts distinct names as len() does; size still counts pairs', () => {
    const h = new Headers([
      ['Accept', 'a'],
      ['accept', 'b'],
      ['Host', 'example.com'],
    ]);
    expect(h.nameCount).toBe(2);
    expect(h.size).toBe(3);
    h.delete('ACCEPT');
    expect(h.nameCount).toBe(1);
  });
});

describe('Close validation (seeds 000, 002)', () => {
  it.each([
    ['code 999', () => new Close(999)],
    ['code 5000', () => new Close(5000)],
    ['a fractional code', () => new Close(1000.5)],
    ['a 124-byte reason', () => new Close(1000, 'a'.repeat(124))],
    ['62 characters of 124 UTF-8 bytes', () => new Close(1000, 'é'.repeat(62))],
    ['a lone surrogate', () => new Close(1000, 'bad \ud800')],
  ])('the constructor refuses %s', (_name, make) => {
    expect(make).toThrow(LocalProtocolError);
  });

  it('the constructor accepts codes that exist but are not sent; serialize refuses them', () => {
    for (const code of [1006, 1015]) expect(() => new Close(code).serialize()).toThrow(LocalProtocolError);
    // 1005 is "no code": it is never on the wire, as an empty payload stands for it.
    expect(new Close(1005).serialize()).toHaveLength(0);
    expect(() => new Close(1005, 'x').serialize()).toThrow(LocalProtocolError);
    expect(new Close(1000, 'é'.repeat(61) + 'a').reason).toHaveLength(62); // 123 bytes
  });

  it.each([
    ['1 byte', '03', 1002],
    ['code 1005', '03ed', 1002],
    ['code 1006', '03ee', 1002],
    ['code 1015', '03f7', 1002],
    ['code 999', '03e7', 1002],
    ['code 5000', '1388', 1002],
    ['reason not UTF-8', '03e8 ff', 1007],
  ])('Frame.check() refuses a close frame with %s', (_name, payload, code) => {
    const frame = new Frame(Opcode.CLOSE, fromHex(payload));
    expect(parseFailed(() => frame.check()).code).toBe(code);
    expect(() => frame.serialize({ mask: false })).toThrow(LocalProtocolError);
    expect(() => frame.serialize({ mask: false, check: false })).not.toThrow();
  });

  it('accepts good close frames; skipUtf8Validation skips only the reason check', () => {
    for (const payload of ['', '03e8', '0bb8 6f6b']) expect(() => new Frame(Opcode.CLOSE, fromHex(payload)).check()).not.toThrow();
    const badReason = new Frame(Opcode.CLOSE, fromHex('03e8 ff'));
    expect(() => badReason.check({ skipUtf8Validation: true })).not.toThrow();
    expect(() => badReason.validate({ skipUtf8Validation: true })).not.toThrow();
    expect(() => new Frame(Opcode.CLOSE, fromHex('03ed')).check({ skipUtf8Validation: true })).toThrow(ParseFailed);
    const strict: ValidationCallable = () => false;
    expect(parseFailed(() => new Frame(Opcode.CLOSE, fromHex('03e8 6f6b')).check({ validateUtf8: strict })).code).toBe(1007);
  });
});

describe('names users look up (seed 001)', () => {
  it('Opcode.CONTINUATION is CONT, and CONT keeps the reverse mapping', () => {
    expect(Opcode.CONTINUATION).toBe(0);
    expect(Opcode.CONTINUATION).toBe(Opcode.CONT);
    expect(Opcode[0]).toBe('CONT');
    expect(new Frame(Opcode.CONTINUATION, 'x', { fin: false }).toString()).toBe("CONT 'x' [text, 1 byte, continued]");
  });

  it('CloseReason has every wsproto member with its code', () => {
    expect({ ...CloseReason }).toMatchObject({
      NORMAL_CLOSURE: 1000,
      GOING_AWAY: 1001,
      PROTOCOL_ERROR: 1002,
      UNSUPPORTED_DATA: 1003,
      NO_STATUS_RCVD: 1005,
      ABNORMAL_CLOSURE: 1006,
      INVALID_FRAME_PAYLOAD_DATA: 1007,
      POLICY_VIOLATION: 1008,
      MESSAGE_TOO_BIG: 1009,
      MANDATORY_EXT: 1010,
      INTERNAL_ERROR: 1011,
      SERVICE_RESTART: 1012,
      TRY_AGAIN_LATER: 1013,
      TLS_HANDSHAKE_FAILED: 1015,
    });
    expect(CloseReason[1010]).toBe('MANDATORY_EXT');
  });

  it('CloseCode.INVALID_FRAME_PAYLOAD_DATA is INVALID_DATA, which keeps the reverse mapping', () => {
    expect(CloseCode.INVALID_FRAME_PAYLOAD_DATA).toBe(1007);
    expect(CloseCode[1007]).toBe('INVALID_DATA');
  });
});

describe('lengths (seeds 001, 002): numbers up to 2^53 - 1', () => {
  it('has the seed constants, with the 8-byte limits at 2^53 - 1', () => {
    expect(MAX_PAYLOAD_TWO_BYTE).toBe(65535);
    expect(MAX_PAYLOAD_EIGHT_BYTE).toBe(Number.MAX_SAFE_INTEGER);
    expect(MAX_FRAME_PAYLOAD).toBe(Number.MAX_SAFE_INTEGER);
    expect([LENGTH_7, LENGTH_16, LENGTH_63]).toEqual([126, 65536, 2 ** 53]);
  });

  it('the boundaries decide the length encoding', () => {
    const sizeOf = (n: number) => new Frame(Opcode.BINARY, new Uint8Array(n)).serialize({ mask: false }).length - n;
    expect([sizeOf(LENGTH_7 - 1), sizeOf(LENGTH_7), sizeOf(MAX_PAYLOAD_TWO_BYTE), sizeOf(LENGTH_16)]).toEqual([2, 4, 4, 10]);
    const out = new Uint8Array(14);
    expect(writeFrameHeader(out, 0, { opcode: 2, length: MAX_FRAME_PAYLOAD })).toBe(10);
    expect(() => writeFrameHeader(out, 0, { opcode: 2, length: LENGTH_63 })).toThrow(RangeError);
  });

  it('a received length of 2^53 fails with 1009, 2^53 - 1 waits for its payload, 2^63 is 1002', () => {
    const header = (length64: bigint) => wire({ opcode: 2, length64 });
    expect(parseFailed(() => Frame.parse(header(2n ** 53n), { mask: false })).code).toBe(1009);
    expect(Frame.parse(header(2n ** 53n - 1n), { mask: false })).toBeNull();
    expect(parseFailed(() => Frame.parse(header(2n ** 63n), { mask: false })).code).toBe(1002);
  });
});

describe('header byte masks (seed 001)', () => {
  it('decode a serialized header; RSVn_MASK is RSVn shifted into the byte', () => {
    const bytes = new Frame(Opcode.PING, 'hi', { rsv1: true, rsv3: true }).serialize({ mask: true, check: false });
    expect(bytes[0]! & FIN_MASK).toBe(FIN_MASK);
    expect(bytes[0]! & OPCODE_MASK).toBe(Opcode.PING);
    expect([bytes[0]! & RSV1_MASK, bytes[0]! & RSV2_MASK, bytes[0]! & RSV3_MASK]).toEqual([0x40, 0, 0x10]);
    expect(bytes[1]! & MASK_MASK).toBe(0x80);
    expect(bytes[1]! & PAYLOAD_LEN_MASK).toBe(2);
    expect([RSV1_MASK >> 4, RSV2_MASK >> 4, RSV3_MASK >> 4]).toEqual([RSV1, RSV2, RSV3]);
  });

  it('NULL_MASK is four zero bytes and masking with it changes nothing', () => {
    expect([...NULL_MASK]).toEqual([0, 0, 0, 0]);
    expect(hex(Frame.mask(NULL_MASK as Uint8Array, 'abc'))).toBe('616263');
  });
});

describe('masking (seed 002): mask_value, string keys, MaskingCallable', () => {
  it('parsed frames report their MASK bit; serialize() defaults to it', () => {
    const masked = Frame.parse(wire({ opcode: 1, payload: 'hi', mask: true }), { mask: true })!.frame;
    const plain = Frame.parse(wire({ opcode: 1, payload: 'hi' }), { mask: false })!.frame;
    expect([masked.masked, plain.masked]).toEqual([true, false]);
    expect(new Frame(Opcode.TEXT, 'x').masked).toBe(false);
    expect(masked.serialize()[1]! & 0x80).toBe(0x80);
    expect(plain.serialize()[1]! & 0x80).toBe(0);
    expect(new Frame(Opcode.TEXT, 'x', { masked: 1 }).serialize({ mask: false })[1]! & 0x80).toBe(0);
  });

  it('ABNF.mask with a string key reads it as latin-1', () => {
    const data = Buffer.from('Secret payload data');
    const key: MaskKeyType = '\u00ff\u0001ab';
    const masked = Frame.mask(key, data);
    expect(hex(masked)).toBe(hex(Frame.mask(Uint8Array.of(0xff, 1, 0x61, 0x62), data)));
    expect(Buffer.from(Frame.unmask(key, masked)).toString()).toBe('Secret payload data');
    expect(() => Frame.mask('abc', data)).toThrow(RangeError);
    expect(() => Frame.mask('\u0100bcd', data)).toThrow(RangeError);
  });

  it('serialize() takes a key as bytes, string or MaskingCallable', () => {
    const asked: number[] = [];
    const generator: MaskingCallable = (n) => {
      asked.push(n);
      return Uint8Array.of(1, 2, 3, 4);
    };
    const frame = new Frame(Opcode.BINARY, Uint8Array.of(0, 0, 0, 0, 0));
    expect(hex(frame.serialize({ mask: true, maskKey: generator }))).toBe('828501020304' + '0102030401');
    expect(asked).toEqual([4]);
    expect(hex(frame.serialize({ mask: true, maskKey: '\u0001\u0002\u0003\u0004' }))).toBe('828501020304' + '0102030401');
    expect(() => frame.serialize({ mask: true, maskKey: () => new Uint8Array(3) })).toThrow(LocalProtocolError);
  });
});

describe('type aliases (seeds 000, 002)', () => {
  it('LoggerLike takes console and loggers with the four methods', () => {
    expectTypeOf(console).toMatchTypeOf<LoggerLike>();
    const lines: string[] = [];
    const logger: LoggerLike = { debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
    logger.info('Logger setup complete');
    expect(lines).toEqual(['Logger setup complete']);
  });

  it('string, status and handler aliases have the seed shapes', async () => {
    expectTypeOf<Origin>().toEqualTypeOf<string>();
    expectTypeOf<Subprotocol>().toEqualTypeOf<string>();
    expectTypeOf<ExtensionName>().toEqualTypeOf<string>();
    expectTypeOf<StatusLike>().toEqualTypeOf<number>();
    expectTypeOf<MaskKeyType>().toEqualTypeOf<string | Uint8Array>();
    const seen: unknown[] = [];
    const asyncHandler: AsyncHandler<string> = async (m) => {
      seen.push(m);
    };
    const syncHandler: SyncHandler<string> = (m) => seen.push(m);
    await asyncHandler('a');
    syncHandler('b');
    expect(seen).toEqual(['a', 'b']);
    const validate: ValidationCallable = backend.isUtf8;
    expect([validate(Buffer.from('é')), validate(Uint8Array.of(0xff))]).toEqual([true, false]);
  });
});

describe('package root (src/index.ts) exports the new names', () => {
  it('has every runtime name added for the seeds', async () => {
    const wscore = (await import('../../src/index')) as Record<string, unknown>;
    const names = [
      'CloseReason', 'H11Handshake', 'ContinuousFrame', 'FrameBuffer', 'ConnectionLostError', 'MAX_PAYLOAD_TWO_BYTE',
      'MAX_PAYLOAD_EIGHT_BYTE', 'MAX_FRAME_PAYLOAD', 'LENGTH_7', 'LENGTH_16', 'LENGTH_63', 'FIN_MASK', 'RSV1_MASK',
      'RSV2_MASK', 'RSV3_MASK', 'OPCODE_MASK', 'MASK_MASK', 'PAYLOAD_LEN_MASK', 'NULL_MASK', 'toMaskKey', 'closePayloadProblem',
    ];
    expect(names.filter((n) => wscore[n] === undefined)).toEqual([]);
    expect(wscore.CloseReason).toBe(CloseReason);
  });
});
